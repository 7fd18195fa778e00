// The reports, for a municipality's supervisor and the centre's admins: the daily report
// the monthly statistics (a municipality's, the whole centre's for admins, and the
// shared report every member reads), the shared centre's cost split and the staffing
// plan. The session is the wallboard's: its 報告書 button
// opens yesterday's daily report in one tap.

import { sayError } from '../common/errors.js';
import { apply, t, use } from '../common/i18n.js';
import { secondFactorButton, setUp, signIn } from '../common/signin.js';
import { $, api, h, notice, show } from '../common/ui.js';
import { dailyQuery, drawDaily, loadDaily, yesterday } from './daily.js';
import { costQuery, drawCost, loadCost, saveRule } from './cost.js';
import { download } from './download.js';
import { drawMonthly, lastMonth, loadMonthly, monthlyQuery } from './monthly.js';
import { drawStaffing, loadStaffing, staffingQuery } from './staffing.js';
import { STRINGS } from './strings.js';

/** The wallboard's session key: one sign-in for both pages of a tab. */
const TOKEN = 'kk.wall.token';
const LANG = 'kk.wall.lang';

/** @type {string | null} */
let token = sessionStorage.getItem(TOKEN);
/** @type {{ id: number, name: string }[]} */
let tenants = [];
let admin = false;

function setLanguage(/** @type {string} */ l) {
  localStorage.setItem(LANG, l);
  use(l, STRINGS[l] || STRINGS.ja, STRINGS.en);
  document.title = t('app');
  apply();
  fillChoices();
  if (token) drawDaily(token);
  drawMonthly();
  drawCost();
  drawStaffing();
}
$('switch-lang').addEventListener('click', () => setLanguage(document.documentElement.lang === 'ja' ? 'en' : 'ja'));

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const r = await signIn('staff');
    if (!r) return;
    token = r.token;
    sessionStorage.setItem(TOKEN, r.token);
    notice(null);
    if (r.second_factor_setup) await setUp(r.token, true);
    void start();
  } catch {
    notice(t('signin_bad'), 'error');
  }
});
secondFactorButton(() => token);
$('sign-out').addEventListener('click', async () => {
  const old = token;
  stop();
  if (old) await api('/api/sign-out', { method: 'POST', token: old }).catch(() => {});
});

function stop() {
  token = null;
  sessionStorage.removeItem(TOKEN);
  $('sign-out').hidden = true;
  $('tabs').hidden = true;
  show('signin');
}

/** Keep the address saying what is shown, so a reload or a bookmark shows it again. */
function remember(/** @type {Record<string, string>} */ params) {
  history.replaceState(null, '', `?${new URLSearchParams(params)}`);
}

$('daily-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void daily();
});
$('monthly-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void monthly();
});
$('cost-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void cost();
});
$('rule-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!token) return;
  try {
    await saveRule(token);
    await cost();
  } catch (err) {
    notice(sayError(err), 'error');
  }
});
$('staffing-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void staffing();
});
for (const id of ['print', 'm-print', 'c-print', 's-print']) $(id).addEventListener('click', () => window.print());
$('csv').addEventListener('click', () => token && download(token, dailyQuery('csv')));
$('xlsx').addEventListener('click', () => token && download(token, dailyQuery('xlsx')));
$('m-csv').addEventListener('click', () => token && download(token, monthlyQuery('csv')));
$('m-xlsx').addEventListener('click', () => token && download(token, monthlyQuery('xlsx')));
$('c-csv').addEventListener('click', () => token && download(token, costQuery('csv')));
$('c-xlsx').addEventListener('click', () => token && download(token, costQuery('xlsx')));
$('s-csv').addEventListener('click', () => token && download(token, staffingQuery('csv')));
$('s-xlsx').addEventListener('click', () => token && download(token, staffingQuery('xlsx')));
const VIEWS = { daily, monthly, cost, staffing };
for (const view of /** @type {(keyof typeof VIEWS)[]} */ (Object.keys(VIEWS))) {
  $(`tab-${view}`).addEventListener('click', (e) => {
    e.preventDefault();
    void VIEWS[view]();
  });
}

/** Mark the tab of the view shown. */
function tab(/** @type {string} */ view) {
  for (const v of ['daily', 'monthly', 'cost', 'staffing']) {
    if (v === view) $(`tab-${v}`).setAttribute('aria-current', 'page');
    else $(`tab-${v}`).removeAttribute('aria-current');
  }
  show(view);
}

async function daily() {
  if (!token) return;
  tab('daily');
  await loadDaily(token).catch(() => {});
  remember({ view: 'daily', municipality: /** @type {HTMLSelectElement} */ ($('municipality')).value, date: /** @type {HTMLInputElement} */ ($('date')).value });
}

async function monthly() {
  if (!token) return;
  tab('monthly');
  await loadMonthly(token).catch(() => {});
  remember({ view: 'monthly', municipality: /** @type {HTMLSelectElement} */ ($('m-municipality')).value, month: /** @type {HTMLInputElement} */ ($('month')).value });
}

async function cost() {
  if (!token) return;
  tab('cost');
  await loadCost(token, admin).catch(() => {});
  remember({ view: 'cost', municipality: /** @type {HTMLSelectElement} */ ($('c-municipality')).value, month: /** @type {HTMLInputElement} */ ($('c-month')).value });
}

async function staffing() {
  if (!token) return;
  tab('staffing');
  await loadStaffing(token).catch(() => {});
  remember({ view: 'staffing', municipality: /** @type {HTMLSelectElement} */ ($('s-municipality')).value });
}

/** The municipalities the reader may choose: their own (a supervisor) or every one. */
function fillChoices() {
  const daily = /** @type {HTMLSelectElement} */ ($('municipality'));
  const month = /** @type {HTMLSelectElement} */ ($('m-municipality'));
  const [d, m] = [daily.value, month.value];
  const towns = () => tenants.map((x) => h('option', { value: String(x.id) }, x.name));
  daily.replaceChildren(...towns());
  month.replaceChildren(
    ...towns(),
    ...(admin ? [h('option', { value: 'centre' }, t('centre'))] : []),
    h('option', { value: 'shared' }, t('shared')),
  );
  const split = /** @type {HTMLSelectElement} */ ($('c-municipality'));
  const c = split.value;
  split.replaceChildren(h('option', { value: '' }, t('c_all')), ...towns());
  if (d) daily.value = d;
  if (m) month.value = m;
  if (c) split.value = c;
  const plan = /** @type {HTMLSelectElement} */ ($('s-municipality'));
  const sv = plan.value;
  plan.replaceChildren(...towns(), ...(admin ? [h('option', { value: 'centre' }, t('centre'))] : []));
  if (sv) plan.value = sv;
}

async function start() {
  if (!token) {
    show('signin');
    return;
  }
  try {
    tenants = await api('/api/tenants', { token });
    // A supervisor sees their own municipality; an admin every one.
    admin = tenants.length > 1;
  } catch (e) {
    if (/** @type {any} */ (e).status === 401) stop();
    else notice(t('failed', { m: sayError(e) }), 'error');
    return;
  }
  $('sign-out').hidden = false;
  $('tabs').hidden = false;
  // Handling notes are for a municipality's own supervisors, not the centre's admins.
  $('with-notes-row').hidden = admin;
  fillChoices();
  const params = new URLSearchParams(location.search);
  const wanted = params.get('municipality') || '';
  const ours = (/** @type {string} */ v) => tenants.some((x) => String(x.id) === v);
  /** @type {HTMLSelectElement} */ ($('municipality')).value = ours(wanted) ? wanted : String(tenants[0]?.id ?? '');
  const choice = ours(wanted) || wanted === 'shared' || (admin && wanted === 'centre');
  /** @type {HTMLSelectElement} */ ($('m-municipality')).value = choice ? wanted : String(tenants[0]?.id ?? 'shared');
  /** @type {HTMLInputElement} */ ($('date')).value = params.get('date') || yesterday();
  /** @type {HTMLInputElement} */ ($('month')).value = params.get('month') || lastMonth();
  /** @type {HTMLInputElement} */ ($('c-month')).value = params.get('month') || lastMonth();
  if (params.get('view') === 'cost') /** @type {HTMLSelectElement} */ ($('c-municipality')).value = ours(wanted) ? wanted : '';
  /** @type {HTMLSelectElement} */ ($('s-municipality')).value = ours(wanted) || (admin && wanted === 'centre') ? wanted : String(tenants[0]?.id ?? '');
  const view = params.get('view');
  await (view === 'monthly' ? monthly() : view === 'cost' ? cost() : view === 'staffing' ? staffing() : daily());
}

/** @type {any} */ (window).kk = { start };

setLanguage(localStorage.getItem(LANG) || 'ja');
void start();
