/*
 * The matcher: a parsed regex compiled into Vectorscan databases, and line-oriented scanning
 * with ripgrep's semantics.
 *
 * DESIGN: a document is scanned with the database of its text class. Pure-ASCII documents (most
 * source code) use a database compiled without UTF-8 or Unicode flags: it compiles in about a
 * millisecond where Unicode classes take tens, and on ASCII text the two are equivalent, \b
 * included. Valid UTF-8 documents use the UTF-8 dialect; documents with invalid UTF-8 the byte
 * dialect (regex.h). Each database is compiled the first time a document needs it, so a
 * selective query over ASCII code never pays for Unicode tables. Matching lines come from a
 * database without start-of-match tracking (cheaper, and it compiles for every pattern);
 * match ranges within a line come from a second, start-of-match database, compiled only when
 * ranges are asked for.
 *
 * A matcher may be shared by threads; each thread uses its own matcher_scratch.
 */
#ifndef TRAWL_REGEX_MATCHER_H
#define TRAWL_REGEX_MATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "regex/regex.h"

enum matcher_text {
	MATCHER_TEXT_ASCII = 0,
	MATCHER_TEXT_UTF8 = 1,
	MATCHER_TEXT_BYTES = 2, /* contains invalid UTF-8 */
	/* Not known: matcher_lines and matcher_ranges classify what they scan themselves. */
	MATCHER_TEXT_UNKNOWN = 3,
};
#define MATCHER_N_TEXT 3 /* the known classes */

struct matcher;
struct matcher_scratch;

/*
 * Compiles re for scanning (the ASCII database at once, so that a pattern Vectorscan refuses is
 * reported before any document is read). re must outlive the matcher. A pattern whose expanded
 * size (regex.h) is large compiles in a helper process under time and memory limits
 * (hscompile.h); deadline_ms (CLOCK_MONOTONIC milliseconds, 0 for none) is the caller's, e.g.
 * the query's timeout, and bounds this first compilation too. Databases for other text classes
 * are compiled later, as documents need them, under the helper's own limits only.
 * EINVAL/EUNSUPPORTED/ELIMIT with a message when Vectorscan rejects the pattern or its
 * compilation passes the limits, ETIMEOUT when deadline_ms passes first, EIO when the helper
 * cannot run, ENOMEM.
 */
int matcher_new(struct matcher **out, const struct regex *re, double deadline_ms);
void matcher_free(struct matcher *m);

int matcher_scratch_new(struct matcher_scratch **out);
void matcher_scratch_free(struct matcher_scratch *s);
/*
 * The deadline (as matcher_new's, 0 for none) of databases compiled while scanning with s: a
 * pattern compiles its UTF-8 and byte databases when a document first needs them, and that
 * time counts against the search's timeout too (ETIMEOUT from matcher_lines/matcher_ranges).
 */
void matcher_scratch_set_deadline(struct matcher_scratch *s, double deadline_ms);

/* Classifies text: ASCII, valid UTF-8, or not. */
enum matcher_text matcher_classify(const uint8_t *data, size_t len);

/*
 * Called for each matching line, in order, with its byte bounds (end excludes the '\n').
 * Return 0 to go on, 1 to stop the scan of this document.
 */
typedef int (*matcher_line_fn)(size_t line_start, size_t line_end, void *arg);

/*
 * Reports every line of data[0..len) that holds a match, once each, in order. A line is what
 * ripgrep calls one: text up to '\n'; a final '\n' does not start another line. text is the
 * class of data, or MATCHER_TEXT_UNKNOWN to have it classified as needed. Errors: the
 * lazy compilation of the database for this text class (EINVAL/ELIMIT/EUNSUPPORTED), EIO when
 * Vectorscan fails.
 */
int matcher_lines(struct matcher *m, struct matcher_scratch *s, const uint8_t *data, size_t len,
		  enum matcher_text text, matcher_line_fn fn, void *arg);

struct match_range {
	uint32_t start;
	uint32_t end;
};

/*
 * The match ranges within one line (no '\n' inside): leftmost, non-overlapping, each the longest
 * match at its start. At most max ranges are written; *n gets the count. Where Vectorscan cannot
 * track match starts for this pattern the ASCII dialect is used, and where that fails too the
 * whole line is one range (docs/exactness.md). EIO.
 */
int matcher_ranges(struct matcher *m, struct matcher_scratch *s, const uint8_t *line, size_t len,
		   enum matcher_text text, struct match_range *out, size_t max, size_t *n);

/*
 * Whether a caller may leave a document unclassified (pass MATCHER_TEXT_UNKNOWN or any class)
 * without paying for a pass over it: a literal pattern's bytes mean the same in every class, and
 * a pattern with a required string classifies only the lines holding that string.
 */
bool matcher_is_text_blind(const struct matcher *m);

/*
 * The string the pattern is, when it is a plain literal (line anchors at its edges allowed): its
 * bytes, else NULL. *lit_flags gets its enum regex_literal_flags: with REGEX_LITERAL_ICASE the
 * bytes are lower case, to be compared ASCII case-insensitively; with REGEX_LITERAL_WIDE that
 * finds only the matches written in ASCII (regex.h, regex_literal_wide).
 */
const char *matcher_literal(const struct matcher *m, size_t *len, unsigned *lit_flags);

/* Whether this machine's Vectorscan AVX2/AVX-512 code is being avoided (see matcher.c). */
bool matcher_avoids_wide_simd(void);

#endif
