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
	bool has_header, is_done;
};

void outwire_rx_init(struct outwire_rx *rx);
/* Frees what rx holds (out included, its files untouched). */
void outwire_rx_dispose(struct outwire_rx *rx);

/*
 * Takes one message of the index worker's result: 1 when it was WIRE_END and the result is
 * complete (rx->out), 0 when more must come, ECORRUPT (out of order, malformed, more or fewer
 * than declared), ELIMIT (over a limit above), ENOMEM.
 */
int outwire_rx_take(struct outwire_rx *rx, const struct wire_msg *m);

#endif
