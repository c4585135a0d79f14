/*
 * Fuzz target for what the OpenID Connect relying party parses from the provider (src/sso/):
 * the ID token's protected header and compact form (sso_jwt_parse, then sso_jwt_verify against
 * a fixed JWKS), its claims (sso_claims_check), a JWKS (sso_keys_parse) and a discovery
 * document (sso_provider_parse). The first byte picks which; the rest is the input.
 * Checks: never a crash or a read past the length; a refusal has a reason and a message and
 * leaves the identity empty; an accepted identity keeps every promise of sso.h (a valid user
 * name, a verified email in an allowed domain, bounded groups); a parsed header's algorithm is
 * RS256 or ES256; parsed endpoints are https.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "sso/sso_int.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One RSA and one EC P-256 public key (RFC 7517 appendix A.1). */
static const char jwks[] =
	"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"1\","
	"\"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4\","
	"\"y\":\"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM\"},"
	"{\"kty\":\"RSA\",\"kid\":\"2011-04-29\",\"e\":\"AQAB\",\"n\":"
	"\"0vx7agoebGcQSuuPiLJXZptN9nndrQ"
	"mbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn6"
	"4tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9"
	"c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-"
	"G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\"}]}";

static const char *const domains[] = { "example.com" };
static const struct sso_expect want = {
	.issuer = "https://idp.test",
	.client_id = "trawl",
	.nonce = "n0nce",
	.user_claim = "email",
	.groups_claim = "groups",
	.admin_group = "admins",
	.allowed_domains = domains,
	.n_allowed_domains = 1,
	.now_s = 1800000000,
	.skew_s = 60,
};

static void refused(const char *reason, const struct sso_identity *id)
{
	if (!reason || !error_last()[0] || id->user_name || id->groups || id->subject)
		abort();
}

static void accepted(const struct sso_identity *id)
{
	const char *at;

	if (!id->user_name || auth_name_check(id->user_name) < 0 || !id->email ||
	    strcmp(id->user_name, id->email) != 0 || !id->email_verified || !id->subject ||
	    id->n_groups > SSO_GROUPS_MAX || (id->n_groups && !id->groups))
		abort();
	at = strrchr(id->email, '@');
	if (!at || strcasecmp(at + 1, "example.com") != 0)
		abort();
	for (const char *p = id->email; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			abort();
	for (size_t i = 0; i < id->n_groups; i++)
		if (!id->groups[i][0] || strlen(id->groups[i]) > SSO_GROUP_NAME_MAX)
			abort();
	if (id->display_name && strlen(id->display_name) > AUTH_DISPLAY_MAX)
		abort();
}

static void fuzz_token(const char *s, size_t len, const struct sso_keys *keys)
{
	struct sso_jwt t;
	const char *reason = NULL;

	if (sso_jwt_parse(&t, &reason, s, len) < 0) {
		if (!reason || t.jws)
			abort();
		return;
	}
	if (t.type != SSO_KEY_RSA && t.type != SSO_KEY_P256)
		abort();
	/* A signature that verifies would be a forgery: no input holds the keys' private parts. */
	if (sso_jwt_verify(&reason, &t, keys) == 0 || !reason)
		abort();
	sso_jwt_dispose(&t);
}

static void fuzz_claims(const char *s, size_t len)
{
	struct sso_identity id;
	const char *reason = NULL;

	if (sso_claims_check(&id, &reason, s, len, &want) < 0) {
		refused(reason, &id);
		return;
	}
	if (reason)
		abort();
	accepted(&id);
	sso_identity_dispose(&id);
}

static void fuzz_provider(const char *s, size_t len)
{
	struct sso_provider p;

	if (sso_provider_parse(&p, s, len, want.issuer) < 0) {
		if (p.token_endpoint || !error_last()[0])
			abort();
		return;
	}
	if (strncasecmp(p.authorization_endpoint, "https://", 8) != 0 ||
	    strncasecmp(p.token_endpoint, "https://", 8) != 0 ||
	    strncasecmp(p.jwks_uri, "https://", 8) != 0)
		abort();
	sso_provider_dispose(&p);
}

static void fuzz_keys(const char *s, size_t len)
{
	struct sso_keys *k = NULL;

	if (sso_keys_parse(&k, s, len) < 0) {
		if (k)
			abort();
		return;
	}
	if (k->n_keys > SSO_KEYS_MAX)
		abort();
	for (size_t i = 0; i < k->n_keys; i++)
		if (k->keys[i].type != SSO_KEY_RSA && k->keys[i].type != SSO_KEY_P256)
			abort();
	sso_keys_unref(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sso_keys *keys;
	char *s;

	if (!keys && sso_keys_parse(&keys, jwks, strlen(jwks)) < 0)
		abort();
	if (size < 1)
		return 0;
	/* A copy of exactly the input's bytes: ASan catches a read past the length. */
	if (!(s = malloc(size - 1 ? size - 1 : 1)))
		return 0;
	memcpy(s, data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		fuzz_token(s, size - 1, keys);
		break;
	case 1:
		fuzz_claims(s, size - 1);
		break;
	case 2:
		fuzz_keys(s, size - 1);
		break;
	default:
		fuzz_provider(s, size - 1);
		break;
	}
	free(s);
	return 0;
}
