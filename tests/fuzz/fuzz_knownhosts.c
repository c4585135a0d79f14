/*
 * Fuzz target for the known_hosts parser (src/git/knownhosts.c), which reads DATA/known_hosts
 * before every ssh fetch. Checks: never a crash or a read past the given length; a refusal
 * names the file and line; every accepted entry is a sane host, a port from 1 to 65535 and a
 * fingerprint of the documented shape; each entry's own fingerprint is found by khosts_check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "git/knownhosts.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char other_fp[] = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	char *s = malloc(size ? size : 1);
	struct khosts k = { 0 };

	if (!s)
		return 0;
	/* A copy of exactly size bytes: ASan catches a read past the length. */
	if (size)
		memcpy(s, data, size);
	if (khosts_parse(&k, s, size, "fuzz_known_hosts") < 0) {
		if (k.n || k.v || !strstr(error_last(), "fuzz_known_hosts line "))
			abort();
		goto out;
	}
	for (size_t i = 0; i < k.n; i++) {
		const struct khosts_entry *e = &k.v[i];
		char port[16];

		if (!e->host || !e->host[0] || e->port == 0 || e->port > 65535 ||
		    strlen(e->fp) != KHOSTS_FP_SIZE - 1 || strncmp(e->fp, "SHA256:", 7) != 0)
			abort();
		if (strpbrk(e->host, " \t\r\n[]"))
			abort();
		snprintf(port, sizeof(port), "%u", e->port);
		if (khosts_check(&k, e->host, port, e->fp) != 0)
			abort();
		if (e->port == 22 && khosts_check(&k, e->host, NULL, e->fp) != 0)
			abort();
		(void)khosts_check(&k, e->host, port, other_fp);
	}
	(void)khosts_check(&k, "example.com", "22", other_fp);
	khosts_dispose(&k);
out:
	free(s);
	return 0;
}
