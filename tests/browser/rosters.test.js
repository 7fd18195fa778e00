// The roster calendar in real browsers: every rule the engine supports (weekly days,
// the nth and last weekday of a month, overnight shifts, days off, extra hours, the
// interpreter's own entries, always on) goes through the admin page's form and back
// unchanged, and the week it makes is drawn; a coordinator builds a "2nd and 4th
// Thursday" rule with the controls; problems are shown beside their row. An interpreter
// adds a day off of their own on the console, and their coordinator sees it as theirs. A
// coordinator keeps the centre's opening calendar on a form (hours, closures, an evening
// session, problems beside their row) and it round-trips.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TABLET, accessibilityProblems, party, snap, startServer, until, test } from './harness.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof party>>[]} */
const browsers = [];
let id = 0;

/** Every rule, in the order and shape the server keeps them. */
const FULL = {
  always: false,
  time_zone: 'Asia/Tokyo',
  shifts: [
    { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:30', end: '17:15' },
    { days: ['fri'], start: '18:00', end: '22:00' },
    { weekday: 'wed', nth: [1, 3], start: '09:00', end: '12:00' },
    { weekday: 'fri', last: true, start: '13:00', end: '16:00' },
    { weekday: 'sat', nth: [2], last: true, start: '22:00', end: '06:00' },
  ],
  off: [{ from: '2027-01-01', until: '2027-01-03' }, { from: '2027-02-11', until: '2027-02-11', own: true }],
  extra: [{ date: '2027-01-09', start: '10:00', end: '12:00' }, { date: '2027-01-10', start: '23:00', end: '01:00', own: true }],
};

before(async () => {
  server = await startServer();
  ({ id } = await server.api('/api/interpreters', {
    token: server.admin,
    body: { login: 'e2e-roster', password: 'e2e-roster-password', tier: 'volunteer', languages: ['ne'], modalities: ['video'], tenants: [1], roster: FULL },
  }));
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await server?.stop();
});

const stored = async () => (await server.api('/api/interpreters', { token: server.admin })).find((/** @type {any} */ i) => i.id === id).roster;

/** @param {import('playwright-core').Page} page @param {string} login @param {string} password */
async function signIn(page, login, password) {
  await page.goto(`${server.base}/admin/`);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#tenants:not([hidden])');
  await page.click('#tabs button[data-tab=interpreters]');
  await page.waitForSelector('#interpreters:not([hidden])');
}

/** The week view's cells: date → what each says. @param {import('playwright-core').Locator} root */
const weekCells = (root) =>
  root.locator('.r-week td').evaluateAll((tds) => Object.fromEntries(tds.map((td) => [td.getAttribute('data-date'), /** @type {HTMLElement} */ (td).innerText.split('\n').filter(Boolean)])));

/** A time zone the server does not know, refused in the page's language. */
const zoneRefused = 'タイムゾーン: タイムゾーンが正しくありません(例 Asia/Tokyo)。';

test('every rule the engine supports goes through the roster calendar and back unchanged', async () => {
  const b = await party({ tone: 440, viewport: { width: 1280, height: 900 } });
  browsers.push(b);
  const { page } = b;
  await signIn(page, 'admin', 'demo-admin');
  const row = page.locator('#interpreter-rows tr', { hasText: 'e2e-roster' });
  await row.locator('button', { hasText: '編集' }).click();
  const editor = page.locator('#i-roster');
  assert.equal(await editor.locator('.r-shift').count(), 5);
  assert.equal(await editor.locator('.r-off .badge').count(), 1, "the interpreter's own day off is marked");
  // The week of 4 January 2027: weekdays, the 1st Wednesday, Friday evening, the 2nd
  // Saturday overnight and the extra hours.
  await editor.locator('.r-goto').fill('2027-01-06');
  assert.equal(await editor.locator('.r-week-label').innerText(), '2027-01-04 〜 2027-01-10');
  assert.deepEqual(await weekCells(editor), {
    '2027-01-04': ['08:30〜17:15'],
    '2027-01-05': ['08:30〜17:15'],
    '2027-01-06': ['08:30〜17:15', '09:00〜12:00'],
    '2027-01-07': ['08:30〜17:15'],
    '2027-01-08': ['08:30〜17:15', '18:00〜22:00'],
    '2027-01-09': ['10:00〜12:00', '22:00〜06:00 (翌)'],
    '2027-01-10': ['23:00〜01:00 (翌)'],
  });
  await editor.locator('.r-prev').click();
  const newYear = await weekCells(editor);
  assert.deepEqual(newYear['2027-01-01'], ['休み']);
  assert.deepEqual(newYear['2027-01-02'], ['休み'], 'the 1st Saturday is not the 2nd');
  await editor.locator('.r-goto').fill('2027-01-27');
  assert.deepEqual((await weekCells(editor))['2027-01-29'], ['08:30〜17:15', '13:00〜16:00', '18:00〜22:00'], 'the last Friday');
  assert.deepEqual((await weekCells(editor))['2027-01-30'], ['22:00〜06:00 (翌)'], 'the last Saturday');
  assert.deepEqual(await accessibilityProblems(page), [], 'the roster calendar');
  await snap(page, 'admin-roster-calendar');
  // Saved untouched: exactly what was there.
  await page.click('#interpreter-form button[type=submit]');
  await until(async () => (await page.locator('#notice').innerText()) === '保存しました。', 'saved');
  assert.deepEqual(await stored(), FULL);

  // Built with the controls on the roster card: the 2nd and 4th Thursday, 10:00 to 15:00.
  await row.locator('button.roster').click();
  const card = page.locator('#roster-editor');
  await card.locator('.r-add-monthly').click();
  const monthly = card.locator('.r-shift').last();
  await monthly.locator('.r-weekday').selectOption('thu');
  for (const n of ['1', '3']) await monthly.locator(`.r-n[value="${n}"]`).uncheck();
  for (const n of ['2', '4']) await monthly.locator(`.r-n[value="${n}"]`).check();
  await monthly.locator('.r-start').fill('10:00');
  await monthly.locator('.r-end').fill('15:00');
  // A weekly shift with no day is caught before sending, beside its row.
  await card.locator('.r-add-weekly').click();
  const weekly = card.locator('.r-shift').last();
  await weekly.locator('.r-day[value=mon]').uncheck();
  for (const d of ['tue', 'wed', 'thu', 'fri']) await weekly.locator(`.r-day[value=${d}]`).uncheck();
  await page.click('#roster-card button[type=submit]');
  assert.equal(await weekly.locator('.r-error').innerText(), '曜日を1つ以上選んでください。');
  await weekly.locator('.r-remove').click();
  // The server's refusal too, in the page's language: an unknown time zone.
  await card.locator('.r-zone').fill('Mars/Base');
  await page.click('#roster-card button[type=submit]');
  await until(async () => (await card.locator('.r-error-general').innerText()) === zoneRefused, 'the time zone refused beside the form');
  await card.locator('.r-zone').fill('Asia/Tokyo');
  await page.click('#roster-card button[type=submit]');
  await until(async () => page.locator('#roster-card').isHidden(), 'the roster saved');
  assert.deepEqual((await stored()).shifts.at(-1), { weekday: 'thu', nth: [2, 4], start: '10:00', end: '15:00' });
  assert.deepEqual((await stored()).off, FULL.off, "the interpreter's own entries kept as theirs");

  // Always on, and back.
  await row.locator('button.roster').click();
  await card.locator('.r-always').check();
  assert.ok(await card.locator('.r-body').isHidden());
  // The coordinator is told what goes with the days: the interpreter's own entries.
  const ownEntries = FULL.off.filter((e) => e.own).length + FULL.extra.filter((e) => e.own).length;
  assert.equal(await card.locator('.r-always-note').innerText(), `常に勤務にすると、通訳者本人が登録した休み・追加の勤務(${ownEntries}件)も消えます。`);
  await page.click('#roster-card button[type=submit]');
  await until(async () => (await stored()).always === true, 'always on');
  // Always on has no days: the interpreter's own went too. Back as they were, each
  // setting their own part.
  assert.deepEqual((await stored()).off, []);
  await server.api(`/api/interpreters/${id}/roster`, { method: 'PUT', token: server.admin, body: { roster: FULL } });
  const interpreter = (await server.api('/api/sign-in', { body: { role: 'interpreter', login: 'e2e-roster', password: 'e2e-roster-password' } })).token;
  const own = (/** @type {any[]} */ list) => list.filter((e) => e.own).map(({ own: _, ...e }) => e);
  await server.api('/api/me/roster', { method: 'PUT', token: interpreter, body: { off: own(FULL.off), extra: own(FULL.extra) } });
  assert.deepEqual(await stored(), FULL);
  assert.deepEqual(b.errors, []);
});

test('an interpreter adds a day off of their own; their coordinator sees it as theirs', async () => {
  const b = await party({ tone: 440, viewport: TABLET });
  browsers.push(b);
  const { page } = b;
  await page.goto(`${server.base}/interpreter/`);
  await page.fill('#login', 'e2e-roster');
  await page.fill('#password', 'e2e-roster-password');
  await page.click('#signin-form button[type=submit]');
  await page.locator('#console').waitFor();
  await page.click('#own-roster-card summary');
  const mine = page.locator('#own-roster');
  await mine.locator('.r-offs').waitFor();
  // The coordinator's shifts and days off are shown, not editable; their own are.
  assert.equal(await mine.locator('.r-shift').count(), 0);
  assert.match(await mine.locator('.r-fixed').first().innerText(), /毎月 第1・第3 水 09:00〜12:00/);
  assert.equal(await mine.locator('.r-off').count(), 1, 'their own day off only');
  await mine.locator('.r-add-off').click();
  await mine.locator('.r-off').last().locator('.r-from').fill('2027-03-01');
  await mine.locator('.r-off').last().locator('.r-until').fill('2027-03-05');
  await mine.locator('.r-goto').fill('2027-03-03');
  assert.deepEqual((await weekCells(mine))['2027-03-03'], ['休み'], 'the week shows it before saving');
  assert.deepEqual(await accessibilityProblems(page), [], "the interpreter's roster");
  await snap(page, 'interpreter-own-roster');
  await page.click('#own-roster-form button[type=submit]');
  await until(async () => (await stored()).off.length === 3, 'their day off saved');
  const roster = await stored();
  assert.deepEqual(roster.off, [...FULL.off, { from: '2027-03-01', until: '2027-03-05', own: true }]);
  assert.deepEqual(roster.shifts, FULL.shifts, "the coordinator's shifts untouched");
  assert.deepEqual(roster.extra, FULL.extra);
  assert.deepEqual(b.errors, []);

  // The coordinator sees it, marked as the interpreter's.
  const c = await party({ tone: 440, viewport: { width: 1280, height: 900 } });
  browsers.push(c);
  await signIn(c.page, 'supervisor-asahi', 'demo-supervisor-asahi');
  await c.page.locator('#interpreter-rows tr', { hasText: 'e2e-roster' }).locator('button.roster').click();
  const theirs = c.page.locator('#roster-editor .r-off', { has: c.page.locator('.badge') });
  assert.equal(await theirs.count(), 2);
  assert.equal(await theirs.last().locator('.r-from').inputValue(), '2027-03-01');
  assert.deepEqual(c.errors, []);
});

test("a coordinator keeps the centre's opening calendar on a form, not JSON", async () => {
  const b = await party({ tone: 440, viewport: { width: 1280, height: 900 } });
  browsers.push(b);
  const { page } = b;
  await signIn(page, 'supervisor-asahi', 'demo-supervisor-asahi');
  await page.click('#tabs button[data-tab=tenants]');
  await page.locator('#tenant-rows tr').first().locator('button.calendar').click();
  const panel = page.locator('#calendar-panel');
  await panel.locator('#calendar-form').waitFor();
  assert.match(await panel.innerText(), /まだ設定されていません/);
  const inTokyo = (/** @type {number} */ days) => new Date(Date.now() + days * 86400000).toLocaleDateString('sv', { timeZone: 'Asia/Tokyo' });
  // Saturday mornings beside the weekdays; a closure; an evening session.
  await panel.locator('.c-add-hours').click();
  const saturday = panel.locator('.c-hours').nth(1);
  for (const d of ['mon', 'tue', 'wed', 'thu', 'fri']) await saturday.locator(`.c-day[value=${d}]`).uncheck();
  await saturday.locator('.c-day[value=sat]').check();
  await saturday.locator('.c-open').fill('09:00');
  await saturday.locator('.c-close').fill('08:00');
  await panel.locator('.c-add-closure').click();
  const closure = panel.locator('.c-closure').first();
  await closure.locator('.c-from').fill(inTokyo(2));
  await closure.locator('.c-until').fill(inTokyo(2));
  await closure.locator('.c-reason').fill('臨時休館');
  await panel.locator('.c-add-extra').click();
  const evening = panel.locator('.c-extra').first();
  await evening.locator('.c-date').fill(inTokyo(3));
  await evening.locator('.c-open').fill('18:00');
  await evening.locator('.c-close').fill('20:00');
  await evening.locator('.c-note').fill('夜間相談');
  // Closing before opening is shown beside its row; a time zone the server does not know
  // is named by it.
  await panel.locator('#calendar-form button[type=submit]').click();
  assert.equal(await saturday.locator('.c-error').innerText(), '閉所の時刻が開所より前です。');
  await saturday.locator('.c-close').fill('12:00');
  await panel.locator('.c-tz').fill('Mars/Olympus');
  await panel.locator('#calendar-form button[type=submit]').click();
  await until(async () => (await panel.locator('.c-error-general').innerText()) === zoneRefused, 'the time zone refused, in Japanese');
  await panel.locator('.c-tz').fill('Asia/Tokyo');
  assert.deepEqual(await accessibilityProblems(page), [], 'the centre calendar');
  await snap(page, 'admin-centre-calendar');
  await panel.locator('#calendar-form button[type=submit]').click();
  await until(async () => (await page.locator('#notice').innerText()) === '保存しました。', 'saved');
  const expected = {
    time_zone: 'Asia/Tokyo',
    hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], open: '08:30', close: '17:15' }, { days: ['sat'], open: '09:00', close: '12:00' }],
    closed_on_holidays: true,
    closed_year_end: true,
    closures: [{ from: inTokyo(2), until: inTokyo(2), reason: '臨時休館' }],
    extra: [{ date: inTokyo(3), open: '18:00', close: '20:00', note: '夜間相談' }],
  };
  const read = async () => (await server.api('/api/tenants/1/calendar', { token: server.admin })).calendar;
  assert.deepEqual(await read(), expected);
  // The next two weeks as they come out, and saved untouched: exactly the same.
  await until(async () => /閉所\s+臨時休館/.test(await panel.locator(`#calendar-days tr[data-date="${inTokyo(2)}"]`).innerText()), 'the plans redrawn with the closure');
  assert.match(await panel.locator(`#calendar-days tr[data-date="${inTokyo(3)}"]`).innerText(), /18:00–20:00\s+夜間相談/);
  // Open now, or when it opens next, in Tokyo (where the calendar is), not the browser.
  assert.match(await panel.locator('.c-now').innerText(), /^(いま開所中です。|次の開所: .*(8:30|9:00|18:00))$/);
  await panel.locator('#calendar-form button[type=submit]').click();
  await until(async () => (await page.locator('#notice').innerText()) === '保存しました。', 'saved again');
  assert.deepEqual(await read(), expected);
  assert.deepEqual(b.errors, []);
});
