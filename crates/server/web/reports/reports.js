// The reports, for a municipality's supervisor and the centre's admins: the daily
// report today; the session is the wallboard's (two taps from it: its "reports" button,
// then the report).

import { apply, t, use } from '../common/i18n.js';
import { secondFactorButton, setUp, signIn } from '../common/signin.js';
import { $, api, h, notice, show } from '../common/ui.js';
import { download, drawDaily, loadDaily, yesterday } from './daily.js';
import { STRINGS } from './strings.js';

/** The wallboard's session key: one sign-in for both pages of a tab. */
const TOKEN = 'kk.wall.token';
const LANG = 'kk.wall.lang';

/** @type {string | null} */
let token = sessionStorage.getItem(TOKEN);

function setLanguage(/** @type {string} */ l) {
  localStorage.setItem(LANG, l);
  use(l, STRINGS[l] || STRINGS.ja, STRINGS.en);
  document.title = t('app');
  apply();
  if (token) drawDaily(token);
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
  show('signin');
}

$('daily-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (token) void loadDaily(token).catch(() => {});
});
$('print').addEventListener('click', () => window.print());
$('csv').addEventListener('click', () => token && download(token, 'csv'));
$('xlsx').addEventListener('click', () => token && download(token, 'xlsx'));

async function start() {
  if (!token) {
    show('signin');
    return;
  }
  let tenants;
  try {
    tenants = await api('/api/tenants', { token });
  } catch (e) {
    if (/** @type {any} */ (e).status === 401) stop();
    else notice(t('failed', { m: /** @type {Error} */ (e).message }), 'error');
    return;
  }
  $('sign-out').hidden = false;
  const params = new URLSearchParams(location.search);
  const select = /** @type {HTMLSelectElement} */ ($('municipality'));
  select.replaceChildren(...tenants.map((/** @type {any} */ m) => h('option', { value: String(m.id) }, m.name)));
  const wanted = params.get('municipality');
  if (wanted && tenants.some((/** @type {any} */ m) => String(m.id) === wanted)) select.value = wanted;
  /** @type {HTMLInputElement} */ ($('date')).value = params.get('date') || yesterday();
  show('daily');
  await loadDaily(token).catch(() => {});
}

/** @type {any} */ (window).kk = { start };

setLanguage(localStorage.getItem(LANG) || 'ja');
void start();
