#!/usr/bin/env python3
"""Fault test (docs/security.md, "Faults"): SQLite busy, locked and damaged databases.
Another process holds DATA/trawl.db's write lock (python's sqlite3, `BEGIN EXCLUSIVE`):
- longer than the busy timeout (10 s): `trawl repo add` fails with "database is locked" naming
  the file and writes nothing, while reading (`trawl repo list`) still works; a token created
  through the server fails (500, the log names the file) and is not half made, and a signed-in
  search sent while it waits is answered before it (docs/internals/auth.md); searches made
  meanwhile are audited later: the audit writer holds the events the table refused and writes
  them once the lock is gone, so after a restart the trail has them all;
- shorter than the busy timeout: `trawl repo add`, `trawl sync`, a sign-in and a token created
  through the server all wait and succeed, and after a restart every write is there.
A damaged database (garbage bytes, truncated, a page of garbage, a garbage header): every
command tried (for one damaged page: each command that reads it) and the server's start (which
checks every page) refuse it with an error naming the file and saying to restore a backup
(`trawl backup`), never a crash.
Output: TAP.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402
from serverlib import ok, done  # noqa: E402
from teamlib import Server, token_create, trawl, user_add  # noqa: E402

ROOT_PW = "root's password for the fault test"
LOCKER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
c.execute("COMMIT")
"""


class Lock:
    """A process holding db's write lock for seconds, from start() on."""

    def __init__(self, db, seconds):
        self.p = subprocess.Popen([sys.executable, "-c", LOCKER, db, str(seconds)],
                                  stdout=subprocess.PIPE, text=True)
        self.line = self.p.stdout.readline().strip()

    def wait(self):
        return self.p.wait(60)


def audit(data, event):
    _, out, _ = trawl("audit", "--event", event, "--json", data=data)
    return [json.loads(l) for l in out.splitlines() if l]


def cli_locked(data, db):
    lk = Lock(db, 12)
    ok(lk.line == "locked", "another process holds the database's write lock")
    p = subprocess.run([fl.TRAWL, "repo", "add", "--data", data, "--allow-local", "--name",
                        "late", data + "/../src"], capture_output=True, text=True)
    ok(p.returncode == 2 and "database is locked" in p.stderr and db in p.stderr,
       "past the busy timeout, trawl repo add fails: 'database is locked' naming the file",
       p.returncode, p.stderr)
    p = subprocess.run([fl.TRAWL, "repo", "list", "--data", data], capture_output=True,
                       text=True)
    ok(p.returncode == 0 and "proj" in p.stdout, "trawl repo list still reads meanwhile",
       p.stderr)
    lk.wait()
    ok("late" not in fl.repo_states(data), "the refused add wrote nothing")

    lk = Lock(db, 2)
    p = subprocess.run([fl.TRAWL, "repo", "add", "--data", data, "--allow-local", "--name",
                        "late", data + "/../src"], capture_output=True, text=True)
    ok(p.returncode == 0, "within the busy timeout, trawl repo add waits and succeeds", p.stderr)
    lk.wait()
    lk = Lock(db, 2)
    p = subprocess.run([fl.TRAWL, "sync", "--data", data], capture_output=True, text=True)
    ok(p.returncode == 0, "and so does trawl sync", p.stdout + p.stderr)
    lk.wait()
    st = fl.repo_states(data)
    ok(set(st) == {"proj", "late"} and all(r["state"] == "indexed" for r in st.values()),
       "both repositories are registered and indexed", st)


def server_locked(tmp, data, db, admin):
    s = Server(data, "--sync-interval", "0", log_dir=tmp)
    try:
        # Shorter than the busy timeout: every write waits and succeeds.
        lk = Lock(db, 2)
        r = s.request("POST", "/api/v1/session", {"user": "root", "password": ROOT_PW})
        ok(r.status == 200, "a sign-in during a short lock succeeds", r.status, r.body[:300])
        r = s.request("POST", "/api/v1/tokens", {"name": "short", "scope": "search"},
                      token=admin)
        ok(r.status == 201, "a token created during a short lock succeeds", r.status,
           r.body[:300])
        short = r.json().get("secret", "") if r.status == 201 else ""
        r = s.request("GET", "/api/v1/search?q=faultshortmark", token=admin)
        ok(r.status == 200, "a search during a short lock answers", r.status)
        lk.wait()

        # Longer than the busy timeout: a write fails cleanly; audit events are held.
        lk = Lock(db, 13)
        r = s.request("GET", "/api/v1/search?q=faultlongmark", token=admin)
        ok(r.status == 200, "a search during a long lock answers", r.status)
        # The token's creation waits out the lock on the accounts' writers' connection; signed-in
        # requests sent beside it are answered while it still waits (they read through the
        # other connection).
        made = {}
        t = threading.Thread(target=lambda: made.update(r=s.request(
            "POST", "/api/v1/tokens", {"name": "long", "scope": "search"}, token=admin)))
        t.start()
        time.sleep(0.5)  # a head start, so that the creation is waiting (no time is asserted)
        r = s.request("GET", "/api/v1/search?q=faultlongmark", token=admin)
        ok(r.status == 200 and t.is_alive(),
           "a signed-in search beside a write waiting for the lock is answered before the write",
           r.status, t.is_alive())
        t.join(60)
        r = made.get("r")
        ok(r is not None and r.status == 500, "a token created past the busy timeout fails (500)",
           r and r.status, r and r.body[:300])
        ok("database is locked" in s.logtext() and db in s.logtext(),
           "the server's log says 'database is locked' naming the file", s.logtext()[-3000:])
        lk.wait()
        time.sleep(1.5)  # the audit writer's next flush
        r = s.request("GET", "/api/v1/tokens", token=admin)
        names = [t.get("name") for t in r.json().get("tokens", [])] if r.status == 200 else []
        ok("short" in names and "long" not in names,
           "after the lock: the short lock's token exists, the refused one was not half made",
           r.status, names)
    finally:
        ok(s.stop() == 0, "the server stops cleanly")
    s = Server(data, "--sync-interval", "0", log_dir=tmp)
    try:
        r = s.request("GET", "/api/v1/me", token=short)
        ok(r.status == 200, "after a restart the token made during the lock works", r.status)
    finally:
        s.stop()
    queries = [e.get("detail", {}).get("query", "") for e in audit(data, "search")]
    ok(any("faultshortmark" in q for q in queries) and any("faultlongmark" in q
                                                            for q in queries),
       "after a restart the audit table holds the searches made during both locks",
       queries)
    ok(len(audit(data, "sign_in")) >= 1 and
       any("short" in json.dumps(e) for e in audit(data, "token_created")),
       "and the sign-in and the token's creation", audit(data, "token_created"))


def damage(db, how):
    with open(db, "rb") as f:
        b = bytearray(f.read())
    if how == "garbage bytes":
        b = bytearray(os.urandom(len(b)))
    elif how == "truncated":
        b = b[:len(b) // 3]
    elif how == "a page of garbage":
        ps = int.from_bytes(b[16:18], "big")
        for i in range(2 * ps, 3 * ps):
            b[i] ^= 0x5A
    elif how == "a garbage header":
        b[0:16] = b"garbage garbage!"
    with open(db, "wb") as f:
        f.write(b)


def damaged(tmp, pristine):
    cmds = [["repo", "list"], ["repo", "add", "--allow-local", "--name", "x",
                               os.path.join(tmp, "src")],
            ["sync"], ["user", "list"], ["audit"]]
    for i, how in enumerate(["garbage bytes", "truncated", "a page of garbage",
                             "a garbage header"]):
        data = os.path.join(tmp, "damaged%d" % i, "data")
        shutil.copytree(pristine, data, symlinks=True)
        db = os.path.join(data, "trawl.db")
        for f in ("trawl.db-wal", "trawl.db-shm"):
            if os.path.exists(os.path.join(data, f)):
                os.unlink(os.path.join(data, f))
        damage(db, how)
        bad, refused = [], 0
        for c in cmds:
            p = subprocess.run([fl.TRAWL] + c + ["--data", data], capture_output=True,
                               text=True)
            good = p.returncode == 2 and db in p.stderr and "trawl backup" in p.stderr
            refused += good
            # One damaged page is found by the commands that read it (and by the server's
            # start, which checks every page): the others may still work.
            if not (good or how == "a page of garbage" and p.returncode == 0):
                bad.append((c, p.returncode, p.stderr))
        ok(not bad and refused >= 1, "%s: repo list, repo add, sync, user list and audit refuse "
           "it naming the file and the backup%s" %
           (how, " (those that read the page)" if how == "a page of garbage" else ""), bad)
        p = subprocess.run([fl.TRAWL, "serve", "--data", data, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=30)
        ok(p.returncode == 2 and db in p.stderr and "trawl backup" in p.stderr,
           "%s: the server refuses to start, naming the file and the backup" % how,
           p.returncode, p.stdout, p.stderr)


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-faultsqlite.")
    try:
        src, data = os.path.join(tmp, "src"), os.path.join(tmp, "data")
        os.makedirs(src)
        with open(os.path.join(src, "a.txt"), "w") as f:
            f.write("faultshortmark faultlongmark\n")
        fl.git(src, "init", "-q")
        fl.git(src, "add", "-A")
        fl.git(src, "commit", "-q", "-m", "one")
        trawl("repo", "add", "--allow-local", "--name", "proj", src, data=data)
        trawl("sync", data=data)
        user_add(data, "root", admin=True, password=ROOT_PW)
        admin, _ = token_create(data, "root", scope="admin")
        pristine = os.path.join(tmp, "pristine")
        shutil.copytree(data, pristine, symlinks=True)
        db = os.path.join(data, "trawl.db")
        cli_locked(data, db)
        server_locked(tmp, data, db, admin)
        damaged(tmp, pristine)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
