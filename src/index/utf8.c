/* UTF-8 validation; see utf8.h. */
#include "index/utf8.h"

#include <string.h>

#define HIGH_BITS 0x8080808080808080ull

static inline bool is_cont(uint8_t c)
{
	return (c & 0xc0) == 0x80;
}

bool utf8_is_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c, c1;

		/* Source code is mostly ASCII: skip it 16 bytes per step. */
		while (n - i >= 16) {
			uint64_t a, b;

			memcpy(&a, p + i, 8);
			memcpy(&b, p + i + 8, 8);
			if ((a | b) & HIGH_BITS)
				break;
			i += 16;
		}
		if (i == n)
			break;
		c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			if (n - i < 2 || !is_cont(p[i + 1]))
				return false;
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			if (n - i < 3)
				return false;
			c1 = p[i + 1];
			if (!is_cont(c1) || !is_cont(p[i + 2]))
				return false;
			if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f))
				return false; /* overlong, or a UTF-16 surrogate */
			i += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			if (n - i < 4)
				return false;
			c1 = p[i + 1];
			if (!is_cont(c1) || !is_cont(p[i + 2]) || !is_cont(p[i + 3]))
				return false;
			if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))
				return false; /* overlong, or above U+10FFFF */
			i += 4;
		} else {
			return false;
		}
	}
	return true;
}
