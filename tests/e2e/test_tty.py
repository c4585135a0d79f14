#!/usr/bin/env python3
"""End-to-end tests of what trawl writes to a terminal (docs/security.md, section 3): file names,
repository and branch names and content lines from a hostile repository reach a terminal with
their control characters escaped (ESC, BEL, CR, LF, C1 ...), in every output mode of `trawl
search`, in `trawl ls` and in `trawl repo list|status`; piped, the output is byte for byte what
it was (ripgrep's). The terminal is a pseudo-terminal in raw mode. Output: TAP.
"""
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_serve import TRAWL, ok  # noqa: E402
import test_serve  # noqa: E402  (its TAP counters)


def on_tty(args, env=None):
    """Runs trawl with stdout on a raw pseudo-terminal; returns what the terminal received."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    p = subprocess.Popen([TRAWL] + args, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 30)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    p.wait()
    return out


def piped(args, env=None):
    return subprocess.run([TRAWL] + args, capture_output=True, env=env).stdout


# The colours trawl itself writes (ripgrep's); anything else starting with ESC is the repository's.
OWN_SGR = re.compile(rb"\x1b\[(0|1|31|32|35)m")


def clean(out):
    """Whether out holds no control character but trawl's colours, newlines and tabs."""
    rest = OWN_SGR.sub(b"", out)
    bad = re.search(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", rest)
    return bad is None, rest


HOSTILE = {
    b"\x1b]0;pwned\x07title.txt": b"needle one\n",
    b"forged\nhostile/evil.txt:1:needle.txt": b"needle two\n",
    b"c1\xc2\x9b2Jname.txt": b"needle three\n",
    b"latin1\x9b\xe9.txt": b"needle four\n",
    b"content.txt": b"needle \x1b]0;pwned\x07 and \x1b[2J\tand CR\rhostile/x:1:needle\n",
    b"bin\x1b[31m.dat": b"\x00binary needle\n",
}


def make_tree(root):
    os.makedirs(root)
    for name, data in HOSTILE.items():
        path = os.path.join(os.fsencode(root), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def test_search(ix):
    base = ["search", "-d", ix, "-e", "needle"]
    for mode, extra in (("default", []), ("-l", ["-l"]), ("-c", ["-c"]),
                        ("--color never", ["--color", "never"]), ("query", None)):
        args = base + extra if extra is not None else ["search", "-d", ix, "needle count:all"]
        out = on_tty(args)
        good, rest = clean(out)
        ok(good and out, "search %s on a terminal: no control character of the repository" % mode,
           out)
        lines = [l for l in rest.split(b"\n") if l]
        ok(len(lines) == 5 and all(l.startswith(b"hostile/") for l in lines) and
           not any(l.startswith(b"hostile/evil.txt") for l in lines),
           "search %s on a terminal: a name cannot forge a result line" % mode, lines)
    out = on_tty(base + ["-l", "--color", "never"])
    ok(b"hostile/\\x1b]0;pwned\\x07title.txt\n" in out and
       b"hostile/forged\\nhostile/evil.txt:1:needle.txt\n" in out and
       b"hostile/c1\\xc2\\x9b2Jname.txt\n" in out and b"hostile/latin1\\x9b\\xe9.txt\n" in out,
       "names are shown with visible escapes", out)
    out = on_tty(base + ["--color", "never"])
    ok(b"hostile/content.txt:1:needle \\x1b]0;pwned\\x07 and \\x1b[2J\tand CR\\rhostile/x:1:needle\n"
       in out, "content lines are escaped on a terminal, tabs kept", out)
    out = on_tty(base + ["--color", "always"])
    ok(b"\x1b[0m\x1b[1m\x1b[31mneedle\x1b[0m \\x1b]0;pwned" in out,
       "--color highlights matches around the escapes", out)
    # Piped: the bytes as they are, as ripgrep prints them.
    out = piped(base + ["-l"])
    want = sorted(b"hostile/" + k for k in HOSTILE if not k.startswith(b"bin"))
    got = out.split(b"\n")
    ok(all(w in out for w in want) and b"\x1b]0;pwned\x07" in out and
       b"forged\nhostile/evil.txt:1:needle.txt" in out,
       "piped -l output is byte-exact", out, want, got)
    out = piped(base)
    ok(b"hostile/content.txt:1:" + HOSTILE[b"content.txt"] in out,
       "piped content lines are byte-exact", out)


def test_ls(ix):
    out = on_tty(["ls", "-d", ix])
    good, rest = clean(out)
    ok(good and b"hostile/\\x1b]0;pwned\\x07title.txt\t" in out, "ls on a terminal escapes names",
       out)
    lines = [l for l in rest.split(b"\n") if l]
    ok(len(lines) == len(HOSTILE) and all(l.startswith(b"hostile/") for l in lines),
       "ls on a terminal: one line per file", lines)
    out = on_tty(["ls", "-d", ix, "--skipped"])
    ok(out == b"hostile/bin\\x1b[31m.dat\t15\tbinary\n", "ls --skipped on a terminal", out)
    out = piped(["ls", "-d", ix, "--skipped"])
    ok(out == b"hostile/bin\x1b[31m.dat\t15\tbinary\n", "ls --skipped piped is byte-exact", out)


def git(*args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@e", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null")
    subprocess.run([b"git", b"-c", b"init.defaultBranch=main"] + list(args), check=True, env=env,
                   capture_output=True)


def test_registry(tmp):
    src = os.path.join(tmp, "gsrc")
    make_tree(src)
    git(b"init", b"-q", os.fsencode(src))
    git(b"-C", os.fsencode(src), b"add", b"-A")
    git(b"-C", os.fsencode(src), b"commit", b"-qm", b"hostile")
    git(b"-C", os.fsencode(src), b"branch", b"c1\xc2\x9b2J")
    data = os.path.join(tmp, "data")
    env = dict(os.environ, TRAWL_ALLOW_LOCAL="1")
    subprocess.run([TRAWL, "repo", "add", "--data", data, src, "--name", "hostile", "--branch",
                    "*"], check=True, env=env, capture_output=True)
    out = on_tty(["sync", "--data", data], env=env)
    good, _ = clean(out)
    ok(good and b"c1\\xc2\\x9b2J at " in out, "sync on a terminal escapes branch names", out)
    for cmd in (["repo", "list"], ["repo", "status", "hostile"]):
        out = on_tty(cmd + ["--data", data], env=env)
        good, _ = clean(out)
        ok(good and b"branch c1\\xc2\\x9b2J at " in out,
           "%s on a terminal: no control character of the repository" % " ".join(cmd), out)
    out = on_tty(["repo", "status", "hostile", "--data", data], env=env)
    ok(b"  skipped hostile/bin\\x1b[31m.dat\t15\tbinary\n" in out,
       "repo status on a terminal escapes skipped paths", out)
    out = piped(["repo", "status", "hostile", "--data", data], env=env)
    ok(b"  skipped hostile/bin\x1b[31m.dat\t15\tbinary\n" in out,
       "repo status piped keeps skipped paths byte-exact", out)


def main():
    if not os.access(TRAWL, os.X_OK):
        print("not ok 1 - no trawl binary at " + TRAWL)
        sys.exit(1)
    tmp = tempfile.mkdtemp(prefix="trawl-tty.")
    try:
        src = os.path.join(tmp, "hostile")
        make_tree(src)
        ix = os.path.join(tmp, "ix")
        subprocess.run([TRAWL, "index", "-q", "--worktree", "-o", ix, src], check=True)
        test_search(ix)
        test_ls(ix)
        test_registry(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % test_serve.n)
    sys.exit(1 if test_serve.fails else 0)


if __name__ == "__main__":
    main()
