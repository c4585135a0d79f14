/*
 * Keyed rate limits (R1, A6): token buckets by key ("user:alice", "addr:10.0.0.7"), in memory,
 * bounded in size (the least recently touched key is forgotten first, so a flood of new keys
 * costs memory only up to the bound), thread-safe. Time is given by the caller (unix ms), so
 * tests drive it.
 *
 * A bucket holds up to `burst` tokens and regains `per_hour` of them per hour; each counted
 * event takes one. An empty bucket refuses with the seconds until the next token.
 */
#ifndef TRAWL_AUTH_THROTTLE_H
#define TRAWL_AUTH_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct throttle;

struct throttle_rule {
	double burst;    /* tokens a fresh key holds */
	double per_hour; /* tokens regained per hour; 0 with burst 0: the rule is off */
};

/* At most max_keys keys are remembered. ENOMEM. */
int throttle_new(struct throttle **out, const struct throttle_rule *rule, size_t max_keys);
void throttle_free(struct throttle *t);

/*
 * Whether key may act now: true (and *retry_after_s = 0) when its bucket holds a token; else
 * false with the whole seconds (at least 1) until it will. Takes nothing.
 */
bool throttle_check(struct throttle *t, const char *key, int64_t now_ms,
		    unsigned *retry_after_s);

/* Takes one token from key's bucket (an event that counts: a failure, a search). */
void throttle_take(struct throttle *t, const char *key, int64_t now_ms);

/* throttle_check, then throttle_take when allowed: for limits that count every attempt. */
bool throttle_admit(struct throttle *t, const char *key, int64_t now_ms,
		    unsigned *retry_after_s);

/* Forgets key (a success resets an address's failure count). */
void throttle_reset(struct throttle *t, const char *key);

/*
 * Counted refusals: a limit that drops events (the audit trail's bound on refused requests)
 * keeps, with each key's bucket, how many it dropped since the first not yet reported, so
 * the count can be reported under its key later. A count whose key is forgotten to make room
 * (or reset) is not lost: it joins the throttle's own count of forgotten keys, which
 * throttle_drain hands out with the rest.
 */
#define THROTTLE_KEY_MAX 96 /* bytes of a key kept as given; a longer one is reported as a digest */

struct throttle_count {
	char key[THROTTLE_KEY_MAX + 1]; /* "" for counts of several keys */
	int64_t since_ms;               /* the first refusal counted */
	uint64_t count;                 /* refusals */
	uint64_t n_keys;                /* keys whose counts this is */
};

/*
 * throttle_admit that counts a refusal under key. When key's count began window_ms or more
 * before now_ms it is first moved to *due (due->count is 0 when nothing is due), so a
 * count is reported at most once a window and at least when the key is next seen.
 */
bool throttle_admit_counting(struct throttle *t, const char *key, int64_t now_ms, int64_t window_ms,
			     struct throttle_count *due);

/* Counts one refusal under key without taking a token (another limit refused it); *due as above. */
void throttle_count(struct throttle *t, const char *key, int64_t now_ms, int64_t window_ms,
		    struct throttle_count *due);

/* Adds c to the sum *into: the earlier since_ms, the counts and the keys added. */
void throttle_count_fold(struct throttle_count *into, const struct throttle_count *c);

/*
 * Moves the counts that began window_ms or more before now_ms (every count when window_ms
 * is 0) out of t: the first max to out[0..return), the others summed into *rest with the
 * counts of forgotten keys (rest->count 0: none), so the number of reports stays bounded.
 */
size_t throttle_drain(struct throttle *t, int64_t now_ms, int64_t window_ms,
		      struct throttle_count *out, size_t max, struct throttle_count *rest);

#endif
