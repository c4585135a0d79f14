#!/usr/bin/env python3
"""GET /api/v1/repos a page at a time (docs/api.md, "Repositories"): limit, the opaque cursor,
next and the Link header, the q filter and total, in team mode over 31 indexed repositories and
two registered ones that are not indexed yet. A user reads a granted and a public part of them;
the canary repository (its name holds CANARY_<uuid>, and it sorts among the user's) is nobody's
but the administrator's: it must never appear in a page, a count, a cursor or a header of the
user's, and a cursor naming it (or any name) gives exactly what follows that name among the
user's repositories. Pages stay in order without repeats when a repository is added between
them; limits and tampered cursors are 400s in the API's error format.

    python3 tests/e2e/test_repos_pages.py
"""
import base64
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverlib import cleanup  # noqa: E402
from teamlib import (TRAWL, Server, done, ok, token_create, trawl, user_add,  # noqa: E402
                     write_tree)

CANARY = "CANARY_" + uuid.uuid4().hex
SECRET = "m-secret-" + CANARY  # sorts among r..., p...: between the user's pages
INDEXED = ["r%02d" % i for i in range(24)] + ["Pub-%d" % i for i in range(6)] + [SECRET]
GRANTED = {"r%02d" % i for i in range(24) if i % 2 == 0}
PUBLIC = {"Pub-%d" % i for i in range(6)}
REGISTERED = ["a-new-reg", "z-new-reg"]  # granted to the user, registered, not indexed


def q(s):
    return urllib.parse.quote(s, safe="")


def cursor_of(name):
    """A cursor as the server makes it: only to aim one at a name the caller cannot read."""
    return base64.urlsafe_b64encode(b"n" + name.encode()).decode().rstrip("=")


def b64(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def index_all(data, tmp, names):
    dirs = []
    for n in names:
        d = os.path.join(tmp, "src", n)
        write_tree(d, {"README.md": "readme of %s\n" % n})
        dirs.append(d)
    subprocess.run([TRAWL, "index", "--worktree", "-o", os.path.join(data, "index")] + dirs,
                   check=True, stdout=subprocess.DEVNULL)


def all_pages(s, token, limit, filt="", check=None):
    """Follows next from the first page; the pages' bodies (and headers) as seen."""
    pages, cur = [], None
    while True:
        path = "/api/v1/repos?limit=%d" % limit + ("&q=" + q(filt) if filt else "") + \
            ("&cursor=" + cur if cur else "")
        r = s.request("GET", path, token=token)
        if r.status != 200:
            ok(False, "page %d of limit %d answers 200" % (len(pages), limit), r.status, r.body)
            return pages
        pages.append(r)
        cur = r.json()["next"]
        if check:
            check(r)
        if cur is None or len(pages) > 100:
            return pages


def names_of(pages):
    return [x["name"] for p in pages for x in p.json()["repos"]]


def test_paging(s, tok, admin):
    readable = sorted(GRANTED | PUBLIC | set(REGISTERED))
    everything = sorted(INDEXED + REGISTERED)

    def no_canary(r):
        ok(CANARY.encode() not in r.raw() and cursor_of(SECRET).encode() not in r.raw(),
           "the user's page holds no trace of the canary repository")

    for limit in (1, 3, 7, 100):
        pages = all_pages(s, tok, limit, check=no_canary)
        got = names_of(pages)
        ok(got == readable, "limit %d: every readable repository once, in order" % limit, got)
        ok(all(p.json()["total"] == len(readable) for p in pages),
           "limit %d: total is the readable count on every page" % limit)
        ok(all(len(p.json()["repos"]) == limit for p in pages[:-1]) and
           1 <= len(pages[-1].json()["repos"]) <= limit,
           "limit %d: full pages but the last" % limit)
        ok(all(("link" in p.headers) == (p.json()["next"] is not None) for p in pages),
           "limit %d: a Link header exactly when there is a next page" % limit)
    pages = all_pages(s, admin, 5)
    ok(names_of(pages) == everything, "the administrator pages through every repository",
       names_of(pages))
    ok(pages[0].json()["total"] == len(everything), "the administrator's total counts all")
    # The Link header is the next page's request.
    first = s.request("GET", "/api/v1/repos?limit=4&q=R", token=tok)
    link = first.headers.get("link", "")
    ok(link.startswith("</api/v1/repos?") and link.endswith('>; rel="next"'),
       "the Link header is a relative URL with rel=next", link)
    via = s.request("GET", link[1:link.index(">")], token=tok)
    via_cur = s.request("GET", "/api/v1/repos?limit=4&q=R&cursor=" + first.json()["next"],
                        token=tok)
    with_r = [n for n in readable if "r" in n.lower()]
    ok(via.status == 200 and via.body == via_cur.body and
       [x["name"] for x in via.json()["repos"]] == with_r[4:8],
       "the Link header gives the next page", via.body)
    # The default page and the item's fields.
    r = s.request("GET", "/api/v1/repos", token=tok).json()
    ok(len(r["repos"]) == len(readable) and r["next"] is None,
       "without limit: up to 100, no next", r)
    ok(set(r["repos"][1]) == {"name", "state", "branches", "last_sync", "last_success", "index_bytes",
                              "files", "skipped_count"}, "a reader's item keeps its fields",
       r["repos"][1])


def test_filter(s, tok, admin):
    r = s.request("GET", "/api/v1/repos?q=pUB&limit=4", token=tok).json()
    ok([x["name"] for x in r["repos"]] == ["Pub-0", "Pub-1", "Pub-2", "Pub-3"] and
       r["total"] == 6 and r["next"], "q matches a substring without case, total counts it", r)
    got = names_of(all_pages(s, tok, 2, filt="0"))
    ok(got == ["Pub-0", "r00", "r02", "r04", "r06", "r08", "r10", "r20"],
       "paging a filtered list", got)
    for filt in ("secret", "CANARY", "m-"):
        r = s.request("GET", "/api/v1/repos?q=" + q(filt), token=tok)
        ok(r.status == 200 and r.json() == {"repos": [], "total": 0, "next": None},
           "q=%s finds nothing the user cannot read" % filt[:12], r.body)
    r = s.request("GET", "/api/v1/repos?q=secret", token=admin).json()
    ok([x["name"] for x in r["repos"]] == [SECRET] and r["total"] == 1,
       "the administrator finds it")
    r = s.request("GET", "/api/v1/repos?q=", token=tok).json()
    ok(r["total"] == len(GRANTED | PUBLIC) + 2, "an empty q filters nothing", r["total"])


def test_cursor_on_hidden(s, tok):
    # After the canary's name comes what follows it among the user's: nothing tells it apart
    # from a cursor on the readable name before it ("a-new-reg" < "m-secret-..." < "r00").
    hidden = s.request("GET", "/api/v1/repos?limit=3&cursor=" + cursor_of(SECRET), token=tok)
    before = s.request("GET", "/api/v1/repos?limit=3&cursor=" + cursor_of("a-new-reg"), token=tok)
    ok(hidden.status == 200 and hidden.body == before.body,
       "a cursor on the hidden repository answers as one on the readable name before it",
       hidden.body, before.body)
    ok(CANARY.encode() not in hidden.raw(), "no canary after a cursor on it")
    missing = s.request("GET", "/api/v1/repos?limit=3&cursor=" + cursor_of("m-secret-"),
                        token=tok)
    ok(missing.body == hidden.body, "nor from a cursor on a name nobody has", missing.body)
    last = s.request("GET", "/api/v1/repos?cursor=" + cursor_of("zzz"), token=tok).json()
    ok(last["repos"] == [] and last["next"] is None and last["total"] == 20,
       "past the end: an empty page, the same total", last)


def test_bad_input(s, tok):
    bad = ["limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=1.5", "limit=", "limit=+5",
           "limit=99999999999999999999", "cursor=", "cursor=!!!!", "cursor=" + b64(b"x") + "%00",
           "cursor=" + b64(b"xr01"), "cursor=" + b64(b"n"), "cursor=" + b64(b"nr\x0001"),
           "cursor=" + b64(b"n\xff\xfe"), "cursor=" + cursor_of("r01") + "=",
           "cursor=" + cursor_of("r01")[:-1] + "%2B", "cursor=" + "A" * 9000, "q=a%00b", "q=" + "a" * 1025,
           "page=2"]
    for b in bad:
        r = s.request("GET", "/api/v1/repos?" + b, token=tok)
        body = r.json() if r.status == 400 else {}
        ok(r.status == 400 and body.get("error", {}).get("code") == "bad_request" and
           body["error"].get("message"), "%s: a 400 with the API's error" % b[:40], r.status,
           r.body[:200])
    r = s.request("GET", "/api/v1/repos?q=" + "a" * 1024, token=tok)
    ok(r.status == 200 and r.json()["total"] == 0, "a q as long as a name can be is a filter")
    r = s.request("GET", "/api/v1/repos?limit=1000", token=tok)
    ok(r.status == 200 and r.json()["next"] is None, "limit=1000 is allowed")
    r = s.request("GET", "/api/v1/repos?limit=1", token=tok)
    ok(r.status == 200, "the server still answers after the bad requests")


def test_stable(s, tok, data, tmp):
    """A repository added before the page's position between two pages: the next page goes on
    after the last name seen, none repeated, none skipped."""
    p1 = s.request("GET", "/api/v1/repos?limit=5", token=tok).json()
    index_all(data, tmp, ["Aaa-early"])
    trawl("repo", "set", "Aaa-early", "--public", data=data)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        p2 = s.request("GET", "/api/v1/repos?limit=5&cursor=" + p1["next"], token=tok).json()
        if p2["total"] == p1["total"] + 1:
            break
        time.sleep(0.2)
    seen = [x["name"] for x in p1["repos"]]
    ok(p2["total"] == p1["total"] + 1, "the new repository is counted", p2["total"])
    ok(p2["repos"][0]["name"] > seen[-1] and not set(seen) & {x["name"] for x in p2["repos"]},
       "the next page continues after the last name of the first", seen, p2["repos"][0]["name"])
    want = sorted(GRANTED | PUBLIC | set(REGISTERED))
    ok([x["name"] for x in p2["repos"]] == want[5:10], "and skips nothing", p2["repos"])


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-repos-pages-")
    s = None
    try:
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        index_all(data, tmp, INDEXED)
        for n in REGISTERED:
            src = os.path.join(tmp, "reg", n)
            os.makedirs(src)
            trawl("repo", "add", "--allow-local", "--name", n, src, data=data)
        user_add(data, "root", admin=True)
        user_add(data, "gina")
        for n in sorted(GRANTED) + REGISTERED:
            trawl("grant", n, "--user", "gina", data=data)
        for n in sorted(PUBLIC):
            trawl("repo", "set", n, "--public", data=data)
        tok, _ = token_create(data, "gina")
        admin, _ = token_create(data, "root", scope="admin")
        s = Server(data)
        test_paging(s, tok, admin)
        test_filter(s, tok, admin)
        test_cursor_on_hidden(s, tok)
        test_bad_input(s, tok)
        test_stable(s, tok, data, tmp)
        log = s.logtext()
        ok(CANARY not in log, "the canary is not in the server's log")
        ok(s.stop() == 0, "the server stops cleanly")
    finally:
        cleanup(s, tmp)
    done()


if __name__ == "__main__":
    main()
