// Two-factor sign-in in real Chromium (issue 18): a supervisor whose tenant requires it
// is taken to the set-up screen at their first sign-in, scans (reads) the key, confirms
// with a code from the "app" (computed here, as an authenticator app does), keeps the
// recovery codes and lands on the wallboard; signing in again asks for a code. An admin
// for whom it is optional turns it on from the header button.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { TABLET, party, snap, startServer, until, test } from './harness.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof party>>[]} */
const browsers = [];

before(async () => {
  server = await startServer();
  // Asahi City requires its supervisors' second factor (the demo leaves it optional).
  await server.api('/api/tenants/1/two-factor', { method: 'PUT', token: server.admin, body: { two_factor: 'staff' } });
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await server?.stop();
});

/**
 * What an authenticator app shows for a base32 key (RFC 6238: HMAC-SHA1, 30 s, 6 digits),
 * `ahead` steps from now.
 * @param {string} key
 * @param {number} [ahead]
 */
function totp(key, ahead = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of key.replace(/\s/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = Buffer.from((bits.match(/.{8}/g) || []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + ahead));
  const mac = crypto.createHmac('sha1', bytes).update(counter).digest();
  const offset = mac[19] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

/**
 * Fill the sign-in form and submit.
 * @param {import('playwright-core').Page} page
 * @param {string} login
 * @param {string} password
 */
async function signIn(page, login, password) {
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('#signin-form button[type=submit]');
}

test('a supervisor who must sets up two-factor sign-in, then signs in with a code', async () => {
  const b = await party({ tone: 440, viewport: TABLET });
  browsers.push(b);
  const { page } = b;
  await page.goto(`${server.base}/wall/`);
  await signIn(page, 'supervisor-asahi', 'demo-supervisor-asahi');
  // The set-up screen, not the wallboard.
  await page.waitForSelector('#second-factor:not([hidden]) #setup-secret');
  assert.equal(await page.isVisible('#board'), false);
  assert.match(await page.textContent('#second-factor') || '', /二段階認証が必要です/);
  assert.ok(await page.isVisible('#second-factor img.qr'));
  await snap(page, 'two-factor-setup');
  const key = (await page.textContent('#setup-secret')) || '';
  // A wrong code first.
  await page.fill('#setup-code', '000000');
  await page.click('#setup-form button[type=submit]');
  await until(async () => (await page.textContent('#notice'))?.includes('正しくありません'), 'the wrong code to be refused');
  await page.fill('#setup-code', totp(key));
  await page.click('#setup-form button[type=submit]');
  await page.waitForSelector('#recovery-codes li');
  const codes = await page.$$eval('#recovery-codes li', (els) => els.map((e) => e.textContent || ''));
  assert.equal(codes.length, 10);
  assert.ok(codes.every((c) => /^[A-Z0-9]{5}-[A-Z0-9]{5}$/.test(c)), codes.join(' '));
  await page.click('#recovery-done');
  await page.waitForSelector('#board:not([hidden])');

  // Signed out and back: the password alone asks for a code; the next code lets them in.
  await page.click('#sign-out');
  await page.waitForSelector('#signin:not([hidden])');
  await signIn(page, 'supervisor-asahi', 'demo-supervisor-asahi');
  await page.waitForSelector('#code');
  assert.match((await page.textContent('#notice')) || '', /6桁/);
  await page.fill('#code', totp(key, 1));
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#board:not([hidden])');
  assert.deepEqual(b.errors, []);
});

test('an admin for whom it is optional turns it on from the header', async () => {
  const b = await party({ tone: 440, viewport: TABLET });
  browsers.push(b);
  const { page } = b;
  await page.goto(`${server.base}/admin/`);
  await signIn(page, 'admin', 'demo-admin');
  await page.waitForSelector('#tenants:not([hidden])');
  await page.click('#two-factor');
  await page.waitForSelector('#second-factor:not([hidden]) #setup-secret');
  assert.doesNotMatch((await page.textContent('#second-factor')) || '', /必要です/);
  const key = (await page.textContent('#setup-secret')) || '';
  await page.fill('#setup-code', totp(key));
  await page.click('#setup-form button[type=submit]');
  await page.click('#recovery-done');
  await page.waitForSelector('#tenants:not([hidden])');
  // The header button now says it is on, with the codes left.
  await page.click('#two-factor');
  await until(async () => (await page.textContent('#second-factor'))?.includes('10'), 'the status with 10 codes left');
  await page.click('#second-factor-back');
  // A refusal from the server reads in the page's language: a tenant name that is taken.
  await page.waitForSelector('#tenants:not([hidden])');
  await page.fill('#tenant-name', 'Asahi City');
  await page.click('#tenant-form button[type=submit]');
  await until(async () => (await page.textContent('#notice')) === '名前: すでに使われています。', 'the refusal in Japanese, naming the field');
  assert.deepEqual(b.errors, []);
});

test('an interpreter who sets available outside their roster is told no offers will come', async () => {
  // A roster with one shift, on tomorrow's weekday only (in Tokyo).
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000).toLocaleDateString('en-US', { weekday: 'short', timeZone: 'Asia/Tokyo' }).toLowerCase().slice(0, 3);
  await server.api('/api/interpreters', {
    token: server.admin,
    body: {
      login: 'e2e-off-roster',
      password: 'e2e-off-roster-password',
      tier: 'volunteer',
      languages: ['ne'],
      modalities: ['video'],
      tenants: [1],
      roster: { time_zone: 'Asia/Tokyo', shifts: [{ days: [tomorrow], start: '09:00', end: '17:00' }] },
    },
  });
  const b = await party({ tone: 440, viewport: TABLET });
  browsers.push(b);
  await b.page.goto(`${server.base}/interpreter/`);
  await b.page.fill('#login', 'e2e-off-roster');
  await b.page.fill('#password', 'e2e-off-roster-password');
  await b.page.click('#signin-form button[type=submit]');
  await b.page.locator('#console').waitFor();
  assert.ok(await b.page.locator('#off-roster').isHidden(), 'nothing to say while not available');
  await b.page.click('#go-available');
  await b.page.locator('#off-roster').waitFor();
  assert.match(await b.page.locator('#off-roster').innerText(), /勤務時間外/);
  await snap(b.page, 'interpreter-off-roster');
  assert.deepEqual(b.errors, []);
});


test('a supervisor on the admin page reads their tenant and is not offered the admins\' forms', async () => {
  const b = await party({ tone: 440, viewport: TABLET });
  browsers.push(b);
  const { page } = b;
  await page.goto(`${server.base}/admin/`);
  await signIn(page, 'supervisor-minami', 'demo-supervisor-minami');
  await page.waitForSelector('#tenants:not([hidden])');
  assert.equal(await page.locator('#tenant-rows tr').count(), 1, 'their own tenant only');
  assert.ok(await page.locator('#tenant-form').isHidden());
  assert.equal(await page.locator('#tenant-rows button.policy').count(), 0, 'no policy editing');
  assert.deepEqual(await page.locator('#tenant-rows button').evaluateAll((bs) => bs.map((b) => b.className)), ['pins', 'partners', 'records', 'calendar'],
    'the language order, their referral partners, what their records keep and the centre\'s opening calendar');
  // What the town's records keep: read, not changed, and no audit log (admins read it).
  await page.click('#tenant-rows button.records');
  await page.waitForSelector('#records-panel:not([hidden])');
  assert.ok(await page.locator('#keep-records').isDisabled());
  assert.equal(await page.locator('#records-form button[type=submit]').count(), 0);
  assert.equal(await page.locator('#audit-rows').count(), 0);
  // The coordinator sets the grid's order: Nepali, then Vietnamese moved above it.
  await page.click('#tenant-rows button.pins');
  await page.waitForSelector('#pins-form:not([hidden])');
  await page.selectOption('#pins-add', 'ne');
  await page.click('#pins-add-button');
  await page.selectOption('#pins-add', 'vi');
  await page.click('#pins-add-button');
  await page.locator('#pins-list li[data-tag=vi] button.up').click();
  await snap(page, 'admin-language-order');
  await page.click('#pins-form button[type=submit]');
  await until(async () => (await page.locator('#pins-form').isHidden()), 'the order saved');
  const minami = (await server.api('/api/tenants', { token: server.admin })).find((/** @type {any} */ tn) => tn.id === 2);
  assert.deepEqual(minami.pinned_languages, ['vi', 'ne']);
  await page.click('#tabs button[data-tab=desks]');
  await page.waitForSelector('#desks:not([hidden])');
  assert.ok(await page.locator('#desk-form').isHidden());
  assert.equal(await page.locator('#desk-rows button').count(), 0, 'no revoking');
  await snap(page, 'admin-as-supervisor');
  assert.deepEqual(b.errors, []);
});
