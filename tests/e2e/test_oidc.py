#!/usr/bin/env python3
"""End-to-end tests of single sign-on with OpenID Connect (docs/sso.md; docs/security.md O1-O4):
the real `trawl serve` in team mode against the provider of oidc_provider.py over HTTPS (its CA
given as --oidc-ca-file, the client secret in a 0600 file). The browser is played by this
script: http.client to trawl with a cookie jar of its own, urllib to the provider.

A good sign-in (RS256 and ES256) gives a session that reads exactly the repositories granted
to the provider's groups; each of the provider's switches (a broken ID token) is refused with
its reason word on the page and in the audit trail, and sets no session; a replayed state and
a callback with another browser's binding cookie (or none) are refused, and leave the login
under way usable, as do a forged callback and another site starting a login over it; hundreds
of logins from other addresses do not push a login under way out; a slow provider /token holds
single sign-on's threads only (503 when they are full) while a password sign-in still
answers; a group changed at the
provider changes the grant at the next sign-in; the admin group makes an administrator and
leaving it unmakes one; a local password account of the same name is not taken over; an
unknown kid is refused and a rotated key is fetched; no secret reaches trawl's log or
audit.log. Then: --password-sign-in off refuses POST /api/v1/session, and a server whose
provider is down still starts and serves, its login failing with a message.

    python3 tests/e2e/test_oidc.py
"""
import base64
import http.client
import json
import os
import shutil
import ssl
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oidc_provider  # noqa: E402
from teamlib import Server, done, index_repo, ok, trawl, user_add, write_tree  # noqa: E402

EXTERNAL = "https://trawl.test"
SESSION = "__Host-trawl_session"
BINDING = "__Host-trawl_oidc"
PW = "a long enough test password 1"
CANARY = "zq7ssocanary"
# Every repository has the canary: a search for it names exactly the readable ones.
REPOS = ("eng-repo", "ops-repo", "secret-repo")
GRANTS = {"eng-repo": "eng", "ops-repo": "ops"}
ADMIN_GROUP = "trawl-admins"
DOMAIN = "example.com"
SEEN_COOKIES = []  # every session and binding cookie trawl set: none may be logged
# Each Browser comes from its own loopback address: the audit trail keeps 10 refusals a minute
# of one address (docs/security.md, "Bounds on refused requests"), and this test makes more.
ADDRESSES = iter("127.0.%d.%d" % (i // 250 + 1, i % 250 + 1) for i in range(2500))

# Each switch of the provider and the reason word trawl must give (src/sso/sso.h, sso_finish).
REFUSALS = [
    ("none", "alg_not_allowed"),
    ("hmac_public_key", "alg_not_allowed"),
    ("wrong_issuer", "bad_issuer"),
    ("wrong_audience", "bad_audience"),
    ("aud_array_no_azp", "bad_azp"),
    ("expired", "expired"),
    ("future_nbf", "not_yet_valid"),
    ("bad_signature", "bad_signature"),
    ("missing_nonce", "nonce_mismatch"),
    ("wrong_nonce", "nonce_mismatch"),
    ("email_unverified", "email_unverified"),
    ("outside_domain", "domain_not_allowed"),
]


class Browser:
    """One browser: its own cookies for trawl (name -> value; Secure is ignored, as browsers
    do on loopback), and a connection to the provider that trusts its CA and follows no
    redirect."""

    def __init__(self, s, p, ca):
        self.s, self.p = s, p
        self.cookies = {}
        self.address = next(ADDRESSES)
        self.ctx = ssl.create_default_context(cafile=ca)

    def trawl(self, method, path, body=None, headers=None):
        """A request to trawl with this browser's cookies: (status, headers, body, set-cookie
        lines); the cookies it sets are kept, those it clears dropped."""
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if body is not None:
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=60,
                                       source_address=(self.address, 0))
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        sc = r.msg.get_all("Set-Cookie") or []
        for line in sc:
            name, _, rest = line.partition("=")
            value = rest.split(";")[0]
            cleared = not value or "max-age=0" in line.lower() or "expires=thu, 01 jan 1970" \
                in line.lower()
            if cleared:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
                SEEN_COOKIES.append(value)
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data, sc

    def idp(self, url):
        """GET url at the provider, no redirect followed: (status, Location)."""
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None
        o = urllib.request.build_opener(urllib.request.HTTPSHandler(context=self.ctx),
                                        NoRedirect)
        try:
            r = o.open(url, timeout=30)
            return r.status, r.headers.get("Location")
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Location")

    def begin(self, return_to="/"):
        """GET /auth/oidc/login, then the provider's authorization (direct mode): the callback
        path trawl's redirect URI gets, or (None, why)."""
        st, h, b, _ = self.trawl("GET", "/auth/oidc/login?return_to=" +
                                 urllib.parse.quote(return_to, safe=""))
        loc = h.get("location", "")
        if st != 302 or not loc.startswith(self.p.issuer + "/authorize?"):
            return None, "login: %d %s %s" % (st, loc, b[:300])
        st, cb = self.idp(loc)
        if st != 302 or not cb or not cb.startswith(EXTERNAL + "/auth/oidc/callback?"):
            return None, "provider: %d %s" % (st, cb)
        return cb[len(EXTERNAL):], None

    def callback(self, path):
        return self.trawl("GET", path)

    def sign_in(self, user, return_to="/"):
        """The whole flow for user: (callback status, headers, body, set-cookie lines), or
        None when it did not reach the callback."""
        self.p.direct_user = user
        path, why = self.begin(return_to)
        if path is None:
            ok(False, "the flow reaches the callback", why)
            return None
        return self.callback(path)

    def me(self):
        st, _, b, _ = self.trawl("GET", "/api/v1/me")
        return json.loads(b) if st == 200 else None

    def readable(self):
        """The repositories a search for the canary finds, or None when it is refused."""
        st, _, b, _ = self.trawl("GET", "/api/v1/search?q=" + CANARY)
        if st != 200:
            return None
        return sorted({r.get("repo") for r in json.loads(b).get("results", [])})


def session_set(sc):
    return any(x.startswith(SESSION + "=") and x.split(";")[0] != SESSION + "="
               and "max-age=0" not in x.lower() for x in sc)


def audit_lines(data):
    try:
        with open(os.path.join(data, "audit", "audit.log"), encoding="utf-8", errors="replace") as f:
            return [json.loads(x) for x in f if x.strip()]
    except FileNotFoundError:
        return []


def audited(data, event, word=None, since=0):
    """Whether an event of this kind (after the first `since` lines) mentions word; waits up to
    10 s for the audit trail's flush."""
    for _ in range(100):
        for e in audit_lines(data)[since:]:
            if e.get("event") == event and (word is None or word in json.dumps(e)):
                return True
        time.sleep(0.1)
    return False


def fixture(tmp):
    data = os.path.join(tmp, "data")
    for r in REPOS:
        src = os.path.join(tmp, "src-" + r)
        write_tree(src, {"README.md": "%s in %s\n" % (CANARY, r)})
        index_repo(data, r, src)
    user_add(data, "root", admin=True)
    for r, g in GRANTS.items():
        trawl("group", "add", g, data=data)
        trawl("grant", r, "--group", g, data=data)
    user_add(data, "carol@example.com", password=PW)
    secret_file = os.path.join(tmp, "client-secret")
    return data, secret_file


def write_secret(path, secret):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")


def oidc_args(p, ca, secret_file):
    return ["--external-url", EXTERNAL, "--oidc-issuer", p.issuer,
            "--oidc-client-id", p.client_id, "--oidc-client-secret-file", secret_file,
            "--oidc-ca-file", ca, "--oidc-allowed-domain", DOMAIN,
            "--oidc-admin-group", ADMIN_GROUP]


def check_good(b, user, groups_read, desc, return_to="/"):
    """A sign-in that must succeed: a session, the return_to, the readable set."""
    n_tok = len(b.p.token_requests)
    r = b.sign_in(user, return_to)
    if r is None:
        return False
    st, h, body, sc = r
    ok(st in (200, 302, 303) and session_set(sc), "%s: the callback sets a session" % desc,
       st, sc, body[:500])
    if st == 200:
        ok(("url=" + return_to).encode() in body.replace(b"&amp;", b"&") or
           return_to.encode() in body, "%s: the page sends the browser to return_to" % desc,
           body[:500])
    else:
        ok(h.get("location") == return_to, "%s: redirected to return_to" % desc, h)
    ok(any(x.startswith(BINDING + "=") for x in sc) and BINDING not in b.cookies,
       "%s: the binding cookie is cleared" % desc, sc)
    ok(b.p.token_requests[n_tok:] == [(200, None)],
       "%s: the provider accepted trawl's code exchange (client secret, PKCE verifier)" % desc,
       b.p.token_requests[n_tok:])
    me = b.me()
    ok(me is not None and me.get("name") == user and me.get("auth") == "session",
       "%s: /api/v1/me names %s" % (desc, user), me)
    got = b.readable()
    ok(got == sorted(groups_read), "%s: reads exactly %s" % (desc, sorted(groups_read)), got)
    return me


def check_refused(b, data, user, reason, desc):
    since = len(audit_lines(data))
    r = b.sign_in(user)
    if r is None:
        return
    st, _, body, sc = r
    ok(st in (400, 401, 403) and not session_set(sc),
       "%s: refused (%d) without a session" % (desc, st), sc, body[:400])
    ok(reason.encode() in body, "%s: the page says %s" % (desc, reason), body[:600])
    ok(SESSION not in b.cookies and b.me() is None, "%s: no session afterwards" % desc)
    ok(audited(data, "sso_refused", reason, since),
       "%s: sso_refused with %s in the audit trail" % (desc, reason),
       json.dumps(audit_lines(data)[since:])[-1500:])


def provider_exchange(p, ca, verifier, challenge, secret=None):
    """A code for alice (direct mode) with challenge, redeemed with verifier: the provider's
    (status, error)."""
    p.direct_user = "alice@example.com"
    q = urllib.parse.urlencode({"client_id": p.client_id, "response_type": "code",
                                "redirect_uri": EXTERNAL + "/cb", "state": "s", "nonce": "n",
                                "code_challenge": challenge, "code_challenge_method": "S256"})
    b = Browser(None, p, ca)
    st, loc = b.idp(p.issuer + "/authorize?" + q)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(loc or "").query).get("code", [""])[0]
    auth = base64.b64encode(("%s:%s" % (p.client_id, secret or p.client_secret)).encode())
    form = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                   "redirect_uri": EXTERNAL + "/cb",
                                   "code_verifier": verifier}).encode()
    req = urllib.request.Request(p.issuer + "/token", data=form,
                                 headers={"Authorization": "Basic " + auth.decode()})
    try:
        r = urllib.request.urlopen(req, context=b.ctx, timeout=30)
        return r.status, None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()).get("error")


def test_provider(p, ca):
    """The provider refuses what trawl must get right, so its accepting trawl's exchange
    proves trawl sent the PKCE verifier and client secret it should."""
    v = "v" * 43
    c = oidc_provider.pkce_challenge(v)
    ok(provider_exchange(p, ca, v, c) == (200, None),
       "the provider redeems a code with the right verifier")
    ok(provider_exchange(p, ca, "w" * 43, c) == (400, "invalid_grant"),
       "the provider refuses a wrong PKCE verifier")
    ok(provider_exchange(p, ca, v, c, secret="not-the-secret")[0] == 401,
       "the provider refuses a wrong client secret")


def test_good(s, p, ca, data):
    b = Browser(s, p, ca)
    me = check_good(b, "alice@example.com", ["eng-repo"], "RS256 sign-in", "/search?q=x")
    ok(me and me.get("is_admin") is False, "a new IdP user is no administrator", me)
    ok(audited(data, "sso_sign_in", "alice@example.com"), "sso_sign_in is audited")
    ok(audited(data, "user_created", "alice@example.com"), "user_created is audited")
    r = b.trawl("GET", "/api/v1/repos/secret-repo")
    ok(r[0] == 404, "the ungranted repository is missing to alice", r[0])
    p.switch = "es256"
    b2 = Browser(s, p, ca)
    check_good(b2, "alice@example.com", ["eng-repo"], "ES256 sign-in")
    p.switch = None


def test_refusals(s, p, ca, data):
    for sw, reason in REFUSALS:
        p.switch = sw
        check_refused(Browser(s, p, ca), data, "dave@example.com", reason, "switch " + sw)
    p.switch = None
    p.add_user("erin@example.com", groups=["eng"], email_verified=False)
    check_refused(Browser(s, p, ca), data, "erin@example.com", "email_unverified",
                  "a user whose email is not verified")
    p.add_user("frank@elsewhere.example", groups=["eng"])
    check_refused(Browser(s, p, ca), data, "frank@elsewhere.example", "domain_not_allowed",
                  "a user outside the allowed domain")


def test_state(s, p, ca, data):
    """A replayed callback; another browser's binding cookie; none."""
    b = Browser(s, p, ca)
    p.direct_user = "alice@example.com"
    path, why = b.begin()
    ok(path is not None, "replay: the flow reaches the callback", why)
    binding = b.cookies.get(BINDING)
    st, _, _, sc = b.callback(path)
    ok(st in (200, 302, 303) and session_set(sc), "replay: the first callback signs in", st)
    since = len(audit_lines(data))
    again = Browser(s, p, ca)  # the same browser's binding cookie, as it was
    again.cookies[BINDING] = binding
    st, _, body, sc = again.callback(path)
    ok(st in (400, 401, 403) and not session_set(sc), "replay: the same callback again is "
       "refused", st, body[:300])
    ok(audited(data, "sso_refused", "replayed_state", since),
       "replay: replayed_state in the audit trail")

    for desc, other in (("another browser's binding cookie", True), ("no binding cookie", False)):
        victim, attacker = Browser(s, p, ca), Browser(s, p, ca)
        path, why = victim.begin()
        ok(path is not None, "%s: the flow reaches the callback" % desc, why)
        if other:
            attacker.begin()  # the attacker's own binding cookie, for another state
        since = len(audit_lines(data))
        st, _, body, sc = attacker.callback(path)
        ok(st in (400, 401, 403) and not session_set(sc),
           "%s: the victim's callback is refused" % desc, st, body[:300])
        ok(audited(data, "sso_refused", "binding_mismatch", since),
           "%s: binding_mismatch in the audit trail" % desc)
        ok(not any(x.startswith(BINDING + "=") for x in sc),
           "%s: the refusal clears no binding cookie" % desc, sc)
        st, _, _, sc = victim.callback(path)
        ok(st in (200, 302, 303) and session_set(sc), "%s: the victim's own callback after it "
           "still signs in" % desc, st)


def test_state_games(s, p, ca, data):
    """Another site sends the victim's browser to a forged callback, another login's callback
    and a new login while the victim's login is under way: none of them breaks it."""
    victim, attacker = Browser(s, p, ca), Browser(s, p, ca)
    p.direct_user = "alice@example.com"
    path, why = victim.begin()
    ok(path is not None, "state games: the flow reaches the callback", why)
    binding = victim.cookies.get(BINDING)
    other, _ = attacker.begin()
    since = len(audit_lines(data))
    for desc, cb, reason in (("a forged state", "/auth/oidc/callback?state=x&code=y",
                              "unknown_state"),
                             ("another login's callback", other, "binding_mismatch")):
        st, _, body, sc = victim.callback(cb)
        ok(st in (400, 401) and reason.encode() in body and not session_set(sc),
           "state games: %s is refused with %s" % (desc, reason), st, body[:300])
        ok(victim.cookies.get(BINDING) == binding,
           "state games: %s leaves the binding cookie alone" % desc, sc)
    ok(audited(data, "sso_refused", "unknown_state", since),
       "state games: unknown_state in the audit trail")
    st, _, body, sc = victim.trawl("GET", "/auth/oidc/login", headers={
        "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    ok(st == 409 and b"login_over_pending" in body and not sc,
       "state games: another site may not start a login over one under way", st, body[:300], sc)
    st, _, _, sc = victim.callback(path)
    ok(st in (200, 302, 303) and session_set(sc) and BINDING not in victim.cookies,
       "state games: the victim's login still signs in and clears its cookie", st, sc)
    b = Browser(s, p, ca)
    st, h, _, sc = b.trawl("GET", "/auth/oidc/login", headers={"Sec-Fetch-Site": "cross-site"})
    ok(st == 302 and BINDING in b.cookies,
       "state games: another site may start a login when none is under way", st, sc)
    st, h, _, sc = b.trawl("GET", "/auth/oidc/login", headers={"Sec-Fetch-Site": "same-origin"})
    ok(st == 302 and any(x.startswith(BINDING + "=") for x in sc),
       "state games: this server's own page may start a new login over one", st, sc)


def test_flood(s, p, ca, data, n=300):
    """Logins started by others, from as many addresses, push no login under way out: the
    server keeps no table of them."""
    victim = Browser(s, p, ca)
    p.direct_user = "alice@example.com"
    path, why = victim.begin("/search?q=flood")
    ok(path is not None, "flood: the flow reaches the callback", why)
    codes = {}
    for _ in range(n):
        st = Browser(s, p, ca).trawl("GET", "/auth/oidc/login")[0]
        codes[st] = codes.get(st, 0) + 1
    ok(codes.get(302) == n, "flood: %d logins from %d addresses are all started" % (n, n), codes)
    st, _, body, sc = victim.callback(path)
    ok(st in (200, 302, 303) and session_set(sc),
       "flood: the login begun before them still signs in", st, body[:300])


def test_slow_provider(s, p, ca, data):
    """/token takes 6 s: callbacks (each with a state and cookie of its own login) hold single
    sign-on's threads; one more is told to come back; a password sign-in still answers."""
    junk = []
    for _ in range(8):
        b = Browser(s, p, ca)
        st, h, _, _ = b.trawl("GET", "/auth/oidc/login")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(h.get("location", "")).query)
        junk.append((b, "/auth/oidc/callback?code=junk&state=" + q.get("state", [""])[0]))
    p.token_delay = 6
    got = []
    threads = [threading.Thread(target=lambda b=b, path=path: got.append(b.callback(path)[0]))
               for b, path in junk]
    try:
        for t in threads:
            t.start()
        time.sleep(1)
        b = Browser(s, p, ca)
        st, h, _, _ = b.trawl("GET", "/auth/oidc/login")
        ok(st == 503 and h.get("retry-after"),
           "slow provider: single sign-on over its bound is 503 with Retry-After", st, h)
        t0 = time.time()
        st, _, _, sc = Browser(s, p, ca).trawl("POST", "/api/v1/session",
                                              {"user": "carol@example.com", "password": PW})
        ok(st == 200 and session_set(sc) and time.time() - t0 < 4,
           "slow provider: a password sign-in still answers at once (%.1f s)" % (
               time.time() - t0), st)
    finally:
        for t in threads:
            t.join(60)
        p.token_delay = 0
    ok(sorted(got) == [401] * 8, "slow provider: the junk callbacks are refused", got)


def test_groups(s, p, ca, data):
    p.set_groups("alice@example.com", ["ops"])
    b = Browser(s, p, ca)
    check_good(b, "alice@example.com", ["ops-repo"], "groups changed to ops at the provider")
    ok(audited(data, "group_sync", "ops"), "group_sync is audited")
    p.set_groups("alice@example.com", ["eng", "ops"])
    check_good(Browser(s, p, ca), "alice@example.com", ["eng-repo", "ops-repo"],
               "in eng and ops")
    p.set_groups("alice@example.com", [])
    check_good(Browser(s, p, ca), "alice@example.com", [], "in no group")
    p.set_groups("alice@example.com", ["eng"])


def test_admin(s, p, ca, data):
    p.add_user("boss@example.com", groups=[ADMIN_GROUP])
    me = check_good(Browser(s, p, ca), "boss@example.com", list(REPOS),
                    "a member of the admin group")
    ok(me and me.get("is_admin") is True, "the admin group makes an administrator", me)
    p.set_groups("boss@example.com", ["eng"])
    me = check_good(Browser(s, p, ca), "boss@example.com", ["eng-repo"],
                    "out of the admin group")
    ok(me and me.get("is_admin") is False, "leaving the admin group unmakes the administrator",
       me)


def test_takeover(s, p, ca, data):
    """A local password account named like the provider's user stays the local user's."""
    p.add_user("carol@example.com", groups=[ADMIN_GROUP, "eng"])
    b = Browser(s, p, ca)
    since = len(audit_lines(data))
    r = b.sign_in("carol@example.com")
    if r:
        ok(r[0] in (401, 403) and not session_set(r[3]) and b"account_conflict" in r[2],
           "the provider's carol@example.com does not take over the local account "
           "(account_conflict)", r[0], r[2][:400])
    ok(audited(data, "sso_refused", "account_conflict", since),
       "the take-over attempt is in the audit trail")
    _, out, _ = trawl("user", "list", data=data)
    line = [x for x in out.splitlines() if "carol@example.com" in x]
    ok(line and "source: local" in line[0] and "\tadmin\t" not in line[0],
       "carol is still a local account and no administrator", out)
    st, _, body, _ = b.trawl("POST", "/api/v1/session", {"user": "carol@example.com",
                                                         "password": PW})
    ok(st == 200 and json.loads(body).get("user", {}).get("is_admin") is not True,
       "carol still signs in with her password, and is no administrator", st, body[:300])


def test_disabled(s, p, ca, data):
    """A user disabled in trawl stays out whatever the provider says."""
    p.add_user("dora@example.com", groups=["eng"])
    check_good(Browser(s, p, ca), "dora@example.com", ["eng-repo"], "dora's first sign-in")
    trawl("user", "disable", "dora@example.com", data=data)
    check_refused(Browser(s, p, ca), data, "dora@example.com", "account_disabled",
                  "a user disabled in trawl")


def test_rotation(s, p, ca, data, t_unknown):
    """A token signed by a key the JWKS lacks is refused; after a rotation the new key is
    fetched. trawl refetches the keys at most once a minute (SSO_JWKS_REFETCH_S), so the
    rotation waits for that since the unknown kid's attempt."""
    wait = t_unknown + 62 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    p.rotate()
    check_good(Browser(s, p, ca), "alice@example.com", ["eng-repo"],
               "a rotated key (new kid in /jwks)")


def test_unknown_kid(s, p, ca, data):
    p.add_user("dave@example.com", groups=["eng"])
    p.switch = "unknown_kid"
    check_refused(Browser(s, p, ca), data, "dave@example.com", "unknown_kid",
                  "switch unknown_kid")
    p.switch = None
    return time.monotonic()


def test_secrets(s, p, data, secret, cookies):
    log = s.logtext()
    with open(os.path.join(data, "audit", "audit.log"), encoding="utf-8", errors="replace") as f:
        audit = f.read()
    found = [x for x in [secret] + p.issued + p.verifiers + cookies
             if x and (x in log or x in audit)]
    ok(p.issued and p.verifiers and not found,
       "no client secret, code, token, PKCE verifier or cookie in the log or audit.log "
       "(%d checked)" % (1 + len(p.issued) + len(p.verifiers) + len(cookies)),
       [x[:8] + "..." for x in found])


def test_password_off(tmp, data, p, ca, secret_file):
    s = Server(data, *oidc_args(p, ca, secret_file), "--password-sign-in", "off")
    try:
        b = Browser(s, p, ca)
        st, _, body, sc = b.trawl("POST", "/api/v1/session", {"user": "carol@example.com",
                                                               "password": PW})
        ok(st == 403 and not session_set(sc) and b"single sign-on" in body,
           "--password-sign-in off: POST /api/v1/session is 403 and says to use single "
           "sign-on", st, body[:300])
        st, _, body, _ = b.trawl("GET", "/api/v1/auth/methods")
        j = json.loads(body) if st == 200 else {}
        ok(j.get("password") is False and j.get("oidc") is True,
           "--password-sign-in off: /api/v1/auth/methods says so", st, body[:300])
        check_good(b, "alice@example.com", ["eng-repo"], "--password-sign-in off: SSO")
    finally:
        ok(s.stop() == 0, "--password-sign-in off: the server stops cleanly")


def test_provider_down(tmp, data, ca, secret_file):
    """The provider's port closed: the server starts and serves; the login says it failed."""
    down = oidc_provider.Provider(os.path.join(tmp, "down-ca.pem"), client_secret="x" * 32)
    down.stop()  # never started: its port is closed now
    s = Server(data, *oidc_args(down, ca, secret_file))
    try:
        b = Browser(s, down, ca)
        st, _, body, _ = b.trawl("GET", "/healthz")
        ok(st == 200, "provider down: the server starts and answers /healthz", st)
        st, h, body, sc = b.trawl("GET", "/auth/oidc/login?return_to=/")
        ok(st >= 500 and "location" not in h and not session_set(sc) and
           (b"provider" in body.lower() or b"sign-on" in body.lower()),
           "provider down: the login fails with a message naming the provider (%d)" % st,
           body[:400])
        st, _, body, _ = b.trawl("GET", "/healthz")
        ok(st == 200, "provider down: the server still serves after the failed login", st)
    finally:
        ok(s.stop() == 0, "provider down: the server stops cleanly")


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-oidc-")
    s = p = None
    try:
        data, secret_file = fixture(tmp)
        ca = os.path.join(tmp, "idp-ca.pem")
        p = oidc_provider.Provider(ca).start()
        write_secret(secret_file, p.client_secret)
        p.add_user("alice@example.com", groups=["eng"], display="Alice")
        test_provider(p, ca)
        s = Server(data, *oidc_args(p, ca, secret_file))
        test_good(s, p, ca, data)
        t_unknown = test_unknown_kid(s, p, ca, data)
        test_refusals(s, p, ca, data)
        test_state(s, p, ca, data)
        test_state_games(s, p, ca, data)
        test_flood(s, p, ca, data)
        test_slow_provider(s, p, ca, data)
        test_groups(s, p, ca, data)
        test_admin(s, p, ca, data)
        test_takeover(s, p, ca, data)
        test_disabled(s, p, ca, data)
        test_rotation(s, p, ca, data, t_unknown)
        ok(s.stop() == 0, "the server stops cleanly (no sanitizer report)")
        test_secrets(s, p, data, p.client_secret, SEEN_COOKIES)
        test_password_off(tmp, data, p, ca, secret_file)
        test_provider_down(tmp, data, ca, secret_file)
    finally:
        if s and s.p.poll() is None:
            s.stop()
        if p:
            p.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
