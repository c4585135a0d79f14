/*
 * ID token verification (OpenID Connect Core 3.1.3.7). The protected header is read by us first,
 * and an algorithm other than RS256 or ES256 is refused before cjose sees the token, so "none"
 * and HMAC can never be chosen by the token (a public key is never an HMAC secret). The key is
 * picked by kid and must be of the algorithm's type; cjose checks the signature; only then are
 * the claims parsed, each by one function of claim_checks[].
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth/auth.h"
#include "sso/sso_int.h"
#include "util/error.h"

static int refuse(const char **reason, const char *why, int code)
{
	*reason = why;
	return code;
}

/* ---- the header ---- */

/* Three base64url segments, none empty but the signature's, each decodable by cjose. */
static bool is_compact(const char *token, size_t len)
{
	const char *end = token + len, *p = token;

	for (int i = 0; i < 3; i++) {
		const char *dot = i < 2 ? memchr(p, '.', (size_t)(end - p)) : end;

		if (!dot || (i < 2 && dot == p) || !sso_b64url_ok(p, (size_t)(dot - p)))
			return false;
		p = dot + (i < 2);
	}
	return true;
}

static json_t *header_decode(const char *token, size_t len)
{
	const char *dot = memchr(token, '.', len);
	unsigned char raw[SSO_HEADER_MAX];
	size_t raw_len = 0;

	if (!dot || (size_t)(dot - token) > SSO_HEADER_MAX ||
	    sodium_base642bin(raw, sizeof(raw), token, (size_t)(dot - token), NULL, &raw_len, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return NULL;
	return json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, NULL);
}

/* SECURITY: O2: the allow-list of algorithms, and the key type each one needs. */
static enum sso_key_type check_alg(const char *alg)
{
	if (alg && strcmp(alg, "RS256") == 0)
		return SSO_KEY_RSA;
	if (alg && strcmp(alg, "ES256") == 0)
		return SSO_KEY_P256;
	return SSO_KEY_NONE;
}

static int header_read(struct sso_jwt *out, const char **reason, const json_t *hdr)
{
	const json_t *kid = json_object_get(hdr, "kid");

	if (!json_is_object(hdr)) {
		error_set("the ID token's header is not a base64url JSON object");
		return refuse(reason, "malformed_token", TRAWL_EAUTH);
	}
	out->type = check_alg(json_string_value(json_object_get(hdr, "alg")));
	if (out->type == SSO_KEY_NONE) {
		error_set("the ID token's algorithm is not RS256 or ES256 (none, HMAC and others are "
			  "refused); configure the provider to sign ID tokens with RS256 or ES256");
		return refuse(reason, "alg_not_allowed", TRAWL_EAUTH);
	}
	/* RFC 7515 4.1.11: a critical extension we do not understand makes the token invalid. */
	if (json_object_get(hdr, "crit")) {
		error_set("the ID token's header has critical extensions (crit), which are not "
			  "supported");
		return refuse(reason, "malformed_token", TRAWL_EAUTH);
	}
	if (kid) {
		const char *s = json_string_value(kid);

		if (!s || strlen(s) != json_string_length(kid) || strlen(s) > SSO_KID_MAX) {
			error_set("the ID token's kid is not a string of at most %d bytes",
				  SSO_KID_MAX);
			return refuse(reason, "malformed_token", TRAWL_EAUTH);
		}
		memcpy(out->kid, s, strlen(s) + 1);
	}
	return 0;
}

/* An ES256 signature is r || s, 32 bytes each (RFC 7518 3.4). */
#define ES256_SIG_LEN 64

/*
 * SECURITY: an ES256 signature of exactly 64 bytes: a padded or DER-shaped one is malformed,
 * whatever a library would make of it, so one token has one signature.
 */
static int sig_check(const char **reason, const struct sso_jwt *t, const char *token, size_t len)
{
	const char *sig = token + len, *p = token;
	unsigned char raw[ES256_SIG_LEN + 3];
	size_t raw_len = 0;

	if (t->type != SSO_KEY_P256)
		return 0;
	for (int dots = 0; p < token + len && dots < 2; p++)
		if (*p == '.' && ++dots == 2)
			sig = p + 1;
	if ((size_t)(token + len - sig) > (sizeof(raw) * 4 + 2) / 3 ||
	    sodium_base642bin(raw, sizeof(raw), sig, (size_t)(token + len - sig), NULL, &raw_len,
			      NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    raw_len != ES256_SIG_LEN) {
		error_set("the ID token's ES256 signature is not %d bytes (r and s of 32 each)",
			  ES256_SIG_LEN);
		return refuse(reason, "malformed_token", TRAWL_EAUTH);
	}
	return 0;
}

int sso_jwt_parse(struct sso_jwt *out, const char **reason, const char *token, size_t len)
{
	json_t *hdr = NULL;
	cjose_err cerr;
	int err;

	memset(out, 0, sizeof(*out));
	*reason = NULL;
	if (len > SSO_TOKEN_MAX) {
		error_set("the ID token is over %zu bytes", SSO_TOKEN_MAX);
		return refuse(reason, "malformed_token", TRAWL_EAUTH);
	}
	if (!is_compact(token, len)) {
		error_set("the ID token is not three base64url segments separated by dots");
		return refuse(reason, "malformed_token", TRAWL_EAUTH);
	}
	hdr = header_decode(token, len);
	if ((err = header_read(out, reason, hdr)) < 0 ||
	    (err = sig_check(reason, out, token, len)) < 0)
		goto out;
	out->jws = cjose_jws_import(token, len, &cerr);
	if (!out->jws) {
		error_set("the ID token is not a compact JWS (%s)", cjose_err_message(cerr.code));
		err = refuse(reason, "malformed_token", TRAWL_EAUTH);
	}
out:
	json_decref(hdr);
	return err;
}

void sso_jwt_dispose(struct sso_jwt *t)
{
	cjose_jws_release(t->jws);
	memset(t, 0, sizeof(*t));
}

/* ---- the signature ---- */

/* The key kid names with the type t needs; *is_named says whether kid names any key. */
static const struct sso_key *key_named(bool *is_named, const struct sso_keys *keys,
				       const struct sso_jwt *t)
{
	*is_named = false;
	for (size_t i = 0; keys && i < keys->n_keys; i++) {
		const struct sso_key *k = &keys->keys[i];

		if (!k->kid || strcmp(k->kid, t->kid) != 0)
			continue;
		*is_named = true;
		/* SECURITY: the key must be of the type the algorithm needs (RSA for RS256, P-256
		 * for ES256), whatever cjose would make of another. */
		if (k->type == t->type)
			return k;
	}
	return NULL;
}

static int verify_named(const char **reason, const struct sso_jwt *t, const struct sso_keys *keys)
{
	bool is_named;
	const struct sso_key *k = key_named(&is_named, keys, t);
	cjose_err cerr;

	if (!k && is_named) {
		error_set("the ID token's key (kid) is not of the type its algorithm needs (RSA for "
			  "RS256, EC P-256 for ES256)");
		return refuse(reason, "key_type_mismatch", TRAWL_EAUTH);
	}
	if (!k) {
		error_set("the ID token is signed with a key (kid) the provider's JWKS does not "
			  "hold");
		return refuse(reason, "unknown_kid", TRAWL_ENOTFOUND);
	}
	if (!cjose_jws_verify(t->jws, k->jwk, &cerr)) {
		error_set("the ID token's signature does not verify with the provider's key");
		return refuse(reason, "bad_signature", TRAWL_EAUTH);
	}
	return 0;
}

/* Without a kid, any key of the algorithm's type may have signed it. */
static int verify_any(const char **reason, const struct sso_jwt *t, const struct sso_keys *keys)
{
	bool is_tried = false;
	cjose_err cerr;

	for (size_t i = 0; keys && i < keys->n_keys; i++) {
		if (keys->keys[i].type != t->type)
			continue;
		is_tried = true;
		if (cjose_jws_verify(t->jws, keys->keys[i].jwk, &cerr))
			return 0;
	}
	if (!is_tried) {
		error_set("the ID token has no kid and the provider's JWKS has no key of the type "
			  "its algorithm needs");
		return refuse(reason, "unknown_kid", TRAWL_ENOTFOUND);
	}
	error_set("the ID token's signature does not verify with any of the provider's keys");
	return refuse(reason, "bad_signature", TRAWL_EAUTH);
}

int sso_jwt_verify(const char **reason, const struct sso_jwt *t, const struct sso_keys *keys)
{
	*reason = NULL;
	return t->kid[0] ? verify_named(reason, t, keys) : verify_any(reason, t, keys);
}

/* ---- the claims ---- */

struct claims {
	const json_t *doc;
	const struct sso_expect *want;
	struct sso_identity *id;
	const char **reason;
};

/* A string claim without NUL bytes, or NULL. */
static const char *claim_str(const struct claims *c, const char *name)
{
	const json_t *v = json_object_get(c->doc, name);
	const char *s = json_string_value(v);

	return s && strlen(s) == json_string_length(v) ? s : NULL;
}

static int claim_dup(char **out, const char *s)
{
	*out = strdup(s);
	return *out ? 0 : error_nomem("reading the ID token's claims");
}

static int bad(const struct claims *c, const char *why, int code)
{
	return refuse(c->reason, why, code);
}

static int check_issuer(struct claims *c)
{
	const char *iss = claim_str(c, "iss");

	if (!iss || strcmp(iss, c->want->issuer) != 0) {
		error_set("the ID token's issuer (iss) is not the configured issuer %s",
			  c->want->issuer);
		return bad(c, "bad_issuer", TRAWL_EAUTH);
	}
	return claim_dup(&c->id->issuer, iss);
}

static bool aud_has_client(const json_t *aud, const char *client_id)
{
	size_t i;
	const json_t *v;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), client_id) == 0;
	json_array_foreach(aud, i, v) if (json_is_string(v) &&
					  strcmp(json_string_value(v), client_id) == 0) return true;
	return false;
}

static int check_audience(struct claims *c)
{
	if (!aud_has_client(json_object_get(c->doc, "aud"), c->want->client_id)) {
		error_set("the ID token's audience (aud) does not include client id %s",
			  c->want->client_id);
		return bad(c, "bad_audience", TRAWL_EAUTH);
	}
	return 0;
}

/* OpenID Connect Core 3.1.3.7 (4, 5): azp names us when present, and must be when aud has
 * several values. */
static int check_azp(struct claims *c)
{
	const json_t *aud = json_object_get(c->doc, "aud");
	const char *azp = claim_str(c, "azp");

	if (json_object_get(c->doc, "azp") && (!azp || strcmp(azp, c->want->client_id) != 0)) {
		error_set("the ID token's authorized party (azp) is not client id %s",
			  c->want->client_id);
		return bad(c, "bad_azp", TRAWL_EAUTH);
	}
	if (json_is_array(aud) && json_array_size(aud) > 1 && !azp) {
		error_set("the ID token has several audiences and no authorized party (azp)");
		return bad(c, "bad_azp", TRAWL_EAUTH);
	}
	return 0;
}

/* A NumericDate claim: 1 present, 0 absent, EAUTH (bad_claim) when not a number. */
static int claim_time(double *out, const struct claims *c, const char *name)
{
	const json_t *v = json_object_get(c->doc, name);

	if (!v)
		return 0;
	if (!json_is_number(v)) {
		error_set("the ID token's %s is not a number", name);
		return bad(c, "bad_claim", TRAWL_EAUTH);
	}
	*out = json_number_value(v);
	return 1;
}

/* A NumericDate claim the token must have. */
static int claim_time_needed(double *out, const struct claims *c, const char *name, const char *what)
{
	int has = claim_time(out, c, name);

	if (has < 0)
		return has;
	if (!has) {
		error_set("the ID token has no %s (%s)", what, name);
		return bad(c, "missing_claim", TRAWL_EAUTH);
	}
	return 0;
}

static int check_expiry(struct claims *c)
{
	double exp = 0;
	int err = claim_time_needed(&exp, c, "exp", "expiry");

	if (err < 0)
		return err;
	if ((double)c->want->now_s >= exp + (double)c->want->skew_s) {
		error_set("the ID token has expired (exp is past, beyond the allowed clock skew of "
			  "%lld s); check this server's clock",
			  (long long)c->want->skew_s);
		return bad(c, "expired", TRAWL_EAUTH);
	}
	return 0;
}

static int check_not_before(struct claims *c)
{
	double nbf = 0;
	int has = claim_time(&nbf, c, "nbf");

	if (has <= 0)
		return has;
	if (nbf > (double)(c->want->now_s + c->want->skew_s)) {
		error_set(
			"the ID token is not valid yet (nbf is ahead, beyond the allowed clock skew "
			"of %lld s); check this server's clock",
			(long long)c->want->skew_s);
		return bad(c, "not_yet_valid", TRAWL_EAUTH);
	}
	return 0;
}

static int check_issued_at(struct claims *c)
{
	double iat = 0;
	int err = claim_time_needed(&iat, c, "iat", "issue time");

	if (err < 0)
		return err;
	if (iat > (double)(c->want->now_s + c->want->skew_s)) {
		error_set("the ID token was issued in the future (iat is ahead, beyond the allowed "
			  "clock skew of %lld s); check this server's clock",
			  (long long)c->want->skew_s);
		return bad(c, "issued_in_future", TRAWL_EAUTH);
	}
	return 0;
}

/* SECURITY: O1: the nonce ties the token to the login this browser started. */
static int check_nonce(struct claims *c)
{
	const char *nonce = claim_str(c, "nonce");
	size_t len = strlen(c->want->nonce);

	if (!nonce || strlen(nonce) != len || sodium_memcmp(nonce, c->want->nonce, len) != 0) {
		error_set("the ID token's nonce is %s the one this sign-in sent",
			  nonce ? "not" : "missing, not");
		return bad(c, "nonce_mismatch", TRAWL_EAUTH);
	}
	return 0;
}

static int check_subject(struct claims *c)
{
	const char *sub = claim_str(c, "sub");

	if (!sub || !sub[0] || strlen(sub) > 255) {
		error_set("the ID token has no subject (sub) of 1 to 255 bytes");
		return bad(c, "missing_claim", TRAWL_EAUTH);
	}
	return claim_dup(&c->id->subject, sub);
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Whether email holds exactly one '@', with something on each side. */
static bool is_one_at(const char *email)
{
	const char *at = strchr(email, '@');

	return at && at != email && at[1] && !strchr(at + 1, '@');
}

/* SECURITY: the domain is what follows the only '@', compared whole: no suffix or sub-domain
 * match, so "user@example.com.evil.com" is not in example.com, and "root@evil.com@example.com"
 * is in no domain (which '@' a mail system splits at is its own affair). */
static bool domain_allowed(const char *email, const struct sso_expect *want)
{
	const char *at = strrchr(email, '@');

	if (!is_one_at(email))
		return false;
	for (size_t i = 0; i < want->n_allowed_domains; i++)
		if (strcasecmp(at + 1, want->allowed_domains[i]) == 0)
			return true;
	return false;
}

static int check_email(struct claims *c)
{
	const char *email = claim_str(c, "email");
	bool is_needed = strcmp(c->want->user_claim, "email") == 0 || c->want->n_allowed_domains;
	int err;

	c->id->email_verified = json_is_true(json_object_get(c->doc, "email_verified"));
	if (email && (err = claim_dup(&c->id->email, email)) < 0)
		return err;
	if (email)
		lower_ascii(c->id->email);
	if (!is_needed)
		return 0;
	if (!email) {
		error_set("the ID token has no email claim (needed to name the user or to check "
			  "its domain); add the email scope");
		return bad(c, "missing_claim", TRAWL_EAUTH);
	}
	/* SECURITY: O3: an address the provider has not verified names nobody. */
	if (!c->id->email_verified) {
		error_set("the provider has not verified the user's email address "
			  "(email_verified is not true)");
		return bad(c, "email_unverified", TRAWL_EPERM);
	}
	if (c->want->n_allowed_domains && !domain_allowed(c->id->email, c->want)) {
		error_set("the user's email domain is not among the allowed domains");
		return bad(c, "domain_not_allowed", TRAWL_EPERM);
	}
	return 0;
}

static int check_user(struct claims *c)
{
	bool is_email = strcmp(c->want->user_claim, "email") == 0;
	const char *name = is_email ? c->id->email : claim_str(c, c->want->user_claim);
	int err;

	if (!name) {
		error_set("the ID token has no string claim %s to name the user",
			  c->want->user_claim);
		return bad(c, "missing_claim", TRAWL_EAUTH);
	}
	if (is_email && !is_one_at(name)) {
		error_set("the ID token's email does not hold exactly one '@'");
		return bad(c, "bad_user_name", TRAWL_EAUTH);
	}
	if ((err = auth_name_check(name)) < 0) {
		error_prefix("the ID token's %s is not a valid user name", c->want->user_claim);
		return bad(c, "bad_user_name", TRAWL_EAUTH);
	}
	return claim_dup(&c->id->user_name, name);
}

static int group_add(struct claims *c, const json_t *v)
{
	const char *g = json_string_value(v);
	size_t len = g ? strlen(g) : 0;

	if (!g || !len || len != json_string_length(v) || len > SSO_GROUP_NAME_MAX) {
		error_set("the ID token's %s holds a value that is not a string of 1 to %d bytes",
			  c->want->groups_claim, SSO_GROUP_NAME_MAX);
		return bad(c, "bad_claim", TRAWL_EAUTH);
	}
	if (c->want->admin_group && strcmp(g, c->want->admin_group) == 0)
		c->id->is_admin_by_group = true;
	return claim_dup(&c->id->groups[c->id->n_groups++], g);
}

static int check_groups(struct claims *c)
{
	const json_t *list = json_object_get(c->doc, c->want->groups_claim);
	size_t i, n = json_array_size(list);
	const json_t *v;
	int err;

	if (!list)
		return 0;
	if (!json_is_array(list)) {
		error_set("the ID token's %s is not an array of strings", c->want->groups_claim);
		return bad(c, "bad_claim", TRAWL_EAUTH);
	}
	if (n > SSO_GROUPS_MAX) {
		error_set("the ID token lists more than %d groups in %s", SSO_GROUPS_MAX,
			  c->want->groups_claim);
		return bad(c, "too_many_groups", TRAWL_EAUTH);
	}
	if (!n)
		return 0;
	if (!(c->id->groups = calloc(n, sizeof(*c->id->groups))))
		return error_nomem("reading the ID token's groups");
	json_array_foreach(list, i, v) if ((err = group_add(c, v)) < 0) return err;
	return 0;
}

/* The display name, cut to AUTH_DISPLAY_MAX bytes on a character boundary (jansson's
 * strings are valid UTF-8), control characters made spaces. */
static int check_display_name(struct claims *c)
{
	const char *name = claim_str(c, "name");
	size_t len;
	char *d;

	if (!name)
		return 0;
	len = strlen(name);
	if (len > AUTH_DISPLAY_MAX) {
		len = AUTH_DISPLAY_MAX;
		while (len && ((unsigned char)name[len] & 0xc0) == 0x80)
			len--;
	}
	if (!(d = strndup(name, len)))
		return error_nomem("reading the ID token's claims");
	for (char *p = d; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	c->id->display_name = d;
	return 0;
}

/* In order: who issued it and for whom, when, for which login, then who it names. */
typedef int (*claim_check_fn)(struct claims *c);
static const claim_check_fn claim_checks[] = {
	check_issuer, check_audience, check_azp,   check_expiry, check_not_before, check_issued_at,
	check_nonce,  check_subject,  check_email, check_user,   check_groups,     check_display_name,
};

int sso_claims_check(struct sso_identity *out, const char **reason, const char *payload, size_t len,
		     const struct sso_expect *want)
{
	struct claims c = { .want = want, .id = out, .reason = reason };
	json_t *doc = json_loadb(payload, len, JSON_REJECT_DUPLICATES, NULL);
	int err = 0;

	memset(out, 0, sizeof(*out));
	*reason = NULL;
	if (!json_is_object(doc)) {
		error_set("the ID token's claims are not a JSON object");
		err = refuse(reason, "malformed_token", TRAWL_EAUTH);
		goto out;
	}
	c.doc = doc;
	for (size_t i = 0; i < sizeof(claim_checks) / sizeof(claim_checks[0]) && !err; i++)
		err = claim_checks[i](&c);
	if (err == TRAWL_ENOMEM)
		*reason = "no_memory";
out:
	json_decref(doc);
	if (err < 0)
		sso_identity_dispose(out);
	return err;
}

int sso_jwt_claims(struct sso_identity *out, const char **reason, const struct sso_jwt *t,
		   const struct sso_expect *want)
{
	uint8_t *payload = NULL;
	size_t len = 0;
	cjose_err cerr;

	if (!cjose_jws_get_plaintext(t->jws, &payload, &len, &cerr)) {
		memset(out, 0, sizeof(*out));
		error_set("the ID token has no readable claims");
		return refuse(reason, "malformed_token", TRAWL_EAUTH);
	}
	return sso_claims_check(out, reason, (const char *)payload, len, want);
}

void sso_identity_dispose(struct sso_identity *id)
{
	free(id->subject);
	free(id->issuer);
	free(id->user_name);
	free(id->email);
	free(id->display_name);
	for (size_t i = 0; i < id->n_groups; i++)
		free(id->groups[i]);
	free(id->groups);
	free(id->return_to);
	memset(id, 0, sizeof(*id));
}
