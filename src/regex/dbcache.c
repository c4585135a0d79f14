/* On-disk cache of compiled databases; see dbcache.h. */
#include "regex/dbcache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

/* ---- the memory table ---- */

struct mem_entry {
	char *key;         /* the pattern; NULL for a free slot */
	size_t key_len;
	unsigned flags;
	uint64_t hash;
	hs_database_t *db;
	size_t size;       /* hs_database_size */
	size_t refs;       /* matchers holding db */
	uint64_t used;     /* tick of the last get or put, for eviction */
};

static struct {
	pthread_mutex_t lock;
	struct mem_entry e[DBCACHE_MEM_ENTRIES];
	size_t bytes;
	uint64_t tick;
} mem = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The entry for the key, or NULL; with mem.lock held. */
static struct mem_entry *mem_find(const char *pattern, size_t len, unsigned flags, uint64_t hash)
{
	for (size_t i = 0; i < DBCACHE_MEM_ENTRIES; i++) {
		struct mem_entry *e = &mem.e[i];

		if (e->key && e->hash == hash && e->flags == flags && e->key_len == len &&
		    memcmp(e->key, pattern, len) == 0)
			return e;
	}
	return NULL;
}

static void mem_evict(struct mem_entry *e)
{
	hs_free_database(e->db);
	free(e->key);
	mem.bytes -= e->size;
	*e = (struct mem_entry){ 0 };
}

/* A free slot, or NULL; with mem.lock held. */
static struct mem_entry *mem_free_slot(void)
{
	for (size_t i = 0; i < DBCACHE_MEM_ENTRIES; i++)
		if (!mem.e[i].key)
			return &mem.e[i];
	return NULL;
}

/* The least recently used entry that no matcher holds, or NULL; with mem.lock held. */
static struct mem_entry *mem_lru_unheld(void)
{
	struct mem_entry *v = NULL;

	for (size_t i = 0; i < DBCACHE_MEM_ENTRIES; i++) {
		struct mem_entry *e = &mem.e[i];

		if (e->key && e->refs == 0 && (!v || e->used < v->used))
			v = e;
	}
	return v;
}

hs_database_t *dbcache_mem_get(const char *pattern, size_t len, unsigned flags)
{
	uint64_t hash = key_hash(pattern, len, flags);
	hs_database_t *db = NULL;
	struct mem_entry *e;

	pthread_mutex_lock(&mem.lock);
	if ((e = mem_find(pattern, len, flags, hash)) != NULL) {
		e->refs++;
		e->used = ++mem.tick;
		db = e->db;
	}
	pthread_mutex_unlock(&mem.lock);
	return db;
}

hs_database_t *dbcache_mem_put(const char *pattern, size_t len, unsigned flags, hs_database_t *db)
{
	uint64_t hash = key_hash(pattern, len, flags);
	struct mem_entry *e, *v, *slot;
	hs_database_t *shared;
	size_t size = 0;
	char *key;

	if (hs_database_size(db, &size) != HS_SUCCESS || size > DBCACHE_MEM_BYTES / 4)
		return db;
	key = malloc(len ? len : 1);
	if (!key)
		return db;
	memcpy(key, pattern, len);
	pthread_mutex_lock(&mem.lock);
	if ((e = mem_find(pattern, len, flags, hash)) != NULL) {
		/* Another thread compiled the same pattern meanwhile: share its database. */
		e->refs++;
		e->used = ++mem.tick;
		shared = e->db;
		pthread_mutex_unlock(&mem.lock);
		hs_free_database(db);
		free(key);
		return shared;
	}
	/* Make room, evicting unheld entries, least recently used first. */
	while ((!(slot = mem_free_slot()) || mem.bytes + size > DBCACHE_MEM_BYTES) &&
	       (v = mem_lru_unheld()) != NULL)
		mem_evict(v);
	if (slot && mem.bytes + size <= DBCACHE_MEM_BYTES) {
		*slot = (struct mem_entry){ key, len, flags, hash, db, size, 1, ++mem.tick };
		mem.bytes += size;
		key = NULL; /* the table's */
	}
	pthread_mutex_unlock(&mem.lock);
	free(key);
	return db;
}

void dbcache_release(hs_database_t *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&mem.lock);
	for (size_t i = 0; i < DBCACHE_MEM_ENTRIES; i++) {
		if (mem.e[i].key && mem.e[i].db == db) {
			mem.e[i].refs--;
			pthread_mutex_unlock(&mem.lock);
			return;
		}
	}
	pthread_mutex_unlock(&mem.lock);
	hs_free_database(db);
}
