#!/usr/bin/env python3
"""End-to-end tests of `trawl serve --tls-cert --tls-key` (docs/operations.md, "TLS"; T1, H2):
a self-signed certificate made with openssl in a temporary directory; TLS 1.2 and 1.3 with
forward-secret AEAD suites connect, TLS 1.0/1.1 and suites without forward secrecy or without
AEAD are refused by the server, plain HTTP on the TLS port gets no redirect, HSTS on every
response, a private key others may read is refused, and SIGHUP reloads the certificate (a bad
new pair is refused and the old one kept; a FIFO in the key's place is refused without blocking
the server). Output: TAP.

    python3 tests/e2e/test_tls.py
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
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


def served_cert(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t = client_ctx().wrap_socket(s, server_hostname="localhost")
    der = t.getpeercert(binary_form=True)
    t.close()
    return der


def file_der(cert):
    with open(cert) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def put_pair(cert_src, key_src, cert, key, key_mode=0o600):
    for src, dst in ((cert_src, cert), (key_src, key)):
        shutil.copyfile(src, dst + ".new")
        os.replace(dst + ".new", dst)
    os.chmod(key, key_mode)


def sighup_and_wait(s, text):
    """Sends SIGHUP and waits for the next log line holding text; that line, or None."""
    before = s.logtext().count(text)
    s.p.send_signal(signal.SIGHUP)
    for _ in range(200):
        log = s.logtext()
        if log.count(text) > before:
            return [line for line in log.splitlines() if text in line][-1]
        time.sleep(0.05)
    return None


def open_keepalive(port):
    t = client_ctx().wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                                 server_hostname="localhost")
    return t


def get_on(t, path):
    """The status line of one request on the open connection t, its body read to the end."""
    t.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = t.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    while m and len(body) < int(m.group(1)):
        body += t.recv(65536)
    return head.split(b"\r\n")[0]


def test_reload(tmp, data):
    pairs = []
    for name in ("a", "b", "c"):
        d = os.path.join(tmp, "pair-" + name)
        os.makedirs(d)
        pairs.append(make_cert(d))
    (ca, ka), (cb, kb), (cc, kc) = pairs
    # Their own directory, as an operator keeps them: the server may read it (a directory that
    # holds DATA it may not: then only the files themselves, rewritten in place).
    live = os.path.join(tmp, "live")
    os.makedirs(live)
    cert, key = os.path.join(live, "live-cert.pem"), os.path.join(live, "live-key.pem")
    put_pair(ca, ka, cert, key)
    s = TlsServer(data, cert, key)
    try:
        ok(served_cert(s.port) == file_der(ca), "the first certificate is served")
        kept = open_keepalive(s.port)
        ok(get_on(kept, "/healthz").startswith(b"HTTP/1.1 200"), "a kept-alive connection")
        put_pair(cb, kb, cert, key)
        line = sighup_and_wait(s, "reloaded")
        ok(line is not None, "SIGHUP: the reload is logged", s.logtext()[-600:])
        ok(served_cert(s.port) == file_der(cb), "after SIGHUP new connections get the new one")
        ok(get_on(kept, "/healthz").startswith(b"HTTP/1.1 200"),
           "a connection opened before the reload goes on with the old certificate")
        ok(kept.getpeercert(binary_form=True) == file_der(ca),
           "... and it is still the old certificate")
        kept.close()
        with open(kc) as f:
            other_key = f.read()
        bad = os.path.join(tmp, "bad-key.pem")
        with open(bad, "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
        for cert_src, key_src, mode, what, detail in (
                (cb, kc, 0o600, "a key that is not the certificate's", "--tls-cert"),
                (cb, bad, 0o600, "a key that does not parse", "--tls-key"),
                (cc, kc, 0o644, "a key others may read", "chmod 600"),
                (bad, kb, 0o600, "a certificate that does not parse", "--tls-cert")):
            put_pair(cert_src, key_src, cert, key, mode)
            line = sighup_and_wait(s, "refused")
            ok(line is not None and '"level":"error"' in line and detail in line and
               "previous ones are still served" in line,
               "SIGHUP with %s: refused with a clear log line" % what, line)
            ok(served_cert(s.port) == file_der(cb),
               "SIGHUP with %s: the previous certificate is still served" % what)
        ok(other_key.split("\n")[1] not in s.logtext(), "no key material in the log")
        put_pair(cc, kc, cert, key)
        ok(sighup_and_wait(s, "reloaded") is not None and served_cert(s.port) == file_der(cc),
           "a good pair after refused ones is taken")
        ok(s.p.poll() is None and s.stop() == 0, "the server ran on and stops cleanly")
    finally:
        if s.p.poll() is None:
            s.stop()


def test_fifo_key(tmp, data):
    """A FIFO in the key's place, at start-up and at a reload: opening it to read would wait
    for a writer forever (and a blocked signal thread would leave SIGTERM unheard)."""
    d = os.path.join(tmp, "pair-fifo")
    os.makedirs(d)
    cert_src, key_src = make_cert(d)
    cert, key = os.path.join(d, "live-cert.pem"), os.path.join(d, "live-key.pem")
    os.mkfifo(key, 0o600)
    shutil.copyfile(cert_src, cert)
    p = subprocess.run([TRAWL, "serve", "--data", data, "--listen", "127.0.0.1:0",
                        "--tls-cert", cert, "--tls-key", key], capture_output=True, timeout=30)
    err = p.stderr.decode()
    ok(p.returncode == 2 and "--tls-key" in err and key in err and "a FIFO" in err,
       "a FIFO given as the key at start-up is refused, naming it", p.returncode, err)
    put_pair(cert_src, key_src, cert, key)
    cert_link = os.path.join(d, "cert-link.pem")
    os.symlink("live-cert.pem", cert_link)
    s = TlsServer(data, cert_link, key)
    try:
        ok(served_cert(s.port) == file_der(cert_src),
           "a certificate given through a symbolic link is served (certbot's live/ holds one)")
        os.unlink(key)
        os.mkfifo(key, 0o600)
        line = sighup_and_wait(s, "refused")
        ok(line is not None and '"level":"error"' in line and key in line and
           "a FIFO, not a regular file" in line,
           "SIGHUP with a FIFO in the key's place: refused, the log names the path and what "
           "it is", line, s.logtext()[-600:])
        ok(served_cert(s.port) == file_der(cert_src),
           "... the previous certificate is still served")
        ok(s.stop() == 0, "... and SIGTERM still stops the server (not killed)", s.p.returncode)
    finally:
        if s.p.poll() is None:
            s.stop()


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
        test_reload(tmp, data)
        test_fifo_key(tmp, data)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    serverlib.done()


if __name__ == "__main__":
    main()
