/* Growable bounded buffer; see buf.h. */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/varint.h"

void buf_init(struct buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_dispose(struct buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

int buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (__builtin_add_overflow(b->len, n, &need) || need > b->max) {
		error_set("buffer limit of %zu bytes exceeded", b->max);
		return TRAWL_ELIMIT;
	}
	if (need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need + 1)
		cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->ptr, cap);
	if (!p) {
		error_set("out of memory growing a buffer to %zu bytes", cap);
		return TRAWL_ENOMEM;
	}
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int buf_put(struct buf *b, const void *data, size_t n)
{
	int err;

	if ((err = buf_reserve(b, n)) < 0)
		return err;
	if (n)
		memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_put(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
	return buf_put(b, &c, 1);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, err;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		error_set("formatting failed");
		return TRAWL_EINVAL;
	}
	if ((err = buf_reserve(b, (size_t)n)) < 0)
		return err;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return err;
}

int buf_put_uvarint(struct buf *b, uint64_t n)
{
	uint8_t tmp[VARINT_MAX];

	return buf_put(b, tmp, varint_put(tmp, n));
}

int buf_put_u32le(struct buf *b, uint32_t v)
{
	uint8_t t[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	return buf_put(b, t, sizeof(t));
}

int buf_put_u64le(struct buf *b, uint64_t v)
{
	int err;

	if ((err = buf_put_u32le(b, (uint32_t)v)) < 0)
		return err;
	return buf_put_u32le(b, (uint32_t)(v >> 32));
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->ptr;

	if (len)
		*len = b->len;
	if (!p)
		p = calloc(1, 1);
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

int buf_put_u64(struct buf *b, uint64_t n)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	return buf_put(b, tmp + i, sizeof(tmp) - i);
}
