/*
 * Fuzz target for the worker message decoder (src/sandbox/wire.c) and the index worker's
 * result on top of it (src/build/outwire.c): what a compromised worker could send its parent.
 * The first byte picks how the stream is cut into reads (1..256 bytes), so short reads are
 * exercised too. Checks: never a crash, a leak or a read past the input; every refusal
 * explains itself; a complete index result holds no more than it declared.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build/outwire.h"
#include "sandbox/wire.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A WIRE_FETCH or WIRE_ERROR payload, read as the parent reads it. */
static void read_simple(const struct wire_msg *m)
{
	struct wire_fields f;
	uint32_t v = 0;
	char *s = NULL;

	bool is_read;

	wire_fields_init(&f, m);
	/* The fields in the order each type has them (docs/internals/sandbox.md). */
	if (m->type == WIRE_FETCH)
		is_read = wire_get_u32(&f, &v) == 0 && wire_get_str(&f, &s, 511) == 0;
	else
		is_read = wire_get_str(&f, &s, 599) == 0 && wire_get_u32(&f, &v) == 0;
	if (is_read)
		wire_fields_end(&f);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_in w;
	struct wire_msg m;
	struct outwire_rx rx;
	const uint32_t old_docs = 1000;
	size_t step, off = 1;
	int r = 0;

	if (size == 0)
		return 0;
	step = (size_t)data[0] + 1;
	wire_in_init(&w, WIRE_TYPE_MAX);
	outwire_rx_init(&rx);
	/* One shard of 1,000 documents in the index: a result may keep it and overlay them. */
	if (outwire_rx_expect(&rx, &old_docs, 1) < 0)
		abort();
	while (off < size && r >= 0) {
		size_t n = size - off < step ? size - off : step;

		error_clear();
		if ((r = wire_in_feed(&w, data + off, n)) < 0)
			break;
		off += n;
		while ((r = wire_in_next(&w, &m)) == 1) {
			if (m.len > WIRE_MAX_MSG || m.type == 0 || m.type > WIRE_TYPE_MAX)
				abort();
			if (m.type == WIRE_FETCH || m.type == WIRE_ERROR) {
				read_simple(&m);
				continue;
			}
			error_clear();
			if ((r = outwire_rx_take(&rx, &m)) < 0) {
				if (!error_last()[0])
					abort();
				break;
			}
			if (r == 1 &&
			    (rx.out.res.n_branches != rx.n_branches ||
			     rx.out.e.n_shards != rx.n_shards || rx.out.e.n_overlay != rx.n_overlay ||
			     rx.out.e.n_overlay > old_docs))
				abort();
		}
		if (r < 0 && !error_last()[0])
			abort();
	}
	if (r >= 0 && wire_in_end(&w) < 0 && !error_last()[0])
		abort();
	outwire_rx_dispose(&rx);
	wire_in_dispose(&w);
	return 0;
}
