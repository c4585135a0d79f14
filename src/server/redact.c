/* API tokens out of logged text (redact.h). */
#include "server/redact.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"

#define TOKEN_PREFIX "trawl_"
#define TOKEN_PREFIX_LEN (sizeof(TOKEN_PREFIX) - 1)
#define TOKEN_TAIL_LEN (AUTH_TOKEN_LEN - TOKEN_PREFIX_LEN)

_Static_assert(sizeof(REDACT_TOKEN) - 1 < AUTH_TOKEN_LEN, "redacting never lengthens");

static bool is_base62(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* How many base62 characters follow a token prefix at s[0..len), or 0 without the prefix. */
static size_t token_run(const char *s, size_t len)
{
	size_t n = TOKEN_PREFIX_LEN;

	if (len < TOKEN_PREFIX_LEN || memcmp(s, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0)
		return 0;
	while (n < len && is_base62((unsigned char)s[n]))
		n++;
	return n - TOKEN_PREFIX_LEN;
}

char *redact_tokens(const char *s, size_t len)
{
	/* A token is longer than what replaces it: the result is never longer than s. */
	char *out = len < SIZE_MAX ? malloc(len + 1) : NULL;
	size_t r = 0, w = 0;

	if (!out)
		return NULL;
	while (r < len) {
		size_t run = token_run(s + r, len - r);

		if (run >= TOKEN_TAIL_LEN) {
			memcpy(out + w, REDACT_TOKEN, sizeof(REDACT_TOKEN) - 1);
			w += sizeof(REDACT_TOKEN) - 1;
			r += TOKEN_PREFIX_LEN + run;
		} else {
			out[w++] = s[r++];
		}
	}
	out[w] = '\0';
	return out;
}
