/*
 * What the parts of a server's cluster role share (docs/internals/cluster.md): cluster.c the
 * roles' start, the searcher set and signing; cluster_searcher.c a searcher's routes;
 * cluster_fanout.c a frontend's fan-out and merge; cluster_proxy.c the routes of one
 * repository a frontend sends to its owner. Private to those four.
 */
#ifndef TRAWL_SERVER_CLUSTER_INT_H
#define TRAWL_SERVER_CLUSTER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "cluster/cluster.h"
#include "server/server_int.h"

/* The internal search's path. */
#define INTERNAL_PATH "/internal/v1/search"
/* A searcher's answer may take this long past the query's timeout (its output, the network). */
#define GRACE_MS 1000
#define CONNECT_MS 1000

/*
 * A searcher set, shared by the queries that took it: a frontend's --searchers-file may swap in
 * a new one while they run (set_reload), and the last of them frees the old one.
 */
struct set_ref {
	atomic_uint refs;
	struct cluster_set set;
};

struct cluster_srv {
	struct cluster_key key;
	struct cluster_replay *replay;
	pthread_mutex_t set_lock;   /* guards set (the pointer) */
	struct set_ref *set;        /* take with set_get, give back with cluster_srv_put_set */
	/* A frontend's --searchers-file: its identity when last read, and when last looked at. */
	pthread_mutex_t file_lock;
	const char *set_file;
	struct stat set_file_st;
	int64_t set_checked_s;
	/*
	 * --searchers-dns: resolved again by a thread of its own (dns_main) every
	 * SEARCHERS_FILE_CHECK_S and on SIGHUP, so that no query waits on DNS.
	 */
	struct cluster_dns dns;
	bool has_dns, has_dns_thread;
	pthread_t dns_thread;
	pthread_mutex_t dns_lock; /* guards the three below */
	pthread_cond_t dns_cond;
	bool is_dns_wanted, is_dns_stopping;
	long self; /* the searcher's own index in set, or -1 */
	/*
	 * Test hook: a searcher logs the repositories each request names (TRAWL_TEST_CLUSTER_LOG
	 * set in its environment), so the cluster test proves what it was sent.
	 */
	bool is_logging_repos;
};

int64_t cluster_now_s(void);
/* The set a query or proxied route uses (one reference): give it back with cluster_srv_put_set. */
struct set_ref *cluster_srv_take_set(struct cluster_srv *c);
void cluster_srv_put_set(struct set_ref *r);
/*
 * SECURITY: a searcher's check of an internal request: signed with the cluster's key, for this
 * searcher (its --self), this method and path (with its query) and body. 0 or EPERM.
 */
int cluster_verify_signed(struct req *rq, const char *path, const void *body, size_t len);
/* A frontend's signature of a request for searcher node. */
void cluster_sign_for(char sig[CLUSTER_SIG_MAX], const struct cluster_key *key,
		      const struct cluster_node *node, const char *method, const char *path,
		      const void *body, size_t len);

#endif
