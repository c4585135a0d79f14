#!/usr/bin/env python3
"""Issue 18 end to end: `trawl serve --database postgres://...` keeps its accounts, tokens,
sessions, grants and audit trail in PostgreSQL. A throwaway PostgreSQL 15 (tests/pg/pgtest.sh,
which runs this script again inside it) holds them: the CLI makes an administrator and a user
there (--database), the server started with --database signs the user in, the user creates a
token and searches a private repository it was granted, an ungranted one stays hidden, an
administrator's "sync now" runs the server's sync child on the same database, and
the audit trail's rows are in PostgreSQL's audit table (read with psql), none in a DATA/trawl.db
(there is none). `trawl backup` points at pg_dump. --database-password-file signs in a role
that needs a password; a wrong one is refused as such. The start's log line names the database
without its password; a bad URL is refused naming the problem, never echoing a password.
Skipped (TAP SKIP) when PostgreSQL 15 is not installed. Output: TAP.

    python3 tests/e2e/test_pg_serve.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402
from teamlib import (ROOT, TOKEN_RE, Server, TRAWL, done, index_repo, ok,  # noqa: E402
                     run_with_postgres, write_tree)

PW_ROOT = "granite oboe lantern 93 root"
PW_ALICE = "plover quartz meadow 71 alice"
COOKIE = "__Host-trawl_session"


def cli(db, *args, stdin=None):
    p = subprocess.run([TRAWL] + list(args) + ["--database", db], input=stdin,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("trawl %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return p.stdout


def psql(db, sql):
    return subprocess.run(["psql", "-Atq", db, "-c", sql], capture_output=True, text=True,
                          check=True).stdout.strip()


def main():
    db = os.environ["TRAWL_TEST_DATABASE"]
    tmp = tempfile.mkdtemp(prefix="trawl-pg-serve.")
    data = os.path.join(tmp, "data")
    s = None
    try:
        src = os.path.join(tmp, "src")
        write_tree(os.path.join(src, "shared"), {"a.c": "int pgneedle_shared;\n"})
        write_tree(os.path.join(src, "secret"), {"b.c": "int pgneedle_secret;\n"})
        os.makedirs(data)
        index_repo(data, "shared", os.path.join(src, "shared"))
        index_repo(data, "secret", os.path.join(src, "secret"))
        cli(db, "user", "add", "root", "--admin", "--password-stdin", "--data", data,
            stdin=PW_ROOT + "\n")
        cli(db, "user", "add", "alice", "--password-stdin", "--data", data,
            stdin=PW_ALICE + "\n")
        cli(db, "grant", "shared", "--user", "alice", "--data", data)
        root_tok = TOKEN_RE.search(cli(db, "token", "create", "root", "--scope", "admin",
                                       "--data", data)).group(0)
        git = os.path.join(tmp, "git")
        write_tree(git, {"c.c": "int pgneedle_synced;\n"})
        for args in (["init", "-q"], ["add", "c.c"],
                     ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "x"]):
            subprocess.run(["git", "-C", git] + args, check=True)
        cli(db, "repo", "add", "--allow-local", "--name", "synced", git, "--data", data)
        ok(psql(db, "SELECT string_agg(name, ',' ORDER BY name) FROM users") == "alice,root",
           "the CLI's --database wrote the users to PostgreSQL")
        ok(not os.path.exists(os.path.join(data, "trawl.db")), "no DATA/trawl.db was made")

        # A password in the URL (the socket trusts the owner: it is not checked) is never logged.
        db_pw = db.replace("@", ":fake-unused-pw@", 1)
        s = Server(data, "--database", db_pw)
        st, _, body, msg = serverlib.request(
            s.port, "POST", "/api/v1/session",
            json.dumps({"user": "alice", "password": PW_ALICE}).encode(),
            {"Content-Type": "application/json"})
        cookies = msg.get_all("Set-Cookie") or []
        cookie = next((c.split(";")[0] for c in cookies if c.startswith(COOKIE)), "")
        csrf = (json.loads(body) if st == 200 else {}).get("csrf_token", "")
        ok(st == 200 and cookie and csrf, "alice signs in (session in PostgreSQL)", st, body[:200])
        ok(psql(db, "SELECT count(*) FROM sessions") == "1", "one session row in PostgreSQL")
        # /proc/PID/cmdline is readable by every user of the machine: the URL's password is
        # overwritten there once read.
        with open("/proc/%d/cmdline" % s.p.pid, "rb") as f:
            cmdline = f.read()
        ok(b"postgres://" in cmdline and b"fake-unused-pw" not in cmdline,
           "the URL's password is not left in the command line", cmdline)
        r = s.request("POST", "/api/v1/tokens", {"name": "ci"},
                      headers={"Cookie": cookie, "X-CSRF-Token": csrf})
        tok = r.json().get("secret", "") if r.status == 201 else ""
        ok(tok.startswith("trawl_"), "alice creates a token", r.status, r.text()[:200])
        r = s.request("GET", "/api/v1/search?q=pgneedle", token=tok)
        text = r.text()
        ok(r.status == 200 and "pgneedle_shared" in text and "pgneedle_secret" not in text,
           "the token searches what alice was granted, not the rest", r.status, text[:300])
        # The server's sync, a child process, finds the registry in PostgreSQL too.
        r = s.request("POST", "/api/v1/repos/synced/sync", token=root_tok)
        state = ""
        for _ in range(100):
            state = psql(db, "SELECT state FROM repos WHERE name = 'synced'")
            if state in ("indexed", "error"):
                break
            time.sleep(0.1)
        ok(r.status == 202 and state == "indexed", "the server's sync reads and records the "
           "registry in PostgreSQL", r.status, state, psql(db, "SELECT last_error FROM repos"))
        log = s.logtext()
        ok(":***@" in log and "fake-unused-pw" not in log,
           "the log names the database without its password",
           [ln for ln in log.splitlines() if "listening" in ln])
        s.stop()
        s = None
        events = psql(db, "SELECT string_agg(DISTINCT event, ',' ORDER BY event) FROM audit")
        for e in ("sign_in", "token_created", "search"):
            ok(e in events.split(","), "the audit row %s is in PostgreSQL" % e, events)
        rows = psql(db, "SELECT n FROM audit_rows")
        ok(rows == psql(db, "SELECT count(*) FROM audit"), "audit_rows counts the table", rows)

        p = subprocess.run([TRAWL, "user", "list", "--data", data, "--database",
                            "postgres://u:hunter2secret@/x?host=%s/none" % tmp],
                           capture_output=True, text=True)
        ok(p.returncode != 0 and "connecting to PostgreSQL" in p.stderr and
           "hunter2secret" not in p.stderr and "u:***@" in p.stderr,
           "an unreachable server is named, its password never shown", p.stderr)
        p = subprocess.run([TRAWL, "backup", "--data", data, "--database", db,
                            os.path.join(tmp, "backup")], capture_output=True, text=True)
        ok(p.returncode != 0 and "pg_dump" in p.stderr, "trawl backup points at pg_dump",
           p.stderr)
        # --database-password-file: the password from a file, a wrong one refused as such.
        pw_db = os.environ["TRAWL_TEST_PW_DATABASE"]
        psql(db, "GRANT ALL ON ALL TABLES IN SCHEMA public TO trawl_pw")
        good, bad = os.path.join(tmp, "pw"), os.path.join(tmp, "pw-bad")
        with open(good, "w") as f:
            f.write("pgtest-secret-pw\n")
        with open(bad, "w") as f:
            f.write("not-the-password\n")
        # A secret file as any other: others may not read it (file_is_private).
        os.chmod(good, 0o644)
        p = subprocess.run([TRAWL, "repo", "list", "--data", data, "--database", pw_db,
                            "--database-password-file", good], capture_output=True, text=True)
        ok(p.returncode != 0 and "accessible to group or others" in p.stderr and
           "pgtest-secret-pw" not in p.stderr, "a password file others may read is refused",
           p.returncode, p.stderr)
        os.chmod(good, 0o600)
        os.chmod(bad, 0o600)
        p = subprocess.run([TRAWL, "repo", "list", "--data", data, "--database", pw_db,
                            "--database-password-file", good], capture_output=True, text=True)
        ok(p.returncode == 0 and "synced" in p.stdout, "the password file signs the role in",
           p.returncode, p.stderr)
        p = subprocess.run([TRAWL, "repo", "list", "--data", data, "--database", pw_db,
                            "--database-password-file", bad], capture_output=True, text=True)
        ok(p.returncode != 0 and "password authentication failed" in p.stderr and
           "not-the-password" not in p.stderr, "a wrong password is refused, not shown",
           p.stderr)
        p = subprocess.run([TRAWL, "repo", "list", "--data", data, "--database", pw_db,
                            "--database-password-file", os.path.join(tmp, "nofile")],
                           capture_output=True, text=True)
        ok(p.returncode != 0 and "--database-password-file" in p.stderr,
           "a missing password file is named", p.stderr)
        p = subprocess.run([TRAWL, "user", "list", "--data", data, "--database",
                            "mysql://u:hunter2secret@h/x"], capture_output=True, text=True)
        ok(p.returncode != 0 and "expected sqlite:PATH" in p.stderr and
           "hunter2secret" not in p.stderr, "another scheme is refused, not echoed", p.stderr)
    finally:
        if s:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    run_with_postgres(main, __file__)
