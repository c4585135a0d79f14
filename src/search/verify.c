/*
 * Verification: the query's expression evaluated over one candidate document, the matcher run
 * over its content, and the matching lines recorded (line numbers, texts, match ranges), merged
 * per line when several patterns matched. The per-line work (on_line, count_newlines) is the
 * hot loop of a search.
 */
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "search/search_int.h"

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
		if ((ds->err = job_grow(j, (void **)&j->lines, &j->cap_lines, j->n_lines + 1,
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

			if ((ds->err = job_grow(j, (void **)&j->ranges, &j->cap_ranges,
						j->n_ranges + max, sizeof(*j->ranges))) < 0)
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

bool verify_text_matches(struct worker *w, const struct pattern *pat, const char *text,
			 size_t len)
{
	bool hit = false;

	/* A name is one "line"; one holding '\n' matches if any part of it does. */
	return matcher_lines(pat->m, w->scratch, (const uint8_t *)text, len,
			     matcher_classify((const uint8_t *)text, len), stop_at_first, &hit) == 0 &&
	       hit;
}

/* Runs a content atom over the document: its lines are collected when want_lines. */
static bool eval_content(struct doc_ctx *dc, const struct atom *a, bool want_lines)
{
	struct run *r = dc->w->r;
	struct doc_scan ds = { .w = dc->w, .j = dc->j, .atom = a, .data = dc->data,
			       .text = dc->text, .is_counted = !r->is_multi && !r->is_ranked };
	bool hit = false;
	int err;

	if (r->type == QT_PATH)
		return verify_text_matches(dc->w, a->pat, dc->d->path, dc->d->path_len);
	if (r->type == QT_REPO)
		return verify_text_matches(dc->w, a->pat, dc->repo, strlen(dc->repo));
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
bool verify_eval(struct doc_ctx *dc, const struct qx *x, bool want_lines)
{
	struct run *r = dc->w->r;
	bool any = false;

	if (dc->err < 0)
		return false;
	switch (x->op) {
	case QN_AND:
		for (size_t i = 0; i < x->n_sub; i++)
			if (!verify_eval(dc, x->sub[i], want_lines))
				return false;
		return true;
	case QN_OR:
		for (size_t i = 0; i < x->n_sub; i++)
			any |= verify_eval(dc, x->sub[i], want_lines);
		return any;
	case QN_NOT:
		return !verify_eval(dc, x->sub[0], false);
	default:
		break;
	}
	{
		const struct atom *a = &r->atoms[x->atom];

		if (a->kind == ATOM_CONTENT)
			return eval_content(dc, a, want_lines);
		if (a->ops->is_per_repo)
			return dc->w->repo_val[x->atom] > 0;
		/* type:repo has no files: a filter on them is false. */
		return r->type != QT_REPO && a->ops->eval_doc(dc, a);
	}
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

			if ((err = job_grow(j, (void **)&j->ranges, &j->cap_ranges,
					    j->n_ranges + total, sizeof(*j->ranges))) < 0)
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

int verify_eval_static(const struct worker *w, const struct qx *x)
{
	const struct run *r = w->r;
	int v, res;

	switch (x->op) {
	case QN_AND:
		res = 1;
		for (size_t i = 0; i < x->n_sub; i++) {
			if ((v = verify_eval_static(w, x->sub[i])) == 0)
				return 0;
			if (v < 0)
				res = -1;
		}
		return res;
	case QN_OR:
		res = 0;
		for (size_t i = 0; i < x->n_sub; i++) {
			if ((v = verify_eval_static(w, x->sub[i])) == 1)
				return 1;
			if (v < 0)
				res = -1;
		}
		return res;
	case QN_NOT:
		v = verify_eval_static(w, x->sub[0]);
		return v < 0 ? -1 : !v;
	default:
		return r->atoms[x->atom].kind == ATOM_FILTER && r->atoms[x->atom].ops->is_per_repo
			       ? w->repo_val[x->atom]
			       : -1;
	}
}


int verify_doc(struct worker *w, struct job *j, const struct shard_doc *d, const char *repo)
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
	is_match = verify_eval(&dc, r->root, true);
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
	if ((err = job_grow(j, (void **)&j->files, &j->cap_files, j->n_files + 1,
			    sizeof(*j->files))) < 0)
		return err;
	fr = &j->files[j->n_files++];
	*fr = (struct file_rec){ d->path, d->path_len, r->type == QT_FILE ? dc.n_lines : 0,
				 first_line, r->type == QT_PATH ? SEARCH_PATH : SEARCH_CONTENT,
				 d->lang, 0, NULL, 0, 0, 0, w->shard_i };
	if (r->type == QT_FILE) {
		fr->content = dc.data;
		fr->content_len = dc.len;
	}
	if (r->is_ranked)
		fr->score = rank_score_file(&dc, fr);
	return 0;
}

/* A content pattern's candidates: through the posting masks when it is a literal. */

bool verify_doc_matches(struct worker *w, const struct pattern *pat, const struct shard_doc *d,
			int *err)
{
	const uint8_t *data = d->content;
	size_t len = d->content_len;
	enum matcher_text text = MATCHER_TEXT_UNKNOWN;
	bool hit = false;
	int e;

	if (d->skip != DOC_INDEXED)
		return false;
	if (len >= 3 && memcmp(data, utf8_bom, 3) == 0) {
		data += 3;
		len -= 3;
	}
	if (d->flags & DOC_INVALID_UTF8)
		text = MATCHER_TEXT_BYTES;
	else if (!matcher_is_text_blind(pat->m))
		text = matcher_classify(data, len);
	if ((e = matcher_lines(pat->m, w->scratch, data, len, text, stop_at_first, &hit)) < 0) {
		*err = e;
		return false;
	}
	return hit;
}
