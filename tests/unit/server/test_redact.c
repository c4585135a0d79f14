/*
 * Unit tests for src/server/redact.c: an API token's shape ("trawl_" and 49 base62 characters)
 * is redacted wherever it stands in logged text, percent-encoded too, and nothing else is
 * touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

static void tokens_pasted_back_to_back_all_go(void **state)
{
	char a[56], b[56], c[56], in[512];
	char *out;

	(void)state;
	secret_token_new(a);
	secret_token_new(b);
	secret_token_new(c);
	/* The first run goes on through the second's "trawl": its secret must go too. */
	snprintf(in, sizeof(in), "/api/v1/repos/%s%s", a, b);
	out = redact_tokens(in, strlen(in));
	assert_non_null(out);
	assert_null(strstr(out, b + 6));
	assert_null(strstr(out, a + 6));
	free(out);
	snprintf(in, sizeof(in), "%s%s%s", a, b, c);
	out = redact_tokens(in, strlen(in));
	assert_non_null(out);
	for (const char *t = a; t; t = t == a ? b : t == b ? c : NULL) {
		char part[8];

		/* No 7 characters of any secret are left. */
		for (size_t i = 6; i + 7 <= 55; i++) {
			memcpy(part, t + i, 7);
			part[7] = '\0';
			assert_null(strstr(out, part));
		}
	}
	free(out);
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

/* Every character of s as "%XX". */
static void encode_all(char *out, size_t max, const char *s)
{
	size_t w = 0;

	for (; *s && w + 4 <= max; s++, w += 3)
		snprintf(out + w, max - w, "%%%02X", (unsigned char)*s);
	out[w] = '\0';
}

static void percent_encoded_tokens_are_redacted(void **state)
{
	char tok[56], all[200], in[512];

	(void)state;
	secret_token_new(tok);
	snprintf(in, sizeof(in), "/api/v1/repos/trawl%%5F%s", tok + 6);
	check(in, "/api/v1/repos/" REDACT_TOKEN);
	snprintf(in, sizeof(in), "/api/v1/repos/%%74rawl_%s/x", tok + 6);
	check(in, "/api/v1/repos/" REDACT_TOKEN "/x");
	/* One character of the random part encoded, in lower-case hex. */
	snprintf(in, sizeof(in), "/no/such/%.30s%%%02x%s", tok, (unsigned char)tok[30], tok + 31);
	check(in, "/no/such/" REDACT_TOKEN);
	encode_all(all, sizeof(all), tok);
	snprintf(in, sizeof(in), "/api/v1/repos/%s?", all);
	check(in, "/api/v1/repos/" REDACT_TOKEN "?");
	/* Encoded twice, as a proxy that decodes once would pass it on. */
	snprintf(in, sizeof(in), "/r/trawl%%255F%s", tok + 6);
	check(in, "/r/" REDACT_TOKEN);
	/* The text around it stays as received, escapes included. */
	snprintf(in, sizeof(in), "/a%%20b/trawl%%5f%s/c%%2Fd", tok + 6);
	check(in, "/a%20b/" REDACT_TOKEN "/c%2Fd");
}

static void decoding_finds_no_token_where_there_is_none(void **state)
{
	(void)state;
	/* A symbol named trawl_something stays readable, encoded or not. */
	check("/api/v1/search/trawl%5Fsearch_run_all", "/api/v1/search/trawl%5Fsearch_run_all");
	check("trawl_something_long_and_readable", "trawl_something_long_and_readable");
	/* 48 characters after an encoded prefix: not a token's shape. */
	check("/x/trawl%5F012345678901234567890123456789012345678901234567",
	      "/x/trawl%5F012345678901234567890123456789012345678901234567");
	/* Broken escapes are text, at the end too. */
	check("/x/%", "/x/%");
	check("/x/%4", "/x/%4");
	check("/x/%zz%4g%", "/x/%zz%4g%");
	check("%25%25%25", "%25%25%25");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(real_tokens_are_redacted_wherever_they_stand),
		cmocka_unit_test(tokens_pasted_back_to_back_all_go),
		cmocka_unit_test(the_shape_is_enough_and_shorter_runs_stay),
		cmocka_unit_test(only_len_bytes_are_read),
		cmocka_unit_test(percent_encoded_tokens_are_redacted),
		cmocka_unit_test(decoding_finds_no_token_where_there_is_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
