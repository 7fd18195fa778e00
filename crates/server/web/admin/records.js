// A municipality's records policy: how long it keeps call records, handling notes and
// audit entries, and whether its desks may write handling notes (ADR 0017); admins set
// it, its supervisor reads it. Admins also read the municipality's audit log here.

import { t } from '../common/i18n.js';
import { h } from '../common/ui.js';

/**
 * @param {string} id
 * @param {string} label
 * @param {number} value
 * @param {boolean} admin
 */
function days(id, label, value, admin) {
  return h('div', {},
    h('label', { for: id }, label),
    h('input', { id, type: 'number', min: '30', max: '7300', value: String(value), required: true, ...(admin ? {} : { disabled: true }) }));
}

/**
 * Fill `root` with tenant `tn`'s records policy (a form for admins) and, for admins, its
 * latest audit entries.
 * @param {HTMLElement} root
 * @param {{ id: number, name: string }} tn
 * @param {(path: string, o?: any) => Promise<any>} call
 * @param {(e: unknown) => void} failed
 * @param {boolean} admin
 */
export async function renderRecords(root, tn, call, failed, admin) {
  /** @type {any} */
  let r;
  /** @type {any[]} */
  let log = [];
  try {
    r = await call(`/api/tenants/${tn.id}/retention`);
    if (admin) log = await call(`/api/audit-log?tenant=${tn.id}&limit=100`);
  } catch (e) {
    failed(e);
    return;
  }
  const notes = h('input', { id: 'keep-notes', type: 'checkbox', ...(r.handling_notes ? { checked: true } : {}), ...(admin ? {} : { disabled: true }) });
  const form = h('form', { id: 'records-form', class: 'stack' },
    h('div', { class: 'row' },
      days('keep-records', t('keep_records'), r.records_days, admin),
      days('keep-audit', t('keep_audit'), r.audit_days, admin),
      days('keep-notes-days', t('keep_notes'), r.notes_days, admin)),
    h('label', { class: 'inline' }, notes, ' ', t('handling_notes')),
    h('p', { class: 'muted' }, t('handling_notes_help')),
    ...(admin ? [h('button', { class: 'primary', type: 'submit' }, t('save'))] : []));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = (/** @type {string} */ id) => Number(/** @type {HTMLInputElement} */ (form.querySelector(`#${id}`)).value);
    const body = {
      records_days: n('keep-records'),
      audit_days: n('keep-audit'),
      notes_days: n('keep-notes-days'),
      handling_notes: /** @type {HTMLInputElement} */ (notes).checked,
    };
    try {
      await call(`/api/tenants/${tn.id}/retention`, { method: 'PUT', body });
      await renderRecords(root, tn, call, failed, admin);
    } catch (err) {
      failed(err);
    }
  });
  const audit = admin
    ? [
      h('h3', {}, t('audit_log')),
      h('table', {},
        h('thead', {}, h('tr', {}, h('th', {}, t('audit_at')), h('th', {}, t('audit_actor')), h('th', {}, t('audit_action')), h('th', {}, t('audit_target')), h('th', {}, t('status')))),
        h('tbody', { id: 'audit-rows' },
          ...log.map((e) =>
            h('tr', {},
              h('td', {}, new Date(e.at).toLocaleString()),
              h('td', {}, e.actor),
              h('td', {}, e.action),
              h('td', {}, e.target || ''),
              h('td', {}, e.ok ? t('audit_ok') : t('audit_refused')))))),
    ]
    : [];
  root.replaceChildren(h('h2', {}, `${t('records_policy')}: ${tn.name}`), form, ...audit);
  root.hidden = false;
}
