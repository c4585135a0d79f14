/*
 * A cluster's searcher (docs/internals/cluster.md): its routes, each answering only requests
 * signed for it: the internal search (POST /internal/v1/search, answered in the wire format of
 * src/cluster/wire.c), the definitions of an identifier (POST /internal/v1/definition), the
 * routes of one repository a frontend sends it (cluster_proxy.c), health and readiness.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "server/cluster_int.h"
#include "server/server_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"

/* ======================================================================================== */
/* ---- the searcher: POST /internal/v1/search ---- */

/*
 * The one check of a signed POST's whole request (its headers were checked before the body was
 * read: cluster_admit_signed): true, or false with a bare 401 answered.
 */
bool cluster_verify_body(struct req *rq)
{
	char path[128];

	snprintf(path, sizeof(path), "/%s", rq->route->pattern);
	/* SECURITY: a bare 401 for every failure: nothing tells a prober what was wrong. */
	if (cluster_verify_signed(rq, path, rq->in_body.ptr, rq->in_body.len) == 0)
		return true;
	req_error(rq, 401, "unauthorized", "unauthorized", 0);
	return false;
}

/* The searcher's sink: each result onto the wire. */
struct wire_sink {
	struct search_sink sink; /* first: the request hands it back */
	struct buf *b;
	unsigned context;
	size_t max;
};

static int wire_file(struct search_sink *sk, const struct search_file *f)
{
	struct wire_sink *ws = (struct wire_sink *)sk;

	if (ws->b->len >= ws->max) {
		sk->is_full = true;
		return 1;
	}
	if ((sk->err = cluster_wire_put_file(ws->b, f, ws->context)) < 0)
		return 1;
	return 0;
}

/* The frontend makes the alerts again from the merged stats: none travels. */
static int wire_alert(struct search_sink *sk, enum search_alert a, const char *msg)
{
	(void)sk;
	(void)a;
	(void)msg;
	return 0;
}

/* What the internal search needs on its search thread. */
struct internal_work {
	json_t *body;
	struct query *q;
	struct cluster_share share; /* the readable set */
	unsigned context;
	bool want_ranges;
	bool is_select_raw; /* select:repo|file: the files, unprojected (search_request) */
	bool want_progress; /* a stream's: the counts of the last progress ('P') */
	const char *pin_repo; /* references: the file's repository on its branch (from body) */
	const char *pin_branch;
};

static void internal_work_free(struct internal_work *w)
{
	query_free(w->q);
	cluster_share_dispose(&w->share);
	json_decref(w->body);
	free(w);
}

void cluster_log_share(const struct req *rq, const char *what, const struct search_repos *repos)
{
	struct logline l;
	struct buf b;

	if (!rq->s->cluster->is_logging_repos)
		return;
	buf_init(&b, 1 << 16);
	for (size_t i = 0; i < repos->n_names; i++)
		if ((i && buf_putc(&b, ',') < 0) || buf_puts(&b, repos->names[i]) < 0)
			break;
	log_begin(&l, "info", what);
	log_cstr(&l, "req", rq->id);
	log_cstr(&l, "all", repos->is_all ? "true" : "false");
	log_str(&l, "repos", b.ptr ? b.ptr : "", b.len);
	log_end(&l);
	buf_dispose(&b);
}

/* The last progress of a searcher's search: what it found before ranking and count:. */
static void note_progress(const struct search_progress *p, void *arg)
{
	struct search_progress *last = arg;

	*last = *p;
}

/* The 'P' record: last's counts, and the shards of the repositories w was sent. */
static int put_progress(struct buf *b, const struct req *rq, const struct internal_work *w,
			const struct search_progress *last)
{
	const struct index *ix = rq->snap->ix;
	struct cluster_progress p = { .lines = last->matching_lines, .files = last->files };

	for (size_t i = 0; i < index_n_shards(ix); i++)
		p.shards += search_repos_has(&w->share.repos, index_shard_repo(ix, i));
	return cluster_wire_put_progress(b, &p);
}

static int run_internal(struct req *rq)
{
	struct internal_work *w = rq->work;
	struct search_progress last = { 0 };
	struct search_request srq = {
		.readable = &w->share.repos,
		.opts = { .query = w->q, .want_lines = true, .want_ranges = w->want_ranges,
			  .is_resident = true, .mem_limit = rq->s->query_mem, .n_threads = 1,
			  .cancel = &rq->s->is_stopping, .budget_ms = rq->inline_budget_ms,
			  .pin_repo = w->pin_repo, .pin_branch = w->pin_branch },
		.is_select_raw = w->is_select_raw,
	};
	struct wire_sink ws = { .sink = { .file = wire_file, .alert = wire_alert },
				.b = &rq->body, .context = w->context, .max = rq->s->query_mem };
	struct search_stats st;
	int err;

	buf_reset(&rq->body);
	if (w->want_progress) {
		srq.opts.progress = note_progress;
		srq.opts.progress_arg = &last;
	}
	if ((err = cluster_wire_begin(&rq->body)) < 0)
		goto out;
	err = search_request_run(&st, rq->snap->ix, &srq, &ws.sink);
	if (err == TRAWL_EAGAIN && rq->inline_budget_ms > 0) {
		buf_reset(&rq->body);
		return err; /* again on a search thread */
	}
	metrics_query(&rq->s->metrics, st.elapsed_ms / 1e3, err != 0);
	/* The searcher's own output cap: as the memory limit, a limit of this query. */
	st.is_mem_limit |= ws.sink.is_full;
	if (err < 0) {
		size_t pos = error_pos();

		buf_reset(&rq->body);
		if ((err = cluster_wire_begin(&rq->body)) == 0)
			err = cluster_wire_put_error(&rq->body, err, pos, error_last());
	} else if (!w->want_progress || (err = put_progress(&rq->body, rq, w, &last)) == 0) {
		err = cluster_wire_put_stats(&rq->body, &st);
	}
out:
	if (err < 0) {
		buf_reset(&rq->body);
		req_fail(rq, handlers_internal(err));
	} else {
		rq->status = 200;
		rq->ctype = "application/octet-stream";
	}
	internal_work_free(w);
	rq->work = NULL;
	return 0;
}

/*
 * "all": the caller reads every repository: those of this searcher's index that the frontend's
 * searcher set (the body's "set", its names in order, and "self") assigns to it, so that a
 * repository a changed set moved away is not searched twice (the old owner's copy stays until
 * its indexer removes it).
 */
static int body_all(struct cluster_share *w, const json_t *body, const struct snapshot *snap)
{
	json_t *names = json_object_get(body, "set");
	const char *self = json_string_value(json_object_get(body, "self"));
	size_t n = json_array_size(names);
	struct cluster_set set = { 0 };
	long k;

	if (!self || n == 0 || n > CLUSTER_NODES_MAX) {
		error_set("all needs set and self");
		return TRAWL_EINVAL;
	}
	if (!(set.v = calloc(n, sizeof(*set.v))) ||
	    !(w->names = calloc(snap->n_repos ? snap->n_repos : 1, sizeof(*w->names)))) {
		free(set.v);
		return error_nomem(NULL);
	}
	for (size_t i = 0; i < n; i++, set.n++) {
		const char *s = json_string_value(json_array_get(names, i));

		if (!s || strlen(s) > CLUSTER_NAME_MAX) {
			free(set.v);
			error_set("set must hold searcher names");
			return TRAWL_EINVAL;
		}
		memcpy(set.v[i].name, s, strlen(s) + 1);
	}
	if ((k = cluster_set_find(&set, self)) < 0) {
		free(set.v);
		error_set("self is not in set");
		return TRAWL_EINVAL;
	}
	/* The snapshot's repositories are sorted by name: so is the list. */
	for (size_t i = 0; i < snap->n_repos; i++)
		if (cluster_owner(&set, snap->repos[i].name) == (size_t)k)
			w->names[w->repos.n_names++] = snap->repos[i].name;
	w->repos.names = w->names;
	free(set.v);
	return 0;
}

int cluster_share_parse(struct cluster_share *w, const json_t *body, const struct snapshot *snap)
{
	json_t *all = json_object_get(body, "all"), *names = json_object_get(body, "readable");
	size_t n = names ? json_array_size(names) : 0;

	*w = (struct cluster_share){ 0 };
	if (all && json_is_true(all))
		return body_all(w, body, snap);
	if (n && !(w->names = calloc(n, sizeof(*w->names))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(names, i));

		/* SECURITY: sorted and unique, as search_repos requires (its binary search). */
		if (!s || (i && strcmp(w->names[i - 1], s) >= 0)) {
			error_set("readable must hold repository names, sorted, each once");
			return TRAWL_EINVAL;
		}
		w->names[i] = s;
	}
	w->repos.names = w->names;
	w->repos.n_names = n;
	return 0;
}

void cluster_share_dispose(struct cluster_share *w)
{
	free(w->names);
	w->names = NULL;
}

/* The query and the options the frontend computed. */
static int body_query(struct internal_work *w)
{
	const char *q = json_string_value(json_object_get(w->body, "q"));
	json_int_t context = json_integer_value(json_object_get(w->body, "context"));
	json_int_t type = json_integer_value(json_object_get(w->body, "type"));
	json_int_t count = json_integer_value(json_object_get(w->body, "count"));
	json_t *ranges = json_object_get(w->body, "ranges");
	int err;

	w->pin_repo = req_body_str(w->body, "pin_repo", NULL);
	w->pin_branch = req_body_str(w->body, "pin_branch", NULL);
	if (!w->pin_repo != !w->pin_branch) {
		error_set("pin_repo and pin_branch go together");
		return TRAWL_EINVAL;
	}
	if (context < 0 || context > 10 || type < QT_FILE || type > QT_SYMBOL || count < 0 ||
	    count > QUERY_MAX_COUNT) {
		error_set("context, type or count is out of range");
		return TRAWL_EINVAL;
	}
	if ((err = query_parse(&w->q, q, strlen(q))) < 0)
		return err;
	w->context = (unsigned)context;
	w->want_ranges = !ranges || json_is_true(ranges);
	w->is_select_raw = json_is_true(json_object_get(w->body, "select_raw"));
	w->want_progress = json_is_true(json_object_get(w->body, "progress"));
	/* The route's own settings (the symbols route's implied type and count=). */
	w->q->type = (enum qtype)type;
	w->q->count = (uint64_t)count;
	return 0;
}

static int h_internal_search(struct req *rq)
{
	static const struct req_field fields[] = {
		{ "q", REQ_STRING, true },      { "all", REQ_BOOL, false },
		{ "readable", REQ_ARRAY, false }, { "context", REQ_INT, true },
		{ "type", REQ_INT, true },      { "count", REQ_INT, true },
		{ "ranges", REQ_BOOL, false },  { "set", REQ_ARRAY, false },
		{ "self", REQ_STRING, false },  { "pin_repo", REQ_STRING, false },
		{ "pin_branch", REQ_STRING, false }, { "select_raw", REQ_BOOL, false },
		{ "progress", REQ_BOOL, false },
	};
	struct internal_work *w;
	int err;

	if (!cluster_verify_body(rq))
		return 0;
	if (!(w = calloc(1, sizeof(*w))))
		return error_nomem(NULL);
	if ((err = req_json_body(&w->body, rq, fields, sizeof(fields) / sizeof(fields[0]))) < 0 ||
	    (err = cluster_share_parse(&w->share, w->body, rq->snap)) < 0 ||
	    (err = body_query(w)) < 0) {
		internal_work_free(w);
		return err;
	}
	cluster_log_share(rq, "internal search", &w->share.repos);
	rq->work = w;
	return req_try_inline(rq, run_internal);
}

/*
 * POST /internal/v1/definition: the definitions of the identifier (the body's "id") in this
 * searcher's share of the caller's readable set (handlers_nav.c, handlers_defs_internal).
 */
static int h_internal_definition(struct req *rq)
{
	static const struct req_field fields[] = {
		{ "id", REQ_STRING, true },       { "repo", REQ_STRING, true },
		{ "path", REQ_STRING, true },     { "lang", REQ_INT, true },
		{ "rev", REQ_STRING, true },      { "all", REQ_BOOL, false },
		{ "readable", REQ_ARRAY, false }, { "set", REQ_ARRAY, false },
		{ "self", REQ_STRING, false },
	};
	struct cluster_share share = { 0 };
	json_t *body = NULL;
	int err;

	if (!cluster_verify_body(rq))
		return 0;
	if ((err = req_json_body(&body, rq, fields, sizeof(fields) / sizeof(fields[0]))) == 0 &&
	    (err = cluster_share_parse(&share, body, rq->snap)) == 0) {
		cluster_log_share(rq, "internal definition", &share.repos);
		err = handlers_defs_internal(rq, body, &share.repos);
	}
	cluster_share_dispose(&share);
	json_decref(body);
	return err;
}

/* /readyz: ready once the index is open (a searcher, all) or always (a frontend, an indexer). */
int handlers_readyz(struct req *rq)
{
	struct snapshot *snap = NULL;
	bool is_frontend = rq->s->cfg->role == SERVER_ROLE_FRONTEND ||
			   rq->s->cfg->role == SERVER_ROLE_INDEXER;

	if (!is_frontend && !(snap = snapstore_get(rq->s->store)))
		return req_error(rq, 503, "unavailable", "the index is not open yet", 0);
	snapshot_unref(snap);
	if (buf_puts(&rq->body, "{\"status\":\"ready\"}") < 0)
		return handlers_internal(TRAWL_ENOMEM);
	rq->status = 200;
	return 0;
}

static int h_healthz_bare(struct req *rq)
{
	if (buf_puts(&rq->body, "{\"status\":\"ok\"}") < 0)
		return handlers_internal(TRAWL_ENOMEM);
	rq->status = 200;
	return 0;
}

/*
 * A searcher's routes: health, readiness and the internal search; everything else is a 404
 * (no user route, no UI). The internal route is open to the dispatcher: its handler accepts
 * only a valid signature.
 */
#define OPEN_ROW                                                                            \
	.methods = ROUTE_GET | ROUTE_HEAD, .auth = ROUTE_AUTH_NONE, .perm = ROUTE_PERM_NONE,  \
	.flags = ROUTE_API
/* The rows of both a searcher and an indexer: health, readiness, a 404 for the rest. */
#define HEALTH_ROWS                                                                         \
	{ "healthz", OPEN_ROW, .handler = h_healthz_bare, .name = "healthz" },              \
	{ "readyz", OPEN_ROW, .handler = handlers_readyz, .name = "readyz" },               \
	{ "*", OPEN_ROW, .handler = NULL, .name = "not_found" }

static const char *const p_file[] = { "rev", "path", NULL };
static const char *const p_rev[] = { "rev", NULL };
static const char *const p_position[] = { "rev", "path", "line", "col", NULL };
/* A frontend's proxied repository routes (cluster_proxy): signed, checked in admit. */
#define REPO_ROW(path, p, h, f, n)                                                          \
	{ "internal/api/v1/repos/{name}/" path, .methods = ROUTE_GET | ROUTE_HEAD,          \
	  .auth = ROUTE_AUTH_NONE, .perm = ROUTE_PERM_READ, .params = (p),                    \
	  .flags = ROUTE_API | ROUTE_INDEX | (f), .handler = (h), .name = "internal_" n }

const struct route cluster_searcher_routes[] = {
	{ "internal/v1/search", .methods = ROUTE_POST, .auth = ROUTE_AUTH_NONE,
	  .perm = ROUTE_PERM_NONE, .max_body = (size_t)64 << 20,
	  .flags = ROUTE_API | ROUTE_INDEX | ROUTE_SEARCH, .handler = h_internal_search,
	  .name = "internal_search" },
	{ "internal/v1/definition", .methods = ROUTE_POST, .auth = ROUTE_AUTH_NONE,
	  .perm = ROUTE_PERM_NONE, .max_body = (size_t)64 << 20, .flags = ROUTE_API | ROUTE_INDEX,
	  .handler = h_internal_definition, .name = "internal_definition" },
	REPO_ROW("identifier", p_position, handlers_identifier, 0, "identifier"),
	REPO_ROW("tree", p_file, handlers_tree, 0, "tree"),
	REPO_ROW("file", p_file, handlers_file, 0, "file"),
	REPO_ROW("raw", p_file, handlers_raw, 0, "raw"),
	REPO_ROW("readme", p_file, handlers_readme, ROUTE_SEARCH, "readme"),
	REPO_ROW("paths", p_rev, handlers_paths, 0, "paths"),
	REPO_ROW("outline", p_file, handlers_outline, 0, "outline"),
	HEALTH_ROWS,
};
const size_t n_cluster_searcher_routes =
	sizeof(cluster_searcher_routes) / sizeof(cluster_searcher_routes[0]);

/* An indexer's: health and readiness only (it syncs; users go to the frontends). */
const struct route cluster_indexer_routes[] = { HEALTH_ROWS };
const size_t n_cluster_indexer_routes =
	sizeof(cluster_indexer_routes) / sizeof(cluster_indexer_routes[0]);
