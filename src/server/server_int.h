/*
 * What the server's own files share: the server state, one request, and the modules'
 * functions (snapshots, streams, metrics, logs, scheduler, handlers). Only src/server/ includes
 * this header.
 */
#ifndef TRAWL_SERVER_SERVER_INT_H
#define TRAWL_SERVER_SERVER_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "index/shard.h"
#include "sandbox/confine.h"
#include "search/request.h"
#include "search/search.h"
#include "server/access.h"
#include "server/limits.h"
#include "server/route.h"
#include "server/server.h"
#include "util/buf.h"
#include "util/clock.h"

/* ---- index snapshots (snapshot.c) ---- */

/* A document of a repository, for tree and file lookups: sorted by path. */
struct snap_doc {
	const char *path; /* borrowed from the shard mapping */
	size_t path_len;
	const struct shard *sh;
	uint32_t id;
	uint32_t shard_i; /* its shard's index in the snapshot's index (index_doc_branches) */
};

struct snap_repo {
	const char *name;     /* borrowed from a shard */
	size_t shard0;        /* the index of its first shard (for index_shard_entry) */
	struct snap_doc *docs; /* in snapshot.docs */
	size_t n_docs;
	size_t n_skipped;
	size_t n_shards;
	uint64_t index_bytes; /* the sizes of its shard files */
};

/*
 * One open index and what the server derives from it, immutable once built. Every request
 * that reads the index holds a reference; the last unref closes it, so a swap never pulls an
 * index from under a running query.
 */
struct snapshot {
	atomic_uint refs;
	struct index *ix;
	struct snap_repo *repos; /* sorted by name */
	size_t n_repos;
	struct snap_doc *docs; /* every repository's, each one's a slice (snap_repo.docs) */
	uint64_t index_bytes;
};

struct snapstore;

/* Opens DIR's current index (if any) and starts the watcher thread. ENOMEM, EIO. */
int snapstore_start(struct snapstore **out, const char *index_dir);
/* Stops the watcher and drops the store's reference. */
void snapstore_stop(struct snapstore *st);
/* The current snapshot with a new reference, or NULL when there is no index yet. */
struct snapshot *snapstore_get(struct snapstore *st);
/* Number of swaps so far (for tests through /metrics). */
uint64_t snapstore_swaps(const struct snapstore *st);
void snapshot_unref(struct snapshot *s);
/* The repository called name, or NULL. */
const struct snap_repo *snapshot_repo(const struct snapshot *s, const char *name);
/* Index of the first document whose path is >= key (binary search). */
size_t snap_repo_lower_bound(const struct snap_repo *r, const char *key, size_t key_len);

/* ---- metrics (metrics.c) ---- */

#define METRICS_N_BUCKETS 12
#define METRICS_N_CODES 12

struct metrics {
	atomic_uint_fast64_t queries;
	atomic_uint_fast64_t query_errors;
	atomic_uint_fast64_t canceled;
	atomic_uint_fast64_t busy;
	atomic_uint_fast64_t buckets[METRICS_N_BUCKETS + 1]; /* the last is +Inf */
	atomic_uint_fast64_t duration_us;
	atomic_uint_fast64_t codes[METRICS_N_CODES];
	atomic_uint_fast64_t syncs;
	atomic_uint_fast64_t sync_failures;
	atomic_uint_fast64_t cluster_partial;  /* a frontend's partial answers (cluster.c) */
	atomic_uint_fast64_t cluster_failures; /* searchers that did not answer them */
};

void metrics_query(struct metrics *m, double seconds, bool is_error);
void metrics_http(struct metrics *m, unsigned status);
/* Repositories by state, indexed by enum store_state (new, syncing, indexed, error). */
#define METRICS_N_STATES 4

/*
 * Prometheus text exposition of m and of the snapshot (NULL: no index); repos_by_state counts
 * the repositories of the registry joined with the index (handlers.c, h_metrics).
 */
int metrics_render(struct buf *b, struct metrics *m, const struct snapshot *s, uint64_t swaps,
		   unsigned searches_running, const uint64_t repos_by_state[METRICS_N_STATES]);

/* ---- logs (log.c): JSON lines on stderr ---- */

struct logline {
	struct buf b;
};

/* Starts a line with "ts", "level" and "msg". */
void log_begin(struct logline *l, const char *level, const char *msg);
/* Adds "key": value; values are JSON-escaped (CR, LF and control characters included: L3). */
void log_str(struct logline *l, const char *key, const char *val, size_t len);
void log_cstr(struct logline *l, const char *key, const char *val);
void log_num(struct logline *l, const char *key, double v);
/* Writes the line with one write(2) and frees it. */
void log_end(struct logline *l);
/* A one-field message. */
void log_msg(const char *level, const char *msg, const char *key, const char *val);

/* ---- the search threads (pool.c) ---- */

/* A unit of work, embedded in what it works on; run is called once, on a pool thread. */
struct pool_task {
	struct pool_task *next;
	void (*run)(struct pool_task *t);
};

struct pool;

/* Starts n_threads threads. ENOMEM. */
int pool_start(struct pool **out, unsigned n_threads);
/* Queues t; a free thread runs it. False once the pool is stopping: t was not queued. */
bool pool_submit(struct pool *p, struct pool_task *t);
/*
 * Runs what is queued, then stops and joins the threads; later submits are refused. The pool
 * stays valid until pool_free. pool_stop(NULL) is a no-op.
 */
void pool_stop(struct pool *p);
/* Stops (if not yet) and frees. pool_free(NULL) is a no-op. */
void pool_free(struct pool *p);
/*
 * Asks the pool thread running the current task to give free memory back to the system once
 * the task is done (malloc_trim); a no-op on other threads. For tasks that held much memory.
 */
void pool_trim_after_task(void);
/* Results held at once (search_stats.mem_peak) from which a search trims after it. */
#define POOL_TRIM_MIN ((uint64_t)1 << 20)

/* ---- connections (conns.c): admission limits and the request-head deadline ---- */

/* A client key: a kind byte, then the IPv4 address or the IPv6 /64 prefix. */
#define CONNS_CLIENT_LEN 9
enum { CONNS_CLIENT_OTHER, CONNS_CLIENT_LOOPBACK, CONNS_CLIENT_IPV4, CONNS_CLIENT_IPV6 };
/* What conns_opened did. */
enum { CONNS_ADMITTED, CONNS_DISPLACED, CONNS_REFUSED };

struct conn;

/* Every open connection; thread-safe (one lock), filled from MHD's callbacks. */
struct conns {
	pthread_mutex_t lock;
	struct conn *head;        /* every tracked connection, newest first */
	size_t n_open;            /* tracked and not shut down by us */
	unsigned max_total;
	unsigned max_per_client;
	double head_timeout_ms;
	uint64_t n_timeouts;      /* totals, for the sweep's log line */
	uint64_t n_displaced;
	uint64_t n_refused;
	pthread_t sweeper;
	bool has_sweeper;
	atomic_bool is_stopping;
};

/*
 * The client a peer address counts as: the IPv4 address (also when IPv4-mapped), the /64 of an
 * IPv6 address, one key for every loopback address (127.0.0.0/8, ::1), one for anything else.
 */
void conns_client_key(uint8_t key[CONNS_CLIENT_LEN], const struct sockaddr *sa);
/* Sets up an empty table (no sweep thread yet). ENOMEM. */
int conns_init(struct conns *cs, unsigned max_total, unsigned max_per_client,
	       unsigned head_timeout_s);
/* Starts the thread that runs conns_sweep every 250 ms. ENOMEM. */
int conns_sweep_start(struct conns *cs);
/* Stops the sweep thread and frees the table; MHD must have stopped. */
void conns_dispose(struct conns *cs);
/*
 * A new connection (socket fd, peer addr) at time now (clock_now_ms): tracks it in *out (for
 * conns_closed, always called after) and applies the limits. Over its client's or the total
 * bound, the connection that has waited longest for a request head is shut down (DISPLACED),
 * else the new one is (REFUSED); ADMITTED otherwise.
 */
int conns_opened(void **out, struct conns *cs, int fd, const struct sockaddr *addr, double now);
/* The connection is gone (MHD calls this before it closes the socket): forget and free it. */
void conns_closed(struct conns *cs, void *tracker);
/* The request head is complete: no deadline while the request runs. */
void conns_head_done(struct conns *cs, void *tracker);
/* A request ended on a kept-alive connection: the next head's deadline starts now. */
void conns_head_start(struct conns *cs, void *tracker, double now);
/* Shuts down every connection whose request head began over the timeout before now; the count. */
size_t conns_sweep(struct conns *cs, double now);

/* ---- the server ---- */

struct stream;
struct sso;

struct srv {
	/* Eight-byte members first, then the four-byte counters, then the flags: no padding. */
	const struct server_config *cfg;
	struct MHD_Daemon *d;
	struct snapstore *store;
	struct metrics metrics;
	struct pool *pool;         /* runs the JSON searches, off the HTTP threads */
	struct pool *signin_pool;  /* runs the password hashes of sign-ins, off the HTTP threads */
	struct pool *sso_pool;     /* runs single sign-on's requests to the provider */
	struct pool *mirror_pool;  /* commit permalinks read from mirrors (mirror.h) */
	size_t query_mem;          /* search_opts.mem_limit of every search */
	atomic_uint_fast64_t next_req;
	pthread_mutex_t streams_lock;
	struct stream *streams;    /* running streams (stream.c's ticker watches their sockets) */
	struct conns conns;
	struct limits limits;      /* rate limits and the per-caller search cap (limits.c) */
	struct auth *auth;         /* DATA's accounts: who each request is (access.c) */
	struct sso *sso;           /* OpenID Connect, or NULL when not configured */
	struct cluster_srv *cluster; /* a cluster role's state (cluster.c), NULL for role all */
	const struct route *routes;  /* the role's route table */
	size_t n_routes;
	struct confine_status sandbox;         /* what the server's confinement enforces */
	struct confine_status sandbox_workers; /* what this kernel offers the workers */
	atomic_uint searches;      /* running now */
	unsigned max_searches;
	atomic_uint signins;       /* sign-ins running or queued on signin_pool */
	unsigned max_signins;
	atomic_uint sso_jobs;      /* logins and callbacks running or queued on sso_pool */
	unsigned max_sso_jobs;
	atomic_uint mirror_jobs;   /* running on mirror_pool: at most MIRROR_MAX_WORKERS */
	unsigned n_cpus;
	char req_prefix[9];        /* random per process: request ids are unique across restarts */
	atomic_bool is_stopping;
	bool is_tls;               /* the daemon speaks TLS */
	bool is_confined;          /* sandbox holds what server_sandbox_confine applied */
	atomic_bool sync_wanted;   /* "sync now" was asked: the scheduler runs without waiting */
};

/* One request: created when its URI arrives, freed when it completes. */
struct req {
	struct srv *s;
	struct MHD_Connection *conn;
	char id[32];
	double t0;
	char *uri; /* the request target's path (no query string), for the log */
	const char *method;
	const struct route *route;
	struct route_args args;
	struct access_caller caller; /* established by the dispatcher before the handler runs */
	struct buf in_body;          /* the request body, at most the route's max_body bytes */
	bool is_reading_body;        /* admitted; the body is arriving */
	bool is_body_over;           /* it passed max_body: the rest is discarded, then a 413 */
	size_t n_discarded;
	char hdr_text[160];          /* a header value a handler builds (Set-Cookie, Retry-After) */
	char allow[48];              /* a 405's Allow header */
	struct snapshot *snap;     /* with ROUTE_INDEX, for the handler */
	bool is_head;
	bool is_search_slot;       /* holds one of srv.searches */
	bool is_signin_slot;       /* holds one of srv.signins */
	bool is_sso_slot;          /* holds one of srv.sso_jobs */
	/* The response a handler builds (or a ready one, for a stream). */
	unsigned status;
	struct buf body;
	const char *ctype;
	const char *hdr_name[4];
	const char *hdr_value[4];
	size_t n_hdr;
	void *params;              /* decoded parameter values, freed with the request */
	bool is_queued;            /* req_respond; once is_deferred, on the search thread */
	bool is_started;            /* the first access-handler call (headers) was seen */
	bool is_https;              /* TLS, or a trusted proxy's X-Forwarded-Proto: https */
	bool is_from_proxy;         /* the direct peer is a --trusted-proxy (proxy_request) */
	bool has_user_slot;         /* holds one of its caller's search slots (limits.c) */
	bool is_hidden;             /* answered EPERM: a 404 for what the caller may not see */
	/*
	 * A handler that hands its work to the search threads (req_defer) suspends the
	 * connection; the thread builds and queues the response (MHD allows that while the
	 * connection is suspended) and resumes it. is_queue_failed: it could not queue it.
	 */
	struct pool_task task;
	int (*deferred)(struct req *rq);
	void *work;                /* the deferred handler's state, its own to free */
	double inline_budget_ms;   /* req_try_inline's first try on the HTTP thread; else 0 */
	bool is_deferred;
	atomic_bool is_queue_failed;

	void *tracker;              /* the connection's entry in srv.conns */
	size_t user_slot;           /* with has_user_slot: the caller's entry in srv.limits */
	size_t mirror_slot;         /* with has_mirror_slot: its entry in srv.limits.mirror_slots */
	bool has_mirror_slot;
	bool is_head_done;          /* conns_head_done was called */
	/* Who it comes from (proxy_request, when the head is in): the client after trusted proxies. */
	char client_addr[INET6_ADDRSTRLEN];
};

/*
 * Runs fn(rq) on a search thread with the connection suspended: fn builds the response as a
 * handler does (and frees rq->work), and it is sent when fn returns. The handler that calls
 * this returns 0 at once.
 */
void req_defer(struct req *rq, int (*fn)(struct req *rq));
/* The same on pool p (the sign-in threads); a negative fn answers as a handler's would. */
void req_defer_on(struct req *rq, struct pool *p, int (*fn)(struct req *rq));
/*
 * Runs fn(rq) on the HTTP thread with rq->inline_budget_ms = HANDLERS_INLINE_BUDGET_MS, and
 * again on a search thread (req_defer, budget 0) when it returns TRAWL_EAGAIN, which fn may
 * do only while it still holds rq->work. Returns what a handler returns.
 */
int req_try_inline(struct req *rq, int (*fn)(struct req *rq));
/*
 * Takes one of the server's sign-in slots: false (rq holds a 503 with Retry-After) when as
 * many sign-ins as the bound are running or queued. Released with the request.
 */
bool req_take_signin(struct req *rq);
/* The same for single sign-on's slots (srv.sso_jobs, on sso_pool). */
bool req_take_sso(struct req *rq);

/* Routes (handlers.c): the table the dispatcher consults. */
extern const struct route server_routes[];
extern const size_t n_server_routes;

/* Sets a JSON error response: status, code ("bad_request"...), message, column (0: none). */
int req_error(struct req *rq, unsigned status, const char *code, const char *message,
	      size_t column);
/* Sets the error response of a handler's code err (route_error_of); returns err. */
int req_fail(struct req *rq, int err);
/* Adds a response header (static strings or strings that outlive the request). */
void req_header(struct req *rq, const char *name, const char *value);
/* The decoded value of query parameter name, or NULL. EINVAL, ELIMIT (with a message), ENOMEM. */
int req_param(const char **out, size_t *len, struct req *rq, const char *name);
/* A copy of s that lives as long as rq (a header value a handler builds), or NULL: ENOMEM. */
const char *req_keep(struct req *rq, const char *s);
/* The value of request header name, or NULL (borrowed for the request). */
const char *req_header_value(const struct req *rq, const char *name);

/* The JSON type a body field must have (reqbody.c). */
enum req_ftype { REQ_STRING, REQ_BOOL, REQ_INT, REQ_ARRAY, REQ_OBJECT };

/* One field a route's body may hold. */
struct req_field {
	const char *name;
	enum req_ftype type;
	bool is_required;
};

struct json_t;
/*
 * Parses the request body as one JSON object (Z6): every member must be one of fields[0..n)
 * and of its type, each required one present, no key twice. *out is the object (free with
 * json_decref). EINVAL with a message naming the field (a 400 through req_fail).
 */
int req_json_body(struct json_t **out, const struct req *rq, const struct req_field *fields,
		  size_t n);
/*
 * A string member of a body req_json_body has checked (its type too; jansson refuses a NUL in
 * a string), borrowed from o; NULL when absent. *len (when len is not NULL) is its length.
 */
const char *req_body_str(const struct json_t *o, const char *key, size_t *len);
/* Queues resp (NULL: the body and status the handler set) with every header. MHD_NO on error. */
enum MHD_Result req_respond(struct req *rq, struct MHD_Response *resp);
/* Adds the headers every response carries (security headers, request id). */
void server_add_common_headers(struct MHD_Response *resp, const struct req *rq);
/*
 * SECURITY: whether origin (an Origin header's value) is this server's own: the scheme the
 * client used (https under TLS or behind a trusted proxy that says so) and the request's Host,
 * or --external-url's origin when the Host is its host. For the CSRF check of state-changing
 * requests.
 */
bool server_origin_matches(const struct req *rq, const char *origin);

/* Proxies (proxy.c): sets rq->client_addr and rq->is_https from the connection and headers. */
int proxy_request(struct req *rq);
/*
 * SECURITY: fills in's proxy_* fields from --auth-proxy-header and --auth-proxy-groups-header
 * when rq's direct peer is a trusted proxy; leaves them NULL otherwise (access.h).
 */
void proxy_auth_headers(struct access_request *in, const struct req *rq);

/*
 * Limits (limits.c): the rate limit of rq's route for its caller and address, and the
 * per-caller search cap for a search (after the server's own slot was taken). 0, or ELIMIT
 * with the 429 set. limits_request_end gives the caller's slot back (req_free).
 */
int limits_request(struct req *rq);
void limits_request_end(struct req *rq);
/*
 * A mirror read's limits (handlers_mirror.c): the caller's search rate and its share of the
 * mirror slots. 0, or ELIMIT with the 429 set; limits_mirror_release gives the slot back.
 */
int limits_mirror_take(struct req *rq);
void limits_mirror_release(struct req *rq);

/* The cluster (cluster.c, docs/internals/cluster.md). */
struct cluster_srv;
/* Reads the secret and the searcher set of a cluster role; nothing for role all. */
int server_cluster_start(struct srv *s);
void server_cluster_stop(struct srv *s);
/* SIGHUP: a frontend reads its --searchers-file again (the next query uses the new set). */
void server_cluster_reload(struct srv *s);
const char *server_role_name(enum server_role r);
/*
 * The one seam of every search route: search_request_run over snap (roles all and
 * searcher), or, on a frontend, its fan-out to the searchers with qtext (the query as the
 * caller wrote it; srq->opts.query its parse, with the route's own type and count) and
 * context, merged as one process orders results.
 */
int server_search_run(struct srv *s, const struct snapshot *snap, struct search_stats *st,
		      struct search_request *srq, struct search_sink *sk, const char *qtext,
		      unsigned context);
/* Whether a frontend proxies route r to the owner of its {name} (cluster.c). */
bool cluster_is_proxied(const struct route *r);
/* Whether r is one of a searcher's internal (signed) routes (cluster.c). */
bool cluster_is_internal(const struct route *r);
/* The handler a frontend runs for such a route: the caller's access, then the owner's answer. */
int cluster_proxy(struct req *rq);
/*
 * SECURITY: a searcher's proxied repository routes take only requests signed over their
 * method, path and query: 0, or negative with rq's 401 set.
 */
int cluster_admit_signed(struct req *rq, const char *url);
/*
 * A searcher's signed POST routes: checks the signature over the whole request (headers, body,
 * nonce): true, or false with a bare 401 answered. Every verification of a body is this one.
 */
bool cluster_verify_body(struct req *rq);
/* A searcher's share of the caller's readable set, read from an internal request's body. */
struct cluster_share {
	struct search_repos repos; /* names borrowed from the body and the snapshot */
	const char **names;
};
/*
 * Reads body's "readable" (names sorted, each once) or "all" with "set" and "self" (the
 * repositories of snap the set assigns to self). EINVAL, ENOMEM; dispose *out after, also on
 * failure.
 */
int cluster_share_parse(struct cluster_share *out, const struct json_t *body,
			const struct snapshot *snap);
void cluster_share_dispose(struct cluster_share *w);
/* Test hook (TRAWL_TEST_CLUSTER_LOG): logs the repositories an internal request named. */
void cluster_log_share(const struct req *rq, const char *what, const struct search_repos *repos);
/* What a frontend asked searcher k for: its share of repos under set (all it owns: is_all). */
struct cluster_asked {
	const struct search_repos *repos;
	const struct cluster_set *set;
	size_t k;
};
/*
 * SECURITY: whether repo is one the searcher was asked for: an answer naming any other
 * (another searcher's, or outside the caller's share) is refused (attack s31).
 */
bool cluster_asked_has(const struct cluster_asked *a, const char *repo);
/*
 * One searcher's 200 answer (ans[len] is a NUL), asked what *asked says: negative when it is
 * malformed or names a repository it was not asked for.
 */
typedef int (*cluster_answer_fn)(void *arg, size_t searcher, const struct cluster_asked *asked,
				 const char *ans, size_t len);
/*
 * A frontend's fan-out of a signed POST to path ("/internal/v1/..."): each searcher that owns
 * a repository of repos gets head (an open JSON object ending with ',') and its share of repos
 * (cluster_share_parse reads it); fn gets each answer, in the set's order, after all came
 * back or the timeout (the default query timeout) passed. *n_failed: the searchers that did
 * not answer or whose answer fn refused (logged, counted). ENOMEM, and the body's ELIMIT.
 */
int cluster_post_each(struct srv *s, const char *path, const char *head,
		      const struct search_repos *repos, const atomic_bool *cancel,
		      cluster_answer_fn fn, void *arg, size_t *n_failed);
/*
 * On a frontend's pool thread: GETs "/internal/" + pattern (its {name} the request's, the
 * request's query) from the owner of {name}, signed; *status and out get its answer. 0, or
 * TRAWL_EIO when it did not answer (logged): cluster_owner_unavailable answers the 503.
 */
int cluster_owner_get(struct req *rq, const char *pattern, struct buf *out, long *status);
int cluster_owner_unavailable(struct req *rq);
/* GET /readyz: 200 once the role can serve (a searcher: its index is open), else 503. */
int handlers_readyz(struct req *rq);
/* A searcher's route table (cluster.c). */
extern const struct route cluster_searcher_routes[];
extern const size_t n_cluster_searcher_routes;
/* An indexer's (health only). */
extern const struct route cluster_indexer_routes[];
extern const size_t n_cluster_indexer_routes;

/* Streams (stream.c). */
int stream_start(struct req *rq, struct query *q, unsigned context, const char *qtext);
int stream_ticker_start(struct srv *s, pthread_t *th);
void streams_cancel_all(struct srv *s);

/* Handlers' shared pieces (handlers.c). */
/* A handler's 404: sets msg as the detail, returns ENOTFOUND (route_error_of answers it). */
int handlers_not_found(const char *msg);
/*
 * A failure of the server's own (a buffer, a shard read): err when its code answers 500, else
 * EIO, so that it never answers as the 404 or 400 of a caller's mistake.
 */
int handlers_internal(int err);

/* The handlers of the route table (handlers_search.c, handlers_repos.c). */
int handlers_search(struct req *rq);
int handlers_search_stream(struct req *rq);
int handlers_symbols(struct req *rq); /* handlers_symbols.c */
int handlers_repos(struct req *rq);
int handlers_repo(struct req *rq);
int handlers_tree(struct req *rq);
int handlers_file(struct req *rq);
int handlers_raw(struct req *rq);
int handlers_readme(struct req *rq); /* handlers_readme.c */
/* The navigation routes (handlers_nav.c). */
int handlers_definition(struct req *rq);
/*
 * A searcher's definitions for a frontend (POST /internal/v1/definition, body checked): the
 * best DEFS_MAX of the body's identifier in repos, sorted, each with its tier, repository and
 * rendered symbol, the count found and whether the lookup stopped at its limit.
 */
int handlers_defs_internal(struct req *rq, const struct json_t *body,
			   const struct search_repos *repos);
/* A searcher's identifier route: what the owner of a file knows of a position (handlers_nav.c). */
int handlers_identifier(struct req *rq);
int handlers_references(struct req *rq);
int handlers_outline(struct req *rq);
/*
 * Every document path of a repository on a revision (handlers_paths.c), at most
 * HANDLERS_PATHS_MAX paths and about HANDLERS_PATHS_BYTES bytes of JSON ("truncated" past them).
 */
#define HANDLERS_PATHS_MAX 200000
#define HANDLERS_PATHS_BYTES ((size_t)16 << 20)
int handlers_paths(struct req *rq);

/* The accounts' routes (handlers_auth.c): docs/api.md, "Session" and "Tokens". */
int handlers_session_create(struct req *rq);
/* Sets the session cookie exactly as signing in does (in rq->hdr_text). */
void handlers_session_cookie(struct req *rq, const char *cookie);
/*
 * Single sign-on (handlers_sso.c): checks the SSO settings together and opens OpenID Connect
 * when configured (reading the client secret's file); EINVAL naming every setting missing,
 * EPERM for a secret file others may read. handlers_sso_close wipes and frees it.
 */
int handlers_sso_open(struct srv *s, bool is_team);
void handlers_sso_close(struct srv *s);
int handlers_sso_login(struct req *rq);
int handlers_sso_callback(struct req *rq);
int handlers_auth_methods(struct req *rq);
int handlers_session_delete(struct req *rq);
int handlers_me(struct req *rq);
int handlers_password(struct req *rq);
int handlers_notices_read(struct req *rq);
int handlers_tokens_list(struct req *rq);
int handlers_token_create(struct req *rq);
int handlers_token_revoke(struct req *rq);
/* Appends unix time t (seconds) as an RFC 3339 UTC JSON string, or null when out of range. */
int handlers_put_time(struct buf *b, int64_t t);

/*
 * Revisions: what a rev parameter names. A git repository's revisions are its indexed branches
 * (the MANIFEST entry's; "" and "HEAD" name the default one); a directory has one revision,
 * "" or "HEAD". Anything else is not found. A document is on the revision when its branch set,
 * with the MANIFEST overlay applied (index_doc_branches: the same function the search uses),
 * holds the branch.
 */
struct handlers_rev {
	const char *name;     /* the branch name, or "HEAD" for a directory */
	const char *commit;   /* the branch's indexed commit, NULL when not recorded */
	const struct index *ix;
	size_t branch;        /* into the entry's branches; unused when !has_branches */
	bool has_branches;
	uint64_t *set;        /* scratch for index_doc_branches */
	size_t n_words;
};

/* The repository named by the route: ENOTFOUND when it is unknown, EPERM when not readable. */
int handlers_find_repo(const struct snap_repo **out, struct req *rq);
/*
 * ENOTFOUND for a revision the repository does not have (rev NULL, "" or "HEAD": the default
 * branch), ENOMEM.
 */
int handlers_rev_resolve(struct handlers_rev *out, const struct snapshot *snap,
			 const struct snap_repo *r, const char *rev);
/* Whether document d is on the revision (EINVAL from a bad id: not on it). */
bool handlers_rev_has(struct handlers_rev *v, const struct snap_doc *d);
void handlers_rev_dispose(struct handlers_rev *v);
/* `{"repo":NAME,"rev":BRANCH`: the start of the answers about a revision's files. ENOMEM. */
int handlers_put_repo_rev(struct buf *b, const struct snap_repo *r, const struct handlers_rev *rev);
/*
 * The route's repository and its rev and path parameters, checked: the common part of tree,
 * file, raw and the navigation routes. A 404 for an unknown or unreadable repository or
 * revision. Dispose *rev after, also on failure.
 */
int handlers_file_params(const struct snap_repo **r, struct handlers_rev *rev, const char **path,
			 size_t *path_len, struct req *rq);
/*
 * The head of a tree or file answer, an open JSON object: repo, rev (the branch, or the commit
 * id asked for), path, commit (NULL: null) and whether it comes from the index or the mirror
 * (handlers_mirror.c). ENOMEM, ELIMIT.
 */
int handlers_put_file_head(struct buf *b, const struct snap_repo *r, const char *rev,
			   const char *path, size_t path_len, const char *commit, bool is_indexed);
/* The raw route's answer: p[0..len) as sandboxed plain text. 0, or EIO/ENOMEM (buffer). */
int handlers_raw_answer(struct req *rq, const void *p, size_t len);

/*
 * The entries of a directory of a repository on a revision (dirwalk.c), in byte order of their
 * names: files, and each subdirectory once (when a document under it is on the revision).
 * dir_walk_init: dir "" is the root; ENOMEM. dir_walk_next: 1 and *out (borrowed from the
 * snapshot: name is not NUL-terminated), 0 at the end, ENOMEM. Dispose after init, also when
 * it failed.
 */
struct dir_walk {
	const struct snap_repo *r;
	struct handlers_rev *rev;
	struct buf pre; /* "dir/", and while skipping a subdirectory "dir/sub0" */
	size_t pre_len;
	size_t i;       /* the next document of r */
};
struct dir_entry {
	const struct snap_doc *doc; /* the file, or a document on the revision in the subdirectory */
	const char *name;
	size_t name_len;
	bool is_dir;
};
int dir_walk_init(struct dir_walk *w, const struct snap_repo *r, struct handlers_rev *rev,
		  const char *dir, size_t dir_len);
int dir_walk_next(struct dir_walk *w, struct dir_entry *out);
void dir_walk_dispose(struct dir_walk *w);

struct store;
/*
 * Opens DATA/trawl.db for this request, or sets *out to NULL when DATA has none (handlers_repos.c).
 * ENOMEM, and store_open's errors.
 */
int handlers_registry_open(struct store **out, const struct req *rq);
/* Logs a registry error (it may name files or SQL) and returns EIO: the client gets a bare 500. */
int handlers_registry_error(struct req *rq);

/* Search (handlers_search.c). */
/*
 * The request of every search the server runs, JSON and stream alike: the caller's readable
 * repositories (access_readable_repos), results with ranges, the memory limit, the threads.
 * EIO when the readable set cannot be had: the search must not run (fail closed).
 */
int handlers_search_request(struct search_request *out, const struct query *q, struct req *rq,
			    bool is_stream);

/* Who ran a search, copied from the request (a stream's search outlives it). */
struct search_who {
	struct auth *auth;
	char actor[AUTH_NAME_MAX + 1];
	char address[48];
	bool is_audited; /* team mode: every search is audited */
	bool is_admin;   /* sees index-wide figures */
};
void handlers_search_who(struct search_who *out, const struct req *rq);
/*
 * A search ended: audits it (user, query, result count, duration) and, for a caller who is no
 * administrator, replaces the index-wide shards_total with the readable shards.
 */
void handlers_search_done(const struct search_who *w, const char *qtext,
			  struct search_stats *st);
/* Appends one alert object, {"kind":...,"message":...}. ENOMEM, ELIMIT. */
int handlers_alert_json(struct buf *b, enum search_alert a, const char *msg);
/* Appends one alert object to a JSON list of them (a comma before all but the first). */
int handlers_alert_append(struct buf *alerts, enum search_alert a, const char *msg);
/* The q parameter of a search route: required, at most 4096 bytes. EINVAL. */
int handlers_q_param(const char **qtext, struct req *rq);
/*
 * Parses qtext into *q. 1: it does not parse, and rq holds its 400 answer (with the column),
 * counted as a failed query.
 */
int handlers_q_parse(struct query **q, const char *qtext, struct req *rq);
/*
 * A search is first tried on its HTTP thread with this budget of wall time: most queries are
 * selective and take a fraction of it, and handing them to a search thread cost a tenth of
 * their CPU in thread switches (bench/load-cpu.sh). A search that needs more is abandoned and
 * run again on a search thread, so an HTTP thread is never held longer than this (plus the
 * compilation of a light pattern, at most a few tenths of a second once per pattern).
 */
#define HANDLERS_INLINE_BUDGET_MS 5.0
/* The JSON error body of a query that failed to parse or run, with its column. */
int handlers_query_error(struct buf *b, int err, const char *qtext, unsigned *status);
/*
 * A query that failed to parse or run (search, symbols, references): its 400 with the column
 * in rq->body, or a bare 500, logged.
 */
void handlers_search_failed(struct req *rq, int err, const char *qtext);

/* Scheduler (sched.c). */
struct sched;
/* wake: set by "sync now"; the scheduler then runs its sync at once and clears it. */
int sched_start(struct sched **out, const struct server_config *cfg, struct metrics *m,
		atomic_bool *wake);
void sched_stop(struct sched *sc);

/* Web assets (generated by scripts/embed.py into build/$(BUILD)/gen/web_assets.c). */
struct web_asset {
	const char *path; /* "/index.html" */
	const char *ctype;
	const unsigned char *data;
	size_t len;
	const char *etag; /* quoted */
};
extern const struct web_asset web_assets[];
extern const size_t n_web_assets;

/*
 * The server's sandbox (sandbox.c): server_sandbox_start forks the spawner (before any thread),
 * server_sandbox_confine confines the server (before it opens its accounts or starts a
 * thread); EPERM or EINVAL with a message. server_sandbox_json appends the admin /healthz's
 * "sandbox" object.
 */
int server_sandbox_start(struct srv *s);
int server_sandbox_confine(struct srv *s);
void server_sandbox_stop(void);
int server_sandbox_json(struct buf *b, const struct srv *s);

#endif
