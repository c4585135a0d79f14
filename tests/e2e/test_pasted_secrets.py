#!/usr/bin/env python3
"""Secrets pasted in the wrong place (docs/security.md, "Secrets pasted in the wrong place") on
the real server in team mode: a real API token in a URL path, in a search query and in a page's
query string reaches neither the server's log nor the audit trail (DATA/audit.log and
`trawl audit --json`), where `trawl_[REDACTED]` stands in its place; a password typed as the user
name of a sign-in is kept only as a keyed fingerprint. Output: TAP.

    python3 tests/e2e/test_pasted_secrets.py
"""
import json
import os
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from teamlib import Server, done, index_repo, ok, token_create, trawl, user_add  # noqa: E402
from teamlib import write_tree  # noqa: E402
from serverlib import cleanup, stop_clean  # noqa: E402

REDACTED = "trawl_[REDACTED]"
# What someone types as the user name when the password went into the wrong box.
PASTED_PASSWORD = "Correct.Horse.Battery.9"


def paste_token(s, leaked, tok):
    """The leaked token in a refused path, a hidden path, a search and a page URL."""
    r = s.request("GET", "/api/v1/repos/" + leaked)
    ok(r.status == 401, "a token in the path of an anonymous request: 401", r.status)
    r = s.request("GET", "/api/v1/repos/" + leaked, token=tok)
    ok(r.status == 404, "a token in the path of a repository: 404", r.status)
    r = s.request("GET", "/" + leaked + "/x")
    ok(r.status in (401, 404), "a token as a path of its own", r.status)
    r = s.request("GET", "/api/v1/search?q=" + urllib.parse.quote("needle " + leaked), token=tok)
    ok(r.status == 200, "a token in a search query: the search runs", r.status, r.body[:300])
    r = s.request("GET", "/search?q=" + leaked)
    ok(r.status < 500, "a token in a page's query string", r.status)


def audit_events(data):
    _, out, _ = trawl("audit", "--json", data=data)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-pasted-")
    s = None
    try:
        data = os.path.join(tmp, "data")
        src = os.path.join(tmp, "src")
        write_tree(src, {"a.txt": "needle\n"})
        index_repo(data, "alpha", src)
        user_add(data, "root", admin=True)
        user_add(data, "alice")
        tok, _ = token_create(data, "alice")
        leaked, _ = token_create(data, "root", scope="admin")
        s = Server(data, "--sync-interval", "0")
        paste_token(s, leaked, tok)
        r = s.request("POST", "/api/v1/session", {"user": PASTED_PASSWORD, "password": "x" * 12})
        ok(r.status == 401, "a password typed as the user name: refused", r.status)
        log = s.logtext()
        ok(leaked not in log and leaked[6:30] not in log, "no pasted token in the server's log")
        ok(log.count('"uri":"/api/v1/repos/%s"' % REDACTED) == 2,
           "the request log names the path with the token redacted", log[-2000:])
        stop_clean(s, (leaked, tok, PASTED_PASSWORD))
        with open(os.path.join(data, "audit.log")) as f:
            audit_log = f.read()
        events = audit_events(data)
        dump = json.dumps(events)
        for where, text in (("DATA/audit.log", audit_log), ("trawl audit --json", dump)):
            ok(leaked not in text and leaked[6:30] not in text,
               "no pasted token in %s" % where, text[-2000:])
            ok(PASTED_PASSWORD not in text and PASTED_PASSWORD.lower() not in text,
               "no password typed as a user name in %s" % where)
        refused = [e for e in events if e["event"] == "unauthorized"]
        ok(any(e["target"] == "/api/v1/repos/" + REDACTED for e in refused),
           "the refusal's target is the path with the token redacted", refused)
        searches = [e for e in events if e["event"] == "search"]
        ok(any(e["detail"].get("query") == "needle " + REDACTED for e in searches),
           "the search's audited query has the token redacted", searches)
        failed = [e for e in events if e["event"] == "sign_in_failed"]
        ok(len(failed) == 1 and failed[0]["target"].startswith("unknown:") and
           len(failed[0]["target"]) == 20, "the failed sign-in's target is a fingerprint", failed)
    finally:
        cleanup(s, tmp)
    done()


if __name__ == "__main__":
    main()
