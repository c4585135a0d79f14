/*
 * Keyed token buckets (throttle.h).
 *
 * DESIGN: a fixed table of max_keys entries allocated once, found through a chained hash
 * (bucket heads and next links are indexes into the table) and ordered by a doubly linked
 * least-recently-touched list. A new key takes a free entry or, when none is left, the least
 * recently touched one: memory never grows with the number of keys an attacker invents. Keys
 * are attacker-chosen (user names, addresses), so the hash is SipHash under a random key, and
 * a key longer than an entry holds is stored as its BLAKE2b digest. One mutex guards it all;
 * every operation is a few hundred instructions. An entry also holds its key's count of
 * refusals not yet reported; forgetting the entry moves that count to `lost`, so a flood of new
 * keys can take a count's key away but never the count.
 */
#include "auth/throttle.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/secret_int.h"
#include "util/error.h"

#define KEY_MAX THROTTLE_KEY_MAX /* bytes kept of a key; longer keys are kept as a digest */
#define NONE UINT32_MAX /* the null index */
#define MS_PER_HOUR 3600000.0
#define RETRY_MAX_S 86400 /* an empty bucket that never refills still answers "tomorrow" */

struct entry {
	char key[KEY_MAX + 1];
	double tokens;
	int64_t last_ms;       /* when tokens was last brought up to date */
	int64_t since_ms;      /* the first of the n_refused */
	uint64_t n_refused;    /* refusals counted and not yet handed out */
	uint32_t next;         /* the next entry of its hash chain */
	uint32_t newer, older; /* the touch order */
};

struct throttle {
	pthread_mutex_t lock;
	struct throttle_rule rule;
	struct entry *e;
	uint32_t *heads;           /* n_heads chains, NONE when empty */
	size_t n_heads, cap, used; /* e[0..used) have been handed out at least once */
	uint32_t newest, oldest;
	uint32_t free; /* entries forgotten by throttle_reset, linked by next */
	struct throttle_count lost; /* the counts of forgotten entries */
	unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

int throttle_new(struct throttle **out, const struct throttle_rule *rule, size_t max_keys)
{
	struct throttle *t;

	*out = NULL;
	if (max_keys == 0 || max_keys >= NONE / 2) {
		error_set("a throttle holds 1 to %u keys, not %zu", NONE / 2 - 1, max_keys);
		return TRAWL_EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return error_nomem("making a rate limiter");
	t->n_heads = 1;
	while (t->n_heads < max_keys * 2)
		t->n_heads *= 2;
	t->e = calloc(max_keys, sizeof(*t->e));
	t->heads = malloc(t->n_heads * sizeof(*t->heads));
	if (!t->e || !t->heads) {
		free(t->e);
		free(t->heads);
		free(t);
		return error_nomem("making a rate limiter");
	}
	memset(t->heads, 0xff, t->n_heads * sizeof(*t->heads));
	pthread_mutex_init(&t->lock, NULL);
	t->rule = *rule;
	t->cap = max_keys;
	t->newest = t->oldest = t->free = NONE;
	secret_init();
	randombytes_buf(t->hash_key, sizeof(t->hash_key));
	*out = t;
	return 0;
}

void throttle_free(struct throttle *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->e);
	free(t->heads);
	free(t);
}

static bool rule_off(const struct throttle *t)
{
	return t->rule.burst <= 0 && t->rule.per_hour <= 0;
}

/* The form a key is stored and hashed in: itself when it fits, else a digest of it. */
static void key_canon(char out[KEY_MAX + 1], const char *key)
{
	size_t len = strlen(key);
	unsigned char d[32];
	static const char hex[] = "0123456789abcdef";

	if (len == 0) {
		/* Zeroed whole: a digest's form is a NUL then hex, so "" must compare as NULs. */
		memset(out, 0, KEY_MAX + 1);
		return;
	}
	if (len <= KEY_MAX) {
		memcpy(out, key, len + 1);
		return;
	}
	crypto_generichash(d, sizeof(d), (const unsigned char *)key, len, NULL, 0);
	/* A NUL first byte cannot be a real key's (keys are C strings): no collision. */
	out[0] = 0;
	for (size_t i = 0; i < sizeof(d); i++) {
		out[1 + 2 * i] = hex[d[i] >> 4];
		out[2 + 2 * i] = hex[d[i] & 15];
	}
	out[1 + 2 * sizeof(d)] = 0;
}

static bool key_equal(const char *a, const char *b)
{
	if (a[0] == 0 || b[0] == 0)
		return a[0] == b[0] && strcmp(a + 1, b + 1) == 0;
	return strcmp(a, b) == 0;
}

static size_t key_slot(const struct throttle *t, const char *k)
{
	size_t len = k[0] ? strlen(k) : 1 + strlen(k + 1);
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const unsigned char *)k, len, t->hash_key);
	memcpy(&v, h, sizeof(v));
	return (size_t)(v & (t->n_heads - 1));
}

static uint32_t find(const struct throttle *t, const char *k, size_t slot)
{
	for (uint32_t i = t->heads[slot]; i != NONE; i = t->e[i].next)
		if (key_equal(t->e[i].key, k))
			return i;
	return NONE;
}

static void lru_unlink(struct throttle *t, uint32_t i)
{
	struct entry *e = &t->e[i];

	if (e->newer != NONE)
		t->e[e->newer].older = e->older;
	else
		t->newest = e->older;
	if (e->older != NONE)
		t->e[e->older].newer = e->newer;
	else
		t->oldest = e->newer;
}

static void lru_push(struct throttle *t, uint32_t i)
{
	t->e[i].newer = NONE;
	t->e[i].older = t->newest;
	if (t->newest != NONE)
		t->e[t->newest].newer = i;
	t->newest = i;
	if (t->oldest == NONE)
		t->oldest = i;
}

static void chain_unlink(struct throttle *t, uint32_t i)
{
	uint32_t *p = &t->heads[key_slot(t, t->e[i].key)];

	while (*p != i)
		p = &t->e[*p].next;
	*p = t->e[i].next;
}

/* Adds count refusals of n_keys keys, the first at since_ms, to *into. */
static void count_fold(struct throttle_count *into, int64_t since_ms, uint64_t count, uint64_t n_keys)
{
	if (!count)
		return;
	if (!into->count || since_ms < into->since_ms)
		into->since_ms = since_ms;
	into->count = count > UINT64_MAX - into->count ? UINT64_MAX : into->count + count;
	into->n_keys += n_keys;
}

void throttle_count_fold(struct throttle_count *into, const struct throttle_count *c)
{
	count_fold(into, c->since_ms, c->count, c->n_keys);
}

/* Removes entry i from the chain and the touch order; the caller reuses or frees it. */
static void forget(struct throttle *t, uint32_t i)
{
	chain_unlink(t, i);
	lru_unlink(t, i);
	count_fold(&t->lost, t->e[i].since_ms, t->e[i].n_refused, 1);
	t->e[i].n_refused = 0;
}

/* The entry of k, made with a full bucket when missing (the oldest goes when the table is full). */
static uint32_t obtain(struct throttle *t, const char *k, size_t slot, int64_t now_ms)
{
	uint32_t i = find(t, k, slot);

	if (i != NONE) {
		lru_unlink(t, i);
		lru_push(t, i);
		return i;
	}
	if (t->free != NONE) {
		i = t->free;
		t->free = t->e[i].next;
	} else if (t->used < t->cap) {
		i = (uint32_t)t->used++;
	} else {
		i = t->oldest;
		forget(t, i);
	}
	memcpy(t->e[i].key, k, sizeof(t->e[i].key));
	t->e[i].tokens = t->rule.burst;
	t->e[i].last_ms = now_ms;
	t->e[i].n_refused = 0;
	t->e[i].next = t->heads[slot];
	t->heads[slot] = i;
	lru_push(t, i);
	return i;
}

static void refill(const struct throttle *t, struct entry *e, int64_t now_ms)
{
	/* A clock that steps back refills nothing and keeps the later time. */
	if (now_ms <= e->last_ms)
		return;
	e->tokens += (double)(now_ms - e->last_ms) * t->rule.per_hour / MS_PER_HOUR;
	if (e->tokens > t->rule.burst)
		e->tokens = t->rule.burst;
	e->last_ms = now_ms;
}

static unsigned retry_after(const struct throttle *t, const struct entry *e)
{
	double s;

	if (t->rule.per_hour <= 0)
		return RETRY_MAX_S;
	s = ceil((1.0 - e->tokens) * MS_PER_HOUR / t->rule.per_hour / 1000.0);
	if (s < 1)
		return 1;
	return s > RETRY_MAX_S ? RETRY_MAX_S : (unsigned)s;
}

/* Whether the bucket of k holds a token now; takes it when take. Called with the lock held. */
static bool check_locked(struct throttle *t, const char *k, int64_t now_ms, bool take,
			 unsigned *retry_after_s)
{
	size_t slot = key_slot(t, k);
	uint32_t i = find(t, k, slot);
	struct entry *e;

	*retry_after_s = 0;
	/* A key never seen holds a full bucket: checking it stores nothing. */
	if (i == NONE && !take && t->rule.burst >= 1)
		return true;
	i = obtain(t, k, slot, now_ms);
	e = &t->e[i];
	refill(t, e, now_ms);
	if (e->tokens < 1) {
		*retry_after_s = retry_after(t, e);
		return false;
	}
	if (take)
		e->tokens -= 1;
	return true;
}

/* throttle_check (take false) and throttle_admit (take true): one lookup under the lock. */
static bool check_key(struct throttle *t, const char *key, int64_t now_ms, bool take,
		      unsigned *retry_after_s)
{
	char k[KEY_MAX + 1];
	bool ok;

	*retry_after_s = 0;
	if (rule_off(t))
		return true;
	key_canon(k, key);
	pthread_mutex_lock(&t->lock);
	ok = check_locked(t, k, now_ms, take, retry_after_s);
	pthread_mutex_unlock(&t->lock);
	return ok;
}

bool throttle_check(struct throttle *t, const char *key, int64_t now_ms, unsigned *retry_after_s)
{
	return check_key(t, key, now_ms, false, retry_after_s);
}

bool throttle_admit(struct throttle *t, const char *key, int64_t now_ms, unsigned *retry_after_s)
{
	return check_key(t, key, now_ms, true, retry_after_s);
}

void throttle_take(struct throttle *t, const char *key, int64_t now_ms)
{
	char k[KEY_MAX + 1];
	struct entry *e;

	if (rule_off(t))
		return;
	key_canon(k, key);
	pthread_mutex_lock(&t->lock);
	e = &t->e[obtain(t, k, key_slot(t, k), now_ms)];
	refill(t, e, now_ms);
	/* An empty bucket stays at zero: events counted while refused do not push the next
	 * token further away, so a refused caller is never locked out for longer than a refill. */
	e->tokens = e->tokens >= 1 ? e->tokens - 1 : 0;
	pthread_mutex_unlock(&t->lock);
}

void throttle_reset(struct throttle *t, const char *key)
{
	char k[KEY_MAX + 1];
	uint32_t i;

	key_canon(k, key);
	pthread_mutex_lock(&t->lock);
	i = find(t, k, key_slot(t, k));
	if (i != NONE) {
		forget(t, i);
		t->e[i].next = t->free;
		t->free = i;
	}
	pthread_mutex_unlock(&t->lock);
}

/* ---- counted refusals ---- */

static bool is_due(const struct entry *e, int64_t now_ms, int64_t window_ms)
{
	/* A clock that stepped back ends the window: a count is never held for ever. */
	return e->n_refused &&
	       (window_ms <= 0 || now_ms - e->since_ms >= window_ms || now_ms < e->since_ms);
}

/* Moves e's count to *out under e's key (a digest key shows as '#' and its hex). */
static void count_take(struct throttle_count *out, struct entry *e)
{
	memcpy(out->key, e->key, sizeof(out->key));
	if (!out->key[0] && out->key[1])
		out->key[0] = '#';
	out->since_ms = e->since_ms;
	out->count = e->n_refused;
	out->n_keys = 1;
	e->n_refused = 0;
}

/* Hands out entry i's count when due, then counts one refusal when is_refused. */
static void count_locked(struct throttle *t, uint32_t i, int64_t now_ms, int64_t window_ms,
			 struct throttle_count *due, bool is_refused)
{
	struct entry *e = &t->e[i];

	if (is_due(e, now_ms, window_ms))
		count_take(due, e);
	if (!is_refused)
		return;
	if (!e->n_refused)
		e->since_ms = now_ms;
	if (e->n_refused < UINT64_MAX)
		e->n_refused++;
}

bool throttle_admit_counting(struct throttle *t, const char *key, int64_t now_ms, int64_t window_ms,
			     struct throttle_count *due)
{
	char k[KEY_MAX + 1];
	unsigned retry_after_s;
	bool ok;

	memset(due, 0, sizeof(*due));
	if (rule_off(t))
		return true;
	key_canon(k, key);
	pthread_mutex_lock(&t->lock);
	ok = check_locked(t, k, now_ms, true, &retry_after_s);
	/* Taking always obtains the key's entry, which is then the newest. */
	count_locked(t, t->newest, now_ms, window_ms, due, !ok);
	pthread_mutex_unlock(&t->lock);
	return ok;
}

void throttle_count(struct throttle *t, const char *key, int64_t now_ms, int64_t window_ms,
		    struct throttle_count *due)
{
	char k[KEY_MAX + 1];
	uint32_t i;

	memset(due, 0, sizeof(*due));
	key_canon(k, key);
	pthread_mutex_lock(&t->lock);
	i = obtain(t, k, key_slot(t, k), now_ms);
	count_locked(t, i, now_ms, window_ms, due, true);
	pthread_mutex_unlock(&t->lock);
}

size_t throttle_drain(struct throttle *t, int64_t now_ms, int64_t window_ms,
		      struct throttle_count *out, size_t max, struct throttle_count *rest)
{
	size_t n = 0;

	memset(rest, 0, sizeof(*rest));
	pthread_mutex_lock(&t->lock);
	*rest = t->lost;
	memset(&t->lost, 0, sizeof(t->lost));
	for (size_t i = 0; i < t->used; i++) {
		struct entry *e = &t->e[i];

		if (!is_due(e, now_ms, window_ms))
			continue;
		if (n < max) {
			count_take(&out[n++], e);
		} else {
			count_fold(rest, e->since_ms, e->n_refused, 1);
			e->n_refused = 0;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}
