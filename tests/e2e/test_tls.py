#!/usr/bin/env python3
"""End-to-end tests of `trawl serve --tls-cert --tls-key` (docs/operations.md, "TLS"; T1, H2):
a self-signed certificate made with openssl in a temporary directory; TLS 1.2 and 1.3 with
forward-secret AEAD suites connect, TLS 1.0/1.1 and suites without forward secrecy or without
AEAD are refused by the server, plain HTTP on the TLS port gets no redirect, HSTS on every
response, and a private key others may read is refused. Output: TAP.

    python3 tests/e2e/test_tls.py
"""
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import warnings

import serverlib
from serverlib import TRAWL, ok
from test_listen import make_cert

HSTS = "max-age=31536000; includeSubDomains"


class TlsServer(serverlib.Server):
    """serverlib.Server with --sync-interval 0 and the certificate and key given."""

    def __init__(self, data, cert, key, *args):
        super().__init__(data, "--sync-interval", "0", "--tls-cert", cert, "--tls-key", key,
                         *args)


def client_ctx(version=None, ciphers=None, legacy=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if legacy:
        # Debian's OpenSSL refuses TLS < 1.2 at its default security level: lower it, so
        # that the refusal under test is the server's.
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    if ciphers:
        ctx.set_ciphers(ciphers + (":@SECLEVEL=0" if legacy else ""))
    if version:
        ctx.minimum_version = version
        ctx.maximum_version = version
    return ctx


def handshake(port, ctx):
    """(version, cipher) on success, else the exception."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        t = ctx.wrap_socket(s, server_hostname="localhost")
        out = (t.version(), t.cipher()[0])
        t.close()
        return out
    except (ssl.SSLError, OSError) as e:
        s.close()
        return e


def https_get(port, path, ctx=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t = (ctx or client_ctx()).wrap_socket(s, server_hostname="localhost")
    t.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" %
               (path, port)).encode())
    out = b""
    while True:
        chunk = t.recv(65536)
        if not chunk:
            break
        out += chunk
    t.close()
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    h = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        h[k.strip().lower()] = v.strip()
    return status, h, body


def make_data(tmp):
    src = os.path.join(tmp, "proj")
    os.makedirs(src)
    with open(os.path.join(src, "a.txt"), "w") as f:
        f.write("hello over tls\n")
    data = os.path.join(tmp, "data")
    subprocess.run([TRAWL, "index", "-q", "-o", os.path.join(data, "index"), "--name", "proj",
                    "--worktree", src], check=True)
    return data


def test_key_mode(data, cert, key):
    os.chmod(key, 0o640)
    p = subprocess.run([TRAWL, "serve", "--data", data, "--listen", "127.0.0.1:0",
                        "--tls-cert", cert, "--tls-key", key], capture_output=True, timeout=30)
    err = p.stderr.decode()
    ok(p.returncode == 2 and "--tls-key" in err and "chmod 600" in err and not p.stdout,
       "a key readable by its group is refused with a clear message", err)
    os.chmod(key, 0o600)
    p = subprocess.run([TRAWL, "serve", "--data", data, "--tls-cert", cert],
                       capture_output=True, timeout=30)
    ok(p.returncode == 2 and "--tls-key" in p.stderr.decode(),
       "--tls-cert without --tls-key is refused", p.stderr)


def test_versions(s):
    for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        r = handshake(s.port, client_ctx(version))
        ok(isinstance(r, tuple) and r[0] == name, "%s connects" % name, r)
    for version, name in ((ssl.TLSVersion.TLSv1_1, "TLS 1.1"), (ssl.TLSVersion.TLSv1, "TLS 1.0")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx = client_ctx(version, legacy=True)
        r = handshake(s.port, ctx)
        # The client offered it (SECLEVEL=0): "no protocols available" would be the client's
        # own refusal and prove nothing; the server answers with a protocol version alert.
        ok(isinstance(r, Exception) and "NO_PROTOCOLS_AVAILABLE" not in str(r).upper() and
           "no protocols available" not in str(r),
           "%s is refused by the server (%s)" % (name, r), r)
    # openssl s_client as a second client: the handshake fails on the server's side.
    for flag in ("-tls1_1", "-tls1"):
        p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.port, flag,
                            "-cipher", "ALL:@SECLEVEL=0"], input=b"", capture_output=True,
                           timeout=30)
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        # GnuTLS answers an old version by closing the connection: the client wrote its hello
        # (so it offered the version) and read nothing back.
        m = re.search(r"handshake has read (\d+) bytes and written (\d+) bytes", out)
        ok(p.returncode != 0 and m and int(m.group(2)) > 0 and "Cipher is (NONE)" in out,
           "openssl s_client %s: offered, and the server ends the handshake" % flag,
           out[-800:])


def test_suites(s):
    for suite in ("AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA",
                  "ECDHE-RSA-AES256-SHA384", "DHE-RSA-AES128-GCM-SHA256"):
        r = handshake(s.port, client_ctx(ssl.TLSVersion.TLSv1_2, suite, legacy=True))
        ok(isinstance(r, Exception) and "NO_CIPHERS_AVAILABLE" not in str(r).upper(),
           "TLS 1.2 with %s only (no forward secrecy or no AEAD) is refused (%s)" % (suite, r), r)
    for suite in ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                  "ECDHE-RSA-CHACHA20-POLY1305"):
        r = handshake(s.port, client_ctx(ssl.TLSVersion.TLSv1_2, suite))
        ok(isinstance(r, tuple) and r[1] == suite, "TLS 1.2 with %s connects" % suite, r)


def test_responses(s):
    st, h, body = https_get(s.port, "/healthz")
    ok(st == 200 and h.get("strict-transport-security") == HSTS,
       "HSTS on /healthz over TLS", st, h)
    for path in ("/api/v1/search?q=hello", "/nope", "/", "/api/v1/nope"):
        st, h, body = https_get(s.port, path)
        ok(h.get("strict-transport-security") == HSTS and h.get("x-content-type-options") ==
           "nosniff", "HSTS and nosniff on %s (%d)" % (path, st), h)
    st, h, body = https_get(s.port, "/api/v1/search?q=hello")
    ok(st == 200 and b"hello over tls" in body, "a search over TLS finds its line", body[:300])
    # Plain HTTP to the TLS port: never a redirect to https (T1), nothing served in clear.
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    c.sendall(b"GET /api/v1/search?q=hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    out = b""
    try:
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    c.close()
    ok(not re.match(rb"HTTP/1\.[01] 3\d\d", out) and b"Location" not in out and
       b"hello over tls" not in out, "plain HTTP on the TLS port: no redirect, no data", out[:200])
    ok(re.search(r"https://127\.0\.0\.1:\d+/", s.line) is not None,
       "the URL line says https", s.line)


def test_plain_has_no_hsts(data):
    s = serverlib.Server(data, "--sync-interval", "0")
    try:
        c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        out = c.recv(65536)
        c.close()
        ok(b" 200 " in out.split(b"\r\n")[0] and b"Strict-Transport-Security" not in out,
           "plain HTTP: no HSTS (a browser would pin a name to https for a year)", out[:400])
    finally:
        s.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-tls.")
    try:
        cert, key = make_cert(tmp)
        data = make_data(tmp)
        test_key_mode(data, cert, key)
        s = TlsServer(data, cert, key)
        try:
            test_versions(s)
            test_suites(s)
            test_responses(s)
            ok(s.stop() == 0, "SIGTERM stops the TLS server cleanly")
        finally:
            if s.p.poll() is None:
                s.stop()
        test_plain_has_no_hsts(data)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    serverlib.done()


if __name__ == "__main__":
    main()
