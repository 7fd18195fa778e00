// The order of a tenant's desks' language grid, as its coordinator sets it: languages
// pinned to the front, in order (moved up and down, removed, added from the catalogue by
// name); every other language follows by how often it was answered.

import { languageName, t } from '../common/i18n.js';
import { h } from '../common/ui.js';

/**
 * Fill `root` with an editor of `pinned`, offering the catalogue's `languages`; read it
 * back with `readPins`.
 * @param {HTMLElement} root
 * @param {string[]} pinned
 * @param {string[]} languages
 */
export function renderPins(root, pinned, languages) {
  const list = h('ol', { id: 'pins-list', class: 'pins' });
  const name = (/** @type {string} */ tag) => `${languageName(tag, tag)} / ${languageName(tag)}`;
  const item = (/** @type {string} */ tag) => {
    const li = h('li', { 'data-tag': tag }, h('span', { text: name(tag) }));
    const move = (/** @type {number} */ by) => {
      const to = by < 0 ? li.previousElementSibling : li.nextElementSibling?.nextElementSibling || null;
      if (by < 0 && !to) return;
      list.insertBefore(li, to);
    };
    li.append(
      h('button', { type: 'button', class: 'up', 'aria-label': `${t('pins_up')}: ${name(tag)}`, onclick: () => move(-1), text: '↑' }),
      h('button', { type: 'button', class: 'down', 'aria-label': `${t('pins_down')}: ${name(tag)}`, onclick: () => move(1), text: '↓' }),
      h('button', { type: 'button', class: 'remove', 'aria-label': `${t('pins_remove')}: ${name(tag)}`, onclick: () => li.remove(), text: '×' }),
    );
    return li;
  };
  for (const tag of pinned) list.append(item(tag));
  const choose = /** @type {HTMLSelectElement} */ (h('select', { id: 'pins-add' }, ...languages.map((tag) => h('option', { value: tag }, name(tag)))));
  const add = h('button', { type: 'button', id: 'pins-add-button', text: t('pins_add'), onclick: () => {
    if (!readPins(root).includes(choose.value)) list.append(item(choose.value));
  } });
  root.replaceChildren(
    h('p', { class: 'muted', text: t('pins_help') }),
    list,
    h('div', { class: 'row' }, h('label', { for: 'pins-add', class: 'sr-heading', text: t('pins_add') }), choose, add),
  );
}

/**
 * The pinned languages, in order.
 * @param {HTMLElement} root
 */
export function readPins(root) {
  return [...root.querySelectorAll('#pins-list li')].map((li) => li.getAttribute('data-tag') || '');
}
