/*
 * Unsigned LEB128 varints (7 bits a byte, low bits first), as in protobuf and codesearch.
 * Decoding is bounds-checked because the bytes usually come from a shard file.
 */
#ifndef TRAWL_UTIL_VARINT_H
#define TRAWL_UTIL_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX 10

/* Writes n into p (room for VARINT_MAX bytes) and returns the bytes used. */
static inline size_t varint_put(uint8_t *p, uint64_t n)
{
	size_t i = 0;

	while (n >= 0x80) {
		p[i++] = (uint8_t)(n | 0x80);
		n >>= 7;
	}
	p[i++] = (uint8_t)n;
	return i;
}

/*
 * Reads one varint from [*p, end) into *out and advances *p. Returns 0, or -1 when the input
 * ends inside the varint or the value does not fit 64 bits (the caller reports ECORRUPT).
 */
static inline int varint_get(uint64_t *out, const uint8_t **p, const uint8_t *end)
{
	const uint8_t *q = *p;
	uint64_t v = 0;
	unsigned shift = 0;

	while (q < end) {
		uint8_t c = *q++;

		if (shift == 63 && c > 1)
			return -1;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			*p = q;
			return 0;
		}
		shift += 7;
		if (shift > 63)
			return -1;
	}
	return -1;
}

#endif
