#!/usr/bin/env python3
"""End-to-end tests of hostile queries (docs/security.md, "Hostile queries"): on a small
generated corpus, through `trawl search` and through `trawl serve` on loopback, each
pathological shape is refused at parse time with the right error or ends with its partial
results flagged, and /healthz answers throughout. Outcomes are asserted, never timings; a
query that has not ended after HANG_S is killed and fails (a compile or search that is not
bounded would hang there). Output: TAP. Only python3's standard library.

    python3 tests/e2e/test_pathological.py
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse

import serverlib
from serverlib import TRAWL, ok

HANG_S = 20  # far past every timeout: here only an unbounded query is still running


def make_corpus(root):
    """Files with the commonest words, long runs of letters (ASCII and not) for the Unicode
    patterns, a file with invalid UTF-8, and lines of a's for the backtracking shapes."""
    src = os.path.join(root, "src")
    os.makedirs(src)
    for i in range(40):
        with open(os.path.join(src, "f%02d.c" % i), "w") as f:
            for j in range(2000):
                f.write("struct the_%d { int the; } /* the %d */\n" % (j, i))
    with open(os.path.join(src, "letters.txt"), "w", encoding="utf-8") as f:
        f.write("x" * 80 + "\n" + "é" * 80 + "\n" + "Ωμέγα" * 20 + "\n")
    with open(os.path.join(src, "bytes.bin.txt"), "wb") as f:
        f.write(b"caf\xe9 " + b"z" * 80 + b"\n")
    with open(os.path.join(src, "aaa.txt"), "w") as f:
        f.write("a" * 60 + "\n" + "a" * 30 + "b\n")
    data = os.path.join(root, "data")
    subprocess.run([TRAWL, "index", "-q", "-o", os.path.join(data, "index"), "--name", "proj",
                    src], check=True, stdout=subprocess.DEVNULL)
    return data


def cli(data, q):
    """(exit status or None when killed after HANG_S, stdout's last line as JSON or None,
    stderr)"""
    p = subprocess.Popen([TRAWL, "search", "--data", data, "--json", q],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=HANG_S)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return None, None, "killed after %d s" % HANG_S
    lines = out.decode().strip().splitlines()
    try:
        summary = json.loads(lines[-1]) if lines else None
    except ValueError:
        summary = None
    return p.returncode, summary, err.decode("utf-8", "replace")


def api(port, q):
    """(status or None when it did not answer within HANG_S, JSON body or raw bytes)"""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=HANG_S)
        c.request("GET", "/api/v1/search?q=" + urllib.parse.quote(q, safe=""))
        r = c.getresponse()
        body = r.read()
        c.close()
    except OSError as e:
        return None, str(e)
    try:
        return r.status, json.loads(body)
    except ValueError:
        return r.status, body


class Healthz:
    """Asks /healthz every 100 ms until stop(): how many asked, how many answered 200."""

    def __init__(self, port):
        self.port, self.asked, self.good, self.running = port, 0, 0, True
        self.ev = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while self.running:
            try:
                st = serverlib.request(self.port, "GET", "/healthz", timeout=HANG_S)[0]
            except OSError:
                st = None
            self.asked += 1
            self.good += st == 200
            self.ev.wait(0.1)

    def stop(self):
        self.running = False
        self.ev.set()
        self.t.join()


def refused(st, body, words):
    return st == 400 and isinstance(body, dict) and \
        body["error"]["code"] in ("bad_query", "bad_request") and words in body["error"]["message"]


def test_compile_bound(data, port):
    """A pattern certain to be too large is refused at parse time; one just under the estimate,
    whose compile Vectorscan refuses only after seconds, ends within its timeout."""
    for q in ("timeout:1s /(?i)\\p{L}{40}/", "timeout:1s case:no /\\p{L}{50}/"):
        rc, _, err = cli(data, q)
        ok(rc == 2 and "too large for the matcher" in err and "40000 states" in err,
           "CLI refuses %s at parse time" % q, rc, err)
        st, body = api(port, q)
        ok(refused(st, body, "too large for the matcher"), "API refuses %s: 400" % q, st, body)
    q = "timeout:1s /\\p{L}{34}/"
    rc, summary, err = cli(data, q)
    ok(rc is not None and ((rc in (0, 1) and summary and summary["timeout_hit"]) or
                           (rc == 2 and "too complex" in err)),
       "CLI: a compile over its timeout ends with the timeout flagged (or refused)",
       rc, summary, err)
    st, body = api(port, q)
    ok((st == 200 and body["summary"]["timeout_hit"]) or refused(st, body, "timeout") or
       refused(st, body, "too complex"),
       "API: a compile over its timeout ends with timeout_hit (or a clear 400)", st, body)


def test_shapes(data, port):
    alt = "|".join("w%d" % i for i in range(10000))
    cases = [
        # (query, CLI stderr words, API: (status, words) or "ends")
        ("timeout:5s /a{1000}{1000}/", "nested counts multiply", (400, "nested counts")),
        ("timeout:5s /(%s)/" % alt, "longer than 4096 bytes", (414, None)),
        ("timeout:5s /" + "(" * 1000 + "a" + ")" * 1000 + "/", "nested too deeply",
         (400, "nested too deeply")),
        ("timeout:5s " + "(" * 1000 + "a" + ")" * 1000, "nested more than",
         (400, "nested more than")),
        ("timeout:5s " + " OR ".join("w%d" % i for i in range(1000)), "longer than 4096",
         (400, "over 4096 bytes")),
        ("timeout:5s " + " OR ".join("w%d" % i for i in range(100)), "more than 64",
         (400, "more than 64")),
    ]
    for q, cli_words, (st_want, api_words) in cases:
        rc, _, err = cli(data, q)
        ok(rc == 2 and cli_words in err, "CLI refuses %.40s...: %s" % (q, cli_words), rc,
           err[:300])
        st, body = api(port, q)
        good = st == st_want if api_words is None else refused(st, body, api_words)
        ok(good, "API refuses %.40s...: %d" % (q, st_want), st, str(body)[:300])
    for q in ("timeout:5s /(a+)+$/", "timeout:5s /(a|aa)*c/", "timeout:5s /(.*a){20}/",
              "timeout:5s " + " OR ".join("the%d" % i for i in range(60))):
        rc, summary, err = cli(data, q)
        ok(rc in (0, 1) and summary is not None, "CLI answers %.40s" % q, rc, err[:300])
        st, body = api(port, q)
        ok(st == 200 and "summary" in body, "API answers %.40s" % q, st, str(body)[:300])


def test_limits(data, port):
    """count:all on the commonest words: the per-query memory cap (--query-memory 1) stops it
    and flags it."""
    for q in ("count:all the", "count:all struct", "count:all /./"):
        st, body = api(port, q)
        ok(st == 200 and body["summary"]["limit_hit"] and
           any(a["kind"] == "limit" and "memory" in a["message"] for a in body["alerts"]),
           "API: %s stops at the query memory cap, flagged" % q, st, str(body)[:300])
    st, body = api(port, "timeout:1ms count:all /./")
    ok(st == 200 and (body["summary"]["timeout_hit"] or body["summary"]["limit_hit"]) or
       refused(st, body, "timeout"), "API: timeout:1ms ends flagged", st, str(body)[:300])


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-patho.")
    s = None
    try:
        data = make_corpus(tmp)
        s = serverlib.Server(data, "--sync-interval", "0", "--query-memory", "1")
        hz = Healthz(s.port)
        try:
            test_compile_bound(data, s.port)
            test_shapes(data, s.port)
            test_limits(data, s.port)
        finally:
            hz.stop()
        ok(hz.asked > 0 and hz.good == hz.asked,
           "/healthz answered every one of its %d polls during the run" % hz.asked,
           hz.good, hz.asked)
        ok(s.stop() == 0, "the server stops cleanly")
    finally:
        serverlib.cleanup(s, tmp)
    serverlib.done()


if __name__ == "__main__":
    main()
