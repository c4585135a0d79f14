/*
 * Unit tests for sso_https_fetch (src/sso/https.c) against a real HTTPS server on loopback
 * (https_server.py beside this file) with self-signed certificates made by openssl: trusted
 * only through the extra CA file, a certificate for another host name refused, a redirect
 * returned rather than followed, the body bound, http refused before any connection, and a POST
 * carrying its form and Authorization header.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sso/sso.h"
#include "unit/testlib.h"
#include "util/error.h"

struct server {
	pid_t pid;
	int port;
};

/* Two servers: one whose certificate names 127.0.0.1 and localhost, one naming wrong.test. */
static struct server good, wrong;
static char good_cert[512], wrong_cert[512];

static void run(char *const argv[])
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A self-signed P-256 certificate for san, in tmpdir/name.crt and name.key. */
static void make_cert(char cert[512], const char *name, const char *san)
{
	char key[512], ext[256];

	snprintf(cert, 512, "%s/%s.crt", testlib_tmpdir(), name);
	snprintf(key, sizeof(key), "%s/%s.key", testlib_tmpdir(), name);
	snprintf(ext, sizeof(ext), "subjectAltName=%s", san);
	run((char *const[]){ "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
			     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
			     "-days", "2", "-subj", "/CN=trawl-test", "-addext", ext, NULL });
}

static void start(struct server *s, const char *cert)
{
	char key[512], script[512], line[32] = "";
	const char *dir = __FILE__;
	int fds[2];
	FILE *f;

	snprintf(key, sizeof(key), "%.*s.key", (int)(strlen(cert) - 4), cert);
	snprintf(script, sizeof(script), "%.*shttps_server.py", (int)(strrchr(dir, '/') - dir + 1),
		 dir);
	assert_int_equal(pipe(fds), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execlp("python3", "python3", script, cert, key, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	s->port = (int)strtol(line, NULL, 10);
	assert_true(s->port > 0);
}

static void stop(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
}

/* GETs host:port/path (host with its scheme). */
static int fetch(long *status, struct buf *body, const char *host, int port, const char *path,
		 const char *ca)
{
	struct sso_https_config cfg = { .ca_file = ca };
	struct sso_http_request req = { 0 };
	char url[256];

	snprintf(url, sizeof(url), "%s:%d%s", host, port, path);
	req.url = url;
	buf_init(body, SSO_BODY_MAX);
	return sso_https_fetch(status, body, &req, ca ? &cfg : NULL);
}

static void trusted_through_the_ca_file(void **state)
{
	struct buf body;
	long status = 0;

	(void)state;
	assert_int_equal(fetch(&status, &body, "https://127.0.0.1", good.port, "/doc", good_cert), 0);
	assert_int_equal(status, 200);
	assert_string_equal(body.ptr, "{\"ok\": true}");
	buf_dispose(&body);
	assert_int_equal(fetch(&status, &body, "https://localhost", good.port, "/doc", good_cert), 0);
	assert_int_equal(status, 200);
	buf_dispose(&body);
}

static void an_unknown_ca_is_refused(void **state)
{
	struct buf body;
	long status = 0;

	(void)state;
	assert_int_equal(fetch(&status, &body, "https://127.0.0.1", good.port, "/doc", NULL),
			 TRAWL_EIO);
	assert_non_null(strstr(error_last(), "https://127.0.0.1:"));
	assert_int_equal(body.len, 0);
	buf_dispose(&body);
	/* Another server's certificate as the CA: still not this one's. */
	assert_int_equal(fetch(&status, &body, "https://127.0.0.1", good.port, "/doc", wrong_cert),
			 TRAWL_EIO);
	buf_dispose(&body);
}

static void a_certificate_for_another_host_is_refused(void **state)
{
	struct buf body;
	long status = 0;

	(void)state;
	assert_int_equal(fetch(&status, &body, "https://127.0.0.1", wrong.port, "/doc", wrong_cert),
			 TRAWL_EIO);
	assert_int_equal(body.len, 0);
	buf_dispose(&body);
}

static void a_redirect_is_not_followed(void **state)
{
	struct buf body;
	long status = 0;

	(void)state;
	assert_int_equal(fetch(&status, &body, "https://127.0.0.1", good.port, "/redirect",
			       good_cert),
			 0);
	assert_int_equal(status, 302);
	assert_int_equal(body.len, 0);
	buf_dispose(&body);
}

static void the_body_is_bounded(void **state)
{
	struct buf body;
	long status = 0;

	(void)state;
	assert_int_equal(fetch(&status, &body, "https://127.0.0.1", good.port, "/big", good_cert),
			 TRAWL_ELIMIT);
	assert_true(body.len <= SSO_BODY_MAX);
	buf_dispose(&body);
}

static void http_is_refused(void **state)
{
	struct buf body;
	long status = 0;

	(void)state;
	assert_int_equal(fetch(&status, &body, "http://127.0.0.1", good.port, "/doc", good_cert),
			 TRAWL_EINVAL);
	buf_dispose(&body);
}

static void a_post_carries_its_form_and_authorization(void **state)
{
	struct sso_https_config cfg = { .ca_file = good_cert };
	char url[128];
	struct sso_http_request req = {
		.url = url, .form = "a=1&b=%20", .form_len = 9, .authorization = "Basic dDpz"
	};
	struct buf body;
	long status = 0;

	(void)state;
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/echo", good.port);
	buf_init(&body, SSO_BODY_MAX);
	assert_int_equal(sso_https_fetch(&status, &body, &req, &cfg), 0);
	assert_int_equal(status, 200);
	assert_non_null(strstr(body.ptr, "\"authorization\": \"Basic dDpz\""));
	assert_non_null(strstr(body.ptr, "\"content_type\": \"application/x-www-form-urlencoded\""));
	assert_non_null(strstr(body.ptr, "\"form\": \"a=1&b=%20\""));
	buf_dispose(&body);
}

static int group_setup(void **state)
{
	if (testlib_setup(state) < 0)
		return -1;
	make_cert(good_cert, "good", "IP:127.0.0.1,DNS:localhost");
	make_cert(wrong_cert, "wrong", "DNS:wrong.test");
	start(&good, good_cert);
	start(&wrong, wrong_cert);
	return 0;
}

static int group_teardown(void **state)
{
	stop(&good);
	stop(&wrong);
	return testlib_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trusted_through_the_ca_file),
		cmocka_unit_test(an_unknown_ca_is_refused),
		cmocka_unit_test(a_certificate_for_another_host_is_refused),
		cmocka_unit_test(a_redirect_is_not_followed),
		cmocka_unit_test(the_body_is_bounded),
		cmocka_unit_test(http_is_refused),
		cmocka_unit_test(a_post_carries_its_form_and_authorization),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
