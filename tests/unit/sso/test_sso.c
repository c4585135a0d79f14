/*
 * Unit tests for the OpenID Connect relying party (src/sso/) through its interface, against the
 * in-process provider of fakeidp.h: a good RS256 and ES256 sign-in, then every ID token check
 * refusing its own forgery with its own reason (alg none, HMAC keyed with the RSA public key, a
 * key of the wrong type, a flipped signature byte, issuer, audience, azp, expiry, not-before,
 * issue time, nonce, email verification, domains), key rotation with its refetch bound, and the
 * pending logins sealed in their cookies (replay, binding, lifetime, forged states, floods).
 */
#include "unit/sso/fakeidp.h"
#include "util/error.h"

static cjose_jwk_t *rsa, *rsa2, *ec;

struct fx {
	struct sso *s;
	struct fake_idp idp;
	struct sso_config cfg;
	char *state, *nonce, *challenge;
	char *binding; /* the binding cookie's value */
	struct sso_identity id;
	const char *reason;
	bool is_used;
};

static const unsigned char secret[] = "s3cret:x";

static void fx_open(struct fx *f)
{
	assert_int_equal(sso_open(&f->s, &f->cfg), 0);
}

/* A fixture with the provider serving discovery and a JWKS of rsa and ec; not yet opened. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	cjose_jwk_t *keys[] = { rsa, ec };

	fake_now_ms = T0_MS;
	f->idp.discovery = discovery_doc(ISSUER);
	f->idp.jwks = jwks_of(keys, 2, NULL);
	f->idp.token_status = 200;
	pthread_mutex_init(&f->idp.lock, NULL);
	f->cfg = (struct sso_config){
		.issuer = ISSUER,
		.client_id = CLIENT_ID,
		.client_secret = secret,
		.client_secret_len = sizeof(secret) - 1,
		.redirect_uri = REDIRECT,
		.admin_group = "trawl-admins",
		.clock = fake_clock,
		.fetch = fake_fetch,
		.fetch_arg = &f->idp,
	};
	*state = f;
	return 0;
}

static void fx_forget_login(struct fx *f)
{
	free(f->state);
	free(f->nonce);
	free(f->challenge);
	f->state = f->nonce = f->challenge = NULL;
	free(f->binding);
	f->binding = NULL;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sso_close(f->s);
	sso_identity_dispose(&f->id);
	fx_forget_login(f);
	free(f->idp.discovery);
	free(f->idp.jwks);
	free(f->idp.token_body);
	pthread_mutex_destroy(&f->idp.lock);
	free(f);
	return 0;
}

/* Starts a login (opening the sso on first use) and keeps its state, nonce and challenge. */
static void start(struct fx *f)
{
	char *url = NULL;

	if (!f->s)
		fx_open(f);
	fx_forget_login(f);
	assert_int_equal(sso_begin(&url, &f->binding, f->s, "/search?q=x"), 0);
	assert_true(strlen(f->binding) <= SSO_COOKIE_VALUE_MAX);
	f->state = query_value(url, "state");
	f->nonce = query_value(url, "nonce");
	f->challenge = query_value(url, "code_challenge");
	assert_non_null(f->state);
	assert_non_null(f->nonce);
	assert_non_null(f->challenge);
	free(url);
}

/* The token endpoint will answer with token as the id_token (token is freed). */
static void serve_token(struct fx *f, char *token)
{
	json_t *body = json_pack("{s:s, s:s, s:s}", "access_token", "at-unused", "token_type",
				 "Bearer", "id_token", token);

	free(f->idp.token_body);
	f->idp.token_body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	free(token);
}

static int finish_with(struct fx *f, const char *binding)
{
	struct sso_callback cb = { .code = "the-c0de", .state = f->state };

	sso_identity_dispose(&f->id);
	return sso_finish(&f->id, &f->reason, &f->is_used, f->s, &cb, binding);
}

/* A fresh login whose ID token is claims (taken) signed by key with alg and kid. */
static int sign_in(struct fx *f, json_t *claims, cjose_jwk_t *key, const char *alg, const char *kid)
{
	start(f);
	if (json_object_get(claims, "nonce"))
		json_object_set_new(claims, "nonce", json_string(f->nonce));
	serve_token(f, sign(claims, key, alg, kid));
	json_decref(claims);
	return finish_with(f, f->binding);
}

/* The claims of a good token for the next login (the nonce is filled by sign_in). */
static json_t *claims(void)
{
	return good_claims("filled-in-by-sign_in");
}

static void assert_refused(struct fx *f, int err, int code, const char *reason)
{
	assert_int_equal(err, code);
	assert_non_null(f->reason);
	assert_string_equal(f->reason, reason);
	assert_null(f->id.user_name);
	/* No refusal quotes the code, the state or the client secret. */
	assert_null(strstr(error_last(), "the-c0de"));
	assert_null(strstr(error_last(), f->state));
	assert_null(strstr(error_last(), "s3cret"));
}

/* ---- good tokens ---- */

static void good_rs256_token_signs_in(void **state)
{
	struct fx *f = *state;
	char challenge[SSO_RANDOM_LEN + 1], *verifier;

	assert_int_equal(sign_in(f, claims(), rsa, "RS256", "rsa-1"), 0);
	assert_null(f->reason);
	assert_string_equal(f->id.user_name, "alice@example.com");
	assert_string_equal(f->id.email, "alice@example.com");
	assert_true(f->id.email_verified);
	assert_string_equal(f->id.subject, "00u1alice");
	assert_string_equal(f->id.issuer, ISSUER);
	assert_string_equal(f->id.display_name, "Alice Liddell");
	assert_int_equal(f->id.n_groups, 2);
	assert_string_equal(f->id.groups[0], "devs");
	assert_string_equal(f->id.groups[1], "trawl-admins");
	assert_true(f->id.is_admin_by_group);
	assert_string_equal(f->id.return_to, "/search?q=x");
	/* The code went with the PKCE verifier whose S256 is the challenge sent, the redirect
	 * URI, and client_secret_basic (id and secret form-encoded, then base64). */
	assert_non_null(strstr(f->idp.form, "grant_type=authorization_code"));
	assert_non_null(strstr(f->idp.form, "&code=the-c0de"));
	assert_non_null(strstr(f->idp.form,
			       "&redirect_uri=https%3A%2F%2Ftrawl.test%2Fauth%2Foidc%2Fcallback"));
	verifier = strdup(strstr(f->idp.form, "&code_verifier=") + strlen("&code_verifier="));
	sso_pkce_challenge(challenge, verifier);
	assert_string_equal(challenge, f->challenge);
	free(verifier);
	/* base64("trawl-client:s3cret%3Ax") */
	assert_string_equal(f->idp.authz, "Basic dHJhd2wtY2xpZW50OnMzY3JldCUzQXg=");
}

static void good_es256_token_signs_in(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sign_in(f, claims(), ec, "ES256", "ec-1"), 0);
	assert_string_equal(f->id.user_name, "alice@example.com");
}

static void token_without_kid_tries_the_keys_of_its_type(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sign_in(f, claims(), ec, "ES256", NULL), 0);
	assert_int_equal(sign_in(f, claims(), rsa, "RS256", NULL), 0);
}

static void the_url_carries_the_whole_request(void **state)
{
	struct fx *f = *state;
	char *url = NULL, *binding = NULL;
	static const char *const want[] = {
		"response_type=code",
		"client_id=trawl-client",
		"redirect_uri=https%3A%2F%2Ftrawl.test%2Fauth%2Foidc%2Fcallback",
		"scope=openid%20email%20profile",
		"code_challenge_method=S256",
	};

	fx_open(f);
	assert_int_equal(sso_begin(&url, &binding, f->s, NULL), 0);
	assert_memory_equal(url, ISSUER "/authorize?", strlen(ISSUER "/authorize?"));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_non_null(strstr(url, want[i]));
	free(url);
	free(binding);
	/* SECURITY: never back to another origin after signing in. */
	assert_int_equal(sso_begin(&url, &binding, f->s, "//evil.example/"), TRAWL_EINVAL);
	assert_int_equal(sso_begin(&url, &binding, f->s, "/\\evil.example/"), TRAWL_EINVAL);
	assert_int_equal(sso_begin(&url, &binding, f->s, "https://evil.example/"), TRAWL_EINVAL);
	assert_int_equal(sso_begin(&url, &binding, f->s, "/a\r\nSet-Cookie: x=y"), TRAWL_EINVAL);
	assert_int_equal(sso_begin(&url, &binding, f->s, ""), TRAWL_EINVAL);
	assert_null(url);
	assert_null(binding);
}

/* ---- algorithms, keys, signatures ---- */

static void alg_none_is_refused(void **state)
{
	struct fx *f = *state;
	json_t *c = claims();

	start(f);
	json_object_set_new(c, "nonce", json_string(f->nonce));
	serve_token(f, unsigned_token("{\"alg\":\"none\",\"kid\":\"rsa-1\"}", c));
	json_decref(c);
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "alg_not_allowed");
}

/* The classic confusion: HS256 keyed with the bytes of the RSA public key the verifier holds. */
static void hs256_keyed_with_the_rsa_public_key_is_refused(void **state)
{
	struct fx *f = *state;
	cjose_err err;
	char *pub = cjose_jwk_to_json(rsa, false, &err);
	json_t *doc = json_loads(pub, 0, NULL);
	const char *n = json_string_value(json_object_get(doc, "n"));
	const char *secrets[] = { pub, n };

	for (size_t i = 0; i < 2; i++) {
		cjose_jwk_t *oct = cjose_jwk_create_oct_spec((const uint8_t *)secrets[i],
							     strlen(secrets[i]), &err);

		assert_non_null(oct);
		assert_refused(f, sign_in(f, claims(), oct, "HS256", "rsa-1"), TRAWL_EAUTH,
			       "alg_not_allowed");
		cjose_jwk_release(oct);
	}
	json_decref(doc);
	free(pub);
}

static void other_algorithms_are_refused(void **state)
{
	struct fx *f = *state;

	assert_refused(f, sign_in(f, claims(), rsa, "PS256", "rsa-1"), TRAWL_EAUTH,
		       "alg_not_allowed");
	assert_refused(f, sign_in(f, claims(), rsa, "RS512", "rsa-1"), TRAWL_EAUTH,
		       "alg_not_allowed");
}

static void rs256_naming_an_ec_key_is_refused(void **state)
{
	struct fx *f = *state;

	/* Signed by the RSA key, but naming the EC key: the key does not fit the algorithm. */
	assert_refused(f, sign_in(f, claims(), rsa, "RS256", "ec-1"), TRAWL_EAUTH,
		       "key_type_mismatch");
	assert_refused(f, sign_in(f, claims(), ec, "ES256", "rsa-1"), TRAWL_EAUTH,
		       "key_type_mismatch");
}

static void a_flipped_signature_byte_is_refused(void **state)
{
	struct fx *f = *state;
	json_t *c = claims();
	char *tok, *sig;

	start(f);
	json_object_set_new(c, "nonce", json_string(f->nonce));
	tok = sign(c, rsa, "RS256", "rsa-1");
	json_decref(c);
	sig = strrchr(tok, '.') + 10;
	*sig = *sig == 'A' ? 'B' : 'A';
	serve_token(f, tok);
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "bad_signature");
}

static void a_token_signed_by_another_key_is_refused(void **state)
{
	struct fx *f = *state;

	assert_refused(f, sign_in(f, claims(), rsa2, "RS256", "rsa-1"), TRAWL_EAUTH, "bad_signature");
	assert_refused(f, sign_in(f, claims(), rsa2, "RS256", NULL), TRAWL_EAUTH, "bad_signature");
}

/* RFC 7515 4.1.11: an extension marked critical that we do not know invalidates the token. */
static void a_critical_header_is_refused(void **state)
{
	struct fx *f = *state;
	json_t *c = claims();
	cjose_err err;
	cjose_header_t *hdr = cjose_header_new(&err);
	char *payload;
	cjose_jws_t *jws;
	const char *ser = NULL;

	start(f);
	json_object_set_new(c, "nonce", json_string(f->nonce));
	payload = json_dumps(c, JSON_COMPACT);
	assert_true(cjose_header_set(hdr, CJOSE_HDR_ALG, "RS256", &err));
	assert_true(cjose_header_set(hdr, CJOSE_HDR_KID, "rsa-1", &err));
	assert_true(cjose_header_set_raw(hdr, "crit", "[\"b64\"]", &err));
	jws = cjose_jws_sign(rsa, hdr, (const uint8_t *)payload, strlen(payload), &err);
	assert_non_null(jws);
	assert_true(cjose_jws_export(jws, &ser, &err));
	serve_token(f, strdup(ser));
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "malformed_token");
	cjose_jws_release(jws);
	cjose_header_release(hdr);
	json_decref(c);
	free(payload);
}

static void garbage_is_a_malformed_token(void **state)
{
	struct fx *f = *state;

	static const char *const bad[] = {
		"not.a.jwt!",
		"a.b",
		"a.b.c.d",
		".eyJ9.",
		"eyJ9..",
		/* cjose's decoder aborts the process on these (padding after 4n + 1 characters). */
		"eyJhbGciOiJSUzI1NiJ9.e30.c=",
		"eyJhbGciOiJSUzI1NiJ9.e30.A===",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		start(f);
		serve_token(f, strdup(bad[i]));
		assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "malformed_token");
	}
}

/* ---- claims ---- */

static int sign_in_with(struct fx *f, const char *name, json_t *value)
{
	json_t *c = claims();

	if (value)
		json_object_set_new(c, name, value);
	else
		json_object_del(c, name);
	return sign_in(f, c, rsa, "RS256", "rsa-1");
}

static void wrong_issuer_is_refused(void **state)
{
	struct fx *f = *state;

	assert_refused(f, sign_in_with(f, "iss", json_string("https://evil.test")), TRAWL_EAUTH,
		       "bad_issuer");
	assert_non_null(strstr(error_last(), ISSUER));
	assert_refused(f, sign_in_with(f, "iss", json_string(ISSUER "/")), TRAWL_EAUTH, "bad_issuer");
	assert_refused(f, sign_in_with(f, "iss", NULL), TRAWL_EAUTH, "bad_issuer");
}

static void wrong_audience_is_refused(void **state)
{
	struct fx *f = *state;

	assert_refused(f, sign_in_with(f, "aud", json_string("other-client")), TRAWL_EAUTH,
		       "bad_audience");
	assert_non_null(strstr(error_last(), "client id " CLIENT_ID));
	assert_refused(f, sign_in_with(f, "aud", json_pack("[s]", "other")), TRAWL_EAUTH,
		       "bad_audience");
	assert_refused(f, sign_in_with(f, "aud", NULL), TRAWL_EAUTH, "bad_audience");
	assert_int_equal(sign_in_with(f, "aud", json_pack("[s]", CLIENT_ID)), 0);
}

static void several_audiences_need_azp(void **state)
{
	struct fx *f = *state;
	json_t *c = claims();

	assert_refused(f, sign_in_with(f, "aud", json_pack("[s,s]", "other", CLIENT_ID)), TRAWL_EAUTH,
		       "bad_azp");
	json_object_set_new(c, "aud", json_pack("[s,s]", "other", CLIENT_ID));
	json_object_set_new(c, "azp", json_string(CLIENT_ID));
	assert_int_equal(sign_in(f, c, rsa, "RS256", "rsa-1"), 0);
}

static void a_wrong_azp_is_refused(void **state)
{
	struct fx *f = *state;

	assert_refused(f, sign_in_with(f, "azp", json_string("other")), TRAWL_EAUTH, "bad_azp");
	assert_int_equal(sign_in_with(f, "azp", json_string(CLIENT_ID)), 0);
}

static void expiry_is_checked_with_the_skew(void **state)
{
	struct fx *f = *state;
	json_int_t now = fake_now_ms / 1000;

	assert_refused(f, sign_in_with(f, "exp", json_integer(now - 61)), TRAWL_EAUTH, "expired");
	assert_refused(f, sign_in_with(f, "exp", json_integer(now - 60)), TRAWL_EAUTH, "expired");
	assert_refused(f, sign_in_with(f, "exp", NULL), TRAWL_EAUTH, "missing_claim");
	assert_refused(f, sign_in_with(f, "exp", json_string("tomorrow")), TRAWL_EAUTH, "bad_claim");
	/* Expired 30 s ago by the token's clock: within the 60 s skew. */
	assert_int_equal(sign_in_with(f, "exp", json_integer(now - 30)), 0);
	assert_int_equal(sign_in_with(f, "exp", json_real((double)now + 0.5)), 0);
}

static void not_before_and_issue_time_are_checked(void **state)
{
	struct fx *f = *state;
	json_int_t now = fake_now_ms / 1000;

	assert_refused(f, sign_in_with(f, "nbf", json_integer(now + 61)), TRAWL_EAUTH,
		       "not_yet_valid");
	assert_int_equal(sign_in_with(f, "nbf", json_integer(now + 59)), 0);
	assert_refused(f, sign_in_with(f, "iat", json_integer(now + 61)), TRAWL_EAUTH,
		       "issued_in_future");
	assert_refused(f, sign_in_with(f, "iat", NULL), TRAWL_EAUTH, "missing_claim");
	assert_int_equal(sign_in_with(f, "iat", json_integer(now + 59)), 0);
}

static void the_nonce_must_be_this_logins(void **state)
{
	struct fx *f = *state;
	json_t *c = claims();
	char *old_nonce;

	assert_refused(f, sign_in_with(f, "nonce", NULL), TRAWL_EAUTH, "nonce_mismatch");
	/* Another login's nonce (the previous one's) is not this one's. */
	old_nonce = strdup(f->nonce);
	start(f);
	json_object_set_new(c, "nonce", json_string(old_nonce));
	serve_token(f, sign(c, rsa, "RS256", "rsa-1"));
	json_decref(c);
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "nonce_mismatch");
	free(old_nonce);
}

static void an_unverified_email_names_nobody(void **state)
{
	struct fx *f = *state;

	assert_refused(f, sign_in_with(f, "email_verified", json_false()), TRAWL_EPERM,
		       "email_unverified");
	assert_refused(f, sign_in_with(f, "email_verified", NULL), TRAWL_EPERM, "email_unverified");
	assert_refused(f, sign_in_with(f, "email_verified", json_string("true")), TRAWL_EPERM,
		       "email_unverified");
	assert_refused(f, sign_in_with(f, "email", NULL), TRAWL_EAUTH, "missing_claim");
}

static void only_allowed_domains_sign_in(void **state)
{
	struct fx *f = *state;
	static const char *const domains[] = { "example.com", "corp.test" };
	static const char *const refused[] = {
		"user@example.com.evil.com",
		"user@evilexample.com",
		"user@sub.example.com",
		"example.com@evil.com",
		"user@",
		"example.com",
	};

	f->cfg.allowed_domains = domains;
	f->cfg.n_allowed_domains = 2;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_refused(f, sign_in_with(f, "email", json_string(refused[i])), TRAWL_EPERM,
			       "domain_not_allowed");
	/* The domain is what follows the last '@', in any case. */
	assert_int_equal(sign_in_with(f, "email", json_string("evil.com@example.com")), 0);
	assert_string_equal(f->id.user_name, "evil.com@example.com");
	assert_int_equal(sign_in_with(f, "email", json_string("Bob@CORP.Test")), 0);
	assert_string_equal(f->id.user_name, "bob@corp.test");
}

static void another_user_claim_still_needs_an_allowed_domain(void **state)
{
	struct fx *f = *state;
	static const char *const domains[] = { "example.com" };
	json_t *c = claims();

	f->cfg.user_claim = "preferred_username";
	json_object_set_new(c, "preferred_username", json_string("alice"));
	assert_int_equal(sign_in(f, c, rsa, "RS256", "rsa-1"), 0);
	assert_string_equal(f->id.user_name, "alice");
	assert_refused(f, sign_in_with(f, "preferred_username", json_string("al ice")), TRAWL_EAUTH,
		       "bad_user_name");
	assert_refused(f, sign_in_with(f, "preferred_username", NULL), TRAWL_EAUTH, "missing_claim");
	sso_close(f->s);
	f->s = NULL;
	f->cfg.allowed_domains = domains;
	f->cfg.n_allowed_domains = 1;
	c = claims();
	json_object_set_new(c, "preferred_username", json_string("alice"));
	json_object_set_new(c, "email_verified", json_false());
	assert_refused(f, sign_in(f, c, rsa, "RS256", "rsa-1"), TRAWL_EPERM, "email_unverified");
}

static void groups_are_bounded_and_typed(void **state)
{
	struct fx *f = *state;
	json_t *many = json_array();

	for (int i = 0; i <= SSO_GROUPS_MAX; i++)
		json_array_append_new(many, json_string("g"));
	assert_refused(f, sign_in_with(f, "groups", many), TRAWL_EAUTH, "too_many_groups");
	assert_refused(f, sign_in_with(f, "groups", json_string("devs")), TRAWL_EAUTH, "bad_claim");
	assert_refused(f, sign_in_with(f, "groups", json_pack("[s,i]", "devs", 3)), TRAWL_EAUTH,
		       "bad_claim");
	assert_int_equal(sign_in_with(f, "groups", NULL), 0);
	assert_int_equal(f->id.n_groups, 0);
	assert_false(f->id.is_admin_by_group);
	assert_int_equal(sign_in_with(f, "groups", json_pack("[s]", "TRAWL-ADMINS")), 0);
	assert_false(f->id.is_admin_by_group);
}

/* ---- keys: rotation and its bound ---- */

static void an_unknown_kid_refetches_the_keys_once_a_minute(void **state)
{
	struct fx *f = *state;
	cjose_jwk_t *rotated[] = { rsa2 };

	assert_int_equal(sign_in(f, claims(), rsa, "RS256", "rsa-1"), 0);
	assert_int_equal(f->idp.n_jwks, 1);
	/* The provider rotates to rsa-2 and a minute passes: one refetch, and it signs in. */
	free(f->idp.jwks);
	f->idp.jwks = jwks_of(rotated, 1, NULL);
	fake_now_ms += (int64_t)61 * 1000;
	assert_int_equal(sign_in(f, claims(), rsa2, "RS256", "rsa-2"), 0);
	assert_int_equal(f->idp.n_jwks, 2);
	/* Another unknown kid within the minute: no fetch. */
	for (int i = 0; i < 5; i++)
		assert_refused(f, sign_in(f, claims(), rsa, "RS256", "rsa-1"), TRAWL_EAUTH,
			       "unknown_kid");
	assert_int_equal(f->idp.n_jwks, 2);
	/* A minute later it may fetch again (and rsa-1 is gone for good). */
	fake_now_ms += (int64_t)61 * 1000;
	assert_refused(f, sign_in(f, claims(), rsa, "RS256", "rsa-1"), TRAWL_EAUTH, "unknown_kid");
	assert_int_equal(f->idp.n_jwks, 3);
	assert_int_equal(f->idp.n_discovery, 1);
}

/* ---- pending logins ---- */

static void a_replayed_state_is_refused(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sign_in(f, claims(), rsa, "RS256", "rsa-1"), 0);
	assert_int_equal(f->idp.n_token, 1);
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "replayed_state");
	assert_int_equal(f->idp.n_token, 1); /* no second exchange */
}

/* Login CSRF: a callback with another browser's cookie (or none) is refused, and leaves the
 * login it names usable by the browser that started it. */
static void another_browser_is_refused_and_the_login_stays_usable(void **state)
{
	struct fx *f = *state;
	json_t *c = claims();
	char *mine, *other_state;

	start(f);
	mine = strdup(f->binding);
	other_state = strdup(f->state);
	start(f); /* another login: the attacker's own cookie */
	json_object_set_new(c, "nonce", json_string(f->nonce));
	serve_token(f, sign(c, rsa, "RS256", "rsa-1"));
	json_decref(c);
	free(f->state);
	f->state = other_state;
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "binding_mismatch");
	assert_false(f->is_used);
	assert_refused(f, finish_with(f, NULL), TRAWL_EAUTH, "binding_mismatch");
	assert_false(f->is_used);
	mine[10] = mine[10] == 'A' ? 'B' : 'A'; /* a tampered cookie opens to nothing */
	assert_refused(f, finish_with(f, mine), TRAWL_EAUTH, "binding_mismatch");
	assert_int_equal(f->idp.n_token, 0);
	free(mine);
}

static void a_slow_login_expires(void **state)
{
	struct fx *f = *state;
	json_t *c = claims();

	start(f);
	fake_now_ms += ((int64_t)SSO_PENDING_LIFETIME_S + 1) * 1000;
	json_object_set_new(c, "nonce", json_string(f->nonce));
	json_object_set_new(c, "iat", json_integer(fake_now_ms / 1000));
	json_object_set_new(c, "exp", json_integer(fake_now_ms / 1000 + 300));
	serve_token(f, sign(c, rsa, "RS256", "rsa-1"));
	json_decref(c);
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "expired_state");
	assert_int_equal(f->idp.n_token, 0);
}

/* A state this process did not issue, or issued before a restart, is unknown. */
static void a_forged_or_older_state_is_unknown(void **state)
{
	struct fx *f = *state;
	struct sso *before;
	char *s;

	start(f);
	s = f->state;
	s[20] = s[20] == 'A' ? 'B' : 'A';
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "unknown_state");
	start(f);
	before = f->s; /* a restart: new keys */
	f->s = NULL;
	fx_open(f);
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "unknown_state");
	free(f->state);
	f->state = strdup("short");
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "unknown_state");
	sso_close(before);
}

/* No number of logins started by others pushes out a login under way: none is kept here. */
static void a_flood_of_logins_leaves_an_earlier_one_completable(void **state)
{
	struct fx *f = *state;
	char *first_state, *first_binding, *url = NULL, *cookie = NULL;
	json_t *c = claims();

	start(f);
	first_state = strdup(f->state);
	first_binding = strdup(f->binding);
	json_object_set_new(c, "nonce", json_string(f->nonce));
	for (int i = 0; i < 20000; i++) {
		assert_int_equal(sso_begin(&url, &cookie, f->s, "/flood"), 0);
		free(url);
		free(cookie);
	}
	serve_token(f, sign(c, rsa, "RS256", "rsa-1"));
	json_decref(c);
	assert_int_equal(finish_with(f, first_binding), 0);
	assert_true(f->is_used);
	assert_string_equal(f->id.return_to, "/search?q=x");
	free(first_state);
	free(first_binding);
}

/*
 * The spent set is a ring: once it is full the oldest entry goes (refusing instead would let
 * anyone stop every sign-in), and within its bound every spent state is refused.
 */
static void the_spent_set_evicts_its_oldest(void **state)
{
	struct fx *f = *state;
	char *first_state, *first_binding;

	/* The token endpoint answers without an ID token: each callback fails, but after its
	 * state was checked against its cookie, so the state is spent all the same. */
	f->cfg.max_spent = 3;
	f->idp.token_body = strdup("{\"access_token\":\"x\"}");
	start(f);
	first_state = strdup(f->state);
	first_binding = strdup(f->binding);
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "no_id_token");
	assert_true(f->is_used);
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "replayed_state");
	for (int i = 0; i < 3; i++) {
		start(f);
		assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "no_id_token");
		assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "replayed_state");
	}
	free(f->state);
	free(f->binding);
	f->state = first_state;
	f->binding = first_binding;
	/* Pushed out: it gets past the spent check (its cookie is needed all the same). */
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "no_id_token");
}

static void callback_errors_are_reported(void **state)
{
	struct fx *f = *state;
	struct sso_callback cb = { .error = "access_denied",
				   .error_description = "user\r\nFAKE said no" };

	start(f);
	assert_int_equal(sso_finish(&f->id, &f->reason, &f->is_used, f->s, &cb, f->binding),
			 TRAWL_EINVAL);
	assert_string_equal(f->reason, "missing_state");
	cb.state = f->state;
	assert_int_equal(sso_finish(&f->id, &f->reason, &f->is_used, f->s, &cb, f->binding),
			 TRAWL_EAUTH);
	assert_string_equal(f->reason, "idp_error");
	assert_non_null(strstr(error_last(), "access_denied: user??FAKE said no"));
	start(f);
	cb = (struct sso_callback){ .state = f->state };
	assert_int_equal(sso_finish(&f->id, &f->reason, &f->is_used, f->s, &cb, f->binding),
			 TRAWL_EINVAL);
	assert_string_equal(f->reason, "missing_code");
}

static void a_refused_code_is_a_token_error(void **state)
{
	struct fx *f = *state;

	start(f);
	f->idp.token_status = 400;
	f->idp.token_body = strdup("{\"error\":\"invalid_grant\"}");
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "token_error");
	assert_non_null(strstr(error_last(), "invalid_grant"));
	start(f);
	f->idp.token_status = 502;
	assert_refused(f, finish_with(f, f->binding), TRAWL_EIO, "token_request_failed");
	start(f);
	f->idp.token_status = 200;
	free(f->idp.token_body);
	f->idp.token_body = strdup("{\"access_token\":\"x\"}");
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "no_id_token");
}

static void discovery_must_name_our_issuer_and_is_retried_later(void **state)
{
	struct fx *f = *state;
	char *url = NULL, *binding = NULL;

	free(f->idp.discovery);
	f->idp.discovery = discovery_doc("https://evil.test");
	fx_open(f);
	assert_int_equal(sso_begin(&url, &binding, f->s, "/"), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "another issuer"));
	assert_int_equal(sso_begin(&url, &binding, f->s, "/"), TRAWL_EIO);
	assert_int_equal(f->idp.n_discovery, 1);
	free(f->idp.discovery);
	f->idp.discovery = discovery_doc(ISSUER);
	fake_now_ms += (int64_t)SSO_RETRY_S * 1000;
	assert_int_equal(sso_begin(&url, &binding, f->s, "/"), 0);
	assert_int_equal(f->idp.n_discovery, 2);
	free(url);
	free(binding);
}

static void bad_settings_are_refused(void **state)
{
	struct fx *f = *state;
	struct sso *s = NULL;
	struct sso_config c = f->cfg;

	c.issuer = "http://idp.test";
	assert_int_equal(sso_open(&s, &c), TRAWL_EINVAL);
	c = f->cfg;
	c.client_secret_len = 0;
	assert_int_equal(sso_open(&s, &c), TRAWL_EINVAL);
	c = f->cfg;
	c.scopes = "email profile openidx";
	assert_int_equal(sso_open(&s, &c), TRAWL_EINVAL);
	c.scopes = "email openid";
	assert_int_equal(sso_open(&s, &c), 0);
	sso_close(s);
	c = f->cfg;
	c.client_secret_len = SSO_CLIENT_SECRET_MAX + 1;
	assert_int_equal(sso_open(&s, &c), TRAWL_EINVAL);
	c = f->cfg;
	c.https.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(sso_open(&s, &c), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "/nonexistent/ca.pem"));
}

static void an_overlong_code_is_refused_before_the_exchange(void **state)
{
	struct fx *f = *state;
	char *code = malloc(SSO_CODE_MAX + 2);
	struct sso_callback cb;

	memset(code, 'c', SSO_CODE_MAX + 1);
	code[SSO_CODE_MAX + 1] = '\0';
	start(f);
	cb = (struct sso_callback){ .code = code, .state = f->state };
	assert_int_equal(sso_finish(&f->id, &f->reason, &f->is_used, f->s, &cb, f->binding),
			 TRAWL_EINVAL);
	assert_string_equal(f->reason, "missing_code");
	assert_int_equal(f->idp.n_token, 0);
	free(code);
}

static void discovery_is_refreshed_after_a_day_and_kept_if_that_fails(void **state)
{
	struct fx *f = *state;
	char *doc;

	assert_int_equal(sign_in(f, claims(), rsa, "RS256", "rsa-1"), 0);
	fake_now_ms += (int64_t)SSO_DISCOVERY_MAX_AGE_S * 1000 + 1;
	doc = f->idp.discovery;
	f->idp.discovery = NULL; /* the provider's discovery answers 404 */
	assert_int_equal(sign_in(f, claims(), rsa, "RS256", "rsa-1"), 0);
	assert_int_equal(f->idp.n_discovery, 2);
	f->idp.discovery = doc;
	fake_now_ms += (int64_t)SSO_RETRY_S * 1000;
	assert_int_equal(sign_in(f, claims(), rsa, "RS256", "rsa-1"), 0);
	assert_int_equal(f->idp.n_discovery, 3);
}

static void a_failed_jwks_fetch_is_retried_after_a_pause(void **state)
{
	struct fx *f = *state;
	char *jwks = f->idp.jwks;

	f->idp.jwks = NULL;
	assert_refused(f, sign_in(f, claims(), rsa, "RS256", "rsa-1"), TRAWL_EIO, "jwks_failed");
	assert_refused(f, sign_in(f, claims(), rsa, "RS256", "rsa-1"), TRAWL_EIO, "jwks_failed");
	assert_int_equal(f->idp.n_jwks, 1);
	f->idp.jwks = jwks;
	fake_now_ms += (int64_t)SSO_RETRY_S * 1000;
	assert_int_equal(sign_in(f, claims(), rsa, "RS256", "rsa-1"), 0);
	assert_int_equal(f->idp.n_jwks, 2);
}

/* Logins from several threads at once: each gets its own identity and return path. */
struct racer {
	struct sso *s;
	pthread_barrier_t *go;
	int n_logins, n_ok;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	for (int i = 0; i < r->n_logins; i++) {
		char *url = NULL, *binding = NULL, path[32];
		struct sso_callback cb = { 0 };
		struct sso_identity id;
		const char *reason;
		bool is_used;

		snprintf(path, sizeof(path), "/r/%d", i);
		if (sso_begin(&url, &binding, r->s, path) < 0)
			continue;
		cb.state = query_value(url, "state");
		cb.code = query_value(url, "nonce"); /* the fake signs the code as the nonce */
		if (sso_finish(&id, &reason, &is_used, r->s, &cb, binding) == 0 &&
		    strcmp(id.return_to, path) == 0 && strcmp(id.user_name, "alice@example.com") == 0)
			r->n_ok++;
		sso_identity_dispose(&id);
		free((char *)cb.state);
		free((char *)cb.code);
		free(url);
		free(binding);
	}
	return NULL;
}

/* 4 threads of n logins each, all starting together; every login must succeed. */
static void race_logins(struct fx *f, int n)
{
	struct racer r[4];
	pthread_t t[4];
	pthread_barrier_t go;

	pthread_barrier_init(&go, NULL, 4);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ .s = f->s, .go = &go, .n_logins = n };
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r[i].n_ok, n);
}

/* The first logins after a start find discovery and the keys being fetched: they wait for
 * that fetch rather than fail, and nothing is fetched twice. */
static void logins_from_several_threads_at_once(void **state)
{
	struct fx *f = *state;

	f->idp.auto_key = rsa;
	f->idp.auto_kid = "rsa-1";
	f->idp.delay_us = 50000;
	fx_open(f);
	race_logins(f, 25);
	assert_int_equal(f->idp.n_token, 100);
	assert_int_equal(f->idp.n_discovery, 1);
	assert_int_equal(f->idp.n_jwks, 1);
}

/* Logins that all meet a rotated key: one refetch, and every login uses its result. */
static void a_rotation_met_by_several_threads_fetches_once(void **state)
{
	struct fx *f = *state;
	cjose_jwk_t *both[] = { rsa, rsa2 };

	assert_int_equal(sign_in(f, claims(), rsa, "RS256", "rsa-1"), 0);
	free(f->idp.jwks);
	f->idp.jwks = jwks_of(both, 2, NULL);
	fake_now_ms += (int64_t)61 * 1000;
	f->idp.auto_key = rsa2;
	f->idp.auto_kid = "rsa-2";
	f->idp.delay_us = 50000;
	race_logins(f, 3);
	assert_int_equal(f->idp.n_jwks, 2);
}

/* An ES256 token whose signature is re-encoded as r and s of 33 bytes each (zero-padded). */
static char *es256_padded(struct fx *f)
{
	json_t *c = claims();
	unsigned char raw[64], padded[66] = { 0 };
	size_t raw_len = 0;
	char *tok, *dot, *sig, *out;
	size_t cap;

	json_object_set_new(c, "nonce", json_string(f->nonce));
	tok = sign(c, ec, "ES256", "ec-1");
	json_decref(c);
	dot = strrchr(tok, '.');
	assert_int_equal(sodium_base642bin(raw, sizeof(raw), dot + 1, strlen(dot + 1), NULL, &raw_len,
					   NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
			 0);
	assert_int_equal(raw_len, 64);
	memcpy(padded + 1, raw, 32);
	memcpy(padded + 34, raw + 32, 32);
	sig = b64url(padded, sizeof(padded));
	cap = (size_t)(dot - tok) + strlen(sig) + 2;
	out = malloc(cap);
	assert_non_null(out);
	snprintf(out, cap, "%.*s.%s", (int)(dot - tok), tok, sig);
	free(sig);
	free(tok);
	return out;
}

static void an_es256_signature_of_other_than_64_bytes_is_refused(void **state)
{
	struct fx *f = *state;

	start(f);
	serve_token(f, es256_padded(f));
	assert_refused(f, finish_with(f, f->binding), TRAWL_EAUTH, "malformed_token");
	assert_non_null(strstr(error_last(), "64 bytes"));
	/* The same token signed properly signs in. */
	assert_int_equal(sign_in(f, claims(), ec, "ES256", "ec-1"), 0);
}

static void an_email_of_two_ats_names_nobody(void **state)
{
	struct fx *f = *state;
	static const char *const domains[] = { "example.com" };

	/* Without allowed domains, the email naming the user holds exactly one '@'. */
	assert_refused(f, sign_in_with(f, "email", json_string("root@evil.com@example.com")),
		       TRAWL_EAUTH, "bad_user_name");
	assert_refused(f, sign_in_with(f, "email", json_string("@example.com")), TRAWL_EAUTH,
		       "bad_user_name");
	assert_int_equal(sign_in_with(f, "email", json_string("root@example.com")), 0);
	/* With them, it is in no domain. */
	sso_close(f->s);
	f->s = NULL;
	f->cfg.allowed_domains = domains;
	f->cfg.n_allowed_domains = 1;
	assert_refused(f, sign_in_with(f, "email", json_string("root@evil.com@example.com")),
		       TRAWL_EPERM, "domain_not_allowed");
}

static int group_setup(void **state)
{
	(void)state;
	rsa = key_rsa(2048, "rsa-1");
	rsa2 = key_rsa(2048, "rsa-2");
	ec = key_ec(CJOSE_JWK_EC_P_256, "ec-1");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cjose_jwk_release(rsa);
	cjose_jwk_release(rsa2);
	cjose_jwk_release(ec);
	return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(good_rs256_token_signs_in),
		T(good_es256_token_signs_in),
		T(token_without_kid_tries_the_keys_of_its_type),
		T(the_url_carries_the_whole_request),
		T(alg_none_is_refused),
		T(hs256_keyed_with_the_rsa_public_key_is_refused),
		T(other_algorithms_are_refused),
		T(rs256_naming_an_ec_key_is_refused),
		T(a_flipped_signature_byte_is_refused),
		T(a_token_signed_by_another_key_is_refused),
		T(a_critical_header_is_refused),
		T(garbage_is_a_malformed_token),
		T(wrong_issuer_is_refused),
		T(wrong_audience_is_refused),
		T(several_audiences_need_azp),
		T(a_wrong_azp_is_refused),
		T(expiry_is_checked_with_the_skew),
		T(not_before_and_issue_time_are_checked),
		T(the_nonce_must_be_this_logins),
		T(an_unverified_email_names_nobody),
		T(only_allowed_domains_sign_in),
		T(another_user_claim_still_needs_an_allowed_domain),
		T(groups_are_bounded_and_typed),
		T(an_unknown_kid_refetches_the_keys_once_a_minute),
		T(a_replayed_state_is_refused),
		T(another_browser_is_refused_and_the_login_stays_usable),
		T(a_slow_login_expires),
		T(a_forged_or_older_state_is_unknown),
		T(a_flood_of_logins_leaves_an_earlier_one_completable),
		T(the_spent_set_evicts_its_oldest),
		T(callback_errors_are_reported),
		T(a_refused_code_is_a_token_error),
		T(discovery_must_name_our_issuer_and_is_retried_later),
		T(bad_settings_are_refused),
		T(an_overlong_code_is_refused_before_the_exchange),
		T(discovery_is_refreshed_after_a_day_and_kept_if_that_fails),
		T(a_failed_jwks_fetch_is_retried_after_a_pause),
		T(logins_from_several_threads_at_once),
		T(a_rotation_met_by_several_threads_fetches_once),
		T(an_es256_signature_of_other_than_64_bytes_is_refused),
		T(an_email_of_two_ats_names_nobody),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
