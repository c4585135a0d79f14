/*
 * The exact line verifier; see verify.h for what it is for and its design.
 */
#include "regex/verify.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "regex/regex_int.h"
#include "regex/unicode.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/utf8.h"

enum inst_op {
	I_CHAR,   /* one code point, cp */
	I_SET,    /* one code point of *set */
	I_SPLIT,  /* go on at x and at y */
	I_JMP,    /* go on at x */
	I_ASSERT, /* go on at the next instruction when assertion `what` holds */
	I_MATCH,
};

enum assertion { A_BOL, A_EOL, A_WORDB, A_NWORDB, A_WORDB_ASCII, A_NWORDB_ASCII };

struct inst {
	uint8_t op;
	uint8_t what;  /* enum assertion */
	uint32_t x, y; /* targets */
	uint32_t cp;
	const struct cset *set;
};

struct verifier {
	struct inst *prog;
	size_t n, cap;
	struct cset *folds; /* case orbits of folded literals, owned */
	size_t n_folds;
	struct cset word;   /* Unicode \w */
};

/* A character that is not valid UTF-8: nothing matches it and it is no word character. */
#define NOT_A_CHAR UINT32_MAX

static int emit(struct verifier *v, struct inst in, uint32_t *at)
{
	int err;

	if (v->n >= VERIFY_MAX_INSTS) {
		error_set("pattern too large for the exact line verifier (more than %u states)",
			  VERIFY_MAX_INSTS);
		return TRAWL_ELIMIT;
	}
	if ((err = ARRAY_GROW(&v->prog, &v->cap, v->n + 1)) < 0)
		return err;
	if (at)
		*at = (uint32_t)v->n;
	v->prog[v->n++] = in;
	return 0;
}

/* Whether n can consume a character (else it only ever matches the empty string). */
static bool consumes(const struct re_node *n)
{
	switch (n->op) {
	case RE_LIT:
	case RE_CLASS:
		return true;
	case RE_REPEAT:
		return n->max != 0 && consumes(n->sub[0]);
	default:
		for (size_t i = 0; i < n->n_sub; i++)
			if (consumes(n->sub[i]))
				return true;
		return false;
	}
}

static int compile(struct verifier *v, const struct re_node *n);

static int compile_literal(struct verifier *v, const struct re_node *n)
{
	struct cset *f;
	uint32_t c = n->cp;
	int err = 0;

	if (!n->is_fold)
		return emit(v, (struct inst){ .op = I_CHAR, .cp = n->cp }, NULL);
	f = realloc(v->folds, (v->n_folds + 1) * sizeof(*f));
	if (!f)
		return error_nomem(NULL);
	v->folds = f;
	f = &v->folds[v->n_folds++];
	cset_init(f);
	do {
		err = cset_add(f, c, c);
		c = unicode_fold_next(c);
	} while (err == 0 && c != n->cp);
	/* The orbits may still move (realloc): the instruction names its orbit by index for now. */
	if (err < 0)
		return err;
	return emit(v, (struct inst){ .op = I_SET, .cp = (uint32_t)(v->n_folds - 1) }, NULL);
}

static int compile_alt(struct verifier *v, const struct re_node *n)
{
	uint32_t *jumps = calloc(n->n_sub, sizeof(*jumps));
	int err = 0;

	if (!jumps)
		return error_nomem(NULL);
	for (size_t i = 0; i < n->n_sub && err == 0; i++) {
		uint32_t split = 0;

		if (i + 1 < n->n_sub && (err = emit(v, (struct inst){ .op = I_SPLIT }, &split)) < 0)
			break;
		if (i + 1 < n->n_sub)
			v->prog[split].x = split + 1;
		if ((err = compile(v, n->sub[i])) < 0)
			break;
		if (i + 1 < n->n_sub) {
			if ((err = emit(v, (struct inst){ .op = I_JMP }, &jumps[i])) < 0)
				break;
			v->prog[split].y = (uint32_t)v->n;
		}
	}
	for (size_t i = 0; i + 1 < n->n_sub && err == 0; i++)
		v->prog[jumps[i]].x = (uint32_t)v->n;
	free(jumps);
	return err;
}

static int compile_repeat(struct verifier *v, const struct re_node *n)
{
	const struct re_node *x = n->sub[0];
	uint32_t split;
	int err;

	if (n->max == 0)
		return 0;
	if (!consumes(x)) {
		/* Repeating what matches empty changes nothing; x? may always skip it. */
		return n->min == 0 ? 0 : compile(v, x);
	}
	for (int i = 0; i < n->min; i++)
		if ((err = compile(v, x)) < 0)
			return err;
	if (n->max == RE_INF) {
		if ((err = emit(v, (struct inst){ .op = I_SPLIT }, &split)) < 0 ||
		    (err = compile(v, x)) < 0 ||
		    (err = emit(v, (struct inst){ .op = I_JMP, .x = split }, NULL)) < 0)
			return err;
		v->prog[split].x = split + 1;
		v->prog[split].y = (uint32_t)v->n;
		return 0;
	}
	/* x{m,n}: n - m optional copies, each one's split skipping to the end of them all. */
	{
		size_t n_opt = (size_t)(n->max - n->min);
		uint32_t *splits = calloc(n_opt, sizeof(*splits));

		if (!splits)
			return error_nomem(NULL);
		err = 0;
		for (size_t i = 0; i < n_opt && err == 0; i++)
			if ((err = emit(v, (struct inst){ .op = I_SPLIT }, &splits[i])) == 0)
				err = compile(v, x);
		for (size_t i = 0; i < n_opt && err == 0; i++) {
			v->prog[splits[i]].x = splits[i] + 1;
			v->prog[splits[i]].y = (uint32_t)v->n;
		}
		free(splits);
		return err;
	}
}

static enum assertion assertion_of(const struct re_node *n)
{
	switch (n->op) {
	case RE_BOL: return A_BOL;
	case RE_EOL: return A_EOL;
	case RE_WORDB: return n->is_ascii ? A_WORDB_ASCII : A_WORDB;
	default: return n->is_ascii ? A_NWORDB_ASCII : A_NWORDB;
	}
}

static int compile(struct verifier *v, const struct re_node *n)
{
	int err;

	switch (n->op) {
	case RE_EMPTY:
		return 0;
	case RE_LIT:
		return compile_literal(v, n);
	case RE_CLASS:
		return emit(v, (struct inst){ .op = I_SET, .set = &n->cls }, NULL);
	case RE_BOL:
	case RE_EOL:
	case RE_WORDB:
	case RE_NWORDB:
		return emit(v, (struct inst){ .op = I_ASSERT, .what = (uint8_t)assertion_of(n) }, NULL);
	case RE_GROUP:
		return compile(v, n->sub[0]);
	case RE_CONCAT:
		for (size_t i = 0; i < n->n_sub; i++)
			if ((err = compile(v, n->sub[i])) < 0)
				return err;
		return 0;
	case RE_ALT:
		return compile_alt(v, n);
	case RE_REPEAT:
		return compile_repeat(v, n);
	}
	return 0;
}

void verifier_free(struct verifier *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_folds; i++)
		cset_dispose(&v->folds[i]);
	free(v->folds);
	cset_dispose(&v->word);
	free(v->prog);
	free(v);
}

int verifier_new(struct verifier **out, const struct regex *re)
{
	struct verifier *v;
	int err;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return error_nomem(NULL);
	cset_init(&v->word);
	if ((err = cset_add_perl(&v->word, 'w', true)) < 0 || (err = compile(v, regex_lines_root(re))) < 0 ||
	    (err = emit(v, (struct inst){ .op = I_MATCH }, NULL)) < 0) {
		verifier_free(v);
		return err;
	}
	/* Folded literals point at their orbit now that the orbits no longer move. */
	for (size_t i = 0; i < v->n; i++)
		if (v->prog[i].op == I_SET && !v->prog[i].set)
			v->prog[i].set = &v->folds[v->prog[i].cp];
	*out = v;
	return 0;
}

static bool is_ascii_word(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

/* What the assertions see at one position: its ends and the characters on both sides. */
struct context {
	bool is_bol, is_eol;
	bool is_word_before, is_word_after;             /* Unicode */
	bool is_ascii_word_before, is_ascii_word_after; /* (?-u) */
};

static bool holds(enum assertion a, const struct context *c)
{
	switch (a) {
	case A_BOL: return c->is_bol;
	case A_EOL: return c->is_eol;
	case A_WORDB: return c->is_word_before != c->is_word_after;
	case A_NWORDB: return c->is_word_before == c->is_word_after;
	case A_WORDB_ASCII: return c->is_ascii_word_before != c->is_ascii_word_after;
	default: return c->is_ascii_word_before == c->is_ascii_word_after;
	}
}

/* A set of program positions with O(1) insertion, membership and clearing. */
struct pcset {
	uint32_t *dense, *sparse;
	size_t n;
};

static bool pcset_has(const struct pcset *s, uint32_t pc)
{
	return s->sparse[pc] < s->n && s->dense[s->sparse[pc]] == pc;
}

/*
 * Adds pc and everything reachable from it without consuming a character at this position to
 * s (the epsilon closure). Returns true when the match instruction is reached.
 */
static bool add_closure(const struct verifier *v, struct pcset *s, uint32_t *stack, uint32_t pc,
			const struct context *c)
{
	size_t top = 0;
	bool is_match = false;

	stack[top++] = pc;
	while (top > 0) {
		const struct inst *in;

		pc = stack[--top];
		if (pcset_has(s, pc))
			continue;
		s->sparse[pc] = (uint32_t)s->n;
		s->dense[s->n++] = pc;
		in = &v->prog[pc];
		switch (in->op) {
		case I_JMP:
			stack[top++] = in->x;
			break;
		case I_SPLIT:
			stack[top++] = in->y;
			stack[top++] = in->x;
			break;
		case I_ASSERT:
			if (holds((enum assertion)in->what, c))
				stack[top++] = pc + 1;
			break;
		case I_MATCH:
			is_match = true;
			break;
		default:
			break;
		}
	}
	return is_match;
}

static bool inst_takes(const struct inst *in, uint32_t ch)
{
	if (in->op == I_CHAR)
		return in->cp == ch;
	return in->op == I_SET && ch != NOT_A_CHAR && cset_has(in->set, ch);
}

/* Steps of (positions times states) between two looks at the clock. */
#define VERIFY_CLOCK_STEPS (1u << 20)

int verify_line(const struct verifier *v, const uint8_t *line, size_t len, double deadline_ms)
{
	size_t steps = 0;
	/* A closure pushes at most two entries for each instruction it adds. */
	uint32_t *mem = malloc((v->n * 5 + 1) * sizeof(*mem));
	struct pcset set;
	uint32_t *pending, *stack;
	size_t n_pending = 0, pos = 0, clen = 0;
	struct context c = { .is_bol = true };
	int found = 0;

	if (!mem)
		return error_nomem(NULL);
	/* sparse[] may hold anything: membership checks dense[] too. */
	set = (struct pcset){ .dense = mem, .sparse = mem + v->n };
	pending = mem + 2 * v->n;
	stack = mem + 3 * v->n;
	memset(set.sparse, 0, v->n * sizeof(*mem));
	for (;;) {
		uint32_t ch = NOT_A_CHAR;

		/* An invalid byte is read alone, as a character nothing matches. */
		if (pos < len && (clen = utf8_decode(&ch, line + pos, len - pos)) == 0)
			clen = 1;

		c.is_eol = pos == len;
		c.is_word_after = ch != NOT_A_CHAR && cset_has(&v->word, ch);
		c.is_ascii_word_after = is_ascii_word(ch);
		/* The threads that consumed the previous character, then a match starting here. */
		set.n = 0;
		for (size_t i = 0; i < n_pending && !found; i++)
			found = add_closure(v, &set, stack, pending[i], &c);
		if (!found)
			found = add_closure(v, &set, stack, 0, &c);
		if (found || pos == len)
			break;
		n_pending = 0;
		for (size_t i = 0; i < set.n; i++)
			if (inst_takes(&v->prog[set.dense[i]], ch))
				pending[n_pending++] = set.dense[i] + 1;
		pos += clen;
		steps += set.n + 1;
		if (deadline_ms > 0 && steps >= VERIFY_CLOCK_STEPS) {
			steps = 0;
			if (clock_now_ms() >= deadline_ms) {
				error_set("the query's timeout ran out while verifying a line");
				found = TRAWL_ETIMEOUT;
				break;
			}
		}
		c.is_bol = false;
		c.is_word_before = c.is_word_after;
		c.is_ascii_word_before = c.is_ascii_word_after;
	}
	free(mem);
	return found;
}
