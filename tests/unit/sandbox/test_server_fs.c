/*
 * Unit tests for the confined server's file-system rights (src/server/sandbox.c): a forked
 * child confines itself exactly as `trawl serve` does (server_sandbox_confine on a data
 * directory) and then tries each thing. It may read the index and auth.key, use its database,
 * write the audit log (the accounts opened after confinement, as the server opens them); it may
 * not read DATA/credentials, known_hosts, a mirror or a URL policy file, write a policy file, or
 * create, rename or remove anything in DATA outside DATA/audit/.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "auth/auth.h"
#include "regex/dbcache.h"
#include "server/server_int.h"
#include "store/store.h"
#include "unit/sandbox/confine_fixture.h"
#include "unit/testlib.h"
#include "util/file.h"

static char data[512];

static void mkdir_in(const char *name)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", data, name);
	assert_int_equal(mkdir(p, 0700), 0);
}

static int setup(void **state)
{
	if (testlib_setup(state) < 0)
		return -1;
	snprintf(data, sizeof(data), "%s", testlib_path("data"));
	/*
	 * The server may write its temporary directory: one of its own, since the test's (under
	 * /tmp) holds DATA.
	 */
	if (mkdir(data, 0700) < 0 || mkdir(testlib_path("tmp"), 0700) < 0 ||
	    setenv("TMPDIR", testlib_path("tmp"), 1) < 0 ||
	    setenv("TRAWL_CACHE_DIR", testlib_path("cache"), 1) < 0)
		return -1;
	mkdir_in("index");
	mkdir_in("repos");
	mkdir_in("repos/1.git");
	mkdir_in("policy");
	testlib_write_file(data, "credentials", "https://example.com token-canary\n");
	testlib_write_file(data, "known_hosts", "example.com SHA256:canary\n");
	testlib_write_file(data, "repos/1.git/config", "[core]\n\tbare = true\n");
	testlib_write_file(data, "policy/1", "{\"id\":1,\"name\":\"a\",\"url\":\"/x\",\"allow\":[]}\n");
	testlib_write_file(data, "index/MANIFEST", "{}\n");
	/* An audit log of the older layout, moved into DATA/audit/ before confinement. */
	testlib_write_file(data, "audit.log", "{\"event\":\"before\"}\n");
	testlib_write_file(data, "audit.log.1", "{\"event\":\"older\"}\n");
	return 0;
}

static const char *in_data(const char *name)
{
	static char p[4][1024];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", data, name);
	return p[i];
}

/* Opening name with flags fails with EACCES (Landlock's refusal). */
static bool refused(const char *name, int flags)
{
	int fd = open(in_data(name), flags | O_CLOEXEC, 0600);

	if (fd >= 0) {
		close(fd);
		return false;
	}
	return errno == EACCES;
}

static bool opens(const char *name, int flags)
{
	int fd = open(in_data(name), flags | O_CLOEXEC, 0600);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Creating cache/name (a path under TRAWL_CACHE_DIR) works. */
static bool cache_creates(const char *name)
{
	char p[1024];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", testlib_path("cache"), name);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	close(fd);
	return unlink(p) == 0;
}

static int confined_child(void *arg)
{
	struct server_config cfg = { .data_dir = data };
	struct srv s = { .cfg = &cfg };
	struct auth *a = NULL;

	(void)arg;
	if (server_sandbox_confine(&s) < 0) {
		dprintf(cf_report_fd, "confine failed: %s\n", error_last());
		return 2;
	}
	CHILD_CHECK(s.is_confined && s.sandbox.landlock);
	/* Not readable: the code host's secrets, the mirrors, the URL policy. */
	CHILD_CHECK(refused("credentials", O_RDONLY));
	CHILD_CHECK(refused("known_hosts", O_RDONLY));
	CHILD_CHECK(refused("repos/1.git/config", O_RDONLY));
	CHILD_CHECK(refused("policy/1", O_RDONLY));
	/* Not writable: the policy, or anything new in DATA, its index or its policy directory. */
	CHILD_CHECK(refused("policy/1", O_WRONLY | O_TRUNC));
	CHILD_CHECK(refused("policy/2", O_WRONLY | O_CREAT | O_EXCL));
	CHILD_CHECK(refused("new-file", O_WRONLY | O_CREAT | O_EXCL));
	CHILD_CHECK(refused("trawl.db-journal", O_WRONLY | O_CREAT | O_EXCL));
	CHILD_CHECK(refused("index/new-shard", O_WRONLY | O_CREAT | O_EXCL));
	CHILD_CHECK(refused("index/MANIFEST", O_WRONLY));
	CHILD_CHECK(refused("auth.key", O_WRONLY));
	CHILD_CHECK(rename(in_data("policy"), in_data("policy.old")) < 0 && errno == EACCES);
	CHILD_CHECK(unlink(in_data("credentials")) < 0 && errno == EACCES);
	CHILD_CHECK(mkdir(in_data("policy2"), 0700) < 0 && errno == EACCES);
	/* What the server needs. */
	CHILD_CHECK(opens("index/MANIFEST", O_RDONLY));
	CHILD_CHECK(opens("auth.key", O_RDONLY));
	CHILD_CHECK(opens("trawl.db", O_RDWR));
	CHILD_CHECK(opens("audit/made-by-the-server", O_WRONLY | O_CREAT | O_EXCL));
	CHILD_CHECK(unlink(in_data("audit/made-by-the-server")) == 0);
	/*
	 * Its compiled-pattern cache is its own, below the one CLI commands load, which it cannot
	 * write: `trawl search` never deserializes a database the server made.
	 */
	CHILD_CHECK(cache_creates(DBCACHE_SERVER_SUBDIR "/0123456789abcdef.hsdb"));
	CHILD_CHECK(!cache_creates("0123456789abcdef.hsdb") && errno == EACCES);
	/* The accounts open as the server opens them, and write both the table and the log. */
	CHILD_CHECK(auth_open(&a, data, NULL) == 0);
	CHILD_CHECK(auth_audit(a, "confined_event", "tester", "target", "127.0.0.1", NULL) == 0);
	auth_close(a);
	return 0;
}

/* Forks a child that runs fn; its status and report in *out. */
static void run_child(struct cf_run *out, int (*fn)(void *))
{
	int p[2];
	pid_t pid;
	size_t len = 0;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		cf_report_fd = p[1];
		_exit(fn(NULL));
	}
	close(p[1]);
	while ((n = read(p[0], out->report + len, sizeof(out->report) - 1 - len)) > 0)
		len += (size_t)n;
	out->report[len] = 0;
	close(p[0]);
	while (waitpid(pid, &out->status, 0) < 0 && errno == EINTR)
		;
}

static void confined_server_reaches_only_its_files(void **state)
{
	struct confine_status probe;
	struct cf_run r;
	char *text = NULL;
	size_t len = 0;
	struct stat st;

	(void)state;
	confine_probe(&probe);
	if (!probe.landlock)
		skip(); /* no Landlock in this kernel: nothing to prove */
	run_child(&r, confined_child);
	assert_true(cf_exited(&r, 0));
	/* The older layout's log moved before confinement; the event is in the new log. */
	assert_int_equal(stat(in_data("audit.log"), &st), -1);
	assert_int_equal(stat(in_data("audit.log.1"), &st), -1);
	assert_int_equal(stat(in_data("audit"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(file_read_all(&text, &len, in_data("audit/audit.log"), 1 << 20), 0);
	assert_non_null(strstr(text, "\"before\""));
	assert_non_null(strstr(text, "confined_event"));
	free(text);
	assert_int_equal(file_read_all(&text, &len, in_data("audit/audit.log.1"), 1 << 20), 0);
	assert_non_null(strstr(text, "\"older\""));
	free(text);
	/* The database's files, made before confinement, are still there. */
	assert_int_equal(stat(in_data("trawl.db-wal"), &st), 0);
	assert_int_equal(stat(in_data("trawl.db-shm"), &st), 0);
	assert_int_equal(stat(in_data("new-file"), &st), -1);
}

/* A second start finds everything in place and confines the same way. */
static void confined_server_starts_again(void **state)
{
	struct confine_status probe;
	struct cf_run r;

	(void)state;
	confine_probe(&probe);
	if (!probe.landlock)
		skip();
	run_child(&r, confined_child);
	assert_true(cf_exited(&r, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(confined_server_reaches_only_its_files),
		cmocka_unit_test(confined_server_starts_again),
	};

	return cmocka_run_group_tests(tests, setup, testlib_teardown);
}
