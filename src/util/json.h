/*
 * JSON output helpers. Text from repositories may hold anything, so strings are always encoded
 * to valid JSON: control characters (C0, DEL and C1, so that JSON printed on a terminal cannot
 * drive it), quotes and backslashes escaped; U+2028 and U+2029 escaped (they break JavaScript
 * string literals); invalid UTF-8 replaced by U+FFFD.
 */
#ifndef TRAWL_UTIL_JSON_H
#define TRAWL_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/utf8.h" /* utf8_seq_len(), which JSON output is built on */

/*
 * Appends s[0..len) as a quoted JSON string. *is_lossy (if not NULL) is set when invalid UTF-8
 * had to be replaced. ENOMEM, ELIMIT.
 */
int json_put_string(struct buf *b, const char *s, size_t len, bool *is_lossy);

/* Appends cp as a \u escape (a surrogate pair above U+FFFF). ENOMEM, ELIMIT. */
int json_put_codepoint(struct buf *b, uint32_t cp);

#endif
