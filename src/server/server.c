/*
 * The HTTP daemon (libmicrohttpd) and the dispatcher.
 *
 * DESIGN: MHD runs its own threads (a pool of epoll loops, sized to the cores). Every request
 * goes through one dispatcher that enforces the route table's columns (route.h) before any
 * handler runs: framing checks -> route lookup -> method -> body -> authenticate ->
 * authorize (route_admit, access.c) -> parameters -> limits (concurrent searches, an index to
 * read) -> handler -> route_error_of for a handler's error code -> one function that adds the
 * security headers to whatever goes out, errors included. Handlers build a body in a buffer;
 * the streaming search hands over a callback response instead (stream.c), and a JSON search
 * that needs more than a few milliseconds suspends its connection and is answered from a
 * search thread (req_defer, pool.c), so an HTTP thread never waits long for a search. Each request gets an id (X-Request-Id) and one JSON
 * log line when it completes.
 *
 * Limits: MHD enforces the connection memory limit (request line and headers; over it is a 431
 * or 414 from MHD itself) and the idle connection timeout; conns.c the request-head deadline
 * and the total and per-client connection limits (MHD's own total limit stays, above them, as
 * a backstop). Requests MHD refuses before they reach the dispatcher (an unparsable request
 * line, oversized headers) get MHD's own short 400/414/431 and the connection is closed.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sodium.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/secret.h"
#include "server/redact.h"
#include "server/mirror.h"
#include "server/server_int.h"
#include "server/tls.h"
#include "store/store.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

#define CONN_MEMORY_LIMIT (64 * 1024)
#define MAX_PARAMS 16
/* Threads for single sign-on's requests to the provider (as many more wait, then 503). */
#define SERVER_SSO_THREADS 4
/* The longest request path the log and the audit trail keep. */
#define LOGGED_PATH_MAX 4096

static const char csp[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
			  "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
			  "frame-ancestors 'none'; form-action 'self'";

/* ---- requests ---- */

void req_header(struct req *rq, const char *name, const char *value)
{
	if (rq->n_hdr < sizeof(rq->hdr_name) / sizeof(rq->hdr_name[0])) {
		rq->hdr_name[rq->n_hdr] = name;
		rq->hdr_value[rq->n_hdr++] = value;
	}
}

int req_error(struct req *rq, unsigned status, const char *code, const char *message,
	      size_t column)
{
	struct buf *b = &rq->body;

	buf_reset(b);
	rq->status = status;
	rq->ctype = "application/json; charset=utf-8";
	rq->n_hdr = 0;
	if (buf_puts(b, "{\"error\":{\"code\":\"") < 0 || buf_puts(b, code) < 0 ||
	    buf_puts(b, "\",\"message\":") < 0 ||
	    json_put_string(b, message, strlen(message), NULL) < 0 ||
	    (column && buf_printf(b, ",\"column\":%zu", column) < 0) || buf_puts(b, "}}") < 0)
		buf_reset(b);
	return TRAWL_EINVAL;
}

int req_fail(struct req *rq, int err)
{
	const struct route_error *e = route_error_of(err);
	const char *msg = e->message ? e->message : error_last();

	rq->is_hidden = rq->is_hidden || err == TRAWL_EPERM;
	if (e->status >= 500 && e->message) {
		/* SECURITY: L4: the detail (a file, "database is locked") is the log's, not the client's. */
		struct logline l;

		log_begin(&l, "error", "internal error");
		log_cstr(&l, "req", rq->id);
		log_cstr(&l, "error", error_last());
		log_end(&l);
	}
	req_error(rq, e->status, e->code, msg[0] ? msg : error_name(err), 0);
	return err;
}

/* Decoded parameter values live as long as the request: a small list freed at the end. */
struct param_val {
	struct param_val *next;
	char v[];
};

int req_param(const char **out, size_t *len, struct req *rq, const char *name)
{
	const char *raw = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
	struct param_val *pv;
	size_t rlen;
	int err;

	*out = NULL;
	*len = 0;
	if (!raw)
		return 0;
	rlen = strlen(raw);
	if (rlen > 3 * ROUTE_PARAM_MAX) {
		error_set("a parameter is too long");
		return TRAWL_ELIMIT;
	}
	if (!(pv = malloc(sizeof(*pv) + rlen + 1)))
		return error_nomem(NULL);
	if ((err = route_url_decode(pv->v, len, rlen, raw, rlen, true)) < 0) {
		free(pv);
		return err;
	}
	pv->next = rq->params;
	rq->params = pv;
	*out = pv->v;
	return 0;
}

const char *req_keep(struct req *rq, const char *s)
{
	size_t n = strlen(s);
	struct param_val *pv = malloc(sizeof(*pv) + n + 1);

	if (!pv)
		return NULL;
	memcpy(pv->v, s, n + 1);
	pv->next = rq->params;
	rq->params = pv;
	return pv->v;
}

const char *req_header_value(const struct req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

/* SECURITY: what an API answer or a signed-in caller's page holds stays out of caches. */
static bool is_private(const struct req *rq)
{
	return (rq->route && (rq->route->flags & ROUTE_API)) || rq->status >= 400 ||
	       rq->caller.who.kind == AUTH_SESSION || rq->caller.who.kind == AUTH_TOKEN ||
	       rq->caller.who.kind == AUTH_PROXY;
}

void server_add_common_headers(struct MHD_Response *resp, const struct req *rq)
{
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "X-Request-Id", rq->id);
	if (rq->is_https)
		MHD_add_response_header(resp, "Strict-Transport-Security",
					"max-age=31536000; includeSubDomains");
	if (is_private(rq))
		MHD_add_response_header(resp, "Cache-Control", "no-store");
}

bool server_origin_matches(const struct req *rq, const char *origin)
{
	const char *host =
		MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *scheme = rq->is_https ? "https://" : "http://";
	const char *ext = rq->s->cfg->external_host;
	size_t sl = strlen(scheme), ext_len;

	if (!origin || !host)
		return false;
	/*
	 * SECURITY: under --external-url (https only) its Host is reached over https whatever
	 * the hop to this server was: an http:// origin is another origin (a plain-HTTP page of
	 * the same host), so only https:// matches there.
	 */
	if (!ext[0] || !route_host_is_allowed(host, ext) || route_host_is_loopback(host))
		return strncasecmp(origin, scheme, sl) == 0 && strcasecmp(origin + sl, host) == 0;
	if (strncasecmp(origin, "https://", 8) != 0)
		return false;
	if (strcasecmp(origin + 8, host) == 0)
		return true;
	ext_len = strlen(ext);
	if (ext_len > 4 && strcmp(ext + ext_len - 4, ":443") == 0)
		ext_len -= 4; /* a browser leaves the default port out */
	return strlen(origin + 8) == ext_len && strncasecmp(origin + 8, ext, ext_len) == 0;
}

static void req_free(struct req *rq)
{
	struct param_val *pv = rq->params;

	while (pv) {
		struct param_val *next = pv->next;

		free(pv);
		pv = next;
	}
	if (rq->is_search_slot)
		atomic_fetch_sub(&rq->s->searches, 1);
	if (rq->is_signin_slot)
		atomic_fetch_sub(&rq->s->signins, 1);
	if (rq->is_sso_slot)
		atomic_fetch_sub(&rq->s->sso_jobs, 1);
	limits_request_end(rq);
	access_release(&rq->caller);
	snapshot_unref(rq->snap);
	buf_dispose(&rq->body);
	if (rq->in_body.ptr)
		sodium_memzero(rq->in_body.ptr, rq->in_body.cap); /* it may hold a password */
	sodium_memzero(rq->hdr_text, sizeof(rq->hdr_text)); /* it may hold a session id */
	buf_dispose(&rq->in_body);
	free(rq->uri);
	free(rq);
}

/*
 * A deferred handler on its search thread. MHD lets a suspended connection's response be
 * queued from any thread, so it is queued here and the HTTP thread only sends it: one wake-up
 * of that thread per search, not a second handler call, whose thread switches were a large
 * share of a selective search (bench/design-measurements.md).
 */
static void deferred_run(struct pool_task *t)
{
	struct req *rq = (struct req *)((char *)t - offsetof(struct req, task));
	struct MHD_Connection *conn = rq->conn;
	int err;

	error_clear();
	if ((err = rq->deferred(rq)) < 0 && !rq->status)
		req_fail(rq, err);
	if (req_respond(rq, NULL) != MHD_YES)
		atomic_store(&rq->is_queue_failed, true); /* the next handler call closes it */
	/* After the resume the request may complete and be freed on an HTTP thread at once. */
	MHD_resume_connection(conn);
}

void req_defer_on(struct req *rq, struct pool *p, int (*fn)(struct req *rq))
{
	rq->is_deferred = true;
	rq->deferred = fn;
	rq->task.run = deferred_run;
	MHD_suspend_connection(rq->conn);
	/* A server that is stopping runs it here: its cancel flag (is_stopping) ends it at once. */
	if (!pool_submit(p, &rq->task))
		deferred_run(&rq->task);
}

void req_defer(struct req *rq, int (*fn)(struct req *rq))
{
	req_defer_on(rq, rq->s->pool, fn);
}

int req_try_inline(struct req *rq, int (*fn)(struct req *rq))
{
	int err;

	rq->inline_budget_ms = HANDLERS_INLINE_BUDGET_MS;
	err = fn(rq);
	rq->inline_budget_ms = 0;
	if (err != TRAWL_EAGAIN)
		return err;
	req_defer(rq, fn);
	return 0;
}

bool req_take_signin(struct req *rq)
{
	struct srv *s = rq->s;

	if (atomic_fetch_add(&s->signins, 1) >= s->max_signins) {
		atomic_fetch_sub(&s->signins, 1);
		req_error(rq, 503, "busy", "too many sign-ins are running; retry shortly", 0);
		req_header(rq, "Retry-After", "1");
		return false;
	}
	rq->is_signin_slot = true;
	return true;
}

bool req_take_sso(struct req *rq)
{
	struct srv *s = rq->s;

	if (atomic_fetch_add(&s->sso_jobs, 1) >= s->max_sso_jobs) {
		atomic_fetch_sub(&s->sso_jobs, 1);
		req_error(rq, 503, "busy", "too many single sign-ons are running; retry shortly", 0);
		req_header(rq, "Retry-After", "2");
		return false;
	}
	rq->is_sso_slot = true;
	return true;
}

/* Sends what the handler built (or the error it set), with every header. */
enum MHD_Result req_respond(struct req *rq, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp) {
		size_t len;
		char *body;

		if (!rq->status)
			req_error(rq, 500, "internal", "internal error", 0);
		len = rq->body.len;
		body = buf_detach(&rq->body, &len);
		resp = MHD_create_response_from_buffer(len, body ? body : (void *)"",
						       body ? MHD_RESPMEM_MUST_FREE
							    : MHD_RESPMEM_PERSISTENT);
		if (!resp) {
			free(body);
			return MHD_NO;
		}
		if (!rq->ctype && rq->status != 304)
			rq->ctype = "application/json; charset=utf-8";
		if (rq->ctype)
			MHD_add_response_header(resp, "Content-Type", rq->ctype);
	}
	server_add_common_headers(resp, rq);
	for (size_t i = 0; i < rq->n_hdr; i++)
		if (!is_private(rq) || strcasecmp(rq->hdr_name[i], "Cache-Control") != 0)
			MHD_add_response_header(resp, rq->hdr_name[i], rq->hdr_value[i]);
	if (rq->status == 405)
		MHD_add_response_header(resp, "Allow", rq->allow);
	if (rq->status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"trawl\"");
	if (rq->status == 400 || rq->status == 413)
		MHD_add_response_header(resp, "Connection", "close");
	ret = MHD_queue_response(rq->conn, rq->status, resp);
	MHD_destroy_response(resp);
	rq->is_queued = true;
	return ret;
}

struct framing {
	unsigned n_cl;
	unsigned n_host;
	unsigned n_authorization;
	unsigned n_session_cookie; /* Cookie headers that name the session cookie */
	bool has_te;
	bool has_ctl;
	bool has_body;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct framing *f = cls;

	(void)kind;
	/* Bare CR, LF (an unfolded obs-fold) and other control bytes have no place in a header. */
	for (const char *p = value; p && *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			f->has_ctl = true;
	if (strcasecmp(key, "Content-Length") == 0) {
		f->n_cl++;
		f->has_body = f->has_body || strcmp(value, "0") != 0;
	} else if (strcasecmp(key, "Transfer-Encoding") == 0) {
		f->has_te = true;
		f->has_body = true;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
		f->n_host++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0) {
		f->n_authorization++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_COOKIE) == 0 && value) {
		char sid[44];

		if (secret_cookie_value(sid, value, AUTH_COOKIE_NAME) != TRAWL_ENOTFOUND)
			f->n_session_cookie++;
		sodium_memzero(sid, sizeof(sid));
	}
	return MHD_YES;
}

struct param_check {
	const struct route *route;
	const char *seen[MAX_PARAMS];
	size_t n_seen;
	const char *bad;
};

/* V4: API routes take only their own parameters, each once. */
static enum MHD_Result check_param(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct param_check *pc = cls;

	(void)kind;
	(void)value;
	if (!route_param_allowed(pc->route, key)) {
		pc->bad = "unknown parameter";
		return MHD_NO;
	}
	for (size_t i = 0; i < pc->n_seen; i++)
		if (strcmp(pc->seen[i], key) == 0) {
			pc->bad = "a parameter is given twice";
			return MHD_NO;
		}
	if (pc->n_seen == MAX_PARAMS) {
		pc->bad = "too many parameters";
		return MHD_NO;
	}
	pc->seen[pc->n_seen++] = key;
	return MHD_YES;
}

/*
 * A frontend holds no index: its searches fan out (cluster.c); the routes that read one
 * repository's files are not proxied yet and say so.
 */
static int frontend_admits(struct req *rq)
{
	const char *name = rq->route->name;

	if (strcmp(name, "search") == 0 || strcmp(name, "search_stream") == 0 ||
	    strcmp(name, "symbols") == 0 || strcmp(name, "definition") == 0 ||
	    strcmp(name, "references") == 0 || cluster_is_proxied(rq->route))
		return 0;
	req_error(rq, 503, "unavailable",
		  "this route is not served by a cluster's frontend yet (docs/operations.md, "
		  "\"Running a cluster\")",
		  0);
	return TRAWL_ENOTFOUND;
}

/*
 * Takes a search slot (R2: a bounded number of searches at once; the rest are told to come
 * back) and the index snapshot a route needs.
 */
static int take_limits(struct req *rq)
{
	struct srv *s = rq->s;

	if (rq->route->flags & ROUTE_SEARCH) {
		if (atomic_fetch_add(&s->searches, 1) >= s->max_searches) {
			atomic_fetch_sub(&s->searches, 1);
			atomic_fetch_add(&s->metrics.busy, 1);
			req_error(rq, 429, "busy", "too many searches are running; retry shortly", 0);
			req_header(rq, "Retry-After", "1");
			return TRAWL_ELIMIT;
		}
		rq->is_search_slot = true;
	}
	if (limits_request(rq) < 0)
		return TRAWL_ELIMIT;
	if ((rq->route->flags & ROUTE_INDEX) && s->cfg->role == SERVER_ROLE_FRONTEND)
		return frontend_admits(rq);
	if ((rq->route->flags & ROUTE_INDEX) && !(rq->snap = snapstore_get(s->store))) {
		req_error(rq, 503, "unavailable", "there is no index yet", 0);
		req_header(rq, "Retry-After", "5");
		return TRAWL_ENOTFOUND;
	}
	return 0;
}

/* The checks before the route is known: V6, request smuggling vectors get a 400. */
static int check_framing(struct req *rq, struct framing *fr)
{
	MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, count_framing, fr);
	/*
	 * SECURITY: only the first Host is checked below, and a proxy in front may route by
	 * another one: two Hosts are one request read two ways (RFC 9112 3.2 requires a 400).
	 */
	if (fr->n_host > 1)
		return req_error(rq, 400, "bad_request", "more than one Host header", 0);
	/*
	 * SECURITY: the credential is read from the first Authorization or Cookie header; a second
	 * one makes it ambiguous (which one a proxy or a log looked at), so it is refused.
	 */
	if (fr->n_authorization > 1 || fr->n_session_cookie > 1)
		return req_error(rq, 400, "bad_request", "more than one credential header", 0);
	if (fr->n_cl > 1 || (fr->n_cl && fr->has_te))
		return req_error(rq, 400, "bad_request", "conflicting message framing headers", 0);
	if (fr->has_ctl)
		return req_error(rq, 400, "bad_request", "a control character in a header", 0);
	/*
	 * A searcher answers signed requests only, whatever Host they name (a Service's): a page
	 * that rebinds DNS cannot sign one.
	 */
	if ((rq->s->cfg->role == SERVER_ROLE_ALL || rq->s->cfg->role == SERVER_ROLE_FRONTEND) &&
	    !route_host_is_allowed(MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_HOST),
				   rq->s->cfg->external_host))
		return req_error(
			rq, 421, "bad_host",
			rq->s->cfg->external_host[0]
				? "the Host header must name this server (its --external-url, "
				  "or localhost, 127.0.0.1 or [::1])"
				: "the Host header must name this loopback server (localhost, "
				  "127.0.0.1 or [::1])",
			0);
	return 0;
}

/*
 * The declared body length; 0 for a chunked body, whose length is not known before it is
 * read (on_request counts it as it arrives). A malformed one counts as the largest.
 */
static unsigned long long body_length(const struct req *rq)
{
	const char *cl = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	if (!cl)
		return 0;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno || end == cl || *end ? ULLONG_MAX : n;
}

/* A body's media type must be JSON: a page's plain form cannot send one (C1, Z6). */
static bool body_is_json(const struct req *rq)
{
	const char *ct = req_header_value(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = sizeof("application/json") - 1;

	return ct && strncasecmp(ct, "application/json", n) == 0 && (ct[n] == 0 || ct[n] == ';');
}

/*
 * Everything decided before a byte of the body is read: lookup -> method -> parameters ->
 * body size -> authenticate -> authorize -> CSRF -> media type. Negative when refused (rq
 * holds the answer).
 */
static int admit(struct req *rq, const char *url, const char *method)
{
	struct framing fr = { 0 };
	struct param_check pc = { 0 };
	struct route_verdict v;
	unsigned all;
	const char *origin;
	struct access_request in = {
		.auth = rq->s->auth,
		.allow_anonymous = rq->s->cfg->allow_anonymous,
		.cookie = req_header_value(rq, MHD_HTTP_HEADER_COOKIE),
		.authorization = req_header_value(rq, MHD_HTTP_HEADER_AUTHORIZATION),
		.address = rq->client_addr,
		.user_agent = req_header_value(rq, MHD_HTTP_HEADER_USER_AGENT),
	};
	int err;

	if ((err = check_framing(rq, &fr)) < 0)
		return err;
	proxy_auth_headers(&in, rq);
	err = route_match(&rq->route, &rq->args, rq->s->routes, rq->s->n_routes, url);
	if (err == TRAWL_ENOTFOUND || (err == 0 && !rq->route->handler))
		return req_error(rq, 404, "not_found", "not found", 0);
	if (err < 0)
		return req_error(rq, 400, "bad_request", error_last(), 0);
	rq->is_head = strcmp(method, "HEAD") == 0;
	rq->route = route_by_method(rq->route, rq->s->routes, rq->s->n_routes,
				    route_method_of(method), &all);
	/*
	 * A10: parameters before the caller, so that a token put in the URL is refused as such
	 * (400), whoever sends it; the log keeps only the path of any request (on_uri).
	 */
	if (rq->route->flags & ROUTE_API) {
		pc.route = rq->route;
		MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, check_param, &pc);
		if (pc.bad)
			return req_error(rq, 400, "bad_request", pc.bad, 0);
	}
	if (rq->s->cfg->role == SERVER_ROLE_SEARCHER && (err = cluster_admit_signed(rq, url)) < 0)
		return err;
	if ((err = route_admit(&v, &rq->caller, rq->route, method, fr.has_body, body_length(rq),
			       &in)) < 0) {
		route_allow(rq->allow, sizeof(rq->allow), all);
		return req_error(rq, v.status, v.code, v.message, 0);
	}
	origin = req_header_value(rq, MHD_HTTP_HEADER_ORIGIN);
	if (access_check_csrf(&rq->caller, rq->route, route_method_of(method), origin,
			      server_origin_matches(rq, origin),
			      req_header_value(rq, "Sec-Fetch-Site"),
			      req_header_value(rq, "X-CSRF-Token")) < 0)
		return req_error(rq, 403, "forbidden", error_last(), 0);
	if (fr.has_body && !body_is_json(rq))
		return req_error(rq, 415, "unsupported_media_type",
				 "the request body must be application/json", 0);
	return 0;
}

/* An admitted request: limits -> handler. */
static int run(struct req *rq)
{
	int (*handler)(struct req *rq);
	int err;

	if ((err = take_limits(rq)) < 0)
		return err;
	error_clear(); /* a handler's 4xx shows only the detail it set itself */
	/* is_deferred first: a deferred request's is_queued is its search thread's to write. */
	handler = rq->route->handler;
	/* A frontend's repository routes are its searchers' (cluster.c). */
	if (rq->s->cfg->role == SERVER_ROLE_FRONTEND && cluster_is_proxied(rq->route))
		handler = cluster_proxy;
	if ((err = handler(rq)) < 0 && !rq->is_deferred && !rq->is_queued)
		req_fail(rq, err);
	return err;
}

/* What a body over its limit may still send before the 413 (then the connection closes). */
#define BODY_DISCARD_MAX ((size_t)1 << 20)

/*
 * Appends a piece of an admitted request's body. Past the route's max_body the answer is a
 * 413, sent when the body ends (MHD queues no answer while a body arrives); what comes
 * meanwhile is discarded, up to BODY_DISCARD_MAX: negative past that (close the connection).
 */
static int take_body(struct req *rq, const char *data, size_t n)
{
	if (rq->is_body_over) {
		rq->n_discarded += n;
		return rq->n_discarded > BODY_DISCARD_MAX ? TRAWL_ELIMIT : 0;
	}
	if (buf_put(&rq->in_body, data, n) < 0) {
		rq->is_body_over = true;
		req_error(rq, 413, "too_large", "the request body is too large", 0);
	}
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)version;
	if (!rq)
		return MHD_NO; /* the URI callback failed to allocate: drop the connection */
	if (rq->is_deferred) {
		/* Resumed by deferred_run, which queued the response (or could not). */
		if (!atomic_load(&rq->is_queue_failed))
			return MHD_YES;
		return MHD_NO; /* close the connection */
	}
	if (rq->is_queued) {
		*upload_data_size = 0; /* a body we refused: discard it */
		return MHD_YES;
	}
	rq->conn = conn;
	rq->method = method;
	if (!rq->is_head_done) {
		/* The first call comes once the request line and headers are in. */
		conns_head_done(&rq->s->conns, rq->tracker);
		rq->is_head_done = true;
		proxy_request(rq);
	}
	if (!rq->is_started && *upload_data_size == 0) {
		/*
		 * MHD calls once when the headers are in and again when the (empty) body is: a
		 * response queued on the first call makes MHD close the connection, so answer on
		 * the second and keep the connection alive. A request with a body is admitted at
		 * once, before any of it is read: refused, it is answered and closed; admitted,
		 * its body is read into a buffer bounded by the route's max_body.
		 */
		struct framing fr = { 0 };

		rq->is_started = true;
		MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &fr);
		if (!fr.has_body && fr.n_cl <= 1 && !fr.has_ctl)
			return MHD_YES;
		if (admit(rq, url, method) < 0)
			return req_respond(rq, NULL);
		buf_init(&rq->in_body, rq->route->max_body);
		rq->is_reading_body = true;
		return MHD_YES;
	}
	if (rq->is_reading_body && *upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		return take_body(rq, upload_data, n) < 0 ? MHD_NO : MHD_YES;
	}
	if (rq->is_reading_body) {
		rq->is_reading_body = false;
		if (!rq->is_body_over)
			run(rq);
	} else if (admit(rq, url, method) == 0) {
		run(rq);
	}
	/*
	 * A search thread has it, or a stream queued its own response. Not is_queued first: the
	 * search thread may be setting it already (a data race, ThreadSanitizer's report).
	 */
	if (rq->is_deferred || rq->is_queued)
		return MHD_YES;
	return req_respond(rq, NULL);
}

/* Called when the request line arrives: the request's state and id start here. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct srv *s = cls;
	struct req *rq = calloc(1, sizeof(*rq));
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (!rq)
		return NULL;
	rq->s = s;
	rq->tracker = ci ? ci->socket_context : NULL;
	rq->t0 = clock_now_ms();
	snprintf(rq->id, sizeof(rq->id), "%s-%llx", s->req_prefix,
		 (unsigned long long)atomic_fetch_add(&s->next_req, 1));
	buf_init(&rq->body, (size_t)1 << 30);
	/*
	 * SECURITY: a query string may hold a secret (a token in a page URL): the log keeps the
	 * path, and a token pasted into the path is redacted. Redacting comes before the cut, so
	 * a token straddling it is not left half visible.
	 */
	rq->uri = redact_tokens(uri, strcspn(uri, "?"));
	if (rq->uri && strlen(rq->uri) > LOGGED_PATH_MAX)
		rq->uri[LOGGED_PATH_MAX] = '\0';
	return rq;
}

/* How the caller was identified, for the log and the audit trail ("none": refused before). */
static const char *caller_kind(const struct req *rq)
{
	if (!rq->caller.auth)
		return "none";
	switch (rq->caller.who.kind) {
	case AUTH_SESSION: return "session";
	case AUTH_TOKEN: return "token";
	case AUTH_LOCAL: return "local";
	case AUTH_PROXY: return "proxy";
	default: return "anonymous";
	}
}

/* SECURITY: L1, L2: who made a request, never with the credential itself. */
static const char *caller_user(const struct req *rq)
{
	const struct auth_principal *p = &rq->caller.who;

	if (p->kind == AUTH_SESSION || p->kind == AUTH_TOKEN || p->kind == AUTH_PROXY)
		return p->name;
	return p->kind == AUTH_LOCAL ? "local" : "anonymous";
}

/* The credential a request offered, by kind only: an invalid one is worth telling from none. */
static const char *credential_kind(const struct req *rq)
{
	const char *cookie = req_header_value(rq, MHD_HTTP_HEADER_COOKIE);
	char sid[AUTH_SESSION_ID_LEN + 1];
	bool has_session = cookie && secret_cookie_value(sid, cookie, AUTH_COOKIE_NAME) !=
					     TRAWL_ENOTFOUND;

	sodium_memzero(sid, sizeof(sid));
	if (req_header_value(rq, MHD_HTTP_HEADER_AUTHORIZATION))
		return "bearer";
	return has_session ? "cookie" : "none";
}

/* The audit event of a refused request, or NULL. A refused sign-in is the accounts' own. */
static const char *refusal_event(const struct req *rq)
{
	if (!rq->route || !rq->s->auth)
		return NULL;
	if (rq->status == 401 && !route_is_open(rq->route))
		return "unauthorized";
	if (rq->status == 403)
		return "forbidden";
	return rq->status == 404 && rq->is_hidden ? "not_visible" : NULL;
}

/*
 * SECURITY: L1: a refused request (401, 403, or the 404 of something the caller may not see)
 * goes to the audit trail once its answer is sent, so auditing it changes nothing the caller
 * sees, its timing included: a hidden repository still answers as a missing one does.
 * auth_audit_denied bounds a flood: per user for a signed-in caller, per address and over all
 * anonymous callers otherwise. Laptop mode audits none.
 */
static void audit_refusal(const struct req *rq)
{
	const char *event = refusal_event(rq), *method = rq->method ? rq->method : "";
	char *target = NULL;
	bool is_team = false;
	struct buf d;

	if (!event || auth_has_accounts(rq->s->auth, &is_team) < 0 || !is_team)
		return;
	if (rq->is_hidden && rq->args.name_len)
		target = redact_tokens(rq->args.name, strlen(rq->args.name));
	else
		target = redact_tokens(rq->uri ? rq->uri : "", rq->uri ? strlen(rq->uri) : 0);
	buf_init(&d, 4096);
	(void)buf_printf(&d, "{\"status\":%u,\"method\":", rq->status);
	(void)json_put_string(&d, method, strlen(method), NULL);
	(void)buf_puts(&d, ",\"route\":");
	(void)json_put_string(&d, rq->route->name, strlen(rq->route->name), NULL);
	(void)buf_printf(&d, ",\"auth\":\"%s\",\"credential\":\"%s\"", caller_kind(rq),
			 credential_kind(rq));
	if (rq->caller.who.kind == AUTH_TOKEN)
		(void)buf_printf(&d, ",\"token_id\":%lld", (long long)rq->caller.who.token_id);
	if (buf_puts(&d, "}") == 0 && buf_putc(&d, '\0') == 0)
		(void)auth_audit_denied(rq->s->auth, event, rq->caller.who.name, target ? target : "",
					rq->client_addr, d.ptr);
	buf_dispose(&d);
	free(target);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct srv *s = cls;
	struct req *rq = *con_cls;
	struct logline l;

	(void)conn;
	if (!rq)
		return;
	/* A kept-alive connection waits for its next request head from now on. */
	conns_head_start(&s->conns, rq->tracker, clock_now_ms());
	metrics_http(&s->metrics, rq->status);
	log_begin(&l, "info", "request");
	log_cstr(&l, "req", rq->id);
	log_cstr(&l, "method", rq->method);
	log_cstr(&l, "client", rq->client_addr);
	log_cstr(&l, "uri", rq->uri);
	log_num(&l, "status", rq->status);
	log_num(&l, "ms", clock_now_ms() - rq->t0);
	if (rq->route)
		log_cstr(&l, "route", rq->route->name);
	log_cstr(&l, "user", caller_user(rq));
	log_cstr(&l, "auth", caller_kind(rq));
	if (rq->caller.who.kind == AUTH_TOKEN)
		log_num(&l, "token_id", (double)rq->caller.who.token_id);
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_cstr(&l, "end", toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout"
				    : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client_abort"
				    : "error");
	log_end(&l);
	audit_refusal(rq);
	req_free(rq);
	*con_cls = NULL;
}

/* Every connection is tracked from accept to close (conns.c). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct srv *s = cls;
	const union MHD_ConnectionInfo *fd, *addr;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		conns_closed(&s->conns, *socket_context);
		*socket_context = NULL;
		return;
	}
	fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (fd)
		conns_opened(socket_context, &s->conns, fd->connect_fd, addr ? addr->client_addr : NULL,
			     clock_now_ms());
}

/* MHD's URL unescaping is off: the dispatcher decodes each part itself (route.c). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	log_msg("warn", "http", "detail", msg);
}

/*
 * Every connection is a descriptor: a soft limit below the connection limits would refuse
 * clients in accept(), before conns.c can displace a slow one. Raised up to the hard limit.
 */
static void raise_fd_limit(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		log_msg("warn", "the open file limit is below what --max-conns needs", NULL, NULL);
}

static int limits_start(struct srv *s, const struct server_config *cfg, bool is_team)
{
	/* Laptop mode: one local user, whose own scripts are not an attack; see server.h. */
	uint32_t search_default = is_team ? SERVER_RATE_SEARCH : 0;
	struct limits_config lc = {
		.rate_search =
			cfg->rate_search == SERVER_RATE_DEFAULT ? search_default : cfg->rate_search,
		.rate_signin = cfg->rate_signin == SERVER_RATE_DEFAULT ? SERVER_RATE_SIGNIN
								       : cfg->rate_signin,
		.rate_tokens = cfg->rate_tokens == SERVER_RATE_DEFAULT ? SERVER_RATE_TOKENS
								       : cfg->rate_tokens,
		.max_searches = s->max_searches,
		.user_max_searches = cfg->user_max_searches,
	};

	return limits_init(&s->limits, &lc);
}

/*
 * Opens DATA's accounts, says on stderr which mode the server runs in, and checks that it may
 * listen where it was asked to (server_check_exposure).
 */
static int open_accounts(struct srv *s, const struct server_config *cfg, bool *is_team)
{
	struct auth_user *users = NULL;
	size_t n_users = 0;
	bool has_admin = false;
	char msg[512];
	struct auth_config ac = {
		.audit_retention_s = (int64_t)cfg->audit_retention_days * 24 * 60 * 60,
		.audit_refusal_retention_s =
			(int64_t)cfg->audit_refusal_retention_days * 24 * 60 * 60,
		.audit_max_rows = (int64_t)cfg->audit_max_rows, /* at most 2^40: trawl serve checks */
		.external_token_max_s = cfg->sso.external_token_max_s,
		.groups_prefix = cfg->sso.groups_prefix,
		.is_db_checked = true,
	};
	int err;

	if ((err = auth_open(&s->auth, cfg->data_dir, &ac)) < 0 ||
	    (err = auth_user_list(&users, &n_users, s->auth)) < 0 ||
	    (err = auth_has_admin(s->auth, &has_admin)) < 0)
		goto out;
	*is_team = n_users > 0;
	if (*is_team)
		snprintf(msg, sizeof(msg), "team mode: %zu account%s: every request must sign in",
			 n_users, n_users == 1 ? "" : "s");
	else
		snprintf(msg, sizeof(msg),
			 "laptop mode: no accounts: open to this machine only; "
			 "create the first administrator with `trawl user add NAME --admin --data "
			 "%s` to turn on sign-in",
			 cfg->data_dir);
	log_msg("info", msg, "mode", *is_team ? "team" : "laptop");
	/* A searcher's one data route answers signed requests only; an indexer has none. */
	if (cfg->role == SERVER_ROLE_ALL || cfg->role == SERVER_ROLE_FRONTEND)
		err = server_check_exposure(cfg, has_admin);
out:
	if (users)
		auth_users_free(users, n_users);
	return err;
}

/*
 * Until SIGINT or SIGTERM; a SIGHUP meanwhile reloads the TLS certificate and key, and a
 * frontend's --searchers-file or --searchers-dns.
 */
static void wait_for_stop(struct srv *s, const sigset_t *sigs, struct tls_creds *tls)
{
	int sig;

	while (sigwait(sigs, &sig) == 0 && sig != SIGINT && sig != SIGTERM) {
		if (sig == SIGHUP)
			server_cluster_reload(s);
		if (sig != SIGHUP || !tls)
			continue;
		if (tls_creds_reload(tls) == 0)
			log_msg("info", "SIGHUP: TLS certificate and key reloaded", NULL, NULL);
		else
			log_msg("error",
				"SIGHUP: the new TLS certificate and key are refused; the previous "
				"ones are still served",
				"detail", error_last());
	}
}

/* The start's log line: the data directory and the database (its URL without a password). */
static void log_listening(const struct server_config *cfg)
{
	char *where = store_location(cfg->data_dir);
	char *shown = where ? store_display_name(where) : NULL;
	struct logline l;

	log_begin(&l, "info", "listening");
	log_cstr(&l, "data", cfg->data_dir);
	if (shown)
		log_cstr(&l, "database", shown);
	log_end(&l);
	free(shown);
	free(where);
}

static void print_url(const struct srv *s, const struct server_config *cfg)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	char host[INET6_ADDRSTRLEN];
	unsigned port = di ? di->port : 0;

	if (cfg->addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&cfg->addr)->sin6_addr, host,
			  sizeof(host));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&cfg->addr)->sin_addr, host,
			  sizeof(host));
	printf(cfg->addr.ss_family == AF_INET6 ? "trawl: serving on %s://[%s]:%u/\n"
					       : "trawl: serving on %s://%s:%u/\n",
	       s->is_tls ? "https" : "http", host, port);
	fflush(stdout);
	log_listening(cfg);
}

int server_run(const struct server_config *cfg)
{
	struct srv s = { .cfg = cfg };
	struct sched *sc = NULL;
	char *index_dir = NULL;
	unsigned char rnd[4] = { 0 };
	pthread_t ticker;
	bool has_ticker = false;
	unsigned flags, n_threads;
	unsigned max_conns = cfg->max_conns ? cfg->max_conns : SERVER_MAX_CONNS;
	/* A searcher's few clients are the frontends, each with a connection per search. */
	unsigned max_per_client = cfg->max_conns_per_client ? cfg->max_conns_per_client
				  : cfg->role == SERVER_ROLE_SEARCHER ? max_conns
								      : SERVER_MAX_CONNS_PER_CLIENT;
	unsigned header_timeout_s = cfg->header_timeout_s ? cfg->header_timeout_s
							  : SERVER_HEADER_TIMEOUT_S;
	bool has_conns = false;
	sigset_t sigs;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int err = 0;
	struct tls_creds *tls = NULL;
	struct MHD_OptionItem tls_opts[TLS_N_OPTIONS] = { { MHD_OPTION_END, 0, NULL } };
	bool has_limits = false, is_team = false;

	s.n_cpus = ncpu > 0 ? (unsigned)ncpu : 1;
	n_threads = cfg->n_threads ? cfg->n_threads : (s.n_cpus * 2 < 4 ? 4 : s.n_cpus * 2);
	s.max_searches = cfg->max_searches ? cfg->max_searches : 4 * s.n_cpus + 4;
	s.query_mem = (cfg->query_mem_mib ? cfg->query_mem_mib : SERVER_QUERY_MEM_MIB) << 20;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd[0] = (unsigned char)getpid();
	snprintf(s.req_prefix, sizeof(s.req_prefix), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
		 rnd[3]);
	pthread_mutex_init(&s.streams_lock, NULL);

	/*
	 * SECURITY: the spawner is forked while the process holds nothing and has no thread; then
	 * the server confines itself before it opens its accounts or starts a thread (sandbox.c).
	 */
	if ((err = server_sandbox_start(&s)) < 0 || (err = server_sandbox_confine(&s)) < 0)
		goto out;

	/* Signals are taken with sigwait below: block them before any thread starts. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	/*
	 * With TLS, SIGHUP reloads the certificate, and with --searchers-file or --searchers-dns
	 * the searcher set (wait_for_stop); without any, it still stops.
	 */
	if (cfg->tls_cert || cfg->searchers_file || cfg->searchers_dns)
		sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	s.routes = server_routes;
	s.n_routes = n_server_routes;
	if (cfg->role == SERVER_ROLE_SEARCHER) {
		s.routes = cluster_searcher_routes;
		s.n_routes = n_cluster_searcher_routes;
	} else if (cfg->role == SERVER_ROLE_INDEXER) {
		s.routes = cluster_indexer_routes;
		s.n_routes = n_cluster_indexer_routes;
	}
	if ((err = server_cluster_start(&s)) < 0 || (err = open_accounts(&s, cfg, &is_team)) < 0 ||
	    (err = handlers_sso_open(&s, is_team)) < 0 ||
	    (cfg->tls_cert && (err = tls_creds_open(&tls, cfg->tls_cert, cfg->tls_key)) < 0))
		goto out;
	s.is_tls = tls != NULL;
	if (s.is_tls)
		tls_creds_options(tls_opts, tls);
	if (!(index_dir = malloc(strlen(cfg->data_dir) + sizeof("/index")))) {
		err = error_nomem(NULL);
		goto out;
	}
	memcpy(index_dir, cfg->data_dir, strlen(cfg->data_dir));
	memcpy(index_dir + strlen(cfg->data_dir), "/index", sizeof("/index"));
	if ((err = snapstore_start(&s.store, index_dir)) < 0 ||
	    (err = conns_init(&s.conns, max_conns, max_per_client, header_timeout_s)) < 0)
		goto out;
	has_conns = true;
	if ((err = limits_start(&s, cfg, is_team)) < 0)
		goto out;
	has_limits = true;
	raise_fd_limit(2 * (rlim_t)max_conns + 256);
	/* As many search threads as search slots: a slot holder never waits for a thread. */
	if ((err = pool_start(&s.pool, s.max_searches)) < 0)
		goto out;
	/*
	 * SECURITY: a password hash takes a CPU and 256 MiB for up to a second or two; on an HTTP
	 * thread a few sign-ins stalled every connection that thread held. One hash per CPU runs
	 * at once, as many more wait, and the rest are told to come back (req_take_signin).
	 */
	s.max_signins = 2 * s.n_cpus;
	if ((err = pool_start(&s.signin_pool, s.n_cpus)) < 0)
		goto out;
	/*
	 * SECURITY: single sign-on waits on the provider (up to its fetch timeout), not on a CPU:
	 * it gets threads of its own, so a slow provider and anyone who can send callbacks hold
	 * those and never the password sign-ins'.
	 */
	s.max_sso_jobs = 2 * SERVER_SSO_THREADS;
	if (cfg->sso.issuer && (err = pool_start(&s.sso_pool, SERVER_SSO_THREADS)) < 0)
		goto out;
	/* A commit permalink read from a mirror waits on its worker process (handlers_mirror.c). */
	if ((err = pool_start(&s.mirror_pool, MIRROR_MAX_WORKERS)) < 0)
		goto out;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
		MHD_USE_ERROR_LOG;
	if (cfg->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (s.is_tls)
		flags |= MHD_USE_TLS;
	s.d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, &s,
		/* The logger first: MHD uses its own stderr logger for options parsed before it. */
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &cfg->addr,
		MHD_OPTION_THREAD_POOL_SIZE, n_threads,
		/*
		 * conns.c enforces the limits; MHD's own total (split between its threads) is a
		 * backstop above them, with room for displaced connections still closing.
		 */
		MHD_OPTION_CONNECTION_LIMIT, 2 * max_conns, MHD_OPTION_CONNECTION_TIMEOUT,
		cfg->conn_timeout_s ? cfg->conn_timeout_s : 30, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)CONN_MEMORY_LIMIT, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, &s, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, &s, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape,
		NULL, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
	if (!s.d) {
		err = server_listen_explain(cfg);
		goto out;
	}
	if ((err = stream_ticker_start(&s, &ticker)) < 0)
		goto out;
	has_ticker = true;
	if ((err = conns_sweep_start(&s.conns)) < 0)
		goto out;
	if (cfg->sync_interval_s &&
	    (cfg->role == SERVER_ROLE_ALL || cfg->role == SERVER_ROLE_INDEXER) &&
	    (err = sched_start(&sc, cfg, &s.metrics, &s.sync_wanted)) < 0)
		goto out;
	print_url(&s, cfg);
	wait_for_stop(&s, &sigs, tls);
	log_msg("info", "stopping", NULL, NULL);
out:
	atomic_store(&s.is_stopping, true);
	sched_stop(sc);
	/*
	 * MHD forbids stopping with suspended connections. The JSON searches see is_stopping as
	 * their cancel flag, end, and resume their connections before their threads are joined.
	 */
	pool_stop(s.pool);
	pool_stop(s.signin_pool);
	pool_stop(s.sso_pool);
	pool_stop(s.mirror_pool);
	if (s.d) {
		/* Then wake every stream. */
		streams_cancel_all(&s);
		MHD_quiesce_daemon(s.d);
	}
	if (has_ticker)
		pthread_join(ticker, NULL);
	if (s.d) {
		streams_cancel_all(&s);
		MHD_stop_daemon(s.d);
	}
	pool_free(s.pool);
	pool_free(s.signin_pool);
	pool_free(s.sso_pool);
	pool_free(s.mirror_pool);
	if (has_conns)
		conns_dispose(&s.conns);
	if (has_limits)
		limits_dispose(&s.limits);
	tls_creds_close(tls);
	server_cluster_stop(&s);
	snapstore_stop(s.store);
	handlers_sso_close(&s);
	if (s.auth)
		auth_close(s.auth);
	pthread_mutex_destroy(&s.streams_lock);
	free(index_dir);
	server_sandbox_stop();
	return err;
}
