/*
 * The accounts tables (SQLite or PostgreSQL: db.h); see accounts.h. Every statement is a
 * constant string with bound parameters (V1), run through store.c's helpers (store_int.h).
 */
#include "store/accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"
#include "util/array.h"
#include "util/error.h"

static int bind_blob(struct store *s, struct db_stmt *st, int i, const unsigned char *v, size_t len)
{
	int rc = db_bind_blob(st, i, v, len);

	return rc == DB_OK ? 0 : store_db_error(s, rc, "binding a value");
}

static void col_copy(char *dst, size_t cap, struct db_stmt *st, int col)
{
	const unsigned char *t = db_column_text(st, col);

	snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* Steps st expecting one row: ENOTFOUND (with msg) when none. */
static int step_row(struct store *s, struct db_stmt *st, const char *what, const char *missing)
{
	int rc = db_step(st);

	if (rc == DB_ROW)
		return 0;
	if (rc == DB_DONE) {
		error_set("%s", missing);
		return TRAWL_ENOTFOUND;
	}
	return store_db_error(s, rc, what);
}

/* Reads one integer: the first column of st's single row. */
static int one_i64(struct store *s, struct db_stmt *st, int64_t *out, const char *what)
{
	int rc = db_step(st);

	if (rc != DB_ROW)
		return store_db_error(s, rc == DB_DONE ? DB_CORRUPT : rc, what);
	*out = db_column_int64(st, 0);
	return 0;
}

int store_acl_generation(struct store *s, int64_t *out)
{
	int err;

	if (!s->generation &&
	    (err = prep(&s->generation, s, "SELECT value FROM acl_generation WHERE id = 1")) < 0)
		return err;
	err = one_i64(s, s->generation, out, "reading the ACL generation");
	db_reset(s->generation);
	return err;
}

/* The id of user (or group, when is_group) name. ENOTFOUND, EIO. */
static int id_of(int64_t *id, struct store *s, const char *name, bool is_group)
{
	struct db_stmt *st = NULL;
	char missing[160];
	int err;

	snprintf(missing, sizeof(missing), "no %s named \"%.*s\"", is_group ? "group" : "user",
		 STORE_NAME_MAX, name);
	err = is_group ? prep(&st, s, "SELECT id FROM groups WHERE name = ?1")
		       : prep(&st, s, "SELECT id FROM users WHERE name = ?1");
	if (err == 0 && (err = store_bind_text(s, st, 1, name)) == 0 &&
	    (err = step_row(s, st, "looking up a name", missing)) == 0)
		*id = db_column_int64(st, 0);
	db_finalize(st);
	return err;
}

/* ---- users ---- */

int store_user_counts(struct store *s, int64_t *n_users, int64_t *n_admins)
{
	int err;

	if (!s->user_counts &&
	    (err = prep(&s->user_counts, s, "SELECT count(*), coalesce(sum(CASE WHEN is_admin <> 0 AND "
					     "is_disabled = 0 THEN 1 ELSE 0 END), 0) FROM users")) < 0)
		return err;
	if ((err = one_i64(s, s->user_counts, n_users, "counting users")) == 0)
		*n_admins = db_column_int64(s->user_counts, 1);
	db_reset(s->user_counts);
	return err;
}

/* The error of a name already taken, naming the one that holds it: it may differ in case. */
static void name_taken(struct store *s, bool is_group, const char *name)
{
	struct db_stmt *st = NULL;
	const char *held = NULL;
	int err;

	err = is_group ? prep(&st, s, "SELECT name FROM groups WHERE name = ?1 COLLATE NOCASE")
		       : prep(&st, s, "SELECT name FROM users WHERE name = ?1 COLLATE NOCASE");
	if (err == 0 && store_bind_text(s, st, 1, name) == 0 && db_step(st) == DB_ROW)
		held = (const char *)db_column_text(st, 0);
	error_set("a %s named \"%s\" already exists", is_group ? "group" : "user",
		  held ? held : name);
	db_finalize(st);
}

/* Steps an insert or rename of name: EINVAL naming the holder when the name is taken. */
static int step_named(struct store *s, struct db_stmt *st, bool is_group, const char *name,
		      const char *what)
{
	int rc = db_step(st);

	if (rc == DB_CONSTRAINT_UNIQUE) {
		name_taken(s, is_group, name);
		return TRAWL_EINVAL;
	}
	return rc == DB_DONE ? 0 : store_db_error(s, rc, what);
}

int store_user_add(int64_t *id, struct store *s, const char *name, const char *display_name,
		   bool is_admin, const char *password_hash, int64_t now_ms)
{
	struct db_stmt *st = NULL;
	int err;

	*id = 0;
	if ((err = prep(&st, s, "INSERT INTO users (name, display_name, is_admin, password_hash, "
				"created_ms) VALUES (?1, ?2, ?3, ?4, ?5)")) < 0 ||
	    (err = store_bind_text(s, st, 1, name)) < 0 ||
	    (err = store_bind_text(s, st, 2, display_name ? display_name : "")) < 0 ||
	    (err = store_bind_i64(s, st, 3, is_admin)) < 0 ||
	    (err = store_bind_text(s, st, 4, password_hash)) < 0 ||
	    (err = store_bind_i64(s, st, 5, now_ms)) < 0)
		goto out;
	if ((err = step_named(s, st, false, name, "adding a user")) == 0)
		*id = db_last_insert_id(s->db);
out:
	db_finalize(st);
	return err;
}

void store_user_dispose(struct store_user *u)
{
	if (!u)
		return;
	free(u->name);
	free(u->display_name);
	free(u->source);
	free(u->issuer);
	free(u->subject);
	if (u->password_hash) {
		memset(u->password_hash, 0, strlen(u->password_hash));
		free(u->password_hash);
	}
	store_names_free(u->groups, u->n_groups);
	memset(u, 0, sizeof(*u));
}

void store_users_free(struct store_user *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		store_user_dispose(&v[i]);
	free(v);
}

#define USER_COLUMNS \
	"id, name, display_name, is_admin, is_disabled, password_hash, created_ms, last_seen_ms, " \
	"source, issuer, subject"

static int user_groups(struct store *s, struct store_user *u)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "SELECT g.name FROM groups g JOIN group_members m "
				"ON m.group_id = g.id WHERE m.user_id = ?1 ORDER BY g.name")) == 0 &&
	    (err = store_bind_i64(s, st, 1, u->id)) == 0)
		err = store_names_read(&u->groups, &u->n_groups, s, st, "listing a user's groups");
	db_finalize(st);
	return err;
}

static int row_user(void *elem, struct store *s, struct db_stmt *st)
{
	struct store_user *u = elem;
	bool oom = false;
	int err;

	memset(u, 0, sizeof(*u));
	u->id = db_column_int64(st, 0);
	u->name = store_dup_col(st, 1, &oom);
	u->display_name = store_dup_col(st, 2, &oom);
	u->is_admin = db_column_int(st, 3) != 0;
	u->is_disabled = db_column_int(st, 4) != 0;
	u->password_hash = store_dup_col(st, 5, &oom);
	u->created_ms = db_column_int64(st, 6);
	u->last_seen_ms = db_column_int64(st, 7);
	u->source = store_dup_col(st, 8, &oom);
	u->issuer = store_dup_col(st, 9, &oom);
	u->subject = store_dup_col(st, 10, &oom);
	if (oom || !u->name || !u->display_name || !u->source)
		err = error_nomem("reading a user");
	else
		err = user_groups(s, u);
	if (err < 0)
		store_user_dispose(u);
	return err;
}

int store_user_get(struct store_user *out, struct store *s, const char *name)
{
	struct db_stmt *st = NULL;
	char missing[160];
	int err;

	memset(out, 0, sizeof(*out));
	snprintf(missing, sizeof(missing), "no user named \"%.*s\"", STORE_NAME_MAX, name);
	if ((err = prep(&st, s, "SELECT " USER_COLUMNS " FROM users WHERE name = ?1")) == 0 &&
	    (err = store_bind_text(s, st, 1, name)) == 0 &&
	    (err = step_row(s, st, "reading a user", missing)) == 0)
		err = row_user(out, s, st);
	db_finalize(st);
	return err;
}

static void free_users(void *v, size_t n)
{
	store_users_free(v, n);
}

int store_user_list(struct store_user **out, size_t *n, struct store *s)
{
	static const struct store_rows rows = {
		.elem_size = sizeof(struct store_user),
		.read = row_user,
		.free = free_users,
		.what = "listing users",
	};
	struct db_stmt *st = NULL;
	void *v = NULL;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = prep(&st, s, "SELECT " USER_COLUMNS " FROM users ORDER BY name")) == 0 &&
	    (err = store_rows_read(&v, n, s, st, &rows)) == 0)
		*out = v;
	db_finalize(st);
	return err;
}

/* Ends every session and revokes every token of user id (in the caller's transaction). */
static int end_credentials(struct store *s, int64_t id)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "DELETE FROM sessions WHERE user_id = ?1")) < 0 ||
	    (err = store_bind_i64(s, st, 1, id)) < 0 ||
	    (err = store_run(s, st, "ending sessions")) < 0)
		goto out;
	db_finalize(st);
	st = NULL;
	if ((err = prep(&st, s, "UPDATE tokens SET revoked = 1 WHERE user_id = ?1")) == 0 &&
	    (err = store_bind_i64(s, st, 1, id)) == 0)
		err = store_run(s, st, "revoking tokens");
out:
	db_finalize(st);
	return err;
}

static int set_flags(struct store *s, int64_t id, int is_admin, int is_disabled)
{
	struct db_stmt *st = NULL;
	int64_t before = 0, after = 0, n_users = 0;
	int err;

	if ((err = store_user_counts(s, &n_users, &before)) < 0 ||
	    (err = prep(&st, s, "UPDATE users SET is_admin = CASE WHEN ?2 < 0 THEN is_admin "
				"ELSE ?2 END, is_disabled = CASE WHEN ?3 < 0 THEN is_disabled "
				"ELSE ?3 END WHERE id = ?1")) < 0 ||
	    (err = store_bind_i64(s, st, 1, id)) < 0 ||
	    (err = store_bind_i64(s, st, 2, is_admin)) < 0 ||
	    (err = store_bind_i64(s, st, 3, is_disabled)) < 0 ||
	    (err = store_run(s, st, "updating a user")) < 0 ||
	    (err = store_user_counts(s, &n_users, &after)) < 0)
		goto out;
	/* SECURITY: the last enabled administrator stays one, or nobody could manage trawl. */
	if (before > 0 && after == 0) {
		error_set("this is the last enabled administrator: make another one first");
		err = TRAWL_EINVAL;
		goto out;
	}
	if (is_disabled > 0)
		err = end_credentials(s, id);
out:
	db_finalize(st);
	return err;
}

int store_user_set_flags(struct store *s, const char *name, int is_admin, int is_disabled)
{
	int64_t id = 0;
	int err;

	if ((err = store_tx_begin(s)) < 0)
		return err;
	if ((err = id_of(&id, s, name, false)) == 0)
		err = set_flags(s, id, is_admin, is_disabled);
	return store_tx_end(s, err);
}

int store_user_set_display_name(struct store *s, const char *name, const char *display_name)
{
	struct db_stmt *st = NULL;
	int64_t id;
	int err;

	if ((err = id_of(&id, s, name, false)) == 0 &&
	    (err = prep(&st, s, "UPDATE users SET display_name = ?2 WHERE id = ?1")) == 0 &&
	    (err = store_bind_i64(s, st, 1, id)) == 0 &&
	    (err = store_bind_text(s, st, 2, display_name)) == 0)
		err = store_run(s, st, "setting a display name");
	db_finalize(st);
	return err;
}

int store_user_set_password(struct store *s, const char *name, const char *password_hash)
{
	struct db_stmt *st = NULL;
	int64_t id = 0;
	int err;

	if ((err = store_tx_begin(s)) < 0)
		return err;
	if ((err = id_of(&id, s, name, false)) < 0 ||
	    (err = prep(&st, s, "UPDATE users SET password_hash = ?2 WHERE id = ?1")) < 0 ||
	    (err = store_bind_i64(s, st, 1, id)) < 0 ||
	    (err = store_bind_text(s, st, 2, password_hash)) < 0 ||
	    (err = store_run(s, st, "setting a password")) < 0)
		goto out;
	err = end_credentials(s, id);
out:
	db_finalize(st);
	return store_tx_end(s, err);
}

int store_user_seen(struct store *s, int64_t user_id, int64_t now_ms)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "UPDATE users SET last_seen_ms = ?2 WHERE id = ?1")) == 0 &&
	    (err = store_bind_i64(s, st, 1, user_id)) == 0 &&
	    (err = store_bind_i64(s, st, 2, now_ms)) == 0)
		err = store_run(s, st, "recording a user's last use");
	db_finalize(st);
	return err;
}

/* ---- external identities ---- */

int store_user_find_link(struct store_user *out, struct store *s, const char *issuer,
			 const char *subject)
{
	struct db_stmt *st = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = prep(&st, s, "SELECT " USER_COLUMNS " FROM users WHERE issuer = ?1 "
			"AND subject = ?2")) == 0 &&
	    (err = store_bind_text(s, st, 1, issuer)) == 0 &&
	    (err = store_bind_text(s, st, 2, subject)) == 0 &&
	    (err = step_row(s, st, "reading a linked user", "no user is linked to that identity")) ==
		    0)
		err = row_user(out, s, st);
	db_finalize(st);
	return err;
}

int store_user_add_external(int64_t *id, struct store *s, const struct store_external *x,
			    int64_t now_ms)
{
	struct db_stmt *st = NULL;
	int err;

	*id = 0;
	if ((err = prep(&st, s, "INSERT INTO users (name, display_name, is_admin, created_ms, "
			"source, issuer, subject) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")) < 0 ||
	    (err = store_bind_text(s, st, 1, x->name)) < 0 ||
	    (err = store_bind_text(s, st, 2, x->display_name ? x->display_name : "")) < 0 ||
	    (err = store_bind_i64(s, st, 3, x->is_admin)) < 0 ||
	    (err = store_bind_i64(s, st, 4, now_ms)) < 0 ||
	    (err = store_bind_text(s, st, 5, x->source)) < 0 ||
	    (err = store_bind_text(s, st, 6, x->issuer)) < 0 ||
	    (err = store_bind_text(s, st, 7, x->subject)) < 0)
		goto out;
	if ((err = step_named(s, st, false, x->name, "adding a user")) == 0)
		*id = db_last_insert_id(s->db);
out:
	db_finalize(st);
	return err;
}

static int user_rename(struct store *s, int64_t id, const char *name)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "UPDATE users SET name = ?2 WHERE id = ?1")) < 0 ||
	    (err = store_bind_i64(s, st, 1, id)) < 0 || (err = store_bind_text(s, st, 2, name)) < 0)
		goto out;
	err = step_named(s, st, false, name, "renaming a user");
out:
	db_finalize(st);
	return err;
}

static int user_admin_display(struct store *s, int64_t id, int is_admin, const char *display_name)
{
	struct db_stmt *st = NULL;
	int err;

	/* Written only when something differs: the trigger bumps the ACL on any admin write. */
	if ((err = prep(&st, s, "UPDATE users SET is_admin = CASE WHEN ?2 < 0 THEN is_admin ELSE "
			"?2 END, display_name = coalesce(?3, display_name) WHERE id = ?1 AND "
			"((?2 >= 0 AND is_admin <> ?2) OR display_name <> coalesce(?3, "
			"display_name))")) == 0 &&
	    (err = store_bind_i64(s, st, 1, id)) == 0 &&
	    (err = store_bind_i64(s, st, 2, is_admin)) == 0 &&
	    (err = store_bind_text(s, st, 3, display_name)) == 0)
		err = store_run(s, st, "updating a user");
	db_finalize(st);
	return err;
}

int store_user_external_set(struct store *s, int64_t id, const char *name, int is_admin,
			    const char *display_name)
{
	int err;

	if ((err = store_tx_begin(s)) < 0)
		return err;
	if (name)
		err = user_rename(s, id, name);
	if (err == 0)
		err = user_admin_display(s, id, is_admin, display_name);
	return store_tx_end(s, err);
}

int store_user_link(struct store *s, const char *name, const char *source, const char *issuer,
		    const char *subject)
{
	struct db_stmt *st = NULL;
	int64_t id = 0;
	int err, rc;

	if ((err = store_tx_begin(s)) < 0)
		return err;
	if ((err = id_of(&id, s, name, false)) < 0 ||
	    (err = prep(&st, s, "UPDATE users SET source = ?2, issuer = ?3, subject = ?4, "
			"password_hash = NULL WHERE id = ?1")) < 0 ||
	    (err = store_bind_i64(s, st, 1, id)) < 0 ||
	    (err = store_bind_text(s, st, 2, source)) < 0 ||
	    (err = store_bind_text(s, st, 3, issuer)) < 0 ||
	    (err = store_bind_text(s, st, 4, subject)) < 0)
		goto out;
	rc = db_step(st);
	if (rc == DB_CONSTRAINT_UNIQUE) {
		error_set("that identity is already linked to another user");
		err = TRAWL_EINVAL;
	} else if (rc != DB_DONE) {
		err = store_db_error(s, rc, "linking a user");
	} else {
		err = end_credentials(s, id);
	}
out:
	db_finalize(st);
	return store_tx_end(s, err);
}

int store_user_synced_groups(char ***out, size_t *n, struct store *s, int64_t user_id)
{
	struct db_stmt *st = NULL;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = prep(&st, s, "SELECT g.name FROM groups g JOIN group_members m ON m.group_id "
			"= g.id WHERE m.user_id = ?1 AND m.source = 'sync' ORDER BY g.name")) == 0 &&
	    (err = store_bind_i64(s, st, 1, user_id)) == 0)
		err = store_names_read(out, n, s, st, "listing a user's synced groups");
	db_finalize(st);
	return err;
}

/* Runs st (?1 a group name, and ?2 user_id when it has one) once for each of names. */
static int run_each(struct store *s, struct db_stmt *st, int64_t user_id, const char *const *names,
		    size_t n, const char *what)
{
	int err = 0;

	for (size_t i = 0; i < n && err == 0; i++) {
		db_reset(st);
		if ((err = store_bind_text(s, st, 1, names[i])) == 0 &&
		    (db_param_count(st) < 2 || (err = store_bind_i64(s, st, 2, user_id)) == 0))
			err = store_run(s, st, what);
	}
	return err;
}

static int sync_add(struct store *s, int64_t user_id, const char *const *add, size_t n)
{
	struct db_stmt *group = NULL, *member = NULL;
	int err;

	/* OR IGNORE: a group of that name in another case is the same group (NOCASE index). */
	if ((err = prep(&group, s, "INSERT OR IGNORE INTO groups (name, source) "
			"VALUES (?1, 'sync')")) == 0 &&
	    (err = prep(&member, s, "INSERT OR IGNORE INTO group_members (group_id, user_id, "
			"source) SELECT id, ?2, 'sync' FROM groups WHERE name = ?1 "
			"COLLATE NOCASE")) == 0 &&
	    (err = run_each(s, group, user_id, add, n, "adding a synced group")) == 0)
		err = run_each(s, member, user_id, add, n, "adding a synced membership");
	db_finalize(group);
	db_finalize(member);
	return err;
}

static int sync_remove(struct store *s, int64_t user_id, const char *const *remove, size_t n)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "DELETE FROM group_members WHERE user_id = ?2 AND source = 'sync' "
			"AND group_id IN (SELECT id FROM groups WHERE name = ?1 COLLATE "
			"NOCASE)")) == 0)
		err = run_each(s, st, user_id, remove, n, "ending a synced membership");
	db_finalize(st);
	return err;
}

/*
 * Deletes each of names that a sync made (source not local) and that now has no member and no
 * grant: a provider's passing names do not pile up. One that holds a grant stays, so the grant
 * still means that group when its members come back.
 */
static int sync_drop_empty(struct store *s, const char *const *names, size_t n)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "DELETE FROM groups WHERE name = ?1 COLLATE NOCASE AND source "
			"<> 'local' AND NOT EXISTS (SELECT 1 FROM group_members m WHERE "
			"m.group_id = groups.id) AND NOT EXISTS (SELECT 1 FROM repo_grants r "
			"WHERE r.group_id = groups.id)")) == 0)
		err = run_each(s, st, 0, names, n, "deleting an empty synced group");
	db_finalize(st);
	return err;
}

int store_groups_sync(struct store *s, int64_t user_id, const char *const *add, size_t n_add,
		      const char *const *remove, size_t n_remove)
{
	int err;

	if ((err = store_tx_begin(s)) < 0)
		return err;
	if ((err = sync_remove(s, user_id, remove, n_remove)) == 0 &&
	    (err = sync_drop_empty(s, remove, n_remove)) == 0)
		err = sync_add(s, user_id, add, n_add);
	return store_tx_end(s, err);
}

/* ---- groups ---- */

int store_group_add(struct store *s, const char *name)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "INSERT INTO groups (name) VALUES (?1)")) < 0 ||
	    (err = store_bind_text(s, st, 1, name)) < 0)
		goto out;
	err = step_named(s, st, true, name, "adding a group");
out:
	db_finalize(st);
	return err;
}

int store_group_remove(struct store *s, const char *name)
{
	struct db_stmt *st = NULL;
	int err;

	/* Memberships and grants go with it (ON DELETE CASCADE). */
	if ((err = prep(&st, s, "DELETE FROM groups WHERE name = ?1")) == 0 &&
	    (err = store_bind_text(s, st, 1, name)) == 0 &&
	    (err = store_run(s, st, "removing a group")) == 0 && db_changes(s->db) == 0) {
		error_set("no group named \"%s\"", name);
		err = TRAWL_ENOTFOUND;
	}
	db_finalize(st);
	return err;
}

int store_group_member(struct store *s, const char *group, const char *user, bool is_member)
{
	struct db_stmt *st = NULL;
	int64_t gid = 0, uid = 0;
	int err;

	if ((err = id_of(&gid, s, group, true)) < 0 || (err = id_of(&uid, s, user, false)) < 0)
		return err;
	/* An administrator's membership is theirs: a sync's own becomes local, and stays. */
	err = is_member ? prep(&st, s, "INSERT INTO group_members (group_id, user_id) VALUES "
			       "(?1, ?2) ON CONFLICT DO UPDATE SET source = 'local'")
			: prep(&st, s, "DELETE FROM group_members WHERE group_id = ?1 "
			       "AND user_id = ?2");
	if (err == 0 && (err = store_bind_i64(s, st, 1, gid)) == 0 &&
	    (err = store_bind_i64(s, st, 2, uid)) == 0)
		err = store_run(s, st, "changing a membership");
	db_finalize(st);
	return err;
}

void store_groups_free(struct store_group *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		store_names_free(v[i].members, v[i].n_members);
	}
	free(v);
}

static int group_members(struct store *s, struct store_group *g)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "SELECT u.name FROM users u JOIN group_members m "
				"ON m.user_id = u.id JOIN groups g ON g.id = m.group_id "
				"WHERE g.name = ?1 ORDER BY u.name")) == 0 &&
	    (err = store_bind_text(s, st, 1, g->name)) == 0)
		err = store_names_read(&g->members, &g->n_members, s, st, "listing members");
	db_finalize(st);
	return err;
}

static int read_group(void *elem, struct store *s, struct db_stmt *st)
{
	struct store_group *g = elem;
	bool oom = false;

	if (!(g->name = store_dup_col(st, 0, &oom)))
		return error_nomem("listing groups");
	g->is_synced = db_column_int(st, 1) != 0;
	return group_members(s, g);
}

static void free_groups(void *v, size_t n)
{
	store_groups_free(v, n);
}

int store_group_list(struct store_group **out, size_t *n, struct store *s)
{
	static const struct store_rows rows = {
		.elem_size = sizeof(struct store_group),
		.read = read_group,
		.free = free_groups,
		.what = "listing groups",
	};
	struct db_stmt *st = NULL;
	void *v = NULL;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = prep(&st, s, "SELECT name, source = 'sync' FROM groups ORDER BY name")) == 0 &&
	    (err = store_rows_read(&v, n, s, st, &rows)) == 0)
		*out = v;
	db_finalize(st);
	return err;
}

/* ---- grants and public flags ---- */

int store_grant(struct store *s, const char *repo, const char *user, const char *group,
		bool is_granted)
{
	struct db_stmt *st = NULL;
	int64_t id = 0;
	int err;

	if ((err = id_of(&id, s, user ? user : group, !user)) < 0)
		return err;
	if (is_granted)
		err = user ? prep(&st, s, "INSERT OR IGNORE INTO repo_grants (repo, user_id) "
					  "VALUES (?1, ?2)")
			   : prep(&st, s, "INSERT OR IGNORE INTO repo_grants (repo, group_id) "
					  "VALUES (?1, ?2)");
	else
		err = user ? prep(&st, s, "DELETE FROM repo_grants WHERE repo = ?1 AND user_id = ?2")
			   : prep(&st, s, "DELETE FROM repo_grants WHERE repo = ?1 AND group_id = ?2");
	if (err == 0 && (err = store_bind_text(s, st, 1, repo)) == 0 &&
	    (err = store_bind_i64(s, st, 2, id)) == 0)
		err = store_run(s, st, "changing a grant");
	db_finalize(st);
	return err;
}

int store_repo_public(struct store *s, const char *repo, bool is_public)
{
	struct db_stmt *st = NULL;
	int err;

	err = is_public ? prep(&st, s, "INSERT OR IGNORE INTO repo_public (repo) VALUES (?1)")
			: prep(&st, s, "DELETE FROM repo_public WHERE repo = ?1");
	if (err == 0 && (err = store_bind_text(s, st, 1, repo)) == 0)
		err = store_run(s, st, "changing a public flag");
	db_finalize(st);
	return err;
}

int store_repo_access_forget(struct store *s, const char *repo)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = store_tx_begin(s)) < 0)
		return err;
	if ((err = prep(&st, s, "DELETE FROM repo_grants WHERE repo = ?1")) < 0 ||
	    (err = store_bind_text(s, st, 1, repo)) < 0 ||
	    (err = store_run(s, st, "forgetting grants")) < 0)
		goto out;
	db_finalize(st);
	st = NULL;
	err = store_repo_public(s, repo, false);
out:
	db_finalize(st);
	return store_tx_end(s, err);
}

void store_accesses_free(struct store_access *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].repo);
		store_names_free(v[i].users, v[i].n_users);
		store_names_free(v[i].groups, v[i].n_groups);
	}
	free(v);
}

static int access_fill(struct store *s, struct store_access *a)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "SELECT u.name FROM repo_grants r JOIN users u "
				"ON u.id = r.user_id WHERE r.repo = ?1 ORDER BY u.name")) < 0 ||
	    (err = store_bind_text(s, st, 1, a->repo)) < 0 ||
	    (err = store_names_read(&a->users, &a->n_users, s, st, "listing grants")) < 0)
		goto out;
	db_finalize(st);
	st = NULL;
	if ((err = prep(&st, s, "SELECT g.name FROM repo_grants r JOIN groups g "
				"ON g.id = r.group_id WHERE r.repo = ?1 ORDER BY g.name")) < 0 ||
	    (err = store_bind_text(s, st, 1, a->repo)) < 0 ||
	    (err = store_names_read(&a->groups, &a->n_groups, s, st, "listing grants")) < 0)
		goto out;
	db_finalize(st);
	st = NULL;
	if ((err = prep(&st, s, "SELECT EXISTS (SELECT 1 FROM repo_public WHERE repo = ?1)")) == 0 &&
	    (err = store_bind_text(s, st, 1, a->repo)) == 0) {
		int64_t v = 0;

		err = one_i64(s, st, &v, "reading a public flag");
		a->is_public = v != 0;
	}
out:
	db_finalize(st);
	return err;
}

static int read_access(void *elem, struct store *s, struct db_stmt *st)
{
	struct store_access *a = elem;
	bool oom = false;

	if (!(a->repo = store_dup_col(st, 0, &oom)))
		return error_nomem("listing repository access");
	return access_fill(s, a);
}

static void free_accesses(void *v, size_t n)
{
	store_accesses_free(v, n);
}

int store_access_list(struct store_access **out, size_t *n, struct store *s)
{
	static const struct store_rows rows = {
		.elem_size = sizeof(struct store_access),
		.read = read_access,
		.free = free_accesses,
		.what = "listing repository access",
	};
	struct db_stmt *st = NULL;
	void *v = NULL;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = prep(&st, s, "SELECT repo FROM repo_public UNION "
				"SELECT repo FROM repo_grants ORDER BY 1")) == 0 &&
	    (err = store_rows_read(&v, n, s, st, &rows)) == 0)
		*out = v;
	db_finalize(st);
	return err;
}

/* ---- the ACL snapshot ---- */

/* Whether name is a copy store_acl_refresh made, not a part of the block. */
static bool acl_owns(const struct store_acl *acl, const char *name)
{
	uintptr_t block = (uintptr_t)acl->strings, p = (uintptr_t)name;

	return name && !(p >= block && p < block + acl->strings_len);
}

static void pairs_free_names(const struct store_acl *acl, struct store_acl_pair *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (acl_owns(acl, v[i].repo))
			free((void *)v[i].repo);
}

void store_acl_dispose(struct store_acl *acl)
{
	if (!acl)
		return;
	pairs_free_names(acl, acl->user_grants, acl->n_user_grants);
	pairs_free_names(acl, acl->group_grants, acl->n_group_grants);
	for (size_t i = 0; i < acl->n_public; i++)
		if (acl_owns(acl, acl->public_repos[i]))
			free((void *)acl->public_repos[i]);
	free(acl->users);
	free(acl->members);
	free(acl->user_grants);
	free(acl->group_grants);
	free((void *)acl->public_repos);
	free(acl->strings);
	memset(acl, 0, sizeof(*acl));
}

/*
 * Rows of (id, group id or NULL, repo or NULL) into pairs; repository names are appended to
 * the string block, whose offsets are turned into pointers once it stops moving.
 */
static int pairs_load(struct store_acl_pair **out, size_t *n, char **strings, size_t *strings_len,
		      size_t *strings_cap, struct store *s, struct db_stmt *st, const char *what)
{
	struct store_acl_pair *v = NULL;
	size_t cap = 0, len = 0;
	int err = 0, rc;

	while ((rc = db_step(st)) == DB_ROW) {
		const unsigned char *repo = db_column_text(st, 2);
		size_t rlen = repo ? (size_t)db_column_bytes(st, 2) + 1 : 0;

		if ((err = ARRAY_GROW(&v, &cap, len + 1)) < 0 ||
		    (rlen && (err = ARRAY_GROW(strings, strings_cap, *strings_len + rlen)) < 0))
			goto fail;
		v[len] = (struct store_acl_pair){
			.id = db_column_int64(st, 0),
			.group_id = db_column_int64(st, 1),
			/* an offset + 1 into the block until acl_fix_strings */
			.repo = repo ? (const char *)(uintptr_t)(*strings_len + 1) : NULL,
		};
		if (rlen) {
			memcpy(*strings + *strings_len, repo, rlen);
			*strings_len += rlen;
		}
		len++;
	}
	if (rc != DB_DONE) {
		err = store_db_error(s, rc, what);
		goto fail;
	}
	*out = v;
	*n = len;
	return 0;
fail:
	free(v);
	return err;
}

static void fix_strings(struct store_acl_pair *v, size_t n, const char *block)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].repo)
			v[i].repo = block + ((uintptr_t)v[i].repo - 1);
}

static int acl_users(struct store_acl *acl, struct store *s)
{
	struct db_stmt *st = NULL;
	size_t cap = 0;
	int err = 0, rc;

	if ((err = prep(&st, s, "SELECT id, is_admin, is_disabled FROM users ORDER BY id")) < 0)
		return err;
	while ((rc = db_step(st)) == DB_ROW) {
		if ((err = ARRAY_GROW(&acl->users, &cap, acl->n_users + 1)) < 0)
			goto out;
		acl->users[acl->n_users++] = (struct store_acl_user){
			.id = db_column_int64(st, 0),
			.is_admin = db_column_int(st, 1) != 0,
			.is_disabled = db_column_int(st, 2) != 0,
		};
	}
	if (rc != DB_DONE)
		err = store_db_error(s, rc, "reading users");
out:
	db_finalize(st);
	return err;
}

/* The three pair tables and the public list, in one pass each. */
static int acl_pairs(struct store_acl *acl, struct store *s)
{
	size_t len = 0, cap = 0;
	struct db_stmt *st = NULL;
	struct store_acl_pair *pub = NULL;
	size_t n_pub = 0;
	int err;

	/*
	 * In the order store_acl_refresh keeps: by the first field, then the second or the name.
	 * "WHERE user_id IS NOT NULL" is the partial index's own condition: it is read in order.
	 */
	err = prep(&st, s, "SELECT user_id, group_id, NULL FROM group_members ORDER BY 1, 2");
	if (err < 0 || (err = pairs_load(&acl->members, &acl->n_members, &acl->strings, &len, &cap, s,
					 st, "reading memberships")) < 0)
		goto out;
	db_finalize(st);
	st = NULL;
	err = prep(&st, s, "SELECT user_id, 0, repo FROM repo_grants WHERE user_id IS NOT NULL "
			   "ORDER BY 1, 3");
	if (err < 0 || (err = pairs_load(&acl->user_grants, &acl->n_user_grants, &acl->strings, &len,
					 &cap, s, st, "reading grants")) < 0)
		goto out;
	db_finalize(st);
	st = NULL;
	err = prep(&st, s, "SELECT group_id, 0, repo FROM repo_grants WHERE group_id IS NOT NULL "
			   "ORDER BY 1, 3");
	if (err < 0 || (err = pairs_load(&acl->group_grants, &acl->n_group_grants, &acl->strings,
					 &len, &cap, s, st, "reading grants")) < 0)
		goto out;
	db_finalize(st);
	st = NULL;
	if ((err = prep(&st, s, "SELECT 0, 0, repo FROM repo_public ORDER BY repo")) < 0 ||
	    (err = pairs_load(&pub, &n_pub, &acl->strings, &len, &cap, s, st,
			      "reading public flags")) < 0)
		goto out;
	if (n_pub && !(acl->public_repos = malloc(n_pub * sizeof(*acl->public_repos)))) {
		err = error_nomem("reading public flags");
		goto out;
	}
	fix_strings(acl->user_grants, acl->n_user_grants, acl->strings);
	fix_strings(acl->group_grants, acl->n_group_grants, acl->strings);
	fix_strings(pub, n_pub, acl->strings);
	for (size_t i = 0; i < n_pub; i++)
		acl->public_repos[i] = pub[i].repo;
	acl->n_public = n_pub;
	acl->strings_len = len;
out:
	if (err < 0) /* the names are offsets yet: store_acl_dispose must not free them */
		acl->n_user_grants = acl->n_group_grants = 0;
	free(pub);
	db_finalize(st);
	return err;
}

int store_acl_load(struct store_acl *out, struct store *s)
{
	int err, end;

	memset(out, 0, sizeof(*out));
	/* A read transaction: the tables and the generation are one consistent snapshot. */
	if ((err = store_tx_begin_read(s)) < 0)
		return err;
	if ((err = store_acl_generation(s, &out->generation)) == 0 && (err = acl_users(out, s)) == 0)
		err = acl_pairs(out, s);
	end = store_tx_end(s, 0);
	if (err == 0)
		err = end;
	if (err < 0) {
		store_acl_dispose(out);
		return err;
	}
	out->cap_users = out->n_users;
	out->cap_members = out->n_members;
	out->cap_user_grants = out->n_user_grants;
	out->cap_group_grants = out->n_group_grants;
	out->cap_public = out->n_public;
	return 0;
}

/*
 * ---- the ACL snapshot, brought up to date ----
 *
 * DESIGN: triggers write one acl_changes row per generation (store.c, migration 6) naming the key
 * a change touched. Applying a row re-reads that key's current truth (one indexed lookup) and
 * makes the sorted arrays agree: idempotent, so the order of the rows and repeated keys do not
 * matter, and a row never needs to say what was done. Far behind (a pruned log, a burst of
 * changes such as a group deleted with its grants) costs one full load instead.
 */

/* The kinds of acl_changes rows; 0 changes nothing a readable set reads. */
enum { ACL_NONE, ACL_USER, ACL_MEMBER, ACL_GRANT, ACL_PUBLIC };

/* More changes than this are not applied one by one: the whole ACL is loaded again. */
#define ACL_APPLY_MAX 512

/* Kept for one refresh: prepared when a row of their kind first needs them. */
struct acl_lookups {
	struct db_stmt *user, *member, *user_grant, *group_grant, *public_flag;
};

static void lookups_finalize(struct acl_lookups *q)
{
	db_finalize(q->user);
	db_finalize(q->member);
	db_finalize(q->user_grant);
	db_finalize(q->group_grant);
	db_finalize(q->public_flag);
}

static int pair_cmp(const struct store_acl_pair *x, const struct store_acl_pair *key)
{
	if (x->id != key->id)
		return x->id < key->id ? -1 : 1;
	if (x->group_id != key->group_id)
		return x->group_id < key->group_id ? -1 : 1;
	return x->repo && key->repo ? strcmp(x->repo, key->repo) : 0;
}

/* Makes key present (want) or absent in the sorted v[0..*n); a name added is copied. */
static int pair_set(struct store_acl *acl, struct store_acl_pair **v, size_t *n, size_t *cap,
		    struct store_acl_pair key, bool want)
{
	size_t lo = 0, hi = *n;
	int err;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pair_cmp(&(*v)[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if ((lo < *n && pair_cmp(&(*v)[lo], &key) == 0) == want)
		return 0;
	if (!want) {
		if (acl_owns(acl, (*v)[lo].repo))
			free((void *)(*v)[lo].repo);
		memmove(*v + lo, *v + lo + 1, (*n - lo - 1) * sizeof(**v));
		--*n;
		return 0;
	}
	if ((err = ARRAY_GROW(v, cap, *n + 1)) < 0)
		return err;
	if (key.repo && !(key.repo = strdup(key.repo)))
		return error_nomem("updating the access rules");
	memmove(*v + lo + 1, *v + lo, (*n - lo) * sizeof(**v));
	(*v)[lo] = key;
	++*n;
	return 0;
}

static int user_set(struct store_acl *acl, int64_t id, const struct store_acl_user *row)
{
	size_t lo = 0, hi = acl->n_users;
	int err;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (acl->users[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < acl->n_users && acl->users[lo].id == id) {
		if (row)
			acl->users[lo] = *row;
		else
			memmove(acl->users + lo, acl->users + lo + 1,
				(--acl->n_users - lo) * sizeof(*acl->users));
		return 0;
	}
	if (!row)
		return 0;
	if ((err = ARRAY_GROW(&acl->users, &acl->cap_users, acl->n_users + 1)) < 0)
		return err;
	memmove(acl->users + lo + 1, acl->users + lo, (acl->n_users - lo) * sizeof(*acl->users));
	acl->users[lo] = *row;
	acl->n_users++;
	return 0;
}

static int public_set(struct store_acl *acl, const char *repo, bool want)
{
	size_t lo = 0, hi = acl->n_public;
	char *copy;
	int err;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(acl->public_repos[mid], repo) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if ((lo < acl->n_public && strcmp(acl->public_repos[lo], repo) == 0) == want)
		return 0;
	if (!want) {
		if (acl_owns(acl, acl->public_repos[lo]))
			free((void *)acl->public_repos[lo]);
		memmove(acl->public_repos + lo, acl->public_repos + lo + 1,
			(--acl->n_public - lo) * sizeof(*acl->public_repos));
		return 0;
	}
	if ((err = ARRAY_GROW(&acl->public_repos, &acl->cap_public, acl->n_public + 1)) < 0)
		return err;
	if (!(copy = strdup(repo)))
		return error_nomem("updating the access rules");
	memmove(acl->public_repos + lo + 1, acl->public_repos + lo,
		(acl->n_public - lo) * sizeof(*acl->public_repos));
	acl->public_repos[lo] = copy;
	acl->n_public++;
	return 0;
}

/* Steps the bound st: whether it gave a row; reset for the next use. */
static int key_found(bool *found, struct store *s, struct db_stmt *st)
{
	int rc = db_step(st), err = 0;

	*found = rc == DB_ROW;
	if (rc != DB_ROW && rc != DB_DONE)
		err = store_db_error(s, rc, "re-reading a changed access rule");
	db_reset(st);
	return err;
}

static int apply_user(struct store_acl *acl, struct store *s, struct db_stmt **st, int64_t id)
{
	struct store_acl_user row = { .id = id };
	bool found;
	int rc, err;

	if (!*st && (err = prep(st, s, "SELECT is_admin, is_disabled FROM users WHERE id = ?1")) < 0)
		return err;
	if ((err = store_bind_i64(s, *st, 1, id)) < 0)
		return err;
	rc = db_step(*st);
	if ((found = rc == DB_ROW)) {
		row.is_admin = db_column_int(*st, 0) != 0;
		row.is_disabled = db_column_int(*st, 1) != 0;
	}
	db_reset(*st);
	if (rc != DB_ROW && rc != DB_DONE)
		return store_db_error(s, rc, "re-reading a changed user");
	return user_set(acl, id, found ? &row : NULL);
}

static int apply_member(struct store_acl *acl, struct store *s, struct db_stmt **st, int64_t user,
			int64_t group)
{
	struct store_acl_pair key = { .id = user, .group_id = group };
	bool found;
	int err = 0;

	if (!*st)
		err = prep(st, s, "SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?");
	if (err < 0)
		return err;
	if ((err = store_bind_i64(s, *st, 1, group)) < 0 ||
	    (err = store_bind_i64(s, *st, 2, user)) < 0 || (err = key_found(&found, s, *st)) < 0)
		return err;
	return pair_set(acl, &acl->members, &acl->n_members, &acl->cap_members, key, found);
}

static int apply_grant(struct store_acl *acl, struct store *s, struct acl_lookups *q, int64_t user,
		       int64_t group, const char *repo)
{
	struct store_acl_pair key = { .id = user ? user : group, .repo = repo };
	struct db_stmt **st = user ? &q->user_grant : &q->group_grant;
	bool found;
	int err = 0;

	if (!*st && user)
		err = prep(st, s, "SELECT 1 FROM repo_grants WHERE repo = ?1 AND user_id = ?2");
	else if (!*st)
		err = prep(st, s, "SELECT 1 FROM repo_grants WHERE repo = ?1 AND group_id = ?2");
	if (err < 0)
		return err;
	if ((err = store_bind_text(s, *st, 1, repo)) < 0 ||
	    (err = store_bind_i64(s, *st, 2, key.id)) < 0 || (err = key_found(&found, s, *st)) < 0)
		return err;
	if (user)
		return pair_set(acl, &acl->user_grants, &acl->n_user_grants, &acl->cap_user_grants,
				key, found);
	return pair_set(acl, &acl->group_grants, &acl->n_group_grants, &acl->cap_group_grants, key,
			found);
}

static int apply_public(struct store_acl *acl, struct store *s, struct db_stmt **st,
			const char *repo)
{
	bool found;
	int err;

	if ((!*st && (err = prep(st, s, "SELECT 1 FROM repo_public WHERE repo = ?1")) < 0) ||
	    (err = store_bind_text(s, *st, 1, repo)) < 0 || (err = key_found(&found, s, *st)) < 0)
		return err;
	return public_set(acl, repo, found);
}

/* One acl_changes row (generation, kind, a, b, repo). 1: a row this binary cannot apply. */
static int apply_row(struct store_acl *acl, struct store *s, struct acl_lookups *q,
		     struct db_stmt *row)
{
	int kind = db_column_int(row, 1);
	int64_t a = db_column_int64(row, 2), b = db_column_int64(row, 3);
	const char *repo = (const char *)db_column_text(row, 4);

	if (kind == ACL_NONE)
		return 0;
	if (kind == ACL_USER)
		return apply_user(acl, s, &q->user, a);
	if (kind == ACL_MEMBER)
		return apply_member(acl, s, &q->member, a, b);
	if (kind == ACL_GRANT && repo && (a != 0) != (b != 0))
		return apply_grant(acl, s, q, a, b, repo);
	if (kind == ACL_PUBLIC && repo)
		return apply_public(acl, s, &q->public_flag, repo);
	return 1;
}

/*
 * Applies the logged changes after acl's generation up to gen (in the caller's transaction). 1
 * when the log cannot bring acl there: too many changes, a pruned or broken log.
 */
static int apply_log(struct store_acl *acl, struct store *s, int64_t gen)
{
	struct acl_lookups q = { 0 };
	struct db_stmt *st = NULL;
	int64_t next = acl->generation + 1;
	int err, rc;

	if (gen < acl->generation || gen - acl->generation > ACL_APPLY_MAX)
		return 1;
	err = prep(&st, s, "SELECT * FROM acl_changes WHERE generation > ? ORDER BY generation");
	if (err < 0 || (err = store_bind_i64(s, st, 1, acl->generation)) < 0)
		goto out;
	while ((rc = db_step(st)) == DB_ROW) {
		/* SECURITY: a gap is a change not seen: never applied around. */
		if (db_column_int64(st, 0) != next++ || next - 1 > gen) {
			err = 1;
			goto out;
		}
		if ((err = apply_row(acl, s, &q, st)) != 0)
			goto out;
	}
	if (rc != DB_DONE)
		err = store_db_error(s, rc, "reading the ACL change log");
	else if (next != gen + 1)
		err = 1;
	else
		acl->generation = gen;
out:
	lookups_finalize(&q);
	db_finalize(st);
	return err;
}

int store_acl_refresh(struct store_acl *acl, struct store *s)
{
	int64_t gen = 0;
	int err, end;

	if ((err = store_tx_begin_read(s)) < 0) {
		store_acl_dispose(acl);
		return err;
	}
	if ((err = store_acl_generation(s, &gen)) == 0 && gen != acl->generation)
		err = apply_log(acl, s, gen);
	if ((end = store_tx_end(s, err < 0 ? err : 0)) == 0 && err == 0)
		return 0;
	store_acl_dispose(acl);
	return end < 0 ? end : store_acl_load(acl, s);
}

/* ---- API tokens ---- */

int store_token_add(int64_t *id, struct store *s, int64_t user_id, const char *label,
		    const unsigned char hash[STORE_HASH_LEN], const char *prefix, unsigned scope,
		    int64_t created_ms, int64_t expires_ms)
{
	struct db_stmt *st = NULL;
	int err;

	*id = 0;
	if ((err = prep(&st, s, "INSERT INTO tokens (user_id, label, hash, prefix, scope, "
				"created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")) == 0 &&
	    (err = store_bind_i64(s, st, 1, user_id)) == 0 &&
	    (err = store_bind_text(s, st, 2, label ? label : "")) == 0 &&
	    (err = bind_blob(s, st, 3, hash, STORE_HASH_LEN)) == 0 &&
	    (err = store_bind_text(s, st, 4, prefix)) == 0 &&
	    (err = store_bind_i64(s, st, 5, scope)) == 0 &&
	    (err = store_bind_i64(s, st, 6, created_ms)) == 0 &&
	    (err = store_bind_i64(s, st, 7, expires_ms)) == 0 &&
	    (err = store_run(s, st, "adding a token")) == 0)
		*id = db_last_insert_id(s->db);
	db_finalize(st);
	return err;
}

#define TOKEN_COLUMNS \
	"t.id, t.user_id, u.name, t.label, t.prefix, t.scope, t.created_ms, t.expires_ms, " \
	"t.last_used_ms, t.revoked, u.is_admin, u.is_disabled"

static void row_token(struct store_token *t, struct db_stmt *st)
{
	memset(t, 0, sizeof(*t));
	t->id = db_column_int64(st, 0);
	t->user_id = db_column_int64(st, 1);
	col_copy(t->user, sizeof(t->user), st, 2);
	col_copy(t->label, sizeof(t->label), st, 3);
	col_copy(t->prefix, sizeof(t->prefix), st, 4);
	t->scope = (unsigned)db_column_int64(st, 5);
	t->created_ms = db_column_int64(st, 6);
	t->expires_ms = db_column_int64(st, 7);
	t->last_used_ms = db_column_int64(st, 8);
	t->is_revoked = db_column_int(st, 9) != 0;
}

static void row_principal(struct store_principal *p, struct db_stmt *st, int id_col, int name_col,
			  int admin_col)
{
	p->user_id = db_column_int64(st, id_col);
	col_copy(p->name, sizeof(p->name), st, name_col);
	p->is_admin = db_column_int(st, admin_col) != 0;
	p->is_disabled = db_column_int(st, admin_col + 1) != 0;
}

int store_token_find(struct store_token *t, struct store_principal *p, struct store *s,
		     const unsigned char hash[STORE_HASH_LEN])
{
	struct db_stmt *st;
	int err;

	/* Kept prepared: every request with a token runs it. */
	if (!s->token_find &&
	    (err = prep(&s->token_find, s, "SELECT " TOKEN_COLUMNS " FROM tokens t JOIN users u "
					   "ON u.id = t.user_id WHERE t.hash = ?1")) < 0)
		return err;
	st = s->token_find;
	if ((err = bind_blob(s, st, 1, hash, STORE_HASH_LEN)) == 0 &&
	    (err = step_row(s, st, "looking up a token", "unknown token")) == 0) {
		row_token(t, st);
		row_principal(p, st, 1, 2, 10);
	}
	db_reset(st);
	db_clear_bindings(st);
	return err;
}

int store_token_used(struct store *s, int64_t id, int64_t now_ms)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "UPDATE tokens SET last_used_ms = ?2 WHERE id = ?1")) == 0 &&
	    (err = store_bind_i64(s, st, 1, id)) == 0 &&
	    (err = store_bind_i64(s, st, 2, now_ms)) == 0)
		err = store_run(s, st, "recording a token's use");
	db_finalize(st);
	return err;
}

static int read_token(void *elem, struct store *s, struct db_stmt *st)
{
	(void)s;
	row_token(elem, st);
	return 0;
}

static void free_tokens(void *v, size_t n)
{
	(void)n; /* a token holds nothing of its own */
	free(v);
}

int store_token_list(struct store_token **out, size_t *n, struct store *s, const char *user)
{
	static const struct store_rows rows = {
		.elem_size = sizeof(struct store_token),
		.read = read_token,
		.free = free_tokens,
		.what = "listing tokens",
	};
	struct db_stmt *st = NULL;
	void *v = NULL;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = prep(&st, s, "SELECT " TOKEN_COLUMNS " FROM tokens t JOIN users u "
				"ON u.id = t.user_id WHERE ?1 IS NULL OR u.name = ?1 "
				"ORDER BY t.id DESC")) == 0 &&
	    (err = store_bind_text(s, st, 1, user)) == 0 &&
	    (err = store_rows_read(&v, n, s, st, &rows)) == 0)
		*out = v;
	db_finalize(st);
	return err;
}

int store_token_revoke(struct store_token *t, struct store *s, int64_t id, const char *owner)
{
	struct db_stmt *st = NULL;
	char missing[64];
	int err;

	snprintf(missing, sizeof(missing), "no token with id %lld", (long long)id);
	if ((err = store_tx_begin(s)) < 0)
		return err;
	if ((err = prep(&st, s, "SELECT " TOKEN_COLUMNS " FROM tokens t JOIN users u "
				"ON u.id = t.user_id WHERE t.id = ?1 "
				"AND (?2 IS NULL OR u.name = ?2)")) < 0 ||
	    (err = store_bind_i64(s, st, 1, id)) < 0 ||
	    (err = store_bind_text(s, st, 2, owner)) < 0 ||
	    (err = step_row(s, st, "looking up a token", missing)) < 0)
		goto out;
	row_token(t, st);
	db_finalize(st);
	st = NULL;
	if ((err = prep(&st, s, "UPDATE tokens SET revoked = 1 WHERE id = ?1")) == 0 &&
	    (err = store_bind_i64(s, st, 1, id)) == 0)
		err = store_run(s, st, "revoking a token");
	t->is_revoked = true;
out:
	db_finalize(st);
	return store_tx_end(s, err);
}

/* ---- sessions ---- */

int store_session_add(struct store *s, const unsigned char key[STORE_HASH_LEN], int64_t user_id,
		      const char *csrf, int64_t now_ms)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "INSERT INTO sessions (key, user_id, csrf, created_ms, "
				"last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?4)")) == 0 &&
	    (err = bind_blob(s, st, 1, key, STORE_HASH_LEN)) == 0 &&
	    (err = store_bind_i64(s, st, 2, user_id)) == 0 &&
	    (err = store_bind_text(s, st, 3, csrf)) == 0 &&
	    (err = store_bind_i64(s, st, 4, now_ms)) == 0)
		err = store_run(s, st, "adding a session");
	db_finalize(st);
	return err;
}

int store_session_find(struct store_session *out, struct store_principal *p, struct store *s,
		       const unsigned char key[STORE_HASH_LEN])
{
	struct db_stmt *st;
	int err;

	/* Kept prepared: every request with a session runs it. */
	if (!s->session_find &&
	    (err = prep(&s->session_find, s, "SELECT s.csrf, s.created_ms, s.last_seen_ms, u.id, "
					     "u.name, u.is_admin, u.is_disabled FROM sessions s "
					     "JOIN users u ON u.id = s.user_id WHERE s.key = ?1")) < 0)
		return err;
	st = s->session_find;
	if ((err = bind_blob(s, st, 1, key, STORE_HASH_LEN)) == 0 &&
	    (err = step_row(s, st, "looking up a session", "unknown session")) == 0) {
		col_copy(out->csrf, sizeof(out->csrf), st, 0);
		out->created_ms = db_column_int64(st, 1);
		out->last_seen_ms = db_column_int64(st, 2);
		row_principal(p, st, 3, 4, 5);
	}
	db_reset(st);
	db_clear_bindings(st);
	return err;
}

int store_session_touch(struct store *s, const unsigned char key[STORE_HASH_LEN], int64_t now_ms)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "UPDATE sessions SET last_seen_ms = ?2 WHERE key = ?1")) == 0 &&
	    (err = bind_blob(s, st, 1, key, STORE_HASH_LEN)) == 0 &&
	    (err = store_bind_i64(s, st, 2, now_ms)) == 0)
		err = store_run(s, st, "refreshing a session");
	db_finalize(st);
	return err;
}

int store_session_delete(struct store *s, const unsigned char key[STORE_HASH_LEN])
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "DELETE FROM sessions WHERE key = ?1")) == 0 &&
	    (err = bind_blob(s, st, 1, key, STORE_HASH_LEN)) == 0)
		err = store_run(s, st, "ending a session");
	db_finalize(st);
	return err;
}

int store_sessions_end(struct store *s, int64_t user_id)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "DELETE FROM sessions WHERE user_id = ?1")) == 0 &&
	    (err = store_bind_i64(s, st, 1, user_id)) == 0)
		err = store_run(s, st, "ending sessions");
	db_finalize(st);
	return err;
}

/* ---- the audit trail ---- */

int store_audit_add(struct store *s, const struct store_event *events, size_t n)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = store_tx_begin(s)) < 0)
		return err;
	if ((err = prep(&st, s, "INSERT INTO audit (ts_ms, event, actor, target, address, detail) "
				"VALUES (?1, ?2, ?3, ?4, ?5, ?6)")) < 0)
		goto out;
	for (size_t i = 0; i < n && err == 0; i++) {
		const struct store_event *e = &events[i];

		db_reset(st);
		if ((err = store_bind_i64(s, st, 1, e->ts_ms)) == 0 &&
		    (err = store_bind_text(s, st, 2, e->event)) == 0 &&
		    (err = store_bind_text(s, st, 3, e->actor ? e->actor : "")) == 0 &&
		    (err = store_bind_text(s, st, 4, e->target ? e->target : "")) == 0 &&
		    (err = store_bind_text(s, st, 5, e->address ? e->address : "")) == 0 &&
		    (err = store_bind_text(s, st, 6, e->detail ? e->detail : "{}")) == 0)
			err = store_run(s, st, "writing the audit trail");
	}
out:
	db_finalize(st);
	return store_tx_end(s, err);
}

/* Runs a prune statement st (?1 before_ms, ?2 max) and finalizes it. */
static int audit_prune_run(struct store *s, struct db_stmt *st, int64_t before_ms, size_t max,
			   size_t *n_deleted)
{
	int err;

	if ((err = store_bind_i64(s, st, 1, before_ms)) == 0 &&
	    (err = store_bind_i64(s, st, 2, max < INT64_MAX ? (int64_t)max : INT64_MAX)) == 0 &&
	    (err = store_run(s, st, "pruning the audit trail")) == 0)
		*n_deleted = (size_t)db_changes(s->db);
	db_finalize(st);
	return err;
}

int store_audit_prune(struct store *s, int64_t before_ms, size_t max, size_t *n_deleted)
{
	struct db_stmt *st = NULL;
	int err;

	*n_deleted = 0;
	/* audit_ts makes the oldest rows cheap to find; one batch keeps the write lock short. */
	err = prep(&st, s, "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE "
			   "ts_ms < ?1 ORDER BY ts_ms LIMIT ?2)");
	if (err < 0)
		return err;
	return audit_prune_run(s, st, before_ms, max, n_deleted);
}

int store_audit_prune_refusals(struct store *s, int64_t before_ms, size_t max, size_t *n_deleted)
{
	struct db_stmt *st = NULL;
	int err;

	*n_deleted = 0;
	/*
	 * The oldest max of either kind: the partial index audit_refusals_ts holds the refused
	 * requests in time order; failed sign-ins are found along audit_ts.
	 */
	/* Not reflowed: V1's lint wants the literal to open on prep's line. */
	/* clang-format off */
	err = prep(&st, s, "DELETE FROM audit WHERE id IN (SELECT id FROM ("
			   "SELECT id, ts_ms FROM (SELECT id, ts_ms FROM audit WHERE "
			   STORE_AUDIT_REFUSALS " AND ts_ms < ?1 ORDER BY ts_ms LIMIT ?2) AS refused "
			   "UNION ALL SELECT id, ts_ms FROM (SELECT id, ts_ms FROM audit WHERE "
			   STORE_AUDIT_SIGN_IN_FAILED " AND ts_ms < ?1 ORDER BY ts_ms LIMIT ?2) AS failed) "
			   "AS oldest ORDER BY ts_ms LIMIT ?2)");
	/* clang-format on */
	if (err < 0)
		return err;
	return audit_prune_run(s, st, before_ms, max, n_deleted);
}

int store_audit_prune_outsider_refusals(struct store *s, int64_t before_ms, size_t max,
					size_t *n_deleted)
{
	struct db_stmt *st = NULL;
	int err;

	*n_deleted = 0;
	/* As store_audit_prune_refusals, the indexed refusals narrowed to anonymous ones. */
	/* Not reflowed, as above. */
	/* clang-format off */
	err = prep(&st, s, "DELETE FROM audit WHERE id IN (SELECT id FROM ("
			   "SELECT id, ts_ms FROM (SELECT id, ts_ms FROM audit WHERE "
			   STORE_AUDIT_REFUSALS " AND " STORE_AUDIT_ANONYMOUS
			   " AND ts_ms < ?1 ORDER BY ts_ms LIMIT ?2) AS refused "
			   "UNION ALL SELECT id, ts_ms FROM (SELECT id, ts_ms FROM audit WHERE "
			   STORE_AUDIT_SIGN_IN_FAILED " AND ts_ms < ?1 ORDER BY ts_ms LIMIT ?2) AS failed) "
			   "AS oldest ORDER BY ts_ms LIMIT ?2)");
	/* clang-format on */
	if (err < 0)
		return err;
	return audit_prune_run(s, st, before_ms, max, n_deleted);
}

int store_audit_prune_user_refusals(struct store *s, int64_t before_ms, size_t max, size_t *n_deleted)
{
	struct db_stmt *st = NULL;
	int err;

	*n_deleted = 0;
	/* Not reflowed, as above. */
	/* clang-format off */
	err = prep(&st, s, "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE "
			   STORE_AUDIT_REFUSALS " AND NOT " STORE_AUDIT_ANONYMOUS
			   " AND ts_ms < ?1 ORDER BY ts_ms LIMIT ?2)");
	/* clang-format on */
	if (err < 0)
		return err;
	return audit_prune_run(s, st, before_ms, max, n_deleted);
}

int store_audit_prune_activity(struct store *s, int64_t before_ms, size_t max, size_t *n_deleted)
{
	struct db_stmt *st = NULL;
	int err;

	*n_deleted = 0;
	/* Not reflowed, as above. */
	/* clang-format off */
	err = prep(&st, s, "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE "
			   "(" STORE_AUDIT_ACTIVITY " OR " STORE_AUDIT_OWN_ACCOUNT ") "
			   "AND ts_ms < ?1 ORDER BY ts_ms LIMIT ?2)");
	/* clang-format on */
	if (err < 0)
		return err;
	return audit_prune_run(s, st, before_ms, max, n_deleted);
}

int store_audit_rows(struct store *s, int64_t *n)
{
	struct db_stmt *st = NULL;
	int err, rc;

	*n = 0;
	if ((err = prep(&st, s, "SELECT n FROM audit_rows WHERE id = 1")) < 0)
		return err;
	rc = db_step(st);
	if (rc == DB_ROW)
		*n = db_column_int64(st, 0);
	else if (rc != DB_DONE)
		err = store_db_error(s, rc, "counting the audit trail");
	db_finalize(st);
	return err;
}

void store_event_dispose(struct store_event *e)
{
	free(e->event);
	free(e->actor);
	free(e->target);
	free(e->address);
	free(e->detail);
	memset(e, 0, sizeof(*e));
}

void store_events_free(struct store_event *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		store_event_dispose(&v[i]);
	free(v);
}

static int row_event(void *elem, struct store *s, struct db_stmt *st)
{
	struct store_event *e = elem;
	bool oom = false;

	(void)s;
	e->id = db_column_int64(st, 0);
	e->ts_ms = db_column_int64(st, 1);
	e->event = store_dup_col(st, 2, &oom);
	e->actor = store_dup_col(st, 3, &oom);
	e->target = store_dup_col(st, 4, &oom);
	e->address = store_dup_col(st, 5, &oom);
	e->detail = store_dup_col(st, 6, &oom);
	if (oom || !e->event || !e->actor || !e->target || !e->address || !e->detail)
		return error_nomem("reading the audit trail");
	return 0;
}

static void free_events(void *v, size_t n)
{
	store_events_free(v, n);
}

int store_audit_list(struct store_event **out, size_t *n, struct store *s, const char *actor,
		     const char *event, int64_t since_ms, size_t limit)
{
	static const struct store_rows rows = {
		.elem_size = sizeof(struct store_event),
		.read = row_event,
		.free = free_events,
		.what = "reading the audit trail",
	};
	struct db_stmt *st = NULL;
	void *v = NULL;
	int err;

	*out = NULL;
	*n = 0;
	/* The latest `limit` rows, then put back in order. */
	if ((err = prep(&st, s, "SELECT * FROM (SELECT id, ts_ms, event, actor, target, address, "
				"detail FROM audit WHERE (?1 IS NULL OR actor = ?1) AND "
				"(?2 IS NULL OR event = ?2) AND ts_ms >= ?3 ORDER BY id DESC "
				"LIMIT ?4) AS latest ORDER BY id")) == 0 &&
	    (err = store_bind_text(s, st, 1, actor)) == 0 &&
	    (err = store_bind_text(s, st, 2, event)) == 0 &&
	    (err = store_bind_i64(s, st, 3, since_ms)) == 0 &&
	    (err = store_bind_i64(s, st, 4,
				  limit && limit < INT64_MAX ? (int64_t)limit : INT64_MAX)) == 0 &&
	    (err = store_rows_read(&v, n, s, st, &rows)) == 0)
		*out = v;
	db_finalize(st);
	return err;
}

/* ---- backup ---- */

int store_backup(struct store *s, const char *path)
{
	if (db_kind(s->db) != DB_SQLITE) {
		error_set("%s: trawl backup copies an SQLite database; back up PostgreSQL with "
			  "pg_dump (docs/operations.md, \"Database: SQLite or PostgreSQL\")",
			  s->path);
		return TRAWL_EUNSUPPORTED;
	}
	return db_sqlite_backup(s->db, path);
}
