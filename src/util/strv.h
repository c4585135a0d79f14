/*
 * Sorted arrays of strings: the one bisection the index, the search's readable set and the
 * repository list use to find a name.
 */
#ifndef TRAWL_UTIL_STRV_H
#define TRAWL_UTIL_STRV_H

#include <stddef.h>
#include <string.h>

/* Where key is, or would go, in v[0..n) (sorted by strcmp): the first string not below it. */
static inline size_t strv_lower_bound(const char *const *v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The index of key in v[0..n) (sorted by strcmp, each string once), or n when absent. */
static inline size_t strv_find(const char *const *v, size_t n, const char *key)
{
	size_t at = strv_lower_bound(v, n, key);

	return at < n && strcmp(v[at], key) == 0 ? at : n;
}

#endif
