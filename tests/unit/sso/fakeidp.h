/*
 * A fake OpenID provider for the sso unit tests, in-process: keys made with cjose, ID tokens
 * signed with them (or forged), and a fetcher that answers discovery, JWKS and token requests
 * from fields the tests set, counting each. Header-only (static functions): each test program
 * is one file plus testlib.c.
 */
#ifndef TRAWL_TESTS_UNIT_SSO_FAKEIDP_H
#define TRAWL_TESTS_UNIT_SSO_FAKEIDP_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <sodium.h>

#include "sso/sso.h"
#include "sso/sso_int.h"

#define ISSUER "https://idp.test"
#define CLIENT_ID "trawl-client"
#define REDIRECT "https://trawl.test/auth/oidc/callback"
#define T0_MS ((int64_t)1800000000 * 1000)

static int64_t fake_now_ms = T0_MS;

static inline int64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now_ms;
}

static inline cjose_jwk_t *key_rsa(size_t bits, const char *kid)
{
	static const uint8_t e[] = { 1, 0, 1 };
	cjose_err err;
	cjose_jwk_t *k = cjose_jwk_create_RSA_random(bits, e, sizeof(e), &err);

	assert_non_null(k);
	assert_true(cjose_jwk_set_kid(k, kid, strlen(kid), &err));
	return k;
}

static inline cjose_jwk_t *key_ec(cjose_jwk_ec_curve crv, const char *kid)
{
	cjose_err err;
	cjose_jwk_t *k = cjose_jwk_create_EC_random(crv, &err);

	assert_non_null(k);
	assert_true(cjose_jwk_set_kid(k, kid, strlen(kid), &err));
	return k;
}

/* {"keys": [public JWKs]} of the n keys; extra (may be NULL) is merged into each. */
static inline char *jwks_of(cjose_jwk_t *const *keys, size_t n, const char *extra)
{
	json_t *list = json_array(), *doc;
	cjose_err err;
	char *out;

	for (size_t i = 0; i < n; i++) {
		char *pub = cjose_jwk_to_json(keys[i], false, &err);
		json_t *k = json_loads(pub, 0, NULL);

		assert_non_null(k);
		if (extra) {
			json_t *more = json_loads(extra, 0, NULL);

			json_object_update(k, more);
			json_decref(more);
		}
		json_array_append_new(list, k);
		free(pub);
	}
	doc = json_pack("{s:o}", "keys", list);
	out = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return out;
}

static inline char *b64url(const void *data, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(cap);

	assert_non_null(out);
	sodium_bin2base64(out, cap, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/* A compact JWS of claims signed by key with alg and kid (kid NULL: no kid). */
static inline char *sign(const json_t *claims, cjose_jwk_t *key, const char *alg, const char *kid)
{
	cjose_err err;
	cjose_header_t *hdr = cjose_header_new(&err);
	char *payload = json_dumps(claims, JSON_COMPACT);
	cjose_jws_t *jws;
	const char *ser = NULL;
	char *out;

	assert_true(cjose_header_set(hdr, CJOSE_HDR_ALG, alg, &err));
	if (kid)
		assert_true(cjose_header_set(hdr, CJOSE_HDR_KID, kid, &err));
	jws = cjose_jws_sign(key, hdr, (const uint8_t *)payload, strlen(payload), &err);
	assert_non_null(jws);
	assert_true(cjose_jws_export(jws, &ser, &err));
	out = strdup(ser);
	cjose_jws_release(jws);
	cjose_header_release(hdr);
	free(payload);
	return out;
}

/* An unsigned token: the header as given, then the claims, then an empty signature. */
static inline char *unsigned_token(const char *header, const json_t *claims)
{
	char *payload = json_dumps(claims, JSON_COMPACT);
	char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload));
	size_t len = strlen(h) + strlen(p) + 3;
	char *out = malloc(len);

	snprintf(out, len, "%s.%s.", h, p);
	free(h);
	free(p);
	free(payload);
	return out;
}

/* Claims that pass every check for nonce at fake_now_ms. */
static inline json_t *good_claims(const char *nonce)
{
	int64_t now = fake_now_ms / 1000;

	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:s, s:s, s:[s,s]}", "iss", ISSUER,
			 "aud", CLIENT_ID, "sub", "00u1alice", "email", "Alice@Example.com",
			 "email_verified", 1, "iat", (json_int_t)now, "exp", (json_int_t)(now + 300),
			 "nonce", nonce, "name", "Alice Liddell", "groups", "devs", "trawl-admins");
}

/* ---- the fetcher ---- */

struct fake_idp {
	pthread_mutex_t lock; /* fake_fetch may be called from several threads */
	char *discovery;      /* the discovery document served */
	char *jwks;           /* the JWKS served */
	long token_status;    /* the token endpoint's answer */
	char *token_body;
	int n_discovery, n_jwks, n_token;
	char form[4096];  /* the last token request's form */
	char authz[1024]; /* and its Authorization header */
	/* When set, the token endpoint signs good claims with this key (and auto_kid) itself,
	 * taking the code it is sent as the nonce: logins in several threads at once. */
	cjose_jwk_t *auto_key;
	const char *auto_kid;
	/* Discovery and JWKS answers take this long: a fetch other logins find in flight. */
	unsigned delay_us;
};

/* The form's code, percent-decoding nothing (the tests' codes need none). */
static inline char *form_code(const char *form)
{
	const char *p = strstr(form, "&code=");

	return p ? strndup(p + 6, strcspn(p + 6, "&")) : NULL;
}

static inline int auto_token(struct buf *body, const char *form, cjose_jwk_t *key, const char *kid)
{
	char *code = form_code(form), *tok;
	json_t *claims = good_claims(code), *doc;
	char *text;
	int err;

	tok = sign(claims, key, "RS256", kid);
	doc = json_pack("{s:s}", "id_token", tok);
	text = json_dumps(doc, JSON_COMPACT);
	err = buf_puts(body, text);
	free(text);
	json_decref(doc);
	free(tok);
	json_decref(claims);
	free(code);
	return err;
}

static inline int fake_fetch(long *status, struct buf *body, const struct sso_http_request *req,
			     void *arg)
{
	struct fake_idp *f = arg;
	const char *text = NULL;
	int err;

	*status = 200;
	if (f->delay_us && !req->form)
		usleep(f->delay_us);
	pthread_mutex_lock(&f->lock);
	if (strcmp(req->url, ISSUER "/.well-known/openid-configuration") == 0) {
		f->n_discovery++;
		text = f->discovery;
	} else if (strcmp(req->url, ISSUER "/jwks") == 0) {
		f->n_jwks++;
		text = f->jwks;
	} else if (strcmp(req->url, ISSUER "/token") == 0) {
		assert_non_null(req->form);
		f->n_token++;
		snprintf(f->form, sizeof(f->form), "%.*s", (int)req->form_len, req->form);
		snprintf(f->authz, sizeof(f->authz), "%s", req->authorization);
		*status = f->token_status;
		text = f->token_body;
		if (f->auto_key) {
			pthread_mutex_unlock(&f->lock);
			return auto_token(body, req->form, f->auto_key, f->auto_kid);
		}
	}
	if (!text)
		*status = 404;
	err = text ? buf_puts(body, text) : 0;
	pthread_mutex_unlock(&f->lock);
	return err;
}

static inline char *discovery_doc(const char *issuer)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "issuer", issuer, "authorization_endpoint",
			      ISSUER "/authorize", "token_endpoint", ISSUER "/token", "jwks_uri",
			      ISSUER "/jwks");
	char *out = json_dumps(d, JSON_COMPACT);

	json_decref(d);
	return out;
}

/* The value of query parameter name in url, percent-decoding nothing (our values need none). */
static inline char *query_value(const char *url, const char *name)
{
	size_t n = strlen(name);
	const char *p = strchr(url, '?');

	while (p) {
		p++;
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			size_t len = strcspn(p + n + 1, "&");

			return strndup(p + n + 1, len);
		}
		p = strchr(p, '&');
	}
	return NULL;
}

#endif
