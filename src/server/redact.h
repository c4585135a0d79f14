/*
 * API tokens kept out of what the server writes down. A token pasted where it does not belong
 * (a URL path, a search box) would otherwise reach the request log and the audit trail, which
 * are read by more people, and kept longer, than the token's owner meant. Nothing here knows
 * about libmicrohttpd: the unit tests call it directly.
 */
#ifndef TRAWL_SERVER_REDACT_H
#define TRAWL_SERVER_REDACT_H

#include <stddef.h>

/* What a token becomes. */
#define REDACT_TOKEN "trawl_[REDACTED]"

/*
 * s[0..len) in a new NUL-terminated string, with every "trawl_" followed by a run of at least
 * 49 base62 characters (an API token's shape, which secret scanners match too; the checksum
 * is not checked, so a mistyped token goes as well) replaced by REDACT_TOKEN, the whole run
 * included. The shape is also looked for after undoing percent-encoding (up to three times):
 * the original bytes that decode to it ("trawl%5F...", "%74rawl_...") are what is replaced.
 * NULL when out of memory.
 */
char *redact_tokens(const char *s, size_t len);

#endif
