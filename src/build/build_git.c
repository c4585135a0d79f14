/*
 * Git repository indexing; see build.h and docs/git.md.
 *
 * DESIGN: a full run lists the committed tree of every selected branch (src/git/walk.c, sizes
 * from object headers only), sorts the entries by (path, kind, blob) and merges equal ones into
 * one document with a set of branches, then hands the sorted documents to the shared pipeline
 * (build_int.h), whose threads each open the repository themselves (libgit2 objects are not
 * shared) and read one blob at a time.
 *
 * An incremental run starts from the MANIFEST entry of the previous run: it reads the old
 * shards' document records (path, kind, blob id, branch set, with the overlay applied), diffs
 * the tree indexed before against the new one for each branch that moved (src/git/diff.c),
 * clears the branch from the documents that left it and sets it on those that arrived. An
 * arriving (path, kind, blob) that no document holds becomes a new document in a delta shard;
 * old documents whose set changed are listed in the new overlay. Old shards are never written.
 * Because a document is keyed by (path, kind, blob) in both kinds of run, and the full run
 * makes one document per key, the two give the same documents on the same branches.
 */
#include "build/build.h"
#include "build/build_int.h"
#include "build/gitapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "git/diff.h"
#include "git/repo.h"
#include "git/walk.h"
#include "index/shard.h"
#include "query/lang.h"
#include "symbols/symbols.h"
#include "util/array.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"

/* All the paths of one repository (the list held while indexing it). */
#define PATHS_MAX ((size_t)1 << 30)

enum gentry_kind {
	GE_BLOB,
	GE_SYMLINK,
	GE_SUBMODULE,
	GE_MISSING, /* a blob whose header could not be read */
};

struct gentry {
	size_t path_off; /* within the paths arena */
	uint32_t path_len;
	uint8_t kind;     /* enum gentry_kind */
	uint64_t size;    /* from the object header; 0 for a submodule or a missing blob */
	struct gitrepo_oid oid;
	uint32_t branch;  /* while listing: the branch whose tree holds it */
};

struct glist {
	struct gitrepo *r;
	struct gentry *v;
	size_t n, cap;
	struct buf paths;
	struct build_stats *st;
	uint32_t branch; /* the branch being listed */
};

#define DELTA_SHARDS_MAX 8   /* more delta shards than this: rebuild */
#define DELTA_PERCENT 10     /* more content in deltas than this share of the base: rebuild */
#define INCR_FALLBACK 1      /* an incremental run cannot be exact: do a full one */

int build_git_init(void)
{
	return gitrepo_global_init();
}

void build_git_shutdown(void)
{
	gitrepo_global_shutdown();
}

enum build_git_kind build_git_probe(const char *root)
{
	switch (gitrepo_probe(root)) {
	case GITREPO_OK: return BUILD_GIT_REPO;
	case GITREPO_BROKEN: return BUILD_GIT_BROKEN;
	default: return BUILD_GIT_NONE;
	}
}

int build_git_branches(char ***out, size_t *n, size_t *n_invalid, const char *root,
		       char *const *patterns, size_t n_patterns)
{
	struct gitrepo *r = NULL;
	int err;

	*out = NULL;
	*n = *n_invalid = 0;
	if ((err = gitrepo_open(&r, root)) < 0)
		return err;
	err = gitrepo_branches(out, n, n_invalid, r, patterns, n_patterns);
	gitrepo_close(r);
	return err;
}

void build_git_names_free(char **names)
{
	gitrepo_names_free(names);
}

bool build_git_branch_pattern_valid(const char *pattern)
{
	return gitrepo_branch_pattern_valid(pattern);
}

/* Records one entry (path, kind, object) found on l->branch, sized from its object header. */
static int list_push(struct glist *l, const char *path, size_t path_len, enum gitwalk_kind kind,
		     const struct gitrepo_oid *oid)
{
	struct gentry *e;
	enum gitrepo_otype type;
	uint64_t size = 0;
	int err;

	if ((err = ARRAY_GROW(&l->v, &l->cap, l->n + 1)) < 0)
		return err;
	e = &l->v[l->n];
	*e = (struct gentry){ .path_off = l->paths.len, .path_len = (uint32_t)path_len,
			      .oid = *oid, .branch = l->branch };
	if ((err = buf_put(&l->paths, path, path_len)) < 0) {
		if (err == TRAWL_ELIMIT)
			error_set("the paths of the repository exceed %zu bytes (limit)", PATHS_MAX);
		return err;
	}
	if (kind == GITWALK_SUBMODULE) {
		e->kind = GE_SUBMODULE;
	} else {
		err = gitrepo_object_header(&type, &size, l->r, oid);
		if (err == TRAWL_ENOMEM)
			return err;
		if (kind == GITWALK_SYMLINK) {
			e->kind = GE_SYMLINK;
			e->size = err < 0 ? 0 : size;
		} else if (err < 0 || type != GITREPO_OBJ_BLOB) {
			e->kind = GE_MISSING;
		} else {
			e->kind = GE_BLOB;
			e->size = size;
		}
	}
	l->n++;
	return 0;
}

static int list_add(const struct gitwalk_entry *we, void *arg)
{
	return list_push(arg, we->path, we->path_len, we->kind, &we->oid);
}

/* Documents are keyed by (path, class, blob): a symlink and a file are never one document. */
static int kind_class(uint8_t kind)
{
	return kind == GE_SYMLINK ? 1 : kind == GE_SUBMODULE ? 2 : 0;
}

static int cmp_key(const char *pa, size_t la, int ca, const uint8_t *oa, const char *pb,
		   size_t lb, int cb, const uint8_t *ob)
{
	size_t n = la < lb ? la : lb;
	int c = memcmp(pa, pb, n);

	if (c)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	if (ca != cb)
		return ca < cb ? -1 : 1;
	return memcmp(oa, ob, GITREPO_OID_RAWSZ);
}

static int cmp_gentry(const void *a, const void *b, void *arg)
{
	const struct gentry *x = a, *y = b;
	const char *base = arg;
	int c = cmp_key(base + x->path_off, x->path_len, kind_class(x->kind), x->oid.id,
			base + y->path_off, y->path_len, kind_class(y->kind), y->oid.id);

	if (c)
		return c;
	return (x->branch > y->branch) - (x->branch < y->branch);
}

/* The documents of a run: merged entries and their branch bitsets (set_bytes each). */
struct gdocs {
	struct glist l;    /* entries; after merging, one per document */
	uint8_t *sets;     /* l.n * set_bytes */
	size_t set_bytes;
};

/* Sorts the listed entries and merges equal keys into documents with branch sets. */
static int docs_merge(struct gdocs *d, size_t n_branches)
{
	struct glist *l = &d->l;
	size_t w = 0;

	d->set_bytes = (n_branches + 7) / 8;
	if (l->n)
		qsort_r(l->v, l->n, sizeof(*l->v), cmp_gentry, l->paths.ptr);
	d->sets = calloc(l->n ? l->n : 1, d->set_bytes ? d->set_bytes : 1);
	if (!d->sets)
		return error_nomem("merging branches");
	for (size_t i = 0; i < l->n; i++) {
		const struct gentry *e = &l->v[i];

		if (w == 0 || cmp_key(l->paths.ptr + l->v[w - 1].path_off, l->v[w - 1].path_len,
				      kind_class(l->v[w - 1].kind), l->v[w - 1].oid.id,
				      l->paths.ptr + e->path_off, e->path_len, kind_class(e->kind),
				      e->oid.id) != 0)
			l->v[w++] = *e;
		d->sets[(w - 1) * d->set_bytes + e->branch / 8] |= (uint8_t)(1u << (e->branch % 8));
	}
	l->n = w;
	return 0;
}

static void docs_dispose(struct gdocs *d)
{
	free(d->l.v);
	buf_dispose(&d->l.paths);
	free(d->sets);
	d->l.v = NULL;
	d->sets = NULL;
}

static uint64_t gentry_weight(const struct gentry *e, uint64_t max_file_size)
{
	return e->kind != GE_BLOB || e->size > max_file_size ? 0 : e->size;
}

/* The pipeline's source: documents to write, with the branch table of the shards. */
struct gsrc {
	const char *git_dir;
	const struct build_opts *o;
	const struct gdocs *d;
	char *const *branch_names;
	size_t n_branches;
};

static uint64_t g_weight(void *arg, size_t i)
{
	const struct gsrc *g = arg;

	return gentry_weight(&g->d->l.v[i], g->o->max_file_size);
}

static int g_thread_open(void **ctx, void *arg)
{
	const struct gsrc *g = arg;

	/* Each thread has its own repository: libgit2 objects are not shared across threads. */
	return gitrepo_open((struct gitrepo **)ctx, g->git_dir);
}

static void g_thread_close(void *ctx)
{
	gitrepo_close(ctx);
}

static int g_writer_init(struct shard_writer *w, void *arg)
{
	const struct gsrc *g = arg;

	return shard_writer_set_branches(w, g->branch_names, g->n_branches);
}

/* Reads one document's blob (if it is to be indexed) and adds it. */
static int g_add(struct pipeline *p, struct shard_writer *sw, void *ctx, size_t i)
{
	const struct gsrc *g = pipeline_src_arg(p);
	const struct gentry *e = &g->d->l.v[i];
	struct gitrepo *r = ctx;
	uint64_t max = g->o->max_file_size;
	const char *path = g->d->l.paths.ptr + e->path_off;
	struct gitrepo_blob b = { 0 };
	enum doc_skip skip = DOC_INDEXED;
	uint64_t size = e->size;
	int err;

	switch (e->kind) {
	case GE_SYMLINK: skip = DOC_SKIP_SYMLINK; break; /* SECURITY: F1: never followed */
	case GE_SUBMODULE: skip = DOC_SKIP_SUBMODULE; break;
	case GE_MISSING: skip = DOC_SKIP_UNREADABLE; break;
	case GE_BLOB:
		if (size > max) {
			skip = DOC_SKIP_TOO_LARGE; /* decided from the header: the blob is not read */
			break;
		}
		err = gitrepo_blob_read(&b, r, &e->oid, max);
		if (err == TRAWL_ENOMEM)
			return err;
		if (err == TRAWL_ELIMIT) {
			skip = DOC_SKIP_TOO_LARGE;
		} else if (err < 0) {
			skip = DOC_SKIP_UNREADABLE;
		} else {
			size = b.len;
			if (memchr(b.data ? (const void *)b.data : "", 0,
				   b.len < BUILD_BINARY_PROBE ? b.len : BUILD_BINARY_PROBE))
				skip = DOC_SKIP_BINARY;
		}
		break;
	}
	pipeline_count(p, skip, skip == DOC_INDEXED ? b.len : 0, e->kind == GE_BLOB ? e->size : 0);
	err = shard_writer_add_git(sw, path, e->path_len, b.data, skip == DOC_INDEXED ? b.len : 0,
				   size, skip, lang_detect(path, e->path_len), e->oid.id,
				   g->d->sets + i * g->d->set_bytes, g->d->set_bytes);
	gitrepo_blob_dispose(&b);
	return err;
}

/* Counts the documents of d into st (files, bytes, symlinks, submodules). */
static void docs_stats(struct build_stats *st, const struct gdocs *d)
{
	st->files = d->l.n;
	st->bytes = st->symlinks = st->submodules = 0;
	for (size_t i = 0; i < d->l.n; i++) {
		const struct gentry *e = &d->l.v[i];

		st->bytes += e->kind == GE_BLOB ? e->size : 0;
		st->symlinks += e->kind == GE_SYMLINK;
		st->submodules += e->kind == GE_SUBMODULE;
	}
}

/* The run's state shared by the full and the incremental paths. */
struct run {
	struct build_stats *st;
	struct build_git_result *res;
	struct build_git_output *out; /* the entry made */
	const char *index_dir;        /* where the old shards are */
	const char *out_dir;          /* where the new ones go */
	const char *name;
	struct gitrepo *r;
	const struct build_opts *o;
	struct build_git_limits lim;
	char **names;                /* selected branches, sorted; res->branches in the same order */
	struct gitrepo_oid *trees;   /* each branch's tree */
	double deadline_ms;
	build_progress_fn progress;
	void *arg;
};

static int check_deadline(const struct run *rn)
{
	if (rn->deadline_ms <= 0 || clock_now_ms() <= rn->deadline_ms)
		return 0;
	error_set("limit: indexing took more than %llu seconds",
		  (unsigned long long)rn->lim.max_seconds);
	return TRAWL_ELIMIT;
}

/* The repository limits on the documents that will make up the index. */
static int check_limits(const struct run *rn, uint64_t n_docs, uint64_t bytes)
{
	if (n_docs > rn->lim.max_files) {
		error_set("limit: more than %llu files", (unsigned long long)rn->lim.max_files);
		return TRAWL_ELIMIT;
	}
	if (rn->lim.max_bytes && bytes > rn->lim.max_bytes) {
		error_set("limit: more than %llu bytes to index (%llu)",
			  (unsigned long long)rn->lim.max_bytes, (unsigned long long)bytes);
		return TRAWL_ELIMIT;
	}
	return check_deadline(rn);
}

/* Writes d's documents into new shards through the pipeline. */
static int write_docs(char ***files, size_t *n_files, struct run *rn, const struct gdocs *d,
		      bool is_empty_ok)
{
	struct gsrc g = { gitrepo_path(rn->r), rn->o, d, rn->names, rn->res->n_branches };
	struct pipeline_src src = { .n = d->l.n, .arg = &g, .weight = g_weight,
				    .thread_open = g_thread_open, .thread_close = g_thread_close,
				    .writer_init = g_writer_init, .add = g_add };
	struct pipeline_opts po = { .index_dir = rn->out_dir,
				    .name = rn->name,
				    .n_threads = rn->o->n_threads,
				    .is_single_thread = !gitrepo_threads_ok(),
				    .is_empty_ok = is_empty_ok,
				    .deadline_ms = rn->deadline_ms,
				    .max_seconds = rn->lim.max_seconds,
				    .symbols = rn->o->symbols };

	return pipeline_run(files, n_files, rn->st, &src, &po, rn->progress, rn->arg);
}

/* A full run: every branch walked, every document written. */
static int run_full(struct run *rn)
{
	struct gdocs d = { 0 };
	struct gitwalk_limits wl;
	struct gitwalk_stats ws;
	char **files = NULL;
	size_t n_files = 0;
	uint64_t bytes = 0;
	int err;

	buf_init(&d.l.paths, PATHS_MAX);
	d.l.r = rn->r;
	d.l.st = rn->st;
	gitwalk_limits_default(&wl, rn->lim.max_files);
	for (size_t b = 0; b < rn->res->n_branches; b++) {
		d.l.branch = (uint32_t)b;
		err = gitwalk_run(&ws, rn->r, &rn->trees[b], &wl, list_add, &d.l);
		rn->st->trees_skipped += ws.trees_skipped;
		rn->st->paths_too_long += ws.paths_too_long;
		rn->st->bad_names += ws.bad_names;
		if (err < 0) {
			if (rn->res->n_branches > 1 || strcmp(rn->names[b], "HEAD") != 0)
				error_prefix("branch %s", rn->names[b]);
			goto out;
		}
		rn->res->branches[b].is_reindexed = true;
		if ((err = check_deadline(rn)) < 0)
			goto out;
	}
	if ((err = docs_merge(&d, rn->res->n_branches)) < 0)
		goto out;
	docs_stats(rn->st, &d);
	for (size_t i = 0; i < d.l.n; i++)
		bytes += gentry_weight(&d.l.v[i], rn->o->max_file_size);
	if ((err = check_limits(rn, d.l.n, bytes)) < 0 ||
	    (err = write_docs(&files, &n_files, rn, &d, false)) < 0)
		goto out;
	if (!(rn->out->e.name = strdup(rn->name))) {
		err = error_nomem(NULL);
		goto out;
	}
	rn->out->e.shards = files;
	rn->out->e.n_shards = rn->out->e.n_base = n_files;
	rn->out->e.max_file_size = rn->o->max_file_size;
	files = NULL; /* transferred */
	rn->st->shards = n_files;
out:
	pipeline_files_free(files, n_files, rn->out_dir, err < 0);
	docs_dispose(&d);
	return err;
}

/* An old document, as the previous runs left it. */
struct odoc {
	uint32_t shard, doc;
	const char *path; /* in the shard's mapping */
	uint32_t path_len;
	uint8_t cls;      /* kind_class */
	const uint8_t *oid;
	uint64_t weight;  /* content bytes */
	size_t set;       /* index of its sets in cur and orig */
};

struct incr {
	struct run *rn;
	const struct index_repo_entry *old;
	struct shard **shards;
	size_t n_shards;
	struct odoc *docs;
	size_t n_docs;
	uint8_t *cur;  /* each document's branches now (n_docs * set_bytes) */
	uint8_t *orig; /* the branches its shard records, in the new branch numbering */
	size_t set_bytes;
	struct gdocs add; /* arriving (path, kind, blob) that no old document holds */
	uint64_t changed;
};

/* The new number of a branch name, or -1. */
static long branch_index(const struct run *rn, const char *name, size_t len)
{
	for (size_t i = 0; i < rn->res->n_branches; i++)
		if (strlen(rn->names[i]) == len && memcmp(rn->names[i], name, len) == 0)
			return (long)i;
	return -1;
}

static int cmp_odoc(const void *a, const void *b)
{
	const struct odoc *x = a, *y = b;

	return cmp_key(x->path, x->path_len, x->cls, x->oid, y->path, y->path_len, y->cls, y->oid);
}

static int doc_class(enum doc_skip skip)
{
	return skip == DOC_SKIP_SYMLINK ? 1 : skip == DOC_SKIP_SUBMODULE ? 2 : 0;
}

static int walk_class(enum gitwalk_kind k)
{
	return k == GITWALK_SYMLINK ? 1 : k == GITWALK_SUBMODULE ? 2 : 0;
}

static void set_bit(uint8_t *set, size_t b, bool on)
{
	if (on)
		set[b / 8] |= (uint8_t)(1u << (b % 8));
	else
		set[b / 8] &= (uint8_t)~(1u << (b % 8));
}

/* Reads one old shard's documents with their branch sets (the overlay applied). */
static int load_shard(struct incr *in, size_t k, const long *old_to_new, size_t *ov)
{
	const struct index_repo_entry *old = in->old;
	struct shard *sh = in->shards[k];
	uint32_t nb = shard_n_branches(sh), n = shard_n_docs(sh);
	long *map = calloc(nb ? nb : 1, sizeof(*map));
	int err = 0;

	if (!map)
		return error_nomem(NULL);
	for (uint32_t b = 0; b < nb; b++) {
		size_t len;
		const char *bn = shard_branch(sh, b, &len);

		map[b] = branch_index(in->rn, bn, len);
	}
	for (uint32_t id = 0; id < n; id++) {
		struct odoc *o = &in->docs[in->n_docs];
		uint8_t *orig = in->orig + in->n_docs * in->set_bytes;
		uint8_t *cur = in->cur + in->n_docs * in->set_bytes;
		struct shard_doc d;

		if ((err = shard_doc(&d, sh, id)) < 0)
			break;
		*o = (struct odoc){ (uint32_t)k, id, d.path, (uint32_t)d.path_len,
				    (uint8_t)doc_class(d.skip), d.oid, d.content_len, in->n_docs };
		for (size_t byte = 0; byte < d.bset_len; byte++)
			for (unsigned bit = 0; bit < 8; bit++)
				if ((d.bset[byte] >> bit) & 1) {
					if (map[byte * 8 + bit] < 0) {
						err = INCR_FALLBACK; /* a branch no longer selected */
						goto out;
					}
					set_bit(orig, (size_t)map[byte * 8 + bit], true);
				}
		memcpy(cur, orig, in->set_bytes);
		if (*ov < old->n_overlay && old->overlay[*ov].shard == k &&
		    old->overlay[*ov].doc == id) {
			const struct index_overlay *x = &old->overlay[(*ov)++];

			memset(cur, 0, in->set_bytes);
			for (size_t j = 0; j < x->n_branches; j++) {
				if (old_to_new[x->branches[j]] < 0) {
					err = INCR_FALLBACK;
					goto out;
				}
				set_bit(cur, (size_t)old_to_new[x->branches[j]], true);
			}
		}
		in->n_docs++;
	}
out:
	free(map);
	return err;
}

/*
 * Whether shard sh has a SYMBOLS section exactly when want says: an index never mixes shards
 * with and without symbols (a damaged section counts as different: the full run remakes it).
 */
static bool same_symbols(const struct shard *sh, bool want)
{
	struct symsec s;
	bool has = false;

	return symbols_open(&s, &has, sh) == 0 && has == want;
}

/* Opens the old shards and loads every document, sorted by key for lookups. */
static int incr_load(struct incr *in)
{
	const struct index_repo_entry *old = in->old;
	long *old_to_new = calloc(old->n_branches + 1, sizeof(*old_to_new));
	size_t total = 0, ov = 0;
	int err = 0;

	in->set_bytes = (in->rn->res->n_branches + 7) / 8;
	in->shards = calloc(old->n_shards + 1, sizeof(*in->shards));
	if (!old_to_new || !in->shards) {
		err = TRAWL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < old->n_branches; i++)
		old_to_new[i] = branch_index(in->rn, old->branches[i].name,
					     strlen(old->branches[i].name));
	for (size_t k = 0; k < old->n_shards; k++) {
		char *path = file_join(in->rn->index_dir, old->shards[k]);

		if (!path) {
			err = TRAWL_ENOMEM;
			goto out;
		}
		err = shard_open(&in->shards[k], path);
		free(path);
		if (err < 0)
			goto out;
		in->n_shards++;
		total += shard_n_docs(in->shards[k]);
		/*
		 * Kept shards with symbols exactly when this run makes them, else a full run; and a
		 * full run for a repository packed into a compound shard (build/compact.h): its
		 * other repositories' documents are not this one's to keep or count.
		 */
		if (!same_symbols(in->shards[k], in->rn->o->symbols != NULL) ||
		    shard_n_repos(in->shards[k]) > 1) {
			err = INCR_FALLBACK;
			goto out;
		}
	}
	in->docs = calloc(total + 1, sizeof(*in->docs));
	in->cur = calloc(total + 1, in->set_bytes);
	in->orig = calloc(total + 1, in->set_bytes);
	if (!in->docs || !in->cur || !in->orig) {
		err = TRAWL_ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < in->n_shards && err == 0; k++)
		err = load_shard(in, k, old_to_new, &ov);
	if (err == 0) {
		qsort(in->docs, in->n_docs, sizeof(*in->docs), cmp_odoc);
		for (size_t i = 1; i < in->n_docs; i++)
			if (cmp_odoc(&in->docs[i - 1], &in->docs[i]) == 0)
				err = INCR_FALLBACK; /* not made by this design: start afresh */
	}
out:
	if (err == TRAWL_ENOMEM)
		error_set("out of memory reading the previous index");
	free(old_to_new);
	return err;
}

/* The old document with this key, or NULL. */
static struct odoc *incr_find(struct incr *in, const char *path, size_t len, int cls,
			      const uint8_t *oid)
{
	size_t lo = 0, hi = in->n_docs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct odoc *o = &in->docs[mid];
		int c = cmp_key(path, len, cls, oid, o->path, o->path_len, o->cls, o->oid);

		if (c == 0)
			return o;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static size_t path_depth(const char *p, size_t n)
{
	size_t d = 0;

	for (size_t i = 0; i < n; i++)
		d += p[i] == '/';
	return d;
}

/* One difference on branch in->add.l.branch: the branch leaves the old key, joins the new. */
static int on_delta(const struct gitdiff_entry *e, void *arg)
{
	struct incr *in = arg;
	uint32_t b = in->add.l.branch;
	struct odoc *o;

	/* The walk's limits would leave such entries out; only a full run applies them exactly. */
	if (e->path_len > GITWALK_MAX_PATH_DEFAULT / 2 ||
	    path_depth(e->path, e->path_len) >= GITWALK_MAX_DEPTH_DEFAULT / 2)
		return INCR_FALLBACK;
	in->changed++;
	if (e->old_side.is_present) {
		o = incr_find(in, e->path, e->path_len, walk_class(e->old_side.kind),
			      e->old_side.oid.id);
		if (!o)
			return INCR_FALLBACK; /* the index does not hold what it says it indexed */
		set_bit(in->cur + o->set * in->set_bytes, b, false);
	}
	if (e->new_side.is_present) {
		o = incr_find(in, e->path, e->path_len, walk_class(e->new_side.kind),
			      e->new_side.oid.id);
		if (o)
			set_bit(in->cur + o->set * in->set_bytes, b, true);
		else
			return list_push(&in->add.l, e->path, e->path_len, e->new_side.kind,
					 &e->new_side.oid);
	}
	return 0;
}

static void incr_dispose(struct incr *in)
{
	for (size_t k = 0; k < in->n_shards; k++)
		shard_close(in->shards[k]);
	free(in->shards);
	free(in->docs);
	free(in->cur);
	free(in->orig);
	docs_dispose(&in->add);
}

/* The new overlay: every old document whose branches differ from its shard's record. */
static int incr_overlay(struct index_repo_entry *e, const struct incr *in)
{
	size_t nb = in->rn->res->n_branches;

	e->overlay = calloc(in->n_docs + 1, sizeof(*e->overlay));
	if (!e->overlay)
		return TRAWL_ENOMEM;
	for (size_t i = 0; i < in->n_docs; i++) {
		const struct odoc *o = &in->docs[i];
		const uint8_t *cur = in->cur + o->set * in->set_bytes;
		struct index_overlay *x;

		if (memcmp(cur, in->orig + o->set * in->set_bytes, in->set_bytes) == 0)
			continue;
		x = &e->overlay[e->n_overlay++];
		*x = (struct index_overlay){ .shard = o->shard, .doc = o->doc };
		x->branches = calloc(nb + 1, sizeof(*x->branches));
		if (!x->branches)
			return TRAWL_ENOMEM;
		for (size_t b = 0; b < nb; b++)
			if ((cur[b / 8] >> (b % 8)) & 1)
				x->branches[x->n_branches++] = (uint32_t)b;
	}
	return 0;
}

/* Whether the deltas have grown enough that a full rebuild is due. */
static bool incr_compact_due(const struct incr *in, uint64_t new_bytes, size_t n_overlay)
{
	uint64_t base = 0, delta = new_bytes;
	size_t n_delta = in->n_shards - in->old->n_base + (in->add.l.n ? 1 : 0);

	for (size_t k = 0; k < in->n_shards; k++)
		*(k < in->old->n_base ? &base : &delta) += shard_content_bytes(in->shards[k]);
	if (n_delta > DELTA_SHARDS_MAX)
		return true;
	/* Small repositories are cheap to rebuild but are not worth churning: 1 MiB floor. */
	if (delta > ((uint64_t)1 << 20) && delta * 100 > base * DELTA_PERCENT)
		return true;
	return n_overlay > 100000 && n_overlay * 100 > in->n_docs * DELTA_PERCENT;
}

/*
 * An incremental run. INCR_FALLBACK when it cannot be exact (previous commits gone, an entry
 * the walk would leave out, a document missing): the caller runs a full one.
 */
static int run_incr(struct run *rn, const struct index_repo_entry *old)
{
	struct incr in = { .rn = rn, .old = old };
	struct index_repo_entry e = { 0 };
	char **files = NULL;
	size_t n_files = 0;
	uint64_t live = 0, bytes = 0, new_bytes = 0;
	bool moved = false;
	int err;

	buf_init(&in.add.l.paths, PATHS_MAX);
	in.add.l.r = rn->r;
	in.add.l.st = rn->st;
	if ((err = incr_load(&in)) != 0)
		goto out;
	for (size_t b = 0; b < rn->res->n_branches; b++) {
		struct build_git_branch *br = &rn->res->branches[b];
		long ob = -1;
		struct gitrepo_oid old_tree;

		for (size_t i = 0; i < old->n_branches && ob < 0; i++)
			if (strcmp(old->branches[i].name, br->name) == 0)
				ob = (long)i;
		if (ob >= 0 && strcmp(old->branches[ob].commit, br->commit) == 0)
			continue;
		moved = true;
		br->is_reindexed = true;
		in.add.l.branch = (uint32_t)b;
		if (ob >= 0 && (err = gitrepo_commit_tree(&old_tree, rn->r,
							  old->branches[ob].commit)) < 0) {
			err = err == TRAWL_ENOMEM ? err : INCR_FALLBACK; /* e.g. a forced push, gc'd */
			goto out;
		}
		err = gitdiff_trees(rn->r, ob >= 0 ? &old_tree : NULL, &rn->trees[b], on_delta, &in);
		if (err != 0)
			goto out;
		if ((err = check_deadline(rn)) < 0)
			goto out;
	}
	for (size_t b = 0; b < rn->res->n_branches; b++)
		for (size_t i = 0; i < old->n_branches; i++)
			if (strcmp(old->branches[i].name, rn->names[b]) == 0 &&
			    old->branches[i].is_default != rn->res->branches[b].is_default)
				moved = true;
	if (old->n_branches != rn->res->n_branches)
		moved = true;
	if ((err = docs_merge(&in.add, rn->res->n_branches)) < 0)
		goto out;
	docs_stats(rn->st, &in.add);
	for (size_t i = 0; i < in.n_docs; i++) {
		const uint8_t *cur = in.cur + in.docs[i].set * in.set_bytes;
		bool any = false;

		for (size_t k = 0; k < in.set_bytes; k++)
			any |= cur[k] != 0;
		live += any;
		bytes += any ? in.docs[i].weight : 0;
	}
	for (size_t i = 0; i < in.add.l.n; i++)
		new_bytes += gentry_weight(&in.add.l.v[i], rn->o->max_file_size);
	/* The limits hold for the repository as a whole, even when nothing moved. */
	if ((err = check_limits(rn, live + in.add.l.n, bytes + new_bytes)) < 0)
		goto out;
	rn->res->is_incremental = true;
	rn->res->changed_files = in.changed;
	if (!moved) {
		rn->res->is_unchanged = true;
		goto out;
	}
	e = (struct index_repo_entry){ .n_base = old->n_base, .max_file_size = rn->o->max_file_size };
	if ((err = incr_overlay(&e, &in)) < 0) {
		error_set("out of memory");
		goto out;
	}
	if (incr_compact_due(&in, new_bytes, e.n_overlay)) {
		err = INCR_FALLBACK;
		goto out;
	}
	if ((err = write_docs(&files, &n_files, rn, &in.add, true)) < 0)
		goto out;
	/* The entry owns its names: the old ones copied, the new ones taken from files. */
	if (!(e.shards = calloc(old->n_shards + n_files + 1, sizeof(*e.shards))) ||
	    !(e.name = strdup(rn->name))) {
		err = error_nomem(NULL);
		goto out;
	}
	for (size_t k = 0; k < old->n_shards; k++, e.n_shards++)
		if (!(e.shards[k] = strdup(old->shards[k]))) {
			err = error_nomem(NULL);
			goto out;
		}
	for (size_t k = 0; k < n_files; k++) {
		e.shards[e.n_shards++] = files[k];
		files[k] = NULL; /* transferred */
	}
	rn->out->e = e;
	rn->out->n_kept = old->n_shards;
	e = (struct index_repo_entry){ 0 }; /* transferred */
	rn->st->shards = n_files;
	rn->res->delta_shards = n_files;
out:
	index_repo_entry_dispose(&e);
	pipeline_files_free(files, n_files, rn->out_dir, err != 0);
	incr_dispose(&in);
	return err;
}

/* The selected branch names (sorted), HEAD's branch, and which one is the default. */
static int select_branches(struct run *rn, size_t *n, char *const *patterns,
			   size_t n_patterns)
{
	char *head = NULL;
	int err;

	if ((err = gitrepo_head_branch(&head, rn->r)) < 0)
		return err;
	if (n_patterns) {
		err = gitrepo_branches(&rn->names, n, &rn->res->n_invalid, rn->r, patterns,
				       n_patterns);
	} else {
		rn->names = calloc(2, sizeof(*rn->names));
		if (rn->names && (rn->names[0] = strdup(head ? head : "HEAD")))
			*n = 1;
		else
			err = TRAWL_ENOMEM;
	}
	if (err == 0) {
		rn->res->branches = calloc(*n + 1, sizeof(*rn->res->branches));
		rn->trees = calloc(*n + 1, sizeof(*rn->trees));
		if (!rn->res->branches || !rn->trees)
			err = TRAWL_ENOMEM;
	}
	for (size_t i = 0; err == 0 && i < *n; i++) {
		struct build_git_branch *b = &rn->res->branches[i];

		if (!(b->name = strdup(rn->names[i]))) {
			err = TRAWL_ENOMEM;
			break;
		}
		rn->res->n_branches++;
		b->is_default = head && strcmp(head, b->name) == 0;
		/* Without patterns HEAD itself is read (it may be detached, or not born yet). */
		err = gitrepo_resolve(&rn->trees[i], b->commit, rn->r,
				      n_patterns ? b->name : NULL);
	}
	if (err == 0 && *n) {
		bool any = false;

		for (size_t i = 0; i < *n; i++)
			any |= rn->res->branches[i].is_default;
		if (!any)
			rn->res->branches[0].is_default = true; /* HEAD's branch is not selected */
	}
	if (err == TRAWL_ENOMEM)
		error_set("out of memory");
	free(head);
	return err;
}

int build_git_produce(struct build_stats *st, struct build_git_output *out, const char *out_dir,
		      const char *index_dir, const struct index_repo_entry *old, const char *name,
		      const char *root, char *const *patterns, size_t n_patterns,
		      const struct build_opts *o, const struct build_git_limits *lim,
		      build_progress_fn progress, void *arg)
{
	struct run rn = { .st = st,
			  .res = &out->res,
			  .out = out,
			  .index_dir = index_dir,
			  .out_dir = out_dir,
			  .name = name,
			  .o = o,
			  .progress = progress,
			  .arg = arg };
	struct build_git_result *res = &out->res;
	bool can_incr;
	size_t n = 0;
	double t0 = clock_now_ms();
	int err;

	memset(st, 0, sizeof(*st));
	*out = (struct build_git_output){ 0 };
	if (lim)
		rn.lim = *lim;
	if (!rn.lim.max_files)
		rn.lim.max_files = BUILD_MAX_FILES_DEFAULT;
	if (rn.lim.max_seconds)
		rn.deadline_ms = t0 + (double)rn.lim.max_seconds * 1e3;
	if (!build_name_valid(name)) {
		error_set("invalid repository name \"%s\" (1-200 bytes, no '/', '\\' or control "
			  "characters, not starting with '-')", name);
		err = TRAWL_EINVAL;
		goto out;
	}
	if ((err = gitrepo_open(&rn.r, root)) < 0)
		goto out;
	if (gitrepo_has_alternates(rn.r)) {
		/* SECURITY: objects borrowed from another repository are not read (src/git/repo.h). */
		error_set("%s: borrows objects from another repository (objects/info/alternates, as "
			  "made by git clone --shared or --reference), which trawl does not follow; "
			  "index a full clone", root);
		err = TRAWL_EUNSUPPORTED;
		goto out;
	}
	if ((err = select_branches(&rn, &n, patterns, n_patterns)) < 0) {
		error_prefix("%s", root);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (res->branches[i].is_default)
			snprintf(st->commit, sizeof(st->commit), "%s", res->branches[i].commit);
	can_incr = old && old->n_branches > 0 && old->max_file_size == o->max_file_size &&
		   old->n_shards > 0;
	for (size_t i = 0; can_incr && i < old->n_branches; i++)
		can_incr =
			branch_index(&rn, old->branches[i].name, strlen(old->branches[i].name)) >= 0;
	err = can_incr ? run_incr(&rn, old) : INCR_FALLBACK;
	if (err == INCR_FALLBACK) {
		char commit[sizeof(st->commit)];

		memcpy(commit, st->commit, sizeof(commit));
		memset(st, 0, sizeof(*st));
		memcpy(st->commit, commit, sizeof(commit));
		res->is_incremental = res->is_unchanged = false;
		res->changed_files = 0;
		for (size_t i = 0; i < res->n_branches; i++)
			res->branches[i].is_reindexed = false;
		err = run_full(&rn);
	}
	if (err < 0 && err != TRAWL_ELIMIT && err != TRAWL_ENOMEM)
		error_prefix("%s", root);
out:
	gitrepo_names_free(rn.names);
	free(rn.trees);
	gitrepo_close(rn.r);
	if (err < 0)
		build_git_output_dispose(out, out_dir);
	st->elapsed_ms = clock_now_ms() - t0;
	return err;
}

int build_git_repo(struct build_stats *st, struct build_git_result *res, const char *index_dir,
		   const char *name, const char *root, char *const *patterns, size_t n_patterns,
		   const struct build_opts *o, const struct build_git_limits *lim,
		   build_progress_fn progress, void *arg)
{
	struct build_git_output out = { 0 };
	struct index_repo_entry old = { 0 };
	bool has_old = false;
	double t0 = clock_now_ms();
	int writers = -1, err;

	memset(st, 0, sizeof(*st));
	*res = (struct build_git_result){ 0 };
	if (!build_name_valid(name)) {
		error_set("invalid repository name \"%s\" (1-200 bytes, no '/', '\\' or control "
			  "characters, not starting with '-')",
			  name);
		err = TRAWL_EINVAL;
		goto out;
	}
	/* The lock is held from before the first file is written until after the commit. */
	if ((err = file_mkdirs(index_dir)) < 0 || (err = index_writer_begin(&writers, index_dir)) < 0)
		goto out;
	err = index_read_repo(&old, index_dir, name);
	if (err == TRAWL_ENOTFOUND)
		err = 0;
	else if (err == 0)
		has_old = true;
	else
		goto out;
	if ((err = build_git_produce(st, &out, index_dir, index_dir, has_old ? &old : NULL, name,
				     root, patterns, n_patterns, o, lim, progress, arg)) < 0)
		goto out;
	if (!out.res.is_unchanged && (err = build_commit(index_dir, NULL, &out, &old)) < 0) {
		build_git_output_dispose(&out, index_dir);
		goto out;
	}
	*res = out.res;
	out.res = (struct build_git_result){ 0 }; /* transferred */
out:
	index_writer_end(writers, index_dir, err == 0 && !res->is_unchanged);
	index_repo_entry_dispose(&old);
	build_git_output_dispose(&out, NULL);
	st->elapsed_ms = clock_now_ms() - t0;
	return err;
}

/* The module's one export (build/gitapi.h); the binary checks abi and size before any call. */
const struct trawl_git_api trawl_git_api = {
	.abi = TRAWL_GIT_ABI,
	.size = sizeof(struct trawl_git_api),
	.init = build_git_init,
	.shutdown = build_git_shutdown,
	.probe = build_git_probe,
	.branches = build_git_branches,
	.names_free = build_git_names_free,
	.branch_pattern_valid = build_git_branch_pattern_valid,
	.build_repo = build_git_repo,
	.result_free = build_git_result_free,
	.url_check = gitmirror_url_check,
	.mirror_sync = gitmirror_sync,
	.produce = build_git_produce,
	.config_isolate = gitrepo_config_isolate,
	.show = gitshow_read,
	.show_dispose = gitshow_result_dispose,
};
