// The coordinator's hand and notices in real browsers: two desks ask for Uzbek while its
// only staff interpreter is in the first call; the second request waits (volunteers are
// reached only later by the policy). The wallboard lists it, the coordinator chooses the
// volunteer and rings them; the volunteer's console rings and they take the call. A notice
// the coordinator sends from the wallboard appears on both consoles at once. The desks show
// the centre's hours and its coming closure.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TABLET, accessibilityProblems, party, signInAvailable, snap, startServer, until, test } from './harness.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof party>>[]} */
const browsers = [];
/** @type {string[]} */
const codes = [];

before(async () => {
  server = await startServer();
  for (const [login, tier] of [['e2e-uz-staff', 'staff'], ['e2e-uz-volunteer', 'volunteer']]) {
    await server.api('/api/interpreters', {
      token: server.admin,
      body: { login, password: `${login}-password`, tier, languages: ['uz'], modalities: ['video', 'audio'], tenants: [1], roster: { always: true } },
    });
  }
  // The centre's calendar: open all day, closed the day after tomorrow (the desk says so).
  const inTokyo = (/** @type {number} */ days) => new Date(Date.now() + days * 86400000).toLocaleDateString('sv', { timeZone: 'Asia/Tokyo' });
  const week = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  await server.api('/api/tenants/1/calendar', {
    method: 'PUT',
    token: server.admin,
    body: {
      hours: [{ days: week, open: '00:00', close: '23:59' }],
      closed_on_holidays: false,
      closed_year_end: false,
      closures: [{ from: inTokyo(2), until: inTokyo(2), reason: '臨時休館' }],
    },
  });
  for (const name of ['E2E hand 1', 'E2E hand 2']) {
    codes.push((await server.api('/api/tenants/1/desks', { token: server.admin, body: { name } })).enrolment_code);
  }
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await server?.stop();
});

/** @param {import('playwright-core').Page} page @param {string} code */
async function deskAsks(page, code) {
  await page.goto(`${server.base}/desk/`);
  await page.fill('#enrol-code', code);
  await page.click('#enrol-form button[type=submit]');
  await page.locator('#languages button[data-lang=uz]').waitFor();
  // The centre's hours on the home screen: today's, and the coming closure with its reason.
  assert.match(await page.locator('#centre-hours').innerText(), /^本日の開所時間 00:00–23:59 · .+は閉所\(臨時休館\)$/);
  await page.click('#languages button[data-lang=uz]');
}

test("a coordinator rings a chosen interpreter for a waiting request, and sends the interpreters a notice", async () => {
  const staff = await party({ tone: 440, viewport: TABLET });
  const volunteer = await party({ tone: 550, viewport: TABLET });
  const desk1 = await party({ tone: 660, viewport: TABLET });
  const desk2 = await party({ tone: 770, viewport: TABLET });
  const wall = await party({ tone: 880, viewport: { width: 1280, height: 900 } });
  browsers.push(staff, volunteer, desk1, desk2, wall);
  await signInAvailable(staff.page, server.base, 'e2e-uz-staff', 'e2e-uz-staff-password');
  await signInAvailable(volunteer.page, server.base, 'e2e-uz-volunteer', 'e2e-uz-volunteer-password');
  // The staff interpreter takes the first desk's call.
  await deskAsks(desk1.page, codes[0]);
  await staff.page.locator('#offer').waitFor();
  await staff.page.click('#accept');
  await desk1.page.locator('#call').waitFor();
  // The second waits: the volunteer is not rung yet.
  await deskAsks(desk2.page, codes[1]);

  await wall.page.goto(`${server.base}/wall/`);
  await wall.page.fill('#login', 'supervisor-asahi');
  await wall.page.fill('#password', 'demo-supervisor-asahi');
  await wall.page.click('#signin-form button[type=submit]');
  await wall.page.locator('#board').waitFor();
  const row = wall.page.locator('#waiting-rows tr', { hasText: 'E2E hand 2' });
  await row.waitFor();
  assert.ok(await volunteer.page.locator('#offer').isHidden(), 'the volunteer is not rung by the policy yet');
  await row.locator('select').selectOption({ label: 'e2e-uz-volunteer' });
  assert.deepEqual(await accessibilityProblems(wall.page), [], 'the wallboard with a waiting request');
  await snap(wall.page, 'wallboard-hand');
  await row.locator('button').click();
  await volunteer.page.locator('#offer').waitFor();
  await volunteer.page.click('#accept');
  await desk2.page.locator('#call').waitFor();
  await until(async () => (await wall.page.locator('#waiting-rows tr').count()) === 0, 'nothing waits');

  // A notice to the municipality's interpreters: both consoles show it at once.
  await wall.page.fill('#notice-text', '明日の午前は臨時休館です。');
  await wall.page.click('#notice-form button[type=submit]');
  await until(async () => (await wall.page.locator('#notice').innerText()) === 'お知らせを送りました。', 'the notice sent');
  for (const page of [staff.page, volunteer.page]) {
    await until(async () => /明日の午前は臨時休館です。/.test(await page.locator('#notices').innerText()), 'the notice on the console');
  }
  const audit = await server.api('/api/audit-log?tenant=1', { token: server.admin });
  assert.ok(JSON.stringify(audit).includes('assign_request'), 'the hand is audited');
  for (const b of [staff, volunteer, desk1, desk2, wall]) assert.deepEqual(b.errors, []);
});
