/* Repository URL policy and address checks; see url.h. */
#include "git/url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/error.h"

#define HOST_MAX 255

static const char allow_hint[] =
	"allowed: https://, ssh:// or user@host:path, git://; http:// with --allow-insecure; "
	"file:// and local paths with --allow-local";

void gurl_dispose(struct gurl *u)
{
	if (!u)
		return;
	free(u->host);
	free(u->port);
	memset(u, 0, sizeof(*u));
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A host name or an IP literal (brackets already removed): letters, digits, '.', '-', '_',
 * and ':' for IPv6; never starting with '-' (ssh would take "-oProxyCommand=..." as an option). */
static bool host_ok(const char *h, size_t len)
{
	if (len == 0 || len > HOST_MAX || h[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr(".-_:", h[i]))
			return false;
	return true;
}

static bool port_ok(const char *p, size_t len)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

static int nomem(void)
{
	error_set("out of memory");
	return TRAWL_ENOMEM;
}

static int refuse(const char *why)
{
	error_set("repository URL refused: %s", why);
	return TRAWL_EPERM;
}

static int malformed(const char *why)
{
	error_set("repository URL malformed: %s", why);
	return TRAWL_EINVAL;
}

/*
 * Splits "[user[:password]@]host[:port]" (the authority of a URL, or of an scp-like address
 * with has_port false) into u->host and u->port.
 */
static int parse_authority(struct gurl *u, const char *a, size_t len, bool has_port)
{
	const char *at = NULL, *h, *end = a + len, *colon = NULL;

	for (const char *c = a; c < end; c++)
		if (*c == '@')
			at = c;
	if (at) {
		/* SECURITY: a password in the URL would be stored and shown; refuse it. */
		if (memchr(a, ':', (size_t)(at - a)))
			return refuse("it holds a password (user:password@); put credentials in the "
				      "credentials file instead (docs/operations.md)");
		if (at == a)
			return malformed("empty user name before '@'");
	}
	h = at ? at + 1 : a;
	if (h < end && *h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (!rb)
			return malformed("unterminated '[' in the host");
		u->host = strndup(h + 1, (size_t)(rb - h - 1));
		if (rb + 1 < end) {
			if (!has_port || rb[1] != ':')
				return malformed("unexpected text after the IPv6 address");
			colon = rb + 1;
		}
	} else {
		if (has_port)
			colon = memchr(h, ':', (size_t)(end - h));
		u->host = strndup(h, (size_t)((colon ? colon : end) - h));
	}
	if (!u->host)
		return nomem();
	if (!host_ok(u->host, strlen(u->host)))
		return malformed("missing or invalid host name");
	if (colon) {
		if (!port_ok(colon + 1, (size_t)(end - colon - 1)))
			return malformed("invalid port");
		if (!(u->port = strndup(colon + 1, (size_t)(end - colon - 1))))
			return nomem();
	}
	return 0;
}

static int parse_scheme_url(struct gurl *u, const char *url, const char *sep,
			    const struct gurl_policy *p)
{
	char scheme[16];
	size_t slen = (size_t)(sep - url);
	const char *auth = sep + 3, *slash;

	if (slen >= sizeof(scheme))
		return refuse(allow_hint);
	for (size_t i = 0; i < slen; i++)
		scheme[i] = (char)tolower((unsigned char)url[i]);
	scheme[slen] = 0;
	if (strcmp(scheme, "https") == 0)
		u->kind = GURL_HTTPS;
	else if (strcmp(scheme, "http") == 0)
		u->kind = GURL_HTTP;
	else if (strcmp(scheme, "ssh") == 0 || strcmp(scheme, "git+ssh") == 0 ||
		 strcmp(scheme, "ssh+git") == 0)
		u->kind = GURL_SSH;
	else if (strcmp(scheme, "git") == 0)
		u->kind = GURL_GIT;
	else if (strcmp(scheme, "file") == 0)
		u->kind = GURL_LOCAL;
	else
		return refuse(allow_hint);
	if (u->kind == GURL_HTTP && !p->allow_insecure)
		return refuse("http:// is not encrypted; use https://, or --allow-insecure");
	if (u->kind == GURL_LOCAL) {
		if (!p->allow_local)
			return refuse("file:// reads this machine's files; allow it with --allow-local");
		if (auth[0] != '/')
			return malformed("file:// needs an absolute path (file:///path)");
		return 0;
	}
	slash = strchr(auth, '/');
	return parse_authority(u, auth, slash ? (size_t)(slash - auth) : strlen(auth), true);
}

int gurl_parse(struct gurl *out, const char *url, const struct gurl_policy *p)
{
	const char *sep, *colon, *slash;
	size_t i;
	int err;

	memset(out, 0, sizeof(*out));
	if (!url[0])
		return malformed("empty");
	/* SECURITY: V2: a URL is passed to libgit2 only, but a leading '-' is never an option. */
	if (url[0] == '-')
		return refuse("it starts with '-'");
	if (has_control(url))
		return refuse("it holds control characters");
	/* SECURITY: P1: "<transport>::<address>" runs a remote helper (ext:: runs a command). */
	for (i = 0; isalnum((unsigned char)url[i]) || strchr("+.-_", url[i]); i++)
		;
	if (i > 0 && url[i] == ':' && url[i + 1] == ':')
		return refuse("transport helper syntax (ext::, fd::, ...::) is never allowed");
	sep = strstr(url, "://");
	slash = strchr(url, '/');
	if (sep && (!slash || sep < slash)) {
		for (const char *c = url; c < sep; c++)
			if (!isalnum((unsigned char)*c) && !strchr("+.-", *c))
				return refuse(allow_hint);
		if (strpbrk(url, " \t"))
			return malformed("it holds spaces");
		err = parse_scheme_url(out, url, sep, p);
	} else if ((colon = strchr(url, ':')) && (!slash || colon < slash)) {
		/* scp-like [user@]host:path, as git reads it: a ':' before any '/'. */
		out->kind = GURL_SSH;
		if (strpbrk(url, " \t"))
			return malformed("it holds spaces");
		err = parse_authority(out, url, (size_t)(colon - url), false);
	} else {
		out->kind = GURL_LOCAL;
		err = p->allow_local ? 0
				     : refuse("a local path reads this machine's files; allow it with "
					      "--allow-local");
	}
	if (err < 0)
		gurl_dispose(out);
	return err;
}

/* Whether an IPv4 address (network byte order bytes) is one trawl must not reach by default. */
static bool v4_blocked(const uint8_t a[4])
{
	return a[0] == 0 ||                                 /* 0.0.0.0/8: "this network" */
	       a[0] == 10 ||                                /* RFC 1918 */
	       a[0] == 127 ||                               /* loopback */
	       (a[0] == 100 && (a[1] & 0xc0) == 64) ||      /* 100.64.0.0/10: CGNAT */
	       (a[0] == 169 && a[1] == 254) ||              /* link-local, cloud metadata */
	       (a[0] == 172 && (a[1] & 0xf0) == 16) ||      /* RFC 1918 */
	       (a[0] == 192 && a[1] == 168) ||              /* RFC 1918 */
	       (a[0] == 192 && a[1] == 0 && a[2] == 0) ||   /* IETF protocol assignments */
	       (a[0] == 198 && (a[1] & 0xfe) == 18) ||      /* 198.18.0.0/15: benchmarking */
	       a[0] >= 224;                                 /* multicast, reserved, broadcast */
}

static bool v6_blocked(const uint8_t a[16])
{
	static const uint8_t zero[12] = { 0 };
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };

	/* ::/96 holds :: (unspecified), ::1 (loopback) and the deprecated IPv4-compatible form. */
	if (memcmp(a, zero, 12) == 0)
		return true;
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return v4_blocked(a + 12);
	if (a[0] == 0x20 && a[1] == 0x02) /* 2002::/16: 6to4 embeds an IPv4 address */
		return v4_blocked(a + 2);
	return (a[0] & 0xfe) == 0xfc ||                   /* fc00::/7: unique local */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || /* fe80::/10: link-local */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) || /* fec0::/10: old site-local */
	       a[0] == 0xff;                              /* multicast */
}

bool gurl_addr_blocked(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_blocked((const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return v6_blocked(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
	return true; /* anything else is not an internet address */
}

int gurl_check_host(const char *host, const char *port, const struct gurl_policy *p)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int rc, err = 0;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		error_set("cannot resolve host %s: %s", host, gai_strerror(rc));
		return TRAWL_ENOTFOUND;
	}
	for (struct addrinfo *ai = res; ai && !p->allow_private; ai = ai->ai_next) {
		char addr[INET6_ADDRSTRLEN] = "?";

		if (!gurl_addr_blocked(ai->ai_addr))
			continue;
		getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
		error_set("repository host %s resolves to %s, a loopback, private, link-local or "
			  "reserved address; allow it with --allow-private", host, addr);
		err = TRAWL_EPERM;
		break;
	}
	freeaddrinfo(res);
	return err;
}
