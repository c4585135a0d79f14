/* Rate limits and the per-caller search cap (limits.h). */
#include "server/limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/throttle.h"
#include "server/proxy.h"
#include "server/server_int.h"
#include "util/error.h"

/* Keys each bucket table remembers: a flood of new addresses costs at most this much. */
#define LIMITS_MAX_KEYS 65536

/* The buckets of one kind: per caller and per address, from the configured rate. */
static void rules_of(struct throttle_rule *caller, struct throttle_rule *addr, enum limits_kind kind,
		     const struct limits_config *c)
{
	double r;

	switch (kind) {
	case LIMITS_SEARCH:
		/* An office behind one address (NAT) is many callers: its bucket is 4x larger. */
		r = c->rate_search;
		*caller = (struct throttle_rule){ .burst = 4 * r, .per_hour = r * 3600 };
		*addr = (struct throttle_rule){ .burst = 16 * r, .per_hour = 4 * r * 3600 };
		return;
	case LIMITS_SIGNIN:
		/* Sign-in has no caller yet; the account's own throttle is auth_sign_in's. */
		r = c->rate_signin;
		*caller = (struct throttle_rule){ .burst = 0, .per_hour = 0 };
		*addr = (struct throttle_rule){ .burst = r, .per_hour = r * 60 };
		return;
	default:
		r = c->rate_tokens;
		*caller = (struct throttle_rule){ .burst = r, .per_hour = r };
		*addr = *caller;
		return;
	}
}

static int throttle_of(struct throttle **out, const struct throttle_rule *rule)
{
	*out = NULL;
	if (rule->burst <= 0)
		return 0;
	return throttle_new(out, rule, LIMITS_MAX_KEYS);
}

int limits_init(struct limits *l, const struct limits_config *c)
{
	unsigned half = c->max_searches / 2;
	int err = 0;

	*l = (struct limits){ .n_slots = c->max_searches ? c->max_searches : 1 };
	l->user_max = c->user_max_searches ? c->user_max_searches : half < 2 ? 2 : half;
	pthread_mutex_init(&l->lock, NULL);
	if (!(l->slots = calloc(l->n_slots, sizeof(*l->slots)))) {
		err = error_nomem(NULL);
		goto out;
	}
	for (int k = 0; k < LIMITS_N_KINDS; k++) {
		struct throttle_rule by_caller, by_addr;

		rules_of(&by_caller, &by_addr, (enum limits_kind)k, c);
		if ((err = throttle_of(&l->by_caller[k], &by_caller)) < 0 ||
		    (err = throttle_of(&l->by_addr[k], &by_addr)) < 0)
			goto out;
	}
out:
	if (err < 0)
		limits_dispose(l);
	return err;
}

void limits_dispose(struct limits *l)
{
	for (int k = 0; k < LIMITS_N_KINDS; k++) {
		throttle_free(l->by_caller[k]);
		throttle_free(l->by_addr[k]);
		l->by_caller[k] = l->by_addr[k] = NULL;
	}
	free(l->slots);
	l->slots = NULL;
	pthread_mutex_destroy(&l->lock);
}

bool limits_admit(struct limits *l, enum limits_kind kind, const char *caller_key,
		  const char *addr_key, int64_t now_ms, unsigned *retry_after_s)
{
	struct throttle *tc = caller_key ? l->by_caller[kind] : NULL;
	struct throttle *ta = addr_key ? l->by_addr[kind] : NULL;
	unsigned wait_c = 0, wait_a = 0;
	bool is_ok = true;

	/* Both are checked before either is taken: a refusal costs the caller nothing. */
	if (tc && !throttle_check(tc, caller_key, now_ms, &wait_c))
		is_ok = false;
	if (ta && !throttle_check(ta, addr_key, now_ms, &wait_a))
		is_ok = false;
	*retry_after_s = wait_c > wait_a ? wait_c : wait_a;
	if (!is_ok)
		return false;
	if (tc)
		throttle_take(tc, caller_key, now_ms);
	if (ta)
		throttle_take(ta, addr_key, now_ms);
	return true;
}

/* One of caller_key's max entries of slots (n of them) into *slot; ELIMIT when none is left. */
static int slot_take(struct limits *l, struct limits_slot *slots, size_t n, unsigned max,
		     size_t *slot, const char *caller_key)
{
	size_t free_i = n;
	int err = 0;

	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < n; i++) {
		if (slots[i].n == 0) {
			if (free_i == n)
				free_i = i;
		} else if (strcmp(slots[i].key, caller_key) == 0) {
			if (slots[i].n >= max) {
				err = TRAWL_ELIMIT;
				goto out;
			}
			slots[i].n++;
			*slot = i;
			goto out;
		}
	}
	if (free_i == n) {
		err = TRAWL_ELIMIT;
		goto out;
	}
	snprintf(slots[free_i].key, sizeof(slots[free_i].key), "%s", caller_key);
	slots[free_i].n = 1;
	*slot = free_i;
out:
	pthread_mutex_unlock(&l->lock);
	return err;
}

static void slot_release(struct limits *l, struct limits_slot *slots, size_t n, size_t slot)
{
	pthread_mutex_lock(&l->lock);
	if (slot < n && slots[slot].n > 0)
		slots[slot].n--;
	pthread_mutex_unlock(&l->lock);
}

int limits_slot_take(struct limits *l, size_t *slot, const char *caller_key)
{
	int err = slot_take(l, l->slots, l->n_slots, l->user_max, slot, caller_key);

	if (err < 0)
		error_set("%u searches of this caller are running already", l->user_max);
	return err;
}

void limits_slot_release(struct limits *l, size_t slot)
{
	slot_release(l, l->slots, l->n_slots, slot);
}

void limits_addr_key(char out[LIMITS_KEY_MAX], const char *addr)
{
	struct proxy_addr a;

	/* One IPv6 user holds a /64: counting whole addresses would give them 2^64 buckets. */
	if (proxy_addr_parse(&a, addr, strlen(addr)) && a.family == AF_INET6) {
		char text[INET6_ADDRSTRLEN];

		memset(a.addr + 8, 0, 8);
		proxy_addr_format(text, &a);
		snprintf(out, LIMITS_KEY_MAX, "addr:%s/64", text);
		return;
	}
	snprintf(out, LIMITS_KEY_MAX, "addr:%s", addr);
}

void limits_caller_key(char out[LIMITS_KEY_MAX], const char *name, const char *addr)
{
	if (name && name[0])
		snprintf(out, LIMITS_KEY_MAX, "user:%s", name);
	else
		limits_addr_key(out, addr);
}

/* ---- the dispatcher's side ---- */

/* The name limits count a caller by: a signed-in user's; "" for anonymous and local callers. */
static const char *caller_name(const struct req *rq)
{
	return rq->caller.who.name;
}

/* Which limited action a request is; LIMITS_N_KINDS: none. */
static enum limits_kind kind_of(const struct req *rq)
{
	static const struct {
		const char *pattern;
		const char *method;
		enum limits_kind kind;
	} actions[] = {
		{ "api/v1/session", "POST", LIMITS_SIGNIN },
		{ "auth/oidc/login", "GET", LIMITS_SIGNIN },
		{ "api/v1/tokens", "POST", LIMITS_TOKEN },
	};

	/*
	 * A searcher's internal routes are signed requests of the frontends, which applied the
	 * rate limits and search slots of the user they search for: here every user would be one
	 * caller (the frontend), whose limits would turn a busy cluster's answers partial. The
	 * searcher keeps its own bound on searches at once (take_limits, --max-searches).
	 */
	if (cluster_is_internal(rq->route))
		return LIMITS_N_KINDS;
	if (rq->route->flags & ROUTE_SEARCH)
		return LIMITS_SEARCH;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(rq->route->pattern, actions[i].pattern) == 0 &&
		    strcmp(rq->method, actions[i].method) == 0)
			return actions[i].kind;
	return LIMITS_N_KINDS;
}

static const char *const refusals[LIMITS_N_KINDS] = {
	[LIMITS_SEARCH] = "too many searches",
	[LIMITS_SIGNIN] = "too many sign-in attempts",
	[LIMITS_TOKEN] = "too many tokens created",
};

static int refuse(struct req *rq, enum limits_kind kind, unsigned retry_after_s)
{
	char msg[96];

	/* No handler has set a header from it (a mirror read's comes before any): it is free. */
	snprintf(rq->hdr_text, sizeof(rq->hdr_text), "%u", retry_after_s);
	snprintf(msg, sizeof(msg), "%s; retry in %u s", refusals[kind], retry_after_s);
	req_error(rq, 429, "rate_limited", msg, 0);
	req_header(rq, "Retry-After", rq->hdr_text);
	if (kind == LIMITS_SEARCH)
		atomic_fetch_add(&rq->s->metrics.busy, 1); /* a search not run, as over the cap */
	return TRAWL_ELIMIT;
}

int limits_request(struct req *rq)
{
	struct limits *l = &rq->s->limits;
	enum limits_kind kind = kind_of(rq);
	char caller[LIMITS_KEY_MAX], addr[LIMITS_KEY_MAX];
	unsigned wait_s;

	if (kind == LIMITS_N_KINDS)
		return 0;
	limits_caller_key(caller, caller_name(rq), rq->client_addr);
	limits_addr_key(addr, rq->client_addr);
	if (!limits_admit(l, kind, kind == LIMITS_SIGNIN ? NULL : caller, addr,
			  (int64_t)clock_now_ms(), &wait_s))
		return refuse(rq, kind, wait_s);
	if (kind == LIMITS_SEARCH) {
		if (limits_slot_take(l, &rq->user_slot, caller) < 0) {
			atomic_fetch_add(&rq->s->metrics.busy, 1);
			req_error(rq, 429, "busy",
				  "too many of your searches are running; retry "
				  "when one ends",
				  0);
			req_header(rq, "Retry-After", "1");
			return TRAWL_ELIMIT;
		}
		rq->has_user_slot = true;
	}
	return 0;
}

/*
 * SECURITY (R1, R2): a mirror read starts a process (handlers_mirror.c), dearer than most
 * searches: it counts against the caller's search rate, and one caller holds at most
 * LIMITS_MIRROR_USER_MAX of the server's LIMITS_MIRROR_SLOTS.
 */
int limits_mirror_take(struct req *rq)
{
	struct limits *l = &rq->s->limits;
	char caller[LIMITS_KEY_MAX], addr[LIMITS_KEY_MAX];
	unsigned wait_s;

	limits_caller_key(caller, caller_name(rq), rq->client_addr);
	limits_addr_key(addr, rq->client_addr);
	if (!limits_admit(l, LIMITS_SEARCH, caller, addr, (int64_t)clock_now_ms(), &wait_s))
		return refuse(rq, LIMITS_SEARCH, wait_s);
	if (slot_take(l, l->mirror_slots, LIMITS_MIRROR_SLOTS, LIMITS_MIRROR_USER_MAX,
		      &rq->mirror_slot, caller) < 0) {
		req_error(rq, 429, "busy",
			  "too many of your commits are being read from mirrors; retry when one ends",
			  0);
		req_header(rq, "Retry-After", "1");
		return TRAWL_ELIMIT;
	}
	rq->has_mirror_slot = true;
	return 0;
}

void limits_mirror_release(struct req *rq)
{
	if (rq->has_mirror_slot)
		slot_release(&rq->s->limits, rq->s->limits.mirror_slots, LIMITS_MIRROR_SLOTS,
			     rq->mirror_slot);
	rq->has_mirror_slot = false;
}

void limits_request_end(struct req *rq)
{
	if (rq->has_user_slot)
		limits_slot_release(&rq->s->limits, rq->user_slot);
	rq->has_user_slot = false;
	limits_mirror_release(rq); /* a read that never ran: its slot is not kept */
}
