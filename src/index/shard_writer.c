/*
 * The shard writer; see shard.h for the contract and shard_int.h / docs/index-format.md for the
 * format.
 *
 * DESIGN: content goes to the temporary file as each document is added (with its crc32 kept
 * running), so the writer never holds the contents of a shard. What it keeps per document is
 * its record, its path and the list of its distinct folded trigrams.
 *
 * Tokenizing is one tight loop per document: a rolling 24-bit trigram, a 2^24-bit bitmap (2 MiB)
 * for "already seen in this document", and a branch-free append of new trigrams to the pair
 * store (4 bytes per (trigram, document) pair, grouped by document, in chunks). After the
 * document the bits it set are cleared through its own list, and the per-trigram document
 * counts (2^24 u32, mostly untouched pages) are bumped.
 *
 * Finishing is a counting sort: the counts become bucket starts, one pass over the pair store
 * scatters each document id into its trigram's bucket (documents arrive in id order, so every
 * bucket comes out ascending), and one pass over the trigrams present writes the dictionary and
 * the varint posting lists. Peak memory is about 8 bytes per pair plus the counts, with no
 * comparison sort anywhere.
 *
 * Sections: the TOC lists every section of the table (shard_section_def(), shard_int.h), each
 * tagged with its table flags, so its size is known before the first content byte goes out.
 * shard_writer_finish() writes each section's bytes (begin_section, put_section); one it does
 * not write is listed empty. Adding a section is one write step there and its table entry.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>

#include "index/postings.h"
#include "index/shard.h"
#include "index/shard_int.h"
#include "util/array.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"
#include "util/trigram.h"
#include "util/utf8.h"

#define CHUNK_PAIRS ((size_t)1 << 20) /* 4 MiB of pairs per chunk */
#define TOKEN_WINDOW ((size_t)16 << 10) /* bytes tokenized per step, so a chunk wastes little */
#define OUT_BUF ((size_t)1 << 20)
#define SEEN_WORDS (TRIGRAM_SPACE / 64)
#define SUM_WORDS (SEEN_WORDS / 64)

/*
 * A writer's tables indexed by trigram (2-64 MiB each) come straight from mmap: zero pages the
 * kernel gives as they are first touched, so a small shard pays for the few pages it uses.
 * From malloc they were zeroed in full once glibc's adaptive mmap threshold had grown past
 * their size (after the first shard freed one), about 20 MiB of memset per shard.
 */
static void *table_new(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void table_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

struct doc_rec {
	uint64_t content_off;
	uint64_t content_len;
	uint64_t size;
	uint32_t path_off;
	uint32_t path_len;
	uint32_t flags;
	uint32_t n_tri; /* distinct trigrams, stored in the pair store in document order */
	uint8_t skip;
	uint16_t lang;
	uint32_t bset_off, bset_len;
	uint8_t oid[SHARD_OID_LEN];
};

struct chunk {
	uint32_t *v;
	uint8_t *m; /* the masks of v's pairs (shard.h, MASK_*), set at the end of each document */
	size_t len;
};

struct toc_entry {
	uint64_t offset;
	uint64_t length;
	uint32_t crc;
	uint32_t count;
	bool is_begun;
};

struct shard_writer {
	struct file_tmp tmp;
	char *repo; /* META's name: the repository's, or a compound shard's first one's */
	size_t repo_len;
	bool is_compound;
	struct buf repos;  /* a compound shard's REPOS section */
	uint32_t n_repos;
	uint64_t pos; /* where the next section byte goes */
	uint32_t content_crc;
	uint64_t content_bytes;
	struct doc_rec *docs;
	size_t n_docs, cap_docs;
	struct buf paths;
	struct buf branches; /* the BRANCHES section */
	uint32_t n_branches;
	struct buf bsets;    /* the BSETS section; a set equal to the previous one is shared */
	uint32_t last_bset_off, last_bset_len;
	uint64_t *seen;   /* one bit per trigram: set in the current document */
	uint8_t *acc;     /* per trigram, the current document's mask so far (shard.h, MASK_*) */
	uint32_t *counts; /* documents per trigram */
	/*
	 * The trigrams that occur in the shard (one bit each), and which of its words hold any (one
	 * bit per word): finishing a shard walks these, not all 2^24 counts, so a small shard costs
	 * little more than its content.
	 */
	uint64_t *distinct;
	uint64_t *distinct_sum;
	struct chunk *chunks;
	size_t n_chunks, cap_chunks;
	uint64_t n_pairs;
	struct toc_entry toc[SEC_ID_END]; /* indexed by enum shard_section */
	const struct shard_writer_ext *ext; /* a section made outside the writer, or NULL */
	int err; /* sticky: once an add or finish failed, the file is not trustworthy */
	bool is_finished;
};

static uint32_t crc_update(uint32_t crc, const void *data, uint64_t len)
{
	const uint8_t *p = data;

	/* zlib takes a uInt length. */
	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

/* Appends data to the file as (part of) section id, keeping its length and crc. */
static int put_section(struct shard_writer *w, enum shard_section id, const void *data,
		       uint64_t len)
{
	struct toc_entry *e = &w->toc[id];
	int err;

	if (len == 0)
		return 0;
	if ((err = file_write_all(w->tmp.fd, data, (size_t)len, w->tmp.final_path)) < 0)
		return err;
	e->crc = crc_update(e->crc, data, len);
	e->length += len;
	w->pos += len;
	return 0;
}

static void begin_section(struct shard_writer *w, enum shard_section id, uint32_t count)
{
	w->toc[id] = (struct toc_entry){ .offset = w->pos, .count = count, .is_begun = true };
}

/*
 * Whether the TOC lists section id: every one of the table, an external one with its ext, a
 * compound shard's own only in a compound shard.
 */
static bool is_listed(const struct shard_writer_ext *ext, bool is_compound, uint32_t id)
{
	const struct shard_section_def *def = shard_section_def(id);

	return def && (!def->is_external || (ext && ext->id == id)) &&
	       (!def->is_compound || is_compound);
}

static uint32_t n_toc_sections(const struct shard_writer_ext *ext, bool is_compound)
{
	uint32_t n = 0;

	for (uint32_t id = 1; id < SEC_ID_END; id++)
		n += is_listed(ext, is_compound, id);
	return n;
}

/* A repository name as META and REPOS hold it: 1..SHARD_REPO_MAX bytes, no NUL. */
static int repo_name_check(const char *path, const char *repo)
{
	size_t len = strlen(repo);

	if (len == 0 || len > SHARD_REPO_MAX) {
		error_set("%s: repository name must be 1 to %u bytes", path, SHARD_REPO_MAX);
		return TRAWL_EINVAL;
	}
	return 0;
}

static int refuse_if_failed(const struct shard_writer *w);

static int writer_new(struct shard_writer **out, const char *path, const char *repo,
		      const struct shard_writer_ext *ext, bool is_compound)
{
	static const uint8_t zero[SHARD_HEADER_SIZE + SHARD_SECTIONS_MAX * SHARD_TOC_ENTRY_SIZE];
	struct shard_writer *w;
	int err;

	*out = NULL;
	if (ext && (!shard_section_def(ext->id) || !shard_section_def(ext->id)->is_external ||
		    !ext->doc || !ext->finish)) {
		error_set("%s: section %u cannot be made by an extension", path, ext->id);
		return TRAWL_EINVAL;
	}
	if (repo && (err = repo_name_check(path, repo)) < 0)
		return err;
	w = calloc(1, sizeof(*w));
	if (!w)
		return error_nomem("writing a shard");
	w->tmp.fd = -1;
	w->ext = ext;
	w->is_compound = is_compound;
	buf_init(&w->paths, UINT32_MAX);
	buf_init(&w->branches, UINT32_MAX);
	buf_init(&w->bsets, UINT32_MAX);
	buf_init(&w->repos, UINT32_MAX);
	if (repo) {
		w->repo = strdup(repo);
		w->repo_len = strlen(repo);
	}
	w->seen = table_new(SEEN_WORDS * sizeof(*w->seen));
	/* 16 MiB of address space, touched like counts. */
	w->acc = table_new(TRIGRAM_SPACE * sizeof(*w->acc));
	/* 64 MiB of address space; only the pages of trigrams that occur are ever touched. */
	w->counts = table_new(TRIGRAM_SPACE * sizeof(*w->counts));
	w->distinct = table_new(SEEN_WORDS * sizeof(*w->distinct));
	w->distinct_sum = calloc(SUM_WORDS, sizeof(*w->distinct_sum));
	if ((repo && !w->repo) || !w->seen || !w->acc || !w->counts || !w->distinct || !w->distinct_sum) {
		err = error_nomem("writing a shard");
		goto out;
	}
	if ((err = file_tmp_open(&w->tmp, path)) < 0)
		goto out;
	/* The header and TOC are written last; reserve their place. */
	w->pos = shard_toc_end(n_toc_sections(ext, is_compound));
	if ((err = file_write_all(w->tmp.fd, zero, (size_t)w->pos, path)) < 0)
		goto out;
	begin_section(w, SEC_CONTENT, 0);
	*out = w;
	w = NULL;
out:
	shard_writer_free(w);
	return err;
}

int shard_writer_new(struct shard_writer **out, const char *path, const char *repo)
{
	return writer_new(out, path, repo, NULL, false);
}

int shard_writer_new_ext(struct shard_writer **out, const char *path, const char *repo,
			 const struct shard_writer_ext *ext)
{
	return writer_new(out, path, repo, ext, false);
}

int shard_writer_new_compound(struct shard_writer **out, const char *path,
			      const struct shard_writer_ext *ext)
{
	return writer_new(out, path, NULL, ext, true);
}

int shard_writer_begin_repo(struct shard_writer *w, const char *name)
{
	uint8_t rec[SHARD_R_FIXED];
	int err;

	if ((err = refuse_if_failed(w)) < 0)
		return err;
	if (!w->is_compound) {
		error_set("%s: only a compound shard holds several repositories",
			  w->tmp.final_path);
		return TRAWL_EINVAL;
	}
	if ((err = repo_name_check(w->tmp.final_path, name)) < 0)
		return err;
	if (w->n_repos == SHARD_REPOS_MAX) {
		error_set("%s: more than %u repositories in one shard", w->tmp.final_path,
			  SHARD_REPOS_MAX);
		return TRAWL_ELIMIT;
	}
	if (!w->repo && (!(w->repo = strdup(name)) || !(w->repo_len = strlen(name))))
		return error_nomem("writing a shard");
	put_le32(rec + SHARD_R_FIRST, (uint32_t)w->n_docs);
	put_le32(rec + SHARD_R_LEN, (uint32_t)strlen(name));
	if ((err = buf_put(&w->repos, rec, sizeof(rec))) < 0 ||
	    (err = buf_put(&w->repos, name, strlen(name))) < 0)
		return err;
	w->n_repos++;
	return 0;
}

uint64_t shard_writer_content_bytes(const struct shard_writer *w)
{
	return w->content_bytes;
}

static int refuse_if_failed(const struct shard_writer *w)
{
	if (w->err < 0) {
		error_set("%s: shard writer already failed", w->tmp.final_path);
		return w->err;
	}
	if (w->is_finished) {
		error_set("%s: shard already finished", w->tmp.final_path);
		return TRAWL_EINVAL;
	}
	return 0;
}

/* Makes sure the last chunk has room for n more pairs. */
static int chunk_room(struct shard_writer *w, size_t n)
{
	struct chunk *c = w->n_chunks ? &w->chunks[w->n_chunks - 1] : NULL;
	int err;

	if (c && CHUNK_PAIRS - c->len >= n)
		return 0;
	if ((err = ARRAY_GROW(&w->chunks, &w->cap_chunks, w->n_chunks + 1)) < 0)
		return err;
	c = &w->chunks[w->n_chunks];
	c->v = malloc(CHUNK_PAIRS * sizeof(*c->v));
	c->m = malloc(CHUNK_PAIRS * sizeof(*c->m));
	c->len = 0;
	if (!c->v || !c->m) {
		free(c->v);
		free(c->m);
		return error_nomem("writing a shard");
	}
	w->n_chunks++;
	return 0;
}

/* trigram_fold() without a branch; tests check that the two agree on every byte. */
static inline uint32_t fold(uint8_t c)
{
	return (uint32_t)c + (trigram_is_upper(c) << 5);
}

/*
 * Appends the distinct folded trigrams of p[0..n) to the pair store and counts them. Every
 * overlapping trigram is taken, including those holding '\n' or any other byte: the index holds
 * the document's whole folded trigram set, whatever the planner asks for. Each pair gets its
 * mask (shard.h, MASK_*): the case classes and the offsets modulo 4 it occurs at.
 */
static int tokenize(struct shard_writer *w, const uint8_t *p, size_t n, uint32_t *n_tri)
{
	uint64_t *seen = w->seen;
	uint8_t *acc = w->acc;
	size_t first_chunk, first_pos, total = 0;
	uint32_t t, uc;
	int err;

	*n_tri = 0;
	if (n < 3)
		return 0;
	if ((err = chunk_room(w, TOKEN_WINDOW)) < 0)
		return err;
	first_chunk = w->n_chunks - 1;
	first_pos = w->chunks[first_chunk].len;
	t = (fold(p[0]) << 8) | fold(p[1]);
	uc = (trigram_is_upper(p[0]) << 1) | trigram_is_upper(p[1]);
	for (size_t i = 2; i < n;) {
		size_t end = n - i > TOKEN_WINDOW ? i + TOKEN_WINDOW : n;
		struct chunk *c;
		uint32_t *list;
		size_t k = 0;

		if ((err = chunk_room(w, end - i)) < 0)
			return err;
		c = &w->chunks[w->n_chunks - 1];
		list = c->v + c->len;
		for (; i < end; i++) {
			uint64_t *word, old;

			t = ((t << 8) | fold(p[i])) & (TRIGRAM_SPACE - 1);
			uc = ((uc << 1) | trigram_is_upper(p[i])) & 7;
			acc[t] |= (uint8_t)(mask_case_bit(uc) | (MASK_OFFSET_BIT0 << ((i - 2) & 3)));
			word = &seen[t >> 6];
			old = *word;
			/* Always store, advance only when new: no unpredictable branch. */
			list[k] = t;
			k += !((old >> (t & 63)) & 1);
			*word = old | ((uint64_t)1 << (t & 63));
		}
		c->len += k;
		total += k;
	}
	/* Clear this document's bits, keep its masks and count it once per trigram. */
	for (size_t ci = first_chunk, pos = first_pos; ci < w->n_chunks; ci++, pos = 0) {
		const struct chunk *c = &w->chunks[ci];
		uint32_t *counts = w->counts;

		for (size_t j = pos; j < c->len; j++) {
			uint32_t x = c->v[j];

			seen[x >> 6] = 0;
			c->m[j] = acc[x];
			acc[x] = 0;
			if (counts[x]++ == 0) {
				w->distinct[x >> 6] |= (uint64_t)1 << (x & 63);
				w->distinct_sum[x >> 12] |= (uint64_t)1 << ((x >> 6) & 63);
			}
		}
	}
	w->n_pairs += total;
	*n_tri = (uint32_t)total;
	return 0;
}

int shard_writer_set_branches(struct shard_writer *w, char *const *names, size_t n)
{
	int err;

	if ((err = refuse_if_failed(w)) < 0)
		return err;
	if (w->n_docs || w->n_branches) {
		error_set("%s: branches must be declared once, before any document",
			  w->tmp.final_path);
		return TRAWL_EINVAL;
	}
	if (n > SHARD_BRANCHES_MAX) {
		error_set("%s: more than %u branches in one shard", w->tmp.final_path,
			  SHARD_BRANCHES_MAX);
		return TRAWL_ELIMIT;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		uint8_t le[4];

		if (len == 0 || len > SHARD_BRANCH_MAX) {
			error_set("%s: branch name of %zu bytes (1 to %u)", w->tmp.final_path, len,
				  SHARD_BRANCH_MAX);
			return TRAWL_EINVAL;
		}
		put_le32(le, (uint32_t)len);
		if ((err = buf_put(&w->branches, le, 4)) < 0 ||
		    (err = buf_put(&w->branches, names[i], len)) < 0)
			return err;
	}
	w->n_branches = (uint32_t)n;
	return 0;
}

/* Whether set is a valid bitset for the declared branches. */
static bool bset_ok(const struct shard_writer *w, const uint8_t *set, size_t len)
{
	bool any = false;

	if (w->n_branches == 0)
		return len == 0;
	if (len == 0 || !set || len > (w->n_branches + 7) / 8)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = set[i];

		if (i == len - 1 && (w->n_branches & 7) && len == (w->n_branches + 7) / 8)
			b &= (uint8_t)((1u << (w->n_branches & 7)) - 1);
		if (b != set[i])
			return false; /* a bit beyond the last branch */
		any |= b != 0;
	}
	return any;
}

/* Stores the document's bitset (sharing the previous document's when equal). */
static int put_bset(struct shard_writer *w, struct doc_rec *d, const uint8_t *set, size_t len)
{
	int err;

	if (len == 0)
		return 0;
	if (w->last_bset_len == len && memcmp(w->bsets.ptr + w->last_bset_off, set, len) == 0) {
		d->bset_off = w->last_bset_off;
		d->bset_len = w->last_bset_len;
		return 0;
	}
	if (len > UINT32_MAX - w->bsets.len) {
		error_set("%s: more than 4 GiB of branch sets in one shard", w->tmp.final_path);
		return TRAWL_ELIMIT;
	}
	d->bset_off = (uint32_t)w->bsets.len;
	d->bset_len = (uint32_t)len;
	if ((err = buf_put(&w->bsets, set, len)) < 0)
		return err;
	w->last_bset_off = d->bset_off;
	w->last_bset_len = d->bset_len;
	return 0;
}

int shard_writer_add(struct shard_writer *w, const char *path, size_t path_len,
		     const uint8_t *content, size_t content_len, uint64_t size, enum doc_skip skip,
		     uint16_t lang)
{
	return shard_writer_add_git(w, path, path_len, content, content_len, size, skip, lang, NULL,
				    NULL, 0);
}

int shard_writer_add_git(struct shard_writer *w, const char *path, size_t path_len,
			 const uint8_t *content, size_t content_len, uint64_t size,
			 enum doc_skip skip, uint16_t lang, const uint8_t *oid, const uint8_t *bset,
			 size_t bset_len)
{
	struct doc_rec *d;
	int err;

	if ((err = refuse_if_failed(w)) < 0)
		return err;
	if ((unsigned)skip > SHARD_SKIP_MAX || (skip != DOC_INDEXED && content_len) ||
	    (content_len && !content)) {
		error_set("%s: invalid document (skip %d, %zu content bytes)", w->tmp.final_path,
			  (int)skip, content_len);
		return TRAWL_EINVAL;
	}
	if (w->is_compound && w->n_repos == 0) {
		error_set("%s: a compound shard's document before its repository",
			  w->tmp.final_path);
		return TRAWL_EINVAL;
	}
	if (!bset_ok(w, bset, bset_len)) {
		error_set("%s: invalid branch set for a shard of %u branches (%zu bytes)",
			  w->tmp.final_path, w->n_branches, bset_len);
		return TRAWL_EINVAL;
	}
	if (w->n_docs >= UINT32_MAX) {
		error_set("%s: more than %u documents in one shard", w->tmp.final_path, UINT32_MAX);
		return TRAWL_ELIMIT;
	}
	if (path_len > UINT32_MAX - w->paths.len) {
		error_set("%s: more than 4 GiB of paths in one shard", w->tmp.final_path);
		return TRAWL_ELIMIT;
	}
	if ((err = ARRAY_GROW(&w->docs, &w->cap_docs, w->n_docs + 1)) < 0)
		return err;
	d = &w->docs[w->n_docs];
	*d = (struct doc_rec){ .content_off = w->content_bytes, .content_len = content_len,
			       .size = size, .path_off = (uint32_t)w->paths.len,
			       .path_len = (uint32_t)path_len, .skip = (uint8_t)skip, .lang = lang };
	if (oid)
		memcpy(d->oid, oid, SHARD_OID_LEN);
	else
		memset(d->oid, 0, SHARD_OID_LEN);
	if ((err = put_bset(w, d, bset, bset_len)) < 0)
		return err; /* nothing changed but an unreferenced set */
	if ((err = buf_put(&w->paths, path, path_len)) < 0)
		return err; /* nothing changed yet */
	if (content_len) {
		if ((err = put_section(w, SEC_CONTENT, content, content_len)) < 0 ||
		    (err = tokenize(w, content, content_len, &d->n_tri)) < 0) {
			w->err = err;
			return err;
		}
		w->content_bytes += content_len;
		if (!utf8_is_valid(content, content_len))
			d->flags |= DOC_INVALID_UTF8;
	}
	if (w->ext && (err = w->ext->doc(w->ext->arg, (uint32_t)w->n_docs, path, path_len,
					 content, content_len, skip, lang)) < 0) {
		w->err = err;
		return err;
	}
	w->n_docs++;
	return 0;
}

/* Walks the pair store, dropping each document id and its masks into its trigram's bucket. */
static void scatter(struct shard_writer *w, uint32_t *dest, uint8_t *dest_m)
{
	uint32_t *next = w->counts; /* bucket starts on entry, bucket ends on return */
	size_t ci = 0, cj = 0;

	for (size_t d = 0; d < w->n_docs; d++) {
		uint32_t left = w->docs[d].n_tri;

		while (left) {
			struct chunk *c = &w->chunks[ci];
			size_t take = c->len - cj < left ? c->len - cj : left;
			const uint32_t *s = c->v + cj;
			const uint8_t *m = c->m + cj;

			for (size_t k = 0; k < take; k++) {
				dest_m[next[s[k]]] = m[k];
				dest[next[s[k]]++] = (uint32_t)d;
			}
			cj += take;
			left -= (uint32_t)take;
			if (cj == c->len) {
				free(c->v);
				free(c->m);
				c->v = NULL;
				c->m = NULL;
				ci++;
				cj = 0;
			}
		}
	}
}

/* A walk over the shard's distinct trigrams in ascending order. */
struct tri_walk {
	const uint64_t *sum, *bits;
	size_t si, wi;
	uint64_t sb, wb;
};

static void tri_walk_init(struct tri_walk *it, const struct shard_writer *w)
{
	*it = (struct tri_walk){ .sum = w->distinct_sum, .bits = w->distinct, .sb = w->distinct_sum[0] };
}

static bool tri_walk_next(struct tri_walk *it, uint32_t *t)
{
	while (!it->wb) {
		while (!it->sb) {
			if (++it->si >= SUM_WORDS)
				return false;
			it->sb = it->sum[it->si];
		}
		it->wi = it->si * 64 + (size_t)__builtin_ctzll(it->sb);
		it->sb &= it->sb - 1;
		it->wb = it->bits[it->wi];
	}
	*t = (uint32_t)(it->wi * 64 + (size_t)__builtin_ctzll(it->wb));
	it->wb &= it->wb - 1;
	return true;
}

/* Writes POSTINGS (each list's ids, then their masks) and builds the TRIGRAMS dictionary. */
static int write_postings(struct shard_writer *w, uint8_t **dict, uint32_t *n_trigrams)
{
	uint32_t *counts = w->counts, *dest = NULL, t;
	uint8_t *dest_m = NULL;
	uint8_t *out = NULL, *d = NULL;
	size_t out_len = 0, out_cap = OUT_BUF, n_tri = 0, dest_n;
	uint64_t list_off = 0, prev_end = 0;
	uint32_t total = 0;
	struct tri_walk it;
	int err = 0;

	*dict = NULL;
	*n_trigrams = 0;
	/* Bucket starts; each count fits a uint32_t, and so does every start (n_pairs checked). */
	if (w->n_pairs > UINT32_MAX || w->n_pairs > SIZE_MAX / sizeof(*dest)) {
		error_set("%s: more than %u trigram postings in one shard", w->tmp.final_path,
			  UINT32_MAX);
		return TRAWL_ELIMIT;
	}
	tri_walk_init(&it, w);
	while (tri_walk_next(&it, &t)) {
		uint32_t c = counts[t];

		counts[t] = total;
		total += c;
		n_tri++;
	}
	dest_n = (size_t)w->n_pairs;
	dest = malloc(dest_n ? dest_n * sizeof(*dest) : 1);
	dest_m = malloc(dest_n ? dest_n * sizeof(*dest_m) : 1);
	d = malloc(n_tri ? n_tri * SHARD_TRI_SIZE : 1);
	out = malloc(out_cap);
	if (!dest || !dest_m || !d || !out) {
		err = error_nomem("writing a shard");
		goto out;
	}
	scatter(w, dest, dest_m);
	begin_section(w, SEC_POSTINGS, 0);
	n_tri = 0;
	tri_walk_init(&it, w);
	while (tri_walk_next(&it, &t)) {
		uint64_t end = counts[t];
		size_t n = (size_t)(end - prev_end), room = n * (POSTINGS_ID_MAX + SHARD_MASK_SIZE);
		uint8_t *e = d + n_tri * SHARD_TRI_SIZE;

		if (out_cap - out_len < room) {
			if ((err = put_section(w, SEC_POSTINGS, out, out_len)) < 0)
				goto out;
			out_len = 0;
			if (room > out_cap) {
				uint8_t *bigger = realloc(out, room);

				if (!bigger) {
					err = error_nomem("writing a shard");
					goto out;
				}
				out = bigger;
				out_cap = room;
			}
		}
		put_le32(e + SHARD_G_TRIGRAM, t);
		put_le32(e + SHARD_G_COUNT, (uint32_t)n);
		put_le64(e + SHARD_G_OFFSET, list_off);
		room = postings_encode_raw(out + out_len, dest + prev_end, n);
		memcpy(out + out_len + room, dest_m + prev_end, n * SHARD_MASK_SIZE);
		room += n * SHARD_MASK_SIZE;
		out_len += room;
		list_off += room;
		prev_end = end;
		n_tri++;
	}
	err = put_section(w, SEC_POSTINGS, out, out_len);
out:
	if (err == 0) {
		*dict = d;
		*n_trigrams = (uint32_t)n_tri;
		d = NULL;
	}
	free(d);
	free(dest);
	free(dest_m);
	free(out);
	return err;
}

static int write_docs(struct shard_writer *w)
{
	uint8_t rec[SHARD_DOC_SIZE * 256];
	size_t n = 0;
	int err;

	begin_section(w, SEC_DOCS, (uint32_t)w->n_docs);
	for (size_t i = 0; i < w->n_docs; i++) {
		const struct doc_rec *d = &w->docs[i];
		uint8_t *r = rec + n * SHARD_DOC_SIZE;

		put_le64(r + SHARD_D_CONTENT_OFF, d->content_off);
		put_le64(r + SHARD_D_CONTENT_LEN, d->content_len);
		put_le64(r + SHARD_D_SIZE, d->size);
		put_le32(r + SHARD_D_PATH_OFF, d->path_off);
		put_le32(r + SHARD_D_PATH_LEN, d->path_len);
		put_le32(r + SHARD_D_FLAGS, d->flags);
		r[SHARD_D_SKIP] = d->skip;
		r[SHARD_D_RESERVED] = 0;
		put_le16(r + SHARD_D_LANG, d->lang);
		put_le32(r + SHARD_D_BSET_OFF, d->bset_off);
		put_le32(r + SHARD_D_BSET_LEN, d->bset_len);
		memcpy(r + SHARD_D_OID, d->oid, SHARD_OID_LEN);
		if (++n == 256) {
			if ((err = put_section(w, SEC_DOCS, rec, sizeof(rec))) < 0)
				return err;
			n = 0;
		}
	}
	return put_section(w, SEC_DOCS, rec, n * SHARD_DOC_SIZE);
}

static int write_meta(struct shard_writer *w, uint32_t n_trigrams)
{
	uint8_t m[SHARD_META_FIXED] = { 0 };
	int err;

	begin_section(w, SEC_META, 0);
	put_le32(m + SHARD_M_N_DOCS, (uint32_t)w->n_docs);
	put_le32(m + SHARD_M_N_TRIGRAMS, n_trigrams);
	put_le64(m + SHARD_M_N_POSTINGS, w->n_pairs);
	put_le64(m + SHARD_M_CONTENT_BYTES, w->content_bytes);
	put_le32(m + SHARD_M_REPO_LEN, (uint32_t)w->repo_len);
	if ((err = put_section(w, SEC_META, m, sizeof(m))) < 0)
		return err;
	return put_section(w, SEC_META, w->repo, w->repo_len);
}

/* The extension's section (shard_writer_set_ext), when there is one. */
static int write_ext(struct shard_writer *w)
{
	struct buf out;
	uint32_t count = 0;
	int err;

	if (!w->ext)
		return 0;
	buf_init(&out, UINT32_MAX);
	if ((err = w->ext->finish(w->ext->arg, &out, &count, (uint32_t)w->n_docs)) == 0) {
		begin_section(w, (enum shard_section)w->ext->id, count);
		err = put_section(w, (enum shard_section)w->ext->id, out.ptr, out.len);
	}
	buf_dispose(&out);
	return err;
}

static int write_header(struct shard_writer *w)
{
	uint8_t h[SHARD_HEADER_SIZE + SHARD_SECTIONS_MAX * SHARD_TOC_ENTRY_SIZE] = { 0 };
	uint8_t *e = h + SHARD_HEADER_SIZE;
	uint32_t n = n_toc_sections(w->ext, w->is_compound);
	size_t len = (size_t)shard_toc_end(n);

	memcpy(h + SHARD_H_MAGIC, SHARD_MAGIC, SHARD_MAGIC_LEN);
	put_le32(h + SHARD_H_VERSION, SHARD_VERSION);
	put_le32(h + SHARD_H_FLAGS, 0);
	put_le32(h + SHARD_H_N_SECTIONS, n);
	put_le64(h + SHARD_H_FILE_SIZE, w->pos);
	for (uint32_t id = 1; id < SEC_ID_END; id++) {
		const struct shard_section_def *def = shard_section_def(id);
		const struct toc_entry *t = &w->toc[id];

		if (!is_listed(w->ext, w->is_compound, id))
			continue;
		/* A section not written is listed empty at the end of the file, tiling nothing. */
		put_le32(e + SHARD_T_ID, id);
		put_le32(e + SHARD_T_FLAGS, def->flags);
		put_le64(e + SHARD_T_OFFSET, t->is_begun ? t->offset : w->pos);
		put_le64(e + SHARD_T_LENGTH, t->length);
		put_le32(e + SHARD_T_CRC, t->crc);
		put_le32(e + SHARD_T_COUNT, t->count);
		e += SHARD_TOC_ENTRY_SIZE;
	}
	put_le32(h + SHARD_H_CRC, (uint32_t)crc32(0, h, (uInt)len));
	return file_pwrite_all(w->tmp.fd, h, len, 0, w->tmp.final_path);
}

int shard_writer_finish(struct shard_writer *w)
{
	uint8_t *dict = NULL;
	uint32_t n_trigrams = 0;
	int err;

	if ((err = refuse_if_failed(w)) < 0)
		return err;
	if (w->is_compound && w->n_repos == 0) {
		error_set("%s: a compound shard needs a repository", w->tmp.final_path);
		err = TRAWL_EINVAL;
		goto out;
	}
	if ((err = write_postings(w, &dict, &n_trigrams)) < 0)
		goto out;
	/* The sort's memory is no longer needed: give it back before writing the rest. */
	table_free(w->counts, TRIGRAM_SPACE * sizeof(*w->counts));
	w->counts = NULL;
	begin_section(w, SEC_TRIGRAMS, n_trigrams);
	if ((err = put_section(w, SEC_TRIGRAMS, dict, (uint64_t)n_trigrams * SHARD_TRI_SIZE)) < 0)
		goto out;
	free(dict);
	dict = NULL;
	if ((err = write_docs(w)) < 0)
		goto out;
	begin_section(w, SEC_PATHS, 0);
	if ((err = put_section(w, SEC_PATHS, w->paths.ptr, w->paths.len)) < 0)
		goto out;
	begin_section(w, SEC_BRANCHES, w->n_branches);
	if ((err = put_section(w, SEC_BRANCHES, w->branches.ptr, w->branches.len)) < 0)
		goto out;
	begin_section(w, SEC_BSETS, 0);
	if ((err = put_section(w, SEC_BSETS, w->bsets.ptr, w->bsets.len)) < 0)
		goto out;
	begin_section(w, SEC_REPOS, w->n_repos);
	if ((err = put_section(w, SEC_REPOS, w->repos.ptr, w->repos.len)) < 0 ||
	    (err = write_ext(w)) < 0 || (err = write_meta(w, n_trigrams)) < 0 ||
	    (err = write_header(w)) < 0 ||
	    (err = file_tmp_commit(&w->tmp)) < 0)
		goto out;
	w->is_finished = true;
out:
	free(dict);
	if (err < 0)
		w->err = err;
	return err;
}

void shard_writer_free(struct shard_writer *w)
{
	if (!w)
		return;
	if (w->tmp.fd >= 0 || w->tmp.tmp_path || w->tmp.final_path)
		file_tmp_dispose(&w->tmp);
	for (size_t i = 0; i < w->n_chunks; i++) {
		free(w->chunks[i].v);
		free(w->chunks[i].m);
	}
	free(w->chunks);
	free(w->docs);
	buf_dispose(&w->paths);
	buf_dispose(&w->branches);
	buf_dispose(&w->bsets);
	buf_dispose(&w->repos);
	table_free(w->seen, SEEN_WORDS * sizeof(*w->seen));
	table_free(w->acc, TRIGRAM_SPACE * sizeof(*w->acc));
	table_free(w->counts, TRIGRAM_SPACE * sizeof(*w->counts));
	table_free(w->distinct, SEEN_WORDS * sizeof(*w->distinct));
	free(w->distinct_sum);
	free(w->repo);
	free(w);
}
