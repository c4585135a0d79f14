/*
 * Unicode data for the regex front end: general categories (for \p{..}, \w, \d) and simple case
 * folding orbits (for (?i) and -i), generated from the Unicode Character Database by
 * scripts/gen_unicode.py into unicode_tables.c. Character sets themselves are in regex_int.h.
 */
#ifndef TRAWL_REGEX_UNICODE_H
#define TRAWL_REGEX_UNICODE_H

#include <stddef.h>
#include <stdint.h>

#define UNICODE_MAX 0x10FFFFu
#define UNICODE_N_CATEGORIES 30

/* Assigned code points [lo, hi] of one general category (index into unicode_category_names). */
struct unicode_cat_range {
	uint32_t lo, hi;
	uint8_t cat;
};

/* Code point cp's next member in its simple case folding orbit (orbits are cycles). */
struct unicode_fold {
	uint32_t cp, next;
};

extern const char *const unicode_category_names[UNICODE_N_CATEGORIES]; /* [0] is "Cn" */
extern const struct unicode_cat_range unicode_cat_ranges[];              /* sorted by lo */
extern const size_t unicode_n_cat_ranges;
extern const struct unicode_fold unicode_folds[]; /* sorted by cp */
extern const size_t unicode_n_folds;
extern const char unicode_version[];

/*
 * Scripts, script extensions, binary properties and break properties (\p{Greek}, \p{scx=Grek},
 * \p{Emoji}, \p{wb=ALetter}).
 */
struct unicode_range {
	uint32_t lo, hi;
};

enum unicode_property_kind {
	UNICODE_BINARY = 0,
	UNICODE_SCRIPT = 1,
	UNICODE_SCRIPT_EXT = 2,
	UNICODE_GRAPHEME_BREAK = 3, /* \p{gcb=..} */
	UNICODE_WORD_BREAK = 4,     /* \p{wb=..} */
	UNICODE_SENTENCE_BREAK = 5, /* \p{sb=..} */
};

struct unicode_property {
	const char *names; /* '|'-separated aliases, lower case, no ' ', '_' or '-' */
	uint8_t kind;
	uint32_t first, n; /* into unicode_property_ranges */
};

extern const struct unicode_range unicode_property_ranges[];
extern const struct unicode_property unicode_properties[];
extern const size_t unicode_n_properties;

/* The next member of cp's case folding orbit, or cp itself when it has no other case. */
uint32_t unicode_fold_next(uint32_t cp);

#endif
