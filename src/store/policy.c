/*
 * The URL policy files (policy.h): one small JSON object per repository, written atomically
 * by the CLI, read by `trawl sync`.
 */
#include "store/policy.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json.h"

static const char *const flag_names[] = { "insecure", "local", "private" };

static bool *flag_of(struct store_policy *p, size_t i)
{
	return i == 0 ? &p->allow_insecure : i == 1 ? &p->allow_local : &p->allow_private;
}

void store_policy_file_dispose(struct store_policy_file *f)
{
	free(f->name);
	free(f->url);
	memset(f, 0, sizeof(*f));
}

/* dir/ID in a new string, NULL on ENOMEM. SECURITY: named by the id: a name is never a path. */
static char *file_path(const char *dir, int64_t id)
{
	char name[32];

	snprintf(name, sizeof(name), "%lld", (long long)id);
	return file_join(dir, name);
}

static int private_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0 || (errno == EEXIST && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	error_set("%s: %s", dir, errno == EEXIST ? "not a directory" : strerror(errno));
	return TRAWL_EIO;
}

int store_policy_write(const char *dir, int64_t id, const char *name, const char *url,
		       const struct store_policy *policy)
{
	struct store_policy p = *policy;
	struct buf b;
	char *path = NULL;
	bool first = true;
	int err;

	buf_init(&b, STORE_POLICY_FILE_MAX);
	if ((err = buf_printf(&b, "{\"id\":%lld,\"name\":", (long long)id)) < 0 ||
	    (err = json_put_string(&b, name, strlen(name), NULL)) < 0 ||
	    (err = buf_puts(&b, ",\"url\":")) < 0 ||
	    (err = json_put_string(&b, url, strlen(url), NULL)) < 0 ||
	    (err = buf_puts(&b, ",\"allow\":[")) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(*flag_names) && err == 0; i++) {
		if (!*flag_of(&p, i))
			continue;
		err = buf_printf(&b, "%s\"%s\"", first ? "" : ",", flag_names[i]);
		first = false;
	}
	if (err < 0 || (err = buf_puts(&b, "]}\n")) < 0)
		goto out;
	if (!(path = file_path(dir, id))) {
		err = error_nomem("writing a URL policy file");
		goto out;
	}
	if ((err = private_dir(dir)) == 0)
		err = file_write_atomic(path, b.ptr, b.len);
out:
	if (err == TRAWL_ELIMIT)
		error_set("the URL policy of repository %lld is over %d bytes", (long long)id,
			  STORE_POLICY_FILE_MAX);
	free(path);
	buf_dispose(&b);
	return err;
}

static int corrupt(const char *path, const char *what)
{
	error_set("%s: not a URL policy file: %s", path, what);
	return TRAWL_ECORRUPT;
}

/* Takes root's fields into *out; ECORRUPT naming path for anything else. */
static int take(struct store_policy_file *out, json_t *root, const char *path, int64_t id)
{
	json_t *jid = json_object_get(root, "id"), *jname = json_object_get(root, "name");
	json_t *jurl = json_object_get(root, "url"), *allow = json_object_get(root, "allow"), *v;
	size_t i;

	if (!json_is_object(root) || json_object_size(root) != 4)
		return corrupt(path, "not an object of id, name, url and allow");
	if (!json_is_integer(jid) || json_integer_value(jid) != id)
		return corrupt(path, "its id is not the file's name");
	if (!json_is_string(jname) || !json_is_string(jurl) || !json_is_array(allow) ||
	    json_string_length(jname) == 0 || json_string_length(jurl) == 0 ||
	    strlen(json_string_value(jname)) != json_string_length(jname) ||
	    strlen(json_string_value(jurl)) != json_string_length(jurl))
		return corrupt(path, "name, url or allow is missing or of the wrong kind");
	json_array_foreach(allow, i, v) {
		size_t k = 0;

		while (k < sizeof(flag_names) / sizeof(*flag_names) &&
		       !(json_is_string(v) && strcmp(json_string_value(v), flag_names[k]) == 0))
			k++;
		if (k == sizeof(flag_names) / sizeof(*flag_names))
			return corrupt(path, "allow holds something other than insecure, local, private");
		*flag_of(&out->policy, k) = true;
	}
	out->id = id;
	if (!(out->name = strdup(json_string_value(jname))) ||
	    !(out->url = strdup(json_string_value(jurl))))
		return error_nomem("reading a URL policy file");
	return 0;
}

int store_policy_parse(struct store_policy_file *out, const char *text, size_t len,
		       const char *what, int64_t id)
{
	json_error_t jerr;
	json_t *root;
	unsigned failed = json_alloc_failures();
	int err;

	memset(out, 0, sizeof(*out));
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (json_alloc_failures() != failed)
		err = error_nomem("reading a URL policy file");
	else if (!root)
		err = corrupt(what, jerr.text);
	else
		err = take(out, root, what, id);
	json_decref(root);
	if (err < 0)
		store_policy_file_dispose(out);
	return err;
}

int store_policy_read(struct store_policy_file *out, const char *dir, int64_t id)
{
	char *path = file_path(dir, id), *text = NULL;
	size_t len = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (!path)
		return error_nomem("reading a URL policy file");
	if ((err = file_read_all(&text, &len, path, STORE_POLICY_FILE_MAX)) == 0)
		err = store_policy_parse(out, text, len, path, id);
	free(text);
	free(path);
	return err;
}

int store_policy_remove(const char *dir, int64_t id)
{
	char *path = file_path(dir, id);
	int err = 0;

	if (!path)
		return error_nomem("removing a URL policy file");
	if (unlink(path) != 0 && errno != ENOENT) {
		error_set("%s: %s", path, strerror(errno));
		err = TRAWL_EIO;
	}
	free(path);
	return err;
}

/* Removes the files of directory tmp (written by this process only), then tmp. */
static void tmp_dir_remove(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			(void)unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	(void)rmdir(tmp);
}

int store_policy_migrate(size_t *n_written, struct store *s, const char *dir)
{
	struct store_repo *v = NULL;
	struct stat st;
	size_t n = 0, len = strlen(dir);
	char *tmp = NULL;
	bool is_made = false;
	int err = 0;

	if (n_written)
		*n_written = 0;
	if (lstat(dir, &st) == 0)
		return 0;
	if (errno != ENOENT) {
		error_set("%s: %s", dir, strerror(errno));
		return TRAWL_EIO;
	}
	if (!(tmp = malloc(len + sizeof(".XXXXXX")))) {
		err = error_nomem("writing the URL policy files");
		goto out;
	}
	memcpy(tmp, dir, len);
	memcpy(tmp + len, ".XXXXXX", sizeof(".XXXXXX"));
	if (!mkdtemp(tmp)) {
		error_set("%s: %s", tmp, strerror(errno));
		err = TRAWL_EIO;
		goto out;
	}
	is_made = true;
	if ((err = store_repo_list(&v, &n, s)) < 0)
		goto out;
	for (size_t i = 0; i < n && err == 0; i++)
		err = store_policy_write(tmp, v[i].id, v[i].name, v[i].url ? v[i].url : "",
					 &v[i].policy);
	if (err == 0 && rename(tmp, dir) != 0) {
		/* Another process made it meanwhile: its files are the same registry's. */
		if (errno != EEXIST && errno != ENOTEMPTY) {
			error_set("%s: %s", dir, strerror(errno));
			err = TRAWL_EIO;
		}
	} else if (err == 0) {
		if (n_written)
			*n_written = n;
		is_made = false; /* it is dir now */
	}
out:
	if (is_made)
		tmp_dir_remove(tmp);
	free(tmp);
	store_repos_free(v, n);
	return err;
}

bool store_policy_matches(const struct store_policy_file *f, const struct store_repo *r)
{
	return r->url && strcmp(f->url, r->url) == 0 &&
	       f->policy.allow_insecure == r->policy.allow_insecure &&
	       f->policy.allow_local == r->policy.allow_local &&
	       f->policy.allow_private == r->policy.allow_private;
}
