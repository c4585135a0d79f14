/*
 * TLS credentials served through libmicrohttpd's certificate callback (tls.h).
 *
 * DESIGN: MHD's MHD_OPTION_HTTPS_MEM_CERT/KEY fix the pair for the daemon's life; with
 * MHD_OPTION_HTTPS_CERT_CALLBACK GnuTLS asks for the pair in every handshake instead, and the
 * callback hands out the current one under a lock. GnuTLS keeps pointers to what the callback
 * returned for the session's life and MHD gives no hook from a session to its end, so a
 * replaced pair is never freed while the daemon runs: it stays on a list until
 * tls_creds_close. Reloads are an operator's act (SIGHUP), a few kilobytes each.
 */
#include "server/tls.h"

#include <limits.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/file.h"

/* The most certificates in --tls-cert's chain: the server's and its intermediates. */
#define TLS_MAX_CHAIN 16
#define TLS_MAX_FILE (1 << 20)

/*
 * T1: TLS 1.2 and 1.3 only, ECDHE key exchange (forward secrecy) and AEAD ciphers only, in
 * GnuTLS's priority syntax (libmicrohttpd's TLS is GnuTLS).
 */
static const char tls_priorities[] =
	"SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-CIPHER-ALL:"
	"+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD";

struct tls_pair {
	gnutls_pcert_st chain[TLS_MAX_CHAIN];
	unsigned n_chain;
	gnutls_privkey_t key;
	struct tls_pair *older; /* the pair this one replaced */
};

struct tls_creds {
	pthread_mutex_t lock;
	struct tls_pair *cur; /* served now; older ones hang off it */
	char *cert_path;
	char *key_path;
};

static _Atomic(struct tls_creds *) the_creds;

/* A file's bytes, wiped before they are freed (the key's must not linger). */
struct key_bytes {
	char *p;
	size_t len;
};

static void key_bytes_dispose(struct key_bytes *k)
{
	if (k->p)
		sodium_memzero(k->p, k->len);
	free(k->p);
	*k = (struct key_bytes){ .p = NULL };
}

/*
 * Reads the PEM file at path (named by flag in errors). Both files may be symlinks, as
 * certificate tools keep the live pair behind them; a FIFO or a device put in a file's place is
 * refused without blocking the signal thread that reloads it. SECURITY: a private key others
 * may read is not a private key: refuse to use it.
 */
static int read_pem(struct key_bytes *k, const char *flag, const char *path, bool is_private)
{
	struct stat st;
	int fd, err;

	if (file_open_regular(&fd, &st, path, false) < 0) {
		error_prefix("%s", flag);
		return TRAWL_EIO;
	}
	if (is_private && !file_is_private(&st)) {
		error_set("%s %s: readable or writable by its group or others (mode %04o, owner "
			  "uid %u): " FILE_PRIVATE_HINT,
			  flag, path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
		err = TRAWL_EPERM;
	} else {
		err = file_read_fd(&k->p, &k->len, fd, path, TLS_MAX_FILE);
	}
	close(fd);
	return err;
}

static void pair_free(struct tls_pair *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->n_chain; i++)
		gnutls_pcert_deinit(&p->chain[i]);
	if (p->key)
		gnutls_privkey_deinit(p->key);
	free(p);
}

/* GnuTLS's own check that the key is the certificate's (GNUTLS_E_CERTIFICATE_KEY_MISMATCH). */
static int check_match(const gnutls_datum_t *cert, const gnutls_datum_t *key,
		       const struct tls_creds *c)
{
	gnutls_certificate_credentials_t probe;
	int rc;

	if (gnutls_certificate_allocate_credentials(&probe) < 0)
		return error_nomem("checking the TLS key");
	rc = gnutls_certificate_set_x509_key_mem2(probe, cert, key, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(probe);
	if (rc < 0) {
		error_set("--tls-cert %s with --tls-key %s: %s", c->cert_path, c->key_path,
			  gnutls_strerror(rc));
		return TRAWL_EINVAL;
	}
	return 0;
}

static int pair_import(struct tls_pair *p, const gnutls_datum_t *cert, const gnutls_datum_t *key,
		       const struct tls_creds *c)
{
	int rc;

	p->n_chain = TLS_MAX_CHAIN;
	rc = gnutls_pcert_list_import_x509_raw(p->chain, &p->n_chain, cert, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0) {
		p->n_chain = 0;
		error_set("--tls-cert %s: %s (at most %d certificates)", c->cert_path,
			  gnutls_strerror(rc), TLS_MAX_CHAIN);
		return TRAWL_EINVAL;
	}
	if (gnutls_privkey_init(&p->key) < 0)
		return error_nomem("reading the TLS key");
	rc = gnutls_privkey_import_x509_raw(p->key, key, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		error_set("--tls-key %s: %s", c->key_path, gnutls_strerror(rc));
		return TRAWL_EINVAL;
	}
	return 0;
}

/* Reads c's two files into a new, checked pair. */
static int pair_load(struct tls_pair **out, const struct tls_creds *c)
{
	struct tls_pair *p = NULL;
	struct key_bytes cb = { .p = NULL }, kb = { .p = NULL };
	gnutls_datum_t cd, kd;
	int err;

	*out = NULL;
	if ((err = read_pem(&cb, "--tls-cert", c->cert_path, false)) < 0 ||
	    (err = read_pem(&kb, "--tls-key", c->key_path, true)) < 0)
		goto out;
	if (cb.len > UINT_MAX || kb.len > UINT_MAX) {
		err = TRAWL_ELIMIT;
		goto out;
	}
	cd = (gnutls_datum_t){ .data = (unsigned char *)cb.p, .size = (unsigned)cb.len };
	kd = (gnutls_datum_t){ .data = (unsigned char *)kb.p, .size = (unsigned)kb.len };
	if ((err = check_match(&cd, &kd, c)) < 0)
		goto out;
	if (!(p = calloc(1, sizeof(*p)))) {
		error_nomem("reading the TLS certificate");
		err = TRAWL_ENOMEM;
		goto out;
	}
	if ((err = pair_import(p, &cd, &kd, c)) < 0)
		goto out;
	*out = p;
	p = NULL; /* transferred */
out:
	pair_free(p);
	key_bytes_dispose(&kb);
	key_bytes_dispose(&cb);
	return err;
}

/* gnutls_certificate_retrieve_function2: the current pair, for every handshake. */
static int retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int n_req_ca_dn,
		    const gnutls_pk_algorithm_t *pk_algos, int n_pk_algos, gnutls_pcert_st **chain,
		    unsigned int *n_chain, gnutls_privkey_t *key)
{
	struct tls_creds *c = atomic_load(&the_creds);

	(void)session;
	(void)req_ca_dn;
	(void)n_req_ca_dn;
	(void)pk_algos;
	(void)n_pk_algos;
	if (!c)
		return -1;
	pthread_mutex_lock(&c->lock);
	*chain = c->cur->chain;
	*n_chain = c->cur->n_chain;
	*key = c->cur->key;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int tls_creds_open(struct tls_creds **out, const char *cert_path, const char *key_path)
{
	struct tls_creds *c = NULL, *none = NULL;
	int err;

	*out = NULL;
	if (MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK) != MHD_YES) {
		error_set("--tls-cert: this libmicrohttpd has no TLS certificate callback");
		return TRAWL_EINVAL;
	}
	if (!(c = calloc(1, sizeof(*c))))
		return error_nomem("reading the TLS certificate");
	pthread_mutex_init(&c->lock, NULL);
	if (!(c->cert_path = strdup(cert_path)) || !(c->key_path = strdup(key_path))) {
		err = error_nomem("reading the TLS certificate");
		goto out;
	}
	if ((err = pair_load(&c->cur, c)) < 0)
		goto out;
	if (!atomic_compare_exchange_strong(&the_creds, &none, c)) {
		error_set("--tls-cert: TLS credentials are already open in this process");
		err = TRAWL_EINVAL;
		goto out;
	}
	*out = c;
	c = NULL; /* transferred */
out:
	tls_creds_close(c);
	return err;
}

int tls_creds_reload(struct tls_creds *c)
{
	struct tls_pair *p = NULL;
	int err;

	if ((err = pair_load(&p, c)) < 0)
		return err;
	pthread_mutex_lock(&c->lock);
	p->older = c->cur;
	c->cur = p;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void tls_creds_options(struct MHD_OptionItem *opts, struct tls_creds *c)
{
	(void)c; /* the callback finds it through the_creds */
	opts[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)retrieve };
	opts[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)tls_priorities };
	opts[2] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
}

void tls_creds_close(struct tls_creds *c)
{
	struct tls_creds *self;

	if (!c)
		return;
	self = c;
	atomic_compare_exchange_strong(&the_creds, &self, NULL);
	while (c->cur) {
		struct tls_pair *older = c->cur->older;

		pair_free(c->cur);
		c->cur = older;
	}
	pthread_mutex_destroy(&c->lock);
	free(c->cert_path);
	free(c->key_path);
	free(c);
}
