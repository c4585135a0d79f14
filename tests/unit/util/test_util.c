/*
 * Unit tests for src/util: bounded buffers, varints, JSON strings, terminal text, errors, file
 * replacement, and reading only regular files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit/testlib.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/json.h"
#include "util/term.h"
#include "util/trigram.h"
#include "util/varint.h"

static void buf_grows_and_stays_terminated(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%d,", i), 0);
	assert_int_equal(b.ptr[b.len], '\0');
	assert_memory_equal(b.ptr, "0,1,2,", 6);
	buf_dispose(&b);
}

static void buf_refuses_growth_past_max(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_put(&b, "12345678", 8), 0);
	assert_int_equal(buf_putc(&b, 'x'), TRAWL_ELIMIT);
	assert_int_equal(b.len, 8);
	assert_non_null(strstr(error_last(), "limit"));
	buf_dispose(&b);
}

static void buf_put_u64_writes_decimal(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 10);
	assert_int_equal(buf_put_u64(&b, 0), 0);
	assert_int_equal(buf_putc(&b, ' '), 0);
	assert_int_equal(buf_put_u64(&b, 1234567890), 0);
	assert_int_equal(buf_putc(&b, ' '), 0);
	assert_int_equal(buf_put_u64(&b, UINT64_MAX), 0);
	assert_string_equal(b.ptr, "0 1234567890 18446744073709551615");
	buf_dispose(&b);
}

static void varint_round_trips_edge_values(void **state)
{
	static const uint64_t vals[] = { 0, 1, 127, 128, 16383, 16384, UINT32_MAX, UINT64_MAX };
	uint8_t tmp[VARINT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		size_t n = varint_put(tmp, vals[i]);
		const uint8_t *p = tmp;
		uint64_t v;

		assert_int_equal(varint_get(&v, &p, tmp + n), 0);
		assert_true(v == vals[i]);
		assert_ptr_equal(p, tmp + n);
	}
}

static void varint_rejects_truncated_and_overlong(void **state)
{
	const uint8_t trunc[] = { 0x80, 0x80 };
	uint8_t over[11];
	const uint8_t *p = trunc;
	uint64_t v;

	(void)state;
	assert_int_equal(varint_get(&v, &p, trunc + sizeof(trunc)), -1);
	memset(over, 0xff, sizeof(over));
	p = over;
	assert_int_equal(varint_get(&v, &p, over + sizeof(over)), -1);
}

static void json_escapes_specials_and_replaces_invalid_utf8(void **state)
{
	const char in[] = "a\"b\\c\n\x01\xe2\x80\xa8\xff\xc3\xa9";
	struct buf b;
	bool lossy;

	(void)state;
	buf_init(&b, 1 << 10);
	assert_int_equal(json_put_string(&b, in, sizeof(in) - 1, &lossy), 0);
	assert_string_equal(b.ptr, "\"a\\\"b\\\\c\\n\\u0001\\u2028\xef\xbf\xbd\xc3\xa9\"");
	assert_true(lossy);
	/* DEL and C1 controls are escaped too; U+00A0 is not a control. */
	buf_reset(&b);
	assert_int_equal(json_put_string(&b, "\x7f\xc2\x9b\xc2\x80\xc2\xa0", 7, &lossy), 0);
	assert_string_equal(b.ptr, "\"\\u007f\\u009b\\u0080\xc2\xa0\"");
	/* Format characters (bidi overrides, zero-width, the BOM, tags) are escaped. */
	buf_reset(&b);
	assert_int_equal(json_put_string(&b, "x\xe2\x80\xae\xe2\x81\xa6\xef\xbb\xbf\xf3\xa0\x80\x81y",
					 15, &lossy),
			 0);
	assert_string_equal(b.ptr, "\"x\\u202e\\u2066\\ufeff\\udb40\\udc01y\"");
	assert_false(lossy);
	buf_dispose(&b);
}

static const char *term_text(struct buf *b, const char *s, size_t len, enum term_text how)
{
	buf_reset(b);
	assert_int_equal(term_put(b, s, len, how), 0);
	return b->ptr ? b->ptr : "";
}

static void term_escapes_controls_for_a_terminal_only(void **state)
{
	/* A name that sets the window title, rings, forges a line and ends in CSI 2J (C1). */
	const char in[] = "\x1b]0;pwned\x07x\ny\tz\rw\x7f\xc2\x9b" "2J";
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 10);
	assert_string_equal(term_text(&b, in, sizeof(in) - 1, TERM_NAME),
			    "\\x1b]0;pwned\\x07x\\ny\\tz\\rw\\x7f\\xc2\\x9b2J");
	/* In content a tab is layout; everything else is escaped the same way. */
	assert_string_equal(term_text(&b, in, sizeof(in) - 1, TERM_CONTENT),
			    "\\x1b]0;pwned\\x07x\\ny\tz\\rw\\x7f\\xc2\\x9b2J");
	/* Not a terminal: the bytes as they are, NUL included. */
	assert_int_equal(term_put(&b, "\0", 1, TERM_RAW), 0);
	buf_reset(&b);
	assert_int_equal(term_put(&b, in, sizeof(in) - 1, TERM_RAW), 0);
	assert_int_equal(b.len, sizeof(in) - 1);
	assert_memory_equal(b.ptr, in, sizeof(in) - 1);
	/* Valid UTF-8 beyond C1 (U+00A0, é, U+2027, an emoji) stays; backslashes stay. */
	assert_string_equal(term_text(&b, "\xc2\xa0\xc3\xa9\xe2\x80\xa7\xf0\x9f\x98\x80\\x", 13,
				      TERM_NAME),
			    "\xc2\xa0\xc3\xa9\xe2\x80\xa7\xf0\x9f\x98\x80\\x");
	/* Invalid UTF-8 (a lone 0x9b, Latin-1 é, a truncated sequence, NUL) byte by byte. */
	assert_string_equal(term_text(&b, "\x9b[a\xe9\0\xe2\x82", 7, TERM_NAME),
			    "\\x9b[a\\xe9\\x00\\xe2\\x82");
	assert_string_equal(term_text(&b, "plain text", 10, TERM_CONTENT), "plain text");
	buf_dispose(&b);
}

static void term_escapes_bidi_controls_and_separators(void **state)
{
	/* Each bidi control (U+061C ALM, LRM, RLM, LRE..RLO, LRI..PDI) and U+2028, U+2029. */
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "\xd8\x9c", "\\xd8\\x9c" },	    { "\xe2\x80\x8e", "\\xe2\\x80\\x8e" },
		{ "\xe2\x80\x8f", "\\xe2\\x80\\x8f" }, { "\xe2\x80\xa8", "\\xe2\\x80\\xa8" },
		{ "\xe2\x80\xa9", "\\xe2\\x80\\xa9" }, { "\xe2\x80\xaa", "\\xe2\\x80\\xaa" },
		{ "\xe2\x80\xab", "\\xe2\\x80\\xab" }, { "\xe2\x80\xac", "\\xe2\\x80\\xac" },
		{ "\xe2\x80\xad", "\\xe2\\x80\\xad" }, { "\xe2\x80\xae", "\\xe2\\x80\\xae" },
		{ "\xe2\x81\xa6", "\\xe2\\x81\\xa6" }, { "\xe2\x81\xa7", "\\xe2\\x81\\xa7" },
		{ "\xe2\x81\xa8", "\\xe2\\x81\\xa8" }, { "\xe2\x81\xa9", "\\xe2\\x81\\xa9" },
	};
	struct buf b;
	char in[16], out[32];

	(void)state;
	buf_init(&b, 1 << 10);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(in, sizeof(in), "a%sb", cases[i].in);
		snprintf(out, sizeof(out), "a%sb", cases[i].out);
		assert_string_equal(term_text(&b, in, strlen(in), TERM_NAME), out);
		assert_string_equal(term_text(&b, in, strlen(in), TERM_CONTENT), out);
	}
	/* Their neighbours are ordinary text: U+200D (ZWJ, in emoji), U+202F, U+2065, U+206A. */
	assert_string_equal(term_text(&b, "\xe2\x80\x8d\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa", 12,
				      TERM_NAME),
			    "\xe2\x80\x8d\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa");
	buf_dispose(&b);
}

static const char *line_text(struct buf *b, const char *s, size_t len, size_t max)
{
	buf_reset(b);
	assert_int_equal(term_put_line(b, s, len, max), 0);
	assert_true(b->len <= max);
	return b->ptr ? b->ptr : "";
}

static void term_line_cleans_and_caps_remote_text(void **state)
{
	/* A git server's ERR: C0 (ESC, LF), C1 (CSI, OSC), RLO, invalid UTF-8. */
	const char in[] = "ERR \x1b[2J\n\xc2\x9b" "2J\xc2\x9d" "8;;x\xe2\x80\xae" "cod\xff";
	char big[2000];
	struct buf b;
	const char *out;

	(void)state;
	buf_init(&b, 1 << 12);
	assert_string_equal(line_text(&b, in, sizeof(in) - 1, 300),
			    "ERR \\x1b[2J\\n\\xc2\\x9b2J\\xc2\\x9d8;;x\\xe2\\x80\\xaecod\\xff");
	/* Exactly max fits; one byte more is cut, with "..." in the same max bytes. */
	assert_string_equal(line_text(&b, "abcdef", 6, 6), "abcdef");
	assert_string_equal(line_text(&b, "abcdefg", 7, 6), "abc...");
	/* Escapes count: 4 ESC are 16 bytes of output (an escape may be cut: still ASCII). */
	assert_string_equal(line_text(&b, "\x1b\x1b\x1b\x1b", 4, 10), "\\x1b\\x1...");
	/* A cut never splits a UTF-8 sequence: é is 2 bytes, the cut backs off to its start. */
	assert_string_equal(line_text(&b, "ab\xc3\xa9\xc3\xa9xyz", 9, 6), "ab...");
	assert_string_equal(line_text(&b, "a\xc3\xa9\xc3\xa9xyz", 8, 6), "a\xc3\xa9...");
	/* A long line: capped, valid, one line. */
	memset(big, 'x', sizeof(big));
	big[100] = '\n';
	big[sizeof(big) - 1] = '\xe2';
	out = line_text(&b, big, sizeof(big), 300);
	assert_int_equal(strlen(out), 300);
	assert_null(strchr(out, '\n'));
	assert_string_equal(out + 297, "...");
	assert_true(utf8_is_valid((const uint8_t *)out, strlen(out)));
	assert_string_equal(line_text(&b, "", 0, 10), "");
	buf_dispose(&b);
}

static void utf8_seq_len_rejects_overlong_and_surrogates(void **state)
{
	(void)state;
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xc0\xaf", 2), 0);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3), 0);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xe2\x82", 2), 0);
	assert_int_equal(utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
}

static double ms_of(const struct timespec *ts)
{
	return (double)ts->tv_sec * 1e3 + (double)ts->tv_nsec / 1e6;
}

static void clock_now_ms_is_monotonic_milliseconds(void **state)
{
	struct timespec before, after;
	double t, prev = 0;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &before);
	t = clock_now_ms();
	clock_gettime(CLOCK_MONOTONIC, &after);
	assert_true(t >= ms_of(&before) && t <= ms_of(&after));
	for (int i = 0; i < 1000; i++) {
		prev = t;
		t = clock_now_ms();
		assert_true(t >= prev);
	}
}

static void trigram_folds_ascii_only(void **state)
{
	(void)state;
	assert_int_equal(trigram_make('A', 'b', 'C'), trigram_make('a', 'B', 'c'));
	assert_int_not_equal(trigram_make(0xc3, 0x89, 'x'), trigram_make(0xc3, 0xa9, 'x'));
}

static void error_prefix_keeps_position(void **state)
{
	(void)state;
	error_set_at(7, "bad thing");
	error_prefix("file %s", "x");
	assert_string_equal(error_last(), "file x: bad thing");
	assert_int_equal(error_pos(), 7);
}

static void error_set_at_can_move_the_last_message(void **state)
{
	(void)state;
	error_set_at(3, "pattern too large");
	error_set_at(10, "%s", error_last());
	assert_string_equal(error_last(), "pattern too large");
	assert_int_equal(error_pos(), 10);
}

static void file_write_atomic_at_replaces_a_symlink_not_its_target(void **state)
{
	char dir[512], outside[512], *data = NULL;
	struct dirent *de;
	size_t len = 0, n = 0;
	int dir_fd, fd;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", testlib_path("fileat"));
	snprintf(outside, sizeof(outside), "%s", testlib_path("fileat.outside"));
	assert_int_equal(mkdir(dir, 0700), 0);
	fd = open(outside, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dir_fd >= 0);
	assert_int_equal(symlinkat(outside, dir_fd, "entry"), 0);
	assert_int_equal(file_write_atomic_at(dir_fd, "entry", "new", 3, 0600), 0);
	/* The link itself was replaced by a private regular file; its target is untouched. */
	fd = openat(dir_fd, "entry", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(file_read_fd(&data, &len, fd, "entry", 16), 0);
	close(fd);
	assert_int_equal(len, 3);
	assert_memory_equal(data, "new", 3);
	free(data);
	assert_int_equal(file_read_all(&data, &len, outside, 16), 0);
	assert_int_equal(len, 0);
	free(data);
	/* No temporary file is left beside it. */
	d = fdopendir(dup(dir_fd));
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	assert_int_equal(n, 1);
	close(dir_fd);
}

/*
 * A tree a worker wrote is removed whole even when a directory chain in it is deeper than
 * PATH_MAX (a walk by path strings fails there with ENAMETOOLONG), and a symlink in it is
 * removed, never followed: what it points at stays.
 */
static void file_remove_tree_removes_a_chain_deeper_than_path_max(void **state)
{
	char dir[512], outside[512], keep[600], name[61];
	struct stat sb;
	int fd, sub;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", testlib_path("rmtree"));
	snprintf(outside, sizeof(outside), "%s", testlib_path("rmtree.outside"));
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(outside, 0700), 0);
	fd = open(outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(file_write_atomic_at(fd, "keep", "k", 1, 0600), 0);
	close(fd);
	memset(name, 'd', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (int i = 0; i < 2 * PATH_MAX / (int)sizeof(name); i++) {
		assert_int_equal(file_write_atomic_at(fd, "f", "x", 1, 0600), 0);
		assert_int_equal(symlinkat(outside, fd, "link"), 0);
		assert_int_equal(mkdirat(fd, "e", 0700), 0); /* an empty sibling */
		assert_int_equal(mkdirat(fd, name, 0700), 0);
		sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(sub >= 0);
		close(fd);
		fd = sub;
	}
	close(fd);
	assert_int_equal(file_remove_tree(dir), 0);
	assert_int_equal(lstat(dir, &sb), -1);
	assert_int_equal(errno, ENOENT);
	snprintf(keep, sizeof(keep), "%s/keep", outside);
	assert_int_equal(stat(keep, &sb), 0);
	/* Missing is fine; a symlink in the place of the tree is removed itself. */
	assert_int_equal(file_remove_tree(testlib_path("rmtree")), 0);
	assert_int_equal(symlink(outside, testlib_path("rmtree")), 0);
	assert_int_equal(file_remove_tree(testlib_path("rmtree")), 0);
	assert_int_equal(lstat(testlib_path("rmtree"), &sb), -1);
	assert_int_equal(stat(keep, &sb), 0);
}

/*
 * A FIFO put where a file is read is refused at once, naming what it is: opening it to read
 * without a writer would otherwise block forever. A directory is named too; a symlink to a
 * regular file is followed only when asked.
 */
/* file_is_private: the owner's alone, or root's readable by its group; nobody else, ever. */
static void file_is_private_owner_alone_or_roots_group(void **state)
{
	struct stat st = { .st_uid = geteuid(), .st_mode = S_IFREG | 0600 };

	(void)state;
	assert_true(file_is_private(&st));
	st.st_mode = S_IFREG | 0400;
	assert_true(file_is_private(&st));
	for (mode_t m = 1; m <= 077; m <<= 1) {
		st.st_mode = S_IFREG | 0600 | m;
		assert_false(file_is_private(&st));
	}
	st.st_uid = geteuid() + 1; /* another user's (root's too when this runs as root) */
	st.st_mode = S_IFREG | 0600;
	assert_false(file_is_private(&st));
	if (geteuid() == 0)
		return;
	st.st_uid = 0;
	st.st_mode = S_IFREG | 0440;
	assert_true(file_is_private(&st));
	st.st_mode = S_IFREG | 0640;
	assert_true(file_is_private(&st));
	for (mode_t m = 1; m <= 077; m <<= 1) {
		if (m == S_IRGRP)
			continue;
		st.st_mode = S_IFREG | 0640 | m;
		assert_false(file_is_private(&st));
	}
}

static void file_open_regular_refuses_a_fifo_without_blocking(void **state)
{
	char fifo[512], dir[512], link[512], *data = NULL;
	struct file_map m;
	struct stat st;
	size_t len = 0;
	int fd = 0;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s", testlib_path("fifo"));
	snprintf(dir, sizeof(dir), "%s", testlib_path("fifo.dir"));
	snprintf(link, sizeof(link), "%s", testlib_path("fifo.link"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(file_read_all(&data, &len, fifo, 16), TRAWL_EIO);
	assert_null(data);
	assert_non_null(strstr(error_last(), "a FIFO, not a regular file"));
	assert_non_null(strstr(error_last(), fifo));
	assert_int_equal(file_open_regular(&fd, &st, fifo, false), TRAWL_EIO);
	assert_int_equal(fd, -1);
	assert_int_equal(file_map_open(&m, fifo), TRAWL_EIO);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(file_open_regular(&fd, NULL, dir, true), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "a directory, not a regular file"));
	testlib_write_file(dir, "f", "abc");
	assert_int_equal(symlink("fifo.dir/f", link), 0);
	assert_int_equal(file_open_regular(&fd, NULL, link, true), TRAWL_EIO);
	assert_int_equal(file_open_regular(&fd, &st, link, false), 0);
	assert_true(fd >= 0 && S_ISREG(st.st_mode) && st.st_size == 3);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(file_read_fd(&data, &len, fd, link, 16), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(data, "abc", 3);
	free(data);
	close(fd);
}

/* Whether the inotify descriptor ino (non-blocking) has an IN_OPEN event queued. */
static bool inotify_saw_open(int ino)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool is_open = false;
	ssize_t n;

	while ((n = read(ino, ev, sizeof(ev))) > 0)
		for (char *p = ev; p < ev + n;
		     p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len)
			is_open |= (((struct inotify_event *)p)->mask & IN_OPEN) != 0;
	return is_open;
}

/*
 * A file that is not a regular one is refused without being opened: opening a device may act
 * (a tape rewinds, a modem hangs up) and opening a FIFO wakes its writer. The kernel reports
 * every real open of the FIFO to inotify, and none of the look file_open_regular takes.
 */
static void file_open_regular_never_opens_what_it_refuses(void **state)
{
	char fifo[512], link[512];
	struct stat st;
	int ino, fd = 0;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s", testlib_path("side.fifo"));
	snprintf(link, sizeof(link), "%s", testlib_path("side.link"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink("side.fifo", link), 0);
	assert_true((ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0);
	assert_true(inotify_add_watch(ino, fifo, IN_OPEN) >= 0);
	assert_int_equal(file_open_regular(&fd, &st, fifo, true), TRAWL_EIO);
	assert_int_equal(fd, -1);
	assert_int_equal(file_open_regular(&fd, &st, link, false), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "a FIFO, not a regular file"));
	assert_int_equal(file_open_regular(&fd, &st, link, true), TRAWL_EIO);
	assert_false(inotify_saw_open(ino));
	/* The watch does see a real open, so the test can fail. */
	assert_true((fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) >= 0);
	close(fd);
	assert_true(inotify_saw_open(ino));
	close(ino);
}

/* A regular file is read as before, and a path whose file is gone is ENOTFOUND. */
static void file_open_regular_reads_a_regular_file(void **state)
{
	char path[512], link[512], buf[8];
	struct stat st;
	int fd = -1;

	(void)state;
	testlib_write_file(testlib_tmpdir(), "plain.pem", "abcdef");
	snprintf(path, sizeof(path), "%s", testlib_path("plain.pem"));
	snprintf(link, sizeof(link), "%s", testlib_path("plain.link"));
	assert_int_equal(symlink("plain.pem", link), 0);
	assert_int_equal(file_open_regular(&fd, &st, link, false), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size == 6);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "abcdef", 6);
	close(fd);
	assert_int_equal(file_open_regular(&fd, &st, link, true), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "a symbolic link, not a regular file"));
	assert_int_equal(file_open_regular(&fd, NULL, testlib_path("no-such.pem"), false),
			 TRAWL_ENOTFOUND);
	assert_int_equal(fd, -1);
}

/* A commit id (a permalink's rev=): exactly 40 hex digits, either case. */
static void hex_is_commit_id_takes_full_ids_only(void **state)
{
	const char *id = "0123456789abcdefABCDEF0123456789abcdef01";

	(void)state;
	assert_true(hex_is_commit_id(id, 40));
	assert_false(hex_is_commit_id(id, 39));
	assert_false(hex_is_commit_id(id, 12));
	assert_false(hex_is_commit_id("0123456789abcdefABCDEF0123456789abcdef0g", 40));
	assert_false(hex_is_commit_id("0123456789abcdefABCDEF0123456789abcdef0 ", 40));
	assert_false(hex_is_commit_id("", 0));
	assert_int_equal(hex_digit('f'), 15);
	assert_int_equal(hex_digit('G'), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_grows_and_stays_terminated),
		cmocka_unit_test(hex_is_commit_id_takes_full_ids_only),
		cmocka_unit_test(buf_refuses_growth_past_max),
		cmocka_unit_test(buf_put_u64_writes_decimal),
		cmocka_unit_test(varint_round_trips_edge_values),
		cmocka_unit_test(varint_rejects_truncated_and_overlong),
		cmocka_unit_test(json_escapes_specials_and_replaces_invalid_utf8),
		cmocka_unit_test(term_escapes_controls_for_a_terminal_only),
		cmocka_unit_test(term_escapes_bidi_controls_and_separators),
		cmocka_unit_test(term_line_cleans_and_caps_remote_text),
		cmocka_unit_test(utf8_seq_len_rejects_overlong_and_surrogates),
		cmocka_unit_test(clock_now_ms_is_monotonic_milliseconds),
		cmocka_unit_test(trigram_folds_ascii_only),
		cmocka_unit_test(error_prefix_keeps_position),
		cmocka_unit_test(error_set_at_can_move_the_last_message),
		cmocka_unit_test(file_write_atomic_at_replaces_a_symlink_not_its_target),
		cmocka_unit_test(file_remove_tree_removes_a_chain_deeper_than_path_max),
		cmocka_unit_test(file_is_private_owner_alone_or_roots_group),
		cmocka_unit_test(file_open_regular_refuses_a_fifo_without_blocking),
		cmocka_unit_test(file_open_regular_never_opens_what_it_refuses),
		cmocka_unit_test(file_open_regular_reads_a_regular_file),
	};

	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
