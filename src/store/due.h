/*
 * When a repository is next due for a sync (`trawl sync --due`, the server's scheduler): by how
 * recently it changed. A repository is synced again after half the time it had been unchanged
 * at its last sync, within a minimum and a maximum interval: one that changed an hour before
 * its last sync is due 30 minutes after it, one idle for a month waits the maximum, one that
 * moved at its last sync waits the minimum. A never-synced repository is due at once; one whose
 * last attempts failed waits out its backoff (store_repo_set_failed) instead; one an
 * administrator asked to sync now (store_repo_request_sync) is due at once. Pure functions of
 * the registry's columns (last_sync, last_changed, state, next_attempt, sync_requested) and the
 * time.
 * docs/operations.md, "Scheduling", describes the rule and its knobs.
 */
#ifndef TRAWL_STORE_DUE_H
#define TRAWL_STORE_DUE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_DUE_MIN_DEFAULT 600LL        /* seconds: `trawl serve --sync-interval` */
#define STORE_DUE_MAX_DEFAULT (8 * 3600LL) /* seconds: `trawl serve --sync-max-interval` */

/* The bounds of the interval, in seconds; min >= 1 and max >= min (store_due_check). */
struct store_due_rule {
	int64_t min_s, max_s;
};

/* EINVAL, with a message, unless 1 <= min_s <= max_s. */
int store_due_check(const struct store_due_rule *rule);

/*
 * The interval after a sync at last_sync of a repository that last changed at last_changed
 * (unix seconds; a last_changed after last_sync counts as a change at last_sync):
 * (last_sync - last_changed) / 2 within [min_s, max_s].
 */
int64_t store_due_interval(int64_t last_sync, int64_t last_changed,
			   const struct store_due_rule *rule);

/* The unix second from which r is due: 0 (at once) when never synced. */
int64_t store_due_at(const struct store_repo *r, const struct store_due_rule *rule);

/* Whether r is due at now. */
bool store_due(const struct store_repo *r, const struct store_due_rule *rule, int64_t now);

#endif
