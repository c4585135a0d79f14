/*
 * Unit tests for worker supervision (sandbox/worker.h). The worker is this test program itself,
 * started with a mode argument: it writes messages on descriptor 3 and lines on standard error
 * as each test needs, or dies in a given way.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox/worker.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/utf8.h"

#define SELF "/proc/self/exe"

static void send_fetch(void)
{
	struct wire_out o;

	wire_out_begin(&o, WIRE_FETCH);
	wire_put_u32(&o, 1);
	wire_put_str(&o, "");
	wire_send(&o, WORKER_MSG_FD);
	wire_out_begin(&o, WIRE_END);
	wire_send(&o, WORKER_MSG_FD);
}

/*
 * A worker that leaves a process behind: it starts a child that starts the sleeper and exits,
 * so the sleeper is an orphan (reparented to the test, the subreaper), in the worker's process
 * group. The worker says the sleeper's pid on standard error and ends normally. With
 * is_holding the sleeper keeps the worker's standard error open.
 */
static int leave_sleeper(bool is_holding)
{
	int p[2];
	pid_t a, b = 0;

	if (pipe(p) < 0 || (a = fork()) < 0)
		return 1;
	if (a == 0) {
		if ((b = fork()) == 0) {
			b = getpid();
			if (write(p[1], &b, sizeof(b)) != sizeof(b))
				_exit(1);
			for (int fd = 0; fd < 16; fd++)
				if (fd != 2 || !is_holding)
					close(fd);
			for (;;)
				pause();
		}
		_exit(b > 0 ? 0 : 1);
	}
	close(p[1]);
	waitpid(a, NULL, 0);
	if (read(p[0], &b, sizeof(b)) != sizeof(b))
		return 1;
	dprintf(2, "sleeper %d\n", (int)b);
	send_fetch();
	return 0;
}

static int helper_main(const char *mode)
{
	static const uint8_t oversize[8] = { 2, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f };
	static const uint8_t half[10] = { 2, 0, 0, 0, 8, 0, 0, 0, 1, 0 };

	if (strcmp(mode, "ok") == 0) {
		send_fetch();
		return 0;
	}
	if (strcmp(mode, "silent") == 0)
		return 0;
	if (strcmp(mode, "exit3") == 0)
		return 3;
	if (strcmp(mode, "sigsys") == 0) {
		dprintf(2, "sandbox: denied system call socket (41)\n");
		signal(SIGSYS, SIG_DFL);
		raise(SIGSYS);
		return 0;
	}
	if (strcmp(mode, "oversize") == 0) {
		if (write(WORKER_MSG_FD, oversize, sizeof(oversize)) < 0)
			return 1;
		for (;;)
			pause(); /* the parent must kill it */
	}
	if (strcmp(mode, "truncated") == 0)
		return write(WORKER_MSG_FD, half, sizeof(half)) < 0;
	if (strcmp(mode, "noisy") == 0) {
		/* More than a pipe holds before its first message: the parent must read both. */
		for (int i = 0; i < 4000; i++)
			dprintf(2, "line %d with \x1b[31mcolour\x1b[0m and a tab\there, C1 \xc2\x9b"
				   "2J, RLO \xe2\x80\xae, a lone \x9b\n",
				i);
		/* One line longer than WORKER_LINE_MAX. */
		for (int i = 0; i < 3 * WORKER_LINE_MAX; i++)
			dprintf(2, "y");
		dprintf(2, "\n");
		send_fetch();
		return 0;
	}
	if (strcmp(mode, "sleeper") == 0 || strcmp(mode, "sleeper-holding") == 0)
		return leave_sleeper(strcmp(mode, "sleeper-holding") == 0);
	if (strcmp(mode, "input") == 0 || strcmp(mode, "no-input") == 0) {
		char buf[16] = "";
		bool has_input = strcmp(mode, "input") == 0;

		/* Descriptor 4 is what the parent handed over, or closed; nothing above it is open. */
		if (fcntl(WORKER_IN_FD + 1, F_GETFD) >= 0 || errno != EBADF)
			return 1;
		if (!has_input && (fcntl(WORKER_IN_FD, F_GETFD) >= 0 || errno != EBADF))
			return 1;
		if (has_input &&
		    (pread(WORKER_IN_FD, buf, sizeof(buf) - 1, 0) != 5 || strcmp(buf, "hello") != 0))
			return 1;
		send_fetch();
		return 0;
	}
	if (strcmp(mode, "hang") == 0) {
		for (;;)
			pause();
	}
	return 1;
}

struct run {
	int next; /* worker_next's first result that is not a message */
	int n_msgs;
	int finish;
	char msg[512];
	struct worker w;
};

static void run_mode_in(struct run *r, const char *mode, int in_fd, FILE *relay,
			double deadline_ms)
{
	char *argv[] = { "test_worker", (char *)mode, NULL };
	struct wire_msg m;

	memset(r, 0, sizeof(*r));
	assert_int_equal(worker_start(&r->w, SELF, argv, in_fd, "test worker", relay, deadline_ms),
			 0);
	while ((r->next = worker_next(&r->w, &m)) == 1)
		r->n_msgs++;
	r->finish = worker_finish(&r->w, r->next < 0);
	snprintf(r->msg, sizeof(r->msg), "%s", error_last());
}

static void run_mode(struct run *r, const char *mode, FILE *relay, double deadline_ms)
{
	run_mode_in(r, mode, -1, relay, deadline_ms);
}

static void the_input_descriptor_reaches_the_worker_alone(void **state)
{
	struct run r;
	int fd = memfd_create("test-input", MFD_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	run_mode_in(&r, "input", fd, NULL, 0);
	assert_int_equal(r.finish, 0);
	assert_int_equal(r.n_msgs, 2);
	close(fd);
	/* Without one, descriptor 4 is closed in the worker. */
	run_mode(&r, "no-input", NULL, 0);
	assert_int_equal(r.finish, 0);
	assert_int_equal(r.n_msgs, 2);
}

static void a_worker_s_messages_are_read_and_it_is_reaped(void **state)
{
	struct run r;

	(void)state;
	run_mode(&r, "ok", NULL, 0);
	assert_int_equal(r.n_msgs, 2);
	assert_int_equal(r.next, 0);
	assert_int_equal(r.finish, 0);
	assert_int_equal(r.w.pid, -1);
}

static void a_silent_worker_gives_no_message(void **state)
{
	struct run r;

	(void)state;
	run_mode(&r, "silent", NULL, 0);
	assert_int_equal(r.n_msgs, 0);
	assert_int_equal(r.next, 0);
	assert_int_equal(r.finish, 0);
}

static void a_worker_s_ending_is_told(void **state)
{
	struct run r;

	(void)state;
	run_mode(&r, "exit3", NULL, 0);
	assert_int_equal(r.finish, TRAWL_EIO);
	assert_string_equal(r.msg, "test worker exited with status 3");
	run_mode(&r, "sigsys", NULL, 0);
	assert_int_equal(r.finish, TRAWL_EIO);
	assert_int_equal(r.w.signal, SIGSYS);
	assert_string_equal(r.msg,
			    "test worker killed by the sandbox: denied system call socket (41)");
}

static void a_malformed_stream_is_refused_and_the_worker_killed(void **state)
{
	struct run r;

	(void)state;
	run_mode(&r, "oversize", NULL, 0);
	assert_int_equal(r.next, TRAWL_ELIMIT);
	assert_true(r.w.is_killed);
	assert_int_equal(r.w.signal, SIGKILL);
	run_mode(&r, "truncated", NULL, 0);
	assert_int_equal(r.next, TRAWL_ECORRUPT);
}

static void standard_error_is_relayed_cleaned_without_blocking(void **state)
{
	FILE *relay = tmpfile();
	char line[2 * WORKER_LINE_MAX];
	int n = 0;
	struct run r;

	(void)state;
	assert_non_null(relay);
	run_mode(&r, "noisy", relay, 0);
	assert_int_equal(r.n_msgs, 2);
	assert_int_equal(r.finish, 0);
	rewind(relay);
	while (fgets(line, sizeof(line), relay)) {
		size_t len = strlen(line);

		/* One cleaned line (util/term.h): no C0, C1 or bidi control, valid UTF-8, capped. */
		assert_true(len > 0 && line[len - 1] == '\n');
		assert_true(len <= WORKER_LINE_MAX);
		for (size_t i = 0; i + 1 < len; i++)
			assert_true((unsigned char)line[i] >= 0x20 && line[i] != 0x7f);
		assert_null(strstr(line, "\xc2\x9b"));
		assert_null(strstr(line, "\xe2\x80\xae"));
		assert_true(utf8_is_valid((const uint8_t *)line, len));
		if (n < 4000)
			assert_non_null(strstr(line, "\\x1b[31mcolour\\x1b[0m and a tab\\there, C1 "
						     "\\xc2\\x9b2J, RLO \\xe2\\x80\\xae, a lone \\x9b"));
		else
			assert_string_equal(line + len - 4, "...\n");
		n++;
	}
	assert_int_equal(n, 4001);
	fclose(relay);
}

static void a_hanging_worker_is_killed_at_its_deadline(void **state)
{
	struct run r;

	(void)state;
	run_mode(&r, "hang", NULL, clock_now_ms() + 200);
	assert_int_equal(r.next, TRAWL_ETIMEOUT);
	assert_int_equal(r.finish, TRAWL_EIO);
	assert_string_equal(r.msg, "test worker ran past its deadline");
}

/*
 * What a worker leaves behind is killed and reaped by worker_finish, before its caller reads
 * anything the worker wrote; one that holds its standard error open does not delay the end.
 */
static void check_sleeper_gone(const char *mode)
{
	FILE *relay = tmpfile();
	char line[64] = "", *end = NULL;
	long pid = 0;
	struct run r;

	assert_non_null(relay);
	run_mode(&r, mode, relay, clock_now_ms() + 60000);
	rewind(relay);
	assert_non_null(fgets(line, sizeof(line), relay));
	fclose(relay);
	assert_int_equal(strncmp(line, "sleeper ", 8), 0);
	pid = strtol(line + 8, &end, 10);
	assert_true(end != line + 8);
	assert_true(pid > 0);
	assert_int_equal(r.n_msgs, 2);
	assert_int_equal(r.finish, 0);
	/* Gone, not even a zombie: killed with the worker's group and reaped. */
	if (kill((pid_t)pid, 0) == 0) {
		kill((pid_t)pid, SIGKILL);
		fail_msg("%s: the worker's sleeper %ld outlived worker_finish", mode, pid);
	}
	assert_int_equal(errno, ESRCH);
}

static void what_a_worker_leaves_is_killed_and_reaped(void **state)
{
	(void)state;
	check_sleeper_gone("sleeper");
	check_sleeper_gone("sleeper-holding");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_worker_s_messages_are_read_and_it_is_reaped),
		cmocka_unit_test(a_silent_worker_gives_no_message),
		cmocka_unit_test(the_input_descriptor_reaches_the_worker_alone),
		cmocka_unit_test(a_worker_s_ending_is_told),
		cmocka_unit_test(a_malformed_stream_is_refused_and_the_worker_killed),
		cmocka_unit_test(standard_error_is_relayed_cleaned_without_blocking),
		cmocka_unit_test(a_hanging_worker_is_killed_at_its_deadline),
		cmocka_unit_test(what_a_worker_leaves_is_killed_and_reaped),
	};

	if (argc > 1)
		return helper_main(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
