/* The table trawl-serve.so exports; see serveapi.h. */
#include "server/serveapi.h"

const struct trawl_serve_api trawl_serve_api = {
	.abi = TRAWL_SERVE_ABI,
	.size = sizeof(struct trawl_serve_api),
	.listen_parse = server_listen_parse,
	.external_url_parse = server_external_url_parse,
	.check_exposure = server_check_exposure,
	.proxy_net_parse = proxy_net_parse,
	.run = server_run,
};
