#!/usr/bin/env python3
"""The server's own confinement (docs/internals/sandbox.md, "The server"): once started it runs
with no_new_privs and a seccomp filter (/proc/PID/status), its one child is the spawner (not
filtered, so that it can run programs), searches that compile a heavy pattern in a helper and
the scheduler's `trawl sync` still work through the spawner, and /healthz tells an
administrator what is enforced while an anonymous caller still gets the bare answer."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import teamlib  # noqa: E402
from serverlib import Server, TRAWL, cleanup, done, ok, request  # noqa: E402


def status_fields(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def git(*args, cwd=None):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                    "init.defaultBranch=main"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-e2e-sandbox.")
    s = None
    try:
        data = os.path.join(tmp, "data")
        work = os.path.join(tmp, "work")
        os.makedirs(work)
        git("init", "-q", work)
        with open(os.path.join(work, "f.txt"), "w") as f:
            f.write("sandboxed_sync_marker Ünïcödé wörds\n")
        git("add", "-A", cwd=work)
        git("commit", "-qm", "one", cwd=work)
        teamlib.trawl("repo", "add", "--allow-local", work, data=data)
        teamlib.user_add(data, "root", admin=True, password="a sandbox pass phrase 1")
        token, _ = teamlib.token_create(data, "root", scope="admin")
        # The server may write its temporary directory: one beside DATA, not above it, so that
        # what it reaches of DATA is what its own rules give (docs/operations.md).
        server_tmp = os.path.join(tmp, "servertmp")
        os.makedirs(server_tmp)
        with open(os.path.join(data, "credentials"), "w") as f:
            f.write("https://example.com sandbox-canary-token\n")
        os.chmod(os.path.join(data, "credentials"), 0o600)
        env = {"TRAWL_CACHE_DIR": os.path.join(tmp, "cache"), "TMPDIR": server_tmp}
        s = Server(data, "--sync-interval", "1s", env=env)
        pid = s.p.pid

        st = status_fields(pid)
        ok(st.get("Seccomp") == "2", "the server runs under a seccomp filter (Seccomp: 2)",
           st.get("Seccomp"))
        ok(st.get("NoNewPrivs") == "1", "the server runs with no_new_privs", st.get("NoNewPrivs"))
        kids = children(pid)
        spawner = [k for k in kids if status_fields(k).get("Seccomp") == "0"]
        ok(len(spawner) == 1, "its spawner is its child, without a filter (it runs programs)",
           kids)
        if spawner:
            # The spawner sets it itself once forked, which may be after the server listens.
            deadline = time.monotonic() + 10
            while (status_fields(spawner[0]).get("NoNewPrivs") != "1"
                   and time.monotonic() < deadline):
                time.sleep(0.05)
            ok(status_fields(spawner[0]).get("NoNewPrivs") == "1",
               "the spawner runs with no_new_privs")

        # The scheduler's `trawl sync` runs through the spawner: its content becomes searchable.
        auth = {"Authorization": "Bearer " + token}
        found = False
        for _ in range(150):
            st_, _, body, _ = request(s.port, "GET", "/api/v1/search?q=sandboxed_sync_marker",
                                      headers=auth)
            if st_ == 200 and b"f.txt" in body:
                found = True
                break
            time.sleep(0.2)
        ok(found, "a sync started by the scheduler through the spawner indexed the repository",
           s.logtext()[-3000:])
        ok("sync finished" in s.logtext(), "the server logged the sync's exit status")

        # A pattern heavy enough for the compiler helper (a child through the spawner), on the
        # streaming route: the JSON route's 5 ms first try on the HTTP thread refuses, with a
        # fresh cache, a pattern that needs the helper ("the query's timeout ran out before its
        # pattern was compiled"), confined or not.
        st_, _, body, _ = request(s.port, "GET", "/api/v1/search/stream?q=" +
                                  "/sandboxed_sync_%5Ba-z%5D%7B1,1000%7D/%20timeout:60s",
                                  headers=auth)
        ok(st_ == 200 and b"f.txt" in body,
           "a pattern compiled in the helper process matches", st_, body[:500])
        # The server compiles into a cache of its own, the only one it may write; CLI commands
        # load theirs, beside it, and never the server's (docs/internals/regex.md).
        cache = env["TRAWL_CACHE_DIR"]
        srv_cache = os.path.join(cache, "server")
        srv_entries = [n for n in os.listdir(srv_cache) if n.endswith(".hsdb")] \
            if os.path.isdir(srv_cache) else []
        ok(len(srv_entries) > 0, "the server cached its compiled pattern in its own directory",
           os.listdir(cache))
        ok(not [n for n in os.listdir(cache) if n.endswith(".hsdb")],
           "and nothing in the CLI's", os.listdir(cache))
        ok("compiled-pattern cache of CLI commands" not in s.logtext(),
           "no warning: the CLI's cache is outside the server's writable trees",
           s.logtext()[-2000:])

        st_, _, body, _ = request(s.port, "GET", "/healthz", headers=auth)
        h = json.loads(body)
        sb = h.get("sandbox") or {}
        srv = sb.get("server") or {}
        ok(st_ == 200 and srv.get("seccomp") is True and srv.get("no_new_privs") is True
           and srv.get("spawner") is True and srv.get("rlimits") is True,
           "an administrator's /healthz reports the server's confinement", body)
        abi = srv.get("landlock_abi", -1)
        ok(srv.get("landlock") == (abi > 0), "it says whether Landlock holds (ABI %s)" % abi, body)
        ok((sb.get("workers") or {}).get("seccomp") is True,
           "and what this kernel offers the workers", body)
        st_, _, body, _ = request(s.port, "GET", "/healthz")
        ok(st_ == 200 and json.loads(body) == {"status": "ok"},
           "an anonymous /healthz stays bare", body)

        ok("inside a directory the server may write" not in s.logtext(),
           "no warning: DATA is outside the server's writable trees", s.logtext()[-2000:])
        # A CLI command's connection closing does not delete the WAL files the confined server
        # could not make again: the server holds the database open.
        subprocess.run([TRAWL, "repo", "list", "--data", data], check=True,
                       stdout=subprocess.DEVNULL)
        ok(os.path.exists(os.path.join(data, "trawl.db-wal")) and
           os.path.exists(os.path.join(data, "trawl.db-shm")),
           "trawl.db-wal and -shm outlive a CLI command's connection", os.listdir(data))
        st_, _, body, _ = request(s.port, "GET", "/api/v1/search?q=sandboxed_sync_marker",
                                  headers=auth)
        ok(st_ == 200 and b"f.txt" in body, "the server signs in and searches after it", st_)
        ok(s.stop() == 0, "the server stops cleanly", s.logtext()[-2000:])
        ok("denied system call" not in s.logtext(), "nothing was denied on the way",
           s.logtext()[-2000:])
        # Confined to its own files of DATA, it still wrote the audit log (its own directory)
        # and the database, and left the WAL files it could not make again.
        log_path = os.path.join(data, "audit", "audit.log")
        audit = open(log_path, encoding="utf-8", errors="replace").read() \
            if os.path.exists(log_path) else ""
        ok('"event":"search"' in audit, "the confined server wrote DATA/audit/audit.log",
           audit[-500:])
        s = Server(data, env=env)
        st_, _, body, _ = request(s.port, "GET", "/api/v1/search?q=sandboxed_sync_marker",
                                  headers=auth)
        ok(st_ == 200 and b"f.txt" in body, "a second start signs in and searches as before",
           st_, body[:300])
        ok(s.stop() == 0, "... and stops cleanly", s.logtext()[-2000:])
        # DATA inside the server's temporary directory gives it all of DATA: it says so.
        s = Server(data, env={"TRAWL_CACHE_DIR": os.path.join(tmp, "cache"), "TMPDIR": tmp})
        ok("inside a directory the server may write" in s.logtext(),
           "DATA inside the temporary directory is warned about", s.logtext()[-2000:])
        ok("compiled-pattern cache of CLI commands is inside" in s.logtext(),
           "so is the CLI's pattern cache inside it", s.logtext()[-2000:])
        ok(s.stop() == 0, "... and that server stops cleanly", s.logtext()[-2000:])
    finally:
        cleanup(s, tmp)
    done()


main()
