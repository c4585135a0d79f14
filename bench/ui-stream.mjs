// The web UI under a very large streamed result: `count:all /[a-z]+_[a-z]+_[a-z]+/` over the
// Linux source (some 400,000 matching lines, a stream of over 100 MB) in headless Chromium and
// Firefox, measured as tests/browser/results.mjs measures its smaller fixture (measureStream):
// the first results received and painted after the stream's first byte, main-thread long tasks
// (Chromium), frames over 50 ms, typing into the query box while the results stream, the
// results rendered, the JS heap. Writes bench/ui-stream.md.
//
//   node bench/ui-stream.mjs        (TRAWL=build/trawl; QUERY=...; OUT=FILE instead of
//                                    bench/ui-stream.md; CORPUS=DIR instead of corpus.sh's Linux
//                                    source; UI_BENCH_DIR=DIR for the index, default
//                                    ~/.cache/trawl-ui-bench, reused when present)
// Run it on a quiet machine: the server, the browser and the page share its cores.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, measureStream } from '../tests/browser/results.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const trawl = process.env.TRAWL || join(root, 'build/trawl');
const dir = process.env.UI_BENCH_DIR || join(homedir(), '.cache/trawl-ui-bench');
const data = join(dir, 'data');
// The server's default timeout (10 s) would cut the search short on a shared machine.
const QUERY = process.env.QUERY || 'count:all timeout:60s /[a-z]+_[a-z]+_[a-z]+/';
const OUT = process.env.OUT || 'bench/ui-stream.md';

function corpus() {
  if (process.env.CORPUS) return process.env.CORPUS;
  const sh = [join(root, '../shared/bench/corpus.sh'), '/work/shared/bench/corpus.sh'].find(existsSync);
  if (!sh) throw new Error('no corpus.sh: set CORPUS=DIR');
  return execFileSync(sh, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

if (!existsSync(join(data, 'index'))) {
  const src = corpus();
  console.error(`ui-stream: indexing ${src} into ${data}/index`);
  execFileSync(trawl, ['index', '-q', '-o', join(data, 'index'), src, '--name', 'linux'], { stdio: 'inherit' });
}
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(trawl, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
for (let i = 0; ; i++) {
  try { if ((await fetch(base + '/healthz')).ok) break; } catch { /* not yet */ }
  if (i > 600) throw new Error('trawl serve did not start');
  await sleep(100);
}

const playwright = await import('playwright-core');
const browsers = [
  ['chromium', () => playwright.chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true })],
  ['firefox', () => playwright.firefox.launch({ channel: 'moz-firefox', executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr', headless: true })],
];
const lines = [];
try {
  for (const [name, launch] of browsers) {
    const browser = await launch();
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const m = await measureStream(page, base, QUERY);
    await browser.close();
    for (const l of describe(m)) {
      console.log(`${name}: ${l}`);
      lines.push(`- ${name}: ${l}`);
    }
  }
} finally {
  server.kill('SIGTERM');
}
const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
writeFileSync(resolve(root, OUT), `# The web UI under a very large streamed result

\`node bench/ui-stream.mjs\` at ${commit}, ${new Date().toISOString().slice(0, 10)}: \`${QUERY}\` over the
Linux source (corpus.sh, one repository) in headless Chromium and Firefox, one after the other,
with \`trawl serve\` on the same machine (2 cores, shared with other work while it ran). Times are
from the stream's first byte (resource timing) to the page's marks: results received (the first
\`matches\` event handled) and painted (the frame after the first results were added to the DOM).

${lines.join('\n')}
`);
console.log('wrote ' + OUT);
process.exit(0);
