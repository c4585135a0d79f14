/*
 * Unit tests for the store's row readers (store_int.h): store_rows_read turns every row into
 * one element, gives back nothing and frees what it read (the failing element too) when a
 * read fails, and store_names_read always gives a NULL-terminated array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/store.h"
#include "store/store_int.h"
#include "unit/testlib.h"
#include "util/error.h"

struct item {
	int64_t n;
	char *text;
};

static size_t n_freed;  /* elements the last free was given */
static int64_t fail_at; /* the n whose read fails; 0: none */

static int read_item(void *elem, struct store *s, struct db_stmt *st)
{
	struct item *it = elem;
	bool oom = false;

	(void)s;
	assert_int_equal(it->n, 0); /* zeroed before the read */
	assert_null(it->text);
	it->n = db_column_int64(st, 0);
	if (!(it->text = store_dup_col(st, 1, &oom)))
		return error_nomem("reading an item");
	if (it->n == fail_at) {
		error_set("item %lld is refused", (long long)it->n);
		return TRAWL_ECORRUPT;
	}
	return 0;
}

static void free_items(void *v, size_t n)
{
	struct item *items = v;

	n_freed = n;
	for (size_t i = 0; items && i < n; i++)
		free(items[i].text);
	free(v);
}

static const struct store_rows item_rows = {
	.elem_size = sizeof(struct item),
	.read = read_item,
	.free = free_items,
	.what = "reading items",
};

static struct store *open_fresh(void)
{
	static int seq;
	struct store *s = NULL;
	char path[256];

	snprintf(path, sizeof(path), "%s/rows%d", testlib_tmpdir(), ++seq);
	if (store_open(&s, testlib_fresh_db(path)) < 0)
		fail_msg("%s", error_last());
	return s;
}

static int read_three(struct item **out, size_t *n, struct store *s)
{
	struct db_stmt *st = NULL;
	void *v = NULL;
	int err;

	if ((err = prep(&st, s,
			"SELECT 1, 'one' UNION ALL SELECT 2, 'two' UNION ALL "
			"SELECT 3, 'three'")) == 0)
		err = store_rows_read(&v, n, s, st, &item_rows);
	db_finalize(st);
	*out = v;
	return err;
}

static void every_row_becomes_one_element(void **state)
{
	struct store *s = open_fresh();
	struct item *v = NULL;
	size_t n = 0;

	(void)state;
	fail_at = 0;
	assert_int_equal(read_three(&v, &n, s), 0);
	assert_int_equal(n, 3);
	if (!v) {
		fail();
		return;
	}
	assert_int_equal(v[0].n, 1);
	assert_string_equal(v[0].text, "one");
	assert_int_equal(v[2].n, 3);
	assert_string_equal(v[2].text, "three");
	free_items(v, n);
	store_close(s);
}

static void a_failed_read_returns_nothing_and_frees_what_was_read(void **state)
{
	struct store *s = open_fresh();
	struct item *v = (struct item *)&v;
	size_t n = 99;

	(void)state;
	fail_at = 2;
	n_freed = 0;
	assert_int_equal(read_three(&v, &n, s), TRAWL_ECORRUPT);
	assert_string_equal(error_last(), "item 2 is refused");
	assert_null(v);
	assert_int_equal(n, 0);
	/* The first element and the failing one, whose text the read had copied. */
	assert_int_equal(n_freed, 2);
	store_close(s);
}

static void no_rows_is_an_empty_result(void **state)
{
	struct store *s = open_fresh();
	struct db_stmt *st = NULL;
	void *v = &v;
	size_t n = 99;

	(void)state;
	assert_int_equal(prep(&st, s, "SELECT 1, 'x' WHERE 1 = 0"), 0);
	assert_int_equal(store_rows_read(&v, &n, s, st, &item_rows), 0);
	assert_null(v);
	assert_int_equal(n, 0);
	db_finalize(st);
	store_close(s);
}

static void names_are_null_terminated_even_when_none(void **state)
{
	struct store *s = open_fresh();
	struct db_stmt *st = NULL;
	char **v = NULL;
	size_t n = 99;

	(void)state;
	assert_int_equal(prep(&st, s, "SELECT 'x' WHERE 1 = 0"), 0);
	assert_int_equal(store_names_read(&v, &n, s, st, "reading names"), 0);
	assert_non_null(v);
	assert_int_equal(n, 0);
	assert_null(v[0]);
	store_names_free(v, n);
	db_finalize(st);
	assert_int_equal(prep(&st, s, "SELECT 'b' UNION ALL SELECT 'a'"), 0);
	assert_int_equal(store_names_read(&v, &n, s, st, "reading names"), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "b");
	assert_string_equal(v[1], "a");
	assert_null(v[2]);
	store_names_free(v, n);
	db_finalize(st);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_row_becomes_one_element),
		cmocka_unit_test(a_failed_read_returns_nothing_and_frees_what_was_read),
		cmocka_unit_test(no_rows_is_an_empty_result),
		cmocka_unit_test(names_are_null_terminated_even_when_none),
	};

	int failed = 0;

	if (!testlib_pg_only())
		failed = cmocka_run_group_tests_name("rows (SQLite)", tests, testlib_setup,
						     testlib_teardown);

	if (testlib_pg_begin())
		failed += cmocka_run_group_tests_name("rows (PostgreSQL)", tests, testlib_setup,
						      testlib_teardown);
	return failed;
}
