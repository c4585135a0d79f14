/*
 * OpenID Connect relying party (docs/internals/sso.md): the authorization code flow with PKCE
 * (S256), state and nonce bound to the browser, discovery and JWKS fetched over verified
 * HTTPS, and the ID token verified (RS256 or ES256 only) before anyone is believed.
 *
 * The module knows nothing of HTTP routes or of accounts. The server's login handler calls
 * sso_begin and redirects the browser to the URL it returns, setting the binding cookie; its
 * callback handler calls sso_finish with the callback's query values and that cookie, and hands
 * the struct sso_identity to the accounts module, which turns it into a user, groups and a
 * session. Only the ID token decides who signs in; the access token is never used.
 *
 * Thread safety: a struct sso is shared by the server's threads. One mutex guards its spent
 * states and caches; no lock is held across a fetch.
 */
#ifndef TRAWL_SSO_SSO_H
#define TRAWL_SSO_SSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Defaults of struct sso_config. */
#define SSO_SCOPES_DEFAULT "openid email profile"
#define SSO_USER_CLAIM_DEFAULT "email"
#define SSO_GROUPS_CLAIM_DEFAULT "groups"
#define SSO_SKEW_DEFAULT_S 60
/*
 * At most this many spent states are remembered (to refuse a replayed callback); a new one
 * evicts the oldest. Pending logins themselves live in their browsers' binding cookies.
 */
#define SSO_SPENT_MAX 10000
/* A login must come back within this many seconds. */
#define SSO_PENDING_LIFETIME_S 600
/* The longest return_to kept (bytes). */
#define SSO_RETURN_TO_MAX 2048
/* An unknown kid refetches the provider's keys at most this often (key rotation). */
#define SSO_JWKS_REFETCH_S 60
/* A failed discovery or key fetch is retried at most this often. */
#define SSO_RETRY_S 10
/* Bounds on what the provider sends: a response body, the groups of one user. */
#define SSO_BODY_MAX ((size_t)1 << 20)
#define SSO_GROUPS_MAX 1024
#define SSO_GROUP_NAME_MAX 256
/* Longest client id, client secret and authorization code accepted (bytes). */
#define SSO_CLIENT_ID_MAX 1024
#define SSO_CLIENT_SECRET_MAX 4096
#define SSO_CODE_MAX 4096
/* Each fetch's total timeout, and its connect timeout (seconds): a provider that does not
 * even accept the connection is given up on quickly, its threads being few. */
#define SSO_FETCH_TIMEOUT_S 10
#define SSO_CONNECT_TIMEOUT_S 3

/*
 * The browser-binding cookie: sso_begin makes its value, the pending login sealed (state,
 * nonce, PKCE verifier, return_to, issue time; authenticated encryption under a key made at
 * start, base64url, at most SSO_COOKIE_VALUE_MAX characters, so the cookie stays under the
 * 4096 bytes browsers keep); the server sets it (HttpOnly, Secure, SameSite=Lax: the callback
 * is a cross-site top-level navigation, Path=/, Max-Age the pending lifetime) and passes it
 * back to sso_finish. The server keeps no copy.
 */
#define SSO_COOKIE_NAME "__Host-trawl_oidc"
#define SSO_COOKIE_VALUE_MAX 3400
/* A state: 40 bytes (16 random, the issue time, a 16-byte MAC) in base64url. */
#define SSO_STATE_LEN 54
/* The redirect URI's path under the server's external URL. */
#define SSO_CALLBACK_PATH "/auth/oidc/callback"

/* A clock in unix milliseconds; tests inject their own. */
typedef int64_t (*sso_clock_fn)(void *arg);

/* One HTTPS request to the provider: a GET, or a POST of a form when form is not NULL. */
struct sso_http_request {
	const char *url;  /* always https:// */
	const char *form; /* application/x-www-form-urlencoded body, or NULL for a GET */
	size_t form_len;
	const char *authorization; /* an Authorization header value, or NULL; a secret: never logged */
};

/*
 * Fetches req into body (a buf of max SSO_BODY_MAX, initialised by the caller) and sets *status
 * to the HTTP status. A fetcher follows no redirect and fails (EIO, ETIMEOUT, ELIMIT for a body
 * over the bound) with a message that names the URL but never the form or the authorization.
 * sso_https_fetch is the real one; unit tests pass their own.
 */
typedef int (*sso_fetch_fn)(long *status, struct buf *body, const struct sso_http_request *req,
			    void *arg);

/* The real fetcher's settings (its arg). */
struct sso_https_config {
	const char *ca_file; /* PEM CAs trusted besides the system's (a private CA), or NULL */
};

/*
 * libcurl: https only, the peer's certificate and host name always verified, no redirects,
 * SSO_FETCH_TIMEOUT_S, the body bounded by body->max. arg is a const struct sso_https_config *
 * (NULL: the system's CAs). Thread-safe.
 */
int sso_https_fetch(long *status, struct buf *body, const struct sso_http_request *req, void *arg);

struct sso_config {
	const char *issuer; /* https URL, compared exactly with the provider's "issuer" */
	const char *client_id;
	const unsigned char *client_secret; /* the bytes (read by the caller from a 0600 file) */
	size_t client_secret_len;
	const char *redirect_uri; /* the server's external URL + SSO_CALLBACK_PATH */
	const char *scopes;       /* NULL: SSO_SCOPES_DEFAULT; must include "openid" */
	const char *user_claim; /* NULL: "email"; or "preferred_username", "sub", any string claim */
	const char *groups_claim; /* NULL: "groups"; a JSON array of strings, or absent */
	/*
	 * Email domains that may sign in (compared case-insensitively with what follows the
	 * email's last '@'; no sub-domains). n_allowed_domains 0: any. When set, every user needs
	 * a verified email in one of them, whatever the user claim.
	 */
	const char *const *allowed_domains;
	size_t n_allowed_domains;
	const char *admin_group; /* a group whose members are administrators, or NULL */
	sso_clock_fn clock;      /* NULL: the real time */
	void *clock_arg;
	int64_t skew_s;     /* allowed clock skew for exp, nbf, iat; 0: SSO_SKEW_DEFAULT_S */
	size_t max_spent;   /* 0: SSO_SPENT_MAX */
	sso_fetch_fn fetch; /* NULL: sso_https_fetch with &https */
	void *fetch_arg;
	struct sso_https_config https;
};

struct sso;

/*
 * Checks and copies cfg (nothing is fetched yet: a provider that is down does not stop the
 * server). EINVAL naming the setting: an issuer, redirect URI or CA file that is not what it
 * should be (the CA file must be readable), an empty or overlong client id or secret, scopes
 * without "openid", an empty claim name. ENOMEM.
 */
int sso_open(struct sso **out, const struct sso_config *cfg);
/* Wipes the client secret and frees everything. sso_close(NULL) is a no-op. */
void sso_close(struct sso *s);

/*
 * Starts a login: fetches discovery if it is not cached, seals a pending login { state,
 * nonce, PKCE verifier, return_to, time } into *cookie, the binding cookie's value (caller
 * wipes and frees), and writes the authorization URL to redirect the
 * browser to (*url, caller frees; it carries response_type=code, client_id, redirect_uri,
 * scope, state, nonce, code_challenge and code_challenge_method=S256). return_to is where the browser goes after signing in: a same-origin path ("/" or
 * "/x...", never "//" or "/\\"; printable ASCII without spaces, at most SSO_RETURN_TO_MAX
 * bytes), else EINVAL; NULL means "/". EIO or ETIMEOUT when discovery cannot be fetched,
 * ECORRUPT when its document is wrong (another issuer, an endpoint that is not https), ENOMEM.
 */
int sso_begin(char **url, char **cookie, struct sso *s, const char *return_to);

/* The callback's query values, each NULL when absent. */
struct sso_callback {
	const char *code;
	const char *state;
	const char *error; /* the provider refused: access_denied, login_required ... */
	const char *error_description;
};

/* Who signed in. Strings are owned by the struct: sso_identity_dispose frees them. */
struct sso_identity {
	char *subject;   /* sub: the provider's stable id of the user */
	char *issuer;    /* iss */
	char *user_name; /* the user claim; lower-cased when it is the email; passes auth_name_check */
	char *email;     /* lower-cased, or NULL when the token has none */
	bool email_verified;
	char *display_name; /* name, control characters replaced by spaces, at most 128 bytes;
			       NULL when absent */
	char **groups;      /* the groups claim as sent (at most SSO_GROUPS_MAX, each at most
			       SSO_GROUP_NAME_MAX bytes, no NUL); NULL when n_groups is 0 */
	size_t n_groups;
	bool is_admin_by_group; /* admin_group is configured and among groups */
	char *return_to;        /* the pending login's return_to */
};
void sso_identity_dispose(struct sso_identity *id);

/*
 * Completes a login. Checks the state (issued here, not spent, not expired), opens the
 * binding cookie (NULL: none) and compares the state sealed in it with the callback's; then
 * spends the state (single use, whatever follows) and sets *is_used: the cookie has served
 * and may be cleared. A callback refused before that leaves *is_used false: its state was not
 * this browser's login, which stays usable. Then exchanges the code at the token endpoint
 * (client_secret_basic, the PKCE verifier, the redirect URI), verifies the ID token and fills
 * *out.
 *
 * On a refusal *reason is a short stable word for the audit trail, and error_last() a line an
 * operator can act on that never holds a code, token, verifier, state or secret:
 *   EINVAL   missing_state, missing_code
 *   EAUTH    unknown_state, replayed_state, expired_state, binding_mismatch, idp_error,
 *            token_error (the token endpoint refused the code), no_id_token, malformed_token,
 *            alg_not_allowed, unknown_kid, key_type_mismatch, bad_signature, bad_issuer,
 *            bad_audience, bad_azp, expired, not_yet_valid, issued_in_future, nonce_mismatch,
 *            missing_claim, bad_claim, bad_user_name, too_many_groups
 *   EPERM    email_unverified, domain_not_allowed
 *   EIO      discovery_failed, jwks_failed, token_request_failed (ETIMEOUT likewise;
 *            ECORRUPT for a discovery document or JWKS that is not what it must be, ELIMIT
 *            for one over SSO_BODY_MAX)
 *   ENOMEM   no_memory
 * On success *reason is NULL. Thread-safe.
 */
int sso_finish(struct sso_identity *out, const char **reason, bool *is_used, struct sso *s,
	       const struct sso_callback *cb, const char *cookie);

#endif
