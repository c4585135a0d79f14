/*
 * What the store's own files share: the connection and the statement helpers of store.c, so
 * accounts.c runs its SQL exactly as store.c does (V1: every statement a string constant,
 * prepared through prep() and bound through store_bind_*; tests/e2e/test_lint.sh checks the
 * calls). Only src/store/ includes this header.
 */
#ifndef TRAWL_STORE_STORE_INT_H
#define TRAWL_STORE_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

struct store {
	struct db *db;
	char *path; /* for messages: a file's path, or a URL without its password */
	/* Kept prepared, as every request runs them: the readable set's generation, the
	 * lookups of a token and of a session, and (laptop mode) the count of users
	 * (store/accounts.c). */
	struct db_stmt *generation, *token_find, *session_find, *user_counts;
	bool is_busy; /* store_db_error saw DB_BUSY or DB_LOCKED (store_was_busy) */
};

/*
 * The audit events that record refused requests, as an SQL condition: the partial index of
 * migration 7 and the queries that use it must spell it the same (SQLite uses a partial index
 * only for a query whose WHERE holds the index's own condition).
 */
#define STORE_AUDIT_REFUSALS \
	"event IN ('unauthorized', 'forbidden', 'not_visible', 'audit_suppressed')"
/*
 * Refusals outside that index: an outsider's failed sign-ins, by password or through single
 * sign-on. They are pruned with the refusals (store_audit_prune_refusals) but kept out of
 * STORE_AUDIT_REFUSALS, whose text is migration 7's index: changing it would give new
 * databases another index than old ones.
 */
#define STORE_AUDIT_SIGN_IN_FAILED "event IN ('sign_in_failed', 'sso_refused')"
/*
 * What callers do rather than what administrators change: the row cap takes these after
 * outsiders' refusals and before signed-in users' refusals, and never an event outside the
 * three classes (accounts, groups, grants, other users' tokens, repositories).
 */
#define STORE_AUDIT_ACTIVITY \
	"event IN ('search', 'token_used', 'sign_in', 'sso_sign_in', 'sign_out', 'session_expired')"
/*
 * A member of an event's detail object, or NULL. Guarded, as json_extract fails on text that
 * is not JSON, and one such row would then stop every prune.
 */
#define STORE_AUDIT_DETAIL(key) \
	"(CASE WHEN json_valid(detail) THEN json_extract(detail, '$." key "') END)"
/*
 * What users do to their own account counts as activity: their own password and display
 * name, their own search tokens (an admin-scope token stays in the administrators' record).
 * "cli" is the command line's actor, which a user may also be named: the operator's changes
 * are never taken for a user's own.
 */
/* clang-format off */
#define STORE_AUDIT_OWN_ACCOUNT \
	"(actor <> 'cli' AND ((event IN ('password_changed', 'user_display_name') AND " \
	"actor = target) OR (event IN ('token_created', 'token_revoked') AND " \
	STORE_AUDIT_DETAIL("user") " = actor AND " STORE_AUDIT_DETAIL("scope") " = 'search')))"
/* clang-format on */
/*
 * Of the refusals, those of no one signed in: an anonymous caller's (no actor) and the
 * audit_suppressed reports that count them. A report summing several users' counts has no
 * actor either; its "bound" says it counts users.
 */
#define STORE_AUDIT_ANONYMOUS "(actor = '' AND " STORE_AUDIT_DETAIL("bound") " IS NOT 'user')"

/* PostgreSQL's schema at STORE_SCHEMA_VERSION (schema_pg.c). */
extern const char store_schema_pg[];

/* Maps a database failure to a TRAWL_E* code with a message naming the database and step. */
int store_db_error(struct store *s, int rc, const char *what);
/* SECURITY: V1: sql is always a string constant; values go through store_bind_*. */
int store_prep(struct db_stmt **st, struct store *s, const char *sql);
/* Steps a statement that returns no rows (or whose rows are ignored) to its end. */
int store_run(struct store *s, struct db_stmt *st, const char *what);
int store_bind_text(struct store *s, struct db_stmt *st, int i, const char *v);
int store_bind_i64(struct store *s, struct db_stmt *st, int i, int64_t v);
/* A copy of a text column (NULL for NULL; *nomem set when the copy failed). */
char *store_dup_col(struct db_stmt *st, int col, bool *nomem);

/* How store_rows_read turns rows into an array of structs. */
struct store_rows {
	size_t elem_size;
	/* Fills *elem (zeroed) from the current row; may run other statements. */
	int (*read)(void *elem, struct store *s, struct db_stmt *st);
	/* Frees n elements (the last one may be the one read failed on) and the array. */
	void (*free)(void *v, size_t n);
	const char *what; /* for a database error: "listing users" */
};

/*
 * Steps st to its end, each row becoming one element of a new array (*out, *n; NULL and 0
 * without rows). On failure nothing is returned and what was read is freed. EIO, ENOMEM, or
 * read's error.
 */
int store_rows_read(void **out, size_t *n, struct store *s, struct db_stmt *st,
		    const struct store_rows *how);

/*
 * Steps a statement whose rows are names (column 0) into a new NULL-terminated array of n new
 * strings (never NULL; free with store_names_free). EIO, ENOMEM.
 */
int store_names_read(char ***out, size_t *n, struct store *s, struct db_stmt *st, const char *what);

/* Begins/ends a write transaction; on failure tx_end rolls back, keeping the error detail. */
int store_tx_begin(struct store *s);
/* A read transaction: what it reads is one snapshot. End it with store_tx_end. */
int store_tx_begin_read(struct store *s);
int store_tx_end(struct store *s, int err);

/* The name every call site uses, so the lint can check that its SQL is a literal. */
static inline int prep(struct db_stmt **st, struct store *s, const char *sql)
{
	return store_prep(st, s, sql);
}

#endif
