// Moving a booking that has not begun (PUT /api/bookings/{id}): a new day, time and
// length, the same interpreter if they can be held then, else anyone eligible; the
// server's refusal (a clash, outside the centre's hours) is shown as it is.

import { sayError } from '../common/errors.js';
import { t } from '../common/i18n.js';
import { api, h, notice } from '../common/ui.js';

const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');

/**
 * The move control of booking `b`: a button that opens the fields in its row's cell.
 * @param {any} b a listed booking
 * @param {string | null} token
 * @param {() => Promise<void>} reload
 */
export function moveControl(b, token, reload) {
  const start = new Date(b.start);
  const date = h('input', { type: 'date', class: 'move-date', 'aria-label': t('date'), value: `${start.getFullYear()}-${pad(start.getMonth() + 1)}-${pad(start.getDate())}` });
  const time = h('input', { type: 'time', class: 'move-time', 'aria-label': t('time'), value: `${pad(start.getHours())}:${pad(start.getMinutes())}` });
  const minutes = h('input', { type: 'number', class: 'move-minutes', min: '10', max: '240', step: '5', 'aria-label': t('minutes'), value: String(Math.round((b.end - b.start) / 60000)) });
  const save = h('button', { type: 'button', class: 'primary', 'data-action': 'move-save' }, t('move_save'));
  const fields = h('span', { class: 'move-fields', hidden: true }, date, ' ', time, ' ', minutes, ' ', save);
  const open = h('button', { type: 'button', 'data-action': 'move' }, t('move'));
  open.addEventListener('click', () => {
    fields.hidden = !fields.hidden;
    if (!fields.hidden) date.focus();
  });
  save.addEventListener('click', async () => {
    if (!token) return;
    const at = new Date(`${/** @type {HTMLInputElement} */ (date).value}T${/** @type {HTMLInputElement} */ (time).value}`);
    const body = { start: at.toISOString(), minutes: Number(/** @type {HTMLInputElement} */ (minutes).value), interpreter: b.requested_interpreter ?? undefined };
    try {
      await api(`/api/bookings/${b.id}`, { method: 'PUT', token, body });
      notice(t('moved'));
      await reload();
    } catch (err) {
      notice(t('refused', { m: sayError(err) }), 'error');
    }
  });
  return h('span', {}, open, ' ', fields);
}
