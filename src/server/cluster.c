/*
 * The cluster's roles in the server (docs/internals/cluster.md): their start and stop, the
 * searcher set a frontend or an indexer works with (from --searchers, --searcher-count,
 * --searchers-file or --searchers-dns, swapped while queries run) and the signing of internal
 * requests. A searcher's routes are cluster_searcher.c's, a frontend's fan-out
 * cluster_fanout.c's, the routes of one repository it sends to their owner cluster_proxy.c's.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <jansson.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "server/cluster_int.h"
#include "server/server_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

/* The replay table: nonces of two windows at a few thousand requests a second. */
#define REPLAY_CAPACITY ((size_t)1 << 19)
/* A frontend's --searchers-file: at most this big, looked at again at most this often. */
#define SEARCHERS_FILE_MAX ((size_t)1 << 20)
#define SEARCHERS_FILE_CHECK_S 10



int64_t cluster_now_s(void)
{
	return (int64_t)time(NULL);
}

/*
 * SECURITY: a searcher's check of an internal request: signed with the cluster's key, for this
 * searcher (its --self), this method and path (with its query) and body. 0 or EPERM.
 */
int cluster_verify_signed(struct req *rq, const char *path, const void *body, size_t len)
{
	struct cluster_srv *c = rq->s->cluster;
	struct cluster_req q = { rq->s->cfg->self, rq->method, path };

	return cluster_verify(c->replay, &c->key, req_header_value(rq, CLUSTER_SIGN_HEADER), &q,
			      body, len, cluster_now_s());
}

/* A frontend's signature of a request for searcher node. */
void cluster_sign_for(char sig[CLUSTER_SIG_MAX], const struct cluster_key *key,
		     const struct cluster_node *node, const char *method, const char *path,
		     const void *body, size_t len)
{
	struct cluster_req q = { node->name, method, path };

	cluster_sign(sig, key, &q, body, len, cluster_now_s());
}

static struct set_ref *set_get(struct cluster_srv *c)
{
	struct set_ref *r;

	pthread_mutex_lock(&c->set_lock);
	r = c->set;
	atomic_fetch_add(&r->refs, 1);
	pthread_mutex_unlock(&c->set_lock);
	return r;
}

void cluster_srv_put_set(struct set_ref *r)
{
	if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
		cluster_set_dispose(&r->set);
		free(r);
	}
}

/* Makes *out a shared set holding set (taken over), one reference. ENOMEM. */
static int set_ref_new(struct set_ref **out, struct cluster_set *set)
{
	struct set_ref *r = calloc(1, sizeof(*r));

	if (!r) {
		cluster_set_dispose(set);
		return error_nomem(NULL);
	}
	atomic_init(&r->refs, 1);
	r->set = *set;
	*out = r;
	return 0;
}

/*
 * Parses a --searchers-file: the items of --searchers, separated by commas, spaces or lines,
 * with `#` comments to the end of a line. EIO (named), EINVAL, ENOMEM.
 */
static int set_read_file(struct cluster_set *out, struct stat *st, const char *path)
{
	struct buf list;
	char *text = NULL;
	size_t len = 0;
	bool is_comment = false;
	int fd, err;

	if ((err = file_open_regular(&fd, st, path, false)) < 0) {
		error_prefix("--searchers-file");
		return err;
	}
	err = file_read_fd(&text, &len, fd, path, SEARCHERS_FILE_MAX);
	close(fd);
	if (err < 0)
		return err;
	buf_init(&list, SEARCHERS_FILE_MAX);
	for (size_t i = 0; i < len && err == 0; i++) {
		char ch = text[i];

		if (ch == '#')
			is_comment = true;
		if (ch == '\n')
			is_comment = false;
		if (is_comment)
			continue;
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == ',') {
			if (list.len && list.ptr[list.len - 1] != ',')
				err = buf_putc(&list, ',');
		} else {
			err = buf_putc(&list, ch);
		}
	}
	while (err == 0 && list.len && list.ptr[list.len - 1] == ',')
		list.len--;
	if (err == 0 && list.len == 0) {
		error_set("--searchers-file %s names no searcher", path);
		err = TRAWL_EINVAL;
	} else if (err == 0 && (err = buf_putc(&list, 0)) == 0 &&
		   (err = cluster_set_parse(out, list.ptr)) < 0) {
		error_prefix("--searchers-file %s", path);
	}
	buf_dispose(&list);
	free(text);
	return err;
}

/*
 * Makes set (taken over) the one the next query takes, logging msg with its size; the queries
 * running keep theirs (the last frees it). ENOMEM (set disposed).
 */
static int set_swap(struct cluster_srv *c, struct cluster_set *set, const char *msg)
{
	struct set_ref *r = NULL, *old;
	struct logline l;
	int err;

	if ((err = set_ref_new(&r, set)) < 0 || !r) /* !r: for the analyzer, never */
		return err < 0 ? err : TRAWL_ENOMEM;
	pthread_mutex_lock(&c->set_lock);
	old = c->set;
	c->set = r;
	pthread_mutex_unlock(&c->set_lock);
	cluster_srv_put_set(old);
	log_begin(&l, "info", msg);
	log_num(&l, "searchers", (double)r->set.n);
	log_end(&l);
	return 0;
}

/*
 * A frontend's --searchers-file, read again if it changed since it was last read (another
 * inode, size or modification time: a Kubernetes ConfigMap's update swaps a symbolic link),
 * at most every SEARCHERS_FILE_CHECK_S unless is_forced (SIGHUP). A file that no longer parses
 * leaves the set as it was, with an error in the log; the next query uses the new set.
 */
static void set_check_file(struct cluster_srv *c, bool is_forced)
{
	struct cluster_set set = { 0 };
	struct stat st;
	int64_t now = cluster_now_s();

	if (!c->set_file)
		return;
	if (is_forced)
		pthread_mutex_lock(&c->file_lock);
	else if (pthread_mutex_trylock(&c->file_lock) != 0)
		return; /* someone is looking already */
	if (!is_forced && now - c->set_checked_s < SEARCHERS_FILE_CHECK_S)
		goto out;
	c->set_checked_s = now;
	if (stat(c->set_file, &st) == 0 && st.st_ino == c->set_file_st.st_ino &&
	    st.st_size == c->set_file_st.st_size &&
	    st.st_mtim.tv_sec == c->set_file_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == c->set_file_st.st_mtim.tv_nsec)
		goto out;
	if (set_read_file(&set, &st, c->set_file) < 0 || set_swap(c, &set, "--searchers-file: read again") < 0) {
		log_msg("error", "--searchers-file: not read again; the searchers stay as they were",
			"detail", error_last());
		goto out;
	}
	c->set_file_st = st;
out:
	pthread_mutex_unlock(&c->file_lock);
}

/*
 * --searchers-dns resolved again (dns_main's thread): a changed set is swapped in; one refused
 * leaves the set as it was, with an error in the log.
 */
static void set_check_dns(struct cluster_srv *c)
{
	struct cluster_set set;
	bool is_changed;

	if (cluster_dns_refresh(&c->dns, cluster_now_s(), &is_changed) < 0) {
		log_msg("error", "--searchers-dns: not resolved again; the searchers stay as they were",
			"detail", error_last());
		return;
	}
	if (is_changed && (cluster_set_copy(&set, &c->dns.set) < 0 ||
			   set_swap(c, &set, "--searchers-dns: the searchers changed") < 0))
		log_msg("error", "--searchers-dns: the searchers stay as they were", "detail",
			error_last());
}

/* The resolver's thread: every SEARCHERS_FILE_CHECK_S, and at once when asked (SIGHUP). */
static void *dns_main(void *arg)
{
	struct cluster_srv *c = arg;
	struct timespec until;

	pthread_mutex_lock(&c->dns_lock);
	while (!c->is_dns_stopping) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += SEARCHERS_FILE_CHECK_S;
		while (!c->is_dns_wanted && !c->is_dns_stopping &&
		       pthread_cond_timedwait(&c->dns_cond, &c->dns_lock, &until) == 0)
			;
		if (c->is_dns_stopping)
			break;
		c->is_dns_wanted = false;
		pthread_mutex_unlock(&c->dns_lock);
		set_check_dns(c);
		pthread_mutex_lock(&c->dns_lock);
	}
	pthread_mutex_unlock(&c->dns_lock);
	return NULL;
}

/* Starts dns_main, its condition on the monotonic clock. EIO. */
static int dns_thread_start(struct cluster_srv *c)
{
	pthread_condattr_t ca;
	int rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->dns_cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&c->dns_thread, NULL, dns_main, c)) != 0) {
		error_set("--searchers-dns: cannot start its thread: %s", strerror(rc));
		return TRAWL_EIO;
	}
	c->has_dns_thread = true;
	return 0;
}

static void dns_thread_stop(struct cluster_srv *c)
{
	if (!c->has_dns_thread)
		return;
	pthread_mutex_lock(&c->dns_lock);
	c->is_dns_stopping = true;
	pthread_cond_signal(&c->dns_cond);
	pthread_mutex_unlock(&c->dns_lock);
	pthread_join(c->dns_thread, NULL);
	pthread_cond_destroy(&c->dns_cond);
	c->has_dns_thread = false;
}

/* The set a query or proxied route uses: the file's newest (looked at), one reference. */
struct set_ref *cluster_srv_take_set(struct cluster_srv *c)
{
	set_check_file(c, false);
	return set_get(c);
}

void server_cluster_reload(struct srv *s)
{
	struct cluster_srv *c = s->cluster;

	if (!c)
		return;
	set_check_file(c, true);
	if (c->has_dns_thread) {
		pthread_mutex_lock(&c->dns_lock);
		c->is_dns_wanted = true;
		pthread_cond_signal(&c->dns_cond);
		pthread_mutex_unlock(&c->dns_lock);
	}
}

/*
 * The first resolution of --searchers-dns, into *set: refused, the server does not start (a
 * Kubernetes pod is started again), since it has no set to keep.
 */
static int set_first_dns(struct cluster_srv *c, struct cluster_set *set, const char *spec)
{
	bool is_changed;
	int err;

	if ((err = cluster_dns_init(&c->dns, spec, NULL)) < 0)
		return err;
	c->has_dns = true;
	if ((err = cluster_dns_refresh(&c->dns, cluster_now_s(), &is_changed)) < 0)
		return err;
	return cluster_set_copy(set, &c->dns.set);
}

int server_cluster_start(struct srv *s)
{
	const struct server_config *cfg = s->cfg;
	struct cluster_set set = { 0 };
	struct cluster_srv *c;
	int err = 0;

	if (cfg->role == SERVER_ROLE_ALL)
		return 0;
	if (!(c = calloc(1, sizeof(*c))))
		return error_nomem(NULL);
	s->cluster = c;
	pthread_mutex_init(&c->set_lock, NULL);
	pthread_mutex_init(&c->file_lock, NULL);
	pthread_mutex_init(&c->dns_lock, NULL);
	c->self = -1;
	c->is_logging_repos = getenv("TRAWL_TEST_CLUSTER_LOG") != NULL;
	/* An indexer sends and answers nothing internal: no secret. */
	if (cfg->role != SERVER_ROLE_INDEXER && !cfg->cluster_secret_file) {
		error_set("--role=%s needs --cluster-secret-file", server_role_name(cfg->role));
		return TRAWL_EINVAL;
	}
	if (cfg->role != SERVER_ROLE_INDEXER &&
	    ((err = cluster_key_load(&c->key, cfg->cluster_secret_file)) < 0 ||
	     (err = cluster_replay_new(&c->replay, REPLAY_CAPACITY)) < 0))
		return err;
	if (cfg->searchers_file && cfg->role != SERVER_ROLE_FRONTEND) {
		error_set("--searchers-file is a frontend's; a %s takes --searchers",
			  server_role_name(cfg->role));
		return TRAWL_EINVAL;
	}
	if (cfg->searchers_dns && cfg->role == SERVER_ROLE_SEARCHER) {
		error_set("--searchers-dns is a frontend's or an indexer's; a searcher needs no list");
		return TRAWL_EINVAL;
	}
	c->set_file = cfg->searchers_file;
	/*
	 * An indexer's scheduler resolves --searchers-dns before each sync, checking its --self
	 * then (sched.c): at its start its own pod may not be in the Service's DNS yet.
	 */
	if (cfg->searchers_dns && cfg->role == SERVER_ROLE_INDEXER)
		err = cluster_dns_init(&c->dns, cfg->searchers_dns, NULL);
	else if (cfg->searchers_dns)
		err = set_first_dns(c, &set, cfg->searchers_dns);
	else if (cfg->searcher_count)
		err = cluster_set_pattern(&set, cfg->searcher_count, cfg->searcher_pattern);
	else if (cfg->searchers)
		err = cluster_set_parse(&set, cfg->searchers);
	else if (cfg->searchers_file)
		err = set_read_file(&set, &c->set_file_st, cfg->searchers_file);
	if (err < 0 || (err = set_ref_new(&c->set, &set)) < 0)
		return err;
	c->set_checked_s = cluster_now_s();
	if ((cfg->role == SERVER_ROLE_FRONTEND || cfg->role == SERVER_ROLE_INDEXER) &&
	    c->set->set.n == 0 && !cfg->searchers_dns) {
		error_set("--role=%s needs --searchers (or --searcher-count and "
			  "--searcher-pattern, or --searchers-dns)",
			  server_role_name(cfg->role));
		return TRAWL_EINVAL;
	}
	if (cfg->role == SERVER_ROLE_INDEXER && !cfg->self) {
		error_set("--role=indexer needs --self: the searcher whose repositories it syncs");
		return TRAWL_EINVAL;
	}
	/* A searcher accepts only requests signed for its own name (cluster.h, cluster_req). */
	if (cfg->role == SERVER_ROLE_SEARCHER &&
	    (!cfg->self || !*cfg->self || strlen(cfg->self) > CLUSTER_NAME_MAX ||
	     strpbrk(cfg->self, "\r\n"))) {
		error_set("--role=searcher needs --self NAME: its name in the frontends' searcher "
			  "list (requests signed for another name are refused)");
		return TRAWL_EINVAL;
	}
	/* A searcher needs no list: its --self (a manifest's) is checked only against one. */
	if (cfg->self && c->set->set.n && (c->self = cluster_set_find(&c->set->set, cfg->self)) < 0) {
		error_set("--self: \"%s\" is not a name of %s", cfg->self,
			  c->has_dns ? "the searchers --searchers-dns gives" : "--searchers");
		return TRAWL_EINVAL;
	}
	if (cfg->role == SERVER_ROLE_FRONTEND && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		error_set("cannot start libcurl");
		return TRAWL_EIO;
	}
	/* An indexer's scheduler resolves before each sync itself (sched.c). */
	if (c->has_dns && cfg->role == SERVER_ROLE_FRONTEND)
		return dns_thread_start(c);
	return 0;
}

void server_cluster_stop(struct srv *s)
{
	struct cluster_srv *c = s->cluster;

	if (!c)
		return;
	dns_thread_stop(c);
	cluster_dns_dispose(&c->dns);
	pthread_mutex_destroy(&c->dns_lock);
	cluster_replay_free(c->replay);
	cluster_srv_put_set(c->set);
	pthread_mutex_destroy(&c->set_lock);
	pthread_mutex_destroy(&c->file_lock);
	sodium_memzero(&c->key, sizeof(c->key));
	free(c);
	s->cluster = NULL;
}

const char *server_role_name(enum server_role r)
{
	switch (r) {
	case SERVER_ROLE_FRONTEND: return "frontend";
	case SERVER_ROLE_SEARCHER: return "searcher";
	case SERVER_ROLE_INDEXER: return "indexer";
	case SERVER_ROLE_ALL: break;
	}
	return "all";
}
