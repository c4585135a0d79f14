/*
 * The relying party's flow: sso_begin seals a pending login into the binding cookie and builds
 * the authorization URL; sso_finish opens it, exchanges the code and verifies the ID token. The
 * provider's discovery document and keys are cached here, fetched without the lock held, and
 * refetched on a bounded schedule (docs/internals/sso.md, "Caches").
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sso/sso_int.h"
#include "util/error.h"

struct sso {
	char *issuer, *client_id, *redirect_uri, *scopes, *user_claim, *groups_claim, *admin_group;
	char *ca_file;
	unsigned char *client_secret;
	size_t client_secret_len;
	char **allowed_domains;
	size_t n_allowed_domains;
	sso_clock_fn clock;
	void *clock_arg;
	int64_t skew_s;
	sso_fetch_fn fetch;
	void *fetch_arg;
	struct sso_https_config https;

	pthread_mutex_t lock;   /* guards everything below */
	pthread_cond_t fetched; /* a fetch in flight has ended */
	bool is_fetching_provider, is_fetching_keys;
	struct sso_seal seal; /* its keys are read-only after sso_open; its spent set is not */
	struct sso_provider provider; /* token_endpoint NULL until discovery succeeded */
	int64_t provider_ms, provider_tried_ms;
	struct sso_keys *keys;
	int64_t keys_tried_ms;
};

static int64_t now_ms(const struct sso *s)
{
	struct timespec ts;

	if (s->clock)
		return s->clock(s->clock_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- opening ---- */

static bool is_https_url(const char *url)
{
	return url && strncasecmp(url, "https://", 8) == 0 && url[8] && strlen(url) <= SSO_URL_MAX;
}

static bool has_scope(const char *scopes, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = scopes; *p;) {
		size_t len = strcspn(p, " ");

		if (len == n && strncmp(p, want, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

static int config_check(const struct sso_config *cfg)
{
	const char *scopes = cfg->scopes ? cfg->scopes : SSO_SCOPES_DEFAULT;

	if (!is_https_url(cfg->issuer)) {
		error_set("the OpenID Connect issuer must be an https URL");
		return TRAWL_EINVAL;
	}
	if (!cfg->client_id || !cfg->client_id[0] || !cfg->client_secret_len ||
	    strlen(cfg->client_id) > SSO_CLIENT_ID_MAX ||
	    cfg->client_secret_len > SSO_CLIENT_SECRET_MAX) {
		error_set(
			"the OpenID Connect client id (at most %d bytes) and client secret (at most "
			"%d bytes) may not be empty",
			SSO_CLIENT_ID_MAX, SSO_CLIENT_SECRET_MAX);
		return TRAWL_EINVAL;
	}
	if (!cfg->redirect_uri || strncasecmp(cfg->redirect_uri, "http", 4) != 0) {
		error_set("the OpenID Connect redirect URI must be the server's external URL + %s",
			  SSO_CALLBACK_PATH);
		return TRAWL_EINVAL;
	}
	if (!has_scope(scopes, "openid")) {
		error_set("the OpenID Connect scopes must include openid");
		return TRAWL_EINVAL;
	}
	if (cfg->https.ca_file && access(cfg->https.ca_file, R_OK) != 0) {
		error_set("the OpenID Connect CA file %s cannot be read", cfg->https.ca_file);
		return TRAWL_EINVAL;
	}
	if ((cfg->user_claim && !cfg->user_claim[0]) ||
	    (cfg->groups_claim && !cfg->groups_claim[0])) {
		error_set("an OpenID Connect claim name may not be empty");
		return TRAWL_EINVAL;
	}
	return 0;
}

static bool dup_or_null(char **out, const char *s, const char *fallback)
{
	const char *v = s ? s : fallback;

	*out = v ? strdup(v) : NULL;
	return !v || *out;
}

static int config_copy(struct sso *s, const struct sso_config *cfg)
{
	if (!dup_or_null(&s->issuer, cfg->issuer, NULL) ||
	    !dup_or_null(&s->client_id, cfg->client_id, NULL) ||
	    !dup_or_null(&s->redirect_uri, cfg->redirect_uri, NULL) ||
	    !dup_or_null(&s->scopes, cfg->scopes, SSO_SCOPES_DEFAULT) ||
	    !dup_or_null(&s->user_claim, cfg->user_claim, SSO_USER_CLAIM_DEFAULT) ||
	    !dup_or_null(&s->groups_claim, cfg->groups_claim, SSO_GROUPS_CLAIM_DEFAULT) ||
	    !dup_or_null(&s->admin_group, cfg->admin_group, NULL) ||
	    !dup_or_null(&s->ca_file, cfg->https.ca_file, NULL))
		return error_nomem("copying the OpenID Connect settings");
	if (!(s->client_secret = malloc(cfg->client_secret_len)))
		return error_nomem("copying the OpenID Connect settings");
	memcpy(s->client_secret, cfg->client_secret, cfg->client_secret_len);
	s->client_secret_len = cfg->client_secret_len;
	if (cfg->n_allowed_domains &&
	    !(s->allowed_domains = calloc(cfg->n_allowed_domains, sizeof(char *))))
		return error_nomem("copying the OpenID Connect settings");
	for (size_t i = 0; i < cfg->n_allowed_domains; i++, s->n_allowed_domains++)
		if (!(s->allowed_domains[i] = strdup(cfg->allowed_domains[i])))
			return error_nomem("copying the OpenID Connect settings");
	return 0;
}

int sso_open(struct sso **out, const struct sso_config *cfg)
{
	struct sso *s = NULL;
	int err;

	*out = NULL;
	if ((err = config_check(cfg)) < 0)
		return err;
	if (!(s = calloc(1, sizeof(*s))))
		return error_nomem("opening OpenID Connect");
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->fetched, NULL);
	if ((err = config_copy(s, cfg)) < 0 ||
	    (err = sso_seal_init(&s->seal, cfg->max_spent ? cfg->max_spent : SSO_SPENT_MAX)) < 0)
		goto out;
	s->clock = cfg->clock;
	s->clock_arg = cfg->clock_arg;
	s->skew_s = cfg->skew_s ? cfg->skew_s : SSO_SKEW_DEFAULT_S;
	s->https.ca_file = s->ca_file;
	s->fetch = cfg->fetch ? cfg->fetch : sso_https_fetch;
	s->fetch_arg = cfg->fetch ? cfg->fetch_arg : &s->https;
	*out = s;
	s = NULL;
out:
	sso_close(s);
	return err;
}

void sso_close(struct sso *s)
{
	if (!s)
		return;
	free(s->issuer);
	free(s->client_id);
	free(s->redirect_uri);
	free(s->scopes);
	free(s->user_claim);
	free(s->groups_claim);
	free(s->admin_group);
	free(s->ca_file);
	if (s->client_secret)
		sodium_memzero(s->client_secret, s->client_secret_len);
	free(s->client_secret);
	for (size_t i = 0; i < s->n_allowed_domains; i++)
		free(s->allowed_domains[i]);
	free(s->allowed_domains);
	sso_seal_dispose(&s->seal);
	sso_provider_dispose(&s->provider);
	sso_keys_unref(s->keys);
	pthread_cond_destroy(&s->fetched);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- the provider's documents ---- */

/* GETs url into body; a status other than 200 is EIO. */
static int fetch_json(struct buf *body, struct sso *s, const char *url, const char *what)
{
	struct sso_http_request req = { .url = url };
	long status = 0;
	int err;

	buf_init(body, SSO_BODY_MAX);
	if ((err = s->fetch(&status, body, &req, s->fetch_arg)) < 0) {
		error_prefix("fetching the provider's %s", what);
		return err;
	}
	if (status != 200) {
		error_set("fetching the provider's %s: %s answered HTTP %ld", what, url, status);
		return TRAWL_EIO;
	}
	return 0;
}

static int discovery_fetch(struct sso_provider *out, struct sso *s)
{
	struct buf url, body = { 0 };
	size_t len = strlen(s->issuer);
	int err;

	/* OpenID Connect Discovery 4.1: the issuer's trailing slash is not doubled. */
	if (len && s->issuer[len - 1] == '/')
		len--;
	buf_init(&url, SSO_URL_MAX + 64);
	if ((err = buf_put(&url, s->issuer, len)) < 0 ||
	    (err = buf_puts(&url, "/.well-known/openid-configuration")) < 0 ||
	    (err = fetch_json(&body, s, url.ptr, "discovery document")) < 0)
		goto out;
	err = sso_provider_parse(out, body.ptr ? body.ptr : "", body.len, s->issuer);
out:
	buf_dispose(&url);
	buf_dispose(&body);
	return err;
}

/*
 * A copy of the provider's endpoints: cached, refreshed once a day, fetched when missing, and
 * a failed fetch retried no more than every SSO_RETRY_S. A caller that finds a fetch in
 * flight waits for its outcome (the lock is released while it waits) rather than failing: the
 * first logins after a start arrive together.
 */
static int provider_get(struct sso_provider *out, struct sso *s)
{
	struct sso_provider fresh = { 0 };
	int64_t now = now_ms(s);
	bool has, is_fresh, may_fetch, is_mine;
	int err = 0, fetched;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	while (s->is_fetching_provider)
		pthread_cond_wait(&s->fetched, &s->lock);
	has = s->provider.token_endpoint != NULL;
	is_fresh = has && now - s->provider_ms < (int64_t)SSO_DISCOVERY_MAX_AGE_S * 1000;
	may_fetch =
		!s->provider_tried_ms || now - s->provider_tried_ms >= (int64_t)SSO_RETRY_S * 1000;
	is_mine = !is_fresh && may_fetch;
	if (is_mine) {
		s->provider_tried_ms = now;
		s->is_fetching_provider = true;
	}
	pthread_mutex_unlock(&s->lock);
	if (!is_fresh && !may_fetch && !has) {
		error_set("the provider's discovery document could not be fetched less than %d s "
			  "ago; try again shortly",
			  SSO_RETRY_S);
		return TRAWL_EIO;
	}
	fetched = is_mine ? discovery_fetch(&fresh, s) : 1;
	pthread_mutex_lock(&s->lock);
	if (is_mine) {
		s->is_fetching_provider = false;
		pthread_cond_broadcast(&s->fetched);
	}
	if (fetched == 0) {
		sso_provider_dispose(&s->provider);
		s->provider = fresh;
		s->provider_ms = now;
	}
	if (s->provider.token_endpoint)
		err = sso_provider_copy(out, &s->provider);
	else
		err = fetched < 0 ? fetched : TRAWL_EIO;
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int keys_fetch(struct sso_keys **out, struct sso *s, const char *jwks_uri)
{
	struct buf body = { 0 };
	int err;

	if ((err = fetch_json(&body, s, jwks_uri, "keys (JWKS)")) == 0)
		err = sso_keys_parse(out, body.ptr ? body.ptr : "", body.len);
	buf_dispose(&body);
	return err;
}

/*
 * The cached keys: fetched when there are none (a failure retried no more than every
 * SSO_RETRY_S), or, when the caller's set (stale, still referenced by it) lacks a kid,
 * refetched no more than every SSO_JWKS_REFETCH_S: a refetch refused by that bound is ELIMIT.
 * A set newer than stale is returned without a fetch, and a fetch in flight is waited for.
 * The caller releases *out.
 */
static int keys_get(struct sso_keys **out, struct sso *s, const char *jwks_uri,
		    const struct sso_keys *stale)
{
	struct sso_keys *fresh = NULL;
	int64_t now = now_ms(s), gap;
	int err;

	*out = NULL;
	pthread_mutex_lock(&s->lock);
	while (s->is_fetching_keys)
		pthread_cond_wait(&s->fetched, &s->lock);
	if (s->keys && s->keys != stale) {
		*out = sso_keys_ref(s->keys);
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	gap = (int64_t)(s->keys ? SSO_JWKS_REFETCH_S : SSO_RETRY_S) * 1000;
	if (s->keys_tried_ms && now - s->keys_tried_ms < gap) {
		pthread_mutex_unlock(&s->lock);
		error_set("the provider's keys were fetched less than %lld s ago",
			  (long long)gap / 1000);
		return s->keys ? TRAWL_ELIMIT : TRAWL_EIO;
	}
	s->keys_tried_ms = now;
	s->is_fetching_keys = true;
	pthread_mutex_unlock(&s->lock);
	err = keys_fetch(&fresh, s, jwks_uri);
	pthread_mutex_lock(&s->lock);
	s->is_fetching_keys = false;
	pthread_cond_broadcast(&s->fetched);
	if (err == 0) {
		sso_keys_unref(s->keys);
		s->keys = fresh;
		*out = sso_keys_ref(fresh);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* ---- sso_begin ---- */

/* Appends s[0..len) percent-encoded: everything but RFC 3986's unreserved characters. */
static int put_encoded(struct buf *b, const void *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = s;
	int err = 0;

	for (size_t i = 0; i < len && !err; i++) {
		unsigned char c = p[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			err = buf_putc(b, (char)c);
		else if (!(err = buf_putc(b, '%')) && !(err = buf_putc(b, hex[c >> 4])))
			err = buf_putc(b, hex[c & 15]);
	}
	return err;
}

/* Appends "&name=value" (or "?name=value" first), value percent-encoded. */
static int put_param(struct buf *b, char sep, const char *name, const char *value)
{
	int err;

	if ((err = buf_putc(b, sep)) < 0 || (err = buf_puts(b, name)) < 0 ||
	    (err = buf_putc(b, '=')) < 0)
		return err;
	return put_encoded(b, value, strlen(value));
}

static int auth_url(char **url, const struct sso *s, const char *endpoint, const struct sso_login *l,
		    const char *challenge)
{
	struct buf b;
	int err;

	buf_init(&b, (size_t)SSO_URL_MAX * 4);
	if ((err = buf_puts(&b, endpoint)) < 0 ||
	    (err = put_param(&b, strchr(endpoint, '?') ? '&' : '?', "response_type", "code")) < 0 ||
	    (err = put_param(&b, '&', "client_id", s->client_id)) < 0 ||
	    (err = put_param(&b, '&', "redirect_uri", s->redirect_uri)) < 0 ||
	    (err = put_param(&b, '&', "scope", s->scopes)) < 0 ||
	    (err = put_param(&b, '&', "state", l->state)) < 0 ||
	    (err = put_param(&b, '&', "nonce", l->nonce)) < 0 ||
	    (err = put_param(&b, '&', "code_challenge", challenge)) < 0 ||
	    (err = put_param(&b, '&', "code_challenge_method", "S256")) < 0) {
		buf_dispose(&b);
		if (err == TRAWL_ELIMIT)
			error_set(
				"the authorization URL is over %d bytes (check the redirect URI and "
				"scopes)",
				SSO_URL_MAX * 4);
		return err;
	}
	*url = buf_detach(&b, NULL);
	return 0;
}

/* SECURITY: only a same-origin path may be returned to, never "//host" or "/\host" (an open
 * redirect after sign-in). */
static bool is_local_path(const char *p)
{
	size_t len = strnlen(p, SSO_RETURN_TO_MAX + 1);

	if (len > SSO_RETURN_TO_MAX || p[0] != '/' || p[1] == '/' || p[1] == '\\')
		return false;
	/* It becomes a Location header: printable ASCII only (a path is percent-encoded). */
	for (size_t i = 0; i < len; i++)
		if (p[i] <= ' ' || p[i] >= 0x7f)
			return false;
	return true;
}

int sso_begin(char **url, char **cookie, struct sso *s, const char *return_to)
{
	struct sso_provider p = { 0 };
	struct sso_login l = { 0 };
	char challenge[SSO_RANDOM_LEN + 1];
	int err;

	*url = NULL;
	*cookie = NULL;
	if (!return_to)
		return_to = "/";
	if (!is_local_path(return_to)) {
		error_set("a sign-in may only return to a path on this server");
		return TRAWL_EINVAL;
	}
	if ((err = provider_get(&p, s)) < 0)
		return err;
	l.created_ms = now_ms(s);
	sso_state_make(l.state, &s->seal, l.created_ms);
	secret_random_b64url(l.nonce, 32);
	secret_random_b64url(l.verifier, 32);
	sso_pkce_challenge(challenge, l.verifier);
	l.return_to = (char *)return_to;
	if ((err = auth_url(url, s, p.authorization_endpoint, &l, challenge)) < 0 ||
	    (err = sso_login_seal(cookie, &s->seal, &l)) < 0) {
		free(*url);
		*url = NULL;
	}
	l.return_to = NULL;
	sso_login_clear(&l);
	sso_provider_dispose(&p);
	return err;
}

/* ---- sso_finish ---- */

/* s with anything but printable ASCII made '?', at most out_len - 1 bytes: provider text for a
 * message. */
static const char *printable(char *out, size_t out_len, const char *s)
{
	size_t i = 0;

	for (; s && s[i] && i + 1 < out_len; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
	return out;
}

/* client_secret_basic (RFC 6749 2.3.1): Basic base64(enc(id) ":" enc(secret)). */
static int basic_auth(struct buf *out, const struct sso *s)
{
	struct buf raw;
	size_t b64_len;
	int err;

	buf_init(&raw, 16 << 10);
	if ((err = put_encoded(&raw, s->client_id, strlen(s->client_id))) < 0 ||
	    (err = buf_putc(&raw, ':')) < 0 ||
	    (err = put_encoded(&raw, s->client_secret, s->client_secret_len)) < 0)
		goto out;
	b64_len = sodium_base64_ENCODED_LEN(raw.len, sodium_base64_VARIANT_ORIGINAL);
	if ((err = buf_puts(out, "Basic ")) < 0 || (err = buf_reserve(out, b64_len)) < 0)
		goto out;
	sodium_bin2base64(out->ptr + out->len, b64_len, (const unsigned char *)raw.ptr, raw.len,
			  sodium_base64_VARIANT_ORIGINAL);
	out->len += b64_len - 1;
out:
	if (raw.ptr)
		sodium_memzero(raw.ptr, raw.cap);
	buf_dispose(&raw);
	return err;
}

static int token_form(struct buf *form, const struct sso *s, const char *code, const char *verifier)
{
	int err;

	if ((err = buf_puts(form, "grant_type=authorization_code")) < 0 ||
	    (err = put_param(form, '&', "code", code)) < 0 ||
	    (err = put_param(form, '&', "redirect_uri", s->redirect_uri)) < 0 ||
	    (err = put_param(form, '&', "code_verifier", verifier)) < 0)
		return err;
	return 0;
}

static void wipe(struct buf *b)
{
	if (b->ptr)
		sodium_memzero(b->ptr, b->cap);
	buf_dispose(b);
}

/* The token endpoint's answer: its id_token (*out, caller frees), or why not. */
static int token_read(char **out, const char **reason, long status, const struct buf *body)
{
	json_t *doc = json_loadb(body->ptr ? body->ptr : "", body->len, 0, NULL);
	const char *tok = json_string_value(json_object_get(doc, "id_token"));
	char text[128];
	int err = 0;

	if (status != 200) {
		const char *e = json_string_value(json_object_get(doc, "error"));

		error_set("the provider's token endpoint refused the code (HTTP %ld, %s)", status,
			  printable(text, sizeof(text), e ? e : "no error code"));
		*reason = status >= 400 && status < 500 ? "token_error" : "token_request_failed";
		err = status >= 400 && status < 500 ? TRAWL_EAUTH : TRAWL_EIO;
	} else if (!tok || !tok[0]) {
		error_set("the provider's token response has no id_token (is openid among the "
			  "scopes?)");
		*reason = "no_id_token";
		err = TRAWL_EAUTH;
	} else if (!(*out = strdup(tok))) {
		err = error_nomem("reading the provider's token response");
		*reason = "no_memory";
	}
	json_decref(doc);
	return err;
}

static int code_exchange(char **id_token, const char **reason, struct sso *s, const char *endpoint,
			 const char *code, const char *verifier)
{
	struct buf form, authz, body;
	struct sso_http_request req = { .url = endpoint };
	long status = 0;
	int err;

	*id_token = NULL;
	buf_init(&form, 64 << 10);
	buf_init(&authz, 32 << 10);
	buf_init(&body, SSO_BODY_MAX);
	/* The bounds on code, client id and secret keep both within their buffers. */
	if ((err = token_form(&form, s, code, verifier)) < 0 || (err = basic_auth(&authz, s)) < 0) {
		*reason = "no_memory";
		goto out;
	}
	req.form = form.ptr;
	req.form_len = form.len;
	req.authorization = authz.ptr;
	if ((err = s->fetch(&status, &body, &req, s->fetch_arg)) < 0) {
		error_prefix("exchanging the code at the provider's token endpoint");
		*reason = "token_request_failed";
		goto out;
	}
	err = token_read(id_token, reason, status, &body);
out:
	wipe(&form);
	wipe(&authz);
	wipe(&body);
	return err;
}

static void expect_fill(struct sso_expect *want, const struct sso *s, const char *nonce)
{
	*want = (struct sso_expect){
		.issuer = s->issuer,
		.client_id = s->client_id,
		.nonce = nonce,
		.user_claim = s->user_claim,
		.groups_claim = s->groups_claim,
		.admin_group = s->admin_group,
		.allowed_domains = (const char *const *)s->allowed_domains,
		.n_allowed_domains = s->n_allowed_domains,
		.now_s = now_ms(s) / 1000,
		.skew_s = s->skew_s,
	};
}

/* Checks the signature, refetching the keys once for a kid they do not hold (rotation). */
static int signature_check(const char **reason, struct sso *s, const struct sso_jwt *t,
			   const char *jwks_uri)
{
	struct sso_keys *keys = NULL, *newer = NULL;
	int err;

	if ((err = keys_get(&keys, s, jwks_uri, NULL)) < 0) {
		*reason = "jwks_failed";
		return err;
	}
	if ((err = sso_jwt_verify(reason, t, keys)) != TRAWL_ENOTFOUND)
		goto out;
	/* keys stays referenced until keys_get has compared it with the current set, so no
	 * newer set can have its address. */
	err = keys_get(&newer, s, jwks_uri, keys);
	if (err == TRAWL_ELIMIT) {
		error_set("the ID token is signed with a key (kid) the provider's JWKS does not "
			  "hold, and the keys were fetched less than %d s ago",
			  SSO_JWKS_REFETCH_S);
		*reason = "unknown_kid";
		err = TRAWL_EAUTH;
	} else if (err < 0) {
		*reason = "jwks_failed";
	} else if ((err = sso_jwt_verify(reason, t, newer)) == TRAWL_ENOTFOUND) {
		err = TRAWL_EAUTH;
	}
out:
	sso_keys_unref(keys);
	sso_keys_unref(newer);
	return err;
}

static int token_check(struct sso_identity *out, const char **reason, struct sso *s,
		       const char *id_token, const struct sso_provider *p, const char *nonce)
{
	struct sso_jwt t;
	struct sso_expect want;
	int err;

	if ((err = sso_jwt_parse(&t, reason, id_token, strlen(id_token))) < 0 ||
	    (err = signature_check(reason, s, &t, p->jwks_uri)) < 0)
		goto out;
	expect_fill(&want, s, nonce);
	err = sso_jwt_claims(out, reason, &t, &want);
out:
	sso_jwt_dispose(&t);
	return err;
}

static int callback_check(const char **reason, const struct sso_callback *cb)
{
	char err_text[64], desc[200];

	if (cb->error) {
		error_set("the identity provider refused the sign-in: %s%s%s",
			  printable(err_text, sizeof(err_text), cb->error),
			  cb->error_description ? ": " : "",
			  printable(desc, sizeof(desc), cb->error_description));
		*reason = "idp_error";
		return TRAWL_EAUTH;
	}
	if (!cb->code || !cb->code[0] || strlen(cb->code) > SSO_CODE_MAX) {
		error_set("the sign-in's callback has no authorization code of 1 to %d bytes",
			  SSO_CODE_MAX);
		*reason = "missing_code";
		return TRAWL_EINVAL;
	}
	return 0;
}

int sso_finish(struct sso_identity *out, const char **reason, bool *is_used, struct sso *s,
	       const struct sso_callback *cb, const char *cookie)
{
	struct sso_login login = { 0 };
	struct sso_provider p = { 0 };
	char *id_token = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	*reason = NULL;
	*is_used = false;
	if (!cb->state || !cb->state[0]) {
		error_set("the sign-in's callback has no state");
		*reason = "missing_state";
		return TRAWL_EINVAL;
	}
	pthread_mutex_lock(&s->lock);
	err = sso_login_open(&login, reason, is_used, &s->seal, cb->state, cookie, now_ms(s),
			     (int64_t)SSO_PENDING_LIFETIME_S * 1000);
	pthread_mutex_unlock(&s->lock);
	if (err < 0 || (err = callback_check(reason, cb)) < 0)
		goto out;
	if ((err = provider_get(&p, s)) < 0) {
		*reason = "discovery_failed";
		goto out;
	}
	if ((err = code_exchange(&id_token, reason, s, p.token_endpoint, cb->code, login.verifier)) <
		    0 ||
	    (err = token_check(out, reason, s, id_token, &p, login.nonce)) < 0)
		goto out;
	out->return_to = login.return_to;
	login.return_to = NULL;
out:
	if (err == TRAWL_ENOMEM)
		*reason = "no_memory";
	if (id_token)
		sodium_memzero(id_token, strlen(id_token));
	free(id_token);
	sso_login_clear(&login);
	sso_provider_dispose(&p);
	return err;
}
