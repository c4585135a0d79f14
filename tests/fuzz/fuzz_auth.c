/*
 * Fuzz target for the parsers and checks of accounts that see untrusted bytes: the Cookie and
 * Authorization headers (secret_cookie_value, secret_bearer_value), the API token format
 * (auth_token_well_formed), names (auth_name_check) and the password policy
 * (auth_password_check; never a hash: the fuzzer must stay fast). The whole input goes to each.
 * Checks: never a crash; what is accepted has the promised shape; a refusal has a message that
 * does not quote the input (a secret must never reach a log line).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "auth/secret.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* A refusal of s[0..len) again (the error message is error_last()'s). */
typedef void (*refuse_fn)(const char *s, size_t len);

/* s with every letter and digit moved to the next one of its kind: the same shape, new text. */
static char *rotated(const char *s, size_t len)
{
	char *r = malloc(len + 1);

	if (!r)
		abort();
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c >= 'a' && c <= 'z')
			c = c == 'z' ? 'a' : (char)(c + 1);
		else if (c >= 'A' && c <= 'Z')
			c = c == 'Z' ? 'A' : (char)(c + 1);
		else if (c >= '0' && c <= '9')
			c = c == '9' ? '0' : (char)(c + 1);
		r[i] = c;
	}
	r[len] = 0;
	return r;
}

/*
 * A refusal must explain itself without quoting the secret it was given. The wording may hold
 * the secret's text by chance ("bearer t" in "...'s bearer token..."): a quote is text that
 * follows the input, so the secret counts as quoted only if the refusal of the same secret
 * with its letters and digits changed quotes the changed text too.
 */
static void check_message(const char *secret, size_t len, refuse_fn again)
{
	const char *msg = error_last();
	char *alt;

	if (!msg[0])
		abort();
	if (len < 8 || !memmem(msg, strlen(msg), secret, len))
		return;
	alt = rotated(secret, len);
	again(alt, len);
	msg = error_last();
	if (memmem(msg, strlen(msg), alt, len))
		abort();
	free(alt);
}

static void refuse_bearer(const char *s, size_t len)
{
	char *h = malloc(len + 8);
	const char *tok;
	size_t n;

	if (!h)
		abort();
	memcpy(h, "Bearer ", 7);
	memcpy(h + 7, s, len);
	h[len + 7] = 0;
	(void)secret_bearer_value(&tok, &n, h);
	free(h);
}

static void refuse_name(const char *s, size_t len)
{
	char *n = strndup(s, len);

	if (!n)
		abort();
	(void)auth_name_check(n);
	free(n);
}

static void refuse_password(const char *s, size_t len)
{
	(void)auth_password_check("fuzz-user", s, len);
}

static void check_cookie(const char *header)
{
	char out[44];
	int err = secret_cookie_value(out, header, AUTH_COOKIE_NAME);

	if (err < 0) {
		if (out[0])
			abort();
		return;
	}
	if (strlen(out) != AUTH_SESSION_ID_LEN)
		abort();
	for (size_t i = 0; i < AUTH_SESSION_ID_LEN; i++)
		if (!is_b64url(out[i]))
			abort();
	if (!strstr(header, AUTH_COOKIE_NAME "=") || !strstr(header, out))
		abort();
}

static void check_bearer(const char *header)
{
	const char *tok;
	size_t len;
	int err = secret_bearer_value(&tok, &len, header);

	if (err < 0) {
		if (tok || len)
			abort();
		check_message(header + (strlen(header) > 7 ? 7 : 0),
			      strlen(header) > 7 ? strlen(header) - 7 : 0, refuse_bearer);
		return;
	}
	if (strncasecmp(header, "Bearer ", 7) != 0 || tok != header + 7 || len == 0 ||
	    tok[len] != 0 || strchr(tok, ' '))
		abort();
}

static void check_token(const char *s, size_t len)
{
	if (!auth_token_well_formed(s, len))
		return;
	if (len != AUTH_TOKEN_LEN || memcmp(s, "trawl_", 6) != 0)
		abort();
	for (size_t i = 6; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			abort();
	}
}

static void check_name(const char *name)
{
	size_t len = strlen(name);

	if (auth_name_check(name) < 0) {
		check_message(name, len, refuse_name);
		return;
	}
	if (len == 0 || len > AUTH_NAME_MAX || name[0] == '-' || name[0] == '.')
		abort();
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@+-") !=
	    len)
		abort();
}

static void check_password(const char *pw, size_t len)
{
	if (auth_password_check("fuzz-user", pw, len) < 0) {
		check_message(pw, len, refuse_password);
		return;
	}
	if (len < AUTH_PASSWORD_MIN || len > AUTH_PASSWORD_MAX || memchr(pw, 0, len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	error_clear();
	check_cookie(s);
	check_bearer(s);
	check_token((const char *)data, size);
	check_name(s);
	check_password((const char *)data, size);
	free(s);
	return 0;
}
