/*
 * One Vectorscan compilation, here or in a limited helper process; see hscompile.h.
 *
 * The request is "TRAWLHC1", then varints: hs flags, whether a platform is given, its tune and
 * cpu_features, then the pattern to the end. The answer is 'D' and a serialized database, or
 * 'E' and Vectorscan's message. The helper trusts nothing of its input beyond it being a
 * pattern to compile: a malformed request is exit status 2 without an answer.
 */
#include "regex/hscompile.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/child.h"
#include "sandbox/confine.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/sanitizer.h"
#include "util/varint.h"

#define REQ_MAGIC "TRAWLHC1"
#define REQ_MAX ((size_t)32 << 20)      /* the emitter's patterns are at most 16 MiB */
#define ANSWER_MAX ((size_t)256 << 20)  /* a database; the in-memory table keeps 64 MiB */
#define HELPER_MIN_MS 10.0              /* below this, a helper's start is not worth it */

static atomic_bool is_helper_served;
/*
 * The default time limit. Under ASan or TSan every allocation Vectorscan makes while compiling
 * goes through the sanitizer's allocator, which makes the big Unicode patterns 4 to 5 times
 * slower to compile (docs/internals/testing-ci.md): such a build gets five times the limit, so
 * that it accepts the patterns the release build does (test_diff_rg.py compares both with rg).
 */
#define DEFAULT_MAX_MS (HSCOMPILE_MAX_MS * (HAS_SHADOW ? 5u : 1u))

static unsigned limit_ms = DEFAULT_MAX_MS;
static size_t limit_memory = HSCOMPILE_MAX_MEMORY;

/*
 * Helpers running now: their address-space limit is per process, so without a bound on their
 * number a client sending many expensive patterns at once would make the machine hold a GiB
 * per search slot. A caller waits for a free one within its own deadline.
 */
static pthread_mutex_t helpers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t helpers_cond;
static pthread_once_t helpers_once = PTHREAD_ONCE_INIT;
static unsigned helpers_running;

static void helpers_init(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* clock_now_ms()'s clock */
	pthread_cond_init(&helpers_cond, &ca);
	pthread_condattr_destroy(&ca);
}

/* Takes a helper slot, waiting until until_ms at the most (ETIMEOUT). */
static int helper_acquire(double until_ms)
{
	int err = 0;

	pthread_once(&helpers_once, helpers_init);
	pthread_mutex_lock(&helpers_lock);
	while (helpers_running >= HSCOMPILE_MAX_HELPERS) {
		double left = until_ms - clock_now_ms();
		struct timespec ts;
		long long ns;

		if (left <= 0) {
			err = TRAWL_ETIMEOUT;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ns = (long long)ts.tv_nsec + (long long)(left * 1e6) + 1;
		ts.tv_sec += (time_t)(ns / 1000000000LL);
		ts.tv_nsec = (long)(ns % 1000000000LL);
		pthread_cond_timedwait(&helpers_cond, &helpers_lock, &ts);
	}
	if (err == 0)
		helpers_running++;
	pthread_mutex_unlock(&helpers_lock);
	return err;
}

static void helper_release(void)
{
	pthread_mutex_lock(&helpers_lock);
	helpers_running--;
	pthread_cond_signal(&helpers_cond);
	pthread_mutex_unlock(&helpers_lock);
}

void hscompile_serve_helpers(void)
{
	atomic_store(&is_helper_served, true);
}

void hscompile_set_limits(unsigned max_ms, size_t max_memory)
{
	limit_ms = max_ms ? max_ms : DEFAULT_MAX_MS;
	limit_memory = max_memory ? max_memory : HSCOMPILE_MAX_MEMORY;
}

static int compile_here(hs_database_t **out, char *msg, size_t msg_size, const char *pattern,
			unsigned hs_flags, const hs_platform_info_t *platform)
{
	hs_compile_error_t *cerr = NULL;

	if (hs_compile(pattern, hs_flags, HS_MODE_BLOCK, platform, out, &cerr) == HS_SUCCESS)
		return 0;
	snprintf(msg, msg_size, "%s", cerr && cerr->message ? cerr->message : "unknown error");
	hs_free_compile_error(cerr);
	*out = NULL;
	return HSCOMPILE_REFUSED;
}

static int put_request(struct buf *b, const char *pattern, unsigned hs_flags,
		       const hs_platform_info_t *platform)
{
	int err;

	if ((err = buf_put(b, REQ_MAGIC, 8)) < 0 || (err = buf_put_uvarint(b, hs_flags)) < 0 ||
	    (err = buf_put_uvarint(b, platform != NULL)) < 0 ||
	    (err = buf_put_uvarint(b, platform ? platform->tune : 0)) < 0 ||
	    (err = buf_put_uvarint(b, platform ? platform->cpu_features : 0)) < 0)
		return err;
	return buf_puts(b, pattern);
}

/* Why the helper ended without an answer, as an error for the caller. */
static int helper_failed(const struct sandbox_result *res, bool is_callers_deadline)
{
	if (res->is_deadline && is_callers_deadline) {
		error_set("the query's timeout ran out while its pattern was being compiled");
		return TRAWL_ETIMEOUT;
	}
	if (res->is_deadline || res->signal == SIGXCPU) {
		error_set("pattern too complex for the matcher: compiling it took longer than the "
			  "limit of %u ms", limit_ms);
		return TRAWL_ELIMIT;
	}
	/* Out of memory, mostly: C++ new throws where it cannot be caught, or a read fails. */
	error_set("pattern too complex for the matcher: its compiler stopped (%s %d) within the "
		  "limits of %zu MiB and %u ms", res->signal ? "signal" : "exit status",
		  res->signal ? res->signal : res->exit_status, limit_memory >> 20, limit_ms);
	return TRAWL_ELIMIT;
}

static int compile_isolated(hs_database_t **out, char *msg, size_t msg_size, const char *pattern,
			    unsigned hs_flags, const hs_platform_info_t *platform,
			    double deadline_ms)
{
	char *argv[] = { "trawl", "__compile", NULL };
	double limit_at = clock_now_ms() + limit_ms;
	struct sandbox_limits lim = {
		.max_memory = limit_memory,
		.max_cpu_s = (limit_ms + 999) / 1000,
		.deadline_ms = deadline_ms > 0 && deadline_ms < limit_at ? deadline_ms : limit_at,
		.max_output = ANSWER_MAX,
	};
	struct sandbox_result res = { 0 };
	struct buf req;
	int err;

	buf_init(&req, REQ_MAX);
	if ((err = put_request(&req, pattern, hs_flags, platform)) < 0)
		goto out;
	if (helper_acquire(lim.deadline_ms) < 0) {
		if (lim.deadline_ms == deadline_ms) {
			error_set("the query's timeout ran out while its pattern waited to be "
				  "compiled");
			err = TRAWL_ETIMEOUT;
		} else {
			error_set("pattern too complex for the matcher: %d others were compiling "
				  "for longer than %u ms; try again", HSCOMPILE_MAX_HELPERS, limit_ms);
			err = TRAWL_ELIMIT;
		}
		goto out;
	}
	err = sandbox_run(&res, "/proc/self/exe", argv, req.ptr, req.len, &lim);
	helper_release();
	if (err == TRAWL_ETIMEOUT || (err == 0 && res.out_len == 0)) {
		err = helper_failed(&res, lim.deadline_ms == deadline_ms);
		goto out;
	}
	if (err < 0)
		goto out;
	if (res.out[0] == 'E') {
		snprintf(msg, msg_size, "%s", res.out + 1);
		if (strstr(msg, "allocate memory")) {
			error_set("pattern too complex for the matcher: compiling it needs more than "
				  "the limit of %zu MiB", limit_memory >> 20);
			err = TRAWL_ELIMIT;
		} else {
			err = HSCOMPILE_REFUSED;
		}
		goto out;
	}
	if (res.out[0] != 'D' ||
	    hs_deserialize_database(res.out + 1, res.out_len - 1, out) != HS_SUCCESS) {
		*out = NULL;
		error_set("the pattern compiler process gave an unreadable answer");
		err = TRAWL_EIO;
	}
out:
	sandbox_result_dispose(&res);
	buf_dispose(&req);
	return err;
}

int hscompile_run(hs_database_t **out, char *msg, size_t msg_size, const char *pattern,
		  unsigned hs_flags, const hs_platform_info_t *platform, bool is_isolated,
		  double deadline_ms)
{
	*out = NULL;
	msg[0] = 0;
	if (deadline_ms > 0 && clock_now_ms() > deadline_ms) {
		error_set("the query's timeout ran out before its pattern was compiled");
		return TRAWL_ETIMEOUT;
	}
	if (!is_isolated || !atomic_load(&is_helper_served))
		return compile_here(out, msg, msg_size, pattern, hs_flags, platform);
	if (deadline_ms > 0 && deadline_ms - clock_now_ms() < HELPER_MIN_MS) {
		/* A helper needs this long to start: not worth one that will be killed at once. */
		error_set("the query's timeout ran out before its pattern was compiled");
		return TRAWL_ETIMEOUT;
	}
	return compile_isolated(out, msg, msg_size, pattern, hs_flags, platform, deadline_ms);
}

static int write_all(const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(1, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int hscompile_main(void)
{
	struct confine_spec spec = { .role = CONFINE_COMPILE,
				     .report_fd = -1,
				     .cpu_s = CONFINE_UNLIMITED,
				     .as_bytes = CONFINE_UNLIMITED };
	struct confine_status st;
	hs_platform_info_t platform = { 0 };
	uint64_t flags, has_platform, tune, features;
	const uint8_t *p, *end;
	hs_database_t *db = NULL;
	char msg[1024], *ser = NULL, chunk[65536];
	size_t ser_len = 0;
	struct buf req;
	ssize_t n;
	int status = 2;

	/*
	 * SECURITY: the pattern is hostile input and Vectorscan's compiler large: before reading
	 * it, the helper confines itself (sandbox/confine.h): no file, no network, no program.
	 * Its CPU and memory limits are the parent's (prlimit), left as they are here.
	 */
	if (confine_apply(&spec, &st) < 0)
		return 2;
	buf_init(&req, REQ_MAX);
	while ((n = read(0, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_put(&req, chunk, (size_t)n) < 0)
			goto out;
	}
	if (req.len < 8 || memcmp(req.ptr, REQ_MAGIC, 8) != 0)
		goto out;
	p = (const uint8_t *)req.ptr + 8;
	end = (const uint8_t *)req.ptr + req.len;
	if (varint_get(&flags, &p, end) < 0 || varint_get(&has_platform, &p, end) < 0 ||
	    varint_get(&tune, &p, end) < 0 || varint_get(&features, &p, end) < 0 ||
	    flags > UINT32_MAX || tune > UINT32_MAX || memchr(p, 0, (size_t)(end - p)))
		goto out;
	platform.tune = (unsigned)tune;
	platform.cpu_features = features;
	if (compile_here(&db, msg, sizeof(msg), (const char *)p, (unsigned)flags,
			 has_platform ? &platform : NULL) != 0) {
		status = write_all("E", 1) < 0 || write_all(msg, strlen(msg)) < 0;
		goto out;
	}
	if (hs_serialize_database(db, &ser, &ser_len) != HS_SUCCESS)
		goto out;
	status = write_all("D", 1) < 0 || write_all(ser, ser_len) < 0;
out:
	free(ser);
	hs_free_database(db);
	buf_dispose(&req);
	return status;
}
