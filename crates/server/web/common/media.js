// A participant's media: the camera and microphone, and one RTCPeerConnection to the
// server's relay. We offer what we publish; the relay answers, then sends its own offers
// as the others' tracks come and go, and we answer those. A new offer of ours makes a new
// leg that replaces the old one without the others noticing: that is how we come back
// after a network change (Wi-Fi to cellular) or when the connection fails.

import { participantOf } from './protocol.js';

/** @typedef {import('./protocol.js').Message} Message */
/** @typedef {import('./protocol.js').IceServer} IceServer */

/** What the camera is asked for. */
const CAMERA = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 24, max: 30 } };

/**
 * Why there is less local media than asked for.
 * @typedef {'camera_denied' | 'camera_missing' | 'microphone_denied' | 'microphone_missing'} MediaProblem
 */

/**
 * The camera and microphone, with the camera given up when it cannot be had.
 * @param {{ video: boolean }} want
 * @returns {Promise<{ stream: MediaStream, problems: MediaProblem[] }>}
 */
export async function localMedia(want) {
  /** @type {MediaProblem[]} */
  const problems = [];
  const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  const video = CAMERA;
  if (!navigator.mediaDevices?.getUserMedia) {
    return { stream: new MediaStream(), problems: ['microphone_missing'] };
  }
  if (want.video) {
    try {
      return { stream: await navigator.mediaDevices.getUserMedia({ audio, video }), problems };
    } catch (e) {
      const name = e instanceof DOMException ? e.name : '';
      problems.push(name === 'NotAllowedError' || name === 'SecurityError' ? 'camera_denied' : 'camera_missing');
    }
  }
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ audio }), problems };
  } catch (e) {
    const name = e instanceof DOMException ? e.name : '';
    problems.push(name === 'NotAllowedError' || name === 'SecurityError' ? 'microphone_denied' : 'microphone_missing');
    return { stream: new MediaStream(), problems };
  }
}

/**
 * The level of a stream's audio, 0 to 1, read every animation frame: for the device
 * check and the "you are heard" meter. Returns a function that stops it.
 * @param {MediaStream} stream
 * @param {(level: number) => void} onLevel
 */
export function levelMeter(stream, onLevel) {
  if (!stream.getAudioTracks().length || typeof AudioContext === 'undefined') return () => {};
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  let running = true;
  const tick = () => {
    if (!running) return;
    analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += v * v;
    onLevel(Math.min(1, Math.sqrt(sum / data.length) * 4));
    requestAnimationFrame(tick);
  };
  tick();
  return () => {
    running = false;
    void ctx.close();
  };
}

/**
 * The connection state, for the page:
 * - `connecting`, `connected`;
 * - `reconnecting`: the path failed; a new leg is being made;
 * - `failed`: the relay refused our offer (the page says why).
 * @typedef {'connecting' | 'connected' | 'reconnecting' | 'failed'} MediaState
 */

export class CallMedia {
  /**
   * @param {object} o
   * @param {(command: Record<string, any>) => boolean} o.send signalling
   * @param {number | undefined} o.call the call (desks and interpreters; residents have one call)
   * @param {MediaStream} o.local what we publish
   * @param {IceServer[]} [o.iceServers]
   * @param {(participant: number, stream: MediaStream) => void} o.onRemote a participant's stream appeared or changed
   * @param {(state: MediaState) => void} [o.onState]
   */
  constructor({ send, call, local, iceServers, onRemote, onState }) {
    this.sendCommand = send;
    this.call = call;
    this.local = local;
    this.iceServers = iceServers || [];
    this.onRemote = onRemote;
    this.onState = onState || (() => {});
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** By participant number. @type {Map<number, MediaStream>} */
    this.remote = new Map();
    /** @type {MediaState} */
    this.state = 'connecting';
    this.stopped = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.restartTimer = undefined;
    this.restarts = 0;
    /** Pending work on the peer connection, in order (descriptions must not interleave). */
    this.queue = Promise.resolve();
  }

  /** @param {Record<string, any>} c */
  send(c) {
    if (this.call !== undefined) c.call = this.call;
    return this.sendCommand(c);
  }

  /** Make a leg: a new peer connection and our offer. */
  async start() {
    this.pc?.close();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.pc = pc;
    for (const track of this.local.getTracks()) pc.addTrack(track, this.local);
    if (!this.local.getAudioTracks().length) pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.ontrack = (e) => this.track(e);
    pc.onconnectionstatechange = () => this.connectionChanged(pc);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.setState(this.restarts ? 'reconnecting' : 'connecting');
    this.send({ type: 'sdp', description: { kind: 'offer', sdp: pc.localDescription?.sdp || '' } });
  }

  /** @param {RTCPeerConnection} pc */
  connectionChanged(pc) {
    if (pc !== this.pc || this.stopped) return;
    const s = pc.connectionState;
    if (s === 'connected') {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      this.setState('connected');
    } else if (s === 'failed') {
      this.restart();
    } else if (s === 'disconnected' && !this.restartTimer) {
      // Often a short outage that ICE rides out; if not, a new leg.
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (this.pc?.connectionState !== 'connected') this.restart();
      }, 4000);
    }
  }

  /** A new leg, e.g. after the network changed or the signalling connection came back. */
  restart() {
    if (this.stopped) return;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.restarts++;
    this.setState('reconnecting');
    this.queue = this.queue.then(() => this.start()).catch(() => this.setState('failed'));
  }

  /** Whether the path to the relay is up now. */
  connected() {
    return this.pc?.connectionState === 'connected';
  }

  /** @param {MediaState} s */
  setState(s) {
    if (this.state !== s) {
      this.state = s;
      this.onState(s);
    }
  }

  /** @param {RTCTrackEvent} e */
  track(e) {
    const id = e.streams[0]?.id || '';
    const participant = participantOf(id);
    if (participant === null) return;
    let stream = this.remote.get(participant);
    if (!stream) {
      stream = new MediaStream();
      this.remote.set(participant, stream);
    }
    for (const t of stream.getTracks().filter((t) => t.kind === e.track.kind)) stream.removeTrack(t);
    stream.addTrack(e.track);
    this.onRemote(participant, stream);
  }

  /**
   * A signalling event about media: the relay's answer to our offer, or its offer.
   * @param {Message} m
   */
  handle(m) {
    if (m.type !== 'sdp') return;
    this.queue = this.queue.then(() => this.description(m.description)).catch(() => {});
  }

  /** @param {{ kind: string, sdp: string }} d */
  async description(d) {
    const pc = this.pc;
    if (!pc || this.stopped) return;
    if (d.kind === 'answer') {
      if (pc.signalingState === 'have-local-offer') await pc.setRemoteDescription({ type: 'answer', sdp: d.sdp });
      return;
    }
    // An offer while ours is out is for the leg ours replaces: the relay offers on a leg
    // only once it is connected, which needs its answer first.
    if (pc.signalingState !== 'stable') return;
    await pc.setRemoteDescription({ type: 'offer', sdp: d.sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.send({ type: 'sdp', description: { kind: 'answer', sdp: pc.localDescription?.sdp || '' } });
  }

  /** @param {boolean} muted */
  setMuted(muted) {
    for (const t of this.local.getAudioTracks()) t.enabled = !muted;
  }

  /** @param {boolean} on */
  setCamera(on) {
    for (const t of this.local.getVideoTracks()) t.enabled = on;
  }

  /** Stop sending video for good in this call (the camera is released). */
  audioOnly() {
    for (const t of this.local.getVideoTracks()) {
      t.stop();
      this.local.removeTrack(t);
    }
    for (const s of this.pc?.getSenders() || []) {
      if (s.track?.kind === 'video' || (s.track === null && s.transport)) void s.replaceTrack(null);
    }
  }

  /**
   * Undo audio only: the camera again, into the same sender (no renegotiation). False
   * when the camera cannot be had (refused, gone).
   */
  async videoAgain() {
    let track;
    try {
      track = (await navigator.mediaDevices.getUserMedia({ video: CAMERA })).getVideoTracks()[0];
    } catch {
      return false;
    }
    if (!track) return false;
    const sender = this.pc
      ?.getTransceivers()
      .find((x) => x.receiver.track.kind === 'video' && (x.direction === 'sendrecv' || x.direction === 'sendonly'))?.sender;
    if (!sender) {
      track.stop();
      return false;
    }
    this.local.addTrack(track);
    await sender.replaceTrack(track);
    return true;
  }

  /** Whether we send video now. */
  sendsVideo() {
    return this.local.getVideoTracks().some((t) => t.readyState === 'live' && t.enabled);
  }

  /** Leave: close the connection and release the devices. */
  stop() {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.pc?.close();
    this.pc = null;
    for (const t of this.local.getTracks()) t.stop();
  }

  /**
   * What arrives from each participant, by number: for the tests and the quality hint.
   * @returns {Promise<Map<number, { audioPackets: number, videoFrames: number }>>}
   */
  async received() {
    /** @type {Map<number, { audioPackets: number, videoFrames: number }>} */
    const out = new Map();
    if (!this.pc) return out;
    const stats = await this.pc.getStats();
    /** @type {Map<string, number>} */
    const byTrack = new Map();
    for (const [participant, stream] of this.remote) for (const t of stream.getTracks()) byTrack.set(t.id, participant);
    for (const r of this.pc.getReceivers()) {
      const participant = byTrack.get(r.track.id);
      if (participant === undefined) continue;
      const s = await r.getStats();
      s.forEach((v) => {
        if (v.type !== 'inbound-rtp') return;
        let o = out.get(participant);
        if (!o) out.set(participant, (o = { audioPackets: 0, videoFrames: 0 }));
        if (v.kind === 'audio') o.audioPackets += v.packetsReceived || 0;
        if (v.kind === 'video') o.videoFrames += v.framesDecoded || 0;
      });
    }
    void stats;
    return out;
  }
}
