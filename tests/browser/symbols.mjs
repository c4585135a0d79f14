// Symbol search in the web UI (docs/ui.md, "Suggestions"; docs/query-syntax.md, "Symbols"):
// the pure helpers of web/suggest.js (which word symbol names complete, each name once), then,
// in each browser against the fixture of fixture.mjs (indexed with --symbols: alpha has
// parse_config in src/config.c), the query box's symbol suggestions (fetched from
// /api/v1/symbols after a pause, an answer for a word no longer typed never shown, accepting
// one completes the word) and type:symbol results on the search page.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from './tap.mjs';
import { SYMBOL_MAX_ITEMS, symbolItems, symbolQuery, symbolWord } from '../../web/suggest.js';
import { openPage } from './page.mjs';
import { searchHref } from '../../web/urls.js';

test('suggest: the word symbol names complete', () => {
  assert.deepEqual(symbolWord('parse_co', 8), { from: 0, to: 8, word: 'parse_co' });
  assert.deepEqual(symbolWord('lang:c kmal', 11), { from: 7, to: 11, word: 'kmal' });
  assert.deepEqual(symbolWord('(sk_b', 5), { from: 1, to: 5, word: 'sk_b' });
  assert.deepEqual(symbolWord('ab cd', 2), { from: 0, to: 2, word: 'ab' }); // the caret at a word's end
  assert.equal(symbolWord('p', 1), null); // too short
  assert.equal(symbolWord('abc', 1), null); // inside a word
  assert.equal(symbolWord('lang:py', 7), null); // a filter
  assert.equal(symbolWord('"parse', 6), null); // a phrase
  assert.equal(symbolWord('/parse', 6), null); // a regexp
  assert.equal(symbolWord('-parse', 6), null);
  assert.equal(symbolWord('a OR', 4), null); // an operator
  assert.equal(symbolWord('parse ', 6), null);
  assert.equal(symbolQuery('parse_co'), '^parse_co');
});

test('suggest: symbol items name each symbol once, with kind and place', () => {
  const sym = (name, kind, path, line) => ({ repo: 'alpha', path, line, name, kind });
  const q = 'parse_c';
  const s = symbolItems(q, symbolWord(q, 7), [sym('parse_config', 'function', 'src/config.c', 3),
    sym('parse_config', 'prototype', 'src/config.h', 1), sym('parse_cmd', 'function', 'cmd.c', 9)]);
  assert.deepEqual(s.items.map((i) => [i.label, i.detail, i.insert]), [
    ['parse_config', 'function · alpha/src/config.c:3', 'parse_config '],
    ['parse_cmd', 'function · alpha/cmd.c:9', 'parse_cmd '],
  ]);
  assert.equal(s.from, 0);
  assert.equal(s.to, 7);
  const many = Array.from({ length: 20 }, (_, i) => sym('parse_c' + i, 'macro', 'm.h', i + 1));
  assert.equal(symbolItems(q, symbolWord(q, 7), many).items.length, SYMBOL_MAX_ITEMS);
  // In the middle of the query: no space is added.
  const q2 = 'parse_c lang:c';
  assert.equal(symbolItems(q2, symbolWord(q2, 7), many).items[0].insert, 'parse_c0');
  // Nothing when there is none, or the word is already the only name.
  assert.equal(symbolItems(q, symbolWord(q, 7), []), null);
  assert.equal(symbolItems('parse_cmd', symbolWord('parse_cmd', 9), [sym('parse_cmd', 'function', 'c', 1)]), null);
  assert.equal(symbolItems(q, symbolWord(q, 7), [{ name: 3 }, null]), null);
});

// ctx: as browserTests' (browser.mjs): registered once per browser.
export function symbolTests(ctx) {
  const btest = (name, fn) => test(`${ctx.name}: ${name}`, fn, ctx.name);
  const url = (path) => ctx.base + path;
  const labels = (page) => page.$$eval('.qsuggest li .label', (els) => els.map((e) => e.textContent));
  const screenshot = (page, name) => page.screenshot({ path: join(ctx.artifacts, `${ctx.name}-symbols-${name}.png`), fullPage: true });

  btest('symbol suggestions: typing a word offers symbol names; accepting one completes it', async () => {
    const { page, close } = await openPage(ctx.browser);
    const asked = [];
    page.on('request', (r) => { if (r.url().includes('/api/v1/symbols?')) asked.push(new URL(r.url()).searchParams.get('q')); });
    await page.goto(url('/'));
    await page.click('.qinput');
    await page.keyboard.type('parse_con');
    await page.waitForFunction(() => [...document.querySelectorAll('.qsuggest li .label')].some((e) => e.textContent === 'parse_config'));
    assert.ok(asked.includes('^parse_con'), asked.join(' '));
    const detail = await page.$$eval('.qsuggest li', (lis) => lis.filter((li) => li.querySelector('.label').textContent === 'parse_config')
      .map((li) => li.querySelector('.detail').textContent));
    assert.match(detail[0], /^function · alpha\/src\/config\.c:\d+$/);
    const names = await labels(page);
    assert.equal(new Set(names).size, names.length, 'each name once');
    assert.ok(names.every((n) => n.toLowerCase().startsWith('parse_con')), names.join(' '));
    await screenshot(page, 'suggestions');
    const i = names.indexOf('parse_config');
    for (let k = 0; k <= i; k++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    assert.equal(await page.inputValue('.qinput'), 'parse_config ');
    assert.ok(await page.$eval('.qsuggest', (e) => e.hidden));
    // Filters keep their own suggestions: no symbol is asked for a filter's value.
    const before = asked.length;
    await page.keyboard.type('lang:pyt');
    await page.waitForFunction(() => document.querySelector('.qsuggest li .label')?.textContent === 'Python');
    assert.equal(asked.length, before);
    await close();
  });

  btest('symbol suggestions: an answer for a word no longer typed is never shown', async () => {
    const { page, close } = await openPage(ctx.browser);
    // Hold the answer for "^par" until the word has changed, then let it through. ("pa" would
    // offer the filter name patterntype:, which comes before symbol names.)
    let release;
    const held = new Promise((r) => { release = r; });
    await page.route('**/api/v1/symbols?*', async (route) => {
      if (new URL(route.request().url()).searchParams.get('q') === '^par') await held;
      await route.continue().catch(() => {});
    });
    await page.goto(url('/'));
    await page.click('.qinput');
    const asked = page.waitForRequest((r) => r.url().includes('q=%5Epar&'));
    await page.keyboard.type('par');
    await asked;
    await page.keyboard.type('se_c');
    await page.waitForFunction(() => [...document.querySelectorAll('.qsuggest li .label')].some((e) => e.textContent === 'parse_config'));
    release();
    // Whatever came for "par" after that, the list is still parse_c's.
    await page.waitForTimeout(300);
    const names = await labels(page);
    assert.ok(names.length > 0 && names.every((n) => n.toLowerCase().startsWith('parse_c')), names.join(' '));
    // Escape closes the list, and leaving the box too.
    await page.keyboard.press('Escape');
    assert.ok(await page.$eval('.qsuggest', (e) => e.hidden));
    await close();
  });

  btest('type:symbol results list each symbol with its kind, linked to its line', async () => {
    const { page, close } = await openPage(ctx.browser);
    await page.goto(url(searchHref('type:symbol ^parse_config$ repo:^alpha$')));
    await page.waitForSelector('.status .summary');
    const rows = await page.$$eval('.result-symbol .cl.sym', (els) => els.map((e) => e.textContent));
    assert.ok(rows.length >= 1, 'a symbol row');
    assert.match(rows[0], /^function parse_config — .*parse_config/);
    const href = await page.$eval('.result-symbol .cl.sym a.ln', (a) => a.getAttribute('href'));
    assert.match(href, /^\/file\/alpha\/src\/config\.c/);
    await screenshot(page, 'results');
    await close();
  });
}
