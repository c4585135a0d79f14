/*
 * Unit tests for src/server/conns.c: client keys, admission limits (displacing the connection
 * that has waited longest for its request head) and the request-head deadline. Connections
 * are socketpairs: a connection conns.c shuts down reads as end-of-file at its peer. Times are
 * given, never measured.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "server/server_int.h"

struct fake {
	int fd[2]; /* [0] is the server's end, [1] the client's */
	void *tracker;
};

static void key_of(uint8_t key[CONNS_CLIENT_LEN], const char *addr)
{
	struct sockaddr_storage ss = { 0 };

	if (strchr(addr, ':')) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

		a6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &a6->sin6_addr), 1);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;

		a4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &a4->sin_addr), 1);
	}
	conns_client_key(key, (struct sockaddr *)&ss);
}

static bool same_client(const char *a, const char *b)
{
	uint8_t ka[CONNS_CLIENT_LEN], kb[CONNS_CLIENT_LEN];

	key_of(ka, a);
	key_of(kb, b);
	return memcmp(ka, kb, sizeof(ka)) == 0;
}

static void client_key_groups_loopback_ipv4_and_ipv6_prefixes(void **state)
{
	uint8_t k[CONNS_CLIENT_LEN], other[CONNS_CLIENT_LEN];

	(void)state;
	/* Every loopback address is this machine: one client. */
	assert_true(same_client("127.0.0.1", "127.0.0.2"));
	assert_true(same_client("127.0.0.1", "127.255.3.4"));
	assert_true(same_client("127.0.0.1", "::1"));
	assert_true(same_client("127.0.0.1", "::ffff:127.0.0.9"));
	assert_true(same_client("10.0.0.1", "::ffff:10.0.0.1"));
	assert_false(same_client("10.0.0.1", "10.0.0.2"));
	assert_false(same_client("10.0.0.1", "127.0.0.1"));
	assert_false(same_client("128.0.0.1", "127.0.0.1"));
	assert_true(same_client("2001:db8:1:2::1", "2001:db8:1:2:ffff::9"));
	assert_false(same_client("2001:db8:1:2::1", "2001:db8:1:3::1"));
	assert_false(same_client("::2", "::1"));
	assert_false(same_client("10.0.0.1", "::a00:1")); /* IPv4-compatible is not IPv4 */
	conns_client_key(k, NULL);
	key_of(other, "10.0.0.1");
	assert_int_equal(k[0], CONNS_CLIENT_OTHER);
	assert_memory_not_equal(k, other, sizeof(k));
}

static int open_fake(struct fake *f, struct conns *cs, const char *addr, double now)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f->fd), 0);
	assert_int_equal(inet_pton(AF_INET, addr, &a4.sin_addr), 1);
	return conns_opened(&f->tracker, cs, f->fd[0], (struct sockaddr *)&a4, now);
}

/* Whether the server shut the connection down: its client reads end-of-file. */
static bool is_shut(const struct fake *f)
{
	char c;
	ssize_t n = recv(f->fd[1], &c, 1, MSG_DONTWAIT);

	if (n < 0)
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	return n == 0;
}

static void close_fake(struct fake *f, struct conns *cs)
{
	conns_closed(cs, f->tracker);
	close(f->fd[0]);
	close(f->fd[1]);
}

static void over_a_client_bound_the_oldest_head_is_displaced(void **state)
{
	struct conns cs;
	struct fake f[5];

	(void)state;
	assert_int_equal(conns_init(&cs, 100, 2, 10), 0);
	assert_int_equal(open_fake(&f[0], &cs, "10.0.0.1", 1000), CONNS_ADMITTED);
	assert_int_equal(open_fake(&f[1], &cs, "10.0.0.1", 2000), CONNS_ADMITTED);
	/* Another client is not affected by 10.0.0.1's bound. */
	assert_int_equal(open_fake(&f[2], &cs, "10.0.0.2", 2500), CONNS_ADMITTED);
	assert_int_equal(open_fake(&f[3], &cs, "10.0.0.1", 3000), CONNS_DISPLACED);
	assert_true(is_shut(&f[0]));
	assert_false(is_shut(&f[1]));
	assert_false(is_shut(&f[2]));
	assert_false(is_shut(&f[3]));
	assert_int_equal(cs.n_open, 3);
	/* A connection busy with a request is never displaced: the newer head goes. */
	conns_head_done(&cs, f[1].tracker);
	assert_int_equal(open_fake(&f[4], &cs, "10.0.0.1", 4000), CONNS_DISPLACED);
	assert_true(is_shut(&f[3]));
	assert_false(is_shut(&f[1]));
	assert_false(is_shut(&f[4]));
	assert_int_equal(cs.n_displaced, 2);
	for (size_t i = 0; i < 5; i++)
		close_fake(&f[i], &cs);
	assert_int_equal(cs.n_open, 0);
	assert_null(cs.head);
	conns_dispose(&cs);
}

static void when_every_connection_is_busy_the_new_one_is_refused(void **state)
{
	struct conns cs;
	struct fake f[3];

	(void)state;
	assert_int_equal(conns_init(&cs, 100, 2, 10), 0);
	assert_int_equal(open_fake(&f[0], &cs, "127.0.0.1", 1000), CONNS_ADMITTED);
	assert_int_equal(open_fake(&f[1], &cs, "127.0.0.2", 1000), CONNS_ADMITTED);
	conns_head_done(&cs, f[0].tracker);
	conns_head_done(&cs, f[1].tracker);
	/* 127.0.0.3 is the same client (loopback): over its bound, with nothing to displace. */
	assert_int_equal(open_fake(&f[2], &cs, "127.0.0.3", 2000), CONNS_REFUSED);
	assert_true(is_shut(&f[2]));
	assert_false(is_shut(&f[0]));
	assert_false(is_shut(&f[1]));
	assert_int_equal(cs.n_refused, 1);
	assert_int_equal(cs.n_open, 2);
	for (size_t i = 0; i < 3; i++)
		close_fake(&f[i], &cs);
	conns_dispose(&cs);
}

static void over_the_total_the_oldest_head_of_anyone_is_displaced(void **state)
{
	struct conns cs;
	struct fake f[4];

	(void)state;
	assert_int_equal(conns_init(&cs, 3, 3, 10), 0);
	assert_int_equal(open_fake(&f[0], &cs, "10.0.0.1", 1000), CONNS_ADMITTED);
	assert_int_equal(open_fake(&f[1], &cs, "10.0.0.2", 500), CONNS_ADMITTED);
	assert_int_equal(open_fake(&f[2], &cs, "10.0.0.3", 2000), CONNS_ADMITTED);
	assert_int_equal(open_fake(&f[3], &cs, "10.0.0.4", 3000), CONNS_DISPLACED);
	assert_true(is_shut(&f[1]));
	assert_false(is_shut(&f[0]));
	assert_false(is_shut(&f[2]));
	assert_false(is_shut(&f[3]));
	for (size_t i = 0; i < 4; i++)
		close_fake(&f[i], &cs);
	conns_dispose(&cs);
}

static void heads_past_the_deadline_are_shut_and_busy_requests_are_not(void **state)
{
	struct conns cs;
	struct fake f[4];

	(void)state;
	assert_int_equal(conns_init(&cs, 100, 100, 10), 0);
	open_fake(&f[0], &cs, "127.0.0.1", 1000);  /* trickles its head */
	open_fake(&f[1], &cs, "127.0.0.1", 1000);  /* sent its head: a long request */
	open_fake(&f[2], &cs, "127.0.0.1", 1000);  /* a request ended at 9000: idle since */
	open_fake(&f[3], &cs, "127.0.0.1", 10000); /* opened later */
	conns_head_done(&cs, f[1].tracker);
	conns_head_done(&cs, f[2].tracker);
	conns_head_start(&cs, f[2].tracker, 9000);
	assert_int_equal(conns_sweep(&cs, 10999), 0);
	assert_int_equal(conns_sweep(&cs, 11000), 1);
	assert_true(is_shut(&f[0]));
	assert_false(is_shut(&f[1]));
	assert_false(is_shut(&f[2]));
	assert_false(is_shut(&f[3]));
	/* Shut connections are not shut twice; the deadline counts from each head's start. */
	assert_int_equal(conns_sweep(&cs, 19000), 1);
	assert_true(is_shut(&f[2]));
	assert_false(is_shut(&f[3]));
	assert_int_equal(conns_sweep(&cs, 1e9), 1);
	assert_true(is_shut(&f[3]));
	assert_false(is_shut(&f[1]));
	assert_int_equal(cs.n_timeouts, 3);
	assert_int_equal(cs.n_open, 1);
	for (size_t i = 0; i < 4; i++)
		close_fake(&f[i], &cs);
	/* No tracker (allocation failed): every call is a no-op. */
	conns_closed(&cs, NULL);
	conns_head_done(&cs, NULL);
	conns_head_start(&cs, NULL, 0);
	conns_dispose(&cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(client_key_groups_loopback_ipv4_and_ipv6_prefixes),
		cmocka_unit_test(over_a_client_bound_the_oldest_head_is_displaced),
		cmocka_unit_test(when_every_connection_is_busy_the_new_one_is_refused),
		cmocka_unit_test(over_the_total_the_oldest_head_of_anyone_is_displaced),
		cmocka_unit_test(heads_past_the_deadline_are_shut_and_busy_requests_are_not),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
