/*
 * Accounts, sessions, API tokens, repository permissions and the audit trail (docs/security.md,
 * "Accounts"): the one module that knows who a caller is and what they may read. The server's
 * access.c asks it to identify each request and for the caller's readable repositories; the
 * CLI's user, group, grant, token, audit and backup commands manage it. Both go through the
 * functions below, so a rule (a password's policy, an audit event, a cache invalidation) is
 * written once.
 *
 * The data lives in DATA/trawl.db (store migration 4: users, groups, members, grants, public
 * flags, tokens, sessions, audit), DATA/auth.key (32 random bytes, mode 0600, the key of the
 * keyed hashes of tokens and session ids) and DATA/audit/audit.log (JSON lines, appended, with
 * its rotated copies in the same directory: the confined server may write there and nowhere
 * else in DATA but its database). Nothing stores a password, token or session id in clear.
 *
 * Thread safety: a struct auth serialises its own database use with a lock: the server shares
 * one between its threads.
 */
#ifndef TRAWL_AUTH_AUTH_H
#define TRAWL_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "search/search.h"

/* Longest user or group name, and the longest display name (bytes). */
#define AUTH_NAME_MAX 64
#define AUTH_DISPLAY_MAX 128
/* Password length bounds (bytes): A2 wants >= 64 accepted; the upper bound caps hashing work. */
#define AUTH_PASSWORD_MIN 12
#define AUTH_PASSWORD_MAX 1024
/* "trawl_" + 43 base62 characters (32 random bytes) + 6 base62 characters of CRC32. */
#define AUTH_TOKEN_LEN 55
/* A session id as the cookie carries it: 32 random bytes, base64url without padding. */
#define AUTH_SESSION_ID_LEN 43
/* A CSRF token (32 random bytes, base64url), bound to its session. */
#define AUTH_CSRF_LEN 43
#define AUTH_COOKIE_NAME "__Host-trawl_session"

/* Session and token lifetimes unless configured (seconds). */
#define AUTH_SESSION_IDLE_S (30 * 60)
#define AUTH_SESSION_ABSOLUTE_S (12 * 60 * 60)
#define AUTH_TOKEN_EXPIRY_S (90 * 24 * 60 * 60)

enum auth_scope {
	AUTH_SCOPE_SEARCH = 1u << 0, /* read: search and read the repositories the user may read */
	AUTH_SCOPE_ADMIN = 1u << 1,  /* manage users, groups, grants, tokens; read the audit log */
};

enum auth_kind {
	AUTH_ANONYMOUS = 0, /* nobody signed in */
	AUTH_LOCAL,         /* laptop mode: no account exists, the local user on loopback */
	AUTH_SESSION,       /* a browser session (the cookie) */
	AUTH_TOKEN,         /* an API token (Authorization: Bearer) */
	AUTH_PROXY,         /* a request an authentication proxy vouches for (no cookie, no CSRF) */
};

/* Who a request comes from, once identified. */
struct auth_principal {
	enum auth_kind kind;
	int64_t user_id;                  /* 0 for anonymous and local */
	char name[AUTH_NAME_MAX + 1];     /* "" for anonymous and local */
	bool is_admin;                    /* the account is an administrator */
	/*
	 * What this credential may do: a session holds both scopes when its user is an
	 * administrator, else search; a token holds the scope it was made with (admin only
	 * while its user is an administrator); local holds both; anonymous none.
	 */
	unsigned scopes;
	int64_t token_id;                 /* AUTH_TOKEN: the token's id */
	unsigned char session_key[32];    /* AUTH_SESSION: the keyed hash that names the session */
	char csrf[AUTH_CSRF_LEN + 1];     /* AUTH_SESSION: the session's CSRF token */
};

/* A clock in unix milliseconds; tests inject their own. */
typedef int64_t (*auth_clock_fn)(void *arg);

struct auth_config {
	int64_t session_idle_s;     /* 0: AUTH_SESSION_IDLE_S */
	int64_t session_absolute_s; /* 0: AUTH_SESSION_ABSOLUTE_S */
	auth_clock_fn clock;        /* NULL: the real time */
	void *clock_arg;
	/* Password hashing cost: 0 is libsodium's MODERATE limits (the default and the minimum
	 * the server accepts); unit tests may lower it with AUTH_PWHASH_TEST or
	 * AUTH_PWHASH_TIMING. */
	int pwhash_cost;
	/*
	 * Audit retention: the audit writer deletes the table's events older than this (at most
	 * once an hour, in small batches); 0 keeps every event. trawl serve sets it
	 * (--audit-retention, AUTH_AUDIT_RETENTION_DAYS by default); the other commands keep 0.
	 */
	int64_t audit_retention_s;
	/* DATA/audit/audit.log is rotated past this many bytes (0: AUTH_AUDIT_LOG_MAX). */
	int64_t audit_log_max;
	/*
	 * Refused requests (unauthorized, forbidden, not_visible, audit_suppressed) are kept this
	 * long (--audit-refusal-retention, AUTH_AUDIT_REFUSAL_RETENTION_DAYS); and the table holds
	 * at most audit_max_rows events (--audit-max-rows, AUTH_AUDIT_MAX_ROWS): the writer's
	 * hourly prune deletes the oldest outsiders' refusals first, then callers' activity, then
	 * signed-in users' refusals, never the administrators' record (docs/security.md, "Size").
	 * 0 for either: no such bound (the other commands keep 0).
	 */
	int64_t audit_refusal_retention_s;
	int64_t audit_max_rows;
	/*
	 * An API token of an OpenID Connect or proxy user expires within this many seconds
	 * (--external-token-max-age): disabling the user at the provider does not end it. 0:
	 * AUTH_EXTERNAL_TOKEN_MAX_S; AUTH_EXTERNAL_TOKENS_OFF: such users get no token. The
	 * command line (a NULL actor) is the operator's and is not bound.
	 */
	int64_t external_token_max_s;
	/*
	 * Synced group names are this prefix followed by the provider's name
	 * (--oidc-groups-prefix), so they never meet a hand-made group; NULL or "": none. It must
	 * pass auth_groups_prefix_check and outlive the auth.
	 */
	const char *groups_prefix;
	/*
	 * Check the whole database on open (SQLite's quick_check, linear in its size): a damaged
	 * page is then refused at once, not when a request first reads it. trawl serve sets it.
	 */
	bool is_db_checked;
};
#define AUTH_EXTERNAL_TOKEN_MAX_S ((int64_t)7 * 24 * 60 * 60)
#define AUTH_EXTERNAL_TOKENS_OFF (-1)
/* A groups prefix is at most this many bytes. */
#define AUTH_GROUPS_PREFIX_MAX 64
#define AUTH_PWHASH_TEST 1
/* Cheaper still (argon2id, 4 MiB, one pass): the A8 timing test's 600 sign-ins. Tests only. */
#define AUTH_PWHASH_TIMING 2
#define AUTH_AUDIT_RETENTION_DAYS 365
#define AUTH_AUDIT_REFUSAL_RETENTION_DAYS 90
#define AUTH_AUDIT_MAX_ROWS 10000000
/*
 * DATA/audit/audit.log -> audit.log.1 ... audit.log.AUTH_AUDIT_LOG_KEEP at this size; the oldest
 * goes.
 */
#define AUTH_AUDIT_LOG_MAX ((int64_t)64 << 20)
#define AUTH_AUDIT_LOG_KEEP 5
/*
 * Refused requests audited a minute: per user for a caller with a valid credential, else per
 * address and from all anonymous callers together.
 */
#define AUTH_AUDIT_DENIED_PER_MIN 10
#define AUTH_AUDIT_DENIED_ALL_PER_MIN 300

struct auth;

/*
 * Opens the accounts of data directory data_dir (DATA/trawl.db, creating it and DATA/auth.key
 * when missing; the schema migrates like store_open's). cfg may be NULL. EIO, ECORRUPT,
 * EUNSUPPORTED (a newer database), ENOMEM; the message names the file.
 */
int auth_open(struct auth **out, const char *data_dir, const struct auth_config *cfg);
void auth_close(struct auth *a);

/* The audit log's directory in data_dir, its file in that directory. */
#define AUTH_AUDIT_DIR "audit"
#define AUTH_AUDIT_FILE "audit.log"

/*
 * Makes the files the accounts need before they are opened (auth_open does it too; the server
 * calls it before it confines itself, since it may create neither afterwards): data_dir and
 * DATA/audit/ (mode 0700), DATA/auth.key when missing, and the audit log of an older layout
 * (DATA/audit.log and its rotated copies) moved into DATA/audit/ where no file of that name
 * is yet (one that is stays where it was). EIO, ECORRUPT (a key file that is a symlink).
 */
int auth_files_prepare(const char *data_dir);

/* Team mode: at least one account exists (laptop mode otherwise). EIO. */
int auth_has_accounts(struct auth *a, bool *out);
/* At least one enabled administrator exists (the server leaves loopback only then). EIO. */
int auth_has_admin(struct auth *a, bool *out);

/* ---- identifying a request ---- */

/* Where a request comes from, for throttling and the audit trail. */
struct auth_origin {
	const char *address; /* the client address as text ("127.0.0.1"), after trusted proxies */
	const char *user_agent; /* may be NULL; only ever logged escaped and truncated */
};

/*
 * Signs user in with password: on success a new session (a new id every time: S2) whose
 * cookie value goes to cookie and whose CSRF token to out->csrf, and *out is the principal.
 * EAUTH for a wrong user or password, a disabled account, or one without a password (a single
 * message, the same for all, and the same work: A8); ELIMIT when the account or the address
 * is throttled (A6), with *retry_after_s set: the password is not checked then. Every outcome
 * is audited. EINVAL for a password over AUTH_PASSWORD_MAX.
 */
int auth_sign_in(struct auth_principal *out, char cookie[AUTH_SESSION_ID_LEN + 1],
		 unsigned *retry_after_s, struct auth *a, const char *user, const char *password,
		 size_t password_len, const struct auth_origin *from);

/*
 * Identifies the caller of a request from its session cookie value and its Authorization
 * header's value (either may be NULL; both given is EAUTH, as is a malformed one). With
 * neither: AUTH_LOCAL in laptop mode, else AUTH_ANONYMOUS. A valid session's idle clock is
 * refreshed (at most once a minute: the store is written that often); a token's last use
 * likewise, and its first use of each day is audited. EAUTH for an unknown, expired, revoked
 * or malformed credential or a disabled user (the caller answers 401); EIO when the store
 * fails (the caller fails closed).
 */
int auth_identify(struct auth_principal *out, struct auth *a, const char *cookie,
		  const char *authorization, const struct auth_origin *from);

/* Ends every session of p's user (sign-out). Audited. EIO. */
int auth_sign_out(struct auth *a, const struct auth_principal *p, const struct auth_origin *from);

/* ---- external identities: OpenID Connect and authentication proxies (external.c) ---- */

/* Where an account comes from; a name belongs to one source only. */
enum auth_source { AUTH_SOURCE_LOCAL = 0, AUTH_SOURCE_OIDC, AUTH_SOURCE_PROXY };

/*
 * A group name a provider sends is kept as sent (spaces, object ids, letters of any language):
 * 1..AUTH_GROUP_NAME_MAX bytes of valid UTF-8 without control characters or blanks at either
 * end (auth_group_name_check), after the configured prefix. Local groups keep
 * auth_name_check's rule.
 */
#define AUTH_GROUP_NAME_MAX 256
/* At most this many groups of one external identity are synced (more: EINVAL). */
#define AUTH_GROUPS_MAX 1024

/* Who an identity provider or an authentication proxy says the user is. */
struct auth_external {
	enum auth_source source; /* AUTH_SOURCE_OIDC or AUTH_SOURCE_PROXY */
	const char *name;        /* the user name (auth_name_check) */
	/* OIDC: the stable link (the ID token's iss and sub); NULL for the proxy */
	const char *issuer, *subject;
	const char *display_name; /* may be NULL */
	const char *const *groups;
	size_t n_groups;
	/* false: the provider sent no group list: synced memberships are left as they are */
	bool has_groups;
	/* an admin group is configured: is_admin then decides the administrator flag */
	bool sets_admin;
	bool is_admin;
};

/*
 * Signs in a user an identity provider vouched for: finds the account linked to (issuer,
 * subject) (OIDC) or named name with source proxy, creating it on first sight (never an
 * administrator unless sets_admin and is_admin); replaces its synced group memberships with
 * id's groups (creating missing groups) while memberships an administrator made stay; sets
 * the administrator flag when sets_admin; and makes a new session exactly like auth_sign_in's
 * (S2: a new id every time; cookie and out->csrf the same way). Audited ("sso_sign_in",
 * "user_created", "group_sync"). A linked account whose name claim changed is renamed to the
 * new name when no other account holds it (EPERM otherwise: the link decides who it is, the
 * name is only a label). EAUTH for a disabled user; EPERM when name belongs to an
 * account of another source or another link (never taken over: the message says how to link
 * it deliberately: `trawl user link`); EINVAL for a bad name or group; EIO.
 */
int auth_sign_in_external(struct auth_principal *out, char cookie[AUTH_SESSION_ID_LEN + 1],
			  struct auth *a, const struct auth_external *id,
			  const struct auth_origin *from);

/*
 * Identifies a request an authentication proxy vouches for (id->source AUTH_SOURCE_PROXY):
 * the user is provisioned on first sight, its synced groups and administrator flag written
 * only when they differ from what was last stored (a steady stream of requests writes
 * nothing). *out is an AUTH_PROXY principal: search, plus admin for an administrator; no
 * CSRF token (the server's Origin and Sec-Fetch-Site checks guard its unsafe requests).
 * EAUTH for a disabled user; EPERM, EINVAL, EIO as auth_sign_in_external.
 */
int auth_identify_proxy(struct auth_principal *out, struct auth *a, const struct auth_external *id,
			const struct auth_origin *from);

/*
 * Audits a refused external sign-in ("sso_refused"): source, a short reason ("bad_state",
 * "bad_token", "untrusted_proxy", ...), the user name when known (else NULL). Never pass a
 * token, code or secret. Bounded like auth_audit_denied. EIO.
 */
int auth_audit_sso_refused(struct auth *a, enum auth_source source, const char *reason,
			   const char *name, const char *address);

/* "local", "oidc" or "proxy". */
const char *auth_source_name(enum auth_source source);
/*
 * The longest lifetime, in seconds, of an API token a user of this source may hold: 0 for a
 * local account (no bound but the token's own), AUTH_EXTERNAL_TOKENS_OFF when such users get
 * none (--external-token-max-age).
 */
int64_t auth_token_max_s(const struct auth *a, enum auth_source source);

/*
 * A synced group's name: see AUTH_GROUP_NAME_MAX; it neither starts nor ends with a blank.
 * EINVAL with a message naming the fault.
 */
int auth_group_name_check(const char *name);

/*
 * A groups prefix (auth_config's groups_prefix): 1..AUTH_GROUPS_PREFIX_MAX bytes of printable
 * ASCII not starting with a blank. EINVAL with a message.
 */
int auth_groups_prefix_check(const char *prefix);

/* ---- what a principal may read ---- */

/*
 * SECURITY: the one function that decides which repositories p may read (Z1-Z5): every
 * repository for an administrator and for AUTH_LOCAL; for a user, the public repositories
 * and those granted to the user or to a group they belong to; for AUTH_ANONYMOUS the public
 * ones when allow_anonymous, else none. *out is a set with names sorted by strcmp (so
 * search_repos_has can bisect), shared and cached per principal until any grant, group,
 * membership, public flag, user or repository changes (in this process or another: the
 * store's generation counter), released with auth_repos_release. On any failure (EIO, ENOMEM)
 * *out is NULL: the caller fails closed.
 */
int auth_readable_repos(const struct search_repos **out, struct auth *a,
			const struct auth_principal *p, bool allow_anonymous);
void auth_repos_release(struct auth *a, const struct search_repos *set);

/* Whether p may read repository name: 0, EPERM (answered like a missing repository), EIO. */
int auth_check_repo(struct auth *a, const struct auth_principal *p, bool allow_anonymous,
		    const char *name);

/* ---- management (the CLI and the admin API); every change is audited with actor ---- */

/* Who makes a change, for the audit trail: NULL actor means the command line ("cli"). */
struct auth_actor {
	const char *name;    /* the acting user, or "cli" */
	const char *address; /* NULL from the command line */
};

struct auth_user {
	int64_t id;
	char name[AUTH_NAME_MAX + 1];
	char display_name[AUTH_DISPLAY_MAX + 1];
	bool is_admin, is_disabled;
	int64_t created_ms, last_seen_ms; /* last_seen 0: never signed in */
	char **groups;                    /* the groups it belongs to, sorted; NULL-terminated */
	size_t n_groups;
	enum auth_source source; /* where the account comes from */
	char *issuer, *subject;  /* AUTH_SOURCE_OIDC: the link; else NULL */
};

/*
 * Checks a new password against the policy: AUTH_PASSWORD_MIN..AUTH_PASSWORD_MAX bytes, valid
 * UTF-8, not on the bundled list of common passwords (data/common-passwords.txt, compared
 * case-insensitively), not the user's name. No composition rules. EINVAL with a message that
 * says which rule (never echoing the password).
 */
int auth_password_check(const char *user, const char *password, size_t len);

/* A random password that passes the policy (20 base62 characters), for `user add`. */
void auth_password_generate(char out[21]);

/*
 * Names: 1..AUTH_NAME_MAX bytes of [A-Za-z0-9._@+-], not starting with '-' or '.'. EINVAL with
 * a message. Shared by users and groups.
 */
int auth_name_check(const char *name);

/*
 * Adds user name (display_name may be NULL) with password (checked by auth_password_check).
 * EINVAL (taken name: the message says so; a policy failure), EIO.
 */
int auth_user_add(struct auth *a, const struct auth_actor *by, const char *name,
		  const char *display_name, bool is_admin, const char *password, size_t len);
/* Every user, by name (free with auth_users_free). EIO, ENOMEM. */
int auth_user_list(struct auth_user **out, size_t *n, struct auth *a);
int auth_user_get(struct auth_user *out, struct auth *a, const char *name); /* ENOTFOUND */
void auth_users_free(struct auth_user *v, size_t n);
void auth_user_dispose(struct auth_user *u);
/*
 * Disables (ending every session and token of the user at once: S6) or enables. Refuses to
 * disable the last enabled administrator (EINVAL). ENOTFOUND, EIO.
 */
int auth_user_set_disabled(struct auth *a, const struct auth_actor *by, const char *name,
			   bool is_disabled);
/* Sets the display name (at most AUTH_DISPLAY_MAX bytes of valid UTF-8: EINVAL). ENOTFOUND, EIO. */
int auth_user_set_display_name(struct auth *a, const struct auth_actor *by, const char *name,
			       const char *display_name);
/* Grants or takes the administrator flag; the last enabled administrator stays one. */
int auth_user_set_admin(struct auth *a, const struct auth_actor *by, const char *name,
			bool is_admin);
/*
 * Sets user name's password (policy checked). With current non-NULL (a user changing their
 * own: A5) the current password must verify first (EAUTH otherwise; ELIMIT when wrong ones
 * from by's address are throttled as sign-in failures are: A6). Ends every session and
 * token of the user. ENOTFOUND, EINVAL, EIO.
 */
int auth_user_set_password(struct auth *a, const struct auth_actor *by, const char *name,
			   const char *current, size_t current_len, const char *password,
			   size_t len);

/*
 * Links the account name to an external identity (source OIDC with issuer and subject, or
 * PROXY with both NULL), so that provider's sign-ins reach it; its password is removed and
 * every session and token ends (the provider now vouches for it). The administrator's
 * deliberate step for an existing local account (`trawl user link`). ENOTFOUND, EINVAL (the
 * link is another account's), EIO.
 */
int auth_user_link(struct auth *a, const struct auth_actor *by, const char *name,
		   enum auth_source source, const char *issuer, const char *subject);

int auth_group_add(struct auth *a, const struct auth_actor *by, const char *group);
int auth_group_remove(struct auth *a, const struct auth_actor *by, const char *group);
int auth_group_member(struct auth *a, const struct auth_actor *by, const char *group,
		      const char *user, bool is_member);

struct auth_group {
	char name[AUTH_GROUP_NAME_MAX + 1];
	bool is_synced; /* created by a provider's group sync */
	char **members; /* user names, sorted; NULL-terminated */
	size_t n_members;
};
int auth_group_list(struct auth_group **out, size_t *n, struct auth *a);
void auth_groups_free(struct auth_group *v, size_t n);

/*
 * Grants (is_granted) or revokes read access on repository repo to exactly one of user or
 * group (the other NULL). Grants name repositories by name: they survive a re-index and
 * are removed with the repository (auth_repo_forget). ENOTFOUND (no such user or group),
 * EINVAL, EIO.
 */
int auth_grant(struct auth *a, const struct auth_actor *by, const char *repo, const char *user,
	       const char *group, bool is_granted);

/* Marks repo public (readable by every user, and by anonymous callers when allowed) or not. */
int auth_repo_set_public(struct auth *a, const struct auth_actor *by, const char *repo,
			 bool is_public);

struct auth_repo_access {
	char *repo;
	bool is_public;
	char **users, **groups; /* granted, sorted; NULL-terminated */
	size_t n_users, n_groups;
};
/* The grants and flag of every repository that has any (free with auth_accesses_free). */
int auth_repo_access_list(struct auth_repo_access **out, size_t *n, struct auth *a);
void auth_accesses_free(struct auth_repo_access *v, size_t n);

/* Forgets repo's grants and flag (the repository was removed) and audits the removal. */
int auth_repo_forget(struct auth *a, const struct auth_actor *by, const char *repo);
/* Audits a repository added (the registry does the adding). */
int auth_repo_added(struct auth *a, const struct auth_actor *by, const char *repo);

/* ---- API tokens ---- */

struct auth_token {
	int64_t id;
	char user[AUTH_NAME_MAX + 1];
	char name[AUTH_NAME_MAX + 1]; /* a label the creator chose ("" if none) */
	char prefix[16];              /* "trawl_" + the first 4 characters, to recognise it */
	unsigned scope;               /* one enum auth_scope bit */
	int64_t created_ms, expires_ms, last_used_ms; /* last_used 0: never */
	bool is_revoked;
};

/*
 * Creates a token for user with scope (AUTH_SCOPE_ADMIN only for an administrator: EPERM)
 * expiring after expires_s (0: AUTH_TOKEN_EXPIRY_S): the secret goes to secret (shown once,
 * never stored: only its keyed hash is), its row to *out (may be NULL). ENOTFOUND, EIO.
 */
int auth_token_create(struct auth_token *out, char secret[AUTH_TOKEN_LEN + 1], struct auth *a,
		      const struct auth_actor *by, const char *user, const char *label,
		      unsigned scope, int64_t expires_s);
/* The tokens of user (NULL: everyone's), newest first. */
int auth_token_list(struct auth_token **out, size_t *n, struct auth *a, const char *user);
/*
 * Revokes token id; with owner non-NULL only when it belongs to owner (else ENOTFOUND, like
 * a missing one). Effective on the next request. ENOTFOUND, EIO.
 */
int auth_token_revoke(struct auth *a, const struct auth_actor *by, int64_t id,
		      const char *owner);

/* Whether s has the token format and a matching checksum (no store lookup). */
bool auth_token_well_formed(const char *s, size_t len);

/* ---- the audit trail ---- */

struct auth_event {
	int64_t id;
	int64_t ts_ms;
	char *event;   /* "sign_in", "sign_in_failed", "search", "grant", ... (docs/security.md) */
	char *actor;   /* user name, "cli" or "" (anonymous) */
	char *target;  /* the object: a user, group, repository, token id; may be "" */
	char *address; /* may be "" */
	char *detail;  /* a JSON object with event-specific fields; "{}" when none */
};

/*
 * Appends an event to the table and to DATA/audit/audit.log (one JSON line; control characters
 * escaped: L3). detail_json is a JSON object text or NULL. Never pass a secret. EIO.
 */
int auth_audit(struct auth *a, const char *event, const char *actor, const char *target,
	       const char *address, const char *detail_json);

/*
 * Audits a refused request (L1) like auth_audit, bounded so that a flood cannot fill the disk.
 * A refusal with an actor (a user whose credential was valid) counts against that user's
 * AUTH_AUDIT_DENIED_PER_MIN a minute only, so no anonymous flood can crowd it out; one
 * without counts against its address's AUTH_AUDIT_DENIED_PER_MIN and all anonymous callers'
 * AUTH_AUDIT_DENIED_ALL_PER_MIN. What is dropped is counted under the user or the address
 * (even when the all-anonymous bound dropped it), and each count goes out as one
 * "audit_suppressed" event (actor the user or address the address; detail "count", "since",
 * "bound": "user" or "address") once it is a minute old (the writer looks every minute, and
 * the key's next refusal does too) or when a is closed. Reports are bounded too: past a
 * minute's share, counts are summed into one event with "keys" and no actor or address.
 * Never blocks on the store. EIO, ENOMEM.
 */
int auth_audit_denied(struct auth *a, const char *event, const char *actor, const char *target,
		      const char *address, const char *detail_json);

/*
 * Deletes the table's audit events older than before_ms, in batches (never holding the store
 * long), and audits it ("audit_pruned" by by, detail "before" and "count"); *n_pruned (may be
 * NULL) is the count. DATA/audit/audit.log and its rotated copies are not touched. EIO.
 */
int auth_audit_prune(struct auth *a, const struct auth_actor *by, int64_t before_ms,
		     int64_t *n_pruned);

struct auth_audit_filter {
	const char *user;  /* actor, or NULL */
	const char *event; /* or NULL */
	int64_t since_ms;  /* 0: all */
	size_t limit;      /* 0: 1000 */
};
/* Events matching f, oldest first (free with auth_events_free). EIO, ENOMEM. */
int auth_audit_list(struct auth_event **out, size_t *n, struct auth *a,
		    const struct auth_audit_filter *f);
void auth_events_free(struct auth_event *v, size_t n);

/* ---- notices: what was done to a user's account, told to the user (A5) ---- */

/* At most this many unread notices are returned, the newest; older ones are dropped. */
#define AUTH_NOTICES_MAX 20
#define AUTH_NOTICE_KEEP_S (90 * 24 * 60 * 60)

struct auth_notice {
	int64_t id;
	int64_t ts_ms;
	/* "password_changed", "token_created" (by someone else), "user_disabled",
	 * "user_enabled", "admin_granted" */
	char event[24];
	bool is_self;                  /* the user did it themselves */
	char by[AUTH_NAME_MAX + 1];    /* who did it: a user's name, "" from the command line */
	char address[64];              /* where from: "" from the command line */
	char token[AUTH_NAME_MAX + 1]; /* token_created: the token's name (a label, no secret) */
};

/*
 * The unread notices of p's user, newest first, at most AUTH_NOTICES_MAX and none older than
 * AUTH_NOTICE_KEEP_S; *n is 0 for a principal without an account. EIO.
 */
int auth_notice_list(struct auth_notice out[AUTH_NOTICES_MAX], size_t *n, struct auth *a,
		     const struct auth_principal *p);
/*
 * Marks p's user's notices up to id through (0: all) read; they are not listed again. EIO.
 * Notices are stored by the management functions above (the password, disabled and
 * administrator flags, a token made by another) as they change the account.
 */
int auth_notice_read(struct auth *a, const struct auth_principal *p, int64_t through);

/* ---- backup ---- */

/*
 * Copies the database (SQLite's online backup API: consistent while the server runs), the key
 * and the audit log (DATA/audit/audit.log, as out_dir/audit.log) into directory out_dir
 * (created, mode 0700; must not exist or be empty).
 * EIO with a message naming the file.
 */
int auth_backup(struct auth *a, const char *out_dir);

#endif
