// Strings by language. A page loads its table and marks elements with `data-t` (text),
// `data-t-label` (aria-label and title) or `data-t-placeholder`; `t()` looks up one
// string, with `{name}` filled in. A missing string falls back to English.

/** @typedef {Record<string, string>} Strings */

/** @type {Strings} */
let current = {};
/** @type {Strings} */
let fallback = {};
let currentLang = 'en';

/**
 * Use these strings (and these for anything missing).
 * @param {string} lang BCP 47 tag of the page
 * @param {Strings} strings
 * @param {Strings} [english]
 */
export function use(lang, strings, english) {
  currentLang = lang;
  current = strings;
  fallback = english || {};
  document.documentElement.lang = lang === 'ja-x-easy' ? 'ja' : lang;
  document.documentElement.dir = ['ar', 'fa', 'ur'].includes(lang) ? 'rtl' : 'ltr';
}

/** The page's language. */
export function lang() {
  return currentLang;
}

/**
 * One string.
 * @param {string} key
 * @param {Record<string, string | number>} [vars]
 */
export function t(key, vars) {
  let s = current[key] ?? fallback[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

/**
 * A server error in the page's language: its code's own string (`err_<code>`, with the
 * server's message as `{m}` where the string wants the detail), else the message.
 * @param {string | undefined} code
 * @param {string} message
 */
export function errorText(code, message) {
  const key = `err_${code}`;
  return key in current || key in fallback ? t(key, { m: message }) : message;
}

/**
 * Fill every marked element under `root`.
 * @param {ParentNode} [root]
 */
export function apply(root = document) {
  for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.getAttribute('data-t') || '');
  for (const el of root.querySelectorAll('[data-t-label]')) {
    const s = t(el.getAttribute('data-t-label') || '');
    el.setAttribute('aria-label', s);
    el.setAttribute('title', s);
  }
  for (const el of root.querySelectorAll('[data-t-placeholder]')) {
    el.setAttribute('placeholder', t(el.getAttribute('data-t-placeholder') || ''));
  }
}

/**
 * A language's name in the page's language, from the browser (no table to ship).
 * @param {string} tag
 * @param {string} [inLang]
 */
export function languageName(tag, inLang = currentLang) {
  const base = tag === 'ja-x-easy' ? 'ja' : tag;
  try {
    const name = new Intl.DisplayNames([inLang === 'ja-x-easy' ? 'ja' : inLang], { type: 'language' }).of(base);
    if (tag === 'ja-x-easy') return inLang.startsWith('ja') ? 'やさしい日本語' : 'Easy Japanese';
    return name || tag;
  } catch {
    return tag;
  }
}
