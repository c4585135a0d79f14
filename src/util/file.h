/*
 * Files: read-only mappings, bounded reads, and atomic replacement (write a temporary file in
 * the target directory, fsync, rename). Every open uses O_NOFOLLOW where a path may come from
 * untrusted data, and O_CLOEXEC always.
 */
#ifndef TRAWL_UTIL_FILE_H
#define TRAWL_UTIL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct file_map {
	const uint8_t *data; /* NULL for an empty file */
	size_t len;
};

/*
 * Opens path read-only, without blocking and without following a final symlink when
 * is_nofollow, into *fd, and its status into *st (st may be NULL); refuses anything but a
 * regular file (a FIFO, a device, a directory), naming what it is, without opening it. EIO,
 * ENOTFOUND.
 */
int file_open_regular(int *fd, struct stat *st, const char *path, bool is_nofollow);

/*
 * SECURITY: whether a secret file's owner and mode keep it private (keys, shared secrets, client
 * secrets): owned by this process's user, nothing for its group or others; or owned by root
 * (this process not root), readable by its group at most (PostgreSQL's rule for its key files:
 * a Kubernetes Secret mounted with fsGroup is root's, mode 0440; an administrator's root:trawl
 * 0640). Never writable, never readable by others. FILE_PRIVATE_HINT says how to fix one.
 */
bool file_is_private(const struct stat *st);
#define FILE_PRIVATE_HINT "chmod 600 (or, owned by root, 640: its group may read it)"

/* Maps path read-only (refusing a symlink and anything but a regular file). EIO, ENOTFOUND. */
int file_map_open(struct file_map *m, const char *path);
void file_map_close(struct file_map *m);

/*
 * Reads the whole regular file at path into a new buffer (NUL-terminated, *len excludes the
 * NUL); refuses symlinks, what is not a regular file (without blocking on a FIFO) and files
 * over max bytes (ELIMIT). EIO, ENOTFOUND, ENOMEM.
 */
int file_read_all(char **out, size_t *len, const char *path, size_t max);
/* Reads the whole regular file open at fd the same way; what names it in errors. */
int file_read_fd(char **out, size_t *len, int fd, const char *what, size_t max);

struct file_tmp {
	int fd;
	char *tmp_path;   /* the temporary name, in the target's directory */
	char *final_path; /* where commit renames it */
};

/* Creates a temporary file beside final_path, mode 0600 (it may hold private code). EIO, ENOMEM. */
int file_tmp_open(struct file_tmp *t, const char *final_path);
/*
 * Writes all of data at the current position. EIO: ENOSPC and EDQUOT are "WHAT: disk full (No
 * space left on device)", resp. "(Disk quota exceeded)".
 */
int file_write_all(int fd, const void *data, size_t len, const char *what);
/* Writes all of data at offset. EIO. */
int file_pwrite_all(int fd, const void *data, size_t len, uint64_t off, const char *what);
/* fsyncs, closes and renames into place, then fsyncs the directory. EIO. */
int file_tmp_commit(struct file_tmp *t);
/* Closes and unlinks the temporary file if still open (safe after commit). */
void file_tmp_dispose(struct file_tmp *t);

/* Writes data to path atomically (file_tmp_* in one call). */
int file_write_atomic(const char *path, const void *data, size_t len);
/*
 * Writes data to name in the directory open at dir_fd atomically: a new file NAME.tmp.* created
 * there (O_EXCL, O_NOFOLLOW, mode & ~umask), fsynced and renamed onto name, then the directory
 * fsynced; the temporary file is removed on failure. Nothing is reached through a symlink or
 * through the directory's path. EINVAL (name too long), EIO.
 */
int file_write_atomic_at(int dir_fd, const char *name, const void *data, size_t len,
			 unsigned mode);

/*
 * Deletes path and, when it is a directory, everything in it, at any depth (a missing path is
 * fine). SECURITY: below path's parent the walk goes by directory descriptors only (openat
 * O_NOFOLLOW, unlinkat), never by path strings: a symlink is removed, never followed, and a
 * chain deeper than PATH_MAX is no obstacle. Going back up by ".." is checked against the
 * device and inode recorded on the way down, so a directory moved away meanwhile stops the walk
 * instead of leading it outside. Holds two descriptors and 16 bytes per level. EIO, ELIMIT
 * (deeper than 2^20 levels), ENOMEM.
 */
int file_remove_tree(const char *path);

/* Creates dir (and parents) with mode 0755 if missing. EIO. */
int file_mkdirs(const char *dir);

/* "dir/name" in a new string, or NULL on ENOMEM. */
char *file_join(const char *dir, const char *name);

#endif
