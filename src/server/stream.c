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
 *
 * SECURITY: a stream outlives the checks of its request, so it repeats them while it runs, at
 * most every RECHECK_MS, on the search thread (which calls every sink callback, and waits for
 * a slow reader in push_event_as): the credential (a revoked token or a disabled user ends it
 * with "unauthorized") and the readable set (a repository it searches and may no longer read
 * ends it with "forbidden" as soon as a result of that repository would go out). Either way
 * the events not yet handed to MHD are dropped.
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
#include "server/stream_acl.h"
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
	uint64_t progress_done;     /* the shards done at the last progress (progress_counts) */
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
	atomic_bool is_forbidden; /* a result of a lost repository was due: ended, "forbidden" */
	bool allow_anonymous;     /* the server's, for the caller's readable set */
	/*
	 * The caller's readable set as last seen (access_holds; NULL: still the request's) and
	 * the repositories of the index in readable and not in seen: while there are any, a
	 * result of one of them ends the stream, their shards send no progress, and the counts
	 * of progress events stay those last sent (they would count those repositories' matches).
	 */
	const struct search_repos *seen;
	struct stream_acl_lost lost;
	uint64_t sent_lines, sent_files; /* the counts of the last progress event */
	struct stream_acl_sent sent;     /* the results handed on (on_file) */
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
	if (st->seen)
		auth_repos_release(st->who.auth, st->seen);
	stream_acl_lost_dispose(&st->lost);
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

static bool credential_holds(struct stream *st);

/* Whether a check (credential_holds) ended the stream. */
static bool is_ended(struct stream *st)
{
	return atomic_load(&st->is_revoked) || atomic_load(&st->is_forbidden);
}

/* Waits on st->cond for at most ms milliseconds (st->lock held). */
static void wait_ms(struct stream *st, double ms)
{
	long long ns = (long long)(ms * 1e6) + 1;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ns / 1000000000LL);
	ts.tv_nsec += (long)(ns % 1000000000LL);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&st->cond, &st->lock, &ts);
}

/*
 * Appends an event (route_sse_event). While too much is unsent the search thread waits, and
 * so the search does (search.c keeps its workers within a window of the output): memory per
 * stream stays near OUT_MAX. The wait ends at the query's deadline (ETIMEOUT): the last events
 * (is_final) are then appended whatever the backlog, being small and few. A slow reader would
 * otherwise keep the backlog of a caller whose access ended flowing: the wait checks it too
 * (ECANCELED once it failed).
 */
static int push_event_as(struct stream *st, const char *name, const char *data, size_t len,
			 bool is_final)
{
	int err = 0;

	pthread_mutex_lock(&st->lock);
	while (!is_final && !st->is_gone && !is_ended(st) && st->out.len - st->off > OUT_MAX) {
		double now = clock_now_ms(), left = st->deadline_ms - now;
		double to_check = st->checked_ms + RECHECK_MS - now;

		if (left <= 0) {
			st->sink.is_late = true;
			pthread_mutex_unlock(&st->lock);
			return TRAWL_ETIMEOUT;
		}
		if (to_check <= 0) {
			/* The check reads the accounts and may drop the backlog: without the lock. */
			pthread_mutex_unlock(&st->lock);
			credential_holds(st);
			pthread_mutex_lock(&st->lock);
			continue;
		}
		wait_ms(st, left < to_check ? left : to_check);
	}
	if (st->is_gone || (!is_final && is_ended(st))) {
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
 * Drops the events not yet handed to MHD but the one it has begun (st->lock held): a stream
 * ended by a check sends nothing more than its error event.
 */
static void drop_unsent(struct stream *st)
{
	size_t cut = st->off;
	const char *end;

	if (cut > 0 && !(cut >= 2 && st->out.ptr[cut - 1] == '\n' && st->out.ptr[cut - 2] == '\n')) {
		/* An event ends with a blank line, and a JSON event holds no other. */
		end = memmem(st->out.ptr + cut - 1, st->out.len - cut + 1, "\n\n", 2);
		cut = end ? (size_t)(end - st->out.ptr) + 2 : st->out.len;
	}
	st->out.len = cut;
	pthread_cond_broadcast(&st->cond);
}

/* Ends the stream after a failed check (is_revoked or is_forbidden set): false. */
static bool stream_end(struct stream *st)
{
	atomic_store(&st->cancel, true);
	pthread_mutex_lock(&st->lock);
	drop_unsent(st);
	pthread_mutex_unlock(&st->lock);
	return false;
}

static bool forbid(struct stream *st)
{
	atomic_store(&st->is_forbidden, true);
	return stream_end(st);
}

/* Whether the stream may send repo's results and progress (see struct stream). */
static bool is_sendable(const struct stream *st, const char *repo)
{
	return search_repos_has(st->readable, repo) &&
	       (st->lost.n == 0 || search_repos_has(st->seen, repo));
}

/*
 * readable_before (see struct stream) over the repositories the stream may send: none for an
 * administrator who lost nothing, who sees the index's own counts. ENOMEM.
 */
static int progress_map(struct stream *st)
{
	const struct index *ix = st->snap ? st->snap->ix : NULL;
	size_t n = ix ? index_n_shards(ix) : 0;
	uint32_t *rb = NULL;

	/* A cluster's frontend has no shards: its fan-out reports no progress (cluster.md). */
	if (ix && (!st->who.is_admin || st->lost.n)) {
		if (!(rb = calloc(n + 1, sizeof(*rb))))
			return error_nomem(NULL);
		for (size_t i = 0; i < n; i++)
			rb[i + 1] = rb[i] + is_sendable(st, index_shard_repo(ix, i));
	}
	free(st->readable_before);
	st->readable_before = rb;
	return 0;
}

/* Whether results of a lost repository wait in the output or the batch (under st->lock). */
static bool lost_pending(struct stream *st)
{
	bool is_pending = false;

	pthread_mutex_lock(&st->lock);
	if (st->out.len > st->off)
		is_pending =
			stream_acl_pending(&st->lost, st->out.ptr + st->off, st->out.len - st->off);
	pthread_mutex_unlock(&st->lock);
	return is_pending ||
	       (st->batch.len && stream_acl_pending(&st->lost, st->batch.ptr, st->batch.len));
}

/* The caller's readable set changed to now: which repositories of the stream it lost. */
static int note_lost(struct stream *st, const struct search_repos *now)
{
	const struct index *ix = st->snap ? st->snap->ix : NULL;
	size_t n = ix ? index_n_shards(ix) : st->readable->n_names;
	const char **repos;
	int err;

	/*
	 * A cluster's frontend knows the repositories it searches only by the readable set: a
	 * caller who read every one and no longer does has lost some it cannot name (fail
	 * closed: the stream ends).
	 */
	if (!ix && st->readable->is_all && !now->is_all) {
		error_set("the caller no longer reads every repository");
		return TRAWL_EPERM;
	}
	if (!(repos = calloc(n ? n : 1, sizeof(*repos))))
		return error_nomem(NULL);
	for (size_t i = 0; i < n; i++)
		repos[i] = ix ? index_shard_repo(ix, i) : st->readable->names[i];
	if (st->seen)
		auth_repos_release(st->who.auth, st->seen);
	st->seen = now;
	if ((err = stream_acl_lost(&st->lost, st->readable, now, repos, n)) == 0)
		err = progress_map(st);
	free(repos);
	return err;
}

/*
 * SECURITY: whether p may still read what the stream sends. The readable set is cached per
 * generation of the accounts (auth_readable_repos), so an unchanged one is the very set seen
 * last time, and only a change costs a comparison. A stream whose set grew, or lost only
 * repositories it does not search, goes on; one that lost a repository whose results wait to
 * be sent ends now, and otherwise when such a result is due (on_file): a repository the
 * query's filters exclude never has one. Any failure ends the stream (fail closed).
 */
static bool access_holds(struct stream *st, const struct auth_principal *p)
{
	const struct search_repos *was = st->seen ? st->seen : st->readable, *now;

	if (auth_readable_repos(&now, st->who.auth, p, st->allow_anonymous) < 0)
		return forbid(st);
	if (now == was) {
		auth_repos_release(st->who.auth, now);
		return true;
	}
	if (note_lost(st, now) < 0 || (st->lost.n && lost_pending(st)))
		return forbid(st);
	return true;
}

/*
 * SECURITY: whether the stream's credential still identifies its caller and its access still
 * covers what it sends (access_holds), checked at most every RECHECK_MS from the search thread.
 * A stream outlives the checks at its start: without this, a revoked token, a disabled user or
 * a revoked grant kept receiving results until the search ended. False also cancels the search.
 */
static bool credential_holds(struct stream *st)
{
	struct auth_origin from = { .address = st->address };
	struct auth_principal now;
	double t = clock_now_ms();
	bool is_same, holds;
	int err;

	if (is_ended(st))
		return false;
	if (t - st->checked_ms < RECHECK_MS)
		return true;
	st->checked_ms = t;
	err = auth_identify(&now, st->s->auth, st->cookie[0] ? st->cookie : NULL, st->authorization,
			    &from);
	is_same = err == 0 && now.kind == st->kind && now.user_id == st->user_id;
	holds = is_same && access_holds(st, &now);
	sodium_memzero(&now, sizeof(now));
	if (is_same)
		return holds; /* access_holds ended the stream when it does not */
	atomic_store(&st->is_revoked, true);
	return stream_end(st);
}

static int on_file(struct search_sink *sk, const struct search_file *f)
{
	struct stream *st = (struct stream *)sk;
	struct search_json_opts jo = { .context = st->context };

	if (atomic_load(&st->cancel) || !credential_holds(st))
		return 1;
	if (st->lost.n && !search_repos_has(st->seen, f->repo)) {
		forbid(st);
		return 1;
	}
	if ((sk->err = buf_putc(&st->batch, st->n_batch++ ? ',' : '[')) < 0 ||
	    (sk->err = search_json_file(&st->batch, f, &jo)) < 0)
		return 1;
	st->sent.lines += f->n_lines;
	st->sent.files++;
	if ((st->n_batch >= BATCH_FILES || st->batch.len >= BATCH_BYTES) &&
	    (sk->err = flush_batch(st)) < 0)
		return 1;
	return 0;
}

/*
 * SECURITY: the shards a non-administrator cannot read are not counted, and their completion
 * sends no event (the number of events would count them). False: no event for this shard.
 */
static bool progress_counts(struct stream *st, uint64_t *done, uint64_t *total)
{
	const uint32_t *rb = st->readable_before;
	uint64_t prev = st->progress_done;

	if (!rb || *done == 0 || *done > *total)
		return true;
	/*
	 * A job may finish several shards (a compound file's): an event when it finished a
	 * readable one, never one for unreadable shards alone.
	 */
	st->progress_done = *done;
	if (prev > *done || rb[*done] == rb[prev])
		return false;
	*done = rb[*done];
	*total = rb[*total];
	return true;
}

static void on_progress(const struct search_progress *p, void *arg)
{
	struct stream *st = arg;
	uint64_t done = p->shards_done, total = p->shards_total;
	bool is_counted;
	char tmp[160];
	int err, n;

	if (!credential_holds(st))
		return;
	/* A shard's results (is_early) go out when the shard is done, before its progress. */
	if ((err = flush_batch(st)) < 0) {
		st->sink.err = err;
		atomic_store(&st->cancel, true);
		return;
	}
	/* After the flush, whose wait for a slow reader may have seen the caller's access change. */
	is_counted = progress_counts(st, &done, &total);
	if (st->lost.n == 0) {
		st->sent_lines = p->matching_lines;
		st->sent_files = p->files;
	}
	n = snprintf(tmp, sizeof(tmp),
		     "{\"shards_done\":%llu,\"shards_total\":%llu,\"matching_lines\":%llu,"
		     "\"files\":%llu}",
		     (unsigned long long)done, (unsigned long long)total,
		     (unsigned long long)st->sent_lines, (unsigned long long)st->sent_files);
	if (is_counted && n > 0 && (size_t)n < sizeof(tmp))
		push_event(st, "progress", tmp, (size_t)n);
}

/* An alert event; one that cannot be sent ends the group (the client is gone or too slow). */
static int on_alert(struct search_sink *sk, enum search_alert a, const char *msg)
{
	struct stream *st = (struct stream *)sk;
	struct buf b;
	int err;

	/* It may name a repository the caller lost. */
	if (st->lost.n && a == SEARCH_ALERT_REV)
		return 0;
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

/* The summary of a stream that lost repositories (stream_acl_summary). */
static void summary_narrow(const struct stream *st, struct search_stats *stats)
{
	uint64_t shards = st->lost.n && st->readable_before
				  ? st->readable_before[index_n_shards(st->snap->ix)]
				  : 0;

	stream_acl_summary(stats, &st->lost, shards, &st->sent);
}

static void *search_main(void *arg)
{
	struct stream *st = arg;
	struct search_stats stats;
	struct buf b;
	int err;

	buf_init(&b, 1 << 20);
	err = server_search_run(st->s, st->snap, &stats, &st->srq, &st->sink, st->qtext,
				st->context);
	metrics_query(&st->s->metrics, stats.elapsed_ms / 1e3, err < 0);
	handlers_search_done(&st->who, st->qtext, &stats);
	if (stats.is_canceled)
		atomic_fetch_add(&st->s->metrics.canceled, 1);
	if (atomic_load(&st->is_revoked)) {
		static const char msg[] = "{\"error\":{\"code\":\"unauthorized\",\"message\":"
					  "\"the credential is no longer valid\"}}";

		push_event_as(st, "error", msg, sizeof(msg) - 1, true);
	} else if (atomic_load(&st->is_forbidden)) {
		static const char msg[] = "{\"error\":{\"code\":\"forbidden\",\"message\":"
					  "\"access to a repository of this search was withdrawn "
					  "while it ran\"}}";

		push_event_as(st, "error", msg, sizeof(msg) - 1, true);
	} else if (err < 0) {
		unsigned status;

		if (handlers_query_error(&b, err, st->qtext, &status) == 0)
			push_event_as(st, "error", b.ptr, b.len, true);
	} else if (!stats.is_canceled) {
		buf_reset(&b);
		summary_narrow(st, &stats);
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
	st->allow_anonymous = rq->caller.allow_anonymous;
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
