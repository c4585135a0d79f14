/* Pinned SSH host keys; see knownhosts.h. */
#include "git/knownhosts.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/array.h"
#include "util/error.h"

#define FP_PREFIX "SHA256:"
#define FP_B64_LEN 43 /* 32 bytes in base64 without padding */
#define HOST_MAX 255
#define LINE_MAX_ 4096

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void khosts_fingerprint(char out[KHOSTS_FP_SIZE], const unsigned char sha256[32])
{
	char *o = out + sizeof(FP_PREFIX) - 1;
	size_t i;

	memcpy(out, FP_PREFIX, sizeof(FP_PREFIX) - 1);
	for (i = 0; i + 3 <= 32; i += 3) {
		unsigned v = (unsigned)sha256[i] << 16 | (unsigned)sha256[i + 1] << 8 | sha256[i + 2];

		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = b64[v >> 6 & 63];
		*o++ = b64[v & 63];
	}
	/* 32 = 10 * 3 + 2: the last two bytes give three characters, and no '=' (as ssh-keygen). */
	{
		unsigned v = (unsigned)sha256[30] << 16 | (unsigned)sha256[31] << 8;

		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = b64[v >> 6 & 63];
	}
	*o = '\0';
}

/* A port number 1..65535 from the whole of s; 0 when s is not one. */
static unsigned port_parse(const char *s)
{
	unsigned long v = 0;

	if (!s[0] || strlen(s) > 5)
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v >= 1 && v <= 65535 ? (unsigned)v : 0;
}

static bool host_valid(const char *h, size_t n)
{
	if (n == 0 || n > HOST_MAX || h[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)h[i] <= ' ' || h[i] == 0x7f || h[i] == '[' || h[i] == ']' ||
		    h[i] == '/' || h[i] == '@')
			return false;
	return true;
}

/*
 * Splits HOST[:PORT] / [HOST]:PORT / [HOST] into e; false with *why when malformed. A bare name
 * with more than one ':' is an IPv6 address without a port.
 */
static bool hostport_parse(struct khosts_entry *e, const char *s, const char **why)
{
	const char *h = s, *colon = NULL, *port = NULL;
	size_t hn;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close) {
			*why = "'[' without ']'";
			return false;
		}
		h = s + 1;
		hn = (size_t)(close - h);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1]) {
			*why = "text after ']' that is not :PORT";
			return false;
		}
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* IPv6 */
		hn = colon ? (size_t)(colon - s) : strlen(s);
		if (colon)
			port = colon + 1;
	}
	if (!host_valid(h, hn)) {
		*why = "invalid host";
		return false;
	}
	e->port = port ? port_parse(port) : 22;
	if (!e->port) {
		*why = "invalid port (1 to 65535)";
		return false;
	}
	if (!(e->host = strndup(h, hn))) {
		*why = "out of memory";
		return false;
	}
	return true;
}

static bool fp_parse(struct khosts_entry *e, const char *s, const char **why)
{
	size_t n = strlen(s), pre = sizeof(FP_PREFIX) - 1;

	if (strncmp(s, FP_PREFIX, pre) != 0) {
		*why = "the fingerprint must start with SHA256: (as `ssh-keygen -lf` prints it; MD5 "
		       "fingerprints are not accepted)";
		return false;
	}
	if (n - pre != FP_B64_LEN || strspn(s + pre, b64) != FP_B64_LEN) {
		*why = "the fingerprint must be SHA256: and 43 base64 characters, without '=' padding";
		return false;
	}
	memcpy(e->fp, s, n + 1);
	return true;
}

void khosts_dispose(struct khosts *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].host);
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

/* Parses one line (NUL-terminated, modified) into e; false when blank or a comment. */
static int line_parse(struct khosts_entry *e, bool *skip, char *line, const char **why)
{
	char *f[2], *save = NULL;
	size_t n = 0;
	char *w;

	*skip = false;
	while ((w = strtok_r(n ? NULL : line, " \t\r", &save))) {
		if (n == 0 && w[0] == '#')
			break;
		if (n == 2) {
			*why = "more than two fields (expected HOST[:PORT] SHA256:BASE64)";
			return TRAWL_EINVAL;
		}
		f[n++] = w;
	}
	if (n == 0) {
		*skip = true;
		return 0;
	}
	if (n == 1) {
		*why = "one field (expected HOST[:PORT] SHA256:BASE64)";
		return TRAWL_EINVAL;
	}
	if (!fp_parse(e, f[1], why) || !hostport_parse(e, f[0], why))
		return strcmp(*why, "out of memory") == 0 ? TRAWL_ENOMEM : TRAWL_EINVAL;
	return 0;
}

int khosts_parse(struct khosts *out, const char *text, size_t len, const char *path)
{
	struct khosts k = { 0 };
	size_t cap = 0, lineno = 0;
	const char *p = text, *end = text + len;
	int err = 0;

	while (p < end && err == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *why = "";
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[LINE_MAX_];
		struct khosts_entry e = { 0 };
		bool skip;

		lineno++;
		if (n >= sizeof(line) || memchr(p, '\0', n)) {
			err = TRAWL_EINVAL;
			why = n >= sizeof(line) ? "line too long" : "a NUL byte";
		} else {
			memcpy(line, p, n);
			line[n] = '\0';
			err = line_parse(&e, &skip, line, &why);
		}
		p += n + 1;
		if (err < 0) {
			error_set("%s line %zu: %s", path, lineno, why);
			break;
		}
		if (skip)
			continue;
		if ((err = ARRAY_GROW(&k.v, &cap, k.n + 1)) < 0) {
			free(e.host);
			break;
		}
		k.v[k.n++] = e;
	}
	if (err < 0) {
		khosts_dispose(&k);
		return err;
	}
	*out = k;
	return 0;
}

int khosts_check(const struct khosts *k, const char *host, const char *port, const char *fp)
{
	unsigned want = port && port[0] ? port_parse(port) : 22;
	bool named = false;

	if (!want)
		return TRAWL_ENOTFOUND;
	for (size_t i = 0; i < k->n; i++) {
		if (k->v[i].port != want || strcasecmp(k->v[i].host, host) != 0)
			continue;
		named = true;
		if (strcmp(k->v[i].fp, fp) == 0)
			return 0;
	}
	return named ? TRAWL_EPERM : TRAWL_ENOTFOUND;
}
