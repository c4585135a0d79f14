/*
 * Character sets over Unicode scalar values, and the named classes built from the Unicode tables
 * (\d \s \w, POSIX [:name:], \p{..}). Semantics follow Rust's regex crate, which ripgrep uses.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "regex/regex_int.h"
#include "regex/unicode.h"
#include "util/array.h"
#include "util/error.h"

void cset_init(struct cset *s)
{
	memset(s, 0, sizeof(*s));
}

void cset_dispose(struct cset *s)
{
	free(s->r);
	cset_init(s);
}

static int reserve(struct cset *s, size_t n)
{
	if (s->n + n <= s->cap)
		return 0;
	return ARRAY_GROW(&s->r, &s->cap, s->n + n);
}

/* Index of the first range whose hi + 1 >= cp (the first range cp could touch). */
static size_t lower_bound(const struct cset *s, uint32_t cp)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uint64_t)s->r[mid].hi + 1 < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int cset_add(struct cset *s, uint32_t lo, uint32_t hi)
{
	size_t i, j;
	int err;

	if (lo > hi)
		return 0;
	if (hi > UNICODE_MAX)
		hi = UNICODE_MAX;
	/* Fast path: appending in order, as the table-driven builders do. */
	if (s->n == 0 || (uint64_t)s->r[s->n - 1].hi + 1 < lo) {
		if ((err = reserve(s, 1)) < 0)
			return err;
		s->r[s->n++] = (struct crange){ lo, hi };
		return 0;
	}
	i = lower_bound(s, lo);
	j = i;
	while (j < s->n && s->r[j].lo <= (uint64_t)hi + 1)
		j++;
	if (i == j) {
		if ((err = reserve(s, 1)) < 0)
			return err;
		memmove(s->r + i + 1, s->r + i, (s->n - i) * sizeof(*s->r));
		s->r[i] = (struct crange){ lo, hi };
		s->n++;
		return 0;
	}
	if (s->r[i].lo < lo)
		lo = s->r[i].lo;
	if (s->r[j - 1].hi > hi)
		hi = s->r[j - 1].hi;
	s->r[i] = (struct crange){ lo, hi };
	memmove(s->r + i + 1, s->r + j, (s->n - j) * sizeof(*s->r));
	s->n -= j - i - 1;
	return 0;
}

int cset_add_set(struct cset *s, const struct cset *t)
{
	int err;

	for (size_t i = 0; i < t->n; i++)
		if ((err = cset_add(s, t->r[i].lo, t->r[i].hi)) < 0)
			return err;
	return 0;
}

int cset_copy(struct cset *dst, const struct cset *src)
{
	int err;

	cset_init(dst);
	if ((err = cset_add_set(dst, src)) < 0)
		cset_dispose(dst); /* callers treat a failed copy as never made */
	return err;
}

int cset_negate(struct cset *s)
{
	struct cset t;
	uint32_t next = 0;
	int err;

	cset_init(&t);
	for (size_t i = 0; i < s->n; i++) {
		if (s->r[i].lo > next && (err = cset_add(&t, next, s->r[i].lo - 1)) < 0)
			goto fail;
		next = s->r[i].hi + 1;
	}
	if (next <= UNICODE_MAX && (err = cset_add(&t, next, UNICODE_MAX)) < 0)
		goto fail;
	cset_dispose(s);
	*s = t;
	return 0;
fail:
	cset_dispose(&t);
	return err;
}

int cset_intersect(struct cset *s, const struct cset *t)
{
	struct cset out;
	size_t i = 0, j = 0;
	int err = 0;

	cset_init(&out);
	while (i < s->n && j < t->n) {
		uint32_t lo = s->r[i].lo > t->r[j].lo ? s->r[i].lo : t->r[j].lo;
		uint32_t hi = s->r[i].hi < t->r[j].hi ? s->r[i].hi : t->r[j].hi;

		if (lo <= hi && (err = cset_add(&out, lo, hi)) < 0)
			break;
		if (s->r[i].hi < t->r[j].hi)
			i++;
		else
			j++;
	}
	if (err < 0) {
		cset_dispose(&out);
		return err;
	}
	cset_dispose(s);
	*s = out;
	return 0;
}

int cset_subtract(struct cset *s, const struct cset *t)
{
	struct cset nt;
	int err;

	if ((err = cset_copy(&nt, t)) < 0 || (err = cset_negate(&nt)) < 0 ||
	    (err = cset_intersect(s, &nt)) < 0) {
		cset_dispose(&nt);
		return err;
	}
	cset_dispose(&nt);
	return 0;
}

int cset_remove(struct cset *s, uint32_t lo, uint32_t hi)
{
	struct crange one = { lo, hi };
	const struct cset t = { &one, 1, 1 };

	return cset_subtract(s, &t);
}

bool cset_has(const struct cset *s, uint32_t cp)
{
	size_t i = lower_bound(s, cp);

	return i < s->n && s->r[i].lo <= cp && cp <= s->r[i].hi;
}

uint64_t cset_count(const struct cset *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += (uint64_t)s->r[i].hi - s->r[i].lo + 1;
	return n;
}

uint32_t unicode_fold_next(uint32_t cp)
{
	size_t lo = 0, hi = unicode_n_folds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (unicode_folds[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < unicode_n_folds && unicode_folds[lo].cp == cp ? unicode_folds[lo].next : cp;
}

int cset_fold(struct cset *s)
{
	struct cset add;
	int err = 0;

	cset_init(&add);
	/* Walk the fold table rather than every code point: big ranges stay cheap. */
	for (size_t i = 0; i < unicode_n_folds && err == 0; i++) {
		uint32_t c = unicode_folds[i].cp;

		if (!cset_has(s, c))
			continue;
		/* The whole orbit: k folds to K and to the Kelvin sign. */
		for (uint32_t n = unicode_fold_next(c); n != c && err == 0; n = unicode_fold_next(n))
			err = cset_add(&add, n, n);
	}
	if (err == 0)
		err = cset_add_set(s, &add);
	cset_dispose(&add);
	return err;
}

static int add_categories(struct cset *s, uint32_t mask)
{
	int err;

	if (mask & 1u) { /* Cn: everything unassigned */
		struct cset assigned;

		cset_init(&assigned);
		for (size_t i = 0; i < unicode_n_cat_ranges; i++)
			if ((err = cset_add(&assigned, unicode_cat_ranges[i].lo,
					    unicode_cat_ranges[i].hi)) < 0)
				goto cn_out;
		err = cset_negate(&assigned);
		if (err == 0)
			err = cset_add_set(s, &assigned);
cn_out:
		cset_dispose(&assigned);
		if (err < 0)
			return err;
	}
	for (size_t i = 0; i < unicode_n_cat_ranges; i++)
		if ((mask & (1u << unicode_cat_ranges[i].cat)) &&
		    (err = cset_add(s, unicode_cat_ranges[i].lo, unicode_cat_ranges[i].hi)) < 0)
			return err;
	return 0;
}

static uint32_t cat_bit(const char *name)
{
	for (int i = 0; i < UNICODE_N_CATEGORIES; i++)
		if (strcmp(unicode_category_names[i], name) == 0)
			return 1u << i;
	return 0;
}

static uint32_t cat_group(char major)
{
	uint32_t m = 0;

	for (int i = 0; i < UNICODE_N_CATEGORIES; i++)
		if (unicode_category_names[i][0] == major)
			m |= 1u << i;
	return m;
}

/*
 * Unicode's White_Space property (\s), and the parts of Alphabetic that are not letters,
 * marks or letter numbers (circled and squared letters), which \w includes.
 */
static const struct crange white_space[] = {
	{ 0x09, 0x0d }, { 0x20, 0x20 }, { 0x85, 0x85 }, { 0xa0, 0xa0 }, { 0x1680, 0x1680 },
	{ 0x2000, 0x200a }, { 0x2028, 0x2029 }, { 0x202f, 0x202f }, { 0x205f, 0x205f },
	{ 0x3000, 0x3000 },
};

/* Whether alias is one of the '|'-separated names. */
static bool names_have(const char *names, const char *alias)
{
	size_t n = strlen(alias);

	while (*names) {
		size_t k = strcspn(names, "|");

		if (k == n && memcmp(names, alias, n) == 0)
			return true;
		names += k + (names[k] == '|');
	}
	return false;
}

/* Adds the script, script extension or binary property named norm. ENOTFOUND, ENOMEM. */
static int add_named(struct cset *s, const char *norm, enum unicode_property_kind kind)
{
	for (size_t i = 0; i < unicode_n_properties; i++) {
		const struct unicode_property *p = &unicode_properties[i];
		int err;

		if (p->kind != kind || !names_have(p->names, norm))
			continue;
		for (uint32_t k = 0; k < p->n; k++)
			if ((err = cset_add(s, unicode_property_ranges[p->first + k].lo,
					    unicode_property_ranges[p->first + k].hi)) < 0)
				return err;
		return 0;
	}
	return TRAWL_ENOTFOUND;
}

static int add_table(struct cset *s, const struct crange *t, size_t n)
{
	int err;

	for (size_t i = 0; i < n; i++)
		if ((err = cset_add(s, t[i].lo, t[i].hi)) < 0)
			return err;
	return 0;
}

/* UTS #18's \w: Alphabetic, marks, decimal numbers, connector punctuation, joiners. */
static int add_unicode_word(struct cset *s)
{
	int err;

	if ((err = add_categories(s, cat_group('M') | cat_bit("Nd") | cat_bit("Pc"))) < 0 ||
	    (err = add_named(s, "alphabetic", UNICODE_BINARY)) < 0)
		return err;
	return add_named(s, "joincontrol", UNICODE_BINARY);
}

/*
 * Unicode \w built once per process: its ~700 ranges come from tables out of order, and
 * merging them took a tenth of the parse of a pattern like `\w+->lock`. Never freed.
 */
static struct cset unicode_word;
static pthread_once_t unicode_word_once = PTHREAD_ONCE_INIT;
static int unicode_word_err;

static void unicode_word_make(void)
{
	cset_init(&unicode_word);
	unicode_word_err = add_unicode_word(&unicode_word);
}

int cset_add_perl(struct cset *s, char cls, bool is_unicode)
{
	int err = 0;

	switch (cls) {
	case 'd':
		return is_unicode ? add_categories(s, cat_bit("Nd")) : cset_add(s, '0', '9');
	case 's':
		if (!is_unicode)
			return cset_add(s, 0x09, 0x0d) < 0 ? TRAWL_ENOMEM : cset_add(s, ' ', ' ');
		return add_table(s, white_space, sizeof(white_space) / sizeof(white_space[0]));
	case 'w':
		if (!is_unicode) {
			if ((err = cset_add(s, '0', '9')) < 0 || (err = cset_add(s, 'A', 'Z')) < 0 ||
			    (err = cset_add(s, '_', '_')) < 0)
				return err;
			return cset_add(s, 'a', 'z');
		}
		pthread_once(&unicode_word_once, unicode_word_make);
		if (unicode_word_err == 0)
			return cset_add_set(s, &unicode_word);
		return add_unicode_word(s);
	}
	return TRAWL_ENOTFOUND;
}

struct posix_class {
	const char *name;
	struct crange r[4];
};

/* ASCII only, as in Rust's regex crate. */
static const struct posix_class posix_classes[] = {
	{ "alnum", { { '0', '9' }, { 'A', 'Z' }, { 'a', 'z' } } },
	{ "alpha", { { 'A', 'Z' }, { 'a', 'z' } } },
	{ "ascii", { { 0x00, 0x7f } } },
	{ "blank", { { '\t', '\t' }, { ' ', ' ' } } },
	{ "cntrl", { { 0x00, 0x1f }, { 0x7f, 0x7f } } },
	{ "digit", { { '0', '9' } } },
	{ "graph", { { '!', '~' } } },
	{ "lower", { { 'a', 'z' } } },
	{ "print", { { ' ', '~' } } },
	{ "punct", { { '!', '/' }, { ':', '@' }, { '[', '`' }, { '{', '~' } } },
	{ "space", { { '\t', '\r' }, { ' ', ' ' } } },
	{ "upper", { { 'A', 'Z' } } },
	{ "word", { { '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' } } },
	{ "xdigit", { { '0', '9' }, { 'A', 'F' }, { 'a', 'f' } } },
};

int cset_add_posix(struct cset *s, const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(posix_classes) / sizeof(posix_classes[0]); i++) {
		const struct posix_class *pc = &posix_classes[i];
		int err;

		if (strlen(pc->name) != len || memcmp(pc->name, name, len) != 0)
			continue;
		for (size_t k = 0; k < 4 && (k == 0 || pc->r[k].hi); k++)
			if ((err = cset_add(s, pc->r[k].lo, pc->r[k].hi)) < 0)
				return err;
		return 0;
	}
	return TRAWL_ENOTFOUND;
}

struct property_alias {
	const char *name; /* normalized: lower case, no spaces, '_' or '-' */
	const char *cats; /* space-separated categories or majors */
};

static const struct property_alias property_aliases[] = {
	{ "letter", "L" }, { "casedletter", "Lu Ll Lt" }, { "uppercaseletter", "Lu" },
	{ "lowercaseletter", "Ll" }, { "titlecaseletter", "Lt" }, { "modifierletter", "Lm" },
	{ "otherletter", "Lo" }, { "mark", "M" }, { "combiningmark", "M" },
	{ "nonspacingmark", "Mn" }, { "spacingmark", "Mc" }, { "enclosingmark", "Me" },
	{ "number", "N" }, { "decimalnumber", "Nd" }, { "digit", "Nd" }, { "letternumber", "Nl" },
	{ "othernumber", "No" }, { "punctuation", "P" }, { "connectorpunctuation", "Pc" },
	{ "dashpunctuation", "Pd" }, { "openpunctuation", "Ps" }, { "closepunctuation", "Pe" },
	{ "initialpunctuation", "Pi" }, { "finalpunctuation", "Pf" },
	{ "otherpunctuation", "Po" }, { "symbol", "S" }, { "mathsymbol", "Sm" },
	{ "currencysymbol", "Sc" }, { "modifiersymbol", "Sk" }, { "othersymbol", "So" },
	{ "separator", "Z" }, { "spaceseparator", "Zs" }, { "lineseparator", "Zl" },
	{ "paragraphseparator", "Zp" }, { "other", "C" }, { "control", "Cc" }, { "cntrl", "Cc" },
	{ "format", "Cf" }, { "surrogate", "Cs" }, { "privateuse", "Co" }, { "unassigned", "Cn" },
	{ "lc", "Lu Ll Lt" }, { "l&", "Lu Ll Lt" },
};

static uint32_t cats_mask(const char *spec)
{
	uint32_t m = 0;
	char tok[4];

	while (*spec) {
		size_t n = strcspn(spec, " ");

		if (n == 0 || n >= sizeof(tok))
			break;
		memcpy(tok, spec, n);
		tok[n] = 0;
		m |= n == 1 ? cat_group(tok[0]) : cat_bit(tok);
		spec += n;
		while (*spec == ' ')
			spec++;
	}
	return m;
}

int cset_add_property(struct cset *s, const char *name, size_t len)
{
	char norm[64], cat[3] = { 0 };
	size_t n = 0;
	int err;

	/* Rust's loose matching: case, spaces, '_' and '-' do not matter. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == ' ' || c == '_' || c == '-')
			continue;
		if (n + 1 >= sizeof(norm))
			return TRAWL_ENOTFOUND;
		norm[n++] = (char)tolower(c);
	}
	norm[n] = 0;
	if (strcmp(norm, "any") == 0)
		return cset_add(s, 0, UNICODE_MAX);
	if (strcmp(norm, "ascii") == 0)
		return cset_add(s, 0, 0x7f);
	if (strcmp(norm, "assigned") == 0) {
		uint32_t all = (1u << UNICODE_N_CATEGORIES) - 1;

		return add_categories(s, all & ~1u);
	}
	if (n == 1 || n == 2) {
		uint32_t m;

		cat[0] = (char)toupper((unsigned char)norm[0]);
		cat[1] = n == 2 ? norm[1] : 0;
		m = n == 1 ? cat_group(cat[0]) : cat_bit(cat);
		if (m)
			return add_categories(s, m);
	}
	for (size_t i = 0; i < sizeof(property_aliases) / sizeof(property_aliases[0]); i++)
		if (strcmp(property_aliases[i].name, norm) == 0)
			return add_categories(s, cats_mask(property_aliases[i].cats));
	if (strcmp(norm, "whitespace") == 0 || strcmp(norm, "space") == 0)
		return add_table(s, white_space, sizeof(white_space) / sizeof(white_space[0]));
	{
		/* sc=Greek, script:Greek, scx=Greek, gc=Lu; a bare name is a script, then a
		 * binary property (Rust's lookup order after general categories). */
		char *eq = strpbrk(norm, "=:");

		if (eq) {
			const char *v = eq + 1;

			*eq = 0;
			if (strcmp(norm, "sc") == 0 || strcmp(norm, "script") == 0)
				return add_named(s, v, UNICODE_SCRIPT);
			if (strcmp(norm, "scx") == 0 || strcmp(norm, "scriptextensions") == 0)
				return add_named(s, v, UNICODE_SCRIPT_EXT);
			if (strcmp(norm, "gc") == 0 || strcmp(norm, "generalcategory") == 0)
				return cset_add_property(s, v, strlen(v));
			if (strcmp(norm, "gcb") == 0 || strcmp(norm, "graphemeclusterbreak") == 0)
				return add_named(s, v, UNICODE_GRAPHEME_BREAK);
			if (strcmp(norm, "wb") == 0 || strcmp(norm, "wordbreak") == 0)
				return add_named(s, v, UNICODE_WORD_BREAK);
			if (strcmp(norm, "sb") == 0 || strcmp(norm, "sentencebreak") == 0)
				return add_named(s, v, UNICODE_SENTENCE_BREAK);
			return TRAWL_ENOTFOUND;
		}
		/* Only a name that is no script is tried as a binary property: not ENOMEM. */
		if ((err = add_named(s, norm, UNICODE_SCRIPT)) != TRAWL_ENOTFOUND)
			return err;
		return add_named(s, norm, UNICODE_BINARY);
	}
}
