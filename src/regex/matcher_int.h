/*
 * The matcher's scan callbacks, shared with its unit tests: where every position Vectorscan
 * reports is checked against the text it scanned before anything uses it. Only src/regex/
 * (and its tests) includes this.
 */
#ifndef TRAWL_REGEX_MATCHER_INT_H
#define TRAWL_REGEX_MATCHER_INT_H

#include <stddef.h>

#include "regex/matcher.h"

/* The state of one line scan (scan_lines): each match ending becomes its line. */
struct line_scan {
	const uint8_t *data;
	size_t len;
	size_t scan_len; /* what Vectorscan scanned: len, or more when padded (scan_padded) */
	size_t base;     /* data's offset in the text the caller's positions refer to */
	size_t next_min; /* positions before this belong to lines already reported */
	size_t n_bad;    /* matches the engine reported outside what it scanned */
	matcher_line_fn fn;
	void *arg;
};

/* The state of one match-range scan (matcher_ranges). */
struct range_scan {
	struct match_range *r;
	size_t n;
	size_t max;
	size_t len;      /* of the line: later matches are in the padding */
	size_t scan_len; /* what Vectorscan scanned */
	size_t n_bad;    /* matches the engine reported outside what it scanned */
};

/*
 * SECURITY: Vectorscan's callbacks. A database is trusted input to Vectorscan, but a damaged
 * one (a forged cache entry, dbcache.h) can report any offsets; trawl's callers index the text
 * with them. A match ending in the padding of a short text is dropped as usual; one that ends
 * past what was scanned, or starts after its end, is dropped and counted in n_bad, which the
 * scan then reports as an engine error (matcher_scan_status). They return 0 to go on, 1 to stop.
 */
int matcher_line_event(unsigned int id, unsigned long long from, unsigned long long to,
		       unsigned int flags, void *ctx);
int matcher_range_event(unsigned int id, unsigned long long from, unsigned long long to,
			unsigned int flags, void *ctx);

/*
 * The result of a scan that returned hs_result with n_bad matches dropped as out of its text:
 * 0, or EIO with a message when Vectorscan failed or reported a match outside the text.
 */
int matcher_scan_status(int hs_result, size_t n_bad);

#endif
