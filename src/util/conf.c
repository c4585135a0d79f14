/* The `key = value` configuration file (conf.h). */
#include "util/conf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/file.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool is_key_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* A control byte other than tab (DEL included) or a NUL: never part of a line. */
static bool is_control(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Appends key and value (copied) at line. ELIMIT, ENOMEM. */
static int add_entry(struct conf *c, const char *key, size_t key_len, const char *val,
		     size_t val_len, unsigned line, const char *name)
{
	struct conf_entry *e;

	if (c->n == CONF_ENTRIES_MAX) {
		error_set("%s:%u: more than %d settings", name, line, CONF_ENTRIES_MAX);
		return TRAWL_ELIMIT;
	}
	if (!(e = realloc(c->v, (c->n + 1) * sizeof(*e))))
		return error_nomem("reading a configuration file");
	c->v = e;
	e = &c->v[c->n];
	/* parse_line refused any NUL: strndup copies exactly the bytes given. */
	*e = (struct conf_entry){ .key = strndup(key, key_len), .value = strndup(val, val_len),
				  .line = line };
	if (!e->key || !e->value) {
		free(e->key);
		free(e->value);
		return error_nomem("reading a configuration file");
	}
	c->n++;
	return 0;
}

/* One line s[0..n), without its newline. */
static int parse_line(struct conf *c, const char *s, size_t n, unsigned line, const char *name)
{
	size_t i = 0, k, v, end = n;

	for (size_t j = 0; j < n; j++)
		if (is_control((unsigned char)s[j]) && !(s[j] == '\r' && j + 1 == n)) {
			error_set("%s:%u: a control character (byte %u) in the line", name, line,
				  (unsigned)(unsigned char)s[j]);
			return TRAWL_EINVAL;
		}
	while (i < n && is_blank(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return 0;
	for (k = i; k < n && is_key_byte(s[k]); k++)
		;
	if (k == i || k - i > CONF_KEY_MAX) {
		error_set("%s:%u: expected `key = value` (a key of up to %d lower-case letters, "
			  "digits and '-')",
			  name, line, CONF_KEY_MAX);
		return TRAWL_EINVAL;
	}
	for (v = k; v < n && is_blank(s[v]); v++)
		;
	if (v == n || s[v] != '=') {
		error_set("%s:%u: expected '=' after the key", name, line);
		return TRAWL_EINVAL;
	}
	for (v++; v < n && is_blank(s[v]); v++)
		;
	while (end > v && is_blank(s[end - 1]))
		end--;
	if (end == v) {
		error_set("%s:%u: the key has no value", name, line);
		return TRAWL_EINVAL;
	}
	return add_entry(c, s + i, k - i, s + v, end - v, line, name);
}

int conf_parse(struct conf *out, const char *text, size_t len, const char *name)
{
	size_t start = 0;
	unsigned line = 1;
	int err = 0;

	*out = (struct conf){ 0 };
	while (start < len && err == 0) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t n = nl ? (size_t)(nl - (text + start)) : len - start;

		if (n > CONF_LINE_MAX) {
			error_set("%s:%u: the line is longer than %d bytes", name, line,
				  CONF_LINE_MAX);
			err = TRAWL_ELIMIT;
			break;
		}
		err = parse_line(out, text + start, n, line, name);
		start += n + 1;
		line++;
	}
	if (err < 0)
		conf_dispose(out);
	return err;
}

int conf_load(struct conf *out, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	*out = (struct conf){ 0 };
	if ((err = file_read_all(&text, &len, path, CONF_FILE_MAX)) < 0)
		return err;
	err = conf_parse(out, text, len, path);
	free(text);
	return err;
}

void conf_dispose(struct conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].value);
	}
	free(c->v);
	*c = (struct conf){ 0 };
}
