/*
 * The checks of auth.h that need no store: the password policy (length, UTF-8, the bundled
 * common-password list, not the user's name), generated passwords, user and group names, and
 * the API token format. The common-password list is compiled in by scripts/gen_passwords.py,
 * lower-cased and sorted, so a lookup is a bisection and needs no file at run time.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth/auth.h"
#include "auth/secret_int.h"
#include "util/error.h"
#include "util/utf8.h"

/* Generated from data/common-passwords.txt: lower-case, unique, sorted by strcmp. */
extern const char *const auth_common_passwords[];
extern const size_t auth_n_common_passwords;

/* The longest entry of the list is far shorter; longer passwords skip the lookup. */
#define COMMON_MAX 64

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

static bool is_common(const char *password, size_t len)
{
	char low[COMMON_MAX + 1];
	size_t lo = 0, hi = auth_n_common_passwords;
	bool found = false;

	if (len > COMMON_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		low[i] = ascii_lower(password[i]);
	low[len] = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(low, auth_common_passwords[mid]);

		if (c == 0) {
			found = true;
			break;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	sodium_memzero(low, sizeof(low));
	return found;
}

static bool is_utf8(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(&cp, (const uint8_t *)s + i, len - i);

		if (n == 0 || cp == 0)
			return false;
		i += n;
	}
	return true;
}

int auth_password_check(const char *user, const char *password, size_t len)
{
	/* SECURITY: no message below may quote the password, not even in part. */
	if (len < AUTH_PASSWORD_MIN) {
		error_set("the password is too short: it needs at least %d bytes",
			  AUTH_PASSWORD_MIN);
		return TRAWL_EINVAL;
	}
	if (len > AUTH_PASSWORD_MAX) {
		error_set("the password is too long: it may have at most %d bytes",
			  AUTH_PASSWORD_MAX);
		return TRAWL_EINVAL;
	}
	if (!is_utf8(password, len)) {
		error_set("the password is not valid UTF-8 text (or holds a NUL character)");
		return TRAWL_EINVAL;
	}
	if (is_common(password, len)) {
		error_set("the password is on the list of common passwords; choose another");
		return TRAWL_EINVAL;
	}
	if (user && strlen(user) == len && strncasecmp(user, password, len) == 0) {
		error_set("the password is the user's name; choose another");
		return TRAWL_EINVAL;
	}
	return 0;
}

void auth_password_generate(char out[21])
{
	static const char b62[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	secret_init();
	/* 20 uniform base62 characters (119 bits); the loop only guards the policy's letter. */
	do {
		for (size_t i = 0; i < 20; i++)
			out[i] = b62[randombytes_uniform(62)];
		out[20] = 0;
	} while (auth_password_check(NULL, out, 20) < 0);
	error_clear();
}

static bool is_name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '@' || c == '+' || c == '-';
}

int auth_name_check(const char *name)
{
	size_t len = strnlen(name, AUTH_NAME_MAX + 1);

	if (len == 0) {
		error_set("a name may not be empty");
		return TRAWL_EINVAL;
	}
	if (len > AUTH_NAME_MAX) {
		error_set("a name may have at most %d bytes", AUTH_NAME_MAX);
		return TRAWL_EINVAL;
	}
	if (name[0] == '-' || name[0] == '.') {
		error_set("a name may not start with '%c'", name[0]);
		return TRAWL_EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_name_char((unsigned char)name[i])) {
			error_set_at(i,
				     "a name may hold only letters, digits and . _ @ + - (byte %zu "
				     "is not one)",
				     i + 1);
			return TRAWL_EINVAL;
		}
	}
	return 0;
}

bool auth_token_well_formed(const char *s, size_t len)
{
	return secret_token_check(s, len);
}
