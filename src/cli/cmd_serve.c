/* trawl serve: the HTTP API and web UI over DATA/index (docs/api.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "server/server.h"
#include "util/error.h"
#include "util/file.h"

const struct cli_help cli_help_serve = {
	.synopsis =
		"trawl serve [--data DIR] [--listen HOST:PORT] [--sync-interval DURATION]\n"
		"            [--conn-timeout SECONDS] [--header-timeout SECONDS] [--threads N]\n"
		"            [--max-searches N] [--query-memory MIB] [--max-conns N]\n"
		"            [--max-conns-per-client N] [--tls-cert FILE --tls-key FILE]\n"
		"            [--external-url https://HOST[:PORT]] [--trusted-proxy CIDR]...\n"
		"            [--rate-search N/s] [--rate-signin N/min] [--rate-tokens N/h]\n"
		"            [--user-max-searches N] [--allow-anonymous] [--audit-retention DAYS]\n"
		"            [--audit-refusal-retention DAYS] [--audit-max-rows N]\n",
	.summary = "serve the web UI and the HTTP API over DATA/index, and sync it on a schedule",
	.options =
		"  --data DIR            data directory; DIR/index is the index (default $TRAWL_DATA,\n"
		"                        else ./trawl-data)\n"
		"  --listen HOST:PORT    default 127.0.0.1:6070; an address other than loopback needs\n"
		"                        an administrator, TLS or --trusted-proxy, and --external-url\n"
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
		"  --tls-cert FILE       serve HTTPS (TLS 1.2 and 1.3) with this PEM certificate chain\n"
		"  --tls-key FILE        and this PEM private key (mode 0600: refused if others may\n"
		"                        read it)\n"
		"  --external-url URL    the https:// URL clients use: its host is the one Host the\n"
		"                        server answers besides loopback names\n"
		"  --trusted-proxy CIDR  a reverse proxy in front (repeatable): X-Forwarded-For and\n"
		"                        X-Forwarded-Proto are believed from these addresses only\n"
		"  --rate-search N/s     searches per second of one user or anonymous address, burst\n"
		"                        4N, and 4x that per address (default 50/s; 0 = off; off in\n"
		"                        laptop mode unless given)\n"
		"  --rate-signin N/min   sign-in requests per minute per address (default 30; 0 = off)\n"
		"  --rate-tokens N/h     tokens created per hour per user and per address (default\n"
		"                        30; 0 = off)\n"
		"  --user-max-searches N concurrent searches of one user or anonymous address before\n"
		"                        429 (default half of --max-searches, at least 2)\n"
		"  --allow-anonymous     callers without credentials read the public repositories\n"
		"  --audit-retention D   keep audit events D days in the table (default 365; 0 = for\n"
		"                        ever); DATA/audit.log is rotated at 64 MiB, 5 kept\n"
		"  --audit-refusal-retention D  keep refused requests' events D days (default 90;\n"
		"                        0 = as long as the others)\n"
		"  --audit-max-rows N    at most N audit events in the table (default 10000000; 0 = no\n"
		"                        cap); past it the oldest anonymous refusals go first, then\n"
		"                        activity, then users' refusals (about 200 B a row)\n"
		"  -h, --help            this usage\n"
		"\n"
		"docs/api.md describes the API; docs/operations.md the limits, the scheduled sync,\n"
		"TLS and reverse proxies.\n",
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

/* "N", or "N/UNIT" with the unit the flag counts in: events per unit; 0 turns it off. */
static bool parse_rate(uint32_t *out, const char *s, const char *unit)
{
	const char *slash = strchr(s, '/');
	char num[16];
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t v;

	if (n == 0 || n >= sizeof(num) || (slash && strcmp(slash + 1, unit) != 0))
		return false;
	memcpy(num, s, n);
	num[n] = 0;
	if (!cli_parse_u64(&v, num) || v > 1000000)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int rate_flag(uint32_t *out, const char *flag, const char *unit)
{
	if (parse_rate(out, optarg, unit))
		return 0;
	cli_errorf("%s: expected N or N/%s (0 = off, at most 1000000), got \"%s\"", flag, unit,
		   optarg);
	return EXIT_ERROR;
}

static int proxy_flag(struct server_config *cfg)
{
	int err;

	if (cfg->n_proxies == PROXY_MAX_NETS) {
		cli_errorf("--trusted-proxy: at most %d networks", PROXY_MAX_NETS);
		return EXIT_ERROR;
	}
	if ((err = proxy_net_parse(&cfg->proxies[cfg->n_proxies], optarg)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	cfg->n_proxies++;
	return 0;
}

/* The flags of leaving loopback and of rate limits: 0, EXIT_ERROR, or 1 for another flag. */
static int network_flag(struct server_config *cfg, int c)
{
	int err;

	switch (c) {
	case 'c': cfg->tls_cert = optarg; return 0;
	case 'k': cfg->tls_key = optarg; return 0;
	case 'x':
		if ((err = server_external_url_parse(cfg, optarg)) < 0) {
			cli_report(err);
			return EXIT_ERROR;
		}
		return 0;
	case 'p': return proxy_flag(cfg);
	case 'r': return rate_flag(&cfg->rate_search, "--rate-search", "s");
	case 'i': return rate_flag(&cfg->rate_signin, "--rate-signin", "min");
	case 'o': return rate_flag(&cfg->rate_tokens, "--rate-tokens", "h");
	case 'u':
		if (!parse_small(&cfg->user_max_searches, optarg, 4096)) {
			cli_errorf("--user-max-searches: expected 1 to 4096, got \"%s\"", optarg);
			return EXIT_ERROR;
		}
		return 0;
	default: return 1;
	}
}

/* --audit-refusal-retention and --audit-max-rows: 0, or 1 if c is not one of them. */
static int audit_flag(struct server_config *cfg, int c)
{
	uint64_t v;

	switch (c) {
	case 'F':
		if (strcmp(optarg, "0") == 0)
			cfg->audit_refusal_retention_days = 0;
		else if (!parse_small(&cfg->audit_refusal_retention_days, optarg, 36500)) {
			cli_errorf("--audit-refusal-retention: expected days from 0 to 36500, got \"%s\"",
				   optarg);
			return EXIT_ERROR;
		}
		return 0;
	case 'W':
		if (!cli_parse_u64(&v, optarg) || v > (uint64_t)1 << 40) {
			cli_errorf("--audit-max-rows: expected 0 to 2^40 events, got \"%s\"", optarg);
			return EXIT_ERROR;
		}
		cfg->audit_max_rows = v;
		return 0;
	default: return 1;
	}
}

/* Checks what the flags say together, before anything is created. */
static int check_flags(struct server_config *cfg, const char *listen)
{
	char *db;
	int err;
	bool has_db;

	if (!cfg->tls_cert != !cfg->tls_key) {
		cli_errorf("--tls-cert and --tls-key go together");
		return EXIT_ERROR;
	}
	if ((err = server_listen_parse(cfg, listen)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	/*
	 * Off loopback, a data directory without a database has no administrator: refuse before
	 * creating anything. server_run checks again with the accounts themselves.
	 */
	if (cfg->is_loopback)
		return 0;
	if (!(db = file_join(cfg->data_dir, "trawl.db"))) {
		cli_report(error_nomem(NULL));
		return EXIT_ERROR;
	}
	has_db = access(db, F_OK) == 0;
	free(db);
	if (!has_db && (err = server_check_exposure(cfg, false)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	return 0;
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
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "external-url", required_argument, NULL, 'x' },
		{ "trusted-proxy", required_argument, NULL, 'p' },
		{ "rate-search", required_argument, NULL, 'r' },
		{ "rate-signin", required_argument, NULL, 'i' },
		{ "rate-tokens", required_argument, NULL, 'o' },
		{ "user-max-searches", required_argument, NULL, 'u' },
		{ "allow-anonymous", no_argument, NULL, 'A' },
		{ "audit-retention", required_argument, NULL, 'R' },
		{ "audit-refusal-retention", required_argument, NULL, 'F' },
		{ "audit-max-rows", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server_config cfg = { .data_dir = "trawl-data", .sync_interval_s = 600,
				     .conn_timeout_s = 30, .self_exe = "/proc/self/exe",
				     .rate_search = SERVER_RATE_DEFAULT,
				     .rate_signin = SERVER_RATE_DEFAULT,
				     .rate_tokens = SERVER_RATE_DEFAULT,
				     .audit_retention_days = 365,
				     .audit_refusal_retention_days = 90,
				     .audit_max_rows = 10000000 };
	const char *listen = "127.0.0.1:6070";
	const char *env_data = getenv("TRAWL_DATA");
	int c, err;

	/* As trawl repo and trawl sync (docs/operations.md): --data, $TRAWL_DATA, ./trawl-data. */
	if (env_data && env_data[0])
		cfg.data_dir = env_data;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((err = network_flag(&cfg, c)) != 1 || (err = audit_flag(&cfg, c)) != 1) {
			if (err)
				return err;
			continue;
		}
		switch (c) {
		case 'd': cfg.data_dir = optarg; break;
		case 'l': listen = optarg; break;
		case 'A': cfg.allow_anonymous = true; break;
		case 'R':
			if (strcmp(optarg, "0") == 0)
				cfg.audit_retention_days = 0;
			else if (!parse_small(&cfg.audit_retention_days, optarg, 36500)) {
				cli_errorf("--audit-retention: expected days from 0 to 36500, got \"%s\"",
					   optarg);
				return EXIT_ERROR;
			}
			break;
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
	if ((err = check_flags(&cfg, listen)) != 0)
		return err;
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
