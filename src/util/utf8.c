/* UTF-8 validation over whole texts; see utf8.h. */
#include "util/utf8.h"

#include <string.h>

#define HIGH_BITS 0x8080808080808080ull

size_t utf8_invalid_at(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t k;

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
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_decode(&cp, p + i, n - i)) == 0)
			return i;
		i += k;
	}
	return n;
}

bool utf8_is_valid(const uint8_t *p, size_t n)
{
	return utf8_invalid_at(p, n) == n;
}
