/*
 * Allocation-failure injection (faultalloc.h): each scenario is run with its 1st, 2nd, 3rd, ...
 * allocation failing until a run completes without reaching the failing one. Every failure must
 * end in TRAWL_ENOMEM with a message (or, where the code can do without the memory, in the same
 * result as without the fault); never a crash, never a wrong result, and under the asan build
 * never a leak. Each test prints how many N it swept.
 *
 * Scenarios: the shard writer (a small shard with branches), the index and shard reader (an
 * index of two repositories, one with branches and an overlay: open, documents, postings,
 * MANIFEST entries), the query parser (queries of every kind, refused ones too) and the search
 * path (a small index searched with literal, regex, case-insensitive and count: queries).
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "build/build.h"
#include "index/shard.h"
#include "query/query.h"
#include "regex/regex.h"
#include "search/search.h"
#include "unit/faults/faultalloc.h"
#include "unit/testlib.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"
#include "util/trigram.h"
#include "util/vec.h"

/* A result written without allocating, so the digest itself cannot fail mid-run. */
struct digest {
	char text[8192];
	size_t len;
};

static void digest_add(struct digest *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void digest_add(struct digest *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->len >= sizeof(d->text) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(d->text + d->len, sizeof(d->text) - d->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		d->len += (size_t)n < sizeof(d->text) - d->len ? (size_t)n : sizeof(d->text) - d->len - 1;
}

/*
 * The common judgement: a run with an injected failure ends in ENOMEM with a message, or (when
 * the memory was optional) exactly like the run without faults; one without ends like that run.
 */
static void judge(int err, bool is_injected, int want_err, const struct digest *got,
		  const struct digest *want, const char *what)
{
	if (is_injected && err == TRAWL_ENOMEM) {
		if (!error_last()[0])
			fail_msg("%s: ENOMEM without a message", what);
		return;
	}
	if (err != want_err)
		fail_msg("%s: %s run ended in %d (%s), expected %d", what,
			 is_injected ? "a failing" : "the complete", err, error_last(), want_err);
	if (strcmp(got->text, want->text) != 0) {
		size_t k = 0;

		while (got->text[k] == want->text[k])
			k++;
		k = k > 40 ? k - 40 : 0;
		fail_msg("%s: %s run gave\n%.160s\ninstead of\n%.160s", what,
			 is_injected ? "a failing" : "the complete", got->text + k, want->text + k);
	}
}

static char ixdir[512];

/* ---- the shard writer ---------------------------------------------------------------------- */

struct writer_case {
	char dir[512];
	char path[600];
	struct digest got, want;
};

static int write_shard(void *arg)
{
	static char *const branches[] = { "main", "dev" };
	static const uint8_t both = 3, main_only = 1;
	static const uint8_t oid[SHARD_OID_BYTES] = { 0xab, 0xcd };
	struct writer_case *c = arg;
	struct shard_writer *w = NULL;
	const char *a = "int main(void)\n{\n\treturn 0;\n}\n", *b = "caf\xc3\xa9 \xff\xfe binary\n";
	int err;

	if ((err = shard_writer_new(&w, c->path, "faults/repo")) < 0 ||
	    (err = shard_writer_set_branches(w, branches, 2)) < 0 ||
	    (err = shard_writer_add_git(w, "src/main.c", 10, (const uint8_t *)a, strlen(a),
					strlen(a), DOC_INDEXED, 0, oid, &both, 1)) < 0 ||
	    (err = shard_writer_add_git(w, "b.txt", 5, (const uint8_t *)b, strlen(b), strlen(b),
					DOC_INDEXED, 0, NULL, &main_only, 1)) < 0 ||
	    (err = shard_writer_add_git(w, "big.bin", 7, NULL, 0, 1u << 30, DOC_SKIP_TOO_LARGE, 0,
					NULL, &both, 1)) < 0)
		goto out;
	err = shard_writer_finish(w);
out:
	shard_writer_free(w);
	return err;
}

/* What the shard at path holds, read back without faults. */
static void describe_shard(struct digest *d, const char *path)
{
	struct shard *sh = NULL;

	d->len = 0;
	d->text[0] = '\0';
	if (shard_open(&sh, path) < 0 || shard_verify(sh) < 0) {
		digest_add(d, "unreadable: %s", error_last());
		shard_close(sh);
		return;
	}
	digest_add(d, "%s docs=%u branches=%u\n", shard_repo(sh), shard_n_docs(sh),
		   shard_n_branches(sh));
	for (uint32_t i = 0; i < shard_n_docs(sh); i++) {
		struct shard_doc doc;

		if (shard_doc(&doc, sh, i) < 0) {
			digest_add(d, "doc %u unreadable\n", i);
			continue;
		}
		digest_add(d, "%.*s skip=%d flags=%u size=%llu bset=%u %.*s\n", (int)doc.path_len,
			   doc.path, (int)doc.skip, doc.flags, (unsigned long long)doc.size,
			   doc.bset_len ? doc.bset[0] : 0, (int)doc.content_len, doc.content);
	}
	shard_close(sh);
}

/* The files in dir, one per line. */
static void list_dir(struct digest *d, const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;

	d->len = 0;
	d->text[0] = '\0';
	assert_non_null(dh);
	while ((de = readdir(dh)) != NULL)
		if (de->d_name[0] != '.')
			digest_add(d, "%s\n", de->d_name);
	closedir(dh);
}

static void check_writer(int err, bool is_injected, void *arg)
{
	struct writer_case *c = arg;
	struct digest files;

	if (err == 0) {
		describe_shard(&c->got, c->path);
	} else {
		/* A failed write leaves nothing behind: no shard, no temporary file. */
		list_dir(&files, c->dir);
		if (files.len)
			fail_msg("shard writer: a failed write left files:\n%s", files.text);
		c->got.len = 0;
		c->got.text[0] = '\0';
	}
	judge(err, is_injected, 0, &c->got, &c->want, "shard writer");
	unlink(c->path);
}

static void writer_fails_cleanly_at_every_allocation(void **state)
{
	static struct writer_case c;
	size_t n;

	(void)state;
	snprintf(c.dir, sizeof(c.dir), "%s", testlib_path("writer"));
	assert_int_equal(file_mkdirs(c.dir), 0);
	snprintf(c.path, sizeof(c.path), "%s/w.shard", c.dir);
	assert_int_equal(write_shard(&c), 0);
	describe_shard(&c.want, c.path);
	assert_null(strstr(c.want.text, "unreadable"));
	assert_int_equal(unlink(c.path), 0);
	n = faultalloc_sweep(write_shard, check_writer, &c);
	printf("shard writer: %zu allocations failed in turn\n", n);
	assert_true(n > 0);
}

/* ---- the index and shard reader ------------------------------------------------------------ */

struct reader_case {
	struct digest got, want;
};

static int digest_postings(struct digest *d, const struct shard *sh, uint32_t t)
{
	struct u32vec ids;
	int err;

	u32vec_init(&ids);
	if ((err = shard_postings(&ids, sh, t)) == 0) {
		digest_add(d, "  %06x:", t);
		for (size_t k = 0; k < ids.len; k++)
			digest_add(d, " %u", ids.v[k]);
		digest_add(d, "\n");
	}
	u32vec_dispose(&ids);
	return err;
}

static int read_index(void *arg)
{
	static const char *const repos[] = { "alpha", "beta" };
	struct reader_case *c = arg;
	struct index *ix = NULL;
	int err;

	c->got.len = 0;
	c->got.text[0] = '\0';
	if ((err = index_open(&ix, ixdir)) < 0)
		return err;
	for (size_t i = 0; i < index_n_shards(ix); i++) {
		const struct shard *sh = index_shard(ix, i);

		digest_add(&c->got, "%s %u docs\n", shard_repo(sh), shard_n_docs(sh));
		for (uint32_t j = 0; j < shard_n_docs(sh); j++) {
			struct shard_doc d;
			uint64_t set[1];

			if ((err = shard_doc(&d, sh, j)) < 0)
				goto out;
			index_doc_branches(set, 1, ix, i, j, &d);
			digest_add(&c->got, " %.*s live=%d set=%llx\n", (int)d.path_len, d.path,
				   index_doc_is_live(ix, i, j, &d), (unsigned long long)set[0]);
			for (size_t k = 0; k + 2 < d.content_len && k < 12; k++)
				if ((err = digest_postings(&c->got, sh,
							   trigram_make(d.content[k], d.content[k + 1],
									d.content[k + 2]))) < 0)
					goto out;
		}
	}
	for (size_t r = 0; r < 2; r++) {
		struct index_repo_entry e;

		if ((err = index_read_repo(&e, ixdir, repos[r])) < 0)
			goto out;
		digest_add(&c->got, "%s: %zu shards %zu branches %zu overlay\n", e.name, e.n_shards,
			   e.n_branches, e.n_overlay);
		index_repo_entry_dispose(&e);
	}
out:
	index_close(ix);
	return err;
}

static void check_reader(int err, bool is_injected, void *arg)
{
	struct reader_case *c = arg;

	judge(err, is_injected, 0, &c->got, &c->want, "index reader");
}

static void reader_fails_cleanly_at_every_allocation(void **state)
{
	static struct reader_case c;
	size_t n;

	(void)state;
	assert_int_equal(read_index(&c), 0);
	c.want = c.got;
	assert_non_null(strstr(c.want.text, "beta: 1 shards 2 branches 1 overlay"));
	n = faultalloc_sweep(read_index, check_reader, &c);
	printf("index and shard reader: %zu allocations failed in turn\n", n);
	assert_true(n > 0);
}

/* ---- jansson's failures while reading the MANIFEST ----------------------------------------- */

/* The two repositories' MANIFEST entries, in full. */
static int describe_entries(struct digest *d)
{
	static const char *const repos[] = { "alpha", "beta" };
	int err = 0;

	d->len = 0;
	d->text[0] = '\0';
	for (size_t r = 0; r < 2 && err == 0; r++) {
		struct index_repo_entry e;

		if ((err = index_read_repo(&e, ixdir, repos[r])) < 0)
			break;
		digest_add(d, "%s base=%zu\n", e.name, e.n_base);
		for (size_t i = 0; i < e.n_shards; i++)
			digest_add(d, " shard %s\n", e.shards[i]);
		for (size_t i = 0; i < e.n_branches; i++)
			digest_add(d, " branch %s %s %d\n", e.branches[i].name, e.branches[i].commit,
				   e.branches[i].is_default);
		for (size_t i = 0; i < e.n_overlay; i++)
			digest_add(d, " overlay %u %u %zu\n", e.overlay[i].shard, e.overlay[i].doc,
				   e.overlay[i].n_branches);
		index_repo_entry_dispose(&e);
	}
	return err;
}

/*
 * In a child: reads the entries with jansson's n-th allocation failing. 0: a clean ENOMEM or
 * the right entries; 3: no allocation failed (the sweep is over); 1 and 2: wrong entries.
 */
static int jansson_child(size_t n, const struct digest *want)
{
	static struct digest got;
	static const int sigs[] = { SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE };
	bool is_injected;
	int err;

	/* A crash ends the child (cmocka's handlers would carry on with the next test in it). */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		signal(sigs[i], SIG_DFL);
	faultalloc_arm_mode(n, FAULTALLOC_JANSSON);
	err = describe_entries(&got);
	is_injected = faultalloc_disarm();
	if (is_injected && err == TRAWL_ENOMEM && error_last()[0])
		return 0;
	if (err < 0 || strcmp(got.text, want->text) != 0) {
		fprintf(stderr, "jansson allocation %zu: %d (%s), entries:\n%s\n", n, err,
			error_last(), got.text);
		return is_injected ? 2 : 1;
	}
	return is_injected ? 0 : 3;
}

/*
 * jansson out of memory may drop a byte of a string (a shard name, a commit) and still
 * succeed, or call it a syntax error: the MANIFEST reader must report ENOMEM, never take the
 * damage for the index's state (a missing shard, a "corrupt" MANIFEST to rebuild). Each N runs
 * in a child, as jansson 2.14 can crash on some of them (counted, not ours to fix).
 */
static void manifest_read_never_takes_jansson_damage_for_data(void **state)
{
	static struct digest want;
	size_t n, n_crashed = 0;

	(void)state;
	assert_int_equal(describe_entries(&want), 0);
	for (n = 1;; n++) {
		pid_t pid;
		int status;

		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(jansson_child(n, &want)); /* _exit: jansson's own leaks are not ours */
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (WIFSIGNALED(status)) {
			n_crashed++;
			continue;
		}
		if (WEXITSTATUS(status) == 3)
			break;
		if (WEXITSTATUS(status) != 0)
			fail_msg("jansson allocation %zu: the MANIFEST was read wrong", n);
	}
	printf("MANIFEST reader: %zu of jansson's allocations failed in turn, %zu crashed jansson\n",
	       n - 1, n_crashed);
	assert_true(n > 1);
}

/* ---- the query parser ---------------------------------------------------------------------- */

static const struct {
	const char *text;
	int err;
} queries[] = {
	{ "foo", 0 },
	{ "foo bar -baz", 0 },
	{ "\"exact phrase\" or other", 0 },
	{ "(a or b) and not c", 0 },
	{ "repo:^alpha$ file:\\.c$ lang:c count:all case:yes", 0 },
	{ "/fo+[a-z]\\d{2,3}/ -file:test", 0 },
	{ "type:path main", 0 },
	{ "type:repo alp", 0 },
	{ "main rev:dev timeout:3s count:10 select:repo patterntype:regexp", 0 },
	{ "content:\"x y\" -repo:beta case:no", 0 },
	{ "(?i)caf\xc3\xa9 \\p{L}+", 0 },
	{ "a or (b and (c or -d))", 0 },
	{ "(unclosed", TRAWL_EINVAL },
	{ "/[z-a]/", TRAWL_EINVAL },
	{ "nosuchfield:x", TRAWL_EINVAL },
	{ "count:-1", TRAWL_EINVAL },
	{ "or", TRAWL_EINVAL },
	{ "fork:yes x", TRAWL_EUNSUPPORTED },
	{ "repo:has.file(x) lang:klingon", TRAWL_EINVAL },
};

struct query_case {
	const char *text;
	int want_err;
	struct query *q;
	struct digest got, want;
};

static int parse_one(void *arg)
{
	struct query_case *c = arg;

	return query_parse(&c->q, c->text, strlen(c->text));
}

/* The parsed query as query_describe prints it, or the refusal's message. */
static void describe_query(struct digest *d, int err, const struct query *q)
{
	struct buf b;

	d->len = 0;
	d->text[0] = '\0';
	if (err < 0) {
		digest_add(d, "refused: %s", error_last());
		return;
	}
	buf_init(&b, 1 << 20);
	if (query_describe(&b, q) < 0)
		fail_msg("query_describe: %s", error_last());
	digest_add(d, "%.*s", (int)b.len, b.ptr ? b.ptr : "");
	buf_dispose(&b);
}

static void check_query(int err, bool is_injected, void *arg)
{
	struct query_case *c = arg;

	if (!(is_injected && err == TRAWL_ENOMEM))
		describe_query(&c->got, err, c->q);
	query_free(c->q);
	c->q = NULL;
	judge(err, is_injected, c->want_err, &c->got, &c->want, c->text);
}

static void query_parser_fails_cleanly_at_every_allocation(void **state)
{
	size_t total = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(queries) / sizeof(*queries); i++) {
		static struct query_case c;
		int err;

		c = (struct query_case){ .text = queries[i].text, .want_err = queries[i].err };
		err = parse_one(&c);
		if (err != c.want_err)
			fail_msg("%s: %d (%s), expected %d", c.text, err, error_last(), c.want_err);
		describe_query(&c.want, err, c.q);
		query_free(c.q);
		c.q = NULL;
		total += faultalloc_sweep(parse_one, check_query, &c);
	}
	printf("query parser: %zu allocations failed in turn over %zu queries\n", total,
	       sizeof(queries) / sizeof(*queries));
	assert_true(total > 0);
}

/* ---- the regex parser and the Vectorscan pattern writer ------------------------------------- */

/* Classes of many ranges, negated, Unicode, case-folded, word boundaries: the cset paths. */
static const char *const patterns[] = {
	"[a-cf-hk-mp-rt-vx-z0-13-57-9_]+x",
	"[^a-cf-hk-mp-rt-vx-z]\\b",
	"(?i)\\w+\\s\\p{Greek}",
	"\\bcaf\xc3\xa9\\b|[[:alpha:]&&[^aeiou]]{2}",
	"[\\p{L}--\\p{Lu}]+",
	"\\D\\W\\S.",
};

struct regex_case {
	const char *pattern;
	struct digest got, want;
};

static int emit_all(void *arg)
{
	static const enum regex_dialect dialects[] = { REGEX_DIALECT_UTF8, REGEX_DIALECT_BYTES,
						       REGEX_DIALECT_ASCII };
	static const unsigned modes[] = { 0, REGEX_EMIT_LINES };
	struct regex_case *c = arg;
	struct regex *re = NULL;
	struct buf b;
	int err;

	c->got.len = 0;
	c->got.text[0] = '\0';
	buf_init(&b, 1 << 20);
	if ((err = regex_parse(&re, c->pattern, strlen(c->pattern), 0)) < 0)
		goto out;
	for (size_t d = 0; d < 3; d++)
		for (size_t m = 0; m < 2; m++) {
			unsigned flags = 0;

			buf_reset(&b);
			if ((err = regex_emit(&b, &flags, re, dialects[d], modes[m])) < 0)
				goto out;
			digest_add(&c->got, "%d %x %zu\n", err, flags, b.len);
		}
	err = 0;
out:
	buf_dispose(&b);
	regex_free(re);
	return err;
}

/*
 * Without the memory to prove that a Unicode \b at a pattern's edge can be rewritten exactly,
 * the writer may fall back to a superset pattern whose lines are verified (REGEX_EMIT_VERIFY):
 * still right, only slower. Such a line is taken as it is; every other must be the same.
 */
static void check_regex(int err, bool is_injected, void *arg)
{
	struct regex_case *c = arg;
	const char *g = c->got.text, *w = c->want.text;

	while (is_injected && err == 0 && *g && *w) {
		size_t gl = strcspn(g, "\n"), wl = strcspn(w, "\n");

		if (gl == wl && memcmp(g, w, gl) != 0 && (g[0] - '0') != REGEX_EMIT_VERIFY)
			break;
		if (gl != wl && (g[0] - '0') != REGEX_EMIT_VERIFY)
			break;
		g += gl + (g[gl] == '\n');
		w += wl + (w[wl] == '\n');
	}
	if (is_injected && err == 0 && !*g && !*w)
		return;
	judge(err, is_injected, 0, &c->got, &c->want, c->pattern);
}

static void regex_fails_cleanly_at_every_allocation(void **state)
{
	size_t total = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(patterns) / sizeof(*patterns); i++) {
		static struct regex_case c;

		c = (struct regex_case){ .pattern = patterns[i] };
		if (emit_all(&c) < 0)
			fail_msg("%s: %s", c.pattern, error_last());
		c.want = c.got;
		total += faultalloc_sweep(emit_all, check_regex, &c);
	}
	printf("regex parser and writer: %zu allocations failed in turn over %zu patterns\n", total,
	       sizeof(patterns) / sizeof(*patterns));
	assert_true(total > 0);
}

/* ---- the search path ----------------------------------------------------------------------- */

static const char *const searches[] = {
	"needle",
	"/ne+dle [0-9]+/",
	"NEEDLE case:no",
	"needle count:1",
	"needle or haystack -file:\\.md$",
	"type:path /\\.c$/",
	"/(?i)hay\\w+/ repo:beta",
};

struct search_case {
	const char *text;
	struct digest got, want;
};

static int on_file(const struct search_file *f, void *arg)
{
	struct search_case *c = arg;

	digest_add(&c->got, "%s/%.*s:%llu", f->repo, (int)f->path_len, f->path,
		   (unsigned long long)f->n_lines);
	for (uint64_t i = 0; f->lines && i < f->n_lines; i++)
		digest_add(&c->got, " %llu:%.*s", (unsigned long long)f->lines[i].lineno,
			   (int)f->lines[i].len, (const char *)f->lines[i].text);
	digest_add(&c->got, "\n");
	return 0;
}

static int search_one(void *arg)
{
	static const struct search_repos all = { .is_all = true };
	struct search_case *c = arg;
	struct search_opts o = { .want_lines = true, .want_ranges = true, .n_threads = 1 };
	struct search_stats st;
	struct index *ix = NULL;
	struct query *q = NULL;
	int err;

	c->got.len = 0;
	c->got.text[0] = '\0';
	if ((err = query_parse(&q, c->text, strlen(c->text))) < 0 ||
	    (err = index_open(&ix, ixdir)) < 0)
		goto out;
	o.query = q;
	err = search_run(&st, ix, &all, &o, on_file, c);
out:
	index_close(ix);
	query_free(q);
	return err;
}

static void check_search(int err, bool is_injected, void *arg)
{
	struct search_case *c = arg;

	judge(err, is_injected, 0, &c->got, &c->want, c->text);
}

static void search_fails_cleanly_at_every_allocation(void **state)
{
	size_t total = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(searches) / sizeof(*searches); i++) {
		static struct search_case c;

		c = (struct search_case){ .text = searches[i] };
		if (search_one(&c) < 0)
			fail_msg("%s: %s", c.text, error_last());
		c.want = c.got;
		if (!c.want.len)
			fail_msg("%s: no results to compare with", c.text);
		total += faultalloc_sweep(search_one, check_search, &c);
	}
	printf("search: %zu allocations failed in turn over %zu queries\n", total,
	       sizeof(searches) / sizeof(*searches));
	assert_true(total > 0);
}

/* ---- fixtures ------------------------------------------------------------------------------ */

/* A shard of repo with the given documents (path, content pairs), branches "x" and "y". */
static char *make_shard(const char *repo, const char *const *docs, size_t n)
{
	static char *const branches[] = { "x", "y" };
	static const uint8_t sets[] = { 1, 2, 3 };
	struct shard_writer *w = NULL;
	char *name = index_shard_name(repo, 0), *path;

	assert_non_null(name);
	path = file_join(ixdir, name);
	assert_non_null(path);
	assert_int_equal(shard_writer_new(&w, path, repo), 0);
	assert_int_equal(shard_writer_set_branches(w, branches, 2), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(shard_writer_add_git(w, docs[2 * i], strlen(docs[2 * i]),
						      (const uint8_t *)docs[2 * i + 1],
						      strlen(docs[2 * i + 1]), strlen(docs[2 * i + 1]),
						      DOC_INDEXED, 0, NULL, &sets[i % 3], 1),
				 0);
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	free(path);
	return name;
}

static int setup(void **state)
{
	static const char *const alpha[] = {
		"main.c", "int needle = 42;\nchar *haystack;\n",
		"README.md", "A needle in a haystack\nneedle 7\n",
		"lib/util.c", "static int NEEDLE_COUNT;\nHaystackSize\n",
	};
	static const char *const beta[] = {
		"x.c", "needle 123\nhaystacks\n",
		"notes.txt", "nothing here\n",
		"deleted.c", "needle gone\n",
	};
	struct index_branch br[] = { { "x", "", true }, { "y", "", false } };
	struct index_overlay ov[] = { { 0, 2, NULL, 0 } };
	char *a, *b;
	int err;

	if (testlib_setup(state) < 0)
		return -1;
	/* jansson's allocations through trawl's counting malloc, so the sweep reaches them too. */
	(void)json_alloc_failures();
	/* The compiled-pattern cache in the test's own directory, filled by the first runs. */
	setenv("TRAWL_CACHE_DIR", testlib_path("cache"), 1);
	snprintf(ixdir, sizeof(ixdir), "%s", testlib_path("ix"));
	if (file_mkdirs(ixdir) < 0)
		return -1;
	a = make_shard("alpha", alpha, 3);
	b = make_shard("beta", beta, 3);
	br[0].name = "x";
	br[1].name = "y";
	err = index_commit_entry(ixdir,
				 &(struct index_repo_entry){ .name = "alpha", .shards = &a,
							     .n_shards = 1, .n_base = 1 },
				 NULL);
	if (err == 0)
		err = index_commit_entry(ixdir,
					 &(struct index_repo_entry){ .name = "beta", .shards = &b,
								     .n_shards = 1, .n_base = 1,
								     .branches = br, .n_branches = 2,
								     .overlay = ov, .n_overlay = 1 },
					 NULL);
	free(a);
	free(b);
	return err < 0 ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writer_fails_cleanly_at_every_allocation),
		cmocka_unit_test(reader_fails_cleanly_at_every_allocation),
		cmocka_unit_test(manifest_read_never_takes_jansson_damage_for_data),
		cmocka_unit_test(query_parser_fails_cleanly_at_every_allocation),
		cmocka_unit_test(regex_fails_cleanly_at_every_allocation),
		cmocka_unit_test(search_fails_cleanly_at_every_allocation),
	};

	return cmocka_run_group_tests(tests, setup, testlib_teardown);
}
