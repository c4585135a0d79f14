/*
 * Fuzz target for the regex front end: the first byte selects the flags (-F, -i, -w), the rest
 * is the pattern. It is parsed, described, planned and emitted in every dialect; every error
 * must come back as a code with a message and a position inside the pattern, never a crash,
 * a leak or an unbounded amount of work.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "regex/regex.h"
#include "regex/tquery.h"
#include "util/buf.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct regex *re = NULL;
	struct tq *q = NULL;
	struct buf b;
	unsigned flags, hs_flags;
	int err;

	if (size == 0)
		return 0;
	flags = data[0] & (REGEX_FIXED | REGEX_ICASE | REGEX_WORD);
	err = regex_parse(&re, (const char *)data + 1, size - 1, flags);
	if (err < 0) {
		/* Every refusal says what and where. */
		if (error_last()[0] == 0 || (error_pos() != (size_t)-1 && error_pos() > size - 1))
			abort();
		return 0;
	}
	buf_init(&b, 1 << 24);
	if (regex_describe(&b, re) < 0 && error_last()[0] == 0)
		abort();
	if (regex_plan(&q, re) == 0) {
		buf_reset(&b);
		tq_format(&b, q);
		tq_free(q);
	}
	for (int d = REGEX_DIALECT_UTF8; d <= REGEX_DIALECT_ASCII; d++) {
		buf_reset(&b);
		regex_emit(&b, &hs_flags, re, (enum regex_dialect)d, 0);
		buf_reset(&b);
		regex_emit(&b, &hs_flags, re, (enum regex_dialect)d, REGEX_EMIT_LINES);
	}
	(void)regex_can_match_empty(re);
	buf_dispose(&b);
	regex_free(re);
	return 0;
}
