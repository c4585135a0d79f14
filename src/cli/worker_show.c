/*
 * trawl worker show --data DATA: one path of one commit of a repository's mirror, for the
 * server's commit permalinks (docs/internals/sandbox.md, "The show worker"). Started by the
 * server through its spawner with sandbox_run (sandbox/child.h): the request comes on standard
 * input, the answer (sandbox/wire.h messages) goes to standard output, the same socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/datadir.h"
#include "cli/gitmod.h"
#include "cli/worker_int.h"
#include "git/show.h"
#include "sandbox/confine.h"
#include "sandbox/wire.h"
#include "util/error.h"
#include "util/hex.h"
#include "util/utf8.h"

#define SHOW_IN_FD 0 /* the request: one WIRE_SHOW_REQ, then the end of the stream */
#define SHOW_OUT_FD WORKER_SHOW_OUT_FD
#define SHOW_REQ_MAX (WIRE_HEADER_SIZE + 2 * (4 + WIRE_MAX_STR) + 64)
#define SHOW_CHUNK (WIRE_MAX_MSG / 2) /* content bytes per WIRE_SHOW_DATA */

struct show_req {
	uint64_t id;
	char *commit, *path;
	uint64_t max_size;
	uint32_t max_entries;
};

static void show_req_dispose(struct show_req *q)
{
	free(q->commit);
	free(q->path);
}

static int show_req_fields(struct show_req *q, const struct wire_msg *m)
{
	struct wire_fields f;
	int err;

	wire_fields_init(&f, m);
	if ((err = wire_get_u64(&f, &q->id)) < 0 ||
	    (err = wire_get_str(&f, &q->commit, HEX_COMMIT_LEN)) < 0 ||
	    (err = wire_get_str(&f, &q->path, WIRE_MAX_STR)) < 0 ||
	    (err = wire_get_u64(&f, &q->max_size)) < 0 ||
	    (err = wire_get_u32(&f, &q->max_entries)) < 0)
		return err;
	return wire_fields_end(&f);
}

/* The request on standard input, whole (at most SHOW_REQ_MAX bytes): ECORRUPT, ELIMIT, EIO. */
static int show_req_read(struct show_req *q)
{
	struct wire_in in;
	struct wire_msg m;
	char chunk[4096];
	size_t total = 0;
	ssize_t n;
	int err = 0;

	*q = (struct show_req){ 0 };
	wire_in_init(&in, WIRE_SHOW_MAX);
	while ((n = read(SHOW_IN_FD, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set("reading the request: %s", strerror(errno));
			err = TRAWL_EIO;
			goto out;
		}
		if ((total += (size_t)n) > SHOW_REQ_MAX) {
			error_set("the request is longer than %zu bytes", (size_t)SHOW_REQ_MAX);
			err = TRAWL_ELIMIT;
			goto out;
		}
		if ((err = wire_in_feed(&in, chunk, (size_t)n)) < 0)
			goto out;
	}
	if ((err = wire_in_next(&in, &m)) >= 0 && (err != 1 || m.type != WIRE_SHOW_REQ)) {
		error_set("no show request on standard input");
		err = TRAWL_ECORRUPT;
	}
	if (err < 0 || (err = show_req_fields(q, &m)) < 0 || (err = wire_in_end(&in)) < 0)
		goto out;
	if (!hex_is_commit_id(q->commit, strlen(q->commit))) {
		error_set("the request's commit is not 40 hex digits");
		err = TRAWL_EINVAL;
	}
out:
	wire_in_dispose(&in);
	return err;
}

/*
 * SECURITY: the mirror's path is followed when the Landlock rule is made and when libgit2 opens
 * it, and the fetch worker of the repository writes DATA/repos/ID: a symlink it left there
 * could name another repository's mirror. The path is resolved and must be DATA/repos/ID/
 * mirror.git itself (resolved DATA), which *out (a new string) then is. ENOTFOUND when the
 * repository has no mirror (yet), EPERM when it resolves elsewhere.
 */
static int show_mirror(char **out, const char *data, uint64_t id)
{
	struct datadir d;
	struct datadir_repo p = { 0 };
	char *real = NULL, *data_real = NULL, want[64];
	size_t n;
	int err;

	*out = NULL;
	if ((err = datadir_init(&d, data, false)) < 0)
		return err;
	if ((err = datadir_repo_init(&p, &d, (int64_t)id)) < 0)
		goto out;
	snprintf(want, sizeof(want), "/repos/%llu/mirror.git", (unsigned long long)id);
	real = realpath(p.mirror, NULL);
	data_real = realpath(data, NULL);
	if (!real || !data_real) {
		error_set("the repository has no mirror");
		err = TRAWL_ENOTFOUND;
		goto out;
	}
	n = strlen(data_real);
	if (strncmp(real, data_real, n) != 0 || strcmp(real + n, want) != 0) {
		error_set("the repository's mirror is a link elsewhere: refused");
		err = TRAWL_EPERM;
		goto out;
	}
	*out = real;
	real = NULL;
out:
	free(real);
	free(data_real);
	datadir_repo_dispose(&p);
	datadir_dispose(&d);
	return err;
}

/* The answer: WIRE_SHOW, the content in WIRE_SHOW_DATA parts or the entries, WIRE_END. */
static int show_send(const struct gitshow_result *r)
{
	struct wire_out o;
	int err;

	wire_out_begin(&o, WIRE_SHOW);
	wire_put_u32(&o, (uint32_t)r->kind);
	wire_put_u64(&o, r->size);
	wire_put_u32(&o, (r->is_too_large ? 1u : 0) | (r->is_truncated ? 2u : 0));
	if ((err = wire_send(&o, SHOW_OUT_FD)) < 0)
		return err;
	for (uint64_t at = 0; r->content && at < r->size; at += SHOW_CHUNK) {
		size_t len = r->size - at < SHOW_CHUNK ? (size_t)(r->size - at) : SHOW_CHUNK;

		wire_out_begin(&o, WIRE_SHOW_DATA);
		wire_put_bytes(&o, r->content + at, len);
		if ((err = wire_send(&o, SHOW_OUT_FD)) < 0)
			return err;
	}
	for (size_t i = 0; i < r->n_entries; i++) {
		/* A name that is no UTF-8 text cannot travel as a string: it is left out. */
		if (!utf8_is_valid((const uint8_t *)r->entries[i].name, strlen(r->entries[i].name)))
			continue;
		wire_out_begin(&o, WIRE_SHOW_ENTRY);
		wire_put_str(&o, r->entries[i].name);
		wire_put_u32(&o, (uint32_t)r->entries[i].type);
		wire_put_u64(&o, r->entries[i].size);
		if ((err = wire_send(&o, SHOW_OUT_FD)) < 0)
			return err;
	}
	wire_out_begin(&o, WIRE_END);
	return wire_send(&o, SHOW_OUT_FD);
}

/*
 * The show worker reads one mirror, confined as the index worker is (no network, no file
 * written) with that mirror its only tree: whatever the request says, no other repository is
 * within reach. Its answer is bounded by the request's max_size and max_entries.
 */
int worker_show(const char *data)
{
	struct show_req q;
	struct gitshow_result r = { 0 };
	char *mirror = NULL;
	const char *read[1];
	int err, ret = 0;

	if ((err = show_req_read(&q)) < 0 || (err = show_mirror(&mirror, data, q.id)) < 0)
		goto out;
	read[0] = mirror;
	if ((err = worker_confine(CONFINE_INDEX, read, 1, NULL, 0, -1, false)) < 0)
		goto out;
	worker_test_confined("show");
	if ((err = gitmod.show(&r, mirror, q.commit, q.path, q.max_size, q.max_entries)) < 0)
		goto out;
	if ((err = show_send(&r)) < 0) {
		cli_report(err); /* the socket failed: no message can say why */
		ret = EXIT_ERROR;
		err = 0;
	}
out:
	gitmod.show_dispose(&r);
	show_req_dispose(&q);
	free(mirror);
	return err < 0 ? worker_send_error(SHOW_OUT_FD, err) : ret;
}
