/*
 * Fuzz target for the MANIFEST reader (src/index/index.c): the input is a whole MANIFEST. It
 * is written into a temporary index directory made once per process, which also holds four
 * real shards a MANIFEST may name ("alpha-0.shard" and "alpha-1.shard" of repository alpha,
 * with branches x and y; "beta-0.shard" of beta, without; "pack-0.shard", a compound shard of
 * gamma, delta and the empty epsilon), so that mutations reach the shard checks, the REPOS
 * ranges, the branch mapping and the overlay. It is read with index_read_repo and index_open.
 * Checks: never a crash, leak or read out of bounds; a refusal explains itself; an index that
 * opens serves each shard under its own repository's name (in a compound file: exactly the
 * documents REPOS gives that name), with branch sets and overlay lookups inside their bounds.
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

static void make_shard(const char *dir, const char *file, const char *repo, bool has_branches)
{
	static char *const branches[] = { "y", "x" };
	static const uint8_t sets[] = { 1, 2, 3 };
	static const char *const docs[] = { "main.c", "int main;\n", "README", "hello\n", "x.h",
					    "#define X 1\n" };
	struct shard_writer *w = NULL;
	char *path = file_join(dir, file);

	if (!path || shard_writer_new(&w, path, repo) < 0 ||
	    (has_branches && shard_writer_set_branches(w, branches, 2) < 0))
		abort();
	for (size_t i = 0; i < 3; i++)
		if (shard_writer_add_git(w, docs[2 * i], strlen(docs[2 * i]),
					 (const uint8_t *)docs[2 * i + 1], strlen(docs[2 * i + 1]),
					 strlen(docs[2 * i + 1]), DOC_INDEXED, 0, NULL,
					 has_branches ? &sets[i] : NULL, has_branches) < 0)
			abort();
	if (shard_writer_finish(w) < 0)
		abort();
	shard_writer_free(w);
	free(path);
}

/* A compound shard: gamma (2 documents), delta (1) and epsilon (none), without branches. */
static void make_compound(const char *dir, const char *file)
{
	static const char *const repos[] = { "gamma", "delta", "epsilon" };
	static const uint32_t n_docs[] = { 2, 1, 0 };
	struct shard_writer *w = NULL;
	char *path = file_join(dir, file);

	if (!path || shard_writer_new_compound(&w, path, NULL) < 0)
		abort();
	for (size_t r = 0; r < 3; r++) {
		if (shard_writer_begin_repo(w, repos[r]) < 0)
			abort();
		for (uint32_t i = 0; i < n_docs[r]; i++)
			if (shard_writer_add(w, repos[r], strlen(repos[r]), (const uint8_t *)"text\n",
					     5, 5, DOC_INDEXED, 0) < 0)
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
					     "pack-0.shard", "MANIFEST", "LOCK" };

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
		make_compound(tmp_dir, "pack-0.shard");
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
		uint32_t lo, hi, want_lo, want_hi;

		/*
		 * SECURITY: a shard is served under its own repository's name: all of a file of
		 * that repository, or exactly the range a compound file's REPOS gives the name.
		 */
		index_shard_docs(ix, i, &lo, &hi);
		if (!shard_repo_docs(sh, e->name, &want_lo, &want_hi) || lo != want_lo ||
		    hi != want_hi || hi > shard_n_docs(sh) ||
		    (!shard_n_repos(sh) && strcmp(shard_repo(sh), e->name) != 0))
			abort();
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
