/*
 * The posting list codec: a strictly ascending list of document ids stored as the first id and
 * then the gaps to each next id, each as a canonical unsigned LEB128 varint of at most 5 bytes
 * (docs/index-format.md). Kept apart from the shard file code so it can be tested and replaced
 * on its own.
 */
#ifndef TRAWL_INDEX_POSTINGS_H
#define TRAWL_INDEX_POSTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/vec.h"

/* The most bytes one id takes: a list of n ids never needs more than n * POSTINGS_ID_MAX. */
#define POSTINGS_ID_MAX 5

/*
 * Encodes ids[0..n) into p, which has room for n * POSTINGS_ID_MAX bytes, and returns the bytes
 * used. The ids must be strictly ascending (the caller guarantees it; the writer's sort does).
 */
size_t postings_encode_raw(uint8_t *p, const uint32_t *ids, size_t n);

/* Appends the encoding of ids[0..n) to b. EINVAL when the ids are not strictly ascending. */
int postings_encode(struct buf *b, const uint32_t *ids, size_t n);

/*
 * Decodes the list in [p, p + len), which must hold exactly count ids, each below limit, and
 * appends them to out. ECORRUPT (a varint running past the end, an overlong or too large
 * varint, ids not strictly ascending or not below limit, a count or length mismatch) with a
 * message that does not name the file (the caller prefixes it), ENOMEM. On error out keeps its
 * old length.
 */
int postings_decode(struct u32vec *out, const uint8_t *p, size_t len, uint32_t count,
		    uint32_t limit);

#endif
