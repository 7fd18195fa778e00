// Saving a report as a file: the session token goes in a header, so the file is fetched
// here and handed to the browser, not linked.

import { t } from '../common/i18n.js';
import { h, notice } from '../common/ui.js';

/**
 * @param {string} token
 * @param {string} url the report with `format=csv` or `format=xlsx`
 */
export async function download(token, url) {
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!r.ok) {
    notice(t('failed', { m: String(r.status) }), 'error');
    return;
  }
  const blob = await r.blob();
  const name = (r.headers.get('content-disposition') || '').match(/filename="([^"]+)"/)?.[1] || 'report';
  const a = /** @type {HTMLAnchorElement} */ (h('a', { href: URL.createObjectURL(blob), download: name }));
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
