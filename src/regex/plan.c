/*
 * The trigram planner: from the AST, a boolean query over trigram posting lists that every
 * document able to match satisfies (Russ Cox's analysis, as in codesearch's index/regexp.go).
 *
 * For each node it computes whether it can match empty, its exact set of strings (when small),
 * or else sets of possible prefixes and suffixes, and a query. Set sizes are bounded (MAX_EXACT,
 * MAX_SET); beyond them the analysis falls back to weaker information, never to a wrong query.
 * Strings are UTF-8 with ASCII letters folded to lower case, as the index folds trigrams
 * (util/trigram.h); a case-insensitive non-ASCII letter contributes each of its case variants.
 *
 * DESIGN: the analysis allocates from an arena freed at the end, and an allocation failure
 * unwinds with longjmp to regex_plan(), which reports ENOMEM. That keeps the set algebra free of
 * error plumbing; nothing outside this file sees the arena.
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "regex/regex_int.h"
#include "regex/tquery.h"
#include "regex/unicode.h"
#include "util/error.h"
#include "util/trigram.h"
#include "util/utf8enc.h"

#define MAX_EXACT 7
#define MAX_SET 20
#define MAX_CLASS_CHARS 100
#define ARENA_MAX ((size_t)256 << 20)

struct chunk {
	struct chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct chunk *head;
	size_t total;
	jmp_buf fail;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->head;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 65536 ? n : 65536;

		if (a->total + cap > ARENA_MAX || !(c = malloc(sizeof(*c) + cap)))
			longjmp(a->fail, 1);
		a->total += cap;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static void arena_dispose(struct arena *a)
{
	while (a->head) {
		struct chunk *next = a->head->next;

		free(a->head);
		a->head = next;
	}
}

struct str {
	const uint8_t *s;
	size_t len;
};

/* A set of strings; `is_known` false means "unknown" (codesearch's nil exact set). */
struct sset {
	struct str *v;
	size_t n;
	bool is_known;
};

/* Query nodes during planning live in the arena; the result is copied out with malloc. */
struct q {
	enum tq_op op;
	uint32_t trigram;
	struct q **sub;
	size_t n_sub;
};

struct info {
	bool can_empty;
	struct sset exact, prefix, suffix;
	struct q *match;
};

struct planner {
	struct arena a;
};

static struct q q_all = { TQ_ALL, 0, NULL, 0 };
static struct q q_none = { TQ_NONE, 0, NULL, 0 };

static struct sset sset_new(struct planner *p, size_t cap)
{
	struct sset s = { arena_alloc(&p->a, (cap ? cap : 1) * sizeof(struct str)), 0, true };

	return s;
}

static struct sset sset_one(struct planner *p, const uint8_t *s, size_t len)
{
	struct sset t = sset_new(p, 1);

	t.v[0] = (struct str){ s, len };
	t.n = 1;
	return t;
}

static int str_cmp(const struct str *a, const struct str *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->s, b->s, n) : 0;

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int str_cmp_v(const void *x, const void *y)
{
	return str_cmp(x, y);
}

/* Reversed-string order, for suffix sets. */
static int str_cmp_rev(const void *x, const void *y)
{
	const struct str *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;

	for (size_t i = 1; i <= n; i++)
		if (a->s[a->len - i] != b->s[b->len - i])
			return a->s[a->len - i] < b->s[b->len - i] ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* Sorts and removes duplicates. */
static void sset_clean(struct sset *s, bool is_suffix)
{
	size_t w = 0;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), is_suffix ? str_cmp_rev : str_cmp_v);
	for (size_t i = 0; i < s->n; i++)
		if (w == 0 || str_cmp(&s->v[w - 1], &s->v[i]) != 0)
			s->v[w++] = s->v[i];
	s->n = w;
}

static struct sset sset_union(struct planner *p, const struct sset *a, const struct sset *b,
			      bool is_suffix)
{
	struct sset u = sset_new(p, a->n + b->n);

	if (a->n)
		memcpy(u.v, a->v, a->n * sizeof(*u.v));
	if (b->n)
		memcpy(u.v + a->n, b->v, b->n * sizeof(*u.v));
	u.n = a->n + b->n;
	sset_clean(&u, is_suffix);
	return u;
}

static struct sset sset_cross(struct planner *p, const struct sset *a, const struct sset *b,
			      bool is_suffix)
{
	struct sset c = sset_new(p, a->n * b->n);

	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++) {
			size_t len = a->v[i].len + b->v[j].len;
			uint8_t *s = arena_alloc(&p->a, len ? len : 1);

			if (a->v[i].len)
				memcpy(s, a->v[i].s, a->v[i].len);
			if (b->v[j].len)
				memcpy(s + a->v[i].len, b->v[j].s, b->v[j].len);
			c.v[c.n++] = (struct str){ s, len };
		}
	sset_clean(&c, is_suffix);
	return c;
}

static size_t sset_min_len(const struct sset *s)
{
	size_t m = SIZE_MAX;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].len < m)
			m = s->v[i].len;
	return s->n ? m : 0;
}

/* ---- queries ---- */

static struct q *q_new(struct planner *p, enum tq_op op, size_t cap)
{
	struct q *q = arena_alloc(&p->a, sizeof(*q));

	q->op = op;
	q->trigram = 0;
	q->n_sub = 0;
	q->sub = cap ? arena_alloc(&p->a, cap * sizeof(*q->sub)) : NULL;
	return q;
}

static bool q_equal(const struct q *a, const struct q *b)
{
	if (a->op != b->op || a->n_sub != b->n_sub)
		return false;
	if (a->op == TQ_TRIGRAM)
		return a->trigram == b->trigram;
	for (size_t i = 0; i < a->n_sub; i++)
		if (!q_equal(a->sub[i], b->sub[i]))
			return false;
	return true;
}

/* x AND y or x OR y, simplified: identities, flattening, duplicate removal, absorption. */
static struct q *q_combine(struct planner *p, enum tq_op op, struct q *x, struct q *y)
{
	struct q *parts[2] = { x, y }, *r;
	size_t cap = 0;

	/* AND: ALL is the identity and NONE absorbs; OR: the other way round. */
	for (int i = 0; i < 2; i++) {
		enum tq_op id = op == TQ_AND ? TQ_ALL : TQ_NONE;
		enum tq_op zero = op == TQ_AND ? TQ_NONE : TQ_ALL;

		if (parts[i]->op == zero)
			return parts[i];
		if (parts[i]->op == id)
			return parts[1 - i];
	}
	for (int i = 0; i < 2; i++)
		cap += parts[i]->op == op ? parts[i]->n_sub : 1;
	r = q_new(p, op, cap);
	for (int i = 0; i < 2; i++) {
		struct q **v = parts[i]->op == op ? parts[i]->sub : &parts[i];
		size_t n = parts[i]->op == op ? parts[i]->n_sub : 1;

		for (size_t k = 0; k < n; k++) {
			bool is_dup = false;

			for (size_t j = 0; j < r->n_sub && !is_dup; j++)
				is_dup = q_equal(r->sub[j], v[k]);
			if (!is_dup)
				r->sub[r->n_sub++] = v[k];
		}
	}
	/* Absorption: x AND (x OR y) = x; x OR (x AND y) = x. */
	for (size_t i = 0; i < r->n_sub; i++) {
		struct q *c = r->sub[i];
		bool is_absorbed = false;

		if (c->op == TQ_TRIGRAM || c->op == op)
			continue;
		for (size_t k = 0; k < c->n_sub && !is_absorbed; k++)
			for (size_t j = 0; j < r->n_sub && !is_absorbed; j++)
				is_absorbed = j != i && q_equal(r->sub[j], c->sub[k]);
		if (is_absorbed) {
			memmove(r->sub + i, r->sub + i + 1, (r->n_sub - i - 1) * sizeof(*r->sub));
			r->n_sub--;
			i--;
		}
	}
	return r->n_sub == 1 ? r->sub[0] : r;
}

static struct q *q_and(struct planner *p, struct q *x, struct q *y)
{
	return q_combine(p, TQ_AND, x, y);
}

static struct q *q_or(struct planner *p, struct q *x, struct q *y)
{
	return q_combine(p, TQ_OR, x, y);
}

/* OR over the strings of (AND of each string's trigrams); ALL if a string is shorter than 3. */
static struct q *q_trigrams_of(struct planner *p, const struct sset *s)
{
	struct q *or = &q_none;

	if (!s->is_known || s->n == 0)
		return s->is_known ? &q_none : &q_all;
	for (size_t i = 0; i < s->n; i++) {
		struct q *and = &q_all;

		if (s->v[i].len < 3)
			return &q_all;
		for (size_t k = 0; k + 3 <= s->v[i].len; k++) {
			struct q *t = q_new(p, TQ_TRIGRAM, 0);

			t->trigram = trigram_make(s->v[i].s[k], s->v[i].s[k + 1], s->v[i].s[k + 2]);
			and = q_and(p, and, t);
		}
		or = q_or(p, or, and);
	}
	return or;
}

/* ---- analysis ---- */

static struct info info_any_char(struct planner *p)
{
	struct info i = { .can_empty = false, .match = &q_all };

	i.prefix = sset_one(p, (const uint8_t *)"", 0);
	i.suffix = sset_one(p, (const uint8_t *)"", 0);
	return i;
}

static struct info info_any_match(struct planner *p)
{
	struct info i = info_any_char(p);

	i.can_empty = true;
	return i;
}

static struct info info_empty(struct planner *p)
{
	struct info i = { .can_empty = true, .match = &q_all };

	i.exact = sset_one(p, (const uint8_t *)"", 0);
	return i;
}

static struct info info_never(struct planner *p)
{
	struct info i = { .can_empty = false, .match = &q_none };

	i.exact = sset_new(p, 1);
	return i;
}

static void add_exact(struct planner *p, struct info *i)
{
	if (i->exact.is_known)
		i->match = q_and(p, i->match, q_trigrams_of(p, &i->exact));
}

static void simplify_set(struct planner *p, struct info *i, bool is_suffix)
{
	struct sset *s = is_suffix ? &i->suffix : &i->prefix;

	sset_clean(s, is_suffix);
	i->match = q_and(p, i->match, q_trigrams_of(p, s));
	for (size_t n = 3; s->n > MAX_SET && n > 0; n--) {
		/* Cut every string to n - 1 bytes (its start for prefixes, its end for suffixes). */
		for (size_t k = 0; k < s->n; k++)
			if (s->v[k].len >= n) {
				if (is_suffix)
					s->v[k].s += s->v[k].len - (n - 1);
				s->v[k].len = n - 1;
			}
		sset_clean(s, is_suffix);
	}
	/* A prefix that has a shorter prefix in the set says nothing more: drop it. */
	{
		size_t w = 0;

		for (size_t k = 0; k < s->n; k++) {
			bool is_redundant = false;

			for (size_t j = 0; j < w && !is_redundant; j++) {
				const struct str *a = &s->v[j], *b = &s->v[k];

				is_redundant = a->len <= b->len &&
					       memcmp(a->s, is_suffix ? b->s + b->len - a->len : b->s,
						      a->len) == 0;
			}
			if (!is_redundant)
				s->v[w++] = s->v[k];
		}
		s->n = w;
	}
}

static void simplify(struct planner *p, struct info *i, bool force)
{
	sset_clean(&i->exact, false);
	if (i->exact.is_known &&
	    (i->exact.n > MAX_EXACT || sset_min_len(&i->exact) >= 4 ||
	     (force && sset_min_len(&i->exact) >= 3))) {
		struct sset pre = sset_new(p, i->exact.n + i->prefix.n);
		struct sset suf = sset_new(p, i->exact.n + i->suffix.n);

		add_exact(p, i);
		for (size_t k = 0; k < i->exact.n; k++) {
			struct str s = i->exact.v[k];

			if (s.len < 3) {
				pre.v[pre.n++] = s;
				suf.v[suf.n++] = s;
			} else {
				pre.v[pre.n++] = (struct str){ s.s, 2 };
				suf.v[suf.n++] = (struct str){ s.s + s.len - 2, 2 };
			}
		}
		i->prefix = pre;
		i->suffix = suf;
		i->exact = (struct sset){ 0 };
	}
	if (!i->exact.is_known) {
		simplify_set(p, i, false);
		simplify_set(p, i, true);
	}
}

static struct info concat(struct planner *p, struct info x, struct info y)
{
	struct info xy = { .can_empty = x.can_empty && y.can_empty };

	xy.match = q_and(p, x.match, y.match);
	if (x.exact.is_known && y.exact.is_known) {
		xy.exact = sset_cross(p, &x.exact, &y.exact, false);
	} else {
		if (x.exact.is_known) {
			xy.prefix = sset_cross(p, &x.exact, &y.prefix, false);
		} else {
			xy.prefix = x.prefix;
			if (x.can_empty)
				xy.prefix = sset_union(p, &xy.prefix, &y.prefix, false);
		}
		if (y.exact.is_known) {
			xy.suffix = sset_cross(p, &x.suffix, &y.exact, true);
		} else {
			xy.suffix = y.suffix;
			if (y.can_empty)
				xy.suffix = sset_union(p, &xy.suffix, &x.suffix, true);
		}
		xy.prefix.is_known = xy.suffix.is_known = true;
	}
	/* Trigrams spanning the boundary between x and y. */
	if (!x.exact.is_known && !y.exact.is_known && x.suffix.n <= MAX_SET &&
	    y.prefix.n <= MAX_SET && sset_min_len(&x.suffix) + sset_min_len(&y.prefix) >= 3) {
		struct sset c = sset_cross(p, &x.suffix, &y.prefix, false);

		xy.match = q_and(p, xy.match, q_trigrams_of(p, &c));
	}
	simplify(p, &xy, false);
	return xy;
}

static struct info alternate(struct planner *p, struct info x, struct info y)
{
	struct info xy = { .can_empty = x.can_empty || y.can_empty };

	if (x.exact.is_known && y.exact.is_known) {
		xy.exact = sset_union(p, &x.exact, &y.exact, false);
	} else if (x.exact.is_known) {
		xy.prefix = sset_union(p, &x.exact, &y.prefix, false);
		xy.suffix = sset_union(p, &x.exact, &y.suffix, true);
		add_exact(p, &x);
	} else if (y.exact.is_known) {
		xy.prefix = sset_union(p, &x.prefix, &y.exact, false);
		xy.suffix = sset_union(p, &x.suffix, &y.exact, true);
		add_exact(p, &y);
	} else {
		xy.prefix = sset_union(p, &x.prefix, &y.prefix, false);
		xy.suffix = sset_union(p, &x.suffix, &y.suffix, true);
	}
	xy.match = q_or(p, x.match, y.match);
	simplify(p, &xy, false);
	return xy;
}

/* The UTF-8 of cp with ASCII letters folded, as the index sees it. */
static struct str folded_utf8(struct planner *p, uint32_t cp)
{
	uint8_t *s = arena_alloc(&p->a, 4);

	if (cp < 0x80) {
		s[0] = trigram_fold((uint8_t)cp);
		return (struct str){ s, 1 };
	}
	return (struct str){ s, utf8_encode(s, cp) };
}

static struct info literal(struct planner *p, const struct re_node *n)
{
	struct info i = { .can_empty = false, .match = &q_all };
	uint32_t c = n->cp;

	i.exact = sset_new(p, 8);
	do {
		if (i.exact.n < 8)
			i.exact.v[i.exact.n++] = folded_utf8(p, c);
		c = n->is_fold ? unicode_fold_next(c) : n->cp;
	} while (c != n->cp);
	sset_clean(&i.exact, false);
	return i;
}

static struct info class(struct planner *p, const struct cset *s)
{
	struct info i = { .can_empty = false, .match = &q_all };

	if (s->n == 0)
		return info_never(p);
	if (cset_count(s) > MAX_CLASS_CHARS)
		return info_any_char(p);
	i.exact = sset_new(p, (size_t)cset_count(s));
	for (size_t k = 0; k < s->n; k++)
		for (uint32_t c = s->r[k].lo; c <= s->r[k].hi; c++)
			i.exact.v[i.exact.n++] = folded_utf8(p, c);
	sset_clean(&i.exact, false);
	return i;
}

static struct info analyze(struct planner *p, const struct re_node *n)
{
	struct info i;

	switch (n->op) {
	case RE_LIT:
		return literal(p, n);
	case RE_CLASS:
		return class(p, &n->cls);
	case RE_GROUP:
		return analyze(p, n->sub[0]);
	case RE_CONCAT:
		i = info_empty(p);
		for (size_t k = 0; k < n->n_sub; k++)
			i = concat(p, i, analyze(p, n->sub[k]));
		return i;
	case RE_ALT:
		i = analyze(p, n->sub[0]);
		for (size_t k = 1; k < n->n_sub; k++)
			i = alternate(p, i, analyze(p, n->sub[k]));
		return i;
	case RE_REPEAT:
		if (n->max == 0)
			return info_empty(p);
		i = analyze(p, n->sub[0]);
		if (n->min == 0) {
			/* x? keeps what x says as one alternative; x* and x{0,n} say nothing. */
			return n->max == 1 ? alternate(p, i, info_empty(p)) : info_any_match(p);
		}
		if (n->min >= 2) {
			/*
			 * Every match starts and ends with x{k} for k = min(min, 4): worth its
			 * boundary trigrams; a fixed count up to 4 is exact.
			 */
			int k = n->min < 4 ? n->min : 4;

			for (int c = 1; c < k; c++)
				i = concat(p, i, analyze(p, n->sub[0]));
			if (n->min == n->max && n->min <= 4)
				return i;
		} else if (n->max == 1) {
			return i;
		}
		if (i.exact.is_known) {
			struct sset none = { 0 };

			/* Separate copies: simplification sorts and cuts them in place. */
			i.prefix = sset_union(p, &i.exact, &none, false);
			i.suffix = sset_union(p, &i.exact, &none, true);
			i.exact = (struct sset){ 0 };
			simplify(p, &i, false);
		}
		return i;
	default:
		return info_empty(p); /* empty string and zero-width assertions */
	}
}

static int tq_copy(struct tq **out, const struct q *q)
{
	struct tq *t = calloc(1, sizeof(*t));
	int err;

	*out = t;
	if (!t)
		goto nomem;
	t->op = q->op;
	t->trigram = q->trigram;
	if (q->n_sub) {
		t->sub = calloc(q->n_sub, sizeof(*t->sub));
		if (!t->sub)
			goto nomem;
		for (size_t i = 0; i < q->n_sub; i++) {
			if ((err = tq_copy(&t->sub[i], q->sub[i])) < 0) {
				t->n_sub = i + 1;
				return err;
			}
		}
		t->n_sub = q->n_sub;
	}
	return 0;
nomem:
	error_set("out of memory while planning the search");
	return TRAWL_ENOMEM;
}

int regex_plan(struct tq **out, const struct regex *re)
{
	struct planner p = { 0 };
	struct info i;
	int err;

	*out = NULL;
	if (setjmp(p.a.fail)) {
		arena_dispose(&p.a);
		error_set("out of memory while planning the search");
		return TRAWL_ENOMEM;
	}
	i = analyze(&p, re->root);
	simplify(&p, &i, true);
	add_exact(&p, &i);
	if ((err = tq_copy(out, i.match)) < 0) {
		tq_free(*out);
		*out = NULL;
	}
	arena_dispose(&p.a);
	return err;
}

void tq_free(struct tq *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n_sub; i++)
		tq_free(q->sub[i]);
	free(q->sub);
	free(q);
}

static int format(struct buf *out, const struct tq *q, bool is_nested)
{
	int err = 0;

	switch (q->op) {
	case TQ_ALL:
		return buf_puts(out, "ALL");
	case TQ_NONE:
		return buf_puts(out, "NONE");
	case TQ_TRIGRAM:
		if ((err = buf_putc(out, '"')) < 0)
			return err;
		for (int k = 2; k >= 0; k--) {
			unsigned c = (q->trigram >> (8 * k)) & 0xff;

			if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
				err = buf_putc(out, (char)c);
			else
				err = buf_printf(out, "\\x%02x", c);
			if (err < 0)
				return err;
		}
		return buf_putc(out, '"');
	default:
		if (is_nested && (err = buf_putc(out, '(')) < 0)
			return err;
		for (size_t i = 0; i < q->n_sub; i++) {
			if (i && (err = buf_puts(out, q->op == TQ_AND ? " AND " : " OR ")) < 0)
				return err;
			if ((err = format(out, q->sub[i], true)) < 0)
				return err;
		}
		return is_nested ? buf_putc(out, ')') : 0;
	}
}

int tq_format(struct buf *out, const struct tq *q)
{
	return format(out, q, false);
}
