// The coordinator's bookings, for a municipality's supervisor and the centre's admins:
// book a slot (the desk, the language, the day and time, the specialist taking part and
// how they and the resident join, a named interpreter or any eligible one, the topic and
// an intake note), see the links to send, and the coming bookings with their links made
// anew or cancelled. The session is the wallboard's: one sign-in for its pages.

import { sayError } from '../common/errors.js';
import { apply, t, use } from '../common/i18n.js';
import { secondFactorButton, setUp, signIn } from '../common/signin.js';
import { $, api, h, notice, show } from '../common/ui.js';
import { STRINGS } from './strings.js';
import { renderStanding } from './standing.js';
import { moveControl } from './move.js';

const TOKEN = 'kk.wall.token';
const LANG = 'kk.wall.lang';

/** @type {string | null} */
let token = sessionStorage.getItem(TOKEN);
/** @type {{ id: number, tenant: number, name: string, revoked?: boolean }[]} */
let desks = [];
/** @type {{ tag: string, native: string, japanese: string, english: string }[]} */
let languages = [];
/** @type {{ id: number, login: string, languages: string[] }[]} */
let interpreters = [];
/** @type {any[]} */
let bookings = [];

const value = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ ($(id)).value;

function setLanguage(/** @type {string} */ l) {
  localStorage.setItem(LANG, l);
  use(l, STRINGS[l] || STRINGS.ja, STRINGS.en);
  document.title = t('app');
  apply();
  fill();
  draw();
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
  token = null;
  sessionStorage.removeItem(TOKEN);
  $('sign-out').hidden = true;
  show('signin');
  if (old) await api('/api/sign-out', { method: 'POST', token: old }).catch(() => {});
});

/** A language's name in the page's language, with its own. */
function languageName(/** @type {string} */ tag) {
  const l = languages.find((x) => x.tag === tag);
  if (!l) return tag;
  return `${l.native} / ${document.documentElement.lang === 'ja' ? l.japanese : l.english}`;
}

/** The choices: desks, languages, and the interpreters of the chosen language. */
function fill() {
  const desk = /** @type {HTMLSelectElement} */ ($('desk'));
  const d = desk.value;
  desk.replaceChildren(...desks.filter((x) => !x.revoked).map((x) => h('option', { value: String(x.id) }, x.name)));
  if (d) desk.value = d;
  const language = /** @type {HTMLSelectElement} */ ($('language'));
  const l = language.value;
  language.replaceChildren(...languages.map((x) => h('option', { value: x.tag }, languageName(x.tag))));
  if (l) language.value = l;
  fillInterpreters();
}

function fillInterpreters() {
  const select = /** @type {HTMLSelectElement} */ ($('interpreter'));
  const tag = value('language');
  const v = select.value;
  select.replaceChildren(
    h('option', { value: '' }, t('any_interpreter')),
    ...interpreters.filter((i) => i.languages.includes(tag)).map((i) => h('option', { value: String(i.id) }, i.login)),
  );
  if ([...select.options].some((o) => o.value === v)) select.value = v;
}
$('language').addEventListener('change', fillInterpreters);
$('specialist').addEventListener('change', () => {
  $('specialist-joins', HTMLSelectElement).disabled = value('specialist') === 'none';
});

/** The time of a slot in the page's language. */
function when(/** @type {number} */ ms, end = 0) {
  const lang = [document.documentElement.lang];
  const day = new Date(ms).toLocaleString(lang, { month: 'short', day: 'numeric', weekday: 'short', hour: '2-digit', minute: '2-digit' });
  return end ? `${day}–${new Date(end).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' })}` : day;
}

/** The links to send, each with a copy button. */
function showLinks(/** @type {any} */ links) {
  const dl = $('made-links');
  dl.replaceChildren();
  for (const [key, label] of [['resident_link', 'resident_link'], ['specialist_link', 'specialist_link']]) {
    const url = links[key];
    if (!url) continue;
    const copy = h('button', { type: 'button' }, t('copy'));
    copy.addEventListener('click', async () => {
      await navigator.clipboard?.writeText(url).catch(() => {});
      copy.textContent = t('copied');
    });
    dl.append(h('dt', {}, t(label)), h('dd', {}, h('a', { href: url, 'data-link': key }, url), ' ', copy));
  }
  $('made').hidden = false;
}

$('book-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!token) return;
  const start = new Date(`${value('date')}T${value('time')}`);
  const specialist = value('specialist');
  const interpreter = value('interpreter');
  const body = {
    desk: Number(value('desk')),
    language: value('language'),
    start: start.toISOString(),
    minutes: Number(value('minutes')),
    specialist,
    specialist_joins: specialist === 'none' ? 'counter' : value('specialist-joins'),
    resident: value('resident'),
    interpreter: interpreter ? Number(interpreter) : undefined,
    topic: value('topic') || undefined,
    intake_note: value('intake').trim() || undefined,
  };
  try {
    const made = await api('/api/bookings', { method: 'POST', token, body });
    const who = interpreters.find((i) => i.id === made.interpreter)?.login || `#${made.interpreter}`;
    $('made-what').textContent = t('made', { when: when(start.getTime()), language: languageName(body.language), interpreter: who });
    showLinks(made);
    notice(null);
    /** @type {HTMLTextAreaElement} */ ($('intake')).value = '';
    await load();
  } catch (err) {
    $('made').hidden = true;
    notice(t('refused', { m: sayError(err) }), 'error');
  }
});

function draw() {
  const tbody = /** @type {HTMLTableElement} */ ($('list')).tBodies[0];
  tbody.replaceChildren(
    ...bookings.map((b) => {
      const actions = h('td', {});
      if (b.resident === 'link' || b.specialist_joins === 'remote') {
        const relink = h('button', { type: 'button', 'data-action': 'relink' }, t('relink'));
        relink.addEventListener('click', async () => {
          if (!token) return;
          try {
            showLinks(await api(`/api/bookings/${b.id}/links`, { method: 'POST', token }));
            $('made-what').textContent = t('relinked', { when: when(b.start) });
          } catch (err) {
            notice(t('refused', { m: sayError(err) }), 'error');
          }
        });
        actions.append(relink, ' ');
      }
      const cancel = h('button', { type: 'button', class: 'danger', 'data-action': 'cancel' }, t('cancel'));
      cancel.addEventListener('click', async () => {
        if (!token || !confirm(t('cancel_confirm', { when: when(b.start) }))) return;
        try {
          await api(`/api/bookings/${b.id}`, { method: 'DELETE', token });
          await load();
        } catch (err) {
          notice(t('refused', { m: sayError(err) }), 'error');
        }
      });
      if (b.start > Date.now()) actions.append(moveControl(b, token, load), ' ');
      actions.append(cancel);
      const who = interpreters.find((i) => i.id === b.interpreter)?.login || (b.interpreter ? `#${b.interpreter}` : '—');
      const specialist = b.specialist === 'none' ? '—' : `${t(`sp_${b.specialist}`)}${b.specialist_joins === 'remote' ? ` (${t('remote')})` : ''}`;
      const resident = b.resident === 'counter' ? t('at_counter') : b.resident === 'link' ? t('by_link') : t('by_phone');
      return h(
        'tr',
        { 'data-booking': String(b.id) },
        h('td', {}, when(b.start, b.end)),
        h('td', {}, languageName(b.language)),
        h('td', {}, specialist),
        h('td', {}, b.desk_name),
        h('td', {}, who),
        h('td', {}, resident, b.created_by === 'resident:standing_link' ? h('span', { class: 'badge', text: t('from_standing') }) : ''),
        actions,
      );
    }),
  );
  $('none').hidden = bookings.length > 0;
  $('list').hidden = bookings.length === 0;
}

async function load() {
  if (!token) return;
  bookings = await api('/api/bookings', { token });
  draw();
}

async function start() {
  if (!token) {
    show('signin');
    return;
  }
  try {
    [desks, languages, interpreters] = await Promise.all([
      api('/api/desks', { token }),
      api('/api/languages', { token }),
      api('/api/interpreters', { token }),
    ]);
    await load();
  } catch (e) {
    if (/** @type {any} */ (e).status === 401) {
      token = null;
      sessionStorage.removeItem(TOKEN);
      show('signin');
    } else notice(t('failed', { m: sayError(e) }), 'error');
    return;
  }
  $('sign-out').hidden = false;
  fill();
  const tomorrow = new Date(Date.now() + 86400000);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  if (!value('date')) /** @type {HTMLInputElement} */ ($('date')).value = `${tomorrow.getFullYear()}-${pad(tomorrow.getMonth() + 1)}-${pad(tomorrow.getDate())}`;
  if (!value('time')) /** @type {HTMLInputElement} */ ($('time')).value = '10:00';
  $('specialist-joins', HTMLSelectElement).disabled = value('specialist') === 'none';
  show('bookings');
  void renderStanding(token, desks);
}

/** @type {any} */ (window).kk = { start, load };

setLanguage(localStorage.getItem(LANG) || 'ja');
void start();
