/*
 * Notices (auth.h, "notices"): trawl has no e-mail, so what is done to an account that its
 * owner should know of (the password set, a token made by someone else, the account disabled
 * or enabled, the administrator flag granted) is stored for the owner, who sees it after
 * signing in: when, by whom ("you", an administrator's name, or the command line) and from
 * which address. A notice holds no secret: an event name, names, an address and a time.
 */
#include <stdio.h>
#include <string.h>

#include "auth/auth_int.h"
#include "store/notices.h"
#include "util/error.h"

static int unlocked(struct auth *a, int err)
{
	pthread_mutex_unlock(&a->lock);
	return err;
}

int notice_tell(struct auth *a, int err, const struct auth_actor *by, const char *user,
		const char *event, const char *token)
{
	int64_t now = auth_now(a);
	struct store_notice n = { .ts_ms = now };
	int e;

	/* The command line has no user and no address: both stay "". */
	n.is_self = by && by->name && strcmp(by->name, user) == 0;
	snprintf(n.event, sizeof(n.event), "%s", event);
	snprintf(n.actor, sizeof(n.actor), "%s", by && by->name ? by->name : "");
	snprintf(n.address, sizeof(n.address), "%s", by && by->address ? by->address : "");
	snprintf(n.token, sizeof(n.token), "%s", token ? token : "");
	pthread_mutex_lock(&a->lock);
	e = unlocked(a, store_notice_add(a->st, user, &n, now - (int64_t)AUTH_NOTICE_KEEP_S * 1000));
	return err < 0 ? err : e;
}

int notice_flags_set(bool *changed, struct auth *a, const char *name, int is_admin, int is_disabled)
{
	struct store_user u;
	int err;

	*changed = false;
	pthread_mutex_lock(&a->lock);
	if ((err = store_user_get(&u, a->st, name)) < 0)
		return unlocked(a, err);
	*changed = (is_admin >= 0 && u.is_admin != (is_admin > 0)) ||
		   (is_disabled >= 0 && u.is_disabled != (is_disabled > 0));
	store_user_dispose(&u);
	if ((err = store_user_set_flags(a->st, name, is_admin, is_disabled)) < 0)
		*changed = false;
	return unlocked(a, err);
}

static void notice_from_store(struct auth_notice *out, const struct store_notice *n)
{
	*out = (struct auth_notice){ .id = n->id, .ts_ms = n->ts_ms, .is_self = n->is_self };
	snprintf(out->event, sizeof(out->event), "%s", n->event);
	snprintf(out->by, sizeof(out->by), "%s", n->actor);
	snprintf(out->address, sizeof(out->address), "%s", n->address);
	snprintf(out->token, sizeof(out->token), "%s", n->token);
}

int auth_notice_list(struct auth_notice out[AUTH_NOTICES_MAX], size_t *n, struct auth *a,
		     const struct auth_principal *p)
{
	struct store_notice v[AUTH_NOTICES_MAX];
	int64_t since = auth_now(a) - (int64_t)AUTH_NOTICE_KEEP_S * 1000;
	size_t len = 0;
	int err;

	*n = 0;
	if (p->user_id == 0)
		return 0;
	/* On the readers' connection: a signed-in page lists them, and never waits for a write. */
	pthread_mutex_lock(&a->rlock);
	err = store_notice_list(v, AUTH_NOTICES_MAX, &len, a->rst, p->user_id, since);
	pthread_mutex_unlock(&a->rlock);
	if (err < 0)
		return auth_store_failed(err);
	for (size_t i = 0; i < len; i++)
		notice_from_store(&out[i], &v[i]);
	*n = len;
	return 0;
}

int auth_notice_read(struct auth *a, const struct auth_principal *p, int64_t through)
{
	int err;

	if (p->user_id == 0)
		return 0;
	pthread_mutex_lock(&a->lock);
	err = unlocked(a, store_notice_read(a->st, p->user_id, through, auth_now(a)));
	return err < 0 ? auth_store_failed(err) : 0;
}
