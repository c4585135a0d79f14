/*
 * Editing shard files as bytes, for the shard tests, the fuzz target and the seed generator:
 * find a TOC entry, recompute every checksum, add a section. They trust the file's TOC only as
 * far as it lies inside the buffer, so they also run on hostile inputs.
 */
#ifndef TRAWL_TESTS_SHARD_BYTES_H
#define TRAWL_TESTS_SHARD_BYTES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "index/shard_int.h"

/* The number of TOC entries of p[0..n), cut to those that lie inside it. */
static inline uint32_t shard_bytes_n_toc(const uint8_t *p, size_t n)
{
	uint32_t k;

	if (n < SHARD_HEADER_SIZE)
		return 0;
	k = le32(p + SHARD_H_N_SECTIONS);
	if (k > SHARD_SECTIONS_MAX)
		k = SHARD_SECTIONS_MAX;
	while (k && shard_toc_end(k) > n)
		k--;
	return k;
}

/* The TOC entry of section id, or NULL. */
static inline uint8_t *shard_bytes_toc_entry(uint8_t *p, size_t n, uint32_t id)
{
	for (uint32_t i = 0; i < shard_bytes_n_toc(p, n); i++) {
		uint8_t *e = p + SHARD_HEADER_SIZE + i * SHARD_TOC_ENTRY_SIZE;

		if (le32(e + SHARD_T_ID) == id)
			return e;
	}
	return NULL;
}

/*
 * Recomputes every section checksum the TOC can locate and the header checksum, so that a
 * change reaches the structural check it aims at instead of stopping at a checksum mismatch.
 */
static inline void shard_bytes_reseal(uint8_t *p, size_t n)
{
	uint32_t k = shard_bytes_n_toc(p, n);

	if (k == 0)
		return;
	for (uint32_t i = 0; i < k; i++) {
		uint8_t *e = p + SHARD_HEADER_SIZE + i * SHARD_TOC_ENTRY_SIZE;
		uint64_t off = le64(e + SHARD_T_OFFSET), len = le64(e + SHARD_T_LENGTH);

		if (off <= n && len <= n - off)
			put_le32(e + SHARD_T_CRC, (uint32_t)crc32(0, p + off, (uInt)len));
	}
	put_le32(p + SHARD_H_CRC, 0);
	put_le32(p + SHARD_H_CRC, (uint32_t)crc32(0, p, (uInt)shard_toc_end(k)));
}

/*
 * A copy of the well-formed shard p[0..n) with one more section, as a later writer would add
 * it: a TOC entry (id, flags, count 0) at index at of the TOC, the sections moved down by one
 * entry, data appended at the end, the file size and every checksum redone. *out_n gets the new
 * size. NULL when out of memory.
 */
static inline uint8_t *shard_bytes_add_section(size_t *out_n, const uint8_t *p, size_t n,
					       uint32_t at, uint32_t id, uint32_t flags,
					       const void *data, size_t len)
{
	uint32_t k = shard_bytes_n_toc(p, n);
	uint64_t toc_end = shard_toc_end(k);
	size_t m = n + SHARD_TOC_ENTRY_SIZE + len;
	uint8_t *q = malloc(m), *e;

	if (!q)
		return NULL;
	if (at > k)
		at = k;
	memcpy(q, p, SHARD_HEADER_SIZE + (size_t)at * SHARD_TOC_ENTRY_SIZE);
	memcpy(q + shard_toc_end(at + 1), p + shard_toc_end(at),
	       (size_t)(toc_end - shard_toc_end(at)));
	memcpy(q + toc_end + SHARD_TOC_ENTRY_SIZE, p + toc_end, n - (size_t)toc_end);
	if (len)
		memcpy(q + n + SHARD_TOC_ENTRY_SIZE, data, len);
	for (uint32_t i = 0; i <= k; i++) {
		e = q + SHARD_HEADER_SIZE + i * SHARD_TOC_ENTRY_SIZE;
		if (i != at)
			put_le64(e + SHARD_T_OFFSET, le64(e + SHARD_T_OFFSET) + SHARD_TOC_ENTRY_SIZE);
	}
	e = q + SHARD_HEADER_SIZE + at * SHARD_TOC_ENTRY_SIZE;
	memset(e, 0, SHARD_TOC_ENTRY_SIZE);
	put_le32(e + SHARD_T_ID, id);
	put_le32(e + SHARD_T_FLAGS, flags);
	put_le64(e + SHARD_T_OFFSET, n + SHARD_TOC_ENTRY_SIZE);
	put_le64(e + SHARD_T_LENGTH, len);
	put_le32(q + SHARD_H_N_SECTIONS, k + 1);
	put_le64(q + SHARD_H_FILE_SIZE, m);
	shard_bytes_reseal(q, m);
	*out_n = m;
	return q;
}

/*
 * Removes section id (its TOC entry and its bytes) from the well-formed shard p[0..*n) in place,
 * moving the rest up, and redoes the file size and every checksum. *n gets the new size. -1 when
 * the section is not listed or out of memory.
 */
static inline int shard_bytes_drop_section(uint8_t *p, size_t *n, uint32_t id)
{
	uint32_t k = shard_bytes_n_toc(p, *n);
	uint8_t *e = shard_bytes_toc_entry(p, *n, id), *q;
	uint64_t off, len, toc_end = shard_toc_end(k);
	size_t at, m;

	if (!e || !(q = malloc(*n)))
		return -1;
	at = (size_t)(e - p - SHARD_HEADER_SIZE) / SHARD_TOC_ENTRY_SIZE;
	off = le64(e + SHARD_T_OFFSET);
	len = le64(e + SHARD_T_LENGTH);
	/* The header and the other entries, then the sections before and after the dropped one. */
	memcpy(q, p, (size_t)shard_toc_end((uint32_t)at));
	memcpy(q + shard_toc_end((uint32_t)at), p + shard_toc_end((uint32_t)at + 1),
	       (size_t)(toc_end - shard_toc_end((uint32_t)at + 1)));
	m = (size_t)toc_end - SHARD_TOC_ENTRY_SIZE;
	memcpy(q + m, p + toc_end, (size_t)(off - toc_end));
	m += (size_t)(off - toc_end);
	memcpy(q + m, p + off + len, *n - (size_t)(off + len));
	m += *n - (size_t)(off + len);
	for (uint32_t i = 0; i + 1 < k; i++) {
		uint8_t *f = q + SHARD_HEADER_SIZE + i * SHARD_TOC_ENTRY_SIZE;
		uint64_t o = le64(f + SHARD_T_OFFSET) - SHARD_TOC_ENTRY_SIZE;

		if (len && o + SHARD_TOC_ENTRY_SIZE >= off + len)
			o -= len;
		put_le64(f + SHARD_T_OFFSET, o);
	}
	put_le32(q + SHARD_H_N_SECTIONS, k - 1);
	put_le64(q + SHARD_H_FILE_SIZE, m);
	memcpy(p, q, m);
	free(q);
	shard_bytes_reseal(p, m);
	*n = m;
	return 0;
}

#endif
