/* trawl serve: the HTTP API and web UI over DATA/index (docs/api.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "server/server.h"
#include "util/error.h"
#include "util/file.h"

const struct cli_help cli_help_serve = {
	.synopsis =
		"trawl serve [--data DIR] [--listen HOST:PORT] [--sync-interval DURATION]\n"
		"            [--conn-timeout SECONDS] [--header-timeout SECONDS] [--threads N]\n"
		"            [--max-searches N] [--query-memory MIB] [--max-conns N]\n"
		"            [--max-conns-per-client N]\n",
	.summary = "serve the web UI and the HTTP API over DATA/index, and sync it on a schedule",
	.options =
		"  --data DIR            data directory; DIR/index is the index (default $TRAWL_DATA,\n"
		"                        else ./trawl-data)\n"
		"  --listen HOST:PORT    loopback only until accounts exist (default 127.0.0.1:6070)\n"
		"  --sync-interval D     run `trawl sync` every D (e.g. 30s, 10m, 1h; 0 = never; 10m)\n"
		"  --conn-timeout S      close connections idle for S seconds (default 30)\n"
		"  --header-timeout S    close a connection whose request line and headers are not all\n"
		"                        in S seconds after it opened or its last response (default 10)\n"
		"  --threads N           HTTP threads (default two per core, at least 4)\n"
		"  --max-searches N      concurrent searches before 429 busy (default 4 per core + 4)\n"
		"  --query-memory MIB    results one search may hold before it stops with a limit\n"
		"                        alert (default 128)\n"
		"  --max-conns N         open connections in all (default 1024)\n"
		"  --max-conns-per-client N\n"
		"                        open connections of one client: an IPv4 address, an IPv6 /64,\n"
		"                        all of loopback (default 64; behind a proxy, --max-conns)\n"
		"  -h, --help            this usage\n"
		"\n"
		"docs/api.md describes the API; docs/operations.md the limits and the scheduled sync.\n",
};

/* "90", "90s", "10m", "1h" -> seconds. */
static bool parse_duration(unsigned *out, const char *s)
{
	uint64_t v, mul = 1;
	char num[32];
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's': num[--n] = 0; break;
	case 'm': mul = 60; num[--n] = 0; break;
	case 'h': mul = 3600; num[--n] = 0; break;
	default: break;
	}
	if (!cli_parse_u64(&v, num) || v > 30 * 24 * 3600 || v * mul > 30 * 24 * 3600)
		return false;
	*out = (unsigned)(v * mul);
	return true;
}

static bool parse_small(unsigned *out, const char *s, uint64_t max)
{
	uint64_t v;

	if (!cli_parse_u64(&v, s) || v == 0 || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "sync-interval", required_argument, NULL, 'S' },
		{ "conn-timeout", required_argument, NULL, 'T' },
		{ "threads", required_argument, NULL, 't' },
		{ "max-searches", required_argument, NULL, 'M' },
		{ "query-memory", required_argument, NULL, 'Q' },
		{ "header-timeout", required_argument, NULL, 'H' },
		{ "max-conns", required_argument, NULL, 'C' },
		{ "max-conns-per-client", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server_config cfg = { .data_dir = "trawl-data", .sync_interval_s = 600,
				     .conn_timeout_s = 30, .self_exe = "/proc/self/exe" };
	const char *listen = "127.0.0.1:6070";
	const char *env_data = getenv("TRAWL_DATA");
	int c, err;

	/* As trawl repo and trawl sync (docs/operations.md): --data, $TRAWL_DATA, ./trawl-data. */
	if (env_data && env_data[0])
		cfg.data_dir = env_data;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': cfg.data_dir = optarg; break;
		case 'l': listen = optarg; break;
		case 'S':
			if (!parse_duration(&cfg.sync_interval_s, optarg)) {
				cli_errorf("--sync-interval: expected a duration like 30s, 10m or 1h "
					   "(0 to disable), got \"%s\"", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'T':
			if (!parse_small(&cfg.conn_timeout_s, optarg, 3600)) {
				cli_errorf("--conn-timeout: expected seconds from 1 to 3600, got \"%s\"",
					   optarg);
				return EXIT_ERROR;
			}
			break;
		case 't':
			if (!parse_small(&cfg.n_threads, optarg, 256)) {
				cli_errorf("--threads: expected 1 to 256, got \"%s\"", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'M':
			if (!parse_small(&cfg.max_searches, optarg, 4096)) {
				cli_errorf("--max-searches: expected 1 to 4096, got \"%s\"", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'Q': {
			unsigned mib;

			if (!parse_small(&mib, optarg, 65536)) {
				cli_errorf("--query-memory: expected MiB from 1 to 65536, got \"%s\"",
					   optarg);
				return EXIT_ERROR;
			}
			cfg.query_mem_mib = mib;
			break;
		}
		case 'H':
			if (!parse_small(&cfg.header_timeout_s, optarg, 3600)) {
				cli_errorf("--header-timeout: expected seconds from 1 to 3600, got \"%s\"",
					   optarg);
				return EXIT_ERROR;
			}
			break;
		case 'C':
			if (!parse_small(&cfg.max_conns, optarg, 65536)) {
				cli_errorf("--max-conns: expected 1 to 65536, got \"%s\"", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'P':
			if (!parse_small(&cfg.max_conns_per_client, optarg, 65536)) {
				cli_errorf("--max-conns-per-client: expected 1 to 65536, got \"%s\"", optarg);
				return EXIT_ERROR;
			}
			break;
		case 'h': return cli_usage("serve", false);
		default: return cli_usage("serve", true);
		}
	}
	if (optind != argc)
		return cli_usage("serve", true);
	if ((err = server_listen_parse(&cfg, listen)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	if ((err = file_mkdirs(cfg.data_dir)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	if ((err = server_run(&cfg)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	return 0;
}
