/*
 * Unit tests for src/cluster/sign.c: a signed request is accepted once; a replay, an expired
 * or future time, another key, another target searcher, a changed method, path or body, a changed nonce or a malformed
 * header are refused alike; the replay table is bounded; the key file's forms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "cluster/cluster.h"
#include "unit/testlib.h"
#include "util/error.h"

#define NOW 1800000000LL
static const char body[] = "{\"q\":\"x\"}";

static void keys(struct cluster_key *k, struct cluster_key *other)
{
	cluster_key_of(k, "0123456789abcdef0123456789abcdef", 32);
	cluster_key_of(other, "0123456789abcdef0123456789abcdeF", 32);
}

/* The tests' requests are for the searcher "s0" unless they say otherwise. */
static void sign(char sig[CLUSTER_SIG_MAX], const struct cluster_key *k, const char *method,
		 const char *path, const char *b, size_t len, int64_t now)
{
	struct cluster_req q = { "s0", method, path };

	cluster_sign(sig, k, &q, b, len, now);
}

static int verify_n(struct cluster_replay *r, const struct cluster_key *k, const char *sig,
		    const char *method, const char *path, const char *b, size_t len, int64_t now)
{
	struct cluster_req q = { "s0", method, path };

	return cluster_verify(r, k, sig, &q, b, len, now);
}

static int verify(struct cluster_replay *r, const struct cluster_key *k, const char *sig,
		  const char *method, const char *path, const char *b, int64_t now)
{
	return verify_n(r, k, sig, method, path, b, strlen(b), now);
}

static int head(struct cluster_replay *r, const struct cluster_key *k, const char *sig,
		const char *method, const char *path, const char *hash, int64_t now)
{
	struct cluster_req q = { "s0", method, path };

	return cluster_verify_head(r, k, sig, &q, hash, now);
}

static void signed_request_is_accepted_once(void **state)
{
	struct cluster_key k, o;
	struct cluster_replay *r;
	char sig[CLUSTER_SIG_MAX], sig2[CLUSTER_SIG_MAX];

	(void)state;
	keys(&k, &o);
	assert_int_equal(cluster_replay_new(&r, 1024), 0);
	sign(sig, &k, "POST", "/internal/v1/search", body, strlen(body), NOW);
	assert_int_equal(verify(r, &k, sig, "POST", "/internal/v1/search", body, NOW + 3), 0);
	assert_int_equal(verify(r, &k, sig, "POST", "/internal/v1/search", body, NOW + 3),
			 TRAWL_EPERM);
	/* Each signature has its own nonce: the same request signed again passes. */
	sign(sig2, &k, "POST", "/internal/v1/search", body, strlen(body), NOW);
	assert_true(strcmp(sig, sig2) != 0);
	assert_int_equal(verify(r, &k, sig2, "POST", "/internal/v1/search", body, NOW), 0);
	cluster_replay_free(r);
}

static void expiry_is_sixty_seconds_either_way(void **state)
{
	struct cluster_key k, o;
	struct cluster_replay *r;
	char sig[CLUSTER_SIG_MAX];

	(void)state;
	keys(&k, &o);
	assert_int_equal(cluster_replay_new(&r, 1024), 0);
	sign(sig, &k, "POST", "/p", body, strlen(body), NOW);
	assert_int_equal(verify(r, &k, sig, "POST", "/p", body, NOW + 61), TRAWL_EPERM);
	assert_int_equal(verify(r, &k, sig, "POST", "/p", body, NOW - 61), TRAWL_EPERM);
	assert_int_equal(verify(r, &k, sig, "POST", "/p", body, NOW + 60), 0);
	sign(sig, &k, "POST", "/p", body, strlen(body), NOW);
	assert_int_equal(verify(r, &k, sig, "POST", "/p", body, NOW - 60), 0);
	cluster_replay_free(r);
}

static void tampering_is_refused(void **state)
{
	struct cluster_key k, o;
	struct cluster_replay *r;
	char sig[CLUSTER_SIG_MAX], bad[CLUSTER_SIG_MAX];
	char *n;

	(void)state;
	keys(&k, &o);
	assert_int_equal(cluster_replay_new(&r, 1024), 0);
	sign(sig, &k, "POST", "/p", body, strlen(body), NOW);
	assert_int_equal(verify(r, &o, sig, "POST", "/p", body, NOW), TRAWL_EPERM);
	assert_int_equal(verify(r, &k, sig, "GET", "/p", body, NOW), TRAWL_EPERM);
	assert_int_equal(verify(r, &k, sig, "POST", "/q", body, NOW), TRAWL_EPERM);
	assert_int_equal(verify(r, &k, sig, "POST", "/p", "{\"q\":\"y\"}", NOW), TRAWL_EPERM);
	/* Another nonce, another time: the MAC covers both. */
	memcpy(bad, sig, sizeof(bad));
	n = strstr(bad, ",n=") + 3;
	n[0] = n[0] == 'a' ? 'b' : 'a';
	assert_int_equal(verify(r, &k, bad, "POST", "/p", body, NOW), TRAWL_EPERM);
	memcpy(bad, sig, sizeof(bad));
	bad[2] = bad[2] == '1' ? '2' : '1';
	assert_int_equal(verify(r, &k, bad, "POST", "/p", body, NOW), TRAWL_EPERM);
	/* A refused request leaves no nonce behind: the genuine one still passes. */
	assert_int_equal(verify(r, &k, sig, "POST", "/p", body, NOW), 0);
	cluster_replay_free(r);
}

static void malformed_headers_are_refused(void **state)
{
	static const char *const bad[] = {
		"", "t=1", "t=,n=,s=", "t=x,n=00000000000000000000000000000000,s=00",
		"n=00000000000000000000000000000000,t=1,s=0",
		"t=1800000000,n=0000000000000000000000000000000g,s="
		"0000000000000000000000000000000000000000000000000000000000000000",
		"t=1800000000,n=00000000000000000000000000000000,s="
		"000000000000000000000000000000000000000000000000000000000000000",
		"t=-1800000000,n=00000000000000000000000000000000,s="
		"0000000000000000000000000000000000000000000000000000000000000000",
	};
	struct cluster_key k, o;
	struct cluster_replay *r;

	(void)state;
	keys(&k, &o);
	assert_int_equal(cluster_replay_new(&r, 64), 0);
	assert_int_equal(verify(r, &k, NULL, "POST", "/p", body, NOW), TRAWL_EPERM);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (verify(r, &k, bad[i], "POST", "/p", body, NOW) != TRAWL_EPERM)
			fail_msg("\"%s\" was not refused", bad[i]);
	cluster_replay_free(r);
}

static void replay_table_is_bounded(void **state)
{
	struct cluster_key k, o;
	struct cluster_replay *r;
	char sig[CLUSTER_SIG_MAX];
	int err = 0;
	unsigned n = 0;

	(void)state;
	keys(&k, &o);
	assert_int_equal(cluster_replay_new(&r, 64), 0);
	/* 64 slots: live nonces fill it, and then it refuses (ELIMIT) rather than forget. */
	while (n < 1000 && (err = (sign(sig, &k, "POST", "/p", "", 0, NOW),
				   verify_n(r, &k, sig, "POST", "/p", "", 0, NOW))) == 0)
		n++;
	assert_int_equal(err, TRAWL_ELIMIT);
	assert_true(n >= 8 && n <= 64);
	/* Past the window their slots are free again. */
	sign(sig, &k, "POST", "/p", "", 0, NOW + 121);
	assert_int_equal(verify_n(r, &k, sig, "POST", "/p", "", 0, NOW + 121), 0);
	cluster_replay_free(r);
}

static void key_file_is_base64_or_raw_and_long_enough(void **state)
{
	const char *dir = testlib_tmpdir();
	struct cluster_key a, b;

	(void)state;
	/* base64 of 32 bytes: the key of the bytes, not of the text. */
	testlib_write_file(dir, "secret", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n");
	/* Whoever reads the secret can sign: it must be private (file_is_private). */
	assert_int_equal(chmod(testlib_path("secret"), 0640), 0);
	assert_int_equal(cluster_key_load(&a, testlib_path("secret")), TRAWL_EPERM);
	assert_non_null(strstr(error_last(), "chmod 600"));
	assert_int_equal(chmod(testlib_path("secret"), 0600), 0);
	assert_int_equal(cluster_key_load(&a, testlib_path("secret")), 0);
	cluster_key_of(&b, "0123456789abcdef0123456789abcdef", 32);
	assert_memory_equal(a.k, b.k, sizeof(a.k));
	/* Raw bytes that are no base64 count as they are. */
	testlib_write_file(dir, "secret", "raw secret bytes, at least 32 of them!");
	assert_int_equal(chmod(testlib_path("secret"), 0600), 0);
	assert_int_equal(cluster_key_load(&a, testlib_path("secret")), 0);
	testlib_write_file(dir, "secret", "short");
	assert_int_equal(chmod(testlib_path("secret"), 0600), 0);
	assert_int_equal(cluster_key_load(&a, testlib_path("secret")), TRAWL_EINVAL);
	assert_null(strstr(error_last(), "short\""));
	assert_int_equal(cluster_key_load(&a, testlib_path("missing")), TRAWL_EIO);
}

/* The headers alone (before the body is read): the hash they name must be the signed one. */
static void headers_are_checked_before_the_body(void **state)
{
	struct cluster_key k, o;
	struct cluster_replay *r;
	char sig[CLUSTER_SIG_MAX], hash[CLUSTER_HASH_HEX], other[CLUSTER_HASH_HEX];

	(void)state;
	keys(&k, &o);
	assert_int_equal(cluster_replay_new(&r, 1024), 0);
	sign(sig, &k, "POST", "/p", body, strlen(body), NOW);
	cluster_body_hash(hash, body, strlen(body));
	cluster_body_hash(other, "x", 1);
	assert_int_equal(head(r, &k, sig, "POST", "/p", hash, NOW), 0);
	assert_int_equal(head(r, &o, sig, "POST", "/p", hash, NOW), TRAWL_EPERM);
	assert_int_equal(head(r, &k, sig, "POST", "/p", other, NOW), TRAWL_EPERM);
	assert_int_equal(head(r, &k, sig, "POST", "/p", NULL, NOW), TRAWL_EPERM);
	assert_int_equal(head(r, &k, sig, "POST", "/p", "abc", NOW), TRAWL_EPERM);
	assert_int_equal(head(r, &k, sig, "POST", "/q", hash, NOW), TRAWL_EPERM);
	assert_int_equal(head(r, &k, NULL, "POST", "/p", hash, NOW), TRAWL_EPERM);
	assert_int_equal(head(r, &k, sig, "POST", "/p", hash, NOW + 61),
			 TRAWL_EPERM);
	/* Checking the headers takes no nonce; the full check does, then the headers fail. */
	assert_int_equal(head(r, &k, sig, "POST", "/p", hash, NOW), 0);
	assert_int_equal(verify(r, &k, sig, "POST", "/p", body, NOW), 0);
	assert_int_equal(head(r, &k, sig, "POST", "/p", hash, NOW), TRAWL_EPERM);
	cluster_replay_free(r);
}

/*
 * A request signed for one searcher is refused by another (whose nonce table never saw it):
 * seen on its way to s0, it cannot be replayed to s1.
 */
static void another_searchers_request_is_refused(void **state)
{
	struct cluster_key k, o;
	struct cluster_replay *r;
	struct cluster_req s0 = { "s0", "POST", "/p" }, s1 = { "s1", "POST", "/p" };
	char sig[CLUSTER_SIG_MAX], hash[CLUSTER_HASH_HEX];

	(void)state;
	keys(&k, &o);
	assert_int_equal(cluster_replay_new(&r, 1024), 0);
	cluster_sign(sig, &k, &s0, body, strlen(body), NOW);
	cluster_body_hash(hash, body, strlen(body));
	assert_int_equal(cluster_verify_head(r, &k, sig, &s1, hash, NOW), TRAWL_EPERM);
	assert_int_equal(cluster_verify(r, &k, sig, &s1, body, strlen(body), NOW), TRAWL_EPERM);
	/* The names are whole: "s" or "s0x" is not "s0". */
	s1.target = "s";
	assert_int_equal(cluster_verify(r, &k, sig, &s1, body, strlen(body), NOW), TRAWL_EPERM);
	s1.target = "s0x";
	assert_int_equal(cluster_verify(r, &k, sig, &s1, body, strlen(body), NOW), TRAWL_EPERM);
	assert_int_equal(cluster_verify_head(r, &k, sig, &s0, hash, NOW), 0);
	assert_int_equal(cluster_verify(r, &k, sig, &s0, body, strlen(body), NOW), 0);
	cluster_replay_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signed_request_is_accepted_once),
		cmocka_unit_test(expiry_is_sixty_seconds_either_way),
		cmocka_unit_test(tampering_is_refused),
		cmocka_unit_test(another_searchers_request_is_refused),
		cmocka_unit_test(headers_are_checked_before_the_body),
		cmocka_unit_test(malformed_headers_are_refused),
		cmocka_unit_test(replay_table_is_bounded),
		cmocka_unit_test(key_file_is_base64_or_raw_and_long_enough),
	};

	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
