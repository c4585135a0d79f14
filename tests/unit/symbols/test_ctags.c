/*
 * Symbols from the real, confined universal-ctags (src/symbols/ctags.c): the definitions of
 * nine languages, the confinement of the process, a repository's ctags options ignored, and
 * a ctags that hangs, crashes, writes too much or cannot start (a fake ctags, TRAWL_TEST_CTAGS,
 * for the first two). This program is its own helper: run as "PROGRAM __ctags" it becomes
 * ctags as `trawl __ctags` does.
 *
 * valgrind: no (the helper is /proc/self/exe, which under Valgrind is Valgrind's own tool)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "symbols/ctags.h"
#include "symbols/symsec.h"
#include "unit/testlib.h"
#include "util/error.h"

struct run {
	struct symsec_builder *b;
	uint32_t doc;
	struct buf out;
	struct symsec s;
};

static void run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(symsec_builder_new(&r->b), 0);
	buf_init(&r->out, UINT32_MAX);
}

static enum symsec_status extract(struct run *r, struct ctags *c, const char *path,
				  const char *src, size_t len)
{
	enum symsec_status st;

	assert_int_equal(symsec_builder_doc(r->b, r->doc++, SYMSEC_OK), 0);
	assert_int_equal(ctags_extract(&st, c, r->b, path, strlen(path), (const uint8_t *)src, len),
			 0);
	return st;
}

static void run_finish(struct run *r)
{
	uint32_t count;

	assert_int_equal(symsec_builder_finish(r->b, &r->out, &count, r->doc), 0);
	assert_int_equal(symsec_open(&r->s, (const uint8_t *)r->out.ptr, r->out.len, count, r->doc),
			 0);
	assert_int_equal(symsec_verify(&r->s), 0);
}

static void run_dispose(struct run *r)
{
	symsec_builder_free(r->b);
	buf_dispose(&r->out);
}

struct find {
	const char *kind;
	uint32_t doc;
	bool found;
	char scope[64];
};

static int on_sym(void *arg, const struct symsec_sym *y)
{
	struct find *f = arg;

	if (y->doc == f->doc && y->kind_len == strlen(f->kind) &&
	    memcmp(y->kind, f->kind, y->kind_len) == 0) {
		f->found = true;
		snprintf(f->scope, sizeof(f->scope), "%.*s", (int)y->scope_len,
			 y->scope ? y->scope : "");
	}
	return 0;
}

static bool has_symbol(const struct run *r, uint32_t doc, const char *name, const char *kind)
{
	struct find f = { .kind = kind, .doc = doc };

	assert_int_equal(symsec_lookup(&r->s, name, strlen(name), SYMSEC_EXACT, NULL, NULL, on_sym,
				       &f), 0);
	return f.found;
}

struct fixture {
	const char *path, *src;
	const char *names[4][2]; /* name, kind */
};

static const struct fixture fixtures[] = {
	{ "src/point.c",
	  "#define MAX 10\nstruct point { int x; };\nint add(int a, int b) { return a + b; }\n",
	  { { "MAX", "macro" }, { "point", "struct" }, { "x", "member" }, { "add", "function" } } },
	{ "geo/shape.cpp",
	  "namespace geo {\nclass Shape {\npublic:\n  double area() const { return 0; }\n};\n}\n",
	  { { "geo", "namespace" }, { "Shape", "class" }, { "area", "function" } } },
	{ "cmd/main.go",
	  "package main\n\nfunc Hello() string { return \"hi\" }\n\ntype Server struct {\n"
	  "\tAddr string\n}\n",
	  { { "main", "package" }, { "Hello", "func" }, { "Server", "struct" } } },
	{ "app/greet.py", "class Greeter:\n    def greet(self):\n        pass\n\ndef main():\n    pass\n",
	  { { "Greeter", "class" }, { "greet", "member" }, { "main", "function" } } },
	{ "web/widget.js", "function hello() {}\nclass Widget {\n  render() {}\n}\n",
	  { { "hello", "function" }, { "Widget", "class" }, { "render", "method" } } },
	{ "web/shape.ts",
	  "interface Shape {\n  area(): number;\n}\nexport function total(): number { return 0; }\n",
	  { { "Shape", "interface" }, { "total", "function" } } },
	{ "src/App.java", "public class App {\n  public static void main(String[] a) {}\n}\n",
	  { { "App", "class" }, { "main", "method" } } },
	{ "src/config.rs", "pub struct Config {\n    pub name: String,\n}\nfn parse() -> Config {\n"
	  "    todo!()\n}\n",
	  { { "Config", "struct" }, { "parse", "function" } } },
	{ "lib/account.rb", "class Account\n  def deposit(x)\n  end\nend\nmodule Bank\nend\n",
	  { { "Account", "class" }, { "deposit", "method" }, { "Bank", "module" } } },
};

static void languages_give_their_definitions(void **state)
{
	struct ctags_opts o = { 0 };
	struct ctags *c = NULL;
	struct run r;
	size_t n = sizeof(fixtures) / sizeof(fixtures[0]);

	(void)state;
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(extract(&r, c, fixtures[i].path, fixtures[i].src,
					 strlen(fixtures[i].src)), SYMSEC_OK);
	run_finish(&r);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < 4 && fixtures[i].names[k][0]; k++)
			if (!has_symbol(&r, (uint32_t)i, fixtures[i].names[k][0],
					fixtures[i].names[k][1]))
				fail_msg("%s: no %s %s", fixtures[i].path, fixtures[i].names[k][1],
					 fixtures[i].names[k][0]);
	/* One process served every file. */
	assert_int_equal(ctags_failures(c), 0);
	ctags_free(c);
	run_dispose(&r);
}

static void symbols_carry_scope_line_and_signature(void **state)
{
	static const char src[] = "class Greeter:\n    def greet(self, who):\n        pass\n";
	struct ctags_opts o = { 0 };
	struct ctags *c = NULL;
	struct run r;
	struct symsec_sym y;
	bool is_seen = false;

	(void)state;
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	assert_int_equal(extract(&r, c, "g.py", src, strlen(src)), SYMSEC_OK);
	run_finish(&r);
	for (uint32_t i = 0; i < r.s.n_symbols; i++) {
		assert_int_equal(symsec_symbol(&y, &r.s, i), 0);
		if (y.name_len != 5 || memcmp(y.name, "greet", 5) != 0)
			continue;
		is_seen = true;
		assert_int_equal(y.line, 2);
		assert_non_null(y.scope);
		assert_memory_equal(y.scope, "Greeter", 7);
		assert_non_null(y.scope_kind);
		assert_memory_equal(y.scope_kind, "class", 5);
		assert_non_null(y.signature);
		assert_memory_equal(y.signature, "(self, who)", 11);
		assert_memory_equal(y.lang, "Python", 6);
	}
	assert_true(is_seen);
	ctags_free(c);
	run_dispose(&r);
}

/* The value of "Key:" in /proc/PID/status, or -1. */
static long proc_status(int pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

static void ctags_runs_confined(void **state)
{
	static const char src[] = "int f(void) { return 0; }\n";
	struct ctags_opts o = { 0 };
	struct ctags *c = NULL;
	struct run r;
	char exe[256] = "", link[64];
	ssize_t n;
	int pid;

	(void)state;
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	assert_int_equal(ctags_pid(c), 0); /* started with the first file */
	assert_int_equal(extract(&r, c, "f.c", src, strlen(src)), SYMSEC_OK);
	pid = ctags_pid(c);
	assert_true(pid > 0);
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	{
		char *real = realpath(CTAGS_PATH, NULL); /* Debian: an alternatives symlink */

		assert_non_null(real);
		assert_string_equal(exe, real);
		free(real);
	}
	assert_int_equal(proc_status(pid, "NoNewPrivs:"), 1);
	assert_int_equal(proc_status(pid, "Seccomp:"), 2);
	assert_int_equal(proc_status(pid, "PPid:"), getpid());
	ctags_free(c);
	run_dispose(&r);
}

static void repository_ctags_options_are_ignored(void **state)
{
	static const char src[] = "int f(void) { return 0; }\nEVIL_LINE\n";
	const char *dir = testlib_path("repo-opts");
	char cwd[4096];
	struct ctags_opts o = { 0 };
	struct ctags *c = NULL;
	struct run r;
	struct find f = { .kind = "evil", .doc = 0 };

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(testlib_path("repo-opts/.ctags.d"), 0700), 0);
	/* A regex parser that would turn every line of a C file into a symbol of kind "evil". */
	testlib_write_file(testlib_path("repo-opts/.ctags.d"), "evil.ctags",
			   "--regex-C=/^(EVIL_[A-Z]+)/\\1/e,evil/\n");
	testlib_write_file(dir, ".ctags", "--regex-C=/^(EVIL_[A-Z]+)/\\1/e,evil/\n");
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(setenv("HOME", dir, 1), 0);
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	assert_int_equal(extract(&r, c, "f.c", src, strlen(src)), SYMSEC_OK);
	assert_int_equal(chdir(cwd), 0);
	run_finish(&r);
	assert_true(has_symbol(&r, 0, "f", "function"));
	assert_int_equal(symsec_lookup(&r.s, "EVIL_LINE", 9, SYMSEC_EXACT, NULL, NULL, on_sym, &f),
			 0);
	assert_false(f.found);
	assert_int_equal(symsec_lookup(&r.s, "", 0, SYMSEC_PREFIX, NULL, NULL, on_sym, &f), 0);
	assert_false(f.found);
	ctags_free(c);
	run_dispose(&r);
}

static void names_with_controls_and_html_are_kept_as_bytes(void **state)
{
	static const char src[] = "# <img src=x onerror=alert(1)>\n\ntext\n\n## a\x01" "b\x1b[2J\n\nmore\n";
	struct ctags_opts o = { 0 };
	struct ctags *c = NULL;
	struct run r;

	(void)state;
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	assert_int_equal(extract(&r, c, "README.md", src, strlen(src)), SYMSEC_OK);
	run_finish(&r);
	assert_true(has_symbol(&r, 0, "<img src=x onerror=alert(1)>", "chapter"));
	assert_true(has_symbol(&r, 0, "a\x01" "b\x1b[2J", "section"));
	ctags_free(c);
	run_dispose(&r);
}

/*
 * A fake ctags: a script for shell (builtins only: it may not run another program) that
 * announces itself, reads the request line, then runs body.
 */
static const char *fake_in(const char *name, const char *shell, const char *body)
{
	char text[2048];
	const char *path = testlib_path(name);

	snprintf(text, sizeof(text), "#!%s\necho '{\"_type\": \"program\", \"name\": \"fake\"}'\n"
		 "read req\n%s", shell, body);
	testlib_write_file(testlib_tmpdir(), name, text);
	assert_int_equal(chmod(path, 0755), 0);
	return path;
}

static const char *fake(const char *name, const char *body)
{
	return fake_in(name, "/bin/sh", body);
}

static void hanging_ctags_times_out_and_is_replaced(void **state)
{
	static const char src[] = "int f(void) { return 0; }\n";
	struct ctags_opts o = { .timeout_ms = 300 };
	struct ctags *c = NULL;
	struct run r;
	int pid;

	(void)state;
	assert_int_equal(setenv("TRAWL_TEST_CTAGS", fake("spin.sh", "while :; do :; done\n"), 1),
			 0);
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	assert_int_equal(extract(&r, c, "f.c", src, strlen(src)), SYMSEC_TIMEOUT);
	assert_int_equal(ctags_pid(c), 0); /* killed and reaped */
	assert_int_equal(ctags_failures(c), 1);
	assert_int_equal(unsetenv("TRAWL_TEST_CTAGS"), 0);
	assert_int_equal(extract(&r, c, "f.c", src, strlen(src)), SYMSEC_OK);
	pid = ctags_pid(c);
	assert_true(pid > 0);
	run_finish(&r);
	assert_false(has_symbol(&r, 0, "f", "function"));
	assert_true(has_symbol(&r, 1, "f", "function"));
	ctags_free(c);
	assert_int_equal(kill(pid, 0), -1); /* ctags_free stopped it */
	run_dispose(&r);
}

static void crashing_ctags_fails_the_file_only(void **state)
{
	static const char src[] = "int f(void) { return 0; }\n";
	struct ctags_opts o = { 0 };
	struct ctags *c = NULL;
	struct run r;
	uint32_t first, n;
	enum symsec_status st;

	(void)state;
	/* It answers with half a symbol, then dies (kill is a forbidden call: SIGSYS). */
	assert_int_equal(setenv("TRAWL_TEST_CTAGS",
				fake("crash.sh", "printf '{\"_type\": \"tag\", \"name\": \"hal'\n"
						 "kill -9 $$\n"), 1), 0);
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	assert_int_equal(extract(&r, c, "f.c", src, strlen(src)), SYMSEC_CRASHED);
	assert_int_equal(unsetenv("TRAWL_TEST_CTAGS"), 0);
	assert_int_equal(extract(&r, c, "f.c", src, strlen(src)), SYMSEC_OK);
	run_finish(&r);
	assert_int_equal(symsec_doc(&first, &n, &st, &r.s, 0), 0);
	assert_int_equal(st, SYMSEC_CRASHED);
	assert_int_equal(n, 0);
	assert_true(has_symbol(&r, 1, "f", "function"));
	ctags_free(c);
	run_dispose(&r);
}

static void a_warning_keeps_the_files_symbols(void **state)
{
	static const char src[] = "int f(void) { return 0; }\n";
	struct ctags_opts o = { 0 };
	struct ctags *c = NULL;
	struct run r;

	(void)state;
	/*
	 * What ctags says of some JavaScript; an error that is no warning still fails the file.
	 * The fake reads each file's one line before it answers, so no answer runs ahead.
	 */
	assert_int_equal(
		setenv("TRAWL_TEST_CTAGS",
		       fake("warn.sh",
			    "read content\n"
			    "echo '{\"_type\": \"error\", \"message\": \"ignoring null tag in "
			    "f.c(line: 1)\", \"warning\": true}'\n"
			    "echo '{\"_type\": \"tag\", \"name\": \"f\", \"kind\": "
			    "\"function\", \"line\": 1, \"language\": \"C\"}'\n"
			    "echo '{\"_type\": \"completed\", \"command\": \"generate-tags\"}'\n"
			    "read req\n"
			    "read content\n"
			    "echo '{\"_type\": \"error\", \"message\": \"broken\"}'\n"
			    "echo '{\"_type\": \"completed\", \"command\": \"generate-tags\"}'\n"
			    "while :; do read req; done\n"),
		       1),
		0);
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	assert_int_equal(extract(&r, c, "f.c", src, strlen(src)), SYMSEC_OK);
	assert_int_equal(extract(&r, c, "g.c", src, strlen(src)), SYMSEC_CRASHED);
	assert_int_equal(unsetenv("TRAWL_TEST_CTAGS"), 0);
	run_finish(&r);
	assert_true(has_symbol(&r, 0, "f", "function"));
	ctags_free(c);
	run_dispose(&r);
}

static void ctags_cannot_read_files(void **state)
{
	static const char src[] = "int f;\n";
	char body[1024];
	struct ctags_opts o = { 0 };
	struct ctags *c = NULL;
	struct run r;

	(void)state;
	testlib_write_file(testlib_tmpdir(), "secret.txt", "secret\n");
	snprintf(body, sizeof(body),
		 "if read l < '%s' 2>/dev/null; then n=readable; else n=denied; fi\n"
		 "echo \"{\\\"_type\\\": \\\"tag\\\", \\\"name\\\": \\\"$n\\\", \\\"kind\\\": "
		 "\\\"probe\\\", \\\"language\\\": \\\"C\\\", \\\"line\\\": 1}\"\n"
		 "echo '{\"_type\": \"completed\", \"command\": \"generate-tags\"}'\n"
		 "while read x; do :; done\n",
		 testlib_path("secret.txt"));
	assert_int_equal(setenv("TRAWL_TEST_CTAGS", fake("probe.sh", body), 1), 0);
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	assert_int_equal(extract(&r, c, "f.c", src, strlen(src)), SYMSEC_OK);
	assert_int_equal(unsetenv("TRAWL_TEST_CTAGS"), 0);
	run_finish(&r);
	assert_true(has_symbol(&r, 0, "denied", "probe"));
	assert_false(has_symbol(&r, 0, "readable", "probe"));
	ctags_free(c);
	run_dispose(&r);
}

/*
 * A second execve (another program) kills it: the fake gets the request and replaces itself
 * (exec, no fork: fork is denied anyway) with printf, which would answer with a "ran" symbol.
 */
static void ctags_cannot_run_another_program(void **state)
{
	/*
	 * First without the call (it runs, "ran" is there), then with it. (bash, for /dev/tcp,
	 * cannot even start: its user lookup opens a socket and is killed, under strace
	 * "si_syscall=__NR_socket"; whether it does depends on the machine's NSS, so it is not
	 * a test.)
	 */
	static const char *const tries[][3] = {
		{ "sh-ok.sh", "/bin/sh", ":\n" },
		{ "exec.sh", "/bin/sh",
		  "exec /usr/bin/printf '%s\\n%s\\n' '{\"_type\": \"tag\", \"name\": \"ran\", "
		  "\"kind\": \"k\", \"language\": \"C\", \"line\": 1}' '{\"_type\": "
		  "\"completed\", \"command\": \"generate-tags\"}'\n" },
	};
	char body[512];
	struct ctags_opts o = { 0 };
	struct ctags *c = NULL;
	enum symsec_status st;
	struct run r;

	(void)state;
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	for (size_t i = 0; i < sizeof(tries) / sizeof(*tries); i++) {
		const char *path;

		snprintf(body, sizeof(body),
			 "%secho '{\"_type\": \"tag\", \"name\": \"ran\", \"kind\": \"k\", "
			 "\"language\": \"C\", \"line\": 1}'\n"
			 "echo '{\"_type\": \"completed\", \"command\": \"generate-tags\"}'\n"
			 "while read x; do :; done\n", tries[i][2]);
		path = fake_in(tries[i][0], tries[i][1], body);
		assert_int_equal(setenv("TRAWL_TEST_CTAGS", path, 1), 0);
		st = extract(&r, c, "f.c", "int f;\n", 7);
		if (st != (i % 2 ? SYMSEC_CRASHED : SYMSEC_OK))
			fail_msg("%s: status %d (%s)", tries[i][0], (int)st, error_last());
		ctags_free(c); /* the fake reads on after its answer: a fresh one per try */
		assert_int_equal(ctags_new(&c, &o), 0);
	}
	assert_int_equal(unsetenv("TRAWL_TEST_CTAGS"), 0);
	run_finish(&r);
	for (uint32_t i = 0; i < 2; i++)
		assert_int_equal(has_symbol(&r, i, "ran", "k"), i % 2 == 0);
	ctags_free(c);
	run_dispose(&r);
}

static void too_much_output_fails_the_file(void **state)
{
	struct ctags_opts o = { .max_output = 300 };
	struct ctags *c = NULL;
	struct run r;
	char src[4096];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 60; i++)
		n += (size_t)snprintf(src + n, sizeof(src) - n, "int f%d(void) { return 0; }\n", i);
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	assert_int_equal(extract(&r, c, "many.c", src, n), SYMSEC_TOO_MUCH);
	assert_int_equal(extract(&r, c, "one.c", "int g;\n", 7), SYMSEC_OK);
	run_finish(&r);
	assert_true(has_symbol(&r, 1, "g", "variable"));
	ctags_free(c);
	run_dispose(&r);
}

static void ctags_is_given_up_after_repeated_failures(void **state)
{
	struct ctags_opts o = { 0 };
	struct ctags *c = NULL;
	struct run r;

	(void)state;
	assert_int_equal(setenv("TRAWL_TEST_CTAGS", fake("die.sh", "kill -9 $$\n"), 1), 0);
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	for (int i = 0; i < CTAGS_MAX_FAILURES; i++)
		assert_int_equal(extract(&r, c, "f.c", "int f;\n", 7), SYMSEC_CRASHED);
	assert_int_equal(unsetenv("TRAWL_TEST_CTAGS"), 0);
	assert_int_equal(extract(&r, c, "f.c", "int f;\n", 7), SYMSEC_UNAVAILABLE);
	assert_int_equal(ctags_pid(c), 0);
	ctags_free(c);
	run_dispose(&r);
}

static void missing_ctags_is_unavailable(void **state)
{
	struct ctags_opts o = { 0 };
	struct ctags *c = NULL;
	struct run r;

	(void)state;
	assert_int_equal(setenv("TRAWL_TEST_CTAGS", "/nonexistent/ctags", 1), 0);
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	assert_int_equal(extract(&r, c, "f.c", "int f;\n", 7), SYMSEC_UNAVAILABLE);
	assert_int_equal(unsetenv("TRAWL_TEST_CTAGS"), 0);
	/* Given up for the run: not started again for every file. */
	assert_int_equal(extract(&r, c, "f.c", "int f;\n", 7), SYMSEC_UNAVAILABLE);
	ctags_free(c);
	run_dispose(&r);
}

/* 50 MB of C: ctags fails on it (too much output, too long, or out of memory), the next is served. */
static void fifty_megabytes_fail_alone(void **state)
{
	const size_t size = (size_t)50 << 20;
	struct ctags_opts o = { .timeout_ms = 3000 };
	struct ctags *c = NULL;
	char *src = malloc(size);
	enum symsec_status st;
	struct run r;
	size_t n = 0;

	(void)state;
	assert_non_null(src);
	for (unsigned i = 0; n + 32 < size; i++)
		n += (size_t)snprintf(src + n, size - n, "int v%u;\n", i);
	assert_int_equal(ctags_new(&c, &o), 0);
	run_init(&r);
	st = extract(&r, c, "huge.c", src, n);
	/*
	 * Which limit ends it depends on the machine's speed: the output cap, the deadline, or the
	 * helper's 2 GiB of address space (ctags keeps a file's millions of tags until its end
	 * and dies: CRASHED). Any of them fails this file alone.
	 */
	assert_true(st == SYMSEC_TOO_MUCH || st == SYMSEC_TIMEOUT || st == SYMSEC_CRASHED);
	assert_int_equal(extract(&r, c, "one.c", "int g;\n", 7), SYMSEC_OK);
	ctags_free(c);
	run_dispose(&r);
	free(src);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(languages_give_their_definitions),
		cmocka_unit_test(symbols_carry_scope_line_and_signature),
		cmocka_unit_test(ctags_runs_confined),
		cmocka_unit_test(repository_ctags_options_are_ignored),
		cmocka_unit_test(names_with_controls_and_html_are_kept_as_bytes),
		cmocka_unit_test(hanging_ctags_times_out_and_is_replaced),
		cmocka_unit_test(crashing_ctags_fails_the_file_only),
		cmocka_unit_test(a_warning_keeps_the_files_symbols),
		cmocka_unit_test(ctags_cannot_read_files),
		cmocka_unit_test(ctags_cannot_run_another_program),
		cmocka_unit_test(too_much_output_fails_the_file),
		cmocka_unit_test(ctags_is_given_up_after_repeated_failures),
		cmocka_unit_test(missing_ctags_is_unavailable),
		cmocka_unit_test(fifty_megabytes_fail_alone),
	};

	if (argc == 2 && strcmp(argv[1], "__ctags") == 0)
		return ctags_helper_main();
	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
