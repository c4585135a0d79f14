/*
 * Who is asking, and what they may do: the one place that decides a request's identity, its
 * rights on a route, the repositories it may read and whether a state-changing request is
 * same-origin. The dispatcher fills a caller in before any handler runs; handlers and the
 * search only ever see the readable set it yields.
 *
 * The identity itself is the accounts module's answer (auth_identify, src/auth/auth.h): a
 * session cookie, an API token, the user an authentication proxy names (auth_identify_proxy),
 * the local user of laptop mode (no account exists: every right, as before accounts existed)
 * or nobody.
 */
#ifndef TRAWL_SERVER_ACCESS_H
#define TRAWL_SERVER_ACCESS_H

#include <stdbool.h>

#include "auth/auth.h"
#include "search/search.h"
#include "server/route.h"

/* What a request offers to be identified by: its credentials and where it comes from. */
struct access_request {
	struct auth *auth;         /* the server's accounts (never NULL in a server) */
	const char *cookie;        /* the Cookie header, or NULL */
	const char *authorization; /* the Authorization header, or NULL */
	const char *address;       /* the client address as text, after trusted proxies */
	const char *user_agent;    /* or NULL */
	/*
	 * SECURITY: an authentication proxy's word, set by the caller only when
	 * --auth-proxy-header is configured and the request's direct peer is a --trusted-proxy
	 * (from anyone else the header is ignored: these stay NULL). proxy_user is the header's
	 * value; proxy_groups the groups header's (comma-separated), when that header is
	 * configured (has_proxy_groups). is_proxy_repeated: a header came more than once.
	 */
	const char *proxy_user;
	const char *proxy_groups;
	bool allow_anonymous; /* --allow-anonymous: anyone may read public repositories */
	bool has_proxy_groups;
	bool is_proxy_repeated;
};

/* The most groups a proxy's groups header may list (more: a 401). */
#define ACCESS_PROXY_GROUPS_MAX AUTH_GROUPS_MAX

/* The caller of one request, as established by access_authenticate. */
struct access_caller {
	struct auth_principal who;
	struct auth *auth;         /* borrowed from the server */
	const char *address;       /* borrowed from the request, for the audit trail */
	const struct search_repos *readable; /* computed on first use, released by access_release */
	unsigned perms;                      /* enum route_perm bits the caller holds */
	bool is_authenticated; /* a session, a token or the local user (not anonymous) */
	bool allow_anonymous;
	bool is_readable_done;
};

/*
 * The caller as the audit trail names it (auth_actor; borrowed from c). Laptop mode's local
 * user has no account name: the trail says "local".
 */
static inline struct auth_actor access_actor(const struct access_caller *c)
{
	return (struct auth_actor){ .name = c->who.kind == AUTH_LOCAL ? "local" : c->who.name,
				    .address = c->address };
}

/*
 * Establishes the caller of a request on route r from in. EAUTH (a 401) for a malformed,
 * unknown, expired or revoked credential on a route that needs a permission, and for a route
 * needing a signed-in caller when there is none; with in->proxy_user, for a user name that
 * fails auth_name_check, a disabled user, more than one proxy header, or a session cookie or
 * token sent along (ambiguous, as a cookie with a token is); EIO when the accounts cannot be read (a 500:
 * fail closed). An open route (route_is_open) never fails with EAUTH: a bad credential counts
 * as none there, so a stale cookie cannot keep a browser from the sign-in page. *out is
 * overwritten: it must hold no readable set (access_release first).
 */
int access_authenticate(struct access_caller *out, const struct access_request *in,
			const struct route *r);

/*
 * SECURITY: whether caller c may use route r. Deny by default: a route whose authentication
 * or permission column is unset is refused, as is one needing a permission c does not hold.
 * EAUTH when c is anonymous (the answer is "sign in": 401), else EPERM (403), with a message
 * naming the route.
 */
int access_authorize(const struct access_caller *c, const struct route *r);

/*
 * SECURITY (C1): whether a request with method (enum route_method) may change state. Every
 * POST, PUT and DELETE: an Origin header, when present, must be the server's own
 * (is_own_origin: server_origin_matches); a Sec-Fetch-Site header, when present, must be
 * same-origin or none; a caller signed in by its session cookie must send the session's CSRF
 * token in csrf (compared in constant time), except on an open route (route_is_open: signing
 * in), which acts for nobody. Other methods pass. EPERM with a message (never echoing a
 * header).
 */
int access_check_csrf(const struct access_caller *c, const struct route *r, unsigned method,
		      const char *origin, bool is_own_origin, const char *sec_fetch_site,
		      const char *csrf);

/*
 * SECURITY: the repositories c may read (auth_readable_repos, looked up once per request, on
 * first use): the set every search of c runs over and every repository lookup checks. NULL
 * when the lookup failed: the caller fails closed (a 500, no results). Borrowed until
 * access_release.
 */
const struct search_repos *access_readable_repos(struct access_caller *c);

/*
 * SECURITY: whether c may read repository name. EPERM when not: callers answer it exactly as
 * a repository that does not exist (route_error_of maps both to one 404). EIO when the
 * readable set cannot be had.
 */
int access_check_repo(struct access_caller *c, const char *name);

/*
 * Hands c's readable set (after access_readable_repos) to a caller that outlives the request
 * (a stream's search thread), which releases it with auth_repos_release. NULL when none.
 */
const struct search_repos *access_take_readable(struct access_caller *c);

/* Whether c is an administrator (or the local user): index-wide figures are theirs only. */
bool access_is_admin(const struct access_caller *c);

/* Releases what the caller holds (its readable set). Safe to call twice. */
void access_release(struct access_caller *c);

#endif
