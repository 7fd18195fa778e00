// Every page's strings: each language has every key English has, with the same
// placeholders, and no string is empty. Runs in Node, no browser.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, test } from './harness.js';

const WEB = path.join(ROOT, 'crates/server/web');
const placeholders = (/** @type {string} */ s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/**
 * @param {string} what
 * @param {Record<string, Record<string, string>>} tables
 */
function complete(what, tables) {
  const en = tables.en;
  assert.ok(en, `${what}: an English table`);
  for (const [lang, table] of Object.entries(tables)) {
    assert.deepEqual(Object.keys(table).sort(), Object.keys(en).sort(), `${what} ${lang}: the same keys as English`);
    for (const [key, value] of Object.entries(table)) {
      assert.ok(value.trim(), `${what} ${lang}.${key} is empty`);
      assert.deepEqual(placeholders(value), placeholders(en[key]), `${what} ${lang}.${key}: placeholders`);
    }
  }
}

test("the resident page is written in every language the desks offer (28, easy Japanese and Japanese)", async () => {
  const dir = path.join(WEB, 'join/i18n');
  /** @type {Record<string, Record<string, string>>} */
  const tables = {};
  for (const f of fs.readdirSync(dir)) tables[f.replace(/\.js$/, '')] = (await import(pathToFileURL(path.join(dir, f)).href)).default;
  const langs = Object.keys(tables).sort();
  for (const l of ['pt', 'en', 'zh', 'id', 'es', 'vi', 'fil', 'ko', 'th', 'ne', 'ru', 'fr', 'hi', 'km', 'my', 'ms', 'uk', 'mn', 'si', 'bn', 'ur', 'fa', 'tr', 'ar', 'uz', 'lo', 'ta', 'de', 'ja-x-easy', 'ja']) {
    assert.ok(langs.includes(l), `join/i18n/${l}.js`);
  }
  complete('join', tables);
  // The page's own list of languages matches the files.
  const join = fs.readFileSync(path.join(WEB, 'join/languages.js'), 'utf8');
  const written = JSON.parse(join.match(/const WRITTEN = (\[[^\]]*\])/)?.[1].replace(/'/g, '"') || '[]').sort();
  assert.deepEqual(written, langs);
});

test('the desk, console, wallboard and reports speak Japanese and English alike', async () => {
  for (const page of ['desk', 'interpreter', 'wall', 'reports', 'bookings']) {
    const { STRINGS } = await import(pathToFileURL(path.join(WEB, page, 'strings.js')).href);
    assert.deepEqual(Object.keys(STRINGS).sort(), ['en', 'ja']);
    complete(page, STRINGS);
  }
  const { ROSTER_STRINGS } = await import(pathToFileURL(path.join(WEB, 'common/roster-strings.js')).href);
  assert.deepEqual(Object.keys(ROSTER_STRINGS).sort(), ['en', 'ja']);
  complete('roster calendar', ROSTER_STRINGS);
});

test('every data-t key of a page has a string', async () => {
  for (const [page, source] of [['desk', 'desk/strings.js'], ['interpreter', 'interpreter/strings.js'], ['wall', 'wall/strings.js'], ['reports', 'reports/strings.js'], ['bookings', 'bookings/strings.js'], ['join', 'join/i18n/en.js'], ['start', 'join/i18n/en.js']]) {
    const mod = await import(pathToFileURL(path.join(WEB, source)).href);
    const en = mod.STRINGS ? mod.STRINGS.en : mod.default;
    const html = fs.readFileSync(path.join(WEB, page, 'index.html'), 'utf8');
    for (const m of html.matchAll(/data-t(?:-label|-placeholder)?="([^"]+)"/g)) assert.ok(m[1] in en, `${page}/index.html uses ${m[1]}`);
  }
});
