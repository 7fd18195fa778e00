// Monthly statistics: a municipality's month, or the shared centre's across its members
// (the shared report, without the interpreters), with charts by language, hour,
// weekday, topic and mode, figures by member town, and each interpreter's activity.

import { sayError } from '../common/errors.js';
import { languageName, lang, t } from '../common/i18n.js';
import { $, api, h, notice } from '../common/ui.js';
import { columns, rows } from './charts.js';

/** @type {any} */
let shown = null;

/** Last month, `YYYY-MM`. */
export function lastMonth() {
  const d = new Date();
  d.setDate(1);
  d.setMonth(d.getMonth() - 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

/**
 * The statistics' address: a municipality's, the whole centre's (admins) or the shared
 * report.
 * @param {string} format
 */
export function monthlyQuery(format) {
  const m = /** @type {HTMLSelectElement} */ ($('m-municipality')).value;
  const month = /** @type {HTMLInputElement} */ ($('month')).value;
  const common = `month=${encodeURIComponent(month)}&format=${format}&lang=${lang() === 'ja' ? 'ja' : 'en'}`;
  if (m === 'shared') return `/api/reports/shared?${common}`;
  if (m === 'centre') return `/api/reports/monthly?${common}`;
  return `/api/reports/monthly?municipality=${encodeURIComponent(m)}&${common}`;
}

/**
 * Load and draw.
 * @param {string} token
 */
export async function loadMonthly(token) {
  notice(t('loading'));
  try {
    shown = await api(monthlyQuery('json'), { token });
    notice(null);
    drawMonthly();
  } catch (e) {
    notice(t('failed', { m: sayError(e) }), 'error');
    throw e;
  }
}

/** @param {number | null} x */
const percent = (x) => (x === null ? '–' : `${Math.round(x * 1000) / 10}%`);

/** Draw what was loaded (again, after a language switch). */
export function drawMonthly() {
  const r = shown;
  if (!r) return;
  $('monthly-title').textContent = t(r.municipality === null ? 'm_title_shared' : 'm_title', { month: r.month, name: r.name });
  const f = r.totals;
  /** @type {[string, string][]} */
  const cards = [
    ['t_requests', String(f.requests)],
    ['t_answered', String(f.answered)],
    ['m_sl', percent(f.service_level)],
    ['t_mean_wait', f.asa_secs === null ? '–' : t('seconds', { n: f.asa_secs })],
    ['m_abandonment', percent(f.abandonment)],
    ['m_unserved', String(f.abandoned + f.expired + f.unserved)],
    ['t_talk', t('minutes', { n: Math.round(f.minutes) })],
  ];
  $('monthly-totals').replaceChildren(...cards.map(([k, v]) => h('div', { 'data-total': k }, h('dt', {}, t(k)), h('dd', {}, v))));
  const weekdays = t('weekdays').split(',');
  const languageBars = r.by_language.map((/** @type {any} */ l) => ({ label: languageName(l.key), value: l.answered, rest: l.requests - l.answered }));
  $('chart-language').replaceChildren(rows(languageBars, t('m_by_language')));
  $('chart-hour').replaceChildren(columns(r.by_hour.map((/** @type {number} */ n, /** @type {number} */ i) => ({ label: String(i), value: n })), t('m_by_hour')));
  $('chart-weekday').replaceChildren(columns(r.by_weekday.map((/** @type {number} */ n, /** @type {number} */ i) => ({ label: weekdays[i], value: n })), t('m_by_weekday')));
  $('chart-topic').replaceChildren(rows(r.by_topic.map((/** @type {any} */ c) => ({ label: t(c.code), value: c.count })), t('m_by_topic')));
  const modes = [...r.by_mode, ...r.by_status];
  $('chart-mode').replaceChildren(rows(modes.map((/** @type {any} */ c) => ({ label: t(c.code), value: c.count })), t('m_by_mode')));
  $('member-rows').replaceChildren(
    ...r.by_member.map((/** @type {any} */ m) =>
      h('tr', {},
        h('th', { scope: 'row' }, m.key),
        h('td', { class: 'num' }, String(m.requests)),
        h('td', { class: 'num' }, String(m.answered)),
        h('td', { class: 'num' }, String(m.abandoned + m.expired + m.unserved)),
        h('td', { class: 'num' }, String(m.minutes)),
        h('td', { class: 'num' }, percent(m.service_level)),
      ),
    ),
  );
  $('interpreters-block').hidden = r.interpreters.length === 0;
  $('interpreter-rows').replaceChildren(
    ...r.interpreters.map((/** @type {any} */ a) =>
      h('tr', {},
        h('th', { scope: 'row' }, a.login ? `${a.interpreter} ${a.login}` : a.interpreter),
        h('td', {}, t(a.tier)),
        h('td', { class: 'num' }, String(a.calls)),
        h('td', { class: 'num' }, String(a.minutes)),
      ),
    ),
  );
}
