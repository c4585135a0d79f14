/* When a repository is next due for a sync; see due.h. */
#include "store/due.h"

#include <stdint.h>

#include "util/error.h"

int store_due_check(const struct store_due_rule *rule)
{
	if (rule->min_s >= 1 && rule->max_s >= rule->min_s)
		return 0;
	error_set("the sync interval's bounds %llds..%llds: expected 1 <= minimum <= maximum",
		  (long long)rule->min_s, (long long)rule->max_s);
	return TRAWL_EINVAL;
}

int64_t store_due_interval(int64_t last_sync, int64_t last_changed,
			   const struct store_due_rule *rule)
{
	int64_t idle = 0;

	/* The registry is the confined server's to write: any values, without overflow. */
	if (last_sync > last_changed && __builtin_sub_overflow(last_sync, last_changed, &idle))
		idle = INT64_MAX;
	idle /= 2;
	if (idle < rule->min_s)
		return rule->min_s;
	return idle > rule->max_s ? rule->max_s : idle;
}

int64_t store_due_at(const struct store_repo *r, const struct store_due_rule *rule)
{
	int64_t at;

	if (r->sync_requested > 0)
		return 0; /* an administrator asked for it now */
	if (r->state == STORE_STATE_ERROR)
		return r->next_attempt; /* the backoff of its failures in a row */
	if (r->last_sync <= 0 || r->state == STORE_STATE_NEW)
		return 0;
	if (__builtin_add_overflow(r->last_sync, store_due_interval(r->last_sync, r->last_changed,
								     rule), &at))
		return INT64_MAX;
	return at;
}

bool store_due(const struct store_repo *r, const struct store_due_rule *rule, int64_t now)
{
	return store_due_at(r, rule) <= now;
}
