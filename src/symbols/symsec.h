/*
 * The SYMBOLS section of a shard: the symbols of each document (name, kind, line, scope and its
 * kind, language, signature), a sorted table of the distinct names that answers exact,
 * prefix and case-insensitive lookups by binary search, and a trigram index of the names
 * (GRAMS) that answers "contains" for 3 bytes or more; any other test (a regular expression)
 * scans the distinct names only. docs/index-format.md ("SYMBOLS") specifies it byte for byte;
 * docs/internals/symbols.md says how it is made.
 *
 * This unit knows only bytes: the builder turns symbols into the section's bytes, the reader
 * validates a byte range that claims to be one. It depends on util only, so the shard reader's
 * section table can check the section (shard_verify) without knowing about symbols.
 *
 * Reading: symsec_open() checks the header and that the tables tile the section (constant
 * time); every record is checked when it is read (symsec_symbol, the name table during a
 * lookup), so a damaged section is an error, never a read outside it. symsec_verify() checks
 * everything (trawl verify). Lookups do work bounded by the section's size and allocate
 * nothing. A struct symsec is immutable and may be read from many threads at once.
 */
#ifndef TRAWL_SYMBOLS_SYMSEC_H
#define TRAWL_SYMBOLS_SYMSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Layout: offsets within the section. */
#define SYMSEC_HEADER_SIZE 32u
#define SYMSEC_H_FLAGS 0       /* u32 SYMSEC_F_* */
#define SYMSEC_H_N_DOCS 4      /* u32 == META n_docs */
#define SYMSEC_H_N_SYMBOLS 8   /* u32 == the TOC count */
#define SYMSEC_H_N_NAMES 12    /* u32 distinct names */
#define SYMSEC_H_N_KINDS 16    /* u32 <= SYMSEC_KINDS_MAX */
#define SYMSEC_H_N_LANGS 20    /* u32 <= SYMSEC_LANGS_MAX */
#define SYMSEC_H_STRINGS_LEN 24 /* u32 bytes of STRINGS */
#define SYMSEC_H_RESERVED 28   /* u32 0 */

#define SYMSEC_DOC_SIZE 8u /* u32 first symbol, u8 status, u8 0, u16 0 */
#define SYMSEC_SYM_SIZE 20u
#define SYMSEC_S_NAME 0        /* u32 index into NAMES */
#define SYMSEC_S_LINE 4        /* u32, 1-based; 0 when ctags gave none */
#define SYMSEC_S_SCOPE 8       /* u32 STRINGS offset + 1; 0 none */
#define SYMSEC_S_SIGNATURE 12  /* u32 STRINGS offset + 1; 0 none */
#define SYMSEC_S_KIND 16       /* u8 index into KINDS */
#define SYMSEC_S_SCOPE_KIND 17 /* u8 index into KINDS; SYMSEC_NONE when none */
#define SYMSEC_S_LANG 18       /* u8 index into LANGS */
#define SYMSEC_S_RESERVED 19   /* u8 0 */
#define SYMSEC_NAME_SIZE 8u    /* u32 STRINGS offset of the name, u32 first index into POSTS */
#define SYMSEC_POST_SIZE 4u    /* u32 symbol index */
#define SYMSEC_REF_SIZE 4u     /* KINDS and LANGS: u32 STRINGS offset */

/*
 * Header flags. SYMSEC_F_GRAMS: the section ends with GRAMS, a trigram index of the names
 * (after STRINGS): a 16-byte header (u32 n_grams, u32 0, u64 n_postings), n_grams keys of 12
 * bytes (u32 trigram, u32 count, u32 offset of its list in GPOSTS) strictly ascending by
 * trigram, then GPOSTS, the lists of name indices (delta varints) filling the rest. A section
 * without the flag (written before the index existed) ends with STRINGS, and a substring lookup
 * scans its names.
 */
#define SYMSEC_F_GRAMS 1u
#define SYMSEC_GRAMS_HEADER_SIZE 16u
#define SYMSEC_G_N_GRAMS 0    /* u32 <= SYMSEC_GRAMS_MAX */
#define SYMSEC_G_RESERVED 4   /* u32 0 */
#define SYMSEC_G_N_POSTINGS 8 /* u64 name indices in all lists */
#define SYMSEC_GRAM_SIZE 12u  /* u32 trigram, u32 count, u32 offset in GPOSTS */
#define SYMSEC_GRAMS_MAX (1u << 24)

#define SYMSEC_NONE 0xFFu
#define SYMSEC_KINDS_MAX 255u
#define SYMSEC_LANGS_MAX 255u
#define SYMSEC_STR_MAX 1024u /* bytes of one string: longer names are dropped, longer scopes and
			      * signatures left out */
#define SYMSEC_SYMBOLS_MAX (1u << 26) /* per shard */

/* Why a document has the symbols it has (its DOCSYM status byte). */
enum symsec_status {
	SYMSEC_OK = 0,          /* extracted (possibly none) */
	SYMSEC_NOT_PARSED = 1,  /* not given to ctags: no content, or no language it parses */
	SYMSEC_TIMEOUT = 2,     /* ctags took longer than the per-file limit: killed */
	SYMSEC_CRASHED = 3,     /* ctags died (a signal, a sandbox kill, an exit) or misbehaved */
	SYMSEC_TOO_MUCH = 4,    /* ctags' output for the file was over the per-file limit */
	SYMSEC_UNAVAILABLE = 5, /* ctags could not be started */
};
#define SYMSEC_STATUS_MAX 5u

/* "ok", "not parsed", "timeout", ...; "unknown" for a value out of range. */
const char *symsec_status_name(enum symsec_status st);

/* A symbol as given to the builder: strings with lengths, not NUL-terminated. */
struct symsec_in {
	const char *name;
	size_t name_len;
	const char *kind; /* e.g. "function": NUL-terminated */
	const char *scope;
	size_t scope_len; /* 0: none */
	const char *scope_kind; /* NUL-terminated, or NULL */
	const char *lang;       /* e.g. "C": NUL-terminated */
	const char *signature;
	size_t signature_len; /* 0: none */
	uint32_t line;
};

struct symsec_builder;

/* ENOMEM. */
int symsec_builder_new(struct symsec_builder **out);
/*
 * Starts document doc with status st; documents come in id order, 0 first, with none left out
 * (the builder fills gaps as SYMSEC_NOT_PARSED). EINVAL for an id out of order.
 */
int symsec_builder_doc(struct symsec_builder *b, uint32_t doc, enum symsec_status st);
/*
 * Adds a symbol to the current document. A symbol without a name or kind, or whose name is
 * over SYMSEC_STR_MAX bytes, is dropped (0); a scope or signature over it is left out. ELIMIT
 * past SYMSEC_SYMBOLS_MAX symbols or 4 GiB of strings, or past 255 kinds or languages, ENOMEM.
 */
int symsec_builder_add(struct symsec_builder *b, const struct symsec_in *s);
/* Symbols of the current document so far. */
uint32_t symsec_builder_doc_count(const struct symsec_builder *b);
/* Drops the current document's symbols and sets its status (ctags failed midway). */
void symsec_builder_doc_fail(struct symsec_builder *b, enum symsec_status st);
/*
 * Writes the section for n_docs documents (the shard's; documents never started are
 * SYMSEC_NOT_PARSED) into out, and the number of symbols into *count. ELIMIT, ENOMEM.
 */
int symsec_builder_finish(struct symsec_builder *b, struct buf *out, uint32_t *count,
			  uint32_t n_docs);
/* NULL is a no-op. */
void symsec_builder_free(struct symsec_builder *b);

/* A validated section (borrowed bytes). */
struct symsec {
	const uint8_t *p;
	uint64_t len;
	uint32_t n_docs, n_symbols, n_names, n_kinds, n_langs, strings_len;
	const uint8_t *docs, *syms, *names, *posts, *kinds, *langs, *strings;
	/* GRAMS (SYMSEC_F_GRAMS): has_grams false for a section written without it */
	bool has_grams;
	uint32_t n_grams;
	uint64_t n_gram_postings;
	uint32_t gposts_len;
	const uint8_t *grams, *gposts;
};

/*
 * Checks the header of the section p[0..len) of a shard of n_docs documents whose TOC count is
 * count: its fields, and that its tables fill it exactly. ECORRUPT with a message naming the
 * section ("section SYMBOLS: ...").
 */
int symsec_open(struct symsec *s, const uint8_t *p, uint64_t len, uint32_t count,
		uint32_t n_docs);
/*
 * Checks everything: every record, every string, the name table sorted and each name's list
 * holding exactly its symbols, in order, and GRAMS when present (keys sorted, every list
 * decoded, its name indices ascending, and the lists holding each name's trigrams). ECORRUPT.
 */
int symsec_verify(const struct symsec *s);

/* A symbol as read: strings borrowed from the section, not NUL-terminated. */
struct symsec_sym {
	uint32_t index; /* within the section */
	uint32_t doc;
	const char *name;
	size_t name_len;
	const char *kind;
	size_t kind_len;
	const char *scope; /* NULL when none */
	size_t scope_len;
	const char *scope_kind; /* NULL when none */
	size_t scope_kind_len;
	const char *lang;
	size_t lang_len;
	const char *signature; /* NULL when none */
	size_t signature_len;
	uint32_t line;
};

/* Symbol i (< n_symbols), checked. ECORRUPT, EINVAL for i out of range. */
int symsec_symbol(struct symsec_sym *out, const struct symsec *s, uint32_t i);
/* Document doc's symbols [*first, *first + *n) and status, checked. ECORRUPT, EINVAL. */
int symsec_doc(uint32_t *first, uint32_t *n, enum symsec_status *st, const struct symsec *s,
	       uint32_t doc);

/*
 * Why document doc has no symbols when ctags failed on it ("ctags timed out", ...): NULL when s
 * is NULL (the shard has no SYMBOLS section), doc is out of range, or ctags did not fail on it.
 */
const char *symsec_doc_failure(const struct symsec *s, uint32_t doc);

enum symsec_mode {
	SYMSEC_EXACT,       /* the name equals the pattern */
	SYMSEC_EXACT_ICASE, /* equal after folding ASCII letters */
	SYMSEC_PREFIX,      /* the name starts with the pattern */
	SYMSEC_PREFIX_ICASE,
	SYMSEC_TEST,        /* test() accepts the name (a regular expression): every distinct name
			     * is tested once, never every symbol */
};

/* Whether a distinct name matches, for SYMSEC_TEST. */
typedef bool (*symsec_test_fn)(void *arg, const char *name, size_t len);
/* A matching symbol; return 0 to go on, 1 to stop, or a negative error to stop with it. */
typedef int (*symsec_match_fn)(void *arg, const struct symsec_sym *sym);

/*
 * Calls fn for each symbol whose name matches pattern (pattern_len bytes) in mode, names in the
 * table's order (case-folded, then bytewise), each name's symbols in document order. test and
 * test_arg serve SYMSEC_TEST only. Returns 0, fn's negative error, or ECORRUPT (a damaged
 * record met on the way).
 */
int symsec_lookup(const struct symsec *s, const char *pattern, size_t pattern_len,
		  enum symsec_mode mode, symsec_test_fn test, void *test_arg, symsec_match_fn fn,
		  void *arg);

/*
 * Calls fn for each symbol whose name contains needle (needle_len bytes; every name when 0), in
 * the order of symsec_lookup: with is_icase, needle must be in lower case and the names are
 * compared with their ASCII letters folded. When test is not NULL it must also accept the name
 * (a regular expression whose required literal is needle): it is called only for the names
 * that contain needle. The SYMSEC_TEST scan for the commonest tests, without a call per name.
 * A needle of 3 bytes or more in a section with GRAMS reads only the names whose lists hold
 * every trigram of the needle (the rarest lists, intersected); other needles, and sections
 * without GRAMS, scan every name, searching its bytes in place. Either way the work per name
 * stays linear in its length and the names found, and their order, are the same. Allocates
 * nothing. Returns 0, fn's negative error, or ECORRUPT.
 */
int symsec_lookup_substring(const struct symsec *s, const char *needle, size_t needle_len,
			    bool is_icase, symsec_test_fn test, void *test_arg, symsec_match_fn fn,
			    void *arg);

#endif
