/*
 * Writes the seed corpus of the shard fuzz target (tests/fuzz/corpus/shard/): a few small valid
 * shards made by the real writer, a few damaged copies (truncated, foreign, newer, a flipped
 * byte, a resealed bad posting list) so that the fuzzer starts from every refusal path too, and
 * shards with a section this trawl does not know (optional, optional and damaged, required), and
 * one with SYMBOLS.
 * Every name starts with the format version ("v4-"), so that the seeds of earlier versions stay
 * beside them. Not part of the test suite; rerun it when the format changes:
 *
 *   make build/release/libtrawl.a
 *   cc -std=c17 -D_GNU_SOURCE -Isrc -Itests -o build/gen_shard_corpus \
 *       tests/unit/index/gen_shard_corpus.c build/release/libtrawl.a -lz -ljansson
 *   build/gen_shard_corpus tests/fuzz/corpus/shard
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "index/shard.h"
#include "index/shard_int.h"
#include "util/error.h"
#include "util/file.h"
#include "unit/index/shard_bytes.h"

struct doc {
	const char *path;
	const char *text; /* NULL: skipped */
	enum doc_skip skip;
};

static void die(const char *what)
{
	fprintf(stderr, "gen_shard_corpus: %s: %s\n", what, error_last());
	exit(1);
}

/* Adds docs[0..n) to w and finishes it (the shard named name, for messages). */
static void add_docs(struct shard_writer *w, const char *name, const struct doc *docs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = docs[i].text ? strlen(docs[i].text) : 0;

		if (shard_writer_add(w, docs[i].path, strlen(docs[i].path),
				     (const uint8_t *)docs[i].text, len, len ? len : 100,
				     docs[i].skip, (uint16_t)i) < 0)
			die(name);
	}
	if (shard_writer_finish(w) < 0)
		die(name);
	shard_writer_free(w);
}

static void write_shard(const char *dir, const char *name, const char *repo,
			const struct doc *docs, size_t n)
{
	char *path = file_join(dir, name);
	struct shard_writer *w = NULL;

	if (!path || shard_writer_new(&w, path, repo) < 0)
		die(name);
	add_docs(w, name, docs, n);
	free(path);
}

/* SYMBOLS for write_symbols_shard: each indexed document's path is a function in it. */
static int sym_doc(void *arg, uint32_t doc, const char *path, size_t path_len,
		   const uint8_t *content, size_t content_len, enum doc_skip skip, uint16_t lang)
{
	struct symsec_in in = { .name = path, .name_len = path_len, .kind = "function",
				.scope = "Outer", .scope_len = 5, .scope_kind = "class",
				.lang = "C", .signature = "(void)", .signature_len = 6, .line = 2 };
	int err;

	(void)content;
	(void)lang;
	if (skip != DOC_INDEXED || content_len == 0)
		return symsec_builder_doc(arg, doc, SYMSEC_NOT_PARSED);
	if ((err = symsec_builder_doc(arg, doc, doc == 2 ? SYMSEC_TIMEOUT : SYMSEC_OK)) < 0)
		return err;
	return doc == 2 ? 0 : symsec_builder_add(arg, &in);
}

static int sym_finish(void *arg, struct buf *out, uint32_t *count, uint32_t n_docs)
{
	return symsec_builder_finish(arg, out, count, n_docs);
}

/* A shard with a SYMBOLS section (the optional section of --symbols). */
static void write_symbols_shard(const char *dir, const char *name, const struct doc *docs,
				size_t n)
{
	struct shard_writer_ext ext = { .id = SEC_SYMBOLS, .doc = sym_doc, .finish = sym_finish };
	struct symsec_builder *b = NULL;
	char *path = file_join(dir, name);
	struct shard_writer *w = NULL;

	if (symsec_builder_new(&b) < 0)
		die(name);
	ext.arg = b;
	if (!path || shard_writer_new_ext(&w, path, "symbols", &ext) < 0)
		die(name);
	add_docs(w, name, docs, n);
	symsec_builder_free(b);
	free(path);
}

/* A shard with a branch table and a branch set per document (format 2). */
static void write_branch_shard(const char *dir, const char *name)
{
	static char *const branches[] = { "main", "dev", "release/1.0", "a", "b", "c", "d", "e",
					  "f" };
	static const char *const texts[] = { "the main text", "on dev only", "everywhere abc" };
	char *path = file_join(dir, name);
	struct shard_writer *w = NULL;

	if (!path || shard_writer_new(&w, path, "branchy") < 0 ||
	    shard_writer_set_branches(w, branches, 9) < 0)
		die(name);
	for (size_t i = 0; i < 3; i++) {
		uint8_t set[2] = { (uint8_t)(1u << i), (uint8_t)(i == 2) };
		uint8_t oid[SHARD_OID_BYTES];
		size_t len = strlen(texts[i]);

		memset(oid, 0xa0 + (int)i, sizeof(oid));
		if (shard_writer_add_git(w, texts[i], 4, (const uint8_t *)texts[i], len, len,
					 DOC_INDEXED, 0, oid, set, i == 2 ? 2 : 1) < 0)
			die(name);
	}
	if (shard_writer_finish(w) < 0)
		die(name);
	shard_writer_free(w);
	free(path);
}

/*
 * A compound shard (REPOS): three repositories, the middle one without documents, so that
 * mutations reach the REPOS checks and the fuzz target's document ranges.
 */
static void write_compound_shard(const char *dir, const char *name, const struct doc *docs,
				 size_t n)
{
	char *path = file_join(dir, name);
	struct shard_writer *w = NULL;

	if (!path || shard_writer_new_compound(&w, path, NULL) < 0 ||
	    shard_writer_begin_repo(w, "first") < 0)
		die(name);
	for (size_t i = 0; i < n; i++) {
		size_t len = docs[i].text ? strlen(docs[i].text) : 0;

		if ((i == n / 2 && (shard_writer_begin_repo(w, "empty") < 0 ||
				    shard_writer_begin_repo(w, "last") < 0)) ||
		    shard_writer_add(w, docs[i].path, strlen(docs[i].path),
				     (const uint8_t *)docs[i].text, len, len ? len : 100,
				     docs[i].skip, (uint16_t)i) < 0)
			die(name);
	}
	if (shard_writer_finish(w) < 0)
		die(name);
	shard_writer_free(w);
	free(path);
}

static uint8_t *load(const char *dir, const char *name, size_t *n)
{
	char *path = file_join(dir, name), *data = NULL;

	if (!path || file_read_all(&data, n, path, 1 << 20) < 0)
		die(name);
	free(path);
	return (uint8_t *)data;
}

static void store(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char *path = file_join(dir, name);

	if (!path || file_write_atomic(path, p, n) < 0)
		die(name);
	free(path);
}

static uint8_t *toc(uint8_t *p, uint32_t id)
{
	return shard_bytes_toc_entry(p, SIZE_MAX, id);
}

/* name with a section 1000 tagged flags added (its last byte flipped when is_damaged). */
static void store_with_section(const char *dir, const char *name, const uint8_t *p, size_t n,
			       uint32_t flags, bool is_damaged)
{
	static const char data[] = "symbols of a later trawl";
	size_t m;
	uint8_t *q = shard_bytes_add_section(&m, p, n, 2, 1000, flags, data, sizeof(data) - 1);

	if (!q)
		die(name);
	if (is_damaged)
		q[m - 1] ^= 0x01;
	store(dir, name, q, m);
	free(q);
}

int main(int argc, char **argv)
{
	static const struct doc small[] = {
		{ "src/main.c", "int main(void) { return ABC; }\n", DOC_INDEXED },
		{ "bin/tool", NULL, DOC_SKIP_BINARY },
		{ "latin1.txt", "caf\xe9 abc\n", DOC_INDEXED },
		{ "empty", "", DOC_INDEXED },
	};
	static const struct doc one[] = { { "hello.txt", "Hello, World!\n", DOC_INDEXED } };
	static const struct doc many[] = {
		{ "a", "the quick brown fox", DOC_INDEXED },
		{ "b", "jumps over the lazy dog", DOC_INDEXED },
		{ "c", "THE END", DOC_INDEXED },
		{ "d", NULL, DOC_SKIP_TOO_LARGE },
		{ "e", "the the the", DOC_INDEXED },
		{ "f", NULL, DOC_SKIP_UNREADABLE },
		{ "g", "\xf0\x9f\x98\x80 the", DOC_INDEXED },
		{ "h", "x\ny\nz\nthe", DOC_INDEXED },
	};
	const char *dir;
	uint8_t *p;
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_shard_corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	write_shard(dir, "v4-valid-empty.shard", "empty", NULL, 0);
	write_shard(dir, "v4-valid-one.shard", "one", one, 1);
	write_shard(dir, "v4-valid-small.shard", "small", small, sizeof(small) / sizeof(small[0]));
	write_shard(dir, "v4-valid-many.shard", "many", many, sizeof(many) / sizeof(many[0]));
	write_branch_shard(dir, "v4-valid-branches.shard");
	write_symbols_shard(dir, "v4-valid-symbols.shard", many, sizeof(many) / sizeof(many[0]));
	write_compound_shard(dir, "v4-valid-compound.shard", many, sizeof(many) / sizeof(many[0]));

	p = load(dir, "v4-valid-small.shard", &n);
	store_with_section(dir, "v4-valid-unknown-optional.shard", p, n, SHARD_SEC_OPTIONAL, false);
	store_with_section(dir, "v4-bad-unknown-optional-crc.shard", p, n, SHARD_SEC_OPTIONAL, true);
	store_with_section(dir, "v4-bad-unknown-required.shard", p, n, 0, false);
	store(dir, "v4-bad-truncated.shard", p, n / 2);
	p[SHARD_H_VERSION] = 9;
	store(dir, "v4-bad-newer.shard", p, n);
	p[SHARD_H_VERSION] = SHARD_VERSION;
	p[0] = 'X';
	store(dir, "v4-bad-magic.shard", p, n);
	p[0] = 'T';
	p[le64(toc(p, SEC_CONTENT) + SHARD_T_OFFSET) + 3] ^= 0x20;
	store(dir, "v4-bad-content-crc.shard", p, n);
	free(p);

	p = load(dir, "v4-valid-many.shard", &n);
	/* A resealed file whose first posting list runs on: opens, fails on use. */
	p[le64(toc(p, SEC_POSTINGS) + SHARD_T_OFFSET)] = 0xff;
	shard_bytes_reseal(p, n);
	store(dir, "v4-bad-postings-resealed.shard", p, n);
	free(p);

	p = load(dir, "v4-valid-compound.shard", &n);
	/* Resealed: the last repository starts before the one above it (refused on open). */
	put_le32(p + le64(toc(p, SEC_REPOS) + SHARD_T_OFFSET) + le64(toc(p, SEC_REPOS) +
		 SHARD_T_LENGTH) - 4 - 4 - 4, 1);
	shard_bytes_reseal(p, n);
	store(dir, "v4-bad-compound-order-resealed.shard", p, n);
	free(p);
	return 0;
}
