/*
 * Fuzz target for the MANIFEST reader (src/index/index.c): the input is a whole MANIFEST. It
 * is written into a temporary index directory made once per process, which also holds three
 * real shards a MANIFEST may name ("alpha-0.shard" and "alpha-1.shard" of repository alpha,
 * with branches x and y; "beta-0.shard" of beta, without; "mix-0.shard", a compound shard of
 * gamma (documents 0-2) and delta (3-5), with branches), so that mutations reach the shard
 * checks, the compound ranges, the branch mapping and the overlay. It is read with index_read_repo and index_open.
 * Checks: never a crash, leak or read out of bounds; a refusal explains itself; an index that
 * opens serves each shard under its own repository's name, with branch sets and overlay
 * lookups inside their bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index/shard.h"
#include "util/error.h"
#include "util/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* repo NULL: a compound shard of gamma and delta, three documents each. */
static void make_shard(const char *dir, const char *file, const char *repo, bool has_branches)
{
	static char *const branches[] = { "y", "x" };
	static const uint8_t sets[] = { 1, 2, 3 };
	static const char *const docs[] = { "main.c", "int main;\n", "README", "hello\n", "x.h",
					    "#define X 1\n" };
	struct shard_writer *w = NULL;
	char *path = file_join(dir, file);

	if (!path)
		abort();
	if (repo ? shard_writer_new(&w, path, repo) < 0
		 : shard_writer_new_compound(&w, path, NULL) < 0 ||
			   shard_writer_begin_repo(w, "gamma") < 0)
		abort();
	if (has_branches && shard_writer_set_branches(w, branches, 2) < 0)
		abort();
	for (size_t i = 0; i < (repo ? 3u : 6u); i++) {
		const char *name = docs[2 * (i % 3)], *text = docs[2 * (i % 3) + 1];

		if (!repo && i == 3 && shard_writer_begin_repo(w, "delta") < 0)
			abort();
		if (shard_writer_add_git(w, name, strlen(name), (const uint8_t *)text, strlen(text),
					 strlen(text), DOC_INDEXED, 0, NULL,
					 has_branches ? &sets[i % 3] : NULL, has_branches) < 0)
			abort();
	}
	if (shard_writer_finish(w) < 0)
		abort();
	shard_writer_free(w);
	free(path);
}

static char tmp_dir[64];

/* At exit: the directory and what the reader and the shards left in it. */
static void remove_dir(void)
{
	static const char *const files[] = { "alpha-0.shard", "alpha-1.shard", "beta-0.shard",
					     "mix-0.shard", "MANIFEST", "LOCK" };

	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		char *path = file_join(tmp_dir, files[i]);

		if (path)
			unlink(path);
		free(path);
	}
	rmdir(tmp_dir);
}

static const char *index_dir(void)
{
	if (!tmp_dir[0]) {
		snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/trawl-fuzz-manifest.XXXXXX");
		if (!mkdtemp(tmp_dir))
			abort();
		atexit(remove_dir);
		make_shard(tmp_dir, "alpha-0.shard", "alpha", true);
		make_shard(tmp_dir, "alpha-1.shard", "alpha", true);
		make_shard(tmp_dir, "beta-0.shard", "beta", false);
		make_shard(tmp_dir, "mix-0.shard", NULL, true);
	}
	return tmp_dir;
}

static void read_index(const char *dir)
{
	struct index *ix = NULL;

	if (index_open(&ix, dir) < 0) {
		if (!error_last()[0])
			abort();
		return;
	}
	for (size_t i = 0; i < index_n_shards(ix); i++) {
		const struct shard *sh = index_shard(ix, i);
		const struct index_repo_entry *e = index_shard_entry(ix, i);

		uint32_t lo, hi, lo2, hi2;
		size_t j;

		/*
		 * SECURITY: a shard is served under its own repository's name, and a compound
		 * one's repository gets its own documents only.
		 */
		index_shard_docs(ix, i, &lo, &hi);
		if (!shard_repo_docs(sh, e->name, &lo2, &hi2) || lo != lo2 || hi != hi2 ||
		    strcmp(index_shard_repo(ix, i), e->name) != 0)
			abort();
		/* This is e's shard j (a repository's shards are consecutive in the index). */
		for (j = 0; j < i && index_shard_entry(ix, i - j - 1) == e; j++)
			;
		for (size_t k = 0; k < e->n_overlay; k++)
			if (e->overlay[k].shard == j &&
			    (e->overlay[k].doc < lo || e->overlay[k].doc >= hi))
				abort(); /* an overlay entry outside the repository's documents */
		for (uint32_t d = lo; d < hi; d++) {
			struct shard_doc doc;
			uint64_t set[2] = { 0, 0 };

			if (shard_doc(&doc, sh, d) < 0)
				continue;
			index_doc_branches(set, 2, ix, i, d, &doc);
			for (size_t b = e->n_branches; b < 128; b++)
				if (set[b / 64] & (1ull << (b % 64)))
					abort(); /* only branches the repository lists */
			(void)index_doc_is_live(ix, i, d, &doc);
		}
	}
	index_close(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "alpha", "beta", "gamma", "delta" };
	const char *dir = index_dir();
	char *path = file_join(dir, "MANIFEST");
	FILE *f;

	if (!path)
		return 0;
	f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		struct index_repo_entry e;

		if (index_read_repo(&e, dir, names[i]) < 0) {
			if (!error_last()[0])
				abort();
			continue;
		}
		if (strcmp(e.name, names[i]) != 0 || e.n_base > e.n_shards)
			abort();
		for (size_t k = 0; k < e.n_overlay; k++)
			if (e.overlay[k].shard >= e.n_shards)
				abort();
		index_repo_entry_dispose(&e);
	}
	read_index(dir);
	free(path);
	return 0;
}
