/* Checked array growth; see array.h. */
#include "util/array.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/error.h"

#define ARRAY_MIN_CAP 8

int array_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t cap2, bytes, max;
	void *q;

	if (need <= *cap)
		return 0;
	/* No object may be larger than PTRDIFF_MAX bytes: pointer differences inside it overflow. */
	max = elem ? (size_t)PTRDIFF_MAX / elem : 0;
	if (need > max) {
		error_set("an array of %zu entries of %zu bytes is too large", need, elem);
		return TRAWL_ELIMIT;
	}
	cap2 = *cap < ARRAY_MIN_CAP ? ARRAY_MIN_CAP : *cap;
	while (cap2 < need)
		cap2 = cap2 > max / 2 ? need : cap2 * 2;
	if (cap2 > max)
		cap2 = need;
	bytes = cap2 * elem;
	if (!(q = realloc(*p, bytes))) {
		error_set("out of memory growing an array to %zu entries of %zu bytes", cap2, elem);
		return TRAWL_ENOMEM;
	}
	*p = q;
	*cap = cap2;
	return 0;
}
