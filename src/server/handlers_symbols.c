/*
 * GET /api/v1/symbols?q=QUERY[&count=N] (docs/api.md, "Symbols"): a symbol search, QUERY in the
 * query language with type:symbol implied, answered as one flat list of symbols:
 *
 *   {"symbols":[{"repo","path","line","name","kind","symbol_kind","scope","scope_kind",
 *                "lang","signature","text"}...],"limit_hit":bool,"alerts":[...]}
 *
 * It is a search like /api/v1/search: the same request (handlers_search_request: the caller's
 * readable repositories, the memory limit), the same path (search_request_run), the same audit,
 * the same try on the HTTP thread before a search thread. The UI's symbol suggestions and its
 * "go to definition" read it.
 */
#include <stdlib.h>
#include <string.h>

#include "query/query.h"
#include "search/request.h"
#include "search/search_json.h"
#include "server/server_int.h"
#include "util/error.h"

struct sym_sink {
	struct search_sink sink; /* first: the request hands it back */
	struct buf *b;
	struct buf alerts;
	size_t max; /* the most the answer holds: a quarter of the query memory limit */
	size_t n;
};

static int sym_file(struct search_sink *sk, const struct search_file *f)
{
	struct sym_sink *ss = (struct sym_sink *)sk;

	for (size_t i = 0; i < f->n_symbols; i++) {
		size_t mark = ss->b->len;

		if (mark >= ss->max) {
			sk->is_full = true;
			return 1;
		}
		if ((ss->n && (sk->err = buf_putc(ss->b, ',')) < 0) ||
		    (sk->err = search_json_symbol(ss->b, &f->symbols[i], f->repo, f->path,
						  f->path_len)) < 0) {
			ss->b->len = mark;
			if (sk->err == TRAWL_ELIMIT) {
				sk->err = 0;
				sk->is_full = true;
			}
			return 1;
		}
		ss->n++;
	}
	return 0;
}

static int sym_alert(struct search_sink *sk, enum search_alert a, const char *msg)
{
	return handlers_alert_append(&((struct sym_sink *)sk)->alerts, a, msg);
}

struct sym_work {
	struct query *q;
	const char *qtext; /* a parameter of the request */
};

static int run_symbols(struct req *rq)
{
	struct sym_work *sw = rq->work;
	struct search_request srq;
	struct search_stats st;
	struct search_who who;
	struct sym_sink ss = { .sink = { .file = sym_file, .alert = sym_alert }, .b = &rq->body,
			       .max = rq->s->query_mem / 4 };
	int err;

	/* SECURITY: the caller's readable set, exactly as /api/v1/search gets it. */
	if ((err = handlers_search_request(&srq, sw->q, rq, false)) < 0) {
		req_fail(rq, err);
		err = 0;
		goto out_early;
	}
	srq.opts.want_ranges = false;
	srq.opts.cancel = &rq->s->is_stopping;
	srq.opts.budget_ms = rq->inline_budget_ms;
	buf_init(&ss.alerts, BUF_MAX_DEFAULT);
	buf_reset(&rq->body);
	buf_puts(&rq->body, "{\"symbols\":[");
	err = server_search_run(rq->s, rq->snap, &st, &srq, &ss.sink, sw->qtext, 0);
	if (err == TRAWL_EAGAIN && rq->inline_budget_ms > 0) {
		buf_reset(&rq->body);
		buf_dispose(&ss.alerts);
		return err; /* run again on a search thread */
	}
	metrics_query(&rq->s->metrics, st.elapsed_ms / 1e3, err != 0);
	handlers_search_who(&who, rq);
	handlers_search_done(&who, sw->qtext, &st);
	if (err != 0) {
		handlers_search_failed(rq, err, sw->qtext);
		err = 0;
		goto out;
	}
	if ((err = buf_puts(&rq->body, "],\"limit_hit\":")) < 0 ||
	    (err = buf_puts(&rq->body, st.is_limit_hit || st.is_mem_limit ? "true" : "false")) < 0 ||
	    (err = buf_puts(&rq->body, ",\"alerts\":[")) < 0 ||
	    (err = buf_put(&rq->body, ss.alerts.ptr, ss.alerts.len)) < 0 ||
	    (err = buf_puts(&rq->body, "]}")) < 0) {
		buf_reset(&rq->body);
		goto out;
	}
	rq->status = 200;
	rq->ctype = "application/json; charset=utf-8";
out:
	buf_dispose(&ss.alerts);
out_early:
	query_free(sw->q);
	free(sw);
	rq->work = NULL;
	return err;
}

/* count=N: 1 to QUERY_MAX_COUNT, digits only. */
static int parse_count(uint64_t *out, const char *v, size_t len)
{
	uint64_t c = 0;

	if (len == 0 || len > 7)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			goto bad;
		c = c * 10 + (uint64_t)(v[i] - '0');
	}
	if (c == 0 || c > QUERY_MAX_COUNT)
		goto bad;
	*out = c;
	return 0;
bad:
	error_set("count must be a number from 1 to %d", QUERY_MAX_COUNT);
	return TRAWL_EINVAL;
}

int handlers_symbols(struct req *rq)
{
	struct sym_work *sw;
	const char *qtext, *v;
	size_t vlen;
	uint64_t count = 0;
	int err;

	if ((err = handlers_q_param(&qtext, rq)) < 0 ||
	    (err = req_param(&v, &vlen, rq, "count")) < 0)
		return err;
	if (v && (err = parse_count(&count, v, vlen)) < 0)
		return err;
	if (!(sw = calloc(1, sizeof(*sw))))
		return error_nomem(NULL);
	sw->qtext = qtext;
	if ((err = handlers_q_parse(&sw->q, qtext, rq)) != 0) {
		free(sw);
		return err < 0 ? err : 0;
	}
	if (sw->q->type == QT_PATH || sw->q->type == QT_REPO) {
		error_set_at(0, "/api/v1/symbols searches symbols: type:path and type:repo do not "
				"apply");
		handlers_search_failed(rq, TRAWL_EINVAL, qtext);
		query_free(sw->q);
		free(sw);
		return 0;
	}
	sw->q->type = QT_SYMBOL; /* implied */
	if (count)
		sw->q->count = count;
	rq->work = sw;
	return req_try_inline(rq, run_symbols);
}
