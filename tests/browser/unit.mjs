// Unit tests of the UI's pure modules (no browser): the query lexer, suggestions, byte ranges to
// string offsets, the code tokenizer, URLs and links.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from './tap.mjs';
import { lexQuery } from '../../web/query-lex.js';
import { suggest, quoteValue, repoTyped } from '../../web/suggest.js';
import { byteRangesToIndexes, columnToIndex, byteLength, markSegments } from '../../web/utf8.js';
import { tokenize, splitLines } from '../../web/highlight.js';
import {
  safeHref, fileHref, parseFileRoute, parseLineHash, formatLineHash, parseMatchLines, parseMatches, escapeRegexp,
  rawHref, searchHref, safeNext, signinHref, apiAudit, apiUser, apiRepoAccess,
} from '../../web/urls.js';
import { retryAfter } from '../../web/api.js';
import { randomPassword } from '../../web/forms.js';
import { LANGUAGES } from '../../web/languages.js';
import { setFields, getFields, loadFields } from '../../web/fields.js';
import { languagesModule } from './gen-languages.mjs';

const root = new URL('../../', import.meta.url);
const lex = (q) => lexQuery(q).filter((t) => t.type !== 'ws').map((t) => [t.type, q.slice(t.start, t.end)]);


// The filters and settings as GET /api/v1/filters gives them (query_fields_json(); the C test
// tests/unit/query/test_fields.c checks that list against the parser).
const FIELDS = [{"name":"repo","aliases":["r"],"kind":"filter","negatable":true,"description":"repository name (regexp)","values":[]},{"name":"file","aliases":["f","path"],"kind":"filter","negatable":true,"description":"file path (regexp)","values":[]},{"name":"lang","aliases":["l","language"],"kind":"filter","negatable":true,"description":"language","values":[]},{"name":"content","aliases":[],"kind":"filter","negatable":true,"description":"literal text, even if it looks like a filter","values":[]},{"name":"case","aliases":[],"kind":"setting","negatable":false,"description":"case-sensitive: yes or no","values":["yes","no"]},{"name":"type","aliases":[],"kind":"setting","negatable":false,"description":"file, path, repo or symbol","values":["file","path","repo","symbol"]},{"name":"count","aliases":[],"kind":"setting","negatable":false,"description":"how many results (or all)","values":["all","10","100","1000"]},{"name":"timeout","aliases":[],"kind":"setting","negatable":false,"description":"time limit, e.g. 5s","values":["5s","30s","60s"]},{"name":"select","aliases":[],"kind":"setting","negatable":false,"description":"repo, file, symbol or symbol.KIND","values":["repo","file","symbol","symbol.function"]},{"name":"rev","aliases":["revision"],"kind":"setting","negatable":false,"description":"revision (branch or tag)","values":[]},{"name":"patterntype","aliases":[],"kind":"setting","negatable":false,"description":"keyword, regexp or literal","values":["keyword","regexp","literal","standard"]}];
setFields(FIELDS);

test('fields: the list from the server, or nothing', async () => {
  assert.deepEqual(getFields().map((f) => f.name).slice(0, 4), ['repo', 'file', 'lang', 'content']);
  // Without the list (an older server, an error) nothing is suggested and no name is known.
  setFields(undefined);
  assert.equal(suggest('foo la', 6, {}), null);
  assert.deepEqual(lex('repo:x'), [['unknown', 'repo:'], ['value', 'x']]);
  await loadFields(async () => { throw new Error('404'); });
  assert.deepEqual(getFields(), []);
  // Malformed entries are dropped.
  setFields([{ name: 'Bad Name', kind: 'filter' }, { name: 'x', kind: 'other' }, null, FIELDS[0]]);
  assert.deepEqual(getFields().map((f) => f.name), ['repo']);
  await loadFields(async (url) => (url === '/api/v1/filters' ? { fields: FIELDS } : null));
  assert.equal(getFields().length, FIELDS.length);
});

test('lexer: filters, negated filters, settings and values', () => {
  assert.deepEqual(lex('repo:^a/b$ -file:_test\\.go$ lang:go case:yes fmt.Println'), [
    ['filter', 'repo:'], ['value', '^a/b$'], ['filter-neg', '-file:'], ['value', '_test\\.go$'],
    ['filter', 'lang:'], ['value', 'go'], ['setting', 'case:'], ['value', 'yes'], ['term', 'fmt.Println'],
  ]);
  assert.deepEqual(lex('Repo:x patternType:regexp count:all timeout:5s select:repo rev:main type:path content:"a b"'), [
    ['filter', 'Repo:'], ['value', 'x'], ['setting', 'patternType:'], ['value', 'regexp'], ['setting', 'count:'],
    ['value', 'all'], ['setting', 'timeout:'], ['value', '5s'], ['setting', 'select:'], ['value', 'repo'],
    ['setting', 'rev:'], ['value', 'main'], ['setting', 'type:'], ['value', 'path'], ['filter', 'content:'],
    ['value-quoted', '"a b"'],
  ]);
});

test('lexer: operators, parentheses, phrases, regexps', () => {
  assert.deepEqual(lex('(file:\\.c$ OR file:(src|lib)/) and NOT "a b" /x y/ foo()'), [
    ['paren', '('], ['filter', 'file:'], ['value', '\\.c$'], ['op', 'OR'], ['filter', 'file:'], ['value', '(src|lib)/'],
    ['paren', ')'], ['op', 'and'], ['op', 'NOT'], ['quoted', '"a b"'], ['regexp', '/x y/'], ['term', 'foo()'],
  ]);
  assert.deepEqual(lex("'it\\'s' \"say \\\"hi\\\"\""), [['quoted', "'it\\'s'"], ['quoted', '"say \\"hi\\""']]);
});

test('lexer: what is not a filter, phrase or regexp', () => {
  assert.deepEqual(lex('std::vector http://x default: ORACLE "foo "foo"bar /usr/lib // x[a:b]'), [
    ['term', 'std::vector'], ['term', 'http://x'], ['term', 'default:'], ['term', 'ORACLE'], ['term', '"foo'],
    ['term', '"foo"bar'], ['term', '/usr/lib'], ['term', '//'], ['term', 'x[a:b]'],
  ]);
  assert.deepEqual(lex('foo:bar fil:x'), [['unknown', 'foo:'], ['value', 'bar'], ['unknown', 'fil:'], ['value', 'x']]);
  assert.deepEqual(lex('patterntype:literal /a.b/'), [['setting', 'patterntype:'], ['value', 'literal'], ['term', '/a.b/']]);
  assert.deepEqual(lex('a)'), [['term', 'a'], ['paren', ')']]);
});

test('lexer: tokens cover the query exactly, in linear time', () => {
  for (const q of ['', ' ', 'a  b', '(((', '"\\', 'repo:', '-', '-x:', '\\ a', 'a\\', 'r:"x', '/a\\/b/ c']) {
    const toks = lexQuery(q);
    let at = 0;
    for (const t of toks) { assert.equal(t.start, at, q); assert.ok(t.end > t.start); at = t.end; }
    assert.equal(at, q.length, q);
  }
  const big = '"'.repeat(20000) + ' ' + '/'.repeat(20000) + ' ' + '('.repeat(20000);
  const t0 = Date.now();
  lexQuery(big);
  assert.ok(Date.now() - t0 < 5000, 'lexing 60k pathological characters took over 5 s');
});

test('suggest: filter names, negated filters', () => {
  const s = suggest('foo la', 6, {});
  assert.equal(s.from, 4);
  assert.deepEqual(s.items.map((i) => i.insert), ['lang:']);
  assert.equal(s.items[0].more, true);
  const r = suggest('-re', 3, {});
  assert.deepEqual(r.items.map((i) => i.insert), ['-repo:']);
  assert.deepEqual(suggest('c', 1, {}).items.map((i) => i.label), ['content:', 'case:', 'count:']);
  assert.equal(suggest('foo ', 4, {}), null);
  assert.equal(suggest('xyz', 3, {}), null);
});

test('suggest: languages, repositories, setting values', () => {
  const l = suggest('lang:py', 7, { languages: LANGUAGES });
  assert.equal(l.items[0].label, 'Python');
  assert.equal(l.items[0].insert, 'lang:Python ');
  const v = suggest('lang:visual', 11, { languages: LANGUAGES });
  assert.ok(v.items.some((i) => i.insert === 'lang:"Visual Basic 6.0" '), JSON.stringify(v.items));
  const golang = suggest('x l:golang', 10, { languages: LANGUAGES });
  assert.equal(golang.items[0].insert, 'l:Go ');
  const repos = ['github.com/acme/api', 'github.com/acme/web', 'other'];
  const rp = suggest('repo:acme/a foo', 11, { repos });
  assert.deepEqual(rp.items.map((i) => i.insert), ['repo:^github\\.com/acme/api$']);
  assert.equal(rp.to, 11);
  assert.deepEqual(suggest('case:', 5, {}).items.map((i) => i.label), ['yes', 'no']);
  assert.deepEqual(suggest('(type:p', 7, {}).items.map((i) => i.insert), ['type:path ']);
  assert.equal(suggest('case:yes', 8, {}), null);
  assert.equal(quoteValue('C++'), 'C++');
  assert.equal(quoteValue('a "b"'), '"a \\"b\\""');
});

test('repoTyped: the repository name a repo: value asks the server for', () => {
  assert.equal(repoTyped('repo:acme', 9), 'acme');
  assert.equal(repoTyped('x repo:acme/a foo', 13), 'acme/a');
  assert.equal(repoTyped('repo:', 5), '');
  assert.equal(repoTyped('-r:^github\\.com', 15), 'github.com');
  assert.equal(repoTyped('repo:"acme', 10), 'acme');
  assert.equal(repoTyped('(repo:ab)', 8), 'ab');
  assert.equal(repoTyped('repo:acme', 3), null, 'the caret in the filter name');
  assert.equal(repoTyped('lang:c', 6), null);
  assert.equal(repoTyped('acme', 4), null);
  assert.equal(repoTyped('repo:acme foo', 13), null);
  assert.equal(repoTyped('repo:a', 9), null, 'a caret past the end');
});

test('utf8: byte ranges to string offsets (ASCII, multi-byte, astral)', () => {
  assert.deepEqual(byteRangesToIndexes('hello world', [[6, 11]]), [[6, 11]]);
  // "é" is 2 bytes, "€" 3, "😀" 4 bytes and 2 UTF-16 units.
  const t = 'é€😀x';
  assert.equal(byteLength(t), 10);
  assert.deepEqual(byteRangesToIndexes(t, [[9, 10]]), [[4, 5]]);
  assert.deepEqual(byteRangesToIndexes(t, [[5, 9]]), [[2, 4]]);
  assert.deepEqual(byteRangesToIndexes(t, [[0, 2], [2, 5]]), [[0, 2]]); // merged
  // A range that ends inside a character is widened to the whole character, never splitting a pair.
  assert.deepEqual(byteRangesToIndexes(t, [[6, 7]]), [[2, 4]]);
  assert.deepEqual(byteRangesToIndexes(t, [[3, 3]]), []);
  // Out-of-range ends are clamped, malformed ranges ignored.
  assert.deepEqual(byteRangesToIndexes('abc', [[1, 99], 'junk', [2, 1]]), [[1, 3]]);
});

test('utf8: U+FFFD replacing invalid bytes, and genuine U+FFFD', () => {
  // Bytes "a\xff<b": the server sends "a\ufffd<b"; a match of "<b" is bytes [2,4).
  assert.deepEqual(byteRangesToIndexes('a\ufffd<b', [[2, 4]]), [[2, 4]]);
  // Two bad bytes, then "&lt;" split by a match of "&l".
  assert.deepEqual(byteRangesToIndexes('\ufffd\ufffd&lt;', [[2, 4]]), [[2, 4]]);
  // A real U+FFFD (3 bytes) followed by "xy": the range [3,5) reaches past the 1-byte count (3).
  assert.deepEqual(byteRangesToIndexes('\ufffdxy', [[3, 5]]), [[1, 3]]);
  assert.equal(columnToIndex('é x', 3), 2);
  assert.equal(columnToIndex('😀é foo', 4), 4);
  assert.equal(columnToIndex('abc', 10), 3);
  assert.equal(columnToIndex('abc', 1), 0);
  assert.deepEqual(markSegments('a<b>c', [[1, 4]], 'hl'), [['a', null], ['<b>', 'hl'], ['c', null]]);
});

test('highlight: comments, strings, keywords, numbers per language', () => {
  const cls = (text, lang) => tokenize(text, lang).map(([s, e, c]) => [c, text.slice(s, e)]);
  assert.deepEqual(cls('#include <x.h>\nint a = 0x1f; // hi\n/* c */ "s\\"t"', 'C'), [
    ['tok-meta', '#include'], ['tok-keyword', 'int'], ['tok-number', '0x1f'], ['tok-comment', '// hi'],
    ['tok-comment', '/* c */'], ['tok-string', '"s\\"t"'],
  ]);
  assert.deepEqual(cls('def f(x):\n    """doc\nmore"""  # c\n    return 1.5', 'Python'), [
    ['tok-keyword', 'def'], ['tok-string', '"""doc\nmore"""'], ['tok-comment', '# c'], ['tok-keyword', 'return'],
    ['tok-number', '1.5'],
  ]);
  assert.deepEqual(cls("fn f<'a>(c: char) { let x = 'y'; }", 'Rust'), [
    ['tok-keyword', 'fn'], ['tok-keyword', 'char'], ['tok-keyword', 'let'], ['tok-string', "'y'"],
  ]);
  assert.deepEqual(cls('echo "$#" a#b # c', 'Shell'), [['tok-keyword', 'echo'], ['tok-string', '"$#"'], ['tok-comment', '# c']]);
  assert.deepEqual(cls('func f() { s := `a\nb` }', 'Go'), [['tok-keyword', 'func'], ['tok-string', '`a\nb`']]);
  assert.deepEqual(cls('const s = `x`; x.if', 'TypeScript'), [['tok-keyword', 'const'], ['tok-string', '`x`']]);
  assert.deepEqual(tokenize('# Title\nint x', 'Markdown'), []);
  assert.deepEqual(tokenize('int x', ''), []);
});

test('highlight: unclosed constructs and pathological input stay linear', () => {
  const n = 200000;
  for (const text of ['/*'.repeat(n), '"'.repeat(n), '\\'.repeat(n), "'".repeat(n), '1'.repeat(n), 'a'.repeat(n)]) {
    const t0 = Date.now();
    const toks = tokenize(text, 'C');
    assert.ok(Date.now() - t0 < 5000, 'tokenizing ' + text.slice(0, 4) + '... took over 5 s');
    for (let i = 1; i < toks.length; i++) assert.ok(toks[i][0] >= toks[i - 1][1]);
  }
  for (const lang of ['Python', 'Rust', 'Go', 'JavaScript', 'Shell', 'Java']) {
    tokenize('"""\'\'\'`/*#' + '"\''.repeat(1000), lang);
  }
});

test('highlight: splitLines cuts tokens at line ends and keeps every character', () => {
  const text = 'a /* x\ny */ b\r\n"s"\n';
  const lines = splitLines(text, tokenize(text, 'C'));
  assert.deepEqual(lines, [
    [['a ', null], ['/* x', 'tok-comment']],
    [['y */', 'tok-comment'], [' b', null]],
    [['"s"', 'tok-string']],
  ]);
  assert.deepEqual(splitLines('', []), [[]]);
  assert.deepEqual(splitLines('x', []), [[['x', null]]]);
  assert.deepEqual(splitLines('\n\n', []), [[], []]);
});

test('urls: safeHref allows only same-origin paths, fragments and http(s)', () => {
  for (const good of ['/search?q=x', '#L3', 'https://example.com/x', 'HTTP://example.com']) assert.equal(safeHref(good), good);
  for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)',
    'data:text/html,x', 'vbscript:x', '//evil.example/x', '/\\evil.example', 'x/y', 'https:evil', '', null, 42,
    'javascript\n:alert(1)', 'https://a\u0000b']) {
    assert.equal(safeHref(bad), null, String(bad));
  }
});

test('urls: file links round-trip repository names with slashes and odd paths', () => {
  const cases = [
    ['github.com/acme/api', 'src/main.go'], ['x', 'a b/#?%.c'], ['r', '"><img src=x onerror=alert(1)>.c'],
    ['r', 'dir/<script>alert(1)</script>'], ['ünï', 'ü/ç.txt'],
  ];
  for (const [repo, path] of cases) {
    const href = fileHref(repo, path, { rev: 'main', matches: [3, 7], line: 3 });
    assert.ok(safeHref(href), href);
    const u = new URL(href, 'http://h');
    assert.deepEqual(parseFileRoute(u.pathname), { repo, path });
    assert.equal(u.searchParams.get('rev'), 'main');
    assert.deepEqual(parseMatchLines(u.searchParams.get('m')), [3, 7]);
    assert.equal(u.hash, '#L3');
    assert.ok(!/[<>"]/.test(href), href);
  }
  assert.equal(parseFileRoute('/file/%E0%A4%A/x'), null);
  assert.equal(parseFileRoute('/file/repo'), null);
  assert.equal(rawHref('a/b', 'c d', 'v1'), '/api/v1/repos/a%2Fb/raw?rev=v1&path=c+d');
  assert.equal(searchHref('a b&c'), '/search?q=a+b%26c');
});

test('urls: line permalinks', () => {
  assert.deepEqual(parseLineHash('#L10'), { start: 10, end: 10 });
  assert.deepEqual(parseLineHash('#L10-L20'), { start: 10, end: 20 });
  assert.deepEqual(parseLineHash('#L20-10'), { start: 10, end: 20 });
  for (const bad of ['', '#', '#L0', '#Lx', '#L1-', '#L1-L2-L3', '#l3', '#L9999999999']) assert.equal(parseLineHash(bad), null, bad);
  assert.equal(formatLineHash(3, 3), '#L3');
  assert.equal(formatLineHash(3, 5), '#L3-L5');
  assert.deepEqual(parseMatchLines('1,x,0,5,'), [1, 5]);
  assert.deepEqual(parseMatches('3:4-9.12-15,7,x:1-2,8:5-5,9:1-2.3'), [
    { line: 3, ranges: [[4, 9], [12, 15]] }, { line: 7, ranges: [] }, { line: 8, ranges: [] }]);
  const withRanges = new URL(fileHref('r', 'p', { matches: [{ line: 3, ranges: [[4, 9], [12, 15]] }, 7] }), 'http://h');
  assert.equal(withRanges.searchParams.get('m'), '3:4-9.12-15,7');
  assert.deepEqual(parseMatchLines(withRanges.searchParams.get('m')), [3, 7]);
  assert.equal(escapeRegexp('a.b+c(d)/e'), 'a\\.b\\+c\\(d\\)/e');
});

test('urls: after sign-in, only a path of this UI (no open redirect)', () => {
  for (const ok of ['/', '/search?q=a%20b', '/file/alpha/src/x.c?m=3#L3', '/admin/users', '/repos']) {
    assert.equal(safeNext(ok), ok, ok);
  }
  for (const bad of ['https://evil.example/', 'http:/evil.example', '//evil.example', '/\\evil.example', '/\tevil',
    '/\n/evil.example', ' /x', 'javascript:alert(1)', 'evil.example', '', null, undefined, 42, '/api/v1/me',
    '/api', '/account/signin', '/account/signin?next=//evil.example', '/x\\y', '/' + 'a'.repeat(5000)]) {
    assert.equal(safeNext(bad), '/', JSON.stringify(bad));
  }
  assert.equal(signinHref('/search?q=a%20b&x=1'), '/account/signin?next=%2Fsearch%3Fq%3Da%2520b%26x%3D1');
  assert.equal(new URLSearchParams(signinHref('/search?q=a%20b&x=1').split('?')[1]).get('next'), '/search?q=a%20b&x=1');
  assert.equal(signinHref('//evil.example'), '/account/signin');
  assert.equal(signinHref('/'), '/account/signin');
});

test('urls and api: account routes, audit filters, Retry-After', () => {
  assert.equal(apiUser('a/b?c'), '/api/v1/users/a%2Fb%3Fc');
  assert.equal(apiUser('bob', 'password'), '/api/v1/users/bob/password');
  assert.equal(apiRepoAccess('acme tools?#%41'), '/api/v1/repos/acme%20tools%3F%23%2541/access');
  assert.equal(apiAudit({ user: 'bob&x=1', event: '', limit: 50 }), '/api/v1/audit?user=bob%26x%3D1&limit=50');
  assert.equal(retryAfter('30'), 30);
  for (const bad of [null, '', '-1', '1.5', 'Wed, 21 Oct 2015 07:28:00 GMT', '1e3']) assert.equal(retryAfter(bad), null, String(bad));
});

test('forms: generated passwords are 20 random characters of an unambiguous alphabet', () => {
  const seen = new Set();
  for (let i = 0; i < 50; i++) {
    const p = randomPassword();
    assert.match(p, /^[A-HJ-NP-Za-km-z2-9]{20}$/);
    seen.add(p);
  }
  assert.equal(seen.size, 50);
});

test('languages.js is generated from docs/languages.md', () => {
  const md = readFileSync(new URL('docs/languages.md', root), 'utf8');
  assert.equal(readFileSync(new URL('web/languages.js', root), 'utf8'), languagesModule(md),
    'web/languages.js is out of date: run node tests/browser/gen-languages.mjs');
  assert.ok(LANGUAGES.length > 200);
  assert.ok(LANGUAGES.some(([n, a]) => n === 'C++' && a.includes('cpp')));
});
