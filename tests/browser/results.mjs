// The results page (docs/ui.md, "Search"): the pure helpers of web/results-*.js, then per
// browser: snippets coloured with the matches on top, a heading and one tab stop per result,
// the aria-live summary, "Show N more", "Show more results", alerts' suggested queries, the
// repo: warning and the tips when nothing matched, the filter sidebar, next/prev/open, and a
// large streamed result (about 100,000 matching lines in 2,000 files, fixture below) rendered
// a chunk at a time while the page stays interactive. The large result's timings (first
// result painted after the stream's first byte, main-thread long tasks, frame gaps) are
// printed as TAP comments ("# ..."), never asserted: they depend on the machine.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from './tap.mjs';
import { axeViolations, openPage } from './page.mjs';
import { searchHref } from '../../web/urls.js';
import { DEFAULT_COUNT, facetFilter, moreResultsQuery, queryCount, withCount, withFilter, withoutFields } from '../../web/results-query.js';
import { lineTokens, matchGroups } from '../../web/results-render.js';
import { top, topDir } from '../../web/results-facets.js';
import { readEvents } from '../../web/results-stream.js';

// The large result: N_FILES files under DIRS top-level directories in three languages, each
// with MATCHES lines matching /[a-z]+_[a-z]+_[a-z]+/ spaced GAP lines apart (so each is its own
// group of lines with context).
const N_FILES = 2000, MATCHES = 50, GAP = 6, DIRS = 10;
export const BIG_QUERY = 'count:all /[a-z]+_[a-z]+_[a-z]+/';
const EXT = [['c', (i) => `int alpha_beta_gamma${i} = ${i}; /* one */`], ['py', (i) => `alpha_beta_gamma = ${i}  # one`],
  ['go', (i) => `var alpha_beta_gamma${i} = "${i}" // one`]];

// buildResultsFixture(trawl, tmp) -> the data directory: repository big-N holds directory dN
// (so the stream has a shard, and a progress event, per repository).
export function buildResultsFixture(trawl, tmp) {
  const src = join(tmp, 'results-src'), data = join(tmp, 'results-data');
  for (let f = 0; f < N_FILES; f++) {
    const [ext, line] = EXT[f % EXT.length];
    const dir = join(src, 'big-' + (f % DIRS), 'd' + (f % DIRS), 'sub');
    mkdirSync(dir, { recursive: true });
    const lines = [];
    for (let m = 0; m < MATCHES; m++) {
      lines.push(line(m));
      for (let g = 1; g < GAP; g++) lines.push('plain line ' + g);
    }
    writeFileSync(join(dir, `f${f}.${ext}`), lines.join('\n') + '\n');
  }
  for (let d = 0; d < DIRS; d++) {
    execFileSync(trawl, ['index', '-q', '-o', join(data, 'index'), join(src, 'big-' + d)], { stdio: ['ignore', 'pipe', 'pipe'] });
  }
  return data;
}

test('results: count: is doubled, replaced or added for "Show more results"', () => {
  assert.equal(queryCount('foo'), DEFAULT_COUNT);
  assert.equal(queryCount('foo count:30'), 30);
  assert.equal(queryCount('foo count:all'), 'all');
  assert.equal(moreResultsQuery('foo'), `foo count:${DEFAULT_COUNT * 2}`);
  assert.equal(moreResultsQuery('foo count:30 lang:c'), 'foo count:60 lang:c');
  assert.equal(moreResultsQuery('foo count:all'), null);
  assert.equal(withCount('a  count:5 b', 'all'), 'a count:all b');
  // A count: inside a phrase or regexp is text, not the setting.
  assert.equal(withCount('"count:5" x', 10), '"count:5" x count:10');
});

test('results: filters are added once and removed with their values', () => {
  assert.equal(withoutFields('parse repo:^a$ -repo:b file:x', ['repo']), 'parse file:x');
  assert.equal(withoutFields('parse rev:"dev x" y', ['rev']), 'parse y');
  assert.equal(withoutFields('"repo:a" x', ['repo']), '"repo:a" x');
  assert.equal(withFilter('foo', 'lang:C'), 'foo lang:C');
  assert.equal(withFilter('foo lang:C', 'lang:C'), 'foo lang:C');
  assert.equal(facetFilter.repo('acme tools?'), 'repo:"^acme tools\\\\?$"');
  assert.equal(facetFilter.dir('a.b'), 'file:^a\\.b/');
  assert.equal(facetFilter.lang('Objective-C++'), 'lang:Objective-C++');
  assert.equal(facetFilter.lang('Git Config'), 'lang:"Git Config"');
  assert.equal(topDir('src/a/b.c'), 'src');
  assert.equal(topDir('README.md'), null);
  assert.deepEqual(top(new Map([['b', 2], ['a', 2], ['c', 5], ['d', 1]]), 3), [['c', 5], ['a', 2], ['b', 2]]);
});

test('results: matches and their context merge into groups; tokens split per line', () => {
  const g = matchGroups([{ line: 3, text: 'c', ranges: [[0, 1]], before: [{ line: 2, text: 'b' }], after: [{ line: 4, text: 'd' }] },
    { line: 5, text: 'e', ranges: [[0, 1]], before: [{ line: 4, text: 'd' }], after: [] },
    { line: 9, text: 'i', ranges: [], before: [], after: [] }]);
  assert.deepEqual(g.map((x) => [x.lines.map((l) => l.num), x.matches]), [[[2, 3, 4, 5], 2], [[9], 1]]);
  assert.equal(g[0].lines[0].ranges, null);
  // A block comment over two lines is coloured on both; tokens never cross a line.
  const t = lineTokens(['int a; /* x', 'y */ return'], 'C');
  assert.deepEqual(t, [[[0, 3, 'tok-keyword'], [7, 11, 'tok-comment']], [[0, 4, 'tok-comment'], [5, 11, 'tok-keyword']]]);
  assert.deepEqual(lineTokens(['int a;'], ''), [[]]);
});

test('results: server-sent events are parsed as the standard says; anything else is not a stream', async () => {
  const body = ': a comment\r\nevent: matches\ndata: [1,\ndata:2]\n\ndata: x\n\nevent: done\ndata: {}\n\nevent: cut\ndata: 1';
  const got = [];
  const signal = new AbortController().signal;
  const r = await readEvents('data:text/event-stream,' + encodeURIComponent(body), { signal, onEvent: (n, d) => got.push([n, d]) });
  assert.deepEqual(r, { isStream: true, status: 200 });
  assert.deepEqual(got, [['matches', '[1,\n2]'], ['message', 'x'], ['done', '{}']]); // an unfinished event is dropped
  assert.equal((await readEvents('data:application/json,{}', { signal, onEvent: () => assert.fail('an event') })).isStream, false);
});

// ctx: as browserTests' (browser.mjs), plus results: { base } of the large fixture's server.
export function resultsTests(ctx) {
  const btest = (name, fn) => test(`${ctx.name}: ${name}`, fn, ctx.name);
  const url = (path) => ctx.base + path;
  let shot = 0;
  const screenshot = (page, name) =>
    page.screenshot({ path: join(ctx.artifacts, `${ctx.name}-results-${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  const texts = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent));
  async function search(page, base, q) {
    await page.goto(base + searchHref(q));
    await page.waitForSelector('.status .summary, .qerror:not([hidden])', { timeout: 120000 });
  }

  btest('results: snippets are coloured with the matches marked on top; links carry the ranges', async () => {
    const { page, close } = await openPage(ctx.browser);
    await search(page, ctx.base, 'parse_config lang:c');
    const kw = await texts(page, '.snippet .tok-keyword');
    for (const k of ['static', 'int', 'const', 'char', 'return']) assert.ok(kw.includes(k), k);
    assert.ok((await texts(page, '.snippet .tok-comment')).includes('/* parse the configuration file */'));
    assert.deepEqual(await texts(page, '.snippet .hl'), ['parse_config', 'parse_config']);
    // The mark is on top: the string inside the second match's line keeps its colour.
    assert.ok((await texts(page, '.snippet .cl.match .tok-string')).includes('"/etc/alpha.conf"'));
    const m = new URL(await page.getAttribute('.result .rpath', 'href'), ctx.base).searchParams.get('m');
    assert.equal(m, '3:11-23,14:8-20');
    await screenshot(page, 'coloured');
    await close();
  });

  btest('results: a heading and one tab stop per result, an aria-live summary when done', async () => {
    const { page, close } = await openPage(ctx.browser);
    await search(page, ctx.base, 'parse_config');
    const n = (await page.$$('.result')).length;
    assert.ok(n >= 4, String(n));
    assert.equal((await page.$$('.result h3 .rpath')).length, n);
    const stops = await page.$$eval('.result', (rs) => rs.map((r) => [...r.querySelectorAll('a[href], button')]
      .filter((e) => e.tabIndex >= 0).map((e) => e.className)));
    assert.deepEqual(stops, Array(n).fill(['rpath rlink']));
    assert.match(await page.textContent('[aria-live=polite]'), /^\d+ matches in \d+ files$/);
    // Tab from the query box: the sidebar's links, then the results' paths one by one.
    await page.click('.qinput');
    const seen = [];
    for (let i = 0; i < 40 && seen.filter((c) => c.includes('rlink')).length < 2; i++) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate(() => document.activeElement.className));
    }
    const firstTwo = seen.filter((c) => c.includes('rlink'));
    assert.equal(firstTwo.length, 2, JSON.stringify(seen));
    assert.ok(seen.at(-2).includes('rlink'), 'no stop between two results: ' + JSON.stringify(seen));
    assert.ok(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle !== 'none'), 'focus is visible');
    await screenshot(page, 'focus');
    assert.deepEqual(await axeViolations(page), []);
    await close();
  });

  btest('results: the sidebar counts repositories, languages and directories; a click narrows', async () => {
    const { page, close } = await openPage(ctx.browser);
    await search(page, ctx.base, 'parse_config');
    await page.waitForSelector('aside.facets:not([hidden])');
    const entries = await page.$$eval('.facets section', (ss) => ss.map((s) => [s.querySelector('h3').textContent,
      [...s.querySelectorAll('li')].map((li) => li.querySelector('.fname').textContent + '=' + li.querySelector('.fcount').textContent)]));
    assert.deepEqual(entries, [['Repositories', ['alpha=3', 'acme tools?#%41=1']], ['Languages', ['C=1', 'Go=1', 'Markdown=1', 'Text=1']],
      ['Directories', ['cmd=1', 'src=1']]]);
    await page.click('.facets a:has-text("src")');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'parse_config file:^src/' &&
      document.querySelector('.status .summary'));
    assert.deepEqual(await texts(page, '.result .rpath'), ['src/config.c']);
    assert.equal(await page.inputValue('.qinput'), 'parse_config file:^src/');
    await page.click('.facets a:has-text("alpha")');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'parse_config file:^src/ repo:^alpha$');
    await close();
  });

  btest('results: alerts suggest a query; repo: matching nothing warns; no results gives tips', async () => {
    const { page, close } = await openPage(ctx.browser);
    await search(page, ctx.base, 'parse_config rev:nosuch');
    await page.click('.alert a:has-text("Search the default branches")');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'parse_config' && document.querySelector('.status .summary'));
    await search(page, ctx.base, 'parse_config repo:nosuch');
    assert.deepEqual(await texts(page, '.alert'), ['repo: matches no repository you can read: no results Search every repository']);
    assert.match(await page.textContent('.empty'), /^No results\./);
    assert.match(await page.textContent('.empty .tips'), /Widen the search: parse_config/);
    await screenshot(page, 'repo-none');
    assert.deepEqual(await axeViolations(page), []);
    await page.click('.alert a');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'parse_config' && document.querySelector('.status .summary'));
    assert.ok((await page.$$('.result')).length >= 4);
    await search(page, ctx.base, 'zzqx_nothing case:yes');
    assert.equal(await page.textContent('[aria-live=polite]'), 'No results');
    assert.match(await page.textContent('.empty .tips'), /Remove case: to ignore case/);
    await close();
  });

  btest('results: "Show more results" reruns with twice the count', async () => {
    const { page, close } = await openPage(ctx.browser);
    await search(page, ctx.base, 'parse_config count:1');
    assert.match(await page.textContent('.status'), /limit hit/);
    assert.equal((await page.$$('.snippet .cl.match')).length, 1);
    await page.getByRole('link', { name: 'Show more results' }).click();
    await page.waitForFunction(() => new URLSearchParams(location.search).get('q') === 'parse_config count:2' &&
      document.querySelector('.status .summary'));
    assert.equal((await page.$$('.snippet .cl.match')).length, 2);
    assert.equal(await page.inputValue('.qinput'), 'parse_config count:2');
    await close();
  });

  btest('results: a file shows its first 5 groups of matches, "Show N more" the rest in place', async () => {
    const { page, close } = await openPage(ctx.browser);
    await search(page, ctx.results.base, 'alpha_beta_gamma file:^d0/sub/f0\\.c$');
    assert.equal((await page.$$('.snippet .cl.match')).length, 5);
    const button = page.getByRole('button', { name: `Show ${MATCHES - 5} more matches` });
    await button.click();
    assert.equal((await page.$$('.snippet .cl.match')).length, MATCHES);
    assert.equal(await page.$('.rmore-lines'), null);
    assert.equal(await page.evaluate(() => document.activeElement.className), 'rpath rlink');
    await close();
  });

  btest('results: next and prev move the focus between results, rendering ahead; open follows', async () => {
    const { page, close } = await openPage(ctx.browser);
    await page.goto(ctx.results.base + '/');
    await page.waitForSelector('.help');
    // A SearchView of its own (keys' shortcuts.js calls the page's one): the same module.
    const r = await page.evaluate(async (q) => {
      const { SearchView } = await import('/search-view.js');
      const root = document.createElement('div');
      document.querySelector('main').replaceChildren(root);
      const v = new SearchView(root, { value: '', setErrorColumn() {} });
      v.run(q);
      while (!root.querySelector('.status .summary')) await new Promise((res) => setTimeout(res, 50));
      const rendered0 = root.querySelectorAll('.result').length;
      const got = [v.shortcut('prev') && document.activeElement.textContent];
      for (let i = 0; i < 60; i++) v.shortcut('next');
      got.push(document.activeElement.closest('.result').dataset.index);
      v.shortcut('prev');
      got.push(document.activeElement.closest('.result').dataset.index);
      const r1 = document.activeElement.getBoundingClientRect();
      window.opened = null;
      document.activeElement.addEventListener('click', (e) => { e.preventDefault(); window.opened = e.target.textContent; });
      got.push(v.shortcut('open'), window.opened === document.activeElement.textContent, v.shortcut('bogus'));
      return { got, rendered0, rendered: root.querySelectorAll('.result').length, inView: r1.top >= 0 && r1.bottom <= innerHeight };
    }, 'alpha_beta_gamma count:all file:^d1/');
    assert.equal(r.got[0].startsWith('d1/sub/'), true, JSON.stringify(r));
    assert.deepEqual(r.got.slice(1), ['60', '59', true, true, false]);
    assert.ok(r.rendered0 < 60 && r.rendered >= 61, JSON.stringify(r));
    assert.ok(r.inView, 'the focused result is scrolled into view');
    await close();
  });

  btest('results: past the memory budget results are counted, not kept, and the page says so', async () => {
    const { page, close } = await openPage(ctx.browser);
    await page.goto(ctx.results.base + '/');
    await page.waitForSelector('.help');
    const r = await page.evaluate(async (q) => {
      const { SearchView, limits } = await import('/search-view.js');
      limits.keepChars = 500000; // about 40 of these results
      const root = document.createElement('div');
      document.querySelector('main').replaceChildren(root);
      const v = new SearchView(root, { value: '', setErrorColumn() {} });
      v.run(q);
      while (!root.querySelector('.status .summary')) await new Promise((res) => setTimeout(res, 50));
      const dirs = [...root.querySelectorAll('.facets section')].find((x) => x.querySelector('h3').textContent === 'Directories');
      return { count: v.count, kept: v.list.length, dropped: v.dropped, notice: root.querySelector('.dropped')?.textContent,
        dirCount: dirs.querySelector('.fcount').textContent };
    }, 'alpha_beta_gamma count:all file:^d2/');
    assert.equal(r.count, 200, JSON.stringify(r));
    assert.ok(r.kept > 0 && r.kept < 200 && r.kept + r.dropped === 200, JSON.stringify(r));
    assert.equal(r.dirCount, '200', 'the sidebar counts every result');
    assert.match(r.notice, new RegExp(`^${r.dropped} more results arrived and were counted but not kept`));
    await close();
  });

  btest('results: a large count:all result streams with progress, bounded rendering, and the box stays usable', async () => {
    const { page, close } = await openPage(ctx.browser);
    const m = await measureStream(page, ctx.results.base, BIG_QUERY);
    assert.equal(m.typed, BIG_QUERY + ' xyz');
    assert.match(m.summary, new RegExp(`^${(N_FILES * MATCHES).toLocaleString('en-US')} matches in ${N_FILES.toLocaleString('en-US')} files`));
    assert.ok(m.rendered > 0 && m.rendered < 200, `${m.rendered} results rendered of ${N_FILES}`);
    assert.ok(m.renderedAfterScroll > m.rendered, 'scrolling to the end renders more');
    assert.ok(m.progressCounts.length >= 1 && m.progressCounts.at(-1) > 0, JSON.stringify(m.progress));
    for (let i = 1; i < m.progressCounts.length; i++) assert.ok(m.progressCounts[i] >= m.progressCounts[i - 1], JSON.stringify(m.progress));
    assert.deepEqual(await page.$$eval('.facets section h3', (hs) => hs.map((h) => h.textContent)), ['Repositories', 'Languages', 'Directories']);
    for (const line of describe(m)) console.log(`# ${ctx.name}: ${line}`);
    await screenshot(page, 'large');
    await close();
  });
}

// Opens base/search?q=q in page and measures it (also bench/ui-stream.mjs): the first results
// received and painted after the stream's first byte (performance marks of search-view.js,
// the stream's resource timing), main-thread long tasks (Chromium only reports them), frames
// that took over 50 ms (both), the progress lines shown, typing into the query box while the
// results stream, and the results rendered before and after scrolling to the end.
export async function measureStream(page, base, q, timeout = 600000) {
  await page.addInitScript(() => {
    window.perf = { long: [], gaps: [], progress: [] };
    try {
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.perf.long.push(e.duration); })
        .observe({ type: 'longtask', buffered: true });
      window.perf.hasLongtask = true;
    } catch { window.perf.hasLongtask = false; }
    let last = performance.now();
    const tick = (t) => { if (t - last > 50) window.perf.gaps.push(t - last); last = t; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    new MutationObserver(() => {
      const t = document.querySelector('.progress-text');
      if (t && t.textContent !== window.perf.progress.at(-1)) window.perf.progress.push(t.textContent);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  const t0 = Date.now();
  await page.goto(base + searchHref(q));
  await page.waitForSelector('.result', { timeout });
  const typed0 = Date.now();
  const streaming = await page.$('.status.running') !== null;
  await page.click('.qinput');
  await page.keyboard.press('End');
  await page.keyboard.type(' xyz');
  const typedMs = Date.now() - typed0;
  const typed = await page.inputValue('.qinput');
  await page.waitForSelector('.status .summary', { timeout });
  const totalMs = Date.now() - t0;
  const summary = await page.textContent('.status .summary');
  const rendered = (await page.$$('.result')).length;
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.waitForFunction((n) => document.querySelectorAll('.result').length > n, rendered);
  const renderedAfterScroll = (await page.$$('.result')).length;
  const perf = await page.evaluate(() => {
    const mark = (n) => performance.getEntriesByName(n)[0]?.startTime;
    const res = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v1/search/stream'));
    return { ...window.perf, received: mark('trawl-results-received'), painted: mark('trawl-results-painted'),
      responseStart: res ? res.responseStart : null, bytes: res ? res.encodedBodySize || res.transferSize : null,
      heap: performance.memory ? performance.memory.usedJSHeapSize : null };
  });
  const progressCounts = perf.progress.map((t) => Number((/([\d,]+) match/.exec(t) || [0, '0'])[1].replace(/,/g, '')));
  return { q, summary, typed, typedMs, streaming, totalMs, rendered, renderedAfterScroll, progressCounts, ...perf };
}

// measureStream's numbers as lines of text.
export function describe(m) {
  const f = (x) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
  const since = (t) => (m.responseStart && Number.isFinite(t) ? f(t - m.responseStart) : 'n/a');
  return [
    `${m.summary}; stream ${m.bytes ? (m.bytes / 1e6).toFixed(1) + ' MB' : 'size n/a'}; page load to summary ${m.totalMs} ms`,
    `first results received ${since(m.received)} ms and painted ${since(m.painted)} ms after the stream's first byte`,
    `long tasks: ${m.hasLongtask ? `${m.long.length}, max ${f(Math.max(0, ...m.long))} ms, total ${f(m.long.reduce((a, b) => a + b, 0))} ms` : 'not reported by this browser'}; ` +
      `frames over 50 ms: ${m.gaps.length}, max ${f(Math.max(0, ...m.gaps))} ms`,
    `typing 4 keys into the query box took ${m.typedMs} ms${m.streaming ? ' while streaming' : ' (the stream had ended)'}; ` +
      `progress line drawn ${m.progress.length} times; ${m.rendered} results rendered, ${m.renderedAfterScroll} after scrolling to the end` +
      (m.heap ? `; JS heap ${(m.heap / 1e6).toFixed(0)} MB` : ''),
  ];
}
