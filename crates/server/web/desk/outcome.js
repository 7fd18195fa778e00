// The desk's outcome screen after a consultation: one tap on how it ended records it;
// before that, optional taps say what it was about (topics, several allowed) and, at a
// shared centre, the town the resident lives in, and where they were referred (the
// municipality's partner directory). Categories only, and, where the municipality keeps
// them, a short handling note the server seals at once (ADR 0017).

import { t } from '../common/i18n.js';
import { $, h } from '../common/ui.js';

/** The taxonomy of the centres' reports, in the protocol's codes. */
export const TOPICS = [
  'residence_status', 'work', 'medical', 'welfare', 'childcare_schooling', 'care',
  'housing', 'tax_pension', 'japanese_study', 'domestic_violence', 'hardship', 'other',
];

/** The desk's own municipality (the residence when none is chosen). */
let own = 0;

/**
 * Set the screen up for this desk: the topic buttons, the referral when its municipality
 * has partners, and the municipality choice when the centre has several.
 * @param {{ tenant: number, municipalities?: { id: number, name: string }[], partners?: { id: number, name: string }[], handling_notes?: boolean }} desk
 */
export function setUpOutcome(desk) {
  own = desk.tenant;
  const topics = $('outcome-topics-list');
  topics.replaceChildren(
    ...TOPICS.map((code) => {
      const b = h('button', { type: 'button', 'data-topic': code, 'data-t': `topic_${code}`, 'aria-pressed': 'false' }, t(`topic_${code}`));
      b.addEventListener('click', () => b.setAttribute('aria-pressed', String(b.getAttribute('aria-pressed') !== 'true')));
      return b;
    }),
  );
  const towns = desk.municipalities || [];
  const select = /** @type {HTMLSelectElement} */ ($('outcome-residence'));
  select.replaceChildren(...towns.map((m) => h('option', { value: String(m.id) }, m.name)));
  $('outcome-residence-row').hidden = towns.length < 2;
  const partners = desk.partners || [];
  const referral = /** @type {HTMLSelectElement} */ ($('outcome-referral'));
  referral.replaceChildren(
    h('option', { value: '', 'data-t': 'referral_none' }, t('referral_none')),
    ...partners.map((p) => h('option', { value: String(p.id) }, p.name)),
  );
  $('outcome-referral-row').hidden = partners.length === 0;
  $('outcome-note-row').hidden = !desk.handling_notes;
}

/** Clear the last consultation's choices. */
export function resetOutcome() {
  for (const b of document.querySelectorAll('#outcome-topics-list button')) b.setAttribute('aria-pressed', 'false');
  /** @type {HTMLSelectElement} */ ($('outcome-residence')).value = String(own);
  /** @type {HTMLSelectElement} */ ($('outcome-referral')).value = '';
  /** @type {HTMLTextAreaElement} */ ($('outcome-note')).value = '';
}

/**
 * The `record_outcome` command for `call`, ended as `outcome`, with the choices made.
 * @param {number} call
 * @param {string} outcome
 */
export function outcomeCommand(call, outcome) {
  const topics = [...document.querySelectorAll('#outcome-topics-list button[aria-pressed=true]')].map((b) => b.getAttribute('data-topic'));
  const town = Number(/** @type {HTMLSelectElement} */ ($('outcome-residence')).value);
  /** @type {Record<string, unknown>} */
  const command = { type: 'record_outcome', call, outcome };
  if (topics.length) command.topics = topics;
  if (town && town !== own) command.residence = town;
  const referral = /** @type {HTMLSelectElement} */ ($('outcome-referral')).value;
  if (referral) command.referral = Number(referral);
  const note = /** @type {HTMLTextAreaElement} */ ($('outcome-note')).value.trim();
  if (note && !$('outcome-note-row').hidden) command.note = note;
  return command;
}
