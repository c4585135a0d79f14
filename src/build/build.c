/*
 * Directory indexing; see build.h.
 *
 * DESIGN: the walk only collects names and sizes (cheap), then sorts them so that the same tree
 * always gives the same shards. Shard boundaries are fixed from the sizes before any content is
 * read, so each worker thread builds whole shards independently, with no shared writer.
 */
#include "build/build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index/shard.h"
#include "index/utf8.h"
#include "query/lang.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"

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

struct task {
	size_t first, n;
	char *file; /* shard file name, relative to the index directory */
	int err;
	char errmsg[512];
};

struct pipeline {
	const char *index_dir;
	const char *name;
	const char *root;
	const struct build_opts *o;
	struct walk *w;
	struct task *tasks;
	size_t n_tasks;
	atomic_size_t next_task;
	atomic_uint_fast64_t files_done;
	atomic_uint_fast64_t bytes_done;
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

	if (w->n == MAX_FILES) {
		error_set("more than %d files", MAX_FILES);
		return TRAWL_ELIMIT;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		struct entry *v = realloc(w->v, cap * sizeof(*v));

		if (!v) {
			error_set("out of memory listing files");
			return TRAWL_ENOMEM;
		}
		w->v = v;
		w->cap = cap;
	}
	e = &w->v[w->n];
	e->path = strndup(rel, rel_len);
	if (!e->path) {
		error_set("out of memory listing files");
		return TRAWL_ENOMEM;
	}
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

static int push_task(struct pipeline *p, size_t *cap, size_t first, size_t n)
{
	if (p->n_tasks == *cap) {
		size_t cap2 = *cap ? *cap * 2 : 16;
		struct task *t = realloc(p->tasks, cap2 * sizeof(*t));

		if (!t) {
			error_set("out of memory planning shards");
			return TRAWL_ENOMEM;
		}
		p->tasks = t;
		*cap = cap2;
	}
	p->tasks[p->n_tasks++] = (struct task){ .first = first, .n = n };
	return 0;
}

/*
 * Cuts the sorted entries into shards of about SHARD_TARGET_BYTES of indexed content. An empty
 * tree still gets one (empty) shard, so the repository exists in the index.
 */
static int plan_tasks(struct pipeline *p)
{
	const struct walk *w = p->w;
	size_t cap = 0, first = 0;
	uint64_t acc = 0;
	int err;

	for (size_t i = 0; i < w->n; i++) {
		uint64_t sz = w->v[i].size;

		acc += sz > p->o->max_file_size ? 0 : sz;
		if (acc < SHARD_TARGET_BYTES && i + 1 < w->n)
			continue;
		if ((err = push_task(p, &cap, first, i + 1 - first)) < 0)
			return err;
		first = i + 1;
		acc = 0;
	}
	return p->n_tasks ? 0 : push_task(p, &cap, 0, 0);
}

/* Reads one file, decides whether to index it, and adds it to the writer. */
static int add_file(struct pipeline *p, struct shard_writer *sw, int root_fd,
		    const struct entry *e, uint8_t *bufp)
{
	uint64_t max = p->o->max_file_size;
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
	switch (skip) {
	case DOC_INDEXED:
		atomic_fetch_add(&p->indexed, 1);
		atomic_fetch_add(&p->indexed_bytes, got);
		break;
	case DOC_SKIP_BINARY: atomic_fetch_add(&p->binary, 1); break;
	case DOC_SKIP_TOO_LARGE: atomic_fetch_add(&p->large, 1); break;
	case DOC_SKIP_UNREADABLE: atomic_fetch_add(&p->unreadable, 1); break;
	case DOC_SKIP_SYMLINK:
	case DOC_SKIP_SUBMODULE: break; /* git trees only (build_git.c); never set here */
	}
	atomic_fetch_add(&p->files_done, 1);
	atomic_fetch_add(&p->bytes_done, e->size);
	return shard_writer_add(sw, e->path, strlen(e->path), bufp,
				skip == DOC_INDEXED ? got : 0, size, skip,
				lang_detect(e->path, strlen(e->path)));
}

static int build_task(struct pipeline *p, struct task *t, unsigned seq, int root_fd, uint8_t *bufp)
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
		if ((err = add_file(p, sw, root_fd, &p->w->v[t->first + i], bufp)) < 0)
			goto out;
	err = shard_writer_finish(sw);
out:
	shard_writer_free(sw);
	free(path);
	return err;
}

struct builder {
	struct pipeline *p;
	int root_fd;
};

static void *builder_main(void *arg)
{
	struct builder *b = arg;
	struct pipeline *p = b->p;
	uint8_t *bufp = malloc((size_t)p->o->max_file_size + 1);
	size_t i;

	while ((i = atomic_fetch_add(&p->next_task, 1)) < p->n_tasks) {
		struct task *t = &p->tasks[i];

		if (!bufp) {
			t->err = TRAWL_ENOMEM;
			snprintf(t->errmsg, sizeof(t->errmsg), "out of memory");
		} else if (!atomic_load(&p->failed)) {
			t->err = build_task(p, t, (unsigned)i, b->root_fd, bufp);
			if (t->err < 0)
				snprintf(t->errmsg, sizeof(t->errmsg), "%s", error_last());
		}
		if (t->err < 0)
			atomic_store(&p->failed, true);
	}
	free(bufp);
	atomic_fetch_sub(&p->running, 1);
	return NULL;
}

static void sync_stats(struct build_stats *st, struct pipeline *p)
{
	st->files_done = atomic_load(&p->files_done);
	st->bytes_done = atomic_load(&p->bytes_done);
	st->indexed = atomic_load(&p->indexed);
	st->indexed_bytes = atomic_load(&p->indexed_bytes);
	st->skipped_binary = atomic_load(&p->binary);
	st->skipped_large = atomic_load(&p->large);
	st->skipped_unreadable = atomic_load(&p->unreadable);
}

/* Runs the builders, reporting progress from this thread until they finish. */
static int run_builders(struct pipeline *p, struct build_stats *st, int root_fd,
			build_progress_fn progress, void *arg)
{
	unsigned n = p->o->n_threads;
	struct builder b = { p, root_fd };
	pthread_t th[64];
	unsigned started = 0;
	int err = 0;

	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		n = c > 0 ? (unsigned)c : 1;
	}
	if (n > 64)
		n = 64;
	if (n > p->n_tasks)
		n = (unsigned)p->n_tasks;
	atomic_store(&p->running, n);
	for (; started < n; started++)
		if (pthread_create(&th[started], NULL, builder_main, &b) != 0) {
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

int build_dir(struct build_stats *st, const char *index_dir, const char *name, const char *root,
	      const struct build_opts *o, build_progress_fn progress, void *arg)
{
	struct walk w = { 0 };
	struct pipeline p = { 0 };
	struct buf rel;
	char **files = NULL;
	double t0 = now_ms();
	int root_fd = -1, dfd, err;

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
	if ((err = file_mkdirs(index_dir)) < 0)
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
	p = (struct pipeline){ .index_dir = index_dir, .name = name, .root = root, .o = o, .w = &w };
	if ((err = plan_tasks(&p)) < 0 || (err = run_builders(&p, st, root_fd, progress, arg)) < 0)
		goto out;
	files = calloc(p.n_tasks ? p.n_tasks : 1, sizeof(*files));
	if (!files) {
		error_set("out of memory");
		err = TRAWL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p.n_tasks; i++)
		files[i] = p.tasks[i].file;
	if ((err = index_commit_repo(index_dir, name, files, p.n_tasks)) < 0)
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
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i].path);
	free(w.v);
	buf_dispose(&rel);
	if (root_fd >= 0)
		close(root_fd);
	st->elapsed_ms = now_ms() - t0;
	return err;
}
