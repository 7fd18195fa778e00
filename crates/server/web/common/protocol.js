// The signalling protocol as the web clients use it: the shapes of the messages they send
// and receive (the full contract is proto/README.md and proto/schema/), and what the
// relay's stream ids mean.

/**
 * @typedef {{ urls: string[], username?: string, credential?: string }} IceServer
 * @typedef {{ type: 'welcome', protocol: number, resume_token: string, heartbeat_secs: number,
 *   resume_grace_secs: number, resumed: boolean, ice_servers?: IceServer[] }} Welcome
 * @typedef {{ kind: 'offer' | 'answer', sdp: string }} Description
 * @typedef {'desk' | 'interpreter' | 'resident' | 'phone' | 'guest'} Party
 * @typedef {{ id: number, party: Party, away?: boolean, muted?: boolean, camera_off?: boolean }} Participant
 * @typedef {'image/jpeg' | 'image/png' | 'image/webp'} DocumentMime
 * @typedef {{ id: number, part: number, parts: number, mime: DocumentMime, data: string }} DocumentPart
 * @typedef {{ code: string, message: string }} ProtocolError
 * @typedef {{ type: string, seq?: number, [key: string]: any }} Message
 */

/** The protocol version these pages speak. */
export const PROTOCOL = 1;

/**
 * The participant behind a stream the relay forwards: its stream id is `p<participant>`,
 * the participant's number in the call (see `participants` in `assigned` and `joined`).
 * @param {string} streamId
 * @returns {number | null}
 */
export function participantOf(streamId) {
  const m = /^p(\d{1,9})$/.exec(streamId);
  return m ? Number(m[1]) : null;
}

/** Codes after which a connection is not retried: the credential or the version is wrong. */
export const FATAL_CODES = ['unauthorized', 'protocol_version'];

/** The close code of a connection another took over (`replaced`, proto/README.md). */
export const CLOSE_REPLACED = 4000;
