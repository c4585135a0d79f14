/*
 * Fuzz target for the HTTP request parts trawl parses itself (libmicrohttpd parses the
 * framing): the request path against the server's route table, percent-decoding of parameter
 * values, and path confinement. The input is "PATH\nVALUE". Checks: never a crash; a decoded
 * value holds no NUL and fits its limit; a path route_path_check accepts has no "." or ".."
 * component, no empty component, no leading '/' and no NUL (F1, V4).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/route.h"
#include "server/server_int.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_confined(const char *p, size_t len)
{
	size_t start = 0;

	if (len && p[0] == '/')
		abort();
	if (memchr(p, 0, len))
		abort();
	for (size_t i = 0; i <= len && len; i++) {
		if (i < len && p[i] != '/')
			continue;
		if (i == start || (i - start == 1 && p[start] == '.') ||
		    (i - start == 2 && p[start] == '.' && p[start + 1] == '.'))
			abort();
		start = i + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - data) : size;
	const char *value = nl ? (const char *)nl + 1 : "";
	size_t vlen = nl ? size - plen - 1 : 0;
	char *path = malloc(plen + 1), *out = malloc(vlen + 1);
	const struct route *r;
	struct route_args args;
	struct buf b;
	size_t olen;

	if (!path || !out)
		abort();
	memcpy(path, data, plen);
	path[plen] = 0;
	if (route_match(&r, &args, server_routes, n_server_routes, path) == 0) {
		if (!r || strlen(args.name) != args.name_len || args.name_len > ROUTE_NAME_MAX)
			abort();
	}
	for (int is_query = 0; is_query < 2; is_query++) {
		if (route_url_decode(out, &olen, vlen, value, vlen, is_query) == 0) {
			if (olen > vlen || strlen(out) != olen)
				abort();
			if (route_path_check(out, olen) == 0)
				check_confined(out, olen);
		}
	}
	if (route_path_check(value, vlen) == 0)
		check_confined(value, vlen);
	/* An accepted Host names loopback: "localhost", "127.x.y.z" or "[::1]", then ":PORT". */
	if (route_host_is_loopback(path)) {
		const char *c = path[0] == '[' ? path + 5 : strchr(path, ':');
		size_t hn = c ? (size_t)(c - path) : plen;

		if (strncmp(path, "[::1]", 5) != 0 && strncasecmp(path, "localhost", hn) != 0 &&
		    strncmp(path, "127.", 4) != 0)
			abort();
		if (c && *c && (*c != ':' || strspn(c + 1, "0123456789") != strlen(c + 1)))
			abort();
	}
	buf_init(&b, 1 << 24);
	if (route_sse_event(&b, "matches", value, vlen) == 0) {
		/* One event: the only blank line is the terminator. */
		char *end = memmem(b.ptr, b.len, "\n\n", 2);

		if (!end || (size_t)(end - b.ptr) != b.len - 2)
			abort();
	}
	buf_dispose(&b);
	free(path);
	free(out);
	return 0;
}
