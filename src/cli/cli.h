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

int cmd_index(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_repo(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_serve(int argc, char **argv);

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
