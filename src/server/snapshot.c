/*
 * Index snapshots and the watcher that swaps them.
 *
 * DESIGN: the store holds one current snapshot (an open index plus per-repository document
 * tables sorted by path). A request takes a reference under a mutex held for a pointer copy;
 * the watcher polls DIR/MANIFEST every 500 ms (inode, size, mtime and ctime: a commit renames a
 * new MANIFEST into place, so the inode changes even within one mtime tick), opens the new
 * index with index_open (which takes the index's LOCK against a writer's unlinks), builds its
 * tables, and swaps the pointer. The old snapshot is closed by whoever drops its last
 * reference: the watcher if it was idle, else the last query that used it. So a query never
 * sees an index change under it and never fails because of a swap (STYLE.md: shards are
 * immutable and reference-counted).
 *
 * Opening a shard checks its structure but not the checksums of its big sections, so before a
 * new index is served the watcher verifies every shard the current snapshot does not already
 * hold (verify_new_shards); a corrupt one keeps the previous index serving.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/server_int.h"
#include "util/error.h"
#include "util/file.h"

#define WATCH_INTERVAL_MS 500

struct snapstore {
	char *dir;
	char *manifest;
	pthread_mutex_t lock;
	struct snapshot *cur;
	pthread_t th;
	bool has_thread;
	atomic_bool stop;
	atomic_uint_fast64_t swaps;
	struct stat seen;  /* the MANIFEST the current (or last failed) open was made from */
	bool has_seen;
};

static int cmp_doc(const void *a, const void *b)
{
	const struct snap_doc *x = a, *y = b;
	size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
	int c = memcmp(x->path, y->path, n);

	if (c)
		return c;
	return x->path_len < y->path_len ? -1 : x->path_len > y->path_len;
}

static int cmp_repo(const void *a, const void *b)
{
	return strcmp(((const struct snap_repo *)a)->name, ((const struct snap_repo *)b)->name);
}

static void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	free(s->docs);
	free(s->repos);
	index_close(s->ix);
	free(s);
}

void snapshot_unref(struct snapshot *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1)
		snapshot_free(s);
}

const struct snap_repo *snapshot_repo(const struct snapshot *s, const char *name)
{
	size_t lo = 0, hi = s->n_repos;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->repos[mid].name, name);

		if (c == 0)
			return &s->repos[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t snap_repo_lower_bound(const struct snap_repo *r, const char *key, size_t key_len)
{
	struct snap_doc k = { key, key_len, NULL, 0, 0 };
	size_t lo = 0, hi = r->n_docs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_doc(&r->docs[mid], &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The size of each of the index's files (0 when it cannot be read), in *out (caller frees). */
static int file_sizes(uint64_t **out, const struct snapshot *s, const char *dir)
{
	size_t n = index_n_files(s->ix);

	if (!(*out = calloc(n ? n : 1, sizeof(**out))))
		return error_nomem(NULL);
	for (size_t f = 0; f < n; f++) {
		const char *file = shard_file(index_file(s->ix, f));
		char *path = file_join(dir, file);
		struct stat st;

		/* shard_file may be a full path already: file_join is only a fallback. */
		if (stat(file, &st) == 0 || (path && stat(path, &st) == 0))
			(*out)[f] = (uint64_t)st.st_size;
		free(path);
	}
	return 0;
}

/* The bytes of documents [lo, hi) of sh: their contents and paths. */
static uint64_t docs_bytes(const struct shard *sh, uint32_t lo, uint32_t hi)
{
	uint64_t n = 0;

	for (uint32_t id = lo; id < hi; id++) {
		struct shard_doc d;

		if (shard_doc(&d, sh, id) == 0)
			n += d.content_len + d.path_len;
	}
	return n;
}

/*
 * Repository r's live documents, from shards [first, end), sorted by path: the next r->n_docs
 * (at most) of s->docs, from *used on.
 */
static int repo_docs(struct snap_repo *r, const struct snapshot *s, size_t first, size_t end,
		     size_t *used)
{
	size_t n = 0;

	r->docs = s->docs + *used;
	for (size_t i = first; i < end; i++) {
		const struct shard *sh = index_shard(s->ix, i);
		uint32_t lo, hi;

		index_shard_docs(s->ix, i, &lo, &hi);
		for (uint32_t id = lo; id < hi; id++) {
			struct shard_doc d;
			int err;

			if ((err = shard_doc(&d, sh, id)) < 0)
				return err;
			if (!index_doc_is_live(s->ix, i, id, &d))
				continue; /* deleted by a re-index (the MANIFEST overlay) */
			r->docs[n++] = (struct snap_doc){ d.path, d.path_len, sh, id, (uint32_t)i };
			r->n_skipped += d.skip != DOC_INDEXED;
		}
	}
	r->n_docs = n;
	*used += n;
	qsort(r->docs, r->n_docs, sizeof(*r->docs), cmp_doc);
	return 0;
}

/*
 * Groups the index's shards by repository (a repository's shards are consecutive) and sorts
 * each repository's documents by path. A repository's bytes in a compound file are those of
 * its own documents. Every repository's documents are a slice of one array (s->docs): 50,000
 * small repositories made 50,000 blocks of a document or two.
 */
static int snapshot_build(struct snapshot *s, const char *dir)
{
	size_t n_shards = index_n_shards(s->ix), n_docs = 0, used = 0;
	uint64_t *sizes = NULL;
	int err = 0;

	for (size_t i = 0; i < n_shards; i++) {
		uint32_t lo, hi;

		index_shard_docs(s->ix, i, &lo, &hi);
		n_docs += hi - lo;
	}
	s->repos = calloc(n_shards ? n_shards : 1, sizeof(*s->repos));
	s->docs = malloc((n_docs ? n_docs : 1) * sizeof(*s->docs));
	if (!s->repos || !s->docs || (err = file_sizes(&sizes, s, dir)) < 0) {
		err = s->repos && s->docs ? err : error_nomem(NULL);
		goto out;
	}
	for (size_t f = 0; f < index_n_files(s->ix); f++)
		s->index_bytes += sizes[f];
	for (size_t i = 0, end; i < n_shards; i = end) {
		const struct index_repo_entry *e = index_shard_entry(s->ix, i);
		struct snap_repo *r = &s->repos[s->n_repos++];

		r->name = e->name;
		r->shard0 = i;
		for (end = i; end < n_shards && index_shard_entry(s->ix, end) == e; end++) {
			const struct shard *sh = index_shard(s->ix, end);
			uint64_t bytes = sizes[index_shard_file(s->ix, end)];
			uint32_t lo, hi;

			index_shard_docs(s->ix, end, &lo, &hi);
			/*
			 * SECURITY: a compound file's size, or any share of it, would tell a reader
			 * of one repository how much the others hold: its own documents only.
			 */
			if (shard_n_repos(sh))
				bytes = docs_bytes(sh, lo, hi);
			r->n_shards++;
			r->index_bytes += bytes;
			r->n_docs += hi - lo;
		}
		if ((err = repo_docs(r, s, i, end, &used)) < 0)
			goto out;
	}
	qsort(s->repos, s->n_repos, sizeof(*s->repos), cmp_repo);
out:
	free(sizes);
	return err;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * SECURITY: a shard whose CONTENT or POSTINGS bytes changed (a bad disk, a bad copy, a hostile
 * write) still opens, and would be searched with wrong results. So every shard of ix that prev
 * (NULL: none) does not hold has all its checksums and posting lists verified first; a
 * failure names the file and the section (ECORRUPT). Shards are immutable and their names
 * unique, so a shard kept across swaps is verified once, when it first arrives.
 */
static int verify_new_shards(const struct index *ix, const struct snapshot *prev)
{
	size_t n_seen = prev ? index_n_files(prev->ix) : 0;
	const char **seen = NULL;
	int err = 0;

	if (n_seen && !(seen = malloc(n_seen * sizeof(*seen))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n_seen; i++)
		seen[i] = shard_file(index_file(prev->ix, i));
	if (n_seen)
		qsort(seen, n_seen, sizeof(*seen), cmp_name);
	/* Each file once, however many repositories a compound one holds. */
	for (size_t i = 0; i < index_n_files(ix) && err == 0; i++) {
		const struct shard *sh = index_file(ix, i);
		const char *file = shard_file(sh);

		if (!n_seen || !bsearch(&file, seen, n_seen, sizeof(*seen), cmp_name)) {
			err = shard_verify(sh);
			shard_drop_pages(sh); /* RSS: only what queries touch, as before the check */
		}
	}
	free(seen);
	return err;
}

static int snapshot_open(struct snapshot **out, const char *dir, const struct snapshot *prev)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	int err;

	*out = NULL;
	if (!s)
		return error_nomem(NULL);
	atomic_init(&s->refs, 1);
	if ((err = index_open(&s->ix, dir)) < 0 || (err = verify_new_shards(s->ix, prev)) < 0 ||
	    (err = snapshot_build(s, dir)) < 0) {
		snapshot_free(s);
		return err;
	}
	*out = s;
	return 0;
}

struct snapshot *snapstore_get(struct snapstore *st)
{
	struct snapshot *s;

	pthread_mutex_lock(&st->lock);
	s = st->cur;
	if (s)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&st->lock);
	return s;
}

uint64_t snapstore_swaps(const struct snapstore *st)
{
	return atomic_load(&((struct snapstore *)st)->swaps);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Opens the index if its MANIFEST changed since the last look, and swaps it in. */
static void snapstore_check(struct snapstore *st)
{
	struct snapshot *s = NULL, *old;
	struct stat sb;
	int err;

	if (stat(st->manifest, &sb) != 0)
		return; /* no index (yet, or during a first build): keep what we have */
	if (st->has_seen && same_file(&sb, &st->seen))
		return;
	/* Only this thread replaces st->cur, so it cannot go away while we read it. */
	err = snapshot_open(&s, st->dir, st->cur);
	if (err < 0) {
		struct logline l;

		/* Logged once per MANIFEST version: retried when it changes again. */
		log_begin(&l, "error", "cannot open the index; still serving the previous one");
		log_cstr(&l, "error", error_last());
		log_end(&l);
		st->seen = sb;
		st->has_seen = true;
		return;
	}
	st->seen = sb;
	st->has_seen = true;
	pthread_mutex_lock(&st->lock);
	old = st->cur;
	st->cur = s;
	pthread_mutex_unlock(&st->lock);
	if (old)
		atomic_fetch_add(&st->swaps, 1);
	{
		struct logline l;

		log_begin(&l, "info", old ? "index swapped" : "index opened");
		log_num(&l, "shards", (double)index_n_shards(s->ix));
		log_num(&l, "repos", (double)s->n_repos);
		log_end(&l);
	}
	snapshot_unref(old);
	/*
	 * Reading the MANIFEST (5 MB of JSON for 50,000 repositories) left its parse's memory
	 * free in this thread's arena: give it back, as the search threads do (pool.c).
	 */
	malloc_trim(0);
}

static void *watch_main(void *arg)
{
	struct snapstore *st = arg;

	while (!atomic_load(&st->stop)) {
		struct timespec ts = { 0, 50 * 1000000L };

		for (int i = 0; i < WATCH_INTERVAL_MS / 50 && !atomic_load(&st->stop); i++)
			nanosleep(&ts, NULL);
		if (!atomic_load(&st->stop))
			snapstore_check(st);
	}
	return NULL;
}

static void *first_check_main(void *arg)
{
	snapstore_check(arg);
	return NULL;
}

int snapstore_start(struct snapstore **out, const char *index_dir)
{
	struct snapstore *st = calloc(1, sizeof(*st));
	pthread_t first;

	*out = NULL;
	if (!st || !(st->dir = strdup(index_dir)) ||
	    !(st->manifest = file_join(index_dir, "MANIFEST"))) {
		if (st)
			free(st->dir);
		free(st);
		return error_nomem(NULL);
	}
	pthread_mutex_init(&st->lock, NULL);
	/*
	 * The first open runs on a thread of its own, as every later one runs on the watcher's:
	 * reading a MANIFEST of 50,000 repositories allocates and frees some 30 MB, and freed
	 * there it stays out of the main thread's arena, whose large tables (the rate limiters',
	 * allocated next) would otherwise be carved from it and zeroed page by page: resident,
	 * where a table of its own mapping stays untouched until used.
	 */
	if (pthread_create(&first, NULL, first_check_main, st) != 0) {
		snapstore_stop(st);
		error_set("cannot start the index watcher thread");
		return TRAWL_ENOMEM;
	}
	pthread_join(first, NULL);
	if (pthread_create(&st->th, NULL, watch_main, st) != 0) {
		snapstore_stop(st);
		error_set("cannot start the index watcher thread");
		return TRAWL_ENOMEM;
	}
	st->has_thread = true;
	*out = st;
	return 0;
}

void snapstore_stop(struct snapstore *st)
{
	if (!st)
		return;
	atomic_store(&st->stop, true);
	if (st->has_thread)
		pthread_join(st->th, NULL);
	snapshot_unref(st->cur);
	pthread_mutex_destroy(&st->lock);
	free(st->manifest);
	free(st->dir);
	free(st);
}
