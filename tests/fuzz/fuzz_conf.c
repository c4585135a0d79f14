/*
 * Fuzz target for the configuration file parser (src/util/conf.c), which reads DATA/trawl.conf
 * at every start. Checks: never a crash or a read past the given length; a refusal explains
 * itself and leaves nothing; every accepted entry keeps the format's promises (a key of
 * [a-z0-9-], a non-empty value without control bytes or blanks at its ends, increasing lines).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/conf.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entry(const struct conf_entry *e, unsigned prev_line)
{
	size_t kn = strlen(e->key), vn = strlen(e->value);

	if (e->line <= prev_line || kn == 0 || kn > CONF_KEY_MAX || vn == 0 || vn > CONF_LINE_MAX)
		abort();
	for (size_t i = 0; i < kn; i++)
		if (!((e->key[i] >= 'a' && e->key[i] <= 'z') ||
		      (e->key[i] >= '0' && e->key[i] <= '9') || e->key[i] == '-'))
			abort();
	for (size_t i = 0; i < vn; i++)
		if (((unsigned char)e->value[i] < 0x20 && e->value[i] != '\t') ||
		    e->value[i] == 0x7f)
			abort();
	if (e->value[0] == ' ' || e->value[0] == '\t' || e->value[vn - 1] == ' ' ||
	    e->value[vn - 1] == '\t')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	struct conf c;
	unsigned prev = 0;

	if (!s)
		return 0;
	/* A copy of exactly size bytes: ASan catches a read past the length. */
	memcpy(s, data, size);
	if (conf_parse(&c, s, size, "fuzz.conf") < 0) {
		if (c.n != 0 || c.v || !error_last()[0])
			abort();
		goto out;
	}
	if (c.n > CONF_ENTRIES_MAX)
		abort();
	for (size_t i = 0; i < c.n; i++) {
		check_entry(&c.v[i], prev);
		prev = c.v[i].line;
	}
	conf_dispose(&c);
out:
	free(s);
	return 0;
}
