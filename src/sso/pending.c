/*
 * Logins on their way to the provider and back. The server keeps no table of them: a table
 * anyone may add to is one anyone may empty of other people's logins. Each login is sealed
 * (authenticated encryption under a key made at start) into the binding cookie set on the
 * browser that started it, and its state is self-authenticating (a keyed MAC over a random
 * part and the issue time), so a callback can be told apart as forged, expired, from another
 * browser, or a replay. What the server does keep is the set of spent states, bounded.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sso/sso_int.h"
#include "util/error.h"

/* The state's bytes: random, issue time (ms, big-endian), MAC over both. */
#define STATE_RANDOM 16
#define STATE_TIME 8
#define STATE_MAC 16
#define STATE_RAW (STATE_RANDOM + STATE_TIME + STATE_MAC)

/* The sealed login: version, issue time, state, nonce, verifier, then return_to. */
#define SEAL_VERSION 1
#define SEAL_FIXED (1 + 8 + SSO_STATE_LEN + 2 * SSO_RANDOM_LEN)
#define SEAL_NPUB crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_ABYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
/* On the wire: the version in clear (so a later format is told apart), nonce, ciphertext. */
#define SEAL_OVERHEAD (1 + SEAL_NPUB + SEAL_ABYTES)
#define SEAL_AD "trawl oidc login"

_Static_assert(sodium_base64_ENCODED_LEN(SEAL_OVERHEAD + SEAL_FIXED + SSO_RETURN_TO_MAX,
					 sodium_base64_VARIANT_URLSAFE_NO_PADDING) <=
		       SSO_COOKIE_VALUE_MAX + 1,
	       "the sealed login must fit the binding cookie");

void sso_pkce_challenge(char out[SSO_RANDOM_LEN + 1], const char *verifier)
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)verifier, strlen(verifier));
	sodium_bin2base64(out, SSO_RANDOM_LEN + 1, digest, sizeof(digest),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int sso_seal_init(struct sso_seal *t, size_t max_spent)
{
	memset(t, 0, sizeof(*t));
	if (sodium_init() < 0) {
		error_set("libsodium cannot start (sealing pending sign-ins)");
		return TRAWL_EIO;
	}
	t->spent = calloc(max_spent, sizeof(*t->spent));
	if (!t->spent)
		return error_nomem("making the set of spent sign-in states");
	t->max_spent = max_spent;
	/* The keys live only in this process: a restart forgets every pending login. */
	crypto_aead_xchacha20poly1305_ietf_keygen(t->seal_key);
	crypto_generichash_keygen(t->mac_key);
	return 0;
}

void sso_seal_dispose(struct sso_seal *t)
{
	free(t->spent);
	sodium_memzero(t, sizeof(*t));
}

void sso_login_clear(struct sso_login *l)
{
	free(l->return_to);
	sodium_memzero(l, sizeof(*l));
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void state_mac(unsigned char out[STATE_MAC], const struct sso_seal *t,
		      const unsigned char *raw)
{
	crypto_generichash(out, STATE_MAC, raw, STATE_RANDOM + STATE_TIME, t->mac_key,
			   sizeof(t->mac_key));
}

void sso_state_make(char out[SSO_STATE_LEN + 1], const struct sso_seal *t, int64_t now_ms)
{
	unsigned char raw[STATE_RAW];

	randombytes_buf(raw, STATE_RANDOM);
	put_u64(raw + STATE_RANDOM, (uint64_t)now_ms);
	state_mac(raw + STATE_RANDOM + STATE_TIME, t, raw);
	sodium_bin2base64(out, SSO_STATE_LEN + 1, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* Whether state is one this process issued: then raw holds its bytes. */
static bool state_check(unsigned char raw[STATE_RAW], const struct sso_seal *t, const char *state)
{
	unsigned char mac[STATE_MAC];
	size_t len = strnlen(state, SSO_STATE_LEN + 1), n = 0;

	if (len != SSO_STATE_LEN ||
	    sodium_base642bin(raw, STATE_RAW, state, len, NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != STATE_RAW)
		return false;
	state_mac(mac, t, raw);
	return sodium_memcmp(mac, raw + STATE_RANDOM + STATE_TIME, STATE_MAC) == 0;
}

int sso_login_seal(char **cookie, const struct sso_seal *t, const struct sso_login *l)
{
	size_t rt_len = strlen(l->return_to), pt_len = SEAL_FIXED + rt_len;
	size_t blob_len = SEAL_OVERHEAD + pt_len, b64_len;
	unsigned char *pt = malloc(pt_len), *blob = malloc(blob_len), *p = pt;
	int err = 0;

	*cookie = NULL;
	b64_len = sodium_base64_ENCODED_LEN(blob_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (rt_len > SSO_RETURN_TO_MAX) {
		error_set("a sign-in's return_to is over %d bytes: it would not fit its cookie",
			  SSO_RETURN_TO_MAX);
		err = TRAWL_EINVAL;
		goto out;
	}
	if (!pt || !blob || !(*cookie = malloc(b64_len))) {
		err = error_nomem("sealing a pending sign-in into its cookie");
		goto out;
	}
	*p++ = SEAL_VERSION;
	put_u64(p, (uint64_t)l->created_ms);
	p += 8;
	memcpy(p, l->state, SSO_STATE_LEN);
	memcpy(p += SSO_STATE_LEN, l->nonce, SSO_RANDOM_LEN);
	memcpy(p += SSO_RANDOM_LEN, l->verifier, SSO_RANDOM_LEN);
	memcpy(p + SSO_RANDOM_LEN, l->return_to, rt_len);
	blob[0] = SEAL_VERSION;
	randombytes_buf(blob + 1, SEAL_NPUB);
	crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 1 + SEAL_NPUB, NULL, pt, pt_len,
						   (const unsigned char *)SEAL_AD,
						   sizeof(SEAL_AD) - 1, NULL, blob + 1, t->seal_key);
	sodium_bin2base64(*cookie, b64_len, blob, blob_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
out:
	if (pt)
		sodium_memzero(pt, pt_len);
	free(pt);
	free(blob);
	return err;
}

/* Opens a sealed login into out (fails as false on anything that is not one of ours). */
static bool cookie_open(struct sso_login *out, const struct sso_seal *t, const char *cookie)
{
	size_t len = strnlen(cookie, SSO_COOKIE_VALUE_MAX + 1), blob_len = 0;
	unsigned char blob[(SSO_COOKIE_VALUE_MAX / 4 + 1) * 3];
	unsigned char pt[sizeof(blob)];
	unsigned long long pt_len = 0;
	const unsigned char *p = pt;
	bool is_ok = false;

	if (len > SSO_COOKIE_VALUE_MAX ||
	    sodium_base642bin(blob, sizeof(blob), cookie, len, NULL, &blob_len, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    blob_len < SEAL_OVERHEAD + SEAL_FIXED || blob[0] != SEAL_VERSION ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &pt_len, NULL, blob + 1 + SEAL_NPUB,
						       blob_len - 1 - SEAL_NPUB,
						       (const unsigned char *)SEAL_AD,
						       sizeof(SEAL_AD) - 1, blob + 1,
						       t->seal_key) != 0 ||
	    pt_len < SEAL_FIXED || pt[0] != SEAL_VERSION)
		goto out;
	out->created_ms = (int64_t)get_u64(++p);
	memcpy(out->state, p += 8, SSO_STATE_LEN);
	memcpy(out->nonce, p += SSO_STATE_LEN, SSO_RANDOM_LEN);
	memcpy(out->verifier, p += SSO_RANDOM_LEN, SSO_RANDOM_LEN);
	p += SSO_RANDOM_LEN;
	out->return_to = strndup((const char *)p, (size_t)pt_len - SEAL_FIXED);
	is_ok = out->return_to != NULL;
out:
	sodium_memzero(pt, sizeof(pt));
	return is_ok;
}

/* The spent entry of a state (its MAC: already a keyed hash), if it has not expired. */
static bool is_spent(const struct sso_seal *t, const unsigned char *mac, int64_t now_ms)
{
	for (size_t i = 0; i < t->max_spent; i++) {
		const struct sso_spent *e = &t->spent[i];

		if (e->expires_ms > now_ms && memcmp(e->mac, mac, STATE_MAC) == 0)
			return true;
	}
	return false;
}

/*
 * SECURITY: when the set is full the oldest entry is overwritten rather than the callback
 * refused: refusing would let anyone who fills the set (with callbacks of logins of their
 * own) stop every sign-in. A state pushed out could be replayed only with the cookie that
 * sealed it (HttpOnly, cleared by the callback that used it) and the provider's code, which
 * the provider redeems once.
 */
static void spend(struct sso_seal *t, const unsigned char *mac, int64_t expires_ms)
{
	struct sso_spent *e = &t->spent[t->next];

	memcpy(e->mac, mac, STATE_MAC);
	e->expires_ms = expires_ms;
	t->next = (t->next + 1) % t->max_spent;
}

static int refuse(const char **reason, const char *why, const char *msg)
{
	*reason = why;
	error_set("%s", msg);
	return TRAWL_EAUTH;
}

int sso_login_open(struct sso_login *out, const char **reason, bool *is_used, struct sso_seal *t,
		   const char *state, const char *cookie, int64_t now_ms, int64_t lifetime_ms)
{
	unsigned char raw[STATE_RAW];
	const unsigned char *mac = raw + STATE_RANDOM + STATE_TIME;
	int64_t created_ms;

	memset(out, 0, sizeof(*out));
	*is_used = false;
	if (!state_check(raw, t, state))
		return refuse(reason, "unknown_state",
			      "the sign-in's state was not issued by this server: it is forged, "
			      "or the server restarted since the sign-in began; sign in again");
	created_ms = (int64_t)get_u64(raw + STATE_RANDOM);
	if (is_spent(t, mac, now_ms))
		return refuse(reason, "replayed_state",
			      "the sign-in's state was already used: a callback may be replayed once "
			      "at most");
	/* Checked before the cookie: a browser drops the cookie once its Max-Age is over. */
	if (now_ms - created_ms > lifetime_ms)
		return refuse(reason, "expired_state",
			      "the sign-in took longer than its lifetime; sign in again");
	/* SECURITY: the sealed state is compared in constant time with the callback's. */
	if (!cookie || !cookie_open(out, t, cookie) ||
	    sodium_memcmp(out->state, state, SSO_STATE_LEN) != 0 || out->created_ms != created_ms) {
		sso_login_clear(out);
		return refuse(reason, "binding_mismatch",
			      "the sign-in's callback came from another browser than the one that "
			      "started it (its " SSO_COOKIE_NAME " cookie is missing, different or "
			      "for another sign-in)");
	}
	/* SECURITY: single use from here on, whatever the checks after this decide. */
	spend(t, mac, created_ms + lifetime_ms + 1);
	*is_used = true;
	return 0;
}
