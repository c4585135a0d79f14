/*
 * Readable sets: which repositories a principal may read (auth_readable_repos in auth.h).
 *
 * DESIGN: the ACL tables are kept in memory (struct store_acl: users' flags, memberships, grants,
 * public flags), and a user's set is computed from that copy the first time it is asked for and
 * then cached by user id. Every lookup first reads the store's generation counter (one prepared
 * SELECT on the readers' connection, which never waits for a writer), which triggers bump in the transaction of any change to users, groups, members,
 * grants, public flags or repositories, by this process or another: a changed generation drops
 * every cached set and brings the copy up to date (store_acl_refresh re-reads only the keys the
 * change log names), so a revocation applies to the next request (Z4). A set owns a copy of its
 * names, so the copy can change under a search still holding an older set.
 *
 * SECURITY: any failure (the store, memory) gives no set at all (Z5) and drops the copy, which
 * the next lookup loads whole; an unknown or disabled user reads nothing; administrators and the
 * local user share one is_all set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_int.h"
#include "util/array.h"
#include "util/error.h"

struct rset {
	struct search_repos pub; /* first: callers hold a pointer to it */
	atomic_int refs;
	/* then, in the same allocation, the names and their text */
};

struct cached {
	int64_t user_id;
	struct rset *set;
};

struct readable {
	struct store_acl acl;
	bool is_loaded; /* acl is the store's as of acl.generation */
	struct cached *cache;
	size_t n_cache, cap_cache;
	struct rset *public_set; /* anonymous callers when allowed */
};

static const struct search_repos all_repos = { .is_all = true };
static const struct search_repos no_repos = { .is_all = false };

static void rset_unref(struct rset *r)
{
	if (r && atomic_fetch_sub(&r->refs, 1) == 1)
		free(r);
}

int readable_new(struct readable **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : error_nomem("allocating the readable-set cache");
}

static void sets_drop(struct readable *r)
{
	for (size_t i = 0; i < r->n_cache; i++)
		rset_unref(r->cache[i].set);
	r->n_cache = 0;
	rset_unref(r->public_set);
	r->public_set = NULL;
}

static void acl_drop(struct readable *r)
{
	sets_drop(r);
	store_acl_dispose(&r->acl);
	r->is_loaded = false;
}

void readable_free(struct readable *r)
{
	if (!r)
		return;
	acl_drop(r);
	free(r->cache);
	free(r);
}

static int cmp_name(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The first pair of v[0..n) (sorted by id) with id, or n. */
static size_t pairs_lower(const struct store_acl_pair *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Names gathered in runs, each sorted already: the public list, and each principal's grants. */
struct names {
	const char **v;
	size_t n, cap;
	size_t *runs; /* where each run starts in v */
	size_t n_runs, cap_runs;
};

static int names_run(struct names *out)
{
	int err;

	if ((err = ARRAY_GROW(&out->runs, &out->cap_runs, out->n_runs + 1)) < 0)
		return err;
	out->runs[out->n_runs++] = out->n;
	return 0;
}

static int names_add_grants(struct names *out, const struct store_acl_pair *v, size_t n, int64_t id)
{
	size_t i = pairs_lower(v, n, id);
	int err;

	if (i < n && v[i].id == id && (err = names_run(out)) < 0)
		return err;
	for (; i < n && v[i].id == id; i++) {
		if ((err = ARRAY_GROW(&out->v, &out->cap, out->n + 1)) < 0)
			return err;
		out->v[out->n++] = v[i].repo;
	}
	return 0;
}

/* The names of the public repositories and, for user_id > 0, the user's and groups' grants. */
static int names_collect(struct names *nm, const struct store_acl *acl, int64_t user_id)
{
	int err = 0;

	if (acl->n_public &&
	    ((err = ARRAY_GROW(&nm->v, &nm->cap, acl->n_public)) < 0 || (err = names_run(nm)) < 0))
		return err;
	for (size_t i = 0; i < acl->n_public; i++)
		nm->v[nm->n++] = acl->public_repos[i];
	if (user_id > 0 &&
	    (err = names_add_grants(nm, acl->user_grants, acl->n_user_grants, user_id)) == 0) {
		size_t i = pairs_lower(acl->members, acl->n_members, user_id);

		for (; err == 0 && i < acl->n_members && acl->members[i].id == user_id; i++)
			err = names_add_grants(nm, acl->group_grants, acl->n_group_grants,
					       acl->members[i].group_id);
	}
	return err;
}

/* A set holding a copy of the names v[0..n) (sorted, distinct), in one allocation. */
static int rset_copy(struct rset **out, const char *const *v, size_t n)
{
	size_t head = sizeof(struct rset) + n * sizeof(char *), len = head;
	const char **names;
	struct rset *r;
	char *text;

	if (n > (SIZE_MAX - sizeof(struct rset)) / sizeof(char *))
		return error_nomem("computing a readable set");
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]) + 1;

		if (l > SIZE_MAX - len)
			return error_nomem("computing a readable set");
		len += l;
	}
	if (!(r = malloc(len)))
		return error_nomem("computing a readable set");
	names = (const char **)(void *)(r + 1);
	text = (char *)r + head;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]) + 1;

		memcpy(text, v[i], l);
		names[i] = text;
		text += l;
	}
	r->pub = (struct search_repos){ .is_all = false, .names = names, .n_names = n };
	atomic_init(&r->refs, 1);
	*out = r;
	return 0;
}

static void merge_two(const char **dst, const char *const *a, size_t na, const char *const *b,
		      size_t nb)
{
	size_t i = 0, j = 0;

	while (i < na && j < nb)
		*dst++ = strcmp(b[j], a[i]) < 0 ? b[j++] : a[i++];
	while (i < na)
		*dst++ = a[i++];
	while (j < nb)
		*dst++ = b[j++];
}

/*
 * Sorts nm->v by merging its runs pairwise (fewer comparisons than sorting it whole: the runs
 * are sorted already). The result is nm->v or *tmp, which the caller frees.
 */
static int names_merge(const char ***sorted, const char ***tmp, struct names *nm)
{
	const char **src = nm->v, **dst;
	size_t n_runs = nm->n_runs;

	*sorted = nm->v;
	if (n_runs < 2)
		return 0;
	if (!(*tmp = malloc(nm->n * sizeof(**tmp))))
		return error_nomem("computing a readable set");
	dst = *tmp;
	for (; n_runs > 1; n_runs = (n_runs + 1) / 2) {
		for (size_t r = 0; r < n_runs; r += 2) {
			size_t a = nm->runs[r], b = r + 1 < n_runs ? nm->runs[r + 1] : nm->n;
			size_t e = r + 2 < n_runs ? nm->runs[r + 2] : nm->n;

			merge_two(dst + a, src + a, b - a, src + b, e - b);
			nm->runs[r / 2] = a;
		}
		*sorted = dst;
		dst = src;
		src = *sorted;
	}
	return 0;
}

/* Drops repeated names from the sorted v[0..n); false if v was not sorted after all. */
static bool names_unique(const char **v, size_t n, size_t *k)
{
	*k = 0;
	for (size_t i = 0; i < n; i++) {
		int c = *k ? strcmp(v[*k - 1], v[i]) : -1;

		if (c > 0)
			return false;
		if (c < 0)
			v[(*k)++] = v[i];
	}
	return true;
}

/* A new set of the public repositories and, for user_id > 0, the user's and groups' grants. */
static int rset_build(struct rset **out, const struct store_acl *acl, int64_t user_id)
{
	struct names nm = { 0 };
	const char **sorted = NULL, **tmp = NULL;
	size_t k = 0;
	int err;

	*out = NULL;
	if ((err = names_collect(&nm, acl, user_id)) == 0 &&
	    (err = names_merge(&sorted, &tmp, &nm)) == 0) {
		/*
		 * SECURITY: sorted by strcmp, as search_repos_has bisects, whatever the runs were:
		 * if they were not, the names are gathered again and sorted whole.
		 */
		if (!names_unique(sorted, nm.n, &k)) {
			nm.n = nm.n_runs = 0;
			if ((err = names_collect(&nm, acl, user_id)) == 0) {
				qsort(nm.v, nm.n, sizeof(*nm.v), cmp_name);
				names_unique(nm.v, nm.n, &k);
				sorted = nm.v;
			}
		}
		if (err == 0)
			err = rset_copy(out, sorted, k);
	}
	free(nm.v);
	free(nm.runs);
	free(tmp);
	return err;
}

/* Brings the copy of the ACL to the store's generation (under a->rlock). */
static int acl_current(struct auth *a)
{
	struct readable *r = a->readable;
	int64_t gen;
	int err;

	if ((err = store_acl_generation(a->rst, &gen)) < 0)
		return auth_store_failed(err);
	if (r->is_loaded && r->acl.generation == gen)
		return 0;
	sets_drop(r);
	err = r->is_loaded ? store_acl_refresh(&r->acl, a->rst) : store_acl_load(&r->acl, a->rst);
	if (err < 0) {
		acl_drop(r);
		return auth_store_failed(err);
	}
	r->is_loaded = true;
	return 0;
}

static const struct store_acl_user *acl_user(const struct store_acl *acl, int64_t id)
{
	size_t lo = 0, hi = acl->n_users;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (acl->users[mid].id == id)
			return &acl->users[mid];
		if (acl->users[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The cached set of user id, built on first use; a new reference (under a->rlock). */
static int user_set(const struct search_repos **out, struct readable *r, int64_t id)
{
	struct rset *set;
	int err;

	for (size_t i = 0; i < r->n_cache; i++) {
		if (r->cache[i].user_id == id) {
			atomic_fetch_add(&r->cache[i].set->refs, 1);
			*out = &r->cache[i].set->pub;
			return 0;
		}
	}
	if ((err = ARRAY_GROW(&r->cache, &r->cap_cache, r->n_cache + 1)) < 0 ||
	    (err = rset_build(&set, &r->acl, id)) < 0)
		return err;
	r->cache[r->n_cache++] = (struct cached){ .user_id = id, .set = set };
	atomic_fetch_add(&set->refs, 1);
	*out = &set->pub;
	return 0;
}

static int public_set(const struct search_repos **out, struct readable *r)
{
	int err;

	if (!r->public_set && (err = rset_build(&r->public_set, &r->acl, 0)) < 0)
		return err;
	atomic_fetch_add(&r->public_set->refs, 1);
	*out = &r->public_set->pub;
	return 0;
}

static int lookup(const struct search_repos **out, struct auth *a, const struct auth_principal *p,
		  bool allow_anonymous)
{
	const struct store_acl_user *u;
	int err;

	if ((err = acl_current(a)) < 0)
		return err;
	if (p->kind == AUTH_ANONYMOUS) {
		if (!allow_anonymous) {
			*out = &no_repos;
			return 0;
		}
		return public_set(out, a->readable);
	}
	/* The user's flags as of this generation, not as the principal was made. */
	u = acl_user(&a->readable->acl, p->user_id);
	if (!u || u->is_disabled) {
		*out = &no_repos;
		return 0;
	}
	if (u->is_admin) {
		*out = &all_repos;
		return 0;
	}
	return user_set(out, a->readable, u->id);
}

int auth_readable_repos(const struct search_repos **out, struct auth *a,
			const struct auth_principal *p, bool allow_anonymous)
{
	int err;

	*out = NULL;
	if (p->kind == AUTH_LOCAL) {
		*out = &all_repos;
		return 0;
	}
	if (p->kind != AUTH_ANONYMOUS && p->kind != AUTH_SESSION && p->kind != AUTH_TOKEN &&
	    p->kind != AUTH_PROXY) {
		error_set("readable repositories: unknown kind of principal");
		return TRAWL_EINVAL;
	}
	pthread_mutex_lock(&a->rlock);
	err = lookup(out, a, p, allow_anonymous);
	pthread_mutex_unlock(&a->rlock);
	if (err < 0)
		*out = NULL;
	return err;
}

void auth_repos_release(struct auth *a, const struct search_repos *set)
{
	(void)a;
	if (!set || set == &all_repos || set == &no_repos)
		return;
	rset_unref((struct rset *)(void *)set);
}

int auth_check_repo(struct auth *a, const struct auth_principal *p, bool allow_anonymous,
		    const char *name)
{
	const struct search_repos *set;
	int err;

	if ((err = auth_readable_repos(&set, a, p, allow_anonymous)) < 0)
		return err;
	if (!search_repos_has(set, name)) {
		error_set("no repository named \"%s\"", name);
		err = TRAWL_EPERM;
	}
	auth_repos_release(a, set);
	return err;
}
