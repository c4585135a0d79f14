/* On-disk cache of compiled databases; see dbcache.h. */
#include "regex/dbcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/file.h"

#define CACHE_MAGIC "TRAWLHS1"
#define CACHE_MAX_FILE ((size_t)64 << 20)

/* SECURITY: the cache must be the user's own: a database is trusted input to Vectorscan. */
static char *cache_dir(void)
{
	const char *env = getenv("TRAWL_CACHE_DIR");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	struct buf b;
	struct stat st;

	buf_init(&b, 4096);
	if (env && strcmp(env, "off") == 0)
		return NULL;
	if (env && env[0] == '/')
		buf_puts(&b, env);
	else if (xdg && xdg[0] == '/')
		buf_printf(&b, "%s/trawl/hs", xdg);
	else if (home && home[0] == '/')
		buf_printf(&b, "%s/.cache/trawl/hs", home);
	if (!b.ptr || b.len == 0)
		goto fail;
	if (stat(b.ptr, &st) < 0) {
		if (errno != ENOENT || file_mkdirs(b.ptr) < 0 || chmod(b.ptr, 0700) < 0 ||
		    stat(b.ptr, &st) < 0)
			goto fail;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		goto fail;
	return buf_detach(&b, NULL);
fail:
	buf_dispose(&b);
	return NULL;
}

/* FNV-1a, 64 bits: only names the file; the entry itself holds the full key. */
static uint64_t key_hash(const char *pattern, size_t len, unsigned flags)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *v = hs_version();

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)pattern[i]) * 0x100000001b3ull;
	for (size_t i = 0; v[i]; i++)
		h = (h ^ (uint8_t)v[i]) * 0x100000001b3ull;
	return (h ^ flags) * 0x100000001b3ull;
}

static char *entry_path(const char *pattern, size_t len, unsigned flags)
{
	char *dir = cache_dir(), name[40], *path;

	if (!dir)
		return NULL;
	snprintf(name, sizeof(name), "%016llx.hsdb",
		 (unsigned long long)key_hash(pattern, len, flags));
	path = file_join(dir, name);
	free(dir);
	return path;
}

/* The entry header: magic, flags, key lengths, then the version and pattern texts. */
static int put_header(struct buf *b, const char *pattern, size_t len, unsigned flags)
{
	const char *v = hs_version();
	int err;

	if ((err = buf_put(b, CACHE_MAGIC, 8)) < 0 || (err = buf_put_u32le(b, flags)) < 0 ||
	    (err = buf_put_u32le(b, (uint32_t)strlen(v))) < 0 ||
	    (err = buf_put_u32le(b, (uint32_t)len)) < 0 || (err = buf_puts(b, v)) < 0)
		return err;
	return buf_put(b, pattern, len);
}

hs_database_t *dbcache_load(const char *pattern, size_t len, unsigned flags)
{
	char *path = entry_path(pattern, len, flags), *data = NULL;
	hs_database_t *db = NULL;
	struct buf want;
	size_t n = 0;

	buf_init(&want, CACHE_MAX_FILE);
	if (!path || put_header(&want, pattern, len, flags) < 0)
		goto out;
	if (file_read_all(&data, &n, path, CACHE_MAX_FILE) < 0)
		goto out;
	if (n <= want.len || memcmp(data, want.ptr, want.len) != 0)
		goto out;
	if (hs_deserialize_database(data + want.len, n - want.len, &db) != HS_SUCCESS)
		db = NULL;
out:
	free(data);
	free(path);
	buf_dispose(&want);
	return db;
}

void dbcache_store(const char *pattern, size_t len, unsigned flags, const hs_database_t *db)
{
	char *path = entry_path(pattern, len, flags), *ser = NULL;
	size_t ser_len = 0;
	struct buf b;

	buf_init(&b, CACHE_MAX_FILE);
	if (!path || put_header(&b, pattern, len, flags) < 0)
		goto out;
	if (hs_serialize_database(db, &ser, &ser_len) != HS_SUCCESS)
		goto out;
	if (buf_put(&b, ser, ser_len) == 0)
		file_write_atomic(path, b.ptr, b.len);
out:
	free(ser);
	free(path);
	buf_dispose(&b);
}
