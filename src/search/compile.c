/*
 * Query compilation: a parsed query (or one ripgrep-style pattern) becomes the run's atoms, each
 * pattern and filter compiled once, and a boolean expression over them (struct qx) whose AND
 * operands are ordered cheapest first. What a filter compiles to is its entry's compile
 * function (filters.c).
 */
#include <stdlib.h>
#include <string.h>

#include "search/search_int.h"

double compile_deadline(const struct run *r)
{
	if (r->budget_at_ms > 0 && (r->deadline_ms <= 0 || r->budget_at_ms < r->deadline_ms))
		return r->budget_at_ms;
	return r->deadline_ms;
}

/* Compile time counts against the query's timeout: r->deadline_ms is set before this. */
int compile_atom(const struct pattern **pat_out, const struct run *r, const char *pat, size_t len,
		 unsigned flags, bool want_plan)
{
	return patcache_get(pat_out, pat, len, flags, want_plan, compile_deadline(r));
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

void compile_free(struct run *r)
{
	qx_free(r->root);
	r->root = NULL;
	for (size_t i = 0; i < r->n_atoms; i++) {
		patcache_release(r->atoms[i].pat);
		patcache_release(r->atoms[i].pat2);
		free(r->atoms[i].literal);
	}
	r->n_atoms = 0;
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
	return (x->op == QN_FILTER || x->op == QN_PATTERN) &&
	       r->atoms[x->atom].kind == ATOM_FILTER && r->atoms[x->atom].ops->is_cheap;
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
		err = compile_atom(&a->pat, r, n->value, n->value_len, flags, r->type == QT_FILE);
	} else {
		a->kind = ATOM_FILTER;
		if (!(a->ops = filter_ops_of(n->filter_kind))) {
			error_set_at(n->pos, "internal error: a filter the executor does not know");
			return TRAWL_EINVAL;
		}
		err = a->ops->compile(a, r, n, case_flags);
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
	return error_nomem(NULL);
}

int compile_run(struct run *r, const struct search_opts *o)
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
				return error_nomem(NULL);
			}
			r->n_atoms++;
			if ((err = filter_path_atom(a, r, o->path_regex)) < 0) {
				free(and->sub);
				free(and);
				error_prefix("--path");
				return err;
			}
			and->sub[0] = r->root;
			and->sub[1] = qx_new(QN_FILTER, r->n_atoms - 1, 0);
			and->n_sub = 2;
			r->root = and;
			if (!and->sub[1])
				return error_nomem(NULL);
		}
	} else {
		struct atom *a = &r->atoms[0];

		r->type = QT_FILE;
		a->kind = ATOM_CONTENT;
		r->n_atoms = 1;
		if ((err = compile_atom(&a->pat, r, o->pattern, o->pattern_len, o->regex_flags, true)) < 0)
			return err;
		if (!(r->root = qx_new(QN_AND, 0, 2)))
			goto nomem;
		if (!(r->root->sub[r->root->n_sub++] = qx_new(QN_PATTERN, 0, 0)))
			goto nomem;
		if (o->path_regex) {
			r->n_atoms = 2;
			if ((err = filter_path_atom(&r->atoms[1], r, o->path_regex)) < 0) {
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
	return error_nomem(NULL);
}

/* The calling thread is done with jobs [0, n): workers may take the shards after them. */
