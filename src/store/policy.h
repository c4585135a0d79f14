/*
 * The URL policy files: DATA/policy/ID holds what `trawl sync` fetches for repository ID (its
 * name, URL and --allow-* flags), written by `trawl repo add` (mode 0600, atomically) and read
 * by every sync, which obeys the file alone: the registry (trawl.db) keeps a copy for display,
 * and a difference is warned about. SECURITY: the confined server may write trawl.db but not
 * DATA/policy/ (docs/internals/sandbox.md), so it cannot widen what an unconfined sync fetches.
 *
 * The file is one JSON object: {"id":1,"name":"NAME","url":"URL","allow":["local",...]},
 * at most STORE_POLICY_FILE_MAX bytes.
 */
#ifndef TRAWL_STORE_POLICY_H
#define TRAWL_STORE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_POLICY_DIR "policy"
#define STORE_POLICY_FILE_MAX 65536

/* What one policy file says. */
struct store_policy_file {
	int64_t id;
	char *name;
	char *url;
	struct store_policy policy;
};

void store_policy_file_dispose(struct store_policy_file *f);

/*
 * Writes dir/ID for repository id (dir created mode 0700 when missing), replacing any file of
 * that id atomically. EIO, ELIMIT (over STORE_POLICY_FILE_MAX), ENOMEM.
 */
int store_policy_write(const char *dir, int64_t id, const char *name, const char *url,
		       const struct store_policy *policy);

/*
 * Reads dir/ID into *out (disposed of by the caller, also on failure). ENOTFOUND when there is
 * no such file, ECORRUPT for one that is not what store_policy_write writes (or names another
 * id), EIO, ELIMIT, ENOMEM; the message names the file.
 */
int store_policy_read(struct store_policy_file *out, const char *dir, int64_t id);

/*
 * Parses text[0..len) (a policy file's bytes; need not be NUL-terminated) as the file of
 * repository id; what names it in errors. ECORRUPT, ENOMEM, as store_policy_read; on failure
 * *out holds nothing.
 */
int store_policy_parse(struct store_policy_file *out, const char *text, size_t len,
		       const char *what, int64_t id);

/* Removes dir/ID (a missing one is fine). EIO. */
int store_policy_remove(const char *dir, int64_t id);

/*
 * A registry from before the policy files: when dir does not exist, writes every repository's
 * file from the registry into a new directory renamed to dir when complete, so that dir either
 * holds every file or does not exist. *n_written (may be NULL) gets the number of files written
 * (0 when dir existed). EIO, ENOMEM.
 */
int store_policy_migrate(size_t *n_written, struct store *s, const char *dir);

/* Whether a policy file and the registry's row say the same (URL and flags). */
bool store_policy_matches(const struct store_policy_file *f, const struct store_repo *r);

#endif
