// The desk tablet at the counter: enrol once, then pick the resident's language (one
// tap; a second, optional one for a subject or audio only), wait with an honest estimate,
// interpret, invite a remote resident, record the outcome.

import { Signal } from '../common/signal.js';
import { CallSession, bindCallControls } from '../common/call.js';
import { apply, errorText, t, use } from '../common/i18n.js';
import { $, api, callInfo, h, notice, show } from '../common/ui.js';
import { ERRORS } from '../common/errors.js';
import { STRINGS } from './strings.js';
import { outcomeCommand, resetOutcome, setUpOutcome } from './outcome.js';
import { bookEarliest, bookedByPhone, bookingEvent, loadToday } from './bookings.js';
import { languageTile, updateAvailability } from './grid.js';
import { showHours } from './hours.js';

/** @typedef {import('../common/protocol.js').Message} Message */
/** @typedef {import('../common/protocol.js').Party} Party */
/** @typedef {{ tag: string, native: string, japanese: string, english: string, uses: number }} Language */

const TOKEN = 'kk.desk.token';
const LANG = 'kk.desk.lang';

const state = {
  /** @type {string | null} */
  token: localStorage.getItem(TOKEN),
  /** @type {{ stop: () => void } | null} the call screen's ticking facts */
  info: null,
  /** Who invites: the municipality and this counter, for the invite message. */
  from: '',
  /** @type {Language[]} */
  languages: [],
  /** @type {number | null} */
  request: null,
  /** @type {Language | null} */
  language: null,
  /** @type {number | null} */
  call: null,
  /** @type {number | null} the call whose outcome is asked */
  ended: null,
  /** @type {Signal | null} */
  signal: null,
  /** @type {CallSession | null} */
  session: null,
  audioOnly: false,
  urgent: false,
  /** @type {Message | null} */
  invite: null,
  interpreterDropped: false,
  /** @type {Map<number, { tag: string, place: string, online?: boolean }>} phone line callers (and residents from the standing link) waiting for an interpreter */
  lines: new Map(),
  /** @type {{ m: Message, tag: string, booked?: boolean, online?: boolean }[]} line (booked, online) calls answered while the desk was busy */
  lineCalls: [],
  /** @type {string | null} the earliest slot the last `unserved` named */
  suggested: null,
};

function setLanguage(/** @type {string} */ lang) {
  localStorage.setItem(LANG, lang);
  use(lang, { ...(ERRORS[lang] || ERRORS.ja), ...(STRINGS[lang] || STRINGS.ja) }, { ...ERRORS.en, ...STRINGS.en });
  document.title = t('app');
  apply();
  renderLanguages();
  showHours();
  if (state.invite) renderInvite(state.invite);
}

$('switch-lang').addEventListener('click', () => setLanguage(document.documentElement.lang === 'ja' ? 'en' : 'ja'));

// ---- enrolment -------------------------------------------------------------------------

$('enrol-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const code = $('enrol-code', HTMLInputElement).value.trim();
  try {
    const r = await api('/api/enrol', { method: 'POST', body: { code } });
    state.token = r.token;
    localStorage.setItem(TOKEN, r.token);
    notice(null);
    await start();
  } catch {
    notice(t('enrol_bad'), 'error');
  }
});

function enrol(/** @type {string | null} */ why) {
  state.signal?.close();
  state.signal = null;
  state.token = null;
  localStorage.removeItem(TOKEN);
  show('enrol');
  notice(why, 'error');
}

// ---- home: the language grid -----------------------------------------------------------

function renderLanguages() {
  const grid = $('languages');
  const q = $('search', HTMLInputElement).value.trim().toLowerCase();
  // Not while connecting or reconnecting: the tiles wait, greyed.
  const online = state.signal?.state === 'open';
  grid.replaceChildren();
  let shown = 0;
  for (const l of state.languages) {
    const hay = `${l.native} ${l.japanese} ${l.english} ${l.tag}`.toLowerCase();
    if (q && !hay.includes(q)) continue;
    shown++;
    grid.append(languageTile(l, online, () => requestInterpreter(l)));
  }
  $('no-match').hidden = shown > 0;
}

$('search').addEventListener('input', renderLanguages);
for (const id of ['audio-only', 'urgent']) {
  const b = $(id);
  b.addEventListener('click', () => b.setAttribute('aria-pressed', String(b.getAttribute('aria-pressed') !== 'true')));
}

/** A new consultation starts with the options off: subject, urgent, audio only. */
function resetOptions() {
  $('speciality', HTMLSelectElement).value = '';
  for (const id of ['audio-only', 'urgent']) $(id).setAttribute('aria-pressed', 'false');
  state.audioOnly = false;
  state.urgent = false;
}

/** @param {Language} l */
function requestInterpreter(l) {
  const speciality = $('speciality', HTMLSelectElement).value || undefined;
  state.audioOnly = $('audio-only').getAttribute('aria-pressed') === 'true';
  state.urgent = $('urgent').getAttribute('aria-pressed') === 'true';
  state.language = l;
  const ok = state.signal?.send({
    type: 'request_interpreter',
    language: l.tag,
    modality: state.audioOnly ? 'audio' : 'video',
    speciality,
    urgent: state.urgent,
  });
  if (!ok) {
    notice(t('lost'), 'error');
    return;
  }
  notice(null);
  $('waiting-language').textContent = `${l.native} / ${l.japanese}`;
  $('waiting-state').textContent = t('ringing');
  $('waiting-estimate').textContent = '';
  show('waiting');
}

$('cancel').addEventListener('click', () => {
  if (state.request !== null) state.signal?.send({ type: 'cancel_request', request: state.request });
});
$('unserved-back').addEventListener('click', () => home());
$('book-earliest').addEventListener('click', async () => {
  if (state.token && state.language && state.suggested && (await bookEarliest(state.token, state.language.tag, state.suggested))) home();
});

function home() {
  state.request = null;
  const next = state.lineCalls.shift();
  if (next) {
    void startLineCall(next.m, next.tag, next.booked, next.online);
    return;
  }
  // The heading takes the focus, not the search box: on a tablet that would open the
  // keyboard over the grid.
  show('home');
  if (state.token) void loadToday(state.token, languageOf);
}

// ---- phone line callers (the desk as its centre's phone desk) ------------------------------

/** @param {string} tag */
function languageOf(tag) {
  return state.languages.find((l) => l.tag === tag) || { tag, native: tag, japanese: tag, english: tag, uses: 0 };
}

function renderLines() {
  const list = $('line-callers');
  list.replaceChildren();
  for (const [request, { tag, place, online }] of state.lines) {
    const l = languageOf(tag);
    const name = document.documentElement.lang === 'ja' ? l.japanese : l.english;
    // Staff may end a caller's wait (the counter is closing, or they will call back):
    // the caller hears that nobody can take the call now, and the line hangs up.
    const end = h('button', { type: 'button', class: 'secondary', 'aria-label': t('line_end_label', { lang: l.native }) }, t('line_end'));
    end.addEventListener('click', () => {
      if (window.confirm(t('line_end_confirm', { lang: `${l.native} / ${name}` }))) {
        state.signal?.send({ type: 'cancel_request', request });
      }
    });
    list.append(h('li', { 'data-online': online ? '1' : undefined }, t(online ? 'online_caller' : 'line_caller', { lang: `${l.native} / ${name}`, place }), ' ', end));
  }
  $('line-queue').hidden = state.lines.size === 0;
}

/**
 * An event about a phone line caller's request, which this desk did not make: true if
 * it was one.
 * @param {Message} m
 */
function lineEvent(m) {
  const waiting = state.lines.get(m.request);
  if (m.type === 'line_call') {
    state.lines.set(m.request, { tag: m.language, place: t('ringing'), online: !!m.online });
  } else if (!waiting) {
    return false;
  } else if (m.type === 'queued' || m.type === 'position') {
    waiting.place = m.ringing ? t('line_ringing') : m.position === 0 ? t('position_first') : t('position', { n: m.position });
  } else if (m.type === 'assigned') {
    state.lines.delete(m.request);
    // The desk joins now if it is free, else once its consultation is over.
    if (state.call === null && state.ended === null && state.request === null) void startLineCall(m, waiting.tag, false, waiting.online);
    else {
      state.lineCalls.push({ m, tag: waiting.tag, online: waiting.online });
      notice(t('line_next_call'), 'warn');
    }
  } else {
    // unserved, expired, cancelled: the caller was told by the line.
    state.lines.delete(m.request);
  }
  renderLines();
  return true;
}

/** @param {Message} m an `assigned` event of a line caller's (or a booking's) request @param {string} tag @param {boolean} [booked] @param {boolean} [online] */
async function startLineCall(m, tag, booked = false, online = false) {
  resetOptions();
  state.audioOnly = false;
  state.language = languageOf(tag);
  notice(t(booked ? 'booking_call_started' : online ? 'online_call_started' : 'line_call_started', { lang: state.language.native }));
  await startCall(m);
}

// ---- the wait ----------------------------------------------------------------------------

/** @param {Message} m a `queued` or `position` event */
function standing(m) {
  state.request = m.request;
  if (document.body.dataset.screen !== 'waiting') show('waiting');
  $('waiting-state').textContent = m.ringing ? t('ringing') : m.position === 0 ? t('position_first') : t('position', { n: m.position });
  $('waiting-estimate').textContent = m.ringing ? '' : t('estimate', { e: t(`est_${m.estimate}`) });
}

/** @param {Message} m */
function unserved(m) {
  state.request = null;
  const s = m.suggestion;
  const when = new Date(s.from || 0);
  const text =
    s.kind === 'later_today'
      ? t('unserved_later', { time: when.toLocaleTimeString([document.documentElement.lang], { hour: '2-digit', minute: '2-digit' }) })
      : s.kind === 'booking'
        ? t('unserved_booking', { date: when.toLocaleString([document.documentElement.lang], { month: 'long', day: 'numeric', weekday: 'short', hour: '2-digit', minute: '2-digit' }) })
        : t('unserved_phone');
  $('unserved-language').textContent = state.language ? `${state.language.native} / ${state.language.japanese}` : '';
  $('unserved-suggestion').textContent = text;
  state.suggested = s.kind === 'phone' ? null : s.from;
  $('book-earliest').hidden = !state.suggested;
  show('unserved');
}

// ---- the call ----------------------------------------------------------------------------

/** What a call says on the desk. */
const WORDS = {
  sending: 'document_sending', sent: 'document_sent', failed: 'document_failed', noCamera: 'camera_denied',
  noMic: 'microphone_denied', reconnecting: 'media_reconnecting', mute: 'mute', unmute: 'unmute',
  cameraOff: 'camera_off', cameraOn: 'camera_on', actual: 'actual_size', fit: 'fit',
  audioOnly: 'audio_only_now', videoAgain: 'video_again',
};

/** @param {Message} m an `assigned` event */
async function startCall(m) {
  state.call = m.call;
  state.info?.stop();
  const l = state.language;
  const about = l ? `${l.native} / ${document.documentElement.lang === 'ja' ? l.japanese : l.english}` : '';
  state.info = callInfo($('call-info'), about, Date.now());
  state.request = null;
  state.invite = null;
  state.interpreterDropped = false;
  $('invite-panel').hidden = true;
  callNotice(null);
  show('call');
  bookedByPhone(m.call);
  state.session = new CallSession({
    send: (c) => state.signal?.send(c) ?? false,
    call: m.call,
    iceServers: state.signal?.welcome?.ice_servers,
    large: 'interpreter',
    waiting: 'waiting_interpreter',
    connecting: 'connecting_media',
    roster: { participants: m.participants || [], you: m.you ?? -1 },
    words: WORDS,
  });
  await state.session.start({ video: !state.audioOnly });
}

bindCallControls(() => state.session);
$('end').addEventListener('click', () => {
  if (state.call !== null && confirm(t('end_confirm'))) state.signal?.send({ type: 'end_call', call: state.call });
});
$('end-anyway').addEventListener('click', () => {
  if (state.call !== null) state.signal?.send({ type: 'end_call', call: state.call });
});
$('call-another').addEventListener('click', () => {
  // The same language again, ahead of normal requests: the resident is waiting.
  if (state.call === null || !state.language) return;
  state.signal?.send({ type: 'end_call', call: state.call });
  state.urgent = true;
  $('urgent').setAttribute('aria-pressed', 'true');
  pendingRequest = state.language;
});
/** @type {Language | null} a request to make once the ended call is closed */
let pendingRequest = null;

$('invite').addEventListener('click', () => {
  if (state.call !== null) state.signal?.send({ type: 'invite', call: state.call, party: 'resident' });
});
$('invite-guest').addEventListener('click', () => {
  if (state.call !== null) state.signal?.send({ type: 'invite', call: state.call, party: 'guest' });
});
$('invite-phone').addEventListener('click', () => {
  if (state.call !== null) state.signal?.send({ type: 'invite', call: state.call, party: 'phone' });
});
$('call-phone').addEventListener('click', () => {
  $('dial-panel').hidden = false;
  $('dial-number', HTMLInputElement).focus();
});
$('dial-close').addEventListener('click', () => {
  $('dial-panel').hidden = true;
  $('dial-number', HTMLInputElement).value = '';
});
$('dial-panel').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('dial-number', HTMLInputElement);
  if (state.call === null || !input.value.trim()) return;
  state.signal?.send({ type: 'dial_out', call: state.call, number: input.value.trim() });
  // Personal data: not kept on the page once sent.
  input.value = '';
  $('dial-panel').hidden = true;
});
$('phone-close').addEventListener('click', () => {
  $('phone-panel').hidden = true;
});
$('invite-close').addEventListener('click', () => {
  $('invite-panel').hidden = true;
});
$('copy-link').addEventListener('click', async () => {
  const url = state.invite?.url || '';
  try {
    await navigator.clipboard.writeText(url);
  } catch {
    const range = document.createRange();
    range.selectNodeContents($('invite-link'));
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
    document.execCommand('copy');
  }
  $('copy-link').textContent = t('copied');
  setTimeout(() => ($('copy-link').textContent = t('copy')), 2000);
});
$('share-native').addEventListener('click', async () => {
  const url = state.invite?.url;
  if (url && navigator.share) await navigator.share({ url, text: await inviteText() }).catch(() => {});
});

/**
 * The message that goes with the link, naming who sends it (the municipality and this
 * counter, so the link does not look like a stranger's): in the resident's language, or
 * the desk's for a guest.
 */
async function inviteText() {
  const from = state.from || '';
  if (state.invite?.party === 'guest') return t('invite_guest_message', { from });
  const tag = state.language?.tag || 'en';
  /** @param {string} s */
  const fill = (s) => s.split('{from}').join(from);
  try {
    const mod = await import(`../join/i18n/${tag}.js`);
    return fill(mod.default.invite_message || '');
  } catch {
    const mod = await import('../join/i18n/en.js');
    return fill(mod.default.invite_message || '');
  }
}

/** @param {Message} m an `invite` event */
async function renderInvite(m) {
  state.invite = m;
  $('invite-qr', HTMLImageElement).src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(m.qr_svg)}`;
  $('invite-link').textContent = m.url;
  const until = new Date(m.expires_at).toLocaleTimeString([document.documentElement.lang], { hour: '2-digit', minute: '2-digit' });
  const guest = m.party === 'guest';
  $('invite-title').textContent = t(guest ? 'invite_guest_title' : 'invite_title');
  $('invite-help').textContent = t(guest ? 'invite_guest_help' : 'invite_help', { time: until });
  const text = await inviteText();
  const both = `${text} ${m.url}`;
  $('share-line', HTMLAnchorElement).href = `https://line.me/R/share?text=${encodeURIComponent(both)}`;
  $('share-messenger', HTMLAnchorElement).href = `fb-messenger://share/?link=${encodeURIComponent(m.url)}`;
  $('share-whatsapp', HTMLAnchorElement).href = `https://wa.me/?text=${encodeURIComponent(both)}`;
  $('share-native').hidden = !('share' in navigator);
  $('invite-panel').hidden = false;
  $('invite-panel').scrollIntoView({ block: 'nearest' });
}

/** @param {Message} m a `phone_invite` event */
function renderPhoneInvite(m) {
  const until = new Date(m.expires_at).toLocaleTimeString([document.documentElement.lang], { hour: '2-digit', minute: '2-digit' });
  $('phone-help').textContent = t('invite_phone_help', { time: until });
  $('phone-number').textContent = m.number;
  // In threes, as people read a PIN aloud.
  $('phone-pin').textContent = String(m.pin).replace(/(\d{3})(?=\d)/g, '$1 ');
  $('phone-panel').hidden = false;
  $('phone-panel').scrollIntoView({ block: 'nearest' });
}

/** @param {string | null} text */
function callNotice(text, dropped = false) {
  $('call-notice').hidden = !text;
  $('call-notice-text').textContent = text || '';
  $('dropped-actions').hidden = !dropped;
}

/** @param {Message} m */
function callEnded(m) {
  resetOptions();
  state.info?.stop();
  state.info = null;
  state.session?.stop();
  state.session = null;
  state.ended = m.call;
  state.call = null;
  state.invite = null;
  $('phone-panel').hidden = true;
  $('dial-panel').hidden = true;
  $('dial-number', HTMLInputElement).value = '';
  callNotice(null);
  if (pendingRequest) {
    const l = pendingRequest;
    pendingRequest = null;
    state.ended = null;
    requestInterpreter(l);
    return;
  }
  notice(m.by === 'interpreter' ? t('ended_by_interpreter') : null);
  resetOutcome();
  show('outcome');
}

for (const b of document.querySelectorAll('#outcomes button')) {
  b.addEventListener('click', () => {
    if (state.ended !== null) state.signal?.send(outcomeCommand(state.ended, b.getAttribute('data-outcome') || ''));
  });
}
$('outcome-skip').addEventListener('click', () => {
  state.ended = null;
  home();
});

// ---- events ------------------------------------------------------------------------------

/** @param {Message} m */
function onMessage(m) {
  if (state.session?.handle(m)) return;
  if ('request' in m && lineEvent(m)) return;
  if (bookingEvent(m, state, { languageOf, resetOptions })) return;
  switch (m.type) {
    case 'queued':
    case 'position':
      standing(m);
      break;
    case 'unserved':
      unserved(m);
      break;
    case 'expired':
      home();
      notice(t('expired'), 'warn');
      break;
    case 'cancelled':
      home();
      notice(t('cancelled'));
      break;
    case 'assigned':
      void startCall(m);
      break;
    case 'availability':
      updateAvailability(m);
      renderLanguages();
      break;
    case 'participant_joined':
      if (m.party === 'resident') notice(t('resident_joined'));
      if (m.party === 'phone') {
        $('phone-panel').hidden = true;
        notice(t('phone_joined'));
      }
      if (m.party === 'interpreter' && state.interpreterDropped) {
        state.interpreterDropped = false;
        callNotice(null);
        notice(t('interpreter_back'));
      }
      break;
    case 'participant_left':
      if (m.party === 'resident') notice(t(m.reason === 'dropped' ? 'resident_dropped' : 'resident_left'), m.reason === 'dropped' ? 'warn' : 'info');
      if (m.party === 'phone') notice(t('phone_left'));
      if (m.party === 'interpreter') {
        state.interpreterDropped = true;
        callNotice(t('interpreter_dropped'), true);
      }
      break;
    case 'call_ended':
      callEnded(m);
      break;
    case 'invite':
      void renderInvite(m);
      break;
    case 'phone_invite':
      renderPhoneInvite(m);
      break;
    case 'dialling':
      notice(t('dialling'));
      break;
    case 'dial_failed':
      notice(t(`dial_${m.reason}`), 'warn');
      break;
    case 'outcome_recorded':
      state.ended = null;
      home();
      notice(t('recorded'));
      break;
    case 'error':
      if (m.code === 'shutting_down') notice(t('server_restarting'), 'warn');
      else notice(t('error', { m: errorText(m.code, m.message) }), m.code === 'codec_unsupported' ? 'warn' : 'error');
      break;
  }
}

async function start() {
  if (!state.token) {
    show('enrol');
    return;
  }
  let desk;
  try {
    desk = await api('/api/desk', { token: state.token });
  } catch (e) {
    if (/** @type {any} */ (e).status === 401) return enrol(t('revoked'));
    notice(t('lost'), 'error');
    setTimeout(start, 5000);
    return;
  }
  state.languages = desk.languages;
  $('desk-name').textContent = `${desk.tenant_name} · ${desk.name}`;
  state.from = `${desk.tenant_name} ${desk.name}`;
  $('invite-phone').hidden = !desk.phone_number;
  $('call-phone').hidden = !desk.dial_out;
  setUpOutcome(desk);
  showHours(desk.days);
  home();
  state.signal = new Signal({
    credential: { desk_token: state.token },
    onMessage,
    onWelcome: (w) => {
      notice(null);
      renderLanguages();
      if (!w.resumed && state.call !== null) {
        // The server no longer holds the call (it restarted, or the grace passed).
        callEnded({ type: 'call_ended', call: state.call, by: 'desk' });
        home();
      } else state.session?.resumed();
    },
    onState: (s) => {
      if (s !== 'open') renderLanguages();
      if (s === 'reconnecting') notice(t('reconnecting'), 'warn');
      if (s === 'lost') notice(t('lost'), 'error');
      if (s === 'replaced') notice(t('replaced'), 'warn');
      if (s === 'refused') enrol(t('revoked'));
    },
  });
  renderLanguages();
  notice(t('connecting'));
  state.signal.connect();
}

// For the browser tests: the live call's media.
/** @type {any} */ (window).kk = { state };

setLanguage(localStorage.getItem(LANG) || 'ja');
void start();
