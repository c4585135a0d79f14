/*
 * The shared indexing pipeline; see build_int.h.
 *
 * DESIGN: shard boundaries are fixed from the entries' weights before any content is read, so
 * each worker thread builds whole shards independently, with no shared writer, and the same
 * entry list always gives the same shards. Counters are atomics read by the calling thread for
 * progress about ten times a second; the last builder to end wakes it (no polling delay).
 */
#include "build/build_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "symbols/symbols.h"
#include "util/array.h"
#include "util/error.h"
#include "util/file.h"


struct task {
	size_t first, n;
	size_t r_first, r_last; /* the repositories it holds (pipeline_src.n_repos) */
	char *file; /* shard file name, relative to the index directory */
	int err;
	char errmsg[512];
};

struct pipeline {
	const struct pipeline_src *src;
	const struct pipeline_opts *po;
	struct task *tasks;
	size_t n_tasks;
	atomic_size_t next_task;
	atomic_uint_fast64_t files_done, bytes_done;
	atomic_uint_fast64_t indexed, indexed_bytes, binary, large, unreadable;
	atomic_uint_fast64_t symbols, symbols_failed;
	atomic_bool failed;
	/* Builders still running; the last one to end wakes the reporting thread. */
	unsigned running;
	pthread_mutex_t lock;
	pthread_cond_t done;
};

void pipeline_count(struct pipeline *p, enum doc_skip skip, uint64_t indexed_bytes,
		    uint64_t size_done)
{
	switch (skip) {
	case DOC_INDEXED:
		atomic_fetch_add(&p->indexed, 1);
		atomic_fetch_add(&p->indexed_bytes, indexed_bytes);
		break;
	case DOC_SKIP_BINARY: atomic_fetch_add(&p->binary, 1); break;
	case DOC_SKIP_TOO_LARGE: atomic_fetch_add(&p->large, 1); break;
	case DOC_SKIP_UNREADABLE: atomic_fetch_add(&p->unreadable, 1); break;
	case DOC_SKIP_SYMLINK:
	case DOC_SKIP_SUBMODULE: break; /* counted by the git walk */
	}
	atomic_fetch_add(&p->files_done, 1);
	atomic_fetch_add(&p->bytes_done, size_done);
}

void *pipeline_src_arg(const struct pipeline *p)
{
	return p->src->arg;
}

static int push_task(struct pipeline *p, size_t *cap, size_t first, size_t n)
{
	int err;

	if ((err = ARRAY_GROW(&p->tasks, cap, p->n_tasks + 1)) < 0)
		return err;
	p->tasks[p->n_tasks++] = (struct task){ .first = first, .n = n };
	return 0;
}

/*
 * Which repositories each task holds: those of its entries, and the empty ones between its
 * first entry's and the previous task's last (the last task takes the empty ones at the end).
 */
static void plan_repos(struct pipeline *p)
{
	const struct pipeline_src *s = p->src;

	for (size_t k = 0; s->n_repos && k < p->n_tasks; k++) {
		struct task *t = &p->tasks[k];
		size_t first_repo = t->n ? s->repo_of(s->arg, t->first) : 0;

		if (k == 0)
			t->r_first = 0;
		else
			t->r_first = p->tasks[k - 1].r_last + (p->tasks[k - 1].r_last != first_repo);
		t->r_last = t->n ? s->repo_of(s->arg, t->first + t->n - 1) : t->r_first;
		if (k + 1 == p->n_tasks)
			t->r_last = s->n_repos - 1;
	}
}

/*
 * Cuts the entries into shards of about SHARD_TARGET_BYTES of indexed content. An empty list
 * still gets one (empty) shard, so the repository exists in the index, unless is_empty_ok.
 */
static int plan_tasks(struct pipeline *p)
{
	const struct pipeline_src *s = p->src;
	size_t cap = 0, first = 0;
	uint64_t acc = 0;
	int err;

	for (size_t i = 0; i < s->n; i++) {
		acc += s->weight(s->arg, i);
		if (acc < SHARD_TARGET_BYTES && i + 1 < s->n)
			continue;
		if ((err = push_task(p, &cap, first, i + 1 - first)) < 0)
			return err;
		first = i + 1;
		acc = 0;
	}
	if (!p->n_tasks && !p->po->is_empty_ok && (err = push_task(p, &cap, 0, 0)) < 0)
		return err;
	plan_repos(p);
	return 0;
}

static int past_deadline(const struct pipeline *p)
{
	if (p->po->deadline_ms <= 0 || clock_now_ms() <= p->po->deadline_ms)
		return 0;
	error_set("limit: indexing took more than %llu seconds",
		  (unsigned long long)p->po->max_seconds);
	return TRAWL_ELIMIT;
}

/* Adds what a finished shard's symbols came to (symbols_ext_count) to the run's counters. */
static void count_symbols(struct pipeline *p, const struct symbols_ext *ext)
{
	struct symbols_counts c = { 0 };

	symbols_ext_count(ext, &c);
	atomic_fetch_add(&p->symbols, c.symbols);
	atomic_fetch_add(&p->symbols_failed, c.files[SYMSEC_TIMEOUT] + c.files[SYMSEC_CRASHED] +
						     c.files[SYMSEC_TOO_MUCH] +
						     c.files[SYMSEC_UNAVAILABLE]);
}

/* The next repository of a compound shard; its ctags failures are counted afresh. */
static int begin_repo(struct shard_writer *sw, struct ctags *ct, const char *name)
{
	if (ct)
		ctags_next_repository(ct);
	return shard_writer_begin_repo(sw, name);
}

/* ct: the thread's ctags when the run makes symbols, else NULL. */
static int build_task(struct pipeline *p, struct task *t, unsigned seq, void *ctx,
		      struct ctags *ct)
{
	const struct pipeline_src *s = p->src;
	struct shard_writer *sw = NULL;
	struct symbols_ext *ext = NULL;
	char *path = NULL;
	int err;

	bool is_compound = s->n_repos && t->r_last > t->r_first;
	const char *name = !s->n_repos ? p->po->name
		: is_compound ? "compound" : s->repo_name(s->arg, t->r_first);
	size_t repo = t->r_first;

	if (ct && s->n_repos)
		ctags_next_repository(ct); /* a run of many repositories: this shard's own budget */
	t->file = index_shard_name(name, seq);
	path = t->file ? file_join(p->po->index_dir, t->file) : NULL;
	if (!path) {
		err = error_nomem(NULL);
		goto out;
	}
	if ((ct && (err = symbols_ext_new(&ext, ct)) < 0) ||
	    (err = is_compound ? shard_writer_new_compound(&sw, path,
							   ext ? symbols_ext_writer(ext) : NULL)
			       : shard_writer_new_ext(&sw, path, name,
						      ext ? symbols_ext_writer(ext) : NULL)) < 0 ||
	    (is_compound && (err = begin_repo(sw, ct, s->repo_name(s->arg, repo))) < 0) ||
	    (s->writer_init && (err = s->writer_init(sw, s->arg)) < 0))
		goto out;
	for (size_t i = 0; i < t->n && !atomic_load(&p->failed); i++) {
		/* The clock is read every 256 entries: cheap, and a slow file is seen soon after. */
		if ((i & 255) == 255 && (err = past_deadline(p)) < 0)
			goto out;
		while (is_compound && repo < s->repo_of(s->arg, t->first + i))
			if ((err = begin_repo(sw, ct, s->repo_name(s->arg, ++repo))) < 0)
				goto out;
		if ((err = s->add(p, sw, ctx, t->first + i)) < 0)
			goto out;
	}
	while (is_compound && repo < t->r_last)
		if ((err = begin_repo(sw, ct, s->repo_name(s->arg, ++repo))) < 0)
			goto out;
	if ((err = past_deadline(p)) < 0)
		goto out;
	if ((err = shard_writer_finish(sw)) == 0 && ext)
		count_symbols(p, ext);
out:
	shard_writer_free(sw);
	symbols_ext_free(ext); /* after the writer, which borrows it */
	free(path);
	return err;
}

static void *builder_main(void *arg)
{
	struct pipeline *p = arg;
	const struct pipeline_src *s = p->src;
	struct ctags *ct = NULL;
	void *ctx = NULL;
	int open_err;
	size_t i;

	open_err = s->thread_open ? s->thread_open(&ctx, s->arg) : 0;
	if (open_err == 0 && p->po->symbols)
		open_err = ctags_new(&ct, p->po->symbols);
	while ((i = atomic_fetch_add(&p->next_task, 1)) < p->n_tasks) {
		struct task *t = &p->tasks[i];

		if (open_err < 0) {
			t->err = open_err;
			snprintf(t->errmsg, sizeof(t->errmsg), "%s", error_last());
		} else if (!atomic_load(&p->failed)) {
			t->err = build_task(p, t, p->po->seq_base + (unsigned)i, ctx, ct);
			if (t->err < 0)
				snprintf(t->errmsg, sizeof(t->errmsg), "%s", error_last());
		}
		if (t->err < 0)
			atomic_store(&p->failed, true);
	}
	ctags_free(ct);
	if (s->thread_close)
		s->thread_close(ctx);
	pthread_mutex_lock(&p->lock);
	if (--p->running == 0)
		pthread_cond_signal(&p->done);
	pthread_mutex_unlock(&p->lock);
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
	st->symbols = atomic_load(&p->symbols);
	st->symbols_failed = atomic_load(&p->symbols_failed);
}

unsigned build_n_threads(unsigned n_threads)
{
	long c = n_threads ? (long)n_threads : sysconf(_SC_NPROCESSORS_ONLN);

	if (c < 1)
		c = 1;
	return c > BUILD_MAX_THREADS ? BUILD_MAX_THREADS : (unsigned)c;
}

/* Runs the builders, reporting progress from this thread until they finish. */
static int run_builders(struct pipeline *p, struct build_stats *st, build_progress_fn progress,
			void *arg)
{
	unsigned n = p->po->is_single_thread ? 1 : build_n_threads(p->po->n_threads);
	pthread_t th[BUILD_MAX_THREADS];
	unsigned started = 0;
	int err = 0;

	if (p->n_tasks == 0)
		return 0;
	if (n > p->n_tasks)
		n = (unsigned)p->n_tasks;
	p->running = n;
	for (; started < n; started++)
		if (pthread_create(&th[started], NULL, builder_main, p) != 0)
			break;
	pthread_mutex_lock(&p->lock);
	p->running -= n - started;
	pthread_mutex_unlock(&p->lock);
	if (started == 0) {
		error_set("cannot start an indexing thread");
		return TRAWL_ENOMEM;
	}
	/*
	 * Progress about ten times a second, and not a moment's wait after the last builder ends:
	 * a run over thousands of small repositories pays no fixed delay per repository.
	 */
	pthread_mutex_lock(&p->lock);
	while (p->running > 0) {
		struct timespec until;

		if (progress) {
			pthread_mutex_unlock(&p->lock);
			sync_stats(st, p);
			progress(st, arg);
			pthread_mutex_lock(&p->lock);
		}
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += 100L * 1000 * 1000;
		if (until.tv_nsec >= 1000L * 1000 * 1000) {
			until.tv_sec++;
			until.tv_nsec -= 1000L * 1000 * 1000;
		}
		while (p->running > 0 && pthread_cond_timedwait(&p->done, &p->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&p->lock);
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

void pipeline_files_free(char **files, size_t n, const char *index_dir, bool remove)
{
	if (!files)
		return;
	for (size_t i = 0; i < n; i++) {
		if (remove && files[i]) {
			char *path = file_join(index_dir, files[i]);

			if (path)
				unlink(path);
			free(path);
		}
		free(files[i]);
	}
	free(files);
}

int pipeline_run(char ***files, size_t *n, struct build_stats *st, const struct pipeline_src *src,
		 const struct pipeline_opts *po, build_progress_fn progress, void *arg)
{
	return pipeline_run_repos(files, NULL, n, st, src, po, progress, arg);
}

int pipeline_run_repos(char ***files, size_t **ranges, size_t *n, struct build_stats *st,
		       const struct pipeline_src *src, const struct pipeline_opts *po,
		       build_progress_fn progress, void *arg)
{
	struct pipeline p = { .src = src, .po = po };
	pthread_condattr_t ca;
	char **names = NULL;
	int err;

	*files = NULL;
	*n = 0;
	if (ranges)
		*ranges = NULL;
	pthread_mutex_init(&p.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p.done, &ca);
	pthread_condattr_destroy(&ca);
	if ((err = plan_tasks(&p)) < 0 || (err = run_builders(&p, st, progress, arg)) < 0)
		goto out;
	names = calloc(p.n_tasks + 1, sizeof(*names));
	if (!names || (ranges && !(*ranges = calloc(2 * p.n_tasks + 1, sizeof(**ranges))))) {
		free(names);
		err = error_nomem(NULL);
		goto out;
	}
	for (size_t i = 0; i < p.n_tasks; i++) {
		names[i] = p.tasks[i].file;
		p.tasks[i].file = NULL;
		if (ranges) {
			(*ranges)[2 * i] = p.tasks[i].r_first;
			(*ranges)[2 * i + 1] = p.tasks[i].r_last;
		}
	}
	*files = names;
	*n = p.n_tasks;
out:
	/* On failure, remove the shards this run wrote: the previous index stays as it was. */
	for (size_t i = 0; p.tasks && i < p.n_tasks; i++) {
		if (p.tasks[i].file) {
			char *path = file_join(po->index_dir, p.tasks[i].file);

			if (path)
				unlink(path);
			free(path);
		}
		free(p.tasks[i].file);
	}
	free(p.tasks);
	pthread_cond_destroy(&p.done);
	pthread_mutex_destroy(&p.lock);
	return err;
}
