// Browser tests of browsing (docs/ui.md, "Repository home page", "Directory pages", "File view"):
// the home page with its branch selector, tree and README (a hostile one stays inert), directory
// pages, breadcrumbs, the sticky file header, the branch selector of the file view, matched text
// marked from m= byte ranges, Copy permalink, and the 404 page. On the fixture of fixture.mjs:
// alpha (a directory: no branches, no commit) has README.md, docs/README.md (HOSTILE_README),
// docs/guide.md, src/config.c, src/long.py and unicode.txt; branchy (git) has main and dev.
// main.mjs registers these once per browser.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test as tapTest } from './tap.mjs';
import { axeViolations, injected, openPage } from './page.mjs';
import { dirHref, fileHref, parseFileRootRoute, parseRepoRoute, permalinkHref, repoHref } from '../../web/urls.js';
import { overlayMarks } from '../../web/file-view.js';
import { readmeTarget } from '../../web/markdown.js';

// A 404 that the page expects: Chromium logs each failed load on the console.
const EXPECTED_404 = /status of 404/;

tapTest('browse: readmeTarget resolves README links against the README\'s directory', () => {
  const c = { repo: 'alpha', rev: undefined, dir: 'docs' };
  assert.equal(readmeTarget('guide.md', c), '/file/alpha/docs/guide.md');
  assert.equal(readmeTarget('../src/config.c#L3', c), '/file/alpha/src/config.c#L3');
  assert.equal(readmeTarget('/README.md', c), '/file/alpha/README.md');
  assert.equal(readmeTarget('../src/', c), '/file/alpha/src/');
  assert.equal(readmeTarget('../../..', c), '/repos/alpha');
  assert.equal(readmeTarget('a%20b.md', { ...c, rev: 'dev' }), '/file/alpha/docs/a%20b.md?rev=dev');
  assert.equal(readmeTarget('logo.png', { ...c, image: true }), '/api/v1/repos/alpha/raw?path=docs%2Flogo.png');
  assert.equal(readmeTarget('https://example.com/x', c), 'https://example.com/x');
  assert.equal(readmeTarget('mailto:a@example.com', c), 'mailto:a@example.com');
  assert.equal(readmeTarget('mailto:a@example.com', { ...c, image: true }), null);
  assert.equal(readmeTarget('#usage', c), '#usage');
  for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:x', ' javascript:x', 'java\tscript:x', 'data:text/html,x',
    'vbscript:x', '//evil.example/x', '\\\\evil', 'http:/x', 'file:///etc/passwd', '', null]) {
    assert.equal(readmeTarget(bad, c), null, String(bad));
  }
  // "%2F" decodes after the URL parser resolved dot segments: no climbing out of the repository
  // (the browser would resolve /file/alpha/docs/a/../../../../admin to /admin).
  for (const bad of ['a%2F..%2F..%2F..%2F..%2Fadmin', '%2e%2e%2F%2e%2e%2F..%2Fapi/v1/repos', 'x%2F%2F%2Fevil.example',
    'a/%2E%2E%2F..%2F..%2F..%2Fapi%2Fv1%2Frepos', '.%2F..%2F..%2F..%2F', 'a%2F.%2Fb']) {
    assert.equal(readmeTarget(bad, c), null, bad);
    assert.equal(readmeTarget(bad, { ...c, image: true }), null, bad + ' (image)');
  }
});

tapTest('browse: overlayMarks marks ranges across syntax tokens, keeping their classes', () => {
  const segs = [['static', 'tok-keyword'], [' ', null], ['int', 'tok-keyword'], [' f(x)', null]];
  assert.deepEqual(overlayMarks(segs, [], 'm'), segs);
  assert.deepEqual(overlayMarks(segs, [[3, 9], [11, 12]], 'm'), [['sta', 'tok-keyword'], ['tic', 'tok-keyword m'], [' ', 'm'],
    ['in', 'tok-keyword m'], ['t', 'tok-keyword'], [' ', null], ['f', 'm'], ['(x)', null]]);
  assert.deepEqual(overlayMarks([['abc', null]], [[0, 3]], 'm'), [['abc', 'm']]);
});

tapTest('browse: URLs of the home page, directory pages and permalinks', () => {
  assert.equal(repoHref('acme tools?#%41'), '/repos/acme%20tools%3F%23%2541');
  assert.equal(repoHref('branchy', 'dev'), '/repos/branchy?rev=dev');
  assert.equal(dirHref('alpha', 'a b/c', 'dev'), '/file/alpha/a%20b/c/?rev=dev');
  assert.equal(dirHref('alpha', ''), '/repos/alpha');
  const c = 'a'.repeat(40);
  assert.equal(permalinkHref('alpha', 'src/x.c', c, '?rev=main&m=3', '#L4-L9'), `/file/alpha/src/x.c?rev=${c}&m=3#L4-L9`);
  assert.equal(permalinkHref('alpha', 'x', c, '', '#junk'), `/file/alpha/x?rev=${c}`);
  assert.equal(parseRepoRoute('/repos/acme%20tools%3F%23%2541'), 'acme tools?#%41');
  assert.equal(parseRepoRoute('/repos/alpha/'), 'alpha');
  for (const bad of ['/repos/', '/repos', '/repos/a/b', '/repos/%E0%A4%A', '/reposx/a']) assert.equal(parseRepoRoute(bad), null, bad);
  assert.equal(parseFileRootRoute('/file/alpha/'), 'alpha');
  assert.equal(parseFileRootRoute('/file/alpha'), 'alpha');
  assert.equal(parseFileRootRoute('/file/alpha/x'), null);
});

// ctx: {name, base, browser, artifacts, commits}, as browser.mjs's.
export function browseTests(ctx) {
  const test = (name, fn) => tapTest(`${ctx.name}: browse: ${name}`, fn, ctx.name);
  let shot = 0;
  const screenshot = (page, name, fullPage = true) =>
    page.screenshot({ path: join(ctx.artifacts, `${ctx.name}-browse-${String(++shot).padStart(2, '0')}-${name}.png`), fullPage });
  const url = (path) => ctx.base + path;
  const texts = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent));
  const crumbs = (page) => page.$$eval('nav.crumbs[aria-label=Breadcrumb] h1 .crumb', (els) => els.map((c) => {
    const a = c.querySelector('a');
    return [c.textContent, a ? a.getAttribute('href') : null];
  }));
  const path = (page) => { const u = new URL(page.url()); return u.pathname + u.search + u.hash; };

  test('the repository home page: tree, README, breadcrumbs; no branch selector for a directory', async () => {
    const { page, close } = await openPage(ctx.browser);
    await page.goto(url(repoHref('alpha')));
    await page.waitForSelector('.tree');
    await page.waitForSelector('.readme .markdown');
    assert.equal(await page.title(), 'alpha · trawl');
    assert.deepEqual(await crumbs(page), [['alpha', null]]);
    assert.deepEqual(await texts(page, '.tree li a'), ['docs/', 'src/', 'README.md', 'unicode.txt']);
    assert.deepEqual(await page.$$eval('.tree li a', (as) => as.map((a) => a.getAttribute('href'))),
      ['/file/alpha/docs/', '/file/alpha/src/', '/file/alpha/README.md', '/file/alpha/unicode.txt']);
    assert.equal(await page.textContent('.readme-name'), 'README.md');
    assert.equal(await page.textContent('.readme .markdown h2'), 'Alpha'); // the README's h1, one level down
    assert.equal(await page.$('.branch-select'), null);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'home');
    // A directory from the tree, in place.
    await page.click('.tree a >> text=src/');
    await page.waitForSelector('.tree li a >> text=config.c');
    assert.equal(path(page), '/file/alpha/src/');
    assert.deepEqual(await texts(page, '.tree li a'), ['config.c', 'long.py']);
    assert.deepEqual(await crumbs(page), [['alpha', '/repos/alpha'], ['src', null]]);
    assert.equal(await page.$('.readme'), null); // no README there
    await screenshot(page, 'directory');
    await page.click('.crumbs a >> text=alpha');
    await page.waitForSelector('.readme');
    assert.equal(path(page), '/repos/alpha');
    await close();
  });

  test('the branch selector of the home page lists the branches and switches with ?rev=', async () => {
    const { page, close } = await openPage(ctx.browser);
    await page.goto(url(repoHref('branchy')));
    await page.waitForSelector('.tree');
    assert.deepEqual(await texts(page, '.branch-select option'), ['main (default)', 'dev']);
    assert.equal(await page.inputValue('.branch-select'), 'main');
    assert.deepEqual(await texts(page, '.tree li a'), ['f.txt', 'shared.txt']);
    assert.deepEqual(await axeViolations(page), []);
    await page.selectOption('.branch-select', 'dev');
    await page.waitForURL((u) => u.search === '?rev=dev');
    await page.waitForSelector('.tree a[href="/file/branchy/f.txt?rev=dev"]');
    assert.equal(await page.inputValue('.branch-select'), 'dev');
    await page.click('.tree a >> text=f.txt');
    await page.waitForSelector('.code .cl');
    assert.equal(await page.textContent('.code'), 'branchmark on dev');
    await close();
  });

  test('a hostile README renders inert: no script, handler or script URL; links resolve in the repository', async () => {
    const { page, close } = await openPage(ctx.browser);
    await page.goto(url(dirHref('alpha', 'docs')));
    await page.waitForSelector('.readme .markdown');
    await page.hover('.readme'); // an onmouseover would fire now
    assert.equal(await page.evaluate(() => window.__readmeCanary), undefined);
    assert.deepEqual(await injected(page), []);
    assert.equal(await page.$$eval('.markdown *', (els) => els.filter((e) => !['A', 'P', 'H2', 'UL', 'LI', 'STRONG', 'CODE', 'SPAN'].includes(e.tagName)).length), 0);
    // An inline <script>'s tags are dropped; what was between them is text.
    assert.equal(await page.textContent('.markdown h2'), 'Handbook window.__readmeCanary = 1');
    const links = await page.$$eval('.markdown a', (as) => as.map((a) => [a.textContent, a.getAttribute('href'), a.getAttribute('rel')]));
    assert.deepEqual(links, [
      ['guide', '/file/alpha/docs/guide.md', null],
      ['up', '/file/alpha/src/config.c#L3', null],
      ['top', '/file/alpha/README.md', null],
      ['ext', 'https://example.com/', 'nofollow noopener noreferrer'],
      ['mail', 'mailto:a@example.com', null],
      ['[image: logo]', '/api/v1/repos/alpha/raw?path=docs%2Flogo.png', null],
      ['[image: remote]', 'https://example.com/x.png', 'nofollow noopener noreferrer'],
    ]);
    // The javascript: links are text, not links.
    assert.deepEqual(await texts(page, '.markdown .readme-nolink'), ['js']);
    assert.match(await page.textContent('.markdown'), /\[image: js\]/);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'hostile-readme');
    await page.click('.markdown a >> text=up');
    await page.waitForSelector('.code .cl.sel');
    assert.equal(path(page), '/file/alpha/src/config.c#L3');
    await close();
  });

  test('a directory URL without the trailing slash and the repository root as /file/NAME/ open their pages', async () => {
    const { page, close } = await openPage(ctx.browser, undefined, EXPECTED_404);
    await page.goto(url('/file/alpha/src'));
    await page.waitForSelector('.tree li a >> text=config.c');
    assert.equal(await page.$('.qerror'), null);
    await page.goto(url('/file/alpha/'));
    await page.waitForSelector('.tree li a >> text=docs/');
    assert.equal(path(page), '/repos/alpha');
    await close();
  });

  test('the file view: breadcrumbs link the home page and directories; the header stays on screen', async () => {
    const { page, close } = await openPage(ctx.browser);
    await page.goto(url(fileHref('alpha', 'src/long.py', { line: 290 })));
    await page.waitForSelector('.code .cl.sel');
    assert.deepEqual(await crumbs(page), [['alpha', '/repos/alpha'], ['src', '/file/alpha/src/'], ['long.py', null]]);
    const top = await page.$eval('.fheader', (h) => h.getBoundingClientRect().top);
    assert.ok(window0(top), `the sticky header is at the top of the window (${top})`);
    assert.ok(await page.evaluate(() => window.scrollY > 1000), 'scrolled down to line 290');
    // The selected line is below the header, not under it.
    const [hb, lt] = await page.evaluate(() => [document.querySelector('.fheader').getBoundingClientRect().bottom,
      document.querySelector('.code .cl.sel').getBoundingClientRect().top]);
    assert.ok(lt >= hb, `line ${lt} below the header ${hb}`);
    assert.ok(await page.isVisible('.fheader .fcopy'));
    assert.ok(await page.isVisible('.fheader .fraw'));
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'sticky-header', false);
    await page.click('.crumbs a >> text=src');
    await page.waitForSelector('.tree');
    assert.equal(path(page), '/file/alpha/src/');
    await close();
  });

  test('the branch selector of the file view keeps the path; a file missing on a branch says so', async () => {
    const { page, close } = await openPage(ctx.browser, undefined, EXPECTED_404);
    await page.goto(url(fileHref('branchy', 'f.txt')));
    await page.waitForSelector('.code .cl');
    assert.equal(await page.inputValue('.fheader .branch-select'), 'main');
    await page.selectOption('.fheader .branch-select', 'dev');
    await page.waitForURL((u) => u.searchParams.get('rev') === 'dev');
    await page.waitForFunction(() => document.querySelector('.code')?.textContent === 'branchmark on dev');
    assert.equal(new URL(page.url()).pathname, '/file/branchy/f.txt');
    assert.equal(await page.textContent('.fmeta .fcommit'), ctx.commits.dev.slice(0, 12));
    await page.goto(url(fileHref('branchy', 'gone.txt', { rev: 'dev' })));
    await page.waitForSelector('.qerror');
    assert.equal(await page.textContent('.qerror p'), 'gone.txt does not exist on revision dev.');
    assert.equal(await page.getAttribute('.qerror a', 'href'), '/repos/branchy?rev=dev');
    assert.equal(await page.inputValue('.fheader .branch-select'), 'dev');
    await screenshot(page, 'missing-on-branch');
    await page.goto(url(fileHref('branchy', 'f.txt', { rev: 'nosuch' })));
    await page.waitForSelector('.qerror');
    assert.equal(await page.textContent('.qerror p'), 'The repository has no branch nosuch in the index.');
    await page.goto(url(fileHref('nosuchrepo', 'f.txt')));
    await page.waitForSelector('.qerror');
    assert.equal(await page.textContent('.qerror p'), 'No such file, revision or repository.');
    await close();
  });

  test('the matched text of m= byte ranges is marked inside the highlighted code; lines alone are tinted', async () => {
    const { page, close } = await openPage(ctx.browser);
    await page.goto(url(fileHref('alpha', 'src/config.c', { matches: [{ line: 3, ranges: [[0, 10], [11, 23]] }, 5] })));
    await page.waitForSelector('.code .cl');
    assert.deepEqual(await page.$$eval('.code .cl.match', (ls) => ls.map((l) => l.querySelector('.ln').dataset.n)), ['3', '5']);
    // "static int" spans two keywords and a space: marked piece by piece, colours kept.
    assert.deepEqual(await texts(page, '.code .cl:nth-child(3) .fmark'), ['static', ' ', 'int', 'parse_config']);
    assert.deepEqual(await page.$$eval('.code .cl:nth-child(3) .fmark.tok-keyword', (e) => e.map((x) => x.textContent)), ['static', 'int']);
    assert.equal(await page.$$eval('.code .cl:nth-child(5) .fmark', (e) => e.length), 0);
    assert.equal(await page.$eval('.code .cl:nth-child(3) .lc', (e) => e.textContent), 'static int parse_config(const char *path)');
    await screenshot(page, 'marked');
    // Multi-byte characters before the match: é (2 bytes), € (3), 😀 (4), a space.
    await page.goto(url(fileHref('alpha', 'unicode.txt', { matches: [{ line: 1, ranges: [[10, 22], [2, 5]] }] })));
    await page.waitForSelector('.code .cl');
    assert.deepEqual(await texts(page, '.code .fmark'), ['€', 'parse_config']);
    await close();
  });

  test('Copy permalink pins the URL to the commit, keeps the selection and says so', async () => {
    const { page, context, close } = await openPage(ctx.browser);
    if (ctx.name === 'chromium') await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ctx.base });
    await page.goto(url(fileHref('branchy', 'f.txt', { line: 1 })));
    await page.waitForSelector('.code .cl.sel');
    await page.click('.fcopy');
    await page.waitForFunction(() => /Permalink/.test(document.querySelector('.fstatus').textContent));
    const want = `/file/branchy/f.txt?rev=${ctx.commits.main}#L1`;
    assert.equal(path(page), want);
    const status = await page.textContent('.fstatus');
    assert.ok(['Permalink copied', 'Permalink selected: press Ctrl+C to copy it'].includes(status), status);
    assert.equal(await page.getAttribute('.fstatus', 'aria-live'), 'polite');
    if (status === 'Permalink copied' && ctx.name === 'chromium') {
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), ctx.base + want);
    } else if (status !== 'Permalink copied') {
      assert.equal(await page.inputValue('.fpermalink'), ctx.base + want);
    }
    // The page did not reload: the view is the same (the selection is still drawn).
    assert.equal(await page.$$eval('.code .cl.sel', (e) => e.length), 1);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'permalink', false);
    // A directory repository has no commit to pin to.
    await page.goto(url(fileHref('alpha', 'README.md')));
    await page.waitForSelector('.code .cl');
    await page.click('.fcopy');
    await page.waitForFunction(() => document.querySelector('.fstatus').textContent !== '');
    assert.match(await page.textContent('.fstatus'), /no commit/);
    assert.equal(path(page), '/file/alpha/README.md');
    await close();
  });

  test('narrow screen (375 px): the home page, a directory page and a README do not overflow', async () => {
    const { page, close } = await openPage(ctx.browser, { width: 375, height: 812 });
    for (const [name, path] of [['home', repoHref('alpha')], ['directory', dirHref('alpha', 'docs')], ['branches', repoHref('branchy')]]) {
      await page.goto(url(path));
      await page.waitForSelector('.tree');
      await page.waitForLoadState('networkidle');
      const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert.ok(sw <= cw, `${name}: page is ${sw}px wide in a ${cw}px viewport`);
      await screenshot(page, 'narrow-' + name);
    }
    await close();
  });

  test('a permalink opens the file at its commit', async () => {
    const { page, close } = await openPage(ctx.browser);
    await page.goto(url(`/file/branchy/f.txt?rev=${ctx.commits.dev}#L1`));
    await page.waitForSelector('.code .cl.sel');
    assert.equal(await page.textContent('.code'), 'branchmark on dev');
    await close();
  });

  test('an unknown page: the 404 page with links home (status 404)', async () => {
    const { page, close } = await openPage(ctx.browser, undefined, EXPECTED_404);
    const res = await page.goto(url('/no/such/page'));
    assert.equal(res.status(), 404);
    assert.match(res.headers()['content-type'], /^text\/html/);
    await page.waitForSelector('.notfound');
    assert.equal(await page.textContent('.notfound h1'), 'Page not found');
    assert.deepEqual(await page.$$eval('.notfound a', (as) => as.map((a) => a.getAttribute('href'))), ['/search', '/repos']);
    assert.equal(await page.title(), 'Not found · trawl');
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'not-found');
    await page.click('.notfound a >> text=Browse repositories');
    await page.waitForSelector('.repo');
    await page.goto(url(repoHref('nosuchrepo')));
    await page.waitForSelector('.qerror');
    assert.equal(await page.textContent('.qerror p'), 'No such repository.');
    await close();
  });
}

// The sticky header's top edge sits at the top of the window (within a pixel).
function window0(top) {
  return Math.abs(top) <= 1;
}
