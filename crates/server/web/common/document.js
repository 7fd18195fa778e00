// Showing a document: a photo (a residence card, a letter) goes to the others in the call
// in parts over the signalling connection. The server passes each part on and keeps
// nothing; the receivers put it together in memory and show it until it is closed.

/** @typedef {import('./protocol.js').DocumentMime} DocumentMime */
/** @typedef {import('./protocol.js').Party} Party */
/** @typedef {import('./protocol.js').Message} Message */

/** Bytes of image per part: base64 makes 60,000 characters, under the frame limit. */
const PART_BYTES = 45000;
/** Parts in flight before waiting for the server to pass them on. */
const WINDOW = 6;
/** The most parts a document has (the server's limit). */
const MAX_PARTS = 200;
/** Longest side of a re-encoded photo, pixels: still sharp enough to read small print. */
const MAX_SIDE = 4096;

/** @param {Uint8Array} bytes */
function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * A photo as bytes the server takes: JPEG, PNG or WebP under 200 parts. Other images
 * (HEIC from an iPhone's gallery) and very large ones are re-encoded as JPEG.
 * @param {Blob} file
 * @returns {Promise<{ bytes: Uint8Array, mime: DocumentMime }>}
 */
export async function prepareImage(file) {
  const known = ['image/jpeg', 'image/png', 'image/webp'];
  if (known.includes(file.type) && file.size <= PART_BYTES * MAX_PARTS) {
    return { bytes: new Uint8Array(await file.arrayBuffer()), mime: /** @type {DocumentMime} */ (file.type) };
  }
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no canvas');
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  for (const quality of [0.9, 0.8, 0.65]) {
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
    if (blob instanceof Blob && blob.size <= PART_BYTES * MAX_PARTS) {
      return { bytes: new Uint8Array(await blob.arrayBuffer()), mime: 'image/jpeg' };
    }
  }
  throw new Error('too large');
}

/** Sends documents, a window of parts at a time, again when the server says to wait. */
export class DocumentSender {
  /**
   * @param {(command: Record<string, any>) => boolean} send
   * @param {number | undefined} call
   */
  constructor(send, call) {
    this.sendCommand = send;
    this.call = call;
    this.nextId = 1;
    /** @type {{ id: number, parts: string[], mime: DocumentMime, acked: Set<number>, next: number,
     *   inFlight: Set<number>, resolve: () => void, reject: (e: Error) => void,
     *   onProgress: (f: number) => void, timer?: ReturnType<typeof setTimeout> } | null} */
    this.current = null;
    /** Retries since a part was last passed on. */
    this.attempts = 0;
  }

  /**
   * Send one image; resolves when every part has been passed on.
   * @param {Uint8Array} bytes
   * @param {DocumentMime} mime
   * @param {(fraction: number) => void} [onProgress]
   * @returns {Promise<void>}
   */
  send(bytes, mime, onProgress = () => {}) {
    if (this.current) return Promise.reject(new Error('busy'));
    /** @type {string[]} */
    const parts = [];
    for (let i = 0; i < bytes.length; i += PART_BYTES) parts.push(base64(bytes.subarray(i, i + PART_BYTES)));
    if (!parts.length || parts.length > MAX_PARTS) return Promise.reject(new Error('too large'));
    return new Promise((resolve, reject) => {
      this.current = { id: this.nextId++, parts, mime, acked: new Set(), next: 0, inFlight: new Set(), resolve, reject, onProgress };
      this.pump();
    });
  }

  pump() {
    const c = this.current;
    if (!c) return;
    while (c.inFlight.size < WINDOW && c.next < c.parts.length) {
      const part = c.next++;
      if (c.acked.has(part)) continue;
      c.inFlight.add(part);
      this.sendPart(part);
    }
    clearTimeout(c.timer);
    // Nothing heard for a while (a drop, a refusal): send what is unanswered again.
    c.timer = setTimeout(() => this.retry(), 4000);
  }

  /** @param {number} part */
  sendPart(part) {
    const c = this.current;
    if (!c) return;
    /** @type {Record<string, any>} */
    const cmd = { type: 'document', document: { id: c.id, part, parts: c.parts.length, mime: c.mime, data: c.parts[part] } };
    if (this.call !== undefined) cmd.call = this.call;
    if (!this.sendCommand(cmd)) c.inFlight.delete(part);
  }

  retry() {
    const c = this.current;
    if (!c) return;
    if (++this.attempts > 20) {
      this.current = null;
      c.reject(new Error('not passed on'));
      return;
    }
    c.inFlight.clear();
    c.next = 0;
    this.pump();
  }

  /**
   * The server's word on a part: passed on, or refused for now.
   * @param {Message} m
   */
  handle(m) {
    const c = this.current;
    if (!c) return;
    if (m.type === 'document_passed' && m.id === c.id) {
      c.inFlight.delete(m.part);
      c.acked.add(m.part);
      this.attempts = 0;
      c.onProgress(c.acked.size / c.parts.length);
      if (c.acked.size === c.parts.length) {
        clearTimeout(c.timer);
        this.current = null;
        c.resolve();
        return;
      }
      this.pump();
    } else if (m.type === 'error' && m.code === 'rate_limited') {
      // The others are still receiving: wait a little, then resend what is unanswered.
      clearTimeout(c.timer);
      c.timer = setTimeout(() => this.retry(), 300);
    }
  }
}

/** Puts received parts together; one document per sender and number. */
export class DocumentReceiver {
  /** @param {(from: Party, url: string, mime: string) => void} onDocument */
  constructor(onDocument) {
    this.onDocument = onDocument;
    /** @type {Map<string, { parts: (Uint8Array | undefined)[], got: number, mime: string, at: number }>} */
    this.partial = new Map();
    /** @type {Blob | null} the latest document, while it is shown (the tests read it) */
    this.last = null;
  }

  /** @param {Message} m a `document` event */
  handle(m) {
    if (m.type !== 'document') return;
    const d = m.document;
    const key = `${m.from}:${d.id}`;
    const now = Date.now();
    for (const [k, p] of this.partial) if (now - p.at > 120000) this.partial.delete(k);
    let p = this.partial.get(key);
    if (!p) {
      p = { parts: new Array(d.parts), got: 0, mime: d.mime, at: now };
      this.partial.set(key, p);
    }
    if (d.part >= p.parts.length || p.parts[d.part]) return;
    const raw = atob(d.data);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    p.parts[d.part] = bytes;
    p.got++;
    p.at = now;
    if (p.got === p.parts.length) {
      this.partial.delete(key);
      const blob = new Blob(/** @type {BlobPart[]} */ (/** @type {unknown} */ (p.parts)), { type: p.mime });
      this.last = blob;
      this.onDocument(m.from, URL.createObjectURL(blob), p.mime);
    }
  }
}

/**
 * Show a received document over the page until closed; closing frees it.
 * @param {string} url an object URL
 * @param {{ title: string, close: string, actual: string, fit: string }} labels
 */
export function showViewer(url, labels) {
  const img = document.createElement('img');
  img.src = url;
  img.alt = labels.title;
  const zoom = document.createElement('button');
  zoom.type = 'button';
  zoom.textContent = labels.actual;
  const toggle = () => {
    const actual = img.classList.toggle('actual');
    zoom.textContent = actual ? labels.fit : labels.actual;
  };
  img.addEventListener('click', toggle);
  zoom.addEventListener('click', toggle);
  const close = document.createElement('button');
  close.type = 'button';
  close.textContent = labels.close;
  const title = document.createElement('span');
  title.className = 'grow';
  title.textContent = labels.title;
  const bar = document.createElement('div');
  bar.className = 'bar';
  bar.append(title, zoom, close);
  const body = document.createElement('div');
  body.className = 'image';
  body.append(img);
  const viewer = document.createElement('div');
  viewer.className = 'viewer';
  viewer.setAttribute('role', 'dialog');
  viewer.setAttribute('aria-modal', 'true');
  viewer.setAttribute('aria-label', labels.title);
  viewer.append(bar, body);
  const done = () => {
    viewer.remove();
    URL.revokeObjectURL(url);
    document.removeEventListener('keydown', onKey);
  };
  /** @param {KeyboardEvent} e */
  const onKey = (e) => {
    if (e.key === 'Escape') done();
  };
  close.addEventListener('click', done);
  document.addEventListener('keydown', onKey);
  document.body.append(viewer);
  close.focus();
  return done;
}
