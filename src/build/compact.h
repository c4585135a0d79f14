/*
 * Compaction: the shards of many small repositories packed into compound ones
 * (docs/index-format.md, "REPOS"; docs/internals/compaction.md), so that an index of thousands of
 * synced repositories has about as many files as its content needs, not one or more per
 * repository, and its searches, memory and verification cost what the content costs.
 *
 * A repository is packed when every file its MANIFEST entry lists holds it alone, or is a
 * compound file under half of o->target_bytes (so that successive syncs' small files merge) or
 * at most half of whose documents are still listed (the rest belong to repositories re-indexed
 * or removed since), and its share of them is at most o->small_bytes.
 * Its live documents (the overlay applied) are copied with their content, their branches (onto
 * the union of the file's branch names) and their symbols (copied: ctags never runs here). Its
 * new entry lists the compound file only, with the same branches and commits and no overlay.
 *
 * Repositories are packed in groups that agree on having branches and symbols, of about
 * o->target_bytes and at most 64 branch names each, written when it puts several repositories'
 * files into fewer or empties a sparse file (a repository alone keeps its own shards, deltas
 * too: packing it would make its next change a full re-index); a group is one file and one
 * commit, which expects every entry as it was read: a repository re-indexed meanwhile fails the
 * commit, its file is removed, and the next run tries again. Trusted code (trawl sync, after its
 * workers): it reads shards that trawl verified and writes through the shard writer.
 */
#ifndef TRAWL_BUILD_COMPACT_H
#define TRAWL_BUILD_COMPACT_H

#include <stddef.h>
#include <stdint.h>

#define COMPACT_SMALL_BYTES ((uint64_t)8 << 20)    /* a repository packed: its files' bytes */
#define COMPACT_TARGET_BYTES ((uint64_t)100 << 20) /* a compound file's, about */

struct compact_opts {
	uint64_t small_bytes;  /* 0: COMPACT_SMALL_BYTES */
	uint64_t target_bytes; /* 0: COMPACT_TARGET_BYTES */
	/*
	 * Repositories left exactly as they are, sorted (strcmp): trawl sync's failed ones, whose
	 * index a failed sync promises not to touch.
	 */
	const char *const *keep;
	size_t n_keep;
};

struct compact_stats {
	size_t repos;        /* repositories packed */
	size_t files;        /* compound files written */
	size_t files_before; /* the distinct files they listed before */
};

/*
 * Packs the small repositories of the index at index_dir (above); nothing to do is success.
 * Takes WRITERS for its run. EIO (a disk error, named), ENOMEM, ECORRUPT (a shard that does
 * not read); what was committed before an error stays committed.
 */
int build_compact(struct compact_stats *st, const char *index_dir, const struct compact_opts *o);

#endif
