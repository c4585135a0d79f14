/*
 * Git repository indexing; see build.h and docs/git.md.
 *
 * DESIGN: the same shape as build_dir (build.c): list, sort, cut into shards by size, write
 * whole shards on parallel threads, commit atomically. The list comes from the committed tree
 * (src/git/walk.c) instead of the file system, and each entry's size from its object header, so
 * shard boundaries are fixed before any blob is read. libgit2 objects are not shared between
 * threads: every writer thread opens the repository itself and reads one blob at a time.
 *
 * The planning and thread code mirrors build.c's (which is private to it); a later change can
 * share it through a build_int.h.
 */
#include "build/build.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "git/repo.h"
#include "git/walk.h"
#include "index/shard.h"
#include "query/lang.h"
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
};

struct glist {
	struct gitrepo *r;
	struct gentry *v;
	size_t n, cap;
	struct buf paths;
	struct build_stats *st;
};

struct gtask {
	size_t first, n;
	char *file; /* shard file name, relative to the index directory */
	int err;
	char errmsg[512];
};

struct gpipe {
	const char *index_dir;
	const char *name;
	const char *git_dir;
	const struct build_opts *o;
	struct glist *l;
	struct gtask *tasks;
	size_t n_tasks;
	atomic_size_t next_task;
	atomic_uint_fast64_t files_done, bytes_done;
	atomic_uint_fast64_t indexed, indexed_bytes, binary, large, unreadable;
	atomic_bool failed;
	atomic_uint running;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

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

char *build_git_repo_name(const char *name, const char *branch)
{
	struct buf b;

	if (!build_name_valid(name)) {
		error_set("invalid repository name \"%s\" (1-200 bytes, no '/', '\\' or control "
			  "characters, not starting with '-')", name);
		return NULL;
	}
	if (branch && !gitrepo_branch_name_valid(branch)) {
		error_set("invalid branch name");
		return NULL;
	}
	buf_init(&b, BUF_MAX_DEFAULT);
	if (buf_puts(&b, name) < 0 || (branch && buf_printf(&b, "@%s", branch) < 0)) {
		buf_dispose(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* The walk's callback: records one entry and its size (from the object header only). */
static int list_add(const struct gitwalk_entry *we, void *arg)
{
	struct glist *l = arg;
	struct gentry *e;
	enum gitrepo_otype type;
	uint64_t size = 0;
	int err;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct gentry *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			error_set("out of memory listing files");
			return TRAWL_ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	e = &l->v[l->n];
	*e = (struct gentry){ .path_off = l->paths.len, .path_len = (uint32_t)we->path_len,
			      .oid = we->oid };
	if ((err = buf_put(&l->paths, we->path, we->path_len)) < 0) {
		if (err == TRAWL_ELIMIT)
			error_set("the paths of the repository exceed %zu bytes (limit)", PATHS_MAX);
		return err;
	}
	switch (we->kind) {
	case GITWALK_SUBMODULE:
		e->kind = GE_SUBMODULE;
		l->st->submodules++;
		break;
	case GITWALK_SYMLINK:
	case GITWALK_BLOB:
	case GITWALK_EXEC:
		err = gitrepo_object_header(&type, &size, l->r, &we->oid);
		if (err == TRAWL_ENOMEM)
			return err;
		if (we->kind == GITWALK_SYMLINK) {
			e->kind = GE_SYMLINK;
			e->size = err < 0 ? 0 : size;
			l->st->symlinks++;
		} else if (err < 0 || type != GITREPO_OBJ_BLOB) {
			e->kind = GE_MISSING;
		} else {
			e->kind = GE_BLOB;
			e->size = size;
			l->st->bytes += size;
		}
		break;
	}
	l->st->files++;
	l->n++;
	return 0;
}

static int cmp_gentry(const void *a, const void *b, void *arg)
{
	const struct gentry *x = a, *y = b;
	const char *base = arg;
	size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
	int c = memcmp(base + x->path_off, base + y->path_off, n);

	if (c)
		return c;
	return x->path_len < y->path_len ? -1 : x->path_len > y->path_len;
}

static int push_task(struct gpipe *p, size_t *cap, size_t first, size_t n)
{
	if (p->n_tasks == *cap) {
		size_t cap2 = *cap ? *cap * 2 : 16;
		struct gtask *t = realloc(p->tasks, cap2 * sizeof(*t));

		if (!t) {
			error_set("out of memory planning shards");
			return TRAWL_ENOMEM;
		}
		p->tasks = t;
		*cap = cap2;
	}
	p->tasks[p->n_tasks++] = (struct gtask){ .first = first, .n = n };
	return 0;
}

/* Cuts the sorted entries into shards of about SHARD_TARGET_BYTES (as build.c does). */
static int plan_tasks(struct gpipe *p)
{
	const struct glist *l = p->l;
	size_t cap = 0, first = 0;
	uint64_t acc = 0;
	int err;

	for (size_t i = 0; i < l->n; i++) {
		const struct gentry *e = &l->v[i];

		acc += e->kind != GE_BLOB || e->size > p->o->max_file_size ? 0 : e->size;
		if (acc < SHARD_TARGET_BYTES && i + 1 < l->n)
			continue;
		if ((err = push_task(p, &cap, first, i + 1 - first)) < 0)
			return err;
		first = i + 1;
		acc = 0;
	}
	return p->n_tasks ? 0 : push_task(p, &cap, 0, 0);
}

/* Reads one entry's blob (if it is to be indexed) and adds the document. */
static int add_entry(struct gpipe *p, struct shard_writer *sw, struct gitrepo *r,
		     const struct gentry *e)
{
	uint64_t max = p->o->max_file_size;
	const char *path = p->l->paths.ptr + e->path_off;
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
	switch (skip) {
	case DOC_INDEXED:
		atomic_fetch_add(&p->indexed, 1);
		atomic_fetch_add(&p->indexed_bytes, b.len);
		break;
	case DOC_SKIP_BINARY: atomic_fetch_add(&p->binary, 1); break;
	case DOC_SKIP_TOO_LARGE: atomic_fetch_add(&p->large, 1); break;
	case DOC_SKIP_UNREADABLE: atomic_fetch_add(&p->unreadable, 1); break;
	default: break; /* symlinks and submodules were counted by the walk */
	}
	atomic_fetch_add(&p->files_done, 1);
	atomic_fetch_add(&p->bytes_done, e->kind == GE_BLOB ? e->size : 0);
	err = shard_writer_add(sw, path, e->path_len, b.data, skip == DOC_INDEXED ? b.len : 0, size,
			       skip, lang_detect(path, e->path_len));
	gitrepo_blob_dispose(&b);
	return err;
}

static int build_task(struct gpipe *p, struct gtask *t, unsigned seq, struct gitrepo *r)
{
	struct shard_writer *sw = NULL;
	char *path = NULL;
	int err;

	t->file = index_shard_name(p->name, seq);
	path = t->file ? file_join(p->index_dir, t->file) : NULL;
	if (!path) {
		error_set("out of memory");
		err = TRAWL_ENOMEM;
		goto out;
	}
	if ((err = shard_writer_new(&sw, path, p->name)) < 0)
		goto out;
	for (size_t i = 0; i < t->n && !atomic_load(&p->failed); i++)
		if ((err = add_entry(p, sw, r, &p->l->v[t->first + i])) < 0)
			goto out;
	err = shard_writer_finish(sw);
out:
	shard_writer_free(sw);
	free(path);
	return err;
}

static void *builder_main(void *arg)
{
	struct gpipe *p = arg;
	struct gitrepo *r = NULL;
	int open_err;
	size_t i;

	/* Each thread has its own repository: libgit2 objects are not shared across threads. */
	open_err = gitrepo_open(&r, p->git_dir);
	while ((i = atomic_fetch_add(&p->next_task, 1)) < p->n_tasks) {
		struct gtask *t = &p->tasks[i];

		if (open_err < 0) {
			t->err = open_err;
			snprintf(t->errmsg, sizeof(t->errmsg), "%s", error_last());
		} else if (!atomic_load(&p->failed)) {
			t->err = build_task(p, t, (unsigned)i, r);
			if (t->err < 0)
				snprintf(t->errmsg, sizeof(t->errmsg), "%s", error_last());
		}
		if (t->err < 0)
			atomic_store(&p->failed, true);
	}
	gitrepo_close(r);
	atomic_fetch_sub(&p->running, 1);
	return NULL;
}

static void sync_stats(struct build_stats *st, struct gpipe *p)
{
	st->files_done = atomic_load(&p->files_done);
	st->bytes_done = atomic_load(&p->bytes_done);
	st->indexed = atomic_load(&p->indexed);
	st->indexed_bytes = atomic_load(&p->indexed_bytes);
	st->skipped_binary = atomic_load(&p->binary);
	st->skipped_large = atomic_load(&p->large);
	st->skipped_unreadable = atomic_load(&p->unreadable);
}

static int run_builders(struct gpipe *p, struct build_stats *st, build_progress_fn progress,
			void *arg)
{
	unsigned n = p->o->n_threads;
	pthread_t th[64];
	unsigned started = 0;
	int err = 0;

	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		n = c > 0 ? (unsigned)c : 1;
	}
	if (!gitrepo_threads_ok())
		n = 1;
	if (n > 64)
		n = 64;
	if (n > p->n_tasks)
		n = (unsigned)p->n_tasks;
	atomic_store(&p->running, n);
	for (; started < n; started++)
		if (pthread_create(&th[started], NULL, builder_main, p) != 0) {
			atomic_fetch_sub(&p->running, n - started);
			break;
		}
	if (started == 0) {
		error_set("cannot start an indexing thread");
		return TRAWL_ENOMEM;
	}
	while (atomic_load(&p->running) > 0) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if (progress) {
			sync_stats(st, p);
			progress(st, arg);
		}
		nanosleep(&ts, NULL);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	sync_stats(st, p);
	for (size_t i = 0; i < p->n_tasks; i++)
		if (p->tasks[i].err < 0 && err == 0) {
			err = p->tasks[i].err;
			error_set("%s", p->tasks[i].errmsg);
		}
	return err;
}

int build_git(struct build_stats *st, const char *index_dir, const char *name, const char *root,
	      const char *branch, const struct build_opts *o, uint64_t max_files,
	      build_progress_fn progress, void *arg)
{
	struct glist l = { 0 };
	struct gpipe p = { 0 };
	char *repo_name = NULL;
	struct gitwalk_limits lim;
	struct gitwalk_stats ws;
	struct gitrepo_oid tree;
	char **files = NULL;
	double t0 = now_ms();
	int err;

	memset(st, 0, sizeof(*st));
	buf_init(&l.paths, PATHS_MAX);
	l.st = st;
	if (!(repo_name = build_git_repo_name(name, branch))) {
		err = TRAWL_EINVAL;
		goto out;
	}
	if ((err = gitrepo_open(&l.r, root)) < 0)
		goto out;
	if (gitrepo_has_alternates(l.r)) {
		/* SECURITY: objects borrowed from another repository are not read (src/git/repo.h). */
		error_set("%s: borrows objects from another repository (objects/info/alternates, as "
			  "made by git clone --shared or --reference), which trawl does not follow; "
			  "index a full clone", root);
		err = TRAWL_EUNSUPPORTED;
		goto out;
	}
	if ((err = gitrepo_resolve(&tree, st->commit, l.r, branch)) < 0) {
		error_prefix("%s", root);
		goto out;
	}
	if ((err = file_mkdirs(index_dir)) < 0)
		goto out;
	gitwalk_limits_default(&lim, max_files ? max_files : BUILD_MAX_FILES_DEFAULT);
	err = gitwalk_run(&ws, l.r, &tree, &lim, list_add, &l);
	st->trees_skipped = ws.trees_skipped;
	st->paths_too_long = ws.paths_too_long;
	if (err < 0) {
		error_prefix("%s", root);
		goto out;
	}
	qsort_r(l.v, l.n, sizeof(*l.v), cmp_gentry, l.paths.ptr);
	p = (struct gpipe){ .index_dir = index_dir, .name = repo_name, .git_dir = gitrepo_path(l.r),
			    .o = o, .l = &l };
	if ((err = plan_tasks(&p)) < 0 || (err = run_builders(&p, st, progress, arg)) < 0)
		goto out;
	files = calloc(p.n_tasks ? p.n_tasks : 1, sizeof(*files));
	if (!files) {
		error_set("out of memory");
		err = TRAWL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p.n_tasks; i++)
		files[i] = p.tasks[i].file;
	if ((err = index_commit_repo(index_dir, repo_name, files, p.n_tasks)) < 0)
		goto out;
	st->shards = p.n_tasks;
out:
	/* On failure, remove the shards this run wrote: the previous index stays as it was. */
	for (size_t i = 0; p.tasks && i < p.n_tasks; i++) {
		if (err < 0 && p.tasks[i].file) {
			char *path = file_join(index_dir, p.tasks[i].file);

			if (path)
				unlink(path);
			free(path);
		}
		free(p.tasks[i].file);
	}
	free(p.tasks);
	free(files);
	free(l.v);
	buf_dispose(&l.paths);
	gitrepo_close(l.r);
	free(repo_name);
	st->elapsed_ms = now_ms() - t0;
	return err;
}
