#!/usr/bin/env python3
"""End-to-end tests of commit permalinks (docs/api.md, "Files": rev=COMMIT): the file, raw and
tree routes take a full commit id. While an indexed branch is at that commit the index answers
("indexed": true); once the branch moved on, the repository's mirror does, read by the confined
`trawl worker show` ("indexed": false, docs/internals/sandbox.md, "The show worker"): the old
content, the old tree, an old file the branch has deleted since, a binary, a file over the size
limit. The errors: a commit the mirror does not hold, a path missing at that commit, a file
asked for as a directory and back (404), an abbreviated or mistyped commit id (400), a
repository the caller cannot read (404 as a missing one, the worker never started), an index
served without a registry ("commit not indexed"); the navigation routes (outline) answer an
old commit with "commit not indexed"; with the test binary's hooks, a worker the sandbox kills
(502), workers that hang (504 at the deadline, other requests answered meanwhile) and a
fifth read while four run (503). Every
answer is checked against its schema.

    python3 tests/e2e/test_permalink.py
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import threading  # noqa: E402
import time  # noqa: E402

from serverlib import TRAWL_TEST  # noqa: E402
from teamlib import Server, done, ok, token_create, trawl, user_add  # noqa: E402
from test_api_schema import schema_errors  # noqa: E402

BIG = 1 << 20  # BUILD_MAX_FILE_SIZE_DEFAULT


def git(*args):
    p = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com"] +
                       list(args), check=True, capture_output=True, text=True)
    return p.stdout.strip()


def write(root, files):
    for p, t in files.items():
        full = os.path.join(root, p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(t if isinstance(t, bytes) else t.encode())


def commit(src, msg):
    git("-C", src, "add", "-A")
    git("-C", src, "commit", "-qm", msg)
    return git("-C", src, "rev-parse", "HEAD")


def get(s, path, token=None):
    r = s.request("GET", path, token=token)
    try:
        return r.status, json.loads(r.body)
    except ValueError:
        return r.status, r.body


def q(repo, route, **params):
    return "/api/v1/repos/%s/%s?%s" % (repo, route, urllib.parse.urlencode(params))


def schema_ok(kind, body, what):
    ok(not schema_errors(kind, body), what + ": the answer's schema", schema_errors(kind, body))


def indexed(s, old):
    st, b = get(s, q("app", "file", path="src/main.c", rev=old))
    ok(st == 200 and b["content"] == "int main(void) { return 1; }\n" and b["indexed"] is True
       and b["commit"] == old and b["rev"] == old,
       "file at the branch's commit: from the index", st, b)
    schema_ok("file", b, "file at an indexed commit")
    st, b = get(s, q("app", "file", path="src/main.c", rev=old.upper()))
    ok(st == 200 and b["commit"] == old, "an upper-case commit id is the same commit", st, b)
    st, b = get(s, q("app", "tree", rev=old))
    ok(st == 200 and b["indexed"] is True and b["commit"] == old, "tree at the branch's commit",
       st, b)
    schema_ok("tree", b, "tree at an indexed commit")
    st, b = get(s, q("app", "file", path="src/main.c"))
    ok(st == 200 and b["indexed"] is True and b["rev"] == "main", "file on the branch", st, b)


def from_mirror(s, old, new):
    st, b = get(s, q("app", "file", path="src/main.c"))
    ok(st == 200 and b["content"] == "int main(void) { return 2; }\n" and b["commit"] == new,
       "the branch moved: the new content", st, b)
    st, b = get(s, q("app", "file", path="src/main.c", rev=old))
    ok(st == 200 and b.get("content") == "int main(void) { return 1; }\n"
       and b["indexed"] is False and b["commit"] == old and b["rev"] == old
       and b["language"] == "C" and b["skipped"] is None and b["binary"] is False
       and b["size"] == 29, "the old permalink: the old content, from the mirror", st, b)
    schema_ok("file", b, "file from the mirror")
    r = s.request("GET", q("app", "raw", path="src/main.c", rev=old))
    ok(r.status == 200 and r.body == b"int main(void) { return 1; }\n"
       and r.headers.get("content-type", "").startswith("text/plain")
       and "sandbox" in r.headers.get("content-security-policy", "").split(", "),
       "raw at the old commit: the old bytes, as plain sandboxed text", r.status, r.body[:200])
    st, b = get(s, q("app", "file", path="gone.txt", rev=old))
    ok(st == 200 and b.get("content") == "deleted later\n",
       "a file the branch has deleted since", st, b)
    st, b = get(s, q("app", "tree", rev=old))
    names = [(e["name"], e["type"]) for e in b.get("entries", [])] if st == 200 else b
    ok(st == 200 and names == [("big.txt", "file"), ("bin.dat", "file"),
                               ("gone.txt", "file"), ("src", "dir")]
       and b["indexed"] is False and b["commit"] == old, "the tree at the old commit", st, b)
    schema_ok("tree", b, "tree from the mirror")
    st, b = get(s, q("app", "tree", rev=old, path="src"))
    ok(st == 200 and [(e["name"], e["type"], e.get("size"), e.get("language"))
                      for e in b["entries"]] == [("main.c", "file", 29, "C")],
       "a directory at the old commit: sizes and languages", st, b)
    st, b = get(s, q("app", "file", path="bin.dat", rev=old))
    ok(st == 200 and b["binary"] is True and b["skipped"] == "binary" and "content" not in b,
       "a binary file at the old commit: no content", st, b)
    st, b = get(s, q("app", "file", path="big.txt", rev=old))
    ok(st == 200 and b["skipped"] == "too large" and b["size"] == BIG + 1
       and "content" not in b, "a file over the size limit: as an oversize indexed file",
       st, b)
    schema_ok("file", b, "an oversize file from the mirror")
    r = s.request("GET", q("app", "raw", path="big.txt", rev=old))
    ok(r.status == 404, "raw of a file over the limit: 404", r.status)


def errors(s, old):
    st, b = get(s, q("app", "file", path="src/main.c", rev="0123456789" * 4))
    ok(st == 404 and b["error"]["message"] == "no such commit in app",
       "a commit the mirror does not hold: 404 naming the repository", st, b)
    schema_ok("error", b, "no such commit")
    st, b = get(s, q("app", "file", path="nope.c", rev=old))
    ok(st == 404 and b["error"]["code"] == "not_found", "a path missing at the commit: 404",
       st, b)
    st, b = get(s, q("app", "tree", path="nope", rev=old))
    ok(st == 404, "a directory missing at the commit: 404", st, b)
    st, b = get(s, q("app", "file", path="src", rev=old))
    ok(st == 404, "a directory asked for as a file: 404", st, b)
    st, b = get(s, q("app", "tree", path="src/main.c", rev=old))
    ok(st == 404, "a file asked for as a directory: 404", st, b)
    st, b = get(s, q("app", "file", path="src/main.c", rev=old[:12]))
    ok(st == 400 and "40" in b["error"]["message"], "an abbreviated commit id: 400", st, b)
    st, b = get(s, q("app", "file", path="src/main.c", rev="z" + old[1:]))
    ok(st == 400, "40 characters that are not hex: 400", st, b)
    st, b = get(s, q("app", "file", path="src/main.c", rev="nope"))
    ok(st == 404, "an unknown branch is still a 404", st, b)
    st, b = get(s, q("app", "outline", path="src/main.c", rev=old))
    ok(st == 404 and b["error"]["message"] == "commit not indexed",
       "outline at a commit no branch is at: commit not indexed", st, b)
    st, b = get(s, q("nosuch", "file", path="src/main.c", rev=old))
    ok(st == 404, "an unknown repository with a commit: 404", st, b)


def hidden(tmp, data, old):
    """With accounts: a user without a grant gets the 404 of a missing repository, and no
    worker runs for it (nothing about the commit leaks)."""
    user_add(data, "root", admin=True)
    user_add(data, "bob")
    admin = token_create(data, "root", scope="admin")[0]
    bob = token_create(data, "bob")[0]
    s = Server(data)
    try:
        st, b = get(s, q("app", "file", path="src/main.c", rev=old), token=admin)
        ok(st == 200 and b["indexed"] is False, "the administrator reads the old commit", st, b)
        for route, extra in (("file", {"path": "src/main.c"}), ("raw", {"path": "src/main.c"}),
                             ("tree", {})):
            a = s.request("GET", q("app", route, rev=old, **extra), token=bob)
            m = s.request("GET", q("zzz", route, rev=old, **extra), token=bob)
            ok(a.status == 404 and a.body == m.body,
               "%s: a repository bob cannot read answers as a missing one" % route,
               a.status, a.body, m.body)
        log = s.logtext()
        ok(log.count("mirror") == 0 or "reading a commit from the mirror failed" not in log,
           "no mirror failure logged", log[-2000:])
        linked_mirror(s, tmp, data, admin)
    finally:
        s.stop()


def linked_mirror(s, tmp, data, token):
    """SECURITY: a mirror path that is a symlink (as a fetch worker taken over could leave) to
    another repository's mirror is refused: the other repository's commit is not shown through
    this one."""
    src = os.path.join(tmp, "other")
    os.makedirs(src)
    git("init", "-q", "-b", "main", src)
    write(src, {"secret.txt": "other repository's text\n"})
    other = commit(src, "other")
    trawl("repo", "add", "--allow-local", src, "--name", "other", data=data)
    trawl("sync", data=data)
    # Repositories are numbered in the order they were added: app 1, other 2.
    mirror = os.path.join(data, "repos", "1", "mirror.git")
    os.rename(mirror, mirror + ".aside")
    st, b = get(s, q("app", "file", path="src/main.c", rev=other), token=token)
    ok(st == 404 and b["error"]["message"] == "commit not indexed",
       "a repository without its mirror: commit not indexed", st, b)
    os.symlink(os.path.join(data, "repos", "2", "mirror.git"), mirror)
    try:
        st, b = get(s, q("app", "file", path="secret.txt", rev=other), token=token)
        ok(st == 502 and "other repository" not in json.dumps(b),
           "a mirror linked to another repository's: refused (502), nothing of it shown", st, b)
        ok("mirror is a link elsewhere: refused" in s.logtext(),
           "the log says why", s.logtext()[-2000:])
    finally:
        os.remove(mirror)
        os.rename(mirror + ".aside", mirror)


def worker_faults(data, old):
    """The test binary's hook: a worker the sandbox kills is a 502 (logged)."""
    path = q("app", "file", path="src/main.c", rev=old)
    s = Server(data, binary=TRAWL_TEST, env={"TRAWL_TEST_WORKER_SYSCALL": "show"})
    try:
        st, b = get(s, path)
        ok(st == 502 and b["error"]["code"] == "mirror_failed",
           "a worker the sandbox killed: 502 mirror_failed", st, b)
        schema_ok("error", b, "a worker that failed")
        ok("reading a commit from the mirror failed" in s.logtext(),
           "the failure is logged", s.logtext()[-2000:])
    finally:
        s.stop()


def paused_reads(data, old):
    """Workers that hang (the test binary's hook): one caller holds at most two of the four
    mirror reads (a third is a 429 at once; attack s29: one caller kept every other reader's
    permalinks at 503), a fifth read while four run is a 503 at once, the server answers other
    requests meanwhile (the reads wait on threads of their own), and the hung ones are 504s at
    the deadline (5 s)."""
    path = q("app", "file", path="src/main.c", rev=old)
    tokens = {}
    for name in ("ann", "cat", "dan"):
        user_add(data, name, admin=True)
        tokens[name] = token_create(data, name, scope="admin")[0]
    s = Server(data, binary=TRAWL_TEST, env={"TRAWL_TEST_WORKER_PAUSE": "show"})
    try:
        got = []

        def one(who):
            got.append(get(s, path, token=tokens[who]))
        t0 = time.monotonic()
        th = [threading.Thread(target=one, args=("ann",)) for _ in range(2)]
        for t in th:
            t.start()
        time.sleep(1.0)  # ann's two are running (paused) by now
        st, b = get(s, path, token=tokens["ann"])
        ok(st == 429 and b["error"]["code"] == "busy" and time.monotonic() - t0 < 4.5,
           "a caller's third read while two of theirs run: 429 busy at once", st, b)
        schema_ok("error", b, "a caller's third read")
        th += [threading.Thread(target=one, args=("cat",)) for _ in range(2)]
        for t in th[2:]:
            t.start()
        time.sleep(1.0)  # and cat's two
        st, b = get(s, path, token=tokens["dan"])
        ok(st == 503 and b["error"]["code"] == "busy" and time.monotonic() - t0 < 4.5,
           "another caller's read while four run: 503 busy at once", st, b)
        for _ in range(8):
            st, b = get(s, q("app", "file", path="src/main.c"), token=tokens["dan"])
            if st != 200:
                break
        ok(st == 200 and time.monotonic() - t0 < 4.5,
           "other requests are answered while the reads wait", st, time.monotonic() - t0)
        for t in th:
            t.join(60)
        ok(len(got) == 4 and all(g[0] == 504 and g[1]["error"]["code"] == "timeout"
                                 for g in got) and time.monotonic() - t0 < 30,
           "workers that hang: 504 at the deadline", got)
        st, b = get(s, path, token=tokens["ann"])
        ok(st == 504, "their slots are free again: ann's next read runs (504 here)", st, b)
    finally:
        s.stop()


def bare_index(tmp, src, old):
    """An index built with `trawl index` (no registry, no mirror): a moved commit is
    "commit not indexed"."""
    ix = os.path.join(tmp, "bare")
    trawl("index", "-o", os.path.join(ix, "index"), src)
    s = Server(ix)
    try:
        st, b = get(s, q(os.path.basename(src), "file", path="src/main.c", rev=old))
        ok(st == 404 and b["error"]["message"] == "commit not indexed",
           "an index without a registry: commit not indexed", st, b)
    finally:
        s.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-permalink-")
    s = None
    try:
        data = os.path.join(tmp, "data")
        src = os.path.join(tmp, "app")
        os.makedirs(src)
        git("init", "-q", "-b", "main", src)
        write(src, {"src/main.c": "int main(void) { return 1; }\n", "gone.txt": "deleted later\n",
                    "bin.dat": b"\x00\x01binary\x00", "big.txt": "x" * (BIG + 1)})
        old = commit(src, "one")
        trawl("repo", "add", "--allow-local", src, "--name", "app", data=data)
        trawl("sync", data=data)
        s = Server(data)
        indexed(s, old)
        write(src, {"src/main.c": "int main(void) { return 2; }\n"})
        os.remove(os.path.join(src, "gone.txt"))
        new = commit(src, "two")
        trawl("sync", data=data)
        # The server sees the new index once its watcher has picked it up.
        for _ in range(100):
            st, b = get(s, q("app", "file", path="src/main.c"))
            if st == 200 and b.get("commit") == new:
                break
            time.sleep(0.1)
        from_mirror(s, old, new)
        errors(s, old)
        ok(not re.search(r"mirror failed|refused a request", s.logtext()),
           "no worker failure or spawner refusal in the log", s.logtext()[-3000:])
        s.stop()
        s = None
        worker_faults(data, old)
        hidden(tmp, data, old)
        paused_reads(data, old)
        bare_index(tmp, src, old)
    finally:
        if s:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
