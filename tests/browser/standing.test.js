// A centre's standing link in a real browser at phone size: a resident opens the poster's
// address, picks Nepali among the languages by their own names, reads the page in
// Nepali (the answer for their language, the centre's hours), chooses a free half hour
// and books it with no account and no phone number; their own link then shows the slot
// in Nepali with a calendar file. The coordinator's bookings page lists it as booked by
// the resident, and chooses the desk that takes such bookings.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PHONE, TABLET, accessibilityProblems, party, signInAvailable, snap, startServer, until, test } from './harness.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof party>>[]} */
const browsers = [];

before(async () => {
  server = await startServer();
  await server.api('/api/interpreters', {
    token: server.admin,
    body: { login: 'e2e-nepali', password: 'e2e-nepali-password', tier: 'volunteer', languages: ['ne'], modalities: ['video', 'audio'], tenants: [1], roster: { always: true } },
  });
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await server?.stop();
});

test('a resident books a consultation in Nepali from the standing link', async () => {
  // The coordinator chooses the online desk on the bookings page.
  const c = await party({ tone: 440, viewport: { width: 1280, height: 900 } });
  browsers.push(c);
  await c.page.goto(`${server.base}/bookings/`);
  await c.page.fill('#login', 'supervisor-asahi');
  await c.page.fill('#password', 'demo-supervisor-asahi');
  await c.page.click('#signin-form button[type=submit]');
  const standing = c.page.locator('#standing-list .standing[data-tenant="1"]');
  await standing.waitFor();
  assert.match(await standing.locator('.standing-link').innerText(), /\/start\/1$/);
  assert.equal(await standing.locator('img').evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth > 0), true, 'the QR code drawn');
  const desk = await standing.locator('select.online-desk option').nth(1).getAttribute('value');
  await standing.locator('select.online-desk').selectOption(desk || '');
  await standing.locator('.save-online-desk').click();
  await until(async () => (await c.page.locator('#notice').innerText()) === '保存しました。', 'the online desk saved');
  assert.deepEqual(await accessibilityProblems(c.page), [], 'the bookings page with the standing link');

  const r = await party({ tone: 880, viewport: PHONE, mobile: true });
  browsers.push(r);
  const page = r.page;
  await page.goto(`${server.base}/start/1`);
  await page.locator('#languages:not([hidden])').waitFor();
  assert.deepEqual(await accessibilityProblems(page), [], 'the language choice');
  await page.locator('#language-grid button[data-language=ne]').click();
  await page.locator('#centre:not([hidden])').waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'ne');
  assert.equal(await page.locator('#centre h1').innerText(), 'दोभाषेसहितको परामर्श');
  assert.match(await page.locator('#language-state').innerText(), /दोभाषे/);
  assert.ok((await page.locator('#hours li').count()) === 7, "a week of the centre's hours");
  assert.deepEqual(await accessibilityProblems(page), [], 'the centre in Nepali');
  await snap(page, 'standing-link-nepali');
  await page.click('#book');
  await page.locator('#times:not([hidden])').waitFor();
  const first = page.locator('#slot-list input[type=radio]').first();
  await first.waitFor();
  const start = await first.getAttribute('value');
  await first.check();
  assert.match(await page.locator('#confirm').innerText(), /बुक गर्नुहोस्$/);
  assert.deepEqual(await accessibilityProblems(page), [], 'the free times');
  await page.click('#confirm');
  // Their own link: the slot in Nepali, with a calendar file.
  await page.waitForURL(/\/join\//);
  await page.locator('#booked:not([hidden])').waitFor();
  assert.equal(await page.locator('#booked h1').innerText(), 'तपाईंको परामर्श बुक भएको छ');
  assert.match(await page.locator('#add-calendar').getAttribute('href') || '', /calendar\.ics$/);
  await snap(page, 'standing-link-booked');
  assert.deepEqual(r.errors, []);

  // The coordinator's list has it, booked by the resident.
  const bookings = await server.api('/api/bookings?tenant=1', { token: server.admin });
  const made = bookings.find((/** @type {any} */ b) => b.language === 'ne');
  assert.ok(made, 'the Nepali booking is listed');
  assert.equal(new Date(made.start).toISOString(), new Date(/** @type {string} */ (start)).toISOString());
  assert.equal(String(made.desk), desk);
  assert.equal(made.created_by, 'resident:standing_link');
  await c.page.evaluate(() => /** @type {any} */ (window).kk.load());
  await until(async () => (await c.page.locator('#list tbody tr', { hasText: '住民がリンクから予約' }).count()) === 1, 'listed as booked by the resident');
  assert.deepEqual(c.errors, []);
});

test('a resident waits for an interpreter now from the standing link, then joins the call with the online desk', async () => {
  const code = (await server.api('/api/tenants/1/desks', { token: server.admin, body: { name: 'E2E online desk' } })).enrolment_code;
  const online = (await server.api('/api/desks', { token: server.admin })).find((/** @type {any} */ d) => d.name === 'E2E online desk');
  await server.api('/api/tenants/1/online-desk', { method: 'PUT', token: server.admin, body: { desk: online.id } });
  const desk = await party({ tone: 440, viewport: TABLET });
  const interp = await party({ tone: 660, viewport: { width: 1280, height: 800 } });
  const resident = await party({ tone: 880, viewport: PHONE, mobile: true });
  browsers.push(desk, interp, resident);
  await desk.page.goto(`${server.base}/desk/`);
  await desk.page.fill('#enrol-code', code);
  await desk.page.click('#enrol-form button[type=submit]');
  await desk.page.locator('#languages button[data-lang=ne]').waitFor();
  await signInAvailable(interp.page, server.base, 'e2e-nepali', 'e2e-nepali-password');

  const page = resident.page;
  await page.goto(`${server.base}/start/1`);
  await page.locator('#language-grid button[data-language=ne]').click();
  await page.locator('#talk-now:not([hidden])').waitFor();
  assert.equal(await page.locator('#talk-now').innerText(), 'अहिले कुरा गर्नुहोस्');
  await page.click('#talk-now');
  // Their own link: waiting, in Nepali, their place.
  await page.waitForURL(/\/join\//);
  await page.locator('#queued:not([hidden])').waitFor();
  assert.equal(await page.locator('#queued h1').innerText(), 'दोभाषेलाई पर्खँदै');
  assert.equal(await page.locator('#queued-ahead').innerText(), 'अब तपाईंको पालो हो।');
  assert.deepEqual(await accessibilityProblems(page), [], 'the waiting page');
  await snap(page, 'standing-link-waiting');
  // They stop waiting (asked first), in Nepali: the desk no longer lists them; the
  // centre's page is one tap away, and they ask again from it.
  await desk.page.locator('#line-callers li[data-online="1"]').waitFor();
  await page.click('#stop-waiting');
  assert.equal(await page.locator('#stop-ask-text').innerText(), 'पर्खन छोड्ने? तपाईंको पालो जानेछ।');
  await page.click('#stop-yes');
  await page.locator('#stopped:not([hidden])').waitFor();
  assert.equal(await page.locator('#stopped h1').innerText(), 'तपाईं अब पर्खिरहनुभएको छैन');
  await desk.page.locator('#line-callers li[data-online="1"]').waitFor({ state: 'detached' });
  await page.click('#to-centre');
  await page.waitForURL(/\/start\/1$/);
  await page.locator('#language-grid button[data-language=ne]').click();
  await page.locator('#talk-now:not([hidden])').waitFor();
  await page.click('#talk-now');
  await page.waitForURL(/\/join\//);
  await page.locator('#queued:not([hidden])').waitFor();
  // The online desk sees the resident waiting; the interpreter answers; the desk is in the call.
  await desk.page.locator('#line-callers li[data-online="1"]').waitFor();
  await interp.page.locator('#offer').waitFor();
  await interp.page.click('#accept');
  await desk.page.locator('#call').waitFor();
  // The resident's page offers to join, and they are in the call with both.
  await page.locator('#welcome:not([hidden])').waitFor({ timeout: 20000 });
  await page.click('#join');
  await page.locator('#call:not([hidden])').waitFor();
  for (const p of [desk.page, interp.page]) await p.locator('.tile[data-party=resident]').waitFor({ timeout: 20000 });
  for (const b of [desk, interp, resident]) assert.deepEqual(b.errors, []);
});
