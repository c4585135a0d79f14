#!/usr/bin/env python3
"""End-to-end tests of `trawl serve` (docs/api.md): the real binary on a free loopback port
against a fixture data directory. Every route (status, content type, body shape), security
headers on every response, streaming completeness, cancellation on disconnect, index swaps
under queries, malformed requests on raw sockets, slow clients, path traversal, limits, the
scheduler's child process and log escaping. Output: TAP. Only python3's standard library.

    python3 tests/e2e/test_serve.py [-k SUBSTRING]
"""
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import serverlib
from serverlib import ROOT, TRAWL, ok  # noqa: F401  (test_auth_serve and others import them from here)

ONLY = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else None
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def __getattr__(name):
    """ts.n and ts.fails: the shared TAP counters, for tests that print the plan themselves."""
    if name in ("n", "fails"):
        return getattr(serverlib, name)
    raise AttributeError(name)


class Server(serverlib.Server):
    """serverlib.Server with get() and json() on a connection of their own."""

    def get(self, path, method="GET", headers=None):
        """(status, headers, body, the header message)"""
        return serverlib.request(self.port, method, path, headers=headers)

    def json(self, path):
        st, h, body, _ = self.get(path)
        return st, h, json.loads(body)


def raw(port, data, timeout=5, read_all=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            if not read_all:
                break
    except socket.timeout:
        pass
    s.close()
    return out


def status_of(resp):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", resp)
    return int(m.group(1)) if m else None


def sse_events(body):
    events = []
    for block in body.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        events.append((name, json.loads("\n".join(data))))
    return events


def check_headers(desc, h, api=True):
    missing = []
    if h.get("content-security-policy", "").split(", ")[0] != CSP:
        missing.append("csp: %r" % h.get("content-security-policy"))
    for k, v in (("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer"),
                 ("cross-origin-opener-policy", "same-origin")):
        if h.get(k) != v:
            missing.append("%s: %r" % (k, h.get(k)))
    if not h.get("x-request-id"):
        missing.append("x-request-id")
    if api and h.get("cache-control") != "no-store":
        missing.append("cache-control: %r" % h.get("cache-control"))
    for k in h:
        if k.startswith("access-control-"):
            missing.append("CORS header " + k)
    if "server" in h and re.search(r"\d", h["server"]):
        missing.append("server header with a version: " + h["server"])
    return ok(not missing, "security headers: " + desc, *missing)


def make_fixture(tmp):
    src = os.path.join(tmp, "proj")
    os.makedirs(os.path.join(src, "src", "deep", "er"))
    files = {
        "README.md": "# Project\nhello world\n",
        "src/main.c": "#include <stdio.h>\n\nint main(void)\n{\n\tprintf(\"hello world\\n\");\n"
                      "\treturn 0;\n}\n",
        "src/util.c": "/* util */\nint add(int a, int b)\n{\n\treturn a + b; /* hello */\n}\n",
        "src/deep/er/x.py": "def hello():\n    return 'world'\n",
        "src/zz.txt": "line one\nline two\nneedle here\nline four\nline five\n",
    }
    for p, t in files.items():
        with open(os.path.join(src, p), "w") as f:
            f.write(t)
    with open(os.path.join(src, "bin.dat"), "wb") as f:
        f.write(b"\x00\x01\x02hello\x00" * 100)
    with open(os.path.join(src, "latin1.txt"), "wb") as f:
        f.write(b"caf\xe9 hello\n")
    # Many matching lines, for cancellation and the concurrency cap.
    big = os.path.join(tmp, "big")
    os.makedirs(big)
    line = "filler text with the word bulk in it, and more filler to make it longer\n"
    for i in range(600):
        with open(os.path.join(big, "f%04d.txt" % i), "w") as f:
            f.write(line * 400)
    # A git repository.
    g = os.path.join(tmp, "gitrepo")
    os.makedirs(g)
    with open(os.path.join(g, "a.txt"), "w") as f:
        f.write("git hello content\n")
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@e")
    subprocess.run(["git", "init", "-q", g], check=True, env=env)
    subprocess.run(["git", "-C", g, "add", "."], check=True, env=env)
    subprocess.run(["git", "-C", g, "commit", "-qm", "init"], check=True, env=env)
    data = os.path.join(tmp, "data")
    idx = os.path.join(data, "index")
    for name, path in (("proj", src), ("big", big), ("gitrepo", g)):
        subprocess.run([TRAWL, "index", "-o", idx, "--name", name, path], check=True,
                       stdout=subprocess.DEVNULL)
    return src, big, data


GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@e", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")


def git(*args):
    return subprocess.run(["git", "-c", "init.defaultBranch=main"] + list(args), check=True,
                          env=GIT_ENV, capture_output=True).stdout.decode().strip()


def make_two_branch_repo(path):
    """main and dev; f.txt differs between them, a.txt is the same, extra.txt is on dev only."""
    os.makedirs(path)
    git("init", "-q", path)
    for p, t in (("a.txt", b"shared twobranch line\n"), ("f.txt", b"main version twobranch\n"),
                 ("bin.dat", b"\x00bin\x00" * 10)):
        with open(os.path.join(path, p), "wb") as f:
            f.write(t)
    git("-C", path, "add", ".")
    git("-C", path, "commit", "-qm", "one")
    git("-C", path, "checkout", "-qb", "dev")
    with open(os.path.join(path, "f.txt"), "w") as f:
        f.write("dev version twobranch\n")
    with open(os.path.join(path, "extra.txt"), "w") as f:
        f.write("dev only twobranch\n")
    git("-C", path, "add", ".")
    git("-C", path, "commit", "-qm", "two")
    git("-C", path, "checkout", "-q", "main")
    return {b: git("-C", path, "rev-parse", b) for b in ("main", "dev")}


def trawl_cmd(*args, check=True):
    env = dict(os.environ, TRAWL_ALLOW_LOCAL="1")
    p = subprocess.run([TRAWL] + list(args), env=env, capture_output=True)
    if check and p.returncode != 0:
        raise RuntimeError("trawl %s: %s" % (args, p.stderr.decode()))
    return p


def make_registry(tmp):
    """DATA with a registry: reg (two branches, synced), broken (synced, then its source
    removed and synced again: error), pending (added, never synced)."""
    root = os.path.join(tmp, "reg")
    commits = make_two_branch_repo(os.path.join(root, "src", "reg"))
    bsrc = os.path.join(root, "src", "broken")
    os.makedirs(bsrc)
    git("init", "-q", bsrc)
    with open(os.path.join(bsrc, "b.txt"), "w") as f:
        f.write("brokenmarker still searchable\n")
    git("-C", bsrc, "add", ".")
    git("-C", bsrc, "commit", "-qm", "b")
    data = os.path.join(root, "data")
    trawl_cmd("repo", "add", "--data", data, os.path.join(root, "src", "reg"), "--branch", "main",
              "--branch", "dev")
    trawl_cmd("repo", "add", "--data", data, bsrc)
    trawl_cmd("sync", "--data", data)
    shutil.rmtree(bsrc)
    p = trawl_cmd("sync", "--data", data, "broken", check=False)
    ok(p.returncode == 2, "registry fixture: the sync of a removed source fails", p.stderr)
    git("init", "-q", os.path.join(root, "src", "pending"))
    trawl_cmd("repo", "add", "--data", data, os.path.join(root, "src", "pending"))
    return root, data, commits


def test_revisions(s, root, data, commits):
    base = "/api/v1/repos/reg/"
    st, h, f = s.json(base + "file?path=f.txt")
    ok(st == 200 and f["rev"] == "main" and f["commit"] == commits["main"] and
       f["content"] == "main version twobranch\n",
       "rev: the default branch's document without rev", f)
    st, h, f = s.json(base + "file?path=f.txt&rev=HEAD")
    ok(st == 200 and f["rev"] == "main" and f["content"].startswith("main"), "rev: HEAD is main")
    st, h, f = s.json(base + "file?path=f.txt&rev=dev")
    ok(st == 200 and f["rev"] == "dev" and f["commit"] == commits["dev"] and
       f["content"] == "dev version twobranch\n", "rev=dev: dev's document and commit", f)
    st, h, body, _ = s.get(base + "raw?path=f.txt&rev=dev")
    ok(st == 200 and body == b"dev version twobranch\n", "raw with rev=dev")
    st, h, f = s.json(base + "file?path=a.txt&rev=dev")
    ok(st == 200 and f["content"] == "shared twobranch line\n" and f["commit"] == commits["dev"],
       "rev=dev: a file identical on both branches")
    st1, h, nf1 = s.json(base + "file?path=extra.txt")
    st2, h, f2 = s.json(base + "file?path=extra.txt&rev=dev")
    ok(st1 == 404 and st2 == 200 and f2["content"] == "dev only twobranch\n",
       "rev: a file only on dev is not found on main", nf1)
    st3, h, nf3 = s.json(base + "file?path=f.txt&rev=nope")
    st4, h, nf4 = s.json(base + "file?path=nope.txt")
    ok(st3 == 404 and nf3 == nf4 == nf1, "rev: unknown rev is the same 404 as an unknown path",
       nf3)
    for route in ("tree", "raw"):
        ok(s.get(base + route + "?path=f.txt&rev=nope")[0] == 404, "rev: %s unknown rev 404" % route)
    tree = lambda rev: [e["name"] for e in s.json(base + "tree?rev=" + rev)[2].get("entries", [])]
    ok(tree("main") == ["a.txt", "bin.dat", "f.txt"] and
       tree("dev") == ["a.txt", "bin.dat", "extra.txt", "f.txt"],
       "rev: tree lists each branch's files once", tree("main"), tree("dev"))
    st, h, t = s.json(base + "tree")
    ok(st == 200 and t["rev"] == "main", "tree: rev defaults to the default branch", t)
    paths = lambda rev: s.json(base + "paths?rev=" + rev)[2]
    ok(paths("main")["paths"] == ["a.txt", "bin.dat", "f.txt"] and
       paths("dev")["paths"] == ["a.txt", "bin.dat", "extra.txt", "f.txt"] and
       paths("main")["commit"] == commits["main"] and paths("dev")["commit"] == commits["dev"] and
       s.json(base + "paths")[2]["rev"] == "main",
       "rev: paths lists each branch's files once, with its commit", paths("main"), paths("dev"))
    res = s.json("/api/v1/search?q=" + q("twobranch repo:^reg$"))[2]["results"]
    got = sorted((x["path"], x["branches"]) for x in res)
    ok(got == [("a.txt", ["dev", "main"]), ("f.txt", ["main"])],
       "search: the default branch is searched, each result lists every branch it is on", got)
    res = s.json("/api/v1/search?q=" + q("twobranch rev:dev"))[2]["results"]
    got = sorted((x["path"], x["branches"]) for x in res)
    ok(got == [("a.txt", ["dev", "main"]), ("extra.txt", ["dev"]), ("f.txt", ["dev"])],
       "search rev:dev: dev's documents, with all their branches", got)
    # An incremental sync that deletes a.txt on dev: an overlay entry, not a new shard.
    src = os.path.join(root, "src", "reg")
    git("-C", src, "checkout", "-q", "dev")
    git("-C", src, "rm", "-q", "a.txt")
    git("-C", src, "commit", "-qm", "rm")
    git("-C", src, "checkout", "-q", "main")
    dev2 = git("-C", src, "rev-parse", "dev")
    trawl_cmd("sync", "--data", data, "reg")
    deadline = time.time() + 10
    while time.time() < deadline and s.json(base + "file?path=f.txt&rev=dev")[2].get("commit") != dev2:
        time.sleep(0.2)
    with open(os.path.join(data, "index", "MANIFEST")) as mf:
        has_overlay = "overlay" in mf.read()
    ok(has_overlay and paths("dev")["paths"] == ["bin.dat", "extra.txt", "f.txt"] and
       paths("main")["paths"] == ["a.txt", "bin.dat", "f.txt"],
       "rev: paths honours the MANIFEST overlay (a.txt deleted on dev only)", paths("dev"))
    ok(has_overlay and tree("dev") == ["bin.dat", "extra.txt", "f.txt"] and
       tree("main") == ["a.txt", "bin.dat", "f.txt"] and
       s.json(base + "file?path=a.txt&rev=dev")[0] == 404 and
       s.json(base + "file?path=a.txt")[0] == 200,
       "rev: the MANIFEST overlay is honoured (a.txt deleted on dev only)", tree("dev"))
    res = s.json("/api/v1/search?q=" + q("shared twobranch"))[2]["results"]
    ok([(x["path"], x["branches"]) for x in res] == [("a.txt", ["main"])],
       "search: a branch the document left (overlay) is not listed", res)


def test_registry(tmp):
    root, data, commits = make_registry(tmp)
    s = Server(data, "--sync-interval", "0")
    try:
        st, h, body = s.json("/api/v1/repos")
        names = [r["name"] for r in body.get("repos", [])]
        ok(st == 200 and names == ["broken", "pending", "reg"],
           "registry: repos lists registered ones too, sorted by name", body)
        by = {r["name"]: r for r in body["repos"]}
        r = by["reg"]
        rfc3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        ok(r["state"] == "indexed" and r["url"] == os.path.join(root, "src", "reg") and
           r["last_error"] is None and rfc3339.match(r["last_sync"] or "") and
           r["skipped_count"] == 1 and r["files"] >= 4 and "skipped" not in r,
           "registry: an indexed repository has url, state, last_sync (RFC 3339 UTC)", r)
        ok(r["branches"] == [{"name": "dev", "commit": commits["dev"], "default": False},
                             {"name": "main", "commit": commits["main"], "default": True}],
           "registry: branches with their commits and the default", r["branches"])
        st, h, full = s.json("/api/v1/repos/reg")
        ok(st == 200 and full["skipped"] == [{"path": "bin.dat", "reason": "binary"}] and
           full["branches"] == r["branches"] and full["url"] == r["url"],
           "registry: one repository with its skipped files", full)
        p = by["pending"]
        ok(p["state"] == "new" and p["branches"] == [] and p["last_sync"] is None and
           p["last_error"] is None and p["files"] == 0 and
           p["url"] == os.path.join(root, "src", "pending"),
           "registry: a repository added but not synced is new", p)
        st, h, pf = s.json("/api/v1/repos/pending")
        ok(st == 200 and pf["state"] == "new" and pf["skipped"] == [],
           "registry: /repos/NAME for a repository not indexed yet", pf)
        st, h, nf = s.json("/api/v1/repos/pending/file?path=x")
        ok(st == 404 and nf["error"]["code"] == "not_found",
           "registry: files of a repository not indexed yet are not found")
        b = by["broken"]
        ok(b["state"] == "error" and b["last_error"] and b["files"] == 1 and
           rfc3339.match(b["last_sync"] or ""),
           "registry: a failed sync shows state error and last_error", b)
        st, h, res = s.json("/api/v1/search?q=" + q("brokenmarker"))
        ok(st == 200 and [x["repo"] for x in res["results"]] == ["broken"],
           "registry: a failed repository's old results stay searchable", res)
        test_revisions(s, root, data, commits)
        text = s.get("/metrics")[2].decode()
        for state, cnt in (("new", 1), ("syncing", 0), ("indexed", 1), ("error", 1)):
            ok('trawl_repos{state="%s"} %d' % (state, cnt) in text,
               "registry: metric trawl_repos{state=%s} %d" % (state, cnt),
               [l for l in text.splitlines() if "trawl_repos" in l])
    finally:
        s.stop()
    # A registry that cannot be read: logged, a bare 500 (L4), searches unaffected. It breaks
    # while the server runs: the accounts, which live in the same file, keep the one they
    # opened at start-up.
    db = os.path.join(data, "trawl.db")
    s = Server(data, "--sync-interval", "0")
    try:
        for ext in ("-wal", "-shm"):
            if os.path.exists(db + ext):
                os.unlink(db + ext)
        with open(db + ".new", "wb") as f:
            f.write(b"this is not an sqlite database" * 100)
        os.rename(db + ".new", db)
        st, h, body, _ = s.get("/api/v1/repos")
        ok(st == 500 and json.loads(body)["error"] == {"code": "internal",
                                                      "message": "internal error"} and
           b"trawl.db" not in body and root.encode() not in body,
           "registry: a broken registry is a bare 500 without paths", body)
        ok(s.get("/api/v1/repos/reg")[0] == 500, "registry: /repos/NAME too")
        ok("cannot read the repository registry" in s.logtext(),
           "registry: the error is logged")
        ok(s.json("/api/v1/search?q=twobranch")[0] == 200, "registry: searches do not need it")
    finally:
        s.stop()
    # A server does not start on it: whether accounts exist cannot be known (fail closed).
    p = subprocess.run([TRAWL, "serve", "--data", data, "--listen", "127.0.0.1:0"],
                       capture_output=True, timeout=60)
    ok(p.returncode != 0 and b"trawl.db" in p.stderr and not p.stdout,
       "registry: a server does not start on an unreadable trawl.db", p.returncode, p.stderr)


def q(s):
    return urllib.parse.quote(s, safe="")


def test_listen():
    for addr in ("0.0.0.0:0", "10.1.2.3:6070", "[::]:0", "192.168.0.1:80", "example.com:80"):
        p = subprocess.run([TRAWL, "serve", "--data", "/nonexistent-dir-x", "--listen", addr],
                           capture_output=True, timeout=10)
        err = p.stderr.decode()
        ok(p.returncode == 2 and ("loopback" in err or "expected HOST:PORT" in err),
           "--listen %s is refused with a clear error" % addr, err)
    p = subprocess.run([TRAWL, "serve", "--listen", "127.0.0.1"], capture_output=True, timeout=10)
    ok(p.returncode == 2 and "HOST:PORT" in p.stderr.decode(), "--listen without a port is refused")
    for flag, bad in (("--header-timeout", "0"), ("--header-timeout", "3601"),
                      ("--max-conns", "0"), ("--max-conns", "x"),
                      ("--max-conns-per-client", "65537")):
        p = subprocess.run([TRAWL, "serve", "--data", "/nonexistent-dir-x", flag, bad],
                           capture_output=True, timeout=10)
        ok(p.returncode == 2 and flag in p.stderr.decode(), "%s %s is refused" % (flag, bad),
           p.stderr)


def test_data_env(data):
    """Without --data, serve uses $TRAWL_DATA, as trawl repo and trawl sync do."""
    s = Server(None, "--sync-interval", "0", env={"TRAWL_DATA": data},
               cwd=tempfile.gettempdir(), log_dir=os.path.dirname(data))
    try:
        st, h, body = s.json("/healthz")
        ok(body.get("repos") == 3, "serve without --data uses $TRAWL_DATA", body)
    finally:
        s.stop()


def test_routes(s, src):
    st, h, body = s.json("/healthz")
    ok(st == 200 and body["status"] == "ok" and body["shards"] >= 3 and body["repos"] == 3,
       "/healthz", body)
    ok(h["content-type"] == "application/json; charset=utf-8", "/healthz content type")
    check_headers("/healthz", h)
    # The UI's filter names come from the server's one field table.
    st, h, body = s.json("/api/v1/filters")
    names = [f.get("name") for f in body.get("fields", [])] if st == 200 else []
    ok(st == 200 and {"repo", "file", "lang", "count", "timeout", "select"} <= set(names),
       "/api/v1/filters lists the query language's fields", st, names)
    ok(all(f.get("kind") in ("filter", "setting") and isinstance(f.get("description"), str)
           and f["description"] for f in body.get("fields", [])),
       "/api/v1/filters: each field has a kind and a description")
    ok(any(p.get("field") == "repo" and p.get("name") == "has.path"
           for p in body.get("predicates", [])), "/api/v1/filters lists repo:has.path")
    check_headers("/api/v1/filters", h)
    st, h, body, _ = s.get("/metrics")
    text = body.decode()
    ok(st == 200 and h["content-type"].startswith("text/plain"), "/metrics is text")
    for m in ("trawl_queries_total", "trawl_query_errors_total",
              "trawl_query_duration_seconds_bucket{le=\"+Inf\"}", "trawl_shards",
              "trawl_index_bytes", "trawl_repos{state=\"indexed\"} 3",
              "trawl_http_requests_total{code=\"200\"}"):
        ok(m in text, "/metrics has " + m)

    st, h, body = s.json("/api/v1/search?q=" + q("hello"))
    ok(st == 200 and h["content-type"] == "application/json; charset=utf-8", "search: 200 JSON")
    check_headers("search", h)
    res = body["results"]
    paths = sorted((r["repo"], r.get("path")) for r in res)
    ok(("proj", "src/main.c") in paths and ("gitrepo", "a.txt") in paths, "search finds hello",
       paths)
    f = [r for r in res if r.get("path") == "src/main.c"][0]
    ok(f["type"] == "file" and f["language"] == "C" and f["branches"] == [] and
       f["matching_lines"] == 1 and f["lines"][0]["line"] == 5 and
       f["lines"][0]["ranges"] and "before" not in f["lines"][0], "search: result shape", f)
    sm = body["summary"]
    ok(all(k in sm for k in ("matching_lines", "files", "shards_total", "shards_searched",
                             "candidates", "bytes_scanned", "elapsed_ms", "plan_ms",
                             "limit_hit", "timeout_hit")) and body["alerts"] == [],
       "search: summary and alerts", body["summary"])
    lat = [r for r in res if r.get("path") == "latin1.txt"]
    ok(lat and "\ufffd" in lat[0]["lines"][0]["text"], "invalid UTF-8 is replaced by U+FFFD", lat)

    st, h, body = s.json("/api/v1/search?q=" + q("needle") + "&context=2")
    ln = body["results"][0]["lines"][0]
    ok(ln["line"] == 3 and [c["text"] for c in ln["before"]] == ["line one", "line two"] and
       [c["line"] for c in ln["after"]] == [4, 5], "search: context lines", ln)
    st, h, body = s.json("/api/v1/search?q=" + q("type:repo proj"))
    ok(st == 200 and {"type": "repo", "repo": "proj"} in body["results"], "search: type:repo",
       body)
    st, h, body = s.json("/api/v1/search?q=" + q("hello select:repo"))
    ok(st == 200 and sorted(r["repo"] for r in body["results"]) == ["gitrepo", "proj"],
       "search: select:repo gives each repository once", body["results"])
    # select: counts results of the selected kind: count:5 is five files, not five lines.
    st, h, body = s.json("/api/v1/search?q=" + q("bulk select:file count:5"))
    ok(st == 200 and len({(r["repo"], r["path"]) for r in body["results"]}) == 5 and
       len(body["results"]) == 5 and all(r["type"] == "path" for r in body["results"]) and
       body["summary"]["limit_hit"] and any(a["kind"] == "limit" for a in body["alerts"]),
       "search: select:file count:5 gives five files and a limit alert", body["results"],
       body["alerts"])
    st, h, body = s.json("/api/v1/search?q=" + q("hello select:repo count:1"))
    ok(st == 200 and len(body["results"]) == 1 and body["summary"]["limit_hit"],
       "search: select:repo count:1 gives one repository and says more exist", body)
    st, h, body = s.json("/api/v1/search?q=" + q("hello select:repo count:2"))
    ok(st == 200 and len(body["results"]) == 2 and not body["summary"]["limit_hit"] and
       body["alerts"] == [], "search: select:repo count:2 with two repositories hits no limit",
       body)
    st, h, body = s.json("/api/v1/search?q=" + q("bulk count:5"))
    ok(st == 200 and body["summary"]["limit_hit"] and
       any(a["kind"] == "limit" for a in body["alerts"]), "search: limit alert", body["alerts"])

    # errors
    st, h, body = s.json("/api/v1/search?q=" + q("fiel:x hello"))
    ok(st == 400 and body["error"]["code"] == "bad_query" and body["error"]["column"] == 1,
       "bad query: 400 bad_query with column", body)
    check_headers("400 bad query", h)
    st, h, body = s.json("/api/v1/search?q=" + q("hello /a(b/"))
    ok(st == 400 and body["error"]["code"] == "bad_query" and body["error"]["column"] > 6,
       "bad regex: column inside the query", body)
    for path, desc in (("/api/v1/search", "missing q"), ("/api/v1/search?q=", "empty q"),
                       ("/api/v1/search?q=a&context=11", "context over 10"),
                       ("/api/v1/search?q=a&context=x", "context not a number"),
                       ("/api/v1/search?q=a&foo=1", "unknown parameter"),
                       ("/api/v1/search?q=a&q=b", "a parameter twice"),
                       ("/api/v1/search?q=%zz", "malformed percent-encoding"),
                       ("/api/v1/search?q=a%00b", "an encoded NUL"),
                       ("/api/v1/search?q=" + "a" * 4097, "q over 4096 bytes")):
        st, h, body = s.json(path)
        ok(st == 400 and body["error"]["code"] == "bad_request", "400 bad_request: " + desc,
           st, body)
    st, h, body = s.json("/api/v1/nope")
    ok(st == 404 and body["error"]["code"] == "not_found", "unknown API route: JSON 404", body)
    check_headers("404", h)
    st, h, body, _ = s.get("/api/v1/search?q=a", method="POST")
    ok(st == 405 and json.loads(body)["error"]["code"] == "method_not_allowed" and
       h.get("allow") == "GET, HEAD", "POST on a read route: 405", st, body)
    check_headers("405", h)
    st, h, body, _ = s.get("/", method="TRACE")
    ok(st == 405, "TRACE /: 405", st)
    for p in ("/.git/HEAD", "/.git/config", "/config", "/index.html~", "/../etc/passwd"):
        st, h, body, _ = s.get(p)
        ok(st in (400, 404) and b"root:" not in body and b"[core]" not in body,
           "%s is not served" % p, st)
        check_headers(p, h, api=False)
    st, h, body, _ = s.get("/healthz", method="HEAD")
    ok(st == 200 and body == b"", "HEAD: headers only")

    # repositories
    st, h, body = s.json("/api/v1/repos")
    names = [r["name"] for r in body["repos"]]
    ok(st == 200 and names == ["big", "gitrepo", "proj"], "repos sorted by name", names)
    r = [r for r in body["repos"] if r["name"] == "proj"][0]
    ok(r["state"] == "indexed" and r["files"] == 7 and r["skipped_count"] == 1 and
       "skipped" not in r and r["index_bytes"] > 0 and r["url"] is None, "repos: shape", r)
    g = [r for r in body["repos"] if r["name"] == "gitrepo"][0]
    ok(r["branches"] == [] and len(g["branches"]) == 1 and g["branches"][0]["default"] and
       re.match(r"^[0-9a-f]{40}$", g["branches"][0]["commit"]) and g["last_sync"] is None,
       "repos without a registry: branches from the index MANIFEST", g)
    st, h, body = s.json("/api/v1/repos/proj")
    ok(st == 200 and body["skipped"] == [{"path": "bin.dat", "reason": "binary"}],
       "repo: skipped files with reasons", body)
    st, h, body = s.json("/api/v1/repos/nope")
    ok(st == 404 and body["error"]["code"] == "not_found", "unknown repo: 404")
    st2, h2, body2 = s.json("/api/v1/repos/nope/file?path=a")
    ok(st2 == 404 and body2 == body, "unknown repo and unknown route give identical 404s")

    st, h, body = s.json("/api/v1/repos/proj/tree")
    ok(st == 200 and body["entries"] == [
        {"name": "README.md", "type": "file", "size": 22, "language": "Markdown"},
        {"name": "bin.dat", "type": "file", "size": 900, "language": "", "skipped": "binary"},
        {"name": "latin1.txt", "type": "file", "size": 11, "language": "Text"},
        {"name": "src", "type": "dir"}], "tree: root, in path order", body)
    st, h, body = s.json("/api/v1/repos/proj/tree?path=src")
    ok(st == 200 and [e["name"] for e in body["entries"]] == ["deep", "main.c", "util.c",
                                                               "zz.txt"],
       "tree: subdirectory, one entry per child directory", body)
    st, h, body = s.json("/api/v1/repos/proj/tree?path=src/deep")
    ok(st == 200 and body["entries"] == [{"name": "er", "type": "dir"}], "tree: nested", body)
    st, h, body = s.json("/api/v1/repos/proj/tree?path=nope")
    ok(st == 404, "tree: unknown directory 404")
    st, h, body = s.json("/api/v1/repos/proj/tree?rev=nope")
    ok(st == 404, "tree: unknown rev 404")
    st, h, body = s.json("/api/v1/repos/proj/paths")
    ok(st == 200 and body == {"repo": "proj", "rev": "HEAD", "commit": None, "paths": [
        "README.md", "bin.dat", "latin1.txt", "src/deep/er/x.py", "src/main.c", "src/util.c",
        "src/zz.txt"], "truncated": False}, "paths: every document, skipped ones too, in byte order",
       body)
    st, h, body = s.json("/api/v1/repos/proj/paths?rev=nope")
    ok(st == 404 and body["error"]["code"] == "not_found", "paths: unknown rev 404", body)
    st, h, body = s.json("/api/v1/repos/proj/paths?path=src")
    ok(st == 400 and body["error"]["code"] == "bad_request", "paths: takes no path", body)
    st, h, body = s.json("/api/v1/repos/nope/paths")
    ok(st == 404, "paths: unknown repository 404")
    st, h, body = s.json("/api/v1/repos/proj/file?path=src/main.c")
    with open(os.path.join(src, "src/main.c")) as f:
        want = f.read()
    ok(st == 200 and body["content"] == want and body["language"] == "C" and
       body["size"] == len(want) and body["binary"] is False and body["skipped"] is None and
       body["rev"] == "HEAD", "file: content and metadata", body)
    st, h, body = s.json("/api/v1/repos/proj/file?path=bin.dat")
    ok(st == 200 and body["binary"] is True and body["skipped"] == "binary" and
       "content" not in body, "file: binary has no content", body)
    st, h, body, _ = s.get("/api/v1/repos/proj/raw?path=src/main.c")
    csps = h.get("content-security-policy", "")
    ok(st == 200 and body.decode() == want and h["content-type"] == "text/plain; charset=utf-8"
       and "sandbox" in csps and h["x-content-type-options"] == "nosniff" and
       h.get("content-disposition") == "inline", "raw: bytes as text/plain, sandboxed", h)
    check_headers("raw", h)
    st, h, body, _ = s.get("/api/v1/repos/proj/raw?path=latin1.txt")
    ok(st == 200 and body == b"caf\xe9 hello\n", "raw: the original bytes")
    st, h, body = s.json("/api/v1/repos/g%69trepo/file?path=a.txt")
    ok(st == 200 and body["content"] == "git hello content\n", "percent-encoded repo name")

    # the web UI
    web = os.path.join(ROOT, "web")
    if os.path.exists(os.path.join(web, "index.html")):
        with open(os.path.join(web, "index.html"), "rb") as f:
            index = f.read()
        for p in ("/", "/search?q=hello", "/repos", "/file/proj/src/main.c"):
            st, h, body, _ = s.get(p)
            ok(st == 200 and body == index and h["content-type"] == "text/html; charset=utf-8",
               "UI route %s serves index.html" % p, st)
            check_headers(p, h, api=False)
        st, h, body, _ = s.get("/")
        st2, h2, body2, _ = s.get("/", headers={"If-None-Match": h["etag"]})
        ok(st2 == 304 and body2 == b"", "ETag revalidation: 304")
        for name in sorted(os.listdir(web)):
            if name.endswith(".js") or name.endswith(".css"):
                st, h, body, _ = s.get("/" + name)
                with open(os.path.join(web, name), "rb") as f:
                    ok(st == 200 and body == f.read() and
                       h["content-type"] == ("text/javascript; charset=utf-8"
                                             if name.endswith(".js") else
                                             "text/css; charset=utf-8"),
                       "asset /%s" % name, st, h.get("content-type"))
    st, h, body, _ = s.get("/nope.js")
    ok(st == 404, "unknown asset: 404")


def stream(s, query, read_bytes=None):
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=60)
    c.request("GET", "/api/v1/search/stream?q=" + q(query))
    r = c.getresponse()
    if read_bytes:
        return c, r
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def test_stream(s):
    for query in ("hello", "bulk count:all", "line", "type:path src", "hello select:repo",
                  "hello count:all", "count:all type:repo hello", "count:all select:repo hello",
                  "bulk select:file count:5",
                  "/a(/"):
        # Both must finish to compare: the default 10 s is too short for count:all under TSan.
        full = query if query == "/a(/" else query + " timeout:60s"
        st, h, body = stream(s, full)
        js = s.json("/api/v1/search?q=" + q(full))[2]
        if query == "/a(/":
            ok(st == 400 and json.loads(body)["error"]["code"] == "bad_query" and
               h["content-type"] == "application/json; charset=utf-8",
               "stream: a query that does not parse is a JSON 400", body[:300])
            continue
        ok(st == 200 and h["content-type"].startswith("text/event-stream"),
           "stream %r: event stream" % query)
        check_headers("stream", h)
        ev = sse_events(body)
        names = [e[0] for e in ev]
        ok(names and names[-1] == "done" and names.count("done") == 1 and
           set(names) <= {"matches", "progress", "alert", "done"}, "stream %r: done last" % query,
           names[:20])
        ok("progress" in names, "stream %r: progress events" % query)
        streamed = [json.dumps(r, sort_keys=True) for e in ev if e[0] == "matches" for r in e[1]]
        plain = [json.dumps(r, sort_keys=True) for r in js["results"]]
        ok(sorted(streamed) == sorted(plain) and len(streamed) == len(plain),
           "stream %r: union of matches == /search results (%d)" % (query, len(plain)),
           len(streamed), len(plain))
        done = ev[-1][1]
        ok(done["files"] == js["summary"]["files"] and
           done["matching_lines"] == js["summary"]["matching_lines"],
           "stream %r: done summary equals /search's" % query, done, js["summary"])


def test_stream_early(tmp):
    """count:all on a multi-shard index (one shard per repository): each shard's files are
    streamed when the shard is done, and the union is still the JSON results."""
    data = os.path.join(tmp, "multi")
    for i in range(8):
        src = os.path.join(tmp, "multi-src", "r%d" % i)
        os.makedirs(src)
        for k in range(i + 1):
            with open(os.path.join(src, "f%d.txt" % k), "w") as f:
                f.write("multishard %d %d\n" % (i, k) * (k + 1) + "other\n")
        subprocess.run([TRAWL, "index", "-o", os.path.join(data, "index"), "--name", "r%d" % i,
                        src], check=True, stdout=subprocess.DEVNULL)
    s = Server(data, "--sync-interval", "0")
    try:
        for query in ("multishard count:all", "multishard", "multishard count:all select:repo",
                      "count:all type:path f1"):
            st, h, body = stream(s, query)
            js = s.json("/api/v1/search?q=" + q(query))[2]
            ev = sse_events(body)
            streamed = [json.dumps(r, sort_keys=True) for e in ev if e[0] == "matches"
                        for r in e[1]]
            plain = [json.dumps(r, sort_keys=True) for r in js["results"]]
            ok(st == 200 and sorted(streamed) == sorted(plain) and len(plain) > 1,
               "multi-shard stream %r: union of matches == /search results (%d)" %
               (query, len(plain)), len(streamed), len(plain))
            names = [e[0] for e in ev]
            first_match = names.index("matches") if "matches" in names else len(names)
            last_progress = len(names) - 1 - names[::-1].index("progress")
            if "count:all" in query:
                ok(first_match < last_progress and names.count("progress") == 8,
                   "multi-shard stream %r: matches stream before the last shard is done" % query,
                   names)
            else:
                ok(first_match > last_progress,
                   "multi-shard stream %r: a count-limited query is ranked first" % query, names)
    finally:
        s.stop()


def metric(s, name):
    text = s.get("/metrics")[2].decode()
    m = re.search(r"^%s (\d+)" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def test_cancel(s):
    before = metric(s, "trawl_queries_canceled_total")
    for _ in range(3):
        c, r = stream(s, "bulk count:all", read_bytes=True)
        r.read(1000)
        c.sock.shutdown(socket.SHUT_RDWR)
        c.close()
    deadline = time.time() + 15
    after = before
    while time.time() < deadline:
        after = metric(s, "trawl_queries_canceled_total")
        if after >= before + 3 and metric(s, "trawl_searches_running") == 0:
            break
        time.sleep(0.2)
    ok(after >= before + 3, "a client that disconnects cancels its search", before, after)
    ok(metric(s, "trawl_searches_running") == 0, "canceled searches release their slots")
    ok("stream canceled" in s.logtext(), "the log says the stream was canceled")


def test_swap(s, src, data):
    errors, count = [], [0]
    stop = threading.Event()

    def loop(kind):
        while not stop.is_set():
            try:
                if kind == "json":
                    st, h, body = s.json("/api/v1/search?q=" + q("hello"))
                    good = st == 200 and any(r.get("path") == "src/main.c" for r in body["results"])
                else:
                    st, h, body = stream(s, "hello")
                    ev = sse_events(body)
                    good = st == 200 and ev[-1][0] == "done" and any(
                        r.get("path") == "src/main.c" for e in ev if e[0] == "matches" for r in e[1])
                if not good:
                    errors.append((kind, st, body if isinstance(body, bytes) else str(body)[:300]))
                count[0] += 1
            except Exception as e:  # noqa: BLE001
                errors.append((kind, repr(e)))

    swaps0 = metric(s, "trawl_index_swaps_total")
    ts = [threading.Thread(target=loop, args=(k,)) for k in ("json", "json", "stream")]
    for t in ts:
        t.start()
    for i in range(6):
        subprocess.run([TRAWL, "index", "-o", os.path.join(data, "index"), "--name", "proj", src],
                       check=True, stdout=subprocess.DEVNULL)
        time.sleep(0.7)
    stop.set()
    for t in ts:
        t.join()
    swaps = metric(s, "trawl_index_swaps_total") - swaps0
    ok(swaps >= 3, "the index was swapped while queries ran (%d swaps)" % swaps)
    ok(not errors and count[0] > 20,
       "zero failed queries during %d swaps (%d queries)" % (swaps, count[0]), *errors[:5])


def test_host_header(s):
    """SECURITY: a page served from another name (DNS rebinding to 127.0.0.1) gets nothing."""
    port = s.port
    for host in (b"evil.example", b"evil.example:%d" % port, b"127.0.0.1.evil.example",
                 b"10.0.0.1"):
        resp = raw(port, b"GET /api/v1/repos HTTP/1.1\r\nHost: " + host +
                   b"\r\nConnection: close\r\n\r\n")
        st = status_of(resp)
        head, _, body = resp.partition(b"\r\n\r\n")
        ok(st == 421 and b'"bad_host"' in body and
           b"Content-Security-Policy" in head,
           "Host %s: 421 bad_host, with security headers, no data" % host.decode(), resp[:300])
    for host in (b"localhost:%d" % port, b"127.0.0.1:%d" % port, b"[::1]:%d" % port):
        st = status_of(raw(port, b"GET /healthz HTTP/1.1\r\nHost: " + host +
                           b"\r\nConnection: close\r\n\r\n"))
        ok(st == 200, "Host %s: served" % host.decode(), st)
    st = status_of(raw(port, b"GET /healthz HTTP/1.0\r\n\r\n"))
    ok(st == 421, "no Host header: 421", st)
    # Two Hosts, whatever their case and values: a 400 that closes the connection (the
    # pipelined request after it is never answered).
    for second in (b"Host: evil.example", b"host: evil.example", b"HOST: 127.0.0.1",
                   b"Host: 127.0.0.1:%d" % port):
        resp = raw(port, b"GET /api/v1/repos HTTP/1.1\r\nHost: 127.0.0.1\r\n" + second +
                   b"\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head, _, body = resp.partition(b"\r\n\r\n")
        ok(status_of(resp) == 400 and b'"bad_request"' in body and
           b"more than one Host header" in body and
           re.search(rb"(?im)^connection: close\r?$", head) and resp.count(b"HTTP/1.1 ") == 1,
           "a second Host header (%s): 400 and the connection closed" % second.decode(),
           resp[:400])


def test_malformed(s):
    port = s.port
    cases = [
        (b"GARBAGE\r\n\r\n", "bad request line"),
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\rb\r\n\r\n", "CR inside a header"),
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked"
         b"\r\n\r\n0\r\n\r\n", "Content-Length and Transfer-Encoding"),
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n"
         b"hello", "duplicate Content-Length"),
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n",
         "oversized header"),
        (b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "oversized request line"),
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc",
         "a body on a read route"),
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
         "a chunked body on a read route"),
    ]
    for data, desc in cases:
        resp = raw(port, data)
        st = status_of(resp)
        if desc == "bad request line":
            # libmicrohttpd drops a connection whose first line is not a request line.
            ok(resp == b"" or st == 400, "malformed: bad request line -> closed", resp[:300])
            continue
        ok(st is not None and 400 <= st < 500 and st != 404,
           "malformed: %s -> 4xx and closed (%s)" % (desc, st), resp[:300])
        if st in (400, 405) and b"application/json" in resp:
            body = resp.split(b"\r\n\r\n", 1)[1]
            try:
                ok(json.loads(body)["error"]["code"] == "bad_request", "malformed: %s: JSON 400"
                   % desc, body[:200])
            except ValueError:
                ok(False, "malformed: %s: JSON body" % desc, body[:200])
    # obs-fold: libmicrohttpd unfolds it into one header value (RFC 9112 5.2 allows that), so
    # the request is one request, never two: the response must be a single one.
    resp = raw(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\r\n GET /metrics HTTP/1.1"
                     b"\r\nConnection: close\r\n\r\n")
    ok(resp.count(b"HTTP/1.1 ") == 1 and b"trawl_queries_total" not in resp,
       "malformed: obs-fold is never a second request")
    st, h, body = s.json("/healthz")
    ok(st == 200, "the server still answers after malformed requests")


def test_slowloris(s):
    # The server runs with --conn-timeout 2: a client that stops sending for longer is closed.
    slow = socket.create_connection(("127.0.0.1", s.port), timeout=20)
    slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    t0 = time.time()
    served = 0
    for _ in range(5):
        st, h, body = s.json("/healthz")
        served += st == 200
        time.sleep(0.2)
    ok(served == 5, "other clients are served while a slow client holds a connection")
    try:
        slow.sendall(b"X-A: 1\r\n")  # one more header, then silence
        data = slow.recv(100)
    except (ConnectionResetError, BrokenPipeError):
        data = b""
    took = time.time() - t0
    ok(data == b"" and took < 15, "a slow client is disconnected after the timeout (%.1fs)" % took,
       data)
    slow.close()


class Trickle:
    """Slowloris clients: sockets that send a request line, then one header byte every 0.4 s
    (far inside the idle timeout), never finishing the head; srcs: their source addresses."""

    def __init__(self, port, srcs):
        self.t0 = time.time()
        self.socks, self.closed_at = [], {}
        for src in srcs:
            so = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                so.bind((src, 0))
                so.connect(("127.0.0.1", port))
                so.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                so.setblocking(False)
            except OSError:
                self.closed_at[so] = 0.0  # refused at once
            self.socks.append(so)

    def step(self):
        """One trickle round; returns how many sockets are still open."""
        for so in self.socks:
            if so in self.closed_at:
                continue
            try:
                if so.recv(4096, socket.MSG_PEEK) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                try:
                    so.send(b"a")
                    continue
                except OSError:
                    pass
            except OSError:
                pass
            self.closed_at[so] = time.time() - self.t0
        return len(self.socks) - len(self.closed_at)

    def run(self, seconds):
        end = time.time() + seconds
        while time.time() < end and self.step():
            time.sleep(0.4)
        return len(self.socks) - len(self.closed_at)

    def close(self):
        for so in self.socks:
            so.close()


def healthz_from(port, src):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(src, 0))
        c.request("GET", "/healthz")
        st = c.getresponse().status
        c.close()
        return st
    except OSError as e:
        return repr(e)


def test_head_deadline(data):
    """Slowloris: the request head has a deadline (--header-timeout) although every byte
    restarts the idle timeout, and trickling sockets never lock other clients out."""
    s = Server(data, "--sync-interval", "0", "--header-timeout", "2", "--conn-timeout", "30")
    try:
        # Fewer than one client's bound: only the deadline can close them.
        t = Trickle(s.port, ["127.0.0.1"] * 20)
        left = t.run(15)
        ok(left == 0 and min(t.closed_at.values()) >= 1.0,
           "slowloris: 20 trickling heads are closed at the 2 s deadline (%.1f-%.1fs)" %
           (min(t.closed_at.values() or [0]), max(t.closed_at.values() or [0])),
           "%d still open" % left, sorted(t.closed_at.values()))
        t.close()
        # A kept-alive connection gets the same deadline for its next head.
        so = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        so.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = so.recv(65536)
        t = Trickle(s.port, [])
        so.setblocking(False)
        t.socks.append(so)
        t.run(15)
        ok(status_of(first) == 200 and so in t.closed_at and t.closed_at[so] >= 1.0,
           "slowloris: the next head on a kept-alive connection has the deadline too",
           first[:100], t.closed_at)
        so.close()
        # A request whose head is complete is never cut, however long its response takes.
        c, r = stream(s, "bulk count:all", read_bytes=True)
        time.sleep(3)
        body = r.read()
        c.close()
        ok(sse_events(body)[-1][0] == "done",
           "slowloris: a stream read only after the deadline is complete")
        # 300 trickling sockets from 127.0.0.1-7 (all one client: loopback): over the bound, a
        # new connection displaces the one that has waited longest for its head.
        srcs = ["127.0.0.1"] * 270 + ["127.0.0.%d" % (2 + i % 6) for i in range(30)]
        t = Trickle(s.port, srcs)
        t.step()
        got = [healthz_from(s.port, src) for src in ("127.0.0.1", "127.0.0.1", "127.0.0.2",
                                                      "127.0.0.9", "127.0.0.1")]
        left = t.run(15)
        ok(got == [200] * 5, "slowloris: /healthz answers while 300 sockets trickle heads", got)
        ok(left == 0, "slowloris: all 300 trickling sockets are closed", "%d still open" % left)
        t.close()
        ok(healthz_from(s.port, "127.0.0.1") == 200, "slowloris: the server answers afterwards")
        ok('"head_timeouts"' in s.logtext() and '"displaced"' in s.logtext(),
           "slowloris: the log says connections were closed and why")
        rc = s.stop()
        ok(rc == 0, "slowloris: SIGTERM stops the server cleanly",
           open(s.log_path, errors="replace").read()[-3000:])
    finally:
        if s.p.poll() is None:
            s.stop()


def test_traversal(s):
    attempts = ["../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                "src/../../etc/passwd", "/etc/passwd", "//etc/passwd", "%2fetc%2fpasswd",
                "..\\..\\etc\\passwd", "%5c..%5cetc", "src%00.c", "src/./main.c", ".",
                "..", "src/", "src//main.c", "%252e%252e%252fetc%252fpasswd", "..%252f"]
    for route in ("tree", "file", "raw"):
        for a in attempts:
            st, h, body, _ = s.get("/api/v1/repos/proj/%s?path=%s" % (route, a))
            ok(st in (400, 404) and b"root:" not in body,
               "traversal %s %s -> %d" % (route, a, st), body[:200])
        for name in ("..", "..%2f..", "%2e%2e", "proj%00", "%2fetc"):
            st, h, body, _ = s.get("/api/v1/repos/%s/%s?path=etc/passwd" % (name, route))
            ok(st in (400, 404) and b"root:" not in body,
               "traversal in the repo name %s %s -> %d" % (name, route, st))


# Names git allows that were once refused by the routes: every byte but NUL and '/'.
ODD_NAMES = [b"new\nline.txt", b"tab\there.txt", b"esc\x1b[31mred.txt", b"back\\slash.txt",
             b"100%.txt", b"%2e%2e", b"plus+sign.txt", b"cr\r.txt", b"del\x7f.txt",
             b"..\\..\\up.txt", b"bad\xff.txt"]


def make_odd_repo(tmp):
    """A git repository whose tree (built with plumbing, no file system names) holds ODD_NAMES
    at the root and in a directory named "dir\\x", indexed into its own DATA."""
    g = os.path.join(tmp, "odd")
    git("init", "-q", "--bare", g)

    def blob(data):
        return subprocess.run(["git", "-C", g, "hash-object", "-w", "--stdin"], input=data,
                              check=True, capture_output=True, env=GIT_ENV).stdout.strip()

    def tree(entries):
        spec = b"".join(b"%s %s %s\t%s\0" % e for e in entries)
        return subprocess.run(["git", "-C", g, "mktree", "-z"], input=spec, check=True,
                              capture_output=True, env=GIT_ENV).stdout.strip()

    inner = tree([(b"100644", b"blob", blob(b"inner content\n"), b"inner\n.c")])
    top = [(b"100644", b"blob", blob(b"content of " + n + b"\n"), n) for n in ODD_NAMES]
    top.append((b"040000", b"tree", inner, b"dir\\x"))
    commit = git("-C", g, "commit-tree", tree(top).decode(), "-m", "odd")
    git("-C", g, "update-ref", "refs/heads/main", commit)
    git("-C", g, "symbolic-ref", "HEAD", "refs/heads/main")
    data = os.path.join(tmp, "odd-data")
    subprocess.run([TRAWL, "index", "-o", os.path.join(data, "index"), "--name", "odd", g],
                   check=True, stdout=subprocess.DEVNULL)
    return data


def test_odd_names(tmp):
    """Files whose names hold control characters, backslashes or '%' open through the file,
    raw and tree routes (percent-encoded), and traversal is still refused."""
    s = Server(make_odd_repo(tmp), "--sync-interval", "0")
    base = "/api/v1/repos/odd/"
    enc = lambda b: urllib.parse.quote(b, safe="")
    try:
        for name in ODD_NAMES:
            st, h, f = s.json(base + "file?path=" + enc(name))
            want = (b"content of " + name + b"\n").decode("utf-8", "replace")
            ok(st == 200 and f["path"] == name.decode("utf-8", "replace") and
               f["content"] == want, "odd names: file %r: 200, its path and content" % name, f)
            st, h, body, _ = s.get(base + "raw?path=" + enc(name))
            ok(st == 200 and body == b"content of " + name + b"\n" and
               h.get("content-disposition") == "inline" and
               h.get("content-type") == "text/plain; charset=utf-8",
               "odd names: raw %r: 200, the exact bytes" % name, st, body[:200])
            # No header may carry the name's control bytes (http.client would have split it).
            ok(not any(re.search(r"[\x00-\x1f\x7f]", k + v) for k, v in h.items()),
               "odd names: raw %r: no control character in any header" % name, h)
        st, h, t = s.json(base + "tree")
        got = sorted(e["name"] for e in t.get("entries", []))
        want = sorted([n.decode("utf-8", "replace") for n in ODD_NAMES] + ["dir\\x"])
        ok(st == 200 and got == want, "odd names: the root tree lists every name exactly", got)
        st, h, t = s.json(base + "tree?path=" + enc(b"dir\\x"))
        ok(st == 200 and t["path"] == "dir\\x" and
           t["entries"] == [{"name": "inner\n.c", "type": "file", "size": 14, "language": "C"}],
           "odd names: the tree of a directory named with a backslash", t)
        # A percent-encoded '/' is a separator (no name holds one): the nested file opens.
        for p in ("dir%5Cx%2Finner%0A.c", "dir%5Cx/inner%0A.c"):
            st, h, body, _ = s.get(base + "raw?path=" + p)
            ok(st == 200 and body == b"inner content\n", "odd names: raw %s" % p, st, body)
        # '%' is decoded once: "%252e%252e" names the file "%2e%2e", not "..".
        st, h, body, _ = s.get(base + "raw?path=%252e%252e")
        ok(st == 200 and body == b"content of %2e%2e\n", "odd names: %252e%252e is the file %2e%2e",
           st, body)
        for p in ("..%2F..%2Fetc%2Fpasswd", "dir%5Cx%2F..%2F..%2Fetc", "%2e%2e", "%2E%2E%2F",
                  "dir%5Cx%2F%2E%2E", "%0A%2F..%2F..", "%2Fetc%2Fpasswd", "dir%5Cx%2F%2Finner",
                  "new%0Aline.txt%2F", "a%00b"):
            for route in ("file", "raw", "tree"):
                st, h, body, _ = s.get(base + "%s?path=%s" % (route, p))
                ok(st == 400 and b"root:" not in body and b"content of" not in body,
                   "odd names: traversal %s %s -> 400" % (route, p), st, body[:200])
        # A path that is no document (a backslash is no separator): the plain 404.
        st, h, body, _ = s.get(base + "raw?path=..%5C..%5Cetc%5Cpasswd")
        ok(st == 404, "odd names: ..\\..\\etc\\passwd is an unknown name: 404", st)
    finally:
        s.stop()


def test_busy(tmp, data):
    s = Server(data, "--sync-interval", "0", "--max-searches", "1")
    try:
        # A stream that is not read holds its slot (its output is bounded, so its search waits).
        c, r = stream(s, "bulk count:all", read_bytes=True)
        time.sleep(0.5)
        st, h, body = s.json("/api/v1/search?q=hello")
        ok(st == 429 and body["error"]["code"] == "busy" and h.get("retry-after") == "1",
           "over the concurrent search cap: 429 busy with Retry-After", st, body)
        check_headers("429", h)
        c.sock.shutdown(socket.SHUT_RDWR)
        c.close()
        deadline, st = time.time() + 10, 0
        while time.time() < deadline and st != 200:
            st = s.json("/api/v1/search?q=hello")[0]
            time.sleep(0.2)
        ok(st == 200, "the slot is free again once the client went away")
    finally:
        s.stop()


def test_search_threads(data):
    """Searches run off the HTTP threads: with one HTTP thread and two slots, /healthz answers
    while two long searches run, and a third search is told 429 at once instead of queueing."""
    s = Server(data, "--sync-interval", "0", "--threads", "1", "--max-searches", "2",
               "--query-memory", "4096")
    try:
        done = {}

        def search(k):
            try:
                st = s.get("/api/v1/search?q=" + q("count:all bulk") + "&context=10")[0]
            except (OSError, http.client.HTTPException):
                st = None  # the server stopped under it (the SIGTERM case)
            done[k] = (time.monotonic(), st)

        threads = [threading.Thread(target=search, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        deadline = time.time() + 10
        while metric(s, "trawl_searches_running") != 2 and time.time() < deadline:
            time.sleep(0.01)
        st3 = s.json("/api/v1/search?q=hello")[0]
        st_h = s.get("/healthz")[0]
        t_h = time.monotonic()
        for t in threads:
            t.join()
        ok(st_h == 200 and all(t_h < done[k][0] for k in done),
           "/healthz answers while every HTTP thread's searches run", st_h, t_h, done)
        ok(st3 == 429, "a search over the slots gets 429 at once, not a queue", st3)
        ok(done[0][1] == 200 and done[1][1] == 200, "the long searches complete", done)
        # SIGTERM while a search runs: it is canceled and the server stops cleanly.
        t = threading.Thread(target=search, args=(9,))
        t.start()
        while metric(s, "trawl_searches_running") != 1 and time.time() < deadline + 10:
            time.sleep(0.01)
        ok(s.stop() == 0, "SIGTERM during a search stops the server cleanly")
        t.join()
    finally:
        if s.p.poll() is None:
            s.stop()


def test_query_memory(data):
    """A per-query memory limit and the JSON answer's size cap stop a search with a limit
    alert and the results found so far, never a query error."""
    s = Server(data, "--sync-interval", "0", "--query-memory", "1")
    try:
        for query, ctx, want in (("count:all bulk", "", "response size limit"),
                                 ("count:all /./", "&context=10", "limit"),
                                 ("count:all timeout:5s /./", "&context=10", "limit")):
            st, h, body, _ = s.get("/api/v1/search?q=" + q(query) + ctx)
            js = json.loads(body) if st == 200 else {}
            kinds = [a["kind"] + ": " + a["message"] for a in js.get("alerts", [])]
            ok(st == 200 and js["results"] and js["summary"]["limit_hit"] and
               any(k.startswith("limit: ") and want in k for k in kinds),
               "--query-memory 1, %r: 200, partial results, a limit alert" % query, st,
               body[-600:])
            ok(len(body) < 2 << 20, "--query-memory 1, %r: the answer stays small (%d bytes)" %
               (query, len(body)))
        st, h, body = stream(s, "count:all /./")
        ev = sse_events(body)
        ok(st == 200 and ev[-1][0] == "done" and ev[-1][1]["limit_hit"] and
           any(e[0] == "alert" and "memory limit" in e[1]["message"] for e in ev),
           "--query-memory 1: a stream ends with a memory limit alert", [e[0] for e in ev][-5:])
    finally:
        s.stop()


def test_stream_backpressure(data):
    """A stream client that does not read: the search waits while the output is full, and its
    timeout keeps running, so the search ends (its slot free) though nothing was read."""
    s = Server(data, "--sync-interval", "0")
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", s.port))
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        c.sock = sock
        c.request("GET", "/api/v1/search/stream?q=" + q("count:all timeout:2s bulk"))
        deadline = time.time() + 20
        running = None
        time.sleep(1)
        while time.time() < deadline:
            running = metric(s, "trawl_searches_running")
            if running == 0:
                break
            time.sleep(0.2)
        ok(running == 0, "a stream nobody reads ends its search at the query's timeout",
           running)
        body = c.getresponse().read()
        c.close()
        ev = sse_events(body)
        names = [e[0] for e in ev]
        files = sum(len(e[1]) for e in ev if e[0] == "matches")
        done = ev[-1][1] if names and names[-1] == "done" else {}
        ok(done.get("timeout_hit") and any(e[0] == "alert" and e[1]["kind"] == "timeout"
                                           for e in ev),
           "... and the stream ends with a timeout alert and its summary", names[-4:])
        ok(done.get("files") == files and files > 0,
           "... and every file the summary counts was sent (%d)" % files, done, files)
    finally:
        s.stop()


def test_no_index(tmp, src):
    data = os.path.join(tmp, "empty")
    os.makedirs(data)
    s = Server(data, "--sync-interval", "0")
    try:
        st, h, body = s.json("/api/v1/search?q=hello")
        ok(st == 503 and body["error"]["code"] == "unavailable", "no index yet: 503", body)
        check_headers("503", h)
        st, h, body = s.json("/healthz")
        ok(st == 200 and body["index"] is False, "healthz without an index")
        st, h, body = s.json("/api/v1/repos")
        ok(st == 200 and body == {"repos": [], "total": 0, "next": None},
           "repos without an index or registry: empty", body)
        git("init", "-q", os.path.join(tmp, "noindex-src"))
        trawl_cmd("repo", "add", "--data", data, os.path.join(tmp, "noindex-src"), "--name", "later")
        st, h, body = s.json("/api/v1/repos")
        ok(st == 200 and [(r["name"], r["state"]) for r in body["repos"]] == [("later", "new")],
           "repos before the first index: registered repositories are listed as new", body)
        st, h, body = s.json("/api/v1/repos/later")
        ok(st == 200 and body["state"] == "new" and body["skipped"] == [],
           "one registered repository before the first index", body)
        text = s.get("/metrics")[2].decode()
        ok('trawl_repos{state="new"} 1' in text, "metrics before the first index count the registry")
        subprocess.run([TRAWL, "index", "-o", os.path.join(data, "index"), "--name", "proj", src],
                       check=True, stdout=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline and st != 200:
            st = s.json("/api/v1/search?q=hello")[0]
            time.sleep(0.2)
        ok(st == 200, "an index built after start is picked up")
    finally:
        s.stop()


def test_sched(tmp, data):
    fake = os.path.join(tmp, "fake-sync.sh")
    marker = os.path.join(tmp, "sync-ran")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\necho \"$@\" >> %s\nprintf 'line one\\r\\nFAKE {\"level\":\"x\"}\\n'\n"
                "exit 3\n" % marker)
    os.chmod(fake, 0o755)
    s = Server(data, "--sync-interval", "1s", env={"TRAWL_SYNC_CMD": fake},
               binary=serverlib.TRAWL_TEST)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and "sync failed" not in s.logtext():
            time.sleep(0.2)
        log = s.logtext()
        ok(os.path.exists(marker) and open(marker).read().startswith("--data " + data),
           "the scheduler runs the sync command with --data DIR")
        lines = [json.loads(l) for l in log.splitlines() if l.strip()]
        ok(all(isinstance(l, dict) for l in lines), "every log line is one JSON object")
        fail = [l for l in lines if l.get("msg") == "sync failed"]
        ok(fail and fail[0].get("exit_status") == 3, "a failing sync is logged with its status",
           fail)
        out = [l for l in lines if l.get("msg") == "sync output"]
        ok(any(l["line"] == "line one\r" for l in out) and
           not any(l.startswith("FAKE") for l in log.splitlines()),
           "child output with CR/LF is escaped inside one log line (L3)", out)
        ok(s.json("/healthz")[0] == 200, "the server carries on after a failed sync")
    finally:
        s.stop()
    # The release binary has no test hook: TRAWL_SYNC_CMD is ignored and the child is
    # `trawl sync`, whose outcome is logged; the server carries on.
    with open(marker) as f:
        runs = f.read()
    s = Server(data, "--sync-interval", "1s", env={"TRAWL_SYNC_CMD": fake})
    try:
        deadline = time.time() + 10
        while time.time() < deadline and "sync f" not in s.logtext():
            time.sleep(0.2)
        ok("\"sync f" in s.logtext() and s.json("/healthz")[0] == 200,
           "trawl sync as a child process: its outcome is logged and the server carries on")
        with open(marker) as f:
            ok(f.read() == runs and "exit_status\":3" not in s.logtext().replace(" ", ""),
               "the release binary ignores TRAWL_SYNC_CMD (a test hook)", s.logtext())
    finally:
        s.stop()


def test_log(s):
    st = s.get("/api/v1/search?q=" + q("a\r\nFAKE") + "&x=1")[0]
    log = s.logtext()
    lines = log.splitlines()
    ok(all(l.startswith("{") for l in lines if l), "log lines are JSON objects")
    reqs = [json.loads(l) for l in lines if '"request"' in l]
    ok(reqs and all("req" in r and "status" in r and "ms" in r for r in reqs),
       "every request is logged with id, status and time")
    ok(not any(l.startswith("FAKE") for l in lines), "a request cannot forge a log line")


def main():
    if not os.access(TRAWL, os.X_OK):
        print("not ok 1 - no trawl binary at " + TRAWL)
        sys.exit(1)
    tmp = tempfile.mkdtemp(prefix="trawl-serve.")
    try:
        src, big, data = make_fixture(tmp)
        tests = [("listen", lambda: test_listen()), ("data-env", lambda: test_data_env(data))]
        s = Server(data, "--sync-interval", "0", "--conn-timeout", "2")
        try:
            tests += [("routes", lambda: test_routes(s, src)), ("stream", lambda: test_stream(s)),
                      ("traversal", lambda: test_traversal(s)),
                      ("malformed", lambda: test_malformed(s)),
                      ("host", lambda: test_host_header(s)),
                      ("cancel", lambda: test_cancel(s)),
                      ("slowloris", lambda: test_slowloris(s)),
                      ("swap", lambda: test_swap(s, src, data)), ("log", lambda: test_log(s))]
            for name, fn in tests:
                if ONLY and ONLY not in name:
                    continue
                fn()
            ok(s.stop() == 0, "SIGTERM stops the server cleanly")
        finally:
            if s.p.poll() is None:
                s.stop()
        for name, fn in (("busy", lambda: test_busy(tmp, data)),
                         ("threads", lambda: test_search_threads(data)),
                         ("querymem", lambda: test_query_memory(data)),
                         ("backpressure", lambda: test_stream_backpressure(data)),
                         ("noindex", lambda: test_no_index(tmp, src)),
                         ("sched", lambda: test_sched(tmp, data)),
                         ("registry", lambda: test_registry(tmp)),
                         ("oddnames", lambda: test_odd_names(tmp)),
                         ("headdeadline", lambda: test_head_deadline(data)),
                         ("early", lambda: test_stream_early(tmp))):
            if not ONLY or ONLY in name:
                fn()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    serverlib.done()


if __name__ == "__main__":
    main()
