/*
 * The index worker's result (struct build_git_output) as worker messages (sandbox/wire.h), in
 * this order (docs/internals/sandbox.md, "Workers"):
 *
 *     WIRE_INDEX          u32 flags (1 incremental, 2 unchanged), u64 n_invalid,
 *                         u64 changed_files, u64 delta_shards, u32 n_branches, u32 n_shards,
 *                         u32 n_kept, u32 n_overlay, u64 n_base, u64 max_file_size, str name
 *     WIRE_INDEX_BRANCH   n_branches times: str name, str commit (hex), u32 flags (1 default,
 *                         2 reindexed)
 *     WIRE_INDEX_SHARD    n_shards times: str file name (the kept ones first)
 *     WIRE_INDEX_OVERLAY  runs of entries (u32 shard, u32 doc, u32 n, n x u32 branch) until
 *                         n_overlay entries came
 *     WIRE_END
 *
 * The receiver checks the order, every declared count against the limits below and against
 * what came, and each field's form; what the values mean for the index (names inside the work
 * directory, shards that verify) is build_commit's check.
 *
 * SECURITY: the overlay is checked entry by entry as it arrives, against the shards the index
 * lists for the repository (outwire_rx_expect): a result keeps all of them or none, an entry
 * names a document those shards have, each at most once (a bitmap of one bit per kept
 * document), on branches in ascending order among the result's. So the overlay can never hold more entries than the kept
 * shards have documents, and a header declaring more is refused before anything is allocated.
 * Memory held: one struct index_overlay per entry and the bitmap (bounds derived from the
 * repository) plus the branch lists, never larger than the bytes that came (WIRE_MAX_TOTAL a
 * run).
 */
#ifndef TRAWL_BUILD_OUTWIRE_H
#define TRAWL_BUILD_OUTWIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "build/build.h"
#include "sandbox/wire.h"

#define OUTWIRE_MAX_BRANCHES 16384u
#define OUTWIRE_MAX_SHARDS 16384u
#define OUTWIRE_MAX_OVERLAY (1u << 24)

/* Sends out on fd as the messages above, WIRE_END included. EIO, EINVAL, ELIMIT, ENOMEM. */
int outwire_send(int fd, const struct build_git_output *out);

struct outwire_rx {
	struct build_git_output out;
	uint32_t n_branches, n_shards, n_overlay; /* declared */
	size_t cap_overlay;
	uint32_t *old_docs;  /* documents of each shard the index lists now (outwire_rx_expect) */
	uint64_t *old_first; /* the number of shard i's first document among all of them */
	uint64_t *seen;      /* a bit per kept document: named by an overlay entry already */
	size_t n_old;        /* how many shards the index lists now */
	uint64_t max_overlay; /* the documents of all of them: the most entries an overlay has */
	size_t bytes_held;   /* bytes the overlay holds so far (entries and branch lists) */
	bool has_header, is_done;
};

/* An empty receiver that expects a repository the index does not hold yet (no kept shards). */
void outwire_rx_init(struct outwire_rx *rx);
/* Frees what rx holds (out included, its files untouched). */
void outwire_rx_dispose(struct outwire_rx *rx);

/*
 * Before the first message: the index lists n_old shards for the repository now, shard i
 * with n_docs[i] documents (copied). A result may then keep all n_old or none, and its overlay
 * may name only their documents. ENOMEM.
 */
int outwire_rx_expect(struct outwire_rx *rx, const uint32_t *n_docs, size_t n_old);

/*
 * Takes one message of the index worker's result: 1 when it was WIRE_END and the result is
 * complete (rx->out), 0 when more must come, ECORRUPT (out of order, malformed, more or fewer
 * than declared, kept shards or an overlay entry the expected shards do not allow), ELIMIT
 * (over a limit above, or an overlay declared larger than the kept shards' documents), ENOMEM.
 */
int outwire_rx_take(struct outwire_rx *rx, const struct wire_msg *m);

#endif
