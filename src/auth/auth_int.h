/*
 * What the files of src/auth that implement auth.h share (auth.c, manage.c, readable.c,
 * audit.c): the struct auth itself and the hooks between them. Only src/auth includes it.
 */
#ifndef TRAWL_AUTH_AUTH_INT_H
#define TRAWL_AUTH_AUTH_INT_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "auth/secret.h"
#include "store/accounts.h"
#include "store/store.h"
#include "util/buf.h"

struct throttle;
struct readable;
struct audit;

#define AUTH_MEMO_SLOTS 64 /* tokens remembered at once (by the first byte of their hash) */

#define AUTH_PROXY_MEMO_SLOTS 256 /* proxy users remembered at once (by their name's hash) */

/*
 * What an authentication proxy last said of a user (external.c), and the account as it was
 * then: while the ACL generation has not moved and the proxy says the same, nothing is read
 * or written again.
 */
struct proxy_memo {
	unsigned char claims[32]; /* the hash of the name, display name, groups and admin claim */
	int64_t generation;       /* the ACL generation after the last check */
	struct store_principal u;
	bool is_set;
};

/* A token found lately and its user, as the store had them (auth.c's token_find). */
struct token_memo {
	unsigned char hash[32];
	struct store_token t;
	struct store_principal u;
	bool is_set;
};

struct auth {
	struct store *st;      /* the writers' connection: every write, used only under lock */
	pthread_mutex_t lock;  /* serialises st */
	/*
	 * The readers' connection, used only under rlock: identification (tokens, sessions,
	 * whether accounts exist), the readable sets, the token and proxy memos and the notices
	 * listed. DESIGN: in WAL mode a reader never waits for a writer, so while a write waits
	 * out another process's lock on the database (up to the busy timeout, holding lock),
	 * requests are still identified and their sets read; their own writes, the last-seen
	 * times, are put off instead of waited for (auth.c's touch_try).
	 */
	struct store *rst;
	pthread_mutex_t rlock;
	struct secret_hasher hasher; /* keyed by DATA/auth.key: stores tokens and session ids */
	char *data_dir;
	struct auth_config cfg;
	/* password failures: per account, per account and address, per address (auth.c) */
	struct throttle *by_user, *by_pair, *by_marked, *by_addr;
	/* SECURITY: at most this many password hashes at once (each takes 256 MiB). */
	sem_t hashing;
	atomic_bool has_accounts; /* once true, stays true: users are never deleted */
	struct readable *readable;
	struct audit *audit;
	/* The tokens found while rst's stamp was memo_stamp (under rlock). */
	struct store_stamp memo_stamp;
	struct token_memo memo[AUTH_MEMO_SLOTS];
	/* The proxy users checked lately (under rlock). */
	struct proxy_memo proxy_memo[AUTH_PROXY_MEMO_SLOTS];
};

/*
 * A new session for user u (auth.c): its cookie value to cookie, *out the principal with its
 * CSRF token. Shared by password and external sign-ins so that both make sessions alike (S2).
 */
int session_new(struct auth_principal *out, char cookie[AUTH_SESSION_ID_LEN + 1], struct auth *a,
		const struct store_user *u, int64_t now);
/* *out for user u with kind and scopes; nothing else set. */
void principal_fill(struct auth_principal *out, enum auth_kind kind, const struct store_principal *u,
		    unsigned scopes);

/* The injected clock, or the real time, in unix milliseconds. */
int64_t auth_now(struct auth *a);

/*
 * An audit event keeps this much of the caller's User-Agent: enough to tell clients apart, and
 * a caller's header cannot grow the trail. auth_ua_cut copies ua cut at AUTH_UA_MAX bytes,
 * never inside a UTF-8 sequence, to out.
 */
#define AUTH_UA_MAX 256
void auth_ua_cut(char out[AUTH_UA_MAX + 1], const char *ua);

/*
 * The expiry, in seconds, of a token for user u made by `by` asking expires_s (0: the
 * default), in *out: an external user's is bound by cfg.external_token_max_s (external.c).
 * EINVAL naming --external-token-max-age when it asks for longer or such users get none.
 */
int auth_token_expiry(int64_t *out, const struct auth *a, const struct store_user *u,
		      const struct auth_actor *by, int64_t expires_s);

/*
 * A store failure as identification and readable sets report it: EIO (the caller fails
 * closed), or the code itself for ENOMEM; the detail is kept.
 */
int auth_store_failed(int err);

/*
 * Whether a password of account user may be checked now from address (A6); when not,
 * *retry_after_s the wait. auth_fail_count counts a wrong one, auth_fail_clear a right one.
 */
bool auth_fail_allowed(struct auth *a, const char *user, const char *address, int64_t now,
		       unsigned *retry_after_s);
void auth_fail_count(struct auth *a, const char *user, const char *address, int64_t now);
void auth_fail_clear(struct auth *a, const char *user, const char *address);

int readable_new(struct readable **out);
void readable_free(struct readable *r);

/* Opens DATA/audit/audit.log and starts the writer. EIO, ENOMEM. */
int audit_open(struct audit **out, struct auth *a);
/* Flushes what is queued and stops the writer. */
void audit_close(struct audit *q);
/* Writes every queued event now (the table and the file), in order. EIO. */
int audit_flush(struct audit *q);
/* How many batches have been written (each one transaction and one append): for tests. */
size_t audit_batches(struct audit *q);
/*
 * The writer's periodic work, run every minute: reports suppressed refusal counts whose
 * minute is over, and, at most once an hour when a retention or the row cap is set, prunes
 * the table (audited as "audit_pruned"). Tests call it directly.
 */
void audit_tick(struct audit *q);

/*
 * Audits an anonymous caller's refused attempt on an existing account (a failed sign-in whose
 * password was checked), event with target account, like auth_audit_denied but against the
 * account's own AUTH_AUDIT_DENIED_PER_MIN a minute alone: a flood of other anonymous refusals
 * cannot hide which account is attacked, and the sign-in throttle (A6) bounds how many such
 * attempts an account gets. What is dropped is counted under the account and reported as
 * "audit_suppressed" with target the account and detail "bound": "account" and
 * "event". Never blocks on the store. EIO, ENOMEM.
 */
int auth_audit_denied_account(struct auth *a, const char *event, const char *account,
			      const char *address, const char *detail_json);

/*
 * An event's detail, a JSON object built field by field: detail_begin, any detail_*, then
 * detail_end, which gives the text ("{}" if anything failed). Values are escaped (L3).
 */
void detail_begin(struct buf *b);
void detail_str(struct buf *b, const char *key, const char *value);
void detail_int(struct buf *b, const char *key, int64_t value);
void detail_bool(struct buf *b, const char *key, bool value);
const char *detail_end(struct buf *b);

/* The actor and address of a change (NULL by: the command line). */
const char *actor_name(const struct auth_actor *by);
const char *actor_address(const struct auth_actor *by);

/*
 * Stores a notice of event for user (notice.c): by NULL is the command line; token names the
 * token of a "token_created". Called once the change is made, with err the outcome of its
 * audit: returns err when it is an error, else the notice's own (ENOTFOUND, EIO).
 */
int notice_tell(struct auth *a, int err, const struct auth_actor *by, const char *user,
		const char *event, const char *token);
/*
 * store_user_set_flags under the lock, and whether the flag set (the other negative) changed:
 * a notice tells of a change, not of a request that found the flag as asked.
 */
int notice_flags_set(bool *changed, struct auth *a, const char *name, int is_admin, int is_disabled);

#endif
