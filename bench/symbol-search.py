#!/usr/bin/env python3
"""Latency of symbol search through the server (bench/symbol-search.md): `trawl serve` over an
index built with `trawl index --symbols` (a data directory of its own whose index/ is a symlink
to INDEX), then each query of QUERIES through /api/v1/symbols?count=8 on one connection at a
time, 2 warm-up requests and N timed ones, the median and 90th percentile printed with the
server's CPU time per request (user + system, from /proc: less swayed than the wall clock by
the other work of a busy machine), the number of symbols and the first names. Only loopback;
the servers are stopped at the end.

    python3 bench/symbol-search.py INDEX [N [QUERY...]]
    (TRAWL=build/release/trawl by default; the queries of QUERIES unless some are given)

With BEFORE=TRAWL2:INDEX2 in the environment a second server (binary TRAWL2 over INDEX2) runs
beside the first, each query is timed on both in turn (before, then after), and the table shows
both side by side with whether their answers (names, kinds, paths, lines) are the same: a
comparison of two binaries or two indexes of the same tree in one run.

    python3 bench/symbol-search.py --sizes INDEX...

prints, per index, the bytes of its shards, of their SYMBOLS sections and of the trigram index
of the names in them (GRAMS, docs/index-format.md), with its keys and postings.
"""
import http.client
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

QUERIES = ["^kmalloc$", "^task_struct$", "^TASK_STRUCT$", "^sk_buff$", "^kma", "^kmall", "^sk_b",
           "^task_", "^dev_", "^de", "^a", "/^sk_buff_[a-z]+$/", "task_struct", "/skb_.*_len/",
           "alloc_skb", "lock", "mutex_lock", "case:yes Alloc", "/kmalloc.*node/", "/x/"]


class Server:
    def __init__(self, trawl, index):
        self.tmp = tempfile.mkdtemp(prefix="trawl-symbench-")
        data = os.path.join(self.tmp, "data")
        os.makedirs(data)
        os.symlink(os.path.abspath(index), os.path.join(data, "index"))
        self.p = subprocess.Popen([trawl, "serve", "--data", data, "--listen", "127.0.0.1:0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        m = re.search(r":(\d+)/", self.p.stdout.readline().decode())
        if not m:
            self.stop()
            sys.exit("the server (%s) did not start" % trawl)
        self.port = int(m.group(1))

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        t = time.perf_counter()
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, (time.perf_counter() - t) * 1e3, body

    def cpu_ms(self):
        f = open("/proc/%d/stat" % self.p.pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) * 1e3 / os.sysconf("SC_CLK_TCK")

    def measure(self, q, n):
        """(median ms, p90 ms, CPU ms per request, the symbols of the last answer)"""
        path = "/api/v1/symbols?count=8&q=" + urllib.parse.quote(q, safe="")
        for _ in range(2):
            self.get(path)
        times = []
        cpu0 = self.cpu_ms()
        for _ in range(n):
            status, ms, body = self.get(path)
            if status != 200:
                sys.exit("%s: HTTP %d %s" % (q, status, body[:200]))
            times.append(ms)
        cpu = (self.cpu_ms() - cpu0) / n
        times.sort()
        return statistics.median(times), times[int(0.9 * (n - 1))], cpu, \
            json.loads(body)["symbols"]

    def stop(self):
        self.p.terminate()
        self.p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def first_names(syms):
    names = []
    for s in syms:
        if s["name"] not in names:
            names.append(s["name"])
    return ", ".join(names[:4])


def answer(syms):
    return [(s["name"], s.get("kind"), s.get("path"), s.get("line")) for s in syms]


def shard_symbols(path):
    """(file bytes, SYMBOLS bytes, names, GRAMS bytes, keys, postings) of one shard"""
    with open(path, "rb") as f:
        head = f.read(64)
        n = struct.unpack_from("<I", head, 16)[0]
        toc = f.read(32 * n)
        for i in range(n):
            sid, _, off, length = struct.unpack_from("<IIQQ", toc, 32 * i)
            if sid != 9:
                continue
            f.seek(off)
            flags, nd, ns, nn, nk, nl, sl, _ = struct.unpack("<8I", f.read(32))
            base = 32 + 8 * nd + 24 * ns + 8 * nn + 4 * (nk + nl) + sl
            grams = keys = posts = 0
            if flags & 1:
                f.seek(off + base)
                keys, _, posts = struct.unpack("<IIQ", f.read(16))
                grams = length - base
            return os.path.getsize(path), length, nn, grams, keys, posts
    return os.path.getsize(path), 0, 0, 0, 0, 0


def sizes(indexes):
    print("| index | shards bytes | SYMBOLS bytes | names | GRAMS bytes | keys | postings "
          "| GRAMS % of SYMBOLS | GRAMS % of index | bytes a posting |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for ix in indexes:
        t = [0] * 6
        for name in sorted(os.listdir(ix)):
            if name.endswith(".shard"):
                t = [a + b for a, b in zip(t, shard_symbols(os.path.join(ix, name)))]
        print("| %s | %d | %d | %d | %d | %d | %d | %.1f | %.2f | %.2f |" % (
            ix, t[0], t[1], t[2], t[3], t[4], t[5], 100.0 * t[3] / max(t[1], 1),
            100.0 * t[3] / max(t[0], 1), t[3] / max(t[5], 1)))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "--sizes":
        sizes(sys.argv[2:])
        return
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    queries = sys.argv[3:] or QUERIES
    servers = []
    try:
        if os.environ.get("BEFORE"):
            trawl2, index2 = os.environ["BEFORE"].split(":", 1)
            servers.append(Server(trawl2, index2))
        servers.append(Server(os.environ.get("TRAWL", "build/release/trawl"), sys.argv[1]))
        if len(servers) == 1:
            print("| query | median ms | p90 ms | CPU ms | symbols | first names |")
            print("| --- | --- | --- | --- | --- | --- |")
        else:
            print("| query | before median ms | before CPU ms | after median ms | after CPU ms "
                  "| same answer | symbols | first names |")
            print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for q in queries:
            r = [s.measure(q, n) for s in servers]
            if len(r) == 1:
                med, p90, cpu, syms = r[0]
                print("| `%s` | %.2f | %.2f | %.1f | %d | %s |" % (
                    q, med, p90, cpu, len(syms), first_names(syms)))
            else:
                print("| `%s` | %.2f | %.1f | %.2f | %.1f | %s | %d | %s |" % (
                    q, r[0][0], r[0][2], r[1][0], r[1][2],
                    "yes" if answer(r[0][3]) == answer(r[1][3]) else "**no**",
                    len(r[1][3]), first_names(r[1][3])))
            sys.stdout.flush()
        print("\nload average at the end: %s" % open("/proc/loadavg").read().split()[:3])
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
