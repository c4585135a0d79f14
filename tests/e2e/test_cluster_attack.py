#!/usr/bin/env python3
"""Outside attack s31 on a frontend (docs/security.md, "A cluster's internal traffic"): its
searchers are fakes that answer what a compromised searcher would (the wire format of
docs/internals/cluster.md, written here). Proves the frontend:

- refuses an answer with a file of a repository the searcher was not asked for (another
  searcher's): it never shows, the search is partial, the log names the searcher;
- refuses an answer whose counts would decode to many times its bytes (lines of three bytes
  each), within --query-memory, and its memory stays near that bound (VmHWM measured);
- refuses an answer with a NaN score (the merge's qsort orders compare scores);
- refuses an identifier answer (a definition's or references' first step) that is no
  identifier: the references' query is made of it, a searcher could add words to it (a 503);
- refuses a definitions answer of many small values (jansson's 40 bytes for each "0,") before
  parsing it, and an identifier answer past 64 KiB (a 503);
- still shows an honest fake's answer (the test's wire encoding is right).

    python3 tests/e2e/test_cluster_attack.py
"""
import http.server
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402
from teamlib import Server, TRAWL, done, ok  # noqa: E402

QUERY_MIB = 16


def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def wstr(s):
    """A wire string: its length + 1, its bytes, a NUL (None: 0)."""
    if s is None:
        return b"\0"
    b = s.encode() if isinstance(s, str) else s
    return uvarint(len(b) + 1) + b + b"\0"


def wfile(repo, path, score, lines):
    """A content file, no branch, no content, lines as (lineno, text) with one range each."""
    out = b"F" + uvarint(0) + uvarint(0) + struct.pack("<d", score) + wstr(repo) + wstr(path)
    out += uvarint(0) + b"\0" + uvarint(len(lines)) + b"\1"
    for n, t in lines:
        out += uvarint(n) + wstr(t) + uvarint(1) + uvarint(0) + uvarint(len(t))
    return out + uvarint(0)


def many_lines(repo, path, n):
    """A content file of n lines of three bytes each (line 1, no text, no range)."""
    out = b"F" + uvarint(0) + uvarint(0) + struct.pack("<d", 1.0) + wstr(repo) + wstr(path)
    out += uvarint(0) + b"\0" + uvarint(n) + b"\1" + b"\1\0\0" * n
    return out + uvarint(0)


def wstats(files, lines):
    out = b"S" + uvarint(lines) + uvarint(files) + uvarint(1) + uvarint(1) + uvarint(files)
    out += uvarint(0) + uvarint(0) + uvarint(0) + struct.pack("<dd", 1.0, 0.1)
    return out + uvarint(0) + wstr("") + uvarint(0) + wstr("")


class Fake:
    """A searcher that answers every internal search with self.answer (bytes)."""

    def __init__(self):
        fake = self
        self.answer = b"TRWLC1" + wstats(0, 0)
        self.ident = b"{}"
        self.bodies = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                fake.bodies.append(json.loads(self.rfile.read(n)))
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(fake.answer)))
                self.end_headers()
                self.wfile.write(fake.answer)

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(fake.ident)))
                self.end_headers()
                self.wfile.write(fake.ident)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()


def owner_of(searchers, repos):
    out = subprocess.run([TRAWL, "cluster", "assign", "--searchers", searchers] + repos,
                         check=True, capture_output=True, text=True).stdout
    # "REPO OWNER" lines (docs/operations.md).
    return {a: b for a, b in (ln.split()[:2] for ln in out.splitlines() if ln.strip())}


def search(fe, q):
    st, _, body, _ = serverlib.request(fe.port, "GET", "/api/v1/search?q=" +
                                       urllib.parse.quote(q), None, {}, timeout=60)
    return st, body


def frontend(tmp, searchers, secret):
    """A frontend over the fakes, of QUERY_MIB MiB per query (a new one: its peak is fresh)."""
    return Server(os.path.join(tmp, "data-fe"), "--role", "frontend", "--searchers", searchers,
                  "--cluster-secret-file", secret, "--query-memory", str(QUERY_MIB))


def nav(fe, route, repo):
    """GET a code navigation route at line 1, column 1 of a.c in repo: (status, body)."""
    st, _, body, _ = serverlib.request(
        fe.port, "GET", "/api/v1/repos/%s/%s?path=a.c&line=1&col=1" %
        (urllib.parse.quote(repo, safe=""), route), None, {}, timeout=60)
    return st, body


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1])
    return 0


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-cluster-attack-")
    fe = None
    fakes = [Fake(), Fake()]
    try:
        secret = os.path.join(tmp, "cluster.secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(os.urandom(32).hex().encode() + b"\n")
        searchers = "s0=127.0.0.1:%d,s1=127.0.0.1:%d" % (fakes[0].port, fakes[1].port)
        names = ["github.com/x/r%d" % i for i in range(16)]
        own = owner_of(searchers, names)
        mine = [r for r in names if own[r] == "s0"]
        theirs = [r for r in names if own[r] == "s1"]
        ok(mine and theirs, "both fake searchers own repositories", own)
        os.makedirs(os.path.join(tmp, "data-fe"))
        fe = frontend(tmp, searchers, secret)

        # An honest answer first: the encoding is right, the file shows.
        fakes[0].answer = (b"TRWLC1" + wfile(mine[0], "a.c", 2.0, [(1, "needle here")]) +
                           wstats(1, 1))
        st, body = search(fe, "needle")
        a = json.loads(body)
        ok(st == 200 and [r["repo"] for r in a["results"]] == [mine[0]] and
           "partial" not in a["summary"], "an honest fake's answer shows", st, body[:400])
        ok(fakes[0].bodies and fakes[0].bodies[-1].get("all") is True,
           "open mode: the searcher is asked for what it owns", fakes[0].bodies[-1:])

        # A file of another searcher's repository: refused, partial.
        fakes[0].answer = (b"TRWLC1" + wfile(mine[0], "a.c", 2.0, [(1, "needle here")]) +
                           wfile(theirs[0], "spoof.c", 9.0, [(1, "needle: planted")]) +
                           wstats(2, 2))
        st, body = search(fe, "needle")
        a = json.loads(body)
        ok(st == 200 and not a["results"] and a["summary"].get("partial") is True and
           b"planted" not in body,
           "a file of a repository the searcher was not asked for is refused (partial)",
           st, body[:400])
        ok("a malformed answer" in fe.logtext() and '"searcher":"s0"' in fe.logtext(),
           "the operator's log names the searcher", fe.logtext()[-600:])

        # A NaN score: refused.
        fakes[0].answer = (b"TRWLC1" + wfile(mine[0], "a.c", float("nan"), [(1, "needle")]) +
                           wfile(mine[1 % len(mine)], "b.c", 1.0, [(1, "needle")]) +
                           wstats(2, 2))
        st, body = search(fe, "needle")
        a = json.loads(body)
        ok(st == 200 and not a["results"] and a["summary"].get("partial") is True,
           "a NaN score is refused (partial)", st, body[:400])

        # An identifier answer that is no identifier: it would be the references' query.
        fakes[0].answer = b"TRWLC1" + wstats(0, 0)
        fakes[0].ident = json.dumps({"identifier": "x\\b/ or /needle", "rev": "main",
                                     "branch": "main", "path": "a.c", "lang": 0}).encode()
        n_posts = len(fakes[0].bodies)
        st, body = nav(fe, "references", mine[0])
        asked = [b.get("q") for b in fakes[0].bodies[n_posts:]]
        ok(st == 503 and not asked,
           "an identifier answer that is no identifier is refused (503), nothing searched",
           st, body[:300], asked)

        # Definitions: an answer of many small values; the other searcher's is honest. A new
        # frontend: its peak memory is this test's.
        assert fe.stop() == 0
        fe = frontend(tmp, searchers, secret)
        fakes[0].ident = json.dumps({"identifier": "needle", "rev": "main", "branch": "main",
                                     "path": "a.c", "lang": 0}).encode()
        fakes[1].answer = b'{"found":0,"limit_hit":false,"defs":[]}'
        n = (QUERY_MIB << 20) // 2 - 4096
        fakes[0].answer = b'{"found":0,"limit_hit":false,"defs":[],"x":[' + b"0," * n + b"0]}"
        before = vm_hwm_kib(fe.p.pid)
        st, body = nav(fe, "definition", mine[0])
        grown = (vm_hwm_kib(fe.p.pid) - before) / 1024
        print("definitions: frontend peak memory grew %.0f MiB for a %d MiB answer of %d values"
              % (grown, len(fakes[0].answer) >> 20, n))
        ok(st == 200 and json.loads(body).get("partial_searchers") == 1 and
           grown < 4 * QUERY_MIB,
           "a definitions answer of many values is refused unparsed (%.0f MiB)" % grown,
           st, body[:300])
        fakes[0].ident = json.dumps({"identifier": "needle", "rev": "main", "branch": "main",
                                     "path": "a" * (1 << 20), "lang": 0}).encode()
        st, body = nav(fe, "definition", mine[0])
        ok(st == 503, "an identifier answer past 64 KiB is refused (503)", st, body[:300])

        assert fe.stop() == 0
        fe = frontend(tmp, searchers, secret)
        # Lines of three bytes: an answer just under --query-memory that would decode to ~13
        # times it. Refused within the bound; the frontend's peak memory stays near it.
        n = (QUERY_MIB << 20) // 3 - 4096
        fakes[0].answer = b"TRWLC1" + many_lines(mine[0], "big.c", n) + wstats(1, n)
        before = vm_hwm_kib(fe.p.pid)
        st, body = search(fe, "needle count:all")
        after = vm_hwm_kib(fe.p.pid)
        a = json.loads(body) if st == 200 else {}
        ok(st == 200 and not a.get("results") and a["summary"].get("partial") is True,
           "an answer decoding past --query-memory is refused (partial)", st, body[:300])
        grown = (after - before) / 1024
        print("frontend peak memory grew %.0f MiB for a %d MiB answer (%d lines of 3 bytes)"
              % (grown, len(fakes[0].answer) >> 20, n))
        ok(grown < 4 * QUERY_MIB,
           "the frontend's memory grew less than 4x --query-memory (%.0f MiB)" % grown)
        ok(fe.stop() == 0, "the frontend stops cleanly", fe.logtext()[-2000:])
        fe = None
    finally:
        if fe and fe.p.poll() is None:
            fe.stop()
        for f in fakes:
            f.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
