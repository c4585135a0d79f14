/*
 * What a change of the caller's readable set means for a running stream (stream.c): which of
 * the repositories the stream searches the caller may no longer read, and whether results of
 * one of them are still waiting to be sent, and what the summary of a stream that lost some may
 * report. Pure functions over names and bytes, so that the
 * decision can be tested apart from a server.
 */
#ifndef TRAWL_SERVER_STREAM_ACL_H
#define TRAWL_SERVER_STREAM_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "search/search.h"

/* The repositories of a stream that its caller can no longer read. */
struct stream_acl_lost {
	const char **names; /* borrowed from the names given to stream_acl_lost */
	size_t n, cap;
};

/*
 * SECURITY: collects into *out (emptied first) the names among repos[0..n) (an index's
 * repositories, one per shard, repeats allowed) that are in before and not in now: the
 * repositories the stream searches and may no longer send from. A set that only grew, or
 * that changed for repositories the stream does not search, gives none. ENOMEM.
 */
int stream_acl_lost(struct stream_acl_lost *out, const struct search_repos *before,
		    const struct search_repos *now, const char *const *repos, size_t n);
void stream_acl_lost_dispose(struct stream_acl_lost *l);

/*
 * SECURITY: whether the search results in text[0..len) (serialized by search_json_file, so
 * every result carries "repo":NAME, and a quote inside a string is always escaped) include
 * one of a repository in lost. ENOMEM counts as found: the caller then ends the stream.
 */
bool stream_acl_pending(const struct stream_acl_lost *lost, const char *text, size_t len);

/* What a stream has sent: the results it handed on, counted as they go out. */
struct stream_acl_sent {
	uint64_t lines, files;
};

/*
 * SECURITY: the done summary of a stream that lost repositories (lost->n; unchanged when it
 * lost none). The search's own totals count the lost repositories' matches found after the
 * loss, and a select: drops them before the stream sees them, so none is ever due to end it:
 * the summary reports instead the lines and files sent, the shards it may still send from
 * (shards), and no candidates or bytes scanned (work done in the lost repositories too).
 */
void stream_acl_summary(struct search_stats *stats, const struct stream_acl_lost *lost,
			uint64_t shards, const struct stream_acl_sent *sent);

#endif
