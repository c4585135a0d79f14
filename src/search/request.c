/* One search request for every front end (request.h). */
#include "search/request.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "search/search_json.h"
#include "util/error.h"

/* The closing alerts' messages (docs/api.md); the warnings bring their own. */
static const char msg_count[] = "the result limit stopped the search (count:all for every result)";
static const char msg_memory[] = "the memory limit of one query stopped the search; the results "
				 "are those found before it (narrow the query)";
static const char msg_output[] = "the response size limit stopped the results; the streaming API "
				 "(/api/v1/search/stream) has none";
static const char msg_repo_none[] = "repo: matches no repository you can read: no results";
static const char msg_timeout[] = "the time limit stopped the search; the results are those "
				  "found in time";

const char *search_alert_kind(enum search_alert a)
{
	switch (a) {
	case SEARCH_ALERT_WARNING:
	case SEARCH_ALERT_REV:
	case SEARCH_ALERT_SYMBOLS:
	case SEARCH_ALERT_REPO_NONE:
	case SEARCH_ALERT_PARTIAL:
		return "warning";
	case SEARCH_ALERT_TIMEOUT:
		return "timeout";
	case SEARCH_ALERT_COUNT:
	case SEARCH_ALERT_MEMORY:
	case SEARCH_ALERT_OUTPUT:
		break;
	}
	return "limit";
}

const char *search_alert_reason(enum search_alert a)
{
	switch (a) {
	case SEARCH_ALERT_WARNING:
		return "query";
	case SEARCH_ALERT_REV:
		return "rev";
	case SEARCH_ALERT_SYMBOLS:
		return "symbols";
	case SEARCH_ALERT_REPO_NONE:
		return "repo";
	case SEARCH_ALERT_PARTIAL:
		return "partial";
	case SEARCH_ALERT_TIMEOUT:
		return "timeout";
	case SEARCH_ALERT_COUNT:
		return "count";
	case SEARCH_ALERT_MEMORY:
		return "memory";
	case SEARCH_ALERT_OUTPUT:
		break;
	}
	return "output";
}

/* Between the search and the sink: select: and count: over the selected results. */
struct relay {
	struct search_sink *sk;
	struct search_select sel;
	bool is_raw;         /* search_request.is_select_raw */
	uint64_t count;      /* selected results to hand on; 0: the search's own limit applies */
	uint64_t n;          /* selected results handed on */
	bool is_count_hit;   /* one more selected result was found after count: */
	uint64_t cut_lines;  /* the matching lines of that result, not handed on */
};

static int relay_file(const struct search_file *f, void *arg)
{
	struct relay *rl = arg;
	struct search_file g;
	bool is_new = search_select_apply(&rl->sel, &g, f);

	if (!is_new && !rl->is_raw)
		return 0;
	if (is_new && rl->count && rl->n == rl->count) {
		rl->is_count_hit = true;
		rl->cut_lines = f->n_lines;
		return 1;
	}
	rl->n += is_new;
	if (rl->is_raw) {
		g = *f;
		g.lines = NULL; /* counted, not shown: n_lines stays */
		g.content = NULL;
		g.content_len = 0;
	}
	return rl->sk->file(rl->sk, &g);
}

static int put_warnings(struct search_sink *sk, const struct query *q)
{
	int err = 0;

	for (size_t i = 0; q && i < q->n_warnings && !err; i++)
		err = sk->alert(sk, SEARCH_ALERT_WARNING, q->warnings[i]);
	return err;
}

/* The closing alerts, in their documented order; st is the search's, before the sink's limit. */
static int put_closing_alerts(struct search_sink *sk, const struct search_stats *st)
{
	int err = 0;

	if (st->is_repo_none)
		err = sk->alert(sk, SEARCH_ALERT_REPO_NONE, msg_repo_none);
	if (!err && st->rev_missing)
		err = sk->alert(sk, SEARCH_ALERT_REV, st->rev_warning);
	if (!err && st->symbols_missing)
		err = sk->alert(sk, SEARCH_ALERT_SYMBOLS, st->symbols_warning);
	if (!err && st->is_limit_hit)
		err = sk->alert(sk, SEARCH_ALERT_COUNT, msg_count);
	if (!err && st->is_mem_limit)
		err = sk->alert(sk, SEARCH_ALERT_MEMORY, msg_memory);
	if (!err && sk->is_full)
		err = sk->alert(sk, SEARCH_ALERT_OUTPUT, msg_output);
	if (!err && st->is_timeout)
		err = sk->alert(sk, SEARCH_ALERT_TIMEOUT, msg_timeout);
	if (!err && st->partial_searchers) {
		char msg[200];

		/* SECURITY: how many, never which: the caller may not know the others exist. */
		if (st->partial_repos)
			snprintf(msg, sizeof(msg),
				 "%llu of the repositories searched did not answer in time: the "
				 "results are partial",
				 (unsigned long long)st->partial_repos);
		else
			snprintf(msg, sizeof(msg),
				 "%llu searcher%s did not answer in time: the results are partial",
				 (unsigned long long)st->partial_searchers,
				 st->partial_searchers == 1 ? "" : "s");
		err = sk->alert(sk, SEARCH_ALERT_PARTIAL, msg);
	}
	return err;
}

/*
 * With select:, count:N counts the selected results (N files or repositories, as Sourcegraph
 * does), not the matching lines behind them: the search runs without a limit of its own and
 * the relay stops it at the first selected result past N. --limit keeps counting lines.
 */
static void apply_select_count(struct relay *rl, struct search_opts *o)
{
	const struct query *q = o->query;

	/* select:symbol is a symbol search: its count: counts symbols already. */
	if (!q || q->select == QS_NONE || q->select == QS_SYMBOL || o->limit || !q->count)
		return;
	rl->count = q->count;
	o->limit = UINT64_MAX;
}

int search_request_run(struct search_stats *stats, const struct index *ix,
		       const struct search_request *rq, struct search_sink *sk)
{
	struct search_opts o = rq->opts;
	struct relay rl = { .sk = sk, .is_raw = rq->is_select_raw };
	int err;

	if (!rq->readable) {
		memset(stats, 0, sizeof(*stats));
		error_set("internal error: a search request without the caller's readable set");
		return TRAWL_EINVAL;
	}
	search_select_init(&rl.sel, o.query ? o.query->select : QS_NONE);
	apply_select_count(&rl, &o);
	if ((err = put_warnings(sk, o.query)) < 0) {
		memset(stats, 0, sizeof(*stats));
		goto out;
	}
	err = rq->run ? rq->run(rq->run_ctx, stats, rq->readable, &o, relay_file, &rl)
		      : search_run(stats, ix, rq->readable, &o, relay_file, &rl);
	if (err == TRAWL_EAGAIN)
		goto out;
	if (sk->ended)
		sk->ended(sk);
	if (rl.is_count_hit) {
		/* The search counted the result the relay refused. */
		stats->files--;
		stats->lines -= rl.cut_lines;
		stats->is_limit_hit = true;
	}
	if (sk->is_late) {
		/* The receiver read too slowly for the deadline: a timeout, not an error. */
		stats->is_timeout = true;
		err = err < 0 ? err : 0;
	} else if (err > 0) {
		err = sk->err < 0 && !sk->is_gone ? sk->err : 0;
	}
	stats->is_canceled = sk->is_gone || (stats->is_canceled && !sk->is_late);
	if (err < 0 || sk->is_gone)
		goto out;
	if (sk->flush)
		sk->flush(sk);
	err = put_closing_alerts(sk, stats);
	/* The summary's limit_hit covers every limit; the alerts say which. */
	stats->is_limit_hit |= sk->is_full;
	if (err > 0)
		err = 0;
out:
	search_select_dispose(&rl.sel);
	return err;
}
