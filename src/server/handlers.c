/*
 * The route table (docs/api.md, docs/internals/adding-a-route.md), the handlers of health,
 * metrics and the web UI, and the helpers every handler uses; the search routes are in
 * handlers_search.c, the repository routes in handlers_repos.c. The dispatcher in server.c
 * has already matched the route and enforced its row (method, body, caller and permission,
 * parameters, the concurrent-search cap, an index snapshot with ROUTE_INDEX) before a handler
 * runs: handlers only do their own work, and report a failure as a TRAWL_E* code that
 * route_error_of answers (a hidden repository's EPERM as a 404).
 */
#include <string.h>

#include "server/handlers_admin.h"
#include "server/server_int.h"
#include "store/store.h"
#include "util/error.h"

/* ---- shared pieces ---- */

int handlers_not_found(const char *msg)
{
	error_set("%s", msg);
	return TRAWL_ENOTFOUND;
}

int handlers_internal(int err)
{
	return route_error_of(err)->status >= 500 ? err : TRAWL_EIO;
}

/* ---- the query language, health, metrics ---- */

/* The query language's filters and settings, for the UI's suggestions (query_fields_json). */
static int h_filters(struct req *rq)
{
	int err = query_fields_json(&rq->body);

	if (err < 0)
		return handlers_internal(err);
	rq->status = 200;
	return 0;
}

/*
 * SECURITY: the index's figures count every repository: an administrator's (and the laptop's
 * local user's) only; everyone else learns that the server answers.
 */
static int h_healthz(struct req *rq)
{
	struct snapshot *s;
	int err;

	if (!access_is_admin(&rq->caller)) {
		if (buf_puts(&rq->body, "{\"status\":\"ok\"}") < 0)
			return handlers_internal(TRAWL_ENOMEM);
		rq->status = 200;
		return 0;
	}
	s = snapstore_get(rq->s->store);
	err = buf_printf(&rq->body,
			 "{\"status\":\"ok\",\"index\":%s,\"shards\":%zu,\"repos\":%zu,"
			 "\"sandbox\":",
			 s ? "true" : "false", s ? index_n_shards(s->ix) : 0, s ? s->n_repos : 0);
	if (err == 0 && (err = server_sandbox_json(&rq->body, rq->s)) == 0)
		err = buf_putc(&rq->body, '}');
	snapshot_unref(s);
	if (err < 0)
		return handlers_internal(TRAWL_ENOMEM);
	rq->status = 200;
	return 0;
}

/*
 * Repositories by state: the registry's, plus those of the index it does not know (indexed
 * with `trawl index`), which are "indexed".
 */
static int count_states(uint64_t by_state[METRICS_N_STATES], const struct snapshot *snap,
			const struct store_repo *regs, size_t n_regs)
{
	memset(by_state, 0, METRICS_N_STATES * sizeof(*by_state));
	for (size_t k = 0; k < n_regs; k++)
		if ((size_t)regs[k].state < METRICS_N_STATES)
			by_state[regs[k].state]++;
	for (size_t i = 0, k = 0; snap && i < snap->n_repos; i++) {
		int c = 1;

		while (k < n_regs && (c = strcmp(regs[k].name, snap->repos[i].name)) < 0)
			k++;
		if (k == n_regs || c != 0)
			by_state[STORE_STATE_INDEXED]++;
	}
	return 0;
}

static int h_metrics(struct req *rq)
{
	struct snapshot *s = snapstore_get(rq->s->store);
	struct store *st = NULL;
	struct store_repo *regs = NULL;
	size_t n_regs = 0;
	uint64_t by_state[METRICS_N_STATES];
	int err;

	rq->snap = s; /* released with the request */
	if ((err = handlers_registry_open(&st, rq)) < 0 ||
	    (st && (err = store_repo_list_brief(&regs, &n_regs, st)) < 0)) {
		store_close(st);
		return handlers_registry_error(rq);
	}
	store_close(st);
	count_states(by_state, s, regs, n_regs);
	store_repos_free(regs, n_regs);
	err = metrics_render(&rq->body, &rq->s->metrics, s, snapstore_swaps(rq->s->store),
			     atomic_load(&rq->s->searches), by_state);
	if (err < 0)
		return handlers_internal(err);
	rq->ctype = "text/plain; version=0.0.4; charset=utf-8";
	rq->status = 200;
	return 0;
}


/* ---- the web UI ---- */

static const struct web_asset *asset_find(const char *path)
{
	for (size_t i = 0; i < n_web_assets; i++)
		if (strcmp(web_assets[i].path, path) == 0)
			return &web_assets[i];
	return NULL;
}

static int serve_asset(struct req *rq, const struct web_asset *a)
{
	const char *inm = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "If-None-Match");

	rq->ctype = a->ctype;
	req_header(rq, "ETag", a->etag);
	req_header(rq, "Cache-Control", "no-cache");
	if (inm && strcmp(inm, a->etag) == 0) {
		rq->status = 304;
		return 0;
	}
	if (buf_put(&rq->body, a->data, a->len) < 0)
		return handlers_internal(TRAWL_ENOMEM);
	rq->status = 200;
	return 0;
}

/*
 * "/", "/search", "/repos", "/file/...", "/account/...", "/admin/...": the single page's routes
 * all load index.html.
 */
static int h_ui(struct req *rq)
{
	const struct web_asset *a = asset_find("/index.html");

	if (!a)
		return handlers_not_found("the web UI is not built into this binary");
	return serve_asset(rq, a);
}

/* Whether the client asked for a page (a browser's navigation sends Accept: text/html). */
static bool wants_html(struct req *rq)
{
	const char *accept = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Accept");

	return accept && strstr(accept, "text/html");
}

/*
 * A path that is no page and no file, asked for by a browser: index.html with status 404, so
 * that the page shows its "no such page" view with its links. Scripts, tools and the API's
 * clients (no text/html in Accept) keep the API's JSON 404. Never a 304: the status matters.
 */
static int ui_not_found(struct req *rq)
{
	const struct web_asset *a = asset_find("/index.html");

	req_header(rq, "Vary", "Accept");
	if (!a || !wants_html(rq))
		return handlers_not_found("not found");
	req_header(rq, "Cache-Control", "no-cache");
	if (buf_put(&rq->body, a->data, a->len) < 0)
		return handlers_internal(TRAWL_ENOMEM);
	rq->ctype = a->ctype;
	rq->status = 404;
	return 0;
}

/* Any other path that names an embedded file (web/app.js is /app.js). */
static int h_asset(struct req *rq)
{
	char path[ROUTE_NAME_MAX + 2];
	const struct web_asset *a;
	size_t n = strlen(rq->args.rest);

	if (n > ROUTE_NAME_MAX)
		return ui_not_found(rq);
	path[0] = '/';
	memcpy(path + 1, rq->args.rest, n + 1);
	if (!(a = asset_find(path)) || strcmp(path, "/index.html") == 0)
		return ui_not_found(rq);
	return serve_asset(rq, a);
}


/* ---- the table ---- */

static const char *const p_search[] = { "q", "context", NULL };
static const char *const p_file[] = { "rev", "path", NULL };
static const char *const p_position[] = { "rev", "path", "line", "col", NULL };
static const char *const p_rev[] = { "rev", NULL };
static const char *const p_symbols[] = { "q", "count", NULL };
static const char *const p_repos[] = { "q", "limit", "cursor", NULL };

static const char *const p_tokens[] = { "user", NULL };
static const char *const p_sso_login[] = { "return_to", NULL };
/* Providers add their own (iss, session_state): the page routes do not check parameters. */
static const char *const p_sso_callback[] = { "code", "state", "error", "error_description",
					      NULL };

/*
 * The rules (docs/api.md, "Authentication"): READ routes read repository data (the caller's
 * readable set applies; anonymous callers only with --allow-anonymous); OPEN ones carry none
 * and answer everyone (the page, its assets, /healthz's bare status, signing in); USER ones
 * act for the signed-in caller; ADMIN ones need an administrator. Rows sharing a pattern are
 * alternatives by method. No GET or HEAD row takes a body or changes state, but the two of
 * single sign-on (ROUTE_GET_SIGNS_IN: GET only, no HEAD).
 */
#define GET_HEAD .methods = (ROUTE_GET | ROUTE_HEAD)
#define READ GET_HEAD, .auth = ROUTE_AUTH_NONE, .perm = ROUTE_PERM_READ
#define OPEN GET_HEAD, .auth = ROUTE_AUTH_NONE, .perm = ROUTE_PERM_NONE
#define USER .auth = ROUTE_AUTH_USER, .perm = ROUTE_PERM_NONE
#define ADMIN .auth = ROUTE_AUTH_USER, .perm = ROUTE_PERM_ADMIN
#define API ROUTE_API
#define IDX ROUTE_INDEX
/* A sign-in or a password change: two passwords of up to 1 KiB with room for escapes. */
#define BODY_SMALL 4096
const struct route server_routes[] = {
	{ "api/v1/search", READ, .params = p_search, .flags = API | IDX | ROUTE_SEARCH,
	  .handler = handlers_search, .name = "search" },
	{ "api/v1/search/stream", READ, .params = p_search, .flags = API | IDX | ROUTE_SEARCH,
	  .handler = handlers_search_stream, .name = "search_stream" },
	{ "api/v1/symbols", READ, .params = p_symbols, .flags = API | IDX | ROUTE_SEARCH,
	  .handler = handlers_symbols, .name = "symbols" },
	/* Without IDX: registered repositories are listed before the first index exists. */
	{ "api/v1/repos", READ, .params = p_repos, .flags = API, .handler = handlers_repos,
	  .name = "repos" },
	{ "api/v1/repos/{name}", READ, .flags = API, .handler = handlers_repo, .name = "repo" },
	{ "api/v1/repos/{name}/tree", READ, .params = p_file, .flags = API | IDX,
	  .handler = handlers_tree, .name = "tree" },
	{ "api/v1/repos/{name}/file", READ, .params = p_file, .flags = API | IDX,
	  .handler = handlers_file, .name = "file" },
	{ "api/v1/repos/{name}/raw", READ, .params = p_file, .flags = API | IDX,
	  .handler = handlers_raw, .name = "raw" },
	/* A README is rendered on a search thread (bounded work: handlers_readme.c). */
	{ "api/v1/repos/{name}/readme", READ, .params = p_file, .flags = API | IDX | ROUTE_SEARCH,
	  .handler = handlers_readme, .name = "readme" },
	/* Code navigation (handlers_nav.c); references run a search, so they take a search slot. */
	{ "api/v1/repos/{name}/definition", READ, .params = p_position, .flags = API | IDX,
	  .handler = handlers_definition, .name = "definition" },
	{ "api/v1/repos/{name}/references", READ, .params = p_position,
	  .flags = API | IDX | ROUTE_SEARCH, .handler = handlers_references, .name = "references" },
	{ "api/v1/repos/{name}/outline", READ, .params = p_file, .flags = API | IDX,
	  .handler = handlers_outline, .name = "outline" },
	/* The "go to file" finder's list (handlers_paths.c). */
	{ "api/v1/repos/{name}/paths", READ, .params = p_rev, .flags = API | IDX,
	  .handler = handlers_paths, .name = "paths" },
	{ "api/v1/filters", READ, .flags = API, .handler = h_filters, .name = "filters" },
	{ "api/v1/session", .methods = ROUTE_POST, .auth = ROUTE_AUTH_NONE,
	  .perm = ROUTE_PERM_NONE, .max_body = BODY_SMALL, .flags = API,
	  .handler = handlers_session_create, .name = "session_create" },
	{ "api/v1/session", .methods = ROUTE_DELETE, USER, .flags = API,
	  .handler = handlers_session_delete, .name = "session_delete" },
	/* Anonymous callers learn who they are only when --allow-anonymous lets them read. */
	{ "api/v1/me", READ, .flags = API, .handler = handlers_me, .name = "me" },
	{ "api/v1/me/password", .methods = ROUTE_PUT, USER, .max_body = BODY_SMALL, .flags = API,
	  .handler = handlers_password, .name = "password" },
	{ "api/v1/me/notices/read", .methods = ROUTE_POST, USER, .max_body = BODY_SMALL, .flags = API,
	  .handler = handlers_notices_read, .name = "notices_read" },
	{ "api/v1/tokens", GET_HEAD, USER, .params = p_tokens, .flags = API,
	  .handler = handlers_tokens_list, .name = "tokens_list" },
	{ "api/v1/tokens", .methods = ROUTE_POST, USER, .max_body = BODY_SMALL, .flags = API,
	  .handler = handlers_token_create, .name = "token_create" },
	{ "api/v1/tokens/{name}", .methods = ROUTE_DELETE, USER, .flags = API,
	  .handler = handlers_token_revoke, .name = "token_revoke" },
	{ "api/v1/auth/methods", OPEN, .flags = API, .handler = handlers_auth_methods,
	  .name = "auth_methods" },
	{ "healthz", OPEN, .flags = API, .handler = h_healthz, .name = "healthz" },
	{ "readyz", OPEN, .flags = API, .handler = handlers_readyz, .name = "readyz" },
	{ "metrics", GET_HEAD, ADMIN, .flags = API, .handler = h_metrics, .name = "metrics" },
	/* ---- the admin routes (handlers_admin.c): an administrator's only ---- */
	{ "api/v1/users", GET_HEAD, ADMIN, .flags = API, .handler = handlers_admin_users,
	  .name = "admin_users" },
	{ "api/v1/users", .methods = ROUTE_POST, ADMIN, .max_body = BODY_SMALL, .flags = API,
	  .handler = handlers_admin_user_add, .name = "admin_user_add" },
	{ "api/v1/users/{name}", .methods = ROUTE_PUT, ADMIN, .max_body = BODY_SMALL, .flags = API,
	  .handler = handlers_admin_user_set, .name = "admin_user_set" },
	{ "api/v1/users/{name}/password", .methods = ROUTE_PUT, ADMIN, .max_body = BODY_SMALL,
	  .flags = API, .handler = handlers_admin_user_password, .name = "admin_user_password" },
	{ "api/v1/groups", GET_HEAD, ADMIN, .flags = API, .handler = handlers_admin_groups,
	  .name = "admin_groups" },
	{ "api/v1/groups", .methods = ROUTE_POST, ADMIN, .max_body = BODY_SMALL, .flags = API,
	  .handler = handlers_admin_group_add, .name = "admin_group_add" },
	{ "api/v1/groups/{name}", .methods = ROUTE_DELETE, ADMIN, .flags = API,
	  .handler = handlers_admin_group_remove, .name = "admin_group_remove" },
	{ "api/v1/groups/{name}/members", .methods = ROUTE_PUT, ADMIN,
	  .max_body = HANDLERS_ADMIN_BODY_LIST, .flags = API, .handler = handlers_admin_members,
	  .name = "admin_members" },
	{ "api/v1/access", GET_HEAD, ADMIN, .flags = API, .handler = handlers_admin_access,
	  .name = "admin_access" },
	{ "api/v1/repos/{name}/sync", .methods = ROUTE_POST, ADMIN, .flags = API,
	  .handler = handlers_admin_repo_sync, .name = "admin_repo_sync" },
	{ "api/v1/repos/{name}/access", .methods = ROUTE_PUT, ADMIN,
	  .max_body = HANDLERS_ADMIN_BODY_LIST, .flags = API, .handler = handlers_admin_repo_access,
	  .name = "admin_repo_access" },
	{ "api/v1/audit", GET_HEAD, ADMIN,
	  .params = (const char *const[]){ "user", "event", "since", "limit", NULL },
	  .flags = API, .handler = handlers_admin_audit, .name = "admin_audit" },
	/* ---- end of the admin routes ---- */
	/* Everything else under /api is an API 404 (JSON), never a page. */
	{ "api/*", READ, .flags = API, .handler = NULL, .name = "api_unknown" },
	/*
	 * The page's own routes: their query strings are the page's business. The page holds no
	 * data: it asks /api/v1/me and shows the sign-in form on a 401.
	 */
	/* Single sign-on (handlers_sso.c): pages, not API answers; a 404 when not configured. */
	{ "auth/oidc/login", .methods = ROUTE_GET, .auth = ROUTE_AUTH_NONE, .perm = ROUTE_PERM_NONE,
	  .params = p_sso_login, .flags = ROUTE_GET_SIGNS_IN, .handler = handlers_sso_login,
	  .name = "sso_login" },
	{ "auth/oidc/callback", .methods = ROUTE_GET, .auth = ROUTE_AUTH_NONE,
	  .perm = ROUTE_PERM_NONE, .params = p_sso_callback, .flags = ROUTE_GET_SIGNS_IN,
	  .handler = handlers_sso_callback, .name = "sso_callback" },
	{ "", OPEN, .handler = h_ui, .name = "ui" },
	{ "search", OPEN, .handler = h_ui, .name = "ui" },
	{ "repos", OPEN, .handler = h_ui, .name = "ui" },
	{ "repos/*", OPEN, .handler = h_ui, .name = "ui" },
	{ "file/*", OPEN, .handler = h_ui, .name = "ui" },
	{ "account/*", OPEN, .handler = h_ui, .name = "ui" },
	{ "admin/*", OPEN, .handler = h_ui, .name = "ui" },
	{ "*", OPEN, .handler = h_asset, .name = "asset" },
};
const size_t n_server_routes = sizeof(server_routes) / sizeof(server_routes[0]);
