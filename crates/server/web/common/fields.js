// Small form fields the calendar editors share (the roster's and the centre's): a time,
// a date, a labelled checkbox, and the error shown beside a row.

import { h } from './ui.js';

/** @param {string} cls @param {string} value @param {string} label */
export const timeInput = (cls, value, label) => h('input', { type: 'time', class: cls, value, required: true, 'aria-label': label });
/** @param {string} cls @param {string} value @param {string} label */
export const dateInput = (cls, value, label) => h('input', { type: 'date', class: cls, value, required: true, 'aria-label': label });
/** @param {string} cls @param {string} value @param {boolean} checked @param {string} text */
export const check = (cls, value, checked, text) =>
  h('label', { class: 'inline' }, h('input', { type: 'checkbox', class: cls, value, checked }), ` ${text}`);
/** The error beside a row (`cls` names it for the editor that fills it). */
export const errorSpan = (cls = 'r-error') => h('span', { class: `field-error ${cls}`, role: 'alert' });
