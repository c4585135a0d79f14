// Browser tests of the web UI against a running `trawl serve` (main.mjs starts it on the
// fixture of fixture.mjs, and registers these tests once for Chromium and once for Firefox):
// search, streaming, highlighting, file view, permalinks, errors, URL state, the "/" shortcut,
// narrow screens, and the XSS fixture (SECURITY-CHECKLIST X1, X2, X4).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test as tapTest } from './tap.mjs';
import { XSS_FILES, XSS_REPO } from './fixture.mjs';
import { axeViolations, injected, openPage } from './page.mjs';
import { fileHref, rawHref, searchHref } from '../../web/urls.js';

// A query the server rejects answers the stream with HTTP 400: Chromium logs the failed load,
// Firefox that EventSource could not connect. The UI then asks the JSON endpoint (search-view.js).
const STREAM_400 = /status of 400|can.t establish a connection to the server at \S+\/api\/v1\/search\/stream\?/;

// ctx: {name, base, browser, artifacts, commits}; name ("chromium", "firefox") prefixes each
// test's name and screenshot, since main.mjs registers these tests once per browser, and is the
// tests' lane: one browser's tests run in order, alongside the other browser's.
export function browserTests(ctx) {
  const test = (name, fn) => tapTest(`${ctx.name}: ${name}`, fn, ctx.name);
  let shot = 0;
  const screenshot = (page, name) =>
    page.screenshot({ path: join(ctx.artifacts, `${ctx.name}-${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true });

  const open = (viewport, allow) => openPage(ctx.browser, viewport, allow);

  const url = (path) => ctx.base + path;
  async function search(page, q) {
    await page.goto(url(searchHref(q)));
    await page.waitForSelector('.status .summary, .qerror:not([hidden])');
  }
  const texts = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent));
  const lineNums = (page, sel) => page.$$eval(sel, (els) => els.map((e) => Number(e.querySelector('.ln').dataset.n)));

  test('the UI is served with a strict CSP and loads without errors', async () => {
    const { page, close } = await open();
    const res = await page.goto(url('/'));
    assert.equal(res.status(), 200);
    const csp = res.headers()['content-security-policy'] || '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /object-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    await page.waitForSelector('.help');
    assert.deepEqual(await injected(page), []);
    for (const p of ['/app.js', '/style.css']) {
      const r = await page.request.get(url(p));
      assert.equal(r.status(), 200, p);
      assert.match(r.headers()['content-type'] || '', p.endsWith('.js') ? /javascript/ : /text\/css/, p);
    }
    await close();
  });

  // The checks of every other test rest on this: a CSP violation reaches `problems` (Chromium
  // reports it on the console, Firefox as a page error), and PLAYWRIGHT_STYLE lets through
  // nothing but playwright-core's own style.
  test('an inline style or script is blocked by the CSP and reported to the test', async () => {
    const { page, problems, close } = await open();
    await page.goto(url('/'));
    await page.waitForSelector('.help');
    await page.evaluate(() => {
      const style = document.createElement('style');
      style.textContent = 'body { color: red; }';
      document.head.append(style);
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true;';
      document.head.append(script);
    });
    for (let i = 0; i < 40 && problems.length < 2; i++) await sleep(50); // reports come asynchronously
    assert.equal(await page.evaluate(() => window.inlineRan), undefined, 'the inline script ran');
    assert.notEqual(await page.evaluate(() => getComputedStyle(document.body).color), 'rgb(255, 0, 0)', 'the inline style applied');
    assert.equal(problems.filter((p) => /style-src/.test(p)).length, 1, JSON.stringify(problems));
    assert.equal(problems.filter((p) => /script-src/.test(p)).length, 1, JSON.stringify(problems));
    problems.length = 0;
    await close();
  });

  test('"/" focuses the query box from anywhere on the page', async () => {
    const { page, close } = await open();
    await page.goto(url('/repos'));
    await page.waitForSelector('.repo');
    await page.click('h1');
    assert.equal(await page.evaluate(() => document.activeElement.className), '');
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'qinput');
    assert.equal(await page.inputValue('.qinput'), '', 'the "/" was not typed into the box');
    await page.keyboard.type('abc/');
    assert.equal(await page.inputValue('.qinput'), 'abc/', 'inside the box "/" is an ordinary character');
    await close();
  });

  test('what is typed while the page loads is kept when the first page is shown', async () => {
    const { page, close } = await open();
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    // Hold the session request: the app shows its first page only once it has the answer.
    await page.route('**/api/v1/me', async (r) => { await held; await r.continue(); });
    await page.goto(url('/'));
    await page.click('.qinput');
    await page.keyboard.type('repo:alpha');
    release();
    await page.waitForSelector('.help');
    assert.equal(await page.inputValue('.qinput'), 'repo:alpha');
    await page.unroute('**/api/v1/me');
    await close();
  });

  test('the query box colours filters, operators, phrases and regexps', async () => {
    const { page, close } = await open();
    await page.goto(url('/'));
    const q = 'repo:alpha -file:test (lang:c OR lang:go) "parse config" /pa.se/ count:10 foo:bar';
    await page.click('.qinput');
    await page.keyboard.type(q);
    const spans = await page.$$eval('.qhl span', (els) => els.map((e) => [e.className, e.textContent]));
    for (const want of [['q-filter', 'repo:'], ['q-value', 'alpha'], ['q-filter-neg', '-file:'], ['q-paren', '('],
      ['q-op', 'OR'], ['q-quoted', '"parse config"'], ['q-regexp', '/pa.se/'], ['q-setting', 'count:'],
      ['q-value', '10'], ['q-unknown', 'foo:']]) {
      assert.ok(spans.some(([c, t]) => c === want[0] && t === want[1]), `no ${want} in ${JSON.stringify(spans)}`);
    }
    // The coloured copy holds exactly the typed text, and lies exactly under the textarea.
    assert.equal(await page.$eval('.qhl', (e) => e.textContent), q + ' ');
    const [a, b] = await Promise.all(['.qhl', '.qinput'].map((s) => page.$eval(s, (e) => {
      const r = e.getBoundingClientRect();
      return [r.left, r.top, r.width, r.height];
    })));
    assert.deepEqual(a, b);
    await page.keyboard.press('Escape');
    await screenshot(page, 'query-box');
    await close();
  });

  test('suggestions complete filter names, languages and repository names', async () => {
    const { page, close } = await open();
    await page.goto(url('/'));
    await page.click('.qinput');
    await page.keyboard.type('la');
    await page.waitForSelector('.qsuggest li');
    assert.deepEqual(await texts(page, '.qsuggest li .label'), ['lang:']);
    await page.keyboard.press('Tab');
    assert.equal(await page.inputValue('.qinput'), 'lang:');
    await page.keyboard.type('pyt');
    await page.waitForFunction(() => document.querySelector('.qsuggest li .label')?.textContent === 'Python');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    assert.equal(await page.inputValue('.qinput'), 'lang:Python ');
    assert.ok(await page.$eval('.qsuggest', (e) => e.hidden));
    const asked = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/v1/repos') asked.push(new URL(r.url()).search);
    });
    await page.keyboard.type('repo:acme');
    await page.waitForFunction(() => [...document.querySelectorAll('.qsuggest li .label')].some((e) => e.textContent === 'acme tools?#%41'));
    // Names come from the server's list by what is typed: the first answer held them all.
    assert.deepEqual(asked, ['?limit=200&q=']);
    await screenshot(page, 'suggestions');
    await page.keyboard.press('Tab');
    assert.equal(await page.inputValue('.qinput'), 'lang:Python repo:"^acme tools\\\\?#%41$" ');
    await close();
  });

  test('a search streams results with highlighted matches, context and a summary', async () => {
    const { page, close } = await open();
    await page.goto(url('/'));
    await page.click('.qinput');
    await page.keyboard.type('parse_config lang:c');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.status .summary');
    assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/search?q=parse_config+lang%3Ac');
    assert.deepEqual(await texts(page, '.result .rpath'), ['src/config.c']);
    assert.deepEqual(await texts(page, '.result .rrepo'), ['alpha']);
    assert.deepEqual(await texts(page, '.result .hl'), ['parse_config', 'parse_config']);
    assert.deepEqual(await lineNums(page, '.snippet .cl.match'), [3, 14]);
    assert.deepEqual(await lineNums(page, '.snippet .cl:not(.match)'), [1, 2, 4, 5, 12, 13, 15]);
    assert.equal((await page.$$('.snippet .gap')).length, 1);
    assert.match(await page.textContent('.status .summary'), /^2 matches in 1 file · [\d.]+ ms · \d+\/\d+ shards$/);
    assert.equal(await page.textContent('.snippet .cl.match .lc'), 'static int parse_config(const char *path)');
    await screenshot(page, 'search-results');
    await close();
  });

  test('alerts from the server and limits hit are shown', async () => {
    const { page, close } = await open();
    await search(page, 'parse_config rev:nosuch');
    assert.match((await texts(page, '.alerts .alert')).join('\n'), /revision "nosuch" is not indexed/);
    await search(page, 'parse_config count:1');
    assert.match(await page.textContent('.status'), /limit hit/);
    assert.equal((await page.$$('.snippet .cl.match')).length, 1);
    await close();
  });

  test('the URL holds the query; reload, back and forward restore it', async () => {
    const { page, close } = await open();
    await search(page, 'parse_config');
    const first = await texts(page, '.result .rpath');
    assert.deepEqual([...first].sort(), ['README.md', 'cmd/tool.go', 'src/config.c', 'unicode.txt']);
    assert.equal(await page.inputValue('.qinput'), 'parse_config');
    await page.reload();
    await page.waitForSelector('.status .summary');
    assert.equal(await page.inputValue('.qinput'), 'parse_config');
    assert.deepEqual((await texts(page, '.result .rpath')).sort(), [...first].sort());
    await page.fill('.qinput', 'NEEDLE case:yes');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.search === '?q=NEEDLE+case%3Ayes' && document.querySelector('.status .summary'));
    assert.deepEqual(await texts(page, '.result .rpath'), ['src/long.py']);
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('.qinput').value === 'parse_config' && document.querySelector('.status .summary'));
    assert.equal((await texts(page, '.result .rpath')).length, 4);
    await page.goForward();
    await page.waitForFunction(() => document.querySelector('.qinput').value === 'NEEDLE case:yes' && document.querySelector('.status .summary'));
    assert.equal(await page.title(), 'NEEDLE case:yes · trawl');
    await close();
  });

  test('a result opens the file view with line numbers, colours and the matched lines', async () => {
    const { page, close } = await open();
    await search(page, 'parse_config lang:c');
    await page.click('.result .rpath');
    await page.waitForSelector('.code .cl');
    const u = new URL(page.url());
    assert.equal(u.pathname, '/file/alpha/src/config.c');
    assert.equal(u.searchParams.get('m'), '3:11-23,14:8-20'); // the lines and the bytes matched in each
    assert.equal((await page.$$('.code .cl')).length, 15);
    assert.deepEqual(await lineNums(page, '.code .cl.match'), [3, 14]);
    const kw = await texts(page, '.code .tok-keyword');
    for (const k of ['static', 'int', 'const', 'char', 'return', 'if', 'void']) assert.ok(kw.includes(k), k);
    assert.deepEqual(await texts(page, '.code .tok-meta'), ['#include']);
    assert.deepEqual(await texts(page, '.code .tok-comment'), ['/* parse the configuration file */']);
    assert.ok((await texts(page, '.code .tok-string')).includes('"/etc/alpha.conf"'));
    assert.equal(await page.$eval('.code .cl:nth-child(5) .lc', (e) => e.textContent), '\tFILE *f = fopen(path, "r");');
    assert.equal(await page.textContent('.fpath'), 'alpha › src › config.c');
    const raw = await page.getAttribute('.fraw', 'href');
    assert.ok(raw.startsWith('/api/v1/repos/alpha/raw?'), raw);
    const body = await page.request.get(url(raw));
    assert.equal(await body.text(), await (await page.request.get(url('/api/v1/repos/alpha/raw?path=src%2Fconfig.c'))).text());
    assert.match(await body.text(), /^#include <stdio.h>\n/);
    await screenshot(page, 'file-view');
    await close();
  });

  test('a permalink #L3-L5 selects and scrolls; clicking line numbers sets one', async () => {
    const { page, close } = await open({ width: 1280, height: 600 });
    await page.goto(url('/file/alpha/src/long.py#L3-L5'));
    await page.waitForSelector('.code .cl.sel');
    assert.deepEqual(await lineNums(page, '.code .cl.sel'), [3, 4, 5]);
    const inView = (n) => page.evaluate((n) => {
      const r = document.querySelectorAll('.code .cl')[n - 1].getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight;
    }, n);
    // Same document, another fragment: the selection follows the hash.
    await page.goto(url('/file/alpha/src/long.py#L150-L152'));
    await page.waitForFunction(() => document.querySelector('.code .cl.sel .ln').dataset.n === '150');
    assert.deepEqual(await lineNums(page, '.code .cl.sel'), [150, 151, 152]);
    assert.ok(await inView(150), 'line 150 is scrolled into view');
    assert.ok(await page.evaluate(() => scrollY > 0));
    await screenshot(page, 'permalink');
    await page.click('.code .cl:nth-child(148) .ln');
    assert.equal(new URL(page.url()).hash, '#L148');
    assert.deepEqual(await lineNums(page, '.code .cl.sel'), [148]);
    await page.click('.code .cl:nth-child(155) .ln', { modifiers: ['Shift'] });
    assert.equal(new URL(page.url()).hash, '#L148-L155');
    assert.deepEqual(await lineNums(page, '.code .cl.sel'), [148, 149, 150, 151, 152, 153, 154, 155]);
    await page.reload();
    await page.waitForSelector('.code .cl.sel');
    assert.equal((await lineNums(page, '.code .cl.sel')).length, 8);
    // A fresh load (not only a fragment change) scrolls too.
    await page.goto(url('/repos'));
    await page.goto(url('/file/alpha/src/long.py#L200'));
    await page.waitForSelector('.code .cl.sel');
    assert.ok(await inView(200), 'line 200 is in view after loading its permalink');
    await page.goBack();
    await page.waitForSelector('.repo');
    await page.goForward();
    await page.waitForSelector('.code .cl.sel');
    assert.ok(await inView(200), 'line 200 is in view after back and forward');
    // Changing only the hash (a link elsewhere, or the address bar) moves the selection.
    await page.evaluate(() => { location.hash = '#L3'; });
    await page.waitForFunction(() => document.querySelectorAll('.code .cl.sel').length === 1);
    assert.deepEqual(await lineNums(page, '.code .cl.sel'), [3]);
    assert.ok(await inView(3));
    await close();
  });

  test('a query error is shown with a caret at its column (in characters)', async () => {
    // The stream or the JSON endpoint may answer a bad query with HTTP 400, which the browser logs.
    const { page, close } = await open(undefined, STREAM_400);
    await search(page, 'parse lang:pyhton');
    await page.waitForSelector('.qerror:not([hidden])');
    assert.match(await page.textContent('.qerror-msg'), /^Query error: unknown language "pyhton"; did you mean "Python"\?$/);
    assert.equal(await page.textContent('.qerror .caret'), ' '.repeat(11) + '^');
    assert.equal(await page.textContent('.qerror .qerror-at'), 'p');
    assert.deepEqual(await texts(page, '.qhl .q-errpos'), ['p']);
    assert.equal((await page.$$('.result')).length, 0);
    await screenshot(page, 'query-error');
    // Columns count characters: "foo" is at column 4 (byte 7, UTF-16 index 4).
    await search(page, '😀é foo:bar');
    await page.waitForSelector('.qerror:not([hidden])');
    assert.match(await page.textContent('.qerror-msg'), /unknown filter "foo"/);
    assert.equal(await page.textContent('.qerror .caret'), '   ^');
    assert.equal(await page.textContent('.qerror .qerror-at'), 'f');
    assert.deepEqual(await texts(page, '.qhl .q-errpos'), ['f']);
    // Typing clears the mark.
    await page.click('.qinput');
    await page.keyboard.press('End');
    await page.keyboard.type('x');
    assert.deepEqual(await texts(page, '.qhl .q-errpos'), []);
    await close();
  });

  test('the repository list shows each repository, its state and files', async () => {
    const { page, close } = await open();
    await page.goto(url('/repos'));
    await page.waitForSelector('.repo');
    assert.deepEqual((await texts(page, '.repo h2')).sort(), ['acme tools?#%41', 'alpha', 'branchy', XSS_REPO].sort());
    for (const s of await texts(page, '.repo .state')) assert.match(s, /^(new|syncing|indexed|error)$/);
    assert.deepEqual(await injected(page), []);
    // The name leads to the repository's page; "Search in NAME" to its search.
    assert.equal(await page.getAttribute('.repo h2 a >> text=acme tools?#%41', 'href'), '/repos/acme%20tools%3F%23%2541');
    await page.click('.repo .rsearch >> text=Search in acme tools?#%41');
    await page.waitForSelector('.status .summary');
    assert.equal(await page.inputValue('.qinput'), 'repo:"^acme tools\\\\?#%41$"');
    assert.deepEqual(await texts(page, '.result .rpath'), ['cmd/tool.go']);
    await page.click('.result .rpath');
    await page.waitForSelector('.code .cl');
    assert.equal(new URL(page.url()).pathname, '/file/acme%20tools%3F%23%2541/cmd/tool.go');
    assert.equal((await page.$$('.code .cl')).length, 3);
    await close();
  });

  test('the repository list comes a page at a time and filters by name on the server', async () => {
    const { page, close } = await open();
    const asked = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/v1/repos') asked.push(new URL(r.url()).searchParams);
    });
    await page.goto(url('/repos?limit=3'));
    await page.waitForSelector('.repo');
    assert.deepEqual(await texts(page, '.repo h2'), ['acme tools?#%41', 'alpha', 'branchy']);
    assert.equal(await page.textContent('.summary'), '3 of 4 repositories');
    await page.getByRole('button', { name: 'Show more' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.repo').length === 4);
    assert.deepEqual(await texts(page, '.repo h2'), ['acme tools?#%41', 'alpha', 'branchy', XSS_REPO]);
    assert.equal(await page.textContent('.summary'), '4 repositories');
    assert.equal(await page.$('.rmore button'), null, 'no "Show more" after the last page');
    assert.deepEqual(asked.map((p) => p.get('limit')), ['3', '3']);
    assert.equal(asked[0].get('cursor'), null);
    assert.match(asked[1].get('cursor'), /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(await injected(page), []);
    // The filter goes to the server (a substring, without case) and into the URL.
    await page.getByLabel('Filter repositories').fill('ALP');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'ALP' &&
      document.querySelectorAll('.repo').length === 1);
    assert.deepEqual(await texts(page, '.repo h2'), ['alpha']);
    assert.equal(await page.textContent('.summary'), '1 repository whose name contains “ALP”');
    assert.equal(new URL(page.url()).searchParams.get('limit'), '3');
    assert.equal(asked.at(-1).get('q'), 'ALP');
    assert.equal(await page.inputValue('.rfilter input'), 'ALP');
    await screenshot(page, 'repos-filter');
    await page.getByLabel('Filter repositories').fill('no-such-name');
    await page.keyboard.press('Enter');
    await page.waitForSelector('p.empty');
    assert.equal(await page.textContent('p.empty'), 'No repository name contains “no-such-name”.');
    // Back: the previous filter's list again.
    await page.goBack();
    await page.waitForFunction(() => document.querySelectorAll('.repo').length === 1);
    assert.deepEqual(await texts(page, '.repo h2'), ['alpha']);
    await close();
  });

  test('results list their branches; the file view shows the branch and commit', async () => {
    const { page, close } = await open();
    await search(page, 'branchmark');
    const heads = await page.$$eval('.result .rhead', (hs) => hs.map((h) =>
      [h.querySelector('.rpath').textContent, h.querySelector('.rbranches')?.textContent]));
    assert.deepEqual(heads.sort(), [['f.txt', 'main'], ['shared.txt', 'dev, main']]);
    // Without rev: the default branch was searched: the link opens it (no rev in the URL).
    await page.click('.result .rpath >> text=shared.txt');
    await page.waitForSelector('.code .cl');
    assert.equal(new URL(page.url()).searchParams.get('rev'), null);
    assert.equal(await page.inputValue('.fmeta .branch-select'), 'main');
    await search(page, 'branchmark rev:dev');
    await page.click('.result .rpath >> text=f.txt');
    await page.waitForSelector('.code .cl');
    assert.equal(new URL(page.url()).searchParams.get('rev'), 'dev');
    assert.equal(await page.textContent('.code'), 'branchmark on dev');
    assert.equal(await page.inputValue('.fmeta .branch-select'), 'dev');
    assert.equal(await page.textContent('.fmeta .fcommit'), ctx.commits.dev.slice(0, 12));
    assert.equal(await page.getAttribute('.fmeta .fcommit', 'title'), ctx.commits.dev);
    await page.goto(url(fileHref('branchy', 'f.txt')));
    await page.waitForSelector('.code .cl');
    assert.equal(await page.inputValue('.fmeta .branch-select'), 'main');
    assert.equal(await page.textContent('.fmeta .fcommit'), ctx.commits.main.slice(0, 12));
    await screenshot(page, 'branches');
    await close();
  });

  test('axe-core finds no accessibility violations on the search, file and repository pages', async () => {
    const { page, close } = await open(undefined, STREAM_400);
    const found = [];
    for (const [path, sel] of [['/', '.help'], [searchHref('parse_config'), '.status .summary'],
      [fileHref('alpha', 'src/config.c', { matches: [3] }), '.code .cl'], ['/repos', '.repo'],
      [searchHref('lang:pyhton x'), '.qerror:not([hidden])']]) {
      await page.goto(url(path));
      await page.waitForSelector(sel);
      for (const v of await axeViolations(page)) found.push(`${path}: ${v}`);
    }
    await page.goto(url('/'));
    await page.click('.qinput');
    await page.keyboard.type('la');
    await page.waitForSelector('.qsuggest li');
    for (const v of await axeViolations(page)) found.push(`suggestions: ${v}`);
    assert.deepEqual(found, []);
    await close();
  });

  test('narrow screen (375 px): no horizontal overflow on any page', async () => {
    const { page, close } = await open({ width: 375, height: 812 }, STREAM_400);
    const pages = [['search', searchHref('parse_config'), '.status .summary'], ['file', '/file/alpha/src/long.py#L150', '.code .cl'],
      ['repos', '/repos', '.repo'], ['home', '/', '.help'], ['error', searchHref('lang:pyhton x'), '.qerror:not([hidden])']];
    for (const [name, path, sel] of pages) {
      await page.goto(url(path));
      await page.waitForSelector(sel);
      const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(sw <= cw, `${name}: page is ${sw}px wide in a ${cw}px viewport`);
      await screenshot(page, 'narrow-' + name);
    }
    await close();
  });

  test('XSS fixture: hostile names and content are shown as text in results', async () => {
    const { page, close } = await open();
    await search(page, 'xssmark count:all');
    assert.deepEqual(await injected(page), []);
    const paths = (await texts(page, '.result .rpath')).sort();
    assert.deepEqual(paths, XSS_FILES.filter(([, c]) => String(c).includes('xssmark')).map(([p]) => p).sort());
    for (const r of await texts(page, '.result .rrepo')) assert.equal(r, XSS_REPO);
    const lines = await texts(page, '.snippet .cl.match .lc');
    for (const want of ['</script><script>alert(1)</script> xssmark', '<svg onload=alert(1)> xssmark',
      'int x; // "><img src=x onerror=alert(1)> xssmark', '<a href="javascript:alert(1)">x</a> xssmark',
      'a &lt;script&gt;alert(1)&lt;/script&gt; xssmark']) {
      assert.ok(lines.includes(want), `missing line ${want} in ${JSON.stringify(lines)}`);
    }
    for (const h of await texts(page, '.snippet .hl')) assert.equal(h, 'xssmark');
    // Every link is same-origin.
    for (const href of await page.$$eval('a[href]', (as) => as.map((a) => a.getAttribute('href')))) {
      assert.ok(href.startsWith('/') && !href.startsWith('//'), href);
    }
    await screenshot(page, 'xss-results');
    await close();
  });

  test('XSS fixture: matches that split "&lt;" and lines with invalid UTF-8 are marked exactly', async () => {
    const { page, close } = await open();
    await search(page, 't;script&g');
    assert.deepEqual(await texts(page, '.snippet .hl'), ['t;script&g']);
    assert.deepEqual(await texts(page, '.snippet .cl.match .lc'), ['a &lt;script&gt;alert(1)&lt;/script&gt; xssmark']);
    // "x\xff\xfe<b>\xc3(</b> fffdmark &lt;": three bad bytes, each one U+FFFD.
    const line = 'x\ufffd\ufffd<b>\ufffd(</b> fffdmark &lt;';
    await search(page, '"fffdmark &l"');
    assert.deepEqual(await texts(page, '.snippet .hl'), ['fffdmark &l']);
    assert.deepEqual(await texts(page, '.snippet .cl.match .lc'), [line]);
    await search(page, '"</b> fffdmark"');
    assert.deepEqual(await texts(page, '.snippet .hl'), ['</b> fffdmark']);
    assert.deepEqual(await injected(page), []);
    await close();
  });

  test('XSS fixture: every hostile file opens as text in the file view', async () => {
    const { page, close } = await open();
    for (const [path, content] of XSS_FILES) {
      await page.goto(url(fileHref(XSS_REPO, path)));
      await page.waitForSelector('.code .cl, .notice');
      assert.equal(await page.textContent('.fpath'), [XSS_REPO, ...path.split('/')].join(' › '));
      const want = Buffer.isBuffer(content) ? new TextDecoder().decode(content) : content;
      const got = await page.$$eval('.code .cl .lc', (els) => els.map((e) => e.textContent).join('\n') + '\n');
      assert.equal(got, want, path);
      assert.deepEqual(await injected(page), [], path);
      // document.title collapses ASCII whitespace (HTML's title getter); Chromium also drops
      // other control characters, Firefox keeps them.
      const title = (t) => t.replace(/[\x00-\x08\x0b\x0e-\x1f\x7f]/g, '').replace(/[\t\n\f\r ]+/g, ' ').trim();
      assert.equal(title(await page.title()), title(`${path} · ${XSS_REPO} · trawl`));
    }
    await screenshot(page, 'xss-file');
    // Arriving from a result works too.
    await search(page, 'onerror file:\\.c$');
    await page.click('.result .rpath');
    await page.waitForSelector('.code .cl.match');
    assert.deepEqual(await injected(page), []);
    await close();
  });

  test('XSS fixture: the raw view of hostile HTML and SVG runs no script', async () => {
    const { page, close } = await open();
    for (const path of ['page.html', 'image.svg', 'x</script>.js']) {
      const res = await page.goto(url(rawHref(XSS_REPO, path)));
      assert.equal(res.status(), 200, path);
      const h = res.headers();
      assert.match(h['content-type'] || '', /^text\/plain/, path);
      assert.equal(h['x-content-type-options'], 'nosniff', path);
      assert.match(h['content-security-policy'] || '', /sandbox/, path);
      await sleep(200);
      assert.equal(await page.evaluate(() => document.querySelectorAll('script, img, svg, iframe').length), 0, path);
      assert.match(await page.evaluate(() => document.body.textContent), /alert\(1\)/);
    }
    await close();
  });
}
