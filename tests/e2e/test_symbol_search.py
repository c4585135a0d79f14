#!/usr/bin/env python3
"""End-to-end tests of symbol search (docs/query-syntax.md, "Symbols"; docs/api.md, "Symbols"):
repositories indexed with `trawl index --symbols` (the real confined ctags), then
`trawl search` with type:symbol and select:symbol.KIND (the readable lines, --json, -l, the
column of an error, the alert for a repository indexed without symbols), and the real server
in team mode: /api/v1/symbols (its exact JSON contract, count=, q= errors), /api/v1/search and
its stream carrying symbol results, and a user without a grant on a repository finding none of
its symbols, nor a count or an alert that tells it apart.

    python3 tests/e2e/test_symbol_search.py
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from teamlib import (TRAWL, Server, done, index_repo, ok, token_create, trawl,  # noqa: E402
                     user_add, write_tree)

FIELDS = ["repo", "path", "line", "name", "kind", "symbol_kind", "scope", "scope_kind", "lang",
          "signature", "text"]


def q(s):
    return urllib.parse.quote(s, safe="")


def search(ix, *args):
    p = subprocess.run([TRAWL, "search", "-d", ix] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def cli(tmp):
    src = os.path.join(tmp, "src")
    write_tree(os.path.join(src, "alpha"), {
        "config.c": "#define MAX_CONFIG 10\nstruct config { int n; };\n"
                    "int parse_config(const char *path)\n{\n\treturn 0;\n}\n",
        "util.py": "class Parser:\n    def parse(self, x):\n        return x\n",
        "deep/dir/more/config_test.c": "int parse_config(const char *p) { return 1; }\n",
    })
    write_tree(os.path.join(src, "plain"), {"p.c": "int parse_config(void) { return 2; }\n"})
    ix = os.path.join(tmp, "ix")
    subprocess.run([TRAWL, "index", "--symbols", "-o", ix, "--name", "alpha",
                    os.path.join(src, "alpha")], check=True, capture_output=True)
    subprocess.run([TRAWL, "index", "-o", ix, "--name", "plain", os.path.join(src, "plain")],
                   check=True, capture_output=True)

    st, out, err = search(ix, "type:symbol parse_config")
    ok(st == 0 and out == "alpha/config.c:3: function parse_config\n"
       "alpha/deep/dir/more/config_test.c:1: function parse_config\n",
       "type:symbol: path:line: kind name, the shorter path first", out, err)
    ok("warning: repository plain has no symbols: index it with --symbols" in err,
       "a repository indexed without symbols is named, not silently empty", err)
    st, out, err = search(ix, "type:symbol ^parse$ lang:python")
    ok(out == "alpha/util.py:2: member parse (Parser)\n", "the scope in parentheses", out, err)
    st, out, _ = search(ix, "type:symbol ^PARSE_CONFIG$ case:yes")
    ok(st == 1 and out == "", "case:yes: an exact name in another case is not found", out)
    st, out, _ = search(ix, "select:symbol.macro config")
    ok(out == "alpha/config.c:1: macro MAX_CONFIG\n", "select:symbol.macro", out)
    st, out, _ = search(ix, "select:symbol.struct config")
    ok(out == "alpha/config.c:2: struct config\n", "select:symbol.struct", out)
    st, out, _ = search(ix, "-l", "type:symbol parse_config")
    ok(out == "alpha/config.c\nalpha/deep/dir/more/config_test.c\n", "-l: the files", out)
    st, out, err = search(ix, "select:symbol.func parse")
    ok(st == 2 and "(column 15)" in err and "function, method, class" in err,
       "an unknown kind: the column and the kinds", err)
    st, out, _ = search(ix, "--json", "type:symbol ^parse_config$ file:^config")
    lines = [json.loads(x) for x in out.splitlines()]
    want = {"line": 3, "name": "parse_config", "kind": "function", "symbol_kind": "function",
            "scope": None, "scope_kind": None, "lang": "C",
            "signature": "(const char * path)", "text": "int parse_config(const char *path)"}
    ok(len(lines) == 2 and lines[0]["type"] == "symbol" and lines[0]["symbols"] == [want] and
       lines[1]["type"] == "summary" and lines[1]["matching_lines"] == 1,
       "--json carries every field of the symbol", out)


def server(tmp):
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    src = os.path.join(tmp, "ssrc")
    write_tree(os.path.join(src, "open"), {"o.c": "int parse_config(void) { return 0; }\n"
                                                  "int open_helper(void) { return 1; }\n"})
    write_tree(os.path.join(src, "secret"), {"s.c": "int parse_config(void) { return 9; }\n"
                                                    "int secret_helper(void) { return 8; }\n"})
    write_tree(os.path.join(src, "old"), {"x.c": "int parse_config(void) { return 7; }\n"})
    index_repo(data, "open", os.path.join(src, "open"), symbols=True)
    index_repo(data, "secret", os.path.join(src, "secret"), symbols=True)
    index_repo(data, "old", os.path.join(src, "old"))
    user_add(data, "root", admin=True)
    user_add(data, "bob")
    trawl("grant", "open", "--user", "bob", data=data)
    trawl("grant", "old", "--user", "bob", data=data)
    admin, _ = token_create(data, "root", scope="admin")
    bob, _ = token_create(data, "bob")
    s = Server(data)
    try:
        r = s.request("GET", "/api/v1/symbols?q=" + q("^parse_config$"), token=admin)
        body = r.json()
        ok(r.status == 200 and sorted(body) == ["alerts", "limit_hit", "symbols"] and
           [list(x) for x in body["symbols"]] == [FIELDS] * 2 and
           sorted(x["repo"] for x in body["symbols"]) == ["open", "secret"],
           "/api/v1/symbols: the contract's fields, every repository for an admin", r.body)
        ok(body.get("alerts") == [{"kind": "warning", "reason": "symbols",
                                   "message": "repository old has no "
                                   "symbols: index it with --symbols"}],
           "/api/v1/symbols: an alert names the repository without symbols", r.body)
        r = s.request("GET", "/api/v1/symbols?q=" + q("^parse_config$") + "&count=1",
                      token=admin)
        ok(r.status == 200 and len(r.json()["symbols"]) == 1 and r.json()["limit_hit"],
           "count=1: one symbol, limit_hit", r.body)
        r = s.request("GET", "/api/v1/symbols?q=" + q("secret"), token=admin)
        ok(r.status == 200 and [x["name"] for x in r.json()["symbols"]] == ["secret_helper"],
           "the test can fail: the admin finds the secret symbol", r.body)
        # bob reads open and old, not secret.
        r = s.request("GET", "/api/v1/symbols?q=" + q("secret"), token=bob)
        ok(r.status == 200 and r.json() == {"symbols": [], "limit_hit": False, "alerts": [
            {"kind": "warning", "reason": "symbols",
             "message": "repository old has no symbols: index it with --symbols"}]},
           "bob: no symbol of a repository he cannot read", r.body)
        r = s.request("GET", "/api/v1/symbols?q=" + q("^parse_config$"), token=bob)
        ok(r.status == 200 and [x["repo"] for x in r.json()["symbols"]] == ["open"],
           "bob: only his repositories' symbols", r.body)
        # repo: matching no readable repository: one warning, the same for a repository bob
        # cannot read as for one that does not exist; the stream sends it as an alert event.
        none = {"kind": "warning", "reason": "repo",
                "message": "repo: matches no repository you can read: no results"}
        got = {}
        for name in ("secret", "nosuch"):
            r = s.request("GET", "/api/v1/search?q=" + q("parse_config repo:^%s$" % name), token=bob)
            got[name] = (r.status, r.json()["results"], r.json()["alerts"])
        ok(got["secret"] == got["nosuch"] == (200, [], [none]),
           "search: repo: naming an unreadable repository warns as for a missing one", got)
        r = s.request("GET", "/api/v1/search?q=" + q("parse_config repo:^secret$"), token=admin)
        ok(r.status == 200 and r.json()["alerts"] == [] and len(r.json()["results"]) == 1,
           "search: the test can fail: the admin reads secret, no warning", r.body)
        r = s.request("GET", "/api/v1/search/stream?q=" + q("parse_config repo:^secret$"), token=bob)
        ok(r.status == 200 and ("event: alert\ndata: " + json.dumps(none, separators=(",", ":")))
           in r.text(), "stream: the warning is an alert event", r.body)
        r = s.request("GET", "/api/v1/search?q=" + q("type:symbol parse_config"), token=bob)
        sm = r.json().get("summary", {})
        ok(r.status == 200 and sm.get("matching_lines") == 1 and sm.get("files") == 1 and
           sm.get("shards_searched") == 2 and sm.get("candidates") == 1 and
           b"secret" not in r.body,
           "bob: type:symbol counts nothing of the repository he cannot read", r.body)
        res = r.json()["results"]
        ok(res and res[0]["type"] == "symbol" and res[0]["symbols"][0]["name"] == "parse_config",
           "/api/v1/search carries symbol results", r.body)
        r = s.request("GET", "/api/v1/search/stream?q=" + q("type:symbol open_"), token=bob)
        ok(r.status == 200 and b'"symbols":[' in r.body and b"open_helper" in r.body,
           "the stream carries symbol results", r.body[:800])
        r = s.request("GET", "/api/v1/symbols?q=" + q("type:path x"), token=bob)
        ok(r.status == 400 and r.json()["error"]["code"] == "bad_query",
           "type:path is refused: /api/v1/symbols searches symbols", r.body)
        r = s.request("GET", "/api/v1/symbols?q=" + q("select:symbol.nope x"), token=bob)
        ok(r.status == 400 and r.json()["error"].get("column") == 15,
           "a bad kind: 400 with the column", r.body)
        for bad in ("count=0", "count=x", "count=1000001"):
            r = s.request("GET", "/api/v1/symbols?q=x&" + bad, token=bob)
            ok(r.status == 400, "%s is refused" % bad, r.body)
        r = s.request("GET", "/api/v1/symbols?q=x")
        ok(r.status == 401, "anonymous: sign in first", r.body)
    finally:
        s.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-symsearch-")
    try:
        cli(tmp)
        server(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    done()


if __name__ == "__main__":
    main()
