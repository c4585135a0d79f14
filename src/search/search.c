/*
 * The executor's run: compile (compile.c) -> per shard, in parallel: authorize, repository
 * filters, branches (branches.c), candidates (candidates.c), verify (verify.c), score (rank.c)
 * -> results handed over in shard order, or ranked. This file owns the workers, the limits
 * (count, time, memory, cancel) and the hand-out.
 *
 * DESIGN: each worker takes whole shards from a shared counter and collects a shard's results
 * in its own arena (line texts point into the shard mapping, so nothing is copied). The calling
 * thread waits for shards in order and hands their files to the callback, which keeps output
 * deterministic whatever the scheduling. --limit is enforced twice: workers stop once enough
 * lines were found in all, and the calling thread cuts the output at exactly the limit.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "search/search_int.h"
#include "util/bitset.h"
#include "util/strv.h"

/* Bisects: every shard of every search asks, and a user may read 10,000 repositories. */
bool search_repos_has(const struct search_repos *repos, const char *name)
{
	return repos->is_all || strv_find(repos->names, repos->n_names, name) < repos->n_names;
}

/* job_grow past the array's capacity. */
int job_grow_slow(struct job *j, void **p, size_t *cap, size_t need, size_t elem)
{
	struct run *r = j->r;
	size_t cap2, add, held, limit = r->o->mem_limit;
	void *q;

	if (need <= *cap)
		return 0;
	cap2 = *cap ? *cap * 2 : 64;
	while (cap2 < need)
		cap2 *= 2;
	add = (cap2 - *cap) * elem;
	/* Reserve first: workers growing at once never pass the limit together. */
	held = atomic_fetch_add_explicit(&r->mem, add, memory_order_relaxed) + add;
	if (limit && held > limit) {
		atomic_fetch_sub_explicit(&r->mem, add, memory_order_relaxed);
		atomic_store_explicit(&r->is_mem_limit, true, memory_order_relaxed);
		error_set("the memory limit of one query was reached");
		return TRAWL_ELIMIT;
	}
	q = realloc(*p, cap2 * elem);
	if (!q) {
		atomic_fetch_sub_explicit(&r->mem, add, memory_order_relaxed);
		error_set("out of memory collecting results");
		return TRAWL_ENOMEM;
	}
	*p = q;
	*cap = cap2;
	j->mem += add;
	for (size_t peak = atomic_load_explicit(&r->mem_peak, memory_order_relaxed);
	     held > peak && !atomic_compare_exchange_weak(&r->mem_peak, &peak, held);)
		;
	return 0;
}

int search_repo_filters(int *v, struct worker *w, const char *repo, bool needs_docs)
{
	struct run *r = w->r;
	int err;

	for (size_t i = 0; i < r->n_atoms; i++) {
		const struct atom *a = &r->atoms[i];
		bool val;

		if (a->kind != ATOM_FILTER || !a->ops->is_per_repo ||
		    a->ops->needs_docs != needs_docs)
			continue;
		if ((err = a->ops->eval_repo(&val, w, a, repo)) < 0)
			return err;
		w->repo_val[i] = val;
	}
	*v = verify_eval_static(w, r->root);
	return 0;
}

/* Adds shard_i as the job's next view, taking *sel (best first: what its candidates need). */
static int keep_view(struct job *j, struct worker *w, size_t shard_i, uint64_t **sel,
		     size_t n_words)
{
	struct cand_view *v;
	int err;

	if ((err = job_grow(j, (void **)&j->views, &j->cap_views, j->n_views + 1,
			    sizeof(*j->views))) < 0)
		return err;
	v = &j->views[j->n_views++];
	v->shard = shard_i;
	memcpy(v->repo_val, w->repo_val, sizeof(v->repo_val));
	v->sel = *sel;
	v->n_words = n_words;
	*sel = NULL; /* the job's */
	return 0;
}

static int search_shard(struct worker *w, struct job *j, size_t shard_i)
{
	struct run *r = w->r;
	const struct shard *sh = index_shard(r->ix, shard_i);
	const struct index_repo_entry *e = index_shard_entry(r->ix, shard_i);
	const char *repo = index_shard_repo(r->ix, shard_i);
	size_t n_words = bitset_words(e->n_branches);
	uint64_t *sel = NULL, *on = NULL;
	struct docset cand;
	uint32_t n_docs = shard_n_docs(sh);
	size_t n;
	int err = 0, v;

	/* SECURITY: unreadable repositories are dropped before any other work. */
	if (!search_repos_has(r->repos, repo))
		return 0;
	j->n_searched++;
	/*
	 * A compound file's shard without a candidate ends here: its repository filters and
	 * definitions cannot change an empty result (a selective query over 5,000 repositories
	 * packed into a few files has candidates in a handful of them). Not for type:repo, which
	 * needs no candidate, nor a repository with branches or a rev:, which may warn.
	 */
	if (r->type != QT_REPO && e->n_branches == 0 && !(r->o->query && r->o->query->rev)) {
		bool is_empty;

		if ((err = cand_shard_is_empty(&is_empty, r, shard_i, &j->file_cands)) < 0 ||
		    is_empty)
			return err;
	}
	memset(w->repo_val, -1, sizeof(w->repo_val));
	if ((err = search_repo_filters(&v, w, repo, false)) < 0 || v == 0)
		return err; /* repo: filters exclude this repository */
	/* A directory has no branches: nothing to allocate per shard (thousands of them). */
	if (n_words && (!(sel = calloc(n_words, sizeof(*sel))) ||
			!(on = calloc(n_words, sizeof(*on))))) {
		free(sel);
		return error_nomem(NULL);
	}
	if (e->n_branches ? !branches_select(sel, n_words, r, e)
			  : r->o->query && r->o->query->rev) {
		/* An unknown revision: no results from this repository, and a warning. */
		err = u32vec_push(&j->rev_missing, (uint32_t)shard_i);
		goto out;
	}
	w->shard_i = shard_i;
	w->sel = sel;
	w->n_words = n_words;
	if ((err = search_repo_filters(&v, w, repo, true)) < 0 || v == 0)
		goto out; /* repo:has.* filters exclude it */
	if (r->type == QT_REPO) {
		struct shard_doc none = { .path = "", .skip = DOC_SKIP_UNREADABLE };
		struct doc_ctx dc = { .w = w, .j = j, .d = &none, .repo = repo };

		if (!verify_eval(&dc, r->root, false)) {
			err = dc.err;
			goto out;
		}
		if ((err = job_grow(j, (void **)&j->files, &j->cap_files, j->n_files + 1,
				    sizeof(*j->files))) < 0)
			goto out;
		j->files[j->n_files++] = (struct file_rec){ "", 0, 0, j->n_lines, SEARCH_REPO, 0,
							    0, NULL, 0, 0, 0, shard_i };
		atomic_fetch_add_explicit(&r->found, 1, memory_order_relaxed);
		goto out;
	}
	/* The definitions of what is searched (in the job's one file), for bounds and scores. */
	if (r->is_ranked && !j->has_defs) {
		if ((err = rank_shard_defs(j, w, sh)) < 0)
			goto out;
		j->has_defs = true;
	}
	if ((err = cand_shard(&cand, r, shard_i)) < 0)
		goto out; /* the shard reader's message names the file */
	if (r->is_best_first) {
		/* Read later, best first across every shard (merge_run), with what they need. */
		err = keep_view(j, w, shard_i, &sel, n_words);
		if (err == 0)
			err = rank_candidates(j, w, sh, &cand, on, (uint32_t)(j->n_views - 1));
		docset_dispose(&cand);
		goto out;
	}
	n = cand.is_all ? n_docs : cand.ids.len;
	for (size_t i = 0; i < n && !should_stop(r); i++) {
		uint32_t id = cand.is_all ? (uint32_t)i : cand.ids.v[i];
		struct shard_doc d;

		if ((err = shard_doc(&d, sh, id)) < 0)
			break;
		/* Skipped files have no content, but their paths can match (type:path). */
		if (d.skip != DOC_INDEXED && r->type != QT_PATH)
			continue;
		if (e->n_branches && !branches_doc_selected(on, sel, n_words, r, shard_i, id, &d))
			continue;
		j->candidates++;
		size_t before = j->n_files;

		w->doc_id = id;
		if ((err = verify_doc(w, j, &d, repo)) < 0)
			break;
		if (j->n_files > before && e->n_branches && (err = branches_note(j, e, on)) < 0)
			break;
	}
	docset_dispose(&cand);
out:
	free(sel);
	free(on);
	return err;
}

/* Keeps the error's message in the job, for the calling thread (NULL when out of memory). */
static void job_keep_error(struct job *j)
{
	free(j->errmsg);
	j->errmsg = strdup(error_last());
}

/* A search's error, or 0 when it is one of the limits that end the run with what was found. */
static int settle_err(struct run *r, int err)
{
	if (err == TRAWL_ELIMIT && atomic_load(&r->is_mem_limit))
		err = 0; /* the memory limit ends the run, not the query: what was found stands */
	if (err == TRAWL_ETIMEOUT && is_budget_first(r)) {
		atomic_store(&r->is_over_budget, true);
		atomic_store(&r->stop, true);
		err = 0;
	}
	if (err == TRAWL_ETIMEOUT && r->deadline_ms > 0 && now_ms() >= r->deadline_ms) {
		/* A database compiled while scanning ran into the deadline: a timeout, as any. */
		atomic_store(&r->is_timeout, true);
		atomic_store(&r->is_cut, true);
		err = 0;
	}
	return err;
}

/* Counts the readable repositories of shards [first, end) as searched. */
static void count_searched(const struct run *r, struct job *j, size_t first, size_t end)
{
	if (r->repos->is_all) {
		j->n_searched += end - first;
		return;
	}
	for (size_t k = first; k < end; k++)
		if (search_repos_has(r->repos, index_shard_repo(r->ix, k)))
			j->n_searched++;
}

/*
 * Moves *k past the shards of a compound file from *k on that have no candidate and would end
 * at search_shard's first test (cand_shard_is_empty), counting the readable ones as searched:
 * a query over 50,000 repositories in a few files has candidates in a handful of them. In a
 * plain run (index_run_is_plain) it goes from candidate to candidate, to the shard holding
 * each (index_run_find), so a selective query costs per candidate, not per repository; else
 * shard by shard. Not for type:repo, a rev:, or a repository with branches (they go the whole
 * way).
 */
static int skip_empty(struct run *r, struct job *j, size_t *k, size_t end)
{
	const struct docset *all = j->file_cands;
	size_t g = (size_t)(j - r->jobs), at, next;
	uint32_t lo, hi, prev_hi = 0;
	bool is_empty;
	int err;

	if (r->type == QT_REPO || (r->o->query && r->o->query->rev) || end - r->group_first[g] < 2)
		return 0;
	if (!all) {
		/* The file's candidates, computed (or taken) through the first shard's test. */
		if ((err = cand_shard_is_empty(&is_empty, r, *k, &j->file_cands)) < 0 ||
		    !(all = j->file_cands))
			return err;
	}
	if (all->is_all)
		return 0;
	while (index_run_is_plain(r->ix, g) && *k < end) {
		index_shard_docs(r->ix, *k, &lo, &hi);
		at = docset_lower_bound(all, lo);
		next = at < all->ids.len ? index_run_find(r->ix, *k, end, all->ids.v[at]) : end;
		count_searched(r, j, *k, next);
		if ((*k = next) == end)
			return 0;
		index_shard_docs(r->ix, next, &lo, &hi);
		if (all->ids.v[at] >= lo)
			return 0; /* a candidate: searched the whole way */
		/* The candidate is between two repositories (of none the MANIFEST lists). */
	}
	index_shard_docs(r->ix, *k, &lo, &hi);
	at = docset_lower_bound(all, lo);
	for (; *k < end; (*k)++) {
		if (index_shard_entry(r->ix, *k)->n_branches)
			return 0;
		index_shard_docs(r->ix, *k, &lo, &hi);
		if (lo < prev_hi)
			at = docset_lower_bound(all, lo); /* documents out of order: look again */
		prev_hi = hi;
		while (at < all->ids.len && all->ids.v[at] < lo)
			at++;
		if (at < all->ids.len && all->ids.v[at] < hi)
			return 0; /* a candidate: searched the whole way */
		count_searched(r, j, *k, *k + 1);
	}
	return 0;
}

/* Searches job i's shards into it and marks the job done. */
static void job_run(struct worker *w, size_t i)
{
	struct run *r = w->r;
	struct job *j = &r->jobs[i];
	int err = 0;

	w->job_i = i;
	/* Asked every 64 shards: a compound file's 10,000 shards are mostly ended at once. */
	for (size_t k = r->group_first[i]; k < r->group_first[i + 1] && err == 0; k++) {
		if ((k - r->group_first[i]) % 64 == 0 && should_stop(r))
			break;
		/* A timeout computing the file's candidates ends the run as any (settle_err). */
		if ((err = settle_err(r, skip_empty(r, j, &k, r->group_first[i + 1]))) < 0 ||
		    k == r->group_first[i + 1] || should_stop(r))
			break;
		err = settle_err(r, search_shard(w, j, k));
	}
	if (err == 0 && r->is_best_first)
		rank_candidates_sort(j);
	if (err < 0)
		job_keep_error(j);
	if (r->is_inline) {
		/* The calling thread itself: nobody waits (thousands of shards, no lock each). */
		j->err = err;
		j->is_done = true;
		return;
	}
	pthread_mutex_lock(&r->lock);
	j->err = err;
	j->is_done = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/*
 * --- Best first: every shard's candidates merged by their score's bound ---
 *
 * DESIGN: once every shard has listed its candidates (best bound first, rank_candidates), the
 * workers take candidates off one heap of shards keyed by their next candidate's bound, a few
 * at a time under the run's lock, verify them into their own arenas and add each file found
 * to the cut. A worker stops taking when the best bound left is below the cut: no candidate
 * left can score as high as the last file count: will show, and that score only rises as files
 * are found, so the files shown are the ones a search of every candidate would show first.
 */
#define MERGE_BATCH 4

struct take {
	size_t job;
	struct cand c;
};

/* Whether job a's next candidate goes before job b's (bound, then shard order). */
static bool heap_before(const struct run *r, size_t a, size_t b)
{
	double x = r->jobs[a].cands[r->jobs[a].next_cand].bound;
	double y = r->jobs[b].cands[r->jobs[b].next_cand].bound;

	return x != y ? x > y : a < b;
}

static void heap_down(struct run *r, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i, t;

		if (l < r->n_heap && heap_before(r, r->heap[l], r->heap[m]))
			m = l;
		if (l + 1 < r->n_heap && heap_before(r, r->heap[l + 1], r->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		t = r->heap[i];
		r->heap[i] = r->heap[m];
		r->heap[m] = t;
		i = m;
	}
}

/* Builds the heap of shards with candidates and lets the workers merge (ENOMEM). */
static int merge_start(struct run *r)
{
	if (!(r->heap = malloc((r->n_jobs ? r->n_jobs : 1) * sizeof(*r->heap))))
		return error_nomem(NULL);
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n_jobs; i++)
		if (r->jobs[i].n_cands)
			r->heap[r->n_heap++] = i;
	for (size_t k = r->n_heap / 2; k-- > 0;)
		heap_down(r, k);
	r->is_merging = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

/* Takes up to max candidates, best bound first, while one can still be shown (under lock). */
static size_t merge_take(struct run *r, struct take *out, size_t max)
{
	size_t n = 0;

	while (n < max && r->n_heap > 0) {
		struct job *j = &r->jobs[r->heap[0]];

		if (rank_cut_excludes(&r->cut, j->cands[j->next_cand].bound)) {
			/* The early stop: every candidate left scores below the last file shown. */
			r->n_heap = 0;
			atomic_store(&r->is_cut, true);
			break;
		}
		out[n++] = (struct take){ r->heap[0], j->cands[j->next_cand] };
		if (++j->next_cand == j->n_cands)
			r->heap[0] = r->heap[--r->n_heap];
		if (r->n_heap)
			heap_down(r, 0);
	}
	return n;
}

/* Verifies one candidate into w's arena and adds the file it gives to the cut. */
static int merge_verify(struct worker *w, const struct take *t)
{
	struct run *r = w->r;
	struct job *a = &w->arena;
	const struct cand_view *v = &r->jobs[t->job].views[t->c.view];
	const struct shard *sh = index_shard(r->ix, v->shard);
	const struct index_repo_entry *e = index_shard_entry(r->ix, v->shard);
	size_t before = a->n_files, lines0 = a->n_lines, ranges0 = a->n_ranges;
	size_t branches0 = a->n_branch_names;
	struct shard_doc d;
	struct file_rec *fr;
	bool is_shown;
	int err;

	if ((err = shard_doc(&d, sh, t->c.id)) < 0)
		return err;
	w->shard_i = v->shard;
	w->job_i = t->job;
	w->sel = v->sel;
	w->n_words = v->n_words;
	memcpy(w->repo_val, v->repo_val, sizeof(w->repo_val));
	if (e->n_branches) {
		if (w->n_on < v->n_words) {
			uint64_t *on = realloc(w->on, v->n_words * sizeof(*on));

			if (!on)
				return error_nomem(NULL);
			w->on = on;
			w->n_on = v->n_words;
		}
		if (!branches_doc_selected(w->on, v->sel, v->n_words, r, v->shard, t->c.id, &d))
			return 0;
	}
	a->candidates++;
	w->doc_id = t->c.id;
	w->doc_base = t->c.base;
	w->doc_kind = t->c.kind;
	w->has_doc_base = true;
	err = verify_doc(w, a, &d, index_shard_repo(r->ix, v->shard));
	w->has_doc_base = false;
	if (err < 0 || a->n_files == before)
		return err;
	fr = &a->files[before]; /* its shard: w->shard_i */
	if (e->n_branches && (err = branches_note(a, e, w->on)) < 0)
		return err;
	pthread_mutex_lock(&r->lock);
	is_shown = !rank_cut_excludes(&r->cut, fr->score);
	if (is_shown)
		err = rank_cut_add(&r->cut, fr->score, r->type == QT_FILE ? fr->n_lines : 1);
	pthread_mutex_unlock(&r->lock);
	if (!is_shown) {
		/*
		 * Below the cut already: never shown, so its records are dropped (a common word
		 * reads many files whose bound the cut cannot exclude; memory holds only those
		 * that may be shown). The search still knows more matched (run.found).
		 */
		a->n_files = before;
		a->n_lines = lines0;
		a->n_ranges = ranges0;
		a->n_branch_names = branches0;
	}
	return err;
}

/* A worker's part of the merge; the last one done wakes the calling thread. */
static void merge_run(struct worker *w)
{
	struct run *r = w->r;
	struct take batch[MERGE_BATCH];
	int err = 0;

	while (err == 0 && !should_stop(r)) {
		size_t n;

		pthread_mutex_lock(&r->lock);
		n = merge_take(r, batch, MERGE_BATCH);
		pthread_mutex_unlock(&r->lock);
		if (n == 0)
			break;
		for (size_t k = 0; k < n && err == 0 && !should_stop(r); k++)
			err = merge_verify(w, &batch[k]);
		err = settle_err(r, err);
	}
	pthread_mutex_lock(&r->lock);
	if (err < 0) {
		w->arena.err = err;
		job_keep_error(&w->arena);
		atomic_store(&r->stop, true);
	}
	r->n_merge_done++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&r->lock);
		while (r->window && !atomic_load(&r->stop) &&
		       atomic_load(&r->next_job) >= r->n_emitted + r->window)
			pthread_cond_wait(&r->cond, &r->lock);
		i = atomic_fetch_add(&r->next_job, 1);
		pthread_mutex_unlock(&r->lock);
		if (i >= r->n_jobs)
			break;
		job_run(w, i);
	}
	if (r->is_best_first) {
		pthread_mutex_lock(&r->lock);
		while (!r->is_merging && !atomic_load(&r->stop))
			pthread_cond_wait(&r->cond, &r->lock);
		pthread_mutex_unlock(&r->lock);
		merge_run(w);
	}
	return NULL;
}

/*
 * A one-thread search runs in the calling thread, with a matcher scratch kept per thread: a
 * server answers many small searches from each of its threads, and a thread started and a
 * scratch sized for every database per search would dominate a selective query
 * (bench/design-measurements.md).
 */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_err;

static void scratch_destroy(void *p)
{
	matcher_scratch_free(p);
}

static void scratch_key_make(void)
{
	scratch_key_err = pthread_key_create(&scratch_key, scratch_destroy);
}

/* The calling thread's scratch, made on first use and freed when the thread exits. */
static int thread_scratch(struct matcher_scratch **out)
{
	struct matcher_scratch *s;
	int err;

	pthread_once(&scratch_once, scratch_key_make);
	if (scratch_key_err) {
		error_set("cannot keep a per-thread matcher scratch");
		return TRAWL_ENOMEM;
	}
	if ((s = pthread_getspecific(scratch_key)) == NULL) {
		if ((err = matcher_scratch_new(&s)) < 0)
			return err;
		if (pthread_setspecific(scratch_key, s) != 0) {
			matcher_scratch_free(s);
			error_set("cannot keep a per-thread matcher scratch");
			return TRAWL_ENOMEM;
		}
	}
	*out = s;
	return 0;
}

static void job_dispose(struct job *j)
{
	if (j->r)
		atomic_fetch_sub(&j->r->mem, j->mem);
	j->mem = 0;
	free(j->files);
	free(j->lines);
	free(j->ranges);
	free(j->branch_names);
	free(j->cands);
	for (size_t i = 0; i < j->n_views; i++)
		free(j->views[i].sel);
	free(j->views);
	free(j->errmsg);
	u32vec_dispose(&j->rev_missing);
	rank_defs_dispose(&j->defs);
	j->cands = NULL;
	j->views = NULL;
	j->errmsg = NULL;
	j->n_cands = j->cap_cands = j->n_views = j->cap_views = 0;
	j->branch_names = NULL;
	j->files = NULL;
	j->lines = NULL;
	j->ranges = NULL;
	j->n_files = 0;
}

/*
 * Hands files to the callback, cutting at --limit or count:. files[0..n_files) are the job's
 * own in shard order, or, for a ranked query, pointers picked from every job (order).
 */
struct pick {
	struct job *j;
	struct file_rec *fr;
	const char *repo;
};

static int emit_files(struct run *r, struct pick *picks, size_t n, struct search_stats *st,
		      search_file_fn fn, void *arg)
{
	const struct search_opts *o = r->o;
	struct search_line *lines = NULL;
	int ret = 0;

	for (size_t f = 0; f < n && ret == 0; f++) {
		struct job *j = picks[f].j;
		struct file_rec *fr = picks[f].fr;
		const char *repo = picks[f].repo;
		size_t n_files = n;
		struct search_file sf = { repo, fr->path, fr->path_len, fr->n_lines, NULL,
					  fr->kind, fr->lang, fr->score, fr->content, fr->content_len,
					  fr->n_branches ? j->branch_names + fr->first_branch : NULL,
					  fr->n_branches, NULL, 0 };

		/* Handing out results (context lines, JSON) counts against timeout: too. */
		if (is_out_of_time(r, true))
			break;
		if (r->limit && fr->kind == SEARCH_CONTENT && st->lines + sf.n_lines > r->limit) {
			sf.n_lines = r->limit - st->lines;
			st->is_limit_hit = true;
		}
		if (sf.n_lines == 0 && fr->kind == SEARCH_CONTENT)
			break;
		if (o->want_lines && sf.n_lines) {
			lines = malloc(sf.n_lines * sizeof(*lines));
			if (!lines)
				return error_nomem(NULL);
			for (size_t k = 0; k < sf.n_lines; k++) {
				struct line_rec *lr = &j->lines[fr->first_line + k];

				lines[k] = (struct search_line){ lr->lineno, lr->text, lr->len,
								  j->ranges ? j->ranges + lr->first_range
									    : NULL,
								  lr->n_ranges };
			}
			sf.lines = lines;
		}
		st->lines += sf.n_lines;
		st->files++;
		ret = fn(&sf, arg);
		free(lines);
		lines = NULL;
		if (r->limit && (fr->kind == SEARCH_CONTENT ? st->lines : st->files) >= r->limit) {
			/*
			 * The search stops here: say so unless nothing was left to search (more
			 * files in this shard, or shards after it, may hold more lines).
			 */
			if (f + 1 < n_files || atomic_load(&r->found) > st->lines ||
			    atomic_load(&r->is_cut))
				st->is_limit_hit = true;
			atomic_store(&r->stop, true);
			break;
		}
	}
	return ret;
}

/* The job's files [f0, f1) as picks, in their order, or sorted best first (ENOMEM). */
static int job_picks(struct pick **out, struct run *r, struct job *j, size_t f0, size_t f1)
{
	if (!(*out = malloc((f1 > f0 ? f1 - f0 : 1) * sizeof(**out))))
		return error_nomem(NULL);
	for (size_t f = f0; f < f1; f++)
		(*out)[f - f0] = (struct pick){ j, &j->files[f],
						index_shard_repo(r->ix, j->files[f].shard) };
	return 0;
}

static int cmp_pick(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;
	size_t n = x->fr->path_len < y->fr->path_len ? x->fr->path_len : y->fr->path_len;
	int c;

	if (x->fr->score != y->fr->score)
		return x->fr->score > y->fr->score ? -1 : 1;
	if ((c = strcmp(x->repo, y->repo)) != 0)
		return c;
	if ((c = memcmp(x->fr->path, y->fr->path, n)) != 0)
		return c;
	if (x->fr->path_len != y->fr->path_len)
		return x->fr->path_len < y->fr->path_len ? -1 : 1;
	/* The same path on different branches (different blobs): by their first branch. */
	if (x->fr->n_branches && y->fr->n_branches)
		return strcmp(x->j->branch_names[x->fr->first_branch],
			      y->j->branch_names[y->fr->first_branch]);
	return 0;
}

/* The job's files [f0, f1) (one shard's): in their order, or with is_ranked best first. */
static int emit_job(struct run *r, struct job *j, size_t f0, size_t f1, bool is_ranked,
		    struct search_stats *st, search_file_fn fn, void *arg)
{
	struct pick *picks;
	int ret;

	if (f1 == f0)
		return 0;
	if ((ret = job_picks(&picks, r, j, f0, f1)) < 0)
		return ret;
	if (is_ranked)
		qsort(picks, f1 - f0, sizeof(*picks), cmp_pick);
	ret = emit_files(r, picks, f1 - f0, st, fn, arg);
	free(picks);
	return ret;
}

/*
 * A query's results: everything found, best first; one result per repository for type:repo.
 * From jobs [first, last): the whole run at the end; or,
 * for a best-first search (jobs NULL), from the n_workers workers' arenas.
 */
static int emit_ranked(struct run *r, size_t first, size_t last, struct worker *workers,
		       size_t n_workers, struct search_stats *st, search_file_fn fn, void *arg)
{
	struct pick *picks;
	size_t n = 0, w = 0;
	int ret;

	for (size_t i = first; i < last; i++)
		n += r->jobs[i].n_files;
	for (size_t t = 0; t < n_workers; t++)
		n += workers[t].arena.n_files;
	if (!(picks = malloc((n ? n : 1) * sizeof(*picks))))
		return error_nomem(NULL);
	n = 0;
	for (size_t i = first; i < last; i++)
		for (size_t f = 0; f < r->jobs[i].n_files; f++)
			picks[n++] = (struct pick){ &r->jobs[i], &r->jobs[i].files[f],
						    index_shard_repo(r->ix, r->jobs[i].files[f].shard) };
	for (size_t t = 0; t < n_workers; t++) {
		struct job *a = &workers[t].arena;

		for (size_t f = 0; f < a->n_files; f++)
			picks[n++] = (struct pick){ a, &a->files[f],
						    index_shard_repo(r->ix, a->files[f].shard) };
	}
	/*
	 * A repository split over several shards is one repository result: its shards are
	 * consecutive, so its results are neighbours before the sort (the best one is kept).
	 */
	for (size_t i = 0; i < n; i++) {
		struct pick *kept = w ? &picks[w - 1] : NULL;

		if (kept && kept->fr->kind == SEARCH_REPO && picks[i].fr->kind == SEARCH_REPO &&
		    strcmp(kept->repo, picks[i].repo) == 0) {
			if (picks[i].fr->score > kept->fr->score)
				*kept = picks[i];
			continue;
		}
		picks[w++] = picks[i];
	}
	qsort(picks, w, sizeof(*picks), cmp_pick);
	ret = emit_files(r, picks, w, st, fn, arg);
	free(picks);
	return ret;
}

/*
 * The jobs: one per shard, but one for the consecutive shards of a compound file (the index's
 * runs, index_runs), so that a query over thousands of repositories packed into a few files
 * has a few jobs, not thousands (each repository's shard is still searched, authorized and
 * counted on its own). ENOMEM.
 */
static int plan_jobs(struct run *r)
{
	r->n_jobs = index_n_runs(r->ix);
	r->group_first = index_runs(r->ix);
	if (!(r->jobs = calloc(r->n_jobs ? r->n_jobs : 1, sizeof(*r->jobs))))
		return error_nomem(NULL);
	return 0;
}

/* The earlier of the query's deadline and the run's budget (0: neither). */
static void consumed(struct run *r, size_t n)
{
	if (!r->window || r->is_inline)
		return; /* no worker waits for the window */
	pthread_mutex_lock(&r->lock);
	r->n_emitted = n;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/*
 * Counts the repositories rev: found nothing in, job by job in order, each once (a
 * repository's shards are consecutive: *last is the one noted last).
 */
static void note_rev_missing(struct search_stats *st, const struct run *r, const struct job *j,
			     const struct index_repo_entry **last)
{
	for (size_t k = 0; k < j->rev_missing.len; k++) {
		const struct index_repo_entry *e = index_shard_entry(r->ix, j->rev_missing.v[k]);

		if (e == *last)
			continue; /* another shard of the same repository */
		*last = e;
		search_note_rev_missing(st, r->o->query->rev, e->name);
	}
}

void search_note_rev_missing(struct search_stats *st, const char *rev, const char *repo)
{
	if (++st->rev_missing == 1)
		snprintf(st->rev_warning, sizeof(st->rev_warning),
			 "revision \"%s\" is not indexed in repository %s: no results from it", rev,
			 repo);
	else
		snprintf(st->rev_warning, sizeof(st->rev_warning),
			 "revision \"%s\" is not indexed in %llu repositories (e.g. %s): no results "
			 "from them", rev, (unsigned long long)st->rev_missing, repo);
}

/*
 * Whether the query's repo: filters exclude every readable repository: then the search cannot
 * find anything, and the caller is told why (a warning) rather than left with "no results".
 * Only repo: names are decided here (repo:has.* needs the shards, so it stays unknown and
 * never counts as excluding). SECURITY: only the readable repositories are looked at, so the
 * answer is the same whether a repository the caller cannot read exists or not.
 */
static int note_repo_none(struct search_stats *st, struct run *r)
{
	struct worker w = { .r = r };
	bool has_repo = false;
	const char *last = NULL;
	int err;

	for (size_t i = 0; i < r->n_atoms && !has_repo; i++)
		has_repo = r->atoms[i].kind == ATOM_FILTER && r->atoms[i].ops->kind == QF_REPO;
	if (!has_repo)
		return 0;
	if ((err = thread_scratch(&w.scratch)) < 0)
		return err;
	matcher_scratch_set_deadline(w.scratch, compile_deadline(r));
	memset(w.repo_val, -1, sizeof(w.repo_val));
	for (size_t s = 0; s < index_n_shards(r->ix); s++) {
		const char *repo = index_shard_repo(r->ix, s);

		/* A repository's shards are consecutive: each name is decided once. */
		if ((last && strcmp(last, repo) == 0) || !search_repos_has(r->repos, repo))
			continue;
		last = repo;
		for (size_t i = 0; i < r->n_atoms; i++) {
			const struct atom *a = &r->atoms[i];
			bool val;

			if (a->kind != ATOM_FILTER || a->ops->kind != QF_REPO)
				continue;
			if ((err = a->ops->eval_repo(&val, &w, a, repo)) < 0)
				return err;
			w.repo_val[i] = val;
		}
		if (verify_eval_static(&w, r->root) != 0)
			return 0; /* this one may have results */
	}
	st->is_repo_none = true;
	return 0;
}

int search_run(struct search_stats *st, const struct index *ix, const struct search_repos *repos,
	       const struct search_opts *o, search_file_fn fn, void *arg)
{
	struct run r = { .ix = ix, .repos = repos, .o = o };
	pthread_t *threads = NULL;
	struct worker *workers = NULL;
	unsigned n_threads = o->n_threads;
	unsigned started = 0;
	bool is_inline = false;
	uint64_t n_found_files = 0;
	double t0 = now_ms();
	const struct index_repo_entry *last_rev_missing = NULL;
	bool is_early;
	int err = 0;

	memset(st, 0, sizeof(*st));
	if (!repos) {
		error_set("internal error: no repository set given to the search");
		return TRAWL_EINVAL;
	}
	if (o->query && o->query->type == QT_SYMBOL)
		return symsearch_run(st, ix, repos, o, fn, arg);
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	if (o->budget_ms > 0)
		r.budget_at_ms = t0 + o->budget_ms;
	if ((err = compile_run(&r, o)) < 0) {
		if (err == TRAWL_ETIMEOUT && is_budget_first(&r))
			err = TRAWL_EAGAIN; /* compiling ran out of the budget, not of timeout: */
		goto out;
	}
	st->plan_ms = now_ms() - t0;
	rank_query_maxima(&r);
	/*
	 * Without a count limit every file found is a result whatever its rank, so a caller that
	 * does not need the global order gets each shard's files (ranked within the shard) as
	 * soon as the shard is done. type:repo is excluded: its one result per repository is
	 * decided across shards.
	 */
	is_early = r.is_ranked && o->is_early && r.limit == 0 && r.type != QT_REPO;
	/*
	 * With a count limit a ranked query reads candidates best first across every shard and
	 * stops when none left can be shown (merge_run). Not for type:repo (one result per
	 * repository, decided across shards) nor select: (whose limit counts selected results).
	 */
	r.is_best_first = r.is_ranked && r.limit && r.limit != UINT64_MAX && r.type != QT_REPO;
	rank_cut_init(&r.cut, r.limit);
	st->shards_total = index_n_shards(ix);
	r.fcand = calloc(index_n_files(ix) + 1, sizeof(*r.fcand));
	if ((err = plan_jobs(&r)) < 0)
		goto out;
	for (size_t i = 0; i < r.n_jobs; i++)
		r.jobs[i].r = &r;
	if (n_threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		n_threads = n > 0 ? (unsigned)n : 1;
	}
	if (n_threads > r.n_jobs)
		n_threads = r.n_jobs ? (unsigned)r.n_jobs : 1;
	threads = calloc(n_threads, sizeof(*threads));
	workers = calloc(n_threads, sizeof(*workers));
	if (!r.jobs || !r.fcand || !threads || !workers) {
		error_set("out of memory");
		err = TRAWL_ENOMEM;
		goto out;
	}
	is_inline = n_threads == 1;
	r.is_inline = is_inline;
	/* Results handed out as shards finish: workers stay within a window ahead of them. */
	if (!r.is_ranked || is_early)
		r.window = 2 * (size_t)n_threads;
	for (unsigned t = 0; t < n_threads; t++) {
		workers[t].r = &r;
		workers[t].arena.r = &r;
		if ((err = is_inline ? thread_scratch(&workers[t].scratch)
				     : matcher_scratch_new(&workers[t].scratch)) < 0)
			goto out;
		matcher_scratch_set_deadline(workers[t].scratch, compile_deadline(&r));
	}
	for (; !is_inline && started < n_threads; started++) {
		if (pthread_create(&threads[started], NULL, worker_main, &workers[started]) != 0) {
			error_set("cannot start a search thread");
			err = TRAWL_ENOMEM;
			atomic_store(&r.stop, true);
			goto out;
		}
	}
	for (size_t i = 0; i < r.n_jobs; i++) {
		struct job *j = &r.jobs[i];

		if (is_inline) {
			job_run(&workers[0], i);
		} else {
			pthread_mutex_lock(&r.lock);
			while (!j->is_done)
				pthread_cond_wait(&r.cond, &r.lock);
			pthread_mutex_unlock(&r.lock);
		}
		if (j->err < 0 && err == 0) {
			err = j->err;
			error_set("%s", j->errmsg ? j->errmsg : "out of memory");
			atomic_store(&r.stop, true);
		}
		st->candidates += j->candidates;
		st->bytes_scanned += j->bytes;
		st->shards_searched += j->n_searched;
		note_rev_missing(st, &r, j, &last_rev_missing);
		/*
		 * Shard by shard, as when each repository had files of its own: its files, then
		 * its progress (a compound file's job holds them in shard order). So the events and
		 * batches a caller sees never depend on which repositories share a file.
		 */
		for (size_t v = r.group_first[i], f0 = 0, f1; v < r.group_first[i + 1]; v++, f0 = f1) {
			/* Without progress to report, only the shards with files need a visit. */
			if (!o->progress && f0 == j->n_files)
				break;
			if (!o->progress)
				v = j->files[f0].shard;
			for (f1 = f0; f1 < j->n_files && j->files[f1].shard == v; f1++)
				;
			n_found_files += f1 - f0;
			if (is_early && err == 0 && !atomic_load(&r.stop) &&
			    (err = emit_job(&r, j, f0, f1, true, st, fn, arg)) != 0)
				atomic_store(&r.stop, true);
			if (o->progress) {
				struct search_progress p = { v + 1, st->shards_total,
							     atomic_load(&r.found), n_found_files };

				o->progress(&p, o->progress_arg);
			}
			/* A ranked query is handed out below, once everything is in (unless is_early). */
			if (r.is_ranked)
				continue;
			if (err == 0 && !atomic_load(&r.stop))
				err = emit_job(&r, j, f0, f1, false, st, fn, arg);
			else if (r.limit && st->lines >= r.limit && f1 > f0)
				st->is_limit_hit = true;
		}
		if (is_early || !r.is_ranked)
			job_dispose(j);
		consumed(&r, i + 1); /* always: workers waiting for the window must not hang */
	}
	if (r.is_best_first && err == 0 && !atomic_load(&r.stop) && (err = merge_start(&r)) == 0) {
		if (is_inline)
			merge_run(&workers[0]);
		pthread_mutex_lock(&r.lock);
		while (r.n_merge_done < (is_inline ? 1 : started))
			pthread_cond_wait(&r.cond, &r.lock);
		pthread_mutex_unlock(&r.lock);
		for (unsigned t = 0; t < n_threads && err == 0; t++)
			if ((err = workers[t].arena.err) < 0)
				error_set("%s", workers[t].arena.errmsg ? workers[t].arena.errmsg
									: "out of memory");
	}
	for (unsigned t = 0; r.is_best_first && t < n_threads; t++) {
		st->candidates += workers[t].arena.candidates;
		st->bytes_scanned += workers[t].arena.bytes;
	}
	if (r.is_ranked && err == 0) {
		if (r.is_best_first)
			err = emit_ranked(&r, 0, 0, workers, n_threads, st, fn, arg);
		else if (!is_early)
			err = emit_ranked(&r, 0, r.n_jobs, NULL, 0, st, fn, arg);
		if (atomic_load(&r.is_cut) && !atomic_load(&r.is_timeout) &&
		    !atomic_load(&r.is_mem_limit))
			st->is_limit_hit = true;
	}
	st->is_timeout = atomic_load(&r.is_timeout);
	st->is_mem_limit = atomic_load(&r.is_mem_limit);
	if (atomic_load(&r.is_over_budget) && err >= 0) {
		error_set("the search needs more than its budget of %.0f ms", o->budget_ms);
		err = TRAWL_EAGAIN;
	}
	st->mem_peak = atomic_load(&r.mem_peak);
	/* Only a search that found nothing asks why: the others pay nothing for the warning. */
	if (err >= 0 && st->files == 0 && (err = note_repo_none(st, &r)) < 0)
		goto out;
out:
	pthread_mutex_lock(&r.lock);
	atomic_store(&r.stop, true);
	pthread_cond_broadcast(&r.cond); /* workers waiting for the window */
	pthread_mutex_unlock(&r.lock);
	for (unsigned t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	if (o->cancel && atomic_load(o->cancel))
		st->is_canceled = true;
	for (unsigned t = 0; workers && !is_inline && t < n_threads; t++)
		matcher_scratch_free(workers[t].scratch);
	for (unsigned t = 0; workers && t < n_threads; t++) {
		job_dispose(&workers[t].arena);
		free(workers[t].on);
	}
	free(r.heap);
	rank_cut_dispose(&r.cut);
	for (size_t i = 0; r.jobs && i < r.n_jobs; i++)
		job_dispose(&r.jobs[i]);
	free(r.jobs);
	for (size_t f = 0; r.fcand && f < index_n_files(ix); f++)
		docset_dispose(&r.fcand[f].d);
	free(r.fcand);
	free(threads);
	free(workers);
	compile_free(&r);
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.lock);
	st->elapsed_ms = now_ms() - t0;
	return err;
}
