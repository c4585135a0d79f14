/* File helpers; see file.h. */
#include "util/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

static int errno_code(int e)
{
	return (e == ENOENT || e == ENOTDIR) ? TRAWL_ENOTFOUND : TRAWL_EIO;
}

/* What a file that is not a regular one is, for an error message. */
static const char *file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISLNK(mode))
		return "a symbolic link";
	return "not a regular file";
}

/*
 * Opens to read the regular file behind pfd (an O_PATH descriptor whose status is st): through
 * /proc, which names that very file whatever happened to the path since; without /proc, by
 * the path again, which must then still lead to the same file.
 */
static int reopen_regular(int *fd, int pfd, const struct stat *st, const char *path, int nofollow)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	char proc[64];
	struct stat now;

	/* The /proc entry is a link to the file itself: following it is the point. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	*fd = open(proc, flags);
	if (*fd < 0 && errno == ENOENT)
		*fd = open(path, flags | nofollow);
	if (*fd < 0) {
		int e = errno;

		error_set("%s: cannot open: %s", path, strerror(e));
		return errno_code(e);
	}
	if (fstat(*fd, &now) == 0 && S_ISREG(now.st_mode) && now.st_dev == st->st_dev &&
	    now.st_ino == st->st_ino)
		return 0;
	error_set("%s: replaced while it was opened", path);
	close(*fd);
	*fd = -1;
	return TRAWL_EIO;
}

/*
 * SECURITY: the file is looked at before it is opened: an O_PATH descriptor opens nothing, so
 * a device put in a file's place is never opened (a tape would rewind, a modem hang up), nor
 * a FIFO (its writer would wake). O_NONBLOCK: without /proc the path is opened again, and a
 * FIFO swapped in meanwhile must not hold the thread waiting for a writer; O_NOCTTY: a
 * terminal never becomes ours. Neither changes how a regular file reads.
 */
bool file_is_private(const struct stat *st)
{
	mode_t others = st->st_mode & (S_IRWXG | S_IRWXO);

	if (st->st_uid == geteuid())
		return others == 0;
	return st->st_uid == 0 && (others & ~(mode_t)S_IRGRP) == 0;
}

int file_open_regular(int *fd, struct stat *st, const char *path, bool is_nofollow)
{
	struct stat own;
	int nofollow = is_nofollow ? O_NOFOLLOW : 0;
	int pfd, err = TRAWL_EIO;

	if (!st)
		st = &own;
	*fd = -1;
	pfd = open(path, O_PATH | O_CLOEXEC | nofollow);
	if (pfd < 0) {
		int e = errno;

		error_set("%s: cannot open: %s", path, strerror(e));
		return errno_code(e);
	}
	if (fstat(pfd, st) < 0)
		error_set("%s: cannot stat: %s", path, strerror(errno));
	else if (!S_ISREG(st->st_mode))
		error_set("%s: %s, not a regular file", path, file_kind(st->st_mode));
	else
		err = reopen_regular(fd, pfd, st, path, nofollow);
	close(pfd);
	return err;
}

int file_map_open(struct file_map *m, const char *path)
{
	struct stat st;
	void *p;
	int fd, err;

	m->data = NULL;
	m->len = 0;
	if ((err = file_open_regular(&fd, &st, path, true)) < 0)
		return err;
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		error_set("%s: cannot map: %s", path, strerror(errno));
		return TRAWL_EIO;
	}
	m->data = p;
	m->len = (size_t)st.st_size;
	return 0;
}

void file_map_close(struct file_map *m)
{
	if (m->data)
		munmap((void *)m->data, m->len);
	m->data = NULL;
	m->len = 0;
}

int file_read_fd(char **out, size_t *len, int fd, const char *what, size_t max)
{
	struct stat st;
	char *p = NULL;
	size_t got = 0;

	*out = NULL;
	*len = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		error_set("%s: not a regular file", what);
		return TRAWL_EIO;
	}
	if ((uint64_t)st.st_size > max) {
		error_set("%s: larger than %zu bytes", what, max);
		return TRAWL_ELIMIT;
	}
	p = malloc((size_t)st.st_size + 1);
	if (!p) {
		error_set("%s: out of memory", what);
		return TRAWL_ENOMEM;
	}
	/* The file may change under us: read at most the size we saw, and accept a shorter read. */
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, p + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set("%s: read failed: %s", what, strerror(errno));
			free(p);
			return TRAWL_EIO;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	p[got] = '\0';
	*out = p;
	*len = got;
	return 0;
}

int file_read_all(char **out, size_t *len, const char *path, size_t max)
{
	int fd, err;

	*out = NULL;
	*len = 0;
	if ((err = file_open_regular(&fd, NULL, path, true)) < 0)
		return err;
	err = file_read_fd(out, len, fd, path, max);
	close(fd);
	return err;
}

char *file_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

int file_tmp_open(struct file_tmp *t, const char *final_path)
{
	size_t n = strlen(final_path);

	t->fd = -1;
	t->final_path = strdup(final_path);
	t->tmp_path = malloc(n + 16);
	if (!t->final_path || !t->tmp_path) {
		file_tmp_dispose(t);
		return error_nomem(NULL);
	}
	memcpy(t->tmp_path, final_path, n);
	memcpy(t->tmp_path + n, ".tmp.XXXXXX", 12);
	t->fd = mkostemp(t->tmp_path, O_CLOEXEC);
	if (t->fd < 0) {
		error_set("%s: cannot create a temporary file: %s", final_path, strerror(errno));
		file_tmp_dispose(t);
		return TRAWL_EIO;
	}
	return 0; /* mkostemp's mode 0600: these files hold private code */
}

static int write_error(const char *what, int e)
{
	if (e == ENOSPC || e == EDQUOT)
		error_set("%s: disk full (%s)", what, strerror(e));
	else
		error_set("%s: write failed: %s", what, strerror(e));
	return TRAWL_EIO;
}

int file_write_all(int fd, const void *data, size_t len, const char *what)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return write_error(what, errno);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_pwrite_all(int fd, const void *data, size_t len, uint64_t off, const char *what)
{
	const char *p = data;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return write_error(what, errno);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static void fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash) {
		dir[0] = '.';
		dir[1] = '\0';
	} else {
		size_t n = (size_t)(slash - path);

		if (n >= sizeof(dir))
			return;
		memcpy(dir, path, n ? n : 1);
		dir[n ? n : 1] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* fsyncs and closes *fd (then -1): a close can report a delayed write error. EIO. */
static int sync_close(int *fd, const char *what)
{
	int rc;

	if (fsync(*fd) < 0)
		return write_error(what, errno);
	rc = close(*fd);
	*fd = -1;
	return rc < 0 ? write_error(what, errno) : 0;
}

int file_tmp_commit(struct file_tmp *t)
{
	int err;

	if ((err = sync_close(&t->fd, t->final_path)) < 0)
		return err;
	if (rename(t->tmp_path, t->final_path) < 0) {
		error_set("%s: cannot rename into place: %s", t->final_path, strerror(errno));
		return TRAWL_EIO;
	}
	fsync_dir_of(t->final_path);
	free(t->tmp_path);
	t->tmp_path = NULL;
	return 0;
}

void file_tmp_dispose(struct file_tmp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->tmp_path)
		unlink(t->tmp_path);
	free(t->tmp_path);
	free(t->final_path);
	t->tmp_path = NULL;
	t->final_path = NULL;
}

int file_write_atomic(const char *path, const void *data, size_t len)
{
	struct file_tmp t;
	int err;

	if ((err = file_tmp_open(&t, path)) < 0)
		return err;
	if ((err = file_write_all(t.fd, data, len, path)) == 0)
		err = file_tmp_commit(&t);
	file_tmp_dispose(&t);
	return err;
}

int file_write_atomic_at(int dir_fd, const char *name, const void *data, size_t len,
			 unsigned mode)
{
	static atomic_uint seq;
	char tmp[NAME_MAX + 1];
	int fd = -1, err = 0;

	tmp[0] = '\0';
	/* Names unique to this process and call; O_EXCL moves on from one a crash left behind. */
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld-%u", name, (long)getpid(),
				 atomic_fetch_add(&seq, 1));

		if (n < 0 || (size_t)n >= sizeof(tmp)) {
			error_set("%s: name too long", name);
			return TRAWL_EINVAL;
		}
		fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    (mode_t)mode);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		error_set("%s: cannot create a temporary file: %s", name, strerror(errno));
		return TRAWL_EIO;
	}
	if ((err = file_write_all(fd, data, len, name)) < 0 || (err = sync_close(&fd, name)) < 0)
		goto out;
	if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
		error_set("%s: cannot rename into place: %s", name, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	tmp[0] = '\0'; /* renamed */
	fsync(dir_fd);
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0])
		unlinkat(dir_fd, tmp, 0);
	return err;
}

/* A directory on file_remove_tree's way down: what ".." must be on the way back up. */
struct rm_level {
	dev_t dev;
	ino_t ino;
};

#define RM_LEVELS_MAX ((size_t)1 << 20)

static bool same_file(const struct stat *sb, const struct rm_level *lv)
{
	return sb->st_dev == lv->dev && sb->st_ino == lv->ino;
}

/*
 * Removes the (now empty) subdirectory of d that is child, found by its device and inode: a
 * first pass trusts d_ino to skip the others, a second one (for file systems whose d_ino is not
 * st_ino) looks at every entry.
 */
static int rmdir_child(DIR *d, const struct rm_level *child, const char *path)
{
	struct dirent *de;
	struct stat sb;

	for (int pass = 0; pass < 2; pass++, rewinddir(d))
		while ((de = readdir(d))) {
			if ((pass == 0 && de->d_ino != child->ino) || strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !same_file(&sb, child))
				continue;
			if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
				error_set("cannot remove a directory in %s: %s", path,
					  strerror(errno));
				return TRAWL_EIO;
			}
			return 0;
		}
	return 0; /* already gone */
}

/*
 * Empties the directory d: files and symlinks are unlinked; at the first subdirectory its
 * descriptor is returned in *sub (and the scan stops), -1 when d holds no directory any more.
 */
static int rm_scan(int *sub, DIR *d, const char *path)
{
	struct dirent *de;

	*sub = -1;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0 || errno == ENOENT)
			continue;
		if (errno != EISDIR)
			goto fail;
		*sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (*sub >= 0)
			return 0;
		if (errno != ENOENT)
			goto fail;
	}
	return 0;
fail:
	error_set("cannot remove %s in %s: %s", de->d_name, path, strerror(errno));
	return TRAWL_EIO;
}

/*
 * DESIGN: depth-first with two descriptors instead of one per level: the walk keeps only the
 * directory it is emptying; after emptying one it goes up by "..", checks that this is the
 * directory recorded on the way down, removes the emptied child (found by its inode) and scans
 * the parent again. Memory is a (dev, ino) pair per level; descriptors stay at two.
 */
int file_remove_tree(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	struct rm_level *lv = NULL, *grown;
	size_t n = 0, cap = 0;
	char *parent = NULL;
	int pfd = -1, fd, up, err = 0;
	struct stat sb;
	DIR *d = NULL;

	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		error_set("cannot remove %s: not a removable name", path);
		return TRAWL_EINVAL;
	}
	if (!(parent = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
			     : strdup(".")))
		return error_nomem(NULL);
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err = errno == ENOENT ? 0 : TRAWL_EIO;
		goto sys;
	}
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			goto out;
		/* SECURITY: a symlink (ELOOP) or file in its place is removed itself. */
		if ((errno == ENOTDIR || errno == ELOOP) &&
		    (unlinkat(pfd, name, 0) == 0 || errno == ENOENT))
			goto out;
		err = TRAWL_EIO;
		goto sys;
	}
	for (;;) {
		if (n == cap) {
			if (cap == RM_LEVELS_MAX) {
				close(fd);
				error_set("cannot remove %s: deeper than %zu directories", path,
					  RM_LEVELS_MAX);
				err = TRAWL_ELIMIT;
				goto out;
			}
			cap = cap ? cap * 2 : 64;
			if (!(grown = realloc(lv, cap * sizeof(*lv)))) {
				close(fd);
				err = error_nomem(NULL);
				goto out;
			}
			lv = grown;
		}
		if (fstat(fd, &sb) < 0 || !(d = fdopendir(fd))) {
			close(fd);
			err = TRAWL_EIO;
			goto sys;
		}
		lv[n++] = (struct rm_level){ .dev = sb.st_dev, .ino = sb.st_ino };
		for (;;) {
			if ((err = rm_scan(&fd, d, path)) < 0)
				goto out;
			if (fd >= 0)
				break; /* down into it */
			if (n == 1)
				goto top;
			/* Emptied: up to the parent, which must be the one we came down through. */
			up = openat(dirfd(d), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			closedir(d);
			d = NULL;
			if (up < 0 || fstat(up, &sb) < 0 || !same_file(&sb, &lv[n - 2])) {
				if (up >= 0)
					close(up);
				error_set("cannot remove %s: a directory in it moved meanwhile",
					  path);
				err = TRAWL_EIO;
				goto out;
			}
			if (!(d = fdopendir(up))) {
				close(up);
				err = TRAWL_EIO;
				goto sys;
			}
			n--;
			if ((err = rmdir_child(d, &lv[n], path)) < 0)
				goto out;
			rewinddir(d);
		}
		closedir(d);
		d = NULL;
	}
top:
	closedir(d);
	d = NULL;
	if (unlinkat(pfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
		goto out;
	err = TRAWL_EIO;
sys:
	if (err < 0)
		error_set("cannot remove %s: %s", path, strerror(errno));
out:
	if (d)
		closedir(d);
	if (pfd >= 0)
		close(pfd);
	free(lv);
	free(parent);
	return err;
}

int file_mkdirs(const char *dir)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p)) {
		error_set("%s: invalid directory name", dir);
		return TRAWL_EINVAL;
	}
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char c = p[i];

		p[i] = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			error_set("%s: cannot create directory: %s", p, strerror(errno));
			return TRAWL_EIO;
		}
		p[i] = c;
	}
	return 0;
}
