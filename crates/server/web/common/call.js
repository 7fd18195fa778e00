// A call as every page shows it: our camera and microphone, the relay connection, a tile
// per participant (however many: `tiles.js`), the buttons (mute, camera, audio only,
// show a document) and documents both ways. The desk, the console and the resident's page
// differ only in which kind of participant is large and in their words.

import { CallMedia, localMedia } from './media.js';
import { DocumentReceiver, DocumentSender, prepareImage, showViewer } from './document.js';
import { t } from './i18n.js';
import { Tiles } from './tiles.js';
import { $, notice, setTile } from './ui.js';

/** @typedef {import('./protocol.js').Message} Message */
/** @typedef {import('./protocol.js').Party} Party */
/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').IceServer} IceServer */

/**
 * The string keys a page uses for what a call says.
 * @typedef {{ sending: string, sent: string, failed: string, noCamera: string, noMic: string,
 *   reconnecting: string, mute: string, unmute: string, cameraOff: string, cameraOn: string,
 *   actual: string, fit: string, audioOnly?: string, videoAgain?: string }} CallWords
 */

export class CallSession {
  /**
   * @param {object} o
   * @param {(command: Record<string, any>) => boolean} o.send signalling
   * @param {number | undefined} o.call desks and interpreters name their call; a resident has one
   * @param {IceServer[] | undefined} o.iceServers
   * @param {Party} o.large the kind of participant shown large
   * @param {string} o.waiting what the large tile says while nobody of that kind is there
   * @param {string} o.connecting what a participant's tile says until their media arrives
   * @param {{ participants: Participant[], you: number }} o.roster who is in the call now
   * @param {CallWords} o.words
   * @param {(state: import('./media.js').MediaState) => void} [o.onState]
   */
  constructor({ send, call, iceServers, large, waiting, connecting, roster, words, onState }) {
    this.send = send;
    this.call = call;
    this.iceServers = iceServers;
    this.tiles = new Tiles({ main: $('tiles-main'), side: $('tiles-side'), large, waiting, connecting });
    this.tiles.roster(roster.participants, roster.you);
    this.words = words;
    this.onState = onState || (() => {});
    /** @type {CallMedia | null} */
    this.media = null;
    this.sender = new DocumentSender(send, call);
    this.receiver = new DocumentReceiver((from, url) =>
      showViewer(url, { title: t('document_from', { who: t(from) }), close: t('close'), actual: t(words.actual), fit: t(words.fit) }),
    );
    this.muted = false;
    this.cameraOff = false;
    /** Video stopped by "audio only" (undone by the same button). */
    this.audioOnly = false;
    /** @type {{ muted: boolean, camera_off: boolean } | null} what the others were last told */
    this.told = null;
    this.saidReconnecting = false;
  }

  /**
   * Take the camera (unless `video` is false, or it cannot be had) and the microphone,
   * and connect. `local` is media the page has already taken (a device check).
   * @param {{ video: boolean, local?: MediaStream | null }} o
   */
  async start({ video, local }) {
    let stream = local || null;
    if (!stream) {
      const got = await localMedia({ video });
      stream = got.stream;
      if (got.problems.includes('microphone_denied') || got.problems.includes('microphone_missing')) notice(t(this.words.noMic), 'error');
      else if (got.problems.length) notice(t(this.words.noCamera), 'warn');
    }
    setTile($('tile-self'), stream, { self: true, label: t('you') });
    this.media = new CallMedia({
      send: this.send,
      call: this.call,
      local: stream,
      iceServers: this.iceServers,
      onRemote: (participant, s) => this.tiles.stream(participant, s),
      onState: (s) => {
        // Clear only our own word: a notice about the camera stays.
        if (s === 'reconnecting') {
          notice(t(this.words.reconnecting), 'warn');
          this.saidReconnecting = true;
        }
        if (s === 'connected' && this.saidReconnecting) {
          notice(null);
          this.saidReconnecting = false;
        }
        this.onState(s);
      },
    });
    this.sync();
    await this.media.start();
  }

  /** @param {'mute' | 'camera' | 'audio-only'} what */
  toggle(what) {
    if (what === 'mute') {
      this.muted = !this.muted;
      this.media?.setMuted(this.muted);
    } else if (what === 'camera') {
      this.cameraOff = !this.cameraOff;
      this.media?.setCamera(!this.cameraOff);
    } else if (this.audioOnly) {
      // Undo: the camera comes back into the same stream.
      void this.media?.videoAgain().then((ok) => {
        if (ok) {
          this.audioOnly = false;
          this.cameraOff = false;
        }
        this.sync();
      });
      return;
    } else {
      this.media?.audioOnly();
      this.audioOnly = true;
    }
    this.sync();
  }

  /** Tell the others what our microphone and camera do (their tiles show it). */
  tellMedia() {
    const hasVideo = !!this.media && this.media.local.getVideoTracks().length > 0;
    const state = { muted: this.muted, camera_off: this.cameraOff || this.audioOnly || !hasVideo };
    if (this.told && this.told.muted === state.muted && this.told.camera_off === state.camera_off) return;
    if (this.send({ type: 'media_state', call: this.call, ...state })) this.told = state;
  }

  /** The buttons' labels and states. */
  sync() {
    this.tellMedia();
    const w = this.words;
    const mute = document.getElementById('mute');
    if (mute) {
      mute.setAttribute('aria-pressed', String(this.muted));
      mute.textContent = t(this.muted ? w.unmute : w.mute);
    }
    const hasVideo = !!this.media && this.media.local.getVideoTracks().length > 0;
    const camera = document.getElementById('camera');
    if (camera) {
      camera.hidden = !hasVideo;
      camera.setAttribute('aria-pressed', String(this.cameraOff));
      camera.textContent = t(this.cameraOff ? w.cameraOn : w.cameraOff);
    }
    const audioOnly = document.getElementById('audio-only-now');
    if (audioOnly) {
      audioOnly.hidden = !hasVideo && !this.audioOnly;
      audioOnly.setAttribute('aria-pressed', String(this.audioOnly));
      if (w.audioOnly && w.videoAgain) audioOnly.textContent = t(this.audioOnly ? w.videoAgain : w.audioOnly);
    }
  }

  async showDocument() {
    const input = $('document-file', HTMLInputElement);
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    try {
      const { bytes, mime } = await prepareImage(file);
      await this.sender.send(bytes, mime, (f) => notice(t(this.words.sending, { pct: Math.round(f * 100) })));
      notice(t(this.words.sent));
    } catch {
      notice(t(this.words.failed), 'error');
    }
  }

  /**
   * A signalling event; true when it was the call's alone (media, documents). Who joins
   * and leaves updates the tiles and is the page's to tell too (false).
   * @param {Message} m
   */
  handle(m) {
    switch (m.type) {
      case 'participant_joined':
        this.tiles.joined(m.participant, m.party);
        return false;
      case 'participant_left':
        this.tiles.left(m.participant, m.reason || 'left');
        return false;
      case 'participant_media':
        this.tiles.media(m.participant, !!m.muted, !!m.camera_off);
        return true;
      case 'sdp':
        this.media?.handle(m);
        return true;
      case 'media_moved':
      // The relay that held the call's media is gone (a new leg, to another one), or our
      // leg did not connect and the relay dropped it (a new leg, which usually does).
      case 'media_failed':
        this.media?.restart();
        return true;
      case 'document':
        this.receiver.handle(m);
        return true;
      case 'document_passed':
        this.sender.handle(m);
        return true;
      case 'error':
        if (m.code === 'rate_limited' && this.sender.current) {
          this.sender.handle(m);
          return true;
        }
        return false;
      default:
        return false;
    }
  }

  /** The signalling connection came back: make a new leg if ours did not survive. */
  resumed() {
    if (this.media && !this.media.connected()) this.media.restart();
  }

  /**
   * Who is in the call again (a resumed connection's `joined`).
   * @param {Participant[]} participants
   * @param {number} you
   */
  roster(participants, you) {
    this.tiles.roster(participants, you);
    // Back in (a new seat keeps no state): tell the others again.
    this.told = null;
    this.tellMedia();
  }

  /**
   * What arrives from each participant, by kind (`resident`, `resident-2` for a second
   * one): for the tests and the quality hint.
   * @returns {Promise<Record<string, { audioPackets: number, videoFrames: number }>>}
   */
  async received() {
    const by = (await this.media?.received()) || new Map();
    const keys = this.tiles.keys();
    /** @type {Record<string, { audioPackets: number, videoFrames: number }>} */
    const out = {};
    for (const [id, r] of by) {
      const key = keys.get(id);
      if (key) out[key] = r;
    }
    return out;
  }

  /**
   * Each participant's stream, by kind as in `received`.
   * @returns {[string, MediaStream][]}
   */
  remoteByKind() {
    const keys = this.tiles.keys();
    /** @type {[string, MediaStream][]} */
    const out = [];
    for (const [id, stream] of this.media?.remote || []) {
      const key = keys.get(id);
      if (key) out.push([key, stream]);
    }
    return out;
  }

  /** Leave: release the devices and clear the tiles. */
  stop() {
    this.media?.stop();
    this.media = null;
    this.tiles.clear();
    document.getElementById('tile-self')?.querySelector('video')?.remove();
  }
}

/**
 * Wire the call buttons a page has (ids `mute`, `camera`, `audio-only-now`,
 * `show-document` with the file input `document-file`) to whichever call is live.
 * @param {() => CallSession | null} current
 */
export function bindCallControls(current) {
  const on = (/** @type {string} */ id, /** @type {() => void} */ f) => document.getElementById(id)?.addEventListener('click', f);
  on('mute', () => current()?.toggle('mute'));
  on('camera', () => current()?.toggle('camera'));
  on('audio-only-now', () => current()?.toggle('audio-only'));
  on('show-document', () => $('document-file').click());
  $('document-file').addEventListener('change', () => void current()?.showDocument());
}
