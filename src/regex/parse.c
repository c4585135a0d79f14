/*
 * The regex parser: RE2 syntax as ripgrep (Rust's regex crate) accepts it, into the AST of
 * regex_int.h. docs/regex.md lists the syntax and every deliberate difference.
 *
 * DESIGN: recursive descent with an explicit depth bound, so an untrusted pattern cannot exhaust
 * the stack; every node is counted against REGEX_MAX_NODES. Case folding, negation and the
 * removal of '\n' are applied to character classes here, so the emitter and the planner see only
 * plain sets. Errors carry the byte position of the offending construct.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex/regex_int.h"
#include "regex/unicode.h"
#include "util/array.h"
#include "util/error.h"
#include "util/hex.h"
#include "util/utf8.h"
#include "util/utf8enc.h"

enum {
	F_ICASE = 1u << 0,   /* i */
	F_MULTI = 1u << 1,   /* m: accepted; ^ and $ are line anchors anyway */
	F_DOTNL = 1u << 2,   /* s: accepted; no match spans lines anyway */
	F_UNGREEDY = 1u << 3, /* U: accepted; greed does not change which lines match */
	F_UNICODE = 1u << 4, /* u */
	F_VERBOSE = 1u << 5, /* x */
};

struct parser {
	const char *p;
	size_t len;
	size_t pos;
	unsigned flags;
	int depth;
	struct regex *re;
	char **names; /* capture group names, for duplicate detection */
	size_t n_names;
};

static int fail(size_t pos, int code, const char *msg)
{
	error_set_at(pos, "%s", msg);
	return code;
}

static int new_node(struct re_node **out, struct parser *ps, enum re_op op, size_t pos)
{
	struct regex *re = ps->re;
	struct re_node *n;

	*out = NULL;
	if (re->n_nodes >= REGEX_MAX_NODES)
		return fail(pos, TRAWL_ELIMIT, "pattern too complex (more than 10000 elements)");
	if (ARRAY_GROW(&re->nodes, &re->cap_nodes, re->n_nodes + 1) < 0)
		return fail(pos, TRAWL_ENOMEM, "out of memory");
	n = calloc(1, sizeof(*n));
	if (!n)
		return fail(pos, TRAWL_ENOMEM, "out of memory");
	n->op = op;
	n->pos = pos;
	re->nodes[re->n_nodes++] = n;
	*out = n;
	return 0;
}

static int add_sub(struct re_node *n, struct re_node *sub)
{
	struct re_node **v;

	if ((n->n_sub & (n->n_sub - 1)) == 0) { /* grow at powers of two */
		v = realloc(n->sub, (n->n_sub ? n->n_sub * 2 : 1) * sizeof(*v));
		if (!v)
			return error_nomem(NULL);
		n->sub = v;
	}
	n->sub[n->n_sub++] = sub;
	return 0;
}

static bool at_end(const struct parser *ps)
{
	return ps->pos >= ps->len;
}

static int peek(const struct parser *ps)
{
	return at_end(ps) ? -1 : (unsigned char)ps->p[ps->pos];
}

/* In verbose mode (?x), whitespace and #-comments between elements are ignored. */
static void skip_verbose(struct parser *ps)
{
	if (!(ps->flags & F_VERBOSE))
		return;
	while (!at_end(ps)) {
		char c = ps->p[ps->pos];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			ps->pos++;
		} else if (c == '#') {
			while (!at_end(ps) && ps->p[ps->pos] != '\n')
				ps->pos++;
		} else {
			break;
		}
	}
}

/* Decodes one UTF-8 scalar value at ps->pos. EINVAL for invalid UTF-8. */
static int next_cp(uint32_t *cp, struct parser *ps)
{
	size_t n = utf8_decode(cp, (const uint8_t *)ps->p + ps->pos, ps->len - ps->pos);

	if (n == 0)
		return fail(ps->pos, TRAWL_EINVAL, "pattern is not valid UTF-8");
	ps->pos += n;
	return 0;
}

/* \xHH, \x{H..}, \uHHHH, \u{H..}, \UHHHHHHHH, \U{H..}; ps->pos is after the letter. */
static int parse_hex(uint32_t *cp, struct parser *ps, size_t esc_pos, int digits)
{
	uint64_t v = 0;
	size_t start;

	if (at_end(ps))
		return fail(esc_pos, TRAWL_EINVAL,
			    "incomplete escape sequence, reached end of pattern prematurely");
	if (peek(ps) == '{') {
		ps->pos++;
		start = ps->pos;
		while (!at_end(ps) && peek(ps) != '}') {
			int h = hex_digit(peek(ps));

			if (h < 0)
				return fail(ps->pos, TRAWL_EINVAL, "invalid hexadecimal digit");
			if (ps->pos - start >= 8)
				return fail(start, TRAWL_EINVAL,
					    "hexadecimal literal is not a Unicode scalar value");
			v = v * 16 + (uint64_t)h;
			ps->pos++;
		}
		if (at_end(ps))
			return fail(esc_pos, TRAWL_EINVAL, "unclosed hexadecimal literal");
		if (ps->pos == start)
			return fail(start, TRAWL_EINVAL, "empty hexadecimal literal");
		ps->pos++;
	} else {
		start = ps->pos;
		for (int i = 0; i < digits; i++) {
			int h = at_end(ps) ? -1 : hex_digit(peek(ps));

			if (h < 0)
				return fail(at_end(ps) ? esc_pos : ps->pos, TRAWL_EINVAL,
					    at_end(ps) ? "incomplete escape sequence, reached end of "
							 "pattern prematurely"
						       : "invalid hexadecimal digit");
			v = v * 16 + (uint64_t)h;
			ps->pos++;
		}
	}
	if (v > UNICODE_MAX || (v >= 0xd800 && v <= 0xdfff))
		return fail(start, TRAWL_EINVAL, "hexadecimal literal is not a Unicode scalar value");
	if (v > 0x7f && !(ps->flags & F_UNICODE))
		return fail(esc_pos, TRAWL_EUNSUPPORTED,
			    "raw bytes above \\x7F with Unicode disabled ((?-u)) are not supported");
	*cp = (uint32_t)v;
	return 0;
}

static bool is_meta(int c)
{
	return c > 0 && strchr("\\.+*?()|[]{}^$#&-~", c) != NULL;
}

/* \p{..}, \pL, \P{..}, \p{^..}; ps->pos is after 'p' or 'P'. */
static int parse_property(struct cset *out, struct parser *ps, size_t esc_pos, bool is_neg)
{
	const char *name;
	size_t n;
	int err;

	if (at_end(ps))
		return fail(esc_pos, TRAWL_EINVAL,
			    "incomplete escape sequence, reached end of pattern prematurely");
	if (peek(ps) == '{') {
		const char *end = memchr(ps->p + ps->pos, '}', ps->len - ps->pos);

		if (!end)
			return fail(esc_pos, TRAWL_EINVAL,
				    "incomplete escape sequence, reached end of pattern prematurely");
		name = ps->p + ps->pos + 1;
		n = (size_t)(end - name);
		ps->pos = (size_t)(end - ps->p) + 1;
		if (n > 0 && name[0] == '^') {
			is_neg = !is_neg;
			name++;
			n--;
		}
	} else {
		name = ps->p + ps->pos;
		n = 1;
		ps->pos++;
	}
	cset_init(out);
	err = cset_add_property(out, name, n);
	if (err == TRAWL_ENOTFOUND) {
		cset_dispose(out);
		return fail(esc_pos, TRAWL_EINVAL, "Unicode property not found");
	}
	/* Rust's order: (?i) folds the property's set, then \P or ^ negates it. */
	if (err == 0 && (ps->flags & F_ICASE))
		err = cset_fold(out);
	if (err == 0 && is_neg)
		err = cset_negate(out);
	if (err < 0)
		cset_dispose(out);
	return err;
}

/* A Perl class \d \s \w or its negation \D \S \W into out. */
static int perl_class(struct cset *out, const struct parser *ps, char c)
{
	char lower = (char)(c | 0x20);
	int err;

	cset_init(out);
	if ((err = cset_add_perl(out, lower, ps->flags & F_UNICODE)) < 0 ||
	    (c != lower && (err = cset_negate(out)) < 0))
		cset_dispose(out);
	return err;
}

/*
 * An escape that stands for one character or a class (valid inside and outside brackets).
 * Returns 1 and fills *cp for a character, 2 and fills *cls for a class, 0 when the escape is
 * not of that kind (ps->pos unchanged), or an error.
 */
static int parse_char_escape(uint32_t *cp, struct cset *cls, struct parser *ps)
{
	size_t esc_pos = ps->pos;
	int c, err;

	ps->pos++; /* the backslash */
	if (at_end(ps))
		return fail(esc_pos, TRAWL_EINVAL,
			    "incomplete escape sequence, reached end of pattern prematurely");
	c = peek(ps);
	ps->pos++;
	switch (c) {
	case 'a': *cp = 0x07; return 1;
	case 'f': *cp = 0x0c; return 1;
	case 't': *cp = '\t'; return 1;
	case 'n': *cp = '\n'; return 1;
	case 'r': *cp = '\r'; return 1;
	case 'v': *cp = 0x0b; return 1;
	case 'x': return (err = parse_hex(cp, ps, esc_pos, 2)) < 0 ? err : 1;
	case 'u': return (err = parse_hex(cp, ps, esc_pos, 4)) < 0 ? err : 1;
	case 'U': return (err = parse_hex(cp, ps, esc_pos, 8)) < 0 ? err : 1;
	case 'd': case 'D': case 's': case 'S': case 'w': case 'W':
		return (err = perl_class(cls, ps, (char)c)) < 0 ? err : 2;
	case 'p': case 'P':
		return (err = parse_property(cls, ps, esc_pos, c == 'P')) < 0 ? err : 2;
	default:
		break;
	}
	if (c >= '0' && c <= '9')
		return fail(esc_pos, TRAWL_EUNSUPPORTED,
			    "backreferences are not supported (no linear-time engine can do them)");
	if (is_meta(c) || (c == ' ' && (ps->flags & F_VERBOSE))) {
		*cp = (uint32_t)c;
		return 1;
	}
	ps->pos = esc_pos;
	return 0;
}

static int literal_newline_error(size_t pos)
{
	return fail(pos, TRAWL_EINVAL,
		    "the literal '\\n' is not allowed in a regex (search is line by line)");
}

/* Applies (?i), negation and line semantics to a finished bracket class. */
static int finish_class(struct cset *s, const struct parser *ps, bool is_neg, bool is_folded,
			size_t pos)
{
	bool had_nl;
	int err;

	if (!is_folded && (ps->flags & F_ICASE) && (err = cset_fold(s)) < 0)
		return err;
	if (is_neg && (err = cset_negate(s)) < 0)
		return err;
	/* ripgrep strips '\n' from classes; a class of nothing else is an error, as in rg. */
	had_nl = cset_has(s, '\n');
	if ((err = cset_remove(s, '\n', '\n')) < 0)
		return err;
	if (s->n == 0)
		return had_nl ? literal_newline_error(pos)
			      : fail(pos, TRAWL_EINVAL, "empty character classes are not allowed");
	return 0;
}

static int parse_class_union(struct cset *out, struct parser *ps, size_t open_pos);

/* One item of a bracket class: a nested class, [:posix:], an escape, a char or a range. */
static int parse_class_item(struct cset *out, struct parser *ps, size_t open_pos)
{
	size_t item_pos = ps->pos;
	uint32_t lo, hi;
	struct cset cls;
	int r, err;

	if (peek(ps) == '[') {
		/* [:name:] or [:^name:] when it is one; otherwise a nested class. */
		if (ps->pos + 1 < ps->len && ps->p[ps->pos + 1] == ':') {
			size_t s = ps->pos + 2;
			bool is_neg = s < ps->len && ps->p[s] == '^';
			const char *end;

			s += is_neg;
			end = s < ps->len ? memchr(ps->p + s, ':', ps->len - s) : NULL;
			if (end && (size_t)(end - ps->p) + 1 < ps->len && end[1] == ']') {
				cset_init(&cls);
				err = cset_add_posix(&cls, ps->p + s, (size_t)(end - (ps->p + s)));
				if (err == 0) {
					ps->pos = (size_t)(end - ps->p) + 2;
					if ((is_neg && (err = cset_negate(&cls)) < 0) ||
					    (err = cset_add_set(out, &cls)) < 0) {
						cset_dispose(&cls);
						return err;
					}
					cset_dispose(&cls);
					return 0;
				}
				cset_dispose(&cls);
				if (err != TRAWL_ENOTFOUND)
					return err;
			}
		}
		ps->pos++;
		{
			bool is_neg = peek(ps) == '^';
			struct cset inner;

			ps->pos += is_neg;
			if (++ps->depth > REGEX_MAX_DEPTH)
				return fail(item_pos, TRAWL_ELIMIT, "character classes nested too deeply");
			cset_init(&inner);
			if ((err = parse_class_union(&inner, ps, item_pos)) < 0 ||
			    (is_neg && (err = cset_negate(&inner)) < 0) ||
			    (err = cset_add_set(out, &inner)) < 0) {
				cset_dispose(&inner);
				return err;
			}
			ps->depth--;
			cset_dispose(&inner);
			return 0;
		}
	}
	if (peek(ps) == '\\') {
		r = parse_char_escape(&lo, &cls, ps);
		if (r < 0)
			return r;
		if (r == 0)
			return fail(item_pos, TRAWL_EINVAL, "unrecognized escape sequence");
		if (r == 2) {
			err = cset_add_set(out, &cls);
			cset_dispose(&cls);
			if (err == 0 && peek(ps) == '-' && ps->pos + 1 < ps->len &&
			    ps->p[ps->pos + 1] != ']' && ps->p[ps->pos + 1] != '-')
				return fail(item_pos, TRAWL_EINVAL,
					    "invalid range boundary, must be a literal");
			return err;
		}
	} else if ((err = next_cp(&lo, ps)) < 0) {
		return err;
	}
	hi = lo;
	if (peek(ps) == '-' && ps->pos + 1 < ps->len && ps->p[ps->pos + 1] != ']' &&
	    ps->p[ps->pos + 1] != '-') {
		size_t hi_pos = ps->pos + 1;

		ps->pos++;
		if (peek(ps) == '\\') {
			r = parse_char_escape(&hi, &cls, ps);
			if (r < 0)
				return r;
			if (r == 2)
				cset_dispose(&cls);
			if (r != 1)
				return fail(hi_pos, TRAWL_EINVAL,
					    "invalid range boundary, must be a literal");
		} else if (peek(ps) == '[') {
			return fail(hi_pos, TRAWL_EINVAL, "invalid range boundary, must be a literal");
		} else if ((err = next_cp(&hi, ps)) < 0) {
			return err;
		}
		if (hi < lo)
			return fail(item_pos, TRAWL_EINVAL,
				    "invalid character class range, the start must be <= the end");
	}
	(void)open_pos;
	return cset_add(out, lo, hi);
}

/* out = out && rhs, out -- rhs or out ~~ rhs. */
static int apply_class_op(struct cset *out, const struct cset *rhs, int op)
{
	struct cset a, b;
	int err;

	if (op == '&')
		return cset_intersect(out, rhs);
	if (op == '-')
		return cset_subtract(out, rhs);
	/* Symmetric difference: (out - rhs) + (rhs - out). */
	if ((err = cset_copy(&a, out)) < 0)
		return err;
	if ((err = cset_copy(&b, rhs)) == 0 && (err = cset_subtract(&a, rhs)) == 0 &&
	    (err = cset_subtract(&b, out)) == 0 && (err = cset_add_set(&a, &b)) == 0) {
		cset_dispose(out);
		*out = a;
		cset_init(&a);
	}
	cset_dispose(&a);
	cset_dispose(&b);
	return err;
}

/*
 * The items of a class up to ']' (consumed), combined with the binary operators && (and),
 * -- (minus) and ~~ (symmetric difference), left to right.
 */
static int parse_class_union(struct cset *out, struct parser *ps, size_t open_pos)
{
	struct cset rhs;
	int op = 0; /* pending operator: '&', '-', '~' */
	bool is_first = true;
	int err;

	cset_init(&rhs);
	for (;;) {
		struct cset *dst = op ? &rhs : out;

		if (ps->flags & F_VERBOSE)
			skip_verbose(ps);
		if (at_end(ps)) {
			err = fail(open_pos, TRAWL_EINVAL, "unclosed character class");
			goto out;
		}
		if (peek(ps) == ']' && !is_first) {
			ps->pos++;
			break;
		}
		if (ps->pos + 1 < ps->len && ps->p[ps->pos] == ps->p[ps->pos + 1] &&
		    ps->p[ps->pos] && strchr("&-~", ps->p[ps->pos]) && !is_first) {
			int next = ps->p[ps->pos];

			if (op) {
				if ((err = apply_class_op(out, &rhs, op)) < 0)
					goto out;
				cset_dispose(&rhs);
				cset_init(&rhs);
			}
			op = next;
			ps->pos += 2;
			is_first = true;
			continue;
		}
		if ((err = parse_class_item(dst, ps, open_pos)) < 0)
			goto out;
		is_first = false;
	}
	if (op && (err = apply_class_op(out, &rhs, op)) < 0)
		goto out;
	err = 0;
out:
	cset_dispose(&rhs);
	return err;
}

static int parse_class(struct re_node **out, struct parser *ps)
{
	size_t open_pos = ps->pos;
	struct re_node *n;
	bool is_neg;
	int err;

	if ((err = new_node(&n, ps, RE_CLASS, open_pos)) < 0)
		return err;
	ps->pos++; /* '[' */
	is_neg = peek(ps) == '^';
	ps->pos += is_neg;
	/* A ']' right after '[' or '[^' is a literal: the union parser treats it as an item. */
	if ((err = parse_class_union(&n->cls, ps, open_pos)) < 0 ||
	    (err = finish_class(&n->cls, ps, is_neg, false, open_pos)) < 0)
		return err;
	*out = n;
	return 0;
}

/* is_folded: (?i) was already applied (escapes fold before negating, or not at all). */
static int make_class(struct re_node **out, struct parser *ps, struct cset *cls, size_t pos,
		      bool is_folded)
{
	int err;

	if ((err = new_node(out, ps, RE_CLASS, pos)) < 0) {
		cset_dispose(cls);
		return err;
	}
	(*out)->cls = *cls;
	cset_init(cls);
	return finish_class(&(*out)->cls, ps, false, is_folded, pos);
}

static int make_literal(struct re_node **out, struct parser *ps, uint32_t cp, size_t pos)
{
	int err;

	if (cp == '\n')
		return literal_newline_error(pos);
	if ((err = new_node(out, ps, RE_LIT, pos)) < 0)
		return err;
	(*out)->cp = cp;
	(*out)->is_fold = (ps->flags & F_ICASE) && unicode_fold_next(cp) != cp;
	if ((*out)->is_fold && !(ps->flags & F_UNICODE) && cp < 0x80) {
		/* (?-u) folds ASCII only: k does not match the Kelvin sign. */
		struct cset s;

		cset_init(&s);
		if ((err = cset_add(&s, cp, cp)) < 0 ||
		    (err = cset_add(&s, cp ^ 0x20, cp ^ 0x20)) < 0) {
			cset_dispose(&s);
			return err;
		}
		(*out)->op = RE_CLASS;
		(*out)->cls = s;
	}
	return 0;
}

static int parse_escape(struct re_node **out, struct parser *ps)
{
	size_t pos = ps->pos;
	struct cset cls;
	uint32_t cp;
	int r, c, err;

	r = parse_char_escape(&cp, &cls, ps);
	if (r < 0)
		return r;
	if (r == 1)
		return make_literal(out, ps, cp, pos);
	if (r == 2)
		return make_class(out, ps, &cls, pos, true); /* \d \w: never folded, as in Rust */
	c = ps->p[pos + 1];
	ps->pos = pos + 2;
	switch (c) {
	case 'A': return new_node(out, ps, RE_BOL, pos);
	case 'z': return new_node(out, ps, RE_EOL, pos);
	case 'b':
	case 'B':
		if ((err = new_node(out, ps, c == 'b' ? RE_WORDB : RE_NWORDB, pos)) < 0)
			return err;
		(*out)->is_ascii = !(ps->flags & F_UNICODE);
		return 0;
	case 'k': case 'g':
		return fail(pos, TRAWL_EUNSUPPORTED,
			    "backreferences are not supported (no linear-time engine can do them)");
	case 'K': case 'G': case 'Z': case 'X': case 'R': case 'C': case 'Q': case 'E':
		return fail(pos, TRAWL_EUNSUPPORTED, "this escape is not supported");
	default:
		return fail(pos, TRAWL_EINVAL, "unrecognized escape sequence");
	}
}

static int parse_alternation(struct re_node **out, struct parser *ps);

static int check_name(struct parser *ps, size_t start, size_t end)
{
	char **v;

	if (start == end)
		return fail(start, TRAWL_EINVAL, "empty capture group name");
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)ps->p[i];
		bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (i > start && ((c >= '0' && c <= '9') || c == '.' || c == '[' || c == ']'));

		if (!ok)
			return fail(i, TRAWL_EINVAL, "invalid capture group character");
	}
	for (size_t i = 0; i < ps->n_names; i++)
		if (strlen(ps->names[i]) == end - start &&
		    memcmp(ps->names[i], ps->p + start, end - start) == 0)
			return fail(start, TRAWL_EINVAL, "duplicate capture group name");
	v = realloc(ps->names, (ps->n_names + 1) * sizeof(*v));
	if (!v)
		return fail(start, TRAWL_ENOMEM, "out of memory");
	ps->names = v;
	ps->names[ps->n_names] = strndup(ps->p + start, end - start);
	if (!ps->names[ps->n_names])
		return fail(start, TRAWL_ENOMEM, "out of memory");
	ps->n_names++;
	return 0;
}

/*
 * After "(?": flags such as "i-s" followed by ')' (set for the rest of the group, *is_group =
 * false) or ':' (a non-capturing group with those flags, *is_group = true).
 */
static int parse_flags(struct parser *ps, unsigned *flags, bool *is_group, size_t open_pos)
{
	unsigned seen = 0, f = *flags;
	bool is_neg = false, has_any = false;

	for (;;) {
		size_t pos = ps->pos;
		unsigned bit;
		int c = peek(ps);

		if (c < 0)
			return fail(open_pos, TRAWL_EINVAL, "unclosed group");
		ps->pos++;
		switch (c) {
		case ')':
		case ':':
			if (is_neg && pos > 0 && ps->p[pos - 1] == '-')
				return fail(pos - 1, TRAWL_EINVAL, "flag negation without a flag");
			if (!has_any && c == ')')
				return fail(pos, TRAWL_EINVAL, "empty flag group");
			*is_group = c == ':';
			*flags = f;
			return 0;
		case '-':
			if (is_neg)
				return fail(pos, TRAWL_EINVAL, "repeated flag negation");
			is_neg = true;
			continue;
		case 'i': bit = F_ICASE; break;
		case 'm': bit = F_MULTI; break;
		case 's': bit = F_DOTNL; break;
		case 'U': bit = F_UNGREEDY; break;
		case 'u': bit = F_UNICODE; break;
		case 'x': bit = F_VERBOSE; break;
		case '=': case '!':
			return fail(open_pos, TRAWL_EUNSUPPORTED,
				    "look-around, including look-ahead and look-behind, is not supported");
		case '>':
			return fail(open_pos, TRAWL_EUNSUPPORTED, "atomic groups are not supported");
		default:
			return fail(pos, TRAWL_EINVAL, "unrecognized flag");
		}
		if (seen & bit)
			return fail(pos, TRAWL_EINVAL, "duplicate flag");
		seen |= bit;
		has_any = true;
		f = is_neg ? f & ~bit : f | bit;
	}
}

/* A group starting at '('. *out is NULL for a bare flag setting such as (?i). */
static int parse_group(struct re_node **out, struct parser *ps)
{
	size_t open_pos = ps->pos;
	unsigned saved = ps->flags;
	struct re_node *g, *inner;
	int err;

	*out = NULL;
	ps->pos++;
	if (peek(ps) == '?') {
		ps->pos++;
		if (peek(ps) == '<' && ps->pos + 1 < ps->len && ps->p[ps->pos + 1] != '=' &&
		    ps->p[ps->pos + 1] != '!')
			return fail(ps->pos, TRAWL_EINVAL,
				    "unrecognized flag (named groups are written (?P<name>...))");
		if (peek(ps) == 'P' || peek(ps) == '<') {
			size_t start, end;
			const char *gt;

			if (peek(ps) == 'P')
				ps->pos++;
			if (peek(ps) == '=' || peek(ps) == '>')
				return fail(open_pos, TRAWL_EUNSUPPORTED,
					    "backreferences are not supported (no linear-time engine "
					    "can do them)");
			if (peek(ps) != '<')
				return fail(ps->pos, TRAWL_EINVAL, "unrecognized flag");
			ps->pos++;
			if (peek(ps) == '=' || peek(ps) == '!')
				return fail(open_pos, TRAWL_EUNSUPPORTED,
					    "look-around, including look-ahead and look-behind, is not "
					    "supported");
			start = ps->pos;
			gt = memchr(ps->p + start, '>', ps->len - start);
			if (!gt)
				return fail(start, TRAWL_EINVAL, "unclosed capture group name");
			end = (size_t)(gt - ps->p);
			if ((err = check_name(ps, start, end)) < 0)
				return err;
			ps->pos = end + 1;
		} else {
			bool is_group;
			unsigned f = ps->flags;

			if ((err = parse_flags(ps, &f, &is_group, open_pos)) < 0)
				return err;
			if (!is_group) {
				ps->flags = f; /* for the rest of the enclosing group */
				return 0;
			}
			ps->flags = f;
		}
	}
	if (++ps->depth > REGEX_MAX_DEPTH)
		return fail(open_pos, TRAWL_ELIMIT, "groups nested too deeply (more than 200)");
	if ((err = parse_alternation(&inner, ps)) < 0)
		return err;
	ps->depth--;
	if (peek(ps) != ')')
		return fail(open_pos, TRAWL_EINVAL, "unclosed group");
	ps->pos++;
	ps->flags = saved;
	if ((err = new_node(&g, ps, RE_GROUP, open_pos)) < 0 || (err = add_sub(g, inner)) < 0)
		return err;
	*out = g;
	return 0;
}

static int parse_decimal(int *out, struct parser *ps)
{
	size_t start;
	long v = 0;

	while (peek(ps) == ' ')
		ps->pos++;
	start = ps->pos;
	while (!at_end(ps) && peek(ps) >= '0' && peek(ps) <= '9') {
		v = v * 10 + (peek(ps) - '0');
		if (v > REGEX_MAX_REPEAT)
			return fail(start, TRAWL_ELIMIT,
				    "repetition count exceeds the limit of 1000000");
		ps->pos++;
	}
	if (ps->pos == start)
		return fail(at_end(ps) ? start - 1 : start, TRAWL_EINVAL,
			    at_end(ps) ? "unclosed counted repetition"
				       : "repetition quantifier expects a valid decimal");
	while (peek(ps) == ' ')
		ps->pos++;
	*out = (int)v;
	return 0;
}

/* {m}, {m,}, {m,n} at ps->pos ('{'). */
static int parse_counted(int *min, int *max, struct parser *ps)
{
	size_t open_pos = ps->pos;
	int err;

	ps->pos++;
	if ((err = parse_decimal(min, ps)) < 0)
		return err;
	*max = *min;
	if (peek(ps) == ',') {
		ps->pos++;
		while (peek(ps) == ' ')
			ps->pos++;
		if (peek(ps) == '}')
			*max = RE_INF;
		else if ((err = parse_decimal(max, ps)) < 0)
			return err;
	}
	if (peek(ps) != '}')
		return fail(open_pos, TRAWL_EINVAL, "unclosed counted repetition");
	ps->pos++;
	if (*max != RE_INF && *max < *min)
		return fail(open_pos, TRAWL_EINVAL,
			    "invalid repetition count range, the start must be <= the end");
	return 0;
}

/* Wraps *atom in every repetition operator that follows it. */
static int parse_repeats(struct re_node **atom, struct parser *ps)
{
	int err;

	for (;;) {
		size_t pos;
		int min, max, c;
		struct re_node *r;

		skip_verbose(ps);
		pos = ps->pos;
		c = peek(ps);
		if (c == '*') {
			min = 0, max = RE_INF, ps->pos++;
		} else if (c == '+') {
			min = 1, max = RE_INF, ps->pos++;
		} else if (c == '?') {
			min = 0, max = 1, ps->pos++;
		} else if (c == '{') {
			if ((err = parse_counted(&min, &max, ps)) < 0)
				return err;
		} else {
			return 0;
		}
		if (peek(ps) == '?')
			ps->pos++; /* lazy: the same lines match */
		if ((err = new_node(&r, ps, RE_REPEAT, pos)) < 0 || (err = add_sub(r, *atom)) < 0)
			return err;
		r->min = min;
		r->max = max;
		*atom = r;
	}
}

/* One element of a concatenation (with its repetitions); *out NULL for a bare (?flags). */
static int parse_piece(struct re_node **out, struct parser *ps)
{
	size_t pos = ps->pos;
	int c = peek(ps), err;
	uint32_t cp;

	*out = NULL;
	switch (c) {
	case '(':
		if ((err = parse_group(out, ps)) < 0)
			return err;
		if (!*out)
			return 0;
		break;
	case '[':
		err = parse_class(out, ps);
		break;
	case '\\':
		err = parse_escape(out, ps);
		break;
	case '.': {
		struct cset dot;

		ps->pos++;
		cset_init(&dot);
		if ((err = cset_add(&dot, 0, UNICODE_MAX)) < 0)
			return err;
		err = make_class(out, ps, &dot, pos, true);
		break;
	}
	case '^':
		ps->pos++;
		err = new_node(out, ps, RE_BOL, pos);
		break;
	case '$':
		ps->pos++;
		err = new_node(out, ps, RE_EOL, pos);
		break;
	case '*': case '+': case '?': case '{':
		return fail(pos, TRAWL_EINVAL, "repetition operator missing expression");
	default:
		if ((err = next_cp(&cp, ps)) < 0)
			return err;
		err = make_literal(out, ps, cp, pos);
		break;
	}
	if (err < 0)
		return err;
	return parse_repeats(out, ps);
}

static int parse_concat(struct re_node **out, struct parser *ps)
{
	struct re_node *cat, *piece;
	int err;

	if ((err = new_node(&cat, ps, RE_CONCAT, ps->pos)) < 0)
		return err;
	for (;;) {
		skip_verbose(ps);
		if (at_end(ps) || peek(ps) == '|' || peek(ps) == ')')
			break;
		if ((err = parse_piece(&piece, ps)) < 0)
			return err;
		if (piece && (err = add_sub(cat, piece)) < 0)
			return err;
	}
	if (cat->n_sub == 0)
		cat->op = RE_EMPTY;
	*out = cat->n_sub == 1 ? cat->sub[0] : cat;
	return 0;
}

static int parse_alternation(struct re_node **out, struct parser *ps)
{
	struct re_node *alt, *branch;
	int err;

	if ((err = new_node(&alt, ps, RE_ALT, ps->pos)) < 0)
		return err;
	for (;;) {
		if ((err = parse_concat(&branch, ps)) < 0 || (err = add_sub(alt, branch)) < 0)
			return err;
		if (peek(ps) != '|')
			break;
		ps->pos++;
	}
	*out = alt->n_sub == 1 ? alt->sub[0] : alt;
	return 0;
}

/* ripgrep's -w: (?:^|\W)(?:pat)(?:\W|$), with \W not matching '\n'. */
static int wrap_word(struct parser *ps)
{
	struct re_node *cat, *alt[2], *nonword[2], *anchor[2], *g;
	struct cset w;
	int err;

	if ((err = new_node(&cat, ps, RE_CONCAT, 0)) < 0 || (err = new_node(&g, ps, RE_GROUP, 0)) < 0 ||
	    (err = add_sub(g, ps->re->root)) < 0)
		return err;
	for (int i = 0; i < 2; i++) {
		cset_init(&w);
		if ((err = cset_add_perl(&w, 'w', true)) < 0 || (err = cset_negate(&w)) < 0 ||
		    (err = make_class(&nonword[i], ps, &w, 0, true)) < 0) {
			cset_dispose(&w);
			return err;
		}
		if ((err = new_node(&anchor[i], ps, i ? RE_EOL : RE_BOL, 0)) < 0 ||
		    (err = new_node(&alt[i], ps, RE_ALT, 0)) < 0 ||
		    (err = add_sub(alt[i], i ? nonword[i] : anchor[i])) < 0 ||
		    (err = add_sub(alt[i], i ? anchor[i] : nonword[i])) < 0)
			return err;
	}
	if ((err = add_sub(cat, alt[0])) < 0 || (err = add_sub(cat, g)) < 0 ||
	    (err = add_sub(cat, alt[1])) < 0)
		return err;
	ps->re->root = cat;
	return 0;
}

/*
 * Anchor lifting. Vectorscan refuses a `^` after something that may consume text, or a `$`
 * before it ("embedded anchors"), yet patterns such as -w '^foo' (which wraps it in
 * (?:^|\W)...), `(^|\s)foo(\s|$)` or `a(^b|c)` are common. In a line-oriented pattern such a
 * `^` can only hold if everything before it on its path matched the empty string, so the AST is
 * rewritten as an alternation of paths, each `^ middle $` with the anchors at its edges only:
 * before a `^` (and after a `$`) only the empty-matching part of a path is kept. A path that
 * cannot do that is dropped. The rewrite is skipped (the pattern kept as written) when it would
 * need more than MAX_PATHS paths or an anchor repeats more than once.
 */
#define MAX_PATHS 32

struct path {
	bool has_bol, has_eol;
	struct re_node *middle; /* no ^ or $ inside */
};

struct paths {
	struct path v[MAX_PATHS];
	size_t n;
};

static bool has_anchor(const struct re_node *n)
{
	if (n->op == RE_BOL || n->op == RE_EOL)
		return true;
	for (size_t i = 0; i < n->n_sub; i++)
		if (has_anchor(n->sub[i]))
			return true;
	return false;
}

/* The part of n that matches the empty string; NULL (with 0) when there is none. */
static int empty_part(struct re_node **out, struct parser *ps, struct re_node *n)
{
	struct re_node *r, *sub;
	int err;

	*out = NULL;
	switch (n->op) {
	case RE_LIT:
	case RE_CLASS:
		return 0;
	case RE_EMPTY: case RE_WORDB: case RE_NWORDB: case RE_BOL: case RE_EOL:
		*out = n;
		return 0;
	case RE_GROUP:
		return empty_part(out, ps, n->sub[0]);
	case RE_REPEAT:
		if (n->min == 0)
			return new_node(out, ps, RE_EMPTY, n->pos);
		return empty_part(out, ps, n->sub[0]);
	case RE_CONCAT:
	case RE_ALT:
		if ((err = new_node(&r, ps, n->op, n->pos)) < 0)
			return err;
		for (size_t i = 0; i < n->n_sub; i++) {
			if ((err = empty_part(&sub, ps, n->sub[i])) < 0)
				return err;
			if (!sub && n->op == RE_CONCAT)
				return 0;
			if (sub && (err = add_sub(r, sub)) < 0)
				return err;
		}
		if (r->n_sub == 0)
			return n->op == RE_CONCAT ? new_node(out, ps, RE_EMPTY, n->pos) : 0;
		*out = r->n_sub == 1 ? r->sub[0] : r;
		return 0;
	}
	return 0;
}

static int concat2(struct re_node **out, struct parser *ps, struct re_node *a, struct re_node *b)
{
	int err;

	if (a->op == RE_EMPTY) {
		*out = b;
		return 0;
	}
	if (b->op == RE_EMPTY) {
		*out = a;
		return 0;
	}
	if ((err = new_node(out, ps, RE_CONCAT, a->pos)) < 0 || (err = add_sub(*out, a)) < 0)
		return err;
	return add_sub(*out, b);
}

/* Returns 1 when n cannot be lifted within the bounds. */
static int lift(struct paths *out, struct parser *ps, struct re_node *n)
{
	struct paths acc, next, sub;
	int err;

	out->n = 0;
	if (!has_anchor(n)) {
		out->v[out->n++] = (struct path){ false, false, n };
		return 0;
	}
	switch (n->op) {
	case RE_BOL:
	case RE_EOL:
		if ((err = new_node(&out->v[0].middle, ps, RE_EMPTY, n->pos)) < 0)
			return err;
		out->v[0].has_bol = n->op == RE_BOL;
		out->v[0].has_eol = n->op == RE_EOL;
		out->n = 1;
		return 0;
	case RE_GROUP:
		return lift(out, ps, n->sub[0]);
	case RE_REPEAT:
		if (n->min != 0 || n->max != 1)
			return 1;
		if ((err = lift(out, ps, n->sub[0])) != 0)
			return err;
		if (out->n == MAX_PATHS)
			return 1;
		if ((err = new_node(&out->v[out->n].middle, ps, RE_EMPTY, n->pos)) < 0)
			return err;
		out->v[out->n].has_bol = out->v[out->n].has_eol = false;
		out->n++;
		return 0;
	case RE_ALT:
		for (size_t i = 0; i < n->n_sub; i++) {
			if ((err = lift(&sub, ps, n->sub[i])) != 0)
				return err;
			if (out->n + sub.n > MAX_PATHS)
				return 1;
			memcpy(out->v + out->n, sub.v, sub.n * sizeof(sub.v[0]));
			out->n += sub.n;
		}
		return 0;
	case RE_CONCAT:
		acc.n = 1;
		if ((err = new_node(&acc.v[0].middle, ps, RE_EMPTY, n->pos)) < 0)
			return err;
		acc.v[0].has_bol = acc.v[0].has_eol = false;
		for (size_t i = 0; i < n->n_sub; i++) {
			if ((err = lift(&sub, ps, n->sub[i])) != 0)
				return err;
			next.n = 0;
			for (size_t a = 0; a < acc.n; a++)
				for (size_t b = 0; b < sub.n; b++) {
					struct re_node *x = acc.v[a].middle, *y = sub.v[b].middle;

					if (sub.v[b].has_bol && (err = empty_part(&x, ps, x)) < 0)
						return err;
					if (acc.v[a].has_eol && x && (err = empty_part(&y, ps, y)) < 0)
						return err;
					if (!x || !y)
						continue; /* this path cannot match */
					if (next.n == MAX_PATHS)
						return 1;
					if ((err = concat2(&next.v[next.n].middle, ps, x, y)) < 0)
						return err;
					next.v[next.n].has_bol = acc.v[a].has_bol || sub.v[b].has_bol;
					next.v[next.n].has_eol = acc.v[a].has_eol || sub.v[b].has_eol;
					next.n++;
				}
			acc = next;
		}
		*out = acc;
		return 0;
	default:
		return 1;
	}
}

/* Whether every anchor in n sits where Vectorscan takes it: ^ at a left edge, $ at a right one. */
static bool anchors_at_edges(const struct re_node *n, bool is_left, bool is_right)
{
	switch (n->op) {
	case RE_BOL:
		return is_left;
	case RE_EOL:
		return is_right;
	case RE_GROUP:
		return anchors_at_edges(n->sub[0], is_left, is_right);
	case RE_REPEAT:
		return n->max != RE_INF && n->max <= 1 ? anchors_at_edges(n->sub[0], is_left, is_right)
						      : !has_anchor(n->sub[0]);
	case RE_ALT:
		for (size_t i = 0; i < n->n_sub; i++)
			if (!anchors_at_edges(n->sub[i], is_left, is_right))
				return false;
		return true;
	case RE_CONCAT:
		for (size_t i = 0; i < n->n_sub; i++)
			if (!anchors_at_edges(n->sub[i], is_left && i == 0,
					      is_right && i + 1 == n->n_sub))
				return false;
		return true;
	default:
		return true;
	}
}

/* Flags the anchors that anchors_at_edges() finds out of place, for the verifier. */
static void mark_embedded(struct re_node *n, bool is_left, bool is_right)
{
	switch (n->op) {
	case RE_BOL:
		n->is_embedded = !is_left;
		return;
	case RE_EOL:
		n->is_embedded = !is_right;
		return;
	case RE_REPEAT:
		if (n->max > 1 || n->max == RE_INF)
			is_left = is_right = false;
		mark_embedded(n->sub[0], is_left, is_right);
		return;
	case RE_CONCAT:
		for (size_t i = 0; i < n->n_sub; i++)
			mark_embedded(n->sub[i], is_left && i == 0, is_right && i + 1 == n->n_sub);
		return;
	default:
		for (size_t i = 0; i < n->n_sub; i++)
			mark_embedded(n->sub[i], is_left, is_right);
		return;
	}
}

static int lift_anchors(struct parser *ps)
{
	struct paths *p;
	struct re_node *alt, *cat, *a;
	int err;

	/* Only where needed: the rewrite repeats text (each path spells out its middle). */
	if (anchors_at_edges(ps->re->root, true, true))
		return 0;
	p = malloc(sizeof(*p));
	if (!p)
		return fail(0, TRAWL_ENOMEM, "out of memory");
	err = lift(p, ps, ps->re->root);
	if (err == 1)
		mark_embedded(ps->re->root, true, true); /* emitted without them, lines verified */
	if (err != 0 || p->n == 0)
		goto out; /* no path can match: Vectorscan says so ("never match") */
	if ((err = new_node(&alt, ps, RE_ALT, 0)) < 0)
		goto out;
	for (size_t i = 0; i < p->n; i++) {
		if ((err = new_node(&cat, ps, RE_CONCAT, 0)) < 0)
			goto out;
		if (p->v[i].has_bol &&
		    ((err = new_node(&a, ps, RE_BOL, 0)) < 0 || (err = add_sub(cat, a)) < 0))
			goto out;
		if ((err = add_sub(cat, p->v[i].middle)) < 0)
			goto out;
		if (p->v[i].has_eol &&
		    ((err = new_node(&a, ps, RE_EOL, 0)) < 0 || (err = add_sub(cat, a)) < 0))
			goto out;
		if ((err = add_sub(alt, cat->n_sub == 1 ? cat->sub[0] : cat)) < 0)
			goto out;
	}
	ps->re->root = alt->n_sub == 1 ? alt->sub[0] : alt;
out:
	free(p);
	return err < 0 ? err : 0;
}

static int parse_fixed(struct parser *ps)
{
	struct re_node *cat, *lit;
	int err;

	if ((err = new_node(&cat, ps, RE_CONCAT, 0)) < 0)
		return err;
	while (!at_end(ps)) {
		size_t pos = ps->pos;
		uint32_t cp;

		if ((err = next_cp(&cp, ps)) < 0 || (err = make_literal(&lit, ps, cp, pos)) < 0 ||
		    (err = add_sub(cat, lit)) < 0)
			return err;
	}
	if (cat->n_sub == 0)
		cat->op = RE_EMPTY;
	ps->re->root = cat->n_sub == 1 ? cat->sub[0] : cat;
	return 0;
}

/*
 * The UTF-8 byte automaton of a class, as a trie of byte ranges: its ranges split the way
 * emit.c's put_utf8_range() splits them (every byte position one contiguous range), each
 * sequence adding the states its prefix does not share with the sequence before it. The
 * sequences come in code point order, so the prefixes they share are adjacent.
 */
struct utf8_trie {
	uint8_t lo[4], hi[4]; /* the previous sequence */
	size_t len, states;
};

static void trie_add(struct utf8_trie *t, uint32_t lo, uint32_t hi)
{
	uint8_t a[4], b[4];
	size_t n, same = 0;

	for (int i = 1; i < 4; i++) {
		uint32_t m = (1u << (6 * i)) - 1;

		if ((lo & ~m) == (hi & ~m))
			continue;
		if ((lo & m) != 0) {
			trie_add(t, lo, lo | m);
			trie_add(t, (lo | m) + 1, hi);
			return;
		}
		if ((hi & m) != m) {
			trie_add(t, lo, (hi & ~m) - 1);
			trie_add(t, hi & ~m, hi);
			return;
		}
	}
	n = utf8_encode(a, lo);
	utf8_encode(b, hi);
	while (same < n && same < t->len && t->lo[same] == a[same] && t->hi[same] == b[same])
		same++;
	t->states += n - same;
	memcpy(t->lo, a, n);
	memcpy(t->hi, b, n);
	t->len = n;
}

static size_t class_states(const struct cset *c)
{
	static const uint32_t bounds[][2] = {
		{ 0x80, 0x7ff }, { 0x800, 0xd7ff }, { 0xe000, 0xffff }, { 0x10000, 0x10ffff },
	};
	struct utf8_trie t = { .len = 0 };
	bool has_ascii = false;

	for (size_t i = 0; i < c->n; i++) {
		has_ascii |= c->r[i].lo < 0x80; /* one byte class, however many ranges */
		for (size_t k = 0; k < sizeof(bounds) / sizeof(bounds[0]); k++) {
			uint32_t lo = c->r[i].lo > bounds[k][0] ? c->r[i].lo : bounds[k][0];
			uint32_t hi = c->r[i].hi < bounds[k][1] ? c->r[i].hi : bounds[k][1];

			if (lo <= hi)
				trie_add(&t, lo, hi);
		}
	}
	return t.states + has_ascii;
}

/*
 * The UTF-8 lengths of a literal's members (its case orbit when folded, which is emitted as a
 * class): the longest one's to *longest, their sum to *total.
 */
static void literal_bytes(const struct re_node *n, size_t *longest, size_t *total)
{
	uint8_t u[4];
	uint32_t c = n->cp;

	*longest = *total = 0;
	do {
		size_t len = utf8_encode(u, c);

		*longest = len > *longest ? len : *longest;
		*total += len;
		c = n->is_fold ? unicode_fold_next(c) : n->cp;
	} while (c != n->cp);
}

/* A leaf's expanded size: the bytes of its longest UTF-8 sequence. */
static size_t expanded_leaf(const struct re_node *n)
{
	uint8_t u[4];
	size_t longest, total;

	switch (n->op) {
	case RE_LIT:
		literal_bytes(n, &longest, &total);
		return longest;
	case RE_CLASS:
		return n->cls.n ? utf8_encode(u, n->cls.r[n->cls.n - 1].hi) : 0;
	default:
		return 0; /* assertions and the empty string take no text */
	}
}

/*
 * A leaf's automaton size: a class (and a case-folded literal, every member of its orbit) the
 * states of its UTF-8 byte automaton; a word boundary REGEX_WEIGHT_WORDB.
 */
static size_t states_leaf(const struct re_node *n)
{
	size_t longest, total;

	switch (n->op) {
	case RE_LIT:
		literal_bytes(n, &longest, &total);
		return total;
	case RE_CLASS:
		return class_states(&n->cls);
	case RE_WORDB:
	case RE_NWORDB:
		return REGEX_WEIGHT_WORDB;
	default:
		return 0;
	}
}

/*
 * The sizes regex_parse() bounds. They differ only in what a leaf costs: a repetition costs its
 * operand times its count, a sequence, an alternation or a group the sum of its parts.
 */
static const struct size_measure {
	size_t (*leaf)(const struct re_node *n);
	size_t limit;
	const char *too_large; /* the message's start; "the limit is LIMIT UNIT)" follows */
	const char *unit;
} measures[RE_N_SIZES] = {
	[RE_SIZE_EXPANDED] = {
		.leaf = expanded_leaf,
		.limit = REGEX_MAX_EXPANDED,
		.too_large = "pattern too large once its repetitions are written out (nested counts "
			     "multiply; ",
		.unit = "characters",
	},
	[RE_SIZE_STATES] = {
		.leaf = states_leaf,
		.limit = REGEX_MAX_STATES,
		.too_large = "pattern too large for the matcher: a Unicode class such as \\pL or \\w is "
			     "over a thousand automaton states and counts multiply them (",
		.unit = "states",
	},
};

/*
 * The size of n by measure m into *size; ELIMIT at the construct that takes the pattern past the
 * measure's limit. Sizes are memoized in the nodes: after anchor lifting a subtree may sit in
 * several paths, and counts it once for each, as the emitted pattern spells it out once for
 * each.
 */
static int size_of(size_t *size, struct re_node *n, enum re_size m)
{
	size_t limit = measures[m].limit, sub, count, sum = 0;
	int err;

	if (n->size[m]) {
		*size = n->size[m] - 1;
		return 0;
	}
	switch (n->op) {
	case RE_REPEAT:
		if (n->n_sub != 1)
			break; /* never: a repetition has its one operand from the parser or cut_edge */
		if ((err = size_of(&sub, n->sub[0], m)) < 0)
			return err;
		/* x{m,} is m copies, the last one looping; x* and x+ one. */
		count = n->max == RE_INF ? (n->min > 1 ? (size_t)n->min : 1) : (size_t)n->max;
		if (__builtin_mul_overflow(sub, count, &sum) || sum > limit)
			goto over;
		break;
	case RE_CONCAT:
	case RE_ALT:
	case RE_GROUP:
		for (size_t i = 0; i < n->n_sub; i++) {
			if ((err = size_of(&sub, n->sub[i], m)) < 0)
				return err;
			sum += sub; /* both at most the limit: no overflow */
			if (sum > limit) {
				n = n->sub[i];
				goto over;
			}
		}
		break;
	default:
		sum = measures[m].leaf(n);
		break;
	}
	if (sum > limit)
		goto over; /* one class can pass the automaton's limit alone */
	n->size[m] = sum + 1;
	*size = sum;
	return 0;
over:
	error_set_at(n->pos, "%sthe limit is %zu %s)", measures[m].too_large, limit,
		     measures[m].unit);
	return TRAWL_ELIMIT;
}

/*
 * Lines reduction: a match of `P x{m,n}` also holds a match of `P x{m}` (its first m copies)
 * and nothing after it needs checking, so at a free right edge (no `$` or `\b` after it) a
 * repetition can be cut to its minimum without changing which lines match; likewise at a free
 * left edge. Writes the cut version of n to *out (n itself when nothing changes; new nodes
 * otherwise, sharing n's untouched subtrees).
 */
static int cut_edge(struct re_node **out, struct parser *ps, struct re_node *n, bool is_right)
{
	struct re_node *r, *sub;
	int err;

	*out = n;
	switch (n->op) {
	case RE_REPEAT:
		if (n->min == n->max)
			return 0;
		if (n->min == 0)
			return new_node(out, ps, RE_EMPTY, n->pos);
		if ((err = new_node(&r, ps, RE_REPEAT, n->pos)) < 0 || (err = add_sub(r, n->sub[0])) < 0)
			return err;
		r->min = r->max = n->min;
		*out = r;
		return 0;
	case RE_GROUP:
		return cut_edge(out, ps, n->sub[0], is_right);
	case RE_ALT:
	case RE_CONCAT:
		if ((err = new_node(&r, ps, n->op, n->pos)) < 0)
			return err;
		for (size_t i = 0; i < n->n_sub; i++) {
			bool is_edge = n->op == RE_ALT || i == (is_right ? n->n_sub - 1 : 0);

			sub = n->sub[i];
			if ((is_edge && (err = cut_edge(&sub, ps, sub, is_right)) < 0) ||
			    (err = add_sub(r, sub)) < 0)
				return err;
		}
		*out = r;
		return 0;
	default:
		return 0;
	}
}

/*
 * Enforces REGEX_MAX_EXPANDED: on root, else on its lines reduction (cut_edge at both ends),
 * which then becomes re->lines_root. The error names the construct that passes the limit in
 * root.
 */
static int check_expanded(struct parser *ps)
{
	struct re_node *cut;
	char msg[256];
	size_t pos;
	int err;

	if ((err = size_of(&ps->re->expanded, ps->re->root, RE_SIZE_EXPANDED)) != TRAWL_ELIMIT)
		return err;
	snprintf(msg, sizeof(msg), "%s", error_last());
	pos = error_pos();
	if ((err = cut_edge(&cut, ps, ps->re->root, true)) < 0 ||
	    (err = cut_edge(&cut, ps, cut, false)) < 0)
		return err;
	if (size_of(&ps->re->expanded, cut, RE_SIZE_EXPANDED) == 0) {
		ps->re->lines_root = cut;
		return 0;
	}
	error_set_at(pos, "%s", msg);
	return TRAWL_ELIMIT;
}

/*
 * Enforces REGEX_MAX_STATES on the lines AST with the counted repetitions at its free edges cut
 * to their minimum: Vectorscan trims those itself when it reports line ends only (`\w{10,1000}`
 * compiles in about as long as `\w{10}`), so they are not what makes a pattern too large.
 */
static int check_states(struct parser *ps)
{
	struct re_node *cut = ps->re->lines_root ? ps->re->lines_root : ps->re->root;
	char msg[256];
	size_t pos;
	int err;

	/* Most patterns pass as written: no nodes are made for the cut then. */
	if ((err = size_of(&ps->re->states, cut, RE_SIZE_STATES)) != TRAWL_ELIMIT)
		return err;
	snprintf(msg, sizeof(msg), "%s", error_last());
	pos = error_pos();
	if (cut_edge(&cut, ps, cut, true) < 0 || cut_edge(&cut, ps, cut, false) < 0) {
		error_set_at(pos, "%s", msg); /* out of nodes: the pattern's own error stands */
		return TRAWL_ELIMIT;
	}
	return size_of(&ps->re->states, cut, RE_SIZE_STATES);
}

const struct re_node *regex_lines_root(const struct regex *re)
{
	return re->lines_root ? re->lines_root : re->root;
}

void regex_free(struct regex *re)
{
	if (!re)
		return;
	for (size_t i = 0; i < re->n_nodes; i++) {
		cset_dispose(&re->nodes[i]->cls);
		free(re->nodes[i]->sub);
		free(re->nodes[i]);
	}
	free(re->nodes);
	free(re);
}

int regex_parse(struct regex **out, const char *pat, size_t len, unsigned flags)
{
	struct parser ps = { .p = pat, .len = len, .flags = F_UNICODE };
	int err;

	*out = NULL;
	if (len > REGEX_MAX_LEN)
		return fail(REGEX_MAX_LEN, TRAWL_ELIMIT,
			    "pattern too long (more than 4096 bytes)");
	ps.re = calloc(1, sizeof(*ps.re));
	if (!ps.re)
		return fail(0, TRAWL_ENOMEM, "out of memory");
	ps.re->flags = flags;
	if (flags & REGEX_ICASE)
		ps.flags |= F_ICASE;
	if (flags & REGEX_FIXED) {
		err = parse_fixed(&ps);
	} else {
		err = parse_alternation(&ps.re->root, &ps);
		if (err == 0 && peek(&ps) == ')')
			err = fail(ps.pos, TRAWL_EINVAL, "unopened group");
	}
	if (err == 0 && (flags & REGEX_WORD))
		err = wrap_word(&ps);
	if (err == 0)
		err = lift_anchors(&ps);
	if (err == 0)
		err = check_expanded(&ps);
	if (err == 0)
		err = check_states(&ps);
	for (size_t i = 0; i < ps.n_names; i++)
		free(ps.names[i]);
	free(ps.names);
	if (err < 0) {
		regex_free(ps.re);
		return err;
	}
	*out = ps.re;
	return 0;
}

bool re_node_nullable(const struct re_node *n)
{
	switch (n->op) {
	case RE_LIT:
	case RE_CLASS:
		return false;
	case RE_CONCAT:
		for (size_t i = 0; i < n->n_sub; i++)
			if (!re_node_nullable(n->sub[i]))
				return false;
		return true;
	case RE_ALT:
		for (size_t i = 0; i < n->n_sub; i++)
			if (re_node_nullable(n->sub[i]))
				return true;
		return false;
	case RE_REPEAT:
		return n->min == 0 || re_node_nullable(n->sub[0]);
	case RE_GROUP:
		return re_node_nullable(n->sub[0]);
	default:
		return true; /* the empty string and zero-width assertions */
	}
}

/* A saturating sum and product for regex_compile_weight. */
#define WEIGHT_MAX (SIZE_MAX / 2)

static size_t weight_add(size_t a, size_t b)
{
	return a > WEIGHT_MAX - b ? WEIGHT_MAX : a + b;
}

static size_t weight_mul(size_t a, size_t b)
{
	size_t r;

	return __builtin_mul_overflow(a, b, &r) || r > WEIGHT_MAX ? WEIGHT_MAX : r;
}

static size_t class_weight(const struct cset *c)
{
	size_t wide = 0;

	for (size_t i = 0; i < c->n; i++)
		wide += c->r[i].hi >= 0x80;
	if (wide == 0)
		return 1;
	return 16 + wide < REGEX_WEIGHT_CLASS ? 16 + wide : REGEX_WEIGHT_CLASS;
}

static size_t node_weight(struct re_node *n)
{
	size_t sum = 0, count;

	if (n->weight)
		return n->weight - 1; /* memoized: lifted anchors share subtrees */
	switch (n->op) {
	case RE_LIT:
		sum = n->is_fold ? 3 : 1;
		break;
	case RE_CLASS:
		sum = class_weight(&n->cls);
		break;
	case RE_WORDB:
	case RE_NWORDB:
		sum = REGEX_WEIGHT_WORDB;
		break;
	case RE_REPEAT:
		count = n->max == RE_INF ? (n->min > 1 ? (size_t)n->min : 1) : (size_t)n->max;
		sum = weight_mul(node_weight(n->sub[0]), count);
		break;
	case RE_CONCAT:
	case RE_ALT:
	case RE_GROUP:
		for (size_t i = 0; i < n->n_sub; i++)
			sum = weight_add(sum, node_weight(n->sub[i]));
		break;
	default:
		break;
	}
	n->weight = sum + 1;
	return sum;
}

size_t regex_compile_weight(const struct regex *re)
{
	/* With a lines reduction, only it is ever compiled (ranges are whole lines). */
	return re->root ? node_weight(re->lines_root ? re->lines_root : re->root) : 0;
}

size_t regex_automaton_size(const struct regex *re)
{
	return re->states;
}

size_t regex_expanded_size(const struct regex *re)
{
	return re->expanded;
}

bool regex_can_match_empty(const struct regex *re)
{
	return re_node_nullable(re->root);
}

static int describe_cp(struct buf *out, uint32_t cp)
{
	if (cp >= 0x21 && cp < 0x7f && cp != '\\' && cp != ']' && cp != '-')
		return buf_putc(out, (char)cp);
	return buf_printf(out, "\\x{%x}", cp);
}

static int describe(struct buf *out, const struct re_node *n)
{
	static const char *const names[] = {
		[RE_EMPTY] = "empty", [RE_LIT] = "lit", [RE_CLASS] = "class", [RE_BOL] = "bol",
		[RE_EOL] = "eol", [RE_WORDB] = "wordb", [RE_NWORDB] = "nwordb",
		[RE_CONCAT] = "cat", [RE_ALT] = "alt", [RE_REPEAT] = "rep", [RE_GROUP] = "group",
	};
	int err;

	if ((err = buf_printf(out, "(%s", names[n->op])) < 0)
		return err;
	if (n->op == RE_LIT) {
		if ((err = buf_puts(out, n->is_fold ? " fold " : " ")) < 0 ||
		    (err = describe_cp(out, n->cp)) < 0)
			return err;
	} else if (n->op == RE_CLASS) {
		if ((err = buf_puts(out, " [")) < 0)
			return err;
		for (size_t i = 0; i < n->cls.n && i < 8; i++) {
			if ((err = describe_cp(out, n->cls.r[i].lo)) < 0)
				return err;
			if (n->cls.r[i].hi != n->cls.r[i].lo &&
			    ((err = buf_putc(out, '-')) < 0 || (err = describe_cp(out, n->cls.r[i].hi)) < 0))
				return err;
		}
		if ((err = buf_puts(out, n->cls.n > 8 ? "...]" : "]")) < 0)
			return err;
	} else if (n->op == RE_REPEAT) {
		if (n->max == RE_INF)
			err = buf_printf(out, " %d inf", n->min);
		else
			err = buf_printf(out, " %d %d", n->min, n->max);
		if (err < 0)
			return err;
	}
	for (size_t i = 0; i < n->n_sub; i++)
		if ((err = buf_putc(out, ' ')) < 0 || (err = describe(out, n->sub[i])) < 0)
			return err;
	return buf_putc(out, ')');
}

int regex_describe(struct buf *out, const struct regex *re)
{
	return describe(out, re->root);
}

/* Appends cp's UTF-8 encoding. */
static int put_utf8(struct buf *out, uint32_t cp)
{
	uint8_t s[4];

	return buf_put(out, s, utf8_encode(s, cp));
}

/* Whether cp's case folding orbit is just cp and its other ASCII case (not k, s: Kelvin, long s). */
static bool is_ascii_pair(uint32_t cp)
{
	uint32_t o = unicode_fold_next(cp);

	return cp < 0x80 && o < 0x80 && unicode_fold_next(o) == cp;
}

size_t re_literal_spine(struct re_node *const **v, unsigned *lit_flags, const struct regex *re)
{
	const struct re_node *const *root = (const struct re_node *const *)&re->root;
	size_t k = 1;

	*lit_flags = 0;
	while ((*root)->op == RE_GROUP)
		root = (const struct re_node *const *)&(*root)->sub[0];
	if ((*root)->op == RE_CONCAT) {
		*v = (*root)->sub;
		k = (*root)->n_sub;
	} else {
		*v = (struct re_node *const *)root;
	}
	/* Line anchors at the edges: checked around each occurrence. */
	if (k > 1 && (*v)[0]->op == RE_BOL) {
		*lit_flags |= REGEX_LITERAL_BOL;
		(*v)++;
		k--;
	}
	if (k > 1 && (*v)[k - 1]->op == RE_EOL) {
		*lit_flags |= REGEX_LITERAL_EOL;
		k--;
	}
	return k;
}

int regex_literal(struct buf *out, unsigned *lit_flags, const struct regex *re)
{
	struct re_node *const *v;
	size_t k = re_literal_spine(&v, lit_flags, re);
	int err;

	for (size_t i = 0; i < k; i++) {
		if (v[i]->op != RE_LIT)
			return 0;
		if (v[i]->is_fold) {
			if (!is_ascii_pair(v[i]->cp))
				return 0;
			*lit_flags |= REGEX_LITERAL_ICASE;
		}
	}
	/*
	 * One search folds all or nothing: `(?i)a(?-i)bc` holds a letter that must keep its case
	 * next to one that folds, so it is not a literal (a caseless `-` or digit may sit anywhere).
	 */
	for (size_t i = 0; i < k && (*lit_flags & REGEX_LITERAL_ICASE); i++)
		if (!v[i]->is_fold && unicode_fold_next(v[i]->cp) != v[i]->cp)
			return 0;
	buf_reset(out);
	for (size_t i = 0; i < k; i++) {
		uint32_t cp = v[i]->cp;

		/* Case-insensitive literals are stored in lower case: matching folds the text. */
		if ((*lit_flags & REGEX_LITERAL_ICASE) && cp >= 'A' && cp <= 'Z')
			cp += 32;
		if ((err = put_utf8(out, cp)) < 0)
			return err;
	}
	return 1;
}

/*
 * The walk of the required literals: the run being built and the longest one so far. With
 * allow_wide, k and s (whose case folding reaches the Kelvin sign and long s) stay in the run
 * and mark it wide (regex_required_literal_wide); without, they end it.
 */
struct req_walk {
	struct buf run, best;
	bool allow_wide;
	bool is_run_icase, is_best_icase;
	bool is_run_wide, is_best_wide;
};

/* Ends the current run, keeping it when it is the longest. */
static int req_break(struct req_walk *w)
{
	int err = 0;

	if (w->run.len > w->best.len) {
		buf_reset(&w->best);
		err = buf_put(&w->best, w->run.ptr, w->run.len);
		w->is_best_icase = w->is_run_icase;
		w->is_best_wide = w->is_run_wide;
	}
	buf_reset(&w->run);
	w->is_run_icase = w->is_run_wide = false;
	return err;
}

/* Appends a literal code point to the run; a case-folded one turns the whole run ASCII-icase. */
static int req_add(struct req_walk *w, const struct re_node *n)
{
	uint32_t cp = n->cp;

	if (n->is_fold && !w->is_run_icase) {
		/* The run so far is searched case-insensitively too: a superset, which is enough. */
		for (size_t i = 0; i < w->run.len; i++)
			if (w->run.ptr[i] >= 'A' && w->run.ptr[i] <= 'Z')
				w->run.ptr[i] = (char)(w->run.ptr[i] + 32);
		w->is_run_icase = true;
	}
	w->is_run_wide |= n->is_fold && !is_ascii_pair(cp);
	if (w->is_run_icase && cp >= 'A' && cp <= 'Z')
		cp += 32;
	return put_utf8(&w->run, cp);
}

/*
 * Walks the nodes every match passes through in order: groups and concatenations are opened,
 * zero-width assertions keep the bytes around them adjacent, anything else ends a run.
 */
static int req_visit(struct req_walk *w, const struct re_node *n)
{
	int err = 0;

	switch (n->op) {
	case RE_GROUP:
		return req_visit(w, n->sub[0]);
	case RE_CONCAT:
		for (size_t i = 0; i < n->n_sub && err == 0; i++)
			err = req_visit(w, n->sub[i]);
		return err;
	case RE_LIT:
		/* k and s reach beyond ASCII (kept only with allow_wide); a non-ASCII fold always. */
		if (n->is_fold && (n->cp >= 0x80 || (!w->allow_wide && !is_ascii_pair(n->cp))))
			return req_break(w);
		return req_add(w, n);
	case RE_EMPTY:
	case RE_BOL:
	case RE_EOL:
	case RE_WORDB:
	case RE_NWORDB:
		return 0;
	default:
		return req_break(w);
	}
}

int re_required_run(struct buf *out, bool *is_icase, bool *is_wide, const struct regex *re,
		    bool allow_wide)
{
	struct req_walk w = { .allow_wide = allow_wide };
	int err;

	*is_icase = *is_wide = false;
	buf_init(&w.run, (size_t)REGEX_MAX_LEN * 4);
	buf_init(&w.best, (size_t)REGEX_MAX_LEN * 4);
	buf_reset(out);
	if ((err = req_visit(&w, re->root)) == 0 && (err = req_break(&w)) == 0 && w.best.len) {
		err = buf_put(out, w.best.ptr, w.best.len);
		*is_icase = w.is_best_icase;
		*is_wide = w.is_best_wide;
	}
	buf_dispose(&w.run);
	buf_dispose(&w.best);
	return err;
}

int regex_required_literal(struct buf *out, bool *is_icase, const struct regex *re)
{
	bool is_wide;

	return re_required_run(out, is_icase, &is_wide, re, false);
}
