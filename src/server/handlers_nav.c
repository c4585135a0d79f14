/*
 * The navigation routes (docs/api.md, "Code navigation"): the definitions of the identifier at a
 * position of a file, its references, and a file's outline. The file is found as the file route
 * finds it (handlers_file_params: the repository must be readable, else the 404 of one that
 * does not exist); definitions come from the SYMBOLS sections of the shards of the caller's
 * readable repositories only (access_readable_repos), references from the ordinary search with
 * that same set (handlers_search_request). nav.c decides the identifier and the order.
 *
 * On a cluster (docs/internals/cluster.md, "Code navigation") the same code runs in parts: the
 * file's searcher finds the identifier (handlers_identifier), each searcher looks up the
 * definitions of its share of the readable set (handlers_defs_internal, one find_defs with one
 * process), the frontend merges them (nav_merge) and runs references through the fan-out of
 * every search (server_search_run).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"
#include "search/search_json.h"
#include "server/nav.h"
#include "server/server_int.h"
#include "symbols/symbols.h"
#include "util/error.h"
#include "util/json.h"

/* Definitions listed at most, and collected at most before they are ordered. */
#define DEFS_MAX 100
#define DEFS_COLLECT_MAX 65536
/* A definition's line text is cut (at a character's edge) past this many bytes. */
#define TEXT_MAX 512
/* The most bytes of a searcher's identifier answer (an identifier, a path, a revision). */
#define IDENT_ANSWER_MAX ((size_t)64 << 10)

/* The file a navigation request is about: found on its revision, with its content. */
struct nav_file {
	const struct snap_repo *r;
	struct handlers_rev rev;
	const char *path;
	size_t path_len;
	const struct snap_doc *sd;
	struct shard_doc d;
};

/* The indexed document at path on the revision, or a 404 (the same for a skipped one). */
static int find_file(struct nav_file *f)
{
	const struct snap_repo *r = f->r;

	for (size_t i = snap_repo_lower_bound(r, f->path, f->path_len);
	     f->path_len && i < r->n_docs && r->docs[i].path_len == f->path_len &&
	     memcmp(r->docs[i].path, f->path, f->path_len) == 0;
	     i++) {
		if (!handlers_rev_has(&f->rev, &r->docs[i]) ||
		    shard_doc(&f->d, r->docs[i].sh, r->docs[i].id) < 0)
			continue;
		if (f->d.skip != DOC_INDEXED)
			return handlers_not_found("the file's content is not stored (skipped)");
		f->sd = &r->docs[i];
		return 0;
	}
	return handlers_not_found("not found");
}

/* The route's file (rev, path). Dispose f->rev after, also on failure. */
static int file_open(struct nav_file *f, struct req *rq)
{
	int err;

	*f = (struct nav_file){ 0 };
	if ((err = handlers_file_params(&f->r, &f->rev, &f->path, &f->path_len, rq)) < 0)
		return err;
	return find_file(f);
}

/*
 * The line and col parameters, then the file, then the identifier there: *id and *id_len
 * point into the file's content. The parameters are checked before the file is looked up, so a
 * malformed request is a 400 whatever the caller may read.
 */
static int ident_open(struct nav_file *f, const char **id, size_t *id_len, struct req *rq)
{
	const char *v;
	size_t len, start;
	uint32_t line, col;
	int err;

	*f = (struct nav_file){ 0 };
	if ((err = req_param(&v, &len, rq, "line")) < 0 ||
	    (err = nav_parse_pos(&line, v, len, "line")) < 0 ||
	    (err = req_param(&v, &len, rq, "col")) < 0 ||
	    (err = nav_parse_pos(&col, v, len, "col")) < 0 || (err = file_open(f, rq)) < 0)
		return err;
	if ((err = nav_ident_at(&start, id_len, f->d.content, f->d.content_len, line, col)) < 0)
		return err;
	*id = (const char *)f->d.content + start;
	return 0;
}

static int put_str_or_null(struct buf *b, const char *s, size_t len)
{
	return s ? json_put_string(b, s, len, NULL) : buf_puts(b, "null");
}

/* ---- on a cluster (docs/internals/cluster.md): the identifier is the file's owner's ---- */

/*
 * A searcher's GET /internal/api/v1/repos/{name}/identifier: what ident_open finds, for a
 * frontend: the identifier, the file's revision (its branch, null for a directory), language
 * and path. Its errors are one process's (a 400 for no identifier, a 404 for no file).
 */
int handlers_identifier(struct req *rq)
{
	struct nav_file f;
	struct buf *b = &rq->body;
	const char *id, *branch;
	size_t id_len;
	int err;

	if ((err = ident_open(&f, &id, &id_len, rq)) < 0)
		goto out;
	branch = f.rev.has_branches ? f.rev.name : NULL;
	if ((err = buf_puts(b, "{\"identifier\":")) < 0 ||
	    (err = json_put_string(b, id, id_len, NULL)) < 0 ||
	    (err = buf_puts(b, ",\"rev\":")) < 0 ||
	    (err = json_put_string(b, f.rev.name, strlen(f.rev.name), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"branch\":")) < 0 ||
	    (err = put_str_or_null(b, branch, branch ? strlen(branch) : 0)) < 0 ||
	    (err = buf_printf(b, ",\"lang\":%u,\"path\":", (unsigned)f.d.lang)) < 0 ||
	    (err = json_put_string(b, f.path, f.path_len, NULL)) < 0 ||
	    (err = buf_putc(b, '}')) < 0) {
		err = handlers_internal(err);
		goto out;
	}
	rq->status = 200;
out:
	handlers_rev_dispose(&f.rev);
	return err;
}

/* A frontend's view of the owner's identifier answer (borrowed from root). */
struct cluster_ident {
	json_t *root;
	const char *id;
	const char *rev;
	const char *branch; /* NULL: a directory */
	const char *path;
	unsigned lang;
};

static void ident_dispose(struct cluster_ident *ci)
{
	json_decref(ci->root);
	*ci = (struct cluster_ident){ 0 };
}

/* Reads the owner's 200 answer into ci. EINVAL when it is malformed. */
static int ident_parse(struct cluster_ident *ci, const char *ans, size_t len)
{
	json_t *lang, *branch;

	ci->root = json_loadb(ans, len, JSON_REJECT_DUPLICATES, NULL);
	ci->id = json_string_value(json_object_get(ci->root, "identifier"));
	ci->rev = json_string_value(json_object_get(ci->root, "rev"));
	ci->path = json_string_value(json_object_get(ci->root, "path"));
	branch = json_object_get(ci->root, "branch");
	ci->branch = json_string_value(branch);
	lang = json_object_get(ci->root, "lang");
	/*
	 * SECURITY: an identifier, as nav_ident_at finds one: the references' query is made of it
	 * (refs_work_new), so a searcher's answer cannot add words to it (attack s31).
	 */
	if (!ci->id || !nav_is_ident(ci->id, strlen(ci->id)) || !ci->rev || !ci->path ||
	    !(ci->branch || json_is_null(branch)) || !json_is_integer(lang) ||
	    json_integer_value(lang) < 0 || json_integer_value(lang) > UINT16_MAX) {
		error_set("a malformed identifier answer");
		return TRAWL_EINVAL;
	}
	ci->lang = (unsigned)json_integer_value(lang);
	return 0;
}

/*
 * On a frontend's pool thread: the owner's identifier for the request's position. 0 with ci
 * filled; 1 when rq's answer is set already: the owner's error (its status and body, one
 * process's), or a 503 when it did not answer.
 */
static int ident_fetch(struct cluster_ident *ci, struct req *rq)
{
	struct buf b;
	long status;
	int ret = 1;

	/* SECURITY: a few KiB when genuine; bounded, it is parsed whole (attack s31). */
	buf_init(&b, IDENT_ANSWER_MAX);
	if (cluster_owner_get(rq, "api/v1/repos/{name}/identifier", &b, &status) < 0) {
		cluster_owner_unavailable(rq);
		goto out;
	}
	if (status != 200) {
		buf_reset(&rq->body);
		if (buf_put(&rq->body, b.ptr, b.len) < 0) {
			req_fail(rq, handlers_internal(TRAWL_ENOMEM));
			goto out;
		}
		rq->status = (unsigned)status;
		rq->ctype = "application/json; charset=utf-8";
		goto out;
	}
	if (ident_parse(ci, b.ptr, b.len) < 0) {
		log_msg("warn", "a searcher's identifier answer is malformed", "detail",
			error_last());
		cluster_owner_unavailable(rq);
		goto out;
	}
	ret = 0;
out:
	buf_dispose(&b);
	return ret;
}

/*
 * A frontend's definition or references: the position's parameters checked first (a 400 for a
 * malformed one, whatever the caller may read, as one process), then the caller's access to the
 * file's repository, then fn on a pool thread (it waits on the searchers).
 */
static int front_admit(struct req *rq, int (*fn)(struct req *rq))
{
	const char *v;
	size_t len;
	uint32_t pos;
	int err;

	if ((err = req_param(&v, &len, rq, "line")) < 0 ||
	    (err = nav_parse_pos(&pos, v, len, "line")) < 0 ||
	    (err = req_param(&v, &len, rq, "col")) < 0 ||
	    (err = nav_parse_pos(&pos, v, len, "col")) < 0)
		return err;
	/* SECURITY: the caller's access, here: the owner reads whatever it is sent for. */
	if ((err = access_check_repo(&rq->caller, rq->args.name)) < 0)
		return err;
	req_defer(rq, fn);
	return 0;
}

static bool is_asked(const void *arg, const char *repo)
{
	return cluster_asked_has(arg, repo);
}

/* cluster_post_each's fn: one searcher's definitions into the merge. */
static int merge_answer(void *arg, size_t searcher, const struct cluster_asked *asked,
			const char *ans, size_t len)
{
	struct nav_merge *m = arg;
	int err;

	/* SECURITY: only definitions of repositories this searcher was asked for (attack s31). */
	m->is_asked = is_asked;
	m->asked_arg = asked;
	err = nav_merge_add(m, (uint32_t)searcher, ans, len);
	m->is_asked = NULL;
	m->asked_arg = NULL;

	if (err < 0)
		log_msg("warn", "a searcher's definitions are malformed", "detail", error_last());
	return err;
}

/*
 * Line `line` (1-based) of d's content, without its end, cut at TEXT_MAX bytes on a character's
 * edge; empty when the line is not there.
 */
static void line_text(const char **out, size_t *len, const struct shard_doc *d, uint32_t line)
{
	const char *p = (const char *)d->content, *end = p + d->content_len, *nl;

	*out = "";
	*len = 0;
	for (uint32_t k = 1; p && k < line; k++) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			return;
		p = nl + 1;
	}
	if (!p || line == 0)
		return;
	nl = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((nl ? nl : end) - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	if (*len > TEXT_MAX) {
		*len = TEXT_MAX;
		while (*len && ((unsigned char)p[*len] & 0xc0) == 0x80)
			(*len)--;
	}
	*out = p;
}

/*
 * One symbol object (docs/api.md, "Symbols"): where it is, what ctags said of it, and with d
 * (not NULL) the text of its line.
 */
static int put_symbol(struct buf *b, const char *repo, const char *path, size_t path_len,
		      const struct symsec_sym *y, const struct shard_doc *d)
{
	int err;

	if ((err = buf_puts(b, "{\"repo\":")) < 0 ||
	    (err = json_put_string(b, repo, strlen(repo), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"path\":")) < 0 ||
	    (err = json_put_string(b, path, path_len, NULL)) < 0 ||
	    (err = buf_printf(b, ",\"line\":%u,\"name\":", y->line)) < 0 ||
	    (err = json_put_string(b, y->name, y->name_len, NULL)) < 0 ||
	    (err = buf_puts(b, ",\"kind\":")) < 0 ||
	    (err = json_put_string(b, y->kind, y->kind_len, NULL)) < 0 ||
	    (err = buf_puts(b, ",\"scope\":")) < 0 ||
	    (err = put_str_or_null(b, y->scope, y->scope_len)) < 0 ||
	    (err = buf_puts(b, ",\"scope_kind\":")) < 0 ||
	    (err = put_str_or_null(b, y->scope_kind, y->scope_kind_len)) < 0 ||
	    (err = buf_puts(b, ",\"lang\":")) < 0 ||
	    (err = json_put_string(b, y->lang, y->lang_len, NULL)) < 0 ||
	    (err = buf_puts(b, ",\"signature\":")) < 0 ||
	    (err = put_str_or_null(b, y->signature, y->signature_len)) < 0)
		return err;
	if (d) {
		const char *t;
		size_t n;

		line_text(&t, &n, d, y->line);
		if ((err = buf_puts(b, ",\"text\":")) < 0 ||
		    (err = json_put_string(b, t, n, NULL)) < 0)
			return err;
	}
	return buf_putc(b, '}');
}

/* ---- definition ---- */

/*
 * What the lookup of one shard needs, and the definitions found so far. The origin is the file
 * asked about: its repository (NULL when it is not in this index: another searcher's), its
 * revision (scratch for handlers_rev_has), path and language.
 */
struct defs {
	const struct index *ix;
	const struct snap_repo *origin;
	struct handlers_rev *origin_rev;
	const char *path;
	size_t path_len;
	uint16_t lang;
	size_t shard;
	struct handlers_rev *rev; /* the revision of the shard's repository that is searched */
	bool is_same_repo;
	struct nav_def *v;
	size_t n, cap;
	bool is_limit_hit;
};

static int collect_def(void *arg, const struct symsec_sym *y)
{
	struct defs *c = arg;
	const struct shard *sh = index_shard(c->ix, c->shard);
	struct snap_doc sd = { .sh = sh, .id = y->doc, .shard_i = (uint32_t)c->shard };
	struct shard_doc d;
	uint32_t lo, hi;
	int err;

	/* SECURITY: another repository's symbol in a compound file is never read. */
	index_shard_docs(c->ix, c->shard, &lo, &hi);
	if (y->doc < lo || y->doc >= hi)
		return 0;
	if ((err = shard_doc(&d, sh, y->doc)) < 0)
		return err;
	if (!index_doc_is_live(c->ix, c->shard, y->doc, &d) || !handlers_rev_has(c->rev, &sd))
		return 0; /* deleted, or not on the revision */
	if (c->n == DEFS_COLLECT_MAX) {
		c->is_limit_hit = true;
		return 1;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct nav_def *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return error_nomem(NULL);
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = (struct nav_def){
		.tier = nav_def_tier(c->is_same_repo && d.path_len == c->path_len &&
					     memcmp(d.path, c->path, d.path_len) == 0,
				     c->is_same_repo, d.lang == c->lang),
		.repo = index_shard_repo(c->ix, c->shard),
		.path = d.path,
		.path_len = d.path_len,
		.line = y->line,
		.shard = (uint32_t)c->shard,
		.sym = y->index,
	};
	return 0;
}

/*
 * SECURITY: the lookup visits the shards of readable repositories only: a symbol of any other
 * is never read, so it cannot reach the answer, its order or its limit_hit.
 */
static int lookup_defs(struct defs *c, const struct snapshot *snap,
		       const struct search_repos *readable, const char *id, size_t id_len)
{
	int err = 0;

	for (size_t i = 0; i < index_n_shards(snap->ix) && !err && !c->is_limit_hit; i++) {
		const struct shard *sh = index_shard(snap->ix, i);
		const char *repo = index_shard_repo(snap->ix, i);
		const struct snap_repo *r;
		struct handlers_rev other = { 0 };

		if (!search_repos_has(readable, repo) || !(r = snapshot_repo(snap, repo)))
			continue;
		c->shard = i;
		c->is_same_repo = r == c->origin;
		c->rev = c->origin_rev;
		if (!c->is_same_repo) {
			/* Another repository's definitions: those on its default branch. */
			if ((err = handlers_rev_resolve(&other, snap, r, NULL)) < 0) {
				handlers_rev_dispose(&other);
				if (err == TRAWL_ENOTFOUND)
					err = 0; /* no default branch indexed: nothing to show */
				continue;
			}
			c->rev = &other;
		}
		err = symbols_lookup(sh, id, id_len, SYMSEC_EXACT, NULL, NULL, collect_def, c);
		handlers_rev_dispose(&other);
	}
	return err < 0 ? err : 0;
}

/* Definition e of c's lookup as a symbol object (put_symbol). */
static int put_def(struct buf *b, const struct defs *c, const struct nav_def *e)
{
	const struct shard *sh = index_shard(c->ix, e->shard);
	struct symsec s;
	struct symsec_sym y;
	struct shard_doc d;
	bool has;
	int err;

	if ((err = symbols_open(&s, &has, sh)) < 0 || (err = symsec_symbol(&y, &s, e->sym)) < 0 ||
	    (err = shard_doc(&d, sh, y.doc)) < 0)
		return err;
	return put_symbol(b, e->repo, e->path, e->path_len, &y, &d);
}

static int put_defs(struct buf *b, const struct defs *c, const char *id, size_t id_len)
{
	size_t n = c->n < DEFS_MAX ? c->n : DEFS_MAX;
	int err;

	if ((err = buf_puts(b, "{\"identifier\":")) < 0 ||
	    (err = json_put_string(b, id, id_len, NULL)) < 0 ||
	    (err = buf_puts(b, ",\"definitions\":[")) < 0)
		return err;
	for (size_t k = 0; k < n; k++)
		if ((k && (err = buf_putc(b, ',')) < 0) || (err = put_def(b, c, &c->v[k])) < 0)
			return err;
	return buf_printf(b, "],\"limit_hit\":%s}",
			  c->is_limit_hit || c->n > DEFS_MAX ? "true" : "false");
}

/*
 * The one lookup of one process and of a searcher: the definitions of id in the shards of
 * readable, sorted (nav_def_cmp). Free c->v after, also on failure.
 */
static int find_defs(struct defs *c, const struct snapshot *snap, const struct search_repos *readable,
		     const char *id, size_t id_len)
{
	int err;

	if ((err = lookup_defs(c, snap, readable, id, id_len)) < 0)
		return err;
	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), nav_def_cmp);
	return 0;
}

static int definition_here(struct req *rq)
{
	const struct search_repos *readable;
	struct nav_file f;
	struct defs c = { .ix = rq->snap->ix, .origin_rev = &f.rev };
	const char *id;
	size_t id_len;
	int err;

	if ((err = ident_open(&f, &id, &id_len, rq)) < 0)
		goto out;
	c.origin = f.r;
	c.path = f.path;
	c.path_len = f.path_len;
	c.lang = f.d.lang;
	if (!(readable = access_readable_repos(&rq->caller))) {
		err = TRAWL_EIO; /* fail closed: no readable set, no definitions */
		goto out;
	}
	if ((err = find_defs(&c, rq->snap, readable, id, id_len)) < 0 ||
	    (err = put_defs(&rq->body, &c, id, id_len)) < 0) {
		err = handlers_internal(err);
		goto out;
	}
	rq->status = 200;
out:
	free(c.v);
	handlers_rev_dispose(&f.rev);
	return err;
}

/* A searcher's answer to a frontend: the best DEFS_MAX (nav_merge_add reads it). */
static int put_defs_internal(struct buf *b, const struct defs *c)
{
	size_t n = c->n < DEFS_MAX ? c->n : DEFS_MAX;
	struct buf sym;
	int err;

	buf_init(&sym, BUF_MAX_DEFAULT);
	err = buf_printf(b, "{\"found\":%zu,\"limit_hit\":%s,\"defs\":[", c->n,
			 c->is_limit_hit ? "true" : "false");
	for (size_t k = 0; k < n && err == 0; k++) {
		const struct nav_def *e = &c->v[k];

		buf_reset(&sym);
		if ((k && (err = buf_putc(b, ',')) < 0) ||
		    (err = buf_printf(b, "{\"tier\":%u,\"repo\":", e->tier)) < 0 ||
		    (err = json_put_string(b, e->repo, strlen(e->repo), NULL)) < 0 ||
		    (err = buf_puts(b, ",\"json\":")) < 0 || (err = put_def(&sym, c, e)) < 0 ||
		    (err = json_put_string(b, sym.ptr, sym.len, NULL)) < 0)
			break;
		err = buf_putc(b, '}');
	}
	buf_dispose(&sym);
	return err < 0 ? err : buf_puts(b, "]}");
}

int handlers_defs_internal(struct req *rq, const struct json_t *body,
			   const struct search_repos *repos)
{
	size_t id_len = 0, path_len = 0;
	const char *id = req_body_str(body, "id", &id_len);
	const char *repo = req_body_str(body, "repo", NULL);
	const char *rev = req_body_str(body, "rev", NULL);
	json_int_t lang = json_integer_value(json_object_get(body, "lang"));
	struct handlers_rev origin_rev = { 0 };
	struct defs c = { .ix = rq->snap->ix,
			  .origin = snapshot_repo(rq->snap, repo),
			  .origin_rev = &origin_rev,
			  .path = req_body_str(body, "path", &path_len) };
	int err = 0;

	if (lang < 0 || lang > UINT16_MAX || id_len == 0 || id_len > NAV_IDENT_MAX) {
		error_set("lang or id is out of range");
		return TRAWL_EINVAL;
	}
	c.path_len = path_len;
	c.lang = (uint16_t)lang;
	/* SECURITY: the origin is looked at only when it is in the caller's share. */
	if (c.origin && !search_repos_has(repos, repo))
		c.origin = NULL;
	/* The file's own repository (this searcher owns it): the file's revision, as found. */
	if (c.origin && (err = handlers_rev_resolve(&origin_rev, rq->snap, c.origin, rev)) < 0)
		goto out;
	if ((err = find_defs(&c, rq->snap, repos, id, id_len)) < 0 ||
	    (err = put_defs_internal(&rq->body, &c)) < 0)
		goto out;
	rq->status = 200;
	rq->ctype = "application/json";
out:
	free(c.v);
	handlers_rev_dispose(&origin_rev);
	return err < 0 ? handlers_internal(err) : 0;
}

/*
 * A frontend's definitions: the identifier from the file's owner (handlers_identifier), then
 * each searcher's definitions in its share of the caller's readable set (handlers_defs_internal),
 * merged (nav_merge).
 */
static int definition_run(struct req *rq)
{
	struct nav_merge m = { 0 };
	struct cluster_ident ci = { 0 };
	const struct search_repos *readable;
	struct buf head;
	size_t n_failed = 0;
	int err;

	buf_init(&head, BUF_MAX_DEFAULT);
	if (ident_fetch(&ci, rq) != 0)
		goto out; /* the owner's error, or the 503, is the answer */
	if (!(readable = access_readable_repos(&rq->caller))) {
		req_fail(rq, TRAWL_EIO); /* fail closed: no readable set, no definitions */
		goto out;
	}
	if ((err = buf_puts(&head, "{\"id\":")) < 0 ||
	    (err = json_put_string(&head, ci.id, strlen(ci.id), NULL)) < 0 ||
	    (err = buf_puts(&head, ",\"repo\":")) < 0 ||
	    (err = json_put_string(&head, rq->args.name, rq->args.name_len, NULL)) < 0 ||
	    (err = buf_puts(&head, ",\"path\":")) < 0 ||
	    (err = json_put_string(&head, ci.path, strlen(ci.path), NULL)) < 0 ||
	    (err = buf_puts(&head, ",\"rev\":")) < 0 ||
	    (err = json_put_string(&head, ci.rev, strlen(ci.rev), NULL)) < 0 ||
	    (err = buf_printf(&head, ",\"lang\":%u,", ci.lang)) < 0 ||
	    (err = buf_putc(&head, 0)) < 0 ||
	    (err = cluster_post_each(rq->s, "/internal/v1/definition", head.ptr, readable,
				     &rq->s->is_stopping, merge_answer, &m, &n_failed)) < 0 ||
	    (err = nav_merge_put(&rq->body, &m, ci.id, strlen(ci.id), DEFS_MAX, n_failed)) < 0) {
		buf_reset(&rq->body);
		req_fail(rq, handlers_internal(err));
		goto out;
	}
	rq->status = 200;
out:
	buf_dispose(&head);
	nav_merge_dispose(&m);
	ident_dispose(&ci);
	return 0;
}

int handlers_definition(struct req *rq)
{
	if (rq->s->cfg->role == SERVER_ROLE_FRONTEND)
		return front_admit(rq, definition_run);
	return definition_here(rq);
}

/* ---- outline ---- */

static int by_line(const void *pa, const void *pb)
{
	const struct symsec_sym *a = pa, *b = pb;

	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int put_outline(struct buf *b, const struct nav_file *f)
{
	const struct shard *sh = f->sd->sh;
	struct symsec_sym *v = NULL;
	struct symsec s;
	enum symsec_status st = SYMSEC_NOT_PARSED;
	uint32_t first = 0, n = 0;
	bool has;
	int err;

	if ((err = symbols_open(&s, &has, sh)) < 0 ||
	    (has && (err = symsec_doc(&first, &n, &st, &s, f->sd->id)) < 0))
		return err;
	if (n && !(v = calloc(n, sizeof(*v))))
		return error_nomem(NULL);
	for (uint32_t k = 0; k < n && !err; k++)
		err = symsec_symbol(&v[k], &s, first + k);
	if (err < 0)
		goto out;
	if (n > 1)
		qsort(v, n, sizeof(*v), by_line);
	if ((err = buf_puts(b, "{\"repo\":")) < 0 ||
	    (err = json_put_string(b, f->r->name, strlen(f->r->name), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"rev\":")) < 0 ||
	    (err = json_put_string(b, f->rev.name, strlen(f->rev.name), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"path\":")) < 0 ||
	    (err = json_put_string(b, f->path, f->path_len, NULL)) < 0 ||
	    (err = buf_puts(b, ",\"status\":")) < 0 ||
	    (err = has ? buf_printf(b, "\"%s\"", symsec_status_name(st)) : buf_puts(b, "null")) < 0 ||
	    (err = buf_puts(b, ",\"symbols\":[")) < 0)
		goto out;
	for (uint32_t k = 0; k < n && !err; k++)
		if (!(k && (err = buf_putc(b, ',')) < 0))
			err = put_symbol(b, f->r->name, f->path, f->path_len, &v[k], NULL);
	if (!err)
		err = buf_puts(b, "]}");
out:
	free(v);
	return err;
}

int handlers_outline(struct req *rq)
{
	struct nav_file f;
	int err;

	if ((err = file_open(&f, rq)) < 0)
		goto out;
	if ((err = put_outline(&rq->body, &f)) < 0) {
		err = handlers_internal(err);
		goto out;
	}
	rq->status = 200;
out:
	handlers_rev_dispose(&f.rev);
	return err;
}

/* ---- references ---- */

/*
 * The references' sink: results of the file's own repository into same, the others' into
 * other, so that the answer lists the own repository's first; alerts aside until the summary.
 */
struct refs_sink {
	struct search_sink sink; /* first: the request hands it back */
	const char *repo;
	struct buf same, other, alerts;
	size_t max; /* the most bytes of results, as /api/v1/search's JSON answer */
};

static int refs_file(struct search_sink *sk, const struct search_file *f)
{
	struct refs_sink *rs = (struct refs_sink *)sk;
	struct search_json_opts jo = { .context = 0 };
	bool is_same = strcmp(f->repo, rs->repo) == 0;
	struct buf *b = is_same ? &rs->same : &rs->other;
	size_t mark = b->len;

	if (rs->same.len + rs->other.len >= rs->max) {
		sk->is_full = true;
		return 1;
	}
	if ((b->len && (sk->err = buf_putc(b, ',')) < 0) ||
	    (sk->err = search_json_file(b, f, &jo)) < 0) {
		if (sk->err != TRAWL_ELIMIT)
			return 1;
		b->len = mark; /* one file over the buffer's own maximum: dropped, and stop */
		sk->err = 0;
		sk->is_full = true;
		return 1;
	}
	return 0;
}

static int refs_alert(struct search_sink *sk, enum search_alert a, const char *msg)
{
	return handlers_alert_append(&((struct refs_sink *)sk)->alerts, a, msg);
}

/* What the references' search needs on its search thread. */
struct refs_work {
	struct query *q;
	char *qtext;
	char *id;
	char *repo;
	char *branch; /* the file's branch, its repository's searched one; NULL: a directory */
};

static void refs_work_free(struct refs_work *w)
{
	if (!w)
		return;
	query_free(w->q);
	free(w->qtext);
	free(w->id);
	free(w->repo);
	free(w->branch);
	free(w);
}

static int put_refs(struct buf *b, const struct refs_sink *rs, const struct refs_work *w,
		    const struct search_stats *st)
{
	int err;

	if ((err = buf_puts(b, "{\"identifier\":")) < 0 ||
	    (err = json_put_string(b, w->id, strlen(w->id), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"results\":[")) < 0 ||
	    (err = buf_put(b, rs->same.ptr, rs->same.len)) < 0 ||
	    (rs->same.len && rs->other.len && (err = buf_putc(b, ',')) < 0) ||
	    (err = buf_put(b, rs->other.ptr, rs->other.len)) < 0 ||
	    (err = buf_puts(b, "],\"summary\":")) < 0 ||
	    (err = search_json_summary(b, st, false)) < 0 ||
	    (err = buf_puts(b, ",\"alerts\":[")) < 0 ||
	    (err = buf_put(b, rs->alerts.ptr, rs->alerts.len)) < 0)
		return err;
	return buf_puts(b, "]}");
}

static int run_refs(struct req *rq)
{
	struct refs_work *w = rq->work;
	struct search_request srq;
	struct search_stats st;
	struct search_who who;
	struct refs_sink rs = { .sink = { .file = refs_file, .alert = refs_alert },
				.repo = w->repo,
				.max = rq->s->query_mem / 4 };
	int err;

	buf_init(&rs.same, BUF_MAX_DEFAULT);
	buf_init(&rs.other, BUF_MAX_DEFAULT);
	buf_init(&rs.alerts, BUF_MAX_DEFAULT);
	if ((err = handlers_search_request(&srq, w->q, rq, false)) < 0)
		goto out;
	srq.opts.cancel = &rq->s->is_stopping;
	srq.opts.pin_repo = w->branch ? w->repo : NULL;
	srq.opts.pin_branch = w->branch;
	err = server_search_run(rq->s, rq->snap, &st, &srq, &rs.sink, w->qtext, 0);
	metrics_query(&rq->s->metrics, st.elapsed_ms / 1e3, err != 0);
	handlers_search_who(&who, rq);
	handlers_search_done(&who, w->qtext, &st);
	if (err != 0) {
		handlers_search_failed(rq, err, w->qtext);
		err = 0;
		goto out;
	}
	buf_reset(&rq->body);
	if ((err = put_refs(&rq->body, &rs, w, &st)) < 0) {
		buf_reset(&rq->body);
		err = handlers_internal(err);
		goto out;
	}
	rq->status = 200;
out:
	buf_dispose(&rs.same);
	buf_dispose(&rs.other);
	buf_dispose(&rs.alerts);
	refs_work_free(w);
	rq->work = NULL;
	return err;
}

/*
 * The search for references: the identifier as a whole word, case-sensitive (an identifier is
 * letters, digits and '_': nothing in it is special to a regular expression).
 */
static int refs_work_new(struct refs_work **out, const char *repo, const char *branch, const char *id,
			 size_t id_len)
{
	struct refs_work *w = calloc(1, sizeof(*w));
	struct buf q;
	int err;

	*out = NULL;
	buf_init(&q, BUF_MAX_DEFAULT);
	if (!w || !(w->id = strndup(id, id_len)) || !(w->repo = strdup(repo)) ||
	    (branch && !(w->branch = strdup(branch))) ||
	    buf_printf(&q, "/\\b%s\\b/ case:yes", w->id) < 0 || !(w->qtext = buf_detach(&q, NULL))) {
		err = error_nomem(NULL);
		goto out;
	}
	if ((err = query_parse(&w->q, w->qtext, strlen(w->qtext))) < 0)
		goto out;
	*out = w;
	w = NULL;
out:
	buf_dispose(&q);
	refs_work_free(w);
	return err;
}

/* A frontend's references: the owner's identifier, then the search through the searchers. */
static int references_run(struct req *rq)
{
	struct cluster_ident ci = { 0 };
	struct refs_work *w = NULL;
	int err = 0;

	/* Else the owner's error, or the 503, is the answer. */
	if (ident_fetch(&ci, rq) == 0 &&
	    (err = refs_work_new(&w, rq->args.name, ci.branch, ci.id, strlen(ci.id))) == 0) {
		rq->work = w;
		err = run_refs(rq); /* it frees w */
	}
	ident_dispose(&ci);
	return err;
}

int handlers_references(struct req *rq)
{
	struct refs_work *w = NULL;
	struct nav_file f;
	const char *id;
	size_t id_len;
	int err;

	if (rq->s->cfg->role == SERVER_ROLE_FRONTEND)
		return front_admit(rq, references_run);
	err = ident_open(&f, &id, &id_len, rq);
	if (err == 0)
		err = refs_work_new(&w, f.r->name, f.rev.has_branches ? f.rev.name : NULL, id,
				    id_len);
	handlers_rev_dispose(&f.rev);
	if (err < 0)
		return err;
	rq->work = w;
	req_defer(rq, run_refs);
	return 0;
}
