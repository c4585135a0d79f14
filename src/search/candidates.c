/*
 * Candidate documents: the trigram query of each content pattern evaluated over a shard's
 * posting lists, and those sets combined like the query's expression. One algebra serves both
 * (docset_combine): a set is "every document" or a sorted list of ids; AND intersects, OR
 * unites, and "every document" absorbs or drops out as it should.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex/tquery.h"
#include "search/litmask.h"
#include "search/search_int.h"

void docset_dispose(struct docset *d)
{
	u32vec_dispose(&d->ids);
}

size_t docset_lower_bound(const struct docset *d, uint32_t x)
{
	size_t a = 0, b = d->ids.len;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (d->ids.v[mid] < x)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

int docset_range(struct docset *out, const struct docset *src, uint32_t lo, uint32_t hi)
{
	size_t a, b;
	int err;

	out->is_all = false;
	u32vec_init(&out->ids);
	if (src->is_all) {
		if ((err = u32vec_reserve(&out->ids, hi > lo ? hi - lo : 0)) < 0)
			return err;
		for (uint32_t id = lo; id < hi; id++)
			out->ids.v[out->ids.len++] = id;
		return 0;
	}
	a = docset_lower_bound(src, lo);
	for (b = a; b < src->ids.len && src->ids.v[b] < hi; b++)
		;
	if (b > a) {
		if ((err = u32vec_reserve(&out->ids, b - a)) < 0)
			return err;
		memcpy(out->ids.v, src->ids.v + a, (b - a) * sizeof(*out->ids.v));
		out->ids.len = b - a;
	}
	return 0;
}

int docset_restrict(struct docset *d, uint32_t lo, uint32_t hi, uint32_t n_docs)
{
	struct docset cut;
	int err;

	if (lo == 0 && hi == n_docs)
		return 0;
	if ((err = docset_range(&cut, d, lo, hi)) < 0)
		return err;
	docset_dispose(d);
	*d = cut;
	return 0;
}

/* The first index in v[lo..len) holding at least x (len when none): galloping, then bisection. */
static size_t seek(const uint32_t *v, size_t lo, size_t len, uint32_t x)
{
	size_t step = 1, hi;

	while (lo + step < len && v[lo + step] < x)
		step *= 2;
	hi = lo + step < len ? lo + step : len;
	lo += step / 2;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void intersect(struct u32vec *a, const struct u32vec *b)
{
	size_t i = 0, j = 0, k = 0;

	if (a->len * 16 < b->len) {
		/* A few candidates against a long list: look each one up. */
		for (; i < a->len && j < b->len; i++) {
			j = seek(b->v, j, b->len, a->v[i]);
			if (j < b->len && b->v[j] == a->v[i])
				a->v[k++] = a->v[i];
		}
		a->len = k;
		return;
	}
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

/* The identity of AND (every document) or of OR (none), to combine operands into. */
static void docset_start(struct docset *acc, bool is_and)
{
	acc->is_all = is_and;
	u32vec_init(&acc->ids);
}

/*
 * acc = acc AND sub (is_and) or acc OR sub; sub is consumed. ENOMEM (acc unchanged but for
 * its ids, still to be disposed).
 */
static int docset_combine(struct docset *acc, struct docset *sub, bool is_and)
{
	int err = 0;

	if (is_and) {
		if (sub->is_all) {
			/* x AND all = x */
		} else if (acc->is_all) {
			acc->is_all = false;
			u32vec_dispose(&acc->ids);
			acc->ids = sub->ids;
			return 0;
		} else {
			intersect(&acc->ids, &sub->ids);
		}
	} else if (acc->is_all || sub->is_all) {
		acc->is_all = true; /* x OR all = all */
		u32vec_dispose(&acc->ids);
	} else if (acc->ids.len == 0) {
		/*
		 * none OR x = x, without a copy: a case-insensitive k or s makes an OR of a long
		 * list and the Kelvin sign's or long s's, most often empty (copying the long one
		 * was a third of `/spin_lock_irqsave\(&\w+->lock/`).
		 */
		u32vec_dispose(&acc->ids);
		acc->ids = sub->ids;
		return 0;
	} else if (sub->ids.len > 0) {
		err = unite(&acc->ids, &sub->ids);
	}
	docset_dispose(sub);
	return err;
}

/* Whether more operands cannot change acc: AND down to nothing, OR up to everything. */
static bool docset_is_settled(const struct docset *acc, bool is_and)
{
	return is_and ? !acc->is_all && acc->ids.len == 0 : acc->is_all;
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

/*
 * What one evaluation has looked up, by trigram: its document count, and its posting list once
 * decoded. A case-insensitive pattern with k or s plans as ORs of ASCII and Kelvin-sign (long s)
 * branches whose ASCII branches repeat the same trigrams (`/spin_lock_irqsave\(&\w+->lock/`
 * names 30 trigrams 503 times): each count is looked up and each list decoded once per shard,
 * and read from here after. A set of trigrams is a bitmask over the slots (struct tq_set).
 */
#define MEMO_LISTS 64

struct tq_memo {
	uint32_t trigram[MEMO_LISTS];
	uint32_t count[MEMO_LISTS];
	bool is_decoded[MEMO_LISTS];
	struct u32vec ids[MEMO_LISTS];
	size_t n;
};

static void memo_dispose(struct tq_memo *memo)
{
	for (size_t i = 0; i < memo->n; i++)
		u32vec_dispose(&memo->ids[i]);
	memo->n = 0;
}

/* The slot of trigram t, -1 when it has none. */
static int memo_find(const struct tq_memo *memo, uint32_t t)
{
	for (size_t i = 0; i < memo->n; i++)
		if (memo->trigram[i] == t)
			return (int)i;
	return -1;
}

/* The slot of trigram t, given one with its count when it has none yet; -1 when memo is full. */
static int memo_slot(struct tq_memo *memo, const struct shard *sh, uint32_t t)
{
	int i = memo_find(memo, t);

	if (i >= 0 || memo->n == MEMO_LISTS)
		return i;
	memo->trigram[memo->n] = t;
	memo->count[memo->n] = shard_trigram_count(sh, t);
	memo->is_decoded[memo->n] = false;
	u32vec_init(&memo->ids[memo->n]);
	return (int)memo->n++;
}

/* The number of documents holding trigram t. */
static uint32_t memo_count(struct tq_memo *memo, const struct shard *sh, uint32_t t)
{
	int i = memo_slot(memo, sh, t);

	return i >= 0 ? memo->count[i] : shard_trigram_count(sh, t);
}

/*
 * The documents holding trigram t, decoded into memo, or into *tmp (empty on entry) when memo is
 * full; *list points to them, *slot is t's slot (-1: none).
 */
static int memo_postings(const struct u32vec **list, int *slot, struct u32vec *tmp,
			 struct tq_memo *memo, const struct shard *sh, uint32_t t)
{
	int i = memo_slot(memo, sh, t), err;

	*slot = i;
	if (i < 0) {
		*list = tmp;
		return shard_postings(tmp, sh, t);
	}
	if (!memo->is_decoded[i]) {
		if ((err = shard_postings(&memo->ids[i], sh, t)) < 0)
			return err;
		memo->is_decoded[i] = true;
	}
	*list = &memo->ids[i];
	return 0;
}

/* An estimate of a subquery's result size: evaluates the cheapest AND children first. */
static uint32_t tq_cost(struct tq_memo *memo, const struct shard *sh, const struct tq *q)
{
	uint32_t c = 0;

	switch (q->op) {
	case TQ_TRIGRAM:
		return memo_count(memo, sh, q->trigram);
	case TQ_NONE:
		return 0;
	case TQ_ALL:
		return UINT32_MAX;
	case TQ_AND:
		c = UINT32_MAX;
		for (size_t i = 0; i < q->n_sub; i++) {
			uint32_t x = tq_cost(memo, sh, q->sub[i]);

			c = x < c ? x : c;
		}
		return c;
	case TQ_OR:
		for (size_t i = 0; i < q->n_sub; i++) {
			uint32_t x = tq_cost(memo, sh, q->sub[i]);

			c = (x > UINT32_MAX - c) ? UINT32_MAX : c + x;
		}
		return c;
	}
	return UINT32_MAX;
}

/* out = v[0..len) (out empty on entry). ENOMEM. */
static int copy_ids(struct u32vec *out, const struct u32vec *v)
{
	int err;

	if ((err = u32vec_reserve(out, v->len)) < 0)
		return err;
	if (v->len)
		memcpy(out->v, v->v, v->len * sizeof(*v->v));
	out->len = v->len;
	return 0;
}

/*
 * A set of documents with trigrams every one of them is known to hold: bit i of `held` for the
 * trigram of memo slot i. A document set that came out of an AND with a trigram's list holds it;
 * the same trigram again within that set (as the ASCII branches of a wide plan repeat it) is
 * then the set itself, with no list to read.
 */
struct tq_set {
	struct docset d;
	uint64_t held;
};

static uint64_t slot_bit(int slot)
{
	return slot >= 0 ? (uint64_t)1 << slot : 0;
}

/* Whether q is a trigram that every document of a set holding `held` holds. */
static bool tq_is_held(const struct tq_memo *memo, const struct tq *q, uint64_t held)
{
	return q->op == TQ_TRIGRAM && (held & slot_bit(memo_find(memo, q->trigram)));
}

/*
 * The documents of q among within (NULL: all), into out, with what they are known to hold.
 * Nested queries start from the documents the enclosing AND has left, so that a long list only
 * filters a short one; a result within a set of documents is a list of some of them.
 */
static int tq_eval(struct tq_set *out, struct tq_memo *memo, const struct shard *sh,
		   const struct tq *q, const struct tq_set *within)
{
	struct sub_order *order = NULL;
	bool is_and = q->op == TQ_AND, is_any = false;
	uint64_t or_held = ~(uint64_t)0;
	int err = 0;

	if (within && within->d.is_all)
		within = NULL;
	docset_start(&out->d, false);
	out->held = within ? within->held : 0;
	switch (q->op) {
	case TQ_ALL:
		if (within)
			return copy_ids(&out->d.ids, &within->d.ids);
		out->d.is_all = true;
		return 0;
	case TQ_NONE:
		return 0;
	case TQ_TRIGRAM: {
		const struct u32vec *list = NULL;
		struct u32vec tmp;
		int slot = -1;

		if (within && tq_is_held(memo, q, within->held))
			return copy_ids(&out->d.ids, &within->d.ids);
		u32vec_init(&tmp);
		if ((err = memo_postings(&list, &slot, &tmp, memo, sh, q->trigram)) == 0) {
			err = copy_ids(&out->d.ids, within ? &within->d.ids : list);
			if (err == 0 && within)
				intersect(&out->d.ids, list);
			out->held |= slot_bit(slot);
		}
		u32vec_dispose(&tmp);
		return err;
	}
	case TQ_AND:
	case TQ_OR:
		break;
	}
	order = malloc(q->n_sub * sizeof(*order));
	if (!order)
		return error_nomem(NULL);
	for (size_t i = 0; i < q->n_sub; i++) {
		order[i].q = q->sub[i];
		order[i].cost = is_and ? tq_cost(memo, sh, q->sub[i]) : 0;
		if (is_and && order[i].cost == 0) {
			free(order); /* a term no document has: nothing can match */
			return 0;
		}
	}
	if (is_and)
		qsort(order, q->n_sub, sizeof(*order), cmp_cost);
	docset_start(&out->d, is_and);
	for (size_t i = 0; i < q->n_sub && !docset_is_settled(&out->d, is_and); i++) {
		/* An AND's operand starts from what the ones before it left. */
		const struct tq_set *in = is_and && !out->d.is_all ? out : within;
		struct tq_set sub;

		if (is_and && in && tq_is_held(memo, order[i].q, in->held))
			continue; /* every document left holds it */
		if ((err = tq_eval(&sub, memo, sh, order[i].q, in)) < 0)
			break;
		if (is_and && !sub.d.is_all) {
			/* Evaluated within what is left: a subset of it, the AND itself. */
			docset_dispose(&out->d);
			*out = sub;
			continue;
		}
		if (!is_and && (sub.d.is_all || sub.d.ids.len > 0)) {
			or_held &= sub.held;
			is_any = true;
		}
		if ((err = docset_combine(&out->d, &sub.d, is_and)) < 0)
			break;
	}
	free(order);
	if (err == 0 && out->d.is_all && within) {
		/* An AND whose every operand the documents hold: all of them. */
		out->d.is_all = false;
		err = copy_ids(&out->d.ids, &within->d.ids);
	}
	if (err < 0)
		docset_dispose(&out->d);
	else if (!is_and)
		out->held = is_any ? or_held : 0;
	return err;
}

int cand_tq_eval(struct docset *out, const struct shard *sh, const struct tq *q)
{
	struct tq_memo memo = { .n = 0 };
	struct tq_set set;
	int err = tq_eval(&set, &memo, sh, q, NULL);

	*out = set.d;
	memo_dispose(&memo);
	return err;
}

int cand_pattern(struct docset *out, const struct shard *sh, const struct pattern *pat)
{
	size_t len;
	unsigned lit_flags;
	const char *lit = matcher_literal(pat->m, &len, &lit_flags);
	bool is_wide = lit_flags & REGEX_LITERAL_WIDE, is_used;
	int err;

	/* A wide literal's masks find its ASCII matches only: the variants add the rest. */
	if (lit && (!is_wide || pat->variants)) {
		out->is_all = false;
		err = litmask_candidates(&out->ids, &is_used, sh, (const uint8_t *)lit, len,
					 lit_flags & REGEX_LITERAL_ICASE);
		if (err == 0 && is_used && is_wide) {
			struct docset v;

			if ((err = cand_tq_eval(&v, sh, pat->variants)) == 0)
				err = docset_combine(out, &v, false);
			else
				docset_dispose(&v);
		}
		if (err == 0 && is_used)
			return 0;
		docset_dispose(out); /* also on an error: a corrupt list leaves no leak */
		if (err < 0)
			return err;
	}
	if (!pat->plan) {
		docset_start(out, true);
		return 0;
	}
	return cand_tq_eval(out, sh, pat->plan);
}

int cand_eval(struct docset *out, const struct shard *sh, const struct run *r, const struct qx *x)
{
	bool is_and = x->op == QN_AND;
	const struct atom *a;
	int err = 0;

	docset_start(out, true);
	if (r->type == QT_REPO)
		return 0;
	switch (x->op) {
	case QN_PATTERN:
	case QN_FILTER:
		a = &r->atoms[x->atom];
		/* A content pattern is about content only in type:file (else about names). */
		if (a->kind == ATOM_CONTENT)
			return r->type == QT_FILE ? cand_pattern(out, sh, a->pat) : 0;
		return a->ops->narrow ? a->ops->narrow(out, sh, a) : 0;
	case QN_NOT:
		return 0;
	case QN_AND:
	case QN_OR:
		break;
	}
	docset_start(out, is_and);
	for (size_t i = 0; i < x->n_sub && !docset_is_settled(out, is_and); i++) {
		struct docset sub;

		if ((err = cand_eval(&sub, sh, r, x->sub[i])) < 0 ||
		    (err = docset_combine(out, &sub, is_and)) < 0)
			break;
	}
	if (err < 0 || out->is_all)
		docset_dispose(out);
	return err;
}

/* The candidates of shard i's compound file, computed by the first shard to need them. */
static const struct docset *file_cands(int *err, struct run *r, size_t shard_i)
{
	struct file_cand *fc = &r->fcand[index_shard_file(r->ix, shard_i)];

	pthread_mutex_lock(&r->lock);
	while (fc->state == FC_BUSY)
		pthread_cond_wait(&r->cond, &r->lock);
	if (fc->state == FC_NONE) {
		fc->state = FC_BUSY;
		pthread_mutex_unlock(&r->lock);
		fc->err = cand_eval(&fc->d, index_shard(r->ix, shard_i), r, r->root);
		if (fc->err < 0)
			snprintf(fc->errmsg, sizeof(fc->errmsg), "%s", error_last());
		pthread_mutex_lock(&r->lock);
		fc->state = FC_DONE;
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	if ((*err = fc->err) < 0)
		error_set("%s", fc->errmsg);
	return &fc->d;
}

int cand_shard_is_empty(bool *out, struct run *r, size_t shard_i, const struct docset **cache)
{
	const struct docset *all = *cache;
	uint32_t lo, hi;
	size_t a;
	int err;

	*out = false;
	index_shard_docs(r->ix, shard_i, &lo, &hi);
	if (lo == 0 && hi == shard_n_docs(index_shard(r->ix, shard_i)))
		return 0; /* a file of its own: its candidates are worked out once anyway */
	if (!all) {
		all = file_cands(&err, r, shard_i);
		if (err < 0)
			return err;
		*cache = all; /* the job's shards are all of this file: no lock for the others */
	}
	if (all->is_all) {
		*out = lo == hi;
		return 0;
	}
	a = docset_lower_bound(all, lo);
	*out = a == all->ids.len || all->ids.v[a] >= hi;
	return 0;
}

int cand_shard(struct docset *out, struct run *r, size_t shard_i)
{
	const struct shard *sh = index_shard(r->ix, shard_i);
	const struct docset *all;
	uint32_t lo, hi;
	int err;

	index_shard_docs(r->ix, shard_i, &lo, &hi);
	if (lo == 0 && hi == shard_n_docs(sh))
		return cand_eval(out, sh, r, r->root);
	/*
	 * DESIGN: a compound file's posting lists hold every repository packed into it, so they
	 * are read once per query for all of them; each repository's shard takes its range.
	 */
	all = file_cands(&err, r, shard_i);
	return err < 0 ? err : docset_range(out, all, lo, hi);
}
