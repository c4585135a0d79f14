/* On-disk cache of compiled databases; see dbcache.h. */
#include "regex/dbcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/file.h"

#define CACHE_MAGIC "TRAWLHS1"
#define CACHE_MAX_FILE ((size_t)64 << 20)
#define ENTRY_NAME_LEN 21                 /* "%016llx.hsdb" */
#define SWEEP_MARK ".swept"               /* its mtime: the last sweep */
#define SWEEP_INTERVAL_S 600
#define SWEEP_EVERY_STORES 16
#define SWEEP_MAX_ENTRIES 100000          /* more are left for the next sweep */
#define TMP_MAX_AGE_S 3600                /* a writer's temporary file, left by a crash */

static size_t disk_max_bytes; /* 0: TRAWL_CACHE_MAX_MB, else DBCACHE_DISK_BYTES */
static time_t disk_max_age_s = DBCACHE_DISK_AGE_S;
static atomic_uint n_stores;
static enum dbcache_role cache_role = DBCACHE_ROLE_CLI;

void dbcache_set_role(enum dbcache_role role)
{
	cache_role = role;
}

/* Whether the directory open at fd is ours alone; one just created is narrowed to 0700 first. */
static bool dir_is_ours(int fd, bool is_new)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return false;
	if (is_new)
		return fchmod(fd, 0700) == 0;
	return (st.st_mode & 022) == 0;
}

/*
 * SECURITY: the cache must be the user's own: a database is trusted input to Vectorscan. Each
 * operation opens the directory once, without following a symlink, checks it through the
 * descriptor and reaches every entry relative to it, so someone who can write to a parent
 * directory cannot swap another directory in between the check and the use. Returns the
 * descriptor, or -1 when there is no usable cache.
 */
/*
 * The cache directory's path into b ("" when there is none: off, or no usable variable). The
 * server's is a subdirectory of the user's (dbcache_set_role), so that a CLI process, whose
 * entries sit in the user's directory itself, never opens one the server wrote.
 */
static void cache_dir_path(struct buf *b)
{
	const char *env = getenv("TRAWL_CACHE_DIR");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (env && strcmp(env, "off") == 0)
		return;
	if (env && env[0] == '/')
		buf_puts(b, env);
	else if (xdg && xdg[0] == '/')
		buf_printf(b, "%s/trawl/hs", xdg);
	else if (home && home[0] == '/')
		buf_printf(b, "%s/.cache/trawl/hs", home);
	if (cache_role == DBCACHE_ROLE_SERVER && b->len > 0 &&
	    buf_puts(b, "/" DBCACHE_SERVER_SUBDIR) < 0)
		b->len = 0; /* no cache rather than the user's */
}

char *dbcache_dir(void)
{
	struct buf b;
	char *dir = NULL;
	size_t len;

	buf_init(&b, 4096);
	cache_dir_path(&b);
	if (b.ptr && b.len && file_mkdirs(b.ptr) == 0)
		dir = buf_detach(&b, &len);
	buf_dispose(&b);
	return dir;
}

static int cache_dir_open(void)
{
	const int dir_flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	const char *base;
	bool is_new = false;
	struct buf b;
	int fd = -1;

	buf_init(&b, 4096);
	cache_dir_path(&b);
	if (!b.ptr || b.len == 0)
		goto out;
	/* A trailing slash, "." or ".." would make the open follow a symlink after all. */
	while (b.len > 1 && b.ptr[b.len - 1] == '/')
		b.ptr[--b.len] = '\0';
	base = strrchr(b.ptr, '/') + 1;
	if (!base[0] || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		goto out;
	fd = open(b.ptr, dir_flags);
	if (fd < 0 && errno == ENOENT && file_mkdirs(b.ptr) == 0) {
		fd = open(b.ptr, dir_flags);
		is_new = true;
	}
	if (fd >= 0 && !dir_is_ours(fd, is_new)) {
		close(fd);
		fd = -1;
	}
out:
	buf_dispose(&b);
	return fd;
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

static void entry_name(char name[ENTRY_NAME_LEN + 1], const char *pattern, size_t len,
		       unsigned flags)
{
	snprintf(name, ENTRY_NAME_LEN + 1, "%016llx.hsdb",
		 (unsigned long long)key_hash(pattern, len, flags));
}

/*
 * SECURITY: an entry is read only when it is a regular file of ours that nobody else can
 * write; O_NONBLOCK keeps a FIFO from stalling the open.
 */
static int entry_open(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
			(st.st_mode & 022))) {
		close(fd);
		fd = -1;
	}
	return fd;
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
	char name[ENTRY_NAME_LEN + 1], *data = NULL;
	int dir_fd = cache_dir_open(), fd = -1;
	hs_database_t *db = NULL;
	struct buf want;
	size_t n = 0;

	buf_init(&want, CACHE_MAX_FILE);
	if (dir_fd < 0 || put_header(&want, pattern, len, flags) < 0)
		goto out;
	entry_name(name, pattern, len, flags);
	if ((fd = entry_open(dir_fd, name)) < 0 ||
	    file_read_fd(&data, &n, fd, name, CACHE_MAX_FILE) < 0)
		goto out;
	if (n <= want.len || memcmp(data, want.ptr, want.len) != 0)
		goto out;
	if (hs_deserialize_database(data + want.len, n - want.len, &db) != HS_SUCCESS)
		db = NULL;
	else
		futimens(fd, NULL); /* its last use, for eviction */
out:
	if (fd >= 0)
		close(fd);
	if (dir_fd >= 0)
		close(dir_fd);
	free(data);
	buf_dispose(&want);
	return db;
}

struct disk_entry {
	time_t mtime;
	off_t size;
	char name[ENTRY_NAME_LEN + 1];
};

static int by_mtime(const void *a, const void *b)
{
	const struct disk_entry *x = a, *y = b;

	return (x->mtime > y->mtime) - (x->mtime < y->mtime);
}

static bool is_entry_name(const char *name)
{
	size_t n = strlen(name);

	return n == ENTRY_NAME_LEN && strcmp(name + 16, ".hsdb") == 0 &&
	       strspn(name, "0123456789abcdef") == 16;
}

/* Lists the directory: removes what is too old and collects the rest into list. */
static void sweep_list(struct buf *list, uint64_t *total, DIR *d, time_t now)
{
	size_t max = SWEEP_MAX_ENTRIES * sizeof(struct disk_entry);
	struct dirent *de;

	while (list->len < max && (de = readdir(d)) != NULL) {
		struct disk_entry e = { 0 };
		struct stat st;
		bool is_tmp = strstr(de->d_name, ".hsdb.tmp.") != NULL;

		if ((!is_entry_name(de->d_name) && !is_tmp) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (now - st.st_mtime > (is_tmp ? TMP_MAX_AGE_S : disk_max_age_s)) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (is_tmp)
			continue; /* being written */
		e.mtime = st.st_mtime;
		e.size = st.st_size;
		memcpy(e.name, de->d_name, ENTRY_NAME_LEN);
		if (buf_put(list, &e, sizeof(e)) < 0)
			break;
		*total += (uint64_t)st.st_size;
	}
}

/*
 * The size cap: dbcache_set_disk_limits's, else TRAWL_CACHE_MAX_MB (whole MiB, 1 to 1048576;
 * anything else is ignored), else DBCACHE_DISK_BYTES. Read at each sweep, which is rare.
 */
static uint64_t disk_cap(void)
{
	const char *env = getenv("TRAWL_CACHE_MAX_MB");
	char *end;
	unsigned long mb;

	if (disk_max_bytes)
		return disk_max_bytes;
	if (env && env[0] >= '0' && env[0] <= '9') {
		errno = 0;
		mb = strtoul(env, &end, 10);
		if (errno == 0 && *end == '\0' && mb >= 1 && mb <= (1ul << 20))
			return (uint64_t)mb << 20;
	}
	return DBCACHE_DISK_BYTES;
}

/* Sweeps the cache directory open at dir_fd (which stays open). */
static void sweep_dir(int dir_fd)
{
	struct disk_entry *v;
	uint64_t total = 0, cap = disk_cap();
	size_t n;
	struct buf list;
	DIR *d = NULL;
	int fd;

	buf_init(&list, SWEEP_MAX_ENTRIES * sizeof(struct disk_entry));
	/* A copy of the descriptor for the listing: closedir closes it, dir_fd stays the caller's. */
	fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	/* The mark first: another process arriving meanwhile need not sweep too. */
	fd = openat(dir_fd, SWEEP_MARK, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		    0600);
	if (fd >= 0) {
		futimens(fd, NULL);
		close(fd);
	}
	sweep_list(&list, &total, d, time(NULL));
	v = (struct disk_entry *)(void *)list.ptr;
	n = list.len / sizeof(*v);
	if (total > cap && n > 0) {
		/* Least recently used first out: dbcache_load sets an entry's mtime on every use. */
		qsort(v, n, sizeof(*v), by_mtime);
		for (size_t i = 0; i < n && total > cap; i++)
			if (unlinkat(dir_fd, v[i].name, 0) == 0 || errno == ENOENT)
				total -= (uint64_t)v[i].size;
	}
	closedir(d);
out:
	buf_dispose(&list);
}

void dbcache_sweep(void)
{
	int dir_fd = cache_dir_open();

	if (dir_fd < 0)
		return;
	sweep_dir(dir_fd);
	close(dir_fd);
}

/* Whether this store should sweep: every few stores, or when nobody has for a while. */
static bool sweep_due(int dir_fd)
{
	struct stat st;

	if ((atomic_fetch_add(&n_stores, 1) + 1) % SWEEP_EVERY_STORES == 0)
		return true;
	return fstatat(dir_fd, SWEEP_MARK, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	       time(NULL) - st.st_mtime > SWEEP_INTERVAL_S;
}

void dbcache_set_disk_limits(size_t max_bytes, unsigned max_age_s)
{
	disk_max_bytes = max_bytes;
	disk_max_age_s = max_age_s ? (time_t)max_age_s : DBCACHE_DISK_AGE_S;
}

void dbcache_store(const char *pattern, size_t len, unsigned flags, const hs_database_t *db)
{
	char name[ENTRY_NAME_LEN + 1], *ser = NULL;
	int dir_fd = cache_dir_open();
	size_t ser_len = 0;
	struct buf b;

	buf_init(&b, CACHE_MAX_FILE);
	if (dir_fd < 0 || put_header(&b, pattern, len, flags) < 0)
		goto out;
	if (hs_serialize_database(db, &ser, &ser_len) != HS_SUCCESS)
		goto out;
	entry_name(name, pattern, len, flags);
	/* 0600: an entry holds the pattern text, as private as the query. */
	if (buf_put(&b, ser, ser_len) == 0 &&
	    file_write_atomic_at(dir_fd, name, b.ptr, b.len, 0600) == 0 && sweep_due(dir_fd))
		sweep_dir(dir_fd);
out:
	if (dir_fd >= 0)
		close(dir_fd);
	free(ser);
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
