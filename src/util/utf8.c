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

/* Cf (Unicode 15.1; tests/unit/util/test_utf8.c checks it against the regex tables), Zl, Zp. */
static const uint32_t hidden[][2] = {
	{ 0xad, 0xad },	      { 0x600, 0x605 },	    { 0x61c, 0x61c },	  { 0x6dd, 0x6dd },
	{ 0x70f, 0x70f },     { 0x890, 0x891 },	    { 0x8e2, 0x8e2 },	  { 0x180e, 0x180e },
	{ 0x200b, 0x200f },   { 0x2028, 0x202e },   { 0x2060, 0x2064 },	  { 0x2066, 0x206f },
	{ 0xfeff, 0xfeff },   { 0xfff9, 0xfffb },   { 0x110bd, 0x110bd }, { 0x110cd, 0x110cd },
	{ 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 },
	{ 0xe0020, 0xe007f },
};

bool utf8_is_hidden(uint32_t cp)
{
	size_t lo = 0, hi = sizeof(hidden) / sizeof(hidden[0]);

	if (cp < 0xad)
		return false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < hidden[mid][0])
			hi = mid;
		else if (cp > hidden[mid][1])
			lo = mid + 1;
		else
			return true;
	}
	return false;
}
