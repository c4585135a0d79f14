/*
 * trawl backup: a consistent copy of what cannot be made again, taken while the server runs
 * (docs/operations.md, "Backups and restore"): the database (accounts, groups, grants,
 * tokens, sessions, the audit table and the repository registry), the key of the token and
 * session hashes, and the audit log. Mirrors and the index are left out: trawl sync remakes
 * them from the registry.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/accounts.h"
#include "cli/cli.h"

const struct cli_help cli_help_backup = {
	.synopsis = "trawl backup [--data DIR] OUT\n",
	.summary = "copy the accounts, grants, tokens, audit trail and registry into directory OUT",
	.options =
		"  --data DIR            the data directory (default $TRAWL_DATA, else ./trawl-data)\n"
		"  -h, --help            this usage\n"
		"\n"
		"OUT must not exist or be empty; it is created with mode 0700 and receives trawl.db,\n"
		"auth.key and audit.log. Safe while trawl serve runs. To restore, stop the server, copy\n"
		"them into a new data directory and run trawl sync (docs/operations.md).\n",
};

int cmd_backup(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct accounts_opts o = { 0 };
	struct datadir d = { 0 };
	struct auth *a = NULL;
	int ret;

	optind = 1;
	if (accounts_getopt(&o, argc, argv, longopts) != -1 || o.is_help || argc - optind != 1)
		return cli_usage("backup", !o.is_help);
	if ((ret = accounts_open(&a, &d, o.data, false)) != 0)
		return ret;
	if ((ret = accounts_fail(auth_backup(a, argv[optind]))) == 0)
		printf("backed up %s to %s (trawl.db, auth.key, audit.log)\n", d.root, argv[optind]);
	accounts_close(a, &d);
	return ret;
}
