/*
 * trawl group add|remove|member|list: groups of accounts, which repositories can be granted to
 * as a whole (docs/operations.md, "Groups and grants").
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/accounts.h"
#include "cli/cli.h"

const struct cli_help cli_help_group = {
	.synopsis =
		"trawl group add GROUP [--data DIR]\n"
		"trawl group remove GROUP [--data DIR]\n"
		"trawl group member add GROUP USER [--data DIR]\n"
		"trawl group member remove GROUP USER [--data DIR]\n"
		"trawl group list [--json] [--data DIR]\n",
	.summary = "groups of users: a repository granted to a group is readable by its members",
	.options =
		"  add            create an empty group\n"
		"  remove         delete a group, its memberships and its grants\n"
		"  member add     put USER in GROUP\n"
		"  member remove  take USER out of GROUP\n"
		"  list           every group with its members\n"
		"\n"
		"  --json                list: one JSON object per group (docs/cli-json.md)\n"
		"  --data DIR            the data directory (default $TRAWL_DATA, else ./trawl-data)\n"
		"  -h, --help            this usage\n",
};

static int group_json(struct buf *b, const struct auth_group *g)
{
	int err;

	if ((err = buf_puts(b, "{")) < 0 || (err = accounts_json_str(b, "name", g->name, true)) < 0 ||
	    (err = buf_printf(b, ",\"synced\":%s", g->is_synced ? "true" : "false")) < 0 ||
	    (err = accounts_json_names(b, "members", g->members, g->n_members)) < 0)
		return err;
	return buf_puts(b, "}");
}

static int group_list(struct auth *a, bool is_json)
{
	struct auth_group *v = NULL;
	struct buf b;
	size_t n = 0;
	int err;

	buf_init(&b, BUF_MAX_DEFAULT);
	if ((err = auth_group_list(&v, &n, a)) < 0)
		goto out;
	for (size_t i = 0; i < n && err == 0; i++) {
		if (!is_json) {
			accounts_print(v[i].name);
			fputs("\tmembers: ", stdout);
			accounts_print_names(v[i].members, v[i].n_members);
			/* A group a provider's sync created says so; an administrator's says nothing. */
			puts(v[i].is_synced ? "\tsynced" : "");
		} else if ((err = group_json(&b, &v[i])) == 0) {
			accounts_json_line(&b);
		}
	}
out:
	buf_dispose(&b);
	auth_groups_free(v, n);
	return accounts_fail(err);
}

/* add, remove, member add, member remove: ops are the operands after "group". */
static int group_change(struct auth *a, char **ops, int n_ops)
{
	const char *sub = ops[0];
	int err;

	if (strcmp(sub, "add") == 0 && n_ops == 2) {
		if ((err = auth_group_add(a, NULL, ops[1])) == 0)
			printf("added group %s\n", ops[1]);
	} else if (strcmp(sub, "remove") == 0 && n_ops == 2) {
		if ((err = auth_group_remove(a, NULL, ops[1])) == 0)
			printf("removed group %s\n", ops[1]);
	} else if (strcmp(sub, "member") == 0 && n_ops == 4 &&
		   (strcmp(ops[1], "add") == 0 || strcmp(ops[1], "remove") == 0)) {
		bool is_member = strcmp(ops[1], "add") == 0;

		if ((err = auth_group_member(a, NULL, ops[2], ops[3], is_member)) == 0)
			printf("%s %s %s group %s\n", is_member ? "added" : "removed", ops[3],
			       is_member ? "to" : "from", ops[2]);
	} else {
		return cli_usage("group", true);
	}
	return accounts_fail(err);
}

int cmd_group(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct accounts_opts o = { 0 };
	struct datadir d = { 0 };
	struct auth *a = NULL;
	bool is_list;
	int ret;

	optind = 1;
	if (accounts_getopt(&o, argc, argv, longopts) != -1)
		return cli_usage("group", true);
	if (o.is_help)
		return cli_usage("group", false);
	argc -= optind;
	argv += optind;
	if (argc == 1 && strcmp(argv[0], "help") == 0)
		return cli_usage("group", false);
	is_list = argc == 1 && strcmp(argv[0], "list") == 0;
	if (argc < 1 || (o.is_json && !is_list))
		return cli_usage("group", true);
	if (!is_list && strcmp(argv[0], "add") != 0 && strcmp(argv[0], "remove") != 0 &&
	    strcmp(argv[0], "member") != 0) {
		cli_errorf("unknown group command \"%s\" (add, remove, member, list)", argv[0]);
		return EXIT_ERROR;
	}
	if ((ret = accounts_open(&a, &d, o.data, false)) != 0)
		return ret;
	ret = is_list ? group_list(a, o.is_json) : group_change(a, argv, argc);
	accounts_close(a, &d);
	return ret;
}
