/*
 * Hexadecimal digits, shared by the regex parser (\x{...}), URL percent-decoding and commit ids
 * (a permalink's rev=).
 */
#ifndef TRAWL_UTIL_HEX_H
#define TRAWL_UTIL_HEX_H

#include <stdbool.h>
#include <stddef.h>

#define HEX_COMMIT_LEN 40 /* a git commit id (SHA-1) in hex */

/* The value of hex digit c (either case), or -1 when c is not one. */
static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Whether s[0..len) is a full commit id: HEX_COMMIT_LEN hex digits, either case. */
static inline bool hex_is_commit_id(const char *s, size_t len)
{
	if (len != HEX_COMMIT_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (hex_digit((unsigned char)s[i]) < 0)
			return false;
	return true;
}

#endif
