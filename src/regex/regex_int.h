/*
 * Internals of the regex front end shared by the parser, the emitter and the planner: the AST
 * and character sets. Only src/regex/ includes this.
 */
#ifndef TRAWL_REGEX_REGEX_INT_H
#define TRAWL_REGEX_REGEX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "regex/regex.h"

/* A set of Unicode scalar values as sorted, disjoint, non-adjacent ranges. */
struct crange {
	uint32_t lo, hi;
};

struct cset {
	struct crange *r;
	size_t n, cap;
};

void cset_init(struct cset *s);
void cset_dispose(struct cset *s);
/* Adds [lo, hi]; the set stays canonical. ENOMEM. */
int cset_add(struct cset *s, uint32_t lo, uint32_t hi);
int cset_add_set(struct cset *s, const struct cset *t);
int cset_copy(struct cset *dst, const struct cset *src);
/* Complement within [0, UNICODE_MAX]. ENOMEM. */
int cset_negate(struct cset *s);
int cset_intersect(struct cset *s, const struct cset *t);
int cset_subtract(struct cset *s, const struct cset *t);
/* Adds every member of each code point's simple case folding orbit. ENOMEM. */
int cset_fold(struct cset *s);
int cset_remove(struct cset *s, uint32_t lo, uint32_t hi);
bool cset_has(const struct cset *s, uint32_t cp);
uint64_t cset_count(const struct cset *s);

/* \d, \s, \w (Unicode or ASCII), [:name:] POSIX classes and \p{name}. ENOMEM, ENOTFOUND. */
int cset_add_perl(struct cset *s, char cls, bool is_unicode);
int cset_add_posix(struct cset *s, const char *name, size_t len);
int cset_add_property(struct cset *s, const char *name, size_t len);

enum re_op {
	RE_EMPTY,   /* matches the empty string */
	RE_LIT,     /* one code point, `cp`; `is_fold` when (?i) applies and cp has other cases */
	RE_CLASS,   /* one code point of `cls` (never empty, never holds '\n') */
	RE_BOL,     /* ^ and \A: start of a line */
	RE_EOL,     /* $ and \z: end of a line */
	RE_WORDB,   /* \b: Unicode word characters, or ASCII ones when `is_ascii` ((?-u)) */
	RE_NWORDB,  /* \B, likewise */
	RE_CONCAT,
	RE_ALT,
	RE_REPEAT,  /* sub[0] {min, max}; max == RE_INF for no bound */
	RE_GROUP,   /* (...) of any kind; matching ignores it */
};

#define RE_INF (-1)

/* The sizes regex_parse() bounds (parse.c's size_of), memoized in each node. */
enum re_size {
	RE_SIZE_EXPANDED, /* regex_expanded_size's, against REGEX_MAX_EXPANDED */
	RE_SIZE_STATES,   /* regex_automaton_size's, against REGEX_MAX_STATES */
	RE_N_SIZES,
};

struct re_node {
	enum re_op op;
	size_t pos;     /* byte offset in the pattern, for messages */
	uint32_t cp;    /* RE_LIT */
	bool is_fold;   /* RE_LIT */
	bool is_ascii;  /* RE_WORDB, RE_NWORDB: (?-u), ASCII word characters only */
	/*
	 * RE_BOL, RE_EOL: an anchor Vectorscan cannot place (inside a repetition that can repeat,
	 * where anchor lifting gave up): emitted as nothing, the lines verified (verify.h).
	 */
	bool is_embedded;
	struct cset cls; /* RE_CLASS */
	int min, max;   /* RE_REPEAT */
	struct re_node **sub;
	size_t n_sub;
	size_t size[RE_N_SIZES]; /* each size plus one, once computed (0: not yet) */
	size_t weight;           /* regex_compile_weight's measure plus one, once computed */
};

struct regex {
	struct re_node *root;
	/*
	 * When root's expanded size passes REGEX_MAX_EXPANDED: the same lines with the counted
	 * repetitions at the pattern's free edges cut to their minimum (`^.{1,2500}` finds the
	 * lines `^.` finds), which is what the lines database and the verifier use; no database
	 * for match ranges is built from root then. NULL otherwise.
	 */
	struct re_node *lines_root;
	struct re_node **nodes; /* every node, for freeing */
	size_t n_nodes, cap_nodes;
	unsigned flags;
	size_t expanded; /* of root; at most REGEX_MAX_EXPANDED */
	size_t states;   /* of the lines AST, free edges cut; at most REGEX_MAX_STATES */
};

bool re_node_nullable(const struct re_node *n);

/*
 * The nodes a literal pattern is made of: the root's concatenation (or the root alone) under
 * any groups, with a line anchor at either edge taken off and noted in *lit_flags
 * (REGEX_LITERAL_BOL, _EOL). *v and *k get the remaining nodes; the caller checks each is a
 * literal of the kind it takes. Shared by regex_literal() and regex_literal_wide().
 */
size_t re_literal_spine(struct re_node *const **v, unsigned *lit_flags, const struct regex *re);

/*
 * The longest run of literals every match passes through (regex_required_literal), with
 * allow_wide keeping k and s in it (*is_wide: the run holds one folded). parse.c.
 */
int re_required_run(struct buf *out, bool *is_icase, bool *is_wide, const struct regex *re,
		    bool allow_wide);
/* The AST that decides which lines match: lines_root when there is one, else root. */
const struct re_node *regex_lines_root(const struct regex *re);

#endif
