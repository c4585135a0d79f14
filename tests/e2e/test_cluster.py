#!/usr/bin/env python3
"""A local cluster (docs/operations.md, "Running a cluster"; docs/internals/cluster.md): four
searchers, each over the repositories rendezvous hashing assigns it (`trawl cluster assign`,
then `trawl index` into its own data directory), and frontends on loopback, against one
`trawl serve` (role all) over the same 20 repositories. Proves:

- the frontend's answers equal the single process's, result for result and line for line, in
  the same order, for bench/queries.tsv patterns that hit the fixture and ranked keyword queries
  cut by count:, with select:, type:path, type:repo, context lines and /api/v1/symbols;
- a searcher killed (SIGKILL) or stopped (SIGSTOP) gives partial results, flagged (an alert, and
  "partial": true), within the query's timeout, with the other searchers' results;
- a fifth searcher takes about a fifth of the repositories, all from the others to it, and the
  cluster over five still answers as one process;
- team mode through the fan-out: a canary repository readable by one user never shows for
  another (bodies, counts, alerts), and a searcher is sent only repositories of the caller's
  readable set (TRAWL_TEST_CLUSTER_LOG: each searcher logs the names it is sent);
- code navigation through a frontend: definitions byte for byte and references field for
  field equal one process's for hundreds of positions and the error cases (400, 404), in open
  and team mode (bob never sees the canary's definitions or references, and the searchers
  are sent his repositories only); a killed searcher leaves its definitions out, flagged, and
  a file it owns is a 503; the navigation's internal routes refuse unsigned requests (401);
- the internal route refuses unsigned, badly signed, expired and replayed requests (401), and a
  searcher has no user routes (404).

    python3 tests/e2e/test_cluster.py
"""
import base64
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402
from teamlib import (Server, TRAWL, done, index_repo, ok, token_create, trawl,  # noqa: E402
                     user_add, write_tree)
from test_nav import git  # noqa: E402

N_REPOS = 20
CANARY = "CANARY_" + uuid.uuid4().hex
SEARCHERS4 = ["s0", "s1", "s2", "s3"]
SEARCHERS5 = SEARCHERS4 + ["s4"]
TIMINGS = ("elapsed_ms", "plan_ms")

WORDS = ["mutex_lock(&dev->lock);", "copy_from_user(buf, src, n);",
         "p = kmalloc(size, GFP_ATOMIC);", "return NULL;", "/* FIXME: use-after-free */",
         "struct file_operations fops;", "spin_lock_irqsave(&q->lock, flags);",
         "ret = ERR_PTR(-ENOMEM);", "if (!p) return -EINVAL;", "shared_word(x);"]


def repo_files(rng, i):
    """A small C tree: a few files of lines drawn from WORDS, a definition named after the
    repository, so that scores differ (path kinds, lengths, definitions, match counts)."""
    files = {}
    for k in range(rng.randint(2, 5)):
        d = rng.choice(["src", "lib", "drivers/net", "tests", "docs", "vendor/x"])
        ext = rng.choice([".c", ".h", ".md"])
        lines = ["/* repo %d file %d */" % (i, k)]
        if k == 0:
            lines.append("static int __init handler_%d(void)" % i)
            lines.append("int shared_word(int x) { return x; }")
            # Symbols of other scores in one file: a count: cut falls inside files.
            lines.append("void handler_%d_remove(void) { }" % i)
            lines.append("int handle_%d(int x) { return x; }" % i)
        for _ in range(rng.randint(3, 30)):
            lines.append("\t" + rng.choice(WORDS))
        files["%s/f%d_%s%s" % (d, k, "x" * rng.randint(0, 12), ext)] = "\n".join(lines) + "\n"
    files.update(nav_files(i))
    return files


def nav_files(i):
    """Definitions for code navigation (no draw from the generator: the other files stay as
    they were): nav_common in C in every repository and in Python in every other one (the
    tiers: the same file, repository and language), nav_many six times a repository (more than
    the 100 definitions listed: limit_hit)."""
    files = {"nav/common.c": "int nav_common(int x)\n{\n\treturn nav_many(x) + %d;\n}\n" % i,
             "nav/many.c": "".join("int nav_many(int x)\n{\n\treturn x + %d;\n}\n" % k
                                   for k in range(6))}
    if i % 2:
        files["nav/other.py"] = "def nav_common(x):\n    return nav_many(x)\n"
    return files


BRANCHY = "branchy"


def make_branchy(tmp):
    """A git repository of two branches for code navigation's rev=: main has def.c; dev adds
    use.c, which calls dev_only_fn, and a definition of nav_common."""
    path = os.path.join(tmp, "src", BRANCHY)
    git("init", "-q", path)
    write_tree(path, {"def.c": "int dev_only_fn(void) { return 0; }\n"})
    git("-C", path, "add", ".")
    git("-C", path, "commit", "-qm", "one")
    git("-C", path, "checkout", "-qb", "dev")
    write_tree(path, {"use.c": "int call(void) { return dev_only_fn(); }\n",
                      "nav/extra.c": "int nav_common(int x)\n{\n\treturn dev_only_fn();\n}\n"})
    git("-C", path, "add", ".")
    git("-C", path, "commit", "-qm", "two")
    git("-C", path, "checkout", "-q", "main")


def index_branchy(data, tmp):
    trawl("index", "-o", os.path.join(data, "index"), "--name", BRANCHY, "--branch", "main",
          "--branch", "dev", "--symbols", os.path.join(tmp, "src", BRANCHY))


def branchy_paths():
    """Navigation on the branches of BRANCHY: rev=dev finds what only dev has, the default
    branch (no rev, rev=main) does not; another repository sees BRANCHY's default branch."""
    b = "/api/v1/repos/%s/%%s?" % BRANCHY
    return [b + "path=def.c&line=1&col=6&rev=dev", b + "path=def.c&line=1&col=6",
            b + "path=def.c&line=1&col=6&rev=main", b + "path=use.c&line=1&col=30&rev=dev",
            b + "path=use.c&line=1&col=30&rev=main", b + "path=nav/extra.c&line=1&col=6&rev=dev",
            b + "path=nav/extra.c&line=3&col=10&rev=dev",
            "/api/v1/repos/repo00/%s?path=nav/common.c&line=1&col=6"]


def names():
    return ["repo%02d" % i for i in range(N_REPOS)]


def assign(searchers, repos):
    """`trawl cluster assign`: {repository: searcher}."""
    arg = ",".join("%s=127.0.0.1:1" % s for s in searchers)
    _, out, _ = trawl("cluster", "assign", "--searchers", arg, *repos)
    return dict(line.split("\t") for line in out.splitlines())


def urlq(q, **params):
    return "/api/v1/search?" + urllib.parse.urlencode(dict(q=q, **params))


def strip(answer):
    """An answer without its timings (which differ run to run)."""
    s = answer.get("summary")
    for k in TIMINGS:
        if s:
            s.pop(k, None)
    # The cluster sums its searchers' index statistics: not comparable with one index.
    for k in ("shards_total", "shards_searched", "candidates", "bytes_scanned"):
        if s:
            s.pop(k, None)
    return answer


def get(server, path, token=None, timeout=60):
    h = {"Authorization": "Bearer " + token} if token else {}
    st, _, body, _ = serverlib.request(server.port, "GET", path, None, h, timeout=timeout)
    return st, body


class Cluster:
    """Searchers (role searcher) over their shares of the fixture; started with the test hook
    that logs the repositories each request names."""

    def __init__(self, tmp, secret):
        self.tmp, self.secret, self.s = tmp, secret, {}

    def start(self, name, repos):
        d = os.path.join(self.tmp, "data-" + name)
        if not os.path.isdir(d):
            os.makedirs(d)
            for r in repos:
                if r == BRANCHY:
                    index_branchy(d, self.tmp)
                else:
                    index_repo(d, r, os.path.join(self.tmp, "src", r), symbols=True)
        self.s[name] = Server(d, "--role", "searcher", "--self", name,
                              "--cluster-secret-file", self.secret,
                              env={"TRAWL_TEST_CLUSTER_LOG": "1"})
        return self.s[name]

    def arg(self, which):
        return ",".join("%s=127.0.0.1:%d" % (n, self.s[n].port) for n in which)


def compare(fe, one, queries, desc, token_fe=None, token_one=None):
    bad = []
    for q, params in queries:
        a_st, a = get(fe, urlq(q, **params), token_fe)
        b_st, b = get(one, urlq(q, **params), token_one)
        try:
            ja, jb = strip(json.loads(a)), strip(json.loads(b))
        except ValueError:
            ja, jb = a, b
        if a_st != b_st or ja != jb:
            bad.append("%r %r: %d %s\n  vs %d %s" % (q, params, a_st, json.dumps(ja)[:1500],
                                                      b_st, json.dumps(jb)[:1500]))
    ok(not bad, "%s: %d queries answer as one process" % (desc, len(queries)), *bad[:3])


def stream_events(server, q):
    """The stream's events but progress: [(event, data)], matches batches joined."""
    st, body = get(server, "/api/v1/search/stream?" + urllib.parse.urlencode({"q": q}))
    out, matches = [], []
    for block in body.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" not in lines or lines["event"] == "progress":
            continue
        data = json.loads(lines["data"])
        if lines["event"] == "matches":
            matches.extend(data)
        else:
            out.append((lines["event"], strip({"summary": data})["summary"]
                        if lines["event"] == "done" else data))
    return st, matches, out


def compare_streams(fe, one, queries):
    """The stream through a frontend: the same results, alerts and summary as one process's
    (count-limited queries: with count:all one process streams each shard's files as the
    shard is done, a frontend all of them ranked, as the JSON API)."""
    bad = []
    for q in queries:
        a, b = stream_events(fe, q), stream_events(one, q)
        if a != b:
            bad.append("%r:\n  %s\n  vs %s" % (q, json.dumps(a)[:1500], json.dumps(b)[:1500]))
    ok(not bad, "the stream through a frontend answers as one process (%d queries)" %
       len(queries), *bad[:2])


def raw_answer(server, path, token=None):
    """Status, the headers a client acts on, and the body."""
    h = {"Authorization": "Bearer " + token} if token else {}
    st, hs, body, _ = serverlib.request(server.port, "GET", path, None, h)
    keep = ("content-type", "content-security-policy", "content-disposition", "link",
            "cache-control", "x-content-type-options")
    return st, {k: v for k, v in hs.items() if k in keep}, body


def compare_repo_routes(fe, one):
    """The routes of one repository, proxied by a frontend to the repository's searcher,
    answer byte for byte as one process (status, headers, body)."""
    bad = []
    _, body = get(one, "/api/v1/repos/repo03/paths")
    paths = json.loads(body)["paths"][:3]
    reqs = ["/api/v1/repos/repo03/tree", "/api/v1/repos/repo07/paths",
            "/api/v1/repos/nosuch/tree", "/api/v1/repos/repo03/file?path=nosuch",
            "/api/v1/repos/repo03/readme", "/api/v1/repos/repo%30%33/tree",
            "/api/v1/repos/repo03/file?path=x&unknown=1"]
    for p in paths:
        q = urllib.parse.quote(p)
        reqs += ["/api/v1/repos/repo03/file?path=" + q, "/api/v1/repos/repo03/raw?path=" + q,
                 "/api/v1/repos/repo03/outline?path=" + q]
    for r in reqs:
        a, b = raw_answer(fe, r), raw_answer(one, r)
        if a != b:
            bad.append("%s: %r\n  vs %r" % (r, a, b))
    ok(not bad, "a repository's routes through a frontend answer as one process (%d)" %
       len(reqs), *bad[:2])


def bench_queries():
    """Patterns of bench/queries.tsv (the shared set) that hit the fixture, as regex queries."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared",
                        "bench", "queries.tsv")
    pats = ["mutex_lock\\(&", "copy_from_user", "\\bkmalloc\\w*\\(.*GFP_ATOMIC", "return",
            "struct", "NULL", "spin_lock_irqsave\\(&\\w+->lock", "ERR_PTR\\(-(ENOMEM|EINVAL)\\)",
            "^static int __init \\w+\\(void\\)"]
    if os.path.exists(path):
        with open(path) as f:
            for line in f.read().splitlines()[1:]:
                cols = line.split("\t")
                if len(cols) > 2 and cols[2] not in pats and any(
                        w in cols[2] for w in ("mutex", "copy_from", "kmalloc", "ERR_PTR")):
                    pats.append(cols[2])
    return pats


def queries():
    qs = []
    for p in bench_queries():
        qs.append(("/%s/" % p, {}))
        qs.append(("/%s/ count:7" % p, {}))
    for q in ("shared_word", "shared_word count:3", "kmalloc count:5", "lock count:all",
              "fixme case:no count:4", "handler_3", "file:drivers shared_word",
              "shared_word select:repo", "lock select:repo count:3", "lock select:file count:5",
              # select: cut by count: where the searchers' own cuts differ from the merged
              # one: the summary counts the files and lines before the cut, as one process.
              "lock select:repo count:1", "return select:repo count:7",
              "return select:file count:2", "lock select:file count:13", "NULL select:file",
              "type:path f0", "type:path f count:4", "type:repo repo1", "type:repo repo count:3",
              "-file:tests return count:10", "repo:^repo0 NULL", "repo:nosuch x",
              "lock timeout:5s count:2"):
        qs.append((q, {}))
    qs.append(("copy_from_user count:6", {"context": "2"}))
    qs.append(("return NULL", {"context": "1"}))
    return qs


def sign(secret_raw, method, path, body, t=None, nonce=None, target="s3"):
    """The signature a frontend sends (src/cluster/sign.c): for the searcher named target."""
    key = hashlib.sha256(secret_raw).digest()
    t = str(int(time.time()) if t is None else t)
    nonce = nonce or os.urandom(16).hex()
    msg = "\n".join([target, method, path, t, nonce,
                     hashlib.sha256(body).hexdigest()]).encode()
    return "t=%s,n=%s,s=%s" % (t, nonce, hmac.new(key, msg, hashlib.sha256).hexdigest())


def post_internal(s, body, sig):
    h = {"Content-Type": "application/json",
         "X-Trawl-Content-SHA256": hashlib.sha256(body).hexdigest()}
    if sig is not None:
        h["X-Trawl-Signature"] = sig
    st, _, data, _ = serverlib.request(s.port, "POST", "/internal/v1/search", body, h)
    return st, data


def test_signing(s, secret_raw, other, s_data, s_secret):
    """s is the searcher s3 (sign's default target); other is another searcher."""
    body = json.dumps({"q": "shared_word", "readable": ["repo00"], "context": 0, "type": 0,
                       "count": 0}).encode()
    st, data = post_internal(s, body, sign(secret_raw, "POST", "/internal/v1/search", body))
    ok(st == 200 and data.startswith(b"TRWLC1"), "a signed internal request is answered",
       st, data[:200])
    sig = sign(secret_raw, "POST", "/internal/v1/search", body)
    post_internal(s, body, sig)
    cases = {
        "unsigned": None,
        "badly signed": sign(b"another secret of at least 32 bytes!!", "POST",
                             "/internal/v1/search", body),
        "expired": sign(secret_raw, "POST", "/internal/v1/search", body, t=time.time() - 61),
        "from the future": sign(secret_raw, "POST", "/internal/v1/search", body,
                                t=time.time() + 61),
        "replayed": sig,
        "tampered": sign(secret_raw, "POST", "/internal/v1/search", body + b" "),
        "malformed": "t=1,n=2,s=3",
        "signed for another searcher": sign(secret_raw, "POST", "/internal/v1/search", body,
                                            target="s0"),
    }
    for desc, h in cases.items():
        st, data = post_internal(s, body, h)
        ok(st == 401 and b"repo00" not in data and b"TRWLC1" not in data,
           "an internal request %s is refused (401)" % desc, st, data[:200])
    # A body is read only for a genuine signature: a forged one is refused at its headers, so
    # no one without the secret makes a searcher hold 64 MiB bodies on 1,024 connections.
    for desc, h in (("unsigned", b""),
                    ("badly signed", b"X-Trawl-Signature: " + sign(
                        b"another secret of at least 32 bytes!!", "POST", "/internal/v1/search",
                        b"x" * 60000000).encode() + b"\r\nX-Trawl-Content-SHA256: " +
                     hashlib.sha256(b"x" * 60000000).hexdigest().encode() + b"\r\n")):
        with socket.create_connection(("127.0.0.1", s.port), timeout=5) as c:
            c.sendall(b"POST /internal/v1/search HTTP/1.1\r\nHost: s\r\nContent-Type: "
                      b"application/json\r\nContent-Length: 60000000\r\n" + h + b"\r\n")
            c.settimeout(3)
            try:
                head = c.recv(100)
            except socket.timeout:
                head = b"(no answer: the searcher waits for the body)"
        ok(head.startswith(b"HTTP/1.1 401"),
           "an %s internal request is refused before its body is read" % desc, head)
    # Seen on its way to s3 and answered there, a request cannot be replayed to another
    # searcher (whose nonce table never saw it): the signature names its target.
    sig = sign(secret_raw, "POST", "/internal/v1/search", body)
    st, _ = post_internal(s, body, sig)
    st2, data = post_internal(other, body, sig)
    ok(st == 200 and st2 == 401 and b"TRWLC1" not in data,
       "a request signed for one searcher is refused by another (401)", st, st2, data[:200])
    for path in ("/api/v1/search?q=x", "/", "/search", "/api/v1/repos", "/metrics"):
        st, _, data, _ = serverlib.request(s.port, "GET", path)
        ok(st == 404, "a searcher has no user route: %s is a 404" % path, st, data[:200])
    st, _, data, _ = serverlib.request(s.port, "GET", "/readyz")
    ok(st == 200, "a searcher with its index is ready", st, data)
    # Without its name a searcher could not tell requests for it from others': it refuses to
    # start (before it listens).
    rc, _, err = trawl("serve", "--role", "searcher", "--cluster-secret-file", s_secret,
                       "--listen", "127.0.0.1:0", data=s_data, check=False)
    ok(rc != 0 and "--role=searcher needs --self NAME" in err,
       "a searcher without --self does not start, and says why", rc, err)


def test_partial(fe, one, cl, owner):
    q = "lock timeout:2s count:all"
    _, full = get(one, urlq(q))
    full = json.loads(full)
    victim = "s1"
    lost = {r for r, s in owner.items() if s == victim}
    cl.s[victim].p.kill()
    cl.s[victim].p.wait()
    t0 = time.monotonic()
    st, body = get(fe, urlq(q), timeout=20)
    dt = time.monotonic() - t0
    a = json.loads(body)
    want = [r for r in full["results"] if r["repo"] not in lost]
    ok(st == 200 and a["summary"].get("partial") is True and
       any(x["reason"] == "partial" for x in a["alerts"]) and a["results"] == want and dt < 4,
       "a killed searcher: partial results, flagged, the others' in order, in %.1f s" % dt,
       st, json.dumps(a)[:1500])
    msg = [x["message"] for x in a["alerts"] if x["reason"] == "partial"]
    ok(msg and "1 searcher" in msg[0] and "repo" not in msg[0],
       "the partial alert counts what did not answer, never names it", msg)
    _, metrics = get(fe, "/metrics")
    ok(b"trawl_cluster_partial_total 1\n" in metrics and
       b"trawl_cluster_searcher_failures_total 1\n" in metrics and
       b"a searcher did not answer" in fe.logtext().encode(),
       "the frontend counts the partial answer and logs the searcher", metrics[-600:])
    stopped = "s2"
    lost2 = lost | {r for r, s in owner.items() if s == stopped}
    os.kill(cl.s[stopped].p.pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        st, body = get(fe, urlq(q), timeout=20)
        dt = time.monotonic() - t0
        a = json.loads(body)
        want = [r for r in full["results"] if r["repo"] not in lost2]
        ok(st == 200 and a["summary"].get("partial") is True and a["results"] == want and
           2 <= dt < 5,
           "a stopped searcher: partial results within the timeout (%.1f s for 2 s + grace)" % dt,
           st, json.dumps(a)[:1500])
    finally:
        os.kill(cl.s[stopped].p.pid, signal.SIGCONT)


# ---- code navigation through a frontend (definition, references) ----

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def nav_positions(one, repos, avoid=()):
    """Positions (repo, path, line, col) over the files of repos on one process: every
    definition of each file's outline, and identifiers drawn from its lines; with avoid, the
    identifiers left out (those the canary repository also holds)."""
    rng = random.Random(31)
    pos = []
    for r in repos:
        _, body = get(one, "/api/v1/repos/%s/paths" % r)
        for p in json.loads(body)["paths"]:
            q = urllib.parse.quote(p)
            _, text = get(one, "/api/v1/repos/%s/raw?path=%s" % (r, q))
            lines = text.decode().split("\n")
            _, ol = get(one, "/api/v1/repos/%s/outline?path=%s" % (r, q))
            for y in json.loads(ol)["symbols"]:
                col = lines[y["line"] - 1].find(y["name"])
                if col >= 0 and y["name"] not in avoid:
                    pos.append((r, p, y["line"], col + 1))
            for k, line in enumerate(lines):
                words = [m for m in IDENT.finditer(line) if m.group() not in avoid]
                if words and rng.random() < 0.15:
                    m = rng.choice(words)
                    # The caret inside the word, or just after it.
                    pos.append((r, p, k + 1, rng.choice([m.start() + 1, m.end() + 1])))
    return pos


def nav_paths(positions):
    """The definition and references requests of positions, and the error cases: no
    identifier, a line or column past the end, malformed numbers (400), a missing file or
    repository (404), rev=HEAD and an unknown rev."""
    reqs = []
    for r, p, line, col in positions:
        reqs.append("/api/v1/repos/%s/%%s?path=%s&line=%d&col=%d" %
                    (r, urllib.parse.quote(p), line, col))
    r, p = positions[0][0], urllib.parse.quote(positions[0][1])
    for extra in ("path=%s&line=1&col=1" % p, "path=%s&line=99999&col=1" % p,
                  "path=%s&line=1&col=9999" % p, "path=%s&line=0&col=1" % p,
                  "path=%s&line=x&col=1" % p, "path=%s&line=1" % p, "path=nosuch.c&line=1&col=1",
                  "path=%s&line=2&col=12&rev=HEAD" % p, "path=%s&line=2&col=12&rev=nosuch" % p,
                  "path=%s&line=2&col=12&rev=%s" % (p, "a" * 40)):
        reqs.append("/api/v1/repos/%s/%%s?%s" % (r, extra))
    reqs.append("/api/v1/repos/nosuch/%s?path=a.c&line=1&col=1")
    reqs.append("/api/v1/repos/nosuch/%s?path=a.c&line=0&col=1")
    return reqs


def nav_answer(server, path, token=None):
    st, body = get(server, path, token)
    try:
        return st, strip(json.loads(body))
    except ValueError:
        return st, body


def compare_nav(fe, one, reqs, desc, token_fe=None, token_one=None):
    """The frontend's definitions (byte for byte) and references (after strip) equal one
    process's."""
    bad, n = [], 0
    for r in reqs:
        for route in ("definition", "references"):
            path, n = r % route, n + 1
            if route == "definition":
                a, b = get(fe, path, token_fe), get(one, path, token_one)
            else:
                a, b = nav_answer(fe, path, token_fe), nav_answer(one, path, token_one)
            if a != b:
                bad.append("%s:\n  %r\n  vs %r" % (path, str(a)[:800], str(b)[:800]))
    ok(not bad, "code navigation through %s answers as one process (%d requests)" % (desc, n),
       len(bad), *bad[:3])
    return n


def nav_statuses(one, reqs):
    """How many of reqs' definitions are 200, 400 and 404 on one process (the test's reach)."""
    out = {}
    for r in reqs:
        st, _ = get(one, r % "definition")
        out[st] = out.get(st, 0) + 1
    return out


def test_nav_signing(s, secret_raw):
    """A searcher's navigation routes answer signed requests only."""
    path = "/internal/api/v1/repos/repo00/identifier?path=x.c&line=1&col=1"
    st, _, data, _ = serverlib.request(s.port, "GET", path)
    ok(st == 401, "an unsigned identifier request is refused (401)", st, data[:200])
    bad = sign(b"another secret of at least 32 bytes!!", "GET", path, b"")
    st, _, data, _ = serverlib.request(s.port, "GET", path, None, {"X-Trawl-Signature": bad})
    ok(st == 401, "a badly signed identifier request is refused (401)", st, data[:200])
    st, _, data, _ = serverlib.request(s.port, "GET", path, None,
                                       {"X-Trawl-Signature": sign(secret_raw, "GET", path, b"")})
    ok(st in (200, 404), "a signed identifier request is answered", st, data[:200])
    st, _, data, _ = serverlib.request(s.port, "GET", path, None, {
        "X-Trawl-Signature": sign(secret_raw, "GET", path, b"", target="s0")})
    ok(st == 401, "an identifier request signed for another searcher is refused (401)", st,
       data[:200])
    body = json.dumps({"id": "shared_word", "repo": "repo00", "path": "x.c", "lang": 0,
                       "rev": "HEAD", "all": True, "set": ["s3"], "self": "s3"}).encode()
    dpath = "/internal/v1/definition"
    for desc, sig in (("unsigned", None),
                      ("badly signed", sign(b"another secret of at least 32 bytes!!", "POST",
                                            dpath, body)),
                      ("signed for the search route", sign(secret_raw, "POST",
                                                           "/internal/v1/search", body)),
                      ("signed for another searcher", sign(secret_raw, "POST", dpath, body,
                                                           target="s0")),
                      ("signed", sign(secret_raw, "POST", dpath, body))):
        h = {"Content-Type": "application/json",
             "X-Trawl-Content-SHA256": hashlib.sha256(body).hexdigest()}
        if sig is not None:
            h["X-Trawl-Signature"] = sig
        st, _, data, _ = serverlib.request(s.port, "POST", dpath, body, h)
        want = 200 if desc == "signed" else 401
        ok(st == want and (want == 200 or b"defs" not in data),
           "an internal definition request %s: %d" % (desc, want), st, data[:300])


def test_nav_team(fe, one, cl, tok, nav_reqs):
    """Team mode: bob (who cannot read the canary repository) gets one process's answers for
    identifiers the canary also holds; the searchers are sent his repositories only; alice's
    definitions hold the canary's."""
    _, src = get(one, "/api/v1/repos/repo00/raw?path=" + urllib.parse.quote(
        next(p for p in json.loads(get(one, "/api/v1/repos/repo00/paths")[1])["paths"]
             if "f0_" in p)))
    lines = src.decode().split("\n")
    k = next(i for i, l in enumerate(lines) if l.startswith("int shared_word"))
    f0 = next(p for p in json.loads(get(one, "/api/v1/repos/repo00/paths")[1])["paths"]
              if "f0_" in p)
    base = "/api/v1/repos/repo00/%%s?path=%s&line=%d&col=%d" % (urllib.parse.quote(f0), k + 1,
                                                               6)
    marks = {n: len(cl.s[n].logtext()) for n in SEARCHERS4}
    reqs = [base, base.replace("line=%d&" % (k + 1), "line=%d&" % k)] + nav_reqs[::5]
    compare_nav(fe, one, reqs, "a team frontend for bob", token_fe=tok["bob"])
    leak = []
    for route in ("definition", "references"):
        st, body = get(fe, base % route, tok["bob"])
        if CANARY.encode() in body or b'"secret"' in body or st != 200:
            leak.append((route, st, body[:300]))
    ok(not leak, "bob never sees the canary repository in definitions or references", *leak)
    time.sleep(0.5)
    sent = "".join(cl.s[n].logtext()[marks[n]:] for n in SEARCHERS4)
    ok("internal definition" in sent and "secret" not in sent,
       "the searchers were sent bob's readable repositories only", sent[-1500:])
    st, body = get(fe, base % "definition", tok["alice"])
    ok(st == 200 and any(d["repo"] == "secret" for d in json.loads(body)["definitions"]),
       "alice's definitions hold the canary repository's", st, body[:300])
    st, body = get(fe, base % "references", tok["alice"])
    ok(st == 200 and CANARY.encode() in body, "alice's references hold the canary's", st,
       body[:300])
    hidden = [raw_answer(fe, "/api/v1/repos/%s/%s?path=src/leak.c&line=1&col=6" % (r, route),
                         tok["bob"])
              for r in ("secret", "sekret") for route in ("definition", "references")]
    ok(hidden[:2] == hidden[2:] and all(h[0] == 404 for h in hidden),
       "bob: the canary repository's navigation answers as a missing one's (404)", hidden)


def test_nav_team_fe(tmp, cl, secret, one, nav_reqs):
    """A team frontend of its own (public repositories, BRANCHY too: bob reads what one process
    holds; the canary alice's) for test_nav_team."""
    fe_data = os.path.join(tmp, "data-fe-nav")
    os.makedirs(fe_data)
    for r in names() + ["secret"]:
        index_repo(fe_data, r, os.path.join(tmp, "src", r))
    index_branchy(fe_data, tmp)
    tok = team_setup(fe_data)
    trawl("repo", "set", BRANCHY, "--public", data=fe_data)
    fe = Server(fe_data, "--role", "frontend", "--searchers", cl.arg(SEARCHERS4),
                "--cluster-secret-file", secret)
    try:
        test_nav_team(fe, one, cl, tok, nav_reqs)
    finally:
        fe.stop()


def test_nav_partial(fe, one, owner, victim):
    """A searcher that does not answer (killed): definitions and references are the others',
    flagged; a file it owns is a 503, at once."""
    r = next(x for x in names() if owner[x] != victim)
    mine = next(x for x in names() if owner[x] == victim)
    path = "/api/v1/repos/%s/%%s?path=nav/common.c&line=1&col=6" % r
    lost = {x for x, s in owner.items() if s == victim}
    _, full = get(one, path % "definition")
    t0 = time.monotonic()
    st, body = get(fe, path % "definition", timeout=20)
    dt = time.monotonic() - t0
    a, want = json.loads(body), [d for d in json.loads(full)["definitions"]
                                 if d["repo"] not in lost]
    ok(st == 200 and a.get("partial_searchers") == 1 and a["definitions"] == want and
       len(want) >= 10 and dt < 4,
       "a killed searcher: the others' definitions, flagged, in %.1f s" % dt, st, body[:600])
    st, body = get(fe, path % "references", timeout=20)
    a = json.loads(body)
    ok(st == 200 and a["summary"].get("partial") is True and
       all(x["repo"] not in lost for x in a["results"]),
       "a killed searcher: the others' references, flagged", st, body[:600])
    t0 = time.monotonic()
    st, body = get(fe, "/api/v1/repos/%s/definition?path=x.c&line=1&col=1" % mine, timeout=20)
    dt = time.monotonic() - t0
    ok(st == 503 and dt < 4, "a file of the killed searcher: a 503 in %.1f s" % dt, st, body)


def test_rendezvous(tmp):
    many = ["team%03d/project-%d" % (i, i * 7) for i in range(400)]
    a4, a5 = assign(SEARCHERS4, many), assign(SEARCHERS5, many)
    moved = [r for r in many if a4[r] != a5[r]]
    ok(all(a5[r] == "s4" for r in moved),
       "adding a fifth searcher moves repositories to it only", [r for r in moved if a5[r] != "s4"])
    ok(400 / 5 * 0.6 <= len(moved) <= 400 / 5 * 1.4,
       "about a fifth of the repositories move (%d of 400)" % len(moved))
    counts = {s: sum(1 for r in many if a4[r] == s) for s in SEARCHERS4}
    ok(all(60 <= c <= 140 for c in counts.values()), "four searchers share evenly", counts)


def team_setup(data):
    """Accounts on the frontend's data directory: alice reads the canary repository, bob does
    not; both read the public ones."""
    user_add(data, "root", admin=True)
    user_add(data, "alice")
    user_add(data, "bob")
    for r in names():
        trawl("repo", "set", r, "--public", data=data)
    trawl("grant", "secret", "--user", "alice", data=data)
    return {u: token_create(data, u)[0] for u in ("alice", "bob", "root")}


def test_team(tmp, cl, secret, owner):
    fe_data = os.path.join(tmp, "data-fe-team")
    os.makedirs(fe_data)
    # The frontend registers the repositories (public) with the CLI, which needs them known:
    # its index lists them (a frontend never reads it).
    for r in names() + ["secret"]:
        index_repo(fe_data, r, os.path.join(tmp, "src", r))
    tok = team_setup(fe_data)
    fe = Server(fe_data, "--role", "frontend", "--searchers", cl.arg(SEARCHERS4),
                "--cluster-secret-file", secret)
    try:
        marks = {n: len(cl.s[n].logtext()) for n in SEARCHERS4}
        st, body = get(fe, urlq("shared_word count:all"), tok["bob"])
        st2, body2 = get(fe, urlq(CANARY), tok["bob"])
        st3, body3 = get(fe, urlq("type:repo secret"), tok["bob"])
        st4, body4 = get(fe, urlq("repo:secret shared_word"), tok["bob"])
        leak = [b for b in (body, body2, body3, body4) if CANARY.encode() in b or
                b'"secret"' in b]
        ok(st == st2 == st3 == st4 == 200 and not leak,
           "bob never sees the canary repository through the fan-out", *leak)
        sent = "".join(cl.s[n].logtext()[marks[n]:] for n in SEARCHERS4)
        ok("secret" not in sent and "repo00" in sent,
           "the searchers were sent bob's readable repositories only", sent[-2000:])
        a = json.loads(body)
        ok(a["summary"]["files"] > 0 and all(r["repo"] != "secret" for r in a["results"]),
           "bob's results hold the public repositories only")
        st, body = get(fe, urlq(CANARY), tok["alice"])
        ok(st == 200 and CANARY.encode() in body,
           "alice finds the canary through the fan-out", st, body[:300])
        st, _ = get(fe, urlq("x"))
        ok(st == 401, "the frontend still asks for credentials", st)
        st, body = get(fe, "/api/v1/repos/repo00/file?path=x")
        ok(st == 401, "a repository route asks for credentials on a frontend", st, body)
        hidden = [raw_answer(fe, "/api/v1/repos/%s/%s" % (r, route), tok["bob"])
                  for r in ("secret", "sekret") for route in ("tree", "file?path=src/leak.c",
                                                              "raw?path=src/leak.c")]
        ok(hidden[:3] == hidden[3:] and all(h[0] == 404 for h in hidden),
           "bob: the canary repository's routes answer as a missing one's (404)", hidden)
        st, _, body = raw_answer(fe, "/api/v1/repos/secret/raw?path=src/leak.c", tok["alice"])
        ok(st == 200 and CANARY.encode() in body, "alice reads the canary file through the "
           "frontend", st, body[:200])
        time.sleep(0.5)  # alice's request is in the searcher's log (written as it completes)
        marks = {n: len(cl.s[n].logtext()) for n in SEARCHERS4}
        raw_answer(fe, "/api/v1/repos/secret/raw?path=src/leak.c", tok["bob"])
        time.sleep(0.5)
        asked = [n for n in SEARCHERS4 if "/internal/api/v1/repos/secret" in
                 cl.s[n].logtext()[marks[n]:]]
        ok(not asked, "bob's request for the canary never reaches a searcher", asked)
        # A stopped searcher in team mode: the alert counts the caller's repositories it holds.
        victim = next(n for n in SEARCHERS4 if n != owner["secret"])
        held = sum(1 for r in names() if owner[r] == victim)
        os.kill(cl.s[victim].p.pid, signal.SIGSTOP)
        try:
            st, body = get(fe, urlq("shared_word timeout:1s"), tok["bob"], timeout=20)
        finally:
            os.kill(cl.s[victim].p.pid, signal.SIGCONT)
        a = json.loads(body)
        msg = [x["message"] for x in a.get("alerts", []) if x["reason"] == "partial"]
        ok(st == 200 and a["summary"].get("partial") and msg and
           msg[0].startswith("%d of the repositories searched" % held) and
           "secret" not in body.decode(),
           "a stopped searcher: bob's partial alert counts his %d repositories on it" % held,
           st, body[:600])
    finally:
        fe.stop()


def test_indexer(tmp):
    """An indexer syncs, from its registry, only what its searcher owns; it serves health
    only."""
    data = os.path.join(tmp, "data-indexer")
    repos = ["git%d" % i for i in range(8)]
    for r in repos:
        src = os.path.join(tmp, "git", r)
        write_tree(src, {"a.txt": "hello from %s\n" % r})
        for argv in (["git", "init", "-q"], ["git", "add", "."],
                     ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"]):
            subprocess.run(argv, cwd=src, check=True)
        trawl("repo", "add", "file://" + src, "--name", r, "--allow-local", data=data)
    listed = ",".join("%s=127.0.0.1:1" % n for n in SEARCHERS4)
    mine = sorted(r for r, o in assign(SEARCHERS4, repos).items() if o == "s2")
    ix = Server(data, "--role", "indexer", "--self", "s2", "--searchers", listed,
                "--sync-interval", "1s")
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "packed" not in ix.logtext() and \
                "synced" not in ix.logtext():
            time.sleep(0.2)
        time.sleep(0.5)
        _, out, _ = trawl("ls", "-d", os.path.join(data, "index"))
        got = sorted({line.split("/")[0] for line in out.splitlines() if line})
        ok(mine and got == mine, "the indexer synced its searcher's repositories only",
           mine, got, ix.logtext()[-1500:])
        st, _, _, _ = serverlib.request(ix.port, "GET", "/healthz")
        st2, _, _, _ = serverlib.request(ix.port, "GET", "/api/v1/search?q=hello")
        ok(st == 200 and st2 == 404, "an indexer serves health only", st, st2)
    finally:
        ix.stop()


def test_searcher_limits(tmp, secret, servers):
    """A searcher leaves per-user limits to the frontends: every user's fan-out reaches it as
    one caller, so its own per-caller rate and slots would make a busy cluster's answers
    partial. Here a searcher allows one search a second and one at a time per caller; eight
    searches at once through the frontend all answer whole."""
    s = Server(os.path.join(tmp, "data-s0"), "--role", "searcher", "--self", "s0",
               "--cluster-secret-file", secret, "--rate-search", "1/s",
               "--user-max-searches", "1")
    servers.append(s)
    fe = Server(os.path.join(tmp, "data-fe"), "--role", "frontend", "--searchers",
                "s0=127.0.0.1:%d" % s.port, "--cluster-secret-file", secret,
                "--user-max-searches", "16")
    servers.append(fe)
    got = []

    def one(i):
        st, body = get(fe, urlq("shared_word count:%d" % (i + 1)))
        got.append((st, st == 200 and json.loads(body)["summary"].get("partial", False)))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok(len(got) == 8 and all(g == (200, False) for g in got),
       "a searcher's per-caller limits do not apply to its frontends' requests", got)


def test_searchers_file(tmp, cl, secret, owner, one, servers):
    """A frontend's --searchers-file is read again on SIGHUP (and when it changes): the next
    query uses the new set. A file that no longer parses leaves the set as it was."""
    # In a directory of its own, as a ConfigMap's mount: the confined server may read that
    # directory, where a replaced file is a new one (a file beside DATA is granted alone).
    os.makedirs(os.path.join(tmp, "conf"))
    path = os.path.join(tmp, "conf", "searchers.list")
    q = urlq("shared_word count:all -repo:^secret$")

    def write(text):
        with open(path + ".new", "w") as f:
            f.write(text)
        os.replace(path + ".new", path)  # as a ConfigMap's update: another inode

    def answers_as_one(fe, seconds):
        end = time.time() + seconds
        while True:
            st, body = get(fe, q)
            st2, body2 = get(one, q)
            if st == 200 and strip(json.loads(body)) == strip(json.loads(body2)):
                return True
            if time.time() > end:
                return False
            time.sleep(0.1)

    write("# one searcher for now\n%s\n" % cl.arg(["s0"]))
    fe = Server(os.path.join(tmp, "data-fe"), "--role", "frontend", "--searchers-file", path,
                "--cluster-secret-file", secret)
    servers.append(fe)
    st, body = get(fe, q)
    a = json.loads(body)
    ok(st == 200 and a["results"] and all(owner[r["repo"]] == "s0" for r in a["results"]),
       "--searchers-file: a frontend over the file's one searcher", st, body[:300])
    write("# all four\n" + "\n".join(cl.arg(SEARCHERS4).split(",")) + "\n")
    os.kill(fe.p.pid, signal.SIGHUP)
    ok(answers_as_one(fe, 5), "--searchers-file: after SIGHUP the next query uses the four")
    write("s0=no port here\n")
    os.kill(fe.p.pid, signal.SIGHUP)
    time.sleep(0.5)
    ok(answers_as_one(fe, 0) and "not read again" in fe.logtext(),
       "--searchers-file: a file that does not parse leaves the four, with an error logged",
       fe.logtext()[-600:])
    for args, words in (([], "names no searcher"), (["--searchers", "s0=127.0.0.1:1"],
                                                     "replaces --searchers")):
        write("# nobody\n")
        p = subprocess.run([TRAWL, "serve", "--data", os.path.join(tmp, "data-fe"), "--role",
                            "frontend", "--searchers-file", path, "--cluster-secret-file",
                            secret, "--listen", "127.0.0.1:0"] + args,
                           capture_output=True, text=True, timeout=60)
        ok(p.returncode == 2 and words in p.stderr, "--searchers-file refused: " + words,
           p.returncode, p.stderr[-300:])


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-cluster-")
    servers = []
    try:
        rng = random.Random(18)
        for i, r in enumerate(names()):
            write_tree(os.path.join(tmp, "src", r), repo_files(rng, i))
        write_tree(os.path.join(tmp, "src", "secret"),
                   {"src/leak.c": "int shared_word = 1; /* %s */\n" % CANARY})
        secret_raw = base64.b64encode(os.urandom(32))
        secret = os.path.join(tmp, "cluster.secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(secret_raw + b"\n")
        secret_key = base64.b64decode(secret_raw)
        make_branchy(tmp)
        all_repos = names() + ["secret", BRANCHY]
        owner = assign(SEARCHERS4, all_repos)

        one_data = os.path.join(tmp, "data-one")
        os.makedirs(one_data)
        for r in names():
            index_repo(one_data, r, os.path.join(tmp, "src", r), symbols=True)
        index_branchy(one_data, tmp)
        one = Server(one_data)
        servers.append(one)

        cl = Cluster(tmp, secret)
        for n in SEARCHERS4:
            servers.append(cl.start(n, [r for r in all_repos if owner[r] == n and
                                        r != "secret"] + (["secret"] if owner["secret"] == n
                                                          else [])))
        ok(sorted(set(owner.values())) == SEARCHERS4, "every searcher owns repositories",
           owner)
        # The single process holds no canary: the laptop-mode comparison leaves it out.
        os.makedirs(os.path.join(tmp, "data-fe"))
        fe = Server(os.path.join(tmp, "data-fe"), "--role", "frontend", "--searchers",
                    cl.arg(SEARCHERS4), "--cluster-secret-file", secret)
        servers.append(fe)
        # The canary repository is on a searcher, not in the single process: left out.
        qs = [(q + " -repo:^secret$", p) if "repo:" not in q else (q, p) for q, p in queries()]
        compare(fe, one, qs, "four searchers")
        compare_streams(fe, one, [q + " -repo:^secret$" for q in (
            "shared_word count:3", "lock count:7", "/kmalloc.*GFP/ count:2", "nosuchword")])
        bad = []
        for path in ("/api/v1/symbols?q=handler&count=3", "/api/v1/symbols?q=handler",
                     "/api/v1/symbols?q=shared_word+-repo:%5Esecret%24",
                     "/api/v1/symbols?q=handler_1&count=2"):
            st, body = get(fe, path)
            st2, body2 = get(one, path)
            if st != 200 or body != body2:
                bad.append("%s: %d %s\n  vs %d %s" % (path, st, body[:1200], st2, body2[:1200]))
        ok(not bad, "/api/v1/symbols through a frontend answers as one process", *bad[:2])
        # Cuts inside a file: each file 0 defines handler_N and shared_word, of other scores.
        cuts = [("type:symbol %s count:%d -repo:^secret$" % (w, n), {})
                for w in ("/^(handler|shared)/", "handle") for n in (1, 2, 3, 5, 7, 11, 19)]
        compare(fe, one, [("type:symbol handler count:4 -repo:^secret$", {}),
                          ("select:symbol handler -repo:^secret$", {})] + cuts,
                "symbol searches")

        compare_repo_routes(fe, one)
        # The canary repository also holds int and shared_word: left out (test_nav_team has
        # them, for a caller who cannot read it).
        nav_reqs = nav_paths(nav_positions(one, names(), avoid=("int", "shared_word")))
        nav_reqs += branchy_paths()
        st = nav_statuses(one, nav_reqs)
        ok(st.get(200, 0) >= 30 and st.get(400, 0) >= 4 and st.get(404, 0) >= 3,
           "the navigation positions reach answers and errors", st)
        compare_nav(fe, one, nav_reqs, "four searchers")
        _, on_dev = get(one, branchy_paths()[0] % "references")
        _, on_main = get(one, branchy_paths()[1] % "references")
        ok(b"use.c" in on_dev and b"use.c" not in on_main,
           "the compared positions reach a branch's own files (rev=dev)", on_dev[:300])
        fe1 = Server(os.path.join(tmp, "data-fe"), "--role", "frontend", "--searchers",
                     cl.arg(["s0"]), "--cluster-secret-file", secret)
        servers.append(fe1)
        st, body = get(fe1, urlq("shared_word count:all"))
        a = json.loads(body)
        ok(st == 200 and a["results"] and
           all(owner[r["repo"]] == "s0" for r in a["results"]) and
           "partial" not in a["summary"],
           "a frontend over one searcher answers with its repositories", st, body[:300])

        test_searcher_limits(tmp, secret, servers)
        test_signing(cl.s["s3"], secret_key, cl.s["s0"], os.path.join(tmp, "data-s3"), secret)
        test_nav_signing(cl.s["s3"], secret_key)
        test_rendezvous(tmp)

        # A fifth searcher: it indexes what it now owns; the others keep their old copies,
        # which the frontend's set no longer asks them for.
        owner5 = assign(SEARCHERS5, all_repos)
        servers.append(cl.start("s4", [r for r in all_repos if owner5[r] == "s4" and
                                       r != "secret"]))
        fe5 = Server(os.path.join(tmp, "data-fe"), "--role", "frontend", "--searchers",
                     cl.arg(SEARCHERS5), "--cluster-secret-file", secret)
        servers.append(fe5)
        moved = [r for r in all_repos if owner[r] != owner5[r]]
        ok(moved and all(owner5[r] == "s4" for r in moved),
           "the fifth searcher takes %d of %d repositories from the others" %
           (len(moved), len(all_repos)))
        compare(fe5, one, qs, "five searchers")
        compare_nav(fe5, one, nav_reqs[::3], "five searchers")
        test_searchers_file(tmp, cl, secret, owner, one, servers)

        test_team(tmp, cl, secret, owner)
        test_nav_team_fe(tmp, cl, secret, one, nav_reqs)
        test_indexer(tmp)
        test_partial(fe, one, cl, owner)
        test_nav_partial(fe, one, owner, "s1")
        bad = []
        for s in servers:
            if s and s.p.poll() is None and s.stop() != 0:
                bad.append(s.logtext()[-3000:])
        ok(not bad, "every process stops cleanly (no sanitizer report)", *bad[:2])
    finally:
        for s in servers:
            if s and s.p.poll() is None:
                try:
                    os.kill(s.p.pid, signal.SIGCONT)
                except OSError:
                    pass
                s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
