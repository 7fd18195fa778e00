// A tenant's routing policy as a form, not JSON: the steps of the pool's widening (how
// long, which tiers, own interpreters or the shared pool), the timings, parallel ringing
// for rare languages by name, and the order. A refusal from the server is shown beside
// the field it names (`policy.steps[1].tiers`, `policy.ring_timeout`).

import { fieldError } from '../common/errors.js';
import { languageName, t } from '../common/i18n.js';
import { $, h } from '../common/ui.js';

/** @typedef {{ seconds: number, tiers: string[], scope: string, require_speciality?: boolean }} Step */
/**
 * @typedef {{ steps: Step[], ring_timeout_secs: number, max_wait_secs: number, wrap_up_secs: number | null,
 *   missed_offers_limit: number, urgent_credit_secs: number, preferred_hold_secs: number, booking_guard_secs: number,
 *   parallel: { languages: string[], fan_out: number } | null, order: string }} Policy
 */

const TIERS = ['staff', 'contractor', 'volunteer'];

/** The numbers of the form: field, string key, bounds. */
const NUMBERS = /** @type {const} */ ([
  ['ring_timeout_secs', 'pf_ring_timeout', 1, 600],
  ['max_wait_secs', 'pf_max_wait', 1, 86400],
  ['missed_offers_limit', 'pf_missed_offers', 1, 255],
  ['urgent_credit_secs', 'pf_urgent_credit', 0, 14400],
  ['preferred_hold_secs', 'pf_preferred_hold', 0, 3600],
  ['booking_guard_secs', 'pf_booking_guard', 0, 86400],
]);

/**
 * A labelled input with room for its error beside it.
 * @param {string} field the policy's field path (`ring_timeout_secs`, `steps[0].seconds`)
 * @param {string} label
 * @param {HTMLElement} input
 */
function field(field, label, input) {
  const id = `pf-${field.replace(/[^a-z0-9_]/gi, '-')}`;
  input.id = id;
  input.dataset.field = field;
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), input, h('span', { class: 'field-error', id: `${id}-error`, role: 'alert' }));
}

/** @param {number} value @param {number} min @param {number} max */
function number(value, min, max) {
  return h('input', { type: 'number', min: String(min), max: String(max), step: '1', value: String(value), required: true });
}

/**
 * Fill the form with `policy`.
 * @param {HTMLElement} root where the form's fields go
 * @param {Policy} policy
 * @param {string[]} languages the catalogue's tags, for parallel ringing
 */
export function renderPolicy(root, policy, languages) {
  const steps = h('div', { id: 'pf-steps', class: 'stack' });
  const addStep = (/** @type {Step} */ s) => {
    const i = steps.children.length;
    const tiers = h('fieldset', { class: 'tiers' }, h('legend', { text: t('pf_tiers') }),
      ...TIERS.map((tier) => h('label', { class: 'inline' },
        h('input', { type: 'checkbox', value: tier, checked: s.tiers.includes(tier) }), ` ${t(`tier_${tier}`)}`)));
    const scope = h('select', {}, ...['own', 'shared'].map((v) => h('option', { value: v, selected: s.scope === v }, t(`pf_scope_${v}`))));
    const row = h('div', { class: 'card row step', 'data-step': String(i) },
      field(`steps[${i}].seconds`, t('pf_step_seconds'), number(s.seconds, 0, 86400)),
      tiers,
      field(`steps[${i}].scope`, t('pf_scope'), scope),
      h('label', { class: 'inline' }, h('input', { type: 'checkbox', class: 'speciality', checked: !!s.require_speciality }), ` ${t('pf_speciality_only')}`),
      h('button', { type: 'button', class: 'remove-step', onclick: () => row.remove(), text: t('pf_remove_step') }),
      h('span', { class: 'field-error step-error', role: 'alert' }),
    );
    steps.append(row);
  };
  for (const s of policy.steps) addStep(s);
  const wrap = number(policy.wrap_up_secs ?? 0, 0, 3600);
  const untilReady = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: 'pf-until-ready', checked: policy.wrap_up_secs === null }));
  const parallel = policy.parallel || { languages: [], fan_out: 2 };
  const rare = h('select', { multiple: true, size: '6' },
    ...languages.map((tag) => h('option', { value: tag, selected: parallel.languages.includes(tag) }, `${languageName(tag, tag)} / ${languageName(tag)}`)));
  const order = h('select', {}, ...['tier_then_longest_idle', 'longest_idle'].map((v) => h('option', { value: v, selected: policy.order === v }, t(`pf_order_${v}`))));
  root.replaceChildren(
    h('h3', { text: t('pf_steps') }),
    h('p', { class: 'muted', text: t('pf_steps_help') }),
    steps,
    h('button', { type: 'button', id: 'pf-add-step', onclick: () => addStep({ seconds: 60, tiers: ['staff'], scope: 'own' }), text: t('pf_add_step') }),
    h('span', { class: 'field-error', id: 'pf-steps-error', role: 'alert' }),
    h('h3', { text: t('pf_timings') }),
    h('div', { class: 'row wrap' }, ...NUMBERS.map(([name, key, min, max]) => field(name, t(key), number(policy[name], min, max)))),
    h('div', { class: 'row wrap' }, field('wrap_up_secs', t('pf_wrap_up'), wrap), h('label', { class: 'inline' }, untilReady, ` ${t('pf_until_ready')}`)),
    h('h3', { text: t('pf_parallel') }),
    h('p', { class: 'muted', text: t('pf_parallel_help') }),
    h('div', { class: 'row wrap' }, field('parallel.languages', t('languages'), rare), field('parallel.fan_out', t('pf_fan_out'), number(parallel.fan_out, 2, 8))),
    field('order', t('pf_order'), order),
  );
}

/**
 * The policy the form says.
 * @param {HTMLElement} root
 * @returns {Policy}
 */
export function readPolicy(root) {
  const value = (/** @type {string} */ f) => /** @type {HTMLInputElement | HTMLSelectElement} */ (root.querySelector(`[data-field="${f}"]`)).value;
  const steps = [...root.querySelectorAll('.step')].map((row) => ({
    seconds: Number(/** @type {HTMLInputElement} */ (row.querySelector('input[type=number]')).value),
    tiers: [...row.querySelectorAll('.tiers input:checked')].map((x) => /** @type {HTMLInputElement} */ (x).value),
    scope: /** @type {HTMLSelectElement} */ (row.querySelector('select')).value,
    require_speciality: /** @type {HTMLInputElement} */ (row.querySelector('.speciality')).checked,
  }));
  const rare = [.../** @type {HTMLSelectElement} */ (root.querySelector('[data-field="parallel.languages"]')).selectedOptions].map((o) => o.value);
  /** @type {any} */
  const policy = {
    steps,
    wrap_up_secs: $('pf-until-ready', HTMLInputElement).checked ? null : Number(value('wrap_up_secs')),
    parallel: rare.length ? { languages: rare, fan_out: Number(value('parallel.fan_out')) } : null,
    order: value('order'),
  };
  for (const [name] of NUMBERS) policy[name] = Number(value(name));
  return policy;
}

/**
 * The rules across fields the inputs themselves cannot check (their bounds the browser
 * checks, in its own language): each problem beside its step, in the page's language.
 * Whether the form may be sent.
 * @param {HTMLElement} root
 */
export function checkPolicy(root) {
  const rows = [...root.querySelectorAll('.step')];
  let ok = true;
  rows.forEach((row, i) => {
    const error = row.querySelector('.step-error');
    if (!error) return;
    const seconds = Number(/** @type {HTMLInputElement} */ (row.querySelector('input[type=number]')).value);
    const tiers = row.querySelectorAll('.tiers input:checked').length;
    const problem = !tiers ? t('pf_no_tier') : seconds === 0 && i < rows.length - 1 ? t('pf_zero_not_last') : '';
    error.textContent = problem;
    if (problem) ok = false;
  });
  const none = root.querySelector('#pf-steps-error');
  if (none) none.textContent = rows.length ? '' : t('pf_no_steps');
  return ok && rows.length > 0;
}

/** The server's names for fields, as the form has them. */
const SERVER_FIELDS = {
  ring_timeout: 'ring_timeout_secs', max_wait: 'max_wait_secs', wrap_up: 'wrap_up_secs', urgent_credit: 'urgent_credit_secs',
  preferred_hold: 'preferred_hold_secs', booking_guard: 'booking_guard_secs', missed_offers_limit: 'missed_offers_limit',
};

/**
 * Show a refusal beside the field it names (`policy.steps[1].duration`), in the page's
 * language; false when it names none of the form's.
 * @param {HTMLElement} root
 * @param {unknown} err the error from `api()`
 */
export function showPolicyError(root, err) {
  for (const e of root.querySelectorAll('.field-error')) e.textContent = '';
  const said = fieldError(err);
  if (!said?.field.startsWith('policy.')) return false;
  let path = said.field.slice('policy.'.length);
  const problem = said.text;
  // A step's problem goes on its row (rows are in the order sent).
  const step = /^steps\[(\d+)\]/.exec(path);
  if (step) {
    const row = root.querySelectorAll('.step')[Number(step[1])];
    const target = row?.querySelector('.step-error');
    if (!target) return false;
    target.textContent = problem;
    const input = row?.querySelector('input');
    if (input instanceof HTMLElement) input.focus();
    return true;
  }
  path = /** @type {Record<string, string>} */ (SERVER_FIELDS)[path] || path;
  const id = `pf-${path.replace(/[^a-z0-9_]/gi, '-')}-error`;
  const target = root.querySelector(`#${CSS.escape(id)}`) || root.querySelector('#pf-steps-error');
  if (!target) return false;
  target.textContent = problem;
  const input = target.closest('.field, .step')?.querySelector('input, select');
  if (input instanceof HTMLElement) input.focus();
  return true;
}
