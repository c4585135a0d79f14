/*
 * The executor: plan -> per shard (in parallel): authorize, posting query, filters, verify ->
 * results handed over in shard order.
 *
 * DESIGN: each worker takes whole shards from a shared counter and collects a shard's results
 * in its own arena (line texts point into the shard mapping, so nothing is copied). The calling
 * thread waits for shards in order and hands their files to the callback, which keeps output
 * deterministic whatever the scheduling. --limit is enforced twice: workers stop once enough
 * lines were found in all, and the calling thread cuts the output at exactly the limit.
 */
#include "search/search.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "regex/tquery.h"
#include "util/error.h"
#include "util/vec.h"

#define ERRMSG_MAX 512

struct file_rec {
	const char *path;
	size_t path_len;
	uint64_t n_lines;
	size_t first_line; /* index into the shard's lines */
};

struct line_rec {
	uint64_t lineno;
	const uint8_t *text;
	size_t len;
	size_t first_range;
	size_t n_ranges;
};

struct job {
	bool is_done;
	int err;
	char errmsg[ERRMSG_MAX];
	struct file_rec *files;
	size_t n_files, cap_files;
	struct line_rec *lines;
	size_t n_lines, cap_lines;
	struct match_range *ranges;
	size_t n_ranges, cap_ranges;
	uint64_t candidates;
	uint64_t bytes;
	bool is_searched;
};

struct run {
	const struct index *ix;
	const struct search_repos *repos;
	const struct search_opts *o;
	struct regex *re;
	struct matcher *m;
	struct tq *plan;
	struct regex *path_re;
	struct matcher *path_m;
	struct job *jobs;
	size_t n_jobs;
	atomic_size_t next_job;
	atomic_uint_fast64_t found; /* matching lines found so far, for --limit */
	atomic_bool is_cut;         /* work was skipped because --limit was reached */
	atomic_bool stop;           /* set by the caller's side: stop all workers */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

struct worker {
	struct run *r;
	struct matcher_scratch *scratch;
	struct u32vec tmp[4];
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

bool search_repos_has(const struct search_repos *repos, const char *name)
{
	if (repos->is_all)
		return true;
	for (size_t i = 0; i < repos->n_names; i++)
		if (strcmp(repos->names[i], name) == 0)
			return true;
	return false;
}

static bool should_stop(struct run *r)
{
	if (atomic_load_explicit(&r->stop, memory_order_relaxed))
		return true;
	if (r->o->cancel && atomic_load_explicit(r->o->cancel, memory_order_relaxed))
		return true;
	if (r->o->limit && atomic_load_explicit(&r->found, memory_order_relaxed) >= r->o->limit) {
		/* Callers ask only when work remains: it is skipped, so more lines may exist. */
		atomic_store_explicit(&r->is_cut, true, memory_order_relaxed);
		return true;
	}
	return false;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t cap2;
	void *q;

	if (need <= *cap)
		return 0;
	cap2 = *cap ? *cap * 2 : 64;
	while (cap2 < need)
		cap2 *= 2;
	q = realloc(*p, cap2 * elem);
	if (!q) {
		error_set("out of memory collecting results");
		return TRAWL_ENOMEM;
	}
	*p = q;
	*cap = cap2;
	return 0;
}

/* --- candidates: evaluating the trigram query over posting lists --- */

struct docset {
	bool is_all;
	struct u32vec ids;
};

static void intersect(struct u32vec *a, const struct u32vec *b)
{
	size_t i = 0, j = 0, k = 0;

	while (i < a->len && j < b->len) {
		if (a->v[i] < b->v[j])
			i++;
		else if (a->v[i] > b->v[j])
			j++;
		else {
			a->v[k++] = a->v[i];
			i++;
			j++;
		}
	}
	a->len = k;
}

static int unite(struct u32vec *a, const struct u32vec *b)
{
	struct u32vec c;
	size_t i = 0, j = 0;
	int err;

	u32vec_init(&c);
	if ((err = u32vec_reserve(&c, a->len + b->len)) < 0)
		return err;
	while (i < a->len || j < b->len) {
		uint32_t x;

		if (j == b->len || (i < a->len && a->v[i] < b->v[j]))
			x = a->v[i++];
		else if (i == a->len || b->v[j] < a->v[i])
			x = b->v[j++];
		else {
			x = a->v[i++];
			j++;
		}
		c.v[c.len++] = x;
	}
	u32vec_dispose(a);
	*a = c;
	return 0;
}

struct sub_order {
	const struct tq *q;
	uint32_t cost;
};

static int cmp_cost(const void *a, const void *b)
{
	const struct sub_order *x = a, *y = b;

	return x->cost < y->cost ? -1 : x->cost > y->cost;
}

/* An estimate of a subquery's result size: evaluates the cheapest AND children first. */
static uint32_t tq_cost(const struct shard *sh, const struct tq *q)
{
	uint32_t c = 0;

	switch (q->op) {
	case TQ_TRIGRAM:
		return shard_trigram_count(sh, q->trigram);
	case TQ_NONE:
		return 0;
	case TQ_ALL:
		return UINT32_MAX;
	case TQ_AND:
		c = UINT32_MAX;
		for (size_t i = 0; i < q->n_sub; i++) {
			uint32_t x = tq_cost(sh, q->sub[i]);

			c = x < c ? x : c;
		}
		return c;
	case TQ_OR:
		for (size_t i = 0; i < q->n_sub; i++) {
			uint32_t x = tq_cost(sh, q->sub[i]);

			c = (x > UINT32_MAX - c) ? UINT32_MAX : c + x;
		}
		return c;
	}
	return UINT32_MAX;
}

static void docset_dispose(struct docset *d)
{
	u32vec_dispose(&d->ids);
}

static int tq_eval(struct docset *out, const struct shard *sh, const struct tq *q)
{
	struct sub_order *order = NULL;
	int err = 0;

	out->is_all = false;
	u32vec_init(&out->ids);
	switch (q->op) {
	case TQ_ALL:
		out->is_all = true;
		return 0;
	case TQ_NONE:
		return 0;
	case TQ_TRIGRAM:
		return shard_postings(&out->ids, sh, q->trigram);
	case TQ_AND:
	case TQ_OR:
		break;
	}
	order = malloc(q->n_sub * sizeof(*order));
	if (!order) {
		error_set("out of memory");
		return TRAWL_ENOMEM;
	}
	for (size_t i = 0; i < q->n_sub; i++) {
		order[i].q = q->sub[i];
		order[i].cost = q->op == TQ_AND ? tq_cost(sh, q->sub[i]) : 0;
		if (q->op == TQ_AND && order[i].cost == 0) {
			free(order); /* a term no document has: nothing can match */
			return 0;
		}
	}
	if (q->op == TQ_AND)
		qsort(order, q->n_sub, sizeof(*order), cmp_cost);
	out->is_all = q->op == TQ_AND;
	for (size_t i = 0; i < q->n_sub; i++) {
		struct docset sub;

		if (q->op == TQ_AND && !out->is_all && out->ids.len == 0)
			break; /* nothing left to intersect */
		if ((err = tq_eval(&sub, sh, order[i].q)) < 0)
			goto out;
		if (q->op == TQ_AND) {
			if (sub.is_all) {
				docset_dispose(&sub);
				continue;
			}
			if (out->is_all) {
				out->is_all = false;
				u32vec_dispose(&out->ids);
				out->ids = sub.ids;
				continue;
			}
			intersect(&out->ids, &sub.ids);
		} else {
			if (sub.is_all) {
				out->is_all = true;
				docset_dispose(&sub);
				break;
			}
			err = unite(&out->ids, &sub.ids);
		}
		docset_dispose(&sub);
		if (err < 0)
			goto out;
	}
out:
	free(order);
	if (err < 0)
		docset_dispose(out);
	return err;
}

/* --- verification --- */

struct doc_scan {
	struct worker *w;
	struct job *j;
	const uint8_t *data;
	enum matcher_text text;
	size_t pos;         /* lineno counts the lines before pos */
	uint64_t lineno;
	uint64_t n_lines;
	int err;
};

/* Counts '\n' bytes in p[0..n): the hot loop of line numbering, so 16 bytes at a time. */
static uint64_t count_newlines(const uint8_t *p, size_t n)
{
	uint64_t c = 0;
	size_t i = 0;

#if defined(__SSE2__)
	const __m128i nl = _mm_set1_epi8('\n');

	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));

		c += (uint64_t)__builtin_popcount((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)));
	}
#endif
	for (; i < n; i++)
		c += p[i] == '\n';
	return c;
}

static int on_line(size_t start, size_t end, void *arg)
{
	struct doc_scan *ds = arg;
	struct run *r = ds->w->r;
	const struct search_opts *o = r->o;
	struct job *j = ds->j;
	struct line_rec *lr;

	ds->lineno += count_newlines(ds->data + ds->pos, start - ds->pos);
	ds->pos = start;
	ds->n_lines++;
	atomic_fetch_add_explicit(&r->found, 1, memory_order_relaxed);
	if (o->want_lines) {
		if ((ds->err = grow((void **)&j->lines, &j->cap_lines, j->n_lines + 1,
				    sizeof(*j->lines))) < 0)
			return 1;
		lr = &j->lines[j->n_lines++];
		lr->lineno = ds->lineno + 1;
		lr->text = ds->data + start;
		lr->len = end - start;
		lr->first_range = j->n_ranges;
		lr->n_ranges = 0;
		if (o->want_ranges) {
			size_t max = end - start + 1, n;

			if ((ds->err = grow((void **)&j->ranges, &j->cap_ranges, j->n_ranges + max,
					    sizeof(*j->ranges))) < 0)
				return 1;
			if ((ds->err = matcher_ranges(r->m, ds->w->scratch, lr->text, lr->len, ds->text,
						      j->ranges + j->n_ranges, max, &n)) < 0)
				return 1;
			lr->n_ranges = n;
			j->n_ranges += n;
		}
	}
	if (o->max_per_file && ds->n_lines >= o->max_per_file)
		return 1;
	return should_stop(r) ? 1 : 0;
}

static const uint8_t utf8_bom[3] = { 0xef, 0xbb, 0xbf };

static int stop_at_first(size_t start, size_t end, void *arg)
{
	(void)start;
	(void)end;
	*(bool *)arg = true;
	return 1;
}

static bool path_matches(struct worker *w, const struct shard_doc *d)
{
	struct run *r = w->r;
	bool hit = false;

	if (!r->path_m)
		return true;
	/* A path is one "line"; one holding '\n' matches if any part of it does. */
	return matcher_lines(r->path_m, w->scratch, (const uint8_t *)d->path, d->path_len,
			     matcher_classify((const uint8_t *)d->path, d->path_len), stop_at_first,
			     &hit) == 0 &&
	       hit;
}

static int scan_doc(struct worker *w, struct job *j, const struct shard_doc *d)
{
	struct run *r = w->r;
	struct doc_scan ds = { .w = w, .j = j };
	size_t len = d->content_len;
	const uint8_t *data = d->content;
	size_t first_line = j->n_lines;
	int err;

	/* ripgrep ignores a leading UTF-8 byte order mark: so do we, for matching and output. */
	if (len >= 3 && memcmp(data, utf8_bom, 3) == 0) {
		data += 3;
		len -= 3;
	}
	ds.data = data;
	if (d->flags & DOC_INVALID_UTF8)
		ds.text = MATCHER_TEXT_BYTES;
	else
		ds.text = matcher_classify(data, len);
	j->bytes += len;
	if ((err = matcher_lines(r->m, w->scratch, data, len, ds.text, on_line, &ds)) < 0)
		return err;
	if (ds.err < 0)
		return ds.err;
	if (ds.n_lines == 0)
		return 0;
	if ((err = grow((void **)&j->files, &j->cap_files, j->n_files + 1, sizeof(*j->files))) < 0)
		return err;
	j->files[j->n_files++] = (struct file_rec){ d->path, d->path_len, ds.n_lines, first_line };
	return 0;
}

static int search_shard(struct worker *w, struct job *j, const struct shard *sh)
{
	struct run *r = w->r;
	struct docset cand;
	uint32_t n_docs = shard_n_docs(sh);
	size_t n;
	int err;

	/* SECURITY: unreadable repositories are dropped before any other work. */
	if (!search_repos_has(r->repos, shard_repo(sh)))
		return 0;
	j->is_searched = true;
	if ((err = tq_eval(&cand, sh, r->plan)) < 0)
		return err; /* the shard reader's message names the file */
	n = cand.is_all ? n_docs : cand.ids.len;
	for (size_t i = 0; i < n && !should_stop(r); i++) {
		uint32_t id = cand.is_all ? (uint32_t)i : cand.ids.v[i];
		struct shard_doc d;

		if ((err = shard_doc(&d, sh, id)) < 0)
			break;
		if (d.skip != DOC_INDEXED || !path_matches(w, &d))
			continue;
		j->candidates++;
		if ((err = scan_doc(w, j, &d)) < 0)
			break;
	}
	docset_dispose(&cand);
	return err;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	size_t i;

	while ((i = atomic_fetch_add(&r->next_job, 1)) < r->n_jobs) {
		struct job *j = &r->jobs[i];
		int err = 0;

		if (!should_stop(r))
			err = search_shard(w, j, index_shard(r->ix, i));
		pthread_mutex_lock(&r->lock);
		j->err = err;
		if (err < 0)
			snprintf(j->errmsg, sizeof(j->errmsg), "%s", error_last());
		j->is_done = true;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

static void job_dispose(struct job *j)
{
	free(j->files);
	free(j->lines);
	free(j->ranges);
	j->files = NULL;
	j->lines = NULL;
	j->ranges = NULL;
}

/* Hands a finished shard's files to the callback, cutting at --limit. */
static int emit_job(struct run *r, struct job *j, const char *repo, struct search_stats *st,
		    search_file_fn fn, void *arg)
{
	const struct search_opts *o = r->o;
	struct search_line *lines = NULL;
	int ret = 0;

	for (size_t f = 0; f < j->n_files && ret == 0; f++) {
		struct file_rec *fr = &j->files[f];
		struct search_file sf = { repo, fr->path, fr->path_len, fr->n_lines, NULL };

		if (o->limit && st->lines + sf.n_lines > o->limit) {
			sf.n_lines = o->limit - st->lines;
			st->is_limit_hit = true;
		}
		if (sf.n_lines == 0)
			break;
		if (o->want_lines) {
			lines = malloc(sf.n_lines * sizeof(*lines));
			if (!lines) {
				error_set("out of memory");
				return TRAWL_ENOMEM;
			}
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
		if (o->limit && st->lines >= o->limit) {
			/*
			 * The search stops here: say so unless nothing was left to search (more
			 * files in this shard, or shards after it, may hold more lines).
			 */
			if (f + 1 < j->n_files || atomic_load(&r->found) > st->lines ||
			    atomic_load(&r->is_cut))
				st->is_limit_hit = true;
			atomic_store(&r->stop, true);
			break;
		}
	}
	return ret;
}

static int prepare(struct run *r, const struct search_opts *o)
{
	int err;

	if ((err = regex_parse(&r->re, o->pattern, o->pattern_len, o->regex_flags)) < 0)
		return err;
	if ((err = regex_plan(&r->plan, r->re)) < 0 || (err = matcher_new(&r->m, r->re)) < 0)
		return err;
	if (o->path_regex) {
		if ((err = regex_parse(&r->path_re, o->path_regex, strlen(o->path_regex), 0)) < 0 ||
		    (err = matcher_new(&r->path_m, r->path_re)) < 0) {
			error_prefix("--path");
			return err;
		}
	}
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
	double t0 = now_ms();
	int err = 0;

	memset(st, 0, sizeof(*st));
	if (!repos) {
		error_set("internal error: no repository set given to the search");
		return TRAWL_EINVAL;
	}
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	if ((err = prepare(&r, o)) < 0)
		goto out;
	st->plan_ms = now_ms() - t0;
	r.n_jobs = index_n_shards(ix);
	st->shards_total = r.n_jobs;
	r.jobs = calloc(r.n_jobs ? r.n_jobs : 1, sizeof(*r.jobs));
	if (n_threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		n_threads = n > 0 ? (unsigned)n : 1;
	}
	if (n_threads > r.n_jobs)
		n_threads = r.n_jobs ? (unsigned)r.n_jobs : 1;
	threads = calloc(n_threads, sizeof(*threads));
	workers = calloc(n_threads, sizeof(*workers));
	if (!r.jobs || !threads || !workers) {
		error_set("out of memory");
		err = TRAWL_ENOMEM;
		goto out;
	}
	for (unsigned t = 0; t < n_threads; t++) {
		workers[t].r = &r;
		if ((err = matcher_scratch_new(&workers[t].scratch)) < 0)
			goto out;
	}
	for (; started < n_threads; started++) {
		if (pthread_create(&threads[started], NULL, worker_main, &workers[started]) != 0) {
			error_set("cannot start a search thread");
			err = TRAWL_ENOMEM;
			atomic_store(&r.stop, true);
			goto out;
		}
	}
	for (size_t i = 0; i < r.n_jobs; i++) {
		struct job *j = &r.jobs[i];

		pthread_mutex_lock(&r.lock);
		while (!j->is_done)
			pthread_cond_wait(&r.cond, &r.lock);
		pthread_mutex_unlock(&r.lock);
		if (j->err < 0 && err == 0) {
			err = j->err;
			error_set("%s", j->errmsg);
			atomic_store(&r.stop, true);
		}
		st->candidates += j->candidates;
		st->bytes_scanned += j->bytes;
		st->shards_searched += j->is_searched;
		if (err == 0 && !atomic_load(&r.stop))
			err = emit_job(&r, j, shard_repo(index_shard(ix, i)), st, fn, arg);
		else if (o->limit && st->lines >= o->limit && j->n_files)
			st->is_limit_hit = true;
		job_dispose(j);
	}
out:
	atomic_store(&r.stop, true);
	for (unsigned t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	if (o->cancel && atomic_load(o->cancel))
		st->is_canceled = true;
	for (unsigned t = 0; workers && t < n_threads; t++)
		matcher_scratch_free(workers[t].scratch);
	for (size_t i = 0; r.jobs && i < r.n_jobs; i++)
		job_dispose(&r.jobs[i]);
	free(r.jobs);
	free(threads);
	free(workers);
	matcher_free(r.path_m);
	regex_free(r.path_re);
	matcher_free(r.m);
	tq_free(r.plan);
	regex_free(r.re);
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.lock);
	st->elapsed_ms = now_ms() - t0;
	return err;
}
