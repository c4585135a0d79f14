/*
 * The JSON encoding of search results, shared by `trawl search --json` (docs/cli-json.md) and
 * the HTTP API (docs/api.md), which adds branches and context lines. Every string goes through
 * json_put_string: valid UTF-8 out, invalid bytes as U+FFFD, ranges in original bytes.
 */
#ifndef TRAWL_SEARCH_SEARCH_JSON_H
#define TRAWL_SEARCH_SEARCH_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "search/search.h"
#include "util/buf.h"

/* What the API adds to the CLI's objects; NULL for the CLI's format. */
struct search_json_opts {
	unsigned context;               /* lines before and after each matching line (0 = none) */
	/* and "branches" always (maybe []), where the CLI writes it for git repositories only */
};

/* Appends f as one JSON object (no newline). ENOMEM, ELIMIT. */
int search_json_file(struct buf *b, const struct search_file *f, const struct search_json_opts *jo);

/*
 * Appends symbol y as one JSON object (no newline): {"repo","path",} "line","name","kind",
 * "symbol_kind","scope","scope_kind","lang","signature","text" (null where there is none);
 * repo and path only when repo is not NULL (/api/v1/symbols' flat list). ENOMEM, ELIMIT.
 */
int search_json_symbol(struct buf *b, const struct search_symbol *y, const char *repo,
		       const char *path, size_t path_len);

/*
 * Appends the summary object (no newline); with is_typed it starts with "type":"summary" as the
 * CLI's last line does. ENOMEM, ELIMIT.
 */
int search_json_summary(struct buf *b, const struct search_stats *st, bool is_typed);

/*
 * select:repo|file projects results onto repositories or files, each once (docs/results.md).
 * Keeps the keys seen so far; not thread-safe.
 */
struct search_select {
	enum qselect select;
	struct buf seen; /* keys printed so far, '\0'-separated */
	/* Their set: offsets into seen + 1 (0: empty), open addressing, at most half full. */
	size_t *slots;
	size_t n_slots, n_keys;
};

void search_select_init(struct search_select *s, enum qselect select);
void search_select_dispose(struct search_select *s);
/*
 * Whether f is shown: with no select:, always (*out = *f); otherwise *out is f projected onto
 * its repository or file, and false when that was shown before.
 */
bool search_select_apply(struct search_select *s, struct search_file *out,
			 const struct search_file *f);

#endif
