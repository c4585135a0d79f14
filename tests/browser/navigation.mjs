// Browser tests of code navigation in the file view (web/nav.js, web/outline.js; docs/ui.md,
// "Code navigation") on the fixture of fixture.mjs, indexed with --symbols: alpha's
// src/config.c defines parse_config (line 3) and calls it (line 14) and defines main (line 12),
// which acme tools' cmd/tool.go defines too; the XSS repository's headings.md has symbols whose
// names hold HTML and control characters. main.mjs registers these once per browser.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test as tapTest } from './tap.mjs';
import { XSS_REPO } from './fixture.mjs';
import { axeViolations, injected, openPage } from './page.mjs';
import { fileHref } from '../../web/urls.js';
import { apiNav, identifierAt } from '../../web/nav.js';

// The UI's rule for the identifier at a column, and the API's URLs (no browser needed).
tapTest('navigation: identifierAt (UTF-16 columns, a caret after a word) and apiNav', () => {
  const line = 'int main(void) { return parse_config("x"); }';
  assert.equal(identifierAt(line, 1), 'int');
  assert.equal(identifierAt(line, 4), 'int');
  assert.equal(identifierAt(line, 5), 'main');
  assert.equal(identifierAt(line, 16), '');
  assert.equal(identifierAt(line, 25), 'parse_config');
  assert.equal(identifierAt(line, 37), 'parse_config');
  assert.equal(identifierAt('x = 0x1F;', 6), '');
  assert.equal(identifierAt('é😀 abc', 5), 'abc');
  assert.equal(identifierAt('', 1), '');
  assert.equal(apiNav('acme tools?#%41', 'definition', { path: 'a b/c.go', line: 3, col: 7, rev: undefined }),
    '/api/v1/repos/acme%20tools%3F%23%2541/definition?path=a+b%2Fc.go&line=3&col=7');
  assert.equal(apiNav('alpha', 'outline', { path: 'x.c', rev: 'dev' }), '/api/v1/repos/alpha/outline?rev=dev&path=x.c');
});

// ctx: {name, base, browser, artifacts}, as browser.mjs's.
export function navigationTests(ctx) {
  const test = (name, fn) => tapTest(`${ctx.name}: navigation: ${name}`, fn, ctx.name);
  let shot = 0;
  const screenshot = (page, name) =>
    page.screenshot({ path: join(ctx.artifacts, `${ctx.name}-nav-${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  const url = (path) => ctx.base + path;
  const texts = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent));
  const selected = (page) => page.$$eval('.code .cl.sel', (els) => els.map((e) => Number(e.querySelector('.ln').dataset.n)));

  async function openFile(page, repo, path) {
    await page.goto(url(fileHref(repo, path)));
    await page.waitForSelector('.code .cl');
  }

  // Clicks the middle of the k-th occurrence (0-based) of word on line n, as a pointer would.
  async function clickWord(page, n, word, k = 0) {
    const box = await page.evaluate(([line, w, nth]) => {
      const lc = document.querySelectorAll('.code .cl .lc')[line - 1];
      const text = lc.textContent;
      let at = -1;
      for (let i = 0; i <= nth; i++) at = text.indexOf(w, at + 1);
      if (at < 0) return null;
      // The text node and offset of character `at + 2` (inside the word).
      const walker = document.createTreeWalker(lc, NodeFilter.SHOW_TEXT);
      let off = at + 2, node;
      while ((node = walker.nextNode())) {
        if (off < node.length) break;
        off -= node.length;
      }
      const r = document.createRange();
      r.setStart(node, off);
      r.setEnd(node, off + 1);
      const b = r.getBoundingClientRect();
      return { x: b.left + b.width / 2, y: b.top + b.height / 2 };
    }, [n, word, k]);
    assert.ok(box, `${word} on line ${n}`);
    await page.mouse.click(box.x, box.y);
    await page.waitForSelector('.navmenu:not([hidden])');
  }

  // The UI and the server agree on every column of a line with characters of 2, 3 and 4 bytes
  // (1, 1 and 2 UTF-16 units): the identifier the UI sees is the one the API looks up.
  test('the UI\'s identifier at each column is the API\'s', async () => {
    const text = 'é€😀 parse_config here';
    for (let col = 1; col <= text.length + 1; col++) {
      const r = await fetch(url(`/api/v1/repos/alpha/definition?path=unicode.txt&line=1&col=${col}`));
      const body = await r.json();
      const want = identifierAt(text, col);
      assert.equal(r.status, want ? 200 : 400, `column ${col}`);
      if (want) assert.equal(body.identifier, want, `column ${col}`);
    }
  });

  test('the outline lists the file\'s symbols in line order and links to their lines', async () => {
    const { page, close } = await openPage(ctx.browser);
    await openFile(page, 'alpha', 'src/config.c');
    await page.waitForSelector('.outline-list li');
    assert.deepEqual(await texts(page, '.outline-list a'), ['function parse_config', 'function main']);
    const hrefs = await page.$$eval('.outline-list a', (els) => els.map((e) => e.getAttribute('href')));
    assert.deepEqual(hrefs, ['/file/alpha/src/config.c#L3', '/file/alpha/src/config.c#L12']);
    assert.equal(await page.getAttribute('.outline', 'aria-label'), 'Outline of src/config.c');
    // Keyboard reachable: focus the second entry and follow it with Enter.
    await page.focus('.outline-list li:nth-child(2) a');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#L12');
    await page.waitForSelector('.code .cl.sel');
    assert.deepEqual(await selected(page), [12]);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'outline');
    await close();
  });

  test('go to definition with one definition goes to its line', async () => {
    const { page, close } = await openPage(ctx.browser);
    await openFile(page, 'alpha', 'src/config.c');
    await clickWord(page, 14, 'parse_config');
    assert.equal(await page.getAttribute('.navmenu', 'aria-label'), 'Code navigation for parse_config');
    await page.click('.navmenu .navdef');
    await page.waitForFunction(() => location.hash === '#L3');
    assert.equal(new URL(page.url()).pathname, '/file/alpha/src/config.c');
    await page.waitForFunction(() => document.querySelectorAll('.code .cl.sel').length === 1);
    assert.deepEqual(await selected(page), [3]);
    await close();
  });

  test('go to definition with several lists them, the file\'s own first (F12)', async () => {
    const { page, close } = await openPage(ctx.browser);
    await openFile(page, 'alpha', 'src/config.c');
    await clickWord(page, 12, 'main');
    await page.keyboard.press('F12');
    await page.waitForSelector('.navpanel:not([hidden]) .navdefs li');
    // Go's main is a package and a function.
    assert.deepEqual(await texts(page, '.navdefs a'), ['alpha › src/config.c:12', 'acme tools?#%41 › cmd/tool.go:1', 'acme tools?#%41 › cmd/tool.go:3']);
    assert.deepEqual(await texts(page, '.navdefs .symkind'), ['function', 'package', 'func']);
    assert.deepEqual(await texts(page, '.navdefs .navtext'), ['int main(void)', 'package main', 'func main() { println("tool parse_config") }']);
    assert.match(await page.textContent('.navpanel h2'), /^3 definitions of main$/);
    // The first entry has the focus: Tab reaches the next ones, Enter follows one.
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'alpha › src/config.c:12');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.pathname.endsWith('/cmd/tool.go') && location.hash === '#L3');
    await page.waitForSelector('.code .cl.sel');
    assert.deepEqual(await selected(page), [3]);
    await close();
  });

  test('find references lists whole-word uses, the repository\'s own first (Shift+F12)', async () => {
    const { page, close } = await openPage(ctx.browser);
    await openFile(page, 'alpha', 'src/config.c');
    await clickWord(page, 3, 'parse_config');
    await page.keyboard.press('Shift+F12');
    await page.waitForSelector('.navpanel:not([hidden]) .navrefs-list li');
    const files = await texts(page, '.navrefs-list > li > .navfile');
    assert.deepEqual([...files].sort(), ['acme tools?#%41 › cmd/tool.go', 'alpha › README.md', 'alpha › src/config.c', 'alpha › unicode.txt']);
    assert.equal(files[files.length - 1], 'acme tools?#%41 › cmd/tool.go');
    assert.match(await page.textContent('.navpanel h2'), /^5 references to parse_config$/);
    const links = await page.$$eval('.navrefs-list a', (els) => els.map((e) => e.getAttribute('href')));
    assert.ok(links.includes('/file/alpha/src/config.c#L14'), links.join(' '));
    assert.ok(links.includes('/file/acme%20tools%3F%23%2541/cmd/tool.go#L3'), links.join(' '));
    await page.click('.navrefs-list a[href="/file/alpha/src/config.c#L14"]');
    await page.waitForFunction(() => location.hash === '#L14');
    await page.waitForFunction(() => document.querySelectorAll('.code .cl.sel').length === 1);
    assert.deepEqual(await selected(page), [14]);
    await close();
  });

  test('the shortcuts g d and g r act on the identifier at the caret; the help names them', async () => {
    const { page, close } = await openPage(ctx.browser);
    await openFile(page, 'alpha', 'src/config.c');
    assert.match(await page.textContent('.navhelp'), /F12 or g d goes to its definition; Shift\+F12 or g r finds its references/);
    await clickWord(page, 14, 'parse_config');
    await page.keyboard.press('g');
    await page.keyboard.press('r');
    await page.waitForSelector('.navpanel:not([hidden]) .navrefs-list li');
    // Escape-free closing: the panel's close button.
    await page.click('.navclose');
    assert.equal(await page.isHidden('.navpanel'), true);
    await page.keyboard.press('g');
    await page.keyboard.press('d');
    await page.waitForFunction(() => location.hash === '#L3');
    // The caret alone (where caret browsing, F7, moves it with the keyboard), without a click.
    await openFile(page, 'alpha', 'src/config.c');
    await page.evaluate(() => {
      const lc = document.querySelectorAll('.code .cl .lc')[13];
      const walker = document.createTreeWalker(lc, NodeFilter.SHOW_TEXT);
      let node, at = lc.textContent.indexOf('parse_config') + 5;
      while ((node = walker.nextNode()) && at >= node.length) at -= node.length;
      getSelection().collapse(node, at);
    });
    await page.keyboard.press('g');
    await page.keyboard.press('d');
    await page.waitForFunction(() => location.hash === '#L3');
    // Typing in the query box is not a shortcut.
    await openFile(page, 'alpha', 'src/config.c');
    await clickWord(page, 14, 'parse_config');
    await page.focus('.qinput');
    await page.keyboard.type('gd');
    assert.equal(new URL(page.url()).hash, '');
    assert.equal(await page.isHidden('.navpanel'), true);
    await close();
  });

  test('clicking where there is no identifier offers nothing; F12 then says so', async () => {
    const { page, close } = await openPage(ctx.browser);
    await openFile(page, 'alpha', 'src/config.c');
    await clickWord(page, 14, 'parse_config');
    const box = await page.evaluate(() => {
      const r = document.createRange();
      const lc = document.querySelectorAll('.code .cl .lc')[13];
      r.selectNodeContents(lc);
      const b = r.getBoundingClientRect();
      return { x: b.right + 200, y: b.top + b.height / 2 };
    });
    await page.mouse.click(box.x, box.y);
    await page.waitForSelector('.navmenu[hidden]', { state: 'attached' });
    await page.keyboard.press('F12');
    await page.waitForSelector('.navpanel:not([hidden]) .notice');
    assert.equal(await page.textContent('.navpanel .notice'), 'Click on an identifier first.');
    assert.equal(new URL(page.url()).hash, '');
    await close();
  });

  test('hostile symbol names are shown as text in the outline', async () => {
    const { page, close } = await openPage(ctx.browser);
    await openFile(page, XSS_REPO, 'headings.md');
    await page.waitForSelector('.outline-list li');
    const names = await page.$$eval('.outline-list a', (els) => els.map((e) => e.lastChild.textContent));
    assert.ok(names.includes('<img src=x onerror=alert(1)> heading'), JSON.stringify(names));
    assert.ok(names.some((n) => n.includes('\x1b[31mred</b>')), JSON.stringify(names));
    assert.deepEqual(await injected(page), []);
    await close();
  });
}
