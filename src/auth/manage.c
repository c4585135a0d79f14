/*
 * Managing accounts: users, groups, grants, public flags and API tokens (auth.h,
 * "management" and "API tokens"). Each function checks its input, makes the change in the
 * store (one transaction where several rows change) and audits it with its actor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth_int.h"
#include "auth/secret.h"
#include "util/error.h"

/* The longest repository name a grant or flag takes. */
#define REPO_NAME_MAX 1024

static int locked(struct auth *a, int err)
{
	pthread_mutex_unlock(&a->lock);
	return err;
}

static int audit_change(struct auth *a, const struct auth_actor *by, const char *event,
			const char *target, const char *detail)
{
	return auth_audit(a, event, actor_name(by), target, actor_address(by), detail);
}

static int audit_one(struct auth *a, const struct auth_actor *by, const char *event,
		     const char *target, const char *key, const char *value)
{
	struct buf d;
	int err;

	detail_begin(&d);
	if (key)
		detail_str(&d, key, value);
	err = audit_change(a, by, event, target, detail_end(&d));
	buf_dispose(&d);
	return err;
}

static int repo_name_check(const char *repo)
{
	size_t len = repo ? strnlen(repo, REPO_NAME_MAX + 1) : 0;

	if (len == 0 || len > REPO_NAME_MAX) {
		error_set("a repository name is 1 to %d bytes", REPO_NAME_MAX);
		return TRAWL_EINVAL;
	}
	return 0;
}

/*
 * What counts as a pasted token: the prefix and this many letters or digits (fewer than
 * half of a token's random part), or a run as long as a token's random part without it.
 */
#define TOKEN_SHAPE_AFTER_PREFIX 20
#define TOKEN_SHAPE_RUN 43

static bool is_base62(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * SECURITY: L2: a name (user, group, display, token) is audited, listed and shown to others;
 * one holding an API token, or most of one, would put the secret there. Refused with a
 * message that does not repeat it.
 */
static int no_token_in(const char *what, const char *s)
{
	static const char prefix[] = "trawl_";
	size_t run = 0;

	for (const char *p = s ? s : ""; *p; p++) {
		bool is_prefixed = strncmp(p, prefix, sizeof(prefix) - 1) == 0;
		size_t n = 0;

		if (is_prefixed)
			while (is_base62((unsigned char)p[sizeof(prefix) - 1 + n]))
				n++;
		run = is_base62((unsigned char)*p) ? run + 1 : 0;
		if ((is_prefixed && n >= TOKEN_SHAPE_AFTER_PREFIX) || run >= TOKEN_SHAPE_RUN) {
			error_set("%s may not hold an API token (\"trawl_\" and %d letters or "
				  "digits, or %d in a row): pick a name that is not a secret",
				  what, TOKEN_SHAPE_AFTER_PREFIX, TOKEN_SHAPE_RUN);
			return TRAWL_EINVAL;
		}
	}
	return 0;
}

/* Hashes a new password (policy checked) under the hashing semaphore. */
static int password_hash(struct auth *a, char out[AUTH_PWHASH_LEN], const char *user,
			 const char *password, size_t len)
{
	int err;

	if ((err = auth_password_check(user, password, len)) < 0)
		return err;
	sem_wait(&a->hashing);
	err = secret_pwhash(out, password, len, a->cfg.pwhash_cost);
	sem_post(&a->hashing);
	return err;
}

/* ---- users ---- */

int auth_user_add(struct auth *a, const struct auth_actor *by, const char *name,
		  const char *display_name, bool is_admin, const char *password, size_t len)
{
	char hash[AUTH_PWHASH_LEN] = "";
	struct buf d;
	int64_t id;
	int err;

	if ((err = auth_name_check(name)) < 0 || (err = no_token_in("a user name", name)) < 0 ||
	    (err = no_token_in("a display name", display_name)) < 0)
		return err;
	if (display_name && strnlen(display_name, AUTH_DISPLAY_MAX + 1) > AUTH_DISPLAY_MAX) {
		error_set("a display name is at most %d bytes", AUTH_DISPLAY_MAX);
		return TRAWL_EINVAL;
	}
	if (password && (err = password_hash(a, hash, name, password, len)) < 0)
		return err;
	pthread_mutex_lock(&a->lock);
	err = locked(a, store_user_add(&id, a->st, name, display_name, is_admin,
				       password ? hash : NULL, auth_now(a)));
	sodium_memzero(hash, sizeof(hash));
	if (err < 0)
		return err;
	detail_begin(&d);
	detail_bool(&d, "admin", is_admin);
	err = audit_change(a, by, "user_added", name, detail_end(&d));
	buf_dispose(&d);
	return err;
}

static void user_from_store(struct auth_user *out, struct store_user *u)
{
	*out = (struct auth_user){
		.id = u->id,
		.is_admin = u->is_admin,
		.is_disabled = u->is_disabled,
		.created_ms = u->created_ms,
		.last_seen_ms = u->last_seen_ms,
		.groups = u->groups,
		.n_groups = u->n_groups,
		.source = strcmp(u->source, "oidc") == 0    ? AUTH_SOURCE_OIDC
			  : strcmp(u->source, "proxy") == 0 ? AUTH_SOURCE_PROXY
							    : AUTH_SOURCE_LOCAL,
		.issuer = u->issuer,
		.subject = u->subject,
	};
	snprintf(out->name, sizeof(out->name), "%s", u->name);
	snprintf(out->display_name, sizeof(out->display_name), "%s", u->display_name);
	u->groups = NULL; /* moved */
	u->n_groups = 0;
	u->issuer = NULL;
	u->subject = NULL;
	store_user_dispose(u);
}

void auth_user_dispose(struct auth_user *u)
{
	if (!u)
		return;
	store_names_free(u->groups, u->n_groups);
	free(u->issuer);
	free(u->subject);
	memset(u, 0, sizeof(*u));
}

void auth_users_free(struct auth_user *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		auth_user_dispose(&v[i]);
	free(v);
}

int auth_user_get(struct auth_user *out, struct auth *a, const char *name)
{
	struct store_user u;
	int err;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_user_get(&u, a->st, name))) == 0)
		user_from_store(out, &u);
	return err;
}

int auth_user_list(struct auth_user **out, size_t *n, struct auth *a)
{
	struct store_user *v = NULL;
	struct auth_user *r = NULL;
	size_t len = 0;
	int err;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_user_list(&v, &len, a->st))) < 0)
		return err;
	if (len && !(r = calloc(len, sizeof(*r)))) {
		store_users_free(v, len);
		return error_nomem("listing users");
	}
	for (size_t i = 0; i < len; i++)
		user_from_store(&r[i], &v[i]);
	free(v);
	*out = r;
	*n = len;
	return 0;
}

int auth_user_set_disabled(struct auth *a, const struct auth_actor *by, const char *name,
			   bool is_disabled)
{
	const char *event = is_disabled ? "user_disabled" : "user_enabled";
	bool is_changed;
	int err;

	/* Disabling ends every session and token in the same transaction (S6). */
	if ((err = notice_flags_set(&is_changed, a, name, -1, is_disabled)) < 0)
		return err;
	err = audit_one(a, by, event, name, NULL, NULL);
	return is_changed ? notice_tell(a, err, by, name, event, NULL) : err;
}

int auth_user_set_display_name(struct auth *a, const struct auth_actor *by, const char *name,
			       const char *display_name)
{
	int err;

	if (strnlen(display_name, AUTH_DISPLAY_MAX + 1) > AUTH_DISPLAY_MAX) {
		error_set("a display name is at most %d bytes", AUTH_DISPLAY_MAX);
		return TRAWL_EINVAL;
	}
	if ((err = no_token_in("a display name", display_name)) < 0)
		return err;
	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_user_set_display_name(a->st, name, display_name))) < 0)
		return err;
	return audit_one(a, by, "user_display_name", name, "display_name", display_name);
}

int auth_user_set_admin(struct auth *a, const struct auth_actor *by, const char *name, bool is_admin)
{
	struct buf d;
	bool is_changed;
	int err;

	if ((err = notice_flags_set(&is_changed, a, name, is_admin, -1)) < 0)
		return err;
	detail_begin(&d);
	detail_bool(&d, "admin", is_admin);
	err = audit_change(a, by, "user_admin", name, detail_end(&d));
	buf_dispose(&d);
	return is_admin && is_changed ? notice_tell(a, err, by, name, "admin_granted", NULL) : err;
}

/*
 * A5: the current password must verify before a user changes their own; wrong ones count
 * against the same throttles as sign-in failures (A6).
 */
static int current_verify(struct auth *a, const struct auth_actor *by, const char *name,
			  const char *current, size_t len)
{
	const char *address = actor_address(by);
	int64_t now = auth_now(a);
	struct store_user u;
	unsigned retry_after_s;
	bool is_ok;
	int err;

	if (!auth_fail_allowed(a, name, address, now, &retry_after_s)) {
		error_set("too many wrong passwords; retry in %u s", retry_after_s);
		return TRAWL_ELIMIT;
	}
	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_user_get(&u, a->st, name))) < 0)
		return err;
	sem_wait(&a->hashing);
	if (u.password_hash && len <= AUTH_PASSWORD_MAX) {
		is_ok = secret_pwverify(u.password_hash, current, len);
	} else {
		secret_pwverify_dummy(current, len, a->cfg.pwhash_cost);
		is_ok = false;
	}
	sem_post(&a->hashing);
	store_user_dispose(&u);
	if (!is_ok) {
		auth_fail_count(a, name, address, now);
		error_set("the current password is wrong");
		return TRAWL_EAUTH;
	}
	auth_fail_clear(a, name, address);
	return 0;
}

int auth_user_set_password(struct auth *a, const struct auth_actor *by, const char *name,
			   const char *current, size_t current_len, const char *password, size_t len)
{
	char hash[AUTH_PWHASH_LEN];
	int err;

	if (current && (err = current_verify(a, by, name, current, current_len)) < 0)
		return err;
	if ((err = password_hash(a, hash, name, password, len)) < 0)
		return err;
	pthread_mutex_lock(&a->lock);
	/* Ends every session and token of the user in the same transaction. */
	err = locked(a, store_user_set_password(a->st, name, hash));
	sodium_memzero(hash, sizeof(hash));
	if (err < 0)
		return err;
	err = audit_one(a, by, "password_changed", name, NULL, NULL);
	return notice_tell(a, err, by, name, "password_changed", NULL);
}

/* ---- groups ---- */

int auth_group_add(struct auth *a, const struct auth_actor *by, const char *group)
{
	int err;

	if ((err = auth_name_check(group)) < 0 || (err = no_token_in("a group name", group)) < 0)
		return err;
	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_group_add(a->st, group))) < 0)
		return err;
	return audit_one(a, by, "group_added", group, NULL, NULL);
}

int auth_group_remove(struct auth *a, const struct auth_actor *by, const char *group)
{
	int err;

	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_group_remove(a->st, group))) < 0)
		return err;
	return audit_one(a, by, "group_removed", group, NULL, NULL);
}

int auth_group_member(struct auth *a, const struct auth_actor *by, const char *group,
		      const char *user, bool is_member)
{
	int err;

	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_group_member(a->st, group, user, is_member))) < 0)
		return err;
	return audit_one(a, by, is_member ? "member_added" : "member_removed", group, "user", user);
}

int auth_group_list(struct auth_group **out, size_t *n, struct auth *a)
{
	struct store_group *v = NULL;
	struct auth_group *r = NULL;
	size_t len = 0;
	int err;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_group_list(&v, &len, a->st))) < 0)
		return err;
	if (len && !(r = calloc(len, sizeof(*r)))) {
		store_groups_free(v, len);
		return error_nomem("listing groups");
	}
	for (size_t i = 0; i < len; i++) {
		snprintf(r[i].name, sizeof(r[i].name), "%s", v[i].name);
		r[i].is_synced = v[i].is_synced;
		r[i].members = v[i].members;
		r[i].n_members = v[i].n_members;
		v[i].members = NULL;
		v[i].n_members = 0;
	}
	store_groups_free(v, len);
	*out = r;
	*n = len;
	return 0;
}

void auth_groups_free(struct auth_group *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		store_names_free(v[i].members, v[i].n_members);
	free(v);
}

/* ---- grants and public flags ---- */

int auth_grant(struct auth *a, const struct auth_actor *by, const char *repo, const char *user,
	       const char *group, bool is_granted)
{
	int err;

	if (!user == !group) {
		error_set("a grant names exactly one user or one group");
		return TRAWL_EINVAL;
	}
	if ((err = repo_name_check(repo)) < 0)
		return err;
	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_grant(a->st, repo, user, group, is_granted))) < 0)
		return err;
	return audit_one(a, by, is_granted ? "grant" : "revoke", repo, user ? "user" : "group",
			 user ? user : group);
}

int auth_repo_set_public(struct auth *a, const struct auth_actor *by, const char *repo,
			 bool is_public)
{
	int err;

	if ((err = repo_name_check(repo)) < 0)
		return err;
	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_repo_public(a->st, repo, is_public))) < 0)
		return err;
	return audit_one(a, by, is_public ? "repo_public" : "repo_private", repo, NULL, NULL);
}

int auth_repo_forget(struct auth *a, const struct auth_actor *by, const char *repo)
{
	int err;

	if ((err = repo_name_check(repo)) < 0)
		return err;
	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_repo_access_forget(a->st, repo))) < 0)
		return err;
	return audit_one(a, by, "repo_removed", repo, NULL, NULL);
}

int auth_repo_added(struct auth *a, const struct auth_actor *by, const char *repo)
{
	return audit_one(a, by, "repo_added", repo, NULL, NULL);
}

int auth_repo_access_list(struct auth_repo_access **out, size_t *n, struct auth *a)
{
	struct store_access *v = NULL;
	struct auth_repo_access *r = NULL;
	size_t len = 0;
	int err;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_access_list(&v, &len, a->st))) < 0)
		return err;
	if (len && !(r = calloc(len, sizeof(*r)))) {
		store_accesses_free(v, len);
		return error_nomem("listing repository access");
	}
	for (size_t i = 0; i < len; i++) {
		r[i] = (struct auth_repo_access){
			.repo = v[i].repo,
			.is_public = v[i].is_public,
			.users = v[i].users,
			.groups = v[i].groups,
			.n_users = v[i].n_users,
			.n_groups = v[i].n_groups,
		};
	}
	free(v); /* the contents moved to r */
	*out = r;
	*n = len;
	return 0;
}

void auth_accesses_free(struct auth_repo_access *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].repo);
		store_names_free(v[i].users, v[i].n_users);
		store_names_free(v[i].groups, v[i].n_groups);
	}
	free(v);
}

/* ---- API tokens ---- */

static void token_from_store(struct auth_token *out, const struct store_token *t)
{
	*out = (struct auth_token){
		.id = t->id,
		.scope = t->scope,
		.created_ms = t->created_ms,
		.expires_ms = t->expires_ms,
		.last_used_ms = t->last_used_ms,
		.is_revoked = t->is_revoked,
	};
	snprintf(out->user, sizeof(out->user), "%s", t->user);
	snprintf(out->name, sizeof(out->name), "%s", t->label);
	snprintf(out->prefix, sizeof(out->prefix), "%s", t->prefix);
}

static int token_args(const struct store_user *u, const char *label, unsigned scope,
		      int64_t expires_s)
{
	if (scope != AUTH_SCOPE_SEARCH && scope != AUTH_SCOPE_ADMIN) {
		error_set("a token's scope is search or admin");
		return TRAWL_EINVAL;
	}
	if (label && strnlen(label, AUTH_NAME_MAX + 1) > AUTH_NAME_MAX) {
		error_set("a token's name is at most %d bytes", AUTH_NAME_MAX);
		return TRAWL_EINVAL;
	}
	if (no_token_in("a token's name", label) < 0)
		return TRAWL_EINVAL;
	if (expires_s < 0 || expires_s > 100LL * 365 * 24 * 3600) {
		error_set("a token expires after 0 to 100 years");
		return TRAWL_EINVAL;
	}
	if (u->is_disabled) {
		error_set("user \"%s\" is disabled", u->name);
		return TRAWL_EINVAL;
	}
	if (scope == AUTH_SCOPE_ADMIN && !u->is_admin) {
		error_set("only an administrator's token may have the admin scope");
		return TRAWL_EPERM;
	}
	return 0;
}

static int token_audit(struct auth *a, const struct auth_actor *by, const char *event,
		       const struct auth_token *t)
{
	char id[24];
	struct buf d;
	int err;

	snprintf(id, sizeof(id), "%lld", (long long)t->id);
	detail_begin(&d);
	detail_str(&d, "user", t->user);
	detail_str(&d, "name", t->name);
	detail_str(&d, "scope", t->scope == AUTH_SCOPE_ADMIN ? "admin" : "search");
	err = audit_change(a, by, event, id, detail_end(&d));
	buf_dispose(&d);
	return err;
}

int auth_token_create(struct auth_token *out, char secret[AUTH_TOKEN_LEN + 1], struct auth *a,
		      const struct auth_actor *by, const char *user, const char *label,
		      unsigned scope, int64_t expires_s)
{
	struct store_user u;
	struct store_token t;
	unsigned char hash[32];
	int64_t now = auth_now(a), id;
	int err;

	secret[0] = '\0';
	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_user_get(&u, a->st, user))) < 0)
		return err;
	err = token_args(&u, label, scope, expires_s);
	if (err == 0)
		err = auth_token_expiry(&expires_s, a, &u, by, expires_s);
	if (err < 0)
		goto out;
	/* SECURITY: A9: the secret is shown once; only its keyed hash is stored. */
	secret_token_new(secret);
	secret_hasher_hash(&a->hasher, hash, secret, AUTH_TOKEN_LEN);
	t = (struct store_token){
		.user_id = u.id,
		.scope = scope,
		.created_ms = now,
		.expires_ms = now + expires_s * 1000,
	};
	snprintf(t.user, sizeof(t.user), "%s", u.name);
	snprintf(t.label, sizeof(t.label), "%s", label ? label : "");
	snprintf(t.prefix, sizeof(t.prefix), "%.10s", secret);
	pthread_mutex_lock(&a->lock);
	err = locked(a, store_token_add(&id, a->st, u.id, t.label, hash, t.prefix, scope,
					t.created_ms, t.expires_ms));
	if (err < 0) {
		sodium_memzero(secret, AUTH_TOKEN_LEN + 1);
		goto out;
	}
	t.id = id;
	{
		struct auth_token at;

		token_from_store(&at, &t);
		if (out)
			*out = at;
		err = token_audit(a, by, "token_created", &at);
		if (!by || !by->name || strcmp(by->name, u.name) != 0)
			err = notice_tell(a, err, by, u.name, "token_created", at.name);
	}
out:
	store_user_dispose(&u);
	return err;
}

int auth_token_list(struct auth_token **out, size_t *n, struct auth *a, const char *user)
{
	struct store_token *v = NULL;
	struct auth_token *r = NULL;
	size_t len = 0;
	int err;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_token_list(&v, &len, a->st, user))) < 0)
		return err;
	if (len && !(r = calloc(len, sizeof(*r)))) {
		free(v);
		return error_nomem("listing tokens");
	}
	for (size_t i = 0; i < len; i++)
		token_from_store(&r[i], &v[i]);
	free(v);
	*out = r;
	*n = len;
	return 0;
}

int auth_token_revoke(struct auth *a, const struct auth_actor *by, int64_t id, const char *owner)
{
	struct store_token t;
	struct auth_token at;
	int err;

	pthread_mutex_lock(&a->lock);
	if ((err = locked(a, store_token_revoke(&t, a->st, id, owner))) < 0)
		return err;
	token_from_store(&at, &t);
	return token_audit(a, by, "token_revoked", &at);
}
