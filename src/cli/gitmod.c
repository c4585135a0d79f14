/* Loading trawl-git.so; see gitmod.h. */
#include "cli/gitmod.h"

#include <limits.h>

#include "cli/module.h"

struct trawl_git_api gitmod;

int gitmod_load(void)
{
	char path[PATH_MAX];
	const void *table;
	int err;

	if ((err = module_load(&table, path, sizeof(path), "trawl-git.so", TRAWL_GIT_API_SYMBOL,
			       "the git support module")) < 0 ||
	    (err = gitapi_check(table, path)) < 0)
		return err;
	gitmod = *(const struct trawl_git_api *)table;
	return 0;
}

int gitmod_init(void)
{
	int err = gitmod_load();

	return err < 0 ? err : gitmod.init();
}
