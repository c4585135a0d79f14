/* Unit tests for the memory table of compiled databases (dbcache.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "regex/dbcache.h"

static hs_database_t *compile(const char *pattern)
{
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;

	assert_int_equal(hs_compile(pattern, 0, HS_MODE_BLOCK, NULL, &db, &cerr), HS_SUCCESS);
	return db;
}

/* Flags unlikely to collide with another test's entries in the process-wide table. */
#define F 0x40000000u

static void mem_shares_one_database_per_key(void **state)
{
	hs_database_t *a, *b, *got;

	(void)state;
	assert_null(dbcache_mem_get("abc", 3, F));
	a = dbcache_mem_put("abc", 3, F, compile("abc"));
	assert_non_null(a);
	got = dbcache_mem_get("abc", 3, F);
	assert_ptr_equal(got, a);
	/* The same key from another compilation: the first database wins, the second is freed. */
	b = dbcache_mem_put("abc", 3, F, compile("abc"));
	assert_ptr_equal(b, a);
	/* Another key or other flags are other entries. */
	assert_null(dbcache_mem_get("abd", 3, F));
	assert_null(dbcache_mem_get("abc", 3, F | 1));
	assert_null(dbcache_mem_get("ab", 2, F));
	dbcache_release(a);
	dbcache_release(got);
	dbcache_release(b);
	/* Released, but kept for the next query. */
	got = dbcache_mem_get("abc", 3, F);
	assert_ptr_equal(got, a);
	dbcache_release(got);
}

static void mem_evicts_least_recently_used_unheld(void **state)
{
	char key[32];
	hs_database_t *held, *db;

	(void)state;
	held = dbcache_mem_put("held", 4, F, compile("held"));
	for (int i = 0; i < DBCACHE_MEM_ENTRIES * 2; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		db = dbcache_mem_put(key, strlen(key), F, compile(key));
		dbcache_release(db);
	}
	/* The first unheld keys were evicted; the newest and the held one stay. */
	assert_null(dbcache_mem_get("k0", 2, F));
	snprintf(key, sizeof(key), "k%d", DBCACHE_MEM_ENTRIES * 2 - 1);
	db = dbcache_mem_get(key, strlen(key), F);
	assert_non_null(db);
	dbcache_release(db);
	assert_ptr_equal(dbcache_mem_get("held", 4, F), held);
	dbcache_release(held);
	dbcache_release(held);
}

static void mem_full_of_held_databases_leaves_new_ones_to_caller(void **state)
{
	hs_database_t *dbs[DBCACHE_MEM_ENTRIES], *extra;
	char key[32];

	(void)state;
	for (int i = 0; i < DBCACHE_MEM_ENTRIES; i++) {
		snprintf(key, sizeof(key), "h%d", i);
		dbs[i] = dbcache_mem_put(key, strlen(key), F, compile(key));
	}
	/* Every slot is held: the new database is not kept, and release frees it (ASan). */
	extra = dbcache_mem_put("extra", 5, F, compile("extra"));
	assert_non_null(extra);
	assert_null(dbcache_mem_get("extra", 5, F));
	dbcache_release(extra);
	for (int i = 0; i < DBCACHE_MEM_ENTRIES; i++)
		dbcache_release(dbs[i]);
	dbcache_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mem_shares_one_database_per_key),
		cmocka_unit_test(mem_evicts_least_recently_used_unheld),
		cmocka_unit_test(mem_full_of_held_databases_leaves_new_ones_to_caller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
