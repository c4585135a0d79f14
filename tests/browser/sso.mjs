// Single sign-on in the browser: the provider of tests/e2e/oidc_provider.py (its login form) on
// https://127.0.0.1, trawl over TLS on https://localhost (its certificate from the same test CA),
// so the callback is a real cross-site navigation chain and the session cookie's SameSite=Strict
// meets it as it would in production. Each browser signs in through the provider's form, sees
// only the repositories granted to its groups there, has its groups changed at the provider,
// signs out, signs in again and sees the grant follow.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { test as tapTest } from './tap.mjs';
import { searchHref } from '../../web/urls.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CANARY = 'ssocanary_qv8';
const GROUPS = { eng: 'sso-eng', ops: 'sso-ops' }; // group -> the repository granted to it
// Page errors the test expects: the 401 of a signed-out page, and the report of the style
// playwright-core adds for a screenshot over WebDriver BiDi, which the CSP rightly blocks
// (page.mjs ignores it the same way, by its hash).
const EXPECTED = /status of 4(01|03|29) \(|'sha256-YjaKGiklmzC6wjXA513HAMmzus8VE61XCOT\+SmwNZWA='/;

const userOf = (b) => `sso-${b}@example.com`;

function cli(trawl, args) {
  return execFileSync(trawl, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// One HTTPS request trusting the test CA only: {status, body}.
function https(url, ca, method = 'GET', body = null) {
  const data = body ? Buffer.from(JSON.stringify(body)) : null;
  // The provider reads Content-Length bodies only (no chunked encoding).
  const headers = data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {};
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers }, (res) => {
      let data = '';
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// Reads the first line a child prints on stdout.
function firstLine(child) {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c) => {
      buf += c;
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code} before printing its address`)));
  });
}

// buildSsoFixture(trawl, tmp, browsers, servers, artifacts) -> {base, idp, ca}: the provider
// (a user per browser, in eng), the repositories sso-eng and sso-ops granted to the groups eng
// and ops, a secret one granted to nobody, and trawl serving them over TLS with OIDC on.
export async function buildSsoFixture(trawl, tmp, browsers, servers, artifacts) {
  const dir = join(tmp, 'sso');
  const data = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  for (const name of [...Object.values(GROUPS), 'sso-secret']) {
    const src = join(dir, 'src-' + name);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'notes.txt'), `${CANARY} in ${name}\n`);
    cli(trawl, ['index', '-q', '-o', join(data, 'index'), src, '--name', name]);
  }
  cli(trawl, ['user', 'add', 'sso-root', '--admin', '--data', data]);
  for (const [group, repo] of Object.entries(GROUPS)) {
    cli(trawl, ['group', 'add', group, '--data', data]);
    cli(trawl, ['grant', repo, '--group', group, '--data', data]);
  }
  const secretFile = join(dir, 'client-secret');
  const secret = 'browser-test-client-secret-' + process.pid + '-' + Date.now();
  writeFileSync(secretFile, secret + '\n', { mode: 0o600 });
  const ca = join(dir, 'ca.pem');
  const idpLog = createWriteStream(join(artifacts, 'sso-idp.log'));
  const idp = spawn('python3', [join(root, 'tests/e2e/oidc_provider.py'), '--ca-out', ca, '--tls-out', dir,
    '--client-secret-file', secretFile, ...browsers.map((b) => `--user=${userOf(b)}:eng`)],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(idp);
  idp.stderr.pipe(idpLog);
  const issuer = (await firstLine(idp)).trim();
  const caPem = readFileSync(ca);

  const port = await freePort();
  const base = `https://localhost:${port}`;
  const log = createWriteStream(join(artifacts, 'serve-sso.log'));
  const server = spawn(trawl, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`,
    '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'), '--external-url', base,
    '--oidc-issuer', issuer, '--oidc-client-id', 'trawl-test', '--oidc-client-secret-file', secretFile,
    '--oidc-ca-file', ca, '--rate-signin', '600'], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(server);
  server.stdout.pipe(log);
  server.stderr.pipe(log);
  let exited = null;
  server.on('exit', (code, sig) => { exited = `exited with ${sig || code}`; });
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`trawl serve ${exited} (see build/browser-artifacts/serve-sso.log)`);
    try {
      if ((await https(base + '/healthz', caPem)).status === 200) break;
    } catch { /* not listening yet */ }
    if (i > 300) throw new Error('trawl serve did not answer /healthz within 30 s');
    await sleep(100);
  }
  return { base, issuer, caPem, secret };
}

// ctx: {name, browser, artifacts, sso: {base, issuer, caPem}}
export function ssoTests(ctx) {
  const b = ctx.name;
  const { base, issuer, caPem } = ctx.sso;
  const user = userOf(b);
  const test = (name, fn) => tapTest(`${b}: sso: ${name}`, fn, b);
  const setGroups = async (groups) => {
    const r = await https(issuer + '/admin', caPem, 'POST', { users: { [user]: { groups } } });
    assert.equal(r.status, 200, r.body);
  };

  // The whole sign-in: the sign-in page's single sign-on link, the provider's form, the
  // callback; then the page trawl sends the browser to (the one signing in started from).
  // Fails saying where the session cookie went missing if it did.
  async function signIn(page, context) {
    await page.goto(base + '/account/signin?next=' + encodeURIComponent('/repos'));
    await page.getByRole('link', { name: /single sign-on/i }).click();
    await page.waitForURL((u) => u.origin === issuer, { timeout: 15000 });
    await page.locator('#username').fill(user);
    await page.locator('#idp-submit').click();
    await page.waitForURL((u) => u.origin === base && u.pathname !== '/auth/oidc/callback', { timeout: 15000 });
    const cookie = (await context.cookies(base)).find((k) => k.name === '__Host-trawl_session');
    assert.ok(cookie, `after the callback ${b} holds no session cookie (at ${page.url()})`);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.httpOnly, true);
    await page.waitForSelector('.user-toggle');
  }

  async function readable(page) {
    await page.goto(base + searchHref(CANARY));
    await page.waitForSelector('.status .summary');
    const repos = await page.$$eval('.result .rrepo', (els) => els.map((e) => e.textContent));
    return [...new Set(repos)].sort();
  }

  test('the sign-in page offers single sign-on: its link starts the login and comes back to the page', async () => {
    const context = await ctx.browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    try {
      await page.goto(base + '/account/signin?next=' + encodeURIComponent('/repos'));
      const href = await page.getByRole('link', { name: /single sign-on/i }).getAttribute('href');
      const u = new URL(href, base);
      assert.equal(u.origin + u.pathname, base + '/auth/oidc/login');
      assert.equal(u.searchParams.get('return_to'), '/repos');
    } finally {
      await context.close();
    }
  });

  test('signing in at the provider reads its groups\' repositories; a group changed there changes them at the next sign-in', async () => {
    await setGroups(['eng']);
    const context = await ctx.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => { if (!EXPECTED.test(e.message)) problems.push(e.message); });
    page.setDefaultTimeout(15000);
    try {
      await signIn(page, context);
      assert.equal(await page.textContent('.user-toggle .user-name'), user);
      assert.deepEqual(await readable(page), ['sso-eng']);
      await page.screenshot({ path: join(ctx.artifacts, `${b}-sso-signed-in.png`), fullPage: true });
      await setGroups(['ops']);
      await page.click('.user-toggle');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForSelector('form.signin');
      assert.equal((await context.cookies(base)).find((k) => k.name === '__Host-trawl_session'), undefined);
      await signIn(page, context);
      assert.deepEqual(await readable(page), ['sso-ops']);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
}
