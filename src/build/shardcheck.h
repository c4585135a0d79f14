/*
 * Shard verification that remembers what it verified: `trawl sync` checks every shard of a
 * repository (shard_verify: every checksum, every posting list) before it indexes the
 * repository again, so that a damaged shard is re-indexed instead of built on; for a large
 * repository that is a full read of its shards on every sync. A record file keeps, per shard
 * file verified, its identity (device, inode, size, modification and change times) and its
 * header checksum; a file whose identity and checksum are unchanged is not read again.
 *
 * DESIGN: the identity is what git's index uses to tell an unchanged file (stat data), with
 * the change time, which no process can set, and the header checksum, which covers every
 * section's checksum. A file that changed within SHARDCHECK_SETTLE_S of its verification (the
 * file systems' time stamps are coarse, so a write in the same tick would leave them equal) is
 * verified but not recorded, like git's "racily clean" entries. The record is a cache: a
 * missing, damaged or oversized one is ignored (everything is verified again), and a shard
 * whose record matches is still opened and its header, table of sections and small sections
 * checked (shard_open), and every reader decodes it with bounds checks.
 */
#ifndef TRAWL_BUILD_SHARDCHECK_H
#define TRAWL_BUILD_SHARDCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHARDCHECK_SETTLE_S 2
#define SHARDCHECK_MAX_BYTES ((size_t)32 << 20) /* a larger record is ignored */

struct shardcheck_rec {
	char *name; /* the shard's file name in the index directory */
	uint64_t dev, ino, size;
	int64_t mtime_s, ctime_s;
	int64_t mtime_ns, ctime_ns;
	uint32_t crc;
};

struct shardcheck {
	char *path;
	struct shardcheck_rec *v; /* sorted by name, each once */
	size_t n, cap;
	bool is_dirty;
	int settle_s;                 /* SHARDCHECK_SETTLE_S (a test may lower it) */
	size_t n_verified, n_skipped; /* by shardcheck_verify since it was opened */
};

/*
 * Reads the record at path into sc (dispose it); a missing or unreadable record is an empty
 * one (said on stderr when it is damaged). Removes the temporary files a killed writer left
 * beside it: the caller must be the record's only writer. ENOMEM.
 */
int shardcheck_open(struct shardcheck *sc, const char *path);
void shardcheck_dispose(struct shardcheck *sc);

/*
 * Opens and verifies the shard index_dir/name (shard_open, shard_verify) unless the record
 * holds this very file as verified, when only shard_open runs. Records it when it verified and
 * had settled; forgets it when it does not verify. 0, or shard_open's and shard_verify's errors
 * (ECORRUPT, EIO, ENOTFOUND, ENOMEM) with their message.
 */
int shardcheck_verify(struct shardcheck *sc, const char *index_dir, const char *name);

/*
 * Writes the record back to its path (atomically) when it changed, without the files
 * index_dir no longer has. EIO, ENOMEM.
 */
int shardcheck_save(struct shardcheck *sc, const char *index_dir);

#endif
