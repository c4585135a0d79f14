/*
 * Pinned SSH host keys (SECURITY-CHECKLIST P1, T2): the parsing and matching of
 * DATA/known_hosts. Pure C, no libgit2: the mirror code's certificate callback (mirror.c) uses
 * it, and it is unit-tested on its own.
 *
 * libgit2 1.5 verifies no SSH host key by itself, so an ssh:// fetch proceeds only when the
 * SHA-256 fingerprint of the key the server offers equals one pinned by the operator for that
 * host and port. Format, one entry per line, '#' comments and blank lines allowed:
 *
 *     HOST[:PORT] SHA256:BASE64
 *
 * HOST is a name or address (an IPv6 address in brackets when a port follows: [::1]:2222);
 * PORT defaults to 22; BASE64 is the fingerprint exactly as `ssh-keygen -lf` prints it (43
 * characters, no padding). Several entries for one host are allowed (one per key type, or the
 * old and new key during a rotation).
 */
#ifndef TRAWL_GIT_KNOWNHOSTS_H
#define TRAWL_GIT_KNOWNHOSTS_H

#include <stddef.h>

/* "SHA256:" and 43 base64 characters, and the terminator. */
#define KHOSTS_FP_SIZE 51

struct khosts_entry {
	char *host;     /* without brackets */
	unsigned port;  /* 22 when the entry names none */
	char fp[KHOSTS_FP_SIZE];
};

struct khosts {
	struct khosts_entry *v;
	size_t n;
};

/*
 * Parses the text of a known_hosts file (len bytes; path names it in messages). EINVAL on the
 * first bad line, with "PATH line N: " and what is wrong; ENOMEM. Fills *out only on success.
 */
int khosts_parse(struct khosts *out, const char *text, size_t len, const char *path);
void khosts_dispose(struct khosts *k);

/* The fingerprint of a key from its SHA-256 digest, as ssh-keygen prints it: "SHA256:BASE64". */
void khosts_fingerprint(char out[KHOSTS_FP_SIZE], const unsigned char sha256[32]);

/*
 * Whether fp is pinned for host (case-insensitive) and port (NULL or "": 22): 0 when it is,
 * ENOTFOUND when no entry names the host and port, EPERM when entries do but none has fp.
 * Sets no error message (the caller names the file and the offered key).
 */
int khosts_check(const struct khosts *k, const char *host, const char *port, const char *fp);

#endif
