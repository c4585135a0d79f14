"""Helpers of the team-mode end-to-end tests (test_access_matrix.py, test_admin_api.py): TAP
output, a real `trawl serve` on a free loopback port, requests with bodies and credentials, the
accounts made with the real CLI (`trawl user`, `trawl token`, `trawl group`, `trawl grant`) and
fixture repositories indexed with `trawl index`. Only python3's standard library.
"""
import http.client
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TRAWL = os.environ.get("TRAWL", os.path.join(ROOT, "build", "release", "trawl"))

_n = 0
_fails = 0


def ok(cond, desc, *detail):
    global _n, _fails
    _n += 1
    if cond:
        print("ok %d - %s" % (_n, desc))
    else:
        _fails += 1
        print("not ok %d - %s" % (_n, desc))
        for d in detail:
            for line in str(d)[:3000].splitlines():
                print("# " + line)
    sys.stdout.flush()
    return cond


def done():
    print("1..%d" % _n)
    sys.exit(1 if _fails else 0)


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


def index_repo(data, name, path):
    subprocess.run([TRAWL, "index", "-o", os.path.join(data, "index"), "--name", name, path],
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


class Server:
    def __init__(self, data, *args):
        self.data = data
        self.log_path = os.path.join(data, "..", "server-%d.log" % time.monotonic_ns())
        self.log = open(self.log_path, "wb")
        self.p = subprocess.Popen(
            [TRAWL, "serve", "--data", data, "--listen", "127.0.0.1:0"] + list(args),
            stdout=subprocess.PIPE, stderr=self.log)
        line = self.p.stdout.readline().decode()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.p.kill()
            raise RuntimeError("server did not start: %r %s" % (line, self.logtext()))
        self.port = int(m.group(1))

    def logtext(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, method, path, body=None, token=None, headers=None):
        """body: bytes, or an object sent as JSON."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            body = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        hs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hs[k] = hs[k] + ", " + v if k in hs else v
        return Response(r.status, hs, data)

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.log.close()
        return self.p.returncode
