/*
 * Unit tests for the worker message codec (sandbox/wire.h): round trips through a real pipe,
 * byte-at-a-time delivery, and every malformed stream refused with its code and a message.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox/wire.h"
#include "util/error.h"

/* A raw message: header (type, len) and payload bytes. */
static size_t raw(uint8_t *out, uint32_t type, uint32_t len, const void *payload, size_t n)
{
	for (int i = 0; i < 4; i++) {
		out[i] = (uint8_t)(type >> (8 * i));
		out[4 + i] = (uint8_t)(len >> (8 * i));
	}
	if (n)
		memcpy(out + 8, payload, n);
	return 8 + n;
}

/* Feeds bytes to a fresh reader and returns wire_in_next's first result. */
static int first(struct wire_in *w, const uint8_t *p, size_t n, struct wire_msg *m)
{
	wire_in_init(w, WIRE_TYPE_MAX);
	assert_int_equal(wire_in_feed(w, p, n), 0);
	return wire_in_next(w, m);
}

static void round_trip_through_a_pipe(void **state)
{
	struct wire_out o;
	struct wire_in w;
	struct wire_msg m;
	struct wire_fields f;
	uint8_t buf[256];
	uint32_t v32;
	uint64_t v64;
	char *s = NULL;
	ssize_t n;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	wire_out_begin(&o, WIRE_FETCH);
	wire_put_u32(&o, 0xdeadbeef);
	wire_put_u64(&o, 0x0102030405060708ull);
	wire_put_str(&o, "h\xc3\xa9llo");
	assert_int_equal(wire_send(&o, p[1]), 0);
	wire_out_begin(&o, WIRE_END);
	assert_int_equal(wire_send(&o, p[1]), 0);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf));
	close(p[0]);
	assert_int_equal(n, 8 + 4 + 8 + 4 + 6 + 8);
	assert_int_equal(first(&w, buf, (size_t)n, &m), 1);
	assert_int_equal(m.type, WIRE_FETCH);
	wire_fields_init(&f, &m);
	assert_int_equal(wire_get_u32(&f, &v32), 0);
	assert_int_equal(v32, 0xdeadbeef);
	assert_int_equal(wire_get_u64(&f, &v64), 0);
	assert_true(v64 == 0x0102030405060708ull);
	assert_int_equal(wire_get_str(&f, &s, 100), 0);
	assert_string_equal(s, "h\xc3\xa9llo");
	free(s);
	assert_int_equal(wire_fields_end(&f), 0);
	assert_int_equal(wire_in_next(&w, &m), 1);
	assert_int_equal(m.type, WIRE_END);
	assert_int_equal(m.len, 0);
	assert_int_equal(wire_in_next(&w, &m), 0);
	assert_int_equal(wire_in_end(&w), 0);
	wire_in_dispose(&w);
}

static void byte_at_a_time_gives_the_same_messages(void **state)
{
	uint8_t buf[64], pay[3] = { 'a', 'b', 'c' };
	size_t n = raw(buf, WIRE_INDEX_SHARD, 3, pay, 3);
	struct wire_in w;
	struct wire_msg m;
	int got = 0;

	(void)state;
	n += raw(buf + n, WIRE_END, 0, NULL, 0);
	wire_in_init(&w, WIRE_TYPE_MAX);
	for (size_t i = 0; i < n; i++) {
		int r;

		assert_int_equal(wire_in_feed(&w, buf + i, 1), 0);
		while ((r = wire_in_next(&w, &m)) == 1) {
			assert_int_equal(m.type, got == 0 ? WIRE_INDEX_SHARD : WIRE_END);
			assert_int_equal(m.len, got == 0 ? 3 : 0);
			got++;
		}
		assert_int_equal(r, 0);
	}
	assert_int_equal(got, 2);
	assert_int_equal(wire_in_end(&w), 0);
	wire_in_dispose(&w);
}

static void unknown_types_are_refused(void **state)
{
	const uint32_t bad[] = { 0, WIRE_TYPE_MAX + 1, 0xffffffffu };
	uint8_t buf[16];
	struct wire_in w;
	struct wire_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error_clear();
		assert_int_equal(first(&w, buf, raw(buf, bad[i], 0, NULL, 0), &m), TRAWL_ECORRUPT);
		assert_non_null(strstr(error_last(), "unknown type"));
		/* Sticky: a refused stream stays refused. */
		assert_int_equal(wire_in_next(&w, &m), TRAWL_ECORRUPT);
		assert_int_equal(wire_in_feed(&w, buf, 8), TRAWL_ECORRUPT);
		wire_in_dispose(&w);
	}
}

static void an_oversize_message_is_refused_from_its_header(void **state)
{
	uint8_t buf[16];
	struct wire_in w;
	struct wire_msg m;

	(void)state;
	/* Refused before its bytes arrive: nothing waits for a gigabyte. */
	assert_int_equal(first(&w, buf, raw(buf, WIRE_END, (uint32_t)WIRE_MAX_MSG + 1, NULL, 0), &m),
			 TRAWL_ELIMIT);
	assert_non_null(strstr(error_last(), "more than"));
	wire_in_dispose(&w);
	assert_int_equal(first(&w, buf, raw(buf, WIRE_END, 0xffffffffu, NULL, 0), &m), TRAWL_ELIMIT);
	wire_in_dispose(&w);
}

static void a_stream_cut_short_is_truncated(void **state)
{
	uint8_t buf[32], pay[4] = { 1, 2, 3, 4 };
	size_t n = raw(buf, WIRE_FETCH, 4, pay, 4);
	struct wire_in w;
	struct wire_msg m;

	(void)state;
	for (size_t cut = 1; cut < n; cut++) {
		assert_int_equal(first(&w, buf, cut, &m), 0);
		assert_int_equal(wire_in_end(&w), TRAWL_ECORRUPT);
		assert_non_null(strstr(error_last(), "truncated"));
		wire_in_dispose(&w);
	}
}

static void too_many_messages_are_refused(void **state)
{
	uint8_t buf[8];
	struct wire_in w;
	struct wire_msg m;
	uint32_t i;

	(void)state;
	raw(buf, WIRE_END, 0, NULL, 0);
	wire_in_init(&w, WIRE_TYPE_MAX);
	for (i = 0; i < WIRE_MAX_COUNT; i++) {
		assert_int_equal(wire_in_feed(&w, buf, 8), 0);
		assert_int_equal(wire_in_next(&w, &m), 1);
	}
	assert_int_equal(wire_in_feed(&w, buf, 8), 0);
	assert_int_equal(wire_in_next(&w, &m), TRAWL_ELIMIT);
	wire_in_dispose(&w);
}

static void too_many_bytes_are_refused(void **state)
{
	uint8_t *buf = calloc(1, 8 + WIRE_MAX_MSG);
	struct wire_in w;
	struct wire_msg m;
	uint64_t total = 0;
	int r = 0;

	(void)state;
	assert_non_null(buf);
	raw(buf, WIRE_INDEX_OVERLAY, (uint32_t)WIRE_MAX_MSG, NULL, 0);
	wire_in_init(&w, WIRE_TYPE_MAX);
	while (total <= WIRE_MAX_TOTAL) {
		assert_int_equal(wire_in_feed(&w, buf, 8 + WIRE_MAX_MSG), 0);
		if ((r = wire_in_next(&w, &m)) != 1)
			break;
		total += WIRE_MAX_MSG;
	}
	assert_int_equal(r, TRAWL_ELIMIT);
	assert_true(total == WIRE_MAX_TOTAL);
	wire_in_dispose(&w);
	free(buf);
}

/* One message of one field of the given bytes; returns wire_get_str's result. */
static int get_str(const uint8_t *p, size_t n, size_t max)
{
	struct wire_msg m = { .type = WIRE_INDEX_SHARD, .payload = p, .len = n };
	struct wire_fields f;
	char *s = NULL;
	int err;

	wire_fields_init(&f, &m);
	err = wire_get_str(&f, &s, max);
	if (err == 0)
		err = wire_fields_end(&f);
	free(s);
	return err;
}

/* Copies n bytes of a byte-string literal (a length, then the string's bytes) into p. */
static void fill(uint8_t *p, const char *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)bytes[i];
}

static void strings_must_be_text_and_fit(void **state)
{
	uint8_t p[32];

	(void)state;
	fill(p, "\003\000\000\000abc", 7);
	assert_int_equal(get_str(p, 7, 10), 0);
	/* Not UTF-8 (a lone continuation byte, an overlong form), a NUL inside. */
	fill(p, "\002\000\000\000\200z", 6);
	assert_int_equal(get_str(p, 6, 10), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "UTF-8"));
	fill(p, "\002\000\000\000\300\257", 6);
	assert_int_equal(get_str(p, 6, 10), TRAWL_ECORRUPT);
	fill(p, "\003\000\000\000a\0b", 7);
	assert_int_equal(get_str(p, 7, 10), TRAWL_ECORRUPT);
	/* Longer than the field allows; longer than the bytes there. */
	fill(p, "\003\000\000\000abc", 7);
	assert_int_equal(get_str(p, 7, 2), TRAWL_ELIMIT);
	fill(p, "\011\000\000\000abc", 7);
	assert_int_equal(get_str(p, 7, 100), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "truncated"));
	fill(p, "\377\377\377\377abc", 7);
	assert_int_equal(get_str(p, 7, 100), TRAWL_ELIMIT);
	/* A length cut in two. */
	assert_int_equal(get_str(p, 3, 100), TRAWL_ECORRUPT);
	/* Bytes left over after the fields. */
	fill(p, "\001\000\000\000ab", 6);
	assert_int_equal(get_str(p, 6, 100), TRAWL_ECORRUPT);
	assert_non_null(strstr(error_last(), "unexpected bytes"));
}

static void numbers_are_bounds_checked(void **state)
{
	const uint8_t p[7] = { 1, 2, 3, 4, 5, 6, 7 };
	struct wire_msg m = { .type = WIRE_FETCH, .payload = p, .len = sizeof(p) };
	struct wire_fields f;
	uint32_t v32;
	uint64_t v64;

	(void)state;
	wire_fields_init(&f, &m);
	assert_int_equal(wire_get_u64(&f, &v64), TRAWL_ECORRUPT);
	assert_int_equal(wire_get_u32(&f, &v32), 0);
	assert_int_equal(v32, 0x04030201);
	assert_int_equal(wire_get_u32(&f, &v32), TRAWL_ECORRUPT);
	assert_int_equal(v32, 0);
}

static void the_writer_refuses_what_the_reader_would(void **state)
{
	struct wire_out o;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	wire_out_begin(&o, WIRE_ERROR);
	wire_put_str(&o, "bad \xff byte");
	assert_int_equal(wire_send(&o, p[1]), TRAWL_EINVAL);
	/* Over a message's size: ELIMIT, nothing written. */
	wire_out_begin(&o, WIRE_INDEX_OVERLAY);
	for (size_t i = 0; i <= WIRE_MAX_MSG / 8; i++)
		wire_put_u64(&o, i);
	assert_int_equal(wire_send(&o, p[1]), TRAWL_ELIMIT);
	/* A pipe nobody reads: EIO, not a crash (SIGPIPE ignored as the worker's parent would). */
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	wire_out_begin(&o, WIRE_END);
	assert_int_equal(wire_send(&o, p[1]), TRAWL_EIO);
	close(p[1]);
}

/*
 * The show worker's messages: raw bytes (WIRE_SHOW_DATA) read back as the payload's rest, a
 * message taken whole by wire_out_bytes (the request the server hands sandbox_run), and the
 * show types refused by a reader of the sync's (WIRE_TYPE_MAX).
 */
static void bytes_and_whole_messages(void **state)
{
	static const uint8_t data[] = { 0, 1, 2, 0xff, 0 };
	struct wire_out o;
	struct wire_in w;
	struct wire_msg m;
	struct wire_fields f;
	const void *p;
	const uint8_t *rest;
	size_t len, rest_len;
	uint32_t v32;

	(void)state;
	wire_out_begin(&o, WIRE_SHOW_DATA);
	wire_put_u32(&o, 7);
	wire_put_bytes(&o, data, sizeof(data));
	assert_int_equal(wire_out_bytes(&o, &p, &len), 0);
	assert_int_equal(len, 8 + 4 + sizeof(data));
	wire_in_init(&w, WIRE_SHOW_MAX);
	assert_int_equal(wire_in_feed(&w, p, len), 0);
	wire_out_dispose(&o);
	assert_int_equal(wire_in_next(&w, &m), 1);
	assert_int_equal(m.type, WIRE_SHOW_DATA);
	wire_fields_init(&f, &m);
	assert_int_equal(wire_get_u32(&f, &v32), 0);
	assert_int_equal(v32, 7);
	wire_get_rest(&f, &rest, &rest_len);
	assert_int_equal(rest_len, sizeof(data));
	assert_memory_equal(rest, data, sizeof(data));
	assert_int_equal(wire_fields_end(&f), 0);
	assert_int_equal(wire_in_end(&w), 0);
	wire_in_dispose(&w);
	/* The sync's reader knows no show message. */
	wire_out_begin(&o, WIRE_SHOW);
	assert_int_equal(wire_out_bytes(&o, &p, &len), 0);
	assert_int_equal(first(&w, p, len, &m), TRAWL_ECORRUPT);
	wire_in_dispose(&w);
	wire_out_dispose(&o);
	/* Bytes past a message's limit: ELIMIT, as for any field. */
	wire_out_begin(&o, WIRE_SHOW_DATA);
	for (size_t i = 0; i <= WIRE_MAX_MSG / sizeof(data); i++)
		wire_put_bytes(&o, data, sizeof(data));
	assert_int_equal(wire_out_bytes(&o, &p, &len), TRAWL_ELIMIT);
	wire_out_dispose(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_through_a_pipe),
		cmocka_unit_test(bytes_and_whole_messages),
		cmocka_unit_test(byte_at_a_time_gives_the_same_messages),
		cmocka_unit_test(unknown_types_are_refused),
		cmocka_unit_test(an_oversize_message_is_refused_from_its_header),
		cmocka_unit_test(a_stream_cut_short_is_truncated),
		cmocka_unit_test(too_many_messages_are_refused),
		cmocka_unit_test(too_many_bytes_are_refused),
		cmocka_unit_test(strings_must_be_text_and_fit),
		cmocka_unit_test(numbers_are_bounds_checked),
		cmocka_unit_test(the_writer_refuses_what_the_reader_would),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
