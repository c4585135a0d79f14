/*
 * Unit tests for src/auth/password.c: the password policy (A2: lengths, Unicode and spaces,
 * no composition rules; A4: the bundled common-password list in any case; not the user's name)
 * and its messages, generated passwords, user and group names, and the token format check.
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

#include "auth/auth.h"
#include "auth/secret.h"
#include "util/error.h"

/* The table scripts/gen_passwords.py compiles from data/common-passwords.txt. */
extern const char *const auth_common_passwords[];
extern const size_t auth_n_common_passwords;

#define LIST_PATH "data/common-passwords.txt"

/* Checks password against the policy; on refusal, that the message does not quote it. */
static int check(const char *user, const char *pw, size_t len)
{
	int err = auth_password_check(user, pw, len);

	if (err < 0 && len >= 4) {
		char *copy = strndup(pw, len);

		assert_non_null(copy);
		assert_null(strstr(error_last(), copy));
		free(copy);
	}
	return err;
}

static void lengths_from_12_to_1024_bytes_are_accepted(void **state)
{
	char pw[AUTH_PASSWORD_MAX + 2];

	(void)state;
	assert_int_equal(check("bob", "elevenchars", 11), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "too short"));
	assert_int_equal(check("bob", "twelve chars", 12), 0);
	assert_int_equal(check("bob", "", 0), TRAWL_EINVAL);
	/* A 16-character all-lowercase password: no composition rules. */
	assert_int_equal(check("bob", "quietlyrunningfox", 16), 0);
	for (size_t i = 0; i < sizeof(pw); i++)
		pw[i] = (char)('a' + (i * 7) % 26);
	assert_int_equal(check("bob", pw, 64), 0);
	assert_int_equal(check("bob", pw, 128), 0);
	assert_int_equal(check("bob", pw, AUTH_PASSWORD_MAX), 0);
	assert_int_equal(check("bob", pw, AUTH_PASSWORD_MAX + 1), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "too long"));
}

/* n characters cycling through ASCII letters, a space, and 2-, 3- and 4-byte characters. */
static size_t unicode_password(char *out, size_t n)
{
	static const char *const parts[] = { "a", " ", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91",
					     "Z" };
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		for (const char *p = parts[i % 6]; *p; p++)
			out[len++] = *p;
	}
	return len;
}

static void unicode_and_spaces_are_accepted(void **state)
{
	char pw[1024];

	(void)state;
	assert_int_equal(check("bob", pw, unicode_password(pw, 12)), 0);
	assert_int_equal(check("bob", pw, unicode_password(pw, 64)), 0);
	assert_int_equal(check("bob", pw, unicode_password(pw, 128)), 0);
	assert_int_equal(check("bob", "  spaced  out  ", 15), 0);
	/* One character repeated, even a space, is not a password. */
	assert_int_equal(check("bob", "            ", 12), TRAWL_EINVAL);
}

static void invalid_utf8_and_nul_are_refused(void **state)
{
	(void)state;
	assert_int_equal(check("bob", "abcdefghijk\xff", 12), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "UTF-8"));
	assert_int_equal(check("bob", "abcdefghij\xc3", 11 + 1), TRAWL_EINVAL);
	assert_int_equal(check("bob", "abcdef\xc0\xafghijk", 13), TRAWL_EINVAL);
	assert_int_equal(check("bob", "abcdef\xed\xa0\x80ghijk", 14), TRAWL_EINVAL);
	assert_int_equal(check("bob", "abcdef\0ghijklm", 14), TRAWL_EINVAL);
}

static void the_users_name_is_refused_in_any_case(void **state)
{
	(void)state;
	assert_int_equal(check("alice.anderson", "Alice.Anderson", 14), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "name"));
	assert_int_equal(check("alice.anderson", "alice.anderson1", 15), 0);
	assert_int_equal(check(NULL, "alice.anderson", 14), 0);
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static char ascii_swap(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c + 32);
	return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

static bool in_table(const char *low)
{
	size_t lo = 0, hi = auth_n_common_passwords;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(low, auth_common_passwords[mid]);

		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

static void every_bundled_common_password_is_refused(void **state)
{
	FILE *f = fopen(LIST_PATH, "r");
	char line[256], low[256], swapped[256];
	size_t n = 0, n_long = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\r\n");

		line[len] = 0;
		if (strncmp(line, "#!", 2) == 0)
			continue;
		for (size_t i = 0; i <= len; i++) {
			low[i] = ascii_lower(line[i]);
			swapped[i] = ascii_swap(line[i]);
		}
		/* The compiled table holds it (whatever its length; the list's empty line is
		 * the empty password, refused by length), so the policy's lookup finds it... */
		assert_true(len == 0 || in_table(low));
		/* ...and the policy refuses it as written, lower-cased and case-swapped. */
		assert_int_equal(auth_password_check("x", line, len), TRAWL_EINVAL);
		assert_int_equal(auth_password_check("x", low, len), TRAWL_EINVAL);
		assert_int_equal(auth_password_check("x", swapped, len), TRAWL_EINVAL);
		if (len >= AUTH_PASSWORD_MIN) {
			assert_non_null(strstr(error_last(), "common passwords"));
			n_long++;
		}
		n++;
	}
	fclose(f);
	assert_int_equal(n, 3546);
	assert_true(n_long > 0);
}

static void the_compiled_list_is_sorted_lower_case_and_unique(void **state)
{
	(void)state;
	assert_true(auth_n_common_passwords > 3000);
	for (size_t i = 0; i < auth_n_common_passwords; i++) {
		const char *w = auth_common_passwords[i];

		for (const char *p = w; *p; p++)
			assert_false(*p >= 'A' && *p <= 'Z');
		if (i > 0)
			assert_true(strcmp(auth_common_passwords[i - 1], w) < 0);
	}
}

static void long_common_passwords_are_refused_in_any_case(void **state)
{
	char pw[256];
	size_t len = 0, n = 0;

	(void)state;
	/* The table's entries of policy length, each refused case-swapped. */
	for (size_t i = 0; i < auth_n_common_passwords; i++) {
		const char *w = auth_common_passwords[i];

		len = strlen(w);
		if (len < AUTH_PASSWORD_MIN || len >= sizeof(pw))
			continue;
		for (size_t k = 0; k < len; k++)
			pw[k] = ascii_swap(w[k]);
		assert_int_equal(check(NULL, pw, len), TRAWL_EINVAL);
		assert_non_null(strstr(error_last(), "common passwords"));
		n++;
	}
	assert_true(n > 0);
	/* Containing a common password among other words is fine; padding it with digits is not. */
	assert_int_equal(check(NULL, "my password is a long one", 25), 0);
	assert_int_equal(check(NULL, "password1234567", 15), TRAWL_EINVAL);
}

static void generated_passwords_pass_the_policy(void **state)
{
	char a[21], b[21];

	(void)state;
	auth_password_generate(a);
	auth_password_generate(b);
	assert_int_equal(strlen(a), 20);
	assert_string_not_equal(a, b);
	for (size_t i = 0; i < 20; i++)
		assert_non_null(
			strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
			       a[i]));
	assert_int_equal(auth_password_check("bob", a, 20), 0);
}

static void names(void **state)
{
	char longest[AUTH_NAME_MAX + 2];

	(void)state;
	assert_int_equal(auth_name_check("alice"), 0);
	assert_int_equal(auth_name_check("A.b_c@d+e-f9"), 0);
	assert_int_equal(auth_name_check("a"), 0);
	assert_int_equal(auth_name_check(""), TRAWL_EINVAL);
	assert_int_equal(auth_name_check("-alice"), TRAWL_EINVAL);
	assert_int_equal(auth_name_check(".alice"), TRAWL_EINVAL);
	assert_int_equal(auth_name_check("ali ce"), TRAWL_EINVAL);
	assert_int_equal(error_pos(), 3);
	assert_int_equal(auth_name_check("alice/bob"), TRAWL_EINVAL);
	assert_int_equal(auth_name_check("al\nice"), TRAWL_EINVAL);
	assert_null(strchr(error_last(), '\n'));
	assert_int_equal(auth_name_check("\xc3\xa9mile"), TRAWL_EINVAL);
	memset(longest, 'a', sizeof(longest));
	longest[AUTH_NAME_MAX] = 0;
	assert_int_equal(auth_name_check(longest), 0);
	longest[AUTH_NAME_MAX] = 'a';
	longest[AUTH_NAME_MAX + 1] = 0;
	assert_int_equal(auth_name_check(longest), TRAWL_EINVAL);
}

static void token_format(void **state)
{
	char t[56];

	(void)state;
	secret_token_new(t);
	assert_true(auth_token_well_formed(t, strlen(t)));
	assert_false(auth_token_well_formed("trawl_", 6));
	assert_false(auth_token_well_formed("trawl_0000000000000000000000000000000000000000000000000"
					    "0",
					    56));
	/* A zero body with a wrong checksum, and a body with a character outside base62. */
	assert_false(auth_token_well_formed("trawl_0000000000000000000000000000000000000000000000000",
					    55));
	t[20] = '-';
	assert_false(auth_token_well_formed(t, 55));
}

/* Refused with a message holding want, and never quoting the password. */
static void refused(const char *pw, const char *want)
{
	if (check("bob", pw, strlen(pw)) != TRAWL_EINVAL)
		fail_msg("\"%s\" was accepted", pw);
	if (!strstr(error_last(), want))
		fail_msg("\"%s\": %s", pw, error_last());
}

/* A4: repeats, straight runs and padded common passwords are refused; passphrases are not. */
static void weak_patterns_are_refused(void **state)
{
	static const char *const good[] = {
		"plover-quartz-meadow-71", "correct horse battery staple", "quietlyrunningfox",
		"twelve chars", "Tr0ub4dor&3xyz", "abcdefghijkm", "zebra-zebra-zebra-zebra-1",
	};

	(void)state;
	refused("aaaaaaaaaaaa", "repeated");
	refused("AaAaAaAaAaAa", "repeated");
	refused("abcabcabcabc", "repeated");
	refused("abc123abc123ab", "repeated");
	refused("123456789012", "straight run");
	refused("abcdefghijkl", "straight run");
	refused("ZYXWVUTSRQPO", "straight run");
	refused("qwertyuiopas", "straight run");
	refused("mnbvcxzlkjhg", "straight run");
	refused("9876543210987", "straight run");
	refused("!@#$%^&*()!@", "straight run");
	refused("password1234", "common password");
	refused("Password123!", "common password");
	refused("!!qwerty2024", "common password");
	refused("passwordpassword", "common password");
	refused("iloveyouiloveyou1", "common password");
	refused("monkeyyyyyyy", "common password");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (check("bob", good[i], strlen(good[i])) != 0)
			fail_msg("\"%s\" was refused: %s", good[i], error_last());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(weak_patterns_are_refused),
		cmocka_unit_test(lengths_from_12_to_1024_bytes_are_accepted),
		cmocka_unit_test(unicode_and_spaces_are_accepted),
		cmocka_unit_test(invalid_utf8_and_nul_are_refused),
		cmocka_unit_test(the_users_name_is_refused_in_any_case),
		cmocka_unit_test(every_bundled_common_password_is_refused),
		cmocka_unit_test(the_compiled_list_is_sorted_lower_case_and_unique),
		cmocka_unit_test(long_common_passwords_are_refused_in_any_case),
		cmocka_unit_test(generated_passwords_pass_the_policy),
		cmocka_unit_test(names),
		cmocka_unit_test(token_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
