// One WebSocket to the server, kept alive: the hello with its credential, the welcome,
// heartbeats both ways, and, when the connection drops, reconnecting with the resume
// token within the server's grace period so a waiting request keeps its place and a
// call stays up.

import { CLOSE_REPLACED, FATAL_CODES, PROTOCOL } from './protocol.js';

/** @typedef {import('./protocol.js').Message} Message */
/** @typedef {import('./protocol.js').Welcome} Welcome */

/**
 * The connection's state, for the page to show:
 * - `connecting`: the first attempt;
 * - `open`: welcomed;
 * - `reconnecting`: dropped, trying again (the session is held for us);
 * - `lost`: the server stayed unreachable past the grace period;
 * - `refused`: the credential or the version was refused (`error` says which);
 * - `replaced`: another connection took the session (the same link or account opened
 *   elsewhere); it does not reconnect;
 * - `closed`: we closed it.
 * @typedef {'connecting' | 'open' | 'reconnecting' | 'lost' | 'refused' | 'replaced' | 'closed'} SignalState
 */

export class Signal {
  /**
   * @param {object} options
   * @param {Record<string, string>} options.credential `{desk_token}`, `{session}` or `{invite}`
   * @param {(m: Message) => void} options.onMessage every event but `welcome` and `pong`
   * @param {(s: SignalState, detail?: any) => void} [options.onState]
   * @param {(w: Welcome) => void} [options.onWelcome]
   * @param {boolean} [options.resumable] whether to reconnect with the resume token
   *   (default yes)
   */
  constructor({ credential, onMessage, onState, onWelcome, resumable = true }) {
    this.credential = credential;
    this.onMessage = onMessage;
    this.onState = onState || (() => {});
    this.onWelcome = onWelcome || (() => {});
    this.resumable = resumable;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {string | null} */
    this.resumeToken = null;
    // The highest event number received in this session: a resume gets again every
    // later event, those lost with the old connection included.
    this.lastSeq = 0;
    this.heartbeatSecs = 15;
    this.graceSecs = 60;
    /** @type {SignalState} */
    this.state = 'connecting';
    this.welcomed = false;
    this.droppedAt = 0;
    this.attempt = 0;
    this.lastHeard = 0;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = undefined;
    /** @type {Welcome | null} */
    this.welcome = null;
  }

  /** Open the connection. */
  connect() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      this.dropped();
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    ws.onopen = () => {
      /** @type {Record<string, any>} */
      const hello = { type: 'hello', protocol: PROTOCOL, credential: this.credential };
      if (this.resumeToken && this.resumable) {
        hello.resume = this.resumeToken;
        hello.last_seq = this.lastSeq;
      }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (e) => this.received(e.data);
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      // Another connection took this session (the same link or account opened
      // elsewhere): reconnecting would take it back and the two would fight.
      if (e.code === CLOSE_REPLACED) {
        clearInterval(this.timer);
        this.ws = null;
        this.setState('replaced');
        return;
      }
      this.dropped();
    };
  }

  /** @param {any} data */
  received(data) {
    /** @type {Message} */
    let m;
    try {
      m = JSON.parse(String(data));
    } catch {
      return;
    }
    this.lastHeard = Date.now();
    if (m.type === 'welcome') {
      const w = /** @type {Welcome} */ (m);
      this.welcome = w;
      this.welcomed = true;
      if (!w.resumed) this.lastSeq = 0;
      this.resumeToken = w.resume_token;
      this.heartbeatSecs = w.heartbeat_secs;
      this.graceSecs = w.resume_grace_secs;
      this.attempt = 0;
      this.droppedAt = 0;
      this.setState('open');
      this.onWelcome(w);
      this.startHeartbeat();
      return;
    }
    if (typeof m.seq === 'number' && m.seq > this.lastSeq) this.lastSeq = m.seq;
    if (m.type === 'pong') return;
    if (m.type === 'error' && !this.welcomed && FATAL_CODES.includes(m.code)) {
      this.setState('refused', m);
      this.close();
      return;
    }
    this.onMessage(m);
  }

  startHeartbeat() {
    clearInterval(this.timer);
    // A ping every heartbeat; nothing heard for three means the connection is dead even
    // if the socket has not noticed (a NAT dropped it, the Wi-Fi changed).
    this.timer = setInterval(() => {
      if (Date.now() - this.lastHeard > this.heartbeatSecs * 3000) {
        this.ws?.close();
        this.dropped();
        return;
      }
      this.send({ type: 'ping' });
    }, this.heartbeatSecs * 1000);
  }

  dropped() {
    clearInterval(this.timer);
    if (this.state === 'closed' || this.state === 'refused' || this.state === 'replaced') return;
    this.ws = null;
    if (!this.droppedAt) this.droppedAt = Date.now();
    const waited = (Date.now() - this.droppedAt) / 1000;
    if (waited > this.graceSecs || (!this.resumable && this.welcomed)) {
      this.setState('lost');
      return;
    }
    this.setState(this.welcome ? 'reconnecting' : 'connecting');
    const delay = Math.min(5000, 500 * 2 ** this.attempt++);
    setTimeout(() => {
      if (this.state !== 'closed' && this.state !== 'refused' && this.state !== 'replaced') this.connect();
    }, delay);
  }

  /**
   * @param {SignalState} s
   * @param {any} [detail]
   */
  setState(s, detail) {
    if (this.state === s && !detail) return;
    this.state = s;
    this.onState(s, detail);
  }

  /**
   * Send a command; false when not connected (the caller may tell the person).
   * @param {Record<string, any>} command
   */
  send(command) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.welcomed) return false;
    this.ws.send(JSON.stringify(command));
    return true;
  }

  /** Close for good. */
  close() {
    const refused = this.state === 'refused';
    clearInterval(this.timer);
    if (!refused) this.setState('closed');
    const ws = this.ws;
    this.ws = null;
    ws?.close();
  }
}
