/*
 * The query parser: Sourcegraph-style query text into the tree and settings of query.h. The
 * language, its grammar and every error message are in docs/query-syntax.md.
 *
 * DESIGN: three steps. A tokenizer splits the text into terms, "quoted phrases", /regexps/,
 * filters, operators and parentheses; it never fails (a malformed filter becomes a token that
 * the parser reports), so errors come out in the order of the text. A recursive-descent parser
 * (OR below AND below NOT, adjacent terms ANDed) builds the tree, validates every value and
 * applies the query-wide settings; recursion happens only at '(' and is bounded by
 * QUERY_MAX_DEPTH, and a run of NOTs is read in a loop, so a hostile query cannot exhaust the
 * stack. A simplifier then flattens the tree.
 *
 * patterntype: may be written anywhere but changes how the text is split (there are no /.../
 * delimiters under patterntype:literal; under patterntype:regexp "(?" starts a term, not a
 * group), so the text is tokenized in keyword mode first and again in the mode that first pass
 * finds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/fields_int.h"
#include "query/lang.h"
#include "query/query.h"
#include "regex/regex.h"
#include "util/array.h"
#include "util/editdist.h"
#include "util/error.h"
#include "util/utf8.h"

enum mode { MODE_KEYWORD, MODE_REGEXP, MODE_LITERAL };

enum tok_kind {
	T_EOF,
	T_LPAREN,
	T_RPAREN,
	T_AND,
	T_OR,
	T_NOT,
	T_TERM,      /* a bare term */
	T_QUOTED,    /* "..." or '...' */
	T_SLASH,     /* /.../ (not in literal mode) */
	T_FILTER,    /* name:value with a known name */
	T_BADFILTER, /* name:value with an unknown or unsupported name */
};

enum vkind {
	V_RAW,    /* the bytes as written */
	V_QUOTED, /* between quotes: \\ and \<the quote> are escapes */
	V_SLASH,  /* between slashes: \/ is an escape */
};

/* Where a value's text is: the whole of it including its delimiters, and how to read it. */
struct vspan {
	size_t pos;
	size_t len;
	enum vkind kind;
};

struct token {
	enum tok_kind kind;
	size_t pos; /* the whole token */
	size_t len;
	struct vspan v;             /* a pattern's text, or a filter's value */
	const struct field *field;  /* T_FILTER; T_BADFILTER when known but unsupported */
	size_t name_pos;            /* T_FILTER, T_BADFILTER: the name, after any '-' */
	size_t name_len;
	bool is_negated;            /* written with a leading '-' */
};

struct parser {
	const char *q;
	size_t len;
	struct token *toks;
	size_t n_toks;
	size_t cap_toks;
	size_t i; /* the current token */
	struct query *query;
	enum mode mode;     /* from the first patterntype: in the text */
	bool is_tok_literal; /* the tokens were made in literal mode */
	size_t n_atoms;
	size_t depth;        /* open parentheses */
	size_t n_not;        /* NOTs around the current term */
	unsigned seen;       /* settings given, as 1u << field_id */
};

#define NO_POS ((size_t)-1)

/* ---- small helpers ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether s[0..n) equals the lower-case word w, without regard to case. */
static bool eq_word(const char *s, size_t n, const char *w)
{
	size_t m = strlen(w);

	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != w[i])
			return false;
	return true;
}

/* Where a term ends: whitespace, the end, or a ')' that closes a group. */
static bool is_boundary(const char *q, size_t len, size_t i)
{
	return i >= len || is_space(q[i]) || q[i] == ')';
}

static int fail(size_t pos, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(size_t pos, int code, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_set_at(pos, "%s", msg);
	return code;
}

/*
 * Writes s[0..n) for a message: in double quotes, bytes outside printable ASCII as \xNN, cut
 * after 40 bytes. dst has room for 200 bytes.
 */
static const char *shown(char dst[200], const char *s, size_t n)
{
	size_t o = 0;

	dst[o++] = '"';
	for (size_t i = 0; i < n && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			snprintf(dst + o, 5, "\\x%02x", c);
			o += 4;
		} else {
			dst[o++] = (char)c;
		}
	}
	if (n > 40) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o++] = '"';
	dst[o] = 0;
	return dst;
}

/* ---- tokenizer ---- */

/*
 * A bare term from i: up to whitespace or a ')' that closes a group. Parentheses balanced within
 * the term belong to it (foo(bar)); a backslash keeps the next character from ending the term.
 */
static size_t scan_bare(const char *q, size_t len, size_t i)
{
	size_t depth = 0;

	while (i < len && !is_space(q[i])) {
		if (q[i] == '\\' && i + 1 < len && !is_space(q[i + 1])) {
			i += 2;
			continue;
		}
		if (q[i] == '(') {
			depth++;
		} else if (q[i] == ')') {
			if (depth == 0)
				break;
			depth--;
		}
		i++;
	}
	return i;
}

/*
 * A delimited string at i (q[i] is the delimiter): one past its closing delimiter when it is
 * complete and followed by a term boundary, else 0 (then the delimiter is an ordinary
 * character). A backslash escapes the next byte. An empty pair counts only when allow_empty.
 */
static size_t scan_delimited(const char *q, size_t len, size_t i, bool allow_empty)
{
	char d = q[i];

	for (size_t j = i + 1; j < len; j++) {
		if (q[j] == '\\' && j + 1 < len) {
			j++;
			continue;
		}
		if (q[j] == d) {
			if (j == i + 1 && !allow_empty)
				return 0;
			return is_boundary(q, len, j + 1) ? j + 1 : 0;
		}
	}
	return 0;
}

static int push_token(struct parser *p, const struct token *t)
{
	int err = ARRAY_GROW(&p->toks, &p->cap_toks, p->n_toks + 1);

	if (err < 0)
		return fail(0, err, "out of memory");
	p->toks[p->n_toks++] = *t;
	return 0;
}

/*
 * The length of a predicate's name at s[0..n): "has" and letters or dots after it (has.path),
 * when an opening parenthesis follows; else 0.
 */
static size_t pred_name_len(const char *s, size_t n)
{
	size_t k = 3;

	if (n < 4 || !eq_word(s, 3, "has"))
		return 0;
	while (k < n && (is_alpha(s[k]) || s[k] == '.'))
		k++;
	return k < n && s[k] == '(' ? k : 0;
}

/*
 * A predicate value at i (repo:has.file(path:a content:b)): its name, then parentheses that may
 * hold spaces and quoted strings, up to the one that closes the first. One past it when it is
 * followed by a term boundary, else 0 (then the value is read as a bare term).
 */
static size_t scan_pred(const char *q, size_t len, size_t i)
{
	size_t depth = 0, j = i + pred_name_len(q + i, len - i);

	if (j == i)
		return 0;
	for (; j < len; j++) {
		if (q[j] == '\\' && j + 1 < len) {
			j++;
		} else if (q[j] == '"') {
			size_t end = j + 1;

			while (end < len && q[end] != '"')
				end += q[end] == '\\' && end + 1 < len ? 2 : 1;
			if (end >= len)
				return 0;
			j = end;
		} else if (q[j] == '(') {
			depth++;
		} else if (q[j] == ')' && --depth == 0) {
			return is_boundary(q, len, j + 1) ? j + 1 : 0;
		}
	}
	return 0;
}

/*
 * A filter at i: -?[A-Za-z]+: followed by a value. Not a filter (false): a colon followed by
 * another colon (std::vector) or by // (http://host), and an unknown name with nothing after the
 * colon (default:, public:).
 */
static bool scan_filter(struct token *t, const char *q, size_t len, size_t i)
{
	size_t j = i, k, v;
	const struct field *f;

	if (q[j] == '-')
		j++;
	for (k = j; k < len && is_alpha(q[k]); k++)
		;
	if (k == j || k >= len || q[k] != ':')
		return false;
	v = k + 1;
	if (v < len && q[v] == ':')
		return false;
	if (v + 1 < len && q[v] == '/' && q[v + 1] == '/')
		return false;
	f = field_lookup(q + j, k - j);
	if (!f && is_boundary(q, len, v))
		return false;
	t->kind = f && f->id != FD_UNSUPPORTED ? T_FILTER : T_BADFILTER;
	t->field = f;
	t->is_negated = j > i;
	t->name_pos = j;
	t->name_len = k - j;
	t->v.pos = v;
	t->v.kind = V_RAW;
	if (is_boundary(q, len, v)) {
		t->v.len = 0;
	} else if (q[v] == '"' || q[v] == '\'') {
		size_t end = scan_delimited(q, len, v, true);

		if (end) {
			t->v.kind = V_QUOTED;
			t->v.len = end - v;
		} else {
			t->v.len = scan_bare(q, len, v) - v;
		}
	} else if (f && (f->id == FD_REPO || f->id == FD_FILE) && scan_pred(q, len, v)) {
		t->v.len = scan_pred(q, len, v) - v;
	} else {
		t->v.len = scan_bare(q, len, v) - v;
	}
	t->pos = i;
	t->len = v + t->v.len - i;
	return true;
}

/*
 * Whether the '(' at q[i] begins a group of the regexp rather than of the query: in the regexp
 * type, "(?" (a flag group such as (?i) or (?s:...), a non-capturing or a named group) is part
 * of the pattern, as in Sourcegraph; no query group can begin with '?'.
 */
static bool is_regexp_group(const char *q, size_t len, size_t i, enum mode mode)
{
	return mode == MODE_REGEXP && i + 1 < len && q[i + 1] == '?';
}

static int tokenize(struct parser *p, enum mode mode)
{
	const char *q = p->q;
	size_t len = p->len, i = 0;
	struct token t;
	int err;

	p->n_toks = 0;
	for (;;) {
		while (i < len && is_space(q[i]))
			i++;
		memset(&t, 0, sizeof(t));
		t.pos = i;
		if (i >= len) {
			t.kind = T_EOF;
			return push_token(p, &t);
		}
		if ((q[i] == '(' && !is_regexp_group(q, len, i, mode)) || q[i] == ')') {
			t.kind = q[i] == '(' ? T_LPAREN : T_RPAREN;
			t.len = 1;
		} else if (scan_filter(&t, q, len, i)) {
			/* t is filled in */
		} else {
			size_t end = 0;

			if (q[i] == '"' || q[i] == '\'') {
				end = scan_delimited(q, len, i, true);
				t.kind = T_QUOTED;
				t.v.kind = V_QUOTED;
			} else if (q[i] == '/' && mode != MODE_LITERAL) {
				end = scan_delimited(q, len, i, false);
				t.kind = T_SLASH;
				t.v.kind = V_SLASH;
			}
			if (!end) {
				end = scan_bare(q, len, i);
				t.kind = T_TERM;
				t.v.kind = V_RAW;
				if (eq_word(q + i, end - i, "and"))
					t.kind = T_AND;
				else if (eq_word(q + i, end - i, "or"))
					t.kind = T_OR;
				else if (eq_word(q + i, end - i, "not"))
					t.kind = T_NOT;
			}
			t.len = end - i;
			t.v.pos = i;
			t.v.len = end - i;
		}
		if ((err = push_token(p, &t)) < 0)
			return err;
		i = t.pos + t.len;
	}
}

/* ---- values ---- */

/*
 * Decodes a value into a new NUL-terminated string. When map is given it receives, for every
 * byte of the value, its offset in the query, and one more entry: where the value's text ends.
 */
static int decode(char **out, size_t *out_len, size_t **map, const char *q, const struct vspan *v)
{
	size_t start = v->pos, end = v->pos + v->len, n = 0;
	char d = 0;
	char *s;
	size_t *m = NULL;

	*out = NULL;
	if (map)
		*map = NULL;
	if (v->kind != V_RAW) {
		d = q[start];
		start++;
		end--;
	}
	s = malloc(end - start + 1);
	if (map)
		m = malloc((end - start + 1) * sizeof(*m));
	if (!s || (map && !m)) {
		free(s);
		free(m);
		return fail(0, TRAWL_ENOMEM, "out of memory");
	}
	for (size_t j = start; j < end; j++) {
		if (v->kind != V_RAW && q[j] == '\\' && j + 1 < end &&
		    (q[j + 1] == d || (v->kind == V_QUOTED && q[j + 1] == '\\'))) {
			/* An escape: one byte of value for two of text. */
			if (m)
				m[n] = j;
			s[n++] = q[++j];
			continue;
		}
		if (v->kind != V_RAW && q[j] == '\\' && j + 1 < end) {
			/* Not an escape: both bytes stay, and the second cannot start an escape. */
			if (m)
				m[n] = j;
			s[n++] = q[j++];
		}
		if (m)
			m[n] = j;
		s[n++] = q[j];
	}
	if (m)
		m[n] = end;
	s[n] = 0;
	*out = s;
	*out_len = n;
	if (map)
		*map = m;
	return 0;
}

/*
 * Validates a regex value; its errors are moved to the query's positions through map. what
 * names the value in the message ("file:", "the pattern:").
 */
static int check_regex(struct parser *p, const char *val, size_t n, const size_t *map,
		       const char *what)
{
	struct regex *re = NULL;
	char msg[300];
	size_t rpos, at;
	int err;

	error_clear();
	err = regex_parse(&re, val, n, 0);
	if (err == 0) {
		regex_free(re);
		return 0;
	}
	if (err == TRAWL_ENOMEM)
		return err;
	snprintf(msg, sizeof(msg), "%s", error_last());
	rpos = error_pos();
	at = rpos == NO_POS || rpos > n ? map[0] : map[rpos];
	/* A position just past a bare value at the end of the query points at its last byte. */
	if (at >= p->len && p->len > 0)
		at = p->len - 1;
	return fail(at, err, "bad regular expression in %s %s", what, msg);
}

/*
 * A git ref name (git check-ref-format, for one name that may contain slashes). Returns the
 * offset of the offending byte in s, or NO_POS; *why says what is wrong.
 */
static size_t bad_ref_name(const char *s, size_t n, const char **why)
{
	if (n == 0) {
		*why = "a revision cannot be empty";
		return 0;
	}
	if (n > 255) {
		*why = "a revision is at most 255 bytes";
		return 255;
	}
	if (s[0] == '-') {
		*why = "a revision cannot start with '-'";
		return 0;
	}
	if (n == 1 && s[0] == '@') {
		*why = "'@' alone is not a revision";
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			*why = "a revision cannot contain control characters";
			return i;
		}
		if (c == ' ') {
			*why = "a revision cannot contain spaces";
			return i;
		}
		if (strchr("~^:?*[\\", c)) {
			*why = "a revision cannot contain any of ~ ^ : ? * [ \\";
			return i;
		}
		if (c == '.' && i + 1 < n && s[i + 1] == '.') {
			*why = "a revision cannot contain '..'";
			return i;
		}
		if (c == '@' && i + 1 < n && s[i + 1] == '{') {
			*why = "a revision cannot contain '@{'";
			return i;
		}
		if (c == '/' && (i == 0 || i + 1 == n || s[i + 1] == '/')) {
			*why = "a revision cannot start or end with '/' or contain '//'";
			return i;
		}
		if (c == '.' && (i == 0 || s[i - 1] == '/')) {
			*why = "no part of a revision can start with '.'";
			return i;
		}
		/* A part ending in ".lock" (what git uses for lock files). */
		if (c == '.' && i + 5 <= n && memcmp(s + i, ".lock", 5) == 0 &&
		    (i + 5 == n || s[i + 5] == '/')) {
			*why = "no part of a revision can end with '.lock'";
			return i;
		}
	}
	if (s[n - 1] == '.') {
		*why = "a revision cannot end with '.'";
		return n - 1;
	}
	return NO_POS;
}

static int add_warning(struct parser *p, const char *msg)
{
	struct query *qr = p->query;
	char **v;

	for (size_t i = 0; i < qr->n_warnings; i++)
		if (strcmp(qr->warnings[i], msg) == 0)
			return 0;
	v = realloc(qr->warnings, (qr->n_warnings + 1) * sizeof(*v));
	if (!v)
		return fail(0, TRAWL_ENOMEM, "out of memory");
	qr->warnings = v;
	if (!(v[qr->n_warnings] = strdup(msg)))
		return fail(0, TRAWL_ENOMEM, "out of memory");
	qr->n_warnings++;
	return 0;
}

/* A branch glob after '*' (Sourcegraph's repo:x@*release/v*): like a name, but globs. */
static size_t bad_rev_glob(const char *s, size_t n, const char **why)
{
	if (n == 0 || n > 255) {
		*why = "a revision glob after '*' must be 1 to 255 bytes";
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ' ' || s[i] == '\\') {
			*why = "a revision glob cannot contain control characters, spaces or '\\'";
			return i;
		}
	return NO_POS;
}

/*
 * Records the query's revisions: REV, or several separated by ':' (repo:x@main:dev), each a
 * branch name or '*' and a glob (fnmatch, no flags). pos is where it is written, for errors.
 */
static int set_rev(struct parser *p, const char *rev, size_t n, const size_t *map)
{
	const char *why = NULL;

	for (size_t at = 0; at <= n;) {
		const char *colon = memchr(rev + at, ':', n - at);
		size_t len = colon ? (size_t)(colon - (rev + at)) : n - at;
		size_t bad = len && rev[at] == '*' ? bad_rev_glob(rev + at + 1, len - 1, &why)
						   : bad_ref_name(rev + at, len, &why);

		if (bad != NO_POS) {
			/* An empty part is reported at the ':' before it, inside the query. */
			bad = len == 0 && at > 0 ? at - 1 : bad + at + (len && rev[at] == '*');
			/* An empty glob ("x@*" at the end of the query) is reported at its '*'. */
			if (bad >= n && n > 0)
				bad = n - 1;
			return fail(map[bad < n ? bad : n], TRAWL_EINVAL, "bad revision: %s", why);
		}
		at += len + 1;
	}
	if (!(p->query->rev = strndup(rev, n)))
		return fail(0, TRAWL_ENOMEM, "out of memory");
	return 0;
}

/*
 * A Go duration (300ms, 1.5s, 1m30s, 2h) in milliseconds, rounded up and saturated at
 * UINT64_MAX. Returns the offset of the problem in s, or NO_POS.
 */
static size_t parse_duration(uint64_t *ms, const char **why, const char *s, size_t n)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		{ "ns", 1 },
		{ "us", 1000 },
		{ "\xc2\xb5s", 1000 }, /* U+00B5 MICRO SIGN */
		{ "\xce\xbcs", 1000 }, /* U+03BC GREEK SMALL LETTER MU */
		{ "ms", 1000000 },
		{ "s", 1000000000ull },
		{ "m", 60000000000ull },
		{ "h", 3600000000000ull },
	};
	uint64_t total = 0;
	size_t i = 0;

	while (i < n) {
		uint64_t ip = 0, frac = 0, scale = 1, u = 0, part, fpart;
		size_t digits = 0, start = i, best = 0;
		bool is_sat = false;

		for (; i < n && is_digit(s[i]); i++, digits++) {
			if (ip > 100000000000000ull)
				is_sat = true;
			else
				ip = ip * 10 + (uint64_t)(s[i] - '0');
		}
		if (i < n && s[i] == '.') {
			for (i++; i < n && is_digit(s[i]); i++, digits++) {
				if (scale < 1000000) {
					frac = frac * 10 + (uint64_t)(s[i] - '0');
					scale *= 10;
				}
			}
		}
		if (digits == 0) {
			*why = "expected a number";
			return start;
		}
		for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
			size_t l = strlen(units[k].name);

			if (l > best && l <= n - i && memcmp(s + i, units[k].name, l) == 0) {
				best = l;
				u = units[k].ns;
			}
		}
		if (best == 0) {
			*why = i < n ? "unknown unit (use ns, us, ms, s, m or h)"
				     : "missing unit (use ns, us, ms, s, m or h)";
			return i < n ? i : start;
		}
		i += best;
		if (is_sat || __builtin_mul_overflow(ip, u, &part))
			part = UINT64_MAX;
		/* frac < 10^6 and u <= 3.6 * 10^12: the product fits. */
		fpart = frac * u / scale;
		if (__builtin_add_overflow(part, fpart, &part))
			part = UINT64_MAX;
		if (__builtin_add_overflow(total, part, &total))
			total = UINT64_MAX;
	}
	if (n == 0) {
		*why = "expected a duration such as 500ms, 5s or 1m30s";
		return 0;
	}
	if (total == 0) {
		*why = "a timeout must be longer than 0";
		return 0;
	}
	*ms = total / 1000000 + (total % 1000000 != 0);
	return NO_POS;
}

/* Formats milliseconds as a Go duration: 10s, 1m30s, 500ms, 1m0s500ms is written 1m500ms. */
int query_duration_put(struct buf *b, uint64_t ms)
{
	uint64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, r = ms % 1000;
	int err = 0;

	if (ms == 0)
		return buf_puts(b, "0s");
	if (h && (err = buf_printf(b, "%lluh", (unsigned long long)h)) < 0)
		return err;
	if (m && (err = buf_printf(b, "%llum", (unsigned long long)m)) < 0)
		return err;
	if (s && (err = buf_printf(b, "%llus", (unsigned long long)s)) < 0)
		return err;
	if (r && (err = buf_printf(b, "%llums", (unsigned long long)r)) < 0)
		return err;
	return 0;
}

/* ---- tree ---- */

static void node_free(struct qnode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_sub; i++)
		node_free(n->sub[i]);
	free(n->sub);
	free(n->value);
	free(n->value2);
	free(n);
}

static struct qnode *node_new(enum qnode_op op, size_t pos, size_t len)
{
	struct qnode *n = calloc(1, sizeof(*n));

	if (!n) {
		fail(0, TRAWL_ENOMEM, "out of memory");
		return NULL;
	}
	n->op = op;
	n->pos = pos;
	n->len = len;
	return n;
}

static int node_add(struct qnode *parent, struct qnode *child)
{
	struct qnode **v = realloc(parent->sub, (parent->n_sub + 1) * sizeof(*v));

	if (!v)
		return fail(0, TRAWL_ENOMEM, "out of memory");
	parent->sub = v;
	v[parent->n_sub++] = child;
	return 0;
}

/* Wraps *n in a QN_NOT spanning pos to the end of *n. On failure *n is freed. */
static int wrap_not(struct qnode **n, size_t pos)
{
	struct qnode *x = node_new(QN_NOT, pos, (*n)->pos + (*n)->len - pos);
	int err;

	if (!x) {
		node_free(*n);
		*n = NULL;
		return TRAWL_ENOMEM;
	}
	if ((err = node_add(x, *n)) < 0) {
		node_free(x);
		node_free(*n);
		*n = NULL;
		return err;
	}
	*n = x;
	return 0;
}

/*
 * Joins left and right under op: right is added to left when left already is op, else a new
 * op node holds both. On failure both are freed.
 */
static int join(struct qnode **left, struct qnode *right, enum qnode_op op)
{
	struct qnode *l = *left, *x;
	int err;

	if (!l) {
		*left = right;
		return 0;
	}
	if (l->op == op) {
		x = l;
	} else {
		if (!(x = node_new(op, l->pos, 0))) {
			err = TRAWL_ENOMEM;
			goto fail;
		}
		if ((err = node_add(x, l)) < 0) {
			free(x);
			goto fail;
		}
	}
	if ((err = node_add(x, right)) < 0) {
		l = x; /* it holds the left side now: freed below with right */
		goto fail;
	}
	x->len = right->pos + right->len - x->pos;
	*left = x;
	return 0;
fail:
	node_free(l);
	node_free(right);
	*left = NULL;
	return err;
}

/*
 * Flattens nested AND and OR, replaces a one-child AND or OR by its child and cancels double
 * negation. Every node keeps its own position.
 */
static int simplify(struct qnode **np)
{
	struct qnode *n = *np;
	int err;

	if (n->op == QN_NOT) {
		if ((err = simplify(&n->sub[0])) < 0)
			return err;
		if (n->sub[0]->op == QN_NOT) {
			struct qnode *inner = n->sub[0];

			*np = inner->sub[0];
			inner->n_sub = 0;
			node_free(inner);
			n->n_sub = 0;
			node_free(n);
		}
		return 0;
	}
	if (n->op != QN_AND && n->op != QN_OR)
		return 0;
	size_t total = 0;

	for (size_t i = 0; i < n->n_sub; i++) {
		if ((err = simplify(&n->sub[i])) < 0)
			return err;
		total += n->sub[i]->op == n->op ? n->sub[i]->n_sub : 1;
	}
	if (total != n->n_sub) {
		struct qnode **v = malloc(total * sizeof(*v));
		size_t k = 0;

		if (!v)
			return fail(0, TRAWL_ENOMEM, "out of memory");
		for (size_t i = 0; i < n->n_sub; i++) {
			struct qnode *c = n->sub[i];

			if (c->op == n->op) {
				memcpy(v + k, c->sub, c->n_sub * sizeof(*v));
				k += c->n_sub;
				c->n_sub = 0;
				node_free(c);
			} else {
				v[k++] = c;
			}
		}
		free(n->sub);
		n->sub = v;
		n->n_sub = total;
	}
	if (n->n_sub == 1) {
		*np = n->sub[0];
		n->n_sub = 0;
		node_free(n);
	}
	return 0;
}

/*
 * Whether a node selects something by itself: a pattern or filter does, NOT does not, AND does
 * when one of its children does, OR when all of them do.
 */
static bool is_positive(const struct qnode *n)
{
	switch (n->op) {
	case QN_PATTERN:
	case QN_FILTER:
		return true;
	case QN_NOT:
		return false;
	case QN_AND:
		for (size_t i = 0; i < n->n_sub; i++)
			if (is_positive(n->sub[i]))
				return true;
		return false;
	case QN_OR:
		for (size_t i = 0; i < n->n_sub; i++)
			if (!is_positive(n->sub[i]))
				return false;
		return true;
	}
	return false;
}

/* In a node that is not positive: where the first all-negative part starts. */
static const struct qnode *negative_part(const struct qnode *n, bool *is_in_or)
{
	switch (n->op) {
	case QN_AND:
		return negative_part(n->sub[0], is_in_or);
	case QN_OR:
		*is_in_or = true;
		for (size_t i = 0; i < n->n_sub; i++)
			if (!is_positive(n->sub[i]))
				return negative_part(n->sub[i], is_in_or);
		break;
	default:
		break;
	}
	return n;
}

/* ---- parser ---- */

static const struct token *cur(const struct parser *p)
{
	return &p->toks[p->i];
}

static bool starts_operand(const struct token *t)
{
	switch (t->kind) {
	case T_LPAREN:
	case T_NOT:
	case T_TERM:
	case T_QUOTED:
	case T_SLASH:
	case T_FILTER:
	case T_BADFILTER:
		return true;
	default:
		return false;
	}
}

/*
 * select:symbol or select:symbol.KIND (v[0..n), starting with "symbol"); map gives the query
 * position of each byte of v. An unknown KIND names its column and lists the kinds.
 */
static int set_select_symbol(struct query *qr, const char *v, size_t n, const size_t *map)
{
	char shown_buf[200];

	qr->select = QS_SYMBOL;
	qr->symkind = QK_ANY;
	if (n == 6)
		return 0;
	for (int k = QK_ANY + 1; k < QK_OTHER; k++)
		if (eq_word(v + 7, n - 7, query_symkind_name((enum qsymkind)k))) {
			qr->symkind = (enum qsymkind)k;
			return 0;
		}
	return fail(map[n > 7 ? 7 : 6], TRAWL_EINVAL,
		    "select:symbol.KIND: unknown kind %s; the kinds are function, method, class, "
		    "struct, enum, interface, variable, constant, field, macro, type, module and "
		    "namespace", shown(shown_buf, v + 7, n > 7 ? n - 7 : 0));
}

/* Where a setting may be written: outside parentheses, not under NOT, once. */
static int check_setting_place(struct parser *p, size_t pos, const char *what, unsigned bit)
{
	if (p->depth > 0)
		return fail(pos, TRAWL_EINVAL,
			    "%s applies to the whole query; it cannot be inside parentheses", what);
	if (p->n_not > 0)
		return fail(pos, TRAWL_EINVAL,
			    "%s applies to the whole query; it cannot be under NOT", what);
	if (p->seen & bit)
		return fail(pos, TRAWL_EINVAL, "%s is given more than once", what);
	p->seen |= bit;
	return 0;
}

static enum mode mode_of(const char *v, size_t n, bool *is_known)
{
	*is_known = true;
	if (eq_word(v, n, "keyword") || eq_word(v, n, "standard"))
		return MODE_KEYWORD;
	if (eq_word(v, n, "regexp") || eq_word(v, n, "regex"))
		return MODE_REGEXP;
	if (eq_word(v, n, "literal"))
		return MODE_LITERAL;
	*is_known = false;
	return MODE_KEYWORD;
}

static int apply_setting(struct parser *p, const struct token *t)
{
	const struct field *f = t->field;
	struct query *qr = p->query;
	char what[32], shown_buf[200];
	char *v = NULL;
	size_t n = 0, *map = NULL;
	int err;

	snprintf(what, sizeof(what), "%s:", f->name);
	if (t->is_negated) {
		err = fail(t->pos, TRAWL_EINVAL, "%s cannot be negated", what);
		goto out;
	}
	if ((err = check_setting_place(p, t->pos, what, 1u << f->id)) < 0)
		goto out;
	if ((err = decode(&v, &n, &map, p->q, &t->v)) < 0)
		goto out;
	switch (f->id) {
	case FD_CASE:
		if (eq_word(v, n, "yes"))
			qr->is_case_sensitive = true;
		else if (eq_word(v, n, "no"))
			qr->is_case_sensitive = false;
		else
			err = fail(map[0], TRAWL_EINVAL, "case: expects yes or no, not %s",
				   shown(shown_buf, v, n));
		break;
	case FD_TYPE:
		if (eq_word(v, n, "file"))
			qr->type = QT_FILE;
		else if (eq_word(v, n, "path"))
			qr->type = QT_PATH;
		else if (eq_word(v, n, "repo"))
			qr->type = QT_REPO;
		else if (eq_word(v, n, "symbol"))
			qr->type = QT_SYMBOL;
		else if (eq_word(v, n, "diff") || eq_word(v, n, "commit"))
			err = fail(map[0], TRAWL_EUNSUPPORTED,
				   "type:%s needs commit indexing, not available", v);
		else
			err = fail(map[0], TRAWL_EINVAL,
				   "type: expects file, path, repo or symbol, not %s",
				   shown(shown_buf, v, n));
		break;
	case FD_COUNT: {
		uint64_t c = 0;
		bool is_num = n > 0;

		if (eq_word(v, n, "all")) {
			qr->count = 0;
			break;
		}
		for (size_t i = 0; i < n && is_num; i++) {
			if (!is_digit(v[i]))
				is_num = false;
			else if (c <= QUERY_MAX_COUNT)
				c = c * 10 + (uint64_t)(v[i] - '0');
		}
		if (!is_num)
			err = fail(map[0], TRAWL_EINVAL,
				   "count: expects a number from 1 to %d, or all, not %s",
				   QUERY_MAX_COUNT, shown(shown_buf, v, n));
		else if (c == 0)
			err = fail(map[0], TRAWL_EINVAL, "count: must be at least 1 (or all)");
		else if (c > QUERY_MAX_COUNT)
			err = fail(map[0], TRAWL_ELIMIT, "count: is at most %d (or all)",
				   QUERY_MAX_COUNT);
		else
			qr->count = c;
		break;
	}
	case FD_TIMEOUT: {
		uint64_t ms = 0;
		const char *why = NULL;
		size_t bad = parse_duration(&ms, &why, v, n);

		if (bad != NO_POS) {
			err = fail(map[bad], TRAWL_EINVAL, "timeout: %s", why);
			break;
		}
		if (ms > QUERY_MAX_TIMEOUT_MS) {
			char msg[120];

			ms = QUERY_MAX_TIMEOUT_MS;
			snprintf(msg, sizeof(msg), "timeout: is at most %ds; using %ds",
				 QUERY_MAX_TIMEOUT_MS / 1000, QUERY_MAX_TIMEOUT_MS / 1000);
			if ((err = add_warning(p, msg)) < 0)
				break;
		}
		qr->timeout_ms = (uint32_t)ms;
		break;
	}
	case FD_SELECT:
		if (eq_word(v, n, "repo"))
			qr->select = QS_REPO;
		else if (eq_word(v, n, "file"))
			qr->select = QS_FILE;
		else if (n >= 6 && eq_word(v, 6, "symbol") && (n == 6 || v[6] == '.'))
			err = set_select_symbol(qr, v, n, map);
		else
			err = fail(map[0], TRAWL_EINVAL,
				   "select: expects repo, file, symbol or symbol.KIND, not %s",
				   shown(shown_buf, v, n));
		break;
	case FD_REV:
		if (qr->rev) {
			err = fail(t->pos, TRAWL_EINVAL,
				   "the revision is given twice (rev: and repo:...@rev)");
			break;
		}
		err = set_rev(p, v, n, map);
		break;
	case FD_PATTERNTYPE: {
		bool is_known;
		enum mode m = mode_of(v, n, &is_known);

		if (!is_known && eq_word(v, n, "structural"))
			err = fail(map[0], TRAWL_EUNSUPPORTED,
				   "patterntype:structural is not supported");
		else if (!is_known)
			err = fail(map[0], TRAWL_EINVAL,
				   "patterntype: expects keyword, standard, regexp or literal, not %s",
				   shown(shown_buf, v, n));
		else if (m != p->mode)
			/* Only when a later patterntype: changed how the text was split. */
			err = fail(map[0], TRAWL_EINVAL,
				   "patterntype: conflicts with the way the query was read");
		break;
	}
	default:
		err = fail(t->pos, TRAWL_EINVAL, "internal: %s is not a setting", what);
		break;
	}
out:
	free(v);
	free(map);
	return err;
}

static int count_atom(struct parser *p, size_t pos)
{
	if (++p->n_atoms > QUERY_MAX_ATOMS)
		return fail(pos, TRAWL_ELIMIT, "the query has more than %d patterns and filters",
			    QUERY_MAX_ATOMS);
	return 0;
}

/* A pattern or filter node for token t with the decoded value v (taken over). */
static int make_atom(struct qnode **out, const struct token *t, enum qnode_op op, char *v,
		     size_t n)
{
	struct qnode *x = node_new(op, t->pos, t->len);

	*out = x;
	if (!x) {
		free(v);
		return TRAWL_ENOMEM;
	}
	x->value = v;
	x->value_len = n;
	return 0;
}

/* A copy of s[0..n) as a new NUL-terminated string, or NULL. */
static char *dup_bytes(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

/*
 * The argument of repo:has.file(...): path:REGEX and content:REGEX, each at most once, at least
 * one, separated by spaces; a value may be in double quotes. Their spans within arg go to
 * path/content (len 0 when not given).
 */
static int split_path_content(const char *arg, size_t n, const size_t *map, size_t span[2][2])
{
	size_t i = 0;

	memset(span, 0, 2 * sizeof(span[0]));
	while (i < n) {
		size_t start, end, which, key;

		while (i < n && is_space(arg[i]))
			i++;
		if (i == n)
			break;
		if (n - i >= 5 && eq_word(arg + i, 5, "path:"))
			which = 0, key = 5;
		else if (n - i >= 8 && eq_word(arg + i, 8, "content:"))
			which = 1, key = 8;
		else
			return fail(map[i], TRAWL_EINVAL,
				    "repo:has.file(...) takes path:REGEX and content:REGEX");
		if (span[which][1])
			return fail(map[i], TRAWL_EINVAL, "repo:has.file(...) takes %s once",
				    which ? "content:" : "path:");
		start = i + key;
		if (start < n && arg[start] == '"') {
			for (end = start + 1; end < n && arg[end] != '"';)
				end += arg[end] == '\\' && end + 1 < n ? 2 : 1;
			if (end >= n)
				return fail(map[start], TRAWL_EINVAL, "the quote is never closed");
			span[which][0] = start + 1;
			span[which][1] = end - start - 1;
			i = end + 1;
		} else {
			for (end = start; end < n && !is_space(arg[end]); end++)
				;
			span[which][0] = start;
			span[which][1] = end - start;
			i = end;
		}
		if (span[which][1] == 0)
			return fail(map[start], TRAWL_EINVAL, "repo:has.file(...) needs a regular "
				    "expression after %s", which ? "content:" : "path:");
	}
	if (!span[0][1] && !span[1][1])
		return fail(map[0], TRAWL_EINVAL,
			    "repo:has.file(...) needs path:REGEX, content:REGEX or both");
	return 0;
}

/*
 * A predicate written as a filter's value, v[0..n) = NAME(ARGUMENT) (fields_int.h lists them):
 * a filter node of its kind, its regexes checked where they are written. Unsupported ones are
 * refused (EUNSUPPORTED), unknown ones are EINVAL.
 */
static int parse_pred(struct parser *p, struct qnode **out, const struct token *t, const char *v,
		      size_t n, const size_t *map)
{
	const struct field *f = t->field;
	size_t name_len = pred_name_len(v, n), a0 = name_len + 1, a_len = n - 1 - a0;
	const struct field_pred *pr = field_pred_lookup(f->id, v, name_len);
	const char *arg = v + a0;
	char what[64];
	int err;

	*out = NULL;
	if (!pr)
		return fail(map[0], TRAWL_EINVAL, "unknown predicate %s:%.*s(...); %s",
			    f->name, (int)(name_len > 40 ? 40 : name_len), v,
			    f->id == FD_REPO ? "repo: has has.path, has.file and has.content"
					     : "file: has has.content");
	snprintf(what, sizeof(what), "%s:%s(...)", f->name, pr->name);
	if (pr->arg == PA_NONE)
		return fail(map[0], TRAWL_EUNSUPPORTED, "%s is not supported: it %s", what, pr->why);
	if (pr->arg == PA_REGEX) {
		if (a_len == 0)
			return fail(map[a0], TRAWL_EINVAL, "%s needs a regular expression", what);
		if ((err = check_regex(p, arg, a_len, map + a0, what)) < 0)
			return err;
		if ((err = make_atom(out, t, QN_FILTER, dup_bytes(arg, a_len), a_len)) < 0)
			return err;
	} else {
		size_t span[2][2];

		if ((err = split_path_content(arg, a_len, map + a0, span)) < 0)
			return err;
		for (size_t k = 0; k < 2; k++)
			if (span[k][1] && (err = check_regex(p, arg + span[k][0], span[k][1],
							     map + a0 + span[k][0], what)) < 0)
				return err;
		if ((err = make_atom(out, t, QN_FILTER, dup_bytes(arg + span[0][0], span[0][1]),
				     span[0][1])) < 0)
			return err;
		(*out)->value2 = dup_bytes(arg + span[1][0], span[1][1]);
		(*out)->value2_len = span[1][1];
	}
	if (!(*out)->value || (pr->arg == PA_PATH_CONTENT && !(*out)->value2)) {
		node_free(*out);
		*out = NULL;
		return fail(0, TRAWL_ENOMEM, "out of memory");
	}
	(*out)->filter_kind = pr->filter;
	if (t->is_negated)
		return wrap_not(out, t->pos);
	return 0;
}

static int parse_filter(struct parser *p, struct qnode **out, const struct token *t)
{
	const struct field *f = t->field;
	char what[32], sb[200];
	char *v = NULL;
	size_t n = 0, *map = NULL;
	int err;

	*out = NULL;
	if (f->value == FV_SETTING)
		return apply_setting(p, t);
	snprintf(what, sizeof(what), "%s:", f->name);
	if ((err = count_atom(p, t->pos)) < 0)
		return err;
	if ((err = decode(&v, &n, &map, p->q, &t->v)) < 0)
		return err;
	if (n == 0) {
		err = fail(t->v.pos, TRAWL_EINVAL, "%s needs a value; \"\" matches everything",
			   what);
		goto out;
	}
	if ((f->id == FD_REPO || f->id == FD_FILE) && n && v[n - 1] == ')' && pred_name_len(v, n)) {
		err = parse_pred(p, out, t, v, n, map);
		goto out;
	}
	if (f->id == FD_REPO) {
		/*
		 * repo:NAME@REV: the first '@' that is neither escaped nor in a bracket class, so
		 * a regex can still match '@' as [@].
		 */
		size_t at = NO_POS;

		for (size_t i = 0; i < n && at == NO_POS; i++) {
			if (v[i] == '\\') {
				i++;
			} else if (v[i] == '[') {
				/* To the closing ']' (one first in the class is a member). */
				i++;
				if (i < n && v[i] == '^')
					i++;
				if (i < n && v[i] == ']')
					i++;
				while (i < n && v[i] != ']')
					i += v[i] == '\\' ? 2 : 1;
			} else if (v[i] == '@') {
				at = i;
			}
		}
		if (at != NO_POS) {
			if (t->is_negated) {
				err = fail(map[at], TRAWL_EINVAL,
					   "-repo: cannot name a revision (@...)");
				goto out;
			}
			if (at + 1 == n) {
				err = fail(map[at], TRAWL_EINVAL, "repo: needs a revision after '@'");
				goto out;
			}
			if (at == 0) {
				err = fail(map[0], TRAWL_EINVAL,
					   "repo: needs a repository pattern before '@'");
				goto out;
			}
			if ((err = check_setting_place(p, map[at], "a revision (repo:...@rev)",
						       1u << FD_REV)) < 0)
				goto out;
			if (p->query->rev) {
				err = fail(map[at], TRAWL_EINVAL,
					   "the revision is given twice (rev: and repo:...@rev)");
				goto out;
			}
			if ((err = set_rev(p, v + at + 1, n - at - 1, map + at + 1)) < 0)
				goto out;
			n = at;
			v[n] = 0;
		}
	}
	if (f->value == FV_REGEX) {
		if ((err = check_regex(p, v, n, map, what)) < 0)
			goto out;
	}
	if (f->value == FV_LITERAL) {
		err = make_atom(out, t, QN_PATTERN, v, n);
		v = NULL;
		if (err < 0)
			goto out;
		(*out)->pattern_kind = QP_LITERAL;
	} else {
		uint16_t lang = LANG_UNKNOWN;

		if (f->value == FV_LANG) {
			const char *sugg = NULL;

			lang = lang_find(v, n, &sugg);
			if (lang == LANG_UNKNOWN) {
				if (sugg)
					err = fail(map[0], TRAWL_EINVAL,
						   "unknown language %s; did you mean \"%s\"?",
						   shown(sb, v, n), sugg);
				else
					err = fail(map[0], TRAWL_EINVAL, "unknown language %s",
						   shown(sb, v, n));
				goto out;
			}
		}
		err = make_atom(out, t, QN_FILTER, v, n);
		v = NULL;
		if (err < 0)
			goto out;
		(*out)->filter_kind = f->filter;
		(*out)->lang = lang;
	}
	if (t->is_negated)
		err = wrap_not(out, t->pos);
out:
	free(v);
	free(map);
	return err;
}

static int bad_filter(const struct parser *p, const struct token *t)
{
	const char *name = p->q + t->name_pos;
	const char *best = NULL;
	size_t limit = editdist_limit(t->name_len), best_d = limit + 1;

	if (t->field)
		return fail(t->name_pos, TRAWL_EUNSUPPORTED, "the filter \"%s:\" is not supported",
			    t->field->name);
	/* Names first, then aliases: the order decides ties. */
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < query_n_fields; i++) {
			const struct field *f = &query_fields[i];

			for (size_t k = 0; k < (pass ? FIELD_MAX_ALIASES : 1); k++) {
				const char *cand = pass ? f->aliases[k] : f->name;
				size_t d;

				/* One-letter aliases would match almost anything short. */
				if (!cand || f->id == FD_UNSUPPORTED || strlen(cand) < 3)
					continue;
				d = editdist(name, t->name_len, cand, strlen(cand), limit);
				if (d < best_d) {
					best_d = d;
					best = cand;
				}
			}
		}
	}
	if (best)
		return fail(t->name_pos, TRAWL_EINVAL, "unknown filter \"%.*s\"; did you mean \"%s\"?",
			    (int)(t->name_len > 40 ? 40 : t->name_len), name, best);
	return fail(t->name_pos, TRAWL_EINVAL,
		    "unknown filter \"%.*s\" (to search for the text, put it in quotes)",
		    (int)(t->name_len > 40 ? 40 : t->name_len), name);
}

static int parse_or(struct parser *p, struct qnode **out, size_t open_pos);

/* One term, a filter, a setting (*out stays NULL) or a parenthesized group. */
static int parse_primary(struct parser *p, struct qnode **out)
{
	const struct token *t = cur(p);
	char *v = NULL;
	size_t n = 0, *map = NULL;
	int err;

	*out = NULL;
	if (t->kind == T_LPAREN) {
		if (p->depth >= QUERY_MAX_DEPTH)
			return fail(t->pos, TRAWL_ELIMIT, "parentheses are nested more than %d deep",
				    QUERY_MAX_DEPTH);
		p->depth++;
		p->i++;
		err = parse_or(p, out, t->pos);
		p->depth--;
		if (err < 0)
			return err;
		if (cur(p)->kind != T_RPAREN) {
			node_free(*out);
			*out = NULL;
			return fail(t->pos, TRAWL_EINVAL, "'(' is never closed");
		}
		p->i++;
		return 0;
	}
	p->i++;
	if (t->kind == T_FILTER && t->v.len == 0)
		return fail(t->name_pos, TRAWL_EINVAL,
			    "%s: needs a value (to search for \"%.*s:\" itself, put it in quotes)",
			    t->field->name, (int)t->name_len, p->q + t->name_pos);
	if (t->kind == T_FILTER)
		return parse_filter(p, out, t);
	if (t->kind == T_BADFILTER)
		return bad_filter(p, t);
	/* T_TERM, T_QUOTED, T_SLASH */
	if ((err = count_atom(p, t->pos)) < 0)
		return err;
	if ((err = decode(&v, &n, &map, p->q, &t->v)) < 0)
		return err;
	if (n == 0) {
		err = fail(t->pos, TRAWL_EINVAL, "an empty quoted pattern would match everything");
		goto out;
	}
	bool is_re = t->kind == T_SLASH || (t->kind == T_TERM && p->mode == MODE_REGEXP);

	if (is_re && (err = check_regex(p, v, n, map, "the pattern:")) < 0)
		goto out;
	err = make_atom(out, t, QN_PATTERN, v, n);
	v = NULL;
	if (err < 0)
		goto out;
	(*out)->pattern_kind = is_re ? QP_REGEXP : QP_LITERAL;
out:
	free(v);
	free(map);
	return err;
}

/* NOT* primary. A run of NOTs is read in a loop; an even number cancels out. */
static int parse_unary(struct parser *p, struct qnode **out)
{
	const struct token *first = NULL, *last = NULL;
	size_t n_not = 0;
	int err;

	*out = NULL;
	while (cur(p)->kind == T_NOT) {
		last = cur(p);
		if (!first)
			first = last;
		n_not++;
		p->i++;
	}
	if (n_not && !starts_operand(cur(p)))
		return fail(last->pos, TRAWL_EINVAL, "\"%.*s\" needs a term after it",
			    (int)last->len, p->q + last->pos);
	p->n_not += n_not;
	err = parse_primary(p, out);
	p->n_not -= n_not;
	if (err < 0)
		return err;
	if (n_not % 2 == 1 && *out)
		return wrap_not(out, first->pos);
	return 0;
}

/* unary ([AND] unary)*. *n_operands counts settings too; *out is NULL when all were settings. */
static int parse_and(struct parser *p, struct qnode **out, size_t *n_operands)
{
	struct qnode *x = NULL, *c;
	int err;

	*out = NULL;
	*n_operands = 0;
	for (;;) {
		const struct token *t = cur(p);

		if (t->kind == T_AND) {
			if (*n_operands == 0 || !starts_operand(&p->toks[p->i + 1])) {
				err = fail(t->pos, TRAWL_EINVAL, "\"%.*s\" needs a term on each side",
					   (int)t->len, p->q + t->pos);
				goto fail;
			}
			p->i++;
			continue;
		}
		if (!starts_operand(t))
			break;
		if ((err = parse_unary(p, &c)) < 0)
			goto fail;
		++*n_operands;
		if (c && (err = join(&x, c, QN_AND)) < 0) {
			x = NULL;
			goto fail;
		}
	}
	*out = x;
	return 0;
fail:
	node_free(x);
	return err;
}

/* and (OR and)*. open_pos is where the enclosing '(' is, or NO_POS outside parentheses. */
static int parse_or(struct parser *p, struct qnode **out, size_t open_pos)
{
	struct qnode *x = NULL, *r;
	const struct token *t;
	size_t n;
	int err;

	*out = NULL;
	if ((err = parse_and(p, &x, &n)) < 0)
		return err;
	if (n == 0) {
		t = cur(p);
		if (t->kind == T_EOF && open_pos != NO_POS)
			return fail(open_pos, TRAWL_EINVAL, "'(' is never closed");
		if (t->kind == T_EOF)
			return fail(0, TRAWL_EINVAL, "the query is empty");
		if (t->kind == T_RPAREN && open_pos != NO_POS)
			return fail(open_pos, TRAWL_EINVAL,
				    "empty parentheses (to search for \"()\", put it in quotes)");
		if (t->kind == T_RPAREN)
			return fail(t->pos, TRAWL_EINVAL,
				    "')' closes nothing (to search for it, put the term in quotes)");
		return fail(t->pos, TRAWL_EINVAL, "\"%.*s\" needs a term on each side",
			    (int)t->len, p->q + t->pos);
	}
	while ((t = cur(p))->kind == T_OR) {
		/*
		 * A setting at the top level applies to the whole query even beside OR
		 * (`case:yes a OR b`), as in Sourcegraph; an operand made only of settings is
		 * still refused below ("needs a term on each side").
		 */
		p->i++;
		if ((err = parse_and(p, &r, &n)) < 0)
			goto fail;
		if (n == 0) {
			err = fail(t->pos, TRAWL_EINVAL, "\"%.*s\" needs a term on each side",
				   (int)t->len, p->q + t->pos);
			goto fail;
		}
		/* An operand of only settings has no node: OR needs a term on each side. */
		if (!x || !r) {
			node_free(r);
			err = fail(t->pos, TRAWL_EINVAL, "\"%.*s\" needs a term on each side",
				   (int)t->len, p->q + t->pos);
			goto fail;
		}
		if ((err = join(&x, r, QN_OR)) < 0) {
			x = NULL;
			goto fail;
		}
	}
	*out = x;
	return 0;
fail:
	node_free(x);
	return err;
}

/* The mode the first patterntype: among the tokens asks for (keyword when none or invalid). */
static int first_mode(const struct parser *p, enum mode *mode)
{
	*mode = MODE_KEYWORD;
	for (size_t i = 0; i < p->n_toks; i++) {
		const struct token *t = &p->toks[i];
		char *v;
		size_t n;
		bool is_known;
		int err;

		if (t->kind != T_FILTER || t->field->id != FD_PATTERNTYPE)
			continue;
		if ((err = decode(&v, &n, NULL, p->q, &t->v)) < 0)
			return err;
		*mode = mode_of(v, n, &is_known);
		free(v);
		break;
	}
	return 0;
}

int query_parse(struct query **out, const char *q, size_t len)
{
	struct parser p;
	struct query *qr;
	const char *nul;
	size_t bad;
	int err;

	*out = NULL;
	if (!q && len)
		return fail(0, TRAWL_EINVAL, "no query text");
	if (len > QUERY_MAX_LEN)
		return fail(QUERY_MAX_LEN, TRAWL_ELIMIT, "the query is longer than %d bytes",
			    QUERY_MAX_LEN);
	if (len && (nul = memchr(q, 0, len)) != NULL)
		return fail((size_t)(nul - q), TRAWL_EINVAL, "the query contains a NUL byte");
	if ((bad = utf8_invalid_at((const uint8_t *)q, len)) != len)
		return fail(bad, TRAWL_EINVAL, "the query is not valid UTF-8");
	if (!(qr = calloc(1, sizeof(*qr))))
		return fail(0, TRAWL_ENOMEM, "out of memory");
	qr->type = QT_FILE;
	qr->select = QS_NONE;
	qr->count = QUERY_DEFAULT_COUNT;
	qr->timeout_ms = QUERY_DEFAULT_TIMEOUT_MS;
	qr->default_kind = QP_LITERAL;

	memset(&p, 0, sizeof(p));
	p.q = q ? q : "";
	p.len = len;
	p.query = qr;
	if ((err = tokenize(&p, MODE_KEYWORD)) < 0 || (err = first_mode(&p, &p.mode)) < 0)
		goto out;
	if (p.mode != MODE_KEYWORD) {
		p.is_tok_literal = p.mode == MODE_LITERAL;
		if ((err = tokenize(&p, p.mode)) < 0)
			goto out;
	}
	if ((err = parse_or(&p, &qr->root, NO_POS)) < 0)
		goto out;
	if (cur(&p)->kind != T_EOF) {
		/* parse_or stops at EOF or at a ')' no '(' opened. */
		err = fail(cur(&p)->pos, TRAWL_EINVAL,
			   "')' closes nothing (to search for it, put the term in quotes)");
		goto out;
	}
	if (!qr->root) {
		err = fail(0, TRAWL_EINVAL,
			   "the query needs a pattern or a filter (repo:, file:, lang:), "
			   "not only settings");
		goto out;
	}
	if ((err = simplify(&qr->root)) < 0)
		goto out;
	if (!is_positive(qr->root)) {
		bool is_in_or = false;
		const struct qnode *neg = negative_part(qr->root, &is_in_or);

		err = fail(neg->pos, TRAWL_EINVAL,
			   is_in_or ? "each side of OR needs a pattern or filter that is not negated"
				    : "the query needs a pattern or filter that is not negated "
				      "(NOT and - only exclude)");
		goto out;
	}
	if (qr->select == QS_SYMBOL) {
		/* Sourcegraph's select:symbol selects symbol results: the query is a symbol search. */
		if (qr->type == QT_PATH || qr->type == QT_REPO) {
			err = fail(0, TRAWL_EINVAL, "select:symbol selects symbols; it cannot be "
						    "combined with type:path or type:repo");
			goto out;
		}
		qr->type = QT_SYMBOL;
	}
	qr->default_kind = p.mode == MODE_REGEXP ? QP_REGEXP : QP_LITERAL;
	*out = qr;
	qr = NULL;
out:
	free(p.toks);
	query_free(qr);
	return err;
}

void query_free(struct query *q)
{
	if (!q)
		return;
	node_free(q->root);
	free(q->rev);
	for (size_t i = 0; i < q->n_warnings; i++)
		free(q->warnings[i]);
	free(q->warnings);
	free(q);
}

/* ---- describe ---- */

static int put_string(struct buf *b, const char *s, size_t n)
{
	int err;

	if ((err = buf_putc(b, '"')) < 0)
		return err;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			err = buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			err = buf_printf(b, "\\x%02x", c);
		else
			err = buf_putc(b, (char)c);
		if (err < 0)
			return err;
	}
	return buf_putc(b, '"');
}

static int describe_node(struct buf *b, const struct qnode *n)
{
	int err;

	switch (n->op) {
	case QN_PATTERN:
		if ((err = buf_printf(b, "(pattern %s ",
				      n->pattern_kind == QP_REGEXP ? "regexp" : "literal")) < 0 ||
		    (err = put_string(b, n->value, n->value_len)) < 0)
			return err;
		return buf_putc(b, ')');
	case QN_FILTER:
		if ((err = buf_puts(b, "(filter ")) < 0 ||
		    (err = field_put_filter_name(b, n->filter_kind)) < 0 ||
		    (err = buf_putc(b, ' ')) < 0)
			return err;
		/* A language by its canonical name: lang:golang and lang:Go read the same. */
		if (n->filter_kind == QF_LANG)
			err = put_string(b, lang_name(n->lang), strlen(lang_name(n->lang)));
		else
			err = put_string(b, n->value, n->value_len);
		if (err == 0 && n->value2 && (err = buf_putc(b, ' ')) == 0)
			err = put_string(b, n->value2, n->value2_len);
		if (err < 0)
			return err;
		return buf_putc(b, ')');
	case QN_AND:
	case QN_OR:
	case QN_NOT:
		if ((err = buf_puts(b, n->op == QN_AND ? "(and" : n->op == QN_OR ? "(or" : "(not")) < 0)
			return err;
		for (size_t i = 0; i < n->n_sub; i++)
			if ((err = buf_putc(b, ' ')) < 0 || (err = describe_node(b, n->sub[i])) < 0)
				return err;
		return buf_putc(b, ')');
	}
	return 0;
}

int query_describe(struct buf *out, const struct query *q)
{
	static const char *const types[] = { "file", "path", "repo", "symbol" };
	static const char *const selects[] = { "", "repo", "file", "symbol" };
	int err;

	if (q->root)
		err = describe_node(out, q->root);
	else
		err = buf_puts(out, "(none)");
	if (err < 0)
		return err;
	if (q->default_kind == QP_REGEXP && (err = buf_puts(out, " patterntype:regexp")) < 0)
		return err;
	if (q->type != QT_FILE && (err = buf_printf(out, " type:%s", types[q->type])) < 0)
		return err;
	if (q->select != QS_NONE && (err = buf_printf(out, " select:%s", selects[q->select])) < 0)
		return err;
	if (q->select == QS_SYMBOL && q->symkind != QK_ANY &&
	    (err = buf_printf(out, ".%s", query_symkind_name(q->symkind))) < 0)
		return err;
	if (q->is_case_sensitive && (err = buf_puts(out, " case:yes")) < 0)
		return err;
	if (q->rev) {
		if ((err = buf_puts(out, " rev:")) < 0 ||
		    (err = buf_puts(out, q->rev)) < 0)
			return err;
	}
	if (q->count)
		err = buf_printf(out, " count:%llu", (unsigned long long)q->count);
	else
		err = buf_puts(out, " count:all");
	if (err < 0 || (err = buf_puts(out, " timeout:")) < 0)
		return err;
	return query_duration_put(out, q->timeout_ms);
}
