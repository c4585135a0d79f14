/*
 * A growable byte buffer with a maximum size (curl's dynbuf, OpenSSH's sshbuf): growing past
 * the maximum is TRAWL_ELIMIT, never a crash. The contents are always NUL-terminated so that
 * text can be passed to C string functions; the terminator is not counted in len.
 */
#ifndef TRAWL_UTIL_BUF_H
#define TRAWL_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *ptr;  /* NULL until the first write */
	size_t len;
	size_t cap;
	size_t max; /* largest len allowed */
};

#define BUF_MAX_DEFAULT ((size_t)1 << 30)

void buf_init(struct buf *b, size_t max);
void buf_dispose(struct buf *b);
/* Empties the buffer and keeps its memory. */
void buf_reset(struct buf *b);
/* Makes room for n more bytes. ENOMEM, ELIMIT. */
int buf_reserve(struct buf *b, size_t n);
int buf_put(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
/* Appends n in decimal (no printf: JSON and line output call it millions of times). */
int buf_put_u64(struct buf *b, uint64_t n);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends n as unsigned LEB128. */
int buf_put_uvarint(struct buf *b, uint64_t n);
int buf_put_u32le(struct buf *b, uint32_t v);
int buf_put_u64le(struct buf *b, uint64_t v);
/* Hands the memory to the caller (free() it) and leaves b empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
