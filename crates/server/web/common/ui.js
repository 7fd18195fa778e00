// Small DOM helpers shared by the pages.

/**
 * The element with this id; a missing one is a bug in the page.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} [type]
 * @returns {T}
 */
export function $(id, type) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no #${id}`);
  if (type && !(el instanceof type)) throw new Error(`#${id} is not a ${type.name}`);
  return /** @type {T} */ (el);
}

/**
 * Make an element: `h('button', {class: 'big', onclick: f}, 'text', child)`.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = String(v);
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/**
 * Show one screen (a `<section class="screen">`) and hide the others; focus its heading
 * so screen readers announce the change.
 * @param {string} id
 */
export function show(id) {
  for (const s of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('section.screen'))) {
    const on = s.id === id;
    s.hidden = !on;
    if (on) {
      const heading = s.querySelector('h1, h2');
      if (heading instanceof HTMLElement) {
        heading.tabIndex = -1;
        heading.focus({ preventScroll: true });
      }
    }
  }
  document.body.dataset.screen = id;
}

/**
 * A message in the page's live region (announced by screen readers); `null` clears it.
 * @param {string | null} text
 * @param {'info' | 'warn' | 'error'} [kind]
 */
export function notice(text, kind = 'info') {
  const el = document.getElementById('notice');
  if (!el) return;
  el.hidden = !text;
  el.textContent = text || '';
  el.className = `notice ${kind}`;
}

/**
 * Minutes and seconds: `3:07`, or `1:02:03`.
 * @param {number} secs
 */
export function clock(secs) {
  const s = Math.max(0, Math.floor(secs));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/**
 * JSON over HTTP with a bearer token; throws an Error whose message is the server's, with
 * its `status`, `code` and (for a field that is wrong) `problem`.
 * @param {string} path
 * @param {{ method?: string, token?: string | null, body?: any }} [o]
 * @returns {Promise<any>}
 */
export async function api(path, { method = 'GET', token, body } = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  /** @type {any} */
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!r.ok) {
    const e = new Error(json?.error?.message || `${r.status}`);
    /** @type {any} */ (e).status = r.status;
    /** @type {any} */ (e).code = json?.error?.code;
    /** @type {any} */ (e).problem = json?.error?.problem;
    throw e;
  }
  return json;
}

/**
 * A video element for a stream: muted for our own view (no echo), playing inline.
 * @param {MediaStream} stream
 * @param {{ self?: boolean, label?: string }} [o]
 */
export function videoOf(stream, { self = false, label } = {}) {
  const v = /** @type {HTMLVideoElement} */ (h('video', { autoplay: true, playsinline: true, 'aria-label': label }));
  v.muted = self;
  v.srcObject = stream;
  void v.play().catch(() => {});
  return v;
}

/**
 * Keep the element a tile shows for one party: replaced when the stream changes.
 * @param {HTMLElement} tile
 * @param {MediaStream} stream
 * @param {{ self?: boolean, label?: string }} [o]
 */
export function setTile(tile, stream, o) {
  const old = tile.querySelector('video');
  if (old instanceof HTMLVideoElement && old.srcObject === stream) {
    void old.play().catch(() => {});
    return old;
  }
  const v = videoOf(stream, o);
  if (old) old.replaceWith(v);
  else tile.prepend(v);
  tile.hidden = false;
  return v;
}

/**
 * The call screen's line of facts: what it is about (the language, and for the
 * interpreter the municipality and desk) and how long it has run, ticking every second
 * until `stop()`.
 * @param {HTMLElement} el
 * @param {string} about
 * @param {number} since ms since the epoch
 * @returns {{ stop: () => void }}
 */
export function callInfo(el, about, since) {
  const tick = () => {
    el.textContent = `${about} · ${clock((Date.now() - since) / 1000)}`;
  };
  tick();
  const timer = setInterval(tick, 1000);
  return { stop: () => clearInterval(timer) };
}
