// The daily report (日報): a municipality's consultations of one local day and their
// totals, printed on A4 landscape, downloaded as CSV or Excel; a supervisor corrects a
// handling status in place.

import { sayError } from '../common/errors.js';
import { languageName, lang, t } from '../common/i18n.js';
import { $, api, h, notice } from '../common/ui.js';

const STATUSES = ['resolved', 'referred', 'follow_up', 'interrupted'];

/** @type {any} */
let shown = null;

/**
 * Yesterday in the browser's calendar, `YYYY-MM-DD` (the municipality's day, for a
 * centre in Japan).
 */
export function yesterday() {
  const d = new Date(Date.now() - 86400000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** @param {number} secs */
function duration(secs) {
  return secs >= 60 ? `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}` : t('seconds', { n: secs });
}

/**
 * The report's query string.
 * @param {string} format
 */
export function dailyQuery(format) {
  const m = /** @type {HTMLSelectElement} */ ($('municipality')).value;
  const d = /** @type {HTMLInputElement} */ ($('date')).value;
  const notes = /** @type {HTMLInputElement} */ ($('with-notes')).checked && !$('with-notes-row').hidden ? '&notes=true' : '';
  return `/api/reports/daily?municipality=${encodeURIComponent(m)}&date=${encodeURIComponent(d)}&format=${format}&lang=${lang() === 'ja' ? 'ja' : 'en'}${notes}`;
}

/**
 * Load and draw the report.
 * @param {string} token
 */
export async function loadDaily(token) {
  notice(t('loading'));
  try {
    shown = await api(dailyQuery('json'), { token });
    notice(null);
    drawDaily(token);
    const m = /** @type {HTMLSelectElement} */ ($('municipality')).value;
    history.replaceState(null, '', `?municipality=${m}&date=${shown.date}`);
  } catch (e) {
    notice(t('failed', { m: sayError(e) }), 'error');
    throw e;
  }
}

/**
 * Draw the report last loaded (again, after a language switch).
 * @param {string} token
 */
export function drawDaily(token) {
  const r = shown;
  if (!r) return;
  $('daily-title').textContent = t('title', { date: r.date, name: r.municipality_name });
  const tt = r.totals;
  /** @type {[string, string][]} */
  const totals = [
    ['t_requests', String(tt.requests)],
    ['t_answered', String(tt.answered)],
    ['t_unanswered', String(tt.abandoned + tt.expired + tt.unserved)],
    ['t_resolved', String(tt.resolved)],
    ['t_referred', String(tt.referred)],
    ['t_follow_up', String(tt.follow_up)],
    ['t_interrupted', String(tt.interrupted)],
    ['t_not_recorded', String(tt.not_recorded)],
    ['t_talk', t('minutes', { n: Math.round(tt.talk_secs / 60) })],
    ['t_mean_wait', tt.mean_wait_secs === null ? '–' : t('seconds', { n: tt.mean_wait_secs })],
    ['t_longest_wait', duration(tt.longest_wait_secs)],
  ];
  $('daily-totals').replaceChildren(
    ...totals.map(([k, v]) => h('div', { 'data-total': k }, h('dt', {}, t(k)), h('dd', {}, v))),
  );
  $('daily-empty').hidden = r.rows.length > 0;
  $('daily-table').hidden = r.rows.length === 0;
  const notes = r.notes_included || r.rows.some((/** @type {any} */ row) => row.has_note);
  $('c-note-head').hidden = !notes;
  $('daily-rows').replaceChildren(...r.rows.map((/** @type {any} */ row) => line(row, token, notes)));
}

/**
 * One consultation's row.
 * @param {any} row
 * @param {string} token
 * @param {boolean} notes whether the report has a notes column
 */
function line(row, token, notes) {
  const status = row.status
    ? statusCell(row, token)
    : h('td', {}, '–');
  const quality = row.loss_pct === null ? '–' : `${row.loss_pct}% / ${row.rtt_ms ?? '–'} ms`;
  return h(
    'tr',
    { 'data-record': String(row.record), class: row.request === 'answered' ? '' : 'unanswered' },
    h('td', {}, row.time),
    h('td', {}, row.desk),
    h('td', {}, row.residence),
    h('td', {}, languageName(row.language)),
    h('td', {}, t(row.mode)),
    h('td', {}, row.topics.map((/** @type {string} */ c) => t(c)).join(lang() === 'ja' ? '・' : ', ')),
    h('td', {}, t(row.request)),
    status,
    h('td', {}, row.referral || ''),
    h('td', { class: 'num' }, duration(row.wait_secs)),
    h('td', { class: 'num' }, row.talk_secs === null ? '–' : duration(row.talk_secs)),
    h('td', {}, row.interpreter ? `${row.interpreter} (${t(row.tier)})` : '–'),
    h('td', { class: 'num' }, quality),
    ...(notes ? [noteCell(row, token)] : []),
  );
}

/**
 * A consultation's handling note: its text when the report carries notes, else a button
 * that reads it (each read recorded).
 * @param {any} row
 * @param {string} token
 */
function noteCell(row, token) {
  if (row.note) return h('td', { class: 'note' }, row.note);
  if (!row.has_note) return h('td', {}, '');
  const cell = h('td', { class: 'note' });
  const button = h('button', { type: 'button', class: 'no-print', 'aria-label': `${t('show_note')} ${row.time}` }, t('show_note'));
  button.addEventListener('click', async () => {
    try {
      const n = await api(`/api/call-records/${row.record}/note`, { token });
      row.note = n.note;
      cell.replaceChildren(n.note);
    } catch (e) {
      notice(sayError(e), 'error');
    }
  });
  cell.append(button);
  return cell;
}

/**
 * The handling status: a choice on screen, its text on paper.
 * @param {any} row
 * @param {string} token
 */
function statusCell(row, token) {
  const text = h('span', { class: 'print-only' }, t(row.status));
  const select = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { 'aria-label': `${t('c_status')} ${row.time}`, 'data-status': row.status },
      ...(row.status === 'not_recorded' ? [h('option', { value: 'not_recorded', disabled: true }, t('not_recorded'))] : []),
      ...STATUSES.map((s) => h('option', { value: s }, t(s))),
    )
  );
  select.value = row.status;
  select.addEventListener('change', async () => {
    try {
      await api(`/api/call-records/${row.record}/status`, { method: 'PUT', token, body: { status: select.value } });
      row.status = select.value;
      select.setAttribute('data-status', row.status);
      text.textContent = t(row.status);
      notice(t('status_saved'));
    } catch (e) {
      select.value = row.status;
      notice(sayError(e), 'error');
    }
  });
  return h('td', {}, select, text);
}
