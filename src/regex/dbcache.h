/*
 * A per-user cache of compiled Vectorscan databases on disk, so that a pattern whose Unicode
 * tables take tens of milliseconds to compile is compiled once, not on every `trawl search`.
 *
 * An entry stores the exact pattern text, flags and Vectorscan version it was compiled from and
 * is used only when all three match, so a hash collision can never hand back another pattern's
 * database. The directory is $TRAWL_CACHE_DIR, else $XDG_CACHE_HOME/trawl/hs, else
 * ~/.cache/trawl/hs; TRAWL_CACHE_DIR=off disables it. Failures to read or write are ignored:
 * the cache only ever saves time.
 */
#ifndef TRAWL_REGEX_DBCACHE_H
#define TRAWL_REGEX_DBCACHE_H

#include <hs/hs.h>
#include <stddef.h>

/* The cached database for (pattern, flags), or NULL. */
hs_database_t *dbcache_load(const char *pattern, size_t len, unsigned flags);
/* Stores db for (pattern, flags); best effort. */
void dbcache_store(const char *pattern, size_t len, unsigned flags, const hs_database_t *db);

#endif
