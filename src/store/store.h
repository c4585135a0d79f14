/*
 * The metadata store: DATA/trawl.db, an SQLite database (or a PostgreSQL one: --database,
 * store_location; docs/internals/store.md) holding the repository registry
 * (repositories, the URL policy each was added under, the branch patterns to index, the commit
 * indexed per branch, sync state) and, from schema 4, the accounts (store/accounts.h), from
 * schema 5 the accounts' notices (store/notices.h), from schema 6 the ACL change log.
 *
 * The schema evolves through an ordered list of migration steps (store.c); the database's
 * PRAGMA user_version says how many have been applied. Opening applies the missing steps in one
 * transaction; a database newer than this binary is refused (EUNSUPPORTED) and left untouched.
 * The database runs in WAL mode with a busy timeout, so a `trawl sync` and a `trawl repo list`
 * can work at the same time.
 *
 * SECURITY: V1: every statement is a constant string prepared through the database layer
 * (store/db.h) and values are bound as parameters; nothing builds SQL from data
 * (tests/e2e/test_lint.sh checks).
 *
 * A struct store is not thread-safe: open one per thread.
 */
#ifndef TRAWL_STORE_STORE_H
#define TRAWL_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The schema version this binary writes: the number of migration steps it knows. */
#define STORE_SCHEMA_VERSION 12

/* The longest repository URL stored (and accepted). */
#define STORE_URL_MAX 4096

struct store;

enum store_state {
	STORE_STATE_NEW = 0, /* added, never synced */
	STORE_STATE_SYNCING, /* a sync is running (or died while running) */
	STORE_STATE_INDEXED, /* the last sync succeeded */
	STORE_STATE_ERROR,   /* the last sync failed: last_error says why */
};

/* "new", "syncing", "indexed", "error". */
const char *store_state_name(enum store_state s);

/*
 * What the URL policy (git/url.h) allowed when a repository was added: every sync checks its
 * URL under the same policy, whoever runs it (the server's scheduled sync included).
 */
struct store_policy {
	bool allow_insecure; /* http:// */
	bool allow_local;    /* file:// and local paths */
	bool allow_private;  /* hosts resolving to loopback, private, link-local, ... */
};

struct store_branch {
	char *name;     /* the branch name (data: may hold anything a ref name may) */
	char commit[65];  /* hex commit id indexed (SHA-1 or SHA-256) */
	bool is_default; /* HEAD's branch */
};

struct store_repo {
	int64_t id; /* never reused, even after a removal (the mirror is named by it) */
	char *name;
	char *url;
	int64_t created;   /* unix seconds */
	int64_t last_sync; /* unix seconds of the last finished sync attempt, 0 = never */
	char *last_error;  /* NULL when the last sync succeeded (or none ran) */
	enum store_state state;
	struct store_policy policy; /* the URL policy it was added under */
	uint64_t index_bytes, files, skipped_count;
	char **patterns; /* the --branch patterns as given, in order; NULL-terminated */
	size_t n_patterns;
	struct store_branch *branches; /* indexed branches, by name */
	size_t n_branches;
	unsigned failures;    /* failed syncs in a row (0 after a success) */
	int64_t next_attempt; /* unix seconds before which a plain sync skips it; 0 = any time */
	int symbols;          /* STORE_SYMBOLS_DEFAULT, _ON or _OFF */
	int64_t last_changed; /* unix seconds of the last sync that moved a branch, 0 = never */
	int64_t last_success; /* unix seconds of the last successful sync, 0 = never or unknown */
	int64_t sync_requested; /* unix seconds of an administrator's "sync now", 0 = none */
};

/* Whether a repository's index has symbols (schema 10). */
#define STORE_SYMBOLS_DEFAULT (-1) /* on when universal-ctags is installed */
#define STORE_SYMBOLS_OFF 0
#define STORE_SYMBOLS_ON 1

/*
 * Reads every page of the database (SQLite's PRAGMA quick_check: linear in its size, so for a
 * server's start, not every command). ECORRUPT with the first problem and the advice to restore
 * a backup; EIO.
 */
int store_check(struct store *s);

/*
 * Where the store of data directory data_dir lives: $TRAWL_DATABASE when set (the command
 * line's --database sets it: sqlite:PATH, or a PostgreSQL URL), else data_dir/trawl.db. A new
 * string for store_open (NULL when out of memory).
 */
char *store_location(const char *data_dir);
/*
 * What messages and logs call a location: an SQLite file's path, or a PostgreSQL URL with any
 * password replaced by *** (SECURITY: a password never reaches a log). A new string, NULL
 * when out of memory.
 */
char *store_display_name(const char *location);
/*
 * Overwrites in place with '*' every password of a PostgreSQL URL (nothing else changes):
 * what `--database` leaves in the command line, which /proc shows to every user.
 */
void store_scrub_password(char *url);
/* Whether a location is a database server (PostgreSQL) rather than an SQLite file. */
bool store_is_server(const char *location);

/*
 * The password PostgreSQL connections opened from now on give (--database-password-file),
 * NULL for the URL's own or none. A copy is kept; the previous one is wiped. ENOMEM.
 */
int store_set_password(const char *password);

/*
 * Opens (creating if missing) the database at path and brings its schema up to
 * STORE_SCHEMA_VERSION. path is an SQLite file (optionally written sqlite:PATH) or a
 * PostgreSQL URL (postgres://... or postgresql://..., libpq's URI form; docs/operations.md,
 * "Database: SQLite or PostgreSQL"). EUNSUPPORTED for a database written by a newer trawl,
 * ECORRUPT for a file that is not a database (or a broken one), EPERM when PostgreSQL refused
 * the credentials, EIO (a server that cannot be reached included), ENOMEM. The message names
 * path (a URL without its password).
 */
int store_open(struct store **out, const char *path);

/*
 * For this connection only, commits no longer wait for the disk (SQLite's synchronous = NORMAL
 * in WAL mode): a power loss may lose the last commits, never the database's consistency. For
 * trawl sync, whose two commits per repository each waited for an fsync (8 ms measured, most of
 * what sync itself spent on an unchanged repository), and whose records a lost commit leaves
 * at the previous sync's, which the next sync brings up to date. EIO.
 */
int store_relax_durability(struct store *s);
/* NULL is a no-op. */
void store_close(struct store *s);
/* The schema version the open database has (STORE_SCHEMA_VERSION after a successful open). */
int store_schema_version(struct store *s, int *version);

/*
 * A mark of the database's contents as one connection sees them: two equal stamps read on one
 * connection mean no transaction committed in between, on this connection or any other (in
 * another process too). A cache of rows keeps the stamp it was filled under and reads the rows
 * again only when the stamp moved: one cheap read instead of the rows' queries.
 */
struct store_stamp {
	int64_t data_version; /* SQLite's: moves on other connections' commits */
	uint64_t commits;     /* this connection's commits */
};

/* The stamp of the database now. EIO. */
int store_stamp(struct store *s, struct store_stamp *out);
bool store_stamp_equal(const struct store_stamp *a, const struct store_stamp *b);

/*
 * Whether s waits for another connection that holds the database (up to the busy timeout, 10 s:
 * the default) or fails at once (is_waiting false). A write that can be put off, such as a
 * last-seen time, is tried without waiting, so the request making it never waits on a
 * database another process has locked. Turning waiting off also clears store_was_busy.
 */
void store_set_waiting(struct store *s, bool is_waiting);
/* Whether a failure since waiting was last turned off was another connection's lock. */
bool store_was_busy(const struct store *s);

/*
 * Adds a repository (state new) with the URL policy it was checked under (NULL: nothing beyond
 * the default) and its branch patterns (n may be 0: HEAD only). *id gets its id. EINVAL when
 * the name is taken (the message says so) or a pattern is given twice, ELIMIT for a URL over
 * STORE_URL_MAX, EIO.
 */
int store_repo_add(int64_t *id, struct store *s, const char *name, const char *url,
		   const struct store_policy *policy, char *const *patterns, size_t n);

/* The repository called name, with patterns and branches. ENOTFOUND, EIO, ENOMEM. */
int store_repo_get(struct store_repo *out, struct store *s, const char *name);

/* Every repository, by name, in a new array (free with store_repos_free). EIO, ENOMEM. */
int store_repo_list(struct store_repo **out, size_t *n, struct store *s);
/*
 * Every repository like store_repo_list, without its patterns and branches (n_patterns and
 * n_branches are 0): one query, for what needs only the repositories' own columns (their
 * states, names and sizes). Free with store_repos_free. EIO, ENOMEM.
 */
int store_repo_list_brief(struct store_repo **out, size_t *n, struct store *s);
/*
 * The repositories named in names[0..n_names) (sorted by strcmp), by name, with their branches
 * but not their patterns (n_patterns 0); a name the registry does not hold is left out. Two
 * statements whatever their number, for a page of a list. Free with store_repos_free. ELIMIT
 * (names over BUF_MAX_DEFAULT as JSON), EIO, ENOMEM.
 */
int store_repo_named(struct store_repo **out, size_t *n, struct store *s,
		     const char *const *names, size_t n_names);
/*
 * Only the names of every repository, sorted by strcmp, in a new array (free with
 * store_names_free): one query, where store_repo_list reads each repository's patterns and
 * branches too. EIO, ENOMEM.
 */
int store_repo_names(char ***out, size_t *n, struct store *s);
void store_repo_dispose(struct store_repo *r);
void store_repos_free(struct store_repo *v, size_t n);

/* Deletes the repository and its branch rows. ENOTFOUND, EIO. */
int store_repo_remove(struct store *s, int64_t id);

/* Sets whether the repository's index has symbols (STORE_SYMBOLS_*). ENOTFOUND, EINVAL, EIO. */
int store_repo_set_symbols(struct store *s, int64_t id, int symbols);

/*
 * Marks the repository syncing (last_error is kept until the sync ends) and takes its sync
 * request, if any (the sync starting is the one asked for). ENOTFOUND, EIO.
 */
int store_repo_set_syncing(struct store *s, int64_t id);

/*
 * Asks for a sync of the repository now (sync_requested = when): it is due at once
 * (store/due.h), its backoff after failures skipped, until a sync of it starts. ENOTFOUND, EIO.
 */
int store_repo_request_sync(struct store *s, int64_t id, int64_t when);

/*
 * Marks every repository still in state syncing as error "interrupted: ...": called by a sync
 * that holds DATA/sync.lock, so no other sync is running and those states are what a killed
 * sync left. *n is how many it marked. EIO.
 */
int store_repos_interrupted(struct store *s, size_t *n);

/*
 * Records a successful sync in one transaction: state indexed, last_sync = last_success = when,
 * no error, no failures in a row, the sizes, the indexed branches replaced by branches[0..n) and, with
 * is_changed (a branch moved, or the first index), last_changed = when. ENOTFOUND, EIO.
 */
int store_repo_set_synced(struct store *s, int64_t id, int64_t when, uint64_t index_bytes,
			  uint64_t files, uint64_t skipped_count,
			  const struct store_branch *branches, size_t n, bool is_changed);

/*
 * Records a failed sync: state error, last_sync = when, last_error = error, one more failure in
 * a row, and the next attempt due after a backoff of 60 s doubling with each failure in a row,
 * at most an hour (60, 120, 240, ... 3600 s after when). ENOTFOUND, EIO.
 */
int store_repo_set_failed(struct store *s, int64_t id, int64_t when, const char *error);

/*
 * Names repositories no longer have: names an older trawl made from a URL's query or fragment,
 * which the schema 2 migration changed (their shards in the index still carry the old name).
 * Names a registered repository has taken again are left out. *out is a new array of n new
 * strings (free with store_names_free). EIO, ENOMEM.
 */
int store_retired_names(char ***out, size_t *n, struct store *s);
void store_names_free(char **v, size_t n);

/* Forgets a retired name once its shards are gone from the index. EIO. */
int store_retired_name_forget(struct store *s, const char *name);

#endif
