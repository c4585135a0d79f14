// The browser test suite: the security lint and unit tests of web/, then the same browser tests
// in headless Chromium and in Firefox (both through playwright-core) against the real `trawl
// serve` on a fixture data directory. Prints TAP lines; each browser test appears once per
// browser, named "chromium: ..." and "firefox: ...".
//
//   TRAWL=build/trawl CHROMIUM=/usr/bin/chromium FIREFOX=/usr/bin/firefox-esr node tests/browser/main.mjs
// A browser whose binary is missing is skipped with a "# SKIP" line. Screenshots go to
// build/browser-artifacts/ (chromium-NN-*.png, firefox-NN-*.png); the server's log to
// build/browser-artifacts/serve.log.
import { spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, skip, test } from './tap.mjs';
import './lint.mjs';
import './unit.mjs';
import { buildFixture } from './fixture.mjs';
import { browserTests } from './browser.mjs';
import { navigationTests } from './navigation.mjs';
import { browseTests } from './browse.mjs';
import { symbolTests } from './symbols.mjs';
import { addXssUser, buildTeamFixture, teamTests } from './team.mjs';
import { noticeTests } from './notices.mjs';
import { buildSsoFixture, ssoTests } from './sso.mjs';
import { keysTests } from './keys.mjs';
import { a11yTeamTests, a11yTests } from './a11y.mjs';
import { buildResultsFixture, resultsTests } from './results.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const trawl = process.env.TRAWL || join(root, 'build/trawl');
// Chromium speaks CDP to playwright-core; Debian's stock Firefox (ESR) speaks WebDriver BiDi,
// which playwright-core drives through its "moz-firefox" channel with our executablePath.
const browsers = [
  { name: 'chromium', path: process.env.CHROMIUM || '/usr/bin/chromium', type: 'chromium', options: {} },
  // Without the back-forward cache: playwright-core does not see a page restored from it over
  // BiDi (page.goBack() waits for a load that never comes), so back and forward load afresh,
  // as they do in Chromium under playwright-core.
  { name: 'firefox', path: process.env.FIREFOX || '/usr/bin/firefox-esr', type: 'firefox',
    options: { channel: 'moz-firefox', firefoxUserPrefs: { 'browser.sessionhistory.max_total_viewers': 0 } } },
];
// The ASan pass (TRAWL_BUILD=asan, from tests/run.sh) checks the server's C code, which answers
// both browsers' requests alike: it runs the suite in Chromium only, and Firefox runs in the
// release pass (docs/internals/testing-ci.md: the step's minutes).
const skippedHere = process.env.TRAWL_BUILD === 'asan' ? new Set(['firefox']) : new Set();
const artifacts = join(root, 'build/browser-artifacts');
mkdirSync(artifacts, { recursive: true });

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function executable(path) {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

const tmp = mkdtempSync(join(tmpdir(), 'trawl-browser-'));

const servers = [];

// Starts `trawl serve --data data` on a free loopback port, its output in build/browser-artifacts/
// logName; resolves to its base URL once /healthz answers.
async function serve(data, logName, flags = []) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = createWriteStream(join(artifacts, logName));
  const server = spawn(trawl, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(server);
  server.stdout.pipe(log);
  server.stderr.pipe(log);
  let exited = null;
  server.on('exit', (code, sig) => { exited = `exited with ${sig || code}`; });
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`trawl serve ${exited} (see build/browser-artifacts/${logName})`);
    try {
      const r = await fetch(base + '/healthz');
      if (r.ok) return base;
    } catch { /* not listening yet */ }
    if (i > 300) throw new Error('trawl serve did not answer /healthz within 30 s');
    await sleep(100);
  }
}

let startError = null, teamError = null;
const ctx = { artifacts };
try {
  const fx = buildFixture(trawl, tmp);
  ctx.commits = fx.commits;
  ctx.base = await serve(fx.data, 'serve.log');
  ctx.results = { base: await serve(buildResultsFixture(trawl, tmp), 'serve-results.log') };
} catch (err) {
  startError = err;
}
// Team mode: a second server on a data directory with accounts.
if (!startError) {
  try {
    const team = buildTeamFixture(trawl, tmp, browsers.map((b) => b.name));
    // Both browsers send some 50 sign-in requests from 127.0.0.1 within a minute or two: above the
    // default per-address rate (the throttle test exhausts an account's own limit instead).
    const base = await serve(team.data, 'serve-team.log', ['--rate-signin', '600']);
    ctx.team = { base, token: team.token, xssUser: await addXssUser(base, team.token) };
  } catch (err) {
    teamError = err;
  }
}

// Single sign-on: a test OpenID provider and a third server, over TLS.
let ssoError = null;
if (!startError) {
  try { ctx.sso = await buildSsoFixture(trawl, tmp, browsers.map((b) => b.name), servers, artifacts); } catch (err) { ssoError = err; }
}

// Both browsers start together (each takes a second or two), each into its own context object.
const runs = await Promise.all(browsers.map(async (b) => {
  const r = { ...b, ctx: { ...ctx, name: b.name }, startError };
  if (!executable(b.path) || startError || skippedHere.has(b.name)) return r;
  try {
    const playwright = await import('playwright-core');
    r.ctx.browser = await playwright[b.type].launch({ ...b.options, executablePath: b.path, headless: true });
  } catch (err) {
    r.startError = err;
  }
  return r;
}));

test('browser: fixture indexed and trawl serve started', () => { if (startError) throw startError; });
if (!startError) test('browser: team fixture (accounts made with the CLI) and its trawl serve started', () => { if (teamError) throw teamError; });
for (const r of runs) {
  if (skippedHere.has(r.name)) {
    skip(`${r.name}: browser tests`, `run in the release pass only (TRAWL_BUILD=${process.env.TRAWL_BUILD})`);
    continue;
  }
  if (!executable(r.path)) {
    skip(`${r.name}: browser tests`, `no ${r.name} at ${r.path}`);
    continue;
  }
  if (!startError) test(`${r.name}: started`, () => { if (r.startError) throw r.startError; }, r.name);
  if (r.startError) {
    skip(`${r.name}: browser tests`, 'nothing to test against');
    continue;
  }
  browserTests(r.ctx);
  navigationTests(r.ctx);
  browseTests(r.ctx);
  symbolTests(r.ctx);
  keysTests(r.ctx);
  a11yTests(r.ctx);
  resultsTests(r.ctx);
  if (!teamError) {
    teamTests(r.ctx);
    noticeTests(r.ctx);
    a11yTeamTests(r.ctx);
  }
  else skip(`${r.name}: team mode tests`, 'no team fixture');
  if (!ssoError) ssoTests(r.ctx);
  else test(`${r.name}: sso: the provider and trawl serve with OIDC started`, () => { throw ssoError; });
  test(`${r.name}: closed`, () => r.ctx.browser.close(), r.name);
}

let failed = 1;
try {
  failed = await run();
} finally {
  for (const r of runs) if (r.ctx.browser) await r.ctx.browser.close().catch(() => {});
  for (const server of servers) {
    if (server.exitCode !== null) continue;
    server.kill('SIGTERM');
    await Promise.race([new Promise((r) => server.on('exit', r)), sleep(5000)]);
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  }
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
