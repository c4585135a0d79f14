/*
 * Connection admission and the request-head deadline: what keeps a slow client (slowloris)
 * from locking other clients out.
 *
 * DESIGN: libmicrohttpd's connection timeout is an idle timeout, restarted by every byte, and
 * its connection limits refuse whoever comes next once they are full: 256 sockets that each
 * trickled a header line every 10 s held every slot of their address for good. So the server
 * tracks every connection itself (MHD's connection notifications) and
 *
 * - gives every request head a deadline: the request line and headers must be complete within
 *   --header-timeout of the connection's start or, on a kept-alive connection, of the end of
 *   the previous request. A sweep thread shuts down the socket of a connection past it; MHD
 *   then reads the end of the stream and closes the connection on its own thread.
 * - bounds connections in total and per client (an IPv4 address, an IPv6 /64, and every
 *   loopback address as one client, since 127.0.0.0/8 and ::1 are all this machine). A new
 *   connection over a bound displaces the connection of that client (over the total: of
 *   anyone) that has waited longest for its request head, so a client that sends its request
 *   at once always gets in; only when every connection is busy with a request is the new one
 *   refused.
 *
 * Shutting down a socket MHD owns is safe from any thread: MHD reports a connection closed
 * (conns_closed, which takes the lock) before it closes the descriptor, and shutdown() is only
 * called under the same lock, so the descriptor is still that connection's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "server/server_int.h"
#include "util/error.h"

#define SWEEP_MS 250

struct conn {
	struct conn *prev, *next;
	int fd;
	uint8_t client[CONNS_CLIENT_LEN];
	double head_t0;   /* when the current request head began (ms, monotonic) */
	bool is_head;     /* waiting for a request head (also idle between requests) */
	bool is_closing;  /* shut down by us: no longer counted */
};

void conns_client_key(uint8_t key[CONNS_CLIENT_LEN], const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *v4 = NULL;

	memset(key, 0, CONNS_CLIENT_LEN);
	if (sa && sa->sa_family == AF_INET) {
		v4 = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (memcmp(a6->s6_addr, mapped, sizeof(mapped)) == 0) {
			v4 = a6->s6_addr + 12;
		} else if (IN6_IS_ADDR_LOOPBACK(a6)) {
			key[0] = CONNS_CLIENT_LOOPBACK;
		} else {
			/* One host usually holds a whole /64. */
			key[0] = CONNS_CLIENT_IPV6;
			memcpy(key + 1, a6->s6_addr, 8);
		}
	} else {
		key[0] = CONNS_CLIENT_OTHER;
	}
	if (v4 && v4[0] == 127) {
		key[0] = CONNS_CLIENT_LOOPBACK;
	} else if (v4) {
		key[0] = CONNS_CLIENT_IPV4;
		memcpy(key + 1, v4, 4);
	}
}

int conns_init(struct conns *cs, unsigned max_total, unsigned max_per_client,
	       unsigned head_timeout_s)
{
	*cs = (struct conns){
		.max_total = max_total,
		.max_per_client = max_per_client,
		.head_timeout_ms = (double)head_timeout_s * 1e3,
	};
	if (pthread_mutex_init(&cs->lock, NULL) != 0) {
		error_set("cannot create the connection table's lock");
		return TRAWL_ENOMEM;
	}
	return 0;
}

/* Under the lock: stop counting c and make MHD close it. */
static void conn_shut(struct conns *cs, struct conn *c)
{
	c->is_closing = true;
	cs->n_open--;
	shutdown(c->fd, SHUT_RDWR);
}

/*
 * Under the lock: the connection (other than except) that has waited longest for its request
 * head, among those of client (NULL: all), or NULL when every one is busy with a request.
 */
static struct conn *oldest_head(struct conns *cs, const uint8_t *client, const struct conn *except)
{
	struct conn *best = NULL;

	for (struct conn *c = cs->head; c; c = c->next)
		if (c != except && c->is_head && !c->is_closing &&
		    (!client || memcmp(c->client, client, CONNS_CLIENT_LEN) == 0) &&
		    (!best || c->head_t0 < best->head_t0))
			best = c;
	return best;
}

int conns_opened(void **out, struct conns *cs, int fd, const struct sockaddr *addr, double now)
{
	struct conn *c = calloc(1, sizeof(*c)), *victim = NULL;
	size_t n_client = 0;
	int ret = CONNS_ADMITTED;

	*out = NULL;
	if (!c) {
		/* No tracker, no deadline: refuse rather than serve an unbounded connection. */
		shutdown(fd, SHUT_RDWR);
		return CONNS_REFUSED;
	}
	*c = (struct conn){ .fd = fd, .head_t0 = now, .is_head = true };
	conns_client_key(c->client, addr);
	pthread_mutex_lock(&cs->lock);
	c->next = cs->head;
	if (cs->head)
		cs->head->prev = c;
	cs->head = c;
	cs->n_open++;
	for (struct conn *o = cs->head; o; o = o->next)
		n_client += !o->is_closing && memcmp(o->client, c->client, CONNS_CLIENT_LEN) == 0;
	if (n_client > cs->max_per_client || cs->n_open > cs->max_total) {
		victim = oldest_head(cs, n_client > cs->max_per_client ? c->client : NULL, c);
		conn_shut(cs, victim ? victim : c);
		ret = victim ? CONNS_DISPLACED : CONNS_REFUSED;
		cs->n_displaced += victim != NULL;
		cs->n_refused += victim == NULL;
	}
	pthread_mutex_unlock(&cs->lock);
	*out = c;
	return ret;
}

void conns_closed(struct conns *cs, void *tracker)
{
	struct conn *c = tracker;

	if (!c)
		return;
	pthread_mutex_lock(&cs->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (!c->is_closing)
		cs->n_open--;
	pthread_mutex_unlock(&cs->lock);
	free(c);
}

void conns_head_done(struct conns *cs, void *tracker)
{
	struct conn *c = tracker;

	if (!c)
		return;
	pthread_mutex_lock(&cs->lock);
	c->is_head = false;
	pthread_mutex_unlock(&cs->lock);
}

void conns_head_start(struct conns *cs, void *tracker, double now)
{
	struct conn *c = tracker;

	if (!c)
		return;
	pthread_mutex_lock(&cs->lock);
	c->is_head = true;
	c->head_t0 = now;
	pthread_mutex_unlock(&cs->lock);
}

size_t conns_sweep(struct conns *cs, double now)
{
	size_t n = 0;

	pthread_mutex_lock(&cs->lock);
	for (struct conn *c = cs->head; c; c = c->next)
		if (c->is_head && !c->is_closing && now - c->head_t0 >= cs->head_timeout_ms) {
			conn_shut(cs, c);
			n++;
		}
	cs->n_timeouts += n;
	pthread_mutex_unlock(&cs->lock);
	return n;
}

/* One log line per sweep that closed or refused anything: bounded, whatever clients do. */
static void sweep_log(struct conns *cs, uint64_t last[3])
{
	uint64_t now[3];
	struct logline l;

	pthread_mutex_lock(&cs->lock);
	now[0] = cs->n_timeouts;
	now[1] = cs->n_displaced;
	now[2] = cs->n_refused;
	pthread_mutex_unlock(&cs->lock);
	if (now[0] == last[0] && now[1] == last[1] && now[2] == last[2])
		return;
	log_begin(&l, "warn", "connections closed");
	log_num(&l, "head_timeouts", (double)(now[0] - last[0]));
	log_num(&l, "displaced", (double)(now[1] - last[1]));
	log_num(&l, "refused", (double)(now[2] - last[2]));
	log_end(&l);
	memcpy(last, now, sizeof(now));
}

static void *sweep_main(void *arg)
{
	struct conns *cs = arg;
	struct timespec ts = { 0, SWEEP_MS * 1000000L };
	uint64_t last[3] = { 0 };

	while (!atomic_load(&cs->is_stopping)) {
		nanosleep(&ts, NULL);
		conns_sweep(cs, clock_now_ms());
		sweep_log(cs, last);
	}
	return NULL;
}

int conns_sweep_start(struct conns *cs)
{
	if (pthread_create(&cs->sweeper, NULL, sweep_main, cs) != 0) {
		error_set("cannot start the connection sweep thread");
		return TRAWL_ENOMEM;
	}
	cs->has_sweeper = true;
	return 0;
}

void conns_dispose(struct conns *cs)
{
	atomic_store(&cs->is_stopping, true);
	if (cs->has_sweeper)
		pthread_join(cs->sweeper, NULL);
	cs->has_sweeper = false;
	/* MHD has reported every connection closed by now; anything left is not ours to shut. */
	while (cs->head) {
		struct conn *next = cs->head->next;

		free(cs->head);
		cs->head = next;
	}
	pthread_mutex_destroy(&cs->lock);
}
