/*
 * The shard file format, shared by the writer and the reader (and the shard unit tests and
 * fuzz target, which build hostile files by hand). docs/index-format.md specifies it byte for
 * byte; keep the two in step.
 *
 * Layout (all integers little-endian, no alignment assumed or required):
 *
 *     header  64 bytes at offset 0
 *     TOC     SHARD_N_SECTIONS entries of 32 bytes at offset 64
 *     sections, back to back, in any order; v2 writers use CONTENT, POSTINGS, TRIGRAMS, DOCS,
 *     PATHS, BRANCHES, BSETS, META
 *
 * The sections tile the rest of the file exactly (no gap, no overlap, nothing after the last),
 * so every byte is covered by the header checksum or by one section checksum.
 *
 * Version history (bump SHARD_VERSION for any change a v1 reader would misread; a reader
 * refuses files newer than it knows):
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
 */
#ifndef TRAWL_INDEX_SHARD_INT_H
#define TRAWL_INDEX_SHARD_INT_H

#include <stdint.h>
#include <string.h>

#define SHARD_MAGIC "TRAWLSHD"
#define SHARD_MAGIC_LEN 8
#define SHARD_VERSION 3u
#define SHARD_VERSION_MIN 2u /* the oldest version read */

/* Header fields: offsets within the 64-byte header. */
#define SHARD_HEADER_SIZE 64u
#define SHARD_H_MAGIC 0      /* 8 bytes "TRAWLSHD" */
#define SHARD_H_VERSION 8    /* u32 format version */
#define SHARD_H_FLAGS 12     /* u32, 0 in v1 */
#define SHARD_H_N_SECTIONS 16 /* u32, SHARD_N_SECTIONS in v1 */
#define SHARD_H_CRC 20       /* u32 crc32 of header + TOC, this field read as 0 */
#define SHARD_H_FILE_SIZE 24 /* u64 size of the whole file */
#define SHARD_H_RESERVED 32  /* 32 bytes of 0 */

/* A table of contents entry. */
#define SHARD_TOC_ENTRY_SIZE 32u
#define SHARD_T_ID 0       /* u32 enum shard_section */
#define SHARD_T_RESERVED 4 /* u32 0 */
#define SHARD_T_OFFSET 8   /* u64 from the start of the file */
#define SHARD_T_LENGTH 16  /* u64 bytes */
#define SHARD_T_CRC 24     /* u32 crc32 (zlib) of the section's bytes */
#define SHARD_T_COUNT 28   /* u32 records: see enum shard_section */

enum shard_section {
	SEC_META = 1,     /* count 0 */
	SEC_DOCS = 2,     /* count n_docs */
	SEC_PATHS = 3,    /* count 0 */
	SEC_CONTENT = 4,  /* count 0 */
	SEC_TRIGRAMS = 5, /* count n_trigrams */
	SEC_POSTINGS = 6, /* count 0 (the number of ids, a u64, is in META) */
	SEC_BRANCHES = 7, /* count n_branches: u32 length + name, per branch */
	SEC_BSETS = 8,    /* count 0: the documents' branch bitsets, referenced from DOCS */
};
#define SHARD_N_SECTIONS 8u
#define SHARD_TOC_END (SHARD_HEADER_SIZE + SHARD_N_SECTIONS * SHARD_TOC_ENTRY_SIZE)

/* META: fixed fields, then the repository name (no NUL, not terminated). */
#define SHARD_META_FIXED 32u
#define SHARD_M_N_DOCS 0        /* u32 */
#define SHARD_M_N_TRIGRAMS 4    /* u32 */
#define SHARD_M_N_POSTINGS 8    /* u64 document ids in all posting lists */
#define SHARD_M_CONTENT_BYTES 16 /* u64 == CONTENT length */
#define SHARD_M_REPO_LEN 24     /* u32 */
#define SHARD_M_RESERVED 28     /* u32 0 */
#define SHARD_REPO_MAX 4096u

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

/* "META", "DOCS", ... for messages; "section 7" style names are the caller's business. */
static inline const char *shard_section_name(uint32_t id)
{
	switch (id) {
	case SEC_META: return "META";
	case SEC_DOCS: return "DOCS";
	case SEC_PATHS: return "PATHS";
	case SEC_CONTENT: return "CONTENT";
	case SEC_TRIGRAMS: return "TRIGRAMS";
	case SEC_POSTINGS: return "POSTINGS";
	case SEC_BRANCHES: return "BRANCHES";
	case SEC_BSETS: return "BSETS";
	default: return "unknown";
	}
}

#endif
