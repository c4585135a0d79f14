/*
 * A small configuration file format (docs/operations.md, "trawl.conf"): one `key = value` a
 * line; blank lines and lines whose first non-blank byte is '#' are skipped. A key is lower-case
 * letters, digits and '-'; the value is the rest of the line with the blanks around it removed,
 * taken literally (no quotes, no escapes, no trailing comments). The parser knows no keys: its
 * caller decides which exist and what they mean, and names the file and line in its errors.
 */
#ifndef TRAWL_UTIL_CONF_H
#define TRAWL_UTIL_CONF_H

#include <stddef.h>

/* The largest file read, the longest line and the most entries. */
#define CONF_FILE_MAX ((size_t)64 << 10)
#define CONF_LINE_MAX 4096
#define CONF_KEY_MAX 64
#define CONF_ENTRIES_MAX 256

struct conf_entry {
	char *key;     /* NUL-terminated, valid as described above */
	char *value;   /* non-empty, printable: no control byte (tab aside) and no NUL */
	unsigned line; /* 1-based */
};

struct conf {
	struct conf_entry *v; /* in file order */
	size_t n;
};

/*
 * Parses text[0..len) (not necessarily NUL-terminated). EINVAL for a malformed line, with a
 * message "NAME:LINE: what is wrong" (name is how the caller calls the text: its path); ELIMIT
 * for a line over CONF_LINE_MAX or more than CONF_ENTRIES_MAX entries; ENOMEM. *out is empty
 * on failure.
 */
int conf_parse(struct conf *out, const char *text, size_t len, const char *name);

/*
 * Reads and parses the regular file at path (a symlink or anything but a regular file is
 * refused; at most CONF_FILE_MAX bytes). ENOTFOUND when there is none: the caller decides
 * whether that is an error. EIO, ELIMIT, EINVAL, ENOMEM as conf_parse.
 */
int conf_load(struct conf *out, const char *path);

/* Frees what conf_parse made. conf_dispose on an empty (zeroed) conf is a no-op. */
void conf_dispose(struct conf *c);

#endif
