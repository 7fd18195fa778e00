// The staffing plan: interpreters needed by language, weekday and hour for a target
// service level (Erlang C on the centre's own history), against those rostered next
// week; the hours short of interpreters first, in words.

import { sayError } from '../common/errors.js';
import { languageName, lang, t } from '../common/i18n.js';
import { $, api, h, notice } from '../common/ui.js';

/** @type {any} */
let shown = null;

/** @param {string} format */
export function staffingQuery(format) {
  const m = /** @type {HTMLSelectElement} */ ($('s-municipality')).value;
  const v = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ ($(id)).value;
  const target = Number(v('s-target')) / 100;
  const one = m === 'centre' ? '' : `municipality=${encodeURIComponent(m)}&`;
  return `/api/reports/staffing?${one}weeks=${encodeURIComponent(v('s-weeks'))}&target=${target}&secs=${encodeURIComponent(v('s-secs'))}&format=${format}&lang=${lang() === 'ja' ? 'ja' : 'en'}`;
}

/** @param {string} token */
export async function loadStaffing(token) {
  notice(t('loading'));
  try {
    shown = await api(staffingQuery('json'), { token });
    notice(null);
    drawStaffing();
  } catch (e) {
    notice(t('failed', { m: sayError(e) }), 'error');
    throw e;
  }
}

/** Draw what was loaded. */
export function drawStaffing() {
  const p = shown;
  if (!p) return;
  const days = t('days').split(',');
  $('staffing-title').textContent = t('s_title', { from: p.from, to: p.to });
  $('staffing-help').textContent = t('s_help', { weeks: p.weeks, target: Math.round(p.target * 100), secs: p.secs });
  $('staffing-no-gaps').hidden = p.gaps.length > 0;
  $('staffing-gaps').replaceChildren(
    ...p.gaps.map((/** @type {any} */ g) =>
      h('li', { 'data-language': g.language, 'data-weekday': String(g.weekday) },
        t('s_gap', { language: languageName(g.language), day: days[g.weekday], from: String(g.from_hour).padStart(2, '0'), to: String(g.to_hour).padStart(2, '0'), needed: g.needed, rostered: g.rostered })),
    ),
  );
  /** @type {Map<string, any[]>} */
  const byLanguage = new Map();
  for (const s of p.slots) byLanguage.set(s.language, [...(byLanguage.get(s.language) || []), s]);
  const grids = [];
  for (const [language, slots] of byLanguage) {
    const demand = slots.filter((s) => s.needed > 0);
    if (!demand.length) continue;
    const hours = [...new Set(demand.map((s) => s.hour))].sort((a, b) => a - b);
    const at = new Map(slots.map((s) => [`${s.weekday}-${s.hour}`, s]));
    grids.push(
      h('h3', {}, languageName(language)),
      h('table', { class: 'grid', 'data-language': language },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), ...hours.map((hr) => h('th', { scope: 'col' }, `${hr}`)))),
        h('tbody', {},
          ...days.map((day, d) =>
            h('tr', {},
              h('th', { scope: 'row' }, day),
              ...hours.map((hr) => {
                const s = at.get(`${d}-${hr}`);
                if (!s || s.needed === 0) return h('td', {}, s?.rostered ? `–/${s.rostered}` : '');
                return h('td', { class: s.needed > s.rostered ? 'gap' : 'ok' }, `${s.needed}/${s.rostered}`);
              }),
            ),
          ),
        ),
      ),
    );
  }
  $('staffing-grids').replaceChildren(...grids);
}
