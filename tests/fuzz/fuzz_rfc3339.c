/*
 * Fuzz target for the RFC 3339 parser (src/util/rfc3339.c), which reads the audit trail's
 * ?since= from any administrator's request. Checks: never a crash or a read past the given
 * length; a refusal explains itself; an accepted time lies within the years 0000 to 9999 (give
 * or take a day of offset) and its second formats and parses back to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/rfc3339.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in milliseconds, widened by a day. */
#define MIN_MS (-62167219200000LL - 86400000LL)
#define MAX_MS (253402300800000LL + 86400000LL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1), out[RFC3339_LEN];
	int64_t ms = 0, back = 0, sec;

	if (!s)
		return 0;
	/* A copy of exactly size bytes: ASan catches a read past the length. */
	memcpy(s, data, size);
	if (rfc3339_parse(&ms, s, size) < 0) {
		if (ms != 0 || !error_last()[0])
			abort();
		goto out;
	}
	if (size < 10 || ms < MIN_MS || ms > MAX_MS)
		abort();
	sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	if (rfc3339_format(out, sec) == 0 &&
	    (rfc3339_parse(&back, out, strlen(out)) < 0 || back != sec * 1000))
		abort();
out:
	free(s);
	return 0;
}
