/*
 * The PostgreSQL backend of the database layer (db.h), over libpq.
 *
 * DESIGN: a statement is the store's SQLite text rewritten once, at prepare, by the dialect
 * table below (parameters ?N become $N, INSERT OR IGNORE becomes ON CONFLICT DO NOTHING, ...).
 * It runs at its first step through PQexecParams: parameters go as text (integers in decimal,
 * typed int8; text typed text), blobs in binary (bytea);
 * results come back as text and are held in memory (the PGresult) until the next reset, step
 * by step read from it. The store's queries return a page of rows at most (lists are bounded
 * by the callers), so holding a result is what SQLite's stepping would have cost in time.
 *
 * Transactions: SQLite's BEGIN IMMEDIATE (one writer at a time, readers never blocked) is
 * BEGIN plus a transaction-scoped advisory lock every trawl writer takes, so writers are
 * serialized exactly as on SQLite and each statement in READ COMMITTED sees every earlier
 * writer's rows; a read transaction is REPEATABLE READ (one snapshot). A lock held longer than
 * the timeout (10 s; none when not waiting) fails with DB_BUSY, as SQLite's busy timeout does.
 *
 * SECURITY: a connection's password never reaches a message: libpq's errors do not carry it,
 * and the store names the database by its URL without the password (store.c).
 */
#include "store/db.h"
#include "store/db_backend.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"

/*
 * libpq is loaded when the first PostgreSQL connection opens, not linked: its dependencies
 * (Kerberos, LDAP, OpenSSL: 22 libraries) cost every trawl process ~3.5 ms at start, and
 * most never open a database server. The functions this file calls, resolved once.
 */
static __typeof__(PQclear) *p_PQclear;
static __typeof__(PQcmdStatus) *p_PQcmdStatus;
static __typeof__(PQcmdTuples) *p_PQcmdTuples;
static __typeof__(PQconnectdbParams) *p_PQconnectdbParams;
static __typeof__(PQerrorMessage) *p_PQerrorMessage;
static __typeof__(PQexec) *p_PQexec;
static __typeof__(PQexecParams) *p_PQexecParams;
static __typeof__(PQfinish) *p_PQfinish;
static __typeof__(PQfreemem) *p_PQfreemem;
static __typeof__(PQftype) *p_PQftype;
static __typeof__(PQgetisnull) *p_PQgetisnull;
static __typeof__(PQgetlength) *p_PQgetlength;
static __typeof__(PQgetvalue) *p_PQgetvalue;
static __typeof__(PQhost) *p_PQhost;
static __typeof__(PQnfields) *p_PQnfields;
static __typeof__(PQntuples) *p_PQntuples;
static __typeof__(PQport) *p_PQport;
static __typeof__(PQresultErrorField) *p_PQresultErrorField;
static __typeof__(PQresultErrorMessage) *p_PQresultErrorMessage;
static __typeof__(PQresultStatus) *p_PQresultStatus;
static __typeof__(PQstatus) *p_PQstatus;
static __typeof__(PQtransactionStatus) *p_PQtransactionStatus;
static __typeof__(PQunescapeBytea) *p_PQunescapeBytea;

static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static const char *pq_error; /* why loading failed, NULL when it did not */

static void pq_load(void)
{
	static const struct {
		const char *name;
		void **fn;
	} syms[] = {
		{ "PQclear", (void **)&p_PQclear },
		{ "PQcmdStatus", (void **)&p_PQcmdStatus },
		{ "PQcmdTuples", (void **)&p_PQcmdTuples },
		{ "PQconnectdbParams", (void **)&p_PQconnectdbParams },
		{ "PQerrorMessage", (void **)&p_PQerrorMessage },
		{ "PQexec", (void **)&p_PQexec },
		{ "PQexecParams", (void **)&p_PQexecParams },
		{ "PQfinish", (void **)&p_PQfinish },
		{ "PQfreemem", (void **)&p_PQfreemem },
		{ "PQftype", (void **)&p_PQftype },
		{ "PQgetisnull", (void **)&p_PQgetisnull },
		{ "PQgetlength", (void **)&p_PQgetlength },
		{ "PQgetvalue", (void **)&p_PQgetvalue },
		{ "PQhost", (void **)&p_PQhost },
		{ "PQnfields", (void **)&p_PQnfields },
		{ "PQntuples", (void **)&p_PQntuples },
		{ "PQport", (void **)&p_PQport },
		{ "PQresultErrorField", (void **)&p_PQresultErrorField },
		{ "PQresultErrorMessage", (void **)&p_PQresultErrorMessage },
		{ "PQresultStatus", (void **)&p_PQresultStatus },
		{ "PQstatus", (void **)&p_PQstatus },
		{ "PQtransactionStatus", (void **)&p_PQtransactionStatus },
		{ "PQunescapeBytea", (void **)&p_PQunescapeBytea },
	};
	void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		pq_error = "libpq.so.5 could not be loaded (install libpq5)";
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(*syms); i++)
		if (!(*syms[i].fn = dlsym(h, syms[i].name))) {
			pq_error = "libpq.so.5 lacks a function trawl calls";
			return;
		}
}

/* From here on, PQxxx are the loaded functions. */
#define PQclear p_PQclear
#define PQcmdStatus p_PQcmdStatus
#define PQcmdTuples p_PQcmdTuples
#define PQconnectdbParams p_PQconnectdbParams
#define PQerrorMessage p_PQerrorMessage
#define PQexec p_PQexec
#define PQexecParams p_PQexecParams
#define PQfinish p_PQfinish
#define PQfreemem p_PQfreemem
#define PQftype p_PQftype
#define PQgetisnull p_PQgetisnull
#define PQgetlength p_PQgetlength
#define PQgetvalue p_PQgetvalue
#define PQhost p_PQhost
#define PQnfields p_PQnfields
#define PQntuples p_PQntuples
#define PQport p_PQport
#define PQresultErrorField p_PQresultErrorField
#define PQresultErrorMessage p_PQresultErrorMessage
#define PQresultStatus p_PQresultStatus
#define PQstatus p_PQstatus
#define PQtransactionStatus p_PQtransactionStatus
#define PQunescapeBytea p_PQunescapeBytea

/* The advisory lock key of trawl's write transactions ("trawl" in ASCII). */
#define WRITE_LOCK_KEY "478560776812"
#define BYTEA_OID 17
#define TEXT_OID 25
#define BOOL_OID 16
#define INT8_OID 20
#define INT2_OID 21
#define INT4_OID 23
#define FLOAT4_OID 700
#define FLOAT8_OID 701
#define MAX_PARAMS 32

/*
 * The password connections give: store_set_password's, or else read once from the file
 * $TRAWL_DATABASE_PASSWORD_FILE names (--database-password-file sets it), so the processes a
 * command starts read it too and the password itself is never in an environment. NULL: the
 * URL's own, or libpq's usual sources (~/.pgpass, PGPASSWORD).
 */
static char *password;
static pthread_mutex_t password_lock = PTHREAD_MUTEX_INITIALIZER;

struct pg {
	struct db base;
	PGconn *c;
	char *err;       /* the last failure's message */
	int64_t changes; /* rows the last statement changed */
};

struct pg_stmt {
	struct db_stmt base;
	char *sql;
	int n_params;
	char *vals[MAX_PARAMS];
	int lens[MAX_PARAMS];
	int fmts[MAX_PARAMS];
	/* Integers are int8, text (and NULL, which the store binds for text only) text, blobs
	 * bytea; 0 (the server infers) until bound, and an unused parameter is text. */
	unsigned types[MAX_PARAMS];
	bool used[MAX_PARAMS];
	PGresult *res;
	int row;             /* the row db_step reached, -1 before the first */
	unsigned char *blob; /* the decoded bytea of (blob_row, blob_col) */
	size_t blob_len;
	int blob_row, blob_col;
};

static struct pg *P(const struct db *db)
{
	return (struct pg *)db;
}

static struct pg_stmt *PS(struct db_stmt *st)
{
	return (struct pg_stmt *)st;
}

/* Keeps msg (libpq's, with its trailing newline dropped) as the last failure's message. */
static void set_err(struct pg *p, const char *msg)
{
	size_t n = strlen(msg ? msg : "");
	char *e = malloc(n + 1);

	if (!e)
		return;
	memcpy(e, msg ? msg : "", n + 1);
	while (n && (e[n - 1] == '\n' || e[n - 1] == ' '))
		e[--n] = '\0';
	/* libpq's messages span lines ("...failed: ...\n\tIs the server running ..."): one. */
	for (char *c = e; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	free(p->err);
	p->err = e;
}

/* The DB_* code of a failed result, from its SQLSTATE. */
static int map_state(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	size_t n;

	if (!state)
		return DB_ERROR;
	if (strcmp(state, "23505") == 0) {
		n = constraint ? strlen(constraint) : 0;
		return n > 5 && strcmp(constraint + n - 5, "_pkey") == 0 ? DB_CONSTRAINT_PRIMARYKEY
									 : DB_CONSTRAINT_UNIQUE;
	}
	if (strncmp(state, "23", 2) == 0)
		return DB_CONSTRAINT;
	if (strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0)
		return DB_BUSY;
	if (strcmp(state, "53200") == 0)
		return DB_NOMEM;
	if (strncmp(state, "28", 2) == 0)
		return DB_AUTH;
	if (strcmp(state, "42501") == 0)
		return DB_PERM;
	if (strcmp(state, "54000") == 0)
		return DB_TOOBIG;
	return DB_ERROR;
}

/* The DB_* code of res (DB_OK for success), its message kept on failure. */
static int result_rc(struct pg *p, PGresult *res)
{
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY)
		return DB_OK;
	if (res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY))
		set_err(p, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	else
		set_err(p, res ? PQresultErrorMessage(res) : PQerrorMessage(p->c));
	return res ? map_state(res) : DB_ERROR;
}

/* Runs a constant command without parameters. */
static int run(struct pg *p, const char *sql)
{
	PGresult *res = PQexec(p->c, sql);
	int rc = result_rc(p, res);

	PQclear(res);
	return rc;
}

/* ---- the dialect table ---- */

/*
 * Text of the store's SQLite statements that PostgreSQL spells otherwise, replaced wherever it
 * occurs (literals included: each entry is specific enough to occur only where meant).
 * INSERT OR IGNORE has its ON CONFLICT clause appended at the statement's end (translate).
 */
static const struct {
	const char *sqlite, *pg;
} dialect[] = {
	{ "INSERT OR IGNORE INTO", "INSERT INTO" },
	{ "CAST(strftime('%s', 'now') AS INTEGER)", "CAST(extract(epoch FROM now()) AS BIGINT)" },
	/* SQLite's IS NOT compares with NULL as a value; PostgreSQL's IS DISTINCT FROM does. */
	{ " IS NOT '", " IS DISTINCT FROM '" },
	/* The rows of a JSON array of strings (a text parameter), as a column named value. */
	{ "json_each(?1)", "json_array_elements_text(?1::json)" },
	/* A conflict on a membership keeps the row and makes it an administrator's. */
	{ "ON CONFLICT DO UPDATE SET source = 'local'",
	  "ON CONFLICT (group_id, user_id) DO UPDATE SET source = 'local'" },
};

/* A string being built: util/buf.h's, with its first failure kept. */
struct sb {
	struct buf b;
	bool oom;
};

static void sb_init(struct sb *b)
{
	buf_init(&b->b, BUF_MAX_DEFAULT);
	b->oom = false;
}

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (!b->oom && buf_put(&b->b, s, n) < 0)
		b->oom = true;
}

/* The string built (the caller's to free), or NULL when out of memory. */
static char *sb_take(struct sb *b)
{
	char *out;

	if (b->oom || buf_putc(&b->b, '\0') < 0) {
		buf_dispose(&b->b);
		return NULL;
	}
	out = b->b.ptr;
	b->b.ptr = NULL;
	return out;
}

/* Applies the dialect table to sql: a new string, NULL when out of memory. */
static char *apply_dialect(const char *sql, bool *is_ignore)
{
	struct sb b;

	sb_init(&b);
	*is_ignore = false;
	while (*sql) {
		size_t i, n = sizeof(dialect) / sizeof(*dialect);

		for (i = 0; i < n; i++)
			if (strncmp(sql, dialect[i].sqlite, strlen(dialect[i].sqlite)) == 0)
				break;
		if (i < n) {
			if (i == 0)
				*is_ignore = true;
			sb_add(&b, dialect[i].pg, strlen(dialect[i].pg));
			sql += strlen(dialect[i].sqlite);
		} else {
			sb_add(&b, sql++, 1);
		}
	}
	return sb_take(&b);
}

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Whether the call whose "(" is at open has a comma at its own level (two arguments). */
static bool has_two_args(const char *open)
{
	int depth = 0;

	for (const char *c = open; *c; c++) {
		if (*c == '\'') {
			while (*++c && *c != '\'')
				;
			if (!*c)
				return false;
		} else if (*c == '(') {
			depth++;
		} else if (*c == ')') {
			if (--depth == 0)
				return false;
		} else if (*c == ',' && depth == 1) {
			return true;
		}
	}
	return false;
}

/*
 * The second pass, outside string literals: ?N becomes $N (used[N] set), and SQLite's scalar
 * min(a, b) and max(a, b) become least and greatest (the one-argument aggregates stay).
 */
static char *number_params(const char *sql, bool used[MAX_PARAMS + 1], int *n_params)
{
	const char *c = sql;
	struct sb b;

	sb_init(&b);
	*n_params = 0;
	while (*c) {
		if (*c == '\'') {
			const char *end = c + 1;

			while (*end && *end != '\'')
				end++;
			if (*end)
				end++;
			sb_add(&b, c, (size_t)(end - c));
			c = end;
		} else if (*c == '?') {
			char *end, num[16];
			/* A bare ? is SQLite's next number: one more than the largest so far. */
			long k = strtol(c + 1, &end, 10);

			if (end == c + 1)
				k = *n_params + 1;
			if (k < 1 || k > MAX_PARAMS) {
				buf_dispose(&b.b);
				return NULL;
			}
			used[k] = true;
			if (k > *n_params)
				*n_params = (int)k;
			snprintf(num, sizeof(num), "$%ld", k);
			sb_add(&b, num, strlen(num));
			c = end;
		} else if ((c == sql || !is_word(c[-1])) &&
			   (strncmp(c, "min(", 4) == 0 || strncmp(c, "max(", 4) == 0) &&
			   has_two_args(c + 3)) {
			const char *w = c[1] == 'i' ? "least" : "greatest";

			sb_add(&b, w, strlen(w));
			c += 3;
		} else {
			sb_add(&b, c++, 1);
		}
	}
	return sb_take(&b);
}

/* The statement sql in PostgreSQL's dialect; NULL when out of memory or a bad parameter. */
static char *translate(const char *sql, bool used[MAX_PARAMS + 1], int *n_params)
{
	bool is_ignore;
	char *a = apply_dialect(sql, &is_ignore), *out;
	struct sb b;
	size_t n;

	if (!a)
		return NULL;
	out = number_params(a, used, n_params);
	free(a);
	if (!out || !is_ignore)
		return out;
	n = strlen(out);
	while (n && (out[n - 1] == ' ' || out[n - 1] == ';'))
		n--;
	sb_init(&b);
	sb_add(&b, out, n);
	sb_add(&b, " ON CONFLICT DO NOTHING", 23);
	free(out);
	return sb_take(&b);
}

/* ---- statements ---- */

static void clear_result(struct pg_stmt *st)
{
	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	PQfreemem(st->blob);
	st->blob = NULL;
	st->blob_row = st->blob_col = -1;
}

static int pg_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	struct pg_stmt *st = calloc(1, sizeof(*st));
	bool used[MAX_PARAMS + 1] = { false };

	if (!st)
		return DB_NOMEM;
	if (!(st->sql = translate(sql, used, &st->n_params))) {
		free(st);
		set_err(P(db), "a statement could not be translated (out of memory, or a parameter "
			       "above ?32)");
		return DB_ERROR;
	}
	for (int i = 0; i < st->n_params; i++) {
		st->used[i] = used[i + 1];
		st->types[i] = used[i + 1] ? 0 : TEXT_OID;
	}
	st->base.db = db;
	st->row = -1;
	st->blob_row = st->blob_col = -1;
	*out = &st->base;
	return DB_OK;
}

static int pg_exec_script(struct db *db, const char *script)
{
	return run(P(db), script);
}

static void clear_param(struct pg_stmt *st, int i)
{
	free(st->vals[i]);
	st->vals[i] = NULL;
	st->lens[i] = 0;
	st->fmts[i] = 0;
	st->types[i] = st->used[i] ? 0 : TEXT_OID;
}

static void pg_clear_bindings(struct db_stmt *base)
{
	struct pg_stmt *st = PS(base);

	for (int i = 0; i < MAX_PARAMS; i++)
		clear_param(st, i);
}

static void pg_finalize(struct db_stmt *base)
{
	struct pg_stmt *st = PS(base);

	clear_result(st);
	pg_clear_bindings(base);
	free(st->sql);
	free(st);
}

static void pg_reset(struct db_stmt *st)
{
	clear_result(PS(st));
}

static int pg_param_count(struct db_stmt *st)
{
	return PS(st)->n_params;
}

/* Binds a copy of v[0..len) as parameter i of type oid, in text (fmt 0) or binary (fmt 1). */
static int bind(struct db_stmt *base, int i, const void *v, size_t len, unsigned oid, int fmt)
{
	struct pg_stmt *st = PS(base);
	char *copy;

	if (i < 1 || i > st->n_params || len > INT32_MAX) {
		set_err(P(base->db), "binding a parameter the statement does not have");
		return DB_ERROR;
	}
	clear_param(st, i - 1);
	if (st->used[i - 1])
		st->types[i - 1] = oid;
	if (!v)
		return DB_OK;
	if (!(copy = malloc(len + 1)))
		return DB_NOMEM;
	memcpy(copy, v, len);
	copy[len] = '\0';
	st->vals[i - 1] = copy;
	st->lens[i - 1] = (int)len;
	st->fmts[i - 1] = fmt;
	return DB_OK;
}

static int pg_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%lld", (long long)v);

	return bind(st, i, num, (size_t)n, INT8_OID, 0);
}

static int pg_bind_text(struct db_stmt *st, int i, const char *v)
{
	return bind(st, i, v, strlen(v), TEXT_OID, 0);
}

static int pg_bind_blob(struct db_stmt *st, int i, const void *v, size_t len)
{
	/* An empty blob is not NULL. */
	return bind(st, i, v ? v : "", len, BYTEA_OID, 1);
}

static int pg_bind_null(struct db_stmt *st, int i)
{
	return bind(st, i, NULL, 0, TEXT_OID, 0);
}

static int pg_step(struct db_stmt *base)
{
	struct pg_stmt *st = PS(base);
	struct pg *p = P(base->db);
	int rc;

	if (!st->res) {
		st->res = PQexecParams(p->c, st->sql, st->n_params, st->types,
				       (const char *const *)st->vals, st->lens, st->fmts, 0);
		if ((rc = result_rc(p, st->res)) != DB_OK) {
			clear_result(st);
			return rc;
		}
		if (PQresultStatus(st->res) == PGRES_COMMAND_OK) {
			const char *n = PQcmdTuples(st->res);

			p->changes = n && *n ? strtoll(n, NULL, 10) : 0;
		}
	}
	if (st->row + 1 < PQntuples(st->res)) {
		st->row++;
		return DB_ROW;
	}
	st->row = PQntuples(st->res);
	return DB_DONE;
}

/* Whether (row, col) can be read: a row reached and a column it has. */
static bool readable(struct pg_stmt *st, int col)
{
	return st->res && st->row >= 0 && st->row < PQntuples(st->res) && col >= 0 &&
	       col < PQnfields(st->res) && !PQgetisnull(st->res, st->row, col);
}

static int64_t pg_column_int64(struct db_stmt *base, int col)
{
	struct pg_stmt *st = PS(base);
	const char *v;

	if (!readable(st, col))
		return 0;
	v = PQgetvalue(st->res, st->row, col);
	if (PQftype(st->res, col) == BOOL_OID)
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static const unsigned char *pg_column_text(struct db_stmt *base, int col)
{
	struct pg_stmt *st = PS(base);

	return readable(st, col) ? (const unsigned char *)PQgetvalue(st->res, st->row, col) : NULL;
}

/* Decodes a bytea column's text form (\x...) once per row and column. */
static const unsigned char *decode_blob(struct pg_stmt *st, int col)
{
	if (st->blob_row == st->row && st->blob_col == col)
		return st->blob;
	PQfreemem(st->blob);
	st->blob = PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, col),
				   &st->blob_len);
	st->blob_row = st->blob ? st->row : -1;
	st->blob_col = col;
	return st->blob;
}

static const void *pg_column_blob(struct db_stmt *base, int col)
{
	struct pg_stmt *st = PS(base);

	if (!readable(st, col))
		return NULL;
	if (PQftype(st->res, col) != BYTEA_OID)
		return PQgetvalue(st->res, st->row, col);
	return decode_blob(st, col);
}

static int pg_column_bytes(struct db_stmt *base, int col)
{
	struct pg_stmt *st = PS(base);

	if (!readable(st, col))
		return 0;
	if (PQftype(st->res, col) != BYTEA_OID)
		return PQgetlength(st->res, st->row, col);
	return decode_blob(st, col) ? (int)st->blob_len : 0;
}

static int pg_column_count(struct db_stmt *base)
{
	struct pg_stmt *st = PS(base);

	return st->res ? PQnfields(st->res) : 0;
}

static int pg_column_type(struct db_stmt *base, int col)
{
	struct pg_stmt *st = PS(base);

	if (!readable(st, col))
		return DB_TYPE_NULL;
	switch (PQftype(st->res, col)) {
	case INT8_OID:
	case INT4_OID:
	case INT2_OID:
	case BOOL_OID: return DB_TYPE_INTEGER;
	case FLOAT4_OID:
	case FLOAT8_OID: return DB_TYPE_FLOAT;
	case BYTEA_OID: return DB_TYPE_BLOB;
	default: return DB_TYPE_TEXT;
	}
}

/* ---- the connection ---- */

static int64_t pg_changes(struct db *db)
{
	return P(db)->changes;
}

/* The value the session's last identity (or sequence) handed out: the row just inserted. */
static int64_t pg_last_insert_id(struct db *db)
{
	PGresult *res = PQexec(P(db)->c, "SELECT lastval()");
	int64_t id = 0;

	if (result_rc(P(db), res) == DB_OK && PQntuples(res) == 1)
		id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return id;
}

static int pg_begin(struct db *db, enum db_tx how)
{
	int rc;

	if (how == DB_TX_READ)
		return run(P(db), "BEGIN ISOLATION LEVEL REPEATABLE READ");
	if ((rc = run(P(db), "BEGIN")) != DB_OK)
		return rc;
	if ((rc = run(P(db), "SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")")) != DB_OK)
		run(P(db), "ROLLBACK");
	return rc;
}

static int pg_end(struct db *db, bool is_commit)
{
	PGresult *res = PQexec(P(db)->c, is_commit ? "COMMIT" : "ROLLBACK");
	int rc = result_rc(P(db), res);

	/* The COMMIT of a transaction a statement failed in is a rollback: say it failed. */
	if (rc == DB_OK && is_commit && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		set_err(P(db), "the transaction was rolled back after a failed statement");
		rc = DB_ERROR;
	}
	if (rc == DB_OK && is_commit)
		__atomic_fetch_add(&db->commits, 1, __ATOMIC_RELAXED);
	PQclear(res);
	return rc;
}

static bool pg_in_tx(struct db *db)
{
	return PQtransactionStatus(P(db)->c) != PQTRANS_IDLE;
}

/* The first column of the one row of a constant query, as an integer (0 for none or NULL). */
static int one_int(struct pg *p, const char *sql, int64_t *out)
{
	PGresult *res = PQexec(p->c, sql);
	int rc = result_rc(p, res);

	*out = 0;
	if (rc == DB_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rc;
}

/* 0 for a database without the table: trawl has not created its schema there yet. */
static int pg_user_version(struct db *db, int *version)
{
	int64_t has = 0, v = 0;
	int rc = one_int(P(db),
			 "SELECT count(*) FROM pg_catalog.pg_tables WHERE "
			 "schemaname = current_schema() AND tablename = 'schema_version'",
			 &has);

	if (rc == DB_OK && has)
		rc = one_int(P(db), "SELECT max(version) FROM schema_version", &v);
	*version = (int)v;
	return rc;
}

static void pg_set_waiting(struct db *db, bool is_waiting)
{
	/* lock_timeout 0 would wait for ever: 1 ms is "at once". */
	run(P(db), is_waiting ? "SET lock_timeout = '10s'" : "SET lock_timeout = '1ms'");
}

static int pg_check(struct db *db, char **problem)
{
	(void)problem;
	return run(P(db), "SELECT 1");
}

/*
 * SQLite's data_version: a number that moves when another connection commits. The server's
 * snapshot ("xmin:xmax:in-progress ids") moves whenever any transaction that wrote ends, here
 * or in another database of the cluster (a spurious move only costs a cache a re-read): xmax
 * passes every transaction completed, and one that was in progress at the last read leaves
 * the list when it commits. Its 64-bit FNV-1a hash is the number; one round trip, as SQLite's
 * PRAGMA was one step.
 */
static int pg_data_version(struct db *db, int64_t *out)
{
	PGresult *res = PQexec(P(db)->c, "SELECT pg_current_snapshot()::text");
	int rc = result_rc(P(db), res);
	uint64_t h = 14695981039346656037ULL;

	if (rc == DB_OK && PQntuples(res) == 1) {
		for (const unsigned char *c = (const unsigned char *)PQgetvalue(res, 0, 0); *c; c++)
			h = (h ^ *c) * 1099511628211ULL;
		*out = (int64_t)(h >> 1);
	} else if (rc == DB_OK) {
		rc = DB_CORRUPT;
	}
	PQclear(res);
	return rc;
}

/* As SQLite's synchronous NORMAL: a crash may lose the last commits, never consistency. */
static int pg_relax_durability(struct db *db)
{
	return run(P(db), "SET synchronous_commit = off");
}

static const char *pg_errmsg(const struct db *db)
{
	return P(db)->err ? P(db)->err : "unknown error";
}

static void pg_close(struct db *db)
{
	if (P(db)->c)
		PQfinish(P(db)->c);
	free(P(db)->err);
	free(db);
}

static const struct db_ops pg_ops = {
	.close = pg_close,
	.errmsg = pg_errmsg,
	.prepare = pg_prepare,
	.exec_script = pg_exec_script,
	.finalize = pg_finalize,
	.reset = pg_reset,
	.param_count = pg_param_count,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.clear_bindings = pg_clear_bindings,
	.step = pg_step,
	.column_int64 = pg_column_int64,
	.column_text = pg_column_text,
	.column_blob = pg_column_blob,
	.column_bytes = pg_column_bytes,
	.column_count = pg_column_count,
	.column_type = pg_column_type,
	.changes = pg_changes,
	.last_insert_id = pg_last_insert_id,
	.begin = pg_begin,
	.end = pg_end,
	.in_tx = pg_in_tx,
	.user_version = pg_user_version,
	.set_waiting = pg_set_waiting,
	.check = pg_check,
	.data_version = pg_data_version,
	.relax_durability = pg_relax_durability,
};

int db_pg_set_password(const char *pw)
{
	char *copy = pw ? strdup(pw) : NULL;

	if (pw && !copy)
		return DB_NOMEM;
	pthread_mutex_lock(&password_lock);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	password = copy;
	pthread_mutex_unlock(&password_lock);
	return DB_OK;
}

/*
 * Reads the password file (its first line; a trailing newline is not part of it) into
 * password, unless one is set already. The message never holds the file's contents.
 */
static int read_password_file(struct pg *p)
{
	const char *path = getenv("TRAWL_DATABASE_PASSWORD_FILE");
	char buf[1024], msg[512];
	struct stat st;
	ssize_t n;
	int fd, rc = DB_OK;

	if (!path || !*path || password)
		return DB_OK;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0 && fstat(fd, &st) == 0 &&
	    (!S_ISREG(st.st_mode) || !file_is_private(&st))) {
		/* SECURITY: as every secret file (the cluster secret, TLS keys): unread. */
		snprintf(msg, sizeof(msg),
			 "the database password file %s: %s (mode %03o, owner uid %u): "
			 FILE_PRIVATE_HINT,
			 path, S_ISREG(st.st_mode) ? "accessible to group or others"
						   : "not a regular file",
			 (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid);
		set_err(p, msg);
		close(fd);
		return DB_PERM;
	}
	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) < 0) {
		snprintf(msg, sizeof(msg), "reading the database password file %s: %s", path,
			 strerror(errno));
		set_err(p, msg);
		if (fd >= 0)
			close(fd);
		return DB_CANTOPEN;
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!(password = strdup(buf)))
		rc = DB_NOMEM;
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* Says where the connection failed: the server (host:port, or socket directory) and libpq's why. */
static int connect_failed(struct pg *p)
{
	const char *host = PQhost(p->c), *port = PQport(p->c);
	const char *why = PQerrorMessage(p->c);
	char msg[1024];
	bool is_auth = strstr(why, "authentication failed") || strstr(why, "password") ||
		       strstr(why, "no pg_hba.conf entry");

	snprintf(msg, sizeof(msg), "connecting to PostgreSQL at %s%s%s: %s",
		 host && *host ? host : "(default socket)", port && *port ? ":" : "",
		 port && *port ? port : "", why);
	set_err(p, msg);
	return is_auth ? DB_AUTH : DB_CANTOPEN;
}

int db_pg_open(struct db **out, const char *url)
{
	const char *keys[] = { "connect_timeout", "application_name", "dbname", "password", NULL };
	const char *vals[] = { "10", "trawl", url, NULL, NULL };
	struct pg *p = calloc(1, sizeof(*p));
	char *pw;
	int rc;

	*out = NULL;
	if (!p)
		return DB_NOMEM;
	p->base.ops = &pg_ops;
	p->base.kind = DB_POSTGRES;
	*out = &p->base;
	pthread_once(&pq_once, pq_load);
	if (pq_error) {
		set_err(p, pq_error);
		return DB_CANTOPEN;
	}
	pthread_mutex_lock(&password_lock);
	rc = read_password_file(p);
	pw = rc == DB_OK && password ? strdup(password) : NULL;
	if (rc == DB_OK && password && !pw)
		rc = DB_NOMEM;
	pthread_mutex_unlock(&password_lock);
	if (rc != DB_OK)
		return rc;
	if (!(vals[3] = pw))
		keys[3] = NULL;
	p->c = PQconnectdbParams(keys, vals, 1);
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	if (!p->c) {
		set_err(p, "out of memory");
		return DB_NOMEM;
	}
	if (PQstatus(p->c) != CONNECTION_OK)
		return connect_failed(p);
	/* Quiet NOTICEs (CREATE ... IF NOT EXISTS), UTC and a lock timeout as SQLite's. */
	return run(p, "SET client_min_messages = warning; SET lock_timeout = '10s'; "
		      "SET client_encoding = 'UTF8'");
}
