// What the browser tests share: the real `kakehashi` binary on free loopback ports with
// the demo directory, real headless Chromium (Debian's, never a downloaded one) with fake
// camera and a fake microphone playing a tone of its own per party, and helpers to look
// at what a page receives.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as nodeTest } from 'node:test';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
export const SHOTS = path.join(here, 'screenshots');
const BIN = process.env.KAKEHASHI_BIN || path.join(ROOT, 'target/debug/kakehashi');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** Sizes the screenshots are taken at. */
export const PHONE = { width: 360, height: 780 };
export const TABLET = { width: 1024, height: 768 };

/** A free TCP port on loopback. */
function freeTcp() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = /** @type {net.AddressInfo} */ (s.address()).port;
      s.close(() => resolve(port));
    });
  });
}

/** A port free for both UDP and TCP on loopback (the relay takes the same number for ICE-TCP). */
export async function freeMediaPort() {
  for (;;) {
    const port = await freeTcp();
    const free = await new Promise((resolve) => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait until `f` returns something truthy, polling; fail after `ms` with `what`.
 * @template T
 * @param {() => Promise<T> | T} f
 * @param {string} what
 * @param {number} [ms]
 * @returns {Promise<T>}
 */
export async function until(f, what, ms = 15000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await f();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(100);
  }
}

/** The servers running now, whose logs a failing test prints. */
const running = new Set();

/**
 * `node:test`'s `test`, which prints the last lines of each running server's log when the
 * test fails: in CI the log is otherwise gone with the server, and a failure that happens
 * once in many runs must be explained from the first one.
 * @param {string} name
 * @param {(t: import('node:test').TestContext) => Promise<void> | void} fn
 */
export function test(name, fn) {
  return nodeTest(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      for (const server of running) {
        const lines = server.log().trimEnd().split('\n');
        console.error(`server ${server.base}, the last ${Math.min(lines.length, 60)} of ${lines.length} log lines:\n${lines.slice(-60).join('\n')}`);
      }
      throw e;
    }
  });
}

/**
 * The server with the demo directory, on free ports, in a fresh data directory.
 * @param {Record<string, string>} [env] more settings (`KAKEHASHI_<KEY>`)
 * @param {string} [config] a configuration file's text (sections such as `[phone]`)
 * @returns {Promise<{ base: string, data: string, log: () => string, stop: () => Promise<void>, api: (p: string, o?: any) => Promise<any>, admin: string }>}
 */
export async function startServer(env = {}, config = '') {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: build it with cargo build -p kakehashi`);
  const port = await freeTcp();
  const media = await freeMediaPort();
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'kakehashi-browser-'));
  const args = ['serve', '--demo', '--data', data, '--listen', `127.0.0.1:${port}`];
  if (config) {
    fs.writeFileSync(path.join(data, 'config.toml'), config);
    args.push('--config', path.join(data, 'config.toml'));
  }
  const child = spawn(BIN, args, {
    // A short drain: a test that ends with calls live need not wait the default 30 s.
    env: { ...process.env, KAKEHASHI_MEDIA_LISTEN: `127.0.0.1:${media}`, KAKEHASHI_LOG: 'warn,kakehashi=info', KAKEHASHI_DRAIN_SECS: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  // The demo directory's forty days of history take a while on a loaded machine's debug
  // build: a generous bound, not a wait (it returns as soon as the server answers).
  await until(async () => (await fetch(`${base}/healthz`)).ok, 'the server to answer /healthz', 60000);
  /** @param {string} p @param {{ method?: string, body?: any, token?: string }} [o] */
  const api = async (p, o = {}) => {
    const r = await fetch(base + p, {
      method: o.method || (o.body ? 'POST' : 'GET'),
      headers: { 'content-type': 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
      body: o.body ? JSON.stringify(o.body) : undefined,
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${p}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const admin = (await api('/api/sign-in', { body: { role: 'staff', login: 'admin', password: 'demo-admin' } })).token;
  const server = {
    base,
    data,
    log: () => log,
    api,
    admin,
    stop: async () => {
      running.delete(server);
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      fs.rmSync(data, { recursive: true, force: true });
    },
  };
  running.add(server);
  return server;
}

/**
 * A WAV file of a pure tone (Chromium's fake microphone plays it in a loop).
 * @param {number} hz
 */
export function toneFile(hz) {
  const rate = 48000;
  const seconds = 4;
  const n = rate * seconds;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * 12000), 44 + i * 2);
  const file = path.join(os.tmpdir(), `kakehashi-tone-${hz}.wav`);
  fs.writeFileSync(file, buf);
  return file;
}

/**
 * One party's browser: its own Chromium, so its fake microphone plays its own tone.
 * @param {{ tone: number, viewport: { width: number, height: number }, camera?: boolean, mobile?: boolean, userAgent?: string }} o
 */
export async function party({ tone, viewport, camera = true, mobile = false, userAgent }) {
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${toneFile(tone)}`,
    '--allow-loopback-in-peer-connection',
    '--autoplay-policy=no-user-gesture-required',
  ];
  // Without the fake prompt the page's permission requests follow the context's grants:
  // that is how a refused camera is played.
  if (camera) args.push('--use-fake-ui-for-media-stream');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args, headless: true });
  const context = await browser.newContext({ viewport, isMobile: mobile, hasTouch: mobile, userAgent, locale: 'ja-JP' });
  if (!camera) await context.grantPermissions(['microphone']);
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  // A file of ours that is missing is a bug; the resident page's lookup of its invite
  // may answer 404 on purpose.
  page.on('response', (r) => {
    if (r.status() === 404 && r.url().includes('/assets/')) errors.push(`404 ${r.url()}`);
  });
  page.on('dialog', (d) => void d.accept());
  return { browser, context, page, errors, close: () => browser.close() };
}

/**
 * An interpreter signs in on the console and becomes available.
 * @param {import('playwright-core').Page} page
 * @param {string} base the server's address
 * @param {string} login
 * @param {string} password
 */
export async function signInAvailable(page, base, login, password) {
  await page.goto(`${base}/interpreter/`);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#console').waitFor();
  await page.click('#go-available');
  await until(async () => (await page.locator('#presence').getAttribute('class'))?.includes('available'), 'the interpreter to be available');
}

/**
 * Record a page's WebSockets and what it sends, with a switch that makes new ones fail
 * (its network is gone): `window.sockets`, `window.sent`, `window.offline`. Call before
 * the page loads.
 * @param {import('playwright-core').Page} page
 */
export async function recordSockets(page) {
  await page.addInitScript(() => {
    const Native = window.WebSocket;
    /** @type {any} */ (window).sockets = [];
    /** @type {any} */ (window).sent = [];
    /** @type {any} */ (window).offline = false;
    // @ts-ignore: a recording WebSocket
    window.WebSocket = class extends Native {
      /** @param {any[]} args */
      constructor(...args) {
        if (/** @type {any} */ (window).offline) throw new Error('offline');
        // @ts-ignore
        super(...args);
        /** @type {any} */ (window).sockets.push(this);
      }
      /** @param {any} data */
      send(data) {
        /** @type {any} */ (window).sent.push(String(data));
        super.send(data);
      }
    };
  });
}

/**
 * A page's network goes (`offline` true: its live WebSocket closes, new ones fail) or
 * comes back.
 * @param {import('playwright-core').Page} page
 * @param {boolean} offline
 */
export async function setOffline(page, offline) {
  await page.evaluate((off) => {
    const w = /** @type {any} */ (window);
    w.offline = off;
    if (off) w.sockets.at(-1)?.close();
  }, offline);
}

/** axe-core, the accessibility checker, from the npm registry (tests/browser/package.json). */
const AXE = fs.readFileSync(path.join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page as it is now (WCAG 2.1 A and
 * AA rules), as `rule: selector` lines; an empty list is a pass. It runs through the
 * DevTools protocol, which the pages' content security policy does not govern.
 * @param {import('playwright-core').Page} page
 */
export async function accessibilityProblems(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    // @ts-ignore: axe-core's global
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return /** @type {any[]} */ (result.violations)
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .flatMap((v) => v.nodes.map((/** @type {any} */ n) => `${v.id}: ${n.target.join(' ')}`));
  });
}

/**
 * A screenshot at phone and tablet size: `screenshots/<name>-phone.png`, `-tablet.png`;
 * and the screen checked for accessibility (no serious or critical axe-core violation).
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function snap(page, name) {
  const problems = await accessibilityProblems(page);
  if (problems.length) throw new Error(`${name}: accessibility: ${problems.join('; ')}`);
  fs.mkdirSync(SHOTS, { recursive: true });
  const was = page.viewportSize();
  for (const [label, size] of /** @type {const} */ ([['phone', PHONE], ['tablet', TABLET]])) {
    await page.setViewportSize(size);
    await sleep(150);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${label}.png`), fullPage: true });
  }
  if (was) await page.setViewportSize(was);
}

/**
 * The frequencies heard from each remote participant on a page: an analyser on each remote
 * stream, the loudest bins over half a second. Returns kind (as `received`) → peak
 * frequencies (Hz).
 * @param {import('playwright-core').Page} page
 * @returns {Promise<Record<string, number[]>>}
 */
export function tones(page) {
  return page.evaluate(async () => {
    const session = /** @type {any} */ (window).kk.state.session;
    /** @type {Record<string, number[]>} */
    const out = {};
    for (const [party, stream] of session.remoteByKind()) {
      if (!stream.getAudioTracks().length) continue;
      const ctx = new AudioContext();
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0;
      ctx.createMediaStreamSource(new MediaStream(stream.getAudioTracks())).connect(analyser);
      const bins = new Float32Array(analyser.frequencyBinCount);
      const sum = new Float32Array(analyser.frequencyBinCount);
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 60));
        analyser.getFloatFrequencyData(bins);
        for (let b = 0; b < bins.length; b++) sum[b] += Math.pow(10, bins[b] / 10);
      }
      const hz = ctx.sampleRate / analyser.fftSize;
      const peaks = [];
      let max = 0;
      for (const v of sum) max = Math.max(max, v);
      for (let b = 2; b < sum.length - 2; b++) {
        if (sum[b] > max * 0.1 && sum[b] >= sum[b - 1] && sum[b] >= sum[b + 1] && b * hz > 100) peaks.push(Math.round(b * hz));
      }
      out[party] = peaks;
      await ctx.close();
    }
    return out;
  });
}

/**
 * What a page's media has received from each participant, by kind (`resident`, `resident-2`
 * for a second one): RTP audio packets, decoded frames.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<Record<string, { audioPackets: number, videoFrames: number }>>}
 */
export function received(page) {
  return page.evaluate(() => /** @type {any} */ (window).kk.state.session?.received() ?? {});
}

/**
 * Whether `heard` has a peak within 15 Hz of `hz`.
 * @param {number[] | undefined} heard
 * @param {number} hz
 */
export function hears(heard, hz) {
  return !!heard && heard.some((f) => Math.abs(f - hz) <= 15);
}

/** A small PNG, the "document" a resident shows (a real image of 320×200). */
export function documentPng() {
  return fs.readFileSync(path.join(here, 'fixtures', 'document.png'));
}

/** CRC-32 (PNG's), for the generated image. */
function crc32(/** @type {Buffer} */ buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/**
 * A large photo-like PNG (noise does not compress): `side`² pixels, about 3 bytes each,
 * so a document of many parts.
 * @param {number} side
 */
export async function noisePng(side) {
  const zlib = await import('node:zlib');
  const raw = Buffer.alloc((side * 3 + 1) * side);
  let seed = 12345;
  for (let i = 0; i < raw.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = i % (side * 3 + 1) === 0 ? 0 : seed >>> 16;
  }
  const chunk = (/** @type {string} */ type, /** @type {Buffer} */ data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * An interpreter on duty at any hour for the demo's first tenant (Asahi City), speaking
 * Vietnamese, and a new desk there: its enrolment code.
 * @param {Awaited<ReturnType<typeof startServer>>} server
 * @param {string} login the interpreter's (password: `<login>-password`)
 * @param {string} deskName
 */
export async function seedDeskAndInterpreter(server, login, deskName) {
  await server.api('/api/interpreters', {
    token: server.admin,
    body: {
      login,
      password: `${login}-password`,
      tier: 'staff',
      languages: ['vi'],
      modalities: ['video', 'audio'],
      tenants: [1],
      roster: { always: true },
    },
  });
  return (await server.api('/api/tenants/1/desks', { token: server.admin, body: { name: deskName } })).enrolment_code;
}

/**
 * The desk enrols, the interpreter signs in, the desk asks for Vietnamese (urgent if
 * asked) and the interpreter accepts: both on the call screen. Returns what the offer
 * showed the interpreter.
 * @param {import('playwright-core').Page} desk
 * @param {import('playwright-core').Page} interpreter
 * @param {string} base
 * @param {string} enrolmentCode
 * @param {string} login the interpreter's
 * @param {{ urgent?: boolean }} [options]
 */
export async function answeredCall(desk, interpreter, base, enrolmentCode, login, options = {}) {
  await desk.goto(`${base}/desk/`);
  await desk.fill('#enrol-code', enrolmentCode);
  await desk.click('#enrol-form button[type=submit]');
  await desk.locator('#languages button[data-lang=vi]').waitFor();
  await signInAvailable(interpreter, base, login, `${login}-password`);
  if (options.urgent) await desk.click('#urgent');
  await desk.click('#languages button[data-lang=vi]');
  await interpreter.locator('#offer').waitFor();
  const offer = {
    tenant: await interpreter.locator('#offer-tenant').innerText(),
    desk: await interpreter.locator('#offer-desk').innerText(),
    waited: await interpreter.locator('#offer-waited').innerText(),
    urgent: await interpreter.locator('#offer-urgent').isVisible(),
  };
  await interpreter.click('#accept');
  await desk.locator('#call').waitFor();
  return offer;
}

/**
 * The desk asks for an invite (`invite` for a resident, `invite-guest`): its link.
 * @param {import('playwright-core').Page} page
 * @param {'invite' | 'invite-guest'} button
 */
export async function inviteLink(page, button) {
  const before = await page.locator('#invite-link').innerText().catch(() => '');
  await page.click(`#${button}`);
  return until(async () => {
    const link = await page.locator('#invite-link').innerText();
    return link && link !== before ? link : null;
  }, 'the invite link');
}

/**
 * The participants' tiles on a page: kind, name shown, and whether marked away, hidden
 * or large.
 * @param {import('playwright-core').Page} page
 */
export function tiles(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('.tile[data-participant]')].map((el) => ({
      party: /** @type {HTMLElement} */ (el).dataset.party,
      participant: /** @type {HTMLElement} */ (el).dataset.participant,
      name: el.querySelector('.name')?.textContent || '',
      away: el.classList.contains('away'),
      hidden: /** @type {HTMLElement} */ (el).hidden,
      main: el.classList.contains('main'),
    })),
  );
}
