/*
 * Growing a plain array (pointer plus capacity) with checked sizes: every hand-written
 * "if (n == cap) { cap *= 2; realloc(...) }" becomes one call that cannot overflow the byte count
 * and reports failure as a TRAWL_E* code with its message set.
 */
#ifndef TRAWL_UTIL_ARRAY_H
#define TRAWL_UTIL_ARRAY_H

#include <stddef.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Makes *p (an array of *cap elements of elem bytes, NULL when *cap is 0) hold at least need
 * elements. The capacity doubles (from 8) until it does, so pushing one element at a time costs
 * amortized constant time. On failure *p and *cap are unchanged. ELIMIT when need * elem is
 * over PTRDIFF_MAX bytes (or elem is 0), ENOMEM.
 */
int array_grow(void **p, size_t *cap, size_t need, size_t elem);

/*
 * array_grow() for a typed pointer: ARRAY_GROW(&w->v, &w->cap, w->n + 1). The element size comes
 * from the pointer's type, so it cannot disagree with it.
 */
#define ARRAY_GROW(pp, cap, need) array_grow((void **)(pp), (cap), (need), sizeof(**(pp)))

#endif
