/*
 * Shards: immutable index files holding the documents of one repository (paths, contents,
 * metadata), a dictionary of case-folded trigrams and their posting lists. docs/index-format.md
 * specifies the format byte for byte; the version and its change log live in shard_int.h.
 *
 * A writer streams documents into a temporary file beside the final name and renames it into
 * place when finished. A reader maps a file and validates its structure (every offset, length
 * and count) before use, without reading all of it; shard_verify() also checks every checksum.
 * A truncated, corrupt, foreign or newer file is refused with TRAWL_ECORRUPT and a message naming
 * the file and the problem. A section this trawl does not know is skipped when the file marks it
 * optional (a later trawl's addition: its checksum is still checked by shard_verify()) and
 * refused, naming its id, when the file marks it required.
 *
 * A struct shard is immutable once open and may be read from many threads at once.
 */
#ifndef TRAWL_INDEX_SHARD_H
#define TRAWL_INDEX_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
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
	/*
	 * The document's branches: a bitset over the shard's branch table (shard_branch), bit i
	 * in byte i / 8, bit i % 8; bset_len is 0 when the shard has no branches (a directory).
	 * Borrowed from the mapping.
	 */
	const uint8_t *bset;
	size_t bset_len;
	const uint8_t *oid;     /* SHARD_OID_BYTES: the git blob id; all zero when none */
};

#define SHARD_OID_BYTES 20

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
/*
 * Declares the shard's branch table (names, 1..1024 bytes each, no NUL), before the first
 * document. Documents then carry a non-empty bitset over it. EINVAL, ENOMEM.
 */
int shard_writer_set_branches(struct shard_writer *w, char *const *names, size_t n);
/*
 * shard_writer_add with the document's git blob id (SHARD_OID_BYTES, or NULL for none) and its
 * branch bitset (bset_len bytes, at most one bit per declared branch, not empty when branches
 * were declared; NULL/0 otherwise). EINVAL for a bad bitset, and as shard_writer_add.
 */
int shard_writer_add_git(struct shard_writer *w, const char *path, size_t path_len,
			 const uint8_t *content, size_t content_len, uint64_t size,
			 enum doc_skip skip, uint16_t lang, const uint8_t *oid, const uint8_t *bset,
			 size_t bset_len);
/*
 * A section the writer does not make itself (the symbols: src/symbols/): doc is called for each
 * document added, in id order, with what was added (content only for an indexed document),
 * and finish once the documents are in, to give the section's bytes (put into out) and its TOC
 * count. An error from either fails the writer like a write error. The writer borrows ext and
 * its arg until it is freed.
 */
struct shard_writer_ext {
	uint32_t id; /* a section of shard_section_def() (shard_int.h), e.g. SEC_SYMBOLS */
	int (*doc)(void *arg, uint32_t doc, const char *path, size_t path_len,
		   const uint8_t *content, size_t content_len, enum doc_skip skip, uint16_t lang);
	int (*finish)(void *arg, struct buf *out, uint32_t *count, uint32_t n_docs);
	void *arg;
};

/*
 * shard_writer_new with an extension (NULL: none) that makes its section (an is_external one of
 * shard_section_def()). EINVAL for another section, and as shard_writer_new.
 */
int shard_writer_new_ext(struct shard_writer **out, const char *path, const char *repo,
			 const struct shard_writer_ext *ext);

/*
 * A compound shard (docs/index-format.md, "REPOS"): the documents of several repositories, so
 * that the number of shards follows the amount of code, not the number of repositories.
 * shard_writer_begin_repo names the repository of the documents added after it: call it before
 * the first document, then each time the repository changes (each name once; a repository may
 * hold no document). META names the first one. EINVAL, ELIMIT, ENOMEM.
 */
int shard_writer_new_compound(struct shard_writer **out, const char *path,
			      const struct shard_writer_ext *ext);
int shard_writer_begin_repo(struct shard_writer *w, const char *name);

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
/*
 * The repositories of a compound shard (0 for a shard of one repository, shard_repo's). The
 * documents of repository name are [*lo, *hi): false when the shard does not hold it. A shard
 * of one repository holds shard_repo() with all its documents.
 */
uint32_t shard_n_repos(const struct shard *sh);
bool shard_repo_docs(const struct shard *sh, const char *name, uint32_t *lo, uint32_t *hi);
/* Compound repository i (< shard_n_repos): its name (NUL-terminated) and documents. */
const char *shard_repo_at(const struct shard *sh, uint32_t i, uint32_t *lo, uint32_t *hi);
uint32_t shard_n_docs(const struct shard *sh);
uint64_t shard_content_bytes(const struct shard *sh);
uint32_t shard_n_branches(const struct shard *sh);
/*
 * The header checksum (over the header and the table of sections, which holds every section's
 * checksum): it changes with any section's content. Checked on open.
 */
uint32_t shard_checksum(const struct shard *sh);
/* Branch i's name (not NUL-terminated, *len bytes), borrowed from the mapping; i < n_branches. */
const char *shard_branch(const struct shard *sh, uint32_t i, size_t *len);

/* Document id (0 <= id < shard_n_docs). Records were validated on open. EINVAL for a bad id. */
int shard_doc(struct shard_doc *out, const struct shard *sh, uint32_t id);

/*
 * Appends the ascending document ids whose folded trigram set holds trigram to out (nothing when
 * the trigram is absent). ECORRUPT when the list is malformed (ids not ascending or out of
 * range), ENOMEM.
 */
int shard_postings(struct u32vec *out, const struct shard *sh, uint32_t trigram);

/*
 * A posting mask (format version 3): what one document holds of one trigram. Bits 0-3, the case
 * classes it holds the folded trigram in, by which of its bytes are upper-case ASCII letters:
 * none, all three, the first only, any other mix. Bits 4-7: bit 4 + k is set when the trigram
 * starts at a content offset p of the document with p % 4 == k. One byte, not two (eight case
 * variants, offsets modulo 8): two bytes took the index from 1.15 to 1.39 times the searchable
 * bytes of Linux 6.1, past the 1.3 allowed, and filtered little better (docs/index-format.md).
 */
#define MASK_CASE_LOWER 0x01u
#define MASK_CASE_UPPER 0x02u
#define MASK_CASE_CAPITAL 0x04u
#define MASK_CASE_MIXED 0x08u
#define MASK_OFFSET_BIT0 0x10u /* offsets modulo 4: bits 4..7 */

/*
 * The case class bit of a trigram's case variant: bits 2, 1, 0 of variant say whether its first,
 * second, third byte is an upper-case ASCII letter (trigram_is_upper). The writer and the search
 * both map through this one table.
 */
static inline uint8_t mask_case_bit(unsigned variant)
{
	static const uint8_t bit[8] = {
		MASK_CASE_LOWER, MASK_CASE_MIXED, MASK_CASE_MIXED, MASK_CASE_MIXED,
		MASK_CASE_CAPITAL, MASK_CASE_MIXED, MASK_CASE_MIXED, MASK_CASE_UPPER,
	};

	return bit[variant & 7];
}

/*
 * shard_postings, and in *masks the list's posting masks (docs/index-format.md, "Posting
 * masks"): a byte per id appended (shard_int.h, MASK_*); NULL when the trigram is absent or the
 * shard has no masks (format version 2). ECORRUPT, ENOMEM.
 */
int shard_postings_masked(struct u32vec *out, const uint8_t **masks, const struct shard *sh,
			  uint32_t trigram);

/* Whether the shard's posting lists carry masks (format version 3 and later). */
bool shard_has_masks(const struct shard *sh);

typedef uint8_t (*shard_path_tag_fn)(const char *path, size_t len);

/*
 * A byte per document derived from its path by fn, computed on the first call with is_make
 * and kept while the shard is open (search ranks candidates by the kind of their path, and
 * computing it per query was a twentieth of a selective regex query). Every caller must pass
 * the same fn. Thread-safe. NULL when not made yet (without is_make), out of memory, or when a
 * document record is damaged.
 */
const uint8_t *shard_path_tags(const struct shard *sh, shard_path_tag_fn fn, bool is_make);

/* Number of documents holding trigram (0 when absent); a cheap dictionary lookup. */
uint32_t shard_trigram_count(const struct shard *sh, uint32_t trigram);

/*
 * Checks every section checksum (unknown optional sections' too) and decodes every posting
 * list. ECORRUPT.
 */
int shard_verify(const struct shard *sh);

/*
 * The bytes of section id (one of shard_section_def(), shard_int.h) in *p and *len, and its TOC
 * count: borrowed from the mapping. *len is 0 when the file lacks it (an optional section
 * written by a later trawl, or a file written before it) or holds it empty. The section's
 * checksum and contents are checked by shard_verify(), not here: its reader checks what it
 * reads.
 */
void shard_section(const uint8_t **p, uint64_t *len, uint32_t *count, const struct shard *sh,
		   uint32_t id);

/* How many sections of the file this trawl does not know (optional ones: they were skipped). */
size_t shard_n_unknown_sections(const struct shard *sh);
/* The i-th of them (i < shard_n_unknown_sections()): its section id and length in bytes. */
void shard_unknown_section(uint32_t *id, uint64_t *len, const struct shard *sh, size_t i);
/*
 * Gives back the pages a full read (shard_verify) made resident: a server that verifies its
 * index keeps only what queries touch in its resident set. The file stays in the page cache.
 */
void shard_drop_pages(const struct shard *sh);

/*
 * The index directory: a MANIFEST (JSON) naming, for each repository, its shard files. Replacing
 * a repository's shards writes new files, then swaps the manifest atomically (under a lock file),
 * then removes the files no longer listed; readers that already mapped them keep working.
 */
struct index_branch {
	char *name;       /* 1..1024 bytes of UTF-8, no NUL */
	char commit[41];  /* the commit indexed, 40 hex digits; "" when not recorded */
	bool is_default;  /* the branch searched without rev: (HEAD's) */
};

/*
 * An overlay entry: document doc of shards[shard] is now on these branches (indices into the
 * entry's branches, ascending) instead of those its shard records; none means it was deleted.
 * Incremental re-indexing writes them instead of rewriting shards (docs/index-format.md).
 */
struct index_overlay {
	uint32_t shard;
	uint32_t doc;
	uint32_t *branches;
	size_t n_branches;
};

struct index_repo_entry {
	char *name;
	char **shards; /* file names relative to the index directory */
	size_t n_shards;
	/* Git repositories (empty for a directory): */
	struct index_branch *branches;
	size_t n_branches;
	struct index_overlay *overlay; /* sorted by (shard, doc), each pair once */
	size_t n_overlay;
	size_t n_base;          /* the first n_base shards come from the last full build */
	uint64_t max_file_size; /* the build's --max-file-size (0 when not recorded) */
};

/* Frees what e holds and zeroes it. */
void index_repo_entry_dispose(struct index_repo_entry *e);

/*
 * Reads repository name's entry from dir/MANIFEST into *out (dispose it). ENOTFOUND when there
 * is no index or no such repository, ECORRUPT, EIO, ENOMEM.
 */
int index_read_repo(struct index_repo_entry *out, const char *dir, const char *name);

/*
 * Reads every entry of dir/MANIFEST into *out[0..*n) (dispose each, then free the array), for a
 * caller that looks up many (trawl sync). ENOTFOUND when there is no index, ECORRUPT, EIO,
 * ENOMEM.
 */
int index_read_repos(struct index_repo_entry **out, size_t *n, const char *dir);

#define INDEX_MANIFEST_MAX ((size_t)64 << 20) /* bytes of a MANIFEST, at most */

/*
 * e (NULL: none) as the text of a MANIFEST listing it alone, in *text (caller frees): what trawl
 * sync hands its index worker instead of the whole MANIFEST. ENOMEM.
 */
int index_entry_dump(char **text, const struct index_repo_entry *e);
/*
 * Repository name's entry from a MANIFEST's text (index_entry_dump's), checked as
 * index_read_repo checks the MANIFEST; where names the text in messages. ENOTFOUND when it does
 * not list name, ECORRUPT, ENOMEM.
 */
int index_entry_parse(struct index_repo_entry *out, const char *text, size_t len,
		      const char *where, const char *name);

/*
 * Replaces (or adds) the repository e->name with e (its shard files already renamed into place,
 * overlay shard indices into e->shards), then deletes the files the new MANIFEST no longer
 * lists. With expect non-NULL, the repository's current entry must still list exactly
 * expect's shards (nobody committed since it was read), else EIO "changed during this run".
 * EINVAL (bad names or overlay), EIO, ECORRUPT, ENOMEM.
 */
int index_commit_entry(const char *dir, const struct index_repo_entry *e,
		       const struct index_repo_entry *expect);

/*
 * index_commit_entry for several repositories at once, in one MANIFEST write (no expect): a
 * run over many repositories, and the repositories of a compound shard, which list the same
 * file. EINVAL (a name twice, bad names or overlay), EIO, ECORRUPT, ENOMEM.
 */
int index_commit_entries(const char *dir, const struct index_repo_entry *es, size_t n);
/*
 * index_commit_entries where each repository's current entry must still be expects[i] (as
 * index_commit_entry's expect): one that changed fails the whole commit (EIO), nothing written.
 */
int index_commit_entries_expect(const char *dir, const struct index_repo_entry *es,
				const struct index_repo_entry *expects, size_t n);

struct index;

/* Opens dir/MANIFEST and every shard it names. ENOTFOUND (no index there), ECORRUPT, EIO. */
int index_open(struct index **out, const char *dir);
/*
 * index_open of the one repository e (copied) rather than every one the MANIFEST lists: what a
 * writer that just committed e reads of it (trawl sync's counts) without parsing the others'.
 */
int index_open_entry(struct index **out, const char *dir, const struct index_repo_entry *e);
void index_close(struct index *ix);
/*
 * "Shard i" is a repository's shard as its MANIFEST entry lists it: a file of that repository,
 * or its part of a compound file (index_shard_docs). Search, authorization and counts go by
 * these; each file is opened once (index_file).
 */
size_t index_n_shards(const struct index *ix);
struct shard *index_shard(const struct index *ix, size_t i); /* its file, borrowed */
/* The MANIFEST entry of shard i's repository (borrowed for the life of ix). */
const struct index_repo_entry *index_shard_entry(const struct index *ix, size_t i);
/* Shard i's repository name (its entry's). */
const char *index_shard_repo(const struct index *ix, size_t i);
/* Shard i's documents in its file: [*lo, *hi) (all of a file of one repository). */
void index_shard_docs(const struct index *ix, size_t i, uint32_t *lo, uint32_t *hi);
/* The index of shard i's file (index_file). */
size_t index_shard_file(const struct index *ix, size_t i);
/* The distinct files, each once, in the order the MANIFEST first lists them. */
size_t index_n_files(const struct index *ix);
struct shard *index_file(const struct index *ix, size_t f); /* borrowed */
/*
 * The shards split into runs where their file changes: run g is shards index_runs(ix)[g] to
 * index_runs(ix)[g + 1] - 1 (index_n_runs(ix) + 1 entries, borrowed), so a compound file's
 * repositories listed one after another are one run.
 */
size_t index_n_runs(const struct index *ix);
const size_t *index_runs(const struct index *ix);
/*
 * Whether run g is plain: no shard of it has branches, and each shard's documents come after
 * the previous one's (so shards are found by document, index_run_find).
 */
bool index_run_is_plain(const struct index *ix, size_t g);
/* The first shard i of [first, end), within a plain run, whose documents end after doc. */
size_t index_run_find(const struct index *ix, size_t first, size_t end, uint32_t doc);
/*
 * The branches of document d (id doc) of shard i, as a bitset over index_shard_entry(ix,
 * i)->branches: n_words 64-bit words, bit k of word k / 64 for branch k. The overlay, when it
 * names the document, wins over the shard's record. All zero for a deleted document, and for a
 * repository without branches.
 */
void index_doc_branches(uint64_t *set, size_t n_words, const struct index *ix, size_t i,
			uint32_t doc, const struct shard_doc *d);
/*
 * Whether document doc of shard i is still part of its repository: on at least one indexed
 * branch after the overlay (a re-index deletes documents through the overlay, keeping the old
 * shard as it is); always for a repository indexed from a directory.
 */
bool index_doc_is_live(const struct index *ix, size_t i, uint32_t doc, const struct shard_doc *d);

/*
 * Replaces (or adds) repository name's shards with shard_files (names relative to dir, already
 * renamed into place) and deletes the old files. EIO, ECORRUPT (an unreadable old manifest),
 * ENOMEM.
 */
int index_commit_repo(const char *dir, const char *name, char *const *shard_files,
		      size_t n_files);

/*
 * When dir/MANIFEST exists but cannot be read (not JSON, truncated, wrong keys: ECORRUPT), renames
 * it to dir/MANIFEST.damaged (replacing an older one) under the index lock, so the next commit
 * starts a new MANIFEST; the shard files it listed become leftovers that index_writer_end's
 * sweep removes. The error detail still names the MANIFEST and what is wrong with it. Returns 1
 * when it set the MANIFEST aside, 0 when it is readable or absent; EIO, ENOMEM.
 */
int index_set_aside_damaged(const char *dir);

/*
 * Removes repository name from the MANIFEST (its name too, not only its shards) and deletes its
 * files; nothing to do when the index does not list it. EINVAL, EIO, ECORRUPT, ENOMEM.
 */
int index_remove_repo(const char *dir, const char *name);

/*
 * A run that writes shards into dir holds *fd from before its first file (a temporary one
 * included) until after its last commit: a shared flock on dir/WRITERS (created). EIO.
 *
 * index_writer_end releases it and, with is_sweep, when no other run holds WRITERS, removes
 * what killed runs left: NAME.shard.tmp.XXXXXX and MANIFEST.tmp.XXXXXX files, shard files
 * the MANIFEST does not list (nothing without a readable MANIFEST), and work directories
 * (index_work_dir_new) with everything in them. It returns how many files
 * it removed. Readers are never hurt: the sweep holds LOCK like a commit.
 */
int index_writer_begin(int *fd, const char *dir);
size_t index_writer_end(int fd, const char *dir, bool is_sweep);

/*
 * A fresh, unused shard file name for repository name (unique across runs, safe as a file
 * name whatever the repository name holds). Caller frees. NULL on ENOMEM.
 */
char *index_shard_name(const char *name, unsigned seq);

/* Whether name may be a shard file of a MANIFEST: a plain file name ending in ".shard". */
bool index_shard_name_ok(const char *name);

/*
 * A new, empty work directory (mode 0700) for shards written by another process (the index
 * worker) before they are committed: dir/work/NAME-XXXXXX, in *out (caller frees). Make it
 * while holding index_writer_begin: index_writer_end's sweep removes every work directory
 * when no run holds WRITERS. EIO, ENOMEM.
 */
int index_work_dir_new(char **out, const char *dir, const char *name);

/*
 * Removes a work directory and everything in it, never following a symlink anywhere in it: the
 * walk goes by directory descriptors (openat O_NOFOLLOW, unlinkat), never by path strings below
 * path's parent, so a worker's process swapping names meanwhile cannot redirect it.
 */
void index_work_dir_remove(const char *path);

#endif
