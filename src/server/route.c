/* Route matching, percent decoding and path confinement (route.h). */
#include "server/route.h"

#include "server/access.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/utf8.h"
#include "util/error.h"
#include "util/hex.h"
#include "util/json.h"

int route_url_decode(char *out, size_t *out_len, size_t out_max, const char *in, size_t in_len,
		     bool is_query)
{
	size_t o = 0;

	*out_len = 0;
	out[0] = 0;
	for (size_t i = 0; i < in_len; i++) {
		char c = in[i];

		if (c == '%') {
			int hi = i + 2 < in_len ? hex_digit((unsigned char)in[i + 1]) : -1;
			int lo = i + 2 < in_len ? hex_digit((unsigned char)in[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				error_set("malformed percent-encoding");
				return TRAWL_EINVAL;
			}
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && is_query) {
			c = ' ';
		}
		if (c == 0) {
			error_set("a NUL byte in the request");
			return TRAWL_EINVAL;
		}
		if (o == out_max) {
			error_set("a request value is over %zu bytes", out_max);
			return TRAWL_ELIMIT;
		}
		out[o++] = c;
	}
	out[o] = 0;
	*out_len = o;
	return 0;
}

/* Matches one pattern; 1 = match, 0 = no match, <0 = matched with a malformed {name}. */
static int match_one(const struct route *r, struct route_args *args, const char *path)
{
	const char *p = r->pattern, *s = path;

	while (*p) {
		const char *pe = strchr(p, '/'), *se;
		size_t plen = pe ? (size_t)(pe - p) : strlen(p);

		if (plen == 1 && p[0] == '*' && !pe) {
			args->rest = s;
			return 1;
		}
		se = strchr(s, '/');
		size_t slen = se ? (size_t)(se - s) : strlen(s);

		if (plen == 6 && memcmp(p, "{name}", 6) == 0) {
			int err;

			if (slen == 0)
				return 0;
			if ((err = route_url_decode(args->name, &args->name_len, ROUTE_NAME_MAX, s,
						    slen, false)) < 0)
				return err;
		} else if (plen != slen || memcmp(p, s, plen) != 0) {
			return 0;
		}
		if (!pe)
			return se ? 0 : 1;
		if (!se)
			return 0;
		p = pe + 1;
		s = se + 1;
	}
	return *s == 0;
}

int route_match(const struct route **out, struct route_args *args, const struct route *table,
		size_t n, const char *path)
{
	*out = NULL;
	memset(args, 0, sizeof(*args));
	if (path[0] != '/') {
		error_set("the request path must start with '/'");
		return TRAWL_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		int m = match_one(&table[i], args, path + 1);

		if (m < 0)
			return m;
		if (m == 0) {
			memset(args, 0, sizeof(*args));
			continue;
		}
		if (args->name_len && !utf8_is_valid((const uint8_t *)args->name, args->name_len)) {
			error_set("the repository name is not valid UTF-8");
			return TRAWL_EINVAL;
		}
		*out = &table[i];
		return 0;
	}
	error_set("no such route");
	return TRAWL_ENOTFOUND;
}

const struct route *route_by_method(const struct route *r, const struct route *table, size_t n,
				    unsigned method, unsigned *all)
{
	const struct route *found = NULL;

	*all = 0;
	for (const struct route *o = r; o < table + n && strcmp(o->pattern, r->pattern) == 0; o++) {
		*all |= o->methods;
		if (!found && (o->methods & method))
			found = o;
	}
	return found ? found : r;
}

bool route_is_open(const struct route *r)
{
	return r->auth == ROUTE_AUTH_NONE && r->perm == ROUTE_PERM_NONE;
}

bool route_param_allowed(const struct route *r, const char *name)
{
	for (size_t i = 0; r->params && r->params[i]; i++)
		if (strcmp(r->params[i], name) == 0)
			return true;
	return false;
}

static const struct {
	const char *name;
	unsigned bit;
} methods[] = {
	{ "GET", ROUTE_GET },   { "HEAD", ROUTE_HEAD },     { "POST", ROUTE_POST },
	{ "PUT", ROUTE_PUT },   { "DELETE", ROUTE_DELETE },
};

unsigned route_method_of(const char *method)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, method) == 0)
			return methods[i].bit;
	return 0;
}

void route_allow(char *out, size_t n, unsigned bits)
{
	size_t len = 0;

	if (n == 0)
		return;
	out[0] = 0;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		int k;

		if (!(bits & methods[i].bit))
			continue;
		k = snprintf(out + len, n - len, "%s%s", len ? ", " : "", methods[i].name);
		if (k < 0 || (size_t)k >= n - len) {
			out[len] = 0; /* whole names only */
			return;
		}
		len += (size_t)k;
	}
}

static int refuse(struct route_verdict *v, unsigned status, const char *code, const char *msg,
		  int err)
{
	v->status = status;
	v->code = code;
	v->message = msg;
	return err;
}

int route_admit(struct route_verdict *v, struct access_caller *caller, const struct route *r,
		const char *method, bool has_body, unsigned long long body_len,
		const struct access_request *in)
{
	int err;

	*v = (struct route_verdict){ 0 };
	if (!(route_method_of(method) & r->methods)) {
		route_allow(v->allow, sizeof(v->allow), r->methods);
		return refuse(v, 405, "method_not_allowed",
			      r->methods == (ROUTE_GET | ROUTE_HEAD)
				      ? "only GET and HEAD are allowed"
				      : "the method is not allowed on this route (see Allow)",
			      TRAWL_EUNSUPPORTED);
	}
	if (has_body && r->max_body == 0)
		return refuse(v, 400, "bad_request", "this route takes no request body", TRAWL_EINVAL);
	if (has_body && body_len > r->max_body)
		return refuse(v, 413, "too_large", "the request body is too large", TRAWL_ELIMIT);
	if ((err = access_authenticate(caller, in, r)) == TRAWL_EAUTH)
		return refuse(v, 401, "unauthorized", ROUTE_UNAUTHORIZED_MSG, err);
	if (err < 0)
		return refuse(v, 500, "internal", "internal error", err);
	if ((err = access_authorize(caller, r)) == TRAWL_EAUTH)
		return refuse(v, 401, "unauthorized", ROUTE_UNAUTHORIZED_MSG, err);
	if (err < 0)
		return refuse(v, 403, "forbidden", "this route is not open to the caller", err);
	return 0;
}

static const struct route_error errors[] = {
	{ TRAWL_EINVAL, 400, "bad_request", NULL },
	{ TRAWL_ELIMIT, 400, "bad_request", NULL },
	{ TRAWL_EUNSUPPORTED, 400, "bad_request", NULL },
	{ TRAWL_ETIMEOUT, 400, "bad_request", NULL }, /* a pattern took too long to compile */
	{ TRAWL_ENOTFOUND, 404, "not_found", NULL },
	/* SECURITY: hidden is missing: the same status, code and message. */
	{ TRAWL_EPERM, 404, "not_found", "not found" },
	{ TRAWL_EAUTH, 401, "unauthorized", NULL },
	{ 0, 500, "internal", "internal error" },
};

const struct route_error *route_error_of(int err)
{
	size_t i = 0;

	while (errors[i].err != 0 && errors[i].err != err)
		i++;
	return &errors[i];
}

int route_path_check(const char *path, size_t len)
{
	size_t start = 0;

	if (len == 0)
		return 0;
	if (path[0] == '/') {
		error_set("the path must be relative to the repository root");
		return TRAWL_EINVAL;
	}
	/*
	 * SECURITY: a git path is any bytes but NUL, and the handlers only compare it with the
	 * index's paths (never open a file by it), so a backslash, a control character or a '%'
	 * is part of a name. Only '/' separates components, and it is the only byte that can
	 * climb out: the "." and ".." checks below run on the decoded path, so "..%2F" is "../".
	 */
	if (memchr(path, 0, len)) {
		error_set("a NUL byte in the path");
		return TRAWL_EINVAL;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		size_t n = i - start;

		if (n == 0 || (n == 1 && path[start] == '.') ||
		    (n == 2 && path[start] == '.' && path[start + 1] == '.')) {
			error_set("the path has an empty, \".\" or \"..\" component");
			return TRAWL_EINVAL;
		}
		start = i + 1;
	}
	return 0;
}

/* Whether s[0..n) is a decimal port, 1..65535, or empty. */
static bool port_ok(const char *s, size_t n)
{
	unsigned long v = 0;

	/* A colon with no port after it is no port at all: refused rather than guessed. */
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* Whether s[0..n) is a dotted-quad IPv4 address starting 127. */
static bool ipv4_loopback(const char *s, size_t n)
{
	char tmp[16];
	struct in_addr a;

	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	return inet_pton(AF_INET, tmp, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

bool route_host_is_loopback(const char *host)
{
	const char *colon;
	size_t n;

	if (!host)
		return false;
	n = strlen(host);
	if (strncmp(host, "[::1]", 5) == 0)
		return n == 5 || (host[5] == ':' && port_ok(host + 6, n - 6));
	colon = memchr(host, ':', n);
	if (colon && !port_ok(colon + 1, n - (size_t)(colon + 1 - host)))
		return false;
	if (colon)
		n = (size_t)(colon - host);
	return (n == 9 && strncasecmp(host, "localhost", 9) == 0) || ipv4_loopback(host, n);
}

bool route_host_split(const char *host, size_t *name_len, unsigned *port)
{
	size_t n = strlen(host), name_n;
	const char *p;
	unsigned long v = 443;

	if (host[0] == '[') {
		const char *rb = strchr(host, ']');
		char tmp[INET6_ADDRSTRLEN];
		struct in6_addr a6;

		if (!rb || (size_t)(rb - host - 1) >= sizeof(tmp))
			return false;
		memcpy(tmp, host + 1, (size_t)(rb - host - 1));
		tmp[rb - host - 1] = 0;
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return false;
		p = rb + 1;
	} else {
		p = host + strcspn(host, ":");
		for (const char *c = host; c < p; c++)
			if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.')
				return false;
	}
	name_n = (size_t)(p - host);
	if (name_n == 0 || (*p && *p != ':'))
		return false;
	if (*p == ':') {
		if (!port_ok(p + 1, n - name_n - 1) || !p[1])
			return false;
		v = strtoul(p + 1, NULL, 10);
	}
	if (name_len)
		*name_len = name_n;
	if (port)
		*port = (unsigned)v;
	return true;
}

bool route_host_is_allowed(const char *host, const char *external)
{
	size_t hn, en;
	unsigned hp, ep;

	if (route_host_is_loopback(host))
		return true;
	if (!host || !external || !external[0] || !route_host_split(host, &hn, &hp) ||
	    !route_host_split(external, &en, &ep))
		return false;
	return hn == en && hp == ep && strncasecmp(host, external, hn) == 0;
}

int route_sse_event(struct buf *b, const char *name, const char *data, size_t len)
{
	int err;

	if ((err = buf_puts(b, "event: ")) < 0 || (err = buf_puts(b, name)) < 0 ||
	    (err = buf_puts(b, "\ndata: ")) < 0)
		return err;
	for (size_t i = 0; i < len; i++) {
		size_t j = i;

		while (j < len && data[j] != '\n' && data[j] != '\r')
			j++;
		if ((err = buf_put(b, data + i, j - i)) < 0)
			return err;
		if (j < len) {
			if (data[j] == '\r' && j + 1 < len && data[j + 1] == '\n')
				j++;
			if ((err = buf_puts(b, "\ndata: ")) < 0)
				return err;
		}
		i = j;
	}
	return buf_puts(b, "\n\n");
}
