/*
 * The search threads: a fixed set that runs the JSON searches, so that no HTTP thread ever
 * waits for one.
 *
 * DESIGN: libmicrohttpd binds each connection to one thread of its pool when it accepts it. A
 * search run on that thread (up to its timeout:) stalled every other connection the thread
 * held, /healthz included, and searches over the number of HTTP threads queued silently
 * instead of getting a 429. Now the dispatcher takes a search slot (server.c), the handler
 * tries the search within a budget of a few milliseconds (most are selective), and one that
 * needs more suspends its connection for a thread of this pool to run the search, queue the
 * answer and resume the connection. The pool has as many threads as there are search slots, so a
 * task never waits for a thread; a request over the slots gets 429 at once. Each thread keeps
 * its matcher scratch (search.c) from one search to the next.
 *
 * Memory: each search thread allocates from a glibc arena of its own, and glibc keeps what a
 * search freed in that arena for the next allocation there. A `count:all` search holds up to
 * --query-memory of results and builds an answer of up to a quarter of it, so with a dozen
 * threads the server's memory grew search after search (30 MB to 550 MB of anonymous memory
 * over nine `count:all` searches, one at a time) although nothing leaked. So a thread gives
 * the arenas' free pages back after a search that held POOL_TRIM_MIN or more for results
 * (pool_trim_after_task, from server_search_run): not after every task, since malloc_trim walks
 * every arena and its madvise flushes every core's TLB (a frontend, whose searches wait on the
 * network with many threads at once, spent half its CPU there), and blocks of POOL_MMAP_MIN or
 * more (answers, result tables) are always their own mappings, unmapped when freed; without
 * the fixed threshold glibc raises it after every such free, up to 32 MiB.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#include "server/server_int.h"
#include "util/error.h"

#define POOL_MMAP_MIN ((int)1 << 20)

/* Set by the task running on this thread: trim once it is done. */
static _Thread_local bool is_trim_wanted;

void pool_trim_after_task(void)
{
	is_trim_wanted = true;
}

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pool_task *head, *tail;
	bool is_stopping;
	pthread_t *threads;
	unsigned n_threads;
};

static void *pool_main(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		struct pool_task *t;

		pthread_mutex_lock(&p->lock);
		while (!p->head && !p->is_stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!(t = p->head)) {
			pthread_mutex_unlock(&p->lock);
			return NULL; /* stopping, and nothing is left to run */
		}
		if (!(p->head = t->next))
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		t->next = NULL;
		t->run(t);
		if (is_trim_wanted) {
			is_trim_wanted = false;
			malloc_trim(0);
		}
	}
}

int pool_start(struct pool **out, unsigned n_threads)
{
	struct pool *p = calloc(1, sizeof(*p));
	int err = 0;

	*out = NULL;
	mallopt(M_MMAP_THRESHOLD, POOL_MMAP_MIN);
	if (!p || !(p->threads = calloc(n_threads, sizeof(*p->threads)))) {
		free(p);
		return error_nomem(NULL);
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (; p->n_threads < n_threads; p->n_threads++)
		if (pthread_create(&p->threads[p->n_threads], NULL, pool_main, p) != 0) {
			error_set("cannot start the search threads");
			err = TRAWL_ENOMEM;
			break;
		}
	if (err < 0) {
		pool_free(p);
		return err;
	}
	*out = p;
	return 0;
}

bool pool_submit(struct pool *p, struct pool_task *t)
{
	t->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->is_stopping) {
		pthread_mutex_unlock(&p->lock);
		return false;
	}
	if (p->tail)
		p->tail->next = t;
	else
		p->head = t;
	p->tail = t;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return true;
}

void pool_stop(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->is_stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	p->n_threads = 0;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	pool_stop(p);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}
