/* Unit tests for src/server's pure parts: routing, decoding, path confinement, SSE and JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "search/search_json.h"
#include "server/route.h"
#include "server/server.h"
#include "server/server_int.h"
#include "util/buf.h"
#include "util/error.h"

static int h_dummy(struct req *rq)
{
	(void)rq;
	return 0;
}

static const char *const p_q[] = { "q", NULL };
static const struct route table[] = {
	{ "api/v1/search", .params = p_q, .flags = ROUTE_API, .handler = h_dummy, .name = "search" },
	{ "api/v1/repos/{name}", .flags = ROUTE_API, .handler = h_dummy, .name = "repo" },
	{ "api/v1/repos/{name}/tree", .flags = ROUTE_API, .handler = h_dummy, .name = "tree" },
	{ "", .handler = h_dummy, .name = "root" },
	{ "file/*", .handler = h_dummy, .name = "file" },
};
#define N_TABLE (sizeof(table) / sizeof(table[0]))

static const char *match_name(const char *path, int *err, struct route_args *args)
{
	const struct route *r;

	*err = route_match(&r, args, table, N_TABLE, path);
	return r ? r->name : NULL;
}

static void route_matches_literals_names_and_rest(void **state)
{
	struct route_args a;
	int err;

	(void)state;
	assert_string_equal(match_name("/api/v1/search", &err, &a), "search");
	assert_string_equal(match_name("/api/v1/repos/linux", &err, &a), "repo");
	assert_string_equal(a.name, "linux");
	assert_string_equal(match_name("/api/v1/repos/a%2Fb%40c/tree", &err, &a), "tree");
	assert_string_equal(a.name, "a/b@c");
	assert_int_equal(a.name_len, 5);
	assert_string_equal(match_name("/", &err, &a), "root");
	assert_string_equal(match_name("/file/x/y.c", &err, &a), "file");
	assert_string_equal(a.rest, "x/y.c");
	assert_string_equal(match_name("/file/", &err, &a), "file");
	assert_string_equal(a.rest, "");
}

static void route_refuses_near_misses(void **state)
{
	struct route_args a;
	int err;

	(void)state;
	assert_null(match_name("/api/v1/search/", &err, &a));
	assert_int_equal(err, TRAWL_ENOTFOUND);
	assert_null(match_name("/api/v1/searchx", &err, &a));
	assert_null(match_name("/api/v1/repos/", &err, &a));
	assert_null(match_name("/api/v1/repos//tree", &err, &a));
	assert_null(match_name("/api/v1/repos/a/tree/x", &err, &a));
	assert_null(match_name("/API/v1/search", &err, &a));
	assert_null(match_name("/%61pi/v1/search", &err, &a)); /* literals are not decoded */
	assert_null(match_name("/file", &err, &a));
	assert_null(match_name("api/v1/search", &err, &a));
	assert_int_equal(err, TRAWL_EINVAL);
}

static void route_refuses_malformed_names(void **state)
{
	struct route_args a;
	int err;
	char longname[ROUTE_NAME_MAX + 40];

	(void)state;
	assert_null(match_name("/api/v1/repos/a%zz", &err, &a));
	assert_int_equal(err, TRAWL_EINVAL);
	assert_null(match_name("/api/v1/repos/a%00b", &err, &a));
	assert_int_equal(err, TRAWL_EINVAL);
	assert_null(match_name("/api/v1/repos/a%2", &err, &a));
	assert_int_equal(err, TRAWL_EINVAL);
	assert_null(match_name("/api/v1/repos/%ff%fe", &err, &a));
	assert_int_equal(err, TRAWL_EINVAL);
	memcpy(longname, "/api/v1/repos/", 14);
	memset(longname + 14, 'a', ROUTE_NAME_MAX + 1);
	longname[14 + ROUTE_NAME_MAX + 1] = 0;
	assert_null(match_name(longname, &err, &a));
	assert_int_equal(err, TRAWL_ELIMIT);
}

static void route_server_table_routes_every_api_path(void **state)
{
	static const struct {
		const char *path, *name;
	} cases[] = {
		{ "/api/v1/search", "search" },
		{ "/api/v1/search/stream", "search_stream" },
		{ "/api/v1/repos", "repos" },
		{ "/api/v1/repos/x", "repo" },
		{ "/api/v1/repos/x/tree", "tree" },
		{ "/api/v1/repos/x/file", "file" },
		{ "/api/v1/repos/x/raw", "raw" },
		{ "/api/v1/repos/x/definition", "definition" },
		{ "/api/v1/repos/x/references", "references" },
		{ "/api/v1/repos/x/outline", "outline" },
		{ "/api/v1/repos/x/sync", "admin_repo_sync" },
		{ "/api/v1/repos/x/readme", "readme" },
		{ "/api/v1/repos/x/paths", "paths" },
		{ "/api/v1/repos/x/blame", "api_unknown" },
		{ "/api/v2/search", "api_unknown" },
		{ "/api/v1/session", "session_create" }, /* DELETE: route_by_method's next row */
		{ "/api/v1/me", "me" },
		{ "/api/v1/me/password", "password" },
		{ "/api/v1/tokens", "tokens_list" },
		{ "/api/v1/tokens/3", "token_revoke" },
		{ "/healthz", "healthz" },
		{ "/metrics", "metrics" },
		{ "/account/tokens", "ui" },
		{ "/admin/users", "ui" },
		{ "/", "ui" },
		{ "/search", "ui" },
		{ "/repos", "ui" },
		{ "/repos/linux", "ui" },
		{ "/file/linux/kernel/pid.c", "ui" },
		{ "/app.js", "asset" },
		{ "/.git/HEAD", "asset" }, /* the asset handler finds no such file: 404 */
	};
	struct route_args a;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct route *r;

		assert_int_equal(route_match(&r, &a, server_routes, n_server_routes, cases[i].path), 0);
		assert_string_equal(r->name, cases[i].name);
	}
	/* Every API route is GET-only data with JSON errors; search routes are capped. */
	for (size_t i = 0; i < n_server_routes; i++)
		if (strstr(server_routes[i].name, "search"))
			assert_true(server_routes[i].flags & ROUTE_SEARCH);
}

static void route_params_are_listed(void **state)
{
	(void)state;
	assert_true(route_param_allowed(&table[0], "q"));
	assert_false(route_param_allowed(&table[0], "Q"));
	assert_false(route_param_allowed(&table[1], "q"));
}

static void url_decode_handles_plus_percent_and_limits(void **state)
{
	char out[16];
	size_t len;

	(void)state;
	assert_int_equal(route_url_decode(out, &len, 15, "a+b%2Bc%20", 10, true), 0);
	assert_string_equal(out, "a b+c ");
	assert_int_equal(route_url_decode(out, &len, 15, "a+b", 3, false), 0);
	assert_string_equal(out, "a+b");
	assert_int_equal(route_url_decode(out, &len, 15, "%", 1, true), TRAWL_EINVAL);
	assert_int_equal(route_url_decode(out, &len, 15, "%4", 2, true), TRAWL_EINVAL);
	assert_int_equal(route_url_decode(out, &len, 15, "%g0", 3, true), TRAWL_EINVAL);
	assert_int_equal(route_url_decode(out, &len, 15, "%00", 3, true), TRAWL_EINVAL);
	assert_int_equal(route_url_decode(out, &len, 3, "abcd", 4, true), TRAWL_ELIMIT);
	assert_int_equal(route_url_decode(out, &len, 3, "abc", 3, true), 0);
	assert_int_equal(len, 3);
}

static void path_check_confines(void **state)
{
	static const char *const good[] = { "", "a", "a/b.c", "src/..x", "...", "a/.b", "é/ü",
					    "a b/c" };
	static const char *const bad[] = { "/etc/passwd", "..", ".", "../x", "a/../b", "a/..",
					   "a/./b", "a//b", "a/", "//x", "\n/../x" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(route_path_check(good[i], strlen(good[i])), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(route_path_check(bad[i], strlen(bad[i])), TRAWL_EINVAL);
	assert_int_equal(route_path_check("a\0b", 3), TRAWL_EINVAL);
	assert_int_equal(route_path_check("a/\0", 3), TRAWL_EINVAL);
}

/* A git name is any bytes but NUL and '/': such paths are looked up, never refused. */
static void path_check_takes_any_name_byte(void **state)
{
	static const char *const good[] = { "a\\b", "..\\x", "\\", "a\tb", "a\nb", "a\r",
					    "\x1b[31mred", "a\x7f", "\x01", "100%", "%2e%2e",
					    "\xff\xfe", "dir\\x/inner\n.c", ". ", " ..", "..\n",
					    "\n..", "-x" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (route_path_check(good[i], strlen(good[i])) != 0)
			fail_msg("refused path %zu: %s", i, error_last());
}

/* Encoded separators and dots decode (once) into the same components and are refused. */
static void path_check_refuses_encoded_traversal(void **state)
{
	static const char *const bad[] = { "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2fetc", "%2E%2E",
					   "%2e", "a%2F..%2Fb", "a%2f%2e%2e", "%2Fetc%2Fpasswd",
					   "a%2F%2Fb", "a%2F", "..%2f", "%2e%2e/x" };
	static const char *const good[] = { "%252e%252e%252f", "..%5C..%5Cetc", "%0A..",
					    "a%2Fb%0A.c", "%25" };
	char out[64];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(route_url_decode(out, &len, sizeof(out) - 1, bad[i], strlen(bad[i]),
						  true), 0);
		if (route_path_check(out, len) != TRAWL_EINVAL)
			fail_msg("accepted %s (decoded: %s)", bad[i], out);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(route_url_decode(out, &len, sizeof(out) - 1, good[i],
						  strlen(good[i]), true), 0);
		if (route_path_check(out, len) != 0)
			fail_msg("refused %s (decoded: %s)", good[i], out);
	}
	assert_int_equal(route_url_decode(out, &len, sizeof(out) - 1, "a%00b", 5, true),
			 TRAWL_EINVAL);
}

static void sse_event_keeps_one_event_per_call(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(route_sse_event(&b, "done", "{\"a\":1}", 7), 0);
	assert_string_equal(b.ptr, "event: done\ndata: {\"a\":1}\n\n");
	buf_reset(&b);
	assert_int_equal(route_sse_event(&b, "x", "a\nb\r\nc\rd\n", 9), 0);
	assert_string_equal(b.ptr, "event: x\ndata: a\ndata: b\ndata: c\ndata: d\ndata: \n\n");
	buf_dispose(&b);
}

static void json_file_has_context_branches_and_replacement(void **state)
{
	static const char content[] = "one\ntwo\nth\xffree\nfour\n";
	struct match_range r = { 2, 4 };
	struct search_line l = { 3, (const uint8_t *)content + 8, 6, &r, 1 };
	const char *br[] = { "main" };
	struct search_file f = { "repo", "p.c", 3, 1, &l, SEARCH_CONTENT, 0, 0,
				 (const uint8_t *)content, sizeof(content) - 1, br, 1, NULL, 0 };
	struct search_json_opts jo = { 2 };
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(search_json_file(&b, &f, &jo), 0);
	assert_string_equal(b.ptr, "{\"type\":\"file\",\"repo\":\"repo\",\"path\":\"p.c\",\"language\":"
				   "\"\",\"branches\":[\"main\"],\"matching_lines\":1,\"lines\":["
				   "{\"line\":3,\"text\":\"th\xef\xbf\xbdree\",\"ranges\":[[2,4]],"
				   "\"before\":[{\"line\":1,\"text\":\"one\"},{\"line\":2,\"text\":"
				   "\"two\"}],\"after\":[{\"line\":4,\"text\":\"four\"}]}]}");
	/* The first line has nothing before it; without options, the CLI's object. */
	l = (struct search_line){ 1, (const uint8_t *)content, 3, NULL, 0 };
	buf_reset(&b);
	jo.context = 1;
	assert_int_equal(search_json_file(&b, &f, &jo), 0);
	assert_non_null(strstr(b.ptr, "\"before\":[],\"after\":[{\"line\":2,\"text\":\"two\"}]"));
	buf_reset(&b);
	assert_int_equal(search_json_file(&b, &f, NULL), 0);
	assert_non_null(strstr(b.ptr, "\"branches\":[\"main\"]"));
	assert_null(strstr(b.ptr, "before"));
	/* No branches (a directory): the CLI leaves the field out, the API gives []. */
	f.n_branches = 0;
	buf_reset(&b);
	assert_int_equal(search_json_file(&b, &f, NULL), 0);
	assert_null(strstr(b.ptr, "branches"));
	buf_reset(&b);
	assert_int_equal(search_json_file(&b, &f, &jo), 0);
	assert_non_null(strstr(b.ptr, "\"branches\":[]"));
	buf_dispose(&b);
}

static void host_header_must_be_loopback(void **state)
{
	static const char *const ok[] = { "localhost",      "LOCALHOST:6070", "127.0.0.1",
					  "127.0.0.1:6070", "127.9.8.7:1",    "[::1]",
					  "[::1]:6070",     "localhost:65535" };
	static const char *const bad[] = { "evil.example",
					   "evil.example:6070",
					   "127.0.0.1.evil.example",
					   "localhost.evil.example",
					   "10.0.0.1",
					   "0.0.0.0:6070",
					   "[::2]:80",
					   "[::1]x",
					   "127.0.0.1:0",
					   "127.0.0.1:65536",
					   "127.0.0.1:80:80",
					   "localhost:6070x",
					   "",
					   "127.1",
					   "[::ffff:127.0.0.1]",
					   "127.0.0.1:",
					   "localhost:",
					   "[::1]:" };

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(route_host_is_loopback(ok[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (route_host_is_loopback(bad[i]))
			fail_msg("accepted Host: %s", bad[i]);
	assert_false(route_host_is_loopback(NULL));
}

/* SECURITY: off loopback only with an administrator, TLS or a proxy, and --external-url. */
static void listen_parse_refuses_non_loopback(void **state)
{
	static const char *const remote[] = { "0.0.0.0:6070", "[::]:6070", "[::ffff:10.0.0.1]:1",
					      "10.0.0.1:6070", "128.0.0.1:6070" };
	struct server_config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(server_listen_parse(&cfg, "127.0.0.1:6070"), 0);
	assert_int_equal(server_listen_parse(&cfg, "127.1.2.3:1"), 0);
	assert_int_equal(server_listen_parse(&cfg, "[::1]:6070"), 0);
	assert_int_equal(server_listen_parse(&cfg, "localhost:0"), 0);
	assert_int_equal(server_listen_parse(&cfg, ":6070"), 0);
	assert_true(cfg.is_loopback);
	assert_int_equal(server_check_exposure(&cfg, false), 0);
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
		assert_int_equal(server_listen_parse(&cfg, remote[i]), 0);
		assert_false(cfg.is_loopback);
		assert_int_equal(server_check_exposure(&cfg, false), TRAWL_EPERM);
		/* Every missing condition is named. */
		assert_non_null(strstr(error_last(), "administrator"));
		assert_non_null(strstr(error_last(), "--tls-cert"));
		assert_non_null(strstr(error_last(), "--external-url"));
	}
	assert_int_equal(server_listen_parse(&cfg, "127.0.0.1"), TRAWL_EINVAL);
	assert_int_equal(server_listen_parse(&cfg, "127.0.0.1:70000"), TRAWL_EINVAL);
	assert_int_equal(server_listen_parse(&cfg, "127.0.0.1:x"), TRAWL_EINVAL);
	assert_int_equal(server_listen_parse(&cfg, "host.example:80"), TRAWL_EINVAL);
}

static void exposure_names_exactly_what_is_missing(void **state)
{
	struct server_config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(server_listen_parse(&cfg, "0.0.0.0:443"), 0);
	assert_int_equal(server_external_url_parse(&cfg, "https://code.example.com"), 0);
	cfg.tls_cert = "cert.pem";
	cfg.tls_key = "key.pem";
	assert_int_equal(server_check_exposure(&cfg, true), 0);
	/* No administrator: only that is named. */
	assert_int_equal(server_check_exposure(&cfg, false), TRAWL_EPERM);
	assert_non_null(strstr(error_last(), "administrator"));
	assert_null(strstr(error_last(), "--tls-cert"));
	assert_null(strstr(error_last(), "--external-url"));
	/* Neither TLS nor a proxy. */
	cfg.tls_cert = cfg.tls_key = NULL;
	assert_int_equal(server_check_exposure(&cfg, true), TRAWL_EPERM);
	assert_non_null(strstr(error_last(), "--trusted-proxy"));
	assert_null(strstr(error_last(), "administrator"));
	/* A trusted proxy instead of TLS. */
	assert_int_equal(proxy_net_parse(&cfg.proxies[0], "10.0.0.0/8"), 0);
	cfg.n_proxies = 1;
	assert_int_equal(server_check_exposure(&cfg, true), 0);
	/* No --external-url. */
	cfg.external_host[0] = 0;
	assert_int_equal(server_check_exposure(&cfg, true), TRAWL_EPERM);
	assert_non_null(strstr(error_last(), "--external-url"));
	assert_null(strstr(error_last(), "--trusted-proxy"));
}

static void external_url_is_one_https_origin(void **state)
{
	static const char *const bad[] = { "http://code.example.com",
					   "code.example.com",
					   "https://",
					   "https://code.example.com/trawl",
					   "https://user@code.example.com",
					   "https://code.example.com?x",
					   "https://code.example.com#x",
					   "https://code.example.com:0",
					   "https://code.example.com:70000",
					   "https://code example.com",
					   "https://[::zz]:443",
					   "https://code.example.com:" };
	struct server_config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(server_external_url_parse(&cfg, "https://Code.Example.com"), 0);
	assert_string_equal(cfg.external_host, "code.example.com:443");
	assert_int_equal(server_external_url_parse(&cfg, "https://code.example.com:8443/"), 0);
	assert_string_equal(cfg.external_host, "code.example.com:8443");
	assert_int_equal(server_external_url_parse(&cfg, "HTTPS://[2001:db8::1]"), 0);
	assert_string_equal(cfg.external_host, "[2001:db8::1]:443");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (server_external_url_parse(&cfg, bad[i]) != TRAWL_EINVAL)
			fail_msg("accepted --external-url %s", bad[i]);
}

/* SECURITY: besides loopback names, exactly the external URL's host and port. */
static void host_header_may_name_the_external_url(void **state)
{
	static const char *const ok[] = { "code.example.com", "CODE.example.com:443", "localhost",
					  "127.0.0.1:6070", "[::1]" };
	static const char *const bad[] = { "evil.example",
					   "code.example.com:8443",
					   "code.example.com.evil.example",
					   "xcode.example.com",
					   "code.example.co",
					   "code.example.com:",
					   "code.example.com:44",
					   "code.example.com:443:443",
					   "",
					   "code.example.com/x",
					   "[2001:db8::1]" };

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!route_host_is_allowed(ok[i], "code.example.com:443"))
			fail_msg("refused Host: %s", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (route_host_is_allowed(bad[i], "code.example.com:443"))
			fail_msg("accepted Host: %s", bad[i]);
	assert_false(route_host_is_allowed(NULL, "code.example.com:443"));
	/* Without an external URL, loopback names only. */
	assert_false(route_host_is_allowed("code.example.com", ""));
	assert_false(route_host_is_allowed("code.example.com", NULL));
	assert_true(route_host_is_allowed("localhost:1", ""));
	assert_true(route_host_is_allowed("[2001:db8::1]", "[2001:db8::1]:443"));
	assert_true(route_host_is_allowed("code.example.com:8443", "code.example.com:8443"));
	assert_false(route_host_is_allowed("code.example.com", "code.example.com:8443"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(route_matches_literals_names_and_rest),
		cmocka_unit_test(route_refuses_near_misses),
		cmocka_unit_test(route_refuses_malformed_names),
		cmocka_unit_test(route_server_table_routes_every_api_path),
		cmocka_unit_test(route_params_are_listed),
		cmocka_unit_test(url_decode_handles_plus_percent_and_limits),
		cmocka_unit_test(path_check_confines),
		cmocka_unit_test(path_check_takes_any_name_byte),
		cmocka_unit_test(path_check_refuses_encoded_traversal),
		cmocka_unit_test(sse_event_keeps_one_event_per_call),
		cmocka_unit_test(json_file_has_context_branches_and_replacement),
		cmocka_unit_test(host_header_must_be_loopback),
		cmocka_unit_test(listen_parse_refuses_non_loopback),
		cmocka_unit_test(exposure_names_exactly_what_is_missing),
		cmocka_unit_test(external_url_is_one_https_origin),
		cmocka_unit_test(host_header_may_name_the_external_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
