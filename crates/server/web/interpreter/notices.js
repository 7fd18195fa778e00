// The console's notices: what coordinators sent the interpreters (the last 30 days,
// `GET /api/notices`, then each `notice` as it comes) and the reminder that a booked slot
// begins soon (`booking_soon`).

import { languageName, t } from '../common/i18n.js';
import { $, api, h, notice } from '../common/ui.js';

/** @type {{ id: number, from: string, text: string, at: string }[]} */
let list = [];

/** @param {string} iso */
const when = (iso) => new Date(iso).toLocaleString([document.documentElement.lang], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
/** @param {string} from the sender's municipality, or `center` */
const sender = (from) => (from === 'center' ? t('from_center') : from);

function draw() {
  $('notices').replaceChildren(...(list.length
    ? list.map((n) => h('li', { 'data-notice': String(n.id) }, h('strong', { text: `${when(n.at)} ${sender(n.from)}` }), ' ', n.text))
    : [h('li', { class: 'muted', text: t('notices_none') })]));
}

/** The recent notices. @param {string | null} token */
export async function loadNotices(token) {
  if (!token) return;
  try {
    list = await api('/api/notices', { token });
  } catch {
    return;
  }
  draw();
}

/** A notice that has just come. @param {any} m */
export function noticeCame(m) {
  if (list.some((n) => n.id === m.id)) return;
  list = [{ id: m.id, from: m.from, text: m.text, at: m.at }, ...list];
  draw();
  notice(t('notice_came', { from: sender(m.from), text: m.text }), 'info');
}

/** A booked slot begins soon. @param {any} m */
export function bookingSoon(m) {
  const time = new Date(m.starts_at).toLocaleTimeString([document.documentElement.lang], { hour: '2-digit', minute: '2-digit' });
  notice(t('booking_soon', { time, language: languageName(m.language) }), 'warn');
}
