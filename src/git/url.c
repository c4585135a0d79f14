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
#include <strings.h>
#include <sys/socket.h>

#include "util/error.h"
#include "util/repourl.h"

#define HOST_MAX 255

static const char allow_hint[] =
	"allowed: https://, ssh:// or user@host:path, git://; http:// with --allow-insecure; "
	"file:// and local paths with --allow-local";

static const char creds_hint[] =
	"put credentials in DATA/credentials instead (docs/operations.md, \"Credentials\") and add "
	"the URL without them";

void gurl_dispose(struct gurl *u)
{
	if (!u)
		return;
	free(u->user);
	free(u->host);
	free(u->port);
	free(u->path);
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
 * and ':' for IPv6; never starting with '-' (ssh would take "-oProxyCommand=..." as an option).
 * So a '%' escape never reaches a host: "%40" cannot hide an '@'. */
static bool host_ok(const char *h, size_t len)
{
	if (len == 0 || len > HOST_MAX || h[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr(".-_:", h[i]))
			return false;
	return true;
}

/* The port's value (1-65535), or 0 when p[0..len) is not one. */
static unsigned port_value(const char *p, size_t len)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v <= 65535 ? (unsigned)v : 0;
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
 * SECURITY: refuses a URL that may carry a secret, naming where it is but quoting none of it:
 * the scheme and host are shown only when they are plainly a scheme and a host name.
 */
static int refuse_secret(const struct repourl *r, const char *where, const char *what)
{
	char origin[HOST_MAX + 40] = "";
	/* With an '@' after it, the "host" of a scp-like address may itself be a token. */
	bool host_shown = r->host_len <= HOST_MAX + 8 &&
			  !(r->form == REPOURL_SCP && memchr(r->path, '@', r->path_len));

	for (size_t i = 0; host_shown && i < r->host_len; i++)
		host_shown = isalnum((unsigned char)r->host[i]) || strchr(".-_:[]", r->host[i]);
	if (r->form == REPOURL_SCHEME)
		snprintf(origin, sizeof(origin), "%.*s://", (int)r->scheme_len, r->scheme);
	snprintf(origin + strlen(origin), sizeof(origin) - strlen(origin), "%s%.*s%s", where,
		 host_shown ? (int)r->host_len : 3, host_shown ? r->host : "...",
		 r->form == REPOURL_SCP ? ":..." : "/...");
	error_set("repository URL refused: %s holds %s; %s", origin, what, creds_hint);
	return TRAWL_EPERM;
}

/*
 * SECURITY: nothing that can carry a secret gets through: libgit2 sends a user name (even
 * "ghp_TOKEN", or "alice%3apw", which it decodes to alice:pw) as Basic authentication, and the
 * URL would be stored, listed and returned by the API. Only ssh keeps a login name, which is
 * not a secret and which ssh needs.
 */
static int check_secrets(const struct repourl *r)
{
	if (r->query)
		return refuse_secret(r, "", "a query string (\"?...\"), which may carry a token");
	if (r->fragment)
		return refuse_secret(r, "", "a fragment (\"#...\"), which may carry a token");
	for (size_t i = 0; r->form == REPOURL_SCP && i < r->path_len; i++)
		if (r->path[i] == '@')
			return refuse_secret(r, "", "an '@' after the host (libgit2 would take what comes "
						    "before it as user information)");
	if (!r->userinfo)
		return 0;
	if (!repourl_is_ssh(r))
		return refuse_secret(r, "***@", "user information (a user name, password or token "
						"before '@', which would be sent as Basic "
						"authentication)");
	if (memchr(r->userinfo, ':', r->userinfo_len))
		return refuse_secret(r, "***@", "a password (user:password@)");
	if (!repourl_user_ok(r->userinfo, r->userinfo_len))
		return refuse_secret(r, "***@", "a user name that is not a plain login name (1-64 "
						"letters, digits, '.', '_', '-'; no '%' escapes)");
	return 0;
}

/* Splits the authority's "host[:port]" (scheme form) or "host" (scp-like) into u->host, u->port. */
static int parse_host(struct gurl *u, const char *h, size_t len, bool has_port)
{
	const char *end = h + len, *colon = NULL;

	if (h < end && *h == '[') {
		const char *rb = memchr(h, ']', len);

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
			colon = memchr(h, ':', len);
		u->host = strndup(h, (size_t)((colon ? colon : end) - h));
	}
	if (!u->host)
		return error_nomem(NULL);
	if (!host_ok(u->host, strlen(u->host)))
		return malformed("missing or invalid host name");
	if (colon) {
		if (!port_value(colon + 1, (size_t)(end - colon - 1)))
			return malformed("invalid port");
		if (!(u->port = strndup(colon + 1, (size_t)(end - colon - 1))))
			return error_nomem(NULL);
	}
	return 0;
}

static int parse_scheme(struct gurl *u, const struct repourl *r, const struct gurl_policy *p)
{
	static const struct {
		const char *name;
		enum gurl_kind kind;
	} schemes[] = {
		{ "https", GURL_HTTPS }, { "http", GURL_HTTP },  { "ssh", GURL_SSH },
		{ "git+ssh", GURL_SSH }, { "ssh+git", GURL_SSH }, { "git", GURL_GIT },
		{ "file", GURL_LOCAL },
	};
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(*schemes); i++)
		if (r->scheme_len == strlen(schemes[i].name) &&
		    strncasecmp(r->scheme, schemes[i].name, r->scheme_len) == 0)
			break;
	if (i == sizeof(schemes) / sizeof(*schemes))
		return refuse(allow_hint);
	u->kind = schemes[i].kind;
	if (u->kind == GURL_HTTP && !p->allow_insecure)
		return refuse("http:// is not encrypted; use https://, or --allow-insecure");
	if (u->kind == GURL_LOCAL && !p->allow_local)
		return refuse("file:// reads this machine's files; allow it with --allow-local");
	if (u->kind == GURL_LOCAL && (r->host_len || r->userinfo || r->path_len == 0))
		return malformed("file:// needs an absolute path (file:///path)");
	return 0;
}

int gurl_parse(struct gurl *out, const char *url, const struct gurl_policy *p)
{
	struct repourl r;
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
	for (i = 0; isalnum((unsigned char)url[i]) || (url[i] && strchr("+.-_", url[i])); i++)
		;
	if (i > 0 && url[i] == ':' && url[i + 1] == ':')
		return refuse("transport helper syntax (ext::, fd::, ...::) is never allowed");
	repourl_split(&r, url);
	if (r.form == REPOURL_PATH) {
		out->kind = GURL_LOCAL;
		return p->allow_local ? 0
				      : refuse("a local path reads this machine's files; allow it with "
					       "--allow-local");
	}
	for (i = 0; i < r.scheme_len; i++)
		if (!isalnum((unsigned char)r.scheme[i]) && !strchr("+.-", r.scheme[i]))
			return refuse(allow_hint);
	if (strpbrk(url, " \t"))
		return malformed("it holds spaces");
	out->kind = GURL_SSH; /* scp-like [user@]host:path, as git reads it: a ':' before any '/' */
	if ((err = check_secrets(&r)) < 0 ||
	    (r.form == REPOURL_SCHEME && (err = parse_scheme(out, &r, p)) < 0))
		goto out;
	if (out->kind == GURL_LOCAL)
		return 0;
	if ((err = parse_host(out, r.host, r.host_len, r.form == REPOURL_SCHEME)) < 0)
		goto out;
	if ((r.userinfo && !(out->user = strndup(r.userinfo, r.userinfo_len))) ||
	    !(out->path = strndup(r.path, r.path_len)))
		err = error_nomem(NULL);
out:
	if (err < 0)
		gurl_dispose(out);
	return err;
}

const char *gurl_port(const struct gurl *u)
{
	if (u->port)
		return u->port;
	switch (u->kind) {
	case GURL_HTTPS: return "443";
	case GURL_HTTP: return "80";
	case GURL_SSH: return "22";
	case GURL_GIT: return "9418";
	default: return "";
	}
}

static bool host_equal(const char *a, const char *b)
{
	struct in6_addr x, y;

	if (strchr(a, ':') && strchr(b, ':') && inet_pton(AF_INET6, a, &x) == 1 &&
	    inet_pton(AF_INET6, b, &y) == 1)
		return memcmp(&x, &y, sizeof(x)) == 0;
	return strcasecmp(a, b) == 0;
}

/* The next non-empty segment of a path at *p (advanced past it); false at the end. */
static bool next_segment(const char **seg, size_t *len, const char **p)
{
	while (**p == '/')
		(*p)++;
	if (!**p)
		return false;
	*seg = *p;
	*len = strcspn(*p, "/");
	*p += *len;
	return true;
}

/* "." or "..", also as "%2e" escapes: a server may resolve them to another repository. */
static bool is_dot_segment(const char *s, size_t len)
{
	size_t dots = 0;

	for (size_t i = 0; i < len; dots++)
		if (s[i] == '.')
			i++;
		else if (len - i >= 3 && strncasecmp(s + i, "%2e", 3) == 0)
			i += 3;
		else
			return false;
	return dots == 1 || dots == 2;
}

bool gurl_prefix_match(size_t *score, const struct gurl *prefix, const struct gurl *u)
{
	const char *pp = prefix->path, *up = u->path, *ps, *us;
	size_t pl, ul, n = 0;
	bool has_dots = false;

	*score = 0;
	if (prefix->kind != u->kind || u->kind == GURL_LOCAL || !prefix->host || !u->host ||
	    !host_equal(prefix->host, u->host))
		return false;
	if (port_value(gurl_port(prefix), strlen(gurl_port(prefix))) !=
	    port_value(gurl_port(u), strlen(gurl_port(u))))
		return false;
	if (prefix->user && u->user && strcmp(prefix->user, u->user) != 0)
		return false;
	while (next_segment(&us, &ul, &up))
		has_dots |= is_dot_segment(us, ul);
	up = u->path;
	while (next_segment(&ps, &pl, &pp)) {
		if (has_dots || !next_segment(&us, &ul, &up) || pl != ul || memcmp(ps, us, pl) != 0)
			return false;
		n++;
	}
	*score = 2 * n + (prefix->user != NULL) + 1;
	return true;
}

/* The next whitespace-separated field of a credentials line at *p, or NULL at its end. */
static char *next_field(char **p)
{
	char *f = *p + strspn(*p, " \t\r");

	if (!*f)
		return NULL;
	*p = f + strcspn(f, " \t\r");
	if (**p)
		*(*p)++ = '\0';
	return f;
}

/*
 * SECURITY: parsed, never compared as text: "http://127.0.0.1:70" must not match port 7099,
 * nor "https://git.example.com" the host git.example.com.evil.net.
 */
bool gurl_creds_find(char **user, char **secret, char *text, const char *url)
{
	static const struct gurl_policy any = { true, true, true };
	struct gurl u;
	size_t best = 0;
	char *next = text;

	*user = *secret = NULL;
	if (gurl_parse(&u, url, &any) < 0)
		return false;
	while (next && *next) {
		char *line = next, *f[4], *p = line;
		struct gurl pre;
		size_t score, n = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '#')
			continue;
		while (n < 4 && (f[n] = next_field(&p)))
			n++;
		if (n != 3 || gurl_parse(&pre, f[0], &any) < 0)
			continue;
		if (gurl_prefix_match(&score, &pre, &u) && score > best) {
			best = score;
			*user = f[1];
			*secret = f[2];
		}
		gurl_dispose(&pre);
	}
	gurl_dispose(&u);
	return best > 0;
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
