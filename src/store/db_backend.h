/*
 * What each backend of the database layer (db.h) provides: its operations, and the header
 * its connections and statements begin with. Only db.c, db_sqlite.c and db_pg.c include it.
 */
#ifndef TRAWL_STORE_DB_BACKEND_H
#define TRAWL_STORE_DB_BACKEND_H

#include "store/db.h"

struct db_ops {
	void (*close)(struct db *db);
	const char *(*errmsg)(const struct db *db);
	int (*prepare)(struct db *db, const char *sql, struct db_stmt **st);
	int (*exec_script)(struct db *db, const char *script);
	void (*finalize)(struct db_stmt *st);
	void (*reset)(struct db_stmt *st);
	int (*param_count)(struct db_stmt *st);
	int (*bind_int64)(struct db_stmt *st, int i, int64_t v);
	int (*bind_text)(struct db_stmt *st, int i, const char *v);
	int (*bind_blob)(struct db_stmt *st, int i, const void *v, size_t len);
	int (*bind_null)(struct db_stmt *st, int i);
	void (*clear_bindings)(struct db_stmt *st);
	int (*step)(struct db_stmt *st);
	int64_t (*column_int64)(struct db_stmt *st, int col);
	const unsigned char *(*column_text)(struct db_stmt *st, int col);
	const void *(*column_blob)(struct db_stmt *st, int col);
	int (*column_bytes)(struct db_stmt *st, int col);
	int (*column_count)(struct db_stmt *st);
	int (*column_type)(struct db_stmt *st, int col);
	int64_t (*changes)(struct db *db);
	int64_t (*last_insert_id)(struct db *db);
	int (*begin)(struct db *db, enum db_tx how);
	int (*end)(struct db *db, bool is_commit);
	bool (*in_tx)(struct db *db);
	int (*user_version)(struct db *db, int *version);
	void (*set_waiting)(struct db *db, bool is_waiting);
	int (*check)(struct db *db, char **problem);
	int (*data_version)(struct db *db, int64_t *out);
	int (*relax_durability)(struct db *db);
};

/* The first member of each backend's connection. */
struct db {
	const struct db_ops *ops;
	enum db_kind kind;
	uint64_t commits;
};

/* The first member of each backend's statement. */
struct db_stmt {
	struct db *db;
};

#endif
