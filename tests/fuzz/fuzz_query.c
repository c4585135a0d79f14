/*
 * Fuzz target for the query parser: the input is the query text. Every refusal must come with a
 * message and a position inside the query; every accepted query must be a well-formed,
 * simplified tree inside the limits (select:symbol a symbol search of a known kind), describe
 * itself, and parse the same way twice. Never a
 * crash, a leak or an unbounded amount of work.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"
#include "util/buf.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks a node and returns the number of atoms under it; aborts on a broken invariant. */
static size_t check_node(const struct qnode *n, size_t size, size_t depth)
{
	size_t atoms = 0;

	if (!n || depth > 4 * QUERY_MAX_DEPTH + 4 || n->pos > size || n->len > size - n->pos)
		abort();
	if (n->is_negated)
		abort();
	switch (n->op) {
	case QN_PATTERN:
	case QN_FILTER:
		if (!n->value || n->value_len == 0 || n->value[n->value_len] != 0 || n->n_sub)
			abort();
		if (n->op == QN_FILTER && n->filter_kind == QF_LANG && n->lang == 0)
			abort();
		return 1;
	case QN_NOT:
		if (n->n_sub != 1 || n->sub[0]->op == QN_NOT)
			abort();
		return check_node(n->sub[0], size, depth + 1);
	case QN_AND:
	case QN_OR:
		if (n->n_sub < 2)
			abort();
		for (size_t i = 0; i < n->n_sub; i++) {
			if (n->sub[i]->op == n->op) /* flattened */
				abort();
			atoms += check_node(n->sub[i], size, depth + 1);
		}
		return atoms;
	}
	abort();
}

/* Something selects: a pattern or filter, an AND with such a child, an OR of such children. */
static bool positive(const struct qnode *n)
{
	bool any = false, all = true;

	if (n->op == QN_PATTERN || n->op == QN_FILTER)
		return true;
	if (n->op == QN_NOT)
		return false;
	for (size_t i = 0; i < n->n_sub; i++) {
		bool p = positive(n->sub[i]);

		any = any || p;
		all = all && p;
	}
	return n->op == QN_AND ? any : all;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct query *q = NULL, *q2 = NULL;
	struct buf b, b2;
	int err;

	error_clear();
	err = query_parse(&q, (const char *)data, size);
	if (err < 0) {
		/* Every refusal says what and where. */
		if (q || error_last()[0] == 0 || error_pos() >= (size ? size : 1))
			abort();
		return 0;
	}
	if (!q->root || check_node(q->root, size, 0) > QUERY_MAX_ATOMS || !positive(q->root))
		abort();
	if (q->timeout_ms == 0 || q->timeout_ms > QUERY_MAX_TIMEOUT_MS ||
	    q->count > QUERY_MAX_COUNT)
		abort();
	/* select:symbol is a symbol search; its kind is one select:symbol.KIND names. */
	if ((q->select == QS_SYMBOL && q->type != QT_SYMBOL) || q->symkind >= QK_OTHER ||
	    (q->select != QS_SYMBOL && q->symkind != QK_ANY))
		abort();
	buf_init(&b, 1 << 24);
	buf_init(&b2, 1 << 24);
	if (query_describe(&b, q) < 0)
		abort();
	/* Deterministic: the same text gives the same query. */
	if (query_parse(&q2, (const char *)data, size) < 0 || query_describe(&b2, q2) < 0 ||
	    b.len != b2.len || memcmp(b.ptr, b2.ptr, b.len) != 0)
		abort();
	buf_dispose(&b);
	buf_dispose(&b2);
	query_free(q2);
	query_free(q);
	return 0;
}
