/*
 * Structured logs: one JSON object per line on stderr. Every value goes through the JSON
 * string encoder, so CR, LF and other control characters from requests are escaped and a
 * client cannot forge a log line (SECURITY-CHECKLIST L3).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/server_int.h"
#include "util/json.h"

void log_begin(struct logline *l, const char *level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char t[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_init(&l->b, 1 << 20);
	buf_printf(&l->b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":", t, ts.tv_nsec / 1000000,
		   level);
	json_put_string(&l->b, msg, strlen(msg), NULL);
}

void log_str(struct logline *l, const char *key, const char *val, size_t len)
{
	buf_printf(&l->b, ",\"%s\":", key);
	if (val)
		json_put_string(&l->b, val, len, NULL);
	else
		buf_puts(&l->b, "null");
}

void log_cstr(struct logline *l, const char *key, const char *val)
{
	log_str(l, key, val, val ? strlen(val) : 0);
}

void log_num(struct logline *l, const char *key, double v)
{
	if (v == (double)(long long)v)
		buf_printf(&l->b, ",\"%s\":%lld", key, (long long)v);
	else
		buf_printf(&l->b, ",\"%s\":%.3f", key, v);
}

void log_end(struct logline *l)
{
	if (buf_puts(&l->b, "}\n") == 0) {
		/* One write: lines from different threads do not interleave (below PIPE_BUF). */
		size_t off = 0;

		while (off < l->b.len) {
			ssize_t n = write(2, l->b.ptr + off, l->b.len - off);

			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	buf_dispose(&l->b);
}

void log_msg(const char *level, const char *msg, const char *key, const char *val)
{
	struct logline l;

	log_begin(&l, level, msg);
	if (key)
		log_cstr(&l, key, val);
	log_end(&l);
}
