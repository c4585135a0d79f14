/*
 * The one UTF-8 decoder. Well-formed means RFC 3629: no overlong forms, no UTF-16 surrogates,
 * nothing above U+10FFFF, no sequence cut short by the end of the input. Everything that
 * validates or decodes UTF-8 (JSON and terminal output, branch and repository names, the shard
 * writer's per-document flag, the query and regex parsers, the matcher's text classes) uses this
 * rule, so a name or a text is never valid to one part and invalid to another.
 */
#ifndef TRAWL_UTIL_UTF8_H
#define TRAWL_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decodes the sequence at s[0..len) (len > 0): stores its scalar value in *cp and returns its
 * length (1 to 4), or returns 0 and leaves *cp alone when the bytes there are not a well-formed
 * sequence. Inline: the matcher runs it over every non-ASCII byte of every candidate.
 */
static inline size_t utf8_decode(uint32_t *cp, const uint8_t *s, size_t len)
{
	uint32_t c = s[0];
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Length of the well-formed sequence at s[0..len) (len > 0), or 0 when the bytes are not one. */
static inline size_t utf8_seq_len(const unsigned char *s, size_t len)
{
	uint32_t cp;

	return utf8_decode(&cp, s, len);
}

/*
 * Whether cp is invisible yet changes how the text around it reads: a format character
 * (general category Cf: bidi overrides and isolates, zero-width characters, the BOM) or the
 * line and paragraph separators U+2028 and U+2029. JSON output and audit listings escape them.
 */
bool utf8_is_hidden(uint32_t cp);

/* The offset of the first byte of p[0..n) that does not start a well-formed sequence, or n. */
size_t utf8_invalid_at(const uint8_t *p, size_t n);

/* Whether p[0..n) is well-formed UTF-8. ASCII runs are checked 16 bytes at a time. */
bool utf8_is_valid(const uint8_t *p, size_t n);

#endif
