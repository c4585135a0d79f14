/*
 * Fuzz target for the credentials file (src/git/url.c gurl_creds_find), which the fetch reads
 * for every authenticated repository: "PREFIX USER SECRET" lines. The first line of the input
 * is the URL being fetched, the rest the file. Checks: never a crash or a read past the text;
 * a match is two non-empty fields of the file without blanks, and its prefix really is a
 * prefix of the URL (same scheme, host and port).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "git/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const urls[] = {
	"https://git.example.com/org/repo.git",
	"ssh://git@git.example.com:2222/org/repo.git",
	"git@github.com:org/repo.git",
	"http://127.0.0.1:7000/x",
};

static void try_url(const char *url, const char *file, size_t len)
{
	static const struct gurl_policy any = { true, true, true };
	char *text = malloc(len + 1), *user, *secret;
	struct gurl u;

	if (!text)
		return;
	memcpy(text, file, len);
	text[len] = '\0';
	if (gurl_creds_find(&user, &secret, text, url)) {
		if (!user || !secret || !user[0] || !secret[0] || strpbrk(user, " \t\r\n") ||
		    strpbrk(secret, " \t\r\n"))
			abort();
		if (user < text || secret < text || user >= text + len || secret >= text + len)
			abort(); /* pointers into the file */
		if (gurl_parse(&u, url, &any) < 0 || u.kind == GURL_LOCAL)
			abort(); /* a match needs a URL with a host */
		gurl_dispose(&u);
	} else if (user || secret) {
		abort();
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	char *url;

	/* The first line is the URL (when it holds no NUL), the rest the credentials file. */
	if (nl && !memchr(data, '\0', (size_t)(nl - (const char *)data))) {
		url = strndup((const char *)data, (size_t)(nl - (const char *)data));
		if (url) {
			try_url(url, nl + 1, size - (size_t)(nl + 1 - (const char *)data));
			free(url);
		}
	}
	for (size_t i = 0; i < sizeof(urls) / sizeof(*urls); i++)
		try_url(urls[i], (const char *)data, size);
	return 0;
}
