/*
 * Signed internal requests (cluster.h): HMAC-SHA256 over the target searcher's name, the method,
 * path, time, nonce and the body's hash, an expiry window and a bounded table of the nonces seen within it.
 */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "util/error.h"
#include "util/file.h"

#define NONCE_BYTES 16
#define PROBES 64

void cluster_key_of(struct cluster_key *out, const void *secret, size_t len)
{
	crypto_hash_sha256(out->k, secret, len);
}

int cluster_key_load(struct cluster_key *out, const char *path)
{
	uint8_t raw[4096], dec[4096];
	size_t len = 0, dlen = 0, a = 0;
	struct stat st;
	ssize_t got;
	int fd;

	if (file_open_regular(&fd, &st, path, false) < 0) {
		error_prefix("--cluster-secret-file");
		return TRAWL_EIO;
	}
	/* SECURITY: whoever reads the secret can sign requests for any repository. */
	if (!file_is_private(&st)) {
		close(fd);
		error_set("--cluster-secret-file %s: accessible to group or others (mode %03o, owner "
			  "uid %u): " FILE_PRIVATE_HINT,
			  path, (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid);
		return TRAWL_EPERM;
	}
	while (len < sizeof(raw) && (got = read(fd, raw + len, sizeof(raw) - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			close(fd);
			error_set("--cluster-secret-file %s: %s", path, strerror(errno));
			return TRAWL_EIO;
		}
		len += (size_t)got;
	}
	close(fd);
	while (len && (raw[len - 1] == '\n' || raw[len - 1] == '\r' || raw[len - 1] == ' '))
		len--;
	while (a < len && (raw[a] == ' ' || raw[a] == '\n'))
		a++;
	/* base64 text when it decodes whole, else the bytes themselves. */
	if (sodium_base642bin(dec, sizeof(dec), (const char *)raw + a, len - a, "\n\r", &dlen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) == 0 && dlen >= CLUSTER_KEY_BYTES) {
		cluster_key_of(out, dec, dlen);
	} else if (len - a >= CLUSTER_KEY_BYTES) {
		cluster_key_of(out, raw + a, len - a);
	} else {
		sodium_memzero(raw, sizeof(raw));
		error_set("--cluster-secret-file: %s holds fewer than %d bytes (make one with "
			  "`head -c 32 /dev/urandom | base64 > FILE`)",
			  path, CLUSTER_KEY_BYTES);
		return TRAWL_EINVAL;
	}
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(dec, sizeof(dec));
	return 0;
}

void cluster_body_hash(char out[CLUSTER_HASH_HEX], const void *body, size_t len)
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, body ? body : (const void *)"", len);
	sodium_bin2hex(out, CLUSTER_HASH_HEX, h, sizeof(h));
}

/* The MAC of the canonical request (its body by its hash in hex) into mac. */
static void mac_of_hash(uint8_t mac[crypto_auth_hmacsha256_BYTES], const struct cluster_key *k,
			const struct cluster_req *q, const char *t, const char *nonce,
			const char *hex)
{
	const char *const part[] = { q->target, q->method, q->path, t, nonce, hex };
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, k->k, sizeof(k->k));
	/* No part holds a newline (names, methods, request targets, digits, hex). */
	for (size_t i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
		if (i)
			crypto_auth_hmacsha256_update(&st, (const uint8_t *)"\n", 1);
		crypto_auth_hmacsha256_update(&st, (const uint8_t *)part[i], strlen(part[i]));
	}
	crypto_auth_hmacsha256_final(&st, mac);
}

/* The MAC of the canonical request into mac. */
static void mac_of(uint8_t mac[crypto_auth_hmacsha256_BYTES], const struct cluster_key *k,
		   const struct cluster_req *q, const char *t, const char *nonce, const void *body,
		   size_t len)
{
	char hex[CLUSTER_HASH_HEX];

	cluster_body_hash(hex, body, len);
	mac_of_hash(mac, k, q, t, nonce, hex);
}

void cluster_sign(char out[CLUSTER_SIG_MAX], const struct cluster_key *k,
		  const struct cluster_req *q, const void *body, size_t len, int64_t now)
{
	uint8_t n[NONCE_BYTES], mac[crypto_auth_hmacsha256_BYTES];
	char nhex[2 * NONCE_BYTES + 1], mhex[2 * sizeof(mac) + 1], t[24];

	randombytes_buf(n, sizeof(n));
	sodium_bin2hex(nhex, sizeof(nhex), n, sizeof(n));
	snprintf(t, sizeof(t), "%lld", (long long)now);
	mac_of(mac, k, q, t, nhex, body, len);
	sodium_bin2hex(mhex, sizeof(mhex), mac, sizeof(mac));
	snprintf(out, CLUSTER_SIG_MAX, "t=%s,n=%s,s=%s", t, nhex, mhex);
}

struct slot {
	uint8_t nonce[NONCE_BYTES];
	int64_t until; /* 0: free */
};

struct cluster_replay {
	pthread_mutex_t lock;
	struct slot *v;
	size_t cap; /* a power of two */
};

int cluster_replay_new(struct cluster_replay **out, size_t capacity)
{
	struct cluster_replay *r = calloc(1, sizeof(*r));
	size_t cap = 64;

	while (cap < capacity)
		cap <<= 1;
	if (!r || !(r->v = calloc(cap, sizeof(*r->v)))) {
		free(r);
		return error_nomem(NULL);
	}
	r->cap = cap;
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void cluster_replay_free(struct cluster_replay *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->v);
	free(r);
}

/* Remembers nonce until until: EPERM when it is there already, ELIMIT when no slot is free. */
static int replay_add(struct cluster_replay *r, const uint8_t nonce[NONCE_BYTES], int64_t until,
		      int64_t now)
{
	uint64_t h = 0;
	struct slot *free_slot = NULL;
	int err = TRAWL_ELIMIT;

	memcpy(&h, nonce, sizeof(h)); /* random bytes: their first eight are a good hash */
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < PROBES; i++) {
		struct slot *s = &r->v[(h + i) & (r->cap - 1)];

		if (s->until >= now && memcmp(s->nonce, nonce, NONCE_BYTES) == 0) {
			err = TRAWL_EPERM;
			goto out;
		}
		if (s->until < now && !free_slot)
			free_slot = s;
	}
	if (free_slot) {
		memcpy(free_slot->nonce, nonce, NONCE_BYTES);
		free_slot->until = until;
		err = 0;
	}
out:
	pthread_mutex_unlock(&r->lock);
	return err;
}

/* Whether nonce is remembered and live (a replayed request's headers). */
static bool replay_seen(struct cluster_replay *r, const uint8_t nonce[NONCE_BYTES], int64_t now)
{
	uint64_t h = 0;
	bool seen = false;

	memcpy(&h, nonce, sizeof(h));
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < PROBES && !seen; i++) {
		const struct slot *s = &r->v[(h + i) & (r->cap - 1)];

		seen = s->until >= now && memcmp(s->nonce, nonce, NONCE_BYTES) == 0;
	}
	pthread_mutex_unlock(&r->lock);
	return seen;
}

/* Splits "t=T,n=N,s=S" into its three fields (NUL-terminated copies). */
static bool split_header(const char *h, char t[24], char n[2 * NONCE_BYTES + 1],
			 char s[2 * crypto_auth_hmacsha256_BYTES + 1])
{
	const char *c1, *c2;
	size_t tl, nl, sl;

	if (!h || strncmp(h, "t=", 2) != 0 || !(c1 = strchr(h, ',')) || strncmp(c1, ",n=", 3) != 0 ||
	    !(c2 = strchr(c1 + 1, ',')) || strncmp(c2, ",s=", 3) != 0)
		return false;
	tl = (size_t)(c1 - (h + 2));
	nl = (size_t)(c2 - (c1 + 3));
	sl = strlen(c2 + 3);
	if (tl == 0 || tl > 20 || nl != 2 * (size_t)NONCE_BYTES ||
	    sl != 2 * (size_t)crypto_auth_hmacsha256_BYTES)
		return false;
	memcpy(t, h + 2, tl);
	t[tl] = 0;
	memcpy(n, c1 + 3, nl);
	n[nl] = 0;
	memcpy(s, c2 + 3, sl);
	s[sl] = 0;
	for (size_t i = 0; i < tl; i++)
		if (t[i] < '0' || t[i] > '9')
			return false;
	return true;
}

/* Parses header and checks its time: 0 with its fields and the MAC it holds, else EPERM. */
static int parse_fresh(const char *header, int64_t now, char t[24], char n[2 * NONCE_BYTES + 1],
		       uint8_t got[crypto_auth_hmacsha256_BYTES], uint8_t nonce[NONCE_BYTES])
{
	char s[2 * crypto_auth_hmacsha256_BYTES + 1];
	size_t glen = 0, nlen = 0;
	long long ts;

	if (!split_header(header, t, n, s))
		return TRAWL_EPERM;
	ts = strtoll(t, NULL, 10);
	if (ts < now - CLUSTER_SIGN_WINDOW_S || ts > now + CLUSTER_SIGN_WINDOW_S)
		return TRAWL_EPERM;
	if (sodium_hex2bin(got, crypto_auth_hmacsha256_BYTES, s, strlen(s), NULL, &glen, NULL) !=
		    0 ||
	    glen != crypto_auth_hmacsha256_BYTES ||
	    sodium_hex2bin(nonce, NONCE_BYTES, n, strlen(n), NULL, &nlen, NULL) != 0 ||
	    nlen != NONCE_BYTES)
		return TRAWL_EPERM;
	return 0;
}

int cluster_verify_head(struct cluster_replay *r, const struct cluster_key *k,
			const char *header, const struct cluster_req *q, const char *body_hash,
			int64_t now)
{
	char t[24], n[2 * NONCE_BYTES + 1];
	uint8_t want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
	uint8_t nonce[NONCE_BYTES];

	if (!body_hash || strlen(body_hash) != CLUSTER_HASH_HEX - 1 ||
	    parse_fresh(header, now, t, n, got, nonce) < 0)
		return TRAWL_EPERM;
	mac_of_hash(want, k, q, t, n, body_hash);
	if (sodium_memcmp(want, got, sizeof(want)) != 0)
		return TRAWL_EPERM;
	return replay_seen(r, nonce, now) ? TRAWL_EPERM : 0;
}

int cluster_verify(struct cluster_replay *r, const struct cluster_key *k, const char *header,
		   const struct cluster_req *q, const void *body, size_t len, int64_t now)
{
	char t[24], n[2 * NONCE_BYTES + 1];
	uint8_t want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
	uint8_t nonce[NONCE_BYTES];

	if (parse_fresh(header, now, t, n, got, nonce) < 0)
		return TRAWL_EPERM;
	mac_of(want, k, q, t, n, body, len);
	if (sodium_memcmp(want, got, sizeof(want)) != 0)
		return TRAWL_EPERM;
	/* Only a genuine request reaches the table: forged ones cannot fill it. */
	return replay_add(r, nonce, strtoll(t, NULL, 10) + CLUSTER_SIGN_WINDOW_S, now);
}
