/*
 * The cluster's roles in the server (docs/internals/cluster.md): a searcher's data routes,
 * POST /internal/v1/search and /internal/v1/definition and the proxied routes of one
 * repository, which answer only signed requests; and a frontend's fan-out,
 * server_search_run, the one seam every search route goes through: it runs the search here
 * (roles all and searcher) or sends each searcher the caller's readable repositories it owns
 * (rendezvous hashing), in parallel, and merges their answers as one process orders them.
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
#include "server/server_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

#define INTERNAL_PATH "/internal/v1/search"
/* The replay table: nonces of two windows at a few thousand requests a second. */
#define REPLAY_CAPACITY ((size_t)1 << 19)
/* A searcher's answer may take this long past the query's timeout (its output, the network). */
#define GRACE_MS 1000
#define CONNECT_MS 1000
/* A frontend's --searchers-file: at most this big, looked at again at most this often. */
#define SEARCHERS_FILE_MAX ((size_t)1 << 20)
#define SEARCHERS_FILE_CHECK_S 10

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
	struct set_ref *set;        /* take with set_get, give back with set_put */
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

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/*
 * SECURITY: a searcher's check of an internal request: signed with the cluster's key, for this
 * searcher (its --self), this method and path (with its query) and body. 0 or EPERM.
 */
static int verify_signed(struct req *rq, const char *path, const void *body, size_t len)
{
	struct cluster_srv *c = rq->s->cluster;
	struct cluster_req q = { rq->s->cfg->self, rq->method, path };

	return cluster_verify(c->replay, &c->key, req_header_value(rq, CLUSTER_SIGN_HEADER), &q,
			      body, len, now_s());
}

/* A frontend's signature of a request for searcher node. */
static void sign_for(char sig[CLUSTER_SIG_MAX], const struct cluster_key *key,
		     const struct cluster_node *node, const char *method, const char *path,
		     const void *body, size_t len)
{
	struct cluster_req q = { node->name, method, path };

	cluster_sign(sig, key, &q, body, len, now_s());
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

static void set_put(struct set_ref *r)
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
	set_put(old);
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
	int64_t now = now_s();

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

	if (cluster_dns_refresh(&c->dns, now_s(), &is_changed) < 0) {
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
static struct set_ref *set_take(struct cluster_srv *c)
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
	if ((err = cluster_dns_refresh(&c->dns, now_s(), &is_changed)) < 0)
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
	c->set_checked_s = now_s();
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
	set_put(c->set);
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

/* ======================================================================================== */
/* ---- the searcher: POST /internal/v1/search ---- */

/*
 * The one check of a signed POST's whole request (its headers were checked before the body was
 * read: cluster_admit_signed): true, or false with a bare 401 answered.
 */
bool cluster_verify_body(struct req *rq)
{
	char path[128];

	snprintf(path, sizeof(path), "/%s", rq->route->pattern);
	/* SECURITY: a bare 401 for every failure: nothing tells a prober what was wrong. */
	if (verify_signed(rq, path, rq->in_body.ptr, rq->in_body.len) == 0)
		return true;
	req_error(rq, 401, "unauthorized", "unauthorized", 0);
	return false;
}

/* The searcher's sink: each result onto the wire. */
struct wire_sink {
	struct search_sink sink; /* first: the request hands it back */
	struct buf *b;
	unsigned context;
	size_t max;
};

static int wire_file(struct search_sink *sk, const struct search_file *f)
{
	struct wire_sink *ws = (struct wire_sink *)sk;

	if (ws->b->len >= ws->max) {
		sk->is_full = true;
		return 1;
	}
	if ((sk->err = cluster_wire_put_file(ws->b, f, ws->context)) < 0)
		return 1;
	return 0;
}

/* The frontend makes the alerts again from the merged stats: none travels. */
static int wire_alert(struct search_sink *sk, enum search_alert a, const char *msg)
{
	(void)sk;
	(void)a;
	(void)msg;
	return 0;
}

/* What the internal search needs on its search thread. */
struct internal_work {
	json_t *body;
	struct query *q;
	struct cluster_share share; /* the readable set */
	unsigned context;
	bool want_ranges;
	bool is_select_raw; /* select:repo|file: the files, unprojected (search_request) */
	bool want_progress; /* a stream's: the counts of the last progress ('P') */
	const char *pin_repo; /* references: the file's repository on its branch (from body) */
	const char *pin_branch;
};

static void internal_work_free(struct internal_work *w)
{
	query_free(w->q);
	cluster_share_dispose(&w->share);
	json_decref(w->body);
	free(w);
}

void cluster_log_share(const struct req *rq, const char *what, const struct search_repos *repos)
{
	struct logline l;
	struct buf b;

	if (!rq->s->cluster->is_logging_repos)
		return;
	buf_init(&b, 1 << 16);
	for (size_t i = 0; i < repos->n_names; i++)
		if ((i && buf_putc(&b, ',') < 0) || buf_puts(&b, repos->names[i]) < 0)
			break;
	log_begin(&l, "info", what);
	log_cstr(&l, "req", rq->id);
	log_cstr(&l, "all", repos->is_all ? "true" : "false");
	log_str(&l, "repos", b.ptr ? b.ptr : "", b.len);
	log_end(&l);
	buf_dispose(&b);
}

/* The last progress of a searcher's search: what it found before ranking and count:. */
static void note_progress(const struct search_progress *p, void *arg)
{
	struct search_progress *last = arg;

	*last = *p;
}

/* The 'P' record: last's counts, and the shards of the repositories w was sent. */
static int put_progress(struct buf *b, const struct req *rq, const struct internal_work *w,
			const struct search_progress *last)
{
	const struct index *ix = rq->snap->ix;
	struct cluster_progress p = { .lines = last->matching_lines, .files = last->files };

	for (size_t i = 0; i < index_n_shards(ix); i++)
		p.shards += search_repos_has(&w->share.repos, index_shard_repo(ix, i));
	return cluster_wire_put_progress(b, &p);
}

static int run_internal(struct req *rq)
{
	struct internal_work *w = rq->work;
	struct search_progress last = { 0 };
	struct search_request srq = {
		.readable = &w->share.repos,
		.opts = { .query = w->q, .want_lines = true, .want_ranges = w->want_ranges,
			  .is_resident = true, .mem_limit = rq->s->query_mem, .n_threads = 1,
			  .cancel = &rq->s->is_stopping, .budget_ms = rq->inline_budget_ms,
			  .pin_repo = w->pin_repo, .pin_branch = w->pin_branch },
		.is_select_raw = w->is_select_raw,
	};
	struct wire_sink ws = { .sink = { .file = wire_file, .alert = wire_alert },
				.b = &rq->body, .context = w->context, .max = rq->s->query_mem };
	struct search_stats st;
	int err;

	buf_reset(&rq->body);
	if (w->want_progress) {
		srq.opts.progress = note_progress;
		srq.opts.progress_arg = &last;
	}
	if ((err = cluster_wire_begin(&rq->body)) < 0)
		goto out;
	err = search_request_run(&st, rq->snap->ix, &srq, &ws.sink);
	if (err == TRAWL_EAGAIN && rq->inline_budget_ms > 0) {
		buf_reset(&rq->body);
		return err; /* again on a search thread */
	}
	metrics_query(&rq->s->metrics, st.elapsed_ms / 1e3, err != 0);
	/* The searcher's own output cap: as the memory limit, a limit of this query. */
	st.is_mem_limit |= ws.sink.is_full;
	if (err < 0) {
		size_t pos = error_pos();

		buf_reset(&rq->body);
		if ((err = cluster_wire_begin(&rq->body)) == 0)
			err = cluster_wire_put_error(&rq->body, err, pos, error_last());
	} else if (!w->want_progress || (err = put_progress(&rq->body, rq, w, &last)) == 0) {
		err = cluster_wire_put_stats(&rq->body, &st);
	}
out:
	if (err < 0) {
		buf_reset(&rq->body);
		req_fail(rq, handlers_internal(err));
	} else {
		rq->status = 200;
		rq->ctype = "application/octet-stream";
	}
	internal_work_free(w);
	rq->work = NULL;
	return 0;
}

/*
 * "all": the caller reads every repository: those of this searcher's index that the frontend's
 * searcher set (the body's "set", its names in order, and "self") assigns to it, so that a
 * repository a changed set moved away is not searched twice (the old owner's copy stays until
 * its indexer removes it).
 */
static int body_all(struct cluster_share *w, const json_t *body, const struct snapshot *snap)
{
	json_t *names = json_object_get(body, "set");
	const char *self = json_string_value(json_object_get(body, "self"));
	size_t n = json_array_size(names);
	struct cluster_set set = { 0 };
	long k;

	if (!self || n == 0 || n > CLUSTER_NODES_MAX) {
		error_set("all needs set and self");
		return TRAWL_EINVAL;
	}
	if (!(set.v = calloc(n, sizeof(*set.v))) ||
	    !(w->names = calloc(snap->n_repos ? snap->n_repos : 1, sizeof(*w->names)))) {
		free(set.v);
		return error_nomem(NULL);
	}
	for (size_t i = 0; i < n; i++, set.n++) {
		const char *s = json_string_value(json_array_get(names, i));

		if (!s || strlen(s) > CLUSTER_NAME_MAX) {
			free(set.v);
			error_set("set must hold searcher names");
			return TRAWL_EINVAL;
		}
		memcpy(set.v[i].name, s, strlen(s) + 1);
	}
	if ((k = cluster_set_find(&set, self)) < 0) {
		free(set.v);
		error_set("self is not in set");
		return TRAWL_EINVAL;
	}
	/* The snapshot's repositories are sorted by name: so is the list. */
	for (size_t i = 0; i < snap->n_repos; i++)
		if (cluster_owner(&set, snap->repos[i].name) == (size_t)k)
			w->names[w->repos.n_names++] = snap->repos[i].name;
	w->repos.names = w->names;
	free(set.v);
	return 0;
}

int cluster_share_parse(struct cluster_share *w, const json_t *body, const struct snapshot *snap)
{
	json_t *all = json_object_get(body, "all"), *names = json_object_get(body, "readable");
	size_t n = names ? json_array_size(names) : 0;

	*w = (struct cluster_share){ 0 };
	if (all && json_is_true(all))
		return body_all(w, body, snap);
	if (n && !(w->names = calloc(n, sizeof(*w->names))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(names, i));

		/* SECURITY: sorted and unique, as search_repos requires (its binary search). */
		if (!s || (i && strcmp(w->names[i - 1], s) >= 0)) {
			error_set("readable must hold repository names, sorted, each once");
			return TRAWL_EINVAL;
		}
		w->names[i] = s;
	}
	w->repos.names = w->names;
	w->repos.n_names = n;
	return 0;
}

void cluster_share_dispose(struct cluster_share *w)
{
	free(w->names);
	w->names = NULL;
}

/* The query and the options the frontend computed. */
static int body_query(struct internal_work *w)
{
	const char *q = json_string_value(json_object_get(w->body, "q"));
	json_int_t context = json_integer_value(json_object_get(w->body, "context"));
	json_int_t type = json_integer_value(json_object_get(w->body, "type"));
	json_int_t count = json_integer_value(json_object_get(w->body, "count"));
	json_t *ranges = json_object_get(w->body, "ranges");
	int err;

	w->pin_repo = req_body_str(w->body, "pin_repo", NULL);
	w->pin_branch = req_body_str(w->body, "pin_branch", NULL);
	if (!w->pin_repo != !w->pin_branch) {
		error_set("pin_repo and pin_branch go together");
		return TRAWL_EINVAL;
	}
	if (context < 0 || context > 10 || type < QT_FILE || type > QT_SYMBOL || count < 0 ||
	    count > QUERY_MAX_COUNT) {
		error_set("context, type or count is out of range");
		return TRAWL_EINVAL;
	}
	if ((err = query_parse(&w->q, q, strlen(q))) < 0)
		return err;
	w->context = (unsigned)context;
	w->want_ranges = !ranges || json_is_true(ranges);
	w->is_select_raw = json_is_true(json_object_get(w->body, "select_raw"));
	w->want_progress = json_is_true(json_object_get(w->body, "progress"));
	/* The route's own settings (the symbols route's implied type and count=). */
	w->q->type = (enum qtype)type;
	w->q->count = (uint64_t)count;
	return 0;
}

static int h_internal_search(struct req *rq)
{
	static const struct req_field fields[] = {
		{ "q", REQ_STRING, true },      { "all", REQ_BOOL, false },
		{ "readable", REQ_ARRAY, false }, { "context", REQ_INT, true },
		{ "type", REQ_INT, true },      { "count", REQ_INT, true },
		{ "ranges", REQ_BOOL, false },  { "set", REQ_ARRAY, false },
		{ "self", REQ_STRING, false },  { "pin_repo", REQ_STRING, false },
		{ "pin_branch", REQ_STRING, false }, { "select_raw", REQ_BOOL, false },
		{ "progress", REQ_BOOL, false },
	};
	struct internal_work *w;
	int err;

	if (!cluster_verify_body(rq))
		return 0;
	if (!(w = calloc(1, sizeof(*w))))
		return error_nomem(NULL);
	if ((err = req_json_body(&w->body, rq, fields, sizeof(fields) / sizeof(fields[0]))) < 0 ||
	    (err = cluster_share_parse(&w->share, w->body, rq->snap)) < 0 ||
	    (err = body_query(w)) < 0) {
		internal_work_free(w);
		return err;
	}
	cluster_log_share(rq, "internal search", &w->share.repos);
	rq->work = w;
	return req_try_inline(rq, run_internal);
}

/*
 * POST /internal/v1/definition: the definitions of the identifier (the body's "id") in this
 * searcher's share of the caller's readable set (handlers_nav.c, handlers_defs_internal).
 */
static int h_internal_definition(struct req *rq)
{
	static const struct req_field fields[] = {
		{ "id", REQ_STRING, true },       { "repo", REQ_STRING, true },
		{ "path", REQ_STRING, true },     { "lang", REQ_INT, true },
		{ "rev", REQ_STRING, true },      { "all", REQ_BOOL, false },
		{ "readable", REQ_ARRAY, false }, { "set", REQ_ARRAY, false },
		{ "self", REQ_STRING, false },
	};
	struct cluster_share share = { 0 };
	json_t *body = NULL;
	int err;

	if (!cluster_verify_body(rq))
		return 0;
	if ((err = req_json_body(&body, rq, fields, sizeof(fields) / sizeof(fields[0]))) == 0 &&
	    (err = cluster_share_parse(&share, body, rq->snap)) == 0) {
		cluster_log_share(rq, "internal definition", &share.repos);
		err = handlers_defs_internal(rq, body, &share.repos);
	}
	cluster_share_dispose(&share);
	json_decref(body);
	return err;
}

/* /readyz: ready once the index is open (a searcher, all) or always (a frontend, an indexer). */
int handlers_readyz(struct req *rq)
{
	struct snapshot *snap = NULL;
	bool is_frontend = rq->s->cfg->role == SERVER_ROLE_FRONTEND ||
			   rq->s->cfg->role == SERVER_ROLE_INDEXER;

	if (!is_frontend && !(snap = snapstore_get(rq->s->store)))
		return req_error(rq, 503, "unavailable", "the index is not open yet", 0);
	snapshot_unref(snap);
	if (buf_puts(&rq->body, "{\"status\":\"ready\"}") < 0)
		return handlers_internal(TRAWL_ENOMEM);
	rq->status = 200;
	return 0;
}

static int h_healthz_bare(struct req *rq)
{
	if (buf_puts(&rq->body, "{\"status\":\"ok\"}") < 0)
		return handlers_internal(TRAWL_ENOMEM);
	rq->status = 200;
	return 0;
}

/*
 * A searcher's routes: health, readiness and the internal search; everything else is a 404
 * (no user route, no UI). The internal route is open to the dispatcher: its handler accepts
 * only a valid signature.
 */
#define OPEN_ROW                                                                            \
	.methods = ROUTE_GET | ROUTE_HEAD, .auth = ROUTE_AUTH_NONE, .perm = ROUTE_PERM_NONE,  \
	.flags = ROUTE_API
/* The rows of both a searcher and an indexer: health, readiness, a 404 for the rest. */
#define HEALTH_ROWS                                                                         \
	{ "healthz", OPEN_ROW, .handler = h_healthz_bare, .name = "healthz" },              \
	{ "readyz", OPEN_ROW, .handler = handlers_readyz, .name = "readyz" },               \
	{ "*", OPEN_ROW, .handler = NULL, .name = "not_found" }

static const char *const p_file[] = { "rev", "path", NULL };
static const char *const p_rev[] = { "rev", NULL };
static const char *const p_position[] = { "rev", "path", "line", "col", NULL };
/* A frontend's proxied repository routes (cluster_proxy): signed, checked in admit. */
#define REPO_ROW(path, p, h, f, n)                                                          \
	{ "internal/api/v1/repos/{name}/" path, .methods = ROUTE_GET | ROUTE_HEAD,          \
	  .auth = ROUTE_AUTH_NONE, .perm = ROUTE_PERM_READ, .params = (p),                    \
	  .flags = ROUTE_API | ROUTE_INDEX | (f), .handler = (h), .name = "internal_" n }

const struct route cluster_searcher_routes[] = {
	{ "internal/v1/search", .methods = ROUTE_POST, .auth = ROUTE_AUTH_NONE,
	  .perm = ROUTE_PERM_NONE, .max_body = (size_t)64 << 20,
	  .flags = ROUTE_API | ROUTE_INDEX | ROUTE_SEARCH, .handler = h_internal_search,
	  .name = "internal_search" },
	{ "internal/v1/definition", .methods = ROUTE_POST, .auth = ROUTE_AUTH_NONE,
	  .perm = ROUTE_PERM_NONE, .max_body = (size_t)64 << 20, .flags = ROUTE_API | ROUTE_INDEX,
	  .handler = h_internal_definition, .name = "internal_definition" },
	REPO_ROW("identifier", p_position, handlers_identifier, 0, "identifier"),
	REPO_ROW("tree", p_file, handlers_tree, 0, "tree"),
	REPO_ROW("file", p_file, handlers_file, 0, "file"),
	REPO_ROW("raw", p_file, handlers_raw, 0, "raw"),
	REPO_ROW("readme", p_file, handlers_readme, ROUTE_SEARCH, "readme"),
	REPO_ROW("paths", p_rev, handlers_paths, 0, "paths"),
	REPO_ROW("outline", p_file, handlers_outline, 0, "outline"),
	HEALTH_ROWS,
};
const size_t n_cluster_searcher_routes =
	sizeof(cluster_searcher_routes) / sizeof(cluster_searcher_routes[0]);

/* An indexer's: health and readiness only (it syncs; users go to the frontends). */
const struct route cluster_indexer_routes[] = { HEALTH_ROWS };
const size_t n_cluster_indexer_routes =
	sizeof(cluster_indexer_routes) / sizeof(cluster_indexer_routes[0]);

/* ======================================================================================== */
/* ---- the frontend: fan-out and merge ---- */

struct fanout_ctx {
	struct srv *s;
	const char *qtext;
	unsigned context;
};

/* One searcher's request and answer. */
struct call {
	struct cluster_node *node;
	const char *path;    /* the internal route's, "/internal/v1/..." */
	bool is_raw;         /* its answer is kept as it came (not the search's wire format) */
	struct buf body;     /* the request's JSON */
	struct buf answer;   /* its answer */
	size_t n_repos;      /* readable repositories it was sent */
	CURL *h;
	struct curl_slist *headers;
	char url[CLUSTER_HOST_MAX + 64];
	bool is_ok;          /* answered 200 and decoded */
	bool is_done;        /* the transfer ended (else: the timeout or a cancel stopped it) */
	long status;         /* its HTTP status */
	CURLcode result;
	struct cluster_answer a;
};

static size_t on_answer(char *data, size_t size, size_t n, void *arg)
{
	struct call *c = arg;

	return buf_put(&c->answer, data, size * n) < 0 ? 0 : size * n;
}

/*
 * The end of searcher k's request body: k's share of repos (cluster_share_parse reads it), and
 * the object's '}'.
 */
static int call_share(struct call *c, const struct search_repos *repos,
		      const struct cluster_set *set, size_t k)
{
	bool is_first = true;
	int err;

	if (repos->is_all) {
		/* The searcher picks what it owns under this set (cluster.c, body_all). */
		if ((err = buf_puts(&c->body, "\"all\":true,\"self\":")) < 0 ||
		    (err = json_put_string(&c->body, set->v[k].name, strlen(set->v[k].name),
					   NULL)) < 0 ||
		    (err = buf_puts(&c->body, ",\"set\":[")) < 0)
			return err;
		for (size_t i = 0; i < set->n; i++)
			if ((i && (err = buf_putc(&c->body, ',')) < 0) ||
			    (err = json_put_string(&c->body, set->v[i].name, strlen(set->v[i].name),
						   NULL)) < 0)
				return err;
		return buf_puts(&c->body, "]}");
	}
	if ((err = buf_puts(&c->body, "\"readable\":[")) < 0)
		return err;
	/* SECURITY: k's share only: a searcher never learns of another's repositories. */
	for (size_t i = 0; i < repos->n_names; i++) {
		if (cluster_owner(set, repos->names[i]) != k)
			continue;
		if ((!is_first && (err = buf_putc(&c->body, ',')) < 0) ||
		    (err = json_put_string(&c->body, repos->names[i], strlen(repos->names[i]),
					   NULL)) < 0)
			return err;
		is_first = false;
		c->n_repos++;
	}
	return buf_puts(&c->body, "]}");
}

/* The request body of searcher k: the query, its options and k's share of repos. */
static int call_body(struct call *c, const struct fanout_ctx *x, const struct search_repos *repos,
		     const struct search_opts *o, const struct cluster_set *set, size_t k)
{
	const struct query *q = o->query;
	int err;

	if ((err = buf_puts(&c->body, "{\"q\":")) < 0 ||
	    (err = json_put_string(&c->body, x->qtext, strlen(x->qtext), NULL)) < 0 ||
	    (err = buf_printf(&c->body, ",\"context\":%u,\"type\":%d,\"count\":%llu,\"ranges\":%s",
			      x->context, (int)q->type, (unsigned long long)q->count,
			      o->want_ranges ? "true" : "false")) < 0 ||
	    /* The frontend projects select:repo|file itself (search_request.is_select_raw). */
	    ((q->select == QS_REPO || q->select == QS_FILE) &&
	     (err = buf_puts(&c->body, ",\"select_raw\":true")) < 0) ||
	    (o->progress && (err = buf_puts(&c->body, ",\"progress\":true")) < 0))
		return err;
	/* References: the file's repository on the file's branch, as one process searches it. */
	if (o->pin_repo && o->pin_branch &&
	    ((err = buf_puts(&c->body, ",\"pin_repo\":")) < 0 ||
	     (err = json_put_string(&c->body, o->pin_repo, strlen(o->pin_repo), NULL)) < 0 ||
	     (err = buf_puts(&c->body, ",\"pin_branch\":")) < 0 ||
	     (err = json_put_string(&c->body, o->pin_branch, strlen(o->pin_branch), NULL)) < 0))
		return err;
	if ((err = buf_putc(&c->body, ',')) < 0)
		return err;
	return call_share(c, repos, set, k);
}

static int call_start(struct call *c, CURLM *m, const struct cluster_key *key, long timeout_ms)
{
	char sig[CLUSTER_SIG_MAX], hdr[CLUSTER_SIG_MAX + 32], hash[CLUSTER_HASH_HEX];
	char hhdr[CLUSTER_HASH_HEX + sizeof(CLUSTER_HASH_HEADER ": ")];
	struct curl_slist *h;

	snprintf(c->url, sizeof(c->url), "http://%s:%u%s", c->node->host, c->node->port, c->path);
	sign_for(sig, key, c->node, "POST", c->path, c->body.ptr, c->body.len);
	snprintf(hdr, sizeof(hdr), CLUSTER_SIGN_HEADER ": %s", sig);
	cluster_body_hash(hash, c->body.ptr, c->body.len);
	snprintf(hhdr, sizeof(hhdr), CLUSTER_HASH_HEADER ": %s", hash);
	if (!(c->h = curl_easy_init()) ||
	    !(h = curl_slist_append(NULL, "Content-Type: application/json")))
		return error_nomem(NULL);
	c->headers = h;
	if (!(h = curl_slist_append(c->headers, hdr)))
		return error_nomem(NULL);
	c->headers = h;
	if (!(h = curl_slist_append(c->headers, hhdr)))
		return error_nomem(NULL);
	c->headers = h;
	if (!(h = curl_slist_append(c->headers, "Expect:")))
		return error_nomem(NULL);
	c->headers = h;
	curl_easy_setopt(c->h, CURLOPT_URL, c->url);
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->body.ptr);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body.len);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	/* A changed DNS answer (a rescheduled pod) is seen within 10 s. */
	curl_easy_setopt(c->h, CURLOPT_DNS_CACHE_TIMEOUT, 10L);
	curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
	return curl_multi_add_handle(m, c->h) == CURLM_OK ? 0 : error_nomem(NULL);
}

/* Runs every call until each is done, the timeout passed or cancel is set. */
static void calls_run(CURLM *m, const atomic_bool *cancel)
{
	int running = 1, n_msgs;
	CURLMsg *msg;

	while (running) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(m, &n_msgs))) {
			struct call *c = NULL;
			long status = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			c->is_done = true;
			c->status = status;
			c->result = msg->data.result;
			/*
			 * SECURITY: the decoded answer may hold what its bytes were allowed
			 * (--query-memory), not the many times more its counts could ask for.
			 */
			c->is_ok = msg->data.result == CURLE_OK && status == 200 &&
				   buf_putc(&c->answer, 0) == 0 &&
				   (c->is_raw ||
				    cluster_wire_decode(&c->a, (const uint8_t *)c->answer.ptr,
							c->answer.len - 1, c->answer.max) == 0);
		}
		if (!running || (cancel && atomic_load(cancel)))
			break;
		curl_multi_poll(m, NULL, 0, 100, NULL);
	}
}

static void call_dispose(struct call *c, CURLM *m)
{
	if (c->h) {
		curl_multi_remove_handle(m, c->h);
		curl_easy_cleanup(c->h);
	}
	curl_slist_free_all(c->headers);
	cluster_answer_dispose(&c->a);
	buf_dispose(&c->body);
	buf_dispose(&c->answer);
}

/* A result of the merge: the answer's file and the position it comes from. */
struct pick {
	const struct search_file *f;
};

/* Two files by repository, path, first branch. */
static int cmp_file_place(const struct search_file *x, const struct search_file *y)
{
	size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
	int c;

	if ((c = strcmp(x->repo, y->repo)) != 0)
		return c;
	if ((c = memcmp(x->path, y->path, n)) != 0)
		return c;
	if (x->path_len != y->path_len)
		return x->path_len < y->path_len ? -1 : 1;
	if (x->n_branches && y->n_branches)
		return strcmp(x->branches[0], y->branches[0]);
	return 0;
}

static int cmp_pick(const void *a, const void *b)
{
	const struct search_file *x = ((const struct pick *)a)->f, *y = ((const struct pick *)b)->f;

	/* search.c's cmp_pick: by score, then repository, path, first branch. */
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return cmp_file_place(x, y);
}

/* Sums the answers' stats into st; the flags of any, repo_none of all. */
static void merge_stats(struct search_stats *st, struct call *calls, size_t n)
{
	bool is_repo_none = true, any = false;

	for (size_t i = 0; i < n; i++) {
		const struct search_stats *a = &calls[i].a.stats;

		if (!calls[i].is_ok)
			continue;
		any = true;
		st->shards_total += a->shards_total;
		st->shards_searched += a->shards_searched;
		st->candidates += a->candidates;
		st->bytes_scanned += a->bytes_scanned;
		st->is_limit_hit |= a->is_limit_hit;
		st->is_timeout |= a->is_timeout;
		st->is_mem_limit |= a->is_mem_limit;
		st->mem_peak = a->mem_peak > st->mem_peak ? a->mem_peak : st->mem_peak;
		st->plan_ms = a->plan_ms > st->plan_ms ? a->plan_ms : st->plan_ms;
		is_repo_none &= a->is_repo_none;
		if (a->rev_missing && !st->rev_missing)
			memcpy(st->rev_warning, a->rev_warning, sizeof(st->rev_warning));
		st->rev_missing += a->rev_missing;
		if (a->symbols_missing && !st->symbols_missing)
			memcpy(st->symbols_warning, a->symbols_warning, sizeof(st->symbols_warning));
		st->symbols_missing += a->symbols_missing;
	}
	st->is_repo_none = any && is_repo_none;
}

/*
 * A stream's progress: one event once every searcher answered, before the results (as one
 * process sends its shards' events before a ranked query's results), its counts those of one
 * process's last event: SECURITY: the shards of the repositories the caller reads (never the
 * searchers' whole indexes), and what the searchers found before ranking and count:. A
 * frontend sends no event while its searchers work.
 */
static void progress_once(const struct call *calls, size_t n, const struct search_opts *o)
{
	struct search_progress p = { 0 };

	if (!o->progress)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!calls[i].is_ok)
			continue;
		p.matching_lines += calls[i].a.progress.lines;
		p.files += calls[i].a.progress.files;
		p.shards_total += calls[i].a.progress.shards;
	}
	p.shards_done = p.shards_total;
	o->progress(&p, o->progress_arg);
}

/*
 * Hands the merged files to fn, cut at limit as search.c's emit_files cuts: lines of content
 * results (the last file's cut to fit), files of the others.
 */
static int emit(struct search_stats *st, struct pick *picks, size_t n, uint64_t limit,
		search_file_fn fn, void *arg)
{
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++) {
		struct search_file sf = *picks[i].f;
		bool is_content = sf.kind == SEARCH_CONTENT;

		if (limit && is_content && st->lines + sf.n_lines > limit) {
			sf.n_lines = limit - st->lines;
			st->is_limit_hit = true;
		}
		if (sf.n_lines == 0 && is_content)
			break;
		st->lines += sf.n_lines;
		st->files++;
		ret = fn(&sf, arg);
		if (limit && (is_content ? st->lines : st->files) >= limit) {
			if (i + 1 < n)
				st->is_limit_hit = true;
			break;
		}
	}
	return ret;
}

/* A symbol of the merge: its file (a pick) and its place in the file's list, best first. */
struct sym_pick {
	const struct search_file *f;
	size_t file; /* its file's index in the picks */
	size_t k;
};

static int cmp_sym_pick(const void *a, const void *b)
{
	const struct sym_pick *x = a, *y = b;
	double sx = x->f->symbols[x->k].score, sy = y->f->symbols[y->k].score;

	/*
	 * symsearch.c's order: by score, then as found (shard by shard: repository and path
	 * here), then the file's own order, in which equal scores are as found too.
	 */
	if (sx != sy)
		return sx > sy ? -1 : 1;
	if (x->file != y->file)
		return cmp_file_place(x->f, y->f);
	return x->k < y->k ? -1 : x->k > y->k;
}

/*
 * For each file, how many of its symbols are among the best limit symbols of all files
 * (all when limit is 0): as one process keeps the best count: symbols over every shard, the
 * cut may fall inside a file, and a searcher's best need not be the cluster's. A file's
 * symbols come best first, so its share is a prefix of them. keep has n entries.
 */
static int symbols_kept(size_t *keep, const struct pick *picks, size_t n, uint64_t limit)
{
	struct sym_pick *v;
	size_t total = 0, m = 0;

	for (size_t i = 0; i < n; i++)
		total += keep[i] = picks[i].f->n_symbols;
	if (!limit || total <= limit)
		return 0;
	if (!(v = malloc(total * sizeof(*v))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n; i++) {
		keep[i] = 0;
		for (size_t k = 0; k < picks[i].f->n_symbols; k++)
			v[m++] = (struct sym_pick){ .f = picks[i].f, .file = i, .k = k };
	}
	qsort(v, total, sizeof(*v), cmp_sym_pick);
	for (size_t j = 0; j < limit; j++)
		keep[v[j].file]++;
	free(v);
	return 0;
}

/*
 * type:symbol: the best count: symbols of every answer, in their files, the files in the
 * order of their best symbol (the picks' order: a file's score is its best symbol's), as
 * symsearch.c hands them out.
 */
static int emit_symbols(struct search_stats *st, struct pick *picks, size_t n, uint64_t limit,
			search_file_fn fn, void *arg)
{
	size_t *keep, total = 0;
	int ret;

	if (!(keep = calloc(n ? n : 1, sizeof(*keep))))
		return error_nomem(NULL);
	if ((ret = symbols_kept(keep, picks, n, limit)) < 0) {
		free(keep);
		return ret;
	}
	for (size_t i = 0; i < n; i++)
		total += picks[i].f->n_symbols;
	if (limit && total > limit)
		st->is_limit_hit = true;
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct search_file sf = *picks[i].f;

		if (!keep[i])
			continue;
		sf.n_symbols = sf.n_lines = keep[i];
		st->lines += sf.n_symbols;
		st->files++;
		ret = fn(&sf, arg);
	}
	free(keep);
	return ret;
}

static int merge(struct search_stats *st, struct call *calls, size_t n_calls,
		 const struct search_opts *o, search_file_fn fn, void *arg)
{
	const struct query *q = o->query;
	uint64_t limit = o->limit ? o->limit : q->count;
	struct pick *picks;
	size_t n = 0;
	int err;

	for (size_t i = 0; i < n_calls; i++)
		n += calls[i].is_ok ? calls[i].a.n_files : 0;
	if (!(picks = malloc((n ? n : 1) * sizeof(*picks))))
		return error_nomem(NULL);
	n = 0;
	for (size_t i = 0; i < n_calls; i++)
		for (size_t k = 0; calls[i].is_ok && k < calls[i].a.n_files; k++)
			picks[n++].f = &calls[i].a.files[k];
	qsort(picks, n, sizeof(*picks), cmp_pick);
	if (limit == UINT64_MAX)
		limit = 0; /* select: counts selected results in the request's relay */
	err = q->type == QT_SYMBOL ? emit_symbols(st, picks, n, limit, fn, arg)
				   : emit(st, picks, n, limit, fn, arg);
	free(picks);
	return err;
}

/* The first searcher error (a query only a searcher refuses: a regex over its limits). */
static int answer_error(struct call *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!calls[i].is_ok || !calls[i].a.err)
			continue;
		if (calls[i].a.err_pos != (size_t)-1)
			error_set_at(calls[i].a.err_pos, "%s", calls[i].a.err_msg);
		else
			error_set("%s", calls[i].a.err_msg);
		return calls[i].a.err;
	}
	return 0;
}

/*
 * Each thread's multi handle, kept for the thread's next fan-outs: its connection cache holds
 * the connections to the searchers open, so a search does not connect anew (no lock: a handle
 * is its thread's). Freed when the thread ends.
 */
static pthread_key_t multi_key;
static pthread_once_t multi_once = PTHREAD_ONCE_INIT;
static int multi_key_err;

static void multi_free(void *m)
{
	curl_multi_cleanup(m);
}

static void multi_key_make(void)
{
	multi_key_err = pthread_key_create(&multi_key, multi_free);
}

static CURLM *thread_multi(size_t n_searchers)
{
	CURLM *m;

	pthread_once(&multi_once, multi_key_make);
	if (multi_key_err)
		return curl_multi_init(); /* the caller's to clean up (thread_multi_done) */
	if ((m = pthread_getspecific(multi_key)))
		return m;
	if (!(m = curl_multi_init()))
		return NULL;
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)(2 * n_searchers + 4));
	if (pthread_setspecific(multi_key, m) != 0) {
		curl_multi_cleanup(m);
		return NULL;
	}
	return m;
}

static void thread_multi_done(CURLM *m)
{
	if (multi_key_err)
		curl_multi_cleanup(m);
}

/* A searcher that did not answer: the operator's log says which and why (the caller's never). */
static void log_failed(const struct call *c)
{
	struct logline l;

	log_begin(&l, "warn", "a searcher did not answer: partial results");
	log_cstr(&l, "searcher", c->node->name);
	log_cstr(&l, "error", !c->is_done		   ? "no answer in time"
			      : c->result != CURLE_OK ? curl_easy_strerror(c->result)
			      : c->status != 200      ? "an error status"
						      : "a malformed answer");
	log_num(&l, "status", (double)c->status);
	log_end(&l);
}

/*
 * SECURITY: whether every file of searcher k's answer is of a repository it was asked for (its
 * share of repos under set). A searcher that answers with another's repositories (compromised,
 * or misconfigured into another's index) could put words in any repository's mouth, or show
 * one the caller cannot read: its answer is refused, as a malformed one (attack s31).
 */
bool cluster_asked_has(const struct cluster_asked *a, const char *repo)
{
	return (a->repos->is_all || search_repos_has(a->repos, repo)) &&
	       cluster_owner(a->set, repo) == a->k;
}

static bool answer_is_own(const struct call *c, const struct search_repos *repos,
			  const struct cluster_set *set, size_t k)
{
	const struct cluster_asked asked = { repos, set, k };
	const char *last = NULL;

	for (size_t i = 0; i < c->a.n_files; i++) {
		const char *repo = c->a.files[i].repo;

		/* A repository's files often come together: one check for a run of them. */
		if (last && strcmp(last, repo) == 0)
			continue;
		if (!cluster_asked_has(&asked, repo))
			return false;
		last = repo;
	}
	return true;
}

static int fanout_run(void *ctx, struct search_stats *st, const struct search_repos *repos,
		      const struct search_opts *o, search_file_fn fn, void *arg)
{
	struct fanout_ctx *x = ctx;
	struct cluster_srv *cs = x->s->cluster;
	struct set_ref *sr;
	const struct cluster_set *set;
	double t0 = clock_now_ms();
	long timeout_ms = (long)(o->query->timeout_ms ? o->query->timeout_ms
						       : QUERY_DEFAULT_TIMEOUT_MS) + GRACE_MS;
	struct call *calls;
	CURLM *m;
	int err = 0;

	memset(st, 0, sizeof(*st));
	/* A fan-out waits on the network: never on an HTTP thread. */
	if (o->budget_ms > 0) {
		error_set("a fan-out runs on a search thread");
		return TRAWL_EAGAIN;
	}
	sr = set_take(cs);
	set = &sr->set;
	if (!(calls = calloc(set->n, sizeof(*calls))) || !(m = thread_multi(set->n))) {
		free(calls);
		set_put(sr);
		return error_nomem(NULL);
	}
	for (size_t k = 0; k < set->n && err == 0; k++) {
		calls[k].node = &set->v[k];
		calls[k].path = INTERNAL_PATH;
		buf_init(&calls[k].body, BUF_MAX_DEFAULT);
		buf_init(&calls[k].answer, x->s->query_mem);
		if ((err = call_body(&calls[k], x, repos, o, set, k)) == 0 &&
		    (repos->is_all || calls[k].n_repos))
			err = call_start(&calls[k], m, &cs->key, timeout_ms);
	}
	if (err == 0) {
		calls_run(m, o->cancel);
		for (size_t k = 0; k < set->n; k++)
			if (calls[k].is_ok && !answer_is_own(&calls[k], repos, set, k))
				calls[k].is_ok = false; /* logged as a malformed answer */
		if ((err = answer_error(calls, set->n)) == 0) {
			merge_stats(st, calls, set->n);
			progress_once(calls, set->n, o);
			err = merge(st, calls, set->n, o, fn, arg);
		}
	}
	for (size_t k = 0; k < set->n; k++) {
		if (!calls[k].h || calls[k].is_ok)
			continue;
		log_failed(&calls[k]);
		atomic_fetch_add(&x->s->metrics.cluster_failures, 1);
		st->partial_searchers++;
		st->partial_repos += calls[k].n_repos;
	}
	if (st->partial_searchers)
		atomic_fetch_add(&x->s->metrics.cluster_partial, 1);
	if (o->cancel && atomic_load(o->cancel))
		st->is_canceled = true;
	for (size_t k = 0; k < set->n; k++)
		call_dispose(&calls[k], m);
	thread_multi_done(m);
	free(calls);
	set_put(sr);
	st->elapsed_ms = clock_now_ms() - t0;
	return err;
}

int cluster_post_each(struct srv *s, const char *path, const char *head,
		      const struct search_repos *repos, const atomic_bool *cancel,
		      cluster_answer_fn fn, void *arg, size_t *n_failed)
{
	struct cluster_srv *cs = s->cluster;
	struct set_ref *sr = set_take(cs);
	const struct cluster_set *set = &sr->set;
	long timeout_ms = (long)QUERY_DEFAULT_TIMEOUT_MS + GRACE_MS;
	struct call *calls;
	CURLM *m;
	int err = 0;

	*n_failed = 0;
	if (!(calls = calloc(set->n, sizeof(*calls))) || !(m = thread_multi(set->n))) {
		free(calls);
		set_put(sr);
		return error_nomem(NULL);
	}
	for (size_t k = 0; k < set->n && err == 0; k++) {
		calls[k] = (struct call){ .node = &set->v[k], .path = path, .is_raw = true };
		buf_init(&calls[k].body, BUF_MAX_DEFAULT);
		buf_init(&calls[k].answer, s->query_mem);
		if ((err = buf_puts(&calls[k].body, head)) == 0 &&
		    (err = call_share(&calls[k], repos, set, k)) == 0 &&
		    (repos->is_all || calls[k].n_repos))
			err = call_start(&calls[k], m, &cs->key, timeout_ms);
	}
	if (err == 0)
		calls_run(m, cancel);
	for (size_t k = 0; k < set->n && err == 0; k++) {
		const struct cluster_asked asked = { repos, set, k };

		if (calls[k].is_ok &&
		    fn(arg, k, &asked, calls[k].answer.ptr, calls[k].answer.len - 1) < 0)
			calls[k].is_ok = false; /* a malformed answer: as one not given */
	}
	for (size_t k = 0; k < set->n; k++) {
		if (err == 0 && calls[k].h && !calls[k].is_ok) {
			log_failed(&calls[k]);
			atomic_fetch_add(&s->metrics.cluster_failures, 1);
			(*n_failed)++;
		}
		call_dispose(&calls[k], m);
	}
	if (*n_failed)
		atomic_fetch_add(&s->metrics.cluster_partial, 1);
	thread_multi_done(m);
	free(calls);
	set_put(sr);
	return err;
}

int server_search_run(struct srv *s, const struct snapshot *snap, struct search_stats *st,
		      struct search_request *srq, struct search_sink *sk, const char *qtext,
		      unsigned context)
{
	struct fanout_ctx x = { .s = s, .qtext = qtext, .context = context };
	int err;

	if (s->cfg->role != SERVER_ROLE_FRONTEND) {
		err = search_request_run(st, snap->ix, srq, sk);
	} else {
		srq->run = fanout_run;
		srq->run_ctx = &x;
		err = search_request_run(st, NULL, srq, sk);
	}
	/* A search that held much for results leaves much free in the arenas (pool.c). */
	if (st->mem_peak >= POOL_TRIM_MIN)
		pool_trim_after_task();
	return err;
}

/* ======================================================================================== */
/* ---- the routes of one repository: proxied to its owner ---- */

/*
 * The routes that read one repository ({name}) and nothing else: a frontend sends them to the
 * repository's searcher, under "/internal" + the same path and query, signed. Not definition
 * or references, which read other repositories the searcher cannot tell apart: handlers_nav.c
 * asks the owner for the identifier only (cluster_owner_get), then fans out.
 */
static const char *const proxied[] = { "tree", "file", "raw", "readme", "paths", "outline" };

bool cluster_is_internal(const struct route *r)
{
	return strncmp(r->name, "internal_", 9) == 0;
}

bool cluster_is_proxied(const struct route *r)
{
	for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
		if (strcmp(r->name, proxied[i]) == 0)
			return true;
	return false;
}

struct query_out {
	struct buf *b;
	size_t mark; /* where the query starts: no '&' before its first pair */
};

static enum MHD_Result put_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct query_out *q = cls;

	(void)kind;
	/* Keys and values are as the client sent them (the server unescapes nothing itself). */
	if ((q->b->len > q->mark && buf_putc(q->b, '&') < 0) || buf_puts(q->b, key) < 0 ||
	    (value && (buf_putc(q->b, '=') < 0 || buf_puts(q->b, value) < 0)))
		return MHD_NO;
	return MHD_YES;
}

/* Appends "?" and the query as received (nothing when there is none), then a NUL. ENOMEM. */
static int put_query(struct buf *b, const struct req *rq)
{
	struct query_out q = { b, 0 };

	if (buf_putc(b, '?') < 0)
		return TRAWL_ENOMEM;
	q.mark = b->len;
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, put_arg, &q);
	if (b->len == q.mark)
		b->len--; /* no query: no '?' */
	return buf_putc(b, 0) < 0 ? TRAWL_ENOMEM : 0;
}

/*
 * The searcher's target of a proxied route: "/internal/" + the route's pattern with {name}
 * percent-encoded from the decoded name (what the searcher decodes back), and the query as
 * received. NUL-terminated. ENOMEM.
 */
static int internal_target(struct buf *b, const struct req *rq, const char *pat)
{
	const char *brace = strstr(pat, "{name}");
	int err = 0;

	if (!brace || (err = buf_puts(b, "/internal/")) < 0 ||
	    (err = buf_put(b, pat, (size_t)(brace - pat))) < 0)
		return err < 0 ? err : TRAWL_EINVAL;
	for (size_t i = 0; i < rq->args.name_len && err == 0; i++) {
		unsigned char ch = (unsigned char)rq->args.name[i];

		err = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
				      ch == '-' || ch == '_' || ch == '.' || ch == '~'
			      ? buf_putc(b, (char)ch)
			      : buf_printf(b, "%%%02X", ch);
	}
	if (err < 0 || (err = buf_puts(b, brace + 6)) < 0)
		return err;
	return put_query(b, rq);
}

int cluster_admit_signed(struct req *rq, const char *url)
{
	struct cluster_srv *c = rq->s->cluster;
	struct buf target;
	int err;

	/* Health needs none. */
	if (!cluster_is_internal(rq->route))
		return 0;
	/*
	 * A POST (the internal search, definitions): its headers before its body is read (a forged
	 * request is refused unread), the body itself and the nonce in its handler
	 * (cluster_verify_body).
	 */
	if (rq->route->methods & ROUTE_POST) {
		char path[128];
		struct cluster_req q = { rq->s->cfg->self, rq->method, path };

		snprintf(path, sizeof(path), "/%s", rq->route->pattern);
		if (cluster_verify_head(c->replay, &c->key,
					req_header_value(rq, CLUSTER_SIGN_HEADER), &q,
					req_header_value(rq, CLUSTER_HASH_HEADER), now_s()) == 0)
			return 0;
		req_error(rq, 401, "unauthorized", "unauthorized", 0);
		return TRAWL_EAUTH;
	}
	buf_init(&target, 1 << 16);
	err = buf_puts(&target, url) < 0 ? TRAWL_ENOMEM : put_query(&target, rq);
	if (err == 0 && verify_signed(rq, target.ptr, "", 0) < 0)
		err = TRAWL_EAUTH;
	buf_dispose(&target);
	if (err < 0)
		req_error(rq, 401, "unauthorized", "unauthorized", 0);
	return err;
}

/* The answer's headers a proxied route sets itself (handlers_repos.c). */
static size_t on_proxy_header(char *data, size_t size, size_t n, void *arg)
{
	/* The searcher's own security headers are the frontend's to set (but raw's sandbox). */
	static const char *const relayed[] = { "Content-Type", "Link", "Content-Security-Policy",
					       "Content-Disposition" };
	struct req *rq = arg;
	size_t len = size * n, k;

	for (size_t i = 0; i < sizeof(relayed) / sizeof(relayed[0]); i++) {
		char value[1024];

		k = strlen(relayed[i]);
		if (len <= k + 1 || strncasecmp(data, relayed[i], k) != 0 || data[k] != ':')
			continue;
		snprintf(value, sizeof(value), "%.*s", (int)(len - k - 1), data + k + 1);
		value[strcspn(value, "\r\n")] = 0;
		if (i == 2 && strcmp(value + strspn(value, " "), "sandbox") != 0)
			continue;
		if (i == 0)
			rq->ctype = req_keep(rq, value + strspn(value, " "));
		else
			req_header(rq, relayed[i], req_keep(rq, value + strspn(value, " ")));
	}
	return len;
}

static size_t on_proxy_body(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	return buf_put(b, data, size * n) < 0 ? 0 : size * n;
}

/*
 * GETs "/internal/" + pattern ({name} the request's) with the request's query from the owner
 * of {name}, signed: its status into *status and its body into out, its headers relayed onto
 * rq when is_relay. 0, or TRAWL_EIO when the owner did not answer (logged).
 */
static int owner_get(struct req *rq, const char *pattern, struct buf *out, long *status,
		     bool is_relay)
{
	struct cluster_srv *c = rq->s->cluster;
	struct set_ref *sr;
	const struct cluster_node *node;
	char sig[CLUSTER_SIG_MAX], hdr[CLUSTER_SIG_MAX + 32], url[CLUSTER_HOST_MAX + 32];
	struct buf target, full;
	struct curl_slist *headers = NULL;
	CURL *h = NULL;
	CURLcode res = CURLE_FAILED_INIT;
	int err = 0;

	*status = 0;
	sr = set_take(c);
	node = &sr->set.v[cluster_owner(&sr->set, rq->args.name)];
	buf_init(&target, 1 << 16);
	buf_init(&full, 1 << 17);
	snprintf(url, sizeof(url), "http://%s:%u", node->host, node->port);
	if (internal_target(&target, rq, pattern) == 0 && buf_puts(&full, url) == 0 &&
	    buf_put(&full, target.ptr, target.len) == 0 && (h = curl_easy_init()) != NULL) {
		sign_for(sig, &c->key, node, "GET", target.ptr, "", 0);
		snprintf(hdr, sizeof(hdr), CLUSTER_SIGN_HEADER ": %s", sig);
		headers = curl_slist_append(NULL, hdr);
		curl_easy_setopt(h, CURLOPT_URL, full.ptr);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
		if (is_relay) {
			curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_proxy_header);
			curl_easy_setopt(h, CURLOPT_HEADERDATA, rq);
		}
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_proxy_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)QUERY_MAX_TIMEOUT_MS);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		buf_reset(out);
		if (headers && (res = curl_easy_perform(h)) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	}
	if (res != CURLE_OK || *status < 200 || *status > 599) {
		struct logline l;

		log_begin(&l, "warn", "a searcher did not answer a repository route");
		log_cstr(&l, "searcher", node->name);
		log_cstr(&l, "error", res != CURLE_OK ? curl_easy_strerror(res) : "a bad status");
		log_end(&l);
		buf_reset(out);
		err = TRAWL_EIO;
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	buf_dispose(&target);
	buf_dispose(&full);
	set_put(sr);
	return err;
}

int cluster_owner_unavailable(struct req *rq)
{
	buf_reset(&rq->body);
	return req_error(rq, 503, "unavailable", "the searcher of this repository did not answer",
			 0);
}

int cluster_owner_get(struct req *rq, const char *pattern, struct buf *out, long *status)
{
	return owner_get(rq, pattern, out, status, false);
}

/* On a pool thread: the owner's answer becomes this request's. */
static int proxy_run(struct req *rq)
{
	long status;

	if (owner_get(rq, rq->route->pattern, &rq->body, &status, true) < 0)
		cluster_owner_unavailable(rq);
	else
		rq->status = (unsigned)status;
	return 0;
}

int cluster_proxy(struct req *rq)
{
	int err;

	/* SECURITY: the caller's access, here: the searcher reads whatever it is sent for. */
	if ((err = access_check_repo(&rq->caller, rq->args.name)) < 0)
		return err;
	req_defer(rq, proxy_run);
	return 0;
}
