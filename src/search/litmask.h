/*
 * Candidate documents of a literal string from posting masks (shard format 3,
 * docs/index-format.md): the trigram lists of the literal are intersected as the trigram query
 * would, and a document stays only if each trigram occurs in the document in the literal's case
 * class (a case-sensitive literal), at offsets that agree modulo 4 with the trigrams' places in
 * the literal; for a case-insensitive literal, in case classes that some choice of case for
 * each of its letters gives every trigram at once.
 *
 * DESIGN: folded trigrams made `CONFIG_DEBUG_ATOMIC_SLEEP` read 277 files (44 MB) of the Linux
 * tree for the 34 that hold it: large register headers hold every one of its trigrams in some
 * case somewhere. The masks cut that to 80 files (16 MB) without a positional index,
 * which would be several times the size of the content; they cost a byte per posting
 * (docs/index-format.md, "Posting masks").
 */
#ifndef TRAWL_SEARCH_LITMASK_H
#define TRAWL_SEARCH_LITMASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index/shard.h"
#include "util/vec.h"

/*
 * At most this many distinct trigrams (the rarest) are read: past them, a list costs more to
 * decode than the few documents it still removes. Fewer are read when the candidates left are
 * cheaper to verify than the next list is to decode (litmask.c).
 */
#define LITMASK_MAX_LISTS 12

/*
 * Appends to out (empty on entry) the ascending ids of sh's documents that may hold lit[0..len)
 * (lower case and ASCII case-insensitive when is_icase). Sets *is_used to false, leaving out
 * empty, when masks cannot help: a shard without them, or a literal under 3 bytes; the caller
 * then evaluates the trigram query. ECORRUPT (a malformed list), ENOMEM.
 */
int litmask_candidates(struct u32vec *out, bool *is_used, const struct shard *sh,
		       const uint8_t *lit, size_t len, bool is_icase);

#endif
