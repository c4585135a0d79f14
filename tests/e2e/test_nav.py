#!/usr/bin/env python3
"""End-to-end tests of code navigation (docs/api.md, "Code navigation"): definition, references
and outline on the real server over an index built with --symbols. The identifier at a position
(columns in UTF-16 units), definitions ordered same file, same repository and language, then
the others, references with the own repository first, a file's outline in line order, each
answer checked against its schema, and the errors: 400 for no identifier there or a malformed
line or column, 404 alike for a missing file, revision or repository. What a caller may not
read is test_access_matrix.py's (its shared_word is defined in every repository).

    python3 tests/e2e/test_nav.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402
from serverlib import TRAWL, done, ok  # noqa: E402
from test_api_schema import schema_errors  # noqa: E402

FILES = {
    "alpha": {
        "src/config.c": ("#include \"config.h\"\n"
                         "\n"
                         "struct config { int verbose; };\n"
                         "\n"
                         "int parse_config(const char *path)\n"
                         "{\n"
                         "\treturn path != 0;\n"
                         "}\n"
                         "\n"
                         "int main(void) { return parse_config(\"x\") + parse_config_x; }\n"
                         "/* \u00e9\U0001F600 parse_config Parse_config */\n"),
        "src/util.py": "def parse_config(p):\n    return p\n",
    },
    "beta": {
        "lib/cfg.c": "static int parse_config(int x) { return x; }\n",
        "notes.txt": "calls parse_config too\n",
        "data.zzq": "parse_config\n",
        # A definition whose line is over 512 bytes, a two-byte character across byte 512.
        "long.c": "int long_def(void) { return 0; } /*  " + "\u00e9" * 300 + " */\n",
    },
    "plain": {"x.c": "int parse_config;\n"},
}


def write(root, files):
    for p, t in files.items():
        full = os.path.join(root, p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(t)


def get(s, repo, route, **params):
    qs = urllib.parse.urlencode(params)
    st, _, body, _ = serverlib.request(s.port, "GET", "/api/v1/repos/%s/%s?%s" % (repo, route, qs))
    try:
        return st, json.loads(body)
    except ValueError:
        return st, body


def places(defs):
    return ["%s/%s:%d" % (d["repo"], d["path"], d["line"]) for d in defs]


def definitions(s):
    st, b = get(s, "alpha", "definition", path="src/config.c", line=10, col=27)
    ok(st == 200 and b.get("identifier") == "parse_config", "definition: the identifier", b)
    ok(not schema_errors("definition", b), "definition: the answer's schema",
       schema_errors("definition", b))
    # Same file first, then the same repository (another language), then the others; plain
    # was indexed without symbols.
    want = ["alpha/src/config.c:5", "alpha/src/util.py:1", "beta/lib/cfg.c:1"]
    ok(places(b["definitions"]) == want, "definition: same file, same repository, then others",
       places(b["definitions"]))
    d = b["definitions"][0]
    ok(d["kind"] == "function" and d["lang"] == "C" and d["name"] == "parse_config"
       and d["text"] == "int parse_config(const char *path)" and d["scope"] is None
       and b["limit_hit"] is False, "definition: kind, language, text", d)
    st, b = get(s, "beta", "definition", path="lib/cfg.c", line=1, col=20)
    ok(st == 200 and places(b["definitions"])[0] == "beta/lib/cfg.c:1"
       and len(b["definitions"]) == 3, "definition: the asking repository's own first", b)
    # A member: its scope.
    st, b = get(s, "alpha", "definition", path="src/config.c", line=3, col=22)
    ok(st == 200 and [(x["name"], x["scope"], x["scope_kind"]) for x in b["definitions"]]
       == [("verbose", "config", "struct")], "definition: a member with its scope", b)
    # Columns are UTF-16 units: "/* " 3, é 1, the emoji 2, a space: parse_config at 8.
    st, b = get(s, "alpha", "definition", path="src/config.c", line=11, col=8)
    ok(st == 200 and b.get("identifier") == "parse_config", "definition: UTF-16 columns", b)
    st, b = get(s, "alpha", "definition", path="src/config.c", line=11, col=6)
    ok(st == 400, "definition: the emoji's second unit is no identifier", b)
    # The caret just after a word.
    st, b = get(s, "alpha", "definition", path="src/config.c", line=5, col=17)
    ok(st == 200 and b.get("identifier") == "parse_config", "definition: caret after a word", b)
    st, b = get(s, "alpha", "definition", path="src/config.c", line=3, col=1)
    ok(st == 200 and b["identifier"] == "struct" and b["definitions"] == [],
       "definition: an identifier nothing defines has none", b)


def long_line(s):
    st, b = get(s, "beta", "definition", path="long.c", line=1, col=6)
    want = "int long_def(void) { return 0; } /*  " + "\u00e9" * 237
    got = b["definitions"][0]["text"] if st == 200 and b.get("definitions") else None
    ok(got == want, "definition: a long line's text is cut at 512 bytes on a character's edge",
       len((got or "").encode()), got)


def references(s):
    st, b = get(s, "beta", "references", path="lib/cfg.c", line=1, col=14)
    ok(not schema_errors("references", b), "references: the answer's schema",
       schema_errors("references", b))
    files = [(r["repo"], r["path"]) for r in b.get("results", [])]
    ok(st == 200 and b["identifier"] == "parse_config" and set(files[:3]) ==
       {("beta", "lib/cfg.c"), ("beta", "notes.txt"), ("beta", "data.zzq")}, "references: own repository first", files)
    ok(set(files) == {("beta", "lib/cfg.c"), ("beta", "notes.txt"), ("beta", "data.zzq"),
                      ("alpha", "src/config.c"),
                      ("alpha", "src/util.py"), ("plain", "x.c")},
       "references: every readable repository", files)
    lines = {r["path"]: [x["line"] for x in r["lines"]] for r in b["results"]}
    # Whole words, case-sensitive: parse_config_x and Parse_config are not references.
    ok(lines.get("src/config.c") == [5, 10, 11], "references: whole words, case-sensitive",
       lines)
    ten = [x for r in b["results"] if r["path"] == "src/config.c" for x in r["lines"]
           if x["line"] == 10]
    ok(ten and ten[0]["ranges"] == [[24, 36]], "references: the ranges of line 10", ten)


def outline(s):
    st, b = get(s, "alpha", "outline", path="src/config.c")
    ok(not schema_errors("outline", b), "outline: the answer's schema",
       schema_errors("outline", b))
    got = [(x["line"], x["name"], x["kind"], x["scope"]) for x in b.get("symbols", [])]
    ok(st == 200 and b["status"] == "ok" and b["rev"] == "HEAD" and got ==
       [(3, "config", "struct", None), (3, "verbose", "member", "config"),
        (5, "parse_config", "function", None), (10, "main", "function", None)],
       "outline: the file's symbols in line order", got)
    st, b = get(s, "plain", "outline", path="x.c")
    ok(st == 200 and b["status"] is None and b["symbols"] == [],
       "outline: an index without symbols has none (status null)", b)
    st, b = get(s, "beta", "outline", path="data.zzq")
    ok(st == 200 and b["status"] == "not parsed" and b["symbols"] == [],
       "outline: a file ctags does not parse", b)


def errors(s):
    pos = {"path": "src/config.c", "line": 10, "col": 27}
    for route in ("definition", "references"):
        for bad in ({"line": 0}, {"line": 100000001}, {"line": "1e3"}, {"line": "-1"},
                    {"col": ""}, {"col": "07"}, {"col": "99999999999999999999"}):
            st, b = get(s, "alpha", route, **dict(pos, **bad))
            ok(st == 400 and "must be a number from 1 to 100000000" in str(b),
               "%s: %s is refused" % (route, bad), st, b)
        for missing in ("line", "col"):
            st, b = get(s, "alpha", route, **{k: v for k, v in pos.items() if k != missing})
            ok(st == 400, "%s: without %s, a 400" % (route, missing), st, b)
        st, b = get(s, "alpha", route, **dict(pos, col=16))
        ok(st == 400 and "no identifier at line 10, column 16" in str(b),
           "%s: no identifier there" % route, b)
        st, b = get(s, "alpha", route, **dict(pos, line=99))
        ok(st == 400 and "past the end" in str(b), "%s: a line past the end" % route, b)
        notfound = []
        for repo, p in (("alpha", dict(pos, path="src/nope.c")), ("nope", pos),
                        ("alpha", dict(pos, rev="nope")), ("alpha", dict(pos, path="")),
                        ("alpha", dict(pos, path="src"))):
            notfound.append(get(s, repo, route, **p))
        ok(all(x == (404, {"error": {"code": "not_found", "message": "not found"}})
               for x in notfound), "%s: one 404 for a missing file, repository, revision"
           % route, notfound)
        st, b = get(s, "alpha", route, **dict(pos, path="../etc/passwd"))
        ok(st == 400, "%s: a path that climbs" % route, b)
        st, b = get(s, "alpha", route, **dict(pos, extra=1))
        ok(st == 400, "%s: an unknown parameter" % route, b)
    st, b = get(s, "alpha", "outline", path="src/nope.c")
    ok(st == 404, "outline: a missing file", b)


def git(*args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t", GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["git", "-c", "init.defaultBranch=main"] + list(args), check=True, env=env,
                   stdout=subprocess.DEVNULL)


def make_branches(path):
    """gamma: main has def.c; dev adds use.c, which calls dev_only_fn."""
    git("init", "-q", path)
    write(path, {"def.c": "int dev_only_fn(void) { return 0; }\n"})
    git("-C", path, "add", ".")
    git("-C", path, "commit", "-qm", "one")
    git("-C", path, "checkout", "-qb", "dev")
    write(path, {"use.c": "int call(void) { return dev_only_fn(); }\n"})
    git("-C", path, "add", ".")
    git("-C", path, "commit", "-qm", "two")
    git("-C", path, "checkout", "-q", "main")


def references_on_rev(s):
    """The file's own repository is searched on rev=, the others on their default branch."""
    st, b = get(s, "gamma", "references", path="def.c", line=1, col=6, rev="dev")
    files = [(r["repo"], r["path"]) for r in b.get("results", [])] if st == 200 else b
    ok(files == [("gamma", "def.c"), ("gamma", "use.c")],
       "references: the own repository on rev=dev finds a file only dev has", files)
    st, b = get(s, "gamma", "references", path="def.c", line=1, col=6)
    files = [(r["repo"], r["path"]) for r in b.get("results", [])] if st == 200 else b
    ok(files == [("gamma", "def.c")], "references: without rev=, the default branch", files)
    st, b = get(s, "gamma", "references", path="use.c", line=1, col=30, rev="dev")
    ok(st == 200 and b.get("identifier") == "dev_only_fn"
       and ("gamma", "use.c") in [(r["repo"], r["path"]) for r in b["results"]],
       "references: from a file only dev has", b)
    # Another repository's branch is not the asker's: alpha is searched on its default branch.
    st, b = get(s, "alpha", "references", path="src/config.c", line=5, col=6)
    ok(st == 200 and not [r for r in b["results"] if r["repo"] == "gamma"],
       "references: other repositories on their default branch", b)


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-nav-")
    s = None
    try:
        data = os.path.join(tmp, "data")
        for name, files in FILES.items():
            write(os.path.join(tmp, "src", name), files)
            subprocess.run([TRAWL, "index", "-o", os.path.join(data, "index"), "--name", name,
                            os.path.join(tmp, "src", name)]
                           + (["--symbols"] if name != "plain" else []),
                           check=True, stdout=subprocess.DEVNULL)
        make_branches(os.path.join(tmp, "src", "gamma"))
        subprocess.run([TRAWL, "index", "-o", os.path.join(data, "index"), "--name", "gamma",
                        "--branch", "main", "--branch", "dev", "--symbols",
                        os.path.join(tmp, "src", "gamma")], check=True, stdout=subprocess.DEVNULL)
        s = serverlib.Server(data, "--sync-interval", "0")
        definitions(s)
        long_line(s)
        references(s)
        references_on_rev(s)
        outline(s)
        errors(s)
        serverlib.stop_clean(s, [])
    finally:
        serverlib.cleanup(s, tmp)
    done()


if __name__ == "__main__":
    main()
