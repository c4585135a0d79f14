/*
 * The README route (docs/api.md, "README"): GET /api/v1/repos/{name}/readme?rev=&path= finds
 * the README of a directory on a revision and gives it ready to show: Markdown rendered to HTML
 * by cmark, any other README as its text.
 *
 * SECURITY: a README is repository content, written by anyone who can push. cmark renders it
 * with its default options, which are its safe mode (never CMARK_OPT_UNSAFE): raw HTML, inline
 * or in blocks, becomes the comment "raw HTML omitted", and a link or image whose URL has the
 * javascript:, vbscript:, file: or (but for a few image types) data: scheme gets an empty URL.
 * The page still rebuilds the HTML from a whitelist of elements and attributes before it shows
 * it (web/markdown.js): two independent layers.
 *
 * Rendering is bounded work on a search thread (the row has ROUTE_SEARCH: it counts against the
 * cap of concurrent searches). cmark 0.30.2 takes time quadratic in the brackets of a
 * paragraph (CVE-2023-22486: 128 KiB of "![[]()" take 6 s), and up to ~5 us a byte on other
 * hostile input; so Markdown is rendered from at most README_MD_MAX bytes, and a README with
 * more than README_MD_BRACKETS brackets there is shown as text (bench/readme.md has the times).
 */
#include <cmark.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/server_int.h"
#include "util/error.h"
#include "util/json.h"

/* The most of a README that is shown; the rest is cut at a line and "truncated" says so. */
#define README_TEXT_MAX ((size_t)1 << 20)
#define README_MD_MAX ((size_t)256 << 10)
/* A Markdown README with more '[' and ']' than this in its first README_MD_MAX is shown as text. */
#define README_MD_BRACKETS 16384

/* The names a README may have, in order of preference, compared without ASCII case. */
static const char *const readme_names[] = { "readme.md", "readme.markdown", "readme",
					    "readme.txt" };
#define N_README_NAMES (sizeof(readme_names) / sizeof(readme_names[0]))

static int readme_rank(const char *name, size_t len)
{
	for (size_t k = 0; k < N_README_NAMES; k++)
		if (strlen(readme_names[k]) == len && strncasecmp(readme_names[k], name, len) == 0)
			return (int)k;
	return -1;
}

struct readme {
	const struct snap_doc *doc; /* NULL: the directory has none */
	struct shard_doc sd;
	int rank;
	bool dir_exists; /* something on the revision is under the directory */
};

/* Keeps e when it is a README with stored content that beats the one found so far. */
static void readme_consider(struct readme *out, const struct dir_entry *e)
{
	int rank = e->is_dir ? -1 : readme_rank(e->name, e->name_len);
	struct shard_doc sd;

	if (rank < 0 || (out->doc && rank >= out->rank) || shard_doc(&sd, e->doc->sh, e->doc->id) < 0 ||
	    sd.skip != DOC_INDEXED)
		return;
	*out = (struct readme){ .doc = e->doc, .sd = sd, .rank = rank, .dir_exists = true };
}

/* The directory's best README on the revision (dir_walk: its entries). ENOMEM. */
static int readme_find(struct readme *out, const struct snap_repo *r, struct handlers_rev *rev,
		       const char *dir, size_t dir_len)
{
	struct dir_walk w;
	struct dir_entry e;
	int err;

	*out = (struct readme){ .rank = -1, .dir_exists = dir_len == 0 };
	if ((err = dir_walk_init(&w, r, rev, dir, dir_len)) == 0) {
		while ((err = dir_walk_next(&w, &e)) > 0) {
			out->dir_exists = true;
			readme_consider(out, &e);
		}
	}
	dir_walk_dispose(&w);
	return err;
}

/* The first len bytes of s, or fewer ending with a newline when s is longer than max. */
static size_t readme_cut(const char *s, size_t len, size_t max, bool *is_cut)
{
	const char *nl;

	*is_cut = len > max;
	if (!*is_cut)
		return len;
	nl = memrchr(s, '\n', max);
	return nl ? (size_t)(nl - s) + 1 : max;
}

static size_t count_brackets(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '[' || s[i] == ']';
	return n;
}

static bool is_markdown(int rank)
{
	return rank == 0 || rank == 1; /* README.md, README.markdown */
}

/* "html" (Markdown) or "text" (anything else): the README's content as the page shows it. */
static int put_content(struct buf *b, const char *s, size_t len, bool markdown)
{
	char *html;
	int err;

	if (!markdown) {
		if ((err = buf_puts(b, ",\"format\":\"text\",\"html\":null,\"text\":")) < 0)
			return err;
		return json_put_string(b, s, len, NULL);
	}
	/* SECURITY: CMARK_OPT_DEFAULT is cmark's safe mode (see the top of this file). */
	if (!(html = cmark_markdown_to_html(s, len, CMARK_OPT_DEFAULT)))
		return error_nomem(NULL);
	if ((err = buf_puts(b, ",\"format\":\"markdown\",\"html\":")) == 0)
		err = json_put_string(b, html, strlen(html), NULL);
	free(html);
	if (err == 0)
		err = buf_puts(b, ",\"text\":null");
	return err;
}

/* What the search thread renders: borrowed from the request's snapshot. */
struct readme_work {
	const struct snap_repo *r;
	struct handlers_rev rev; /* its name only */
	struct readme f;
};

static int put_readme(struct buf *b, const struct snap_repo *r, const struct handlers_rev *rev,
		      const struct readme *f)
{
	const char *s = f->sd.content ? (const char *)f->sd.content : "";
	bool markdown = is_markdown(f->rank), is_cut;
	size_t len;
	int err;

	if ((err = handlers_put_repo_rev(b, r, rev)) < 0 || (err = buf_puts(b, ",\"path\":")) < 0)
		return err;
	if (!f->doc)
		return buf_puts(b, "null,\"format\":null,\"html\":null,\"text\":null,"
				   "\"truncated\":false}");
	if ((err = json_put_string(b, f->doc->path, f->doc->path_len, NULL)) < 0)
		return err;
	len = readme_cut(s, f->sd.content_len, markdown ? README_MD_MAX : README_TEXT_MAX, &is_cut);
	if (markdown && count_brackets(s, len) > README_MD_BRACKETS)
		markdown = false;
	if ((err = put_content(b, s, len, markdown)) < 0)
		return err;
	return buf_printf(b, ",\"truncated\":%s}", is_cut ? "true" : "false");
}

static int run_readme(struct req *rq)
{
	struct readme_work *w = rq->work;
	int err = put_readme(&rq->body, w->r, &w->rev, &w->f);

	free(w);
	rq->work = NULL;
	if (err < 0)
		return handlers_internal(err);
	rq->status = 200;
	return 0;
}

int handlers_readme(struct req *rq)
{
	const struct snap_repo *r = NULL;
	struct handlers_rev rev;
	struct readme_work *w;
	const char *path;
	size_t path_len;
	int err;

	if (!(w = calloc(1, sizeof(*w))))
		return handlers_internal(error_nomem(NULL));
	if ((err = handlers_file_params(&r, &rev, &path, &path_len, rq)) < 0 ||
	    (err = readme_find(&w->f, r, &rev, path, path_len)) < 0)
		err = err == TRAWL_ENOMEM ? handlers_internal(err) : err;
	/* A directory nothing on the revision is under does not exist (the root always does). */
	else if (!w->f.dir_exists)
		err = handlers_not_found("not found");
	/* The branch's name is the index's (the snapshot's), not the scratch rev holds. */
	w->r = r;
	w->rev = (struct handlers_rev){ .name = rev.name };
	handlers_rev_dispose(&rev);
	if (err < 0) {
		free(w);
		return err;
	}
	rq->work = w;
	req_defer(rq, run_readme);
	return 0;
}
