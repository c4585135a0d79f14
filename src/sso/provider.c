/*
 * The provider's two documents: discovery (/.well-known/openid-configuration: the issuer and the
 * endpoints) and the JWKS (the keys that sign ID tokens). Both come over HTTPS from a server we
 * trust for this, but are parsed as untrusted input all the same: bounded, typed, and only the
 * members we use are read.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sso/sso_int.h"
#include "util/error.h"

/* A string member without NUL bytes, or NULL. */
static const char *str_member(const json_t *obj, const char *name)
{
	const json_t *v = json_object_get(obj, name);
	const char *s = json_string_value(v);

	if (!s || strlen(s) != json_string_length(v))
		return NULL;
	return s;
}

static bool is_https(const char *url)
{
	return strncasecmp(url, "https://", 8) == 0 && url[8] != '\0';
}

static json_t *load_object(const char *json, size_t len, const char *what)
{
	json_error_t jerr;
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!doc) {
		error_set("the provider's %s is not JSON (line %d: %s)", what, jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		error_set("the provider's %s is not a JSON object", what);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/*
 * The byte of url a URL may not hold (1-based), or 0: anything but printable ASCII, a space, a
 * quote or an angle bracket. SECURITY: an endpoint ends up in a Location header and in log
 * lines; such a byte could break out of either, and no real provider's URL holds one.
 */
static size_t url_bad_byte(const char *url)
{
	for (size_t i = 0; url[i]; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '<' || c == '>')
			return i + 1;
	}
	return 0;
}

static int endpoint_dup(char **out, const json_t *doc, const char *name)
{
	const char *url = str_member(doc, name);
	size_t bad;

	if (!url || !is_https(url) || strlen(url) > SSO_URL_MAX) {
		error_set("the provider's discovery document has no https %s of at most %d bytes",
			  name, SSO_URL_MAX);
		return TRAWL_ECORRUPT;
	}
	if ((bad = url_bad_byte(url)) != 0) {
		error_set("the provider's %s holds a byte a URL may not (byte %zu: a control, a "
			  "space, a quote, an angle bracket or non-ASCII)",
			  name, bad);
		return TRAWL_ECORRUPT;
	}
	*out = strdup(url);
	return *out ? 0 : error_nomem("reading the provider's discovery document");
}

int sso_provider_parse(struct sso_provider *out, const char *json, size_t len, const char *issuer)
{
	json_t *doc = load_object(json, len, "discovery document");
	const char *iss;
	int err = TRAWL_ECORRUPT;

	memset(out, 0, sizeof(*out));
	if (!doc)
		return TRAWL_ECORRUPT;
	/* SECURITY: OpenID Connect Discovery 4.3: the document must name the issuer we asked,
	 * byte for byte, or its keys and endpoints may belong to someone else. */
	iss = str_member(doc, "issuer");
	if (!iss || strcmp(iss, issuer) != 0) {
		error_set("the provider's discovery document names another issuer than %s (it must "
			  "match the configured issuer exactly, trailing slash included)",
			  issuer);
		goto out;
	}
	if ((err = endpoint_dup(&out->authorization_endpoint, doc, "authorization_endpoint")) < 0 ||
	    (err = endpoint_dup(&out->token_endpoint, doc, "token_endpoint")) < 0 ||
	    (err = endpoint_dup(&out->jwks_uri, doc, "jwks_uri")) < 0)
		goto out;
	err = 0;
out:
	json_decref(doc);
	if (err < 0)
		sso_provider_dispose(out);
	return err;
}

int sso_provider_copy(struct sso_provider *out, const struct sso_provider *p)
{
	out->authorization_endpoint = strdup(p->authorization_endpoint);
	out->token_endpoint = strdup(p->token_endpoint);
	out->jwks_uri = strdup(p->jwks_uri);
	if (out->authorization_endpoint && out->token_endpoint && out->jwks_uri)
		return 0;
	sso_provider_dispose(out);
	return error_nomem("copying the provider's endpoints");
}

void sso_provider_dispose(struct sso_provider *p)
{
	free(p->authorization_endpoint);
	free(p->token_endpoint);
	free(p->jwks_uri);
	memset(p, 0, sizeof(*p));
}

/* ---- JWKS ---- */

bool sso_b64url_ok(const char *s, size_t len)
{
	if (len % 4 == 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

struct sso_keys *sso_keys_ref(struct sso_keys *k)
{
	atomic_fetch_add(&k->refs, 1);
	return k;
}

void sso_keys_unref(struct sso_keys *k)
{
	if (!k || atomic_fetch_sub(&k->refs, 1) != 1)
		return;
	for (size_t i = 0; i < k->n_keys; i++) {
		cjose_jwk_release(k->keys[i].jwk);
		free(k->keys[i].kid);
	}
	free(k->keys);
	free(k);
}

/* The key type of a JWK object, or SSO_KEY_NONE for one we do not use for signatures. */
static enum sso_key_type jwk_type(const json_t *jwk)
{
	const char *kty = str_member(jwk, "kty");
	const char *use = str_member(jwk, "use");
	const char *alg = str_member(jwk, "alg");
	const char *crv = str_member(jwk, "crv");

	if (!kty || (json_object_get(jwk, "use") && (!use || strcmp(use, "sig") != 0)))
		return SSO_KEY_NONE;
	if (strcmp(kty, "RSA") == 0 && (!alg || strcmp(alg, "RS256") == 0))
		return SSO_KEY_RSA;
	if (strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-256") == 0 &&
	    (!alg || strcmp(alg, "ES256") == 0))
		return SSO_KEY_P256;
	return SSO_KEY_NONE;
}

/*
 * Imports only the public members, so a JWKS that also carries private parts, certificates or
 * extensions never has cjose parse more than the key.
 */
static cjose_jwk_t *jwk_import_public(const json_t *jwk, enum sso_key_type type)
{
	static const char *const rsa[] = { "n", "e", NULL };
	static const char *const ec[] = { "x", "y", NULL };
	const char *const *names = type == SSO_KEY_RSA ? rsa : ec;
	json_t *pub = type == SSO_KEY_RSA ? json_pack("{s:s}", "kty", "RSA")
					  : json_pack("{s:s, s:s}", "kty", "EC", "crv", "P-256");
	cjose_jwk_t *key = NULL;
	cjose_err cerr;

	if (!pub)
		return NULL;
	for (size_t i = 0; names[i]; i++) {
		const char *v = str_member(jwk, names[i]);

		if (!v || !sso_b64url_ok(v, strlen(v)) ||
		    json_object_set_new(pub, names[i], json_string(v)) < 0)
			goto out;
	}
	key = cjose_jwk_import_json((cjose_header_t *)pub, &cerr);
out:
	json_decref(pub);
	return key;
}

/* An EC key's curve is the "crv" jwk_type checked: cjose imports it on that curve. */
static bool key_is_strong(cjose_jwk_t *key, enum sso_key_type type)
{
	cjose_err cerr;

	return type != SSO_KEY_RSA || cjose_jwk_get_keysize(key, &cerr) >= SSO_RSA_BITS_MIN;
}

/* Adds one JWK to k when it is a usable signing key; a key we cannot use is skipped. */
static int key_add(struct sso_keys *k, const json_t *jwk)
{
	enum sso_key_type type = jwk_type(jwk);
	const char *kid = str_member(jwk, "kid");
	struct sso_key *slot = &k->keys[k->n_keys];

	if (type == SSO_KEY_NONE || (json_object_get(jwk, "kid") && !kid) ||
	    (kid && strlen(kid) > SSO_KID_MAX))
		return 0;
	slot->jwk = jwk_import_public(jwk, type);
	if (!slot->jwk)
		return 0;
	if (!key_is_strong(slot->jwk, type)) {
		cjose_jwk_release(slot->jwk);
		slot->jwk = NULL;
		return 0;
	}
	if (kid && !(slot->kid = strdup(kid))) {
		cjose_jwk_release(slot->jwk);
		slot->jwk = NULL;
		return error_nomem("reading the provider's keys");
	}
	slot->type = type;
	k->n_keys++;
	return 0;
}

int sso_keys_parse(struct sso_keys **out, const char *json, size_t len)
{
	json_t *doc = load_object(json, len, "JWKS");
	const json_t *list = doc ? json_object_get(doc, "keys") : NULL;
	struct sso_keys *k = NULL;
	size_t n;
	int err = TRAWL_ECORRUPT;

	*out = NULL;
	if (!doc)
		return TRAWL_ECORRUPT;
	if (!json_is_array(list)) {
		error_set("the provider's JWKS has no \"keys\" array");
		goto out;
	}
	n = json_array_size(list);
	if (n > SSO_KEYS_MAX)
		n = SSO_KEYS_MAX;
	err = TRAWL_ENOMEM;
	k = calloc(1, sizeof(*k));
	if (!k || (n && !(k->keys = calloc(n, sizeof(*k->keys))))) {
		err = error_nomem("reading the provider's keys");
		goto out;
	}
	atomic_init(&k->refs, 1);
	for (size_t i = 0; i < n; i++) {
		const json_t *jwk = json_array_get(list, i);

		if (json_is_object(jwk) && (err = key_add(k, jwk)) < 0)
			goto out;
	}
	*out = k;
	k = NULL;
	err = 0;
out:
	if (k) {
		atomic_init(&k->refs, 1);
		sso_keys_unref(k);
	}
	json_decref(doc);
	return err;
}
