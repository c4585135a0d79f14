/*
 * The accounts' own routes (docs/api.md, "Session" and "Tokens"): signing in and out, who the
 * caller is, changing one's password, and API tokens. The dispatcher has identified the caller
 * (access.c), checked the route's rule and the CSRF rule, and read the body; the accounts
 * module (src/auth/auth.h) does the work and audits it. No secret (password, session id,
 * token) reaches a log line or an error message: they go out once, in the answer that makes
 * them, and their copies here are wiped.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "server/server_int.h"
#include "util/error.h"
#include "util/json.h"

#define COOKIE_ATTRS "; Path=/; HttpOnly; Secure; SameSite=Strict"
/* Token lifetimes a caller may ask for, in days. */
#define TOKEN_DAYS_MAX 3650

static struct auth_origin origin_of(const struct req *rq)
{
	return (struct auth_origin){ .address = rq->caller.address,
				     .user_agent = req_header_value(rq, "User-Agent") };
}

static int put_str(struct buf *b, const char *key, const char *val)
{
	int err;

	if ((err = buf_printf(b, "\"%s\":", key)) < 0)
		return err;
	return json_put_string(b, val, strlen(val), NULL);
}

static const char *kind_name(enum auth_kind k)
{
	switch (k) {
	case AUTH_LOCAL: return "local";
	case AUTH_SESSION: return "session";
	case AUTH_TOKEN: return "token";
	case AUTH_PROXY:
		return "proxy";
	case AUTH_ANONYMOUS: break;
	}
	return "anonymous";
}

/* A string member, or null when value is "" (a notice made from the command line). */
static int put_str_or_null(struct buf *b, const char *key, const char *val)
{
	return *val ? put_str(b, key, val) : buf_printf(b, "\"%s\":null", key);
}

/* NOTICE (docs/api.md, "Notices"). */
static int put_notice(struct buf *b, const struct auth_notice *n)
{
	int err;

	if ((err = buf_printf(b, "{\"id\":%lld,", (long long)n->id)) < 0 ||
	    (err = put_str(b, "event", n->event)) < 0 || (err = buf_puts(b, ",\"time\":")) < 0 ||
	    (err = handlers_put_time(b, n->ts_ms / 1000)) < 0 ||
	    (err = buf_printf(b, ",\"by_self\":%s,", n->is_self ? "true" : "false")) < 0 ||
	    (err = put_str_or_null(b, "by", n->by)) < 0 || (err = buf_putc(b, ',')) < 0 ||
	    (err = put_str_or_null(b, "address", n->address)) < 0)
		return err;
	if (strcmp(n->event, "token_created") == 0 &&
	    ((err = buf_putc(b, ',')) < 0 || (err = put_str(b, "token", n->token)) < 0))
		return err;
	return buf_putc(b, '}');
}

/* How long a token the user may make, for the token form: only where a bound applies. */
static int put_token_max(struct buf *b, const struct auth *a, enum auth_source source)
{
	int64_t max = auth_token_max_s(a, source);

	if (max == 0)
		return 0;
	return buf_printf(b, ",\"token_max_days\":%lld",
			  max == AUTH_EXTERNAL_TOKENS_OFF ? 0LL : (long long)(max / 86400));
}

/* The caller's unread notices, newest first: [] without an account. */
static int put_notices(struct buf *b, struct req *rq)
{
	struct auth_notice v[AUTH_NOTICES_MAX];
	size_t n = 0;
	int err;

	if ((err = auth_notice_list(v, &n, rq->s->auth, &rq->caller.who)) < 0 ||
	    (err = buf_puts(b, ",\"notices\":[")) < 0)
		return err;
	for (size_t i = 0; i < n; i++)
		if ((i && (err = buf_putc(b, ',')) < 0) || (err = put_notice(b, &v[i])) < 0)
			return err;
	return buf_putc(b, ']');
}

/* ME (docs/api.md): the caller; the display name is the account's, looked up. */
static int put_me(struct buf *b, struct req *rq)
{
	const struct auth_principal *p = &rq->caller.who;
	struct auth_user u = { 0 };
	int err;

	if (p->user_id && (err = auth_user_get(&u, rq->s->auth, p->name)) < 0)
		return err == TRAWL_ENOTFOUND ? TRAWL_EIO : err;
	if ((err = buf_putc(b, '{')) < 0 || (err = put_str(b, "name", p->name)) < 0 ||
	    (err = buf_putc(b, ',')) < 0 || (err = put_str(b, "display_name", u.display_name)) < 0 ||
	    (err = buf_printf(b, ",\"is_admin\":%s,\"scopes\":[%s%s%s],\"auth\":\"%s\","
				 "\"mode\":\"%s\"",
			      p->is_admin || p->kind == AUTH_LOCAL ? "true" : "false",
			      p->scopes & AUTH_SCOPE_SEARCH ? "\"search\"" : "",
			      (p->scopes & AUTH_SCOPE_SEARCH) && (p->scopes & AUTH_SCOPE_ADMIN) ? ","
												: "",
			      p->scopes & AUTH_SCOPE_ADMIN ? "\"admin\"" : "", kind_name(p->kind),
			      p->kind == AUTH_LOCAL ? "laptop" : "team")) < 0)
		goto out;
	if (p->kind == AUTH_SESSION &&
	    ((err = buf_putc(b, ',')) < 0 || (err = put_str(b, "csrf_token", p->csrf)) < 0))
		goto out;
	if (p->user_id && (err = put_token_max(b, rq->s->auth, u.source)) < 0)
		goto out;
	if ((err = put_notices(b, rq)) < 0)
		goto out;
	err = buf_putc(b, '}');
out:
	auth_user_dispose(&u);
	return err;
}

/* The answer of a sign-in that failed: one for every reason but throttling (A8). */
static int sign_in_refused(struct req *rq, int err, unsigned retry_after_s)
{
	if (err == TRAWL_ELIMIT) {
		char msg[96];

		snprintf(rq->hdr_text, sizeof(rq->hdr_text), "%u", retry_after_s);
		snprintf(msg, sizeof(msg), "too many sign-in attempts; retry in %u s",
			 retry_after_s);
		req_error(rq, 429, "rate_limited", msg, 0);
		req_header(rq, "Retry-After", rq->hdr_text);
		return 0;
	}
	if (err == TRAWL_EAUTH) {
		req_error(rq, 401, "unauthorized", "wrong user name or password", 0);
		return 0;
	}
	return err == TRAWL_EINVAL ? err : handlers_internal(err);
}

void handlers_session_cookie(struct req *rq, const char *cookie)
{
	snprintf(rq->hdr_text, sizeof(rq->hdr_text), AUTH_COOKIE_NAME "=%s; Max-Age=%d" COOKIE_ATTRS,
		 cookie, AUTH_SESSION_ABSOLUTE_S);
	req_header(rq, "Set-Cookie", rq->hdr_text);
}

/* The sign-in itself, on a sign-in thread (req_defer_on): rq->work is the parsed body. */
static int run_sign_in(struct req *rq)
{
	json_t *o = rq->work;
	struct auth_origin from = origin_of(rq);
	char cookie[AUTH_SESSION_ID_LEN + 1];
	unsigned retry_after_s = 0;
	const char *password;
	size_t password_len;
	int err;

	rq->work = NULL;
	password = req_body_str(o, "password", &password_len);
	err = auth_sign_in(&rq->caller.who, cookie, &retry_after_s, rq->s->auth,
			   req_body_str(o, "user", NULL), password, password_len, &from);
	json_decref(o);
	if (err < 0)
		return sign_in_refused(rq, err, retry_after_s);
	handlers_session_cookie(rq, cookie);
	sodium_memzero(cookie, sizeof(cookie));
	if ((err = buf_puts(&rq->body, "{\"user\":")) < 0 || (err = put_me(&rq->body, rq)) < 0 ||
	    (err = buf_puts(&rq->body, ",\"csrf_token\":")) < 0 ||
	    (err = json_put_string(&rq->body, rq->caller.who.csrf, strlen(rq->caller.who.csrf),
				   NULL)) < 0 ||
	    (err = buf_putc(&rq->body, '}')) < 0)
		return handlers_internal(err);
	rq->status = 200;
	return 0;
}

/*
 * SECURITY: the password hash runs on the sign-in threads, never on an HTTP thread (whose
 * other connections would wait for it), within the server's bound on sign-ins in flight.
 */
int handlers_session_create(struct req *rq)
{
	static const struct req_field fields[] = {
		{ "user", REQ_STRING, true },
		{ "password", REQ_STRING, true },
	};
	json_t *o;
	int err;

	if (rq->s->cfg->sso.is_password_off) {
		req_error(rq, 403, "forbidden",
			  "password sign-in is turned off on this server: use single sign-on", 0);
		return 0;
	}
	if ((err = req_json_body(&o, rq, fields, 2)) < 0)
		return err;
	if (!req_take_signin(rq)) {
		json_decref(o);
		return 0;
	}
	rq->work = o;
	req_defer_on(rq, rq->s->signin_pool, run_sign_in);
	return 0;
}

static void clear_cookie(struct req *rq)
{
	req_header(rq, "Set-Cookie", AUTH_COOKIE_NAME "=; Max-Age=0" COOKIE_ATTRS);
}

int handlers_session_delete(struct req *rq)
{
	struct auth_origin from = origin_of(rq);
	int err;

	/* The local user of laptop mode has no session to end. */
	if (rq->caller.who.kind != AUTH_LOCAL &&
	    (err = auth_sign_out(rq->s->auth, &rq->caller.who, &from)) < 0)
		return handlers_internal(err);
	clear_cookie(rq);
	rq->status = 204;
	return 0;
}

int handlers_me(struct req *rq)
{
	int err = put_me(&rq->body, rq);

	if (err < 0)
		return handlers_internal(err);
	rq->status = 200;
	return 0;
}

/* The routes that change an account need one: laptop mode has none. */
static int need_account(const struct req *rq)
{
	if (rq->caller.who.user_id == 0) {
		error_set("there are no accounts (laptop mode): create one with `trawl user add`");
		return TRAWL_EINVAL;
	}
	return 0;
}

int handlers_password(struct req *rq)
{
	static const struct req_field fields[] = {
		{ "current", REQ_STRING, true },
		{ "password", REQ_STRING, true },
	};
	struct auth_actor by = access_actor(&rq->caller);
	const char *cur, *pw;
	size_t cur_len, pw_len;
	json_t *o;
	int err;

	if ((err = need_account(rq)) < 0 || (err = req_json_body(&o, rq, fields, 2)) < 0)
		return err;
	cur = req_body_str(o, "current", &cur_len);
	pw = req_body_str(o, "password", &pw_len);
	err = auth_user_set_password(rq->s->auth, &by, rq->caller.who.name, cur, cur_len, pw,
				     pw_len);
	json_decref(o);
	if (err == TRAWL_EAUTH) {
		req_error(rq, 403, "forbidden", "the current password is wrong", 0);
		return 0;
	}
	if (err == TRAWL_ELIMIT) {
		req_error(rq, 429, "rate_limited", error_last(), 0);
		return 0;
	}
	if (err < 0)
		return err == TRAWL_EINVAL ? err : handlers_internal(err);
	clear_cookie(rq); /* every session of the user has ended, this one too */
	rq->status = 204;
	return 0;
}

/*
 * SECURITY: only a session dismisses notices. A token made by someone else is what one of
 * them tells of, and must not be able to hide it from the user it was made for.
 */
int handlers_notices_read(struct req *rq)
{
	static const struct req_field fields[] = { { "through", REQ_INT, false } };
	json_int_t through = 0;
	json_t *o, *v;
	int err;

	if (rq->caller.who.kind == AUTH_TOKEN) {
		req_error(rq, 403, "forbidden", "sign in to dismiss notices: an API token cannot", 0);
		return 0;
	}
	if ((err = need_account(rq)) < 0 || (err = req_json_body(&o, rq, fields, 1)) < 0)
		return err;
	if ((v = json_object_get(o, "through")))
		through = json_integer_value(v);
	json_decref(o);
	if (through < 0) {
		error_set("the field \"through\" must be a notice id (or absent: every notice)");
		return TRAWL_EINVAL;
	}
	if ((err = auth_notice_read(rq->s->auth, &rq->caller.who, (int64_t)through)) < 0)
		return handlers_internal(err);
	rq->status = 204;
	return 0;
}

/* ---- tokens ---- */

static int put_token(struct buf *b, const struct auth_token *t)
{
	int err;

	if ((err = buf_printf(b, "{\"id\":%lld,", (long long)t->id)) < 0 ||
	    (err = put_str(b, "user", t->user)) < 0 || (err = buf_putc(b, ',')) < 0 ||
	    (err = put_str(b, "name", t->name)) < 0 || (err = buf_putc(b, ',')) < 0 ||
	    (err = put_str(b, "prefix", t->prefix)) < 0 ||
	    (err = buf_printf(b, ",\"scope\":\"%s\",\"created\":",
			      t->scope & AUTH_SCOPE_ADMIN ? "admin" : "search")) < 0 ||
	    (err = handlers_put_time(b, t->created_ms / 1000)) < 0 ||
	    (err = buf_puts(b, ",\"expires\":")) < 0 ||
	    (err = handlers_put_time(b, t->expires_ms / 1000)) < 0 ||
	    (err = buf_puts(b, ",\"last_used\":")) < 0 ||
	    (err = t->last_used_ms ? handlers_put_time(b, t->last_used_ms / 1000)
				   : buf_puts(b, "null")) < 0)
		return err;
	return buf_printf(b, ",\"revoked\":%s}", t->is_revoked ? "true" : "false");
}

/*
 * The user whose tokens a request names: its own, or (administrators only) the one named,
 * NULL for everyone's (the local user of laptop mode). EPERM for someone else's.
 */
static int token_owner(const char **out, struct req *rq, const char *named)
{
	const struct auth_principal *p = &rq->caller.who;

	*out = p->kind == AUTH_LOCAL ? NULL : p->name;
	if (!named || (p->kind != AUTH_LOCAL && strcmp(named, p->name) == 0))
		return 0;
	if (!access_is_admin(&rq->caller)) {
		error_set("only administrators manage the tokens of other users");
		return TRAWL_EPERM;
	}
	*out = named;
	return 0;
}

static int forbidden(struct req *rq)
{
	req_error(rq, 403, "forbidden", error_last(), 0);
	return 0;
}

int handlers_tokens_list(struct req *rq)
{
	struct auth_token *v = NULL;
	const char *named, *owner;
	size_t n = 0, len;
	int err;

	if ((err = req_param(&named, &len, rq, "user")) < 0)
		return err;
	if (token_owner(&owner, rq, named) < 0)
		return forbidden(rq);
	if ((err = auth_token_list(&v, &n, rq->s->auth, owner)) < 0)
		return handlers_internal(err);
	err = buf_puts(&rq->body, "{\"tokens\":[");
	for (size_t i = 0; i < n && err >= 0; i++)
		if (!(i && (err = buf_putc(&rq->body, ',')) < 0))
			err = put_token(&rq->body, &v[i]);
	free(v);
	if (err < 0 || (err = buf_puts(&rq->body, "]}")) < 0)
		return handlers_internal(err);
	rq->status = 200;
	return 0;
}

/* The scope and lifetime a creation asks for (defaults: search, 90 days). EINVAL. */
static int token_terms(unsigned *scope, int64_t *expires_s, json_t *o)
{
	const char *sc = req_body_str(o, "scope", NULL);
	json_t *days = json_object_get(o, "expires_days");

	*scope = AUTH_SCOPE_SEARCH;
	*expires_s = 0;
	if (sc && strcmp(sc, "admin") == 0)
		*scope = AUTH_SCOPE_ADMIN;
	else if (sc && strcmp(sc, "search") != 0) {
		error_set("the field \"scope\" must be \"search\" or \"admin\"");
		return TRAWL_EINVAL;
	}
	if (days) {
		json_int_t d = json_integer_value(days);

		if (d < 1 || d > TOKEN_DAYS_MAX) {
			error_set("the field \"expires_days\" must be from 1 to %d", TOKEN_DAYS_MAX);
			return TRAWL_EINVAL;
		}
		*expires_s = (int64_t)d * 24 * 60 * 60;
	}
	return 0;
}

/* Makes the token and its answer, {"token":TOKEN,"secret":"trawl_..."}. */
static int token_make(struct req *rq, const char *owner, const char *label, unsigned scope,
		      int64_t expires_s)
{
	struct auth_actor by = access_actor(&rq->caller);
	char secret[AUTH_TOKEN_LEN + 1];
	struct auth_token t;
	int err;

	err = auth_token_create(&t, secret, rq->s->auth, &by, owner, label, scope, expires_s);
	if (err == TRAWL_EPERM)
		return forbidden(rq);
	if (err < 0)
		return err == TRAWL_ENOTFOUND || err == TRAWL_EINVAL ? err : handlers_internal(err);
	if ((err = buf_puts(&rq->body, "{\"token\":")) < 0 ||
	    (err = put_token(&rq->body, &t)) < 0 || (err = buf_putc(&rq->body, ',')) < 0 ||
	    (err = put_str(&rq->body, "secret", secret)) < 0 ||
	    (err = buf_putc(&rq->body, '}')) < 0)
		err = handlers_internal(err);
	else
		rq->status = 201;
	sodium_memzero(secret, sizeof(secret));
	return err < 0 ? err : 0;
}

int handlers_token_create(struct req *rq)
{
	static const struct req_field fields[] = {
		{ "name", REQ_STRING, false },
		{ "scope", REQ_STRING, false },
		{ "expires_days", REQ_INT, false },
		{ "user", REQ_STRING, false },
	};
	const char *owner, *label;
	unsigned scope;
	int64_t expires_s;
	json_t *o;
	int err;

	/* SECURITY: a stolen search token must not mint more tokens that outlive its revocation. */
	if (rq->caller.who.kind == AUTH_TOKEN && !(rq->caller.who.scopes & AUTH_SCOPE_ADMIN)) {
		error_set("an API token cannot create tokens unless it has the admin scope");
		return forbidden(rq);
	}
	if ((err = req_json_body(&o, rq, fields, 4)) < 0)
		return err;
	if (token_owner(&owner, rq, req_body_str(o, "user", NULL)) < 0) {
		json_decref(o);
		return forbidden(rq);
	}
	label = req_body_str(o, "name", NULL);
	if ((err = token_terms(&scope, &expires_s, o)) == 0 && !owner) {
		error_set("name the user the token is for (\"user\")");
		err = TRAWL_EINVAL;
	}
	if (err == 0)
		err = token_make(rq, owner, label ? label : "", scope, expires_s);
	json_decref(o);
	return err;
}

int handlers_token_revoke(struct req *rq)
{
	struct auth_actor by = access_actor(&rq->caller);
	const char *owner = NULL;
	char *end;
	long long id;
	int err;

	id = strtoll(rq->args.name, &end, 10);
	if (rq->args.name[0] < '0' || rq->args.name[0] > '9' || *end || id <= 0)
		return handlers_not_found("not found");
	/* SECURITY: another user's token answers as a missing one. */
	if (!access_is_admin(&rq->caller))
		owner = rq->caller.who.name;
	if ((err = auth_token_revoke(rq->s->auth, &by, (int64_t)id, owner)) < 0)
		return err == TRAWL_ENOTFOUND ? handlers_not_found("not found")
					      : handlers_internal(err);
	rq->status = 204;
	return 0;
}
