/*
 * The server's TLS certificate and key (--tls-cert, --tls-key), which `trawl serve` reloads on
 * SIGHUP without a restart. libmicrohttpd asks for the pair in each handshake through its
 * certificate callback (tls_creds_options), so a reload changes what new connections get;
 * connections already open keep the pair they started with.
 *
 * A reload reads and checks the new pair (the key private to its owner, both files parse, the
 * key belongs to the certificate) before it is swapped in: a bad pair is refused and the old
 * one stays. Thread-safe: the callback runs on MHD's threads, the reload on the signal thread.
 * One set of credentials per process (GnuTLS's callback carries no argument).
 */
#ifndef TRAWL_SERVER_TLS_H
#define TRAWL_SERVER_TLS_H

#include <microhttpd.h>

struct tls_creds;

/* The MHD options tls_creds_options fills: the callback, the priorities, the end. */
#define TLS_N_OPTIONS 3

/*
 * Reads and checks the pair at cert_path and key_path into *out, which becomes the process's
 * credentials. EIO, EPERM (a key others may read), EINVAL (a file that does not parse, or a key
 * that does not belong to the certificate), ENOMEM, ELIMIT (a file over 1 MiB); EINVAL too if
 * another tls_creds is open or libmicrohttpd has no certificate callback.
 */
int tls_creds_open(struct tls_creds **out, const char *cert_path, const char *key_path);

/*
 * Reads the same two paths again and, if the new pair passes tls_creds_open's checks, serves
 * it to the handshakes that start from now on. On failure the old pair stays and the error
 * (tls_creds_open's) says why. The pairs it replaces are kept, and their keys wiped, in
 * tls_creds_close: a handshake in progress may still hold them.
 */
int tls_creds_reload(struct tls_creds *c);

/* Fills opts (TLS_N_OPTIONS items) with the options that make MHD use c. */
void tls_creds_options(struct MHD_OptionItem *opts, struct tls_creds *c);

/* Frees c and every pair it held, after the daemon has stopped. NULL is a no-op. */
void tls_creds_close(struct tls_creds *c);

#endif
