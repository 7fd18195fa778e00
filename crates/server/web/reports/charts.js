// Bar charts drawn here as SVG (no library, nothing from a CDN): each an image with a
// label that says what it shows, each bar with a title giving its value.

const SVG = 'http://www.w3.org/2000/svg';

/**
 * @param {string} name
 * @param {Record<string, string | number>} attrs
 * @param {string} [text]
 */
function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * @typedef {{ label: string, value: number, rest?: number }} Bar
 * `value` is drawn dark; `rest` (when given) is drawn light after it, as in "answered,
 * then not answered".
 */

/**
 * Bars side by side, one per item (hours, weekdays).
 * @param {Bar[]} bars
 * @param {string} title what the chart shows (its accessible name)
 */
export function columns(bars, title) {
  const W = 720, H = 220, L = 40, B = 28, T = 10, R = 8;
  const top = Math.max(1, ...bars.map((b) => b.value + (b.rest || 0)));
  const w = (W - L - R) / Math.max(1, bars.length);
  const y = (/** @type {number} */ v) => H - B - (v / top) * (H - B - T);
  const root = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, class: 'chart' });
  root.append(el('title', {}, title));
  for (const v of ticks(top)) {
    root.append(el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: '#ddd' }));
    root.append(el('text', { x: L - 4, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 13, fill: '#444' }, String(v)));
  }
  bars.forEach((b, i) => {
    const x = L + i * w + w * 0.12;
    const bar = el('rect', { x, y: y(b.value), width: w * 0.76, height: H - B - y(b.value), fill: '#0a4a94', 'data-label': b.label, 'data-value': b.value });
    bar.append(el('title', {}, `${b.label}: ${b.value}`));
    root.append(bar);
    if (b.rest) root.append(el('rect', { x, y: y(b.value + b.rest), width: w * 0.76, height: y(b.value) - y(b.value + b.rest), fill: '#9bb7d9' }));
    if (bars.length <= 12 || i % 2 === 0) {
      root.append(el('text', { x: x + w * 0.38, y: H - 10, 'text-anchor': 'middle', 'font-size': 13, fill: '#444' }, b.label));
    }
  });
  return root;
}

/**
 * Bars one under another, labelled at the left (languages, topics).
 * @param {Bar[]} bars
 * @param {string} title
 */
export function rows(bars, title) {
  const W = 720, row = 24, L = 170, R = 60, T = 6;
  const H = T * 2 + row * Math.max(1, bars.length);
  const top = Math.max(1, ...bars.map((b) => b.value + (b.rest || 0)));
  const x = (/** @type {number} */ v) => (v / top) * (W - L - R);
  const root = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, class: 'chart' });
  root.append(el('title', {}, title));
  bars.forEach((b, i) => {
    const y = T + i * row;
    root.append(el('text', { x: L - 8, y: y + row * 0.68, 'text-anchor': 'end', 'font-size': 14, fill: '#222' }, b.label));
    const bar = el('rect', { x: L, y: y + 3, width: Math.max(1, x(b.value)), height: row - 6, fill: '#0a4a94', 'data-label': b.label, 'data-value': b.value });
    bar.append(el('title', {}, `${b.label}: ${b.value}`));
    root.append(bar);
    if (b.rest) root.append(el('rect', { x: L + x(b.value), y: y + 3, width: x(b.rest), height: row - 6, fill: '#9bb7d9' }));
    const total = b.value + (b.rest || 0);
    root.append(el('text', { x: L + x(total) + 6, y: y + row * 0.68, 'font-size': 14, fill: '#222' }, String(total)));
  });
  return root;
}

/**
 * Round gridline values up to `top`.
 * @param {number} top
 */
function ticks(top) {
  const step = Math.pow(10, Math.floor(Math.log10(top)));
  const nice = top / step > 5 ? step * 2 : top / step > 2 ? step : step / 2;
  const out = [];
  for (let v = 0; v <= top; v += Math.max(1, nice)) out.push(Math.round(v));
  return out;
}
