/*
 * The shard reader: maps a file, validates its structure, and serves documents and posting
 * lists. See shard.h for the contract and docs/index-format.md for what is checked when.
 *
 * DESIGN: shard_open() checks everything that later reads rely on for memory safety (every
 * section inside the file, every record's ranges inside their sections, the dictionary sorted
 * with its lists inside POSTINGS) plus the checksums of the small structural sections, in time
 * linear in the number of documents and trigrams, without touching CONTENT or POSTINGS. Those
 * two are checksummed only by shard_verify(); a posting list is decoded with bounds checks on
 * every use, so a damaged one is an error, never a crash.
 *
 * Sections are found through the TOC (check_toc): every entry, known or not, takes part in the
 * tiling and its checksum is checked by shard_verify(); a known one is also reachable by id
 * (sec[]), and its presence and flags are checked against shard_section_def(). An unknown one
 * is refused when it is required and otherwise kept only to be tiled, checksummed and listed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "index/postings.h"
#include "index/shard.h"
#include "index/shard_int.h"
#include "util/error.h"
#include "util/trigram.h"

struct section {
	uint32_t id;
	uint32_t flags;
	uint64_t offset;
	uint64_t length;
	uint32_t crc;
	uint32_t count;
};

struct shard {
	char *file;
	char *repo;
	const uint8_t *map;
	size_t map_len;
	struct section *toc;       /* every TOC entry, in file order */
	uint32_t n_toc;
	struct section sec[SEC_ID_END]; /* known sections by id; length and offset 0 when absent */
	uint32_t n_docs;
	uint32_t n_trigrams;
	uint64_t n_postings;
	uint64_t content_bytes;
	const uint8_t *docs;     /* n_docs * SHARD_DOC_SIZE bytes */
	const uint8_t *paths;
	const uint8_t *content;
	uint32_t version;
	uint32_t list_min;       /* bytes per id at least: 1, or 2 with masks (version 3) */
	const uint8_t *dict;     /* n_trigrams * SHARD_TRI_SIZE bytes */
	const uint8_t *postings;
	uint64_t paths_len, content_len, postings_len;
	uint32_t n_branches;
	uint32_t *branch_off; /* n_branches + 1 ... of each name within BRANCHES, after its length */
	const uint8_t *branches;
	const uint8_t *bsets;
	uint64_t bsets_len;
	_Atomic(uint8_t *) path_tags; /* shard_path_tags(), made on first use */
	struct shard_repo_rec *repos; /* a compound shard's REPOS, in document order */
	uint32_t n_repos;
	const struct shard_repo_rec **repo_by_name; /* into repos, sorted by name */
};

struct shard_repo_rec {
	char *name;
	uint32_t lo, hi; /* its documents */
};

/* Records "FILE: problem" and returns ECORRUPT. */
static int corrupt(const struct shard *sh, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int corrupt(const struct shard *sh, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_set("%s: %s", sh->file, msg);
	return TRAWL_ECORRUPT;
}

/* zlib's crc32 continued over len bytes (it takes a uInt length at a time). */
static uint32_t crc_continue(uint32_t crc, const uint8_t *p, uint64_t len)
{
	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

static uint32_t crc_of(const uint8_t *p, uint64_t len)
{
	return crc_continue(0, p, len);
}

/* A section's bytes; its bounds were checked against the file by check_toc(). */
static const uint8_t *sec_ptr(const struct shard *sh, enum shard_section id)
{
	return sh->map + sh->sec[id].offset;
}

static int map_file(struct shard *sh)
{
	struct stat st;
	void *p;
	int fd, err = 0;

	/* SECURITY: O_NOFOLLOW: a shard name swapped for a symlink is not followed. */
	fd = open(sh->file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int e = errno;

		error_set("%s: cannot open: %s", sh->file, strerror(e));
		return (e == ENOENT || e == ENOTDIR) ? TRAWL_ENOTFOUND : TRAWL_EIO;
	}
	if (fstat(fd, &st) < 0) {
		error_set("%s: cannot stat: %s", sh->file, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		error_set("%s: not a regular file", sh->file);
		err = TRAWL_EIO;
		goto out;
	}
	if (st.st_size == 0) {
		err = corrupt(sh, "truncated: 0 bytes, shorter than the %u-byte header",
			      SHARD_HEADER_SIZE);
		goto out;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		error_set("%s: too large to map", sh->file);
		err = TRAWL_ELIMIT;
		goto out;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		/* Out of address space (RLIMIT_AS) is not damage: a sync must not re-index for it. */
		int e = errno;

		error_set("%s: cannot map: %s", sh->file, strerror(e));
		err = e == ENOMEM ? TRAWL_ENOMEM : TRAWL_EIO;
		goto out;
	}
	sh->map = p;
	sh->map_len = (size_t)st.st_size;
out:
	close(fd);
	return err;
}

/* The header checksum: over the header and the TOC, with its own field read as 0. */
static uint32_t header_crc(const uint8_t *h, uint64_t toc_end)
{
	static const uint8_t zero[4];
	uint32_t crc = (uint32_t)crc32(0, h, SHARD_H_CRC);

	crc = (uint32_t)crc32(crc, zero, sizeof(zero));
	return crc_continue(crc, h + SHARD_H_CRC + 4, toc_end - SHARD_H_CRC - 4);
}

/* How many TOC entries version allows: exactly eight before section flags, else a range. */
static int check_n_sections(const struct shard *sh, uint32_t n)
{
	if (sh->version < SHARD_VERSION_FLAGS && n != SHARD_N_SECTIONS_V3)
		return corrupt(sh, "header lists %u sections, version %u has %u", n, sh->version,
			       SHARD_N_SECTIONS_V3);
	if (n == 0 || n > SHARD_SECTIONS_MAX)
		return corrupt(sh, "header lists %u sections, version %u allows 1 to %u", n,
			       sh->version, SHARD_SECTIONS_MAX);
	return 0;
}

static int check_header(struct shard *sh)
{
	const uint8_t *h = sh->map;
	uint32_t version, n_sections, crc, flags;
	uint64_t toc_end;
	int err;

	/* A short file that starts like a shard was cut; one that does not is something else. */
	if (memcmp(h, SHARD_MAGIC, sh->map_len < SHARD_MAGIC_LEN ? sh->map_len : SHARD_MAGIC_LEN))
		return corrupt(sh, "not a trawl shard (bad magic)");
	if (sh->map_len < SHARD_HEADER_SIZE)
		return corrupt(sh, "truncated: %zu bytes, shorter than the %u-byte header",
			       sh->map_len, SHARD_HEADER_SIZE);
	version = le32(h + SHARD_H_VERSION);
	if (version > SHARD_VERSION)
		return corrupt(sh, "format version %u is newer than this trawl supports (%u)",
			       version, SHARD_VERSION);
	if (version < SHARD_VERSION_MIN)
		return corrupt(sh, "unsupported format version %u (this trawl reads %u to %u): "
			       "re-index", version, SHARD_VERSION_MIN, SHARD_VERSION);
	sh->version = version;
	sh->list_min = version >= 3 ? 1 + SHARD_MASK_SIZE : 1;
	n_sections = le32(h + SHARD_H_N_SECTIONS);
	if ((err = check_n_sections(sh, n_sections)) < 0)
		return err;
	toc_end = shard_toc_end(n_sections);
	if (sh->map_len < toc_end)
		return corrupt(sh, "truncated: table of contents ends at %llu beyond file size %zu",
			       (unsigned long long)toc_end, sh->map_len);
	sh->n_toc = n_sections;
	crc = header_crc(h, toc_end);
	if (crc != le32(h + SHARD_H_CRC))
		return corrupt(sh, "header checksum mismatch (stored %08x, computed %08x)",
			       le32(h + SHARD_H_CRC), crc);
	flags = le32(h + SHARD_H_FLAGS);
	if (flags != 0)
		return corrupt(sh, "unknown header flags 0x%x", flags);
	for (size_t i = SHARD_H_RESERVED; i < SHARD_HEADER_SIZE; i++)
		if (h[i] != 0)
			return corrupt(sh, "reserved header byte %zu is not zero", i);
	return 0;
}

static int cmp_by_offset(const void *a, const void *b)
{
	const struct section *x = *(const struct section *const *)a;
	const struct section *y = *(const struct section *const *)b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	/* Empty sections first, so that one at the start of another does not look like overlap. */
	return (x->length > y->length) - (x->length < y->length);
}

/* "META", or "id 9" for a section this trawl does not know: for messages. */
static const char *section_label(char *buf, size_t len, uint32_t id)
{
	const struct shard_section_def *def = shard_section_def(id);

	if (def)
		return def->name;
	snprintf(buf, len, "id %u", id);
	return buf;
}

/*
 * What an entry's id and flags allow. Before version 4 the ids are the eight of version 3 and
 * the flags field is reserved. From version 4 a known section carries the flags of its table
 * entry; an unknown one is kept (and skipped) only when it is optional.
 */
static int check_entry_kind(const struct shard *sh, uint32_t i, const struct section *s)
{
	const struct shard_section_def *def = shard_section_def(s->id);
	char label[24];

	if (sh->version < SHARD_VERSION_FLAGS) {
		if (s->id == 0 || s->id > SHARD_N_SECTIONS_V3)
			return corrupt(sh, "table of contents entry %u has unknown section id %u", i,
				       s->id);
		if (s->flags != 0)
			return corrupt(sh, "section %s: reserved field is not zero",
				       shard_section_name(s->id));
		return 0;
	}
	if (s->id == 0)
		return corrupt(sh, "table of contents entry %u has section id 0", i);
	if (s->flags & ~SHARD_SEC_FLAGS_KNOWN)
		return corrupt(sh, "section %s: unknown flags 0x%x",
			       section_label(label, sizeof(label), s->id), s->flags);
	if (!def && !(s->flags & SHARD_SEC_OPTIONAL))
		return corrupt(sh, "table of contents entry %u: unknown section id %u is marked "
			       "required (written by a newer trawl?): this trawl cannot read the file",
			       i, s->id);
	if (def && s->flags != def->flags)
		return corrupt(sh, "section %s: flags 0x%x, this format has 0x%x", def->name,
			       s->flags, def->flags);
	return 0;
}

/* Entry i: a kind check_entry_kind() allows, listed once, inside the file after the TOC. */
static int check_entry(struct shard *sh, uint32_t i, uint64_t toc_end)
{
	const uint8_t *e = sh->map + SHARD_HEADER_SIZE + (size_t)i * SHARD_TOC_ENTRY_SIZE;
	struct section s = { .id = le32(e + SHARD_T_ID), .flags = le32(e + SHARD_T_FLAGS),
			     .offset = le64(e + SHARD_T_OFFSET), .length = le64(e + SHARD_T_LENGTH),
			     .crc = le32(e + SHARD_T_CRC), .count = le32(e + SHARD_T_COUNT) };
	char label[24];
	const char *name;
	uint64_t end;
	int err;

	if ((err = check_entry_kind(sh, i, &s)) < 0)
		return err;
	name = section_label(label, sizeof(label), s.id);
	for (uint32_t k = 0; k < i; k++)
		if (sh->toc[k].id == s.id)
			return corrupt(sh, "section %s listed twice", name);
	if (__builtin_add_overflow(s.offset, s.length, &end))
		return corrupt(sh, "section %s: offset %llu + length %llu overflows", name,
			       (unsigned long long)s.offset, (unsigned long long)s.length);
	if (end > sh->map_len)
		return corrupt(sh, "truncated: section %s ends at %llu beyond file size %zu", name,
			       (unsigned long long)end, sh->map_len);
	if (s.offset < toc_end)
		return corrupt(sh, "section %s at offset %llu overlaps the header", name,
			       (unsigned long long)s.offset);
	sh->toc[i] = s;
	if (shard_section_def(s.id))
		sh->sec[s.id] = s;
	return 0;
}

/* Every section the table needs is listed (before version 4, all eight are). */
static int check_needed(const struct shard *sh)
{
	for (uint32_t id = 1; id < SEC_ID_END; id++) {
		const struct shard_section_def *def = shard_section_def(id);
		bool is_listed = false;

		if (!def || !def->is_needed)
			continue;
		for (uint32_t k = 0; k < sh->n_toc && !is_listed; k++)
			is_listed = sh->toc[k].id == id;
		if (!is_listed)
			return corrupt(sh, "section %s is missing", def->name);
	}
	return 0;
}

/* The sections must tile the file after the TOC: no overlap, no gap, nothing after. */
static int check_tiling(const struct shard *sh, uint64_t toc_end)
{
	const struct section *order[SHARD_SECTIONS_MAX];
	char label[24];
	uint64_t at = toc_end;

	for (uint32_t i = 0; i < sh->n_toc; i++)
		order[i] = &sh->toc[i];
	qsort(order, sh->n_toc, sizeof(order[0]), cmp_by_offset);
	for (uint32_t i = 0; i < sh->n_toc; i++) {
		const struct section *s = order[i];
		const char *name = section_label(label, sizeof(label), s->id);

		if (s->offset < at)
			return corrupt(sh, "section %s at offset %llu overlaps the one before it "
				       "(ending at %llu)", name, (unsigned long long)s->offset,
				       (unsigned long long)at);
		if (s->offset > at)
			return corrupt(sh, "gap of %llu bytes before section %s",
				       (unsigned long long)(s->offset - at), name);
		at = s->offset + s->length;
	}
	if (at != sh->map_len)
		return corrupt(sh, "%llu bytes after the last section",
			       (unsigned long long)(sh->map_len - at));
	return 0;
}

static int check_toc(struct shard *sh)
{
	uint64_t toc_end = shard_toc_end(sh->n_toc), file_size;
	int err;

	sh->toc = calloc(sh->n_toc, sizeof(*sh->toc));
	if (!sh->toc) {
		error_set("%s: out of memory", sh->file);
		return TRAWL_ENOMEM;
	}
	for (uint32_t i = 0; i < sh->n_toc; i++)
		if ((err = check_entry(sh, i, toc_end)) < 0)
			return err;
	if ((err = check_needed(sh)) < 0)
		return err;
	file_size = le64(sh->map + SHARD_H_FILE_SIZE);
	if (file_size != sh->map_len)
		return corrupt(sh, "%s: file is %zu bytes, header says %llu",
			       file_size > sh->map_len ? "truncated" : "trailing data", sh->map_len,
			       (unsigned long long)file_size);
	return check_tiling(sh, toc_end);
}

static int check_section_crc(const struct shard *sh, const struct section *s)
{
	uint32_t crc = crc_of(sh->map + s->offset, s->length);
	char label[24];

	if (crc != s->crc)
		return corrupt(sh, "section %s checksum mismatch (stored %08x, computed %08x)",
			       section_label(label, sizeof(label), s->id), s->crc, crc);
	return 0;
}

/* The small sections are checksummed on every open: they are read in full anyway. */
static int check_crc(const struct shard *sh, enum shard_section id)
{
	return check_section_crc(sh, &sh->sec[id]);
}

static int check_meta(struct shard *sh)
{
	const struct section *s = &sh->sec[SEC_META];
	const uint8_t *m = sec_ptr(sh, SEC_META);
	uint32_t repo_len;
	uint64_t want;

	if (s->count != 0)
		return corrupt(sh, "section META: count %u, expected 0", s->count);
	if (s->length < SHARD_META_FIXED)
		return corrupt(sh, "section META: %llu bytes, shorter than its %u fixed bytes",
			       (unsigned long long)s->length, SHARD_META_FIXED);
	sh->n_docs = le32(m + SHARD_M_N_DOCS);
	sh->n_trigrams = le32(m + SHARD_M_N_TRIGRAMS);
	sh->n_postings = le64(m + SHARD_M_N_POSTINGS);
	sh->content_bytes = le64(m + SHARD_M_CONTENT_BYTES);
	repo_len = le32(m + SHARD_M_REPO_LEN);
	if (le32(m + SHARD_M_RESERVED) != 0)
		return corrupt(sh, "section META: reserved field is not zero");
	if (repo_len == 0 || repo_len > SHARD_REPO_MAX ||
	    s->length != (uint64_t)SHARD_META_FIXED + repo_len)
		return corrupt(sh, "section META: repository name of %u bytes in a %llu-byte "
			       "section", repo_len, (unsigned long long)s->length);
	/* SECURITY: the name is compared as a C string for authorization: no NUL inside. */
	if (memchr(m + SHARD_META_FIXED, 0, repo_len))
		return corrupt(sh, "section META: repository name holds a NUL byte");
	sh->repo = strndup((const char *)m + SHARD_META_FIXED, repo_len);
	if (!sh->repo)
		return error_nomem(NULL);
	if (sh->n_trigrams > TRIGRAM_SPACE)
		return corrupt(sh, "%u trigrams, more than there are (%u)", sh->n_trigrams,
			       TRIGRAM_SPACE);
	if (sh->sec[SEC_DOCS].count != sh->n_docs)
		return corrupt(sh, "section DOCS: count %u but META says %u documents",
			       sh->sec[SEC_DOCS].count, sh->n_docs);
	want = (uint64_t)sh->n_docs * SHARD_DOC_SIZE;
	if (sh->sec[SEC_DOCS].length != want)
		return corrupt(sh, "section DOCS: %llu bytes, %u documents need %llu",
			       (unsigned long long)sh->sec[SEC_DOCS].length, sh->n_docs,
			       (unsigned long long)want);
	if (sh->sec[SEC_TRIGRAMS].count != sh->n_trigrams)
		return corrupt(sh, "section TRIGRAMS: count %u but META says %u trigrams",
			       sh->sec[SEC_TRIGRAMS].count, sh->n_trigrams);
	want = (uint64_t)sh->n_trigrams * SHARD_TRI_SIZE;
	if (sh->sec[SEC_TRIGRAMS].length != want)
		return corrupt(sh, "section TRIGRAMS: %llu bytes, %u trigrams need %llu",
			       (unsigned long long)sh->sec[SEC_TRIGRAMS].length, sh->n_trigrams,
			       (unsigned long long)want);
	if (sh->sec[SEC_CONTENT].length != sh->content_bytes)
		return corrupt(sh, "section CONTENT: %llu bytes but META says %llu",
			       (unsigned long long)sh->sec[SEC_CONTENT].length,
			       (unsigned long long)sh->content_bytes);
	if (sh->sec[SEC_PATHS].count != 0 || sh->sec[SEC_CONTENT].count != 0 ||
	    sh->sec[SEC_POSTINGS].count != 0 || sh->sec[SEC_BSETS].count != 0)
		return corrupt(sh, "sections PATHS, CONTENT, POSTINGS and BSETS must have count 0");
	/* Every id takes at least list_min bytes: more cannot fit POSTINGS. */
	if (sh->n_postings > sh->sec[SEC_POSTINGS].length / sh->list_min)
		return corrupt(sh, "%llu postings cannot fit %llu bytes",
			       (unsigned long long)sh->n_postings,
			       (unsigned long long)sh->sec[SEC_POSTINGS].length);
	sh->docs = sec_ptr(sh, SEC_DOCS);
	sh->paths = sec_ptr(sh, SEC_PATHS);
	sh->paths_len = sh->sec[SEC_PATHS].length;
	sh->content = sec_ptr(sh, SEC_CONTENT);
	sh->content_len = sh->sec[SEC_CONTENT].length;
	sh->dict = sec_ptr(sh, SEC_TRIGRAMS);
	sh->postings = sec_ptr(sh, SEC_POSTINGS);
	sh->postings_len = sh->sec[SEC_POSTINGS].length;
	sh->bsets = sec_ptr(sh, SEC_BSETS);
	sh->bsets_len = sh->sec[SEC_BSETS].length;
	return 0;
}

/*
 * BRANCHES: n_branches (the TOC count) names, each a u32 length and 1..SHARD_BRANCH_MAX bytes
 * without NUL, filling the section exactly. Read on open (it is small): search maps the names
 * to the repository's branches.
 */
static int check_branches(struct shard *sh)
{
	const struct section *s = &sh->sec[SEC_BRANCHES];
	const uint8_t *b = sec_ptr(sh, SEC_BRANCHES);
	uint64_t at = 0;

	sh->n_branches = s->count;
	sh->branches = b;
	if (s->count > SHARD_BRANCHES_MAX)
		return corrupt(sh, "section BRANCHES: %u branches, at most %u", s->count,
			       SHARD_BRANCHES_MAX);
	if (s->count > s->length / 5)
		return corrupt(sh, "section BRANCHES: %u branches cannot fit %llu bytes", s->count,
			       (unsigned long long)s->length);
	sh->branch_off = calloc((size_t)s->count + 1, sizeof(*sh->branch_off));
	if (!sh->branch_off)
		return error_nomem(NULL);
	for (uint32_t i = 0; i < s->count; i++) {
		uint32_t len;

		if (s->length - at < 4)
			return corrupt(sh, "section BRANCHES: branch %u cut short", i);
		len = le32(b + at);
		at += 4;
		if (len == 0 || len > SHARD_BRANCH_MAX || s->length - at < len)
			return corrupt(sh, "section BRANCHES: branch %u has a name of %u bytes", i, len);
		if (memchr(b + at, 0, len))
			return corrupt(sh, "section BRANCHES: branch %u: name holds a NUL byte", i);
		sh->branch_off[i] = (uint32_t)at;
		at += len;
	}
	sh->branch_off[s->count] = (uint32_t)(at + 4); /* as if a next name followed */
	if (at != s->length)
		return corrupt(sh, "section BRANCHES: %llu bytes after the last branch",
			       (unsigned long long)(s->length - at));
	return 0;
}

static int cmp_repo_by_name(const void *a, const void *b)
{
	return strcmp((*(const struct shard_repo_rec *const *)a)->name,
		      (*(const struct shard_repo_rec *const *)b)->name);
}

/*
 * REPOS (a compound shard): read and checked on open, checksum included, because search
 * authorizes each document by the repository this table gives it. Document ranges start at 0,
 * never decrease and end at n_docs; names are 1..SHARD_REPO_MAX bytes without NUL, unique; the
 * first is META's name.
 */
static int check_repos(struct shard *sh)
{
	const struct section *s = &sh->sec[SEC_REPOS];
	const uint8_t *b = sec_ptr(sh, SEC_REPOS);
	uint64_t at = 0;
	uint32_t prev = 0;

	if (s->length == 0 && s->count == 0)
		return 0; /* a shard of one repository */
	if (s->count == 0 || s->count > SHARD_REPOS_MAX || s->count > s->length / (SHARD_R_FIXED + 1))
		return corrupt(sh, "section REPOS: %u repositories in %llu bytes", s->count,
			       (unsigned long long)s->length);
	sh->repos = calloc(s->count, sizeof(*sh->repos));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	sh->repo_by_name = calloc(s->count, sizeof(*sh->repo_by_name));
	if (!sh->repos || !sh->repo_by_name)
		return error_nomem(NULL);
	for (uint32_t i = 0; i < s->count; i++) {
		uint32_t first, len;

		if (s->length - at < SHARD_R_FIXED)
			return corrupt(sh, "section REPOS: repository %u cut short", i);
		first = le32(b + at + SHARD_R_FIRST);
		len = le32(b + at + SHARD_R_LEN);
		at += SHARD_R_FIXED;
		if ((i == 0 && first != 0) || first < prev || first > sh->n_docs)
			return corrupt(sh, "section REPOS: repository %u starts at document %u "
				       "(the previous at %u, %u documents)", i, first, prev,
				       sh->n_docs);
		if (len == 0 || len > SHARD_REPO_MAX || s->length - at < len)
			return corrupt(sh, "section REPOS: repository %u has a name of %u bytes", i,
				       len);
		/* SECURITY: names are compared as C strings for authorization: no NUL inside. */
		if (memchr(b + at, 0, len))
			return corrupt(sh, "section REPOS: repository %u: name holds a NUL byte", i);
		if (!(sh->repos[i].name = strndup((const char *)b + at, len)))
			return error_nomem(NULL);
		sh->n_repos = i + 1; /* so that close frees the names made */
		sh->repos[i].lo = first;
		if (i > 0)
			sh->repos[i - 1].hi = first;
		sh->repo_by_name[i] = &sh->repos[i];
		prev = first;
		at += len;
	}
	sh->repos[s->count - 1].hi = sh->n_docs;
	if (at != s->length)
		return corrupt(sh, "section REPOS: %llu bytes after the last repository",
			       (unsigned long long)(s->length - at));
	if (strcmp(sh->repos[0].name, sh->repo) != 0)
		return corrupt(sh, "section REPOS: the first repository is not META's");
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	qsort(sh->repo_by_name, sh->n_repos, sizeof(*sh->repo_by_name), cmp_repo_by_name);
	for (uint32_t i = 1; i < sh->n_repos; i++)
		if (strcmp(sh->repo_by_name[i - 1]->name, sh->repo_by_name[i]->name) == 0)
			return corrupt(sh, "section REPOS: repository \"%s\" listed twice",
				       sh->repo_by_name[i]->name);
	return 0;
}

/*
 * Document i's branch set: inside BSETS, no longer than the table needs, no bit beyond the
 * last branch, and not empty when the shard has branches (a document is on some branch); none
 * at all when it has none.
 */
static int check_bset(const struct shard *sh, uint32_t i, uint64_t off, uint64_t len)
{
	uint32_t nb = sh->n_branches;
	bool any = false;

	if (nb == 0) {
		if (len != 0)
			return corrupt(sh, "document %u: a branch set in a shard without branches", i);
		return 0;
	}
	if (len == 0 || len > (nb + 7) / 8)
		return corrupt(sh, "document %u: branch set of %llu bytes for %u branches", i,
			       (unsigned long long)len, nb);
	if (off > sh->bsets_len || sh->bsets_len - off < len)
		return corrupt(sh, "document %u: branch set at %llu+%llu beyond BSETS (%llu bytes)",
			       i, (unsigned long long)off, (unsigned long long)len,
			       (unsigned long long)sh->bsets_len);
	for (uint64_t k = 0; k < len; k++) {
		uint8_t b = sh->bsets[off + k];

		if (k == (nb - 1) / 8 && (nb & 7) && (b >> (nb & 7)))
			return corrupt(sh, "document %u: branch set names a branch beyond the %u "
				       "of the shard", i, nb);
		any |= b != 0;
	}
	if (!any)
		return corrupt(sh, "document %u: empty branch set", i);
	return 0;
}

/* Document record i: its ranges inside PATHS and CONTENT, known values only. */
static int check_doc(const struct shard *sh, uint32_t i)
{
	int err;

	{
		const uint8_t *r = sh->docs + (size_t)i * SHARD_DOC_SIZE;
		uint64_t coff = le64(r + SHARD_D_CONTENT_OFF), clen = le64(r + SHARD_D_CONTENT_LEN);
		uint64_t poff = le32(r + SHARD_D_PATH_OFF), plen = le32(r + SHARD_D_PATH_LEN);
		uint32_t flags = le32(r + SHARD_D_FLAGS);
		uint8_t skip = r[SHARD_D_SKIP];
		uint64_t end;

		if (poff + plen > sh->paths_len)
			return corrupt(sh, "document %u: path ends at %llu beyond PATHS (%llu bytes)",
				       i, (unsigned long long)(poff + plen),
				       (unsigned long long)sh->paths_len);
		if (__builtin_add_overflow(coff, clen, &end) || end > sh->content_len)
			return corrupt(sh, "document %u: content at %llu+%llu beyond CONTENT (%llu "
				       "bytes)", i, (unsigned long long)coff,
				       (unsigned long long)clen, (unsigned long long)sh->content_len);
		if (skip > SHARD_SKIP_MAX)
			return corrupt(sh, "document %u: unknown skip reason %u", i, skip);
		if (skip != DOC_INDEXED && clen != 0)
			return corrupt(sh, "document %u: skipped but has %llu content bytes", i,
				       (unsigned long long)clen);
		if (flags & ~SHARD_DOC_FLAGS_KNOWN)
			return corrupt(sh, "document %u: unknown flags 0x%x", i, flags);
		if (r[SHARD_D_RESERVED] != 0)
			return corrupt(sh, "document %u: reserved byte is not zero", i);
		if ((err = check_bset(sh, i, le32(r + SHARD_D_BSET_OFF),
				      le32(r + SHARD_D_BSET_LEN))) < 0)
			return err;
	}
	return 0;
}

static int check_docs(const struct shard *sh)
{
	int err;

	for (uint32_t i = 0; i < sh->n_docs; i++)
		if ((err = check_doc(sh, i)) < 0)
			return err;
	return 0;
}

static int check_dict(const struct shard *sh)
{
	uint64_t total = 0, prev_off = 0;
	uint32_t prev_t = 0, prev_count = 0;

	for (uint32_t i = 0; i < sh->n_trigrams; i++) {
		const uint8_t *e = sh->dict + (size_t)i * SHARD_TRI_SIZE;
		uint32_t t = le32(e + SHARD_G_TRIGRAM), count = le32(e + SHARD_G_COUNT);
		uint64_t off = le64(e + SHARD_G_OFFSET);

		if (t >= TRIGRAM_SPACE)
			return corrupt(sh, "trigram entry %u: value 0x%x above 24 bits", i, t);
		if (i > 0 && t <= prev_t)
			return corrupt(sh, "trigram entry %u: 0x%06x not above 0x%06x (dictionary not "
				       "sorted)", i, t, prev_t);
		if (count == 0 || count > sh->n_docs)
			return corrupt(sh, "trigram 0x%06x: %u documents of %u", t, count, sh->n_docs);
		/* Lists are back to back in dictionary order, each at least list_min bytes per id. */
		if (i == 0 ? off != 0
			   : off < prev_off || off - prev_off < (uint64_t)prev_count * sh->list_min)
			return corrupt(sh, "trigram 0x%06x: postings offset %llu out of order", t,
				       (unsigned long long)off);
		if (off > sh->postings_len || sh->postings_len - off < (uint64_t)count * sh->list_min)
			return corrupt(sh, "trigram 0x%06x: postings at %llu (%u ids) beyond POSTINGS "
				       "(%llu bytes)", t, (unsigned long long)off, count,
				       (unsigned long long)sh->postings_len);
		total += count;
		prev_t = t;
		prev_off = off;
		prev_count = count;
	}
	if (total != sh->n_postings)
		return corrupt(sh, "dictionary counts %llu postings, META says %llu",
			       (unsigned long long)total, (unsigned long long)sh->n_postings);
	if (sh->n_trigrams == 0 && sh->postings_len != 0)
		return corrupt(sh, "section POSTINGS: %llu bytes but no trigrams",
			       (unsigned long long)sh->postings_len);
	return 0;
}

int shard_open(struct shard **out, const char *path)
{
	struct shard *sh;
	int err;

	*out = NULL;
	sh = calloc(1, sizeof(*sh));
	if (!sh || !(sh->file = strdup(path))) {
		free(sh);
		error_set("%s: out of memory", path);
		return TRAWL_ENOMEM;
	}
	/*
	 * Opening reads only the header, the table of sections and META. A document record is
	 * checked when it is read (shard_doc), a dictionary entry when a search uses it
	 * (dict_list); every checksum, every record, the dictionary's order and every posting
	 * list by shard_verify(). A query thus opens a shard in microseconds and touches only
	 * the pages it needs.
	 */
	if ((err = map_file(sh)) < 0 || (err = check_header(sh)) < 0 ||
	    (err = check_toc(sh)) < 0 || (err = check_crc(sh, SEC_META)) < 0 ||
	    (err = check_meta(sh)) < 0 || (err = check_crc(sh, SEC_BRANCHES)) < 0 ||
	    (err = check_branches(sh)) < 0 || (err = check_crc(sh, SEC_REPOS)) < 0 ||
	    (err = check_repos(sh)) < 0)
		goto out;
	*out = sh;
	sh = NULL;
out:
	shard_close(sh);
	return err;
}

void shard_close(struct shard *sh)
{
	if (!sh)
		return;
	if (sh->map)
		munmap((void *)sh->map, sh->map_len);
	free(sh->branch_off);
	for (uint32_t i = 0; i < sh->n_repos; i++)
		free(sh->repos[i].name);
	free(sh->repos);
	free((void *)sh->repo_by_name);
	free(sh->toc);
	free(atomic_load(&sh->path_tags));
	free(sh->repo);
	free(sh->file);
	free(sh);
}

const uint8_t *shard_path_tags(const struct shard *sh, shard_path_tag_fn fn, bool is_make)
{
	struct shard *w = (struct shard *)(uintptr_t)sh; /* the cache is not the shard's content */
	uint8_t *tags = atomic_load_explicit(&w->path_tags, memory_order_acquire), *expected = NULL;

	if (tags || !is_make)
		return tags;
	tags = malloc(sh->n_docs ? sh->n_docs : 1);
	if (!tags)
		return NULL;
	for (uint32_t i = 0; i < sh->n_docs; i++) {
		struct shard_doc d;

		if (shard_doc(&d, sh, i) < 0) {
			free(tags); /* a damaged record: callers look paths up one by one and say so */
			return NULL;
		}
		tags[i] = fn(d.path, d.path_len);
	}
	/* Two threads may both compute it; one array wins, the other is dropped. */
	if (!atomic_compare_exchange_strong(&w->path_tags, &expected, tags)) {
		free(tags);
		tags = expected;
	}
	return tags;
}

const char *shard_file(const struct shard *sh)
{
	return sh->file;
}

const char *shard_repo(const struct shard *sh)
{
	return sh->repo;
}

uint32_t shard_n_repos(const struct shard *sh)
{
	return sh->n_repos;
}

const char *shard_repo_at(const struct shard *sh, uint32_t i, uint32_t *lo, uint32_t *hi)
{
	*lo = sh->repos[i].lo;
	*hi = sh->repos[i].hi;
	return sh->repos[i].name;
}

bool shard_repo_docs(const struct shard *sh, const char *name, uint32_t *lo, uint32_t *hi)
{
	size_t a = 0, b = sh->n_repos;

	*lo = *hi = 0;
	if (sh->n_repos == 0) {
		if (strcmp(sh->repo, name) != 0)
			return false;
		*hi = sh->n_docs;
		return true;
	}
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		const struct shard_repo_rec *r = sh->repo_by_name[mid];
		int c = strcmp(r->name, name);

		if (c == 0) {
			*lo = r->lo;
			*hi = r->hi;
			return true;
		}
		if (c < 0)
			a = mid + 1;
		else
			b = mid;
	}
	return false;
}

uint32_t shard_n_docs(const struct shard *sh)
{
	return sh->n_docs;
}

uint32_t shard_checksum(const struct shard *sh)
{
	return le32(sh->map + SHARD_H_CRC);
}

uint64_t shard_content_bytes(const struct shard *sh)
{
	return sh->content_bytes;
}

uint32_t shard_n_branches(const struct shard *sh)
{
	return sh->n_branches;
}

const char *shard_branch(const struct shard *sh, uint32_t i, size_t *len)
{
	if (i >= sh->n_branches) {
		*len = 0;
		return "";
	}
	*len = sh->branch_off[i + 1] - 4 - sh->branch_off[i];
	return (const char *)sh->branches + sh->branch_off[i];
}

int shard_doc(struct shard_doc *out, const struct shard *sh, uint32_t id)
{
	const uint8_t *r;
	uint64_t clen;
	int err;

	if (id >= sh->n_docs) {
		error_set("%s: document id %u out of range (%u documents)", sh->file, id,
			  sh->n_docs);
		return TRAWL_EINVAL;
	}
	if ((err = check_doc(sh, id)) < 0)
		return err;
	r = sh->docs + (size_t)id * SHARD_DOC_SIZE;
	clen = le64(r + SHARD_D_CONTENT_LEN);
	out->path = (const char *)sh->paths + le32(r + SHARD_D_PATH_OFF);
	out->path_len = le32(r + SHARD_D_PATH_LEN);
	out->content = clen ? sh->content + le64(r + SHARD_D_CONTENT_OFF) : NULL;
	out->content_len = (size_t)clen;
	out->size = le64(r + SHARD_D_SIZE);
	out->flags = le32(r + SHARD_D_FLAGS);
	out->skip = (enum doc_skip)r[SHARD_D_SKIP];
	out->lang = le16(r + SHARD_D_LANG);
	out->bset_len = le32(r + SHARD_D_BSET_LEN);
	out->bset = out->bset_len ? sh->bsets + le32(r + SHARD_D_BSET_OFF) : NULL;
	out->oid = r + SHARD_D_OID;
	return 0;
}

/* The dictionary index of trigram, or -1. */
static int64_t dict_find(const struct shard *sh, uint32_t trigram)
{
	size_t lo = 0, hi = sh->n_trigrams;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t t = le32(sh->dict + mid * SHARD_TRI_SIZE + SHARD_G_TRIGRAM);

		if (t == trigram)
			return (int64_t)mid;
		if (t < trigram)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Entry i's list: [*off, *off + *len) within POSTINGS, and its count; checked before use. */
static int dict_list(const struct shard *sh, size_t i, uint64_t *off, uint64_t *len,
		     uint32_t *count)
{
	const uint8_t *e = sh->dict + i * SHARD_TRI_SIZE;
	uint64_t end = i + 1 < sh->n_trigrams ? le64(e + SHARD_TRI_SIZE + SHARD_G_OFFSET)
					      : sh->postings_len;

	*off = le64(e + SHARD_G_OFFSET);
	*count = le32(e + SHARD_G_COUNT);
	if (*off > end || end > sh->postings_len || *count == 0 || *count > sh->n_docs ||
	    end - *off < (uint64_t)*count * sh->list_min)
		return corrupt(sh, "trigram 0x%06x: postings at %llu..%llu (%u ids) do not fit "
			       "POSTINGS (%llu bytes)", le32(e + SHARD_G_TRIGRAM),
			       (unsigned long long)*off, (unsigned long long)end, *count,
			       (unsigned long long)sh->postings_len);
	*len = end - *off;
	return 0;
}

uint32_t shard_trigram_count(const struct shard *sh, uint32_t trigram)
{
	int64_t i = dict_find(sh, trigram);

	uint32_t n;

	if (i < 0)
		return 0;
	n = le32(sh->dict + (size_t)i * SHARD_TRI_SIZE + SHARD_G_COUNT);
	return n <= sh->n_docs ? n : sh->n_docs; /* only a cost estimate; checked on use */
}

/*
 * Decodes entry i's list into out; *masks gets its masks (version 3: the list's last
 * count bytes) or NULL.
 */
static int decode_list(struct u32vec *out, const uint8_t **masks, const struct shard *sh,
		       size_t i)
{
	uint64_t off = 0, len = 0;
	uint32_t count;
	int err;

	*masks = NULL;
	if ((err = dict_list(sh, i, &off, &len, &count)) < 0)
		return err;
	if (sh->version >= 3)
		len -= (uint64_t)count * SHARD_MASK_SIZE; /* dict_list checked that they fit */
	err = postings_decode(out, sh->postings + off, (size_t)len, count, sh->n_docs);
	if (err < 0) {
		error_prefix("%s: trigram 0x%06x",
			     sh->file, le32(sh->dict + i * SHARD_TRI_SIZE + SHARD_G_TRIGRAM));
		return err;
	}
	if (sh->version >= 3)
		*masks = sh->postings + off + len;
	return 0;
}

int shard_postings(struct u32vec *out, const struct shard *sh, uint32_t trigram)
{
	const uint8_t *masks;
	int64_t i = dict_find(sh, trigram);

	return i < 0 ? 0 : decode_list(out, &masks, sh, (size_t)i);
}

int shard_postings_masked(struct u32vec *out, const uint8_t **masks, const struct shard *sh,
			  uint32_t trigram)
{
	int64_t i = dict_find(sh, trigram);

	*masks = NULL;
	return i < 0 ? 0 : decode_list(out, masks, sh, (size_t)i);
}

bool shard_has_masks(const struct shard *sh)
{
	return sh->version >= 3;
}

/* The contents of the known sections the table gives a check (shard_section_def().check). */
static int check_contents(const struct shard *sh)
{
	for (uint32_t id = 1; id < SEC_ID_END; id++) {
		const struct shard_section_def *def = shard_section_def(id);
		const struct section *s = &sh->sec[id];
		int err;

		if (!def || !def->check || s->length == 0)
			continue;
		if ((err = def->check(sec_ptr(sh, (enum shard_section)id), s->length, s->count,
				      sh->n_docs)) < 0) {
			error_prefix("%s", sh->file);
			return err;
		}
	}
	return 0;
}

void shard_section(const uint8_t **p, uint64_t *len, uint32_t *count, const struct shard *sh,
		   uint32_t id)
{
	*p = NULL;
	*len = 0;
	*count = 0;
	if (!shard_section_def(id) || sh->sec[id].length == 0)
		return;
	*p = sec_ptr(sh, (enum shard_section)id);
	*len = sh->sec[id].length;
	*count = sh->sec[id].count;
}

int shard_verify(const struct shard *sh)
{
	struct u32vec ids;
	int err = 0;

	for (uint32_t i = 0; i < sh->n_toc; i++)
		if ((err = check_section_crc(sh, &sh->toc[i])) < 0)
			return err;
	if ((err = check_contents(sh)) < 0)
		return err;
	if ((err = check_docs(sh)) < 0 || (err = check_dict(sh)) < 0)
		return err;
	u32vec_init(&ids);
	for (size_t i = 0; i < sh->n_trigrams; i++) {
		const uint8_t *masks;

		ids.len = 0;
		if ((err = decode_list(&ids, &masks, sh, i)) < 0)
			break;
	}
	u32vec_dispose(&ids);
	return err;
}

size_t shard_n_unknown_sections(const struct shard *sh)
{
	size_t n = 0;

	for (uint32_t i = 0; i < sh->n_toc; i++)
		n += !shard_section_def(sh->toc[i].id);
	return n;
}

void shard_unknown_section(uint32_t *id, uint64_t *len, const struct shard *sh, size_t i)
{
	*id = 0;
	*len = 0;
	for (uint32_t k = 0; k < sh->n_toc; k++) {
		if (shard_section_def(sh->toc[k].id))
			continue;
		if (i-- == 0) {
			*id = sh->toc[k].id;
			*len = sh->toc[k].length;
			return;
		}
	}
}

void shard_drop_pages(const struct shard *sh)
{
	/*
	 * The mapping is private and read only, so its pages are clean file pages: the kernel
	 * drops them from this process and keeps them in the page cache; a query that reads one
	 * again maps it back from there.
	 */
	madvise((void *)(uintptr_t)sh->map, sh->map_len, MADV_DONTNEED);
}

const char *doc_skip_name(enum doc_skip s)
{
	switch (s) {
	case DOC_INDEXED: return "indexed";
	case DOC_SKIP_BINARY: return "binary";
	case DOC_SKIP_TOO_LARGE: return "too large";
	case DOC_SKIP_UNREADABLE: return "unreadable";
	case DOC_SKIP_SYMLINK: return "symlink";
	case DOC_SKIP_SUBMODULE: return "submodule";
	}
	return "unknown";
}
