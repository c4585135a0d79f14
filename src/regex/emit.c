/*
 * The emitter: the AST as a Vectorscan pattern with ripgrep's line semantics.
 *
 * DESIGN: every character class and case-insensitive literal is written out as explicit code
 * points or bytes, never as \w, \s, (?i) or \p{..}, so that the three dialects mean the same
 * thing and Vectorscan's Unicode mode (HS_FLAG_UCP, which refuses \b) is never needed:
 *   UTF8  - for valid UTF-8 text: classes as [\x{lo}-\x{hi}...] under HS_FLAG_UTF8;
 *   BYTES - for text with invalid UTF-8: classes as alternations of UTF-8 byte sequences, so a
 *           class or `.` never matches a stray byte, as in ripgrep;
 *   ASCII - for pure ASCII text: classes cut down to ASCII; what cannot match ASCII is dropped.
 * A part that can never match (a class with nothing left in the dialect) removes its branch of
 * an alternation, or the whole concatenation; regex_emit() returns REGEX_EMIT_NEVER when the
 * whole pattern can never match.
 */
#include <hs/hs.h>
#include <string.h>

#include "regex/regex_int.h"
#include "regex/unicode.h"
#include "util/error.h"
#include "util/utf8enc.h"

/* The longest pattern Vectorscan 5.4 compiles ("Pattern length exceeds limit" beyond). */
#define VECTORSCAN_MAX_LEN 16000

struct emitter {
	struct buf *out;
	enum regex_dialect d;
	bool is_lines;       /* REGEX_EMIT_LINES: only which lines match matters */
	bool is_invalid_text; /* REGEX_EMIT_INVALID_TEXT */
	bool is_left;        /* the node being emitted starts the pattern (nothing before it) */
	bool is_right;       /* ...ends it */
	/*
	 * For a pattern that would otherwise pass VECTORSCAN_MAX_LEN: large classes are written
	 * shorter, as a coarse superset for the lines database (verified, verify.h), as
	 * Vectorscan's general categories (\p{L}) for the ranges database, whose Unicode tables
	 * are older than ours (docs/exactness.md).
	 */
	bool is_compact;
	/*
	 * Set when a construct was written as something that matches more (nothing for an
	 * embedded anchor or a Unicode \b inside the pattern): regex_emit() returns
	 * REGEX_EMIT_VERIFY and the lines found go through the exact verifier (verify.h).
	 */
	bool is_superset;
	struct cset word;    /* Unicode \w, built on first use */
	struct cset nonword; /* its complement without '\n' */
};

static int put_byte(struct buf *out, unsigned c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return buf_putc(out, (char)c);
	return buf_printf(out, "\\x%02x", c);
}

/* A byte range as a single byte or a bracket. */
static int put_byte_range(struct buf *out, unsigned lo, unsigned hi)
{
	if (lo == hi)
		return put_byte(out, lo);
	return buf_printf(out, "[\\x%02x-\\x%02x]", lo, hi);
}

/*
 * Writes the UTF-8 byte sequences for [lo, hi] (same encoded length, no surrogates) as
 * '|'-separated alternatives, splitting until every byte position is one contiguous range
 * (the construction of Rust's utf8-ranges).
 */
static int put_utf8_range(struct buf *out, uint32_t lo, uint32_t hi, bool *is_first)
{
	uint8_t a[4], b[4];
	size_t n;
	int err;

	for (int i = 1; i < 4; i++) {
		uint32_t m = (1u << (6 * i)) - 1;

		if ((lo & ~m) != (hi & ~m)) {
			if ((lo & m) != 0) {
				if ((err = put_utf8_range(out, lo, lo | m, is_first)) < 0)
					return err;
				return put_utf8_range(out, (lo | m) + 1, hi, is_first);
			}
			if ((hi & m) != m) {
				if ((err = put_utf8_range(out, lo, (hi & ~m) - 1, is_first)) < 0)
					return err;
				return put_utf8_range(out, hi & ~m, hi, is_first);
			}
		}
	}
	n = utf8_encode(a, lo);
	utf8_encode(b, hi);
	if (!*is_first && (err = buf_putc(out, '|')) < 0)
		return err;
	*is_first = false;
	for (size_t i = 0; i < n; i++)
		if ((err = put_byte_range(out, a[i], b[i])) < 0)
			return err;
	return 0;
}

static const uint32_t utf8_len_bounds[][2] = {
	{ 0x80, 0x7ff }, { 0x800, 0xd7ff }, { 0xe000, 0xffff }, { 0x10000, 0x10ffff },
};

static int emit_class_bytes(struct emitter *e, const struct cset *s)
{
	bool is_first = true, has_ascii = false, has_multi = false;
	int err;

	for (size_t i = 0; i < s->n; i++) {
		has_ascii |= s->r[i].lo < 0x80;
		has_multi |= s->r[i].hi >= 0x80;
	}
	if (has_multi && (err = buf_puts(e->out, "(?:")) < 0)
		return err;
	if (has_ascii) {
		if ((err = buf_putc(e->out, '[')) < 0)
			return err;
		for (size_t i = 0; i < s->n && s->r[i].lo < 0x80; i++) {
			uint32_t hi = s->r[i].hi < 0x80 ? s->r[i].hi : 0x7f;

			if ((err = buf_printf(e->out, "\\x%02x-\\x%02x", s->r[i].lo, hi)) < 0)
				return err;
		}
		if ((err = buf_putc(e->out, ']')) < 0)
			return err;
		is_first = false;
	}
	for (size_t i = 0; i < s->n; i++) {
		for (size_t k = 0; k < 4; k++) {
			uint32_t lo = s->r[i].lo > utf8_len_bounds[k][0] ? s->r[i].lo
									 : utf8_len_bounds[k][0];
			uint32_t hi = s->r[i].hi < utf8_len_bounds[k][1] ? s->r[i].hi
									 : utf8_len_bounds[k][1];

			if (lo <= hi && (err = put_utf8_range(e->out, lo, hi, &is_first)) < 0)
				return err;
		}
	}
	return has_multi ? buf_putc(e->out, ')') : 0;
}

/* Whether every code point of general category cat lies in s (Cn: every unassigned one). */
static bool category_within(const struct cset *s, int cat, const struct cset *assigned)
{
	if (cat == 0) {
		/* Unassigned = the gaps between assigned ranges, and beyond. */
		uint32_t next = 0;

		for (size_t i = 0; i < assigned->n; i++) {
			if (assigned->r[i].lo > next) {
				struct cset gap = { &(struct crange){ next, assigned->r[i].lo - 1 }, 1, 1 };
				struct cset t;
				bool is_in;

				if (cset_copy(&t, &gap) < 0)
					return false;
				is_in = cset_subtract(&t, s) == 0 && t.n == 0;
				cset_dispose(&t);
				if (!is_in)
					return false;
			}
			next = assigned->r[i].hi + 1;
		}
		return next > UNICODE_MAX || cset_has(s, UNICODE_MAX);
	}
	/* Both lists are sorted: one merge-like pass. */
	size_t k = 0;

	for (size_t i = 0; i < unicode_n_cat_ranges; i++) {
		const struct unicode_cat_range *r = &unicode_cat_ranges[i];

		if (r->cat != cat)
			continue;
		while (k < s->n && s->r[k].hi < r->lo)
			k++;
		/* s is canonical: the range must sit inside one of its ranges. */
		if (k == s->n || s->r[k].lo > r->lo || r->hi > s->r[k].hi)
			return false;
	}
	return true;
}

/*
 * Writes the whole general categories that lie in s as \p{..} (which Vectorscan knows in UTF-8
 * mode without HS_FLAG_UCP) and removes them from rest, for emitter.is_compact. Vectorscan's
 * tables predate Unicode 8: code points assigned since are missed.
 */
static int put_categories(struct emitter *e, const struct cset *s, struct cset *rest)
{
	struct cset assigned, covered;
	uint32_t mask = 0;
	int err = 0;

	if (cset_count(s) < 2000)
		return 0; /* small classes are shorter written out */
	cset_init(&assigned);
	cset_init(&covered);
	for (size_t i = 0; i < unicode_n_cat_ranges && err == 0; i++)
		err = cset_add(&assigned, unicode_cat_ranges[i].lo, unicode_cat_ranges[i].hi);
	for (int cat = 0; cat < UNICODE_N_CATEGORIES && err == 0; cat++) {
		if (!category_within(s, cat, &assigned))
			continue;
		mask |= 1u << cat;
		err = buf_printf(e->out, "\\p{%s}", unicode_category_names[cat]);
	}
	/* One subtraction of everything covered (ranges arrive sorted: cset_add appends). */
	for (size_t i = 0; i < unicode_n_cat_ranges && err == 0; i++)
		if (mask & (1u << unicode_cat_ranges[i].cat))
			err = cset_add(&covered, unicode_cat_ranges[i].lo, unicode_cat_ranges[i].hi);
	if (err == 0 && (mask & 1u)) {
		struct cset un;

		if ((err = cset_copy(&un, &assigned)) == 0 && (err = cset_negate(&un)) == 0)
			err = cset_add_set(&covered, &un);
		cset_dispose(&un);
	}
	if (err == 0 && mask)
		err = cset_subtract(rest, &covered);
	cset_dispose(&covered);
	cset_dispose(&assigned);
	return err;
}

/*
 * A member of a UTF-8 class: an ASCII letter, digit or '_' as itself, other ASCII as \xHH, and
 * other code points as their UTF-8 bytes, the shortest spelling (Vectorscan limits a pattern to
 * VECTORSCAN_MAX_LEN bytes, and Unicode \w is about 750 ranges).
 */
static int put_class_cp(struct buf *out, uint32_t cp)
{
	uint8_t u[4];

	if (cp < 0x80)
		return put_byte(out, cp);
	return buf_put(out, u, utf8_encode(u, cp));
}

static int put_class_range(struct buf *out, uint32_t lo, uint32_t hi)
{
	int err;

	if ((err = put_class_cp(out, lo)) < 0 || lo == hi)
		return err;
	if (hi > lo + 1 && (err = buf_putc(out, '-')) < 0)
		return err;
	return put_class_cp(out, hi);
}

/*
 * Non-ASCII code points are rounded out to blocks of this many for a coarse class (a superset
 * that is exact on ASCII text), when the pattern written out exactly is too long.
 */
#define COARSE_BLOCK 0x1000u

static int emit_class_utf8(struct emitter *e, const struct cset *set);

/*
 * A large class of a lines pattern too long for Vectorscan: written as a superset whose
 * non-ASCII part is whole blocks of COARSE_BLOCK code points, a short class; the lines found
 * are verified (verify.h), where the class is exact.
 */
static int emit_class_coarse(struct emitter *e, const struct cset *set)
{
	struct cset coarse;
	int err = 0;

	cset_init(&coarse);
	for (size_t i = 0; i < set->n && err == 0; i++) {
		uint32_t lo = set->r[i].lo, hi = set->r[i].hi;

		if (hi >= 0x80) {
			lo = lo < 0x80 ? lo : lo & ~(COARSE_BLOCK - 1);
			lo = lo < 0x80 && set->r[i].lo >= 0x80 ? 0x80 : lo;
			hi = hi | (COARSE_BLOCK - 1);
		}
		err = cset_add(&coarse, lo, hi);
	}
	if (err == 0) {
		e->is_superset = true;
		e->is_compact = false;
		err = emit_class_utf8(e, &coarse);
		e->is_compact = true;
	}
	cset_dispose(&coarse);
	return err;
}

static int emit_class_utf8(struct emitter *e, const struct cset *set)
{
	struct cset rest;
	const struct cset *s = &rest;
	int err;

	struct cset base;

	if (e->is_compact && e->is_lines && cset_count(set) >= 2000)
		return emit_class_coarse(e, set);
	if ((err = cset_copy(&base, set)) < 0)
		return err;
	cset_init(&rest);
	/* [^x] is shorter as the complement: a negated class in UTF-8 mode never matches a byte. */
	if ((err = cset_negate(&base)) < 0 || (err = cset_remove(&base, 0xd800, 0xdfff)) < 0)
		goto out;
	if (base.n < set->n) {
		err = buf_puts(e->out, "[^");
	} else {
		cset_dispose(&base);
		if ((err = cset_copy(&base, set)) == 0)
			err = buf_putc(e->out, '[');
	}
	if (err < 0 || (err = cset_copy(&rest, &base)) < 0 ||
	    (e->is_compact && (err = put_categories(e, &base, &rest)) < 0))
		goto out;
	for (size_t i = 0; i < s->n; i++) {
		uint32_t lo = s->r[i].lo, hi = s->r[i].hi;

		/* Surrogates cannot occur in valid UTF-8; Vectorscan refuses them in classes. */
		if (lo <= 0xdfff && hi >= 0xd800) {
			if (lo < 0xd800 && (err = put_class_range(e->out, lo, 0xd7ff)) < 0)
				goto out;
			if (hi > 0xdfff && (err = put_class_range(e->out, 0xe000, hi)) < 0)
				goto out;
			continue;
		}
		if ((err = put_class_range(e->out, lo, hi)) < 0)
			goto out;
	}
	err = buf_putc(e->out, ']');
out:
	cset_dispose(&rest);
	cset_dispose(&base);
	return err;
}

/* Emits a set; sets *is_never when nothing of it can occur in the dialect's text. */
static int emit_set(struct emitter *e, const struct cset *s, bool *is_never)
{
	struct cset ascii;
	int err;

	if (e->d == REGEX_DIALECT_ASCII) {
		if ((err = cset_copy(&ascii, s)) < 0)
			return err;
		if ((err = cset_remove(&ascii, 0x80, UNICODE_MAX)) == 0) {
			if (ascii.n == 0)
				*is_never = true;
			else
				err = emit_class_bytes(e, &ascii);
		}
		cset_dispose(&ascii);
		return err;
	}
	if (s->n == 0) {
		*is_never = true;
		return 0;
	}
	if (e->d == REGEX_DIALECT_BYTES)
		return emit_class_bytes(e, s);
	return emit_class_utf8(e, s);
}

static int emit_literal(struct emitter *e, const struct re_node *n, bool *is_never)
{
	struct cset s;
	uint8_t u[4];
	size_t len;
	int err = 0;

	if (n->is_fold) {
		uint32_t c = n->cp;

		cset_init(&s);
		do {
			if ((err = cset_add(&s, c, c)) < 0)
				break;
			c = unicode_fold_next(c);
		} while (c != n->cp);
		if (err == 0)
			err = emit_set(e, &s, is_never);
		cset_dispose(&s);
		return err;
	}
	if (n->cp < 0x80)
		return put_byte(e->out, n->cp);
	if (e->d == REGEX_DIALECT_ASCII) {
		*is_never = true;
		return 0;
	}
	if (e->d == REGEX_DIALECT_UTF8)
		return buf_printf(e->out, "\\x{%x}", n->cp);
	len = utf8_encode(u, n->cp);
	for (size_t i = 0; i < len && err == 0; i++)
		err = put_byte(e->out, u[i]);
	return err;
}

static bool is_zero_width(const struct re_node *n)
{
	switch (n->op) {
	case RE_EMPTY: case RE_BOL: case RE_EOL: case RE_WORDB: case RE_NWORDB:
		return true;
	case RE_REPEAT:
		return n->max == 0 || is_zero_width(n->sub[0]);
	case RE_GROUP:
		return is_zero_width(n->sub[0]);
	case RE_CONCAT:
	case RE_ALT:
		for (size_t i = 0; i < n->n_sub; i++)
			if (!is_zero_width(n->sub[i]))
				return false;
		return true;
	default:
		return false;
	}
}

static int emit_node(struct emitter *e, const struct re_node *n, bool *is_never);
static int emit_concat(struct emitter *e, const struct re_node *n, bool *is_never);

static int emit_repeat(struct emitter *e, const struct re_node *n, bool *is_never)
{
	const struct re_node *x = n->sub[0];
	size_t mark = e->out->len;
	bool is_sub_never = false;
	int err;

	if (n->max == 0)
		return 0; /* x{0} matches the empty string */
	if (is_zero_width(x)) {
		/* Repeating an assertion changes nothing; x* and x? may skip it. */
		return n->min == 0 ? 0 : emit_node(e, x, is_never);
	}
	{
		bool is_left = e->is_left, is_right = e->is_right;

		if (n->max != 1)
			e->is_left = e->is_right = false; /* a repeated \b has text on both sides */
		err = buf_puts(e->out, "(?:");
		if (err == 0)
			err = emit_node(e, x, &is_sub_never);
		e->is_left = is_left;
		e->is_right = is_right;
		if (err < 0)
			return err;
	}
	if (is_sub_never) {
		e->out->len = mark;
		e->out->ptr[mark] = 0;
		*is_never = n->min > 0;
		return 0;
	}
	if ((err = buf_putc(e->out, ')')) < 0)
		return err;
	if (n->min == 0 && n->max == RE_INF)
		return buf_putc(e->out, '*');
	if (n->min == 1 && n->max == RE_INF)
		return buf_putc(e->out, '+');
	if (n->min == 0 && n->max == 1)
		return buf_putc(e->out, '?');
	if (n->max == RE_INF)
		return buf_printf(e->out, "{%d,}", n->min);
	if (n->min == n->max)
		return buf_printf(e->out, "{%d}", n->min);
	return buf_printf(e->out, "{%d,%d}", n->min, n->max);
}

static int emit_alt(struct emitter *e, const struct re_node *n, bool *is_never)
{
	size_t open = e->out->len;
	size_t n_live = 0;
	int err;

	if ((err = buf_puts(e->out, "(?:")) < 0)
		return err;
	for (size_t i = 0; i < n->n_sub; i++) {
		size_t mark = e->out->len;
		bool is_branch_never = false;

		if (n_live > 0 && (err = buf_putc(e->out, '|')) < 0)
			return err;
		if ((err = emit_node(e, n->sub[i], &is_branch_never)) < 0)
			return err;
		if (is_branch_never) {
			e->out->len = mark;
			e->out->ptr[mark] = 0;
		} else {
			n_live++;
		}
	}
	if (n_live == 0) {
		e->out->len = open;
		e->out->ptr[open] = 0;
		*is_never = true;
		return 0;
	}
	return buf_putc(e->out, ')');
}

/*
 * Emits only the part of n that matches the empty string: what can sit after a `$` or before a
 * `^` in a line-oriented pattern (Vectorscan refuses "embedded" anchors, and no character can
 * follow the end of a line anyway).
 */
static int emit_empty_only(struct emitter *e, const struct re_node *n, bool *is_never)
{
	size_t mark = e->out->len;
	size_t n_live = 0;
	int err;

	switch (n->op) {
	case RE_LIT:
	case RE_CLASS:
		*is_never = true;
		return 0;
	case RE_GROUP:
		return emit_empty_only(e, n->sub[0], is_never);
	case RE_REPEAT:
		return n->min == 0 ? 0 : emit_empty_only(e, n->sub[0], is_never);
	case RE_CONCAT:
		for (size_t i = 0; i < n->n_sub && !*is_never; i++)
			if ((err = emit_empty_only(e, n->sub[i], is_never)) < 0)
				return err;
		return 0;
	case RE_ALT:
		if ((err = buf_puts(e->out, "(?:")) < 0)
			return err;
		for (size_t i = 0; i < n->n_sub; i++) {
			size_t branch = e->out->len;
			bool is_branch_never = false;

			if (n_live > 0 && (err = buf_putc(e->out, '|')) < 0)
				return err;
			if ((err = emit_empty_only(e, n->sub[i], &is_branch_never)) < 0)
				return err;
			if (is_branch_never) {
				e->out->len = branch;
				e->out->ptr[branch] = 0;
			} else {
				n_live++;
			}
		}
		if (n_live == 0) {
			e->out->len = mark;
			e->out->ptr[mark] = 0;
			*is_never = true;
			return 0;
		}
		return buf_putc(e->out, ')');
	default:
		return emit_node(e, n, is_never);
	}
}

/* Whether n is a line anchor of kind op, possibly inside groups. */
static bool is_anchor(const struct re_node *n, enum re_op op)
{
	while (n->op == RE_GROUP)
		n = n->sub[0];
	return n->op == op && !n->is_embedded;
}

/*
 * A Unicode \b or \B that the lines database cannot express exactly (Vectorscan's \b is
 * ASCII), or an anchor it cannot place: written as nothing, a superset of the lines; the lines
 * it finds are verified (verify.h). Where ranges are taken from the pattern it stays as before.
 */
static bool relaxes(const struct emitter *e, const struct re_node *n)
{
	if (!e->is_lines)
		return false;
	if (n->op == RE_BOL || n->op == RE_EOL)
		return n->is_embedded;
	return !n->is_ascii && e->d != REGEX_DIALECT_ASCII;
}

/* The characters a match of nodes[0..n) can start (is_last: end) with; false if it can be empty. */
static bool seq_edge_chars(struct cset *out, struct re_node *const *nodes, size_t n, bool is_last);

static bool node_edge_chars(struct cset *out, const struct re_node *n, bool is_last,
			    bool *is_nullable)
{
	uint32_t c;

	*is_nullable = false;
	switch (n->op) {
	case RE_LIT:
		c = n->cp;
		do {
			if (cset_add(out, c, c) < 0)
				return false;
			c = n->is_fold ? unicode_fold_next(c) : n->cp;
		} while (c != n->cp);
		return true;
	case RE_CLASS:
		return cset_add_set(out, &n->cls) == 0;
	case RE_GROUP:
		return node_edge_chars(out, n->sub[0], is_last, is_nullable);
	case RE_REPEAT:
		if (n->max == 0) {
			*is_nullable = true;
			return true;
		}
		if (!node_edge_chars(out, n->sub[0], is_last, is_nullable))
			return false;
		*is_nullable = *is_nullable || n->min == 0;
		return true;
	case RE_ALT:
		for (size_t i = 0; i < n->n_sub; i++) {
			bool is_sub_nullable;

			if (!node_edge_chars(out, n->sub[i], is_last, &is_sub_nullable))
				return false;
			*is_nullable = *is_nullable || is_sub_nullable;
		}
		return true;
	case RE_CONCAT:
		*is_nullable = !seq_edge_chars(out, n->sub, n->n_sub, is_last);
		return true;
	default:
		*is_nullable = true; /* empty, or an assertion: look further */
		return true;
	}
}

static bool seq_edge_chars(struct cset *out, struct re_node *const *nodes, size_t n, bool is_last)
{
	for (size_t k = 0; k < n; k++) {
		bool is_nullable;

		if (!node_edge_chars(out, nodes[is_last ? n - 1 - k : k], is_last, &is_nullable))
			return false;
		if (!is_nullable)
			return true;
	}
	return false;
}

/*
 * \b or \B at an edge of the pattern, for the UTF-8 lines database: Vectorscan's \b only knows
 * ASCII word characters (it refuses \b with HS_FLAG_UCP). When the characters on the inner side
 * are all word characters, or none is, the boundary only depends on the outer neighbour, which
 * the pattern may consume because nothing else of the pattern lies there:
 *   \bX with X starting with a word character  ->  (?:^|\W)X
 *   \bX with X starting with a non-word one     ->  \wX
 * and likewise at the end and for \B. Which lines match is then exactly ripgrep's (Unicode
 * \b); only match ranges would include the neighbour, so the ranges database keeps \b.
 */
static int emit_edge_boundary(struct emitter *e, const struct re_node *cat, size_t i,
			      bool *is_never)
{
	const struct re_node *b = cat->sub[i];
	bool is_leading = e->is_left && i == 0 && i + 1 < cat->n_sub;
	bool is_trailing = e->is_right && i + 1 == cat->n_sub && i > 0;
	struct cset edge, t;
	bool is_word, is_nonword, is_known, want_word;
	int err;

	if (!e->is_lines || e->d != REGEX_DIALECT_UTF8 || e->is_invalid_text ||
	    is_leading == is_trailing || b->is_ascii)
		return emit_node(e, b, is_never); /* Vectorscan's own \b is the ASCII one */
	if (e->word.n == 0) {
		if ((err = cset_add_perl(&e->word, 'w', true)) < 0 ||
		    (err = cset_copy(&e->nonword, &e->word)) < 0 ||
		    (err = cset_negate(&e->nonword)) < 0 || (err = cset_remove(&e->nonword, '\n', '\n')) < 0)
			return err;
	}
	cset_init(&edge);
	is_known = is_leading ? seq_edge_chars(&edge, cat->sub + 1, cat->n_sub - 1, false)
			      : seq_edge_chars(&edge, cat->sub, i, true);
	is_word = is_nonword = false;
	if (is_known && cset_copy(&t, &edge) == 0) {
		if (cset_subtract(&t, &e->word) == 0)
			is_word = t.n == 0; /* every edge character is a word character */
		cset_dispose(&t);
		if (cset_copy(&t, &edge) == 0) {
			if (cset_intersect(&t, &e->word) == 0)
				is_nonword = t.n == 0;
			cset_dispose(&t);
		}
	}
	cset_dispose(&edge);
	if (!is_word && !is_nonword)
		return emit_node(e, b, is_never);
	/* \b wants the outer neighbour to differ from the inner side; \B wants it the same. */
	want_word = (b->op == RE_WORDB) ? is_nonword : is_word;
	if (want_word)
		return emit_set(e, &e->word, is_never);
	if ((err = buf_puts(e->out, is_leading ? "(?:^|" : "(?:")) < 0 ||
	    (err = emit_set(e, &e->nonword, is_never)) < 0)
		return err;
	return buf_puts(e->out, is_leading ? ")" : "|$)");
}

static int emit_concat(struct emitter *e, const struct re_node *n, bool *is_never)
{
	size_t first = 0, last = n->n_sub; /* elements outside [first, last) match empty only */
	int err;

	for (size_t i = 0; i < n->n_sub; i++) {
		if (is_anchor(n->sub[i], RE_BOL))
			first = i;
		if (is_anchor(n->sub[i], RE_EOL) && last == n->n_sub)
			last = i + 1;
	}
	if (first >= last) {
		/* `$...^`: only an empty line between; keep it simple and exact. */
		first = 0;
		last = n->n_sub;
	}
	bool is_left = e->is_left, is_right = e->is_right;

	for (size_t i = 0; i < n->n_sub && !*is_never; i++) {
		e->is_left = is_left && i == 0;
		e->is_right = is_right && i + 1 == n->n_sub;
		if (i < first || i >= last)
			err = emit_empty_only(e, n->sub[i], is_never);
		else if ((n->sub[i]->op == RE_WORDB || n->sub[i]->op == RE_NWORDB) &&
			 (e->is_left || e->is_right))
			err = emit_edge_boundary(e, n, i, is_never);
		else
			err = emit_node(e, n->sub[i], is_never);
		if (err < 0)
			return err;
	}
	e->is_left = is_left;
	e->is_right = is_right;
	return 0;
}

static int emit_node(struct emitter *e, const struct re_node *n, bool *is_never)
{
	int err;

	if ((n->op == RE_BOL || n->op == RE_EOL || n->op == RE_WORDB || n->op == RE_NWORDB) &&
	    relaxes(e, n) && !(n->op == RE_WORDB && e->is_left && e->is_right &&
			       e->d == REGEX_DIALECT_UTF8)) {
		e->is_superset = true;
		return 0;
	}
	switch (n->op) {
	case RE_EMPTY:
		return 0;
	case RE_LIT:
		return emit_literal(e, n, is_never);
	case RE_CLASS:
		return emit_set(e, &n->cls, is_never);
	case RE_BOL:
		return buf_putc(e->out, '^');
	case RE_EOL:
		return buf_putc(e->out, '$');
	case RE_WORDB:
		if (e->is_lines && e->d == REGEX_DIALECT_UTF8 && e->is_left && e->is_right &&
		    !n->is_ascii) {
			/* A lone \b: lines with a word character have a boundary, others none. */
			struct cset w;

			cset_init(&w);
			err = cset_add_perl(&w, 'w', true);
			if (err == 0)
				err = emit_set(e, &w, is_never);
			cset_dispose(&w);
			return err;
		}
		return buf_puts(e->out, "\\b");
	case RE_NWORDB:
		return buf_puts(e->out, "\\B");
	case RE_GROUP:
		if ((err = buf_puts(e->out, "(?:")) < 0 || (err = emit_node(e, n->sub[0], is_never)) < 0)
			return err;
		return buf_putc(e->out, ')');
	case RE_CONCAT:
		return emit_concat(e, n, is_never);
	case RE_ALT:
		return emit_alt(e, n, is_never);
	case RE_REPEAT:
		return emit_repeat(e, n, is_never);
	}
	return 0;
}

int regex_emit(struct buf *out, unsigned *hs_flags, const struct regex *re, enum regex_dialect d,
	       unsigned mode)
{
	struct emitter e = { .out = out, .d = d, .is_lines = mode & REGEX_EMIT_LINES,
			     .is_invalid_text = mode & REGEX_EMIT_INVALID_TEXT,
			     .is_left = true, .is_right = true };
	const struct re_node *root = e.is_lines ? regex_lines_root(re) : re->root;
	bool is_never = false;
	int err;

	buf_reset(out);
	if (!e.is_lines && re->lines_root) {
		/* root is over REGEX_MAX_EXPANDED: only its lines reduction is ever compiled. */
		error_set("pattern too large to compute match ranges (the limit is %d characters)",
			  REGEX_MAX_EXPANDED);
		return TRAWL_ELIMIT;
	}
	err = buf_reserve(out, 1);
	if (err == 0)
		err = emit_node(&e, root, &is_never);
	if (err == 0 && !is_never && d == REGEX_DIALECT_UTF8 && out->len > VECTORSCAN_MAX_LEN) {
		buf_reset(out);
		e.is_compact = true;
		e.is_superset = false;
		err = emit_node(&e, root, &is_never);
	}
	cset_dispose(&e.word);
	cset_dispose(&e.nonword);
	if (err < 0)
		return err;
	if (is_never) {
		buf_reset(out);
		*hs_flags = 0;
		return REGEX_EMIT_NEVER;
	}

	if (out->len == 0 && (err = buf_puts(out, "(?:)")) < 0)
		return err;
	*hs_flags = HS_FLAG_MULTILINE;
	if (re_node_nullable(root))
		*hs_flags |= HS_FLAG_ALLOWEMPTY;
	if (d == REGEX_DIALECT_UTF8)
		*hs_flags |= HS_FLAG_UTF8;
	/*
	 * On text with invalid UTF-8, Vectorscan's UTF-8 mode reads an encoded surrogate or a
	 * code point above U+10FFFF as a character that classes may match, where ripgrep matches
	 * nothing: the lines it finds are a superset.
	 */
	if (e.is_lines && e.is_invalid_text)
		e.is_superset = true;
	return e.is_superset ? REGEX_EMIT_VERIFY : 0;
}
