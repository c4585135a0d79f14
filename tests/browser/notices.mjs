// Account notices in the browser (team mode, the server and users of team.mjs): an
// administrator sets a user's password over the admin API; when that user signs in, a banner
// (role=status) says when, by whom and from where; axe-core finds nothing wrong with it; Tab
// reaches its Dismiss button and Enter dismisses it, for good (the server marks it read: the
// banner stays away after a reload, and /api/v1/me lists no notice).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, test as tapTest } from './tap.mjs';
import { axeViolations, injected, openPage } from './page.mjs';
import { PASSWORD } from './team.mjs';
import { noticeText, utcDate } from '../../web/notices.js';

const EXPECTED = /status of 4(01|03|29) \(/;

test('notices: each event as a sentence with when (UTC), by whom and from where', () => {
  const time = '2026-12-03T18:19:47Z';
  assert.equal(utcDate(time), '2026-12-03 18:19 UTC');
  assert.equal(noticeText({ event: 'password_changed', time, by_self: false, by: 'root', address: '10.1.2.3' }),
    'Your password was changed on 2026-12-03 18:19 UTC by root from 10.1.2.3. If this was not you, tell your administrator.');
  assert.equal(noticeText({ event: 'password_changed', time, by_self: true, by: 'you', address: '::1' }),
    'Your password was changed on 2026-12-03 18:19 UTC by you from ::1. If this was not you, tell your administrator.');
  assert.equal(noticeText({ event: 'user_disabled', time, by_self: false, by: null, address: null }),
    "Your account was disabled on 2026-12-03 18:19 UTC by an administrator at the server's command line.");
  assert.match(noticeText({ event: 'token_created', time, by: 'root', address: '10.1.2.3', token: 'ci' }),
    /^An API token "ci" was created for you on 2026-12-03 18:19 UTC by root from 10\.1\.2\.3\. If you did not expect it, revoke it/);
  assert.match(noticeText({ event: 'user_enabled', time, by: 'root' }), /^Your account was enabled again on /);
  assert.match(noticeText({ event: 'admin_granted', time, by: 'root' }), /^You were made an administrator on /);
  for (const odd of [null, 'x', {}, { event: 'something_new', time }]) assert.equal(noticeText(odd), null);
});

// ctx: {name, browser, artifacts, team: {base, token}}
export function noticeTests(ctx) {
  const b = ctx.name;
  const base = ctx.team.base;
  const url = (path) => base + path;
  const user = 'noticed-' + b, fresh = PASSWORD + '-set-by-admin';
  const admin = (method, path, body) => fetch(url(path), {
    method, headers: { Authorization: 'Bearer ' + ctx.team.token, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });

  tapTest(`${b}: team: a password set by an administrator is shown after sign-in until dismissed`, async () => {
    let r = await admin('POST', '/api/v1/users', { name: user, password: PASSWORD });
    assert.equal(r.status, 201, await r.text());
    r = await admin('PUT', `/api/v1/users/${user}/password`, { password: fresh });
    assert.equal(r.status, 204, await r.text());
    const { page, context, close } = await openPage(ctx.browser, undefined, EXPECTED);
    await page.goto(url('/account/signin'));
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(fresh);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('.notices:not([hidden]) li');
    assert.equal(await page.getAttribute('.notices', 'role'), 'status');
    const text = await page.textContent('.notices li');
    assert.match(text, /^Your password was changed on \d{4}-\d\d-\d\d \d\d:\d\d UTC by admin-[a-z]+ from 127\.0\.0\.1\. If this was not you, tell your administrator\.$/);
    assert.deepEqual(await injected(page), []);
    assert.deepEqual(await axeViolations(page), []);
    await page.screenshot({ path: join(ctx.artifacts, `${b}-team-notice.png`), fullPage: true });
    await page.focus('.brand');
    const onDismiss = () => page.evaluate(() => document.activeElement.classList.contains('dismiss'));
    for (let i = 0; i < 30 && !(await onDismiss()); i++) await page.keyboard.press('Tab');
    assert.ok(await onDismiss(), 'Tab never reached the Dismiss button');
    assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'none', 'no visible focus');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.notices', { state: 'hidden' });
    const cookie = (await context.cookies(base)).find((k) => k.name === '__Host-trawl_session');
    const me = await (await fetch(url('/api/v1/me'), { headers: { Cookie: cookie.name + '=' + cookie.value } })).json();
    assert.deepEqual(me.notices, []);
    await page.reload();
    await page.waitForSelector('.user-toggle');
    assert.ok(await page.$eval('.notices', (e) => e.hidden), 'the dismissed notice came back');
    await close();
  }, b);
}
