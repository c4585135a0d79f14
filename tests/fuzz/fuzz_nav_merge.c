/*
 * Fuzz target for a frontend's reading of a searcher's definitions (src/server/nav.c,
 * nav_merge_add), which come from the network. The input is split at its first NUL into two
 * answers, of searchers 0 and 1. Checks: never a crash or a read past the given length; a
 * refusal explains itself and adds nothing; the merged answer is one JSON object, lists at
 * most max definitions in nav_def_cmp's order, and says limit_hit when more were found.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/nav.h"
#include "util/buf.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX 3

static void add(struct nav_merge *m, uint32_t searcher, const uint8_t *p, size_t n)
{
	size_t before = m->n;
	uint64_t found = m->found;

	error_clear();
	if (nav_merge_add(m, searcher, (const char *)p, n) < 0 &&
	    (m->n != before || m->found != found || !error_last()[0]))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t first = nul ? (size_t)(nul - data) : size;
	struct nav_merge m = { 0 };
	struct buf b;
	json_t *out, *defs;

	add(&m, 0, data, first);
	if (nul)
		add(&m, 1, nul + 1, size - first - 1);
	buf_init(&b, 1 << 24);
	if (nav_merge_put(&b, &m, "id", 2, MAX, 0) == 0) {
		out = json_loadb(b.ptr, b.len, 0, NULL);
		defs = json_object_get(out, "definitions");
		if (!json_is_array(defs) || json_array_size(defs) > MAX ||
		    (m.found > MAX && !json_is_true(json_object_get(out, "limit_hit"))))
			abort();
		for (size_t i = 1; i < m.n; i++)
			if (nav_def_cmp(&m.v[i - 1], &m.v[i]) > 0)
				abort();
		json_decref(out);
	}
	buf_dispose(&b);
	nav_merge_dispose(&m);
	return 0;
}
