// The languages the resident's pages are written in, loading one's strings, and the
// language this phone reads consultations in: the join page and a centre's standing link
// (start/) share them.

import { use } from '../common/i18n.js';

/** The languages the pages are written in; others read English. */
export const WRITTEN = ['en', 'ja', 'ja-x-easy', 'pt', 'zh', 'id', 'es', 'vi', 'fil', 'ko', 'th', 'ne', 'ru', 'fr', 'hi', 'km', 'my', 'ms', 'uk', 'mn', 'si', 'bn', 'ur', 'fa', 'tr', 'ar', 'uz', 'lo', 'ta', 'de'];

/** The language this phone last read a consultation in (kept on the phone only), for a
 * link that no longer works and so cannot say its own. */
export const LAST_LANGUAGE = 'kk-join-language';

/**
 * Use the strings of `tag` (or its base language, or English), English for anything
 * missing.
 * @param {string} tag
 */
export async function residentStrings(tag) {
  const pick = WRITTEN.includes(tag) ? tag : WRITTEN.find((w) => tag.split('-')[0] === w) || 'en';
  const [mine, english] = await Promise.all([
    import(`./i18n/${pick}.js`).then((m) => m.default),
    pick === 'en' ? Promise.resolve(null) : import('./i18n/en.js').then((m) => m.default),
  ]);
  use(pick, mine, english || mine);
}

/** The browser's own language, among those written. */
export function browserLanguage() {
  for (const l of navigator.languages || [navigator.language]) {
    const tag = l.toLowerCase();
    const found = WRITTEN.find((w) => tag === w || tag.split('-')[0] === w);
    if (found) return found;
  }
  return 'en';
}

/** Remember the language this phone reads consultations in. */
export function remember(/** @type {string} */ tag) {
  try {
    localStorage.setItem(LAST_LANGUAGE, tag);
  } catch {
    // Storage refused (private mode): a dead link then reads in the browser's language.
  }
}
