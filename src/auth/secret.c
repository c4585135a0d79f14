/*
 * The secrets of accounts (secret.h): argon2id password hashes, random ids, the API token
 * format, the keyed hash that stores tokens and session ids, the key file, and the parsing of
 * the Cookie and Authorization headers. Everything cryptographic is libsodium's; this file only
 * chooses parameters and formats.
 */
#include "auth/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zlib.h>

#include "auth/auth.h"
#include "auth/secret_int.h"
#include "util/error.h"
#include "util/file.h"

_Static_assert(AUTH_PWHASH_LEN == crypto_pwhash_STRBYTES, "PHC string buffer size");
_Static_assert(crypto_auth_hmacsha256_KEYBYTES == 32, "keyed hash key size");
_Static_assert(AUTH_TOKEN_LEN ==
		       SECRET_TOKEN_PREFIX_LEN + SECRET_TOKEN_BODY_LEN + SECRET_TOKEN_CRC_LEN,
	       "token layout");

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_start(void)
{
	/* SECURITY: without a working CSPRNG no secret may be made; there is nothing to fall
	 * back to, and sodium_init fails only when the system has no random source at all. */
	if (sodium_init() < 0)
		abort();
}

void secret_init(void)
{
	pthread_once(&sodium_once, sodium_start);
}

/* ---- password hashes ---- */

static void pwhash_limits(int cost, unsigned long long *ops, size_t *mem)
{
	if (cost == AUTH_PWHASH_TEST) {
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	} else if (cost == AUTH_PWHASH_TIMING) {
		*ops = crypto_pwhash_OPSLIMIT_MIN;
		*mem = (size_t)4 << 20;
	} else {
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
	}
}

int secret_pwhash(char out[AUTH_PWHASH_LEN], const char *password, size_t len, int cost)
{
	unsigned long long ops;
	size_t mem;

	secret_init();
	pwhash_limits(cost, &ops, &mem);
	/* The whole password is hashed: libsodium takes its length, never a C string (A3). */
	if (crypto_pwhash_str_alg(out, password, len, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		out[0] = 0;
		error_set("cannot hash a password: out of memory (argon2id needs %zu MiB)",
			  mem >> 20);
		return TRAWL_ENOMEM;
	}
	return 0;
}

bool secret_pwverify(const char *hash, const char *password, size_t len)
{
	secret_init();
	if (!memchr(hash, 0, AUTH_PWHASH_LEN))
		return false;
	return crypto_pwhash_str_verify(hash, password, len) == 0;
}

/*
 * The hashes the dummy verification checks against: one per cost, made once per process with
 * the same limits as real ones, from a random password nobody knows.
 */
static char dummy_hash[3][AUTH_PWHASH_LEN];
static pthread_once_t dummy_once[3] = { PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT,
					PTHREAD_ONCE_INIT };

static int dummy_index(int cost)
{
	return cost == AUTH_PWHASH_TEST ? 1 : cost == AUTH_PWHASH_TIMING ? 2 : 0;
}

static void dummy_make(int cost)
{
	char pw[SECRET_B64_LEN(32)];

	secret_random_b64url(pw, 32);
	/* On failure the hash stays "" and verifying it fails at once; the real verification
	 * would have failed the same way for lack of memory. */
	if (secret_pwhash(dummy_hash[dummy_index(cost)], pw, strlen(pw), cost) < 0)
		dummy_hash[dummy_index(cost)][0] = 0;
	sodium_memzero(pw, sizeof(pw));
}

static void dummy_make_moderate(void)
{
	dummy_make(0);
}

static void dummy_make_test(void)
{
	dummy_make(AUTH_PWHASH_TEST);
}

static void dummy_make_timing(void)
{
	dummy_make(AUTH_PWHASH_TIMING);
}

void secret_pwverify_dummy(const char *password, size_t len, int cost)
{
	static void (*const make[3])(void) = { dummy_make_moderate, dummy_make_test,
					       dummy_make_timing };
	int i = dummy_index(cost);

	pthread_once(&dummy_once[i], make[i]);
	(void)secret_pwverify(dummy_hash[i], password, len);
}

/* ---- random ids ---- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void secret_random_b64url(char *out, size_t n_bytes)
{
	unsigned char chunk[48]; /* a multiple of 3: chunks encode without padding between them */
	size_t o = 0;

	secret_init();
	while (n_bytes > 0) {
		size_t n = n_bytes < sizeof(chunk) ? n_bytes : sizeof(chunk);

		randombytes_buf(chunk, n);
		for (size_t i = 0; i < n; i += 3) {
			uint32_t v = (uint32_t)chunk[i] << 16;
			size_t k = n - i < 3 ? n - i : 3;

			if (k > 1)
				v |= (uint32_t)chunk[i + 1] << 8;
			if (k > 2)
				v |= chunk[i + 2];
			for (size_t j = 0; j <= k; j++)
				out[o++] = b64url[(v >> (18 - 6 * j)) & 63];
		}
		n_bytes -= n;
	}
	out[o] = 0;
	sodium_memzero(chunk, sizeof(chunk));
}

bool secret_is_b64url(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* ---- API tokens ---- */

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/*
 * Writes the big-endian number in[0..n) as exactly width base-62 digits, most significant
 * first (callers choose a width that holds every value of n bytes). Clobbers in.
 */
static void base62_encode(char *out, size_t width, unsigned char *in, size_t n)
{
	for (size_t d = width; d-- > 0;) {
		unsigned rem = 0;

		for (size_t i = 0; i < n; i++) {
			unsigned cur = rem * 256 + in[i];

			in[i] = (unsigned char)(cur / 62);
			rem = cur % 62;
		}
		out[d] = b62[rem];
	}
}

static int base62_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	return -1;
}

int secret_base62_decode(unsigned char *out, size_t n, const char *s, size_t len)
{
	memset(out, 0, n);
	for (size_t k = 0; k < len; k++) {
		int d = base62_digit((unsigned char)s[k]);
		unsigned carry;

		if (d < 0)
			return TRAWL_EINVAL;
		carry = (unsigned)d;
		for (size_t i = n; i-- > 0;) {
			unsigned cur = out[i] * 62u + carry;

			out[i] = (unsigned char)cur;
			carry = cur >> 8;
		}
		if (carry)
			return TRAWL_EINVAL; /* more than n bytes' worth */
	}
	return 0;
}

static void token_crc(char out[SECRET_TOKEN_CRC_LEN], const char *body)
{
	uint32_t crc = (uint32_t)crc32(0, (const unsigned char *)body, SECRET_TOKEN_BODY_LEN);
	unsigned char be[4] = { (unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
				(unsigned char)(crc >> 8), (unsigned char)crc };

	base62_encode(out, SECRET_TOKEN_CRC_LEN, be, sizeof(be));
}

void secret_token_new(char out[56])
{
	unsigned char raw[32];
	char *body = out + SECRET_TOKEN_PREFIX_LEN;

	secret_init();
	randombytes_buf(raw, sizeof(raw));
	memcpy(out, SECRET_TOKEN_PREFIX, SECRET_TOKEN_PREFIX_LEN);
	base62_encode(body, SECRET_TOKEN_BODY_LEN, raw, sizeof(raw));
	token_crc(body + SECRET_TOKEN_BODY_LEN, body);
	out[AUTH_TOKEN_LEN] = 0;
	sodium_memzero(raw, sizeof(raw));
}

/*
 * Whether body is the canonical encoding of 32 bytes: 43 base62 digits no greater than
 * base62(2^256 - 1). The digits 0-9A-Za-z ascend in ASCII, so comparing the strings compares
 * the numbers; this runs on every request that carries a token, where decoding would cost more.
 */
static bool is_canonical_body(const char *body)
{
	static const char max[] = "yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1";

	_Static_assert(sizeof(max) - 1 == SECRET_TOKEN_BODY_LEN, "token body length");
	for (size_t i = 0; i < SECRET_TOKEN_BODY_LEN; i++)
		if (base62_digit((unsigned char)body[i]) < 0)
			return false;
	return memcmp(body, max, SECRET_TOKEN_BODY_LEN) <= 0;
}

bool secret_token_check(const char *s, size_t len)
{
	char crc[SECRET_TOKEN_CRC_LEN];
	const char *body = s + SECRET_TOKEN_PREFIX_LEN;
	bool ok;

	if (len != AUTH_TOKEN_LEN || memcmp(s, SECRET_TOKEN_PREFIX, SECRET_TOKEN_PREFIX_LEN) != 0)
		return false;
	if (!is_canonical_body(body))
		return false;
	token_crc(crc, body);
	ok = memcmp(crc, body + SECRET_TOKEN_BODY_LEN, SECRET_TOKEN_CRC_LEN) == 0;
	return ok;
}

/* ---- keyed hash and its key ---- */

void secret_keyed_hash(unsigned char out[32], const unsigned char key[32], const char *s, size_t len)
{
	secret_init();
	crypto_auth_hmacsha256(out, (const unsigned char *)s, len, key);
}

void secret_hasher_init(struct secret_hasher *h, const unsigned char key[32])
{
	secret_init();
	crypto_auth_hmacsha256_init(&h->keyed, key, 32);
}

void secret_hasher_hash(const struct secret_hasher *h, unsigned char out[32], const char *s,
			size_t len)
{
	crypto_auth_hmacsha256_state st = h->keyed;

	crypto_auth_hmacsha256_update(&st, (const unsigned char *)s, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

void secret_hasher_dispose(struct secret_hasher *h)
{
	sodium_memzero(h, sizeof(*h));
}

/* Reads exactly 32 bytes from fd, an open regular file of mode 0600 or stricter. */
static int key_read(unsigned char key[32], int fd, const char *path)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) < 0) {
		error_set("%s: cannot stat the key file: %s", path, strerror(errno));
		return TRAWL_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		error_set("%s: the key file is not a regular file", path);
		return TRAWL_ECORRUPT;
	}
	/* SECURITY: with the key, a database dump would let anyone test token guesses offline. */
	if (!file_is_private(&st)) {
		error_set("%s: the key file is accessible to group or others (mode %03o, owner uid "
			  "%u): " FILE_PRIVATE_HINT,
			  path, (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid);
		return TRAWL_EPERM;
	}
	if (st.st_size != 32) {
		error_set("%s: the key file holds %lld bytes, not 32", path, (long long)st.st_size);
		return TRAWL_ECORRUPT;
	}
	while (got < 32) {
		ssize_t r = read(fd, key + got, 32 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			error_set("%s: cannot read the key file: %s", path,
				  r < 0 ? strerror(errno) : "it is shorter than 32 bytes");
			return r < 0 ? TRAWL_EIO : TRAWL_ECORRUPT;
		}
		got += (size_t)r;
	}
	return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void dir_sync(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	int fd;

	if (!slash)
		memcpy(dir, ".", 2);
	else if (n == 0)
		memcpy(dir, "/", 2);
	else if (n < sizeof(dir)) {
		memcpy(dir, path, n);
		dir[n] = 0;
	} else
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/*
 * Creates path with 32 random bytes. The bytes are written and synced under a temporary name
 * (O_CREAT | O_EXCL | O_NOFOLLOW, 0600) and then linked to path, which fails when path exists:
 * two processes starting together never see a half-written key, and the loser reads the
 * winner's. 0, or EIO; EEXIST-like races return 0 too (the caller reads path again).
 */
static int key_create(const char *path)
{
	unsigned char key[32];
	char tmp[4096];
	int fd = -1, n, err = 0;

	n = snprintf(tmp, sizeof(tmp), "%s.new.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		error_set("%s: the key file's path is too long", path);
		return TRAWL_EINVAL;
	}
	(void)unlink(tmp); /* a leftover of this pid from a crash */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_set("%s: cannot create the key file: %s", tmp, strerror(errno));
		return TRAWL_EIO;
	}
	secret_init();
	randombytes_buf(key, sizeof(key));
	if (write_all(fd, key, sizeof(key)) < 0 || fsync(fd) < 0) {
		error_set("%s: cannot write the key file: %s", tmp, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	if (link(tmp, path) < 0 && errno != EEXIST) {
		error_set("%s: cannot create the key file: %s", path, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	dir_sync(path);
out:
	sodium_memzero(key, sizeof(key));
	close(fd);
	(void)unlink(tmp);
	return err;
}

int secret_key_load(unsigned char key[32], const char *path)
{
	int fd, err;

	for (int attempt = 0;; attempt++) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT || attempt > 0)
			break;
		if ((err = key_create(path)) < 0)
			return err;
	}
	if (fd < 0) {
		if (errno == ELOOP) {
			error_set("%s: the key file is a symbolic link", path);
			return TRAWL_ECORRUPT;
		}
		error_set("%s: cannot open the key file: %s", path, strerror(errno));
		return TRAWL_EIO;
	}
	err = key_read(key, fd, path);
	close(fd);
	if (err < 0)
		sodium_memzero(key, 32);
	return err;
}

/* ---- request headers ---- */

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

int secret_cookie_value(char out[44], const char *cookie_header, const char *name)
{
	size_t name_len = strlen(name);
	const char *p = cookie_header, *found = NULL;
	size_t found_len = 0;

	out[0] = 0;
	while (*p) {
		const char *end = strchr(p, ';'), *eq;
		size_t n;

		if (!end)
			end = p + strlen(p);
		while (p < end && is_ows(*p))
			p++;
		n = (size_t)(end - p);
		while (n > 0 && is_ows(p[n - 1]))
			n--;
		eq = memchr(p, '=', n);
		if (eq && (size_t)(eq - p) == name_len && memcmp(p, name, name_len) == 0) {
			/* SECURITY: a cookie set by a sibling domain arrives beside ours, and
			 * browsers order them by path, not by origin: neither may win. */
			if (found) {
				error_set("the Cookie header holds %s twice", name);
				return TRAWL_EINVAL;
			}
			found = eq + 1;
			found_len = n - name_len - 1;
		}
		p = *end ? end + 1 : end;
	}
	if (!found) {
		error_set("the Cookie header holds no %s", name);
		return TRAWL_ENOTFOUND;
	}
	if (found_len != AUTH_SESSION_ID_LEN || !secret_is_b64url(found, found_len)) {
		error_set("the %s cookie is malformed", name);
		return TRAWL_EINVAL;
	}
	memcpy(out, found, found_len);
	out[found_len] = 0;
	return 0;
}

/* RFC 7235's token68 characters. */
static bool is_token68(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

int secret_bearer_value(const char **tok, size_t *len, const char *authorization)
{
	const char *v = authorization + 7;
	size_t n = 0;

	*tok = NULL;
	*len = 0;
	if (strncasecmp(authorization, "Bearer ", 7) != 0) {
		error_set("the Authorization header is not \"Bearer TOKEN\"");
		return TRAWL_EINVAL;
	}
	while (v[n] && is_token68((unsigned char)v[n]) && n <= SECRET_BEARER_MAX)
		n++;
	while (v[n] == '=' && n <= SECRET_BEARER_MAX)
		n++;
	if (n == 0 || v[n] || n > SECRET_BEARER_MAX) {
		error_set("the Authorization header's bearer token is malformed");
		return TRAWL_EINVAL;
	}
	*tok = v;
	*len = n;
	return 0;
}
