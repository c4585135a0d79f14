/*
 * Ranking: the score of a matching file (docs/results.md, "Ranking"; the weights below), the
 * upper bound of that score known before a document is read (what a ranked search visits its
 * candidates by, best first across every shard), and the cut that tells a search when no
 * candidate left can reach the results it will show.
 *
 * DESIGN: a score is a static part, known from the path alone (rank_doc_base: the kind of
 * path, its length, a pattern matching the file name), plus content points, each a small
 * integer with a fixed maximum (whole word, exact case, matching lines, a line that defines
 * what was searched). The bound of a candidate is its static part plus the content maximum
 * (rank_bound), and the score is computed as the same static part plus the content points in
 * one addition: rounding is monotone, so a score never exceeds its bound, and an early stop
 * by bound drops nothing a full search would show.
 *
 * Only a name earns the definition points: a content pattern that is an identifier (a
 * literal of word bytes). A shard with a symbol index says which of its lines define such a
 * name (rank_shard_defs: one lookup per name before its candidates are ordered), so only the
 * documents that define it leave room for the points in their bound; in a shard without one,
 * a whole-word match of the name on a line that looks like a definition earns them
 * (rank_is_definition), and any document of code may.
 */
#include <stdlib.h>
#include <string.h>

#include "query/lang.h"
#include "search/search_int.h"
#include "symbols/symbols.h"
#include "util/trigram.h"

/* The weights of a file's score (docs/results.md, "Ranking", lists them). */
#define RANK_NAME_MATCH 100.0   /* a content pattern matches the file's base name */
#define RANK_WHOLE_WORD 20      /* a match (in the first lines) is a whole word */
#define RANK_CASE_EXACT 10      /* a match is a literal pattern's exact bytes */
#define RANK_PATH_MAX 200       /* path bytes past this cost no more */
#define RANK_PATH_DIVISOR 10.0  /* a point off per this many bytes of path */
#define RANK_LINES_MAX 10       /* matching lines counted (one point each), and lines examined */
/* Added by the kind of the path. */
#define RANK_DOCUMENTATION (-5.0)
#define RANK_TEST (-15.0)
#define RANK_GENERATED (-25.0)
#define RANK_VENDORED (-30.0)

static bool is_word_byte(uint8_t c)
{
	return c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       c >= 0x80;
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Whether p[0..n) holds only word bytes, spaces and tabs (modifiers like "pub", "export"). */
static bool is_words(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_word_byte(p[i]) && !is_space(p[i]))
			return false;
	return true;
}

/* The first byte of s[0..n) that is not a space or tab, or -1 at the end. */
static int first_non_space(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_space(s[i]))
			return s[i];
	return -1;
}

/*
 * Whether the line, ignoring trailing spaces and a '\r', ends like the head of a function
 * definition: ")", "{", "," or "(" (not ";", a prototype, nor ":" or "." of prose).
 */
static bool ends_declarator(const uint8_t *text, size_t len)
{
	while (len > 0 && (is_space(text[len - 1]) || text[len - 1] == '\r'))
		len--;
	return len > 0 && (text[len - 1] == ')' || text[len - 1] == '{' || text[len - 1] == ',' ||
			   text[len - 1] == '(');
}

/* Keywords that open a definition of the name after them, whatever follows the name. */
static const char *const def_keywords[] = {
	"def", "func", "fn", "function", "interface", "trait", "type", "module", "namespace",
	"macro_rules!",
};

/* Keywords that define the name after them when "{", ":" or the end of the line follows. */
static const char *const body_keywords[] = { "struct", "union", "enum", "class" };

/* Words that start a statement, not a type, in the first column (in a macro, a K&R body). */
static const char *const not_types[] = { "return", "else", "case", "goto", "do", "if",
					 "while", "for", "switch", "sizeof" };

/* Whether p[0..n) is one of the n_words words. */
static bool is_one_of(const uint8_t *p, size_t n, const char *const *words, size_t n_words)
{
	for (size_t i = 0; i < n_words; i++)
		if (strlen(words[i]) == n && memcmp(p, words[i], n) == 0)
			return true;
	return false;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/*
 * One pass back from the match to the word before it, then a look at the byte after it: this
 * runs for every match of a ranked search.
 */
bool rank_is_definition(const uint8_t *text, size_t len, size_t start, size_t end)
{
	size_t lead = 0, kw_end = start, kw_at;
	int next;

	if (start >= end || end > len || (start > 0 && is_word_byte(text[start - 1])) ||
	    (end < len && is_word_byte(text[end])))
		return false; /* only a whole word can be the name defined */
	for (size_t i = start; i < end; i++)
		if (!is_word_byte(text[i]))
			return false; /* nor can "f(x" or "a->b" */
	while (lead < start && is_space(text[lead]))
		lead++;
	next = first_non_space(text + end, len - end);
	while (kw_end > lead && is_space(text[kw_end - 1]))
		kw_end--;
	if (kw_end < start) {
		/* "KEYWORD NAME": the word before the name, after nothing but words. */
		const uint8_t *kw;

		kw_at = kw_end;
		while (kw_at > lead && (is_word_byte(text[kw_at - 1]) || text[kw_at - 1] == '!'))
			kw_at--;
		kw = text + kw_at;
		if (kw_end - kw_at == 6 && memcmp(kw, "define", 6) == 0) {
			/* "#define NAME", "# define NAME" */
			size_t h = kw_at;

			while (h > lead && is_space(text[h - 1]))
				h--;
			return h == lead + 1 && text[lead] == '#';
		}
		if (is_words(text + lead, kw_at - lead)) {
			if (is_one_of(kw, kw_end - kw_at, def_keywords, N_OF(def_keywords)))
				return true;
			/* At the end of the line only when it starts the line: else a return type. */
			if (is_one_of(kw, kw_end - kw_at, body_keywords, N_OF(body_keywords)))
				return next == '{' || next == ':' || (next < 0 && kw_at == lead);
		}
	}
	/*
	 * A C function: "TYPE NAME(" from the first column (definitions are not indented; calls
	 * are), the type made of words, '*' and attribute macros with arguments, the line ending
	 * like a declarator (not a prototype's ";").
	 */
	if (next != '(' || lead != 0 || !ends_declarator(text, len))
		return false;
	if (start == 0)
		return true; /* the type on the line before: "static int\nNAME(int x)" */
	if (!is_word_byte(text[0]) || (!is_space(text[start - 1]) && text[start - 1] != '*'))
		return false;
	for (size_t i = 0; i < start; i++)
		if (!is_word_byte(text[i]) && !is_space(text[i]) && text[i] != '*' &&
		    text[i] != '(' && text[i] != ')' && text[i] != ',')
			return false;
	kw_at = 0;
	while (kw_at < start && is_word_byte(text[kw_at]))
		kw_at++;
	return !is_one_of(text, kw_at, not_types, N_OF(not_types));
}

/*
 * The name content atom a searches for: its literal when that is an identifier (word bytes
 * only), in lower case when *is_icase; else NULL. A regex may match names too, but which one
 * is not known before reading, so it is no name: its search keeps no room for definitions.
 */
static const char *atom_name(const struct atom *a, size_t *len, bool *is_icase)
{
	const char *lit;
	unsigned lit_flags;

	if (a->kind != ATOM_CONTENT || !(lit = matcher_literal(a->pat->m, len, &lit_flags)))
		return NULL;
	for (size_t k = 0; k < *len; k++)
		if (!is_word_byte((uint8_t)lit[k]))
			return NULL;
	*is_icase = (lit_flags & REGEX_LITERAL_ICASE) != 0;
	return *len ? lit : NULL;
}

/* Whether p[0..len) (a match) is one of the names the query searches, in its case. */
static bool is_name(const struct run *r, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < r->n_atoms; i++) {
		size_t n, k = 0;
		bool is_icase;
		const char *name = atom_name(&r->atoms[i], &n, &is_icase);

		if (!name || n != len)
			continue;
		while (k < n && (is_icase ? trigram_fold(p[k]) : p[k]) == (uint8_t)name[k])
			k++;
		if (k == n)
			return true;
	}
	return false;
}

/* The index of the first entry of d whose key is not below key (d->n when none). */
static size_t defs_lower_bound(const struct rank_defs *d, uint64_t key)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->v[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The points line of document id earns as a definition: 0 when it defines no name searched. */
static double defs_line_points(const struct rank_defs *d, uint32_t id, uint64_t line)
{
	uint64_t key = (uint64_t)id << 32 | line;
	size_t i;

	if (line == 0 || line > UINT32_MAX)
		return 0;
	i = defs_lower_bound(d, key);
	return i < d->n && d->v[i].key == key ? d->v[i].points : 0;
}

/* The most points a line of document id earns as a definition. */
static double defs_doc_points(const struct rank_defs *d, uint32_t id)
{
	uint8_t most = 0;

	for (size_t i = defs_lower_bound(d, (uint64_t)id << 32); i < d->n && d->v[i].key >> 32 == id;
	     i++)
		most = d->v[i].points > most ? d->v[i].points : most;
	return most;
}

double rank_line_bonus(const struct doc_ctx *dc, const struct line_rec *lr)
{
	const struct worker *w = dc->w;
	const struct rank_defs *defs = &w->r->jobs[w->job_i].defs;
	const struct match_range *ranges = dc->j->ranges + lr->first_range;

	if (defs->is_from_symbols)
		return defs_line_points(defs, w->doc_id, lr->lineno);
	for (size_t k = 0; k < lr->n_ranges; k++)
		if (is_name(w->r, lr->text + ranges[k].start, ranges[k].end - ranges[k].start) &&
		    rank_is_definition(lr->text, lr->len, ranges[k].start, ranges[k].end))
			return RANK_DEFINITION;
	return 0;
}

/*
 * The kinds of symbol (universal-ctags' names, any language) whose definition is what a search
 * for its name looks for: code's functions, types, macros, constants and variables. The others
 * (members, fields, data keys, labels, headings, ...) earn RANK_DEFINITION_MINOR.
 */
static const char *const major_kinds[] = {
	"function", "method", "subroutine", "procedure", "func", "def", "class", "struct", "union",
	"enum", "enumerator", "interface", "trait", "typedef", "type", "alias", "macro", "define",
	"constant", "variable", "module", "namespace", "package", "implementation", "protocol",
	"record", "singletonMethod", "config",
};

static uint8_t kind_points(const char *kind, size_t len)
{
	return is_one_of((const uint8_t *)kind, len, major_kinds, N_OF(major_kinds))
		       ? RANK_DEFINITION
		       : RANK_DEFINITION_MINOR;
}

/* What on_def collects into, and the documents it may keep: ranges of [lo, hi) pairs. */
struct def_sink {
	struct job *j;
	uint32_t *ranges;
	size_t n_ranges;
};

static bool in_ranges(const struct def_sink *k, uint32_t doc)
{
	size_t lo = 0, hi = k->n_ranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (doc < k->ranges[2 * mid])
			hi = mid;
		else if (doc >= k->ranges[2 * mid + 1])
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static int on_def(void *arg, const struct symsec_sym *sym)
{
	const struct def_sink *k = arg;
	struct job *j = k->j;
	struct rank_defs *d = &j->defs;
	int err;

	if (sym->line == 0)
		return 0; /* ctags gave no line: no matching line can be it */
	/*
	 * SECURITY: a compound file's other repositories' definitions are not kept: those of a
	 * repository the caller cannot read would count against the query's memory.
	 */
	if (!in_ranges(k, sym->doc))
		return 0;
	if ((err = job_grow(j, (void **)&d->v, &d->cap, d->n + 1, sizeof(*d->v))) < 0)
		return err;
	d->v[d->n++] = (struct rank_def){ (uint64_t)sym->doc << 32 | sym->line,
					  kind_points(sym->kind, sym->kind_len) };
	return 0;
}

static int cmp_def(const void *a, const void *b)
{
	const struct rank_def *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* The documents of the job's shards of readable repositories, as ascending [lo, hi) pairs. */
static int readable_ranges(struct def_sink *k, const struct worker *w)
{
	const struct run *r = w->r;
	size_t first = r->group_first[w->job_i], end = r->group_first[w->job_i + 1];
	uint32_t *v = malloc(2 * (end - first) * sizeof(*v) + 1);

	if (!v)
		return error_nomem(NULL);
	for (size_t i = first; i < end; i++) {
		uint32_t lo, hi;

		if (!search_repos_has(r->repos, index_shard_repo(r->ix, i)))
			continue;
		index_shard_docs(r->ix, i, &lo, &hi);
		if (k->n_ranges && v[2 * k->n_ranges - 1] == lo) {
			v[2 * k->n_ranges - 1] = hi; /* adjacent: one range */
			continue;
		}
		v[2 * k->n_ranges] = lo;
		v[2 * k->n_ranges + 1] = hi;
		k->n_ranges++;
	}
	k->ranges = v;
	return 0;
}

int rank_shard_defs(struct job *j, struct worker *w, const struct shard *sh)
{
	struct run *r = w->r;
	struct rank_defs *d = &j->defs;
	struct def_sink k = { .j = j };
	struct symsec s;
	bool has;
	size_t n = 0;
	int err;

	if (r->type != QT_FILE || r->bonus_max <= 0)
		return 0; /* no name searched: no definitions to find */
	if ((err = symbols_open(&s, &has, sh)) < 0 || !has)
		return err;
	if ((err = readable_ranges(&k, w)) < 0)
		return err;
	d->is_from_symbols = true;
	for (size_t i = 0; i < r->n_atoms; i++) {
		size_t len;
		bool is_icase;
		const char *name = atom_name(&r->atoms[i], &len, &is_icase);

		if (name && (err = symsec_lookup(&s, name, len,
						 is_icase ? SYMSEC_EXACT_ICASE : SYMSEC_EXACT, NULL,
						 NULL, on_def, &k)) < 0) {
			if (err == TRAWL_ECORRUPT)
				error_prefix("%s", shard_file(sh));
			free(k.ranges);
			return err;
		}
	}
	free(k.ranges);
	/* By document, then line (the symbols come name by name); a line once, its most points. */
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), cmp_def);
	for (size_t i = 0; i < d->n; i++) {
		if (n > 0 && d->v[i].key == d->v[n - 1].key) {
			if (d->v[i].points > d->v[n - 1].points)
				d->v[n - 1].points = d->v[i].points;
			continue;
		}
		d->v[n++] = d->v[i];
	}
	d->n = n;
	return 0;
}

void rank_defs_dispose(struct rank_defs *d)
{
	free(d->v);
	*d = (struct rank_defs){ 0 };
}

/* The shard's tag of a path: its kind (lang_path_kind). */
static uint8_t path_kind_tag(const char *path, size_t len)
{
	return (uint8_t)lang_path_kind(path, len);
}

double rank_doc_base(struct worker *w, const char *path, size_t path_len, int *kind)
{
	struct run *r = w->r;
	const char *base = memrchr(path, '/', path_len);
	size_t base_len;
	double score = 0;
	static const double kind_bonus[] = {
		[LANG_PATH_SOURCE] = 0, [LANG_PATH_DOCUMENTATION] = RANK_DOCUMENTATION,
		[LANG_PATH_TEST] = RANK_TEST, [LANG_PATH_GENERATED] = RANK_GENERATED,
		[LANG_PATH_VENDORED] = RANK_VENDORED,
	};

	if (*kind < 0)
		*kind = (int)lang_path_kind(path, path_len);
	base = base ? base + 1 : path;
	base_len = path_len - (size_t)(base - path);
	for (size_t i = 0; i < r->n_atoms && r->type == QT_FILE; i++) {
		const struct atom *a = &r->atoms[i];

		if (a->kind == ATOM_CONTENT && verify_text_matches(w, a->pat, base, base_len)) {
			score += RANK_NAME_MATCH;
			break;
		}
	}
	score += kind_bonus[*kind];
	score -= (double)(path_len < RANK_PATH_MAX ? path_len : RANK_PATH_MAX) / RANK_PATH_DIVISOR;
	return score;
}

void rank_query_maxima(struct run *r)
{
	bool has_literal = false;

	for (size_t i = 0; i < r->n_atoms; i++)
		has_literal |= r->atoms[i].literal != NULL;
	/* Only a literal term's exact bytes earn the exact-case points (rank_score_file). */
	r->points_max = (double)(RANK_WHOLE_WORD + (has_literal ? RANK_CASE_EXACT : 0) +
				 RANK_LINES_MAX);
	r->bonus_max = 0;
	for (size_t i = 0; i < r->n_atoms && r->bonus_max == 0; i++) {
		size_t len;
		bool is_icase;

		if (atom_name(&r->atoms[i], &len, &is_icase))
			r->bonus_max = RANK_DEFINITION;
	}
}

double rank_doc_bonus_max(const struct run *r, const struct rank_defs *defs, uint32_t id,
			  int kind)
{
	/* Prose mentions code in code's shapes ("in schedule() can be"): no definitions there. */
	if (kind == LANG_PATH_DOCUMENTATION || r->bonus_max <= 0)
		return 0;
	if (defs->is_from_symbols)
		return defs_doc_points(defs, id);
	return r->bonus_max;
}

double rank_bound(const struct run *r, const struct rank_defs *defs, uint32_t id, double base,
		  int kind)
{
	/* The content points' maximum: only content results have lines. */
	if (r->type != QT_FILE)
		return base;
	return base + (r->points_max + rank_doc_bonus_max(r, defs, id, kind));
}

/*
 * A match in the file name, whole-word and case-exact matches, a line that defines what was
 * searched, source over documentation, tests, generated and vendored code, shorter paths, and
 * a few more matching lines.
 */
double rank_score_file(struct doc_ctx *dc, const struct file_rec *fr)
{
	struct run *r = dc->w->r;
	struct worker *w = dc->w;
	int kind = w->has_doc_base ? w->doc_kind : -1;
	double base = w->has_doc_base ? w->doc_base
				      : rank_doc_base(w, fr->path, fr->path_len, &kind);
	double bonus = 0,
	       bonus_max = rank_doc_bonus_max(r, &r->jobs[w->job_i].defs, w->doc_id, kind);
	int points = 0;
	bool is_word = false, is_exact = false;

	for (size_t l = 0; l < fr->n_lines; l++) {
		const struct line_rec *lr = &dc->j->lines[fr->first_line + l];

		if (bonus < bonus_max) {
			double b = rank_line_bonus(dc, lr);

			b = b < bonus_max ? b : bonus_max; /* the bound's promise */
			bonus = b > bonus ? b : bonus;
		}
		for (size_t k = 0; k < lr->n_ranges && l < RANK_LINES_MAX; k++) {
			const struct match_range *m = &dc->j->ranges[lr->first_range + k];

			if ((m->start == 0 || !is_word_byte(lr->text[m->start - 1])) &&
			    (m->end >= lr->len || !is_word_byte(lr->text[m->end])))
				is_word = true;
			for (size_t i = 0; i < r->n_atoms && !is_exact; i++) {
				const struct atom *a = &r->atoms[i];

				is_exact = a->literal && a->literal_len == m->end - m->start &&
					   memcmp(a->literal, lr->text + m->start, a->literal_len) == 0;
			}
		}
	}
	points += is_word ? RANK_WHOLE_WORD : 0;
	points += is_exact ? RANK_CASE_EXACT : 0;
	points += (int)(fr->n_lines < RANK_LINES_MAX ? fr->n_lines : RANK_LINES_MAX);
	/*
	 * One addition of the static part: the score stays within rank_bound (see DESIGN), given
	 * points + bonus <= the sum of the maxima added there, exactly (small integers).
	 */
	return base + ((double)points + bonus);
}

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->bound != y->bound)
		return x->bound > y->bound ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int rank_candidates(struct job *j, struct worker *w, const struct shard *sh,
		    const struct docset *cand, uint64_t *on, uint32_t view)
{
	struct run *r = w->r;
	const struct index_repo_entry *e = index_shard_entry(r->ix, w->shard_i);
	uint32_t n_docs = shard_n_docs(sh);
	size_t n = cand->is_all ? n_docs : cand->ids.len;
	/* Worth computing for a whole shard when kept for later queries, or ranking much of it. */
	const uint8_t *kinds = shard_path_tags(sh, path_kind_tag,
					       r->o->is_resident || n >= n_docs / 8);
	int err = 0;

	if (j->n_cands + n > j->cap_cands) {
		size_t cap = j->n_cands + n > 2 * j->cap_cands ? j->n_cands + n : 2 * j->cap_cands;
		struct cand *v = realloc(j->cands, (cap ? cap : 1) * sizeof(*v));

		if (!v)
			return error_nomem(NULL);
		j->cands = v;
		j->cap_cands = cap;
	}
	for (size_t i = 0; i < n && !should_stop(r); i++) {
		uint32_t id = cand->is_all ? (uint32_t)i : cand->ids.v[i];
		struct shard_doc d;
		double base;
		int kind;

		if ((err = shard_doc(&d, sh, id)) < 0)
			break;
		if (d.skip != DOC_INDEXED && r->type != QT_PATH)
			continue;
		if (e->n_branches &&
		    !branches_doc_selected(on, w->sel, w->n_words, r, w->shard_i, id, &d))
			continue;
		kind = kinds ? kinds[id] : -1;
		base = rank_doc_base(w, d.path, d.path_len, &kind);
		j->cands[j->n_cands++] = (struct cand){
			.base = base,
			.bound = rank_bound(r, &j->defs, id, base, kind),
			.id = id,
			.view = view,
			.kind = (uint8_t)kind,
		};
	}
	return err;
}

void rank_candidates_sort(struct job *j)
{
	if (j->n_cands > 1)
		qsort(j->cands, j->n_cands, sizeof(*j->cands), cmp_cand);
}

/* --- the cut --- */

void rank_cut_init(struct rank_cut *c, uint64_t need)
{
	memset(c, 0, sizeof(*c));
	c->need = need;
}

void rank_cut_dispose(struct rank_cut *c)
{
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
}

static bool cut_less(const struct rank_cut_ent *a, const struct rank_cut_ent *b)
{
	return a->score < b->score;
}

static void cut_swap(struct rank_cut_ent *a, struct rank_cut_ent *b)
{
	struct rank_cut_ent t = *a;

	*a = *b;
	*b = t;
}

static void cut_pop(struct rank_cut *c)
{
	size_t i = 0;

	c->lines -= c->v[0].lines;
	c->v[0] = c->v[--c->n];
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < c->n && cut_less(&c->v[l], &c->v[m]))
			m = l;
		if (l + 1 < c->n && cut_less(&c->v[l + 1], &c->v[m]))
			m = l + 1;
		if (m == i)
			break;
		cut_swap(&c->v[i], &c->v[m]);
		i = m;
	}
}

/*
 * Keeps the fewest best files whose lines reach need: a min-heap by score, its lowest popped
 * while the others still hold need lines. Every file left out scores no more than the lowest
 * kept, so that lowest is at most the score of the last file shown.
 */
int rank_cut_add(struct rank_cut *c, double score, uint64_t lines)
{
	size_t i;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct rank_cut_ent *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return error_nomem(NULL);
		c->v = v;
		c->cap = cap;
	}
	i = c->n++;
	c->v[i] = (struct rank_cut_ent){ score, lines };
	c->lines += lines;
	while (i > 0 && cut_less(&c->v[i], &c->v[(i - 1) / 2])) {
		cut_swap(&c->v[i], &c->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	while (c->n > 1 && c->lines - c->v[0].lines >= c->need)
		cut_pop(c);
	return 0;
}

bool rank_cut_excludes(const struct rank_cut *c, double bound)
{
	return c->n > 0 && c->lines >= c->need && bound < c->v[0].score;
}
