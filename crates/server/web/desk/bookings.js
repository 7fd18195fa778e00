// The desk's bookings: today's booked consultations on the home screen, a booked slot
// that begins (the server opens the request; the interpreter held is rung), and booking
// the earliest slot in one tap when nobody can interpret now.

import { sayError } from '../common/errors.js';
import { t } from '../common/i18n.js';
import { $, api, h, notice, show } from '../common/ui.js';

/** @typedef {import('../common/protocol.js').Message} Message */

/** The specialist kinds, as the server names them. */
const SPECIALISTS = ['lawyer', 'scrivener', 'immigration', 'tax', 'labour', 'psychologist', 'other'];

/** A time of day in the page's language. */
function hm(/** @type {number | string} */ at) {
  return new Date(at).toLocaleTimeString([document.documentElement.lang], { hour: '2-digit', minute: '2-digit' });
}

/**
 * Today's bookings of this desk, on the home screen.
 * @param {string} token
 * @param {(tag: string) => { native: string, japanese: string, english: string }} languageOf
 */
export async function loadToday(token, languageOf) {
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  const end = new Date(start.getTime() + 86400000);
  /** @type {any[]} */
  let list = [];
  try {
    list = await api(`/api/bookings?from=${start.getTime()}&to=${end.getTime()}`, { token });
  } catch {
    return;
  }
  const ul = $('bookings-today-list');
  ul.replaceChildren(
    ...list.map((b) => {
      const l = languageOf(b.language);
      const name = document.documentElement.lang === 'ja' ? l.japanese : l.english;
      const who = SPECIALISTS.includes(b.specialist)
        ? ` · ${t(`specialist_${b.specialist}`)}${b.specialist_joins === 'remote' ? ` (${t('remote')})` : ''}`
        : '';
      const resident = b.resident === 'counter' ? '' : ` · ${t(`resident_${b.resident}`)}`;
      return h('li', { 'data-booking': String(b.id) }, `${hm(b.start)}–${hm(b.end)} ${l.native} / ${name}${who}${resident}`);
    }),
  );
  $('bookings-today').hidden = list.length === 0;
}

/** Booked calls whose resident joins by phone, until the desk is in them. */
const byPhone = new Set();

/**
 * The desk is in call `call`: a booking whose resident joins by phone opens the dial
 * panel (the desk calls them now), or says to call from the counter's own phone where
 * the server cannot dial out.
 * @param {number} call
 */
export function bookedByPhone(call) {
  if (!byPhone.delete(call)) return;
  if ($('call-phone').hidden) {
    notice(t('booking_phone_manual'), 'warn');
    return;
  }
  $('dial-panel').hidden = false;
  $('dial-number', HTMLInputElement).focus();
  notice(t('booking_phone_now'));
}

/** Booked requests that began while the desk was busy: request → language tag. */
const later = new Map();

/**
 * A booking's events: true if `m` was one the desk need not handle itself. A booked slot
 * that begins rings the interpreter held; the desk waits for them like for its own
 * request. Busy in a consultation, the desk is told, and the booked call, once
 * answered, waits (with the line calls answered meanwhile) until the desk is free.
 * @param {Message} m
 * @param {any} state the desk's
 * @param {{ languageOf: (tag: string) => any, resetOptions: () => void }} desk
 */
export function bookingEvent(m, state, desk) {
  const busy = state.call !== null || state.ended !== null || state.request !== null;
  if (m.type === 'booking_call') {
    const l = desk.languageOf(m.language);
    if (m.resident === 'phone' && busy) byPhone.add(m.request);
    if (state.request === m.request) return true;
    if (busy) {
      later.set(m.request, m.language);
      notice(t('booking_started_busy', { lang: l.native }), 'warn');
      return true;
    }
    desk.resetOptions();
    state.language = l;
    state.request = m.request;
    $('waiting-language').textContent = `${l.native} / ${l.japanese}`;
    $('waiting-state').textContent = t('booking_ringing');
    $('waiting-estimate').textContent = t('booking_until', { time: hm(m.ends_at) });
    if (m.resident === 'phone') {
      byPhone.add(m.request);
      $('waiting-estimate').textContent += ` · ${t('booking_phone_then')}`;
    }
    show('waiting');
    return true;
  }
  if (!('request' in m) || !later.has(m.request)) return false;
  const tag = later.get(m.request);
  later.delete(m.request);
  if (m.type === 'assigned' && busy) {
    state.lineCalls.push({ m, tag, booked: true });
    notice(t('booking_next_call'), 'warn');
    return true;
  }
  // Answered while the desk is free: its own path takes it; ended unanswered: nothing to do.
  if (m.type === 'assigned') state.language = desk.languageOf(tag);
  return m.type !== 'assigned';
}

/**
 * Book the earliest slot the engine named (`unserved` with a `booking` or `later_today`
 * suggestion) for `language`: 30 minutes, the resident at the counter.
 * @param {string} token
 * @param {string} language
 * @param {string} from RFC 3339
 */
export async function bookEarliest(token, language, from) {
  try {
    const r = await api('/api/bookings', { method: 'POST', token, body: { language, start: from, minutes: 30 } });
    notice(t('booked', { time: new Date(from).toLocaleString([document.documentElement.lang], { month: 'long', day: 'numeric', weekday: 'short', hour: '2-digit', minute: '2-digit' }) }));
    return r;
  } catch (e) {
    notice(t('booking_refused', { m: sayError(e, { byCode: false }) }), 'error');
    return null;
  }
}
