/*
 * The navigation routes (docs/api.md, "Code navigation"): the definitions of the identifier at a
 * position of a file, its references, and a file's outline. The file is found as the file route
 * finds it (handlers_file_params: the repository must be readable, else the 404 of one that
 * does not exist); definitions come from the SYMBOLS sections of the shards of the caller's
 * readable repositories only (access_readable_repos), references from the ordinary search with
 * that same set (handlers_search_request). nav.c decides the identifier and the order.
 */
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

/* What the lookup of one shard needs, and the definitions found so far. */
struct defs {
	const struct index *ix;
	struct nav_file *f; /* its rev is scratch for handlers_rev_has */
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
		.tier = nav_def_tier(c->is_same_repo && d.path_len == c->f->path_len &&
					     memcmp(d.path, c->f->path, d.path_len) == 0,
				     c->is_same_repo, d.lang == c->f->d.lang),
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
		c->is_same_repo = r == c->f->r;
		c->rev = &c->f->rev;
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

static int put_defs(struct buf *b, const struct defs *c, const char *id, size_t id_len)
{
	size_t n = c->n < DEFS_MAX ? c->n : DEFS_MAX;
	int err;

	if ((err = buf_puts(b, "{\"identifier\":")) < 0 ||
	    (err = json_put_string(b, id, id_len, NULL)) < 0 ||
	    (err = buf_puts(b, ",\"definitions\":[")) < 0)
		return err;
	for (size_t k = 0; k < n; k++) {
		const struct nav_def *e = &c->v[k];
		const struct shard *sh = index_shard(c->ix, e->shard);
		struct symsec s;
		struct symsec_sym y;
		struct shard_doc d;
		bool has;

		if ((err = symbols_open(&s, &has, sh)) < 0 ||
		    (err = symsec_symbol(&y, &s, e->sym)) < 0 ||
		    (err = shard_doc(&d, sh, y.doc)) < 0 || (k && (err = buf_putc(b, ',')) < 0) ||
		    (err = put_symbol(b, e->repo, e->path, e->path_len, &y, &d)) < 0)
			return err;
	}
	return buf_printf(b, "],\"limit_hit\":%s}",
			  c->is_limit_hit || c->n > DEFS_MAX ? "true" : "false");
}

int handlers_definition(struct req *rq)
{
	const struct search_repos *readable;
	struct nav_file f;
	struct defs c = { .ix = rq->snap->ix, .f = &f };
	const char *id;
	size_t id_len;
	int err;

	if ((err = ident_open(&f, &id, &id_len, rq)) < 0)
		goto out;
	if (!(readable = access_readable_repos(&rq->caller))) {
		err = TRAWL_EIO; /* fail closed: no readable set, no definitions */
		goto out;
	}
	if ((err = lookup_defs(&c, rq->snap, readable, id, id_len)) < 0) {
		err = handlers_internal(err);
		goto out;
	}
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(*c.v), nav_def_cmp);
	if ((err = put_defs(&rq->body, &c, id, id_len)) < 0) {
		err = handlers_internal(err);
		goto out;
	}
	rq->status = 200;
out:
	free(c.v);
	handlers_rev_dispose(&f.rev);
	return err;
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
	err = search_request_run(&st, rq->snap->ix, &srq, &rs.sink);
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
static int refs_work_new(struct refs_work **out, const struct nav_file *f, const char *id,
			 size_t id_len)
{
	struct refs_work *w = calloc(1, sizeof(*w));
	struct buf q;
	int err;

	*out = NULL;
	buf_init(&q, BUF_MAX_DEFAULT);
	if (!w || !(w->id = strndup(id, id_len)) || !(w->repo = strdup(f->r->name)) ||
	    (f->rev.has_branches && !(w->branch = strdup(f->rev.name))) ||
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

int handlers_references(struct req *rq)
{
	struct refs_work *w = NULL;
	struct nav_file f;
	const char *id;
	size_t id_len;
	int err;

	err = ident_open(&f, &id, &id_len, rq);
	if (err == 0)
		err = refs_work_new(&w, &f, id, id_len);
	handlers_rev_dispose(&f.rev);
	if (err < 0)
		return err;
	rq->work = w;
	req_defer(rq, run_refs);
	return 0;
}
