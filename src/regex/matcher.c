/*
 * Vectorscan-backed matcher; see matcher.h for the design.
 */
#include "regex/matcher.h"
#include "regex/matcher_int.h"

#include <dlfcn.h>
#include <hs/hs.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "regex/dbcache.h"
#include "regex/hscompile.h"
#include "regex/hsfix.h"
#include "regex/substr.h"
#include "regex/verify.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/utf8.h"

#define MAX_SCRATCH_DBS 16
#define MAX_WIDE_FORMS 4 /* k and s are the only ASCII letters with forms outside ASCII */
#define MAX_LINE_MATCHES 4096

enum db_kind { DB_LINES = 0, DB_SOM = 1 };

struct db_slot {
	_Atomic(hs_database_t *) db;
	unsigned id;     /* process-unique, for scratch bookkeeping */
	bool is_failed;  /* compilation was tried and failed */
	bool is_never;   /* nothing in this text class can match: no database */
	bool is_superset; /* the database finds more lines than match: verify them (verify.h) */
	int err;
	char msg[256];
};

struct matcher {
	const struct regex *re;
	pthread_mutex_t lock;
	struct db_slot slot[2][MATCHER_N_TEXT];
	/*
	 * A plain literal pattern (the most common query) is found with substr_find(): no
	 * database to compile (half a millisecond or more per text class) and a literal's bytes
	 * mean the same in every text class.
	 */
	char *lit;
	size_t lit_len;
	unsigned lit_flags; /* enum regex_literal_flags */
	/*
	 * substr_find() beats both glibc's memmem() and Vectorscan on text full of near-misses
	 * (bench/design-measurements.md), so it serves the whole search.
	 */
	struct substr lit_find;
	/*
	 * A wide literal (REGEX_LITERAL_WIDE, regex/litfold.c): the UTF-8 of the forms outside
	 * ASCII its letters fold to. Text holding none of them is searched as the ASCII literal;
	 * other text (rare in source code) through the databases, as any pattern.
	 */
	uint8_t wide[MAX_WIDE_FORMS][4];
	size_t wide_len[MAX_WIDE_FORMS];
	size_t n_wide;
	struct substr wide_find[MAX_WIDE_FORMS];
	/*
	 * A string every match contains (regex_required_literal), at least REQ_MIN_LEN bytes:
	 * lines are found by substr_find() and only the lines holding it are handed to
	 * Vectorscan, as ripgrep verifies candidate lines of its inner literal. NULL when none.
	 */
	char *req;
	size_t req_len;
	struct substr req_find;
	/*
	 * A longer required string with k and s in it (regex_required_literal_wide), or NULL: the
	 * prefilter while the text passed is ASCII, req (or nothing) from the first byte above 0x7f.
	 */
	char *wreq;
	size_t wreq_len;
	struct substr wreq_find;
	/*
	 * The exact line verifier, built with the first database that finds a superset of the
	 * lines (REGEX_EMIT_VERIFY), before that database is published.
	 */
	struct verifier *verifier;
};

struct one_scratch {
	hs_scratch_t *hs;
	unsigned ids[MAX_SCRATCH_DBS];
	size_t n_ids;
};

/*
 * Two Vectorscan scratches: match ranges are computed from inside the line scan's callback,
 * and a scratch cannot serve two scans at once (HS_SCRATCH_IN_USE).
 */
struct matcher_scratch {
	struct one_scratch lines;
	struct one_scratch ranges;
	double deadline_ms; /* for databases compiled while scanning (matcher_scratch_set_deadline) */
};

/* Compilations slower than this are worth keeping in the on-disk cache (dbcache.h). */
#define CACHE_MIN_COMPILE_MS 3.0

static atomic_uint next_db_id = 1;

/*
 * EXACTNESS: Vectorscan 5.4.9's AVX-512 and AVX2 scan code miss matches (`q.` lost matches in
 * 77 of 173 headers of /usr/include with AVX-512; `^\s*$` lost the last empty line of a file
 * with AVX2); its SSE4.2 ("corei7") code found them all, at a similar speed (docs/regex.md).
 * The library's dispatcher picks the widest code the CPU has, so we compile for the baseline
 * platform and call the exported SSE4.2 entry point ourselves. TRAWL_HS_NATIVE=1 restores the
 * library's choice, to check a fixed Vectorscan.
 */
typedef hs_error_t (*scan_fn)(const hs_database_t *db, const char *data, unsigned len,
			      unsigned flags, hs_scratch_t *scratch, match_event_handler fn,
			      void *ctx);

static scan_fn engine_scan = hs_scan;
static hs_platform_info_t engine_platform;
static const hs_platform_info_t *engine_platform_ptr; /* NULL: the host's */
static unsigned engine_cache_tag;                       /* keeps cached databases apart */
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static void engine_pick(void)
{
	const char *native = getenv("TRAWL_HS_NATIVE");
	void *sse42;

	/* SECURITY: before any scan: Vectorscan's scan could read past a text and abort (hsfix.h). */
	if (!hsfix_apply())
		fprintf(stderr, "trawl: warning: %s: a scan may read past its text\n", error_last());
	if ((native && strcmp(native, "1") == 0) || !__builtin_cpu_supports("avx2"))
		return; /* without AVX2 the dispatcher already uses the SSE code */
	sse42 = dlsym(RTLD_DEFAULT, "corei7_hs_scan");
	if (!sse42 || !__builtin_cpu_supports("sse4.2") ||
	    hs_populate_platform(&engine_platform) != HS_SUCCESS)
		return;
	engine_platform.cpu_features = 0;
	engine_platform_ptr = &engine_platform;
	memcpy(&engine_scan, &sse42, sizeof(engine_scan)); /* object to function pointer */
	engine_cache_tag = 1u << 29;
}

/* Whether trawl avoids Vectorscan's AVX2/AVX-512 scan code on this machine. */
bool matcher_avoids_wide_simd(void)
{
	pthread_once(&engine_once, engine_pick);
	return engine_platform_ptr != NULL;
}

static enum regex_dialect dialect_of(enum matcher_text text)
{
	switch (text) {
	case MATCHER_TEXT_ASCII: return REGEX_DIALECT_ASCII;
	case MATCHER_TEXT_UTF8: return REGEX_DIALECT_UTF8;
	default: return REGEX_DIALECT_BYTES;
	}
}

static int compile_error(const char *hs_msg)
{
	if (strstr(hs_msg, "never match"))
		return REGEX_EMIT_NEVER; /* e.g. x\by: no line matches, as in ripgrep */
	if (strstr(hs_msg, "Embedded")) {
		error_set("an anchor inside the pattern that is not at a line edge (`^` after "
			  "something that may consume text, or `$` before it) is not supported; "
			  "write the alternatives out, e.g. (^a|ba) instead of (^|b)a");
		return TRAWL_EUNSUPPORTED;
	}
	if (strstr(hs_msg, "too large") || strstr(hs_msg, "Resource limit"))  {
		error_set("pattern too complex for the matcher: %s", hs_msg);
		return TRAWL_ELIMIT;
	}
	error_set("pattern not supported by the matcher: %s", hs_msg);
	return TRAWL_EUNSUPPORTED;
}

/*
 * Patterns whose compile weight (regex.h) reaches this are compiled in a helper process under
 * time and memory limits (hscompile.h); lighter ones compile here, which saves the helper's
 * start (docs/regex.md, "Limits on what a pattern may cost").
 */
#define ISOLATE_MIN_WEIGHT 256

static int compile(hs_database_t **out, bool *is_superset, const struct regex *re,
		   enum matcher_text text, enum db_kind kind, double deadline_ms)
{
	bool is_isolated = regex_compile_weight(re) >= ISOLATE_MIN_WEIGHT;
	struct buf pat;
	unsigned flags = 0;
	char msg[256];
	double t0;
	int err;

	*out = NULL;
	buf_init(&pat, 1 << 24);
	err = regex_emit(&pat, &flags, re, dialect_of(text), kind == DB_LINES ? REGEX_EMIT_LINES : 0);
	*is_superset = err == REGEX_EMIT_VERIFY;
	if (err == REGEX_EMIT_VERIFY)
		err = 0;
	if (err != 0)
		goto out; /* an error, or REGEX_EMIT_NEVER */
	if (kind == DB_SOM)
		flags |= HS_FLAG_SOM_LEFTMOST;
	if (!pat.ptr && (err = buf_reserve(&pat, 1)) < 0)
		goto out;
	pthread_once(&engine_once, engine_pick);
	if ((*out = dbcache_mem_get(pat.ptr, pat.len, flags | engine_cache_tag)) != NULL)
		goto out;
	if ((*out = dbcache_load(pat.ptr, pat.len, flags | engine_cache_tag)) != NULL)
		goto shared;
	t0 = clock_now_ms();
	err = hscompile_run(out, msg, sizeof(msg), pat.ptr, flags, engine_platform_ptr, is_isolated,
			    deadline_ms);
	if (err == HSCOMPILE_REFUSED && text == MATCHER_TEXT_BYTES &&
	    (strstr(msg, "length exceeds") || strstr(msg, "too large"))) {
		/*
		 * Big Unicode classes written as byte sequences can exceed Vectorscan's limits.
		 * Fall back to the UTF-8 database, which reads some invalid sequences (an encoded
		 * surrogate) as characters: its lines are verified (REGEX_EMIT_INVALID_TEXT).
		 */
		err = regex_emit(&pat, &flags, re, REGEX_DIALECT_UTF8,
				 kind == DB_LINES ? REGEX_EMIT_LINES | REGEX_EMIT_INVALID_TEXT : 0);
		*is_superset = err == REGEX_EMIT_VERIFY;
		if (err == REGEX_EMIT_VERIFY)
			err = 0;
		if (err != 0)
			goto out;
		if (kind == DB_SOM)
			flags |= HS_FLAG_SOM_LEFTMOST;
		err = hscompile_run(out, msg, sizeof(msg), pat.ptr, flags, engine_platform_ptr,
				    is_isolated, deadline_ms);
	}
	if (err == HSCOMPILE_REFUSED)
		err = compile_error(msg);
	if (err != 0)
		goto out;
	if (clock_now_ms() - t0 > CACHE_MIN_COMPILE_MS) {
		dbcache_store(pat.ptr, pat.len, flags | engine_cache_tag, *out);
	}
shared:
	*out = dbcache_mem_put(pat.ptr, pat.len, flags | engine_cache_tag, *out);
out:
	buf_dispose(&pat);
	return err;
}

/*
 * The database for (kind, text), compiled on first use; thread-safe. Returns 1 with *out NULL
 * when nothing in that text class can match.
 */
static int get_db(hs_database_t **out, unsigned *id, struct matcher *m, enum db_kind kind,
		  enum matcher_text text, double deadline_ms)
{
	struct db_slot *s = &m->slot[kind][text];
	hs_database_t *db = atomic_load_explicit(&s->db, memory_order_acquire);
	int err = 0;

	if (db) {
		*out = db;
		*id = s->id;
		return 0;
	}
	pthread_mutex_lock(&m->lock);
	db = atomic_load_explicit(&s->db, memory_order_relaxed);
	if (s->is_never) {
		pthread_mutex_unlock(&m->lock);
		*out = NULL;
		return 1;
	}
	if (!db && !s->is_failed) {
		err = compile(&db, &s->is_superset, m->re, text, kind, deadline_ms);
		if (err == 0 && s->is_superset && !m->verifier &&
		    (err = verifier_new(&m->verifier, m->re)) < 0) {
			dbcache_release(db);
			db = NULL;
		}
		if (err == REGEX_EMIT_NEVER) {
			s->is_never = true;
			pthread_mutex_unlock(&m->lock);
			*out = NULL;
			return 1;
		}
		if (err == TRAWL_ETIMEOUT) {
			/* The caller's deadline, not the pattern's fault: the next caller tries again. */
			pthread_mutex_unlock(&m->lock);
			*out = NULL;
			return err;
		}
		if (err < 0) {
			s->is_failed = true;
			s->err = err;
			snprintf(s->msg, sizeof(s->msg), "%s", error_last());
		} else {
			s->id = atomic_fetch_add(&next_db_id, 1);
			atomic_store_explicit(&s->db, db, memory_order_release);
		}
	}
	if (!db) {
		err = s->err;
		error_set("%s", s->msg);
	}
	*id = s->id;
	pthread_mutex_unlock(&m->lock);
	*out = db;
	return err;
}

/*
 * Shorter strings are left to Vectorscan, whose own literal search is as quick and which
 * scans a document in one call.
 */
#define REQ_MIN_LEN 3

/* Sets up the required-literal prefilter when the pattern has a string worth it. ENOMEM. */
static int req_init(struct matcher *m)
{
	struct buf req;
	bool is_icase;
	int err;

	buf_init(&req, REGEX_MAX_LEN * 4);
	if ((err = regex_required_literal(&req, &is_icase, m->re)) == 0 && req.len >= REQ_MIN_LEN) {
		m->req = buf_detach(&req, &m->req_len);
		substr_init(&m->req_find, (const uint8_t *)m->req, m->req_len, is_icase);
	}
	if (err == 0 && (err = regex_required_literal_wide(&req, m->re)) == 0 &&
	    req.len >= REQ_MIN_LEN && req.len > m->req_len) {
		m->wreq = buf_detach(&req, &m->wreq_len);
		substr_init(&m->wreq_find, (const uint8_t *)m->wreq, m->wreq_len, true);
	}
	buf_dispose(&req);
	return err;
}

/*
 * Sets up the literal search when the pattern is a literal (1), wide or not; 0 when it is not
 * one, or a wide one whose forms do not fit (then it is matched as any pattern). ENOMEM.
 */
static int lit_init(struct matcher *m)
{
	struct buf lit;
	int r;

	buf_init(&lit, REGEX_MAX_LEN * 4);
	r = regex_literal(&lit, &m->lit_flags, m->re);
	if (r == 0)
		r = regex_literal_wide(&lit, &m->lit_flags, m->re);
	if (r == 1 && lit.len > 0 && (m->lit_flags & REGEX_LITERAL_WIDE)) {
		m->n_wide = regex_literal_wide_forms(m->wide, m->wide_len, MAX_WIDE_FORMS,
						     (const uint8_t *)lit.ptr, lit.len);
		if (m->n_wide > MAX_WIDE_FORMS) {
			m->n_wide = 0;
			m->lit_flags = 0;
			r = 0;
		}
		for (size_t i = 0; i < m->n_wide; i++)
			substr_init(&m->wide_find[i], m->wide[i], m->wide_len[i], false);
	}
	if (r == 1 && lit.len > 0) {
		m->lit = buf_detach(&lit, &m->lit_len);
		substr_init(&m->lit_find, (const uint8_t *)m->lit, m->lit_len,
			    m->lit_flags & REGEX_LITERAL_ICASE);
		return 1;
	}
	buf_dispose(&lit);
	return r < 0 ? r : 0;
}

int matcher_new(struct matcher **out, const struct regex *re, double deadline_ms)
{
	struct matcher *m;
	hs_database_t *db;
	unsigned id;
	int err;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return error_nomem(NULL);
	m->re = re;
	pthread_mutex_init(&m->lock, NULL);
	if ((err = lit_init(m)) < 0) {
		matcher_free(m);
		return err;
	}
	if (err == 1 && !m->n_wide) {
		*out = m;
		return 0;
	}
	if (err == 1) {
		/* A wide literal: databases only for text that holds a wide form, compiled then. */
		if ((err = req_init(m)) < 0) {
			matcher_free(m);
			return err;
		}
		*out = m;
		return 0;
	}
	if ((err = get_db(&db, &id, m, DB_LINES, MATCHER_TEXT_ASCII, deadline_ms)) < 0 ||
	    (err = req_init(m)) < 0) {
		matcher_free(m);
		return err;
	}
	*out = m;
	return 0;
}

void matcher_free(struct matcher *m)
{
	if (!m)
		return;
	for (int k = 0; k < 2; k++)
		for (int t = 0; t < MATCHER_N_TEXT; t++)
			dbcache_release(atomic_load(&m->slot[k][t].db));
	pthread_mutex_destroy(&m->lock);
	free(m->lit);
	free(m->req);
	free(m->wreq);
	verifier_free(m->verifier);
	free(m);
}

const char *matcher_literal(const struct matcher *m, size_t *len, unsigned *lit_flags)
{
	*len = m->lit ? m->lit_len : 0;
	*lit_flags = m->lit ? m->lit_flags : 0;
	return m->lit;
}

bool matcher_is_text_blind(const struct matcher *m)
{
	if (m->req || m->wreq)
		return true; /* it classifies the lines it verifies */
	return m->lit != NULL;
}

int matcher_scratch_new(struct matcher_scratch **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return error_nomem(NULL);
	return 0;
}

void matcher_scratch_set_deadline(struct matcher_scratch *s, double deadline_ms)
{
	s->deadline_ms = deadline_ms;
}

void matcher_scratch_free(struct matcher_scratch *s)
{
	if (!s)
		return;
	hs_free_scratch(s->lines.hs);
	hs_free_scratch(s->ranges.hs);
	free(s);
}

/* Grows the thread's scratch to serve db the first time this thread uses it. */
static int scratch_for(struct one_scratch *s, const hs_database_t *db, unsigned id)
{
	for (size_t i = 0; i < s->n_ids; i++)
		if (s->ids[i] == id)
			return 0;
	hs_error_t r = hs_alloc_scratch(db, &s->hs);

	if (r != HS_SUCCESS) {
		error_set("cannot allocate matcher scratch space (Vectorscan error %d)", (int)r);
		return TRAWL_ENOMEM;
	}
	if (s->n_ids == MAX_SCRATCH_DBS)
		s->n_ids = 0; /* forget old ids: at worst hs_alloc_scratch runs again */
	s->ids[s->n_ids++] = id;
	return 0;
}

/* The offset of the first byte above 0x7f in p[i..len), or len: 64 bytes a step with SSE2. */
static size_t skip_ascii(const uint8_t *p, size_t len, size_t i)
{
#if defined(__SSE2__)
	for (; i + 64 <= len; i += 64) {
		const __m128i *v = (const __m128i *)(const void *)(p + i);
		__m128i any = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
					   _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)));

		if (_mm_movemask_epi8(any))
			break;
	}
	for (; i + 16 <= len; i += 16) {
		int m = _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));

		if (m)
			return i + (size_t)__builtin_ctz((unsigned)m);
	}
#else
	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		if (w & 0x8080808080808080ull)
			break;
	}
#endif
	while (i < len && p[i] < 0x80)
		i++;
	return i;
}

enum matcher_text matcher_classify(const uint8_t *p, size_t len)
{
	size_t i = skip_ascii(p, len, 0);

	if (i == len)
		return MATCHER_TEXT_ASCII;
	return utf8_invalid_at(p + i, len - i) == len - i ? MATCHER_TEXT_UTF8 : MATCHER_TEXT_BYTES;
}

/*
 * Whether the ASCII literal search may miss matches of a wide literal in data[0..len): the text
 * holds one of its forms outside ASCII. One pass over the ASCII prefix (most source files are
 * ASCII throughout), then a search for each form in the rest.
 */
static bool needs_full_match(const struct matcher *m, const uint8_t *data, size_t len,
			     enum matcher_text text)
{
	size_t i;

	if (!m->n_wide || text == MATCHER_TEXT_ASCII)
		return false;
	i = skip_ascii(data, len, 0);
	for (size_t k = 0; k < m->n_wide && i < len; k++)
		if (substr_find(&m->wide_find[k], data + i, len - i) < len - i)
			return true;
	return false;
}

/* The bounds of the line holding position at: [*start, *end), *end at its '\n' or len. */
static void line_around(const uint8_t *data, size_t len, size_t at, size_t *start, size_t *end)
{
	const uint8_t *nl = at > 0 ? memrchr(data, '\n', at) : NULL;

	*start = nl ? (size_t)(nl - data) + 1 : 0;
	nl = memchr(data + at, '\n', len - at);
	*end = nl ? (size_t)(nl - data) : len;
}

int matcher_line_event(unsigned int id, unsigned long long from, unsigned long long to,
		       unsigned int flags, void *ctx)
{
	struct line_scan *ls = ctx;
	size_t p, start, end;

	(void)id;
	(void)from; /* not tracked by a lines database */
	(void)flags;
	if (to > ls->scan_len) {
		ls->n_bad++; /* SECURITY: see matcher_int.h */
		return 0;
	}
	p = (size_t)to;
	if (p < ls->next_min || p > ls->len)
		return 0; /* p > len: in the padding of a short text (scan_padded) */
	/*
	 * A match never contains '\n', so the match ending at p lies in the line holding position
	 * p (an empty match at a line start included). The position after a final '\n' is not a
	 * line.
	 */
	if (p == ls->len && p > 0 && ls->data[p - 1] == '\n')
		return 0;
	line_around(ls->data, ls->len, p, &start, &end);
	ls->next_min = end + 1;
	return ls->fn(ls->base + start, ls->base + end, ls->arg) ? 1 : 0;
}

/*
 * Vectorscan 5.4.9 misses matches in short buffers (e.g. `(?:^x|b$)` on a 19 to 33 byte text
 * ending in "b\n"; docs/regex.md). Texts shorter than SCAN_PAD_TO are scanned from a copy
 * padded with '\n': no match contains '\n', and `$` and `\b` see the same thing before a '\n' as
 * at the end, so the matches that end within the text are exactly the same; callbacks ignore
 * the rest.
 */
#define SCAN_PAD_TO 128

/* How many bytes scan_padded() hands Vectorscan for a text of len bytes. */
static size_t scan_len_of(size_t len)
{
	return len >= SCAN_PAD_TO ? len : SCAN_PAD_TO;
}

int matcher_scan_status(int hs_result, size_t n_bad)
{
	if (hs_result != HS_SUCCESS && hs_result != HS_SCAN_TERMINATED) {
		error_set("matcher failed (Vectorscan error %d)", hs_result);
		return TRAWL_EIO;
	}
	if (n_bad > 0) {
		error_set("matcher failed: %zu match%s outside the scanned text (a damaged compiled "
			  "database?)",
			  n_bad, n_bad == 1 ? "" : "es");
		return TRAWL_EIO;
	}
	return 0;
}

static hs_error_t scan_padded(const hs_database_t *db, const uint8_t *data, size_t len,
			      hs_scratch_t *hs, match_event_handler fn, void *ctx)
{
	/*
	 * One byte more, a NUL outside the scanned text: Vectorscan 5.4.9's scan reads its
	 * buffer as a C string through snprintf for some databases (the match-range one of
	 * `(a|aa)*c`). hsfix.h repairs that for every scan, in place ones too; the NUL is what
	 * still bounds this copy's when the repair could not be applied.
	 */
	char pad[SCAN_PAD_TO + 1];

	if (len >= SCAN_PAD_TO)
		return engine_scan(db, (const char *)data, (unsigned)len, 0, hs, fn, ctx);
	if (len)
		memcpy(pad, data, len);
	memset(pad + len, '\n', SCAN_PAD_TO - len);
	pad[SCAN_PAD_TO] = 0;
	return engine_scan(db, pad, SCAN_PAD_TO, 0, hs, fn, ctx);
}

/* The next occurrence of the literal at or after pos, honouring its flags; len when none. */
static size_t literal_find(const struct matcher *m, const uint8_t *data, size_t len, size_t pos)
{
	while (pos + m->lit_len <= len) {
		size_t at = pos + substr_find(&m->lit_find, data + pos, len - pos);

		if (at >= len)
			return len;
		if ((!(m->lit_flags & REGEX_LITERAL_BOL) || at == 0 || data[at - 1] == '\n') &&
		    (!(m->lit_flags & REGEX_LITERAL_EOL) || at + m->lit_len == len ||
		     data[at + m->lit_len] == '\n'))
			return at;
		pos = at + 1;
	}
	return len;
}

/* matcher_lines() for a literal pattern, from pos (a line start) on. */
static int literal_lines(const struct matcher *m, const uint8_t *data, size_t len, size_t pos,
			 matcher_line_fn fn, void *arg)
{
	while (pos < len) {
		size_t at = literal_find(m, data, len, pos), start, end;

		if (at >= len)
			break;
		line_around(data, len, at, &start, &end);
		if (fn(start, end, arg))
			break;
		pos = end + 1;
	}
	return 0;
}

/* A line found by a database that finds a superset (REGEX_EMIT_VERIFY), for verify_line(). */
struct verified {
	const struct verifier *v;
	const uint8_t *data;
	size_t base;
	matcher_line_fn fn;
	void *arg;
	double deadline_ms;
	int err;
};

static int on_verified_line(size_t start, size_t end, void *arg)
{
	struct verified *vf = arg;
	int r = verify_line(vf->v, vf->data + (start - vf->base), end - start, vf->deadline_ms);

	if (r < 0) {
		vf->err = r;
		return 1;
	}
	return r ? vf->fn(start, end, vf->arg) : 0;
}

/*
 * Reports the matching lines of data[0..len), a run of whole lines, through Vectorscan; positions
 * given to fn are offset by base. text may be MATCHER_TEXT_UNKNOWN.
 */
static int scan_lines(struct matcher *m, struct matcher_scratch *s, const uint8_t *data,
		      size_t len, size_t base, enum matcher_text text, matcher_line_fn fn, void *arg)
{
	struct line_scan ls = { .data = data,
				.len = len,
				.scan_len = scan_len_of(len),
				.base = base,
				.fn = fn,
				.arg = arg };
	struct verified vf = { .data = data, .base = base, .fn = fn, .arg = arg,
			       .deadline_ms = s->deadline_ms };
	hs_database_t *db;
	unsigned id;
	hs_error_t r;
	int err;

	if (len > UINT_MAX) {
		error_set("document too large to scan (%zu bytes)", len);
		return TRAWL_ELIMIT;
	}
	if (text == MATCHER_TEXT_UNKNOWN)
		text = matcher_classify(data, len);
	if ((err = get_db(&db, &id, m, DB_LINES, text, s->deadline_ms)) != 0)
		return err < 0 ? err : 0; /* 1: nothing can match */
	if ((err = scratch_for(&s->lines, db, id)) < 0)
		return err;
	if (m->slot[DB_LINES][text].is_superset) {
		vf.v = m->verifier; /* built before the database was published */
		ls.fn = on_verified_line;
		ls.arg = &vf;
	}
	r = scan_padded(db, data, len, s->lines.hs, matcher_line_event, &ls);
	if ((err = matcher_scan_status((int)r, ls.n_bad)) < 0)
		return err;
	return vf.err;
}

struct line_hit {
	matcher_line_fn fn;
	void *arg;
	int ret; /* fn's answer: 1 stops the document */
};

static int on_line_hit(size_t start, size_t end, void *arg)
{
	struct line_hit *h = arg;

	h->ret = h->fn(start, end, h->arg);
	return 1; /* one line was scanned: its first match is all there is to know */
}

/*
 * Past REQ_DENSE_HITS lines holding the required string at less than REQ_DENSE_GAP bytes apart
 * on average, the string is everywhere and one Vectorscan pass over the rest of the document is
 * cheaper than a call per line.
 */
#define REQ_DENSE_HITS 16
#define REQ_DENSE_GAP 256

/*
 * matcher_lines() for a pattern with a required string, from pos (a line start) on: a match
 * never spans lines, so only the lines holding the string can match, and each is verified on
 * its own. A line scanned alone looks to `^`, `$` and `\b` as it does in the document, where
 * '\n' surrounds it. With is_wide the string is wreq, which only ASCII text is sure to hold
 * where it matches: from the first byte above 0x7f on, req (or a whole scan) takes over.
 */
static int req_lines(struct matcher *m, struct matcher_scratch *s, const uint8_t *data, size_t len,
		     size_t pos, bool is_wide, enum matcher_text text, matcher_line_fn fn,
		     void *arg)
{
	struct line_hit h = { fn, arg, 0 };
	size_t hits = 0;
	int err;

	while (pos < len) {
		bool is_high = false;
		size_t at, start, end;

		if (is_wide)
			at = pos + substr_find_ascii(&m->wreq_find, data + pos, len - pos, &is_high);
		else
			at = pos + substr_find(&m->req_find, data + pos, len - pos);
		if (is_high && m->req)
			return req_lines(m, s, data, len, pos, false, text, fn, arg);
		if (is_high)
			return scan_lines(m, s, data + pos, len - pos, pos, text, fn, arg);
		if (at >= len)
			break;
		line_around(data, len, at, &start, &end);
		if (++hits > REQ_DENSE_HITS && at / hits < REQ_DENSE_GAP)
			return scan_lines(m, s, data + start, len - start, start, text, fn, arg);
		if ((err = scan_lines(m, s, data + start, end - start, start, text, on_line_hit, &h)) < 0)
			return err;
		if (h.ret)
			break;
		pos = end + 1;
	}
	return 0;
}

/*
 * matcher_lines() for a wide literal without anchors: the ASCII literal search, which notes on
 * its way whether the text it passed is ASCII. At the first byte above 0x7f, the rest of the
 * text goes as any pattern's if it holds a form outside ASCII of one of the literal's letters,
 * else on as the ASCII literal. One pass over an ASCII document, as for any literal.
 */
static int wide_lines(struct matcher *m, struct matcher_scratch *s, const uint8_t *data,
		      size_t len, enum matcher_text text, matcher_line_fn fn, void *arg)
{
	size_t pos = 0;

	while (pos < len) {
		bool is_high;
		size_t at = pos + substr_find_ascii(&m->lit_find, data + pos, len - pos, &is_high);
		size_t start, end;

		if (is_high) {
			if (needs_full_match(m, data + pos, len - pos, MATCHER_TEXT_UNKNOWN))
				return scan_lines(m, s, data + pos, len - pos, pos, text, fn, arg);
			return literal_lines(m, data, len, pos, fn, arg);
		}
		if (at >= len)
			break;
		line_around(data, len, at, &start, &end);
		if (fn(start, end, arg))
			break;
		pos = end + 1;
	}
	return 0;
}

int matcher_lines(struct matcher *m, struct matcher_scratch *s, const uint8_t *data, size_t len,
		  enum matcher_text text, matcher_line_fn fn, void *arg)
{
	if (len == 0)
		return 0; /* an empty file has no lines, as in ripgrep */
	if (m->lit && m->n_wide && text != MATCHER_TEXT_ASCII &&
	    !(m->lit_flags & (REGEX_LITERAL_BOL | REGEX_LITERAL_EOL)))
		return wide_lines(m, s, data, len, text, fn, arg);
	if (m->lit && !needs_full_match(m, data, len, text))
		return literal_lines(m, data, len, 0, fn, arg);
	if (m->wreq || m->req)
		return req_lines(m, s, data, len, 0, m->wreq != NULL, text, fn, arg);
	return scan_lines(m, s, data, len, 0, text, fn, arg);
}

int matcher_range_event(unsigned int id, unsigned long long from, unsigned long long to,
			unsigned int flags, void *ctx)
{
	struct range_scan *rs = ctx;

	(void)id;
	(void)flags;
	if (from > to || to > rs->scan_len) {
		rs->n_bad++; /* SECURITY: see matcher_int.h */
		return 0;
	}
	if (to > rs->len)
		return 0; /* in the padding (scan_padded) */
	if (rs->n == rs->max)
		return 1;
	rs->r[rs->n].start = (uint32_t)from;
	rs->r[rs->n].end = (uint32_t)to;
	rs->n++;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct match_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	return 0;
}

/* Keeps the leftmost, longest, non-overlapping ranges; empty ones only if nothing else. */
static size_t select_ranges(struct match_range *r, size_t n)
{
	size_t out = 0, first_empty = SIZE_MAX;
	uint32_t pos = 0;

	qsort(r, n, sizeof(*r), cmp_range);
	for (size_t i = 0; i < n; i++) {
		if (r[i].start == r[i].end) {
			if (first_empty == SIZE_MAX)
				first_empty = i;
			continue;
		}
		if (r[i].start < pos)
			continue;
		pos = r[i].end;
		r[out++] = r[i];
	}
	if (out == 0 && first_empty != SIZE_MAX) {
		r[0] = r[first_empty];
		out = 1;
	}
	return out;
}

int matcher_ranges(struct matcher *m, struct matcher_scratch *s, const uint8_t *line, size_t len,
		   enum matcher_text text, struct match_range *out, size_t max, size_t *n)
{
	struct match_range buf[MAX_LINE_MATCHES];
	struct range_scan rs = {
		.r = buf, .max = MAX_LINE_MATCHES, .len = len, .scan_len = scan_len_of(len)
	};
	hs_database_t *db = NULL;
	unsigned id;
	hs_error_t r;
	int err;

	*n = 0;
	if (max == 0)
		return 0;
	if (m->lit && !needs_full_match(m, line, len, text)) {
		/* Leftmost, non-overlapping occurrences, as ripgrep highlights them. */
		size_t pos = 0;

		while (*n < max && pos + m->lit_len <= len) {
			size_t at = literal_find(m, line, len, pos);

			if (at >= len || at + m->lit_len > UINT32_MAX)
				break;
			out[*n].start = (uint32_t)at;
			out[*n].end = (uint32_t)(at + m->lit_len);
			pos = out[(*n)++].end;
		}
		return 0;
	}
	if (len > UINT_MAX) {
		error_set("line too long to highlight");
		return TRAWL_ELIMIT;
	}
	if (text == MATCHER_TEXT_UNKNOWN)
		text = matcher_classify(line, len);
	err = get_db(&db, &id, m, DB_SOM, text, s->deadline_ms);
	if (err == 1)
		return 0; /* nothing can match */
	if (err == TRAWL_ETIMEOUT)
		return err; /* the search's deadline, not a pattern without start-of-match tracking */
	if (err < 0 && text == MATCHER_TEXT_ASCII) {
		/* No start-of-match tracking possible for this pattern: the line is the range. */
		error_clear();
		out[0].start = 0;
		out[0].end = (uint32_t)len;
		*n = 1;
		return 0;
	}
	if (err < 0 && get_db(&db, &id, m, DB_SOM, MATCHER_TEXT_ASCII, s->deadline_ms) != 0) {
		/* No start-of-match tracking possible for this pattern: the line is the range. */
		error_clear();
		out[0].start = 0;
		out[0].end = (uint32_t)len;
		*n = 1;
		return 0;
	}
	if ((err = scratch_for(&s->ranges, db, id)) < 0)
		return err;
	r = scan_padded(db, line, len, s->ranges.hs, matcher_range_event, &rs);
	if ((err = matcher_scan_status((int)r, rs.n_bad)) < 0)
		return err;
	rs.n = select_ranges(buf, rs.n);
	if (rs.n > max)
		rs.n = max;
	memcpy(out, buf, rs.n * sizeof(*out));
	*n = rs.n;
	return 0;
}
