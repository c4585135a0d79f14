/*
 * Trigrams as the index and the planner both see them: three bytes, each folded to ASCII lower
 * case, packed into 24 bits (first byte highest). One index then serves case-sensitive and
 * case-insensitive search; verification decides case. Only ASCII letters fold: a non-ASCII byte
 * is kept as it is, so the planner must not assume Unicode case folding in the index.
 */
#ifndef TRAWL_UTIL_TRIGRAM_H
#define TRAWL_UTIL_TRIGRAM_H

#include <stdint.h>

#define TRIGRAM_SPACE (1u << 24)

static inline uint8_t trigram_fold(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* 1 for an upper-case ASCII letter (the bytes trigram_fold changes), without a branch. */
static inline uint32_t trigram_is_upper(uint8_t c)
{
	return (unsigned)c - 'A' < 26u;
}

static inline uint32_t trigram_make(uint8_t a, uint8_t b, uint8_t c)
{
	return ((uint32_t)trigram_fold(a) << 16) | ((uint32_t)trigram_fold(b) << 8) | trigram_fold(c);
}

#endif
