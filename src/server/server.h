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

struct server_config {
	const char *data_dir;          /* DATA: DATA/index is the index */
	struct sockaddr_storage addr;  /* from server_listen_parse */
	socklen_t addr_len;
	unsigned sync_interval_s;      /* 0: no background sync */
	unsigned conn_timeout_s;       /* idle connection timeout */
	unsigned header_timeout_s;     /* a request head's deadline; 0 = SERVER_HEADER_TIMEOUT_S */
	unsigned max_conns;            /* open connections; 0 = SERVER_MAX_CONNS */
	unsigned max_conns_per_client; /* of one client; 0 = SERVER_MAX_CONNS_PER_CLIENT */
	unsigned n_threads;            /* HTTP threads; 0 = two per core (at least 4) */
	unsigned max_searches;         /* concurrent searches before 429; 0 = default */
	size_t query_mem_mib;          /* results one search may hold; 0 = SERVER_QUERY_MEM_MIB */
	const char *self_exe;          /* the trawl binary the scheduler runs ("/proc/self/exe") */
	bool allow_anonymous;          /* team mode: callers without credentials read public repos */
};

/*
 * Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (127.0.0.1) into cfg->addr. Until accounts exist,
 * only loopback addresses (127.0.0.0/8, ::1, "localhost") are accepted: EPERM with a message
 * for any other, EINVAL for a malformed value.
 */
int server_listen_parse(struct server_config *cfg, const char *listen);

/* Whether the address is loopback (127.0.0.0/8 or ::1). */
bool server_addr_is_loopback(const struct sockaddr *sa);

/*
 * Starts the server and serves until SIGINT or SIGTERM. Prints nothing to stdout but the URL
 * line; logs are JSON lines on stderr. EIO (cannot listen), ENOMEM.
 */
int server_run(const struct server_config *cfg);

#endif
