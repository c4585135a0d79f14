/*
 * Fuzz target for the shard reader: the input is a whole shard file. It is written to a
 * temporary file (one per process, reused), opened, and if it opens, verified and read in every
 * way the searcher reads it: every document, the document range of each repository of a compound
 * shard (REPOS), and the posting lists of fixed trigrams and of the trigrams at the start of each
 * document. Nothing may crash, leak or read out of bounds.
 *
 * Random mutations nearly always break a checksum, which would keep the fuzzer at the door, so
 * each input is tried twice: as it is, and "resealed" (every checksum the TOC can locate
 * recomputed), which lets mutations reach the structural checks and the posting decoder.
 * Sections the reader does not know are listed (and must be ones it could skip: optional).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "index/shard.h"
#include "index/shard_int.h"
#include "util/error.h"
#include "util/file.h"
#include "util/trigram.h"
#include "util/vec.h"
#include "unit/index/shard_bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *tmp_path(int *fd_out)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		snprintf(path, sizeof(path), "/tmp/trawl-fuzz-shard.XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
	}
	*fd_out = fd;
	return path;
}

static void read_postings(const struct shard *sh, uint32_t t)
{
	struct u32vec ids;
	uint32_t n = shard_trigram_count(sh, t);

	u32vec_init(&ids);
	if (shard_postings(&ids, sh, t) == 0 && ids.len != n)
		abort(); /* the dictionary count and the decoded list must agree */
	for (size_t i = 0; i < ids.len; i++)
		if (ids.v[i] >= shard_n_docs(sh) || (i > 0 && ids.v[i] <= ids.v[i - 1]))
			abort();
	u32vec_dispose(&ids);
}

/*
 * A compound shard's repositories (REPOS): search authorizes each document by the range its
 * repository gets here, so the ranges must tile the documents in order, from 0 to n_docs, and
 * each name must find its own range (and a shard of one repository, all its documents).
 */
static void check_repos(const struct shard *sh)
{
	uint32_t n = shard_n_repos(sh), n_docs = shard_n_docs(sh), end = 0, lo, hi, lo2, hi2;

	if (n == 0) {
		if (!shard_repo_docs(sh, shard_repo(sh), &lo, &hi) || lo != 0 || hi != n_docs)
			abort();
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		const char *name = shard_repo_at(sh, i, &lo, &hi);

		if (lo != end || hi < lo || hi > n_docs || !name[0] ||
		    (i == 0 && strcmp(name, shard_repo(sh)) != 0))
			abort();
		if (!shard_repo_docs(sh, name, &lo2, &hi2) || lo2 != lo || hi2 != hi)
			abort(); /* a name twice would find the other's range */
		end = hi;
	}
	if (end != n_docs)
		abort();
}

static void try_shard(const uint8_t *data, size_t size)
{
	static const uint32_t fixed[] = { 0, 1, 0x616263, 0x0a0a0a, 0x202020, TRIGRAM_SPACE - 1 };
	struct shard *sh = NULL;
	const char *path;
	uint32_t n;
	int fd;

	path = tmp_path(&fd);
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	if (shard_open(&sh, path) < 0) {
		/* Every refusal names the file. */
		if (!strstr(error_last(), path))
			abort();
		return;
	}
	(void)shard_verify(sh);
	(void)shard_repo(sh);
	check_repos(sh);
	for (size_t i = 0; i < shard_n_unknown_sections(sh); i++) {
		uint32_t id;
		uint64_t len;

		shard_unknown_section(&id, &len, sh, i);
		if (id == 0 || len > size)
			abort(); /* a listed section is one of the file's own */
	}
	(void)shard_content_bytes(sh);
	for (uint32_t b = 0; b < shard_n_branches(sh); b++) {
		size_t len;
		const char *name = shard_branch(sh, b, &len);
		volatile char y = 0;

		for (size_t k = 0; k < len; k++)
			y = y ^ name[k];
	}
	n = shard_n_docs(sh);
	for (uint32_t i = 0; i < n; i++) {
		struct shard_doc d;
		volatile uint8_t x = 0; /* volatile: the reads must happen */

		if (shard_doc(&d, sh, i) < 0) {
			/* Records are checked when read: a damaged one is refused, naming the file. */
			if (!strstr(error_last(), path))
				abort();
			continue;
		}
		for (size_t k = 0; k < d.path_len; k++)
			x = x ^ (uint8_t)d.path[k];
		for (size_t k = 0; k < d.content_len; k++)
			x = x ^ d.content[k];
		for (size_t k = 0; k < d.bset_len; k++)
			x = x ^ d.bset[k];
		for (size_t k = 0; k < SHARD_OID_BYTES; k++)
			x = x ^ d.oid[k];
		if (d.content_len >= 3)
			read_postings(sh, trigram_make(d.content[0], d.content[1], d.content[2]));
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		read_postings(sh, fixed[i]);
	shard_close(sh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	try_shard(data, size);
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	shard_bytes_reseal(copy, size);
	try_shard(copy, size);
	free(copy);
	return 0;
}
