#!/usr/bin/env python3
"""The review's resource attacks on `trawl serve`, measured: how long each takes, the server's
peak memory, and whether /healthz keeps answering meanwhile.

    bench/abuse.py DATA_DIR [SCENARIO...]     (TRAWL=binary, default build/trawl)

DATA_DIR holds an index (bench/load.sh leaves one of the Linux source in
bench/work/load/data). Scenarios (all by default):
  dense      GET /api/v1/search?q=count:all /./ (default timeout 10 s)
  context    the same with timeout:5s and context=10
  six        six dense queries at once, /healthz probed every 0.5 s meanwhile
  stream     two streams of count:all timeout:60s /./ over sockets with a 4 KiB receive
             buffer that read nothing for 20 s
Each scenario starts a fresh server, so peak memory (VmHWM) is the scenario's own.
"""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

TRAWL = os.environ.get("TRAWL", os.path.join(os.path.dirname(__file__), "..", "build", "trawl"))


class Server:
    def __init__(self, data):
        self.p = subprocess.Popen([TRAWL, "serve", "--data", data, "--listen", "127.0.0.1:0",
                                   "--sync-interval", "0"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        m = re.search(r":(\d+)/", self.p.stdout.readline().decode())
        self.port = int(m.group(1))

    def hwm_mb(self):
        with open("/proc/%d/status" % self.p.pid) as f:
            return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) // 1024

    def get(self, path, timeout=120):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        t0 = time.monotonic()
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body, time.monotonic() - t0

    def stop(self):
        self.p.terminate()
        self.p.wait(30)


def q(text):
    return urllib.parse.quote(text, safe="")


def outcome(st, body):
    try:
        js = json.loads(body)
    except ValueError:
        return "%d, %d bytes" % (st, len(body))
    if "error" in js:
        return "%d %s: %s" % (st, js["error"]["code"], js["error"]["message"][:80])
    alerts = ",".join(a["kind"] for a in js.get("alerts", []))
    return "%d, %d lines, %.1f MB, alerts [%s]" % (st, js["summary"]["matching_lines"],
                                                   len(body) / 1e6, alerts)


def probe_healthz(s, stop, out):
    while not stop.is_set():
        try:
            st, _, t = s.get("/healthz", timeout=5)
            out.append(t if st == 200 else None)
        except OSError:
            out.append(None)
        time.sleep(0.5)


def dense(data, query, ctx=""):
    s = Server(data)
    try:
        st, body, t = s.get("/api/v1/search?q=" + q(query) + ctx)
        print("  %-40s %6.1f s  peak %5d MB  %s" % (query + ctx, t, s.hwm_mb(), outcome(st, body)))
    finally:
        s.stop()


def six(data):
    s = Server(data)
    stop, probes, times = threading.Event(), [], []
    prober = threading.Thread(target=probe_healthz, args=(s, stop, probes))
    prober.start()

    def one():
        st, body, t = s.get("/api/v1/search?q=" + q("count:all /./"))
        times.append((t, st))

    ts = [threading.Thread(target=one) for _ in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    stop.set()
    prober.join()
    failed = sum(1 for p in probes if p is None)
    worst = max((p for p in probes if p is not None), default=0)
    print("  six dense queries: %s s; peak %d MB; /healthz %d probes, %d failed, slowest %.3f s"
          % (", ".join("%.1f(%d)" % x for x in sorted(times)), s.hwm_mb(), len(probes), failed,
             worst))
    s.stop()


def stream(data):
    s = Server(data)
    socks = []
    for _ in range(2):
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.connect(("127.0.0.1", s.port))
        c.sendall(("GET /api/v1/search/stream?q=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" %
                   q("count:all timeout:60s /./")).encode())
        socks.append(c)
    time.sleep(20)
    st, body, t = s.get("/metrics")
    running = re.search(rb"^trawl_searches_running (\d+)", body, re.M)
    print("  two unread streams, 20 s: peak %d MB, searches still running: %s" %
          (s.hwm_mb(), running.group(1).decode() if running else "?"))
    for c in socks:
        c.close()
    s.stop()


def main():
    data = sys.argv[1]
    which = sys.argv[2:] or ["dense", "context", "six", "stream"]
    print("%s on %s" % (TRAWL, data))
    for w in which:
        if w == "dense":
            dense(data, "count:all /./")
        elif w == "context":
            dense(data, "count:all timeout:5s /./", "&context=10")
        elif w == "six":
            six(data)
        elif w == "stream":
            stream(data)


if __name__ == "__main__":
    main()
