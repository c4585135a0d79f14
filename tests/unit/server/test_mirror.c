/*
 * Unit tests for src/server/handlers_mirror.c's reading of the show worker's answer
 * (mirror_parse): a file in parts, a directory, and every answer a worker taken over by a
 * hostile repository could send instead refused: out of order, a second head, content past the
 * file's size or for a file over the limit, entries in a file's answer, a name holding '/' or
 * that is "." or "..", an unknown kind or entry type, a stream cut short, an error message (its
 * text kept for the log).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "git/show.h"
#include "sandbox/wire.h"
#include "server/mirror.h"
#include "util/buf.h"
#include "util/error.h"

/* Appends the message o holds to b. */
static void put(struct buf *b, struct wire_out *o)
{
	const void *p;
	size_t len;

	assert_int_equal(wire_out_bytes(o, &p, &len), 0);
	assert_int_equal(buf_put(b, p, len), 0);
	wire_out_dispose(o);
}

static void head(struct buf *b, uint32_t kind, uint64_t size, uint32_t flags)
{
	struct wire_out o;

	wire_out_begin(&o, WIRE_SHOW);
	wire_put_u32(&o, kind);
	wire_put_u64(&o, size);
	wire_put_u32(&o, flags);
	put(b, &o);
}

static void data(struct buf *b, const char *s)
{
	struct wire_out o;

	wire_out_begin(&o, WIRE_SHOW_DATA);
	wire_put_bytes(&o, s, strlen(s));
	put(b, &o);
}

static void entry(struct buf *b, const char *name, uint32_t type, uint64_t size)
{
	struct wire_out o;

	wire_out_begin(&o, WIRE_SHOW_ENTRY);
	wire_put_str(&o, name);
	wire_put_u32(&o, type);
	wire_put_u64(&o, size);
	put(b, &o);
}

static void end(struct buf *b)
{
	struct wire_out o;

	wire_out_begin(&o, WIRE_END);
	put(b, &o);
}

/* mirror_parse over b, then b emptied for the next case. */
static int parse(struct mirror_answer *a, struct buf *b)
{
	int err;

	*a = (struct mirror_answer){ 0 };
	err = mirror_parse(a, b->ptr, b->len);
	buf_reset(b);
	return err;
}

static void a_file_and_a_directory(void **state)
{
	struct mirror_answer a;
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	head(&b, GITSHOW_FILE, 11, 0);
	data(&b, "hello ");
	data(&b, "world");
	end(&b);
	assert_int_equal(parse(&a, &b), 0);
	assert_int_equal(a.kind, GITSHOW_FILE);
	assert_int_equal(a.content.len, 11);
	assert_memory_equal(a.content.ptr, "hello world", 11);
	mirror_answer_dispose(&a);
	head(&b, GITSHOW_FILE, 5000000, 1); /* over the limit: its size, no content */
	end(&b);
	assert_int_equal(parse(&a, &b), 0);
	assert_true(a.is_too_large);
	assert_int_equal(a.size, 5000000);
	mirror_answer_dispose(&a);
	head(&b, GITSHOW_DIR, 0, 2);
	entry(&b, "src", GITSHOW_E_DIR, 0);
	entry(&b, "a.c", GITSHOW_E_FILE, 12);
	end(&b);
	assert_int_equal(parse(&a, &b), 0);
	assert_int_equal(a.kind, GITSHOW_DIR);
	assert_true(a.is_truncated);
	assert_int_equal(a.n_entries, 2);
	assert_string_equal(a.entries[1].name, "a.c");
	assert_int_equal(a.entries[1].size, 12);
	mirror_answer_dispose(&a);
	head(&b, GITSHOW_NO_COMMIT, 0, 0);
	end(&b);
	assert_int_equal(parse(&a, &b), 0);
	assert_int_equal(a.kind, GITSHOW_NO_COMMIT);
	mirror_answer_dispose(&a);
	buf_dispose(&b);
}

static void hostile_answers_are_refused(void **state)
{
	struct mirror_answer a;
	struct buf b;
	struct wire_out o;

	(void)state;
	buf_init(&b, 1 << 20);
	data(&b, "x"); /* no head */
	end(&b);
	assert_int_equal(parse(&a, &b), TRAWL_ECORRUPT);
	mirror_answer_dispose(&a);
	head(&b, GITSHOW_FILE, 1, 0);
	head(&b, GITSHOW_FILE, 1, 0);
	assert_int_equal(parse(&a, &b), TRAWL_ECORRUPT);
	mirror_answer_dispose(&a);
	head(&b, GITSHOW_FILE, 3, 0); /* past its size */
	data(&b, "abcd");
	end(&b);
	assert_int_equal(parse(&a, &b), TRAWL_ECORRUPT);
	mirror_answer_dispose(&a);
	head(&b, GITSHOW_FILE, 4, 0); /* short of its size */
	data(&b, "abc");
	end(&b);
	assert_int_equal(parse(&a, &b), TRAWL_ECORRUPT);
	mirror_answer_dispose(&a);
	head(&b, GITSHOW_FILE, 5000000, 1); /* content for a file over the limit */
	data(&b, "abc");
	end(&b);
	assert_int_equal(parse(&a, &b), TRAWL_ECORRUPT);
	mirror_answer_dispose(&a);
	head(&b, GITSHOW_FILE, 0, 0);
	entry(&b, "a", GITSHOW_E_FILE, 1);
	end(&b);
	assert_int_equal(parse(&a, &b), TRAWL_ECORRUPT);
	mirror_answer_dispose(&a);
	head(&b, GITSHOW_DIR, 0, 0);
	entry(&b, "../../etc", GITSHOW_E_FILE, 1);
	end(&b);
	assert_int_equal(parse(&a, &b), TRAWL_ECORRUPT);
	mirror_answer_dispose(&a);
	for (size_t i = 0; i < 2; i++) { /* the worker never sends "." or ".." (show.c) */
		head(&b, GITSHOW_DIR, 0, 0);
		entry(&b, i ? ".." : ".", GITSHOW_E_DIR, 0);
		end(&b);
		assert_int_equal(parse(&a, &b), TRAWL_ECORRUPT);
		mirror_answer_dispose(&a);
	}
	head(&b, GITSHOW_DIR, 0, 0);
	entry(&b, "x", 9, 1);
	end(&b);
	assert_int_equal(parse(&a, &b), TRAWL_ECORRUPT);
	mirror_answer_dispose(&a);
	head(&b, 7, 0, 0);
	end(&b);
	assert_int_equal(parse(&a, &b), TRAWL_ECORRUPT);
	mirror_answer_dispose(&a);
	head(&b, GITSHOW_DIR, 0, 0); /* no WIRE_END */
	assert_int_equal(parse(&a, &b), TRAWL_ECORRUPT);
	mirror_answer_dispose(&a);
	assert_int_equal(parse(&a, &b), TRAWL_ECORRUPT); /* nothing at all */
	mirror_answer_dispose(&a);
	wire_out_begin(&o, WIRE_ERROR);
	wire_put_str(&o, "no mirror");
	wire_put_u32(&o, (uint32_t)-TRAWL_EIO);
	put(&b, &o);
	assert_int_equal(parse(&a, &b), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "no mirror"));
	mirror_answer_dispose(&a);
	wire_out_begin(&o, WIRE_ERROR); /* ENOTFOUND: the repository has no mirror */
	wire_put_str(&o, "the repository has no mirror");
	wire_put_u32(&o, (uint32_t)-TRAWL_ENOTFOUND);
	put(&b, &o);
	assert_int_equal(parse(&a, &b), TRAWL_ENOTFOUND);
	mirror_answer_dispose(&a);
	buf_dispose(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_file_and_a_directory),
		cmocka_unit_test(hostile_answers_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
