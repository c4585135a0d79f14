/*
 * Symbols of a shard: made while it is written (a shard writer extension that gives each
 * indexed document to ctags), read and looked up afterwards. The section's bytes are
 * symsec.h's; ctags is run by ctags.h. docs/internals/symbols.md.
 */
#ifndef TRAWL_SYMBOLS_SYMBOLS_H
#define TRAWL_SYMBOLS_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>

#include "index/shard.h"
#include "symbols/ctags.h"
#include "symbols/symsec.h"

/* What a run's extraction did, per file status (enum symsec_status) and in total. */
struct symbols_counts {
	uint64_t files[SYMSEC_STATUS_MAX + 1];
	uint64_t symbols;
};

struct symbols_ext;

/*
 * A shard writer extension (shard_writer_set_ext) that makes the SYMBOLS section: each indexed
 * document whose language trawl knows goes to ct (borrowed, one per thread); the others are
 * SYMSEC_NOT_PARSED. counts (may be NULL) is added to when the shard is finished. ENOMEM.
 */
int symbols_ext_new(struct symbols_ext **out, struct ctags *ct);
/*
 * An extension that copies symbols instead of extracting them (compaction moves documents into
 * another shard, their symbols with them: ctags never runs again): before each document is
 * added, symbols_ext_copy_from names the section (borrowed until then) and the document its
 * symbols and status come from; a document added without it gets SYMSEC_NOT_PARSED. ENOMEM.
 */
int symbols_copy_ext_new(struct symbols_ext **out);
void symbols_ext_copy_from(struct symbols_ext *e, const struct symsec *src, uint32_t doc);
const struct shard_writer_ext *symbols_ext_writer(struct symbols_ext *e);
/* Adds what the extension did to *counts. */
void symbols_ext_count(const struct symbols_ext *e, struct symbols_counts *counts);
/* NULL is a no-op. */
void symbols_ext_free(struct symbols_ext *e);

/*
 * The shard's symbols: *has is false for a shard written without them (s is then empty).
 * Checks the section's header only (constant time); records are checked when read. ECORRUPT
 * naming the file.
 */
int symbols_open(struct symsec *s, bool *has, const struct shard *sh);

/*
 * symsec_lookup over the shard's symbols (none for a shard without them). The callback gets
 * each matching symbol; its document is sym->doc (shard_doc). ECORRUPT naming the file, or
 * fn's error.
 */
int symbols_lookup(const struct shard *sh, const char *pattern, size_t pattern_len,
		   enum symsec_mode mode, symsec_test_fn test, void *test_arg, symsec_match_fn fn,
		   void *arg);

#endif
