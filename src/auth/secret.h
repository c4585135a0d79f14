/*
 * The secrets of accounts, made and checked without any store: password hashes (argon2id via
 * libsodium), random session ids and CSRF tokens, API tokens (their format and checksum), the
 * keyed hash under which tokens and session ids are stored, and the parsing of the request
 * headers that carry them. Pure functions over bytes, so the unit tests and the fuzz target
 * (tests/fuzz/fuzz_auth.c) call them directly.
 */
#ifndef TRAWL_AUTH_SECRET_H
#define TRAWL_AUTH_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include <sodium.h>

/* A PHC string "$argon2id$v=19$m=...,t=...,p=1$salt$hash" and its NUL (crypto_pwhash_STRBYTES). */
#define AUTH_PWHASH_LEN 128

/*
 * Hashes password[0..len) with argon2id and a fresh random 16-byte salt (A1): libsodium's
 * MODERATE limits at cost 0, its INTERACTIVE ones (still above the checklist's minimum) at
 * AUTH_PWHASH_TEST, 4 MiB and one pass at AUTH_PWHASH_TIMING (a test's). The whole password is hashed: never truncated (A3). ENOMEM when the
 * hashing memory cannot be had.
 */
int secret_pwhash(char out[AUTH_PWHASH_LEN], const char *password, size_t len, int cost);

/* Whether password[0..len) matches hash (a PHC string from secret_pwhash). */
bool secret_pwverify(const char *hash, const char *password, size_t len);

/*
 * Does the work of a verification that fails, for a user who does not exist, so a sign-in
 * takes the same time either way (A8).
 */
void secret_pwverify_dummy(const char *password, size_t len, int cost);

/*
 * n random bytes from the system CSPRNG, as base64url without padding, in out ((4n+2)/3 + 1
 * bytes: 44 for 32).
 */
void secret_random_b64url(char *out, size_t n_bytes);

/* A new API token: "trawl_" + base62(32 random bytes, 43 characters) + base62(CRC32, 6). */
void secret_token_new(char out[56]);

/*
 * The keyed hash (HMAC-SHA-256 under key) that stores a token or a session id: a database
 * dump alone cannot be used to check guesses.
 */
void secret_keyed_hash(unsigned char out[32], const unsigned char key[32], const char *s,
		       size_t len);

/*
 * The same keyed hash with the key's HMAC state computed once: identifying a request hashes
 * its credential, and keying the hash is half the work of hashing a short string.
 */
struct secret_hasher {
	crypto_auth_hmacsha256_state keyed;
};
void secret_hasher_init(struct secret_hasher *h, const unsigned char key[32]);
void secret_hasher_hash(const struct secret_hasher *h, unsigned char out[32], const char *s,
			size_t len);
void secret_hasher_dispose(struct secret_hasher *h);

/*
 * Loads the 32-byte key in path, creating it (mode 0600, O_EXCL, O_NOFOLLOW) with random bytes
 * when missing. ECORRUPT for a file of another size or not a regular file; EPERM when it is
 * readable by others (the message says to chmod 600); EIO.
 */
int secret_key_load(unsigned char key[32], const char *path);

/*
 * The value of cookie name in a Cookie header (RFC 6265 "a=b; c=d"). ENOTFOUND when absent;
 * EINVAL when it appears twice (a cookie tossed in by a sibling domain must not win) or its
 * value is not AUTH_SESSION_ID_LEN base64url characters. out: at least 44 bytes.
 */
int secret_cookie_value(char out[44], const char *cookie_header, const char *name);

/*
 * The token of an Authorization header "Bearer TOKEN" (scheme case-insensitive, one space,
 * nothing after): *tok points into header. EINVAL for another scheme or a malformed value.
 */
int secret_bearer_value(const char **tok, size_t *len, const char *authorization);

#endif
