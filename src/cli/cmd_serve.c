/* trawl serve: the HTTP API and web UI over DATA/index (docs/api.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cli/cli.h"
#include "cli/servemod.h"
#include "server/server.h"
#include "store/store.h"
#include "util/conf.h"
#include "util/error.h"
#include "util/file.h"

const struct cli_help cli_help_serve = {
	.synopsis =
		"trawl serve [--data DIR] [--listen HOST:PORT] [--sync-interval DURATION]\n"
		"            [--sync-max-interval DURATION] [--sync-jobs N] [--conn-timeout SECONDS]\n"
		"            [--header-timeout SECONDS] [--threads N]\n"
		"            [--max-searches N] [--query-memory MIB] [--max-conns N]\n"
		"            [--max-conns-per-client N] [--tls-cert FILE --tls-key FILE]\n"
		"            [--external-url https://HOST[:PORT]] [--trusted-proxy CIDR]...\n"
		"            [--rate-search N/s] [--rate-signin N/min] [--rate-tokens N/h]\n"
		"            [--user-max-searches N] [--allow-anonymous] [--audit-retention DAYS]\n"
		"            [--audit-refusal-retention DAYS] [--audit-max-rows N]\n"
		"            [--oidc-issuer URL --oidc-client-id ID --oidc-client-secret-file FILE]\n"
		"            [--oidc-scopes S] [--oidc-user-claim C] [--oidc-groups-claim C]\n"
		"            [--oidc-allowed-domain D]... [--oidc-admin-group G] [--oidc-ca-file F]\n"
		"            [--password-sign-in on|off] [--auth-proxy-header NAME]\n"
		"            [--auth-proxy-groups-header NAME] [--oidc-groups-prefix P]\n"
		"            [--external-token-max-age DURATION]\n"
		"            [--role all|frontend|searcher|indexer] [--searchers NAME=HOST:PORT,...]\n"
		"            [--searcher-count N --searcher-pattern HOST%dPATTERN:PORT]\n"
		"            [--searchers-file FILE] [--searchers-dns HOST:PORT]\n"
		"            [--self NAME] [--cluster-secret-file FILE]\n",
	.summary = "serve the web UI and the HTTP API over DATA/index, and sync it on a schedule",
	.options =
		"  --data DIR            data directory; DIR/index is the index (default $TRAWL_DATA,\n"
		"                        else ./trawl-data)\n"
		"  --listen HOST:PORT    default 127.0.0.1:6070; an address other than loopback needs\n"
		"                        an administrator, TLS or --trusted-proxy, and --external-url\n"
		"  --sync-interval D     background sync: a repository is synced again after half\n"
		"                        the time it had gone unchanged, at least D (e.g. 30s, 10m,\n"
		"                        1h; 0 = no background sync; default 10m)\n"
		"  --sync-max-interval D and at most D (default 8h)\n"
		"  --sync-jobs N         repositories synced at once (default twice the cores, at\n"
		"                        most 16)\n"
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
		"                        ever); DATA/audit/audit.log is rotated at 64 MiB, 5 kept\n"
		"  --audit-refusal-retention D  keep refused requests' events D days (default 90;\n"
		"                        0 = as long as the others)\n"
		"  --audit-max-rows N    at most N audit events in the table (default 10000000; 0 = no\n"
		"                        cap); past it the oldest anonymous refusals go first, then\n"
		"                        activity, then users' refusals (about 200 B a row)\n"
		"  --oidc-issuer URL     sign in with OpenID Connect at this https issuer (needs\n"
		"                        --external-url, accounts and the two flags below)\n"
		"  --oidc-client-id ID   the client id registered at the provider\n"
		"  --oidc-client-secret-file FILE\n"
		"                        the client secret, alone in a file of mode 0600 owned by\n"
		"                        the server's user (read once at start)\n"
		"  --oidc-scopes S       default \"openid email profile\" (add \"groups\" where the\n"
		"                        provider wants it)\n"
		"  --oidc-user-claim C   the ID token claim naming the user (default email)\n"
		"  --oidc-groups-claim C the claim listing the user's groups (default groups)\n"
		"  --oidc-allowed-domain D  only emails of domain D sign in (repeatable)\n"
		"  --oidc-admin-group G  members of group G are administrators, others are not\n"
		"  --oidc-ca-file F      PEM CAs trusted for the provider besides the system's\n"
		"  --password-sign-in on|off  off: only single sign-on signs in (default on)\n"
		"  --auth-proxy-header NAME  believe this header (e.g. X-Forwarded-User) as the\n"
		"                        user's name from --trusted-proxy addresses only\n"
		"  --auth-proxy-groups-header NAME  the user's groups, comma-separated\n"
		"  --oidc-groups-prefix P  synced groups are named P + the provider's name (OIDC and\n"
		"                        the proxy), never meeting a hand-made group\n"
		"  --external-token-max-age DURATION  an SSO or proxy user's API tokens expire\n"
		"                        within DURATION (30m, 12h, 7d; default 7d; 0: no tokens)\n"
		"  --role R              all (default): one process; frontend: users and the fan-out\n"
		"                        to --searchers; searcher: the signed internal search over\n"
		"                        DIR/index only; indexer: syncs what --self owns\n"
		"  --searchers LIST      NAME=HOST:PORT,... the searchers (names are rendezvous\n"
		"                        hashing's identities)\n"
		"  --searcher-count N, --searcher-pattern P\n"
		"                        or N searchers at P with %d their number, named by their\n"
		"                        host's first label (a StatefulSet pod's name)\n"
		"  --searchers-file F    a frontend's searchers, as --searchers (commas, spaces or\n"
		"                        lines; # comments), read again when it changes and on\n"
		"                        SIGHUP: the next query uses the new set\n"
		"  --searchers-dns HOST:PORT  the searchers at a headless Service's addresses, each\n"
		"                        named by its reverse DNS's first label (a StatefulSet pod's\n"
		"                        name), resolved again every 10 s and on SIGHUP\n"
		"  --self NAME           this searcher's (required: it takes only requests signed\n"
		"                        for NAME) or indexer's name in the list\n"
		"  --cluster-secret-file FILE  32+ bytes (raw or base64) that sign internal requests\n"
		"  --database URL        the metadata store: sqlite:PATH (default DATA/trawl.db) or\n"
		"                        postgres://... (also $TRAWL_DATABASE; every command)\n"
		"  --database-password-file FILE  the PostgreSQL password, read from FILE\n"
		"  -h, --help            this usage\n"
		"\n"
		"Settings may also be written in DATA/trawl.conf, one `key = value` a line named\n"
		"as the flags without \"--\" (e.g. oidc-issuer = https://idp.example.com); a flag\n"
		"overrides the file. docs/api.md describes the API; docs/operations.md the limits,\n"
		"the scheduled sync, TLS, reverse proxies and trawl.conf; docs/sso.md single sign-on.\n",
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

/* "0", or N followed by s, m, h or d, of at most 100 years: seconds in *out. */
static bool parse_max_age(int64_t *out, const char *s)
{
	uint64_t v, mul;
	char num[32];
	size_t n = strlen(s);

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return true;
	}
	if (n < 2 || n >= sizeof(num))
		return false;
	switch (s[n - 1]) {
	case 's':
		mul = 1;
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		return false;
	}
	memcpy(num, s, n - 1);
	num[n - 1] = 0;
	if (!cli_parse_u64(&v, num) || v == 0 || v > 36500ULL * 86400 / mul)
		return false;
	*out = (int64_t)(v * mul);
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
	if ((err = servemod.proxy_net_parse(&cfg->proxies[cfg->n_proxies], optarg)) < 0) {
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
		if ((err = servemod.external_url_parse(cfg, optarg)) < 0) {
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

/* The single sign-on flags: 0, EXIT_ERROR, or 1 if c is not one of them. */
static int sso_flag(struct server_config *cfg, int c)
{
	struct server_sso_config *s = &cfg->sso;

	switch (c) {
	case 'I': s->issuer = optarg; return 0;
	case 'D': s->client_id = optarg; return 0;
	case 'E': s->secret_file = optarg; return 0;
	case 'O': s->scopes = optarg; return 0;
	case 'U': s->user_claim = optarg; return 0;
	case 'G': s->groups_claim = optarg; return 0;
	case 'a': s->admin_group = optarg; return 0;
	case 'K': s->ca_file = optarg; return 0;
	case 'X': s->proxy_header = optarg; return 0;
	case 'Y': s->proxy_groups_header = optarg; return 0;
	case 'g':
		if (auth_groups_prefix_check(optarg) < 0) {
			cli_errorf("--oidc-groups-prefix: %s", error_last());
			return EXIT_ERROR;
		}
		s->groups_prefix = optarg;
		return 0;
	case 'e':
		if (!parse_max_age(&s->external_token_max_s, optarg)) {
			cli_errorf(
				"--external-token-max-age: expected 0 or a duration like 30m, 12h or "
				"7d (at most 36500d), got \"%s\"",
				optarg);
			return EXIT_ERROR;
		}
		if (s->external_token_max_s == 0)
			s->external_token_max_s = AUTH_EXTERNAL_TOKENS_OFF;
		return 0;
	case 'N':
		if (s->n_allowed_domains == SERVER_OIDC_DOMAINS_MAX) {
			cli_errorf("--oidc-allowed-domain: at most %d domains",
				   SERVER_OIDC_DOMAINS_MAX);
			return EXIT_ERROR;
		}
		s->allowed_domains[s->n_allowed_domains++] = optarg;
		return 0;
	case 'w':
		if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
			cli_errorf("--password-sign-in: expected on or off, got \"%s\"", optarg);
			return EXIT_ERROR;
		}
		s->is_password_off = strcmp(optarg, "off") == 0;
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
	if ((err = servemod.listen_parse(cfg, listen)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	/*
	 * Off loopback, a data directory without a database has no administrator: refuse before
	 * creating anything. server_run checks again with the accounts themselves.
	 */
	if (!cfg->searcher_count != !cfg->searcher_pattern || (cfg->searcher_count && cfg->searchers)) {
		cli_errorf("--searcher-count and --searcher-pattern go together, instead of --searchers");
		return EXIT_ERROR;
	}
	if (cfg->searchers_file && (cfg->searchers || cfg->searcher_count)) {
		cli_errorf("--searchers-file replaces --searchers (and --searcher-count): give one");
		return EXIT_ERROR;
	}
	if (cfg->searchers_dns && (cfg->searchers || cfg->searcher_count || cfg->searchers_file)) {
		cli_errorf("--searchers-dns replaces --searchers (--searcher-count, --searchers-file): "
			   "give one");
		return EXIT_ERROR;
	}
	/* A searcher's one data route answers signed requests only. */
	if (cfg->is_loopback || cfg->role == SERVER_ROLE_SEARCHER || cfg->role == SERVER_ROLE_INDEXER)
		return 0;
	if (!(db = store_location(cfg->data_dir))) {
		cli_report(error_nomem(NULL));
		return EXIT_ERROR;
	}
	has_db = store_is_server(db) || access(db, F_OK) == 0;
	free(db);
	if (!has_db && (err = servemod.check_exposure(cfg, false)) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	return 0;
}

static const struct option longopts[] = {
	{ "data", required_argument, NULL, 'd' },
	{ "listen", required_argument, NULL, 'l' },
	{ "sync-interval", required_argument, NULL, 'S' },
	{ "sync-max-interval", required_argument, NULL, 'J' },
	{ "sync-jobs", required_argument, NULL, 'j' },
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
	{ "oidc-issuer", required_argument, NULL, 'I' },
	{ "oidc-client-id", required_argument, NULL, 'D' },
	{ "oidc-client-secret-file", required_argument, NULL, 'E' },
	{ "oidc-scopes", required_argument, NULL, 'O' },
	{ "oidc-user-claim", required_argument, NULL, 'U' },
	{ "oidc-groups-claim", required_argument, NULL, 'G' },
	{ "oidc-allowed-domain", required_argument, NULL, 'N' },
	{ "oidc-admin-group", required_argument, NULL, 'a' },
	{ "oidc-ca-file", required_argument, NULL, 'K' },
	{ "password-sign-in", required_argument, NULL, 'w' },
	{ "auth-proxy-header", required_argument, NULL, 'X' },
	{ "auth-proxy-groups-header", required_argument, NULL, 'Y' },
	{ "oidc-groups-prefix", required_argument, NULL, 'g' },
	{ "external-token-max-age", required_argument, NULL, 'e' },
	{ "role", required_argument, NULL, 1000 },
	{ "searchers", required_argument, NULL, 1001 },
	{ "searcher-count", required_argument, NULL, 1002 },
	{ "searcher-pattern", required_argument, NULL, 1003 },
	{ "self", required_argument, NULL, 1004 },
	{ "cluster-secret-file", required_argument, NULL, 1005 },
	{ "searchers-file", required_argument, NULL, 1006 },
	{ "searchers-dns", required_argument, NULL, 1007 },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* What the flags set: the server's configuration and the address to listen on. */
struct serve_opts {
	struct server_config cfg;
	const char *listen;
	bool seen[1100]; /* the flags given on the command line, by their letter or number */
};

/* The flags of numbers and durations: 0, EXIT_ERROR, or 1 if c is not one of them. */
static int number_flag(struct server_config *cfg, int c)
{
	unsigned mib;

	switch (c) {
	case 'R':
		if (strcmp(optarg, "0") == 0)
			cfg->audit_retention_days = 0;
		else if (!parse_small(&cfg->audit_retention_days, optarg, 36500)) {
			cli_errorf("--audit-retention: expected days from 0 to 36500, got \"%s\"",
				   optarg);
			return EXIT_ERROR;
		}
		return 0;
	case 'S':
		if (!parse_duration(&cfg->sync_interval_s, optarg)) {
			cli_errorf("--sync-interval: expected a duration like 30s, 10m or 1h "
				   "(0 to disable), got \"%s\"", optarg);
			return EXIT_ERROR;
		}
		return 0;
	case 'J':
		if (!parse_duration(&cfg->sync_max_interval_s, optarg) ||
		    cfg->sync_max_interval_s == 0) {
			cli_errorf("--sync-max-interval: expected a duration like 1h, 8h or 720h, "
				   "got \"%s\"", optarg);
			return EXIT_ERROR;
		}
		return 0;
	case 'j':
		if (!parse_small(&cfg->sync_jobs, optarg, 256)) {
			cli_errorf("--sync-jobs: expected 1 to 256, got \"%s\"", optarg);
			return EXIT_ERROR;
		}
		return 0;
	case 'T':
		if (!parse_small(&cfg->conn_timeout_s, optarg, 3600)) {
			cli_errorf("--conn-timeout: expected seconds from 1 to 3600, got \"%s\"",
				   optarg);
			return EXIT_ERROR;
		}
		return 0;
	case 't':
		if (!parse_small(&cfg->n_threads, optarg, 256)) {
			cli_errorf("--threads: expected 1 to 256, got \"%s\"", optarg);
			return EXIT_ERROR;
		}
		return 0;
	case 'M':
		if (!parse_small(&cfg->max_searches, optarg, 4096)) {
			cli_errorf("--max-searches: expected 1 to 4096, got \"%s\"", optarg);
			return EXIT_ERROR;
		}
		return 0;
	case 'Q':
		if (!parse_small(&mib, optarg, 65536)) {
			cli_errorf("--query-memory: expected MiB from 1 to 65536, got \"%s\"", optarg);
			return EXIT_ERROR;
		}
		cfg->query_mem_mib = mib;
		return 0;
	case 'H':
		if (!parse_small(&cfg->header_timeout_s, optarg, 3600)) {
			cli_errorf("--header-timeout: expected seconds from 1 to 3600, got \"%s\"",
				   optarg);
			return EXIT_ERROR;
		}
		return 0;
	case 'C':
		if (!parse_small(&cfg->max_conns, optarg, 65536)) {
			cli_errorf("--max-conns: expected 1 to 65536, got \"%s\"", optarg);
			return EXIT_ERROR;
		}
		return 0;
	case 'P':
		if (!parse_small(&cfg->max_conns_per_client, optarg, 65536)) {
			cli_errorf("--max-conns-per-client: expected 1 to 65536, got \"%s\"", optarg);
			return EXIT_ERROR;
		}
		return 0;
	default: return 1;
	}
}

/* The cluster's flags (docs/operations.md, "Running a cluster"): 0, EXIT_ERROR, or 1. */
static int cluster_flag(struct server_config *cfg, int c)
{
	static const char *const roles[] = { "all", "frontend", "searcher", "indexer" };

	switch (c) {
	case 1000:
		for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
			if (strcmp(optarg, roles[i]) == 0) {
				cfg->role = (enum server_role)i;
				return 0;
			}
		cli_errorf("--role: expected all, frontend, searcher or indexer, got \"%s\"", optarg);
		return EXIT_ERROR;
	case 1001: cfg->searchers = optarg; return 0;
	case 1002:
		if (!parse_small(&cfg->searcher_count, optarg, 1024)) {
			cli_errorf("--searcher-count: expected 1 to 1024, got \"%s\"", optarg);
			return EXIT_ERROR;
		}
		return 0;
	case 1003: cfg->searcher_pattern = optarg; return 0;
	case 1004: cfg->self = optarg; return 0;
	case 1005: cfg->cluster_secret_file = optarg; return 0;
	case 1006: cfg->searchers_file = optarg; return 0;
	case 1007: cfg->searchers_dns = optarg; return 0;
	default: return 1;
	}
}

/* One flag c with optarg, from the command line or trawl.conf: 0, EXIT_ERROR, or 1: unknown. */
static int serve_flag(struct serve_opts *o, int c)
{
	int err;

	if ((err = network_flag(&o->cfg, c)) != 1 || (err = audit_flag(&o->cfg, c)) != 1 ||
	    (err = sso_flag(&o->cfg, c)) != 1 || (err = number_flag(&o->cfg, c)) != 1 ||
	    (err = cluster_flag(&o->cfg, c)) != 1)
		return err;
	switch (c) {
	case 'd': o->cfg.data_dir = optarg; return 0;
	case 'l': o->listen = optarg; return 0;
	case 'A': o->cfg.allow_anonymous = true; return 0;
	default: return 1;
	}
}

/* The flags a file may set more than once: each line adds one. */
static bool is_repeatable(int c)
{
	return c == 'p' || c == 'N';
}

/* The long option named key that trawl.conf may set, or NULL (data and help may not). */
static const struct option *conf_option(const char *key)
{
	for (const struct option *lo = longopts; lo->name; lo++)
		if (strcmp(lo->name, key) == 0)
			return lo->val == 'd' || lo->val == 'h' ? NULL : lo;
	return NULL;
}

/* One entry of trawl.conf, unless the command line gave its flag (a flag overrides the file). */
static int conf_entry_apply(struct serve_opts *o, const struct conf_entry *e, const char *path,
			    bool once[1100])
{
	const struct option *lo = conf_option(e->key);
	int err;

	if (!lo) {
		cli_errorf("%s:%u: unknown key \"%s\" (keys are the flags of `trawl serve` "
			   "without \"--\", except data and help)",
			   path, e->line, e->key);
		return EXIT_ERROR;
	}
	if (o->seen[lo->val])
		return 0;
	if (once[lo->val] && !is_repeatable(lo->val)) {
		cli_errorf("%s:%u: %s is set twice", path, e->line, e->key);
		return EXIT_ERROR;
	}
	once[lo->val] = true;
	if (lo->has_arg == no_argument) {
		if (strcmp(e->value, "on") != 0 && strcmp(e->value, "off") != 0) {
			cli_errorf("%s:%u: %s: expected on or off", path, e->line, e->key);
			return EXIT_ERROR;
		}
		if (strcmp(e->value, "off") == 0)
			return 0;
	}
	optarg = e->value;
	if ((err = serve_flag(o, lo->val)) != 0)
		cli_errorf("%s:%u: the value of %s is refused (above)", path, e->line, e->key);
	return err ? EXIT_ERROR : 0;
}

/*
 * DATA/trawl.conf, when there is one: its values live in *conf until the server ends (the
 * configuration borrows them).
 */
static int conf_apply(struct serve_opts *o, struct conf *conf)
{
	char *path = file_join(o->cfg.data_dir, "trawl.conf");
	bool once[1100] = { false };
	int err;

	if (!path) {
		cli_report(error_nomem(NULL));
		return EXIT_ERROR;
	}
	err = conf_load(conf, path);
	if (err == TRAWL_ENOTFOUND) {
		free(path);
		return 0;
	}
	if (err < 0)
		cli_report(err);
	for (size_t i = 0; err == 0 && i < conf->n; i++)
		err = conf_entry_apply(o, &conf->v[i], path, once);
	free(path);
	return err ? EXIT_ERROR : 0;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_opts o = {
		.cfg = { .data_dir = "trawl-data", .sync_interval_s = 600, .conn_timeout_s = 30,
			 .self_exe = "/proc/self/exe", .rate_search = SERVER_RATE_DEFAULT,
			 .rate_signin = SERVER_RATE_DEFAULT, .rate_tokens = SERVER_RATE_DEFAULT,
			 .audit_retention_days = 365, .audit_refusal_retention_days = 90,
			 .audit_max_rows = 10000000 },
		.listen = "127.0.0.1:6070",
	};
	const char *env_data = getenv("TRAWL_DATA");
	struct conf conf = { 0 };
	int c, err;

	/* As trawl repo and trawl sync (docs/operations.md): --data, $TRAWL_DATA, ./trawl-data. */
	if (env_data && env_data[0])
		o.cfg.data_dir = env_data;
	/* The flags are parsed by the server's own functions (the listen address, the proxies). */
	if ((err = servemod_init()) < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h')
			return cli_usage("serve", false);
		if ((err = serve_flag(&o, c)) == 1)
			return cli_usage("serve", true);
		if (err)
			return err;
		if (c > 0 && c < 1100)
			o.seen[c] = true;
	}
	if (optind != argc)
		return cli_usage("serve", true);
	if ((err = conf_apply(&o, &conf)) != 0 || (err = check_flags(&o.cfg, o.listen)) != 0)
		goto out;
	if ((err = file_mkdirs(o.cfg.data_dir)) < 0 || (err = servemod.run(&o.cfg)) < 0) {
		cli_report(err);
		err = EXIT_ERROR;
	}
out:
	conf_dispose(&conf);
	return err;
}
