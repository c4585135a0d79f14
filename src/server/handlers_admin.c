/*
 * The administration routes (docs/api.md, "Administration"): users and their passwords, groups
 * and their members, repository access (grants and public flags) and the audit trail. Every
 * row is ROUTE_PERM_ADMIN, so the dispatcher has refused everyone else before a handler runs.
 * A change goes through auth.h, which checks it, applies it and audits it with the acting
 * administrator and the client address (access_actor, server/access.h); nothing here writes
 * the store itself.
 *
 * A change that names several users or groups checks that all of them exist before applying
 * any, so a typo answers 404 without a half-applied change.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "auth/auth.h"
#include "server/access.h"
#include "server/handlers_admin.h"
#include "server/server_int.h"
#include "store/store.h"
#include "util/error.h"
#include "util/json.h"
#include "util/rfc3339.h"

/* The largest number of audit events one request returns. */
#define AUDIT_LIMIT_MAX 10000

#define N_FIELDS(f) (sizeof(f) / sizeof((f)[0]))

/* ---- the caller, the body ---- */

/* A boolean member of a body req_json_body has checked: false, with *is_set false, if absent. */
static bool bool_of(bool *is_set, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	*is_set = v != NULL;
	return json_is_true(v);
}

/*
 * An array of names in o[key] (absent: an empty one): EINVAL unless every element is a
 * string. *out borrows o's array.
 */
static int opt_names(const json_t **out, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_array(v)) {
		error_set("\"%s\" must be an array of names", key);
		return TRAWL_EINVAL;
	}
	for (size_t i = 0; i < json_array_size(v); i++)
		if (!json_is_string(json_array_get(v, i))) {
			error_set("\"%s\" must be an array of names", key);
			return TRAWL_EINVAL;
		}
	*out = v;
	return 0;
}

/* Name i of an array opt_names accepted (NULL array: none). */
static const char *name_at(const json_t *names, size_t i)
{
	return json_string_value(json_array_get(names, i));
}

/* SECURITY: a password read from a body is wiped before jansson frees it. */
static void wipe_string(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
}

/* ---- JSON output ---- */

static int put_str(struct buf *b, const char *s)
{
	return json_put_string(b, s, strlen(s), NULL);
}

/* Unix milliseconds as an RFC 3339 UTC string, or null for 0 (never). */
static int put_time_ms(struct buf *b, int64_t ms)
{
	return ms > 0 ? handlers_put_time(b, ms / 1000) : buf_puts(b, "null");
}

static int put_names(struct buf *b, char *const *v, size_t n)
{
	int err = buf_putc(b, '[');

	for (size_t i = 0; i < n && !err; i++)
		if (!(err = i ? buf_putc(b, ',') : 0))
			err = put_str(b, v[i]);
	return err < 0 ? err : buf_putc(b, ']');
}

/* USER: never a hash, an id or anything but what an administrator manages (Z6). */
static int put_user(struct buf *b, const struct auth_user *u)
{
	int err;

	if ((err = buf_puts(b, "{\"name\":")) < 0 || (err = put_str(b, u->name)) < 0 ||
	    (err = buf_puts(b, ",\"display_name\":")) < 0 ||
	    (err = put_str(b, u->display_name)) < 0 ||
	    (err = buf_printf(b, ",\"is_admin\":%s,\"is_disabled\":%s,\"created\":",
			      u->is_admin ? "true" : "false", u->is_disabled ? "true" : "false")) <
		    0 ||
	    (err = put_time_ms(b, u->created_ms)) < 0 || (err = buf_puts(b, ",\"last_seen\":")) < 0 ||
	    (err = put_time_ms(b, u->last_seen_ms)) < 0 || (err = buf_puts(b, ",\"groups\":")) < 0 ||
	    (err = put_names(b, u->groups, u->n_groups)) < 0 ||
	    (err = buf_puts(b, ",\"source\":")) < 0 ||
	    (err = put_str(b, auth_source_name(u->source))) < 0 ||
	    (err = buf_puts(b, ",\"issuer\":")) < 0 ||
	    (err = (u->issuer ? put_str(b, u->issuer) : buf_puts(b, "null"))) < 0 ||
	    (err = buf_puts(b, ",\"subject\":")) < 0 ||
	    (err = (u->subject ? put_str(b, u->subject) : buf_puts(b, "null"))) < 0)
		return err;
	return buf_putc(b, '}');
}

static int put_group(struct buf *b, const struct auth_group *g)
{
	int err;

	if ((err = buf_puts(b, "{\"name\":")) < 0 || (err = put_str(b, g->name)) < 0 ||
	    (err = buf_puts(b, ",\"members\":")) < 0 ||
	    (err = put_names(b, g->members, g->n_members)) < 0)
		return err;
	return buf_putc(b, '}');
}

/* An access row; ac NULL: a repository without grants or flag. */
static int put_access(struct buf *b, const char *repo, const struct auth_repo_access *ac)
{
	int err;

	if ((err = buf_puts(b, "{\"repo\":")) < 0 || (err = put_str(b, repo)) < 0 ||
	    (err = buf_printf(b, ",\"public\":%s,\"users\":",
			      ac && ac->is_public ? "true" : "false")) < 0 ||
	    (err = put_names(b, ac ? ac->users : NULL, ac ? ac->n_users : 0)) < 0 ||
	    (err = buf_puts(b, ",\"groups\":")) < 0 ||
	    (err = put_names(b, ac ? ac->groups : NULL, ac ? ac->n_groups : 0)) < 0)
		return err;
	return buf_putc(b, '}');
}

/* The detail is a JSON object auth_audit was given by trawl's own code; anything else is {}. */
static int put_event(struct buf *b, const struct auth_event *e)
{
	const char *d = e->detail && e->detail[0] == '{' ? e->detail : "{}";
	int err;

	if ((err = buf_printf(b, "{\"id\":%lld,\"time\":", (long long)e->id)) < 0 ||
	    (err = put_time_ms(b, e->ts_ms)) < 0 || (err = buf_puts(b, ",\"event\":")) < 0 ||
	    (err = put_str(b, e->event ? e->event : "")) < 0 ||
	    (err = buf_puts(b, ",\"actor\":")) < 0 ||
	    (err = put_str(b, e->actor ? e->actor : "")) < 0 ||
	    (err = buf_puts(b, ",\"target\":")) < 0 ||
	    (err = put_str(b, e->target ? e->target : "")) < 0 ||
	    (err = buf_puts(b, ",\"address\":")) < 0 ||
	    (err = put_str(b, e->address ? e->address : "")) < 0 ||
	    (err = buf_puts(b, ",\"detail\":")) < 0 || (err = buf_puts(b, d)) < 0)
		return err;
	return buf_putc(b, '}');
}

/* Answers status with b's JSON; a buffer failure is the server's own (500). */
static int respond(struct req *rq, unsigned status, int err)
{
	if (err < 0)
		return handlers_internal(err);
	rq->status = status;
	return 0;
}

static int respond_user(struct req *rq, unsigned status, const char *name)
{
	struct auth_user u = { 0 };
	int err = auth_user_get(&u, rq->caller.auth, name);

	if (err < 0)
		return err;
	err = put_user(&rq->body, &u);
	auth_user_dispose(&u);
	return respond(rq, status, err);
}

/* ---- checks before a change ---- */

/* Every user in names exists: ENOTFOUND naming the first that does not. */
static int users_exist(struct auth *a, const json_t *names)
{
	for (size_t i = 0; i < json_array_size(names); i++) {
		struct auth_user u = { 0 };
		int err = auth_user_get(&u, a, name_at(names, i));

		if (err < 0)
			return err;
		auth_user_dispose(&u);
	}
	return 0;
}

static const struct auth_group *group_find(const struct auth_group *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

/* Whether group exists: ENOTFOUND (naming it) when not, EIO. */
static int group_check(struct auth *a, const char *group)
{
	struct auth_group *v = NULL;
	size_t n = 0;
	int err = auth_group_list(&v, &n, a);

	if (err == 0 && !group_find(v, n, group)) {
		error_set("no group \"%.*s\"", AUTH_NAME_MAX, group);
		err = TRAWL_ENOTFOUND;
	}
	auth_groups_free(v, n);
	return err;
}

/* Every group in names exists: ENOTFOUND naming the first that does not. */
static int groups_exist(struct auth *a, const json_t *names)
{
	int err;

	for (size_t i = 0; i < json_array_size(names); i++)
		if ((err = group_check(a, name_at(names, i))) < 0)
			return err;
	return 0;
}

/* A name both added and removed (granted and revoked) by one request is refused. */
static int disjoint(const json_t *x, const json_t *y, const char *what)
{
	for (size_t i = 0; i < json_array_size(x); i++)
		for (size_t k = 0; k < json_array_size(y); k++)
			if (strcmp(name_at(x, i), name_at(y, k)) == 0) {
				error_set("%s \"%.*s\" is in both lists", what, AUTH_NAME_MAX,
					  name_at(x, i));
				return TRAWL_EINVAL;
			}
	return 0;
}

/* ---- users ---- */

int handlers_admin_users(struct req *rq)
{
	struct auth_user *v = NULL;
	size_t n = 0;
	int err;

	if ((err = auth_user_list(&v, &n, rq->caller.auth)) < 0)
		return handlers_internal(err);
	err = buf_puts(&rq->body, "{\"users\":[");
	for (size_t i = 0; i < n && !err; i++)
		if (!(err = i ? buf_putc(&rq->body, ',') : 0))
			err = put_user(&rq->body, &v[i]);
	auth_users_free(v, n);
	return respond(rq, 200, err < 0 ? err : buf_puts(&rq->body, "]}"));
}

static const struct req_field f_user_add[] = {
	{ "name", REQ_STRING, true },
	{ "display_name", REQ_STRING, false },
	{ "admin", REQ_BOOL, false },
	{ "password", REQ_STRING, false },
};

/*
 * Adds the user; without a password one is generated and shown in this answer only (as
 * `trawl user add` prints it), for the administrator to hand over.
 */
static int user_add(struct req *rq, const json_t *o)
{
	struct auth_actor by = access_actor(&rq->caller);
	const char *name = req_body_str(o, "name", NULL),
		   *display = req_body_str(o, "display_name", NULL);
	size_t password_len;
	const char *password = req_body_str(o, "password", &password_len);
	char generated[21] = "";
	bool has_admin, is_admin = bool_of(&has_admin, o, "admin");
	int err;

	if (!password) {
		auth_password_generate(generated);
		password = generated;
		password_len = strlen(generated);
	}
	err = auth_user_add(rq->caller.auth, &by, name, display, is_admin, password, password_len);
	if (err == 0 && (err = buf_puts(&rq->body, "{\"user\":")) == 0 &&
	    (err = respond_user(rq, 201, name)) == 0 && generated[0] &&
	    (err = buf_puts(&rq->body, ",\"password\":")) == 0)
		err = put_str(&rq->body, generated);
	explicit_bzero(generated, sizeof(generated));
	return err < 0 ? err : respond(rq, 201, buf_putc(&rq->body, '}'));
}

int handlers_admin_user_add(struct req *rq)
{
	json_t *o = NULL;
	int err;

	if ((err = req_json_body(&o, rq, f_user_add, N_FIELDS(f_user_add))) == 0)
		err = user_add(rq, o);
	if (o)
		wipe_string(o, "password");
	json_decref(o);
	return err;
}

static const struct req_field f_user_set[] = {
	{ "display_name", REQ_STRING, false },
	{ "admin", REQ_BOOL, false },
	{ "disabled", REQ_BOOL, false },
};

static int user_set(struct req *rq, const json_t *o)
{
	struct auth_actor by = access_actor(&rq->caller);
	struct auth_user u = { 0 };
	const char *name = rq->args.name, *display = req_body_str(o, "display_name", NULL);
	bool has_admin, is_admin = bool_of(&has_admin, o, "admin");
	bool has_disabled, is_disabled = bool_of(&has_disabled, o, "disabled");
	int err;

	if ((err = auth_user_get(&u, rq->caller.auth, name)) < 0)
		return err;
	auth_user_dispose(&u);
	/* Enabling first and disabling last: a request never leaves no administrator between. */
	if ((has_disabled && !is_disabled &&
	     (err = auth_user_set_disabled(rq->caller.auth, &by, name, false)) < 0) ||
	    (display &&
	     (err = auth_user_set_display_name(rq->caller.auth, &by, name, display)) < 0) ||
	    (has_admin && (err = auth_user_set_admin(rq->caller.auth, &by, name, is_admin)) < 0) ||
	    (has_disabled && is_disabled &&
	     (err = auth_user_set_disabled(rq->caller.auth, &by, name, true)) < 0))
		return err;
	return respond_user(rq, 200, name);
}

int handlers_admin_user_set(struct req *rq)
{
	json_t *o = NULL;
	int err;

	if ((err = req_json_body(&o, rq, f_user_set, N_FIELDS(f_user_set))) == 0)
		err = user_set(rq, o);
	json_decref(o);
	return err;
}

static const struct req_field f_password[] = { { "password", REQ_STRING, true } };

/* An administrator resets a password: no current password, and every session ends. */
int handlers_admin_user_password(struct req *rq)
{
	struct auth_actor by = access_actor(&rq->caller);
	json_t *o = NULL;
	const char *password;
	size_t len;
	int err;

	if ((err = req_json_body(&o, rq, f_password, N_FIELDS(f_password))) < 0)
		goto out;
	password = req_body_str(o, "password", &len);
	if ((err = auth_user_set_password(rq->caller.auth, &by, rq->args.name, NULL, 0, password,
					  len)) == 0)
		rq->status = 204;
out:
	if (o)
		wipe_string(o, "password");
	json_decref(o);
	return err;
}

/* ---- groups ---- */

int handlers_admin_groups(struct req *rq)
{
	struct auth_group *v = NULL;
	size_t n = 0;
	int err;

	if ((err = auth_group_list(&v, &n, rq->caller.auth)) < 0)
		return handlers_internal(err);
	err = buf_puts(&rq->body, "{\"groups\":[");
	for (size_t i = 0; i < n && !err; i++)
		if (!(err = i ? buf_putc(&rq->body, ',') : 0))
			err = put_group(&rq->body, &v[i]);
	auth_groups_free(v, n);
	return respond(rq, 200, err < 0 ? err : buf_puts(&rq->body, "]}"));
}

/* Answers the group called name (ENOTFOUND when there is none). */
static int respond_group(struct req *rq, unsigned status, const char *name)
{
	struct auth_group *v = NULL;
	const struct auth_group *g;
	size_t n = 0;
	int err;

	if ((err = auth_group_list(&v, &n, rq->caller.auth)) < 0)
		return handlers_internal(err);
	if (!(g = group_find(v, n, name))) {
		error_set("no group \"%.*s\"", AUTH_NAME_MAX, name);
		err = TRAWL_ENOTFOUND;
	} else {
		err = respond(rq, status, put_group(&rq->body, g));
	}
	auth_groups_free(v, n);
	return err;
}

static const struct req_field f_group_add[] = { { "name", REQ_STRING, true } };

int handlers_admin_group_add(struct req *rq)
{
	struct auth_actor by = access_actor(&rq->caller);
	json_t *o = NULL;
	const char *name;
	int err;

	if ((err = req_json_body(&o, rq, f_group_add, N_FIELDS(f_group_add))) < 0)
		return err;
	name = req_body_str(o, "name", NULL);
	if ((err = auth_group_add(rq->caller.auth, &by, name)) == 0)
		err = respond_group(rq, 201, name);
	json_decref(o);
	return err;
}

int handlers_admin_group_remove(struct req *rq)
{
	struct auth_actor by = access_actor(&rq->caller);
	int err = auth_group_remove(rq->caller.auth, &by, rq->args.name);

	if (err == 0)
		rq->status = 204;
	return err;
}

static const struct req_field f_members[] = {
	{ "add", REQ_ARRAY, false },
	{ "remove", REQ_ARRAY, false },
};

static int members_set(struct req *rq, const json_t *o)
{
	struct auth_actor by = access_actor(&rq->caller);
	struct auth *a = rq->caller.auth;
	const char *group = rq->args.name;
	const json_t *add, *del;
	int err;

	if ((err = opt_names(&add, o, "add")) < 0 || (err = opt_names(&del, o, "remove")) < 0 ||
	    (err = disjoint(add, del, "user")) < 0 || (err = group_check(a, group)) < 0 ||
	    (err = users_exist(a, add)) < 0 || (err = users_exist(a, del)) < 0)
		return err;
	for (size_t i = 0; i < json_array_size(add); i++)
		if ((err = auth_group_member(a, &by, group, name_at(add, i), true)) < 0)
			return err;
	for (size_t i = 0; i < json_array_size(del); i++)
		if ((err = auth_group_member(a, &by, group, name_at(del, i), false)) < 0)
			return err;
	return respond_group(rq, 200, group);
}

int handlers_admin_members(struct req *rq)
{
	json_t *o = NULL;
	int err;

	if ((err = req_json_body(&o, rq, f_members, N_FIELDS(f_members))) == 0)
		err = members_set(rq, o);
	json_decref(o);
	return err;
}

/* ---- repository access ---- */

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int cmp_access(const void *x, const void *y)
{
	return strcmp(((const struct auth_repo_access *)x)->repo,
		      ((const struct auth_repo_access *)y)->repo);
}

static const struct auth_repo_access *access_find(const struct auth_repo_access *v, size_t n,
						  const char *repo)
{
	struct auth_repo_access key = { .repo = (char *)repo };

	/* An empty list may be NULL, which bsearch and qsort must not be given. */
	return n ? bsearch(&key, v, n, sizeof(*v), cmp_access) : NULL;
}

static void access_sort(struct auth_repo_access *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), cmp_access);
}

/*
 * What the access list covers: the repositories of the index, of the registry and of the
 * grants (a grant may outlive its repository's index), sorted by name and each once.
 * Borrowed names; free *out only.
 */
static int access_names(const char ***out, size_t *n, const struct snapshot *s,
			const struct store_repo *regs, size_t n_regs,
			const struct auth_repo_access *acs, size_t n_acs)
{
	size_t n_snap = s ? s->n_repos : 0, total = n_snap + n_regs + n_acs, k = 0;
	const char **v = calloc(total ? total : 1, sizeof(*v));

	*out = NULL;
	*n = 0;
	if (!v)
		return error_nomem("listing repository access");
	for (size_t i = 0; i < n_snap; i++)
		v[k++] = s->repos[i].name;
	for (size_t i = 0; i < n_regs; i++)
		v[k++] = regs[i].name;
	for (size_t i = 0; i < n_acs; i++)
		v[k++] = acs[i].repo;
	qsort(v, total, sizeof(*v), cmp_str);
	for (size_t i = 0; i < total; i++)
		if (*n == 0 || strcmp(v[*n - 1], v[i]) != 0)
			v[(*n)++] = v[i];
	*out = v;
	return 0;
}

static int put_access_list(struct buf *b, const struct snapshot *s, const struct store_repo *regs,
			   size_t n_regs, const struct auth_repo_access *acs, size_t n_acs)
{
	const char **names = NULL;
	size_t n = 0;
	int err;

	if ((err = access_names(&names, &n, s, regs, n_regs, acs, n_acs)) < 0)
		return err;
	err = buf_puts(b, "{\"repos\":[");
	for (size_t i = 0; i < n && !err; i++)
		if (!(err = i ? buf_putc(b, ',') : 0))
			err = put_access(b, names[i], access_find(acs, n_acs, names[i]));
	free(names);
	return err < 0 ? err : buf_puts(b, "]}");
}

int handlers_admin_access(struct req *rq)
{
	struct store *st = NULL;
	struct store_repo *regs = NULL;
	struct auth_repo_access *acs = NULL;
	size_t n_regs = 0, n_acs = 0;
	int err;

	rq->snap = snapstore_get(rq->s->store); /* released with the request; NULL: no index */
	if ((err = handlers_registry_open(&st, rq)) < 0 ||
	    (st && (err = store_repo_list_brief(&regs, &n_regs, st)) < 0)) {
		store_close(st);
		return handlers_registry_error(rq);
	}
	store_close(st);
	if ((err = auth_repo_access_list(&acs, &n_acs, rq->caller.auth)) < 0) {
		err = handlers_internal(err);
		goto out;
	}
	access_sort(acs, n_acs);
	err = respond(rq, 200, put_access_list(&rq->body, rq->snap, regs, n_regs, acs, n_acs));
out:
	auth_accesses_free(acs, n_acs);
	store_repos_free(regs, n_regs);
	return err;
}

/* Whether repo is in the index or the registry: ENOTFOUND otherwise. */
static int repo_exists(struct req *rq, const char *repo)
{
	struct store *st = NULL;
	struct store_repo sr = { 0 };
	int err;

	rq->snap = snapstore_get(rq->s->store);
	if (rq->snap && snapshot_repo(rq->snap, repo))
		return 0;
	if ((err = handlers_registry_open(&st, rq)) < 0)
		return handlers_registry_error(rq);
	err = st ? store_repo_get(&sr, st, repo) : TRAWL_ENOTFOUND;
	store_close(st);
	if (err == 0)
		store_repo_dispose(&sr);
	else if (err != TRAWL_ENOTFOUND)
		return handlers_registry_error(rq);
	else
		error_set("no repository \"%.*s\" in the index or the registry", ROUTE_NAME_MAX,
			  repo);
	return err;
}

static const struct req_field f_access[] = {
	{ "public", REQ_BOOL, false },
	{ "grant", REQ_OBJECT, false },
	{ "revoke", REQ_OBJECT, false },
};

/* The users and groups of a "grant" or "revoke" object (absent: none). */
struct principals {
	const json_t *users, *groups;
};

/* The object key of the body (an object, by req_json_body's check), absent: none. */
static int principals_of(struct principals *out, const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	int err;

	*out = (struct principals){ 0 };
	/* SECURITY: unknown fields are refused here as at the top level (Z6). */
	for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
		const char *k = json_object_iter_key(it);

		if (strcmp(k, "users") != 0 && strcmp(k, "groups") != 0) {
			error_set("unknown field \"%s.%.64s\" in the request body", key, k);
			return TRAWL_EINVAL;
		}
	}
	if ((err = opt_names(&out->users, v, "users")) < 0)
		return err;
	return opt_names(&out->groups, v, "groups");
}

/* Grants or revokes repo to every user and group of p. */
static int apply_grants(struct auth *a, const struct auth_actor *by, const char *repo,
			const struct principals *p, bool is_granted)
{
	int err;

	for (size_t i = 0; i < json_array_size(p->users); i++)
		if ((err = auth_grant(a, by, repo, name_at(p->users, i), NULL, is_granted)) < 0)
			return err;
	for (size_t i = 0; i < json_array_size(p->groups); i++)
		if ((err = auth_grant(a, by, repo, NULL, name_at(p->groups, i), is_granted)) < 0)
			return err;
	return 0;
}

static int respond_access(struct req *rq, const char *repo)
{
	struct auth_repo_access *acs = NULL;
	size_t n = 0;
	int err;

	if ((err = auth_repo_access_list(&acs, &n, rq->caller.auth)) < 0)
		return handlers_internal(err);
	access_sort(acs, n);
	err = respond(rq, 200, put_access(&rq->body, repo, access_find(acs, n, repo)));
	auth_accesses_free(acs, n);
	return err;
}

static int access_set(struct req *rq, const json_t *o)
{
	struct auth_actor by = access_actor(&rq->caller);
	struct auth *a = rq->caller.auth;
	const char *repo = rq->args.name;
	struct principals grant, revoke;
	bool has_public, is_public = bool_of(&has_public, o, "public");
	int err;

	if ((err = principals_of(&grant, o, "grant")) < 0 ||
	    (err = principals_of(&revoke, o, "revoke")) < 0 ||
	    (err = disjoint(grant.users, revoke.users, "user")) < 0 ||
	    (err = disjoint(grant.groups, revoke.groups, "group")) < 0 ||
	    (err = repo_exists(rq, repo)) < 0 || (err = users_exist(a, grant.users)) < 0 ||
	    (err = users_exist(a, revoke.users)) < 0 || (err = groups_exist(a, grant.groups)) < 0 ||
	    (err = groups_exist(a, revoke.groups)) < 0)
		return err;
	if ((has_public && (err = auth_repo_set_public(a, &by, repo, is_public)) < 0) ||
	    (err = apply_grants(a, &by, repo, &grant, true)) < 0 ||
	    (err = apply_grants(a, &by, repo, &revoke, false)) < 0)
		return err;
	return respond_access(rq, repo);
}

int handlers_admin_repo_access(struct req *rq)
{
	json_t *o = NULL;
	int err;

	if ((err = req_json_body(&o, rq, f_access, N_FIELDS(f_access))) == 0)
		err = access_set(rq, o);
	json_decref(o);
	return err;
}

/* ---- the audit trail ---- */

/* A decimal number in [min, max] (no sign, no spaces). EINVAL with what names it. */
static int parse_count(int64_t *out, const char *s, int64_t min, int64_t max, const char *what)
{
	char *end = NULL;
	long long v;

	if (s[0] < '0' || s[0] > '9' || (v = strtoll(s, &end, 10), *end) || v < min || v > max) {
		error_set("\"%s\" must be a number from %lld to %lld", what, (long long)min,
			  (long long)max);
		return TRAWL_EINVAL;
	}
	*out = v;
	return 0;
}

/* The since parameter, unix seconds or RFC 3339, in unix milliseconds (0 for before 1970). */
static int parse_since(int64_t *out_ms, const char *s)
{
	char why[160];
	int64_t v = 0;
	int err;

	if (s[strspn(s, "0123456789")] == '\0') {
		err = parse_count(&v, s, 0, INT64_MAX / 1000, "since");
		v = v > 0 ? v * 1000 : 0;
	} else if ((err = rfc3339_parse(&v, s, strlen(s))) < 0) {
		snprintf(why, sizeof(why), "%s", error_last());
		error_set("\"since\" must be an RFC 3339 time (2026-12-03T14:00:00Z) or unix "
			  "seconds (%s)",
			  why);
	}
	*out_ms = v > 0 ? v : 0;
	return err;
}

/* The filter of GET /api/v1/audit from its parameters (an empty one is no filter). EINVAL. */
static int audit_filter(struct auth_audit_filter *f, struct req *rq)
{
	const char *since, *limit;
	size_t len;
	int64_t n = 0;
	int err;

	*f = (struct auth_audit_filter){ .limit = 0 };
	if ((err = req_param(&f->user, &len, rq, "user")) < 0 ||
	    (err = req_param(&f->event, &len, rq, "event")) < 0 ||
	    (err = req_param(&since, &len, rq, "since")) < 0 ||
	    (err = req_param(&limit, &len, rq, "limit")) < 0 ||
	    (since && (err = parse_since(&f->since_ms, since)) < 0) ||
	    (limit && (err = parse_count(&n, limit, 1, AUDIT_LIMIT_MAX, "limit")) < 0))
		return err;
	f->limit = (size_t)n;
	if (f->user && !f->user[0])
		f->user = NULL;
	if (f->event && !f->event[0])
		f->event = NULL;
	return 0;
}

int handlers_admin_audit(struct req *rq)
{
	struct auth_audit_filter f;
	struct auth_event *v = NULL;
	size_t n = 0;
	int err;

	if ((err = audit_filter(&f, rq)) < 0)
		return err;
	if ((err = auth_audit_list(&v, &n, rq->caller.auth, &f)) < 0)
		return handlers_internal(err);
	err = buf_puts(&rq->body, "{\"events\":[");
	for (size_t i = 0; i < n && !err; i++)
		if (!(err = i ? buf_putc(&rq->body, ',') : 0))
			err = put_event(&rq->body, &v[i]);
	auth_events_free(v, n);
	return respond(rq, 200, err < 0 ? err : buf_puts(&rq->body, "]}"));
}

/* ---- sync now ---- */

/*
 * POST /api/v1/repos/{name}/sync: marks the registered repository due at once
 * (store_repo_request_sync) and wakes the scheduler, which runs its `trawl sync --due` soon
 * after; 202, since the sync itself takes its time. A server without a scheduler
 * (--sync-interval 0) answers 409: nothing would run the sync. Audited in team mode, as every
 * administrator's change is (laptop mode audits none).
 */
int handlers_admin_repo_sync(struct req *rq)
{
	const char *name = rq->args.name;
	struct store *st = NULL;
	struct store_repo r = { 0 };
	struct auth_actor by = access_actor(&rq->caller);
	int err;

	if (!rq->s->cfg->sync_interval_s) {
		req_error(rq, 409, "conflict",
			  "this server does not sync (started with --sync-interval 0): run trawl "
			  "sync NAME on it, or restart it with a sync interval",
			  0);
		return 0;
	}
	if ((err = handlers_registry_open(&st, rq)) < 0)
		return handlers_registry_error(rq);
	if (!st)
		return handlers_not_found("no repository is registered on this server (trawl repo "
					  "add)");
	err = store_repo_get(&r, st, name);
	if (err == 0)
		err = store_repo_request_sync(st, r.id, (int64_t)time(NULL));
	store_repo_dispose(&r);
	store_close(st);
	if (err == TRAWL_ENOTFOUND)
		return handlers_not_found("no such repository in the registry");
	if (err < 0)
		return handlers_registry_error(rq);
	atomic_store(&rq->s->sync_wanted, true);
	if (rq->caller.who.kind != AUTH_LOCAL &&
	    auth_audit(rq->s->auth, "repo_sync", by.name, name, by.address, NULL) < 0)
		log_msg("error", "cannot audit a sync request", "error", error_last());
	if (buf_puts(&rq->body, "{\"name\":") < 0 ||
	    json_put_string(&rq->body, name, strlen(name), NULL) < 0 ||
	    buf_puts(&rq->body, ",\"sync\":\"requested\"}") < 0)
		return handlers_internal(TRAWL_ENOMEM);
	rq->status = 202;
	return 0;
}
