#!/usr/bin/env python3
"""GET /api/v1/repos/{name}/readme (docs/api.md, "README") and the HTML 404 page of unknown UI
routes (docs/ui.md, "Not found"). A README.md full of script (raw HTML blocks and inline tags,
event handlers, javascript:, vbscript: and data: links and images) renders inert through cmark's
safe mode; README names are found without case and in their order of preference; a plain README
comes back as text; one over its bound is cut at a line and says so; a README.md with more
brackets than the bound (cmark's quadratic case) is shown as text; a directory without one says
null; an unknown directory, revision or repository is a 404. An unknown page asked for by a
browser is index.html with status 404; the API and scripts keep the JSON 404.

    python3 tests/e2e/test_readme.py
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402
from serverlib import TRAWL, cleanup, done, ok  # noqa: E402
from teamlib import write_tree  # noqa: E402

HOSTILE = """# Title <em>x</em>

<script>window.canary = 1</script>

<div onclick="alert(1)">block of raw HTML</div>

Inline <img src=x onerror=alert(1)> and <a href="javascript:alert(1)">a</a>.

[js](javascript:alert(1)) [JS](JaVaScRiPt:alert(1)) [vb](vbscript:msgbox(1))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
![img](javascript:alert(1)) [rel](docs/guide.md) [abs](https://example.com/x)

```html
<script>alert(2)</script>
```
"""


def main():
    tmp = tempfile.mkdtemp(prefix="trawl-readme-")
    s = None
    try:
        src = os.path.join(tmp, "src")
        big = "".join("line %06d of a long readme\n" % i for i in range(40000))  # ~1.1 MiB
        write_tree(src, {
            "README.md": HOSTILE,
            "readme.txt": "the text one loses to README.md\n",
            "docs/README": "plain <b>text</b> readme\n",
            "docs/guide.md": "guide\n",
            "sub/ReadMe.markdown": "*emphasis*\n",
            "sub/deeper/x.c": "int x;\n",
            "none/x.c": "int y;\n",
            "big/README.md": big,
            # cmark 0.30.2's quadratic case (CVE-2023-22486): over the bracket bound, and just under.
            "evil/README.md": "![[]()" * ((1 << 20) // 6),
            "evil2/README.md": "![[]()" * (16384 // 3 - 1),
        })
        data = os.path.join(tmp, "data")
        subprocess.run([TRAWL, "index", "-q", "-o", os.path.join(data, "index"), src, "--name", "proj",
                        "--max-file-size", "4M"],
                       check=True)
        s = serverlib.Server(data)

        def get(path, headers=None):
            st, h, body, _ = serverlib.request(s.port, "GET", path, headers=headers)
            return st, h, body

        def readme(query=""):
            st, h, body = get("/api/v1/repos/proj/readme" + query)
            return st, h, json.loads(body)

        st, h, r = readme()
        html = r.get("html") or ""
        ok(st == 200 and r["path"] == "README.md" and r["format"] == "markdown" and
           r["truncated"] is False and r["text"] is None and r["repo"] == "proj",
           "root: README.md, preferred to readme.txt, rendered as Markdown", r)
        ok("<h1>Title" in html and "<em>x</em>" not in html and "<pre><code class=\"language-html\">"
           "&lt;script&gt;alert(2)&lt;/script&gt;" in html, "Markdown rendered; raw inline HTML and "
           "code blocks are not markup", html)
        low = html.lower()
        ok("<script" not in low and "<div" not in low and "<img src=\"x\"" not in low and
           "onerror" not in low and "onclick" not in low,
           "raw HTML blocks, inline tags and event handlers never reach the HTML", html)
        hrefs = re.findall(r'(?:href|src)="([^"]*)"', html)
        ok(all(not re.match(r"(?i)\s*(javascript|vbscript|data):", u) for u in hrefs) and
           'href="docs/guide.md"' in html and 'href="https://example.com/x"' in html and
           hrefs.count("") >= 5,
           "javascript:, vbscript: and data: URLs are emptied; relative and https links kept", hrefs)
        ok(h.get("content-type", "").startswith("application/json"), "readme: JSON", h)

        st, h, r = readme("?path=docs")
        ok(st == 200 and r["path"] == "docs/README" and r["format"] == "text" and r["html"] is None
           and r["text"] == "plain <b>text</b> readme\n", "a README without extension: text", r)
        st, h, r = readme("?path=sub")
        ok(st == 200 and r["path"] == "sub/ReadMe.markdown" and "<em>emphasis</em>" in r["html"],
           "README.markdown found without case", r)
        st, h, r = readme("?path=none")
        ok(st == 200 and r["path"] is None and r["html"] is None and r["text"] is None,
           "a directory without a README: path null", r)
        st, h, r = readme("?path=sub/deeper")
        ok(st == 200 and r["path"] is None, "a directory of only files below: path null", r)
        st, h, r = readme("?path=big")
        ok(st == 200 and r["truncated"] is True and "line 000000" in r["html"] and
           "line 039999" not in r["html"] and r["html"].rstrip().endswith("long readme</p>"),
           "over the bound (256 KiB for Markdown): cut at a line, truncated", r.get("truncated"), r.get("html", "")[-200:])
        t0 = time.monotonic()
        st, h, r = readme("?path=evil")
        took = time.monotonic() - t0
        ok(st == 200 and r["format"] == "text" and r["truncated"] is True and took < 5,
           "1 MiB of cmark's quadratic case: more brackets than the bound, shown as text (%.2f s)"
           % took, st, r.get("format"))
        t0 = time.monotonic()
        st, h, r = readme("?path=evil2")
        took = time.monotonic() - t0
        ok(st == 200 and r["format"] == "markdown" and took < 10,
           "the quadratic case just under the bracket bound renders in bounded time (%.2f s)" % took,
           st, r.get("format"))
        for q, what in (("?path=nope", "unknown directory"), ("?path=README.md", "a file"),
                        ("?rev=nope", "unknown revision")):
            st, h, r = readme(q)
            ok(st == 404 and r["error"]["code"] == "not_found", "readme: %s is a 404" % what, st, r)
        st, h, body = get("/api/v1/repos/nope/readme")
        ok(st == 404, "readme: unknown repository 404", st)
        st, h, body = get("/api/v1/repos/proj/readme?path=../x")
        ok(st == 400, "readme: a path with .. is a 400", st, body)

        # The HTML 404 page.
        browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
        st, h, body = get("/nope", browser)
        ok(st == 404 and h.get("content-type", "").startswith("text/html") and b"/app.js" in body
           and "Accept" in h.get("vary", ""), "an unknown page for a browser: index.html, 404",
           st, h, body[:200])
        ok("default-src 'self'" in h.get("content-security-policy", ""), "the 404 page has the CSP", h)
        st, h, body = get("/nope/deeper.html", browser)
        ok(st == 404 and b"/app.js" in body, "any unknown path for a browser: the 404 page", st)
        st, h, body = get("/nope")
        ok(st == 404 and json.loads(body)["error"]["code"] == "not_found",
           "an unknown path without Accept: text/html keeps the JSON 404", body)
        st, h, body = get("/nope.js", {"Accept": "*/*"})
        ok(st == 404 and json.loads(body)["error"]["code"] == "not_found", "a script's 404: JSON", body)
        st, h, body = get("/api/v1/nope", browser)
        ok(st == 404 and json.loads(body)["error"]["code"] == "not_found",
           "/api/ stays JSON for a browser too", body)
        st, h, body = get("/app.js", browser)
        ok(st == 200, "assets are still served", st)
        ok(s.stop() == 0, "the server stops cleanly")
    finally:
        cleanup(s, tmp)
    done()


if __name__ == "__main__":
    main()
