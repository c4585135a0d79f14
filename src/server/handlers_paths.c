/*
 * GET /api/v1/repos/{name}/paths?rev=REV (docs/api.md, "Paths"): every document path of the
 * repository on the revision, in byte order, for the UI's "go to file" finder:
 *
 *   {"repo","rev","commit","paths":["README.md","src/main.c",...],"truncated":bool}
 *
 * The finder ranks them in the browser, so one answer serves every keystroke. The answer is
 * bounded (HANDLERS_PATHS_MAX paths, HANDLERS_PATHS_BYTES bytes of JSON): a repository past
 * either gets the first ones in byte order and "truncated":true, never an error, since a
 * finder over most of a huge repository is still useful; the Linux source is well inside both.
 */
#include <string.h>

#include "server/server_int.h"
#include "util/json.h"

static int put_paths_head(struct buf *b, const struct snap_repo *r, const struct handlers_rev *rev)
{
	int err;

	if ((err = handlers_put_repo_rev(b, r, rev)) < 0 || (err = buf_puts(b, ",\"commit\":")) < 0)
		return err;
	if ((err = rev->commit ? json_put_string(b, rev->commit, strlen(rev->commit), NULL)
			       : buf_puts(b, "null")) < 0)
		return err;
	return buf_puts(b, ",\"paths\":[");
}

/*
 * The paths of r on rev into b, each once (a path is one document per revision; the check
 * against the previous one only guards the answer's promise). Sets *truncated when a bound
 * stopped the list.
 */
static int put_paths(struct buf *b, const struct snap_repo *r, struct handlers_rev *rev,
		     bool *truncated)
{
	const struct snap_doc *prev = NULL;
	size_t start = b->len, n = 0;
	int err;

	*truncated = false;
	for (size_t i = 0; i < r->n_docs; i++) {
		const struct snap_doc *d = &r->docs[i];

		if (prev && prev->path_len == d->path_len && memcmp(prev->path, d->path, d->path_len) == 0)
			continue;
		if (!handlers_rev_has(rev, d))
			continue;
		if (n == HANDLERS_PATHS_MAX || b->len - start >= HANDLERS_PATHS_BYTES) {
			*truncated = true;
			return 0;
		}
		if ((n++ && (err = buf_putc(b, ',')) < 0) ||
		    (err = json_put_string(b, d->path, d->path_len, NULL)) < 0)
			return err;
		prev = d;
	}
	return 0;
}

int handlers_paths(struct req *rq)
{
	const struct snap_repo *r;
	struct handlers_rev rev;
	const char *path;
	size_t path_len;
	bool truncated = false;
	int err;

	/* The route takes no path: handlers_file_params reads it as "" (the root). */
	if ((err = handlers_file_params(&r, &rev, &path, &path_len, rq)) < 0) {
		handlers_rev_dispose(&rev);
		return err;
	}
	if ((err = put_paths_head(&rq->body, r, &rev)) == 0 &&
	    (err = put_paths(&rq->body, r, &rev, &truncated)) == 0)
		err = buf_printf(&rq->body, "],\"truncated\":%s}", truncated ? "true" : "false");
	handlers_rev_dispose(&rev);
	if (err < 0)
		return handlers_internal(err);
	rq->status = 200;
	return 0;
}
