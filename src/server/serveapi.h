/*
 * The interface of trawl-serve.so, the server module (src/server and src/sso, built apart so that
 * libmicrohttpd, GnuTLS, libcurl, cjose and the twenty-odd libraries they bring are loaded by
 * `trawl serve` only: resolving them cost every other trawl process, `trawl search` included,
 * about 5.5 ms at start, more than a selective search itself). Built and checked exactly as
 * trawl-git.so is (build/gitapi.h): one constant table, found with a single dlsym, refused
 * unless its abi and size equal this binary's.
 *
 * To add a function: add its pointer at the end of struct trawl_serve_api, fill it in the table
 * in serveapi.c, check it in serveapi_check() (src/cli/servemod.c: the binary checks, not the
 * module), and raise TRAWL_SERVE_ABI.
 */
#ifndef TRAWL_SERVER_SERVEAPI_H
#define TRAWL_SERVER_SERVEAPI_H

#include <stdbool.h>
#include <stddef.h>

#include "server/proxy.h"
#include "server/server.h"

#define TRAWL_SERVE_ABI 1u
#define TRAWL_SERVE_API_SYMBOL "trawl_serve_api"

struct trawl_serve_api {
	/* abi and size come first and never move: they are read before anything else is trusted. */
	unsigned abi; /* TRAWL_SERVE_ABI of the module's build */
	size_t size;  /* sizeof(struct trawl_serve_api) of the module's build */
	int (*listen_parse)(struct server_config *cfg, const char *listen);
	int (*external_url_parse)(struct server_config *cfg, const char *url);
	int (*check_exposure)(const struct server_config *cfg, bool has_admin);
	int (*proxy_net_parse)(struct proxy_net *out, const char *text);
	int (*run)(const struct server_config *cfg);
};

/* The module's table (defined in serveapi.c, so only in trawl-serve.so and the unit tests). */
extern const struct trawl_serve_api trawl_serve_api;

/*
 * Whether api, the table found in the module at path (for the message), can be used by this
 * binary: not NULL, the same abi and size, and every function present. EIO naming the path and
 * both ABI versions when not.
 */
int serveapi_check(const struct trawl_serve_api *api, const char *path); /* src/cli/servemod.c */

#endif
