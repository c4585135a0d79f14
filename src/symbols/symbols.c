/* Symbols of a shard: the writer extension and lookups; see symbols.h. */
#include "symbols/symbols.h"

#include <stdlib.h>
#include <string.h>

#include "index/shard_int.h"
#include "util/error.h"

struct symbols_ext {
	struct shard_writer_ext w;
	struct symsec_builder *b;
	struct ctags *ct; /* NULL: symbols are copied (symbols_ext_copy_from) */
	struct symbols_counts counts;
	const struct symsec *src; /* the next document's symbols come from document src_doc */
	uint32_t src_doc;
};

/* A string of a section as the builder takes it (NUL-terminated), in buf. */
static const char *cstr(char *buf, const char *p, size_t len)
{
	if (!p)
		return NULL;
	memcpy(buf, p, len); /* len <= SYMSEC_STR_MAX: the section's reader checked it */
	buf[len] = '\0';
	return buf;
}

/* The copying extension's document: e->src's document e->src_doc, its status and symbols. */
static int copy_doc(struct symbols_ext *e, uint32_t doc)
{
	static const size_t max = SYMSEC_STR_MAX;
	char kind[SYMSEC_STR_MAX + 1], scope_kind[SYMSEC_STR_MAX + 1], lang[SYMSEC_STR_MAX + 1];
	const struct symsec *src = e->src;
	enum symsec_status st = SYMSEC_NOT_PARSED;
	uint32_t first = 0, n = 0;
	int err;

	e->src = NULL; /* one document only: the next one names its own */
	if (src && (err = symsec_doc(&first, &n, &st, src, e->src_doc)) < 0)
		return err;
	if ((err = symsec_builder_doc(e->b, doc, st)) < 0)
		return err;
	for (uint32_t i = first; i < first + n; i++) {
		struct symsec_sym y;
		struct symsec_in in;

		if ((err = symsec_symbol(&y, src, i)) < 0)
			return err;
		if (y.kind_len > max || y.lang_len > max || y.scope_kind_len > max) {
			error_set("section SYMBOLS: a string over %zu bytes", max);
			return TRAWL_ECORRUPT;
		}
		in = (struct symsec_in){
			.name = y.name,
			.name_len = y.name_len,
			.kind = cstr(kind, y.kind, y.kind_len),
			.scope = y.scope,
			.scope_len = y.scope ? y.scope_len : 0,
			.scope_kind = cstr(scope_kind, y.scope_kind, y.scope_kind_len),
			.lang = cstr(lang, y.lang, y.lang_len),
			.signature = y.signature,
			.signature_len = y.signature ? y.signature_len : 0,
			.line = y.line,
		};
		if ((err = symsec_builder_add(e->b, &in)) < 0)
			return err;
	}
	e->counts.files[st <= SYMSEC_STATUS_MAX ? st : SYMSEC_NOT_PARSED]++;
	e->counts.symbols += symsec_builder_doc_count(e->b);
	return 0;
}

static int ext_doc(void *arg, uint32_t doc, const char *path, size_t path_len,
		   const uint8_t *content, size_t content_len, enum doc_skip skip, uint16_t lang)
{
	struct symbols_ext *e = arg;
	enum symsec_status st = SYMSEC_NOT_PARSED;
	int err;

	if (!e->ct)
		return copy_doc(e, doc);

	/* Files ctags has no parser for are not sent: trawl's language detection decides. */
	if (skip != DOC_INDEXED || content_len == 0 || lang == 0)
		return symsec_builder_doc(e->b, doc, SYMSEC_NOT_PARSED);
	if ((err = symsec_builder_doc(e->b, doc, SYMSEC_OK)) < 0 ||
	    (err = ctags_extract(&st, e->ct, e->b, path, path_len, content, content_len)) < 0)
		return err;
	e->counts.files[st]++;
	e->counts.symbols += symsec_builder_doc_count(e->b);
	return 0;
}

static int ext_finish(void *arg, struct buf *out, uint32_t *count, uint32_t n_docs)
{
	struct symbols_ext *e = arg;

	return symsec_builder_finish(e->b, out, count, n_docs);
}

int symbols_ext_new(struct symbols_ext **out, struct ctags *ct)
{
	struct symbols_ext *e = calloc(1, sizeof(*e));
	int err;

	*out = NULL;
	if (!e)
		return error_nomem("collecting symbols");
	if ((err = symsec_builder_new(&e->b)) < 0) {
		free(e);
		return err;
	}
	e->ct = ct;
	e->w = (struct shard_writer_ext){ .id = SEC_SYMBOLS, .doc = ext_doc,
					  .finish = ext_finish, .arg = e };
	*out = e;
	return 0;
}

int symbols_copy_ext_new(struct symbols_ext **out)
{
	return symbols_ext_new(out, NULL);
}

void symbols_ext_copy_from(struct symbols_ext *e, const struct symsec *src, uint32_t doc)
{
	e->src = src;
	e->src_doc = doc;
}

const struct shard_writer_ext *symbols_ext_writer(struct symbols_ext *e)
{
	return &e->w;
}

void symbols_ext_count(const struct symbols_ext *e, struct symbols_counts *counts)
{
	for (size_t i = 0; i <= SYMSEC_STATUS_MAX; i++)
		counts->files[i] += e->counts.files[i];
	counts->symbols += e->counts.symbols;
}

void symbols_ext_free(struct symbols_ext *e)
{
	if (!e)
		return;
	symsec_builder_free(e->b);
	free(e);
}

int symbols_open(struct symsec *s, bool *has, const struct shard *sh)
{
	const uint8_t *p;
	uint64_t len;
	uint32_t count;
	int err;

	*has = false;
	shard_section(&p, &len, &count, sh, SEC_SYMBOLS);
	if (len == 0) {
		*s = (struct symsec){ 0 };
		return 0;
	}
	if ((err = symsec_open(s, p, len, count, shard_n_docs(sh))) < 0) {
		error_prefix("%s", shard_file(sh));
		return err;
	}
	*has = true;
	return 0;
}

int symbols_lookup(const struct shard *sh, const char *pattern, size_t pattern_len,
		   enum symsec_mode mode, symsec_test_fn test, void *test_arg, symsec_match_fn fn,
		   void *arg)
{
	struct symsec s;
	bool has;
	int err;

	if ((err = symbols_open(&s, &has, sh)) < 0 || !has)
		return err;
	err = symsec_lookup(&s, pattern, pattern_len, mode, test, test_arg, fn, arg);
	if (err == TRAWL_ECORRUPT)
		error_prefix("%s", shard_file(sh));
	return err;
}
