/*
 * The checks of auth.h that need no store: the password policy (length, UTF-8, the bundled
 * common-password list, no short unit repeated, no straight run, no common password repeated
 * or padded, not the user's name), generated passwords, user and group names, and
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

/* The longest repeated unit refused outright ("abcabc..."); longer ones only if common. */
#define UNIT_MAX 6

static bool is_letter(char c)
{
	c = ascii_lower(c);
	return c >= 'a' && c <= 'z';
}

/* Whether p[0..len) is its first u bytes over and over (the last time perhaps in part). */
static bool has_period(const char *p, size_t len, size_t u)
{
	for (size_t i = u; i < len; i++)
		if (ascii_lower(p[i]) != ascii_lower(p[i - u]))
			return false;
	return true;
}

/* The shortest period of p, at most len / 2; 0 when it has none. */
static size_t period_of(const char *p, size_t len)
{
	for (size_t u = 1; u <= len / 2; u++)
		if (has_period(p, len, u))
			return u;
	return 0;
}

/* Whether p is a common password, or one said two or more times over. */
static bool is_common_repeated(const char *p, size_t len)
{
	size_t u = period_of(p, len);

	return is_common(p, len) || (u > 0 && len % u == 0 && is_common(p, u));
}

/*
 * Straight runs, forwards or backwards, wrapping round: the alphabet, the digits, the keyboard's
 * letter rows read one after the other, and the shifted digit row.
 */
static const char *const runs[] = {
	"abcdefghijklmnopqrstuvwxyz",
	"0123456789",
	"qwertyuiopasdfghjklzxcvbnm",
	"!@#$%^&*()",
};

static bool follows(const char *run, size_t n, const char *p, size_t len, int step)
{
	const char *at = strchr(run, ascii_lower(p[0]));
	size_t k;

	if (!p[0] || !at)
		return false;
	k = (size_t)(at - run);
	for (size_t i = 1; i < len; i++) {
		k = step > 0 ? (k + 1) % n : (k + n - 1) % n;
		if (ascii_lower(p[i]) != run[k])
			return false;
	}
	return true;
}

static bool is_straight_run(const char *p, size_t len)
{
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		size_t n = strlen(runs[i]);

		if (follows(runs[i], n, p, len, 1) || follows(runs[i], n, p, len, -1))
			return true;
	}
	return false;
}

/*
 * Whether p is a common password (or one repeated) with digits, symbols or one letter said
 * over and over added before or after it: "Password123!", "!!qwerty2024", "monkeyyyyyyy".
 */
static bool is_common_padded(const char *p, size_t len)
{
	size_t b = 0, e = len;

	while (b < e && !is_letter(p[b]))
		b++;
	while (e > b && !is_letter(p[e - 1]))
		e--;
	if (b == e)
		return false;
	if (is_common_repeated(p + b, e - b))
		return true;
	/* A trailing run of one letter, cut to one and to two of it. */
	while (e - b >= 3 && ascii_lower(p[e - 1]) == ascii_lower(p[e - 2]) &&
	       ascii_lower(p[e - 2]) == ascii_lower(p[e - 3]))
		e--;
	return (e - b >= 2 && is_common_repeated(p + b, e - b - 1)) ||
	       is_common_repeated(p + b, e - b);
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
		error_set("the password is too short: it needs at least %d bytes", AUTH_PASSWORD_MIN);
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
	if (period_of(password, len) > 0 && period_of(password, len) <= UNIT_MAX) {
		error_set("the password is one character or a short group of them repeated; "
			  "choose another");
		return TRAWL_EINVAL;
	}
	if (is_straight_run(password, len)) {
		error_set("the password is a straight run (abcd..., 1234..., a keyboard row); "
			  "choose another");
		return TRAWL_EINVAL;
	}
	if (is_common_padded(password, len)) {
		error_set("the password is a common password repeated or with digits, symbols or "
			  "repeats added; choose another");
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
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

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
