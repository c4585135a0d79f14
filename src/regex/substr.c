/*
 * Substring search with a SIMD rare-byte-pair filter; see substr.h for the design.
 */
#include "regex/substr.h"

#include <string.h>

#if defined(__x86_64__) && defined(__SSE2__)
#include <immintrin.h>
#define SUBSTR_X86 1
#endif

/*
 * Each byte's frequency rank in source code, 0 for the rarest and 255 for the most common:
 * counted over every 15th file of the Linux 6.1 tree (69 MB; bytes never seen ranked by value).
 * Only the order matters, and a poor pick costs speed, never correctness.
 */
static const uint8_t byte_rank[256] = {
	  0,   1,   2,   3,   4,   5,   6,   7,   8, 251, 250,   9,  79,  10,  11,  12,
	 13,  14,  15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25,  26,  27,  28,
	255, 168, 199, 200, 164, 170, 184, 165, 223, 224, 226, 173, 235, 216, 201, 207,
	244, 212, 208, 198, 194, 186, 192, 181, 193, 178, 185, 225, 179, 210, 206, 157,
	167, 230, 203, 232, 222, 236, 209, 202, 195, 228, 161, 187, 219, 217, 218, 214,
	220, 175, 229, 231, 233, 204, 191, 182, 190, 180, 169, 177, 171, 176, 144, 254,
	163, 245, 213, 242, 243, 253, 239, 215, 221, 249, 166, 205, 240, 234, 246, 241,
	237, 183, 248, 247, 252, 238, 211, 197, 227, 196, 174, 188, 172, 189, 159,  75,
	155, 124, 145, 125, 146, 136, 115, 127, 140, 135, 111, 133, 151, 121,  98, 143,
	112,  99,  87,  90, 114, 122, 132,  96, 110, 130, 149, 120, 148,  88,  97, 107,
	131, 129, 102, 100, 108, 117, 119, 105, 147, 106, 103,  94,  93, 128, 126, 138,
	123, 109,  95,  91,  92,  89, 113, 101, 152, 104, 142, 141, 150, 137, 118, 116,
	 29,  30,  84,  86,  77,  83,  76,  31,  32,  33,  34,  35,  36,  37,  80,  78,
	 82,  81,  38,  39,  40,  41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51,
	 52,  53,  85, 134, 156, 162, 160, 158, 154, 153,  54,  55,  56,  57,  58, 139,
	 59,  60,  61,  62,  63,  64,  65,  66,  67,  68,  69,  70,  71,  72,  73,  74,
};

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool is_lower_letter(uint8_t c)
{
	return c >= 'a' && c <= 'z';
}

/* How common the needle byte c is in text: under case folding both of its cases count. */
static unsigned rank_of(uint8_t c, bool is_icase)
{
	unsigned r = byte_rank[c];

	if (is_icase && is_lower_letter(c) && byte_rank[c - 32] > r)
		r = byte_rank[c - 32];
	return r;
}

/* The order in which offset i is preferred as the second filter byte: rare, and unlike best's. */
static unsigned pair_key(const struct substr *s, size_t i, size_t best)
{
	return rank_of(s->needle[i], s->is_icase) + (s->needle[i] == s->needle[best] ? 256 : 0);
}

void substr_init(struct substr *s, const uint8_t *needle, size_t len, bool is_icase)
{
	size_t best = 0, second = SIZE_MAX;

	*s = (struct substr){ .needle = needle, .len = len, .is_icase = is_icase };
	if (len == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		if (is_icase && needle[i] >= 'A' && needle[i] <= 'Z')
			s->is_never = true;
		if (rank_of(needle[i], is_icase) < rank_of(needle[best], is_icase))
			best = i;
	}
	/* The second byte: the rarest other value, else (one repeated byte) another offset. */
	for (size_t i = 0; i < len; i++)
		if (i != best && (second == SIZE_MAX || pair_key(s, i, best) < pair_key(s, second, best)))
			second = i;
	if (second == SIZE_MAX)
		second = best;
	s->i1 = best < second ? best : second;
	s->i2 = best < second ? second : best;
	s->b1 = needle[s->i1];
	s->b2 = needle[s->i2];
	s->f1 = is_icase && is_lower_letter(s->b1) ? 0x20 : 0;
	s->f2 = is_icase && is_lower_letter(s->b2) ? 0x20 : 0;
}

/* Whether the needle occurs at h (which has at least s->len bytes). */
static bool match_at(const struct substr *s, const uint8_t *h)
{
	if (!s->is_icase)
		return memcmp(h, s->needle, s->len) == 0;
	for (size_t i = 0; i < s->len; i++)
		if (lower(h[i]) != s->needle[i])
			return false;
	return true;
}

/* Candidate positions from pos to len - s->len, one at a time: the tail of a vector search. */
static size_t find_scalar(const struct substr *s, const uint8_t *h, size_t len, size_t pos)
{
	for (size_t last = len - s->len; pos <= last; pos++)
		if ((uint8_t)(h[pos + s->i1] | s->f1) == s->b1 &&
		    (uint8_t)(h[pos + s->i2] | s->f2) == s->b2 && match_at(s, h + pos))
			return pos;
	return len;
}

/*
 * Checks the candidate positions p + (set bits of mask): the first match, len when none, or
 * SIZE_MAX to go on with the next block. A candidate past the last possible start ends the
 * search, since later ones are further still.
 */
static size_t check_mask(const struct substr *s, const uint8_t *h, size_t len, size_t p,
			 uint32_t mask)
{
	while (mask) {
		size_t q = p + (size_t)__builtin_ctz(mask);

		if (q > len - s->len)
			return len;
		if (match_at(s, h + q))
			return q;
		mask &= mask - 1;
	}
	return SIZE_MAX;
}

#ifdef SUBSTR_X86
/* 16 positions per step: SSE2 is part of x86-64, so this runs everywhere. */
static size_t find_sse2(const struct substr *s, const uint8_t *h, size_t len)
{
	const __m128i b1 = _mm_set1_epi8((char)s->b1), b2 = _mm_set1_epi8((char)s->b2);
	const __m128i f1 = _mm_set1_epi8((char)s->f1), f2 = _mm_set1_epi8((char)s->f2);
	size_t p = 0, r;

	/* Loads reach p + i2 + 15, which must stay inside the haystack. */
	for (; s->i2 + 16 <= len - p; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(h + p + s->i1));
		__m128i y = _mm_loadu_si128((const __m128i *)(const void *)(h + p + s->i2));
		__m128i eq = _mm_and_si128(_mm_cmpeq_epi8(_mm_or_si128(x, f1), b1),
					   _mm_cmpeq_epi8(_mm_or_si128(y, f2), b2));
		uint32_t mask = (uint32_t)_mm_movemask_epi8(eq);

		if (mask && (r = check_mask(s, h, len, p, mask)) != SIZE_MAX)
			return r;
	}
	return find_scalar(s, h, len, p);
}

/*
 * 64 positions per step (two 32-byte blocks), on CPUs with AVX2. The inner loop makes no call:
 * with check_mask() inside it, GCC kept the four constant vectors on the stack and reloaded
 * them every step (a call clobbers every vector register), which made the scan a third slower.
 *
 * With track, the bytes the first filter byte's loads cover, h[i1 .. *covered), are OR-ed
 * together on the way, and *high gets the sign bits: a byte above 0x7f among them
 * (substr_find_ascii). The two copies (track constant) compile apart.
 */
__attribute__((target("avx2"), always_inline)) static inline size_t
find_avx2_impl(const struct substr *s, const uint8_t *h, size_t len, bool track, size_t *covered,
	       bool *high)
{
	const __m256i b1 = _mm256_set1_epi8((char)s->b1), b2 = _mm256_set1_epi8((char)s->b2);
	const __m256i f1 = _mm256_set1_epi8((char)s->f1), f2 = _mm256_set1_epi8((char)s->f2);
	const size_t i1 = s->i1, i2 = s->i2;
	__m256i acc = _mm256_setzero_si256();
	size_t p = 0, r = SIZE_MAX, tracked = 0; /* blocks before tracked were OR-ed into acc */

	while (i2 + 64 <= len - p) {
		__m256i e0, e1;
		uint32_t m0, m1;

		for (;;) {
			const uint8_t *x = h + p + i1, *y = h + p + i2;
			__m256i x0 = _mm256_loadu_si256((const void *)x);
			__m256i x1 = _mm256_loadu_si256((const void *)(x + 32));

			if (track)
				acc = _mm256_or_si256(acc, _mm256_or_si256(x0, x1));
			e0 = _mm256_and_si256(
				_mm256_cmpeq_epi8(_mm256_or_si256(x0, f1), b1),
				_mm256_cmpeq_epi8(_mm256_or_si256(_mm256_loadu_si256((const void *)y), f2),
						  b2));
			e1 = _mm256_and_si256(
				_mm256_cmpeq_epi8(_mm256_or_si256(x1, f1), b1),
				_mm256_cmpeq_epi8(
					_mm256_or_si256(_mm256_loadu_si256((const void *)(y + 32)), f2), b2));
			if (!_mm256_testz_si256(_mm256_or_si256(e0, e1), _mm256_or_si256(e0, e1)))
				break;
			p += 64;
			if (i2 + 64 > len - p)
				goto tail;
		}
		m0 = (uint32_t)_mm256_movemask_epi8(e0);
		m1 = (uint32_t)_mm256_movemask_epi8(e1);
		if (m0 && (r = check_mask(s, h, len, p, m0)) != SIZE_MAX)
			break;
		if (m1 && (r = check_mask(s, h, len, p + 32, m1)) != SIZE_MAX)
			break;
		p += 64;
	}
	if (r != SIZE_MAX) {
		tracked = p + 64; /* the block holding the match was covered */
		goto out;
	}
tail:
	tracked = p;
	for (; s->i2 + 32 <= len - p; p += 32) {
		__m256i e = _mm256_and_si256(
			_mm256_cmpeq_epi8(
				_mm256_or_si256(_mm256_loadu_si256((const void *)(h + p + s->i1)), f1), b1),
			_mm256_cmpeq_epi8(
				_mm256_or_si256(_mm256_loadu_si256((const void *)(h + p + s->i2)), f2), b2));
		uint32_t m = (uint32_t)_mm256_movemask_epi8(e);

		if (m && (r = check_mask(s, h, len, p, m)) != SIZE_MAX)
			goto out;
	}
	r = find_scalar(s, h, len, p);
out:
	if (track) {
		*covered = tracked > 0 ? tracked + i1 : 0;
		*high = !_mm256_testz_si256(acc, _mm256_set1_epi8((char)0x80));
	}
	return r;
}

__attribute__((target("avx2"))) static size_t find_avx2(const struct substr *s, const uint8_t *h,
							 size_t len)
{
	return find_avx2_impl(s, h, len, false, NULL, NULL);
}

__attribute__((target("avx2"))) static size_t find_avx2_track(const struct substr *s,
							       const uint8_t *h, size_t len,
							       size_t *covered, bool *high)
{
	return find_avx2_impl(s, h, len, true, covered, high);
}
#endif

size_t substr_find_with(const struct substr *s, const uint8_t *hay, size_t len,
			enum substr_path path)
{
	if (s->len == 0)
		return 0;
	if (s->len > len || s->is_never)
		return len;
	if (path == SUBSTR_SCALAR)
		return find_scalar(s, hay, len, 0);
	if (s->len == 1 && !s->is_icase) {
		const uint8_t *hit = memchr(hay, s->b1, len);

		return hit ? (size_t)(hit - hay) : len;
	}
#ifdef SUBSTR_X86
	if (path != SUBSTR_SSE2 && __builtin_cpu_supports("avx2"))
		return find_avx2(s, hay, len);
	return find_sse2(s, hay, len);
#else
	if (!s->is_icase) {
		const uint8_t *hit = memmem(hay, len, s->needle, s->len);

		return hit ? (size_t)(hit - hay) : len;
	}
	return find_scalar(s, hay, len, 0);
#endif
}

size_t substr_find(const struct substr *s, const uint8_t *hay, size_t len)
{
	return substr_find_with(s, hay, len, SUBSTR_BEST);
}

/* Whether p[from..to) holds a byte above 0x7f. */
static bool any_high(const uint8_t *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (p[i] & 0x80)
			return true;
	return false;
}

size_t substr_find_ascii_with(const struct substr *s, const uint8_t *hay, size_t len,
			      bool *is_high, enum substr_path path)
{
	size_t r, covered = 0;
	bool high = false;

#ifdef SUBSTR_X86
	if (path == SUBSTR_BEST && s->len > 1 && !s->is_never && s->len <= len &&
	    __builtin_cpu_supports("avx2")) {
		r = find_avx2_track(s, hay, len, &covered, &high);
		/* The loads covered hay[i1 .. covered): the edges around them are checked here. */
		*is_high = high || any_high(hay, 0, covered ? s->i1 : 0) ||
			   any_high(hay, covered, r < len ? r : len);
		return r;
	}
#endif
	r = substr_find_with(s, hay, len, path);
	*is_high = any_high(hay, 0, r < len ? r : len);
	return r;
}

size_t substr_find_ascii(const struct substr *s, const uint8_t *hay, size_t len, bool *is_high)
{
	return substr_find_ascii_with(s, hay, len, is_high, SUBSTR_BEST);
}
