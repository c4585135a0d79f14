/*
 * The search routes (docs/api.md, "Search" and "Streaming search"): their parameters, the
 * server's search request, and the JSON answer's sink; the stream's sink is stream.c. Both run
 * search_request_run (src/search/request.c), the path every search takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"
#include "search/request.h"
#include "search/search_json.h"
#include "server/access.h"
#include "server/redact.h"
#include "server/server_int.h"
#include "util/error.h"
#include "util/json.h"

#define Q_MAX 4096
#define CONTEXT_MAX 10

static unsigned search_threads(struct srv *s, bool is_stream)
{
	/*
	 * A JSON search runs on one thread: thread start-up and hand-offs cost more than
	 * splitting saves on selective queries (bench/design-measurements.md). A stream (the
	 * UI's exhaustive searches) that runs alone may use every core.
	 */
	return is_stream && atomic_load(&s->searches) <= 1 ? s->n_cpus : 1;
}

int handlers_search_request(struct search_request *out, const struct query *q, struct req *rq,
			    bool is_stream)
{
	*out = (struct search_request){
		.readable = access_readable_repos(&rq->caller),
		.opts = { .query = q, .want_lines = true, .want_ranges = true,
			  .is_resident = true, .mem_limit = rq->s->query_mem,
			  .n_threads = search_threads(rq->s, is_stream) },
	};
	if (!out->readable) {
		error_set("the readable repositories cannot be computed");
		return TRAWL_EIO;
	}
	return 0;
}

void handlers_search_who(struct search_who *out, const struct req *rq)
{
	const struct access_caller *c = &rq->caller;

	*out = (struct search_who){ .auth = rq->s->auth,
				    .is_audited = c->who.kind != AUTH_LOCAL,
				    .is_admin = access_is_admin(c) };
	memcpy(out->actor, c->who.name, sizeof(out->actor));
	snprintf(out->address, sizeof(out->address), "%s", c->address ? c->address : "");
}

void handlers_search_done(const struct search_who *w, const char *qtext,
			  struct search_stats *st)
{
	struct buf d;
	char *q;
	int err;

	/* SECURITY: the index's shard count would tell how much the caller cannot read. */
	if (!w->is_admin)
		st->shards_total = st->shards_searched;
	if (!w->is_audited)
		return;
	buf_init(&d, BUF_MAX_DEFAULT);
	if (!(q = redact_tokens(qtext, strlen(qtext))) || (err = buf_puts(&d, "{\"query\":")) < 0 ||
	    (err = json_put_string(&d, q, strlen(q), NULL)) < 0 ||
	    (err = buf_printf(&d, ",\"results\":%llu,\"matching_lines\":%llu,\"ms\":%.0f}",
			      (unsigned long long)st->files, (unsigned long long)st->lines,
			      st->elapsed_ms)) < 0 ||
	    (err = auth_audit(w->auth, "search", w->actor, "", w->address, d.ptr)) < 0)
		log_msg("error", "cannot audit a search", "error",
			q ? error_last() : "out of memory");
	free(q);
	buf_dispose(&d);
}

int handlers_query_error(struct buf *b, int err, const char *qtext, unsigned *status)
{
	size_t pos = error_pos(), column = 0;
	const char *msg = error_last();
	const char *code = "bad_query";

	/* A query's 4xx is always a bad query (400); anything else hides its detail. */
	*status = route_error_of(err)->status < 500 ? 400 : 500;
	if (*status == 500) {
		code = "internal";
		msg = "internal error";
		pos = (size_t)-1;
	}
	if (pos != (size_t)-1 && qtext && pos <= strlen(qtext)) {
		column = 1;
		for (size_t i = 0; i < pos; i++)
			column += ((unsigned char)qtext[i] & 0xc0) != 0x80;
	}
	if (!msg[0])
		msg = error_name(err);
	buf_reset(b);
	if (buf_puts(b, "{\"error\":{\"code\":\"") < 0 || buf_puts(b, code) < 0 ||
	    buf_puts(b, "\",\"message\":") < 0 || json_put_string(b, msg, strlen(msg), NULL) < 0)
		return TRAWL_ENOMEM;
	if (column && buf_printf(b, ",\"column\":%zu", column) < 0)
		return TRAWL_ENOMEM;
	return buf_puts(b, "}}");
}

int handlers_alert_json(struct buf *b, enum search_alert a, const char *msg)
{
	int err;

	if ((err = buf_puts(b, "{\"kind\":\"")) < 0 || (err = buf_puts(b, search_alert_kind(a))) < 0 ||
	    (err = buf_puts(b, "\",\"reason\":\"")) < 0 ||
	    (err = buf_puts(b, search_alert_reason(a))) < 0 ||
	    (err = buf_puts(b, "\",\"message\":")) < 0 ||
	    (err = json_put_string(b, msg, strlen(msg), NULL)) < 0)
		return err;
	return buf_putc(b, '}');
}

int handlers_alert_append(struct buf *alerts, enum search_alert a, const char *msg)
{
	int err;

	if (alerts->len && (err = buf_putc(alerts, ',')) < 0)
		return err;
	return handlers_alert_json(alerts, a, msg);
}

int handlers_q_param(const char **qtext, struct req *rq)
{
	size_t len;
	int err;

	if ((err = req_param(qtext, &len, rq, "q")) < 0)
		return err;
	if (!*qtext || len == 0) {
		error_set("the q parameter is required");
		return TRAWL_EINVAL;
	}
	if (len > Q_MAX) {
		error_set("q is over 4096 bytes");
		return TRAWL_EINVAL;
	}
	return 0;
}

int handlers_q_parse(struct query **q, const char *qtext, struct req *rq)
{
	unsigned status;
	int err;

	if ((err = query_parse(q, qtext, strlen(qtext))) == 0)
		return 0;
	metrics_query(&rq->s->metrics, 0, true);
	if ((err = handlers_query_error(&rq->body, err, qtext, &status)) < 0)
		return err;
	rq->status = status;
	rq->ctype = "application/json; charset=utf-8";
	return 1;
}

/*
 * Parses the q and context parameters shared by both search routes. 1: the query does not
 * parse, and rq holds its 400 answer (with the column).
 */
static int search_params(struct query **q, const char **qtext, unsigned *context, struct req *rq)
{
	const char *v;
	size_t len;
	int err;

	*q = NULL;
	*context = 0;
	if ((err = handlers_q_param(qtext, rq)) < 0 ||
	    (err = req_param(&v, &len, rq, "context")) < 0)
		return err;
	if (v) {
		if (len == 0 || len > 2 || v[0] < '0' || v[0] > '9' ||
		    (len == 2 && (v[1] < '0' || v[1] > '9')) ||
		    (unsigned)strtoul(v, NULL, 10) > CONTEXT_MAX) {
			error_set("context must be a number from 0 to 10");
			return TRAWL_EINVAL;
		}
		*context = (unsigned)strtoul(v, NULL, 10);
	}
	return handlers_q_parse(q, *qtext, rq);
}

/* ---- /api/v1/search ---- */

/* The JSON answer's sink: results into the body, alerts aside until the summary is written. */
struct json_sink {
	struct search_sink sink; /* first: the request hands it back */
	struct buf *b;
	struct buf alerts;
	unsigned context;
	/*
	 * The most the JSON answer holds (a quarter of the query memory limit): past it the
	 * results stop with a "limit" alert. The stream has no such cap: its client reads as it
	 * goes.
	 */
	size_t max;
	size_t n;
};

static int json_file(struct search_sink *sk, const struct search_file *f)
{
	struct json_sink *js = (struct json_sink *)sk;
	struct search_json_opts jo = { .context = js->context };
	size_t mark = js->b->len;

	if (mark >= js->max) {
		sk->is_full = true;
		return 1;
	}
	if ((js->n && (sk->err = buf_putc(js->b, ',')) < 0) ||
	    (sk->err = search_json_file(js->b, f, &jo)) < 0) {
		if (sk->err != TRAWL_ELIMIT)
			return 1;
		/* One file over the buffer's own maximum: drop it whole and stop there. */
		js->b->len = mark;
		sk->err = 0;
		sk->is_full = true;
		return 1;
	}
	js->n++;
	return 0;
}

static int json_alert(struct search_sink *sk, enum search_alert a, const char *msg)
{
	return handlers_alert_append(&((struct json_sink *)sk)->alerts, a, msg);
}

/* What a JSON search needs on its search thread. */
struct search_work {
	struct query *q;
	const char *qtext; /* a parameter of the request */
	unsigned context;
};

void handlers_search_failed(struct req *rq, int err, const char *qtext)
{
	unsigned status = 500;

	if (handlers_query_error(&rq->body, err, qtext, &status) < 0)
		req_error(rq, 500, "internal", "internal error", 0);
	else
		rq->status = status;
	if (status >= 500) {
		struct logline l;

		log_begin(&l, "error", "search failed");
		log_cstr(&l, "req", rq->id);
		log_cstr(&l, "error", error_last());
		log_end(&l);
	}
}

/*
 * The search, then the whole answer in rq->body: on the HTTP thread within rq->inline_budget_ms
 * (EAGAIN: not done, nothing answered), or on a search thread (req_defer).
 */
static int run_search(struct req *rq)
{
	struct search_work *sw = rq->work;
	struct search_request srq;
	struct search_stats st;
	struct search_who who;
	struct json_sink js = { .sink = { .file = json_file, .alert = json_alert },
				.b = &rq->body, .context = sw->context,
				.max = rq->s->query_mem / 4 };
	int err;

	if ((err = handlers_search_request(&srq, sw->q, rq, false)) < 0) {
		req_fail(rq, err);
		err = 0;
		goto out_early;
	}
	srq.opts.cancel = &rq->s->is_stopping;
	srq.opts.budget_ms = rq->inline_budget_ms;
	buf_init(&js.alerts, BUF_MAX_DEFAULT);
	buf_reset(&rq->body);
	buf_puts(&rq->body, "{\"results\":[");
	err = server_search_run(rq->s, rq->snap, &st, &srq, &js.sink, sw->qtext,
				sw->context);
	if (err == TRAWL_EAGAIN && rq->inline_budget_ms > 0) {
		buf_reset(&rq->body);
		buf_dispose(&js.alerts);
		return err; /* the caller runs it again on a search thread */
	}
	metrics_query(&rq->s->metrics, st.elapsed_ms / 1e3, err != 0);
	handlers_search_who(&who, rq);
	handlers_search_done(&who, sw->qtext, &st);
	if (err != 0) {
		handlers_search_failed(rq, err, sw->qtext);
		err = 0;
		goto out;
	}
	if ((err = buf_puts(&rq->body, "],\"summary\":")) < 0 ||
	    (err = search_json_summary(&rq->body, &st, false)) < 0 ||
	    (err = buf_puts(&rq->body, ",\"alerts\":[")) < 0 ||
	    (err = buf_put(&rq->body, js.alerts.ptr, js.alerts.len)) < 0 ||
	    (err = buf_puts(&rq->body, "]}")) < 0) {
		buf_reset(&rq->body);
		goto out;
	}
	rq->status = 200;
out:
	buf_dispose(&js.alerts);
out_early:
	query_free(sw->q);
	free(sw);
	rq->work = NULL;
	return err;
}

int handlers_search(struct req *rq)
{
	struct search_work *sw = calloc(1, sizeof(*sw));
	int err;

	if (!sw)
		return error_nomem(NULL);
	if ((err = search_params(&sw->q, &sw->qtext, &sw->context, rq)) != 0) {
		free(sw);
		return err < 0 ? err : 0;
	}
	rq->work = sw;
	return req_try_inline(rq, run_search);
}

int handlers_search_stream(struct req *rq)
{
	struct query *q = NULL;
	const char *qtext;
	unsigned context;
	int err;

	if ((err = search_params(&q, &qtext, &context, rq)) != 0)
		return err < 0 ? err : 0;
	return stream_start(rq, q, context, qtext); /* takes q */
}
