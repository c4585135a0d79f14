#!/usr/bin/env python3
"""The permission matrix (docs/security.md, "Repository permissions"; checklist Z1-Z4): the real
server in team mode over three repositories (private, which holds a canary; granted, to one
user directly and to a group; public) and every route of the route table, called by every kind
of principal: anonymous, a user without a grant, a user with a direct grant, a group member, a
disabled user (who held a grant on the private repository), a revoked and an expired
administrator token, an administrator, a user signed in through OpenID Connect (the provider of
oidc_provider.py; a member of the team group there) and a user an authentication proxy vouches
for (--auth-proxy-header from a --trusted-proxy address, in team by its groups header).

For each call: the expected status, and the canary (CANARY_<uuid>) nowhere in a body or header
for those without access. Searches (literal, regex, file:, repo:, select:repo, type:path) and
the repository list must equal, field for field but timings, the answers of a server whose
index holds only what the caller may read, so no count, statistic, alert or suggestion tells
the private repository apart; so must symbol searches (type:symbol, select:symbol and
/api/v1/symbols: every repository is indexed with --symbols, and the private one defines a
function named after the canary). A hidden repository answers byte for byte as a missing one of
the same name length (Z2). Revoking a grant or a membership takes effect on the next search
(Z4). The uuid is never sent by a test request, so it must not appear in the server's log or
the audit log either.

The routes come from tests/unit/server/route_matrix.expected, which test_route_matrix keeps
equal to the route table: a route without requests below fails this test.

    python3 tests/e2e/test_access_matrix.py
"""
import base64
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oidc_provider  # noqa: E402
import serverlib  # noqa: E402
import test_oidc  # noqa: E402  (Browser: an OpenID sign-in driven from Python)
from teamlib import (ROOT, Response, Server, done, index_repo, ok, token_create,  # noqa: E402
                     trawl, user_add, write_tree)

UUID = uuid.uuid4().hex
CLUSTER = [False]  # main(cluster=True): the server under test is a cluster's frontend
CANARY = "CANARY_" + UUID
MATRIX = os.path.join(ROOT, "tests", "unit", "server", "route_matrix.expected")

REPOS = ("private", "granted", "public")
MISSING = "missing"  # no such repository; as long as "private" and "granted"
READABLE = {
    "admin": {"private", "granted", "public"},
    "direct": {"granted", "public"},
    "member": {"granted", "public"},
    "nogrant": {"public"},
    "oidc": {"granted", "public"},
    "proxy": {"granted", "public"},
}
# Principals whose every request needs valid credentials they do not have.
REFUSED = ("anonymous", "disabled", "revoked", "expired")
PRINCIPALS = ("anonymous", "nogrant", "direct", "member", "disabled", "revoked", "expired",
              "oidc", "proxy", "admin")
# The authentication proxy: its address (the only --trusted-proxy) and headers.
PROXY_ADDR = "127.0.0.2"
PROXY_USER, PROXY_GROUPS = "X-Remote-User", "X-Remote-Groups"
OIDC_USER = "olga@example.com"


def fixture(tmp):
    """Sources of the three repositories; the private one has the canary in a file's content
    and in a file's name."""
    trees = {
        "private": {"README.md": "shared_word private readme %s\n" % CANARY,
                    "src/%s.c" % CANARY: "int shared_word = 1; /* %s */\n" % CANARY,
                    "src/sym.c": "int %s_fn(void) { return 0; }\n" % CANARY},
        "granted": {"README.md": "shared_word granted readme\n",
                    "src/g.c": "int shared_word = 2; /* granted_only */\n"},
        "public": {"README.md": "shared_word public readme\n",
                   "src/p.c": "int shared_word = 3; /* public_only */\n"},
    }
    for name, files in trees.items():
        write_tree(os.path.join(tmp, "src-" + name), files)


def data_dir(tmp, name, repos):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    for r in repos:
        index_repo(d, r, os.path.join(tmp, "src-" + r), symbols=True)
    return d


def setup_accounts(data):
    """The principals: their tokens (None: no credentials) and the ids the tests revoke."""
    for name, admin in (("root", True), ("nogrant", False), ("gina", False), ("mike", False),
                        ("dis", False)):
        user_add(data, name, admin=admin)
    trawl("grant", "granted", "--user", "gina", data=data)
    trawl("group", "add", "team", data=data)
    trawl("group", "member", "add", "team", "mike", data=data)
    trawl("grant", "granted", "--group", "team", data=data)
    trawl("repo", "set", "public", "--public", data=data)
    trawl("grant", "private", "--user", "dis", data=data)
    tok = {"anonymous": None}
    tok["admin"], _ = token_create(data, "root", scope="admin")
    tok["nogrant"], _ = token_create(data, "nogrant")
    tok["direct"], tok["direct_id"] = token_create(data, "gina")
    tok["member"], _ = token_create(data, "mike")
    tok["disabled"], _ = token_create(data, "dis")
    tok["revoked"], rid = token_create(data, "root", scope="admin")
    tok["expired"], _ = token_create(data, "root", scope="admin", expires="1s")
    trawl("user", "disable", "dis", data=data)
    trawl("token", "revoke", str(rid), data=data)
    time.sleep(2.1)  # the expired token's second, with room for rounding
    return tok


class OidcSession:
    """The OpenID principal's session: signed in through the provider (test_oidc.Browser), its
    cookie and CSRF token sent like the web UI's; signed in again after it signs out."""

    def __init__(self, s, p, ca):
        self.s, self.p, self.ca = s, p, ca
        self.refresh()

    def refresh(self):
        b = test_oidc.Browser(self.s, self.p, self.ca)
        r = b.sign_in(OIDC_USER)
        me = b.me() or {}
        if not r or test_oidc.SESSION not in b.cookies or not me.get("csrf_token"):
            raise RuntimeError("the OpenID sign-in of %s failed: %r %r" % (OIDC_USER, r, me))
        self.cookie, self.csrf = b.cookies[test_oidc.SESSION], me["csrf_token"]

    def headers(self):
        return {"Cookie": "%s=%s" % (test_oidc.SESSION, self.cookie),
                "X-CSRF-Token": self.csrf}


PROXY = {"headers": {PROXY_USER: "pat", PROXY_GROUPS: "team", "Sec-Fetch-Site": "same-origin"},
         "source": PROXY_ADDR}


def call(s, tok, who, method, path, body=None):
    """One request as who: an API token (a string), the OpenID session, or the proxy's
    headers from its address."""
    c, h, source = tok[who], {}, None
    if isinstance(c, str):
        h["Authorization"] = "Bearer " + c
    elif isinstance(c, OidcSession):
        h.update(c.headers())
    elif isinstance(c, dict):
        h.update(c["headers"])
        source = c["source"]
    if body is not None:
        body = body if isinstance(body, bytes) else json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    st, hs, data, _ = serverlib.request(s.port, method, path, body, h, source=source,
                                        timeout=60)
    r = Response(st, hs, data)
    if isinstance(c, OidcSession) and (method, path) == ("DELETE", "/api/v1/session"):
        c.refresh()
    return r


def oidc_setup(tmp, data):
    """The provider (olga in its team group) and the serve flags of OIDC and the proxy."""
    ca = os.path.join(tmp, "idp-ca.pem")
    p = oidc_provider.Provider(ca).start()
    p.add_user(OIDC_USER, groups=["team"])
    secret = os.path.join(tmp, "client-secret")
    test_oidc.write_secret(secret, p.client_secret)
    args = test_oidc.oidc_args(p, ca, secret) + [
        "--trusted-proxy", PROXY_ADDR, "--auth-proxy-header", PROXY_USER,
        "--auth-proxy-groups-header", PROXY_GROUPS]
    return p, ca, args


def routes():
    """(pattern, name, methods, auth, perm) of every row of the checked-in matrix."""
    rows = []
    with open(MATRIX) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.split()
            rows.append((cols[0], cols[1], cols[2].split(","), cols[3], cols[4]))
    return rows


class Req:
    """One request and what a principal with valid credentials gets: a status, or a function
    of the principal."""

    def __init__(self, method, path, expect, body=None, compare=None):
        self.method, self.path, self.expect, self.body = method, path, expect, body
        self.compare = compare  # "json" or "stream": compared with the baseline servers

    def status_for(self, who):
        return self.expect(who) if callable(self.expect) else self.expect


def repo_status(repo):
    return lambda who: 200 if repo in READABLE.get(who, ()) else 404


def token_create_status(who):
    """Only an admin-scope token, a session or a proxy's user (a browser) may create tokens;
    the others' are refused before the body."""
    return 400 if who in ("admin", "oidc", "proxy") else 403


# A browser's principals: a session, or a user an authentication proxy vouches for.
BROWSERS = ("oidc", "proxy")


def admin_only(status):
    return lambda who: status if who == "admin" else 403


SEARCHES = ("CANARY_", "/CANARY_[0-9a-f]+/", "file:CANARY_", "repo:^private$", "repo:priv",
            "repo:private shared_word", "CANARY_ select:repo", "shared_word",
            "shared_word select:repo", "shared_word count:all", "type:path CANARY_",
            "lang:c shared_word", "file:src/ shared_word", "shared_word OR CANARY_",
            "repo:privat shared_word", "case:yes canary_", "type:symbol shared_word",
            "type:symbol CANARY_", "type:symbol /^CANARY_/", "type:symbol ^canary_",
            "select:symbol.variable shared_word", "type:symbol file:src/")
# /api/v1/symbols: QUERY with type:symbol implied.
SYMBOL_SEARCHES = ("shared_word", "CANARY_", "^CANARY_", "^shared_word$", "/_fn$/",
                   "file:src/", "repo:priv")


def q(s):
    return urllib.parse.quote(s, safe="")


def cursor(name):
    return base64.urlsafe_b64encode(b"n" + name.encode()).decode().rstrip("=")


def asset_path():
    for f in sorted(os.listdir(os.path.join(ROOT, "web"))):
        if f != "index.html" and not f.startswith("."):
            return "/" + f
    return "/app.js"


def requests_for(pattern):
    """The requests of a route pattern; None for a pattern this test does not know yet."""
    repos = REPOS + (MISSING,)
    table = {
        "/api/v1/search": [Req("GET", "/api/v1/search?q=" + q(s), 200, compare="json")
                           for s in SEARCHES],
        "/api/v1/search/stream": [Req("GET", "/api/v1/search/stream?q=" + q(s), 200,
                                      compare="stream") for s in SEARCHES],
        "/api/v1/symbols": [Req("GET", "/api/v1/symbols?q=" + q(s), 200, compare="json")
                            for s in SYMBOL_SEARCHES],
        # Pages: a cursor is the base64url of "n" and the name it follows (docs/api.md), so
        # one can be aimed at the private repository; every page equals the baseline's.
        "/api/v1/repos": [Req("GET", "/api/v1/repos" + x, 200, compare="json")
                          for x in ("", "?limit=1", "?q=P", "?q=riv", "?limit=1&cursor=" +
                                    cursor("granted"), "?cursor=" + cursor("private"),
                                    "?limit=1&cursor=" + cursor("missing"))],
        "/api/v1/repos/{name}": [Req("GET", "/api/v1/repos/" + r, repo_status(r))
                                 for r in repos],
        "/api/v1/repos/{name}/tree": [Req("GET", "/api/v1/repos/%s/tree?path=src" % r,
                                          repo_status(r)) for r in repos],
        "/api/v1/repos/{name}/file": [Req("GET", "/api/v1/repos/%s/file?path=README.md" % r,
                                          repo_status(r)) for r in repos],
        "/api/v1/repos/{name}/raw": [Req("GET", "/api/v1/repos/%s/raw?path=README.md" % r,
                                         repo_status(r)) for r in repos],
        "/api/v1/repos/{name}/readme": [Req("GET", "/api/v1/repos/%s/readme" % r,
                                            repo_status(r)) for r in repos],
        # The finder's list: the private repository's paths hold the canary.
        "/api/v1/repos/{name}/paths": [Req("GET", "/api/v1/repos/%s/paths" % r,
                                           repo_status(r)) for r in repos],
        # Navigation: shared_word is defined in every repository (the private one's definition
        # holds the canary in its path and its line); README.md's line 1 starts with it.
        "/api/v1/repos/{name}/definition": [
            Req("GET", "/api/v1/repos/%s/definition?path=README.md&line=1&col=3" % r,
                repo_status(r), compare="json") for r in repos],
        "/api/v1/repos/{name}/references": [
            Req("GET", "/api/v1/repos/%s/references?path=README.md&line=1&col=3" % r,
                repo_status(r), compare="json") for r in repos],
        "/api/v1/repos/{name}/outline": [
            Req("GET", "/api/v1/repos/%s/outline?path=README.md" % r, repo_status(r),
                compare="json") for r in repos],
        "/api/v1/filters": [Req("GET", "/api/v1/filters", 200)],
        "/healthz": [Req("GET", "/healthz", 200)],
        "/readyz": [Req("GET", "/readyz", 200)],
        "/metrics": [Req("GET", "/metrics", admin_only(200))],
        "/api/*": [Req("GET", "/api/v1/nothing-here", 404)],
        "/": [Req("GET", "/", 200)],
        "/search": [Req("GET", "/search?q=CANARY_", 200)],
        "/repos": [Req("GET", "/repos", 200)],
        "/repos/*": [Req("GET", "/repos/private", 200)],
        "/file/*": [Req("GET", "/file/private/README.md", 200)],
        "/account/*": [Req("GET", "/account/tokens", 200)],
        "/admin/*": [Req("GET", "/admin/users", 200)],
        "/*": [Req("GET", asset_path(), 200)],
        # Sessions, the caller's own account and tokens: harmless calls only.
        # A wrong password is 401 until the address is throttled (429).
        "/api/v1/session": [Req("POST", "/api/v1/session", {401, 429},
                                body={"user": "nobody", "password": "not the password 1"}),
                            Req("DELETE", "/api/v1/session", 204)],
        "/api/v1/me": [Req("GET", "/api/v1/me", 200)],
        "/api/v1/me/password": [Req("PUT", "/api/v1/me/password", 400, body={})],
        # Only a browser (a session, a proxy's user) dismisses notices; not an API token.
        "/api/v1/me/notices/read": [Req("POST", "/api/v1/me/notices/read",
                                        lambda who: 204 if who in BROWSERS else 403, body={})],
        # Single sign-on: open routes; a callback without a login of this browser is refused.
        "/auth/oidc/login": [Req("GET", "/auth/oidc/login?return_to=%2F", 302)],
        "/auth/oidc/callback": [Req("GET", "/auth/oidc/callback?state=%s&code=c" % ("s" * 43),
                                    {400, 401, 403})],
        "/api/v1/auth/methods": [Req("GET", "/api/v1/auth/methods", 200)],
        "/api/v1/tokens": [Req("GET", "/api/v1/tokens", 200),
                           Req("POST", "/api/v1/tokens", token_create_status, body={"bogus": 1})],
        "/api/v1/tokens/{name}": [Req("DELETE", "/api/v1/tokens/999999", 404)],
        # Administration: reads, and changes that name nothing that exists.
        "/api/v1/users": [Req("GET", "/api/v1/users", admin_only(200)),
                          Req("POST", "/api/v1/users", admin_only(400), body={})],
        "/api/v1/users/{name}": [Req("PUT", "/api/v1/users/nobody", admin_only(404),
                                     body={"admin": False})],
        "/api/v1/users/{name}/password": [
            Req("PUT", "/api/v1/users/nobody/password", admin_only(404),
                body={"password": "a long enough password for nobody"})],
        "/api/v1/groups": [Req("GET", "/api/v1/groups", admin_only(200)),
                           Req("POST", "/api/v1/groups", admin_only(400), body={})],
        "/api/v1/groups/{name}": [Req("DELETE", "/api/v1/groups/nogroup", admin_only(404))],
        "/api/v1/groups/{name}/members": [Req("PUT", "/api/v1/groups/nogroup/members",
                                              admin_only(404), body={"add": []})],
        "/api/v1/access": [Req("GET", "/api/v1/access", admin_only(200))],
        "/api/v1/repos/{name}/access": [
            Req("PUT", "/api/v1/repos/%s/access" % MISSING, admin_only(404), body={}),
            Req("PUT", "/api/v1/repos/private/access", admin_only(200), body={})],
        "/api/v1/audit": [Req("GET", "/api/v1/audit?limit=50", admin_only(200))],
        # Sync now: only registered repositories (these are indexed with trawl index only).
        "/api/v1/repos/{name}/sync": [
            Req("POST", "/api/v1/repos/%s/sync" % MISSING, admin_only(404)),
            Req("POST", "/api/v1/repos/private/sync", admin_only(404))],
    }
    return table.get(pattern)


TIMING = ("elapsed_ms", "plan_ms", "duration_ms")


def normalize(v):
    """A JSON answer without its timings (they differ between any two runs)."""
    if isinstance(v, dict):
        return {k: normalize(x) for k, x in v.items() if k not in TIMING}
    if isinstance(v, list):
        return [normalize(x) for x in v]
    return v


def sse(body):
    events = []
    for block in body.decode("utf-8", "replace").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if name:
            events.append((name, normalize(json.loads("\n".join(data)))))
    # How far a search had got when a progress event left depends on which shard finished
    # first: only the last one, the whole search's, is compared.
    last = [e for e in events if e[0] == "progress"][-1:]
    return [e for e in events if e[0] != "progress"] + last


def common(a, b):
    """a and b restricted to the keys both have, recursively: a field a caller is not shown
    (shards_total for a non-administrator) is no leak; a field with another value is."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = a.keys() & b.keys()
        return ({k: common(a[k], b[k])[0] for k in keys},
                {k: common(a[k], b[k])[1] for k in keys})
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = [common(x, y) for x, y in zip(a, b)]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    return a, b


def unbatched(events):
    """A stream's events with its results as one batch, ordered by repository and path: one
    process streams a count:all search shard by shard, in the order the repositories were
    added to its index, which a cluster's frontend (no one index) does not have: it streams
    them ranked, as the JSON answer (docs/internals/cluster.md)."""
    files = sorted((f for e in events if e[0] == "matches" for f in e[1]),
                   key=lambda f: (f.get("repo", ""), f.get("path", "")))
    return [("matches", files)] + [e for e in events if e[0] != "matches"]


def same_as_baseline(r, base, kind, path=""):
    if kind == "stream":
        got, want = sse(r.body), sse(base.body)
        if CLUSTER[0] and "count%3Aall" in path:
            got, want = unbatched(got), unbatched(want)
    else:
        got, want = normalize(r.json()), normalize(base.json())
    got, want = common(got, want)
    return r.status == base.status and got == want, got, want


def canary_free(who, req, r):
    return ok(UUID.encode() not in r.raw() and CANARY.lower().encode() not in r.raw().lower(),
              "%s %s %s: no canary in the answer" % (who, req.method, req.path),
              r.raw()[:1500])


def sweep(s, tok, baselines):
    """Every request of every route, by every principal."""
    rows = routes()
    ok(len(rows) > 20, "the matrix lists the route table (%d rows)" % len(rows))
    admin_saw = set()
    for pattern, name, methods, auth, perm in rows:
        # Rows sharing a pattern differ by method: each gets the requests of its methods.
        reqs = [x for x in requests_for(pattern) or () if x.method in methods]
        if not ok(reqs, "route %s %s (%s) has requests in the matrix test"
                  % ("/".join(methods), pattern, name)):
            continue
        for m in methods:
            if m != "HEAD" and not any(x.method == m for x in reqs):
                ok(False, "route %s: method %s is called by the matrix test" % (pattern, m))
        # Open rows answer alike with any credential; an unknown API path is a 404 before
        # anyone is asked who they are.
        is_open = (auth, perm) == ("none", "none") or pattern == "/api/*"
        for req in reqs:
            for who in PRINCIPALS:
                r = call(s, tok, who, req.method, req.path, req.body)
                want = req.status_for(who) if is_open or who not in REFUSED else {401}
                want = want if isinstance(want, set) else {want}
                ok(r.status in want, "%s %s %s -> %s" % (who, req.method, req.path,
                                                         "/".join(map(str, sorted(want)))),
                   "got %d" % r.status, r.body[:500])
                if who == "admin":
                    if UUID.encode() in r.raw():
                        admin_saw.add(pattern)
                    continue
                canary_free(who, req, r)
                if who in baselines and req.compare and r.status == 200:
                    base = baselines[who].request(req.method, req.path)
                    same, got, want_b = same_as_baseline(r, base, req.compare, req.path)
                    ok(same, "%s %s: the same answer as an index without what it cannot read"
                       % (who, req.path), "got  %s" % json.dumps(got)[:1500],
                       "want %s" % json.dumps(want_b)[:1500])
    # The test can fail: the administrator does find the canary.
    for pattern in ("/api/v1/search", "/api/v1/search/stream", "/api/v1/symbols",
                    "/api/v1/repos/{name}/file",
                    "/api/v1/repos/{name}/raw", "/api/v1/repos/{name}/tree",
                    "/api/v1/repos/{name}/paths",
                    "/api/v1/repos/{name}/definition", "/api/v1/repos/{name}/references"):
        ok(pattern in admin_saw, "the administrator sees the canary through " + pattern)


def hidden_is_missing(s, tok):
    """Z2: a repository the caller may not read answers byte for byte as a missing one."""
    drop = ("x-request-id", "date")
    for who in ("nogrant", "direct", "member", "oidc", "proxy"):
        for hidden in sorted({"private", "granted"} - READABLE[who]):
            for suffix in ("", "/tree?path=src", "/file?path=README.md", "/raw?path=README.md",
                           "/tree", "/file?path=nope", "/file?path=README.md&rev=nope",
                           "/file?path=README.md&rev=" + "0" * 40,
                           "/tree?rev=" + "a" * 40, "/raw?path=README.md&rev=" + "1" * 12,
                           "/definition?path=README.md&line=1&col=1",
                           "/references?path=README.md&line=1&col=1",
                           "/outline?path=README.md", "/definition?path=nope&line=1&col=1",
                           "/readme", "/readme?path=src", "/readme?path=nope",
                           "/paths", "/paths?rev=nope"):
                a = call(s, tok, who, "GET", "/api/v1/repos/%s%s" % (hidden, suffix))
                b = call(s, tok, who, "GET", "/api/v1/repos/%s%s" % (MISSING, suffix))
                ha = {k: v for k, v in a.headers.items() if k not in drop}
                hb = {k: v for k, v in b.headers.items() if k not in drop}
                ok(a.status == b.status and a.body == b.body and ha == hb,
                   "%s: %s%s answers as %s%s" % (who, hidden, suffix, MISSING, suffix),
                   a.raw()[:600], b.raw()[:600])


def others_tokens(s, tok):
    """Z2 on tokens: another user's token id answers as one that does not exist."""
    theirs = str(tok["direct_id"])
    nothing = "9" * len(theirs) if theirs != "9" * len(theirs) else "8" * len(theirs)
    for who in ("nogrant", "member"):
        a = s.request("DELETE", "/api/v1/tokens/" + theirs, token=tok[who])
        b = s.request("DELETE", "/api/v1/tokens/" + nothing, token=tok[who])
        ok(a.status == 404 and a.body == b.body,
           "%s: gina's token id answers as a missing one" % who, a.raw()[:400], b.raw()[:400])
    ok(s.request("GET", "/api/v1/repos", token=tok["direct"]).status == 200,
       "gina's token still works")


def notices_are_own(s, tok, data):
    """A5: a notice (here: of a token made for gina by the command line) reaches its user only."""
    trawl("token", "create", "gina", "--name", "notice-for-gina", data=data)
    for who in ("nogrant", "direct", "member", "oidc", "proxy", "admin"):
        r = call(s, tok, who, "GET", "/api/v1/me")
        mine = who == "direct"
        ok(r.status == 200 and (b'"notice-for-gina"' in r.body) == mine,
           "%s: %s gina's notice" % (who, "sees" if mine else "does not see"), r.body[:800])


def healthz_is_bare(s, tok):
    """Index-wide figures are the administrators' only (Z3)."""
    for who in PRINCIPALS:
        r = call(s, tok, who, "GET", "/healthz")
        if who == "admin":
            ok(r.status == 200 and "shards" in r.json(), "admin: /healthz has the details",
               r.body)
        else:
            ok(r.status == 200 and r.json() == {"status": "ok"},
               "%s: /healthz says ok and nothing else" % who, r.body)


def hits(s, token, query="CANARY_"):
    r = s.request("GET", "/api/v1/search?q=" + q(query), token=token)
    if r.status != 200:
        return -1
    return r.json()["summary"]["matching_lines"]


def hits_as(s, tok, who, query="CANARY_"):
    r = call(s, tok, who, "GET", "/api/v1/search?q=" + q(query))
    return r.json()["summary"]["matching_lines"] if r.status == 200 else -1


def grants_apply_at_once(s, tok, data):
    """Z4: a grant, a revocation, a membership change: the very next search follows."""
    admin = tok["admin"]
    ok(hits(s, tok["direct"]) == 0, "before any grant: gina finds no canary")
    r = s.request("PUT", "/api/v1/repos/private/access", {"grant": {"users": ["gina"]}},
                  token=admin)
    ok(r.status == 200, "the admin API grants private to gina", r.body)
    ok(hits(s, tok["direct"]) > 0, "granted: gina's next search finds the canary")
    r = s.request("PUT", "/api/v1/repos/private/access", {"revoke": {"users": ["gina"]}},
                  token=admin)
    ok(r.status == 200, "the admin API revokes it", r.body)
    ok(hits(s, tok["direct"]) == 0, "revoked: gina's next search finds nothing")
    ok(s.request("GET", "/api/v1/repos/private", token=tok["direct"]).status == 404,
       "revoked: the repository is missing to gina again")
    trawl("grant", "private", "--group", "team", data=data)
    ok(hits(s, tok["member"]) > 0, "granted to team by the CLI: mike's next search finds it")
    for who in ("oidc", "proxy"):
        ok(hits_as(s, tok, who) > 0, "granted to team: %s's next search finds it too" % who)
    trawl("group", "member", "remove", "team", "mike", data=data)
    ok(hits(s, tok["member"]) == 0, "mike removed from team: his next search finds nothing")
    ok(hits(s, tok["member"], "shared_word") == hits(s, tok["nogrant"], "shared_word"),
       "and he no longer reads granted either")
    trawl("group", "member", "add", "team", "mike", data=data)
    ok(hits(s, tok["member"]) > 0, "mike back in team: the canary is back")
    trawl("revoke", "private", "--group", "team", data=data)
    ok(hits(s, tok["member"]) == 0, "revoked from team by the CLI: gone at once")
    for who in ("oidc", "proxy"):
        ok(hits_as(s, tok, who) == 0, "revoked from team: gone at once for %s too" % who)
    trawl("repo", "set", "private", "--public", data=data)
    ok(hits(s, tok["nogrant"]) > 0, "made public: a user without a grant finds it")
    trawl("repo", "set", "private", "--private", data=data)
    ok(hits(s, tok["nogrant"]) == 0, "private again: gone at once")


def anonymous_public(tmp, data, baseline):
    """--allow-anonymous: a caller without credentials reads the public repository only."""
    s = Server(data, "--allow-anonymous")
    try:
        r = s.request("GET", "/api/v1/repos")
        ok(r.status == 200 and [x["name"] for x in r.json()["repos"]] == ["public"],
           "--allow-anonymous: anonymous lists the public repository only", r.body[:500])
        for query in SEARCHES:
            path = "/api/v1/search?q=" + q(query)
            r = s.request("GET", path)
            req = Req("GET", path, 200)
            canary_free("anonymous (--allow-anonymous)", req, r)
            if r.status == 200:
                same, got, want = same_as_baseline(r, baseline.request("GET", path), "json")
                ok(same, "--allow-anonymous %s: as an index of the public repository" % query,
                   json.dumps(got)[:1000], json.dumps(want)[:1000])
        for repo in ("private", "granted"):
            a = s.request("GET", "/api/v1/repos/%s/file?path=README.md" % repo)
            b = s.request("GET", "/api/v1/repos/%s/file?path=README.md" % MISSING)
            ok(a.status == 404 and a.body == b.body,
               "--allow-anonymous: %s answers as a missing repository" % repo, a.body)
        ok(s.request("GET", "/api/v1/users").status == 401,
           "--allow-anonymous: the admin API still needs a sign-in")
        ok(s.request("GET", "/api/v1/search?q=x",
                     headers={"Authorization": "Bearer trawl_bogus"}).status == 401,
           "--allow-anonymous: a bad credential is refused, not taken as anonymous")
    finally:
        rc = s.stop()
    ok(rc == 0, "--allow-anonymous: the server stops cleanly")
    ok(UUID not in s.logtext(), "--allow-anonymous: the canary is not in the server's log")


def cluster_args(tmp, servers):
    """A cluster's frontend flags, with its searchers started: two, each indexing the
    repositories rendezvous hashing gives it (tests/e2e/test_access_matrix_cluster.py)."""
    secret = os.path.join(tmp, "cluster.secret")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(base64.b64encode(os.urandom(32)).decode())
    names = ("s0", "s1")
    _, out, _ = trawl("cluster", "assign", "--searchers",
                      ",".join("%s=127.0.0.1:1" % n for n in names), *REPOS)
    owner = dict(line.split() for line in out.splitlines())
    listed = []
    for n in names:
        d = data_dir(tmp, "searcher-" + n, [r for r in REPOS if owner[r] == n])
        srv = Server(d, "--role", "searcher", "--self", n, "--cluster-secret-file", secret)
        servers.append(srv)
        listed.append("%s=127.0.0.1:%d" % (n, srv.port))
    return ["--role", "frontend", "--searchers", ",".join(listed), "--cluster-secret-file",
            secret]


def main(cluster=False):
    """With cluster: the server under test is a frontend over searchers (the matrix holds
    through the fan-out), the baselines one process each."""
    tmp = tempfile.mkdtemp(prefix="trawl-matrix-")
    servers = []
    p = None
    CLUSTER[0] = cluster
    try:
        fixture(tmp)
        data = data_dir(tmp, "data", REPOS)
        base_pub = Server(data_dir(tmp, "base-pub", ("public",)))
        servers.append(base_pub)
        base_gp = Server(data_dir(tmp, "base-gp", ("granted", "public")))
        servers.append(base_gp)
        tok = setup_accounts(data)
        p, ca, args = oidc_setup(tmp, data)
        if cluster:
            args += cluster_args(tmp, servers)
        s = Server(data, *args)
        servers.append(s)
        tok["oidc"] = OidcSession(s, p, ca)
        tok["proxy"] = PROXY
        baselines = {"nogrant": base_pub, "direct": base_gp, "member": base_gp,
                     "oidc": base_gp, "proxy": base_gp}
        sweep(s, tok, baselines)
        hidden_is_missing(s, tok)
        others_tokens(s, tok)
        notices_are_own(s, tok, data)
        healthz_is_bare(s, tok)
        grants_apply_at_once(s, tok, data)
        ok(s.stop() == 0, "the server stops cleanly (no sanitizer report)")
        log = s.logtext()
        ok(UUID not in log, "the canary is not in the server's log", log[-2000:])
        audit = open(os.path.join(data, "audit", "audit.log"), encoding="utf-8", errors="replace").read()
        ok(UUID not in audit, "the canary is not in the audit log")
        ok('"search"' in audit, "the searches are in the audit log", audit[-1000:])
        anonymous_public(tmp, data, base_pub)
    finally:
        for x in servers:
            if x.p.poll() is None:
                x.stop()
        if p:
            p.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
