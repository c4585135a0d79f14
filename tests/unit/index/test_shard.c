/*
 * Unit tests for shard files: the writer and reader agree (documents, skip reasons, flags,
 * case-folded trigram postings), and the reader refuses every kind of damage (truncation,
 * flipped bytes, foreign or newer files, absurd counts, overlapping sections, bad records) with
 * TRAWL_ECORRUPT and a message naming the file, on open or at the latest in shard_verify().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <zlib.h>
#include <cmocka.h>

#include "index/shard.h"
#include "index/shard_int.h"
#include "util/error.h"
#include "util/file.h"
#include "util/trigram.h"
#include "util/vec.h"
#include "unit/index/shard_bytes.h"
#include "unit/testlib.h"

struct sample_doc {
	const char *path;
	const char *content; /* NUL-terminated here; NULL for skipped documents */
	uint64_t size;
	enum doc_skip skip;
	uint16_t lang;
};

static const struct sample_doc sample[] = {
	{ "src/main.c", "int main(void) { return ABC; }\n", 31, DOC_INDEXED, 3 },
	{ "empty.txt", "", 0, DOC_INDEXED, 0 },
	{ "img/logo.png", NULL, 4096, DOC_SKIP_BINARY, 0 },
	{ "big.log", NULL, 99999999, DOC_SKIP_TOO_LARGE, 0 },
	{ "secret", NULL, 12, DOC_SKIP_UNREADABLE, 0 },
	{ "latin1.txt", "caf\xe9 xabcx\n", 11, DOC_INDEXED, 0 },
	{ "utf8.txt", "h\xc3\xa9llo w\xc3\xb6rld\n", 14, DOC_INDEXED, 0 },
	{ "deep/dir/Name With Spaces.md", "line one\nline two\n", 18, DOC_INDEXED, 65535 },
};
#define N_SAMPLE (sizeof(sample) / sizeof(sample[0]))
#define SAMPLE_CONTENT_BYTES (31 + 11 + 14 + 18)

static size_t content_len(const struct sample_doc *d)
{
	return d->content ? strlen(d->content) : 0;
}

/*
 * The sample's SYMBOLS section (a writer extension): one symbol per indexed document, named
 * after its path, so the sample has every section of the table and the damage tests below
 * reach SYMBOLS too.
 */
static int sym_doc(void *arg, uint32_t doc, const char *path, size_t path_len,
		   const uint8_t *content, size_t content_len, enum doc_skip skip, uint16_t lang)
{
	struct symsec_in in = { .name = path, .name_len = path_len, .kind = "file",
				.lang = "Text", .line = 1 };
	int err;

	(void)content;
	(void)lang;
	if (skip != DOC_INDEXED || content_len == 0)
		return symsec_builder_doc(arg, doc, SYMSEC_NOT_PARSED);
	if ((err = symsec_builder_doc(arg, doc, SYMSEC_OK)) < 0)
		return err;
	return symsec_builder_add(arg, &in);
}

static int sym_finish(void *arg, struct buf *out, uint32_t *count, uint32_t n_docs)
{
	return symsec_builder_finish(arg, out, count, n_docs);
}

/*
 * The sample documents as repository repo, or, with is_compound, as a compound shard of repo
 * (the first three documents), repo-b (the others) and repo-c (none), which holds every
 * section this trawl knows.
 */
static void write_sample_as(const char *path, const char *repo, bool is_compound)
{
	struct shard_writer *w = NULL;
	struct symsec_builder *sb = NULL;
	struct shard_writer_ext ext = { .id = SEC_SYMBOLS, .doc = sym_doc, .finish = sym_finish };
	char other[64];

	static char *const branches[] = { "main", "dev", "release/1.0" };

	assert_int_equal(symsec_builder_new(&sb), 0);
	ext.arg = sb;
	if (is_compound) {
		assert_int_equal(shard_writer_new_compound(&w, path, &ext), 0);
		assert_int_equal(shard_writer_begin_repo(w, repo), 0);
	} else {
		assert_int_equal(shard_writer_new_ext(&w, path, repo, &ext), 0);
	}
	assert_int_equal(shard_writer_set_branches(w, branches, 3), 0);
	for (size_t i = 0; i < N_SAMPLE; i++) {
		const struct sample_doc *d = &sample[i];
		uint8_t set = (uint8_t)(1u + (i % 7)); /* every non-empty subset of 3 branches */
		uint8_t oid[SHARD_OID_BYTES];

		memset(oid, (int)i + 1, sizeof(oid));
		if (is_compound && i == 3) {
			snprintf(other, sizeof(other), "%s-b", repo);
			assert_int_equal(shard_writer_begin_repo(w, other), 0);
		}
		assert_int_equal(shard_writer_add_git(w, d->path, strlen(d->path),
						      (const uint8_t *)d->content, content_len(d),
						      d->size, d->skip, d->lang, oid, &set, 1),
				 0);
	}
	if (is_compound) {
		snprintf(other, sizeof(other), "%s-c", repo);
		assert_int_equal(shard_writer_begin_repo(w, other), 0);
	}
	assert_int_equal(shard_writer_content_bytes(w), SAMPLE_CONTENT_BYTES);
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	symsec_builder_free(sb);
}

static void write_sample(const char *path, const char *repo)
{
	write_sample_as(path, repo, false);
}

struct blob {
	uint8_t *p;
	size_t n;
};

static struct blob read_blob(const char *path)
{
	struct blob b;
	char *data;

	assert_int_equal(file_read_all(&data, &b.n, path, 1 << 28), 0);
	b.p = (uint8_t *)data;
	return b;
}

static struct blob sample_blob(void)
{
	const char *p = testlib_path("sample.shard");

	write_sample(p, "proj");
	return read_blob(p);
}

/* The sample as a compound shard: every section this trawl knows. */
static struct blob compound_blob(void)
{
	const char *p = testlib_path("compound.shard");

	write_sample_as(p, "proj", true);
	return read_blob(p);
}

static void write_blob(const char *path, const uint8_t *p, size_t n)
{
	assert_int_equal(file_write_atomic(path, p, n), 0);
}

/* The TOC entry of section id, or NULL. */
static uint8_t *toc_entry(uint8_t *p, uint32_t id)
{
	return shard_bytes_toc_entry(p, SIZE_MAX, id);
}

/* Where the sections of p start: after the header and its TOC. */
static size_t toc_end_of(const uint8_t *p)
{
	return (size_t)shard_toc_end(le32(p + SHARD_H_N_SECTIONS));
}

static uint64_t sec_off(uint8_t *p, uint32_t id)
{
	return le64(toc_entry(p, id) + SHARD_T_OFFSET);
}

static uint64_t sec_len(uint8_t *p, uint32_t id)
{
	return le64(toc_entry(p, id) + SHARD_T_LENGTH);
}

static void reseal(uint8_t *p, size_t n)
{
	shard_bytes_reseal(p, n);
}

/* Writes bytes to mut.shard and opens it. */
static int open_bytes(struct shard **sh, const uint8_t *p, size_t n)
{
	write_blob(testlib_path("mut.shard"), p, n);
	error_clear();
	return shard_open(sh, testlib_path("mut.shard"));
}

/* Asserts that bytes are refused on open with ECORRUPT and a message naming the file. */
static void expect_refused(const uint8_t *p, size_t n, const char *want)
{
	struct shard *sh = NULL;
	int err = open_bytes(&sh, p, n);

	if (err != TRAWL_ECORRUPT)
		print_error("expected ECORRUPT, got %d (%s)\n", err, error_last());
	assert_int_equal(err, TRAWL_ECORRUPT);
	assert_null(sh);
	assert_non_null(strstr(error_last(), testlib_path("mut.shard")));
	if (want && !strstr(error_last(), want))
		fail_msg("message \"%s\" lacks \"%s\"", error_last(), want);
}

/*
 * Asserts that damage is caught: refused on open (structure), or else reported by
 * shard_verify() (checksums, dictionary order, posting lists), with ECORRUPT naming the file
 * and, when want is given, saying want.
 */
static void expect_caught(const uint8_t *p, size_t n, const char *want)
{
	struct shard *sh = NULL;
	int err = open_bytes(&sh, p, n);

	if (err == 0) {
		error_clear();
		err = shard_verify(sh);
		shard_close(sh);
	}
	assert_int_equal(err, TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), testlib_path("mut.shard")));
	if (want && !strstr(error_last(), want))
		fail_msg("message \"%s\" lacks \"%s\"", error_last(), want);
}

static void ids_equal(const struct shard *sh, uint32_t trigram, const uint32_t *want, size_t n)
{
	struct u32vec ids;

	u32vec_init(&ids);
	assert_int_equal(shard_postings(&ids, sh, trigram), 0);
	assert_int_equal(ids.len, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ids.v[i], want[i]);
	assert_int_equal(shard_trigram_count(sh, trigram), n);
	u32vec_dispose(&ids);
}

/* ---- round trips ---- */

static void writer_reader_round_trip_documents(void **state)
{
	const char *p = testlib_path("rt.shard");
	struct shard *sh = NULL;

	(void)state;
	write_sample(p, "my repo");
	assert_int_equal(shard_open(&sh, p), 0);
	assert_string_equal(shard_file(sh), p);
	assert_string_equal(shard_repo(sh), "my repo");
	assert_int_equal(shard_n_docs(sh), N_SAMPLE);
	assert_int_equal(shard_content_bytes(sh), SAMPLE_CONTENT_BYTES);
	for (uint32_t i = 0; i < N_SAMPLE; i++) {
		const struct sample_doc *s = &sample[i];
		struct shard_doc d;

		assert_int_equal(shard_doc(&d, sh, i), 0);
		assert_int_equal(d.path_len, strlen(s->path));
		assert_memory_equal(d.path, s->path, d.path_len);
		assert_int_equal(d.content_len, content_len(s));
		if (content_len(s))
			assert_memory_equal(d.content, s->content, content_len(s));
		else
			assert_null(d.content);
		assert_int_equal(d.size, s->size);
		assert_int_equal(d.skip, s->skip);
		assert_int_equal(d.lang, s->lang);
		/* Only the Latin-1 document is not UTF-8; the empty one is. */
		assert_int_equal(d.flags, i == 5 ? DOC_INVALID_UTF8 : 0);
	}
	assert_int_equal(shard_verify(sh), 0);
	shard_close(sh);
}

static void shard_doc_rejects_bad_id(void **state)
{
	const char *p = testlib_path("rt2.shard");
	struct shard *sh = NULL;
	struct shard_doc d;

	(void)state;
	write_sample(p, "r");
	assert_int_equal(shard_open(&sh, p), 0);
	assert_int_equal(shard_doc(&d, sh, N_SAMPLE), TRAWL_EINVAL);
	assert_int_equal(shard_doc(&d, sh, UINT32_MAX), TRAWL_EINVAL);
	shard_close(sh);
}

static void postings_hold_case_folded_trigrams(void **state)
{
	const char *p = testlib_path("fold.shard");
	struct shard *sh = NULL;
	static const uint32_t main_and_latin1[] = { 0, 5 }, only_last[] = { 7 };

	(void)state;
	write_sample(p, "r");
	assert_int_equal(shard_open(&sh, p), 0);
	/* "ABC" in doc 0 and "abc" in doc 5: both under the folded trigram. */
	ids_equal(sh, trigram_make('a', 'b', 'c'), main_and_latin1, 2);
	ids_equal(sh, trigram_make('A', 'B', 'C'), main_and_latin1, 2);
	/* Non-ASCII bytes are kept as they are. */
	ids_equal(sh, trigram_make('f', 0xe9, ' '), (const uint32_t[]){ 5 }, 1);
	ids_equal(sh, trigram_make(0xc3, 0xa9, 'l'), (const uint32_t[]){ 6 }, 1);
	/* Trigrams across a newline are indexed too. */
	ids_equal(sh, trigram_make('n', 'e', '\n'), only_last, 1);
	ids_equal(sh, trigram_make('e', '\n', 'l'), only_last, 1);
	/* Absent trigrams, and skipped documents' paths, give nothing. */
	ids_equal(sh, trigram_make('z', 'z', 'z'), NULL, 0);
	ids_equal(sh, trigram_make('l', 'o', 'g'), NULL, 0);
	ids_equal(sh, 0, NULL, 0);
	ids_equal(sh, TRIGRAM_SPACE - 1, NULL, 0);
	shard_close(sh);
}

static void writer_folds_exactly_like_trigram_make(void **state)
{
	const char *p = testlib_path("bytes.shard");
	struct shard_writer *w = NULL;
	struct shard *sh = NULL;

	(void)state;
	/* Document c holds the three bytes c c c. */
	assert_int_equal(shard_writer_new(&w, p, "r"), 0);
	for (unsigned c = 0; c < 256; c++) {
		uint8_t b[3] = { (uint8_t)c, (uint8_t)c, (uint8_t)c };

		assert_int_equal(shard_writer_add(w, "f", 1, b, 3, 3, DOC_INDEXED, 0), 0);
	}
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	assert_int_equal(shard_open(&sh, p), 0);
	for (unsigned c = 0; c < 256; c++) {
		uint32_t t = trigram_make((uint8_t)c, (uint8_t)c, (uint8_t)c);
		uint32_t want[2];
		size_t n = 0;

		for (unsigned d = 0; d < 256; d++)
			if (trigram_fold((uint8_t)d) == trigram_fold((uint8_t)c))
				want[n++] = d;
		ids_equal(sh, t, want, n);
	}
	assert_int_equal(shard_verify(sh), 0);
	shard_close(sh);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The distinct folded trigrams of p[0..n), sorted, in a new array. */
static uint32_t *trigram_set(const uint8_t *p, size_t n, size_t *count)
{
	uint32_t *v = malloc((n > 2 ? n - 2 : 1) * sizeof(*v));
	size_t k = 0;

	assert_non_null(v);
	for (size_t i = 0; i + 2 < n; i++)
		v[i] = trigram_make(p[i], p[i + 1], p[i + 2]);
	if (n > 2) {
		qsort(v, n - 2, sizeof(*v), cmp_u32);
		for (size_t i = 0; i < n - 2; i++)
			if (k == 0 || v[k - 1] != v[i])
				v[k++] = v[i];
	}
	*count = k;
	return v;
}

/*
 * Many documents with many distinct trigrams, so that the pair store spans several chunks and
 * documents straddle chunk boundaries; every list is compared with a brute-force answer.
 */
static void postings_match_brute_force_across_chunks(void **state)
{
	enum { N_DOCS = 60, DOC_LEN = 70000 };
	const char *p = testlib_path("brute.shard");
	struct shard_writer *w = NULL;
	struct shard *sh = NULL;
	uint8_t *docs = malloc((size_t)N_DOCS * DOC_LEN);
	uint32_t *sets[N_DOCS];
	size_t set_n[N_DOCS];
	uint32_t seed = 99;
	struct u32vec ids;

	(void)state;
	assert_non_null(docs);
	assert_int_equal(shard_writer_new(&w, p, "r"), 0);
	for (size_t d = 0; d < N_DOCS; d++) {
		uint8_t *c = docs + d * DOC_LEN;
		/* Some documents over a small alphabet (long lists), most over all bytes. */
		unsigned mod = d % 3 == 0 ? 7 : 256;

		for (size_t i = 0; i < DOC_LEN; i++) {
			seed = seed * 1103515245u + 12345u;
			c[i] = mod == 7 ? (uint8_t)"aBcDe\n\xc3"[(seed >> 16) % 7] : (uint8_t)(seed >> 16);
		}
		/* Vary the lengths so that boundaries fall everywhere. */
		size_t len = DOC_LEN - d * 97;

		sets[d] = trigram_set(c, len, &set_n[d]);
		assert_int_equal(shard_writer_add(w, "x", 1, c, len, len, DOC_INDEXED, 0), 0);
	}
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	assert_int_equal(shard_open(&sh, p), 0);
	assert_int_equal(shard_verify(sh), 0);
	u32vec_init(&ids);
	for (size_t d = 0; d < N_DOCS; d += 7) {
		/* Every trigram of a sample of documents: its list must be exactly the holders. */
		for (size_t k = 0; k < set_n[d]; k += 13) {
			uint32_t t = sets[d][k];
			size_t j = 0;

			ids.len = 0;
			assert_int_equal(shard_postings(&ids, sh, t), 0);
			for (size_t e = 0; e < N_DOCS; e++) {
				if (!bsearch(&t, sets[e], set_n[e], sizeof(t), cmp_u32))
					continue;
				assert_true(j < ids.len);
				assert_int_equal(ids.v[j], e);
				j++;
			}
			assert_int_equal(j, ids.len);
		}
	}
	u32vec_dispose(&ids);
	for (size_t d = 0; d < N_DOCS; d++)
		free(sets[d]);
	free(docs);
	shard_close(sh);
}

static void empty_shard_round_trips(void **state)
{
	const char *p = testlib_path("empty.shard");
	struct shard_writer *w = NULL;
	struct shard *sh = NULL;

	(void)state;
	assert_int_equal(shard_writer_new(&w, p, "nothing"), 0);
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	assert_int_equal(shard_open(&sh, p), 0);
	assert_int_equal(shard_n_docs(sh), 0);
	assert_int_equal(shard_content_bytes(sh), 0);
	ids_equal(sh, trigram_make('a', 'b', 'c'), NULL, 0);
	assert_int_equal(shard_verify(sh), 0);
	shard_close(sh);
}

static size_t count_files(void)
{
	DIR *d = opendir(testlib_tmpdir());
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, "unfinished"))
			n++;
	closedir(d);
	return n;
}

static void writer_free_without_finish_leaves_no_file(void **state)
{
	struct shard_writer *w = NULL;

	(void)state;
	assert_int_equal(shard_writer_new(&w, testlib_path("unfinished.shard"), "r"), 0);
	assert_int_equal(shard_writer_add(w, "a", 1, (const uint8_t *)"abcd", 4, 4, DOC_INDEXED, 0),
			 0);
	assert_int_equal(count_files(), 1); /* the temporary file */
	shard_writer_free(w);
	assert_int_equal(count_files(), 0);
}

static void writer_refuses_bad_documents(void **state)
{
	struct shard_writer *w = NULL;

	(void)state;
	assert_int_equal(shard_writer_new(&w, testlib_path("bad.shard"), "r"), 0);
	assert_int_equal(shard_writer_add(w, "a", 1, (const uint8_t *)"abc", 3, 3,
					  DOC_SKIP_BINARY, 0),
			 TRAWL_EINVAL);
	assert_int_equal(shard_writer_add(w, "a", 1, NULL, 0, 3, (enum doc_skip)9, 0),
			 TRAWL_EINVAL);
	assert_int_equal(shard_writer_add(w, "a", 1, NULL, 5, 5, DOC_INDEXED, 0), TRAWL_EINVAL);
	/* The writer is still usable after refusing an argument. */
	assert_int_equal(shard_writer_add(w, "a", 1, (const uint8_t *)"abc", 3, 3, DOC_INDEXED, 0),
			 0);
	assert_int_equal(shard_writer_finish(w), 0);
	assert_int_equal(shard_writer_finish(w), TRAWL_EINVAL);
	shard_writer_free(w);
	assert_int_equal(shard_writer_new(&w, testlib_path("bad2.shard"), ""), TRAWL_EINVAL);
	assert_null(w);
}

static void writer_reports_missing_directory(void **state)
{
	struct shard_writer *w = NULL;

	(void)state;
	assert_int_equal(shard_writer_new(&w, testlib_path("no/such/dir/x.shard"), "r"), TRAWL_EIO);
	assert_null(w);
	assert_non_null(strstr(error_last(), "no/such/dir/x.shard"));
}

/*
 * A write error (here the file size limit, standing in for a full disk) is EIO naming the file;
 * the writer then refuses to go on, and freeing it leaves no temporary file behind.
 */
static void writer_reports_write_errors_naming_file(void **state)
{
	struct shard_writer *w = NULL;
	struct rlimit old, small;
	uint8_t *big = malloc(1 << 20);
	int err;

	(void)state;
	assert_non_null(big);
	memset(big, 'q', 1 << 20);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(shard_writer_new(&w, testlib_path("unfinished-full.shard"), "r"), 0);
	small = old;
	small.rlim_cur = 64 << 10;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	err = shard_writer_add(w, "big", 3, big, 1 << 20, 1 << 20, DOC_INDEXED, 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(err, TRAWL_EIO);
	assert_non_null(strstr(error_last(), testlib_path("unfinished-full.shard")));
	assert_int_equal(shard_writer_add(w, "a", 1, big, 3, 3, DOC_INDEXED, 0), TRAWL_EIO);
	assert_int_equal(shard_writer_finish(w), TRAWL_EIO);
	assert_non_null(strstr(error_last(), "already failed"));
	shard_writer_free(w);
	assert_int_equal(count_files(), 0);
	free(big);
}

/* ---- refusals ---- */

static void reader_refuses_missing_file_and_symlink(void **state)
{
	struct shard *sh = NULL;
	const char *target = testlib_path("target.shard"), *link = testlib_path("link.shard");

	(void)state;
	assert_int_equal(shard_open(&sh, testlib_path("nope.shard")), TRAWL_ENOTFOUND);
	assert_non_null(strstr(error_last(), "nope.shard"));
	write_sample(target, "r");
	assert_int_equal(symlink(target, link), 0);
	assert_true(shard_open(&sh, link) < 0);
	assert_null(sh);
	assert_non_null(strstr(error_last(), link));
}

static void reader_rejects_wrong_magic(void **state)
{
	struct blob b = sample_blob();

	(void)state;
	b.p[0] = 'X';
	expect_refused(b.p, b.n, "not a trawl shard (bad magic)");
	{
		static const char script[] = "#!/bin/sh\necho hello, this is not a shard, not at all\n";

		static const char long_script[] = "#!/bin/sh\n# a longer script, longer than the "
						  "header of a shard file, still not a shard\n";

		expect_refused((const uint8_t *)script, sizeof(script) - 1,
			       "not a trawl shard (bad magic)");
		expect_refused((const uint8_t *)long_script, sizeof(long_script) - 1,
			       "not a trawl shard (bad magic)");
		expect_refused((const uint8_t *)"TRAWL", 5, "truncated"); /* a cut shard */
	}
	free(b.p);
}

static void reader_rejects_newer_version(void **state)
{
	struct blob b = sample_blob();

	(void)state;
	put_le32(b.p + SHARD_H_VERSION, 5);
	expect_refused(b.p, b.n, "format version 5 is newer than this trawl supports (4)");
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "format version 5 is newer than this trawl supports (4)");
	put_le32(b.p + SHARD_H_VERSION, 0);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "version 0");
	/* Version 1 (before branch sets) is refused: the index must be rebuilt. */
	put_le32(b.p + SHARD_H_VERSION, 1);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "unsupported format version 1");
	free(b.p);
}

/* The trigrams at every offset of the sample's contents (repeats included); returns how many. */
static size_t sample_trigrams(uint32_t tri[SAMPLE_CONTENT_BYTES])
{
	size_t n = 0;

	for (size_t i = 0; i < N_SAMPLE; i++) {
		const char *c = sample[i].content;

		for (size_t k = 0; c && k + 3 <= strlen(c); k++)
			tri[n++] = trigram_make((uint8_t)c[k], (uint8_t)c[k + 1], (uint8_t)c[k + 2]);
	}
	return n;
}

/*
 * The sample as the version 3 writer wrote it: the eight sections of version 3 (any later ones
 * dropped) with version 3 in the header.
 */
static struct blob to_v3(const struct blob *v4)
{
	struct blob b = { .p = malloc(v4->n), .n = v4->n };
	uint32_t k = 0;

	assert_non_null(b.p);
	memcpy(b.p, v4->p, v4->n);
	while (k < le32(b.p + SHARD_H_N_SECTIONS)) {
		uint32_t id = le32(b.p + SHARD_HEADER_SIZE + k * SHARD_TOC_ENTRY_SIZE + SHARD_T_ID);

		if (id > SHARD_N_SECTIONS_V3)
			assert_int_equal(shard_bytes_drop_section(b.p, &b.n, id), 0);
		else
			k++;
	}
	for (uint32_t id = 1; id <= SHARD_N_SECTIONS_V3; id++)
		assert_int_equal(le32(toc_entry(b.p, id) + SHARD_T_FLAGS), 0);
	assert_int_equal(le32(b.p + SHARD_H_N_SECTIONS), SHARD_N_SECTIONS_V3);
	put_le32(b.p + SHARD_H_VERSION, 3);
	reseal(b.p, b.n);
	return b;
}

/*
 * The same shard as a version 2 writer wrote it: the posting lists without their masks, the
 * sections after POSTINGS moved up, the dictionary's offsets and the checksums redone.
 */
static struct blob to_v2(const struct blob *in)
{
	struct blob v3b = to_v3(in), b;
	const struct blob *v3 = &v3b;
	uint64_t post_off = sec_off(v3->p, SEC_POSTINGS), post_len = sec_len(v3->p, SEC_POSTINGS);
	uint64_t dict_off = sec_off(v3->p, SEC_TRIGRAMS);
	uint64_t n_tri = sec_len(v3->p, SEC_TRIGRAMS) / SHARD_TRI_SIZE, shrink;
	uint64_t new_len = 0;
	uint8_t *lists;

	b.p = malloc(v3->n);
	assert_non_null(b.p);
	lists = malloc(post_len ? post_len : 1);
	assert_non_null(lists);
	/* The lists without masks, and their new offsets in the copy's dictionary. */
	memcpy(b.p, v3->p, v3->n);
	for (uint64_t t = 0; t < n_tri; t++) {
		uint8_t *e = b.p + dict_off + t * SHARD_TRI_SIZE;
		uint64_t off = le64(e + SHARD_G_OFFSET), count = le32(e + SHARD_G_COUNT);
		uint64_t end = t + 1 < n_tri ? le64(e + SHARD_TRI_SIZE + SHARD_G_OFFSET) : post_len;
		uint64_t ids = end - off - count * SHARD_MASK_SIZE;

		memcpy(lists + new_len, v3->p + post_off + off, ids);
		put_le64(e + SHARD_G_OFFSET, new_len);
		new_len += ids;
	}
	shrink = post_len - new_len;
	/* POSTINGS gets the short lists; every section after it moves up by shrink bytes. */
	memcpy(b.p + post_off, lists, new_len);
	memmove(b.p + post_off + new_len, b.p + post_off + post_len,
		v3->n - (post_off + post_len));
	for (uint32_t id = 1; id <= SHARD_N_SECTIONS_V3; id++) {
		uint8_t *e = toc_entry(b.p, id);
		uint64_t off = le64(e + SHARD_T_OFFSET);

		if (id == SEC_POSTINGS)
			put_le64(e + SHARD_T_LENGTH, new_len);
		else if (off > post_off)
			put_le64(e + SHARD_T_OFFSET, off - shrink);
	}
	b.n = v3->n - shrink;
	put_le32(b.p + SHARD_H_VERSION, 2);
	put_le64(b.p + SHARD_H_FILE_SIZE, b.n);
	reseal(b.p, b.n);
	free(lists);
	free(v3b.p);
	return b;
}

/* The ids and masks of trigram t's list in sh. */
static size_t masked_list(const struct shard *sh, const char *t, uint32_t *ids,
			  const uint8_t **masks)
{
	struct u32vec v;
	size_t n;

	u32vec_init(&v);
	assert_int_equal(shard_postings_masked(&v, masks, sh,
					       trigram_make((uint8_t)t[0], (uint8_t)t[1],
							    (uint8_t)t[2])), 0);
	n = v.len;
	if (n)
		memcpy(ids, v.v, n * sizeof(*ids));
	u32vec_dispose(&v);
	return n;
}

static void masks_record_case_variants_and_offsets(void **state)
{
	struct shard_writer *w = NULL;
	struct shard *sh = NULL;
	const uint8_t *m = NULL;
	uint32_t ids[4];
	/* "abc" at offsets 0 (aBc: mixed), 8 (ABC: upper) and 13 (abc: lower). */
	static const char d0[] = "aBc xyz ABCxyabc";
	static const char d1[] = "..abc Abc";

	(void)state;
	assert_int_equal(shard_writer_new(&w, testlib_path("masks.shard"), "m"), 0);
	assert_int_equal(shard_writer_add(w, "d0", 2, (const uint8_t *)d0, sizeof(d0) - 1,
					  sizeof(d0) - 1, DOC_INDEXED, 0), 0);
	assert_int_equal(shard_writer_add(w, "d1", 2, (const uint8_t *)d1, sizeof(d1) - 1,
					  sizeof(d1) - 1, DOC_INDEXED, 0), 0);
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
	assert_int_equal(shard_open(&sh, testlib_path("masks.shard")), 0);
	assert_true(shard_has_masks(sh));
	assert_int_equal(masked_list(sh, "abc", ids, &m), 2);
	assert_int_equal(ids[0], 0);
	/* Offsets 0, 8 and 13: 0 and 1 modulo 4. */
	assert_int_equal(m[0], MASK_CASE_MIXED | MASK_CASE_UPPER | MASK_CASE_LOWER |
				       (MASK_OFFSET_BIT0 << 0) | (MASK_OFFSET_BIT0 << 1));
	assert_int_equal(ids[1], 1);
	/* d1: abc at 2, Abc at 6, both 2 modulo 4. */
	assert_int_equal(m[1], MASK_CASE_LOWER | MASK_CASE_CAPITAL | (MASK_OFFSET_BIT0 << 2));
	/* Another list's masks are its own: "xya" only in d0, at 11. */
	assert_int_equal(masked_list(sh, "xya", ids, &m), 1);
	assert_int_equal(m[0], MASK_CASE_LOWER | (MASK_OFFSET_BIT0 << 3));
	/* An absent trigram: no ids, no masks. */
	assert_int_equal(masked_list(sh, "qqq", ids, &m), 0);
	assert_null(m);
	assert_int_equal(shard_verify(sh), 0);
	shard_close(sh);
}

static void version_2_shards_are_read_without_masks(void **state)
{
	struct blob v3 = sample_blob(), v2 = to_v2(&v3);
	struct shard *a = NULL, *b = NULL;
	struct u32vec x, y;
	const uint8_t *m = (const uint8_t *)1;
	uint32_t tri[SAMPLE_CONTENT_BYTES];
	size_t n_tri;

	(void)state;
	assert_int_equal(open_bytes(&b, v2.p, v2.n), 0);
	assert_int_equal(shard_open(&a, testlib_path("sample.shard")), 0);
	assert_false(shard_has_masks(b));
	assert_true(shard_has_masks(a));
	assert_int_equal(shard_verify(b), 0);
	assert_int_equal(shard_n_docs(a), shard_n_docs(b));
	u32vec_init(&x);
	u32vec_init(&y);
	/* Every trigram of the sample's contents has the same list in both. */
	n_tri = sample_trigrams(tri);
	for (size_t i = 0; i < n_tri; i++) {
		x.len = y.len = 0;
		assert_int_equal(shard_postings(&x, a, tri[i]), 0);
		assert_int_equal(shard_postings_masked(&y, &m, b, tri[i]), 0);
		assert_null(m);
		assert_int_equal(x.len, y.len);
		assert_memory_equal(x.v, y.v, x.len * sizeof(*x.v));
	}
	u32vec_dispose(&x);
	u32vec_dispose(&y);
	shard_close(a);
	shard_close(b);
	free(v2.p);
	free(v3.p);
}

static void reader_rejects_lists_without_room_for_masks(void **state)
{
	struct blob v4 = sample_blob(), v3 = to_v3(&v4), v2 = to_v2(&v3);
	struct shard *sh = NULL;

	(void)state;
	/* Version 2 lists under a version 3 header: no room for masks, refused on read. */
	put_le32(v2.p + SHARD_H_VERSION, 3);
	reseal(v2.p, v2.n);
	if (open_bytes(&sh, v2.p, v2.n) == 0) {
		assert_int_equal(shard_verify(sh), TRAWL_ECORRUPT);
		shard_close(sh);
	} else {
		assert_non_null(strstr(error_last(), "postings cannot fit"));
	}
	/* Version 3 lists under a version 2 header: masks where ids should end, refused. */
	put_le32(v3.p + SHARD_H_VERSION, 2);
	reseal(v3.p, v3.n);
	assert_int_equal(open_bytes(&sh, v3.p, v3.n), 0);
	assert_int_equal(shard_verify(sh), TRAWL_ECORRUPT);
	shard_close(sh);
	free(v2.p);
	free(v3.p);
	free(v4.p);
}

/* Cuts b at every section boundary and inside each section: always refused. */
static void truncations_refused(struct blob b)
{
	size_t cuts[64], n_cuts = 0;

	cuts[n_cuts++] = 0;
	cuts[n_cuts++] = 8;
	cuts[n_cuts++] = SHARD_HEADER_SIZE - 1;
	cuts[n_cuts++] = SHARD_HEADER_SIZE;
	cuts[n_cuts++] = SHARD_HEADER_SIZE + SHARD_TOC_ENTRY_SIZE + 3;
	cuts[n_cuts++] = toc_end_of(b.p) - 1;
	cuts[n_cuts++] = b.n - 1;
	for (uint32_t id = 1; id < SEC_ID_END; id++) {
		uint64_t off, len;

		if (!toc_entry(b.p, id))
			continue; /* REPOS, in a shard of one repository */
		off = sec_off(b.p, id);
		len = sec_len(b.p, id);
		assert_true(len > 0); /* the sample fills every section it lists */
		cuts[n_cuts++] = off;
		cuts[n_cuts++] = off + 1;
		cuts[n_cuts++] = off + len / 2;
		cuts[n_cuts++] = off + len - 1;
		if (off + len < b.n)
			cuts[n_cuts++] = off + len;
	}
	for (size_t i = 0; i < n_cuts; i++)
		expect_refused(b.p, cuts[i], "truncated");
	free(b.p);
}

static void reader_rejects_truncation_at_every_section_boundary(void **state)
{
	(void)state;
	truncations_refused(sample_blob());
	truncations_refused(compound_blob());
}

static void reader_rejects_truncated_toc(void **state)
{
	struct blob b = sample_blob();

	(void)state;
	expect_refused(b.p, SHARD_HEADER_SIZE + 40, "table of contents");
	free(b.p);
}

static void reader_rejects_trailing_bytes(void **state)
{
	struct blob b = sample_blob();
	uint8_t *longer = calloc(1, b.n + 10);

	(void)state;
	assert_non_null(longer);
	memcpy(longer, b.p, b.n);
	expect_refused(longer, b.n + 10, "trailing");
	free(longer);
	free(b.p);
}

/*
 * A flipped byte anywhere: refused on open, or (in CONTENT and POSTINGS, whose checksums open
 * does not read) caught by shard_verify().
 */
/* Flips bytes of b's header, TOC and each section: refused on open or caught by verify. */
static void flips_caught(struct blob b)
{
	for (size_t at = 0; at < toc_end_of(b.p); at++) {
		b.p[at] ^= 0x40;
		expect_refused(b.p, b.n, NULL);
		b.p[at] ^= 0x40;
	}
	for (uint32_t id = 1; id < SEC_ID_END; id++) {
		uint64_t off, len, spots[4];

		if (!toc_entry(b.p, id))
			continue;
		off = sec_off(b.p, id);
		len = sec_len(b.p, id);
		spots[0] = off;
		spots[1] = off + len / 3;
		spots[2] = off + len / 2;
		spots[3] = off + len - 1;

		for (size_t k = 0; k < sizeof(spots) / sizeof(spots[0]); k++) {
			b.p[spots[k]] ^= 0x01;
			/* Read on open, checksum first: META, BRANCHES, REPOS. */
			if (id == SEC_META || id == SEC_REPOS)
				expect_refused(b.p, b.n, "checksum");
			else /* the big sections are only read by verify (or when used) */
				expect_caught(b.p, b.n, NULL);
			b.p[spots[k]] ^= 0x01;
		}
	}
	free(b.p);
}

static void reader_catches_flipped_byte_in_every_section(void **state)
{
	(void)state;
	flips_caught(sample_blob());
	flips_caught(compound_blob());
}

static void reader_rejects_absurd_counts(void **state)
{
	struct blob b = sample_blob();
	uint8_t *meta = b.p + sec_off(b.p, SEC_META);
	uint8_t *docs = toc_entry(b.p, SEC_DOCS);

	(void)state;
	put_le32(meta + SHARD_M_N_DOCS, UINT32_MAX);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "DOCS");
	put_le32(docs + SHARD_T_COUNT, UINT32_MAX);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "DOCS");
	free(b.p);

	b = sample_blob();
	meta = b.p + sec_off(b.p, SEC_META);
	put_le32(meta + SHARD_M_N_TRIGRAMS, UINT32_MAX);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "trigrams");
	free(b.p);

	b = sample_blob();
	meta = b.p + sec_off(b.p, SEC_META);
	put_le64(meta + SHARD_M_N_POSTINGS, UINT64_MAX);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "postings");
	free(b.p);

	b = sample_blob();
	meta = b.p + sec_off(b.p, SEC_META);
	put_le64(meta + SHARD_M_CONTENT_BYTES, 1);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "CONTENT");
	put_le32(meta + SHARD_M_REPO_LEN, UINT32_MAX);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "repository name");
	free(b.p);

	b = sample_blob();
	put_le32(b.p + SHARD_H_N_SECTIONS, UINT32_MAX);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "sections");
	free(b.p);
}

static void huge_offsets_refused(struct blob b)
{
	static const uint64_t bad_offsets[] = { UINT64_MAX, UINT64_MAX - 3, (uint64_t)1 << 63,
						(uint64_t)1 << 40 };

	for (size_t i = 0; i < sizeof(bad_offsets) / sizeof(bad_offsets[0]); i++) {
		for (uint32_t id = 1; id < SEC_ID_END; id++) {
			uint8_t *e = toc_entry(b.p, id);
			uint64_t off, len;

			if (!e)
				continue; /* REPOS, in a shard of one repository */
			off = le64(e + SHARD_T_OFFSET);
			len = le64(e + SHARD_T_LENGTH);

			put_le64(e + SHARD_T_OFFSET, bad_offsets[i]);
			reseal(b.p, b.n);
			expect_refused(b.p, b.n, NULL);
			put_le64(e + SHARD_T_OFFSET, off);
			put_le64(e + SHARD_T_LENGTH, bad_offsets[i]);
			reseal(b.p, b.n);
			expect_refused(b.p, b.n, NULL);
			put_le64(e + SHARD_T_LENGTH, len);
		}
	}
	free(b.p);
}

static void reader_rejects_huge_offsets(void **state)
{
	(void)state;
	huge_offsets_refused(sample_blob());
	huge_offsets_refused(compound_blob());
}

static void reader_rejects_overlapping_sections(void **state)
{
	struct blob b = sample_blob();
	uint8_t *docs = toc_entry(b.p, SEC_DOCS), *paths = toc_entry(b.p, SEC_PATHS);
	uint64_t doff = le64(docs + SHARD_T_OFFSET);

	(void)state;
	/* DOCS moved one byte into the section before it. */
	put_le64(docs + SHARD_T_OFFSET, doff - 1);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "overlaps");
	/* PATHS pointing at the same bytes as DOCS. */
	put_le64(docs + SHARD_T_OFFSET, doff);
	put_le64(paths + SHARD_T_OFFSET, doff);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, NULL);
	/* A section over the header. */
	put_le64(paths + SHARD_T_OFFSET, 8);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "header");
	free(b.p);
}

static void reader_rejects_duplicate_and_unknown_sections(void **state)
{
	struct blob b = sample_blob();
	uint8_t *docs = toc_entry(b.p, SEC_DOCS);

	(void)state;
	put_le32(docs + SHARD_T_ID, SEC_PATHS);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "twice");
	put_le32(docs + SHARD_T_ID, 99);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "unknown section");
	free(b.p);
}

/* ---- sections this trawl does not know (format version 4) ---- */

#define FUTURE_ID 1000u
static const char future_bytes[] = "the symbols of a later trawl";

/* The sample as a later writer may write it: with a section FUTURE_ID, TOC entry at index at. */
static struct blob with_section(uint32_t at, uint32_t id, uint32_t flags)
{
	struct blob v4 = sample_blob(), b;

	b.p = shard_bytes_add_section(&b.n, v4.p, v4.n, at, id, flags, future_bytes,
				      sizeof(future_bytes) - 1);
	assert_non_null(b.p);
	free(v4.p);
	return b;
}

/* a and b hold the same documents and the same posting lists for the sample's trigrams. */
static void assert_same_reads(const struct shard *a, const struct shard *b)
{
	struct u32vec x, y;
	uint32_t tri[SAMPLE_CONTENT_BYTES];
	size_t n_tri;

	assert_string_equal(shard_repo(a), shard_repo(b));
	assert_int_equal(shard_n_docs(a), shard_n_docs(b));
	assert_int_equal(shard_n_branches(a), shard_n_branches(b));
	for (uint32_t i = 0; i < shard_n_docs(a); i++) {
		struct shard_doc d, e;

		assert_int_equal(shard_doc(&d, a, i), 0);
		assert_int_equal(shard_doc(&e, b, i), 0);
		assert_int_equal(d.path_len, e.path_len);
		assert_memory_equal(d.path, e.path, d.path_len);
		assert_int_equal(d.content_len, e.content_len);
		if (d.content_len)
			assert_memory_equal(d.content, e.content, d.content_len);
		assert_int_equal(d.bset_len, e.bset_len);
	}
	u32vec_init(&x);
	u32vec_init(&y);
	n_tri = sample_trigrams(tri);
	for (size_t i = 0; i < n_tri; i++) {
		const uint8_t *ma, *mb;

		x.len = y.len = 0;
		assert_int_equal(shard_postings_masked(&x, &ma, a, tri[i]), 0);
		assert_int_equal(shard_postings_masked(&y, &mb, b, tri[i]), 0);
		assert_true(x.len > 0);
		assert_int_equal(x.len, y.len);
		assert_memory_equal(x.v, y.v, x.len * sizeof(*x.v));
		assert_memory_equal(ma, mb, x.len);
	}
	u32vec_dispose(&x);
	u32vec_dispose(&y);
}

/* Every section of the table in b, tagged from it; REPOS only in a compound shard. */
static void tagged_from_the_table(struct blob b, bool is_compound)
{
	uint32_t n = 0;

	assert_int_equal(le32(b.p + SHARD_H_VERSION), SHARD_VERSION);
	assert_int_equal(SHARD_VERSION, 4);
	for (uint32_t id = 1; id < SEC_ID_END; id++) {
		const struct shard_section_def *def = shard_section_def(id);
		uint8_t *e = toc_entry(b.p, id);

		assert_non_null(def);
		if (def->is_compound && !is_compound) {
			assert_null(e);
			continue;
		}
		assert_non_null(e);
		assert_int_equal(le32(e + SHARD_T_FLAGS), def->flags);
		n++;
	}
	assert_int_equal(le32(b.p + SHARD_H_N_SECTIONS), n);
	free(b.p);
}

static void writer_tags_every_section_from_the_table(void **state)
{
	(void)state;
	tagged_from_the_table(sample_blob(), false);
	tagged_from_the_table(compound_blob(), true);
}

static void reader_skips_unknown_optional_section(void **state)
{
	static const uint32_t places[] = { 0, 3, SEC_ID_END - 1 }; /* first, middle, last entry */
	struct shard *a = NULL, *b = NULL;

	(void)state;
	write_sample(testlib_path("plain.shard"), "proj");
	assert_int_equal(shard_open(&a, testlib_path("plain.shard")), 0);
	assert_int_equal(shard_n_unknown_sections(a), 0);
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		struct blob x = with_section(places[i], FUTURE_ID, SHARD_SEC_OPTIONAL);
		uint32_t id;
		uint64_t len;

		if (open_bytes(&b, x.p, x.n) != 0)
			fail_msg("entry %u: %s", places[i], error_last());
		assert_int_equal(shard_n_unknown_sections(b), 1);
		shard_unknown_section(&id, &len, b, 0);
		assert_int_equal(id, FUTURE_ID);
		assert_int_equal(len, sizeof(future_bytes) - 1);
		assert_same_reads(a, b);
		assert_int_equal(shard_verify(b), 0);
		shard_close(b);
		free(x.p);
	}
	shard_close(a);
}

static void reader_refuses_unknown_required_section_naming_its_id(void **state)
{
	struct blob x = with_section(SEC_ID_END - 1, FUTURE_ID, 0);

	(void)state;
	expect_refused(x.p, x.n, "unknown section id 1000 is marked required");
	free(x.p);
}

static void verify_catches_damage_in_unknown_section(void **state)
{
	struct blob x = with_section(0, FUTURE_ID, SHARD_SEC_OPTIONAL);
	uint8_t *e = toc_entry(x.p, FUTURE_ID);
	struct shard *sh = NULL;

	(void)state;
	/* A flipped byte: open skips the section, shard_verify checks its checksum. */
	x.p[x.n - 3] ^= 0x01;
	assert_int_equal(open_bytes(&sh, x.p, x.n), 0);
	error_clear();
	assert_int_equal(shard_verify(sh), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), testlib_path("mut.shard")));
	assert_non_null(strstr(error_last(), "section id 1000 checksum mismatch"));
	shard_close(sh);
	x.p[x.n - 3] ^= 0x01;
	/* It tiles the file like any section: running past the end, leaving a gap, overlapping. */
	put_le64(e + SHARD_T_LENGTH, sizeof(future_bytes));
	reseal(x.p, x.n);
	expect_refused(x.p, x.n, "section id 1000 ends at");
	put_le64(e + SHARD_T_LENGTH, sizeof(future_bytes) - 2);
	reseal(x.p, x.n);
	expect_refused(x.p, x.n, "after the last section");
	put_le64(e + SHARD_T_OFFSET, le64(e + SHARD_T_OFFSET) - 1);
	reseal(x.p, x.n);
	expect_refused(x.p, x.n, "overlaps");
	free(x.p);
}

static void reader_rejects_bad_section_flags_and_sets(void **state)
{
	struct blob x = with_section(1, FUTURE_ID, SHARD_SEC_OPTIONAL), y = { 0 };
	uint8_t *e = toc_entry(x.p, FUTURE_ID);

	(void)state;
	put_le32(e + SHARD_T_FLAGS, SHARD_SEC_OPTIONAL | 0x2);
	reseal(x.p, x.n);
	expect_refused(x.p, x.n, "section id 1000: unknown flags 0x3");
	put_le32(e + SHARD_T_FLAGS, SHARD_SEC_OPTIONAL);
	/* A known section keeps the flags of its table entry. */
	put_le32(toc_entry(x.p, SEC_META) + SHARD_T_FLAGS, SHARD_SEC_OPTIONAL);
	reseal(x.p, x.n);
	expect_refused(x.p, x.n, "section META: flags 0x1");
	put_le32(toc_entry(x.p, SEC_META) + SHARD_T_FLAGS, 0);
	/* A section every reader needs is never optional, even marked so: DOCS made unknown. */
	put_le32(toc_entry(x.p, SEC_DOCS) + SHARD_T_FLAGS, SHARD_SEC_OPTIONAL);
	put_le32(toc_entry(x.p, SEC_DOCS) + SHARD_T_ID, FUTURE_ID + 1);
	reseal(x.p, x.n);
	expect_refused(x.p, x.n, "section DOCS is missing");
	/* The same unknown id twice. */
	put_le32(toc_entry(x.p, FUTURE_ID + 1) + SHARD_T_ID, FUTURE_ID);
	reseal(x.p, x.n);
	expect_refused(x.p, x.n, "section id 1000 listed twice");
	/* Id 0 is no section, optional or not. */
	put_le32(toc_entry(x.p, FUTURE_ID) + SHARD_T_ID, 0);
	reseal(x.p, x.n);
	expect_refused(x.p, x.n, "section id 0");
	free(x.p);
	/* More TOC entries than a version 4 file may have. */
	x = compound_blob(); /* every section this trawl knows */
	for (uint32_t k = 0; k < SHARD_SECTIONS_MAX - (SEC_ID_END - 1) + 1; k++) {
		y.p = shard_bytes_add_section(&y.n, x.p, x.n, 0, FUTURE_ID + k, SHARD_SEC_OPTIONAL,
					      NULL, 0);
		assert_non_null(y.p);
		free(x.p);
		x = y;
		if (k + SEC_ID_END == SHARD_SECTIONS_MAX) {
			struct shard *sh = NULL;

			assert_int_equal(open_bytes(&sh, x.p, x.n), 0); /* 64: still fine */
			assert_int_equal(shard_n_unknown_sections(sh),
					 SHARD_SECTIONS_MAX - (SEC_ID_END - 1));
			shard_close(sh);
		}
	}
	expect_refused(x.p, x.n, "header lists 65 sections, version 4 allows 1 to 64");
	free(x.p);
}

static void version_3_shards_are_read_as_before(void **state)
{
	struct blob v4 = sample_blob(), v3 = to_v3(&v4), x;
	struct shard *a = NULL, *b = NULL;
	size_t n;

	(void)state;
	assert_int_equal(shard_open(&a, testlib_path("sample.shard")), 0);
	assert_int_equal(open_bytes(&b, v3.p, v3.n), 0);
	assert_true(shard_has_masks(b));
	assert_same_reads(a, b);
	assert_int_equal(shard_verify(b), 0);
	shard_close(a);
	shard_close(b);
	/* Version 3 knows no flags: the field is reserved, and there are exactly eight sections. */
	put_le32(toc_entry(v3.p, SEC_TRIGRAMS) + SHARD_T_FLAGS, SHARD_SEC_OPTIONAL);
	reseal(v3.p, v3.n);
	expect_refused(v3.p, v3.n, "section TRIGRAMS: reserved field is not zero");
	put_le32(toc_entry(v3.p, SEC_TRIGRAMS) + SHARD_T_FLAGS, 0);
	x.p = shard_bytes_add_section(&n, v3.p, v3.n, 8, FUTURE_ID, SHARD_SEC_OPTIONAL, "x", 1);
	assert_non_null(x.p);
	expect_refused(x.p, n, "header lists 9 sections, version 3 has 8");
	free(x.p);
	free(v3.p);
	free(v4.p);
}

static void reader_rejects_document_ranges_outside_sections(void **state)
{
	struct blob b = sample_blob();
	uint8_t *r = b.p + sec_off(b.p, SEC_DOCS);

	(void)state;
	put_le64(r + SHARD_D_CONTENT_LEN, 1000);
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, "document 0");
	put_le64(r + SHARD_D_CONTENT_LEN, 31);
	put_le64(r + SHARD_D_CONTENT_OFF, UINT64_MAX - 10);
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, "document 0");
	put_le64(r + SHARD_D_CONTENT_OFF, 0);
	put_le32(r + SHARD_D_PATH_LEN, UINT32_MAX);
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, "document 0");
	put_le32(r + SHARD_D_PATH_LEN, 10);
	r[SHARD_D_SKIP] = 7;
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, "skip");
	r[SHARD_D_SKIP] = DOC_SKIP_BINARY; /* skipped, yet with content */
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, "skipped");
	r[SHARD_D_SKIP] = 0;
	put_le32(r + SHARD_D_FLAGS, 0x80);
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, "flags");
	put_le32(r + SHARD_D_FLAGS, 0);
	reseal(b.p, b.n);
	{
		struct shard *sh = NULL;

		assert_int_equal(open_bytes(&sh, b.p, b.n), 0); /* back to sound */
		shard_close(sh);
	}
	free(b.p);
}

static void reader_rejects_unsorted_dictionary(void **state)
{
	struct blob b = sample_blob();
	uint8_t *d = b.p + sec_off(b.p, SEC_TRIGRAMS);
	uint8_t tmp[4];

	(void)state;
	/* Swap the trigram values of the first two entries. */
	memcpy(tmp, d + SHARD_G_TRIGRAM, 4);
	memcpy(d + SHARD_G_TRIGRAM, d + SHARD_TRI_SIZE + SHARD_G_TRIGRAM, 4);
	memcpy(d + SHARD_TRI_SIZE + SHARD_G_TRIGRAM, tmp, 4);
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, "not sorted");
	free(b.p);

	b = sample_blob();
	d = b.p + sec_off(b.p, SEC_TRIGRAMS);
	put_le32(d + SHARD_G_TRIGRAM, 0x1000000);
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, "24 bits");
	free(b.p);
}

static void reader_rejects_dictionary_offsets_outside_postings(void **state)
{
	struct blob b = sample_blob();
	uint8_t *d = b.p + sec_off(b.p, SEC_TRIGRAMS);
	uint64_t n = sec_len(b.p, SEC_TRIGRAMS) / SHARD_TRI_SIZE;
	uint8_t *last = d + (n - 1) * SHARD_TRI_SIZE;

	(void)state;
	put_le64(last + SHARD_G_OFFSET, sec_len(b.p, SEC_POSTINGS) + 5);
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, "POSTINGS");
	put_le64(last + SHARD_G_OFFSET, UINT64_MAX);
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, NULL);
	put_le64(last + SHARD_G_OFFSET, 0); /* before the list ahead of it */
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, "out of order");
	free(b.p);

	b = sample_blob();
	d = b.p + sec_off(b.p, SEC_TRIGRAMS);
	put_le32(d + SHARD_G_COUNT, 0);
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, NULL);
	put_le32(d + SHARD_G_COUNT, UINT32_MAX);
	reseal(b.p, b.n);
	expect_caught(b.p, b.n, NULL);
	free(b.p);
}

static void reader_rejects_nul_in_repository_name(void **state)
{
	const char *p = testlib_path("nul.shard");
	struct blob b;

	(void)state;
	write_sample(p, "public-evil");
	b = read_blob(p);
	b.p[sec_off(b.p, SEC_META) + SHARD_META_FIXED + 6] = '\0';
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "NUL");
	free(b.p);
}

static void postings_report_corrupt_list_naming_file(void **state)
{
	struct blob b = sample_blob();
	uint8_t *d = b.p + sec_off(b.p, SEC_TRIGRAMS);
	uint8_t *post = b.p + sec_off(b.p, SEC_POSTINGS);
	uint32_t t = le32(d + SHARD_G_TRIGRAM);
	struct shard *sh = NULL;
	struct u32vec ids;

	(void)state;
	/* The first list: a single id, now a varint that runs into the next list's bytes. */
	assert_int_equal(le32(d + SHARD_G_COUNT), 1);
	post[0] = 0x80;
	reseal(b.p, b.n);
	assert_int_equal(open_bytes(&sh, b.p, b.n), 0);
	u32vec_init(&ids);
	error_clear();
	assert_int_equal(shard_postings(&ids, sh, t), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), testlib_path("mut.shard")));
	assert_int_equal(ids.len, 0);
	error_clear();
	assert_int_equal(shard_verify(sh), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), testlib_path("mut.shard")));
	u32vec_dispose(&ids);
	shard_close(sh);

	/* An id past the last document. */
	post[0] = (uint8_t)N_SAMPLE;
	reseal(b.p, b.n);
	assert_int_equal(open_bytes(&sh, b.p, b.n), 0);
	u32vec_init(&ids);
	assert_int_equal(shard_postings(&ids, sh, t), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "out of range"));
	u32vec_dispose(&ids);
	shard_close(sh);
	free(b.p);
}

/*
 * Random damage, resealed or not, must never crash: open refuses it, or every read of the opened
 * shard either succeeds without a fault (ASan checks that) or is refused with the file named.
 */
static void reader_survives_random_damage(void **state)
{
	struct blob good = sample_blob();
	uint8_t *b = malloc(good.n);
	uint32_t seed = 7;

	(void)state;
	assert_non_null(b);
	for (int iter = 0; iter < 600; iter++) {
		struct shard *sh = NULL;
		int n_flips;

		memcpy(b, good.p, good.n);
		seed = seed * 1103515245u + 12345u;
		n_flips = 1 + (int)((seed >> 16) % 4);
		for (int k = 0; k < n_flips; k++) {
			seed = seed * 1103515245u + 12345u;
			b[(seed >> 8) % good.n] ^= (uint8_t)(1u << ((seed >> 4) % 8));
		}
		if (iter % 2)
			reseal(b, good.n);
		if (open_bytes(&sh, b, good.n) < 0) {
			assert_non_null(strstr(error_last(), testlib_path("mut.shard")));
			continue;
		}
		shard_verify(sh);
		for (uint32_t i = 0; i < shard_n_docs(sh); i++) {
			struct shard_doc d;
			volatile uint8_t sink = 0;

			/* A damaged record is refused when read, naming the file. */
			if (shard_doc(&d, sh, i) < 0) {
				assert_non_null(strstr(error_last(), testlib_path("mut.shard")));
				continue;
			}
			for (size_t j = 0; j < d.path_len; j++)
				sink ^= (uint8_t)d.path[j];
			for (size_t j = 0; j < d.content_len; j++)
				sink ^= d.content[j];
			(void)sink;
			for (size_t j = 0; j + 2 < d.content_len; j++) {
				struct u32vec ids;

				u32vec_init(&ids);
				shard_postings(&ids, sh,
					       trigram_make(d.content[j], d.content[j + 1],
							    d.content[j + 2]));
				u32vec_dispose(&ids);
			}
		}
		shard_close(sh);
	}
	free(b);
	free(good.p);
}

/* Branch sets: a damaged one is refused when its record is read (shard_doc), never misread. */
static void expect_doc_refused(const uint8_t *p, size_t n, uint32_t id, const char *want)
{
	struct shard *sh = NULL;
	struct shard_doc d;

	assert_int_equal(open_bytes(&sh, p, n), 0);
	assert_int_equal(shard_doc(&d, sh, id), TRAWL_ECORRUPT);
	if (!strstr(error_last(), want))
		print_error("expected \"%s\" in \"%s\"\n", want, error_last());
	assert_non_null(strstr(error_last(), want));
	assert_int_equal(shard_verify(sh), TRAWL_ECORRUPT);
	shard_close(sh);
}

static void reader_reads_branch_table_and_sets(void **state)
{
	struct blob b = sample_blob();
	struct shard *sh = NULL;
	struct shard_doc d;
	size_t len;

	(void)state;
	assert_int_equal(open_bytes(&sh, b.p, b.n), 0);
	assert_int_equal(shard_n_branches(sh), 3);
	assert_memory_equal(shard_branch(sh, 2, &len), "release/1.0", 11);
	assert_int_equal(len, 11);
	for (uint32_t i = 0; i < shard_n_docs(sh); i++) {
		assert_int_equal(shard_doc(&d, sh, i), 0);
		assert_int_equal(d.bset_len, 1);
		assert_int_equal(d.bset[0], 1u + (i % 7));
		assert_int_equal(d.oid[0], i + 1);
	}
	assert_int_equal(shard_verify(sh), 0);
	shard_close(sh);
	free(b.p);
}

static void reader_rejects_bad_branch_sets(void **state)
{
	struct blob b = sample_blob();
	uint8_t *rec = b.p + sec_off(b.p, SEC_DOCS);
	uint8_t *sets = b.p + sec_off(b.p, SEC_BSETS);
	uint32_t off = le32(rec + SHARD_D_BSET_OFF);

	(void)state;
	/* A bit beyond the third branch. */
	sets[off] |= 0x08;
	reseal(b.p, b.n);
	expect_doc_refused(b.p, b.n, 0, "beyond the 3");
	/* An empty set: a document on no branch. */
	sets[off] = 0;
	reseal(b.p, b.n);
	expect_doc_refused(b.p, b.n, 0, "empty branch set");
	sets[off] = 1;
	/* Longer than three branches need. */
	put_le32(rec + SHARD_D_BSET_LEN, 2);
	reseal(b.p, b.n);
	expect_doc_refused(b.p, b.n, 0, "branch set of 2 bytes");
	/* Outside BSETS. */
	put_le32(rec + SHARD_D_BSET_LEN, 1);
	put_le32(rec + SHARD_D_BSET_OFF, (uint32_t)sec_len(b.p, SEC_BSETS));
	reseal(b.p, b.n);
	expect_doc_refused(b.p, b.n, 0, "beyond BSETS");
	free(b.p);
}

static void reader_rejects_bad_branch_table(void **state)
{
	struct blob b = sample_blob();
	uint8_t *t = b.p + sec_off(b.p, SEC_BRANCHES);

	(void)state;
	put_le32(t, 0); /* an empty name */
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "branch 0 has a name of 0 bytes");
	put_le32(t, 1000); /* a name running past the section */
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "BRANCHES");
	put_le32(t, 4);
	t[4] = 0; /* a NUL inside */
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "NUL");
	free(b.p);
}

static void writer_refuses_bad_branch_sets(void **state)
{
	struct shard_writer *w = NULL;
	static char *const two[] = { "a", "b" };
	uint8_t set;

	(void)state;
	assert_int_equal(shard_writer_new(&w, testlib_path("bset.shard"), "r"), 0);
	assert_int_equal(shard_writer_set_branches(w, two, 2), 0);
	assert_int_equal(shard_writer_set_branches(w, two, 2), TRAWL_EINVAL); /* only once */
	set = 4; /* branch 2 of 2 */
	assert_int_equal(shard_writer_add_git(w, "x", 1, NULL, 0, 0, DOC_SKIP_BINARY, 0, NULL,
					      &set, 1), TRAWL_EINVAL);
	set = 0;
	assert_int_equal(shard_writer_add_git(w, "x", 1, NULL, 0, 0, DOC_SKIP_BINARY, 0, NULL,
					      &set, 1), TRAWL_EINVAL);
	assert_int_equal(shard_writer_add(w, "x", 1, NULL, 0, 0, DOC_SKIP_BINARY, 0),
			 TRAWL_EINVAL); /* no set where branches were declared */
	set = 3;
	assert_int_equal(shard_writer_add_git(w, "x", 1, NULL, 0, 0, DOC_SKIP_BINARY, 0, NULL,
					      &set, 1), 0);
	assert_int_equal(shard_writer_finish(w), 0);
	shard_writer_free(w);
}


/* A path tag for the test: the path's length, capped. */
static uint8_t tag_len(const char *path, size_t len)
{
	(void)path;
	return (uint8_t)(len < 255 ? len : 255);
}

static void path_tags_are_made_once_and_kept(void **state)
{
	struct shard *sh = NULL;
	const uint8_t *t, *again;

	(void)state;
	write_sample(testlib_path("tags.shard"), "proj");
	assert_int_equal(shard_open(&sh, testlib_path("tags.shard")), 0);
	assert_null(shard_path_tags(sh, tag_len, false)); /* not made yet */
	t = shard_path_tags(sh, tag_len, true);
	assert_non_null(t);
	for (size_t i = 0; i < N_SAMPLE; i++)
		assert_int_equal(t[i], strlen(sample[i].path));
	again = shard_path_tags(sh, tag_len, false);
	assert_ptr_equal(again, t);
	assert_ptr_equal(shard_path_tags(sh, tag_len, true), t);
	shard_close(sh);
}

static void compound_shard_round_trips_its_repositories(void **state)
{
	struct blob b = compound_blob();
	struct shard *sh = NULL;
	uint32_t lo, hi;

	(void)state;
	assert_int_equal(open_bytes(&sh, b.p, b.n), 0);
	assert_int_equal(shard_verify(sh), 0);
	assert_string_equal(shard_repo(sh), "proj"); /* META names the first */
	assert_int_equal(shard_n_repos(sh), 3);
	assert_true(shard_repo_docs(sh, "proj", &lo, &hi));
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 3);
	assert_true(shard_repo_docs(sh, "proj-b", &lo, &hi));
	assert_int_equal(lo, 3);
	assert_int_equal(hi, N_SAMPLE);
	assert_true(shard_repo_docs(sh, "proj-c", &lo, &hi));
	assert_int_equal(lo, N_SAMPLE);
	assert_int_equal(hi, N_SAMPLE);
	assert_false(shard_repo_docs(sh, "proj-", &lo, &hi));
	assert_false(shard_repo_docs(sh, "other", &lo, &hi));
	assert_string_equal(shard_repo_at(sh, 1, &lo, &hi), "proj-b");
	assert_int_equal(lo, 3);
	shard_close(sh);
	/* A shard of one repository holds it whole, and no other. */
	free(b.p);
	b = sample_blob();
	assert_int_equal(open_bytes(&sh, b.p, b.n), 0);
	assert_int_equal(shard_n_repos(sh), 0);
	assert_true(shard_repo_docs(sh, "proj", &lo, &hi));
	assert_int_equal(lo, 0);
	assert_int_equal(hi, N_SAMPLE);
	assert_false(shard_repo_docs(sh, "proj-b", &lo, &hi));
	shard_close(sh);
	free(b.p);
}

/* REPOS of the compound sample: "proj" at 0, "proj-b" at 3, "proj-c" at 8. */
static void reader_rejects_bad_repository_table(void **state)
{
	struct blob b = compound_blob();
	uint8_t *t = b.p + sec_off(b.p, SEC_REPOS), *e = toc_entry(b.p, SEC_REPOS);
	uint8_t *r1 = t + SHARD_R_FIXED + 4, *r2 = r1 + SHARD_R_FIXED + 6;
	struct shard *sh = NULL;

	(void)state;
	assert_int_equal(le32(r1), 3);
	assert_int_equal(le32(r2), N_SAMPLE);
	put_le32(t, 1); /* the first does not start at 0 */
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "repository 0 starts at document 1");
	put_le32(t, 0);
	put_le32(r2, 2); /* before the previous one */
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "repository 2 starts at document 2");
	put_le32(r2, N_SAMPLE + 1); /* past the documents */
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "repository 2 starts at document 9");
	put_le32(r2, N_SAMPLE);
	put_le32(r1 + SHARD_R_LEN, 0); /* an empty name */
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "repository 1 has a name of 0 bytes");
	put_le32(r1 + SHARD_R_LEN, 6);
	r1[SHARD_R_FIXED + 5] = 0; /* "proj-\0" */
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "NUL");
	r1[SHARD_R_FIXED + 5] = 'c'; /* "proj-c" twice */
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "repository \"proj-c\" listed twice");
	r1[SHARD_R_FIXED + 5] = 'b';
	t[SHARD_R_FIXED] = 'q'; /* not META's */
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "the first repository is not META's");
	t[SHARD_R_FIXED] = 'p';
	put_le32(e + SHARD_T_COUNT, 2); /* a record left over */
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "bytes after the last repository");
	put_le32(e + SHARD_T_COUNT, 0);
	reseal(b.p, b.n);
	expect_refused(b.p, b.n, "section REPOS: 0 repositories");
	put_le32(e + SHARD_T_COUNT, 3);
	reseal(b.p, b.n);
	/* Control: restored, it opens: each refusal above was the damage's. */
	assert_int_equal(open_bytes(&sh, b.p, b.n), 0);
	shard_close(sh);
	free(b.p);
}

static void writer_refuses_compound_misuse(void **state)
{
	const char *p = testlib_path("misuse.shard");
	struct shard_writer *w = NULL;

	(void)state;
	assert_int_equal(shard_writer_new(&w, p, "one"), 0);
	assert_int_equal(shard_writer_begin_repo(w, "two"), TRAWL_EINVAL);
	shard_writer_free(w);
	assert_int_equal(shard_writer_new_compound(&w, p, NULL), 0);
	assert_int_equal(shard_writer_add(w, "a", 1, (const uint8_t *)"x", 1, 1, DOC_INDEXED, 0),
			 TRAWL_EINVAL);
	assert_int_equal(shard_writer_begin_repo(w, ""), TRAWL_EINVAL);
	shard_writer_free(w);
	assert_int_equal(shard_writer_new_compound(&w, p, NULL), 0);
	assert_int_equal(shard_writer_finish(w), TRAWL_EINVAL); /* no repository */
	shard_writer_free(w);
	assert_int_not_equal(access(p, F_OK), 0); /* no file was finished */
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writer_reader_round_trip_documents),
		cmocka_unit_test(shard_doc_rejects_bad_id),
		cmocka_unit_test(postings_hold_case_folded_trigrams),
		cmocka_unit_test(writer_folds_exactly_like_trigram_make),
		cmocka_unit_test(postings_match_brute_force_across_chunks),
		cmocka_unit_test(empty_shard_round_trips),
		cmocka_unit_test(writer_free_without_finish_leaves_no_file),
		cmocka_unit_test(writer_refuses_bad_documents),
		cmocka_unit_test(writer_reports_missing_directory),
		cmocka_unit_test(writer_reports_write_errors_naming_file),
		cmocka_unit_test(reader_refuses_missing_file_and_symlink),
		cmocka_unit_test(reader_rejects_wrong_magic),
		cmocka_unit_test(reader_rejects_newer_version),
		cmocka_unit_test(masks_record_case_variants_and_offsets),
		cmocka_unit_test(path_tags_are_made_once_and_kept),
		cmocka_unit_test(version_2_shards_are_read_without_masks),
		cmocka_unit_test(reader_rejects_lists_without_room_for_masks),
		cmocka_unit_test(reader_reads_branch_table_and_sets),
		cmocka_unit_test(reader_rejects_bad_branch_sets),
		cmocka_unit_test(reader_rejects_bad_branch_table),
		cmocka_unit_test(writer_refuses_bad_branch_sets),
		cmocka_unit_test(reader_rejects_truncation_at_every_section_boundary),
		cmocka_unit_test(reader_rejects_truncated_toc),
		cmocka_unit_test(reader_rejects_trailing_bytes),
		cmocka_unit_test(reader_catches_flipped_byte_in_every_section),
		cmocka_unit_test(compound_shard_round_trips_its_repositories),
		cmocka_unit_test(reader_rejects_bad_repository_table),
		cmocka_unit_test(writer_refuses_compound_misuse),
		cmocka_unit_test(reader_rejects_absurd_counts),
		cmocka_unit_test(reader_rejects_huge_offsets),
		cmocka_unit_test(reader_rejects_overlapping_sections),
		cmocka_unit_test(reader_rejects_duplicate_and_unknown_sections),
		cmocka_unit_test(writer_tags_every_section_from_the_table),
		cmocka_unit_test(reader_skips_unknown_optional_section),
		cmocka_unit_test(reader_refuses_unknown_required_section_naming_its_id),
		cmocka_unit_test(verify_catches_damage_in_unknown_section),
		cmocka_unit_test(reader_rejects_bad_section_flags_and_sets),
		cmocka_unit_test(version_3_shards_are_read_as_before),
		cmocka_unit_test(reader_rejects_document_ranges_outside_sections),
		cmocka_unit_test(reader_rejects_unsorted_dictionary),
		cmocka_unit_test(reader_rejects_dictionary_offsets_outside_postings),
		cmocka_unit_test(reader_rejects_nul_in_repository_name),
		cmocka_unit_test(postings_report_corrupt_list_naming_file),
		cmocka_unit_test(reader_survives_random_damage),
	};

	return cmocka_run_group_tests(tests, testlib_setup, testlib_teardown);
}
