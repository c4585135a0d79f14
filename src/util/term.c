/* Escaping control characters for a terminal; see term.h. */
#include "util/term.h"

#include "util/utf8.h"

static int put_escaped_byte(struct buf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

	if (c == '\t' || c == '\n' || c == '\r') {
		e[1] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
		return buf_put(b, e, 2);
	}
	return buf_put(b, e, sizeof(e));
}

/* The bidi controls (Trojan Source: text shown in another order) and the line separators. */
static bool is_bidi(const unsigned char *s, size_t n)
{
	uint32_t cp = 0;

	if (n < 2 || utf8_decode(&cp, s, n) != n)
		return false;
	return cp == 0x61c || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

int term_put(struct buf *b, const void *str, size_t len, enum term_text how)
{
	const unsigned char *s = str;
	size_t i = 0, run = 0;
	int err;

	if (how == TERM_RAW)
		return buf_put(b, str, len);
	while (i < len) {
		unsigned char c = s[i];
		size_t n = 1;

		if ((c >= 0x20 && c < 0x7f) || (c == '\t' && how == TERM_CONTENT)) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			n = utf8_seq_len(s + i, len - i);
			if (n > 0 && !(n == 2 && c == 0xc2 && s[i + 1] < 0xa0) &&
			    !is_bidi(s + i, n)) {
				i += n;
				continue;
			}
			n = n ? n : 1; /* a C1 or bidi control, or one byte of invalid UTF-8 */
		}
		if ((err = buf_put(b, s + run, i - run)) < 0)
			return err;
		for (size_t k = 0; k < n; k++)
			if ((err = put_escaped_byte(b, s[i + k])) < 0)
				return err;
		i += n;
		run = i;
	}
	return buf_put(b, s + run, len - run);
}

int term_put_line(struct buf *b, const void *str, size_t len, size_t max)
{
	const unsigned char *s = str;
	size_t dots = max < 3 ? max : 3, cut = len, n;
	struct buf t;
	int err;

	/*
	 * Escaping never shortens, so input past max is cut in any case; cut at the start of a
	 * UTF-8 sequence (within 3 bytes), so that the cut adds no invalid byte.
	 */
	if (len > max)
		for (cut = max; cut > 0 && (s[cut] & 0xc0) == 0x80 && max - cut < 3; cut--)
			;
	buf_init(&t, 4 * cut + 16);
	if ((err = term_put(&t, s, cut, TERM_NAME)) < 0)
		goto out;
	if (cut == len && t.len <= max) {
		err = t.len ? buf_put(b, t.ptr, t.len) : 0;
		goto out;
	}
	n = t.len < max - dots ? t.len : max - dots;
	while (n > 0 && n < t.len && ((unsigned char)t.ptr[n] & 0xc0) == 0x80)
		n--;
	if ((err = n ? buf_put(b, t.ptr, n) : 0) == 0)
		err = buf_put(b, "...", dots);
out:
	buf_dispose(&t);
	return err;
}
