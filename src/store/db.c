/*
 * The database layer's dispatch to its backend (db.h): each call goes to the connection's
 * operations.
 */
#include "store/db.h"
#include "store/db_backend.h"

#include <string.h>

bool db_is_postgres(const char *name)
{
	return strncmp(name, "postgres://", 11) == 0 || strncmp(name, "postgresql://", 13) == 0;
}

int db_open(struct db **out, const char *name)
{
	if (db_is_postgres(name))
		return db_pg_open(out, name);
	if (strncmp(name, "sqlite:", 7) == 0)
		name += 7;
	return db_sqlite_open(out, name);
}

void db_close(struct db *db)
{
	if (db)
		db->ops->close(db);
}

enum db_kind db_kind(const struct db *db)
{
	return db->kind;
}

const char *db_errmsg(const struct db *db)
{
	return db ? db->ops->errmsg(db) : "out of memory";
}

int db_prepare(struct db *db, const char *sql, struct db_stmt **st)
{
	*st = NULL;
	return db->ops->prepare(db, sql, st);
}

int db_exec_script(struct db *db, const char *script)
{
	return db->ops->exec_script(db, script);
}

void db_finalize(struct db_stmt *st)
{
	if (st)
		st->db->ops->finalize(st);
}

void db_reset(struct db_stmt *st)
{
	if (st)
		st->db->ops->reset(st);
}

int db_param_count(struct db_stmt *st)
{
	return st->db->ops->param_count(st);
}

int db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	return st->db->ops->bind_int64(st, i, v);
}

int db_bind_text(struct db_stmt *st, int i, const char *v)
{
	return v ? st->db->ops->bind_text(st, i, v) : st->db->ops->bind_null(st, i);
}

int db_bind_blob(struct db_stmt *st, int i, const void *v, size_t len)
{
	return st->db->ops->bind_blob(st, i, v, len);
}

int db_bind_null(struct db_stmt *st, int i)
{
	return st->db->ops->bind_null(st, i);
}

void db_clear_bindings(struct db_stmt *st)
{
	st->db->ops->clear_bindings(st);
}

int db_step(struct db_stmt *st)
{
	return st->db->ops->step(st);
}

int64_t db_column_int64(struct db_stmt *st, int col)
{
	return st->db->ops->column_int64(st, col);
}

int db_column_int(struct db_stmt *st, int col)
{
	return (int)st->db->ops->column_int64(st, col);
}

const unsigned char *db_column_text(struct db_stmt *st, int col)
{
	return st->db->ops->column_text(st, col);
}

const void *db_column_blob(struct db_stmt *st, int col)
{
	return st->db->ops->column_blob(st, col);
}

int db_column_bytes(struct db_stmt *st, int col)
{
	return st->db->ops->column_bytes(st, col);
}

int db_column_count(struct db_stmt *st)
{
	return st->db->ops->column_count(st);
}

int db_column_type(struct db_stmt *st, int col)
{
	return st->db->ops->column_type(st, col);
}

int64_t db_changes(struct db *db)
{
	return db->ops->changes(db);
}

int64_t db_last_insert_id(struct db *db)
{
	return db->ops->last_insert_id(db);
}

int db_begin(struct db *db, enum db_tx how)
{
	return db->ops->begin(db, how);
}

int db_commit(struct db *db)
{
	return db->ops->end(db, true);
}

int db_rollback(struct db *db)
{
	return db->ops->end(db, false);
}

bool db_in_tx(struct db *db)
{
	return db->ops->in_tx(db);
}

uint64_t db_commits(const struct db *db)
{
	return __atomic_load_n(&db->commits, __ATOMIC_RELAXED);
}

int db_user_version(struct db *db, int *version)
{
	return db->ops->user_version(db, version);
}

void db_set_waiting(struct db *db, bool is_waiting)
{
	db->ops->set_waiting(db, is_waiting);
}

int db_check(struct db *db, char **problem)
{
	*problem = NULL;
	return db->ops->check(db, problem);
}

int db_data_version(struct db *db, int64_t *out)
{
	return db->ops->data_version(db, out);
}

int db_relax_durability(struct db *db)
{
	return db->ops->relax_durability(db);
}
