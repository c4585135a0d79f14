/*
 * External identities (auth.h, "external identities"): a user an OpenID Connect provider or
 * an authentication proxy vouches for becomes an account, its synced groups and its
 * administrator flag follow what the provider says, and it gets a session (OIDC) or a
 * principal for one request (proxy). The provider's checks (tokens, headers) are the server's
 * and src/sso's; this file trusts what it is given and decides only what it means here.
 *
 * DESIGN: a name belongs to one source. An account is found by its link (OIDC: issuer and
 * subject) or, for a proxy, by a name whose source is the proxy; a name held by any other
 * account is refused, never taken over: an administrator links it deliberately
 * (auth_user_link).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth/auth_int.h"
#include "util/error.h"
#include "util/json.h"
#include "util/utf8.h"

/* An issuer is a URL; OpenID Connect bounds a subject at 255 ASCII characters. */
#define ISSUER_MAX 2048
#define SUBJECT_MAX 255
/* At most this many group names of each side are listed in a group_sync event. */
#define SYNC_AUDIT_NAMES 64

const char *auth_source_name(enum auth_source source)
{
	switch (source) {
	case AUTH_SOURCE_OIDC:
		return "oidc";
	case AUTH_SOURCE_PROXY:
		return "proxy";
	case AUTH_SOURCE_LOCAL:
		break;
	}
	return "local";
}

/* ---- checking what a provider sends ---- */

/* Whether cp would hide or disguise text where a name is shown: controls, invisible marks. */
static bool is_unshowable(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || utf8_is_hidden(cp);
}

/*
 * Text that can be stored and shown safely: 1..max bytes of valid UTF-8 without a control or
 * invisible character. what names it in the message.
 */
static int text_check(const char *s, size_t max, const char *what)
{
	size_t len = strnlen(s, max + 1), at;
	uint32_t cp;

	if (len == 0 || len > max) {
		error_set("%s is 1 to %zu bytes", what, max);
		return TRAWL_EINVAL;
	}
	if ((at = utf8_invalid_at((const uint8_t *)s, len)) < len) {
		error_set("%s is not valid UTF-8 (byte %zu)", what, at + 1);
		return TRAWL_EINVAL;
	}
	for (size_t i = 0, n; i < len; i += n) {
		n = utf8_decode(&cp, (const uint8_t *)s + i, len - i);
		if (n == 0 || is_unshowable(cp)) {
			error_set("%s holds a control or invisible character (byte %zu)", what,
				  i + 1);
			return TRAWL_EINVAL;
		}
	}
	return 0;
}

/* Whether cp is a blank: a space of any width. */
static bool is_blank_cp(uint32_t cp)
{
	return cp == ' ' || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	       cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* The code point that ends s[0..len) (valid UTF-8, len > 0). */
static uint32_t last_cp(const char *s, size_t len)
{
	uint32_t cp = 0;
	size_t i = len - 1;

	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	(void)utf8_decode(&cp, (const uint8_t *)s + i, len - i);
	return cp;
}

/*
 * SECURITY: a name that starts or ends with a blank looks like another ("eng " is shown as
 * "eng") and the proxy's header trims them: from a provider too it is refused, never trimmed
 * into a name the provider did not send.
 */
int auth_group_name_check(const char *name)
{
	size_t len;
	uint32_t first = 0;
	int err;

	if ((err = text_check(name, AUTH_GROUP_NAME_MAX, "a group name")) < 0)
		return err;
	len = strlen(name);
	(void)utf8_decode(&first, (const uint8_t *)name, len);
	if (is_blank_cp(first) || is_blank_cp(last_cp(name, len))) {
		error_set("a group name starts or ends with a blank");
		return TRAWL_EINVAL;
	}
	return 0;
}

int auth_groups_prefix_check(const char *prefix)
{
	size_t len = strnlen(prefix, AUTH_GROUPS_PREFIX_MAX + 1);

	if (len == 0 || len > AUTH_GROUPS_PREFIX_MAX || prefix[0] == ' ') {
		error_set("a groups prefix is 1 to %d bytes of printable ASCII, not starting with a "
			  "blank",
			  AUTH_GROUPS_PREFIX_MAX);
		return TRAWL_EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)prefix[i] < 0x20 || (unsigned char)prefix[i] > 0x7e) {
			error_set(
				"a groups prefix holds a byte that is not printable ASCII (byte %zu)",
				i + 1);
			return TRAWL_EINVAL;
		}
	return 0;
}

/* An issuer or subject: printable ASCII (a URL; OpenID Connect's subject). */
static int ascii_check(const char *s, size_t max, const char *what)
{
	size_t len = s ? strnlen(s, max + 1) : 0;

	if (len == 0 || len > max) {
		error_set("%s is 1 to %zu bytes", what, max);
		return TRAWL_EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
			error_set("%s holds a byte that is not printable ASCII (byte %zu)", what,
				  i + 1);
			return TRAWL_EINVAL;
		}
	}
	return 0;
}

static int link_check(enum auth_source source, const char *issuer, const char *subject)
{
	int err;

	if (source == AUTH_SOURCE_OIDC) {
		if ((err = ascii_check(issuer, ISSUER_MAX, "an issuer")) == 0)
			err = ascii_check(subject, SUBJECT_MAX, "a subject");
		return err;
	}
	if (source == AUTH_SOURCE_PROXY && !issuer && !subject)
		return 0;
	error_set("an external identity is an OpenID Connect one (with an issuer and a subject) or "
		  "a proxy's (with neither)");
	return TRAWL_EINVAL;
}

static int external_check(const struct auth_external *id)
{
	int err;

	if ((err = auth_name_check(id->name)) < 0) {
		error_prefix("the provider's user name");
		return err;
	}
	if ((err = link_check(id->source, id->issuer, id->subject)) < 0)
		return err;
	if (id->has_groups && id->n_groups > AUTH_GROUPS_MAX) {
		error_set("the provider sent %zu groups; at most %d are synced", id->n_groups,
			  AUTH_GROUPS_MAX);
		return TRAWL_EINVAL;
	}
	for (size_t i = 0; id->has_groups && i < id->n_groups; i++) {
		if ((err = auth_group_name_check(id->groups[i])) < 0) {
			error_prefix("the provider's group %zu", i + 1);
			return err;
		}
	}
	return 0;
}

/* The provider's group names with the configured prefix: what is synced. */
struct prefixed {
	struct auth_external id; /* the identity, its groups prefixed when there is a prefix */
	char **names;            /* the prefixed names (owned), or NULL */
};

static void prefixed_dispose(struct prefixed *p)
{
	for (size_t i = 0; p->names && i < p->id.n_groups; i++)
		free(p->names[i]);
	free(p->names);
	memset(p, 0, sizeof(*p));
}

/* id, checked, with each group name after the configured prefix (checked again). */
static int prefixed_make(struct prefixed *p, const struct auth *a, const struct auth_external *id)
{
	const char *prefix = a->cfg.groups_prefix;
	size_t plen = prefix ? strlen(prefix) : 0;
	int err;

	memset(p, 0, sizeof(*p));
	p->id = *id;
	if (!plen || !id->has_groups || !id->n_groups)
		return 0;
	if (!(p->names = calloc(id->n_groups, sizeof(*p->names))))
		return error_nomem("prefixing the provider's groups");
	for (size_t i = 0; i < id->n_groups; i++) {
		size_t n = plen + strlen(id->groups[i]) + 1;

		if (!(p->names[i] = malloc(n)))
			return error_nomem("prefixing the provider's groups");
		snprintf(p->names[i], n, "%s%s", prefix, id->groups[i]);
		if ((err = auth_group_name_check(p->names[i])) < 0) {
			error_prefix("the provider's group %zu with the prefix \"%s\"", i + 1,
				     prefix);
			return err;
		}
	}
	p->id.groups = (const char *const *)p->names;
	return 0;
}

/* The display name to keep: the provider's when it can be shown safely, else none. */
static const char *display_of(const struct auth_external *id)
{
	const char *d = id->display_name;

	if (!d || !*d || text_check(d, AUTH_DISPLAY_MAX, "a display name") < 0) {
		error_clear();
		return NULL;
	}
	return d;
}

/* ---- the account ---- */

/* An account found or made for an identity, and what changed on the way. */
struct found {
	struct store_user u;
	bool is_created;
	char renamed_from[AUTH_NAME_MAX + 1]; /* "" unless the name claim changed */
};

/*
 * SECURITY: the refusal names no command: an administrator pasting one would hand the account
 * to whoever holds the identity; linking must follow checking that it is the same person.
 */
static int name_refused(const struct auth_external *id, const char *why)
{
	error_set("the account \"%s\" %s: it is never taken over by %s; link it only after "
		  "verifying that the identity is the same person (docs/sso.md, \"Linking\")",
		  id->name, why,
		  id->source == AUTH_SOURCE_OIDC ? "a provider's identity"
						 : "the authentication proxy");
	return TRAWL_EPERM;
}

/* Adds the account of id (under a->lock). A name taken meanwhile, in any case: EPERM. */
static int account_create(struct found *f, struct auth *a, const struct auth_external *id)
{
	const struct store_external x = {
		.name = id->name,
		.display_name = display_of(id),
		.source = auth_source_name(id->source),
		.issuer = id->issuer,
		.subject = id->subject,
		/* SECURITY: only a configured admin group makes an administrator. */
		.is_admin = id->sets_admin && id->is_admin,
	};
	int64_t uid;
	int err;

	err = store_user_add_external(&uid, a->st, &x, auth_now(a));
	if (err == TRAWL_EINVAL)
		return name_refused(id, "already exists");
	if (err < 0)
		return err;
	f->is_created = true;
	if ((err = store_user_get(&f->u, a->st, id->name)) == 0)
		atomic_store(&a->has_accounts, true);
	return err;
}

/* A linked account whose provider now gives it another name takes that name when free. */
static int account_rename(struct found *f, struct auth *a, const struct auth_external *id)
{
	int err;

	if (strcmp(f->u.name, id->name) == 0)
		return 0;
	err = store_user_external_set(a->st, f->u.id, id->name, -1, NULL);
	if (err == TRAWL_EINVAL)
		return name_refused(id, "is another account's, and the provider now gives that name "
					"to a linked one");
	if (err < 0)
		return err;
	snprintf(f->renamed_from, sizeof(f->renamed_from), "%s", f->u.name);
	store_user_dispose(&f->u);
	return store_user_get(&f->u, a->st, id->name);
}

/*
 * SECURITY: the account id vouches for (under a->lock): its link's, or the proxy's account of
 * that name; made on first sight; a name any other account holds is EPERM.
 */
static int account_find(struct found *f, struct auth *a, const struct auth_external *id)
{
	int err;

	memset(f, 0, sizeof(*f));
	if (id->source == AUTH_SOURCE_OIDC) {
		err = store_user_find_link(&f->u, a->st, id->issuer, id->subject);
		if (err == 0)
			return account_rename(f, a, id);
		if (err != TRAWL_ENOTFOUND)
			return err;
	}
	err = store_user_get(&f->u, a->st, id->name);
	if (err == TRAWL_ENOTFOUND) {
		error_clear();
		return account_create(f, a, id);
	}
	if (err < 0)
		return err;
	if (id->source == AUTH_SOURCE_PROXY && strcmp(f->u.source, "proxy") == 0)
		return 0;
	return name_refused(id, strcmp(f->u.source, "local") == 0 ? "is a local account"
								  : "is linked to another identity");
}

/* ---- groups and the administrator flag ---- */

static int name_cmp(const void *x, const void *y)
{
	return strcasecmp(*(const char *const *)x, *(const char *const *)y);
}

/* Whether name is in v (sorted by name_cmp): names differing only in case are one group. */
static bool has_name(const char *const *v, size_t n, const char *name)
{
	return n && bsearch(&name, v, n, sizeof(*v), name_cmp);
}

/* What a sync changes: names borrowed from the identity (add) and from synced (remove). */
struct sync_diff {
	const char **add, **remove;
	size_t n_add, n_remove;
	char **synced; /* the user's synced groups as the store had them: owned */
	size_t n_synced;
};

static void diff_dispose(struct sync_diff *d)
{
	free((void *)d->add);
	free((void *)d->remove);
	store_names_free(d->synced, d->n_synced);
	memset(d, 0, sizeof(*d));
}

/* A sorted copy of the pointers of v (NULL when n is 0). */
static int sorted_copy(const char ***out, const char *const *v, size_t n)
{
	*out = NULL;
	if (n == 0)
		return 0;
	if (!(*out = malloc(n * sizeof(**out))))
		return error_nomem("syncing groups");
	memcpy(*out, v, n * sizeof(**out));
	qsort(*out, n, sizeof(**out), name_cmp);
	return 0;
}

/*
 * The groups to join (the provider's, not yet the user's by any source, once each) and the
 * synced memberships to end (no longer the provider's); an administrator's memberships stay.
 */
static int diff_make(struct sync_diff *d, const struct auth_external *id, const struct store_user *u)
{
	const char **want = NULL, **have = NULL, **sync = NULL;
	char **synced = d->synced;
	size_t n_synced = d->n_synced;
	int err;

	if ((err = sorted_copy(&want, id->groups, id->n_groups)) < 0 ||
	    (err = sorted_copy(&have, (const char *const *)u->groups, u->n_groups)) < 0 ||
	    (err = sorted_copy(&sync, (const char *const *)synced, n_synced)) < 0)
		goto out;
	if ((id->n_groups && !(d->add = malloc(id->n_groups * sizeof(*d->add)))) ||
	    (n_synced && !(d->remove = malloc(n_synced * sizeof(*d->remove))))) {
		err = error_nomem("syncing groups");
		goto out;
	}
	for (size_t i = 0; i < id->n_groups; i++)
		if ((i == 0 || name_cmp(&want[i - 1], &want[i]) != 0) &&
		    !has_name(have, u->n_groups, want[i]))
			d->add[d->n_add++] = want[i];
	for (size_t i = 0; i < n_synced; i++)
		if (!has_name(want, id->n_groups, sync[i]))
			d->remove[d->n_remove++] = sync[i];
out:
	free((void *)want);
	free((void *)have);
	free((void *)sync);
	return err;
}

/* `"key":[names...]`, at most SYNC_AUDIT_NAMES of them, and "key_count". */
static void detail_names(struct buf *b, const char *key, const char **v, size_t n)
{
	char count[32];

	if (b->len > 1)
		(void)buf_putc(b, ',');
	(void)json_put_string(b, key, strlen(key), NULL);
	(void)buf_puts(b, ":[");
	for (size_t i = 0; i < n && i < SYNC_AUDIT_NAMES; i++) {
		if (i)
			(void)buf_putc(b, ',');
		(void)json_put_string(b, v[i], strlen(v[i]), NULL);
	}
	(void)buf_putc(b, ']');
	snprintf(count, sizeof(count), "%s_count", key);
	detail_int(b, count, (int64_t)n);
}

static void audit_sync(struct auth *a, const char *user, const struct sync_diff *d,
		       const char *address)
{
	struct buf b;

	detail_begin(&b);
	detail_names(&b, "added", d->add, d->n_add);
	detail_names(&b, "removed", d->remove, d->n_remove);
	(void)auth_audit(a, "group_sync", "sso", user, address, detail_end(&b));
	buf_dispose(&b);
}

/*
 * Replaces the synced memberships of f's user with id's groups (under a->lock), writing only
 * when they differ; what changed goes to *d (the caller audits it and disposes of it).
 */
static int groups_sync(struct sync_diff *d, struct auth *a, const struct found *f,
		       const struct auth_external *id)
{
	int err;

	if (!id->has_groups)
		return 0;
	if ((err = store_user_synced_groups(&d->synced, &d->n_synced, a->st, f->u.id)) < 0 ||
	    (err = diff_make(d, id, &f->u)) < 0)
		return err;
	if (d->n_add || d->n_remove)
		err = store_groups_sync(a->st, f->u.id, d->add, d->n_add, d->remove, d->n_remove);
	return err;
}

/*
 * The administrator flag and display name the provider gives (under a->lock); f->u follows.
 * SECURITY: with an admin group configured the provider is the authority, even over the last
 * administrator; without one the flag is the administrators' own.
 */
static int flags_sync(struct found *f, struct auth *a, const struct auth_external *id)
{
	int is_admin = id->sets_admin && id->is_admin != f->u.is_admin ? id->is_admin : -1;
	const char *display = display_of(id);
	int err;

	if (is_admin < 0 && (!display || strcmp(display, f->u.display_name) == 0))
		return 0;
	if ((err = store_user_external_set(a->st, f->u.id, NULL, is_admin, display)) < 0)
		return err;
	if (is_admin >= 0)
		f->u.is_admin = is_admin;
	return 0;
}

/* ---- signing in ---- */

/*
 * Finds or makes the account of id and brings its groups and flags up to date (under
 * a->lock). EAUTH for a disabled one.
 */
static int account_sync(struct found *f, struct sync_diff *d, bool *admin_changed, struct auth *a,
			const struct auth_external *id)
{
	bool was_admin;
	int err;

	memset(d, 0, sizeof(*d));
	*admin_changed = false;
	if ((err = account_find(f, a, id)) < 0)
		return err;
	if (f->u.is_disabled) {
		error_set("the account \"%s\" is disabled", f->u.name);
		return TRAWL_EAUTH;
	}
	was_admin = f->u.is_admin;
	if ((err = flags_sync(f, a, id)) < 0 || (err = groups_sync(d, a, f, id)) < 0)
		return err;
	*admin_changed = !f->is_created && was_admin != f->u.is_admin;
	return 0;
}

/* A refusal's short reason, from the error account_sync returned. */
static const char *refusal_reason(int err)
{
	return err == TRAWL_EAUTH ? "disabled" : err == TRAWL_EPERM ? "name_taken" : "invalid";
}

/* The audit trail of a sync: a new user, the flag, the groups. */
static void audit_account(struct auth *a, const struct found *f, const struct sync_diff *d,
			  bool admin_changed, const struct auth_external *id, const char *address)
{
	struct buf b;

	if (f->is_created) {
		detail_begin(&b);
		detail_str(&b, "source", auth_source_name(id->source));
		detail_bool(&b, "admin", f->u.is_admin);
		(void)auth_audit(a, "user_created", "sso", f->u.name, address, detail_end(&b));
		buf_dispose(&b);
	}
	if (admin_changed) {
		detail_begin(&b);
		detail_bool(&b, "admin", f->u.is_admin);
		(void)auth_audit(a, "user_admin", "sso", f->u.name, address, detail_end(&b));
		buf_dispose(&b);
	}
	if (d->n_add || d->n_remove)
		audit_sync(a, f->u.name, d, address);
}

static void audit_sign_in(struct auth *a, const struct found *f, const struct auth_external *id,
			  const struct auth_origin *from)
{
	char ua[AUTH_UA_MAX + 1];
	struct buf b;

	detail_begin(&b);
	detail_str(&b, "source", auth_source_name(id->source));
	if (id->issuer)
		detail_str(&b, "issuer", id->issuer);
	if (id->subject)
		detail_str(&b, "subject", id->subject);
	detail_bool(&b, "created", f->is_created);
	if (f->renamed_from[0])
		detail_str(&b, "renamed_from", f->renamed_from);
	if (from && from->user_agent) {
		auth_ua_cut(ua, from->user_agent);
		detail_str(&b, "user_agent", ua);
	}
	(void)auth_audit(a, "sso_sign_in", f->u.name, f->u.name, from ? from->address : NULL,
			 detail_end(&b));
	buf_dispose(&b);
}

/* Audits a refusal, keeping the message that says why for the caller. */
static void refusal_audit(struct auth *a, const struct auth_external *id, const char *reason,
			  const char *name, const char *address)
{
	char why[512];

	snprintf(why, sizeof(why), "%s", error_last());
	(void)auth_audit_sso_refused(a, id->source, reason, name, address);
	error_set("%s", why);
}

/*
 * Checks id, finds or makes its account and syncs it, auditing what changed and, on a
 * refusal, why. The caller disposes of f.
 */
static int external_account(struct found *f, struct auth *a, const struct auth_external *id,
			    const struct auth_origin *from)
{
	const char *address = from ? from->address : NULL;
	struct prefixed px = { 0 };
	struct sync_diff d;
	bool admin_changed;
	int err;

	memset(f, 0, sizeof(*f));
	if ((err = external_check(id)) < 0 || (err = prefixed_make(&px, a, id)) < 0) {
		if (err != TRAWL_ENOMEM)
			refusal_audit(a, id, "invalid", NULL, address);
		prefixed_dispose(&px);
		return err;
	}
	pthread_mutex_lock(&a->lock);
	err = account_sync(f, &d, &admin_changed, a, &px.id);
	pthread_mutex_unlock(&a->lock);
	if (err == 0 || f->is_created)
		audit_account(a, f, &d, admin_changed, &px.id, address);
	diff_dispose(&d);
	prefixed_dispose(&px);
	if (err == TRAWL_EAUTH || err == TRAWL_EPERM || err == TRAWL_EINVAL)
		refusal_audit(a, id, refusal_reason(err), id->name, address);
	return err;
}

int auth_sign_in_external(struct auth_principal *out, char cookie[AUTH_SESSION_ID_LEN + 1],
			  struct auth *a, const struct auth_external *id,
			  const struct auth_origin *from)
{
	struct found f;
	int err;

	memset(out, 0, sizeof(*out));
	cookie[0] = '\0';
	if ((err = external_account(&f, a, id, from)) == 0 &&
	    (err = session_new(out, cookie, a, &f.u, auth_now(a))) == 0)
		audit_sign_in(a, &f, id, from);
	store_user_dispose(&f.u);
	if (err < 0)
		memset(out, 0, sizeof(*out));
	return err;
}

/* ---- requests an authentication proxy vouches for ---- */

/* What the proxy says of a user, hashed: the same claims hash the same. */
static void claims_hash(unsigned char out[32], const struct auth_external *id)
{
	crypto_generichash_state h;
	unsigned char flags[3] = { id->has_groups, id->sets_admin, id->is_admin };
	const char *display = id->display_name ? id->display_name : "";

	crypto_generichash_init(&h, NULL, 0, 32);
	/* Each string with its NUL: no two lists run together alike. */
	crypto_generichash_update(&h, (const unsigned char *)id->name, strlen(id->name) + 1);
	crypto_generichash_update(&h, (const unsigned char *)display, strlen(display) + 1);
	crypto_generichash_update(&h, flags, sizeof(flags));
	for (size_t i = 0; id->has_groups && i < id->n_groups; i++)
		crypto_generichash_update(&h, (const unsigned char *)id->groups[i],
					  strlen(id->groups[i]) + 1);
	crypto_generichash_final(&h, out, 32);
}

static struct proxy_memo *memo_slot(struct auth *a, const unsigned char claims[32])
{
	return &a->proxy_memo[claims[0] % AUTH_PROXY_MEMO_SLOTS];
}

/*
 * The remembered principal for claims when the ACL has not moved since (under a->rlock): the
 * proxy said the same then, and no user, group or membership changed. ENOTFOUND otherwise;
 * *gen is the generation now, read before anything else is.
 */
static int memo_find(struct store_principal *u, int64_t *gen, struct auth *a,
		     const unsigned char claims[32])
{
	struct proxy_memo *m = memo_slot(a, claims);
	int err;

	if ((err = store_acl_generation(a->rst, gen)) < 0)
		return err;
	if (!m->is_set || m->generation != *gen || sodium_memcmp(m->claims, claims, 32) != 0)
		return TRAWL_ENOTFOUND;
	*u = m->u;
	return 0;
}

/*
 * Remembers u for claims at generation gen, read before u was checked: a change made while it
 * was checked moves the generation past gen, and the next request checks again.
 */
static void memo_keep(struct auth *a, const unsigned char claims[32], const struct store_user *u,
		      int64_t gen)
{
	struct proxy_memo *m = memo_slot(a, claims);

	m->is_set = true;
	m->generation = gen;
	memcpy(m->claims, claims, 32);
	m->u = (struct store_principal){
		.user_id = u->id,
		.is_admin = u->is_admin,
		.is_disabled = u->is_disabled,
	};
	snprintf(m->u.name, sizeof(m->u.name), "%s", u->name);
}

int auth_identify_proxy(struct auth_principal *out, struct auth *a, const struct auth_external *id,
			const struct auth_origin *from)
{
	struct store_principal u = { 0 };
	unsigned char claims[32];
	struct found f;
	int64_t gen = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (id->source != AUTH_SOURCE_PROXY || !id->name) {
		error_set("a proxy's identity has the proxy's source and a user name");
		return TRAWL_EINVAL;
	}
	claims_hash(claims, id);
	pthread_mutex_lock(&a->rlock);
	err = memo_find(&u, &gen, a, claims);
	pthread_mutex_unlock(&a->rlock);
	if (err == TRAWL_ENOTFOUND) {
		error_clear();
		if ((err = external_account(&f, a, id, from)) == 0) {
			pthread_mutex_lock(&a->rlock);
			memo_keep(a, claims, &f.u, gen);
			pthread_mutex_unlock(&a->rlock);
			u = (struct store_principal){ .user_id = f.u.id, .is_admin = f.u.is_admin };
			snprintf(u.name, sizeof(u.name), "%s", f.u.name);
		}
		store_user_dispose(&f.u);
	}
	if (err == 0 && u.is_disabled) {
		error_set("the account \"%s\" is disabled", u.name);
		err = TRAWL_EAUTH;
	}
	if (err < 0)
		return err;
	principal_fill(out, AUTH_PROXY, &u,
		       u.is_admin ? AUTH_SCOPE_SEARCH | AUTH_SCOPE_ADMIN : AUTH_SCOPE_SEARCH);
	return 0;
}

/* ---- auditing refusals ---- */

int auth_audit_sso_refused(struct auth *a, enum auth_source source, const char *reason,
			   const char *name, const char *address)
{
	struct buf b;
	int err;

	detail_begin(&b);
	detail_str(&b, "source", auth_source_name(source));
	detail_str(&b, "reason", reason);
	err = auth_audit_denied(a, "sso_refused", "", name && auth_name_check(name) == 0 ? name : "",
				address, detail_end(&b));
	error_clear();
	buf_dispose(&b);
	return err;
}

/* ---- linking an existing account ---- */

int auth_user_link(struct auth *a, const struct auth_actor *by, const char *name,
		   enum auth_source source, const char *issuer, const char *subject)
{
	struct buf b;
	int err;

	if (source != AUTH_SOURCE_LOCAL && (err = link_check(source, issuer, subject)) < 0)
		return err;
	if (source == AUTH_SOURCE_LOCAL && (issuer || subject)) {
		error_set("a local account has no issuer or subject");
		return TRAWL_EINVAL;
	}
	pthread_mutex_lock(&a->lock);
	err = store_user_link(a->st, name, auth_source_name(source), issuer, subject);
	pthread_mutex_unlock(&a->lock);
	if (err < 0)
		return err;
	detail_begin(&b);
	detail_str(&b, "source", auth_source_name(source));
	if (issuer)
		detail_str(&b, "issuer", issuer);
	if (subject)
		detail_str(&b, "subject", subject);
	err = auth_audit(a, "user_linked", actor_name(by), name, actor_address(by), detail_end(&b));
	buf_dispose(&b);
	return err;
}

/* ---- API tokens of external users ---- */

/* seconds as "N days", "N hours", "N minutes" or "N seconds", whichever divides it. */
static void duration_str(char *out, size_t cap, int64_t seconds)
{
	static const struct {
		int64_t s;
		const char *unit;
	} units[] = { { 86400, "day" }, { 3600, "hour" }, { 60, "minute" }, { 1, "second" } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (seconds % units[i].s == 0) {
			snprintf(out, cap, "%lld %s%s", (long long)(seconds / units[i].s),
				 units[i].unit, seconds == units[i].s ? "" : "s");
			return;
		}
}

int64_t auth_token_max_s(const struct auth *a, enum auth_source source)
{
	if (source == AUTH_SOURCE_LOCAL)
		return 0;
	return a->cfg.external_token_max_s ? a->cfg.external_token_max_s
					   : AUTH_EXTERNAL_TOKEN_MAX_S;
}

/*
 * SECURITY: a provider that disables a user reaches neither their sessions nor their tokens:
 * what an external user can hold without the provider is bounded here.
 */
int auth_token_expiry(int64_t *out, const struct auth *a, const struct store_user *u,
		      const struct auth_actor *by, int64_t expires_s)
{
	int64_t max = auth_token_max_s(a, AUTH_SOURCE_OIDC);
	char bound[48];

	*out = expires_s ? expires_s : (int64_t)AUTH_TOKEN_EXPIRY_S;
	if (!by || !u->source || strcmp(u->source, "local") == 0)
		return 0;
	if (max == AUTH_EXTERNAL_TOKENS_OFF) {
		error_set("user \"%s\" signs in with single sign-on, and such users get no API "
			  "token here (--external-token-max-age 0)",
			  u->name);
		return TRAWL_EINVAL;
	}
	duration_str(bound, sizeof(bound), max);
	if (expires_s > max) {
		error_set("user \"%s\" signs in with single sign-on: their API tokens expire within "
			  "%s (--external-token-max-age)",
			  u->name, bound);
		return TRAWL_EINVAL;
	}
	if (*out > max)
		*out = max;
	return 0;
}
