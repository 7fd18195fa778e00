// A municipality's partner directory, as its supervisor (or an admin) keeps it: where its
// desks refer residents. Partners are added, retired and brought back; never deleted,
// since records name them.

import { t } from '../common/i18n.js';
import { h } from '../common/ui.js';

/** What kind of organisation a partner is, as the API writes it. */
export const KINDS = [
  'immigration', 'legal_aid', 'employment', 'labour_standards', 'social_welfare', 'npo',
  'international_association', 'japanese_class', 'municipal_department', 'other',
];

/**
 * Fill `root` with tenant `tn`'s partners and a form to add one.
 * @param {HTMLElement} root
 * @param {{ id: number, name: string }} tn
 * @param {(path: string, o?: any) => Promise<any>} call
 * @param {(e: unknown) => void} failed
 */
export async function renderPartners(root, tn, call, failed) {
  /** @type {any[]} */
  let partners;
  try {
    partners = await call(`/api/tenants/${tn.id}/partners`);
  } catch (e) {
    failed(e);
    return;
  }
  const again = () => renderPartners(root, tn, call, failed);
  /** @param {any} p @param {boolean} retired */
  const setRetired = async (p, retired) => {
    try {
      await call(`/api/partners/${p.id}`, { method: 'PUT', body: { name: p.name, kind: p.kind, retired } });
      await again();
    } catch (e) {
      failed(e);
    }
  };
  const rows = partners.map((p) =>
    h('tr', { 'data-partner': String(p.id) },
      h('td', {}, p.name),
      h('td', {}, t(`kind_${p.kind}`)),
      h('td', {}, p.retired ? t('partner_retired') : t('partner_active')),
      h('td', {}, h('button', {
        type: 'button',
        'aria-label': `${p.retired ? t('partner_restore') : t('partner_retire')}: ${p.name}`,
        onclick: () => void setRetired(p, !p.retired),
      }, p.retired ? t('partner_restore') : t('partner_retire')))),
  );
  const name = h('input', { id: 'partner-name', required: true, maxlength: '200' });
  const kind = h('select', { id: 'partner-kind' }, ...KINDS.map((k) => h('option', { value: k }, t(`kind_${k}`))));
  const form = h('form', { id: 'partner-form', class: 'row' },
    h('div', {}, h('label', { for: 'partner-name' }, t('name')), name),
    h('div', {}, h('label', { for: 'partner-kind' }, t('partner_kind')), kind),
    h('button', { class: 'primary', type: 'submit' }, t('add')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const body = { name: /** @type {HTMLInputElement} */ (name).value, kind: /** @type {HTMLSelectElement} */ (kind).value };
      await call(`/api/tenants/${tn.id}/partners`, { method: 'POST', body });
      await again();
    } catch (err) {
      failed(err);
    }
  });
  root.replaceChildren(
    h('h2', {}, `${t('partners')}: ${tn.name}`),
    h('p', { class: 'muted' }, t('partners_help')),
    h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, t('name')), h('th', {}, t('partner_kind')), h('th', {}, t('status')), h('th', {}))),
      h('tbody', { id: 'partner-rows' }, ...rows)),
    form,
  );
  root.hidden = false;
}
