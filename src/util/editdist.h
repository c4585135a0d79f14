/*
 * The "did you mean" distance, for unknown filter names, languages and the like. The rule is the
 * optimal string alignment distance (Levenshtein plus swapping two neighbours, so "pyhton" and
 * "fiel" are one step from "python" and "file"), ASCII letters compared without case, and a
 * suggestion is only offered within editdist_limit() of the input's length, so that a short
 * word is not "close" to every other short word.
 */
#ifndef TRAWL_UTIL_EDITDIST_H
#define TRAWL_UTIL_EDITDIST_H

#include <stddef.h>

/* Longer strings are never close to anything (the work is bounded by its square). */
#define EDITDIST_MAX 64

/*
 * The distance between a[0..n_a) and b[0..n_b), or limit + 1 as soon as it is certain to be
 * over limit (also when either string is longer than EDITDIST_MAX).
 */
size_t editdist(const char *a, size_t n_a, const char *b, size_t n_b, size_t limit);

/*
 * How far a suggestion may be from an input of len bytes: 0 (no suggestion) below three letters,
 * then about one edit per three letters, at most 3.
 */
size_t editdist_limit(size_t len);

#endif
