#!/usr/bin/env python3
"""`trawl db copy` end to end: an installation started on SQLite (DATA/trawl.db, filled through
the CLI: an administrator and users with passwords, a group and its member, grants, a public
repository, tokens among them a revoked and an expiring one, notices, audit events) is copied
into a throwaway PostgreSQL 15 (tests/pg/pgtest.sh, which runs this script again inside it).
`trawl serve --database postgres://...` then proves nothing was lost: the administrator signs
in with the same password, a token made before the copy still searches and a revoked one is
refused, each caller sees exactly the repositories it saw before, the audit trail holds the old
events with their ids (and the copy's store_copied), and new users and tokens get fresh ids.
The CLI's listings (users, groups, grants, tokens) read the same on both. Refusals, each exit
2 with nothing written: a target holding rows, a URL of another scheme, a server that cannot be
reached (its password never shown). And back: PostgreSQL to a new SQLite file. Skipped (TAP
SKIP) when PostgreSQL 15 is not installed. Output: TAP.

    python3 tests/e2e/test_pg_copy.py
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402
from teamlib import (ROOT, TOKEN_RE, Server, TRAWL, done, index_repo, ok,  # noqa: E402
                     run_with_postgres, write_tree)

PW_ROOT = "granite oboe lantern 93 root"
PW_ALICE = "plover quartz meadow 71 alice"
PW_BOB = "saffron kettle harbour 28 bob"
REPOS = ("shared", "secret", "open", "hidden")


def run(*args, stdin=None):
    return subprocess.run([TRAWL] + list(args), input=stdin, capture_output=True, text=True)


def cli(*args, stdin=None):
    p = run(*args, stdin=stdin)
    if p.returncode != 0:
        raise RuntimeError("trawl %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def psql(db, sql):
    return subprocess.run(["psql", "-Atq", db, "-c", sql], capture_output=True, text=True,
                          check=True).stdout.strip()


def sign_in(s, user, pw):
    st, _, body, _ = serverlib.request(
        s.port, "POST", "/api/v1/session", json.dumps({"user": user, "password": pw}).encode(),
        {"Content-Type": "application/json"})
    return st


def visible(s, token):
    """The repositories whose needle a search with token finds (None: refused)."""
    r = s.request("GET", "/api/v1/search?q=copyneedle_", token=token)
    if r.status != 200:
        return None
    text = r.text()
    return sorted(n for n in REPOS if "copyneedle_" + n in text)


def listings(*db):
    """What the CLI shows of the accounts: users, groups, grants and tokens."""
    out = {}
    for args in (["user", "list", "--json"], ["group", "list", "--json"],
                 ["access", "--json"], ["token", "list", "--json"]):
        out[args[0]] = cli(*(args + list(db))).stdout
    return out


def fill(data):
    """The SQLite installation; returns the tokens: alice's, bob's revoked one, root's."""
    cli("user", "add", "root", "--admin", "--password-stdin", "--data", data, stdin=PW_ROOT + "\n")
    cli("user", "add", "alice", "--password-stdin", "--data", data, stdin=PW_ALICE + "\n")
    cli("user", "add", "bob", "--password-stdin", "--data", data, stdin=PW_BOB + "\n")
    cli("group", "add", "devs", "--data", data)
    cli("group", "member", "add", "devs", "bob", "--data", data)
    cli("grant", "shared", "--user", "alice", "--data", data)
    cli("grant", "secret", "--group", "devs", "--data", data)
    cli("repo", "set", "open", "--public", "--data", data)
    # A token made for alice by the operator: a notice for her.
    alice = TOKEN_RE.search(cli("token", "create", "alice", "--expires", "2h", "--name", "ci",
                                "--data", data).stdout).group(0)
    p = cli("token", "create", "bob", "--name", "old", "--data", data)
    bob = TOKEN_RE.search(p.stdout).group(0)
    bob_id = re.search(r"token (\d+)", p.stderr).group(1)
    cli("token", "revoke", bob_id, "--data", data)
    root = TOKEN_RE.search(cli("token", "create", "root", "--scope", "admin",
                               "--data", data).stdout).group(0)
    return alice, bob, root


def main():
    db = os.environ["TRAWL_TEST_DATABASE"]
    tmp = tempfile.mkdtemp(prefix="trawl-pg-copy.")
    data = os.path.join(tmp, "data")
    s = None
    try:
        os.makedirs(data)
        for n in REPOS:
            write_tree(os.path.join(tmp, "src", n), {"a.c": "int copyneedle_%s;\n" % n})
            index_repo(data, n, os.path.join(tmp, "src", n))
        alice, bob, root = fill(data)

        # Before: what each caller sees on SQLite.
        s = Server(data)
        before = {who: visible(s, t) for who, t in (("alice", alice), ("bob", bob),
                                                     ("root", root))}
        before["anonymous"] = visible(s, None)
        ok(before["alice"] and before["bob"] is None and before["root"] == sorted(REPOS),
           "on SQLite: alice searches, the revoked token is refused, root reads all", before)
        s.stop()
        s = None
        lite = sqlite3.connect(os.path.join(data, "trawl.db"))
        old_audit = lite.execute("SELECT id, event, actor, target FROM audit ORDER BY id").fetchall()
        old_notices = lite.execute("SELECT count(*) FROM notices").fetchone()[0]
        max_user = lite.execute("SELECT max(id) FROM users").fetchone()[0]
        max_token = lite.execute("SELECT max(id) FROM tokens").fetchone()[0]
        lite.close()
        ok(len(old_audit) > 5 and old_notices > 0, "the SQLite store holds audit events and "
           "notices", len(old_audit), old_notices)
        lists = listings("--data", data)

        # Refused before anything is written: another scheme, a server that is not there.
        p = run("db", "copy", "--to", "mysql://u:hunter2secret@h/x", "--data", data)
        ok(p.returncode == 2 and "expected postgres://" in p.stderr and
           "hunter2secret" not in p.stderr, "a URL of another scheme is refused, not echoed",
           p.returncode, p.stderr)
        p = run("db", "copy", "--to", "postgres://u:hunter2secret@/x?host=%s/none" % tmp,
                "--data", data)
        ok(p.returncode == 2 and "connecting to PostgreSQL" in p.stderr and
           "hunter2secret" not in p.stderr and "u:***@" in p.stderr,
           "a server that cannot be reached is named, its password never shown",
           p.returncode, p.stderr)
        p = run("db", "copy", "--data", data)
        ok(p.returncode == 2 and "--to URL is required" in p.stderr, "--to is required",
           p.stderr)
        p = run("db", "copy", "--to", db, "--data", os.path.join(tmp, "nodata"))
        ok(p.returncode == 2 and "nodata" in p.stderr and not os.path.exists(
            os.path.join(tmp, "nodata")), "a data directory without a store is named, not made",
           p.stderr)
        ok(psql(db, "SELECT to_regclass('users') IS NULL") == "t",
           "nothing was written by the refusals")

        # The copy.
        p = run("db", "copy", "--to", db, "--data", data)
        ok(p.returncode == 0 and re.search(r"^  users +3$", p.stdout, re.M) and
           re.search(r"^  audit +%d$" % len(old_audit), p.stdout, re.M),
           "trawl db copy copies, printing the rows of each table", p.returncode, p.stdout,
           p.stderr)
        ok("hunter2" not in p.stdout and "$argon2" not in p.stdout, "no secret is printed")
        ok(listings("--database", db, "--data", data) == lists, "users, groups, grants and tokens (revoked, "
           "expiring) list the same from PostgreSQL", listings("--database", db, "--data", data), lists)
        new_audit = [tuple(int(x) if i == 0 else x for i, x in enumerate(r.split("|")))
                     for r in psql(db, "SELECT id, event, actor, target FROM audit "
                                       "ORDER BY id").splitlines()]
        ok(new_audit[:-1] == old_audit, "the audit trail holds the old events with their ids",
           new_audit[:3], old_audit[:3])
        ok(new_audit[-1][1:3] == ("store_copied", "cli") and new_audit[-1][0] > old_audit[-1][0],
           "the copy is in the audit trail as store_copied by cli", new_audit[-1])
        ok(psql(db, "SELECT count(*) FROM notices") == str(old_notices), "the notices are kept")
        ok(psql(db, "SELECT n FROM audit_rows") == str(len(new_audit)), "audit_rows counts them")

        # Again: the target now holds rows.
        p = run("db", "copy", "--to", db, "--data", data)
        ok(p.returncode == 2 and "already holds rows" in p.stderr and
           psql(db, "SELECT count(*) FROM audit") == str(len(new_audit)),
           "a target holding rows is refused, nothing added", p.returncode, p.stderr)

        # The server on PostgreSQL.
        s = Server(data, "--database", db)
        ok(sign_in(s, "root", PW_ROOT) == 200, "the administrator signs in with the same "
           "password")
        ok(sign_in(s, "alice", "wrong password here 12") == 401, "a wrong password is refused")
        after = {who: visible(s, t) for who, t in (("alice", alice), ("bob", bob),
                                                    ("root", root))}
        after["anonymous"] = visible(s, None)
        ok(after == before, "every caller sees exactly what it saw before (the token made "
           "before the copy searches, the revoked one is refused)", after, before)
        r = s.request("POST", "/api/v1/tokens", {"name": "new"}, token=root)
        ok(r.status == 201 and r.json().get("token", {}).get("id", 0) > max_token, "a new token gets a fresh id",
           r.status, r.text()[:200], max_token)
        s.stop()
        s = None
        cli("user", "add", "carol", "--password-stdin", "--database", db, "--data", data,
            stdin="carrot lemon pylon 55 carol\n")
        ok(int(psql(db, "SELECT id FROM users WHERE name = 'carol'")) == max_user + 1,
           "a new user gets the next id", psql(db, "SELECT id, name FROM users ORDER BY id"))

        # And back: PostgreSQL into a new SQLite file.
        back = os.path.join(tmp, "back.db")
        p = run("db", "copy", "--database", db, "--to", "sqlite:" + back)
        ok(p.returncode == 0 and re.search(r"^  users +4$", p.stdout, re.M),
           "PostgreSQL copies back into a new SQLite file", p.returncode, p.stdout, p.stderr)
        ok(cli("user", "list", "--json", "--database", "sqlite:" + back, "--data", data).stdout ==
           cli("user", "list", "--json", "--database", db, "--data", data).stdout,
           "the users read the same")
        busy = os.path.join(tmp, "busy.db")
        shutil.copy(back, busy)
        p = run("db", "copy", "--database", db, "--to", "sqlite:" + busy)
        ok(p.returncode == 2 and "already holds rows" in p.stderr and os.path.exists(busy),
           "an SQLite target holding rows is refused and kept", p.stderr)
    finally:
        if s:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    run_with_postgres(main, __file__)
