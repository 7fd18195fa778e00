// A whole consultation in three real browsers: the desk asks for Vietnamese, the
// interpreter accepts, the desk invites a remote resident, the resident joins from the
// link; each hears the other two's tones and decodes their video; the resident shows a
// document; the desk ends and records the outcome; the call record exists; the used link
// is refused. Then a resident whose camera is refused joins with audio only, and a desk
// whose connection drops while the interpreter is ringing resumes (with the last event
// number it had) into the call.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { PHONE, TABLET, accessibilityProblems, hears, noisePng, party, received, recordSockets, setOffline, signInAvailable, snap, startServer, tones, until, sleep, test } from './harness.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof party>>[]} */
const browsers = [];
/** The demo's made-up history ends before today: this run's records come after this. */
const SINCE = Date.now();
let enrolmentCode = '';
/** The partner Asahi's desks refer residents to. */
let partner = 0;
let secondCode = '';

const DESK_TONE = 440;
const INTERPRETER_TONE = 660;
const RESIDENT_TONE = 880;

before(async () => {
  server = await startServer();
  // An interpreter on duty at any hour, for the demo's first tenant (Asahi City).
  await server.api('/api/interpreters', {
    token: server.admin,
    body: {
      login: 'e2e-vi',
      password: 'e2e-vi-password',
      tier: 'staff',
      languages: ['vi'],
      modalities: ['video', 'audio'],
      tenants: [1],
      roster: { always: true },
    },
  });
  // Where Asahi's desks may refer residents (the outcome screen offers it): one of the
  // demo's, and one added here.
  partner = (await server.api('/api/tenants/1/partners', { token: server.admin, body: { name: '多文化共生センター', kind: 'npo' } })).id;
  // Asahi keeps handling notes (off by default): the outcome screen offers one.
  const keeps = { records_days: 1825, audit_days: 1825, handling_notes: true, notes_days: 365 };
  await server.api('/api/tenants/1/retention', { method: 'PUT', token: server.admin, body: keeps });
  enrolmentCode = (await server.api('/api/tenants/1/desks', { token: server.admin, body: { name: 'E2E counter' } })).enrolment_code;
  secondCode = (await server.api('/api/tenants/1/desks', { token: server.admin, body: { name: 'E2E counter 2' } })).enrolment_code;
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await server?.stop();
});

/**
 * The Vietnamese interpreter signs in on the console and becomes available.
 * @param {import('playwright-core').Page} page
 */
const signIn = (page) => signInAvailable(page, server.base, 'e2e-vi', 'e2e-vi-password');

/** @param {Awaited<ReturnType<typeof party>>} b */
function noErrors(b, who) {
  assert.deepEqual(b.errors, [], `${who}: errors in the page`);
}

test('a consultation with a remote resident, end to end', async () => {
  const desk = await party({ tone: DESK_TONE, viewport: TABLET });
  const interp = await party({ tone: INTERPRETER_TONE, viewport: { width: 1280, height: 800 } });
  browsers.push(desk, interp);

  // The desk enrols once, in Japanese, and sees the language grid.
  await desk.page.goto(`${server.base}/desk/`);
  await desk.page.locator('#enrol').waitFor();
  await snap(desk.page, 'desk-enrol');
  await desk.page.fill('#enrol-code', enrolmentCode);
  await desk.page.click('#enrol-form button[type=submit]');
  await desk.page.locator('#languages button[data-lang=vi]').waitFor();
  assert.equal(await desk.page.locator('html').getAttribute('lang'), 'ja');
  assert.match(await desk.page.locator('#languages button[data-lang=vi]').innerText(), /Tiếng Việt[\s\S]*ベトナム語/);
  await until(() => desk.page.locator('#languages button[data-lang=vi]').isEnabled(), 'the desk to be connected');
  await snap(desk.page, 'desk-home');

  // The interpreter signs in and becomes available.
  await signIn(interp.page);
  await snap(interp.page, 'interpreter-console');

  // One tap on Vietnamese: the interpreter is ringing.
  await desk.page.click('#languages button[data-lang=vi]');
  await desk.page.locator('#waiting').waitFor();
  await snap(desk.page, 'desk-waiting');
  const offer = interp.page.locator('#offer');
  await offer.waitFor();
  assert.match(await interp.page.locator('#offer-tenant').innerText(), /Asahi City/);
  await snap(interp.page, 'interpreter-offer');
  await interp.page.click('#accept');

  // Desk and interpreter in the call, media both ways.
  await desk.page.locator('#call').waitFor();
  await interp.page.locator('#call').waitFor();
  await until(async () => (await received(desk.page)).interpreter?.videoFrames > 0, 'the desk to decode the interpreter\'s video');
  await until(async () => (await received(interp.page)).desk?.videoFrames > 0, 'the interpreter to decode the desk\'s video');

  // The desk invites the resident: a QR code and the link.
  await desk.page.click('#invite');
  await desk.page.locator('#invite-panel').waitFor();
  const link = await desk.page.locator('#invite-link').innerText();
  assert.match(link, /\/join\/[0-9a-f]+$/);
  assert.match(await desk.page.locator('#share-whatsapp').getAttribute('href') || '', /^https:\/\/wa\.me\/\?text=/);
  assert.match(await desk.page.locator('#share-line').getAttribute('href') || '', /^https:\/\/line\.me\/R\/share\?text=/);
  assert.equal(await desk.page.locator('#invite-qr').evaluate((img) => /** @type {HTMLImageElement} */ (img).naturalWidth > 0), true);
  await snap(desk.page, 'desk-invite');

  // The resident opens the link on a phone, in Vietnamese, taps Join once.
  const resident = await party({ tone: RESIDENT_TONE, viewport: PHONE, mobile: true });
  browsers.push(resident);
  /** @type {Promise<number>[]} */
  const bodies = [];
  resident.page.on('response', (r) => {
    if (r.request().resourceType() !== 'websocket') bodies.push(r.body().then((b) => b.length, () => 0));
  });
  const opened = Date.now();
  await resident.page.goto(link);
  await resident.page.locator('#welcome').waitFor();
  await resident.page.waitForLoadState('networkidle');
  const weight = (await Promise.all(bodies)).reduce((a, b) => a + b, 0);
  console.log(`resident page: ${weight} bytes in ${bodies.length} responses`);
  assert.ok(weight < 150 * 1024, `the resident page weighs under 150 KB: ${weight} bytes`);
  assert.equal(await resident.page.locator('html').getAttribute('lang'), 'vi');
  assert.equal(await resident.page.locator('#join').innerText(), 'Tham gia');
  await resident.page.click('#join');
  await until(async () => {
    const r = await received(resident.page);
    return r.interpreter?.videoFrames > 0 && r.desk?.videoFrames > 0 && r.interpreter.audioPackets > 0 && r.desk.audioPackets > 0;
  }, 'the resident to receive both parties');
  // A figure, not a check: on a shared machine a timed assertion fails with the machine's
  // other load, not with the product (docs/benchmarks.md keeps the figures).
  console.log(`resident: media flowing ${Date.now() - opened} ms after opening the link`);
  await sleep(300);
  const scroll = await resident.page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scroll <= PHONE.width, `no sideways scrolling at ${PHONE.width} px: ${scroll}`);

  // Every browser decodes the other two's video and hears their tones.
  await until(async () => (await received(desk.page)).resident?.videoFrames > 0, 'the desk to decode the resident\'s video');
  await until(async () => (await received(interp.page)).resident?.videoFrames > 0, 'the interpreter to decode the resident\'s video');
  const expect = {
    desk: [desk.page, { interpreter: INTERPRETER_TONE, resident: RESIDENT_TONE }],
    interpreter: [interp.page, { desk: DESK_TONE, resident: RESIDENT_TONE }],
    resident: [resident.page, { desk: DESK_TONE, interpreter: INTERPRETER_TONE }],
  };
  for (const [who, [page, want]] of Object.entries(expect)) {
    const heard = await until(async () => {
      const h = await tones(/** @type {any} */ (page));
      return Object.entries(/** @type {Record<string, number>} */ (want)).every(([p, hz]) => hears(h[p], hz)) ? h : null;
    }, `${who} to hear ${JSON.stringify(want)}`, 20000);
    console.log(`${who} hears ${JSON.stringify(heard)}`);
    for (const [p, hz] of Object.entries(/** @type {Record<string, number>} */ (want))) {
      for (const [other, otherHz] of Object.entries(/** @type {Record<string, number>} */ (want))) {
        if (other !== p) assert.ok(!hears(heard[p], otherHz), `${who}: ${p}'s stream carries only ${p}'s tone`);
      }
      void hz;
    }
  }
  await snap(resident.page, 'resident-call');
  await snap(desk.page, 'desk-call');
  await snap(interp.page, 'interpreter-call');

  // The resident shows a document: a photo of many parts, byte for byte on both screens.
  const photo = await noisePng(700);
  const digest = crypto.createHash('sha256').update(photo).digest('hex');
  await resident.page.setInputFiles('#document-file', { name: 'card.png', mimeType: 'image/png', buffer: photo });
  for (const [who, page] of [['desk', desk.page], ['interpreter', interp.page]]) {
    const viewer = /** @type {any} */ (page).locator('.viewer img');
    await viewer.waitFor({ timeout: 20000 });
    assert.equal(await viewer.evaluate((/** @type {HTMLImageElement} */ img) => img.naturalWidth), 700, `${who} decodes the image`);
    const got = await /** @type {any} */ (page).evaluate(async () => {
      const bytes = await /** @type {any} */ (window).kk.state.session.receiver.last.arrayBuffer();
      const hash = await crypto.subtle.digest('SHA-256', bytes);
      return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join('');
    });
    assert.equal(got, digest, `${who} sees the document as sent`);
  }
  await snap(desk.page, 'desk-document');
  await desk.page.click('.viewer .bar button:last-child');
  await interp.page.click('.viewer .bar button:last-child');
  await resident.page.locator('#notice').filter({ hasText: /Quầy và phiên dịch viên/ }).waitFor();

  // The desk ends the call and records the outcome.
  await desk.page.click('#end');
  await desk.page.locator('#outcome').waitFor();
  await snap(desk.page, 'desk-outcome');
  await resident.page.locator('#ended').waitFor();
  await snap(resident.page, 'resident-ended');
  await interp.page.locator('#wrap').waitFor();
  await snap(interp.page, 'interpreter-wrap-up');
  // What it was about (two topics) and, at a shared centre, where the resident lives:
  // optional taps before the one that records.
  await desk.page.click('#outcome-topics-list button[data-topic=medical]');
  await desk.page.click('#outcome-topics-list button[data-topic=tax_pension]');
  assert.equal(await desk.page.locator('#outcome-topics-list button[data-topic=medical]').getAttribute('aria-pressed'), 'true');
  await desk.page.selectOption('#outcome-referral', String(partner));
  let residence = null;
  if (await desk.page.locator('#outcome-residence-row').isVisible()) {
    residence = Number(await desk.page.locator('#outcome-residence option').nth(1).getAttribute('value'));
    await desk.page.selectOption('#outcome-residence', String(residence));
  }
  await desk.page.fill('#outcome-note', '来週、必要書類を持って再訪の予定');
  assert.deepEqual(await accessibilityProblems(desk.page), []);
  await desk.page.click('#outcomes button[data-outcome=resolved]');
  await desk.page.locator('#home').waitFor();
  await interp.page.click('#ready');
  await until(async () => (await interp.page.locator('#presence').getAttribute('class'))?.includes('available'), 'the interpreter ready again');

  // The call record: answered, in Vietnamese, with the desk's category, and its quality.
  const record = await until(async () => {
    const rows = await server.api(`/api/call-records?since=${SINCE}`, { token: server.admin });
    return rows.find((/** @type {any} */ r) => r.language === 'vi' && r.outcome === 'answered' && r.desk_outcome === 'resolved');
  }, 'the call record');
  assert.equal(record.modality, 'video');
  assert.deepEqual(record.topics, ['medical', 'tax_pension']);
  assert.equal(record.referral, partner);
  assert.equal(record.mode, 'remote', 'a resident joined by link');
  assert.equal(record.residence, residence ?? record.tenant);
  assert.ok(record.answered_at >= record.requested_at);
  assert.equal(typeof record.loss, 'number');
  // The note: sealed on the server, read back by Asahi's supervisor only.
  const sup = (await server.api('/api/sign-in', { body: { role: 'staff', login: 'supervisor-asahi', password: 'demo-supervisor-asahi' } })).token;
  assert.equal((await server.api(`/api/call-records/${record.id}/note`, { token: sup })).note, '来週、必要書類を持って再訪の予定');

  // The used link is refused, in the resident's language.
  const again = await party({ tone: RESIDENT_TONE, viewport: PHONE, mobile: true });
  browsers.push(again);
  await again.page.goto(link);
  await again.page.locator('#expired').waitFor();
  assert.match(await again.page.locator('#expired h1').innerText(), /\S/);
  await snap(again.page, 'resident-link-used');
  await again.close();

  for (const [b, who] of [[desk, 'desk'], [interp, 'interpreter'], [resident, 'resident']]) noErrors(/** @type {any} */ (b), /** @type {string} */ (who));
  await resident.close();
});

test('a resident whose camera is refused joins with audio only; a desk whose leg the relay gives up makes a new one', async () => {
  const desk = await party({ tone: DESK_TONE, viewport: TABLET });
  browsers.push(desk);
  const interp = browsers[1];
  // The server's first words (the welcome) are held back: until they come, the grid is
  // shown but a tap has nowhere to go, so it waits greyed instead of failing the tap.
  /** @type {(string | Buffer)[] | null} */
  let held = [];
  /** @type {import('playwright-core').WebSocketRoute | null} */
  let toPage = null;
  await desk.page.routeWebSocket(/\/ws$/, (ws) => {
    toPage = ws;
    ws.connectToServer().onMessage((m) => (held ? held.push(m) : ws.send(m)));
  });
  await desk.page.goto(`${server.base}/desk/`);
  await desk.page.fill('#enrol-code', secondCode);
  await desk.page.click('#enrol-form button[type=submit]');
  const vi = desk.page.locator('#languages button[data-lang=vi]');
  await vi.waitFor();
  assert.equal(await vi.isDisabled(), true, 'the grid waits for the server');
  await desk.page.locator('#notice').filter({ hasText: /接続しています/ }).waitFor();
  await until(() => toPage, 'the desk\'s WebSocket');
  for (const m of /** @type {(string | Buffer)[]} */ (held)) /** @type {any} */ (toPage).send(m);
  held = null;
  await desk.page.click('#languages button[data-lang=vi]');
  await interp.page.locator('#offer').waitFor();
  await interp.page.click('#accept');
  await desk.page.locator('#call').waitFor();
  await desk.page.click('#invite');
  await desk.page.locator('#invite-panel').waitFor();
  const link = await desk.page.locator('#invite-link').innerText();

  const resident = await party({ tone: RESIDENT_TONE, viewport: PHONE, mobile: true, camera: false });
  browsers.push(resident);
  await resident.page.goto(link);
  await resident.page.click('#join');
  await resident.page.locator('#call').waitFor();
  // Told in Vietnamese that it is audio only.
  await resident.page.locator('#notice').filter({ hasText: /chỉ bằng giọng nói/ }).waitFor();
  await until(async () => (await received(desk.page)).resident?.audioPackets > 20, 'the desk to receive the resident\'s audio');
  const heard = await until(async () => {
    const h = await tones(desk.page);
    return hears(h.resident, RESIDENT_TONE) ? h : null;
  }, 'the desk to hear the resident');
  console.log(`desk hears ${JSON.stringify(heard)}`);
  // The relay gives a leg up that did not connect in time and says `media_failed`: the
  // desk makes a new leg at once, which connects, and the resident is heard on it.
  /** @returns {Promise<{ call: number, restarts: number, state: string }>} */
  const deskLeg = () => desk.page.evaluate(() => {
    const s = /** @type {any} */ (window).kk.state.session;
    return { call: s.call, restarts: s.media.restarts, state: s.media.state };
  });
  const before = await deskLeg();
  /** @type {any} */ (toPage).send(JSON.stringify({ type: 'media_failed', call: before.call }));
  await until(async () => {
    const now = await deskLeg();
    return now.restarts > before.restarts && now.state === 'connected';
  }, 'the desk\'s new leg to connect');
  await until(async () => (await received(desk.page)).resident?.audioPackets > 20, 'the resident\'s audio on the new leg');
  const r = await received(desk.page);
  assert.equal(r.resident.videoFrames, 0, 'no video from the resident');
  assert.equal(await resident.page.locator('#camera').isHidden(), true, 'no camera button without a camera');
  await until(async () => (await received(resident.page)).interpreter?.videoFrames > 0, 'the audio-only resident still sees the interpreter');
  await snap(resident.page, 'resident-audio-only');
  await resident.page.click('#leave');
  await resident.page.click('#leave-yes');
  await resident.page.locator('#left').waitFor();
  await desk.page.locator('#notice').filter({ hasText: /相談者が退出しました/ }).waitFor();
  await desk.page.click('#end');
  await desk.page.locator('#outcome').waitFor();
  noErrors(resident, 'resident');
  void sleep;
});

test('the resident page without WebRTC, and with camera and microphone refused', async () => {
  // A live call with a fresh invite: the desk of the previous test is still in one.
  const deskPage = browsers.find((b) => b.page.url().includes('/desk/') && !b.page.isClosed())?.page;
  assert.ok(deskPage, 'a desk page');
  await deskPage.click('#outcome-skip').catch(() => {});
  await deskPage.click('#languages button[data-lang=vi]');
  const interp = browsers[1];
  if (await interp.page.locator('#ready').isVisible()) await interp.page.click('#ready');
  await interp.page.locator('#offer').waitFor();
  await interp.page.click('#accept');
  await deskPage.locator('#call').waitFor();
  await deskPage.click('#invite');
  await deskPage.locator('#invite-panel').waitFor();
  const link = await deskPage.locator('#invite-link').innerText();

  // Inside LINE, where this browser cannot make calls: open it outside.
  const inapp = await party({ tone: RESIDENT_TONE, viewport: PHONE, mobile: true, userAgent: 'Mozilla/5.0 (Linux; Android 14) Mobile Safari Line/14.1.0' });
  browsers.push(inapp);
  await inapp.page.addInitScript(() => {
    // @ts-ignore: an in-app browser without WebRTC
    delete window.RTCPeerConnection;
  });
  await inapp.page.goto(link);
  await inapp.page.locator('#inapp').waitFor();
  assert.match((await inapp.page.locator('#open-browser').getAttribute('href')) || '', /openExternalBrowser=1/);
  assert.equal(await inapp.page.locator('#inapp-link').innerText(), link);
  await snap(inapp.page, 'resident-in-app-browser');
  await inapp.close();
  // Messenger on Android without WebRTC: an intent opens Chrome.
  const messenger = await party({ tone: RESIDENT_TONE, viewport: PHONE, mobile: true, userAgent: 'Mozilla/5.0 (Linux; Android 14) Mobile [FB_IAB/Orca-Android;FBAV/450.0]' });
  browsers.push(messenger);
  await messenger.page.addInitScript(() => {
    // @ts-ignore: an in-app browser without WebRTC
    delete window.RTCPeerConnection;
  });
  await messenger.page.goto(link);
  await messenger.page.locator('#inapp').waitFor();
  assert.match((await messenger.page.locator('#open-browser').getAttribute('href')) || '', /^intent:\/\/.*package=com\.android\.chrome;end$/);
  await messenger.close();
  // LINE on iOS, which can call: no warning that it cannot.
  const lineIos = await party({ tone: RESIDENT_TONE, viewport: PHONE, mobile: true, userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Line/14.1.0' });
  browsers.push(lineIos);
  await lineIos.page.goto(link);
  await lineIos.page.locator('#welcome').waitFor();
  assert.ok(await lineIos.page.locator('#notice').isHidden(), 'no warning where calls work');
  await lineIos.close();

  // Both devices refused: pictures of how to allow them, in the resident's language.
  const refused = await party({ tone: RESIDENT_TONE, viewport: PHONE, mobile: true, camera: false });
  browsers.push(refused);
  await refused.context.clearPermissions();
  await refused.page.goto(link);
  await refused.page.click('#join');
  await refused.page.locator('#denied').waitFor();
  assert.equal(await refused.page.locator('#denied h1').innerText(), 'Camera và micrô đang bị chặn');
  await snap(refused.page, 'resident-permission-denied');
  await refused.close();

  // The link was only looked at, never used: a resident still joins with it.
  const late = await party({ tone: RESIDENT_TONE, viewport: PHONE, mobile: true });
  browsers.push(late);
  await late.page.goto(link);
  await late.page.locator('#welcome').waitFor();
  await late.page.click('#check summary');
  await late.page.locator('#check-video video').waitFor();
  await snap(late.page, 'resident-welcome');
  await late.page.click('#join');
  await until(async () => (await received(late.page)).interpreter?.videoFrames > 0, 'the resident to see the interpreter');

  // The interpreter's connection drops: the desk is told and may call another.
  await interp.page.close();
  await deskPage.locator('#dropped-actions').waitFor({ timeout: 20000 });
  await late.page.locator('#notice').filter({ hasText: /Phiên dịch viên bị mất kết nối/ }).waitFor();
  await snap(deskPage, 'desk-interpreter-dropped');
  await deskPage.click('#end-anyway');
  await deskPage.locator('#outcome').waitFor();
  await late.page.locator('#ended').waitFor();
  await late.close();
});

test('nobody for the language: the desk is told at once what it can do instead', async () => {
  const deskPage = browsers.find((b) => b.page.url().includes('/desk/') && !b.page.isClosed())?.page;
  assert.ok(deskPage);
  await deskPage.click('#outcome-skip');
  await deskPage.fill('#search', 'ドイツ');
  assert.equal(await deskPage.locator('#languages button').count(), 1, 'the search finds German by its Japanese name');
  await deskPage.click('#languages button[data-lang=de]');
  await deskPage.locator('#unserved').waitFor();
  assert.match(await deskPage.locator('#unserved-suggestion').innerText(), /電話通訳|本日|予約/);
  await snap(deskPage, 'desk-unserved');
  await deskPage.click('#unserved-back');
  await deskPage.fill('#search', '');
});

test('the wallboard shows queues, interpreters and today\'s waits; the admin page edits the directory', async () => {
  const wall = await party({ tone: DESK_TONE, viewport: { width: 1280, height: 800 } });
  browsers.push(wall);
  await wall.page.goto(`${server.base}/wall/`);
  await wall.page.fill('#login', 'supervisor-asahi');
  await wall.page.fill('#password', 'demo-supervisor-asahi');
  await wall.page.click('#signin-form button[type=submit]');
  await wall.page.locator('#board').waitFor();
  await until(async () => (await wall.page.locator('#presences [data-presence]').count()) > 0, 'interpreters by state');
  // Today's calls in Asahi City, drawn as dots: answered ones and the unserved German one.
  await until(async () => (await wall.page.locator('#chart circle[data-outcome=answered]').count()) >= 3, 'answered calls on the chart');
  assert.ok((await wall.page.locator('#chart circle[data-outcome=unserved]').count()) >= 1);
  await snap(wall.page, 'wallboard');

  const admin = await party({ tone: DESK_TONE, viewport: { width: 1280, height: 800 } });
  browsers.push(admin);
  await admin.page.goto(`${server.base}/admin/`);
  await admin.page.fill('#login', 'admin');
  await admin.page.fill('#password', 'demo-admin');
  await admin.page.click('#signin-form button[type=submit]');
  await admin.page.locator('#tenants').waitFor();
  assert.ok((await admin.page.locator('#tenant-rows tr').count()) >= 3);
  // A routing policy in a form: a refusal shows beside its field, then it saves.
  await admin.page.locator('#tenant-rows tr').nth(1).locator('button.policy').click();
  await admin.page.locator('#policy-form:not([hidden]) .step').first().waitFor();
  await admin.page.fill('#pf-ring_timeout_secs', '30');
  const steps = admin.page.locator('#policy-fields .step');
  const before = await steps.count();
  await steps.first().locator('input[type=number]').fill('0');
  await admin.page.click('#policy-form button[type=submit]');
  await steps.first().locator('.step-error').filter({ hasText: /最後の段階だけ/ }).waitFor();
  await snap(admin.page, 'admin-policy');
  // The server's refusal beside its field, in the page's language (the form's own limit
  // taken away, as a page older than the server's limits would be).
  await steps.first().locator('input[type=number]').fill('45');
  await admin.page.locator('#pf-ring_timeout_secs').evaluate((e) => e.removeAttribute('max'));
  await admin.page.fill('#pf-ring_timeout_secs', '900');
  await admin.page.click('#policy-form button[type=submit]');
  await admin.page.locator('#pf-ring_timeout_secs-error').filter({ hasText: '10分以下にしてください。' }).waitFor();
  await admin.page.fill('#pf-ring_timeout_secs', '30');
  await steps.first().locator('input[type=number]').fill('45');
  await steps.last().locator('.tiers input[value=volunteer]').check();
  // A step added at the end, and the one it follows given a time.
  await admin.page.click('#pf-add-step');
  await steps.nth(before - 1).locator('input[type=number]').fill('120');
  await steps.last().locator('input[type=number]').fill('0');
  await admin.page.click('#policy-form button[type=submit]');
  await until(async () => (await admin.page.locator('#policy-form').isHidden()), 'the policy saved').catch(async (e) => {
    throw new Error(`${e.message}: ${await admin.page.locator('#notice').innerText()} | ${(await admin.page.locator('.field-error').allInnerTexts()).join(' ')}`);
  });
  const minami = (await server.api('/api/tenants', { token: server.admin })).find((/** @type {any} */ tn) => tn.id === 2);
  assert.equal(minami.policy.ring_timeout_secs, 30);
  const seconds = minami.policy.steps.map((/** @type {any} */ s) => s.seconds);
  assert.equal(seconds.length, before + 1);
  assert.deepEqual([seconds[0], seconds[before - 1], seconds[before]], [45, 120, 0]);
  assert.ok(minami.policy.steps[before - 1].tiers.includes('volunteer'));
  await admin.page.click('#tabs button[data-tab=desks]');
  await admin.page.locator('#desks').waitFor();
  await admin.page.fill('#desk-name', 'Outreach tablet, community hall');
  await admin.page.click('#desk-form button[type=submit]');
  await admin.page.locator('#desk-code').waitFor();
  assert.match(await admin.page.locator('#desk-code').innerText(), /[A-Z0-9]{6,}/);
  await snap(admin.page, 'admin-desks');
  // Asahi's referral partners: one added, then retired (records keep it).
  await admin.page.click('#tabs button[data-tab=tenants]');
  await admin.page.locator('#tenant-rows button.partners').first().click();
  await admin.page.locator('#partners-panel').waitFor();
  await admin.page.fill('#partner-name', '国際交流協会');
  await admin.page.selectOption('#partner-kind', 'international_association');
  await admin.page.click('#partner-form button[type=submit]');
  const added = admin.page.locator('#partner-rows tr').filter({ hasText: '国際交流協会' });
  await added.waitFor();
  assert.deepEqual(await accessibilityProblems(admin.page), []);
  await added.getByRole('button').click();
  await admin.page.locator('#partner-rows tr').filter({ hasText: '国際交流協会' }).filter({ hasText: '停止中' }).waitFor();
  await snap(admin.page, 'admin-partners');
  // What Asahi's records keep, and its audit log: the notes turned on in before() are there.
  await admin.page.locator('#tenant-rows button.records').first().click();
  await admin.page.locator('#records-panel').waitFor();
  await admin.page.locator('#audit-rows tr').filter({ hasText: 'set_retention' }).first().waitFor();
  assert.ok(await admin.page.locator('#keep-notes').isChecked());
  await admin.page.fill('#keep-notes-days', '180');
  await admin.page.click('#records-form button[type=submit]');
  await until(async () => (await server.api('/api/tenants/1/retention', { token: server.admin })).notes_days === 180, 'notes kept 180 days');
  assert.deepEqual(await accessibilityProblems(admin.page), []);
  // A bad roster is refused with the field named, in the page's language.
  await admin.page.click('#tabs button[data-tab=interpreters]');
  await admin.page.locator('#interpreters').waitFor();
  await admin.page.fill('#i-login', 'new-ne');
  await admin.page.fill('#i-password', 'a-long-enough-password');
  await admin.page.fill('#i-languages', 'ne');
  await admin.page.fill('#i-tenants', '1');
  await admin.page.locator('#i-roster .r-zone').fill('Mars/Base');
  await admin.page.click('#interpreter-form button[type=submit]');
  await admin.page.locator('#notice.error').filter({ hasText: 'タイムゾーン: タイムゾーンが正しくありません(例 Asia/Tokyo)。' }).waitFor();
  await snap(admin.page, 'admin-interpreters');
  // Reached by phone: a number that cannot be dialled is refused with the field named, and
  // a dialable one is saved.
  await admin.page.locator('#i-roster .r-zone').fill('Asia/Tokyo');
  await admin.page.fill('#i-phone', 'call me on LINE');
  await admin.page.click('#interpreter-form button[type=submit]');
  await admin.page.locator('#notice.error').filter({ hasText: /^電話番号: 電話番号は3〜20桁/ }).waitFor();
  await admin.page.fill('#i-phone', '090-1234-5678');
  await admin.page.click('#interpreter-form button[type=submit]');
  await until(async () => {
    const list = await server.api('/api/interpreters', { token: server.admin });
    return list.some((/** @type {any} */ i) => i.login === 'new-ne' && i.reach_by_phone === '090-1234-5678');
  }, 'the interpreter saved with the number they are reached on');
  noErrors(wall, 'wallboard');
  noErrors(admin, 'admin');
});

test('a desk whose connection drops while the interpreter is ringing resumes into the call', async () => {
  const code = (await server.api('/api/tenants/1/desks', { token: server.admin, body: { name: 'E2E counter 3' } })).enrolment_code;
  const desk = await party({ tone: DESK_TONE, viewport: TABLET });
  const interp = await party({ tone: INTERPRETER_TONE, viewport: { width: 1280, height: 800 } });
  browsers.push(desk, interp);
  // The page's WebSockets, what it sends, and a switch that makes new ones fail (the
  // tablet's network is gone).
  await recordSockets(desk.page);
  await desk.page.goto(`${server.base}/desk/`);
  await desk.page.fill('#enrol-code', code);
  await desk.page.click('#enrol-form button[type=submit]');
  await desk.page.locator('#languages button[data-lang=vi]').waitFor();

  await signIn(interp.page);

  await desk.page.click('#languages button[data-lang=vi]');
  await desk.page.locator('#waiting').waitFor();
  await interp.page.locator('#offer').waitFor();
  // The desk's network goes while the interpreter is being rung; the interpreter answers.
  await setOffline(desk.page, true);
  await interp.page.click('#accept');
  await interp.page.locator('#call').waitFor();
  await sleep(1500);
  // Back: the desk resumes, says the last event it had, and is in the call.
  await setOffline(desk.page, false);
  await desk.page.locator('#call').waitFor({ timeout: 20000 });
  const hellos = (await desk.page.evaluate(() => /** @type {any} */ (window).sent))
    .map((/** @type {string} */ s) => JSON.parse(s))
    .filter((/** @type {any} */ m) => m.type === 'hello');
  const resumed = hellos.at(-1);
  assert.equal(hellos.length, 2, 'one hello, then one resume');
  assert.ok(resumed.resume && resumed.last_seq > 0, `the resume says what it had: ${JSON.stringify(resumed)}`);
  await until(async () => (await received(desk.page)).interpreter?.videoFrames > 0, 'the resumed desk to decode the interpreter\'s video');
  await desk.page.click('#end');
  await desk.page.locator('#outcome').waitFor();
  noErrors(desk, 'desk');
  await desk.close();
  await interp.close();
});
