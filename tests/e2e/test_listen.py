#!/usr/bin/env python3
"""End-to-end tests of leaving loopback (docs/operations.md, "Listening beyond loopback",
"Reverse proxies", "Rate limits"; docs/security.md, "Transport and headers"): the conditions
of a non-loopback --listen, --external-url's Host, --trusted-proxy's X-Forwarded-For and
X-Forwarded-Proto (believed from the proxy only: R1), rate limits and the per-caller search
cap, the security headers on every route of the table (H2), and the mode the server says it
runs in. Clients connect from 127.0.0.1 and 127.0.0.2 (both loopback), so a proxy at
127.0.0.2 can be trusted while 127.0.0.1 is not. Output: TAP.

    python3 tests/e2e/test_listen.py [-k SUBSTRING]
"""
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import serverlib
from serverlib import ROOT, TRAWL, ok

ONLY = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else None
PASSWORD = "listen-e2e-passphrase-7"


def __getattr__(name):
    """test_listen.n and .fails: the shared TAP counters, for tests that print the plan."""
    if name in ("n", "fails"):
        return getattr(serverlib, name)
    raise AttributeError(name)


def q(s):
    return urllib.parse.quote(s, safe="")


class Server(serverlib.Server):
    """serverlib.Server with --sync-interval 0, request() from a chosen loopback address and
    logged()."""

    def __init__(self, data, *args, listen="127.0.0.1:0"):
        super().__init__(data, "--sync-interval", "0", *args, listen=listen)

    def request(self, path, method="GET", headers=None, body=None, source="127.0.0.1",
                keep=False):
        """status, headers (lower-case names), body; from the source address given. keep:
        (connection, response) with the body unread."""
        if not keep:
            return serverlib.request(self.port, method, path, body, headers, source)[:3]
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                       source_address=(source, 0))
        c.request(method, path, body=body, headers=headers or {})
        return c, c.getresponse()

    def logged(self, req_id):
        """The request log line of request id req_id (it is written when the request ends)."""
        deadline = time.time() + 5
        while time.time() < deadline:
            for line in self.logtext().splitlines():
                try:
                    js = json.loads(line)
                except ValueError:
                    continue
                if js.get("msg") == "request" and js.get("req") == req_id:
                    return js
            time.sleep(0.05)
        return {}


def run(*args, stdin=None):
    return subprocess.run([TRAWL] + list(args), input=stdin, capture_output=True, timeout=120)


def make_data(tmp, name, big=False):
    src = os.path.join(tmp, name + "-src")
    os.makedirs(src)
    with open(os.path.join(src, "a.txt"), "w") as f:
        f.write("hello listen\n")
    if big:
        # Enough matching lines that an unread stream fills its output and holds its slot.
        line = "filler text with the word bulk in it, and more filler to make it longer\n"
        for i in range(200):
            with open(os.path.join(src, "f%04d.txt" % i), "w") as f:
                f.write(line * 400)
    data = os.path.join(tmp, name)
    subprocess.run([TRAWL, "index", "-q", "-o", os.path.join(data, "index"), "--name", "proj",
                    "--worktree", src], check=True)
    return data


def make_team(tmp):
    """A data directory with an administrator and an admin token for it."""
    data = make_data(tmp, "team")
    p = run("user", "add", "admin", "--admin", "--password-stdin", "--data", data,
            stdin=(PASSWORD + "\n").encode())
    if p.returncode != 0:
        raise RuntimeError("user add: %s" % p.stderr.decode())
    p = run("token", "create", "admin", "--scope", "admin", "--data", data)
    token = p.stdout.decode().strip()
    if p.returncode != 0 or not token.startswith("trawl_"):
        raise RuntimeError("token create: %r %s" % (token, p.stderr.decode()))
    return data, token


def make_cert(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(key, 0o600)
    return cert, key


# ---- modes and the conditions of leaving loopback ----

def test_laptop_mode(tmp, laptop):
    s = Server(laptop)
    try:
        s.request("/healthz")
        log = s.logtext()
        ok("laptop mode: no accounts: open to this machine only" in log and
           "trawl user add NAME --admin --data %s" % laptop in log,
           "laptop mode is said on stderr, with how to create the first administrator", log[:600])
        ok(s.line.startswith("trawl: serving on http://127.0.0.1:") and "mode" not in s.line,
           "stdout carries only the URL line", s.line)
    finally:
        s.stop()
    cert, key = make_cert(tmp)
    for extra, desc in (([], "nothing"), (["--tls-cert", cert, "--tls-key", key], "TLS only")):
        p = run("serve", "--data", laptop, "--listen", "0.0.0.0:0", *extra)
        err = p.stderr.decode()
        ok(p.returncode == 2 and "administrator" in err and not p.stdout,
           "laptop mode, --listen 0.0.0.0:0 with %s: refused, an administrator is missing" % desc,
           err)
    p = run("serve", "--data", os.path.join(tmp, "none"), "--listen", "10.1.2.3:6070")
    err = p.stderr.decode()
    ok(p.returncode == 2 and "administrator" in err and "--tls-cert" in err and
       "--external-url" in err and not os.path.exists(os.path.join(tmp, "none")),
       "a missing data directory: refused off loopback before anything is created", err)


def test_exposure(tmp, team, token):
    cert, key = make_cert(tmp)
    cases = (
        ([], ["TLS", "--trusted-proxy", "--external-url"], "nothing"),
        (["--external-url", "https://code.example.com"], ["TLS", "--trusted-proxy"],
         "--external-url only"),
        (["--tls-cert", cert, "--tls-key", key], ["--external-url"], "TLS only"),
        (["--trusted-proxy", "10.0.0.0/8"], ["--external-url"], "--trusted-proxy only"),
    )
    for extra, missing, desc in cases:
        p = run("serve", "--data", team, "--listen", "0.0.0.0:0", *extra)
        err = p.stderr.decode()
        ok(p.returncode == 2 and all(m in err for m in missing) and "administrator" not in err,
           "team mode, --listen 0.0.0.0:0 with %s: refused, naming %s" % (desc, missing), err)
    s = Server(team, "--trusted-proxy", "127.0.0.2", "--external-url",
               "https://code.example.com", listen="0.0.0.0:0")
    try:
        ok("team mode: 1 account: every request must sign in" in s.logtext(),
           "team mode is said on stderr", s.logtext()[:600])
        st, h, body = s.request("/api/v1/repos", headers={"Host": "code.example.com"})
        ok(st == 401, "0.0.0.0 with an administrator, a proxy and --external-url: serves, "
           "and asks for credentials", st, body)
        st, h, body = s.request("/api/v1/repos", headers={
            "Host": "code.example.com", "Authorization": "Bearer " + token})
        ok(st == 200 and b"proj" in body, "... and a token reads", st, body[:300])
    finally:
        s.stop()


def test_external_url(laptop):
    s = Server(laptop, "--external-url", "https://Code.Example.com")
    try:
        for host, want in (("code.example.com", 200), ("CODE.example.com:443", 200),
                           ("localhost", 200), ("127.0.0.1:%d" % s.port, 200),
                           ("evil.example", 421), ("code.example.com:8443", 421),
                           ("code.example.com.evil.example", 421), ("example.com", 421)):
            st, h, body = s.request("/healthz", headers={"Host": host})
            ok(st == want and (want == 200 or b'"bad_host"' in body),
               "--external-url https://Code.Example.com: Host %s -> %d" % (host, want), st, body)
    finally:
        s.stop()
    p = run("serve", "--data", laptop, "--external-url", "http://code.example.com")
    ok(p.returncode == 2 and "https://" in p.stderr.decode(),
       "--external-url with http:// is refused", p.stderr)


# ---- trusted proxies and rate limits ----

def test_proxy_and_rate(laptop):
    s = Server(laptop, "--trusted-proxy", "127.0.0.2/32", "--rate-search", "1")
    try:
        # From 127.0.0.1, not a proxy: a new spoofed X-Forwarded-For every time. Were it
        # believed, each request would be a new client with a full bucket (4 at 1/s).
        statuses, clients = [], set()
        for i in range(20):
            st, h, body = s.request("/api/v1/search?q=hello", headers={
                "X-Forwarded-For": "203.0.113.%d" % (i + 1), "X-Forwarded-Proto": "https"})
            statuses.append(st)
            clients.add(s.logged(h.get("x-request-id")).get("client"))
            if st == 429:
                break
        ok(statuses[-1] == 429 and len(statuses) <= 8,
           "a spoofed X-Forwarded-For does not reset the search rate limit (R1)", statuses)
        ok(clients == {"127.0.0.1"}, "a spoofed X-Forwarded-For is not the logged client", clients)
        ok("strict-transport-security" not in h,
           "X-Forwarded-Proto: https from a non-proxy gives no HSTS", h)
        js = json.loads(body)
        ok(js["error"]["code"] == "rate_limited" and re.fullmatch(r"\d+", h.get("retry-after", ""))
           and "retry in %s s" % h["retry-after"] in js["error"]["message"] and
           h.get("content-type") == "application/json; charset=utf-8",
           "over the rate: 429 rate_limited, Retry-After, JSON", h, body)
        # Through the trusted proxy: its header names the client, counted apart.
        st, h, body = s.request("/api/v1/search?q=hello", source="127.0.0.2", headers={
            "X-Forwarded-For": "6.6.6.6, 198.51.100.7", "X-Forwarded-Proto": "https"})
        ok(st == 200, "from the trusted proxy, another client's search is allowed", st, body)
        ok(s.logged(h.get("x-request-id")).get("client") == "198.51.100.7",
           "from the trusted proxy, the client is the rightmost untrusted X-Forwarded-For hop",
           s.logged(h.get("x-request-id")))
        ok(h.get("strict-transport-security") == "max-age=31536000; includeSubDomains",
           "X-Forwarded-Proto: https from the trusted proxy gives HSTS", h)
        st, h, body = s.request("/healthz", source="127.0.0.2")
        ok(s.logged(h.get("x-request-id")).get("client") == "127.0.0.2",
           "from the proxy without X-Forwarded-For, the client is the proxy")
        # The limit is on searches only.
        st, h, body = s.request("/api/v1/repos")
        ok(st == 200, "the search rate does not limit other routes", st)
    finally:
        s.stop()


def test_signin_rate(laptop):
    s = Server(laptop, "--rate-signin", "2")
    try:
        sts = []
        for _ in range(3):
            st, h, body = s.request("/api/v1/session", method="POST", body=json.dumps(
                {"user": "nobody", "password": "wrong-password-123"}),
                headers={"Content-Type": "application/json"})
            sts.append(st)
        js = json.loads(body)
        ok(sts[-1] == 429 and sts[0] != 429 and js["error"]["code"] == "rate_limited" and
           "too many sign-in attempts" in js["error"]["message"] and h.get("retry-after"),
           "--rate-signin 2: the third sign-in request of an address gets 429", sts, body)
    finally:
        s.stop()


def test_token_rate(team, token):
    s = Server(team, "--rate-tokens", "2")
    try:
        sts = []
        for i in range(3):
            st, h, body = s.request("/api/v1/tokens", method="POST", body=json.dumps(
                {"name": "t%d" % i, "scope": "search"}), headers={
                    "Content-Type": "application/json", "Authorization": "Bearer " + token})
            sts.append(st)
        js = json.loads(body)
        ok(sts[:2] == [201, 201] and sts[2] == 429 and js["error"]["code"] == "rate_limited" and
           h.get("retry-after"), "--rate-tokens 2: the third token creation gets 429", sts, body)
    finally:
        s.stop()


def test_user_cap(big):
    s = Server(big, "--max-searches", "4", "--user-max-searches", "1")
    try:
        c, r = s.request("/api/v1/search/stream?q=" + q("bulk count:all"), keep=True)
        r.read(100)  # the stream runs, and holds its slot while nobody reads
        st, h, body = s.request("/api/v1/search?q=hello")
        js = json.loads(body)
        ok(st == 429 and js["error"]["code"] == "busy" and "your searches" in
           js["error"]["message"] and h.get("retry-after") == "1",
           "--user-max-searches 1: a caller's second search gets 429 at once", st, body)
        st, h, body = s.request("/api/v1/search?q=hello", source="127.0.0.2")
        ok(st == 200, "another caller still searches while the first one is at its cap", st)
        c.sock.shutdown(socket.SHUT_RDWR)
        c.close()
        deadline, st = time.time() + 15, 0
        while time.time() < deadline and st != 200:
            st = s.request("/api/v1/search?q=hello")[0]
            time.sleep(0.2)
        ok(st == 200, "the caller's slot is free again once its stream ended", st)
    finally:
        s.stop()


# ---- headers on every route (H2) ----

def route_paths():
    """The paths of the route table (src/server/handlers.c), as requests."""
    with open(os.path.join(ROOT, "src", "server", "handlers.c")) as f:
        text = f.read()
    table = text[text.index("const struct route server_routes[]"):]
    table = table[:table.index("};")]
    paths = []
    for pat in re.findall(r'\{\s*"([^"]*)"', table):
        path = "/" + pat.replace("{name}", "proj").replace("*", "x")
        if path not in paths:
            paths.append(path)
    return paths


def check_headers(h, api):
    missing = []
    for k, v in (("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer"),
                 ("cross-origin-opener-policy", "same-origin")):
        if h.get(k) != v:
            missing.append("%s: %r" % (k, h.get(k)))
    if api and h.get("cache-control") != "no-store":
        missing.append("cache-control: %r" % h.get("cache-control"))
    return missing


def sweep(s, paths, auth, api_only):
    """Every path with GET and POST: what is missing from each answer's headers."""
    bad = []
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    for path in paths:
        for method in ("GET", "POST"):
            st, h, body = s.request(path, method=method,
                                    body=b"{}" if method == "POST" else None, headers=headers)
            api = not api_only or path.startswith("/api/") or path in ("/healthz", "/metrics") \
                or st >= 400
            miss = check_headers(h, api)
            if miss:
                bad.append((method, path, st, miss))
    return bad


def test_header_sweep(laptop, team, token):
    paths = route_paths()
    ok(len(paths) >= 15 and "/api/v1/search" in paths and "/api/v1/session" in paths,
       "the sweep reads the route table (%d paths)" % len(paths), paths)
    s = Server(laptop)
    try:
        bad = sweep(s, paths, None, True)
        ok(not bad, "laptop mode: every route's answers carry nosniff, Referrer-Policy, COOP, "
           "and Cache-Control: no-store on API answers and errors", *bad)
    finally:
        s.stop()
    s = Server(team)
    try:
        bad = sweep(s, paths, "Bearer " + token, False)
        ok(not bad, "team mode with a token: every answer, pages and assets included, "
           "carries Cache-Control: no-store and the other headers", *bad)
    finally:
        s.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-listen.")
    try:
        laptop = make_data(tmp, "laptop")
        team, token = make_team(tmp)
        for name, fn in (("modes", lambda: test_laptop_mode(tmp, laptop)),
                         ("exposure", lambda: test_exposure(tmp, team, token)),
                         ("external", lambda: test_external_url(laptop)),
                         ("proxy", lambda: test_proxy_and_rate(laptop)),
                         ("signin", lambda: test_signin_rate(laptop)),
                         ("tokens", lambda: test_token_rate(team, token)),
                         ("cap", lambda: test_user_cap(make_data(tmp, "big", big=True))),
                         ("headers", lambda: test_header_sweep(laptop, team, token))):
            if not ONLY or ONLY in name:
                fn()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    serverlib.done()


if __name__ == "__main__":
    main()
