/*
 * The searcher's answer on the wire (cluster.h): binary, so that bytes of any file (invalid
 * UTF-8 included) and match ranges arrive exactly as the search found them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "util/error.h"
#include "util/varint.h"

/* ---- encoding ---- */

/* A string: 0 for NULL, else its length + 1, then the bytes and a NUL. */
static int put_str(struct buf *b, const void *s, size_t len)
{
	int err;

	if (!s)
		return buf_put_uvarint(b, 0);
	if ((err = buf_put_uvarint(b, (uint64_t)len + 1)) < 0 || (err = buf_put(b, s, len)) < 0)
		return err;
	return buf_putc(b, 0);
}

static int put_double(struct buf *b, double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return buf_put_u64le(b, u);
}

/*
 * f's content with every line farther than context from a matching line emptied; its length
 * is written first. offs[k] gets matching line k's offset there. The matching lines are in
 * line order (the search's), each text at its line's start.
 */
static int put_content(struct buf *b, const struct search_file *f, unsigned context,
		       size_t *offs)
{
	const uint8_t *c = f->content, *end = c + f->content_len;
	uint64_t lineno = 1;
	size_t k = 0, j = 0, n = 0, mark;
	int err;

	/* The length is known only at the end: reserve a fixed 10-byte varint. */
	if ((err = buf_reserve(b, VARINT_MAX)) < 0)
		return err;
	mark = b->len;
	b->len += VARINT_MAX;
	for (const uint8_t *p = c; p < end; lineno++) {
		const uint8_t *e = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((e ? e : end) - p);
		bool is_kept;

		while (k < f->n_lines && f->lines[k].lineno + context < lineno)
			k++;
		is_kept = k < f->n_lines && f->lines[k].lineno <= lineno + context;
		for (; j < f->n_lines && f->lines[j].lineno <= lineno; j++)
			offs[j] = n + (size_t)(f->lines[j].text - p);
		if (is_kept && (err = buf_put(b, p, len)) < 0)
			return err;
		n += is_kept ? len : 0;
		if (e && (err = buf_putc(b, '\n')) < 0)
			return err;
		n += e != NULL;
		p = e ? e + 1 : end;
	}
	if ((err = buf_putc(b, 0)) < 0)
		return err;
	/* The padded varint: continuation bits on the first nine bytes. */
	for (size_t i = 0; i < VARINT_MAX; i++) {
		uint64_t v = (uint64_t)n + 1;

		b->ptr[mark + i] = (char)((v >> (7 * i) & 0x7f) | (i + 1 < VARINT_MAX ? 0x80 : 0));
	}
	return 0;
}

static int put_symbol(struct buf *b, const struct search_symbol *s)
{
	int err;

	if ((err = put_str(b, s->name, s->name_len)) < 0 ||
	    (err = put_str(b, s->kind, s->kind_len)) < 0 ||
	    (err = put_str(b, s->scope, s->scope_len)) < 0 ||
	    (err = put_str(b, s->scope_kind, s->scope_kind_len)) < 0 ||
	    (err = put_str(b, s->lang, s->lang_len)) < 0 ||
	    (err = put_str(b, s->signature, s->signature_len)) < 0 ||
	    (err = buf_put_uvarint(b, s->line)) < 0 || (err = put_str(b, s->text, s->text_len)) < 0)
		return err;
	return put_double(b, s->score);
}

int cluster_wire_begin(struct buf *b)
{
	return buf_puts(b, CLUSTER_WIRE_MAGIC);
}

static int put_file(struct buf *b, const struct search_file *f, unsigned context,
		    bool has_content, size_t *offs);

int cluster_wire_put_file(struct buf *b, const struct search_file *f, unsigned context)
{
	bool has_content = context > 0 && f->content && f->lines;
	size_t *offs = NULL;
	int err;

	/*
	 * The line texts must lie in the content, in line order, each on its own line, to be
	 * sent as offsets (search_json's check); else the file goes without context.
	 */
	for (size_t i = 0; has_content && i < f->n_lines; i++) {
		const uint8_t *t = f->lines[i].text;

		has_content = t >= f->content && t + f->lines[i].len <= f->content + f->content_len &&
			      (t == f->content || t[-1] == '\n') &&
			      !memchr(t, '\n', f->lines[i].len) &&
			      (i == 0 || f->lines[i].lineno > f->lines[i - 1].lineno);
	}
	if (has_content && !(offs = calloc(f->n_lines ? f->n_lines : 1, sizeof(*offs))))
		return error_nomem(NULL);
	err = put_file(b, f, context, has_content, offs);
	free(offs);
	return err;
}

static int put_file(struct buf *b, const struct search_file *f, unsigned context,
		    bool has_content, size_t *offs)
{
	int err;

	if ((err = buf_putc(b, 'F')) < 0 || (err = buf_put_uvarint(b, f->kind)) < 0 ||
	    (err = buf_put_uvarint(b, f->lang)) < 0 || (err = put_double(b, f->score)) < 0 ||
	    (err = put_str(b, f->repo, strlen(f->repo))) < 0 ||
	    (err = put_str(b, f->path, f->path_len)) < 0 ||
	    (err = buf_put_uvarint(b, f->n_branches)) < 0)
		return err;
	for (size_t i = 0; i < f->n_branches; i++)
		if ((err = put_str(b, f->branches[i], strlen(f->branches[i]))) < 0)
			return err;
	if ((err = buf_putc(b, has_content)) < 0 ||
	    (has_content && (err = put_content(b, f, context, offs)) < 0) ||
	    (err = buf_put_uvarint(b, f->n_lines)) < 0 || (err = buf_putc(b, f->lines != NULL)) < 0)
		return err;
	for (size_t i = 0; f->lines && i < f->n_lines; i++) {
		const struct search_line *l = &f->lines[i];

		if ((err = buf_put_uvarint(b, l->lineno)) < 0)
			return err;
		if (has_content)
			err = buf_put_uvarint(b, offs[i]) < 0 ? TRAWL_ENOMEM
							       : buf_put_uvarint(b, l->len);
		else
			err = put_str(b, l->text, l->len);
		if (err < 0 || (err = buf_put_uvarint(b, l->ranges ? l->n_ranges : 0)) < 0)
			return err;
		for (size_t r = 0; l->ranges && r < l->n_ranges; r++)
			if ((err = buf_put_uvarint(b, l->ranges[r].start)) < 0 ||
			    (err = buf_put_uvarint(b, l->ranges[r].end)) < 0)
				return err;
	}
	if ((err = buf_put_uvarint(b, f->symbols ? f->n_symbols : 0)) < 0)
		return err;
	for (size_t i = 0; f->symbols && i < f->n_symbols; i++)
		if ((err = put_symbol(b, &f->symbols[i])) < 0)
			return err;
	return 0;
}

int cluster_wire_put_stats(struct buf *b, const struct search_stats *st)
{
	unsigned flags = (unsigned)st->is_limit_hit | (unsigned)st->is_timeout << 1 |
			 (unsigned)st->is_mem_limit << 2 | (unsigned)st->is_canceled << 3 |
			 (unsigned)st->is_repo_none << 4;
	int err;

	if ((err = buf_putc(b, 'S')) < 0 || (err = buf_put_uvarint(b, st->lines)) < 0 ||
	    (err = buf_put_uvarint(b, st->files)) < 0 ||
	    (err = buf_put_uvarint(b, st->shards_total)) < 0 ||
	    (err = buf_put_uvarint(b, st->shards_searched)) < 0 ||
	    (err = buf_put_uvarint(b, st->candidates)) < 0 ||
	    (err = buf_put_uvarint(b, st->bytes_scanned)) < 0 ||
	    (err = buf_put_uvarint(b, flags)) < 0 || (err = buf_put_uvarint(b, st->mem_peak)) < 0 ||
	    (err = put_double(b, st->elapsed_ms)) < 0 || (err = put_double(b, st->plan_ms)) < 0 ||
	    (err = buf_put_uvarint(b, st->rev_missing)) < 0 ||
	    (err = put_str(b, st->rev_warning, strlen(st->rev_warning))) < 0 ||
	    (err = buf_put_uvarint(b, st->symbols_missing)) < 0)
		return err;
	return put_str(b, st->symbols_warning, strlen(st->symbols_warning));
}

int cluster_wire_put_progress(struct buf *b, const struct cluster_progress *p)
{
	int err;

	if ((err = buf_putc(b, 'P')) < 0 || (err = buf_put_uvarint(b, p->lines)) < 0 ||
	    (err = buf_put_uvarint(b, p->files)) < 0)
		return err;
	return buf_put_uvarint(b, p->shards);
}

int cluster_wire_put_error(struct buf *b, int err, size_t pos, const char *msg)
{
	int e;

	if ((e = buf_putc(b, 'E')) < 0 || (e = buf_put_uvarint(b, (uint64_t)-err)) < 0 ||
	    (e = buf_put_uvarint(b, pos == (size_t)-1 ? 0 : (uint64_t)pos + 1)) < 0)
		return e;
	return put_str(b, msg, strlen(msg));
}

/* ---- decoding ---- */

struct rd {
	const uint8_t *p, *end;
	size_t used, max; /* bytes the decoded answer holds, and the most it may */
};

static int bad(const char *what)
{
	error_set("a searcher's answer is malformed (%s)", what);
	return TRAWL_ECORRUPT;
}

static int get_u(uint64_t *out, struct rd *r)
{
	return varint_get(out, &r->p, r->end) < 0 ? bad("a number") : 0;
}

/* A count of elements at least min_bytes long each: bounded by the bytes left. */
static int get_count(size_t *out, struct rd *r, size_t min_bytes)
{
	uint64_t v;
	int err;

	if ((err = get_u(&v, r)) < 0)
		return err;
	if (v > (uint64_t)(r->end - r->p) / min_bytes)
		return bad("a count");
	*out = (size_t)v;
	return 0;
}

static int get_str(const char **out, size_t *len, struct rd *r)
{
	uint64_t v;
	int err;

	if ((err = get_u(&v, r)) < 0)
		return err;
	if (v == 0) {
		*out = NULL;
		*len = 0;
		return 0;
	}
	if (v - 1 >= (uint64_t)(r->end - r->p) || r->p[v - 1] != 0)
		return bad("a string");
	*out = (const char *)r->p;
	*len = (size_t)(v - 1);
	r->p += v;
	return 0;
}

/*
 * SECURITY: counts n elements of size bytes against the caller's budget: a line takes three
 * bytes on the wire and 40 decoded, so an answer's size alone would let a compromised searcher
 * make a frontend hold 13 times its --query-memory per searcher (attack s31). ECORRUPT, ENOMEM.
 */
static int rd_take(struct rd *r, size_t n, size_t size)
{
	if (n > (r->max - r->used) / size) {
		error_set("a searcher's answer is malformed (it decodes larger than --query-memory, "
			  "%zu bytes)",
			  r->max);
		return TRAWL_ECORRUPT;
	}
	r->used += n * size;
	return 0;
}

/* n zeroed elements of size bytes (n > 0) within r's budget (rd_take), or NULL and *err. */
static void *rd_calloc(struct rd *r, size_t n, size_t size, int *err)
{
	void *p;

	if ((*err = rd_take(r, n, size)) < 0)
		return NULL;
	if (!(p = calloc(n, size)))
		*err = error_nomem(NULL);
	return p;
}

static int get_double(double *out, struct rd *r)
{
	uint64_t u = 0;

	if (r->end - r->p < 8)
		return bad("a number");
	for (int i = 7; i >= 0; i--)
		u = u << 8 | r->p[i];
	r->p += 8;
	memcpy(out, &u, sizeof(*out));
	return 0;
}

/*
 * A score: any double but NaN, which would make the merge's orders (cluster.c, cmp_pick and
 * cmp_sym_pick) inconsistent, and qsort's behaviour with them undefined.
 */
static int get_score(double *out, struct rd *r)
{
	int err = get_double(out, r);

	return err < 0 ? err : isnan(*out) ? bad("a score") : 0;
}

static int get_byte(uint8_t *out, struct rd *r)
{
	if (r->p >= r->end)
		return bad("truncated");
	*out = *r->p++;
	return 0;
}

static void file_dispose(struct search_file *f)
{
	for (size_t i = 0; f->lines && i < f->n_lines; i++)
		free((void *)f->lines[i].ranges);
	free((void *)f->lines);
	free((void *)f->branches);
	free((void *)f->symbols);
}

static int get_symbol(struct search_symbol *s, struct rd *r)
{
	const char *text;
	int err;

	if ((err = get_str(&s->name, &s->name_len, r)) < 0 ||
	    (err = get_str(&s->kind, &s->kind_len, r)) < 0 ||
	    (err = get_str(&s->scope, &s->scope_len, r)) < 0 ||
	    (err = get_str(&s->scope_kind, &s->scope_kind_len, r)) < 0 ||
	    (err = get_str(&s->lang, &s->lang_len, r)) < 0 ||
	    (err = get_str(&s->signature, &s->signature_len, r)) < 0 ||
	    (err = get_u(&s->line, r)) < 0 || (err = get_str(&text, &s->text_len, r)) < 0)
		return err;
	s->text = (const uint8_t *)text;
	return get_score(&s->score, r);
}

static int get_line(struct search_line *l, struct rd *r, const struct search_file *f,
		    bool has_content)
{
	struct match_range *ranges;
	uint64_t off, len;
	size_t n;
	int err;

	if ((err = get_u(&l->lineno, r)) < 0)
		return err;
	if (has_content) {
		if ((err = get_u(&off, r)) < 0 || (err = get_u(&len, r)) < 0)
			return err;
		if (off > f->content_len || len > f->content_len - off)
			return bad("a line's offset");
		l->text = f->content + off;
		l->len = (size_t)len;
	} else {
		const char *t;

		if ((err = get_str(&t, &l->len, r)) < 0)
			return err;
		l->text = (const uint8_t *)t;
	}
	if ((err = get_count(&n, r, 2)) < 0)
		return err;
	if (n == 0)
		return 0;
	if (!(ranges = rd_calloc(r, n, sizeof(*ranges), &err)))
		return err;
	l->ranges = ranges;
	l->n_ranges = n;
	for (size_t i = 0; i < n; i++) {
		uint64_t a, b;

		if ((err = get_u(&a, r)) < 0 || (err = get_u(&b, r)) < 0)
			return err;
		if (a > b || b > l->len)
			return bad("a match range");
		ranges[i] = (struct match_range){ (uint32_t)a, (uint32_t)b };
	}
	return 0;
}

static int get_file(struct search_file *f, struct rd *r)
{
	const char *s, **branches = NULL;
	uint64_t kind, lang;
	uint8_t has_content, has_lines;
	size_t len, n;
	int err;

	if ((err = get_u(&kind, r)) < 0 || (err = get_u(&lang, r)) < 0 ||
	    (err = get_score(&f->score, r)) < 0 || (err = get_str(&f->repo, &len, r)) < 0 ||
	    (err = get_str(&f->path, &f->path_len, r)) < 0 || (err = get_count(&n, r, 1)) < 0)
		return err;
	if (kind > SEARCH_SYMBOL || lang > UINT16_MAX || !f->repo || !f->path)
		return bad("a file");
	f->kind = (enum search_kind)kind;
	f->lang = (uint16_t)lang;
	if (n && !(f->branches = branches = rd_calloc(r, n, sizeof(*branches), &err)))
		return err;
	for (size_t i = 0; i < n; i++, f->n_branches++)
		if ((err = get_str(&branches[i], &len, r)) < 0 || !branches[i])
			return err < 0 ? err : bad("a branch");
	if ((err = get_byte(&has_content, r)) < 0)
		return err;
	if (has_content && ((err = get_str(&s, &f->content_len, r)) < 0 || !s))
		return err < 0 ? err : bad("the content");
	if (has_content)
		f->content = (const uint8_t *)s;
	if ((err = get_u(&f->n_lines, r)) < 0 || (err = get_byte(&has_lines, r)) < 0)
		return err;
	if (has_lines) {
		struct search_line *lines = NULL;

		if (f->n_lines > (uint64_t)(r->end - r->p) / 3)
			return bad("a count");
		if (f->n_lines &&
		    !(f->lines = lines = rd_calloc(r, f->n_lines, sizeof(*lines), &err)))
			return err;
		for (size_t i = 0; i < f->n_lines; i++)
			if ((err = get_line(&lines[i], r, f, has_content)) < 0)
				return err;
	}
	if ((err = get_count(&n, r, 16)) < 0)
		return err;
	if (n) {
		struct search_symbol *syms;

		if (!(f->symbols = syms = rd_calloc(r, n, sizeof(*syms), &err)))
			return err;
		f->n_symbols = n;
		for (size_t i = 0; i < n; i++)
			if ((err = get_symbol(&syms[i], r)) < 0)
				return err;
	}
	return 0;
}

static int get_stats(struct search_stats *st, struct rd *r)
{
	uint64_t flags;
	const char *s;
	size_t len;
	int err;

	memset(st, 0, sizeof(*st));
	if ((err = get_u(&st->lines, r)) < 0 || (err = get_u(&st->files, r)) < 0 ||
	    (err = get_u(&st->shards_total, r)) < 0 || (err = get_u(&st->shards_searched, r)) < 0 ||
	    (err = get_u(&st->candidates, r)) < 0 || (err = get_u(&st->bytes_scanned, r)) < 0 ||
	    (err = get_u(&flags, r)) < 0 || (err = get_u(&st->mem_peak, r)) < 0 ||
	    (err = get_double(&st->elapsed_ms, r)) < 0 || (err = get_double(&st->plan_ms, r)) < 0 ||
	    (err = get_u(&st->rev_missing, r)) < 0 || (err = get_str(&s, &len, r)) < 0)
		return err;
	snprintf(st->rev_warning, sizeof(st->rev_warning), "%s", s ? s : "");
	if ((err = get_u(&st->symbols_missing, r)) < 0 || (err = get_str(&s, &len, r)) < 0)
		return err;
	snprintf(st->symbols_warning, sizeof(st->symbols_warning), "%s", s ? s : "");
	st->is_limit_hit = flags & 1;
	st->is_timeout = flags & 2;
	st->is_mem_limit = flags & 4;
	st->is_canceled = flags & 8;
	st->is_repo_none = flags & 16;
	return 0;
}

int cluster_wire_decode(struct cluster_answer *out, const uint8_t *body, size_t len,
			size_t max_mem)
{
	struct rd r = { body + sizeof(CLUSTER_WIRE_MAGIC) - 1, body + len, 0, max_mem };
	size_t cap = 0;
	int err;

	memset(out, 0, sizeof(*out));
	out->err_pos = (size_t)-1;
	if (len < sizeof(CLUSTER_WIRE_MAGIC) - 1 ||
	    memcmp(body, CLUSTER_WIRE_MAGIC, sizeof(CLUSTER_WIRE_MAGIC) - 1) != 0)
		return bad("not a searcher's answer");
	while (r.p < r.end && !out->has_stats && !out->err) {
		uint8_t tag = *r.p++;

		if (tag == 'F') {
			if (out->n_files == cap) {
				size_t c2 = cap ? 2 * cap : 64;
				struct search_file *v;

				/* The array's growth is counted (its old part was). */
				if ((err = rd_take(&r, c2 - cap, sizeof(*v))) < 0)
					return err;
				if (!(v = realloc(out->files, c2 * sizeof(*v))))
					return error_nomem(NULL);
				out->files = v;
				cap = c2;
			}
			memset(&out->files[out->n_files], 0, sizeof(*out->files));
			err = get_file(&out->files[out->n_files++], &r);
		} else if (tag == 'P') {
			if ((err = get_u(&out->progress.lines, &r)) == 0 &&
			    (err = get_u(&out->progress.files, &r)) == 0)
				err = get_u(&out->progress.shards, &r);
		} else if (tag == 'S') {
			err = get_stats(&out->stats, &r);
			out->has_stats = err == 0;
		} else if (tag == 'E') {
			uint64_t code, pos;
			size_t mlen;

			if ((err = get_u(&code, &r)) < 0 || (err = get_u(&pos, &r)) < 0 ||
			    (err = get_str(&out->err_msg, &mlen, &r)) < 0)
				return err;
			if (code == 0 || code > 100 || !out->err_msg)
				return bad("an error");
			out->err = -(int)code;
			out->err_pos = pos ? (size_t)(pos - 1) : (size_t)-1;
		} else {
			return bad("a record");
		}
		if (err < 0)
			return err;
	}
	if (r.p != r.end || (!out->has_stats && !out->err))
		return bad("truncated or trailing bytes");
	return 0;
}

void cluster_answer_dispose(struct cluster_answer *a)
{
	for (size_t i = 0; i < a->n_files; i++)
		file_dispose(&a->files[i]);
	free(a->files);
	memset(a, 0, sizeof(*a));
}
