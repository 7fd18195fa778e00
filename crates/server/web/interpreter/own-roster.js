// The interpreter's own days off and extra hours (PUT /api/me/roster), beside the
// coordinator's shifts and days off, which they see but do not change; the week they
// make together. Applied at once: the console's "today" follows.

import { sayError } from '../common/errors.js';
import { t } from '../common/i18n.js';
import { checkRoster, readRoster, renderRoster, showRosterError } from '../common/roster.js';
import { $, api, notice } from '../common/ui.js';

/** @type {{ token: string | null, after: () => void, drawn: boolean }} */
const state = { token: null, after: () => {}, drawn: false };

/**
 * Draw the roster card (once per sign-in; a redraw would lose what is being typed).
 * @param {string | null} token
 * @param {() => void} after what to refresh once saved
 */
export async function ownRoster(token, after) {
  if (!token || (state.drawn && state.token === token)) return;
  Object.assign(state, { token, after, drawn: true });
  try {
    const { roster } = await api('/api/me/roster', { token });
    renderRoster($('own-roster'), roster, { own: true });
    $('own-roster-card').hidden = roster.always;
  } catch {
    state.drawn = false;
  }
}

$('own-roster-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const root = $('own-roster');
  if (!checkRoster(root)) return;
  const { off, extra } = readRoster(root);
  try {
    const { roster } = await api('/api/me/roster', { method: 'PUT', token: state.token, body: { off, extra } });
    renderRoster(root, roster, { own: true });
    notice(t('days_saved'));
    state.after();
  } catch (err) {
    showRosterError(root, err);
    notice(sayError(err), 'error');
  }
});
