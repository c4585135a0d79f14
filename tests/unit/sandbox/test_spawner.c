/*
 * Unit tests for the spawner (sandbox/spawner.h): sandbox_run and sandbox_spawn go through it
 * once it runs, it runs only the programs it was given with exactly the server's command lines
 * (`trawl __compile`, `trawl sync --data DATA`) and logs each refusal, it reports exit statuses, and a process confined as the server, which may not
 * execve, still starts its helpers through it. The helper is this test program itself.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox/child.h"
#include "sandbox/confine.h"
#include "sandbox/spawner.h"
#include "util/error.h"

#define SELF "/proc/self/exe"
#define DATA "/srv/trawl-data"
#define OTHER "/bin/true" /* stands for the tests' TRAWL_SYNC_CMD */

static int helper_main(const char *mode)
{
	char chunk[4096];
	ssize_t n;

	if (strcmp(mode, "__compile") == 0) { /* echo */
		while ((n = read(0, chunk, sizeof(chunk))) > 0)
			if (write(1, chunk, (size_t)n) != n)
				return 1;
		return 0;
	}
	if (strcmp(mode, "sync") == 0)
		return 7;
	return 9;
}

static void run_echo(void)
{
	char *argv[] = { "trawl", "__compile", NULL };
	struct sandbox_limits lim = { .max_output = 1 << 20 };
	struct sandbox_result res;

	assert_int_equal(sandbox_run(&res, SELF, argv, "through the spawner", 19, &lim), 0);
	assert_int_equal(res.exit_status, 0);
	assert_int_equal(res.out_len, 19);
	assert_memory_equal(res.out, "through the spawner", 19);
	sandbox_result_dispose(&res);
}

static void run_goes_through_the_spawner(void **state)
{
	(void)state;
	assert_true(spawner_is_running());
	run_echo();
}

static void spawn_reports_the_exit_status(void **state)
{
	char *argv[] = { "trawl", "sync", "--data", DATA, NULL };
	int status = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(sandbox_spawn(&pid, SELF, argv, -1, -1, -1), 0);
	assert_true(pid > 0);
	/* The server's own waitpid cannot see it: it is the spawner's child. */
	assert_int_equal(waitpid(pid, &status, WNOHANG), -1);
	assert_int_equal(sandbox_wait(&status, pid, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
}

static void other_programs_and_commands_are_refused(void **state)
{
	char *index[] = { "trawl", "index", "-o", "/tmp/x", "/", NULL };
	char *sh[] = { "sh", "-c", "touch /tmp/pwned", NULL };
	pid_t pid;

	(void)state;
	assert_int_equal(sandbox_spawn(&pid, SELF, index, -1, -1, -1), TRAWL_EPERM);
	assert_non_null(strstr(error_last(), "not a program or command line the spawner runs"));
	assert_int_equal(sandbox_spawn(&pid, "/bin/sh", sh, -1, -1, -1), TRAWL_EPERM);
	/* It still works after refusing. */
	run_echo();
}

static void only_the_servers_command_lines_are_run(void **state)
{
	char *local[] = { "trawl", "sync", "--allow-local", "--data", DATA, NULL };
	char *local_after[] = { "trawl", "sync", "--data", DATA, "--allow-local", NULL };
	char *other_data[] = { "trawl", "sync", "--data", "/tmp/evil", NULL };
	char *prefix[] = { "trawl", "sync", "--data", "/srv/trawl-data/../evil", NULL };
	char *bare[] = { "trawl", "sync", NULL };
	char *compile_more[] = { "trawl", "__compile", "--x", NULL };
	char *argv0[] = { "sh", "__compile", NULL };
	char *cmd_ok[] = { OTHER, "--data", DATA, NULL };
	char *cmd_other[] = { OTHER, "--data", "/tmp/evil", NULL };
	char *cmd_more[] = { OTHER, "--data", DATA, "--allow-local", NULL };
	/* The scheduler's --due tail: its flags in its order, numbers only. */
	char *due[] = { "trawl", "sync", "--data", DATA, "--due", "--no-progress", "--min-interval",
			"60s", "--max-interval", "28800s", NULL };
	char *due_jobs[] = { "trawl", "sync", "--data", DATA, "--due", "--no-progress",
			     "--min-interval", "60s", "--max-interval", "28800s", "--jobs", "4", NULL };
	char *due_local[] = { "trawl", "sync", "--data", DATA, "--due", "--no-progress",
			      "--min-interval", "60s", "--max-interval", "28800s", "--allow-local",
			      "4", NULL };
	char *due_value[] = { "trawl", "sync", "--data", DATA, "--due", "--no-progress",
			      "--min-interval", "--allow-local", "--max-interval", "28800s", NULL };
	char *due_more[] = { "trawl", "sync", "--data", DATA, "--due", "--no-progress",
			     "--min-interval", "60s", "--max-interval", "28800s", "--jobs", "4",
			     "--allow-local", NULL };
	char *due_jobs_odd[] = { "trawl", "sync", "--data", DATA, "--due", "--no-progress",
				 "--min-interval", "60s", "--max-interval", "28800s", "--jobs", "4s",
				 NULL };
	char *due_other[] = { "trawl", "sync", "--data", "/tmp/evil", "--due", "--no-progress",
			      "--min-interval", "60s", "--max-interval", "28800s", NULL };
	/* A cluster indexer's filter (sched.c): --self, then the searchers in one of two forms. */
	char *due_cluster[] = { "trawl", "sync", "--data", DATA, "--due", "--no-progress",
				"--min-interval", "60s", "--max-interval", "28800s", "--jobs", "4",
				"--self", "s1", "--searchers", "s0=h:1,s1=h:2", NULL };
	char *due_pattern[] = { "trawl", "sync", "--data", DATA, "--due", "--no-progress",
				"--min-interval", "60s", "--max-interval", "28800s", "--self",
				"searcher-1", "--searcher-count", "3", "--searcher-pattern",
				"s-%d.s:7070", NULL };
	char *due_cluster_flag[] = { "trawl", "sync", "--data", DATA, "--due", "--no-progress",
				     "--min-interval", "60s", "--max-interval", "28800s", "--self",
				     "--allow-local", "--searchers", "s0=h:1", NULL };
	char *due_cluster_more[] = { "trawl", "sync", "--data", DATA, "--due", "--no-progress",
				     "--min-interval", "60s", "--max-interval", "28800s", "--self",
				     "s0", "--allow-local", "s0=h:1", NULL };
	char *due_cluster_odd[] = { "trawl", "sync", "--data", DATA, "--due", "--no-progress",
				    "--min-interval", "60s", "--max-interval", "28800s", "--self",
				    "s0", "--searcher-count", "x", "--searcher-pattern", "p%d:1",
				    NULL };
	/* The show worker: its request comes on standard input, never on the command line. */
	char *show[] = { "trawl", "worker", "show", "--data", DATA, NULL };
	char *show_other[] = { "trawl", "worker", "show", "--data", "/tmp/evil", NULL };
	char *show_more[] = { "trawl", "worker", "show", "--data", DATA, "--mirror", "/", NULL };
	char *show_bare[] = { "trawl", "worker", "show", NULL };
	char *fetch[] = { "trawl", "worker", "fetch", "--data", DATA, NULL };
	char *index[] = { "trawl", "worker", "index", "--data", DATA, NULL };
	char *const *refused[] = { local,     local_after, other_data, prefix,   bare,
				   compile_more, argv0,   due_local,  due_value, due_more,
				   due_jobs_odd, due_other, show_other, show_more, show_bare,
				   fetch,	 index, due_cluster_flag, due_cluster_more,
				   due_cluster_odd };
	char *const *allowed[] = { due, due_jobs, due_cluster, due_pattern };
	int status = 0;
	pid_t pid;

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		assert_int_equal(sandbox_spawn(&pid, SELF, refused[i], -1, -1, -1), TRAWL_EPERM);
		assert_non_null(strstr(error_last(), "not a program or command line"));
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(*allowed); i++) {
		assert_int_equal(sandbox_spawn(&pid, SELF, allowed[i], -1, -1, -1), 0);
		assert_int_equal(sandbox_wait(&status, pid, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 7); /* helper_main's "sync" */
	}
	assert_int_equal(sandbox_spawn(&pid, SELF, show, -1, -1, -1), 0);
	assert_int_equal(sandbox_wait(&status, pid, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 9); /* helper_main's other modes */
	assert_int_equal(sandbox_spawn(&pid, OTHER, cmd_other, -1, -1, -1), TRAWL_EPERM);
	assert_int_equal(sandbox_spawn(&pid, OTHER, cmd_more, -1, -1, -1), TRAWL_EPERM);
	assert_int_equal(sandbox_spawn(&pid, OTHER, cmd_ok, -1, -1, -1), 0);
	assert_int_equal(sandbox_wait(&status, pid, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void a_refusal_is_logged_with_its_reason(void **state)
{
	char log[] = "/tmp/trawl-spawner-log-XXXXXX";
	char *local[] = { "trawl", "sync", "--allow-local", "--data", DATA, NULL };
	char line[4096];
	int fd, status;
	ssize_t n;
	pid_t pid;

	(void)state;
	fd = mkstemp(log);
	assert_true(fd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *progs[] = { SELF };
		pid_t kid;

		spawner_stop(); /* the parent's: this child starts its own, logging to the file */
		if (dup2(fd, 2) < 0 || spawner_start(progs, 1, DATA) < 0)
			_exit(2);
		if (sandbox_spawn(&kid, SELF, local, -1, -1, -1) != TRAWL_EPERM)
			_exit(3);
		spawner_stop();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	n = pread(fd, line, sizeof(line) - 1, 0);
	assert_true(n > 0);
	line[n] = '\0';
	assert_non_null(strstr(line, "\"msg\":\"spawner: refused a request\""));
	assert_non_null(strstr(line, "\"reason\":\"not `trawl __compile`, `trawl sync --data"));
	assert_non_null(strstr(line, "\"argv\":[\"trawl\",\"sync\",\"--allow-local\""));
	close(fd);
	unlink(log);
}

static void child_gets_only_its_descriptors_and_reports_its_signal(void **state)
{
	char *argv[] = { "trawl", "__compile", NULL };
	int status = 0, sv[2], n = 0;
	char path[64];
	struct dirent *e;
	DIR *d;
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(sandbox_spawn(&pid, SELF, argv, sv[1], sv[1], -1), 0);
	/* Its echo proves it runs its main: exec has closed what it must not inherit. */
	assert_int_equal(write(sv[0], "x", 1), 1);
	assert_int_equal(read(sv[0], path, 1), 1);
	assert_int_equal(sandbox_wait(&status, pid, WNOHANG), 0); /* waiting on more input */
	/* It inherited its three standard descriptors and nothing of the spawner's. */
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 3);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(sandbox_wait(&status, pid, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	close(sv[0]);
	close(sv[1]);
}

static void confined_server_spawns_through_it(void **state)
{
	struct confine_spec spec = { .role = CONFINE_SERVER, .report_fd = -1 };
	struct confine_status st;
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { "trawl", "__compile", NULL };
		struct sandbox_limits lim = { .max_output = 1 << 20 };
		struct sandbox_result res;
		const char *progs[] = { SELF };

		spawner_stop(); /* the parent's: this child starts its own */
		if (spawner_start(progs, 1, DATA) < 0 || confine_apply(&spec, &st) < 0)
			_exit(2);
		if (sandbox_run(&res, SELF, argv, "ok", 2, &lim) < 0 || res.out_len != 2 ||
		    memcmp(res.out, "ok", 2) != 0)
			_exit(3);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int setup(void **state)
{
	const char *progs[] = { SELF, OTHER };

	(void)state;
	return spawner_start(progs, 2, DATA);
}

static int teardown(void **state)
{
	(void)state;
	spawner_stop();
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(run_goes_through_the_spawner),
		cmocka_unit_test(spawn_reports_the_exit_status),
		cmocka_unit_test(only_the_servers_command_lines_are_run),
		cmocka_unit_test(a_refusal_is_logged_with_its_reason),
		cmocka_unit_test(other_programs_and_commands_are_refused),
		cmocka_unit_test(child_gets_only_its_descriptors_and_reports_its_signal),
		cmocka_unit_test(confined_server_spawns_through_it),
	};

	if (argc == 2 || argc > 2)
		return helper_main(argv[1]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
