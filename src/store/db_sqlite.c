/*
 * The SQLite backend of the database layer (db.h): the database is a file, opened hardened
 * (defensive mode, no untrusted schema functions, cell size checks), in WAL mode with foreign
 * keys on and a busy timeout. Calls pass through to SQLite.
 */
#include "store/db.h"
#include "store/db_backend.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "util/error.h"
#include "util/repourl.h"

#define BUSY_TIMEOUT_MS 10000

_Static_assert(DB_ROW == SQLITE_ROW && DB_DONE == SQLITE_DONE && DB_BUSY == SQLITE_BUSY &&
		       DB_LOCKED == SQLITE_LOCKED && DB_NOMEM == SQLITE_NOMEM &&
		       DB_CORRUPT == SQLITE_CORRUPT && DB_NOTADB == SQLITE_NOTADB &&
		       DB_TOOBIG == SQLITE_TOOBIG && DB_READONLY == SQLITE_READONLY &&
		       DB_PERM == SQLITE_PERM && DB_AUTH == SQLITE_AUTH &&
		       DB_CANTOPEN == SQLITE_CANTOPEN &&
		       DB_CONSTRAINT_UNIQUE == SQLITE_CONSTRAINT_UNIQUE &&
		       DB_CONSTRAINT_PRIMARYKEY == SQLITE_CONSTRAINT_PRIMARYKEY,
	       "db.h's result codes are SQLite's");
_Static_assert(DB_TYPE_INTEGER == SQLITE_INTEGER && DB_TYPE_FLOAT == SQLITE_FLOAT &&
		       DB_TYPE_TEXT == SQLITE_TEXT && DB_TYPE_BLOB == SQLITE_BLOB &&
		       DB_TYPE_NULL == SQLITE_NULL,
	       "db_type is SQLite's fundamental types");

struct lite {
	struct db base;
	sqlite3 *h;
};

struct lite_stmt {
	struct db_stmt base;
	sqlite3_stmt *h;
};

static sqlite3 *H(const struct db *db)
{
	return ((const struct lite *)db)->h;
}

static sqlite3_stmt *S(struct db_stmt *st)
{
	return ((struct lite_stmt *)st)->h;
}

static void lite_close(struct db *db)
{
	sqlite3_close_v2(H(db));
	free(db);
}

static const char *lite_errmsg(const struct db *db)
{
	return H(db) ? sqlite3_errmsg(H(db)) : "out of memory";
}

static int lite_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	struct lite_stmt *st = calloc(1, sizeof(*st));
	int rc;

	if (!st)
		return DB_NOMEM;
	rc = sqlite3_prepare_v2(H(db), sql, -1, &st->h, NULL);
	if (rc != SQLITE_OK) {
		free(st);
		return rc;
	}
	st->base.db = db;
	*out = &st->base;
	return DB_OK;
}

/* Each statement of the script is prepared and stepped in turn (sqlite3_exec is not used). */
static int lite_exec_script(struct db *db, const char *script)
{
	const char *sql = script;

	while (*sql) {
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		int rc = sqlite3_prepare_v2(H(db), sql, -1, &st, &tail);

		if (rc != SQLITE_OK)
			return rc;
		if (!st) /* only whitespace or a comment was left */
			break;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return rc;
		sql = tail;
	}
	return DB_OK;
}

static void lite_finalize(struct db_stmt *st)
{
	sqlite3_finalize(S(st));
	free(st);
}

static void lite_reset(struct db_stmt *st)
{
	sqlite3_reset(S(st));
}

static int lite_param_count(struct db_stmt *st)
{
	return sqlite3_bind_parameter_count(S(st));
}

static int lite_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	return sqlite3_bind_int64(S(st), i, v);
}

static int lite_bind_text(struct db_stmt *st, int i, const char *v)
{
	return sqlite3_bind_text(S(st), i, v, -1, SQLITE_TRANSIENT);
}

static int lite_bind_blob(struct db_stmt *st, int i, const void *v, size_t len)
{
	return sqlite3_bind_blob64(S(st), i, v, len, SQLITE_TRANSIENT);
}

static int lite_bind_null(struct db_stmt *st, int i)
{
	return sqlite3_bind_null(S(st), i);
}

static void lite_clear_bindings(struct db_stmt *st)
{
	sqlite3_clear_bindings(S(st));
}

static int lite_step(struct db_stmt *st)
{
	return sqlite3_step(S(st));
}

static int64_t lite_column_int64(struct db_stmt *st, int col)
{
	return sqlite3_column_int64(S(st), col);
}

static const unsigned char *lite_column_text(struct db_stmt *st, int col)
{
	return sqlite3_column_text(S(st), col);
}

static const void *lite_column_blob(struct db_stmt *st, int col)
{
	return sqlite3_column_blob(S(st), col);
}

static int lite_column_bytes(struct db_stmt *st, int col)
{
	return sqlite3_column_bytes(S(st), col);
}

static int lite_column_count(struct db_stmt *st)
{
	return sqlite3_column_count(S(st));
}

static int lite_column_type(struct db_stmt *st, int col)
{
	return sqlite3_column_type(S(st), col);
}

static int64_t lite_changes(struct db *db)
{
	return sqlite3_changes64(H(db));
}

static int64_t lite_last_insert_id(struct db *db)
{
	return sqlite3_last_insert_rowid(H(db));
}

static int run1(struct db *db, const char *sql)
{
	return lite_exec_script(db, sql);
}

static int lite_begin(struct db *db, enum db_tx how)
{
	return run1(db, how == DB_TX_WRITE ? "BEGIN IMMEDIATE" : "BEGIN");
}

static int lite_end(struct db *db, bool is_commit)
{
	return run1(db, is_commit ? "COMMIT" : "ROLLBACK");
}

static bool lite_in_tx(struct db *db)
{
	return sqlite3_get_autocommit(H(db)) == 0;
}

/* The first column of a one-row PRAGMA, as an integer or (text) a copy. */
static int pragma_row(struct db *db, const char *sql, int64_t *n, char **text)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(H(db), sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = DB_OK;
		if (n)
			*n = sqlite3_column_int64(st, 0);
		if (text) {
			const unsigned char *t = sqlite3_column_text(st, 0);

			*text = t ? strdup((const char *)t) : NULL;
			if (t && !*text)
				rc = DB_NOMEM;
		}
	} else if (rc == SQLITE_DONE) {
		rc = DB_CORRUPT;
	}
	sqlite3_finalize(st);
	return rc;
}

static int lite_user_version(struct db *db, int *version)
{
	int64_t v = 0;
	int rc = pragma_row(db, "PRAGMA user_version", &v, NULL);

	*version = (int)v;
	return rc;
}

static void lite_set_waiting(struct db *db, bool is_waiting)
{
	sqlite3_busy_timeout(H(db), is_waiting ? BUSY_TIMEOUT_MS : 0);
}

static int lite_check(struct db *db, char **problem)
{
	char *t = NULL;
	int rc = pragma_row(db, "PRAGMA quick_check(1)", NULL, &t);

	if (rc == DB_OK && (!t || strcmp(t, "ok") != 0)) {
		*problem = t ? t : strdup("no answer");
		return *problem ? DB_OK : DB_NOMEM;
	}
	free(t);
	return rc;
}

/* DESIGN: PRAGMA data_version moves on every commit but the connection's own. */
static int lite_data_version(struct db *db, int64_t *out)
{
	return pragma_row(db, "PRAGMA data_version", out, NULL);
}

static int lite_relax_durability(struct db *db)
{
	return run1(db, "PRAGMA synchronous = NORMAL");
}

void *db_sqlite_handle(struct db *db)
{
	return db->kind == DB_SQLITE ? H(db) : NULL;
}

/*
 * The SQL functions migration 2 calls: URL syntax lives in C (util/repourl.h), the migration
 * stays constant SQL. Deterministic, and SQLITE_DIRECTONLY: no trigger or view in a hostile
 * database file can call them.
 */
static void fn_url_redacted(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const unsigned char *url = sqlite3_value_text(argv[0]);
	char *r = NULL;

	(void)argc;
	if (!url)
		sqlite3_result_null(cx);
	else if (repourl_redact(&r, (const char *)url) < 0)
		sqlite3_result_error_nomem(cx);
	else if (!r)
		sqlite3_result_value(cx, argv[0]);
	else
		sqlite3_result_text(cx, r, -1, free);
}

/* The path's name for url, or NULL when it is empty or not one `trawl repo add` would take. */
static void fn_url_name(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const unsigned char *url = sqlite3_value_text(argv[0]);
	char *name = NULL;

	(void)argc;
	if (url && repourl_name(&name, (const char *)url) < 0) {
		sqlite3_result_error_nomem(cx);
		return;
	}
	if (!name || !name[0] || name[0] == '-' || strpbrk(name, "@\\"))
		sqlite3_result_null(cx);
	else
		sqlite3_result_text(cx, name, -1, SQLITE_TRANSIENT);
	free(name);
}

static void fn_name_from_query(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const unsigned char *name = sqlite3_value_text(argv[0]), *url = sqlite3_value_text(argv[1]);

	(void)argc;
	sqlite3_result_int(cx,
			   name && url &&
				   repourl_name_is_from_query((const char *)name, (const char *)url));
}

static int register_functions(sqlite3 *h)
{
	static const struct {
		const char *name;
		int n_args;
		void (*fn)(sqlite3_context *, int, sqlite3_value **);
	} fns[] = {
		{ "trawl_url_redacted", 1, fn_url_redacted },
		{ "trawl_url_name", 1, fn_url_name },
		{ "trawl_name_from_query", 2, fn_name_from_query },
	};

	for (size_t i = 0; i < sizeof(fns) / sizeof(*fns); i++) {
		int rc = sqlite3_create_function_v2(h, fns[i].name, fns[i].n_args,
						    SQLITE_UTF8 | SQLITE_DETERMINISTIC |
							    SQLITE_DIRECTONLY,
						    NULL, fns[i].fn, NULL, NULL, NULL);

		if (rc != SQLITE_OK)
			return rc;
	}
	return DB_OK;
}

/*
 * The commit hook: runs before each commit of this connection is made. Counting it before it
 * is visible is safe for store_stamp: a reader sees the new count no later than the new rows.
 */
static int count_commit(void *arg)
{
	struct db *db = arg;

	__atomic_fetch_add(&db->commits, 1, __ATOMIC_RELAXED);
	return 0; /* 0: the commit goes on */
}

static const struct db_ops lite_ops = {
	.close = lite_close,
	.errmsg = lite_errmsg,
	.prepare = lite_prepare,
	.exec_script = lite_exec_script,
	.finalize = lite_finalize,
	.reset = lite_reset,
	.param_count = lite_param_count,
	.bind_int64 = lite_bind_int64,
	.bind_text = lite_bind_text,
	.bind_blob = lite_bind_blob,
	.bind_null = lite_bind_null,
	.clear_bindings = lite_clear_bindings,
	.step = lite_step,
	.column_int64 = lite_column_int64,
	.column_text = lite_column_text,
	.column_blob = lite_column_blob,
	.column_bytes = lite_column_bytes,
	.column_count = lite_column_count,
	.column_type = lite_column_type,
	.changes = lite_changes,
	.last_insert_id = lite_last_insert_id,
	.begin = lite_begin,
	.end = lite_end,
	.in_tx = lite_in_tx,
	.user_version = lite_user_version,
	.set_waiting = lite_set_waiting,
	.check = lite_check,
	.data_version = lite_data_version,
	.relax_durability = lite_relax_durability,
};

int db_sqlite_open(struct db **out, const char *path)
{
	struct lite *l = calloc(1, sizeof(*l));
	int rc;

	*out = NULL;
	if (!l)
		return DB_NOMEM;
	l->base.ops = &lite_ops;
	l->base.kind = DB_SQLITE;
	*out = &l->base;
	/* SECURITY: the database file is never reached through a symlink. */
	rc = sqlite3_open_v2(path, &l->h,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
				     SQLITE_OPEN_FULLMUTEX,
			     NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_extended_result_codes(l->h, 1);
	/*
	 * SECURITY: the confined server may write this file, schema included, and this connection
	 * may be an unconfined process's (trawl sync, the CLI). Defensive mode refuses the raw
	 * edits (writable_schema, shadow tables), an untrusted schema (its triggers, views,
	 * defaults) may call no function that is not innocuous, and b-tree cells are checked as
	 * they are read.
	 */
	if ((rc = sqlite3_db_config(l->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_db_config(l->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL)) != SQLITE_OK)
		return rc;
	sqlite3_busy_timeout(l->h, BUSY_TIMEOUT_MS);
	sqlite3_commit_hook(l->h, count_commit, &l->base);
	if ((rc = run1(&l->base, "PRAGMA cell_size_check = ON")) != DB_OK ||
	    (rc = register_functions(l->h)) != DB_OK ||
	    (rc = run1(&l->base, "PRAGMA journal_mode = WAL")) != DB_OK ||
	    (rc = run1(&l->base, "PRAGMA foreign_keys = ON")) != DB_OK)
		return rc;
	return DB_OK;
}

int db_sqlite_backup(struct db *db, const char *path)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *bk = NULL;
	int rc, err = 0;

	rc = sqlite3_open_v2(path, &dst,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		error_set("%s: opening the backup: %s", path, sqlite3_errstr(rc));
		err = TRAWL_EIO;
		goto out;
	}
	/* One step copies every page: the copy is one consistent snapshot, even while the
	 * server writes (WAL readers do not block writers). */
	if (!(bk = sqlite3_backup_init(dst, "main", H(db), "main"))) {
		error_set("%s: starting the backup: %s", path, sqlite3_errmsg(dst));
		err = TRAWL_EIO;
		goto out;
	}
	rc = sqlite3_backup_step(bk, -1);
	if (rc != SQLITE_DONE) {
		error_set("%s: copying the database: %s", path, sqlite3_errstr(rc));
		err = TRAWL_EIO;
	}
out:
	if (bk && sqlite3_backup_finish(bk) != SQLITE_OK && err == 0) {
		error_set("%s: finishing the backup: %s", path, sqlite3_errmsg(dst));
		err = TRAWL_EIO;
	}
	sqlite3_close_v2(dst);
	return err;
}
