/*
 * Who is asking, and what they may do: the one place that decides a request's identity, its
 * rights on a route and the repositories it may read. The dispatcher fills a caller in before
 * any handler runs; handlers and the search only ever see the readable set it yields.
 *
 * Until trawl has accounts the server listens on loopback only, every caller is anonymous and
 * reads every repository; the accounts' lookup replaces the bodies of these functions, not
 * their callers.
 */
#ifndef TRAWL_SERVER_ACCESS_H
#define TRAWL_SERVER_ACCESS_H

#include <stdbool.h>

#include "search/search.h"
#include "server/route.h"

/* The caller of one request, as established by access_authenticate. */
struct access_caller {
	bool is_authenticated; /* signed in (never, until accounts exist) */
	unsigned perms;        /* enum route_perm bits the caller holds */
};

/*
 * Establishes the caller of a request on route r. EAUTH when r needs a signed-in caller and
 * there is none (a 401). Never fails for a route whose rule is ROUTE_AUTH_NONE.
 */
int access_authenticate(struct access_caller *out, const struct route *r);

/*
 * SECURITY: whether caller c may use route r. Deny by default: a route whose authentication
 * or permission column is unset is refused, as is one needing a permission c does not hold.
 * EPERM with a message naming the route.
 */
int access_authorize(const struct access_caller *c, const struct route *r);

/*
 * SECURITY: the repositories c may read: the set every search of c runs over and every
 * repository lookup checks. Borrowed for the life of c.
 */
const struct search_repos *access_readable_repos(const struct access_caller *c);

/*
 * SECURITY: whether c may read repository name. EPERM when not: callers answer it exactly as
 * a repository that does not exist (route_error_of maps both to one 404).
 */
int access_check_repo(const struct access_caller *c, const char *name);

#endif
