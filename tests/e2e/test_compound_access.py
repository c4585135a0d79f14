#!/usr/bin/env python3
"""Team mode over compound shards (docs/index-format.md, "REPOS"): what a repository the caller
cannot read holds must not show through another repository of the same file. Each check serves
two indexes that differ only in the unreadable repository's content and compares, field for
field (timings aside), what a user who may read only the other repository gets.

- its size: /api/v1/repos and /api/v1/repos/NAME give a repository's own bytes, never a share
  of the file (a share grew with the unreadable repository's content);
- its symbols: a ranked search keeps the definitions of readable repositories only (the
  unreadable one's 120,000 definitions of the name searched used up a 1 MiB query's memory:
  no results and a limit alert), nor do type:symbol searches see them.
"""
import os
import shutil
import subprocess
import tempfile
import urllib.parse

from serverlib import done, ok
from teamlib import TRAWL, Server, token_create, trawl, user_add, write_tree

TIMING = ("elapsed_ms", "plan_ms", "duration_ms")


def norm(v):
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items() if k not in TIMING}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v


def serve(tmp, tag, private, public, requests, symbols=False, args=()):
    """Indexes private and public into one compound shard, serves it, and returns the answers
    to requests (paths) of a user who reads public only."""
    src = os.path.join(tmp, "src-" + tag)
    write_tree(os.path.join(src, "private"), private)
    write_tree(os.path.join(src, "public"), public)
    data = os.path.join(tmp, "data-" + tag)
    os.makedirs(data)
    subprocess.run([TRAWL, "index", "-q", "-o", os.path.join(data, "index")] +
                   (["--symbols"] if symbols else []) +
                   [os.path.join(src, "private"), os.path.join(src, "public")], check=True)
    user_add(data, "reader")
    trawl("repo", "set", "public", "--public", data=data)
    tok, _ = token_create(data, "reader")
    s = Server(data, *args)
    try:
        out = {}
        for path in requests:
            r = s.request("GET", path, token=tok)
            out[path] = (r.status, norm(r.json()))
        return out
    finally:
        s.stop()


def same(desc, a, b):
    for k in a:
        ok(a[k] == b[k], "%s: %s" % (desc, k), "small: %s" % (a[k],), "large: %s" % (b[k],))


tmp = tempfile.mkdtemp(prefix="trawl-e2e-compound-")
try:
    public = {"README.md": "hello public\n", "a.c": "int x;\n"}
    paths = ("/api/v1/repos", "/api/v1/repos/public")
    small = serve(tmp, "small", {"secret.txt": "x" * 20 + "\n"}, public, paths)
    large = serve(tmp, "large", {"secret.txt": "".join("line %d of a secret\n" % i
                                                       for i in range(8000))}, public, paths)
    same("a repository's size is its own", small, large)
    ok(small["/api/v1/repos/public"][1].get("index_bytes") ==
       len("hello public\n") + len("int x;\n") + len("README.md") + len("a.c"),
       "index_bytes: the bytes of its documents' contents and paths",
       small["/api/v1/repos/public"])

    public = {"a.c": "int foo(void) { return 1; }\n",
              "b.c": "/* calls foo */ int bar(void) { return foo(); }\n"}
    queries = ["/api/v1/search?q=" + urllib.parse.quote(q)
               for q in ("foo", "foo count:1", "foo count:all", "type:symbol foo")]
    many = {"defs%02d.c" % f: "".join("int foo; /* %d */\n" % i for i in range(10000))
            for f in range(12)}
    none = serve(tmp, "nodefs", {"README": "nothing\n"}, public, queries, symbols=True,
                 args=("--query-memory", "1"))
    lots = serve(tmp, "defs", dict(many, README="nothing\n"), public, queries, symbols=True,
                 args=("--query-memory", "1"))
    same("another repository's definitions count for nothing", none, lots)
    ok(none[queries[0]][0] == 200 and len(none[queries[0]][1].get("results", [])) == 2,
       "the readable repository's two files are found", none[queries[0]])
finally:
    shutil.rmtree(tmp, ignore_errors=True)
done()
