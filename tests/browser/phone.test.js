// Joining by phone in real browsers: the server answers a phone line itself (`[phone]`),
// and SIPp plays the phone, calling in through a "trunk" on loopback. The desk (440 Hz)
// and the interpreter (660 Hz) are in a call; the desk's "join by phone" shows the number
// and a PIN; the phone keys it by SIP INFO and echoes every RTP packet it gets. So the
// phone's tile in both browsers plays both tones: the phone heard the browsers, and the
// browsers hear the phone. When the phone hangs up, the desk is told. Then the other way:
// at a booked slot whose resident joins by phone, the desk is asked to call them and
// calls a phone (SIPp answering through the "trunk"), all three hear each other,
// the desk ends the call, the phone is hung up on, and the record counts one phone.
// Last, a language line answered by the first desk while it is still in its call: the
// caller waits in its queue (the desk lists them), an interpreter accepts, and the desk
// joins the caller's call once its own consultation is over; a second caller waits, and
// the desk ends their wait from its list.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, TABLET, accessibilityProblems, answeredCall, freeMediaPort, hears, party, seedDeskAndInterpreter, signInAvailable, snap, startServer, tones, until, test } from './harness.js';

/** The demo's made-up history ends before today: this run's records come after this. */
const SINCE = Date.now();
const LINE = '0120-555-000';
/** A language line for Vietnamese, answered by the first test's desk: the demo's six
 * desks come first, so it is desk 7 (checked when it is made). */
const VI_LINE = '0120-555-111';
const LINE_DESK = 7;
const SIPP = path.join(ROOT, 'crates/phone/tests/sipp');

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof party>>[]} */
const browsers = [];
let enrolmentCode = '';
let sipPort = 0;
let trunkPort = 0;

before(async () => {
  assert.ok(fs.existsSync('/usr/bin/sipp'), 'SIPp is missing: apt-get install sip-tester (scripts/test.sh does)');
  sipPort = await freeMediaPort();
  trunkPort = await freeMediaPort();
  const config = `phone_number = "${LINE}"\n[phone]\nsip_listen = "127.0.0.1:${sipPort}"\ntrunks = ["127.0.0.1"]\ndial_trunk = "127.0.0.1:${trunkPort}"\n` +
    `[[phone.line]]\nnumber = "${VI_LINE}"\ndesk = ${LINE_DESK}\nlanguages = ["vi"]\n`;
  server = await startServer({ KAKEHASHI_LOG: 'warn,kakehashi=info,kakehashi_phone=debug' }, config);
  enrolmentCode = await seedDeskAndInterpreter(server, 'e2e-phone', 'E2E phone');
  const desks = await server.api('/api/desks', { token: server.admin });
  assert.equal(desks.find((/** @type {any} */ d) => d.name === 'E2E phone')?.id, LINE_DESK, 'the line names the first test\'s desk');
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await server?.stop();
});

/**
 * SIPp with `args`, in `cwd`: its exit code, what it said, and a way to stop it.
 * @param {string[]} args
 * @param {string} cwd
 */
function runSipp(args, cwd) {
  const child = spawn('sipp', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return { exited, err: () => err, kill: () => child.kill() };
}

/**
 * SIPp's scenario: key `pin` and `#` by SIP INFO (nothing if `pin` is empty), then echo
 * for `talkMs`, then BYE (`uac_pin_echo.xml`); or with `file` another of the same shape
 * (`uac_told_bye.xml`: wait up to `talkMs` to be hung up on).
 * @param {string} pin
 * @param {number} talkMs
 * @param {string} [file]
 */
function scenario(pin, talkMs, file = 'uac_pin_echo.xml') {
  const key = fs.readFileSync(path.join(SIPP, 'info_key.xml.part'), 'utf8');
  let cseq = 2;
  let keys = '';
  for (const k of pin ? `${pin}#` : '') keys += key.replace('CSEQ', String(cseq++)).replace('KEY', k);
  const text = fs
    .readFileSync(path.join(SIPP, file), 'utf8')
    .replace('<!-- KEYS -->\n', keys)
    .replace('CSEQ BYE', `${cseq} BYE`)
    .replaceAll('TALK', String(talkMs));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kakehashi-sipp-'));
  fs.writeFileSync(path.join(dir, 'scenario.xml'), text);
  return dir;
}

test('a phone joins with the desk\'s PIN: both browsers hear it, and it hears them', async () => {
  const desk = await party({ tone: 440, viewport: TABLET });
  const interp = await party({ tone: 660, viewport: { width: 1280, height: 800 } });
  browsers.push(desk, interp);
  await answeredCall(desk.page, interp.page, server.base, enrolmentCode, 'e2e-phone');

  await desk.page.click('#invite-phone');
  await desk.page.locator('#phone-panel').waitFor();
  assert.equal(await desk.page.locator('#phone-number').innerText(), LINE);
  const pin = (await desk.page.locator('#phone-pin').innerText()).replace(/\s/g, '');
  assert.match(pin, /^\d{6}$/);
  assert.match(await desk.page.locator('#phone-help').innerText(), /暗証番号/);
  assert.deepEqual(await accessibilityProblems(desk.page), []);
  await snap(desk.page, 'desk-phone-invite');

  const dir = scenario(pin, 12000);
  const free = async () => (await freeMediaPort()).toString();
  const sipp = runSipp(
    [`127.0.0.1:${sipPort}`, '-sf', 'scenario.xml', '-s', LINE.replace(/-/g, ''), '-i', '127.0.0.1', '-mi', '127.0.0.1',
      '-p', await free(), '-mp', await free(), '-rtp_echo', '-m', '1', '-nostdin', '-trace_err', '-timeout', '60s', '-timeout_error'],
    dir,
  );
  try {
    // The phone's tile appears on both screens; the panel closes on the desk.
    for (const page of [desk.page, interp.page]) await page.locator('.tile[data-party=phone]').waitFor({ timeout: 30000 });
    assert.ok(await desk.page.locator('#phone-panel').isHidden());
    // Through the phone, each browser hears both tones: the phone heard them both.
    for (const [who, page] of /** @type {const} */ ([['desk', desk.page], ['interpreter', interp.page]])) {
      const heard = await until(async () => {
        const t = (await tones(page)).phone;
        return hears(t, 440) && hears(t, 660) ? t : null;
      }, `the ${who} to hear both tones through the phone`, 15000);
      assert.ok(heard);
    }
    await snap(desk.page, 'desk-call-with-phone');
    await until(async () => (await interp.page.locator('#notice').innerText()).includes('電話の参加者がつながりました'), 'the interpreter told the phone joined');
    // The phone hangs up: the desk is told, the call goes on.
    assert.equal(await sipp.exited, 0, `SIPp: ${sipp.err()}`);
    await until(async () => (await desk.page.locator('#notice').innerText()).includes('電話の参加者の通話が終わりました'), 'the desk told the phone hung up');
    assert.ok(await desk.page.locator('#call').isVisible());
  } catch (e) {
    console.error(`server log:\n${server.log()}\nSIPp:\n${sipp.err()}`);
    throw e;
  } finally {
    sipp.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual([...desk.errors, ...interp.errors], []);
});

test('at a booked slot whose resident joins by phone, the desk calls them into the call: all three hear each other, and the record counts it', async () => {
  const code = await seedDeskAndInterpreter(server, 'e2e-dial', 'E2E dial');
  const desk = await party({ tone: 440, viewport: TABLET });
  const interp = await party({ tone: 660, viewport: { width: 1280, height: 800 } });
  browsers.push(desk, interp);
  await desk.page.goto(`${server.base}/desk/`);
  await desk.page.fill('#enrol-code', code);
  await desk.page.click('#enrol-form button[type=submit]');
  await desk.page.locator('#languages button[data-lang=vi]').waitFor();
  await signInAvailable(interp.page, server.base, 'e2e-dial', 'e2e-dial-password');
  // A booking whose resident joins by phone, its slot a few seconds from now.
  const deskId = (await server.api('/api/desks', { token: server.admin })).find((/** @type {any} */ d) => d.name === 'E2E dial').id;
  const interpreter = (await server.api('/api/interpreters', { token: server.admin })).find((/** @type {any} */ i) => i.login === 'e2e-dial').id;
  const start = new Date(Date.now() + 3000).toISOString();
  await server.api('/api/bookings', { token: server.admin, body: { desk: deskId, language: 'vi', start, minutes: 30, resident: 'phone', interpreter } });
  await until(async () => (await desk.page.locator('#waiting-estimate').innerText()).includes('相談者には通訳者がつながってから電話をかけます'), 'the desk told it will call the resident');
  await interp.page.locator('#offer').waitFor();
  await interp.page.click('#accept');
  await desk.page.locator('#call').waitFor();
  // In the call, the desk is asked to call the resident: the dial panel is open.
  await desk.page.locator('#dial-panel:not([hidden])').waitFor();
  assert.equal(await desk.page.evaluate(() => document.activeElement?.id), 'dial-number');

  const free = async () => (await freeMediaPort()).toString();
  const sipp = runSipp(
    ['-sf', 'uas_echo.xml', '-i', '127.0.0.1', '-mi', '127.0.0.1', '-p', String(trunkPort), '-mp', await free(), '-rtp_echo',
      '-m', '1', '-nostdin', '-trace_err', '-timeout', '60s'],
    SIPP,
  );
  try {
    await desk.page.fill('#dial-number', '090-1234-5678');
    assert.deepEqual(await accessibilityProblems(desk.page), []);
    await snap(desk.page, 'desk-call-a-phone');
    await desk.page.click('#dial');
    assert.equal(await desk.page.locator('#dial-number').inputValue(), '', 'the number is not kept on the page');
    await until(async () => (await desk.page.locator('#notice').innerText()).includes('呼び出し中'), 'the desk told it is calling');
    for (const page of [desk.page, interp.page]) await page.locator('.tile[data-party=phone]').waitFor({ timeout: 30000 });
    for (const [who, page] of /** @type {const} */ ([['desk', desk.page], ['interpreter', interp.page]])) {
      await until(async () => {
        const t = (await tones(page)).phone;
        return hears(t, 440) && hears(t, 660);
      }, `the ${who} to hear both tones through the phone`, 15000);
    }
    // The desk ends the call: the phone is hung up on, and the record counts it.
    await desk.page.click('#end');
    await desk.page.locator('#outcome').waitFor();
    assert.equal(await sipp.exited, 0, `SIPp: ${sipp.err()}`);
    const records = await until(async () => {
      const all = await server.api(`/api/call-records?since=${SINCE}`, { token: server.admin });
      return all.find((/** @type {any} */ r) => r.phones === 1);
    }, 'a record with the phone');
    assert.equal(records.outcome, 'answered');
    assert.ok(!/1234-?5678/.test(JSON.stringify(records)), 'no number in the record');
  } catch (e) {
    console.error(`server log:\n${server.log()}\nSIPp:\n${sipp.err()}`);
    throw e;
  } finally {
    sipp.kill();
  }
  assert.deepEqual([...desk.errors, ...interp.errors], []);
});

test('a caller of a language line waits in the busy desk\'s queue and the desk joins them after its consultation', async () => {
  const desk = browsers[0];
  assert.ok(desk && (await desk.page.locator('#call').isVisible()), 'the first test left its desk in its call');
  await server.api('/api/interpreters', {
    token: server.admin,
    body: { login: 'e2e-line', password: 'e2e-line-password', tier: 'staff', languages: ['vi'], modalities: ['video', 'audio'], tenants: [1], roster: { always: true } },
  });
  const interp = await party({ tone: 660, viewport: { width: 1280, height: 800 } });
  browsers.push(interp);
  await signInAvailable(interp.page, server.base, 'e2e-line', 'e2e-line-password');

  const dir = scenario('', 60000);
  const toldDir = scenario('', 40000, 'uac_told_bye.xml');
  const free = async () => (await freeMediaPort()).toString();
  const sipp = runSipp(
    [`127.0.0.1:${sipPort}`, '-sf', 'scenario.xml', '-s', VI_LINE.replace(/-/g, ''), '-i', '127.0.0.1', '-mi', '127.0.0.1',
      '-p', await free(), '-mp', await free(), '-rtp_echo', '-m', '1', '-nostdin', '-trace_err', '-timeout', '90s', '-timeout_error'],
    dir,
  );
  try {
    // The desk, busy with its consultation, lists the caller waiting.
    await desk.page.locator('#line-queue').waitFor({ timeout: 30000 });
    assert.match(await desk.page.locator('#line-callers').innerText(), /Tiếng Việt/);
    assert.deepEqual(await accessibilityProblems(desk.page), []);
    await snap(desk.page, 'desk-line-caller-waiting');
    // An interpreter accepts: the desk is told it joins after this consultation.
    await interp.page.locator('#offer').waitFor({ timeout: 15000 });
    await interp.page.click('#accept');
    await until(async () => (await desk.page.locator('#notice').innerText()).includes('この相談を終えると参加します'), 'the desk told the caller is connected');
    assert.ok(await desk.page.locator('#line-queue').isHidden());
    await desk.page.click('#end');
    await desk.page.locator('#outcome').waitFor();
    await desk.page.click('#outcome-skip');
    // The caller's call: the desk, the interpreter and the phone hear each other.
    for (const page of [desk.page, interp.page]) await page.locator('.tile[data-party=phone]').waitFor({ timeout: 30000 });
    for (const [who, page] of /** @type {const} */ ([['desk', desk.page], ['interpreter', interp.page]])) {
      await until(async () => {
        const t = (await tones(page)).phone;
        return hears(t, 440) && hears(t, 660);
      }, `the ${who} to hear both tones through the phone`, 15000);
    }
    await snap(desk.page, 'desk-line-call');
    // A second caller waits (the interpreter is busy); staff end their wait from the
    // list: the caller is told nobody can take the call now and hung up on.
    const told = runSipp(
      [`127.0.0.1:${sipPort}`, '-sf', 'scenario.xml', '-s', VI_LINE.replace(/-/g, ''), '-i', '127.0.0.1', '-mi', '127.0.0.1',
        '-p', await free(), '-mp', await free(), '-m', '1', '-nostdin', '-trace_err', '-timeout', '60s', '-timeout_error'],
      toldDir,
    );
    try {
      const end = desk.page.getByRole('button', { name: /Tiếng Việt/ });
      await end.waitFor({ timeout: 30000 });
      assert.deepEqual(await accessibilityProblems(desk.page), []);
      // The harness accepts every dialog (here: "end this caller's wait?").
      await end.click();
      await desk.page.locator('#line-queue').waitFor({ state: 'hidden' });
      assert.equal(await told.exited, 0, `SIPp (told): ${told.err()}`);
    } finally {
      told.kill();
    }
    assert.equal(await sipp.exited, 0, `SIPp: ${sipp.err()}`);
  } catch (e) {
    console.error(`server log:\n${server.log()}\nSIPp:\n${sipp.err()}`);
    throw e;
  } finally {
    sipp.kill();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(toldDir, { recursive: true, force: true });
  }
  assert.deepEqual([...desk.errors, ...interp.errors], []);
});
