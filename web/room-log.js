// The messages of one room the page holds, kept exact by the rules of
// docs/PROTOCOL.md, "The room's log", whatever order pages and live events
// arrive in; and which stretches of the room's log the page holds without a hole.
// No DOM and no socket: parley-client.js feeds it, tests drive it directly.
//
// Messages (RoomLog):
// - every message keeps its `rev`, the msg_id of the last change its state
//   reflects (its own msg_id while never changed);
// - a change (message_edited, message_deleted, reaction) is applied only when its
//   msg_id is greater than the message's rev, which then becomes that msg_id, so
//   applying a change twice, or after a page that already holds it, does nothing;
//   a change of a message not held is ignored (the message comes in its current
//   state whenever it is fetched);
// - a message object (live, page, search result) replaces the held one only when
//   its rev is at least the held one's;
// - a delete also empties the quotes of the deleted message in held replies.
//
// Coverage: sorted, disjoint segments [lo, hi] of msg_ids such that every entry of
// the room with an id in a segment has reached the page. The newest segment is open
// (hi = Infinity) once the room is joined: live events extend it. Older pages
// extend the lowest segment downwards; a page `around` a message far back starts a
// segment of its own, and the hole between it and the next is filled with `after`
// pages (gaps()). Overlapping segments merge.

export const CHANGE_TYPES = Object.freeze(new Set(['message_edited', 'message_deleted', 'reaction']));

export function isChange(entry) {
  return !!entry && CHANGE_TYPES.has(entry.type);
}

const isId = (value) => Number.isSafeInteger(value) && value >= 0;

/** The rev of a message object: its `rev`, or its msg_id when it was never changed. */
export function revOf(message) {
  return isId(message.rev) ? message.rev : message.msg_id;
}

function quoteOf(reply) {
  if (!reply || typeof reply !== 'object' || !isId(reply.msg_id)) return null;
  return {
    msg_id: reply.msg_id,
    user: typeof reply.user === 'string' ? reply.user : '',
    from: typeof reply.from === 'string' ? reply.from : '',
    text: typeof reply.text === 'string' ? reply.text : '',
    deleted: reply.deleted === true,
  };
}

/** A message's file (PROTOCOL.md, "Attachments"), or null; storage and server are not trusted. */
export function attachmentOf(a) {
  if (!a || typeof a !== 'object' || typeof a.file !== 'string' || !/^[0-9a-f]{64}$/.test(a.file)) return null;
  const dim = (v) => (Number.isSafeInteger(v) && v > 0 ? v : 0);
  return {
    file: a.file,
    name: typeof a.name === 'string' ? a.name : '',
    size: Number.isSafeInteger(a.size) && a.size >= 0 ? a.size : 0,
    type: typeof a.type === 'string' ? a.type : 'application/octet-stream',
    width: dim(a.width),
    height: dim(a.height),
  };
}

function reactionsOf(list) {
  if (!Array.isArray(list)) return [];
  return list
    .filter((r) => r && typeof r.emoji === 'string' && Number.isSafeInteger(r.count) && r.count > 0)
    .map((r) => ({ emoji: r.emoji, count: r.count, me: r.me === true }));
}

/** A message object of the protocol as the state this module keeps (a fresh copy). */
export function messageState(message) {
  const deleted = message.deleted === true;
  return {
    msg_id: message.msg_id,
    ts: Number.isFinite(message.ts) ? message.ts : 0,
    user: typeof message.user === 'string' ? message.user : '',
    from: typeof message.from === 'string' ? message.from : '',
    id: typeof message.id === 'string' ? message.id : '',
    text: deleted || typeof message.text !== 'string' ? '' : message.text,
    reply_to: deleted ? null : quoteOf(message.reply_to),
    edited: Number.isFinite(message.edited) ? message.edited : null,
    deleted,
    reactions: deleted ? [] : reactionsOf(message.reactions),
    attachment: deleted ? null : attachmentOf(message.attachment),
    rev: revOf(message),
  };
}

/** Whether two states look the same (rev aside). */
function sameLook(a, b) {
  return a.text === b.text && a.edited === b.edited && a.deleted === b.deleted && a.from === b.from
    && JSON.stringify(a.reply_to) === JSON.stringify(b.reply_to)
    && JSON.stringify(a.reactions) === JSON.stringify(b.reactions)
    && JSON.stringify(a.attachment) === JSON.stringify(b.attachment);
}

export class RoomLog {
  #messages = new Map(); // msg_id → state
  #self;

  /** @param {() => string|null} self  the client's own user id (for `me` of reactions) */
  constructor(self = () => null) {
    this.#self = self;
  }

  get size() {
    return this.#messages.size;
  }

  has(msgId) {
    return this.#messages.has(msgId);
  }

  /** The held state of a message (do not modify), or undefined. */
  get(msgId) {
    return this.#messages.get(msgId);
  }

  values() {
    return this.#messages.values();
  }

  clear() {
    this.#messages.clear();
  }

  /**
   * Takes a message object (live, from a page, or built from an ack).
   * Returns 'added', 'replaced' (held, and it looks different now), 'same' or
   * 'stale' (held in a newer state: ignored).
   */
  put(message) {
    if (!message || !isId(message.msg_id)) return 'stale';
    const incoming = messageState(message);
    const held = this.#messages.get(incoming.msg_id);
    if (!held) {
      this.#messages.set(incoming.msg_id, incoming);
      return 'added';
    }
    if (incoming.rev < held.rev) return 'stale';
    // `me` is trusted as given: only pages (made per connection) carry reactions,
    // and they say `me: true` for every emoji of ours.
    const looksSame = sameLook(held, incoming);
    this.#messages.set(incoming.msg_id, incoming);
    return looksSame ? 'same' : 'replaced';
  }

  /**
   * Applies one change event by the rules above. Returns the msg_ids whose look
   * changed: the target, and for a delete the held replies quoting it.
   */
  apply(change) {
    if (!isChange(change) || !isId(change.msg_id)) return [];
    const target = this.#messages.get(change.target);
    if (!target || change.msg_id <= target.rev) return [];
    target.rev = change.msg_id;
    switch (change.type) {
      case 'message_edited':
        if (typeof change.text === 'string') target.text = change.text;
        target.edited = Number.isFinite(change.ts) ? change.ts : target.edited;
        return [target.msg_id];
      case 'message_deleted':
        return this.#deleted(target);
      default:
        return this.#reacted(target, change);
    }
  }

  #deleted(target) {
    target.deleted = true;
    target.text = '';
    target.reactions = [];
    target.reply_to = null;
    target.attachment = null;
    const changed = [target.msg_id];
    for (const message of this.#messages.values()) {
      const quote = message.reply_to;
      if (quote && quote.msg_id === target.msg_id && !(quote.deleted && quote.text === '')) {
        message.reply_to = { ...quote, text: '', deleted: true };
        changed.push(message.msg_id);
      }
    }
    return changed;
  }

  #reacted(target, change) {
    if (typeof change.emoji !== 'string' || target.deleted) return []; // nothing to show on a tombstone
    const count = Number.isSafeInteger(change.count) && change.count >= 0 ? change.count : null;
    let reaction = target.reactions.find((r) => r.emoji === change.emoji);
    if (!reaction) {
      reaction = { emoji: change.emoji, count: 0, me: false };
      target.reactions.push(reaction);
    }
    reaction.count = count ?? Math.max(0, reaction.count + (change.added ? 1 : -1));
    if (change.user === this.#self()) reaction.me = change.added === true;
    if (reaction.count === 0) target.reactions = target.reactions.filter((r) => r !== reaction);
    return [target.msg_id];
  }
}

export class Coverage {
  #segments = []; // [{ lo, hi }], sorted by lo, disjoint
  hasOlder = false; // whether the room has entries below the lowest segment

  /** The segments, lowest first (copies). */
  get segments() {
    return this.#segments.map((s) => ({ ...s }));
  }

  get lowest() {
    return this.#segments[0]?.lo ?? null;
  }

  /** Whether `msgId` lies inside a segment (every entry around it has arrived). */
  covers(msgId) {
    return this.#segments.some((s) => s.lo <= msgId && msgId <= s.hi);
  }

  clear() {
    this.#segments = [];
    this.hasOlder = false;
  }

  /** Adds the stretch [lo, hi], merging it with the segments it overlaps. */
  add(lo, hi) {
    if (!(lo <= hi)) return;
    let merged = { lo, hi };
    const rest = [];
    for (const s of this.#segments) {
      if (s.lo <= merged.hi && merged.lo <= s.hi) merged = { lo: Math.min(s.lo, merged.lo), hi: Math.max(s.hi, merged.hi) };
      else rest.push(s);
    }
    rest.push(merged);
    rest.sort((a, b) => a.lo - b.lo);
    this.#segments = rest;
  }

  /** The holes between segments: [{ after, before }] (entries with after < id < before are missing). */
  gaps() {
    const gaps = [];
    for (let i = 1; i < this.#segments.length; i++) {
      gaps.push({ after: this.#segments[i - 1].hi, before: this.#segments[i].lo });
    }
    return gaps;
  }
}
