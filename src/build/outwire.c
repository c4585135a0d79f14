/* The index worker's result as worker messages; see outwire.h. */
#include "build/outwire.h"

#include <stdlib.h>
#include <string.h>

#include "util/array.h"
#include "util/error.h"

/* Field sizes: a repository name (build_name_valid), a branch name, a shard file name. */
#define REPO_NAME_MAX 200
#define BRANCH_NAME_MAX 1024
#define FILE_NAME_MAX 255

#define FLAG_INCREMENTAL 1u
#define FLAG_UNCHANGED 2u
#define FLAG_DEFAULT 1u
#define FLAG_REINDEXED 2u

/* Overlay entries per message: well under WIRE_MAX_MSG even with many branches each. */
#define OVERLAY_CHUNK_BYTES ((size_t)512 << 10)

static int send_header(int fd, const struct build_git_output *out)
{
	const struct build_git_result *res = &out->res;
	struct wire_out o;

	wire_out_begin(&o, WIRE_INDEX);
	wire_put_u32(&o, (res->is_incremental ? FLAG_INCREMENTAL : 0) |
				 (res->is_unchanged ? FLAG_UNCHANGED : 0));
	wire_put_u64(&o, res->n_invalid);
	wire_put_u64(&o, res->changed_files);
	wire_put_u64(&o, res->delta_shards);
	wire_put_u32(&o, (uint32_t)res->n_branches);
	wire_put_u32(&o, (uint32_t)out->e.n_shards);
	wire_put_u32(&o, (uint32_t)out->n_kept);
	wire_put_u32(&o, (uint32_t)out->e.n_overlay);
	wire_put_u64(&o, out->e.n_base);
	wire_put_u64(&o, out->e.max_file_size);
	wire_put_str(&o, out->e.name ? out->e.name : "");
	return wire_send(&o, fd);
}

static int send_overlay(int fd, const struct build_git_output *out)
{
	size_t i = 0;
	int err = 0;

	while (err == 0 && i < out->e.n_overlay) {
		struct wire_out o;

		wire_out_begin(&o, WIRE_INDEX_OVERLAY);
		for (; i < out->e.n_overlay && wire_out_len(&o) < OVERLAY_CHUNK_BYTES; i++) {
			const struct index_overlay *x = &out->e.overlay[i];

			wire_put_u32(&o, x->shard);
			wire_put_u32(&o, x->doc);
			wire_put_u32(&o, (uint32_t)x->n_branches);
			for (size_t b = 0; b < x->n_branches; b++)
				wire_put_u32(&o, x->branches[b]);
		}
		err = wire_send(&o, fd);
	}
	return err;
}

int outwire_send(int fd, const struct build_git_output *out)
{
	const struct build_git_result *res = &out->res;
	struct wire_out o;
	int err;

	if (res->n_branches > OUTWIRE_MAX_BRANCHES || out->e.n_shards > OUTWIRE_MAX_SHARDS ||
	    out->e.n_overlay > OUTWIRE_MAX_OVERLAY) {
		error_set("the index result is too large for the worker pipe (%zu branches, %zu "
			  "shards, %zu overlay entries)",
			  res->n_branches, out->e.n_shards, out->e.n_overlay);
		return TRAWL_ELIMIT;
	}
	if ((err = send_header(fd, out)) < 0)
		return err;
	for (size_t i = 0; i < res->n_branches && err == 0; i++) {
		wire_out_begin(&o, WIRE_INDEX_BRANCH);
		wire_put_str(&o, res->branches[i].name);
		wire_put_str(&o, res->branches[i].commit);
		wire_put_u32(&o, (res->branches[i].is_default ? FLAG_DEFAULT : 0) |
					 (res->branches[i].is_reindexed ? FLAG_REINDEXED : 0));
		err = wire_send(&o, fd);
	}
	for (size_t i = 0; i < out->e.n_shards && err == 0; i++) {
		wire_out_begin(&o, WIRE_INDEX_SHARD);
		wire_put_str(&o, out->e.shards[i]);
		err = wire_send(&o, fd);
	}
	if (err == 0)
		err = send_overlay(fd, out);
	if (err == 0) {
		wire_out_begin(&o, WIRE_END);
		err = wire_send(&o, fd);
	}
	return err;
}

void outwire_rx_init(struct outwire_rx *rx)
{
	*rx = (struct outwire_rx){ 0 };
}

void outwire_rx_dispose(struct outwire_rx *rx)
{
	build_git_output_dispose(&rx->out, NULL);
	free(rx->old_docs);
	free(rx->old_first);
	free(rx->seen);
	*rx = (struct outwire_rx){ 0 };
}

int outwire_rx_expect(struct outwire_rx *rx, const uint32_t *n_docs, size_t n_old)
{
	free(rx->old_docs);
	free(rx->old_first);
	rx->old_docs = NULL;
	rx->old_first = NULL;
	rx->n_old = rx->max_overlay = 0;
	if (n_old && (!(rx->old_docs = malloc(n_old * sizeof(*rx->old_docs))) ||
		      !(rx->old_first = malloc(n_old * sizeof(*rx->old_first)))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n_old; i++) {
		rx->old_docs[i] = n_docs[i];
		rx->old_first[i] = rx->max_overlay;
		rx->max_overlay += n_docs[i];
	}
	rx->n_old = n_old;
	return 0;
}

static int malformed(const char *what)
{
	error_set("index worker: %s", what);
	return TRAWL_ECORRUPT;
}

static int take_header(struct outwire_rx *rx, struct wire_fields *f)
{
	struct build_git_output *out = &rx->out;
	uint32_t flags, n_kept;
	uint64_t n_invalid, changed, delta, n_base, max_file_size;
	int err;

	if ((err = wire_get_u32(f, &flags)) < 0 || (err = wire_get_u64(f, &n_invalid)) < 0 ||
	    (err = wire_get_u64(f, &changed)) < 0 || (err = wire_get_u64(f, &delta)) < 0 ||
	    (err = wire_get_u32(f, &rx->n_branches)) < 0 ||
	    (err = wire_get_u32(f, &rx->n_shards)) < 0 || (err = wire_get_u32(f, &n_kept)) < 0 ||
	    (err = wire_get_u32(f, &rx->n_overlay)) < 0 || (err = wire_get_u64(f, &n_base)) < 0 ||
	    (err = wire_get_u64(f, &max_file_size)) < 0 ||
	    (err = wire_get_str(f, &out->e.name, REPO_NAME_MAX)) < 0 ||
	    (err = wire_fields_end(f)) < 0)
		return err;
	if (flags & ~(FLAG_INCREMENTAL | FLAG_UNCHANGED))
		return malformed("unknown result flags");
	if (rx->n_branches > OUTWIRE_MAX_BRANCHES || rx->n_shards > OUTWIRE_MAX_SHARDS ||
	    rx->n_overlay > OUTWIRE_MAX_OVERLAY) {
		error_set("index worker: %u branches, %u shards, %u overlay entries: over the "
			  "limits (%u, %u, %u)",
			  rx->n_branches, rx->n_shards, rx->n_overlay, OUTWIRE_MAX_BRANCHES,
			  OUTWIRE_MAX_SHARDS, OUTWIRE_MAX_OVERLAY);
		return TRAWL_ELIMIT;
	}
	if (n_kept > rx->n_shards || n_base > rx->n_shards)
		return malformed("more kept or base shards than shards");
	if (n_kept != 0 && n_kept != rx->n_old) {
		error_set("index worker: keeps %u of the %zu shards the index lists", n_kept,
			  rx->n_old);
		return TRAWL_ECORRUPT;
	}
	/* SECURITY: each entry names a kept document once: no more entries than those. */
	if (rx->n_overlay > (n_kept ? rx->max_overlay : 0)) {
		error_set("index worker: an overlay of %u entries, but the %u kept shards hold %llu "
			  "documents",
			  rx->n_overlay, n_kept, (unsigned long long)(n_kept ? rx->max_overlay : 0));
		return TRAWL_ELIMIT;
	}
	if (rx->n_overlay) {
		size_t words = (size_t)((rx->max_overlay + 63) / 64);

		if (!(rx->seen = calloc(words, sizeof(*rx->seen))))
			return error_nomem(NULL);
		rx->bytes_held += words * sizeof(*rx->seen);
	}
	if ((flags & FLAG_UNCHANGED) && (rx->n_shards || rx->n_overlay))
		return malformed("an unchanged result with an entry");
	if (!(flags & FLAG_UNCHANGED) && (!out->e.name[0] || rx->n_branches == 0))
		return malformed("a result without a name or branches");
	out->res = (struct build_git_result){ .n_invalid = (size_t)n_invalid,
					      .is_incremental = (flags & FLAG_INCREMENTAL) != 0,
					      .is_unchanged = (flags & FLAG_UNCHANGED) != 0,
					      .changed_files = changed,
					      .delta_shards = delta };
	out->n_kept = n_kept;
	out->e.n_base = (size_t)n_base;
	out->e.max_file_size = max_file_size;
	if (!(out->res.branches = calloc(rx->n_branches + 1, sizeof(*out->res.branches))) ||
	    !(out->e.shards = calloc(rx->n_shards + 1, sizeof(*out->e.shards))))
		return error_nomem(NULL);
	rx->has_header = true;
	return 0;
}

static bool commit_ok(const char *s)
{
	size_t len = strlen(s);

	if (len != 40 && len != 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int take_branch(struct outwire_rx *rx, struct wire_fields *f)
{
	struct build_git_result *res = &rx->out.res;
	struct build_git_branch *b;
	char *commit = NULL;
	uint32_t flags;
	int err;

	if (res->n_branches >= rx->n_branches)
		return malformed("more branches than declared");
	b = &res->branches[res->n_branches];
	if ((err = wire_get_str(f, &b->name, BRANCH_NAME_MAX)) < 0)
		return err;
	res->n_branches++; /* owned from here: disposed with res */
	if ((err = wire_get_str(f, &commit, sizeof(b->commit) - 1)) < 0 ||
	    (err = wire_get_u32(f, &flags)) < 0 || (err = wire_fields_end(f)) < 0)
		goto out;
	if (!b->name[0] || !commit_ok(commit) || (flags & ~(FLAG_DEFAULT | FLAG_REINDEXED))) {
		err = malformed("a malformed branch");
		goto out;
	}
	memcpy(b->commit, commit, strlen(commit) + 1);
	b->is_default = (flags & FLAG_DEFAULT) != 0;
	b->is_reindexed = (flags & FLAG_REINDEXED) != 0;
out:
	free(commit);
	return err;
}

static int take_shard(struct outwire_rx *rx, struct wire_fields *f)
{
	struct index_repo_entry *e = &rx->out.e;
	int err;

	if (e->n_shards >= rx->n_shards)
		return malformed("more shards than declared");
	if ((err = wire_get_str(f, &e->shards[e->n_shards], FILE_NAME_MAX)) < 0)
		return err;
	e->n_shards++; /* owned from here: disposed with e, even when more bytes follow */
	return wire_fields_end(f);
}

/*
 * One overlay entry's branch list into *out (NULL for none): at most the result's branches, in
 * ascending order.
 */
static int take_overlay_branches(uint32_t **out, struct outwire_rx *rx, struct wire_fields *f,
				 uint32_t n)
{
	uint32_t *v = NULL;
	int err = 0;

	*out = NULL;
	if (n > rx->n_branches)
		return malformed("an overlay entry with more branches than the result");
	if (n == 0)
		return 0;
	/* The payload must hold them before anything is allocated for them. */
	if (f->len - f->off < (size_t)n * 4)
		return malformed("a truncated overlay entry");
	if (!(v = malloc((size_t)n * sizeof(*v))))
		return error_nomem(NULL);
	for (uint32_t b = 0; b < n && err == 0; b++) {
		if ((err = wire_get_u32(f, &v[b])) < 0)
			break;
		if (v[b] >= rx->n_branches || (b && v[b] <= v[b - 1]))
			err = malformed("an overlay entry's branches out of order or range");
	}
	if (err < 0) {
		free(v);
		return err;
	}
	rx->bytes_held += (size_t)n * sizeof(*v);
	*out = v;
	return 0;
}

static int take_overlay(struct outwire_rx *rx, struct wire_fields *f)
{
	struct index_repo_entry *e = &rx->out.e;
	int err;

	if (f->len == 0)
		return malformed("an empty overlay message");
	while (f->off < f->len) {
		struct index_overlay x = { 0 };
		uint32_t n;
		uint64_t bit;
		size_t cap = rx->cap_overlay;

		if (e->n_overlay >= rx->n_overlay)
			return malformed("more overlay entries than declared");
		if ((err = wire_get_u32(f, &x.shard)) < 0 || (err = wire_get_u32(f, &x.doc)) < 0 ||
		    (err = wire_get_u32(f, &n)) < 0)
			return err;
		/* SECURITY: checked as it arrives, before it is kept (outwire.h). */
		if (x.shard >= rx->out.n_kept || x.doc >= rx->old_docs[x.shard]) {
			error_set("index worker: overlay entry %zu names document %u of shard %u, "
				  "which the kept shards do not have",
				  e->n_overlay, x.doc, x.shard);
			return TRAWL_ECORRUPT;
		}
		bit = rx->old_first[x.shard] + x.doc;
		if (rx->seen[bit / 64] & ((uint64_t)1 << (bit % 64)))
			return malformed("an overlay entry repeated");
		rx->seen[bit / 64] |= (uint64_t)1 << (bit % 64);
		if ((err = take_overlay_branches(&x.branches, rx, f, n)) < 0)
			return err;
		x.n_branches = n;
		if ((err = ARRAY_GROW(&e->overlay, &rx->cap_overlay, e->n_overlay + 1)) < 0) {
			free(x.branches);
			return err;
		}
		rx->bytes_held += (rx->cap_overlay - cap) * sizeof(*e->overlay);
		e->overlay[e->n_overlay++] = x; /* owned from here */
	}
	return 0;
}

int outwire_rx_take(struct outwire_rx *rx, const struct wire_msg *m)
{
	struct wire_fields f;
	int err = 0;

	wire_fields_init(&f, m);
	if (rx->is_done)
		return malformed("a message after the end of its result");
	if (!rx->has_header && m->type != WIRE_INDEX)
		return malformed("a result that does not start with its header");
	switch (m->type) {
	case WIRE_INDEX:
		if (rx->has_header)
			return malformed("a second result header");
		return take_header(rx, &f);
	case WIRE_INDEX_BRANCH:
		return take_branch(rx, &f);
	case WIRE_INDEX_SHARD:
		if (rx->out.res.n_branches != rx->n_branches)
			return malformed("shards before every branch");
		return take_shard(rx, &f);
	case WIRE_INDEX_OVERLAY:
		if (rx->out.e.n_shards != rx->n_shards)
			return malformed("overlay before every shard");
		return take_overlay(rx, &f);
	case WIRE_END:
		if ((err = wire_fields_end(&f)) < 0)
			return err;
		if (rx->out.res.n_branches != rx->n_branches || rx->out.e.n_shards != rx->n_shards ||
		    rx->out.e.n_overlay != rx->n_overlay)
			return malformed("a result that ended before all it declared");
		rx->is_done = true;
		return 1;
	default:
		return malformed("a message that is not part of an index result");
	}
}
