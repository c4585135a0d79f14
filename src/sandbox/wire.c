/* The worker message codec; see wire.h. */
#include "sandbox/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/utf8.h"

/* What the reader may hold: one whole message and one read's worth of the next. */
#define WIRE_IN_MAX (WIRE_HEADER_SIZE + WIRE_MAX_MSG + ((size_t)1 << 16))

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void wire_in_init(struct wire_in *w, uint32_t max_type)
{
	*w = (struct wire_in){ .max_type = max_type };
	buf_init(&w->b, WIRE_IN_MAX);
}

void wire_in_dispose(struct wire_in *w)
{
	buf_dispose(&w->b);
	w->off = 0;
}

static int refuse(struct wire_in *w, int err)
{
	w->err = err;
	return err;
}

int wire_in_feed(struct wire_in *w, const void *data, size_t len)
{
	int err;

	if (w->err)
		return w->err;
	if (w->off) {
		/* Consumed messages go: the buffer holds at most the message being received. */
		memmove(w->b.ptr, w->b.ptr + w->off, w->b.len - w->off);
		w->b.len -= w->off;
		w->off = 0;
	}
	if ((err = buf_put(&w->b, data, len)) < 0) {
		if (err == TRAWL_ELIMIT)
			error_set("worker message: more than %zu bytes unread", (size_t)WIRE_IN_MAX);
		return refuse(w, err);
	}
	return 0;
}

int wire_in_next(struct wire_in *w, struct wire_msg *m)
{
	const uint8_t *p = (const uint8_t *)w->b.ptr + w->off;
	size_t avail = w->b.len - w->off;
	uint32_t type, len;

	*m = (struct wire_msg){ 0 };
	if (w->err)
		return w->err;
	if (avail < WIRE_HEADER_SIZE)
		return 0;
	type = get_le32(p);
	len = get_le32(p + 4);
	if (type == 0 || type > w->max_type) {
		error_set("worker message %u: unknown type %u", w->n_msgs + 1, type);
		return refuse(w, TRAWL_ECORRUPT);
	}
	/* SECURITY: the announced length is checked before anything waits for its bytes. */
	if (len > WIRE_MAX_MSG) {
		error_set("worker message %u: %u bytes, more than the %zu allowed", w->n_msgs + 1,
			  len, WIRE_MAX_MSG);
		return refuse(w, TRAWL_ELIMIT);
	}
	if (w->n_msgs >= WIRE_MAX_COUNT) {
		error_set("worker messages: more than %u", WIRE_MAX_COUNT);
		return refuse(w, TRAWL_ELIMIT);
	}
	if (w->total + len > WIRE_MAX_TOTAL) {
		error_set("worker messages: more than %llu bytes",
			  (unsigned long long)WIRE_MAX_TOTAL);
		return refuse(w, TRAWL_ELIMIT);
	}
	if (avail - WIRE_HEADER_SIZE < len)
		return 0;
	*m = (struct wire_msg){ .type = type, .payload = p + WIRE_HEADER_SIZE, .len = len };
	w->off += WIRE_HEADER_SIZE + len;
	w->n_msgs++;
	w->total += len;
	return 1;
}

int wire_in_end(const struct wire_in *w)
{
	if (w->err)
		return w->err;
	if (w->b.len > w->off) {
		error_set("worker message %u: truncated (%zu bytes of it)", w->n_msgs + 1,
			  w->b.len - w->off);
		return TRAWL_ECORRUPT;
	}
	return 0;
}

void wire_fields_init(struct wire_fields *f, const struct wire_msg *m)
{
	*f = (struct wire_fields){ .p = m->payload, .len = m->len };
}

static int truncated(const struct wire_fields *f, size_t need)
{
	error_set("worker message: truncated field at byte %zu (%zu bytes needed, %zu left)", f->off,
		  need, f->len - f->off);
	return TRAWL_ECORRUPT;
}

int wire_get_u32(struct wire_fields *f, uint32_t *v)
{
	*v = 0;
	if (f->len - f->off < 4)
		return truncated(f, 4);
	*v = get_le32(f->p + f->off);
	f->off += 4;
	return 0;
}

int wire_get_u64(struct wire_fields *f, uint64_t *v)
{
	*v = 0;
	if (f->len - f->off < 8)
		return truncated(f, 8);
	*v = (uint64_t)get_le32(f->p + f->off) | (uint64_t)get_le32(f->p + f->off + 4) << 32;
	f->off += 8;
	return 0;
}

int wire_get_str(struct wire_fields *f, char **s, size_t max)
{
	const uint8_t *p;
	uint32_t len;
	int err;

	*s = NULL;
	if ((err = wire_get_u32(f, &len)) < 0)
		return err;
	if (max > WIRE_MAX_STR)
		max = WIRE_MAX_STR;
	if (len > max) {
		error_set("worker message: a string of %u bytes, more than the %zu allowed", len,
			  max);
		return TRAWL_ELIMIT;
	}
	if (f->len - f->off < len)
		return truncated(f, len);
	p = f->p + f->off;
	if (memchr(p, 0, len) || !utf8_is_valid(p, len)) {
		error_set("worker message: a string at byte %zu is not UTF-8 text", f->off);
		return TRAWL_ECORRUPT;
	}
	if (!(*s = malloc((size_t)len + 1)))
		return error_nomem(NULL);
	memcpy(*s, p, len);
	(*s)[len] = '\0';
	f->off += len;
	return 0;
}

void wire_get_rest(struct wire_fields *f, const uint8_t **p, size_t *len)
{
	*p = f->p + f->off;
	*len = f->len - f->off;
	f->off = f->len;
}

int wire_fields_end(const struct wire_fields *f)
{
	if (f->off != f->len) {
		error_set("worker message: %zu unexpected bytes after its fields", f->len - f->off);
		return TRAWL_ECORRUPT;
	}
	return 0;
}

void wire_out_begin(struct wire_out *o, uint32_t type)
{
	*o = (struct wire_out){ 0 };
	buf_init(&o->b, WIRE_HEADER_SIZE + WIRE_MAX_MSG);
	if ((o->err = buf_put_u32le(&o->b, type)) == 0)
		o->err = buf_put_u32le(&o->b, 0); /* the length, set by wire_send */
}

void wire_put_u32(struct wire_out *o, uint32_t v)
{
	if (!o->err)
		o->err = buf_put_u32le(&o->b, v);
}

void wire_put_u64(struct wire_out *o, uint64_t v)
{
	if (!o->err)
		o->err = buf_put_u64le(&o->b, v);
}

void wire_put_str(struct wire_out *o, const char *s)
{
	size_t len = strlen(s);

	if (o->err)
		return;
	if (len > WIRE_MAX_STR || !utf8_is_valid((const uint8_t *)s, len)) {
		error_set("worker message: a string that is not UTF-8 text of at most %u bytes",
			  WIRE_MAX_STR);
		o->err = TRAWL_EINVAL;
		return;
	}
	if ((o->err = buf_put_u32le(&o->b, (uint32_t)len)) == 0)
		o->err = buf_put(&o->b, s, len);
}

void wire_put_bytes(struct wire_out *o, const void *p, size_t len)
{
	if (!o->err)
		o->err = buf_put(&o->b, p, len);
}

size_t wire_out_len(const struct wire_out *o)
{
	return o->b.len >= WIRE_HEADER_SIZE ? o->b.len - WIRE_HEADER_SIZE : 0;
}

int wire_out_bytes(struct wire_out *o, const void **out, size_t *out_len)
{
	size_t len = wire_out_len(o);
	uint8_t *p = (uint8_t *)o->b.ptr;

	if (o->err == TRAWL_ELIMIT)
		error_set("worker message: more than %zu bytes", WIRE_MAX_MSG);
	for (int i = 0; o->err == 0 && i < 4; i++)
		p[4 + i] = (uint8_t)(len >> (8 * i));
	*out = p;
	*out_len = o->b.len;
	return o->err;
}

int wire_send(struct wire_out *o, int fd)
{
	size_t sent = 0, len;
	const void *msg;
	const uint8_t *p;
	int err = wire_out_bytes(o, &msg, &len);

	p = msg;
	while (err == 0 && sent < len) {
		ssize_t n = write(fd, p + sent, len - sent);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error_set("writing a worker message: %s",
				  n < 0 ? strerror(errno) : "no progress");
			err = TRAWL_EIO;
			break;
		}
		sent += (size_t)n;
	}
	wire_out_dispose(o);
	return err;
}

void wire_out_dispose(struct wire_out *o)
{
	buf_dispose(&o->b);
}
