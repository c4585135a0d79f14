/*
 * Code navigation's decisions that need no server (handlers_nav.c uses them): reading a line or
 * column parameter, finding the identifier at a position of a file, and the order definitions
 * are listed in. Pure functions over bytes, tested and fuzzed apart from a server.
 */
#ifndef TRAWL_SERVER_NAV_H
#define TRAWL_SERVER_NAV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest line or column a request may name. */
#define NAV_POS_MAX 100000000u
/* The longest identifier looked up (a symbol's name is at most this long: SYMSEC_STR_MAX). */
#define NAV_IDENT_MAX 1024u

/*
 * Parses a line or column parameter (name, for the message): decimal digits only, no sign, no
 * leading zero, 1..NAV_POS_MAX. EINVAL with a message naming the parameter.
 */
int nav_parse_pos(uint32_t *out, const char *s, size_t len, const char *name);

/*
 * The identifier at line (1-based) and col (1-based, in UTF-16 code units of the line as the
 * file API's JSON content shows it: a well-formed UTF-8 sequence is one unit, or two above
 * U+FFFF; each byte that is not part of one is one unit, its U+FFFD) of text[0..len). An
 * identifier is a run of ASCII letters, digits and '_' that does not start with a digit (C's
 * rule); the unit at col may be inside it or just after its end (a caret after a word). Lines
 * end at '\n'. *start and *n are the identifier's byte offset in text and length. EINVAL with a
 * message when there is none there, the line or column is past the text's, or it is longer
 * than NAV_IDENT_MAX.
 */
int nav_ident_at(size_t *start, size_t *n, const uint8_t *text, size_t len, uint32_t line,
		 uint32_t col);
/* Whether s[0..len) is an identifier as nav_ident_at finds one (at most NAV_IDENT_MAX bytes). */
bool nav_is_ident(const char *s, size_t len);

/* A definition found, for ordering. */
struct nav_def {
	const char *repo; /* NUL-terminated */
	const char *path;
	size_t path_len;
	unsigned tier; /* nav_def_tier */
	uint32_t line;
	uint32_t shard; /* where it is: the index's shard and the section's symbol */
	uint32_t sym;
};

/*
 * Definitions are listed by tier: the same file first, then the same repository and language
 * as the file asked about, the same repository, the same language in another repository, and
 * the rest; within a tier by repository, path and line.
 */
unsigned nav_def_tier(bool is_same_file, bool is_same_repo, bool is_same_lang);
/* qsort's comparison of two struct nav_def. */
int nav_def_cmp(const void *a, const void *b);

/*
 * A frontend's merge of its searchers' definitions (POST /internal/v1/definition answers:
 * docs/internals/cluster.md). Each answer lists its best definitions in nav_def_cmp's order
 * with their tier, repository and rendered symbol. A repository lives on one searcher, so two
 * definitions of one tier and repository come from one answer, in its order: the merge orders
 * by tier and repository, then by searcher and place in its answer, which is one process's
 * order. Not thread-safe; zero-initialize, dispose after.
 */
struct json_t;
struct buf;
struct nav_merge {
	struct json_t **roots; /* the answers, which the entries borrow from */
	size_t n_roots;
	struct nav_def *v; /* .shard: the searcher, .sym: the index into json */
	const char **json; /* each definition's rendered symbol */
	size_t n, cap;
	uint64_t found; /* definitions the searchers found in all */
	bool is_limit_hit;
	/*
	 * SECURITY: when set, every definition's repository must pass it (the frontend's: the
	 * searcher was asked for it, cluster_asked_has), else the answer is malformed.
	 */
	bool (*is_asked)(const void *arg, const char *repo);
	const void *asked_arg;
};

/*
 * The most values (counted by the ',', ':', '[' and '{' outside strings) of a searcher's
 * definitions answer and of one symbol object in it: a searcher lists at most 100 definitions
 * of three fields (some 700), a symbol has a dozen fields. What jansson allocates for an
 * answer is so bounded by its bytes (attack s31).
 */
#define NAV_ANSWER_VALUES_MAX 4096u
#define NAV_SYMBOL_VALUES_MAX 256u

/*
 * Adds searcher's answer ans[0..len): {"found":N,"limit_hit":B,"defs":[{"tier":T,"repo":R,
 * "json":S},...]}, S a symbol object whose "repo" is R. EINVAL (named) for a malformed answer
 * (or one with a repository m->is_asked refuses, or more values than NAV_ANSWER_VALUES_MAX,
 * NAV_SYMBOL_VALUES_MAX in a symbol), which adds nothing; ENOMEM.
 */
int nav_merge_add(struct nav_merge *m, uint32_t searcher, const char *ans, size_t len);
/*
 * Appends {"identifier":id,"definitions":[the best max],"limit_hit":...} (and
 * "partial_searchers":n_failed when not 0) to b: limit_hit when a searcher stopped at its
 * limit or more than max were found, as one process. Sorts m. ENOMEM, ELIMIT.
 */
int nav_merge_put(struct buf *b, struct nav_merge *m, const char *id, size_t id_len, size_t max,
		  size_t n_failed);
void nav_merge_dispose(struct nav_merge *m);

#endif
