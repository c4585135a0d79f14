/*
 * Unit tests for src/util/conf.c: the `key = value` format (blanks, comments, CRLF, values
 * holding '=' and '#'), every malformed line refused with the file and line named, the bounds,
 * and conf_load's refusals (missing file, a symlink).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/conf.h"
#include "util/error.h"

static struct conf parse_ok(const char *text)
{
	struct conf c;

	if (conf_parse(&c, text, strlen(text), "t.conf") != 0)
		fail_msg("refused: %s", error_last());
	return c;
}

static void parse_bad(const char *text, int want, const char *why)
{
	struct conf c;
	int err = conf_parse(&c, text, strlen(text), "t.conf");

	if (err != want)
		fail_msg("\"%s\": got %d, not %d", text, err, want);
	assert_int_equal(c.n, 0);
	assert_null(c.v);
	if (!strstr(error_last(), why))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", text, error_last(), why);
}

static void keys_values_and_lines(void **state)
{
	struct conf c = parse_ok("# trawl\n"
				 "\n"
				 "oidc-issuer = https://idp.example.com/realms/a\n"
				 "  oidc-scopes=openid email  \r\n"
				 "\t# indented comment\n"
				 "oidc-allowed-domain = example.com\n"
				 "oidc-allowed-domain = example.org");

	(void)state;
	assert_int_equal(c.n, 4);
	assert_string_equal(c.v[0].key, "oidc-issuer");
	assert_string_equal(c.v[0].value, "https://idp.example.com/realms/a");
	assert_int_equal(c.v[0].line, 3);
	assert_string_equal(c.v[1].key, "oidc-scopes");
	assert_string_equal(c.v[1].value, "openid email");
	assert_int_equal(c.v[1].line, 4);
	assert_int_equal(c.v[2].line, 6);
	assert_string_equal(c.v[3].value, "example.org");
	assert_int_equal(c.v[3].line, 7);
	conf_dispose(&c);
	conf_dispose(&c); /* a no-op once empty */
}

/* The value is the rest of the line, literally: '=', '#' and quotes are its own. */
static void values_are_literal(void **state)
{
	struct conf c = parse_ok("a = b = c # not a comment\nq = \"x\"\n");

	(void)state;
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0].value, "b = c # not a comment");
	assert_string_equal(c.v[1].value, "\"x\"");
	conf_dispose(&c);
}

static void empty_texts_have_no_entries(void **state)
{
	struct conf c = parse_ok("");

	(void)state;
	assert_int_equal(c.n, 0);
	c = parse_ok("\n\n  \n# only comments\n");
	assert_int_equal(c.n, 0);
	conf_dispose(&c);
}

static void malformed_lines_name_the_file_and_line(void **state)
{
	(void)state;
	parse_bad("a = 1\njust words\n", TRAWL_EINVAL, "t.conf:2: expected '='");
	parse_bad("= value\n", TRAWL_EINVAL, "t.conf:1: expected `key = value`");
	parse_bad("Oidc-Issuer = x\n", TRAWL_EINVAL, "t.conf:1: expected `key = value`");
	parse_bad("key_name = x\n", TRAWL_EINVAL, "t.conf:1: expected '='");
	parse_bad("\n\nkey =   \n", TRAWL_EINVAL, "t.conf:3: the key has no value");
	parse_bad("key\n", TRAWL_EINVAL, "t.conf:1: expected '='");
	parse_bad("key = a\x01z\n", TRAWL_EINVAL, "t.conf:1: a control character (byte 1)");
	parse_bad("key = a\rz\n", TRAWL_EINVAL, "a control character (byte 13)");
	parse_bad("key = a\x7fz\n", TRAWL_EINVAL, "byte 127");
}

static void a_nul_is_refused(void **state)
{
	struct conf c;
	static const char text[] = "key = a\0b\n";

	(void)state;
	assert_int_equal(conf_parse(&c, text, sizeof(text) - 1, "t.conf"), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "byte 0"));
}

static void bounds_are_kept(void **state)
{
	char *text = malloc(CONF_LINE_MAX + 16), key[CONF_KEY_MAX + 8];
	struct conf c;
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	memcpy(text, "k = ", 4);
	memset(text + 4, 'v', CONF_LINE_MAX - 4);
	text[CONF_LINE_MAX] = 0;
	c = parse_ok(text); /* exactly the longest line */
	assert_int_equal(strlen(c.v[0].value), CONF_LINE_MAX - 4);
	conf_dispose(&c);
	memcpy(text + CONF_LINE_MAX, "v\n", 3);
	parse_bad(text, TRAWL_ELIMIT, "t.conf:1: the line is longer than");
	free(text);

	memset(key, 'k', CONF_KEY_MAX + 1);
	memcpy(key + CONF_KEY_MAX + 1, "=x", 3);
	parse_bad(key, TRAWL_EINVAL, "a key of up to");

	text = malloc(((size_t)CONF_ENTRIES_MAX + 1) * 8 + 1);
	assert_non_null(text);
	for (size_t i = 0; i <= CONF_ENTRIES_MAX; i++)
		n += (size_t)snprintf(text + n, 9, "k = %03zu\n", i % 1000);
	parse_bad(text, TRAWL_ELIMIT, "more than");
	text[(size_t)CONF_ENTRIES_MAX * 8] = 0;
	c = parse_ok(text);
	assert_int_equal(c.n, CONF_ENTRIES_MAX);
	conf_dispose(&c);
	free(text);
}

static void load_reads_a_file_and_refuses_a_symlink(void **state)
{
	char dir[] = "/tmp/trawl-conf-XXXXXX", path[64], link_path[64];
	struct conf c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/trawl.conf", dir);
	snprintf(link_path, sizeof(link_path), "%s/link.conf", dir);
	assert_int_equal(conf_load(&c, path), TRAWL_ENOTFOUND);
	assert_non_null(f = fopen(path, "w"));
	fputs("oidc-client-id = trawl\nbad line\n", f);
	fclose(f);
	assert_int_equal(conf_load(&c, path), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "trawl.conf:2:"));
	assert_non_null(f = fopen(path, "w"));
	fputs("oidc-client-id = trawl\n", f);
	fclose(f);
	assert_int_equal(conf_load(&c, path), 0);
	assert_int_equal(c.n, 1);
	conf_dispose(&c);
	assert_int_equal(symlink(path, link_path), 0);
	assert_true(conf_load(&c, link_path) < 0);
	assert_int_equal(c.n, 0);
	unlink(link_path);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_values_and_lines),
		cmocka_unit_test(values_are_literal),
		cmocka_unit_test(empty_texts_have_no_entries),
		cmocka_unit_test(malformed_lines_name_the_file_and_line),
		cmocka_unit_test(a_nul_is_refused),
		cmocka_unit_test(bounds_are_kept),
		cmocka_unit_test(load_reads_a_file_and_refuses_a_symlink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
