/*
 * The routes that read one repository, on a cluster's frontend (docs/internals/cluster.md):
 * checked here, then sent signed to the repository's searcher, whose answer becomes the
 * caller's; and the searcher's check of such signed requests (cluster_admit_signed).
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
/* ---- the routes of one repository: proxied to its owner ---- */

/*
 * The routes that read one repository ({name}) and nothing else: a frontend sends them to the
 * repository's searcher, under "/internal" + the same path and query, signed. Not definition
 * or references, which read other repositories the searcher cannot tell apart: handlers_nav.c
 * asks the owner for the identifier only (cluster_owner_get), then fans out.
 */
static const char *const proxied[] = { "tree", "file", "raw", "readme", "paths", "outline" };

bool cluster_is_internal(const struct route *r)
{
	return strncmp(r->name, "internal_", 9) == 0;
}

bool cluster_is_proxied(const struct route *r)
{
	for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
		if (strcmp(r->name, proxied[i]) == 0)
			return true;
	return false;
}

struct query_out {
	struct buf *b;
	size_t mark; /* where the query starts: no '&' before its first pair */
};

static enum MHD_Result put_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct query_out *q = cls;

	(void)kind;
	/* Keys and values are as the client sent them (the server unescapes nothing itself). */
	if ((q->b->len > q->mark && buf_putc(q->b, '&') < 0) || buf_puts(q->b, key) < 0 ||
	    (value && (buf_putc(q->b, '=') < 0 || buf_puts(q->b, value) < 0)))
		return MHD_NO;
	return MHD_YES;
}

/* Appends "?" and the query as received (nothing when there is none), then a NUL. ENOMEM. */
static int put_query(struct buf *b, const struct req *rq)
{
	struct query_out q = { b, 0 };

	if (buf_putc(b, '?') < 0)
		return TRAWL_ENOMEM;
	q.mark = b->len;
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, put_arg, &q);
	if (b->len == q.mark)
		b->len--; /* no query: no '?' */
	return buf_putc(b, 0) < 0 ? TRAWL_ENOMEM : 0;
}

/*
 * The searcher's target of a proxied route: "/internal/" + the route's pattern with {name}
 * percent-encoded from the decoded name (what the searcher decodes back), and the query as
 * received. NUL-terminated. ENOMEM.
 */
static int internal_target(struct buf *b, const struct req *rq, const char *pat)
{
	const char *brace = strstr(pat, "{name}");
	int err = 0;

	if (!brace || (err = buf_puts(b, "/internal/")) < 0 ||
	    (err = buf_put(b, pat, (size_t)(brace - pat))) < 0)
		return err < 0 ? err : TRAWL_EINVAL;
	for (size_t i = 0; i < rq->args.name_len && err == 0; i++) {
		unsigned char ch = (unsigned char)rq->args.name[i];

		err = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
				      ch == '-' || ch == '_' || ch == '.' || ch == '~'
			      ? buf_putc(b, (char)ch)
			      : buf_printf(b, "%%%02X", ch);
	}
	if (err < 0 || (err = buf_puts(b, brace + 6)) < 0)
		return err;
	return put_query(b, rq);
}

int cluster_admit_signed(struct req *rq, const char *url)
{
	struct cluster_srv *c = rq->s->cluster;
	struct buf target;
	int err;

	/* Health needs none. */
	if (!cluster_is_internal(rq->route))
		return 0;
	/*
	 * A POST (the internal search, definitions): its headers before its body is read (a forged
	 * request is refused unread), the body itself and the nonce in its handler
	 * (cluster_verify_body).
	 */
	if (rq->route->methods & ROUTE_POST) {
		char path[128];
		struct cluster_req q = { rq->s->cfg->self, rq->method, path };

		snprintf(path, sizeof(path), "/%s", rq->route->pattern);
		if (cluster_verify_head(c->replay, &c->key,
					req_header_value(rq, CLUSTER_SIGN_HEADER), &q,
					req_header_value(rq, CLUSTER_HASH_HEADER), cluster_now_s()) == 0)
			return 0;
		req_error(rq, 401, "unauthorized", "unauthorized", 0);
		return TRAWL_EAUTH;
	}
	buf_init(&target, 1 << 16);
	err = buf_puts(&target, url) < 0 ? TRAWL_ENOMEM : put_query(&target, rq);
	if (err == 0 && cluster_verify_signed(rq, target.ptr, "", 0) < 0)
		err = TRAWL_EAUTH;
	buf_dispose(&target);
	if (err < 0)
		req_error(rq, 401, "unauthorized", "unauthorized", 0);
	return err;
}

/* The answer's headers a proxied route sets itself (handlers_repos.c). */
static size_t on_proxy_header(char *data, size_t size, size_t n, void *arg)
{
	/* The searcher's own security headers are the frontend's to set (but raw's sandbox). */
	static const char *const relayed[] = { "Content-Type", "Link", "Content-Security-Policy",
					       "Content-Disposition" };
	struct req *rq = arg;
	size_t len = size * n, k;

	for (size_t i = 0; i < sizeof(relayed) / sizeof(relayed[0]); i++) {
		char value[1024];

		k = strlen(relayed[i]);
		if (len <= k + 1 || strncasecmp(data, relayed[i], k) != 0 || data[k] != ':')
			continue;
		snprintf(value, sizeof(value), "%.*s", (int)(len - k - 1), data + k + 1);
		value[strcspn(value, "\r\n")] = 0;
		if (i == 2 && strcmp(value + strspn(value, " "), "sandbox") != 0)
			continue;
		if (i == 0)
			rq->ctype = req_keep(rq, value + strspn(value, " "));
		else
			req_header(rq, relayed[i], req_keep(rq, value + strspn(value, " ")));
	}
	return len;
}

static size_t on_proxy_body(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	return buf_put(b, data, size * n) < 0 ? 0 : size * n;
}

/*
 * GETs "/internal/" + pattern ({name} the request's) with the request's query from the owner
 * of {name}, signed: its status into *status and its body into out, its headers relayed onto
 * rq when is_relay. 0, or TRAWL_EIO when the owner did not answer (logged).
 */
static int owner_get(struct req *rq, const char *pattern, struct buf *out, long *status,
		     bool is_relay)
{
	struct cluster_srv *c = rq->s->cluster;
	struct set_ref *sr;
	const struct cluster_node *node;
	char sig[CLUSTER_SIG_MAX], hdr[CLUSTER_SIG_MAX + 32], url[CLUSTER_HOST_MAX + 32];
	struct buf target, full;
	struct curl_slist *headers = NULL;
	CURL *h = NULL;
	CURLcode res = CURLE_FAILED_INIT;
	int err = 0;

	*status = 0;
	sr = cluster_srv_take_set(c);
	node = &sr->set.v[cluster_owner(&sr->set, rq->args.name)];
	buf_init(&target, 1 << 16);
	buf_init(&full, 1 << 17);
	snprintf(url, sizeof(url), "http://%s:%u", node->host, node->port);
	if (internal_target(&target, rq, pattern) == 0 && buf_puts(&full, url) == 0 &&
	    buf_put(&full, target.ptr, target.len) == 0 && (h = curl_easy_init()) != NULL) {
		cluster_sign_for(sig, &c->key, node, "GET", target.ptr, "", 0);
		snprintf(hdr, sizeof(hdr), CLUSTER_SIGN_HEADER ": %s", sig);
		headers = curl_slist_append(NULL, hdr);
		curl_easy_setopt(h, CURLOPT_URL, full.ptr);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
		if (is_relay) {
			curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_proxy_header);
			curl_easy_setopt(h, CURLOPT_HEADERDATA, rq);
		}
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_proxy_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)QUERY_MAX_TIMEOUT_MS);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		buf_reset(out);
		if (headers && (res = curl_easy_perform(h)) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	}
	if (res != CURLE_OK || *status < 200 || *status > 599) {
		struct logline l;

		log_begin(&l, "warn", "a searcher did not answer a repository route");
		log_cstr(&l, "searcher", node->name);
		log_cstr(&l, "error", res != CURLE_OK ? curl_easy_strerror(res) : "a bad status");
		log_end(&l);
		buf_reset(out);
		err = TRAWL_EIO;
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	buf_dispose(&target);
	buf_dispose(&full);
	cluster_srv_put_set(sr);
	return err;
}

int cluster_owner_unavailable(struct req *rq)
{
	buf_reset(&rq->body);
	return req_error(rq, 503, "unavailable", "the searcher of this repository did not answer",
			 0);
}

int cluster_owner_get(struct req *rq, const char *pattern, struct buf *out, long *status)
{
	return owner_get(rq, pattern, out, status, false);
}

/* On a pool thread: the owner's answer becomes this request's. */
static int proxy_run(struct req *rq)
{
	long status;

	if (owner_get(rq, rq->route->pattern, &rq->body, &status, true) < 0)
		cluster_owner_unavailable(rq);
	else
		rq->status = (unsigned)status;
	return 0;
}

int cluster_proxy(struct req *rq)
{
	int err;

	/* SECURITY: the caller's access, here: the searcher reads whatever it is sent for. */
	if ((err = access_check_repo(&rq->caller, rq->args.name)) < 0)
		return err;
	req_defer(rq, proxy_run);
	return 0;
}
