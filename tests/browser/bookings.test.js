// Bookings in real browsers: a coordinator books a Vietnamese residence-status
// consultation for tomorrow 10:00 with a remote administrative scrivener and the resident
// joining by link, and gets the links to send. The resident's page shows the slot in
// Vietnamese with a calendar file. The slot is then moved to two seconds from now (the
// short slot stands in for a test clock): at the slot the desk is prompted, the held
// interpreter is rung with the offer marked as a booking, and desk, interpreter, resident
// and scrivener are all in the call, each hearing and seeing the others.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PHONE, TABLET, accessibilityProblems, hears, party, received, seedDeskAndInterpreter, snap, startServer, tiles, tones, until, test } from './harness.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof party>>[]} */
const browsers = [];
let enrolmentCode = '';

before(async () => {
  server = await startServer();
  enrolmentCode = await seedDeskAndInterpreter(server, 'e2e-booked', 'E2E booking desk');
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await server?.stop();
});

const TONES = { desk: 440, interpreter: 660, resident: 880, guest: 1100 };

test('a booked consultation with a remote scrivener: booked, announced, and at the slot all four are in the call', async () => {
  const coordinator = await party({ tone: 300, viewport: { width: 1280, height: 900 } });
  browsers.push(coordinator);
  const page = coordinator.page;
  await page.goto(`${server.base}/bookings/`);
  await page.fill('#login', 'supervisor-asahi');
  await page.fill('#password', 'demo-supervisor-asahi');
  await page.click('#signin-form button[type=submit]');
  await page.locator('#book-form').waitFor();
  assert.deepEqual(await accessibilityProblems(page), [], 'the bookings page');
  await page.selectOption('#desk', { label: 'E2E booking desk' });
  await page.selectOption('#language', 'vi');
  await page.selectOption('#interpreter', { label: 'e2e-booked' });
  await page.selectOption('#specialist', 'scrivener');
  await page.selectOption('#specialist-joins', 'remote');
  await page.selectOption('#resident', 'link');
  await page.selectOption('#topic', 'residence_status');
  assert.equal(await page.inputValue('#time'), '10:00', 'tomorrow 10:00 by default');
  await page.fill('#minutes', '60');
  await page.click('#book-form button[type=submit]');
  await page.locator('#made:not([hidden])').waitFor();
  const residentLink = await page.locator('[data-link=resident_link]').innerText();
  const scrivenerLink = await page.locator('[data-link=specialist_link]').innerText();
  assert.match(residentLink, /\/join\//);
  assert.notEqual(residentLink, scrivenerLink);
  const row = page.locator('#list tbody tr');
  await until(async () => (await row.count()) === 1, 'the booking listed');
  assert.match(await row.innerText(), /Tiếng Việt[\s\S]*行政書士/);
  const id = Number(await row.getAttribute('data-booking'));
  await snap(page, 'bookings-coordinator');
  // Moved on the page to 11:00: the list says so; a clash would be refused with its reason.
  await row.locator('button[data-action=move]').click();
  await row.locator('.move-time').fill('11:00');
  await row.locator('button[data-action=move-save]').click();
  await until(async () => /11:00–12:00/.test(await page.locator('#list tbody tr').first().innerText()), 'the booking moved to 11:00');
  await page.locator('#list tbody tr').first().locator('button[data-action=move]').click();
  await page.locator('#list tbody tr').first().locator('.move-time').fill('10:00');
  await page.locator('#list tbody tr').first().locator('button[data-action=move-save]').click();
  await until(async () => /10:00–11:00/.test(await page.locator('#list tbody tr').first().innerText()), 'and back to 10:00');

  // The resident opens the link ahead: the slot in Vietnamese, and a calendar file.
  const resident = await party({ tone: TONES.resident, viewport: PHONE, mobile: true });
  browsers.push(resident);
  await resident.page.goto(residentLink);
  await resident.page.locator('#booked').waitFor();
  assert.equal(await resident.page.locator('html').getAttribute('lang'), 'vi');
  assert.equal(await resident.page.locator('#booked h1').innerText(), 'Buổi tư vấn của bạn đã được đặt lịch');
  assert.match(await resident.page.locator('#booked-when').innerText(), /10:00/);
  const ics = await fetch(new URL(/** @type {string} */ (await resident.page.locator('#add-calendar').getAttribute('href')), server.base));
  assert.equal(ics.status, 200);
  assert.match(await ics.text(), /BEGIN:VEVENT/);
  assert.deepEqual(await accessibilityProblems(resident.page), [], 'the booked page');
  await snap(resident.page, 'resident-booked');

  // A short slot stands in for tomorrow 10:00: moved to a few seconds from now.
  const sup = (await server.api('/api/sign-in', { body: { role: 'staff', login: 'supervisor-asahi', password: 'demo-supervisor-asahi' } })).token;
  const interpreterId = (await server.api('/api/interpreters', { token: sup })).find((/** @type {any} */ i) => i.login === 'e2e-booked').id;
  const start = new Date(Date.now() + 2000).toISOString();
  await server.api(`/api/bookings/${id}`, { method: 'PUT', token: sup, body: { start, minutes: 30, interpreter: interpreterId } });

  const desk = await party({ tone: TONES.desk, viewport: TABLET });
  const interp = await party({ tone: TONES.interpreter, viewport: { width: 1280, height: 800 } });
  browsers.push(desk, interp);
  await desk.page.goto(`${server.base}/desk/`);
  await desk.page.fill('#enrol-code', enrolmentCode);
  await desk.page.click('#enrol-form button[type=submit]');
  // Today's bookings are on the home screen (the slot may already have taken the desk
  // to its waiting screen).
  await desk.page.locator('#bookings-today:not([hidden])').waitFor({ state: 'attached' });
  assert.match((await desk.page.locator('#bookings-today-list').textContent()) || '', /Tiếng Việt[\s\S]*行政書士/);
  // The interpreter signs in: the booking is on the console, and going available rings
  // them for it at once (the slot has begun).
  await interp.page.goto(`${server.base}/interpreter/`);
  await interp.page.fill('#login', 'e2e-booked');
  await interp.page.fill('#password', 'e2e-booked-password');
  await interp.page.click('#signin-form button[type=submit]');
  await interp.page.locator('#console').waitFor();
  await until(async () => /Asahi City/.test(await interp.page.locator('#bookings').innerText()), 'the booking on the console');
  await interp.page.click('#go-available');

  // At the slot: the desk is prompted, the interpreter rung for the booking.
  await desk.page.locator('#waiting').waitFor({ timeout: 40000 });
  assert.match(await desk.page.locator('#waiting-state').innerText(), /予約/);
  await interp.page.locator('#offer').waitFor({ timeout: 40000 });
  assert.ok(await interp.page.locator('#offer-booking').isVisible(), 'the offer says it is a booking');
  await interp.page.click('#accept');
  await desk.page.locator('#call').waitFor();

  // The resident's page lets them in once it has begun; the scrivener joins as a guest.
  await resident.page.locator('#welcome').waitFor({ timeout: 20000 });
  await resident.page.click('#join');
  const scrivener = await party({ tone: TONES.guest, viewport: TABLET });
  browsers.push(scrivener);
  await scrivener.page.goto(scrivenerLink);
  await scrivener.page.locator('#welcome').waitFor();
  await scrivener.page.click('#join');

  const everyone = {
    desk: [desk.page, ['interpreter', 'resident', 'guest']],
    interpreter: [interp.page, ['desk', 'resident', 'guest']],
    resident: [resident.page, ['desk', 'interpreter', 'guest']],
    guest: [scrivener.page, ['desk', 'interpreter', 'resident']],
  };
  for (const [who, [p, others]] of Object.entries(everyone)) {
    const pg = /** @type {import('playwright-core').Page} */ (p);
    const want = /** @type {string[]} */ (others);
    await until(async () => {
      const r = await received(pg);
      return want.every((o) => r[o]?.videoFrames > 0);
    }, `${who} to see ${want}`, 30000);
    await until(async () => {
      const h = await tones(pg);
      return want.every((o) => hears(h[o], TONES[/** @type {keyof typeof TONES} */ (o)])) ? h : null;
    }, `${who} to hear ${want}`, 20000);
    const shown = await tiles(pg);
    assert.deepEqual(shown.map((s) => s.party).sort(), [...want].sort(), `${who}: a tile per participant`);
    assert.ok(shown.every((s) => s.name), `${who}: every tile labelled by role`);
  }
  await snap(desk.page, 'desk-booked-call');
  await snap(scrivener.page, 'scrivener-booked-call');
  // Four browsers in a call are heavy: let them go before the next test.
  for (const b of browsers.splice(0)) await b.close().catch(() => {});
});

test('the desk grid says which languages are available now, later today, by booking or by phone', async () => {
  // A municipality whose local time is about 10:00 now (its time zone chosen so), so that
  // "later today" and "tomorrow" do not depend on when the test runs. Lao from 13:00
  // today, Sinhala tomorrow 10:00, Uzbek nobody.
  const utcHour = new Date().getUTCHours();
  let offset = 10 - utcHour;
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  const zone = offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  const today = new Date(Date.now() + offset * 3600000).getUTCDay();
  const tenant = (await server.api('/api/tenants', { token: server.admin, body: { name: 'Grid Town', foreign_residents: 500, time_zone: zone } })).id;
  const code = (await server.api(`/api/tenants/${tenant}/desks`, { token: server.admin, body: { name: 'Grid desk' } })).enrolment_code;
  for (const [login, language, day, start, end] of [['e2e-lo', 'lo', today, '13:00', '15:00'], ['e2e-si', 'si', (today + 1) % 7, '10:00', '12:00']]) {
    await server.api('/api/interpreters', {
      token: server.admin,
      body: {
        login,
        password: `${login}-password`,
        tier: 'staff',
        languages: [language],
        modalities: ['video', 'audio'],
        tenants: [tenant],
        roster: { time_zone: zone, shifts: [{ days: [days[/** @type {number} */ (day)]], start, end }] },
      },
    });
  }
  const desk = await party({ tone: 440, viewport: TABLET });
  browsers.push(desk);
  await desk.page.goto(`${server.base}/desk/`);
  await desk.page.fill('#enrol-code', code);
  await desk.page.click('#enrol-form button[type=submit]');
  const state = (/** @type {string} */ tag) => desk.page.locator(`#languages button[data-lang=${tag}] .avail`).getAttribute('data-avail');
  await until(async () => (await state('lo')) === 'later_today', 'Lao later today');
  assert.equal(await state('si'), 'booking');
  assert.equal(await state('uz'), 'phone');
  assert.match(await desk.page.locator('#languages button[data-lang=lo] .avail').innerText(), /から/);
  assert.deepEqual(await accessibilityProblems(desk.page), [], 'the grid with its answers');
  await snap(desk.page, 'desk-grid-availability');
  // "Nobody now" leads straight to booking the earliest slot.
  await desk.page.click('#languages button[data-lang=si]');
  await desk.page.locator('#book-earliest').click();
  await until(async () => /予約しました/.test(await desk.page.locator('#notice').innerText()), 'the booking made');
  const sup = (await server.api('/api/sign-in', { body: { role: 'staff', login: 'admin', password: 'demo-admin' } })).token;
  const booked = await server.api(`/api/bookings?tenant=${tenant}`, { token: sup });
  assert.equal(booked.length, 1);
  assert.equal(booked[0].language, 'si');
});
