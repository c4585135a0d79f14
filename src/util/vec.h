/* A growable array of uint32_t with a maximum length (document ids, trigrams). */
#ifndef TRAWL_UTIL_VEC_H
#define TRAWL_UTIL_VEC_H

#include <stddef.h>
#include <stdint.h>

struct u32vec {
	uint32_t *v;
	size_t len;
	size_t cap;
};

void u32vec_init(struct u32vec *a);
void u32vec_dispose(struct u32vec *a);
/* ENOMEM. */
int u32vec_reserve(struct u32vec *a, size_t n);
int u32vec_push(struct u32vec *a, uint32_t x);

#endif
