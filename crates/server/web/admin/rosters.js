// One interpreter's roster on its own (PUT /api/interpreters/{id}/roster): the
// coordinator's calendar for the interpreters of their municipality, an admin's for
// anyone. The interpreter's own days off and extra hours are marked as theirs.

import { t } from '../common/i18n.js';
import { checkRoster, readRoster, renderRoster, showRosterError } from '../common/roster.js';
import { $, notice } from '../common/ui.js';

/** @type {{ id: number | null, call: ((path: string, o?: any) => Promise<any>) | null, failed: (e: unknown) => void, done: () => void }} */
const editing = { id: null, call: null, failed: () => {}, done: () => {} };

/**
 * Open the roster card for `interpreter`.
 * @param {any} interpreter a row of GET /api/interpreters
 * @param {(path: string, o?: any) => Promise<any>} call the page's API call
 * @param {(e: unknown) => void} failed the page's error display
 * @param {() => void} done after saving
 */
export function openRoster(interpreter, call, failed, done) {
  Object.assign(editing, { id: interpreter.id, call, failed, done });
  $('roster-title').textContent = t('roster_of', { login: interpreter.login });
  renderRoster($('roster-editor'), interpreter.roster);
  $('roster-card').hidden = false;
  $('roster-card').scrollIntoView({ block: 'start' });
  $('roster-title').tabIndex = -1;
  $('roster-title').focus({ preventScroll: true });
}

$('roster-close').addEventListener('click', () => {
  $('roster-card').hidden = true;
});

$('roster-card').addEventListener('submit', async (e) => {
  e.preventDefault();
  const root = $('roster-editor');
  if (!checkRoster(root)) {
    notice(t('pf_fix'), 'error');
    return;
  }
  if (editing.id === null || !editing.call) return;
  try {
    await editing.call(`/api/interpreters/${editing.id}/roster`, { method: 'PUT', body: { roster: readRoster(root) } });
    $('roster-card').hidden = true;
    notice(t('saved'));
    editing.done();
  } catch (err) {
    showRosterError(root, err);
    editing.failed(err);
  }
});
