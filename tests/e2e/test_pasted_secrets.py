#!/usr/bin/env python3
"""Secrets pasted in the wrong place (docs/security.md, "Secrets pasted in the wrong place") on
the real server in team mode: a real API token in a URL path, in a search query and in a page's
query string, percent-encoded or not, reaches neither the server's log nor the audit trail
(DATA/audit/audit.log and `trawl audit --json`), where `trawl_[REDACTED]` stands in its place; a password typed as the user
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
from serverlib import cleanup, request, stop_clean  # noqa: E402

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


def encoded_paths(leaked):
    """Paths that the server decodes to (or around) the leaked token, spelled so that the token
    is not there as written: name -> path."""
    tail = leaked[6:]
    every = "".join("%%%02X" % ord(c) for c in leaked)
    one = "%s%%%02x%s" % (leaked[:30], ord(leaked[30]), leaked[31:])
    return {
        "underscore %5F": "/api/v1/repos/trawl%5F" + tail,
        "prefix %74": "/api/v1/repos/%74rawl_" + tail,
        "one character encoded": "/api/v1/repos/" + one,
        "every character encoded": "/api/v1/repos/" + every,
        "unknown route": "/no/such/" + one,
        "encoded twice": "/no/such/trawl%255F" + tail,
    }


# Longer than the log keeps: the token straddles the cut when the cut comes first.
def straddling_path(leaked):
    return "/api/v1/repos/" + "a" * (4096 - 14 - 30) + leaked


def paste_encoded(s, leaked, tok):
    """Each encoded path, signed in and anonymous (each from its own address, so the refusal
    is audited whatever the per-address budget)."""
    paths = list(encoded_paths(leaked).items()) + [("straddling", straddling_path(leaked))]
    for i, (name, path) in enumerate(paths):
        # A name longer than a repository's can be is refused before it is looked up.
        r = s.request("GET", path, token=tok)
        ok(r.status in (400, 404), "%s: a repository's path with a token: refused" % name,
           r.status)
        st, _, _, _ = request(s.port, "GET", path, source="127.0.8.%d" % (i + 1))
        ok(st in (400, 401, 404), "%s: anonymous, refused" % name, st)


def secret_shown(text, leaked):
    """Whether 16 or more characters of the token's random part are in text, read as written
    or after undoing percent-encoding up to three times."""
    rnd = leaked[6:49]
    for _ in range(4):
        if any(rnd[i:i + 16] in text for i in range(0, len(rnd) - 15)):
            return True
        text = urllib.parse.unquote(text)
    return False


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
        paste_encoded(s, leaked, tok)
        r = s.request("POST", "/api/v1/session", {"user": PASTED_PASSWORD, "password": "x" * 12})
        ok(r.status == 401, "a password typed as the user name: refused", r.status)
        log = s.logtext()
        ok(leaked not in log and leaked[6:30] not in log, "no pasted token in the server's log")
        ok(not secret_shown(log, leaked), "no percent-encoded token in the server's log")
        # The plain path twice, and each encoded one under /api/v1/repos/ twice.
        ok(log.count('"uri":"/api/v1/repos/%s"' % REDACTED) == 2 + 2 * 4,
           "the request log names the path with the token redacted", log[-2000:])
        ok(log.count('"uri":"/no/such/%s"' % REDACTED) == 2 * 2,
           "the request log keeps an unknown route's path, token redacted")
        ok(log.count('"uri":"/api/v1/repos/%s%s"' % ("a" * 4052, REDACTED)) == 2,
           "a path longer than the log keeps is redacted before it is cut")
        stop_clean(s, (leaked, tok, PASTED_PASSWORD))
        with open(os.path.join(data, "audit", "audit.log")) as f:
            audit_log = f.read()
        events = audit_events(data)
        dump = json.dumps(events)
        for where, text in (("DATA/audit/audit.log", audit_log), ("trawl audit --json", dump)):
            ok(leaked not in text and leaked[6:30] not in text,
               "no pasted token in %s" % where, text[-2000:])
            ok(not secret_shown(text, leaked), "no percent-encoded token in %s" % where)
            ok(PASTED_PASSWORD not in text and PASTED_PASSWORD.lower() not in text,
               "no password typed as a user name in %s" % where)
        refused = [e for e in events if e["event"] == "unauthorized"]
        ok(any(e["target"] == "/api/v1/repos/" + REDACTED for e in refused),
           "the refusal's target is the path with the token redacted", refused)
        targets = [e["target"] for e in refused if e["address"].startswith("127.0.8.")]
        # An unknown route's 404 is no refusal: the four under /api/v1/repos/ are audited.
        ok(targets == ["/api/v1/repos/" + REDACTED] * 4,
           "an encoded token in an anonymous refusal's target is redacted", targets)
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
