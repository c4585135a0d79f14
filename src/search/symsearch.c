/*
 * type:symbol: a query answered from the shards' SYMBOLS sections (docs/internals/symbols.md)
 * instead of their content. The query's patterns match symbol names, its filters the symbol's
 * file and repository, exactly as for content; results are files holding the symbols found,
 * ranked by their best symbol (docs/results.md, "Symbols").
 *
 * DESIGN: the run is compiled like any query (compile.c: every pattern and filter one atom);
 * then one pattern of the top-level AND drives the lookup: "^name$" (or /^name$/) is an exact
 * lookup and "^prefix" a prefix lookup, both binary searches of a shard's name table (case-
 * insensitive ones fold ASCII, as the query's default case does); a keyword (a substring of the
 * name) or another regex tests each distinct name once, never each symbol. A query with no such
 * pattern (only filters, or an OR of patterns) lists the symbols of each file its filters pass.
 * Every symbol found is then checked against the whole expression: the name against each
 * pattern, the file against each filter. The best count: symbols are kept in a bounded heap, so
 * a short keyword over a large index holds no more than it shows.
 *
 * The shards are searched one after another on the calling thread: a lookup is a binary search,
 * and a scan of the distinct names is bound by a cache miss per name, not by computation
 * (bench/symbol-search.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/search_int.h"
#include "symbols/symbols.h"
#include "util/bitset.h"
#include "util/trigram.h"

/* How one pattern atom matches a symbol name. */
enum name_how {
	NAME_SUBSTR, /* a keyword: the name contains it */
	NAME_PREFIX, /* "^lit": the name starts with it */
	NAME_EXACT,  /* "^lit$": the name is it */
	NAME_REGEX,  /* a regular expression over the name (the atom's compiled pattern) */
};

struct name_match {
	enum name_how how;
	const char *lit; /* NAME_SUBSTR, _PREFIX, _EXACT: borrowed from the query */
	size_t lit_len;
	/*
	 * A string every matching name contains (NAME_SUBSTR: lit; NAME_REGEX: its required
	 * literal, maybe none), in lower case when is_req_icase: a test of each distinct name
	 * looks for it first, a memmem, before any regex.
	 */
	char req[SYMSEC_STR_MAX];
	size_t req_len;
	bool is_req_icase;
	bool is_never; /* a keyword longer than any name */
	/* NAME_REGEX: a literal every match starts with ("/^lit.../"), for the lookup; else 0 */
	char prefix[256];
	size_t prefix_len;
	bool is_exact_regex; /* NAME_REGEX of the form /^lit$/: prefix is the whole name */
};

/* A symbol found, until it is handed out. */
struct sym_rec {
	struct symsec_sym s; /* s.doc: its document */
	size_t shard;
	double score;
	uint64_t seq; /* order found, for a deterministic order among equal scores */
};

struct sym_run {
	struct run r;
	struct worker w;
	struct name_match nm[MAX_ATOMS];
	bool is_icase;
	enum qsymkind symkind;
	/* The lookup: the driving atom (SIZE_MAX: list every symbol of the files that pass). */
	size_t drive;
	enum symsec_mode mode;
	const char *key;
	size_t key_len;
	/* The literal the name is ranked against (the driving pattern's), or none. */
	const char *rank_lit;
	size_t rank_lit_len;
	/* The shard being searched. */
	const struct shard *sh;
	const struct index_repo_entry *e;
	const char *repo;
	uint32_t lo, hi; /* the repository's documents in sh (a compound file holds others) */
	uint64_t *sel, *on; /* sel: owned, w.sel reads it */
	uint32_t cur_doc;
	bool has_cur_doc, is_cur_doc_ok;
	struct shard_doc d;
	/* The best symbols: a min-heap by score of at most cap (all when cap is 0). */
	struct sym_rec *heap;
	size_t n, alloc, cap;
	uint64_t looked; /* symbols the lookups found (before the filters) */
	uint64_t seq;
	size_t n_calls;
};

/* --- names --- */

/* ASCII case folding, as the index's trigrams and the name table's order fold. */
static unsigned char fold(unsigned char c)
{
	return trigram_fold(c);
}

static bool eq_bytes(const char *a, const char *b, size_t n, bool icase)
{
	if (!icase)
		return memcmp(a, b, n) == 0;
	for (size_t i = 0; i < n; i++)
		if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
			return false;
	return true;
}

/*
 * Whether s[0..n) contains lit[0..m); with icase lit is in lower case and s is compared ASCII
 * case-insensitively. Names are at most SYMSEC_STR_MAX bytes: a folded copy and memmem are the
 * fastest way over millions of them.
 */
static bool contains(const char *s, size_t n, const char *lit, size_t m, bool icase)
{
	char low[SYMSEC_STR_MAX];

	if (m > n)
		return false;
	if (m == 0)
		return true;
	if (!icase)
		return memmem(s, n, lit, m) != NULL;
	if (n > sizeof(low)) {
		for (size_t i = 0; i + m <= n; i++)
			if (eq_bytes(s + i, lit, m, true))
				return true;
		return false;
	}
	for (size_t i = 0; i < n; i++)
		low[i] = (char)fold((unsigned char)s[i]);
	return memmem(low, n, lit, m) != NULL;
}

/*
 * The literal a regex's matches all start with: "^" then word bytes or escaped punctuation,
 * up to the first other byte (one before a quantifier, which makes its byte optional). *whole:
 * the regex is exactly "^lit$". Only ASCII, so that an ASCII-folding lookup finds every name
 * a case-insensitive regex matches.
 */
/*
 * Whether the regex has a '|' outside every group and class: "^abc|^xyz" is two alternatives,
 * and a prefix taken from the first would lose every name the second matches.
 */
static bool has_top_level_alternation(const char *re, size_t n)
{
	size_t depth = 0;
	bool in_class = false;

	for (size_t i = 0; i < n; i++) {
		char c = re[i];

		if (c == '\\') {
			i++; /* the escaped byte is a literal (or a class such as \pL) */
			continue;
		}
		if (in_class) {
			in_class = c != ']';
			continue;
		}
		if (c == '[') {
			in_class = true;
			if (i + 1 < n && re[i + 1] == '^')
				i++;
			if (i + 1 < n && re[i + 1] == ']')
				i++; /* "[]" and "[^]" start with a literal ']' */
		} else if (c == '(') {
			depth++;
		} else if (c == ')' && depth) {
			depth--;
		} else if (c == '|' && depth == 0) {
			return true;
		}
	}
	return false;
}

static size_t regex_prefix(char *out, size_t cap, bool *whole, const char *re, size_t n)
{
	size_t i = 1, len = 0;

	*whole = false;
	if (n == 0 || re[0] != '^' || has_top_level_alternation(re, n))
		return 0;
	while (i < n && len < cap) {
		unsigned char c = (unsigned char)re[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_') {
			out[len++] = (char)c;
			i++;
		} else if (c == '\\' && i + 1 < n && strchr(".$^*+?()[]{}|\\/-:", re[i + 1]) &&
			   re[i + 1] != '\0') {
			out[len++] = re[i + 1];
			i += 2;
		} else {
			break;
		}
	}
	if (i == n - 1 && re[i] == '$' && len < cap) {
		*whole = true;
		return len;
	}
	if (i < n && len > 0 && strchr("*?{", re[i]))
		len--; /* "^ab*": only "a" is certain */
	if (len == cap)
		len = 0; /* too long to plan: test the regex on every name */
	return len;
}

/* How pattern node n (atom i) matches names. */
static void plan_atom(struct name_match *m, const struct qnode *n)
{
	memset(m, 0, sizeof(*m));
	if (n->pattern_kind == QP_REGEXP) {
		m->how = NAME_REGEX;
		m->prefix_len = regex_prefix(m->prefix, sizeof(m->prefix), &m->is_exact_regex,
					     n->value, n->value_len);
		return;
	}
	/* A keyword: "^name$" is the whole name, "^name" its start, any other its part. */
	m->lit = n->value;
	m->lit_len = n->value_len;
	m->how = NAME_SUBSTR;
	if (m->lit_len && m->lit[0] == '^') {
		m->lit++;
		m->lit_len--;
		m->how = NAME_PREFIX;
		if (m->lit_len && m->lit[m->lit_len - 1] == '$') {
			m->lit_len--;
			m->how = NAME_EXACT;
		}
	}
}

/*
 * The string every name atom i matches contains (name_match.req): a keyword's, lower-cased
 * when the search ignores case, or a regex's required literal. ENOMEM.
 */
static int plan_required(struct sym_run *sr, size_t i)
{
	struct name_match *m = &sr->nm[i];
	struct buf b;
	bool icase = false;
	int err;

	m->req_len = 0;
	if (m->how == NAME_SUBSTR) {
		if (m->lit_len > sizeof(m->req)) {
			m->is_never = true; /* no name is that long (SYMSEC_STR_MAX) */
			return 0;
		}
		for (size_t k = 0; k < m->lit_len; k++)
			m->req[k] = sr->is_icase ? (char)fold((unsigned char)m->lit[k]) : m->lit[k];
		m->req_len = m->lit_len;
		m->is_req_icase = sr->is_icase;
		return 0;
	}
	if (m->how != NAME_REGEX)
		return 0;
	buf_init(&b, 1 << 16);
	/* An empty literal (an alternation: "^a|^b") requires nothing: b.ptr may be NULL. */
	if ((err = regex_required_literal(&b, &icase, sr->r.atoms[i].pat->re)) == 0 && b.len > 0 &&
	    b.len <= sizeof(m->req)) {
		memcpy(m->req, b.ptr, b.len);
		m->req_len = b.len;
		m->is_req_icase = icase;
	}
	buf_dispose(&b);
	return err == TRAWL_ELIMIT ? 0 : err;
}

/* Numbers the query's pattern and filter leaves as compile.c numbers its atoms (in order). */
static void plan_nodes(struct sym_run *sr, const struct qnode *n, size_t *next)
{
	if (n->op == QN_AND || n->op == QN_OR || n->op == QN_NOT) {
		for (size_t i = 0; i < n->n_sub; i++)
			plan_nodes(sr, n->sub[i], next);
		return;
	}
	if (*next < MAX_ATOMS && n->op == QN_PATTERN)
		plan_atom(&sr->nm[*next], n);
	(*next)++;
}

static bool name_matches(struct sym_run *sr, size_t atom, const char *name, size_t len)
{
	const struct name_match *m = &sr->nm[atom];

	if (m->is_never)
		return false;
	switch (m->how) {
	case NAME_SUBSTR:
		return contains(name, len, m->req, m->req_len, m->is_req_icase);
	case NAME_PREFIX:
		return len >= m->lit_len && eq_bytes(name, m->lit, m->lit_len, sr->is_icase);
	case NAME_EXACT:
		return len == m->lit_len && eq_bytes(name, m->lit, len, sr->is_icase);
	case NAME_REGEX:
		break;
	}
	if (m->req_len && !contains(name, len, m->req, m->req_len, m->is_req_icase))
		return false;
	return verify_text_matches(&sr->w, sr->r.atoms[atom].pat, name, len);
}

/* How good a lookup atom i allows: exact, then prefix, then a scan of the names. */
static int drive_rank(const struct name_match *m)
{
	switch (m->how) {
	case NAME_EXACT:
		return 4;
	case NAME_PREFIX:
		return 3;
	case NAME_REGEX:
		return m->is_exact_regex ? 4 : m->prefix_len ? 2 : 0;
	case NAME_SUBSTR:
		break;
	}
	return 1;
}

/* Chooses the lookup: the best pattern that every result must match (of the top-level AND). */
static void plan_lookup(struct sym_run *sr)
{
	const struct qx *x = sr->r.root;
	const struct qx *const *subs = &x;
	const struct name_match *m;
	size_t n = 1;
	int best = -1;

	sr->drive = SIZE_MAX;
	if (x->op == QN_AND) {
		subs = (const struct qx *const *)x->sub;
		n = x->n_sub;
	}
	for (size_t i = 0; i < n; i++) {
		size_t a = subs[i]->atom;
		int rank;

		if (subs[i]->op != QN_PATTERN || a >= MAX_ATOMS)
			continue;
		if ((rank = drive_rank(&sr->nm[a])) > best) {
			best = rank;
			sr->drive = a;
		}
	}
	if (sr->drive == SIZE_MAX)
		return;
	m = &sr->nm[sr->drive];

	sr->rank_lit = m->lit;
	sr->rank_lit_len = m->lit_len;
	switch (m->how) {
	case NAME_EXACT:
		sr->mode = sr->is_icase ? SYMSEC_EXACT_ICASE : SYMSEC_EXACT;
		sr->key = m->lit;
		sr->key_len = m->lit_len;
		return;
	case NAME_PREFIX:
		sr->mode = sr->is_icase ? SYMSEC_PREFIX_ICASE : SYMSEC_PREFIX;
		sr->key = m->lit;
		sr->key_len = m->lit_len;
		return;
	case NAME_REGEX:
		sr->rank_lit = m->prefix_len ? m->prefix : NULL;
		sr->rank_lit_len = m->prefix_len;
		if (m->is_exact_regex)
			sr->mode = sr->is_icase ? SYMSEC_EXACT_ICASE : SYMSEC_EXACT;
		else if (m->prefix_len)
			sr->mode = sr->is_icase ? SYMSEC_PREFIX_ICASE : SYMSEC_PREFIX;
		else
			sr->mode = SYMSEC_TEST;
		sr->key = m->prefix;
		sr->key_len = m->prefix_len;
		return;
	case NAME_SUBSTR:
		break;
	}
	sr->mode = SYMSEC_TEST;
}

/* SYMSEC_TEST: the driving pattern, once per distinct name. */
static bool test_name(void *arg, const char *name, size_t len)
{
	struct sym_run *sr = arg;

	return name_matches(sr, sr->drive, name, len);
}

/* The driving regex on a name that holds its required literal (symsec_lookup_substring). */
static bool test_regex(void *arg, const char *name, size_t len)
{
	struct sym_run *sr = arg;

	return verify_text_matches(&sr->w, sr->r.atoms[sr->drive].pat, name, len);
}

/* --- ranking --- */

/*
 * The part of a symbol's score known from the symbol alone (docs/results.md, "Symbols"): how
 * its name matches the searched literal (the whole name, then its start, in the same case
 * first), less a point for each byte of the name past the literal (the shorter completion
 * first), then its kind (definitions of types and functions before variables and
 * declarations). The whole score takes the path's length off this: it is also the bound that
 * lets a search skip a symbol before reading its document.
 */
static double score_name(const struct sym_run *sr, const struct symsec_sym *s,
			 enum qsymkind kind)
{
	double score = 100;
	size_t m = sr->rank_lit_len;

	if (sr->rank_lit && m) {
		size_t extra = s->name_len > m ? s->name_len - m : 0;

		if (s->name_len == m && memcmp(s->name, sr->rank_lit, m) == 0)
			score = 400;
		else if (s->name_len == m && eq_bytes(s->name, sr->rank_lit, m, true))
			score = 350;
		else if (s->name_len >= m && memcmp(s->name, sr->rank_lit, m) == 0)
			score = 250;
		else if (s->name_len >= m && eq_bytes(s->name, sr->rank_lit, m, true))
			score = 200;
		score -= (double)(extra < 40 ? extra : 40);
	}
	switch (kind) {
	case QK_FUNCTION:
	case QK_METHOD:
	case QK_CLASS:
	case QK_STRUCT:
	case QK_ENUM:
	case QK_INTERFACE:
	case QK_TYPE:
	case QK_MACRO:
	case QK_MODULE:
	case QK_NAMESPACE:
		score += 40;
		break;
	case QK_CONSTANT:
	case QK_FIELD:
	case QK_VARIABLE:
		score += 20;
		break;
	case QK_ANY:
	case QK_OTHER:
	case QK_N:
		break;
	}
	return score;
}

/* A shorter path first: a tenth of a point per byte, at most 20. */
static double path_penalty(const struct shard_doc *d)
{
	return (double)(d->path_len < 200 ? d->path_len : 200) / 10.0;
}

/* Whether a is worse than b: lower score, or found later. */
static bool rec_worse(const struct sym_rec *a, const struct sym_rec *b)
{
	return a->score < b->score || (a->score == b->score && a->seq > b->seq);
}

static void heap_sift_down(struct sym_rec *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < n && rec_worse(&h[l], &h[m]))
			m = l;
		if (l + 1 < n && rec_worse(&h[l + 1], &h[m]))
			m = l + 1;
		if (m == i)
			return;
		struct sym_rec t = h[i];

		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void heap_sift_up(struct sym_rec *h, size_t i)
{
	while (i > 0 && rec_worse(&h[i], &h[(i - 1) / 2])) {
		struct sym_rec t = h[i];

		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* Keeps rec among the best cap symbols (every one when cap is 0), within the memory limit. */
static int keep(struct sym_run *sr, const struct sym_rec *rec)
{
	size_t limit = sr->r.o->mem_limit;

	if (sr->cap && sr->n == sr->cap) {
		if (!rec_worse(&sr->heap[0], rec))
			return 0;
		sr->heap[0] = *rec;
		heap_sift_down(sr->heap, sr->n, 0);
		return 0;
	}
	if (sr->n == sr->alloc) {
		size_t alloc = sr->alloc ? sr->alloc * 2 : 64;
		struct sym_rec *h;

		if (limit && alloc * sizeof(*h) > limit) {
			atomic_store(&sr->r.is_mem_limit, true);
			return 1;
		}
		if (!(h = realloc(sr->heap, alloc * sizeof(*h))))
			return error_nomem(NULL);
		sr->heap = h;
		sr->alloc = alloc;
		atomic_store(&sr->r.mem_peak, alloc * sizeof(*h));
	}
	sr->heap[sr->n] = *rec;
	heap_sift_up(sr->heap, sr->n++);
	return 0;
}

/* --- evaluation --- */

/* The expression's value for symbol s of the current document. */
static bool eval(struct sym_run *sr, struct doc_ctx *dc, const struct qx *x,
		 const struct symsec_sym *s)
{
	const struct atom *a;

	switch (x->op) {
	case QN_AND:
		for (size_t i = 0; i < x->n_sub; i++)
			if (!eval(sr, dc, x->sub[i], s))
				return false;
		return true;
	case QN_OR:
		for (size_t i = 0; i < x->n_sub; i++)
			if (eval(sr, dc, x->sub[i], s))
				return true;
		return false;
	case QN_NOT:
		return !eval(sr, dc, x->sub[0], s);
	case QN_PATTERN:
	case QN_FILTER:
		break;
	}
	a = &sr->r.atoms[x->atom];
	if (a->kind == ATOM_CONTENT) /* never reached without a symbol (doc_passes) */
		return s && name_matches(sr, x->atom, s->name, s->name_len);
	if (a->ops->is_per_repo)
		return sr->w.repo_val[x->atom] == 1;
	return a->ops->eval_doc(dc, a);
}

/* Reads document doc (once for a run of its symbols): whether the search covers it. */
static int load_doc(struct sym_run *sr, uint32_t doc)
{
	int err;

	if (sr->has_cur_doc && sr->cur_doc == doc)
		return 0;
	sr->has_cur_doc = true;
	sr->cur_doc = doc;
	sr->is_cur_doc_ok = false;
	if ((err = shard_doc(&sr->d, sr->sh, doc)) < 0)
		return err;
	if (sr->d.skip != DOC_INDEXED)
		return 0;
	if (sr->e->n_branches &&
	    !branches_doc_selected(sr->on, sr->w.sel, sr->w.n_words, &sr->r, sr->w.shard_i, doc,
				   &sr->d))
		return 0;
	sr->is_cur_doc_ok = true;
	return 0;
}

/* symsec_match_fn: a symbol the lookup found. */
static int on_symbol(void *arg, const struct symsec_sym *s)
{
	struct sym_run *sr = arg;
	struct doc_ctx dc = { .w = &sr->w, .repo = sr->repo };
	struct sym_rec rec;
	enum qsymkind kind;
	double bound;
	int err;

	/* SECURITY: another repository's symbol in a compound file: never seen nor counted. */
	if (s->doc < sr->lo || s->doc >= sr->hi)
		return 0;
	/* Out of time, canceled, stopped: checked every 256 symbols (a clock read each). */
	if ((++sr->n_calls & 255) == 0 && should_stop(&sr->r))
		return 1;
	sr->looked++;
	kind = query_symkind_of(s->kind, s->kind_len, s->lang, s->lang_len);
	if (sr->symkind != QK_ANY && kind != sr->symkind)
		return 0;
	/*
	 * The kept symbols are count: + 1 already and this one cannot score above the worst of
	 * them (a tie loses: it was found later): it would never be shown. Most symbols of a short
	 * prefix end here, before their document is read.
	 */
	bound = score_name(sr, s, kind);
	if (sr->cap && sr->n == sr->cap && bound <= sr->heap[0].score)
		return 0;
	if ((err = load_doc(sr, s->doc)) < 0)
		return err;
	if (!sr->is_cur_doc_ok)
		return 0;
	dc.d = &sr->d;
	dc.data = sr->d.content;
	dc.len = sr->d.content_len;
	if (!eval(sr, &dc, sr->r.root, s))
		return dc.err < 0 ? dc.err : 0;
	rec = (struct sym_rec){ .s = *s, .shard = sr->w.shard_i,
				.score = bound - path_penalty(&sr->d), .seq = sr->seq++ };
	return keep(sr, &rec);
}

/* Whether x holds a pattern (its value depends on the symbol, not only on the file). */
static bool has_pattern(const struct sym_run *sr, const struct qx *x)
{
	if (x->op == QN_PATTERN || x->op == QN_FILTER)
		return sr->r.atoms[x->atom].kind == ATOM_CONTENT;
	for (size_t i = 0; i < x->n_sub; i++)
		if (has_pattern(sr, x->sub[i]))
			return true;
	return false;
}

/*
 * Whether the document passes the parts of the top-level AND that hold no pattern: a document
 * that does not has no symbol to show.
 */
static bool doc_passes(struct sym_run *sr, struct doc_ctx *dc)
{
	const struct qx *x = sr->r.root;

	if (x->op != QN_AND)
		return has_pattern(sr, x) || eval(sr, dc, x, NULL);
	for (size_t i = 0; i < x->n_sub; i++)
		if (!has_pattern(sr, x->sub[i]) && !eval(sr, dc, x->sub[i], NULL))
			return false;
	return true;
}

/* A query without a pattern to look up: every symbol of each document its filters pass. */
static int list_docs(struct sym_run *sr, const struct symsec *ss)
{
	for (uint32_t id = sr->lo; id < sr->hi && id < ss->n_docs; id++) {
		struct doc_ctx dc = { .w = &sr->w, .repo = sr->repo };
		uint32_t first, n;
		enum symsec_status st;
		int err;

		if ((err = symsec_doc(&first, &n, &st, ss, id)) < 0)
			return err;
		if (n == 0)
			continue;
		if ((err = load_doc(sr, id)) < 0)
			return err;
		if (!sr->is_cur_doc_ok)
			continue;
		dc.d = &sr->d;
		dc.data = sr->d.content;
		dc.len = sr->d.content_len;
		/* The filters alone first: most documents end here. */
		if (!doc_passes(sr, &dc)) {
			if (dc.err < 0)
				return dc.err;
			continue;
		}
		for (uint32_t k = 0; k < n; k++) {
			struct symsec_sym s;

			if ((err = symsec_symbol(&s, ss, first + k)) < 0 ||
			    (err = on_symbol(sr, &s)) != 0)
				return err;
		}
	}
	return 0;
}

/*
 * Whether repo is another repository than the last one noted in *last (a repository's shards
 * are adjacent in the index), noting it: warnings count repositories, not shards.
 */
static bool is_new_repo(const char **last, const char *repo)
{
	if (*last && strcmp(*last, repo) == 0)
		return false;
	*last = repo;
	return true;
}

/*
 * A keyword, or a regex with a required literal, looks the literal up (symsec_lookup_substring:
 * through the section's trigram index of the names when the literal has 3 bytes or more, else
 * by searching each name in place) and runs the regex only on the names that hold it; a regex
 * without one is tested on every distinct name.
 */
static int scan_names(struct sym_run *sr, const struct symsec *ss)
{
	const struct name_match *m = &sr->nm[sr->drive];

	if (m->is_never)
		return 0;
	if (m->how == NAME_SUBSTR)
		return symsec_lookup_substring(ss, m->req, m->req_len, m->is_req_icase, NULL, NULL,
					       on_symbol, sr);
	if (m->how == NAME_REGEX && m->req_len)
		return symsec_lookup_substring(ss, m->req, m->req_len, m->is_req_icase, test_regex,
					       sr, on_symbol, sr);
	return symsec_lookup(ss, NULL, 0, SYMSEC_TEST, test_name, sr, on_symbol, sr);
}

/* Searches shard i: symbols into sr's heap. */
static int search_shard(struct sym_run *sr, struct search_stats *st, size_t i, const char **no_sym,
			const char **no_rev)
{
	const struct shard *sh = index_shard(sr->r.ix, i);
	const char *repo = index_shard_repo(sr->r.ix, i);
	struct symsec ss;
	bool has;
	int v, err;

	/* SECURITY: unreadable repositories are dropped before any other work. */
	if (!search_repos_has(sr->r.repos, repo))
		return 0;
	st->shards_searched++;
	sr->sh = sh;
	sr->e = index_shard_entry(sr->r.ix, i);
	sr->repo = repo;
	index_shard_docs(sr->r.ix, i, &sr->lo, &sr->hi);
	sr->has_cur_doc = false;
	sr->w.shard_i = i;
	sr->w.n_words = bitset_words(sr->e->n_branches);
	memset(sr->w.repo_val, -1, sizeof(sr->w.repo_val));
	if ((err = search_repo_filters(&v, &sr->w, repo, false)) < 0 || v == 0)
		return err;
	free(sr->sel);
	free(sr->on);
	sr->sel = calloc(sr->w.n_words + 1, sizeof(*sr->sel));
	sr->on = calloc(sr->w.n_words + 1, sizeof(*sr->on));
	if (!sr->sel || !sr->on)
		return error_nomem(NULL);
	sr->w.sel = sr->sel;
	if (sr->e->n_branches ? !branches_select(sr->sel, sr->w.n_words, &sr->r, sr->e)
			      : sr->r.o->query->rev != NULL) {
		const char *rev = sr->r.o->query->rev ? sr->r.o->query->rev : "";

		if (is_new_repo(no_rev, repo))
			search_note_rev_missing(st, rev, repo);
		return 0;
	}
	if ((err = search_repo_filters(&v, &sr->w, repo, true)) < 0 || v == 0)
		return err;
	if ((err = symbols_open(&ss, &has, sh)) < 0)
		return err;
	if (!has) {
		if (!is_new_repo(no_sym, repo))
			return 0;
		if (++st->symbols_missing == 1)
			snprintf(st->symbols_warning, sizeof(st->symbols_warning),
				 "repository %s has no symbols: index it with --symbols", repo);
		else
			snprintf(st->symbols_warning, sizeof(st->symbols_warning),
				 "%llu repositories have no symbols (e.g. %s): index them with "
				 "--symbols", (unsigned long long)st->symbols_missing, repo);
		return 0;
	}
	if (sr->drive == SIZE_MAX)
		err = list_docs(sr, &ss);
	else if (sr->mode == SYMSEC_TEST)
		err = scan_names(sr, &ss);
	else
		err = symsec_lookup(&ss, sr->key, sr->key_len, sr->mode, test_name, sr, on_symbol,
				    sr);
	return err < 0 ? err : 0;
}

/* --- hand-out --- */

struct out_rec {
	size_t shard; /* rec's shard and document, beside the keys the sorts compare */
	uint32_t doc;
	size_t rank; /* position in score order */
	size_t file_rank; /* the rank of its file's best symbol */
	struct sym_rec *rec;
};

static int cmp_by_score(const void *a, const void *b)
{
	const struct sym_rec *x = a, *y = b;

	if (rec_worse(y, x))
		return -1;
	return rec_worse(x, y) ? 1 : 0;
}

static int cmp_by_doc(const void *a, const void *b)
{
	const struct out_rec *x = a, *y = b;

	if (x->shard != y->shard)
		return x->shard < y->shard ? -1 : 1;
	if (x->doc != y->doc)
		return x->doc < y->doc ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static int cmp_by_file(const void *a, const void *b)
{
	const struct out_rec *x = a, *y = b;

	if (x->file_rank != y->file_rank)
		return x->file_rank < y->file_rank ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* A symbol's index within its file's run, ordered by line, for one walk over the content. */
struct by_line {
	uint32_t line;
	size_t k;
};

static int cmp_by_line(const void *a, const void *b)
{
	const struct by_line *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->k < y->k ? -1 : x->k > y->k;
}

/*
 * The text of each symbol's line (without its '\n' or '\r'), NULL for a line past the content:
 * one walk over the content in line order, so a file's hand-out costs its size plus n log n,
 * never its size for every symbol (a generated file holds tens of thousands of symbols).
 * order has room for n entries.
 */
static void find_lines(struct search_symbol *syms, struct by_line *order, size_t n,
		       const uint8_t *c, size_t clen)
{
	const uint8_t *p = c, *end = c ? c + clen : NULL, *nl;
	uint64_t at = 1; /* the line p starts */

	for (size_t k = 0; k < n; k++)
		order[k] = (struct by_line){ .line = syms[k].line, .k = k };
	qsort(order, n, sizeof(*order), cmp_by_line);
	for (size_t i = 0; i < n; i++) {
		struct search_symbol *y = &syms[order[i].k];
		uint32_t want = order[i].line;

		y->text = NULL;
		y->text_len = 0;
		if (!c || want == 0)
			continue;
		while (p && at < want) {
			nl = memchr(p, '\n', (size_t)(end - p));
			p = nl ? nl + 1 : NULL;
			at++;
		}
		if (!p || (p == end && want > 1))
			continue;
		nl = memchr(p, '\n', (size_t)(end - p));
		y->text = p;
		y->text_len = (size_t)((nl ? nl : end) - p);
		if (y->text_len && y->text[y->text_len - 1] == '\r')
			y->text_len--;
	}
}

/* The file of recs[0..n) (one document) as a search_file, and hands it to fn. */
static int emit_file(struct sym_run *sr, struct out_rec *recs, size_t n, struct search_symbol *syms,
		     struct search_line *lines, struct by_line *order, const char **branches,
		     search_file_fn fn, void *arg)
{
	const struct shard *sh = index_shard(sr->r.ix, recs[0].shard);
	const struct index_repo_entry *e = index_shard_entry(sr->r.ix, recs[0].shard);
	size_t n_words = bitset_words(e->n_branches), n_branches = 0;
	struct shard_doc d;
	const uint8_t *c;
	size_t clen;
	uint64_t *sel = NULL, *on = NULL;
	int err;

	if ((err = shard_doc(&d, sh, recs[0].doc)) < 0)
		return err;
	c = d.content;
	clen = d.content_len;
	if (clen >= 3 && c[0] == 0xEF && c[1] == 0xBB && c[2] == 0xBF) {
		c += 3; /* a byte order mark is not text of the first line */
		clen -= 3;
	}
	if (e->n_branches) {
		sel = calloc(n_words, sizeof(*sel));
		on = calloc(n_words, sizeof(*on));
		if (!sel || !on) {
			err = error_nomem(NULL);
			goto out;
		}
		if (branches_select(sel, n_words, &sr->r, e))
			branches_doc_selected(on, sel, n_words, &sr->r, recs[0].shard, recs[0].doc,
					      &d);
		for (size_t b = 0; b < e->n_branches; b++)
			if (bitset_test(on, n_words, b))
				branches[n_branches++] = e->branches[b].name;
	}
	for (size_t k = 0; k < n; k++) {
		const struct symsec_sym *s = &recs[k].rec->s;
		struct search_symbol *y = &syms[k];

		*y = (struct search_symbol){
			.name = s->name, .name_len = s->name_len, .kind = s->kind,
			.kind_len = s->kind_len, .scope = s->scope, .scope_len = s->scope_len,
			.scope_kind = s->scope_kind, .scope_kind_len = s->scope_kind_len,
			.lang = s->lang, .lang_len = s->lang_len, .signature = s->signature,
			.signature_len = s->signature_len, .line = s->line,
			.score = recs[k].rec->score,
		};
	}
	find_lines(syms, order, n, c, clen);
	for (size_t k = 0; k < n; k++)
		lines[k] = (struct search_line){ .lineno = syms[k].line,
						 .text = syms[k].text ? syms[k].text
								      : (const uint8_t *)"",
						 .len = syms[k].text_len };
	struct search_file f = {
		.repo = index_shard_repo(sr->r.ix, recs[0].shard), .path = d.path, .path_len = d.path_len, .n_lines = n,
		.lines = lines, .kind = SEARCH_SYMBOL, .lang = d.lang, .score = recs[0].rec->score,
		.content = c, .content_len = clen, .branches = branches, .n_branches = n_branches,
		.symbols = syms, .n_symbols = n,
	};

	err = fn(&f, arg);
out:
	free(sel);
	free(on);
	return err;
}

/*
 * Hands out the symbols kept, in files: files by their best symbol's score, each file's
 * symbols best first.
 */
static int emit(struct sym_run *sr, struct search_stats *st, search_file_fn fn, void *arg)
{
	struct out_rec *o = NULL;
	struct search_symbol *syms = NULL;
	struct search_line *lines = NULL;
	struct by_line *order = NULL;
	const char **branches = NULL;
	size_t max_branches = 1;
	int err = 0;

	if (sr->n == 0)
		return 0;
	qsort(sr->heap, sr->n, sizeof(*sr->heap), cmp_by_score);
	for (size_t i = 0; i < index_n_shards(sr->r.ix); i++)
		if (index_shard_entry(sr->r.ix, i)->n_branches > max_branches)
			max_branches = index_shard_entry(sr->r.ix, i)->n_branches;
	o = calloc(sr->n, sizeof(*o));
	syms = calloc(sr->n, sizeof(*syms));
	lines = calloc(sr->n, sizeof(*lines));
	order = calloc(sr->n, sizeof(*order));
	branches = calloc(max_branches, sizeof(*branches));
	if (!o || !syms || !lines || !order || !branches) {
		err = error_nomem(NULL);
		goto out;
	}
	for (size_t i = 0; i < sr->n; i++)
		o[i] = (struct out_rec){ .shard = sr->heap[i].shard, .doc = sr->heap[i].s.doc,
					 .rank = i, .rec = &sr->heap[i] };
	/* A file's rank is its best symbol's: the first of its run when sorted by document. */
	qsort(o, sr->n, sizeof(*o), cmp_by_doc);
	for (size_t i = 0; i < sr->n; i++)
		o[i].file_rank = i && o[i - 1].shard == o[i].shard && o[i - 1].doc == o[i].doc
					 ? o[i - 1].file_rank
					 : o[i].rank;
	qsort(o, sr->n, sizeof(*o), cmp_by_file);
	for (size_t i = 0, j; i < sr->n && err == 0; i = j) {
		for (j = i + 1; j < sr->n && o[j].file_rank == o[i].file_rank; j++)
			;
		/*
		 * The hand-out keeps to the query's time too: past the budget of a first try (a
		 * server's HTTP thread) the whole search runs again on a search thread; past the
		 * deadline (and its grace) the files handed out so far are the result, flagged.
		 */
		if (sr->r.o->cancel && atomic_load(sr->r.o->cancel))
			break;
		if (is_out_of_time(&sr->r, true)) {
			if (atomic_load(&sr->r.is_over_budget)) {
				error_set("the search needs more than its budget of %.0f ms",
					  sr->r.o->budget_ms);
				err = TRAWL_EAGAIN;
			}
			break;
		}
		err = emit_file(sr, o + i, j - i, syms, lines, order, branches, fn, arg);
		if (err == 0) {
			st->files++;
			st->lines += j - i;
		}
	}
out:
	free(o);
	free(syms);
	free(lines);
	free(order);
	free(branches);
	return err;
}

int symsearch_run(struct search_stats *st, const struct index *ix,
		  const struct search_repos *repos, const struct search_opts *o,
		  search_file_fn fn, void *arg)
{
	struct sym_run *sr = calloc(1, sizeof(*sr));
	const char *no_sym = NULL, *no_rev = NULL;
	size_t n_atoms = 0;
	double t0 = now_ms();
	int err;

	if (!sr)
		return error_nomem(NULL);
	sr->r = (struct run){ .ix = ix, .repos = repos, .o = o };
	if (o->budget_ms > 0)
		sr->r.budget_at_ms = t0 + o->budget_ms;
	if ((err = compile_run(&sr->r, o)) < 0) {
		if (err == TRAWL_ETIMEOUT && is_budget_first(&sr->r))
			err = TRAWL_EAGAIN;
		goto out;
	}
	st->plan_ms = now_ms() - t0;
	sr->w.r = &sr->r;
	if ((err = matcher_scratch_new(&sr->w.scratch)) < 0)
		goto out;
	matcher_scratch_set_deadline(sr->w.scratch, compile_deadline(&sr->r));
	sr->is_icase = !o->query->is_case_sensitive || (o->regex_flags & REGEX_ICASE);
	sr->symkind = o->query->select == QS_SYMBOL ? o->query->symkind : QK_ANY;
	plan_nodes(sr, o->query->root, &n_atoms);
	for (size_t i = 0; i < sr->r.n_atoms && i < n_atoms; i++)
		if (sr->r.atoms[i].kind == ATOM_CONTENT && (err = plan_required(sr, i)) < 0)
			goto out;
	plan_lookup(sr);
	/*
	 * A scan of every distinct name (a keyword, a regex without a literal prefix) or of every
	 * document (no pattern) cannot be interrupted within a shard: it is not tried within a
	 * small budget (a server's HTTP thread) but goes straight to where it may take its time.
	 */
	if (o->budget_ms > 0 && (sr->drive == SIZE_MAX || sr->mode == SYMSEC_TEST)) {
		error_set("a scan of the symbol names needs more than a budget of %.0f ms",
			  o->budget_ms);
		err = TRAWL_EAGAIN;
		goto out;
	}
	/* count: symbols; one more than shown tells whether the limit cut the results. */
	sr->cap = sr->r.limit && sr->r.limit < SIZE_MAX - 1 ? (size_t)sr->r.limit + 1 : 0;
	st->shards_total = index_n_shards(ix);
	for (size_t i = 0; i < index_n_shards(ix) && err == 0; i++) {
		if (should_stop(&sr->r))
			break;
		err = search_shard(sr, st, i, &no_sym, &no_rev);
		if (o->progress) {
			struct search_progress p = { i + 1, index_n_shards(ix), sr->n, 0 };

			o->progress(&p, o->progress_arg);
		}
	}
	st->candidates = sr->looked;
	if (err < 0)
		goto out;
	if (atomic_load(&sr->r.is_over_budget)) {
		error_set("the search needs more than its budget of %.0f ms", o->budget_ms);
		err = TRAWL_EAGAIN;
		goto out;
	}
	if (sr->cap && sr->n == sr->cap) {
		/* The worst of count: + 1 (the heap's root) is not shown: there are more. */
		sr->heap[0] = sr->heap[--sr->n];
		st->is_limit_hit = true;
	}
	err = emit(sr, st, fn, arg);
	st->is_timeout = atomic_load(&sr->r.is_timeout);
	st->is_mem_limit = atomic_load(&sr->r.is_mem_limit);
	st->mem_peak = atomic_load(&sr->r.mem_peak);
out:
	if (o->cancel && atomic_load(o->cancel))
		st->is_canceled = true;
	matcher_scratch_free(sr->w.scratch);
	compile_free(&sr->r);
	free(sr->heap);
	free(sr->sel);
	free(sr->on);
	free(sr);
	st->elapsed_ms = now_ms() - t0;
	return err;
}
