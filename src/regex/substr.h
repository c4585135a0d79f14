/*
 * Substring search for literal patterns: the "generic SIMD" algorithm (as in Hyperscan's
 * noodle, the memchr crate and StringZilla). Two bytes of the needle, the rarest in source code
 * by a byte-frequency table, are compared at their offsets 16 or 32 candidate positions at a
 * time; only positions where both agree are compared in full.
 *
 * DESIGN: glibc's memmem (two-way) verifies from its own choice of byte and stalls on text full
 * of near-misses; on the Linux source a rare-pair filter rejects almost every position without
 * leaving the vector registers. x86-64 uses SSE2 (always present) or AVX2 when the CPU has it
 * (checked at run time); other machines use memmem. ASCII case folding (the matcher's
 * REGEX_LITERAL_ICASE) is one OR with 0x20 per compared letter.
 *
 * A struct substr borrows its needle and may be shared by threads (it is read-only after
 * substr_init).
 */
#ifndef TRAWL_REGEX_SUBSTR_H
#define TRAWL_REGEX_SUBSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct substr {
	const uint8_t *needle; /* borrowed; lower case when is_icase */
	size_t len;
	bool is_icase;         /* ASCII letters of the haystack compare case-folded */
	bool is_never;         /* is_icase with an upper-case needle byte: nothing matches */
	size_t i1, i2;         /* offsets of the two filter bytes (i1 == i2 for one byte) */
	uint8_t b1, b2;        /* the needle's bytes there */
	uint8_t f1, f2;        /* OR-ed into the haystack byte before comparing: 0x20 or 0 */
};

/*
 * Prepares a search for needle[0..len). With is_icase, a haystack byte matches a needle byte
 * when it equals it after A-Z are lowered (the needle must be lower case: an upper-case ASCII
 * letter in it can never match, as with the matcher's folded comparison).
 */
void substr_init(struct substr *s, const uint8_t *needle, size_t len, bool is_icase);

/*
 * The offset of the first occurrence of the needle in hay[0..len), or len when there is none
 * (an empty needle is found at 0).
 */
size_t substr_find(const struct substr *s, const uint8_t *hay, size_t len);

/*
 * substr_find, also telling whether the haystack holds a byte above 0x7f: when *is_high is false,
 * hay[0..r) is ASCII (r the offset returned); when true, such a byte occurs, most often before
 * r, sometimes in the next 64 bytes or so. With AVX2 this costs one OR per 32 bytes inside the
 * search, not a second pass: a case-insensitive search with k or s needs it (matcher.c).
 */
size_t substr_find_ascii(const struct substr *s, const uint8_t *hay, size_t len, bool *is_high);

/* Which code substr_find_with runs, so that tests reach every path on any machine. */
enum substr_path {
	SUBSTR_BEST,   /* what substr_find uses: AVX2 if the CPU has it, else SSE2 */
	SUBSTR_SSE2,   /* SSE2 even where AVX2 exists (no SIMD off x86-64: memmem) */
	SUBSTR_SCALAR, /* one position at a time */
};

/* substr_find with a chosen code path (tests and benchmarks). */
size_t substr_find_with(const struct substr *s, const uint8_t *hay, size_t len,
			enum substr_path path);

/* substr_find_ascii with a chosen code path (tests). */
size_t substr_find_ascii_with(const struct substr *s, const uint8_t *hay, size_t len,
			      bool *is_high, enum substr_path path);

#endif
