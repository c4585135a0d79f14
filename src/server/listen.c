/*
 * Where the server listens and which Host it answers: the --listen and --external-url values,
 * and the start-up check that keeps a server off the network until it is safe to put it there.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/route.h"
#include "server/server.h"
#include "util/error.h"

bool server_addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

int server_listen_parse(struct server_config *cfg, const char *listen)
{
	char host[256];
	const char *colon, *port_s;
	unsigned long port;
	char *end;
	size_t hlen;

	if (listen[0] == '[') {
		const char *rb = strchr(listen, ']');

		if (!rb || rb[1] != ':')
			goto bad;
		hlen = (size_t)(rb - listen - 1);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, listen + 1, hlen);
		port_s = rb + 2;
	} else {
		if (!(colon = strrchr(listen, ':')) || (size_t)(colon - listen) >= sizeof(host))
			goto bad;
		hlen = (size_t)(colon - listen);
		memcpy(host, listen, hlen);
		port_s = colon + 1;
	}
	host[hlen] = 0;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (!*port_s || *end || errno || port > 65535)
		goto bad;
	if (hlen == 0 || strcmp(host, "localhost") == 0)
		memcpy(host, "127.0.0.1", sizeof("127.0.0.1"));
	memset(&cfg->addr, 0, sizeof(cfg->addr));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&cfg->addr;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			goto bad;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		cfg->addr_len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&cfg->addr;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			goto bad;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		cfg->addr_len = sizeof(*a4);
	}
	cfg->is_loopback = server_addr_is_loopback((struct sockaddr *)&cfg->addr);
	return 0;
bad:
	error_set("--listen: expected HOST:PORT, [IPV6]:PORT or :PORT, got \"%s\"", listen);
	return TRAWL_EINVAL;
}

int server_external_url_parse(struct server_config *cfg, const char *url)
{
	const char *host = url + sizeof("https://") - 1, *end;
	size_t n;

	cfg->external_host[0] = 0;
	if (strncasecmp(url, "https://", sizeof("https://") - 1) != 0) {
		error_set("--external-url %s: must start with https:// (the session cookie is sent "
			  "over TLS only)",
			  url);
		return TRAWL_EINVAL;
	}
	end = host + strcspn(host, "/?#@");
	n = (size_t)(end - host);
	if (*end == '?' || *end == '#' || *end == '@' || (*end == '/' && end[1]) || n == 0 ||
	    n > SERVER_HOST_MAX - 6) {
		error_set("--external-url %s: expected https://HOST or https://HOST:PORT, with no "
			  "user, path, query or fragment",
			  url);
		return TRAWL_EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		cfg->external_host[i] = (char)tolower((unsigned char)host[i]);
	cfg->external_host[n] = 0;
	/* Stored with its port, so that a Host with or without ":443" compares alike. */
	if (!route_host_split(cfg->external_host, NULL, NULL)) {
		error_set("--external-url %s: the host or port is malformed", url);
		cfg->external_host[0] = 0;
		return TRAWL_EINVAL;
	}
	if (!strchr(cfg->external_host[0] == '[' ? strchr(cfg->external_host, ']')
						 : cfg->external_host,
		    ':'))
		memcpy(cfg->external_host + n, ":443", sizeof(":443"));
	return 0;
}

int server_check_exposure(const struct server_config *cfg, bool has_admin)
{
	char missing[512] = "";
	size_t n = 0;

	if (cfg->is_loopback)
		return 0;
	/* SECURITY: every condition is named, so the operator fixes them all in one go. */
	if (!has_admin)
		n += (size_t)snprintf(missing + n, sizeof(missing) - n,
				      "%san enabled administrator "
				      "(trawl user add NAME --admin --data DIR)",
				      n ? "; " : "");
	if (!(cfg->tls_cert && cfg->tls_key) && cfg->n_proxies == 0)
		n += (size_t)snprintf(missing + n, sizeof(missing) - n,
				      "%sTLS (--tls-cert FILE "
				      "--tls-key FILE) or the reverse proxy in front of it "
				      "(--trusted-proxy CIDR)",
				      n ? "; " : "");
	if (!cfg->external_host[0])
		snprintf(missing + n, sizeof(missing) - n,
			 "%sthe name clients use (--external-url "
			 "https://HOST)",
			 n ? "; " : "");
	if (!missing[0])
		return 0;
	error_set("--listen: a non-loopback address needs %s", missing);
	return TRAWL_EPERM;
}

/* HOST:PORT, or [V6]:PORT, of addr. */
static void addr_put(char *out, size_t n, const struct sockaddr_storage *addr)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (addr->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)addr;

		inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
		snprintf(out, n, "[%s]:%u", host, (unsigned)ntohs(a6->sin6_port));
	} else {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)addr;

		inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
		snprintf(out, n, "%s:%u", host, (unsigned)ntohs(a4->sin_port));
	}
}

int server_listen_explain(const struct server_config *cfg)
{
	char where[INET6_ADDRSTRLEN + 16];
	int fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, why = 0;
	socklen_t len = cfg->addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						       : sizeof(struct sockaddr_in);

	addr_put(where, sizeof(where), &cfg->addr);
	/* The same SO_REUSEADDR as libmicrohttpd, so a socket in TIME_WAIT is not "in use". */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)&cfg->addr, len) != 0)
		why = errno;
	if (fd >= 0)
		close(fd);
	if (why == EADDRINUSE)
		error_set("%s is in use (another trawl serve?): stop it or choose another address "
			  "with --listen (make serve: SERVE_LISTEN=127.0.0.1:8081)", where);
	else if (why == EACCES || why == EPERM)
		error_set("cannot listen on %s: not permitted (ports below 1024 need privileges): "
			  "choose another address with --listen", where);
	else if (why == EADDRNOTAVAIL)
		error_set("cannot listen on %s: not an address of this machine: choose another with "
			  "--listen", where);
	else
		error_set("cannot listen on %s: %s: choose another address with --listen", where,
			  why ? strerror(why) : "refused by the HTTP library");
	return TRAWL_EIO;
}
