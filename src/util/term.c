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
			if (n > 0 && !(n == 2 && c == 0xc2 && s[i + 1] < 0xa0)) {
				i += n;
				continue;
			}
			n = n ? n : 1; /* a C1 control, or one byte of invalid UTF-8 */
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
