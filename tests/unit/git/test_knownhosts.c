/*
 * Unit tests for src/git/knownhosts.c (T2): parsing DATA/known_hosts (comments, ports, IPv6,
 * bad lines refused with their line number), matching a host and port, and the fingerprint
 * encoding (checked against `ssh-keygen -lf` output for a known key). The ssh transport itself
 * is not tested here: there is no sshd in the test environment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "git/knownhosts.h"
#include "util/error.h"

/* Fingerprints of two different keys, as ssh-keygen prints them. */
#define FP_A "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
#define FP_B "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"

static int parse(struct khosts *k, const char *text)
{
	return khosts_parse(k, text, strlen(text), "DATA/known_hosts");
}

static void fingerprint_matches_ssh_keygen(void **state)
{
	unsigned char zero[32] = { 0 }, seq[32];
	char fp[KHOSTS_FP_SIZE];

	(void)state;
	/* SHA-256 of the empty string, whose base64 is well known. */
	static const unsigned char empty[32] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
		0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
		0xb8, 0x55
	};
	khosts_fingerprint(fp, empty);
	assert_string_equal(fp, FP_A);
	/* The SHA-256 of an ed25519 public key blob, and what `ssh-keygen -lf` printed for it. */
	static const unsigned char key[32] = {
		0x2e, 0x94, 0xa9, 0x7c, 0x71, 0xa9, 0xc4, 0x99, 0x2d, 0xe6, 0xea, 0x1f, 0x7a, 0xbb, 0x9f,
		0x26, 0xc7, 0x15, 0xe3, 0x0b, 0x32, 0x53, 0x26, 0xbf, 0xd4, 0xab, 0x77, 0xdf, 0x8d, 0x65,
		0x71, 0xcc
	};
	khosts_fingerprint(fp, key);
	assert_string_equal(fp, "SHA256:LpSpfHGpxJkt5uoferufJscV4wsyUya/1Kt3341lccw");
	khosts_fingerprint(fp, zero);
	assert_string_equal(fp, "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	for (int i = 0; i < 32; i++)
		seq[i] = (unsigned char)(0xff - i);
	khosts_fingerprint(fp, seq);
	assert_int_equal(strlen(fp), KHOSTS_FP_SIZE - 1);
	assert_null(strchr(fp, '='));
}

static void valid_entries_and_comments_parse(void **state)
{
	struct khosts k;

	(void)state;
	assert_int_equal(parse(&k, "# pinned keys\n"
				   "\n"
				   "git.example.com " FP_A "\n"
				   "   \t\n"
				   "  # indented comment\n"
				   "git.example.com:2222\t" FP_B "\r\n"
				   "[2001:db8::1]:2200 " FP_A "\n"
				   "2001:db8::2 " FP_B), 0);
	assert_int_equal(k.n, 4);
	assert_string_equal(k.v[0].host, "git.example.com");
	assert_int_equal(k.v[0].port, 22);
	assert_string_equal(k.v[0].fp, FP_A);
	assert_int_equal(k.v[1].port, 2222);
	assert_string_equal(k.v[1].fp, FP_B);
	assert_string_equal(k.v[2].host, "2001:db8::1");
	assert_int_equal(k.v[2].port, 2200);
	assert_string_equal(k.v[3].host, "2001:db8::2");
	assert_int_equal(k.v[3].port, 22);
	khosts_dispose(&k);
	assert_int_equal(parse(&k, ""), 0);
	assert_int_equal(k.n, 0);
	khosts_dispose(&k);
}

/* Each bad line is refused with the file, its line number and what is wrong. */
static void bad_lines_are_refused_with_line_numbers(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "# ok\nhost.example\n", "DATA/known_hosts line 2: one field" },
		{ "h " FP_A " extra\n", "line 1: more than two fields" },
		{ "h " FP_A " # trailing\n", "line 1: more than two fields" },
		{ "\n\nh MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48\n",
		  "line 3: the fingerprint must start with SHA256:" },
		{ "h SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", "line 1: the fingerprint "
		  "must be SHA256: and 43 base64" },
		{ "h SHA256:47DEQpj8HBSa\n", "line 1: the fingerprint must be" },
		{ "h SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF!\n", "line 1: the fingerprint" },
		{ "h:0 " FP_A "\n", "line 1: invalid port" },
		{ "h:65536 " FP_A "\n", "line 1: invalid port" },
		{ "h:22x " FP_A "\n", "line 1: invalid port" },
		{ "h: " FP_A "\n", "line 1: invalid port" },
		{ ":22 " FP_A "\n", "line 1: invalid host" },
		{ "-oProxyCommand=x " FP_A "\n", "line 1: invalid host" },
		{ "user@h " FP_A "\n", "line 1: invalid host" },
		{ "[::1 " FP_A "\n", "line 1: '[' without ']'" },
		{ "[::1]x " FP_A "\n", "line 1: text after ']'" },
		{ "[]:22 " FP_A "\n", "line 1: invalid host" },
	};
	struct khosts k = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(&k, cases[i].text), TRAWL_EINVAL);
		if (!strstr(error_last(), cases[i].msg))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, error_last(), cases[i].msg);
		assert_null(k.v);
	}
	/* A NUL byte inside the text is refused, not taken as the end. */
	{
		static const char nul[] = "h " FP_A "\n\0x";

		assert_int_equal(khosts_parse(&k, nul, sizeof(nul) - 1, "f"), TRAWL_EINVAL);
		assert_non_null(strstr(error_last(), "f line 2: a NUL byte"));
	}
}

static void hosts_match_with_and_without_port(void **state)
{
	struct khosts k;

	(void)state;
	assert_int_equal(parse(&k, "git.example.com " FP_A "\n"
				   "git.example.com:2222 " FP_B "\n"
				   "other.example " FP_A "\n"
				   "other.example " FP_B "\n"
				   "[::1]:2200 " FP_A "\n"), 0);
	/* The default port, named or not. */
	assert_int_equal(khosts_check(&k, "git.example.com", NULL, FP_A), 0);
	assert_int_equal(khosts_check(&k, "git.example.com", "", FP_A), 0);
	assert_int_equal(khosts_check(&k, "git.example.com", "22", FP_A), 0);
	assert_int_equal(khosts_check(&k, "GIT.Example.COM", "22", FP_A), 0);
	/* Another port is another entry. */
	assert_int_equal(khosts_check(&k, "git.example.com", "2222", FP_B), 0);
	assert_int_equal(khosts_check(&k, "git.example.com", "2222", FP_A), TRAWL_EPERM);
	assert_int_equal(khosts_check(&k, "git.example.com", "22", FP_B), TRAWL_EPERM);
	assert_int_equal(khosts_check(&k, "git.example.com", "2223", FP_B), TRAWL_ENOTFOUND);
	/* Several keys for one host: any of them. */
	assert_int_equal(khosts_check(&k, "other.example", NULL, FP_A), 0);
	assert_int_equal(khosts_check(&k, "other.example", NULL, FP_B), 0);
	assert_int_equal(khosts_check(&k, "::1", "2200", FP_A), 0);
	assert_int_equal(khosts_check(&k, "::1", NULL, FP_A), TRAWL_ENOTFOUND);
	khosts_dispose(&k);
}

static void missing_host_and_mismatch_are_refused(void **state)
{
	struct khosts k;

	(void)state;
	assert_int_equal(parse(&k, "git.example.com " FP_A "\n"), 0);
	assert_int_equal(khosts_check(&k, "evil.example.com", NULL, FP_A), TRAWL_ENOTFOUND);
	assert_int_equal(khosts_check(&k, "example.com", NULL, FP_A), TRAWL_ENOTFOUND);
	assert_int_equal(khosts_check(&k, "git.example.com.evil", NULL, FP_A), TRAWL_ENOTFOUND);
	assert_int_equal(khosts_check(&k, "git.example.com", NULL, FP_B), TRAWL_EPERM);
	/* The fingerprint is compared exactly: base64 is case-sensitive. */
	assert_int_equal(khosts_check(&k, "git.example.com", NULL,
				      "SHA256:47deqpj8hbsa+/timw+5jceuqerkm5nmpjwzg3hsufu"), TRAWL_EPERM);
	assert_int_equal(khosts_check(&k, "git.example.com", "notaport", FP_A), TRAWL_ENOTFOUND);
	khosts_dispose(&k);
	/* An empty file pins nothing. */
	assert_int_equal(parse(&k, "# nothing yet\n"), 0);
	assert_int_equal(khosts_check(&k, "git.example.com", NULL, FP_A), TRAWL_ENOTFOUND);
	khosts_dispose(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fingerprint_matches_ssh_keygen),
		cmocka_unit_test(valid_entries_and_comments_parse),
		cmocka_unit_test(bad_lines_are_refused_with_line_numbers),
		cmocka_unit_test(hosts_match_with_and_without_port),
		cmocka_unit_test(missing_host_and_mismatch_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
