/*
 * Trigram queries: the boolean query over posting lists that the planner derives from a regex
 * (Russ Cox, "Regular Expression Matching with a Trigram Index", and codesearch's
 * index/regexp.go). A document that can match the regex always satisfies the query; the
 * converse need not hold, so candidates are verified.
 */
#ifndef TRAWL_REGEX_TQUERY_H
#define TRAWL_REGEX_TQUERY_H

#include <stddef.h>
#include <stdint.h>

#include "regex/regex.h"
#include "util/buf.h"

enum tq_op {
	TQ_ALL,     /* every document is a candidate (no usable trigram) */
	TQ_NONE,    /* no document can match */
	TQ_AND,
	TQ_OR,
	TQ_TRIGRAM, /* documents whose folded trigram set holds `trigram` (util/trigram.h) */
};

struct tq {
	enum tq_op op;
	uint32_t trigram; /* TQ_TRIGRAM */
	size_t n_sub;     /* TQ_AND, TQ_OR: at least 2 */
	struct tq **sub;
};

/*
 * Plans re. The result is simplified: no ALL or NONE inside AND/OR, no nested node of the same
 * operator, no duplicate children. ENOMEM.
 */
int regex_plan(struct tq **out, const struct regex *re);
void tq_free(struct tq *q);

/*
 * For a literal searched case-insensitively, lit[0..len) (ASCII, lower case, as
 * regex_literal_wide writes it): a query every document satisfies that holds a match in which
 * some letter is one of its forms outside ASCII (the Kelvin sign for k, long s for s). The
 * trigrams of those forms' bytes, with a neighbouring letter's byte when a form has two: NONE
 * when no letter has such a form, ALL for a lone letter. The ASCII matches are left to the
 * posting masks (search/litmask.h). ENOMEM.
 */
int regex_literal_variants(struct tq **out, const uint8_t *lit, size_t len);

/*
 * Prints q as e.g. `"abc" AND ("bcd" OR "bce")`, `ALL`, `NONE`; trigram bytes outside
 * printable ASCII as \xHH. Used by tests and --explain.
 */
int tq_format(struct buf *out, const struct tq *q);

#endif
