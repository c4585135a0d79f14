#!/usr/bin/env python3
# serial: kills `trawl sync`, its workers and `trawl serve` at random moments, which needs the
# timing of an unloaded machine to land in fetch, indexing and commit alike
"""Fault test (docs/security.md, "Faults"): `kill -9` at random points, at least 50 times in
all, of `trawl sync` (during fetch, indexing and commit), of a fetch worker and of an index
worker (`trawl worker fetch|index`, the sync's children: during the fetch, and while the index
worker writes its shards), and of `trawl serve` (during searches and its scheduled sync, whose
child then runs on as an orphan until it ends). The repositories change before every run, so
that each sync has work to do. After each kill of a worker:
- the sync ends with status 2 and says the repository failed with "fetch worker killed by
  signal 9 (SIGKILL)" (or "index worker ..."), and `trawl repo list` shows it in error with
  that reason; the other repositories sync;
- the repository's MANIFEST entry is the one before and its results still equal ripgrep's on
  the generation indexed before, the others' on the new one; `trawl verify` passes; no
  temporary file, unlisted shard or work directory is left;
- the next `trawl sync --retry` (the failed repository waits out a backoff) completes with
  every repository's results equal ripgrep's on the source.
After each other kill:
- `trawl verify` passes: no corrupt shard is in the index;
- every repository's search results (CLI, and the restarted server's) equal ripgrep's on one
  generation of it, the one indexed before or the one being indexed: never a mix;
- the next `trawl sync` completes, marks a repository the kill left "syncing" as interrupted
  first, leaves every repository "indexed" and its results equal ripgrep's on the source;
and at the end no temporary file or unlisted shard is left behind.
The delays come from a seeded generator: the seed is printed (TRAWL_FAULT_SEED replays it).
Output: TAP.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402
from serverlib import Server, ok, done  # noqa: E402

NAMES = ["r0", "r1", "r2"]
SYNC_KILLS = 13
WORKER_KILLS = 13  # of each kind
SERVER_KILLS = 12
KINDS = ("fetch", "index")
REPORT = {"fetch": "fetch: fetch worker killed by signal 9 (SIGKILL)",
          "index": "index: index worker killed by signal 9 (SIGKILL)"}


def sync(data, *args):
    return subprocess.run([fl.TRAWL, "sync", "--data", data, *args], capture_output=True,
                          text=True)


def verify(data):
    return subprocess.run([fl.TRAWL, "verify", os.path.join(data, "index")],
                          capture_output=True, text=True)


class Checker:
    """The checks after one kill; counts failures so that a run reports the first few only."""

    def __init__(self, src, data):
        self.src, self.data, self.failed = src, data, 0

    def check(self, what, cond, detail):
        if not cond:
            self.failed += 1
            if self.failed <= 5:
                ok(False, what, detail)
        return cond

    def after_kill(self, what, states):
        v = verify(self.data)
        self.check("%s: trawl verify passes" % what, v.returncode == 0, v.stdout + v.stderr)
        good, res, err = fl.cli_results(self.data)
        if self.check("%s: trawl search works" % what, good, err):
            cons, bad = fl.consistent(fl.split_by_repo(res, NAMES), *states)
            self.check("%s: each repository is wholly at one generation" % what, cons,
                       "repositories at no generation: %s" % bad)

    def completes(self, what, after, *args):
        states = fl.repo_states(self.data)
        was_syncing = [n for n, r in states.items() if r["state"] == "syncing"]
        p = sync(self.data, *args)
        self.check("%s: the next sync completes" % what, p.returncode == 0, p.stdout + p.stderr)
        if was_syncing:
            self.check("%s: the next sync says a repository was left syncing" % what,
                       "left syncing by an interrupted sync" in p.stderr, p.stderr)
        states = fl.repo_states(self.data)
        self.check("%s: every repository is indexed after it" % what,
                   all(states[n]["state"] == "indexed" for n in NAMES), states)
        good, res, err = fl.cli_results(self.data)
        cons, bad = fl.consistent(fl.split_by_repo(res, NAMES), after)
        self.check("%s: results equal ripgrep's on the source" % what, good and cons,
                   err or "differ: %s" % bad)


def next_generation(src, gen, rnd, states):
    """Writes generation gen of every repository; states (the generations an index may hold:
    from the last completed sync on) gets its expected results."""
    for n in NAMES:
        fl.write_generation(os.path.join(src, n), gen, rnd)
    states.append(fl.expected(src, NAMES))
    return states[-1]


def kill_syncs(c, rnd, gen, sync_s):
    """SYNC_KILLS runs of `trawl sync`, each killed after a random share of a sync's time."""
    states = [fl.expected(c.src, NAMES)]
    for i in range(SYNC_KILLS):
        gen += 1
        after = next_generation(c.src, gen, rnd, states)
        delay = rnd.uniform(0.0, 1.2 * sync_s)
        p = subprocess.Popen([fl.TRAWL, "sync", "--data", c.data], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        what = "sync kill %d (after %.3f s)" % (i + 1, delay)
        c.after_kill(what, states)
        # Every other time, kill again before completing: two kills in a row must not matter.
        if i % 2 == 1:
            c.completes(what, after)
            states = [after]
    c.completes("after the sync kills", after)
    return gen


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def worker_of(pid):
    """(kind, repository name) of a `trawl worker fetch|index` process, else None. The fetch
    worker's --url is the repository's path, the index worker's --name its name."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().decode(errors="replace").split("\0")
    except OSError:
        return None
    if len(argv) < 3 or argv[1] != "worker" or argv[2] not in KINDS:
        return None
    opt = "--url" if argv[2] == "fetch" else "--name"
    val = argv[argv.index(opt) + 1] if opt in argv[:-1] else ""
    return argv[2], os.path.basename(val)


def running(pid):
    """Whether pid is alive and not yet a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        return st[st.rindex(")") + 2] != "Z"
    except (OSError, ValueError):
        return False


def watch_sync(data, target=None, delay=0.0):
    """Runs `trawl sync`, watching its children: with target (kind, name), sends SIGKILL to that
    worker delay seconds after it appeared (through a pidfd, so that a reused pid is safe).
    Returns (completed process, {kind: [lifetimes in s]}, whether the worker was still running
    when killed, whether its work directory held shard files then)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen([fl.TRAWL, "sync", "--data", data], stdout=out, stderr=err,
                             text=True)
        seen, life, hit, mid_shard, kill_at, pidfd = {}, {k: [] for k in KINDS}, False, False, \
            None, None
        while p.poll() is None:
            now = time.monotonic()
            kids = children(p.pid)
            for pid in kids:
                # A child not yet past its exec still shows the sync's command line: looked
                # at again until it is a worker.
                w = None if pid in seen else worker_of(pid)
                if not w:
                    continue
                seen[pid] = (w, now)
                if w == target and pidfd is None:
                    try:
                        pidfd, kill_at = os.pidfd_open(pid), now + delay
                    except ProcessLookupError:
                        pass
            for pid, (w, t0) in list(seen.items()):
                if w and (pid not in kids or not running(pid)):
                    life[w[0]].append(now - t0)
                    seen[pid] = (None, t0)
            if kill_at is not None and now >= kill_at:
                hit = any(w == target for w, _ in seen.values())
                mid_shard = hit and target[0] == "index" and work_files(data)
                try:
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                except ProcessLookupError:  # it ended and was waited for
                    hit = False
                os.close(pidfd)
                kill_at = None
            time.sleep(0.0005)
        if pidfd is not None and kill_at is not None:
            os.close(pidfd)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(p.args, p.returncode, out.read(), err.read()), \
            life, hit, mid_shard


def work_files(data):
    """Whether an index worker's work directory holds a file (a shard being written)."""
    work = os.path.join(data, "index", "work")
    try:
        return any(os.listdir(os.path.join(work, d)) for d in os.listdir(work))
    except OSError:
        return False


def manifest_entry(data, name):
    try:
        with open(os.path.join(data, "index", "MANIFEST")) as f:
            return [r for r in json.load(f)["repos"] if r["name"] == name]
    except (OSError, ValueError, KeyError):
        return None


def kill_workers(c, rnd, gen):
    """WORKER_KILLS kills of each kind of worker, in a random order, each of a random
    repository's worker at a random share of that kind's typical lifetime (measured first). A
    kill that lands after the worker ended is tried again on the next generation."""
    gen += 1
    states = [fl.expected(c.src, NAMES)]
    after = next_generation(c.src, gen, rnd, states)
    p, life, _, _ = watch_sync(c.data)
    c.check("worker kills: a watched sync completes", p.returncode == 0, p.stderr)
    est = {k: sorted(v)[len(v) // 2] if v else 0.05 for k, v in life.items()}
    print("# workers' typical lifetimes: fetch %.3f s, index %.3f s" % (est["fetch"],
                                                                       est["index"]))
    before = after
    kinds = [k for k in KINDS for _ in range(WORKER_KILLS)]
    rnd.shuffle(kinds)
    counts = {"fetch": 0, "index": 0, "missed": 0, "mid_shard": 0}
    for kind in kinds:
        name = rnd.choice(NAMES)
        share = rnd.random()
        for attempt in range(5):
            gen += 1
            after = next_generation(c.src, gen, rnd, [])
            delay = share * est[kind]
            entry = manifest_entry(c.data, name)
            p, _, hit, mid_shard = watch_sync(c.data, (kind, name), delay)
            # A worker that ends between the look at /proc and the kill is a miss too.
            if hit and (p.returncode != 0 or REPORT[kind] in p.stderr):
                break
            # The worker ended before the kill: the sync completed; a shorter delay next time.
            hit = False
            counts["missed"] += 1
            c.check("%s worker kill missed: the sync completes" % kind, p.returncode == 0,
                    p.stderr)
            before, share = after, share / 2
        if not c.check("a kill of %s's %s worker lands in 5 tries" % (name, kind), hit, ""):
            continue
        counts[kind] += 1
        counts["mid_shard"] += mid_shard
        what = "%s worker kill %d of %s (after %.4f s%s)" % (
            kind, counts[kind], name, delay, ", shard files written" if mid_shard else "")
        c.check("%s: the sync ends with status 2" % what, p.returncode == 2,
                "status %d: %s" % (p.returncode, p.stderr))
        c.check("%s: it reports the worker's end" % what,
                "trawl: %s: %s" % (name, REPORT[kind]) in p.stderr, p.stderr)
        st = fl.repo_states(c.data)
        c.check("%s: the repository is in error with that reason" % what,
                st[name]["state"] == "error" and REPORT[kind] in (st[name]["last_error"] or ""),
                st[name])
        c.check("%s: the other repositories are indexed" % what,
                all(st[n]["state"] == "indexed" for n in NAMES if n != name), st)
        c.check("%s: the repository's MANIFEST entry is unchanged" % what,
                manifest_entry(c.data, name) == entry, "%s != %s" % (
                    manifest_entry(c.data, name), entry))
        v = verify(c.data)
        c.check("%s: trawl verify passes" % what, v.returncode == 0, v.stdout + v.stderr)
        good, res, err = fl.cli_results(c.data)
        got = fl.split_by_repo(res, NAMES)
        want = {n: (before if n == name else after)[n] for n in NAMES}
        cons, bad = fl.consistent(got, want)
        c.check("%s: the repository serves the generation before, the others the new one" %
                what, good and cons, err or "differ: %s" % bad)
        left = fl.leftovers(c.data)
        c.check("%s: nothing is left behind" % what, not left, left)
        c.completes(what, after, "--retry")
        before = after
    print("# worker kills: fetch %d, index %d (%d with shard files written); %d missed and "
          "tried again" % (counts["fetch"], counts["index"], counts["mid_shard"],
                           counts["missed"]))
    return gen, counts


def searches(port, stop, errors):
    """Searches the server until stop is set or the server is gone."""
    while not stop.is_set():
        try:
            fl.server_results(port)
        except Exception as e:  # noqa: BLE001  (a killed server ends the loop)
            errors.append(str(e))
            return


def kill_servers(c, rnd, gen, tmp):
    """SERVER_KILLS servers, syncing every second, searched without pause, killed at a random
    moment; then a restarted server must serve a consistent, verified index."""
    for i in range(SERVER_KILLS):
        gen += 1
        states = [fl.expected(c.src, NAMES)]
        after = next_generation(c.src, gen, rnd, states)
        s = Server(c.data, "--sync-interval", "1s", log_dir=tmp)
        stop, errors = threading.Event(), []
        th = threading.Thread(target=searches, args=(s.port, stop, errors))
        th.start()
        delay = rnd.uniform(0.8, 2.0)
        time.sleep(delay)
        s.p.send_signal(signal.SIGKILL)
        s.p.wait()
        stop.set()
        th.join()
        s.log.close()
        what = "server kill %d (after %.3f s)" % (i + 1, delay)
        c.check("%s: its scheduled sync ends" % what, fl.wait_sync_lock_free(c.data),
                "DATA/sync.lock still held after 60 s")
        c.after_kill(what, states)
        s = Server(c.data, "--sync-interval", "0", log_dir=tmp)
        try:
            res = fl.server_results(s.port)
            cons, bad = fl.consistent(fl.split_by_repo(res, NAMES), *states)
            c.check("%s: the restarted server serves one generation per repository" % what,
                    cons, "repositories at no generation: %s" % bad)
        except RuntimeError as e:
            c.check("%s: the restarted server answers" % what, False, e)
        finally:
            s.stop()
        c.completes(what, after)
    return gen


def main():
    rnd = fl.seeded_random("test_fault_kill")
    tmp = tempfile.mkdtemp(prefix="trawl-faultkill.")
    try:
        src, data = os.path.join(tmp, "src"), os.path.join(tmp, "data")
        os.makedirs(src)
        for n in NAMES:
            fl.write_generation(os.path.join(src, n), 0, rnd)
            p = subprocess.run([fl.TRAWL, "repo", "add", "--data", data, "--allow-local",
                                os.path.join(src, n)], capture_output=True, text=True)
            ok(p.returncode == 0, "repo add %s" % n, p.stderr)
        t0 = time.monotonic()
        p = sync(data)
        sync_s = time.monotonic() - t0
        ok(p.returncode == 0, "the first sync completes", p.stderr)
        print("# a first sync of %d repositories took %.3f s" % (len(NAMES), sync_s))
        c = Checker(src, data)
        gen = kill_syncs(c, rnd, 0, sync_s)
        ok(c.failed == 0, "%d kills of trawl sync: index verified, results consistent, next "
           "sync completes" % SYNC_KILLS, "%d checks failed" % c.failed)
        failed = c.failed
        gen, counts = kill_workers(c, rnd, gen)
        ok(c.failed == failed, "%d kills of a fetch worker and %d of an index worker: the "
           "repository failed with the worker's end, kept its index, verified, no leftovers, "
           "next sync --retry completes" % (counts["fetch"], counts["index"]),
           "%d checks failed" % (c.failed - failed))
        ok(counts["fetch"] == WORKER_KILLS and counts["index"] == WORKER_KILLS,
           "every worker kill landed in a running worker", counts)
        failed = c.failed
        gen = kill_servers(c, rnd, gen, tmp)
        ok(c.failed == failed, "%d kills of trawl serve during searches and its scheduled sync: "
           "index verified, restarted server consistent, next sync completes" % SERVER_KILLS,
           "%d checks failed" % (c.failed - failed))
        next_generation(src, gen + 1, rnd, [])
        p = sync(data)
        ok(p.returncode == 0, "a last sync completes", p.stderr)
        print("# kills: trawl sync %d, fetch worker %d, index worker %d, trawl serve %d" % (
            SYNC_KILLS, counts["fetch"], counts["index"], SERVER_KILLS))
        left = fl.leftovers(data)
        ok(not left, "no temporary file or unlisted shard is left", left)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
