"""Helpers for differential tests of trawl against ripgrep: running both tools, parsing their
output as bytes, deciding which files are comparable, and TAP output.

Everything is bytes: file contents and paths may be invalid UTF-8. Results are compared as
sets of (path, line number, line text), or (path, count) for -c, or path for -l.
"""
import os
import re
import subprocess
import threading

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RG = os.environ.get("RG", "/usr/bin/rg")
# Both tools skip files strictly larger than this (rg --max-filesize 1M, trawl's default).
MAX_FILESIZE = "1M"


def trawl_path():
    return os.environ.get("TRAWL") or os.path.join(REPO_ROOT, "build", "release", "trawl")


def run(argv, cwd=None, timeout=300):
    """Runs argv; returns (exit status, stdout bytes, stderr bytes). Never raises on failure
    of the program; a timeout is reported as status -1."""
    env = dict(os.environ)
    env.pop("RIPGREP_CONFIG_PATH", None)
    try:
        p = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=timeout, env=env)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return -1, e.stdout or b"", (e.stderr or b"") + b"\n(timed out after %ds)" % timeout
    except OSError as e:
        return -2, b"", str(e).encode()


class Corpus:
    """A directory PARENT/REPO searched by rg from PARENT and indexed by trawl as REPO.

    Computes, from the bytes on disk, the set of comparable files (paths as rg and trawl print
    them: b"REPO/rel/path"):
      - regular files only (symlinks are followed by neither tool);
      - not under a directory named .git (rg -uu searches them, trawl skips them);
      - no NUL byte anywhere (rg's binary handling differs from trawl's);
      - not in the corpus's known-different list.
    Files over the size limit stay comparable: both tools must leave them out.
    """

    def __init__(self, parent, repo, known_different=()):
        self.parent = parent
        self.repo = repo
        self.all_files = set()       # every regular file, b"REPO/..."
        self.excluded = {}           # b"REPO/..." -> reason
        self.content = {}            # small text files' lines, for messages
        rb = os.fsencode(repo)
        base = os.path.join(os.fsencode(parent), rb)
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            rel_dir = os.path.relpath(dirpath, base)
            in_git = b".git" in (rel_dir.split(b"/") if rel_dir != b"." else [])
            for name in filenames:
                full = os.path.join(dirpath, name)
                if os.path.islink(full) or not os.path.isfile(full):
                    continue
                rel = os.path.normpath(os.path.join(rel_dir, name))
                key = rb + b"/" + rel
                self.all_files.add(key)
                if in_git:
                    self.excluded[key] = "under .git/"
                    continue
                if rel in known_different:
                    self.excluded[key] = "known difference"
                    continue
                try:
                    with open(full, "rb") as f:
                        data = f.read()
                except OSError:
                    self.excluded[key] = "unreadable"
                    continue
                if b"\0" in data:
                    self.excluded[key] = "contains NUL"
        self.comparable = self.all_files - set(self.excluded)

    # -- parsing ----------------------------------------------------------------------------
    _line_re = re.compile(rb"^(.*?):(\d+):")

    def split_path(self, line):
        """Splits b"PATH:REST" where PATH is a known file; returns (path, rest) or None."""
        i = line.find(b":")
        while i >= 0:
            if line[:i] in self.all_files:
                return line[:i], line[i + 1:]
            i = line.find(b":", i + 1)
        return None

    def parse_lines(self, out):
        """rg -n --no-heading output -> (set of (path, lineno, text), list of unparsed lines)."""
        got, bad = set(), []
        if not out:
            return got, bad
        lines = out.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        for line in lines:
            r = self.split_path(line)
            m = None
            if r is not None:
                m = re.match(rb"(\d+):", r[1])
            if r is None or m is None:
                mm = self._line_re.match(line)
                if mm is None:
                    bad.append(line)
                    continue
                path, num, text = mm.group(1), int(mm.group(2)), line[mm.end():]
            else:
                path, num, text = r[0], int(m.group(1)), r[1][m.end():]
            got.add((path, num, text))
        return got, bad

    def parse_counts(self, out):
        """-c output (PATH:COUNT) -> (set of (path, count), unparsed lines)."""
        got, bad = set(), []
        for line in out.split(b"\n"):
            if not line:
                continue
            path, sep, n = line.rpartition(b":")
            if not sep or not n.isdigit():
                bad.append(line)
                continue
            got.add((path, int(n)))
        return got, bad

    def parse_files(self, out):
        """-l output (PATH per line) -> (set of paths, [])."""
        return {line for line in out.split(b"\n") if line}, []

    def keep(self, path):
        """Whether a result for PATH is compared (unknown paths are kept, to be reported)."""
        return path not in self.excluded

    def filter(self, results):
        return {r for r in results if self.keep(r if isinstance(r, bytes) else r[0])}

    def line_excluded(self, line, mode):
        """Whether an output line (of MODE lines, max, count or files) is about a file left
        out of the comparison (rg's binary-file warnings included)."""
        if mode == "files":
            return line in self.excluded
        r = self.split_path(line)
        return r is not None and r[0] in self.excluded

    def rg_ignorable(self, line):
        """rg prints 'PATH: WARNING: stopped searching binary file ...' on stdout for files
        with NUL bytes; those files are excluded anyway."""
        r = self.split_path(line)
        return r is not None and r[0] in self.excluded and r[1].startswith(b" WARNING:")


def show(b, limit=160):
    """A printable, single-line rendering of bytes for TAP comments."""
    s = b.decode("utf-8", "backslashreplace")
    s = "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in s)
    return s if len(s) <= limit else s[:limit] + "...(%d chars)" % len(s)


def show_pattern(p):
    s = p.decode("utf-8", "backslashreplace") if isinstance(p, bytes) else p
    return repr(s)


class Tap:
    """Thread-safe-enough TAP writer (call from one thread)."""

    def __init__(self, out):
        self.out = out
        self.n = 0
        self.failed = 0
        self.lock = threading.Lock()

    def result(self, ok, desc, comments=(), directive=""):
        with self.lock:
            self.n += 1
            if not ok and not directive.startswith("TODO"):
                self.failed += 1
            desc = desc.replace("\n", "\\n").replace("#", "\\#")
            if directive:
                desc += " # " + directive
            self.out.write("%s %d - %s\n" % ("ok" if ok else "not ok", self.n, desc))
            for c in comments:
                for part in str(c).split("\n"):
                    self.out.write("# %s\n" % part)
            self.out.flush()

    def comment(self, text):
        with self.lock:
            for part in text.split("\n"):
                self.out.write("# %s\n" % part)
            self.out.flush()

    def finish(self):
        self.out.write("1..%d\n" % self.n)
        self.out.flush()
        return 1 if self.failed else 0
