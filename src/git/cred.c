/* The one credentials entry a fetch may use; see cred.h. */
#include "git/cred.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "git/url.h"
#include "util/error.h"
#include "util/file.h"

int gcred_private_read(char **text, size_t *len, char *msg, size_t msg_size, const char *path,
		       const char *what, mode_t forbid, size_t max)
{
	struct stat sb;
	int fd, err;

	*text = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return TRAWL_ENOTFOUND;
		snprintf(msg, msg_size, "%s file %s: %s", what, path, strerror(errno));
		return TRAWL_EIO;
	}
	/* SECURITY: checked and read through the same descriptor: no name swapped in between. */
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & forbid)) {
		close(fd);
		snprintf(msg, msg_size,
			 "%s file %s: must be a regular file owned by this user with "
			 "mode %s",
			 what, path, forbid == 077 ? "0600" : "0644 or 0600");
		return TRAWL_EPERM;
	}
	err = file_read_fd(text, len, fd, path, max);
	close(fd);
	if (err < 0)
		snprintf(msg, msg_size, "%s", error_last());
	return err;
}

static void wipe_str(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
	}
	*s = NULL;
}

void gcred_dispose(struct gcred *c)
{
	wipe_str(&c->user);
	wipe_str(&c->secret);
	c->err = 0;
	c->msg[0] = '\0';
}

int gcred_pick(struct gcred *c, const char *path, const char *url)
{
	char *text = NULL, *user, *secret;
	size_t len = 0;
	int err = 0;

	memset(c, 0, sizeof(*c));
	err = gcred_private_read(&text, &len, c->msg, sizeof(c->msg), path, "credentials", 077,
				 GCRED_FILE_MAX);
	if (err == TRAWL_ENOMEM)
		return err;
	if (err == TRAWL_ENOTFOUND) {
		err = 0; /* no file: no entry */
	} else if (err < 0) {
		c->err = err; /* reported if the server asks for credentials */
		err = 0;
	} else if (gurl_creds_find(&user, &secret, text, url) &&
		   (!(c->user = strdup(user)) || !(c->secret = strdup(secret)))) {
		gcred_dispose(c);
		err = error_nomem(NULL);
	}
	/* SECURITY: the other entries do not outlive this call in our memory. */
	if (text)
		explicit_bzero(text, len);
	free(text);
	return err;
}

int gcred_write(int fd, const struct gcred *c)
{
	char code[16];
	const char *fields[2] = { NULL, NULL };
	char kind = 'n';
	int err = 0;

	if (c->err) {
		kind = 'e';
		snprintf(code, sizeof(code), "%d", c->err);
		fields[0] = code;
		fields[1] = c->msg;
	} else if (c->user && c->secret) {
		kind = 'c';
		fields[0] = c->user;
		fields[1] = c->secret;
	}
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		error_set("the credential's file: %s", strerror(errno));
		return TRAWL_EIO;
	}
	err = file_write_all(fd, &kind, 1, "the credential's file");
	for (size_t i = 0; i < 2 && fields[i] && err == 0; i++)
		err = file_write_all(fd, fields[i], strlen(fields[i]) + 1, "the credential's file");
	if (err == 0 && lseek(fd, 0, SEEK_SET) < 0) {
		error_set("the credential's file: %s", strerror(errno));
		err = TRAWL_EIO;
	}
	return err;
}

/* The NUL-terminated field at *p within end, advanced past; NULL when there is none. */
static const char *next_field(const char **p, const char *end)
{
	const char *f = *p, *nul;

	if (f >= end || !(nul = memchr(f, '\0', (size_t)(end - f))))
		return NULL;
	*p = nul + 1;
	return f;
}

int gcred_read(struct gcred *c, int fd)
{
	char *data = NULL;
	const char *p, *end, *a, *b;
	size_t len = 0;
	long code;
	int err;

	memset(c, 0, sizeof(*c));
	if (lseek(fd, 0, SEEK_SET) < 0) {
		error_set("the credential's descriptor: %s", strerror(errno));
		return TRAWL_EIO;
	}
	if ((err = file_read_fd(&data, &len, fd, "the credential's descriptor", GCRED_MAX)) < 0)
		return err;
	p = data + 1;
	end = data + len;
	err = TRAWL_ECORRUPT;
	if (len == 0)
		goto out;
	if (data[0] == 'n') {
		err = len == 1 ? 0 : TRAWL_ECORRUPT;
		goto out;
	}
	a = next_field(&p, end);
	b = next_field(&p, end);
	if (!a || !b || p != end || (data[0] != 'c' && data[0] != 'e'))
		goto out;
	if (data[0] == 'c') {
		if (!a[0] || !b[0])
			goto out;
		err = (c->user = strdup(a)) && (c->secret = strdup(b)) ? 0 : error_nomem(NULL);
	} else {
		char *stop;

		code = strtol(a, &stop, 10);
		if (*stop || code < TRAWL_EAGAIN || code >= 0)
			goto out;
		c->err = (int)code;
		snprintf(c->msg, sizeof(c->msg), "%s", b);
		err = 0;
	}
out:
	if (err == TRAWL_ECORRUPT)
		error_set("the credential handed to the fetch worker is malformed");
	if (err < 0)
		gcred_dispose(c);
	explicit_bzero(data, len);
	free(data);
	return err;
}
