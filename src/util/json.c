/* JSON string encoding; see json.h. */
#include "util/json.h"

#include <string.h>

/* "\u00XX" for c, in esc (at least 7 bytes). */
static const char *hex_escape(char *esc, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	memcpy(esc, "\\u00", 4);
	esc[4] = hex[c >> 4];
	esc[5] = hex[c & 15];
	esc[6] = '\0';
	return esc;
}

int json_put_string(struct buf *b, const char *str, size_t len, bool *is_lossy)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;
	int err;

	if (is_lossy)
		*is_lossy = false;
	if ((err = buf_putc(b, '"')) < 0)
		return err;
	while (i < len) {
		unsigned char c = s[i];
		char esc[8];
		const char *e = NULL;
		size_t n = 1;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
			i++;
			run++;
			continue;
		}
		if (c >= 0x80) {
			n = utf8_seq_len(s + i, len - i);
			if (n == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
				e = s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
			else if (n == 2 && c == 0xc2 && s[i + 1] < 0xa0)
				e = hex_escape(esc, s[i + 1]); /* C1: a terminal may obey it */
			else if (n == 0) {
				e = "\xef\xbf\xbd"; /* U+FFFD */
				n = 1;
				if (is_lossy)
					*is_lossy = true;
			} else {
				i += n;
				run += n;
				continue;
			}
		} else if (c == '"') {
			e = "\\\"";
		} else if (c == '\\') {
			e = "\\\\";
		} else if (c == '\n') {
			e = "\\n";
		} else if (c == '\t') {
			e = "\\t";
		} else if (c == '\r') {
			e = "\\r";
		} else {
			e = hex_escape(esc, c); /* other C0 controls and DEL */
		}
		if ((err = buf_put(b, s + i - run, run)) < 0 || (err = buf_puts(b, e)) < 0)
			return err;
		run = 0;
		i += n;
	}
	if ((err = buf_put(b, s + i - run, run)) < 0)
		return err;
	return buf_putc(b, '"');
}
