/* Checking the git support module's table; see gitapi.h. */
#include "build/gitapi.h"

#include "util/error.h"

int gitapi_check(const struct trawl_git_api *api, const char *path)
{
	if (!api) {
		error_set("%s: not a trawl git support module (no %s)", path, TRAWL_GIT_API_SYMBOL);
		return TRAWL_EIO;
	}
	if (api->abi != TRAWL_GIT_ABI || api->size != sizeof(*api)) {
		error_set("%s: git support module ABI %u (%zu bytes), this trawl needs ABI %u "
			  "(%zu bytes); install the trawl-git.so built with this binary",
			  path, api->abi, api->size, TRAWL_GIT_ABI, sizeof(*api));
		return TRAWL_EIO;
	}
	if (!api->init || !api->shutdown || !api->probe || !api->branches || !api->names_free ||
	    !api->branch_pattern_valid || !api->build_repo || !api->result_free || !api->url_check ||
	    !api->mirror_sync || !api->produce || !api->config_isolate || !api->show ||
	    !api->show_dispose) {
		error_set("%s: the git support module's table is incomplete", path);
		return TRAWL_EIO;
	}
	return 0;
}
