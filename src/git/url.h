/*
 * Repository URL policy (SECURITY-CHECKLIST P1, V2): which remote URLs trawl fetches from and
 * which addresses it connects to. Pure C, no libgit2: the mirror code (mirror.c) and its
 * connection hook use it, and it is unit-tested on its own.
 *
 * Allowed: https://; ssh:// and scp-like [user@]host:path; git://; http:// only when the
 * operator allows insecure transports; file:// and local paths only when the operator allows
 * local sources. Refused with a message: every other scheme (ext::, fd::, anything holding
 * "::"), a URL starting with '-', control characters or spaces, and anything that can carry a
 * secret: user information in an http(s)://, git:// or file:// URL (a token as user name is
 * sent as Basic authentication), a password or anything but a plain login name before an ssh
 * host, a query string or a fragment. Credentials belong in the credentials file, so they never
 * reach the database, a log or the API; no message quotes the refused part.
 *
 * Addresses: a host is resolved and every address it resolves to is checked; loopback, private
 * (RFC 1918, fc00::/7), link-local (the 169.254.169.254 metadata service included), unspecified,
 * CGNAT, multicast and reserved addresses are refused unless the operator allows private hosts.
 * IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by it.
 */
#ifndef TRAWL_GIT_URL_H
#define TRAWL_GIT_URL_H

#include <stdbool.h>
#include <stddef.h>

struct sockaddr;

struct gurl_policy {
	bool allow_insecure; /* http:// */
	bool allow_local;    /* file:// and local paths */
	bool allow_private;  /* hosts resolving to loopback, private, link-local, ... */
};

enum gurl_kind {
	GURL_HTTPS,
	GURL_HTTP,
	GURL_SSH,
	GURL_GIT,
	GURL_LOCAL, /* a local path or file:// */
};

struct gurl {
	enum gurl_kind kind;
	char *user; /* ssh's login name, or NULL */
	char *host; /* without brackets; NULL for GURL_LOCAL */
	char *port; /* NULL for the scheme's default */
	char *path; /* as written ("" when none); NULL for GURL_LOCAL */
};

/*
 * Parses url and checks it against the policy (not the host's addresses: gurl_check_host).
 * EPERM for a URL the policy refuses (the message says which rule and how to allow it when it
 * can be allowed), EINVAL for a malformed one, ENOMEM. Messages never quote the URL's user
 * information.
 */
int gurl_parse(struct gurl *out, const char *url, const struct gurl_policy *p);
void gurl_dispose(struct gurl *u);

/* u's port, or its scheme's default ("443", "80", "22", "9418"); "" for GURL_LOCAL. */
const char *gurl_port(const struct gurl *u);

/*
 * Whether the credentials entry for prefix applies to u: same scheme, same host (letters
 * compared without case, IPv6 literals by address), same port (a prefix without one means the
 * scheme's default), the prefix's user name if it has one equal to u's if u has one, and the
 * prefix's path segments the first segments of u's (whole segments, empty ones ignored, so
 * trailing slashes do not matter). A URL with a "." or ".." segment is matched by host-wide
 * prefixes only. *score (when true) ranks matches: more segments, then a user name, win.
 * Never true for GURL_LOCAL.
 */
bool gurl_prefix_match(size_t *score, const struct gurl *prefix, const struct gurl *u);

/*
 * The credentials file's entry for url: text holds "PREFIX USER SECRET" lines ('#' comments,
 * fields separated by spaces or tabs); the entry whose PREFIX matches url best
 * (gurl_prefix_match: the most path segments win, the first line on a tie) gives *user and
 * *secret, pointers into text, which is modified. false when none matches (both NULL then). A
 * line that is not three fields, or whose prefix is not a URL trawl accepts, matches nothing.
 */
bool gurl_creds_find(char **user, char **secret, char *text, const char *url);

/* Whether the address is loopback, private, link-local, unspecified, CGNAT, ... (see above). */
bool gurl_addr_blocked(const struct sockaddr *sa);

/*
 * Resolves host and refuses it (EPERM) when any address it resolves to is blocked and the
 * policy does not allow private hosts; ENOTFOUND when it does not resolve.
 */
int gurl_check_host(const char *host, const char *port, const struct gurl_policy *p);

#endif
