/*
 * The one credentials entry a fetch may use (docs/operations.md, "Credentials"). `trawl sync`
 * reads DATA/credentials itself, keeps the entry whose prefix matches the repository's URL
 * (gurl_creds_find: scheme, host, port, whole path segments) and hands only that entry to the
 * fetch worker, through a memory file on an inherited descriptor: never argv, the environment
 * or a file on disk. The worker never sees the credentials file nor another host's entry, so
 * code running in it (a libgit2 bug a hostile remote exploits) cannot send them away.
 *
 * Pure C, no libgit2: part of the trawl binary (trawl sync has no git module loaded), used by
 * the mirror code of trawl-git.so too.
 */
#ifndef TRAWL_GIT_CRED_H
#define TRAWL_GIT_CRED_H

#include <stddef.h>
#include <sys/types.h>

#define GCRED_FILE_MAX ((size_t)1 << 20) /* the credentials file, as read */
#define GCRED_MAX ((size_t)64 << 10)     /* one entry, as handed over */

struct gcred {
	char *user, *secret; /* the entry for the URL; both NULL when there is none */
	int err;             /* not 0: the credentials file was refused (TRAWL_EPERM, EIO) ... */
	char msg[512];       /* ... and why, reported when the server asks for credentials */
};

/*
 * Reads a file of the operator's: a regular file (never a symlink) owned by the effective user,
 * with none of the mode bits in forbid (077: private; 022: nobody else may write it), at most
 * max bytes, into *text (NUL-terminated, caller frees; wipe it when it holds secrets).
 * ENOTFOUND when it does not exist; else EPERM (owner, mode, type), EIO, ELIMIT, ENOMEM with
 * the reason in msg, naming the file as what ("credentials", "known_hosts").
 */
int gcred_private_read(char **text, size_t *len, char *msg, size_t msg_size, const char *path,
		       const char *what, mode_t forbid, size_t max);

/*
 * The entry of the credentials file at path that matches url, into *c (gcred_dispose it). A
 * missing file, or no matching entry, leaves c without an entry; a file that must not be used
 * (other users may read it, a symlink, ...) sets c->err and c->msg, which the fetch reports
 * only if the server asks for credentials, as it did when it read the file itself. Returns 0,
 * or ENOMEM. SECURITY: the file's other entries are wiped from memory before this returns.
 */
int gcred_pick(struct gcred *c, const char *path, const char *url);

/*
 * Writes c to fd from offset 0 (a memory file the fetch worker inherits): one kind byte, then
 * NUL-terminated fields: 'n' (no entry); 'c' user, secret; 'e' the decimal error code, the
 * message. EIO.
 */
int gcred_write(int fd, const struct gcred *c);

/*
 * Reads what gcred_write wrote on fd (from offset 0, at most GCRED_MAX bytes) into *c
 * (gcred_dispose it). ECORRUPT for anything else (a wrong kind, a missing or extra field, an
 * empty user or secret), ELIMIT, EIO, ENOMEM.
 */
int gcred_read(struct gcred *c, int fd);

/* Wipes and frees the entry; c is then empty. */
void gcred_dispose(struct gcred *c);

#endif
