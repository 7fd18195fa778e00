// The signalling protocol as the web clients use it: the shapes of the messages they send
// and receive (the full contract is proto/README.md and proto/schema/), and what the
// relay's stream ids mean.

/**
 * @typedef {{ urls: string[], username?: string, credential?: string }} IceServer
 * @typedef {{ type: 'welcome', protocol: number, resume_token: string, heartbeat_secs: number,
 *   resume_grace_secs: number, resumed: boolean, ice_servers?: IceServer[] }} Welcome
 * @typedef {{ kind: 'offer' | 'answer', sdp: string }} Description
 * @typedef {'desk' | 'interpreter' | 'resident'} Party
 * @typedef {'image/jpeg' | 'image/png' | 'image/webp'} DocumentMime
 * @typedef {{ id: number, part: number, parts: number, mime: DocumentMime, data: string }} DocumentPart
 * @typedef {{ code: string, message: string }} ProtocolError
 * @typedef {{ type: string, seq?: number, [key: string]: any }} Message
 */

/** The protocol version these pages speak. */
export const PROTOCOL = 1;

/**
 * The party behind a stream the relay forwards: its stream id is `p<participant>`, and
 * the server numbers a call's participants by role.
 * @type {Record<string, Party>}
 */
export const STREAM_PARTY = { p0: 'desk', p1: 'interpreter', p2: 'resident' };

/** Codes after which a connection is not retried: the credential or the version is wrong. */
export const FATAL_CODES = ['unauthorized', 'protocol_version'];
