/*
 * Unit tests for src/auth/audit.c's bounds on the audit trail, against a real store in a
 * temporary data directory with an injected clock: refused requests are audited at most
 * AUTH_AUDIT_DENIED_PER_MIN a minute per signed-in user, or per address and
 * AUTH_AUDIT_DENIED_ALL_PER_MIN in all for anonymous callers, the rest counted by user or
 * address into "audit_suppressed" events (L1), which are bounded too; no anonymous flood
 * crowds out a user's refusals; addresses are counted apart however they hash; closing writes
 * everything queued or counted; DATA/audit/audit.log is rotated at its size limit; old events are
 * pruned by hand and by the writer's retention, refusals (failed sign-ins too) sooner, and
 * past the row cap outsiders' refusals first, then activity (a user's own account changes
 * too), then users' refusals, never the administrators' record, in
 * batches, and the pruning is audited.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "unit/auth/clock.h"
#include "unit/testlib.h"
#include "util/error.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

static int seq;
static char data_dir[256];

static struct auth *open_cfg(const struct auth_config *extra)
{
	struct auth_config cfg = { .audit_log_max = 0 };
	struct auth *a = NULL;

	if (extra)
		cfg = *extra;
	cfg.clock = test_clock;
	cfg.pwhash_cost = AUTH_PWHASH_TEST;
	if (auth_open(&a, data_dir, &cfg) < 0)
		fail_msg("auth_open %s: %s", data_dir, error_last());
	return a;
}

/* A new data directory and its accounts. */
static struct auth *open_fresh(const struct auth_config *cfg)
{
	snprintf(data_dir, sizeof(data_dir), "%s/audit%d", testlib_tmpdir(), ++seq);
	testlib_fresh_db(NULL);
	return open_cfg(cfg);
}

static struct auth *reopen(struct auth *a, const struct auth_config *cfg)
{
	auth_close(a);
	return open_cfg(cfg);
}

/* The events of kind event (NULL: all), oldest first. */
static size_t events(struct auth_event **out, struct auth *a, const char *event)
{
	struct auth_audit_filter f = { .event = event, .limit = 1000000 };
	size_t n = 0;

	if (auth_audit_list(out, &n, a, &f) < 0)
		fail_msg("auth_audit_list: %s", error_last());
	return n;
}

static size_t count(struct auth *a, const char *event, const char *address)
{
	struct auth_event *v = NULL;
	size_t n = events(&v, a, event), k = 0;

	for (size_t i = 0; i < n; i++)
		k += !address || strcmp(v[i].address, address) == 0;
	auth_events_free(v, n);
	return k;
}

/* The integer member key of the detail of the only event of kind event from address. */
static json_int_t detail_int_of(struct auth *a, const char *event, const char *address,
				const char *key)
{
	struct auth_event *v = NULL;
	size_t n = events(&v, a, event), found = 0;
	json_int_t value = -1;

	for (size_t i = 0; i < n; i++) {
		json_t *j;

		if (strcmp(v[i].address, address) != 0)
			continue;
		found++;
		j = json_loads(v[i].detail, 0, NULL);
		assert_non_null(j);
		value = json_integer_value(json_object_get(j, key));
		json_decref(j);
	}
	auth_events_free(v, n);
	if (found != 1)
		fail_msg("%zu %s events from \"%s\", expected one", found, event, address);
	return value;
}

static void deny(struct auth *a, const char *address, int times)
{
	for (int i = 0; i < times; i++)
		assert_int_equal(auth_audit_denied(a, "unauthorized", "", "/api/v1/repos", address,
						   "{\"status\":401}"),
				 0);
}

static void deny_as(struct auth *a, const char *event, const char *actor, const char *address,
		    int times)
{
	for (int i = 0; i < times; i++)
		assert_int_equal(auth_audit_denied(a, event, actor, "secret-repo", address,
						   "{\"status\":404}"),
				 0);
}

/* The events of kind event by actor (NULL: any) from address (NULL: any). */
static size_t count_by(struct auth *a, const char *event, const char *actor, const char *address)
{
	struct auth_event *v = NULL;
	size_t n = events(&v, a, event), k = 0;

	for (size_t i = 0; i < n; i++)
		k += (!actor || strcmp(v[i].actor, actor) == 0) &&
		     (!address || strcmp(v[i].address, address) == 0);
	auth_events_free(v, n);
	return k;
}

/* The sum of detail member key over the audit_suppressed events; *n_events their number. */
static json_int_t suppressed_sum(struct auth *a, const char *key, size_t *n_events)
{
	struct auth_event *v = NULL;
	size_t n = events(&v, a, "audit_suppressed");
	json_int_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		json_t *j = json_loads(v[i].detail, 0, NULL);

		assert_non_null(j);
		sum += json_integer_value(json_object_get(j, key));
		json_decref(j);
	}
	auth_events_free(v, n);
	*n_events = n;
	return sum;
}

static void refusals_are_bounded_per_address_then_counted(void **state)
{
	struct auth *a = open_fresh(NULL);

	(void)state;
	deny(a, "10.0.0.9", 25);
	deny(a, "10.0.0.8", 3);
	assert_int_equal(count(a, "unauthorized", "10.0.0.9"), AUTH_AUDIT_DENIED_PER_MIN);
	assert_int_equal(count(a, "unauthorized", "10.0.0.8"), 3);
	assert_int_equal(count(a, "audit_suppressed", NULL), 0);
	/* The next minute: the count of the last one goes out with the first new refusal. */
	now_ms += 61LL * 1000;
	deny(a, "10.0.0.9", 1);
	assert_int_equal(detail_int_of(a, "audit_suppressed", "10.0.0.9", "count"),
			 25 - AUTH_AUDIT_DENIED_PER_MIN);
	assert_int_equal(count(a, "unauthorized", "10.0.0.9"), AUTH_AUDIT_DENIED_PER_MIN + 1);
	auth_close(a);
}

static void a_million_refusals_write_a_bounded_trail(void **state)
{
	struct auth *a = open_fresh(NULL);
	struct stat sb;
	char path[512];

	(void)state;
	for (int minute = 0; minute < 10; minute++) {
		deny(a, "192.0.2.1", 100000);
		now_ms += 60LL * 1000;
	}
	a = reopen(a, NULL);
	/* Ten minutes: ten events and one count a minute. */
	assert_int_equal(count(a, "unauthorized", NULL), 10 * AUTH_AUDIT_DENIED_PER_MIN);
	assert_int_equal(count(a, "audit_suppressed", "192.0.2.1"), 10);
	snprintf(path, sizeof(path), "%s/audit/audit.log", data_dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size < 64L * 1024);
	auth_close(a);
}

/*
 * The all-anonymous bound drops refusals past AUTH_AUDIT_DENIED_ALL_PER_MIN, but each is
 * counted under its own address, so the reports say where the flood came from.
 */
static void many_addresses_share_one_bound(void **state)
{
	struct auth *a = open_fresh(NULL);
	struct auth_event *v = NULL;
	char address[32];
	size_t n, n_events;

	(void)state;
	for (int i = 0; i < AUTH_AUDIT_DENIED_ALL_PER_MIN + 100; i++) {
		snprintf(address, sizeof(address), "2001:db8::%x", i);
		deny(a, address, 1);
	}
	a = reopen(a, NULL); /* closing reports what is counted */
	assert_int_equal(count(a, "unauthorized", NULL), AUTH_AUDIT_DENIED_ALL_PER_MIN);
	assert_int_equal(suppressed_sum(a, "count", &n_events), 100);
	assert_int_equal(n_events, 100);
	n = events(&v, a, "audit_suppressed");
	for (size_t i = 0; i < n; i++) {
		snprintf(address, sizeof(address), "2001:db8::%x",
			 AUTH_AUDIT_DENIED_ALL_PER_MIN + (int)i);
		assert_string_equal(v[i].address, address);
		assert_string_equal(v[i].actor, "");
		assert_non_null(strstr(v[i].detail, "\"count\":1,"));
		assert_non_null(strstr(v[i].detail, "\"bound\":\"address\""));
	}
	auth_events_free(v, n);
	auth_close(a);
}

/*
 * M2: a signed-in user's refusals have their own budget. Anonymous callers use up the
 * all-anonymous budget first, from many addresses and from the user's own; the user's probes
 * are all audited under the user's name all the same. The user's own flood is bounded, and
 * its count reported under the user.
 */
static void an_anonymous_flood_never_drops_a_users_refusals(void **state)
{
	struct auth *a = open_fresh(NULL);
	char address[32];
	size_t n_events;

	(void)state;
	for (int i = 0; i < 2 * AUTH_AUDIT_DENIED_ALL_PER_MIN; i++) {
		snprintf(address, sizeof(address), "198.51.100.%d", i % 50);
		deny(a, address, 1);
	}
	deny(a, "10.0.0.66", 50);
	deny_as(a, "not_visible", "bob", "10.0.0.66", AUTH_AUDIT_DENIED_PER_MIN);
	assert_int_equal(count_by(a, "not_visible", "bob", "10.0.0.66"), AUTH_AUDIT_DENIED_PER_MIN);
	/* Nor does another user's flood: each user has a budget of its own. */
	deny_as(a, "forbidden", "mallory", "10.0.0.67", 100);
	deny_as(a, "not_visible", "carol", "10.0.0.67", 3);
	assert_int_equal(count_by(a, "not_visible", "carol", NULL), 3);
	assert_int_equal(count_by(a, "forbidden", "mallory", NULL), AUTH_AUDIT_DENIED_PER_MIN);
	/* bob's own flood is bounded; the rest is counted under bob. */
	deny_as(a, "not_visible", "bob", "10.0.0.66", 7);
	assert_int_equal(count_by(a, "not_visible", "bob", NULL), AUTH_AUDIT_DENIED_PER_MIN);
	now_ms += 61LL * 1000;
	audit_tick(a->audit); /* the writer's minute */
	assert_int_equal(count_by(a, "audit_suppressed", "bob", ""), 1);
	assert_int_equal(detail_int_of(a, "audit_suppressed", "10.0.0.66", "count"), 50);
	a = reopen(a, NULL);
	assert_int_equal(count_by(a, "audit_suppressed", "mallory", ""), 1);
	assert_int_equal(suppressed_sum(a, "count", &n_events),
			 /* anonymous past the bound, 10.0.0.66's, mallory's and bob's */
			 2 * AUTH_AUDIT_DENIED_ALL_PER_MIN - AUTH_AUDIT_DENIED_ALL_PER_MIN + 50 +
				 (100 - AUTH_AUDIT_DENIED_PER_MIN) + 7);
	auth_close(a);
}

/* The slot of the former fixed table (FNV-1a modulo 4096), where these addresses collided. */
static unsigned old_slot(const char *address)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)address; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % 4096;
}

/* L1: two addresses that shared a counter slot each get exactly their own budget. */
static void addresses_are_counted_apart_however_they_hash(void **state)
{
	struct auth *a = open_fresh(NULL);
	char x[32], y[32];
	int i, j = 0;
	bool is_found = false;

	(void)state;
	snprintf(x, sizeof(x), "10.1.0.0");
	for (i = 1; i < 65536 && !is_found; i++) {
		snprintf(y, sizeof(y), "10.1.%d.%d", i / 256, i % 256);
		is_found = old_slot(x) == old_slot(y);
	}
	assert_true(is_found);
	/* Interleaved, as the attack sent them: each reset the other's count before. */
	for (j = 0; j < 25; j++) {
		deny(a, x, 1);
		deny(a, y, 1);
	}
	assert_int_equal(count(a, "unauthorized", x), AUTH_AUDIT_DENIED_PER_MIN);
	assert_int_equal(count(a, "unauthorized", y), AUTH_AUDIT_DENIED_PER_MIN);
	/* And many addresses, a minute's worth under the all-anonymous bound at a time. */
	for (i = 0; i < 200; i++) {
		snprintf(y, sizeof(y), "172.16.%d.%d", i / 100, i % 100);
		deny(a, y, AUTH_AUDIT_DENIED_PER_MIN + 2);
		if (i % 25 == 24) {
			now_ms += 61LL * 1000;
			audit_tick(a->audit); /* the writer's minute reports the last one's */
		}
	}
	a = reopen(a, NULL);
	for (i = 0; i < 200; i++) {
		snprintf(y, sizeof(y), "172.16.%d.%d", i / 100, i % 100);
		assert_int_equal(count(a, "unauthorized", y), AUTH_AUDIT_DENIED_PER_MIN);
		assert_int_equal(detail_int_of(a, "audit_suppressed", y, "count"), 2);
	}
	auth_close(a);
}

/*
 * The reports are bounded as well: past a minute's share, the counts of the other keys go out
 * as one sum with the number of keys, and nothing counted is lost.
 */
static void reports_are_bounded_and_sum_the_rest(void **state)
{
	struct auth *a = open_fresh(NULL);
	char address[32];
	size_t n_events;

	(void)state;
	for (int i = 0; i < 30; i++) {
		snprintf(address, sizeof(address), "192.0.2.%d", i);
		deny(a, address, AUTH_AUDIT_DENIED_PER_MIN);
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(address, sizeof(address), "203.0.%d.%d", i / 256, i % 256);
		deny(a, address, 1);
	}
	a = reopen(a, NULL);
	assert_int_equal(count(a, "unauthorized", NULL), AUTH_AUDIT_DENIED_ALL_PER_MIN);
	assert_int_equal(suppressed_sum(a, "count", &n_events), 1000);
	assert_in_range(n_events, 2, 101);
	assert_int_equal(suppressed_sum(a, "keys", &n_events), 1000 - (n_events - 1));
	assert_int_equal(count_by(a, "audit_suppressed", "", ""), 1);
	auth_close(a);
}

/*
 * Events that come one after another, as a busy server's searches do, share a batch: one
 * commit (and WAL sync) per interval, not one per event, which cost every request its share
 * of a sync when each event woke the writer to flush.
 */
static void a_stream_of_events_shares_a_batch(void **state)
{
	struct auth *a = open_fresh(NULL);
	struct timespec ms = { .tv_nsec = 1000000 };
	size_t before;

	(void)state;
	before = audit_batches(a->audit);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(auth_audit(a, "search", "alice", "", "10.0.0.1", NULL), 0);
		nanosleep(&ms, NULL);
	}
	/* The writer flushes 100 ms after the first event; give a loaded machine ten times that. */
	for (int i = 0; i < 1000 && audit_batches(a->audit) == before; i++)
		nanosleep(&ms, NULL);
	/* 40 events over about 40 ms: one batch, two if the machine stalled. */
	assert_in_range(audit_batches(a->audit) - before, 1, 3);
	assert_int_equal(count(a, "search", NULL), 40);
	auth_close(a);
}

static void closing_writes_what_is_queued_and_counted(void **state)
{
	struct auth *a = open_fresh(NULL);
	char path[512];
	size_t lines = 0;
	FILE *f;

	(void)state;
	for (int i = 0; i < 5000; i++)
		assert_int_equal(auth_audit(a, "search", "alice", "", "10.0.0.1", NULL), 0);
	deny(a, "10.0.0.7", AUTH_AUDIT_DENIED_PER_MIN + 5);
	auth_close(a); /* at once: the writer has had no 100 ms */
	snprintf(path, sizeof(path), "%s/audit/audit.log", data_dir);
	assert_non_null(f = fopen(path, "r"));
	for (int c; (c = fgetc(f)) != EOF;)
		lines += c == '\n';
	fclose(f);
	assert_int_equal(lines, 5000 + AUTH_AUDIT_DENIED_PER_MIN + 1);
	a = open_cfg(NULL);
	assert_int_equal(count(a, "search", NULL), 5000);
	assert_int_equal(detail_int_of(a, "audit_suppressed", "10.0.0.7", "count"), 5);
	auth_close(a);
}

/* Runs one statement on DATA/trawl.db from a connection of its own (another program). */
static void other_program(const char *sql)
{
	char path[512];
	sqlite3 *db = NULL;

	if (testlib_is_pg()) {
		testlib_pg_exec(sql);
		return;
	}
	snprintf(path, sizeof(path), "%s/trawl.db", data_dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A table that cannot be written for a while loses no event: they wait, in their order. */
static void events_the_table_refused_are_written_later(void **state)
{
	struct auth *a = open_fresh(NULL);
	struct auth_event *v = NULL;
	struct auth_audit_filter f = { .limit = 1000 };
	size_t n = 0;
	char actor[24];

	(void)state;
	other_program("ALTER TABLE audit RENAME TO audit_away");
	for (int i = 0; i < 3; i++) {
		snprintf(actor, sizeof(actor), "u%d", i);
		assert_int_equal(auth_audit(a, "search", actor, "", "10.0.0.1", NULL), 0);
	}
	/* Listing flushes first: the table is not there, so the events are held. */
	assert_int_not_equal(auth_audit_list(&v, &n, a, &f), 0);
	other_program("ALTER TABLE audit_away RENAME TO audit");
	for (int i = 3; i < 5; i++) {
		snprintf(actor, sizeof(actor), "u%d", i);
		assert_int_equal(auth_audit(a, "search", actor, "", "10.0.0.1", NULL), 0);
	}
	n = events(&v, a, "search");
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		snprintf(actor, sizeof(actor), "u%zu", i);
		assert_string_equal(v[i].actor, actor);
	}
	auth_events_free(v, n);
	auth_close(a);
}

static size_t file_lines(const char *path, bool *is_json)
{
	char line[4096];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, NULL);

		*is_json = *is_json && j && json_is_object(j);
		json_decref(j);
		n++;
	}
	fclose(f);
	return n;
}

static void the_log_is_rotated_at_its_size_limit(void **state)
{
	struct auth_config cfg = { .audit_log_max = 4096 };
	struct auth *a = open_fresh(&cfg);
	char path[512];
	size_t total = 0;
	bool is_json = true;
	struct stat sb;

	(void)state;
	/* One flush per 20 events: rotation happens between batches. */
	for (int i = 0; i < 400; i++) {
		assert_int_equal(auth_audit(a, "search", "alice", "", "10.0.0.1", "{\"n\":1}"), 0);
		if (i % 20 == 19)
			assert_int_equal(count(a, "sign_in", NULL), 0);
	}
	auth_close(a);
	for (int n = 0; n <= AUTH_AUDIT_LOG_KEEP + 1; n++) {
		if (n)
			snprintf(path, sizeof(path), "%s/audit/audit.log.%d", data_dir, n);
		else
			snprintf(path, sizeof(path), "%s/audit/audit.log", data_dir);
		if (n <= AUTH_AUDIT_LOG_KEEP) {
			assert_int_equal(stat(path, &sb), 0);
			assert_int_equal(sb.st_mode & 0777, 0600);
			assert_true(sb.st_size < (off_t)2 * 4096);
		} else {
			assert_int_not_equal(stat(path, &sb), 0); /* the oldest went */
		}
		total += file_lines(path, &is_json);
	}
	assert_true(is_json);
	assert_true(total < 400); /* some were rotated away */
	assert_true(total > 100);
	a = open_cfg(&cfg);
	assert_int_equal(count(a, "search", NULL), 400); /* the table keeps them all */
	auth_close(a);
}

static void prune_deletes_old_events_in_batches_and_is_audited(void **state)
{
	struct auth *a = open_fresh(NULL);
	const struct auth_actor by = { .name = "root", .address = "10.0.0.5" };
	struct auth_event *v = NULL;
	int64_t t0 = now_ms, n = 0;
	size_t len;

	(void)state;
	for (int i = 0; i < 2500; i++)
		assert_int_equal(auth_audit(a, "search", "alice", "", "10.0.0.1", NULL), 0);
	now_ms += 10 * DAY_MS;
	for (int i = 0; i < 5; i++)
		assert_int_equal(auth_audit(a, "search", "bob", "", "10.0.0.2", NULL), 0);
	assert_int_equal(auth_audit_prune(a, &by, t0 + DAY_MS, &n), 0);
	assert_int_equal(n, 2500);
	assert_int_equal(count(a, "search", NULL), 5);
	len = events(&v, a, "audit_pruned");
	assert_int_equal(len, 1);
	assert_string_equal(v[0].actor, "root");
	assert_string_equal(v[0].address, "10.0.0.5");
	assert_non_null(strstr(v[0].detail, "\"count\":2500"));
	auth_events_free(v, len);
	/* Nothing older is left: a second prune deletes nothing, and says so. */
	assert_int_equal(auth_audit_prune(a, NULL, t0 + DAY_MS, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(count(a, "audit_pruned", NULL), 2);
	auth_close(a);
}

static void the_writer_applies_the_retention(void **state)
{
	struct auth_config cfg = { .audit_retention_s = 30LL * 24 * 60 * 60 };
	struct auth *a = open_fresh(NULL);
	struct timespec pause = { .tv_nsec = 50 * 1000000L };
	size_t pruned = 0;

	(void)state;
	for (int i = 0; i < 1500; i++)
		assert_int_equal(auth_audit(a, "search", "alice", "", "10.0.0.1", NULL), 0);
	now_ms += 31 * DAY_MS;
	a = reopen(a, &cfg);
	assert_int_equal(auth_audit(a, "sign_in", "bob", "bob", "10.0.0.2", NULL), 0);
	/* The writer prunes when it starts; wait for it (seconds at most). */
	for (int i = 0; i < 200 && !(pruned = count(a, "audit_pruned", NULL)); i++)
		nanosleep(&pause, NULL);
	assert_int_equal(pruned, 1);
	assert_int_equal(count(a, "search", NULL), 0);
	assert_int_equal(count(a, "sign_in", NULL), 1);
	assert_int_equal(detail_int_of(a, "audit_pruned", "", "count"), 1500);
	assert_int_equal(detail_int_of(a, "audit_pruned", "", "retention_days"), 30);
	auth_close(a);
}

/* Reopens a with cfg and waits for the writer's first prune (seconds at most). */
static struct auth *reopen_pruned(struct auth *a, const struct auth_config *cfg)
{
	struct timespec pause = { .tv_nsec = 50 * 1000000L };
	size_t pruned = 0;

	a = reopen(a, cfg);
	for (int i = 0; i < 200 && !(pruned = count(a, "audit_pruned", NULL)); i++)
		nanosleep(&pause, NULL);
	assert_int_equal(pruned, 1);
	return a;
}

static void audit_n(struct auth *a, const char *event, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(auth_audit(a, event, "", "/api/v1/repos", "10.0.0.1", NULL), 0);
}

/*
 * L2: past the row cap the oldest refusals go first, whatever their age, and other events
 * only when refusals alone cannot bring the table under the cap; each prune is audited.
 */
static void the_row_cap_takes_refusals_first(void **state)
{
	struct auth_config cfg = { .audit_max_rows = 150 };
	struct auth *a = open_fresh(NULL);
	struct auth_event *v = NULL;
	size_t n;

	(void)state;
	audit_n(a, "search", 50);
	audit_n(a, "unauthorized", 40);
	audit_n(a, "not_visible", 40);
	audit_n(a, "sign_in", 50);
	audit_n(a, "forbidden", 40);
	audit_n(a, "audit_suppressed", 10); /* 230 rows: 80 over */
	a = reopen_pruned(a, &cfg);
	assert_int_equal(count(a, "search", NULL), 50);
	assert_int_equal(count(a, "sign_in", NULL), 50);
	/* The oldest 80 refusals: every unauthorized and not_visible, the later ones stay. */
	assert_int_equal(count(a, "unauthorized", NULL), 0);
	assert_int_equal(count(a, "not_visible", NULL), 0);
	assert_int_equal(count(a, "forbidden", NULL), 40);
	assert_int_equal(count(a, "audit_suppressed", NULL), 10);
	assert_int_equal(detail_int_of(a, "audit_pruned", "", "over_max_rows"), 80);
	assert_int_equal(detail_int_of(a, "audit_pruned", "", "over_max_rows_refusals"), 80);
	assert_int_equal(detail_int_of(a, "audit_pruned", "", "max_rows"), 150);
	/* A cap refusals cannot meet alone: then the oldest of the rest. */
	cfg.audit_max_rows = 60;
	now_ms += DAY_MS;
	a = reopen(a, &cfg); /* 151 rows with the first prune's event: 91 over */
	for (int i = 0; i < 200 && count(a, "audit_pruned", NULL) < 2; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000000L }, NULL);
	assert_int_equal(count(a, "audit_pruned", NULL), 2);
	assert_int_equal(count(a, "forbidden", NULL) + count(a, "audit_suppressed", NULL), 0);
	/* Then 41 of the rest, oldest first: 41 of the 50 searches; the sign-ins are newer. */
	assert_int_equal(count(a, "search", NULL), 9);
	assert_int_equal(count(a, "sign_in", NULL), 50);
	n = events(&v, a, "audit_pruned");
	assert_non_null(strstr(v[1].detail, "\"over_max_rows\":91"));
	assert_non_null(strstr(v[1].detail, "\"over_max_rows_refusals\":50"));
	auth_events_free(v, n);
	auth_close(a);
}

/*
 * The row cap takes failed sign-ins with the refusals, then callers' activity (searches), and
 * never the administrators' record: an outsider's flood or an insider's searches cannot erase
 * who added a user, granted a repository or made a token. What that record alone holds over
 * the cap is kept and counted.
 */
static void the_row_cap_never_takes_the_administrators_record(void **state)
{
	static const char *const kept[] = { "user_added", "grant", "token_created", "repo_public" };
	struct auth_config cfg = { .audit_max_rows = 40 };
	struct auth *a = open_fresh(NULL);
	struct auth_event *v = NULL;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		audit_n(a, kept[i], 5);
	audit_n(a, "search", 20);
	audit_n(a, "sign_in_failed", 30); /* 70 rows: 30 over */
	a = reopen_pruned(a, &cfg);
	assert_int_equal(count(a, "sign_in_failed", NULL), 0);
	assert_int_equal(count(a, "search", NULL), 20);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		assert_int_equal(count(a, kept[i], NULL), 5);
	assert_int_equal(detail_int_of(a, "audit_pruned", "", "over_max_rows_refusals"), 30);
	assert_int_equal(detail_int_of(a, "audit_pruned", "", "over_max_rows_kept"), 0);
	/* 41 rows over a cap of 10: the 20 searches go, the 21 others stay, 11 over it. */
	cfg.audit_max_rows = 10;
	now_ms += DAY_MS;
	a = reopen(a, &cfg);
	for (int i = 0; i < 200 && count(a, "audit_pruned", NULL) < 2; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000000L }, NULL);
	assert_int_equal(count(a, "search", NULL), 0);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		assert_int_equal(count(a, kept[i], NULL), 5);
	n = events(&v, a, "audit_pruned");
	assert_int_equal(n, 2);
	assert_non_null(strstr(v[1].detail, "\"over_max_rows\":20"));
	assert_non_null(strstr(v[1].detail, "\"over_max_rows_activity\":20"));
	assert_non_null(strstr(v[1].detail, "\"over_max_rows_kept\":11"));
	auth_events_free(v, n);
	auth_close(a);
}

/* The integer member key of the detail of the i-th audit_pruned event. */
static json_int_t pruned_int(struct auth *a, size_t i, const char *key)
{
	struct auth_event *v = NULL;
	size_t n = events(&v, a, "audit_pruned");
	json_int_t value = -1;
	json_t *j;

	assert_true(i < n);
	j = json_loads(v[i].detail, 0, NULL);
	assert_non_null(j);
	value = json_integer_value(json_object_get(j, key));
	json_decref(j);
	auth_events_free(v, n);
	return value;
}

/* Reopens a with cfg and waits for the writer's n-th prune (seconds at most). */
static struct auth *reopen_pruned_n(struct auth *a, const struct auth_config *cfg, size_t n)
{
	a = reopen(a, cfg);
	for (int i = 0; i < 200 && count(a, "audit_pruned", NULL) < n; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000000L }, NULL);
	assert_int_equal(count(a, "audit_pruned", NULL), n);
	return a;
}

/*
 * An insider cannot erase the record of their own probing with their own activity: past the
 * cap outsiders' refusals go first, then searches, and a signed-in user's refusals (bounded
 * per user) only when nothing else but the administrators' record is left.
 */
static void an_insiders_activity_never_erases_their_refusals(void **state)
{
	struct auth_config cfg = { .audit_max_rows = 40 };
	struct auth *a = open_fresh(NULL);

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(auth_audit(a, "user_added", "cli", "bob", "", NULL), 0);
	deny_as(a, "not_visible", "bob", "10.0.0.5", 5);
	deny_as(a, "forbidden", "bob", "10.0.0.5", 5);
	deny(a, "10.9.9.9", 10);
	for (int i = 0; i < 50; i++)
		assert_int_equal(auth_audit(a, "search", "bob", "", "10.0.0.5", NULL), 0);
	a = reopen_pruned(a, &cfg); /* 73 rows: 33 over */
	assert_int_equal(count(a, "unauthorized", NULL), 0);
	assert_int_equal(count_by(a, "not_visible", "bob", NULL), 5);
	assert_int_equal(count_by(a, "forbidden", "bob", NULL), 5);
	assert_int_equal(count(a, "search", NULL), 50 - 23);
	assert_int_equal(pruned_int(a, 0, "over_max_rows_refusals"), 10);
	assert_int_equal(pruned_int(a, 0, "over_max_rows_activity"), 23);
	assert_int_equal(pruned_int(a, 0, "over_max_rows_user_refusals"), 0);
	/* 41 rows over a cap of 3: the searches, then bob's refusals, then one kept over it. */
	cfg.audit_max_rows = 3;
	now_ms += DAY_MS;
	a = reopen_pruned_n(a, &cfg, 2);
	assert_int_equal(count(a, "search", NULL) + count(a, "not_visible", NULL), 0);
	assert_int_equal(count(a, "forbidden", NULL), 0);
	assert_int_equal(count(a, "user_added", NULL), 3);
	assert_int_equal(pruned_int(a, 1, "over_max_rows_activity"), 27);
	assert_int_equal(pruned_int(a, 1, "over_max_rows_user_refusals"), 10);
	assert_int_equal(pruned_int(a, 1, "over_max_rows_kept"), 1);
	auth_close(a);
}

/*
 * What a user does to their own account (their search tokens made and revoked, their own
 * password) is activity for the cap, so it cannot hold the table over it; an administrator's
 * change to another user, an admin-scope token and the command line's changes stay.
 */
static void a_users_own_account_events_are_activity_for_the_cap(void **state)
{
	static const char pw[] = "plover quartz meadow 71 bob";
	const struct auth_actor bob = { .name = "bob", .address = "10.0.0.5" };
	const struct auth_actor root = { .name = "root", .address = "10.0.0.6" };
	struct auth_config cfg = { .audit_max_rows = 5 };
	struct auth *a = open_fresh(NULL);
	char secret[AUTH_TOKEN_LEN + 1];
	struct auth_token t;

	(void)state;
	assert_int_equal(auth_user_add(a, NULL, "root", NULL, true, NULL, 0), 0);
	assert_int_equal(auth_user_add(a, NULL, "bob", NULL, false, NULL, 0), 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(auth_token_create(&t, secret, a, &bob, "bob", "t", AUTH_SCOPE_SEARCH,
						   0),
				 0);
		assert_int_equal(auth_token_revoke(a, &bob, t.id, "bob"), 0);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(auth_user_set_password(a, &bob, "bob", NULL, 0, pw, strlen(pw)), 0);
	assert_int_equal(auth_token_create(&t, secret, a, &root, "bob", "t", AUTH_SCOPE_SEARCH, 0),
			 0);
	assert_int_equal(auth_token_create(&t, secret, a, &root, "root", "t", AUTH_SCOPE_ADMIN, 0),
			 0);
	assert_int_equal(auth_user_set_password(a, &root, "bob", NULL, 0, pw, strlen(pw)), 0);
	a = reopen_pruned(a, &cfg); /* 28 rows: 23 over, bob's own */
	assert_int_equal(count_by(a, "token_created", "bob", NULL), 0);
	assert_int_equal(count_by(a, "token_revoked", "bob", NULL), 0);
	assert_int_equal(count_by(a, "password_changed", "bob", NULL), 0);
	assert_int_equal(count_by(a, "token_created", "root", NULL), 2);
	assert_int_equal(count_by(a, "password_changed", "root", NULL), 1);
	assert_int_equal(count(a, "user_added", NULL), 2);
	assert_int_equal(pruned_int(a, 0, "over_max_rows_activity"), 23);
	assert_int_equal(pruned_int(a, 0, "over_max_rows_kept"), 0);
	auth_close(a);
}

/* Failed sign-ins are refusals for the shorter retention too. */
static void failed_sign_ins_have_the_refusals_retention(void **state)
{
	struct auth_config cfg = { .audit_retention_s = 365 * 86400LL,
				   .audit_refusal_retention_s = 90 * 86400LL };
	struct auth *a = open_fresh(NULL);

	(void)state;
	audit_n(a, "sign_in_failed", 12);
	audit_n(a, "sign_in", 3);
	now_ms += 91 * DAY_MS;
	a = reopen_pruned(a, &cfg);
	assert_int_equal(count(a, "sign_in_failed", NULL), 0);
	assert_int_equal(count(a, "sign_in", NULL), 3);
	assert_int_equal(detail_int_of(a, "audit_pruned", "", "refusals_expired"), 12);
	auth_close(a);
}

/* Refused requests are kept a shorter time than the rest. */
static void refusals_have_a_shorter_retention(void **state)
{
	struct auth_config cfg = { .audit_retention_s = 365 * 86400LL,
				   .audit_refusal_retention_s = 90 * 86400LL };
	struct auth *a = open_fresh(NULL);

	(void)state;
	audit_n(a, "not_visible", 30);
	audit_n(a, "audit_suppressed", 5);
	audit_n(a, "search", 20);
	now_ms += 60 * DAY_MS;
	audit_n(a, "forbidden", 7); /* 60 days old at the prune: kept */
	now_ms += 31 * DAY_MS;
	a = reopen_pruned(a, &cfg);
	assert_int_equal(count(a, "not_visible", NULL), 0);
	assert_int_equal(count(a, "audit_suppressed", NULL), 0);
	assert_int_equal(count(a, "forbidden", NULL), 7);
	assert_int_equal(count(a, "search", NULL), 20);
	assert_int_equal(detail_int_of(a, "audit_pruned", "", "refusals_expired"), 35);
	assert_int_equal(detail_int_of(a, "audit_pruned", "", "count"), 35);
	assert_int_equal(detail_int_of(a, "audit_pruned", "", "refusal_retention_days"), 90);
	auth_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refusals_are_bounded_per_address_then_counted),
		cmocka_unit_test(a_million_refusals_write_a_bounded_trail),
		cmocka_unit_test(many_addresses_share_one_bound),
		cmocka_unit_test(an_anonymous_flood_never_drops_a_users_refusals),
		cmocka_unit_test(addresses_are_counted_apart_however_they_hash),
		cmocka_unit_test(reports_are_bounded_and_sum_the_rest),
		cmocka_unit_test(a_stream_of_events_shares_a_batch),
		cmocka_unit_test(closing_writes_what_is_queued_and_counted),
		cmocka_unit_test(events_the_table_refused_are_written_later),
		cmocka_unit_test(the_log_is_rotated_at_its_size_limit),
		cmocka_unit_test(prune_deletes_old_events_in_batches_and_is_audited),
		cmocka_unit_test(the_writer_applies_the_retention),
		cmocka_unit_test(the_row_cap_takes_refusals_first),
		cmocka_unit_test(refusals_have_a_shorter_retention),
		cmocka_unit_test(the_row_cap_never_takes_the_administrators_record),
		cmocka_unit_test(failed_sign_ins_have_the_refusals_retention),
		cmocka_unit_test(an_insiders_activity_never_erases_their_refusals),
		cmocka_unit_test(a_users_own_account_events_are_activity_for_the_cap),
	};

	int failed = 0;

	if (!testlib_pg_only())
		failed = cmocka_run_group_tests_name("audit (SQLite)", tests, testlib_setup,
						     testlib_teardown);

	if (testlib_pg_begin())
		failed += cmocka_run_group_tests_name("audit (PostgreSQL)", tests, testlib_setup,
						      testlib_teardown);
	return failed;
}
