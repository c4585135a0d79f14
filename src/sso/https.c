/*
 * The one way the relying party talks to the provider: libcurl over HTTPS, the peer's
 * certificate and host name always verified, https the only protocol (redirects are not
 * followed, so none can lead elsewhere), bounded in time and size.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sso/sso.h"
#include "util/error.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_started = CURLE_FAILED_INIT;

/* curl_global_init is not thread-safe on every build: once, before the first request. */
static void curl_start(void)
{
	curl_started = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
	struct buf *body;
	bool is_over;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct sink *sink = arg;

	/* curl never hands more than CURL_MAX_WRITE_SIZE at once, so size * n cannot wrap. */
	if (buf_put(sink->body, data, size * n) < 0) {
		sink->is_over = true;
		return 0;
	}
	return size * n;
}

/*
 * An extra CA file is added to the system's CAs rather than replacing them: with OpenSSL,
 * curl trusts both CAINFO and CAPATH.
 */
static void set_trust(CURL *h, const struct sso_https_config *cfg)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (!cfg || !cfg->ca_file)
		return;
	curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
	if (v->capath)
		curl_easy_setopt(h, CURLOPT_CAPATH, v->capath);
	else if (access("/etc/ssl/certs", R_OK) == 0)
		curl_easy_setopt(h, CURLOPT_CAPATH, "/etc/ssl/certs");
}

static int set_request(CURL *h, struct curl_slist **headers, const struct sso_http_request *req,
		       struct sink *sink)
{
	struct curl_slist *l = curl_slist_append(NULL, "Accept: application/json");

	if (l && req->form)
		l = curl_slist_append(l, "Content-Type: application/x-www-form-urlencoded");
	*headers = l;
	if (!l)
		return error_nomem("making an HTTPS request");
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)SSO_CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)SSO_FETCH_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)sink->body->max);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
	if (req->form) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->form);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->form_len);
	}
	if (req->authorization) {
		/* Set as the header curl sends, never logged: CURLOPT_VERBOSE stays off. */
		struct curl_slist *a = NULL;
		struct buf line;
		int err;

		buf_init(&line, 16 << 10);
		if ((err = buf_printf(&line, "Authorization: %s", req->authorization)) == 0 &&
		    !(a = curl_slist_append(l, line.ptr)))
			err = error_nomem("making an HTTPS request");
		if (line.ptr)
			explicit_bzero(line.ptr, line.len);
		buf_dispose(&line);
		if (err < 0)
			return err;
		*headers = a;
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, a);
	}
	return 0;
}

static int map_error(CURLcode rc, const struct sink *sink, const char *url, const char *detail)
{
	if (sink->is_over || rc == CURLE_FILESIZE_EXCEEDED) {
		error_set("%s: the response is over %zu bytes", url, sink->body->max);
		return TRAWL_ELIMIT;
	}
	error_set("%s: %s", url, detail[0] ? detail : curl_easy_strerror(rc));
	return rc == CURLE_OPERATION_TIMEDOUT ? TRAWL_ETIMEOUT : TRAWL_EIO;
}

int sso_https_fetch(long *status, struct buf *body, const struct sso_http_request *req, void *arg)
{
	struct sink sink = { .body = body };
	struct curl_slist *headers = NULL;
	char detail[CURL_ERROR_SIZE] = "";
	CURL *h = NULL;
	CURLcode rc;
	int err;

	*status = 0;
	if (strncasecmp(req->url, "https://", 8) != 0) {
		error_set("%s: only https URLs are fetched", req->url);
		return TRAWL_EINVAL;
	}
	pthread_once(&curl_once, curl_start);
	if (curl_started != CURLE_OK || !(h = curl_easy_init())) {
		error_set("libcurl could not start");
		return TRAWL_EIO;
	}
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
	set_trust(h, arg);
	if ((err = set_request(h, &headers, req, &sink)) < 0)
		goto out;
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		err = map_error(rc, &sink, req->url, detail);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
out:
	/* The Authorization header's copy inside the list holds the client secret. */
	for (struct curl_slist *l = headers; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	return err;
}
