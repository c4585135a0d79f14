/* trawl: the command-line entry point and subcommand dispatch. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/gitmod.h"
#include "regex/hscompile.h"
#include "store/store.h"
#include "symbols/ctags.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/pid1.h"

#ifndef TRAWL_VERSION
#define TRAWL_VERSION "0.1.0"
#endif

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct cli_help help_help = {
	.synopsis = "trawl help [COMMAND [SUBCOMMAND...]]\n",
	.summary = "list the commands, or print one command's complete usage",
	.options = "  trawl COMMAND [SUBCOMMAND...] --help (or -h) is the same as trawl help COMMAND:\n"
		   "  every form of the command, with every flag\n",
};

static const struct cli_help help_version = {
	.synopsis = "trawl version\n",
	.summary = "print trawl's version (also trawl --version)",
	.options = "",
};

/*
 * Every subcommand, in the order `trawl help` lists them: main() dispatches through this table
 * and help prints from it (docs/internals/cli.md).
 */
static const struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const struct cli_help *help;
} cli_commands[] = {
	{ "index", cmd_index, &cli_help_index },
	{ "search", cmd_search, &cli_help_search },
	{ "ls", cmd_ls, &cli_help_ls },
	{ "verify", cmd_verify, &cli_help_verify },
	{ "repo", cmd_repo, &cli_help_repo },
	{ "sync", cmd_sync, &cli_help_sync },
	{ "serve", cmd_serve, &cli_help_serve },
	{ "cluster", cmd_cluster, &cli_help_cluster },
	{ "user", cmd_user, &cli_help_user },
	{ "group", cmd_group, &cli_help_group },
	{ "grant", cmd_access, &cli_help_grant },
	{ "revoke", cmd_access, &cli_help_revoke },
	{ "access", cmd_access, &cli_help_access },
	{ "token", cmd_token, &cli_help_token },
	{ "audit", cmd_audit, &cli_help_audit },
	{ "backup", cmd_backup, &cli_help_backup },
	{ "db", cmd_db, &cli_help_db },
	{ "sandbox-check", cmd_sandbox, &cli_help_sandbox },
	{ "help", cmd_help, &help_help },
	{ "version", cmd_version, &help_version },
};

#define N_COMMANDS (sizeof(cli_commands) / sizeof(cli_commands[0]))

/* Internal subcommands: dispatched and documented (--help) like the others, never listed. */
static const struct cli_command cli_hidden[] = {
	{ "worker", cmd_worker, &cli_help_worker },
};

static const struct cli_command *command_find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	for (size_t i = 0; i < sizeof(cli_hidden) / sizeof(cli_hidden[0]); i++)
		if (strcmp(cli_hidden[i].name, name) == 0)
			return &cli_hidden[i];
	return NULL;
}

/* Writes text with prefix in front of its first line and indent in front of the others. */
static void put_indented(FILE *f, const char *text, const char *prefix, const char *indent)
{
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		fprintf(f, "%s%.*s\n", line == text ? prefix : indent, (int)n, line);
		line += n + (nl != NULL);
	}
}

static void usage_put(FILE *f, const struct cli_help *h)
{
	put_indented(f, h->synopsis, "usage: ", "       ");
	fprintf(f, "\n%s\n", h->summary);
	if (h->options[0])
		fprintf(f, "\n%s", h->options);
}

int cli_usage(const char *name, bool is_error)
{
	const struct cli_command *c = command_find(name);

	if (c)
		usage_put(is_error ? stderr : stdout, c->help);
	return is_error ? EXIT_ERROR : 0;
}

/* Every command with its summary and synopsis. */
static void commands_put(FILE *f)
{
	fputs("usage: trawl COMMAND [ARGS]\n"
	      "       trawl help COMMAND (or trawl COMMAND --help): a command's complete usage\n"
	      "\n"
	      "commands:\n", f);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct cli_help *h = cli_commands[i].help;

		fprintf(f, "  %-8s %s\n", cli_commands[i].name, h->summary);
		put_indented(f, h->synopsis, "           ", "           ");
	}
	fputs("\noptions of every command that opens the metadata store (docs/operations.md):\n"
	      "  --database URL        sqlite:PATH (default DATA/trawl.db) or postgres://...\n"
	      "                        (also $TRAWL_DATABASE)\n"
	      "  --database-password-file FILE  the PostgreSQL password, read from FILE\n"
	      "\nexit status: 0 on success, 1 when a search matched nothing, 2 on error\n",
	      f);
}

/*
 * How many of words[0..n) name a subcommand of c: the longest run that some line of its
 * synopsis starts with ("trawl group member add ..." for group, member, add).
 */
static int subcommand_words(const struct cli_command *c, char **words, int n)
{
	int best = 0;

	for (const char *line = c->help->synopsis; *line;) {
		const char *end = strchrnul(line, '\n'), *p = line + strlen("trawl ");
		int k = 0;

		if (strncmp(line, "trawl ", 6) == 0 && strncmp(p, c->name, strlen(c->name)) == 0) {
			p += strlen(c->name);
			while (k < n && words[k][0] >= 'a' && words[k][0] <= 'z' && *p == ' ' &&
			       strncmp(p + 1, words[k], strlen(words[k])) == 0 &&
			       strchr(" \n", p[1 + strlen(words[k])]))
				p += 1 + strlen(words[k++]);
		}
		best = k > best ? k : best;
		line = *end ? end + 1 : end;
	}
	return best;
}

static int cmd_help(int argc, char **argv)
{
	const struct cli_command *c;

	if (argc == 1) {
		commands_put(stdout);
		return 0;
	}
	if (!(c = command_find(argv[1]))) {
		cli_errorf("unknown command \"%s\" (trawl help lists them)", argv[1]);
		return EXIT_ERROR;
	}
	if (subcommand_words(c, argv + 2, argc - 2) != argc - 2) {
		cli_errorf("trawl %s has no subcommand \"%s\" (trawl help %s lists its forms)",
			   c->name, argv[2 + subcommand_words(c, argv + 2, argc - 2)], c->name);
		return EXIT_ERROR;
	}
	return cli_usage(c->name, false);
}

static int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return cli_usage("version", true);
	printf("trawl %s\n", TRAWL_VERSION);
	return 0;
}

void cli_report(int err)
{
	const char *msg = error_last();

	fprintf(stderr, "trawl: %s\n", msg[0] ? msg : error_name(err));
}

void cli_errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("trawl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool cli_parse_u64(uint64_t *out, const char *s)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool cli_parse_size(uint64_t *out, const char *s)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case '\0': break;
	case 'K': case 'k': mul = 1ull << 10; end++; break;
	case 'M': case 'm': mul = 1ull << 20; end++; break;
	case 'G': case 'g': mul = 1ull << 30; end++; break;
	default: return false;
	}
	if (*end || __builtin_mul_overflow((uint64_t)v, mul, out))
		return false;
	return true;
}

bool cli_branch_arg(char **v, size_t *n, char *arg)
{
	/* SECURITY: V2: a branch name or pattern is checked here, then only ever used as data. */
	if (!gitmod.branch_pattern_valid(arg)) {
		cli_errorf("--branch: not a valid branch name or pattern (a git ref name not "
			   "starting with '-', or a glob such as 'release/*')");
		return false;
	}
	if (*n == CLI_MAX_BRANCH_ARGS) {
		cli_errorf("--branch: at most %d", CLI_MAX_BRANCH_ARGS);
		return false;
	}
	v[(*n)++] = arg;
	return true;
}

const char *cli_human_bytes(char *buf, size_t n, double bytes)
{
	static const char *units[] = { "B", "KB", "MB", "GB", "TB" };
	size_t u = 0;

	while (bytes >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		bytes /= 1000;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
	return buf;
}

enum term_text cli_names_out(void)
{
	return isatty(1) ? TERM_NAME : TERM_RAW;
}

void cli_print_text(const char *s, size_t len, enum term_text how)
{
	struct buf b;

	buf_init(&b, BUF_MAX_DEFAULT);
	if (term_put(&b, s, len, how) == 0 && b.len)
		fwrite(b.ptr, 1, b.len, stdout);
	buf_dispose(&b);
}

/*
 * Whether argv[*i] is the option name (--name VALUE or --name=VALUE): *value gets the value and
 * *i moves past what it used. Leaves *value NULL for "--name" without a value.
 */
static bool take_option(const char *name, int argc, char **argv, int *i, const char **value)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0 || (argv[*i][n] != '\0' && argv[*i][n] != '='))
		return false;
	*value = argv[*i][n] == '=' ? argv[*i] + n + 1 : *i + 1 < argc ? argv[++*i] : NULL;
	(*i)++;
	return true;
}

/*
 * --database URL and --database-password-file PATH, which every command that opens the store
 * takes (docs/operations.md, "Database: SQLite or PostgreSQL"): taken out of argv before the
 * command parses it and put in the environment store_location and the PostgreSQL backend read
 * (TRAWL_DATABASE, TRAWL_DATABASE_PASSWORD_FILE), so the processes a command starts (the
 * server's scheduled sync) use the same database. SECURITY: a bad URL is not echoed (it may
 * hold a password). EXIT_ERROR after a message, else 0.
 */
static int database_flags(int *argc, char **argv)
{
	int i = 2, out = 2;

	while (i < *argc) {
		const char *v = NULL;
		int at = i;

		if (strcmp(argv[i], "--") == 0)
			break;
		if (take_option("--database", *argc, argv, &i, &v)) {
			if (!v ||
			    !(strncmp(v, "sqlite:", 7) == 0 || strncmp(v, "postgres://", 11) == 0 ||
			      strncmp(v, "postgresql://", 13) == 0) ||
			    (strncmp(v, "sqlite:", 7) == 0 && !v[7])) {
				cli_errorf("--database: expected sqlite:PATH, postgres://... or "
					   "postgresql://... (a libpq URI)");
				return EXIT_ERROR;
			}
			setenv("TRAWL_DATABASE", v, 1);
			/* SECURITY: /proc/PID/cmdline is world-readable; the copy is in environ. */
			store_scrub_password((char *)v);
		} else if (take_option("--database-password-file", *argc, argv, &i, &v)) {
			if (!v || !*v || access(v, R_OK) != 0) {
				cli_errorf("--database-password-file: %s: %s", v ? v : "(missing)",
					   v ? strerror(errno) : "expected a file");
				return EXIT_ERROR;
			}
			setenv("TRAWL_DATABASE_PASSWORD_FILE", v, 1);
		} else {
			i++;
			while (at < i)
				argv[out++] = argv[at++];
			continue;
		}
	}
	while (i < *argc)
		argv[out++] = argv[i++];
	argv[out] = NULL;
	*argc = out;
	return 0;
}

static bool is_help_flag(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;
	const struct cli_command *c;

	/* A container's entry point without an init: reap and forward, as one (util/pid1.h). */
	pid1_init();
	if (!name) {
		commands_put(stderr);
		return EXIT_ERROR;
	}
	/* Hidden: the pattern compiler's helper process (src/regex/hscompile.h). */
	if (strcmp(name, "__compile") == 0 && argc == 2)
		return hscompile_main();
	/* Hidden: the helper that confines itself and becomes ctags (src/symbols/ctags.h). */
	if (strcmp(name, "__ctags") == 0 && argc == 2)
		return ctags_helper_main();
	if (is_help_flag(name))
		name = "help";
	else if (strcmp(name, "--version") == 0)
		name = "version";
	if (!(c = command_find(name))) {
		cli_errorf("unknown command \"%s\" (try: trawl help)", name);
		return EXIT_ERROR;
	}
	/*
	 * `trawl NAME [SUBCOMMAND...] --help` is `trawl help NAME` for every command, before it
	 * checks anything (a -h further on may be an option's value: the command decides).
	 */
	if (argc > 2) {
		int k = subcommand_words(c, argv + 2, argc - 2);

		if (2 + k < argc && is_help_flag(argv[2 + k]))
			return cli_usage(c->name, false);
	}
	/*
	 * SECURITY: what trawl writes (indexes, shards, mirrors, the pattern cache) holds the
	 * code of private repositories: readable by this user only, whatever the shell's umask.
	 */
	umask(077);
	if (database_flags(&argc, argv) != 0)
		return EXIT_ERROR;
	hscompile_serve_helpers();
	return c->run(argc - 1, argv + 1);
}
