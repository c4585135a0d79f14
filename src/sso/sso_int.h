/*
 * The parts of the OpenID Connect relying party that the unit tests and the fuzz target call
 * directly: the provider's documents (discovery, JWKS), the ID token checks, the pending
 * logins and PKCE. Only src/sso/ and its tests include this header.
 */
#ifndef TRAWL_SSO_SSO_INT_H
#define TRAWL_SSO_SSO_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "auth/secret.h"
#include "sso/sso.h"

/* Bounds on what a provider's documents and tokens may hold. */
#define SSO_KEYS_MAX 64 /* keys of a JWKS looked at; the rest are ignored */
#define SSO_KID_MAX 256
#define SSO_URL_MAX 2048
#define SSO_TOKEN_MAX ((size_t)64 << 10) /* an ID token, compact form */
#define SSO_HEADER_MAX 4096              /* its protected header, base64url */
#define SSO_RSA_BITS_MIN 2048
/* Discovery is refreshed on use once it is this old (a failed refresh keeps the old one). */
#define SSO_DISCOVERY_MAX_AGE_S (24 * 60 * 60)
/* 32 random bytes in base64url: state, nonce, PKCE verifier, binding. */
#define SSO_RANDOM_LEN 43

/* ---- the provider's documents (provider.c) ---- */

/*
 * SECURITY: whether s[0..len) is unpadded base64url that cjose can decode. cjose's decoder
 * asserts (aborts the process) on a length of 4n + 1, so every string it will decode is
 * checked here first: the segments of a token, and a JWK's n, e, x and y.
 */
bool sso_b64url_ok(const char *s, size_t len);

struct sso_provider {
	char *authorization_endpoint;
	char *token_endpoint;
	char *jwks_uri;
};

/*
 * Parses a discovery document: its "issuer" must equal issuer exactly, and the authorization,
 * token and JWKS endpoints must be https URLs of at most SSO_URL_MAX bytes. ECORRUPT naming
 * the field; ENOMEM.
 */
int sso_provider_parse(struct sso_provider *out, const char *json, size_t len, const char *issuer);
int sso_provider_copy(struct sso_provider *out, const struct sso_provider *p);
void sso_provider_dispose(struct sso_provider *p);

/* The key type an algorithm needs. */
enum sso_key_type {
	SSO_KEY_NONE = 0,
	SSO_KEY_RSA,  /* RS256: RSA of at least SSO_RSA_BITS_MIN bits */
	SSO_KEY_P256, /* ES256: EC on P-256 */
};

struct sso_key {
	cjose_jwk_t *jwk;
	char *kid; /* NULL when the key has none */
	enum sso_key_type type;
};

/* A JWKS as fetched, shared by the verifications in flight: freed with its last reference. */
struct sso_keys {
	atomic_int refs;
	struct sso_key *keys;
	size_t n_keys;
};

/*
 * Parses a JWKS ({"keys": [...]}), keeping only signing keys it can use: RSA of at least
 * SSO_RSA_BITS_MIN bits and EC P-256, with "use" absent or "sig" and "alg" absent or matching
 * (RS256, ES256). Only the public members are imported. A JWKS with no usable key is fine (an
 * unknown kid follows). ECORRUPT for a document that is not a JWKS; ENOMEM.
 */
int sso_keys_parse(struct sso_keys **out, const char *json, size_t len);
struct sso_keys *sso_keys_ref(struct sso_keys *k);
void sso_keys_unref(struct sso_keys *k);

/* ---- the ID token (idtoken.c) ---- */

/* What the ID token must say, and the settings that shape the identity. */
struct sso_expect {
	const char *issuer;
	const char *client_id;
	const char *nonce;
	const char *user_claim;
	const char *groups_claim;
	const char *admin_group; /* may be NULL */
	const char *const *allowed_domains;
	size_t n_allowed_domains;
	int64_t now_s;
	int64_t skew_s;
};

struct sso_jwt {
	cjose_jws_t *jws;
	enum sso_key_type type;    /* the key the header's alg needs */
	char kid[SSO_KID_MAX + 1]; /* "" when the header has none */
};

/*
 * Reads a compact JWS's protected header before anything else looks at the token: alg must be
 * RS256 or ES256 (alg_not_allowed), no "crit", kid at most SSO_KID_MAX bytes; then imports it
 * with cjose. EAUTH with *reason (malformed_token, alg_not_allowed); ENOMEM.
 */
int sso_jwt_parse(struct sso_jwt *out, const char **reason, const char *token, size_t len);

/*
 * Checks t's signature with the key its kid names (without a kid: each key of the alg's type).
 * ENOTFOUND (unknown_kid) when no key fits: the caller may refetch the JWKS; EAUTH
 * (key_type_mismatch, bad_signature).
 */
int sso_jwt_verify(const char **reason, const struct sso_jwt *t, const struct sso_keys *keys);

/*
 * Checks the claims of a verified token (its payload) against want and fills out (every field
 * but return_to). EAUTH or EPERM with *reason; ENOMEM. out is disposed on failure.
 */
int sso_claims_check(struct sso_identity *out, const char **reason, const char *payload, size_t len,
		     const struct sso_expect *want);

/* Verifies t (already through sso_jwt_verify) and checks its claims. */
int sso_jwt_claims(struct sso_identity *out, const char **reason, const struct sso_jwt *t,
		   const struct sso_expect *want);
void sso_jwt_dispose(struct sso_jwt *t);

/* ---- pending logins and PKCE (pending.c) ---- */

/* BASE64URL(SHA-256(verifier)) without padding (RFC 7636, S256). */
void sso_pkce_challenge(char out[SSO_RANDOM_LEN + 1], const char *verifier);

/* A pending login, as sealed into the binding cookie. */
struct sso_login {
	char state[SSO_STATE_LEN + 1];
	char nonce[SSO_RANDOM_LEN + 1];
	char verifier[SSO_RANDOM_LEN + 1];
	char *return_to;
	int64_t created_ms;
};

/* A spent state: its MAC (a keyed hash) until the login's lifetime is over. */
struct sso_spent {
	unsigned char mac[16];
	int64_t expires_ms;
};

/*
 * The keys that seal logins and sign states (random per process), and the ring of spent
 * states: a new entry takes the oldest slot. Sealing is thread-safe; sso_login_open is not
 * (struct sso locks around it).
 */
struct sso_seal {
	unsigned char seal_key[32];
	unsigned char mac_key[32];
	struct sso_spent *spent;
	size_t max_spent, next;
};

/* Makes the keys. ENOMEM; EIO when libsodium cannot start. */
int sso_seal_init(struct sso_seal *t, size_t max_spent);
void sso_seal_dispose(struct sso_seal *t);

/* A fresh state that carries its issue time now_ms and a MAC under t's key. */
void sso_state_make(char out[SSO_STATE_LEN + 1], const struct sso_seal *t, int64_t now_ms);

/*
 * Seals l (return_to at most SSO_RETURN_TO_MAX bytes) into *cookie: version, a fresh random
 * nonce, XChaCha20-Poly1305; base64url, at most SSO_COOKIE_VALUE_MAX characters (caller frees).
 * EINVAL for a longer return_to; ENOMEM.
 */
int sso_login_seal(char **cookie, const struct sso_seal *t, const struct sso_login *l);

/*
 * The login of a callback's state: the state must be one t issued (unknown_state), not spent
 * (replayed_state), at most lifetime_ms old (expired_state), and equal to the state sealed in
 * cookie (binding_mismatch; cookie may be NULL). Then the state is spent, *is_used set, and
 * *out filled (sso_login_clear wipes it). EAUTH with *reason; *is_used false on every refusal:
 * the cookie was not this callback's.
 */
int sso_login_open(struct sso_login *out, const char **reason, bool *is_used, struct sso_seal *t,
		   const char *state, const char *cookie, int64_t now_ms, int64_t lifetime_ms);
void sso_login_clear(struct sso_login *l);

#endif
