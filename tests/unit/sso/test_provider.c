/*
 * Unit tests for the provider's documents and the small pieces under the flow: which JWKS keys
 * are kept (RSA of 2048 bits and up and EC P-256 signing keys, never weak, encryption or
 * symmetric ones), what a discovery document must say, the PKCE challenge against RFC 7636's
 * own example, and the pending table's ring.
 */
#include "unit/sso/fakeidp.h"
#include "util/error.h"

static void pkce_matches_rfc7636_appendix_b(void **state)
{
	char out[SSO_RANDOM_LEN + 1];

	(void)state;
	sso_pkce_challenge(out, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	assert_string_equal(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static struct sso_keys *parse_keys(const char *json)
{
	struct sso_keys *k = NULL;

	assert_int_equal(sso_keys_parse(&k, json, strlen(json)), 0);
	return k;
}

static void jwks_keeps_only_strong_signing_keys(void **state)
{
	cjose_jwk_t *keys[] = {
		key_rsa(2048, "good-rsa"),
		key_ec(CJOSE_JWK_EC_P_256, "good-ec"),
		key_rsa(1024, "weak-rsa"),
		key_ec(CJOSE_JWK_EC_P_384, "p384"),
	};
	cjose_err err;
	cjose_jwk_t *oct = cjose_jwk_create_oct_random(32, &err);
	char *json = jwks_of(keys, 4, NULL), *json_oct;
	struct sso_keys *k = parse_keys(json);

	(void)state;
	assert_int_equal(k->n_keys, 2);
	assert_string_equal(k->keys[0].kid, "good-rsa");
	assert_int_equal(k->keys[0].type, SSO_KEY_RSA);
	assert_string_equal(k->keys[1].kid, "good-ec");
	assert_int_equal(k->keys[1].type, SSO_KEY_P256);
	sso_keys_unref(k);
	free(json);
	/* A P-256 key whose crv claims another curve is not taken as P-256. */
	json = jwks_of(&keys[1], 1, "{\"crv\":\"P-384\"}");
	k = parse_keys(json);
	assert_int_equal(k->n_keys, 0);
	sso_keys_unref(k);
	free(json);
	/* A symmetric key in a JWKS is never a verification key. */
	json_oct = jwks_of(&oct, 1, NULL);
	k = parse_keys(json_oct);
	assert_int_equal(k->n_keys, 0);
	sso_keys_unref(k);
	free(json_oct);
	cjose_jwk_release(oct);
	for (size_t i = 0; i < 4; i++)
		cjose_jwk_release(keys[i]);
}

static void jwks_skips_keys_for_other_uses_and_algorithms(void **state)
{
	cjose_jwk_t *rsa = key_rsa(2048, "k");
	static const char *const skipped[] = {
		"{\"use\":\"enc\"}", "{\"alg\":\"RS512\"}", "{\"alg\":\"HS256\"}",
		"{\"kid\":7}",       "{\"use\":1}",
	};
	struct sso_keys *k;
	char *json;

	(void)state;
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++) {
		json = jwks_of(&rsa, 1, skipped[i]);
		k = parse_keys(json);
		assert_int_equal(k->n_keys, 0);
		sso_keys_unref(k);
		free(json);
	}
	json = jwks_of(&rsa, 1, "{\"use\":\"sig\",\"alg\":\"RS256\",\"x5c\":[\"junk\"]}");
	k = parse_keys(json);
	assert_int_equal(k->n_keys, 1);
	sso_keys_unref(k);
	free(json);
	cjose_jwk_release(rsa);
}

static void jwks_that_is_not_one_is_corrupt(void **state)
{
	static const char *const bad[] = { "", "[]", "{\"keys\":{}}", "{\"keys\":[],\"keys\":[]}",
					   "{\"nokeys\":[]}" };
	struct sso_keys *k = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sso_keys_parse(&k, bad[i], strlen(bad[i])), TRAWL_ECORRUPT);
		assert_null(k);
	}
	k = parse_keys("{\"keys\":[1,\"x\",{},{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}");
	assert_int_equal(k->n_keys, 0);
	sso_keys_unref(k);
	/* Members cjose would abort on (padding after 4n + 1 characters), or not base64url. */
	k = parse_keys("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"A===\",\"e\":\"AQAB\"},"
		       "{\"kty\":\"RSA\",\"n\":\"AQABA\",\"e\":\"AQAB\"},"
		       "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQABA\",\"y\":\"AQAB\"},"
		       "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQ==\",\"y\":\"AQAB\"}]}");
	assert_int_equal(k->n_keys, 0);
	sso_keys_unref(k);
}

static int parse_discovery(struct sso_provider *p, const char *json)
{
	return sso_provider_parse(p, json, strlen(json), ISSUER);
}

static void discovery_must_be_ours_and_https(void **state)
{
	struct sso_provider p;
	char *good = discovery_doc(ISSUER);
	static const char *const bad[] = {
		"{\"issuer\":\"https://idp.test/\",\"authorization_endpoint\":\"https://a\","
		"\"token_endpoint\":\"https://t\",\"jwks_uri\":\"https://j\"}",
		"{\"issuer\":\"https://idp.test\",\"authorization_endpoint\":\"https://a\","
		"\"token_endpoint\":\"http://t\",\"jwks_uri\":\"https://j\"}",
		"{\"issuer\":\"https://idp.test\",\"authorization_endpoint\":\"https://a\","
		"\"token_endpoint\":\"https://t\"}",
		"{\"issuer\":\"https://idp.test\",\"authorization_endpoint\":\"https://a\","
		"\"token_endpoint\":\"https://t\",\"jwks_uri\":\"https://\"}",
		"[]",
		"{\"issuer\":\"https://idp.test\",\"issuer\":\"https://idp.test\"}",
	};

	(void)state;
	assert_int_equal(parse_discovery(&p, good), 0);
	assert_string_equal(p.token_endpoint, ISSUER "/token");
	assert_string_equal(p.jwks_uri, ISSUER "/jwks");
	sso_provider_dispose(&p);
	free(good);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_discovery(&p, bad[i]), TRAWL_ECORRUPT);
		assert_null(p.token_endpoint);
	}
}

/* A discovery document whose endpoint name is url (a JSON string's contents). */
static char *discovery_with(const char *name, const char *url)
{
	char *doc = NULL;

	assert_true(asprintf(&doc,
			     "{\"issuer\":\"https://idp.test\",\"authorization_endpoint\":\"%s\","
			     "\"token_endpoint\":\"%s\",\"jwks_uri\":\"%s\"}",
			     strcmp(name, "authorization_endpoint") == 0 ? url : "https://a",
			     strcmp(name, "token_endpoint") == 0 ? url : "https://t",
			     strcmp(name, "jwks_uri") == 0 ? url : "https://j") > 0);
	return doc;
}

static void endpoints_outside_printable_ascii_are_refused(void **state)
{
	static const char *const names[] = { "authorization_endpoint", "token_endpoint", "jwks_uri" };
	static const char *const bad[] = {
		"https://a b",   "https://a\\r\\nX-Evil: 1", "https://a\\\"x",    "https://a'x",
		"https://a<x>",  "https://a\\u0000x",        "https://a\\u00e9x", "https://a\\u007fx",
		"https://a\\tx",
	};
	struct sso_provider p;

	(void)state;
	for (size_t n = 0; n < 3; n++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char *doc = discovery_with(names[n], bad[i]);

			assert_int_equal(parse_discovery(&p, doc), TRAWL_ECORRUPT);
			assert_null(p.token_endpoint);
			free(doc);
		}
		{
			char *doc = discovery_with(names[n], "https://idp.test/a?b=c&d=%20#e");

			assert_int_equal(parse_discovery(&p, doc), 0);
			sso_provider_dispose(&p);
			free(doc);
		}
	}
}

/* The sealed login and the spent ring, below struct sso. */
static void sealed_logins_open_once_and_only_with_their_state(void **state)
{
	struct sso_seal t;
	struct sso_login l = { .nonce = "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
			       .verifier = "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
			       .created_ms = 1000 };
	struct sso_login out;
	char other[SSO_STATE_LEN + 1], *cookie = NULL, *big, *big_cookie = NULL;
	const char *reason = NULL;
	bool is_used;

	(void)state;
	assert_int_equal(sso_seal_init(&t, 2), 0);
	sso_state_make(l.state, &t, 1000);
	sso_state_make(other, &t, 1000);
	assert_int_equal(strlen(l.state), SSO_STATE_LEN);
	l.return_to = "/r";
	assert_int_equal(sso_login_seal(&cookie, &t, &l), 0);
	/* Another state of ours with this cookie: not this browser's login; nothing spent. */
	assert_int_equal(sso_login_open(&out, &reason, &is_used, &t, other, cookie, 1000, 60000),
			 TRAWL_EAUTH);
	assert_string_equal(reason, "binding_mismatch");
	assert_false(is_used);
	assert_int_equal(sso_login_open(&out, &reason, &is_used, &t, l.state, cookie, 61001, 60000),
			 TRAWL_EAUTH);
	assert_string_equal(reason, "expired_state");
	assert_int_equal(sso_login_open(&out, &reason, &is_used, &t, l.state, cookie, 61000, 60000),
			 0);
	assert_true(is_used);
	assert_string_equal(out.return_to, "/r");
	assert_string_equal(out.nonce, l.nonce);
	assert_string_equal(out.verifier, l.verifier);
	sso_login_clear(&out);
	assert_int_equal(sso_login_open(&out, &reason, &is_used, &t, l.state, cookie, 1000, 60000),
			 TRAWL_EAUTH);
	assert_string_equal(reason, "replayed_state");
	assert_null(out.return_to);
	/* The longest return_to still fits the cookie. */
	big = malloc(SSO_RETURN_TO_MAX + 1);
	memset(big, 'x', SSO_RETURN_TO_MAX);
	big[0] = '/';
	big[SSO_RETURN_TO_MAX] = '\0';
	l.return_to = big;
	sso_state_make(l.state, &t, 1000);
	assert_int_equal(sso_login_seal(&big_cookie, &t, &l), 0);
	assert_true(strlen(big_cookie) <= SSO_COOKIE_VALUE_MAX);
	assert_true(strlen(SSO_COOKIE_NAME "=") + strlen(big_cookie) < 4096);
	assert_int_equal(sso_login_open(&out, &reason, &is_used, &t, l.state, big_cookie, 1000,
					60000),
			 0);
	assert_string_equal(out.return_to, big);
	sso_login_clear(&out);
	free(big);
	free(big_cookie);
	free(cookie);
	sso_seal_dispose(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pkce_matches_rfc7636_appendix_b),
		cmocka_unit_test(jwks_keeps_only_strong_signing_keys),
		cmocka_unit_test(jwks_skips_keys_for_other_uses_and_algorithms),
		cmocka_unit_test(jwks_that_is_not_one_is_corrupt),
		cmocka_unit_test(discovery_must_be_ours_and_https),
		cmocka_unit_test(endpoints_outside_printable_ascii_are_refused),
		cmocka_unit_test(sealed_logins_open_once_and_only_with_their_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
