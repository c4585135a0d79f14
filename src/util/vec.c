/* Growable uint32_t arrays; see vec.h. */
#include "util/vec.h"

#include <stdlib.h>

#include "util/error.h"

void u32vec_init(struct u32vec *a)
{
	a->v = NULL;
	a->len = 0;
	a->cap = 0;
}

void u32vec_dispose(struct u32vec *a)
{
	free(a->v);
	u32vec_init(a);
}

int u32vec_reserve(struct u32vec *a, size_t n)
{
	size_t need, cap;
	uint32_t *p;

	if (__builtin_add_overflow(a->len, n, &need) || need > SIZE_MAX / sizeof(uint32_t) / 2) {
		error_set("array too large");
		return TRAWL_ELIMIT;
	}
	if (need <= a->cap)
		return 0;
	cap = a->cap ? a->cap : 16;
	while (cap < need)
		cap *= 2;
	p = realloc(a->v, cap * sizeof(*p));
	if (!p) {
		error_set("out of memory growing an array to %zu entries", cap);
		return TRAWL_ENOMEM;
	}
	a->v = p;
	a->cap = cap;
	return 0;
}

int u32vec_push(struct u32vec *a, uint32_t x)
{
	int err;

	if (a->len == a->cap && (err = u32vec_reserve(a, 1)) < 0)
		return err;
	a->v[a->len++] = x;
	return 0;
}
