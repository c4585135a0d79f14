/*
 * trawl db copy: moves the metadata store (accounts, groups, grants, tokens, sessions, the
 * audit trail, notices, the repository registry) into a new, empty database: from the data
 * directory's SQLite file to PostgreSQL as an installation outgrows one machine, or back
 * (docs/operations.md, "Moving to PostgreSQL"). The rows, their ids and their secrets' hashes
 * arrive as stored, in one transaction (store/copy.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/datadir.h"
#include "store/copy.h"
#include "store/store.h"
#include "util/error.h"

const struct cli_help cli_help_db = {
	.synopsis = "trawl db copy --to URL [--data DIR | --database FROM]\n",
	.summary = "copy the metadata store into a new, empty database (SQLite to PostgreSQL)",
	.options =
		"  --to URL              the new, empty database: postgres://... (a libpq URI) or\n"
		"                        sqlite:PATH (a new file)\n"
		"  --data DIR            the data directory whose trawl.db is copied (default\n"
		"                        $TRAWL_DATA, else ./trawl-data)\n"
		"  --database FROM       copy this database instead (sqlite:PATH or postgres://...)\n"
		"  -h, --help            this usage\n"
		"\n"
		"Every table is copied in one transaction, ids and password and token hashes as\n"
		"stored; a target holding any row is refused. The source is brought to this trawl's\n"
		"schema first, as every command does. Stop trawl serve and trawl sync before copying,\n"
		"then start them with --database URL (docs/operations.md, \"Moving to PostgreSQL\").\n"
		"A PostgreSQL password comes from the URL, --database-password-file or libpq's\n"
		"PGPASSFILE.\n",
};

/* The --to value as store_open takes it (a new string), or NULL after a message. */
static char *target_location(const char *to)
{
	char *out;

	if (strncmp(to, "postgres://", 11) != 0 && strncmp(to, "postgresql://", 13) != 0 &&
	    (strncmp(to, "sqlite:", 7) != 0 || !to[7])) {
		/* SECURITY: not echoed: it may hold a password. */
		cli_errorf("--to: expected postgres://..., postgresql://... (a libpq URI) or "
			   "sqlite:PATH");
		return NULL;
	}
	if (!(out = strdup(strncmp(to, "sqlite:", 7) == 0 ? to + 7 : to)))
		cli_errorf("out of memory");
	return out;
}

/* Where the source is: --database (in $TRAWL_DATABASE by now), else DATA/trawl.db. */
static char *source_location(const char *data)
{
	const char *env = getenv("TRAWL_DATABASE");
	struct datadir d;
	char *out;

	if (env && *env)
		return store_location("");
	if (datadir_init(&d, data, false) < 0)
		return NULL;
	out = d.db;
	d.db = NULL;
	datadir_dispose(&d);
	if (out && access(out, F_OK) != 0) {
		error_set("%s: %s (trawl repo add or trawl user add creates it; --data DIR or "
			  "--database FROM chooses it)", out, strerror(errno));
		free(out);
		return NULL;
	}
	return out ? out : (error_nomem(NULL), NULL);
}

/* Removes an SQLite target this command created, when the copy failed. */
static void remove_new_file(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char p[4096];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffixes[i]) < sizeof(p))
			unlink(p);
}

static void summary_put(const char *from, const char *to, const int64_t *rows)
{
	char *a = store_display_name(from), *b = store_display_name(to);
	size_t n;
	const struct store_copy_table *t = store_copy_tables(&n);
	int64_t total = 0;

	printf("copied %s to %s\n", a ? a : "the source", b ? b : "the target");
	for (size_t i = 0; i < n; i++) {
		printf("  %-18s %lld\n", t[i].name, (long long)rows[i]);
		total += rows[i];
	}
	printf("  %-18s %lld rows\n", "total", (long long)total);
	free(a);
	free(b);
}

/* Opens both stores and copies; 0 or a TRAWL_E* code with the message set. */
static int copy(const char *from_loc, const char *to_loc, int64_t *rows)
{
	struct store *from = NULL, *to = NULL;
	int err;

	if (strcmp(from_loc, to_loc) == 0) {
		error_set("--to names the source database itself");
		return TRAWL_EINVAL;
	}
	if ((err = store_open(&from, from_loc)) == 0 && (err = store_open(&to, to_loc)) == 0)
		err = store_copy(from, to, "cli", rows);
	store_close(to);
	store_close(from);
	return err;
}

static int db_copy(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "data", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = NULL;
	char *to = NULL, *from = NULL;
	int64_t rows[32] = { 0 };
	size_t n_tables;
	bool is_new_file = false;
	int c, err;

	store_copy_tables(&n_tables);
	if (n_tables > sizeof(rows) / sizeof(rows[0])) {
		cli_errorf("db copy: %zu tables, room for %zu", n_tables, sizeof(rows) / sizeof(rows[0]));
		return EXIT_ERROR;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 't') {
			free(to);
			if (!(to = target_location(optarg)))
				return EXIT_ERROR;
			/* SECURITY: /proc/PID/cmdline is world-readable; the copy is ours. */
			store_scrub_password(optarg);
		} else if (c == 'D') {
			data = optarg;
		} else {
			free(to);
			return cli_usage("db", c != 'h');
		}
	}
	if (!to || optind != argc) {
		if (!to)
			cli_errorf("db copy: --to URL is required");
		free(to);
		return cli_usage("db", true);
	}
	if (!(from = source_location(data))) {
		free(to);
		cli_report(TRAWL_ENOTFOUND);
		return EXIT_ERROR;
	}
	is_new_file = !store_is_server(to) && access(to, F_OK) != 0;
	if ((err = copy(from, to, rows)) == 0)
		summary_put(from, to, rows);
	else
		cli_report(err);
	if (err && is_new_file)
		remove_new_file(to);
	free(from);
	free(to);
	return err ? EXIT_ERROR : 0;
}

int cmd_db(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "copy") == 0)
		return db_copy(argc - 1, argv + 1);
	if (argc >= 2)
		cli_errorf("db: unknown subcommand \"%s\"", argv[1]);
	return cli_usage("db", true);
}
