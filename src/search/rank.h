/*
 * Ranking's per-shard state: the definitions a shard's symbol index gives for the names a query
 * searches (docs/results.md, "Definitions"). The rest of rank.c's interface is in search_int.h
 * with the executor's other internals.
 */
#ifndef TRAWL_SEARCH_RANK_H
#define TRAWL_SEARCH_RANK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A line defining a name searched: where, and the points it earns (by the symbol's kind). */
struct rank_def {
	uint64_t key; /* (document id << 32) | line */
	uint8_t points;
};

/*
 * The lines of one shard that define a name the query searches, found once per query and
 * shard in its SYMBOLS section (rank_shard_defs). Without the section (is_from_symbols false)
 * definitions are recognized by rank_is_definition's heuristics instead.
 */
struct rank_defs {
	bool is_from_symbols;
	struct rank_def *v; /* by key, each key once (with the most points of its symbols) */
	size_t n, cap;
};

struct job;
struct worker;
struct shard;

/*
 * Sets j->defs for w's shard sh (the one shard j searches, already authorized): for each name
 * the query searches (a content pattern that is an identifier: rank_query_maxima), the
 * symbols of that name (exact, or ASCII case-insensitive as the pattern is), by binary search
 * of the section's names, each with the points its kind earns (RANK_DEFINITION, or
 * RANK_DEFINITION_MINOR for a member, a field, a data key, a label, ...). Nothing when the query searches no name or the shard has no
 * SYMBOLS section. The entries count against the query's memory limit (ELIMIT); ECORRUPT naming
 * the shard, ENOMEM. Freed by rank_defs_dispose.
 */
int rank_shard_defs(struct job *j, struct worker *w, const struct shard *sh);
void rank_defs_dispose(struct rank_defs *d);

#endif
