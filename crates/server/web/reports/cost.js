// The shared centre's cost split: each member's share of a month's joint cost, as the
// centre's rule weighs it (an equal part, a part by foreign residents, a part by use),
// or one member's statement; admins change the rule and the residents' counts here.

import { sayError } from '../common/errors.js';
import { lang, t } from '../common/i18n.js';
import { $, api, h, notice } from '../common/ui.js';
import { rows } from './charts.js';

/** @type {any} */
let shown = null;

/** @param {string} format */
export function costQuery(format) {
  const month = /** @type {HTMLInputElement} */ ($('c-month')).value;
  const m = /** @type {HTMLSelectElement} */ ($('c-municipality')).value;
  const one = m ? `&municipality=${encodeURIComponent(m)}` : '';
  return `/api/reports/cost-split?month=${encodeURIComponent(month)}${one}&format=${format}&lang=${lang() === 'ja' ? 'ja' : 'en'}`;
}

/** @param {number} n */
const yen = (n) => Math.round(n).toLocaleString(lang() === 'ja' ? 'ja-JP' : 'en-GB');

/**
 * @param {string} token
 * @param {boolean} admin whether the rule may be changed here
 */
export async function loadCost(token, admin) {
  notice(t('loading'));
  try {
    shown = await api(costQuery('json'), { token });
    notice(null);
    drawCost();
    $('rule-editor').hidden = !admin;
    if (admin) await fillRule(token);
  } catch (e) {
    notice(t('failed', { m: sayError(e) }), 'error');
    throw e;
  }
}

/** Draw what was loaded. */
export function drawCost() {
  const s = shown;
  if (!s) return;
  const one = s.members.length === 1 && /** @type {HTMLSelectElement} */ ($('c-municipality')).value;
  $('cost-title').textContent = `${t('c_title', { month: s.month })}${one ? ` ${s.members[0].name}` : ''}`;
  const r = s.rule;
  const basis = t(r.usage_basis === 'consultations' ? 'c_basis_consultations' : 'c_basis_minutes');
  $('cost-rule').textContent = t('c_rule', { cost: yen(r.monthly_cost), e: r.equal_percent, r: r.residents_percent, u: r.usage_percent, basis });
  $('c-usage-head').textContent = basis;
  $('chart-cost').replaceChildren(rows(s.members.map((/** @type {any} */ m) => ({ label: m.name, value: m.amount })), t('c_chart')));
  const pct = (/** @type {number} */ x) => `${Math.round(x * 1000) / 10}%`;
  $('cost-rows').replaceChildren(
    ...s.members.map((/** @type {any} */ m) =>
      h('tr', { 'data-municipality': String(m.municipality) },
        h('th', { scope: 'row' }, m.name),
        h('td', { class: 'num' }, yen(m.foreign_residents)),
        h('td', { class: 'num' }, pct(m.residents_share)),
        h('td', { class: 'num' }, String(m.usage)),
        h('td', { class: 'num' }, pct(m.usage_share)),
        h('td', { class: 'num' }, yen(m.equal_part)),
        h('td', { class: 'num' }, yen(m.residents_part)),
        h('td', { class: 'num' }, yen(m.usage_part)),
        h('td', { class: 'num amount' }, yen(m.amount)),
      ),
    ),
  );
}

/**
 * The rule's form, filled from the server.
 * @param {string} token
 */
async function fillRule(token) {
  const rule = await api('/api/cost-split', { token });
  /** @type {HTMLInputElement} */ ($('r-cost')).value = String(rule.monthly_cost);
  /** @type {HTMLInputElement} */ ($('r-equal')).value = String(rule.equal_percent);
  /** @type {HTMLInputElement} */ ($('r-residents')).value = String(rule.residents_percent);
  /** @type {HTMLInputElement} */ ($('r-usage')).value = String(rule.usage_percent);
  /** @type {HTMLSelectElement} */ ($('r-basis')).value = rule.usage_basis;
  const names = new Map(
    [.../** @type {HTMLSelectElement} */ ($('c-municipality')).options].filter((o) => o.value).map((o) => [o.value, o.textContent]),
  );
  $('r-counts').replaceChildren(
    ...rule.foreign_residents.map((/** @type {any} */ c) =>
      h('div', {},
        h('label', { for: `r-count-${c.municipality}` }, names.get(String(c.municipality)) || `#${c.municipality}`),
        h('input', { id: `r-count-${c.municipality}`, type: 'number', min: '0', step: '1', value: String(c.count), 'data-municipality': String(c.municipality), required: true }),
      ),
    ),
  );
}

/**
 * Save the rule from the form.
 * @param {string} token
 */
export async function saveRule(token) {
  const n = (/** @type {string} */ id) => Number(/** @type {HTMLInputElement} */ ($(id)).value);
  const body = {
    monthly_cost: n('r-cost'),
    equal_percent: n('r-equal'),
    residents_percent: n('r-residents'),
    usage_percent: n('r-usage'),
    usage_basis: /** @type {HTMLSelectElement} */ ($('r-basis')).value,
    foreign_residents: [...document.querySelectorAll('#r-counts input')].map((i) => ({
      municipality: Number(i.getAttribute('data-municipality')),
      count: Number(/** @type {HTMLInputElement} */ (i).value),
    })),
  };
  await api('/api/cost-split', { method: 'PUT', token, body });
  notice(t('c_saved'));
}
