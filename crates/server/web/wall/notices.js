// A coordinator's notice to interpreters from the wallboard (POST /api/notices): to the
// interpreters of their municipality (an admin's: every interpreter), pushed to the
// consoles connected now and listed on every console for 30 days.

import { sayError } from '../common/errors.js';
import { t } from '../common/i18n.js';
import { $, api, notice } from '../common/ui.js';

/** @param {() => string | null} token */
export function bindNotices(token) {
  $('notice-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('notice-text', HTMLTextAreaElement).value.trim();
    if (!text) return;
    try {
      await api('/api/notices', { method: 'POST', token: token(), body: { text } });
      $('notice-text', HTMLTextAreaElement).value = '';
      notice(t('notice_sent'));
    } catch (err) {
      const e2 = /** @type {any} */ (err);
      notice(sayError(e2), 'error');
    }
  });
}
