// The language grid's answer before the tap: each tile says whether its language can be
// served now, later today (from when), by booking only, or by a phone line; the server
// sends the whole list when the desk connects and the changes as they happen.

import { t } from '../common/i18n.js';
import { h } from '../common/ui.js';

/** @typedef {import('../common/protocol.js').Message} Message */

/** @type {Map<string, { state: string, from?: string }>} */
const known = new Map();

/** Take an `availability` event in. @param {Message} m */
export function updateAvailability(m) {
  for (const l of m.languages || []) known.set(l.language, { state: l.state, from: l.from });
}

/** The tile's line about `tag`, or nothing before the server has said. @param {string} tag */
export function availabilityBadge(tag) {
  const a = known.get(tag);
  if (!a) return '';
  const lang = [document.documentElement.lang];
  const at = a.from ? new Date(a.from) : null;
  const text =
    a.state === 'now'
      ? t('avail_now')
      : a.state === 'later_today' && at
        ? t('avail_later', { time: at.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' }) })
        : a.state === 'booking' && at
          ? t('avail_booking', { date: at.toLocaleDateString(lang, { month: 'numeric', day: 'numeric', weekday: 'short' }) })
          : t('avail_phone');
  return h('span', { class: `avail ${a.state}`, 'data-avail': a.state }, text);
}

/**
 * One tile of the grid: the language's own name above its Japanese (or English) one, and
 * what can be done for it now. Until the server has welcomed the screen a tap has nowhere
 * to go, so the tile waits, greyed, rather than answering a quick first tap with
 * "cannot reach the server".
 * @param {{ tag: string, native: string, japanese: string, english: string }} l
 * @param {boolean} online whether the server has welcomed the screen
 * @param {() => void} tap
 */
export function languageTile(l, online, tap) {
  const second = document.documentElement.lang === 'ja' ? l.japanese : l.english;
  return h(
    'button',
    { type: 'button', role: 'listitem', 'data-lang': l.tag, disabled: !online, onclick: tap },
    h('span', { class: 'native', lang: l.tag }, l.native),
    h('span', { class: 'japanese' }, second),
    availabilityBadge(l.tag),
  );
}
