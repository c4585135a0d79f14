#!/usr/bin/env python3
"""End-to-end tests of the server's accounts (docs/api.md, "Authentication", "Session",
"Tokens"; docs/security.md, "Requests"): laptop mode unchanged; team mode's 401 with
WWW-Authenticate; signing in and its cookie (S3), session fixation (S2), signing out and replay
(S5), tokens only in the Authorization header (A10), CSRF (C1), token scopes, revoked and
expired tokens, a password change ending sessions and tokens, request bodies (Z6, sizes, media
type), the readable set and index-wide counts, and the search audit. Users and tokens are made
with the CLI. User enumeration by answer and time (A8) and the sign-in threads' bound (F2)
compare times: they are in test_auth_timing.py, which runs alone (tests/run.sh's "serial"), so
that this file can run beside other tests. Output: TAP.

    python3 tests/e2e/test_auth_serve.py [-k SUBSTRING]
"""
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import test_serve as ts
from test_serve import ok, Server, TRAWL

ONLY = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else None
PW = "a long enough test password 1"
CANARY = "zq9canaryprivate"
UNAUTH = {"error": {"code": "unauthorized",
                    "message": "sign in, or send an API token in Authorization: Bearer"}}
COOKIE = "__Host-trawl_session"


def cli(*args, stdin=None):
    p = subprocess.run([TRAWL] + list(args), input=stdin, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("trawl %s: %s" % (args, p.stderr.decode()))
    return p.stdout.decode()


def request(s, method, path, body=None, headers=None, source=None):
    """One request on its own connection: (status, headers, body bytes, [Set-Cookie...])."""
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60,
                                   source_address=(source, 0) if source else None)
    h = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    out = r.read()
    c.close()
    hs = {k.lower(): v for k, v in r.getheaders()}
    return r.status, hs, out, r.msg.get_all("Set-Cookie") or []


def jbody(b):
    try:
        return json.loads(b)
    except ValueError:
        return None


def bearer(tok):
    return {"Authorization": "Bearer " + tok}


def cookie_of(set_cookies):
    for sc in set_cookies:
        if sc.startswith(COOKIE + "="):
            return sc.split(";")[0].split("=", 1)[1]
    return None


def sign_in(s, user, pw=PW, headers=None, source=None):
    st, h, b, sc = request(s, "POST", "/api/v1/session", {"user": user, "password": pw},
                           headers, source)
    j = jbody(b) or {}
    return st, cookie_of(sc), j.get("csrf_token"), sc, j


def session_headers(cookie, csrf=None):
    h = {"Cookie": "%s=%s" % (COOKIE, cookie)}
    if csrf:
        h["X-CSRF-Token"] = csrf
    return h


def make_data(tmp, name):
    """DATA with an index of two repositories: pub (public) and secret (holds the canary)."""
    root = os.path.join(tmp, name)
    data = os.path.join(root, "data")
    for repo, text in (("pub", "shared needle in pub\n"),
                       ("secret", "shared needle in secret %s\n" % CANARY)):
        src = os.path.join(root, repo)
        os.makedirs(src)
        with open(os.path.join(src, "f.txt"), "w") as f:
            f.write(text)
        subprocess.run([TRAWL, "index", "-o", os.path.join(data, "index"), "--name", repo, src],
                       check=True, stdout=subprocess.DEVNULL)
    return data


def test_laptop(tmp):
    data = make_data(tmp, "laptop")
    s = Server(data, "--sync-interval", "0")
    try:
        st, h, b, _ = request(s, "GET", "/api/v1/me")
        j = jbody(b) or {}
        ok(st == 200 and j.get("auth") == "local" and j.get("mode") == "laptop"
           and j.get("is_admin") is True, "laptop: /api/v1/me is the local user", st, b)
        st, h, b, _ = request(s, "GET", "/api/v1/search?q=" + CANARY)
        j = jbody(b) or {}
        ok(st == 200 and len(j.get("results", [])) == 1, "laptop: every repository is read",
           st, b)
        st, h, b, _ = request(s, "GET", "/healthz")
        ok(st == 200 and (jbody(b) or {}).get("repos") == 2, "laptop: /healthz has details", b)
        st, h, b, _ = request(s, "GET", "/metrics")
        ok(st == 200 and b"trawl_shards" in b, "laptop: /metrics answers", st)
        st, h, b, _ = request(s, "POST", "/api/v1/session", {"user": "x", "password": PW})
        ok(st == 401, "laptop: nobody signs in without accounts", st, b)
        ok(not os.path.exists(os.path.join(data, "audit", "audit.log")) or
           b"search" not in open(os.path.join(data, "audit", "audit.log"), "rb").read(),
           "laptop: searches are not audited")
    finally:
        s.stop()


def test_anonymous(s):
    for path in ("/api/v1/search?q=needle", "/api/v1/search/stream?q=needle", "/api/v1/repos",
                 "/api/v1/repos/pub", "/api/v1/repos/pub/tree", "/api/v1/filters",
                 "/api/v1/me", "/api/v1/tokens", "/metrics"):
        st, h, b, _ = request(s, "GET", path)
        ok(st == 401 and jbody(b) == UNAUTH and
           h.get("www-authenticate") == 'Bearer realm="trawl"',
           "team: anonymous %s is a 401 with WWW-Authenticate" % path, st, h, b)
        ts.check_headers("401 of " + path, h)
    st, h, b, _ = request(s, "GET", "/api/v1/nothing")
    ok(st == 404 and jbody(b) == {"error": {"code": "not_found", "message": "not found"}},
       "team: an unknown API path is a bare 404 to anyone", st, b)
    st, h, b, _ = request(s, "GET", "/healthz")
    ok(st == 200 and jbody(b) == {"status": "ok"}, "team: /healthz says only ok", b)
    for path in ("/", "/search", "/account/tokens", "/admin/users"):
        st, h, b, _ = request(s, "GET", path)
        ok(st == 200 and h.get("content-type", "").startswith("text/html"),
           "team: the page %s is served to everyone" % path, st)
    # A stale cookie does not keep a browser from the page or from signing in.
    stale = session_headers("A" * 43)
    st, h, b, _ = request(s, "GET", "/", headers=stale)
    ok(st == 200, "team: a stale cookie still gets the page", st)
    st, h, b, _ = request(s, "GET", "/api/v1/me", headers=stale)
    ok(st == 401, "team: a stale cookie is a 401 on /api/v1/me", st)


def test_sign_in(s):
    forged = "B" * 43
    st, cookie, csrf, sc, j = sign_in(s, "alice", headers=session_headers(forged))
    ok(st == 200 and cookie and csrf and j.get("user", {}).get("name") == "alice"
       and j["user"].get("auth") == "session", "sign-in: 200 with the user and a CSRF token",
       st, j)
    attrs = [a.strip() for a in (sc[0] if sc else "").split(";")]
    ok(len(sc) == 1 and "Path=/" in attrs and "HttpOnly" in attrs and "Secure" in attrs
       and "SameSite=Strict" in attrs and "Max-Age=43200" in attrs
       and not any(a.lower().startswith("domain") for a in attrs) and len(sc[0]) < 4096,
       "S3: the cookie is __Host-, Secure, HttpOnly, SameSite=Strict, Path=/, no Domain", sc)
    ok(cookie != forged, "S2: the session id is new at sign-in, not the one sent")
    st, h, b, _ = request(s, "GET", "/api/v1/me", headers=session_headers(forged))
    ok(st == 401, "S2: the cookie sent before sign-in is not adopted", st, b)
    st2, cookie2, _, _, _ = sign_in(s, "alice")
    ok(st2 == 200 and cookie2 != cookie, "S2: every sign-in makes a new session id")
    st, h, b, _ = request(s, "GET", "/api/v1/me", headers=session_headers(cookie))
    j = jbody(b) or {}
    ok(st == 200 and j.get("name") == "alice" and j.get("display_name") == "Alice"
       and j.get("mode") == "team" and j.get("scopes") == ["search"] and j.get("csrf_token") == csrf
       and j.get("is_admin") is False, "/api/v1/me: the session's user", st, b)
    # S5: sign out, then replay.
    st, h, b, sc = request(s, "DELETE", "/api/v1/session", headers=session_headers(cookie, csrf))
    ok(st == 204 and sc and sc[0].startswith(COOKIE + "=;") and "Max-Age=0" in sc[0],
       "sign-out: 204 and the cookie cleared", st, sc, b)
    for c in (cookie, cookie2):
        st, h, b, _ = request(s, "GET", "/api/v1/me", headers=session_headers(c))
        ok(st == 401, "S5: a session cookie replayed after sign-out is a 401", st)


def test_a8(s):
    """The same answer and (within noise) the same time for an unknown user and a wrong
    password. Each try comes from its own loopback address, so the address throttle stays out
    of the way, and the wrong passwords are spread over three accounts."""
    tries = 15
    unknown, wrong, answers = [], [], set()
    for i in range(2 * tries):
        is_unknown = i % 2 == 0
        user = "nobody%d" % i if is_unknown else ("alice", "root", "bob")[i % 3]
        t0 = time.monotonic()
        st, h, b, sc = request(s, "POST", "/api/v1/session", {"user": user, "password": "x" * 12},
                               source="127.0.0.%d" % (10 + i))
        (unknown if is_unknown else wrong).append(time.monotonic() - t0)
        hs = tuple(sorted((k, v) for k, v in h.items() if k not in ("x-request-id", "date")))
        answers.add((st, b, hs, tuple(sc)))
    ok(len(answers) == 1, "A8: unknown user and wrong password get one answer", *answers)
    st, b = next(iter(answers))[:2]
    ok(st == 401 and jbody(b) == {"error": {"code": "unauthorized",
                                             "message": "wrong user name or password"}},
       "A8: the answer is the contract's 401", st, b)
    mu, mw = statistics.median(unknown), statistics.median(wrong)
    ok(abs(mu - mw) < 0.5 * max(mu, mw) + 0.05,
       "A8: median sign-in times are close (unknown %.3f s, wrong %.3f s)" % (mu, mw))


def test_a10(s, search_tok):
    for q in ("access_token=" + search_tok, "token=" + search_tok):
        st, h, b, _ = request(s, "GET", "/api/v1/search?q=needle&" + q)
        ok(st == 400, "A10: a token in the URL (%s) is refused" % q.split("=")[0], st, b)
        st, h, b, _ = request(s, "GET", "/api/v1/repos?" + q, headers=bearer(search_tok))
        ok(st == 400, "A10: an extra URL parameter is refused with a header token too", st)
    st, h, b, _ = request(s, "GET", "/api/v1/search?q=needle", headers=bearer(search_tok))
    ok(st == 200, "A10: the same token in Authorization works", st, b)
    log = s.logtext()
    ok(search_tok not in log and search_tok[6:20] not in log,
       "A10: no token reaches the log, even from a refused URL")


def test_csrf(s):
    st, cookie, csrf, _, _ = sign_in(s, "alice")
    body = {"name": "ci"}
    for desc, extra in (("without X-CSRF-Token", {}),
                        ("with a wrong X-CSRF-Token", {"X-CSRF-Token": "C" * 43})):
        h = session_headers(cookie)
        h.update(extra)
        st, _, b, _ = request(s, "POST", "/api/v1/tokens", body, h)
        ok(st == 403 and (jbody(b) or {}).get("error", {}).get("code") == "forbidden",
           "C1: a cookie POST %s is a 403" % desc, st, b)
    for desc, extra in (("a foreign Origin", {"Origin": "https://evil.example"}),
                        ("Sec-Fetch-Site: cross-site", {"Sec-Fetch-Site": "cross-site"}),
                        ("Origin null", {"Origin": "null"})):
        h = session_headers(cookie, csrf)
        h.update(extra)
        st, _, b, _ = request(s, "POST", "/api/v1/tokens", body, h)
        ok(st == 403 and jbody(b) == {"error": {"code": "forbidden",
                                                 "message": "cross-origin request refused"}},
           "C1: %s is a 403" % desc, st, b)
        st, _, b, _ = request(s, "POST", "/api/v1/session", {"user": "alice", "password": PW},
                              extra)
        ok(st == 403, "C1: signing in with %s is a 403" % desc, st)
    h = session_headers(cookie, csrf)
    h.update({"Origin": "http://127.0.0.1:%d" % s.port, "Sec-Fetch-Site": "same-origin"})
    st, _, b, _ = request(s, "POST", "/api/v1/tokens", body, h)
    ok(st == 201, "C1: a same-origin POST with the CSRF token is admitted", st, b)
    # A form cannot send JSON: another media type is refused before the handler.
    h = session_headers(cookie, csrf)
    h["Content-Type"] = "application/x-www-form-urlencoded"
    st, _, b, _ = request(s, "POST", "/api/v1/tokens", b"name=ci", h)
    ok(st == 415, "a form-encoded body is a 415", st, b)
    return cookie, csrf


def test_bodies(s, cookie, csrf):
    h = session_headers(cookie, csrf)
    for body, word in (({"name": "ci", "is_admin": True}, "is_admin"),
                       ({"name": 3}, "name"), ({"expires_days": "9"}, "expires_days"),
                       ({"scope": "root"}, "scope")):
        st, _, b, _ = request(s, "POST", "/api/v1/tokens", body, h)
        msg = (jbody(b) or {}).get("error", {}).get("message", "")
        ok(st == 400 and word in msg, "Z6: a body with %s is a 400 naming it" % word, st, b)
    st, _, b, _ = request(s, "POST", "/api/v1/tokens", b"[1]", h)
    ok(st == 400, "Z6: a body that is not an object is a 400", st, b)
    st, _, b, _ = request(s, "POST", "/api/v1/tokens", b'{"name":"a","name":"b"}', h)
    ok(st == 400, "Z6: a key given twice is a 400", st, b)
    big = json.dumps({"name": "x" * 5000}).encode()
    st, _, b, _ = request(s, "POST", "/api/v1/tokens", big, h)
    ok(st == 413, "a body over the route's limit is a 413", st, b)
    # Chunked: counted as it arrives.
    head = ("POST /api/v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            "\r\nTransfer-Encoding: chunked\r\nCookie: %s=%s\r\nX-CSRF-Token: %s\r\n\r\n"
            % (COOKIE, cookie, csrf)).encode()
    chunk = b'{"name":"' + b"y" * 3000
    payload = head + (b"%x\r\n" % len(chunk)) + chunk + b"\r\n" + (b"%x\r\n" % len(chunk)) + \
        chunk + b"\r\n0\r\n\r\n"
    out = ts.raw(s.port, payload)
    ok(ts.status_of(out) == 413, "a chunked body over the limit is a 413", out[:200])
    # Unauthenticated: refused before a byte is read.
    st, _, b, _ = request(s, "POST", "/api/v1/tokens", {"name": "x"})
    ok(st == 401, "a body for a user's route without credentials is a 401", st)
    st, _, b, _ = request(s, "GET", "/api/v1/repos", b"{}", h)
    ok(st == 400, "a GET with a body is a 400", st)
    st, hh, b, _ = request(s, "GET", "/api/v1/session", headers=h)
    ok(st == 405 and hh.get("allow") == "POST, DELETE",
       "GET /api/v1/session is a 405 allowing POST and DELETE", st, hh)


def test_tokens(s, data, admin_tok):
    st, cookie, csrf, _, _ = sign_in(s, "alice")
    h = session_headers(cookie, csrf)
    st, _, b, _ = request(s, "POST", "/api/v1/tokens",
                          {"name": "ci", "scope": "search", "expires_days": 30}, h)
    j = jbody(b) or {}
    tok, row = j.get("secret", ""), j.get("token", {})
    ok(st == 201 and tok.startswith("trawl_") and len(tok) == 55 and row.get("user") == "alice"
       and row.get("scope") == "search" and row.get("revoked") is False
       and row.get("prefix") == tok[:10] and row.get("last_used") is None,
       "tokens: a session creates a search token, shown once", st, b)
    st, _, b, _ = request(s, "POST", "/api/v1/tokens", {"scope": "admin"}, h)
    ok(st == 403, "tokens: a user cannot make an admin token", st, b)
    st, _, b, _ = request(s, "POST", "/api/v1/tokens", {"user": "root"}, h)
    ok(st == 403, "tokens: a user cannot make tokens for someone else", st, b)
    st, _, b, _ = request(s, "POST", "/api/v1/tokens", {"name": "more"}, bearer(tok))
    ok(st == 403, "tokens: a search token cannot create tokens", st, b)
    st, _, b, _ = request(s, "GET", "/api/v1/tokens", headers=bearer(tok))
    j = jbody(b) or {}
    ok(st == 200 and j.get("tokens") and all(t["user"] == "alice" for t in j["tokens"])
       and tok not in b.decode(), "tokens: the list is the caller's, without secrets", st, b)
    st, _, b, _ = request(s, "GET", "/api/v1/tokens?user=root", headers=bearer(tok))
    ok(st == 403, "tokens: a user cannot list someone else's", st, b)
    st, _, b, _ = request(s, "GET", "/api/v1/tokens?user=alice", headers=bearer(admin_tok))
    ok(st == 200 and any(t["id"] == row.get("id") for t in (jbody(b) or {}).get("tokens", [])),
       "tokens: an administrator lists anyone's", st, b)
    # Scope: a search token on an admin route.
    st, _, b, _ = request(s, "GET", "/metrics", headers=bearer(tok))
    ok(st == 403 and (jbody(b) or {}).get("error", {}).get("code") == "forbidden",
       "scope: a search token on /metrics is a 403", st, b)
    st, _, b, _ = request(s, "GET", "/metrics", headers=bearer(admin_tok))
    ok(st == 200, "scope: an admin token reads /metrics", st)
    st, _, b, _ = request(s, "GET", "/healthz", headers=bearer(admin_tok))
    ok(st == 200 and (jbody(b) or {}).get("repos") == 2, "/healthz: details for an admin", b)
    # Revocation: someone else's token is a 404; one's own is revoked at once.
    st, _, b, _ = request(s, "POST", "/api/v1/tokens", {"name": "root's"}, bearer(admin_tok))
    other = (jbody(b) or {}).get("token", {}).get("id")
    st, _, b, _ = request(s, "DELETE", "/api/v1/tokens/%s" % other, headers=h)
    ok(st == 404, "tokens: revoking someone else's token is a 404", st, b)
    st, _, b, _ = request(s, "DELETE", "/api/v1/tokens/999999", headers=h)
    ok(st == 404, "tokens: revoking a missing token is a 404", st, b)
    st, _, b, _ = request(s, "DELETE", "/api/v1/tokens/%s" % row.get("id"), headers=h)
    ok(st == 204, "tokens: revoking one's own is a 204", st, b)
    st, _, b, _ = request(s, "GET", "/api/v1/repos", headers=bearer(tok))
    ok(st == 401 and jbody(b) == UNAUTH, "a revoked token is a 401", st, b)
    short = cli("token", "create", "alice", "--expires", "1s", "--data", data).strip()
    time.sleep(2.2)
    st, _, b, _ = request(s, "GET", "/api/v1/repos", headers=bearer(short))
    ok(st == 401, "an expired token is a 401", st, b)
    st, _, b, _ = request(s, "GET", "/healthz", headers=bearer(short))
    ok(st == 200 and jbody(b) == {"status": "ok"}, "an expired token on /healthz: no details", b)


def test_readable(s, data, admin_tok):
    alice = cli("token", "create", "alice", "--data", data).strip()
    st, _, b, _ = request(s, "GET", "/api/v1/search?q=needle", headers=bearer(alice))
    j = jbody(b) or {}
    repos = sorted(r.get("repo") for r in j.get("results", []))
    summ = j.get("summary", {})
    ok(st == 200 and repos == ["pub"] and CANARY.encode() not in b,
       "readable: alice's search sees the public repository only", st, b)
    ok(summ.get("shards_total") == summ.get("shards_searched") == 1,
       "readable: shards_total counts alice's shards only", summ)
    st, _, b, _ = request(s, "GET", "/api/v1/search/stream?q=needle", headers=bearer(alice))
    events = ts.sse_events(b)
    prog = [d for e, d in events if e == "progress"]
    ok(st == 200 and CANARY.encode() not in b and prog and
       all(p["shards_total"] == 1 for p in prog) and len(prog) == 1,
       "readable: the stream's progress counts alice's shards only", b)
    st, _, b, _ = request(s, "GET", "/api/v1/repos", headers=bearer(alice))
    ok(st == 200 and [r["name"] for r in (jbody(b) or {}).get("repos", [])] == ["pub"],
       "readable: alice's repository list", b)
    hidden = request(s, "GET", "/api/v1/repos/secret", headers=bearer(alice))
    missing = request(s, "GET", "/api/v1/repos/nothing", headers=bearer(alice))
    ok(hidden[0] == missing[0] == 404 and hidden[2] == missing[2],
       "readable: a hidden repository answers as a missing one", hidden[2], missing[2])
    for sub in ("tree", "file?path=f.txt", "raw?path=f.txt"):
        st, _, b, _ = request(s, "GET", "/api/v1/repos/secret/" + sub, headers=bearer(alice))
        ok(st == 404 and CANARY.encode() not in b, "readable: secret/%s is a 404" % sub, st)
    st, _, b, _ = request(s, "GET", "/api/v1/search?q=" + CANARY, headers=bearer(admin_tok))
    ok(st == 200 and len((jbody(b) or {}).get("results", [])) == 1,
       "readable: an administrator reads every repository", b)
    st, _, b, _ = request(s, "GET", "/api/v1/search?q=needle", headers=bearer(admin_tok))
    ok((jbody(b) or {}).get("summary", {}).get("shards_total") == 2,
       "an administrator sees the index's shard count", b)
    # Every search is audited with its user, query, result count and duration. The server
    # writes its trail in batches (every 100 ms), so another process may wait a little.
    for _ in range(50):
        out = cli("audit", "--event", "search", "--json", "--data", data)
        evs = [json.loads(line) for line in out.splitlines() if line.strip()]
        mine = [e for e in evs if e.get("actor") == "alice"]
        if mine:
            break
        time.sleep(0.1)
    ok(mine and mine[0].get("detail", {}).get("query") == "needle"
       and mine[0]["detail"].get("results") == 1 and "ms" in mine[0]["detail"],
       "audit: alice's search is recorded with query, results and duration", out[:2000])
    ok(alice not in out, "audit: no token in the audit trail")


def test_password_change(s, data):
    st, cookie, csrf, _, _ = sign_in(s, "bob")
    h = session_headers(cookie, csrf)
    tok = cli("token", "create", "bob", "--data", data).strip()
    st, _, b, _ = request(s, "PUT", "/api/v1/me/password",
                          {"current": "not it at all!", "password": PW + "x"}, h)
    ok(st == 403 and jbody(b) == {"error": {"code": "forbidden",
                                             "message": "the current password is wrong"}},
       "password: a wrong current password is a 403", st, b)
    st, _, b, _ = request(s, "PUT", "/api/v1/me/password", {"current": PW, "password": "short"},
                          h)
    ok(st == 400, "password: a policy failure is a 400", st, b)
    st, _, b, _ = request(s, "PUT", "/api/v1/me/password", {"current": PW, "password": PW + "x"},
                          h)
    ok(st == 204, "password: changed", st, b)
    for desc, hh in (("session", session_headers(cookie)), ("token", bearer(tok))):
        st, _, b, _ = request(s, "GET", "/api/v1/me", headers=hh)
        ok(st == 401, "password: the change ended the %s" % desc, st)
    st, cookie, csrf, _, _ = sign_in(s, "bob", PW + "x")
    ok(st == 200, "password: the new one signs in", st)
    # Wrong current passwords are throttled like sign-in failures: a 429, then even the right
    # one is refused before it is checked.
    h = session_headers(cookie, csrf)
    codes = []
    for _ in range(12):
        st, _, b, _ = request(s, "PUT", "/api/v1/me/password",
                              {"current": "not it at all!", "password": PW + "y"}, h)
        codes.append(st)
        if st == 429:
            break
    ok(codes[0] == 403 and codes[-1] == 429
       and (jbody(b) or {}).get("error", {}).get("code") == "rate_limited",
       "password: wrong current passwords are throttled (429)", codes, b)
    st, _, b, _ = request(s, "PUT", "/api/v1/me/password",
                          {"current": PW + "x", "password": PW + "y"}, h)
    ok(st == 429, "password: throttled, even the right current password waits", st, b)


def test_allow_anonymous(data):
    s = Server(data, "--sync-interval", "0", "--allow-anonymous")
    try:
        st, _, b, _ = request(s, "GET", "/api/v1/search?q=needle")
        j = jbody(b) or {}
        ok(st == 200 and [r["repo"] for r in j.get("results", [])] == ["pub"]
           and CANARY.encode() not in b, "--allow-anonymous: anonymous reads public only", b)
        st, _, b, _ = request(s, "GET", "/api/v1/me")
        ok(st == 200 and (jbody(b) or {}).get("auth") == "anonymous",
           "--allow-anonymous: /api/v1/me says anonymous", b)
        st, _, b, _ = request(s, "GET", "/api/v1/search?q=needle",
                              headers=bearer("trawl_" + "0" * 49))
        ok(st == 401, "--allow-anonymous: a bad token is still a 401", st)
        st, _, b, _ = request(s, "GET", "/metrics")
        ok(st == 401, "--allow-anonymous: /metrics still needs an administrator", st)
    finally:
        s.stop()


def test_signin_threads(s, tok):
    """Sign-ins hash on their own threads, within a server-wide bound: with the bound full,
    /healthz and a token search are answered before any of the running sign-ins ends, and
    one sign-in more is a 503 with Retry-After at once."""
    n = 2 * (os.cpu_count() or 1) + 4
    done, lock = [], threading.Lock()

    def one(i):
        st, h, b, _ = request(s, "POST", "/api/v1/session",
                              {"user": "nobody-f2-%d" % i, "password": "x" * 12},
                              source="127.0.0.%d" % (100 + i))
        with lock:
            done.append((st, h.get("retry-after"), time.monotonic()))

    ths = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for th in ths:
        th.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with lock:
            if any(d[0] == 503 for d in done):
                break
        time.sleep(0.005)
    st_h, _, _, _ = request(s, "GET", "/healthz")
    t_h = time.monotonic()
    st_s, _, b_s, _ = request(s, "GET", "/api/v1/search?q=needle", headers=bearer(tok))
    t_s = time.monotonic()
    for th in ths:
        th.join()
    busy = [d for d in done if d[0] == 503]
    refused = [d for d in done if d[0] == 401]
    ok(busy and all(d[1] for d in busy) and refused and
       max(d[2] for d in busy) < min(d[2] for d in refused),
       "F2: over the sign-in bound, a 503 with Retry-After, before any hash ends",
       [(d[0], d[1]) for d in done])
    ok(st_h == 200 and st_s == 200 and refused and max(t_h, t_s) < min(d[2] for d in refused),
       "F2: /healthz and a token search answer while sign-ins are hashing", st_h, st_s, b_s)


def test_credential_headers(s, tok):
    """One credential per request: two Authorization headers, or two Cookie headers that both
    carry the session cookie, are refused; a second Cookie without it is not."""
    st, cookie, _, _, _ = sign_in(s, "alice", source="127.0.0.60")
    auth = "Authorization: Bearer %s\r\n" % tok
    ses = "Cookie: %s=%s\r\n" % (COOKIE, cookie)
    for desc, hdrs, want in (("two Authorization headers", auth + auth, 400),
                             ("two Authorization headers, one empty",
                              auth + "Authorization: \r\n", 400),
                             ("two session Cookie headers", ses + ses, 400),
                             ("a session Cookie and a foreign one", ses + "Cookie: x=1\r\n",
                              200)):
        resp = ts.raw(s.port, ("GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
                               "Connection: close\r\n\r\n" % hdrs).encode())
        ok(ts.status_of(resp) == want, "F6: %s -> %d" % (desc, want), resp[:200])


def test_host_port(s):
    for host in ("127.0.0.1:", "localhost:", ""):
        resp = ts.raw(s.port, ("GET /healthz HTTP/1.1\r\nHost: %s\r\n"
                               "Connection: close\r\n\r\n" % host).encode())
        ok(ts.status_of(resp) in (400, 421), "Host: %r is refused" % host, resp[:200])


def test_url_token_log(s, tok):
    st, _, _, _ = request(s, "GET", "/?access_token=" + tok)
    st2, _, _, _ = request(s, "GET", "/api/v1/search?q=needle&access_token=" + tok)
    time.sleep(0.2)
    log = s.logtext()
    ok(st2 == 400 and tok not in log and "access_token" not in log and tok[6:20] not in log,
       "F5: a token in a page URL's query string never reaches the log", st, st2)


def test_external_origin(data):
    """Under --external-url (https), an http:// Origin of the same host is another origin."""
    s = Server(data, "--sync-interval", "0", "--external-url", "https://code.example.com")
    try:
        body = {"user": "nobody", "password": "x" * 12}
        for origin, bad in (("http://code.example.com", True), ("https://code.example.com", False),
                            ("http://code.example.com:443", True)):
            h = {"Host": "code.example.com", "Origin": origin}
            st, _, b, _ = request(s, "POST", "/api/v1/session", body, h, source="127.0.0.61")
            ok((st == 403) == bad, "CSRF: Origin %s behind --external-url https -> %s"
               % (origin, "403" if bad else "admitted"), st, b)
    finally:
        s.stop()


def stream_during(s, tok, query, change):
    """Starts a stream of query, runs change() once its first bytes are in, reads on after a
    pause (the server re-checks a stream once a second): (status, events)."""
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    c.request("GET", "/api/v1/search/stream?q=" + query, headers=bearer(tok))
    r = c.getresponse()
    head = r.read(4096)
    change()
    time.sleep(1.5)
    body = head + r.read()
    c.close()
    return r.status, ts.sse_events(body)


def files_of(events, repo):
    return sum(1 for name, d in events if name == "matches" for f in d if f.get("repo") == repo)


def test_stream_revoked(tmp):
    """A stream re-checks its credential while it runs: a token revoked mid-stream ends it
    with an error event, not with more matches and a done."""
    root = os.path.join(tmp, "stream")
    data, src = os.path.join(root, "data"), os.path.join(root, "big")
    os.makedirs(src)
    line = "streamneedle " + "y" * 70 + "\n"
    for i in range(2500):
        with open(os.path.join(src, "f%04d.txt" % i), "w") as f:
            f.write(line * 100)
    subprocess.run([TRAWL, "index", "-o", os.path.join(data, "index"), "--name", "big", src],
                   check=True, stdout=subprocess.DEVNULL)
    cli("user", "add", "carol", "--password-stdin", "--data", data, stdin=(PW + "\n").encode())
    cli("repo", "set", "big", "--public", "--data", data)
    tok = cli("token", "create", "carol", "--data", data).strip()
    row = json.loads(cli("token", "list", "carol", "--json", "--data", data).splitlines()[0])
    s = Server(data, "--sync-interval", "0")
    try:
        status, ev = stream_during(s, tok, "streamneedle+count:all",
                                   lambda: cli("token", "revoke", str(row["id"]), "--data", data))
        names = [e[0] for e in ev]
        errs = [e[1] for e in ev if e[0] == "error"]
        ok(status == 200 and "done" not in names and names and names[-1] == "error" and
           errs[-1].get("error", {}).get("code") == "unauthorized",
           "F4: a token revoked mid-stream ends the stream with an unauthorized error",
           status, names[-5:], errs)
    finally:
        s.stop()


def test_stream_grant_revoked(tmp):
    """A stream re-checks the caller's readable set while it runs: a grant revoked mid-stream
    (by another process) ends a stream that searches the repository with a forbidden error and
    none of its matches after it; a stream that does not search the repository goes on."""
    root = os.path.join(tmp, "grantstream")
    data = os.path.join(root, "data")
    line = "grantneedle " + "y" * 70 + "\n"
    for repo, n in (("big", 2500), ("side", 1)):
        src = os.path.join(root, repo)
        os.makedirs(src)
        for i in range(n):
            with open(os.path.join(src, "f%04d.txt" % i), "w") as f:
                f.write(line * 100)
        subprocess.run([TRAWL, "index", "-o", os.path.join(data, "index"), "--name", repo, src],
                       check=True, stdout=subprocess.DEVNULL)
    cli("user", "add", "dave", "--password-stdin", "--data", data, stdin=(PW + "\n").encode())
    for repo in ("big", "side"):
        cli("grant", repo, "--user", "dave", "--data", data)
    for name in ("erin", "frank"):
        cli("user", "add", name, "--admin", "--password-stdin", "--data", data,
            stdin=(PW + "\n").encode())
    tok = cli("token", "create", "dave", "--data", data).strip()
    erin = cli("token", "create", "erin", "--scope", "search", "--data", data).strip()
    s = Server(data, "--sync-interval", "0")
    try:
        st, ev = stream_during(s, tok, "grantneedle+count:all+repo:%5Ebig%24",
                               lambda: cli("revoke", "side", "--user", "dave", "--data", data))
        names = [e[0] for e in ev]
        ok(st == 200 and "error" not in names and names[-1:] == ["done"] and
           files_of(ev, "big") == 2500,
           "M1: a grant to another repository revoked mid-stream leaves the stream to its end",
           st, names[-3:], files_of(ev, "big"))
        st, ev = stream_during(s, tok, "grantneedle+count:all",
                               lambda: cli("revoke", "big", "--user", "dave", "--data", data))
        names = [e[0] for e in ev]
        errs = [e[1] for e in ev if e[0] == "error"]
        ok(st == 200 and "done" not in names and names[-1:] == ["error"] and
           errs[-1].get("error", {}).get("code") == "forbidden" and
           files_of(ev, "big") < 2500,
           "M1: a grant revoked mid-stream ends the stream with a forbidden error before its end",
           st, names[-3:], errs, files_of(ev, "big"))
        after = names.index("error") if "error" in names else len(names)
        ok(files_of(ev[after:], "big") == 0 and len(names) == after + 1,
           "M1: nothing follows the forbidden error", names[after:])
        st, _, b, _ = request(s, "GET", "/api/v1/search?q=grantneedle+repo:%5Ebig%24",
                              headers=bearer(tok))
        ok(st == 200 and not (jbody(b) or {}).get("results"),
           "M1: the next search reads nothing of the revoked repository", st, b[:200])
        st, ev = stream_during(s, erin, "grantneedle+count:all",
                               lambda: cli("user", "admin", "erin", "--off", "--data", data))
        names = [e[0] for e in ev]
        errs = [e[1] for e in ev if e[0] == "error"]
        ok(st == 200 and names[-1:] == ["error"] and "done" not in names and
           errs[-1].get("error", {}).get("code") == "forbidden" and files_of(ev, "big") < 2500,
           "M1: an administrator made a user mid-stream: the stream ends with a forbidden error",
           st, names[-3:], errs, files_of(ev, "big"))
    finally:
        s.stop()


def stream_paused(s, tok, query, change):
    """Starts a stream of query and reads up to its first matches event; then stops the server
    (SIGSTOP), runs change() and resumes it past the stream's one-second re-check, so that the
    re-check lands while the search still runs whatever the machine's speed. (events before,
    events after)."""
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    c.request("GET", "/api/v1/search/stream?q=" + query, headers=bearer(tok))
    r = c.getresponse()
    head = b""
    while b"event: matches" not in head or not head.endswith(b"\n\n"):
        more = r.read1(65536)
        if not more:
            break
        head += more
    s.p.send_signal(signal.SIGSTOP)
    try:
        change()
        time.sleep(1.2)
    finally:
        s.p.send_signal(signal.SIGCONT)
    tail = r.read()
    c.close()
    return ts.sse_events(head), ts.sse_events(tail)


def test_stream_select_lost(tmp):
    """select:repo sends a repository once, so a repository lost after its result went out
    never has another one due: the stream goes on, and its done summary counts what it sent,
    not the search's totals (which count the lost repository's matches after the loss). A
    repository lost before its result went out ends the stream with forbidden."""
    root = os.path.join(tmp, "selectstream")
    data = os.path.join(root, "data")
    # "few" is searched in a moment; "many" takes a while (a regex matching every line).
    for repo, n in (("few", 40), ("many", 2000)):
        src = os.path.join(root, repo)
        os.makedirs(src)
        for i in range(n):
            with open(os.path.join(src, "f%04d.txt" % i), "w") as f:
                f.write(("selneedle " + "ab_cd_ef " * 10 + "\n") * 100)
        subprocess.run([TRAWL, "index", "-o", os.path.join(data, "index"), "--name", repo, src],
                       check=True, stdout=subprocess.DEVNULL)
    cli("user", "add", "gina", "--password-stdin", "--data", data, stdin=(PW + "\n").encode())
    for repo in ("few", "many"):
        cli("grant", repo, "--user", "gina", "--data", data)
    tok = cli("token", "create", "gina", "--data", data).strip()
    query = "select:repo+count:all+/ab_cd_[a-z]%2B/"
    s = Server(data, "--sync-interval", "0")
    try:
        before, after = stream_paused(s, tok, query, lambda: None)
        whole = [e[1] for e in before + after if e[0] == "done"]
        ok(whole and whole[-1]["files"] == 2040 and files_of(before + after, "few") == 1,
           "select:repo: without a change the summary is the search's totals", whole)
        before, after = stream_paused(
            s, tok, query, lambda: cli("revoke", "few", "--user", "gina", "--data", data))
        names = [e[0] for e in after]
        done = [e[1] for e in after if e[0] == "done"]
        sent = [f for e in before + after if e[0] == "matches" for f in e[1]]
        ok(files_of(before, "few") == 1 and files_of(after, "few") == 0 and
           names[-1:] == ["done"] and "error" not in names,
           "select:repo: a repository lost after its one result went out: the stream goes on",
           files_of(before, "few"), names)
        ok(done and done[0]["files"] == len(sent) == 2 and done[0]["matching_lines"] == 0 and
           done[0]["shards_total"] == 1 and done[0]["candidates"] == 0,
           "select:repo: after a loss the summary counts the results sent, not the search's",
           done, len(sent))
        cli("grant", "few", "--user", "gina", "--data", data)
        before, after = stream_paused(
            s, tok, query, lambda: cli("revoke", "many", "--user", "gina", "--data", data))
        names = [e[0] for e in after]
        errs = [e[1] for e in after if e[0] == "error"]
        ok(files_of(before + after, "many") == 0 and names[-1:] == ["error"] and
           errs[-1]["error"]["code"] == "forbidden" and "done" not in names,
           "select:repo: a repository lost before its result went out ends with forbidden",
           names, errs, files_of(before + after, "many"))
    finally:
        s.stop()


def main():
    if not os.access(TRAWL, os.X_OK):
        print("not ok 1 - no trawl binary at " + TRAWL)
        sys.exit(1)
    tmp = tempfile.mkdtemp(prefix="trawl-auth.")
    try:
        if not ONLY or ONLY in "laptop":
            test_laptop(tmp)
        data = make_data(tmp, "team")
        for name, admin in (("root", True), ("alice", False), ("bob", False)):
            cli("user", "add", name, "--password-stdin", "--data", data,
                *(["--admin"] if admin else []),
                *(["--display-name", "Alice"] if name == "alice" else []),
                stdin=(PW + "\n").encode())
        cli("repo", "set", "pub", "--public", "--data", data)
        admin_tok = cli("token", "create", "root", "--scope", "admin", "--data", data).strip()
        s = Server(data, "--sync-interval", "0")
        try:
            for name, fn in (("anonymous", lambda: test_anonymous(s)),
                             ("signin", lambda: test_sign_in(s)),
                             ("a10", lambda: test_a10(s, admin_tok)),
                             ("csrf", lambda: test_bodies(s, *test_csrf(s))),
                             ("tokens", lambda: test_tokens(s, data, admin_tok)),
                             ("readable", lambda: test_readable(s, data, admin_tok)),
                             ("password", lambda: test_password_change(s, data)),
                             ("credheaders", lambda: test_credential_headers(s, admin_tok)),
                             ("hostport", lambda: test_host_port(s)),
                             ("urllog", lambda: test_url_token_log(s, admin_tok))):
                if not ONLY or ONLY in name:
                    fn()
            log = s.logtext()
            ok(PW not in log and "trawl_" not in log and COOKIE + "=" not in log,
               "no password, token or session id in the server's log")
            ok(s.stop() == 0, "team: SIGTERM stops the server cleanly")
        finally:
            if s.p.poll() is None:
                s.stop()
        if not ONLY or ONLY in "anonymous":
            test_allow_anonymous(data)
        if not ONLY or ONLY in "streamrevoked":
            test_stream_revoked(tmp)
        if not ONLY or ONLY in "streamgrantrevoked":
            test_stream_grant_revoked(tmp)
        if not ONLY or ONLY in "streamselectlost":
            test_stream_select_lost(tmp)
        if not ONLY or ONLY in "externalorigin":
            test_external_origin(data)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % ts.n)
    sys.exit(1 if ts.fails else 0)


if __name__ == "__main__":
    main()
