/*
 * Single sign-on's routes and start-up (docs/sso.md, docs/internals/sso.md): the OpenID
 * Connect login and callback, the sign-in methods the page offers, and the checks of the SSO
 * settings when the server starts. src/sso/ verifies the login; the accounts module turns the
 * identity into a user, groups and a session (auth_sign_in_external). The provider is reached
 * over the network, so both routes run on single sign-on's own threads (sso_pool), never on an
 * HTTP thread nor on the password sign-ins' threads.
 *
 * The two GET routes change state (a pending login, then a session): the one exception to
 * "no GET changes state" (ROUTE_GET_SIGNS_IN). A cross-site page can start a login (it only
 * sends the browser to the provider) but cannot finish one: the callback's state is single use
 * and must equal the state sealed in the __Host- cookie set on this browser by the login, which
 * is what protects against forged callbacks (login CSRF). A callback whose state is not the
 * cookie's leaves the cookie alone, and a cross-site navigation may not start a login over one
 * in flight (login_over_pending), so neither can break a sign-in under way.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server_int.h"
#include "sso/sso.h"
#include "util/error.h"
#include "util/file.h"

/* The browser-binding cookie's attributes: the callback is a cross-site navigation (Lax). */
#define OIDC_COOKIE_ATTRS "; Path=/; HttpOnly; Secure; SameSite=Lax"
#define OIDC_LOGIN_PATH "/auth/oidc/login"

/* ---- start-up ---- */

/* Appends "; what" to the list of what is missing. */
static void missing_add(char *out, size_t n, const char *what)
{
	size_t len = strlen(out);

	snprintf(out + len, n - len, "%s%s", len ? "; " : "", what);
}

/* The headers trawl reads itself: a proxy naming the user in one of them is a mistake. */
static bool is_reserved_header(const char *h)
{
	static const char *const reserved[] = { "Authorization", "Cookie", "Host",
						"X-Forwarded-For", "X-Forwarded-Proto",
						"X-CSRF-Token", "Origin", "Content-Type" };

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(h, reserved[i]) == 0)
			return true;
	return false;
}

/* An HTTP header name (RFC 9110 token) trawl does not read for itself. */
static bool is_header_name(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 64 || is_reserved_header(h))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9') || h[i] == '-' || h[i] == '_'))
			return false;
	return true;
}

/* What the SSO settings need from the rest of the configuration, all named at once. */
static int check_settings(const struct server_config *cfg, bool is_team)
{
	const struct server_sso_config *c = &cfg->sso;
	char missing[1024] = "";
	bool has_oidc_extra = c->client_id || c->secret_file || c->scopes || c->user_claim ||
			      c->groups_claim || c->admin_group || c->ca_file ||
			      c->n_allowed_domains;

	if (!c->issuer && has_oidc_extra)
		missing_add(missing, sizeof(missing), "the --oidc-* settings need --oidc-issuer");
	if (c->issuer && !c->client_id)
		missing_add(missing, sizeof(missing), "--oidc-issuer needs --oidc-client-id");
	if (c->issuer && !c->secret_file)
		missing_add(missing, sizeof(missing),
			    "--oidc-issuer needs --oidc-client-secret-file");
	if (c->issuer && !cfg->external_host[0])
		missing_add(missing, sizeof(missing),
			    "--oidc-issuer needs --external-url (the redirect URI is EXTERNAL_URL"
			    SSO_CALLBACK_PATH ")");
	if (c->proxy_groups_header && !c->proxy_header)
		missing_add(missing, sizeof(missing),
			    "--auth-proxy-groups-header needs --auth-proxy-header");
	if (c->proxy_header && cfg->n_proxies == 0)
		missing_add(missing, sizeof(missing),
			    "--auth-proxy-header needs --trusted-proxy (the header is believed "
			    "from those addresses only)");
	if ((c->proxy_header && !is_header_name(c->proxy_header)) ||
	    (c->proxy_groups_header && !is_header_name(c->proxy_groups_header)))
		missing_add(missing, sizeof(missing),
			    "--auth-proxy-header and --auth-proxy-groups-header must be header "
			    "names (letters, digits, '-') other than those trawl reads itself");
	if ((c->issuer || c->proxy_header) && !is_team)
		missing_add(missing, sizeof(missing),
			    "single sign-on needs accounts (team mode): create the first "
			    "administrator with `trawl user add NAME --admin`");
	if (c->is_password_off && !c->issuer && !c->proxy_header)
		missing_add(missing, sizeof(missing),
			    "--password-sign-in off leaves no way to sign in: configure "
			    "--oidc-issuer or --auth-proxy-header");
	if (!missing[0])
		return 0;
	error_set("single sign-on: %s", missing);
	return TRAWL_EINVAL;
}

/*
 * SECURITY: the client secret's file must be a regular file private to the server's user
 * (file_is_private: its own, or root's readable by its group), as auth.key and the TLS key. *out (its bytes, one final newline taken
 * off) is the caller's to wipe and free.
 */
static int secret_read(char **out, size_t *len, const char *path)
{
	struct stat st;
	int fd = -1, err;

	*out = NULL;
	if ((err = file_open_regular(&fd, &st, path, true)) < 0) {
		error_prefix("--oidc-client-secret-file");
		return err;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		error_set("--oidc-client-secret-file %s: the file belongs to another user (uid "
			  "%u); it must be the server's own (or root's)",
			  path, (unsigned)st.st_uid);
		err = TRAWL_EPERM;
	} else if (!file_is_private(&st)) {
		error_set("--oidc-client-secret-file %s: the file is accessible to group or others "
			  "(mode %03o): " FILE_PRIVATE_HINT,
			  path, (unsigned)(st.st_mode & 0777));
		err = TRAWL_EPERM;
	} else {
		err = file_read_fd(out, len, fd, path, SSO_CLIENT_SECRET_MAX + 2);
	}
	close(fd);
	if (err < 0)
		return err;
	if (*len && (*out)[*len - 1] == '\n')
		(*out)[--*len] = 0;
	if (*len && (*out)[*len - 1] == '\r')
		(*out)[--*len] = 0;
	return 0;
}

/* "https://" and the external URL's host, its port only when not 443, then the callback. */
static void redirect_uri(char *out, size_t n, const char *external_host)
{
	size_t h = strlen(external_host);

	if (h > 4 && strcmp(external_host + h - 4, ":443") == 0)
		h -= 4;
	snprintf(out, n, "https://%.*s%s", (int)h, external_host, SSO_CALLBACK_PATH);
}

int handlers_sso_open(struct srv *s, bool is_team)
{
	const struct server_config *cfg = s->cfg;
	const struct server_sso_config *c = &cfg->sso;
	char redirect[SERVER_HOST_MAX + sizeof("https://" SSO_CALLBACK_PATH)];
	char *secret = NULL;
	size_t secret_len = 0;
	struct sso_config sc;
	int err;

	if ((err = check_settings(cfg, is_team)) < 0)
		return err;
	if (c->proxy_header)
		log_msg("info", "single sign-on: an authentication proxy names the user",
			"header", c->proxy_header);
	if (!c->issuer)
		return 0;
	if ((err = secret_read(&secret, &secret_len, c->secret_file)) < 0)
		return err;
	redirect_uri(redirect, sizeof(redirect), cfg->external_host);
	sc = (struct sso_config){
		.issuer = c->issuer,
		.client_id = c->client_id,
		.client_secret = (const unsigned char *)secret,
		.client_secret_len = secret_len,
		.redirect_uri = redirect,
		.scopes = c->scopes,
		.user_claim = c->user_claim,
		.groups_claim = c->groups_claim,
		.allowed_domains = c->allowed_domains,
		.n_allowed_domains = c->n_allowed_domains,
		.admin_group = c->admin_group,
		.https = { .ca_file = c->ca_file },
	};
	err = sso_open(&s->sso, &sc);
	sodium_memzero(secret, secret_len);
	free(secret);
	if (err < 0)
		return err;
	log_msg("info", "single sign-on: OpenID Connect", "issuer", c->issuer);
	return 0;
}

void handlers_sso_close(struct srv *s)
{
	sso_close(s->sso);
	s->sso = NULL;
}

/* ---- pages ---- */

/* Appends s HTML-escaped (text and attribute values alike). */
static int put_html(struct buf *b, const char *s)
{
	int err = 0;

	for (; *s && err == 0; s++) {
		switch (*s) {
		case '&': err = buf_puts(b, "&amp;"); break;
		case '<': err = buf_puts(b, "&lt;"); break;
		case '>': err = buf_puts(b, "&gt;"); break;
		case '"': err = buf_puts(b, "&quot;"); break;
		case '\'': err = buf_puts(b, "&#39;"); break;
		default: err = buf_putc(b, *s); break;
		}
	}
	return err;
}

static int page_start(struct buf *b, const char *title, const char *refresh_to)
{
	int err;

	if ((err = buf_puts(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			       "<meta name=\"viewport\" content=\"width=device-width\">")) < 0)
		return err;
	if (refresh_to && ((err = buf_puts(b, "<meta http-equiv=\"refresh\" content=\"0;url=")) < 0 ||
			   (err = put_html(b, refresh_to)) < 0 || (err = buf_puts(b, "\">")) < 0))
		return err;
	return buf_printf(b, "<title>trawl: %s</title></head>\n<body><main><h1>%s</h1>", title,
			  title);
}

/*
 * A refused login: a short message and the reason word, never the detail (it goes to the log
 * and the audit trail). Answered as a page: the browser came here by navigation.
 */
static int page_refused(struct req *rq, unsigned status, const char *msg, const char *reason)
{
	struct buf *b = &rq->body;

	buf_reset(b);
	rq->n_hdr = 0;
	if (page_start(b, "single sign-on failed", NULL) < 0 ||
	    buf_printf(b, "<p>%s</p><p>Reason: <code>%s</code></p>"
			  "<p><a href=\"/\">Back to trawl</a></p></main></body></html>\n",
		       msg, reason) < 0)
		return handlers_internal(TRAWL_ENOMEM);
	rq->ctype = "text/html; charset=utf-8";
	rq->status = status;
	return 0;
}

/* The log line of a refusal: the reason word and the module's detail (never a secret). */
static void log_refusal(const struct req *rq, const char *reason, const char *detail)
{
	struct logline l;

	log_begin(&l, "warn", "single sign-on refused");
	log_cstr(&l, "req", rq->id);
	log_cstr(&l, "reason", reason);
	log_cstr(&l, "client", rq->client_addr);
	log_cstr(&l, "detail", detail);
	log_end(&l);
}

/* ---- the login ---- */

/* Sets the binding cookie: its value is too long for rq->hdr_text. */
static int binding_cookie_set(struct req *rq, const char *value)
{
	struct buf b;
	const char *line = NULL;

	buf_init(&b, SSO_COOKIE_VALUE_MAX + 256);
	if (buf_printf(&b, SSO_COOKIE_NAME "=%s; Max-Age=%d" OIDC_COOKIE_ATTRS, value,
		       SSO_PENDING_LIFETIME_S) == 0)
		line = req_keep(rq, b.ptr);
	if (b.ptr)
		sodium_memzero(b.ptr, b.cap);
	buf_dispose(&b);
	if (!line)
		return handlers_internal(TRAWL_ENOMEM);
	req_header(rq, "Set-Cookie", line);
	return 0;
}

static int run_login(struct req *rq)
{
	const char *return_to, *location;
	char *url = NULL, *cookie = NULL;
	size_t len;
	int err;

	if ((err = req_param(&return_to, &len, rq, "return_to")) < 0 ||
	    (err = sso_begin(&url, &cookie, rq->s->sso, return_to)) < 0) {
		bool is_ours = err == TRAWL_EINVAL || err == TRAWL_ELIMIT;

		log_refusal(rq, is_ours ? "bad_return_to" : "discovery_failed", error_last());
		return page_refused(rq, is_ours ? 400 : 502,
				    is_ours ? "The address to come back to is not one of this "
					      "server's pages."
					    : "The identity provider cannot be reached. Try again "
					      "later; if it goes on, tell your administrator.",
				    is_ours ? "bad_return_to" : "discovery_failed");
	}
	location = req_keep(rq, url);
	free(url);
	err = location ? binding_cookie_set(rq, cookie) : handlers_internal(TRAWL_ENOMEM);
	sodium_memzero(cookie, strlen(cookie));
	free(cookie);
	if (err < 0)
		return err;
	req_header(rq, "Location", location);
	req_header(rq, "Cache-Control", "no-store");
	rq->ctype = "text/html; charset=utf-8";
	rq->status = 302;
	return 0;
}

/*
 * SECURITY: another site can send this browser here (a top-level GET carries the Lax cookie),
 * and a new login replaces the binding cookie: the login under way in this browser would then
 * fail at its callback. So a cross-site navigation may not start a login while one is in
 * flight; the page offers a same-origin link that may. A browser that sends no Sec-Fetch-Site
 * is let through (it is no worse than before the header existed).
 */
static bool is_cross_site_over_pending(const struct req *rq)
{
	const char *site = req_header_value(rq, "Sec-Fetch-Site");
	const char *cookie = req_header_value(rq, "Cookie");

	return site && strcmp(site, "cross-site") == 0 && cookie &&
	       strstr(cookie, SSO_COOKIE_NAME "=") != NULL;
}

static int login_over_pending(struct req *rq)
{
	struct buf *b = &rq->body;
	const char *reason = "login_over_pending";

	log_refusal(rq, reason,
		    "another site sent the browser to start a sign-in while one is "
		    "under way in it");
	buf_reset(b);
	if (page_start(b, "single sign-on", NULL) < 0 ||
	    buf_printf(b,
		       "<p>A sign-in is already under way in this browser, and another site "
		       "sent you here to start a new one.</p><p><a href=\"" OIDC_LOGIN_PATH
		       "\">Start a new sign-in</a> (the one under way will fail) or "
		       "<a href=\"/\">back to trawl</a>.</p><p>Reason: <code>%s</code></p>"
		       "</main></body></html>\n",
		       reason) < 0)
		return handlers_internal(TRAWL_ENOMEM);
	rq->ctype = "text/html; charset=utf-8";
	rq->status = 409;
	return 0;
}

/* GET /auth/oidc/login?return_to=PATH: a 404 when OpenID Connect is not configured. */
int handlers_sso_login(struct req *rq)
{
	if (!rq->s->sso)
		return handlers_not_found("single sign-on is not configured on this server");
	if (is_cross_site_over_pending(rq))
		return login_over_pending(rq);
	if (!req_take_sso(rq))
		return 0;
	req_defer_on(rq, rq->s->sso_pool, run_login);
	return 0;
}

/* ---- the callback ---- */

/* The page and status of a refusal by sso_finish's code. */
static int finish_refused(struct req *rq, int err, const char *reason)
{
	switch (err) {
	case TRAWL_EINVAL:
		return page_refused(rq, 400,
				    "The identity provider's answer is incomplete. Start again from "
				    "the sign-in page.",
				    reason);
	case TRAWL_EAUTH:
		return page_refused(rq, 401,
				    "The sign-in could not be verified. Start again from the sign-in "
				    "page; if it fails again, tell your administrator the reason "
				    "below.",
				    reason);
	case TRAWL_EPERM:
		return page_refused(rq, 403,
				    "Your account at the identity provider may not use this server.",
				    reason);
	case TRAWL_ENOMEM: return handlers_internal(err);
	default:
		return page_refused(rq, 502,
				    "The identity provider cannot be reached. Try again later; if it "
				    "goes on, tell your administrator.",
				    reason);
	}
}

/* The accounts refused a verified identity: which reason word and page. */
static int account_refused(struct req *rq, int err, const char *name)
{
	const char *reason = err == TRAWL_EAUTH   ? "account_disabled"
			     : err == TRAWL_EPERM ? "account_conflict"
			     : err == TRAWL_EINVAL ? "bad_account"
						   : NULL;

	if (!reason)
		return handlers_internal(err);
	log_refusal(rq, reason, error_last());
	auth_audit_sso_refused(rq->s->auth, AUTH_SOURCE_OIDC, reason, name, rq->client_addr);
	return page_refused(rq, 403,
			    err == TRAWL_EAUTH
				    ? "Your account on this server is disabled."
				    : "Your account cannot be signed in here; tell your "
				      "administrator the reason below.",
			    reason);
}

/* The session is set: a same-site page moves on to return_to (see handlers_sso_callback). */
static int signed_in(struct req *rq, const char *cookie, const char *return_to)
{
	struct buf *b = &rq->body;

	handlers_session_cookie(rq, cookie);
	req_header(rq, "Set-Cookie", SSO_COOKIE_NAME "=; Max-Age=0" OIDC_COOKIE_ATTRS);
	if (page_start(b, "signed in", return_to) < 0 ||
	    buf_puts(b, "<p>Signed in. <a href=\"") < 0 || put_html(b, return_to) < 0 ||
	    buf_puts(b, "\">Continue</a></p></main></body></html>\n") < 0)
		return handlers_internal(TRAWL_ENOMEM);
	rq->ctype = "text/html; charset=utf-8";
	rq->status = 200;
	return 0;
}

static int sign_in(struct req *rq, const struct sso_identity *id)
{
	struct auth_origin from = { .address = rq->caller.address,
				    .user_agent = req_header_value(rq, "User-Agent") };
	struct auth_external ext = {
		.source = AUTH_SOURCE_OIDC,
		.name = id->user_name,
		.issuer = id->issuer,
		.subject = id->subject,
		.display_name = id->display_name,
		.groups = (const char *const *)id->groups,
		.n_groups = id->n_groups,
		/*
		 * SECURITY: a token without the groups claim means no groups: a user removed
		 * from every group at the provider must lose the grants those gave.
		 */
		.has_groups = true,
		.sets_admin = rq->s->cfg->sso.admin_group != NULL,
		.is_admin = id->is_admin_by_group,
	};
	char cookie[AUTH_SESSION_ID_LEN + 1];
	int err;

	err = auth_sign_in_external(&rq->caller.who, cookie, rq->s->auth, &ext, &from);
	if (err < 0)
		return account_refused(rq, err, id->user_name);
	err = signed_in(rq, cookie, id->return_to);
	sodium_memzero(cookie, sizeof(cookie));
	return err;
}

/*
 * The binding cookie's value in the Cookie header (at most SSO_COOKIE_VALUE_MAX characters,
 * else none), copied to *out (caller wipes and frees); NULL when absent or there twice.
 * SECURITY: a cookie set by a sibling domain may arrive beside ours; neither may win.
 */
static char *binding_cookie_get(const char *header)
{
	static const char name[] = SSO_COOKIE_NAME "=";
	const char *found = NULL;
	size_t found_len = 0;

	for (const char *p = header; p && *p;) {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, ";");
		if (n >= sizeof(name) - 1 && memcmp(p, name, sizeof(name) - 1) == 0) {
			if (found)
				return NULL;
			found = p + sizeof(name) - 1;
			found_len = n - (sizeof(name) - 1);
			while (found_len &&
			       (found[found_len - 1] == ' ' || found[found_len - 1] == '\t'))
				found_len--;
		}
		p += n;
		p += *p == ';';
	}
	if (!found || !found_len || found_len > SSO_COOKIE_VALUE_MAX)
		return NULL;
	return strndup(found, found_len);
}

static int run_callback(struct req *rq)
{
	struct sso_callback cb = { 0 };
	struct sso_identity id = { 0 };
	const char *reason = NULL;
	char *binding = NULL;
	bool is_used = false;
	size_t len;
	int err;

	if ((err = req_param(&cb.code, &len, rq, "code")) < 0 ||
	    (err = req_param(&cb.state, &len, rq, "state")) < 0 ||
	    (err = req_param(&cb.error, &len, rq, "error")) < 0 ||
	    (err = req_param(&cb.error_description, &len, rq, "error_description")) < 0) {
		reason = "bad_request";
		log_refusal(rq, reason, error_last());
		auth_audit_sso_refused(rq->s->auth, AUTH_SOURCE_OIDC, reason, NULL,
				       rq->client_addr);
		return finish_refused(rq, TRAWL_EINVAL, reason);
	}
	binding = binding_cookie_get(req_header_value(rq, "Cookie"));
	err = sso_finish(&id, &reason, &is_used, rq->s->sso, &cb, binding);
	if (binding)
		sodium_memzero(binding, strlen(binding));
	free(binding);
	if (err < 0) {
		if (!reason)
			reason = "no_memory";
		log_refusal(rq, reason, error_last());
		auth_audit_sso_refused(rq->s->auth, AUTH_SOURCE_OIDC, reason, NULL,
				       rq->client_addr);
		err = finish_refused(rq, err, reason);
		/* A callback for another state leaves this browser's login under way alone. */
		if (rq->status && is_used)
			req_header(rq, "Set-Cookie",
				   SSO_COOKIE_NAME "=; Max-Age=0" OIDC_COOKIE_ATTRS);
		return err;
	}
	err = sign_in(rq, &id);
	sso_identity_dispose(&id);
	return err;
}

/*
 * GET /auth/oidc/callback?code=...&state=...: the provider sends the browser back here.
 *
 * The session cookie is SameSite=Strict, and this request ends a cross-site chain of
 * navigations: a browser may leave the new cookie off a redirect that continues that chain.
 * So the answer is a page (no script) that moves on to return_to from this origin: the next
 * request is a same-site navigation and carries the cookie.
 */
int handlers_sso_callback(struct req *rq)
{
	if (!rq->s->sso)
		return handlers_not_found("single sign-on is not configured on this server");
	if (!req_take_sso(rq))
		return 0;
	req_defer_on(rq, rq->s->sso_pool, run_callback);
	return 0;
}

/* GET /api/v1/auth/methods: what the sign-in page offers. */
int handlers_auth_methods(struct req *rq)
{
	if (buf_printf(&rq->body,
		       "{\"password\":%s,\"oidc\":%s,\"oidc_login_url\":\"" OIDC_LOGIN_PATH "\"}",
		       rq->s->cfg->sso.is_password_off ? "false" : "true",
		       rq->s->sso ? "true" : "false") < 0)
		return handlers_internal(TRAWL_ENOMEM);
	rq->status = 200;
	return 0;
}
