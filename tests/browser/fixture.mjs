// The browser tests' data directory: three repositories indexed with the real binary.
//   alpha                    C, Python, Markdown: matches, context, syntax colours, permalinks
//                            (every repository but branchy is indexed with --symbols)
//   acme tools?#%41          a repository name that needs percent-encoding and quoting
//   xss"><img src=x ...>     hostile names and content (SECURITY-CHECKLIST X1, X2, X4)
//   branchy                  a git repository with branches main and dev (made with the git CLI)
import { mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';

export const XSS_REPO = 'xss"><img src=x onerror=alert(1)>';

const CONFIG_C = `#include <stdio.h>
/* parse the configuration file */
static int parse_config(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	fclose(f);
	return 0;
}

int main(void)
{
	return parse_config("/etc/alpha.conf");
}
`;

function longPython() {
  const lines = ['"""A long file for permalinks."""', ''];
  for (let i = 3; i <= 300; i++) lines.push(i === 150 ? 'NEEDLE = 150  # the needle' : `def f${i}(x):  return x + ${i}`);
  return lines.join('\n') + '\n';
}

// alpha's docs/README.md (browse.mjs): Markdown with every way to smuggle script in; each sets
// window.__readmeCanary if it ever runs. cmark drops it on the server, web/markdown.js again.
export const HOSTILE_README = `# Handbook <script>window.__readmeCanary = 1</script>

<script>window.__readmeCanary = 2</script>

<div onmouseover="window.__readmeCanary = 3"><img src=x onerror="window.__readmeCanary = 4"></div>

Links: [js](javascript:window.__readmeCanary=5) [guide](guide.md) [up](../src/config.c#L3)
[top](/README.md) [ext](https://example.com/) [mail](mailto:a@example.com)
<a href="javascript:window.__readmeCanary=6">raw</a> <img src=y onerror="window.__readmeCanary=7">

![logo](logo.png) ![remote](https://example.com/x.png) ![js](javascript:window.__readmeCanary=8)

- a **bold** item with \`code\`
`;

// [path, content (string or Buffer)]
export const XSS_FILES = [
  ['"><img src=x onerror=alert(1)>.c', 'int x; // "><img src=x onerror=alert(1)> xssmark\n'],
  ['x</script>.js', '</script><script>alert(1)</script> xssmark\nlet a = "<script>alert(2)</script>";\n'],
  ['<svg onload=alert(1)>.md', '<svg onload=alert(1)> xssmark\n[click](javascript:alert(1)) xssmark\n' +
    '<a href="javascript:alert(1)">x</a> xssmark\n'],
  ['page.html', '<!doctype html><script>alert(1)</script><img src=x onerror=alert(1)> xssmark\n'],
  ['image.svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>\n<!-- xssmark -->\n'],
  ['entities.txt', 'a &lt;script&gt;alert(1)&lt;/script&gt; xssmark\n'],
  // Symbols whose names hold HTML and control characters (ctags' Markdown headings): the outline.
  ['headings.md', '# <img src=x onerror=alert(1)> heading\n\n## \x1b[31mred</b>\n'],
  // Names with control characters, a backslash and percent signs: every byte is percent-encoded
  // in links and the API's path parameter, so they open like any other file.
  ['ctl\n\t\x1b[31m red.txt', 'control characters in the name xssmark\n'],
  ['back\\slash 100%25 %.txt', 'a backslash and percent signs in the name xssmark\n'],
  // Invalid UTF-8 (no NUL): each bad byte is one U+FFFD in the API's text, one byte in ranges.
  ['invalid.txt', Buffer.concat([Buffer.from('x'), Buffer.from([0xff, 0xfe]), Buffer.from('<b>'),
    Buffer.from([0xc3]), Buffer.from('(</b> fffdmark &lt;\n')])],
];

function write(root, files) {
  for (const [path, content] of files) {
    const p = join(root, path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}

// A git repository with two branches: shared.txt identical on both, f.txt different.
// -> {main: commit, dev: commit}
function buildBranchy(trawl, data, dir) {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@e', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  const git = (...args) => execFileSync('git', ['-c', 'init.defaultBranch=main', '-C', dir, ...args],
    { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
  mkdirSync(dir, { recursive: true });
  git('init', '-q');
  write(dir, [['shared.txt', 'branchmark shared\n'], ['f.txt', 'branchmark on main\n']]);
  git('add', '.');
  git('commit', '-qm', 'one');
  git('checkout', '-qb', 'dev');
  write(dir, [['f.txt', 'branchmark on dev\n']]);
  git('commit', '-qam', 'two');
  git('checkout', '-q', 'main');
  execFileSync(trawl, ['index', '-q', '-o', join(data, 'index'), dir, '--name', 'branchy', '--branch', 'main',
    '--branch', 'dev'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return { main: git('rev-parse', 'main'), dev: git('rev-parse', 'dev') };
}

// buildFixture(trawl, tmp) -> {data, repos: {name: dir}, commits: {main, dev} of branchy}
export function buildFixture(trawl, tmp) {
  const data = join(tmp, 'data');
  const src = join(tmp, 'src');
  const repos = {
    alpha: [
      ['src/config.c', CONFIG_C],
      ['src/long.py', longPython()],
      ['README.md', '# Alpha\n\nParse config files with parse_config.\n'],
      ['docs/README.md', HOSTILE_README],
      ['docs/guide.md', 'A guide.\n'],
      ['unicode.txt', 'é€😀 parse_config here\n'],
    ],
    'acme tools?#%41': [['cmd/tool.go', 'package main\n\nfunc main() { println("tool parse_config") }\n']],
    [XSS_REPO]: XSS_FILES,
  };
  const dirs = {};
  let i = 0;
  for (const [name, files] of Object.entries(repos)) {
    const dir = join(src, 'repo' + i++);
    write(dir, files);
    // With symbols (universal-ctags): go to definition, the outline and symbol suggestions.
    execFileSync(trawl, ['index', '-q', '--symbols', '-o', join(data, 'index'), dir, '--name', name], { stdio: ['ignore', 'pipe', 'pipe'] });
    dirs[name] = dir;
  }
  const commits = buildBranchy(trawl, data, join(src, 'branchy'));
  return { data, repos: dirs, commits };
}
