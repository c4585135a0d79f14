/*
 * The store's database layer: one small interface over two backends, SQLite (db_sqlite.c, a
 * file) and PostgreSQL (db_pg.c, libpq), so the store's SQL is written once. Only src/store/
 * includes this header; see docs/internals/store.md.
 *
 * DESIGN: the interface follows SQLite's statement model, which the store was written
 * against: prepare a constant statement with numbered parameters (?1, ?2, ...), bind values,
 * step through rows, read columns, reset to run it again. Result codes are SQLite's numbers
 * (DB_ROW is SQLITE_ROW, ...): the PostgreSQL backend maps SQLSTATEs onto them, so the store's
 * error handling (a unique name taken, a lock held) is the same on both.
 *
 * Where the dialects differ the SQLite text is the source: the PostgreSQL backend rewrites a
 * statement once, at prepare, through one table of dialect differences (db_pg.c), and each
 * backend says how to begin a write or a read transaction (db_begin) and where the schema
 * version lives (db_user_version).
 *
 * SECURITY: V1: sql is always a string constant; values are bound, never spliced in.
 */
#ifndef TRAWL_STORE_DB_H
#define TRAWL_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Result codes: SQLite's values (db_sqlite.c checks that they are). */
enum {
	DB_OK = 0,
	DB_ERROR = 1,
	DB_PERM = 3,
	DB_BUSY = 5,
	DB_LOCKED = 6,
	DB_NOMEM = 7,
	DB_READONLY = 8,
	DB_CORRUPT = 11,
	DB_TOOBIG = 18,
	DB_CONSTRAINT = 19,
	DB_AUTH = 23,
	DB_NOTADB = 26,
	DB_ROW = 100,
	DB_DONE = 101,
	DB_CANTOPEN = 14,
	DB_CONSTRAINT_PRIMARYKEY = DB_CONSTRAINT | (6 << 8),
	DB_CONSTRAINT_UNIQUE = DB_CONSTRAINT | (8 << 8),
};

/* A column value's type (db_column_type): SQLite's fundamental types, by SQLite's numbers. */
enum db_type {
	DB_TYPE_INTEGER = 1,
	DB_TYPE_FLOAT = 2,
	DB_TYPE_TEXT = 3,
	DB_TYPE_BLOB = 4,
	DB_TYPE_NULL = 5,
};

enum db_kind {
	DB_SQLITE,
	DB_POSTGRES,
};

/* How db_begin starts a transaction. */
enum db_tx {
	DB_TX_WRITE, /* one writer at a time: SQLite's BEGIN IMMEDIATE */
	DB_TX_READ,  /* one snapshot for what it reads */
};

struct db;
struct db_stmt;

/*
 * Whether a database name is a PostgreSQL URL (postgres:// or postgresql://); anything else
 * is an SQLite path, with an optional "sqlite:" prefix.
 */
bool db_is_postgres(const char *name);

/*
 * Opens the database: an SQLite file (created if missing) or a PostgreSQL connection (see
 * db_pg_open). *out is set even on failure (NULL when out of memory) so db_errmsg can say
 * why; close it with db_close. Returns a DB_* code.
 */
int db_open(struct db **out, const char *name);
void db_close(struct db *db);
enum db_kind db_kind(const struct db *db);
/* The last failure's message (never NULL). */
const char *db_errmsg(const struct db *db);

/* Prepares one statement (sql: a constant). *st is NULL on failure. */
int db_prepare(struct db *db, const char *sql, struct db_stmt **st);
/* Runs every statement of a constant script with no parameters (a migration step). */
int db_exec_script(struct db *db, const char *script);
/* NULL is a no-op. */
void db_finalize(struct db_stmt *st);
/* Makes st ready to run again; bound values are kept. */
void db_reset(struct db_stmt *st);
/* The highest parameter number in st. */
int db_param_count(struct db_stmt *st);

int db_bind_int64(struct db_stmt *st, int i, int64_t v);
/* v NULL binds NULL. */
int db_bind_text(struct db_stmt *st, int i, const char *v);
int db_bind_blob(struct db_stmt *st, int i, const void *v, size_t len);
int db_bind_null(struct db_stmt *st, int i);
/* Sets every parameter to NULL (so a secret bound last is not kept in memory). */
void db_clear_bindings(struct db_stmt *st);

/* DB_ROW, DB_DONE or a failure code. */
int db_step(struct db_stmt *st);
int64_t db_column_int64(struct db_stmt *st, int col);
int db_column_int(struct db_stmt *st, int col);
/* NULL for NULL; valid until the next step, reset or finalize. */
const unsigned char *db_column_text(struct db_stmt *st, int col);
const void *db_column_blob(struct db_stmt *st, int col);
int db_column_bytes(struct db_stmt *st, int col);
/* The columns of st's rows (PostgreSQL: known once st has run, after its first step). */
int db_column_count(struct db_stmt *st);
/*
 * The type of column col of the current row: DB_TYPE_NULL for NULL, else SQLite's type of the
 * value, or the PostgreSQL column type's class (integers and booleans INTEGER, bytea BLOB,
 * floating point FLOAT, everything else TEXT). For a copy of rows whatever their table.
 */
int db_column_type(struct db_stmt *st, int col);

/* Rows changed by the last INSERT/UPDATE/DELETE run on db. */
int64_t db_changes(struct db *db);
/* The id of the last row inserted into a table with an id column. */
int64_t db_last_insert_id(struct db *db);

/* Transactions: begin as asked, commit, roll back. db_in_tx says whether one is open. */
int db_begin(struct db *db, enum db_tx how);
int db_commit(struct db *db);
int db_rollback(struct db *db);
bool db_in_tx(struct db *db);
/* Commits made through this connection (for store_stamp). */
uint64_t db_commits(const struct db *db);

/* The schema version: SQLite's PRAGMA user_version, PostgreSQL's schema_version table. */
int db_user_version(struct db *db, int *version);
/*
 * Whether a statement waits for a lock another connection holds (up to a timeout) or fails
 * at once with DB_BUSY.
 */
void db_set_waiting(struct db *db, bool is_waiting);

/*
 * Reads every page (SQLite's PRAGMA quick_check) or checks the server answers (PostgreSQL).
 * *problem gets a new string describing the first problem, NULL when all is well.
 */
int db_check(struct db *db, char **problem);
/*
 * A number that moves when another connection commits (SQLite's PRAGMA data_version; on
 * PostgreSQL a hash of the server's snapshot, which may also move for other databases').
 */
int db_data_version(struct db *db, int64_t *out);
/* Lets commits of this connection skip waiting for the disk (SQLite: synchronous NORMAL). */
int db_relax_durability(struct db *db);
/* The sqlite3 handle of an SQLite connection (NULL for another backend): for tests. */
void *db_sqlite_handle(struct db *db);

/*
 * Copies an SQLite database, as one consistent snapshot, to a new file at path (error_set on
 * failure; TRAWL_EIO). For SQLite connections only.
 */
int db_sqlite_backup(struct db *db, const char *path);

/* Per-backend openers, for db_open. */
int db_sqlite_open(struct db **out, const char *path);
int db_pg_open(struct db **out, const char *url);
/* The password PostgreSQL connections opened from now on give (NULL: the URL's, or none). */
int db_pg_set_password(const char *password);

#endif
