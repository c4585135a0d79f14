/*
 * The metadata store; see store.h. Its SQL is SQLite's dialect, run on SQLite or PostgreSQL
 * through the database layer (db.h; docs/internals/store.md).
 *
 * DESIGN: SQLite's migrations are an ordered array of constant SQL scripts. Step i (0-based)
 * takes the schema from version i to i + 1 and ends by setting PRAGMA user_version to i + 1,
 * so the version and the tables change in the same transaction. A script holds several
 * statements; each is prepared and stepped in turn (sqlite3_exec is never used: see the lint
 * in tests/e2e/test_lint.sh). A step is never edited once released: changes are new steps.
 * PostgreSQL starts at schema 12 (schema_pg.c); a new step is added for both.
 */
#include "store/store.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/array.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"
#include "util/repourl.h"

/* What a repository whose URL migration 2 changed says in last_error (an SQL literal). */
#define REDACTED_MSG                                                                          \
	"'its URL held user information, a query string or a fragment, which may be a secret: "   \
	"trawl removed them; if the server needs credentials, put them in DATA/credentials "      \
	"(docs/operations.md, \"Credentials\"); the next sync tries again'"
#define RETIRED_MSG                                                                           \
	"'its URL held a query string or a fragment, which may be a secret, and its name came "   \
	"from them: trawl removed them from the URL and renamed the repository (the next sync "   \
	"drops the old name from the index); if the server needs credentials, put them in "       \
	"DATA/credentials (docs/operations.md, \"Credentials\")'"

/* The statement the acl_generation triggers run (migration 4). */
#define BUMP "UPDATE acl_generation SET value = value + 1 WHERE id = 1;"

/*
 * What the triggers of migration 6 run after BUMP: LOG_ROW, the row's "kind, a, b, repo" (SQL
 * expressions; the kinds are store_acl_refresh's, in accounts.c), then LOG_END, which prunes the
 * rows older than the last 4,096 generations.
 */
#define LOG_ROW "INSERT INTO acl_changes (generation, kind, a, b, repo) SELECT value, "
#define LOG_END \
	" FROM acl_generation WHERE id = 1;" \
	"DELETE FROM acl_changes" \
	"  WHERE generation <= (SELECT value FROM acl_generation WHERE id = 1) - 4096;"

static const char *const migrations[] = {
	/* 1: the repository registry. AUTOINCREMENT: an id is never reused after a removal, so a
	 * mirror left behind by a failed delete can never be taken for another repository's. */
	"CREATE TABLE repos ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL UNIQUE,"
	"  url TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  last_sync INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  state TEXT NOT NULL DEFAULT 'new'"
	"    CHECK (state IN ('new', 'syncing', 'indexed', 'error')),"
	"  index_bytes INTEGER NOT NULL DEFAULT 0,"
	"  files INTEGER NOT NULL DEFAULT 0,"
	"  skipped_count INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE repo_branches ("
	"  repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
	"  pattern TEXT NOT NULL,"
	"  PRIMARY KEY (repo_id, pattern)"
	");"
	"CREATE TABLE indexed_branches ("
	"  repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
	"  branch TEXT NOT NULL,"
	"  commit_id TEXT NOT NULL,"
	"  is_default INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (repo_id, branch)"
	");"
	"PRAGMA user_version = 1;",
	/*
	 * 2: no secrets in URLs. trawl up to schema 1 stored URLs with user information (a token
	 * as user name, an encoded password), a query or a fragment, and named a repository after
	 * the last part of the whole URL, so "x.git?access_token=..." could be a name. URLs lose
	 * those parts (trawl_url_redacted) and the repository is marked in error saying so; a
	 * name made from them is changed to the path's (or "NAME-ID", or "repo-ID" when taken),
	 * and the old name is kept in retired_names until sync drops its shards from the index.
	 */
	"CREATE TABLE retired_names (name TEXT PRIMARY KEY);"
	"INSERT OR IGNORE INTO retired_names (name) "
	"  SELECT name FROM repos WHERE trawl_name_from_query(name, url);"
	"UPDATE repos SET url = trawl_url_redacted(url), state = 'error', last_error = CASE"
	"  WHEN name IN (SELECT name FROM retired_names) THEN " RETIRED_MSG "  ELSE " REDACTED_MSG
	" END "
	"  WHERE trawl_url_redacted(url) IS NOT url;"
	"UPDATE OR IGNORE repos SET name = trawl_url_name(url)"
	"  WHERE name IN (SELECT name FROM retired_names);"
	"UPDATE OR IGNORE repos SET name = trawl_url_name(url) || '-' || id"
	"  WHERE name IN (SELECT name FROM retired_names);"
	"UPDATE repos SET name = 'repo-' || id WHERE name IN (SELECT name FROM retired_names);"
	"PRAGMA user_version = 2;",
	/*
	 * 3: the URL policy belongs to the repository. Until now each sync took it from its own
	 * flags and environment, so the server's scheduled sync refused what `repo add` had
	 * allowed. A URL registered before can only have been added with what its scheme needs
	 * (http: --allow-insecure; file: or a path: --allow-local), so those are set from it;
	 * whether a host needed --allow-private cannot be told without resolving it.
	 */
	"ALTER TABLE repos ADD COLUMN allow_insecure INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE repos ADD COLUMN allow_local INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE repos ADD COLUMN allow_private INTEGER NOT NULL DEFAULT 0;"
	"UPDATE repos SET allow_insecure = 1 WHERE lower(substr(url, 1, 7)) = 'http://';"
	"UPDATE repos SET allow_local = 1"
	"  WHERE substr(url, 1, 1) = '/' OR lower(substr(url, 1, 5)) = 'file:';"
	"PRAGMA user_version = 3;",
	/*
	 * 4: accounts. Grants and public flags name repositories by name, as `trawl index` makes
	 * shards for repositories the registry does not know. Tokens and sessions are stored under
	 * their keyed hash only. acl_generation counts the changes that can change a readable set;
	 * triggers bump it in the transaction of the change, whoever makes it (another process
	 * too), so a cached set is dropped on the next lookup. last_seen_ms changes do not count.
	 */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL UNIQUE,"
	"  display_name TEXT NOT NULL DEFAULT '',"
	"  is_admin INTEGER NOT NULL DEFAULT 0,"
	"  is_disabled INTEGER NOT NULL DEFAULT 0,"
	"  password_hash TEXT,"
	"  created_ms INTEGER NOT NULL,"
	"  last_seen_ms INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE groups ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL UNIQUE"
	");"
	/* Names are unique without regard to case (ALICE is alice), but looked up exactly. */
	"CREATE UNIQUE INDEX users_name_nocase ON users (name COLLATE NOCASE);"
	"CREATE UNIQUE INDEX groups_name_nocase ON groups (name COLLATE NOCASE);"
	"CREATE TABLE group_members ("
	"  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (group_id, user_id)"
	");"
	"CREATE INDEX group_members_user ON group_members (user_id);"
	"CREATE TABLE repo_public (repo TEXT PRIMARY KEY);"
	"CREATE TABLE repo_grants ("
	"  repo TEXT NOT NULL,"
	"  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,"
	"  group_id INTEGER REFERENCES groups(id) ON DELETE CASCADE,"
	"  CHECK ((user_id IS NULL) <> (group_id IS NULL))"
	");"
	"CREATE UNIQUE INDEX repo_grants_user ON repo_grants (repo, user_id)"
	"  WHERE user_id IS NOT NULL;"
	"CREATE UNIQUE INDEX repo_grants_group ON repo_grants (repo, group_id)"
	"  WHERE group_id IS NOT NULL;"
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  label TEXT NOT NULL DEFAULT '',"
	"  hash BLOB NOT NULL UNIQUE,"
	"  prefix TEXT NOT NULL,"
	"  scope INTEGER NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  expires_ms INTEGER NOT NULL,"
	"  last_used_ms INTEGER NOT NULL DEFAULT 0,"
	"  revoked INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX tokens_user ON tokens (user_id);"
	"CREATE TABLE sessions ("
	"  key BLOB NOT NULL UNIQUE,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  csrf TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  last_seen_ms INTEGER NOT NULL"
	");"
	"CREATE INDEX sessions_user ON sessions (user_id);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  ts_ms INTEGER NOT NULL,"
	"  event TEXT NOT NULL,"
	"  actor TEXT NOT NULL DEFAULT '',"
	"  target TEXT NOT NULL DEFAULT '',"
	"  address TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT '{}'"
	");"
	"CREATE INDEX audit_ts ON audit (ts_ms);"
	"CREATE TABLE acl_generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);"
	"INSERT INTO acl_generation (id, value) VALUES (1, 1);"
	"CREATE TRIGGER users_ins AFTER INSERT ON users BEGIN " BUMP " END;"
	"CREATE TRIGGER users_upd AFTER UPDATE OF name, is_admin, is_disabled ON users BEGIN " BUMP
	"  END;"
	"CREATE TRIGGER users_del AFTER DELETE ON users BEGIN " BUMP " END;"
	"CREATE TRIGGER groups_ins AFTER INSERT ON groups BEGIN " BUMP " END;"
	"CREATE TRIGGER groups_del AFTER DELETE ON groups BEGIN " BUMP " END;"
	"CREATE TRIGGER members_ins AFTER INSERT ON group_members BEGIN " BUMP " END;"
	"CREATE TRIGGER members_del AFTER DELETE ON group_members BEGIN " BUMP " END;"
	"CREATE TRIGGER grants_ins AFTER INSERT ON repo_grants BEGIN " BUMP " END;"
	"CREATE TRIGGER grants_del AFTER DELETE ON repo_grants BEGIN " BUMP " END;"
	"CREATE TRIGGER public_ins AFTER INSERT ON repo_public BEGIN " BUMP " END;"
	"CREATE TRIGGER public_del AFTER DELETE ON repo_public BEGIN " BUMP " END;"
	"CREATE TRIGGER repos_ins AFTER INSERT ON repos BEGIN " BUMP " END;"
	"CREATE TRIGGER repos_upd AFTER UPDATE OF name ON repos BEGIN " BUMP " END;"
	"CREATE TRIGGER repos_del AFTER DELETE ON repos BEGIN " BUMP " END;"
	"PRAGMA user_version = 4;",
	/*
	 * 5: notices, what was done to a user's account (a password set, a token made by someone
	 * else, the disabled or administrator flag changed), kept for the user to read. Who did it
	 * and from where are copied in, as the audit trail does: a notice outlives a renamed actor.
	 */
	"CREATE TABLE notices ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  ts_ms INTEGER NOT NULL,"
	"  event TEXT NOT NULL,"
	"  is_self INTEGER NOT NULL DEFAULT 0,"
	"  actor TEXT NOT NULL DEFAULT '',"
	"  address TEXT NOT NULL DEFAULT '',"
	"  token TEXT NOT NULL DEFAULT '',"
	"  read_ms INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX notices_user ON notices (user_id, id);"
	"CREATE INDEX notices_ts ON notices (ts_ms);"
	"PRAGMA user_version = 5;",
	/*
	 * 6: the ACL change log. Every bump of acl_generation also writes one row naming the key
	 * it touched (a user, a membership, a grant, a public flag; kind 0 for changes no readable
	 * set depends on), under the generation it made, so a process holding the ACL in memory
	 * re-reads those keys instead of every row. Only the last 4,096 rows are kept: a
	 * reader further behind loads everything again.
	 */
	"CREATE TABLE acl_changes ("
	"  generation INTEGER PRIMARY KEY,"
	"  kind INTEGER NOT NULL,"
	"  a INTEGER NOT NULL DEFAULT 0,"
	"  b INTEGER NOT NULL DEFAULT 0,"
	"  repo TEXT"
	");"
	/* The in-memory copy keeps each principal's grants sorted by name: read them in order. */
	"CREATE INDEX repo_grants_by_user ON repo_grants (user_id, repo) WHERE user_id IS NOT NULL;"
	"CREATE INDEX repo_grants_by_group ON repo_grants (group_id, repo)"
	"  WHERE group_id IS NOT NULL;"
	"DROP TRIGGER users_ins;"
	"DROP TRIGGER users_upd;"
	"DROP TRIGGER users_del;"
	"DROP TRIGGER groups_ins;"
	"DROP TRIGGER groups_del;"
	"DROP TRIGGER members_ins;"
	"DROP TRIGGER members_del;"
	"DROP TRIGGER grants_ins;"
	"DROP TRIGGER grants_del;"
	"DROP TRIGGER public_ins;"
	"DROP TRIGGER public_del;"
	"DROP TRIGGER repos_ins;"
	"DROP TRIGGER repos_upd;"
	"DROP TRIGGER repos_del;"
	"CREATE TRIGGER users_ins AFTER INSERT ON users BEGIN " BUMP LOG_ROW
	"1, NEW.id, 0, NULL" LOG_END " END;"
	"CREATE TRIGGER users_upd AFTER UPDATE OF name, is_admin, is_disabled ON users BEGIN " BUMP
		LOG_ROW "1, NEW.id, 0, NULL" LOG_END " END;"
	"CREATE TRIGGER users_del AFTER DELETE ON users BEGIN " BUMP LOG_ROW
	"1, OLD.id, 0, NULL" LOG_END " END;"
	"CREATE TRIGGER groups_ins AFTER INSERT ON groups BEGIN " BUMP LOG_ROW "0, 0, 0, NULL" LOG_END
	" END;"
	"CREATE TRIGGER groups_del AFTER DELETE ON groups BEGIN " BUMP LOG_ROW "0, 0, 0, NULL" LOG_END
	" END;"
	"CREATE TRIGGER members_ins AFTER INSERT ON group_members BEGIN " BUMP LOG_ROW
	"2, NEW.user_id, NEW.group_id, NULL" LOG_END " END;"
	"CREATE TRIGGER members_del AFTER DELETE ON group_members BEGIN " BUMP LOG_ROW
	"2, OLD.user_id, OLD.group_id, NULL" LOG_END " END;"
	"CREATE TRIGGER grants_ins AFTER INSERT ON repo_grants BEGIN " BUMP LOG_ROW
	"3, coalesce(NEW.user_id, 0), coalesce(NEW.group_id, 0), NEW.repo" LOG_END " END;"
	"CREATE TRIGGER grants_del AFTER DELETE ON repo_grants BEGIN " BUMP LOG_ROW
	"3, coalesce(OLD.user_id, 0), coalesce(OLD.group_id, 0), OLD.repo" LOG_END " END;"
	"CREATE TRIGGER public_ins AFTER INSERT ON repo_public BEGIN " BUMP LOG_ROW
	"4, 0, 0, NEW.repo" LOG_END " END;"
	"CREATE TRIGGER public_del AFTER DELETE ON repo_public BEGIN " BUMP LOG_ROW
	"4, 0, 0, OLD.repo" LOG_END " END;"
	"CREATE TRIGGER repos_ins AFTER INSERT ON repos BEGIN " BUMP LOG_ROW "0, 0, 0, NULL" LOG_END
	" END;"
	"CREATE TRIGGER repos_upd AFTER UPDATE OF name ON repos BEGIN " BUMP LOG_ROW
	"0, 0, 0, NULL" LOG_END " END;"
	"CREATE TRIGGER repos_del AFTER DELETE ON repos BEGIN " BUMP LOG_ROW "0, 0, 0, NULL" LOG_END
	" END;"
	"PRAGMA user_version = 6;",
	/*
	 * 7: the audit table's bounds on size. A partial index finds the oldest refused requests
	 * without a scan (they go first when the table is over its row cap, and sooner than other
	 * events), and a one-row count kept by triggers tells the hourly prune the table's size
	 * without counting it.
	 */
	"CREATE INDEX audit_refusals_ts ON audit (ts_ms) WHERE " STORE_AUDIT_REFUSALS ";"
	"CREATE TABLE audit_rows (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);"
	"INSERT INTO audit_rows (id, n) SELECT 1, count(*) FROM audit;"
	"CREATE TRIGGER audit_rows_ins AFTER INSERT ON audit BEGIN"
	"  UPDATE audit_rows SET n = n + 1 WHERE id = 1; END;"
	"CREATE TRIGGER audit_rows_del AFTER DELETE ON audit BEGIN"
	"  UPDATE audit_rows SET n = n - 1 WHERE id = 1; END;"
	"PRAGMA user_version = 7;",
	/*
	 * 8: external identities. A user's source says who vouches for it: a password ('local',
	 * every account before), an OpenID Connect provider ('oidc': the link is the ID token's
	 * issuer and subject, unique together; a name claim may change) or an authentication
	 * proxy ('proxy'). A membership's and a group's source say whether an administrator
	 * ('local') or a provider's group sync ('sync') made it: a sync replaces only its own.
	 * No trigger changes: a sync inserts and deletes memberships, which the triggers of
	 * migration 6 already log.
	 */
	"ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local'"
	"  CHECK (source IN ('local', 'oidc', 'proxy'));"
	"ALTER TABLE users ADD COLUMN issuer TEXT;"
	"ALTER TABLE users ADD COLUMN subject TEXT;"
	"CREATE UNIQUE INDEX users_link ON users (issuer, subject) WHERE issuer IS NOT NULL;"
	"ALTER TABLE groups ADD COLUMN source TEXT NOT NULL DEFAULT 'local'"
	"  CHECK (source IN ('local', 'sync'));"
	"ALTER TABLE group_members ADD COLUMN source TEXT NOT NULL DEFAULT 'local'"
	"  CHECK (source IN ('local', 'sync'));"
	"PRAGMA user_version = 8;",
	/*
	 * 9: retries with backoff. A failed sync counts the failures in a row and when the next
	 * attempt is due (store_repo_set_failed: 1 minute doubling up to an hour); a plain
	 * `trawl sync` skips a repository until then, a successful sync clears both.
	 */
	"ALTER TABLE repos ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE repos ADD COLUMN next_attempt INTEGER NOT NULL DEFAULT 0;"
	"PRAGMA user_version = 9;",
	/*
	 * 10: whether a repository's index has symbols: -1 the default (on when universal-ctags is
	 * installed, docs/operations.md), 0 off, 1 on (trawl repo add|set --symbols|--no-symbols).
	 */
	"ALTER TABLE repos ADD COLUMN symbols INTEGER NOT NULL DEFAULT -1 "
	"  CHECK (symbols IN (-1, 0, 1));"
	"PRAGMA user_version = 10;",
	/*
	 * 11: when each repository last changed (a sync that moved a branch or indexed it the first
	 * time), for the schedule by recency of change (store/due.h). A repository synced before
	 * counts as changed at its last sync.
	 */
	"ALTER TABLE repos ADD COLUMN last_changed INTEGER NOT NULL DEFAULT 0;"
	"UPDATE repos SET last_changed = last_sync;"
	"PRAGMA user_version = 11;",
	/*
	 * 12: when each repository last synced successfully, apart from last_sync (the last
	 * attempt, which may have failed), so a failing repository still says how old its index
	 * is. A repository indexed now last succeeded at its last sync; of one in error the last
	 * success is not known (0). And sync_requested: when an administrator asked for a sync
	 * now (POST /api/v1/repos/{name}/sync), 0 for none: due at once until a sync starts.
	 */
	"ALTER TABLE repos ADD COLUMN last_success INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE repos ADD COLUMN sync_requested INTEGER NOT NULL DEFAULT 0;"
	"UPDATE repos SET last_success = last_sync WHERE state = 'indexed';"
	"PRAGMA user_version = 12;",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SCHEMA_VERSION,
	       "one migration step per schema version");

static const char *const state_names[] = { "new", "syncing", "indexed", "error" };

const char *store_state_name(enum store_state st)
{
	return (unsigned)st < 4 ? state_names[st] : "unknown";
}

static enum store_state state_parse(const char *s)
{
	for (unsigned i = 0; s && i < 4; i++)
		if (strcmp(s, state_names[i]) == 0)
			return (enum store_state)i;
	return STORE_STATE_ERROR;
}

/* What a damaged database's message suggests (docs/operations.md, "When the database is damaged"). */
#define RESTORE_HINT \
	"the database is damaged: restore it from a backup made with trawl backup " \
	"(docs/operations.md, \"Backups and restore\")"

/* Maps an SQLite failure to a TRAWL_E* code with a message naming the database and step. */
int store_db_error(struct store *s, int rc, const char *what)
{
	int code = rc & 0xff;
	const char *msg = db_errmsg(s->db);

	if (code == DB_BUSY || code == DB_LOCKED)
		s->is_busy = true;
	if (code == DB_CORRUPT || code == DB_NOTADB)
		error_set("%s: %s: %s; %s", s->path, what, msg, RESTORE_HINT);
	else
		error_set("%s: %s: %s", s->path, what, msg);
	switch (code) {
	case DB_NOMEM: return TRAWL_ENOMEM;
	case DB_CORRUPT:
	case DB_NOTADB: return TRAWL_ECORRUPT;
	case DB_TOOBIG: return TRAWL_ELIMIT;
	case DB_READONLY:
	case DB_PERM:
	case DB_AUTH: return TRAWL_EPERM;
	default: return TRAWL_EIO;
	}
}

/* SECURITY: V1: sql is always a string constant; values go through db_bind_*. */
int store_prep(struct db_stmt **st, struct store *s, const char *sql)
{
	int rc = db_prepare(s->db, sql, st);

	return rc == DB_OK ? 0 : store_db_error(s, rc, "preparing a statement");
}

/* Steps a statement that returns no rows (or whose rows are ignored) to its end. */
int store_run(struct store *s, struct db_stmt *st, const char *what)
{
	int rc;

	while ((rc = db_step(st)) == DB_ROW)
		;
	return rc == DB_DONE ? 0 : store_db_error(s, rc, what);
}

/* Runs one constant statement with no parameters. */
static int run_const(struct store *s, const char *sql, const char *what)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, sql)) == 0)
		err = store_run(s, st, what);
	db_finalize(st);
	return err;
}

/* Runs every statement of a constant script (a migration step). */
static int run_script(struct store *s, const char *script, const char *what)
{
	int rc = db_exec_script(s->db, script);

	return rc == DB_OK ? 0 : store_db_error(s, rc, what);
}

/* Undoes the open transaction, keeping the detail of the failure that caused it. */
static void rollback(struct store *s)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", error_last());
	if (db_in_tx(s->db))
		db_rollback(s->db);
	error_set("%s", msg);
}

static int read_version(struct store *s, int *version)
{
	int rc = db_user_version(s->db, version);

	return rc == DB_OK ? 0 : store_db_error(s, rc, "reading the schema version");
}

int store_schema_version(struct store *s, int *version)
{
	return read_version(s, version);
}

static int check_version(struct store *s, int version)
{
	if (version < 0 || version > STORE_SCHEMA_VERSION) {
		error_set("%s: schema version %d is newer than this trawl understands (%d): use a newer "
			  "trawl, or restore a backup", s->path, version, STORE_SCHEMA_VERSION);
		return TRAWL_EUNSUPPORTED;
	}
	return 0;
}

/*
 * The steps that take the schema from version `from` to STORE_SCHEMA_VERSION. SQLite runs each
 * numbered step; PostgreSQL, which trawl supports from schema 12, creates schema 12 at once
 * from nothing (schema_pg.c) and will run its own numbered steps after it.
 */
static int migrate_steps(struct store *s, int from)
{
	if (db_kind(s->db) == DB_POSTGRES) {
		if (from != 0) {
			error_set("%s: schema version %d: PostgreSQL schemas start at %d", s->path,
				  from, STORE_SCHEMA_VERSION);
			return TRAWL_EUNSUPPORTED;
		}
		return run_script(s, store_schema_pg, "creating the schema");
	}
	for (int i = from; i < STORE_SCHEMA_VERSION; i++) {
		char what[64];
		int err;

		snprintf(what, sizeof(what), "migrating the schema to version %d", i + 1);
		if ((err = run_script(s, migrations[i], what)) < 0)
			return err;
	}
	return 0;
}

/* Brings the schema up to date in one write transaction (another process may race us). */
static int migrate(struct store *s)
{
	int version, err;

	if ((err = read_version(s, &version)) < 0 || (err = check_version(s, version)) < 0)
		return err;
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	if ((err = store_tx_begin(s)) < 0)
		return err;
	/* Read again under the write lock: another trawl may have migrated meanwhile. */
	if ((err = read_version(s, &version)) == 0 && (err = check_version(s, version)) == 0 &&
	    version != STORE_SCHEMA_VERSION)
		err = migrate_steps(s, version);
	return store_tx_end(s, err);
}

void store_close(struct store *s)
{
	if (!s)
		return;
	db_finalize(s->generation);
	db_finalize(s->token_find);
	db_finalize(s->session_find);
	db_finalize(s->user_counts);
	db_close(s->db);
	free(s->path);
	free(s);
}

int store_stamp(struct store *s, struct store_stamp *out)
{
	int rc = db_data_version(s->db, &out->data_version);

	out->commits = db_commits(s->db);
	return rc == DB_OK ? 0 : store_db_error(s, rc, "reading the data version");
}

bool store_stamp_equal(const struct store_stamp *a, const struct store_stamp *b)
{
	return a->data_version == b->data_version && a->commits == b->commits;
}

void store_set_waiting(struct store *s, bool is_waiting)
{
	db_set_waiting(s->db, is_waiting);
	if (!is_waiting)
		s->is_busy = false;
}

bool store_was_busy(const struct store *s)
{
	return s->is_busy;
}

int store_check(struct store *s)
{
	char *problem = NULL;
	int rc = db_check(s->db, &problem);

	if (rc != DB_OK)
		return store_db_error(s, rc, "checking the database");
	if (problem) {
		/* SQLite's report spans lines ("*** in database main ***\nPage 3: ..."): one here. */
		for (char *c = problem; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = ' ';
		error_set("%s: checking the database: %.200s; %s", s->path, problem, RESTORE_HINT);
		free(problem);
		return TRAWL_ECORRUPT;
	}
	return 0;
}

/* A password's place in a libpq URI: [from, to) of the string. */
struct span {
	size_t from, to;
};
#define SPANS_MAX 16

/*
 * The passwords of a PostgreSQL URI, in order, as libpq reads one: the user info's (up to the
 * first '@' before any '/') and every password= of the query. SECURITY: a URI with more
 * than SPANS_MAX of them hides all from the last one found to its end.
 */
static size_t password_spans(const char *url, struct span v[SPANS_MAX])
{
	const char *start = strstr(url, "://") + 3, *end = start + strcspn(start, "/");
	const char *at = memchr(start, '@', (size_t)(end - start));
	const char *colon = at ? memchr(start, ':', (size_t)(at - start)) : NULL;
	const char *q = strchr(colon ? at : start, '?');
	size_t n = 0;

	if (colon)
		v[n++] = (struct span){ (size_t)(colon + 1 - url), (size_t)(at - url) };
	while (q && *q) {
		size_t len = strcspn(q + 1, "&") + 1; /* one parameter, with its '?' or '&' */

		if (strncasecmp(q + 1, "password=", 9) == 0) {
			if (n == SPANS_MAX) {
				v[n - 1].to = strlen(url);
				break;
			}
			v[n++] = (struct span){ (size_t)(q + 10 - url), (size_t)(q + len - url) };
		}
		q += len;
	}
	return n;
}

char *store_display_name(const char *name)
{
	struct span v[SPANS_MAX];
	size_t n, at = 0;
	struct buf b;
	bool oom = false;

	if (!db_is_postgres(name))
		return strdup(strncmp(name, "sqlite:", 7) == 0 ? name + 7 : name);
	n = password_spans(name, v);
	buf_init(&b, BUF_MAX_DEFAULT);
	for (size_t i = 0; i < n && !oom; i++) {
		oom = buf_put(&b, name + at, v[i].from - at) < 0 || buf_puts(&b, "***") < 0;
		at = v[i].to;
	}
	if (oom || buf_puts(&b, name + at) < 0 || buf_putc(&b, '\0') < 0) {
		buf_dispose(&b);
		return NULL;
	}
	return b.ptr;
}

void store_scrub_password(char *url)
{
	struct span v[SPANS_MAX];
	size_t n = db_is_postgres(url) ? password_spans(url, v) : 0;

	for (size_t i = 0; i < n; i++)
		memset(url + v[i].from, '*', v[i].to - v[i].from);
}

char *store_location(const char *data_dir)
{
	const char *env = getenv("TRAWL_DATABASE");
	size_t n;
	char *p;

	if (env && *env)
		return strdup(strncmp(env, "sqlite:", 7) == 0 ? env + 7 : env);
	n = strlen(data_dir) + sizeof("/trawl.db");
	if ((p = malloc(n)))
		snprintf(p, n, "%s/trawl.db", data_dir);
	return p;
}

bool store_is_server(const char *location)
{
	return db_is_postgres(location);
}

int store_set_password(const char *password)
{
	return db_pg_set_password(password) == DB_OK ? 0 : error_nomem(NULL);
}

int store_open(struct store **out, const char *path)
{
	struct store *s = calloc(1, sizeof(*s));
	int rc, err;

	*out = NULL;
	if (!s || !(s->path = store_display_name(path))) {
		free(s);
		return error_nomem(NULL);
	}
	if ((rc = db_open(&s->db, path)) != DB_OK) {
		err = store_db_error(s, rc, "opening the database");
		goto fail;
	}
	if ((err = migrate(s)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return err;
}

int store_relax_durability(struct store *s)
{
	int rc = db_relax_durability(s->db);

	return rc == DB_OK ? 0 : store_db_error(s, rc, "relaxing durability");
}

char *store_dup_col(struct db_stmt *st, int col, bool *nomem)
{
	const unsigned char *t = db_column_text(st, col);
	char *d;

	if (!t)
		return NULL;
	if (!(d = strdup((const char *)t)))
		*nomem = true;
	return d;
}

int store_rows_read(void **out, size_t *n, struct store *s, struct db_stmt *st,
		    const struct store_rows *how)
{
	char *v = NULL;
	size_t cap = 0, len = 0;
	int err = 0, rc;

	*out = NULL;
	*n = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if ((err = array_grow((void **)&v, &cap, len + 1, how->elem_size)) < 0)
			goto fail;
		/* Counted before it is read, so a failed read's leftovers are freed too. */
		memset(v + len * how->elem_size, 0, how->elem_size);
		if ((err = how->read(v + len++ * how->elem_size, s, st)) < 0)
			goto fail;
	}
	if (rc != DB_DONE) {
		err = store_db_error(s, rc, how->what);
		goto fail;
	}
	*out = v;
	*n = len;
	return 0;
fail:
	how->free(v, len);
	return err;
}

int store_names_read(char ***out, size_t *n, struct store *s, struct db_stmt *st, const char *what)
{
	char **v = NULL;
	size_t cap = 0, len = 0;
	int err = 0, rc;

	while ((rc = db_step(st)) == DB_ROW) {
		bool oom = false;

		if ((err = ARRAY_GROW(&v, &cap, len + 2)) < 0)
			goto fail;
		v[len] = store_dup_col(st, 0, &oom);
		if (oom || !v[len]) {
			err = error_nomem(what);
			goto fail;
		}
		v[++len] = NULL;
	}
	if (rc != DB_DONE) {
		err = store_db_error(s, rc, what);
		goto fail;
	}
	if (!v && (err = ARRAY_GROW(&v, &cap, 1)) < 0)
		goto fail;
	v[len] = NULL;
	*out = v;
	*n = len;
	return 0;
fail:
	store_names_free(v, len);
	return err;
}

int store_bind_text(struct store *s, struct db_stmt *st, int i, const char *v)
{
	int rc = db_bind_text(st, i, v);

	return rc == DB_OK ? 0 : store_db_error(s, rc, "binding a value");
}

int store_bind_i64(struct store *s, struct db_stmt *st, int i, int64_t v)
{
	int rc = db_bind_int64(st, i, v);

	return rc == DB_OK ? 0 : store_db_error(s, rc, "binding a value");
}

static int64_t clamp_u64(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Begins/ends a write transaction; rollback keeps the error detail already set. */
int store_tx_begin(struct store *s)
{
	int rc = db_begin(s->db, DB_TX_WRITE);

	return rc == DB_OK ? 0 : store_db_error(s, rc, "starting a transaction");
}

int store_tx_begin_read(struct store *s)
{
	int rc = db_begin(s->db, DB_TX_READ);

	return rc == DB_OK ? 0 : store_db_error(s, rc, "starting a transaction");
}

int store_tx_end(struct store *s, int err)
{
	int rc;

	if (err == 0) {
		if ((rc = db_commit(s->db)) == DB_OK)
			return 0;
		err = store_db_error(s, rc, "committing");
	}
	rollback(s);
	return err;
}

static int add_patterns(struct store *s, int64_t id, char *const *patterns, size_t n)
{
	struct db_stmt *st = NULL;
	int err, rc;

	if ((err = prep(&st, s, "INSERT INTO repo_branches (repo_id, pattern) VALUES (?1, ?2)")) < 0)
		return err;
	for (size_t i = 0; i < n && err == 0; i++) {
		db_reset(st);
		if ((err = store_bind_i64(s, st, 1, id)) < 0 ||
		    (err = store_bind_text(s, st, 2, patterns[i])) < 0)
			break;
		rc = db_step(st);
		if (rc == DB_CONSTRAINT_PRIMARYKEY) {
			error_set("branch pattern \"%s\" given twice", patterns[i]);
			err = TRAWL_EINVAL;
		} else if (rc != DB_DONE) {
			err = store_db_error(s, rc, "adding a branch pattern");
		}
	}
	db_finalize(st);
	return err;
}

int store_repo_add(int64_t *id, struct store *s, const char *name, const char *url,
		   const struct store_policy *policy, char *const *patterns, size_t n)
{
	static const struct store_policy none = { 0 };
	struct db_stmt *st = NULL;
	int err, rc;

	*id = 0;
	if (strlen(url) > STORE_URL_MAX) {
		error_set("repository URL longer than %d bytes", STORE_URL_MAX);
		return TRAWL_ELIMIT;
	}
	if ((err = store_tx_begin(s)) < 0)
		return err;
	if (!policy)
		policy = &none;
	if ((err = prep(&st, s, "INSERT INTO repos (name, url, created, allow_insecure, "
				"allow_local, allow_private) VALUES (?1, ?2, "
				"CAST(strftime('%s', 'now') AS INTEGER), ?3, ?4, ?5)")) < 0 ||
	    (err = store_bind_text(s, st, 1, name)) < 0 ||
	    (err = store_bind_text(s, st, 2, url)) < 0 ||
	    (err = store_bind_i64(s, st, 3, policy->allow_insecure)) < 0 ||
	    (err = store_bind_i64(s, st, 4, policy->allow_local)) < 0 ||
	    (err = store_bind_i64(s, st, 5, policy->allow_private)) < 0)
		goto out;
	rc = db_step(st);
	if (rc == DB_CONSTRAINT_UNIQUE) {
		error_set("a repository named \"%s\" already exists", name);
		err = TRAWL_EINVAL;
		goto out;
	}
	if (rc != DB_DONE) {
		err = store_db_error(s, rc, "adding a repository");
		goto out;
	}
	*id = db_last_insert_id(s->db);
	err = add_patterns(s, *id, patterns, n);
out:
	db_finalize(st);
	err = store_tx_end(s, err);
	if (err < 0)
		*id = 0;
	return err;
}

void store_repo_dispose(struct store_repo *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->url);
	free(r->last_error);
	for (size_t i = 0; i < r->n_patterns; i++)
		free(r->patterns[i]);
	free(r->patterns);
	for (size_t i = 0; i < r->n_branches; i++)
		free(r->branches[i].name);
	free(r->branches);
	memset(r, 0, sizeof(*r));
}

void store_repos_free(struct store_repo *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		store_repo_dispose(&v[i]);
	free(v);
}

#define REPO_COLUMNS \
	"id, name, url, created, last_sync, last_error, state, index_bytes, files, skipped_count, " \
	"allow_insecure, allow_local, allow_private, failures, next_attempt, symbols, last_changed, " \
	"last_success, sync_requested"

static int row_repo(struct store_repo *r, struct db_stmt *st)
{
	bool oom = false;
	char *state;

	memset(r, 0, sizeof(*r));
	r->id = db_column_int64(st, 0);
	r->name = store_dup_col(st, 1, &oom);
	r->url = store_dup_col(st, 2, &oom);
	r->created = db_column_int64(st, 3);
	r->last_sync = db_column_int64(st, 4);
	r->last_error = store_dup_col(st, 5, &oom);
	state = store_dup_col(st, 6, &oom);
	r->state = state_parse(state);
	free(state);
	r->index_bytes = (uint64_t)db_column_int64(st, 7);
	r->files = (uint64_t)db_column_int64(st, 8);
	r->skipped_count = (uint64_t)db_column_int64(st, 9);
	r->policy = (struct store_policy){
		.allow_insecure = db_column_int(st, 10) != 0,
		.allow_local = db_column_int(st, 11) != 0,
		.allow_private = db_column_int(st, 12) != 0,
	};
	r->failures = (unsigned)db_column_int(st, 13);
	r->next_attempt = db_column_int64(st, 14);
	r->symbols = db_column_int(st, 15);
	r->last_changed = db_column_int64(st, 16);
	r->last_success = db_column_int64(st, 17);
	r->sync_requested = db_column_int64(st, 18);
	if (r->symbols != STORE_SYMBOLS_ON && r->symbols != STORE_SYMBOLS_OFF)
		r->symbols = STORE_SYMBOLS_DEFAULT;
	if (oom || !r->name || !r->url) {
		store_repo_dispose(r);
		return error_nomem(NULL);
	}
	return 0;
}

static int load_patterns(struct store *s, struct store_repo *r)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "SELECT pattern FROM repo_branches WHERE repo_id = ?1 "
				"ORDER BY rowid")) == 0 &&
	    (err = store_bind_i64(s, st, 1, r->id)) == 0)
		err = store_names_read(&r->patterns, &r->n_patterns, s, st,
				       "reading branch patterns");
	db_finalize(st);
	return err;
}

/* Appends the branch of st's row (branch, commit_id, is_default from column col) to r. */
static int add_branch(struct store_repo *r, size_t *cap, struct db_stmt *st, int col)
{
	const unsigned char *c = db_column_text(st, col + 1);
	struct store_branch *b;
	bool oom = false;
	int err;

	if ((err = ARRAY_GROW(&r->branches, cap, r->n_branches + 1)) < 0)
		return err;
	b = &r->branches[r->n_branches];
	memset(b, 0, sizeof(*b));
	b->name = store_dup_col(st, col, &oom);
	if (oom || !b->name)
		return error_nomem(NULL);
	snprintf(b->commit, sizeof(b->commit), "%s", c ? (const char *)c : "");
	b->is_default = db_column_int(st, col + 2) != 0;
	r->n_branches++;
	return 0;
}

static int load_branches(struct store *s, struct store_repo *r)
{
	struct db_stmt *st = NULL;
	size_t cap = 0;
	int err, rc;

	if ((err = prep(&st, s, "SELECT branch, commit_id, is_default FROM indexed_branches "
				"WHERE repo_id = ?1 ORDER BY branch")) < 0 ||
	    (err = store_bind_i64(s, st, 1, r->id)) < 0)
		goto out;
	while ((rc = db_step(st)) == DB_ROW)
		if ((err = add_branch(r, &cap, st, 0)) < 0)
			goto out;
	if (rc != DB_DONE)
		err = store_db_error(s, rc, "reading indexed branches");
out:
	db_finalize(st);
	return err;
}

static int load_details(struct store *s, struct store_repo *r)
{
	int err;

	if ((err = load_patterns(s, r)) < 0 || (err = load_branches(s, r)) < 0)
		store_repo_dispose(r);
	return err;
}

int store_repo_get(struct store_repo *out, struct store *s, const char *name)
{
	struct db_stmt *st = NULL;
	int err, rc;

	memset(out, 0, sizeof(*out));
	if ((err = prep(&st, s, "SELECT " REPO_COLUMNS " FROM repos WHERE name = ?1")) < 0 ||
	    (err = store_bind_text(s, st, 1, name)) < 0)
		goto out;
	rc = db_step(st);
	if (rc == DB_DONE) {
		error_set("no repository named \"%s\" (see trawl repo list)", name);
		err = TRAWL_ENOTFOUND;
	} else if (rc != DB_ROW) {
		err = store_db_error(s, rc, "reading a repository");
	} else if ((err = row_repo(out, st)) == 0) {
		err = load_details(s, out);
	}
out:
	db_finalize(st);
	return err;
}

static int read_repo(void *elem, struct store *s, struct db_stmt *st)
{
	int err = row_repo(elem, st);

	return err < 0 ? err : load_details(s, elem);
}

static void free_repos(void *v, size_t n)
{
	store_repos_free(v, n);
}

/* Every repository, by name, each row read by rows->read. */
static int repo_list(struct store_repo **out, size_t *n, struct store *s,
		     const struct store_rows *rows)
{
	struct db_stmt *st = NULL;
	void *v = NULL;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = prep(&st, s, "SELECT " REPO_COLUMNS " FROM repos ORDER BY name")) == 0 &&
	    (err = store_rows_read(&v, n, s, st, rows)) == 0)
		*out = v;
	db_finalize(st);
	return err;
}

int store_repo_list(struct store_repo **out, size_t *n, struct store *s)
{
	static const struct store_rows rows = {
		.elem_size = sizeof(struct store_repo),
		.read = read_repo,
		.free = free_repos,
		.what = "listing repositories",
	};

	return repo_list(out, n, s, &rows);
}

static int read_repo_brief(void *elem, struct store *s, struct db_stmt *st)
{
	(void)s;
	return row_repo(elem, st);
}

int store_repo_list_brief(struct store_repo **out, size_t *n, struct store *s)
{
	static const struct store_rows rows = {
		.elem_size = sizeof(struct store_repo),
		.read = read_repo_brief,
		.free = free_repos,
		.what = "listing repositories",
	};

	return repo_list(out, n, s, &rows);
}

/*
 * The branches of v[0..n) (sorted by name) in one statement, ?1 the JSON array of the names:
 * its rows come by name too, so each goes to the repository the walk has reached. A
 * repository added between the two statements has rows no element matches: they are passed
 * over.
 */
static int named_branches(struct store_repo *v, size_t n, struct store *s, const char *json)
{
	struct db_stmt *st = NULL;
	size_t k = 0, cap = 0;
	int err, rc;

	if ((err = prep(&st, s, "SELECT r.name, b.branch, b.commit_id, b.is_default "
				"FROM indexed_branches b JOIN repos r ON r.id = b.repo_id "
				"WHERE r.name IN (SELECT value FROM json_each(?1)) "
				"ORDER BY r.name, b.branch")) < 0 ||
	    (err = store_bind_text(s, st, 1, json)) < 0)
		goto out;
	while ((rc = db_step(st)) == DB_ROW) {
		const char *name = (const char *)db_column_text(st, 0);
		int c = 1;

		while (name && k < n && (c = strcmp(v[k].name, name)) < 0) {
			k++;
			cap = 0;
		}
		if (name && k < n && c == 0 && (err = add_branch(&v[k], &cap, st, 1)) < 0)
			goto out;
	}
	if (rc != DB_DONE)
		err = store_db_error(s, rc, "reading indexed branches");
out:
	db_finalize(st);
	return err;
}

/* names[0..n) as a JSON array of strings, in b (NUL-terminated). */
static int names_json(struct buf *b, const char *const *names, size_t n)
{
	int err = buf_putc(b, '[');

	for (size_t i = 0; i < n && !err; i++)
		if (!(i && (err = buf_putc(b, ',')) < 0))
			err = json_put_string(b, names[i], strlen(names[i]), NULL);
	if (!err)
		err = buf_puts(b, "]");
	return err < 0 ? err : buf_putc(b, 0);
}

int store_repo_named(struct store_repo **out, size_t *n, struct store *s,
		     const char *const *names, size_t n_names)
{
	static const struct store_rows rows = {
		.elem_size = sizeof(struct store_repo),
		.read = read_repo_brief,
		.free = free_repos,
		.what = "listing repositories",
	};
	struct db_stmt *st = NULL;
	struct buf json;
	void *v = NULL;
	size_t nv = 0;
	int err;

	*out = NULL;
	*n = 0;
	buf_init(&json, BUF_MAX_DEFAULT);
	if ((err = names_json(&json, names, n_names)) < 0 ||
	    (err = prep(&st, s, "SELECT " REPO_COLUMNS " FROM repos "
				"WHERE name IN (SELECT value FROM json_each(?1)) ORDER BY name")) < 0 ||
	    (err = store_bind_text(s, st, 1, json.ptr)) < 0 ||
	    (err = store_rows_read(&v, &nv, s, st, &rows)) < 0)
		goto out;
	if ((err = named_branches(v, nv, s, json.ptr)) < 0) {
		store_repos_free(v, nv);
		goto out;
	}
	*out = v;
	*n = nv;
out:
	db_finalize(st);
	buf_dispose(&json);
	return err;
}

int store_repo_names(char ***out, size_t *n, struct store *s)
{
	struct db_stmt *st = NULL;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = prep(&st, s, "SELECT name FROM repos ORDER BY name")) == 0)
		err = store_names_read(out, n, s, st, "listing repository names");
	db_finalize(st);
	return err;
}

/* Runs a one-row UPDATE/DELETE whose first parameter is the repository id: ENOTFOUND if none. */
static int change_one(struct store *s, struct db_stmt *st, int64_t id, const char *what)
{
	int err;

	if ((err = store_bind_i64(s, st, 1, id)) < 0 || (err = store_run(s, st, what)) < 0)
		return err;
	if (db_changes(s->db) == 0) {
		error_set("no repository with id %lld", (long long)id);
		return TRAWL_ENOTFOUND;
	}
	return 0;
}

int store_repo_remove(struct store *s, int64_t id)
{
	struct db_stmt *st = NULL;
	int err;

	/* The branch rows go with it (ON DELETE CASCADE). */
	if ((err = prep(&st, s, "DELETE FROM repos WHERE id = ?1")) == 0)
		err = change_one(s, st, id, "removing a repository");
	db_finalize(st);
	return err;
}

int store_repo_set_syncing(struct store *s, int64_t id)
{
	struct db_stmt *st = NULL;
	int err;

	/* The sync starting now is the one asked for: a request made during it waits for the next. */
	if ((err = prep(&st, s, "UPDATE repos SET state = 'syncing', sync_requested = 0 "
				"WHERE id = ?1")) == 0)
		err = change_one(s, st, id, "updating a repository");
	db_finalize(st);
	return err;
}

int store_repo_request_sync(struct store *s, int64_t id, int64_t when)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "UPDATE repos SET sync_requested = ?2 WHERE id = ?1")) == 0 &&
	    (err = store_bind_i64(s, st, 2, when > 0 ? when : 1)) == 0)
		err = change_one(s, st, id, "updating a repository");
	db_finalize(st);
	return err;
}

int store_repos_interrupted(struct store *s, size_t *n)
{
	int err;

	*n = 0;
	err = run_const(s, "UPDATE repos SET state = 'error', last_error = "
			   "'interrupted: the sync stopped before it finished (killed or crashed); "
			   "the previous index is kept' WHERE state = 'syncing'",
			"marking interrupted syncs");
	if (err == 0)
		*n = (size_t)db_changes(s->db);
	return err;
}

int store_repo_set_failed(struct store *s, int64_t id, int64_t when, const char *error)
{
	struct db_stmt *st = NULL;
	int err;

	/* The backoff doubles from a minute with each failure in a row, up to an hour. */
	if ((err = prep(&st, s, "UPDATE repos SET state = 'error', last_sync = ?2, "
				"last_error = ?3, failures = min(failures + 1, 1000000), "
				"next_attempt = ?2 + min(3600, 60 << min(failures, 6)) "
				"WHERE id = ?1")) == 0 &&
	    (err = store_bind_i64(s, st, 2, when)) == 0 &&
	    (err = store_bind_text(s, st, 3, error ? error : "unknown error")) == 0)
		err = change_one(s, st, id, "updating a repository");
	db_finalize(st);
	return err;
}

static int replace_branches(struct store *s, int64_t id, const struct store_branch *b, size_t n)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "DELETE FROM indexed_branches WHERE repo_id = ?1")) < 0 ||
	    (err = store_bind_i64(s, st, 1, id)) < 0 ||
	    (err = store_run(s, st, "clearing branches")) < 0)
		goto out;
	db_finalize(st);
	st = NULL;
	if ((err = prep(&st, s, "INSERT INTO indexed_branches (repo_id, branch, commit_id, "
				"is_default) VALUES (?1, ?2, ?3, ?4)")) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		db_reset(st);
		if ((err = store_bind_i64(s, st, 1, id)) < 0 ||
		    (err = store_bind_text(s, st, 2, b[i].name)) < 0 ||
		    (err = store_bind_text(s, st, 3, b[i].commit)) < 0 ||
		    (err = store_bind_i64(s, st, 4, b[i].is_default)) < 0 ||
		    (err = store_run(s, st, "recording a branch")) < 0)
			goto out;
	}
out:
	db_finalize(st);
	return err;
}

int store_repo_set_synced(struct store *s, int64_t id, int64_t when, uint64_t index_bytes,
			  uint64_t files, uint64_t skipped_count,
			  const struct store_branch *branches, size_t n, bool is_changed)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = store_tx_begin(s)) < 0)
		return err;
	if ((err = prep(&st, s, "UPDATE repos SET state = 'indexed', last_sync = ?2, "
				"last_success = ?2, last_error = NULL, index_bytes = ?3, files = ?4, "
				"skipped_count = ?5, failures = 0, next_attempt = 0, "
				"last_changed = CASE WHEN ?6 <> 0 THEN ?2 ELSE last_changed END "
				"WHERE id = ?1")) == 0 &&
	    (err = store_bind_i64(s, st, 2, when)) == 0 &&
	    (err = store_bind_i64(s, st, 6, is_changed)) == 0 &&
	    (err = store_bind_i64(s, st, 3, clamp_u64(index_bytes))) == 0 &&
	    (err = store_bind_i64(s, st, 4, clamp_u64(files))) == 0 &&
	    (err = store_bind_i64(s, st, 5, clamp_u64(skipped_count))) == 0 &&
	    (err = change_one(s, st, id, "updating a repository")) == 0)
		err = replace_branches(s, id, branches, n);
	db_finalize(st);
	return store_tx_end(s, err);
}

int store_repo_set_symbols(struct store *s, int64_t id, int symbols)
{
	struct db_stmt *st = NULL;
	int err;

	if (symbols != STORE_SYMBOLS_DEFAULT && symbols != STORE_SYMBOLS_ON &&
	    symbols != STORE_SYMBOLS_OFF) {
		error_set("symbols setting %d: expected -1, 0 or 1", symbols);
		return TRAWL_EINVAL;
	}
	if ((err = prep(&st, s, "UPDATE repos SET symbols = ?2 WHERE id = ?1")) == 0 &&
	    (err = store_bind_i64(s, st, 2, symbols)) == 0)
		err = change_one(s, st, id, "updating a repository");
	db_finalize(st);
	return err;
}

int store_retired_names(char ***out, size_t *n, struct store *s)
{
	struct db_stmt *st = NULL;
	int err;

	*out = NULL;
	*n = 0;
	/* A name a repository took again since is that repository's, not an old one's. */
	if ((err = prep(&st, s, "SELECT name FROM retired_names "
				"WHERE name NOT IN (SELECT name FROM repos) ORDER BY name")) == 0)
		err = store_names_read(out, n, s, st, "reading retired names");
	db_finalize(st);
	return err;
}

void store_names_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int store_retired_name_forget(struct store *s, const char *name)
{
	struct db_stmt *st = NULL;
	int err;

	if ((err = prep(&st, s, "DELETE FROM retired_names WHERE name = ?1")) == 0 &&
	    (err = store_bind_text(s, st, 1, name)) == 0)
		err = store_run(s, st, "forgetting a retired name");
	db_finalize(st);
	return err;
}
