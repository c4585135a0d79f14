/* A running stream's readable set after a change (stream_acl.h). */
#include "server/stream_acl.h"

#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/buf.h"
#include "util/json.h"

int stream_acl_lost(struct stream_acl_lost *out, const struct search_repos *before,
		    const struct search_repos *now, const char *const *repos, size_t n)
{
	int err;

	out->n = 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = repos[i];

		/* An index's shards of one repository are neighbours: one entry for them. */
		if (out->n && strcmp(out->names[out->n - 1], name) == 0)
			continue;
		if (!search_repos_has(before, name) || search_repos_has(now, name))
			continue;
		if ((err = ARRAY_GROW(&out->names, &out->cap, out->n + 1)) < 0)
			return err;
		out->names[out->n++] = name;
	}
	return 0;
}

void stream_acl_lost_dispose(struct stream_acl_lost *l)
{
	free(l->names);
	*l = (struct stream_acl_lost){ 0 };
}

bool stream_acl_pending(const struct stream_acl_lost *lost, const char *text, size_t len)
{
	struct buf key;
	bool is_found = false;

	buf_init(&key, BUF_MAX_DEFAULT);
	for (size_t i = 0; i < lost->n && !is_found; i++) {
		buf_reset(&key);
		if (buf_puts(&key, "\"repo\":") < 0 ||
		    json_put_string(&key, lost->names[i], strlen(lost->names[i]), NULL) < 0)
			is_found = true; /* fail closed */
		else
			is_found = len >= key.len && memmem(text, len, key.ptr, key.len) != NULL;
	}
	buf_dispose(&key);
	return is_found;
}

void stream_acl_summary(struct search_stats *stats, const struct stream_acl_lost *lost,
			uint64_t shards, const struct stream_acl_sent *sent)
{
	if (!lost->n)
		return;
	stats->lines = sent->lines;
	stats->files = sent->files;
	stats->shards_total = stats->shards_searched = shards;
	stats->candidates = 0;
	stats->bytes_scanned = 0;
}
