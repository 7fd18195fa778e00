// The centre's opening hours on the desk's home screen (when its municipality has set its
// calendar): today's, then the week's next exception, a holiday or closure on a day that
// would be open, or an extra session such as an evening one. Outside the hours the
// phone lines and the online desk are closed, so the counter should know them.

import { lang, t } from '../common/i18n.js';
import { $ } from '../common/ui.js';

/** @typedef {{ date: string, open: [string, string][], note: string | null }} DayPlan */

/** A day as `12/7(月)` or `Mon, 12/7` in the page's language. */
function dayName(/** @type {string} */ date) {
  const at = new Date(`${date}T12:00:00`);
  return at.toLocaleDateString([lang()], { month: 'numeric', day: 'numeric', weekday: 'short' });
}

/** `08:30–12:00, 13:00–17:15`. */
function windows(/** @type {DayPlan} */ day) {
  return day.open.map(([from, until]) => `${from}–${until}`).join(', ');
}

/** @type {DayPlan[] | null | undefined} the days last shown */
let shown = null;

/**
 * Show the hours (`days`: today first; none: those last shown, in the page's language
 * now), or hide the line when none are set.
 * @param {DayPlan[] | null | undefined} [days]
 */
export function showHours(days = shown) {
  shown = days;
  const line = $('centre-hours');
  if (!days?.length) {
    line.hidden = true;
    return;
  }
  const [today, ...week] = days;
  const parts = [
    today.open.length
      ? t('hours_today', { hours: windows(today) })
      : t('hours_closed_today') + (today.note ? ` (${today.note})` : ''),
  ];
  // A day off with no reason is a regular one (a weekend): only exceptions are told.
  const next = week.find((d) => d.note);
  if (next && next.open.length) parts.push(t('hours_extra', { day: dayName(next.date), hours: windows(next), why: next.note ?? '' }));
  else if (next) parts.push(t('hours_closed', { day: dayName(next.date), why: next.note ?? '' }));
  line.textContent = parts.join(' · ');
  line.hidden = false;
}
