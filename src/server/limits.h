/*
 * Per-caller limits (R1, R2): rate limits on searches, sign-in and token creation, counted
 * per user (or per address for a caller without a name) and per address, and a cap on the
 * searches one caller runs at once, so one user's heavy queries cannot take every search slot.
 * The buckets are src/auth/throttle.h's. Thread-safe. Nothing here knows about
 * libmicrohttpd: the dispatcher's take_limits calls limits_request (server_int.h).
 */
#ifndef TRAWL_SERVER_LIMITS_H
#define TRAWL_SERVER_LIMITS_H

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct throttle;

/* A caller's key: "user:" + a name, or "addr:" + an address (an IPv6 /64). */
#define LIMITS_KEY_MAX 80

enum limits_kind {
	LIMITS_SEARCH, /* a search, JSON or stream */
	LIMITS_SIGNIN, /* POST /api/v1/session */
	LIMITS_TOKEN,  /* POST /api/v1/tokens */
	LIMITS_N_KINDS,
};

struct limits_config {
	uint32_t rate_search;       /* per second per caller, burst 4x; 4x that per address; 0 off */
	uint32_t rate_signin;       /* per minute per address, burst the same; 0 off */
	uint32_t rate_tokens;       /* per hour per caller and per address, burst the same; 0 off */
	unsigned max_searches;      /* the server's cap: the most callers that can hold a slot */
	unsigned user_max_searches; /* one caller's; 0: half of max_searches, at least 2 */
};

struct limits_slot {
	char key[LIMITS_KEY_MAX];
	unsigned n; /* searches running; 0: the entry is free */
};

/*
 * Commits read from mirrors (handlers_mirror.c): the server runs LIMITS_MIRROR_SLOTS at once
 * (MIRROR_MAX_WORKERS), and one caller at most LIMITS_MIRROR_USER_MAX of them, so that one
 * caller cannot keep every other reader's permalinks at 503.
 */
#define LIMITS_MIRROR_SLOTS 4
#define LIMITS_MIRROR_USER_MAX 2

struct limits {
	struct throttle *by_caller[LIMITS_N_KINDS]; /* NULL: off */
	struct throttle *by_addr[LIMITS_N_KINDS];
	pthread_mutex_t lock;
	struct limits_slot *slots; /* max_searches entries: every running search's caller */
	size_t n_slots;
	unsigned user_max;
	struct limits_slot mirror_slots[LIMITS_MIRROR_SLOTS]; /* every running mirror read's caller */
};

/* ENOMEM. */
int limits_init(struct limits *l, const struct limits_config *c);
void limits_dispose(struct limits *l);

/*
 * The rate limit of kind for a caller (caller_key) from an address (addr_key; either may be
 * NULL: not counted) at now_ms: true when both buckets have room (and each gives one), else
 * false with the seconds to wait in *retry_after_s (nothing is taken then).
 */
bool limits_admit(struct limits *l, enum limits_kind kind, const char *caller_key,
		  const char *addr_key, int64_t now_ms, unsigned *retry_after_s);

/*
 * Takes one of caller_key's search slots: 0 and its index in *slot, or ELIMIT when the caller
 * already runs user_max searches (or, never with the server's own cap taken first, when
 * every entry is busy).
 */
int limits_slot_take(struct limits *l, size_t *slot, const char *caller_key);
void limits_slot_release(struct limits *l, size_t slot);

/* The keys of a caller with name (NULL or "": none) from address addr (text). */
void limits_caller_key(char out[LIMITS_KEY_MAX], const char *name, const char *addr);
void limits_addr_key(char out[LIMITS_KEY_MAX], const char *addr);

#endif
