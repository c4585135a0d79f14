/*
 * Fixed-size bitsets over arrays of uint64_t words (the branches of a repository: bit b is
 * branch b of its index entry). The caller owns the words and knows their count; bits at or past
 * n_words * 64 are ignored by bitset_set and read as clear.
 */
#ifndef TRAWL_UTIL_BITSET_H
#define TRAWL_UTIL_BITSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BITSET_WORD_BITS 64

/* Words needed for n bits (at least one, so that an empty set is still an array). */
static inline size_t bitset_words(size_t n)
{
	return n ? (n + BITSET_WORD_BITS - 1) / BITSET_WORD_BITS : 1;
}

static inline void bitset_clear_all(uint64_t *set, size_t n_words)
{
	memset(set, 0, n_words * sizeof(*set));
}

/* Sets bit b when it fits in n_words words. */
static inline void bitset_set(uint64_t *set, size_t n_words, size_t b)
{
	if (b / BITSET_WORD_BITS < n_words)
		set[b / BITSET_WORD_BITS] |= (uint64_t)1 << (b % BITSET_WORD_BITS);
}

static inline bool bitset_test(const uint64_t *set, size_t n_words, size_t b)
{
	return b / BITSET_WORD_BITS < n_words &&
	       ((set[b / BITSET_WORD_BITS] >> (b % BITSET_WORD_BITS)) & 1);
}

/* Whether a and b have a bit in common. */
static inline bool bitset_intersects(const uint64_t *a, const uint64_t *b, size_t n_words)
{
	uint64_t any = 0;

	for (size_t k = 0; k < n_words; k++)
		any |= a[k] & b[k];
	return any != 0;
}

#endif
