/*
 * The audit trail: every event goes to the store's audit table and, as one JSON line, to
 * DATA/audit/audit.log (opened O_APPEND, mode 0600).
 *
 * DESIGN: auth_audit only queues the event. Writing it at once would cost a transaction
 * commit (a WAL sync) per event, and every search is audited; a writer thread takes the queue
 * every AUDIT_FLUSH_MS and writes it in one transaction and one append, in the order the
 * events were queued (one flush at a time). auth_audit_list, auth_backup and auth_close flush
 * first, so what a caller queued is there when it reads. The queue is bounded: past
 * AUDIT_QUEUE_MAX events the caller flushes itself rather than growing it. Closing flushes
 * everything queued (the server closes its accounts on SIGTERM and SIGINT); a crash loses at
 * most the last AUDIT_FLUSH_MS.
 *
 * The writer also keeps the trail bounded: DATA/audit/audit.log is rotated past cfg.audit_log_max
 * (audit.log.1 ... audit.log.AUTH_AUDIT_LOG_KEEP), and once an hour the table's events older
 * than cfg.audit_retention_s (refused requests: cfg.audit_refusal_retention_s) are deleted in
 * batches of PRUNE_BATCH, each its own short write, then, past cfg.audit_max_rows, the oldest
 * events by class (prune_cap): outsiders' refusals, callers' activity, users' refusals.
 * Refused requests (auth_audit_denied) pass limits per minute first, on throttle.c's exact
 * keys: a signed-in user's on that user's own budget, an anonymous caller's on its address's
 * and on all anonymous callers' budget, a failed password on an existing account on that
 * account's budget (auth_audit_denied_account). A flood of 401s costs a counter, and one
 * "audit_suppressed" event per key says how many.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth_int.h"
#include "auth/throttle.h"
#include "util/array.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

#define AUDIT_FLUSH_MS 100
#define AUDIT_QUEUE_MAX 10000
#define AUDIT_HELD_MAX 100000
#define AUDIT_DETAIL_MAX ((size_t)64 * 1024)
#define AUDIT_FIELD_MAX 1024 /* actor, target, address: longer is cut */
#define AUDIT_TICK_MS 60000  /* how often the idle writer sweeps counts and checks retention */
#define PRUNE_EVERY_MS (60LL * 60 * 1000)
#define PRUNE_BATCH 1000
#define DAY_MS (24LL * 60 * 60 * 1000)
#define DENIED_WINDOW_MS 60000
#define DENIED_USERS 4096  /* users counted at once; the least recently refused is forgotten */
#define DENIED_ADDRS 8192  /* addresses likewise */
#define DENIED_ACCOUNTS 4096 /* accounts likewise */
#define DENIED_REPORTS 100 /* audit_suppressed events a minute, per kind of key */

/*
 * The kinds of key a refusal is counted under, and the name each has in a report. An account's
 * key is the event and the account's name, "sign_in_failed:alice".
 */
enum denied_kind { DENIED_USER, DENIED_ADDRESS, DENIED_ACCOUNT, DENIED_KINDS };
static const char *const denied_names[DENIED_KINDS] = { "user", "address", "account" };

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
	char *path;                /* DATA/audit/audit.log */
	int64_t log_size, log_max; /* under flush_lock */
	size_t n_batches;          /* under flush_lock: the writes of a non-empty queue */
	/*
	 * Under flush_lock: events in audit.log that the table refused (a database locked past the
	 * busy timeout, a full disk), written to it first at the next flush; at most AUDIT_HELD_MAX,
	 * the oldest given up beyond (n_given_up counts them).
	 */
	struct store_event *held;
	size_t n_held, cap_held, n_given_up;
	int64_t retention_ms;      /* 0: keep every event */
	pthread_mutex_t tick_lock; /* audit_tick: one at a time */
	int64_t last_prune_ms;     /* under tick_lock */
	int64_t refusal_retention_ms, max_rows; /* 0: no such bound */
	/*
	 * Refusals: per user, per address, per account attacked, all anonymous, and the reports'
	 * own budget.
	 */
	struct throttle *denied[DENIED_KINDS], *anonymous, *reports;
	pthread_mutex_t dlock;                        /* overflow */
	struct throttle_count overflow[DENIED_KINDS]; /* counts over the reports' budget */
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

static void put_time(struct buf *b, int64_t ms);

static void detail_time(struct buf *b, const char *key, int64_t ms)
{
	detail_key(b, key);
	put_time(b, ms);
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

/* audit.log.N (N >= 1), or audit.log for N = 0, in out[cap]. */
static bool rotated_name(char *out, size_t cap, const char *path, int n)
{
	int len = n ? snprintf(out, cap, "%s.%d", path, n) : snprintf(out, cap, "%s", path);

	return len > 0 && (size_t)len < cap;
}

/*
 * audit.log -> audit.log.1 -> ... -> audit.log.AUTH_AUDIT_LOG_KEEP (the oldest goes), then a
 * new audit.log. When the new file cannot be made the old descriptor stays: nothing is lost.
 */
static int log_rotate(struct audit *q)
{
	char from[4096], to[4096];
	int fd;

	for (int n = AUTH_AUDIT_LOG_KEEP - 1; n >= 0; n--) {
		if (!rotated_name(from, sizeof(from), q->path, n) ||
		    !rotated_name(to, sizeof(to), q->path, n + 1)) {
			error_set("%s: the path is too long to rotate", q->path);
			return TRAWL_EIO;
		}
		if (rename(from, to) != 0 && errno != ENOENT) {
			error_set("rotating %s to %s: %s", from, to, strerror(errno));
			return TRAWL_EIO;
		}
	}
	/* SECURITY: appended only, never reached through a symlink, readable by the owner only. */
	fd = open(q->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_set("%s: %s", q->path, strerror(errno));
		return TRAWL_EIO;
	}
	close(q->fd);
	q->fd = fd;
	q->log_size = 0;
	return 0;
}

/* Appends batch[0..n) to audit.log (under flush_lock), rotating it past its size. */
static int file_write(struct audit *q, const struct store_event *batch, size_t n)
{
	struct buf lines;
	int err = 0;

	buf_init(&lines, (size_t)1 << 30);
	for (size_t i = 0; i < n && err == 0; i++)
		err = line_put(&lines, &batch[i]);
	if (err == 0 && lines.len)
		err = file_write_all(q->fd, lines.ptr, lines.len, "audit.log");
	if (err == 0)
		q->log_size += (int64_t)lines.len;
	buf_dispose(&lines);
	if (err == 0 && q->log_size >= q->log_max)
		err = log_rotate(q);
	return err;
}

/* Keeps batch[0..n) (taken) for the table's next try, giving up the oldest past the bound. */
static void hold(struct audit *q, struct store_event *batch, size_t n)
{
	size_t over;

	/* A retry of only the held events brings no new ones (and batch may then be NULL). */
	if (n == 0)
		return;
	if (ARRAY_GROW(&q->held, &q->cap_held, q->n_held + n) < 0) {
		events_clear(batch, n);
		q->n_given_up += n;
		return;
	}
	memcpy(q->held + q->n_held, batch, n * sizeof(*batch));
	q->n_held += n;
	if (q->n_held <= AUDIT_HELD_MAX)
		return;
	over = q->n_held - AUDIT_HELD_MAX;
	events_clear(q->held, over);
	memmove(q->held, q->held + over, AUDIT_HELD_MAX * sizeof(*q->held));
	q->n_held = AUDIT_HELD_MAX;
	q->n_given_up += over;
}

/*
 * Writes what the table refused before, then batch[0..n) (taken), each in one transaction
 * (under flush_lock: the connection is the writer's). DESIGN: a table that cannot be written
 * now (another process holding the database past the busy timeout) loses nothing: the events
 * are in audit.log already and are held for the next flush, in their order.
 */
static int table_write(struct audit *q, struct store_event *batch, size_t n)
{
	int err = 0;

	if (q->n_held && (err = store_audit_add(q->st, q->held, q->n_held)) == 0) {
		events_clear(q->held, q->n_held);
		q->n_held = 0;
	}
	if (err == 0 && n)
		err = store_audit_add(q->st, batch, n);
	if (err == 0)
		events_clear(batch, n);
	else
		hold(q, batch, n);
	return err;
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
	if (n || q->n_held) {
		int ferr = 0;

		q->n_batches += n > 0;
		if (n)
			ferr = file_write(q, batch, n);
		err = table_write(q, batch, n);
		err = ferr < 0 ? ferr : err;
		/* Said once on stderr (the server's log), as the writer has no caller to tell. */
		if (err < 0 && !q->has_failed)
			fprintf(stderr, "trawl: writing the audit trail: %s (%zu events held for "
					"the table)\n",
				error_last(), q->n_held);
		q->has_failed = err < 0;
	}
	free(batch);
	pthread_mutex_unlock(&q->flush_lock);
	return err;
}

static struct timespec deadline_in(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Waits for a first event (at most AUDIT_TICK_MS), then for the next one or AUDIT_FLUSH_MS,
 * then writes; it runs audit_tick at its start and every AUDIT_TICK_MS.
 */
static void *writer(void *arg)
{
	struct audit *q = arg;
	bool is_stopping = false;
	int64_t last_tick;

	last_tick = mono_ms();
	while (!is_stopping) {
		struct timespec until = deadline_in(AUDIT_TICK_MS);

		pthread_mutex_lock(&q->qlock);
		/* Once: a reader may have flushed what woke it; it ticks then all the same. */
		if (!q->is_stopping && q->n_q == 0)
			pthread_cond_timedwait(&q->wake, &q->qlock, &until);
		/*
		 * Then the whole interval, whatever wakes it before (a spurious wake-up, a signal):
		 * only a full queue or stopping cuts it short, so a busy server commits ten times a
		 * second, not once per event.
		 */
		until = deadline_in(AUDIT_FLUSH_MS);
		while (!q->is_stopping && q->n_q > 0 && q->n_q < AUDIT_QUEUE_MAX &&
		       pthread_cond_timedwait(&q->wake, &q->qlock, &until) != ETIMEDOUT)
			;
		is_stopping = q->is_stopping;
		pthread_mutex_unlock(&q->qlock);
		(void)audit_flush(q);
		if (!is_stopping && mono_ms() - last_tick >= AUDIT_TICK_MS) {
			last_tick = mono_ms();
			audit_tick(q);
		}
	}
	return NULL;
}

/* The limiters of refused requests: a bucket of n a minute per key. */
static int denied_open(struct audit *q)
{
	const struct throttle_rule per_key = { AUTH_AUDIT_DENIED_PER_MIN,
					       AUTH_AUDIT_DENIED_PER_MIN * 60.0 };
	const struct throttle_rule all = { AUTH_AUDIT_DENIED_ALL_PER_MIN,
					   AUTH_AUDIT_DENIED_ALL_PER_MIN * 60.0 };
	const struct throttle_rule reports = { DENIED_REPORTS, DENIED_REPORTS * 60.0 };
	int err;

	if ((err = throttle_new(&q->denied[DENIED_USER], &per_key, DENIED_USERS)) < 0 ||
	    (err = throttle_new(&q->denied[DENIED_ADDRESS], &per_key, DENIED_ADDRS)) < 0 ||
	    (err = throttle_new(&q->denied[DENIED_ACCOUNT], &per_key, DENIED_ACCOUNTS)) < 0 ||
	    (err = throttle_new(&q->anonymous, &all, 1)) < 0)
		return err;
	return throttle_new(&q->reports, &reports, DENIED_KINDS);
}

/* The events of a data directory that opens its accounts: the file, the store, the writer. */
static int audit_start(struct audit *q, struct auth *a)
{
	struct stat sb;
	char *db = store_location(a->data_dir);
	int err = 0;

	q->a = a;
	q->fd = -1;
	q->log_max = a->cfg.audit_log_max > 0 ? a->cfg.audit_log_max : AUTH_AUDIT_LOG_MAX;
	q->retention_ms = a->cfg.audit_retention_s > 0 ? a->cfg.audit_retention_s * 1000 : 0;
	q->refusal_retention_ms =
		a->cfg.audit_refusal_retention_s > 0 ? a->cfg.audit_refusal_retention_s * 1000 : 0;
	q->max_rows = a->cfg.audit_max_rows > 0 ? a->cfg.audit_max_rows : 0;
	pthread_mutex_init(&q->qlock, NULL);
	pthread_mutex_init(&q->flush_lock, NULL);
	pthread_mutex_init(&q->tick_lock, NULL);
	pthread_mutex_init(&q->dlock, NULL);
	pthread_cond_init(&q->wake, NULL);
	if (!db || !(q->path = file_join(a->data_dir, AUTH_AUDIT_DIR "/" AUTH_AUDIT_FILE))) {
		free(db);
		return error_nomem("opening the audit log");
	}
	if ((err = denied_open(q)) < 0) {
		free(db);
		return err;
	}
	err = store_open(&q->st, db);
	free(db);
	if (err < 0)
		return err;
	/* SECURITY: appended only, never reached through a symlink, readable by the owner only. */
	q->fd = open(q->path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (q->fd < 0 || fstat(q->fd, &sb) != 0) {
		error_set("%s: %s", q->path, strerror(errno));
		return TRAWL_EIO;
	}
	q->log_size = (int64_t)sb.st_size;
	/*
	 * The retention applies from the start: here, before the writer runs, not on its thread
	 * whenever it first gets a core (a late first sweep wrote into whatever came after the
	 * open, e.g. a minute's refusal count split in two, a session touch put off as busy).
	 */
	audit_tick(q);
	if (pthread_create(&q->thread, NULL, writer, q) != 0) {
		error_set("%s: cannot start the audit writer", q->path);
		return TRAWL_EIO;
	}
	q->has_thread = true;
	return 0;
}

int audit_open(struct audit **out, struct auth *a)
{
	struct audit *q = calloc(1, sizeof(*q));
	int err;

	*out = NULL;
	if (!q)
		return error_nomem("opening the audit log");
	if ((err = audit_start(q, a)) < 0) {
		audit_close(q);
		return err;
	}
	*out = q;
	return 0;
}

static void denied_sweep(struct audit *q, int64_t now, bool is_all);

size_t audit_batches(struct audit *q)
{
	size_t n;

	pthread_mutex_lock(&q->flush_lock);
	n = q->n_batches;
	pthread_mutex_unlock(&q->flush_lock);
	return n;
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
	/* What is still counted or queued is written before the process goes. */
	if (q->reports && q->fd >= 0)
		denied_sweep(q, auth_now(q->a), true);
	if (q->fd >= 0)
		(void)audit_flush(q);
	if (q->n_held + q->n_given_up)
		fprintf(stderr,
			"trawl: %zu audit events are in %s but could not be written to the audit "
			"table\n",
			q->n_held + q->n_given_up, q->path ? q->path : "audit.log");
	events_clear(q->held, q->n_held);
	free(q->held);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->qlock);
	pthread_mutex_destroy(&q->flush_lock);
	pthread_mutex_destroy(&q->tick_lock);
	pthread_mutex_destroy(&q->dlock);
	if (q->fd >= 0)
		close(q->fd);
	store_close(q->st);
	for (int k = 0; k < DENIED_KINDS; k++)
		throttle_free(q->denied[k]);
	throttle_free(q->anonymous);
	throttle_free(q->reports);
	free(q->path);
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


static int event_make(struct store_event *e, struct auth *a, const char *event,
		      const char *actor, const char *target, const char *address,
		      const char *detail_json)
{
	*e = (struct store_event){
		.ts_ms = auth_now(a),
		.event = field_dup(event, AUTH_NAME_MAX),
		.actor = field_dup(actor, AUDIT_FIELD_MAX),
		.target = field_dup(target, AUDIT_FIELD_MAX),
		.address = field_dup(address, AUDIT_FIELD_MAX),
		.detail = detail_dup(detail_json),
	};
	if (!e->event || !e->actor || !e->target || !e->address || !e->detail) {
		events_clear(e, 1);
		return error_nomem("auditing an event");
	}
	return 0;
}

/* Queues *e (moved: cleared either way). Whether the queue is full: the caller flushes. */
static int queue_push(struct audit *q, struct store_event *e, bool *is_full)
{
	int err;

	pthread_mutex_lock(&q->qlock);
	if ((err = ARRAY_GROW(&q->q, &q->cap_q, q->n_q + 1)) == 0) {
		q->q[q->n_q++] = *e;
		memset(e, 0, sizeof(*e)); /* moved */
	}
	*is_full = q->n_q >= AUDIT_QUEUE_MAX;
	/* The writer waits for the first event of a batch, then for the interval: wake it once. */
	if (q->n_q == 1)
		pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->qlock);
	events_clear(e, 1);
	return err;
}

int auth_audit(struct auth *a, const char *event, const char *actor, const char *target,
	       const char *address, const char *detail_json)
{
	struct store_event e;
	bool is_full = false;
	int err;

	if ((err = event_make(&e, a, event, actor, target, address, detail_json)) < 0 ||
	    (err = queue_push(a->audit, &e, &is_full)) < 0)
		return err;
	return is_full ? audit_flush(a->audit) : 0;
}

/* ---- refused requests: bounded per user, per address, per account and in all ---- */

/*
 * Queues an "audit_suppressed" event for c: under its user, address, or account (the target,
 * with the event in the detail), or, for a sum over several keys, under none with their number.
 */
static void report_push(struct audit *q, enum denied_kind kind, const struct throttle_count *c)
{
	bool is_one = c->n_keys == 1 && c->key[0];
	const char *key = is_one ? c->key : "";
	const char *sep = kind == DENIED_ACCOUNT ? strchr(key, ':') : NULL;
	char event[THROTTLE_KEY_MAX + 1];
	struct store_event e;
	struct buf d;
	bool is_full;

	detail_begin(&d);
	detail_int(&d, "count", c->count > INT64_MAX ? INT64_MAX : (int64_t)c->count);
	detail_time(&d, "since", c->since_ms);
	detail_str(&d, "bound", denied_names[kind]);
	if (!is_one)
		detail_int(&d, "keys", c->n_keys > INT64_MAX ? INT64_MAX : (int64_t)c->n_keys);
	if (sep) {
		snprintf(event, sizeof(event), "%.*s", (int)(sep - key), key);
		detail_str(&d, "event", event);
	}
	if (event_make(&e, q->a, "audit_suppressed", kind == DENIED_USER ? key : "",
		       sep ? sep + 1 : "", kind == DENIED_ADDRESS ? key : "", detail_end(&d)) == 0)
		(void)queue_push(q, &e, &is_full);
	buf_dispose(&d);
}

/* Reports c within the reports' budget; past it, c joins the kind's overflow sum. */
static void report(struct audit *q, enum denied_kind kind, const struct throttle_count *c,
		   int64_t now)
{
	unsigned retry_after_s;

	if (!c->count)
		return;
	if (throttle_admit(q->reports, denied_names[kind], now, &retry_after_s)) {
		report_push(q, kind, c);
		return;
	}
	pthread_mutex_lock(&q->dlock);
	throttle_count_fold(&q->overflow[kind], c);
	pthread_mutex_unlock(&q->dlock);
}

/*
 * Reports every count a minute old (is_all: every count, when closing): at most
 * DENIED_REPORTS of each kind a sweep by key, the others and the overflow in one sum.
 */
static void denied_sweep(struct audit *q, int64_t now, bool is_all)
{
	struct throttle_count *v = calloc(DENIED_REPORTS, sizeof(*v)), rest;

	if (!v)
		return; /* the counts stay for the next sweep */
	for (int k = 0; k < DENIED_KINDS; k++) {
		size_t n = throttle_drain(q->denied[k], now, is_all ? 0 : DENIED_WINDOW_MS, v,
					  DENIED_REPORTS, &rest);

		for (size_t i = 0; i < n; i++)
			report(q, (enum denied_kind)k, &v[i], now);
		pthread_mutex_lock(&q->dlock);
		throttle_count_fold(&rest, &q->overflow[k]);
		memset(&q->overflow[k], 0, sizeof(q->overflow[k]));
		pthread_mutex_unlock(&q->dlock);
		if (rest.count)
			report_push(q, (enum denied_kind)k, &rest);
	}
	free(v);
}

/*
 * Whether to audit a refusal: a signed-in user's against the user's budget alone, an
 * anonymous caller's against its address's and all anonymous callers'. A refusal dropped by
 * the all-anonymous budget is counted under its address all the same, so the report says
 * where the flood came from. *due: a count of key a minute old, to report now.
 */
static bool denied_admit(struct audit *q, const char *actor, const char *address, int64_t now,
			 enum denied_kind *kind, struct throttle_count due[2])
{
	unsigned retry_after_s;

	*kind = *actor ? DENIED_USER : DENIED_ADDRESS;
	memset(&due[1], 0, sizeof(due[1]));
	if (!throttle_admit_counting(q->denied[*kind], *actor ? actor : address, now,
				     DENIED_WINDOW_MS, &due[0]))
		return false;
	if (*kind == DENIED_USER || throttle_admit(q->anonymous, "all", now, &retry_after_s))
		return true;
	throttle_count(q->denied[DENIED_ADDRESS], address, now, DENIED_WINDOW_MS, &due[1]);
	return false;
}

int auth_audit_denied(struct auth *a, const char *event, const char *actor, const char *target,
		      const char *address, const char *detail_json)
{
	struct throttle_count due[2];
	enum denied_kind kind;
	int64_t now = auth_now(a);
	bool is_admitted =
		denied_admit(a->audit, actor ? actor : "", address ? address : "", now, &kind, due);

	report(a->audit, kind, &due[0], now);
	report(a->audit, kind, &due[1], now);
	if (!is_admitted)
		return 0;
	return auth_audit(a, event, actor, target, address, detail_json);
}

int auth_audit_denied_account(struct auth *a, const char *event, const char *account,
			      const char *address, const char *detail_json)
{
	char key[THROTTLE_KEY_MAX + 1];
	struct throttle_count due;
	int64_t now = auth_now(a);
	bool is_admitted;

	snprintf(key, sizeof(key), "%s:%s", event, account);
	is_admitted = throttle_admit_counting(a->audit->denied[DENIED_ACCOUNT], key, now,
					      DENIED_WINDOW_MS, &due);
	report(a->audit, DENIED_ACCOUNT, &due, now);
	if (!is_admitted)
		return 0;
	return auth_audit(a, event, "", account, address, detail_json);
}

/* ---- retention ---- */

/*
 * What a prune may delete: any event, refused requests only, or one class of the row cap:
 * outsiders' refusals, callers' activity, signed-in users' refusals.
 */
enum prune_class {
	PRUNE_ANY,
	PRUNE_REFUSALS,
	PRUNE_OUTSIDERS,
	PRUNE_ACTIVITY,
	PRUNE_USERS,
};

/* One batch of prune(), by class, under flush_lock. */
static int prune_batch(struct audit *q, enum prune_class cls, int64_t before_ms, size_t batch,
		       size_t *n)
{
	switch (cls) {
	case PRUNE_REFUSALS:
		return store_audit_prune_refusals(q->st, before_ms, batch, n);
	case PRUNE_OUTSIDERS:
		return store_audit_prune_outsider_refusals(q->st, before_ms, batch, n);
	case PRUNE_ACTIVITY:
		return store_audit_prune_activity(q->st, before_ms, batch, n);
	case PRUNE_USERS:
		return store_audit_prune_user_refusals(q->st, before_ms, batch, n);
	case PRUNE_ANY:
		break;
	}
	return store_audit_prune(q->st, before_ms, batch, n);
}

/*
 * Deletes events of class cls older than before_ms, oldest first, batch by batch, at most max
 * of them (0: no limit).
 */
static int prune(struct audit *q, enum prune_class cls, int64_t before_ms, int64_t max,
		 int64_t *n_pruned)
{
	size_t n = 0, batch;
	int err = 0;

	*n_pruned = 0;
	do {
		batch = max > 0 && max - *n_pruned < PRUNE_BATCH ? (size_t)(max - *n_pruned)
								 : PRUNE_BATCH;
		if (batch == 0)
			break;
		pthread_mutex_lock(&q->flush_lock);
		err = prune_batch(q, cls, before_ms, batch, &n);
		pthread_mutex_unlock(&q->flush_lock);
		*n_pruned += (int64_t)n;
	} while (err == 0 && n == batch);
	return err;
}

/* Queues the "audit_pruned" event of a prune whose detail is d. */
static int pruned_push(struct audit *q, const char *actor, const char *address, struct buf *d)
{
	struct store_event e;
	bool is_full;
	int err;

	if ((err = event_make(&e, q->a, "audit_pruned", actor, "", address, detail_end(d))) == 0)
		err = queue_push(q, &e, &is_full);
	buf_dispose(d);
	return err;
}

static int prune_audited(struct audit *q, const char *actor, const char *address, int64_t before_ms,
			 int64_t *n_pruned)
{
	struct buf d;
	int err = audit_flush(q); /* what is queued may be old enough too */

	*n_pruned = 0;
	if (err == 0)
		err = prune(q, PRUNE_ANY, before_ms, 0, n_pruned);
	if (err < 0)
		return err;
	detail_begin(&d);
	detail_time(&d, "before", before_ms);
	detail_int(&d, "count", *n_pruned);
	return pruned_push(q, actor, address, &d);
}

/* How many events past cfg.audit_max_rows the table holds (0: none or no cap). */
static int64_t rows_over(struct audit *q)
{
	int64_t n = 0;

	if (!q->max_rows)
		return 0;
	pthread_mutex_lock(&q->flush_lock);
	if (store_audit_rows(q->st, &n) < 0)
		n = 0;
	pthread_mutex_unlock(&q->flush_lock);
	return n > q->max_rows ? n - q->max_rows : 0;
}

/* What the row cap took from each class, and how far over it the table stays. */
struct cap_counts {
	int64_t by_class[3]; /* outsiders' refusals, activity, users' refusals */
	int64_t kept;
};

/*
 * The row cap, by class, the oldest first within each: outsiders' refusals (anonymous 401s,
 * failed sign-ins and their counts), then callers' activity (searches, sign-ins, what users
 * do to their own account), then signed-in users' refusals, never the administrators' record
 * (accounts, groups, grants, tokens, repositories). So a flood of the table must not erase
 * who changed what, and an insider's own activity must not erase the record of their probing
 * (which AUTH_AUDIT_DENIED_PER_MIN a minute per user bounds). When that record alone is over
 * the cap it is kept, and said on stderr; c->kept is how far over the table stays.
 */
static int prune_cap(struct audit *q, struct cap_counts *c)
{
	static const enum prune_class order[] = { PRUNE_OUTSIDERS, PRUNE_ACTIVITY, PRUNE_USERS };
	int64_t left = rows_over(q);
	int err = 0;

	*c = (struct cap_counts){ .kept = 0 };
	for (size_t i = 0; i < 3 && left > 0 && err == 0; i++) {
		err = prune(q, order[i], INT64_MAX, left, &c->by_class[i]);
		left -= c->by_class[i];
	}
	if (err == 0 && (c->kept = left) > 0)
		fprintf(stderr,
			"trawl: the audit table keeps %lld events over --audit-max-rows %lld: they "
			"record account, group, grant, token and repository changes, which the cap "
			"never deletes (--audit-retention does)\n",
			(long long)c->kept, (long long)q->max_rows);
	return err;
}

/* The row cap's part of an audit_pruned event's detail. */
static void cap_detail(struct buf *d, const struct audit *q, const struct cap_counts *c)
{
	int64_t n_refusals = c->by_class[0] + c->by_class[2];

	detail_int(d, "max_rows", q->max_rows);
	detail_int(d, "over_max_rows", n_refusals + c->by_class[1]);
	detail_int(d, "over_max_rows_refusals", n_refusals);
	detail_int(d, "over_max_rows_user_refusals", c->by_class[2]);
	detail_int(d, "over_max_rows_activity", c->by_class[1]);
	detail_int(d, "over_max_rows_kept", c->kept);
}

/*
 * The writer's bounds, in order: the retention, the refusals' shorter retention, then the row
 * cap (prune_cap). One "audit_pruned" event says what each took.
 */
static int prune_bounds(struct audit *q, int64_t now)
{
	int64_t n_old = 0, n_refusals = 0, n_cap;
	struct cap_counts cap = { .kept = 0 };
	struct buf d;
	int err = audit_flush(q);

	if (err == 0 && q->retention_ms)
		err = prune(q, PRUNE_ANY, now - q->retention_ms, 0, &n_old);
	if (err == 0 && q->refusal_retention_ms)
		err = prune(q, PRUNE_REFUSALS, now - q->refusal_retention_ms, 0, &n_refusals);
	if (err == 0)
		err = prune_cap(q, &cap);
	n_cap = cap.by_class[0] + cap.by_class[1] + cap.by_class[2];
	if (n_old + n_refusals + n_cap + cap.kept == 0)
		return err;
	detail_begin(&d);
	if (q->retention_ms) {
		detail_time(&d, "before", now - q->retention_ms);
		detail_int(&d, "retention_days", q->retention_ms / DAY_MS);
	}
	detail_int(&d, "count", n_old + n_refusals + n_cap);
	if (q->refusal_retention_ms) {
		detail_int(&d, "refusal_retention_days", q->refusal_retention_ms / DAY_MS);
		detail_int(&d, "refusals_expired", n_refusals);
	}
	if (q->max_rows)
		cap_detail(&d, q, &cap);
	(void)pruned_push(q, "", "", &d);
	return err;
}

void audit_tick(struct audit *q)
{
	int64_t now = auth_now(q->a);

	denied_sweep(q, now, false);
	pthread_mutex_lock(&q->tick_lock);
	if ((q->retention_ms || q->refusal_retention_ms || q->max_rows) &&
	    (!q->last_prune_ms || now - q->last_prune_ms >= PRUNE_EVERY_MS ||
	     now < q->last_prune_ms)) {
		q->last_prune_ms = now;
		(void)prune_bounds(q, now);
	}
	pthread_mutex_unlock(&q->tick_lock);
}

int auth_audit_prune(struct auth *a, const struct auth_actor *by, int64_t before_ms,
		     int64_t *n_pruned)
{
	int64_t n = 0;
	int err = prune_audited(a->audit, actor_name(by), actor_address(by), before_ms, &n);

	if (n_pruned)
		*n_pruned = n;
	return err < 0 ? err : audit_flush(a->audit);
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
