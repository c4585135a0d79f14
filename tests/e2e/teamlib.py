"""Helpers of the team-mode end-to-end tests (test_access_matrix.py, test_admin_api.py): TAP
output and a real `trawl serve` on a free loopback port (both from serverlib.py), requests with
bodies and credentials, the accounts made with the real CLI (`trawl user`, `trawl token`,
`trawl group`, `trawl grant`) and fixture repositories indexed with `trawl index`. Only
python3's standard library.
"""
import json
import os
import re
import subprocess

import serverlib
from serverlib import ROOT, TRAWL, done, ok  # noqa: F401  (the names tests import from here)


def trawl(*args, data=None, stdin=None, check=True):
    """Runs the CLI; returns (exit status, stdout, stderr) as text."""
    argv = [TRAWL] + list(args) + (["--data", data] if data else [])
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(argv), p.returncode, p.stdout,
                                                   p.stderr))
    return p.returncode, p.stdout, p.stderr


def user_add(data, name, admin=False, password=None):
    """Adds a user with the CLI; with a password, through --password-stdin."""
    args = ["user", "add", name] + (["--admin"] if admin else [])
    if password is None:
        return trawl(*args, data=data)
    return trawl(*(args + ["--password-stdin"]), data=data, stdin=password + "\n")


TOKEN_RE = re.compile(r"trawl_[A-Za-z0-9]{49}")


def token_create(data, user, scope="search", expires=None):
    """A new token of user (the CLI prints it alone on stdout) and its id (from stderr)."""
    args = ["token", "create", user, "--scope", scope] + (["--expires", expires] if expires else [])
    _, out, err = trawl(*args, data=data)
    m = TOKEN_RE.search(out)
    i = re.search(r"token (\d+)", err)
    if not m or not i:
        raise RuntimeError("token create printed %r / %r" % (out, err))
    return m.group(0), int(i.group(1))


def index_repo(data, name, path, symbols=False):
    subprocess.run([TRAWL, "index", "-o", os.path.join(data, "index"), "--name", name] +
                   (["--symbols"] if symbols else []) + [path],
                   check=True, stdout=subprocess.DEVNULL)


def write_tree(root, files):
    for p, t in files.items():
        full = os.path.join(root, p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(t)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names; repeated headers joined with ", "
        self.body = body

    def json(self):
        return json.loads(self.body)

    def text(self):
        return self.body.decode("utf-8", "replace")

    def raw(self):
        """Everything a client sees: the status line, the headers and the body."""
        h = "".join("%s: %s\n" % kv for kv in sorted(self.headers.items()))
        return ("%d\n%s\n" % (self.status, h)).encode() + self.body


class Server(serverlib.Server):
    """serverlib.Server with request(): a body (bytes, or an object sent as JSON) and an API
    token, answered as a Response."""

    def request(self, method, path, body=None, token=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            body = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        st, hs, data, _ = serverlib.request(self.port, method, path, body, h, timeout=60)
        return Response(st, hs, data)


def run_with_postgres(main, script):
    """A PostgreSQL test's entry point: main() once tests/pg/pgtest.sh has started a throwaway
    PostgreSQL 15 (TRAWL_TEST_DATABASE set), a TAP SKIP line when it is not installed."""
    import sys
    if os.environ.get("TRAWL_TEST_DATABASE"):
        main()
    elif not os.path.exists("/usr/lib/postgresql/15/bin/initdb"):
        print("1..1\nok 1 # SKIP skipped: postgresql not installed (scripts/deps.sh installs it)")
    else:
        sys.exit(subprocess.call(["bash", os.path.join(ROOT, "tests", "pg", "pgtest.sh"),
                                  sys.executable, os.path.abspath(script)]))
