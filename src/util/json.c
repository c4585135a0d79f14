/* JSON string encoding; see json.h. */
#include "util/json.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local unsigned n_alloc_failures;
static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;

static void *counting_malloc(size_t size)
{
	void *p = malloc(size);

	if (!p)
		n_alloc_failures++;
	return p;
}

static void plain_free(void *p)
{
	free(p);
}

static void alloc_install(void)
{
	json_set_alloc_funcs(counting_malloc, plain_free);
}

unsigned json_alloc_failures(void)
{
	pthread_once(&alloc_once, alloc_install);
	return n_alloc_failures;
}

/* "\uXXXX" for cp, as a surrogate pair above U+FFFF, in esc (at least 13 bytes). */
static const char *cp_escape(char *esc, uint32_t cp)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t u[2] = { cp, 0 };
	size_t n = 1, k = 0;

	if (cp > 0xffff) {
		u[0] = 0xd800 + ((cp - 0x10000) >> 10);
		u[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
		n = 2;
	}
	for (size_t i = 0; i < n; i++) {
		esc[k++] = '\\';
		esc[k++] = 'u';
		for (int sh = 12; sh >= 0; sh -= 4)
			esc[k++] = hex[(u[i] >> sh) & 15];
	}
	esc[k] = '\0';
	return esc;
}

int json_put_codepoint(struct buf *b, uint32_t cp)
{
	char esc[16];

	return buf_puts(b, cp_escape(esc, cp));
}

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
		char esc[16];
		uint32_t cp = 0;
		const char *e = NULL;
		size_t n = 1;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
			i++;
			run++;
			continue;
		}
		if (c >= 0x80) {
			n = utf8_decode(&cp, s + i, len - i);
			if (n > 0 && utf8_is_hidden(cp))
				e = cp_escape(esc, cp); /* U+2028, bidi controls: shown, not obeyed */
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
