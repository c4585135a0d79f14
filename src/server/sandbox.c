/*
 * The server's own confinement (docs/internals/sandbox.md, "The server"): the spawner is forked
 * first, while the process has no thread and holds nothing, then the server makes the files it
 * will need and confines itself as CONFINE_SERVER before it opens its accounts or starts a
 * thread. Of the data directory it may then read DATA/index and DATA/auth.key, read and write
 * its database's three files (trawl.db, its -wal and -shm) and the directory DATA/audit/ (the
 * audit log and its rotation), and nothing else: not DATA/credentials, known_hosts or the
 * mirrors, not the URL policy files, and it can create no file in DATA. Besides, it may read and
 * write its own compiled-pattern cache (never the one `trawl search` loads: dbcache.h,
 * dbcache_set_role) and the temporary directory (SQLite's temporary files) and read the
 * directories of its TLS and single sign-on files (file_trees); it can no longer run a program
 * but through the spawner.
 *
 * DESIGN: Landlock grants rights per hierarchy, so the server's writable places are a
 * directory of their own (DATA/audit/) or single files; a rule on a file holds only that
 * inode, so the database's files are made before the rules: a connection opened here makes
 * the -wal and -shm files and stays open until the server stops. SQLite deletes them only when
 * the last connection to the database closes, and an open connection holds a shared lock that
 * keeps any other (a CLI command's, in another process) from being the last: the server never
 * has to create them again, which it could not.
 */
#include <errno.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "regex/dbcache.h"
#include "sandbox/spawner.h"
#include "server/server_int.h"
#include "store/store.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

/* The data directory's entries the confined server may use (made by data_prepare). */
enum { DATA_INDEX, DATA_KEY, DATA_DB, DATA_WAL, DATA_SHM, DATA_AUDIT, DATA_N };
static const char *const data_names[DATA_N] = {
	[DATA_INDEX] = "index",	       [DATA_KEY] = "auth.key",
	[DATA_DB] = "trawl.db",	       [DATA_WAL] = "trawl.db-wal",
	[DATA_SHM] = "trawl.db-shm",   [DATA_AUDIT] = AUTH_AUDIT_DIR,
};

/* Held from before the confinement until the server stops: see DESIGN above. */
static struct store *held_db;

int server_sandbox_start(struct srv *s)
{
#ifdef TRAWL_TEST_HOOKS
	/* The test binary only: the program run as the sync (sched.c). */
	const char *cmd = getenv("TRAWL_SYNC_CMD");
#else
	const char *cmd = NULL;
#endif
	const char *progs[2] = { s->cfg->self_exe, cmd };

	return spawner_start(progs, cmd && cmd[0] ? 2 : 1, s->cfg->data_dir);
}

/* Whether the store is a database server (--database postgres://...): no files to allow. */
static bool is_db_server;

/*
 * Points paths[DATA_DB], [DATA_WAL] and [DATA_SHM] at the store's location (store_location:
 * DATA/trawl.db, or --database's SQLite file and its -wal and -shm), or notes a database
 * server, which the server reaches over a socket rather than through files. ENOMEM.
 */
static int database_paths(char *paths[DATA_N], const char *data_dir)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char *loc = store_location(data_dir);

	if (!loc)
		return error_nomem("confining the server");
	is_db_server = store_is_server(loc);
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(loc) + strlen(suffix[i]) + 1;
		char *p = malloc(n);

		if (!p) {
			free(loc);
			return error_nomem("confining the server");
		}
		snprintf(p, n, "%s%s", loc, suffix[i]);
		free(paths[DATA_DB + i]);
		paths[DATA_DB + i] = p;
	}
	free(loc);
	return 0;
}

/*
 * Makes what the confined server cannot make afterwards: DATA, DATA/index, DATA/audit/ (an older
 * DATA/audit.log moved there) and DATA/auth.key (auth_files_prepare), and the database with its
 * WAL and shared-memory files, whose connection stays open (held_db). paths[] gets each entry's
 * path (the caller frees them). EIO, ENOMEM.
 */
static int data_prepare(char *paths[DATA_N], const char *data_dir)
{
	struct stat st;
	int err;

	for (int i = 0; i < DATA_N; i++)
		if (!(paths[i] = file_join(data_dir, data_names[i])))
			return error_nomem("confining the server");
	if ((err = database_paths(paths, data_dir)) < 0)
		return err;
	if ((err = auth_files_prepare(data_dir)) < 0)
		return err;
	if (mkdir(paths[DATA_INDEX], 0700) != 0 && errno != EEXIST) {
		error_set("%s: %s", paths[DATA_INDEX], strerror(errno));
		return TRAWL_EIO;
	}
	if (!held_db && (err = store_open(&held_db, paths[DATA_DB])) < 0)
		return err;
	for (int i = DATA_WAL; i <= DATA_SHM && !is_db_server; i++)
		if (lstat(paths[i], &st) != 0 || !S_ISREG(st.st_mode)) {
			error_set("%s: the database's file is missing after opening it", paths[i]);
			return TRAWL_EIO;
		}
	return 0;
}

/*
 * SECURITY: DATA inside a tree the server may write (DATA under $TMPDIR, as in a quick trial)
 * gives it all of DATA again, and so does the CLI's compiled-pattern cache: the operator is told
 * at start-up, with msg.
 */
static void warn_if_inside(const char *dir, const char *msg, const char *const *trees, size_t n)
{
	char *real = dir ? realpath(dir, NULL) : NULL;

	for (size_t i = 0; real && i < n; i++) {
		char *tree = realpath(trees[i], NULL);
		size_t len = tree ? strlen(tree) : 0;

		if (tree && strncmp(real, tree, len) == 0 &&
		    (real[len] == '/' || real[len] == 0 || (len == 1 && tree[0] == '/')))
			log_msg("warn", msg, "dir", tree);
		free(tree);
	}
	free(real);
}

/* Whether one of the real paths a and b is b itself or inside it, or holds it. */
static bool trees_meet(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;

	if (strncmp(a, b, n) != 0)
		return false;
	return la == lb || (la < lb ? b[la] == '/' || la == 1 : a[lb] == '/' || lb == 1);
}

/*
 * The trees a TLS or sign-on file is read from: the directories that hold the path given and
 * the file it resolves to, so that a SIGHUP reload reads the renewed file (certbot replaces
 * archive/NAME/certN.pem and repoints live/NAME/cert.pem; a rule on the old file would hold
 * its inode only). SECURITY: a directory that holds DATA or lies in it is never a tree: the
 * file alone is then (its reload needs the same file rewritten in place). out gets up to
 * two new strings; returns how many.
 */
static size_t file_trees(char **out, const char *file, const char *data_real)
{
	char *real = realpath(file, NULL), *dirs[2] = { NULL, NULL };
	size_t n = 0;

	dirs[0] = strdup(file);
	dirs[1] = real ? strdup(real) : NULL;
	for (int i = 0; i < 2; i++) {
		char *d = dirs[i] ? realpath(dirname(dirs[i]), NULL) : NULL;

		if (d && data_real && !trees_meet(d, data_real) && (n == 0 || strcmp(out[0], d) != 0))
			out[n++] = d;
		else
			free(d);
		free(dirs[i]);
	}
	if (n == 0 && (out[0] = strdup(file)) != NULL)
		n = 1;
	free(real);
	return n;
}

int server_sandbox_confine(struct srv *s)
{
	const struct server_config *cfg = s->cfg;
	const char *tmp = getenv("TMPDIR");
	const char *ro[2 + 6 * 2], *rw[4 + 2];
	char *file_dirs[6 * 2] = { NULL }, *data_real = NULL;
	size_t n_dirs = 0;
	char *cli_cache = NULL, *cache = NULL, *paths[DATA_N] = { NULL };
	struct confine_spec spec = { .role = CONFINE_SERVER, .report_fd = -1 };
	const char *files[] = { cfg->tls_cert, cfg->tls_key, cfg->sso.secret_file, cfg->sso.ca_file,
				cfg->cluster_secret_file, cfg->searchers_file };
	size_t n_ro = 0, n_rw = 0, n_data;
	int err;

	/*
	 * SECURITY: the server compiles into a cache of its own, the only one it may write, which
	 * no CLI process loads: a database is trusted input to Vectorscan (dbcache.h).
	 */
	cli_cache = dbcache_dir();
	dbcache_set_role(DBCACHE_ROLE_SERVER);
	cache = dbcache_dir();
	if ((err = data_prepare(paths, cfg->data_dir)) < 0)
		goto out;
	/* SECURITY: DATA itself is no tree: only these of its entries are reachable. */
	ro[n_ro++] = paths[DATA_INDEX];
	ro[n_ro++] = paths[DATA_KEY];
	for (int i = DATA_DB; i <= DATA_SHM && !is_db_server; i++)
		rw[n_rw++] = paths[i];
	rw[n_rw++] = paths[DATA_AUDIT];
	n_data = n_rw;
	if (tmp && tmp[0] == '/' && access(tmp, F_OK) == 0)
		rw[n_rw++] = tmp;
	else if (access("/tmp", F_OK) == 0)
		rw[n_rw++] = "/tmp";
	if (cache)
		rw[n_rw++] = cache;
	/*
	 * A file that is missing is left out: opening it at start-up then fails with the message
	 * that names its flag (tls.c, handlers_sso.c).
	 */
	data_real = realpath(cfg->data_dir, NULL);
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		size_t k;

		if (!files[i] || access(files[i], F_OK) != 0)
			continue;
		k = file_trees(file_dirs + n_dirs, files[i], data_real);
		for (size_t j = 0; j < k; j++)
			ro[n_ro++] = file_dirs[n_dirs + j];
		n_dirs += k;
	}
	warn_if_inside(cfg->data_dir,
		       "DATA is inside a directory the server may write: the sandbox does not keep "
		       "it from the rest of DATA (credentials, mirrors, URL policy files)",
		       rw + n_data, n_rw - n_data);
	/* Its own cache is inside the CLI's: only the trees before it count. */
	warn_if_inside(cli_cache,
		       "the compiled-pattern cache of CLI commands is inside a directory the server "
		       "can write to: it could forge what `trawl search` loads; set TMPDIR or "
		       "TRAWL_CACHE_DIR apart",
		       rw + n_data, n_rw - n_data - (cache ? 1 : 0));
	spec.read_paths = ro;
	spec.n_read = n_ro;
	spec.write_paths = rw;
	spec.n_write = n_rw;
	if ((err = confine_apply(&spec, &s->sandbox)) < 0)
		goto out;
	/* What the workers get on this kernel (they confine themselves: confine.h). */
	confine_probe(&s->sandbox_workers);
	s->is_confined = true;
out:
	for (int i = 0; i < DATA_N; i++)
		free(paths[i]);
	for (size_t i = 0; i < n_dirs; i++)
		free(file_dirs[i]);
	free(data_real);
	free(cli_cache);
	free(cache);
	return err;
}

void server_sandbox_stop(void)
{
	spawner_stop();
	store_close(held_db);
	held_db = NULL;
}

static const char *yes(bool b)
{
	return b ? "true" : "false";
}

int server_sandbox_json(struct buf *b, const struct srv *s)
{
	const struct confine_status *st = &s->sandbox, *w = &s->sandbox_workers;
	int err;

	if (!s->is_confined)
		return buf_puts(b, "{\"server\":null,\"workers\":null}");
	if ((err = buf_printf(b,
			      "{\"server\":{\"no_new_privs\":%s,\"seccomp\":%s,\"landlock\":%s,"
			      "\"landlock_abi\":%d,\"rlimits\":%s,\"spawner\":%s,\"detail\":",
			      yes(st->no_new_privs), yes(st->seccomp), yes(st->landlock),
			      st->landlock_abi, yes(st->rlimits), yes(spawner_is_running()))) < 0 ||
	    (err = json_put_string(b, st->detail, strlen(st->detail), NULL)) < 0 ||
	    (err = buf_printf(b,
			      "},\"workers\":{\"seccomp\":%s,\"landlock\":%s,\"landlock_abi\":%d,"
			      "\"detail\":",
			      yes(w->seccomp), yes(w->landlock), w->landlock_abi)) < 0 ||
	    (err = json_put_string(b, w->detail, strlen(w->detail), NULL)) < 0)
		return err;
	return buf_puts(b, "}}");
}
