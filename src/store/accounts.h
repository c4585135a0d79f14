/*
 * The accounts tables of the store (schema 4): users, groups and their members, read grants
 * and public flags (by repository name), API tokens and sessions (under their keyed hash),
 * the audit trail, and the generation counter of everything a readable set depends on. Only
 * SQL lives here; the rules (policies, who may do what, auditing, caching) are src/auth's.
 *
 * Times are unix milliseconds given by the caller (src/auth injects its clock). Names are
 * stored as given: the caller checks them. Functions that change several rows do so in one
 * transaction. Not thread-safe, like struct store.
 */
#ifndef TRAWL_STORE_ACCOUNTS_H
#define TRAWL_STORE_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The longest user or group name the fixed buffers below hold (auth.h's AUTH_NAME_MAX). */
#define STORE_NAME_MAX 64
#define STORE_HASH_LEN 32

/* The account behind a credential, as identification needs it. */
struct store_principal {
	int64_t user_id;
	char name[STORE_NAME_MAX + 1];
	bool is_admin, is_disabled;
};

struct store_user {
	int64_t id;
	char *name, *display_name;
	bool is_admin, is_disabled;
	char *password_hash; /* NULL: the user has no password */
	int64_t created_ms, last_seen_ms;
	char **groups; /* sorted, NULL-terminated (store_user_list and store_user_get fill it) */
	size_t n_groups;
	char *source;           /* "local", "oidc" or "proxy" */
	char *issuer, *subject; /* "oidc": the link; else NULL */
};

/* The generation of the ACL (users, groups, members, grants, public flags, repositories). */
int store_acl_generation(struct store *s, int64_t *out);

/* ---- users ---- */

/* Whether any user exists, and how many enabled administrators. EIO. */
int store_user_counts(struct store *s, int64_t *n_users, int64_t *n_admins);
/* Adds a user (password_hash may be NULL). EINVAL when the name is taken. EIO. */
int store_user_add(int64_t *id, struct store *s, const char *name, const char *display_name,
		   bool is_admin, const char *password_hash, int64_t now_ms);
/* The user called name, with its groups. ENOTFOUND, EIO, ENOMEM. */
int store_user_get(struct store_user *out, struct store *s, const char *name);
/* Every user by name, with groups. EIO, ENOMEM. */
int store_user_list(struct store_user **out, size_t *n, struct store *s);
void store_user_dispose(struct store_user *u);
void store_users_free(struct store_user *v, size_t n);
/*
 * Sets the administrator and/or disabled flag (a negative value keeps it) of user name. When
 * the change would leave no enabled administrator while one existed, nothing changes and
 * EINVAL says so. Disabling also ends every session and revokes every token of the user, in
 * the same transaction. ENOTFOUND, EIO.
 */
int store_user_set_flags(struct store *s, const char *name, int is_admin, int is_disabled);
/* Replaces the display name of user name. ENOTFOUND, EIO. */
int store_user_set_display_name(struct store *s, const char *name, const char *display_name);
/* Replaces the password hash and ends every session and token of the user. ENOTFOUND, EIO. */
int store_user_set_password(struct store *s, const char *name, const char *password_hash);
int store_user_seen(struct store *s, int64_t user_id, int64_t now_ms);

/* ---- external identities (migration 8) ---- */

/* A user an identity provider or an authentication proxy vouches for. */
struct store_external {
	const char *name, *display_name; /* display_name may be NULL */
	const char *source;              /* "oidc" or "proxy" */
	const char *issuer, *subject;    /* "oidc": the link; NULL for "proxy" */
	bool is_admin;
};

/* The user linked to (issuer, subject), with its groups. ENOTFOUND, EIO, ENOMEM. */
int store_user_find_link(struct store_user *out, struct store *s, const char *issuer,
			 const char *subject);
/* Adds a user without a password. EINVAL when the name or the link is taken. EIO. */
int store_user_add_external(int64_t *id, struct store *s, const struct store_external *x,
			    int64_t now_ms);
/*
 * Renames user id (a provider's name claim changed): EINVAL when the name is another's. Sets
 * the administrator flag (is_admin < 0 keeps it) without the last-administrator rule: a
 * provider's admin group is the authority. Sets the display name unless NULL. ENOTFOUND, EIO.
 */
int store_user_external_set(struct store *s, int64_t id, const char *name, int is_admin,
			    const char *display_name);
/*
 * Links user name to source ("local" with issuer and subject NULL unlinks), removes its
 * password and ends its sessions and tokens, in one transaction. ENOTFOUND; EINVAL when the
 * link is another user's. EIO.
 */
int store_user_link(struct store *s, const char *name, const char *source, const char *issuer,
		    const char *subject);
/* The groups user id belongs to through a sync, sorted. EIO, ENOMEM. */
int store_user_synced_groups(char ***out, size_t *n, struct store *s, int64_t user_id);
/*
 * In one transaction: makes user id a synced member of each group of add (creating a
 * missing group as a synced one; a group whose name differs only in case is that group; an
 * existing membership is left as it is), and ends its synced memberships of each of remove
 * (an administrator's stay), deleting a group of remove that a sync made once it has no
 * member and no grant left. EIO.
 */
int store_groups_sync(struct store *s, int64_t user_id, const char *const *add, size_t n_add,
		      const char *const *remove, size_t n_remove);

/* ---- groups ---- */

struct store_group {
	char *name;
	bool is_synced; /* a provider's group sync created it */
	char **members; /* sorted user names, NULL-terminated */
	size_t n_members;
};

int store_group_add(struct store *s, const char *name);    /* EINVAL when taken */
int store_group_remove(struct store *s, const char *name); /* ENOTFOUND */
/* Adds or removes a member (idempotent). ENOTFOUND for an unknown group or user. */
int store_group_member(struct store *s, const char *group, const char *user, bool is_member);
int store_group_list(struct store_group **out, size_t *n, struct store *s);
void store_groups_free(struct store_group *v, size_t n);

/* ---- grants and public flags ---- */

/*
 * Grants or revokes repo to exactly one of user or group (idempotent). ENOTFOUND for an
 * unknown user or group. EIO.
 */
int store_grant(struct store *s, const char *repo, const char *user, const char *group,
		bool is_granted);
int store_repo_public(struct store *s, const char *repo, bool is_public);
/* Forgets the grants and flag of repo. EIO. */
int store_repo_access_forget(struct store *s, const char *repo);

struct store_access {
	char *repo;
	bool is_public;
	char **users, **groups; /* sorted, NULL-terminated */
	size_t n_users, n_groups;
};
/* Every repository with a grant or a flag, by name. EIO, ENOMEM. */
int store_access_list(struct store_access **out, size_t *n, struct store *s);
void store_accesses_free(struct store_access *v, size_t n);

/*
 * The ACL as the readable sets need it, read in one transaction with its generation: the
 * users' flags, the memberships, and the grants and public flags by repository name.
 * Arrays are sorted by their first field; strings belong to the struct.
 */
struct store_acl_user {
	int64_t id;
	bool is_admin, is_disabled;
};
struct store_acl_pair { /* a membership (user, group), or a grant (user or group, repo) */
	int64_t id;
	int64_t group_id; /* memberships */
	const char *repo; /* grants */
};
struct store_acl {
	int64_t generation;
	struct store_acl_user *users;
	size_t n_users;
	struct store_acl_pair *members; /* by user id */
	size_t n_members;
	struct store_acl_pair *user_grants, *group_grants; /* by user id, by group id */
	size_t n_user_grants, n_group_grants;
	const char **public_repos;
	size_t n_public;
	char *strings; /* the repository names read by store_acl_load, one block */
	size_t strings_len;
	/* capacities, and names outside the block are copies: store_acl_refresh */
	size_t cap_users, cap_members, cap_user_grants, cap_group_grants, cap_public;
};
int store_acl_load(struct store_acl *out, struct store *s);
/*
 * Brings acl (from store_acl_load) to the store's current generation, in one read transaction:
 * re-reads only the keys the change log names when it holds every change since acl's generation
 * and they are few, else loads the whole ACL again. On failure acl is left disposed (empty), never
 * half updated. EIO, ENOMEM.
 */
int store_acl_refresh(struct store_acl *acl, struct store *s);
void store_acl_dispose(struct store_acl *acl);

/* ---- API tokens ---- */

struct store_token {
	int64_t id, user_id;
	char user[STORE_NAME_MAX + 1];
	char label[STORE_NAME_MAX + 1];
	char prefix[16];
	unsigned scope;
	int64_t created_ms, expires_ms, last_used_ms;
	bool is_revoked;
};

/* Adds a token stored under hash. EIO. */
int store_token_add(int64_t *id, struct store *s, int64_t user_id, const char *label,
		    const unsigned char hash[STORE_HASH_LEN], const char *prefix, unsigned scope,
		    int64_t created_ms, int64_t expires_ms);
/* The token stored under hash and its user. ENOTFOUND, EIO. */
int store_token_find(struct store_token *t, struct store_principal *p, struct store *s,
		     const unsigned char hash[STORE_HASH_LEN]);
int store_token_used(struct store *s, int64_t id, int64_t now_ms);
/* Tokens of user (NULL: all), newest first. EIO, ENOMEM. */
int store_token_list(struct store_token **out, size_t *n, struct store *s, const char *user);
/* Revokes token id (only when owner is NULL or owns it: else ENOTFOUND); *t its row. EIO. */
int store_token_revoke(struct store_token *t, struct store *s, int64_t id, const char *owner);

/* ---- sessions ---- */

struct store_session {
	char csrf[44]; /* base64url of 32 bytes, and the NUL */
	int64_t created_ms, last_seen_ms;
};

int store_session_add(struct store *s, const unsigned char key[STORE_HASH_LEN], int64_t user_id,
		      const char *csrf, int64_t now_ms);
/* The session stored under key and its user. ENOTFOUND, EIO. */
int store_session_find(struct store_session *out, struct store_principal *p, struct store *s,
		       const unsigned char key[STORE_HASH_LEN]);
int store_session_touch(struct store *s, const unsigned char key[STORE_HASH_LEN], int64_t now_ms);
int store_session_delete(struct store *s, const unsigned char key[STORE_HASH_LEN]);
/* Ends every session of a user. EIO. */
int store_sessions_end(struct store *s, int64_t user_id);

/* ---- the audit trail ---- */

struct store_event {
	int64_t id, ts_ms;
	char *event, *actor, *target, *address, *detail;
};

/* Appends events[0..n) in order, in one transaction. EIO. */
int store_audit_add(struct store *s, const struct store_event *events, size_t n);
/*
 * The latest limit events (0: no limit) matching actor and event (NULL: any) at or after
 * since_ms, oldest first. EIO, ENOMEM.
 */
int store_audit_list(struct store_event **out, size_t *n, struct store *s, const char *actor,
		     const char *event, int64_t since_ms, size_t limit);
/*
 * Deletes at most max of the oldest events older than before_ms, in one transaction;
 * *n_deleted is how many went (fewer than max: none is left). EIO.
 */
int store_audit_prune(struct store *s, int64_t before_ms, size_t max, size_t *n_deleted);
/* store_audit_prune for the events of refused requests only (unauthorized, forbidden,
 * not_visible, audit_suppressed, sign_in_failed, sso_refused). EIO. */
int store_audit_prune_refusals(struct store *s, int64_t before_ms, size_t max, size_t *n_deleted);
/*
 * store_audit_prune_refusals for the refusals of no one signed in only: anonymous refusals
 * (no actor), failed sign-ins and the audit_suppressed reports that count anonymous callers,
 * addresses or accounts. EIO.
 */
int store_audit_prune_outsider_refusals(struct store *s, int64_t before_ms, size_t max,
					size_t *n_deleted);
/* store_audit_prune_refusals for signed-in users' refusals only: the others of them. EIO. */
int store_audit_prune_user_refusals(struct store *s, int64_t before_ms, size_t max,
				    size_t *n_deleted);
/*
 * store_audit_prune for callers' activity only (search, token_used, sign_in, sign_out,
 * session_expired) and what users do to their own account (password_changed and
 * user_display_name of themselves, token_created and token_revoked of their own search
 * tokens). EIO.
 */
int store_audit_prune_activity(struct store *s, int64_t before_ms, size_t max, size_t *n_deleted);
/* How many events the table holds (a count kept by triggers: no scan). EIO. */
int store_audit_rows(struct store *s, int64_t *n);
void store_event_dispose(struct store_event *e);
void store_events_free(struct store_event *v, size_t n);

/* ---- backup ---- */

/* Copies the database into a new file at path (SQLite's online backup). EIO. */
int store_backup(struct store *s, const char *path);

#endif
