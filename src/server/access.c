/* Callers, route rules, readable repositories and the CSRF check (access.h). */
#include "server/access.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "auth/secret.h"
#include "util/error.h"

/* The route permissions a principal's scopes give: the admin scope includes reading. */
static unsigned perms_of(const struct auth_principal *p, bool allow_anonymous)
{
	unsigned perms = 0;

	if (p->kind == AUTH_ANONYMOUS)
		return allow_anonymous ? ROUTE_PERM_READ : 0;
	if (p->scopes & AUTH_SCOPE_SEARCH)
		perms |= ROUTE_PERM_READ;
	if (p->scopes & AUTH_SCOPE_ADMIN)
		perms |= ROUTE_PERM_READ | ROUTE_PERM_ADMIN;
	return perms;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Splits a groups header ("eng, ops") in place into v (at most ACCESS_PROXY_GROUPS_MAX),
 * blanks around each name dropped, empty names skipped. ELIMIT past the bound.
 */
static int groups_split(const char **v, size_t *n, char *s)
{
	*n = 0;
	while (s && *s) {
		char *end = strchr(s, ','), *next = end ? end + 1 : NULL;

		if (!end)
			end = s + strlen(s);
		while (s < end && is_blank(*s))
			s++;
		while (end > s && is_blank(end[-1]))
			end--;
		if (end > s) {
			if (*n == ACCESS_PROXY_GROUPS_MAX)
				return TRAWL_ELIMIT;
			*end = 0;
			v[(*n)++] = s;
		}
		s = next;
	}
	return 0;
}

/*
 * SECURITY: the user an authentication proxy names (in->proxy_user is set only for a trusted
 * peer). A session cookie or a token besides it is ambiguous: refused, never one preferred.
 */
static int identify_proxy(struct auth_principal *who, const struct access_request *in,
			  bool has_cookie, const struct auth_origin *from, const char *route)
{
	struct auth_external ext = { .source = AUTH_SOURCE_PROXY, .name = in->proxy_user,
				     .has_groups = in->has_proxy_groups };
	const char **groups = NULL;
	char *copy = NULL;
	int err;

	if (has_cookie || in->authorization || in->is_proxy_repeated) {
		error_set("route %s: the proxy's user header came with a session cookie, a token "
			  "or twice: ambiguous",
			  route);
		return TRAWL_EAUTH;
	}
	if (auth_name_check(in->proxy_user) < 0) {
		error_set("route %s: the proxy's user header is not a valid user name", route);
		return TRAWL_EAUTH;
	}
	if (in->proxy_groups) {
		if (!(copy = strdup(in->proxy_groups)) ||
		    !(groups = malloc(ACCESS_PROXY_GROUPS_MAX * sizeof(*groups)))) {
			err = error_nomem(NULL);
			goto out;
		}
		if (groups_split(groups, &ext.n_groups, copy) < 0) {
			error_set("route %s: the proxy's groups header lists more than %d groups",
				  route, ACCESS_PROXY_GROUPS_MAX);
			err = TRAWL_EAUTH;
			goto out;
		}
		ext.groups = groups;
	}
	err = auth_identify_proxy(who, in->auth, &ext, from);
	/* A name or group the accounts refuse is the proxy's bad credential: a 401. */
	if (err == TRAWL_EINVAL || err == TRAWL_EPERM)
		err = TRAWL_EAUTH;
out:
	free(groups);
	free(copy);
	return err;
}

int access_authenticate(struct access_caller *out, const struct access_request *in,
			const struct route *r)
{
	struct auth_origin from = { .address = in->address, .user_agent = in->user_agent };
	bool is_open = route_is_open(r);
	char cookie[44];
	int err = 0;

	*out = (struct access_caller){ .auth = in->auth, .allow_anonymous = in->allow_anonymous,
				       .address = in->address };
	if (!in->auth) {
		error_set("route %s: the server has no accounts store open", r->name);
		return TRAWL_EIO;
	}
	/* Other cookies of the host are no credential: only ours, once and well-formed, is. */
	if (in->cookie)
		err = secret_cookie_value(cookie, in->cookie, AUTH_COOKIE_NAME);
	if (in->proxy_user)
		err = identify_proxy(&out->who, in, in->cookie && err != TRAWL_ENOTFOUND, &from,
				     r->name);
	else if (err < 0 && err != TRAWL_ENOTFOUND)
		err = TRAWL_EAUTH;
	else
		err = auth_identify(&out->who, in->auth, in->cookie && err == 0 ? cookie : NULL,
				    in->authorization, &from);
	/* SECURITY: an open route ignores a stale credential: it grants nothing there. */
	if (err == TRAWL_EAUTH && is_open)
		err = auth_identify(&out->who, in->auth, NULL, NULL, &from);
	sodium_memzero(cookie, sizeof(cookie));
	if (err < 0) {
		memset(&out->who, 0, sizeof(out->who));
		if (err != TRAWL_EAUTH) {
			error_set("route %s: the accounts cannot be read", r->name);
			return TRAWL_EIO;
		}
		error_set("route %s: the credential is not valid", r->name);
		return TRAWL_EAUTH;
	}
	out->is_authenticated = out->who.kind != AUTH_ANONYMOUS;
	out->perms = perms_of(&out->who, in->allow_anonymous);
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
		return TRAWL_EAUTH;
	}
	if (r->perm == ROUTE_PERM_NONE)
		return 0;
	if ((c->perms & (unsigned)r->perm) != (unsigned)r->perm) {
		error_set("route %s needs a permission the caller does not hold", r->name);
		return c->is_authenticated ? TRAWL_EPERM : TRAWL_EAUTH;
	}
	return 0;
}

int access_check_csrf(const struct access_caller *c, const struct route *r, unsigned method,
		      const char *origin, bool is_own_origin, const char *sec_fetch_site,
		      const char *csrf)
{
	if (!(method & (ROUTE_POST | ROUTE_PUT | ROUTE_DELETE)))
		return 0;
	/*
	 * SECURITY: a browser names the page that made a request in Origin and, when it knows
	 * them, in Sec-Fetch-Site: another site's page is refused outright. Clients that are not
	 * browsers send neither, and authenticate with a token a page cannot attach.
	 */
	if (origin && !is_own_origin) {
		error_set("cross-origin request refused");
		return TRAWL_EPERM;
	}
	if (sec_fetch_site && strcmp(sec_fetch_site, "same-origin") != 0 &&
	    strcmp(sec_fetch_site, "none") != 0) {
		error_set("cross-origin request refused");
		return TRAWL_EPERM;
	}
	/*
	 * SECURITY: the cookie rides along by itself; the token proves the page read it. A
	 * route open to everyone (signing in) acts for nobody, so it needs none.
	 */
	if (!route_is_open(r) && c->who.kind == AUTH_SESSION &&
	    (!csrf || strlen(csrf) != AUTH_CSRF_LEN || strlen(c->who.csrf) != AUTH_CSRF_LEN ||
	     sodium_memcmp(csrf, c->who.csrf, AUTH_CSRF_LEN) != 0)) {
		error_set("a signed-in browser request needs the X-CSRF-Token header");
		return TRAWL_EPERM;
	}
	return 0;
}

const struct search_repos *access_readable_repos(struct access_caller *c)
{
	if (!c->is_readable_done) {
		c->is_readable_done = true;
		if (!c->auth || auth_readable_repos(&c->readable, c->auth, &c->who,
						     c->allow_anonymous) < 0)
			c->readable = NULL;
	}
	return c->readable;
}

int access_check_repo(struct access_caller *c, const char *name)
{
	const struct search_repos *rs = access_readable_repos(c);

	if (!rs) {
		error_set("the readable repositories cannot be computed");
		return TRAWL_EIO;
	}
	if (!search_repos_has(rs, name)) {
		error_set("not found");
		return TRAWL_EPERM;
	}
	return 0;
}

const struct search_repos *access_take_readable(struct access_caller *c)
{
	const struct search_repos *rs = c->readable;

	c->readable = NULL;
	return rs;
}

bool access_is_admin(const struct access_caller *c)
{
	return c->who.kind == AUTH_LOCAL || (c->perms & ROUTE_PERM_ADMIN);
}

void access_release(struct access_caller *c)
{
	if (c->readable && c->auth)
		auth_repos_release(c->auth, c->readable);
	c->readable = NULL;
}
