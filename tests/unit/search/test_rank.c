/*
 * Unit tests for ranking: the definition heuristics, definitions from a symbol index, the cut,
 * and the proof that a best-first search stopped early shows exactly what a search of every
 * candidate ranks first (random corpora of several repositories, with and without symbol
 * indexes, many queries and count: limits, one and two threads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "build/build.h"
#include "index/shard_int.h"
#include "search/search_int.h"
#include "symbols/symsec.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"
#include "unit/index/shard_bytes.h"
#include "unit/testlib.h"

/* Whether the first occurrence of name in line is a definition of it. */
static bool defines(const char *line, const char *name)
{
	const char *p = strstr(line, name);

	assert_non_null(p);
	return rank_is_definition((const uint8_t *)line, strlen(line), (size_t)(p - line),
				  (size_t)(p - line) + strlen(name));
}

static void definitions_are_recognized(void **state)
{
	(void)state;
	assert_true(defines("struct task_struct {", "task_struct"));
	assert_true(defines("struct sk_buff {", "sk_buff"));
	assert_true(defines("typedef struct widget {", "widget"));
	assert_true(defines("union u_name", "u_name"));
	assert_true(defines("class Parser : public Base {", "Parser"));
	assert_true(defines("asmlinkage __visible void __sched schedule(void)", "schedule"));
	assert_true(defines("static __always_inline __alloc_size(1) void *kmalloc(size_t size, "
			    "gfp_t flags)", "kmalloc"));
	assert_true(defines("int main(int argc, char **argv)", "main"));
	assert_true(defines("frobnicate(int x)", "frobnicate"));
	assert_true(defines("#define MAX_LEN 10", "MAX_LEN"));
	assert_true(defines("# define MAX_LEN 10", "MAX_LEN"));
	assert_true(defines("    def parse(self, text):", "parse"));
	assert_true(defines("func Search(q string) error {", "Search"));
	assert_true(defines("pub fn search(q: &str) -> bool {", "search"));
	assert_true(defines("export function render(node) {", "render"));
	assert_true(defines("type Shard struct {", "Shard"));
	/* Uses, calls, declarations and partial words are not. */
	assert_false(defines("\tstruct task_struct *p = current;", "task_struct"));
	assert_false(defines("struct task_struct;", "task_struct"));
	assert_false(defines("extern struct task_struct init_task;", "task_struct"));
	assert_false(defines("\tschedule();", "schedule"));
	assert_false(defines("void *kmalloc(size_t size, gfp_t flags);", "kmalloc"));
	assert_false(defines("EXPORT_SYMBOL(kmalloc);", "kmalloc"));
	assert_false(defines("p = kmalloc(sizeof(*p), GFP_KERNEL)", "kmalloc"));
	assert_false(defines("return schedule_timeout(x)", "schedule"));
	assert_false(defines("struct task_structure {", "task_struct"));
	assert_false(defines("#define MAX_LENGTH 10", "MAX_LEN"));
	assert_false(defines("if (x) y(z)", "y"));
	assert_false(defines("x = widget(1)", "widget"));
	assert_false(defines("return widget(1)", "widget"));
	assert_false(defines("foo(widget(1))", "widget"));
	assert_false(defines("    self.parse(text)", "parse"));
	/* A return type at the end of the line; prose that names a function. */
	assert_false(defines("static struct sk_buff", "sk_buff"));
	assert_true(defines("struct sk_buff", "sk_buff"));
	assert_false(defines("Display which lines in schedule() can be probed:", "schedule"));
	assert_false(defines("Delete all probes on schedule().", "schedule"));
	/* Only a name is defined: never a match holding other bytes. */
	assert_false(defines("int foo(void)", "foo("));
	assert_false(defines("struct a_b {", "a_b {"));
}

/* The cut: the score of the last file shown, never above it, whatever the order files come in. */
static void cut_is_the_last_shown_score(void **state)
{
	struct rank_cut c;

	(void)state;
	rank_cut_init(&c, 10);
	assert_false(rank_cut_excludes(&c, -1000));
	assert_int_equal(rank_cut_add(&c, 5, 4), 0);
	assert_int_equal(rank_cut_add(&c, 9, 4), 0);
	assert_false(rank_cut_excludes(&c, -1000)); /* 8 lines of 10: everything may show */
	assert_int_equal(rank_cut_add(&c, 7, 4), 0);
	/* Shown: 9 (4 lines), 7 (4), 5 (2 of 4): the last shown scores 5. */
	assert_true(rank_cut_excludes(&c, 4.9));
	assert_false(rank_cut_excludes(&c, 5));
	assert_int_equal(rank_cut_add(&c, 8, 4), 0);
	/* Now 9, 8, 7 (2 of 4): 5 is no longer shown. */
	assert_true(rank_cut_excludes(&c, 6.9));
	assert_false(rank_cut_excludes(&c, 7));
	assert_int_equal(rank_cut_add(&c, 7, 1), 0);
	assert_int_equal(rank_cut_add(&c, 1, 100), 0);
	assert_true(rank_cut_excludes(&c, 6.9));
	rank_cut_dispose(&c);
}

/* --- best first against every candidate --- */

/* Deterministic: the C library's rand() state is shared with nothing else here. */
static uint64_t rng;

static unsigned pick(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng >> 33) % n);
}

static const char *const dirs[] = { "src", "lib", "include/linux", "tests", "docs", "vendor",
				    "a", "kernel/sched", "very/long/directory/path/here" };
static const char *const names[] = { "foo", "main", "util", "widget", "bar_foo", "x", "Foo",
				     "readme", "sched", "footer" };
static const char *const exts[] = { ".c", ".h", ".md", ".py", ".go", "_test.go", ".txt" };
static const char *const lines[] = {
	"struct foo {", "struct foo *p;", "int foo(void)", "\tfoo(x);", "#define foo 1",
	"the Foo and foo", "FOO", "unrelated text", "foobar baz", "def foo(self):",
	"x = foo(1);", "widget bar", "bar baz qux", "static int\n", "footer foo foo",
	/* Not picked for random corpora (pick(15)): symbols_decide_definitions' lines. */
	"\twidget = widget_get();",
};

/*
 * The symbol each line of lines[] defines in a shard with symbols (test_symbols_doc): where
 * ctags would, and some where the heuristics see none ("widget bar", "bar baz qux") or see one
 * the symbols do not have ("struct foo {" in a document the symbols left out, below).
 */
static const char *const line_defs[] = {
	"foo", NULL, "foo", NULL, "foo", "Foo", "FOO", NULL, "foobar", "foo",
	NULL, "widget", "qux", NULL, "footer", NULL,
};

/*
 * A shard writer extension making the SYMBOLS section from line_defs (no ctags): each line of
 * an indexed document that is one of lines[] defines its line_defs name on that line (a
 * function; qux a member). A
 * document whose path holds "nosym" gets no symbols, as one ctags failed on.
 */
struct test_symbols {
	struct symsec_builder *b;
};

static int test_symbols_doc(void *arg, uint32_t doc, const char *path, size_t path_len,
			    const uint8_t *content, size_t content_len, enum doc_skip skip,
			    uint16_t lang)
{
	struct test_symbols *t = arg;
	const char *p = (const char *)content, *end = p + content_len;
	uint32_t lineno = 1;
	int err;

	(void)lang;
	if (skip != DOC_INDEXED || memmem(path, path_len, "nosym", 5))
		return symsec_builder_doc(t->b, doc, skip ? SYMSEC_NOT_PARSED : SYMSEC_CRASHED);
	if ((err = symsec_builder_doc(t->b, doc, SYMSEC_OK)) < 0)
		return err;
	for (; p < end; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
			/* qux is a member: fewer points (RANK_DEFINITION_MINOR). */
			struct symsec_in in = { .kind = k == 12 ? "member" : "function", .lang = "C",
						.line = lineno };

			if (!line_defs[k] || strlen(lines[k]) != len || memcmp(lines[k], p, len) != 0)
				continue;
			in.name = line_defs[k];
			in.name_len = strlen(line_defs[k]);
			if ((err = symsec_builder_add(t->b, &in)) < 0)
				return err;
		}
		p += len + 1;
	}
	return 0;
}

static int test_symbols_finish(void *arg, struct buf *out, uint32_t *count, uint32_t n_docs)
{
	struct test_symbols *t = arg;

	return symsec_builder_finish(t->b, out, count, n_docs);
}

/* A file of a generated repository. */
struct tfile {
	char path[128];
	struct buf text;
};

/*
 * Indexes repository name of n files into ix: with symbols, as one shard written with the
 * test_symbols extension; else from files under src by build_dir (the heuristics' shards).
 */
static void index_repo(const char *ix, const char *src, const char *name, struct tfile *files,
		       size_t n, bool with_symbols)
{
	struct build_opts bo = { BUILD_MAX_FILE_SIZE_DEFAULT, 1, NULL };
	struct build_stats bs;

	if (with_symbols) {
		struct test_symbols t = { 0 };
		struct shard_writer_ext ext = { .id = SEC_SYMBOLS, .doc = test_symbols_doc,
						.finish = test_symbols_finish, .arg = &t };
		struct shard_writer *w = NULL;
		char *file = index_shard_name(name, 0);
		char path[1024];

		assert_non_null(file);
		assert_int_equal(file_mkdirs(ix), 0);
		snprintf(path, sizeof(path), "%s/%s", ix, file);
		assert_int_equal(symsec_builder_new(&t.b), 0);
		assert_int_equal(shard_writer_new_ext(&w, path, name, &ext), 0);
		for (size_t f = 0; f < n; f++)
			assert_int_equal(shard_writer_add(w, files[f].path, strlen(files[f].path),
							  (const uint8_t *)files[f].text.ptr,
							  files[f].text.len, files[f].text.len,
							  DOC_INDEXED, 0),
					 0);
		assert_int_equal(shard_writer_finish(w), 0);
		shard_writer_free(w);
		symsec_builder_free(t.b);
		assert_int_equal(index_commit_repo(ix, name, &file, 1), 0);
		free(file);
		return;
	}
	for (size_t f = 0; f < n; f++) {
		char sub[800];
		const char *slash = strrchr(files[f].path, '/');
		int dir_len = slash ? (int)(slash - files[f].path) : 0;

		snprintf(sub, sizeof(sub), "%s/%.*s", src, dir_len, files[f].path);
		assert_int_equal(file_mkdirs(sub), 0);
		testlib_write_file(sub, slash ? slash + 1 : files[f].path,
				   files[f].text.len ? files[f].text.ptr : "");
	}
	assert_int_equal(build_dir(&bs, ix, name, src, &bo, NULL, NULL), 0);
}

/*
 * A corpus of 1 to 4 repositories of up to 12 files each under dir, indexed into ix; with
 * with_symbols, each repository has a symbol index or not, at random.
 */
static void make_corpus(const char *dir, const char *ix, bool with_symbols)
{
	unsigned n_repos = 1 + pick(4);

	for (unsigned r = 0; r < n_repos; r++) {
		char src[512], name[16];
		unsigned n_files = 1 + pick(12);
		struct tfile files[12];

		snprintf(name, sizeof(name), "r%u", r);
		snprintf(src, sizeof(src), "%s/%s", dir, name);
		for (unsigned f = 0; f < n_files; f++) {
			const char *sub = dirs[pick(9)], *base = names[pick(10)];
			unsigned n_lines = pick(30);

			snprintf(files[f].path, sizeof(files[f].path), "%s/%s%u%s", sub, base, f,
				 exts[pick(7)]);
			buf_init(&files[f].text, 1 << 16);
			for (unsigned l = 0; l < n_lines; l++)
				assert_int_equal(buf_printf(&files[f].text, "%s\n", lines[pick(15)]),
						 0);
		}
		index_repo(ix, src, name, files, n_files, with_symbols && pick(2));
		for (unsigned f = 0; f < n_files; f++)
			buf_dispose(&files[f].text);
	}
}

struct shown {
	struct buf text;
	uint64_t lines;
	uint64_t cut; /* stop recording after this many lines (0: record all) */
};

static int on_shown(const struct search_file *f, void *arg)
{
	struct shown *s = arg;
	uint64_t n = f->n_lines;

	if (s->cut && s->lines >= s->cut)
		return 0;
	if (s->cut && f->kind == SEARCH_CONTENT && s->lines + n > s->cut)
		n = s->cut - s->lines;
	assert_int_equal(buf_printf(&s->text, "%s/%.*s:%llu:", f->repo, (int)f->path_len, f->path,
				    (unsigned long long)n), 0);
	for (uint64_t k = 0; k < n && f->lines; k++)
		assert_int_equal(buf_printf(&s->text, "%llu,", (unsigned long long)f->lines[k].lineno),
				 0);
	assert_int_equal(buf_printf(&s->text, ";"), 0);
	s->lines += f->kind == SEARCH_CONTENT ? n : 1;
	return 0;
}

static void search_into(struct shown *s, struct search_stats *st, const struct index *ix,
			const char *text, unsigned n_threads, uint64_t cut)
{
	static const struct search_repos all = { .is_all = true };
	struct query *q = NULL;
	struct search_opts o = { .want_lines = true, .n_threads = n_threads };

	buf_init(&s->text, 1 << 20);
	s->lines = 0;
	s->cut = cut;
	assert_int_equal(query_parse(&q, text, strlen(text)), 0);
	o.query = q;
	if (search_run(st, ix, &all, &o, on_shown, s) != 0)
		fail_msg("query \"%s\": %s", text, error_last());
	query_free(q);
}

/*
 * count:N shows the first N lines of count:all, on random corpora; with_symbols: some
 * repositories with a symbol index, the others without (each shard bounds by its own rule).
 */
static void best_first_is_exact(bool with_symbols)
{
	static const char *const patterns[] = {
		"foo", "Foo", "/fo+/", "foo OR widget", "type:path foo", "case:yes foo",
		"foo bar", "file:\\.c$ foo", "NOT baz foo", "/^struct/", "/foo\\(/", "/\\bfoo\\b/",
		"/fo+ ?\\(/", "widget", "case:yes FOO", "qux OR footer", "/foo/",
	};
	static const unsigned counts[] = { 1, 2, 3, 5, 8, 20, 60 };
	uint64_t pruned_runs = 0, runs = 0;

	for (unsigned seed = 1; seed <= 25; seed++) {
		char dir[400], ixdir[400];
		struct index *ix = NULL;

		rng = seed;
		snprintf(dir, sizeof(dir), "%s/corpus%u%s", testlib_tmpdir(), seed,
			 with_symbols ? "s" : "");
		snprintf(ixdir, sizeof(ixdir), "%s/ix%u%s", testlib_tmpdir(), seed,
			 with_symbols ? "s" : "");
		make_corpus(dir, ixdir, with_symbols);
		assert_int_equal(index_open(&ix, ixdir), 0);
		for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
			for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
				for (unsigned th = 1; th <= 2; th++) {
					struct shown full, best;
					struct search_stats fst, bst;
					char q[200];

					snprintf(q, sizeof(q), "count:all %s", patterns[p]);
					search_into(&full, &fst, ix, q, th, counts[c]);
					snprintf(q, sizeof(q), "count:%u %s", counts[c], patterns[p]);
					search_into(&best, &bst, ix, q, th, 0);
					if (strcmp(full.text.ptr ? full.text.ptr : "",
						   best.text.ptr ? best.text.ptr : "") != 0)
						fail_msg("seed %u, %s, %u threads:\nfull: %s\nbest: %s",
							 seed, q, th, full.text.ptr, best.text.ptr);
					/* The summary says whether more could be shown. */
					if (fst.lines > counts[c])
						assert_true(bst.is_limit_hit);
					runs++;
					pruned_runs += bst.candidates < fst.candidates;
					buf_dispose(&full.text);
					buf_dispose(&best.text);
				}
			}
		}
		index_close(ix);
	}
	/* The early stop happened: it is not proven by runs that read everything. */
	assert_true(pruned_runs * 10 > runs);
}

static void best_first_shows_what_a_full_search_ranks_first(void **state)
{
	(void)state;
	best_first_is_exact(false);
}

static void best_first_is_exact_with_symbol_indexes(void **state)
{
	(void)state;
	best_first_is_exact(true);
}

/* A definition outranks shorter paths with more matches. */
static void definition_ranks_first(void **state)
{
	struct build_opts bo = { BUILD_MAX_FILE_SIZE_DEFAULT, 1, NULL };
	struct build_stats bs;
	char dir[400], ixdir[400], sub[500];
	struct index *ix = NULL;
	struct shown s;
	struct search_stats st;
	struct buf text;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/def", testlib_tmpdir());
	snprintf(ixdir, sizeof(ixdir), "%s/defix", testlib_tmpdir());
	assert_int_equal(file_mkdirs(dir), 0);
	buf_init(&text, 1 << 16);
	for (int i = 0; i < 30; i++)
		assert_int_equal(buf_printf(&text, "\tstruct gadget *g%d = gadget_get();\n", i), 0);
	testlib_write_file(dir, "a.c", text.ptr);
	testlib_write_file(dir, "b.c", text.ptr);
	snprintf(sub, sizeof(sub), "%s/include/linux", dir);
	assert_int_equal(file_mkdirs(sub), 0);
	testlib_write_file(sub, "types.h",
			   "/* the gadget */\nstruct gadget {\n\tint x;\n};\n");
	buf_dispose(&text);
	assert_int_equal(build_dir(&bs, ixdir, "r", dir, &bo, NULL, NULL), 0);
	assert_int_equal(index_open(&ix, ixdir), 0);
	search_into(&s, &st, ix, "count:3 gadget", 2, 0);
	assert_non_null(s.text.ptr);
	assert_string_equal(s.text.ptr, "r/include/linux/types.h:2:1,2,;r/a.c:1:1,;");
	buf_dispose(&s.text);
	index_close(ix);
}

/* The files of a search in order, each as "path score;" (the score rounded to a tenth). */
static int on_scored(const struct search_file *f, void *arg)
{
	return buf_printf(arg, "%.*s %.1f;", (int)f->path_len, f->path, f->score);
}

struct tdoc {
	const char *path;
	const char *text;
	unsigned times; /* the text repeated */
};

/* Indexes docs as repository name of ixdir, with a symbol index or not. */
static void index_docs(const char *ixdir, const char *name, const struct tdoc *docs, size_t n,
		       bool with_symbols)
{
	struct tfile files[8];
	char src[600];

	assert_true(n <= 8);
	snprintf(src, sizeof(src), "%s-src/%s", ixdir, name);
	for (size_t f = 0; f < n; f++) {
		snprintf(files[f].path, sizeof(files[f].path), "%s", docs[f].path);
		buf_init(&files[f].text, 1 << 16);
		for (unsigned k = 0; k < docs[f].times; k++)
			assert_int_equal(buf_printf(&files[f].text, "%s", docs[f].text), 0);
	}
	index_repo(ixdir, src, name, files, n, with_symbols);
	for (size_t f = 0; f < n; f++)
		buf_dispose(&files[f].text);
}

/*
 * Runs query on ixdir for the repositories repos may read: its error, the files in order with
 * their scores, and the candidates read.
 */
static int scored_for(struct buf *out, uint64_t *candidates, const char *ixdir,
		      const struct search_repos *repos, const char *text)
{
	struct index *ix = NULL;
	struct query *q = NULL;
	struct search_opts o = { .n_threads = 1 };
	struct search_stats st;
	int err;

	assert_int_equal(index_open(&ix, ixdir), 0);
	assert_int_equal(query_parse(&q, text, strlen(text)), 0);
	o.query = q;
	buf_init(out, 1 << 16);
	err = search_run(&st, ix, repos, &o, on_scored, out);
	*candidates = st.candidates;
	query_free(q);
	index_close(ix);
	return err;
}

/* scored_for every repository, which must not fail. */
static void scored(struct buf *out, uint64_t *candidates, const char *ixdir, const char *text)
{
	static const struct search_repos all = { .is_all = true };

	if (scored_for(out, candidates, ixdir, &all, text) != 0)
		fail_msg("query \"%s\": %s", text, error_last());
}

/*
 * With a symbol index, a line earns the definition points when a symbol of the name searched
 * is defined on it, whatever it looks like, and only then; only the documents defining it
 * leave room for them, so the search stops sooner. Without one the heuristics decide.
 */
static void symbols_decide_definitions(void **state)
{
	static const struct tdoc widgets[] = {
		{ "a.c", "\twidget = widget_get();\n", 30 },
		{ "b.c", "\twidget = widget_get();\n", 30 },
		{ "c.c", "\twidget = widget_get();\n", 30 },
		{ "d.c", "\twidget = widget_get();\n", 30 },
		{ "e.c", "\twidget = widget_get();\n", 30 },
		{ "f.c", "\twidget = widget_get();\n", 30 },
		/* "widget bar" defines widget for the symbols; the heuristics see no definition. */
		{ "include/linux/types.h", "unrelated text\nwidget bar\n", 1 },
	};
	static const struct tdoc foos[] = {
		/* The symbols of nosym.c failed: its "struct foo {" defines nothing then. */
		{ "x/nosym.c", "struct foo {\n", 1 },
		{ "y/long/path/def.c", "int foo(void)\n", 1 },
		{ "z.c", "\tfoo(x);\n", 5 },
		{ "docs/d.md", "int foo(void)\n", 1 },
		{ "the.c", "the Foo and foo\n", 1 },
		{ "m.c", "bar baz qux\n", 1 },
	};
	char sym[400], heur[400];
	struct buf got;
	uint64_t cands, cands_heur;

	(void)state;
	snprintf(sym, sizeof(sym), "%s/symix", testlib_tmpdir());
	snprintf(heur, sizeof(heur), "%s/heurix", testlib_tmpdir());
	index_docs(sym, "w", widgets, 7, true);
	index_docs(heur, "w", widgets, 7, false);
	/* path -2.1, whole word 20, exact case 10, 1 line, definition 120; a.c -0.3 + 20 + 10 + 10. */
	scored(&got, &cands, sym, "count:1 widget");
	assert_string_equal(got.ptr, "include/linux/types.h 148.9;");
	buf_dispose(&got);
	scored(&got, &cands_heur, heur, "count:1 widget");
	assert_string_equal(got.ptr, "a.c 39.7;");
	assert_int_equal(cands_heur, 7); /* any file of code may define it: all are read */
	/* The others define no widget: their bounds are below the cut once types.h is read. */
	assert_true(cands < cands_heur);
	buf_dispose(&got);
	/* A literal regex is a name; any other regex is not, and bounds without definitions. */
	scored(&got, &cands, sym, "count:1 /widget/ case:yes");
	assert_string_equal(got.ptr, "include/linux/types.h 138.9;");
	buf_dispose(&got);
	scored(&got, &cands, sym, "count:1 /widge[t]/ case:yes");
	assert_string_equal(got.ptr, "a.c 29.7;");
	buf_dispose(&got);
	scored(&got, &cands, heur, "count:1 /widge[t]/ case:yes");
	assert_string_equal(got.ptr, "a.c 29.7;");
	assert_true(cands < 7); /* no room for a definition: types.h's bound is below */
	buf_dispose(&got);

	snprintf(sym, sizeof(sym), "%s/symix2", testlib_tmpdir());
	snprintf(heur, sizeof(heur), "%s/heurix2", testlib_tmpdir());
	index_docs(sym, "f", foos, 6, true);
	index_docs(heur, "f", foos, 6, false);
	/*
	 * the.c defines Foo: a definition of foo only case-insensitively. Documentation earns
	 * none. nosym.c's line looks like a definition but its symbols say nothing.
	 */
	scored(&got, &cands, sym, "count:all foo");
	assert_string_equal(got.ptr, "the.c 150.5;y/long/path/def.c 149.3;z.c 34.7;"
				     "x/nosym.c 30.1;docs/d.md 25.1;");
	buf_dispose(&got);
	scored(&got, &cands, sym, "count:all case:yes foo");
	assert_string_equal(got.ptr, "y/long/path/def.c 149.3;z.c 34.7;the.c 30.5;"
				     "x/nosym.c 30.1;docs/d.md 25.1;");
	buf_dispose(&got);
	scored(&got, &cands, sym, "count:all case:yes Foo");
	assert_string_equal(got.ptr, "the.c 150.5;");
	buf_dispose(&got);
	/* A member's definition: -0.3 + 20 + 10 + 1 + 20. */
	scored(&got, &cands, sym, "count:all qux");
	assert_string_equal(got.ptr, "m.c 50.7;");
	buf_dispose(&got);
	scored(&got, &cands, heur, "count:all foo");
	assert_string_equal(got.ptr, "x/nosym.c 150.1;y/long/path/def.c 149.3;z.c 34.7;"
				     "the.c 30.5;docs/d.md 25.1;");
	buf_dispose(&got);
}

/*
 * SECURITY: the symbols of a repository the caller cannot read are never looked up. Its
 * SYMBOLS section is damaged (a name out of STRINGS, under good checksums), so a lookup would
 * fail the search; searching the readable repository alone succeeds and shows the same as
 * an index without the other.
 */
static void unreadable_symbols_are_never_looked_up(void **state)
{
	static const struct tdoc secret[] = { { "s.c", "widget bar\n", 3 } };
	static const struct tdoc pub[] = { { "p.c", "widget bar\n", 1 } };
	static const char *const pub_name[] = { "pub" };
	static const struct search_repos only_pub = { .names = pub_name, .n_names = 1 };
	char ixdir[400], alone[400];
	struct index *ix = NULL;
	struct buf got;
	uint64_t cands, cands_alone;
	char *path = NULL, *raw;
	size_t n;

	(void)state;
	snprintf(ixdir, sizeof(ixdir), "%s/secretix", testlib_tmpdir());
	snprintf(alone, sizeof(alone), "%s/pubix", testlib_tmpdir());
	index_docs(ixdir, "secret", secret, 1, true);
	index_docs(ixdir, "pub", pub, 1, true);
	index_docs(alone, "pub", pub, 1, true);
	assert_int_equal(index_open(&ix, ixdir), 0);
	for (size_t i = 0; i < index_n_shards(ix) && !path; i++)
		if (strcmp(shard_repo(index_shard(ix, i)), "secret") == 0)
			path = strdup(shard_file(index_shard(ix, i)));
	index_close(ix);
	assert_non_null(path);
	assert_int_equal(file_read_all(&raw, &n, path, 1 << 20), 0);
	{
		uint8_t *b = (uint8_t *)raw;
		uint64_t off = 0, at;

		for (uint32_t k = 0; k < le32(b + SHARD_H_N_SECTIONS); k++) {
			const uint8_t *e = b + SHARD_HEADER_SIZE + (size_t)k * SHARD_TOC_ENTRY_SIZE;

			if (le32(e + SHARD_T_ID) == SEC_SYMBOLS)
				off = le64(e + SHARD_T_OFFSET);
		}
		assert_true(off > 0);
		at = off + SYMSEC_HEADER_SIZE +
			(uint64_t)le32(b + off + SYMSEC_H_N_DOCS) * SYMSEC_DOC_SIZE +
			(uint64_t)le32(b + off + SYMSEC_H_N_SYMBOLS) * SYMSEC_SYM_SIZE;
		assert_int_equal(le32(b + off + SYMSEC_H_N_NAMES), 1);
		put_le32(b + at, 0xFFFFFF00u); /* the name's STRINGS offset */
		shard_bytes_reseal(b, n);
		assert_int_equal(file_write_atomic(path, raw, n), 0);
	}
	free(raw);
	free(path);
	/* Reading it fails the search: the damage is where a lookup goes. */
	assert_int_equal(scored_for(&got, &cands, ixdir, &(struct search_repos){ .is_all = true },
				    "count:5 widget"),
			 TRAWL_ECORRUPT);
	buf_dispose(&got);
	assert_int_equal(scored_for(&got, &cands, ixdir, &only_pub, "count:5 widget"), 0);
	assert_string_equal(got.ptr, "p.c 150.7;");
	buf_dispose(&got);
	scored(&got, &cands_alone, alone, "count:5 widget");
	assert_string_equal(got.ptr, "p.c 150.7;");
	assert_int_equal(cands, cands_alone);
	buf_dispose(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(definitions_are_recognized),
		cmocka_unit_test(cut_is_the_last_shown_score),
		cmocka_unit_test(best_first_shows_what_a_full_search_ranks_first),
		cmocka_unit_test(best_first_is_exact_with_symbol_indexes),
		cmocka_unit_test(definition_ranks_first),
		cmocka_unit_test(symbols_decide_definitions),
		cmocka_unit_test(unreadable_symbols_are_never_looked_up),
	};

	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
