/*
 * Fuzz target for the URL policy file parser (src/store/policy.c), which `trawl sync` runs on
 * DATA/policy/ID before every fetch. Checks: never a crash or a read past the given length; a
 * refusal names the file and leaves nothing allocated; an accepted file names the id asked for
 * and has a non-empty name and URL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/policy.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	struct store_policy_file f;

	if (!s)
		return 0;
	/* A copy of exactly size bytes: ASan catches a read past the length. */
	if (size)
		memcpy(s, data, size);
	if (store_policy_parse(&f, s, size, "fuzz_policy", 3) < 0) {
		if (f.name || f.url || (!strstr(error_last(), "fuzz_policy: not a URL policy file") &&
					!strstr(error_last(), "out of memory")))
			abort();
		goto out;
	}
	if (f.id != 3 || !f.name || !f.name[0] || !f.url || !f.url[0])
		abort();
	store_policy_file_dispose(&f);
out:
	free(s);
	return 0;
}
