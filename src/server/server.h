/*
 * trawl serve: the HTTP API (docs/api.md), the embedded web UI, /healthz and /metrics over
 * libmicrohttpd, with the index held in reference-counted snapshots that a watcher swaps when
 * the MANIFEST changes, and a scheduler that runs `trawl sync` as a child process.
 */
#ifndef TRAWL_SERVER_SERVER_H
#define TRAWL_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/proxy.h"

/*
 * The memory one search may hold for results it has not handed out yet (search_opts.mem_limit),
 * in MiB, unless --query-memory says otherwise: with the default search slots of a 2-core
 * machine (12), at most 1.5 GiB in all.
 */
#define SERVER_QUERY_MEM_MIB 128

/* Connection defaults (docs/operations.md, "Connections"). */
#define SERVER_HEADER_TIMEOUT_S 10
#define SERVER_MAX_CONNS 1024
#define SERVER_MAX_CONNS_PER_CLIENT 64

/*
 * Rate limits (docs/operations.md, "Rate limits"): a rate field holds SERVER_RATE_DEFAULT
 * unless a flag set it, and 0 turns the limit off. The defaults of team mode; laptop mode
 * (no account) limits only sign-in and token creation unless --rate-search is given.
 */
#define SERVER_RATE_DEFAULT UINT32_MAX
#define SERVER_RATE_SEARCH 50 /* searches per second per user or address, burst 4x */
#define SERVER_RATE_SIGNIN 30 /* sign-in requests per minute per address, burst 30 */
#define SERVER_RATE_TOKENS 30 /* token creations per hour per user and per address, burst 30 */
/* The longest --external-url host (with its port). */
#define SERVER_HOST_MAX 262
/* The most --oidc-allowed-domain values. */
#define SERVER_OIDC_DOMAINS_MAX 64

/*
 * Single sign-on (docs/sso.md): OpenID Connect when issuer is set, an authentication proxy's
 * header when proxy_header is set. Strings are borrowed (flags or trawl.conf); NULL when not
 * given. server_run checks them together (the external URL, accounts, a trusted proxy).
 */
struct server_sso_config {
	const char *issuer;      /* --oidc-issuer */
	const char *client_id;   /* --oidc-client-id */
	const char *secret_file; /* --oidc-client-secret-file: mode 0600, the server's user's */
	const char *scopes;      /* --oidc-scopes; NULL: SSO_SCOPES_DEFAULT */
	const char *user_claim;  /* --oidc-user-claim; NULL: email */
	const char *groups_claim; /* --oidc-groups-claim; NULL: groups */
	const char *admin_group; /* --oidc-admin-group */
	const char *ca_file;     /* --oidc-ca-file: PEM CAs trusted besides the system's */
	const char *allowed_domains[SERVER_OIDC_DOMAINS_MAX]; /* --oidc-allowed-domain */
	size_t n_allowed_domains;
	bool is_password_off;           /* --password-sign-in off */
	const char *proxy_header;        /* --auth-proxy-header: names the user */
	const char *proxy_groups_header; /* --auth-proxy-groups-header: comma-separated groups */
	const char *groups_prefix;       /* --oidc-groups-prefix: before each synced group name */
	int64_t external_token_max_s;    /* --external-token-max-age: auth_config's */
};

/* What a process of a cluster does (docs/operations.md, "Running a cluster"). */
enum server_role {
	SERVER_ROLE_ALL,      /* one process: users, search, sync (the default) */
	SERVER_ROLE_FRONTEND, /* users, authentication, the fan-out to searchers; no index */
	SERVER_ROLE_SEARCHER, /* the signed internal search over its own index; no user route */
	SERVER_ROLE_INDEXER,  /* syncs the repositories its searcher owns; health only */
};

struct server_config {
	const char *data_dir;          /* DATA: DATA/index is the index */
	enum server_role role;         /* --role */
	const char *searchers;         /* --searchers NAME=HOST:PORT,... */
	unsigned searcher_count;       /* --searcher-count (with --searcher-pattern) */
	const char *searcher_pattern;  /* --searcher-pattern HOST%dPATTERN:PORT */
	const char *searchers_file;    /* --searchers-file PATH (a frontend's; read again) */
	const char *searchers_dns;     /* --searchers-dns HOST:PORT (resolved again) */
	const char *self;              /* --self: this searcher's or indexer's name */
	const char *cluster_secret_file; /* --cluster-secret-file */
	struct sockaddr_storage addr;  /* from server_listen_parse */
	socklen_t addr_len;
	unsigned sync_interval_s;      /* the shortest between two syncs of a repository; 0: none */
	unsigned sync_max_interval_s;  /* the longest; 0: STORE_DUE_MAX_DEFAULT */
	unsigned sync_jobs;            /* `trawl sync --jobs`; 0: its default */
	unsigned conn_timeout_s;       /* idle connection timeout */
	unsigned header_timeout_s;     /* a request head's deadline; 0 = SERVER_HEADER_TIMEOUT_S */
	unsigned max_conns;            /* open connections; 0 = SERVER_MAX_CONNS */
	unsigned max_conns_per_client; /* of one client; 0 = SERVER_MAX_CONNS_PER_CLIENT */
	unsigned n_threads;            /* HTTP threads; 0 = two per core (at least 4) */
	unsigned max_searches;         /* concurrent searches before 429; 0 = default */
	size_t query_mem_mib;          /* results one search may hold; 0 = SERVER_QUERY_MEM_MIB */
	const char *self_exe;          /* the trawl binary the scheduler runs ("/proc/self/exe") */
	bool is_loopback;              /* addr is loopback (server_listen_parse) */
	const char *tls_cert;          /* PEM certificate chain file, or NULL: plain HTTP */
	const char *tls_key;           /* its private key (mode 0600 or stricter) */
	/* --external-url's host and port ("code.example.com:443"); "" when not given. */
	char external_host[SERVER_HOST_MAX + 1];
	struct proxy_net proxies[PROXY_MAX_NETS]; /* --trusted-proxy */
	size_t n_proxies;
	uint32_t rate_search;       /* per second per user (4x per address); see above */
	uint32_t rate_signin;       /* per minute per address */
	uint32_t rate_tokens;       /* per hour per user and per address */
	unsigned user_max_searches; /* concurrent searches of one user; 0 = default */
	bool allow_anonymous;       /* team mode: callers without credentials read public repos */
	unsigned audit_retention_days; /* audit events kept in the table; 0: every one */
	unsigned audit_refusal_retention_days; /* refused requests kept; 0: as the others */
	uint64_t audit_max_rows;               /* audit events in the table; 0: no cap */
	struct server_sso_config sso;
};

/*
 * Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (127.0.0.1) into cfg->addr and cfg->is_loopback.
 * HOST is an address, or "localhost" (127.0.0.1). EINVAL for a malformed value. Whether a
 * non-loopback address may be used is decided at start (server_check_exposure).
 */
int server_listen_parse(struct server_config *cfg, const char *listen);

/*
 * Parses --external-url ("https://code.example.com", "https://code.example.com:8443/") into
 * cfg->external_host. Only https (the session cookie is Secure), no user, path, query or
 * fragment. EINVAL with a message.
 */
int server_external_url_parse(struct server_config *cfg, const char *url);

/*
 * SECURITY: whether cfg may listen where it does: loopback always; any other address only with
 * an enabled administrator (has_admin), TLS (--tls-cert and --tls-key) or a trusted proxy, and
 * --external-url (the Host the server answers). EPERM with a message naming every condition
 * that is missing.
 */
int server_check_exposure(const struct server_config *cfg, bool has_admin);

/*
 * Why the server could not listen on cfg->addr, as the error message (error_set): binds a socket
 * there itself to learn the reason (in use: "127.0.0.1:6070 is in use (another trawl serve?):
 * stop it or choose another address with --listen"; not permitted; not this machine's).
 * Returns EIO.
 */
int server_listen_explain(const struct server_config *cfg);

/* Whether the address is loopback (127.0.0.0/8 or ::1). */
bool server_addr_is_loopback(const struct sockaddr *sa);

/*
 * Starts the server and serves until SIGINT or SIGTERM. Prints nothing to stdout but the URL
 * line; logs are JSON lines on stderr. EIO (cannot listen), ENOMEM.
 */
int server_run(const struct server_config *cfg);

#endif
