/*
 * Compiled patterns shared between the queries of a process: the parsed regex, its trigram plan
 * and its matcher, keyed by the pattern text and flags.
 *
 * DESIGN: a server sees the same patterns again and again (a user refining a query, the UI's
 * stream and JSON requests, tools polling). Parsing, planning and emitting a pattern is pure
 * work on the pattern alone, and for a Unicode class such as \w it is a tenth of a selective
 * query's time (measured on `spin_lock_irqsave\(&\w+->lock`, docs/performance.md). A matcher is
 * already safe to share between threads (each uses its own scratch), a regex and a plan are
 * read only, so one compiled pattern serves every query that holds a reference. Nothing about
 * documents or results is kept here. Failures are not cached: a bad pattern is parsed again,
 * and its error message names the position each time.
 *
 * At most PATCACHE_ENTRIES patterns are kept; the least recently used one that no query holds
 * makes room, and when all are held a new pattern is the caller's alone. Thread-safe.
 */
#ifndef TRAWL_REGEX_PATCACHE_H
#define TRAWL_REGEX_PATCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "regex/matcher.h"
#include "regex/regex.h"
#include "regex/tquery.h"

#define PATCACHE_ENTRIES 32

struct pattern {
	struct regex *re;
	struct tq *plan; /* NULL unless asked for */
	struct matcher *m;
	/*
	 * With plan, for a wide literal (matcher_literal, REGEX_LITERAL_WIDE): the documents that
	 * may hold its matches with a form outside ASCII (regex_literal_variants); else NULL.
	 */
	struct tq *variants;
};

/*
 * The compiled pattern for pat[0..len) with regex flags (regex.h), planned when want_plan; from
 * the cache, or compiled now, by deadline_ms (CLOCK_MONOTONIC milliseconds, 0 for none; see
 * matcher_new), and offered to it. Errors are regex_parse()'s, regex_plan()'s and
 * matcher_new()'s, with their messages.
 */
int patcache_get(const struct pattern **out, const char *pat, size_t len, unsigned flags,
		 bool want_plan, double deadline_ms);

/* Gives back a reference from patcache_get; frees the pattern when the cache does not hold it. */
void patcache_release(const struct pattern *p);

/* Lookups answered from the cache and patterns compiled, since the process started. */
void patcache_stats(uint64_t *hits, uint64_t *compiled);

/* Empties the cache of patterns no query holds (tests; memory checkers see no leak at exit). */
void patcache_clear(void);

#endif
