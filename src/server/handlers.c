/*
 * The route table and its handlers (docs/api.md, docs/internals/adding-a-route.md). The
 * dispatcher in server.c has already matched the route and enforced its row (method, body,
 * caller and permission, parameters, the concurrent-search cap, an index snapshot with
 * ROUTE_INDEX) before a handler runs: handlers only do their own work, and report a failure
 * as a TRAWL_E* code that route_error_of answers (a hidden repository's EPERM as a 404).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "query/lang.h"
#include "query/query.h"
#include "search/request.h"
#include "search/search_json.h"
#include "server/access.h"
#include "server/server_int.h"
#include "store/store.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

#define Q_MAX 4096
#define CONTEXT_MAX 10

/* ---- shared pieces ---- */

/* A handler's 404 (route_error_of answers it). */
static int not_found(const char *msg)
{
	error_set("%s", msg);
	return TRAWL_ENOTFOUND;
}

/*
 * A failure of the server's own (a buffer, a shard read): whatever its code, a bare 500, never
 * the 404 or 400 its code would give a caller's mistake.
 */
static int internal(int err)
{
	return route_error_of(err)->status >= 500 ? err : TRAWL_EIO;
}

static unsigned search_threads(struct srv *s, bool is_stream)
{
	/*
	 * A JSON search runs on its HTTP thread with one search thread: measured with
	 * bench/load.sh on /usr/include (2 cores, 16 connections), one thread per search gave
	 * 11,300 queries/s (p99 3 ms) where up to one per core gave 2,700 (p99 19 ms), the
	 * thread start-up and hand-offs costing more than the split saves on selective queries.
	 * A stream (the UI's exhaustive searches) that runs alone may use every core.
	 */
	return is_stream && atomic_load(&s->searches) <= 1 ? s->n_cpus : 1;
}

void handlers_search_request(struct search_request *out, const struct query *q,
			     const struct req *rq, bool is_stream)
{
	*out = (struct search_request){
		.readable = access_readable_repos(&rq->caller),
		.opts = { .query = q, .want_lines = true, .want_ranges = true,
			  .is_resident = true, .mem_limit = rq->s->query_mem,
			  .n_threads = search_threads(rq->s, is_stream) },
	};
}

int handlers_query_error(struct buf *b, int err, const char *qtext, unsigned *status)
{
	size_t pos = error_pos(), column = 0;
	const char *msg = error_last();
	const char *code = "bad_query";

	/* A query's 4xx is always a bad query (400); anything else hides its detail. */
	*status = route_error_of(err)->status < 500 ? 400 : 500;
	if (*status == 500) {
		code = "internal";
		msg = "internal error";
		pos = (size_t)-1;
	}
	if (pos != (size_t)-1 && qtext && pos <= strlen(qtext)) {
		column = 1;
		for (size_t i = 0; i < pos; i++)
			column += ((unsigned char)qtext[i] & 0xc0) != 0x80;
	}
	if (!msg[0])
		msg = error_name(err);
	buf_reset(b);
	if (buf_puts(b, "{\"error\":{\"code\":\"") < 0 || buf_puts(b, code) < 0 ||
	    buf_puts(b, "\",\"message\":") < 0 || json_put_string(b, msg, strlen(msg), NULL) < 0)
		return TRAWL_ENOMEM;
	if (column && buf_printf(b, ",\"column\":%zu", column) < 0)
		return TRAWL_ENOMEM;
	return buf_puts(b, "}}");
}

int handlers_alert_json(struct buf *b, enum search_alert a, const char *msg)
{
	int err;

	if ((err = buf_puts(b, "{\"kind\":\"")) < 0 || (err = buf_puts(b, search_alert_kind(a))) < 0 ||
	    (err = buf_puts(b, "\",\"message\":")) < 0 ||
	    (err = json_put_string(b, msg, strlen(msg), NULL)) < 0)
		return err;
	return buf_putc(b, '}');
}

/*
 * Parses the q and context parameters shared by both search routes. 1: the query does not
 * parse, and rq holds its 400 answer (with the column).
 */
static int search_params(struct query **q, const char **qtext, unsigned *context, struct req *rq)
{
	const char *v;
	size_t len;
	int err;

	*q = NULL;
	*context = 0;
	if ((err = req_param(qtext, &len, rq, "q")) < 0)
		return err;
	if (!*qtext || len == 0) {
		error_set("the q parameter is required");
		return TRAWL_EINVAL;
	}
	if (len > Q_MAX) {
		error_set("q is over 4096 bytes");
		return TRAWL_EINVAL;
	}
	if ((err = req_param(&v, &len, rq, "context")) < 0)
		return err;
	if (v) {
		if (len == 0 || len > 2 || v[0] < '0' || v[0] > '9' ||
		    (len == 2 && (v[1] < '0' || v[1] > '9')) ||
		    (unsigned)strtoul(v, NULL, 10) > CONTEXT_MAX) {
			error_set("context must be a number from 0 to 10");
			return TRAWL_EINVAL;
		}
		*context = (unsigned)strtoul(v, NULL, 10);
	}
	if ((err = query_parse(q, *qtext, len = strlen(*qtext))) < 0) {
		unsigned status;

		metrics_query(&rq->s->metrics, 0, true);
		if ((err = handlers_query_error(&rq->body, err, *qtext, &status)) < 0)
			return err;
		rq->status = status;
		rq->ctype = "application/json; charset=utf-8";
		return 1;
	}
	return 0;
}

/* ---- /api/v1/search ---- */

/* The JSON answer's sink: results into the body, alerts aside until the summary is written. */
struct json_sink {
	struct search_sink sink; /* first: the request hands it back */
	struct buf *b;
	struct buf alerts;
	unsigned context;
	/*
	 * The most the JSON answer holds (a quarter of the query memory limit): past it the
	 * results stop with a "limit" alert. The stream has no such cap: its client reads as it
	 * goes.
	 */
	size_t max;
	size_t n;
	size_t n_alerts;
};

static int json_file(struct search_sink *sk, const struct search_file *f)
{
	struct json_sink *js = (struct json_sink *)sk;
	struct search_json_opts jo = { .context = js->context };
	size_t mark = js->b->len;

	if (mark >= js->max) {
		sk->is_full = true;
		return 1;
	}
	if ((js->n && (sk->err = buf_putc(js->b, ',')) < 0) ||
	    (sk->err = search_json_file(js->b, f, &jo)) < 0) {
		if (sk->err != TRAWL_ELIMIT)
			return 1;
		/* One file over the buffer's own maximum: drop it whole and stop there. */
		js->b->len = mark;
		sk->err = 0;
		sk->is_full = true;
		return 1;
	}
	js->n++;
	return 0;
}

static int json_alert(struct search_sink *sk, enum search_alert a, const char *msg)
{
	struct json_sink *js = (struct json_sink *)sk;
	int err;

	if (js->n_alerts++ && (err = buf_putc(&js->alerts, ',')) < 0)
		return err;
	return handlers_alert_json(&js->alerts, a, msg);
}

/* What a JSON search needs on its search thread. */
struct search_work {
	struct query *q;
	const char *qtext; /* a parameter of the request */
	unsigned context;
	double budget_ms;  /* the try on the HTTP thread (0: the run on a search thread) */
};

/*
 * A search is first tried on its HTTP thread with this budget of wall time: most queries are
 * selective and take a fraction of it, and handing them to a search thread cost a tenth of
 * their CPU in thread switches (bench/load-cpu.sh). A search that needs more is abandoned and
 * run again on a search thread, so an HTTP thread is never held longer than this (plus the
 * compilation of a light pattern, at most a few tenths of a second once per pattern).
 */
#define INLINE_BUDGET_MS 5.0

/* The failed search's answer: a 400 with the column, or a bare 500 (logged). */
static void search_failed(struct req *rq, int err, const char *qtext)
{
	unsigned status = 500;

	if (handlers_query_error(&rq->body, err, qtext, &status) < 0)
		req_error(rq, 500, "internal", "internal error", 0);
	else
		rq->status = status;
	if (status >= 500) {
		struct logline l;

		log_begin(&l, "error", "search failed");
		log_cstr(&l, "req", rq->id);
		log_cstr(&l, "error", error_last());
		log_end(&l);
	}
}

/*
 * The search, then the whole answer in rq->body: on the HTTP thread within sw->budget_ms
 * (EAGAIN: not done, nothing answered), or on a search thread (req_defer).
 */
static int run_search(struct req *rq)
{
	struct search_work *sw = rq->work;
	struct search_request srq;
	struct search_stats st;
	struct json_sink js = { .sink = { .file = json_file, .alert = json_alert },
				.b = &rq->body, .context = sw->context,
				.max = rq->s->query_mem / 4 };
	int err;

	handlers_search_request(&srq, sw->q, rq, false);
	srq.opts.cancel = &rq->s->is_stopping;
	srq.opts.budget_ms = sw->budget_ms;
	buf_init(&js.alerts, BUF_MAX_DEFAULT);
	buf_reset(&rq->body);
	buf_puts(&rq->body, "{\"results\":[");
	err = search_request_run(&st, rq->snap->ix, &srq, &js.sink);
	if (err == TRAWL_EAGAIN && sw->budget_ms > 0) {
		buf_reset(&rq->body);
		buf_dispose(&js.alerts);
		return err; /* the caller runs it again on a search thread */
	}
	metrics_query(&rq->s->metrics, st.elapsed_ms / 1e3, err != 0);
	if (err != 0) {
		search_failed(rq, err, sw->qtext);
		err = 0;
		goto out;
	}
	if ((err = buf_puts(&rq->body, "],\"summary\":")) < 0 ||
	    (err = search_json_summary(&rq->body, &st, false)) < 0 ||
	    (err = buf_puts(&rq->body, ",\"alerts\":[")) < 0 ||
	    (err = buf_put(&rq->body, js.alerts.ptr, js.alerts.len)) < 0 ||
	    (err = buf_puts(&rq->body, "]}")) < 0) {
		buf_reset(&rq->body);
		goto out;
	}
	rq->status = 200;
out:
	buf_dispose(&js.alerts);
	query_free(sw->q);
	free(sw);
	rq->work = NULL;
	return err;
}

static int h_search(struct req *rq)
{
	struct search_work *sw = calloc(1, sizeof(*sw));
	int err;

	if (!sw) {
		error_set("out of memory");
		return TRAWL_ENOMEM;
	}
	if ((err = search_params(&sw->q, &sw->qtext, &sw->context, rq)) != 0) {
		free(sw);
		return err < 0 ? err : 0;
	}
	rq->work = sw;
	sw->budget_ms = INLINE_BUDGET_MS;
	if ((err = run_search(rq)) != TRAWL_EAGAIN)
		return err;
	sw->budget_ms = 0;
	req_defer(rq, run_search);
	return 0;
}

static int h_stream(struct req *rq)
{
	struct query *q = NULL;
	const char *qtext;
	unsigned context;
	int err;

	if ((err = search_params(&q, &qtext, &context, rq)) != 0)
		return err < 0 ? err : 0;
	return stream_start(rq, q, context, qtext); /* takes q */
}

/* ---- repositories: the index joined with the registry ---- */

/*
 * Opens DATA/trawl.db for this request, or sets *out to NULL when DATA has none (an index built
 * with `trawl index` only: every repository of the index is then "indexed", with no url, sync
 * time or error). SQLite connections are not shared between threads, so each request of the
 * repository routes and /metrics opens its own; the search routes never touch the registry.
 */
static int registry_open(struct store **out, const struct req *rq)
{
	char *path = file_join(rq->s->cfg->data_dir, "trawl.db");
	struct stat st;
	int err = 0;

	*out = NULL;
	if (!path) {
		error_set("out of memory");
		return TRAWL_ENOMEM;
	}
	/* Never create a database here: only `trawl repo add` makes one. */
	if (stat(path, &st) == 0 || errno != ENOENT)
		err = store_open(out, path);
	free(path);
	return err;
}

/*
 * SECURITY: a registry error names files or SQL (L4): it goes to the log, the client gets a
 * bare 500.
 */
static int registry_error(struct req *rq, int err)
{
	struct logline l;

	log_begin(&l, "error", "cannot read the repository registry");
	log_cstr(&l, "req", rq->id);
	log_cstr(&l, "error", error_last());
	log_end(&l);
	(void)err;
	return TRAWL_EIO;
}

static int put_branch(struct buf *b, bool is_first, const char *name, const char *commit,
		      bool is_default)
{
	int err;

	if ((err = buf_puts(b, is_first ? "{\"name\":" : ",{\"name\":")) < 0 ||
	    (err = json_put_string(b, name, strlen(name), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"commit\":")) < 0 ||
	    (err = commit[0] ? json_put_string(b, commit, strlen(commit), NULL)
			     : buf_puts(b, "null")) < 0)
		return err;
	return buf_printf(b, ",\"default\":%s}", is_default ? "true" : "false");
}

/*
 * The branches of a repository: the registry's record of the last sync when it has an entry,
 * else the index MANIFEST's (a repository indexed with `trawl index`; empty for a directory).
 */
static int put_branches(struct buf *b, const struct snapshot *snap, const struct snap_repo *r,
			const struct store_repo *sr)
{
	const struct index_repo_entry *e = r ? index_shard_entry(snap->ix, r->shard0) : NULL;
	int err = 0;

	if (sr) {
		for (size_t i = 0; i < sr->n_branches && !err; i++)
			err = put_branch(b, i == 0, sr->branches[i].name, sr->branches[i].commit,
					 sr->branches[i].is_default);
		return err;
	}
	for (size_t i = 0; e && i < e->n_branches && !err; i++)
		err = put_branch(b, i == 0, e->branches[i].name, e->branches[i].commit,
				 e->branches[i].is_default);
	return err;
}

/* An RFC 3339 UTC time ("2026-11-26T09:00:00Z") as a JSON string. */
static int put_time(struct buf *b, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[40];

	if (!gmtime_r(&tt, &tm) || strftime(s, sizeof(s), "\"%Y-%m-%dT%H:%M:%SZ\"", &tm) == 0)
		return buf_puts(b, "null");
	return buf_puts(b, s);
}

/*
 * One REPO object (docs/api.md). r is the repository in the index (NULL: registered, not
 * indexed yet), sr its registry entry (NULL: none). Sizes and skipped files come from the
 * index when it holds the repository (what searches see), else from the registry.
 */
static int put_repo(struct buf *b, const struct snapshot *snap, const struct snap_repo *r,
		    const struct store_repo *sr, bool is_full)
{
	const char *name = r ? r->name : sr->name;
	const char *state = sr ? store_state_name(sr->state) : "indexed";
	unsigned long long bytes = r ? r->index_bytes : sr->index_bytes;
	size_t files = r ? r->n_docs : (size_t)sr->files;
	size_t skipped = r ? r->n_skipped : (size_t)sr->skipped_count;
	int err;

	if ((err = buf_puts(b, "{\"name\":")) < 0 ||
	    (err = json_put_string(b, name, strlen(name), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"url\":")) < 0 ||
	    (err = sr ? json_put_string(b, sr->url, strlen(sr->url), NULL)
		      : buf_puts(b, "null")) < 0 ||
	    (err = buf_printf(b, ",\"state\":\"%s\",\"branches\":[", state)) < 0 ||
	    (err = put_branches(b, snap, r, sr)) < 0 ||
	    (err = buf_puts(b, "],\"last_sync\":")) < 0 ||
	    (err = sr && sr->last_sync ? put_time(b, sr->last_sync) : buf_puts(b, "null")) < 0 ||
	    (err = buf_puts(b, ",\"last_error\":")) < 0 ||
	    (err = sr && sr->last_error
			   ? json_put_string(b, sr->last_error, strlen(sr->last_error), NULL)
			   : buf_puts(b, "null")) < 0 ||
	    (err = buf_printf(b, ",\"index_bytes\":%llu,\"files\":%zu", bytes, files)) < 0)
		return err;
	if (!is_full)
		return buf_printf(b, ",\"skipped_count\":%zu}", skipped);
	if ((err = buf_printf(b, ",\"skipped_count\":%zu,\"skipped\":[", skipped)) < 0)
		return err;
	for (size_t i = 0, k = 0; r && i < r->n_docs; i++) {
		struct shard_doc d;

		if ((err = shard_doc(&d, r->docs[i].sh, r->docs[i].id)) < 0)
			return err;
		if (d.skip == DOC_INDEXED)
			continue;
		if ((err = buf_puts(b, k++ ? ",{\"path\":" : "{\"path\":")) < 0 ||
		    (err = json_put_string(b, d.path, d.path_len, NULL)) < 0 ||
		    (err = buf_printf(b, ",\"reason\":\"%s\"}", doc_skip_name(d.skip))) < 0)
			return err;
	}
	return buf_puts(b, "]}");
}

/*
 * The repository list: the index's repositories and the registry's (also those not indexed
 * yet), merged by name; both lists are sorted by bytes. The snapshot may be NULL (no index).
 */
static int put_repos(struct buf *b, const struct req *rq, const struct snapshot *snap,
		     const struct store_repo *regs, size_t n_regs)
{
	size_t n_snap = snap ? snap->n_repos : 0, i = 0, k = 0, n = 0;
	int err = buf_puts(b, "{\"repos\":[");

	while (!err && (i < n_snap || k < n_regs)) {
		const struct snap_repo *r = i < n_snap ? &snap->repos[i] : NULL;
		const struct store_repo *sr = k < n_regs ? &regs[k] : NULL;
		int c = !r ? 1 : !sr ? -1 : strcmp(r->name, sr->name);

		if (c < 0)
			sr = NULL;
		else if (c > 0)
			r = NULL;
		i += r != NULL;
		k += sr != NULL;
		if (access_check_repo(&rq->caller, r ? r->name : sr->name) < 0)
			continue;
		if (!(n++ && (err = buf_putc(b, ',')) < 0))
			err = put_repo(b, snap, r, sr, false);
	}
	return err < 0 ? err : buf_puts(b, "]}");
}

static int h_repos(struct req *rq)
{
	struct store *st = NULL;
	struct store_repo *regs = NULL;
	size_t n_regs = 0;
	int err;

	/* The list works before the first index: registered repositories are "new". */
	rq->snap = snapstore_get(rq->s->store);
	if ((err = registry_open(&st, rq)) < 0 ||
	    (st && (err = store_repo_list(&regs, &n_regs, st)) < 0)) {
		store_close(st);
		return registry_error(rq, err);
	}
	store_close(st);
	err = put_repos(&rq->body, rq, rq->snap, regs, n_regs);
	store_repos_free(regs, n_regs);
	if (err < 0)
		return internal(err);
	rq->status = 200;
	return 0;
}

/* The repository named by the route: ENOTFOUND when it is unknown, EPERM when not readable. */
static int find_repo(const struct snap_repo **out, struct req *rq)
{
	*out = snapshot_repo(rq->snap, rq->args.name);
	if (!*out)
		return not_found("not found");
	return access_check_repo(&rq->caller, (*out)->name);
}

static int h_repo(struct req *rq)
{
	const struct snap_repo *r;
	struct store *st = NULL;
	struct store_repo sr = { 0 };
	bool has_sr = false;
	int err = 0;

	rq->snap = snapstore_get(rq->s->store);
	r = rq->snap ? snapshot_repo(rq->snap, rq->args.name) : NULL;
	if ((err = registry_open(&st, rq)) < 0)
		return registry_error(rq, err);
	if (st && (err = store_repo_get(&sr, st, rq->args.name)) < 0 && err != TRAWL_ENOTFOUND) {
		store_close(st);
		return registry_error(rq, err);
	}
	has_sr = st && err == 0;
	store_close(st);
	if (!r && !has_sr)
		err = not_found("not found");
	else if ((err = access_check_repo(&rq->caller, rq->args.name)) < 0)
		;
	else if ((err = put_repo(&rq->body, rq->snap, r, has_sr ? &sr : NULL, true)) < 0)
		err = internal(err);
	else
		rq->status = 200;
	if (has_sr)
		store_repo_dispose(&sr);
	return err < 0 ? err : 0;
}

/* ---- files ---- */

/*
 * Revisions: what a rev parameter names. A git repository's revisions are its indexed branches
 * (the MANIFEST entry's; "" and "HEAD" name the default one); a directory has one revision,
 * "" or "HEAD". Anything else is not found. A document is on the revision when its branch set,
 * with the MANIFEST overlay applied (index_doc_branches: the same function the search uses),
 * holds the branch.
 */
struct rev {
	const char *name;     /* the branch name, or "HEAD" for a directory */
	const char *commit;   /* the branch's indexed commit, NULL when not recorded */
	const struct index *ix;
	size_t branch;        /* into the entry's branches; unused when !has_branches */
	bool has_branches;
	uint64_t *set;        /* scratch for index_doc_branches */
	size_t n_words;
};

static void rev_dispose(struct rev *v)
{
	free(v->set);
	v->set = NULL;
}

/* ENOTFOUND for a revision the repository does not have, ENOMEM. */
static int rev_resolve(struct rev *out, const struct snapshot *snap, const struct snap_repo *r,
		       const char *rev)
{
	const struct index_repo_entry *e = index_shard_entry(snap->ix, r->shard0);
	bool is_head = !rev || rev[0] == 0 || strcmp(rev, "HEAD") == 0;

	*out = (struct rev){ .name = "HEAD", .ix = snap->ix };
	if (!e || e->n_branches == 0) {
		if (is_head)
			return 0;
		error_set("unknown revision");
		return TRAWL_ENOTFOUND;
	}
	for (size_t b = 0; b < e->n_branches; b++) {
		if (is_head ? !e->branches[b].is_default : strcmp(e->branches[b].name, rev) != 0)
			continue;
		out->name = e->branches[b].name;
		out->commit = e->branches[b].commit[0] ? e->branches[b].commit : NULL;
		out->branch = b;
		out->has_branches = true;
		out->n_words = (e->n_branches + 63) / 64;
		if (!(out->set = calloc(out->n_words, sizeof(*out->set)))) {
			error_set("out of memory");
			return TRAWL_ENOMEM;
		}
		return 0;
	}
	error_set("unknown revision");
	return TRAWL_ENOTFOUND;
}

/* Whether document d is on the revision (EINVAL from a bad id: not on it). */
static bool rev_has(struct rev *v, const struct snap_doc *d)
{
	struct shard_doc sd;

	if (!v->has_branches)
		return true;
	if (shard_doc(&sd, d->sh, d->id) < 0)
		return false;
	index_doc_branches(v->set, v->n_words, v->ix, d->shard_i, d->id, &sd);
	return (v->set[v->branch / 64] >> (v->branch % 64)) & 1;
}

/* rev and path, checked: the common part of tree, file and raw. Dispose *rev after. */
static int file_params(const struct snap_repo **r, struct rev *rev, const char **path,
		       size_t *path_len, struct req *rq)
{
	const char *rv;
	size_t len;
	int err;

	*rev = (struct rev){ 0 };
	if ((err = find_repo(r, rq)) < 0)
		return err;
	if ((err = req_param(&rv, &len, rq, "rev")) < 0 ||
	    (err = req_param(path, path_len, rq, "path")) < 0)
		return err;
	if (!*path) {
		*path = "";
		*path_len = 0;
	}
	if ((err = route_path_check(*path, *path_len)) < 0)
		return err;
	if ((err = rev_resolve(rev, rq->snap, *r, rv)) == TRAWL_ENOTFOUND)
		return not_found("not found");
	return err < 0 ? internal(err) : 0;
}

static int put_head(struct buf *b, const struct snap_repo *r, const struct rev *rev,
		    const char *path, size_t path_len)
{
	int err;

	if ((err = buf_puts(b, "{\"repo\":")) < 0 ||
	    (err = json_put_string(b, r->name, strlen(r->name), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"rev\":")) < 0 ||
	    (err = json_put_string(b, rev->name, strlen(rev->name), NULL)) < 0 ||
	    (err = buf_puts(b, ",\"path\":")) < 0)
		return err;
	return json_put_string(b, path, path_len, NULL);
}

static bool has_prefix(const struct snap_doc *d, const char *p, size_t n)
{
	return d->path_len >= n && memcmp(d->path, p, n) == 0;
}

static int put_file_entry(struct buf *b, const struct snap_doc *d, const char *name,
			  size_t name_len)
{
	struct shard_doc sd;
	const char *lname;
	int err;

	if ((err = shard_doc(&sd, d->sh, d->id)) < 0)
		return err;
	lname = lang_name(sd.lang);
	if ((err = buf_puts(b, "{\"name\":")) < 0 ||
	    (err = json_put_string(b, name, name_len, NULL)) < 0 ||
	    (err = buf_printf(b, ",\"type\":\"file\",\"size\":%llu,\"language\":",
			      (unsigned long long)sd.size)) < 0 ||
	    (err = json_put_string(b, lname, strlen(lname), NULL)) < 0)
		return err;
	if (sd.skip != DOC_INDEXED &&
	    (err = buf_printf(b, ",\"skipped\":\"%s\"", doc_skip_name(sd.skip))) < 0)
		return err;
	return buf_putc(b, '}');
}

static int h_tree(struct req *rq)
{
	const struct snap_repo *r;
	struct rev rev;
	const char *path;
	size_t path_len, pre_len = 0, n = 0, i;
	struct buf pre; /* "path/" and, while skipping a subdirectory, "path/sub0" */
	int err;

	if ((err = file_params(&r, &rev, &path, &path_len, rq)) < 0) {
		rev_dispose(&rev);
		return err;
	}
	/*
	 * The directory's entries are the documents under "path/" on the revision, consecutive
	 * in path order (documents of other revisions interleave and are passed over).
	 */
	buf_init(&pre, BUF_MAX_DEFAULT);
	if ((err = buf_put(&pre, path, path_len)) < 0 || (path_len && (err = buf_putc(&pre, '/')) < 0))
		goto out;
	pre_len = pre.len;
	i = snap_repo_lower_bound(r, pre.ptr, pre_len);
	if ((err = put_head(&rq->body, r, &rev, path, path_len)) < 0 ||
	    (err = buf_puts(&rq->body, ",\"entries\":[")) < 0)
		goto out;
	while (i < r->n_docs && has_prefix(&r->docs[i], pre.ptr, pre_len)) {
		const struct snap_doc *d = &r->docs[i];
		const char *name = d->path + pre_len;
		size_t name_len = d->path_len - pre_len;
		const char *slash = memchr(name, '/', name_len);

		if (!rev_has(&rev, d)) {
			i++;
			continue;
		}
		if (n++ && (err = buf_putc(&rq->body, ',')) < 0)
			goto out;
		if (slash) {
			size_t dlen = (size_t)(slash - name);

			if ((err = buf_puts(&rq->body, "{\"name\":")) < 0 ||
			    (err = json_put_string(&rq->body, name, dlen, NULL)) < 0 ||
			    (err = buf_puts(&rq->body, ",\"type\":\"dir\"}")) < 0)
				goto out;
			/* Skip the subdirectory: '0' follows '/' in byte order. */
			pre.len = pre_len;
			if ((err = buf_put(&pre, name, dlen)) < 0 || (err = buf_putc(&pre, '0')) < 0)
				goto out;
			i = snap_repo_lower_bound(r, pre.ptr, pre.len);
			pre.len = pre_len;
			continue;
		}
		if ((err = put_file_entry(&rq->body, d, name, name_len)) < 0)
			goto out;
		i++;
	}
	err = buf_puts(&rq->body, "]}");
out:
	buf_dispose(&pre);
	rev_dispose(&rev);
	/* A directory nothing on the revision is under does not exist (the root always does). */
	if (err >= 0 && n == 0 && pre_len)
		return not_found("not found");
	if (err < 0)
		return internal(err);
	rq->status = 200;
	return 0;
}

/* The document at path on the revision, or a 404. */
static int find_doc(struct shard_doc *out, const struct snap_repo *r,
		    struct rev *rev, const char *path, size_t path_len)
{
	for (size_t i = snap_repo_lower_bound(r, path, path_len);
	     path_len && i < r->n_docs && r->docs[i].path_len == path_len &&
	     memcmp(r->docs[i].path, path, path_len) == 0;
	     i++)
		if (rev_has(rev, &r->docs[i]) && shard_doc(out, r->docs[i].sh, r->docs[i].id) == 0)
			return 0;
	return not_found("not found");
}

static int put_file(struct buf *b, const struct snap_repo *r, const struct rev *rev,
		    const char *path, size_t path_len, const struct shard_doc *d)
{
	const char *lname = lang_name(d->lang);
	int err;

	if ((err = put_head(b, r, rev, path, path_len)) < 0 ||
	    (err = buf_puts(b, ",\"commit\":")) < 0 ||
	    (err = rev->commit ? json_put_string(b, rev->commit, strlen(rev->commit), NULL)
			       : buf_puts(b, "null")) < 0 ||
	    (err = buf_puts(b, ",\"language\":")) < 0 ||
	    (err = json_put_string(b, lname, strlen(lname), NULL)) < 0 ||
	    (err = buf_printf(b, ",\"size\":%llu,\"binary\":%s,\"skipped\":",
			      (unsigned long long)d->size,
			      d->skip == DOC_SKIP_BINARY ? "true" : "false")) < 0)
		return err;
	if (d->skip != DOC_INDEXED)
		return buf_printf(b, "\"%s\"}", doc_skip_name(d->skip));
	if ((err = buf_puts(b, "null,\"content\":")) < 0 ||
	    (err = json_put_string(b, (const char *)d->content, d->content_len, NULL)) < 0)
		return err;
	return buf_putc(b, '}');
}

static int h_file(struct req *rq)
{
	const struct snap_repo *r;
	struct rev rev;
	const char *path;
	size_t path_len;
	struct shard_doc d;
	int err;

	if ((err = file_params(&r, &rev, &path, &path_len, rq)) < 0 ||
	    (err = find_doc(&d, r, &rev, path, path_len)) < 0) {
		rev_dispose(&rev);
		return err;
	}
	err = put_file(&rq->body, r, &rev, path, path_len, &d);
	rev_dispose(&rev);
	if (err < 0)
		return internal(err);
	rq->status = 200;
	return 0;
}

static int h_raw(struct req *rq)
{
	const struct snap_repo *r;
	struct rev rev;
	const char *path;
	size_t path_len;
	struct shard_doc d;
	int err;

	err = file_params(&r, &rev, &path, &path_len, rq);
	if (err >= 0)
		err = find_doc(&d, r, &rev, path, path_len);
	rev_dispose(&rev);
	if (err < 0)
		return err;
	if (d.skip != DOC_INDEXED)
		return not_found("the file's content is not stored (skipped)");
	if (buf_put(&rq->body, d.content, d.content_len) < 0)
		return internal(TRAWL_ENOMEM);
	/* SECURITY: repository content is never rendered as active content (X4). */
	rq->ctype = "text/plain; charset=utf-8";
	req_header(rq, "Content-Security-Policy", "sandbox");
	req_header(rq, "Content-Disposition", "inline");
	rq->status = 200;
	return 0;
}

/* ---- health, metrics ---- */

static int h_healthz(struct req *rq)
{
	struct snapshot *s = snapstore_get(rq->s->store);
	int err = buf_printf(&rq->body, "{\"status\":\"ok\",\"index\":%s,\"shards\":%zu,\"repos\":%zu}",
			     s ? "true" : "false", s ? index_n_shards(s->ix) : 0, s ? s->n_repos : 0);

	snapshot_unref(s);
	if (err < 0)
		return internal(TRAWL_ENOMEM);
	rq->status = 200;
	return 0;
}

/*
 * Repositories by state: the registry's, plus those of the index it does not know (indexed
 * with `trawl index`), which are "indexed".
 */
static int count_states(uint64_t by_state[METRICS_N_STATES], const struct snapshot *snap,
			const struct store_repo *regs, size_t n_regs)
{
	memset(by_state, 0, METRICS_N_STATES * sizeof(*by_state));
	for (size_t k = 0; k < n_regs; k++)
		if ((size_t)regs[k].state < METRICS_N_STATES)
			by_state[regs[k].state]++;
	for (size_t i = 0, k = 0; snap && i < snap->n_repos; i++) {
		int c = 1;

		while (k < n_regs && (c = strcmp(regs[k].name, snap->repos[i].name)) < 0)
			k++;
		if (k == n_regs || c != 0)
			by_state[STORE_STATE_INDEXED]++;
	}
	return 0;
}

static int h_metrics(struct req *rq)
{
	struct snapshot *s = snapstore_get(rq->s->store);
	struct store *st = NULL;
	struct store_repo *regs = NULL;
	size_t n_regs = 0;
	uint64_t by_state[METRICS_N_STATES];
	int err;

	rq->snap = s; /* released with the request */
	if ((err = registry_open(&st, rq)) < 0 ||
	    (st && (err = store_repo_list(&regs, &n_regs, st)) < 0)) {
		store_close(st);
		return registry_error(rq, err);
	}
	store_close(st);
	count_states(by_state, s, regs, n_regs);
	store_repos_free(regs, n_regs);
	err = metrics_render(&rq->body, &rq->s->metrics, s, snapstore_swaps(rq->s->store),
			     atomic_load(&rq->s->searches), by_state);
	if (err < 0)
		return internal(err);
	rq->ctype = "text/plain; version=0.0.4; charset=utf-8";
	rq->status = 200;
	return 0;
}

/* ---- the web UI ---- */

static const struct web_asset *asset_find(const char *path)
{
	for (size_t i = 0; i < n_web_assets; i++)
		if (strcmp(web_assets[i].path, path) == 0)
			return &web_assets[i];
	return NULL;
}

static int serve_asset(struct req *rq, const struct web_asset *a)
{
	const char *inm = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "If-None-Match");

	rq->ctype = a->ctype;
	req_header(rq, "ETag", a->etag);
	req_header(rq, "Cache-Control", "no-cache");
	if (inm && strcmp(inm, a->etag) == 0) {
		rq->status = 304;
		return 0;
	}
	if (buf_put(&rq->body, a->data, a->len) < 0)
		return internal(TRAWL_ENOMEM);
	rq->status = 200;
	return 0;
}

/* "/", "/search", "/repos", "/file/...": the single page's routes all load index.html. */
static int h_ui(struct req *rq)
{
	const struct web_asset *a = asset_find("/index.html");

	if (!a)
		return not_found("the web UI is not built into this binary");
	return serve_asset(rq, a);
}

/* Any other path that names an embedded file (web/app.js is /app.js). */
static int h_asset(struct req *rq)
{
	char path[ROUTE_NAME_MAX + 2];
	const struct web_asset *a;
	size_t n = strlen(rq->args.rest);

	if (n > ROUTE_NAME_MAX)
		return not_found("not found");
	path[0] = '/';
	memcpy(path + 1, rq->args.rest, n + 1);
	if (!(a = asset_find(path)) || strcmp(path, "/index.html") == 0)
		return not_found("not found");
	return serve_asset(rq, a);
}

/* ---- the table ---- */

static const char *const p_search[] = { "q", "context", NULL };
static const char *const p_file[] = { "rev", "path", NULL };

/*
 * Every route answers GET and HEAD, takes no body and is open to every caller with the read
 * permission: until accounts exist the server listens on loopback only.
 */
#define READ .methods = ROUTE_GET | ROUTE_HEAD, .auth = ROUTE_AUTH_NONE, .perm = ROUTE_PERM_READ
#define API ROUTE_API
#define IDX ROUTE_INDEX
const struct route server_routes[] = {
	{ "api/v1/search", READ, .params = p_search, .flags = API | IDX | ROUTE_SEARCH,
	  .handler = h_search, .name = "search" },
	{ "api/v1/search/stream", READ, .params = p_search, .flags = API | IDX | ROUTE_SEARCH,
	  .handler = h_stream, .name = "search_stream" },
	/* Without IDX: registered repositories are listed before the first index exists. */
	{ "api/v1/repos", READ, .flags = API, .handler = h_repos, .name = "repos" },
	{ "api/v1/repos/{name}", READ, .flags = API, .handler = h_repo, .name = "repo" },
	{ "api/v1/repos/{name}/tree", READ, .params = p_file, .flags = API | IDX,
	  .handler = h_tree, .name = "tree" },
	{ "api/v1/repos/{name}/file", READ, .params = p_file, .flags = API | IDX,
	  .handler = h_file, .name = "file" },
	{ "api/v1/repos/{name}/raw", READ, .params = p_file, .flags = API | IDX,
	  .handler = h_raw, .name = "raw" },
	{ "healthz", READ, .flags = API, .handler = h_healthz, .name = "healthz" },
	{ "metrics", READ, .flags = API, .handler = h_metrics, .name = "metrics" },
	/* Everything else under /api is an API 404 (JSON), never a page. */
	{ "api/*", READ, .flags = API, .handler = NULL, .name = "api_unknown" },
	/* The page's own routes: their query strings are the page's business. */
	{ "", READ, .handler = h_ui, .name = "ui" },
	{ "search", READ, .handler = h_ui, .name = "ui" },
	{ "repos", READ, .handler = h_ui, .name = "ui" },
	{ "repos/*", READ, .handler = h_ui, .name = "ui" },
	{ "file/*", READ, .handler = h_ui, .name = "ui" },
	{ "*", READ, .handler = h_asset, .name = "asset" },
};
const size_t n_server_routes = sizeof(server_routes) / sizeof(server_routes[0]);
