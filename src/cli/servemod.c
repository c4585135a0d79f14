/* Loading trawl-serve.so; see servemod.h. */
#include "cli/servemod.h"

#include <limits.h>

#include "cli/module.h"
#include "util/error.h"

/* The test binary (trawl-test) loads the server built with its test hooks. */
#ifdef TRAWL_TEST_HOOKS
#define SERVE_MODULE_FILE "trawl-serve-test.so"
#else
#define SERVE_MODULE_FILE "trawl-serve.so"
#endif

struct trawl_serve_api servemod;

int serveapi_check(const struct trawl_serve_api *api, const char *path)
{
	if (!api) {
		error_set("%s: not a trawl server module (no %s)", path, TRAWL_SERVE_API_SYMBOL);
		return TRAWL_EIO;
	}
	if (api->abi != TRAWL_SERVE_ABI || api->size != sizeof(*api)) {
		error_set("%s: server module ABI %u (%zu bytes), this trawl needs ABI %u (%zu bytes); "
			  "install the trawl-serve.so built with this binary",
			  path, api->abi, api->size, TRAWL_SERVE_ABI, sizeof(*api));
		return TRAWL_EIO;
	}
	if (!api->listen_parse || !api->external_url_parse || !api->check_exposure ||
	    !api->proxy_net_parse || !api->run) {
		error_set("%s: the server module's table is incomplete", path);
		return TRAWL_EIO;
	}
	return 0;
}

int servemod_init(void)
{
	char path[PATH_MAX];
	const void *table;
	int err;

	if ((err = module_load(&table, path, sizeof(path), SERVE_MODULE_FILE,
			       TRAWL_SERVE_API_SYMBOL, "the server module")) < 0 ||
	    (err = serveapi_check(table, path)) < 0)
		return err;
	servemod = *(const struct trawl_serve_api *)table;
	return 0;
}
