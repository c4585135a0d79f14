#!/usr/bin/env python3
"""Query phase of the trawl benchmark (called by bench/run.sh; see bench/README.md).

  queries.py corpus --corpus DIR --out FILE
      corpus statistics: du -sb, searchable bytes, files with a NUL byte and files over 1 MiB.
  queries.py run --tsv FILE --corpus DIR --work DIR --trawl BIN|none [--runs N] [--warmup N]
                 [--ids v01,v02] [--rg-jobs N]
      for each query: one counting run per tool (lines, order-independent digest, exit status),
      one `trawl search --json` run for the summary object, then hyperfine timings.
      Writes WORK/queries.json.

Every tool runs from the corpus's parent directory, so trawl (`REPO/PATH:LINE:TEXT`, REPO being
the corpus directory's name) and `rg ... REPO` print identical lines; csearch prints absolute
paths, which are made relative to that parent before comparing.
"""
import argparse
import csv
import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time

MAX_FILE_SIZE = 1 << 20  # trawl's default --max-file-size and rg --max-filesize 1M
COLUMNS = ["id", "kind", "flags", "pattern", "path", "glob", "target", "notes", "query"]
# The last column is optional: a trawl query (docs/query-syntax.md) measured instead of
# `-e PATTERN --path PATH`; rg and csearch still run the pattern, path and glob.
OPTIONAL = 1
FLAGS = {"-i", "-w", "-F"}
TARGETS = {"", "selective", "exhaustive", "no-trigram"}
TOOLS = ["trawl", "csearch", "rg"]
ENV = dict(os.environ)  # CSEARCHINDEX is set in it by cmd_run


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def load_queries(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or rows[0] not in (COLUMNS, COLUMNS[:-OPTIONAL]):
        sys.exit(f"{path}: the header must be {' '.join(COLUMNS)} (tab-separated)")
    out, seen = [], set()
    for n, row in enumerate(rows[1:], 2):
        if not row or row[0].startswith("#"):
            continue
        if len(row) == len(COLUMNS) - OPTIONAL:
            row = row + [""] * OPTIONAL
        if len(row) != len(COLUMNS):
            sys.exit(f"{path}:{n}: expected {len(COLUMNS)} tab-separated fields, got {len(row)}")
        q = dict(zip(COLUMNS, row))
        q["flags"] = q["flags"].split()
        bad = set(q["flags"]) - FLAGS
        if bad or q["target"] not in TARGETS or not q["id"] or q["id"] in seen or not q["pattern"]:
            sys.exit(f"{path}:{n}: bad row (flags {sorted(bad)}, target {q['target']!r}, "
                     f"id {q['id']!r}, pattern {q['pattern']!r})")
        if bool(q["path"]) != bool(q["glob"]):
            sys.exit(f"{path}:{n}: path and glob go together (one for trawl/csearch, one for rg)")
        seen.add(q["id"])
        out.append(q)
    return out


def go_quote(s):
    """Quotes s for Go's regexp (RE2): escaping any ASCII non-alphanumeric is always allowed."""
    return re.sub(r"([\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f])", r"\\\1", s)


def commands(q, ctx):
    """argv per tool for query q, all to be run with cwd = the corpus's parent directory."""
    flags = q["flags"]
    cmds = {}
    if ctx.trawl != "none":
        argv = [ctx.trawl, "search", "-d", ctx.trawl_index, "--color", "never"]
        if q["query"]:
            # Every result, so that the lines can be compared with rg's.
            cmds["trawl"] = argv + ["count:all " + q["query"]]
        else:
            argv += flags
            if q["path"]:
                argv += ["--path", q["path"]]
            cmds["trawl"] = argv + ["-e", q["pattern"]]
    # csearch has -i and -f but no -w or -F: rewrite the pattern instead.
    pat = go_quote(q["pattern"]) if "-F" in flags else q["pattern"]
    if "-w" in flags:
        pat = r"\b(?:" + pat + r")\b"
    argv = ["csearch", "-n"]
    if "-i" in flags:
        argv.append("-i")
    if q["path"]:
        # csearch matches -f against the absolute path: a path regex anchored with ^ is
        # re-anchored at the corpus root; an unanchored one is used as it is.
        p = q["path"]
        if p.startswith("^"):
            p = "^" + go_quote(ctx.corpus + "/") + p[1:]
        argv += ["-f", p]
    cmds["csearch"] = argv + [pat]
    argv = ["rg", "--no-config", "-n", "--no-heading", "--color", "never", "-uu",
            "--max-filesize", "1M", f"-j{ctx.rg_jobs}", "-g", "!.git", *flags]
    if q["glob"]:
        # rg matches globs relative to its working directory (the corpus's parent): a glob with
        # a slash is anchored at the corpus root, one without matches a file name anywhere.
        g = q["glob"]
        argv += ["-g", f"{ctx.name}/{g.lstrip('/')}" if "/" in g else g]
    cmds["rg"] = argv + ["-e", q["pattern"], ctx.name]
    return cmds


class Lines:
    """Counts output lines and an order-independent digest of them, leaving out lines of files
    that the tools are known to treat differently (NUL bytes, over 1 MiB)."""

    def __init__(self, strip_prefix, excluded, keep=None):
        self.strip = strip_prefix
        self.excluded = excluded  # set of b"REPO/path"
        self.first = {p.split(b":", 1)[0] for p in excluded}
        self.count = self.skipped = self.digest = 0
        self.keep = keep
        self.carry = b""

    def feed(self, chunk):
        data = self.carry + chunk
        lines = data.split(b"\n")
        self.carry = lines.pop()
        self._lines(lines)

    def close(self):
        if self.carry:
            self._lines([self.carry])
            self.carry = b""

    def _lines(self, lines):
        if self.strip:
            n = len(self.strip)
            lines = [l[n:] if l.startswith(self.strip) else l for l in lines]
        if self.first:
            kept = []
            for l in lines:
                head = l.split(b":", 1)[0]
                if head in self.first and any(l.startswith(p + b":") for p in self.excluded):
                    self.skipped += 1
                else:
                    kept.append(l)
            lines = kept
        self.count += len(lines)
        self.digest = (self.digest + sum(map(hash, lines))) & 0xFFFFFFFFFFFFFFFF
        if self.keep:
            self.keep.write(b"".join(l + b"\n" for l in lines))


def run_capture(argv, cwd, sink, timeout):
    """Runs argv, feeding its stdout to sink.feed(); returns (exit status, seconds, stderr)."""
    t0 = time.perf_counter()
    with open(os.devnull, "rb") as devnull:
        p = subprocess.Popen(argv, cwd=cwd, stdin=devnull, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=ENV)
    err = []
    reader = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)
    reader.start()
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    fd = p.stdout.fileno()
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        sink.feed(chunk)
    p.wait()
    timed_out = not timer.is_alive() and p.returncode == -9
    timer.cancel()
    reader.join()
    p.stdout.close()
    p.stderr.close()
    sink.close()
    secs = time.perf_counter() - t0
    stderr = (err[0] if err else b"").decode("utf-8", "replace")
    if timed_out:
        return -1, secs, f"timed out after {timeout:g} s\n" + stderr
    return p.returncode, secs, stderr


def trawl_json_summary(argv, cwd, timeout):
    """Runs `trawl search --json` and returns its last line parsed (the summary), or None."""
    class Last:
        def __init__(self):
            self.tail = b""
            self.lines = 0

        def feed(self, chunk):
            self.lines += chunk.count(b"\n")
            self.tail = (self.tail + chunk)[-65536:]

        def close(self):
            pass

    argv = argv[:2] + ["--json"] + argv[2:]
    sink = Last()
    status, secs, stderr = run_capture(argv, cwd, sink, timeout)
    last = sink.tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        obj = json.loads(last)
    except ValueError:
        obj = None
    if status in (0, 1) and isinstance(obj, dict) and obj.get("type") == "summary":
        return obj, None
    msg = stderr.strip().splitlines()[0][:300] if stderr.strip() else "no summary object on the last line"
    return None, f"exit {status}: {msg}"


def hyperfine(q, cmds, ctx):
    names = [t for t in TOOLS if t in cmds]
    out = os.path.join(ctx.work, "hyperfine", q["id"] + ".json")
    argv = ["hyperfine", "-N", "--output=pipe", "-i", "--style", "basic",
            "--warmup", str(ctx.warmup), "--runs", str(ctx.runs), "--export-json", out]
    for t in names:
        argv += ["-n", t, " ".join(shlex.quote(a) for a in cmds[t])]
    with open(os.path.join(ctx.work, "hyperfine.log"), "ab") as logf:
        logf.write(f"\n=== {q['id']}\n".encode())
        logf.flush()
        r = subprocess.run(argv, cwd=ctx.parent, stdout=logf, stderr=subprocess.STDOUT, env=ENV)
    if r.returncode != 0:
        log(f"  hyperfine failed (exit {r.returncode}); see {ctx.work}/hyperfine.log")
        return {}
    with open(out) as f:
        results = json.load(f)["results"]
    return {t: {k: res[k] for k in ("median", "mean", "stddev", "min", "max", "times", "exit_codes")}
            for t, res in zip(names, results)}


def diff_sample(q, cmds, ctx, strips, excluded):
    """Reruns trawl and rg keeping their lines, and returns up to 5 lines found by only one."""
    d = os.path.join(ctx.work, "diff")
    os.makedirs(d, exist_ok=True)
    files = {}
    for t in ("trawl", "rg"):
        path = os.path.join(d, f"{q['id']}.{t}")
        with open(path, "wb") as f:
            sink = Lines(strips[t], excluded, keep=f)
            run_capture(cmds[t], ctx.parent, sink, ctx.timeout)
        subprocess.run(["sort", "-o", path, path], env={**os.environ, "LC_ALL": "C"}, check=True)
        files[t] = path
    out = {}
    for t, opt in (("trawl", "-23"), ("rg", "-13")):
        r = subprocess.run(f"comm {opt} {shlex.quote(files['trawl'])} {shlex.quote(files['rg'])}"
                           " | head -n 5", shell=True, capture_output=True,
                           env={**os.environ, "LC_ALL": "C"})
        out["only_" + t] = r.stdout.decode("utf-8", "replace").splitlines()
    return out


def cmd_run(a):
    a.corpus = os.path.realpath(a.corpus)
    a.parent, a.name = os.path.split(a.corpus)
    a.work = os.path.realpath(a.work)
    a.trawl_index = os.path.join(a.work, "trawl-index")
    ENV["CSEARCHINDEX"] = os.path.join(a.work, "csearchindex")
    if not os.path.isfile(ENV["CSEARCHINDEX"]):
        sys.exit(f"no csearch index at {ENV['CSEARCHINDEX']} (bench/run.sh makes it)")
    os.makedirs(os.path.join(a.work, "hyperfine"), exist_ok=True)
    with open(os.path.join(a.work, "corpus.json")) as f:
        corpus = json.load(f)
    excluded = {p.encode("utf-8", "surrogateescape")
                for p in corpus["nul_files"] + corpus["large_files"]}
    strips = {"trawl": b"", "rg": b"",
              "csearch": (a.parent.rstrip("/") + "/").encode("utf-8", "surrogateescape")}
    queries = load_queries(a.tsv)
    if a.ids:
        want = [i for i in re.split(r"[\s,]+", a.ids) if i]
        unknown = set(want) - {q["id"] for q in queries}
        if unknown:
            sys.exit(f"unknown query ids: {' '.join(sorted(unknown))}")
        queries = [q for q in queries if q["id"] in want]
    results = []
    failed = False
    for q in queries:
        cmds = commands(q, a)
        res = {**q, "cmds": cmds, "tools": {}, "trawl_summary": None}
        flags = " ".join(q["flags"])
        log(f"{q['id']} {q['kind']} {flags} {shlex.quote(q['pattern'])}"
            + (f" path {shlex.quote(q['path'])}" if q["path"] else ""))
        timeable = {}
        for t, argv in cmds.items():
            sink = Lines(strips[t], excluded)
            status, secs, stderr = run_capture(argv, a.parent, sink, a.timeout)
            # csearch exits 1 on errors too (Go's log.Fatal), with a message on stderr.
            ok = status in (0, 1) and not (t == "csearch" and status == 1 and stderr.strip())
            r = {"status": status, "lines": sink.count, "excluded_lines": sink.skipped,
                 "digest": f"{sink.digest:016x}", "first_run_s": secs, "error": None}
            if not ok:
                r["error"] = stderr.strip()[:600] or f"exit status {status}"
            elif t != "csearch" and (status == 0) != (sink.count + sink.skipped > 0):
                r["error"] = f"exit status {status} with {sink.count + sink.skipped} lines printed"
            res["tools"][t] = r
            if ok:
                timeable[t] = argv
            log(f"  {t:8} {'exit ' + str(status):7} {sink.count:>9} lines  {secs * 1000:9.1f} ms"
                + (f"  (+{sink.skipped} in binary/large files)" if sink.skipped else "")
                + (f"  ERROR: {r['error'].splitlines()[0] if r['error'] else ''}" if r["error"] else ""))
        tr, cs, rg = (res["tools"].get(t) for t in TOOLS)
        if tr and tr["status"] == 2 and rg["status"] == 2:
            res["trawl_rg_agree"] = True  # both reject the pattern: what docs/exactness.md asks
            tr["error"] = rg["error"] = None
            tr["rejected"] = rg["rejected"] = True
            log("  trawl and rg both reject the pattern")
        elif tr and not tr["error"] and not rg["error"]:
            res["trawl_rg_agree"] = tr["lines"] == rg["lines"] and tr["digest"] == rg["digest"]
            if not res["trawl_rg_agree"]:
                failed = True
                log(f"  *** MISMATCH trawl vs rg: {tr['lines']} vs {rg['lines']} lines ***")
                res["diff"] = diff_sample(q, cmds, a, strips, excluded)
                for t in ("trawl", "rg"):
                    for l in res["diff"]["only_" + t]:
                        log(f"    only {t}: {l[:200]}")
        else:
            res["trawl_rg_agree"] = None
            if tr:
                failed = True
        if not cs["error"] and not rg["error"]:
            res["csearch_rg_agree"] = cs["lines"] == rg["lines"] and cs["digest"] == rg["digest"]
        else:
            res["csearch_rg_agree"] = None
        if "trawl" in timeable:
            res["trawl_summary"], res["trawl_summary_error"] = trawl_json_summary(
                cmds["trawl"], a.parent, a.timeout)
            if res["trawl_summary_error"]:
                log(f"  trawl --json: {res['trawl_summary_error']}")
        timing = hyperfine(q, timeable, a) if timeable else {}
        for t, tm in timing.items():
            res["tools"][t]["timing"] = tm
        log("  median: " + (", ".join(f"{t} {tm['median'] * 1000:.1f} ms" for t, tm in timing.items())
                            or "not timed"))
        results.append(res)
        with open(os.path.join(a.work, "queries.json"), "w") as f:
            json.dump({"runs": a.runs, "warmup": a.warmup, "rg_jobs": a.rg_jobs,
                       "corpus": a.corpus, "trawl": a.trawl, "queries": results}, f, indent=1)
    return 1 if failed else 0


def cmd_corpus(a):
    corpus = os.path.realpath(a.corpus)
    parent, name = os.path.split(corpus)
    du = int(subprocess.run(["du", "-sb", corpus], capture_output=True, check=True,
                            text=True).stdout.split()[0])
    files = files_bytes = small = small_bytes = 0
    large = []
    for root, dirs, names in os.walk(corpus):
        dirs[:] = [d for d in dirs if d != ".git"]
        for n in names:
            p = os.path.join(root, n)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if not os.path.isfile(p) or os.path.islink(p):
                continue
            files += 1
            files_bytes += st.st_size
            if st.st_size > MAX_FILE_SIZE:
                large.append(os.path.relpath(p, parent))
            else:
                small += 1
                small_bytes += st.st_size
    # Files with a NUL byte anywhere (rg stops at the first NUL, trawl skips a file with a NUL
    # in its first 8 KiB): found with rg itself, which also warms the page cache.
    r = subprocess.run(["rg", "--no-config", "-uu", "-a", "-l", "--max-filesize", "1M",
                        "-g", "!.git", "-e", r"\x00", name], cwd=parent, capture_output=True)
    if r.returncode not in (0, 1):
        sys.exit("rg failed listing files with NUL bytes: " + r.stderr.decode(errors="replace"))
    nul = sorted(r.stdout.decode("utf-8", "surrogateescape").splitlines())
    nul_bytes = sum(os.lstat(os.path.join(parent, p)).st_size for p in nul)
    out = {"corpus": corpus, "name": name, "du_bytes": du, "files": files, "files_bytes": files_bytes,
           "files_le_1mib": small, "bytes_le_1mib": small_bytes,
           "searchable_files": small - len(nul), "searchable_bytes": small_bytes - nul_bytes,
           "nul_files": nul, "large_files": sorted(large)}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    log(f"corpus {corpus}: {files} files, {files_bytes / 1e6:.1f} MB (du -sb {du / 1e6:.1f} MB); searchable: "
        f"{out['searchable_files']} files, {out['searchable_bytes'] / 1e6:.1f} MB "
        f"({len(large)} over 1 MiB, {len(nul)} with NUL bytes left out)")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("--corpus", required=True)
    c.add_argument("--out", required=True)
    r = sub.add_parser("run")
    r.add_argument("--tsv", required=True)
    r.add_argument("--corpus", required=True)
    r.add_argument("--work", required=True)
    r.add_argument("--trawl", required=True, help="trawl binary, or none to leave trawl out")
    r.add_argument("--runs", type=int, default=5)
    r.add_argument("--warmup", type=int, default=1)
    r.add_argument("--ids", default="")
    r.add_argument("--rg-jobs", type=int, default=2)
    r.add_argument("--timeout", type=float, default=900, help="seconds, for each counting run")
    a = ap.parse_args()
    return cmd_corpus(a) if a.cmd == "corpus" else cmd_run(a)


if __name__ == "__main__":
    sys.exit(main())
