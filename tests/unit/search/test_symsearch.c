/*
 * Unit tests for type:symbol (src/search/symsearch.c) through search_request_run, over shards
 * whose SYMBOLS sections the test writes itself (no ctags): exact, prefix, substring and regex
 * names, case, every filter and negation, select:symbol.KIND, count:, ranking, repositories
 * without symbols (an alert, never silence), and the readable set (a repository the caller may
 * not read gives no symbol, count or alert).
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "index/shard.h"
#include "index/shard_int.h"
#include "query/lang.h"
#include "query/query.h"
#include "search/request.h"
#include "symbols/symsec.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"
#include "unit/testlib.h"

static char ixdir[256];

/* A symbol of the fixture: its document (index in the repository's list), name, kind, ... */
struct tsym {
	uint32_t doc;
	uint32_t line;
	const char *name, *kind, *scope, *scope_kind, *lang;
};

struct tdoc {
	const char *path;
	const char *content;
};

struct trepo {
	const char *name;
	bool has_symbols;
	const struct tdoc *docs;
	size_t n_docs;
	const struct tsym *syms;
	size_t n_syms;
};

static const struct tdoc alpha_docs[] = {
	{ "src/config.c", "int parse_config(void)\n{\n#define MAX_CONFIG 1\nstruct Config {\n"
			  "static int config_count;\n" },
	{ "include/config.h", "int parse_config(void);\n" },
	{ "test/deep/dir/config_test.c", "int parse_config(void) { return 1; }\n" },
	{ "py/util.py", "class Parser:\n    def parse(self):\n        pass\n" },
	{ "README.md", "parse_config is described here\n" },
};
static const struct tsym alpha_syms[] = {
	{ 0, 1, "parse_config", "function", NULL, NULL, "C" },
	{ 0, 3, "MAX_CONFIG", "macro", NULL, NULL, "C" },
	{ 0, 4, "Config", "struct", NULL, NULL, "C" },
	{ 0, 5, "config_count", "variable", NULL, NULL, "C" },
	{ 1, 1, "parse_config", "prototype", NULL, NULL, "C++" },
	{ 2, 1, "parse_config", "function", NULL, NULL, "C" },
	{ 3, 1, "Parser", "class", NULL, NULL, "Python" },
	{ 3, 2, "parse", "member", "Parser", "class", "Python" },
};
static const struct tdoc beta_docs[] = { { "b.c", "int parse_config(int x) { return x; }\n" } };
static const struct tsym beta_syms[] = { { 0, 1, "parse_config", "function", NULL, NULL, "C" } };
static const struct tdoc nosym_docs[] = { { "n.c", "int parse_config(void);\n" } };
static const struct tdoc hidden_docs[] = {
	{ "h.c", "int parse_config(void) { return 2; }\nint secret_fn(void) { return 3; }\n" },
};
static const struct tsym hidden_syms[] = {
	{ 0, 1, "parse_config", "function", NULL, NULL, "C" },
	{ 0, 2, "secret_fn", "function", NULL, NULL, "C" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const struct trepo repos[] = {
	{ "alpha", true, alpha_docs, N(alpha_docs), alpha_syms, N(alpha_syms) },
	{ "beta", true, beta_docs, N(beta_docs), beta_syms, N(beta_syms) },
	{ "hidden", true, hidden_docs, N(hidden_docs), hidden_syms, N(hidden_syms) },
	{ "nosym", false, nosym_docs, N(nosym_docs), NULL, 0 },
};

struct text {
	const struct trepo *r;
	struct symsec_builder *b;
};

/* The shard writer extension: each document's symbols from the fixture. */
static int t_doc(void *arg, uint32_t doc, const char *path, size_t path_len,
		 const uint8_t *content, size_t content_len, enum doc_skip skip, uint16_t lang)
{
	struct text *t = arg;
	int err;

	(void)path;
	(void)path_len;
	(void)content;
	(void)content_len;
	(void)skip;
	(void)lang;
	if ((err = symsec_builder_doc(t->b, doc, SYMSEC_OK)) < 0)
		return err;
	for (size_t i = 0; i < t->r->n_syms; i++) {
		const struct tsym *s = &t->r->syms[i];
		struct symsec_in in = {
			.name = s->name, .name_len = strlen(s->name), .kind = s->kind,
			.scope = s->scope, .scope_len = s->scope ? strlen(s->scope) : 0,
			.scope_kind = s->scope_kind, .lang = s->lang, .line = s->line,
		};

		if (s->doc == doc && (err = symsec_builder_add(t->b, &in)) < 0)
			return err;
	}
	return 0;
}

static int t_finish(void *arg, struct buf *out, uint32_t *count, uint32_t n_docs)
{
	return symsec_builder_finish(((struct text *)arg)->b, out, count, n_docs);
}

static int write_repo(const struct trepo *r)
{
	struct text t = { .r = r };
	struct shard_writer_ext ext = { .id = SEC_SYMBOLS, .doc = t_doc, .finish = t_finish,
					.arg = &t };
	struct shard_writer *w = NULL;
	char name[64], path[512];
	char *files[1] = { name };
	int err;

	snprintf(name, sizeof(name), "%s-0.shard", r->name);
	snprintf(path, sizeof(path), "%s/%s", ixdir, name);
	if ((err = symsec_builder_new(&t.b)) < 0 ||
	    (err = shard_writer_new_ext(&w, path, r->name, r->has_symbols ? &ext : NULL)) < 0)
		goto out;
	for (size_t i = 0; i < r->n_docs; i++) {
		const struct tdoc *d = &r->docs[i];
		size_t len = strlen(d->content);

		if ((err = shard_writer_add(w, d->path, strlen(d->path), (const uint8_t *)d->content,
					    len, len, DOC_INDEXED,
					    lang_detect(d->path, strlen(d->path)))) < 0)
			goto out;
	}
	if ((err = shard_writer_finish(w)) < 0)
		goto out;
	err = index_commit_repo(ixdir, r->name, files, 1);
out:
	shard_writer_free(w);
	symsec_builder_free(t.b);
	return err;
}

static int setup(void **state)
{
	if (testlib_setup(state) < 0)
		return -1;
	snprintf(ixdir, sizeof(ixdir), "%s/ix", testlib_tmpdir());
	file_mkdirs(ixdir);
	for (size_t i = 0; i < N(repos); i++)
		if (write_repo(&repos[i]) < 0)
			return -1;
	return 0;
}

/* What a search gave: "repo/path:line:name;" per symbol, in order, and the alerts. */
struct rec {
	struct search_sink sink;
	struct buf got;
	struct buf alerts;
	size_t n_files;
	size_t n_symbols;
	struct search_symbol first; /* the first symbol (its strings: copied below) */
	char first_scope[64];
	char first_scope_kind[32];
	char first_lang[32];
	char first_text[128];
	char first_kind[32];
};

static int rec_file(struct search_sink *sk, const struct search_file *f)
{
	struct rec *r = (struct rec *)sk;

	assert_int_equal(f->kind, SEARCH_SYMBOL);
	assert_int_equal(f->n_lines, f->n_symbols);
	for (size_t i = 0; i < f->n_symbols; i++) {
		const struct search_symbol *y = &f->symbols[i];

		if (r->n_symbols++ == 0) {
			r->first = *y;
			snprintf(r->first_scope, sizeof(r->first_scope), "%.*s", (int)y->scope_len,
				 y->scope ? y->scope : "");
			snprintf(r->first_text, sizeof(r->first_text), "%.*s", (int)y->text_len,
				 y->text ? (const char *)y->text : "");
			snprintf(r->first_kind, sizeof(r->first_kind), "%.*s", (int)y->kind_len,
				 y->kind);
			snprintf(r->first_lang, sizeof(r->first_lang), "%.*s", (int)y->lang_len,
				 y->lang);
			snprintf(r->first_scope_kind, sizeof(r->first_scope_kind), "%.*s",
				 (int)y->scope_kind_len, y->scope_kind ? y->scope_kind : "");
		}
		buf_printf(&r->got, "%s/%.*s:%llu:%.*s;", f->repo, (int)f->path_len, f->path,
			   (unsigned long long)y->line, (int)y->name_len, y->name);
	}
	r->n_files++;
	return 0;
}

static int rec_alert(struct search_sink *sk, enum search_alert a, const char *msg)
{
	struct rec *r = (struct rec *)sk;

	buf_printf(&r->alerts, "%s:%s;", search_alert_kind(a), msg);
	return 0;
}

static void rec_init(struct rec *r)
{
	*r = (struct rec){ .sink = { .file = rec_file, .alert = rec_alert } };
	buf_init(&r->got, 1 << 20);
	buf_init(&r->alerts, 1 << 20);
	buf_puts(&r->got, "");
	buf_puts(&r->alerts, "");
	buf_putc(&r->got, 0);
	buf_putc(&r->alerts, 0);
	r->got.len = r->alerts.len = 0;
}

static void rec_dispose(struct rec *r)
{
	buf_dispose(&r->got);
	buf_dispose(&r->alerts);
}

static const char *const readable_names[] = { "alpha", "beta", "nosym" };
static const struct search_repos readable = { .names = readable_names, .n_names = 3 };

/* Runs qtext as the caller who reads alpha, beta and nosym (not hidden), or as all. */
static int run_as(struct search_stats *st, struct rec *r, const char *qtext,
		  const struct search_repos *who)
{
	struct query *q = NULL;
	struct index *ix = NULL;
	struct search_request rq = { .readable = who };
	int err;

	memset(st, 0, sizeof(*st));
	rec_init(r);
	if ((err = query_parse(&q, qtext, strlen(qtext))) < 0)
		return err;
	assert_int_equal(index_open(&ix, ixdir), 0);
	rq.opts = (struct search_opts){ .query = q, .want_lines = true };
	err = search_request_run(st, ix, &rq, &r->sink);
	index_close(ix);
	query_free(q);
	return err;
}

static int run(struct search_stats *st, struct rec *r, const char *qtext)
{
	return run_as(st, r, qtext, &readable);
}

/* The symbols qtext finds, as "repo/path:line:name;" in order. */
static void expect(const char *qtext, const char *want)
{
	struct search_stats st;
	struct rec r;

	assert_int_equal(run(&st, &r, qtext), 0);
	if (strcmp(r.got.ptr, want) != 0)
		fail_msg("%s\n got: %s\nwant: %s", qtext, r.got.ptr, want);
	rec_dispose(&r);
}

#define CFG "alpha/src/config.c:1:parse_config;"
#define TST "alpha/test/deep/dir/config_test.c:1:parse_config;"
#define HDR "alpha/include/config.h:1:parse_config;"
#define BETA "beta/b.c:1:parse_config;"

static void exact_name_ranks_definitions_and_short_paths_first(void **state)
{
	(void)state;
	/* Functions before the prototype; the shorter path first among equals. */
	expect("type:symbol ^parse_config$", BETA CFG TST HDR);
	expect("type:symbol /^parse_config$/", BETA CFG TST HDR);
	expect("type:symbol ^PARSE_config$", BETA CFG TST HDR); /* case-insensitive by default */
	expect("type:symbol ^PARSE_config$ case:yes", "");
}

static void prefix_substring_and_regex(void **state)
{
	(void)state;
	expect("type:symbol ^parse lang:python", "alpha/py/util.py:2:parse;alpha/py/util.py:1:Parser;");
	expect("type:symbol ^parse case:yes lang:python", "alpha/py/util.py:2:parse;");
	/* A keyword is a part of the name, in any case: the exact name first. */
	expect("type:symbol config repo:alpha file:src/",
	       "alpha/src/config.c:4:Config;alpha/src/config.c:5:config_count;"
	       "alpha/src/config.c:3:MAX_CONFIG;alpha/src/config.c:1:parse_config;");
	expect("type:symbol /_count$/", "alpha/src/config.c:5:config_count;");
	expect("type:symbol /^max_c.nfig/", "alpha/src/config.c:3:MAX_CONFIG;");
	expect("type:symbol /^max_c.nfig/ case:yes", "");
}

static void filters_and_negation(void **state)
{
	(void)state;
	expect("type:symbol ^parse_config$ file:test/", TST);
	expect("type:symbol ^parse_config$ -file:test/ -file:\\.h$", BETA CFG);
	expect("type:symbol ^parse_config$ repo:beta", BETA);
	expect("type:symbol ^parse_config$ -repo:alpha", BETA);
	expect("type:symbol config NOT count file:src/",
	       "alpha/src/config.c:4:Config;alpha/src/config.c:3:MAX_CONFIG;"
	       "alpha/src/config.c:1:parse_config;");
	expect("type:symbol MAX_CONFIG or Parser",
	       "alpha/py/util.py:1:Parser;alpha/src/config.c:3:MAX_CONFIG;");
	/* No pattern: every symbol of the files the filters pass. */
	expect("type:symbol file:util\\.py$", "alpha/py/util.py:1:Parser;alpha/py/util.py:2:parse;");
	expect("type:symbol lang:markdown", "");
	expect("type:symbol file:has.content(described) parse", "");
	expect("type:symbol file:has.content(MAX_CONFIG) ^parse", CFG);
}

static void select_symbol_kinds(void **state)
{
	(void)state;
	expect("select:symbol.macro config", "alpha/src/config.c:3:MAX_CONFIG;");
	expect("select:symbol.struct config", "alpha/src/config.c:4:Config;");
	expect("select:symbol.variable config", "alpha/src/config.c:5:config_count;");
	expect("select:symbol.method pars", "alpha/py/util.py:2:parse;"); /* Python's member */
	expect("select:symbol.class pars", "alpha/py/util.py:1:Parser;");
	expect("select:symbol.function ^parse_config$", BETA CFG TST);
	expect("select:symbol ^parse_config$", BETA CFG TST HDR);
	assert_int_equal(query_symkind_of("func", 4, "Go", 2), QK_FUNCTION);
	assert_int_equal(query_symkind_of("enumerator", 10, "C", 1), QK_CONSTANT);
	assert_int_equal(query_symkind_of("member", 6, "C", 1), QK_FIELD);
	assert_int_equal(query_symkind_of("prototype", 9, "C", 1), QK_OTHER);
}

static void results_carry_every_field(void **state)
{
	struct search_stats st;
	struct rec r;

	(void)state;
	assert_int_equal(run(&st, &r, "type:symbol ^parse$ case:yes"), 0);
	assert_int_equal(r.n_symbols, 1);
	assert_string_equal(r.first_kind, "member");
	assert_string_equal(r.first_scope, "Parser");
	assert_int_equal(r.first.line, 2);
	assert_string_equal(r.first_text, "    def parse(self):");
	assert_string_equal(r.first_lang, "Python");
	assert_string_equal(r.first_scope_kind, "class");
	assert_int_equal(st.lines, 1);
	assert_int_equal(st.files, 1);
	rec_dispose(&r);
}

static void count_limits_symbols(void **state)
{
	struct search_stats st;
	struct rec r;

	(void)state;
	assert_int_equal(run(&st, &r, "type:symbol ^parse_config$ count:2"), 0);
	assert_string_equal(r.got.ptr, BETA CFG);
	assert_true(st.is_limit_hit);
	assert_non_null(strstr(r.alerts.ptr, "limit:the result limit stopped the search"));
	rec_dispose(&r);
	assert_int_equal(run(&st, &r, "type:symbol ^parse_config$ count:4"), 0);
	assert_int_equal(r.n_symbols, 4);
	assert_false(st.is_limit_hit);
	rec_dispose(&r);
}

static void repositories_without_symbols_are_named(void **state)
{
	struct search_stats st;
	struct rec r;

	(void)state;
	assert_int_equal(run(&st, &r, "type:symbol ^parse_config$"), 0);
	assert_int_equal(st.symbols_missing, 1);
	assert_non_null(strstr(r.alerts.ptr, "warning:repository nosym has no symbols: index it "
					     "with --symbols;"));
	rec_dispose(&r);
	/* A repository the filters exclude is not reported. */
	assert_int_equal(run(&st, &r, "type:symbol ^parse_config$ -repo:nosym"), 0);
	assert_int_equal(st.symbols_missing, 0);
	assert_string_equal(r.alerts.ptr, "");
	rec_dispose(&r);
}

static void unreadable_repositories_give_nothing(void **state)
{
	static const struct search_repos all = { .is_all = true };
	static const char *const two[] = { "alpha", "beta" };
	static const struct search_repos alpha_beta = { .names = two, .n_names = 2 };
	struct search_stats st, st_all, st_two;
	struct rec r;

	(void)state;
	/* The test can fail: a caller who reads everything sees the hidden symbols. */
	assert_int_equal(run_as(&st_all, &r, "type:symbol secret", &all), 0);
	assert_string_equal(r.got.ptr, "hidden/h.c:2:secret_fn;");
	rec_dispose(&r);
	assert_int_equal(run(&st, &r, "type:symbol secret"), 0);
	assert_string_equal(r.got.ptr, "");
	assert_int_equal(st.lines + st.files + st.candidates, 0);
	rec_dispose(&r);
	/*
	 * Counts equal those of a caller who reads alpha and beta only (nosym has no symbols):
	 * nothing of the hidden repository is counted.
	 */
	assert_int_equal(run(&st, &r, "type:symbol parse_config count:1"), 0);
	assert_null(strstr(r.got.ptr, "hidden"));
	rec_dispose(&r);
	assert_int_equal(run_as(&st_two, &r, "type:symbol parse_config count:1", &alpha_beta), 0);
	assert_int_equal(st.candidates, st_two.candidates);
	assert_int_equal(st.lines, st_two.lines);
	assert_int_equal(st.is_limit_hit, st_two.is_limit_hit);
	assert_int_equal(st.shards_searched, 3);
	rec_dispose(&r);
	assert_int_equal(run_as(&st_all, &r, "type:symbol parse_config count:1", &all), 0);
	assert_int_equal(st_all.candidates, st_two.candidates + 1);
	rec_dispose(&r);
}

/* The line text of every symbol handed out, checked against its document's content. */
struct lines_rec {
	struct search_sink sink;
	size_t n_checked;
};

static int lines_file(struct search_sink *sk, const struct search_file *f)
{
	struct lines_rec *lr = (struct lines_rec *)sk;

	for (size_t i = 0; i < f->n_symbols; i++) {
		const struct search_symbol *y = &f->symbols[i];
		const char *p = (const char *)f->content, *end = p + f->content_len, *nl;

		for (uint64_t l = 1; p && l < y->line; l++)
			p = (nl = memchr(p, '\n', (size_t)(end - p))) ? nl + 1 : NULL;
		if (!p || p == end) {
			assert_null(y->text);
			continue;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(y->text);
		assert_int_equal(y->text_len, (size_t)((nl ? nl : end) - p));
		assert_memory_equal(y->text, p, y->text_len);
		assert_int_equal(f->lines[i].lineno, y->line);
		lr->n_checked++;
	}
	return 0;
}

static void every_symbol_gets_its_own_line(void **state)
{
	struct lines_rec lr = { .sink = { .file = lines_file, .alert = rec_alert } };
	struct search_request rq = { .readable = &readable };
	struct search_stats st = { 0 };
	struct query *q = NULL;
	struct index *ix = NULL;
	/* config.c's symbols are handed out best first, not in line order (one walk finds all). */
	const char *qtext = "type:symbol file:config count:all";

	(void)state;
	assert_int_equal(query_parse(&q, qtext, strlen(qtext)), 0);
	assert_int_equal(index_open(&ix, ixdir), 0);
	rq.opts = (struct search_opts){ .query = q, .want_lines = true };
	assert_int_equal(search_request_run(&st, ix, &rq, &lr.sink), 0);
	assert_int_equal(lr.n_checked, 6); /* config.c 4, config.h 1, config_test.c 1 */
	index_close(ix);
	query_free(q);
}

static void a_top_level_alternation_is_no_prefix(void **state)
{
	(void)state;
	/* Each alternative is looked for, whichever comes first (a prefix of one lost the other). */
	expect("type:symbol /^Parser$|^MAX_CONFIG$/ case:yes",
	       "alpha/py/util.py:1:Parser;alpha/src/config.c:3:MAX_CONFIG;");
	expect("type:symbol /^MAX_CONFIG$|^Parser$/ case:yes",
	       "alpha/py/util.py:1:Parser;alpha/src/config.c:3:MAX_CONFIG;");
	expect("type:symbol /^MAX_(CONFIG|X)$/ case:yes", "alpha/src/config.c:3:MAX_CONFIG;");
}

/* A small deterministic generator (xorshift64): the same fixture and queries every run. */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

#define RAND_SYMS 600
#define RAND_DOCS 6
static char rand_names[RAND_SYMS][16];
static struct tsym rand_syms[RAND_SYMS];
static const struct tdoc rand_docs[RAND_DOCS] = {
	{ "d0.c", "x\n" }, { "d1.c", "x\n" }, { "d2.c", "x\n" },
	{ "d3.c", "x\n" }, { "d4.c", "x\n" }, { "d5.c", "x\n" },
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "repo/path:line:name;" entries, sorted, one string: the order of a search is its ranking's. */
static void sorted_entries(char *out, size_t cap, const char *got)
{
	static char copy[1 << 16];
	char *ents[RAND_SYMS + 1];
	size_t n = 0, at = 0;

	snprintf(copy, sizeof(copy), "%s", got);
	for (char *p = copy, *e; *p && n < RAND_SYMS + 1; p = e + 1) {
		assert_non_null(e = strchr(p, ';'));
		*e = '\0';
		ents[n++] = p;
	}
	qsort(ents, n, sizeof(*ents), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(out + at, cap - at, "%s;", ents[i]);
	assert_true(at < cap);
}

/*
 * A keyword (in either case) and a regex with a required literal, over random names of a small
 * alphabet, find exactly the symbols a naive test of every symbol finds: POSIX regexec, which
 * agrees with ours on these patterns.
 */
static void name_scan_agrees_with_a_naive_test(void **state)
{
	static const char alpha[] = "abAB_x";
	static const char *const rand_readable_names[] = { "rand" };
	static const struct search_repos rand_readable = { .names = rand_readable_names,
							   .n_names = 1 };
	static const struct trepo rand_repo = { "rand", true, rand_docs, RAND_DOCS, rand_syms,
						RAND_SYMS };
	static char want[1 << 16], got[1 << 16];
	char keep[sizeof(ixdir)], pat[32], q[96];
	uint64_t x = 0x2545f4914f6cdd1dull;

	(void)state;
	memcpy(keep, ixdir, sizeof(keep));
	snprintf(ixdir, sizeof(ixdir), "%s/rand", testlib_tmpdir());
	file_mkdirs(ixdir);
	for (size_t i = 0; i < RAND_SYMS; i++) {
		size_t len = 1 + rnd(&x) % (sizeof(rand_names[0]) - 1);

		for (size_t k = 0; k < len; k++)
			rand_names[i][k] = alpha[rnd(&x) % (sizeof(alpha) - 1)];
		rand_syms[i] = (struct tsym){ .doc = (uint32_t)(i * RAND_DOCS / RAND_SYMS),
					      .line = (uint32_t)i + 1, .name = rand_names[i],
					      .kind = "function", .lang = "C" };
	}
	assert_int_equal(write_repo(&rand_repo), 0);
	for (int t = 0; t < 120; t++) {
		bool is_regex = t % 3 == 2, is_case = t % 4 == 1;
		size_t len = 1 + rnd(&x) % 3, at = 0;
		struct search_stats st;
		struct rec r;
		regex_t re;

		for (size_t k = 0; k < len; k++)
			pat[at++] = alpha[rnd(&x) % (sizeof(alpha) - 1)];
		if (is_regex) {
			memcpy(pat + at, ".*", 2);
			at += 2;
			for (size_t k = 0; k < 2; k++)
				pat[at++] = alpha[rnd(&x) % (sizeof(alpha) - 1)];
		}
		pat[at] = '\0';
		snprintf(q, sizeof(q), "type:symbol count:all %s%s%s%s", is_case ? "case:yes " : "",
			 is_regex ? "/" : "", pat, is_regex ? "/" : "");
		assert_int_equal(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB | (is_case ? 0 : REG_ICASE)),
				 0);
		want[0] = '\0';
		at = 0;
		for (size_t i = 0; i < RAND_SYMS; i++)
			if (regexec(&re, rand_names[i], 0, NULL, 0) == 0)
				at += (size_t)snprintf(want + at, sizeof(want) - at, "rand/%s:%u:%s;",
						       rand_docs[rand_syms[i].doc].path,
						       rand_syms[i].line, rand_names[i]);
		regfree(&re);
		sorted_entries(want, sizeof(want), want);
		assert_int_equal(run_as(&st, &r, q, &rand_readable), 0);
		sorted_entries(got, sizeof(got), r.got.ptr);
		if (strcmp(got, want) != 0)
			fail_msg("%s\n got: %s\nwant: %s", q, got, want);
		rec_dispose(&r);
	}
	memcpy(ixdir, keep, sizeof(keep));
}

static void bad_queries_fail(void **state)
{
	struct search_stats st;
	struct rec r;

	(void)state;
	assert_int_equal(run(&st, &r, "type:symbol /(/"), TRAWL_EINVAL);
	rec_dispose(&r);
	assert_int_equal(run(&st, &r, "select:symbol.widget x"), TRAWL_EINVAL);
	assert_non_null(strstr(error_last(), "function, method, class"));
	assert_int_equal(error_pos(), 14);
	rec_dispose(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_name_ranks_definitions_and_short_paths_first),
		cmocka_unit_test(prefix_substring_and_regex),
		cmocka_unit_test(filters_and_negation),
		cmocka_unit_test(select_symbol_kinds),
		cmocka_unit_test(results_carry_every_field),
		cmocka_unit_test(count_limits_symbols),
		cmocka_unit_test(repositories_without_symbols_are_named),
		cmocka_unit_test(unreadable_repositories_give_nothing),
		cmocka_unit_test(name_scan_agrees_with_a_naive_test),
		cmocka_unit_test(bad_queries_fail),
		cmocka_unit_test(every_symbol_gets_its_own_line),
		cmocka_unit_test(a_top_level_alternation_is_no_prefix),
	};

	return cmocka_run_group_tests(tests, setup, testlib_teardown);
}
