// The coordinator's hand on the wallboard: each waiting request with the interpreters
// who speak its language, and a button that rings the one chosen now. The server says
// why not (busy, away, excluded by the desk...) when it cannot.

import { sayError } from '../common/errors.js';
import { t } from '../common/i18n.js';
import { $, api, clock, h, notice } from '../common/ui.js';

/** @type {{ id: number, login: string, languages: string[] }[]} */
let interpreters = [];
/** The coordinator's choice per request, kept across snapshots. */
const chosen = new Map();

/** The directory's interpreters, for the choices. @param {string} token */
export async function loadInterpreters(token) {
  interpreters = await api('/api/interpreters', { token }).catch(() => []);
}

/**
 * The waiting requests of a snapshot. Not redrawn while the coordinator is choosing.
 * @param {any} s a snapshot
 * @param {string | null} token
 * @param {(tag: string) => string} languageName
 */
export function renderWaiting(s, token, languageName) {
  const list = /** @type {any[]} */ (s.waiting || []);
  $('waiting-none').hidden = list.length > 0;
  $('waiting-table').hidden = list.length === 0;
  const body = $('waiting-rows');
  if (body.contains(document.activeElement)) return;
  body.replaceChildren(
    ...list.map((w) => {
      const select = h(
        'select',
        { 'aria-label': t('assign_to', { n: String(w.request) }) },
        h('option', { value: '' }, t('choose')),
        ...interpreters.filter((i) => i.languages.includes(w.language)).map((i) => h('option', { value: String(i.id) }, i.login)),
      );
      const sel = /** @type {HTMLSelectElement} */ (select);
      sel.value = chosen.get(w.request) || '';
      sel.addEventListener('change', () => chosen.set(w.request, sel.value));
      const ring = h('button', { type: 'button', 'data-request': String(w.request) }, t('ring'));
      ring.addEventListener('click', async () => {
        if (!token || !sel.value) return;
        try {
          await api(`/api/requests/${w.request}/assign`, { method: 'POST', token, body: { interpreter: Number(sel.value) } });
          notice(t('rung', { who: sel.selectedOptions[0]?.textContent || '' }));
        } catch (e) {
          notice(t('not_rung', { m: sayError(e) }), 'error');
        }
      });
      return h(
        'tr',
        { 'data-request': String(w.request) },
        h('td', {}, `${languageName(w.language)}${w.urgent ? ` · ${t('urgent')}` : ''}`),
        h('td', {}, w.desk),
        h('td', { class: 'num' }, clock(w.waited_secs)),
        h('td', {}, w.ringing ? t('ringing') : ''),
        h('td', {}, sel, ' ', ring),
      );
    }),
  );
}
