// The call's tiles: one per participant, made from the call's participant list and its
// joined/left events, however many there are. The page names the kind shown large (the
// interpreter on the desk); everyone else sits beside it, before our own tile. A
// participant whose connection dropped keeps their tile, marked as reconnecting, so their
// media shows again the moment it comes back; one who left loses it.

import { t } from './i18n.js';
import { setTile } from './ui.js';

/** @typedef {import('./protocol.js').Party} Party */
/** @typedef {import('./protocol.js').Participant} Participant */

export class Tiles {
  /**
   * @param {object} o
   * @param {HTMLElement} o.main where the large tile goes (it holds the placeholder tile)
   * @param {HTMLElement} o.side where the others go (it holds our own tile, which stays last)
   * @param {Party} o.large the kind shown large
   * @param {string} o.waiting the string key the placeholder says while nobody is there
   * @param {string} o.connecting the string key a tile says until its media arrives
   */
  constructor({ main, side, large, waiting, connecting }) {
    this.connecting = connecting;
    this.main = main;
    this.side = side;
    this.large = large;
    this.waiting = waiting;
    /** @type {Map<number, { party: Party, away: boolean, muted: boolean, cameraOff: boolean, tile: HTMLElement, stream: MediaStream | null }>} */
    this.people = new Map();
    /** Our own number in the call. */
    this.you = -1;
  }

  /**
   * Everyone in the call now (an `assigned` or `joined` event): tiles for the others,
   * and none for those no longer there.
   * @param {Participant[]} participants
   * @param {number} you
   */
  roster(participants, you) {
    this.you = you;
    const now = new Set(participants.map((p) => p.id));
    for (const id of [...this.people.keys()]) if (!now.has(id)) this.remove(id);
    for (const p of participants) {
      if (p.id === you) continue;
      this.joined(p.id, p.party, !!p.away);
      this.media(p.id, !!p.muted, !!p.camera_off);
    }
  }

  /**
   * Someone's microphone or camera changed (`participant_media`, or the roster).
   * @param {number} id
   * @param {boolean} muted
   * @param {boolean} cameraOff
   */
  media(id, muted, cameraOff) {
    const person = this.people.get(id);
    if (!person) return;
    person.muted = muted;
    person.cameraOff = cameraOff;
    this.layout();
  }

  /**
   * Someone joined, or their connection came back.
   * @param {number} id
   * @param {Party} party
   * @param {boolean} [away]
   */
  joined(id, party, away = false) {
    if (id === this.you) return;
    let person = this.people.get(id);
    if (!person) {
      const tile = document.createElement('div');
      tile.className = 'tile';
      tile.dataset.participant = String(id);
      tile.dataset.party = party;
      const placeholder = document.createElement('div');
      placeholder.className = 'placeholder';
      placeholder.textContent = t(this.connecting);
      const name = document.createElement('span');
      name.className = 'name';
      tile.append(placeholder, name);
      person = { party, away, muted: false, cameraOff: false, tile, stream: null };
      this.people.set(id, person);
    }
    person.away = away;
    this.layout();
  }

  /**
   * Someone's connection dropped (they keep their tile) or they left (they do not).
   * @param {number} id
   * @param {'left' | 'dropped'} reason
   */
  left(id, reason) {
    const person = this.people.get(id);
    if (!person) return;
    if (reason === 'dropped') {
      person.away = true;
      this.layout();
    } else {
      this.remove(id);
    }
  }

  /**
   * A participant's media appeared or changed.
   * @param {number} id
   * @param {MediaStream} stream
   */
  stream(id, stream) {
    const person = this.people.get(id);
    if (!person) return;
    person.stream = stream;
    person.tile.querySelector('.placeholder')?.remove();
    setTile(person.tile, stream, { label: this.label(id) });
  }

  /** @param {number} id */
  remove(id) {
    const person = this.people.get(id);
    if (!person) return;
    person.tile.querySelector('video')?.remove();
    person.tile.remove();
    this.people.delete(id);
    this.layout();
  }

  /**
   * A participant's name on screen: their kind, numbered when there are several of it.
   * @param {number} id
   */
  label(id) {
    const person = this.people.get(id);
    if (!person) return '';
    const same = [...this.people.entries()].filter(([, p]) => p.party === person.party).map(([n]) => n).sort((a, b) => a - b);
    return same.length > 1 ? `${t(person.party)} ${same.indexOf(id) + 1}` : t(person.party);
  }

  /** The kind and ordinal of each participant (`resident`, `resident-2`): for tests. */
  keys() {
    /** @type {Map<number, string>} */
    const out = new Map();
    /** @type {Record<string, number>} */
    const count = {};
    for (const [id, p] of [...this.people.entries()].sort((a, b) => a[0] - b[0])) {
      const n = (count[p.party] = (count[p.party] || 0) + 1);
      out.set(id, n === 1 ? p.party : `${p.party}-${n}`);
    }
    return out;
  }

  /** Put each tile in its place, with its name and state. */
  layout() {
    const ids = [...this.people.keys()].sort((a, b) => a - b);
    const large = ids.find((id) => this.people.get(id)?.party === this.large);
    const placeholder = this.main.querySelector('.tile.waiting');
    if (placeholder instanceof HTMLElement) {
      placeholder.hidden = large !== undefined;
      const words = placeholder.querySelector('.placeholder');
      if (words) words.textContent = t(this.waiting);
    }
    const self = this.side.querySelector('.tile.self');
    for (const id of ids) {
      const person = /** @type {NonNullable<ReturnType<typeof this.people.get>>} */ (this.people.get(id));
      const tile = person.tile;
      tile.classList.toggle('main', id === large);
      tile.classList.toggle('away', person.away);
      tile.classList.toggle('muted', person.muted);
      tile.classList.toggle('camera-off', person.cameraOff);
      tile.hidden = false;
      const name = tile.querySelector('.name');
      const states = [
        person.away ? t('away') : null,
        person.muted ? t('state_muted') : null,
        person.cameraOff ? t('state_camera_off') : null,
      ].filter(Boolean);
      if (name) name.textContent = [this.label(id), ...states].join(' · ');
      if (id === large && tile.parentElement !== this.main) this.main.append(tile);
    }
    // Keep the side in participant order, our own tile last.
    for (const id of ids) {
      const tile = this.people.get(id)?.tile;
      if (tile && id !== large) this.side.insertBefore(tile, self);
    }
  }

  /** Leave: every participant's tile goes. */
  clear() {
    for (const id of [...this.people.keys()]) this.remove(id);
    this.you = -1;
  }
}
