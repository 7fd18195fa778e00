// The interpreter's console: sign in, set availability, see today's languages, roster
// and work; an offer rings with a countdown (accept or decline); the call; wrap-up with
// "ready".

import { Signal } from '../common/signal.js';
import { CallSession, bindCallControls } from '../common/call.js';
import { apply, errorText, languageName, t, use } from '../common/i18n.js';
import { secondFactorButton, setUp, signIn } from '../common/signin.js';
import { $, api, callInfo, clock, h, notice, show } from '../common/ui.js';
import { ERRORS } from '../common/errors.js';
import { STRINGS } from './strings.js';
import { ROSTER_STRINGS } from '../common/roster-strings.js';
import { ownRoster } from './own-roster.js';
import { bookingSoon, loadNotices, noticeCame } from './notices.js';

/** @typedef {import('../common/protocol.js').Message} Message */

const TOKEN = 'kk.interpreter.token';
const LANG = 'kk.interpreter.lang';

const state = {
  /** @type {{ stop: () => void } | null} the call screen's ticking facts */
  info: null,
  /** @type {string | null} */
  token: sessionStorage.getItem(TOKEN),
  /** @type {Signal | null} */
  signal: null,
  /** @type {string} */
  presence: 'offline',
  /** @type {Message | null} */
  offer: null,
  /** @type {number | null} */
  call: null,
  /** @type {string} */
  modality: 'video',
  /** @type {CallSession | null} */
  session: null,
  wrapSince: 0,
  /** @type {any} */
  me: null,
};

function setLanguage(/** @type {string} */ lang) {
  localStorage.setItem(LANG, lang);
  const l = STRINGS[lang] ? lang : 'ja';
  use(lang, { ...ERRORS[l], ...ROSTER_STRINGS[l], ...STRINGS[l] }, { ...ERRORS.en, ...ROSTER_STRINGS.en, ...STRINGS.en });
  document.title = t('app');
  apply();
  renderMe();
  renderPresence();
}
$('switch-lang').addEventListener('click', () => setLanguage(document.documentElement.lang === 'ja' ? 'en' : 'ja'));

// ---- the ring: a two-tone phone ring made in the page (no sound file to fetch) ---------

/** @type {AudioContext | null} */
let audio = null;
/** @type {ReturnType<typeof setInterval> | undefined} */
let ringTimer;
function ring(on = true) {
  clearInterval(ringTimer);
  if (!on) return;
  try {
    audio ||= new AudioContext();
    void audio.resume();
  } catch {
    return;
  }
  const burst = () => {
    if (!audio) return;
    const now = audio.currentTime;
    for (const [f, start] of [[880, 0], [660, 0.25], [880, 0.5], [660, 0.75]]) {
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, now + start);
      g.gain.exponentialRampToValueAtTime(0.2, now + start + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, now + start + 0.22);
      o.connect(g).connect(audio.destination);
      o.start(now + start);
      o.stop(now + start + 0.25);
    }
  };
  burst();
  ringTimer = setInterval(burst, 2000);
}

// ---- sign in -----------------------------------------------------------------------------

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const r = await signIn('interpreter');
    if (!r) return;
    state.token = r.token;
    sessionStorage.setItem(TOKEN, r.token);
    $('password', HTMLInputElement).value = '';
    notice(null);
    if (r.second_factor_setup) await setUp(r.token, true);
    // A user gesture: the ring may sound from now on.
    audio ||= new AudioContext();
    await start();
  } catch (err) {
    notice(/** @type {any} */ (err).status === 429 ? t('signin_locked') : t('signin_bad'), 'error');
  }
});

secondFactorButton(() => state.token);
$('sign-out').addEventListener('click', async () => {
  state.signal?.send({ type: 'set_availability', availability: 'offline' });
  const token = state.token;
  signedOut(null);
  if (token) await api('/api/sign-out', { method: 'POST', token }).catch(() => {});
});

function signedOut(/** @type {string | null} */ why) {
  state.signal?.close();
  state.signal = null;
  state.token = null;
  sessionStorage.removeItem(TOKEN);
  $('sign-out').hidden = true;
  $('who').textContent = '';
  show('signin');
  notice(why, 'warn');
}

// ---- the console ---------------------------------------------------------------------------

async function loadMe() {
  if (!state.token) return;
  try {
    state.me = await api('/api/me', { token: state.token });
    renderMe();
  } catch (e) {
    if (/** @type {any} */ (e).status === 401) signedOut(t('session_ended'));
  }
}

function renderMe() {
  const me = state.me;
  if (!me) return;
  $('who').textContent = me.login;
  $('my-languages').replaceChildren(
    ...me.languages.map((/** @type {any} */ l) => h('li', {}, h('span', { lang: l.tag }, l.native), ` / ${document.documentElement.lang === 'ja' ? l.japanese : l.english}`)),
  );
  const fmt = (/** @type {string} */ s) => new Date(s).toLocaleTimeString([document.documentElement.lang], { hour: '2-digit', minute: '2-digit' });
  $('roster').replaceChildren(
    ...(me.always_on
      ? [h('li', {}, t('roster_always'))]
      : me.roster_today.length
        ? me.roster_today.map((/** @type {any} */ w) => h('li', {}, `${fmt(w.from)}–${fmt(w.until)}`))
        : [h('li', {}, t('roster_none'))]),
  );
  $('today').textContent = t('today_line', { n: me.calls_today, time: clock(me.talk_secs_today) });
  renderPresence();
  void loadBookings();
  void ownRoster(state.token, loadMe);
  void loadNotices(state.token);
}

/** The slots this interpreter is held for, the next two weeks. */
async function loadBookings() {
  if (!state.token) return;
  /** @type {any[]} */
  let list = [];
  try {
    list = await api(`/api/bookings?from=${Date.now() - 3600000}&to=${Date.now() + 14 * 86400000}`, { token: state.token });
  } catch {
    return;
  }
  const when = (/** @type {number} */ ms) =>
    new Date(ms).toLocaleString([document.documentElement.lang], { month: 'short', day: 'numeric', weekday: 'short', hour: '2-digit', minute: '2-digit' });
  $('bookings').replaceChildren(
    ...(list.length
      ? list.map((b) => h('li', { 'data-booking': String(b.id) }, `${when(b.start)} · ${languageName(b.language)} · ${b.tenant_name} ${b.desk_name}${b.specialist === 'none' ? '' : ` · ${t(`sp_${b.specialist}`)}`}`))
      : [h('li', {}, t('bookings_none'))]),
  );
}

/**
 * Whether now is outside today's roster: then "available" gets no offers (the engine
 * offers only interpreters on their roster), and the console says so. The next window
 * today, if any.
 * @returns {{ off: boolean, next: string | null }}
 */
function offRoster() {
  const me = state.me;
  if (!me || me.always_on) return { off: false, next: null };
  const now = Date.now();
  const windows = /** @type {{ from: string, until: string }[]} */ (me.roster_today);
  const on = windows.some((w) => Date.parse(w.from) <= now && now < Date.parse(w.until));
  const next = windows.map((w) => w.from).find((f) => Date.parse(f) > now) || null;
  return { off: !on, next };
}

function renderPresence() {
  const p = $('presence');
  p.textContent = t(`p_${state.presence}`);
  p.className = `presence ${state.presence}`;
  const roster = offRoster();
  const warn = $('off-roster');
  warn.hidden = !(state.presence === 'available' && roster.off);
  if (!warn.hidden) {
    const at = roster.next && new Date(roster.next).toLocaleTimeString([document.documentElement.lang], { hour: '2-digit', minute: '2-digit' });
    warn.textContent = at ? t('off_roster_until', { time: at }) : t('off_roster');
  }
  $('go-available').setAttribute('aria-pressed', String(state.presence === 'available'));
  $('go-not-ready').setAttribute('aria-pressed', String(state.presence.startsWith('not_ready')));
}

/**
 * Set availability; a tap before the connection is welcomed (just signed in, on a slow
 * network) is kept and sent once it is, not lost.
 * @param {'available' | 'not_ready'} availability
 */
function setAvailability(availability) {
  const sent = state.signal?.send({ type: 'set_availability', availability });
  pendingAvailability = sent ? null : availability;
}
/** @type {'available' | 'not_ready' | null} */
let pendingAvailability = null;
$('go-available').addEventListener('click', () => {
  audio ||= new AudioContext();
  setAvailability('available');
});
$('go-not-ready').addEventListener('click', () => setAvailability('not_ready'));
$('ready').addEventListener('click', () => setAvailability('available'));

/** @param {string} p */
function presence(p) {
  state.presence = p;
  renderPresence();
  if (p === 'wrap_up') {
    state.wrapSince = Date.now();
    show('wrap');
    tickWrap();
  } else if (document.body.dataset.screen === 'wrap' && state.call === null) {
    show('console');
  }
}

function tickWrap() {
  if (document.body.dataset.screen !== 'wrap') return;
  $('wrap-elapsed').textContent = t('wrap_elapsed', { time: clock((Date.now() - state.wrapSince) / 1000) });
  setTimeout(tickWrap, 1000);
}

// ---- offers --------------------------------------------------------------------------------

/** @param {Message} m */
function offered(m) {
  state.offer = m;
  state.modality = m.modality;
  $('offer-tenant').textContent = m.tenant;
  $('offer-desk').textContent = m.desk || '—';
  const asked = Date.parse(m.requested_at || '');
  $('offer-waited').textContent = Number.isNaN(asked) ? '—' : clock(Math.max(0, Date.now() - asked) / 1000);
  $('offer-urgent').hidden = !m.urgent;
  $('offer-booking').hidden = m.booking == null;
  $('offer-language').textContent = `${languageName(m.language, m.language)} / ${languageName(m.language)}`;
  $('offer-speciality').textContent = m.speciality ? t(`s_${m.speciality}`) : t('s_none');
  $('offer-modality').textContent = t(`m_${m.modality}`);
  const dialog = $('offer', HTMLDialogElement);
  if (!dialog.open) dialog.showModal();
  $('accept').focus();
  ring(true);
  countdown();
}

function countdown() {
  const m = state.offer;
  if (!m) return;
  const left = Math.max(0, (Date.parse(m.ring_until) - Date.now()) / 1000);
  $('countdown').textContent = clock(left);
  if (left > 0) setTimeout(countdown, 250);
}

function closeOffer() {
  state.offer = null;
  ring(false);
  const dialog = $('offer', HTMLDialogElement);
  if (dialog.open) dialog.close();
}

$('accept').addEventListener('click', () => {
  if (state.offer) state.signal?.send({ type: 'accept', offer: state.offer.offer });
});
$('decline').addEventListener('click', () => {
  if (state.offer) state.signal?.send({ type: 'decline', offer: state.offer.offer });
  closeOffer();
});
$('offer').addEventListener('cancel', (e) => {
  // Escape declines rather than leaving the offer ringing unseen.
  e.preventDefault();
  $('decline').click();
});

// ---- the call ------------------------------------------------------------------------------

/** What a call says on the console. */
const WORDS = {
  sending: 'document_sending', sent: 'document_sent', failed: 'document_failed', noCamera: 'camera_denied',
  noMic: 'microphone_denied', reconnecting: 'media_reconnecting', mute: 'mute', unmute: 'unmute',
  cameraOff: 'camera_off', cameraOn: 'camera_on', actual: 'actual_size', fit: 'fit',
  audioOnly: 'audio_only_now', videoAgain: 'video_again',
};

/** @param {Message} m an `assigned` event */
async function startCall(m) {
  const offer = state.offer;
  closeOffer();
  state.call = m.call;
  state.info?.stop();
  const about = offer ? `${languageName(offer.language)} · ${offer.tenant}${offer.desk ? ` ${offer.desk}` : ''}` : '';
  state.info = callInfo($('call-info'), about, Date.now());
  $('call-notice').hidden = true;
  show('call');
  state.session = new CallSession({
    send: (c) => state.signal?.send(c) ?? false,
    call: m.call,
    iceServers: state.signal?.welcome?.ice_servers,
    large: 'desk',
    waiting: 'waiting_desk',
    connecting: 'connecting_media',
    roster: { participants: m.participants || [], you: m.you ?? -1 },
    words: WORDS,
  });
  await state.session.start({ video: state.modality === 'video' });
}

bindCallControls(() => state.session);
$('end').addEventListener('click', () => {
  if (state.call !== null && confirm(t('end_confirm'))) state.signal?.send({ type: 'end_call', call: state.call });
});

/** @param {Message} m */
function callEnded(m) {
  state.info?.stop();
  state.info = null;
  state.session?.stop();
  state.session = null;
  state.call = null;
  notice(m.by === 'desk' ? t('call_ended_by_desk') : null);
  if (state.presence === 'wrap_up') show('wrap');
  else show('console');
  void loadMe();
}

// ---- events --------------------------------------------------------------------------------

/** @param {Message} m */
function onMessage(m) {
  if (state.session?.handle(m)) return;
  switch (m.type) {
    case 'presence':
      presence(m.presence);
      break;
    case 'offer':
      offered(m);
      break;
    case 'offer_closed':
      if (state.offer?.offer === m.offer) closeOffer();
      notice(t(`offer_closed_${m.reason}`), m.reason === 'missed' ? 'warn' : 'info');
      break;
    case 'assigned':
      void startCall(m);
      break;
    case 'participant_joined':
      if (m.party === 'resident') notice(t('resident_joined'));
      if (m.party === 'phone') notice(t('phone_joined'));
      if (m.party === 'desk') {
        $('call-notice').hidden = true;
        notice(t('desk_back'));
      }
      break;
    case 'participant_left':
      if (m.party === 'resident') notice(t(m.reason === 'dropped' ? 'resident_dropped' : 'resident_left'), m.reason === 'dropped' ? 'warn' : 'info');
      if (m.party === 'phone') notice(t('phone_left'));
      if (m.party === 'desk') {
        $('call-notice').textContent = t('desk_dropped');
        $('call-notice').hidden = false;
      }
      break;
    case 'call_ended':
      callEnded(m);
      break;
    case 'notice':
      noticeCame(m);
      break;
    case 'booking_soon':
      bookingSoon(m);
      break;
    case 'error':
      if (m.code === 'shutting_down') notice(t('server_restarting'), 'warn');
      else notice(t('error', { m: errorText(m.code, m.message) }), m.code === 'codec_unsupported' ? 'warn' : 'error');
      break;
  }
}

async function start() {
  if (!state.token) {
    show('signin');
    return;
  }
  await loadMe();
  if (!state.token) return;
  $('sign-out').hidden = false;
  show('console');
  state.signal = new Signal({
    credential: { session: state.token },
    onMessage,
    onWelcome: (w) => {
      notice(null);
      if (pendingAvailability) setAvailability(pendingAvailability);
      if (!w.resumed && state.call !== null) callEnded({ type: 'call_ended', call: state.call, by: 'interpreter' });
      else state.session?.resumed();
    },
    onState: (s) => {
      if (s === 'reconnecting') notice(t('reconnecting'), 'warn');
      if (s === 'lost') notice(t('lost'), 'error');
      if (s === 'replaced') notice(t('replaced'), 'warn');
      if (s === 'refused') signedOut(t('session_ended'));
    },
  });
  state.signal.connect();
}

/** @type {any} */ (window).kk = { state };

setLanguage(localStorage.getItem(LANG) || 'ja');
void start();
