#!/usr/bin/env python3
"""Notices (docs/security.md, A5; docs/api.md, "Notices") on the real server in team mode: a
password set with `trawl user passwd` and with the admin API, a token made for the user by an
administrator, and the administrator flag granted are each shown to the user in /api/v1/me
(what, when, by whom, from which address), newest first, and never with a secret; a flag asked
as it already is tells nothing; another user sees none of them; POST /api/v1/me/notices/read
(a session with its CSRF token: an API token may not) marks them read up to an id, or all;
laptop mode's /api/v1/me has none.

    python3 tests/e2e/test_notices.py
"""
import datetime
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from teamlib import (Server, done, index_repo, ok, token_create, trawl, user_add,  # noqa: E402
                     write_tree)
from serverlib import cleanup, stop_clean  # noqa: E402

CAROL_PW = "carol's first password, long"
CAROL_PW2 = "carol's second password, longer"
CAROL_PW3 = "carol's third password, longest"
DAVE_PW = "dave's only password, long enough"
READ = "/api/v1/me/notices/read"


def check(r, status, desc):
    return ok(r.status == status, "%s -> %d" % (desc, status), "got %d %s" % (r.status,
                                                                          r.body[:600]))


def sign_in(s, user, password):
    r = s.request("POST", "/api/v1/session", {"user": user, "password": password})
    check(r, 200, "%s signs in" % user)
    return {"Cookie": r.headers.get("set-cookie", "").split(";")[0],
            "X-CSRF-Token": r.json().get("csrf_token", "")}


def notices(s, headers=None, token=None):
    r = s.request("GET", "/api/v1/me", headers=headers, token=token)
    check(r, 200, "GET /api/v1/me")
    return r.json().get("notices"), r


def recent(t):
    try:
        when = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        return False
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return abs((now - when).total_seconds()) < 600


def told(s, data, admin):
    """Carol's password set twice (the CLI, then the admin API), a token made for her, the
    administrator flag granted: four notices, newest first."""
    trawl("user", "passwd", "carol", "--password-stdin", data=data, stdin=CAROL_PW2 + "\n")
    r = s.request("PUT", "/api/v1/users/carol/password", {"password": CAROL_PW3}, token=admin)
    check(r, 204, "root sets carol's password with the admin API")
    r = s.request("POST", "/api/v1/tokens", {"user": "carol", "name": "made-by-root"},
                  token=admin)
    check(r, 201, "root makes a token for carol")
    secret = r.json().get("secret", "")
    for flag in (False, True, True):
        r = s.request("PUT", "/api/v1/users/carol", {"admin": flag}, token=admin)
        check(r, 200, "root sets carol's administrator flag to %s" % flag)
    carol = sign_in(s, "carol", CAROL_PW3)
    got, r = notices(s, carol)
    events = [n.get("event") for n in got or []]
    ok(events == ["admin_granted", "token_created", "password_changed", "password_changed"],
       "carol's notices, newest first, one per change", events)
    if len(events) != 4:
        return carol, got or []
    ids = [n.get("id") for n in got]
    ok(ids == sorted(ids, reverse=True) and len(set(ids)) == 4, "ids, newest first", ids)
    ok(all(recent(n.get("time")) for n in got), "each has its time in UTC (RFC 3339)", got)
    api, cli = got[2], got[3]
    ok(api.get("by") == "root" and api.get("address") == "127.0.0.1"
       and api.get("by_self") is False, "the admin API's change: by root from 127.0.0.1", api)
    ok(cli.get("by") is None and cli.get("address") is None and cli.get("by_self") is False,
       "the command line's change: by nobody, from no address", cli)
    ok(got[1].get("token") == "made-by-root" and got[1].get("by") == "root",
       "the token's notice names it and its maker", got[1])
    ok("token" not in got[0], "only a token's notice has a token field", got[0])
    body = r.body.decode()
    ok(all(x not in body for x in (secret, secret[:12], CAROL_PW2, CAROL_PW3)) and secret,
       "no secret in the notices")
    return carol, got


def own_only(s, carol, got, dave_token):
    dave = sign_in(s, "dave", DAVE_PW)
    mine, r = notices(s, dave)
    theirs = {n["id"] for n in got}
    ok([n.get("event") for n in mine] == ["token_created"] and mine[0].get("by") is None
       and not theirs & {n.get("id") for n in mine} and b"made-by-root" not in r.body,
       "dave sees only his own notice (the CLI made his token), none of carol's", r.body[:600])
    check(s.request("POST", READ, {}, headers=dave), 204, "dave marks his notices read")
    check(s.request("POST", READ, {"through": got[0]["id"]}, headers=dave), 204,
          "dave names carol's newest notice id")
    again, _ = notices(s, carol)
    ok(again == got, "carol's notices are untouched by dave's", again)
    mine, _ = notices(s, token=dave_token)
    ok(mine == [], "dave's token sees none of carol's either (he read his own)", mine)


def mark_read(s, data, admin, carol, got):
    carol_token, _ = token_create(data, "carol")
    check(s.request("POST", READ, {}, headers={"Cookie": carol["Cookie"]}), 403,
          "marking read without the session's CSRF token")
    check(s.request("POST", READ, {}, token=carol_token), 403,
          "marking read with carol's API token (a token may not hide its own notice)")
    for bad in ({"through": "x"}, {"bogus": 1}, {"through": -1}, b"", b"[]"):
        check(s.request("POST", READ, bad, headers=carol), 400, "a body %r" % (bad,))
    check(s.request("POST", READ, {"through": got[2]["id"]}, headers=carol), 204,
          "carol marks the older ones read")
    left, _ = notices(s, carol)
    ids = [n["id"] for n in left]
    ok(len(ids) == 3 and ids[1:] == [got[0]["id"], got[1]["id"]]
       and left[0].get("event") == "token_created", "the newer ones stay unread", left)
    check(s.request("POST", READ, {}, headers=carol), 204, "carol marks every notice read")
    left, _ = notices(s, carol)
    ok(left == [], "and none is listed", left)
    r = s.request("PUT", "/api/v1/users/carol", {"disabled": True}, token=admin)
    check(r, 200, "root disables carol")
    r = s.request("PUT", "/api/v1/users/carol", {"disabled": False}, token=admin)
    check(r, 200, "root enables carol again")
    carol = sign_in(s, "carol", CAROL_PW3)
    left, _ = notices(s, carol)
    ok([n.get("event") for n in left] == ["user_enabled", "user_disabled"],
       "being disabled and enabled is told after signing in again", left)


def laptop(tmp):
    data = os.path.join(tmp, "laptop")
    os.makedirs(data)
    s = Server(data)
    try:
        got, r = notices(s)
        ok(got == [] and r.json().get("mode") == "laptop", "laptop mode: no notices", r.body)
        check(s.request("POST", READ, {}), 400, "laptop mode: nothing to mark read")
    finally:
        s.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-notices-")
    s = None
    try:
        laptop(tmp)
        data = os.path.join(tmp, "data")
        src = os.path.join(tmp, "src")
        write_tree(src, {"README.md": "word\n"})
        index_repo(data, "alpha", src)
        user_add(data, "root", admin=True)
        user_add(data, "carol", password=CAROL_PW)
        user_add(data, "dave", password=DAVE_PW)
        admin, _ = token_create(data, "root", scope="admin")
        dave_token, _ = token_create(data, "dave")
        s = Server(data)
        carol, got = told(s, data, admin)
        if len(got) == 4:
            own_only(s, carol, got, dave_token)
            mark_read(s, data, admin, carol, got)
        stop_clean(s, (CAROL_PW2, CAROL_PW3, admin))
    finally:
        cleanup(s, tmp)
    done()


if __name__ == "__main__":
    main()
