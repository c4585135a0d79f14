/*
 * UTF-8 validation for the shard writer, which records per document whether its content is
 * valid UTF-8 (DOC_INVALID_UTF8) so that search can pick its matching mode without looking.
 */
#ifndef TRAWL_INDEX_UTF8_H
#define TRAWL_INDEX_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Whether p[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF, no truncated sequence at the end); the same rule as utf8_seq_len() in
 * util/json.h. ASCII runs are checked 16 bytes at a time.
 */
bool utf8_is_valid(const uint8_t *p, size_t n);

#endif
