// A centre's standing link (`/start/<municipality>`, ADR 0019): on a poster, the city's
// web page or Messenger. The resident picks their language among every language the
// desks offer, by its own name; the page then speaks it: whether an interpreter can be
// had now, later today or by booking, the centre's hours, and the free half hours to
// book. Booked, it opens the resident's own link, which shows the slot (with a calendar
// file) until the consultation begins. No account, no phone number.

import { apply, lang, t } from '../common/i18n.js';
import { $, h, notice, show } from '../common/ui.js';
import { LAST_LANGUAGE, browserLanguage, remember, residentStrings } from '../join/languages.js';

const tenant = Number(location.pathname.split('/').filter(Boolean).pop());

const state = {
  /** @type {any} `GET /api/centres/…` */
  centre: null,
  /** The consultation's language. */
  language: '',
  /** @type {string | null} the chosen slot's start */
  slot: null,
};

/** @param {string} tag */
async function strings(tag) {
  await residentStrings(tag);
  document.title = t('s_title');
  apply();
}

/** The page's locale for dates (easy Japanese reads Japanese dates). */
const locale = () => (lang() === 'ja-x-easy' ? 'ja' : lang());

/** @param {string} iso @param {Intl.DateTimeFormatOptions} o */
function when(iso, o) {
  try {
    return new Date(iso).toLocaleString([locale()], { timeZone: state.centre?.time_zone, ...o });
  } catch {
    return new Date(iso).toLocaleString();
  }
}

function languageGrid() {
  const mine = localStorage.getItem(LAST_LANGUAGE) || browserLanguage();
  const languages = /** @type {any[]} */ (state.centre.languages);
  // The phone's own language first, then the centre's order.
  const sorted = [...languages].sort((a, b) => Number(b.tag === mine) - Number(a.tag === mine));
  $('language-grid').replaceChildren(...sorted.map((l) =>
    h('button', { type: 'button', lang: l.tag, 'data-language': l.tag, onclick: () => void choose(l.tag) }, h('span', { class: 'native', text: l.native }))));
  show('languages');
}

/** @param {string} tag */
async function choose(tag) {
  state.language = tag;
  remember(tag);
  await strings(tag);
  renderCentre();
}

function renderCentre() {
  const c = state.centre;
  const l = c.languages.find((/** @type {any} */ x) => x.tag === state.language);
  $('centre-of').textContent = c.name;
  const line = !l ? t('s_unavailable')
    : l.state === 'now' ? t('s_now')
      : l.state === 'later_today' && l.from ? t('s_later', { time: when(l.from, { hour: '2-digit', minute: '2-digit' }) })
        : l.state === 'booking' ? t('s_by_booking') : t('s_unavailable');
  $('language-state').textContent = line;
  $('book').hidden = !c.bookable || !l || l.state === 'phone';
  // Talk now: the online desk is open and someone can take the language.
  $('talk-now').hidden = !c.bookable || !c.open_now || l?.state !== 'now';
  $('no-online').hidden = c.bookable;
  $('open-now').hidden = !c.open_now;
  $('hours').replaceChildren(...c.days.slice(0, 7).map((/** @type {any} */ d) => {
    const day = when(`${d.date}T12:00:00Z`, { weekday: 'short', month: 'short', day: 'numeric', timeZone: 'UTC' });
    const hours = d.open.length ? d.open.map((/** @type {string[]} */ w) => `${w[0]}–${w[1]}`).join(', ') : t('s_closed');
    return h('li', {}, h('strong', { text: day }), ` ${hours}`);
  }));
  show('centre');
}

async function loadTimes() {
  notice(null);
  state.slot = null;
  $('confirm', HTMLButtonElement).disabled = true;
  $('confirm').textContent = t('s_book');
  let slots = [];
  try {
    const r = await fetch(`/api/centres/${tenant}/slots?language=${encodeURIComponent(state.language)}`);
    if (!r.ok) throw new Error(String(r.status));
    slots = await r.json();
  } catch {
    show('unreachable');
    return;
  }
  $('no-times').hidden = slots.length > 0;
  $('slot-list').replaceChildren(...slots.map((/** @type {any} */ s) => {
    const label = when(s.start, { weekday: 'long', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    return h('label', { class: 'card slot' },
      h('input', { type: 'radio', name: 'slot', value: s.start, onchange: () => {
        state.slot = s.start;
        $('confirm', HTMLButtonElement).disabled = false;
        $('confirm').textContent = t('s_confirm', { time: label });
      } }), ` ${label}`);
  }));
  show('times');
}

async function confirm() {
  if (!state.slot) return;
  $('confirm', HTMLButtonElement).disabled = true;
  try {
    const r = await fetch(`/api/centres/${tenant}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ language: state.language, start: state.slot }),
    });
    if (!r.ok) throw new Error(String(r.status));
    const { link } = await r.json();
    // Their own link: it shows the slot in their language until it begins.
    location.assign(new URL(link, location.href).pathname);
  } catch {
    notice(t('s_failed'), 'error');
    await loadTimes();
  }
}

/** Wait for an interpreter now at the online desk: the resident's own link shows their place. */
async function talkNow() {
  $('talk-now', HTMLButtonElement).disabled = true;
  try {
    const r = await fetch(`/api/centres/${tenant}/queue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ language: state.language }),
    });
    if (!r.ok) throw new Error(String(r.status));
    const { link } = await r.json();
    location.assign(new URL(link, location.href).pathname);
  } catch {
    notice(t('s_unavailable'), 'warn');
    $('talk-now').hidden = true;
  } finally {
    $('talk-now', HTMLButtonElement).disabled = false;
  }
}

async function start() {
  try {
    const r = await fetch(`/api/centres/${tenant}`);
    if (!r.ok) throw new Error(String(r.status));
    state.centre = await r.json();
  } catch {
    await strings(browserLanguage()).catch(() => {});
    show('unreachable');
    return;
  }
  await strings(browserLanguage());
  $('centre-name').textContent = state.centre.name;
  languageGrid();
}

$('book').addEventListener('click', () => void loadTimes());
$('talk-now').addEventListener('click', () => void talkNow());
$('confirm').addEventListener('click', () => void confirm());
$('times-back').addEventListener('click', () => renderCentre());
$('other-language').addEventListener('click', () => languageGrid());
$('retry').addEventListener('click', () => location.reload());
void start();
