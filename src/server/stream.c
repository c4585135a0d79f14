/*
 * Streaming search: server-sent events (docs/api.md).
 *
 * DESIGN: a search thread per stream (their number is capped with the other searches) runs
 * search_run and appends events to the stream's output buffer; MHD pulls from it through a
 * content-reader callback on its own thread. When the buffer is empty the reader suspends the
 * connection and the search thread resumes it when it appends, so no HTTP thread ever waits
 * for a search. A suspended connection is not watched by MHD, so a ticker polls the sockets of
 * suspended streams (POLLRDHUP) every 200 ms: a client that went away sets the search's cancel
 * flag, and search_run stops within one document. The output buffer is bounded: a slow reader
 * makes the search thread wait, never grow memory without limit.
 */
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/secret.h"
#include "query/query.h"
#include "search/search_json.h"
#include "server/access.h"
#include "server/server_int.h"
#include "util/error.h"
#include "util/json.h"

#define OUT_MAX ((size_t)4 << 20)   /* the search waits while this much is unsent */
#define BATCH_FILES 64              /* files per "matches" event */
#define BATCH_BYTES ((size_t)64 << 10)
#define TICK_MS 200
#define RECHECK_MS 1000 /* how often a running stream re-checks its credential */

struct stream {
	/*
	 * The search request's sink (first: the request hands it back). Its is_late is set when
	 * the deadline passed while the output was full; its err holds on_file's error.
	 */
	struct search_sink sink;
	struct stream *next, *prev; /* srv.streams, under srv.streams_lock */
	atomic_uint refs;
	struct srv *s;
	struct MHD_Connection *conn;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct buf out;             /* events not yet handed to MHD, from off */
	size_t off;
	bool is_done;               /* the search thread wrote its last event */
	bool is_suspended;
	bool is_gone;               /* MHD let go of the response: nobody reads any more */
	bool is_peer_gone;          /* the ticker saw the client hang up */
	atomic_bool cancel;
	/* the search */
	struct snapshot *snap;
	struct query *q;
	char *qtext;
	unsigned context;
	struct search_request srq;
	struct buf batch;
	size_t n_batch;
	char req_id[32];
	double deadline_ms;         /* the query's timeout, on clock_now_ms()'s clock */
	struct search_who who;
	const struct search_repos *readable; /* the request's, released with the stream */
	/*
	 * For a caller who is no administrator, progress counts readable shards only:
	 * readable_before[i] is how many of the index's first i shards are readable (NULL for an
	 * administrator, who sees the index's own counts).
	 */
	uint32_t *readable_before;
	/*
	 * The request's credential, checked again while the stream runs (credential_holds): a
	 * revoked token or a disabled user ends the stream. Zeroed when the stream is freed.
	 */
	char cookie[44];     /* the session cookie's value, or "" */
	char *authorization; /* the Authorization header's value, or NULL */
	char address[INET6_ADDRSTRLEN];
	enum auth_kind kind; /* whom it identified at the start */
	int64_t user_id;
	double checked_ms;      /* when it was last checked */
	atomic_bool is_revoked; /* it no longer holds: the stream ends with an error */
};

static void stream_unref(struct stream *st)
{
	struct srv *s = st->s;

	if (atomic_fetch_sub(&st->refs, 1) != 1)
		return;
	pthread_mutex_lock(&s->streams_lock);
	if (st->prev)
		st->prev->next = st->next;
	else if (s->streams == st)
		s->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	pthread_mutex_unlock(&s->streams_lock);
	buf_dispose(&st->out);
	buf_dispose(&st->batch);
	query_free(st->q);
	free(st->qtext);
	free(st->readable_before);
	sodium_memzero(st->cookie, sizeof(st->cookie));
	if (st->authorization) {
		sodium_memzero(st->authorization, strlen(st->authorization));
		free(st->authorization);
	}
	if (st->readable)
		auth_repos_release(st->who.auth, st->readable);
	snapshot_unref(st->snap);
	pthread_cond_destroy(&st->cond);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* Called with st->lock held: lets MHD read again. */
static void wake_reader(struct stream *st)
{
	if (st->is_suspended && !st->is_gone) {
		st->is_suspended = false;
		MHD_resume_connection(st->conn);
	}
}

/*
 * Appends an event (route_sse_event). While too much is unsent the search thread waits, and
 * so the search does (search.c keeps its workers within a window of the output): memory per
 * stream stays near OUT_MAX. The wait ends at the query's deadline (ETIMEOUT): the last events
 * (is_final) are then appended whatever the backlog, being small and few.
 */
static int push_event_as(struct stream *st, const char *name, const char *data, size_t len,
			 bool is_final)
{
	int err = 0;

	pthread_mutex_lock(&st->lock);
	while (!is_final && !st->is_gone && st->out.len - st->off > OUT_MAX) {
		double left = st->deadline_ms - clock_now_ms();
		struct timespec ts;
		long long ns;

		if (left <= 0) {
			st->sink.is_late = true;
			pthread_mutex_unlock(&st->lock);
			return TRAWL_ETIMEOUT;
		}
		ns = (long long)(left * 1e6) + 1;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(ns / 1000000000LL);
		ts.tv_nsec += (long)(ns % 1000000000LL);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&st->cond, &st->lock, &ts);
	}
	if (st->is_gone) {
		pthread_mutex_unlock(&st->lock);
		return TRAWL_ECANCELED;
	}
	err = route_sse_event(&st->out, name, data, len);
	wake_reader(st);
	pthread_mutex_unlock(&st->lock);
	return err;
}

static int push_event(struct stream *st, const char *name, const char *data, size_t len)
{
	return push_event_as(st, name, data, len, false);
}

/* Sends the batch of files; is_final as push_event_as (the last batch, whatever the backlog). */
static int flush_batch_as(struct stream *st, bool is_final)
{
	int err;

	if (st->n_batch == 0)
		return 0;
	if ((err = buf_putc(&st->batch, ']')) < 0)
		return err;
	err = push_event_as(st, "matches", st->batch.ptr, st->batch.len, is_final);
	if (err == TRAWL_ETIMEOUT) {
		st->batch.len--; /* kept, without its ']', for the last flush */
		return err;
	}
	buf_reset(&st->batch);
	st->n_batch = 0;
	return err;
}

static int flush_batch(struct stream *st)
{
	return flush_batch_as(st, false);
}

/*
 * SECURITY: whether the stream's credential still identifies its caller, checked at most
 * every RECHECK_MS from the search thread. A stream outlives the check at its start: without
 * this, a revoked token or a disabled user kept receiving results until the search ended.
 * False also cancels the search.
 */
static bool credential_holds(struct stream *st)
{
	struct auth_origin from = { .address = st->address };
	struct auth_principal now;
	double t = clock_now_ms();
	bool is_same;
	int err;

	if (atomic_load(&st->is_revoked))
		return false;
	if (t - st->checked_ms < RECHECK_MS)
		return true;
	st->checked_ms = t;
	err = auth_identify(&now, st->s->auth, st->cookie[0] ? st->cookie : NULL, st->authorization,
			    &from);
	is_same = err == 0 && now.kind == st->kind && now.user_id == st->user_id;
	sodium_memzero(&now, sizeof(now));
	if (is_same)
		return true;
	atomic_store(&st->is_revoked, true);
	atomic_store(&st->cancel, true);
	return false;
}

static int on_file(struct search_sink *sk, const struct search_file *f)
{
	struct stream *st = (struct stream *)sk;
	struct search_json_opts jo = { .context = st->context };

	if (atomic_load(&st->cancel) || !credential_holds(st))
		return 1;
	if ((sk->err = buf_putc(&st->batch, st->n_batch++ ? ',' : '[')) < 0 ||
	    (sk->err = search_json_file(&st->batch, f, &jo)) < 0)
		return 1;
	if ((st->n_batch >= BATCH_FILES || st->batch.len >= BATCH_BYTES) &&
	    (sk->err = flush_batch(st)) < 0)
		return 1;
	return 0;
}

/*
 * SECURITY: the shards a non-administrator cannot read are not counted, and their completion
 * sends no event (the number of events would count them). False: no event for this shard.
 */
static bool progress_counts(const struct stream *st, uint64_t *done, uint64_t *total)
{
	const uint32_t *rb = st->readable_before;

	if (!rb || *done == 0 || *done > *total)
		return true;
	if (rb[*done] == rb[*done - 1])
		return false;
	*done = rb[*done];
	*total = rb[*total];
	return true;
}

static void on_progress(const struct search_progress *p, void *arg)
{
	struct stream *st = arg;
	uint64_t done = p->shards_done, total = p->shards_total;
	bool is_counted = progress_counts(st, &done, &total);
	char tmp[160];
	int err;
	int n = snprintf(tmp, sizeof(tmp),
			 "{\"shards_done\":%llu,\"shards_total\":%llu,\"matching_lines\":%llu,"
			 "\"files\":%llu}",
			 (unsigned long long)done, (unsigned long long)total,
			 (unsigned long long)p->matching_lines, (unsigned long long)p->files);

	if (!credential_holds(st))
		return;
	/* A shard's results (is_early) go out when the shard is done, before its progress. */
	if ((err = flush_batch(st)) < 0) {
		st->sink.err = err;
		atomic_store(&st->cancel, true);
		return;
	}
	if (is_counted && n > 0 && (size_t)n < sizeof(tmp))
		push_event(st, "progress", tmp, (size_t)n);
}

/* readable_before for a caller who is no administrator (see struct stream). ENOMEM. */
static int progress_map(struct stream *st)
{
	const struct index *ix = st->snap->ix;
	size_t n = index_n_shards(ix);

	if (st->who.is_admin)
		return 0;
	if (!(st->readable_before = calloc(n + 1, sizeof(*st->readable_before))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n; i++)
		st->readable_before[i + 1] =
			st->readable_before[i] +
			search_repos_has(st->readable, shard_repo(index_shard(ix, i)));
	return 0;
}

/* An alert event; one that cannot be sent ends the group (the client is gone or too slow). */
static int on_alert(struct search_sink *sk, enum search_alert a, const char *msg)
{
	struct stream *st = (struct stream *)sk;
	struct buf b;
	int err;

	buf_init(&b, 1 << 20);
	if ((err = handlers_alert_json(&b, a, msg)) == 0)
		err = push_event_as(st, "alert", b.ptr, b.len, true);
	buf_dispose(&b);
	return err < 0 ? 1 : 0;
}

/* The search has ended: whether the client is still there (a late one is a timeout). */
static void on_ended(struct search_sink *sk)
{
	struct stream *st = (struct stream *)sk;

	pthread_mutex_lock(&st->lock);
	sk->is_gone = st->is_gone || st->is_peer_gone ||
		      (atomic_load(&st->cancel) && !sk->is_late);
	pthread_mutex_unlock(&st->lock);
}

/* The files counted in the summary are all sent, also after a timeout. */
static void on_flush(struct search_sink *sk)
{
	flush_batch_as((struct stream *)sk, true);
}

static void *search_main(void *arg)
{
	struct stream *st = arg;
	struct search_stats stats;
	struct buf b;
	int err;

	buf_init(&b, 1 << 20);
	err = search_request_run(&stats, st->snap->ix, &st->srq, &st->sink);
	metrics_query(&st->s->metrics, stats.elapsed_ms / 1e3, err < 0);
	handlers_search_done(&st->who, st->qtext, &stats);
	if (stats.is_canceled)
		atomic_fetch_add(&st->s->metrics.canceled, 1);
	if (atomic_load(&st->is_revoked)) {
		static const char msg[] = "{\"error\":{\"code\":\"unauthorized\",\"message\":"
					  "\"the credential is no longer valid\"}}";

		push_event_as(st, "error", msg, sizeof(msg) - 1, true);
	} else if (err < 0) {
		unsigned status;

		if (handlers_query_error(&b, err, st->qtext, &status) == 0)
			push_event_as(st, "error", b.ptr, b.len, true);
	} else if (!stats.is_canceled) {
		buf_reset(&b);
		if (search_json_summary(&b, &stats, false) == 0)
			push_event_as(st, "done", b.ptr, b.len, true);
	}
	{
		struct logline l;

		log_begin(&l, "info", stats.is_canceled ? "stream canceled" : "stream finished");
		log_cstr(&l, "req", st->req_id);
		log_num(&l, "search_ms", stats.elapsed_ms);
		log_num(&l, "files", (double)stats.files);
		log_end(&l);
	}
	buf_dispose(&b);
	pthread_mutex_lock(&st->lock);
	st->is_done = true;
	wake_reader(st);
	pthread_mutex_unlock(&st->lock);
	atomic_fetch_sub(&st->s->searches, 1); /* the slot taken by the dispatcher */
	stream_unref(st);
	return NULL;
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *st = cls;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&st->lock);
	if (st->is_peer_gone) {
		pthread_mutex_unlock(&st->lock);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (st->out.len > st->off) {
		size_t avail = st->out.len - st->off;

		n = (ssize_t)(avail < max ? avail : max);
		memcpy(out, st->out.ptr + st->off, (size_t)n);
		st->off += (size_t)n;
		if (st->off == st->out.len) {
			buf_reset(&st->out);
			st->off = 0;
		}
		pthread_cond_broadcast(&st->cond);
	} else if (st->is_done) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		/* Nothing yet: park the connection until the search appends (wake_reader). */
		st->is_suspended = true;
		MHD_suspend_connection(st->conn);
		n = 0;
	}
	pthread_mutex_unlock(&st->lock);
	return n;
}

/* MHD is done with the response: the client read everything, or went away. */
static void reader_free(void *cls)
{
	struct stream *st = cls;

	atomic_store(&st->cancel, true);
	pthread_mutex_lock(&st->lock);
	st->is_gone = true;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	stream_unref(st);
}

/* Keeps the request's credential for credential_holds. ENOMEM. */
static int keep_credential(struct stream *st, const struct req *rq)
{
	const char *cookie = req_header_value(rq, MHD_HTTP_HEADER_COOKIE);
	const char *authorization = req_header_value(rq, MHD_HTTP_HEADER_AUTHORIZATION);

	st->kind = rq->caller.who.kind;
	st->user_id = rq->caller.who.user_id;
	st->checked_ms = clock_now_ms();
	snprintf(st->address, sizeof(st->address), "%s", rq->client_addr);
	if (!cookie || secret_cookie_value(st->cookie, cookie, AUTH_COOKIE_NAME) < 0)
		sodium_memzero(st->cookie, sizeof(st->cookie));
	if (authorization && !(st->authorization = strdup(authorization)))
		return error_nomem(NULL);
	return 0;
}

int stream_start(struct req *rq, struct query *q, unsigned context, const char *qtext)
{
	struct srv *s = rq->s;
	struct stream *st = calloc(1, sizeof(*st));
	struct MHD_Response *resp;
	pthread_t th;
	pthread_attr_t attr;

	if (!st || !(st->qtext = strdup(qtext))) {
		free(st);
		query_free(q);
		return req_error(rq, 500, "internal", "internal error", 0);
	}
	if (handlers_search_request(&st->srq, q, rq, true) < 0) {
		free(st->qtext);
		free(st);
		query_free(q);
		return TRAWL_EIO; /* fail closed: no readable set, no search */
	}
	atomic_init(&st->refs, 2); /* the search thread and the response */
	st->sink = (struct search_sink){ .file = on_file, .alert = on_alert, .ended = on_ended,
					 .flush = on_flush };
	st->s = s;
	st->conn = rq->conn;
	st->q = q;
	st->context = context;
	st->deadline_ms = clock_now_ms() +
			  (q->timeout_ms ? q->timeout_ms : QUERY_MAX_TIMEOUT_MS);
	handlers_search_who(&st->who, rq);
	/* The search thread may outlive the request: the stream holds the readable set. */
	st->readable = access_take_readable(&rq->caller);
	st->srq.opts.cancel = &st->cancel;
	st->srq.opts.progress = on_progress;
	st->srq.opts.progress_arg = st;
	st->srq.opts.is_early = true;
	st->snap = rq->snap; /* the search thread keeps the snapshot until it ends */
	rq->snap = NULL;
	memcpy(st->req_id, rq->id, sizeof(st->req_id));
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cond, NULL);
	buf_init(&st->out, BUF_MAX_DEFAULT);
	buf_init(&st->batch, BUF_MAX_DEFAULT);
	if (progress_map(st) < 0 || keep_credential(st, rq) < 0) {
		atomic_store(&st->refs, 1);
		stream_unref(st);
		return req_error(rq, 500, "internal", "internal error", 0);
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, reader, st,
						 reader_free);
	if (!resp) {
		atomic_store(&st->refs, 1);
		stream_unref(st);
		return req_error(rq, 500, "internal", "internal error", 0);
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream; charset=utf-8");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	pthread_mutex_lock(&s->streams_lock);
	st->next = s->streams;
	if (s->streams)
		s->streams->prev = st;
	s->streams = st;
	pthread_mutex_unlock(&s->streams_lock);
	/* The search slot now belongs to the search thread (released in search_main). */
	rq->is_search_slot = false;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, search_main, st) != 0) {
		pthread_attr_destroy(&attr);
		atomic_fetch_sub(&s->searches, 1);
		MHD_destroy_response(resp); /* calls reader_free: one reference */
		stream_unref(st);
		return req_error(rq, 500, "internal", "internal error", 0);
	}
	pthread_attr_destroy(&attr);
	rq->status = 200;
	req_respond(rq, resp);
	return 0;
}

/* Marks streams whose client hung up while suspended, and wakes them so MHD closes them. */
static void tick(struct srv *s, bool is_all)
{
	pthread_mutex_lock(&s->streams_lock);
	for (struct stream *st = s->streams; st; st = st->next) {
		pthread_mutex_lock(&st->lock);
		if (st->is_suspended && !st->is_gone) {
			const union MHD_ConnectionInfo *ci =
				MHD_get_connection_info(st->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
			struct pollfd pfd = { ci ? ci->connect_fd : -1, POLLRDHUP, 0 };

			/* The fd is MHD's and stays open while the connection is suspended. */
			if (is_all || (pfd.fd >= 0 && poll(&pfd, 1, 0) > 0 &&
				       (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))) {
				st->is_peer_gone = true;
				atomic_store(&st->cancel, true);
				wake_reader(st);
			}
		}
		if (is_all)
			atomic_store(&st->cancel, true);
		pthread_mutex_unlock(&st->lock);
	}
	pthread_mutex_unlock(&s->streams_lock);
}

void streams_cancel_all(struct srv *s)
{
	tick(s, true);
}

static void *ticker_main(void *arg)
{
	struct srv *s = arg;
	struct timespec ts = { 0, TICK_MS * 1000000L };

	while (!atomic_load(&s->is_stopping)) {
		nanosleep(&ts, NULL);
		tick(s, false);
	}
	return NULL;
}

int stream_ticker_start(struct srv *s, pthread_t *th)
{
	if (pthread_create(th, NULL, ticker_main, s) != 0) {
		error_set("cannot start the stream ticker thread");
		return TRAWL_ENOMEM;
	}
	return 0;
}
