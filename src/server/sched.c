/*
 * The background scheduler: every tick (SCHED_TICK_S, or --sync-interval when shorter) it runs
 * `trawl sync --data DIR --due ...` as a child process (this binary again, by /proc/self/exe;
 * argv only, no shell), one at a time, with the child's output copied into the log line by
 * line. The child syncs only the repositories due by how recently they changed (store/due.h:
 * half their idle time, within --sync-interval and --sync-max-interval), --sync-jobs at once,
 * so a tick where nothing is due costs a read of the registry. An administrator's "sync now"
 * (POST /api/v1/repos/{name}/sync) marks the repository due and sets wake, which ends the wait. A crash or hang in fetching or indexing
 * stays in the child: the server logs the exit status and carries on; the index watcher picks
 * up whatever new shards the child committed. The child checks each repository's URL under the
 * policy it was added with (DATA/policy/ID, src/store/policy.h), so the server needs no --allow-*
 * of its own.
 *
 * TRAWL_SYNC_CMD names another executable to run instead of `trawl sync`, with the same
 * "--data DIR" arguments: a test hook, read only by the test binary trawl-test (built with
 * TRAWL_TEST_HOOKS); the release binary ignores it.
 *
 * The child is started by sandbox_spawn() (src/sandbox/); the seccomp and resource limits the
 * workers will get belong there too (DESIGN.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "sandbox/child.h"
#include "store/due.h"
#include "server/server_int.h"
#include "util/buf.h"
#include "util/error.h"

#define LOG_LINE_MAX 2048
#define SCHED_TICK_S 60 /* how often the scheduler looks for due repositories, at most */
#define LOG_BYTES_MAX ((size_t)1 << 20) /* per run: a chatty child cannot flood the log */

struct sched {
	const struct server_config *cfg;
	struct metrics *m;
	atomic_bool *wake; /* the server's sync_wanted: cuts the wait short */
	pthread_t th;
	atomic_bool stop;
	/* An indexer's --searchers-dns: resolved before each sync, the last good set kept. */
	struct cluster_dns dns;
	struct buf searchers; /* the set as --searchers for the sync */
};

static void log_child_line(const char *line, size_t len)
{
	struct logline l;

	log_begin(&l, "info", "sync output");
	log_str(&l, "line", line, len);
	log_end(&l);
}

/* Copies the child's output into the log until it closes the pipe (or we are stopping). */
static void drain(struct sched *sc, int fd, pid_t pid)
{
	char line[LOG_LINE_MAX];
	size_t n = 0, total = 0;
	bool is_killed = false;

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		char c[512];
		ssize_t r;

		if (atomic_load(&sc->stop) && !is_killed) {
			kill(pid, SIGTERM);
			is_killed = true;
		}
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		r = read(fd, c, sizeof(c));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			if (c[i] == '\n' || n == sizeof(line)) {
				if (total < LOG_BYTES_MAX)
					log_child_line(line, n);
				total += n + 1;
				n = 0;
				if (c[i] == '\n')
					continue;
			}
			line[n++] = c[i];
		}
	}
	if (n && total < LOG_BYTES_MAX)
		log_child_line(line, n);
}

/*
 * An indexer's --searchers-dns resolved again, as --searchers for its sync: the set DNS gives
 * now, or the last one when this resolution is refused (logged), or NULL when --self is not in
 * it (this sync is skipped, logged). The sync itself then needs no DNS.
 */
static const char *dns_searchers(struct sched *sc)
{
	bool is_changed;

	if (cluster_dns_refresh(&sc->dns, (int64_t)time(NULL), &is_changed) < 0)
		log_msg("error", "--searchers-dns: not resolved again; the searchers stay as they were",
			"detail", error_last());
	else if (is_changed)
		log_msg("info", "--searchers-dns: the searchers changed", NULL, NULL);
	buf_reset(&sc->searchers);
	if (cluster_set_find(&sc->dns.set, sc->cfg->self) < 0) {
		/* Its own pod not yet published, or no resolution yet: the next tick tries again. */
		log_msg("error", "sync: skipped, --self is not among the searchers --searchers-dns "
			"gives", "self", sc->cfg->self);
		atomic_fetch_add(&sc->m->sync_failures, 1);
		return NULL;
	}
	if (cluster_set_format(&sc->searchers, &sc->dns.set) < 0) {
		log_msg("error", "sync: skipped", "detail", error_last());
		atomic_fetch_add(&sc->m->sync_failures, 1);
		return NULL;
	}
	return sc->searchers.ptr;
}

static void run_sync(struct sched *sc)
{
#ifdef TRAWL_TEST_HOOKS
	const char *cmd = getenv("TRAWL_SYNC_CMD");
#else
	const char *cmd = NULL;
#endif
	const char *path = cmd && cmd[0] ? cmd : sc->cfg->self_exe;
	unsigned max_s = sc->cfg->sync_max_interval_s ? sc->cfg->sync_max_interval_s
						      : (unsigned)STORE_DUE_MAX_DEFAULT;
	char min_arg[24], max_arg[24], jobs_arg[24];
	char count_arg[24];
	char *argv_sync[20] = { "trawl", "sync", "--data", (char *)sc->cfg->data_dir, "--due",
				"--no-progress", "--min-interval", min_arg, "--max-interval",
				max_arg };
	size_t n_args = 10;
	char *argv_cmd[] = { (char *)path, "--data", (char *)sc->cfg->data_dir, NULL };
	int pipefd[2], status = 0, err;
	pid_t pid;
	struct logline l;
	double t0 = clock_now_ms();

	/* The longest interval is never below the shortest. */
	snprintf(min_arg, sizeof(min_arg), "%us", sc->cfg->sync_interval_s);
	snprintf(max_arg, sizeof(max_arg), "%us",
		 max_s < sc->cfg->sync_interval_s ? sc->cfg->sync_interval_s : max_s);
	snprintf(jobs_arg, sizeof(jobs_arg), "%u", sc->cfg->sync_jobs);
	if (sc->cfg->sync_jobs) {
		argv_sync[n_args++] = "--jobs";
		argv_sync[n_args++] = jobs_arg;
	}
	/* A cluster's indexer: only the repositories its searcher owns (cluster.md). */
	if (sc->cfg->role == SERVER_ROLE_INDEXER) {
		argv_sync[n_args++] = "--self";
		argv_sync[n_args++] = (char *)sc->cfg->self;
		if (sc->cfg->searcher_count) {
			snprintf(count_arg, sizeof(count_arg), "%u", sc->cfg->searcher_count);
			argv_sync[n_args++] = "--searcher-count";
			argv_sync[n_args++] = count_arg;
			argv_sync[n_args++] = "--searcher-pattern";
			argv_sync[n_args++] = (char *)sc->cfg->searcher_pattern;
		} else {
			argv_sync[n_args++] = "--searchers";
			argv_sync[n_args++] = sc->cfg->searchers_dns ? (char *)dns_searchers(sc)
								     : (char *)sc->cfg->searchers;
			if (!argv_sync[n_args - 1])
				return;
		}
	}
	argv_sync[n_args] = NULL;
	atomic_fetch_add(&sc->m->syncs, 1);
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		log_msg("error", "sync: cannot create a pipe", "error", strerror(errno));
		atomic_fetch_add(&sc->m->sync_failures, 1);
		return;
	}
	err = sandbox_spawn(&pid, path, cmd && cmd[0] ? argv_cmd : argv_sync, -1, pipefd[1],
			    pipefd[1]);
	close(pipefd[1]);
	if (err != 0) {
		log_msg("error", "sync: cannot start the sync process", "error", error_last());
		atomic_fetch_add(&sc->m->sync_failures, 1);
		close(pipefd[0]);
		return;
	}
	drain(sc, pipefd[0], pid);
	close(pipefd[0]);
	while (sandbox_wait(&status, pid, 0) < 0 && errno == EINTR)
		;
	bool is_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	if (!is_ok)
		atomic_fetch_add(&sc->m->sync_failures, 1);
	log_begin(&l, is_ok ? "info" : "error", is_ok ? "sync finished" : "sync failed");
	if (WIFEXITED(status))
		log_num(&l, "exit_status", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_num(&l, "signal", WTERMSIG(status));
	log_num(&l, "ms", clock_now_ms() - t0);
	log_end(&l);
}

static void *sched_main(void *arg)
{
	struct sched *sc = arg;

	while (!atomic_load(&sc->stop)) {
		/* Sleep one tick in short steps, so stopping is prompt. */
		unsigned tick_s = sc->cfg->sync_interval_s < SCHED_TICK_S ? sc->cfg->sync_interval_s
									  : SCHED_TICK_S;
		double until = clock_now_ms() + 1000.0 * tick_s;
		struct timespec ts = { 0, 100 * 1000000L };

		while (!atomic_load(&sc->stop) && clock_now_ms() < until &&
		       !atomic_exchange(sc->wake, false))
			nanosleep(&ts, NULL);
		if (!atomic_load(&sc->stop))
			run_sync(sc);
	}
	return NULL;
}

int sched_start(struct sched **out, const struct server_config *cfg, struct metrics *m,
		atomic_bool *wake)
{
	struct sched *sc = calloc(1, sizeof(*sc));

	*out = NULL;
	if (!sc)
		return error_nomem(NULL);
	sc->cfg = cfg;
	sc->m = m;
	sc->wake = wake;
	buf_init(&sc->searchers, BUF_MAX_DEFAULT);
	if (cfg->role == SERVER_ROLE_INDEXER && cfg->searchers_dns &&
	    cluster_dns_init(&sc->dns, cfg->searchers_dns, NULL) < 0) {
		free(sc);
		return TRAWL_EINVAL;
	}
	if (pthread_create(&sc->th, NULL, sched_main, sc) != 0) {
		free(sc);
		error_set("cannot start the scheduler thread");
		return TRAWL_ENOMEM;
	}
	*out = sc;
	return 0;
}

void sched_stop(struct sched *sc)
{
	if (!sc)
		return;
	atomic_store(&sc->stop, true);
	pthread_join(sc->th, NULL);
	cluster_dns_dispose(&sc->dns);
	buf_dispose(&sc->searchers);
	free(sc);
}
