/*
 * What permissions cost a request (`make bench-auth`; not part of `make test`).
 *
 *     auth_cost DATA INDEX
 *
 * Builds accounts in DATA (an empty directory; one an earlier run filled is reused) through the
 * auth.h API: 10,000 repositories, one
 * public in ten, each granted to a group and to a user; 1,000 users in three groups each; 200
 * groups; and one user in every group, who may read all 10,000 plus the repositories of INDEX
 * (a small index made with `trawl index`). Then prints the medians of:
 *   - loading the whole ACL (store_acl_load), what any change cost before the change log;
 *   - a user's readable set right after an ACL change of each kind (a grant, a membership, a
 *     public flag: the copy of the ACL brought up to date, then the set computed), after another
 *     user's lookup brought it up to date (the set alone), and from the cache;
 *   - search_run over INDEX with every repository (is_all) and with the 10,004-name readable
 *     set, alternated, and their difference: what the readable set adds to a search.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "index/shard.h"
#include "search/search.h"
#include "store/accounts.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/error.h"

#define N_REPOS 10000
#define N_USERS 1000
#define N_GROUPS 200
#define GROUPS_PER_USER 3
#define RUNS 201
#define PATTERN "error_set"

static void die(const char *what, int err)
{
	fprintf(stderr, "auth_cost: %s: %s (%s)\n", what, error_last(), error_name(err));
	exit(1);
}

static void check(int err, const char *what)
{
	if (err < 0)
		die(what, err);
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void populate(struct auth *a, const struct index *ix)
{
	char name[64], group[64];
	double t0 = clock_now_ms();

	for (int g = 0; g < N_GROUPS; g++) {
		snprintf(group, sizeof(group), "group%03d", g);
		check(auth_group_add(a, NULL, group), "adding a group");
	}
	for (int u = 0; u < N_USERS; u++) {
		snprintf(name, sizeof(name), "user%04d", u);
		check(auth_user_add(a, NULL, name, NULL, false, NULL, 0), "adding a user");
		for (int k = 0; k < GROUPS_PER_USER; k++) {
			snprintf(group, sizeof(group), "group%03d", (u + 67 * k) % N_GROUPS);
			check(auth_group_member(a, NULL, group, name, true), "adding a member");
		}
	}
	check(auth_user_add(a, NULL, "reader", NULL, false, NULL, 0), "adding a user");
	for (int g = 0; g < N_GROUPS; g++) {
		snprintf(group, sizeof(group), "group%03d", g);
		check(auth_group_member(a, NULL, group, "reader", true), "adding a member");
	}
	for (int r = 0; r < N_REPOS; r++) {
		snprintf(name, sizeof(name), "host/org%02d/repo%05d", r % 50, r);
		snprintf(group, sizeof(group), "group%03d", r % N_GROUPS);
		check(auth_grant(a, NULL, name, NULL, group, true), "granting to a group");
		snprintf(group, sizeof(group), "user%04d", (r * 37) % N_USERS);
		check(auth_grant(a, NULL, name, group, NULL, true), "granting to a user");
		if (r % 10 == 0)
			check(auth_repo_set_public(a, NULL, name, true), "marking public");
	}
	for (size_t i = 0; i < index_n_shards(ix); i++)
		check(auth_grant(a, NULL, shard_repo(index_shard(ix, i)), "reader", NULL, true),
		      "granting an indexed repository");
	printf("accounts: %d repositories, %d users, %d groups made in %.1f s\n", N_REPOS,
	       N_USERS + 1, N_GROUPS, (clock_now_ms() - t0) / 1000);
}

/* A principal for user, from an API token as a request would present it. */
static void principal_of(struct auth_principal *p, struct auth *a, const char *user)
{
	char secret[AUTH_TOKEN_LEN + 1], header[AUTH_TOKEN_LEN + 16];
	struct auth_origin from = { .address = "127.0.0.1" };

	check(auth_token_create(NULL, secret, a, NULL, user, "bench", AUTH_SCOPE_SEARCH, 0),
	      "creating a token");
	snprintf(header, sizeof(header), "Bearer %s", secret);
	check(auth_identify(p, a, NULL, header, &from), "identifying");
}

/*
 * What a request's identification costs: its API token looked up (then its readable set), as
 * every request of an API client does, the same token each time.
 */
static void bench_identify(struct auth *a, const char *user)
{
	char secret[AUTH_TOKEN_LEN + 1], header[AUTH_TOKEN_LEN + 16];
	struct auth_origin from = { .address = "127.0.0.1" };
	struct auth_principal p;
	double ids[RUNS], sets[RUNS];
	enum { BATCH = 200 };

	check(auth_token_create(NULL, secret, a, NULL, user, "bench", AUTH_SCOPE_SEARCH, 0),
	      "creating a token");
	snprintf(header, sizeof(header), "Bearer %s", secret);
	for (int r = 0; r < RUNS; r++) {
		double t0 = clock_now_ms(), t1;

		for (int i = 0; i < BATCH; i++)
			check(auth_identify(&p, a, NULL, header, &from), "identifying");
		t1 = clock_now_ms();
		for (int i = 0; i < BATCH; i++) {
			const struct search_repos *set = NULL;

			check(auth_readable_repos(&set, a, &p, false), "reading a set");
			auth_repos_release(a, set);
		}
		ids[r] = (t1 - t0) * 1000 / BATCH;
		sets[r] = (clock_now_ms() - t1) * 1000 / BATCH;
	}
	printf("a request's API token identified in %.2f us, its readable set (cached) in %.2f us "
	       "(medians of %d)\n", median(ids, RUNS), median(sets, RUNS), RUNS);
}

/*
 * What auditing a search costs: the caller's queueing, and the writer's file line and table
 * row (measured as the flush auth_audit_list starts with; the list itself asks for one row).
 */
static void bench_audit(struct auth *a)
{
	const char *detail = "{\"query\":\"/sys_pidfd_open/ case:yes\",\"results\":12,"
			     "\"duration_ms\":0.412}";
	struct auth_audit_filter f = { .limit = 1 };
	double queue[RUNS], write[RUNS];
	enum { BATCH = 200 };

	for (int r = 0; r < RUNS; r++) {
		struct auth_event *v = NULL;
		size_t n = 0;
		double t0 = clock_now_ms(), t1;

		for (int i = 0; i < BATCH; i++)
			check(auth_audit(a, "search", "user0001", "", "127.0.0.1", detail), "auditing");
		t1 = clock_now_ms();
		check(auth_audit_list(&v, &n, a, &f), "flushing the audit trail");
		auth_events_free(v, n);
		queue[r] = (t1 - t0) * 1000 / BATCH;
		write[r] = (clock_now_ms() - t1) * 1000 / BATCH;
	}
	printf("an audited search: %.2f us to queue its event, %.2f us to write it (batches of %d, "
	       "medians of %d)\n", median(queue, RUNS), median(write, RUNS), BATCH, RUNS);
}

/* The time of one readable-set lookup of p. */
static double readable_once(struct auth *a, const struct auth_principal *p, size_t *n)
{
	const struct search_repos *set = NULL;
	double t0 = clock_now_ms(), ms;

	check(auth_readable_repos(&set, a, p, false), "readable set");
	ms = clock_now_ms() - t0;
	*n = set->n_names;
	auth_repos_release(a, set);
	return ms;
}

enum change { CHANGE_GRANT, CHANGE_MEMBER, CHANGE_PUBLIC, N_CHANGES };
static const char *const change_names[N_CHANGES] = { "a grant", "a membership", "a public flag" };

/*
 * Any ACL change moves the generation and drops every cached set. Each kind is toggled, on
 * another user than the ones measured, so the sets keep their size.
 */
static void acl_change(struct auth *a, enum change kind)
{
	static bool on[N_CHANGES];

	on[kind] = !on[kind];
	if (kind == CHANGE_GRANT)
		check(auth_grant(a, NULL, "host/toggle", "user0500", NULL, on[kind]), "granting");
	else if (kind == CHANGE_MEMBER)
		check(auth_group_member(a, NULL, "group199", "user0500", on[kind]), "joining");
	else
		check(auth_repo_set_public(a, NULL, "host/toggle", on[kind]), "toggling");
}

/* What loading the whole ACL costs, from a connection of its own. */
static void bench_load(const char *data)
{
	static double ms[RUNS / 4];
	char path[4096];
	struct store *st = NULL;
	struct store_acl acl;

	snprintf(path, sizeof(path), "%s/trawl.db", data);
	check(store_open(&st, path), "opening the store");
	for (size_t i = 0; i < RUNS / 4; i++) {
		double t0 = clock_now_ms();

		check(store_acl_load(&acl, st), "loading the ACL");
		ms[i] = clock_now_ms() - t0;
		store_acl_dispose(&acl);
	}
	printf("whole ACL load (store_acl_load): %.3f ms (median of %d)\n", median(ms, RUNS / 4),
	       RUNS / 4);
	store_close(st);
}

/*
 * p's readable set right after an ACL change of each kind (the copy brought up to date, then
 * the set computed); after another user's lookup brought it up to date (the set computed from
 * the in-memory ACL); and cached.
 */
static void bench_readable(struct auth *a, const struct auth_principal *p,
			   const struct auth_principal *other)
{
	static double after[N_CHANGES][RUNS], compute[RUNS], cached[RUNS];
	size_t n = 0, n_other;

	for (int i = 0; i < RUNS; i++) {
		for (int k = 0; k < N_CHANGES; k++) {
			acl_change(a, (enum change)k);
			after[k][i] = readable_once(a, p, &n);
		}
		acl_change(a, CHANGE_PUBLIC);
		(void)readable_once(a, other, &n_other);
		compute[i] = readable_once(a, p, &n);
		cached[i] = readable_once(a, p, &n);
	}
	printf("readable set of %s (%zu names), medians of %d:\n", p->name, n, RUNS);
	for (int k = 0; k < N_CHANGES; k++)
		printf("  after a change of %s: %.3f ms\n", change_names[k], median(after[k], RUNS));
	printf("  set from the up-to-date ACL %.3f ms, cached %.4f ms\n", median(compute, RUNS),
	       median(cached, RUNS));
}

static int on_file(const struct search_file *f, void *arg)
{
	(void)f;
	++*(size_t *)arg;
	return 0;
}

static double search_once(const struct index *ix, const struct search_repos *repos, size_t *n_files)
{
	struct search_opts o = {
		.pattern = PATTERN,
		.pattern_len = strlen(PATTERN),
		.want_lines = true,
		.n_threads = 1,
		.is_resident = true,
	};
	struct search_stats st;
	double t0 = clock_now_ms();

	*n_files = 0;
	check(search_run(&st, ix, repos, &o, on_file, n_files), "searching");
	return clock_now_ms() - t0;
}

/* One search_repos_has of set, half on names it holds and half on names it does not. */
static void bench_has(const struct search_repos *set)
{
	static double ns[RUNS];
	char miss[64];
	size_t hits = 0;

	for (int i = 0; i < RUNS; i++) {
		double t0 = clock_now_ms();

		for (size_t k = 0; k < set->n_names; k++) {
			snprintf(miss, sizeof(miss), "host/zz/%zu", k);
			hits += search_repos_has(set, set->names[k]);
			hits += search_repos_has(set, miss);
		}
		ns[i] = (clock_now_ms() - t0) * 1e6 / (2.0 * (double)set->n_names);
	}
	if (hits != set->n_names * RUNS) {
		fprintf(stderr, "auth_cost: search_repos_has missed a name of its set\n");
		exit(1);
	}
	printf("search_repos_has on the %zu-name set: %.0f ns a call, snprintf of the missing "
	       "name included (median of %d)\n",
	       set->n_names, median(ns, RUNS), RUNS);
}

static void bench_search(struct auth *a, const struct index *ix)
{
	static double all_ms[RUNS], set_ms[RUNS], diff[RUNS];
	static const struct search_repos all = { .is_all = true };
	const struct search_repos *set = NULL;
	struct auth_principal p;
	size_t n_all = 0, n_set = 0;

	principal_of(&p, a, "reader");
	check(auth_readable_repos(&set, a, &p, false), "readable set");
	for (int i = 0; i < 5; i++) /* warm the page cache and the pattern cache */
		search_once(ix, &all, &n_all);
	for (int i = 0; i < RUNS; i++) {
		all_ms[i] = search_once(ix, &all, &n_all);
		set_ms[i] = search_once(ix, set, &n_set);
		diff[i] = set_ms[i] - all_ms[i];
	}
	if (n_all != n_set) {
		fprintf(stderr,
			"auth_cost: the readable set changed the results (%zu files, not "
			"%zu)\n",
			n_set, n_all);
		exit(1);
	}
	printf("search \"%s\" over %zu shards, %zu files: all %.3f ms, readable set of %zu "
	       "names %.3f ms, paired difference %.4f ms (medians of %d)\n",
	       PATTERN, index_n_shards(ix), n_all, median(all_ms, RUNS), set->n_names,
	       median(set_ms, RUNS), median(diff, RUNS), RUNS);
	bench_has(set);
	auth_repos_release(a, set);
}

int main(int argc, char **argv)
{
	struct auth_config cfg = { .pwhash_cost = AUTH_PWHASH_TEST };
	struct auth_principal p, q;
	struct auth *a = NULL;
	bool has_accounts = false;
	struct index *ix = NULL;

	if (argc != 3) {
		fprintf(stderr, "usage: auth_cost DATA INDEX\n");
		return 2;
	}
	check(index_open(&ix, argv[2]), "opening the index");
	check(auth_open(&a, argv[1], &cfg), "opening the accounts");
	check(auth_has_accounts(a, &has_accounts), "reading the accounts");
	if (!has_accounts) /* else made by an earlier run: the same accounts */
		populate(a, ix);
	bench_load(argv[1]);
	bench_identify(a, "user0003");
	bench_audit(a);
	principal_of(&p, a, "user0001");
	principal_of(&q, a, "user0002");
	bench_readable(a, &p, &q);
	principal_of(&p, a, "reader");
	bench_readable(a, &p, &q);
	bench_search(a, ix);
	auth_close(a);
	index_close(ix);
	return 0;
}
