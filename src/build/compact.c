/* Packing small repositories into compound shards; see compact.h. */
#include "build/compact.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/shard.h"
#include "symbols/symbols.h"
#include "util/error.h"
#include "util/file.h"
#include "util/strv.h"

/*
 * Branch names in one compound file at most: each document's branch set is a bitset over them,
 * so 8 bytes per document. A repository indexing more branches keeps its own shards.
 */
#define COMPACT_BRANCHES_MAX 64u

/* A repository of the index: its entry and its shards [first, first + n) of the index. */
struct repo {
	const struct index_repo_entry *e;
	size_t first, n;
	uint64_t bytes;    /* its share of its files' bytes */
	bool has_symbols;  /* every file of it has a SYMBOLS section (else none has) */
	bool frees_sparse; /* it is in a sparse compound file, which its move helps empty */
};

/* Repositories packed into one file. */
struct group {
	struct repo **v;
	size_t n, cap;
	char *names[COMPACT_BRANCHES_MAX]; /* the union of their branch names (borrowed) */
	size_t n_names;
	uint64_t bytes;
	bool has_branches, has_symbols;
};

struct compact {
	const char *dir;
	struct index *ix;
	uint64_t small, target;
	const char *const *keep;
	size_t n_keep;
	struct compact_stats *st;
	unsigned seq;
	uint64_t *file_bytes;  /* per file of ix: its size on disk */
	uint32_t *file_listed; /* per file: the documents the MANIFEST still lists */
	uint64_t *file_mark;   /* per file: group_files' last mark */
	uint8_t *file_check;   /* per file: FILE_UNCHECKED, FILE_GOOD or FILE_DAMAGED */
	uint64_t mark;
};

enum { FILE_UNCHECKED, FILE_GOOD, FILE_DAMAGED };

/* Whether file f is compound and at most half of its documents are still listed. */
static bool is_sparse(const struct compact *c, size_t f)
{
	const struct shard *sh = index_file(c->ix, f);

	return shard_n_repos(sh) > 1 && (uint64_t)c->file_listed[f] * 2 <= shard_n_docs(sh);
}

/*
 * Whether file f may be rewritten: it holds one repository, or is a compound file that is
 * sparse or under half the target size (so that the small files of successive syncs are merged
 * until they reach it, instead of piling up).
 */
static bool is_rewritable(const struct compact *c, size_t f)
{
	return shard_n_repos(index_file(c->ix, f)) <= 1 || is_sparse(c, f) ||
	       c->file_bytes[f] * 2 < c->target;
}

static int files_measure(struct compact *c)
{
	size_t n = index_n_files(c->ix);

	if (!(c->file_bytes = calloc(n + 1, sizeof(*c->file_bytes))) ||
	    !(c->file_listed = calloc(n + 1, sizeof(*c->file_listed))) ||
	    !(c->file_mark = calloc(n + 1, sizeof(*c->file_mark))) ||
	    !(c->file_check = calloc(n + 1, sizeof(*c->file_check))))
		return error_nomem(NULL);
	for (size_t f = 0; f < n; f++) {
		struct stat sb;

		if (stat(shard_file(index_file(c->ix, f)), &sb) != 0) {
			error_set("%s: %s", shard_file(index_file(c->ix, f)), strerror(errno));
			return TRAWL_EIO;
		}
		c->file_bytes[f] = (uint64_t)sb.st_size;
	}
	for (size_t i = 0; i < index_n_shards(c->ix); i++) {
		uint32_t lo, hi;

		index_shard_docs(c->ix, i, &lo, &hi);
		c->file_listed[index_shard_file(c->ix, i)] += hi - lo;
	}
	return 0;
}

/*
 * Whether each of r's files verifies (shard_verify: every checksum), each file checked once.
 * SECURITY: the sync before verified only the files of the repositories it synced; a damaged
 * file's text copied into a new file would get good checksums, and no check would find the
 * damage again. A repository with a damaged file stays as it is, for its own sync's check.
 * ENOMEM.
 */
static int repo_verified(bool *is_good, struct compact *c, const struct repo *r)
{
	*is_good = true;
	for (size_t i = r->first; i < r->first + r->n && *is_good; i++) {
		size_t f = index_shard_file(c->ix, i);

		if (c->file_check[f] == FILE_UNCHECKED) {
			int err = shard_verify(index_file(c->ix, f));

			if (err == TRAWL_ENOMEM)
				return err;
			c->file_check[f] = err < 0 ? FILE_DAMAGED : FILE_GOOD;
		}
		*is_good = c->file_check[f] == FILE_GOOD;
	}
	return 0;
}

/*
 * Whether r (first and n set) may be packed: each of its files may be rewritten, its share of
 * them is small, they agree on symbols, and its branches fit one file's table.
 */
static bool repo_eligible(const struct compact *c, struct repo *r)
{
	if (strv_find(c->keep, c->n_keep, r->e->name) != c->n_keep)
		return false;
	for (size_t i = r->first; i < r->first + r->n; i++) {
		size_t f = index_shard_file(c->ix, i);
		const struct shard *sh = index_file(c->ix, f);
		struct symsec sec;
		bool has = false, sparse = is_sparse(c, f);
		uint32_t lo, hi, n_docs = shard_n_docs(sh);

		if (!is_rewritable(c, f))
			return false;
		index_shard_docs(c->ix, i, &lo, &hi);
		r->bytes += n_docs ? c->file_bytes[f] / n_docs * (hi - lo) : c->file_bytes[f];
		if (symbols_open(&sec, &has, sh) < 0 || (i > r->first && has != r->has_symbols))
			return false;
		r->has_symbols = has;
		r->frees_sparse |= sparse;
	}
	return r->n > 0 && r->bytes <= c->small && r->e->n_branches <= COMPACT_BRANCHES_MAX;
}

/* The index of name among g's branch names, or g->n_names. */
static size_t name_at(const struct group *g, const char *name)
{
	for (size_t k = 0; k < g->n_names; k++)
		if (strcmp(g->names[k], name) == 0)
			return k;
	return g->n_names;
}

/* How many branch names g would have with r's. */
static size_t names_with(const struct group *g, const struct repo *r)
{
	size_t n = g->n_names;

	for (size_t k = 0; k < r->e->n_branches; k++)
		n += name_at(g, r->e->branches[k].name) == g->n_names;
	return n;
}

static int group_add(struct group *g, struct repo *r)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
		struct repo **v = realloc(g->v, cap * sizeof(*v));

		if (!v)
			return error_nomem(NULL);
		g->v = v;
		g->cap = cap;
	}
	g->v[g->n++] = r;
	g->bytes += r->bytes;
	for (size_t k = 0; k < r->e->n_branches; k++)
		if (name_at(g, r->e->branches[k].name) == g->n_names)
			g->names[g->n_names++] = r->e->branches[k].name;
	return 0;
}

/*
 * Copies r's live documents into w (its repository begun), each with its branches mapped onto
 * g's names and, with ext, its symbols.
 */
static int copy_repo(struct compact *c, struct shard_writer *w, struct symbols_ext *ext,
		     const struct group *g, const struct repo *r)
{
	uint8_t bset[COMPACT_BRANCHES_MAX / 8];
	uint64_t set[COMPACT_BRANCHES_MAX / 64];
	size_t map[COMPACT_BRANCHES_MAX], blen = (g->n_names + 7) / 8;
	int err;

	if ((err = shard_writer_begin_repo(w, r->e->name)) < 0)
		return err;
	for (size_t k = 0; k < r->e->n_branches; k++)
		map[k] = name_at(g, r->e->branches[k].name);
	for (size_t i = r->first; i < r->first + r->n; i++) {
		const struct shard *sh = index_shard(c->ix, i);
		struct symsec sec;
		bool has = false;
		uint32_t lo, hi;

		if (ext && (err = symbols_open(&sec, &has, sh)) < 0)
			return err;
		index_shard_docs(c->ix, i, &lo, &hi);
		for (uint32_t doc = lo; doc < hi; doc++) {
			struct shard_doc d;
			bool is_text;

			if ((err = shard_doc(&d, sh, doc)) < 0)
				return err;
			if (!index_doc_is_live(c->ix, i, doc, &d))
				continue; /* deleted by the overlay */
			memset(bset, 0, sizeof(bset));
			if (g->has_branches) {
				index_doc_branches(set, COMPACT_BRANCHES_MAX / 64, c->ix, i, doc, &d);
				for (size_t k = 0; k < r->e->n_branches; k++)
					if (set[k / 64] >> (k % 64) & 1)
						bset[map[k] / 8] |= (uint8_t)(1u << (map[k] % 8));
			}
			if (ext && has)
				symbols_ext_copy_from(ext, &sec, doc);
			is_text = d.skip == DOC_INDEXED;
			err = shard_writer_add_git(w, d.path, d.path_len, is_text ? d.content : NULL,
						   is_text ? d.content_len : 0, d.size, d.skip, d.lang,
						   d.oid, g->has_branches ? bset : NULL,
						   g->has_branches ? blen : 0);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

/* Writes g's repositories into one compound file and commits their entries. */
static int write_group(struct compact *c, struct group *g)
{
	char *name = index_shard_name(g->v[0]->e->name, c->seq++);
	char *path = name ? file_join(c->dir, name) : NULL;
	struct index_repo_entry *es = calloc(g->n, sizeof(*es));
	struct index_repo_entry *expects = calloc(g->n, sizeof(*expects));
	struct symbols_ext *ext = NULL;
	struct shard_writer *w = NULL;
	bool is_written = false;
	int err = 0;

	if (!path || !es || !expects) {
		err = error_nomem(NULL);
		goto out;
	}
	if ((g->has_symbols && (err = symbols_copy_ext_new(&ext)) < 0) ||
	    (err = shard_writer_new_compound(&w, path, ext ? symbols_ext_writer(ext) : NULL)) < 0 ||
	    (g->has_branches && (err = shard_writer_set_branches(w, g->names, g->n_names)) < 0))
		goto out;
	for (size_t k = 0; k < g->n && err == 0; k++)
		err = copy_repo(c, w, ext, g, g->v[k]);
	if (err < 0 || (err = shard_writer_finish(w)) < 0)
		goto out;
	is_written = true;
	for (size_t k = 0; k < g->n; k++) {
		const struct index_repo_entry *e = g->v[k]->e;

		es[k] = (struct index_repo_entry){ .name = e->name,
						   .shards = &name,
						   .n_shards = 1,
						   .branches = e->branches,
						   .n_branches = e->n_branches,
						   .n_base = 1,
						   .max_file_size = e->max_file_size };
		expects[k] = *e;
	}
	if ((err = index_commit_entries_expect(c->dir, es, expects, g->n)) < 0)
		goto out;
	c->st->repos += g->n;
	c->st->files++;
out:
	if (err < 0 && is_written)
		unlink(path); /* not listed: nothing refers to it */
	shard_writer_free(w);
	symbols_ext_free(ext);
	free(expects);
	free(es);
	free(path);
	free(name);
	return err;
}

/* The distinct files g's repositories list (c->file_mark: a mark per file, unique per call). */
static size_t group_files(struct compact *c, const struct group *g)
{
	size_t n = 0;

	c->mark++;
	for (size_t k = 0; k < g->n; k++)
		for (size_t i = g->v[k]->first; i < g->v[k]->first + g->v[k]->n; i++) {
			size_t f = index_shard_file(c->ix, i);

			n += c->file_mark[f] != c->mark;
			c->file_mark[f] = c->mark;
		}
	return n;
}

/*
 * Writes g when it puts several repositories' files into fewer (a repository alone keeps its
 * own, even with delta shards: packing it would only make its next change a full re-index) or
 * empties a sparse file; then empties g.
 */
static int group_flush(struct compact *c, struct group *g)
{
	bool frees = false;
	size_t before;
	int err = 0;

	for (size_t k = 0; k < g->n; k++)
		frees |= g->v[k]->frees_sparse;
	before = g->n ? group_files(c, g) : 0;
	if ((g->n > 1 && before > 1) || frees) {
		err = write_group(c, g);
		if (err == 0)
			c->st->files_before += before;
	}
	g->n = 0;
	g->n_names = 0;
	g->bytes = 0;
	return err;
}

/* Goes through the index's repositories, packing the eligible ones group by group. */
static int compact_run(struct compact *c)
{
	struct group groups[4] = { 0 };
	struct repo *repos = NULL;
	size_t n_repos = 0, n = index_n_shards(c->ix);
	int err = 0;

	if (!(repos = calloc(n + 1, sizeof(*repos))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n; i += repos[n_repos - 1].n) {
		struct repo *r = &repos[n_repos++];

		r->e = index_shard_entry(c->ix, i);
		r->first = i;
		r->n = 1;
		while (i + r->n < n && index_shard_entry(c->ix, i + r->n) == r->e)
			r->n++;
	}
	for (size_t k = 0; k < n_repos && err == 0; k++) {
		struct repo *r = &repos[k];
		struct group *g;
		bool is_good = false;

		if (!repo_eligible(c, r))
			continue;
		if ((err = repo_verified(&is_good, c, r)) < 0 || !is_good)
			continue;
		g = &groups[(r->e->n_branches > 0) * 2 + r->has_symbols];
		g->has_branches = r->e->n_branches > 0;
		g->has_symbols = r->has_symbols;
		if (g->n && (g->bytes + r->bytes > c->target ||
			     names_with(g, r) > COMPACT_BRANCHES_MAX))
			err = group_flush(c, g);
		if (err == 0)
			err = group_add(g, r);
	}
	for (size_t k = 0; k < 4; k++) {
		if (err == 0)
			err = group_flush(c, &groups[k]);
		free(groups[k].v);
	}
	free(repos);
	return err;
}

int build_compact(struct compact_stats *st, const char *index_dir, const struct compact_opts *o)
{
	struct compact c = { .dir = index_dir,
			     .small = o && o->small_bytes ? o->small_bytes : COMPACT_SMALL_BYTES,
			     .target = o && o->target_bytes ? o->target_bytes : COMPACT_TARGET_BYTES,
			     .keep = o ? o->keep : NULL,
			     .n_keep = o ? o->n_keep : 0,
			     .st = st };
	int writers = -1, err;

	memset(st, 0, sizeof(*st));
	if ((err = index_writer_begin(&writers, index_dir)) < 0)
		return err;
	err = index_open(&c.ix, index_dir);
	if (err == TRAWL_ENOTFOUND) {
		err = 0;
		goto out;
	}
	if (err < 0 || (err = files_measure(&c)) < 0 || (err = compact_run(&c)) < 0)
		goto out;
out:
	index_close(c.ix);
	free(c.file_bytes);
	free(c.file_listed);
	free(c.file_mark);
	free(c.file_check);
	index_writer_end(writers, index_dir, false);
	return err;
}
