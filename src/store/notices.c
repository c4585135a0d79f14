/*
 * The notices table (SQLite or PostgreSQL: db.h); see notices.h. Every statement is a
 * constant string with bound parameters (V1), run through store.c's helpers (store_int.h).
 */
#include "store/notices.h"

#include <stdio.h>
#include <string.h>

#include "store/store_int.h"
#include "util/error.h"

static int insert(struct store *s, const char *user, const struct store_notice *n)
{
	struct db_stmt *st = NULL;
	int err;

	err = prep(&st, s, "INSERT INTO notices (user_id, ts_ms, event, is_self, "
			   "actor, address, token) SELECT id, ?2, ?3, ?4, ?5, ?6, ?7 "
			   "FROM users WHERE name = ?1");
	if (err < 0 || (err = store_bind_text(s, st, 1, user)) < 0 ||
	    (err = store_bind_i64(s, st, 2, n->ts_ms)) < 0 ||
	    (err = store_bind_text(s, st, 3, n->event)) < 0 ||
	    (err = store_bind_i64(s, st, 4, n->is_self)) < 0 ||
	    (err = store_bind_text(s, st, 5, n->actor)) < 0 ||
	    (err = store_bind_text(s, st, 6, n->address)) < 0 ||
	    (err = store_bind_text(s, st, 7, n->token)) < 0 ||
	    (err = store_run(s, st, "adding a notice")) < 0)
		goto out;
	if (db_changes(s->db) == 0) {
		error_set("no user named \"%.*s\"", STORE_NAME_MAX, user);
		err = TRAWL_ENOTFOUND;
	}
out:
	db_finalize(st);
	return err;
}

static int drop_old(struct store *s, int64_t before_ms)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "DELETE FROM notices WHERE ts_ms < ?1")) == 0 &&
	    (err = store_bind_i64(s, st, 1, before_ms)) == 0)
		err = store_run(s, st, "dropping old notices");
	db_finalize(st);
	return err;
}

int store_notice_add(struct store *s, const char *user, const struct store_notice *n,
		     int64_t drop_before_ms)
{
	int err;

	if ((err = store_tx_begin(s)) < 0)
		return err;
	if ((err = insert(s, user, n)) == 0)
		err = drop_old(s, drop_before_ms);
	return store_tx_end(s, err);
}

static void col_copy(char *dst, size_t cap, struct db_stmt *st, int col)
{
	const unsigned char *t = db_column_text(st, col);

	snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static void row_notice(struct store_notice *n, struct db_stmt *st)
{
	*n = (struct store_notice){
		.id = db_column_int64(st, 0),
		.ts_ms = db_column_int64(st, 1),
		.is_self = db_column_int64(st, 3) != 0,
	};
	col_copy(n->event, sizeof(n->event), st, 2);
	col_copy(n->actor, sizeof(n->actor), st, 4);
	col_copy(n->address, sizeof(n->address), st, 5);
	col_copy(n->token, sizeof(n->token), st, 6);
}

int store_notice_list(struct store_notice *out, size_t max, size_t *n, struct store *s,
		      int64_t user_id, int64_t since_ms)
{
	struct db_stmt *st = NULL;
	size_t len = 0;
	int err, rc = DB_DONE;

	*n = 0;
	err = prep(&st, s, "SELECT id, ts_ms, event, is_self, actor, address, token "
			   "FROM notices WHERE user_id = ?1 AND read_ms = 0 AND ts_ms >= ?2 "
			   "ORDER BY id DESC LIMIT ?3");
	if (err < 0 || (err = store_bind_i64(s, st, 1, user_id)) < 0 ||
	    (err = store_bind_i64(s, st, 2, since_ms)) < 0 ||
	    (err = store_bind_i64(s, st, 3, (int64_t)max)) < 0)
		goto out;
	while (len < max && (rc = db_step(st)) == DB_ROW)
		row_notice(&out[len++], st);
	if (rc != DB_ROW && rc != DB_DONE) {
		err = store_db_error(s, rc, "reading notices");
		goto out;
	}
	*n = len;
out:
	db_finalize(st);
	return err;
}

int store_notice_read(struct store *s, int64_t user_id, int64_t through, int64_t now_ms)
{
	struct db_stmt *st = NULL;
	int err;

	err = prep(&st, s, "UPDATE notices SET read_ms = ?3 WHERE user_id = ?1 "
			   "AND read_ms = 0 AND (?2 = 0 OR id <= ?2)");
	if (err == 0 && (err = store_bind_i64(s, st, 1, user_id)) == 0 &&
	    (err = store_bind_i64(s, st, 2, through)) == 0 &&
	    (err = store_bind_i64(s, st, 3, now_ms)) == 0)
		err = store_run(s, st, "marking notices read");
	db_finalize(st);
	return err;
}
