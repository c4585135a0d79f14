#!/usr/bin/env python3
"""Fault test (docs/security.md, "Faults"): the disk fills while shards are written. DATA/index
is a small tmpfs, mounted in a private mount namespace (`unshare -m`: nothing leaks to the
host, and the mount goes away with the test). A repository is synced and served; then it grows
past the free space and is synced again:
- the sync fails with a clear error naming the full disk ("No space left on device") and the
  file, and the registry records it;
- the previous index is intact (`trawl verify`) and still served: the CLI and the running
  server return the old results;
- no temporary file is left in the index;
- `trawl index` onto the full disk fails the same way and leaves nothing behind;
- once space is freed (the tmpfs grown), the next sync completes and the server serves the new
  results.
Needs root for the mount: without it, a "# SKIP" line says so; as root, a mount that cannot be
made is a failure, not a skip. Output: TAP.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402
from serverlib import Server, ok, done  # noqa: E402

INNER = "TRAWL_FAULT_DISKFULL_INNER"
SMALL, LARGE = "1m", "64m"


def search_lines(data, q):
    p = subprocess.run([fl.TRAWL, "search", "--data", data, q], capture_output=True, text=True)
    return p.returncode, sorted(p.stdout.splitlines()), p.stderr


def server_lines(port, q):
    import json
    import urllib.parse
    st, _, body, _ = fl.request(port, "GET", "/api/v1/search?q=" + urllib.parse.quote(q))
    doc = json.loads(body) if st == 200 else {}
    return st, sorted("%s/%s:%d:%s" % (r["repo"], r["path"], l["line"], l["text"])
                      for r in doc.get("results", []) for l in r.get("lines", []))


def wait_for(cond, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def grow(repo, n_files=40, size=64 * 1024):
    """Adds n_files files of size bytes of text that compresses little (so the mirror stays
    small next to the shard, which stores it whole plus its trigrams)."""
    import random
    rnd = random.Random(7)
    for i in range(n_files):
        words = " ".join("w%08x" % rnd.getrandbits(32) for _ in range(size // 10))
        with open(os.path.join(repo, "big%02d.txt" % i), "w") as f:
            f.write("newmark %d\n%s\n" % (i, words))
    fl.git(repo, "add", "-A")
    fl.git(repo, "commit", "-q", "-m", "grow")


def inner(tmp):
    src, data = os.path.join(tmp, "src", "proj"), os.path.join(tmp, "data")
    ix, other = os.path.join(data, "index"), os.path.join(tmp, "other")
    os.makedirs(src)
    with open(os.path.join(src, "a.txt"), "w") as f:
        f.write("oldmark one\n")
    fl.git(src, "init", "-q")
    fl.git(src, "add", "-A")
    fl.git(src, "commit", "-q", "-m", "one")
    p = subprocess.run([fl.TRAWL, "repo", "add", "--data", data, "--allow-local", src],
                       capture_output=True, text=True)
    ok(p.returncode == 0, "repo add", p.stderr)
    for d in (ix, other):
        os.makedirs(d, mode=0o700, exist_ok=True)
        m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % SMALL, "tmpfs",
                            d], capture_output=True, text=True)
        if not ok(m.returncode == 0, "a %s tmpfs is mounted on %s" % (SMALL, d),
                  "cannot mount a tmpfs (needed for this test): " + m.stderr):
            return
    p = subprocess.run([fl.TRAWL, "sync", "--data", data], capture_output=True, text=True)
    ok(p.returncode == 0, "the first sync completes on the small disk", p.stderr)
    old = ["proj/a.txt:1:oldmark one"]
    s = Server(data, "--sync-interval", "0", log_dir=tmp)
    try:
        ok(server_lines(s.port, "oldmark") == (200, old), "the server serves the index")
        grow(src)
        p = subprocess.run([fl.TRAWL, "sync", "--data", data], capture_output=True, text=True)
        ok(p.returncode == 2, "a sync past the free space fails (exit 2)", p.returncode, p.stderr)
        ok("No space left on device" in p.stderr and ix in p.stderr,
           "its error names the full disk and a file in the index", p.stderr)
        r = fl.repo_states(data).get("proj", {})
        ok(r.get("state") == "error" and "No space left on device" in (r.get("last_error") or ""),
           "the registry records the failure with the reason", r)
        v = subprocess.run([fl.TRAWL, "verify", ix], capture_output=True, text=True)
        ok(v.returncode == 0, "the previous index is intact (trawl verify)", v.stdout + v.stderr)
        ok(search_lines(data, "oldmark")[:2] == (0, old) and
           search_lines(data, "newmark")[1] == [],
           "trawl search still gives the old results", search_lines(data, "oldmark"))
        ok(server_lines(s.port, "oldmark") == (200, old) and
           server_lines(s.port, "newmark") == (200, []),
           "the running server still serves the old results", s.logtext()[-2000:])
        left = fl.leftovers(data)
        ok(not left, "no temporary file is left in the index", left)

        p = subprocess.run([fl.TRAWL, "index", "-q", "-o", os.path.join(other, "ix"), src],
                           capture_output=True, text=True)
        ok(p.returncode != 0 and "No space left on device" in p.stderr and other in p.stderr,
           "trawl index onto a full disk fails naming the disk and the file",
           p.returncode, p.stderr)
        stray = [f for f in os.listdir(os.path.join(other, "ix"))
                 if f not in ("LOCK", "WRITERS")] if os.path.isdir(os.path.join(other, "ix")) \
            else []
        ok(not stray, "and leaves no shard or temporary file behind", stray)

        m = subprocess.run(["mount", "-o", "remount,size=%s" % LARGE, ix], capture_output=True,
                           text=True)
        ok(m.returncode == 0, "space is freed (the tmpfs grown to %s)" % LARGE, m.stderr)
        # The failed repository is in its retry backoff: the operator who freed the space
        # retries at once (a plain sync would skip it until the backoff ends).
        p = subprocess.run([fl.TRAWL, "sync", "--retry", "--data", data], capture_output=True,
                           text=True)
        ok(p.returncode == 0 and "synced proj" in p.stdout, "the next sync (--retry) completes",
           p.stdout + p.stderr)
        v = subprocess.run([fl.TRAWL, "verify", ix], capture_output=True, text=True)
        ok(v.returncode == 0, "the new index verifies", v.stdout + v.stderr)
        ok(wait_for(lambda: len(server_lines(s.port, "newmark")[1]) == 40),
           "the server serves the new results", s.logtext()[-2000:])
        ok(fl.repo_states(data).get("proj", {}).get("state") == "indexed",
           "the repository is indexed again")
    finally:
        s.stop()


def main():
    if os.environ.get(INNER) == "1":
        tmp = tempfile.mkdtemp(prefix="trawl-diskfull.")
        try:
            inner(tmp)
        finally:
            for d in ("data/index", "other"):
                subprocess.run(["umount", os.path.join(tmp, d)], capture_output=True)
            shutil.rmtree(tmp, ignore_errors=True)
        done()
    if os.geteuid() != 0:
        print("1..0 # SKIP mounting a tmpfs needs root (this test runs as uid %d)" % os.geteuid())
        return
    env = dict(os.environ, **{INNER: "1"})
    try:
        p = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                            os.path.abspath(__file__)], env=env)
    except OSError as e:
        ok(False, "unshare -m (a private mount namespace for the tmpfs)", e)
        done()
    if p.returncode not in (0, 1):
        ok(False, "the test runs in a private mount namespace (unshare -m)",
           "unshare or the test failed with exit status %d" % p.returncode)
        done()
    sys.exit(p.returncode)


if __name__ == "__main__":
    main()
