/*
 * The worker message codec: what a sandboxed worker (`trawl worker fetch|index`) tells its
 * parent over a pipe, as length-prefixed typed messages (docs/internals/sandbox.md, "Workers").
 *
 *     message = type:u32le  length:u32le  payload[length]
 *     payload = fields, each  u32:4 bytes LE | u64:8 bytes LE | str: len:u32le bytes[len]
 *
 * SECURITY: the parent reads a process it does not trust (one that parsed a hostile
 * repository), so everything is bounded and checked before use: a message longer than
 * WIRE_MAX_MSG, more than WIRE_MAX_COUNT messages or WIRE_MAX_TOTAL bytes in one run is ELIMIT;
 * a type outside 1..max_type, a truncated message or field, a string that is not UTF-8 or holds
 * a NUL, a payload with bytes left over, is ECORRUPT. Each error says what was wrong, never
 * the bytes themselves.
 *
 * The reader is incremental (bytes in as they arrive, whole messages out), so the parent can
 * poll the message pipe and the worker's standard error together. The writer blocks, handles
 * EINTR and short writes, and is used by the worker on its own pipe.
 *
 * Not thread-safe; nothing is shared between readers.
 */
#ifndef TRAWL_SANDBOX_WIRE_H
#define TRAWL_SANDBOX_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define WIRE_HEADER_SIZE 8
#define WIRE_MAX_MSG ((size_t)1 << 20)       /* payload bytes of one message */
#define WIRE_MAX_COUNT 65536u                /* messages per run */
#define WIRE_MAX_TOTAL ((uint64_t)256 << 20) /* payload bytes per run */
#define WIRE_MAX_STR 4096u                   /* bytes of one string field */

/* The worker protocol's message types (docs/internals/sandbox.md lists their fields). */
enum wire_type {
	WIRE_ERROR = 1,         /* str: what failed (the worker's error_last()), u32: -code */
	WIRE_FETCH = 2,         /* u32 flags (cloned, recloned, unchanged), str reason */
	WIRE_INDEX = 3,         /* the index result's header: flags, counts, n_base, ... */
	WIRE_INDEX_BRANCH = 4,  /* str name, str commit, u32 flags (default, reindexed) */
	WIRE_INDEX_SHARD = 5,   /* str: a new shard file, relative to the work directory */
	WIRE_INDEX_OVERLAY = 6, /* a run of overlay entries: (u32 shard, doc, n, n x u32)... */
	WIRE_END = 7,           /* no payload: the result is complete */
	/* `trawl worker show` (a commit permalink read from a mirror): */
	WIRE_SHOW_REQ = 8,   /* to the worker: u64 repository id, str commit, str path,
			      * u64 max_size, u32 max_entries */
	WIRE_SHOW = 9,       /* u32 kind (git/show.h), u64 size, u32 flags (1 too large,
			      * 2 truncated) */
	WIRE_SHOW_DATA = 10, /* bytes: the next part of the file's content (no fields) */
	WIRE_SHOW_ENTRY = 11, /* str name, u32 type (git/show.h), u64 size */
};
/* The sync's workers send types up to WIRE_END; the show worker up to WIRE_SHOW_MAX. */
#define WIRE_TYPE_MAX WIRE_END
#define WIRE_SHOW_MAX WIRE_SHOW_ENTRY

/* One decoded message; payload is borrowed from the reader until its next call. */
struct wire_msg {
	uint32_t type;
	const uint8_t *payload;
	size_t len;
};

struct wire_in {
	struct buf b; /* bytes received and not yet consumed */
	size_t off;   /* start of the next message in b */
	uint32_t max_type;
	uint32_t n_msgs; /* messages handed out */
	uint64_t total;  /* their payload bytes */
	int err;         /* sticky: once refused, always refused */
};

/* A reader accepting types 1..max_type. */
void wire_in_init(struct wire_in *w, uint32_t max_type);
void wire_in_dispose(struct wire_in *w);

/* Appends bytes read from the pipe. ENOMEM, ELIMIT (more than one message can hold). */
int wire_in_feed(struct wire_in *w, const void *data, size_t len);

/*
 * The next whole message into *m: 1 when there is one, 0 when more bytes are needed, ECORRUPT
 * (unknown type), ELIMIT (oversize message, too many messages or bytes). Once it failed it keeps
 * failing with the same code.
 */
int wire_in_next(struct wire_in *w, struct wire_msg *m);

/*
 * At the end of the stream: 0 when it ended between messages, ECORRUPT "truncated" when a
 * partial message is left.
 */
int wire_in_end(const struct wire_in *w);

/* Reads the fields of one payload in order. */
struct wire_fields {
	const uint8_t *p;
	size_t len, off;
};

void wire_fields_init(struct wire_fields *f, const struct wire_msg *m);
/* ECORRUPT "truncated" when the payload has fewer bytes left. */
int wire_get_u32(struct wire_fields *f, uint32_t *v);
int wire_get_u64(struct wire_fields *f, uint64_t *v);
/*
 * A string of at most max bytes (and WIRE_MAX_STR), well-formed UTF-8 without NUL, into a new
 * NUL-terminated *s (caller frees). ECORRUPT, ELIMIT (longer than max), ENOMEM.
 */
int wire_get_str(struct wire_fields *f, char **s, size_t max);
/* The payload's bytes left (borrowed like the message), all read by this call. */
void wire_get_rest(struct wire_fields *f, const uint8_t **p, size_t *len);
/* ECORRUPT when bytes are left over: every field was read. */
int wire_fields_end(const struct wire_fields *f);

/* Builds one message: wire_out_begin, wire_put_*, then wire_send. */
struct wire_out {
	struct buf b; /* header and payload */
	int err;      /* sticky: the first failed put */
};

void wire_out_begin(struct wire_out *o, uint32_t type);
void wire_put_u32(struct wire_out *o, uint32_t v);
void wire_put_u64(struct wire_out *o, uint64_t v);
/* Strings must be UTF-8 without NUL and at most WIRE_MAX_STR bytes: else EINVAL at send. */
void wire_put_str(struct wire_out *o, const char *s);
/* Raw bytes (a WIRE_SHOW_DATA payload): ELIMIT at send when the message grows too long. */
void wire_put_bytes(struct wire_out *o, const void *p, size_t len);
/* Bytes in the payload so far. */
size_t wire_out_len(const struct wire_out *o);
/*
 * Writes the message to fd (EINTR and short writes handled) and disposes of o. EINVAL (a bad
 * string was put), ELIMIT (over WIRE_MAX_MSG), EIO (the pipe failed: the parent went away).
 */
int wire_send(struct wire_out *o, int fd);
/*
 * The whole message (its header's length set) in *p, *len, borrowed until o is disposed of:
 * for a caller that sends it another way. EINVAL, ELIMIT as wire_send.
 */
int wire_out_bytes(struct wire_out *o, const void **p, size_t *len);
void wire_out_dispose(struct wire_out *o);

#endif
