/*
 * Directory indexing; see build.h.
 *
 * DESIGN: the walk only collects names and sizes (cheap), then sorts them so that the same tree
 * always gives the same shards. Shard boundaries are fixed from the sizes before any content is
 * read, so each worker thread builds whole shards independently, with no shared writer.
 */
#include "build/build.h"
#include "build/build_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index/shard.h"
#include "query/lang.h"
#include "util/array.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/file.h"
#include "util/utf8.h"

#define MAX_DEPTH 512
#define MAX_FILES 10000000

struct entry {
	char *path; /* relative, '/'-separated */
	uint64_t size;
	size_t repo;          /* which root (build_dirs) */
	uint64_t indexed;     /* content bytes indexed, once added */
	enum doc_skip skip;   /* what adding it gave */
};

struct walk {
	struct entry *v;
	size_t n, cap;
	struct build_stats *st;
	size_t repo;          /* the root being walked */
};

/* The entry source of the pipeline (build_int.h): the sorted walks of the roots. */
struct dir_src {
	struct walk *w;
	const struct build_opts *o;
	char *const *names;
	char *const *roots;
};

/* A thread's context: a buffer for one file's content, and the root it reads from. */
struct dir_ctx {
	uint8_t *buf;
	size_t repo;
	int root_fd;
};

bool build_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 200 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
			return false;
	}
	/* The MANIFEST is JSON: a name must be UTF-8 (checked now, not after every shard). */
	return utf8_is_valid((const uint8_t *)name, n);
}

static int walk_add(struct walk *w, const char *rel, size_t rel_len, uint64_t size)
{
	struct entry *e;
	int err;

	if (w->n == MAX_FILES) {
		error_set("more than %d files", MAX_FILES);
		return TRAWL_ELIMIT;
	}
	if ((err = ARRAY_GROW(&w->v, &w->cap, w->n + 1)) < 0)
		return err;
	e = &w->v[w->n];
	e->path = strndup(rel, rel_len);
	if (!e->path)
		return error_nomem("listing files");
	e->size = size;
	e->repo = w->repo;
	e->indexed = 0;
	e->skip = DOC_SKIP_UNREADABLE;
	w->n++;
	return 0;
}

/* Walks the directory open at dfd, whose path relative to the root is in rel. */
static int walk_dir(struct walk *w, int dfd, struct buf *rel, unsigned depth)
{
	DIR *d;
	struct dirent *de;
	size_t base = rel->len;
	int err = 0;

	if (depth > MAX_DEPTH) {
		w->st->walk_errors++;
		close(dfd);
		return 0;
	}
	d = fdopendir(dfd);
	if (!d) {
		w->st->walk_errors++;
		close(dfd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		struct stat sb;

		if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
			continue;
		if (fstatat(dirfd(d), nm, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			w->st->walk_errors++;
			continue;
		}
		rel->len = base;
		if ((base && (err = buf_putc(rel, '/')) < 0) || (err = buf_puts(rel, nm)) < 0)
			break;
		if (S_ISDIR(sb.st_mode)) {
			int sub;

			if (strcmp(nm, ".git") == 0)
				continue;
			/* SECURITY: O_NOFOLLOW: a directory swapped for a symlink is not entered. */
			sub = openat(dirfd(d), nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				w->st->walk_errors++;
				continue;
			}
			if ((err = walk_dir(w, sub, rel, depth + 1)) < 0)
				break;
		} else if (S_ISREG(sb.st_mode)) {
			w->st->files++;
			w->st->bytes += (uint64_t)sb.st_size;
			if ((err = walk_add(w, rel->ptr, rel->len, (uint64_t)sb.st_size)) < 0)
				break;
		} else if (S_ISLNK(sb.st_mode)) {
			w->st->symlinks++;
		} else {
			w->st->other++;
		}
	}
	rel->len = base;
	if (rel->ptr)
		rel->ptr[base] = '\0';
	closedir(d);
	return err;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static size_t dir_repo_of(void *arg, size_t i)
{
	return ((const struct dir_src *)arg)->w->v[i].repo;
}

static const char *dir_repo_name(void *arg, size_t r)
{
	return ((const struct dir_src *)arg)->names[r];
}

static uint64_t dir_weight(void *arg, size_t i)
{
	const struct dir_src *d = arg;
	uint64_t sz = d->w->v[i].size;

	return sz > d->o->max_file_size ? 0 : sz;
}

/* A thread's buffer for one file's content (and one byte more). */
static int dir_thread_open(void **ctx, void *arg)
{
	const struct dir_src *d = arg;
	struct dir_ctx *c = calloc(1, sizeof(*c));

	*ctx = c;
	if (!c || !(c->buf = malloc((size_t)d->o->max_file_size + 1)))
		return error_nomem(NULL);
	c->root_fd = -1;
	return 0;
}

static void dir_thread_close(void *ctx)
{
	struct dir_ctx *c = ctx;

	if (!c)
		return;
	if (c->root_fd >= 0)
		close(c->root_fd);
	free(c->buf);
	free(c);
}

/*
 * The root of entry e, open in c (a run over thousands of roots holds one at a time per
 * thread, not one per root). -1 when it cannot be opened: its files are unreadable.
 */
static int dir_root(struct dir_ctx *c, const struct dir_src *d, const struct entry *e)
{
	if (c->root_fd >= 0 && c->repo == e->repo)
		return c->root_fd;
	if (c->root_fd >= 0)
		close(c->root_fd);
	c->repo = e->repo;
	c->root_fd = open(d->roots[e->repo], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return c->root_fd;
}

/* Reads one file, decides whether to index it, and adds it to the writer. */
static int dir_add(struct pipeline *p, struct shard_writer *sw, void *ctx, size_t i)
{
	const struct dir_src *d = pipeline_src_arg(p);
	struct entry *e = &d->w->v[i];
	struct dir_ctx *c = ctx;
	int root_fd = dir_root(c, d, e);
	uint8_t *bufp = c->buf;
	uint64_t max = d->o->max_file_size;
	enum doc_skip skip = DOC_INDEXED;
	uint64_t size = e->size;
	size_t got = 0;
	struct stat sb;
	int fd;

	/* SECURITY: O_NOFOLLOW: a file replaced by a symlink since the walk is not followed. */
	fd = root_fd < 0 ? -1 : openat(root_fd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
							  O_NONBLOCK);
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		skip = DOC_SKIP_UNREADABLE;
	} else {
		size = (uint64_t)sb.st_size;
		if (size > max) {
			skip = DOC_SKIP_TOO_LARGE;
		} else {
			/* Read one byte more than allowed: a file that grew is caught, not cut. */
			while (got <= max) {
				ssize_t n = read(fd, bufp + got, (size_t)(max + 1 - got));

				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0) {
					skip = DOC_SKIP_UNREADABLE;
					break;
				}
				if (n == 0)
					break;
				got += (size_t)n;
			}
			if (got > max) {
				skip = DOC_SKIP_TOO_LARGE;
				size = got;
			} else if (skip == DOC_INDEXED) {
				size = got;
				if (memchr(bufp, 0, got < BUILD_BINARY_PROBE ? got : BUILD_BINARY_PROBE))
					skip = DOC_SKIP_BINARY;
			}
		}
	}
	if (fd >= 0)
		close(fd);
	e->skip = skip;
	e->indexed = skip == DOC_INDEXED ? got : 0;
	pipeline_count(p, skip, e->indexed, e->size);
	return shard_writer_add(sw, e->path, strlen(e->path), bufp,
				skip == DOC_INDEXED ? got : 0, size, skip,
				lang_detect(e->path, strlen(e->path)));
}

/* Walks root as repository r into w, its entries sorted by path; its walk counts into st. */
static int walk_root(struct walk *w, struct build_stats *st, const char *root, size_t r)
{
	struct buf rel;
	size_t first = w->n;
	int root_fd, err;

	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		error_set("%s: cannot open directory: %s", root, strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? TRAWL_ENOTFOUND : TRAWL_EIO;
	}
	buf_init(&rel, 1 << 20);
	w->st = st;
	w->repo = r;
	err = walk_dir(w, root_fd, &rel, 0); /* closes root_fd */
	buf_dispose(&rel);
	if (err == 0)
		qsort(w->v + first, w->n - first, sizeof(*w->v), cmp_entry);
	return err;
}

/* Each repository's counts from its entries, and the shards listing it, into st[r]. */
static void repo_counts(struct build_stats *st, const struct walk *w, const size_t *ranges,
			size_t n_files)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct entry *e = &w->v[i];
		struct build_stats *s = &st[e->repo];

		s->files_done++;
		s->bytes_done += e->size;
		switch (e->skip) {
		case DOC_INDEXED:
			s->indexed++;
			s->indexed_bytes += e->indexed;
			break;
		case DOC_SKIP_BINARY: s->skipped_binary++; break;
		case DOC_SKIP_TOO_LARGE: s->skipped_large++; break;
		default: s->skipped_unreadable++; break;
		}
	}
	for (size_t f = 0; f < n_files; f++)
		for (size_t r = ranges[2 * f]; r <= ranges[2 * f + 1]; r++)
			st[r].shards++;
}

/*
 * The MANIFEST entries of a run: repository r lists the shards whose range holds it. Entries
 * borrow names and files. ENOMEM.
 */
static int run_entries(struct index_repo_entry **out, char *const *names, size_t n,
		       char **files, const size_t *ranges, size_t n_files)
{
	struct index_repo_entry *es = calloc(n ? n : 1, sizeof(*es));
	char **v = calloc(2 * n_files + n + 1, sizeof(*v)); /* every entry's list, back to back */
	size_t at = 0;

	*out = es;
	if (!es || !v) {
		free(v);
		return error_nomem(NULL);
	}
	for (size_t r = 0, f0 = 0; r < n; r++) {
		while (f0 < n_files && ranges[2 * f0 + 1] < r)
			f0++;
		es[r].name = names[r];
		es[r].shards = v + at;
		for (size_t f = f0; f < n_files && ranges[2 * f] <= r; f++)
			v[at++] = files[f];
		es[r].n_shards = (size_t)(v + at - es[r].shards);
		es[r].n_base = es[r].n_shards;
	}
	return 0;
}

static void run_entries_free(struct index_repo_entry *es)
{
	if (es)
		free(es[0].shards); /* the one array of every list */
	free(es);
}

int build_dirs(struct build_stats *st, struct build_stats *total, const char *index_dir,
	       char *const *names, char *const *roots, size_t n, const struct build_opts *o,
	       build_progress_fn progress, void *arg)
{
	struct walk w = { 0 };
	struct dir_src ds = { &w, o, names, roots };
	struct pipeline_src src;
	struct pipeline_opts po;
	struct index_repo_entry *es = NULL;
	char **files = NULL;
	size_t n_files = 0, *ranges = NULL;
	double t0 = clock_now_ms();
	int writers = -1, err = 0;

	memset(total, 0, sizeof(*total));
	memset(st, 0, n * sizeof(*st));
	for (size_t r = 0; r < n && err == 0; r++)
		if (!build_name_valid(names[r])) {
			error_set("invalid repository name \"%s\" (1-200 bytes, no '/', '\\' or "
				  "control characters, not starting with '-')", names[r]);
			err = TRAWL_EINVAL;
		}
	for (size_t r = 0; r < n && err == 0; r++)
		err = walk_root(&w, &st[r], roots[r], r);
	if (err < 0 || (err = file_mkdirs(index_dir)) < 0 ||
	    (err = index_writer_begin(&writers, index_dir)) < 0)
		goto out;
	for (size_t r = 0; r < n; r++) {
		total->files += st[r].files;
		total->bytes += st[r].bytes;
		total->symlinks += st[r].symlinks;
		total->other += st[r].other;
		total->walk_errors += st[r].walk_errors;
	}
	src = (struct pipeline_src){ .n = w.n, .arg = &ds, .weight = dir_weight,
				     .thread_open = dir_thread_open,
				     .thread_close = dir_thread_close, .add = dir_add,
				     .n_repos = n, .repo_of = dir_repo_of,
				     .repo_name = dir_repo_name };
	po = (struct pipeline_opts){ .index_dir = index_dir, .name = names[0],
				     .n_threads = o->n_threads, .symbols = o->symbols };
	if ((err = pipeline_run_repos(&files, &ranges, &n_files, total, &src, &po, progress,
				      arg)) < 0 ||
	    (err = run_entries(&es, names, n, files, ranges, n_files)) < 0 ||
	    (err = index_commit_entries(index_dir, es, n)) < 0)
		goto out;
	total->shards = n_files;
	repo_counts(st, &w, ranges, n_files);
out:
	run_entries_free(es);
	free(ranges);
	pipeline_files_free(files, n_files, index_dir, err < 0);
	index_writer_end(writers, index_dir, err == 0);
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i].path);
	free(w.v);
	total->elapsed_ms = clock_now_ms() - t0;
	for (size_t r = 0; r < n; r++)
		st[r].elapsed_ms = total->elapsed_ms;
	return err;
}

int build_dir(struct build_stats *st, const char *index_dir, const char *name, const char *root,
	      const struct build_opts *o, build_progress_fn progress, void *arg)
{
	struct build_stats total;
	char *names[] = { (char *)name }, *roots[] = { (char *)root };
	int err = build_dirs(st, &total, index_dir, names, roots, 1, o, progress, arg);

	/* The symbol counts are the run's (the shards'), as are the progress counters. */
	st->symbols = total.symbols;
	st->symbols_failed = total.symbols_failed;
	return err;
}
