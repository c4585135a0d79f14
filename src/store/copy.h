/*
 * Copying a whole store into an empty one (trawl db copy; docs/operations.md, "Moving to
 * PostgreSQL"): SQLite to PostgreSQL as an installation outgrows one machine, or back.
 *
 * DESIGN: the copy is a table of the schema's tables in an order where every table comes after
 * the tables its foreign keys name (copy.c, tables[]). Each row keeps its id, as grants,
 * memberships, tokens and notices refer to users, groups and repositories by id, and the audit
 * trail's ids are its order. Values are copied by the type each holds (db_column_type), so the
 * column lists are all that is written per table; tests/unit/store/test_copy.c fails when a
 * table or column of the schema is missing from them. Tables the schema's triggers keep
 * (acl_generation, acl_changes, audit_rows) are not copied: the target's triggers fill them as
 * the rows arrive.
 */
#ifndef TRAWL_STORE_COPY_H
#define TRAWL_STORE_COPY_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* One table the copy knows. All strings are constants. */
struct store_copy_table {
	const char *name;
	const char *columns; /* "id, name, ...": what is read and written, in order */
	const char *select;  /* reads every row, in id (or insertion) order */
	const char *insert;  /* writes one row: the columns as ?1, ?2, ... */
	const char *any;     /* a row when the table holds one */
	const char *reset;   /* PostgreSQL: moves the id's identity past the largest id; or NULL */
};

/* The copied tables, parents first; *n is their count. */
const struct store_copy_table *store_copy_tables(size_t *n);
/* The NULL-terminated names of the tables the target's triggers fill (not copied). */
const char *const *store_copy_derived(void);

/*
 * Copies every row of every table of from into to, which must hold none (EINVAL naming the
 * first table that holds rows), in one write transaction on to (nothing is written on a
 * failure) and one read transaction on from (a consistent snapshot). Both are at
 * STORE_SCHEMA_VERSION (as store_open leaves them). Then, on PostgreSQL, every identity column
 * moves past the largest id copied, and the copy is recorded in to's audit trail as the event
 * store_copied by actor, with from's name (without password) as its target. rows[i] gets
 * table i's count (rows has one element per table of store_copy_tables). Errors name the table
 * and the row (its number, and its id when the first column is one; never a value that may be
 * a secret): EIO, EINVAL, ENOMEM.
 */
int store_copy(struct store *from, struct store *to, const char *actor, int64_t *rows);

#endif
