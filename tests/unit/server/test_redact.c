/*
 * Unit tests for src/server/redact.c: an API token's shape ("trawl_" and 49 base62 characters)
 * is redacted wherever it stands in logged text, and nothing else is touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth/secret.h"
#include "server/redact.h"

static void check(const char *in, const char *want)
{
	char *out = redact_tokens(in, strlen(in));

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void real_tokens_are_redacted_wherever_they_stand(void **state)
{
	char tok[56], in[512], want[512];

	(void)state;
	secret_token_new(tok);
	snprintf(in, sizeof(in), "/api/v1/repos/%s", tok);
	check(in, "/api/v1/repos/" REDACT_TOKEN);
	snprintf(in, sizeof(in), "%s", tok);
	check(in, REDACT_TOKEN);
	snprintf(in, sizeof(in), "q=%s %s/x", tok, tok);
	check(in, "q=" REDACT_TOKEN " " REDACT_TOKEN "/x");
	/* A token glued to more letters goes whole; one glued after a word still goes. */
	snprintf(in, sizeof(in), "/a/%sMORE.txt", tok);
	check(in, "/a/" REDACT_TOKEN ".txt");
	snprintf(in, sizeof(in), "mytrawl_x%s", tok);
	snprintf(want, sizeof(want), "mytrawl_x%s", REDACT_TOKEN);
	check(in, want);
}

static void the_shape_is_enough_and_shorter_runs_stay(void **state)
{
	char in[128];

	(void)state;
	/* 49 base62 characters without a valid checksum: a mistyped token is still a secret. */
	snprintf(in, sizeof(in), "/x/trawl_%s", "0123456789012345678901234567890123456789012345678");
	check(in, "/x/" REDACT_TOKEN);
	/* 48: not a token's shape. */
	check("/x/trawl_012345678901234567890123456789012345678901234567",
	      "/x/trawl_012345678901234567890123456789012345678901234567");
	check("trawl_ trawl_abc TRAWL_0123456789012345678901234567890123456789012345678",
	      "trawl_ trawl_abc TRAWL_0123456789012345678901234567890123456789012345678");
	check("", "");
	check("/api/v1/repos/my_repo", "/api/v1/repos/my_repo");
}

static void only_len_bytes_are_read(void **state)
{
	char *out;

	(void)state;
	out = redact_tokens("/path?secret", 5);
	assert_non_null(out);
	assert_string_equal(out, "/path");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(real_tokens_are_redacted_wherever_they_stand),
		cmocka_unit_test(the_shape_is_enough_and_shorter_runs_stay),
		cmocka_unit_test(only_len_bytes_are_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
