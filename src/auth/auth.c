/*
 * Opening the accounts, identifying a request (sessions and API tokens), signing in and out,
 * and backups; see auth.h. Management is manage.c, readable sets readable.c, the audit trail
 * audit.c.
 *
 * DESIGN: one struct auth per process holds two store connections, each behind its mutex: the
 * writers' (every write) and the readers' (identification and readable sets), so a write that
 * waits out another process's lock on the database holds up no request's identification (see
 * auth_int.h). No lock is held while a password is hashed (a counting semaphore bounds those
 * instead) or while the audit trail is written by its own thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/auth_int.h"
#include "auth/secret.h"
#include "auth/secret_int.h"
#include "auth/throttle.h"
#include "util/error.h"
#include "util/file.h"

/*
 * Password failure throttles (A6), for sign-in and for a password change's current password.
 * Failures are counted per address (30 at once, then 300 an hour), per account and address
 * (10, then 90 an hour) and per account (10, then 90 an hour: the account's budget). The
 * first two always refuse. The account's budget refuses only an address that has failed on
 * that account in the last day: a right password from an address that has not is always
 * checked, so failing on purpose cannot keep the real user out; such an address that fails
 * while the budget is spent is marked and refused the next time. So the failures against one
 * account in an hour are at most 100 plus one per address that had not failed on it that day.
 */
static const struct throttle_rule user_rule = { .burst = 10, .per_hour = 90 };
static const struct throttle_rule pair_rule = { .burst = 10, .per_hour = 90 };
static const struct throttle_rule addr_rule = { .burst = 30, .per_hour = 300 };
/* One token a day: empty for a day after the pair's last failure. */
static const struct throttle_rule marked_rule = { .burst = 1, .per_hour = 1.0 / 24 };
#define THROTTLE_KEYS 65536

/* Idle refreshes and token uses are written at most this often. */
#define TOUCH_MS 60000
#define DAY_MS (24LL * 60 * 60 * 1000)
#define HASHING_MAX 8

int64_t auth_now(struct auth *a)
{
	struct timespec ts;

	if (a->cfg.clock)
		return a->cfg.clock(a->cfg.clock_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int auth_store_failed(int err)
{
	return err == TRAWL_ENOMEM ? err : TRAWL_EIO;
}

const char *actor_name(const struct auth_actor *by)
{
	return by && by->name ? by->name : "cli";
}

const char *actor_address(const struct auth_actor *by)
{
	return by && by->address ? by->address : "";
}

static unsigned hashing_slots(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > HASHING_MAX ? HASHING_MAX : (unsigned)n;
}

void auth_close(struct auth *a)
{
	if (!a)
		return;
	audit_close(a->audit); /* flushes: uses the store */
	readable_free(a->readable);
	throttle_free(a->by_user);
	throttle_free(a->by_pair);
	throttle_free(a->by_marked);
	throttle_free(a->by_addr);
	store_close(a->rst);
	store_close(a->st);
	sem_destroy(&a->hashing);
	pthread_mutex_destroy(&a->rlock);
	pthread_mutex_destroy(&a->lock);
	secret_hasher_dispose(&a->hasher);
	free(a->data_dir);
	free(a);
}

/* A directory of the data directory, mode 0700; an existing one must be a directory. */
static int private_dir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0 || (errno == EEXIST && lstat(path, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	error_set("%s: %s", path, errno == EEXIST ? "not a directory" : strerror(errno));
	return TRAWL_EIO;
}

/*
 * DATA/audit.log[.N] of an older layout into DATA/audit/ (RENAME_NOREPLACE: a file already
 * there is kept, and so is the old one then).
 */
static int audit_files_move(const char *data_dir, const char *audit_dir)
{
	char from[4096], to[4096];

	for (int n = 0; n <= AUTH_AUDIT_LOG_KEEP; n++) {
		int a = n ? snprintf(from, sizeof(from), "%s/%s.%d", data_dir, AUTH_AUDIT_FILE, n)
			  : snprintf(from, sizeof(from), "%s/%s", data_dir, AUTH_AUDIT_FILE);
		int b = n ? snprintf(to, sizeof(to), "%s/%s.%d", audit_dir, AUTH_AUDIT_FILE, n)
			  : snprintf(to, sizeof(to), "%s/%s", audit_dir, AUTH_AUDIT_FILE);

		if (a < 0 || b < 0 || (size_t)a >= sizeof(from) || (size_t)b >= sizeof(to)) {
			error_set("%s: the path is too long", data_dir);
			return TRAWL_EIO;
		}
		if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) != 0 &&
		    errno != ENOENT && errno != EEXIST) {
			error_set("moving %s to %s: %s", from, to, strerror(errno));
			return TRAWL_EIO;
		}
	}
	return 0;
}

int auth_files_prepare(const char *data_dir)
{
	char *dir = file_join(data_dir, AUTH_AUDIT_DIR), *key = file_join(data_dir, "auth.key");
	unsigned char k[32];
	int err;

	if (!dir || !key)
		err = error_nomem("opening the accounts");
	else if ((err = file_mkdirs(data_dir)) == 0 && (err = private_dir(dir)) == 0 &&
		 (err = audit_files_move(data_dir, dir)) == 0)
		err = secret_key_load(k, key);
	sodium_memzero(k, sizeof(k));
	free(dir);
	free(key);
	return err;
}

static int open_files(struct auth *a, const char *data_dir)
{
	char *db = store_location(data_dir), *key = file_join(data_dir, "auth.key");
	unsigned char k[32];
	int err;

	if (!db || !key)
		err = error_nomem("opening the accounts");
	else if ((err = auth_files_prepare(data_dir)) == 0 && (err = store_open(&a->st, db)) == 0 &&
		 (!a->cfg.is_db_checked || (err = store_check(a->st)) == 0) &&
		 (err = store_open(&a->rst, db)) == 0 && (err = secret_key_load(k, key)) == 0)
		secret_hasher_init(&a->hasher, k);
	sodium_memzero(k, sizeof(k));
	free(db);
	free(key);
	return err;
}

int auth_open(struct auth **out, const char *data_dir, const struct auth_config *cfg)
{
	struct auth *a = calloc(1, sizeof(*a));
	int err;

	*out = NULL;
	if (!a || !(a->data_dir = strdup(data_dir))) {
		free(a);
		return error_nomem("opening the accounts");
	}
	if (cfg)
		a->cfg = *cfg;
	if (a->cfg.session_idle_s <= 0)
		a->cfg.session_idle_s = (int64_t)AUTH_SESSION_IDLE_S;
	if (a->cfg.session_absolute_s <= 0)
		a->cfg.session_absolute_s = (int64_t)AUTH_SESSION_ABSOLUTE_S;
	pthread_mutex_init(&a->lock, NULL);
	pthread_mutex_init(&a->rlock, NULL);
	sem_init(&a->hashing, 0, hashing_slots());
	if ((err = open_files(a, data_dir)) < 0 ||
	    (err = throttle_new(&a->by_user, &user_rule, THROTTLE_KEYS)) < 0 ||
	    (err = throttle_new(&a->by_pair, &pair_rule, THROTTLE_KEYS)) < 0 ||
	    (err = throttle_new(&a->by_marked, &marked_rule, THROTTLE_KEYS)) < 0 ||
	    (err = throttle_new(&a->by_addr, &addr_rule, THROTTLE_KEYS)) < 0 ||
	    (err = readable_new(&a->readable)) < 0 || (err = audit_open(&a->audit, a)) < 0) {
		auth_close(a);
		return err;
	}
	*out = a;
	return 0;
}

static int counts(struct auth *a, int64_t *n_users, int64_t *n_admins)
{
	int err;

	pthread_mutex_lock(&a->rlock);
	err = store_user_counts(a->rst, n_users, n_admins);
	pthread_mutex_unlock(&a->rlock);
	return err < 0 ? auth_store_failed(err) : 0;
}

int auth_has_accounts(struct auth *a, bool *out)
{
	int64_t n_users, n_admins;
	int err;

	*out = true;
	if (atomic_load(&a->has_accounts))
		return 0;
	/* SECURITY: on a failure *out stays true: team mode, never the open laptop mode. */
	if ((err = counts(a, &n_users, &n_admins)) < 0)
		return err;
	*out = n_users > 0;
	if (*out)
		atomic_store(&a->has_accounts, true);
	return 0;
}

int auth_has_admin(struct auth *a, bool *out)
{
	int64_t n_users, n_admins;
	int err;

	*out = false;
	if ((err = counts(a, &n_users, &n_admins)) < 0)
		return err;
	*out = n_admins > 0;
	return 0;
}

/* ---- identifying a request ---- */

static int refused(const char *what)
{
	error_set("%s", what);
	return TRAWL_EAUTH;
}

void principal_fill(struct auth_principal *out, enum auth_kind kind, const struct store_principal *u,
		    unsigned scopes)
{
	*out = (struct auth_principal){
		.kind = kind,
		.user_id = u->user_id,
		.is_admin = u->is_admin,
		.scopes = scopes,
	};
	snprintf(out->name, sizeof(out->name), "%s", u->name);
}

static bool is_new_day(int64_t before_ms, int64_t now_ms)
{
	return before_ms <= 0 || before_ms / DAY_MS != now_ms / DAY_MS;
}

/*
 * Takes the writers' connection for a write that can wait for a later request (a last-seen or
 * last-used time, deleting an expired session), set not to wait for the database: 0, or 1 when
 * another thread holds the connection (a write of its own may be waiting out a lock). Ended by
 * touch_done.
 */
static int touch_try(struct auth *a)
{
	if (pthread_mutex_trylock(&a->lock) != 0)
		return 1;
	store_set_waiting(a->st, false);
	return 0;
}

/*
 * Ends touch_try with the write's result err: 1 when another process held the database (the
 * write is put off: the next request tries again), else err.
 */
static int touch_done(struct auth *a, int err)
{
	bool is_busy = err < 0 && store_was_busy(a->st);

	store_set_waiting(a->st, true);
	pthread_mutex_unlock(&a->lock);
	if (is_busy) {
		error_clear();
		return 1;
	}
	return err;
}

/*
 * A token's use: last_used at most once a minute, the first use of a UTC day audited, once
 * written (a use while the database is locked is recorded by the next one after).
 */
static int token_used(struct auth *a, const struct store_token *t, int64_t now,
		      const struct auth_origin *from)
{
	bool is_first_today = is_new_day(t->last_used_ms, now);
	char id[24];
	int err;

	if (!is_first_today && now - t->last_used_ms < TOUCH_MS)
		return 0;
	if ((err = touch_try(a)) == 0)
		err = touch_done(a, store_token_used(a->st, t->id, now));
	if (err < 0)
		return auth_store_failed(err);
	if (err > 0 || !is_first_today)
		return 0;
	snprintf(id, sizeof(id), "%lld", (long long)t->id);
	return auth_audit(a, "token_used", t->user, id, from ? from->address : NULL, NULL);
}

/*
 * The token stored under hash and its user (under a->rlock). DESIGN: every request of an API
 * client looks its token up, and in a busy server the lookup (a join, with its read
 * transaction) was most of identification's cost; the rows found are kept, by hash, until the
 * store's stamp moves (any commit: a revocation, a disabled user, a last-used time, by this
 * process or another), so a repeated token costs one PRAGMA instead, and a revocation still
 * holds from the next request on. ENOTFOUND, EIO.
 */
static int token_find(struct store_token *t, struct store_principal *u, struct auth *a,
		      const unsigned char hash[32])
{
	struct token_memo *m = &a->memo[hash[0] % AUTH_MEMO_SLOTS];
	struct store_stamp now;
	int err;

	if ((err = store_stamp(a->rst, &now)) < 0)
		return err;
	if (!store_stamp_equal(&now, &a->memo_stamp)) {
		sodium_memzero(a->memo, sizeof(a->memo));
		a->memo_stamp = now;
	}
	if (m->is_set && sodium_memcmp(m->hash, hash, sizeof(m->hash)) == 0) {
		*t = m->t;
		*u = m->u;
		return 0;
	}
	if ((err = store_token_find(t, u, a->rst, hash)) < 0)
		return err;
	memcpy(m->hash, hash, sizeof(m->hash));
	m->t = *t;
	m->u = *u;
	m->is_set = true;
	return 0;
}

static int identify_token(struct auth_principal *out, struct auth *a, const char *header,
			  const struct auth_origin *from)
{
	struct store_principal u = { 0 };
	struct store_token t;
	unsigned char hash[32];
	const char *tok;
	size_t len;
	int64_t now = auth_now(a);
	unsigned scopes;
	int err;

	if (secret_bearer_value(&tok, &len, header) < 0 || !auth_token_well_formed(tok, len))
		return refused("malformed API token");
	secret_hasher_hash(&a->hasher, hash, tok, len);
	pthread_mutex_lock(&a->rlock);
	err = token_find(&t, &u, a, hash);
	pthread_mutex_unlock(&a->rlock);
	if (err == TRAWL_ENOTFOUND)
		return refused("unknown API token");
	if (err < 0)
		return auth_store_failed(err);
	if (t.is_revoked)
		return refused("revoked API token");
	if (now >= t.expires_ms)
		return refused("expired API token");
	if (u.is_disabled)
		return refused("the token's user is disabled");
	/* SECURITY: an admin-scope token holds no more than its user now may. */
	scopes = t.scope & AUTH_SCOPE_ADMIN && u.is_admin ? AUTH_SCOPE_ADMIN | AUTH_SCOPE_SEARCH
							  : AUTH_SCOPE_SEARCH;
	if ((err = token_used(a, &t, now, from)) < 0)
		return err;
	principal_fill(out, AUTH_TOKEN, &u, scopes);
	out->token_id = t.id;
	return 0;
}

/*
 * Deletes an expired session and audits it; EAUTH (or the store's failure). While the database
 * is locked the session is refused all the same, and deleted and audited by a later request.
 */
static int session_expired(struct auth *a, const unsigned char key[32],
			   const struct store_principal *u, const struct auth_origin *from)
{
	int err;

	if ((err = touch_try(a)) == 0)
		err = touch_done(a, store_session_delete(a->st, key));
	if (err < 0)
		return auth_store_failed(err);
	if (err == 0)
		(void)auth_audit(a, "session_expired", u->name, u->name, from ? from->address : NULL,
				 NULL);
	return refused("the session has expired");
}

static int identify_session(struct auth_principal *out, struct auth *a, const char *cookie,
			    const struct auth_origin *from)
{
	struct store_principal u = { 0 };
	struct store_session ss;
	unsigned char key[32];
	int64_t now = auth_now(a);
	int err;

	if (strlen(cookie) != AUTH_SESSION_ID_LEN || !secret_is_b64url(cookie, AUTH_SESSION_ID_LEN))
		return refused("malformed session cookie");
	secret_hasher_hash(&a->hasher, key, cookie, AUTH_SESSION_ID_LEN);
	pthread_mutex_lock(&a->rlock);
	err = store_session_find(&ss, &u, a->rst, key);
	pthread_mutex_unlock(&a->rlock);
	if (err == TRAWL_ENOTFOUND)
		return refused("unknown session");
	if (err < 0)
		return auth_store_failed(err);
	/* SECURITY: S4: both limits are enforced here, against the (injectable) clock. */
	if (now - ss.last_seen_ms > a->cfg.session_idle_s * 1000 ||
	    now - ss.created_ms > a->cfg.session_absolute_s * 1000)
		return session_expired(a, key, &u, from);
	if (u.is_disabled)
		return refused("the session's user is disabled");
	/* Put off while the database is locked: the idle limit may then end it early, never late. */
	if (now - ss.last_seen_ms >= TOUCH_MS && touch_try(a) == 0) {
		if ((err = store_session_touch(a->st, key, now)) == 0)
			err = store_user_seen(a->st, u.user_id, now);
		if ((err = touch_done(a, err)) < 0)
			return auth_store_failed(err);
	}
	principal_fill(out, AUTH_SESSION, &u,
		       u.is_admin ? AUTH_SCOPE_SEARCH | AUTH_SCOPE_ADMIN : AUTH_SCOPE_SEARCH);
	memcpy(out->session_key, key, sizeof(key));
	snprintf(out->csrf, sizeof(out->csrf), "%s", ss.csrf);
	return 0;
}

int auth_identify(struct auth_principal *out, struct auth *a, const char *cookie,
		  const char *authorization, const struct auth_origin *from)
{
	bool has_accounts;
	int err;

	memset(out, 0, sizeof(*out));
	if (cookie && authorization)
		err = refused("both a session cookie and an API token: send one");
	else if (authorization)
		err = identify_token(out, a, authorization, from);
	else if (cookie)
		err = identify_session(out, a, cookie, from);
	else if ((err = auth_has_accounts(a, &has_accounts)) == 0 && !has_accounts)
		*out = (struct auth_principal){ .kind = AUTH_LOCAL,
						.scopes = AUTH_SCOPE_SEARCH | AUTH_SCOPE_ADMIN };
	if (err < 0)
		memset(out, 0, sizeof(*out));
	return err;
}

/* ---- signing in and out ---- */

/* The throttle keys of one try: account, address, and the pair. */
struct fail_keys {
	char user[AUTH_NAME_MAX + 8];
	char addr[72];
	char pair[AUTH_NAME_MAX + 80];
};

/*
 * The throttle keys of a try on account user from address: the user name lower-cased, since
 * names are unique without regard to case; the address first in the pair, as it has no space.
 */
static void fail_keys(struct fail_keys *k, const char *user, const char *address)
{
	size_t n;

	snprintf(k->user, sizeof(k->user), "user:%s", user ? user : "");
	for (n = 5; k->user[n]; n++)
		if (k->user[n] >= 'A' && k->user[n] <= 'Z')
			k->user[n] = (char)(k->user[n] + ('a' - 'A'));
	snprintf(k->addr, sizeof(k->addr), "addr:%s", address ? address : "");
	snprintf(k->pair, sizeof(k->pair), "pair:%s %s", address ? address : "", k->user + 5);
}

bool auth_fail_allowed(struct auth *a, const char *user, const char *address, int64_t now,
		       unsigned *retry_after_s)
{
	struct fail_keys k;
	unsigned ra = 0, rp = 0, ru = 0, rm = 0;
	bool is_ok;

	fail_keys(&k, user, address);
	is_ok = throttle_check(a->by_addr, k.addr, now, &ra);
	is_ok = throttle_check(a->by_pair, k.pair, now, &rp) && is_ok;
	/* SECURITY: A6: the account's budget holds back only addresses that failed on it. */
	if (!throttle_check(a->by_user, k.user, now, &ru) &&
	    !throttle_check(a->by_marked, k.pair, now, &rm))
		is_ok = false;
	else
		ru = 0;
	*retry_after_s = ra > rp ? ra : rp;
	if (ru > *retry_after_s)
		*retry_after_s = ru;
	return is_ok;
}

void auth_fail_count(struct auth *a, const char *user, const char *address, int64_t now)
{
	struct fail_keys k;

	fail_keys(&k, user, address);
	throttle_take(a->by_addr, k.addr, now);
	throttle_take(a->by_pair, k.pair, now);
	throttle_take(a->by_user, k.user, now);
	throttle_take(a->by_marked, k.pair, now);
}

/*
 * A right password clears what its address failed on the account and in all, but not the
 * account's budget: a success does not show the failures were its user's.
 */
void auth_fail_clear(struct auth *a, const char *user, const char *address)
{
	struct fail_keys k;

	fail_keys(&k, user, address);
	throttle_reset(a->by_addr, k.addr);
	throttle_reset(a->by_pair, k.pair);
	throttle_reset(a->by_marked, k.pair);
}

/*
 * SECURITY: A8: the same work for every outcome: a real verification, or the dummy one for
 * an unknown or disabled user or one without a password. *reason says which, for the audit.
 */
static int password_verify(struct auth *a, const char *user, const char *password, size_t len,
			   struct store_user *u, const char **reason)
{
	int err;

	pthread_mutex_lock(&a->lock);
	err = store_user_get(u, a->st, user);
	pthread_mutex_unlock(&a->lock);
	if (err < 0 && err != TRAWL_ENOTFOUND)
		return auth_store_failed(err);
	sem_wait(&a->hashing);
	if (err == 0 && !u->is_disabled && u->password_hash) {
		*reason = secret_pwverify(u->password_hash, password, len) ? NULL : "wrong_password";
	} else {
		secret_pwverify_dummy(password, len, a->cfg.pwhash_cost);
		*reason = err < 0 ? "unknown_user" : u->is_disabled ? "disabled" : "no_password";
	}
	sem_post(&a->hashing);
	return 0;
}

int session_new(struct auth_principal *out, char cookie[AUTH_SESSION_ID_LEN + 1], struct auth *a,
		const struct store_user *u, int64_t now)
{
	struct store_principal sp = { .user_id = u->id, .is_admin = u->is_admin };
	unsigned char key[32];
	char csrf[AUTH_CSRF_LEN + 1];
	int err;

	/* SECURITY: S1, S2: a new random id at every sign-in; only its keyed hash is stored. */
	secret_random_b64url(cookie, 32);
	secret_random_b64url(csrf, 32);
	secret_hasher_hash(&a->hasher, key, cookie, AUTH_SESSION_ID_LEN);
	pthread_mutex_lock(&a->lock);
	if ((err = store_session_add(a->st, key, u->id, csrf, now)) == 0)
		err = store_user_seen(a->st, u->id, now);
	pthread_mutex_unlock(&a->lock);
	if (err < 0) {
		sodium_memzero(cookie, AUTH_SESSION_ID_LEN + 1);
		return err;
	}
	snprintf(sp.name, sizeof(sp.name), "%s", u->name);
	principal_fill(out, AUTH_SESSION, &sp,
		       u->is_admin ? AUTH_SCOPE_SEARCH | AUTH_SCOPE_ADMIN : AUTH_SCOPE_SEARCH);
	memcpy(out->session_key, key, sizeof(key));
	memcpy(out->csrf, csrf, sizeof(csrf));
	return 0;
}

/* What a failed sign-in's name is hashed under, apart from the tokens and sessions. */
#define NAME_FINGERPRINT_DOMAIN "sign_in_failed name\n"
#define NAME_FINGERPRINT_BYTES ((size_t)6)
/* "unknown:" and the fingerprint's hex digits. */
#define FAILURE_TARGET_LEN (sizeof("unknown:") - 1 + 2 * NAME_FINGERPRINT_BYTES)

/* Whether user names an account; a store failure says no (its name is then not kept). */
static bool name_is_account(struct auth *a, const char *user)
{
	struct store_user u = { 0 };
	int err;

	pthread_mutex_lock(&a->lock);
	err = store_user_get(&u, a->st, user);
	pthread_mutex_unlock(&a->lock);
	store_user_dispose(&u);
	return err == 0;
}

/*
 * SECURITY: L2: the audit target of a failed sign-in to user, a valid name. An account's name
 * is kept; any other may be a password typed in the wrong box, so it is kept only as "unknown:"
 * and 12 hex digits of the keyed hash of its lower case: tries of one name still correlate, and
 * without DATA/auth.key the name can neither be read back nor guessed. A8: the hash is made for
 * every failure, known name or not.
 */
static void failure_target(char out[AUTH_NAME_MAX + 1], const struct auth *a, const char *user,
			   bool is_known)
{
	char in[sizeof(NAME_FINGERPRINT_DOMAIN) + AUTH_NAME_MAX], hex[2 * NAME_FINGERPRINT_BYTES + 1];
	unsigned char mac[32];
	size_t n = sizeof(NAME_FINGERPRINT_DOMAIN) - 1;

	_Static_assert(FAILURE_TARGET_LEN <= AUTH_NAME_MAX, "the target fits a name's buffer");
	memcpy(in, NAME_FINGERPRINT_DOMAIN, n);
	for (const char *p = user; *p && n < sizeof(in); p++)
		in[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	secret_hasher_hash(&a->hasher, mac, in, n);
	sodium_bin2hex(hex, sizeof(hex), mac, NAME_FINGERPRINT_BYTES);
	snprintf(out, AUTH_NAME_MAX + 1, "%s%s", is_known ? user : "unknown:", is_known ? "" : hex);
	sodium_memzero(in, sizeof(in));
	sodium_memzero(mac, sizeof(mac));
}

void auth_ua_cut(char out[AUTH_UA_MAX + 1], const char *ua)
{
	size_t len = strnlen(ua, AUTH_UA_MAX + 1);

	if (len > AUTH_UA_MAX) {
		len = AUTH_UA_MAX;
		while (len > 0 && ((unsigned char)ua[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(out, ua, len);
	out[len] = '\0';
}

/*
 * SECURITY: an outsider's failed sign-ins are refusals like a 401, bounded and pruned with
 * the refusals, so a flood from many addresses cannot fill the trail. A password checked
 * against an existing account is audited on that account's own budget (10 a minute, and A6's
 * throttle bounds the tries): a flood of cheap anonymous refusals, which spends the
 * all-anonymous budget, cannot hide which account is guessed at. Any other failure (a name
 * no account has, or a try the throttle refused before any password was checked) passes the
 * anonymous bounds (per address, all anonymous callers); past them all are counted in
 * audit_suppressed.
 */
static void audit_failure(struct auth *a, const char *user, const char *reason,
			  const struct auth_origin *from)
{
	char target[AUTH_NAME_MAX + 1] = "invalid_name", ua[AUTH_UA_MAX + 1];
	const char *address = from ? from->address : NULL;
	bool is_known = false;
	struct buf d;

	/* L3: a name no account can have is whatever a caller typed: not worth keeping. */
	if (user && auth_name_check(user) == 0) {
		is_known = strcmp(reason, "unknown_user") != 0 &&
			   (strcmp(reason, "throttled") != 0 || name_is_account(a, user));
		failure_target(target, a, user, is_known);
	}
	detail_begin(&d);
	detail_str(&d, "reason", reason);
	if (from && from->user_agent) {
		auth_ua_cut(ua, from->user_agent);
		detail_str(&d, "user_agent", ua);
	}
	if (is_known && strcmp(reason, "throttled") != 0)
		(void)auth_audit_denied_account(a, "sign_in_failed", target, address, detail_end(&d));
	else
		(void)auth_audit_denied(a, "sign_in_failed", "", target, address, detail_end(&d));
	buf_dispose(&d);
}

int auth_sign_in(struct auth_principal *out, char cookie[AUTH_SESSION_ID_LEN + 1],
		 unsigned *retry_after_s, struct auth *a, const char *user, const char *password,
		 size_t password_len, const struct auth_origin *from)
{
	struct store_user u = { 0 };
	const char *address = from ? from->address : NULL;
	const char *reason = NULL;
	int64_t now = auth_now(a);
	int err;

	memset(out, 0, sizeof(*out));
	cookie[0] = '\0';
	*retry_after_s = 0;
	if (password_len > AUTH_PASSWORD_MAX) {
		error_set("a password is at most %d bytes", AUTH_PASSWORD_MAX);
		return TRAWL_EINVAL;
	}
	/* SECURITY: A6: refused before the password is looked at, even a right one. */
	if (!auth_fail_allowed(a, user, address, now, retry_after_s)) {
		audit_failure(a, user, "throttled", from);
		error_set("too many sign-in attempts; retry in %u s", *retry_after_s);
		return TRAWL_ELIMIT;
	}
	if ((err = password_verify(a, user, password, password_len, &u, &reason)) < 0)
		goto out;
	if (reason) {
		auth_fail_count(a, user, address, now);
		audit_failure(a, user, reason, from);
		err = refused("wrong user name or password");
		goto out;
	}
	auth_fail_clear(a, user, address);
	if ((err = session_new(out, cookie, a, &u, now)) < 0)
		goto out;
	(void)auth_audit(a, "sign_in", u.name, u.name, from ? from->address : NULL, NULL);
out:
	store_user_dispose(&u);
	return err;
}

int auth_sign_out(struct auth *a, const struct auth_principal *p, const struct auth_origin *from)
{
	int err;

	if (p->user_id <= 0) {
		error_set("signing out: nobody is signed in");
		return TRAWL_EINVAL;
	}
	pthread_mutex_lock(&a->lock);
	err = store_sessions_end(a->st, p->user_id);
	pthread_mutex_unlock(&a->lock);
	if (err < 0)
		return err;
	return auth_audit(a, "sign_out", p->name, p->name, from ? from->address : NULL, NULL);
}

/* ---- backup ---- */

/* An empty directory for the backup, created 0700 when missing. */
static int backup_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST || !(d = opendir(dir))) {
		error_set("%s: %s", dir, strerror(errno));
		return TRAWL_EIO;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			break;
	closedir(d);
	if (e) {
		error_set("%s: not empty: back up into a new directory", dir);
		return TRAWL_EIO;
	}
	return 0;
}

/* Copies file name of the data directory into dir as to, mode 0600 (a missing source: nothing). */
static int copy_file(struct auth *a, const char *dir, const char *name, const char *to)
{
	char *src = file_join(a->data_dir, name), *dst = file_join(dir, to);
	char buf[65536];
	int in = -1, out = -1, err = 0;
	ssize_t n;

	if (!src || !dst) {
		err = error_nomem("backing up");
		goto out;
	}
	if ((in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno != ENOENT) {
			error_set("%s: %s", src, strerror(errno));
			err = TRAWL_EIO;
		}
		goto out;
	}
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		error_set("%s: %s", dst, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	while (err == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set("%s: %s", src, strerror(errno));
			err = TRAWL_EIO;
		} else {
			err = file_write_all(out, buf, (size_t)n, dst);
		}
	}
	if (err == 0 && fsync(out) < 0) {
		error_set("%s: %s", dst, strerror(errno));
		err = TRAWL_EIO;
	}
out:
	sodium_memzero(buf, sizeof(buf)); /* may have held the key */
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(src);
	free(dst);
	return err;
}

int auth_backup(struct auth *a, const char *out_dir)
{
	char *db = file_join(out_dir, "trawl.db");
	int err;

	if (!db)
		return error_nomem("backing up");
	if ((err = backup_dir(out_dir)) < 0 || (err = audit_flush(a->audit)) < 0)
		goto out;
	pthread_mutex_lock(&a->lock);
	err = store_backup(a->st, db);
	pthread_mutex_unlock(&a->lock);
	if (err == 0 && chmod(db, 0600) < 0) {
		error_set("%s: %s", db, strerror(errno));
		err = TRAWL_EIO;
	}
	if (err == 0 && (err = copy_file(a, out_dir, "auth.key", "auth.key")) == 0)
		err = copy_file(a, out_dir, AUTH_AUDIT_DIR "/" AUTH_AUDIT_FILE, AUTH_AUDIT_FILE);
out:
	free(db);
	return err;
}
