// A roster as a calendar people can edit, not JSON: regular shifts every week ("Fridays")
// or every month ("1st and 3rd Wednesday", "the last Friday"), days off and extra hours,
// and the week they make, drawn as the form changes. The coordinator edits all of it;
// an interpreter (`own`) edits only their own days off and extra hours and sees the rest.
// Every rule the engine supports goes through the form and back unchanged (the browser
// test round-trips them). Strings: roster-strings.js.

import { fieldError, sayError } from './errors.js';
import { check, dateInput, errorSpan, timeInput } from './fields.js';
import { t } from './i18n.js';
import { h } from './ui.js';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** @typedef {{ days?: string[], weekday?: string, nth?: number[], last?: boolean, start: string, end: string }} ShiftDoc */
/** @typedef {{ from: string, until: string, own?: boolean }} OffDoc */
/** @typedef {{ date: string, start: string, end: string, own?: boolean }} ExtraDoc */
/** @typedef {{ always: boolean, time_zone: string | null, shifts: ShiftDoc[], off: OffDoc[], extra: ExtraDoc[] }} RosterDoc */
/** @typedef {{ own?: boolean }} Options */

const DAY = 86_400_000;

/** @param {string} s `YYYY-MM-DD` */
const dayMs = (s) => {
  const [y, m, d] = s.split('-').map(Number);
  return Date.UTC(y, m - 1, d);
};
/** @param {number} ms */
const isoDate = (ms) => new Date(ms).toISOString().slice(0, 10);
/** @param {number} ms */
const weekdayOf = (ms) => WEEKDAYS[(new Date(ms).getUTCDay() + 6) % 7];

/**
 * Whether a shift starts on the date, as the engine decides it.
 * @param {ShiftDoc} shift
 * @param {number} ms the date at 00:00 UTC
 */
export function shiftOn(shift, ms) {
  const weekday = weekdayOf(ms);
  if (!shift.weekday) return (shift.days || []).includes(weekday);
  if (shift.weekday !== weekday) return false;
  const d = new Date(ms);
  const day = d.getUTCDate();
  const inMonth = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  return (shift.nth || []).includes(Math.floor((day - 1) / 7) + 1) || (!!shift.last && day + 7 > inMonth);
}

/**
 * The seven days from `monday`: each date, whether regular shifts are off, and the
 * windows that start on it.
 * @param {RosterDoc} doc
 * @param {string} monday
 */
export function week(doc, monday) {
  return [0, 1, 2, 3, 4, 5, 6].map((i) => {
    const ms = dayMs(monday) + i * DAY;
    const date = isoDate(ms);
    const off = doc.off.some((o) => o.from <= date && date <= o.until);
    /** @type {{ start: string, end: string, extra: boolean }[]} */
    const windows = [];
    if (!off) for (const s of doc.shifts) if (shiftOn(s, ms)) windows.push({ start: s.start, end: s.end, extra: false });
    for (const x of doc.extra) if (x.date === date) windows.push({ start: x.start, end: x.end, extra: true });
    windows.sort((a, b) => a.start.localeCompare(b.start));
    return { date, weekday: weekdayOf(ms), off, windows };
  });
}

/**
 * Today's date in a time zone (the browser's own where the zone is unknown).
 * @param {string | null} zone
 */
export function today(zone) {
  const f = (/** @type {string | undefined} */ timeZone) =>
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  try {
    return f(zone || undefined);
  } catch {
    return f(undefined);
  }
}

/** @param {string} date */
const mondayOf = (date) => isoDate(dayMs(date) - ((new Date(dayMs(date)).getUTCDay() + 6) % 7) * DAY);

// ---- the form --------------------------------------------------------------------------

/** @param {HTMLElement} row */
const removeButton = (row) => h('button', { type: 'button', class: 'r-remove', onclick: () => changed(row, () => row.remove()) }, t('r_remove'));

/**
 * Run `f`, then redraw the week of the editor that holds `el`.
 * @param {HTMLElement} el
 * @param {() => void} f
 */
function changed(el, f) {
  const root = /** @type {HTMLElement | null} */ (el.closest('.roster-editor'));
  f();
  if (root) drawWeek(root);
}

/** @param {ShiftDoc} s */
function shiftRow(s) {
  const monthly = !!s.weekday;
  const kind = h('select', { class: 'r-kind', 'aria-label': t('r_kind') },
    h('option', { value: 'weekly', selected: !monthly }, t('r_weekly')), h('option', { value: 'monthly', selected: monthly }, t('r_monthly')));
  const days = h('span', { class: 'r-dayspec' });
  const fill = (/** @type {ShiftDoc} */ v) => {
    if (v.weekday) {
      days.replaceChildren(
        h('select', { class: 'r-weekday', 'aria-label': t('r_weekday') }, ...WEEKDAYS.map((d) => h('option', { value: d, selected: d === v.weekday }, t(`wd_${d}`)))),
        h('fieldset', { class: 'r-nth inline' }, h('legend', { text: t('r_nth') }),
          ...[1, 2, 3, 4, 5].map((n) => check('r-n', String(n), (v.nth || []).includes(n), t('r_nth_n', { n }))),
          check('r-last', 'last', !!v.last, t('r_last'))),
      );
    } else {
      days.replaceChildren(h('fieldset', { class: 'r-days inline' }, h('legend', { text: t('r_days') }),
        ...WEEKDAYS.map((d) => check('r-day', d, (v.days || []).includes(d), t(`wd_${d}`)))));
    }
  };
  fill(s);
  kind.addEventListener('change', () => changed(kind, () =>
    fill(/** @type {HTMLSelectElement} */ (kind).value === 'monthly' ? { weekday: 'wed', nth: [1, 3], start: '', end: '' } : { days: ['mon'], start: '', end: '' })));
  const row = h('div', { class: 'card row wrap r-shift' }, kind, days,
    timeInput('r-start', s.start, t('r_start')), h('span', { text: '〜' }), timeInput('r-end', s.end, t('r_end')));
  row.append(removeButton(row), errorSpan());
  return row;
}

/** @param {OffDoc} o */
function offRow(o) {
  const row = h('div', { class: 'row wrap r-off', 'data-own': o.own ? '1' : '' },
    dateInput('r-from', o.from, t('r_from')), h('span', { text: '〜' }), dateInput('r-until', o.until, t('r_until')),
    o.own ? h('span', { class: 'badge', text: t('r_own') }) : null);
  row.append(removeButton(row), errorSpan());
  return row;
}

/** @param {ExtraDoc} x */
function extraRow(x) {
  const row = h('div', { class: 'row wrap r-extra', 'data-own': x.own ? '1' : '' },
    dateInput('r-date', x.date, t('r_date')), timeInput('r-start', x.start, t('r_start')), h('span', { text: '〜' }),
    timeInput('r-end', x.end, t('r_end')), x.own ? h('span', { class: 'badge', text: t('r_own') }) : null);
  row.append(removeButton(row), errorSpan());
  return row;
}

/** @param {ShiftDoc} s */
export function shiftText(s) {
  const vars = { start: s.start, end: s.end };
  if (!s.weekday) return t('r_summary_weekly', { ...vars, days: (s.days || []).map((d) => t(`wd_${d}`)).join('・') });
  const nth = [...(s.nth || []).map((n) => t('r_nth_n', { n })), ...(s.last ? [t('r_last')] : [])].join('・');
  return t('r_summary_monthly', { ...vars, nth, day: t(`wd_${s.weekday}`) });
}

/**
 * Fill `root` with the roster's calendar.
 * @param {HTMLElement} root
 * @param {RosterDoc} doc
 * @param {Options} [o] `own`: the interpreter's own days off and extra hours only
 */
export function renderRoster(root, doc, o = {}) {
  const own = !!o.own;
  root.classList.add('roster-editor');
  root.dataset.own = own ? '1' : '';
  root.dataset.zone = doc.time_zone || 'Asia/Tokyo';
  root.dataset.week = mondayOf(today(doc.time_zone));
  // An interpreter sees the coordinator's entries and changes only their own.
  const theirs = (/** @type {{ own?: boolean }} */ e) => !own || e.own;
  const coordinators = { shifts: own ? doc.shifts : [], off: own ? doc.off.filter((x) => !x.own) : [], extra: own ? doc.extra.filter((x) => !x.own) : [] };
  root.dataset.fixed = JSON.stringify(coordinators);
  const offs = h('div', { class: 'stack r-offs' }, ...doc.off.filter(theirs).map(offRow));
  const extras = h('div', { class: 'stack r-extras' }, ...doc.extra.filter(theirs).map(extraRow));
  const add = (/** @type {HTMLElement} */ list, /** @type {() => HTMLElement} */ row, /** @type {string} */ label, /** @type {string} */ cls) =>
    h('button', { type: 'button', class: cls, onclick: () => changed(list, () => list.append(row())) }, label);
  const day = today(doc.time_zone);
  const fixedList = (/** @type {string[]} */ items) => (items.length ? h('ul', { class: 'r-fixed' }, ...items.map((s) => h('li', { text: s }))) : null);
  const body = h('div', { class: 'stack r-body' });
  if (own) {
    body.append(h('h3', { text: t('r_shifts') }), h('p', { class: 'muted', text: t('r_shifts_by_coordinator') }),
      fixedList(doc.shifts.map(shiftText)) || h('p', { text: t('r_none') }));
  } else {
    const shifts = h('div', { class: 'stack r-shifts' }, ...doc.shifts.map(shiftRow));
    body.append(
      h('div', { class: 'field' }, h('label', { text: t('r_time_zone') },
        h('input', { class: 'r-zone', value: doc.time_zone || 'Asia/Tokyo', autocomplete: 'off', spellcheck: 'false' }))),
      h('h3', { text: t('r_shifts') }), shifts,
      h('div', { class: 'row wrap' },
        add(shifts, () => shiftRow({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }), t('r_add_weekly'), 'r-add-weekly'),
        add(shifts, () => shiftRow({ weekday: 'wed', nth: [1, 3], start: '09:00', end: '17:00' }), t('r_add_monthly'), 'r-add-monthly')),
    );
  }
  for (const el of [
    h('h3', { text: t('r_off') }),
    fixedList(coordinators.off.map((x) => (x.from === x.until ? x.from : `${x.from}〜${x.until}`))),
    offs, add(offs, () => offRow({ from: day, until: day, own }), t('r_add_off'), 'r-add-off'),
    h('h3', { text: t('r_extra') }),
    fixedList(coordinators.extra.map((x) => `${x.date} ${x.start}〜${x.end}`)),
    extras, add(extras, () => extraRow({ date: day, start: '18:00', end: '20:00', own }), t('r_add_extra'), 'r-add-extra'),
  ]) if (el) body.append(el);
  root.replaceChildren(
    ...(own ? [] : [check('r-always', 'always', doc.always, t('r_always')), h('p', { class: 'notice warn r-always-note', role: 'status', hidden: true })]),
    body,
    h('span', { class: 'field-error r-error-general', role: 'alert' }),
    h('h3', { text: t('r_week') }),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'r-prev', onclick: () => moveWeek(root, -7) }, t('r_prev_week')),
      h('strong', { class: 'r-week-label', 'aria-live': 'polite' }),
      h('button', { type: 'button', class: 'r-next', onclick: () => moveWeek(root, 7) }, t('r_next_week')),
      h('label', { class: 'inline' }, `${t('r_goto')} `, h('input', { type: 'date', class: 'r-goto', onchange: (/** @type {Event} */ e) => {
        const date = /** @type {HTMLInputElement} */ (e.target).value;
        if (date) root.dataset.week = mondayOf(date);
      } }))),
    h('div', { class: 'r-week-wrap' }),
  );
  if (!root.dataset.listening) {
    root.dataset.listening = '1';
    root.addEventListener('input', () => drawWeek(root));
    root.addEventListener('change', () => drawWeek(root));
  }
  drawWeek(root);
}

/** @param {HTMLElement} root @param {number} days */
function moveWeek(root, days) {
  root.dataset.week = isoDate(dayMs(root.dataset.week || today(null)) + days * DAY);
  drawWeek(root);
}

/** @param {Element} row @param {string} cls */
const valueOf = (row, cls) => /** @type {HTMLInputElement} */ (row.querySelector(`.${cls}`)).value;
/** @param {Element} row @param {string} cls */
const checked = (row, cls) => [...row.querySelectorAll(`.${cls}:checked`)].map((x) => /** @type {HTMLInputElement} */ (x).value);

/**
 * The roster the form says; an interpreter's form says only their own entries.
 * @param {HTMLElement} root
 * @returns {RosterDoc}
 */
export function readRoster(root) {
  const own = root.dataset.own === '1';
  const mark = (/** @type {Element} */ row) => (row.getAttribute('data-own') === '1' ? { own: true } : {});
  const off = [...root.querySelectorAll('.r-off')].map((r) => ({ from: valueOf(r, 'r-from'), until: valueOf(r, 'r-until'), ...mark(r) }));
  const extra = [...root.querySelectorAll('.r-extra')].map((r) => ({ date: valueOf(r, 'r-date'), start: valueOf(r, 'r-start'), end: valueOf(r, 'r-end'), ...mark(r) }));
  if (own) return { always: false, time_zone: root.dataset.zone || null, shifts: [], off, extra };
  const always = /** @type {HTMLInputElement} */ (root.querySelector('.r-always')).checked;
  if (always) return { always: true, time_zone: null, shifts: [], off: [], extra: [] };
  const shifts = [...root.querySelectorAll('.r-shift')].map((r) => {
    const times = { start: valueOf(r, 'r-start'), end: valueOf(r, 'r-end') };
    if (/** @type {HTMLSelectElement} */ (r.querySelector('.r-kind')).value === 'weekly') return { days: checked(r, 'r-day'), ...times };
    /** @type {ShiftDoc} */
    const s = { weekday: valueOf(r, 'r-weekday'), nth: checked(r, 'r-n').map(Number), ...times };
    if (checked(r, 'r-last').length) s.last = true;
    if (!s.nth?.length) delete s.nth;
    return s;
  });
  return { always: false, time_zone: valueOf(root, 'r-zone').trim() || null, shifts, off, extra };
}

/** @param {HTMLElement} root */
function drawWeek(root) {
  const own = root.dataset.own === '1';
  const doc = readRoster(root);
  const wrap = root.querySelector('.r-week-wrap');
  const label = root.querySelector('.r-week-label');
  if (!wrap || !label) return;
  const always = !own && doc.always;
  const body = root.querySelector('.r-body');
  if (body instanceof HTMLElement) body.hidden = always;
  // Always on has no days at all: the interpreter's own days off and extra hours go too.
  const note = root.querySelector('.r-always-note');
  if (note instanceof HTMLElement) {
    const theirs = root.querySelectorAll('.r-off[data-own="1"], .r-extra[data-own="1"]').length;
    note.hidden = !(always && theirs);
    note.textContent = note.hidden ? '' : t('r_always_drops_own', { n: theirs });
  }
  if (own) {
    const fixed = JSON.parse(root.dataset.fixed || '{}');
    doc.shifts = fixed.shifts || [];
    doc.off = [...(fixed.off || []), ...doc.off];
    doc.extra = [...(fixed.extra || []), ...doc.extra];
  }
  const days = week(doc, root.dataset.week || mondayOf(today(null)));
  const now = today(doc.time_zone || root.dataset.zone || null);
  label.textContent = `${days[0].date} 〜 ${days[6].date}`;
  const cell = (/** @type {ReturnType<typeof week>[number]} */ d) =>
    h('td', { 'data-date': d.date, 'aria-current': d.date === now ? 'date' : undefined },
      ...(always ? [h('div', { class: 'r-win', text: t('r_always') })] : []),
      ...(d.off ? [h('div', { class: 'r-dayoff', text: t('r_day_off') })] : []),
      ...d.windows.map((w) => h('div', { class: w.extra ? 'r-win extra' : 'r-win' },
        `${w.start}〜${w.end}${w.end <= w.start ? ` (${t('r_overnight')})` : ''}`)),
      ...(!always && !d.off && !d.windows.length ? [h('div', { class: 'muted', text: t('r_no_shift') })] : []));
  wrap.replaceChildren(h('table', { class: 'r-week' },
    h('thead', {}, h('tr', {}, ...days.map((d) => h('th', { scope: 'col' }, `${d.date.slice(5).replace('-', '/')} (${t(`wd_${d.weekday}`)})`)))),
    h('tbody', {}, h('tr', {}, ...days.map(cell)))));
}

/**
 * The rules across fields the inputs cannot check: each problem beside its row, in the
 * page's language. Whether the form may be sent.
 * @param {HTMLElement} root
 */
export function checkRoster(root) {
  let ok = true;
  const say = (/** @type {Element} */ row, /** @type {string} */ problem) => {
    const e = row.querySelector('.r-error');
    if (e) e.textContent = problem;
    if (problem) ok = false;
  };
  const general = root.querySelector('.r-error-general');
  if (general) general.textContent = '';
  const always = /** @type {HTMLInputElement | null} */ (root.querySelector('.r-always'))?.checked;
  if (always) return true;
  for (const r of root.querySelectorAll('.r-shift')) {
    const weekly = /** @type {HTMLSelectElement} */ (r.querySelector('.r-kind')).value === 'weekly';
    const problem = weekly && !checked(r, 'r-day').length ? t('r_no_days')
      : !weekly && !checked(r, 'r-n').length && !checked(r, 'r-last').length ? t('r_no_nth')
        : valueOf(r, 'r-start') === valueOf(r, 'r-end') ? t('r_same_time') : '';
    say(r, problem);
  }
  for (const r of root.querySelectorAll('.r-off')) say(r, valueOf(r, 'r-until') < valueOf(r, 'r-from') ? t('r_backwards') : '');
  for (const r of root.querySelectorAll('.r-extra')) say(r, valueOf(r, 'r-start') === valueOf(r, 'r-end') ? t('r_same_time') : '');
  return ok;
}

/**
 * Show a refusal that names a row (`roster.shifts[1].start`, `off[0].from`) beside it, in
 * the page's language; anything else at the top.
 * @param {HTMLElement} root
 * @param {unknown} err the error from `api()`
 */
export function showRosterError(root, err) {
  for (const e of root.querySelectorAll('.r-error, .r-error-general')) e.textContent = '';
  const said = fieldError(err);
  const m = said && /^(?:roster\.)?(shifts|off|extra)\[(\d+)\]/.exec(said.field);
  const row = m && root.querySelectorAll(`.r-${{ shifts: 'shift', off: 'off', extra: 'extra' }[m[1]]}`)[Number(m[2])];
  const target = row?.querySelector('.r-error') || root.querySelector('.r-error-general');
  if (target) target.textContent = said && row ? said.text : sayError(err);
  const input = row?.querySelector('input, select');
  if (input instanceof HTMLElement) input.focus();
}
