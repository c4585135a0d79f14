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

#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "query/lang.h"
#include "regex/patcache.h"
#include "regex/tquery.h"
#include "search/litmask.h"
#include "util/error.h"
#include "util/vec.h"

#define ERRMSG_MAX 512

struct file_rec {
	const char *path;
	size_t path_len;
	uint64_t n_lines;
	size_t first_line; /* index into the shard's lines */
	enum search_kind kind;
	uint16_t lang;
	double score;
	const uint8_t *content; /* as matched: after a byte order mark */
	size_t content_len;
	size_t first_branch; /* into the job's branch names */
	size_t n_branches;
};

struct line_rec {
	uint64_t lineno;
	const uint8_t *text;
	size_t len;
	size_t first_range;
	size_t n_ranges;
};

struct run;

struct job {
	struct run *r;
	size_t mem;           /* bytes of its arrays, counted in run.mem */
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
	bool is_rev_missing;  /* rev: names no branch of this shard's repository */
	const char **branch_names; /* borrowed from the index */
	size_t n_branch_names, cap_branch_names;
};

/*
 * What a search evaluates per document: atoms (patterns and filters, each compiled once) and a
 * boolean expression over them. A ripgrep-style pattern is one content atom (and a file atom
 * for --path); a query gives one atom per pattern or filter.
 */
enum atom_kind { ATOM_CONTENT, ATOM_FILE, ATOM_REPO, ATOM_LANG };

struct atom {
	enum atom_kind kind;
	const struct pattern *pat; /* regex, matcher and (ATOM_CONTENT) plan; shared (patcache.h) */
	uint16_t lang;    /* ATOM_LANG */
	char *literal;    /* ATOM_CONTENT from a literal: its text, for case-exact ranking */
	size_t literal_len;
};

struct qx {
	enum qnode_op op; /* QN_AND, QN_OR, QN_NOT; QN_PATTERN and QN_FILTER are atoms */
	size_t atom;
	struct qx **sub;
	size_t n_sub;
};

#define MAX_ATOMS (QUERY_MAX_ATOMS + 2)

struct run {
	const struct index *ix;
	const struct search_repos *repos;
	const struct search_opts *o;
	struct atom atoms[MAX_ATOMS];
	size_t n_atoms;
	struct qx *root;
	enum qtype type;
	bool is_ranked;           /* a query: results ordered by score */
	bool is_multi;            /* more than one content atom: lines are merged per file */
	uint64_t limit;           /* --limit or count: (0 = none) */
	double deadline_ms;       /* timeout: (0 = none) */
	atomic_bool is_timeout;
	double budget_at_ms;      /* search_opts.budget_ms from the start (0 = none) */
	atomic_bool is_over_budget;
	struct job *jobs;
	size_t n_jobs;
	atomic_size_t next_job;
	atomic_uint_fast64_t found; /* matching lines found so far, for --limit */
	atomic_bool is_cut;         /* work was skipped because --limit was reached */
	atomic_bool stop;           /* set by the caller's side: stop all workers */
	/*
	 * Memory: the bytes of every job's arrays (atomic: workers grow their own jobs while the
	 * calling thread frees emitted ones), and whether search_opts.mem_limit stopped the run.
	 */
	atomic_size_t mem;
	atomic_size_t mem_peak;
	atomic_bool is_mem_limit;
	/*
	 * Back-pressure: when results are handed out shard by shard, workers take shard i only
	 * while i < n_emitted + window, so a slow consumer (a stream whose client does not read)
	 * makes the workers wait instead of collecting the whole index ahead of it.
	 */
	size_t n_emitted;           /* under lock */
	size_t window;              /* 0: no gating (ranked at the end: every job is kept) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

struct worker {
	struct run *r;
	struct matcher_scratch *scratch;
	struct u32vec tmp[4];
	bool repo_val[MAX_ATOMS]; /* ATOM_REPO values for the current shard's repository */
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

/*
 * Handing out what was found when timeout: stopped the search (ranking, context lines, JSON)
 * may go on this long past the deadline: the results found in time are the answer, and the
 * memory limit bounds the work.
 */
#define HAND_OUT_GRACE_MS 1000.0

/*
 * Whether the run's budget or its timeout: deadline (plus HAND_OUT_GRACE_MS when handing out)
 * has passed, and then stops the search or the hand-out, saying which. One clock read: this
 * runs per matching line.
 */
static bool is_out_of_time(struct run *r, bool is_hand_out)
{
	double now;

	if (r->budget_at_ms <= 0 && r->deadline_ms <= 0)
		return false;
	now = now_ms();
	if (r->budget_at_ms > 0 && now > r->budget_at_ms) {
		atomic_store_explicit(&r->is_over_budget, true, memory_order_relaxed);
		atomic_store_explicit(&r->stop, true, memory_order_relaxed);
		return true;
	}
	if (r->deadline_ms <= 0 || now <= r->deadline_ms + (is_hand_out ? HAND_OUT_GRACE_MS : 0))
		return false;
	atomic_store_explicit(&r->is_timeout, true, memory_order_relaxed);
	atomic_store_explicit(is_hand_out ? &r->stop : &r->is_cut, true, memory_order_relaxed);
	return true;
}

static bool should_stop(struct run *r)
{
	if (atomic_load_explicit(&r->stop, memory_order_relaxed))
		return true;
	if (r->o->cancel && atomic_load_explicit(r->o->cancel, memory_order_relaxed))
		return true;
	if (is_out_of_time(r, false))
		return true;
	if (atomic_load_explicit(&r->is_mem_limit, memory_order_relaxed)) {
		atomic_store_explicit(&r->is_cut, true, memory_order_relaxed);
		return true;
	}
	if (r->limit && atomic_load_explicit(&r->found, memory_order_relaxed) >= r->limit) {
		/* Callers ask only when work remains: it is skipped, so more lines may exist. */
		atomic_store_explicit(&r->is_cut, true, memory_order_relaxed);
		return true;
	}
	return false;
}

/*
 * Grows one of job j's arrays to hold need elements. The bytes are counted against the run's
 * memory limit: past it the run stops (is_mem_limit, ELIMIT here) and keeps what it found.
 */
static int grow(struct job *j, void **p, size_t *cap, size_t need, size_t elem)
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
	const struct atom *atom;
	const uint8_t *data;
	enum matcher_text text;
	size_t pos;         /* lineno counts the lines before pos */
	uint64_t lineno;
	uint64_t n_lines;
	bool is_counted;    /* count lines in r->found now (one pattern), not after merging */
	int err;
};

#if defined(__x86_64__)
/* count_newlines() 32 bytes at a time, on CPUs with AVX2 (chosen at run time). */
__attribute__((target("avx2"))) static uint64_t count_newlines_avx2(const uint8_t *p, size_t n,
								  size_t *done)
{
	const __m256i nl = _mm256_set1_epi8('\n'), zero = _mm256_setzero_si256();
	uint64_t c = 0;
	size_t i = 0;

	while (i + 32 <= n) {
		__m256i acc = zero, sum;

		for (int k = 0; k < 255 && i + 32 <= n; k++, i += 32) {
			__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));

			acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(v, nl));
		}
		sum = _mm256_sad_epu8(acc, zero);
		c += (uint64_t)_mm256_extract_epi64(sum, 0) + (uint64_t)_mm256_extract_epi64(sum, 1) +
		     (uint64_t)_mm256_extract_epi64(sum, 2) + (uint64_t)_mm256_extract_epi64(sum, 3);
	}
	*done = i;
	return c;
}
#endif

/* Counts '\n' bytes in p[0..n): the hot loop of line numbering, so 16 or 32 bytes at a time. */
static uint64_t count_newlines(const uint8_t *p, size_t n)
{
	uint64_t c = 0;
	size_t i = 0;

#if defined(__x86_64__)
	if (n >= 64 && __builtin_cpu_supports("avx2")) {
		c = count_newlines_avx2(p, n, &i);
		p += i;
		n -= i;
		i = 0;
	}
#endif
#if defined(__SSE2__)
	/*
	 * Byte counters (0 - (-1) per newline) summed by psadbw every 255 blocks: baseline x86-64
	 * has no popcnt instruction, and __builtin_popcount there was a libgcc call per block.
	 */
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();

	while (i + 16 <= n) {
		__m128i acc = zero, sum;

		for (int k = 0; k < 255 && i + 16 <= n; k++, i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));

			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl));
		}
		sum = _mm_sad_epu8(acc, zero);
		c += (uint64_t)_mm_cvtsi128_si64(sum) +
		     (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sum, sum));
	}
#endif
	for (; i < n; i++)
		c += p[i] == '\n';
	return c;
}

static bool want_ranges(const struct run *r)
{
	return r->o->want_ranges || r->is_ranked || r->is_multi;
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
	if (ds->is_counted)
		atomic_fetch_add_explicit(&r->found, 1, memory_order_relaxed);
	if (o->want_lines || r->is_ranked || r->is_multi) {
		if ((ds->err = grow(j, (void **)&j->lines, &j->cap_lines, j->n_lines + 1,
				    sizeof(*j->lines))) < 0)
			return 1;
		lr = &j->lines[j->n_lines++];
		lr->lineno = ds->lineno + 1;
		lr->text = ds->data + start;
		lr->len = end - start;
		lr->first_range = j->n_ranges;
		lr->n_ranges = 0;
		if (want_ranges(r)) {
			size_t max = end - start + 1, n;

			if ((ds->err = grow(j, (void **)&j->ranges, &j->cap_ranges, j->n_ranges + max,
					    sizeof(*j->ranges))) < 0)
				return 1;
			if ((ds->err = matcher_ranges(ds->atom->pat->m, ds->w->scratch, lr->text, lr->len,
						      ds->text, j->ranges + j->n_ranges, max, &n)) < 0)
				return 1;
			lr->n_ranges = n;
			j->n_ranges += n;
		}
	}
	if (o->max_per_file && !r->is_multi && ds->n_lines >= o->max_per_file)
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

/* Whether atom's pattern matches somewhere in text (a path or a repository name). */
static bool text_matches(struct worker *w, const struct atom *a, const char *text, size_t len)
{
	bool hit = false;

	/* A name is one "line"; one holding '\n' matches if any part of it does. */
	return matcher_lines(a->pat->m, w->scratch, (const uint8_t *)text, len,
			     matcher_classify((const uint8_t *)text, len), stop_at_first, &hit) == 0 &&
	       hit;
}

struct doc_ctx {
	struct worker *w;
	struct job *j;
	const struct shard_doc *d;
	const char *repo;
	const uint8_t *data; /* content without a leading BOM */
	size_t len;
	enum matcher_text text;
	uint64_t n_lines;    /* lines found by content atoms (stored or only counted) */
	int err;
};

/* Runs a content atom over the document: its lines are collected when want_lines. */
static bool eval_content(struct doc_ctx *dc, const struct atom *a, bool want_lines)
{
	struct run *r = dc->w->r;
	struct doc_scan ds = { .w = dc->w, .j = dc->j, .atom = a, .data = dc->data,
			       .text = dc->text, .is_counted = !r->is_multi && !r->is_ranked };
	bool hit = false;
	int err;

	if (r->type == QT_PATH)
		return text_matches(dc->w, a, dc->d->path, dc->d->path_len);
	if (r->type == QT_REPO)
		return text_matches(dc->w, a, dc->repo, strlen(dc->repo));
	if (dc->d->skip != DOC_INDEXED)
		return false;
	dc->j->bytes += dc->len;
	/*
	 * Classified once, and only when a pattern needs it: a literal means the same bytes in
	 * every class, and the pass over the content cost as much as the search (half of the time
	 * of a literal query over large files).
	 */
	if (dc->text == MATCHER_TEXT_UNKNOWN && !matcher_is_text_blind(a->pat->m))
		dc->text = matcher_classify(dc->data, dc->len);
	ds.text = dc->text;
	if (!want_lines) {
		err = matcher_lines(a->pat->m, dc->w->scratch, dc->data, dc->len, ds.text, stop_at_first,
				    &hit);
		if (err < 0)
			dc->err = err;
		return hit;
	}
	err = matcher_lines(a->pat->m, dc->w->scratch, dc->data, dc->len, ds.text, on_line, &ds);
	if (err < 0 || ds.err < 0)
		dc->err = err < 0 ? err : ds.err;
	dc->n_lines += ds.n_lines;
	return ds.n_lines > 0;
}

/*
 * The expression's value for the document. Content atoms in a positive position collect their
 * matching lines (OR evaluates every branch so that all matches are shown); under NOT only
 * existence is asked. AND stops at the first false child.
 */
static bool eval(struct doc_ctx *dc, const struct qx *x, bool want_lines)
{
	struct run *r = dc->w->r;
	bool any = false;

	if (dc->err < 0)
		return false;
	switch (x->op) {
	case QN_AND:
		for (size_t i = 0; i < x->n_sub; i++)
			if (!eval(dc, x->sub[i], want_lines))
				return false;
		return true;
	case QN_OR:
		for (size_t i = 0; i < x->n_sub; i++)
			any |= eval(dc, x->sub[i], want_lines);
		return any;
	case QN_NOT:
		return !eval(dc, x->sub[0], false);
	default:
		break;
	}
	{
		const struct atom *a = &r->atoms[x->atom];

		switch (a->kind) {
		case ATOM_CONTENT:
			return eval_content(dc, a, want_lines);
		case ATOM_FILE:
			return r->type != QT_REPO &&
			       text_matches(dc->w, a, dc->d->path, dc->d->path_len);
		case ATOM_REPO:
			return dc->w->repo_val[x->atom];
		case ATOM_LANG:
			return r->type != QT_REPO && dc->d->lang == a->lang;
		}
	}
	return false;
}

static int cmp_line(const void *a, const void *b)
{
	const struct line_rec *x = a, *y = b;

	return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

static int cmp_range_start(const void *a, const void *b)
{
	const struct match_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end > y->end ? -1 : x->end < y->end;
}

/*
 * Several patterns matched lines of one file: sorts lines[first..] by number and merges a line
 * found by several patterns into one, with the union of their ranges.
 */
static int merge_lines(struct job *j, size_t first)
{
	size_t n = j->n_lines - first, w = first;
	int err;

	qsort(j->lines + first, n, sizeof(*j->lines), cmp_line);
	for (size_t i = first; i < j->n_lines;) {
		size_t k = i + 1, total = j->lines[i].n_ranges, start;

		while (k < j->n_lines && j->lines[k].lineno == j->lines[i].lineno)
			total += j->lines[k++].n_ranges;
		j->lines[w] = j->lines[i];
		if (k > i + 1) {
			struct match_range *rs;
			size_t m = 0;

			if ((err = grow(j, (void **)&j->ranges, &j->cap_ranges, j->n_ranges + total,
					sizeof(*j->ranges))) < 0)
				return err;
			start = j->n_ranges;
			rs = j->ranges + start;
			for (size_t q = i; q < k; q++) {
				memcpy(rs + m, j->ranges + j->lines[q].first_range,
				       j->lines[q].n_ranges * sizeof(*rs));
				m += j->lines[q].n_ranges;
			}
			qsort(rs, m, sizeof(*rs), cmp_range_start);
			total = 0;
			for (size_t q = 0; q < m; q++) {
				if (total && rs[q].start < rs[total - 1].end) {
					if (rs[q].end > rs[total - 1].end)
						rs[total - 1].end = rs[q].end;
					continue;
				}
				rs[total++] = rs[q];
			}
			j->n_ranges += total;
			j->lines[w].first_range = start;
			j->lines[w].n_ranges = total;
		}
		w++;
		i = k;
	}
	j->n_lines = w;
	return 0;
}

static bool is_word_byte(uint8_t c)
{
	return c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       c >= 0x80;
}

/*
 * The ranking score of a matching file (docs/query-syntax.md, "Ranking"): a match in the file
 * name, whole-word and case-exact matches, source over documentation, tests, generated and
 * vendored code, shorter paths, and a few more matching lines.
 */
static double score_file(struct doc_ctx *dc, const struct file_rec *fr)
{
	struct run *r = dc->w->r;
	const char *base = memrchr(fr->path, '/', fr->path_len);
	size_t base_len;
	double score = 0;
	bool is_word = false, is_exact = false;
	static const double kind_bonus[] = {
		[LANG_PATH_SOURCE] = 0, [LANG_PATH_DOCUMENTATION] = -5, [LANG_PATH_TEST] = -15,
		[LANG_PATH_GENERATED] = -25, [LANG_PATH_VENDORED] = -30,
	};

	base = base ? base + 1 : fr->path;
	base_len = fr->path_len - (size_t)(base - fr->path);
	for (size_t i = 0; i < r->n_atoms; i++) {
		const struct atom *a = &r->atoms[i];

		if (a->kind == ATOM_CONTENT && r->type == QT_FILE && text_matches(dc->w, a, base, base_len)) {
			score += 100;
			break;
		}
	}
	for (size_t l = 0; l < fr->n_lines && l < 10; l++) {
		const struct line_rec *lr = &dc->j->lines[fr->first_line + l];

		for (size_t k = 0; k < lr->n_ranges; k++) {
			const struct match_range *m = &dc->j->ranges[lr->first_range + k];

			if ((m->start == 0 || !is_word_byte(lr->text[m->start - 1])) &&
			    (m->end >= lr->len || !is_word_byte(lr->text[m->end])))
				is_word = true;
			for (size_t i = 0; i < r->n_atoms && !is_exact; i++) {
				const struct atom *a = &r->atoms[i];

				is_exact = a->literal && a->literal_len == m->end - m->start &&
					   memcmp(a->literal, lr->text + m->start, a->literal_len) == 0;
			}
		}
	}
	score += is_word ? 20 : 0;
	score += is_exact ? 10 : 0;
	score += kind_bonus[lang_path_kind(fr->path, fr->path_len)];
	score -= (double)(fr->path_len < 200 ? fr->path_len : 200) / 10.0;
	score += (double)(fr->n_lines < 10 ? fr->n_lines : 10);
	return score;
}

static int scan_doc(struct worker *w, struct job *j, const struct shard_doc *d, const char *repo)
{
	struct run *r = w->r;
	struct doc_ctx dc = { .w = w, .j = j, .d = d, .repo = repo, .data = d->content,
			      .len = d->content_len };
	size_t first_line = j->n_lines, first_range = j->n_ranges;
	struct file_rec *fr;
	bool is_match;
	int err;

	/* ripgrep ignores a leading UTF-8 byte order mark: so do we, for matching and output. */
	if (dc.len >= 3 && memcmp(dc.data, utf8_bom, 3) == 0) {
		dc.data += 3;
		dc.len -= 3;
	}
	dc.text = (d->flags & DOC_INVALID_UTF8) ? MATCHER_TEXT_BYTES : MATCHER_TEXT_UNKNOWN;
	is_match = eval(&dc, r->root, true);
	if (dc.err < 0)
		return dc.err;
	if (!is_match || (r->type == QT_FILE && dc.n_lines == 0)) {
		/* Lines of patterns whose file did not match as a whole are dropped. */
		j->n_lines = first_line;
		j->n_ranges = first_range;
		return 0;
	}
	if (r->is_multi && (err = merge_lines(j, first_line)) < 0)
		return err;
	if (r->is_multi || r->is_ranked) {
		/* Lines are stored in these modes: count what is kept. */
		if (r->o->max_per_file && j->n_lines - first_line > r->o->max_per_file)
			j->n_lines = first_line + r->o->max_per_file;
		dc.n_lines = j->n_lines - first_line;
		atomic_fetch_add_explicit(&r->found, r->type == QT_FILE ? dc.n_lines : 1,
					  memory_order_relaxed);
	}
	if ((err = grow(j, (void **)&j->files, &j->cap_files, j->n_files + 1, sizeof(*j->files))) < 0)
		return err;
	fr = &j->files[j->n_files++];
	*fr = (struct file_rec){ d->path, d->path_len, r->type == QT_FILE ? dc.n_lines : 0,
				 first_line, r->type == QT_PATH ? SEARCH_PATH : SEARCH_CONTENT,
				 d->lang, 0, NULL, 0, 0, 0 };
	if (r->type == QT_FILE) {
		fr->content = dc.data;
		fr->content_len = dc.len;
	}
	if (r->is_ranked)
		fr->score = score_file(&dc, fr);
	return 0;
}

/* A content pattern's candidates: through the posting masks when it is a literal. */
static int atom_candidates(struct docset *out, const struct shard *sh, const struct atom *a)
{
	size_t len;
	bool is_icase, is_used;
	const char *lit = matcher_literal(a->pat->m, &len, &is_icase);
	int err;

	if (lit) {
		out->is_all = false;
		err = litmask_candidates(&out->ids, &is_used, sh, (const uint8_t *)lit, len, is_icase);
		if (err == 0 && is_used)
			return 0;
		u32vec_dispose(&out->ids); /* also on an error: a corrupt list leaves no leak */
		if (err < 0)
			return err;
	}
	return tq_eval(out, sh, a->pat->plan);
}

/* A query's candidate documents: each pattern's trigram query, combined like the expression. */
static int cand_eval(struct docset *out, const struct shard *sh, const struct run *r,
		     const struct qx *x)
{
	struct docset sub;
	int err;

	out->is_all = true;
	u32vec_init(&out->ids);
	if (r->type != QT_FILE)
		return 0;
	switch (x->op) {
	case QN_PATTERN:
	case QN_FILTER:
		if (r->atoms[x->atom].kind != ATOM_CONTENT)
			return 0;
		return atom_candidates(out, sh, &r->atoms[x->atom]);
	case QN_NOT:
		return 0;
	case QN_AND:
	case QN_OR:
		out->is_all = x->op == QN_AND;
		for (size_t i = 0; i < x->n_sub; i++) {
			if ((err = cand_eval(&sub, sh, r, x->sub[i])) < 0) {
				docset_dispose(out);
				return err;
			}
			if (x->op == QN_AND) {
				if (sub.is_all) {
					docset_dispose(&sub);
					continue;
				}
				if (out->is_all) {
					out->is_all = false;
					out->ids = sub.ids;
					continue;
				}
				intersect(&out->ids, &sub.ids);
			} else {
				if (out->is_all || sub.is_all) {
					out->is_all = true;
					docset_dispose(&sub);
					continue;
				}
				err = unite(&out->ids, &sub.ids);
			}
			docset_dispose(&sub);
			if (err < 0) {
				docset_dispose(out);
				return err;
			}
		}
		if (out->is_all)
			u32vec_dispose(&out->ids);
		return 0;
	}
	return 0;
}

/* The expression with only repository filters known: 1 true, 0 false, -1 depends on the file. */
static int eval_static(const struct worker *w, const struct qx *x)
{
	const struct run *r = w->r;
	int v, res;

	switch (x->op) {
	case QN_AND:
		res = 1;
		for (size_t i = 0; i < x->n_sub; i++) {
			if ((v = eval_static(w, x->sub[i])) == 0)
				return 0;
			if (v < 0)
				res = -1;
		}
		return res;
	case QN_OR:
		res = 0;
		for (size_t i = 0; i < x->n_sub; i++) {
			if ((v = eval_static(w, x->sub[i])) == 1)
				return 1;
			if (v < 0)
				res = -1;
		}
		return res;
	case QN_NOT:
		v = eval_static(w, x->sub[0]);
		return v < 0 ? -1 : !v;
	default:
		return r->atoms[x->atom].kind == ATOM_REPO ? w->repo_val[x->atom] : -1;
	}
}

/* Ranking order within a shard: source first, then documentation, tests, generated, vendored. */
static uint8_t path_rank(const char *path, size_t len)
{
	static const uint8_t order[] = {
		[LANG_PATH_SOURCE] = 0, [LANG_PATH_DOCUMENTATION] = 1, [LANG_PATH_TEST] = 2,
		[LANG_PATH_GENERATED] = 3, [LANG_PATH_VENDORED] = 4,
	};

	return order[lang_path_kind(path, len)];
}

static int kind_rank(const struct shard *sh, const uint8_t *ranks, uint32_t id)
{
	struct shard_doc d;

	if (ranks)
		return ranks[id];
	if (shard_doc(&d, sh, id) < 0)
		return 5;
	return path_rank(d.path, d.path_len);
}

static int order_candidates(struct u32vec *ids, const struct shard *sh, uint32_t n_docs,
			    bool is_all, bool is_resident)
{
	size_t n = is_all ? n_docs : ids->len;
	/* Worth computing for a whole shard when kept for later queries, or ranking much of it. */
	const uint8_t *ranks = shard_path_tags(sh, path_rank, is_resident || n >= n_docs / 8);
	struct u32vec out;
	uint8_t *rank;
	int err;

	u32vec_init(&out);
	rank = malloc(n ? n : 1);
	if (!rank || (err = u32vec_reserve(&out, n)) < 0) {
		free(rank);
		error_set("out of memory");
		return TRAWL_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		rank[i] = (uint8_t)kind_rank(sh, ranks, is_all ? (uint32_t)i : ids->v[i]);
	for (uint8_t k = 0; k <= 5; k++)
		for (size_t i = 0; i < n; i++)
			if (rank[i] == k)
				out.v[out.len++] = is_all ? (uint32_t)i : ids->v[i];
	free(rank);
	u32vec_dispose(ids);
	*ids = out;
	return 0;
}

/* Whether branch name is one rev: selects (names separated by ':'; a glob after '*'). */
static bool rev_selects(const char *rev, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = rev; *p;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > 1 && p[0] == '*') {
			char *glob = strndup(p + 1, len - 1);
			bool is_match = glob && fnmatch(glob, name, 0) == 0;

			free(glob);
			if (is_match)
				return true;
		} else if (len == n && memcmp(p, name, n) == 0) {
			return true;
		}
		p += len + (end != NULL);
	}
	return false;
}

/*
 * The branches of e this search covers, as a bitset (n_words words): rev:'s, or the default
 * one. False when none (rev: names no branch of the repository).
 */
static bool select_branches(uint64_t *sel, size_t n_words, const struct run *r,
			    const struct index_repo_entry *e)
{
	const char *rev = r->o->query ? r->o->query->rev : NULL;
	bool any = false;

	memset(sel, 0, n_words * sizeof(*sel));
	for (size_t b = 0; b < e->n_branches; b++) {
		bool on = rev ? rev_selects(rev, e->branches[b].name) : e->branches[b].is_default;

		if (on) {
			sel[b / 64] |= (uint64_t)1 << (b % 64);
			any = true;
		}
	}
	return any;
}

/* Records the names of the branches doc is on (all of them) for the file just added to j. */
static int note_branches(struct job *j, const struct index_repo_entry *e, const uint64_t *on)
{
	struct file_rec *fr = &j->files[j->n_files - 1];
	int err;

	fr->first_branch = j->n_branch_names;
	for (size_t b = 0; b < e->n_branches; b++) {
		if (!((on[b / 64] >> (b % 64)) & 1))
			continue;
		if ((err = grow(j, (void **)&j->branch_names, &j->cap_branch_names,
				j->n_branch_names + 1, sizeof(*j->branch_names))) < 0)
			return err;
		j->branch_names[j->n_branch_names++] = e->branches[b].name;
		fr->n_branches++;
	}
	return 0;
}

static int search_shard(struct worker *w, struct job *j, size_t shard_i)
{
	struct run *r = w->r;
	const struct shard *sh = index_shard(r->ix, shard_i);
	const struct index_repo_entry *e = index_shard_entry(r->ix, shard_i);
	const char *repo = shard_repo(sh);
	size_t n_words = e->n_branches ? (e->n_branches + 63) / 64 : 1;
	uint64_t *sel = NULL, *on = NULL;
	struct docset cand;
	uint32_t n_docs = shard_n_docs(sh);
	size_t n;
	int err = 0, v;

	/* SECURITY: unreadable repositories are dropped before any other work. */
	if (!search_repos_has(r->repos, repo))
		return 0;
	j->is_searched = true;
	for (size_t i = 0; i < r->n_atoms; i++)
		if (r->atoms[i].kind == ATOM_REPO)
			w->repo_val[i] = text_matches(w, &r->atoms[i], repo, strlen(repo));
	if ((v = eval_static(w, r->root)) == 0)
		return 0; /* repo: filters exclude this repository */
	sel = calloc(n_words, sizeof(*sel));
	on = calloc(n_words, sizeof(*on));
	if (!sel || !on) {
		free(sel);
		free(on);
		error_set("out of memory");
		return TRAWL_ENOMEM;
	}
	if (e->n_branches ? !select_branches(sel, n_words, r, e)
			  : r->o->query && r->o->query->rev) {
		/* An unknown revision: no results from this repository, and a warning. */
		j->is_rev_missing = true;
		goto out;
	}
	if (r->type == QT_REPO) {
		struct shard_doc none = { .path = "", .skip = DOC_SKIP_UNREADABLE };
		struct doc_ctx dc = { .w = w, .j = j, .d = &none, .repo = repo };

		if (!eval(&dc, r->root, false)) {
			err = dc.err;
			goto out;
		}
		if ((err = grow(j, (void **)&j->files, &j->cap_files, j->n_files + 1,
				sizeof(*j->files))) < 0)
			goto out;
		j->files[j->n_files++] = (struct file_rec){ "", 0, 0, j->n_lines, SEARCH_REPO, 0,
							    0, NULL, 0, 0, 0 };
		atomic_fetch_add_explicit(&r->found, 1, memory_order_relaxed);
		goto out;
	}
	if ((err = cand_eval(&cand, sh, r, r->root)) < 0)
		goto out; /* the shard reader's message names the file */
	if (r->is_ranked && (err = order_candidates(&cand.ids, sh, n_docs, cand.is_all,
						    r->o->is_resident)) < 0) {
		docset_dispose(&cand);
		goto out;
	}
	if (r->is_ranked)
		cand.is_all = false;
	n = cand.is_all ? n_docs : cand.ids.len;
	for (size_t i = 0; i < n && !should_stop(r); i++) {
		uint32_t id = cand.is_all ? (uint32_t)i : cand.ids.v[i];
		struct shard_doc d;

		if ((err = shard_doc(&d, sh, id)) < 0)
			break;
		/* Skipped files have no content, but their paths can match (type:path). */
		if (d.skip != DOC_INDEXED && r->type != QT_PATH)
			continue;
		if (e->n_branches) {
			bool any = false;

			/*
			 * Only documents on a searched branch (the overlay applied) count; a
			 * result then lists every branch its document is on (issue 4: say on
			 * which branches a match exists), not only the searched ones.
			 */
			index_doc_branches(on, n_words, r->ix, shard_i, id, &d);
			for (size_t k = 0; k < n_words; k++)
				any |= (on[k] & sel[k]) != 0;
			if (!any)
				continue;
		}
		j->candidates++;
		size_t before = j->n_files;

		if ((err = scan_doc(w, j, &d, repo)) < 0)
			break;
		if (j->n_files > before && e->n_branches && (err = note_branches(j, e, on)) < 0)
			break;
	}
	docset_dispose(&cand);
out:
	free(sel);
	free(on);
	return err;
}

/* Searches shard i into its job and marks the job done. */
static void job_run(struct worker *w, size_t i)
{
	struct run *r = w->r;
	struct job *j = &r->jobs[i];
	int err = 0;

	if (!should_stop(r))
		err = search_shard(w, j, i);
	if (err == TRAWL_ELIMIT && atomic_load(&r->is_mem_limit))
		err = 0; /* the memory limit ends the run, not the query: what was found stands */
	if (err == TRAWL_ETIMEOUT && r->budget_at_ms > 0 && now_ms() >= r->budget_at_ms) {
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
	pthread_mutex_lock(&r->lock);
	j->err = err;
	if (err < 0)
		snprintf(j->errmsg, sizeof(j->errmsg), "%s", error_last());
	j->is_done = true;
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
	return NULL;
}

/*
 * A one-thread search runs in the calling thread, with a matcher scratch kept per thread: a
 * server answers many small searches from each of its threads, and a thread started and a
 * scratch sized for every database per search were a third of the time of a selective query
 * (measured on `sys_pidfd_open` through the API: context switches and hs_alloc_scratch).
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
					  fr->n_branches };

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

static int emit_job(struct run *r, struct job *j, const char *repo, struct search_stats *st,
		    search_file_fn fn, void *arg)
{
	struct pick *picks = malloc((j->n_files ? j->n_files : 1) * sizeof(*picks));
	int ret;

	if (!picks) {
		error_set("out of memory");
		return TRAWL_ENOMEM;
	}
	for (size_t f = 0; f < j->n_files; f++)
		picks[f] = (struct pick){ j, &j->files[f], repo };
	ret = emit_files(r, picks, j->n_files, st, fn, arg);
	free(picks);
	return ret;
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

/*
 * A query's results from jobs [first, last): everything found, best first; one result per
 * repository for type:repo. The whole run at the end, or one shard at a time (is_early).
 */
static int emit_ranked(struct run *r, size_t first, size_t last, struct search_stats *st,
		       search_file_fn fn, void *arg)
{
	struct pick *picks;
	size_t n = 0, w = 0;
	int ret;

	for (size_t i = first; i < last; i++)
		n += r->jobs[i].n_files;
	if (!(picks = malloc((n ? n : 1) * sizeof(*picks)))) {
		error_set("out of memory");
		return TRAWL_ENOMEM;
	}
	n = 0;
	for (size_t i = first; i < last; i++)
		for (size_t f = 0; f < r->jobs[i].n_files; f++)
			picks[n++] = (struct pick){ &r->jobs[i], &r->jobs[i].files[f],
						    shard_repo(index_shard(r->ix, i)) };
	qsort(picks, n, sizeof(*picks), cmp_pick);
	for (size_t i = 0; i < n; i++) {
		bool is_dup = false;

		/* A repository split over several shards is one repository result. */
		for (size_t k = 0; k < w && picks[i].fr->kind == SEARCH_REPO && !is_dup; k++)
			is_dup = picks[k].fr->kind == SEARCH_REPO &&
				 strcmp(picks[k].repo, picks[i].repo) == 0;
		if (!is_dup)
			picks[w++] = picks[i];
	}
	ret = emit_files(r, picks, w, st, fn, arg);
	free(picks);
	return ret;
}

/* The earlier of the query's deadline and the run's budget (0: neither). */
static double run_compile_deadline(const struct run *r)
{
	if (r->budget_at_ms > 0 && (r->deadline_ms <= 0 || r->budget_at_ms < r->deadline_ms))
		return r->budget_at_ms;
	return r->deadline_ms;
}

/* Compile time counts against the query's timeout: r->deadline_ms is set before this. */
static int atom_compile(struct atom *a, const struct run *r, const char *pat, size_t len,
			unsigned flags, bool want_plan)
{
	return patcache_get(&a->pat, pat, len, flags, want_plan, run_compile_deadline(r));
}

static void atoms_free(struct run *r)
{
	for (size_t i = 0; i < r->n_atoms; i++) {
		patcache_release(r->atoms[i].pat);
		free(r->atoms[i].literal);
	}
	r->n_atoms = 0;
}

static void qx_free(struct qx *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_sub; i++)
		qx_free(x->sub[i]);
	free(x->sub);
	free(x);
}

static struct qx *qx_new(enum qnode_op op, size_t atom, size_t n_sub)
{
	struct qx *x = calloc(1, sizeof(*x));

	if (x && n_sub && !(x->sub = calloc(n_sub, sizeof(*x->sub)))) {
		free(x);
		return NULL;
	}
	if (x) {
		x->op = op;
		x->atom = atom;
	}
	return x;
}

/* Whether x only looks at names (a filter, or NOT of one): far cheaper than scanning content. */
static bool is_cheap(const struct run *r, const struct qx *x)
{
	if (x->op == QN_NOT)
		return is_cheap(r, x->sub[0]);
	return (x->op == QN_FILTER || x->op == QN_PATTERN) && r->atoms[x->atom].kind != ATOM_CONTENT;
}

/* AND stops at its first false operand: evaluate the filters before any content pattern. */
static void cheap_first(const struct run *r, struct qx *x)
{
	size_t w = 0;

	for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = w; i < x->n_sub; i++)
			if (is_cheap(r, x->sub[i]) == (pass == 0)) {
				struct qx *t = x->sub[i];

				memmove(x->sub + w + 1, x->sub + w, (i - w) * sizeof(*x->sub));
				x->sub[w++] = t;
			}
}

/* Compiles a query node into atoms and an expression. */
static int build_query(struct qx **out, struct run *r, const struct qnode *n, unsigned case_flags)
{
	struct atom *a;
	struct qx *x;
	int err;

	*out = NULL;
	if (n->op == QN_AND || n->op == QN_OR || n->op == QN_NOT) {
		if (!(x = qx_new(n->op, 0, n->n_sub)))
			goto nomem;
		for (size_t i = 0; i < n->n_sub; i++) {
			if ((err = build_query(&x->sub[i], r, n->sub[i], case_flags)) < 0) {
				x->n_sub = i;
				qx_free(x);
				return err;
			}
			x->n_sub = i + 1;
		}
		if (x->op == QN_AND)
			cheap_first(r, x);
		*out = x;
		return 0;
	}
	if (r->n_atoms == MAX_ATOMS) {
		error_set_at(n->pos, "too many patterns and filters in one query");
		return TRAWL_ELIMIT;
	}
	a = &r->atoms[r->n_atoms];
	memset(a, 0, sizeof(*a));
	if (n->op == QN_PATTERN) {
		unsigned flags = case_flags | (r->o->regex_flags & REGEX_WORD);

		a->kind = ATOM_CONTENT;
		if (n->pattern_kind == QP_LITERAL) {
			flags |= REGEX_FIXED;
			if (!(a->literal = malloc(n->value_len ? n->value_len : 1)))
				goto nomem;
			memcpy(a->literal, n->value, n->value_len);
			a->literal_len = n->value_len;
		}
		err = atom_compile(a, r, n->value, n->value_len, flags, r->type == QT_FILE);
	} else if (n->filter_kind == QF_LANG) {
		a->kind = ATOM_LANG;
		a->lang = n->lang;
		err = 0;
	} else {
		a->kind = n->filter_kind == QF_REPO ? ATOM_REPO : ATOM_FILE;
		err = atom_compile(a, r, n->value, n->value_len, case_flags, false);
	}
	r->n_atoms++;
	if (err < 0) {
		/* Point into the query: the value starts after "field:" (or the slash). */
		size_t pos = error_pos();

		if (pos != (size_t)-1)
			error_set_at(n->pos + (n->len > n->value_len ? n->len - n->value_len : 0) + pos,
				     "%s", error_last());
		return err;
	}
	if (!(x = qx_new(n->op, r->n_atoms - 1, n->is_negated ? 1 : 0)))
		goto nomem;
	if (n->is_negated) {
		struct qx *leaf = qx_new(n->op, r->n_atoms - 1, 0);

		if (!leaf) {
			free(x->sub);
			free(x);
			goto nomem;
		}
		x->op = QN_NOT;
		x->sub[0] = leaf;
		x->n_sub = 1;
	}
	*out = x;
	return 0;
nomem:
	error_set("out of memory");
	return TRAWL_ENOMEM;
}

static int prepare(struct run *r, const struct search_opts *o)
{
	size_t n_content = 0;
	int err;

	r->limit = o->limit;
	if (o->query) {
		const struct query *q = o->query;
		unsigned case_flags = q->is_case_sensitive ? 0 : REGEX_ICASE;

		if (o->regex_flags & REGEX_ICASE)
			case_flags = REGEX_ICASE;
		r->type = q->type;
		r->is_ranked = true;
		if (!r->limit)
			r->limit = q->count;
		if (q->timeout_ms)
			r->deadline_ms = now_ms() + q->timeout_ms;
		if (!q->root) {
			error_set_at(0, "the query needs a pattern or a filter");
			return TRAWL_EINVAL;
		}
		if ((err = build_query(&r->root, r, q->root, case_flags)) < 0)
			return err;
		if (o->path_regex) {
			struct qx *and = qx_new(QN_AND, 0, 2);
			struct atom *a = &r->atoms[r->n_atoms];

			if (!and || r->n_atoms == MAX_ATOMS) {
				free(and);
				error_set("out of memory");
				return TRAWL_ENOMEM;
			}
			memset(a, 0, sizeof(*a));
			a->kind = ATOM_FILE;
			r->n_atoms++;
			if ((err = atom_compile(a, r, o->path_regex, strlen(o->path_regex), 0, false)) < 0) {
				free(and->sub);
				free(and);
				error_prefix("--path");
				return err;
			}
			and->sub[0] = r->root;
			and->sub[1] = qx_new(QN_FILTER, r->n_atoms - 1, 0);
			and->n_sub = 2;
			r->root = and;
			if (!and->sub[1]) {
				error_set("out of memory");
				return TRAWL_ENOMEM;
			}
		}
	} else {
		struct atom *a = &r->atoms[0];

		r->type = QT_FILE;
		a->kind = ATOM_CONTENT;
		r->n_atoms = 1;
		if ((err = atom_compile(a, r, o->pattern, o->pattern_len, o->regex_flags, true)) < 0)
			return err;
		if (!(r->root = qx_new(QN_AND, 0, 2)))
			goto nomem;
		if (!(r->root->sub[r->root->n_sub++] = qx_new(QN_PATTERN, 0, 0)))
			goto nomem;
		if (o->path_regex) {
			a = &r->atoms[1];
			a->kind = ATOM_FILE;
			r->n_atoms = 2;
			if ((err = atom_compile(a, r, o->path_regex, strlen(o->path_regex), 0, false)) < 0) {
				error_prefix("--path");
				return err;
			}
			if (!(r->root->sub[r->root->n_sub++] = qx_new(QN_FILTER, 1, 0)))
				goto nomem;
		}
	}
	for (size_t i = 0; i < r->n_atoms; i++)
		n_content += r->atoms[i].kind == ATOM_CONTENT;
	r->is_multi = n_content > 1;
	if (n_content == 0 && r->type == QT_FILE)
		r->type = QT_PATH; /* only filters: the files that pass them are the results */
	return 0;
nomem:
	error_set("out of memory");
	return TRAWL_ENOMEM;
}

/* The calling thread is done with jobs [0, n): workers may take the shards after them. */
static void consumed(struct run *r, size_t n)
{
	if (!r->window)
		return;
	pthread_mutex_lock(&r->lock);
	r->n_emitted = n;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Counts a repository rev: found nothing in, naming the first (once per repository). */
static void note_rev_missing(struct search_stats *st, const struct run *r, size_t i)
{
	const char *repo = shard_repo(index_shard(r->ix, i));

	if (!r->jobs[i].is_rev_missing)
		return;
	for (size_t k = 0; k < i; k++)
		if (r->jobs[k].is_rev_missing && strcmp(shard_repo(index_shard(r->ix, k)), repo) == 0)
			return; /* another shard of the same repository */
	st->rev_missing++;
	if (st->rev_missing == 1)
		snprintf(st->rev_warning, sizeof(st->rev_warning),
			 "revision \"%s\" is not indexed in repository %s: no results from it",
			 r->o->query->rev, repo);
	else
		snprintf(st->rev_warning, sizeof(st->rev_warning),
			 "revision \"%s\" is not indexed in %llu repositories (e.g. %s): no results "
			 "from them", r->o->query->rev, (unsigned long long)st->rev_missing, repo);
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
	bool is_early;
	int err = 0;

	memset(st, 0, sizeof(*st));
	if (!repos) {
		error_set("internal error: no repository set given to the search");
		return TRAWL_EINVAL;
	}
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	if (o->budget_ms > 0)
		r.budget_at_ms = t0 + o->budget_ms;
	if ((err = prepare(&r, o)) < 0) {
		if (err == TRAWL_ETIMEOUT && r.budget_at_ms > 0 && now_ms() >= r.budget_at_ms)
			err = TRAWL_EAGAIN; /* compiling ran out of the budget, not of timeout: */
		goto out;
	}
	st->plan_ms = now_ms() - t0;
	/*
	 * Without a count limit every file found is a result whatever its rank, so a caller that
	 * does not need the global order gets each shard's files (ranked within the shard) as
	 * soon as the shard is done. type:repo is excluded: its one result per repository is
	 * decided across shards.
	 */
	is_early = r.is_ranked && o->is_early && r.limit == 0 && r.type != QT_REPO;
	r.n_jobs = index_n_shards(ix);
	st->shards_total = r.n_jobs;
	r.jobs = calloc(r.n_jobs ? r.n_jobs : 1, sizeof(*r.jobs));
	for (size_t i = 0; r.jobs && i < r.n_jobs; i++)
		r.jobs[i].r = &r;
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
	is_inline = n_threads == 1;
	/* Results handed out as shards finish: workers stay within a window ahead of them. */
	if (!r.is_ranked || is_early)
		r.window = 2 * (size_t)n_threads;
	for (unsigned t = 0; t < n_threads; t++) {
		workers[t].r = &r;
		if ((err = is_inline ? thread_scratch(&workers[t].scratch)
				     : matcher_scratch_new(&workers[t].scratch)) < 0)
			goto out;
		matcher_scratch_set_deadline(workers[t].scratch, run_compile_deadline(&r));
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

		if (is_inline)
			job_run(&workers[0], i);
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
		note_rev_missing(st, &r, i);
		n_found_files += j->n_files;
		if (is_early) {
			if (err == 0 && !atomic_load(&r.stop) &&
			    (err = emit_ranked(&r, i, i + 1, st, fn, arg)) != 0)
				atomic_store(&r.stop, true);
			job_dispose(j);
		}
		if (o->progress) {
			struct search_progress p = { i + 1, r.n_jobs, atomic_load(&r.found),
						     n_found_files };

			o->progress(&p, o->progress_arg);
		}
		/* A ranked query's jobs are ranked below, once everything is in (unless is_early). */
		if (!r.is_ranked) {
			if (err == 0 && !atomic_load(&r.stop))
				err = emit_job(&r, j, shard_repo(index_shard(ix, i)), st, fn, arg);
			else if (r.limit && st->lines >= r.limit && j->n_files)
				st->is_limit_hit = true;
			job_dispose(j);
		}
		consumed(&r, i + 1); /* always: workers waiting for the window must not hang */
	}
	if (r.is_ranked && err == 0) {
		if (!is_early)
			err = emit_ranked(&r, 0, r.n_jobs, st, fn, arg);
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
	for (size_t i = 0; r.jobs && i < r.n_jobs; i++)
		job_dispose(&r.jobs[i]);
	free(r.jobs);
	free(threads);
	free(workers);
	qx_free(r.root);
	atoms_free(&r);
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.lock);
	st->elapsed_ms = now_ms() - t0;
	return err;
}
