#!/usr/bin/env python3
"""Writes bench/results.md from what bench/run.sh left in bench/work/ (see bench/README.md)."""
import argparse
import datetime
import json
import math
import os
import platform
import re
import shlex
import subprocess

MB = 1e6
GIB = 1 << 30
TARGET_SELECTIVE_MS = 5.0
TARGET_SELECTIVE_VS_CSEARCH = 1 / 5
TARGET_RETURN_VS_RG = 0.7
TARGET_NOTRIGRAM_VS_RG = 1.0
TARGET_SIZE_VS_CORPUS = 1.3


def sh(argv, default="?"):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        out = (r.stdout or r.stderr).strip()
        return out.splitlines()[0] if out and r.returncode == 0 else default
    except (OSError, subprocess.TimeoutExpired):
        return default


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def parse_time(path):
    """Fields of a `/usr/bin/time -v` report, or None."""
    text = read(path)
    if text is None:
        return None
    out = {}
    for line in text.splitlines():
        key, _, val = line.strip().rpartition(": ")
        if key.startswith("Elapsed (wall clock) time"):
            secs = 0.0
            for part in val.split(":"):
                secs = secs * 60 + float(part)
            out["wall_s"] = secs
        elif key == "Maximum resident set size (kbytes)":
            out["rss_bytes"] = int(val) * 1024
        elif key == "User time (seconds)":
            out["user_s"] = float(val)
        elif key == "System time (seconds)":
            out["sys_s"] = float(val)
    return out


def cell(s):
    """Escapes text for a markdown table cell."""
    return str(s).replace("|", "\\|")


def code(s):
    s = str(s)
    fence = "``" if "`" in s else "`"
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return cell(f"{fence}{pad}{s}{pad}{fence}")


def fnum(n):
    return "–" if n is None else f"{n:,}"


def fms(s):
    if s is None:
        return "–"
    ms = s * 1000
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 1000 else f"{ms:,.0f}"


def fratio(r):
    if r is None:
        return "–"
    return f"{r:.3f}" if r < 1 else f"{r:.2f}" if r < 10 else f"{r:.1f}" if r < 100 else f"{r:,.0f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def median_s(q, tool):
    t = q["tools"].get(tool)
    return t["timing"]["median"] if t and "timing" in t and not t.get("error") else None


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / (1 << 20):.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "mem": mem,
            "kernel": platform.release(), "os": sh(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"])}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--trawl", required=True)
    ap.add_argument("--command", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    w = a.work
    corpus = load_json(os.path.join(w, "corpus.json")) or {}
    qdata = load_json(os.path.join(w, "queries.json")) or {"queries": []}
    queries = qdata["queries"]
    has_trawl = a.trawl != "none"
    out = []
    p = out.append

    p("# trawl benchmark results\n")
    p("Written by `bench/run.sh` (see `bench/README.md`). Times are wall-clock times of whole processes "
      "with a warm page cache; MB = 10^6 bytes.\n")
    if not has_trawl:
        p("**trawl was not measured in this run (`TRAWL=none`): only the peers are.**\n")
    bad = [q["id"] for q in queries if "trawl" in q["tools"]
           and (q["tools"]["trawl"].get("error") or q.get("trawl_rg_agree") is False)]
    tstatus = read(os.path.join(w, "trawl-index.status"))
    if has_trawl and tstatus not in (None, "0"):
        p(f"**FAILED: `trawl index` exited with status {tstatus}; trawl's searches were not run.**\n")
    if bad:
        p(f"**FAILED: trawl erred or disagreed with ripgrep on {', '.join(bad)}** "
          "(see [Errors and mismatches](#errors-and-mismatches)).\n")

    # Machine and versions.
    m = machine()
    built = read(os.path.join(w, "trawl-build"))
    if built:  # recorded by run.sh right after building
        source = f"built from {built}" + (" (-dirty: uncommitted changes in src/ or the Makefile)" if built.endswith("-dirty") else "")
    else:
        commit = sh(["git", "-C", a.repo, "rev-parse", "--short", "HEAD"])
        dirty = sh(["git", "-C", a.repo, "status", "--porcelain", "--", "src", "Makefile"], "")
        source = f"repository at {commit} when the report was written" + (" with uncommitted changes in src/" if dirty else "")
    trawl_version = sh([a.trawl, "--version"]) if has_trawl else "not measured"
    p("## Machine\n")
    p(f"- date: {read(os.path.join(w, 'started'), '?')} (start of the run)")
    load0 = read(os.path.join(w, "loadavg"), "?").split()[:3]
    load1 = read("/proc/loadavg", "?").split()[:3]
    p(f"- load average (1, 5, 15 min) at the start: {' '.join(load0)}; at the end: {' '.join(load1)} "
      "(other work on the machine makes the times noisy)")
    p(f"- CPU: {m['cpu']}, nproc {m['nproc']}; memory {m['mem']}")
    p(f"- OS: {m['os']}, Linux {m['kernel']}")
    p(f"- trawl: {trawl_version} (`{a.trawl}`), {source}")
    p(f"- {sh(['rg', '--version'])}; codesearch {sh(['dpkg-query', '-W', '-f', '${Version}', 'codesearch'])}; "
      f"{sh(['hyperfine', '--version'])}")
    p("")

    # Corpus.
    searchable = corpus.get("searchable_bytes")
    p("## Corpus\n")
    if corpus:
        p(f"`{corpus['corpus']}`: {corpus['files']:,} regular files of {corpus['files_bytes'] / MB:,.1f} MB "
          f"(`du -sb`: {corpus['du_bytes'] / MB:,.1f} MB).")
        p(f"Searchable part (what trawl indexes and `rg -uu --max-filesize 1M` searches: regular files of at "
          f"most 1 MiB without a NUL byte, outside `.git/`): **{corpus['searchable_files']:,} files, "
          f"{searchable / MB:,.1f} MB**; left out: {len(corpus['large_files'])} files over 1 MiB, "
          f"{len(corpus['nul_files'])} files with a NUL byte. Index sizes below are compared with the "
          "searchable bytes (the size target) and with all regular files' bytes. Output lines of the left-out files are not counted for any tool "
          "(csearch searches files over 1 MiB; rg prints what precedes a NUL).\n")

    # Indexing.
    p("## Indexing\n")
    p("| tool | wall s | CPU s (user+sys) | peak RSS MB | index size MB | index / searchable | "
      "index / all files | exit |")
    p("|---|---:|---:|---:|---:|---:|---:|---|")
    idx = {}
    for tool, name in (("trawl", "trawl-index"), ("cindex", "cindex")):
        if tool == "trawl" and not has_trawl:
            p("| trawl | – | – | – | – | – | – | not measured |")
            continue
        t = parse_time(os.path.join(w, f"{name}.time")) or {}
        size = read(os.path.join(w, f"{name}.size"))
        t["size"] = int(size) if size and size.isdigit() else None
        status = read(os.path.join(w, f"{name}.status"), "?")
        t["ok"] = status == "0"
        idx[tool] = t
        cpu = t["user_s"] + t["sys_s"] if "user_s" in t else None
        p(f"| {tool} | {t.get('wall_s', 0):.1f} | {cpu or 0:.1f} | {t.get('rss_bytes', 0) / MB:,.0f} | "
          f"{(t['size'] or 0) / MB:,.1f} | {fratio(ratio(t['size'], searchable))} | "
          f"{fratio(ratio(t['size'], corpus.get('files_bytes')))} | "
          f"{'ok' if t['ok'] else '**FAILED (' + status + ')**'} |")
    tr, ci = idx.get("trawl"), idx.get("cindex")
    if tr and ci and tr["ok"] and ci["ok"]:
        p(f"| **trawl / cindex** | {fratio(ratio(tr.get('wall_s'), ci.get('wall_s')))} | "
          f"{fratio(ratio(tr.get('user_s', 0) + tr.get('sys_s', 0), ci.get('user_s', 0) + ci.get('sys_s', 0)))} | "
          f"{fratio(ratio(tr.get('rss_bytes'), ci.get('rss_bytes')))} | {fratio(ratio(tr['size'], ci['size']))} | | | |")
    p("\ntrawl's index holds the content (searches read no source file); cindex's holds only the trigram "
      "index (csearch reads the candidate files from the tree).\n")

    # Queries.
    runs, warmup = qdata.get("runs"), qdata.get("warmup")
    p("## Queries\n")
    p(f"Median of {runs} run(s) after {warmup} warmup run(s), from `hyperfine -N --output=pipe` (output "
      "read through a pipe and discarded). Lines: matching lines printed (one counting run per tool). "
      "Ratios below 1 mean trawl is faster. `trawl = rg`: same set of output lines (count and "
      "order-independent digest); `csearch = rg` likewise, informational only.\n")
    p("| id | kind | flags | pattern | lines trawl | lines csearch | lines rg | ms trawl | ms csearch | ms rg "
      "| trawl/csearch | trawl/rg | trawl = rg | csearch = rg |")
    p("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    r_cs, r_rg, r_cs_rg = [], [], []
    problems = []
    json_errors = {}
    for q in queries:
        t = q["tools"]
        lines = {k: (None if v.get("error") else v["lines"]) for k, v in t.items()}
        ms = {k: median_s(q, k) for k in ("trawl", "csearch", "rg")}
        rc, rr = ratio(ms["trawl"], ms["csearch"]), ratio(ms["trawl"], ms["rg"])
        r_cs.append(rc)
        r_rg.append(rr)
        r_cs_rg.append(ratio(ms["csearch"], ms["rg"]))
        if "trawl" not in t:
            agree = "–"
        elif t["trawl"].get("error"):
            agree = "**TRAWL ERROR**"
        elif t["trawl"].get("rejected"):
            agree = "yes (both reject the pattern)"
        elif q["trawl_rg_agree"] is None:
            agree = "?"
        else:
            agree = "yes" if q["trawl_rg_agree"] else "**MISMATCH**"
        cs = t["csearch"]
        if cs.get("error"):
            cagree = "error"
        elif q["csearch_rg_agree"] is None:
            cagree = "?"
        elif q["csearch_rg_agree"]:
            cagree = "yes"
        else:
            d = cs["lines"] - (t["rg"]["lines"] or 0)
            cagree = f"no ({d:+,})" if d else "no (same count)"
        pat = code(q["pattern"]) + (f" in {code(q['path'])} / {code(q['glob'])}" if q["path"] else "")
        if q.get("query"):
            pat += f" (trawl: {code(q['query'])})"
        p(f"| {q['id']} | {q['kind']} | {' '.join(q['flags'])} | {pat} | {fnum(lines.get('trawl'))} | "
          f"{fnum(lines.get('csearch'))} | {fnum(lines.get('rg'))} | {fms(ms['trawl'])} | {fms(ms['csearch'])} | "
          f"{fms(ms['rg'])} | {fratio(rc)} | {fratio(rr)} | {agree} | {cagree} |")
        for k, v in t.items():
            if v.get("error"):
                problems.append(f"- {q['id']} {k}: exit {v['status']}: `{cell(v['error'].splitlines()[0][:300])}`")
        if q.get("diff"):
            problems.append(f"- **{q['id']}: trawl and rg disagree** ({fnum(lines.get('trawl'))} vs "
                            f"{fnum(lines.get('rg'))} lines). Samples (kept in `bench/work/diff/`):")
            for k in ("trawl", "rg"):
                for line in q["diff"][f"only_{k}"]:
                    problems.append(f"  - only {k}: `{cell(line[:200])}`")
    p("")
    p("Geometric means of the ratios (over the queries both tools ran):\n")
    p(f"- trawl / csearch: **{fratio(geomean(r_cs))}**")
    p(f"- trawl / rg: **{fratio(geomean(r_rg))}**")
    p(f"- csearch / rg (peers): {fratio(geomean(r_cs_rg))}\n")

    if any(q.get("trawl_summary") or q.get("trawl_summary_error") for q in queries):
        p("### trawl's own accounting (`--json` summary of one run)\n")
        p("| id | candidates | bytes scanned MB | elapsed ms | plan ms | matching_lines |")
        p("|---|---:|---:|---:|---:|---:|")
        for q in queries:
            s = q.get("trawl_summary")
            if q.get("trawl_summary_error"):
                p(f"| {q['id']} | `--json` failed: {code(q['trawl_summary_error'])} | | | | |")
                json_errors.setdefault(q["trawl_summary_error"], []).append(q["id"])
            if not s:
                continue
            ml = s.get("matching_lines")
            note = "" if ml is None or ml == q["tools"]["trawl"]["lines"] + q["tools"]["trawl"]["excluded_lines"] \
                else " (≠ lines printed)"
            p(f"| {q['id']} | {fnum(s.get('candidates'))} | {(s.get('bytes_scanned') or 0) / MB:,.1f} | "
              f"{s.get('elapsed_ms', '–')} | {s.get('plan_ms', '–')} | {fnum(ml)}{note} |")
        p("")
    for err, ids in json_errors.items():
        problems.append(f"- trawl `--json` failed on {', '.join(ids)} (informational; the timed runs do not "
                        f"use `--json`): {code(err)}")

    # Targets.
    p("## Targets (from the project issue)\n")
    p("| target | measured | result |")
    p("|---|---|---|")

    def verdict(ok):
        return "–" if ok is None else "pass" if ok else "**FAIL**"

    tr_ok = bool(tr and tr.get("ok"))
    if tr_ok and ci and ci.get("ok"):
        p(f"| indexing wall time ≤ cindex | {tr['wall_s']:.1f} s vs {ci['wall_s']:.1f} s | "
          f"{verdict(tr['wall_s'] <= ci['wall_s'])} |")
    else:
        p("| indexing wall time ≤ cindex | – | – |")
    if tr_ok:
        p(f"| indexing peak RSS ≤ 1 GiB | {tr['rss_bytes'] / GIB:.2f} GiB | {verdict(tr['rss_bytes'] <= GIB)} |")
        rs = ratio(tr["size"], searchable)
        p(f"| index size (content included) ≤ {TARGET_SIZE_VS_CORPUS}× corpus (searchable bytes) | {fratio(rs)}× "
          f"(× all files: {fratio(ratio(tr['size'], corpus.get('files_bytes')))}) "
          f"| {verdict(None if rs is None else rs <= TARGET_SIZE_VS_CORPUS)} |")
    else:
        p("| indexing peak RSS ≤ 1 GiB | – | – |")
        p(f"| index size (content included) ≤ {TARGET_SIZE_VS_CORPUS}× corpus (searchable bytes) | – | – |")
    for q in queries:
        ms = {k: median_s(q, k) for k in ("trawl", "csearch", "rg")}
        tm = ms["trawl"]
        if q["target"] == "selective":
            rc = ratio(tm, ms["csearch"])
            ok = None if tm is None or rc is None else tm * 1000 <= TARGET_SELECTIVE_MS and rc <= TARGET_SELECTIVE_VS_CSEARCH
            p(f"| {q['id']} {code(q['pattern'])}: ≤ {TARGET_SELECTIVE_MS:g} ms and ≥ 5× faster than csearch | "
              f"{fms(tm)} ms, trawl/csearch {fratio(rc)} | {verdict(ok)} |")
        elif q["target"] == "exhaustive":
            rr = ratio(tm, ms["rg"])
            p(f"| {q['id']} {code(q['pattern'])}: ≤ {TARGET_RETURN_VS_RG}× rg | trawl/rg {fratio(rr)} | "
              f"{verdict(None if rr is None else rr <= TARGET_RETURN_VS_RG)} |")
        elif q["target"] == "no-trigram":
            rr = ratio(tm, ms["rg"])
            p(f"| {q['id']} {code(q['pattern'])}: ≤ rg | trawl/rg {fratio(rr)} | "
              f"{verdict(None if rr is None else rr <= TARGET_NOTRIGRAM_VS_RG)} |")
    p("")

    if problems:
        p("## Errors and mismatches\n")
        out.extend(problems)
        p("")
    diffs = [q["id"] for q in queries if q.get("csearch_rg_agree") is False]
    if diffs:
        p(f"csearch differs from rg on {', '.join(diffs)}: expected, and not a failure. cindex skips files "
          "and directories whose names start with `.`, files that are not valid UTF-8, have a line over "
          "2000 bytes or too many distinct trigrams; Go's `\\w`, `\\d`, `\\b` are ASCII-only; csearch has "
          "no `-w` or `-F` (the harness rewrites the pattern).\n")

    # Commands.
    p("## Commands\n")
    p("```")
    p(a.command)
    p("```\n")
    p(f"Each tool runs from `{os.path.dirname(corpus.get('corpus', '?'))}`. Indexing "
      "(each under `/usr/bin/time -v`):\n")
    p("```")
    if has_trawl:
        p(f"{shlex.quote(a.trawl)} index -q -o bench/work/trawl-index {shlex.quote(corpus.get('corpus', '?'))}")
    p(f"rm -f bench/work/csearchindex; CSEARCHINDEX=bench/work/csearchindex cindex -reset "
      f"{shlex.quote(corpus.get('corpus', '?'))}")
    p("```\n")
    if queries:
        q = next((x for x in queries if x["path"]), queries[0])
        p(f"Searches, for example {q['id']}, timed with `hyperfine -N --output=pipe -i --warmup {warmup} "
          f"--runs {runs}` (csearch with `CSEARCHINDEX=bench/work/csearchindex`):\n")
        p("```")
        for k, argv in q["cmds"].items():
            p(" ".join(shlex.quote(x) for x in argv))
        p("```")
    with open(a.out, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
