/*
 * Fuzz target for the server's reading of the show worker's answer (mirror_parse,
 * src/server/handlers_mirror.c): what a worker taken over by a hostile repository could send
 * back for a commit permalink. Checks: never a crash, a leak or a read past the input; a
 * refusal explains itself; an accepted answer is consistent: a known kind, a file's content
 * exactly its size (none when over the limit), a directory's entries at most the limit, each
 * name non-empty without '/'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "git/show.h"
#include "server/mirror.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct mirror_answer *a)
{
	if (a->kind < GITSHOW_FILE || a->kind > GITSHOW_NO_PATH)
		abort();
	if (a->kind == GITSHOW_FILE && !a->is_too_large && a->content.len != a->size)
		abort();
	if (a->kind == GITSHOW_FILE && a->is_too_large && a->content.len != 0)
		abort();
	if (a->kind != GITSHOW_DIR && a->n_entries)
		abort();
	if (a->n_entries > MIRROR_MAX_ENTRIES)
		abort();
	for (size_t i = 0; i < a->n_entries; i++)
		if (!a->entries[i].name[0] || strchr(a->entries[i].name, '/') ||
		    a->entries[i].type < GITSHOW_E_FILE || a->entries[i].type > GITSHOW_E_SUBMODULE)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mirror_answer a = { 0 };

	error_clear();
	if (mirror_parse(&a, (const char *)data, size) == 0)
		check(&a);
	else if (!error_last()[0])
		abort();
	mirror_answer_dispose(&a);
	return 0;
}
