/*
 * The exact line verifier: decides whether one line matches a parsed regex, for the constructs
 * Vectorscan cannot express exactly: a Unicode \b or \B that is not at an edge of the pattern
 * (Vectorscan's \b knows ASCII word characters only) and a `^` or `$` inside a repetition. For
 * those the emitter writes a pattern that finds a superset of the matching lines
 * (REGEX_EMIT_VERIFY) and the matcher hands each line it finds to verify_line().
 *
 * DESIGN: a Thompson NFA over code points, simulated as a set of states (no backtracking), so
 * a line of n bytes costs O(n * program size); the program is bounded by VERIFY_MAX_INSTS.
 * Invalid UTF-8 is read one byte at a time as a character that no class or literal matches and
 * that is not a word character, as ripgrep reads it.
 *
 * A verifier is immutable once built and may be used by many threads at once.
 */
#ifndef TRAWL_REGEX_VERIFY_H
#define TRAWL_REGEX_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "regex/regex.h"

/* The largest program (NFA states) a verifier is built with. */
#define VERIFY_MAX_INSTS (1u << 18)

struct verifier;

/*
 * Builds the verifier of re, which must outlive it. ELIMIT (with a message) when the program
 * would pass VERIFY_MAX_INSTS, ENOMEM.
 */
int verifier_new(struct verifier **out, const struct regex *re);
void verifier_free(struct verifier *v);

/*
 * Whether line[0..len) (no '\n' inside; ^ and $ are its ends) holds a match: 1 or 0. A long
 * line under a large pattern takes time, so deadline_ms (CLOCK_MONOTONIC milliseconds, 0 for
 * none; the query's) is checked as it goes: ETIMEOUT once it has passed. ENOMEM.
 */
int verify_line(const struct verifier *v, const uint8_t *line, size_t len, double deadline_ms);

#endif
