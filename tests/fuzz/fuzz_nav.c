/*
 * Fuzz target for code navigation's parsers (src/server/nav.c), which read the line and col
 * parameters and the file's bytes of any reader's request. The first byte chooses: even, the
 * rest is a line or column parameter; odd, two bytes of line and two of column, then the file.
 * Checks: never a crash or a read past the given length; a refusal explains itself; an
 * accepted number is 1..NAV_POS_MAX and its digits; an identifier found lies inside the text,
 * on the asked line, is made of ASCII letters, digits and '_', does not start with a digit,
 * and is at most NAV_IDENT_MAX bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/nav.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_ident(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static void check_pos(const char *s, size_t n)
{
	uint32_t v = 1, back = 0;

	if (nav_parse_pos(&v, s, n, "line") < 0) {
		if (v != 0 || !error_last()[0])
			abort();
		return;
	}
	if (v < 1 || v > NAV_POS_MAX || n == 0 || n > 9)
		abort();
	for (size_t i = 0; i < n; i++)
		back = back * 10 + (uint32_t)(s[i] - '0');
	if (back != v)
		abort();
}

static void check_ident(const uint8_t *text, size_t n, uint32_t line, uint32_t col)
{
	size_t start = 1, len = 1, lines = 1;

	if (nav_ident_at(&start, &len, text, n, line, col) < 0) {
		if (start != 0 || len != 0 || !error_last()[0])
			abort();
		return;
	}
	if (len == 0 || len > NAV_IDENT_MAX || start > n || len > n - start ||
	    (text[start] >= '0' && text[start] <= '9'))
		abort();
	for (size_t i = 0; i < len; i++)
		if (!is_ident(text[start + i]))
			abort();
	for (size_t i = 0; i < start; i++)
		lines += text[i] == '\n';
	if (lines != line)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p;

	if (size < 1)
		return 0;
	/* A copy of exactly the bytes given: ASan catches a read past the length. */
	if (!(p = malloc(size)))
		return 0;
	memcpy(p, data, size);
	if (!(p[0] & 1)) {
		check_pos((const char *)p + 1, size - 1);
	} else if (size >= 5) {
		uint32_t line = (uint32_t)p[1] | (uint32_t)p[2] << 8;
		uint32_t col = (uint32_t)p[3] | (uint32_t)p[4] << 8;

		check_ident(p + 5, size - 5, line, col);
	}
	free(p);
	return 0;
}
