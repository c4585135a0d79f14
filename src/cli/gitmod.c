/* Loading trawl-git.so; see gitmod.h. */
#include "cli/gitmod.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

struct gitmod gitmod;

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

static void *sym(void *h, const char *name, int *bad)
{
	void *p = dlsym(h, name);

	if (!p)
		*bad = 1;
	return p;
}

int gitmod_init(void)
{
	char path[PATH_MAX];
	int (*init)(void);
	void *h;
	int bad = 0;

	if (module_path(path, sizeof(path)) < 0) {
		error_set("cannot locate trawl-git.so beside the trawl binary");
		return TRAWL_EIO;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		error_set("cannot load the git support module %s: %s", path, dlerror());
		return TRAWL_EIO;
	}
	/* Object to function pointers: POSIX guarantees dlsym's result converts. */
	*(void **)&init = sym(h, "build_git_init", &bad);
	*(void **)&gitmod.shutdown = sym(h, "build_git_shutdown", &bad);
	*(void **)&gitmod.probe = sym(h, "build_git_probe", &bad);
	*(void **)&gitmod.branches = sym(h, "build_git_branches", &bad);
	*(void **)&gitmod.names_free = sym(h, "build_git_names_free", &bad);
	*(void **)&gitmod.branch_pattern_valid = sym(h, "build_git_branch_pattern_valid", &bad);
	*(void **)&gitmod.build_repo = sym(h, "build_git_repo", &bad);
	*(void **)&gitmod.result_free = sym(h, "build_git_result_free", &bad);
	*(void **)&gitmod.url_check = sym(h, "gitmirror_url_check", &bad);
	*(void **)&gitmod.mirror_sync = sym(h, "gitmirror_sync", &bad);
	if (bad) {
		error_set("%s: not the git support module of this trawl", path);
		return TRAWL_EIO;
	}
	return init();
}
