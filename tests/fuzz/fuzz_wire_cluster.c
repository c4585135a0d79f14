/*
 * Fuzz target for a cluster searcher's answer (src/cluster/wire.c), which a frontend decodes
 * from the network. Checks: never a crash or a read past the given length; a refusal explains
 * itself; an accepted answer's every string, line text, match range and offset lies inside the
 * input (or its content), and re-encoding its files succeeds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const void *p, size_t n, const uint8_t *base, size_t len)
{
	const uint8_t *q = p;

	return !p || (q >= base && n <= len && q - base <= (ptrdiff_t)(len - n));
}

static void check_file(const struct search_file *f, const uint8_t *in, size_t size)
{
	if (!inside(f->repo, strlen(f->repo), in, size) || !inside(f->path, f->path_len, in, size) ||
	    !inside(f->content, f->content_len, in, size))
		abort();
	for (size_t i = 0; f->lines && i < f->n_lines; i++) {
		const struct search_line *l = &f->lines[i];

		if (!inside(l->text, l->len, in, size))
			abort();
		for (size_t r = 0; r < l->n_ranges; r++)
			if (l->ranges[r].start > l->ranges[r].end || l->ranges[r].end > l->len)
				abort();
	}
	for (size_t i = 0; i < f->n_branches; i++)
		if (!inside(f->branches[i], strlen(f->branches[i]), in, size))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *in = malloc(size ? size : 1);
	struct cluster_answer a;
	struct buf b;

	if (!in)
		return 0;
	/* A copy of exactly size bytes: ASan catches a read past the length. */
	memcpy(in, data, size);
	buf_init(&b, (size_t)1 << 26);
	if (cluster_wire_decode(&a, in, size, (size_t)1 << 28) < 0) {
		if (!error_last()[0])
			abort();
	} else {
		for (size_t i = 0; i < a.n_files; i++) {
			check_file(&a.files[i], in, size);
			if (cluster_wire_put_file(&b, &a.files[i], 1) == TRAWL_EINVAL)
				abort();
		}
	}
	cluster_answer_dispose(&a);
	buf_dispose(&b);
	free(in);
	return 0;
}
