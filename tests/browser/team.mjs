// Team mode in the browser: a second `trawl serve` on a data directory with accounts (made with
// the CLI, as an operator would), and the tests of signing in and out, the user menu, access
// tokens, the administration pages, the audit log, what a user who is not an administrator
// sees, hostile user names, and axe-core's accessibility rules on every account page. Each
// browser works with its own users and repository (admin-NAME, dev-NAME, secret-NAME), so the
// two browsers' tests can run at the same time against the one server.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test as tapTest } from './tap.mjs';
import { axeViolations, injected, openPage } from './page.mjs';
import { searchHref } from '../../web/urls.js';

export const PASSWORD = 'trawl-browser-test-Pw-42';
export const XSS_NAME = '<img src=x onerror=alert(1)>';
const canary = (b) => `canary_${b}_xyzzy`;

// The 401s of a page opened signed out, the 403s of a user who is not an administrator and the
// 429 of a throttled sign-in are answers the UI expects; Chromium logs each as a console error.
const EXPECTED = /status of 4(01|03|29) \(/;

function cli(trawl, args, input) {
  return execFileSync(trawl, args, { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
}

// Per browser, the git work tree of its registered repository synced-NAME (the "Sync now" test
// commits to it).
const syncSources = {};

function git(dir, ...args) {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', '-C', dir, ...args], { stdio: 'ignore' });
}

// buildTeamFixture(trawl, tmp, browsers) -> {data, token}: repositories "shared" and
// "secret-NAME" (holding canary(NAME)) indexed, "synced-NAME" registered (public, a local git
// repository, synced), an administrator admin-NAME and a user
// locked-NAME (whose sign-in the throttle test exhausts) per browser, and an admin-scope token
// of the first for the harness's own setup requests.
export function buildTeamFixture(trawl, tmp, browsers) {
  const data = join(tmp, 'team');
  const repos = { shared: 'teamshared: every user may find this\n' };
  for (const b of browsers) repos['secret-' + b] = `only the granted read ${canary(b)}\n`;
  let i = 0;
  for (const [name, text] of Object.entries(repos)) {
    const dir = join(tmp, 'team-src', String(i++));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), text);
    cli(trawl, ['index', '-q', '-o', join(data, 'index'), dir, '--name', name]);
  }
  for (const b of browsers) {
    const dir = join(tmp, 'team-src', 'synced-' + b);
    mkdirSync(dir, { recursive: true });
    git(dir, 'init', '-q');
    writeFileSync(join(dir, 'notes.txt'), `synced_${b}_first\n`);
    git(dir, 'add', 'notes.txt');
    git(dir, 'commit', '-qm', 'first');
    syncSources[b] = dir;
    cli(trawl, ['repo', 'add', '--allow-local', '--name', 'synced-' + b, dir, '--data', data]);
    cli(trawl, ['repo', 'set', 'synced-' + b, '--public', '--data', data]);
  }
  cli(trawl, ['sync', '--no-progress', '--data', data]);
  for (const b of browsers) {
    cli(trawl, ['user', 'add', 'admin-' + b, '--admin', '--password-stdin', '--data', data], PASSWORD + '\n');
    cli(trawl, ['user', 'add', 'locked-' + b, '--password-stdin', '--data', data], PASSWORD + '\n');
  }
  const out = cli(trawl, ['token', 'create', 'admin-' + browsers[0], '--scope', 'admin', '--data', data]);
  const m = /trawl_[A-Za-z0-9]+/.exec(out);
  if (!m) throw new Error('trawl token create printed no token');
  return { data, token: m[0] };
}

// A user whose name (or, if the server refuses such a name, display name) is markup: made over
// the admin API once the server runs. -> the user name to sign in with.
export async function addXssUser(base, token) {
  const post = (body) => fetch(base + '/api/v1/users', {
    method: 'POST', headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  let r = await post({ name: XSS_NAME, display_name: XSS_NAME, password: PASSWORD });
  if (r.status === 201) return XSS_NAME;
  r = await post({ name: 'xss-user', display_name: XSS_NAME, password: PASSWORD });
  if (r.status !== 201) throw new Error(`POST /api/v1/users answered ${r.status}: ${await r.text()}`);
  return 'xss-user';
}

// ctx: {name, browser, artifacts, team: {base, token, xssUser}}
export function teamTests(ctx) {
  const b = ctx.name;
  const test = (name, fn) => tapTest(`${b}: team: ${name}`, fn, b);
  const base = ctx.team.base;
  const url = (path) => base + path;
  const admin = 'admin-' + b, dev = 'dev-' + b, repo = 'secret-' + b;
  let shot = 0;
  const screenshot = (page, name) =>
    page.screenshot({ path: join(ctx.artifacts, `${b}-team-${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  const open = (viewport) => openPage(ctx.browser, viewport, EXPECTED);
  const texts = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent));
  const api = (path, headers) => fetch(url(path), { headers });

  // Signs in through the form on the page at path (default: the sign-in page itself).
  async function signIn(page, user, password = PASSWORD, path = '/account/signin') {
    await page.goto(url(path));
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('.user-toggle');
  }
  async function search(page, q) {
    await page.goto(url(searchHref(q)));
    await page.waitForSelector('.status .summary');
    return texts(page, '.result .rrepo');
  }
  async function sessionCookie(context) {
    const c = (await context.cookies(base)).find((k) => k.name === '__Host-trawl_session');
    assert.ok(c, 'no session cookie');
    assert.equal(c.httpOnly, true);
    assert.equal(c.sameSite, 'Strict');
    return c.name + '=' + c.value;
  }

  test('a page opened signed out shows the sign-in form; a wrong password shows the message; signing in lands on the page', async () => {
    const { page, close } = await open();
    await page.goto(url(searchHref('teamshared')));
    await page.waitForSelector('form.signin');
    const u = new URL(page.url());
    assert.equal(u.pathname, '/account/signin');
    assert.equal(u.searchParams.get('next'), '/search?q=teamshared');
    assert.ok(await page.$eval('.qform', (e) => getComputedStyle(e).display === 'none'), 'the query box shows signed out');
    for (const [user, pw] of [[admin, 'wrong-password-123456'], ['no-such-user-' + b, PASSWORD]]) {
      await page.getByLabel('User name').fill(user);
      await page.getByLabel('Password').fill(pw);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForSelector('.msg-error:not([hidden])');
      assert.equal(await page.textContent('.msg-error'), 'wrong user name or password');
      assert.equal(await page.getByLabel('Password').inputValue(), '', 'the password stays in the form');
    }
    await screenshot(page, 'signin-error');
    await page.getByLabel('User name').fill(admin);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('.status .summary');
    assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/search?q=teamshared');
    assert.deepEqual(await texts(page, '.result .rrepo'), ['shared']);
    assert.equal(await page.textContent('.user-toggle .user-name'), admin);
    assert.deepEqual(await injected(page), []);
    await close();
  });

  test('after signing in, "next" never leaves this origin', async () => {
    const { page, close } = await open();
    // Every form of the rule is in the unit tests (safeNext); here, that the page applies it.
    await signIn(page, admin, PASSWORD, '/account/signin?next=' + encodeURIComponent('https://evil.example/'));
    const u = new URL(page.url());
    assert.equal(u.origin, base);
    assert.equal(u.pathname, '/');
    await close();
  });

  test('the user menu is reachable by keyboard with a visible focus; signing out ends the session', async () => {
    const { page, context, close } = await open();
    await signIn(page, admin);
    const cookie = await sessionCookie(context);
    assert.equal((await api('/api/v1/me', { Cookie: cookie })).status, 200);
    await page.focus('.brand');
    for (let i = 0; i < 20 && !(await page.evaluate(() => document.activeElement.classList.contains('user-toggle'))); i++) {
      await page.keyboard.press('Tab');
    }
    assert.ok(await page.evaluate(() => document.activeElement.classList.contains('user-toggle')), 'Tab never reached the menu');
    assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'none', 'no visible focus');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('.user-toggle', 'aria-expanded'), 'true');
    assert.deepEqual((await texts(page, '.user-list a, .user-list button')).map((t) => t.trim()),
      ['Access tokens', 'Administration', 'Change password', 'Sign out']);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Access tokens');
    await screenshot(page, 'user-menu');
    await page.keyboard.press('Escape');
    assert.ok(await page.$eval('.user-list', (e) => e.hidden));
    assert.ok(await page.evaluate(() => document.activeElement.classList.contains('user-toggle')));
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForSelector('form.signin');
    assert.equal(new URL(page.url()).pathname, '/account/signin');
    assert.equal((await api('/api/v1/me', { Cookie: cookie })).status, 401, 'the old cookie still works');
    await page.goto(url('/repos'));
    await page.waitForSelector('form.signin');
    await close();
  });

  test('access tokens: a new token\'s secret is shown once; revoking it (after confirming) ends it', async () => {
    const { page, close } = await open();
    await signIn(page, admin, PASSWORD, '/account/signin?next=%2Faccount%2Ftokens');
    await page.waitForSelector('form.row');
    assert.equal(new URL(page.url()).pathname, '/account/tokens');
    await page.getByLabel('Name', { exact: true }).fill('ci-' + b);
    await page.getByLabel('Scope').selectOption('search');
    // Firefox over BiDi types after a number field's value: clear it first.
    await page.getByLabel('Expires after (days)').clear();
    await page.getByLabel('Expires after (days)').fill('30');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.waitForSelector('.secret:not([hidden]) .secret-value');
    const secret = await page.inputValue('.secret-value');
    assert.match(secret, /^trawl_[A-Za-z0-9]+$/);
    assert.match(await page.textContent('.secret .warn'), /will not be shown again/);
    assert.ok(await page.getByRole('button', { name: 'Copy' }).isVisible());
    const me = await api('/api/v1/me', { Authorization: 'Bearer ' + secret });
    assert.equal(me.status, 200);
    assert.equal((await me.json()).name, admin);
    const row = page.locator('table.grid tbody tr', { hasText: 'ci-' + b });
    await row.waitFor();
    const prefix = (await row.locator('code').textContent()).replace(/…$/, '');
    assert.ok(prefix.length >= 6 && secret.startsWith(prefix), `prefix ${prefix}`);
    assert.match(await row.textContent(), /search/);
    const listed = await (await api('/api/v1/tokens', { Authorization: 'Bearer ' + secret })).json();
    const made = listed.tokens.find((t) => t.name === 'ci-' + b);
    assert.equal(made.scope, 'search');
    assert.ok(Math.abs(Date.parse(made.expires) - Date.now() - 30 * 864e5) < 864e5, `expires ${made.expires}, not in 30 days`);
    await screenshot(page, 'token-created');
    await page.reload();
    await row.waitFor();
    assert.equal(await page.$('.secret-value'), null);
    assert.ok(!(await page.evaluate(() => document.documentElement.textContent)).includes(secret), 'the secret is shown again');
    await row.getByRole('button', { name: 'Revoke' }).click();
    assert.match(await row.textContent(), /Revoke token ci-/);
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.waitForSelector('.msg-ok:not([hidden])');
    await page.waitForFunction((n) => [...document.querySelectorAll('table.grid tbody tr')]
      .some((r) => r.textContent.includes(n) && r.textContent.includes('revoked')), 'ci-' + b);
    assert.equal((await api('/api/v1/me', { Authorization: 'Bearer ' + secret })).status, 401, 'the revoked token still works');
    await close();
  });

  test('administration: add a user, grant a repository, the user finds its content; revoke, and it is gone', async () => {
    const a = await open();
    await signIn(a.page, admin, PASSWORD, '/account/signin?next=%2Fadmin%2Fusers');
    await a.page.waitForSelector('table.grid');
    await a.page.getByLabel('User name').fill(dev);
    await a.page.getByLabel('Password (empty: generate one)').fill(PASSWORD);
    await a.page.getByRole('button', { name: 'Add user' }).click();
    await a.page.waitForSelector('.msg-ok:not([hidden])');
    assert.equal(await a.page.textContent('.msg-ok'), `Added user ${dev}.`);
    await a.page.locator('table.grid tbody tr', { hasText: dev }).waitFor();
    await screenshot(a.page, 'admin-users');
    const d = await open();
    await signIn(d.page, dev);
    assert.deepEqual(await search(d.page, canary(b)), [], 'found before the grant');
    await a.page.getByRole('link', { name: 'Repository access' }).click();
    await a.page.waitForSelector('.repo-access');
    await a.page.getByLabel('Filter repositories').fill(repo);
    assert.deepEqual(await texts(a.page, '.repo-access .rname'), [repo]);
    const card = a.page.locator('.repo-access', { hasText: repo });
    assert.match(await card.textContent(), /private/);
    await card.getByLabel('Grant to').selectOption('users');
    await card.getByLabel('Name', { exact: true }).fill(dev);
    await card.getByRole('button', { name: 'Grant' }).click();
    await a.page.waitForSelector('.msg-ok:not([hidden])');
    await a.page.getByLabel('Filter repositories').fill(repo);
    await card.locator('.grants').waitFor();
    assert.match(await card.locator('.grants').textContent(), new RegExp(dev));
    await screenshot(a.page, 'admin-access');
    assert.deepEqual(await search(d.page, canary(b)), [repo], 'not found after the grant');
    await card.getByRole('button', { name: `Revoke user ${dev} on ${repo}` }).click();
    await a.page.waitForFunction((r) => [...document.querySelectorAll('.repo-access')]
      .some((c) => c.textContent.includes(r) && !c.querySelector('.grants')), repo);
    assert.deepEqual(await search(d.page, canary(b)), [], 'found after the revocation');
    await d.close();
    await a.close();
  });

  test('the audit log shows the sign-ins, the grant and the revocation, newest first', async () => {
    const { page, close } = await open();
    await signIn(page, admin, PASSWORD, '/account/signin?next=%2Fadmin%2Faudit');
    await page.waitForSelector('table.grid');
    await page.getByLabel('Event').fill('grant');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(() => location.search === '?event=grant');
    await page.waitForSelector('table.grid tbody tr');
    const rows = () => page.$$eval('table.grid tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    const grants = await rows();
    assert.ok(grants.every((r) => r[1] === 'grant'), JSON.stringify(grants));
    assert.ok(grants.some((r) => r[2] === admin && (r[3] + r[5]).includes(repo) && (r[3] + r[5]).includes(dev)), JSON.stringify(grants));
    await page.getByLabel('Event').fill('');
    await page.getByLabel('User').fill(admin);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction((u) => new URLSearchParams(location.search).get('user') === u, admin);
    await page.waitForSelector('table.grid tbody tr');
    const mine = await rows();
    const events = mine.map((r) => r[1]);
    assert.ok(events.some((e) => /sign_in/.test(e)), events.join());
    assert.ok(mine.some((r) => /revoke/.test(r[1]) && (r[3] + r[5]).includes(repo)), JSON.stringify(mine));
    assert.ok(mine.every((r) => r[2] === admin), 'the user filter');
    const times = await page.$$eval('table.grid tbody tr', (trs) => trs.map((tr) => Date.parse(tr.cells[0].textContent) || 0));
    for (let i = 1; i < times.length; i++) assert.ok(times[i - 1] >= times[i], 'not newest first');
    await screenshot(page, 'admin-audit');
    await close();
  });

  test('a user who is not an administrator sees no admin menu and only the server\'s refusal on admin pages', async () => {
    const { page, close } = await open();
    await signIn(page, dev);
    await page.getByRole('button', { name: dev }).click();
    assert.deepEqual((await texts(page, '.user-list a, .user-list button')).map((t) => t.trim()),
      ['Access tokens', 'Change password', 'Sign out']);
    for (const path of ['/admin/users', '/admin/groups', '/admin/access', '/admin/audit']) {
      await page.goto(url(path));
      await page.waitForSelector('.admin-page .qerror');
      assert.match(await page.textContent('.admin-page .qerror'), /^Error: /, path);
      assert.equal(await page.$('table.grid, .repo-access, .group'), null, path);
      const text = await page.evaluate(() => document.body.textContent);
      assert.ok(!text.includes(admin) && !text.includes(repo), `${path} shows data`);
    }
    await close();
  });

  test('"Sync now" on the repository list: an administrator\'s button syncs the repository at once; others get none', async () => {
    const synced = 'synced-' + b;
    const found = async (word) => (await (await fetch(url('/api/v1/search?q=' + word), {
      headers: { Authorization: 'Bearer ' + ctx.team.token } })).json()).summary.matching_lines;
    const { page, close } = await open();
    await signIn(page, admin, PASSWORD, '/account/signin?next=%2Frepos');
    await page.waitForSelector('.repo .rsync');
    const card = page.locator('.repo', { has: page.locator('h2', { hasText: synced }) });
    assert.equal(await card.locator('h2 a').getAttribute('href'), '/repos/' + encodeURIComponent(synced));
    // Repositories indexed with trawl index only are not the registry's: nothing to sync.
    assert.equal(await page.locator('.repo', { has: page.locator('h2', { hasText: repo }) }).locator('.rsync').count(), 0);
    writeFileSync(join(syncSources[b], 'notes.txt'), `synced_${b}_second\n`);
    git(syncSources[b], 'commit', '-qam', 'second');
    assert.equal(await found(`synced_${b}_second`), 0, 'indexed before the sync');
    await card.getByRole('button', { name: `Sync ${synced} now` }).click();
    await page.locator('.repo', { has: page.locator('h2', { hasText: synced }) }).locator('.rsync-status', { hasText: 'Synced' })
      .waitFor({ timeout: 60000 });
    assert.equal(await found(`synced_${b}_second`), 1, 'the new commit is not searchable');
    await screenshot(page, 'repos-sync-now');
    await close();
    const d = await open();
    await signIn(d.page, dev, PASSWORD, '/account/signin?next=%2Frepos');
    await d.page.locator('.repo h2', { hasText: synced }).waitFor();
    assert.equal(await d.page.locator('.rsync').count(), 0, 'a user who is not an administrator got the button');
    await d.close();
  });

  test('a user name and display name that are markup are shown as text', async () => {
    const { page, close } = await open();
    await signIn(page, admin, PASSWORD, '/account/signin?next=%2Fadmin%2Fusers');
    await page.waitForSelector('table.grid tbody tr');
    const cells = await texts(page, 'table.grid tbody td');
    assert.ok(cells.includes(XSS_NAME), 'the display name is not shown as text');
    assert.deepEqual(await injected(page), []);
    await page.getByRole('button', { name: admin }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForSelector('form.signin');
    await signIn(page, ctx.team.xssUser);
    assert.equal(await page.textContent('.user-toggle .user-name'), XSS_NAME);
    assert.deepEqual(await injected(page), []);
    await close();
  });

  test('axe-core finds no accessibility violations on the sign-in, account and admin pages', async () => {
    const { page, close } = await open();
    await page.goto(url('/account/signin'));
    await page.waitForSelector('form.signin');
    const found = [];
    const check = async (name) => { for (const v of await axeViolations(page)) found.push(`${name}: ${v}`); };
    await check('sign-in');
    await signIn(page, admin);
    await page.click('.user-toggle');
    await check('search with the user menu open');
    for (const [path, sel] of [['/account/tokens', 'form.row'], ['/account/password', 'form.panel'], ['/admin/users', 'table.grid'],
      ['/admin/groups', 'form.row'], ['/admin/access', '.repo-access'], ['/admin/audit', 'table.grid']]) {
      await page.goto(url(path));
      await page.waitForSelector(sel);
      await check(path);
    }
    assert.deepEqual(found, []);
    await close();
  });

  test('changing the password needs the current one, signs out, and only the new one works', async () => {
    const { page, context, close } = await open();
    await signIn(page, dev);
    const cookie = await sessionCookie(context);
    await page.getByRole('button', { name: dev }).click();
    await page.getByRole('link', { name: 'Change password' }).click();
    await page.waitForSelector('form.panel');
    const fresh = PASSWORD + '-new';
    const change = async (current, next, again) => {
      await page.getByLabel('Current password').fill(current);
      await page.getByLabel('New password (at least 12 characters)').fill(next);
      await page.getByLabel('New password again').fill(again);
      await page.getByRole('button', { name: 'Change password' }).click();
    };
    await change(PASSWORD, fresh, fresh + 'x');
    assert.equal(await page.textContent('.msg-error'), 'the two new passwords differ');
    await change('not-the-password-1', fresh, fresh);
    await page.waitForFunction(() => !['', 'the two new passwords differ'].includes(document.querySelector('.msg-error').textContent));
    assert.equal(await page.textContent('.msg-error'), 'the current password is wrong');
    await change(PASSWORD, fresh, fresh);
    await page.waitForSelector('form.signin');
    assert.match(await page.textContent('form.signin .notice'), /password was changed/);
    assert.equal((await api('/api/v1/me', { Cookie: cookie })).status, 401, 'the old session survived');
    await page.getByLabel('User name').fill(dev);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('.msg-error:not([hidden])');
    await page.getByLabel('Password').fill(fresh);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('.user-toggle');
    assert.equal(new URL(page.url()).pathname, '/account/password');
    await close();
  });

  test('after too many failures the sign-in page shows the server\'s retry time', async () => {
    const { page, close } = await open();
    const user = 'locked-' + b;
    // The account's throttle (docs/security.md) refuses the attempts after its burst; the
    // browser makes the last one.
    let status = 0;
    for (let i = 0; i < 40 && status !== 429; i++) {
      const r = await fetch(url('/api/v1/session'), { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ user, password: 'not-the-password-' + i }) });
      status = r.status;
      assert.ok(status === 401 || status === 429, `status ${status}`);
    }
    assert.equal(status, 429, 'never throttled');
    await page.goto(url('/account/signin'));
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('.msg-error:not([hidden])');
    assert.match(await page.textContent('.msg-error'), /retry in \d+ s/);
    assert.equal(await page.$('.user-toggle'), null);
    await close();
  });
}
