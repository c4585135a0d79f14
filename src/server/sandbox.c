/*
 * The server's own confinement (docs/internals/sandbox.md, "The server"): the spawner is forked
 * first, while the process has no thread and holds nothing, then the server confines itself
 * as CONFINE_SERVER before it opens its accounts or starts a thread: it may read and write
 * DATA (its database with its WAL, the audit log and its rotation, the index it reads), the
 * compiled-pattern cache and the temporary directory (SQLite's temporary files), and read its
 * TLS and single sign-on files; it can no longer run a program but through the spawner.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "regex/dbcache.h"
#include "sandbox/spawner.h"
#include "server/server_int.h"
#include "util/error.h"
#include "util/json.h"

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

int server_sandbox_confine(struct srv *s)
{
	const struct server_config *cfg = s->cfg;
	const char *tmp = getenv("TMPDIR");
	const char *ro[4], *rw[3];
	char *cache = dbcache_dir();
	struct confine_spec spec = { .role = CONFINE_SERVER, .report_fd = -1 };
	const char *files[] = { cfg->tls_cert, cfg->tls_key, cfg->sso.secret_file, cfg->sso.ca_file };
	size_t n_ro = 0, n_rw = 0;
	int err;

	rw[n_rw++] = cfg->data_dir;
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
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
		if (files[i] && access(files[i], F_OK) == 0)
			ro[n_ro++] = files[i];
	spec.read_paths = ro;
	spec.n_read = n_ro;
	spec.write_paths = rw;
	spec.n_write = n_rw;
	err = confine_apply(&spec, &s->sandbox);
	free(cache);
	if (err < 0)
		return err;
	/* What the workers get on this kernel (they confine themselves: confine.h). */
	confine_probe(&s->sandbox_workers);
	s->is_confined = true;
	return 0;
}

void server_sandbox_stop(void)
{
	spawner_stop();
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
