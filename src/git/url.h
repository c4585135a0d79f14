/*
 * Repository URL policy (SECURITY-CHECKLIST P1, V2): which remote URLs trawl fetches from and
 * which addresses it connects to. Pure C, no libgit2: the mirror code (mirror.c) and its
 * connection hook use it, and it is unit-tested on its own.
 *
 * Allowed: https://; ssh:// and scp-like [user@]host:path; git://; http:// only when the
 * operator allows insecure transports; file:// and local paths only when the operator allows
 * local sources. Refused with a message: every other scheme (ext::, fd::, anything holding
 * "::"), a URL starting with '-', control characters or spaces, a password in the URL
 * (credentials belong in the credentials file, so they never reach the database or a log).
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
	char *host; /* without brackets; NULL for GURL_LOCAL */
	char *port; /* NULL for the scheme's default */
};

/*
 * Parses url and checks it against the policy (not the host's addresses: gurl_check_host).
 * EPERM for a URL the policy refuses (the message says which rule and how to allow it when it
 * can be allowed), EINVAL for a malformed one, ENOMEM. Messages never quote the URL's user
 * information.
 */
int gurl_parse(struct gurl *out, const char *url, const struct gurl_policy *p);
void gurl_dispose(struct gurl *u);

/* Whether the address is loopback, private, link-local, unspecified, CGNAT, ... (see above). */
bool gurl_addr_blocked(const struct sockaddr *sa);

/*
 * Resolves host and refuses it (EPERM) when any address it resolves to is blocked and the
 * policy does not allow private hosts; ENOTFOUND when it does not resolve.
 */
int gurl_check_host(const char *host, const char *port, const struct gurl_policy *p);

#endif
