/* Compiled patterns shared between queries; see patcache.h. */
#include "regex/patcache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* The cache's bookkeeping around a pattern; `p` first, so a pattern pointer is an entry's. */
struct entry {
	struct pattern p;
	char *key;         /* the pattern text */
	size_t key_len;
	unsigned flags;
	bool want_plan;
	bool is_cached;    /* in table[]; else freed at its last release */
	unsigned refs;     /* queries holding it */
	uint64_t last_use; /* for least-recently-used eviction */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table[PATCACHE_ENTRIES];
static uint64_t tick;
static uint64_t n_hits, n_compiled;

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	matcher_free(e->p.m);
	tq_free(e->p.plan);
	tq_free(e->p.variants);
	regex_free(e->p.re);
	free(e->key);
	free(e);
}

/* p->variants for a wide literal. ENOMEM. */
static int plan_variants(struct pattern *p)
{
	size_t len;
	unsigned lit_flags;
	const char *lit = matcher_literal(p->m, &len, &lit_flags);

	if (!lit || !(lit_flags & REGEX_LITERAL_WIDE))
		return 0;
	return regex_literal_variants(&p->variants, (const uint8_t *)lit, len);
}

static int entry_compile(struct entry **out, const char *pat, size_t len, unsigned flags,
			 bool want_plan, double deadline_ms)
{
	struct entry *e = calloc(1, sizeof(*e));
	int err;

	*out = NULL;
	if (!e || !(e->key = malloc(len ? len : 1))) {
		free(e);
		return error_nomem(NULL);
	}
	memcpy(e->key, pat, len);
	e->key_len = len;
	e->flags = flags;
	e->want_plan = want_plan;
	if ((err = regex_parse(&e->p.re, pat, len, flags)) < 0 ||
	    (want_plan && (err = regex_plan(&e->p.plan, e->p.re)) < 0) ||
	    (err = matcher_new(&e->p.m, e->p.re, deadline_ms)) < 0 ||
	    (want_plan && (err = plan_variants(&e->p)) < 0)) {
		entry_free(e);
		return err;
	}
	*out = e;
	return 0;
}

static bool entry_is(const struct entry *e, const char *pat, size_t len, unsigned flags,
		     bool want_plan)
{
	return e && e->key_len == len && e->flags == flags && e->want_plan == want_plan &&
	       memcmp(e->key, pat, len) == 0;
}

/* The slot for a new entry: an empty one, or the least recently used unheld one; -1 if none. */
static int slot_free(void)
{
	int best = -1;

	for (int i = 0; i < PATCACHE_ENTRIES; i++) {
		if (!table[i])
			return i;
		if (table[i]->refs == 0 && (best < 0 || table[i]->last_use < table[best]->last_use))
			best = i;
	}
	return best;
}

/* Under the lock: a held reference to the cached entry for the key, or NULL. */
static struct entry *lookup(const char *pat, size_t len, unsigned flags, bool want_plan)
{
	for (int i = 0; i < PATCACHE_ENTRIES; i++) {
		if (entry_is(table[i], pat, len, flags, want_plan)) {
			table[i]->refs++;
			table[i]->last_use = ++tick;
			n_hits++;
			return table[i];
		}
	}
	return NULL;
}

/*
 * Under the lock: caches e (one reference, the caller's) and returns the entry to use: e, or the
 * same pattern another thread cached while this one compiled (then e is freed).
 */
static struct entry *insert(struct entry *e)
{
	struct entry *other = lookup(e->key, e->key_len, e->flags, e->want_plan);
	int i;

	if (other) {
		entry_free(e);
		return other;
	}
	e->refs = 1;
	e->last_use = ++tick;
	if ((i = slot_free()) < 0)
		return e; /* every entry is in use: this one stays the caller's alone */
	entry_free(table[i]);
	table[i] = e;
	e->is_cached = true;
	return e;
}

int patcache_get(const struct pattern **out, const char *pat, size_t len, unsigned flags,
		 bool want_plan, double deadline_ms)
{
	struct entry *e;
	int err;

	*out = NULL;
	pthread_mutex_lock(&lock);
	e = lookup(pat, len, flags, want_plan);
	pthread_mutex_unlock(&lock);
	if (!e) {
		/* Compiled outside the lock: a slow pattern must not hold up the others. */
		if ((err = entry_compile(&e, pat, len, flags, want_plan, deadline_ms)) < 0)
			return err;
		pthread_mutex_lock(&lock);
		n_compiled++;
		e = insert(e);
		pthread_mutex_unlock(&lock);
	}
	*out = &e->p;
	return 0;
}

void patcache_release(const struct pattern *p)
{
	struct entry *e = (struct entry *)(uintptr_t)p;
	bool is_last;

	if (!e)
		return;
	pthread_mutex_lock(&lock);
	is_last = --e->refs == 0 && !e->is_cached;
	pthread_mutex_unlock(&lock);
	if (is_last)
		entry_free(e);
}

void patcache_stats(uint64_t *hits, uint64_t *compiled)
{
	pthread_mutex_lock(&lock);
	*hits = n_hits;
	*compiled = n_compiled;
	pthread_mutex_unlock(&lock);
}

void patcache_clear(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < PATCACHE_ENTRIES; i++) {
		if (table[i] && table[i]->refs == 0) {
			entry_free(table[i]);
			table[i] = NULL;
		} else if (table[i]) {
			table[i]->is_cached = false; /* freed by its last release */
			table[i] = NULL;
		}
	}
	pthread_mutex_unlock(&lock);
}
