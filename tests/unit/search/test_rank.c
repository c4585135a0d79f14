/*
 * Unit tests for ranking: the definition heuristics, the cut, and the proof that a best-first
 * search stopped early shows exactly what a search of every candidate ranks first (random
 * corpora of several repositories, many queries and count: limits, one and two threads).
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
#include "search/search_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"
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
};

/* A corpus of 1 to 4 repositories of up to 12 files each under dir, indexed into ix. */
static void make_corpus(const char *dir, const char *ix)
{
	struct build_opts bo = { BUILD_MAX_FILE_SIZE_DEFAULT, 1, NULL };
	unsigned n_repos = 1 + pick(4);

	for (unsigned r = 0; r < n_repos; r++) {
		char src[512], name[16];
		unsigned n_files = 1 + pick(12);
		struct build_stats bs;

		snprintf(name, sizeof(name), "r%u", r);
		snprintf(src, sizeof(src), "%s/%s", dir, name);
		for (unsigned f = 0; f < n_files; f++) {
			char sub[600], base[64];
			struct buf text;
			unsigned n_lines = pick(30);

			snprintf(sub, sizeof(sub), "%s/%s", src, dirs[pick(9)]);
			assert_int_equal(file_mkdirs(sub), 0);
			snprintf(base, sizeof(base), "%s%u%s", names[pick(10)], f, exts[pick(7)]);
			buf_init(&text, 1 << 16);
			for (unsigned l = 0; l < n_lines; l++)
				assert_int_equal(buf_printf(&text, "%s\n", lines[pick(15)]), 0);
			testlib_write_file(sub, base, text.len ? text.ptr : "");
			buf_dispose(&text);
		}
		assert_int_equal(build_dir(&bs, ix, name, src, &bo, NULL, NULL), 0);
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

static void best_first_shows_what_a_full_search_ranks_first(void **state)
{
	static const char *const patterns[] = {
		"foo", "Foo", "/fo+/", "foo OR widget", "type:path foo", "case:yes foo",
		"foo bar", "file:\\.c$ foo", "NOT baz foo", "/^struct/", "/foo\\(/", "/\\bfoo\\b/",
		"/fo+ ?\\(/",
	};
	static const unsigned counts[] = { 1, 2, 3, 5, 8, 20, 60 };
	uint64_t pruned_runs = 0, runs = 0;

	(void)state;
	for (unsigned seed = 1; seed <= 25; seed++) {
		char dir[400], ixdir[400];
		struct index *ix = NULL;

		rng = seed;
		snprintf(dir, sizeof(dir), "%s/corpus%u", testlib_tmpdir(), seed);
		snprintf(ixdir, sizeof(ixdir), "%s/ix%u", testlib_tmpdir(), seed);
		make_corpus(dir, ixdir);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(definitions_are_recognized),
		cmocka_unit_test(cut_is_the_last_shown_score),
		cmocka_unit_test(best_first_shows_what_a_full_search_ranks_first),
		cmocka_unit_test(definition_ranks_first),
	};

	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
