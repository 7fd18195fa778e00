// Open participants in real browsers: a call with a desk, an interpreter, a remote
// resident and a guest (a specialist the desk invites). Every page lays out a tile per
// participant, labelled by kind, and decodes everyone's video. The resident's network
// drops: the others see the tile marked as reconnecting, not gone, and its video comes
// back in the same tile when the resident does.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PHONE, TABLET, answeredCall, inviteLink, party, received, recordSockets, seedDeskAndInterpreter, setOffline, sleep, snap, startServer, tiles, until, test } from './harness.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof party>>[]} */
const browsers = [];
let enrolmentCode = '';

before(async () => {
  server = await startServer();
  enrolmentCode = await seedDeskAndInterpreter(server, 'e2e-guests', 'E2E guests');
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  await server?.stop();
});

test('a resident and a guest join one call: a tile each, everyone decodes everyone, a drop keeps the tile', async () => {
  const desk = await party({ tone: 440, viewport: TABLET });
  const interp = await party({ tone: 660, viewport: { width: 1280, height: 800 } });
  browsers.push(desk, interp);
  // An urgent request: the offer names the desk, says it is urgent and how long it waited.
  const offer = await answeredCall(desk.page, interp.page, server.base, enrolmentCode, 'e2e-guests', { urgent: true });
  assert.deepEqual({ ...offer, waited: /^0:0\d$/.test(offer.waited) }, { tenant: 'Asahi City', desk: 'E2E guests', waited: true, urgent: true });
  // Both call screens say what the call is and how long it has run.
  assert.match(await desk.page.locator('#call-info').innerText(), /^Tiếng Việt \/ ベトナム語 · 0:0\d$/);
  assert.match(await interp.page.locator('#call-info').innerText(), /Asahi City E2E guests · 0:0\d$/);

  // The resident's link, then a guest's: the panel says which.
  const residentLink = await inviteLink(desk.page, 'invite');
  assert.equal(await desk.page.locator('#invite-title').innerText(), '相談者を招待する');
  const guestLink = await inviteLink(desk.page, 'invite-guest');
  assert.notEqual(guestLink, residentLink);
  assert.match(await desk.page.locator('#invite-title').innerText(), /ゲスト/);

  const resident = await party({ tone: 880, viewport: PHONE, mobile: true });
  const guest = await party({ tone: 1100, viewport: TABLET });
  browsers.push(resident, guest);
  await recordSockets(resident.page);
  for (const [b, link] of /** @type {const} */ ([[resident, residentLink], [guest, guestLink]])) {
    await b.page.goto(link);
    await b.page.locator('#welcome').waitFor();
    await b.page.click('#join');
  }
  // The guest reads the page in their browser's language (Japanese here), the resident in
  // the consultation's.
  assert.equal(await guest.page.locator('html').getAttribute('lang'), 'ja');
  assert.equal(await resident.page.locator('html').getAttribute('lang'), 'vi');

  const everyone = {
    desk: [desk.page, ['interpreter', 'resident', 'guest']],
    interpreter: [interp.page, ['desk', 'resident', 'guest']],
    resident: [resident.page, ['desk', 'interpreter', 'guest']],
    guest: [guest.page, ['desk', 'interpreter', 'resident']],
  };
  for (const [who, [page, others]] of Object.entries(everyone)) {
    const p = /** @type {import('playwright-core').Page} */ (page);
    await until(async () => {
      const r = await received(p);
      return /** @type {string[]} */ (others).every((o) => r[o]?.videoFrames > 0);
    }, `${who} to decode ${others}`, 30000);
    const shown = await tiles(p);
    assert.deepEqual(shown.map((s) => s.party).sort(), [...others].sort(), `${who}: a tile per participant`);
    assert.ok(shown.every((s) => !s.hidden && !s.away && s.name), `${who}: every tile shown and named: ${JSON.stringify(shown)}`);
    assert.equal(shown.filter((s) => s.main).length, 1, `${who}: one large tile`);
  }
  const deskTiles = await tiles(desk.page);
  assert.ok(deskTiles.find((s) => s.party === 'interpreter')?.main, 'the desk shows the interpreter large');
  assert.match(deskTiles.find((s) => s.party === 'guest')?.name || '', /ゲスト/);
  await snap(desk.page, 'desk-call-guest');
  await snap(guest.page, 'guest-call');

  // The resident's network goes: the others keep the tile, marked as reconnecting.
  await setOffline(resident.page, true);
  for (const page of [desk.page, interp.page, guest.page]) {
    await until(async () => (await tiles(page)).find((s) => s.party === 'resident' && s.away && !s.hidden), 'the resident\'s tile marked away');
  }
  await snap(desk.page, 'desk-call-resident-away');
  const framesBefore = (await received(desk.page)).resident?.videoFrames || 0;
  // Back: the same tile, no longer away, and its video moving again.
  await setOffline(resident.page, false);
  for (const page of [desk.page, interp.page, guest.page]) {
    await until(async () => (await tiles(page)).find((s) => s.party === 'resident' && !s.away && !s.hidden), 'the resident\'s tile back');
  }
  await until(async () => ((await received(desk.page)).resident?.videoFrames || 0) > framesBefore + 10, 'the resident\'s video again at the desk', 30000);

  // The resident mutes: every other screen marks the tile.
  await resident.page.click('#mute');
  for (const page of [desk.page, interp.page, guest.page]) {
    await until(async () => (await tiles(page)).find((s) => s.party === 'resident')?.name.match(/マイクオフ/), 'the resident marked muted');
  }
  await resident.page.click('#mute');
  await until(async () => !(await tiles(desk.page)).find((s) => s.party === 'resident')?.name.match(/マイクオフ/), 'the mark gone');

  // Audio only, and back: the interpreter's view of the desk stops, then moves again,
  // and the desk's tile says its camera is off meanwhile.
  await desk.page.click('#audio-only-now');
  assert.equal(await desk.page.locator('#audio-only-now').innerText(), '映像を戻す');
  await until(async () => (await tiles(interp.page)).find((s) => s.party === 'desk')?.name.match(/カメラオフ/), 'the desk marked camera off');
  await sleep(1500);
  const stopped = (await received(interp.page)).desk?.videoFrames || 0;
  await sleep(1500);
  assert.ok(((await received(interp.page)).desk?.videoFrames || 0) - stopped < 5, 'no video from the desk while audio only');
  await desk.page.click('#audio-only-now');
  await until(async () => ((await received(interp.page)).desk?.videoFrames || 0) > stopped + 20, 'the desk\'s video again', 20000);
  await until(async () => !(await tiles(interp.page)).find((s) => s.party === 'desk')?.name.match(/カメラオフ/), 'the desk\'s camera mark gone');
  assert.equal(await desk.page.locator('#audio-only-now').innerText(), '音声のみにする');

  await desk.page.click('#end');
  await desk.page.locator('#outcome').waitFor();
  await guest.page.locator('#ended').waitFor();
  // The next consultation starts with the options off.
  assert.equal(await desk.page.locator('#urgent').getAttribute('aria-pressed'), 'false');
  for (const [b, who] of /** @type {const} */ ([[desk, 'desk'], [interp, 'interpreter'], [resident, 'resident'], [guest, 'guest']])) {
    assert.deepEqual(b.errors, [], `${who}: errors in the page`);
  }
});
