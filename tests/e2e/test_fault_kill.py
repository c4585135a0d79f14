#!/usr/bin/env python3
# serial: kills `trawl sync` and `trawl serve` at random moments, which needs the timing of an
# unloaded machine to land in fetch, indexing and commit alike
"""Fault test (docs/security.md, "Faults"): `kill -9` at random points, at least 50 times in
all, of `trawl sync` (during fetch, indexing and commit) and of `trawl serve` (during searches
and its scheduled sync, whose child then runs on as an orphan until it ends). The repositories
change before every run, so that each sync has work to do. After each kill:
- `trawl verify` passes: no corrupt shard is in the index;
- every repository's search results (CLI, and the restarted server's) equal ripgrep's on one
  generation of it, the one indexed before or the one being indexed: never a mix;
- the next `trawl sync` completes, marks a repository the kill left "syncing" as interrupted
  first, leaves every repository "indexed" and its results equal ripgrep's on the source;
and at the end no temporary file or unlisted shard is left behind.
The delays come from a seeded generator: the seed is printed (TRAWL_FAULT_SEED replays it).
Output: TAP.
"""
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
SYNC_KILLS = 38
SERVER_KILLS = 12


def sync(data):
    return subprocess.run([fl.TRAWL, "sync", "--data", data], capture_output=True, text=True)


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

    def completes(self, what, after):
        states = fl.repo_states(self.data)
        was_syncing = [n for n, r in states.items() if r["state"] == "syncing"]
        p = sync(self.data)
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
        gen = kill_servers(c, rnd, gen, tmp)
        ok(c.failed == failed, "%d kills of trawl serve during searches and its scheduled sync: "
           "index verified, restarted server consistent, next sync completes" % SERVER_KILLS,
           "%d checks failed" % (c.failed - failed))
        next_generation(src, gen + 1, rnd, [])
        p = sync(data)
        ok(p.returncode == 0, "a last sync completes", p.stderr)
        left = fl.leftovers(data)
        ok(not left, "no temporary file or unlisted shard is left", left)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
