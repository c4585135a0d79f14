/*
 * The counting allocator behind faultalloc.h: __wrap_* versions of the C library's allocation
 * functions, each counting one allocation and failing the armed one. The real functions are
 * reached through the linker's __real_* names.
 */
#include "unit/faults/faultalloc.h"

#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/*
 * The names the linker's --wrap gives the C library's functions (__real_*) and ours (__wrap_*):
 * reserved identifiers, but these are the names it needs.
 * NOLINTBEGIN(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
 */
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_posix_memalign(void **out, size_t align, size_t size);
int __real_posix_memalign(void **out, size_t align, size_t size);
json_t *__real_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error);
json_t *__wrap_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error);
/* NOLINTEND(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */

static atomic_size_t fail_at; /* 0: not failing */
static atomic_size_t count;
static atomic_bool is_armed;
static atomic_bool is_hit;
static enum faultalloc_mode mode;
static _Thread_local bool is_in_jansson;

void faultalloc_arm(size_t n)
{
	faultalloc_arm_mode(n, FAULTALLOC_OURS);
}

void faultalloc_arm_mode(size_t n, enum faultalloc_mode m)
{
	mode = m;
	atomic_store(&count, 0);
	atomic_store(&is_hit, false);
	atomic_store(&fail_at, n);
	atomic_store(&is_armed, true);
}

bool faultalloc_disarm(void)
{
	atomic_store(&is_armed, false);
	atomic_store(&fail_at, 0);
	return atomic_load(&is_hit);
}

size_t faultalloc_count(void)
{
	return atomic_load(&count);
}

/* Whether this allocation is the one to fail. */
static bool fail_now(void)
{
	size_t n, at;

	if (!atomic_load(&is_armed) || (mode == FAULTALLOC_JANSSON) != is_in_jansson)
		return false;
	n = atomic_fetch_add(&count, 1) + 1;
	at = atomic_load(&fail_at);
	if (at == 0 || n != at)
		return false;
	atomic_store(&is_hit, true);
	errno = ENOMEM;
	return true;
}

void *__wrap_malloc(size_t size)
{
	return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return fail_now() ? NULL : __real_realloc(p, size);
}

int __wrap_posix_memalign(void **out, size_t align, size_t size)
{
	return fail_now() ? ENOMEM : __real_posix_memalign(out, align, size);
}

char *__wrap_strdup(const char *s)
{
	size_t len = strlen(s);
	char *d = fail_now() ? NULL : __real_malloc(len + 1);

	if (d)
		memcpy(d, s, len + 1);
	return d;
}

char *__wrap_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = fail_now() ? NULL : __real_malloc(len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

json_t *__wrap_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error)
{
	json_t *j;

	is_in_jansson = true;
	j = __real_json_loadb(buffer, buflen, flags, error);
	is_in_jansson = false;
	return j;
}

size_t faultalloc_sweep(int (*run)(void *arg), void (*check)(int err, bool is_injected, void *arg),
			void *arg)
{
	for (size_t n = 1;; n++) {
		bool is_injected;
		int err;

		error_clear();
		faultalloc_arm(n);
		err = run(arg);
		is_injected = faultalloc_disarm();
		check(err, is_injected, arg);
		if (!is_injected)
			return n - 1;
	}
}
