/*
 * The notices table of the store (schema 5): what was done to a user's account, kept for the
 * user to read (src/auth/notice.c decides when one is made). Only SQL lives here. Times are
 * unix milliseconds given by the caller. Not thread-safe, like struct store.
 */
#ifndef TRAWL_STORE_NOTICES_H
#define TRAWL_STORE_NOTICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/accounts.h"

/* The longest address a notice keeps (an IPv6 address with a zone fits). */
#define STORE_ADDRESS_MAX 63

struct store_notice {
	int64_t id, ts_ms;
	char event[24];
	bool is_self;
	char actor[STORE_NAME_MAX + 1];      /* "" for the command line */
	char address[STORE_ADDRESS_MAX + 1]; /* "" for the command line */
	char token[STORE_NAME_MAX + 1];      /* a token's name, or "" */
};

/*
 * Adds notice n (its id ignored) for the user called user, and drops every notice (anyone's)
 * older than drop_before_ms, in one transaction. Longer strings are cut to the fields' sizes.
 * ENOTFOUND, EIO.
 */
int store_notice_add(struct store *s, const char *user, const struct store_notice *n,
		     int64_t drop_before_ms);
/*
 * The unread notices of user_id at or after since_ms, newest first: at most max into out,
 * their count in *n. EIO.
 */
int store_notice_list(struct store_notice *out, size_t max, size_t *n, struct store *s,
		      int64_t user_id, int64_t since_ms);
/* Marks the notices of user_id with ids up to through (0: all) read at now_ms. EIO. */
int store_notice_read(struct store *s, int64_t user_id, int64_t through, int64_t now_ms);

#endif
