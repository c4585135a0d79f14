#!/usr/bin/env python3
"""End-to-end tests of "sync now" (POST /api/v1/repos/{name}/sync, docs/api.md): an
administrator's request makes the server's scheduler sync the repository at once, though its
interval (an hour here) is far from over; the request is audited; every other caller is refused
(403, anonymous 401), an unknown repository is a 404, and a server without a sync interval
answers 409. An administrator's browser session is refused (403) without the page's
X-CSRF-Token or from another site's page. Output: TAP.

    python3 tests/e2e/test_sync_now.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from teamlib import Server, done, ok, token_create, trawl, user_add  # noqa: E402
from test_auth_serve import session_headers, sign_in  # noqa: E402

PASSWORD = "sync now e2e passphrase 7"


def git(*args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t",
                    "-c", "init.defaultBranch=main"] + list(args), check=True,
                   stdout=subprocess.DEVNULL)


def commit(src, text):
    with open(os.path.join(src, "a.txt"), "w") as f:
        f.write(text + "\n")
    git("-C", src, "add", "a.txt")
    git("-C", src, "commit", "-qm", text)


def found(s, token, word):
    r = s.request("GET", "/api/v1/search?q=" + urllib.parse.quote(word), token=token)
    return r.status == 200 and r.json()["summary"]["matching_lines"] > 0


def csrf_refused(s):
    """SECURITY (attack s29): the administrator's browser session cannot be made to ask for a
    sync by another site (Origin, Sec-Fetch-Site) or without the page's X-CSRF-Token; on a
    server without a sync interval, so that the one accepted request syncs nothing."""
    st, cookie, csrf, _, _ = sign_in(s, "root", PASSWORD)
    ok(st == 200 and cookie and csrf, "root signs in (a browser session)", st)
    for what, headers in (
            ("without X-CSRF-Token", session_headers(cookie)),
            ("from another site's page (Origin)",
             dict(session_headers(cookie, csrf), Origin="https://evil.example")),
            ("from another site's page (Sec-Fetch-Site)",
             dict(session_headers(cookie, csrf), **{"Sec-Fetch-Site": "cross-site"})),
            ("with another session's token", session_headers(cookie, "x" * len(csrf)))):
        r = s.request("POST", "/api/v1/repos/proj/sync", headers=headers)
        ok(r.status == 403, "an administrator's session %s: 403" % what, r.status, r.body)
    r = s.request("POST", "/api/v1/repos/proj/sync", headers=session_headers(cookie, csrf))
    ok(r.status == 409, "... and with its token from the page, the handler answers (409: this "
       "server does not sync)", r.status, r.body)


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-syncnow-")
    try:
        data, src = os.path.join(tmp, "data"), os.path.join(tmp, "src")
        git("init", "-q", src)
        commit(src, "first_version_word")
        trawl("repo", "add", "--allow-local", "--name", "proj", src, data=data)
        trawl("sync", "--no-progress", data=data)
        user_add(data, "root", admin=True, password=PASSWORD)
        user_add(data, "bob", password=PASSWORD)
        trawl("grant", "proj", "--user", "bob", data=data)
        admin = token_create(data, "root", scope="admin")[0]
        bob = token_create(data, "bob")[0]
        commit(src, "second_version_word")

        s = Server(data, "--sync-interval", "1h")
        try:
            r = s.request("POST", "/api/v1/repos/proj/sync", token=bob)
            ok(r.status == 403, "a user who may read it: 403", r.status, r.body)
            r = s.request("POST", "/api/v1/repos/proj/sync")
            ok(r.status == 401, "anonymous: 401", r.status, r.body)
            r = s.request("POST", "/api/v1/repos/nosuch/sync", token=admin)
            ok(r.status == 404, "an unknown repository: 404", r.status, r.body)
            ok(not found(s, admin, "second_version_word"),
               "before the request the new commit is not indexed (not due for an hour)")
            r = s.request("POST", "/api/v1/repos/proj/sync", token=admin)
            ok(r.status == 202 and r.json() == {"name": "proj", "sync": "requested"},
               "an administrator: 202", r.status, r.body)
            t0 = time.monotonic()
            while time.monotonic() - t0 < 60 and not found(s, admin, "second_version_word"):
                time.sleep(0.2)
            ok(found(s, admin, "second_version_word"),
               "the scheduler synced it at once (%.1f s)" % (time.monotonic() - t0))
            repo = s.request("GET", "/api/v1/repos/proj", token=admin).json()
            ok(repo["state"] == "indexed" and repo["last_success"] == repo["last_sync"],
               "its last sync succeeded", repo)
        finally:
            s.stop()
        _, out, _ = trawl("audit", "--event", "repo_sync", "--json", data=data)
        ev = [json.loads(x) for x in out.splitlines() if x.strip()]
        ok(len(ev) == 1 and ev[0]["actor"] == "root" and ev[0]["target"] == "proj",
           "the request is audited: repo_sync by root on proj", ev)

        s = Server(data, "--sync-interval", "0")
        try:
            r = s.request("POST", "/api/v1/repos/proj/sync", token=admin)
            ok(r.status == 409 and "--sync-interval 0" in r.json()["error"]["message"],
               "a server that does not sync: 409 saying why", r.status, r.body)
            csrf_refused(s)
        finally:
            s.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
