/* Loading trawl's modules; see module.h. */
#include "cli/module.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

static int module_path(char *out, size_t len, const char *file)
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
	return snprintf(out, len, "%s/%s", exe, file) < (int)len ? 0 : -1;
}

int module_load(const void **table, char *path, size_t path_len, const char *file,
		const char *symbol, const char *what)
{
	void *h;

	*table = NULL;
	if (module_path(path, path_len, file) < 0) {
		error_set("cannot locate %s beside the trawl binary", file);
		return TRAWL_EIO;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		error_set("cannot load %s %s: %s", what, path, dlerror());
		return TRAWL_EIO;
	}
	*table = dlsym(h, symbol);
	return 0;
}
