/*
 * Copying a whole store into an empty one; see copy.h.
 *
 * SECURITY: V1: every statement is a string constant of tables[] (test_lint.sh lets this file
 * alone prepare a member of that table); values are bound, never spliced in. Rows are
 * copied as stored: password hashes and the keyed hashes of tokens and sessions are never
 * read as anything but bytes, and never shown in a message.
 */
#include "store/copy.h"
#include "store/store.h"
#include "store/store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/error.h"

/* The statements of one table: its name, order and parameters are literals (V1). */
#define TABLE(t, cols, order, params, reset_sql)                                       \
	{                                                                                  \
		.name = (t), .columns = (cols),                                            \
		.select = "SELECT " cols " FROM " t " ORDER BY " order,                    \
		.insert = "INSERT INTO " t " (" cols ") VALUES (" params ")",              \
		.any = "SELECT 1 FROM " t " LIMIT 1", .reset = (reset_sql),                \
	}
/* PostgreSQL's identity column of table t moves past its largest id (SQLite's AUTOINCREMENT
 * counter moves by itself when a larger id is inserted). */
#define RESET(t) \
	"SELECT setval(pg_get_serial_sequence('" t "', 'id'), coalesce(max(id), 0) + 1, false) " \
	"FROM " t

/*
 * Parents before children: repositories before their branches, users and groups before
 * memberships, grants, tokens, sessions and notices. repo_grants casts its ids: one of them is
 * always NULL, which PostgreSQL would otherwise take as text.
 */
/* clang-format off */
static const struct store_copy_table tables[] = {
	TABLE("repos",
	      "id, name, url, created, last_sync, last_error, state, index_bytes, files, "
	      "skipped_count, allow_insecure, allow_local, allow_private, failures, next_attempt, "
	      "symbols, last_changed, last_success, sync_requested", "id",
	      "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19",
	      RESET("repos")),
	/* rowid: the patterns' order as given (PostgreSQL's table has it as a column). */
	TABLE("repo_branches", "repo_id, pattern", "rowid", "?1, ?2", NULL),
	TABLE("indexed_branches", "repo_id, branch, commit_id, is_default", "repo_id, branch",
	      "?1, ?2, ?3, ?4", NULL),
	TABLE("retired_names", "name", "name", "?1", NULL),
	TABLE("users",
	      "id, name, display_name, is_admin, is_disabled, password_hash, created_ms, "
	      "last_seen_ms, source, issuer, subject", "id",
	      "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11", RESET("users")),
	TABLE("groups", "id, name, source", "id", "?1, ?2, ?3", RESET("groups")),
	TABLE("group_members", "group_id, user_id, source", "group_id, user_id", "?1, ?2, ?3", NULL),
	TABLE("repo_public", "repo", "repo", "?1", NULL),
	TABLE("repo_grants", "repo, user_id, group_id",
	      "repo, coalesce(user_id, 0), coalesce(group_id, 0)",
	      "?1, CAST(?2 AS BIGINT), CAST(?3 AS BIGINT)", NULL),
	TABLE("tokens",
	      "id, user_id, label, hash, prefix, scope, created_ms, expires_ms, last_used_ms, revoked",
	      "id", "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10", RESET("tokens")),
	TABLE("sessions", "key, user_id, csrf, created_ms, last_seen_ms", "created_ms, key",
	      "?1, ?2, ?3, ?4, ?5", NULL),
	TABLE("audit", "id, ts_ms, event, actor, target, address, detail", "id",
	      "?1, ?2, ?3, ?4, ?5, ?6, ?7", RESET("audit")),
	TABLE("notices", "id, user_id, ts_ms, event, is_self, actor, address, token, read_ms", "id",
	      "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9", RESET("notices")),
};
/* clang-format on */

#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

static const char *const derived[] = { "acl_generation", "acl_changes", "audit_rows", NULL };

const struct store_copy_table *store_copy_tables(size_t *n)
{
	*n = N_TABLES;
	return tables;
}

const char *const *store_copy_derived(void)
{
	return derived;
}

/* EINVAL naming the first table of to that holds a row, else 0. */
static int check_empty(struct store *to)
{
	for (size_t i = 0; i < N_TABLES; i++) {
		const struct store_copy_table *t = &tables[i];
		struct db_stmt *st = NULL;
		int err, rc;

		if ((err = prep(&st, to, t->any)) < 0)
			return err;
		rc = db_step(st);
		db_finalize(st);
		if (rc == DB_ROW) {
			error_set("%s: table %s already holds rows: the copy goes into an empty "
				  "database only (PostgreSQL: a new one, createdb; SQLite: a new file)",
				  to->path, t->name);
			return TRAWL_EINVAL;
		}
		if (rc != DB_DONE)
			return store_db_error(to, rc, "checking that the target is empty");
	}
	return 0;
}

/* Binds column col of sel's row as parameter col + 1 of ins, by the type it holds. */
static int bind_value(struct db_stmt *ins, struct db_stmt *sel, int col)
{
	switch (db_column_type(sel, col)) {
	case DB_TYPE_NULL: return db_bind_null(ins, col + 1);
	case DB_TYPE_INTEGER: return db_bind_int64(ins, col + 1, db_column_int64(sel, col));
	case DB_TYPE_BLOB: {
		const void *v = db_column_blob(sel, col);
		int len = db_column_bytes(sel, col);

		return v || len == 0 ? db_bind_blob(ins, col + 1, v, (size_t)len) : DB_NOMEM;
	}
	default: {
		/* FLOAT too: the schema has no such column, and text keeps every digit. */
		const unsigned char *v = db_column_text(sel, col);

		return v ? db_bind_text(ins, col + 1, (const char *)v) : DB_NOMEM;
	}
	}
}

/* What a failure on row n of table t says: its number, and its id when column 0 is one. */
static void row_name(char *out, size_t size, const struct store_copy_table *t, int64_t n,
		     struct db_stmt *sel)
{
	if (strncmp(t->columns, "id,", 3) == 0)
		snprintf(out, size, "copying table %s, row %" PRId64 " (id %" PRId64 ")", t->name, n,
			 db_column_int64(sel, 0));
	else
		snprintf(out, size, "copying table %s, row %" PRId64, t->name, n);
}

/* Writes one row read by sel through ins; err < 0 on failure, naming the row. */
static int copy_row(struct store *to, const struct store_copy_table *t, struct db_stmt *sel,
		    struct db_stmt *ins, int64_t n)
{
	int cols = db_column_count(sel), rc = DB_OK;
	char what[160];

	row_name(what, sizeof(what), t, n, sel);
	if (cols != db_param_count(ins)) {
		error_set("%s: %s: %d columns read, %d written", to->path, what, cols,
			  db_param_count(ins));
		return TRAWL_EINVAL;
	}
	for (int c = 0; c < cols && rc == DB_OK; c++)
		rc = bind_value(ins, sel, c);
	if (rc == DB_OK)
		rc = db_step(ins);
	db_reset(ins);
	/* SECURITY: a hash bound last is not kept in memory past its row. */
	db_clear_bindings(ins);
	if (rc == DB_NOMEM)
		return error_nomem(NULL);
	return rc == DB_DONE ? 0 : store_db_error(to, rc, what);
}

static int copy_table(struct store *from, struct store *to, const struct store_copy_table *t,
		      int64_t *rows)
{
	struct db_stmt *sel = NULL, *ins = NULL;
	int err, rc = DB_DONE;

	*rows = 0;
	if ((err = prep(&sel, from, t->select)) == 0 && (err = prep(&ins, to, t->insert)) == 0) {
		while (err == 0 && (rc = db_step(sel)) == DB_ROW)
			err = copy_row(to, t, sel, ins, ++*rows);
		if (err == 0 && rc != DB_DONE) {
			char what[96];

			snprintf(what, sizeof(what), "reading table %s", t->name);
			err = store_db_error(from, rc, what);
		}
	}
	db_finalize(ins);
	db_finalize(sel);
	return err;
}

/*
 * PostgreSQL: the audit table's row count is set once, after the copy, rather than by its
 * trigger per row: in one transaction each of those updates of the same row leaves a version
 * the next one walks past, a cost that grows with the rows copied (bench/design-measurements.md,
 * "Copying a store"). The table's owner (the role that created the schema) may do this;
 * ALTER TABLE is transactional, so a failed copy leaves the trigger on.
 */
static int audit_count_off(struct store *to)
{
	struct db_stmt *st = NULL;
	int err;

	if (db_kind(to->db) != DB_POSTGRES)
		return 0;
	if ((err = prep(&st, to, "ALTER TABLE audit DISABLE TRIGGER audit_rows_ins")) == 0)
		err = store_run(to, st, "pausing the audit table's row count");
	db_finalize(st);
	return err;
}

static int audit_count_on(struct store *to)
{
	struct db_stmt *st = NULL;
	int err;

	if (db_kind(to->db) != DB_POSTGRES)
		return 0;
	if ((err = prep(&st, to, "ALTER TABLE audit ENABLE TRIGGER audit_rows_ins")) == 0)
		err = store_run(to, st, "resuming the audit table's row count");
	db_finalize(st);
	st = NULL;
	if (err == 0 && (err = prep(&st, to, "UPDATE audit_rows SET n = (SELECT count(*) FROM audit) "
					     "WHERE id = 1")) == 0)
		err = store_run(to, st, "counting the audit table's rows");
	db_finalize(st);
	return err;
}

/* PostgreSQL: every identity column past the largest id copied, so new rows do not collide. */
static int reset_ids(struct store *to)
{
	if (db_kind(to->db) != DB_POSTGRES)
		return 0;
	for (size_t i = 0; i < N_TABLES; i++) {
		const struct store_copy_table *t = &tables[i];
		struct db_stmt *st = NULL;
		char what[96];
		int err;

		if (!t->reset)
			continue;
		snprintf(what, sizeof(what), "moving table %s's ids past the copied ones", t->name);
		if ((err = prep(&st, to, t->reset)) == 0)
			err = store_run(to, st, what);
		db_finalize(st);
		if (err < 0)
			return err;
	}
	return 0;
}

/* The copy in to's audit trail: from where, and how many rows. */
static int audit_copy(struct store *from, struct store *to, const char *actor, int64_t total)
{
	struct db_stmt *st = NULL;
	struct timespec now;
	char detail[96];
	int err;

	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(detail, sizeof(detail), "{\"rows\":%" PRId64 ",\"tables\":%zu}", total, N_TABLES);
	if ((err = prep(&st, to, "INSERT INTO audit (ts_ms, event, actor, target, detail) "
				 "VALUES (?1, 'store_copied', ?2, ?3, ?4)")) == 0 &&
	    (err = store_bind_i64(to, st, 1, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000)) == 0 &&
	    (err = store_bind_text(to, st, 2, actor)) == 0 &&
	    (err = store_bind_text(to, st, 3, from->path)) == 0 &&
	    (err = store_bind_text(to, st, 4, detail)) == 0)
		err = store_run(to, st, "recording the copy in the audit trail");
	db_finalize(st);
	return err;
}

int store_copy(struct store *from, struct store *to, const char *actor, int64_t *rows)
{
	int64_t total = 0;
	int err;

	if ((err = store_tx_begin_read(from)) < 0)
		return err;
	if ((err = store_tx_begin(to)) < 0) {
		store_tx_end(from, 0);
		return err;
	}
	if ((err = check_empty(to)) == 0)
		err = audit_count_off(to);
	for (size_t i = 0; i < N_TABLES && err == 0; i++) {
		err = copy_table(from, to, &tables[i], &rows[i]);
		total += rows[i];
	}
	if (err == 0 && (err = audit_count_on(to)) == 0 && (err = reset_ids(to)) == 0)
		err = audit_copy(from, to, actor, total);
	err = store_tx_end(to, err);
	/* The snapshot read nothing to keep: ending it cannot change the copy's outcome. */
	if (db_in_tx(from->db))
		db_rollback(from->db);
	return err;
}
