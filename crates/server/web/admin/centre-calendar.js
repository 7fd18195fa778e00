// A municipality's centre calendar on the admin page (GET/PUT /api/tenants/{id}/calendar):
// regular hours on chosen weekdays, closed on Japan's public holidays and over the year's
// end, dated closures, extra openings such as an evening session, and the next two weeks
// as they come out. Its supervisor or an admin edits it. Residents read the hours on the
// standing link; outside them the phone lines and the online desk are closed, and the
// desks' "nobody now" answers keep to them. A refusal is shown beside the row it names.

import { fieldError, sayError } from '../common/errors.js';
import { check, dateInput, errorSpan, timeInput } from '../common/fields.js';
import { t } from '../common/i18n.js';
import { WEEKDAYS } from '../common/roster.js';
import { h, notice } from '../common/ui.js';

/** @typedef {{ days: string[], open: string, close: string }} HoursDoc */
/** @typedef {{ from: string, until: string, reason: string }} ClosureDoc */
/** @typedef {{ date: string, open: string, close: string, note: string }} ExtraDoc */
/** @typedef {{ time_zone: string, hours: HoursDoc[], closed_on_holidays: boolean, closed_year_end: boolean, closures: ClosureDoc[], extra: ExtraDoc[] }} CalendarDoc */

/** @param {HTMLElement} row */
const removeButton = (row) => h('button', { type: 'button', class: 'c-remove', onclick: () => row.remove() }, t('r_remove'));

/** @param {HTMLElement} row @param {...(Node | string)} parts */
function fill(row, ...parts) {
  row.append(...parts, removeButton(row), errorSpan('c-error'));
  return row;
}

/** @param {HoursDoc} x */
const hoursRow = (x) =>
  fill(h('div', { class: 'row c-hours' }),
    h('span', { class: 'row', role: 'group', 'aria-label': t('r_days') }, ...WEEKDAYS.map((d) => check('c-day', d, x.days.includes(d), t(`wd_${d}`)))),
    timeInput('c-open', x.open, t('c_open')), '–', timeInput('c-close', x.close, t('c_close')));

/** @param {ClosureDoc} x */
const closureRow = (x) =>
  fill(h('div', { class: 'row c-closure' }),
    dateInput('c-from', x.from, t('r_from')), '–', dateInput('c-until', x.until, t('r_until')),
    h('input', { class: 'c-reason', value: x.reason, maxlength: '100', placeholder: t('c_reason'), 'aria-label': t('c_reason') }));

/** @param {ExtraDoc} x */
const extraRow = (x) =>
  fill(h('div', { class: 'row c-extra' }),
    dateInput('c-date', x.date, t('r_date')),
    timeInput('c-open', x.open, t('c_open')), '–', timeInput('c-close', x.close, t('c_close')),
    h('input', { class: 'c-note', value: x.note, maxlength: '100', placeholder: t('c_note'), 'aria-label': t('c_note') }));

/** @param {ParentNode} el @param {string} sel */
const value = (el, sel) => /** @type {HTMLInputElement} */ (el.querySelector(sel)).value.trim();

/**
 * The document the form holds.
 * @param {HTMLElement} form
 * @returns {CalendarDoc}
 */
export function readCalendar(form) {
  const rows = (/** @type {string} */ sel) => /** @type {HTMLElement[]} */ ([...form.querySelectorAll(sel)]);
  const ticked = (/** @type {string} */ sel) => /** @type {HTMLInputElement} */ (form.querySelector(sel)).checked;
  return {
    time_zone: value(form, '.c-tz') || 'Asia/Tokyo',
    hours: rows('.c-hours').map((r) => ({
      days: [...r.querySelectorAll('.c-day')].filter((i) => /** @type {HTMLInputElement} */ (i).checked).map((i) => /** @type {HTMLInputElement} */ (i).value),
      open: value(r, '.c-open'),
      close: value(r, '.c-close'),
    })),
    closed_on_holidays: ticked('.c-holidays'),
    closed_year_end: ticked('.c-year-end'),
    closures: rows('.c-closure').map((r) => ({ from: value(r, '.c-from'), until: value(r, '.c-until'), reason: value(r, '.c-reason') })),
    extra: rows('.c-extra').map((r) => ({ date: value(r, '.c-date'), open: value(r, '.c-open'), close: value(r, '.c-close'), note: value(r, '.c-note') })),
  };
}

/**
 * Check each row before sending: a problem is shown beside its row. True when none.
 * @param {HTMLElement} form
 */
function checkRows(form) {
  let ok = true;
  for (const row of form.querySelectorAll('.c-hours, .c-closure, .c-extra')) {
    const days = row.classList.contains('c-hours') && ![...row.querySelectorAll('.c-day')].some((i) => /** @type {HTMLInputElement} */ (i).checked);
    const open = row.querySelector('.c-open') ? value(row, '.c-open') : '';
    const times = open !== '' && open >= value(row, '.c-close');
    const dates = row.classList.contains('c-closure') && value(row, '.c-until') < value(row, '.c-from');
    const problem = days ? t('r_no_days') : times ? t('c_backwards') : dates ? t('r_backwards') : '';
    /** @type {HTMLElement} */ (row.querySelector('.c-error')).textContent = problem;
    ok &&= !problem;
  }
  return ok;
}

/**
 * The server's refusal beside the row it names (`hours[1].open`), in the page's language,
 * else at the top.
 * @param {HTMLElement} form
 * @param {unknown} err the error from `api()`
 */
function showError(form, err) {
  for (const e of form.querySelectorAll('.c-error, .c-error-general')) e.textContent = '';
  const said = fieldError(err);
  const m = said && /^(hours|closures|extra)\[(\d+)\]/.exec(said.field);
  const row = m && form.querySelectorAll(`.c-${{ hours: 'hours', closures: 'closure', extra: 'extra' }[m[1]]}`)[Number(m[2])];
  const target = row?.querySelector('.c-error') || form.querySelector('.c-error-general');
  if (target) target.textContent = said && row ? said.text : sayError(err);
}

/** @param {{ date: string, open: [string, string][], note: string | null }} d */
function planRow(d) {
  const day = new Date(`${d.date}T12:00:00`).toLocaleDateString([document.documentElement.lang], { month: 'numeric', day: 'numeric', weekday: 'short' });
  const hours = d.open.length ? d.open.map(([a, b]) => `${a}–${b}`).join(', ') : t('c_closed');
  return h('tr', { 'data-date': d.date, class: d.open.length ? '' : 'muted' }, h('td', {}, day), h('td', {}, hours), h('td', {}, d.note || ''));
}

/**
 * Fill `root` with tenant `tn`'s centre calendar, as a form, and its next two weeks.
 * @param {HTMLElement} root
 * @param {{ id: number, name: string }} tn
 * @param {(path: string, o?: any) => Promise<any>} call
 * @param {(e: unknown) => void} failed
 */
export async function renderCalendar(root, tn, call, failed) {
  /** @type {any} */
  let r;
  try {
    r = await call(`/api/tenants/${tn.id}/calendar`);
  } catch (e) {
    failed(e);
    return;
  }
  /** @type {CalendarDoc} */
  const doc = r.calendar;
  const hours = h('div', { class: 'stack' }, ...doc.hours.map(hoursRow));
  const closures = h('div', { class: 'stack' }, ...doc.closures.map(closureRow));
  const extra = h('div', { class: 'stack' }, ...doc.extra.map(extraRow));
  const add = (/** @type {HTMLElement} */ list, /** @type {() => HTMLElement} */ row, /** @type {string} */ label, /** @type {string} */ cls) =>
    h('button', { type: 'button', class: cls, onclick: () => list.append(row()) }, label);
  const today = new Date().toLocaleDateString('sv');
  const form = h('form', { id: 'calendar-form', class: 'stack' },
    h('p', { class: 'muted' }, r.set ? t('c_help') : t('c_unset')),
    h('span', { class: 'field-error c-error-general', role: 'alert' }),
    h('h3', {}, t('c_hours')), hours,
    add(hours, () => hoursRow({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], open: '08:30', close: '17:15' }), t('c_add_hours'), 'c-add-hours'),
    h('div', { class: 'row' }, check('c-holidays', 'on', doc.closed_on_holidays, t('c_holidays')), check('c-year-end', 'on', doc.closed_year_end, t('c_year_end'))),
    h('h3', {}, t('c_closures')), closures,
    add(closures, () => closureRow({ from: today, until: today, reason: '' }), t('c_add_closure'), 'c-add-closure'),
    h('h3', {}, t('c_extra')), extra,
    add(extra, () => extraRow({ date: today, open: '17:30', close: '20:00', note: '' }), t('c_add_extra'), 'c-add-extra'),
    h('div', {}, h('label', { for: 'c-tz' }, t('r_time_zone')), h('input', { id: 'c-tz', class: 'c-tz', value: doc.time_zone })),
    h('div', { class: 'row' }, h('button', { class: 'primary', type: 'submit' }, t('save')), h('button', { type: 'button', class: 'c-close-panel', onclick: () => { root.hidden = true; } }, t('cancel'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!checkRows(form)) {
      notice(t('pf_fix'), 'error');
      return;
    }
    try {
      await call(`/api/tenants/${tn.id}/calendar`, { method: 'PUT', body: readCalendar(form) });
      notice(t('saved'));
      await renderCalendar(root, tn, call, failed);
    } catch (err) {
      showError(form, err);
      failed(err);
    }
  });
  // The next opening in the centre's own time zone (the coordinator may be elsewhere).
  const at = (/** @type {number} */ ms) => {
    const style = /** @type {const} */ ({ dateStyle: 'medium', timeStyle: 'short' });
    try {
      return new Date(ms).toLocaleString([document.documentElement.lang], { ...style, timeZone: doc.time_zone });
    } catch {
      return new Date(ms).toLocaleString([document.documentElement.lang], style);
    }
  };
  const now = r.open_now ? t('c_open_now') : r.next_open ? t('c_next_open', { at: at(r.next_open) }) : '';
  const plans = h('table', { id: 'calendar-days' },
    h('thead', {}, h('tr', {}, h('th', {}, t('r_date')), h('th', {}, t('c_hours')), h('th', {}, t('c_note')))),
    h('tbody', {}, ...r.days.map(planRow)));
  root.replaceChildren(h('h2', { tabindex: '-1' }, `${t('c_title')}: ${tn.name}`), form, h('h3', {}, t('c_two_weeks')), h('p', { class: 'c-now' }, now), plans);
  root.hidden = false;
}
