/*
 * The shard file format, shared by the writer and the reader (and the shard unit tests and
 * fuzz target, which build hostile files by hand). docs/index-format.md specifies it byte for
 * byte; keep the two in step.
 *
 * Layout (all integers little-endian, no alignment assumed or required):
 *
 *     header  64 bytes at offset 0
 *     TOC     n_sections entries of 32 bytes at offset 64 (8 in versions 2 and 3)
 *     sections, back to back, in any order; the writer writes CONTENT, POSTINGS, TRIGRAMS,
 *     DOCS, PATHS, BRANCHES, BSETS, SYMBOLS, META
 *
 * The sections tile the rest of the file exactly (no gap, no overlap, nothing after the last),
 * so every byte is covered by the header checksum or by one section checksum. That holds for
 * sections a reader does not know too: it tiles and checksums them like the others.
 *
 * DESIGN: from version 4 a section is added without a version change. Each TOC entry carries
 * flags; SHARD_SEC_OPTIONAL says a reader that does not know the section may skip it (an index
 * of symbols: the reader loses a feature, nothing else). Without it, such a reader refuses the
 * file naming the section id (a section that changes what other sections mean). The sections
 * this trawl knows are one table, shard_section_def(): the writer writes each of them and tags
 * it from there, the reader checks presence and flags against it. docs/internals/
 * shard-sections.md is the recipe for adding one.
 *
 * Version history (bump SHARD_VERSION for any change an older reader would misread that a
 * section flag cannot express: the header, the TOC, the layout of an existing section; a
 * reader refuses files newer than it knows):
 *   1  first version: META, DOCS, PATHS, CONTENT, TRIGRAMS (16-byte entries), POSTINGS
 *      (first id, then gaps, as canonical unsigned LEB128). Skip reasons 4 (symlink) and 5
 *      (submodule) were added for git repositories before any release, so the version stayed
 *      1; a reader built before them refuses a shard that uses them ("unknown skip reason").
 *   2  branch sets: sections BRANCHES (the shard's branch-name table) and BSETS (bitsets over
 *      it); DOCS records grow from 40 to 68 bytes (+ the offset and length of the document's
 *      bitset in BSETS, + the git object id of its blob, zero when there is none). Version 1
 *      files are refused ("unsupported format version 1"): re-index.
 *   3  posting masks: each posting list is followed by a byte per id (which case classes of
 *      the folded trigram the document holds, and at which offsets modulo 4). Sections,
 *      records and the dictionary are as in version 2. Version 2 files are still read, without
 *      masks: searches over them filter by trigrams alone until a full re-index rewrites them.
 *   4  section flags: the TOC entry's reserved u32 holds SHARD_SEC_* flags, and n_sections
 *      may be 1..SHARD_SECTIONS_MAX. A reader tiles and checksums every section, skips the
 *      unknown optional ones and refuses an unknown required one. The eight sections of
 *      version 3 are written required and unchanged. Versions 2 and 3 are still read as before
 *      (exactly eight sections, flags 0).
 *      Later sections, without a version change: SYMBOLS (9, optional), REPOS (10, required,
 *      compound shards only: a reader that predates it refuses a compound shard).
 */
#ifndef TRAWL_INDEX_SHARD_INT_H
#define TRAWL_INDEX_SHARD_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "symbols/symsec.h"

#define SHARD_MAGIC "TRAWLSHD"
#define SHARD_MAGIC_LEN 8
#define SHARD_VERSION 4u
#define SHARD_VERSION_MIN 2u /* the oldest version read */
#define SHARD_VERSION_FLAGS 4u /* the first version with section flags */

/* Header fields: offsets within the 64-byte header. */
#define SHARD_HEADER_SIZE 64u
#define SHARD_H_MAGIC 0      /* 8 bytes "TRAWLSHD" */
#define SHARD_H_VERSION 8    /* u32 format version */
#define SHARD_H_FLAGS 12     /* u32, 0 in v1 */
#define SHARD_H_N_SECTIONS 16 /* u32 TOC entries: 8 before version 4 */
#define SHARD_H_CRC 20       /* u32 crc32 of header + TOC, this field read as 0 */
#define SHARD_H_FILE_SIZE 24 /* u64 size of the whole file */
#define SHARD_H_RESERVED 32  /* 32 bytes of 0 */

/* A table of contents entry. */
#define SHARD_TOC_ENTRY_SIZE 32u
#define SHARD_T_ID 0       /* u32 enum shard_section */
#define SHARD_T_FLAGS 4    /* u32 SHARD_SEC_* (version 4); reserved, 0, before */
#define SHARD_T_OFFSET 8   /* u64 from the start of the file */
#define SHARD_T_LENGTH 16  /* u64 bytes */
#define SHARD_T_CRC 24     /* u32 crc32 (zlib) of the section's bytes */
#define SHARD_T_COUNT 28   /* u32 records: see enum shard_section */

/* Section flags (version 4). A clear bit is the safe default: an untagged section is required. */
#define SHARD_SEC_OPTIONAL 0x1u /* a reader that does not know the section skips it */
#define SHARD_SEC_FLAGS_KNOWN 0x1u

enum shard_section {
	SEC_META = 1,     /* count 0 */
	SEC_DOCS = 2,     /* count n_docs */
	SEC_PATHS = 3,    /* count 0 */
	SEC_CONTENT = 4,  /* count 0 */
	SEC_TRIGRAMS = 5, /* count n_trigrams */
	SEC_POSTINGS = 6, /* count 0 (the number of ids, a u64, is in META) */
	SEC_BRANCHES = 7, /* count n_branches: u32 length + name, per branch */
	SEC_BSETS = 8,    /* count 0: the documents' branch bitsets, referenced from DOCS */
	SEC_SYMBOLS = 9,  /* count n_symbols: the documents' symbols and a name index (optional;
			   * src/symbols/symsec.h); empty when the shard was built without them */
	SEC_REPOS = 10,   /* count n_repos: a compound shard's repositories and their documents
			   * (required: it changes whose documents DOCS holds); only in compound
			   * shards */
	SEC_ID_END        /* one past the last id this trawl knows */
};
#define SHARD_N_SECTIONS_V3 8u /* versions 2 and 3 list exactly ids 1..8 */
#define SHARD_SECTIONS_MAX 64u /* TOC entries of a version 4 file, at most */
_Static_assert(SEC_ID_END - 1 <= SHARD_SECTIONS_MAX, "the writer's TOC must fit a reader's");

/*
 * What this trawl knows of a section id. flags is what the writer tags it with in the TOC (and
 * what the reader expects there); is_needed says a file without the section is refused. A
 * section added later is not needed (files written before it lack it): the reader treats its
 * absence as "nothing of that kind".
 */
struct shard_section_def {
	const char *name;
	uint32_t flags;
	bool is_needed;
	/*
	 * Made outside the writer, by a shard_writer_ext (shard.h): listed in the TOC only by a
	 * writer that has that extension, so a shard written without it is as before the section
	 * existed.
	 */
	bool is_external;
	/*
	 * Listed only by a compound writer (shard_writer_new_compound): a shard of one repository
	 * is written as before the section existed.
	 */
	bool is_compound;
	/*
	 * For a section whose contents the shard reader does not interpret itself: checks the
	 * whole of its bytes (shard_verify, so `trawl verify` and every check before a swap), in
	 * a shard of n_docs documents, count its TOC count. ECORRUPT with a message; NULL for
	 * none. An empty section (a shard written without it) is not checked.
	 */
	int (*check)(const uint8_t *p, uint64_t len, uint32_t count, uint32_t n_docs);
};

/* SYMBOLS: symsec_open and symsec_verify. */
static inline int shard_check_symbols(const uint8_t *p, uint64_t len, uint32_t count,
				      uint32_t n_docs)
{
	struct symsec s;
	int err = symsec_open(&s, p, len, count, n_docs);

	return err < 0 ? err : symsec_verify(&s);
}

/* The section table: NULL for an id this trawl does not know. */
static inline const struct shard_section_def *shard_section_def(uint32_t id)
{
	static const struct shard_section_def defs[SEC_ID_END] = {
		[SEC_META] = { .name = "META", .flags = 0, .is_needed = true },
		[SEC_DOCS] = { .name = "DOCS", .flags = 0, .is_needed = true },
		[SEC_PATHS] = { .name = "PATHS", .flags = 0, .is_needed = true },
		[SEC_CONTENT] = { .name = "CONTENT", .flags = 0, .is_needed = true },
		[SEC_TRIGRAMS] = { .name = "TRIGRAMS", .flags = 0, .is_needed = true },
		[SEC_POSTINGS] = { .name = "POSTINGS", .flags = 0, .is_needed = true },
		[SEC_BRANCHES] = { .name = "BRANCHES", .flags = 0, .is_needed = true },
		[SEC_BSETS] = { .name = "BSETS", .flags = 0, .is_needed = true },
		[SEC_SYMBOLS] = { .name = "SYMBOLS", .flags = SHARD_SEC_OPTIONAL,
				  .is_needed = false, .is_external = true,
				  .check = shard_check_symbols },
		[SEC_REPOS] = { .name = "REPOS", .flags = 0, .is_needed = false,
				.is_compound = true },
	};

	return id > 0 && id < SEC_ID_END && defs[id].name ? &defs[id] : NULL;
}

/* The size of the header and a TOC of n entries: where the first section starts. */
static inline uint64_t shard_toc_end(uint32_t n_sections)
{
	return SHARD_HEADER_SIZE + (uint64_t)n_sections * SHARD_TOC_ENTRY_SIZE;
}

/* META: fixed fields, then the repository name (no NUL, not terminated). */
#define SHARD_META_FIXED 32u
#define SHARD_M_N_DOCS 0        /* u32 */
#define SHARD_M_N_TRIGRAMS 4    /* u32 */
#define SHARD_M_N_POSTINGS 8    /* u64 document ids in all posting lists */
#define SHARD_M_CONTENT_BYTES 16 /* u64 == CONTENT length */
#define SHARD_M_REPO_LEN 24     /* u32 */
#define SHARD_M_RESERVED 28     /* u32 0 */
#define SHARD_REPO_MAX 4096u

/*
 * REPOS (compound shards): per repository, in document order, a u32 first document id, a u32
 * name length (1..SHARD_REPO_MAX) and the name (no NUL); back to back, filling the section.
 * Repository k holds documents first_k .. first_(k+1) - 1 (the last: .. n_docs - 1); the
 * first starts at 0, none decreases, names are unique.
 */
#define SHARD_R_FIRST 0 /* u32 */
#define SHARD_R_LEN 4   /* u32 */
#define SHARD_R_FIXED 8u
#define SHARD_REPOS_MAX (1u << 20) /* repositories in one compound shard */

/* DOCS: one record per document, in id order. */
#define SHARD_DOC_SIZE 68u
#define SHARD_D_CONTENT_OFF 0 /* u64 within CONTENT */
#define SHARD_D_CONTENT_LEN 8 /* u64; 0 unless skip is DOC_INDEXED */
#define SHARD_D_SIZE 16       /* u64 file size as found */
#define SHARD_D_PATH_OFF 24   /* u32 within PATHS */
#define SHARD_D_PATH_LEN 28   /* u32 */
#define SHARD_D_FLAGS 32      /* u32 enum doc_flags */
#define SHARD_D_SKIP 36       /* u8 enum doc_skip */
#define SHARD_D_RESERVED 37   /* u8 0 */
#define SHARD_D_LANG 38       /* u16 */
#define SHARD_D_BSET_OFF 40   /* u32 within BSETS */
#define SHARD_D_BSET_LEN 44   /* u32 bytes of bitset: bit i (byte i/8, bit i%8) = branch i */
#define SHARD_D_OID 48        /* 20 bytes: the git blob id; all zero when none */
#define SHARD_OID_LEN 20u
/* BRANCHES: per branch a u32 length, then the name (1..SHARD_BRANCH_MAX bytes, no NUL). */
#define SHARD_BRANCH_MAX 1024u
#define SHARD_BRANCHES_MAX (1u << 20) /* branches in one shard's table */
#define SHARD_DOC_FLAGS_KNOWN 0x1u
#define SHARD_SKIP_MAX 5u /* DOC_SKIP_SUBMODULE */

/* TRIGRAMS: one entry per trigram present, strictly ascending by trigram. */
#define SHARD_TRI_SIZE 16u
#define SHARD_G_TRIGRAM 0 /* u32, < 2^24 */
#define SHARD_G_COUNT 4   /* u32 documents in the list, >= 1 */
#define SHARD_G_OFFSET 8  /* u64 within POSTINGS; lists are in dictionary order, back to back */

/*
 * Version 3 posting masks (shard.h, MASK_*): after a list's count ids, one byte per id, in id
 * order. Kept next to their ids: a search that reads a list reads its masks from the same pages.
 */
#define SHARD_MASK_SIZE 1u

/*
 * Little-endian loads and stores. Every load from a mapped file goes through these with an
 * offset that was bounds-checked against its section first.
 */
static inline uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	memcpy(p, &v, 4);
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
}

/* "META", "DOCS", ... for messages; "unknown" for an id not in the table. */
static inline const char *shard_section_name(uint32_t id)
{
	const struct shard_section_def *def = shard_section_def(id);

	return def ? def->name : "unknown";
}

#endif
