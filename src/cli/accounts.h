/*
 * Shared pieces of the account commands (user, group, grant, revoke, access, token, audit,
 * backup, repo set): opening DATA's accounts, the options every one of them takes, times in
 * RFC 3339 UTC, durations, reading a password from a pipe, and JSON arrays of names. The
 * commands themselves only parse arguments and print: every rule lives in src/auth/auth.h.
 */
#ifndef TRAWL_CLI_ACCOUNTS_H
#define TRAWL_CLI_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "cli/datadir.h"
#include "util/buf.h"

struct option;

/* The options every account command takes. */
struct accounts_opts {
	const char *data; /* --data DIR, or NULL */
	bool is_json;     /* --json */
	bool is_help;     /* --help or -h */
};

/*
 * getopt_long over argv with longopts, which maps "data" to 'D', "json" (where taken) to 'J'
 * and "help" to 'h': those go into *o, and the value of the next other option is returned
 * ('?' for an unknown one, -1 after the last). Starts from argv[1] on the first call of a
 * command (optind 1); the operands are at argv[optind..] once it returns -1.
 */
int accounts_getopt(struct accounts_opts *o, int argc, char **argv, const struct option *longopts);

/*
 * Opens the data directory (creating it when create is set, as `repo add` does) and its
 * accounts. Prints the error; returns 0 or EXIT_ERROR. Close with accounts_close.
 */
int accounts_open(struct auth **a, struct datadir *d, const char *data, bool create);
void accounts_close(struct auth *a, struct datadir *d);

/*
 * The repositories of d: the registry's names and the index's, sorted by strcmp, each once
 * (free with store_names_free). A data directory without an index or registry rows gives
 * none. EIO, ECORRUPT, ENOMEM.
 */
int accounts_repos(char ***out, size_t *n, const struct datadir *d);
/* Whether name is in v (sorted as accounts_repos makes it). */
bool accounts_repos_has(char *const *v, size_t n, const char *name);

/* Prints err's detail and returns EXIT_ERROR (0 when err is not negative). */
int accounts_fail(int err);

/* ms (unix milliseconds) as RFC 3339 UTC ("2026-12-03T14:52:50Z"); "never" for 0. */
const char *accounts_time(char buf[32], int64_t ms);
/* "key":"RFC 3339" or "key":null for 0, preceded by a comma unless is_first. */
int accounts_json_time(struct buf *b, const char *key, int64_t ms, bool is_first);
/* "key":"s" (JSON-escaped), preceded by a comma unless is_first. */
int accounts_json_str(struct buf *b, const char *key, const char *s, bool is_first);
/* ,"key":["a","b"] from a NULL-terminated or counted list of names. */
int accounts_json_names(struct buf *b, const char *key, char *const *v, size_t n);
/* Writes b's contents and a newline to stdout, then empties b. */
void accounts_json_line(struct buf *b);

/* Prints s with every control character escaped (names and texts from the store). */
void accounts_print(const char *s);
/* Prints the names separated by ", ", or "-" when there are none. */
void accounts_print_names(char *const *v, size_t n);

/* "90d", "24h", "30m", "45s", "2w" (a number and one unit) in seconds; false when malformed. */
bool accounts_parse_duration(int64_t *out_s, const char *s);
/*
 * A point in time for --since: RFC 3339 ("2026-12-01T00:00:00Z", "...+01:00", "2026-12-01";
 * util/rfc3339.h; a time before 1970 is 0) or a duration before now_ms ("24h", "7d"). False
 * when neither.
 */
bool accounts_parse_since(int64_t *out_ms, const char *s, int64_t now_ms);
/* The real time in unix milliseconds. */
int64_t accounts_now_ms(void);

/*
 * Reads one line (the password) from standard input into buf (AUTH_PASSWORD_MAX + 2 bytes),
 * without its line ending: EINVAL with a message for an empty input, a line over
 * AUTH_PASSWORD_MAX bytes or a NUL byte in it. The caller wipes buf.
 */
int accounts_read_password(char *buf, size_t *len);

#endif
