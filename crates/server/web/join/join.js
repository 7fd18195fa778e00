// The resident's page, opened from an invite link on a phone, often inside Messenger's or
// LINE's own browser. In the invite's language; one tap on Join, then the browser's
// permission prompt. A camera that cannot be had means audio only; a browser that cannot
// do WebRTC at all gets "open in your browser" with the link.

import { Signal } from '../common/signal.js';
import { CallSession, bindCallControls } from '../common/call.js';
import { levelMeter, localMedia } from '../common/media.js';
import { apply, lang, t } from '../common/i18n.js';
import { $, notice, setTile, show } from '../common/ui.js';
import { LAST_LANGUAGE, WRITTEN, browserLanguage, remember, residentStrings } from './languages.js';

/** @typedef {import('../common/protocol.js').Message} Message */

const token = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const canCall = typeof RTCPeerConnection !== 'undefined' && !!navigator.mediaDevices?.getUserMedia;

const state = {
  /** @type {Signal | null} */
  signal: null,
  /** @type {CallSession | null} */
  session: null,
  /** @type {MediaStream | null} */
  local: null,
  /** @type {(() => void) | null} */
  stopMeter: null,
  ended: false,
  /** @type {any} what the link is for (`GET /api/invites/…`) */
  invite: null,
  /** the resident stopped waiting (a standing link's request withdrawn) */
  stopped: false,
};

/** @param {string} tag */
async function strings(tag) {
  await residentStrings(tag);
  document.title = t('title');
  apply();
  languageSwitch();
}

/** What a language is called in itself. */
function nativeName(/** @type {string} */ tag) {
  if (tag === 'ja-x-easy') return 'やさしい にほんご';
  try {
    return new Intl.DisplayNames([tag], { type: 'language' }).of(tag) || tag;
  } catch {
    return tag;
  }
}

/** The page's language switch: every language it is written in, by its own name. */
function languageSwitch() {
  const select = $('language-switch', HTMLSelectElement);
  if (!select.options.length) {
    for (const tag of WRITTEN) select.append(new Option(nativeName(tag), tag));
    select.addEventListener('change', async () => {
      await strings(select.value);
      remember(select.value);
      if (state.invite) inviter(state.invite);
    });
  }
  select.value = lang();
}

/** Who is inviting: the municipality and its counter, so the link is not a stranger's. */
function inviter(/** @type {any} */ invite) {
  const from = [invite.tenant_name, invite.desk_name].filter(Boolean).join(' ');
  $('invited-by').textContent = from ? t('invited_by', { from }) : '';
  $('booked-by').textContent = $('invited-by').textContent;
  $('queued-by').textContent = $('invited-by').textContent;
  if (invite.starts_at) booked(invite.starts_at);
  if (invite.waiting !== undefined) queued(invite.waiting);
}

/** How often a booked link asks whether its consultation has begun. */
const BOOKED_POLL_MS = 5000;

/** A booking's link before its consultation: when it is, in the page's language, and
 * the slot for the phone's calendar. */
function booked(/** @type {string} */ startsAt) {
  const locale = lang() === 'ja-x-easy' ? 'ja' : lang();
  let when;
  try {
    when = new Date(startsAt).toLocaleString([locale], { dateStyle: 'full', timeStyle: 'short' });
  } catch {
    when = new Date(startsAt).toLocaleString();
  }
  $('booked-when').textContent = when;
  $('add-calendar', HTMLAnchorElement).href = `/api/invites/${encodeURIComponent(token)}/calendar.ics`;
}

/** A resident from the standing link waits for an interpreter: their place. */
function queued(/** @type {number} */ ahead) {
  $('queued-ahead').textContent = ahead === 0 ? t('queued_next') : t('queued_ahead', { n: ahead });
}

/** Ask again until the booked consultation has begun (or the resident's request waiting
 * from the standing link is answered), then offer to join. */
function awaitBooking() {
  setTimeout(async () => {
    if (state.stopped) return;
    try {
      const r = await fetch(`/api/invites/${encodeURIComponent(token)}`);
      if (state.stopped) return;
      if (r.status === 404) return show('expired');
      const invite = r.ok ? await r.json() : state.invite;
      state.invite = invite;
      if (invite.starts_at) return awaitBooking();
      if (invite.waiting !== undefined) {
        queued(invite.waiting);
        return awaitBooking();
      }
      show('welcome');
      $('join').focus();
    } catch {
      awaitBooking();
    }
  }, BOOKED_POLL_MS);
}

async function start() {
  let invite;
  try {
    const r = await fetch(`/api/invites/${encodeURIComponent(token)}`);
    if (r.status === 404) {
      await strings(localStorage.getItem(LAST_LANGUAGE) || browserLanguage());
      show('expired');
      return;
    }
    if (!r.ok) throw new Error(String(r.status));
    invite = await r.json();
  } catch {
    await strings(browserLanguage()).catch(() => {});
    show('unreachable');
    return;
  }
  // A guest (a specialist, a colleague) reads the page in their browser's language; a
  // resident in the consultation's.
  state.invite = invite;
  // A language chosen on this phone before wins over the consultation's.
  const chosen = localStorage.getItem(LAST_LANGUAGE);
  const language = invite.party === 'guest' ? chosen || browserLanguage() : invite.language;
  await strings(language);
  remember(language);
  inviter(invite);
  if (!canCall) {
    $('inapp-link').textContent = location.href;
    // One tap to the phone's own browser where the platform allows it: LINE opens a
    // link outside when asked to; on Android, an intent opens Chrome. iOS apps offer
    // no such way: the page says how, and the link can be copied.
    const a = $('open-browser', HTMLAnchorElement);
    if (/Line\//i.test(navigator.userAgent)) {
      a.href = `${location.href}${location.search ? '&' : '?'}openExternalBrowser=1`;
      a.hidden = false;
    } else if (/Android/i.test(navigator.userAgent)) {
      const scheme = location.protocol.replace(':', '');
      a.href = `intent://${location.host}${location.pathname}${location.search}#Intent;scheme=${scheme};package=com.android.chrome;end`;
      a.hidden = false;
    }
    show('inapp');
    return;
  }
  // A booking's link before its consultation: when it is, and wait for it.
  if (invite.starts_at) {
    show('booked');
    awaitBooking();
    return;
  }
  // A resident from the standing link before an interpreter answers: their place.
  if (invite.waiting !== undefined) {
    show('queued');
    awaitBooking();
    return;
  }
  // An in-app browser that can call (LINE and Messenger on iOS often can) is not told
  // otherwise.
  show('welcome');
  $('join').focus();
}

// Stopping the wait asks first, as Leave does; the request is withdrawn for good.
$('stop-waiting').addEventListener('click', () => {
  $('stop-ask').hidden = false;
  $('stop-no').focus();
});
$('stop-no').addEventListener('click', () => {
  $('stop-ask').hidden = true;
  $('stop-waiting').focus();
});
$('stop-yes').addEventListener('click', async () => {
  $('stop-ask').hidden = true;
  try {
    const r = await fetch(`/api/invites/${encodeURIComponent(token)}/wait`, { method: 'DELETE' });
    // Answered meanwhile: the resident joins instead (Leave ends the call for them).
    if (r.status === 409) {
      show('welcome');
      $('join').focus();
      return;
    }
    if (r.status !== 204 && r.status !== 404) throw new Error(String(r.status));
    state.stopped = true;
    $('to-centre', HTMLAnchorElement).href = `/start/${encodeURIComponent(state.invite?.tenant ?? '')}`;
    show('stopped');
  } catch {
    show('unreachable');
  }
});

$('retry').addEventListener('click', () => location.reload());
// The link is this person's seat while the consultation lasts: opening it again brings
// them back (after Leave, a killed tab, a long outage) or takes it over from another
// screen.
$('rejoin').addEventListener('click', () => location.reload());
$('take-back').addEventListener('click', () => location.reload());
$('reload').addEventListener('click', () => location.reload());
$('copy').addEventListener('click', async () => {
  await navigator.clipboard?.writeText(location.href).catch(() => {});
  $('copy').textContent = t('copied');
});

// The device check: a preview and a level meter before joining.
$('check').addEventListener('toggle', async () => {
  const open = $('check', HTMLDetailsElement).open;
  if (!open) return;
  if (!state.local) {
    const { stream, problems } = await localMedia({ video: !$('audio-only', HTMLInputElement).checked });
    if (problems.includes('microphone_denied') || problems.includes('camera_denied') && !stream.getTracks().length) {
      show('denied');
      return;
    }
    state.local = stream;
    mediaProblems(problems);
  }
  setTile($('check-video'), state.local, { self: true, label: t('you') });
  state.stopMeter?.();
  state.stopMeter = levelMeter(state.local, (level) => {
    const pct = Math.round(level * 100);
    $('level').style.width = `${pct}%`;
    $('check').querySelector('[role=meter]')?.setAttribute('aria-valuenow', String(pct));
  });
});

/** @param {string[]} problems */
function mediaProblems(problems) {
  if (problems.includes('microphone_denied') || problems.includes('microphone_missing')) notice(t('no_mic'), 'error');
  else if (problems.length) notice(t('no_camera'), 'warn');
}

$('join').addEventListener('click', async () => {
  $('join', HTMLButtonElement).disabled = true;
  $('join').textContent = t('connecting');
  if (!state.local) {
    const { stream, problems } = await localMedia({ video: !$('audio-only', HTMLInputElement).checked });
    if (problems.includes('microphone_denied') && problems.some((p) => p.startsWith('camera') || !stream.getTracks().length)) {
      show('denied');
      return;
    }
    state.local = stream;
    mediaProblems(problems);
  }
  state.stopMeter?.();
  state.signal = new Signal({
    credential: { invite: token },
    onMessage,
    onState: (s) => {
      if (s === 'refused') show('expired');
      if (s === 'replaced') {
        leaveCall();
        show('replaced');
      }
      if (s === 'reconnecting') $('call-state').textContent = t('reconnecting');
      if (s === 'lost' && !state.ended) show('unreachable');
    },
    onWelcome: (w) => {
      $('call-state').textContent = '';
      if (w.resumed) state.session?.resumed();
    },
  });
  state.signal.connect();
});

/** What a call says on the resident's page. */
const WORDS = {
  sending: 'sending', sent: 'sent', failed: 'send_failed', noCamera: 'no_camera', noMic: 'no_mic',
  reconnecting: 'reconnecting', mute: 'mute', unmute: 'unmute', cameraOff: 'camera_off', cameraOn: 'camera_on',
  actual: '100%', fit: '⤢',
};

/** @param {Message} m a `joined` event (after every welcome, a resume's too) */
function joined(m) {
  if (state.session) {
    state.session.roster(m.participants || [], m.you ?? -1);
    return;
  }
  show('call');
  state.session = new CallSession({
    send: (c) => state.signal?.send(c) ?? false,
    call: undefined,
    iceServers: state.signal?.welcome?.ice_servers,
    large: 'interpreter',
    waiting: 'waiting',
    connecting: 'connecting',
    roster: { participants: m.participants || [], you: m.you ?? -1 },
    words: WORDS,
    onState: (s) => {
      $('call-state').textContent = s === 'reconnecting' ? t('reconnecting') : '';
    },
  });
  void state.session.start({ video: true, local: state.local || new MediaStream() });
}

bindCallControls(() => state.session);
// Leave asks first: a tap by mistake must not end the consultation for them.
$('leave').addEventListener('click', () => {
  $('leave-ask').hidden = false;
  $('leave-no').focus();
});
$('leave-no').addEventListener('click', () => {
  $('leave-ask').hidden = true;
  $('leave').focus();
});
$('leave-yes').addEventListener('click', () => {
  state.signal?.send({ type: 'leave' });
  ended(true);
});

/** Stop the call's media and connection. */
function leaveCall() {
  state.ended = true;
  state.session?.stop();
  state.session = null;
  state.signal?.close();
  $('leave-ask').hidden = true;
  notice(null);
}

/** @param {boolean} [byMe] they left (they may come back), rather than the call ending */
function ended(byMe = false) {
  leaveCall();
  show(byMe ? 'left' : 'ended');
}

/** @param {Message} m */
function onMessage(m) {
  if (state.session?.handle(m)) return;
  switch (m.type) {
    case 'joined':
      joined(m);
      break;
    case 'call_ended':
      // After Leave, the server says so too; the page already shows how to come back.
      if (!state.ended) ended();
      break;
    case 'participant_left':
      if (m.reason === 'dropped' && m.party === 'interpreter') notice(t('interpreter_left'), 'warn');
      else if (m.reason === 'dropped' && m.party === 'desk') notice(t('desk_left'), 'warn');
      break;
    case 'participant_joined':
      notice(t('back'));
      break;
    case 'error':
      if (m.code === 'unauthorized') show('expired');
      else if (m.code === 'codec_unsupported') notice(t('err_codec_unsupported'), 'warn');
      break;
  }
}

/** @type {any} */ (window).kk = { state };

void start();
