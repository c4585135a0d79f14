/* API tokens out of logged text (redact.h). */
#include "server/redact.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "util/hex.h"

#define TOKEN_PREFIX "trawl_"
#define TOKEN_PREFIX_LEN (sizeof(TOKEN_PREFIX) - 1)
#define TOKEN_TAIL_LEN (AUTH_TOKEN_LEN - TOKEN_PREFIX_LEN)

/*
 * How many times percent-encoding is undone. A router decodes once; a proxy in front may
 * decode once more; beyond that nothing turns the text back into a token.
 */
#define DECODE_DEPTH 3

_Static_assert(sizeof(REDACT_TOKEN) - 1 < AUTH_TOKEN_LEN, "redacting never lengthens");

/* One character of a decoded view of the text, and the bytes of the original it came from. */
struct view {
	char *c;
	size_t *from, *to; /* original bytes [from[i], to[i]) became c[i] */
	size_t len;
};

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

static void view_dispose(struct view *v)
{
	free(v->c);
	free(v->from);
	free(v->to);
	memset(v, 0, sizeof(*v));
}

static int view_alloc(struct view *v, size_t len)
{
	size_t n = len ? len : 1;

	memset(v, 0, sizeof(*v));
	if (n > SIZE_MAX / sizeof(size_t))
		return -1;
	v->c = malloc(n);
	v->from = malloc(n * sizeof(size_t));
	v->to = malloc(n * sizeof(size_t));
	if (!v->c || !v->from || !v->to) {
		view_dispose(v);
		return -1;
	}
	return 0;
}

/* s itself, each byte its own character. */
static int view_of_text(struct view *v, const char *s, size_t len)
{
	if (view_alloc(v, len) < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		v->c[i] = s[i];
		v->from[i] = i;
		v->to[i] = i + 1;
	}
	v->len = len;
	return 0;
}

/*
 * in with each "%XX" undone once into out; a decoded character spans the original bytes of
 * its three. Returns how many were decoded (0: out equals in), or -1 when out of memory.
 */
static long view_decode(struct view *out, const struct view *in)
{
	size_t r = 0, w = 0;
	long decoded = 0;

	if (view_alloc(out, in->len) < 0)
		return -1;
	while (r < in->len) {
		bool is_escape = r + 2 < in->len && in->c[r] == '%';
		int hi = is_escape ? hex_digit((unsigned char)in->c[r + 1]) : -1;
		int lo = hi >= 0 ? hex_digit((unsigned char)in->c[r + 2]) : -1;

		out->from[w] = in->from[r];
		if (lo >= 0) {
			out->c[w] = (char)(hi * 16 + lo);
			out->to[w] = in->to[r + 2];
			r += 3;
			decoded++;
		} else {
			out->c[w] = in->c[r];
			out->to[w] = in->to[r];
			r++;
		}
		w++;
	}
	out->len = w;
	return decoded;
}

/* Marks in hide[] the original bytes of every token shape in v. */
static void view_mark_tokens(const struct view *v, bool *hide)
{
	size_t i = 0;

	while (i < v->len) {
		size_t run = token_run(v->c + i, v->len - i);

		if (run >= TOKEN_TAIL_LEN) {
			size_t end = i + TOKEN_PREFIX_LEN + run;

			memset(hide + v->from[i], 1, v->to[end - 1] - v->from[i]);
			/*
			 * Not past the run: it may end in the letters of a second token's
			 * prefix ("trawl_<49>trawl_<49>" runs on through "trawl"), whose own
			 * secret follows the run.
			 */
			i += TOKEN_PREFIX_LEN;
		} else {
			i++;
		}
	}
}

/* s with each run of hidden bytes replaced by REDACT_TOKEN; never longer than s. */
static char *splice_out(const char *s, size_t len, const bool *hide)
{
	char *out = malloc(len + 1);
	size_t r = 0, w = 0;

	if (!out)
		return NULL;
	while (r < len) {
		if (!hide[r]) {
			out[w++] = s[r++];
			continue;
		}
		memcpy(out + w, REDACT_TOKEN, sizeof(REDACT_TOKEN) - 1);
		w += sizeof(REDACT_TOKEN) - 1;
		while (r < len && hide[r])
			r++;
	}
	out[w] = '\0';
	return out;
}

/*
 * SECURITY: L2: the token is looked for in the text as written and in each decoding of it,
 * since the server acts on the decoded path: "trawl%5F..." reaches a handler as the token. The
 * bytes to hide are those of the original, so the text logged is still the text received.
 */
char *redact_tokens(const char *s, size_t len)
{
	struct view cur = { 0 }, next = { 0 };
	bool *hide = len < SIZE_MAX ? calloc(len + 1, 1) : NULL;
	char *out = NULL;

	if (!hide || view_of_text(&cur, s, len) < 0)
		goto out;
	for (int depth = 0;; depth++) {
		long decoded;

		view_mark_tokens(&cur, hide);
		if (depth == DECODE_DEPTH)
			break;
		if ((decoded = view_decode(&next, &cur)) < 0)
			goto out;
		view_dispose(&cur);
		cur = next;
		memset(&next, 0, sizeof(next));
		if (decoded == 0)
			break;
	}
	out = splice_out(s, len, hide);
out:
	view_dispose(&cur);
	view_dispose(&next);
	free(hide);
	return out;
}
