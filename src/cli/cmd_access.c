/*
 * trawl grant, trawl revoke and trawl access: who may read which repository
 * (docs/operations.md, "Groups and grants"). Deny by default: a repository is readable by
 * administrators only until it is granted to a user or a group, or marked public with
 * `trawl repo set REPO --public`. `access` lists every repository with its flag and grants,
 * the ones nobody was granted included: the answer to "who can see what".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/accounts.h"
#include "cli/cli.h"
#include "store/store.h"
#include "util/error.h"

const struct cli_help cli_help_grant = {
	.synopsis = "trawl grant REPO --user USER | --group GROUP [--data DIR]\n",
	.summary = "let a user, or every member of a group, read a repository",
	.options =
		"  --user USER           the user who may read REPO\n"
		"  --group GROUP         the group whose members may read REPO\n"
		"  --data DIR            the data directory (default $TRAWL_DATA, else ./trawl-data)\n"
		"  -h, --help            this usage\n"
		"\n"
		"REPO is a repository of the registry or the index. Grants name it, so they outlive a\n"
		"re-index; trawl repo remove removes them.\n",
};

const struct cli_help cli_help_revoke = {
	.synopsis = "trawl revoke REPO --user USER | --group GROUP [--data DIR]\n",
	.summary = "take back a grant made with trawl grant (effective on the next request)",
	.options =
		"  --user USER           the user granted REPO\n"
		"  --group GROUP         the group granted REPO\n"
		"  --data DIR            the data directory (default $TRAWL_DATA, else ./trawl-data)\n"
		"  -h, --help            this usage\n",
};

const struct cli_help cli_help_access = {
	.synopsis = "trawl access [--json] [--data DIR]\n",
	.summary = "every repository: public or private, and the users and groups granted it",
	.options =
		"  --json                one JSON object per repository (docs/cli-json.md)\n"
		"  --data DIR            the data directory (default $TRAWL_DATA, else ./trawl-data)\n"
		"  -h, --help            this usage\n"
		"\n"
		"Administrators read every repository; other users the public ones and those granted\n"
		"to them or to a group they are in.\n",
};

struct access_args {
	struct accounts_opts o;
	const char *user, *group;
};

/* Parses command's flags: 0, 1 after printing the usage asked for, or EXIT_ERROR. */
static int access_parse(struct access_args *o, const char *command, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'J' },
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool is_access = strcmp(command, "access") == 0;
	int c;

	optind = 1;
	while ((c = accounts_getopt(&o->o, argc, argv, longopts)) != -1) {
		switch (c) {
		case 'u': o->user = optarg; break;
		case 'g': o->group = optarg; break;
		default: return cli_usage(command, true);
		}
	}
	if (o->o.is_help) {
		cli_usage(command, false);
		return 1;
	}
	if (is_access ? argc != optind || o->user || o->group
		      : argc - optind != 1 || o->o.is_json || !o->user == !o->group)
		return cli_usage(command, true);
	return 0;
}

static int grant_run(struct auth *a, const struct datadir *d, const struct access_args *o,
		     const char *repo, bool is_granted)
{
	char **repos = NULL;
	size_t n = 0;
	int err = 0;

	/* A typo must not leave a grant waiting for a repository that may come later. */
	if (is_granted && (err = accounts_repos(&repos, &n, d)) == 0 &&
	    !accounts_repos_has(repos, n, repo)) {
		error_set("unknown repository \"%s\" in %s (trawl access lists them)", repo, d->root);
		err = TRAWL_ENOTFOUND;
	}
	store_names_free(repos, n);
	if (is_granted && err < 0)
		return accounts_fail(err);
	if ((err = auth_grant(a, NULL, repo, o->user, o->group, is_granted)) < 0)
		return accounts_fail(err);
	printf("%s %s %s %s %s\n", is_granted ? "granted" : "revoked", repo,
	       is_granted ? "to" : "from", o->user ? "user" : "group", o->user ? o->user : o->group);
	return 0;
}

static int cmp_access(const void *x, const void *y)
{
	return strcmp(((const struct auth_repo_access *)x)->repo,
		      ((const struct auth_repo_access *)y)->repo);
}

static void access_print(const char *repo, const struct auth_repo_access *r)
{
	cli_print_text(repo, strlen(repo), cli_names_out());
	printf("\t%s\tusers: ", r && r->is_public ? "public" : "private");
	accounts_print_names(r ? r->users : NULL, r ? r->n_users : 0);
	fputs("\tgroups: ", stdout);
	accounts_print_names(r ? r->groups : NULL, r ? r->n_groups : 0);
	putchar('\n');
}

static int access_json(struct buf *b, const char *repo, const struct auth_repo_access *r)
{
	int err;

	if ((err = buf_puts(b, "{")) < 0 || (err = accounts_json_str(b, "repo", repo, true)) < 0 ||
	    (err = buf_printf(b, ",\"public\":%s", r && r->is_public ? "true" : "false")) < 0 ||
	    (err = accounts_json_names(b, "users", r ? r->users : NULL, r ? r->n_users : 0)) < 0 ||
	    (err = accounts_json_names(b, "groups", r ? r->groups : NULL, r ? r->n_groups : 0)) < 0)
		return err;
	return buf_puts(b, "}");
}

/* Every repository of the registry and the index, and every one that has a flag or grants. */
static int access_list(struct auth *a, const struct datadir *d, bool is_json)
{
	struct auth_repo_access *rows = NULL;
	char **repos = NULL;
	size_t n_rows = 0, n = 0;
	struct buf b;
	int err;

	buf_init(&b, BUF_MAX_DEFAULT);
	if ((err = auth_repo_access_list(&rows, &n_rows, a)) < 0 ||
	    (err = accounts_repos(&repos, &n, d)) < 0)
		goto out;
	if (n_rows)
		qsort(rows, n_rows, sizeof(*rows), cmp_access);
	/* Merged in name order: a grant left for a repository that is gone shows too. */
	for (size_t i = 0, j = 0; err == 0 && (i < n || j < n_rows);) {
		int c = i == n ? 1 : j == n_rows ? -1 : strcmp(repos[i], rows[j].repo);
		const char *name = c <= 0 ? repos[i] : rows[j].repo;
		const struct auth_repo_access *r = c >= 0 ? &rows[j] : NULL;

		if (!is_json)
			access_print(name, r);
		else if ((err = access_json(&b, name, r)) == 0)
			accounts_json_line(&b);
		i += c <= 0;
		j += c >= 0;
	}
out:
	buf_dispose(&b);
	store_names_free(repos, n);
	auth_accesses_free(rows, n_rows);
	return accounts_fail(err);
}

/* trawl grant, trawl revoke and trawl access: argv[0] says which. */
int cmd_access(int argc, char **argv)
{
	struct access_args o = { 0 };
	struct datadir d = { 0 };
	struct auth *a = NULL;
	const char *command = argv[0];
	int ret;

	if ((ret = access_parse(&o, command, argc, argv)) != 0)
		return ret == 1 ? 0 : ret;
	if ((ret = accounts_open(&a, &d, o.o.data, false)) != 0)
		return ret;
	if (strcmp(command, "access") == 0)
		ret = access_list(a, &d, o.o.is_json);
	else
		ret = grant_run(a, &d, &o, argv[optind], strcmp(command, "grant") == 0);
	accounts_close(a, &d);
	return ret;
}
