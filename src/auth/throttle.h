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

#endif
