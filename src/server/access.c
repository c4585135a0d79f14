/* Callers, route rules and readable repositories (access.h). */
#include "server/access.h"

#include "util/error.h"

int access_authenticate(struct access_caller *out, const struct route *r)
{
	/* No accounts yet: every caller is anonymous and holds the read permission. */
	*out = (struct access_caller){ .is_authenticated = false, .perms = ROUTE_PERM_READ };
	if (r->auth == ROUTE_AUTH_USER && !out->is_authenticated) {
		error_set("route %s needs a signed-in caller", r->name);
		return TRAWL_EAUTH;
	}
	return 0;
}

int access_authorize(const struct access_caller *c, const struct route *r)
{
	/* SECURITY: deny by default: a route nobody gave a rule to is nobody's. */
	if (r->auth == ROUTE_AUTH_UNSET || r->perm == ROUTE_PERM_UNSET) {
		error_set("route %s has no access rule", r->name);
		return TRAWL_EPERM;
	}
	if (r->auth == ROUTE_AUTH_USER && !c->is_authenticated) {
		error_set("route %s needs a signed-in caller", r->name);
		return TRAWL_EPERM;
	}
	if ((c->perms & (unsigned)r->perm) != (unsigned)r->perm) {
		error_set("route %s needs a permission the caller does not hold", r->name);
		return TRAWL_EPERM;
	}
	return 0;
}

const struct search_repos *access_readable_repos(const struct access_caller *c)
{
	static const struct search_repos all = { .is_all = true };

	(void)c;
	return &all;
}

int access_check_repo(const struct access_caller *c, const char *name)
{
	if (!search_repos_has(access_readable_repos(c), name)) {
		error_set("not found");
		return TRAWL_EPERM;
	}
	return 0;
}
