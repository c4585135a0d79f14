/* Encoding one Unicode scalar value as UTF-8 (the regex parser, emitter and planner share it). */
#ifndef TRAWL_UTIL_UTF8ENC_H
#define TRAWL_UTIL_UTF8ENC_H

#include <stddef.h>
#include <stdint.h>

/* Writes cp (at most U+10FFFF) to s[0..4) and returns the number of bytes used. */
static inline size_t utf8_encode(uint8_t *s, uint32_t cp)
{
	if (cp < 0x80) {
		s[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		s[0] = (uint8_t)(0xc0 | (cp >> 6));
		s[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		s[0] = (uint8_t)(0xe0 | (cp >> 12));
		s[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	s[0] = (uint8_t)(0xf0 | (cp >> 18));
	s[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	s[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	s[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

#endif
