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
};

struct walk {
	struct entry *v;
	size_t n, cap;
	struct build_stats *st;
};

/* The entry source of the pipeline (build_int.h): the sorted walk. */
struct dir_src {
	struct walk *w;
	const struct build_opts *o;
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

	*ctx = malloc((size_t)d->o->max_file_size + 1);
	if (!*ctx)
		return error_nomem(NULL);
	return 0;
}

/* Reads one file, decides whether to index it, and adds it to the writer. */
static int dir_add(struct pipeline *p, struct shard_writer *sw, void *ctx, size_t i)
{
	const struct dir_src *d = pipeline_src_arg(p);
	const struct entry *e = &d->w->v[i];
	int root_fd = d->root_fd;
	uint8_t *bufp = ctx;
	uint64_t max = d->o->max_file_size;
	enum doc_skip skip = DOC_INDEXED;
	uint64_t size = e->size;
	size_t got = 0;
	struct stat sb;
	int fd;

	/* SECURITY: O_NOFOLLOW: a file replaced by a symlink since the walk is not followed. */
	fd = openat(root_fd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
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
	pipeline_count(p, skip, skip == DOC_INDEXED ? got : 0, e->size);
	return shard_writer_add(sw, e->path, strlen(e->path), bufp,
				skip == DOC_INDEXED ? got : 0, size, skip,
				lang_detect(e->path, strlen(e->path)));
}

int build_dir(struct build_stats *st, const char *index_dir, const char *name, const char *root,
	      const struct build_opts *o, build_progress_fn progress, void *arg)
{
	struct walk w = { 0 };
	struct dir_src ds;
	struct pipeline_src src;
	struct pipeline_opts po;
	struct buf rel;
	char **files = NULL;
	size_t n_files = 0;
	double t0 = clock_now_ms();
	int root_fd = -1, writers = -1, dfd, err;

	memset(st, 0, sizeof(*st));
	buf_init(&rel, 1 << 20);
	w.st = st;
	if (!build_name_valid(name)) {
		error_set("invalid repository name \"%s\" (1-200 bytes, no '/', '\\' or control "
			  "characters, not starting with '-')", name);
		err = TRAWL_EINVAL;
		goto out;
	}
	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		error_set("%s: cannot open directory: %s", root, strerror(errno));
		err = errno == ENOENT || errno == ENOTDIR ? TRAWL_ENOTFOUND : TRAWL_EIO;
		goto out;
	}
	if ((err = file_mkdirs(index_dir)) < 0 ||
	    (err = index_writer_begin(&writers, index_dir)) < 0)
		goto out;
	dfd = dup(root_fd);
	if (dfd < 0 || (err = walk_dir(&w, dfd, &rel, 0)) < 0) {
		if (dfd < 0) {
			error_set("%s: %s", root, strerror(errno));
			err = TRAWL_EIO;
		}
		goto out;
	}
	qsort(w.v, w.n, sizeof(*w.v), cmp_entry);
	ds = (struct dir_src){ &w, o, root_fd };
	src = (struct pipeline_src){ .n = w.n, .arg = &ds, .weight = dir_weight,
				     .thread_open = dir_thread_open, .thread_close = free,
				     .add = dir_add };
	po = (struct pipeline_opts){ .index_dir = index_dir, .name = name,
				     .n_threads = o->n_threads, .symbols = o->symbols };
	if ((err = pipeline_run(&files, &n_files, st, &src, &po, progress, arg)) < 0 ||
	    (err = index_commit_repo(index_dir, name, files, n_files)) < 0)
		goto out;
	st->shards = n_files;
out:
	pipeline_files_free(files, n_files, index_dir, err < 0);
	index_writer_end(writers, index_dir, err == 0);
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i].path);
	free(w.v);
	buf_dispose(&rel);
	if (root_fd >= 0)
		close(root_fd);
	st->elapsed_ms = clock_now_ms() - t0;
	return err;
}
