/*
 * The audit trail: every event goes to the store's audit table and, as one JSON line, to
 * DATA/audit.log (opened O_APPEND, mode 0600).
 *
 * DESIGN: auth_audit only queues the event. Writing it at once would cost a transaction
 * commit (a WAL sync) per event, and every search is audited; a writer thread takes the queue
 * every AUDIT_FLUSH_MS and writes it in one transaction and one append, in the order the
 * events were queued (one flush at a time). auth_audit_list, auth_backup and auth_close flush
 * first, so what a caller queued is there when it reads. The queue is bounded: past
 * AUDIT_QUEUE_MAX events the caller flushes itself rather than growing it.
 *
 * SECURITY: L3: every text field is JSON-escaped (control characters, quotes, invalid UTF-8)
 * and a caller's detail object has its control bytes blanked, so each event is one line
 * whatever a user name holds. Callers never pass a secret (L2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth_int.h"
#include "util/array.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

#define AUDIT_FLUSH_MS 100
#define AUDIT_QUEUE_MAX 10000
#define AUDIT_DETAIL_MAX ((size_t)64 * 1024)
#define AUDIT_FIELD_MAX 1024 /* actor, target, address: longer is cut */

struct audit {
	struct auth *a;
	/*
	 * The writer's own connection: a flush commits (and syncs) without holding the accounts'
	 * lock, which every request's identification takes.
	 */
	struct store *st;
	int fd;
	pthread_mutex_t qlock; /* the queue */
	pthread_cond_t wake;
	pthread_mutex_t flush_lock; /* one flush at a time: events keep their order */
	struct store_event *q;
	size_t n_q, cap_q;
	bool is_stopping, has_thread, has_failed;
	pthread_t thread;
};

/* ---- detail objects ---- */

void detail_begin(struct buf *b)
{
	buf_init(b, AUDIT_DETAIL_MAX);
	(void)buf_putc(b, '{');
}

static void detail_key(struct buf *b, const char *key)
{
	if (b->len > 1)
		(void)buf_putc(b, ',');
	(void)json_put_string(b, key, strlen(key), NULL);
	(void)buf_putc(b, ':');
}

void detail_str(struct buf *b, const char *key, const char *value)
{
	detail_key(b, key);
	(void)json_put_string(b, value ? value : "", value ? strlen(value) : 0, NULL);
}

void detail_int(struct buf *b, const char *key, int64_t value)
{
	detail_key(b, key);
	(void)buf_printf(b, "%lld", (long long)value);
}

void detail_bool(struct buf *b, const char *key, bool value)
{
	detail_key(b, key);
	(void)buf_puts(b, value ? "true" : "false");
}

const char *detail_end(struct buf *b)
{
	if (buf_putc(b, '}') < 0 || buf_putc(b, '\0') < 0)
		return "{}";
	return b->ptr;
}

/* ---- the queue ---- */

static void events_clear(struct store_event *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_event_dispose(&v[i]);
}

static void put_time(struct buf *b, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32];

	if (!gmtime_r(&t, &tm) || strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(s, sizeof(s), "1970-01-01T00:00:00");
	(void)buf_printf(b, "\"%s.%03dZ\"", s, (int)(ms % 1000));
}

static void put_field(struct buf *b, const char *key, const char *value)
{
	(void)buf_printf(b, ",\"%s\":", key);
	(void)json_put_string(b, value, strlen(value), NULL);
}

/* One event as the line audit.log holds. */
static int line_put(struct buf *b, const struct store_event *e)
{
	(void)buf_puts(b, "{\"time\":");
	put_time(b, e->ts_ms);
	put_field(b, "event", e->event);
	put_field(b, "actor", e->actor);
	put_field(b, "target", e->target);
	put_field(b, "address", e->address);
	(void)buf_puts(b, ",\"detail\":");
	(void)buf_puts(b, e->detail);
	return buf_puts(b, "}\n");
}

/* Writes batch[0..n) to the file and the table. */
static int batch_write(struct audit *q, const struct store_event *batch, size_t n)
{
	struct buf lines;
	int err = 0, serr;

	buf_init(&lines, (size_t)1 << 30);
	for (size_t i = 0; i < n && err == 0; i++)
		err = line_put(&lines, &batch[i]);
	if (err == 0 && lines.len)
		err = file_write_all(q->fd, lines.ptr, lines.len, "audit.log");
	buf_dispose(&lines);
	serr = store_audit_add(q->st, batch, n); /* under flush_lock: the connection is the writer's */
	return err < 0 ? err : serr;
}

int audit_flush(struct audit *q)
{
	struct store_event *batch;
	size_t n;
	int err = 0;

	pthread_mutex_lock(&q->flush_lock);
	pthread_mutex_lock(&q->qlock);
	batch = q->q;
	n = q->n_q;
	q->q = NULL;
	q->n_q = q->cap_q = 0;
	pthread_mutex_unlock(&q->qlock);
	if (n) {
		err = batch_write(q, batch, n);
		/* Said once on stderr (the server's log), as the writer has no caller to tell. */
		if (err < 0 && !q->has_failed)
			fprintf(stderr, "trawl: writing the audit trail: %s\n", error_last());
		q->has_failed = err < 0;
	}
	events_clear(batch, n);
	free(batch);
	pthread_mutex_unlock(&q->flush_lock);
	return err;
}

static void *writer(void *arg)
{
	struct audit *q = arg;
	bool is_stopping = false;

	while (!is_stopping) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += AUDIT_FLUSH_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&q->qlock);
		while (!q->is_stopping && q->n_q == 0)
			pthread_cond_wait(&q->wake, &q->qlock);
		/*
		 * A wake-up before the interval is over (a spurious one, or a signal) does not
		 * flush: only a full queue or stopping does, so a busy server commits ten times a
		 * second, not once per event.
		 */
		while (!q->is_stopping && q->n_q < AUDIT_QUEUE_MAX &&
		       pthread_cond_timedwait(&q->wake, &q->qlock, &until) != ETIMEDOUT)
			;
		is_stopping = q->is_stopping;
		pthread_mutex_unlock(&q->qlock);
		(void)audit_flush(q);
	}
	return NULL;
}

int audit_open(struct audit **out, struct auth *a)
{
	struct audit *q = calloc(1, sizeof(*q));
	char *path = file_join(a->data_dir, "audit.log");
	char *db = file_join(a->data_dir, "trawl.db");
	int err = 0;

	*out = NULL;
	if (!q || !path || !db) {
		err = error_nomem("opening the audit log");
		goto fail;
	}
	q->a = a;
	q->fd = -1;
	if ((err = store_open(&q->st, db)) < 0)
		goto fail;
	/* SECURITY: appended only, never reached through a symlink, readable by the owner only. */
	q->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (q->fd < 0) {
		error_set("%s: %s", path, strerror(errno));
		err = TRAWL_EIO;
		goto fail;
	}
	pthread_mutex_init(&q->qlock, NULL);
	pthread_mutex_init(&q->flush_lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	if (pthread_create(&q->thread, NULL, writer, q) != 0) {
		error_set("%s: cannot start the audit writer", path);
		err = TRAWL_EIO;
		audit_close(q);
		q = NULL;
		goto fail;
	}
	q->has_thread = true;
	free(path);
	free(db);
	*out = q;
	return 0;
fail:
	if (q && q->fd >= 0)
		close(q->fd);
	if (q)
		store_close(q->st);
	free(q);
	free(path);
	free(db);
	return err;
}

void audit_close(struct audit *q)
{
	if (!q)
		return;
	if (q->has_thread) {
		pthread_mutex_lock(&q->qlock);
		q->is_stopping = true;
		pthread_cond_signal(&q->wake);
		pthread_mutex_unlock(&q->qlock);
		pthread_join(q->thread, NULL);
	}
	(void)audit_flush(q);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->qlock);
	pthread_mutex_destroy(&q->flush_lock);
	close(q->fd);
	store_close(q->st);
	free(q);
}

/* A copy of s cut at max bytes (never inside a UTF-8 sequence: json_put_string would mark it). */
static char *field_dup(const char *s, size_t max)
{
	size_t len = s ? strnlen(s, max + 1) : 0;

	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	return strndup(s ? s : "", len);
}

/*
 * The caller's detail object with its control bytes blanked (whitespace outside strings,
 * invalid inside them: either way the event stays one line) and its hidden characters
 * (utf8_is_hidden: bidi controls, U+2028) as \u escapes, so the line reads as it is stored.
 */
static char *detail_dup(const char *d)
{
	struct buf b;
	size_t len, i = 0, run = 0;

	if (!d || !*d)
		return strdup("{}");
	len = strlen(d);
	if (len > AUDIT_DETAIL_MAX || d[0] != '{' || d[len - 1] != '}')
		return strdup("{\"invalid_detail\":true}");
	buf_init(&b, 8 * AUDIT_DETAIL_MAX);
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(&cp, (const uint8_t *)d + i, len - i);

		if (n > 1 && utf8_is_hidden(cp)) {
			(void)buf_put(&b, d + run, i - run);
			(void)json_put_codepoint(&b, cp);
			run = i + n;
		}
		i += n ? n : 1;
	}
	if (buf_put(&b, d + run, len - run) < 0) {
		buf_dispose(&b);
		return NULL;
	}
	for (i = 0; i < b.len; i++)
		if ((unsigned char)b.ptr[i] < 0x20 || b.ptr[i] == 0x7f)
			b.ptr[i] = ' ';
	if (buf_putc(&b, '\0') < 0) {
		buf_dispose(&b);
		return NULL;
	}
	return buf_detach(&b, &len);
}

int auth_audit(struct auth *a, const char *event, const char *actor, const char *target,
	       const char *address, const char *detail_json)
{
	struct audit *q = a->audit;
	struct store_event e = {
		.ts_ms = auth_now(a),
		.event = field_dup(event, AUTH_NAME_MAX),
		.actor = field_dup(actor, AUDIT_FIELD_MAX),
		.target = field_dup(target, AUDIT_FIELD_MAX),
		.address = field_dup(address, AUDIT_FIELD_MAX),
		.detail = detail_dup(detail_json),
	};
	bool is_full;
	int err;

	if (!e.event || !e.actor || !e.target || !e.address || !e.detail) {
		events_clear(&e, 1);
		return error_nomem("auditing an event");
	}
	pthread_mutex_lock(&q->qlock);
	if ((err = ARRAY_GROW(&q->q, &q->cap_q, q->n_q + 1)) == 0) {
		q->q[q->n_q++] = e;
		memset(&e, 0, sizeof(e)); /* moved */
	}
	is_full = q->n_q >= AUDIT_QUEUE_MAX;
	/* The writer waits for the first event of a batch, then for the interval: wake it once. */
	if (q->n_q == 1)
		pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->qlock);
	events_clear(&e, 1);
	if (err < 0)
		return err;
	return is_full ? audit_flush(q) : 0;
}

void auth_events_free(struct auth_event *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].event);
		free(v[i].actor);
		free(v[i].target);
		free(v[i].address);
		free(v[i].detail);
	}
	free(v);
}

int auth_audit_list(struct auth_event **out, size_t *n, struct auth *a,
		    const struct auth_audit_filter *f)
{
	struct store_event *v = NULL;
	struct auth_event *r = NULL;
	size_t len = 0;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = audit_flush(a->audit)) < 0)
		return err;
	pthread_mutex_lock(&a->lock);
	err = store_audit_list(&v, &len, a->st, f ? f->user : NULL, f ? f->event : NULL,
			       f ? f->since_ms : 0, f && f->limit ? f->limit : 1000);
	pthread_mutex_unlock(&a->lock);
	if (err < 0)
		return err;
	if (len && !(r = calloc(len, sizeof(*r)))) {
		store_events_free(v, len);
		return error_nomem("listing audit events");
	}
	for (size_t i = 0; i < len; i++) {
		r[i] = (struct auth_event){
			.id = v[i].id,
			.ts_ms = v[i].ts_ms,
			.event = v[i].event,
			.actor = v[i].actor,
			.target = v[i].target,
			.address = v[i].address,
			.detail = v[i].detail,
		};
	}
	free(v); /* the strings moved to r */
	*out = r;
	*n = len;
	return 0;
}
