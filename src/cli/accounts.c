/* Shared pieces of the account commands; see accounts.h. */
#include "cli/accounts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "index/shard.h"
#include "store/store.h"
#include "util/array.h"
#include "util/error.h"
#include "util/json.h"
#include "util/rfc3339.h"

struct names {
	char **v;
	size_t n, cap;
};

static int names_add(struct names *ns, const char *name)
{
	int err;

	if ((err = ARRAY_GROW(&ns->v, &ns->cap, ns->n + 1)) < 0)
		return err;
	if (!(ns->v[ns->n] = strdup(name)))
		return error_nomem("listing repositories");
	ns->n++;
	return 0;
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Sorts ns and drops repeated names. */
static void names_unique(struct names *ns)
{
	size_t k = 0;

	if (ns->n)
		qsort(ns->v, ns->n, sizeof(*ns->v), cmp_names);
	for (size_t i = 0; i < ns->n; i++) {
		if (k && strcmp(ns->v[k - 1], ns->v[i]) == 0)
			free(ns->v[i]);
		else
			ns->v[k++] = ns->v[i];
	}
	ns->n = k;
}

static int registry_names(struct names *ns, const struct datadir *d)
{
	struct store *s = NULL;
	struct store_repo *v = NULL;
	size_t n = 0;
	int err;

	if ((err = store_open(&s, d->db)) == 0 && (err = store_repo_list(&v, &n, s)) == 0)
		for (size_t i = 0; i < n && err == 0; i++)
			err = names_add(ns, v[i].name);
	store_repos_free(v, n);
	store_close(s);
	return err;
}

static int index_names(struct names *ns, const struct datadir *d)
{
	struct index *ix = NULL;
	int err;

	if ((err = index_open(&ix, d->index)) == TRAWL_ENOTFOUND)
		return 0; /* nothing indexed yet */
	for (size_t i = 0; err == 0 && i < index_n_shards(ix); i++)
		err = names_add(ns, index_shard_repo(ix, i));
	index_close(ix);
	return err;
}

int accounts_repos(char ***out, size_t *n, const struct datadir *d)
{
	struct names ns = { 0 };
	int err;

	*out = NULL;
	*n = 0;
	if ((err = registry_names(&ns, d)) < 0 || (err = index_names(&ns, d)) < 0) {
		store_names_free(ns.v, ns.n);
		return err;
	}
	names_unique(&ns);
	*out = ns.v;
	*n = ns.n;
	return 0;
}

bool accounts_repos_has(char *const *v, size_t n, const char *name)
{
	return n && bsearch(&name, v, n, sizeof(*v), cmp_names) != NULL;
}

int accounts_getopt(struct accounts_opts *o, int argc, char **argv, const struct option *longopts)
{
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D': o->data = optarg; break;
		case 'J': o->is_json = true; break;
		case 'h': o->is_help = true; break;
		default: return c;
		}
	}
	return -1;
}

int accounts_open(struct auth **a, struct datadir *d, const char *data, bool create)
{
	int err;

	*a = NULL;
	if ((err = datadir_init(d, data, create)) < 0)
		return accounts_fail(err);
	if ((err = auth_open(a, d->root, NULL)) < 0) {
		datadir_dispose(d);
		return accounts_fail(err);
	}
	return 0;
}

void accounts_close(struct auth *a, struct datadir *d)
{
	auth_close(a);
	datadir_dispose(d);
}

int accounts_fail(int err)
{
	if (err >= 0)
		return 0;
	cli_report(err);
	return EXIT_ERROR;
}

const char *accounts_time(char buf[32], int64_t ms)
{
	if (ms <= 0 || rfc3339_format(buf, ms / 1000) < 0)
		snprintf(buf, 32, "never");
	return buf;
}

int accounts_json_str(struct buf *b, const char *key, const char *s, bool is_first)
{
	int err;

	if ((err = buf_printf(b, "%s\"%s\":", is_first ? "" : ",", key)) < 0)
		return err;
	return json_put_string(b, s, strlen(s), NULL);
}

int accounts_json_time(struct buf *b, const char *key, int64_t ms, bool is_first)
{
	char t[32];

	if (ms <= 0)
		return buf_printf(b, "%s\"%s\":null", is_first ? "" : ",", key);
	return accounts_json_str(b, key, accounts_time(t, ms), is_first);
}

int accounts_json_names(struct buf *b, const char *key, char *const *v, size_t n)
{
	int err;

	if ((err = buf_printf(b, ",\"%s\":[", key)) < 0)
		return err;
	for (size_t i = 0; i < n && v[i]; i++)
		if ((err = buf_puts(b, i ? "," : "")) < 0 ||
		    (err = json_put_string(b, v[i], strlen(v[i]), NULL)) < 0)
			return err;
	return buf_puts(b, "]");
}

void accounts_json_line(struct buf *b)
{
	if (b->len)
		fwrite(b->ptr, 1, b->len, stdout);
	putchar('\n');
	buf_reset(b);
}

void accounts_print(const char *s)
{
	/* SECURITY: L3: display names, addresses and audit details are whatever a caller sent. */
	cli_print_text(s, strlen(s), TERM_NAME);
}

void accounts_print_names(char *const *v, size_t n)
{
	if (n == 0 || !v[0]) {
		putchar('-');
		return;
	}
	for (size_t i = 0; i < n && v[i]; i++) {
		if (i)
			fputs(", ", stdout);
		accounts_print(v[i]);
	}
}

bool accounts_parse_duration(int64_t *out_s, const char *s)
{
	/* Ten years: longer is a typo, and the product stays far from overflowing. */
	static const uint64_t max_s = 10ull * 366 * 24 * 3600;
	uint64_t v, mul;
	char num[24];
	size_t n = strlen(s);

	if (n < 2 || n > sizeof(num))
		return false;
	switch (s[n - 1]) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 24ull * 3600; break;
	case 'w': mul = 7ull * 24 * 3600; break;
	default: return false;
	}
	memcpy(num, s, n - 1);
	num[n - 1] = '\0';
	if (!cli_parse_u64(&v, num) || v == 0 || v > max_s / mul)
		return false;
	*out_s = (int64_t)(v * mul);
	return true;
}

bool accounts_parse_since(int64_t *out_ms, const char *s, int64_t now_ms)
{
	int64_t d;

	if (accounts_parse_duration(&d, s)) {
		*out_ms = now_ms - d * 1000;
		return true;
	}
	if (rfc3339_parse(out_ms, s, strlen(s)) < 0)
		return false;
	if (*out_ms < 0)
		*out_ms = 0;
	return true;
}

int64_t accounts_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int accounts_read_password(char *buf, size_t *len)
{
	size_t n = 0;
	int c;

	/* SECURITY: A3: every byte is kept (no truncation), so a NUL is refused, not cut at. */
	while ((c = getchar()) != EOF && c != '\n') {
		if (c == '\0') {
			error_set("the password on standard input holds a NUL byte");
			return TRAWL_EINVAL;
		}
		if (n == AUTH_PASSWORD_MAX + 1) {
			error_set("the password on standard input is longer than %d bytes",
				  AUTH_PASSWORD_MAX);
			return TRAWL_EINVAL;
		}
		buf[n++] = (char)c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (n == 0) {
		error_set("no password on standard input (--password-stdin reads one line)");
		return TRAWL_EINVAL;
	}
	if (n > AUTH_PASSWORD_MAX) {
		error_set("the password on standard input is longer than %d bytes",
			  AUTH_PASSWORD_MAX);
		return TRAWL_EINVAL;
	}
	*len = n;
	return 0;
}
