#!/usr/bin/env python3
"""The administration API (docs/api.md, "Administration") on the real server in team mode:
users, passwords, groups, members, repository access and the audit trail. For each route its
success, its errors (an unknown user, group or repository: 404; bad JSON, a wrong type, an
unknown field: 400, so no mass assignment (Z6); a body over the limit: 413), that a caller
without the admin right gets 403 (a user, and an administrator's search-scope token) and an
anonymous one 401, that a change named several names applies none when one is unknown, and
that every change is in the audit trail with the acting administrator and the client address,
never with a password.

    python3 tests/e2e/test_admin_api.py
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from teamlib import (Server, done, index_repo, ok, token_create, trawl, user_add,  # noqa: E402
                     write_tree)
from serverlib import cleanup, stop_clean  # noqa: E402

USER_FIELDS = {"name", "display_name", "is_admin", "is_disabled", "created", "last_seen", "groups",
               "source", "issuer", "subject"}
BOB_PW = "bob's first password, long"
BOB_PW2 = "bob's second password, longer"
ROOT_PW = "root's password for the admin test"


def error_code(r):
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def check(r, status, desc, code=None):
    good = r.status == status and (code is None or error_code(r) == code)
    if status not in (204,) and r.body:
        good = good and r.headers.get("content-type", "").startswith("application/json")
    return ok(good, "%s -> %d%s" % (desc, status, " " + code if code else ""),
              "got %d %s" % (r.status, r.body[:600]))


def setup(tmp):
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    for name in ("alpha", "beta"):
        src = os.path.join(tmp, "src-" + name)
        write_tree(src, {"README.md": "word_%s\n" % name})
        index_repo(data, name, src)
    # A repository in the registry only (not indexed yet).
    reg = os.path.join(tmp, "reg")
    write_tree(reg, {"a.txt": "x\n"})
    trawl("repo", "add", "--allow-local", reg, data=data)
    user_add(data, "root", admin=True, password=ROOT_PW)
    return data


def session(s):
    """An administrator's browser session: a change needs its CSRF token (C1)."""
    r = s.request("POST", "/api/v1/session", {"user": "root", "password": ROOT_PW})
    check(r, 200, "root signs in")
    cookie = r.headers.get("set-cookie", "").split(";")[0]
    csrf = r.json().get("csrf_token", "")
    r = s.request("POST", "/api/v1/groups", {"name": "web"}, headers={"Cookie": cookie})
    check(r, 403, "a session's change without its CSRF token", "forbidden")
    r = s.request("POST", "/api/v1/groups", {"name": "web"},
                  headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    check(r, 201, "a session's change with its CSRF token")
    r = s.request("GET", "/api/v1/users", headers={"Cookie": cookie})
    check(r, 200, "a session reads the users without one")
    r = s.request("DELETE", "/api/v1/groups/web",
                  headers={"Cookie": cookie, "X-CSRF-Token": csrf,
                           "Origin": "https://evil.example"})
    check(r, 403, "a change from another origin", "forbidden")
    r = s.request("DELETE", "/api/v1/groups/web", headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    check(r, 204, "and from the page's own")


def users(s, admin, bob_token):
    r = s.request("GET", "/api/v1/users", token=admin)
    check(r, 200, "GET /api/v1/users")
    us = r.json()["users"]
    ok([u["name"] for u in us] == ["root"] and set(us[0]) == USER_FIELDS and us[0]["is_admin"],
       "the list holds root with exactly the USER fields", us)
    r = s.request("POST", "/api/v1/users",
                  {"name": "bob", "display_name": "Bob", "password": BOB_PW}, token=admin)
    check(r, 201, "POST /api/v1/users with a password")
    b = r.json()
    ok(set(b) == {"user"} and b["user"]["name"] == "bob" and b["user"]["display_name"] == "Bob"
       and not b["user"]["is_admin"] and set(b["user"]) == USER_FIELDS,
       "the answer is the new user, without any password", b)
    r = s.request("POST", "/api/v1/users", {"name": "carol"}, token=admin)
    check(r, 201, "POST /api/v1/users without a password")
    c = r.json()
    ok(len(c.get("password", "")) == 20, "a generated password is shown once", c)
    r = s.request("POST", "/api/v1/session", {"user": "carol", "password": c.get("password")})
    check(r, 200, "carol signs in with the generated password")
    check(s.request("POST", "/api/v1/users", {"name": "bob", "password": BOB_PW}, token=admin),
          400, "a taken name", "bad_request")
    check(s.request("POST", "/api/v1/users", {"name": "eve", "is_admin": True}, token=admin),
          400, "an unknown field (is_admin) is refused", "bad_request")
    check(s.request("POST", "/api/v1/users", {"name": "eve", "admin": "yes"}, token=admin),
          400, "admin must be a boolean", "bad_request")
    check(s.request("POST", "/api/v1/users", {"name": "-eve"}, token=admin), 400,
          "a bad name", "bad_request")
    check(s.request("POST", "/api/v1/users", {"name": "eve", "password": "short"}, token=admin),
          400, "a password under the policy", "bad_request")
    check(s.request("POST", "/api/v1/users", {"display_name": "E"}, token=admin), 400,
          "no name", "bad_request")
    check(s.request("POST", "/api/v1/users", b'{"name":', token=admin), 400, "bad JSON",
          "bad_request")
    check(s.request("POST", "/api/v1/users", b'["eve"]', token=admin), 400, "not an object",
          "bad_request")
    check(s.request("POST", "/api/v1/users", {"name": "e" * 8000}, token=admin), 413,
          "a body over the limit", "too_large")
    check(s.request("GET", "/api/v1/users", token=bob_token()), 403, "a user lists users",
          "forbidden")
    check(s.request("POST", "/api/v1/users", {"name": "eve"}, token=bob_token()), 403,
          "a user adds a user", "forbidden")
    check(s.request("GET", "/api/v1/users"), 401, "anonymous lists users", "unauthorized")
    us = s.request("GET", "/api/v1/users", token=admin).json()["users"]
    ok([u["name"] for u in us] == ["bob", "carol", "root"], "eve was never added", us)


def user_changes(s, data, admin, bob_token):
    r = s.request("PUT", "/api/v1/users/bob", {"display_name": "Robert"}, token=admin)
    check(r, 200, "PUT /api/v1/users/bob display_name")
    ok(r.json().get("display_name") == "Robert" and set(r.json()) == USER_FIELDS,
       "the answer is the user", r.body)
    r = s.request("PUT", "/api/v1/users/bob", {"admin": True}, token=admin)
    ok(r.status == 200 and r.json()["is_admin"], "bob made an administrator", r.body)
    r = s.request("PUT", "/api/v1/users/bob", {"admin": False}, token=admin)
    ok(r.status == 200 and not r.json()["is_admin"], "and back", r.body)
    tok = bob_token()
    check(s.request("GET", "/api/v1/repos", token=tok), 200, "bob's token works")
    r = s.request("PUT", "/api/v1/users/bob", {"disabled": True}, token=admin)
    ok(r.status == 200 and r.json()["is_disabled"], "bob disabled", r.body)
    check(s.request("GET", "/api/v1/repos", token=tok), 401, "a disabled user's token")
    r = s.request("PUT", "/api/v1/users/bob", {"disabled": False}, token=admin)
    ok(r.status == 200 and not r.json()["is_disabled"], "bob enabled", r.body)
    check(s.request("GET", "/api/v1/repos", token=tok), 401,
          "the token disabling ended stays ended")
    check(s.request("PUT", "/api/v1/users/root", {"admin": False}, token=admin), 400,
          "the last administrator keeps the flag", "bad_request")
    check(s.request("PUT", "/api/v1/users/root", {"disabled": True}, token=admin), 400,
          "the last administrator cannot be disabled", "bad_request")
    check(s.request("PUT", "/api/v1/users/nobody", {"admin": False}, token=admin), 404,
          "an unknown user", "not_found")
    check(s.request("PUT", "/api/v1/users/bob", {"password": BOB_PW2}, token=admin), 400,
          "a password through PUT /users/{name} is an unknown field", "bad_request")
    check(s.request("PUT", "/api/v1/users/bob", {"disabled": 1}, token=admin), 400,
          "disabled must be a boolean", "bad_request")
    check(s.request("PUT", "/api/v1/users/bob", {"admin": True}, token=bob_token()), 403,
          "bob makes himself an administrator", "forbidden")
    # Passwords.
    tok = bob_token()
    r = s.request("PUT", "/api/v1/users/bob/password", {"password": BOB_PW2}, token=admin)
    check(r, 204, "PUT /api/v1/users/bob/password")
    check(s.request("GET", "/api/v1/repos", token=tok), 401, "a reset ends bob's tokens")
    check(s.request("POST", "/api/v1/session", {"user": "bob", "password": BOB_PW2}), 200,
          "bob signs in with the new password")
    check(s.request("POST", "/api/v1/session", {"user": "bob", "password": BOB_PW}), 401,
          "not with the old one")
    check(s.request("PUT", "/api/v1/users/bob/password", {"password": "short"}, token=admin),
          400, "a reset to a password under the policy", "bad_request")
    check(s.request("PUT", "/api/v1/users/nobody/password", {"password": BOB_PW2},
                    token=admin), 404, "a reset of an unknown user", "not_found")
    check(s.request("PUT", "/api/v1/users/bob/password", {}, token=admin), 400,
          "a reset without a password", "bad_request")
    check(s.request("PUT", "/api/v1/users/bob/password", {"password": BOB_PW2, "current": "x"},
                    token=admin), 400, "a reset with an unknown field", "bad_request")
    check(s.request("PUT", "/api/v1/users/root/password", {"password": BOB_PW2},
                    token=bob_token()), 403, "bob resets root's password", "forbidden")


def groups(s, admin, bob_token):
    r = s.request("POST", "/api/v1/groups", {"name": "devs"}, token=admin)
    check(r, 201, "POST /api/v1/groups")
    ok(r.json() == {"name": "devs", "members": []}, "the answer is the group", r.body)
    check(s.request("POST", "/api/v1/groups", {"name": "devs"}, token=admin), 400,
          "a taken group name", "bad_request")
    check(s.request("POST", "/api/v1/groups", {"name": "x", "members": ["bob"]}, token=admin),
          400, "an unknown field", "bad_request")
    r = s.request("PUT", "/api/v1/groups/devs/members", {"add": ["carol", "bob"]}, token=admin)
    check(r, 200, "PUT members add")
    ok(r.json() == {"name": "devs", "members": ["bob", "carol"]}, "members sorted", r.body)
    r = s.request("PUT", "/api/v1/groups/devs/members", {"remove": ["carol"]}, token=admin)
    ok(r.status == 200 and r.json()["members"] == ["bob"], "PUT members remove", r.body)
    r = s.request("PUT", "/api/v1/groups/devs/members", {"add": ["carol", "nobody"]},
                  token=admin)
    check(r, 404, "adding an unknown user", "not_found")
    r = s.request("GET", "/api/v1/groups", token=admin)
    check(r, 200, "GET /api/v1/groups")
    ok(r.json() == {"groups": [{"name": "devs", "members": ["bob"]}]},
       "nothing of the refused change was applied", r.body)
    check(s.request("PUT", "/api/v1/groups/devs/members", {"add": ["bob"], "remove": ["bob"]},
                    token=admin), 400, "a user added and removed at once", "bad_request")
    check(s.request("PUT", "/api/v1/groups/devs/members", {"add": "bob"}, token=admin), 400,
          "add must be an array", "bad_request")
    check(s.request("PUT", "/api/v1/groups/devs/members", {"set": ["bob"]}, token=admin), 400,
          "an unknown field", "bad_request")
    check(s.request("PUT", "/api/v1/groups/nogroup/members", {"add": ["bob"]}, token=admin),
          404, "an unknown group", "not_found")
    us = s.request("GET", "/api/v1/users", token=admin).json()["users"]
    ok([u["groups"] for u in us if u["name"] == "bob"] == [["devs"]],
       "a user's groups are in USER", us)
    check(s.request("GET", "/api/v1/groups", token=bob_token()), 403, "a user lists groups",
          "forbidden")
    check(s.request("DELETE", "/api/v1/groups/devs", token=bob_token()), 403,
          "a user removes a group", "forbidden")
    s.request("POST", "/api/v1/groups", {"name": "gone"}, token=admin)
    check(s.request("DELETE", "/api/v1/groups/gone", token=admin), 204, "DELETE a group")
    check(s.request("DELETE", "/api/v1/groups/gone", token=admin), 404, "DELETE it again",
          "not_found")
    check(s.request("GET", "/api/v1/groups/devs", token=admin), 405, "GET a group",
          "method_not_allowed")


def repo_names(s, token):
    r = s.request("GET", "/api/v1/repos", token=token)
    return [x["name"] for x in r.json()["repos"]] if r.status == 200 else None


def access(s, admin, bob_token):
    r = s.request("GET", "/api/v1/access", token=admin)
    check(r, 200, "GET /api/v1/access")
    empty = {"public": False, "users": [], "groups": []}
    want = [dict(empty, repo=n) for n in ("alpha", "beta", "reg")]
    ok(r.json() == {"repos": want}, "every repository of the index and the registry", r.body)
    ok(repo_names(s, bob_token()) == [], "bob reads nothing yet")
    r = s.request("PUT", "/api/v1/repos/alpha/access",
                  {"grant": {"users": ["carol"], "groups": ["devs"]}}, token=admin)
    check(r, 200, "PUT access grant")
    ok(r.json() == {"repo": "alpha", "public": False, "users": ["carol"], "groups": ["devs"]},
       "the answer is the repository's row", r.body)
    ok(repo_names(s, bob_token()) == ["alpha"], "bob, in devs, reads alpha at once")
    r = s.request("PUT", "/api/v1/repos/beta/access", {"public": True}, token=admin)
    ok(r.status == 200 and r.json()["public"], "PUT access public", r.body)
    ok(repo_names(s, bob_token()) == ["alpha", "beta"], "and beta, public")
    r = s.request("PUT", "/api/v1/repos/alpha/access",
                  {"revoke": {"groups": ["devs"]}, "grant": {"users": ["bob"]}}, token=admin)
    ok(r.status == 200 and r.json()["users"] == ["bob", "carol"] and r.json()["groups"] == [],
       "grant and revoke in one request", r.body)
    r = s.request("PUT", "/api/v1/repos/reg/access", {"grant": {"users": ["bob"]}},
                  token=admin)
    check(r, 200, "a repository of the registry only")
    r = s.request("PUT", "/api/v1/repos/alpha/access",
                  {"grant": {"users": ["carol", "nobody"]}, "public": True}, token=admin)
    check(r, 404, "an unknown user in a grant", "not_found")
    r = s.request("PUT", "/api/v1/repos/alpha/access", {"grant": {"groups": ["nogroup"]}},
                  token=admin)
    check(r, 404, "an unknown group in a grant", "not_found")
    r = s.request("GET", "/api/v1/access", token=admin)
    rows = {x["repo"]: x for x in r.json()["repos"]}
    ok(rows["alpha"] == {"repo": "alpha", "public": False, "users": ["bob", "carol"],
                         "groups": []}, "nothing of the refused grants was applied", rows)
    ok(rows["reg"]["users"] == ["bob"] and rows["beta"]["public"], "the list shows them", rows)
    check(s.request("PUT", "/api/v1/repos/nothere/access", {"public": True}, token=admin), 404,
          "a repository in neither the index nor the registry", "not_found")
    check(s.request("PUT", "/api/v1/repos/alpha/access", {"grant": {"user": ["bob"]}},
                    token=admin), 400, "an unknown field in grant", "bad_request")
    check(s.request("PUT", "/api/v1/repos/alpha/access", {"owner": "bob"}, token=admin), 400,
          "an unknown field", "bad_request")
    check(s.request("PUT", "/api/v1/repos/alpha/access", {"public": "yes"}, token=admin), 400,
          "public must be a boolean", "bad_request")
    check(s.request("PUT", "/api/v1/repos/alpha/access",
                    {"grant": {"users": ["bob"]}, "revoke": {"users": ["bob"]}}, token=admin),
          400, "a user granted and revoked at once", "bad_request")
    check(s.request("PUT", "/api/v1/repos/alpha/access", {"public": False}, token=bob_token()),
          403, "a user changes access", "forbidden")
    check(s.request("GET", "/api/v1/access", token=bob_token()), 403, "a user lists access",
          "forbidden")
    check(s.request("GET", "/api/v1/repos/alpha/access", token=admin), 405,
          "GET a repository's access", "method_not_allowed")


def audit(s, data, admin, bob_token):
    r = s.request("GET", "/api/v1/audit", token=admin)
    check(r, 200, "GET /api/v1/audit")
    evs = r.json()["events"]
    fields = {"id", "time", "event", "actor", "target", "address", "detail"}
    ok(evs and all(set(e) == fields and isinstance(e["detail"], dict) for e in evs),
       "every event has exactly the EVENT fields", evs[:3])
    mine = [e for e in evs if e["actor"] == "root"]
    ok(len(mine) >= 10 and all(e["address"] == "127.0.0.1" for e in mine),
       "the changes are audited with the administrator and the client address", mine[:5])
    targets = {(e["actor"], e["target"]) for e in mine}
    for t in ("bob", "carol", "devs", "alpha", "beta", "reg"):
        ok(any(t in x[1] for x in targets), "an event of root's targets " + t, sorted(targets))
    text = r.text()
    ok(all(pw not in text for pw in (BOB_PW, BOB_PW2, ROOT_PW)),
       "no password in the audit trail")
    with open(os.path.join(data, "audit", "audit.log"), encoding="utf-8", errors="replace") as f:
        log = f.read()
    ok(all(pw not in log for pw in (BOB_PW, BOB_PW2, ROOT_PW)), "no password in DATA/audit/audit.log")
    ev = mine[-1]["event"]
    r = s.request("GET", "/api/v1/audit?event=" + ev + "&user=root", token=admin)
    ok(r.status == 200 and r.json()["events"] and
       all(e["event"] == ev and e["actor"] == "root" for e in r.json()["events"]),
       "filtered by event and user", r.body[:600])
    r = s.request("GET", "/api/v1/audit?limit=2", token=admin)
    ok(r.status == 200 and len(r.json()["events"]) == 2, "limit", r.body[:600])
    r = s.request("GET", "/api/v1/audit?since=2999-01-01T00:00:00Z", token=admin)
    ok(r.status == 200 and r.json()["events"] == [], "since a future RFC 3339 time", r.body)
    # Every event listed before is listed again. Not "as many": a token's first use of the day
    # is audited once its use is written, which a busy database puts off to a later request,
    # so an event may have joined the trail since (src/auth/auth.c, token_used).
    before = {e["id"] for e in evs}

    def since_keeps_all(q, name):
        r = s.request("GET", "/api/v1/audit?since=" + q, token=admin)
        ok(r.status == 200 and before <= {e["id"] for e in r.json()["events"]}, name, r.body[:300])

    since_keeps_all("1", "since unix seconds")
    since_keeps_all("2020-01-01T01:00:00%2B01:00", "since with an offset")
    since_keeps_all("2020-01-01T00:00:00.250Z", "since with fractions")
    since_keeps_all("2020-01-01", "since a date alone")
    r = s.request("GET", "/api/v1/audit?since=2023-02-29T00:00:00Z", token=admin)
    ok(r.status == 400 and "has no day 29" in r.text(),
       "since a day its month lacks: 400 naming the field", r.body)
    for bad in ("since=yesterday", "since=2026-13-01T00:00:00Z", "since=2026-01-01T00:00:00%2B01",
                "since=2026-01-01T00:00:00%2B0a:00", "since=2026-01-01T00:00:00", "since=-1",
                "limit=0", "limit=x",
                "limit=99999999", "other=1"):
        check(s.request("GET", "/api/v1/audit?" + bad, token=admin), 400, "audit " + bad,
              "bad_request")
    check(s.request("GET", "/api/v1/audit", token=bob_token()), 403, "a user reads the audit",
          "forbidden")
    check(s.request("GET", "/api/v1/audit"), 401, "anonymous reads the audit", "unauthorized")


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-admin-")
    s = None
    try:
        data = setup(tmp)
        admin, _ = token_create(data, "root", scope="admin")
        s = Server(data)
        # A search-scope token of an administrator is no admin credential (A9).
        weak, _ = token_create(data, "root")
        check(s.request("GET", "/api/v1/users", token=weak), 403,
              "an administrator's search-scope token", "forbidden")
        session(s)
        users(s, admin, lambda: token_create(data, "bob")[0])
        user_changes(s, data, admin, lambda: token_create(data, "bob")[0])
        groups(s, admin, lambda: token_create(data, "bob")[0])
        access(s, admin, lambda: token_create(data, "bob")[0])
        audit(s, data, admin, lambda: token_create(data, "bob")[0])
        stop_clean(s, (BOB_PW, BOB_PW2, ROOT_PW, admin))
    finally:
        cleanup(s, tmp)
    done()


if __name__ == "__main__":
    main()
