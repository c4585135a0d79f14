/*
 * A per-user cache of compiled Vectorscan databases on disk, so that a pattern whose Unicode
 * tables take tens of milliseconds to compile is compiled once, not on every `trawl search`.
 *
 * An entry stores the exact pattern text, flags and Vectorscan version it was compiled from and
 * is used only when all three match, so a hash collision can never hand back another pattern's
 * database. (A keyed hash in place of the text would not hide the pattern: the database itself
 * holds its literals.) The directory is $TRAWL_CACHE_DIR, else $XDG_CACHE_HOME/trawl/hs, else
 * ~/.cache/trawl/hs; TRAWL_CACHE_DIR=off disables it. It is used only when it is a directory
 * of the effective user, not a symlink and not group- or world-writable, and each operation
 * reaches its entries through one descriptor of it. Failures to read or write are ignored:
 * the cache only ever saves time.
 *
 * The directory is kept under DBCACHE_DISK_BYTES ($TRAWL_CACHE_MAX_MB MiB if set) and entries unused for DBCACHE_DISK_AGE_S are
 * removed: a load sets the entry's mtime, and a sweep (every SWEEP_EVERY_STORES stores of a
 * process, or at a store when no process has swept for ten minutes) removes old entries, then
 * the least recently used ones while the total is over the cap. Entries are written to a
 * temporary file and renamed into place and a sweep only unlinks, so processes sharing the
 * directory never see half an entry.
 */
#ifndef TRAWL_REGEX_DBCACHE_H
#define TRAWL_REGEX_DBCACHE_H

#include <hs/hs.h>
#include <stddef.h>

/*
 * In front of the disk, a process-wide table in memory shares databases between the queries of
 * a server: a repeated query skips reading and deserializing its databases (a fifth of the time
 * of `spin_lock_irqsave\(&\w+->lock`, measured). Databases are immutable and Vectorscan scans
 * one from many threads at once, so a shared database needs only a reference count. At most
 * DBCACHE_MEM_ENTRIES databases of DBCACHE_MEM_BYTES in all are kept; the least recently used
 * one that no matcher holds makes room. Thread-safe.
 */
#define DBCACHE_MEM_ENTRIES 64
#define DBCACHE_MEM_BYTES ((size_t)64 << 20)

/* A reference to the database kept in memory for (pattern, flags), or NULL. */
hs_database_t *dbcache_mem_get(const char *pattern, size_t len, unsigned flags);

/*
 * Offers db, which the caller owns, to the memory table and returns the database to use: db
 * itself, or the one another thread put there first (then db is freed). Either way the caller
 * holds one reference, to be given back with dbcache_release. Never fails: a database that does
 * not fit stays the caller's alone.
 */
hs_database_t *dbcache_mem_put(const char *pattern, size_t len, unsigned flags, hs_database_t *db);

/* Gives back a reference from dbcache_mem_get/put; frees db if the table does not hold it. */
void dbcache_release(hs_database_t *db);

/* The cached database for (pattern, flags) on disk, or NULL. */
hs_database_t *dbcache_load(const char *pattern, size_t len, unsigned flags);
/* Stores db for (pattern, flags), sweeping when one is due; best effort. */
void dbcache_store(const char *pattern, size_t len, unsigned flags, const hs_database_t *db);

#define DBCACHE_DISK_BYTES ((size_t)256 << 20)
#define DBCACHE_DISK_AGE_S (30u * 24 * 3600)

/* Removes entries unused for the age limit, then least recently used ones over the size cap. */
void dbcache_sweep(void);

/*
 * The on-disk cache's directory (TRAWL_CACHE_DIR, else $XDG_CACHE_HOME/trawl/hs, else
 * ~/.cache/trawl/hs, with DBCACHE_SERVER_SUBDIR appended for DBCACHE_ROLE_SERVER), made when
 * missing, for a process that confines itself to the trees it names (sandbox/confine.h). NULL
 * when there is none (TRAWL_CACHE_DIR=off) or it cannot be made. The caller frees it.
 */
char *dbcache_dir(void);

/*
 * Whose cache a process uses. SECURITY: the confined server may write its cache, and a database
 * is trusted input to Vectorscan (a forged one can make a scan read out of bounds, spin or match
 * something else), so the server's is a directory of its own, DBCACHE_SERVER_SUBDIR inside the
 * user's cache directory, which no other trawl process loads; the server's sandbox lets it
 * write that directory only, never the one `trawl search` loads (docs/internals/regex.md, "The
 * compiled-pattern cache"). The default is DBCACHE_ROLE_CLI. Set it before any pattern is
 * compiled; not thread-safe.
 */
enum dbcache_role {
	DBCACHE_ROLE_CLI = 0,
	DBCACHE_ROLE_SERVER = 1,
};
#define DBCACHE_SERVER_SUBDIR "server"
void dbcache_set_role(enum dbcache_role role);

/*
 * Sets the size cap and age limit (0: the default, $TRAWL_CACHE_MAX_MB or DBCACHE_DISK_BYTES
 * for the cap); for tests. Not thread-safe.
 */
void dbcache_set_disk_limits(size_t max_bytes, unsigned max_age_s);

#endif
