/* The "did you mean" distance; see editdist.h. */
#include "util/editdist.h"

#include <stdint.h>

static char fold(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static uint8_t min_u8(uint8_t a, uint8_t b)
{
	return a < b ? a : b;
}

size_t editdist(const char *a, size_t n_a, const char *b, size_t n_b, size_t limit)
{
	uint8_t rows[3][EDITDIST_MAX + 1];
	uint8_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *spare;

	if (n_a > EDITDIST_MAX || n_b > EDITDIST_MAX || (n_a > n_b ? n_a - n_b : n_b - n_a) > limit)
		return limit + 1;
	for (size_t j = 0; j <= n_b; j++)
		prev[j] = (uint8_t)j;
	for (size_t i = 1; i <= n_a; i++) {
		uint8_t row_min;

		cur[0] = (uint8_t)i;
		row_min = cur[0];
		for (size_t j = 1; j <= n_b; j++) {
			uint8_t d = (uint8_t)(prev[j - 1] + (fold(a[i - 1]) != fold(b[j - 1])));

			d = min_u8(d, (uint8_t)(prev[j] + 1));
			d = min_u8(d, (uint8_t)(cur[j - 1] + 1));
			if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
			    fold(a[i - 2]) == fold(b[j - 1]))
				d = min_u8(d, (uint8_t)(prev2[j - 2] + 1));
			cur[j] = d;
			row_min = min_u8(row_min, d);
		}
		if (row_min > limit)
			return limit + 1;
		spare = prev2;
		prev2 = prev;
		prev = cur;
		cur = spare;
	}
	return prev[n_b] > limit ? limit + 1 : prev[n_b];
}

size_t editdist_limit(size_t len)
{
	if (len < 3)
		return 0;
	if (len <= 5)
		return 1;
	if (len <= 8)
		return 2;
	return 3;
}
