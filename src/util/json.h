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

/*
 * How many of jansson's allocations have failed on the calling thread. jansson out of memory
 * while reading does not always say so: it reports a syntax error when it cannot copy a
 * string, and drops the byte it was adding when growing a string fails, with no error at all
 * (its lexer ignores that result). A reader that must not take damaged data for good (the
 * MANIFEST) compares this count before and after json_loadb and treats a change as ENOMEM.
 * The first call routes jansson's allocations through a counting malloc (process-wide, once);
 * allocations before it are not counted, and jansson's frees stay plain free.
 */
unsigned json_alloc_failures(void);

#endif
