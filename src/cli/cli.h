/* Shared pieces of the command-line front end. */
#ifndef TRAWL_CLI_CLI_H
#define TRAWL_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "index/shard.h"
#include "util/term.h"

#define EXIT_MATCH 0
#define EXIT_NOMATCH 1
#define EXIT_ERROR 2

/*
 * A subcommand's usage, kept beside its option parsing. `trawl help` lists every summary and
 * synopsis; `trawl help NAME` and `trawl NAME --help` print all three.
 */
struct cli_help {
	/*
	 * Every form with every flag, one "trawl NAME ..." per form; continuation lines are
	 * indented as if "usage: " were not there.
	 */
	const char *synopsis;
	const char *summary; /* one line, no final period */
	const char *options; /* what each flag means; "" when the synopsis says it all */
};

/*
 * The subcommands. main.c's table (cli_commands) names each with its handler and help: adding
 * a subcommand is a handler and a struct cli_help in its cmd_*.c, declared here, and one
 * entry in that table (docs/internals/cli.md). A handler gets argv[0] = its name.
 */
int cmd_index(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_repo(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_group(int argc, char **argv);
/* grant, revoke and access: one handler, which argv[0] tells apart. */
int cmd_access(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_sandbox(int argc, char **argv);
extern const struct cli_help cli_help_sandbox, cli_help_cluster;
extern const struct cli_help cli_help_index, cli_help_search, cli_help_verify, cli_help_ls,
	cli_help_repo, cli_help_sync, cli_help_serve, cli_help_user, cli_help_group, cli_help_grant,
	cli_help_revoke, cli_help_access, cli_help_token, cli_help_audit, cli_help_backup,
	cli_help_db, cli_help_worker;

/*
 * Prints the complete usage of subcommand name: on stdout, returning 0, when it was asked
 * for (is_error false); on stderr, returning EXIT_ERROR, after a usage error.
 */
int cli_usage(const char *name, bool is_error);

/* Prints "trawl: MESSAGE" for the current error detail (or the code's name) to stderr. */
void cli_report(int err);
/* Prints "trawl: " and the formatted message to stderr. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parses "123", "64K", "1M", "2G". Returns false on a malformed or overflowing value. */
bool cli_parse_size(uint64_t *out, const char *s);
/* Parses a plain non-negative decimal number. */
bool cli_parse_u64(uint64_t *out, const char *s);
#define CLI_MAX_BRANCH_ARGS 256
/*
 * Takes one --branch value into v[*n] (at most CLI_MAX_BRANCH_ARGS): false, with the error
 * printed, when it is not a valid branch name or pattern or one too many. Call gitmod_init
 * first.
 */
bool cli_branch_arg(char **v, size_t *n, char *arg);
/* "1.2 GB" style, into buf. */
const char *cli_human_bytes(char *buf, size_t n, double bytes);
/*
 * How names from repositories (repositories, branches, paths) go to stdout: TERM_NAME, control
 * characters escaped, when it is a terminal; TERM_RAW, byte for byte, when it is not.
 */
enum term_text cli_names_out(void);
/* Writes s[0..len) to stdout as how says (util/term.h); nothing on ENOMEM. */
void cli_print_text(const char *s, size_t len, enum term_text how);

#endif
