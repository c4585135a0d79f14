/*
 * A cluster's frontend (docs/internals/cluster.md): server_search_run, the one seam every search
 * route goes through, runs the search here (roles all and searcher) or sends each searcher the
 * caller's readable repositories it owns (rendezvous hashing), in parallel, and merges their
 * answers as one process orders them; cluster_post_each, the same fan-out for the definitions.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "server/cluster_int.h"
#include "server/server_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"

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
	cluster_sign_for(sig, key, c->node, "POST", c->path, c->body.ptr, c->body.len);
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
	sr = cluster_srv_take_set(cs);
	set = &sr->set;
	if (!(calls = calloc(set->n, sizeof(*calls))) || !(m = thread_multi(set->n))) {
		free(calls);
		cluster_srv_put_set(sr);
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
	cluster_srv_put_set(sr);
	st->elapsed_ms = clock_now_ms() - t0;
	return err;
}

int cluster_post_each(struct srv *s, const char *path, const char *head,
		      const struct search_repos *repos, const atomic_bool *cancel,
		      cluster_answer_fn fn, void *arg, size_t *n_failed)
{
	struct cluster_srv *cs = s->cluster;
	struct set_ref *sr = cluster_srv_take_set(cs);
	const struct cluster_set *set = &sr->set;
	long timeout_ms = (long)QUERY_DEFAULT_TIMEOUT_MS + GRACE_MS;
	struct call *calls;
	CURLM *m;
	int err = 0;

	*n_failed = 0;
	if (!(calls = calloc(set->n, sizeof(*calls))) || !(m = thread_multi(set->n))) {
		free(calls);
		cluster_srv_put_set(sr);
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
	cluster_srv_put_set(sr);
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
