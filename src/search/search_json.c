/* JSON result objects for the CLI and the HTTP API (search_json.h). */
#include "search/search_json.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "query/lang.h"
#include "util/error.h"
#include "util/json.h"

static const char *const kinds[] = { [SEARCH_CONTENT] = "file", [SEARCH_PATH] = "path",
				     [SEARCH_REPO] = "repo", [SEARCH_SYMBOL] = "symbol" };

static int put_ctx_line(struct buf *b, bool is_first, uint64_t lineno, const uint8_t *s, size_t len)
{
	int err;

	if ((err = buf_puts(b, is_first ? "{\"line\":" : ",{\"line\":")) < 0 ||
	    (err = buf_put_u64(b, lineno)) < 0 || (err = buf_puts(b, ",\"text\":")) < 0 ||
	    (err = json_put_string(b, (const char *)s, len, NULL)) < 0)
		return err;
	return buf_putc(b, '}');
}

/*
 * "before" and "after": up to n lines around l, found in the file's content. A line whose text
 * does not lie inside the content (it cannot happen, but the pointers are compared, not
 * trusted) gets empty lists.
 */
static int put_context(struct buf *b, const struct search_file *f, const struct search_line *l,
		       unsigned n)
{
	const uint8_t *c = f->content, *end = c ? c + f->content_len : NULL;
	const uint8_t *starts[16], *p;
	size_t k = 0;
	int err;

	if (n > 16)
		n = 16;
	if ((err = buf_puts(b, ",\"before\":[")) < 0)
		return err;
	if (c && l->text >= c && l->text + l->len <= end) {
		/* Walk back over n line starts, then print them in order. */
		p = l->text;
		while (k < n && p > c) {
			const uint8_t *q = p - 1; /* the '\n' ending the previous line */

			while (q > c && q[-1] != '\n')
				q--;
			starts[k++] = q;
			p = q;
		}
		for (size_t i = k; i-- > 0;) {
			const uint8_t *s = starts[i], *e = memchr(s, '\n', (size_t)(end - s));

			if ((err = put_ctx_line(b, i == k - 1, l->lineno - (i + 1), s,
						(size_t)((e ? e : end) - s))) < 0)
				return err;
		}
	}
	if ((err = buf_puts(b, "],\"after\":[")) < 0)
		return err;
	if (c && l->text >= c && l->text + l->len <= end) {
		p = l->text + l->len; /* at the '\n' (or the end) */
		for (unsigned i = 0; i < n && p < end; i++) {
			const uint8_t *s = p + 1, *e;

			if (s >= end)
				break; /* the file ends with this line's '\n' */
			e = memchr(s, '\n', (size_t)(end - s));
			if ((err = put_ctx_line(b, i == 0, l->lineno + i + 1, s,
						(size_t)((e ? e : end) - s))) < 0)
				return err;
			p = e ? e : end;
		}
	}
	return buf_putc(b, ']');
}

/* "branches": the CLI writes them for git repositories only; the API always (maybe []). */
static int put_branches(struct buf *b, const struct search_file *f, bool is_always)
{
	int err;

	if (!f->n_branches && !is_always)
		return 0;

	if ((err = buf_puts(b, ",\"branches\":[")) < 0)
		return err;
	for (size_t i = 0; i < f->n_branches; i++)
		if ((i && (err = buf_putc(b, ',')) < 0) ||
		    (err = json_put_string(b, f->branches[i], strlen(f->branches[i]), NULL)) < 0)
			return err;
	return buf_putc(b, ']');
}

/* A string field: ,"key":"value", or ,"key":null when there is none. */
static int put_field(struct buf *b, const char *key, const char *v, size_t len)
{
	int err;

	if ((err = buf_puts(b, ",\"")) < 0 || (err = buf_puts(b, key)) < 0 ||
	    (err = buf_puts(b, "\":")) < 0)
		return err;
	return v ? json_put_string(b, v, len, NULL) : buf_puts(b, "null");
}

int search_json_symbol(struct buf *b, const struct search_symbol *y, const char *repo,
		       const char *path, size_t path_len)
{
	enum qsymkind k = query_symkind_of(y->kind, y->kind_len, y->lang, y->lang_len);
	const char *cat = query_symkind_name(k);
	int err;

	if ((err = buf_putc(b, '{')) < 0)
		return err;
	if (repo) {
		if ((err = buf_puts(b, "\"repo\":")) < 0 ||
		    (err = json_put_string(b, repo, strlen(repo), NULL)) < 0 ||
		    (err = put_field(b, "path", path, path_len)) < 0 || (err = buf_putc(b, ',')) < 0)
			return err;
	}
	if ((err = buf_puts(b, "\"line\":")) < 0 || (err = buf_put_u64(b, y->line)) < 0 ||
	    (err = put_field(b, "name", y->name, y->name_len)) < 0 ||
	    (err = put_field(b, "kind", y->kind, y->kind_len)) < 0 ||
	    (err = put_field(b, "symbol_kind", cat, strlen(cat))) < 0 ||
	    (err = put_field(b, "scope", y->scope, y->scope_len)) < 0 ||
	    (err = put_field(b, "scope_kind", y->scope_kind, y->scope_kind_len)) < 0 ||
	    (err = put_field(b, "lang", y->lang, y->lang_len)) < 0 ||
	    (err = put_field(b, "signature", y->signature, y->signature_len)) < 0 ||
	    (err = put_field(b, "text", (const char *)y->text, y->text_len)) < 0)
		return err;
	return buf_putc(b, '}');
}

/* "symbols": a symbol result's symbols (search_json_symbol without repository and path). */
static int put_symbols(struct buf *b, const struct search_file *f)
{
	int err;

	if ((err = buf_puts(b, ",\"matching_symbols\":")) < 0 ||
	    (err = buf_put_u64(b, f->n_symbols)) < 0 || (err = buf_puts(b, ",\"symbols\":[")) < 0)
		return err;
	for (size_t i = 0; i < f->n_symbols; i++)
		if ((i && (err = buf_putc(b, ',')) < 0) ||
		    (err = search_json_symbol(b, &f->symbols[i], NULL, NULL, 0)) < 0)
			return err;
	return buf_puts(b, "]}");
}

int search_json_file(struct buf *b, const struct search_file *f, const struct search_json_opts *jo)
{
	const char *lname = lang_name(f->lang);
	int err;

	if ((err = buf_puts(b, "{\"type\":\"")) < 0 || (err = buf_puts(b, kinds[f->kind])) < 0 ||
	    (err = buf_puts(b, "\",\"repo\":")) < 0 ||
	    (err = json_put_string(b, f->repo, strlen(f->repo), NULL)) < 0)
		return err;
	if (f->kind == SEARCH_REPO)
		return buf_putc(b, '}');
	if ((err = buf_puts(b, ",\"path\":")) < 0 ||
	    (err = json_put_string(b, f->path, f->path_len, NULL)) < 0 ||
	    (err = buf_puts(b, ",\"language\":")) < 0 ||
	    (err = json_put_string(b, lname, strlen(lname), NULL)) < 0)
		return err;
	if ((err = put_branches(b, f, jo != NULL)) < 0)
		return err;
	if (f->kind == SEARCH_PATH)
		return buf_putc(b, '}');
	if (f->kind == SEARCH_SYMBOL)
		return put_symbols(b, f);
	if ((err = buf_puts(b, ",\"matching_lines\":")) < 0 || (err = buf_put_u64(b, f->n_lines)) < 0 ||
	    (err = buf_puts(b, ",\"lines\":[")) < 0)
		return err;
	for (uint64_t i = 0; f->lines && i < f->n_lines; i++) {
		const struct search_line *l = &f->lines[i];

		if ((err = buf_puts(b, i ? ",{\"line\":" : "{\"line\":")) < 0 ||
		    (err = buf_put_u64(b, l->lineno)) < 0 || (err = buf_puts(b, ",\"text\":")) < 0 ||
		    (err = json_put_string(b, (const char *)l->text, l->len, NULL)) < 0 ||
		    (err = buf_puts(b, ",\"ranges\":[")) < 0)
			return err;
		for (size_t k = 0; k < l->n_ranges; k++)
			if ((err = buf_puts(b, k ? ",[" : "[")) < 0 ||
			    (err = buf_put_u64(b, l->ranges[k].start)) < 0 || (err = buf_putc(b, ',')) < 0 ||
			    (err = buf_put_u64(b, l->ranges[k].end)) < 0 || (err = buf_putc(b, ']')) < 0)
				return err;
		if ((err = buf_putc(b, ']')) < 0)
			return err;
		if (jo && jo->context && (err = put_context(b, f, l, jo->context)) < 0)
			return err;
		if ((err = buf_putc(b, '}')) < 0)
			return err;
	}
	return buf_puts(b, "]}");
}

int search_json_summary(struct buf *b, const struct search_stats *st, bool is_typed)
{
	return buf_printf(b,
			  "{%s\"matching_lines\":%llu,\"files\":%llu,"
			  "\"shards_total\":%llu,\"shards_searched\":%llu,\"candidates\":%llu,"
			  "\"bytes_scanned\":%llu,\"elapsed_ms\":%.3f,\"plan_ms\":%.3f,"
			  "\"limit_hit\":%s,\"timeout_hit\":%s%s}",
			  is_typed ? "\"type\":\"summary\"," : "", (unsigned long long)st->lines,
			  (unsigned long long)st->files, (unsigned long long)st->shards_total,
			  (unsigned long long)st->shards_searched, (unsigned long long)st->candidates,
			  (unsigned long long)st->bytes_scanned, st->elapsed_ms, st->plan_ms,
			  st->is_limit_hit || st->is_mem_limit ? "true" : "false",
			  st->is_timeout ? "true" : "false",
			  st->partial_searchers ? ",\"partial\":true" : "");
}

void search_select_init(struct search_select *s, enum qselect select)
{
	*s = (struct search_select){ .select = select };
	buf_init(&s->seen, BUF_MAX_DEFAULT);
}

void search_select_dispose(struct search_select *s)
{
	buf_dispose(&s->seen);
	free(s->slots);
	s->slots = NULL;
}

/*
 * SECURITY: the keys are repository names and paths, which whoever pushes to a repository
 * chooses: an unkeyed hash would let them collide on purpose and make the set a list again.
 * SipHash (libsodium's shorthash) under a key drawn once per process.
 */
static unsigned char hash_key[crypto_shorthash_KEYBYTES];
static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;

static void hash_key_make(void)
{
	randombytes_buf(hash_key, sizeof(hash_key));
}

static uint64_t key_hash(const char *k)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	pthread_once(&hash_key_once, hash_key_make);
	crypto_shorthash(h, (const unsigned char *)k, strlen(k), hash_key);
	memcpy(&v, h, sizeof(v));
	return v;
}

/* The slot of key: the one holding it, or the empty one where it goes. */
static size_t *key_slot(struct search_select *s, const char *key, uint64_t h)
{
	size_t i = (size_t)h & (s->n_slots - 1);

	while (s->slots[i] && strcmp(s->seen.ptr + s->slots[i] - 1, key) != 0)
		i = (i + 1) & (s->n_slots - 1);
	return &s->slots[i];
}

/* Room for one more key (the table at most half full). ENOMEM. */
static int keys_grow(struct search_select *s)
{
	size_t n = s->n_slots ? 2 * s->n_slots : 64, *old = s->slots, old_n = s->n_slots;

	if (2 * (s->n_keys + 1) <= s->n_slots)
		return 0;
	if (!(s->slots = calloc(n, sizeof(*s->slots)))) {
		s->slots = old;
		return TRAWL_ENOMEM;
	}
	s->n_slots = n;
	for (size_t i = 0; i < old_n; i++)
		if (old[i])
			*key_slot(s, s->seen.ptr + old[i] - 1, key_hash(s->seen.ptr + old[i] - 1)) =
				old[i];
	free(old);
	return 0;
}

/*
 * Whether key was seen; remembers it if not. A key that cannot be remembered (out of memory)
 * counts as new: a result shown twice, never one lost. Hashed: select:file over a large
 * corpus meets every file's key, and a scan of the keys seen made that quadratic.
 */
static bool key_seen(struct search_select *s, const char *key, size_t len)
{
	uint64_t h = key_hash(key);
	size_t at;

	if (s->n_slots && *key_slot(s, key, h))
		return true;
	at = s->seen.len;
	if (keys_grow(s) < 0 || buf_put(&s->seen, key, len) < 0)
		return false;
	*key_slot(s, key, h) = at + 1;
	s->n_keys++;
	return false;
}

bool search_select_apply(struct search_select *s, struct search_file *out,
			 const struct search_file *f)
{
	struct buf key;
	bool is_seen;

	*out = *f;
	if (s->select == QS_NONE || s->select == QS_SYMBOL)
		return true; /* select:symbol is a symbol search: its results are symbols already */
	buf_init(&key, 1 << 20);
	if (buf_puts(&key, f->repo) < 0 ||
	    (s->select == QS_FILE &&
	     (buf_putc(&key, '/') < 0 || buf_put(&key, f->path, f->path_len) < 0)) ||
	    buf_putc(&key, 0) < 0) {
		buf_dispose(&key);
		return false;
	}
	is_seen = key_seen(s, key.ptr, key.len);
	buf_dispose(&key);
	out->kind = s->select == QS_REPO ? SEARCH_REPO : SEARCH_PATH;
	out->n_lines = 0;
	out->lines = NULL;
	out->content = NULL;
	out->content_len = 0;
	return !is_seen;
}
