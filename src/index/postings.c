/* Posting list encoding and checked decoding; see postings.h. */
#include "index/postings.h"

#include "util/error.h"

static inline size_t put_u32_varint(uint8_t *p, uint32_t v)
{
	size_t i = 0;

	while (v >= 0x80) {
		p[i++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[i++] = (uint8_t)v;
	return i;
}

size_t postings_encode_raw(uint8_t *p, const uint32_t *ids, size_t n)
{
	size_t k = 0;
	uint32_t prev = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t v = ids[i] - prev;

		/* Gaps of one dominate the long lists: one byte, no loop. */
		if (v < 0x80)
			p[k++] = (uint8_t)v;
		else
			k += put_u32_varint(p + k, v);
		prev = ids[i];
	}
	return k;
}

int postings_encode(struct buf *b, const uint32_t *ids, size_t n)
{
	size_t room;
	int err;

	for (size_t i = 1; i < n; i++)
		if (ids[i] <= ids[i - 1]) {
			error_set("posting list not strictly ascending at index %zu", i);
			return TRAWL_EINVAL;
		}
	if (__builtin_mul_overflow(n, (size_t)POSTINGS_ID_MAX, &room)) {
		error_set("posting list too long");
		return TRAWL_ELIMIT;
	}
	if ((err = buf_reserve(b, room)) < 0)
		return err;
	b->len += postings_encode_raw((uint8_t *)b->ptr + b->len, ids, n);
	b->ptr[b->len] = '\0';
	return 0;
}

int postings_decode(struct u32vec *out, const uint8_t *p, size_t len, uint32_t count,
		    uint32_t limit)
{
	const uint8_t *start = p, *end;
	uint64_t prev = 0, id;
	uint32_t *dst;
	int err;

	if (count == 0 || len < count) {
		/* Every id takes at least one byte: this also bounds the allocation below. */
		if (count == 0 && len == 0)
			return 0;
		error_set("posting list of %u ids cannot fit %zu bytes", count, len);
		return TRAWL_ECORRUPT;
	}
	if ((err = u32vec_reserve(out, count)) < 0)
		return err;
	end = p + len;
	dst = out->v + out->len;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t v;
		uint8_t c;

		if (p == end)
			goto truncated;
		c = *p++;
		v = c;
		if (c >= 0x80) {
			unsigned shift = 7;

			v = c & 0x7f;
			for (;;) {
				if (p == end)
					goto truncated;
				c = *p++;
				if (shift == 28 && c > 0x0f) {
					error_set("posting list: varint too long or above 2^32 at byte %zu",
						  (size_t)(p - 1 - start));
					return TRAWL_ECORRUPT;
				}
				v |= (uint32_t)(c & 0x7f) << shift;
				if (!(c & 0x80))
					break;
				shift += 7;
			}
			if (c == 0) {
				error_set("posting list: overlong varint at byte %zu",
					  (size_t)(p - 1 - start));
				return TRAWL_ECORRUPT;
			}
		}
		if (i > 0 && v == 0) {
			error_set("posting list: ids not strictly ascending at id %u of %u", i + 1, count);
			return TRAWL_ECORRUPT;
		}
		id = i > 0 ? prev + v : v;
		if (id >= limit) {
			error_set("posting list: document id %llu out of range (%u documents)",
				  (unsigned long long)id, limit);
			return TRAWL_ECORRUPT;
		}
		dst[i] = (uint32_t)id;
		prev = id;
	}
	if (p != end) {
		error_set("posting list: %zu bytes left after %u ids", (size_t)(end - p), count);
		return TRAWL_ECORRUPT;
	}
	out->len += count;
	return 0;
truncated:
	error_set("posting list: truncated after %zu bytes (%u ids expected)", len, count);
	return TRAWL_ECORRUPT;
}
