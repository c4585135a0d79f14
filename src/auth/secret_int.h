/*
 * What secret.c shares with the rest of src/auth (password.c, throttle.c) and their tests, and
 * nothing else includes: the token layout, libsodium's one-time start, and the decoders the
 * format checks use.
 */
#ifndef TRAWL_AUTH_SECRET_INT_H
#define TRAWL_AUTH_SECRET_INT_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_TOKEN_PREFIX "trawl_"
#define SECRET_TOKEN_PREFIX_LEN 6
#define SECRET_TOKEN_BODY_LEN 43 /* base62 of 32 bytes: 62^43 > 2^256 */
#define SECRET_TOKEN_CRC_LEN 6   /* base62 of the CRC32 of the body's characters */

/* The longest bearer credential secret_bearer_value accepts (ours are AUTH_TOKEN_LEN). */
#define SECRET_BEARER_MAX 256

/* Base64url characters (no padding) for n bytes, and the NUL. */
#define SECRET_B64_LEN(n) (((n) * 4 + 2) / 3 + 1)

/* Starts libsodium once per process (thread-safe); every entry point calls it. */
void secret_init(void);

/* Whether s[0..len) holds only base64url characters. */
bool secret_is_b64url(const char *s, size_t len);

/*
 * Decodes the base-62 digits s[0..len) ("0-9A-Za-z", most significant first) into the
 * big-endian number out[0..n). EINVAL for a character outside the alphabet or a value that
 * needs more than n bytes.
 */
int secret_base62_decode(unsigned char *out, size_t n, const char *s, size_t len);

/* Whether s[0..len) is "trawl_" + 43 base62 characters of 32 bytes + their checksum. */
bool secret_token_check(const char *s, size_t len);

#endif
