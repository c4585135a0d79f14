/*
 * Shards: immutable index files holding the documents of one repository (paths, contents,
 * metadata), a dictionary of case-folded trigrams and their posting lists. docs/index-format.md
 * specifies the format byte for byte; the version and its change log live in shard_int.h.
 *
 * A writer streams documents into a temporary file beside the final name and renames it into
 * place when finished. A reader maps a file and validates its structure (every offset, length
 * and count) before use, without reading all of it; shard_verify() also checks every checksum.
 * A truncated, corrupt, foreign or newer file is refused with TRAWL_ECORRUPT and a message naming
 * the file and the problem.
 *
 * A struct shard is immutable once open and may be read from many threads at once.
 */
#ifndef TRAWL_INDEX_SHARD_H
#define TRAWL_INDEX_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/vec.h"

/* Roughly how much content one shard holds before the builder starts another. */
#define SHARD_TARGET_BYTES ((uint64_t)100 << 20)

enum doc_skip {
	DOC_INDEXED = 0,
	DOC_SKIP_BINARY = 1,    /* a NUL byte in the first 8 KiB */
	DOC_SKIP_TOO_LARGE = 2, /* over the size limit */
	DOC_SKIP_UNREADABLE = 3,
	DOC_SKIP_SYMLINK = 4,   /* a symlink in a git tree: never followed, its target not indexed */
	DOC_SKIP_SUBMODULE = 5, /* a submodule (gitlink) in a git tree: not followed */
};

/* "indexed", "binary", "too large", ...: the reason's name in listings and the HTTP API. */
const char *doc_skip_name(enum doc_skip s);

enum doc_flags {
	DOC_INVALID_UTF8 = 1u << 0, /* content is not valid UTF-8 (set by the writer) */
};

struct shard_doc {
	const char *path; /* relative to the repository root, '/'-separated; not NUL-terminated */
	size_t path_len;
	const uint8_t *content; /* borrowed from the mapping; NULL/0 when skipped or empty */
	size_t content_len;
	uint64_t size;          /* size of the file as found */
	uint32_t flags;         /* enum doc_flags */
	enum doc_skip skip;
	uint16_t lang;          /* language id, 0 = unknown */
};

struct shard_writer;

/* Starts a shard for repository repo that will be renamed to path on finish. EIO, ENOMEM. */
int shard_writer_new(struct shard_writer **out, const char *path, const char *repo);
/*
 * Adds a document. Content is given only for DOC_INDEXED documents (else content_len is 0); the
 * writer stores it, tokenizes it and records whether it is valid UTF-8. EIO, ENOMEM, ELIMIT.
 */
int shard_writer_add(struct shard_writer *w, const char *path, size_t path_len,
		     const uint8_t *content, size_t content_len, uint64_t size, enum doc_skip skip,
		     uint16_t lang);
/* Content bytes added so far. */
uint64_t shard_writer_content_bytes(const struct shard_writer *w);
/* Writes the remaining sections, fsyncs and renames into place. EIO (disk full named), ENOMEM. */
int shard_writer_finish(struct shard_writer *w);
/* Frees the writer; an unfinished temporary file is removed. NULL is a no-op. */
void shard_writer_free(struct shard_writer *w);

struct shard;

/* Maps and validates path. ECORRUPT, EIO, ENOTFOUND, ENOMEM. */
int shard_open(struct shard **out, const char *path);
/* NULL is a no-op. */
void shard_close(struct shard *sh);

const char *shard_file(const struct shard *sh);  /* the path it was opened from */
const char *shard_repo(const struct shard *sh);  /* repository name, NUL-terminated */
uint32_t shard_n_docs(const struct shard *sh);
uint64_t shard_content_bytes(const struct shard *sh);

/* Document id (0 <= id < shard_n_docs). Records were validated on open. EINVAL for a bad id. */
int shard_doc(struct shard_doc *out, const struct shard *sh, uint32_t id);

/*
 * Appends the ascending document ids whose folded trigram set holds trigram to out (nothing when
 * the trigram is absent). ECORRUPT when the list is malformed (ids not ascending or out of
 * range), ENOMEM.
 */
int shard_postings(struct u32vec *out, const struct shard *sh, uint32_t trigram);

/* Number of documents holding trigram (0 when absent); a cheap dictionary lookup. */
uint32_t shard_trigram_count(const struct shard *sh, uint32_t trigram);

/* Checks every section checksum and decodes every posting list. ECORRUPT. */
int shard_verify(const struct shard *sh);

/*
 * The index directory: a MANIFEST (JSON) naming, for each repository, its shard files. Replacing
 * a repository's shards writes new files, then swaps the manifest atomically (under a lock file),
 * then removes the files no longer listed; readers that already mapped them keep working.
 */
struct index_repo_entry {
	char *name;
	char **shards; /* file names relative to the index directory */
	size_t n_shards;
};

struct index;

/* Opens dir/MANIFEST and every shard it names. ENOTFOUND (no index there), ECORRUPT, EIO. */
int index_open(struct index **out, const char *dir);
void index_close(struct index *ix);
size_t index_n_shards(const struct index *ix);
struct shard *index_shard(const struct index *ix, size_t i); /* borrowed */

/*
 * Replaces (or adds) repository name's shards with shard_files (names relative to dir, already
 * renamed into place) and deletes the old files. EIO, ECORRUPT (an unreadable old manifest),
 * ENOMEM.
 */
int index_commit_repo(const char *dir, const char *name, char *const *shard_files,
		      size_t n_files);

/*
 * A fresh, unused shard file name for repository name (unique across runs, safe as a file
 * name whatever the repository name holds). Caller frees. NULL on ENOMEM.
 */
char *index_shard_name(const char *name, unsigned seq);

#endif
