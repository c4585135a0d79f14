// The browser test suite: the security lint and unit tests of web/, then Chromium (through
// playwright-core) against the real `trawl serve` on a fixture data directory. Prints TAP lines.
//
//   TRAWL=build/trawl CHROMIUM=/usr/bin/chromium node tests/browser/main.mjs
// Screenshots go to build/browser-artifacts/; the server's log to build/browser-artifacts/serve.log.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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

const root = fileURLToPath(new URL('../../', import.meta.url));
const trawl = process.env.TRAWL || join(root, 'build/trawl');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const artifacts = join(root, 'build/browser-artifacts');
mkdirSync(artifacts, { recursive: true });

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'trawl-browser-'));
let server = null, browser = null, startError = null;
const ctx = { artifacts };
try {
  const fx = buildFixture(trawl, tmp);
  ctx.commits = fx.commits;
  const port = await freePort();
  ctx.base = `http://127.0.0.1:${port}`;
  const log = createWriteStream(join(artifacts, 'serve.log'));
  server = spawn(trawl, ['serve', '--data', fx.data, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.pipe(log);
  server.stderr.pipe(log);
  let exited = null;
  server.on('exit', (code, sig) => { exited = `exited with ${sig || code}`; });
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`trawl serve ${exited} (see build/browser-artifacts/serve.log)`);
    try {
      const r = await fetch(ctx.base + '/healthz');
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (i > 300) throw new Error('trawl serve did not answer /healthz within 30 s');
    await sleep(100);
  }
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
  ctx.browser = browser;
} catch (err) {
  startError = err;
}

test('browser: fixture indexed, trawl serve and Chromium started', () => { if (startError) throw startError; });
if (startError) {
  skip('browser tests', 'nothing to test against');
} else {
  browserTests(ctx);
}

let failed = 1;
try {
  failed = await run();
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await Promise.race([new Promise((r) => server.on('exit', r)), sleep(5000)]);
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  }
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
