#!/usr/bin/env python3
"""End-to-end test of the bounds of GET /api/v1/repos/{name}/paths (docs/api.md, "Files"): a
repository whose paths come to more than the answer's 16 MiB of JSON gets the first ones in
byte order and "truncated": true, never an error; one under it gets all of them and false.
The answer's shape, revisions and access are tested in test_serve.py, test_api_schema.py and
test_access_matrix.py.

    python3 tests/e2e/test_paths.py
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402
from serverlib import TRAWL, done, ok  # noqa: E402

BUDGET = 16 << 20  # HANDLERS_PATHS_BYTES
# Fifteen directories of 249 bytes and names of 206: about 3,960 bytes a path, so 4,400 files
# are some 17.4 MB of JSON, past the budget, made and indexed in well under a second.
DIRS = "/".join(("d%02d" % k) + "x" * 246 for k in range(15))
N = 4400


def name(i):
    return "f%05d" % i + "y" * 200


def make(root, n):
    d = os.path.join(root, DIRS)
    os.makedirs(d)
    for i in range(n):
        with open(os.path.join(d, name(i)), "w") as f:
            f.write("x\n")


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-paths-")
    s = None
    try:
        data = os.path.join(tmp, "data")
        for repo, n in (("long", N), ("short", 3)):
            make(os.path.join(tmp, "src", repo), n)
            subprocess.run([TRAWL, "index", "-q", "-o", os.path.join(data, "index"), "--name", repo,
                            os.path.join(tmp, "src", repo)], check=True, stdout=subprocess.DEVNULL)
        s = serverlib.Server(data, "--sync-interval", "0")
        st, _, body, _ = serverlib.request(s.port, "GET", "/api/v1/repos/long/paths")
        b = json.loads(body) if st == 200 else {}
        paths = b.get("paths", [])
        want = [DIRS + "/" + name(i) for i in range(len(paths))]
        ok(st == 200 and b.get("truncated") is True and 0 < len(paths) < N and paths == want,
           "paths: past the byte budget, the first paths in byte order and truncated", st,
           len(paths), body[:200])
        ok(BUDGET <= len(body) < BUDGET + 8192,
           "paths: the answer stops just past the budget (one path more than it)", len(body))
        st, _, body, _ = serverlib.request(s.port, "GET", "/api/v1/repos/short/paths")
        b = json.loads(body)
        ok(st == 200 and b["truncated"] is False and
           b["paths"] == [DIRS + "/" + name(i) for i in range(3)], "paths: under it, all of them")
        serverlib.stop_clean(s, [])
    finally:
        serverlib.cleanup(s, tmp)
    done()


if __name__ == "__main__":
    main()
