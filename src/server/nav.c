/*
 * Code navigation's pure decisions (nav.h): the line and column parameters, the identifier at a
 * position, and the order of definitions.
 */
#include "server/nav.h"

#include <string.h>

#include "util/error.h"
#include "util/utf8.h"

int nav_parse_pos(uint32_t *out, const char *s, size_t len, const char *name)
{
	uint32_t v = 0;

	*out = 0;
	/* At most nine digits: NAV_POS_MAX has nine, so the sum below cannot overflow. */
	if (!s || len == 0 || len > 9 || s[0] == '0')
		goto bad;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > NAV_POS_MAX)
		goto bad;
	*out = v;
	return 0;
bad:
	error_set("%s must be a number from 1 to %u", name, NAV_POS_MAX);
	return TRAWL_EINVAL;
}

static bool is_ident(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The byte offset in line[0..len) of UTF-16 unit u (0-based; len for the end), or -1 past it. */
static ptrdiff_t unit_offset(const uint8_t *line, size_t len, uint32_t u)
{
	size_t at = 0;

	while (u > 0 && at < len) {
		uint32_t cp = 0;
		size_t n = utf8_decode(&cp, line + at, len - at);
		uint32_t units = n && cp > 0xffff ? 2 : 1;

		if (u < units)
			return (ptrdiff_t)at; /* the second half of a pair: its character */
		u -= units;
		at += n ? n : 1;
	}
	return u == 0 ? (ptrdiff_t)at : -1;
}

int nav_ident_at(size_t *start, size_t *n, const uint8_t *text, size_t len, uint32_t line,
		 uint32_t col)
{
	size_t ls = 0, le, a, b;
	ptrdiff_t off;

	*start = *n = 0;
	if (line == 0 || col == 0)
		goto none;
	for (uint32_t k = 1; k < line; k++) {
		const uint8_t *nl = memchr(text + ls, '\n', len - ls);

		if (!nl) {
			error_set("line %u is past the end of the file", line);
			return TRAWL_EINVAL;
		}
		ls = (size_t)(nl - text) + 1;
	}
	{
		const uint8_t *nl = memchr(text + ls, '\n', len - ls);

		le = nl ? (size_t)(nl - text) : len;
	}
	if ((off = unit_offset(text + ls, le - ls, col - 1)) < 0) {
		error_set("column %u is past the end of line %u", col, line);
		return TRAWL_EINVAL;
	}
	a = ls + (size_t)off;
	if (!(a < le && is_ident(text[a]))) {
		if (a == ls || !is_ident(text[a - 1]))
			goto none;
		a--; /* the caret just after a word */
	}
	b = a + 1;
	while (a > ls && is_ident(text[a - 1]))
		a--;
	while (b < le && is_ident(text[b]))
		b++;
	if (text[a] >= '0' && text[a] <= '9')
		goto none; /* a number, not a name */
	if (b - a > NAV_IDENT_MAX) {
		error_set("the identifier at line %u, column %u is over %u bytes", line, col,
			  NAV_IDENT_MAX);
		return TRAWL_EINVAL;
	}
	*start = a;
	*n = b - a;
	return 0;
none:
	error_set("no identifier at line %u, column %u", line, col);
	return TRAWL_EINVAL;
}

unsigned nav_def_tier(bool is_same_file, bool is_same_repo, bool is_same_lang)
{
	if (is_same_file)
		return 0;
	if (is_same_repo)
		return is_same_lang ? 1 : 2;
	return is_same_lang ? 3 : 4;
}

int nav_def_cmp(const void *pa, const void *pb)
{
	const struct nav_def *a = pa, *b = pb;
	size_t n = a->path_len < b->path_len ? a->path_len : b->path_len;
	int c;

	if (a->tier != b->tier)
		return a->tier < b->tier ? -1 : 1;
	if ((c = strcmp(a->repo, b->repo)) != 0)
		return c;
	if ((c = memcmp(a->path, b->path, n)) != 0 || a->path_len != b->path_len)
		return c ? c : a->path_len < b->path_len ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->shard != b->shard)
		return a->shard < b->shard ? -1 : 1;
	return a->sym < b->sym ? -1 : a->sym > b->sym;
}
