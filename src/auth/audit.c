/*
 * The audit trail: every event goes to the store's audit table and, as one JSON line, to
 * DATA/audit.log (opened O_APPEND, mode 0600).
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
 * The writer also keeps the trail bounded: DATA/audit.log is rotated past cfg.audit_log_max
 * (audit.log.1 ... audit.log.AUTH_AUDIT_LOG_KEEP), and once an hour the table's events older
 * than cfg.audit_retention_s are deleted in batches of PRUNE_BATCH, each its own short write.
 * Refused requests (auth_audit_denied) pass a per-address and an all-address limit per minute
 * first: a flood of 401s costs a counter, and one "audit_suppressed" event says how many.
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
#include "util/array.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

#define AUDIT_FLUSH_MS 100
#define AUDIT_QUEUE_MAX 10000
#define AUDIT_DETAIL_MAX ((size_t)64 * 1024)
#define AUDIT_FIELD_MAX 1024 /* actor, target, address: longer is cut */
#define AUDIT_TICK_MS 60000  /* how often the idle writer sweeps counts and checks retention */
#define PRUNE_EVERY_MS (60LL * 60 * 1000)
#define PRUNE_BATCH 1000
#define DENIED_WINDOW_MS 60000
#define DENIED_SLOTS 4096 /* addresses counted at once; a new one displaces its slot's */
#define DENIED_ADDR_MAX 64

/* The refusals of one address (or of all: address "") in the current minute. */
struct denied_slot {
	char address[DENIED_ADDR_MAX];
	int64_t since_ms; /* the minute's start */
	uint64_t n, n_suppressed;
};

/* A count of suppressed refusals to report. */
struct denied_report {
	char address[DENIED_ADDR_MAX];
	int64_t since_ms;
	uint64_t count;
};

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
	char *path;                /* DATA/audit.log */
	int64_t log_size, log_max; /* under flush_lock */
	size_t n_batches;          /* under flush_lock: the writes of a non-empty queue */
	int64_t retention_ms;      /* 0: keep every event */
	pthread_mutex_t tick_lock; /* audit_tick: one at a time */
	int64_t last_prune_ms;     /* under tick_lock */
	pthread_mutex_t dlock;     /* slots and all */
	struct denied_slot *slots; /* DENIED_SLOTS */
	struct denied_slot all;
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

/* Writes batch[0..n) to the file and the table (under flush_lock). */
static int batch_write(struct audit *q, const struct store_event *batch, size_t n)
{
	struct buf lines;
	int err = 0, serr;

	buf_init(&lines, (size_t)1 << 30);
	for (size_t i = 0; i < n && err == 0; i++)
		err = line_put(&lines, &batch[i]);
	if (err == 0 && lines.len)
		err = file_write_all(q->fd, lines.ptr, lines.len, "audit.log");
	if (err == 0)
		q->log_size += (int64_t)lines.len;
	buf_dispose(&lines);
	serr = store_audit_add(q->st, batch, n); /* under flush_lock: the connection is the writer's */
	if (err == 0 && serr == 0 && q->log_size >= q->log_max)
		err = log_rotate(q);
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
		q->n_batches++;
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

	audit_tick(q); /* the retention applies from the start */
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

/* The events of a data directory that opens its accounts: the file, the store, the writer. */
static int audit_start(struct audit *q, struct auth *a)
{
	struct stat sb;
	char *db = file_join(a->data_dir, "trawl.db");
	int err = 0;

	q->a = a;
	q->fd = -1;
	q->log_max = a->cfg.audit_log_max > 0 ? a->cfg.audit_log_max : AUTH_AUDIT_LOG_MAX;
	q->retention_ms = a->cfg.audit_retention_s > 0 ? a->cfg.audit_retention_s * 1000 : 0;
	pthread_mutex_init(&q->qlock, NULL);
	pthread_mutex_init(&q->flush_lock, NULL);
	pthread_mutex_init(&q->tick_lock, NULL);
	pthread_mutex_init(&q->dlock, NULL);
	pthread_cond_init(&q->wake, NULL);
	if (!db || !(q->path = file_join(a->data_dir, "audit.log")) ||
	    !(q->slots = calloc(DENIED_SLOTS, sizeof(*q->slots)))) {
		free(db);
		return error_nomem("opening the audit log");
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
	if (q->slots && q->fd >= 0)
		denied_sweep(q, auth_now(q->a), true);
	if (q->fd >= 0)
		(void)audit_flush(q);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->qlock);
	pthread_mutex_destroy(&q->flush_lock);
	pthread_mutex_destroy(&q->tick_lock);
	pthread_mutex_destroy(&q->dlock);
	if (q->fd >= 0)
		close(q->fd);
	store_close(q->st);
	free(q->slots);
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

/* ---- refused requests: a bounded count per address ---- */

/* Ends s's minute when it is over: the count it suppressed goes to r (false: nothing to say). */
static bool window_roll(struct denied_report *r, struct denied_slot *s, int64_t now, bool is_all)
{
	bool has_report = false;

	if (!is_all && now - s->since_ms < DENIED_WINDOW_MS && now >= s->since_ms)
		return false;
	if (s->n_suppressed) {
		snprintf(r->address, sizeof(r->address), "%s", s->address);
		r->since_ms = s->since_ms;
		r->count = s->n_suppressed;
		has_report = true;
	}
	s->since_ms = now;
	s->n = s->n_suppressed = 0;
	return has_report;
}

/* Whether one more event fits the all-address minute; when not, count is added to it. */
static bool all_admit(struct audit *q, uint64_t count)
{
	if (q->all.n < AUTH_AUDIT_DENIED_ALL_PER_MIN) {
		q->all.n++;
		return true;
	}
	q->all.n_suppressed += count;
	return false;
}

static size_t slot_of(const char *address)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)address; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % DENIED_SLOTS;
}

/*
 * Counts a refusal from address: whether to audit it; reports[0..*n_reports) (at most 3) are
 * counts whose minute ended (a displaced address's, this address's, all addresses').
 */
static bool denied_admit(struct audit *q, const char *address, int64_t now,
			 struct denied_report reports[3], size_t *n_reports)
{
	struct denied_slot *s = &q->slots[slot_of(address)];
	struct denied_report r;
	size_t n = 0;
	bool is_admitted;

	pthread_mutex_lock(&q->dlock);
	if (window_roll(&r, &q->all, now, false))
		reports[n++] = r; /* at most one a minute: never itself suppressed */
	if (strncmp(s->address, address, sizeof(s->address) - 1) != 0) {
		if (window_roll(&r, s, now, true) && all_admit(q, r.count))
			reports[n++] = r;
		snprintf(s->address, sizeof(s->address), "%s", address);
	}
	if (window_roll(&r, s, now, false) && all_admit(q, r.count))
		reports[n++] = r;
	is_admitted = s->n < AUTH_AUDIT_DENIED_PER_MIN;
	if (is_admitted)
		s->n++;
	else
		s->n_suppressed++;
	is_admitted = is_admitted && all_admit(q, 1);
	pthread_mutex_unlock(&q->dlock);
	*n_reports = n;
	return is_admitted;
}

/* Queues an "audit_suppressed" event for r. */
static void report_push(struct audit *q, const struct denied_report *r)
{
	struct store_event e;
	struct buf d;
	bool is_full;

	detail_begin(&d);
	detail_int(&d, "count", r->count > INT64_MAX ? INT64_MAX : (int64_t)r->count);
	detail_time(&d, "since", r->since_ms);
	if (event_make(&e, q->a, "audit_suppressed", "", "", r->address, detail_end(&d)) == 0)
		(void)queue_push(q, &e, &is_full);
	buf_dispose(&d);
}

/* Reports every count whose minute is over (is_all: every count, when closing). */
static void denied_sweep(struct audit *q, int64_t now, bool is_all)
{
	struct denied_report *v = NULL, r;
	size_t n = 0, cap = 0;

	pthread_mutex_lock(&q->dlock);
	for (size_t i = 0; i < DENIED_SLOTS; i++) {
		struct denied_slot *s = &q->slots[i];

		if (!s->n_suppressed || !window_roll(&r, s, now, is_all) || !all_admit(q, r.count))
			continue;
		if (ARRAY_GROW(&v, &cap, n + 1) == 0)
			v[n++] = r;
	}
	/* The all-address count last, with what this sweep added to it. */
	if (q->all.n_suppressed && window_roll(&r, &q->all, now, is_all) &&
	    ARRAY_GROW(&v, &cap, n + 1) == 0)
		v[n++] = r;
	pthread_mutex_unlock(&q->dlock);
	for (size_t i = 0; i < n; i++)
		report_push(q, &v[i]);
	free(v);
}

int auth_audit_denied(struct auth *a, const char *event, const char *actor, const char *target,
		      const char *address, const char *detail_json)
{
	struct denied_report reports[3];
	size_t n_reports = 0;
	bool is_admitted = denied_admit(a->audit, address ? address : "", auth_now(a), reports,
					&n_reports);

	for (size_t i = 0; i < n_reports; i++)
		report_push(a->audit, &reports[i]);
	if (!is_admitted)
		return 0;
	return auth_audit(a, event, actor, target, address, detail_json);
}

/* ---- retention ---- */

/* Deletes the table's events older than before_ms, batch by batch. */
static int prune(struct audit *q, int64_t before_ms, int64_t *n_pruned)
{
	size_t n = 0;
	int err;

	*n_pruned = 0;
	do {
		pthread_mutex_lock(&q->flush_lock);
		err = store_audit_prune(q->st, before_ms, PRUNE_BATCH, &n);
		pthread_mutex_unlock(&q->flush_lock);
		*n_pruned += (int64_t)n;
	} while (err == 0 && n == PRUNE_BATCH);
	return err;
}

static int prune_audited(struct audit *q, const char *actor, const char *address,
			 int64_t before_ms, bool is_always, int64_t *n_pruned)
{
	struct store_event e;
	struct buf d;
	bool is_full;
	int err = audit_flush(q); /* what is queued may be old enough too */

	*n_pruned = 0;
	if (err == 0)
		err = prune(q, before_ms, n_pruned);
	if (err < 0 || (!*n_pruned && !is_always))
		return err;
	detail_begin(&d);
	detail_time(&d, "before", before_ms);
	detail_int(&d, "count", *n_pruned);
	if (q->retention_ms && !is_always)
		detail_int(&d, "retention_days", q->retention_ms / (24LL * 60 * 60 * 1000));
	if ((err = event_make(&e, q->a, "audit_pruned", actor, "", address, detail_end(&d))) == 0)
		err = queue_push(q, &e, &is_full);
	buf_dispose(&d);
	return err;
}

void audit_tick(struct audit *q)
{
	int64_t now = auth_now(q->a), n;

	denied_sweep(q, now, false);
	pthread_mutex_lock(&q->tick_lock);
	if (q->retention_ms && (!q->last_prune_ms || now - q->last_prune_ms >= PRUNE_EVERY_MS ||
				now < q->last_prune_ms)) {
		q->last_prune_ms = now;
		(void)prune_audited(q, "", "", now - q->retention_ms, false, &n);
	}
	pthread_mutex_unlock(&q->tick_lock);
}

int auth_audit_prune(struct auth *a, const struct auth_actor *by, int64_t before_ms,
		     int64_t *n_pruned)
{
	int64_t n = 0;
	int err = prune_audited(a->audit, actor_name(by), actor_address(by), before_ms, true, &n);

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
