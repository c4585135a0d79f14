/*
 * One search request, whoever asks: the command line, the JSON API and the stream all run their
 * searches through search_request_run, and differ only in their sink (a printer, a JSON answer,
 * server-sent events). The request applies, in this one place, the caller's readable
 * repository set, select: (each repository or file once), count: over the selected kind, and
 * the alerts that tell what stopped a search.
 *
 * DESIGN: the sink receives results already projected by select: and counted, and alerts in a
 * fixed order: the query's warnings before the first result, then after the last result (and
 * sink.flush) the closing ones: repo: filters that match no readable repository, a revision that named no branch, repositories without symbols
 * (type:symbol), the count limit, the memory
 * limit, the sink's own output limit, the time limit, a cluster's missing searchers. A sink that stops early says why through
 * its fields (is_full, is_late, is_gone, err); the request turns that into stats and alerts.
 */
#ifndef TRAWL_SEARCH_REQUEST_H
#define TRAWL_SEARCH_REQUEST_H

#include <stdbool.h>

#include "search/search.h"

/* What an alert reports (docs/api.md, "alerts"). */
enum search_alert {
	SEARCH_ALERT_WARNING,    /* a warning of the query's parser */
	SEARCH_ALERT_REV,        /* rev: named no branch of some readable repositories */
	SEARCH_ALERT_COUNT,      /* count: (or --limit) stopped the search */
	SEARCH_ALERT_MEMORY,     /* search_opts.mem_limit stopped the search */
	SEARCH_ALERT_OUTPUT,     /* the sink's own size limit stopped the results (is_full) */
	SEARCH_ALERT_TIMEOUT,    /* timeout: stopped the search (or the sink, is_late) */
	SEARCH_ALERT_SYMBOLS,    /* type:symbol: some readable repositories have no symbols */
	SEARCH_ALERT_REPO_NONE,  /* the repo: filters match no readable repository */
	SEARCH_ALERT_PARTIAL,    /* a cluster's searchers did not all answer (stats.partial_*) */
};

/* The alert's kind as the API names it: "warning", "limit" or "timeout". */
const char *search_alert_kind(enum search_alert a);

/*
 * What the alert is about, one word a client can act on without reading the message ("count",
 * "repo", "rev", ...: docs/api.md, "alerts").
 */
const char *search_alert_reason(enum search_alert a);

/*
 * Where the results of a request go. A front end embeds it in its own state and fills in the
 * callbacks; the request hands the same pointer back.
 */
struct search_sink {
	/*
	 * A result, select: applied (f is the projected result, borrowed for the call). 0 to go
	 * on; nonzero to stop the search (say why in the fields below).
	 */
	int (*file)(struct search_sink *sk, const struct search_file *f);
	/*
	 * An alert with its message (borrowed for the call). 0 to go on; positive: send no more
	 * alerts of this group (the search still runs); negative: an error the request fails with.
	 */
	int (*alert)(struct search_sink *sk, enum search_alert a, const char *msg);
	/*
	 * Optional: called once the search has ended, before the request reads the fields below
	 * (a sink whose receiver may leave from another thread settles is_gone here).
	 */
	void (*ended)(struct search_sink *sk);
	/* Optional: after the last result of a search that ended well, before the closing alerts. */
	void (*flush)(struct search_sink *sk);
	/* Set by the sink, read by the request once the search has ended. */
	bool is_full;  /* the sink's output size limit stopped the results: a limit, not an error */
	bool is_late;  /* the output could not be handed on before the deadline: a timeout */
	bool is_gone;  /* nobody receives any more: canceled, no closing alerts */
	int err;       /* an error of the sink's own (ENOMEM, EIO...): the request fails with it */
};

struct search_request {
	/*
	 * SECURITY: required. The repositories the caller may read (the server's access_readable,
	 * the command line's every repository): the search sees nothing else.
	 */
	const struct search_repos *readable;
	/*
	 * The search's options: query (or pattern), limits, threads, cancel flag, progress. The
	 * request runs a copy; with select: it changes the copy's limit so that count: counts the
	 * selected results.
	 */
	struct search_opts opts;
	/*
	 * Optional: runs the search instead of search_run over the index, with search_run's
	 * contract (its order, its cut at count:, its stats). A cluster's frontend fans the
	 * search out to its searchers and merges their results (src/server/cluster.c); select:,
	 * count: over selected results and every alert still happen here.
	 */
	int (*run)(void *ctx, struct search_stats *st, const struct search_repos *repos,
		   const struct search_opts *o, search_file_fn fn, void *arg);
	void *run_ctx;
	/*
	 * A cluster's searcher answering select:repo|file for its frontend: count: still counts
	 * the selected results (the search stops at the first past it), but the sink gets every
	 * matching file before that point as it was found, without its lines (n_lines kept), and
	 * no projection: the frontend projects the merged files itself, so that the files and lines
	 * its summary counts are one process's (those before the cut).
	 */
	bool is_select_raw;
};

/*
 * Runs the request over ix into sk; *stats as search_run's, with is_limit_hit also set when the
 * sink's output limit (is_full) or count: over selected results stopped it, is_timeout when the
 * sink was late, is_canceled when it is gone. Returns 0 (also for a canceled search: no closing
 * alerts then), a negative TRAWL_E* error of the search (with position: the front end reports
 * it), the sink's err, or TRAWL_EAGAIN when search_opts.budget_ms ran out (the sink may have
 * seen results and warnings of the abandoned try: run it again with a fresh sink).
 */
int search_request_run(struct search_stats *stats, const struct index *ix,
		       const struct search_request *rq, struct search_sink *sk);

#endif
