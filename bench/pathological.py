#!/usr/bin/env python3
"""The pathological-query suite's driver (bench/pathological.sh sets up the index and runs it).

    bench/pathological.py TRAWL DATA OUT.md [RSS_CAP_MB]

Starts `trawl serve --data DATA` on a loopback port, then runs every query of QUERIES twice
(with `timeout:5s` and with the default timeout) through GET /api/v1/search and through
`trawl search --data DATA --json`. While the suite runs, a thread asks /healthz every 100 ms
(its own connection each time) and another samples the server's /proc/PID/status every
100 ms. A query passes when it is refused at parse time with a clear error (HTTP 400
`bad_query`, CLI exit 2 with a message) or ends within its timeout plus MARGIN_S; the run
passes when every query does, /healthz never took HEALTHZ_MAX_MS or more and the server's
anonymous memory (RssAnon: heap and stacks, not the mapped shards, which the kernel may drop
at will) stayed under the baseline plus RSS_CAP_MB. Writes a Markdown table to OUT.md and
stdout; exits 0 when everything passed, 1 otherwise. Only python3's standard library.
"""
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse

MARGIN_S = 2.0          # past the timeout: the 1 s answer grace (docs/api.md) and a busy machine
HEALTHZ_MAX_MS = 50.0
DEFAULT_TIMEOUT_S = 10  # the server's and the CLI's default timeout: (docs/api.md)


def queries():
    """(name, query without timeout:) pairs: the shapes issue 14 lists."""
    alt = "|".join("w%d" % i for i in range(10000))
    alt_fit = "|".join("w%d" % i for i in range(600))  # about 3 KB: within the 4096-byte limit
    return [
        ("(a+)+$", "/(a+)+$/"),
        ("(a|aa)*c", "/(a|aa)*c/"),
        ("(.*a){20}", "/(.*a){20}/"),
        ("a{1000}{1000}", "/a{1000}{1000}/"),
        ("10,000-way alternation", "/(%s)/" % alt),
        ("600-way alternation", "/(%s)/" % alt_fit),
        ("\\p{L}{50} case:no", "case:no /\\p{L}{50}/"),
        ("(?i)\\p{L}{40}", "/(?i)\\p{L}{40}/"),
        ("\\p{L}{30} (under the estimate)", "/\\p{L}{30}/"),
        ("1000 nested regex groups", "/" + "(" * 1000 + "a" + ")" * 1000 + "/"),
        ("1000 nested query parentheses", "(" * 1000 + "a" + ")" * 1000),
        ("1000 OR terms", " OR ".join("w%d" % i for i in range(1000))),
        ("60 OR terms", " OR ".join("struct%d" % i for i in range(60))),
        ("count:all the", "count:all the"),
        ("count:all struct", "count:all struct"),
        ("count:all /./", "count:all /./"),
    ]


class Sampler:
    """/healthz latency and the server's memory, sampled every 100 ms until stop()."""

    def __init__(self, port, pid):
        self.port, self.pid = port, pid
        self.lock = threading.Lock()
        self.healthz_max = 0.0
        self.healthz_fail = 0
        self.healthz_n = 0
        self.mem = {}  # the largest value seen of each field, in kB
        self.running = True
        self.threads = [threading.Thread(target=self.poll_healthz, daemon=True),
                        threading.Thread(target=self.poll_mem, daemon=True)]
        for t in self.threads:
            t.start()

    def window(self):
        """Starts a new window: the maxima since the last call, then reset."""
        with self.lock:
            out = (self.healthz_max, dict(self.mem))
            self.healthz_max = 0.0
            self.mem = {}
        return out

    def poll_healthz(self):
        while self.running:
            t0 = time.monotonic()
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                c.close()
                good = r.status == 200
            except OSError:
                good = False
            ms = (time.monotonic() - t0) * 1000
            with self.lock:
                self.healthz_n += 1
                self.healthz_fail += not good
                self.healthz_max = max(self.healthz_max, ms if good else 5000.0)
            time.sleep(max(0.0, 0.1 - (time.monotonic() - t0)))

    def poll_mem(self):
        while self.running:
            m = read_status(self.pid)
            with self.lock:
                for k, v in m.items():
                    self.mem[k] = max(self.mem.get(k, 0), v)
            time.sleep(0.1)

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join()


def read_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def via_server(port, q):
    """(outcome, detail, wall seconds)"""
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("GET", "/api/v1/search?q=" + urllib.parse.quote(q, safe=""))
        r = c.getresponse()
        body = r.read()
        c.close()
    except OSError as e:
        return "error", str(e), time.monotonic() - t0
    wall = time.monotonic() - t0
    if r.status == 414:
        # A query string past libmicrohttpd's request-head memory: refused before any parsing.
        return "refused", "HTTP 414 (the request line is too long)", wall
    try:
        j = json.loads(body)
    except ValueError:
        return "error", "HTTP %d, not JSON" % r.status, wall
    if r.status == 400 and j.get("error", {}).get("code") == "bad_query":
        return "refused", j["error"].get("message", ""), wall
    if r.status != 200:
        return "error", "HTTP %d %s" % (r.status, j.get("error")), wall
    s = j["summary"]
    alerts = "; ".join("%s: %s" % (a["kind"], a["message"]) for a in j.get("alerts", [])
                       if a["kind"] != "warning")
    if s.get("timeout_hit"):
        return "partial (timeout)", "%d lines; %s" % (s["matching_lines"], alerts), wall
    if s.get("limit_hit"):
        return "partial (limit)", "%d lines; %s" % (s["matching_lines"], alerts), wall
    return "complete", "%d lines" % s["matching_lines"], wall


def via_cli(trawl, data, q):
    t0 = time.monotonic()
    p = subprocess.Popen([trawl, "search", "--data", data, "--json", q], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    errs = []
    reader = threading.Thread(target=lambda: errs.append(p.stderr.read()), daemon=True)
    reader.start()
    last = b""
    for line in p.stdout:  # read as it comes: count:all prints much
        last = line
    reader.join()
    err = errs[0].decode("utf-8", "replace")
    rc = p.wait()
    wall = time.monotonic() - t0
    if rc == 2:
        msg = err.strip().splitlines()[0] if err.strip() else "(no message)"
        return ("refused" if msg.startswith("trawl:") else "error"), msg, wall
    try:
        s = json.loads(last)
    except ValueError:
        return "error", "exit %d, no summary: %s" % (rc, err[:200]), wall
    if s.get("timeout_hit"):
        return "partial (timeout)", "%d lines" % s["matching_lines"], wall
    if s.get("limit_hit"):
        return "partial (limit)", "%d lines" % s["matching_lines"], wall
    return "complete", "%d lines" % s["matching_lines"], wall


def main():
    trawl, data, out_path = sys.argv[1:4]
    cap_mb = int(sys.argv[4]) if len(sys.argv) > 4 else 512
    log = open(out_path + ".server.log", "wb")
    srv = subprocess.Popen([trawl, "serve", "--data", data, "--listen", "127.0.0.1:0",
                            "--sync-interval", "0"], stdout=subprocess.PIPE, stderr=log)
    line = srv.stdout.readline().decode()
    m = re.search(r"https?://[^/ ]*:(\d+)/", line)
    if not m:
        srv.kill()
        sys.exit("pathological.py: the server did not start: %r" % line)
    port = int(m.group(1))
    via_server(port, "timeout:20s count:10 spin_lock")  # warm: the shards' tables mapped
    base = read_status(srv.pid)
    samp = Sampler(port, srv.pid)
    rows, bad = [], 0
    try:
        for name, q in queries():
            for timeout in (5, None):
                full = ("timeout:%ds " % timeout if timeout else "") + q
                limit = (timeout or DEFAULT_TIMEOUT_S) + MARGIN_S
                for how in ("server", "cli"):
                    samp.window()
                    if how == "server":
                        outcome, detail, wall = via_server(port, full)
                    else:
                        outcome, detail, wall = via_cli(trawl, data, full)
                    hz, mem = samp.window()
                    passed = outcome != "error" and (outcome == "refused" or wall <= limit)
                    if how == "server":
                        passed = passed and hz < HEALTHZ_MAX_MS
                        anon = mem.get("RssAnon", 0) - base.get("RssAnon", 0)
                        passed = passed and anon < cap_mb * 1024
                    bad += not passed
                    rows.append((name, "%ss" % timeout if timeout else "default", how, outcome,
                                 wall, hz if how == "server" else None,
                                 mem if how == "server" else None, passed, detail))
                    print("%-32s %-7s %-6s %-18s %6.2f s %s" % (
                        name, rows[-1][1], how, outcome, wall, "pass" if passed else "FAIL"),
                        flush=True)
    finally:
        samp.stop()
        final = read_status(srv.pid)
        srv.terminate()
        srv.wait(30)
        log.close()
    mb = lambda kb: "%.0f" % (kb / 1024)  # noqa: E731
    hw = max((r[6].get("RssAnon", 0) for r in rows if r[6]), default=0)
    healthz_over = samp.healthz_fail
    out = ["# Pathological queries", "",
           "Server: `trawl serve --data %s` with its defaults; "
           "baseline after one warm-up query: VmRSS %s MB, RssAnon %s MB. Cap: RssAnon under "
           "baseline + %d MB (per-query memory: `--query-memory`, 128 MiB by default). "
           "A query passes when refused at parse time or answered within its timeout + %.0f s; "
           "through the server also when /healthz (polled every 100 ms) answered within %.0f ms "
           "and memory stayed under the cap while it ran." % (
               data, mb(base.get("VmRSS", 0)), mb(base.get("RssAnon", 0)), cap_mb, MARGIN_S,
               HEALTHZ_MAX_MS), "",
           "| query | timeout | via | outcome | wall s | partial | max healthz ms | "
           "RSS MB (max VmRSS / RssAnon) | pass | detail |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for name, to, how, outcome, wall, hz, mem, passed, detail in rows:
        out.append("| `%s` | %s | %s | %s | %.2f | %s | %s | %s | %s | %s |" % (
            name, to, how, outcome, wall, "yes" if outcome.startswith("partial") else "no",
            "%.1f" % hz if hz is not None else "",
            "%s / %s" % (mb(mem.get("VmRSS", 0)), mb(mem.get("RssAnon", 0))) if mem else "",
            "pass" if passed else "**FAIL**", detail.replace("|", "\\|")[:160]))
    out += ["", "healthz: %d requests, %d failed or over 5 s; largest RssAnon during a query: "
            "%s MB (baseline %s MB); at the end VmRSS %s MB, VmHWM %s MB." % (
                samp.healthz_n, healthz_over, mb(hw), mb(base.get("RssAnon", 0)),
                mb(final.get("VmRSS", 0)), mb(final.get("VmHWM", 0))),
            "", "Result: %s (%d of %d runs failed)." % ("PASS" if bad == 0 and healthz_over == 0
                                                         else "FAIL", bad, len(rows))]
    text = "\n".join(out) + "\n"
    with open(out_path, "w") as f:
        f.write(text)
    print(text)
    sys.exit(0 if bad == 0 and healthz_over == 0 else 1)


if __name__ == "__main__":
    main()
