#!/usr/bin/env python3
"""The authentication proxy header (--auth-proxy-header, docs/sso.md): the real server on
loopback, with 127.0.0.2 as the trusted proxy and 127.0.0.3 as anyone else.

A trusted peer's X-Forwarded-User names the caller and X-Forwarded-Groups its synced groups,
which decide what it reads; from an untrusted peer both headers are ignored entirely (the
request is answered as if they were absent); a proxy user together with a session cookie or a
token, a header sent twice, a bad name or a disabled user is a 401; a proxy user's change from
another origin is a 403. A proxy user's API token lives at most --external-token-max-age (7
days by default); trawl.conf's external-token-max-age and oidc-groups-prefix apply, the
prefixed synced group never meets a hand-made one, and it is deleted once left empty."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402
from serverlib import ok, done  # noqa: E402
from teamlib import index_repo, token_create, trawl, user_add, write_tree  # noqa: E402

PROXY, STRANGER = "127.0.0.2", "127.0.0.3"
SECRET_WORD = "proxyCANARY"


def get(s, path, source, headers=None, method="GET", body=None):
    h = dict(headers or {})
    if body is not None:
        body = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    return serverlib.request(s.port, method, path, body, h, source=source)


def as_user(name, groups=None):
    h = {"X-Forwarded-User": name}
    if groups is not None:
        h["X-Forwarded-Groups"] = groups
    return h


def names(body):
    return sorted(r["name"] for r in json.loads(body)["repos"])


def setup(tmp):
    data = os.path.join(tmp, "data")
    user_add(data, "root", admin=True)
    user_add(data, "bob")
    for name in ("public", "secret"):
        src = os.path.join(tmp, "src-" + name)
        write_tree(src, {"README.md": "%s %s\n" % (name, SECRET_WORD)})
        index_repo(data, name, src)
    return data


def trusted_peer_is_believed(s, data):
    st, _, body, _ = get(s, "/api/v1/me", PROXY, as_user("alice", "eng, ops"))
    me = json.loads(body) if st == 200 else {}
    ok(st == 200 and me.get("name") == "alice" and me.get("auth") == "proxy",
       "trusted peer: X-Forwarded-User names the caller", st, body)
    ok(not me.get("is_admin"), "a proxy user is never made an administrator", body)
    _, out, _ = trawl("user", "list", data=data)
    ok("alice" in out, "the proxy user was provisioned on first sight", out)


def untrusted_peer_is_ignored(s, data):
    st, _, body, _ = get(s, "/api/v1/me", STRANGER, as_user("root", "eng"))
    st0, _, body0, _ = get(s, "/api/v1/me", STRANGER)
    ok(st == 401 and (st, body) == (st0, body0),
       "untrusted peer: the header is ignored (answered as without it)", st, body, body0)
    tok, _ = token_create(data, "bob")
    st, _, body, _ = get(s, "/api/v1/me", STRANGER,
                         dict(as_user("root"), Authorization="Bearer " + tok))
    me = json.loads(body) if st == 200 else {}
    ok(st == 200 and me.get("name") == "bob" and me.get("auth") == "token",
       "untrusted peer: a token with the header is the token's user, not ambiguous", st, body)
    get(s, "/api/v1/me", STRANGER, as_user("mallory"))
    _, out, _ = trawl("user", "list", data=data)
    ok("mallory" not in out, "untrusted peer: nobody is provisioned")


def groups_decide_what_is_read(s, data):
    st, _, body, _ = get(s, "/api/v1/repos", PROXY, as_user("carol", "eng"))
    ok(st == 200 and names(body) == [], "carol in eng, nothing granted: no repository", body)
    trawl("grant", "secret", "--group", "eng", data=data)
    st, _, body, _ = get(s, "/api/v1/repos", PROXY, as_user("carol", "eng"))
    ok(st == 200 and names(body) == ["secret"], "a grant to the synced group eng applies",
       st, body)
    st, _, body, _ = get(s, "/api/v1/repos", PROXY, as_user("carol", "ops"))
    ok(st == 200 and names(body) == [], "carol moved to ops at the proxy: the grant is gone",
       st, body)
    st, _, body, _ = get(s, "/api/v1/repos", PROXY, as_user("carol"))
    ok(st == 200 and names(body) == [], "no groups header: no synced groups", st, body)
    st, _, body, _ = get(s, "/api/v1/repos", PROXY, as_user("carol", " eng ,,"))
    ok(st == 200 and names(body) == ["secret"], "blanks and empty names are dropped", body)


def ambiguous_or_bad_is_refused(s, data):
    tok, _ = token_create(data, "root", scope="admin")
    st, _, _, _ = get(s, "/api/v1/me", PROXY, dict(as_user("alice"),
                                                     Authorization="Bearer " + tok))
    ok(st == 401, "a proxy user with a Bearer token is ambiguous: 401", st)
    cookie = "__Host-trawl_session=" + "A" * 43
    st, _, _, _ = get(s, "/api/v1/me", PROXY, dict(as_user("alice"), Cookie=cookie))
    ok(st == 401, "a proxy user with a session cookie is ambiguous: 401", st)
    st, _, body, _ = get(s, "/api/v1/me", PROXY, dict(as_user("alice"),
                                                        Cookie="_oauth2_proxy=abc"))
    ok(st == 200 and json.loads(body)["name"] == "alice",
       "the proxy's own cookie is not trawl's: no ambiguity", st, body)
    for bad in ("../root", "-x", "a" * 200):
        st, _, _, _ = get(s, "/api/v1/me", PROXY, as_user(bad))
        ok(st == 401, "a proxy user named %r is a 401" % bad[:20], st)
    c = serverlib.http.client.HTTPConnection("127.0.0.1", s.port, source_address=(PROXY, 0))
    c.putrequest("GET", "/api/v1/me")
    c.putheader("X-Forwarded-User", "alice")
    c.putheader("X-Forwarded-User", "root")
    c.endheaders()
    r = c.getresponse()
    r.read()
    c.close()
    ok(r.status == 401, "X-Forwarded-User sent twice is a 401", r.status)


def disabled_user_is_refused(s, data):
    get(s, "/api/v1/me", PROXY, as_user("dave"))
    trawl("user", "disable", "dave", data=data)
    st, _, _, _ = get(s, "/api/v1/me", PROXY, as_user("dave"))
    ok(st == 401, "a disabled proxy user is refused", st)


def csrf_holds_for_proxy_users(s):
    body = {"name": "t"}
    st, _, _, _ = get(s, "/api/v1/tokens", PROXY,
                      dict(as_user("alice"), Origin="https://evil.example"), "POST", body)
    ok(st == 403, "a proxy user's POST from another origin is a 403", st)
    st, _, _, _ = get(s, "/api/v1/tokens", PROXY,
                      dict(as_user("alice"), **{"Sec-Fetch-Site": "cross-site"}), "POST", body)
    ok(st == 403, "a proxy user's cross-site POST is a 403", st)
    st, _, _, _ = get(s, "/api/v1/tokens", PROXY, as_user("alice"), "POST", body)
    ok(st == 201, "a proxy user's same-origin POST passes (no CSRF token needed)", st)


def tokens_are_bounded(s, days_ok, days_refused):
    """A proxy user's token outlives the provider's say only up to --external-token-max-age."""
    st, _, body, _ = get(s, "/api/v1/tokens", PROXY, as_user("erin"), "POST",
                         {"name": "long", "expires_days": days_refused})
    ok(st == 400 and b"--external-token-max-age" in body,
       "a proxy user's token beyond the bound is refused, naming the flag", st, body)
    st, _, body, _ = get(s, "/api/v1/tokens", PROXY, as_user("erin"), "POST",
                         {"name": "short", "expires_days": days_ok})
    ok(st == 201, "a proxy user's token within the bound is made", st, body)
    st, _, body, _ = get(s, "/api/v1/me", PROXY, as_user("erin"))
    me = json.loads(body) if st == 200 else {}
    ok(me.get("auth") == "proxy" and me.get("token_max_days") == days_ok,
       "/api/v1/me tells the proxy user's token bound in days (the token form's limit)",
       st, body)


def conf_sets_bound_and_prefix(tmp, data):
    """trawl.conf's external-token-max-age and oidc-groups-prefix: the proxy's groups are
    named with the prefix, apart from a hand-made group of the same name."""
    with open(os.path.join(data, "trawl.conf"), "w") as f:
        f.write("external-token-max-age = 2d\noidc-groups-prefix = px-\n")
    trawl("group", "add", "qa", data=data)
    trawl("grant", "secret", "--group", "qa", data=data)
    s = serverlib.Server(data, "--sync-interval", "0", "--trusted-proxy", PROXY,
                         "--auth-proxy-header", "X-Forwarded-User",
                         "--auth-proxy-groups-header", "X-Forwarded-Groups")
    try:
        tokens_are_bounded(s, 2, 3)
        st, _, body, _ = get(s, "/api/v1/repos", PROXY, as_user("frank", "qa"))
        ok(st == 200 and "secret" not in names(body),
           "with a prefix, the proxy's group qa does not meet the hand-made qa", st, body)
        _, out, _ = trawl("group", "list", "--json", data=data)
        groups = {g["name"]: g for g in map(json.loads, out.splitlines())}
        ok("px-qa" in groups and "frank" in groups["px-qa"].get("members", []),
           "the synced group is px-qa", out)
        get(s, "/api/v1/me", PROXY, as_user("frank", ""))
        _, out, _ = trawl("group", "list", "--json", data=data)
        ok("px-qa" not in out and '"qa"' in out,
           "the synced group left empty and without a grant is deleted; the hand-made stays",
           out)
        serverlib.stop_clean(s, [])
    finally:
        if s.p.poll() is None:
            s.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-proxy-")
    s = None
    try:
        data = setup(tmp)
        s = serverlib.Server(data, "--sync-interval", "0", "--trusted-proxy", PROXY,
                             "--auth-proxy-header", "X-Forwarded-User",
                             "--auth-proxy-groups-header", "X-Forwarded-Groups")
        trusted_peer_is_believed(s, data)
        untrusted_peer_is_ignored(s, data)
        groups_decide_what_is_read(s, data)
        ambiguous_or_bad_is_refused(s, data)
        disabled_user_is_refused(s, data)
        csrf_holds_for_proxy_users(s)
        tokens_are_bounded(s, 7, 8)
        serverlib.stop_clean(s, [])
        s = None
        conf_sets_bound_and_prefix(tmp, data)
    finally:
        serverlib.cleanup(s, tmp)
    done()


if __name__ == "__main__":
    main()
