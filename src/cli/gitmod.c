/* Loading trawl-git.so; see gitmod.h. */
#include "cli/gitmod.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

struct trawl_git_api gitmod;

/* SECURITY: the module is taken from the directory of the running binary only, never a path
 * from the environment or the working directory. */
static int module_path(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = 0;
	return snprintf(out, len, "%s/trawl-git.so", exe) < (int)len ? 0 : -1;
}

int gitmod_init(void)
{
	char path[PATH_MAX];
	const struct trawl_git_api *api;
	void *h;
	int err;

	if (module_path(path, sizeof(path)) < 0) {
		error_set("cannot locate trawl-git.so beside the trawl binary");
		return TRAWL_EIO;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		error_set("cannot load the git support module %s: %s", path, dlerror());
		return TRAWL_EIO;
	}
	api = dlsym(h, TRAWL_GIT_API_SYMBOL);
	if ((err = gitapi_check(api, path)) < 0) {
		dlclose(h);
		return err;
	}
	gitmod = *api;
	return gitmod.init();
}
