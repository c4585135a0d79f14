/*
 * Running universal-ctags, confined, one file at a time; see ctags.h.
 *
 * The protocol (ctags' `--_interactive`): ctags first writes a "program" line; for each file
 * trawl writes `{"command":"generate-tags","filename":NAME,"size":N}` and a newline, then the
 * N bytes; ctags answers with one JSON object a line, `"_type": "tag"` for each symbol, and
 * `"_type": "completed"` at the end of the file. Standard input and output are one socket
 * (as in sandbox/child.c), so writing to a ctags that died gives an error, not SIGPIPE.
 */
#include "symbols/ctags.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/child.h"
#include "sandbox/confine.h"
#include "symbols/ctags_int.h"
#include "util/clock.h"
#include "util/error.h"

#define NAME_MAX_SENT 128 /* bytes of the base name given to ctags */
#define LINE_MAX_READ ((size_t)64 << 10) /* a longer line is more than a symbol: dropped */
#define START_MS 10000.0 /* ctags' first line, at most this late */

struct ctags {
	struct ctags_opts o;
	pid_t pid;     /* 0 when not running */
	int fd;        /* our end of its standard input and output */
	uint32_t launch_id; /* its id for the launcher (o.launcher) */
	char *rbuf;    /* what was read and not yet handled */
	size_t rlen, rcap;
	unsigned failures;
	bool is_given_up; /* could not be started, or failed too often */
};

int ctags_new(struct ctags **out, const struct ctags_opts *o)
{
	struct ctags *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return error_nomem("starting ctags");
	c->o = *o;
	if (c->o.timeout_ms <= 0)
		c->o.timeout_ms = CTAGS_TIMEOUT_MS_DEFAULT;
	if (c->o.max_output == 0)
		c->o.max_output = CTAGS_MAX_OUTPUT_DEFAULT;
	c->fd = -1;
	*out = c;
	return 0;
}

unsigned ctags_failures(const struct ctags *c)
{
	return c->failures;
}

void ctags_next_repository(struct ctags *c)
{
	if (c->failures >= CTAGS_MAX_FAILURES)
		c->is_given_up = false; /* given up on the last repository's files, not on ctags */
	c->failures = 0;
}

int ctags_pid(const struct ctags *c)
{
	return (int)c->pid;
}

static void stop(struct ctags *c)
{
	int status;

	/* Through a launcher, the launcher kills it (it is not our child). */
	if (c->pid > 0 && c->o.launcher) {
		ctags_launcher_kill(c->o.launcher, c->launch_id);
	} else if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		sandbox_wait(&status, c->pid, 0);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->pid = 0;
	c->fd = -1;
	c->rlen = 0;
}

void ctags_free(struct ctags *c)
{
	if (!c)
		return;
	stop(c);
	free(c->rbuf);
	free(c);
}

/* Reads what is there into rbuf (at most LINE_MAX_READ past what is held). 0, or 1 at EOF. */
static int fill(struct ctags *c, size_t *got)
{
	ssize_t n;

	*got = 0;
	if (c->rcap - c->rlen < 65536) {
		size_t cap = c->rcap ? c->rcap * 2 : 131072;
		char *p;

		if (cap > LINE_MAX_READ * 4)
			cap = c->rcap + 65536;
		p = realloc(c->rbuf, cap);
		if (!p)
			return error_nomem("reading ctags' output");
		c->rbuf = p;
		c->rcap = cap;
	}
	n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return 1;
	c->rlen += (size_t)n;
	*got = (size_t)n;
	return 0;
}

/* Waits for fd to be ready for events until deadline: 1 ready, 0 deadline passed. */
static int wait_fd(int fd, short events, double deadline, short *revents)
{
	for (;;) {
		double left = deadline - clock_now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 1000 ? 1000 : (int)left + 1);
		if (r > 0) {
			*revents = p.revents;
			return 1;
		}
		if (r < 0 && errno != EINTR)
			return 0;
	}
}

int ctags_spawn(pid_t *pid, int *fd, const char *helper)
{
	char *argv[] = { "trawl", "__ctags", NULL };
	char parent_env[64];
#ifdef TRAWL_TEST_HOOKS
	/* SECURITY: the fake ctags of the tests exists only in the test builds (HOOK_SRC). */
	const char *test = getenv("TRAWL_TEST_CTAGS");
	char test_env[4096];
#endif
	char *envp[] = { "LC_ALL=C", "PATH=/usr/bin:/bin", parent_env, NULL, NULL };
	int sv[2], fds[3];
	int err;

	*fd = -1;
	snprintf(parent_env, sizeof(parent_env), "TRAWL_CTAGS_PARENT=%ld", (long)getpid());
#ifdef TRAWL_TEST_HOOKS
	if (test && *test && snprintf(test_env, sizeof(test_env), "TRAWL_TEST_CTAGS=%s", test) <
				     (int)sizeof(test_env))
		envp[3] = test_env;
#endif
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		error_set("ctags: cannot make a socket pair: %s", strerror(errno));
		return TRAWL_EIO;
	}
	fds[0] = sv[1];
	fds[1] = sv[1];
	fds[2] = -1;
	err = sandbox_spawn_fds(pid, helper ? helper : "/proc/self/exe", argv, envp, fds, 3);
	close(sv[1]);
	if (err < 0) {
		close(sv[0]);
		return err;
	}
	*fd = sv[0];
	return 0;
}

static int start(struct ctags *c)
{
	const char *helper = c->o.helper ? c->o.helper : "/proc/self/exe";
	double deadline = clock_now_ms() + START_MS;
	int err;

	if (c->o.launcher)
		err = ctags_launcher_spawn(c->o.launcher, &c->launch_id, &c->pid, &c->fd);
	else
		err = ctags_spawn(&c->pid, &c->fd, c->o.helper);
	if (err < 0) {
		c->pid = 0;
		stop(c);
		return err;
	}
	/* Its first line says it runs (the program line): anything else is a failed start. */
	for (;;) {
		char *nl = c->rlen ? memchr(c->rbuf, '\n', c->rlen) : NULL;
		short rev;
		size_t got;

		if (nl) {
			bool is_program = memmem(c->rbuf, (size_t)(nl - c->rbuf), "\"program\"", 9);

			c->rlen -= (size_t)(nl + 1 - c->rbuf);
			memmove(c->rbuf, nl + 1, c->rlen);
			if (is_program)
				return 0;
			break;
		}
		if (!wait_fd(c->fd, POLLIN, deadline, &rev) || (err = fill(c, &got)) != 0)
			break;
		if (c->rlen >= LINE_MAX_READ)
			break;
	}
	stop(c);
	error_set("ctags: could not be started (%s)", helper);
	return err < 0 ? err : TRAWL_EIO;
}

/* The request line for a file of len bytes named after path's base name. */
static int request(char *out, size_t cap, const char *path, size_t path_len, size_t len)
{
	const char *base = path;
	char name[NAME_MAX_SENT + 1];
	size_t n = 0;
	int w;

	for (size_t i = 0; i < path_len; i++)
		if (path[i] == '/')
			base = path + i + 1;
	path_len -= (size_t)(base - path);
	/* The end of the name holds its extension: keep that. */
	if (path_len > NAME_MAX_SENT) {
		base += path_len - NAME_MAX_SENT;
		path_len = NAME_MAX_SENT;
	}
	/* SECURITY: only a plain name goes into the JSON (and ctags never opens it). */
	for (size_t i = 0; i < path_len; i++) {
		unsigned char ch = (unsigned char)base[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' ||
			  ch == '+';

		name[n++] = ok ? (char)ch : '_';
	}
	if (n == 0)
		name[n++] = '_';
	name[n] = '\0';
	w = snprintf(out, cap, "{\"command\":\"generate-tags\",\"filename\":\"%s\",\"size\":%zu}\n",
		     name, len);
	return w > 0 && (size_t)w < cap ? w : -1;
}

static const char *jstr(json_t *o, const char *key, size_t *len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v)) {
		*len = 0;
		return NULL;
	}
	*len = json_string_length(v);
	return json_string_value(v);
}

/*
 * One line of output: a tag is added to b; *is_done when it was the end of the file; a warning
 * is passed over. A line that is not JSON, or an unexpected type (an error that is not a
 * warning included), is ctags misbehaving: ECORRUPT (the file fails).
 */
static int handle_line(struct symsec_builder *b, const char *line, size_t len, bool *is_done)
{
	json_error_t jerr;
	json_t *o = json_loadb(line, len, 0, &jerr);
	const char *type;
	size_t tl;
	int err = 0;

	*is_done = false;
	if (!o)
		return TRAWL_ECORRUPT;
	type = jstr(o, "_type", &tl);
	if (type && strcmp(type, "completed") == 0) {
		*is_done = true;
	} else if (type && strcmp(type, "tag") == 0) {
		struct symsec_in s = { 0 };
		size_t kl, ll, skl;
		json_t *line_no = json_object_get(o, "line");

		s.name = jstr(o, "name", &s.name_len);
		s.kind = jstr(o, "kind", &kl);
		s.lang = jstr(o, "language", &ll);
		s.scope = jstr(o, "scope", &s.scope_len);
		s.scope_kind = jstr(o, "scopeKind", &skl);
		s.signature = jstr(o, "signature", &s.signature_len);
		if (json_is_integer(line_no) && json_integer_value(line_no) > 0 &&
		    json_integer_value(line_no) <= UINT32_MAX)
			s.line = (uint32_t)json_integer_value(line_no);
		/* Strings with a NUL (jansson refuses \u0000 by default) never get here. */
		if (s.name)
			err = symsec_builder_add(b, &s);
	} else if (type && strcmp(type, "error") == 0 &&
		   json_is_true(json_object_get(o, "warning"))) {
		/*
		 * A warning about one construct of the file (JavaScript's "ignoring null tag"):
		 * ctags goes on, and the file's other symbols stand.
		 */
	} else {
		err = TRAWL_ECORRUPT;
	}
	json_decref(o);
	return err;
}

/* The file failed: nothing of it is kept, ctags is stopped (started again for the next). */
static enum symsec_status fail(struct ctags *c, struct symsec_builder *b, enum symsec_status st)
{
	stop(c);
	symsec_builder_doc_fail(b, st);
	if (++c->failures >= CTAGS_MAX_FAILURES)
		c->is_given_up = true;
	return st;
}

int ctags_extract(enum symsec_status *st, struct ctags *c, struct symsec_builder *b,
		  const char *path, size_t path_len, const uint8_t *content, size_t len)
{
	char req[256];
	int req_len = request(req, sizeof(req), path, path_len, len);
	double deadline;
	size_t sent = 0, total = (size_t)(req_len > 0 ? req_len : 0) + len, out_bytes = 0;
	bool is_done = false;
	int err;

	*st = SYMSEC_UNAVAILABLE;
	if (c->is_given_up || req_len < 0) {
		symsec_builder_doc_fail(b, SYMSEC_UNAVAILABLE);
		return 0;
	}
	if (c->pid == 0 && start(c) < 0) {
		/* A ctags that cannot start once will not start for the next file either. */
		c->is_given_up = true;
		symsec_builder_doc_fail(b, SYMSEC_UNAVAILABLE);
		return 0;
	}
	deadline = clock_now_ms() + c->o.timeout_ms;
	while (!is_done) {
		short rev = 0;
		size_t got;
		char *nl;

		if (!wait_fd(c->fd, (short)(POLLIN | (sent < total ? POLLOUT : 0)), deadline, &rev)) {
			*st = fail(c, b, SYMSEC_TIMEOUT);
			return 0;
		}
		if ((rev & POLLOUT) && sent < total) {
			const void *p = sent < (size_t)req_len ? (const void *)(req + sent)
							       : (const void *)(content + sent - (size_t)req_len);
			size_t n = sent < (size_t)req_len ? (size_t)req_len - sent : total - sent;
			ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				*st = fail(c, b, SYMSEC_CRASHED);
				return 0;
			}
			if (w > 0)
				sent += (size_t)w;
		}
		if (!(rev & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if ((err = fill(c, &got)) < 0)
			return err;
		if (err == 1) {
			*st = fail(c, b, SYMSEC_CRASHED);
			return 0;
		}
		out_bytes += got;
		if (out_bytes > c->o.max_output) {
			*st = fail(c, b, SYMSEC_TOO_MUCH);
			return 0;
		}
		while (!is_done && (nl = memchr(c->rbuf, '\n', c->rlen))) {
			size_t line_len = (size_t)(nl - c->rbuf);

			err = handle_line(b, c->rbuf, line_len, &is_done);
			c->rlen -= line_len + 1;
			memmove(c->rbuf, nl + 1, c->rlen);
			/* ELIMIT: the shard's symbol tables are full; this file goes without. */
			if (err == TRAWL_ECORRUPT || err == TRAWL_ELIMIT) {
				*st = fail(c, b, err == TRAWL_ELIMIT ? SYMSEC_TOO_MUCH
								     : SYMSEC_CRASHED);
				return 0;
			}
			if (err < 0)
				return err;
		}
		if (c->rlen >= LINE_MAX_READ) {
			*st = fail(c, b, SYMSEC_TOO_MUCH);
			return 0;
		}
	}
	if (c->rlen) {
		/* Nothing may follow the end of a file's answer. */
		*st = fail(c, b, SYMSEC_CRASHED);
		return 0;
	}
	*st = SYMSEC_OK;
	return 0;
}

bool ctags_installed(void)
{
	return access(ctags_program(), X_OK) == 0;
}

const char *ctags_program(void)
{
#ifdef TRAWL_TEST_HOOKS
	const char *test = getenv("TRAWL_TEST_CTAGS");

	if (test && *test)
		return test;
#endif
	return CTAGS_PATH;
}

size_t ctags_read_paths(const char *paths[3], const char *program)
{
	paths[0] = program;
	/* A test's fake ctags is a script: its interpreter lives in /usr/bin. */
	paths[1] = "/usr/bin";
	paths[2] = "/bin";
	return strcmp(program, CTAGS_PATH) != 0 ? 3 : 1;
}

int ctags_exec_confined(const char *program, pid_t parent)
{
	const char *read[3];
	char *argv[] = { "ctags", "--options=NONE", "--_interactive=sandbox",
			 "--fields=-P-f-t+n+l+S+s+Z+K", NULL };
	char *envp[] = { "LC_ALL=C", NULL };
	struct confine_spec spec = { .role = CONFINE_CTAGS, .read_paths = read, .report_fd = 2 };

	spec.n_read = ctags_read_paths(read, program);
	return confine_exec(&spec, parent, program, argv, envp);
}

int ctags_helper_main(void)
{
	/* The process that started this helper: if it is gone already, stop. */
	const char *parent = getenv("TRAWL_CTAGS_PARENT");

	ctags_exec_confined(ctags_program(), parent ? (pid_t)strtol(parent, NULL, 10) : 0);
	fprintf(stderr, "trawl: ctags: %s\n", error_last());
	return 127;
}
