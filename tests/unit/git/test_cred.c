/*
 * Unit tests for src/git/cred.c: trawl sync picks the one credentials entry a fetch may use
 * (the file's mode, owner and type checked, other hosts' entries never kept) and hands it to
 * the fetch worker through a memory file, whose reader refuses anything but what the writer
 * makes.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "git/cred.h"
#include "util/error.h"

#include "unit/testlib.h"

static const char *const FILE_TEXT = "# prefix user secret\n"
				     "https://git.example.com/ alice alice-secret-1\n"
				     "https://git.example.com/team/ bob bob-secret-2\n"
				     "ssh://other.example.net/ git key:/keys/other\n"
				     "https://git.example.com.evil.net/ mallory mallory-secret-3\n";

/* The credentials file with FILE_TEXT and mode, at a path of the test's directory. */
static const char *cred_file(const char *name, mode_t mode)
{
	const char *path;

	testlib_write_file(testlib_tmpdir(), name, FILE_TEXT);
	path = testlib_path(name);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void the_best_matching_entry_is_picked(void **state)
{
	const char *path = cred_file("credentials", 0600);
	struct gcred c;

	(void)state;
	assert_int_equal(gcred_pick(&c, path, "https://git.example.com/team/x.git"), 0);
	assert_int_equal(c.err, 0);
	assert_string_equal(c.user, "bob");
	assert_string_equal(c.secret, "bob-secret-2");
	gcred_dispose(&c);
	assert_null(c.user);
	assert_null(c.secret);
	assert_int_equal(gcred_pick(&c, path, "https://git.example.com/other/x.git"), 0);
	assert_string_equal(c.user, "alice");
	gcred_dispose(&c);
	assert_int_equal(gcred_pick(&c, path, "ssh://other.example.net/r.git"), 0);
	assert_string_equal(c.secret, "key:/keys/other");
	gcred_dispose(&c);
}

static void no_entry_for_another_host(void **state)
{
	const char *path = cred_file("credentials", 0600);
	struct gcred c;

	(void)state;
	/* Another host, another port, another scheme: nothing, not the file's first entry. */
	assert_int_equal(gcred_pick(&c, path, "https://unknown.example.org/x.git"), 0);
	assert_null(c.user);
	assert_null(c.secret);
	assert_int_equal(c.err, 0);
	assert_int_equal(gcred_pick(&c, path, "https://git.example.com:8443/x.git"), 0);
	assert_null(c.user);
	assert_int_equal(gcred_pick(&c, path, "ssh://git.example.com/x.git"), 0);
	assert_null(c.user);
	/* No file at all: no entry, no error. */
	assert_int_equal(gcred_pick(&c, testlib_path("missing"), "https://git.example.com/x"), 0);
	assert_null(c.user);
	assert_int_equal(c.err, 0);
}

static void an_unsafe_file_is_refused_with_the_reason(void **state)
{
	const char *path = cred_file("open-credentials", 0644);
	struct gcred c;
	char link[600];

	(void)state;
	assert_int_equal(gcred_pick(&c, path, "https://git.example.com/x.git"), 0);
	assert_int_equal(c.err, TRAWL_EPERM);
	assert_null(c.user);
	assert_non_null(strstr(c.msg, "must be a regular file owned by this user with mode 0600"));
	gcred_dispose(&c);
	/* A symlink to a good file is refused too. */
	snprintf(link, sizeof(link), "%s", testlib_path("linked"));
	assert_int_equal(symlink(cred_file("credentials", 0600), link), 0);
	assert_int_equal(gcred_pick(&c, link, "https://git.example.com/x.git"), 0);
	assert_int_equal(c.err, TRAWL_EIO);
	assert_null(c.user);
	gcred_dispose(&c);
}

static int memfd(void)
{
	int fd = memfd_create("test-cred", MFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void an_entry_crosses_the_descriptor_alone(void **state)
{
	const char *path = cred_file("credentials", 0600);
	struct gcred c, got;
	char buf[4096];
	ssize_t n;
	int fd = memfd();

	(void)state;
	assert_int_equal(gcred_pick(&c, path, "https://git.example.com/team/x.git"), 0);
	assert_int_equal(gcred_write(fd, &c), 0);
	/* Exactly the one entry: no other user or secret of the file is in it. */
	n = pread(fd, buf, sizeof(buf), 0);
	assert_int_equal(n, (ssize_t)sizeof("cbob\0bob-secret-2"));
	assert_null(memmem(buf, (size_t)n, "alice", 5));
	assert_null(memmem(buf, (size_t)n, "mallory", 7));
	assert_int_equal(gcred_read(&got, fd), 0);
	assert_string_equal(got.user, "bob");
	assert_string_equal(got.secret, "bob-secret-2");
	assert_int_equal(got.err, 0);
	gcred_dispose(&got);
	gcred_dispose(&c);
	/* No entry. */
	assert_int_equal(gcred_write(fd, &c), 0);
	assert_int_equal(gcred_read(&got, fd), 0);
	assert_null(got.user);
	assert_int_equal(got.err, 0);
	/* A refused file: the code and the message. */
	c.err = TRAWL_EPERM;
	snprintf(c.msg, sizeof(c.msg), "credentials file X: must be private");
	assert_int_equal(gcred_write(fd, &c), 0);
	assert_int_equal(gcred_read(&got, fd), 0);
	assert_int_equal(got.err, TRAWL_EPERM);
	assert_string_equal(got.msg, "credentials file X: must be private");
	assert_null(got.user);
	gcred_dispose(&got);
	close(fd);
}

static void a_malformed_hand_over_is_refused(void **state)
{
	static const struct {
		const char *data;
		size_t len;
	} bad[] = {
		{ "", 0 },
		{ "x", 1 },
		{ "n\0", 2 },
		{ "cuser\0", 6 },
		{ "cuser\0secret", 12 },
		{ "cuser\0secret\0more\0", 18 },
		{ "c\0secret\0", 9 },
		{ "cuser\0\0", 7 },
		{ "e7\0msg\0", 7 },
		{ "e-99\0msg\0", 9 },
		{ "e-7x\0msg\0", 9 },
	};
	struct gcred got;
	int fd = memfd();

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ftruncate(fd, 0), 0);
		assert_int_equal(pwrite(fd, bad[i].data, bad[i].len, 0), (ssize_t)bad[i].len);
		assert_int_equal(gcred_read(&got, fd), TRAWL_ECORRUPT);
		assert_null(got.user);
		assert_null(got.secret);
	}
	/* Over the size limit. */
	assert_int_equal(ftruncate(fd, (off_t)GCRED_MAX + 1), 0);
	assert_int_equal(gcred_read(&got, fd), TRAWL_ELIMIT);
	close(fd);
	/* Not a descriptor at all. */
	assert_int_equal(gcred_read(&got, 999), TRAWL_EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_best_matching_entry_is_picked),
		cmocka_unit_test(no_entry_for_another_host),
		cmocka_unit_test(an_unsafe_file_is_refused_with_the_reason),
		cmocka_unit_test(an_entry_crosses_the_descriptor_alone),
		cmocka_unit_test(a_malformed_hand_over_is_refused),
	};

	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
