/*
 * Logins on their way to the provider and back: each is kept under the keyed hash of its state,
 * bound to the browser by the keyed hash of the binding cookie, single use, and short-lived. The
 * table is a ring of a fixed number of slots, so a flood of logins evicts the oldest instead of
 * growing memory.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sso/sso_int.h"
#include "util/error.h"

void sso_pkce_challenge(char out[SSO_RANDOM_LEN + 1], const char *verifier)
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(digest, (const unsigned char *)verifier, strlen(verifier));
	sodium_bin2base64(out, SSO_RANDOM_LEN + 1, digest, sizeof(digest),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int sso_pending_init(struct sso_pending_table *t, size_t max)
{
	unsigned char key[32];

	memset(t, 0, sizeof(*t));
	t->slots = calloc(max, sizeof(*t->slots));
	if (!t->slots)
		return error_nomem("making the table of pending sign-ins");
	t->max = max;
	/* The key lives only in this process: a restart forgets every pending login anyway. */
	randombytes_buf(key, sizeof(key));
	secret_hasher_init(&t->hasher, key);
	sodium_memzero(key, sizeof(key));
	return 0;
}

void sso_pending_clear(struct sso_pending *p)
{
	free(p->return_to);
	sodium_memzero(p, sizeof(*p));
}

void sso_pending_dispose(struct sso_pending_table *t)
{
	if (!t->slots)
		return;
	for (size_t i = 0; i < t->max; i++)
		sso_pending_clear(&t->slots[i]);
	free(t->slots);
	secret_hasher_dispose(&t->hasher);
	memset(t, 0, sizeof(*t));
}

static void hash_of(const struct sso_pending_table *t, unsigned char out[32], const char *s)
{
	secret_hasher_hash(&t->hasher, out, s, strlen(s));
}

int sso_pending_add(struct sso_pending_table *t, const char *state, const char *binding,
		    const char *nonce, const char *verifier, const char *return_to, int64_t now_ms)
{
	struct sso_pending *p = &t->slots[t->next];
	char *copy = strdup(return_to);

	if (!copy)
		return error_nomem("recording a pending sign-in");
	sso_pending_clear(p);
	hash_of(t, p->state_hash, state);
	hash_of(t, p->binding_hash, binding);
	memcpy(p->nonce, nonce, SSO_RANDOM_LEN);
	memcpy(p->verifier, verifier, SSO_RANDOM_LEN);
	p->return_to = copy;
	p->created_ms = now_ms;
	p->is_set = true;
	t->next = (t->next + 1) % t->max;
	return 0;
}

/*
 * SECURITY: states are compared as keyed hashes, so how long a comparison takes says nothing
 * about a state an attacker does not know.
 */
static struct sso_pending *find(struct sso_pending_table *t, const unsigned char hash[32])
{
	for (size_t i = 0; i < t->max; i++) {
		struct sso_pending *p = &t->slots[i];

		if (p->is_set && memcmp(p->state_hash, hash, 32) == 0)
			return p;
	}
	return NULL;
}

static int refuse(const char **reason, const char *why, const char *msg)
{
	*reason = why;
	error_set("%s", msg);
	return TRAWL_EAUTH;
}

int sso_pending_take(struct sso_pending *out, const char **reason, struct sso_pending_table *t,
		     const char *state, const char *binding, int64_t now_ms, int64_t lifetime_ms)
{
	unsigned char hash[32];
	struct sso_pending *p;
	bool is_bound;

	memset(out, 0, sizeof(*out));
	hash_of(t, hash, state);
	p = find(t, hash);
	if (!p)
		return refuse(reason, "unknown_state",
			      "the sign-in's state is unknown: it was never issued here, the server "
			      "restarted, or newer sign-ins pushed it out; sign in again");
	if (p->is_used)
		return refuse(reason, "replayed_state",
			      "the sign-in's state was already used: a callback may be replayed once "
			      "at most");
	/* SECURITY: single use from here on, whatever the checks below decide. */
	*out = *p;
	p->return_to = NULL;
	sodium_memzero(p->nonce, sizeof(p->nonce));
	sodium_memzero(p->verifier, sizeof(p->verifier));
	p->is_used = true;
	hash_of(t, hash, binding ? binding : "");
	is_bound = binding && sodium_memcmp(hash, out->binding_hash, 32) == 0;
	if (now_ms - out->created_ms > lifetime_ms) {
		sso_pending_clear(out);
		return refuse(reason, "expired_state",
			      "the sign-in took longer than its lifetime; sign in again");
	}
	if (!is_bound) {
		sso_pending_clear(out);
		return refuse(reason, "binding_mismatch",
			      "the sign-in's callback came from another browser than the one that "
			      "started it (its " SSO_COOKIE_NAME " cookie is missing or different)");
	}
	return 0;
}
