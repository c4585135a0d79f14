/* Hexadecimal digits, shared by the regex parser (\x{...}) and URL percent-decoding. */
#ifndef TRAWL_UTIL_HEX_H
#define TRAWL_UTIL_HEX_H

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

#endif
