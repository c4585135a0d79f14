// Helpers shared by the browser tests (browser.mjs in laptop mode, team.mjs with accounts):
// a page that records every dialog, script error and console error, a scan of the document
// for anything a hostile string could have injected, and axe-core's accessibility rules.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

// Over WebDriver BiDi (Firefox), page.screenshot() adds a <style>body {}</style> to the page to
// sync animations, which our CSP rightly blocks: ignore that report, matched by the hash of
// exactly that content, and nothing else.
const PLAYWRIGHT_STYLE = /inline style .*'sha256-YjaKGiklmzC6wjXA513HAMmzus8VE61XCOT\+SmwNZWA='/;

// A fresh page in a fresh context (its own cookies) that records dialogs, uncaught errors and
// console errors (CSP violations are console errors in Chromium, page errors in Firefox);
// close() fails the test if any were seen. allow: console or page errors to ignore.
export async function openPage(browser, viewport = { width: 1280, height: 800 }, allow = null) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  const allowed = (text) => PLAYWRIGHT_STYLE.test(text) || (allow && allow.test(text));
  page.on('dialog', (d) => { problems.push('dialog: ' + d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => { if (!allowed(e.message)) problems.push('page error: ' + e.message); });
  page.on('console', (m) => {
    if (m.type() === 'error' && !allowed(m.text())) problems.push('console error: ' + m.text());
  });
  page.setDefaultTimeout(15000);
  return {
    page,
    context,
    problems,
    async close() {
      await sleep(200); // let a late onerror/onload handler fire before judging
      await context.close();
      assert.deepEqual(problems, [], 'dialogs or errors in the page');
    },
  };
}

// Elements a hostile string might have injected, anywhere in the document, and attributes
// that run script.
export async function injected(page) {
  return page.evaluate(() => {
    const bad = [];
    const scripts = [...document.querySelectorAll('script')];
    if (scripts.length !== 1 || !scripts[0].src.endsWith('/app.js')) bad.push(`${scripts.length} script elements`);
    for (const e of document.querySelectorAll('img, svg, iframe, object, embed, frame, style, link[rel=import], base, meta[http-equiv]')) {
      bad.push('<' + e.tagName.toLowerCase() + '>');
    }
    for (const e of document.querySelectorAll('*')) {
      for (const a of e.attributes) {
        if (/^on/i.test(a.name)) bad.push(`${e.tagName}[${a.name}]`);
        if (/^(href|src|action|formaction)$/i.test(a.name) && /^\s*(javascript|data|vbscript):/i.test(a.value)) bad.push(`${e.tagName}[${a.name}=${a.value}]`);
      }
    }
    return bad;
  });
}

const axeSource = readFileSync(fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url)), 'utf8');

// axe-core's WCAG 2 A and AA rules on the page as it is: [] or "rule: target" lines. The script
// is evaluated by the driver (the page's CSP rightly refuses an inline <script>). impacts, when
// given, keeps only violations of those impacts (["serious", "critical"]), named "rule
// (impact): target".
export async function axeViolations(page, { impacts = null } = {}) {
  await page.evaluate(axeSource);
  const found = await page.evaluate(async (keep) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.filter((v) => !keep || keep.includes(v.impact))
      .map((v) => `${v.id}${keep ? ' (' + v.impact + ')' : ''}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }, impacts);
  return found;
}
