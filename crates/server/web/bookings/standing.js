// Each municipality's standing link on the coordinator's bookings page: the address and
// its QR code for posters, the city's web page and Messenger, and the desk that takes the
// consultations residents book from it (PUT /api/tenants/{id}/online-desk).

import { sayError } from '../common/errors.js';
import { t } from '../common/i18n.js';
import { $, api, h, notice } from '../common/ui.js';

/**
 * @param {string | null} token
 * @param {{ id: number, tenant: number, name: string, revoked?: boolean }[]} desks
 */
export async function renderStanding(token, desks) {
  if (!token) return;
  /** @type {any[]} */
  let tenants = [];
  try {
    tenants = await api('/api/tenants', { token });
  } catch {
    return;
  }
  $('standing-list').replaceChildren(...tenants.map((tn) => {
    const url = `${location.origin}/start/${tn.id}`;
    const select = /** @type {HTMLSelectElement} */ (h('select', { id: `online-desk-${tn.id}`, class: 'online-desk' },
      h('option', { value: '' }, t('no_online_desk')),
      ...desks.filter((d) => d.tenant === tn.id && !d.revoked).map((d) => h('option', { value: String(d.id), selected: d.id === tn.online_desk }, d.name))));
    const save = h('button', { type: 'button', class: 'save-online-desk' }, t('save_online_desk'));
    save.addEventListener('click', async () => {
      try {
        await api(`/api/tenants/${tn.id}/online-desk`, { method: 'PUT', token, body: { desk: select.value ? Number(select.value) : null } });
        notice(t('online_desk_saved'));
      } catch (err) {
        notice(t('refused', { m: sayError(err) }), 'error');
      }
    });
    const qr = `/api/centres/${tn.id}/qr.svg`;
    return h('div', { class: 'row wrap standing', 'data-tenant': String(tn.id) },
      h('img', { src: qr, alt: `QR: ${url}`, width: '160', height: '160' }),
      h('div', { class: 'stack' },
        h('strong', { text: tn.name }),
        h('a', { href: url, class: 'standing-link', target: '_blank', rel: 'noopener' }, url),
        h('a', { href: qr, download: `kakehashi-${tn.id}.svg` }, t('qr_download')),
        h('label', { for: select.id, text: t('online_desk') }), h('div', { class: 'row' }, select, save)));
  }));
}
