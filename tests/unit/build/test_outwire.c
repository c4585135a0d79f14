/*
 * Unit tests for the index worker's result as messages (build/outwire.h): a result sent through
 * a pipe comes back equal, and results out of order, with more or fewer parts than declared,
 * or over the limits are refused; an overlay is checked entry by entry against the shards the
 * index holds, so a hostile one is refused early with bounded memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "build/outwire.h"
#include "util/error.h"

/* An incremental result: two branches, one kept shard and one new, one overlay entry. */
static void sample(struct build_git_output *out)
{
	static uint32_t ov_branches[] = { 1 };

	*out = (struct build_git_output){ 0 };
	out->res.branches = calloc(2, sizeof(*out->res.branches));
	out->res.branches[0] =
		(struct build_git_branch){ .name = strdup("dev"), .is_reindexed = true };
	out->res.branches[1] =
		(struct build_git_branch){ .name = strdup("main"), .is_default = true };
	memset(out->res.branches[0].commit, 'b', 40);
	memset(out->res.branches[1].commit, 'c', 40);
	out->res.n_branches = 2;
	out->res.is_incremental = true;
	out->res.n_invalid = 3;
	out->e.name = strdup("repo");
	out->e.shards = calloc(2, sizeof(char *));
	out->e.shards[0] = strdup("repo-0000000000000000-0.shard");
	out->e.shards[1] = strdup("repo-1111111111111111-1.shard");
	out->e.n_shards = 2;
	out->n_kept = 1;
	out->e.n_base = 1;
	out->e.max_file_size = 1 << 20;
	out->e.overlay = calloc(1, sizeof(*out->e.overlay));
	out->e.overlay[0] = (struct index_overlay){ .shard = 0, .doc = 7, .n_branches = 1 };
	out->e.overlay[0].branches = malloc(sizeof(uint32_t));
	memcpy(out->e.overlay[0].branches, ov_branches, sizeof(ov_branches));
	out->e.n_overlay = 1;
}

/* The index holds one shard of the repository, with old_docs documents. */
static const uint32_t old_docs = 10;

/* Sends out through a pipe and receives it into rx: the last outwire_rx_take result. */
static int through_pipe(struct outwire_rx *rx, const struct build_git_output *out)
{
	uint8_t buf[8192];
	struct wire_in w;
	struct wire_msg m;
	ssize_t n;
	int p[2], r = 0;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(outwire_send(p[1], out), 0);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf));
	close(p[0]);
	assert_true(n > 0);
	wire_in_init(&w, WIRE_TYPE_MAX);
	assert_int_equal(wire_in_feed(&w, buf, (size_t)n), 0);
	outwire_rx_init(rx);
	assert_int_equal(outwire_rx_expect(rx, &old_docs, 1), 0);
	while (r == 0 && wire_in_next(&w, &m) == 1)
		r = outwire_rx_take(rx, &m);
	wire_in_dispose(&w);
	return r;
}

static void a_result_comes_back_equal(void **state)
{
	struct build_git_output out;
	struct outwire_rx rx;
	const struct build_git_output *got = &rx.out;

	(void)state;
	sample(&out);
	assert_int_equal(through_pipe(&rx, &out), 1);
	assert_int_equal(got->res.n_branches, 2);
	assert_string_equal(got->res.branches[1].name, "main");
	assert_string_equal(got->res.branches[1].commit, out.res.branches[1].commit);
	assert_true(got->res.branches[1].is_default && !got->res.branches[1].is_reindexed);
	assert_true(got->res.branches[0].is_reindexed && !got->res.branches[0].is_default);
	assert_true(got->res.is_incremental && !got->res.is_unchanged);
	assert_int_equal(got->res.n_invalid, 3);
	assert_string_equal(got->e.name, "repo");
	assert_int_equal(got->e.n_shards, 2);
	assert_string_equal(got->e.shards[1], out.e.shards[1]);
	assert_int_equal(got->n_kept, 1);
	assert_int_equal(got->e.n_base, 1);
	assert_int_equal(got->e.max_file_size, 1 << 20);
	assert_int_equal(got->e.n_overlay, 1);
	assert_int_equal(got->e.overlay[0].doc, 7);
	assert_int_equal(got->e.overlay[0].n_branches, 1);
	assert_int_equal(got->e.overlay[0].branches[0], 1);
	outwire_rx_dispose(&rx);
	build_git_output_dispose(&out, NULL);
}

/* A raw message into rx. */
static int take(struct outwire_rx *rx, uint32_t type, const void *p, size_t n)
{
	struct wire_msg m = { .type = type, .payload = p, .len = n };

	return outwire_rx_take(rx, &m);
}

static void results_out_of_order_are_refused(void **state)
{
	struct build_git_output out;
	struct outwire_rx rx;
	const uint8_t shard[] = { 1, 0, 0, 0, 'x' };

	(void)state;
	/* Not starting with the header; an END before anything. */
	outwire_rx_init(&rx);
	assert_int_equal(take(&rx, WIRE_INDEX_SHARD, shard, sizeof(shard)), TRAWL_ECORRUPT);
	outwire_rx_dispose(&rx);
	outwire_rx_init(&rx);
	assert_int_equal(take(&rx, WIRE_END, NULL, 0), TRAWL_ECORRUPT);
	outwire_rx_dispose(&rx);
	/* A message after its END. */
	sample(&out);
	assert_int_equal(through_pipe(&rx, &out), 1);
	assert_int_equal(take(&rx, WIRE_INDEX_SHARD, shard, sizeof(shard)), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "after the end"));
	outwire_rx_dispose(&rx);
	build_git_output_dispose(&out, NULL);
}

static void counts_must_match_what_came(void **state)
{
	struct build_git_output out;
	struct outwire_rx rx;
	uint8_t hdr[256];
	size_t n = 0;

	(void)state;
	/* A header declaring 5 branches, then END at once. */
	memset(hdr, 0, sizeof(hdr));
	n = 4 + 8 * 3;
	hdr[n] = 5; /* n_branches */
	n += 4 * 4 + 8 * 2;
	hdr[n] = 4;
	hdr[n + 4] = 'r';
	hdr[n + 5] = 'e';
	hdr[n + 6] = 'p';
	hdr[n + 7] = 'o';
	n += 8;
	outwire_rx_init(&rx);
	assert_int_equal(take(&rx, WIRE_INDEX, hdr, n), 0);
	assert_int_equal(take(&rx, WIRE_END, NULL, 0), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "ended before"));
	outwire_rx_dispose(&rx);
	/* Over the branch limit. */
	hdr[4 + 8 * 3 + 2] = 1; /* n_branches = 5 + 65536 */
	outwire_rx_init(&rx);
	assert_int_equal(take(&rx, WIRE_INDEX, hdr, n), TRAWL_ELIMIT);
	outwire_rx_dispose(&rx);
	/* The sender refuses what the receiver would. */
	sample(&out);
	out.res.n_branches = OUTWIRE_MAX_BRANCHES + 1;
	assert_int_equal(outwire_send(-1, &out), TRAWL_ELIMIT);
	out.res.n_branches = 2;
	build_git_output_dispose(&out, NULL);
}

static void a_bad_commit_or_flag_is_refused(void **state)
{
	struct build_git_output out;
	struct outwire_rx rx;

	(void)state;
	sample(&out);
	out.res.branches[0].commit[0] = 'X'; /* not lower-case hex */
	assert_int_equal(through_pipe(&rx, &out), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "malformed branch"));
	outwire_rx_dispose(&rx);
	build_git_output_dispose(&out, NULL);
}

/* A header (struct build_git_output's counts) as the worker would send it. */
static size_t header(uint8_t *h, uint32_t n_branches, uint32_t n_shards, uint32_t n_kept,
		     uint32_t n_overlay)
{
	struct wire_out o;
	size_t n;

	wire_out_begin(&o, WIRE_INDEX);
	wire_put_u32(&o, 1); /* incremental */
	wire_put_u64(&o, 0);
	wire_put_u64(&o, 0);
	wire_put_u64(&o, 0);
	wire_put_u32(&o, n_branches);
	wire_put_u32(&o, n_shards);
	wire_put_u32(&o, n_kept);
	wire_put_u32(&o, n_overlay);
	wire_put_u64(&o, 1); /* n_base */
	wire_put_u64(&o, 0);
	wire_put_str(&o, "repo");
	n = wire_out_len(&o);
	memcpy(h, o.b.ptr + WIRE_HEADER_SIZE, n);
	buf_dispose(&o.b);
	return n;
}

/* The message built in o taken by rx (o disposed). */
static int take_built(struct outwire_rx *rx, struct wire_out *o, uint32_t type)
{
	int r = take(rx, type, o->b.ptr + WIRE_HEADER_SIZE, wire_out_len(o));

	buf_dispose(&o->b);
	return r;
}

/* The header, one branch and one (kept) shard taken by rx. */
static void take_start(struct outwire_rx *rx, uint32_t n_overlay)
{
	char commit[41];
	uint8_t h[256];
	size_t n;
	struct wire_out o;

	outwire_rx_init(rx);
	assert_int_equal(outwire_rx_expect(rx, &old_docs, 1), 0);
	n = header(h, 1, 1, 1, n_overlay);
	assert_int_equal(take(rx, WIRE_INDEX, h, n), 0);
	memset(commit, 'a', 40);
	commit[40] = '\0';
	wire_out_begin(&o, WIRE_INDEX_BRANCH);
	wire_put_str(&o, "main");
	wire_put_str(&o, commit);
	wire_put_u32(&o, 1); /* default */
	assert_int_equal(take_built(rx, &o, WIRE_INDEX_BRANCH), 0);
	wire_out_begin(&o, WIRE_INDEX_SHARD);
	wire_put_str(&o, "repo-0000000000000000-0.shard");
	assert_int_equal(take_built(rx, &o, WIRE_INDEX_SHARD), 0);
}

/* Overlay entries (shard 0, doc, no branch) for docs first, first + 1, ...; n of them. */
static size_t overlay_run(uint8_t *p, uint32_t first, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t v[3] = { 0, first + (uint32_t)i, 0 };

		for (size_t k = 0; k < 3; k++) {
			p[12 * i + 4 * k] = (uint8_t)v[k];
			p[12 * i + 4 * k + 1] = (uint8_t)(v[k] >> 8);
			p[12 * i + 4 * k + 2] = (uint8_t)(v[k] >> 16);
			p[12 * i + 4 * k + 3] = (uint8_t)(v[k] >> 24);
		}
	}
	return 12 * n;
}

/*
 * 2^24 overlay entries fit every wire limit (12 bytes each, ~200 MB): a header declaring them
 * is refused before anything is allocated, since the one kept shard has 10 documents.
 */
static void a_huge_overlay_is_refused_at_its_header(void **state)
{
	struct outwire_rx rx;
	uint8_t h[256];
	size_t n;

	(void)state;
	outwire_rx_init(&rx);
	assert_int_equal(outwire_rx_expect(&rx, &old_docs, 1), 0);
	n = header(h, 1, 1, 1, OUTWIRE_MAX_OVERLAY);
	assert_int_equal(take(&rx, WIRE_INDEX, h, n), TRAWL_ELIMIT);
	assert_non_null(strstr(error_last(), "an overlay of 16777216 entries, but the 1 kept shards "
					     "hold 10 documents"));
	assert_int_equal(rx.bytes_held, 0);
	assert_null(rx.out.e.overlay);
	outwire_rx_dispose(&rx);
	/* A full result (nothing kept) may have no overlay at all. */
	outwire_rx_init(&rx);
	assert_int_equal(outwire_rx_expect(&rx, &old_docs, 1), 0);
	n = header(h, 1, 1, 0, 1);
	assert_int_equal(take(&rx, WIRE_INDEX, h, n), TRAWL_ELIMIT);
	outwire_rx_dispose(&rx);
	/* Keeping shards the index does not list is refused there too. */
	outwire_rx_init(&rx);
	n = header(h, 1, 1, 1, 0);
	assert_int_equal(take(&rx, WIRE_INDEX, h, n), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "keeps 1 of the 0 shards"));
	outwire_rx_dispose(&rx);
}

/*
 * Entries are checked as they arrive: the first one out of range or repeated ends the stream,
 * and what is held is only the entries before it (and the bitmap of one bit per document).
 */
static void overlay_entries_are_checked_as_they_arrive(void **state)
{
	struct outwire_rx rx;
	uint8_t p[12 * 16];
	size_t n;

	(void)state;
	/* Document 10 of a shard of 10 (declared count within the bound). */
	take_start(&rx, 10);
	n = overlay_run(p, 5, 6); /* documents 5..10 */
	assert_int_equal(take(&rx, WIRE_INDEX_OVERLAY, p, n), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "overlay entry 5 names document 10 of shard 0"));
	assert_int_equal(rx.out.e.n_overlay, 5);
	assert_true(rx.bytes_held <= 8 * sizeof(struct index_overlay) + sizeof(uint64_t));
	outwire_rx_dispose(&rx);
	/* The same document twice. */
	take_start(&rx, 4);
	n = overlay_run(p, 3, 1);
	n += overlay_run(p + n, 3, 1);
	assert_int_equal(take(&rx, WIRE_INDEX_OVERLAY, p, n), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "an overlay entry repeated"));
	assert_int_equal(rx.out.e.n_overlay, 1);
	outwire_rx_dispose(&rx);
	/* A shard that is not kept. */
	take_start(&rx, 1);
	n = overlay_run(p, 0, 1);
	p[0] = 1;
	assert_int_equal(take(&rx, WIRE_INDEX_OVERLAY, p, n), TRAWL_ECORRUPT);
	assert_int_equal(rx.out.e.n_overlay, 0);
	outwire_rx_dispose(&rx);
	/* Branches out of order, or beyond the result's one branch. */
	take_start(&rx, 1);
	n = overlay_run(p, 0, 1);
	p[8] = 1; /* one branch */
	memset(p + 12, 0, 4);
	p[12] = 1; /* branch 1 of a result of 1 */
	assert_int_equal(take(&rx, WIRE_INDEX_OVERLAY, p, n + 4), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "branches out of order or range"));
	assert_int_equal(rx.bytes_held, sizeof(uint64_t)); /* the bitmap only */
	outwire_rx_dispose(&rx);
	/* Every document once, in any order, each without a branch (deleted): accepted, no list
	 * allocated. */
	take_start(&rx, 10);
	n = overlay_run(p, 5, 5);
	n += overlay_run(p + n, 0, 5);
	assert_int_equal(take(&rx, WIRE_INDEX_OVERLAY, p, n), 0);
	assert_int_equal(take(&rx, WIRE_END, NULL, 0), 1);
	assert_int_equal(rx.out.e.n_overlay, 10);
	assert_null(rx.out.e.overlay[9].branches);
	assert_true(rx.bytes_held <= 16 * sizeof(struct index_overlay) + sizeof(uint64_t));
	outwire_rx_dispose(&rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_result_comes_back_equal),
		cmocka_unit_test(results_out_of_order_are_refused),
		cmocka_unit_test(counts_must_match_what_came),
		cmocka_unit_test(a_bad_commit_or_flag_is_refused),
		cmocka_unit_test(a_huge_overlay_is_refused_at_its_header),
		cmocka_unit_test(overlay_entries_are_checked_as_they_arrive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
