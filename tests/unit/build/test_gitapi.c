/*
 * Unit tests for build/gitapi.h: the git support module's table is accepted as built, and a
 * table of another ABI version, another size or with a missing function is refused with a
 * message naming the module and both versions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "build/gitapi.h"
#include "util/error.h"

static void gitapi_accepts_the_modules_own_table(void **state)
{
	(void)state;
	assert_int_equal(gitapi_check(&trawl_git_api, "trawl-git.so"), 0);
	assert_int_equal(trawl_git_api.abi, TRAWL_GIT_ABI);
}

static void gitapi_refuses_another_abi(void **state)
{
	struct trawl_git_api other = trawl_git_api;
	char want[64];

	(void)state;
	other.abi = TRAWL_GIT_ABI + 1;
	assert_int_equal(gitapi_check(&other, "/opt/trawl/trawl-git.so"), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "/opt/trawl/trawl-git.so"));
	snprintf(want, sizeof(want), "ABI %u ", TRAWL_GIT_ABI + 1);
	assert_non_null(strstr(error_last(), want));
	snprintf(want, sizeof(want), "needs ABI %u ", TRAWL_GIT_ABI);
	assert_non_null(strstr(error_last(), want));
}

static void gitapi_refuses_another_size(void **state)
{
	struct trawl_git_api other = trawl_git_api;

	(void)state;
	other.size = sizeof(other) - sizeof(void *);
	assert_int_equal(gitapi_check(&other, "m.so"), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "ABI"));
}

static void gitapi_refuses_a_missing_table_or_function(void **state)
{
	struct trawl_git_api other = trawl_git_api;

	(void)state;
	assert_int_equal(gitapi_check(NULL, "m.so"), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "not a trawl git support module"));
	other.mirror_sync = NULL;
	assert_int_equal(gitapi_check(&other, "m.so"), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "incomplete"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gitapi_accepts_the_modules_own_table),
		cmocka_unit_test(gitapi_refuses_another_abi),
		cmocka_unit_test(gitapi_refuses_another_size),
		cmocka_unit_test(gitapi_refuses_a_missing_table_or_function),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
