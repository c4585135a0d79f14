/* Counters for /metrics, in the Prometheus text exposition format. Lock-free: C11 atomics. */
#include <string.h>

#include "server/server_int.h"

static const double bucket_le[METRICS_N_BUCKETS] = { 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
						      0.1,   0.25,  0.5,   1,    2.5,  10 };
/* The statuses the server sends; anything else is counted as "other". */
static const unsigned codes[METRICS_N_CODES - 1] = { 200, 304, 400, 404, 405, 413,
						     414, 429, 431, 500, 503 };

void metrics_query(struct metrics *m, double seconds, bool is_error)
{
	size_t i = 0;

	atomic_fetch_add(&m->queries, 1);
	if (is_error)
		atomic_fetch_add(&m->query_errors, 1);
	while (i < METRICS_N_BUCKETS && seconds > bucket_le[i])
		i++;
	atomic_fetch_add(&m->buckets[i], 1);
	atomic_fetch_add(&m->duration_us, (uint_fast64_t)(seconds * 1e6));
}

void metrics_http(struct metrics *m, unsigned status)
{
	size_t i = 0;

	while (i < METRICS_N_CODES - 1 && codes[i] != status)
		i++;
	atomic_fetch_add(&m->codes[i], 1);
}

int metrics_render(struct buf *b, struct metrics *m, const struct snapshot *s, uint64_t swaps,
		   unsigned searches_running, const uint64_t repos_by_state[METRICS_N_STATES])
{
	uint64_t cum = 0;
	int err = 0;

#define P(...)                                         \
	do {                                           \
		if (!err)                              \
			err = buf_printf(b, __VA_ARGS__); \
	} while (0)
	P("# HELP trawl_queries_total Searches run.\n# TYPE trawl_queries_total counter\n"
	  "trawl_queries_total %llu\n", (unsigned long long)atomic_load(&m->queries));
	P("# HELP trawl_query_errors_total Searches that failed (bad query, internal error).\n"
	  "# TYPE trawl_query_errors_total counter\ntrawl_query_errors_total %llu\n",
	  (unsigned long long)atomic_load(&m->query_errors));
	P("# HELP trawl_queries_canceled_total Searches stopped because the client went away.\n"
	  "# TYPE trawl_queries_canceled_total counter\ntrawl_queries_canceled_total %llu\n",
	  (unsigned long long)atomic_load(&m->canceled));
	P("# HELP trawl_queries_busy_total Searches refused with 429 (too many at once).\n"
	  "# TYPE trawl_queries_busy_total counter\ntrawl_queries_busy_total %llu\n",
	  (unsigned long long)atomic_load(&m->busy));
	P("# HELP trawl_searches_running Searches running now.\n# TYPE trawl_searches_running gauge\n"
	  "trawl_searches_running %u\n", searches_running);
	P("# HELP trawl_query_duration_seconds Search latency.\n"
	  "# TYPE trawl_query_duration_seconds histogram\n");
	for (size_t i = 0; i < METRICS_N_BUCKETS; i++) {
		cum += atomic_load(&m->buckets[i]);
		P("trawl_query_duration_seconds_bucket{le=\"%g\"} %llu\n", bucket_le[i],
		  (unsigned long long)cum);
	}
	cum += atomic_load(&m->buckets[METRICS_N_BUCKETS]);
	P("trawl_query_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	P("trawl_query_duration_seconds_sum %.6f\n", (double)atomic_load(&m->duration_us) / 1e6);
	P("trawl_query_duration_seconds_count %llu\n", (unsigned long long)cum);
	P("# HELP trawl_shards Shards in the open index.\n# TYPE trawl_shards gauge\n"
	  "trawl_shards %zu\n", s ? index_n_shards(s->ix) : 0);
	P("# HELP trawl_index_bytes Bytes of shard files in the open index.\n"
	  "# TYPE trawl_index_bytes gauge\ntrawl_index_bytes %llu\n",
	  (unsigned long long)(s ? s->index_bytes : 0));
	P("# HELP trawl_index_swaps_total Times a new index was swapped in.\n"
	  "# TYPE trawl_index_swaps_total counter\ntrawl_index_swaps_total %llu\n",
	  (unsigned long long)swaps);
	P("# HELP trawl_repos Repositories by state.\n# TYPE trawl_repos gauge\n"
	  "trawl_repos{state=\"new\"} %llu\ntrawl_repos{state=\"syncing\"} %llu\n"
	  "trawl_repos{state=\"indexed\"} %llu\ntrawl_repos{state=\"error\"} %llu\n",
	  (unsigned long long)repos_by_state[0], (unsigned long long)repos_by_state[1],
	  (unsigned long long)repos_by_state[2], (unsigned long long)repos_by_state[3]);
	P("# HELP trawl_syncs_total Background sync runs.\n# TYPE trawl_syncs_total counter\n"
	  "trawl_syncs_total %llu\n", (unsigned long long)atomic_load(&m->syncs));
	P("# HELP trawl_sync_failures_total Background sync runs that failed.\n"
	  "# TYPE trawl_sync_failures_total counter\ntrawl_sync_failures_total %llu\n",
	  (unsigned long long)atomic_load(&m->sync_failures));
	P("# HELP trawl_cluster_partial_total Searches a cluster's frontend answered partially.\n"
	  "# TYPE trawl_cluster_partial_total counter\ntrawl_cluster_partial_total %llu\n",
	  (unsigned long long)atomic_load(&m->cluster_partial));
	P("# HELP trawl_cluster_searcher_failures_total Searchers that did not answer a fan-out.\n"
	  "# TYPE trawl_cluster_searcher_failures_total counter\n"
	  "trawl_cluster_searcher_failures_total %llu\n",
	  (unsigned long long)atomic_load(&m->cluster_failures));
	P("# HELP trawl_http_requests_total HTTP responses by status.\n"
	  "# TYPE trawl_http_requests_total counter\n");
	for (size_t i = 0; i < METRICS_N_CODES; i++) {
		uint64_t v = atomic_load(&m->codes[i]);

		if (i < METRICS_N_CODES - 1)
			P("trawl_http_requests_total{code=\"%u\"} %llu\n", codes[i],
			  (unsigned long long)v);
		else
			P("trawl_http_requests_total{code=\"other\"} %llu\n", (unsigned long long)v);
	}
#undef P
	return err;
}
