/* trawl sandbox-check: what this machine enforces, proved per role (sandbox/confine.h). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "sandbox/confine.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/json.h"

const struct cli_help cli_help_sandbox = {
	.synopsis = "trawl sandbox-check [--json]\n",
	.summary = "show what the sandbox enforces on this machine, proved per process role",
	.options =
		"For each role (fetch, index, compile, launcher, server) a child process is\n"
		"confined as that role and tries what the role may not do: a forbidden system\n"
		"call (seccomp), opening a file outside its trees (Landlock); its limits,\n"
		"descriptors and capabilities are read from inside. A rule is \"enforced\" only when that proof held; what this kernel\n"
		"lacks is \"not available\". Exit status 2 when something available was not\n"
		"enforced (docs/operations.md, \"Checking the sandbox\").\n"
		"\n"
		"  --json      one JSON object (docs/cli-json.md)\n"
		"  -h, --help  this usage\n",
};

static const enum confine_role roles[] = { CONFINE_FETCH, CONFINE_INDEX, CONFINE_COMPILE,
					   CONFINE_LAUNCHER, CONFINE_SERVER };
#define N_ROLES (sizeof(roles) / sizeof(*roles))

/* Whether the proof held for everything the kernel offers. */
static bool proof_ok(const struct confine_proof *p, const struct confine_status *kernel)
{
	return p->is_applied && (!kernel->seccomp || p->seccomp_held) &&
	       (!kernel->landlock || p->landlock_held) && p->rlimits_held && p->fds_held &&
	       p->caps_held;
}

static const char *state(bool is_available, bool is_held)
{
	return !is_available ? "not available" : is_held ? "enforced" : "NOT ENFORCED";
}

/* "8 GiB", "1 MiB", "unchanged" (an unlimited role default). */
static const char *bytes(char *b, size_t n, uint64_t v)
{
	if (v == CONFINE_UNLIMITED)
		snprintf(b, n, "as inherited");
	else if (v >= (uint64_t)1 << 30 && v % ((uint64_t)1 << 30) == 0)
		snprintf(b, n, "%llu GiB", (unsigned long long)(v >> 30));
	else
		snprintf(b, n, "%llu MiB", (unsigned long long)(v >> 20));
	return b;
}

static const char *count(char *b, size_t n, unsigned v, const char *unit)
{
	if (v == CONFINE_UNLIMITED)
		snprintf(b, n, "as inherited");
	else
		snprintf(b, n, "%u%s", v, unit);
	return b;
}

static void text_put(const struct confine_proof *p, const struct confine_status *kernel)
{
	char a[32], b[32], c[32], d[32];

	printf("%s\n", confine_role_name(p->role));
	if (!p->is_applied) {
		printf("  NOT CONFINED: %s\n", p->error);
		return;
	}
	printf("  seccomp      %s", state(kernel->seccomp, p->seccomp_held));
	if (kernel->seccomp)
		printf(" (%s: %s)", p->forbidden, p->report[0] ? p->report : "not killed");
	printf("\n  landlock     %s", state(kernel->landlock, p->landlock_held));
	if (kernel->landlock)
		printf(" (ABI %d)", p->st.landlock_abi);
	printf("\n  rlimits      %s (cpu %s, address space %s, file size %s, open files %s, "
	       "core 0)\n",
	       state(true, p->rlimits_held), count(a, sizeof(a), p->limits.cpu_s, " s"),
	       bytes(b, sizeof(b), p->limits.as_bytes), bytes(c, sizeof(c), p->limits.fsize_bytes),
	       count(d, sizeof(d), p->limits.nofile, ""));
	if (p->role == CONFINE_SERVER)
		printf("  descriptors  %s\n", p->fds_held ? "kept (the server holds its sockets, "
							    "database and log)"
							  : "NOT KEPT");
	else
		printf("  descriptors  %s (%u inherited closed)\n",
		       p->fds_held ? "closed" : "NOT CLOSED", p->st.n_fds_closed);
	if (p->role == CONFINE_SERVER)
		printf("  capabilities kept (the server's own)\n");
	else
		printf("  capabilities %s\n", p->caps_held ? "none (all dropped)" : "NOT DROPPED");
	if (p->st.detail[0])
		printf("  note         %s\n", p->st.detail);
}

static int json_limit(struct buf *b, const char *key, uint64_t v)
{
	return v == CONFINE_UNLIMITED ? buf_printf(b, ",\"%s\":null", key)
				      : buf_printf(b, ",\"%s\":%llu", key, (unsigned long long)v);
}

static int json_put(struct buf *b, const struct confine_proof *p)
{
	int err;

	if ((err = buf_printf(b, "{\"role\":\"%s\",\"applied\":%s,\"error\":",
			      confine_role_name(p->role), p->is_applied ? "true" : "false")) < 0 ||
	    (err = json_put_string(b, p->error, strlen(p->error), NULL)) < 0 ||
	    (err = buf_printf(b,
			      ",\"no_new_privs\":%s,\"seccomp\":{\"enforced\":%s,"
			      "\"forbidden\":\"%s\",\"report\":",
			      p->st.no_new_privs ? "true" : "false",
			      p->seccomp_held ? "true" : "false", p->forbidden)) < 0 ||
	    (err = json_put_string(b, p->report, strlen(p->report), NULL)) < 0 ||
	    (err = buf_printf(b,
			      "},\"landlock\":{\"enforced\":%s,\"abi\":%d},"
			      "\"rlimits\":{\"enforced\":%s",
			      p->landlock_held ? "true" : "false", p->st.landlock_abi,
			      p->rlimits_held ? "true" : "false")) < 0 ||
	    (err = json_limit(b, "cpu_s", p->limits.cpu_s)) < 0 ||
	    (err = json_limit(b, "as_bytes", p->limits.as_bytes)) < 0 ||
	    (err = json_limit(b, "fsize_bytes", p->limits.fsize_bytes)) < 0 ||
	    (err = json_limit(b, "nofile", p->limits.nofile)) < 0 ||
	    (err = buf_printf(b,
			      ",\"core_bytes\":0},\"descriptors\":{\"closed\":%s,"
			      "\"n_closed\":%u},\"capabilities\":{\"dropped\":%s},\"detail\":",
			      p->fds_held && p->role != CONFINE_SERVER ? "true" : "false",
			      p->st.n_fds_closed,
			      p->caps_held && p->role != CONFINE_SERVER ? "true" : "false")) < 0 ||
	    (err = json_put_string(b, p->st.detail, strlen(p->st.detail), NULL)) < 0)
		return err;
	return buf_putc(b, '}');
}

int cmd_sandbox(int argc, char **argv)
{
	struct confine_proof proofs[N_ROLES];
	struct confine_status kernel;
	bool is_json = false, is_ok = true;
	struct buf b;
	int err = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0)
			is_json = true;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return cli_usage("sandbox-check", false);
		else
			return cli_usage("sandbox-check", true);
	}
	confine_probe(&kernel);
	for (size_t i = 0; i < N_ROLES; i++) {
		if ((err = confine_prove(&proofs[i], roles[i])) < 0) {
			cli_report(err);
			return EXIT_ERROR;
		}
		is_ok &= proof_ok(&proofs[i], &kernel);
	}
	if (!is_json) {
		printf("this kernel: seccomp %s, Landlock %s",
		       kernel.seccomp ? "available" : "not available",
		       kernel.landlock ? "available" : "not available");
		if (kernel.landlock)
			printf(" (ABI %d)", kernel.landlock_abi);
		printf(", no_new_privs %s\n", kernel.no_new_privs ? "available" : "not available");
		for (size_t i = 0; i < N_ROLES; i++)
			text_put(&proofs[i], &kernel);
		printf("%s\n", is_ok ? "ok: every rule this kernel offers is enforced"
				     : "FAILED: a rule this kernel offers was not enforced");
		return is_ok ? 0 : EXIT_ERROR;
	}
	buf_init(&b, BUF_MAX_DEFAULT);
	err = buf_printf(&b,
			 "{\"kernel\":{\"seccomp\":%s,\"landlock_abi\":%d,"
			 "\"no_new_privs\":%s},\"roles\":[",
			 kernel.seccomp ? "true" : "false", kernel.landlock_abi,
			 kernel.no_new_privs ? "true" : "false");
	for (size_t i = 0; i < N_ROLES && err == 0; i++)
		if ((err = i ? buf_putc(&b, ',') : 0) == 0)
			err = json_put(&b, &proofs[i]);
	if (err == 0)
		err = buf_printf(&b, "],\"ok\":%s}\n", is_ok ? "true" : "false");
	if (err == 0)
		fwrite(b.ptr, 1, b.len, stdout);
	buf_dispose(&b);
	if (err < 0) {
		cli_report(err);
		return EXIT_ERROR;
	}
	return is_ok ? 0 : EXIT_ERROR;
}
