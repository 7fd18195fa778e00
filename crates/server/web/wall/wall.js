// The supervisor's wallboard: live queues by language (depth, longest wait, today's
// service level), interpreters by state, and a chart of today's waits drawn here in SVG.

import { loadInterpreters, renderWaiting } from './assign.js';
import { bindNotices } from './notices.js';
import { Signal } from '../common/signal.js';
import { apply, languageName, t, use } from '../common/i18n.js';
import { secondFactorButton, setUp, signIn } from '../common/signin.js';
import { $, api, clock, h, notice, show } from '../common/ui.js';
import { STRINGS } from './strings.js';

/** @typedef {import('../common/protocol.js').Message} Message */

const TOKEN = 'kk.wall.token';
const LANG = 'kk.wall.lang';
const SVG = 'http://www.w3.org/2000/svg';

const state = {
  /** @type {string | null} */
  token: sessionStorage.getItem(TOKEN),
  /** @type {Signal | null} */
  signal: null,
  /** @type {Message | null} */
  snapshot: null,
  /** @type {any[]} */
  records: [],
  /** @type {ReturnType<typeof setInterval> | undefined} */
  timer: undefined,
};

function setLanguage(/** @type {string} */ lang) {
  localStorage.setItem(LANG, lang);
  use(lang, STRINGS[lang] || STRINGS.ja, STRINGS.en);
  document.title = t('app');
  apply();
  if (state.snapshot) render(state.snapshot);
  chart();
}
$('switch-lang').addEventListener('click', () => setLanguage(document.documentElement.lang === 'ja' ? 'en' : 'ja'));
bindNotices(() => state.token);

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const r = await signIn('staff');
    if (!r) return;
    state.token = r.token;
    sessionStorage.setItem(TOKEN, r.token);
    notice(null);
    if (r.second_factor_setup) await setUp(r.token, true);
    start();
  } catch {
    notice(t('signin_bad'), 'error');
  }
});
secondFactorButton(() => state.token);
$('sign-out').addEventListener('click', async () => {
  const token = state.token;
  stop();
  if (token) await api('/api/sign-out', { method: 'POST', token }).catch(() => {});
});

function stop() {
  clearInterval(state.timer);
  state.signal?.close();
  state.signal = null;
  state.token = null;
  sessionStorage.removeItem(TOKEN);
  $('sign-out').hidden = true;
  show('signin');
}

/** @param {Message} s a snapshot */
function render(s) {
  state.snapshot = s;
  $('updated').textContent = t('updated', { time: new Date(s.at).toLocaleTimeString([document.documentElement.lang]) });
  const rows = s.languages.filter((/** @type {any} */ l) => l.waiting || l.staffed);
  rows.sort((/** @type {any} */ a, /** @type {any} */ b) => b.waiting - a.waiting || b.longest_wait_secs - a.longest_wait_secs);
  $('queues').replaceChildren(
    ...rows.map((/** @type {any} */ l) =>
      h(
        'tr',
        { 'data-lang': l.language },
        h('th', { scope: 'row' }, `${languageName(l.language)} (${l.language})`),
        h('td', { class: `num${l.waiting && !l.idle ? ' bad' : ''}` }, String(l.waiting)),
        h('td', { class: `num${l.longest_wait_secs > 60 ? ' bad' : ''}` }, l.waiting ? clock(l.longest_wait_secs) : '–'),
        h('td', { class: 'num' }, String(l.idle)),
        h('td', { class: 'num' }, String(l.staffed)),
        h('td', { class: 'num' }, l.service_level_20s === undefined ? '–' : `${Math.round(l.service_level_20s * 100)}%`),
      ),
    ),
  );
  $('no-queues').hidden = rows.length > 0;
  const c = s.calls || { calls: 0, by_link: 0, phone_legs: 0 };
  $('calls-live').textContent = t('calls_live', { calls: String(c.calls), link: String(c.by_link), phone: String(c.phone_legs) });
  $('presences').replaceChildren(
    ...s.interpreters.map((/** @type {any} */ p) =>
      h('span', { class: `presence ${p.presence}`, 'data-presence': p.presence }, `${t(`p_${p.presence}`)}: ${p.count}`),
    ),
  );
  renderWaiting(s, state.token, (tag) => `${languageName(tag)} (${tag})`);
}

/** The start of today, local time. */
function midnight() {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

async function loadRecords() {
  if (!state.token) return;
  try {
    state.records = await api(`/api/call-records?since=${midnight()}`, { token: state.token });
    chart();
  } catch (e) {
    if (/** @type {any} */ (e).status === 401) stop();
  }
}

/**
 * @param {string} name
 * @param {Record<string, string | number>} attrs
 */
function svg(name, attrs) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** Today's waits: one dot per request, at its time, as high as its wait. */
function chart() {
  const records = state.records;
  const answered = records.filter((r) => r.outcome === 'answered').length;
  $('calls-today').textContent = t('calls_today', { n: records.length, a: answered });
  const W = 960, H = 320, L = 56, B = 36, T = 12, R = 32;
  const start = midnight();
  const wait = (/** @type {any} */ r) =>
    r.outcome === 'answered' ? (r.answered_at - r.requested_at) / 1000 : r.outcome === 'unserved' ? 0 : (r.ended_at - r.requested_at) / 1000;
  const hours = records.map((r) => (r.requested_at - start) / 3600000);
  const from = Math.max(0, Math.floor(Math.min(8, ...hours)));
  const until = Math.min(24, Math.ceil(Math.max(18, (Date.now() - start) / 3600000, ...hours)));
  const top = Math.max(60, ...records.map(wait)) * 1.1;
  const x = (/** @type {number} */ hour) => L + ((hour - from) / (until - from)) * (W - L - R);
  const y = (/** @type {number} */ secs) => H - B - (secs / top) * (H - B - T);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('waits_today') });
  for (let hour = from; hour <= until; hour += 2) {
    root.append(svg('line', { x1: x(hour), x2: x(hour), y1: T, y2: H - B, stroke: '#ddd' }));
    const label = svg('text', { x: x(hour), y: H - 12, 'text-anchor': 'middle', 'font-size': 14, fill: '#444' });
    label.textContent = `${hour}:00`;
    root.append(label);
  }
  for (const secs of [0, 20, 60, 120, 300, 600].filter((s) => s < top)) {
    root.append(svg('line', { x1: L, x2: W - R, y1: y(secs), y2: y(secs), stroke: secs === 20 ? '#0a4a94' : '#ddd', 'stroke-dasharray': secs === 20 ? '6 4' : '' }));
    const label = svg('text', { x: L - 6, y: y(secs) + 5, 'text-anchor': 'end', 'font-size': 14, fill: '#444' });
    label.textContent = secs < 60 ? `${secs}s` : `${secs / 60}m`;
    root.append(label);
  }
  const colour = { answered: '#0b6b2e', abandoned: '#a0161b', expired: '#a0161b', unserved: '#767676' };
  for (const r of records) {
    const dot = svg('circle', { cx: x((r.requested_at - start) / 3600000), cy: y(wait(r)), r: 5, fill: /** @type {any} */ (colour)[r.outcome] || '#000', 'data-outcome': r.outcome });
    const title = svg('title', {});
    title.textContent = `${new Date(r.requested_at).toLocaleTimeString()} ${languageName(r.language)} ${t(r.outcome)} ${clock(wait(r))}`;
    dot.append(title);
    root.append(dot);
  }
  $('chart').replaceChildren(root);
}

function start() {
  if (!state.token) {
    show('signin');
    return;
  }
  $('sign-out').hidden = false;
  show('board');
  state.signal = new Signal({
    credential: { session: state.token },
    onMessage: (m) => {
      if (m.type === 'snapshot') render(m);
    },
    onWelcome: () => {
      notice(null);
      state.signal?.send({ type: 'subscribe' });
    },
    onState: (s) => {
      if (s === 'reconnecting') notice(t('reconnecting'), 'warn');
      if (s === 'lost') notice(t('lost'), 'error');
      if (s === 'replaced') notice(t('replaced'), 'warn');
      if (s === 'refused') stop();
    },
  });
  state.signal.connect();
  void loadRecords();
  void loadInterpreters(state.token);
  state.timer = setInterval(loadRecords, 30000);
}

/** @type {any} */ (window).kk = { state, loadRecords };

setLanguage(localStorage.getItem(LANG) || 'ja');
start();
