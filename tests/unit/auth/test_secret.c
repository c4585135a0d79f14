/*
 * Unit tests for src/auth/secret.c: argon2id hashes and their parameters (A1), whole-password
 * verification (A3), session ids (S1) and API tokens (A9) from the CSPRNG, the keyed hash, the
 * key file's creation and refusals, and the parsing of the Cookie and Authorization headers.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth/auth.h"
#include "auth/secret.h"
#include "auth/secret_int.h"
#include "unit/testlib.h"
#include "util/error.h"

struct phc {
	unsigned long m, t, p;
	char salt[64], hash[128];
};

/* Splits "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH", failing the test on any other shape. */
static void phc_parse(struct phc *out, const char *s)
{
	const char *prefix = "$argon2id$v=19$m=";
	const char *p = s + strlen(prefix), *d1, *d2;
	char *end;

	assert_memory_equal(s, prefix, strlen(prefix));
	out->m = strtoul(p, &end, 10);
	assert_memory_equal(end, ",t=", 3);
	out->t = strtoul(end + 3, &end, 10);
	assert_memory_equal(end, ",p=", 3);
	out->p = strtoul(end + 3, &end, 10);
	assert_int_equal(*end, '$');
	d1 = end + 1;
	d2 = strchr(d1, '$');
	assert_non_null(d2);
	assert_true((size_t)(d2 - d1) < sizeof(out->salt));
	memcpy(out->salt, d1, (size_t)(d2 - d1));
	out->salt[d2 - d1] = 0;
	assert_true(strlen(d2 + 1) < sizeof(out->hash));
	memcpy(out->hash, d2 + 1, strlen(d2 + 1) + 1);
}

static void two_hashes_of_one_password_differ_and_meet_the_minimums(void **state)
{
	const char *pw = "same password for both";
	char h1[AUTH_PWHASH_LEN], h2[AUTH_PWHASH_LEN];
	struct phc a, b;

	(void)state;
	assert_int_equal(secret_pwhash(h1, pw, strlen(pw), AUTH_PWHASH_TEST), 0);
	assert_int_equal(secret_pwhash(h2, pw, strlen(pw), AUTH_PWHASH_TEST), 0);
	phc_parse(&a, h1);
	phc_parse(&b, h2);
	/* The checklist's floor: argon2id, t >= 2, m >= 19 MiB, p = 1; a salt of >= 16 bytes
	 * (22 base64 characters without padding). */
	assert_true(a.t >= 2);
	assert_true(a.m >= 19ul * 1024);
	assert_int_equal(a.p, 1);
	assert_true(strlen(a.salt) >= 22);
	assert_string_not_equal(a.salt, b.salt);
	assert_string_not_equal(a.hash, b.hash);
	assert_true(secret_pwverify(h1, pw, strlen(pw)));
	assert_true(secret_pwverify(h2, pw, strlen(pw)));
}

static void cost_zero_uses_the_moderate_limits(void **state)
{
	const char *pw = "a moderate password";
	char h[AUTH_PWHASH_LEN];
	struct phc a;

	(void)state;
	assert_int_equal(secret_pwhash(h, pw, strlen(pw), 0), 0);
	phc_parse(&a, h);
	/* libsodium's MODERATE: 256 MiB, t=3. */
	assert_int_equal(a.m, 256ul * 1024);
	assert_int_equal(a.t, 3);
	assert_int_equal(a.p, 1);
	assert_true(secret_pwverify(h, pw, strlen(pw)));
}

static void the_whole_password_is_checked_exactly(void **state)
{
	char pw[101], other[101], h[AUTH_PWHASH_LEN];

	(void)state;
	for (size_t i = 0; i < 100; i++)
		pw[i] = (char)((i % 2 ? 'a' : 'Q') + i % 20);
	pw[100] = 0;
	assert_int_equal(secret_pwhash(h, pw, 100, AUTH_PWHASH_TEST), 0);
	assert_true(secret_pwverify(h, pw, 100));
	assert_false(secret_pwverify(h, pw, 72));
	assert_false(secret_pwverify(h, pw, 99));
	for (size_t i = 0; i < 100; i++) {
		char c = pw[i];

		other[i] = c >= 'a' && c <= 'z'   ? (char)(c - 32)
			   : c >= 'A' && c <= 'Z' ? (char)(c + 32)
						  : c;
	}
	assert_memory_not_equal(other, pw, 100);
	assert_false(secret_pwverify(h, other, 100));
	/* A NUL inside the password counts like any byte. */
	pw[50] = 0;
	assert_false(secret_pwverify(h, pw, 100));
}

static void verify_refuses_malformed_hashes(void **state)
{
	char h[AUTH_PWHASH_LEN];

	(void)state;
	memset(h, 'x', sizeof(h)); /* no NUL: must not be read past its end */
	assert_false(secret_pwverify(h, "anything", 8));
	assert_false(secret_pwverify("", "anything", 8));
	assert_false(secret_pwverify("$argon2id$v=19$m=65536,t=2,p=1$", "anything", 8));
	/* The dummy never succeeds and never crashes, at either cost. */
	secret_pwverify_dummy("anything", 8, AUTH_PWHASH_TEST);
	secret_pwverify_dummy("", 0, AUTH_PWHASH_TEST);
}

static int b64_value(char c)
{
	const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *p = strchr(a, c);

	return c && p ? (int)(p - a) : -1;
}

/* Decodes unpadded base64url, failing the test on a bad character; returns the byte count. */
static size_t b64_decode(unsigned char *out, const char *s)
{
	size_t n = 0, len = strlen(s);
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);

		assert_true(v >= 0);
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

static int cmp_ids(const void *a, const void *b)
{
	return memcmp(a, b, AUTH_SESSION_ID_LEN + 1);
}

static void session_ids_are_unique_and_look_random(void **state)
{
	enum { N = 10000 };
	char(*ids)[AUTH_SESSION_ID_LEN + 1] = calloc(N, sizeof(*ids));
	unsigned long ones[256] = { 0 };

	(void)state;
	assert_non_null(ids);
	for (size_t i = 0; i < N; i++) {
		unsigned char raw[48];

		secret_random_b64url(ids[i], 32);
		assert_int_equal(strlen(ids[i]), AUTH_SESSION_ID_LEN);
		assert_int_equal(b64_decode(raw, ids[i]), 32);
		for (size_t b = 0; b < 256; b++)
			ones[b] += (raw[b / 8] >> (b % 8)) & 1;
	}
	qsort(ids, N, sizeof(*ids), cmp_ids);
	for (size_t i = 1; i < N; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	/* Each of the 256 bit positions is set about N/2 times (sd 50): 4500..5500 is 10 sd. */
	for (size_t b = 0; b < 256; b++) {
		assert_true(ones[b] > 4500);
		assert_true(ones[b] < 5500);
	}
	free(ids);
}

static void random_ids_have_the_encoded_length(void **state)
{
	char out[SECRET_B64_LEN(100)];

	(void)state;
	for (size_t n = 0; n <= 100; n++) {
		unsigned char raw[100];

		memset(out, '#', sizeof(out));
		secret_random_b64url(out, n);
		assert_int_equal(strlen(out), (n * 4 + 2) / 3);
		assert_int_equal(b64_decode(raw, out), n);
	}
}

static void tokens_carry_32_random_bytes_and_a_checksum(void **state)
{
	char t[56], u[56];
	unsigned char raw[32], raw2[32];

	(void)state;
	secret_token_new(t);
	secret_token_new(u);
	assert_int_equal(strlen(t), AUTH_TOKEN_LEN);
	assert_memory_equal(t, "trawl_", 6);
	assert_string_not_equal(t, u);
	assert_true(auth_token_well_formed(t, AUTH_TOKEN_LEN));
	assert_int_equal(secret_base62_decode(raw, 32, t + 6, 43), 0);
	assert_int_equal(secret_base62_decode(raw2, 32, u + 6, 43), 0);
	assert_memory_not_equal(raw, raw2, 32);
	/* Every single-character change of the body or the checksum is caught by the CRC. */
	for (size_t i = 6; i < AUTH_TOKEN_LEN; i++) {
		char saved = t[i];

		t[i] = saved == 'z' ? 'y' : (char)(saved == '9' ? 'A' : saved + 1);
		assert_false(auth_token_well_formed(t, AUTH_TOKEN_LEN));
		t[i] = saved;
	}
	assert_true(auth_token_well_formed(t, AUTH_TOKEN_LEN));
	assert_false(auth_token_well_formed(t, AUTH_TOKEN_LEN - 1));
	assert_false(auth_token_well_formed("", 0));
	t[0] = 'T';
	assert_false(auth_token_well_formed(t, AUTH_TOKEN_LEN));
}

static void a_body_over_256_bits_is_not_a_token(void **state)
{
	char t[56];
	unsigned char raw[32];

	(void)state;
	/* "z" * 43 is 62^43 - 1, above 2^256 - 1: no 32 bytes encode to it. */
	memset(t + 6, 'z', 43);
	assert_int_equal(secret_base62_decode(raw, 32, t + 6, 43), TRAWL_EINVAL);
	assert_int_equal(secret_base62_decode(raw, 32, "0-", 2), TRAWL_EINVAL);
	assert_int_equal(secret_base62_decode(raw, 1, "47", 2), 0); /* 4 * 62 + 7 = 255 */
	assert_int_equal(raw[0], 255);
	assert_int_equal(secret_base62_decode(raw, 1, "48", 2), TRAWL_EINVAL);
}

static void keyed_hash_is_hmac_sha256(void **state)
{
	/* RFC 4231 test case 2 needs a 4-byte key; case 1's 20-byte key padded with zeros to
	 * 32 bytes gives the same HMAC (keys shorter than a block are zero-padded). */
	unsigned char key[32] = { 0 }, out[32], out2[32];
	static const unsigned char want[32] = { 0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53,
						0x5c, 0xa8, 0xaf, 0xce, 0xaf, 0x0b, 0xf1, 0x2b,
						0x88, 0x1d, 0xc2, 0x00, 0xc9, 0x83, 0x3d, 0xa7,
						0x26, 0xe9, 0x37, 0x6c, 0x2e, 0x32, 0xcf, 0xf7 };

	(void)state;
	memset(key, 0x0b, 20);
	secret_keyed_hash(out, key, "Hi There", 8);
	assert_memory_equal(out, want, 32);
	key[0] ^= 1;
	secret_keyed_hash(out2, key, "Hi There", 8);
	assert_memory_not_equal(out, out2, 32);
}

/* The kept-state hasher gives the keyed hash, call after call. */
static void hasher_equals_keyed_hash(void **state)
{
	unsigned char key[32], want[32], got[32];
	struct secret_hasher h;

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 7 + 1);
	secret_hasher_init(&h, key);
	for (int round = 0; round < 2; round++) {
		secret_keyed_hash(want, key, "trawl_session", 13);
		secret_hasher_hash(&h, got, "trawl_session", 13);
		assert_memory_equal(got, want, 32);
	}
	secret_keyed_hash(want, key, "", 0);
	secret_hasher_hash(&h, got, "", 0);
	assert_memory_equal(got, want, 32);
	secret_hasher_dispose(&h);
}

/* A token of body (43 characters) with the CRC the format gives it: base62(CRC32(body)). */
static void token_of_body(char t[56], const char *body)
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint32_t crc = (uint32_t)crc32(0, (const unsigned char *)body, 43);

	memcpy(t, "trawl_", 6);
	memcpy(t + 6, body, 43);
	for (int d = 5; d >= 0; d--) {
		t[49 + d] = b62[crc % 62];
		crc /= 62;
	}
	t[55] = 0;
}

/*
 * The check of a token's body compares strings instead of decoding: it must accept exactly
 * the bodies that decode to 32 bytes, at the boundary and around it.
 */
static void canonical_check_agrees_with_decoding(void **state)
{
	static const char *bodies[] = {
		"yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1", /* 2^256 - 1: the largest */
		"yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp2", /* 2^256 */
		"yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp0",
		"yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xq0",
		"yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xpz",
		"yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xoz",
		"z000000000000000000000000000000000000000000",
		"0000000000000000000000000000000000000000000",
		"yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp-",
		"yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8X 0",
	};
	unsigned char raw[32], ff[32];
	char t[56];

	(void)state;
	memset(ff, 0xff, sizeof(ff));
	assert_int_equal(secret_base62_decode(raw, 32, bodies[0], 43), 0);
	assert_memory_equal(raw, ff, 32);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		bool decodes = secret_base62_decode(raw, 32, bodies[i], 43) == 0;

		token_of_body(t, bodies[i]);
		assert_int_equal(secret_token_check(t, AUTH_TOKEN_LEN), decodes);
	}
	/* Every token trawl makes passes. */
	for (int k = 0; k < 1000; k++) {
		secret_token_new(t);
		assert_true(secret_token_check(t, AUTH_TOKEN_LEN));
	}
}

/* Whether dir holds a leftover temporary key file. */
static bool has_temporary(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		found |= strstr(de->d_name, ".new.") != NULL;
	closedir(d);
	return found;
}

static void key_file_is_made_once_with_mode_0600(void **state)
{
	unsigned char k1[32], k2[32], zero[32] = { 0 };
	const char *path = testlib_path("auth.key");
	struct stat st;

	(void)state;
	assert_int_equal(secret_key_load(k1, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	assert_memory_not_equal(k1, zero, 32);
	assert_int_equal(secret_key_load(k2, path), 0);
	assert_memory_equal(k1, k2, 32);
	assert_false(has_temporary(testlib_tmpdir()));
}

static void key_file_refusals(void **state)
{
	unsigned char k[32];
	const char *path = testlib_path("key-refused");
	const char *link_path = testlib_path("key-link");

	(void)state;
	assert_int_equal(secret_key_load(k, path), 0);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(secret_key_load(k, path), TRAWL_EPERM);
	assert_non_null(strstr(error_last(), "chmod 600"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(secret_key_load(k, path), TRAWL_EPERM);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(truncate(path, 31), 0);
	assert_int_equal(secret_key_load(k, path), TRAWL_ECORRUPT);
	assert_int_equal(symlink(path, link_path), 0);
	assert_int_equal(secret_key_load(k, link_path), TRAWL_ECORRUPT);
	assert_int_equal(secret_key_load(k, testlib_tmpdir()), TRAWL_ECORRUPT);
	assert_int_equal(secret_key_load(k, testlib_path("no-such-dir/auth.key")), TRAWL_EIO);
}

/* What secret_key_load gives the unprivileged user nobody for path, from a child process. */
static int key_load_as_nobody(const char *path)
{
	unsigned char k[32];
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int err;

		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(100);
		err = secret_key_load(k, path);
		_exit(err == 0 ? 0 : err == TRAWL_EPERM ? 1 : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/*
 * A key file owned by root may be read by its group (a Kubernetes Secret mounted with fsGroup:
 * root, mode 0440, the pod's group); nobody else may read it and nobody may write it.
 * Needs root (to make root's file and become another user); skipped otherwise.
 */
static void key_file_of_root_may_be_read_by_its_group(void **state)
{
	static const struct { mode_t mode; int want; } cases[] = {
		{ 0440, 0 }, { 0640, 0 }, { 0400, 2 }, /* 0400: nobody cannot open it at all */
		{ 0444, 1 }, { 0460, 1 }, { 0450, 1 }, { 0442, 1 },
	};
	char dir[] = "/tmp/trawl-keygroup.XXXXXX", path[64];
	unsigned char k[32];

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/auth.key", dir);
	assert_int_equal(secret_key_load(k, path), 0);
	assert_int_equal(chown(path, 0, 65534), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(chmod(path, cases[i].mode), 0);
		if (key_load_as_nobody(path) != cases[i].want)
			fail_msg("mode %03o: expected %d", (unsigned)cases[i].mode, cases[i].want);
	}
	/* Root's own file: root reads it only as 0600, as any owner. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(secret_key_load(k, path), TRAWL_EPERM);
	unlink(path);
	rmdir(dir);
}

#define ID "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_"
#define CK AUTH_COOKIE_NAME

static void cookie_value_is_found_once_and_well_formed(void **state)
{
	char out[44];

	(void)state;
	assert_int_equal(secret_cookie_value(out, CK "=" ID, CK), 0);
	assert_string_equal(out, ID);
	assert_int_equal(secret_cookie_value(out, "a=b; " CK "=" ID "; c=d", CK), 0);
	assert_string_equal(out, ID);
	/* Extra spaces and tabs around pairs and an empty pair are tolerated. */
	assert_int_equal(secret_cookie_value(out, "a=b;  \t" CK "=" ID " ;;c", CK), 0);
	assert_string_equal(out, ID);
	assert_int_equal(secret_cookie_value(out, "a=b; c=d", CK), TRAWL_ENOTFOUND);
	assert_int_equal(secret_cookie_value(out, "", CK), TRAWL_ENOTFOUND);
	/* The name is exact: a prefix, a suffix or another case is another cookie. */
	assert_int_equal(secret_cookie_value(out, "x" CK "=" ID, CK), TRAWL_ENOTFOUND);
	assert_int_equal(secret_cookie_value(out, CK "x=" ID, CK), TRAWL_ENOTFOUND);
	assert_int_equal(secret_cookie_value(out, "__host-trawl_session=" ID, CK), TRAWL_ENOTFOUND);
	assert_int_equal(secret_cookie_value(out, CK, CK), TRAWL_ENOTFOUND);
}

static void cookie_value_refusals(void **state)
{
	char out[44];

	(void)state;
	/* A second copy, even an identical one, is refused. */
	assert_int_equal(secret_cookie_value(out, CK "=" ID "; " CK "=" ID, CK), TRAWL_EINVAL);
	assert_int_equal(secret_cookie_value(out, CK "=" ID "; " CK "=x", CK), TRAWL_EINVAL);
	assert_string_equal(out, "");
	/* Overlong, short, empty, quoted, or with characters outside base64url. */
	assert_int_equal(secret_cookie_value(out, CK "=" ID "A", CK), TRAWL_EINVAL);
	assert_int_equal(secret_cookie_value(out, CK "=" ID ID, CK), TRAWL_EINVAL);
	assert_int_equal(secret_cookie_value(out, CK "=AAAA", CK), TRAWL_EINVAL);
	assert_int_equal(secret_cookie_value(out, CK "=", CK), TRAWL_EINVAL);
	assert_int_equal(secret_cookie_value(out, CK "=\"" ID "\"", CK), TRAWL_EINVAL);
	assert_int_equal(secret_cookie_value(out,
					     CK "=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", CK),
			 TRAWL_EINVAL);
	assert_int_equal(secret_cookie_value(out, CK "=AAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA",
					     CK),
			 TRAWL_EINVAL);
	/* The value is never echoed in the message. */
	assert_int_equal(secret_cookie_value(out, CK "=" ID "B", CK), TRAWL_EINVAL);
	assert_null(strstr(error_last(), "AAAA"));
}

static void bearer_value_edge_cases(void **state)
{
	const char *tok;
	size_t len;
	char big[400];

	(void)state;
	assert_int_equal(secret_bearer_value(&tok, &len, "Bearer trawl_abc"), 0);
	assert_int_equal(len, 9);
	assert_memory_equal(tok, "trawl_abc", 9);
	assert_int_equal(secret_bearer_value(&tok, &len, "bEaReR abc=="), 0);
	assert_int_equal(len, 5);
	assert_int_equal(secret_bearer_value(&tok, &len, "Basic dXNlcjpwYXNz"), TRAWL_EINVAL);
	assert_null(tok);
	assert_int_equal(secret_bearer_value(&tok, &len, "Bearer"), TRAWL_EINVAL);
	assert_int_equal(secret_bearer_value(&tok, &len, "Bearer "), TRAWL_EINVAL);
	assert_int_equal(secret_bearer_value(&tok, &len, "Bearer  abc"), TRAWL_EINVAL);
	assert_int_equal(secret_bearer_value(&tok, &len, "Bearer abc "), TRAWL_EINVAL);
	assert_int_equal(secret_bearer_value(&tok, &len, "Bearer abc def"), TRAWL_EINVAL);
	assert_int_equal(secret_bearer_value(&tok, &len, "Bearer\tabc"), TRAWL_EINVAL);
	assert_int_equal(secret_bearer_value(&tok, &len, "Bearerabc"), TRAWL_EINVAL);
	assert_int_equal(secret_bearer_value(&tok, &len, "Bearer a=b"), TRAWL_EINVAL);
	assert_int_equal(secret_bearer_value(&tok, &len, "Bearer a,b"), TRAWL_EINVAL);
	assert_int_equal(secret_bearer_value(&tok, &len, ""), TRAWL_EINVAL);
	memcpy(big, "Bearer ", 7);
	memset(big + 7, 'a', SECRET_BEARER_MAX);
	big[7 + SECRET_BEARER_MAX] = 0;
	assert_int_equal(secret_bearer_value(&tok, &len, big), 0);
	assert_int_equal(len, SECRET_BEARER_MAX);
	big[7 + SECRET_BEARER_MAX] = 'a';
	big[8 + SECRET_BEARER_MAX] = 0;
	assert_int_equal(secret_bearer_value(&tok, &len, big), TRAWL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_hashes_of_one_password_differ_and_meet_the_minimums),
		cmocka_unit_test(cost_zero_uses_the_moderate_limits),
		cmocka_unit_test(the_whole_password_is_checked_exactly),
		cmocka_unit_test(verify_refuses_malformed_hashes),
		cmocka_unit_test(session_ids_are_unique_and_look_random),
		cmocka_unit_test(random_ids_have_the_encoded_length),
		cmocka_unit_test(tokens_carry_32_random_bytes_and_a_checksum),
		cmocka_unit_test(a_body_over_256_bits_is_not_a_token),
		cmocka_unit_test(keyed_hash_is_hmac_sha256),
		cmocka_unit_test(hasher_equals_keyed_hash),
		cmocka_unit_test(canonical_check_agrees_with_decoding),
		cmocka_unit_test(key_file_is_made_once_with_mode_0600),
		cmocka_unit_test(key_file_refusals),
		cmocka_unit_test(key_file_of_root_may_be_read_by_its_group),
		cmocka_unit_test(cookie_value_is_found_once_and_well_formed),
		cmocka_unit_test(cookie_value_refusals),
		cmocka_unit_test(bearer_value_edge_cases),
	};

	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
