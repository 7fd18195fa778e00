// The reports in real Chromium (issue 16), on the demo's forty days of made-up
// consultations: a supervisor goes from the wallboard to yesterday's daily report in one
// tap, sees every consultation the API lists, corrects a handling status, prints the
// report to PDF on A4 (Chromium's print, with the print stylesheet) and downloads the CSV
// and the workbook; the monthly statistics and the shared report render with their SVG
// charts; a member town's supervisor sees only their own town.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TABLET, party, snap, startServer, until, test } from './harness.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof party>>[]} */
const browsers = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await server?.stop();
});

/**
 * Sign in on the page's form.
 * @param {import('playwright-core').Page} page
 * @param {string} login
 */
async function signIn(page, login) {
  await page.fill('#login', login);
  await page.fill('#password', `demo-${login}`);
  await page.click('#signin-form button[type=submit]');
}

test('a supervisor opens yesterday\'s daily report from the wallboard, corrects it, prints it and downloads it', async () => {
  const b = await party({ tone: 440, viewport: { width: 1280, height: 900 } });
  browsers.push(b);
  const { page } = b;
  await page.goto(`${server.base}/wall/`);
  await signIn(page, 'supervisor-asahi');
  await page.locator('#board').waitFor();
  // One tap: the wallboard's "reports" opens yesterday's daily report.
  await page.click('#to-reports');
  await page.locator('#daily').waitFor();
  const sup = (await server.api('/api/sign-in', { body: { role: 'staff', login: 'supervisor-asahi', password: 'demo-supervisor-asahi' } })).token;
  // Yesterday by the tablet's clock, as the page counts it.
  const yesterday = await page.evaluate(() => {
    const d = new Date(Date.now() - 86_400_000);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  });
  assert.equal(await page.inputValue('#date'), yesterday, 'the report opens on yesterday');
  await until(async () => (await page.locator('#daily-title').innerText()).includes(`日報 ${yesterday} Asahi City`), 'yesterday\'s report');
  const shown = await server.api(`/api/reports/daily?municipality=1&date=${yesterday}`, { token: sup });
  await until(async () => (await page.locator('#daily-rows tr').count()) === shown.rows.length, 'yesterday\'s every consultation on the page');
  // The demo's history is thin at weekends (a Monday's yesterday is a Sunday): the rest
  // is done on the last weekday before, chosen on the form.
  let date = yesterday;
  while ([0, 6].includes(new Date(`${date}T12:00:00Z`).getUTCDay())) date = new Date(Date.parse(`${date}T12:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  if (date !== yesterday) {
    await page.fill('#date', date);
    await page.click('#daily-form button[type=submit]');
  }
  await until(async () => new RegExp(`日報 ${date} Asahi City`).test(await page.locator('#daily-title').innerText()), 'the report of the day');
  const report = await server.api(`/api/reports/daily?municipality=1&date=${date}`, { token: sup });
  assert.ok(report.rows.length > 5, 'the demo\'s history has consultations on a weekday');
  await until(async () => (await page.locator('#daily-rows tr').count()) === report.rows.length, 'every consultation on the page');
  assert.equal(await page.locator('[data-total=t_requests] dd').innerText(), String(report.totals.requests));
  await snap(page, 'reports-daily');

  // A consultation's status corrected later (a follow-up done): it stays set. Any day of
  // the demo, a Saturday too, has interpreted consultations, not always a follow-up.
  const row = report.rows.find((/** @type {any} */ r) => r.status === 'follow_up') || report.rows.find((/** @type {any} */ r) => r.status);
  assert.ok(row, 'an interpreted consultation in the day');
  const now = row.status === 'resolved' ? 'follow_up' : 'resolved';
  await page.selectOption(`#daily-rows tr[data-record="${row.record}"] select`, now);
  await until(async () => (await page.locator('#notice').innerText()).includes('更新しました'), 'saved');
  const again = await server.api(`/api/reports/daily?municipality=1&date=${date}`, { token: sup });
  assert.equal(again.rows.find((/** @type {any} */ r) => r.record === row.record).status, now);

  // Printed: only the report, on A4 landscape.
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('#daily-form').isVisible(), false, 'no controls on paper');
  assert.equal(await page.locator('header.bar').isVisible(), false, 'no header on paper');
  assert.ok(await page.locator('#daily-table').isVisible());
  const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
  await page.emulateMedia({ media: 'screen' });
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert.ok(pages >= 1, `pages: ${pages}`);
  const box = pdf.toString('latin1').match(/\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/);
  assert.ok(box && Math.abs(Number(box[1]) - 842) < 2 && Math.abs(Number(box[2]) - 595) < 2, `A4 landscape: ${box}`);
  fs.mkdirSync(path.join(os.tmpdir(), 'kakehashi-reports'), { recursive: true });
  fs.writeFileSync(path.join(os.tmpdir(), 'kakehashi-reports', 'daily.pdf'), pdf);

  // Downloaded: the CSV (with its byte order mark, for Excel) and the workbook.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  assert.equal(csv.suggestedFilename(), `daily-1-${date}.csv`);
  const text = fs.readFileSync(/** @type {string} */ (await csv.path()), 'utf8');
  assert.ok(text.startsWith('\ufeff日報'), text.slice(0, 40));
  assert.equal(text.trim().split('\r\n').length, 1 + 15 + 1 + 1 + report.rows.length, 'title, totals, blank, header, rows');
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('#xlsx')]);
  assert.equal(xlsx.suggestedFilename(), `daily-1-${date}.xlsx`);
  assert.equal(fs.readFileSync(/** @type {string} */ (await xlsx.path())).subarray(0, 2).toString(), 'PK');

  // In English, the same report.
  await page.click('#switch-lang');
  assert.match(await page.locator('#daily-title').innerText(), /^Daily report /);
  assert.deepEqual(b.errors, []);
});

test('a member town\'s supervisor sees only their own town\'s reports', async () => {
  const b = await party({ tone: 440, viewport: TABLET });
  browsers.push(b);
  const { page } = b;
  await page.goto(`${server.base}/reports/`);
  await signIn(page, 'supervisor-kita');
  await page.locator('#daily').waitFor();
  const towns = await page.locator('#municipality option').allInnerTexts();
  assert.deepEqual(towns, ['Kita Town']);
  await until(async () => (await page.locator('#daily-title').innerText()).includes('Kita Town'), 'Kita\'s report');
  // Asahi's report, asked for by address: refused, and the page says so.
  const token = await page.evaluate(() => sessionStorage.getItem('kk.wall.token'));
  const status = await page.evaluate(async (t) => (await fetch('/api/reports/daily?municipality=1&date=2026-01-05', { headers: { authorization: `Bearer ${t}` } })).status, token);
  assert.equal(status, 403);
  await page.goto(`${server.base}/reports/?municipality=1`);
  await page.locator('#daily').waitFor();
  assert.equal(await page.inputValue('#municipality'), '3', 'an address naming another town shows one\'s own');
  await snap(page, 'reports-daily-member');
  assert.deepEqual(b.errors, []);
});

test('the monthly statistics and the shared report render with their charts', async () => {
  const b = await party({ tone: 440, viewport: { width: 1280, height: 900 } });
  browsers.push(b);
  const { page } = b;
  await page.goto(`${server.base}/reports/`);
  await signIn(page, 'supervisor-asahi');
  await page.locator('#daily').waitFor();
  await page.click('#tab-monthly');
  await page.locator('#monthly').waitFor();
  await until(async () => (await page.locator('#monthly svg.chart').count()) === 5, 'five charts');
  const month = await page.inputValue('#month');
  const sup = (await server.api('/api/sign-in', { body: { role: 'staff', login: 'supervisor-asahi', password: 'demo-supervisor-asahi' } })).token;
  const report = await server.api(`/api/reports/monthly?municipality=1&month=${month}`, { token: sup });
  assert.ok(report.totals.requests > 100, `the demo's last month: ${report.totals.requests}`);
  assert.equal(await page.locator('[data-total=t_requests] dd').last().innerText(), String(report.totals.requests));
  // The hour chart's bars add up to the month's requests; the language chart has a bar each.
  const hours = await page.locator('#chart-hour rect[data-value]').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-value'))));
  assert.equal(hours.reduce((a, n) => a + n, 0), report.totals.requests);
  assert.equal(await page.locator('#chart-language rect[data-value]').count(), report.by_language.length);
  assert.ok((await page.locator('#interpreter-rows tr').count()) > 0, 'the interpreters\' activity');
  assert.match(page.url(), /view=monthly/);
  await snap(page, 'reports-monthly');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#m-csv')]);
  assert.equal(csv.suggestedFilename(), `monthly-1-${month}.csv`);

  // The shared report: every member town, no interpreters.
  await page.selectOption('#m-municipality', 'shared');
  await page.click('#monthly-form button[type=submit]');
  await until(async () => (await page.locator('#monthly-title').innerText()).startsWith('共有報告'), 'the shared report');
  assert.equal(await page.locator('#interpreters-block').isVisible(), false);
  assert.equal(await page.locator('#member-rows tr').count(), 3, 'Asahi City, Minami Town, Kita Town');
  await snap(page, 'reports-shared');
  assert.deepEqual(b.errors, []);
});

test('an admin sets how the shared centre splits its cost; the statement renders with its chart', async () => {
  const b = await party({ tone: 440, viewport: { width: 1280, height: 900 } });
  browsers.push(b);
  const { page } = b;
  await page.goto(`${server.base}/reports/?view=cost`);
  await page.fill('#login', 'admin');
  await page.fill('#password', 'demo-admin');
  await page.click('#signin-form button[type=submit]');
  await page.locator('#cost').waitFor();
  await page.locator('#rule-editor').waitFor();
  await page.click('#rule-editor summary');
  await page.fill('#r-cost', '1200000');
  await page.fill('#r-equal', '10');
  await page.fill('#r-residents', '60');
  await page.fill('#r-usage', '30');
  await page.fill('#r-count-3', '1500');
  await page.click('#rule-form button[type=submit]');
  await until(async () => (await page.locator('#cost-rule').innerText()).includes('1,200,000'), 'the new rule applied');
  const amounts = await page.locator('#cost-rows td.amount').allInnerTexts();
  assert.equal(amounts.length, 3);
  assert.equal(amounts.reduce((a, x) => a + Number(x.replace(/,/g, '')), 0), 1_200_000, 'whole yen adding up to the cost');
  assert.equal(await page.locator('#chart-cost rect[data-value]').count(), 3);
  const month = await page.inputValue('#c-month');
  const split = await server.api(`/api/reports/cost-split?month=${month}`, { token: server.admin });
  assert.equal(split.members[2].foreign_residents, 1500);
  await snap(page, 'reports-cost-split');
  // Kita Town's statement, and its workbook.
  await page.selectOption('#c-municipality', '3');
  await page.click('#cost-form button[type=submit]');
  await until(async () => (await page.locator('#cost-rows tr').count()) === 1, 'one member');
  assert.match(await page.locator('#cost-title').innerText(), /Kita Town$/);
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('#c-xlsx')]);
  assert.equal(xlsx.suggestedFilename(), `cost-split-3-${month}.xlsx`);
  assert.deepEqual(b.errors, []);

  // A member's supervisor reads the split, and cannot change it.
  const s = await party({ tone: 440, viewport: TABLET });
  browsers.push(s);
  await s.page.goto(`${server.base}/reports/?view=cost`);
  await signIn(s.page, 'supervisor-minami');
  await s.page.locator('#cost').waitFor();
  await until(async () => (await s.page.locator('#cost-rows tr').count()) === 3, 'every member');
  assert.equal(await s.page.locator('#rule-editor').isVisible(), false);
  assert.deepEqual(s.errors, []);
});

test('the staffing plan names the hours short of interpreters against the rosters', async () => {
  const b = await party({ tone: 440, viewport: { width: 1280, height: 900 } });
  browsers.push(b);
  const { page } = b;
  await page.goto(`${server.base}/reports/?view=staffing`);
  await signIn(page, 'supervisor-asahi');
  await page.locator('#staffing').waitFor();
  await until(async () => (await page.locator('#staffing-grids table.grid').count()) > 0, 'the grids');
  const sup = (await server.api('/api/sign-in', { body: { role: 'staff', login: 'supervisor-asahi', password: 'demo-supervisor-asahi' } })).token;
  const plan = await server.api('/api/reports/staffing?municipality=1', { token: sup });
  assert.equal(await page.locator('#staffing-gaps li').count(), plan.gaps.length, 'every gap, in words');
  const short = plan.slots.filter((/** @type {any} */ s) => s.needed > s.rostered).length;
  assert.equal(await page.locator('#staffing-grids td.gap').count(), short, 'every short hour marked');
  if (plan.gaps.length) assert.match(await page.locator('#staffing-gaps li').first().innerText(), /必要 \d+人、配置 \d+人/);
  await snap(page, 'reports-staffing');
  assert.deepEqual(b.errors, []);
});
