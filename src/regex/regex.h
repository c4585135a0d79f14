/*
 * The regex front end: an RE2-syntax parser (as ripgrep accepts it) producing an AST, and the
 * emitter that turns the AST into a Vectorscan pattern with ripgrep's line-oriented semantics.
 * The trigram planner over the same AST is in tquery.h; the Vectorscan matcher in matcher.h.
 *
 * Not thread-safe to mutate; a parsed regex may be read from many threads at once.
 */
#ifndef TRAWL_REGEX_REGEX_H
#define TRAWL_REGEX_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum regex_flags {
	REGEX_FIXED = 1u << 0, /* -F: the pattern is a literal string */
	REGEX_ICASE = 1u << 1, /* -i: Unicode simple case folding, as (?i) */
	REGEX_WORD = 1u << 2,  /* -w: ripgrep's (?:^|\W)(?:pat)(?:\W|$) */
};

/* Limits on untrusted patterns. */
#define REGEX_MAX_LEN 4096      /* bytes of pattern text */
#define REGEX_MAX_NODES 10000   /* AST nodes */
#define REGEX_MAX_DEPTH 200     /* group nesting */
/*
 * Largest {m,n} bound the parser reads. What a count costs is bounded by the expanded size
 * below, as ripgrep bounds the compiled size rather than each count; this only keeps the
 * arithmetic small.
 */
#define REGEX_MAX_REPEAT 1000000
/*
 * Largest expanded size: Vectorscan writes x{m,n} out as max(m,n) copies of x, so nested
 * repetitions multiply (`((a{1000}){1000}){1000}` is 10^9 copies, gigabytes and minutes to
 * compile). A character counts the bytes of its UTF-8 (a class: of its widest member),
 * repetitions multiply, sequences and alternatives add (docs/regex.md, "Limits"). A pattern
 * over it is still accepted when cutting the counted repetitions at its free edges to their
 * minimum brings the lines pattern under it (`^.{1,2500}`); its match ranges are then whole
 * lines.
 */
#define REGEX_MAX_EXPANDED 5000
/*
 * Largest automaton size: the expanded size again, but with every character class counted as
 * the states of its UTF-8 byte automaton (the trie of the byte ranges Vectorscan builds for it:
 * `\pL` is 1163 states, `\w` 1349, `.` 27, an ASCII class 1). A counted repetition of a big
 * Unicode class is few characters but many states: `\pL{30}` (34,890) kept Vectorscan's compiler
 * busy for seconds before it answered "Pattern is too large", while `\pL{25}` (29,075) compiles.
 * regex_parse() refuses a pattern over this at once (docs/regex.md, "Limits").
 */
#define REGEX_MAX_STATES 40000

struct regex;

/*
 * Parses pat[0..len). On error returns TRAWL_EINVAL (syntax), TRAWL_EUNSUPPORTED (a construct
 * ripgrep accepts or a backtracking engine would, but a linear-time engine cannot do:
 * backreferences, look-around) or TRAWL_ELIMIT, with error_set_at() naming the construct and
 * its 0-based byte position.
 */
int regex_parse(struct regex **out, const char *pat, size_t len, unsigned flags);
void regex_free(struct regex *re);

enum regex_dialect {
	/* For valid UTF-8 text: compiled with HS_FLAG_UTF8 (never HS_FLAG_UCP, see emit.c). */
	REGEX_DIALECT_UTF8,
	/*
	 * For text with invalid UTF-8: byte patterns in which `.` and classes match whole valid
	 * UTF-8 sequences only (never a stray byte), as ripgrep's do.
	 */
	REGEX_DIALECT_BYTES,
	/* For pure ASCII text: what cannot match ASCII is left out; compiles fastest. */
	REGEX_DIALECT_ASCII,
};

/* regex_emit()'s result when nothing in the dialect's text can match. */
#define REGEX_EMIT_NEVER 1
/*
 * regex_emit()'s result (REGEX_EMIT_LINES only) when the pattern written finds a superset of
 * the matching lines: each line it finds must be checked with verify_line() (verify.h).
 */
#define REGEX_EMIT_VERIFY 2

/*
 * regex_emit() mode: the pattern only decides which lines match (no match ranges are taken
 * from it), which allows exact rewrites that consume context, e.g. Unicode \b at an edge.
 */
#define REGEX_EMIT_LINES 1u
/*
 * regex_emit() mode: the UTF-8 dialect for text that holds invalid UTF-8 (when the byte
 * dialect is too large for Vectorscan): \b is not rewritten into classes, which never match
 * an invalid byte, but left to the verifier.
 */
#define REGEX_EMIT_INVALID_TEXT 2u

/*
 * Writes a Vectorscan pattern with ripgrep's line semantics (no match contains '\n'; ^ and $
 * are line anchors) for re in dialect d to out, and the flags to compile it with into *hs_flags
 * (HS_FLAG_MULTILINE; HS_FLAG_ALLOWEMPTY when the pattern can match empty; HS_FLAG_UTF8 for the
 * UTF-8 dialect). Returns 0, REGEX_EMIT_NEVER (out empty: no text of this dialect can match),
 * REGEX_EMIT_VERIFY, or ENOMEM/ELIMIT.
 */
int regex_emit(struct buf *out, unsigned *hs_flags, const struct regex *re, enum regex_dialect d,
	       unsigned mode);

enum regex_literal_flags {
	REGEX_LITERAL_BOL = 1u << 0,   /* must start a line (^lit) */
	REGEX_LITERAL_EOL = 1u << 1,   /* must end a line (lit$) */
	REGEX_LITERAL_ICASE = 1u << 2, /* ASCII case-insensitive; out holds it in lower case */
	/*
	 * With ICASE (regex_literal_wide): some letters also match characters outside ASCII
	 * (k the Kelvin sign, s long s), which the ASCII search does not find.
	 */
	REGEX_LITERAL_WIDE = 1u << 3,
};

/*
 * When re is a literal string (no classes or repetition; line anchors at its edges and ASCII
 * case folding allowed, but not k or s, whose folding reaches beyond ASCII), writes its UTF-8
 * bytes to out, the enum regex_literal_flags to *lit_flags, and returns 1; otherwise 0. ENOMEM.
 */
int regex_literal(struct buf *out, unsigned *lit_flags, const struct regex *re);

/*
 * When re is a literal regex_literal() refuses only because the case folding of some of its
 * letters reaches beyond ASCII (the whole pattern case-insensitive, ASCII only; k or s in it),
 * writes it in lower case to out, REGEX_LITERAL_ICASE | REGEX_LITERAL_WIDE and the line anchor
 * flags to *lit_flags, and returns 1; otherwise 0. Its matches are the ASCII case-insensitive
 * occurrences of out, plus those holding one of the non-ASCII forms regex_literal_wide_forms()
 * lists (src/regex/litfold.c). ENOMEM.
 */
int regex_literal_wide(struct buf *out, unsigned *lit_flags, const struct regex *re);

/*
 * The UTF-8 forms of the characters outside ASCII that the letters of lit[0..len) (lower case
 * ASCII) fold to, each once: the first max of them written to out, their lengths to out_len.
 * Returns how many there are (more than max when they did not fit).
 */
size_t regex_literal_wide_forms(uint8_t (*out)[4], size_t *out_len, size_t max,
				const uint8_t *lit, size_t len);

/*
 * The longest string every match of re contains (the UTF-8 of consecutive literals on the path
 * all matches take; assertions between them allowed), for a prefilter: a line can match only if
 * it holds this string. With *is_icase the string is in lower case and to be found ASCII
 * case-insensitively (a superset when only part of it folds). out is left empty when there is
 * no such string (an alternation or a class at every step, say). ENOMEM, ELIMIT.
 */
int regex_required_literal(struct buf *out, bool *is_icase, const struct regex *re);

/*
 * regex_required_literal() with k and s (whose case folding reaches the Kelvin sign and long s)
 * kept in the run, in lower case, to be found ASCII case-insensitively: a string every match
 * written in ASCII contains, for a prefilter of ASCII text only (src/regex/litfold.c). out is
 * left empty when the longest run holds no such letter (regex_required_literal()'s is then as
 * good). ENOMEM, ELIMIT.
 */
int regex_required_literal_wide(struct buf *out, const struct regex *re);

/*
 * The expanded size of the pattern (see REGEX_MAX_EXPANDED, which regex_parse() enforces): a
 * measure of what compiling it costs.
 */
size_t regex_expanded_size(const struct regex *re);

/*
 * The automaton size of the pattern's lines AST with the repetitions at its free edges cut to
 * their minimum (see REGEX_MAX_STATES, which regex_parse() enforces): an estimate of the NFA
 * states Vectorscan needs for it.
 */
size_t regex_automaton_size(const struct regex *re);

/*
 * A measure of what compiling the pattern costs, for deciding where to compile it (matcher.c):
 * the expanded size, except that a class reaching past ASCII weighs up to REGEX_WEIGHT_CLASS
 * and a word boundary REGEX_WEIGHT_WORDB, since Vectorscan writes them out as UTF-8 byte
 * automata (`(\pL|\pN){31}` is 248 characters expanded but took 19 s to compile). Saturates
 * at SIZE_MAX / 2.
 */
#define REGEX_WEIGHT_CLASS 64
#define REGEX_WEIGHT_WORDB 32
size_t regex_compile_weight(const struct regex *re);

/* Whether the pattern can match the empty string (then every line may match). */
bool regex_can_match_empty(const struct regex *re);

/* A readable dump of the AST, for tests and `trawl search --explain`. */
int regex_describe(struct buf *out, const struct regex *re);

#endif
