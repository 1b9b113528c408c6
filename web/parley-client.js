// The parley.v1 session of the page: names, rooms, history, acknowledgements, the
// no-loss contract of docs/PROTOCOL.md ("No-loss delivery"), edits, deletes,
// reactions and replies ("The room's log"), search, the rooms directory, member
// lists of large rooms and token sign-in ("Authentication"), with no DOM.
//
// - Everything to store (messages, and edits, deletes and reactions of messages) gets
//   a client id "<ms hex>-<counter>" and stays in the outbox (outbox.js, kept in
//   storage) until its ack, or until a message with its id shows up in history,
//   settles it.
// - On every (re)connect: hello with the stored resume token (and the sign-in token,
//   if any), join every room with since = the last msg_id this page has from it,
//   page forward with `history after` while `truncated`, then resend the outbox in
//   order with the same ids.
// - Catching up under live traffic (PROTOCOL.md, "No-loss delivery"): live events
//   start right after `joined`, so they may be newer than the gap the pages are
//   filling. Each `history after` starts at the last msg_id of the previous PAGE
//   (joined.history first), never at the newest msg_id seen, until a page says
//   truncated: false; repeats are dropped by msg_id. Until then `since` for a
//   reconnect stays at the end of the last page, so a drop mid-way loses nothing.
//   Live changes (message_edited, message_deleted, reaction) received meanwhile are
//   held and applied after the last page.
// - The messages the page holds are kept in their current state by room-log.js
//   (rev rules), so an edit or delete made while this page was offline appears when
//   the catch-up pages bring the change. Pending own changes are shown at once
//   (outbox.js overlay()) and until the server's event confirms them.
// - Messages reach the page de-duplicated by msg_id, so the page can order them by it
//   (a page message older than a live one already shown is inserted, not appended).
//   Pages `around` a message far back start a segment of their own; the holes
//   between segments are reported (gaps) and filled with `history after`.
// - Everything sent goes through a token bucket copied from welcome.limits, so the
//   client paces itself instead of being refused with rate_limited; history reads
//   (at most 2 unanswered per connection), searches and directory reads (one at a
//   time, the latest wins) are queued so the server never has to refuse them.
//
// Own messages go pending → sent (ack) or → failed:
// - "failed, will retry": not acked FAIL_AFTER_MS after it was typed (or retried),
//   typically because the server has been unreachable that long. It stays in the
//   outbox and is still resent on the next reconnect; Retry reconnects now.
// - "failed, rejected": the server refused it for good (text_too_long, id_invalid,
//   not_in_room…). It is not resent by itself, since the server would refuse it again
//   and every refusal counts towards the abuse limit (1008); Retry sends it once more.
// - rate_limited is not a failure: the message stays pending ("slow down", reason
//   rate_limited) and everything queued waits: first the server's hint (1/rate_per_sec,
//   PROTOCOL.md "Rate limiting and abuse"), then twice as long per refusal in a row
//   (RATE_BACKOFF). While backing off, one frame goes per wait (a probe, not the whole
//   queue at once); each ack halves the count of refusals, so the pace comes back in a
//   few acks. The server's limit may be lower than welcome.limits says (a per-address
//   rate shared with other tabs): resending at the hint's pace, or a queue of 30 at
//   once, would collect refusals until the abuse limit (20 errors in 10 s) closes us
//   with 1008; this keeps them at about a dozen in 10 s at worst.
//   internal is retried 3 times (1, 2, 4 s), then shown as failed, will retry.
// - kicked (PROTOCOL.md): the operator removed this user from a room. The room is
//   forgotten (never rejoined by itself, not even after a reload) and the page told
//   (kicked); a close 4008 stops the connection like the other fatal codes.
// A change the server refuses for good (not_author, deleted, not_found,
// limit_reached…) is dropped: the message shows its real state again and the page
// is told (refused).
//
// Token mode (options.token): hello carries the token; token_expiring is answered
// with `refresh` and a new token from options.refreshToken() (the embedding page's
// hook); a close 4001/4004 asks that hook for a fresh token before reconnecting, and
// without one the page is told (auth) instead of retrying a token the server refuses.
//
// The page subscribes with `handlers` (all optional); see the constructor.

import { AUTH_CLOSE_CODES, ChatConnection, FATAL_CLOSE_CODES, backoffDelay } from './connection.js';
import { Outbox, frameOf, overlay } from './outbox.js';
import { Coverage, RoomLog, isChange } from './room-log.js';
import { makeClientId } from './text.js';

export const SUBPROTOCOL = 'parley.v1';
export const FAIL_AFTER_MS = 30000;
export const HISTORY_PAGE = 50;
export const TYPING_SEND_EVERY_MS = 3000;
export const TYPING_SHOW_MS = 5000;
export const SEARCH_PAGE = 20;
export const ROOMS_PAGE = 50;
export const MEMBERS_PAGE = 100;
// A large room's member list is asked again at most this often after presence_batch.
export const MEMBERS_REFRESH_MS = 2000;
// A refused `refresh` is tried again after this long, while the token still holds.
export const REFRESH_RETRY_MS = 15000;
const INTERNAL_RETRIES = 3;
// After the n-th rate_limited in a row, nothing is sent for
// max(1/rate_per_sec, firstMs * 2^(n-1)), at most maxMs.
export const RATE_BACKOFF = Object.freeze({ firstMs: 250, maxMs: 8000 });
// PROTOCOL.md, "Rate limiting": a third unanswered `history` is refused.
const HISTORY_IN_FLIGHT = 2;

export const STORAGE_KEYS = Object.freeze({
  name: 'parley.name',
  resume: 'parley.resume',
  rooms: 'parley.rooms',
  outbox: 'parley.outbox',
  counter: 'parley.counter',
});

// Before welcome tells us the real limits, PROTOCOL.md's defaults.
const DEFAULT_LIMITS = Object.freeze({
  max_text_bytes: 4000,
  max_rooms: 16,
  history_page_max: 200,
  rate_per_sec: 10,
  rate_burst: 30,
  search_page_max: 50,
  max_reaction_emoji: 20,
  quote_chars: 100,
});

const isId = (value) => Number.isSafeInteger(value) && value >= 0;
const isCount = (value) => Number.isSafeInteger(value) && value >= 0;

function readJson(storage, key, fallback) {
  try {
    const value = JSON.parse(storage.getItem(key) ?? 'null');
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

/** The first `n` code points of `text`: a reply's quote, cut as the server cuts it. */
export function quoteText(text, n) {
  const points = [...text];
  return points.length <= n ? text : points.slice(0, n).join('');
}

/** The msg_ids of the messages (not changes) among page entries. */
function messageIds(entries) {
  return entries.filter((e) => e && !isChange(e) && isId(e.msg_id)).map((e) => e.msg_id);
}

/** What the client knows about one room it is in. */
class RoomState {
  constructor(name, self) {
    this.name = name;
    this.joinSent = false;     // a join went out on the current connection
    this.since = null;         // the `since` of that join (null: none)
    this.everJoined = false;   // a joined arrived at some point on this page
    this.you = null;           // the name the room shows for this user
    this.lastId = null;        // largest msg_id up to which we hold every entry (for since)
    this.catchUpAfter = null;  // while paging forward: the last msg_id of the latest page
    this.newestLive = null;    // largest live msg_id seen while catching up
    this.heldChanges = [];     // live changes received while catching up
    this.log = new RoomLog(self);  // the messages held, in their current state
    this.coverage = new Coverage(); // which stretches of the room's log are held
    this.acked = [];           // own changes acked but not yet seen as events (overlay)
    this.loadingOlder = false;
    this.gapLoading = new Set(); // the `after` of gaps being filled
    this.historyRequests = []; // { kind: 'before' | 'after' | 'around' | 'gap', … }, in order sent
    this.members = new Map();  // user → { name, connections }
    this.users = null;         // the server's count of people here, when it sends one
    this.online = null;        // the server's count of connections here
    this.membersComplete = true; // the member list holds everyone (users ≤ its size)
    this.membersNext = null;   // the `after` of the next page of a partial list
    this.memberPages = 1;      // pages of a large room's list the reader asked for
    this.memberFetch = null;   // { pages, count, wanted, replace } while paging `members`
    this.memberRefresh = null; // timer of the next refresh after presence_batch
    this.search = null;        // { seq, query, next, truncated, loading }
    this.typers = new Map();   // user → { name, timer }
    this.lastTypingSent = -Infinity;
  }
}

export class ParleyClient {
  #storage;
  #now;
  #setTimeout;
  #clearTimeout;
  #on;
  #connection;
  #rooms = new Map();      // name → RoomState, in the order joined
  #outbox;                 // outbox.js; entries also carry { state, reason, rejected, needsSend, inflight, timer, internalTries }
  #ready = false;          // welcome received on the current connection
  #session = 0;            // counts connections, so late async answers can tell theirs is gone
  #user = null;
  #name;
  #limits = { ...DEFAULT_LIMITS };
  #controlQueue = [];      // frames other than outbox entries, in order
  #historyQueue = [];      // { state, request, frame } waiting for a history slot
  #historyInFlight = 0;
  #searchSeq = 0;
  #searchFlight = null;    // { room, seq, frame } asked, not answered
  #searchQueued = null;    // the next one to ask (a newer one replaces it)
  #directory = null;       // { seq, query, order, next, loading }
  #directoryFlight = null;
  #directoryQueued = null;
  #leaving = new Map();    // room → leaves sent and not answered yet
  #tokens = 0;
  #tokensAt = 0;
  #pumpTimer = null;
  #quietUntil = 0;   // rate_limited: nothing is sent before this (#backOff)
  #rateRefusals = 0; // rate_limited answers in a row (halved by each ack)
  #probeAt = 0;      // when the last frame went while backing off
  #token;                  // the sign-in token (JWT) of token mode, or null
  #refreshHook;
  #auth = { mode: null, expiresAt: null, refusal: null, failures: 0, refreshing: false, retry: null, stopped: false };

  /**
   * @param {string} url  the ws:// or wss:// address of /ws
   * @param {object} options
   *   storage: { getItem, setItem, removeItem } (localStorage)
   *   now(): ms clock; setTimeout/clearTimeout; WebSocket; random: injectable for tests
   *   token: a sign-in token (JWT) for a server under --auth jwt, or null (guests)
   *   refreshToken: async () => a new token, or null when there is none (the
   *     embedding page's hook)
   *   handlers: {
   *     status(state, info)          connection state: 'connecting' | 'open' | 'ready' | 'closed'
   *     welcome({ user, name, auth, expiresAt })  a session began (every reconnect)
   *     joined(room, { you, asked, users, reset })  a joined arrived. you: the name the
   *                                  room shows (the server may have made it unique, e.g.
   *                                  "Hana-2"); asked: the name this client asked for;
   *                                  users: people (not connections) in the room;
   *                                  reset: the room's history restarted
   *     messages(room, list, how)    new messages, deduplicated; how: 'join' | 'live' |
   *                                  'older' | 'newer' | 'around' | 'gap'. Each is the
   *                                  message object as received plus `own`, or, when own
   *                                  changes of it are pending, its view (see changed)
   *     changed(room, list)          messages already handed over that look different
   *                                  now: their views { msg_id, ts, user, from, id, text,
   *                                  reply_to, edited, deleted, reactions, own, pending? }
   *     outbox(entry)                an own message changed: state 'pending' | 'sent' | 'failed'
   *     refused(room, change)        an own change the server refused for good:
   *                                  { kind, target, emoji?, text?, code }
   *     members(room, list, info)    [{ user, name, connections }]; info: { users,
   *                                  complete } (complete: false for a partial list
   *                                  of a large room; loadMoreMembers() pages on)
   *     presence(room, event, info)  the presence event as received; info: { users,
   *                                  person } where person is 'joined' / 'left' when the
   *                                  event is a user's first or last connection, null
   *                                  for another tab of someone already there
   *     presenceBatch(room, event, info)  a large room's coalesced presence; info: { users }
   *     typing(room, list)           [{ user, name }] typing now
   *     older(room, { hasOlder, loading })
   *     gaps(room, list)             holes between held stretches: [{ after, before, loading }]
   *     around(room, { target, found })  a page around `target` arrived
   *     searchResults(room, { query, messages, truncated, more, error })
   *     rooms({ rooms, next, total, query, more, error })  the directory
   *     removed(room)                the server took this room away (a refresh's rooms)
   *     kicked(room)                 the operator removed this user from the room
   *                                  (PROTOCOL.md `kicked`); it is not rejoined
   *     name(name)                   this user's name changed
   *     auth({ state, reason, expiresAt })  token mode: 'expiring', 'refreshed',
   *                                  'refresh_failed', 'renewing', or the connection
   *                                  stopped: 'missing' (the server wants a token and
   *                                  there is none), 'refused', 'expired', 'forbidden'
   *     error(error)                 an error event the client could not handle by itself
   *   }
   */
  constructor(url, options = {}) {
    this.#storage = options.storage;
    this.#now = options.now ?? (() => Date.now());
    this.#setTimeout = options.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this.#clearTimeout = options.clearTimeout ?? ((id) => globalThis.clearTimeout(id));
    this.#token = typeof options.token === 'string' && options.token ? options.token : null;
    this.#refreshHook = typeof options.refreshToken === 'function' ? options.refreshToken : null;
    const handlers = options.handlers ?? {};
    const ignore = () => {};
    this.#on = new Proxy(handlers, { get: (target, key) => target[key] ?? ignore });
    this.#connection = new ChatConnection(url, {
      protocols: [SUBPROTOCOL],
      WebSocket: options.WebSocket,
      setTimeout: this.#setTimeout,
      clearTimeout: this.#clearTimeout,
      random: options.random,
      now: this.#now,
      stopCodes: [...FATAL_CLOSE_CODES, ...AUTH_CLOSE_CODES],
      onState: (state, info) => this.#handleState(state, info),
      onMessage: (text) => this.#handleFrame(text),
    });

    this.#name = this.#storage.getItem(STORAGE_KEYS.name) ?? '';
    for (const room of readJson(this.#storage, STORAGE_KEYS.rooms, [])) {
      if (typeof room === 'string' && !this.#rooms.has(room)) this.#rooms.set(room, this.#newRoom(room));
    }
    this.#outbox = new Outbox(this.#storage, STORAGE_KEYS.outbox, (key, value) => this.#store(key, value));
    for (const entry of this.#outbox.load((room) => this.#rooms.has(room))) {
      Object.assign(entry, {
        state: entry.rejected ? 'failed' : 'pending', reason: entry.rejected ?? null, rejected: entry.rejected ?? null,
        needsSend: !entry.rejected, inflight: false, internalTries: 0, timer: null,
      });
      if (!entry.rejected) this.#armFailTimer(entry);
    }
  }

  // ---- What the page reads -------------------------------------------------

  get name() { return this.#name; }
  get user() { return this.#user; }
  get limits() { return this.#limits; }
  get isReady() { return this.#ready; }
  get rooms() { return [...this.#rooms.keys()]; }
  get tokenMode() { return this.#token !== null; }
  /**
   * What proves this session to POST /upload (PROTOCOL.md, "Attachments"): the
   * sign-in token in token mode, else the resume token of the last welcome; null
   * before the first welcome.
   */
  get uploadToken() {
    if (this.#token) return this.#token;
    return this.#user ? this.#storage.getItem(STORAGE_KEYS.resume) : null;
  }
  hasRoom(room) { return this.#rooms.has(room); }

  /** Own messages not yet acked in `room`, oldest first (to draw after a reload). */
  outboxFor(room) {
    return this.#outbox.filter((e) => e.kind === 'send' && e.room === room).map((e) => this.#publicEntry(e));
  }

  membersOf(room) {
    const state = this.#rooms.get(room);
    return state ? this.#memberList(state) : [];
  }

  /** { users, complete, loading } of a room's member list. */
  memberInfo(room) {
    const state = this.#rooms.get(room);
    if (!state) return { users: 0, complete: true, loading: false };
    return { users: this.usersOnline(room), complete: state.membersComplete, loading: state.memberFetch !== null };
  }

  /** Own messages (and edits of them) in `room` that are not stored yet. */
  unsentIn(room) {
    return this.#outbox.filter((e) => e.room === room && (e.kind === 'send' || e.kind === 'edit')).length;
  }

  /**
   * People online in `room`: the server's `users` count when it sends one (joined,
   * presence), else the distinct users of the member list. Never connections: one
   * person with three tabs is one.
   */
  usersOnline(room) {
    const state = this.#rooms.get(room);
    if (!state) return 0;
    return state.users ?? state.members.size;
  }

  olderState(room) {
    const state = this.#rooms.get(room);
    return { hasOlder: !!state?.coverage.hasOlder, loading: !!state?.loadingOlder };
  }

  /** The holes between the stretches of `room` held: [{ after, before, loading }]. */
  gapsOf(room) {
    const state = this.#rooms.get(room);
    return state ? this.#gapList(state) : [];
  }

  /** A held message as the page should show it (pending own changes included), or null. */
  message(room, msgId) {
    const state = this.#rooms.get(room);
    const held = state?.log.get(msgId);
    return held ? this.#viewOf(state, held) : null;
  }

  /** The newest own message of `room` that can still be edited (Up arrow), or null. */
  lastOwnMessage(room) {
    const state = this.#rooms.get(room);
    if (!state || this.#user === null) return null;
    let best = null;
    for (const held of state.log.values()) {
      if (held.user === this.#user && !held.deleted && (best === null || held.msg_id > best.msg_id)) {
        const view = this.#viewOf(state, held);
        if (!view.deleted && !view.pending?.delete) best = held;
      }
    }
    return best ? this.#viewOf(state, best) : null;
  }

  // ---- What the page does --------------------------------------------------

  start() {
    if (!this.#name) throw new Error('choose a name before start()');
    this.#connection.start();
  }

  stop() {
    this.#connection.stop();
  }

  /** Reconnects now if disconnected (skipping the backoff wait). */
  reconnectNow() {
    this.#connection.retryNow();
  }

  /** The page has a reason to think the server is reachable again: skip the backoff wait. */
  wake() {
    this.#connection.wake();
  }

  /** The browser went offline: treat the connection as lost now, not minutes later. */
  disconnect() {
    this.#connection.disconnect();
  }

  /**
   * A new sign-in token from the embedding page (e.g. a new #token= fragment): used
   * for the next hello, sent as `refresh` while connected under --auth jwt, and it
   * restarts a connection that stopped for want of a valid token.
   */
  setToken(token) {
    if (typeof token !== 'string' || token.trim() === '' || token.trim() === this.#token) return false;
    this.#token = token.trim();
    if (this.#auth.stopped) {
      this.#auth.stopped = false;
      this.#auth.failures = 0;
      this.#connection.start();
    } else if (this.#ready && this.#auth.mode === 'jwt') {
      this.#queue({ type: 'refresh', token: this.#token });
    }
    return true;
  }

  /** Sets the name: stored, and sent as `rename` if connected (else in the next hello). */
  setName(name) {
    this.#name = name;
    this.#store(STORAGE_KEYS.name, name);
    if (this.#ready) this.#queue({ type: 'rename', name });
  }

  join(room) {
    if (this.#rooms.has(room)) return false;
    this.#rooms.set(room, this.#newRoom(room));
    this.#saveRooms();
    if (this.#ready) this.#sendJoin(this.#rooms.get(room));
    return true;
  }

  /**
   * Leaves `room`. A room with unsent messages (pending or failed) is left only with
   * { discard: true }: otherwise nothing happens and the answer is 'unsent', so the
   * page can ask first instead of throwing typed messages away.
   */
  leave(room, { discard = false } = {}) {
    const state = this.#rooms.get(room);
    if (!state) return false;
    if (!discard && this.unsentIn(room) > 0) return 'unsent';
    const joinStillQueued = this.#controlQueue.some((f) => f.type === 'join' && f.room === room);
    this.#forget(room);
    if (this.#ready && state.joinSent && !joinStillQueued) {
      this.#leaving.set(room, (this.#leaving.get(room) ?? 0) + 1);
      this.#queue({ type: 'leave', room });
    }
    return true;
  }

  /**
   * Queues `text` for `room`; returns the entry (state 'pending'). With replyTo (a
   * msg_id of the room) it answers that message; the entry's `quote` is the quoted
   * message as it looks now, for the page to show until the server's quote arrives.
   */
  send(room, text, { replyTo = null, attachment = null } = {}) {
    const state = this.#rooms.get(room);
    if (!state) throw new Error(`not in room ${room}`);
    const fields = { text };
    if (attachment) fields.attachment = attachment;
    if (isId(replyTo)) {
      fields.reply_to = replyTo;
      fields.quote = this.#quoteOf(state, replyTo);
    }
    const entry = this.#newEntry('send', room, fields);
    // The others stop showing "typing" when the message arrives: the next keystroke
    // may say so again at once.
    state.lastTypingSent = -Infinity;
    this.#pump();
    return this.#publicEntry(entry);
  }

  /** Replaces the text of an own message; false when it cannot be edited. */
  edit(room, msgId, text) {
    const view = this.#ownEditable(room, msgId);
    if (!view || typeof text !== 'string' || text === '' || view.text === text) return false;
    this.#newEntry('edit', room, { target: msgId, text });
    this.#afterChange(room, msgId);
    return true;
  }

  /** Deletes an own message; false when it cannot be deleted. */
  deleteMessage(room, msgId) {
    if (!this.#ownEditable(room, msgId)) return false;
    this.#newEntry('delete', room, { target: msgId });
    this.#afterChange(room, msgId);
    return true;
  }

  /**
   * Adds this user's reaction `emoji` to a message, or takes it back when it is
   * there. Returns 'react', 'unreact', 'limit' (the message has max_reaction_emoji
   * different emoji already) or false (no such message, or deleted).
   */
  toggleReaction(room, msgId, emoji) {
    const state = this.#rooms.get(room);
    const held = state?.log.get(msgId);
    if (!held) return false;
    const view = this.#viewOf(state, held);
    if (view.deleted || view.pending?.delete) return false;
    const reaction = view.reactions.find((r) => r.emoji === emoji);
    const kind = reaction?.me ? 'unreact' : 'react';
    if (kind === 'react' && !reaction && view.reactions.length >= this.#limits.max_reaction_emoji) return 'limit';
    // Toggled back before the first went out: neither needs to go.
    const opposite = this.#outbox.find((e) => e.room === room && e.target === msgId && e.emoji === emoji
      && (e.kind === 'react' || e.kind === 'unreact') && e.kind !== kind && e.needsSend && !e.inflight);
    if (opposite) {
      this.#clearTimeout(opposite.timer);
      this.#outbox.remove(opposite);
    } else {
      this.#newEntry(kind, room, { target: msgId, emoji });
    }
    this.#afterChange(room, msgId);
    return kind;
  }

  /** A failed message goes again: now if connected, else with a reconnect attempt now. */
  retry(id) {
    const entry = this.#outbox.find((e) => e.id === id);
    if (!entry) return false;
    entry.state = 'pending';
    entry.reason = null;
    entry.rejected = null;
    entry.internalTries = 0;
    entry.needsSend = !entry.inflight;
    this.#outbox.save();
    this.#armFailTimer(entry);
    if (entry.kind === 'send') this.#on.outbox(this.#publicEntry(entry));
    if (this.#ready) this.#pump();
    else this.#connection.retryNow();
    return true;
  }

  /** The user is typing in `room`: tells the others, at most every 3 s. */
  typing(room) {
    const state = this.#rooms.get(room);
    if (!this.#ready || !state?.joinSent) return;
    const now = this.#now();
    if (now - state.lastTypingSent < TYPING_SEND_EVERY_MS) return;
    // Typing is worth less than a message: sent only with a token to spare.
    if (this.#controlQueue.length > 0 || this.#availableTokens() < 2) return;
    state.lastTypingSent = now;
    this.#transmit({ type: 'typing', room });
  }

  /** Asks for the page of messages before the oldest one held. */
  loadOlder(room) {
    const state = this.#rooms.get(room);
    if (!this.#ready || !state?.joinSent || !state.coverage.hasOlder || state.loadingOlder) return false;
    const before = state.coverage.lowest ?? (state.lastId ?? 0) + 1;
    state.loadingOlder = true;
    this.#requestHistory(state, { kind: 'before' }, { before, limit: HISTORY_PAGE });
    this.#on.older(room, { hasOlder: true, loading: true });
    return true;
  }

  /**
   * Brings message `msgId` (a reply's original, a search result) in with its
   * context. 'held': it is here already; 'missing': the stretch around it is held
   * and it is not there (deleted by retention, or not a message); 'requested': a
   * page `around` it was asked for (answered by messages(…, 'around') and around());
   * false: not now (not connected).
   */
  loadAround(room, msgId) {
    const state = this.#rooms.get(room);
    if (!state || !isId(msgId)) return false;
    if (state.log.has(msgId)) return 'held';
    if (state.coverage.covers(msgId)) return 'missing';
    if (!this.#ready || !state.joinSent) return false;
    const asked = state.historyRequests.some((r) => r.kind === 'around' && r.target === msgId)
      || this.#historyQueue.some((q) => q.state === state && q.request.kind === 'around' && q.request.target === msgId);
    if (!asked) this.#requestHistory(state, { kind: 'around', target: msgId }, { around: msgId, limit: HISTORY_PAGE });
    return 'requested';
  }

  /** Fills the hole after msg_id `after` (one of gapsOf()) with the next page. */
  fillGap(room, after) {
    const state = this.#rooms.get(room);
    if (!this.#ready || !state?.joinSent || state.gapLoading.has(after)) return false;
    if (!state.coverage.gaps().some((g) => g.after === after)) return false;
    state.gapLoading.add(after);
    this.#requestHistory(state, { kind: 'gap', after }, { after, limit: HISTORY_PAGE });
    this.#emitGaps(state);
    return true;
  }

  /**
   * Searches `room` for `query` (newest first, SEARCH_PAGE at a time); a newer
   * search replaces one not answered yet. Answered by searchResults().
   */
  search(room, query) {
    const state = this.#rooms.get(room);
    const text = String(query ?? '').trim();
    if (!state || !text) return false;
    state.search = { seq: ++this.#searchSeq, query: text, next: null, truncated: false, loading: true };
    this.#askSearch(state, { type: 'search', room, query: text, limit: SEARCH_PAGE });
    return true;
  }

  /** The next page of the current search of `room`. */
  searchMore(room) {
    const state = this.#rooms.get(room);
    const search = state?.search;
    if (!search || search.loading || !search.truncated || !isId(search.next)) return false;
    search.loading = true;
    this.#askSearch(state, { type: 'search', room, query: search.query, before: search.next, limit: SEARCH_PAGE });
    return true;
  }

  /** Forgets the search of `room` (answers still on their way are dropped). */
  clearSearch(room) {
    const state = this.#rooms.get(room);
    if (state) state.search = null;
  }

  /**
   * The directory of open rooms, `order` 'users' (default) or 'name', filtered by a
   * name prefix; more: the next page of the last listing. Answered by rooms().
   */
  listRooms({ query = '', order = 'users', more = false } = {}) {
    const last = this.#directory;
    if (more) {
      if (!last || last.loading || !last.next) return false;
      last.loading = true;
    } else {
      this.#directory = { seq: (last?.seq ?? 0) + 1, query: String(query).trim(), order, next: null, loading: true };
    }
    const dir = this.#directory;
    this.#directoryQueued = {
      seq: dir.seq,
      more,
      frame: { type: 'rooms', order: dir.order, limit: ROOMS_PAGE, ...(dir.query ? { query: dir.query } : {}), ...(more ? { after: dir.next } : {}) },
    };
    this.#pumpDirectory();
    return true;
  }

  /** The next page of a large room's member list. */
  loadMoreMembers(room) {
    const state = this.#rooms.get(room);
    if (!this.#ready || !state?.joinSent || state.membersComplete || state.memberFetch || !state.membersNext) return false;
    state.memberPages += 1;
    state.memberFetch = { pages: [], count: 1, wanted: 1, replace: false };
    this.#queue({ type: 'members', room, after: state.membersNext, limit: MEMBERS_PAGE });
    this.#on.members(room, this.#memberList(state), this.memberInfo(room));
    return true;
  }

  // ---- Connection ----------------------------------------------------------

  #handleState(state, info) {
    if (state === 'open') {
      this.#ready = false;
      this.#session += 1;
      // The first frame needs no token: the server's bucket starts full.
      const resume = this.#storage.getItem(STORAGE_KEYS.resume);
      this.#connection.send(JSON.stringify({
        type: 'hello', name: this.#name, ...(this.#token ? { token: this.#token } : {}), ...(resume ? { resume } : {}),
      }));
    }
    if (state === 'closed') this.#connectionLost();
    this.#on.status(state, info);
    if (state === 'closed' && info?.retryInMs == null && AUTH_CLOSE_CODES.includes(info?.code)) {
      this.#signInAgain(info.code);
    }
  }

  #connectionLost() {
    this.#ready = false;
    this.#session += 1;
    this.#controlQueue = [];
    this.#historyQueue = [];
    this.#historyInFlight = 0;
    this.#leaving.clear();
    if (this.#pumpTimer !== null) this.#clearTimeout(this.#pumpTimer);
    this.#pumpTimer = null;
    if (this.#auth.retry !== null) this.#clearTimeout(this.#auth.retry);
    this.#auth.retry = null;
    // A search or listing in flight is asked again on the next connection.
    if (this.#searchFlight && !this.#searchQueued) this.#searchQueued = this.#searchFlight;
    this.#searchFlight = null;
    if (this.#directoryFlight && !this.#directoryQueued) this.#directoryQueued = this.#directoryFlight;
    this.#directoryFlight = null;
    for (const state of this.#rooms.values()) this.#roomLost(state);
    for (const entry of this.#outbox.entries) {
      if (entry.inflight) {
        entry.inflight = false;
        entry.needsSend = !entry.rejected;
      }
    }
  }

  #roomLost(state) {
    state.joinSent = false;
    state.historyRequests = [];
    // Held changes are newer than the end of the last page: the next catch-up
    // brings them again.
    state.heldChanges = [];
    state.memberFetch = null;
    if (state.loadingOlder) {
      state.loadingOlder = false;
      this.#on.older(state.name, { hasOlder: state.coverage.hasOlder, loading: false });
    }
    if (state.gapLoading.size > 0) {
      state.gapLoading.clear();
      this.#emitGaps(state);
    }
    if (state.typers.size > 0) {
      for (const typer of state.typers.values()) this.#clearTimeout(typer.timer);
      state.typers.clear();
      this.#on.typing(state.name, []);
    }
  }

  #handleFrame(text) {
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      return; // not ours to fix; the server only sends JSON on parley.v1
    }
    if (!event || typeof event !== 'object') return;
    switch (event.type) {
      case 'welcome': return this.#onWelcome(event);
      case 'joined': return this.#onJoined(event);
      case 'message': return this.#onMessage(event);
      case 'message_edited':
      case 'message_deleted':
      case 'reaction': return this.#onChange(event);
      case 'ack': return this.#onAck(event);
      case 'history': return this.#onHistory(event);
      case 'presence': return this.#onPresence(event);
      case 'presence_batch': return this.#onPresenceBatch(event);
      case 'members': return this.#onMembersPage(event);
      case 'typing': return this.#onTyping(event);
      case 'search_results': return this.#onSearchResults(event);
      case 'rooms': return this.#onRooms(event);
      case 'left': return this.#onLeft(event);
      case 'kicked': return this.#onKicked(event);
      case 'token_expiring': return this.#onTokenExpiring(event);
      case 'refreshed': return this.#onRefreshed(event);
      case 'error': return this.#onError(event);
      default: return undefined; // event types added later: nothing to do
    }
  }

  #onWelcome(event) {
    this.#user = event.user;
    if (typeof event.resume === 'string') this.#store(STORAGE_KEYS.resume, event.resume);
    if (typeof event.name === 'string' && event.name !== this.#name) {
      this.#name = event.name;
      this.#store(STORAGE_KEYS.name, event.name);
    }
    this.#limits = { ...DEFAULT_LIMITS, ...(event.limits ?? {}) };
    this.#tokens = Math.max(0, this.#limits.rate_burst - 1); // hello took one
    this.#tokensAt = this.#now();
    this.#auth.mode = typeof event.auth === 'string' ? event.auth : null;
    this.#auth.expiresAt = Number.isFinite(event.expires_at) ? event.expires_at : null;
    this.#auth.failures = 0;
    this.#auth.refusal = null;
    this.#auth.stopped = false;
    this.#ready = true;
    this.#on.welcome({ user: this.#user, name: this.#name, auth: this.#auth.mode, expiresAt: this.#auth.expiresAt });
    this.#on.status('ready', {});
    for (const state of this.#rooms.values()) this.#sendJoin(state, false);
    // Then the outbox, in order, same ids: the server acks what it already stored
    // with duplicate: true, and stores the rest.
    for (const entry of this.#outbox.entries) entry.needsSend = !entry.rejected && !entry.inflight;
    this.#pumpSearch();
    this.#pumpDirectory();
    this.#pump();
  }

  #sendJoin(state, pump = true) {
    state.joinSent = true;
    state.since = state.everJoined ? (state.lastId ?? 0) : null;
    state.historyRequests = [];
    this.#controlQueue.push({ type: 'join', room: state.name, ...(state.since !== null ? { since: state.since } : {}) });
    if (pump) this.#pump();
  }

  #onJoined(event) {
    const state = this.#rooms.get(event.room);
    if (!state || !state.joinSent) return;
    const history = Array.isArray(event.history) ? event.history : [];
    const lastId = Number(event.last_id) || 0;
    const members = Array.isArray(event.members) ? event.members.filter((m) => m && typeof m.user === 'string') : [];
    state.members = new Map();
    for (const member of members) this.#addMember(state, member.user, member.name);
    state.users = isCount(event.users) ? event.users : null;
    state.online = isCount(event.online) ? event.online : null;
    state.membersComplete = state.users === null || state.members.size >= state.users;
    // joined lists the first 100 users by name: a larger room pages on after the last.
    state.membersNext = state.membersComplete ? null : (members.at(-1)?.name ?? null);
    state.memberPages = 1;
    state.catchUpAfter = null;
    state.newestLive = null;
    state.heldChanges = [];

    let how = 'join';
    let reset = false;
    if (state.since === null) {
      const ids = messageIds(history);
      state.coverage.add(ids.length > 0 ? Math.min(...ids) : lastId + 1, Infinity);
      state.coverage.hasOlder = !!event.truncated;
      state.lastId = Math.max(state.lastId ?? 0, lastId);
    } else if (lastId < state.since) {
      // The room's ids went backwards: the server lost or replaced its history
      // (e.g. --history off and a restart). What we hold no longer lines up with it.
      reset = true;
      state.log.clear();
      state.acked = [];
      state.coverage.clear();
      state.coverage.add(lastId + 1, Infinity);
      state.coverage.hasOlder = lastId > 0;
      state.lastId = lastId;
    } else {
      how = 'newer';
      const newest = history.length > 0 ? history[history.length - 1].msg_id : state.since;
      state.lastId = Math.max(state.since, Number(newest) || 0);
      if (event.truncated) state.catchUpAfter = state.lastId;
    }
    state.everJoined = true;
    const you = typeof event.you === 'string' ? event.you : this.#name;
    state.you = you;
    this.#on.joined(state.name, { you, asked: this.#name, users: this.usersOnline(state.name), reset });
    this.#on.members(state.name, this.#memberList(state), this.memberInfo(state.name));
    this.#deliver(state, history, how);
    if (reset) {
      this.#on.older(state.name, { hasOlder: state.coverage.hasOlder, loading: false });
      this.#emitGaps(state);
      this.loadOlder(state.name);
    } else if (state.catchUpAfter !== null) {
      this.#requestNextPage(state);
    } else if (how === 'join') {
      this.#on.older(state.name, { hasOlder: state.coverage.hasOlder, loading: false });
    }
  }

  /** A live entry's msg_id: moves lastId, or while catching up, newestLive. */
  #noteLive(state, msgId) {
    if (!isId(msgId)) return;
    // While a gap is being paged in, a live entry is no proof that everything
    // before it arrived: `since` must stay at the end of the last page.
    if (state.catchUpAfter !== null) state.newestLive = Math.max(state.newestLive ?? 0, msgId);
    else if (msgId > (state.lastId ?? 0)) state.lastId = msgId;
  }

  #onMessage(event) {
    const state = this.#rooms.get(event.room);
    if (!state) return;
    this.#stopTyping(state, event.user);
    this.#noteLive(state, event.msg_id);
    this.#deliver(state, [event], 'live');
  }

  /** A live message_edited, message_deleted or reaction. */
  #onChange(event) {
    const state = this.#rooms.get(event.room);
    if (!state) return;
    const catchingUp = state.catchUpAfter !== null;
    this.#noteLive(state, event.msg_id);
    // PROTOCOL.md, "Applying changes", rule 4: an older change of the same message
    // may still be in a catch-up page; applied after the last page.
    if (catchingUp) state.heldChanges.push(event);
    else this.#applyChanges(state, [event]);
  }

  #applyChanges(state, changes) {
    const changed = new Set();
    for (const change of changes) for (const id of state.log.apply(change)) changed.add(id);
    this.#emitChanged(state, [...changed]);
  }

  /** A rate_limited answer: nothing more is sent until the backoff is over (see above). */
  #backOff() {
    this.#tokens = 0;
    this.#tokensAt = this.#now();
    this.#rateRefusals += 1;
    this.#quietUntil = this.#now() + this.#backoffDelay();
    if (this.#pumpTimer !== null) {
      this.#clearTimeout(this.#pumpTimer);
      this.#pumpTimer = null;
    }
  }

  /** The server took something again: the next probe comes sooner (or the pace is back). */
  #easeOff() {
    this.#rateRefusals = Math.floor(this.#rateRefusals / 2);
    this.#quietUntil = this.#rateRefusals > 0 ? this.#probeAt + this.#backoffDelay() : 0;
    if (this.#pumpTimer !== null) {
      this.#clearTimeout(this.#pumpTimer);
      this.#pumpTimer = null;
    }
    this.#pump();
  }

  /** How long to wait after the refusals in a row so far (RATE_BACKOFF). */
  #backoffDelay() {
    const rate = Number(this.#limits.rate_per_sec) || DEFAULT_LIMITS.rate_per_sec;
    return Math.min(RATE_BACKOFF.maxMs,
      Math.max(Math.ceil(1000 / rate), RATE_BACKOFF.firstMs * 2 ** (this.#rateRefusals - 1)));
  }

  #onAck(event) {
    if (this.#rateRefusals > 0) this.#easeOff();
    // The ack's msg_id does not move lastId: a message of another member stored just
    // before ours may still be on its way to us, and `since` must not skip it.
    const entry = this.#outbox.find((e) => e.room === event.room && e.id === event.id);
    if (!entry) return;
    const state = this.#rooms.get(event.room);
    if (entry.kind !== 'send') {
      this.#settleChange(state, entry, event);
      return;
    }
    if (state && isId(event.msg_id) && !state.log.has(event.msg_id)) {
      state.log.put({
        msg_id: event.msg_id, ts: event.ts, user: this.#user, from: state.you ?? this.#name, id: entry.id,
        text: entry.text, reply_to: entry.quote ?? null, attachment: entry.attachment ?? null,
      });
    }
    this.#settle(entry, event.msg_id, event.ts);
  }

  /** An own change is stored: shown as done until its event (or a page) confirms it. */
  #settleChange(state, entry, ack) {
    this.#clearTimeout(entry.timer);
    this.#outbox.remove(entry);
    if (!state) return;
    const held = state.log.get(entry.target);
    if (held && isId(ack.msg_id) && held.rev < ack.msg_id) {
      const { kind, target, text, emoji } = entry;
      state.acked.push({ kind, target, text, emoji, ts: ack.ts, ackId: ack.msg_id, acked: true });
    }
    this.#emitChanged(state, [entry.target]);
  }

  #onHistory(event) {
    const state = this.#rooms.get(event.room);
    const request = state?.historyRequests.shift();
    this.#historyAnswered();
    if (!request) return;
    const entries = Array.isArray(event.messages) ? event.messages : [];
    const truncated = !!event.truncated;
    switch (request.kind) {
      case 'before': return this.#onOlderPage(state, entries, truncated);
      case 'around': return this.#onAroundPage(state, request, entries, event);
      case 'gap': return this.#onGapPage(state, request, entries, truncated);
      default: return this.#onNewerPage(state, entries, truncated);
    }
  }

  #onOlderPage(state, entries, truncated) {
    const ids = messageIds(entries);
    state.loadingOlder = false;
    if (ids.length > 0) state.coverage.add(Math.min(...ids), state.coverage.lowest ?? Infinity);
    state.coverage.hasOlder = truncated && ids.length > 0;
    this.#deliver(state, entries, 'older');
    this.#on.older(state.name, { hasOlder: state.coverage.hasOlder, loading: false });
  }

  /** A page around a message far back: a stretch of its own, or joining the others. */
  #onAroundPage(state, request, entries, event) {
    const ids = messageIds(entries);
    if (ids.length > 0) {
      const lo = Math.min(...ids);
      const becomesLowest = state.coverage.lowest === null || lo < state.coverage.lowest;
      state.coverage.add(lo, event.newer === false ? Infinity : Math.max(...ids));
      if (becomesLowest) state.coverage.hasOlder = !!event.truncated;
    }
    this.#deliver(state, entries, 'around');
    this.#on.older(state.name, { hasOlder: state.coverage.hasOlder, loading: state.loadingOlder });
    this.#emitGaps(state);
    this.#on.around(state.name, { target: request.target, found: state.log.has(request.target) });
  }

  /** A page filling the hole after `request.after`: entries in order, changes included. */
  #onGapPage(state, request, entries, truncated) {
    state.gapLoading.delete(request.after);
    const last = entries.reduce((max, e) => (isId(e?.msg_id) ? Math.max(max, e.msg_id) : max), request.after);
    if (!truncated) state.coverage.add(request.after, Infinity);
    else if (last > request.after) state.coverage.add(request.after, last);
    this.#deliver(state, entries, 'gap');
    this.#emitGaps(state);
  }

  /** A `history after` page of the catch-up (PROTOCOL.md, "No-loss delivery"). */
  #onNewerPage(state, entries, truncated) {
    if (state.catchUpAfter === null) return; // not catching up (a reply to an old connection)
    const pageLast = entries.length > 0 ? entries[entries.length - 1].msg_id : null;
    if (isId(pageLast)) state.catchUpAfter = Math.max(state.catchUpAfter, pageLast);
    state.lastId = Math.max(state.lastId ?? 0, state.catchUpAfter);
    this.#deliver(state, entries, 'newer');
    if (truncated && entries.length > 0) {
      this.#requestNextPage(state);
      return;
    }
    // Caught up: the pages reached the live stream, so the newest live id is contiguous.
    state.lastId = Math.max(state.lastId, state.newestLive ?? 0);
    state.catchUpAfter = null;
    state.newestLive = null;
    const held = state.heldChanges;
    state.heldChanges = [];
    this.#applyChanges(state, held);
  }

  /** The next catch-up page: after the last msg_id of the previous page, never a live one. */
  #requestNextPage(state) {
    this.#requestHistory(state, { kind: 'after' }, { after: state.catchUpAfter, limit: this.#limits.history_page_max });
  }

  #onPresence(event) {
    const state = this.#rooms.get(event.room);
    if (!state) return;
    let person = null;
    // The server's count of people tells a first or last tab from the others; the
    // count of connections per user seen is the fallback for a server without it.
    const peopleBefore = state.users;
    const peopleAfter = isCount(event.users) ? event.users : null;
    const byCount = peopleBefore !== null && peopleAfter !== null;
    if (event.event === 'joined') {
      const known = state.members.has(event.user);
      if (byCount ? peopleAfter > peopleBefore : !known) person = 'joined';
      this.#addMember(state, event.user, event.name);
    } else if (event.event === 'left') {
      const member = state.members.get(event.user);
      if (member) member.connections -= 1;
      const gone = byCount ? peopleAfter < peopleBefore : !member || member.connections <= 0;
      if (gone) {
        state.members.delete(event.user);
        person = 'left';
        this.#stopTyping(state, event.user);
      } else if (member && member.connections <= 0) {
        member.connections = 1; // another tab of theirs is still here
      }
    } else if (event.event === 'renamed') {
      const member = state.members.get(event.user);
      if (member) member.name = event.name;
      this.#renamedSelf(state, event);
    }
    if (event.event !== 'renamed') {
      state.users = peopleAfter;
      if (isCount(event.online)) state.online = event.online;
    }
    this.#on.presence(state.name, event, { users: this.usersOnline(state.name), person });
    this.#on.members(state.name, this.#memberList(state), this.memberInfo(state.name));
  }

  #renamedSelf(state, event) {
    if (event.user !== this.#user) return;
    state.you = event.name;
    if (event.name !== this.#name) {
      this.#name = event.name;
      this.#store(STORAGE_KEYS.name, event.name);
      this.#on.name(event.name);
    }
  }

  /** A large room's joins and leaves, coalesced: counts exact, names best effort. */
  #onPresenceBatch(event) {
    const state = this.#rooms.get(event.room);
    if (!state) return;
    const list = (value) => (Array.isArray(value) ? value.filter((m) => m && typeof m.user === 'string') : []);
    const joined = list(event.joined);
    const left = list(event.left);
    if (isCount(event.users)) state.users = event.users;
    if (isCount(event.online)) state.online = event.online;
    // Someone who came and went within the batch: which came last is not said.
    const ambiguous = joined.some((j) => left.some((l) => l.user === j.user));
    if (state.membersComplete && !ambiguous) {
      for (const m of joined) if (!state.members.has(m.user)) state.members.set(m.user, { name: String(m.name ?? ''), connections: 1 });
      for (const m of left) state.members.delete(m.user);
    }
    for (const m of left) this.#stopTyping(state, m.user);
    const more = (Number(event.more_joined) || 0) + (Number(event.more_left) || 0) > 0;
    if (ambiguous || more || !state.membersComplete || (state.users !== null && state.members.size !== state.users)) {
      this.#scheduleMemberRefresh(state);
    }
    this.#on.presenceBatch(state.name, event, { users: this.usersOnline(state.name) });
    this.#on.members(state.name, this.#memberList(state), this.memberInfo(state.name));
  }

  #scheduleMemberRefresh(state) {
    if (state.memberRefresh !== null) return;
    state.memberRefresh = this.#setTimeout(() => {
      state.memberRefresh = null;
      if (!this.#ready || !state.joinSent || this.#rooms.get(state.name) !== state) return;
      if (state.memberFetch) {
        this.#scheduleMemberRefresh(state);
        return;
      }
      state.memberFetch = { pages: [], count: 1, wanted: state.memberPages, replace: true };
      this.#queue({ type: 'members', room: state.name, limit: MEMBERS_PAGE });
    }, MEMBERS_REFRESH_MS);
  }

  #onMembersPage(event) {
    const state = this.#rooms.get(event.room);
    const fetch = state?.memberFetch;
    if (!fetch) return;
    if (isCount(event.users)) state.users = event.users;
    if (isCount(event.online)) state.online = event.online;
    fetch.pages.push(...(Array.isArray(event.members) ? event.members : []));
    const next = typeof event.next === 'string' && event.next !== '' ? event.next : null;
    if (next !== null && fetch.count < fetch.wanted) {
      fetch.count += 1;
      this.#queue({ type: 'members', room: state.name, after: next, limit: MEMBERS_PAGE });
      return;
    }
    if (fetch.replace) state.members = new Map();
    for (const m of fetch.pages) {
      if (m && typeof m.user === 'string' && !state.members.has(m.user)) {
        state.members.set(m.user, { name: String(m.name ?? ''), connections: 1 });
      }
    }
    state.memberFetch = null;
    state.membersNext = next;
    state.membersComplete = next === null;
    this.#on.members(state.name, this.#memberList(state), this.memberInfo(state.name));
  }

  #onTyping(event) {
    const state = this.#rooms.get(event.room);
    if (!state || event.user === this.#user) return;
    const typer = state.typers.get(event.user);
    if (typer) this.#clearTimeout(typer.timer);
    const timer = this.#setTimeout(() => this.#stopTyping(state, event.user), TYPING_SHOW_MS);
    state.typers.set(event.user, { name: event.from ?? '', timer });
    this.#on.typing(state.name, this.#typerList(state));
  }

  /** `left` the page did not ask for: the server took the room away (a refresh's rooms). */
  #onLeft(event) {
    const asked = this.#leaving.get(event.room) ?? 0;
    if (asked > 0) {
      if (asked === 1) this.#leaving.delete(event.room);
      else this.#leaving.set(event.room, asked - 1);
      return;
    }
    if (!this.#rooms.has(event.room)) return;
    this.#forget(event.room);
    this.#on.removed(event.room);
  }

  /** The operator took this user out of the room: forgotten, never rejoined by itself. */
  #onKicked(event) {
    if (typeof event.room !== 'string' || !this.#rooms.has(event.room)) return;
    this.#forget(event.room);
    this.#on.kicked(event.room);
  }

  // ---- Search and the rooms directory: one at a time, the latest wins ----------

  #askSearch(state, frame) {
    this.#searchQueued = { room: state.name, seq: state.search.seq, frame };
    this.#pumpSearch();
  }

  #pumpSearch() {
    const next = this.#searchQueued;
    if (!this.#ready || this.#searchFlight || !next) return;
    this.#searchQueued = null;
    const state = this.#rooms.get(next.room);
    if (!state || state.search?.seq !== next.seq) {
      this.#pumpSearch();
      return;
    }
    this.#searchFlight = next;
    this.#queue(next.frame);
  }

  #onSearchResults(event) {
    const flight = this.#searchFlight;
    this.#searchFlight = null;
    const state = flight && flight.room === event.room ? this.#rooms.get(event.room) : undefined;
    if (state && state.search?.seq === flight.seq) {
      const search = state.search;
      const messages = (Array.isArray(event.messages) ? event.messages : []).filter((m) => m && isId(m.msg_id));
      search.loading = false;
      search.truncated = !!event.truncated;
      search.next = isId(event.next) ? event.next : null;
      // Results are messages in their current state: held ones are brought up to it.
      const changed = messages.filter((m) => state.log.has(m.msg_id) && state.log.put(m) === 'replaced');
      this.#emitChanged(state, changed.map((m) => m.msg_id));
      this.#on.searchResults(state.name, {
        query: search.query,
        messages: messages.map((m) => (state.log.has(m.msg_id) ? this.#viewOf(state, state.log.get(m.msg_id)) : { ...m, own: m.user === this.#user })),
        truncated: search.truncated,
        more: flight.frame.before !== undefined,
        error: null,
      });
    }
    this.#pumpSearch();
  }

  #searchRefused(code) {
    const flight = this.#searchFlight;
    this.#searchFlight = null;
    const state = flight ? this.#rooms.get(flight.room) : undefined;
    if (code === 'rate_limited' && flight && !this.#searchQueued) {
      this.#searchQueued = flight;
      this.#setTimeout(() => this.#pumpSearch(), 1000);
      return;
    }
    if (state && state.search?.seq === flight.seq) {
      state.search.loading = false;
      this.#on.searchResults(state.name, {
        query: state.search.query, messages: [], truncated: false, more: flight.frame.before !== undefined, error: code,
      });
    }
    this.#pumpSearch();
  }

  #pumpDirectory() {
    const next = this.#directoryQueued;
    if (!this.#ready || this.#directoryFlight || !next) return;
    this.#directoryQueued = null;
    this.#directoryFlight = next;
    this.#queue(next.frame);
  }

  #onRooms(event) {
    const flight = this.#directoryFlight;
    this.#directoryFlight = null;
    const dir = this.#directory;
    if (flight && dir && flight.seq === dir.seq) {
      dir.loading = false;
      dir.next = typeof event.next === 'string' && event.next !== '' ? event.next : null;
      const rooms = (Array.isArray(event.rooms) ? event.rooms : [])
        .filter((r) => r && typeof r.room === 'string')
        .map((r) => ({ room: r.room, users: isCount(r.users) ? r.users : 0, online: isCount(r.online) ? r.online : 0 }));
      this.#on.rooms({ rooms, next: dir.next, total: isCount(event.total) ? event.total : null, query: dir.query, more: flight.more, error: null });
    }
    this.#pumpDirectory();
  }

  #directoryRefused(code) {
    const flight = this.#directoryFlight;
    this.#directoryFlight = null;
    if (code === 'rate_limited' && flight && !this.#directoryQueued) {
      this.#directoryQueued = flight;
      this.#setTimeout(() => this.#pumpDirectory(), 1000);
      return;
    }
    const dir = this.#directory;
    if (flight && dir && flight.seq === dir.seq) {
      dir.loading = false;
      this.#on.rooms({ rooms: [], next: null, total: null, query: dir.query, more: flight.more, error: code });
    }
    this.#pumpDirectory();
  }

  // ---- Token sign-in (PROTOCOL.md, "Authentication") ---------------------------

  /** The embedding page's hook: a new token, or null (none, or it failed). */
  async #askToken() {
    if (!this.#refreshHook) return null;
    try {
      const token = await this.#refreshHook();
      return typeof token === 'string' && token.trim() !== '' ? token.trim() : null;
    } catch (error) {
      console.warn('parley: the token hook failed', error);
      return null;
    }
  }

  #onTokenExpiring(event) {
    if (Number.isFinite(event.expires_at)) this.#auth.expiresAt = event.expires_at;
    this.#on.auth({ state: 'expiring', reason: null, expiresAt: this.#auth.expiresAt });
    this.#refreshToken();
  }

  async #refreshToken() {
    if (this.#auth.refreshing) return;
    this.#auth.refreshing = true;
    const session = this.#session;
    const token = await this.#askToken();
    this.#auth.refreshing = false;
    if (session !== this.#session || !this.#ready) return; // a new hello carries the token
    if (!token || token === this.#token) {
      this.#on.auth({ state: 'refresh_failed', reason: 'no_token', expiresAt: this.#auth.expiresAt });
      return;
    }
    this.#token = token;
    this.#queue({ type: 'refresh', token });
  }

  #onRefreshed(event) {
    if (Number.isFinite(event.expires_at)) this.#auth.expiresAt = event.expires_at;
    this.#on.auth({ state: 'refreshed', reason: null, expiresAt: this.#auth.expiresAt });
  }

  #refreshRefused(event) {
    this.#on.auth({ state: 'refresh_failed', reason: event.reason ?? event.code, expiresAt: this.#auth.expiresAt });
    // The old token stays in force until its deadline: try again while there is time.
    const left = this.#auth.expiresAt === null ? 0 : this.#auth.expiresAt * 1000 - this.#now();
    if (left > REFRESH_RETRY_MS && this.#auth.retry === null) {
      this.#auth.retry = this.#setTimeout(() => {
        this.#auth.retry = null;
        if (this.#ready) this.#refreshToken();
      }, REFRESH_RETRY_MS);
    }
  }

  /**
   * The server closed with 4001 / 4003 / 4004: the same token would be refused
   * again. A fresh one from the hook reconnects (with the resume token: same user,
   * same outbox); without one the page is told, and nothing retries.
   */
  async #signInAgain(code) {
    const refusal = this.#auth.refusal;
    this.#auth.refusal = null;
    if (code === 4003) {
      this.#auth.stopped = true;
      this.#on.auth({ state: 'forbidden', reason: refusal?.reason ?? 'forbidden', expiresAt: null });
      return;
    }
    const reason = refusal?.reason ?? (code === 4004 ? 'expired' : 'unauthorized');
    const session = this.#session;
    this.#on.auth({ state: 'renewing', reason, expiresAt: null });
    const token = await this.#askToken();
    if (session !== this.#session) return; // the page reconnected meanwhile
    if (!token || token === this.#token) {
      const state = this.#token === null ? 'missing' : code === 4004 ? 'expired' : 'refused';
      this.#auth.stopped = true;
      this.#on.auth({ state, reason, expiresAt: null });
      return;
    }
    this.#token = token;
    // A hook that keeps handing out refused tokens must not make a loop: back off.
    const delay = this.#auth.failures === 0 ? 0 : backoffDelay(this.#auth.failures - 1);
    this.#auth.failures += 1;
    this.#setTimeout(() => {
      if (session === this.#session) this.#connection.start();
    }, delay);
  }

  // ---- Errors ------------------------------------------------------------------

  #onError(event) {
    const { code, ref, room } = event;
    if (code === 'rate_limited') this.#backOff();
    const state = typeof room === 'string' ? this.#rooms.get(room) : undefined;
    switch (ref) {
      case 'send':
      case 'edit':
      case 'delete':
      case 'react':
      case 'unreact': {
        const entry = this.#outbox.find((e) => e.id === event.id && (!room || e.room === room));
        if (entry) return this.#sendRefused(entry, code);
        break;
      }
      case 'typing':
        return undefined; // a lost typing hint is not worth telling anyone
      case 'join':
        if (!state) break;
        if (code === 'rate_limited') return this.#sendJoin(state);
        if (['too_many_rooms', 'room_invalid', 'room_limit', 'forbidden'].includes(code)) this.#forget(room);
        break;
      case 'history':
        this.#historyRefused(state, code);
        if (code === 'rate_limited') return undefined;
        break;
      case 'search':
        return this.#searchRefused(code);
      case 'rooms':
        return this.#directoryRefused(code);
      case 'members':
        if (state) {
          state.memberFetch = null;
          this.#scheduleMemberRefresh(state);
        }
        if (code === 'rate_limited') return undefined;
        break;
      case 'refresh':
        return this.#refreshRefused(event);
      case 'hello':
        if (code === 'name_invalid') this.#connection.stop();
        if (code === 'unauthorized' || code === 'token_expired') this.#auth.refusal = { code, reason: event.reason ?? null };
        break;
      default:
        break;
    }
    this.#on.error(event);
    return undefined;
  }

  #historyRefused(state, code) {
    this.#historyAnswered();
    if (!state) return;
    const request = state.historyRequests.shift();
    if (!request) return;
    if (request.kind === 'before') {
      state.loadingOlder = false;
      this.#on.older(state.name, { hasOlder: state.coverage.hasOlder, loading: false });
    } else if (request.kind === 'gap') {
      state.gapLoading.delete(request.after);
      this.#emitGaps(state);
    } else if (request.kind === 'around') {
      this.#on.around(state.name, { target: request.target, found: false, error: code });
    } else {
      // Catching up must not stop half-way: ask again a little later.
      this.#setTimeout(() => {
        if (this.#ready && this.#rooms.get(state.name) === state && state.joinSent && state.catchUpAfter !== null) {
          this.#requestNextPage(state);
        }
      }, 1000);
    }
  }

  #sendRefused(entry, code) {
    entry.inflight = false;
    if (code === 'rate_limited') {
      entry.needsSend = true;
      if (entry.state === 'pending' && entry.reason !== 'rate_limited') {
        entry.reason = 'rate_limited';
        if (entry.kind === 'send') this.#on.outbox(this.#publicEntry(entry));
      }
      this.#pump();
      return;
    }
    if (code === 'internal' && entry.internalTries < INTERNAL_RETRIES) {
      const delay = 1000 * 2 ** entry.internalTries;
      entry.internalTries += 1;
      this.#setTimeout(() => {
        if (this.#outbox.includes(entry) && entry.state === 'pending' && !entry.inflight) {
          entry.needsSend = true;
          this.#pump();
        }
      }, delay);
      return;
    }
    if (entry.kind !== 'send' && code !== 'internal') {
      this.#changeRefused(entry, code);
      return;
    }
    this.#clearTimeout(entry.timer);
    entry.state = 'failed';
    entry.reason = code;
    // internal after its retries: still resent on reconnect; anything else: only on Retry.
    entry.rejected = code === 'internal' ? null : code;
    entry.needsSend = false;
    this.#outbox.save();
    if (entry.kind === 'send') this.#on.outbox(this.#publicEntry(entry));
  }

  /** A change the server will never take (not_author, deleted…): dropped, and said so. */
  #changeRefused(entry, code) {
    this.#clearTimeout(entry.timer);
    this.#outbox.remove(entry);
    const state = this.#rooms.get(entry.room);
    if (state) this.#emitChanged(state, [entry.target]);
    const { kind, target, emoji, text } = entry;
    this.#on.refused(entry.room, { kind, target, ...(emoji ? { emoji } : {}), ...(text !== undefined ? { text } : {}), code });
  }

  // ---- Messages --------------------------------------------------------------

  /**
   * Takes a page's entries (or one live message) in order: new messages go to the
   * page, newer states of held ones and changes update them; own ones settle the
   * outbox.
   */
  #deliver(state, entries, how) {
    const fresh = [];
    const changed = new Set();
    for (const item of entries) {
      if (!item || typeof item !== 'object') continue;
      if (isChange(item)) {
        for (const id of state.log.apply(item)) changed.add(id);
        continue;
      }
      if ((item.type !== undefined && item.type !== 'message') || !isId(item.msg_id)) continue; // a later entry type
      const outcome = state.log.put(item);
      if (outcome === 'replaced') changed.add(item.msg_id);
      if (outcome !== 'added') continue;
      const entry = item.user === this.#user && item.id
        ? this.#outbox.find((e) => e.kind === 'send' && e.room === state.name && e.id === item.id)
        : undefined;
      if (entry) this.#settle(entry, item.msg_id, item.ts);
      else fresh.push(this.#messageOut(state, item));
    }
    if (fresh.length > 0 || how === 'join') this.#on.messages(state.name, fresh, how);
    this.#emitChanged(state, [...changed]);
  }

  /** A new message for the page: as received, or its view when own changes of it are pending. */
  #messageOut(state, message) {
    if (this.#changesFor(state, message.msg_id).length === 0) return { ...message, own: message.user === this.#user };
    return this.#viewOf(state, state.log.get(message.msg_id));
  }

  #changesFor(state, target) {
    state.acked = state.acked.filter((a) => {
      const held = state.log.get(a.target);
      return held !== undefined && held.rev < a.ackId;
    });
    return [...state.acked.filter((a) => a.target === target), ...this.#outbox.changesOf(state.name, target)];
  }

  #viewOf(state, held) {
    const base = {
      type: 'message', room: state.name, ...held,
      reply_to: held.reply_to ? { ...held.reply_to } : null,
      own: held.user === this.#user,
    };
    return overlay(base, this.#changesFor(state, held.msg_id));
  }

  #emitChanged(state, ids) {
    const views = ids.map((id) => state.log.get(id)).filter(Boolean).map((held) => this.#viewOf(state, held));
    if (views.length > 0) this.#on.changed(state.name, views);
  }

  #afterChange(room, msgId) {
    const state = this.#rooms.get(room);
    if (state) this.#emitChanged(state, [msgId]);
    this.#pump();
  }

  #ownEditable(room, msgId) {
    const state = this.#rooms.get(room);
    const held = state?.log.get(msgId);
    if (!held || held.user !== this.#user || held.deleted) return null;
    const view = this.#viewOf(state, held);
    return view.deleted || view.pending?.delete ? null : view;
  }

  #quoteOf(state, msgId) {
    const held = state.log.get(msgId);
    if (!held) return { msg_id: msgId, user: '', from: '', text: '', deleted: false };
    const view = this.#viewOf(state, held);
    return { msg_id: msgId, user: view.user, from: view.from, text: quoteText(view.text, this.#limits.quote_chars), deleted: view.deleted };
  }

  #gapList(state) {
    return state.coverage.gaps().map((g) => ({ ...g, loading: state.gapLoading.has(g.after) }));
  }

  #emitGaps(state) {
    this.#on.gaps(state.name, this.#gapList(state));
  }

  #newEntry(kind, room, fields) {
    const counter = (Number(this.#storage.getItem(STORAGE_KEYS.counter)) || 0) + 1;
    this.#store(STORAGE_KEYS.counter, String(counter));
    const entry = {
      kind, room, id: makeClientId(this.#now(), counter), ...fields, created: this.#now(),
      state: 'pending', reason: null, rejected: null, needsSend: true, inflight: false, internalTries: 0, timer: null,
    };
    this.#outbox.add(entry);
    this.#armFailTimer(entry);
    return entry;
  }

  #settle(entry, msgId, ts) {
    this.#clearTimeout(entry.timer);
    this.#outbox.remove(entry);
    this.#on.outbox({ ...this.#publicEntry(entry), state: 'sent', msg_id: msgId, ts });
  }

  #armFailTimer(entry) {
    this.#clearTimeout(entry.timer);
    entry.timer = this.#setTimeout(() => {
      if (!this.#outbox.includes(entry) || entry.state !== 'pending') return;
      entry.state = 'failed';
      entry.reason = 'timeout';
      if (entry.kind === 'send') this.#on.outbox(this.#publicEntry(entry));
      else this.#afterChange(entry.room, entry.target);
    }, FAIL_AFTER_MS);
  }

  #publicEntry(entry) {
    const shown = { room: entry.room, id: entry.id, text: entry.text, created: entry.created, state: entry.state, reason: entry.reason };
    if (isId(entry.reply_to)) {
      shown.reply_to = entry.reply_to;
      shown.quote = entry.quote ?? null;
    }
    if (entry.attachment) shown.attachment = entry.attachment;
    return shown;
  }

  // ---- Rooms, members and typing -----------------------------------------------

  #newRoom(name) {
    return new RoomState(name, () => this.#user);
  }

  #forget(room) {
    const state = this.#rooms.get(room);
    for (const typer of state.typers.values()) this.#clearTimeout(typer.timer);
    if (state.memberRefresh !== null) this.#clearTimeout(state.memberRefresh);
    this.#rooms.delete(room);
    this.#saveRooms();
    for (const entry of this.#outbox.filter((e) => e.room === room)) {
      this.#clearTimeout(entry.timer);
      this.#outbox.remove(entry);
    }
    this.#controlQueue = this.#controlQueue.filter((f) => f.room !== room);
    this.#historyQueue = this.#historyQueue.filter((q) => q.state !== state);
  }

  #addMember(state, user, name) {
    const member = state.members.get(user);
    if (member) {
      member.connections += 1;
      member.name = name;
    } else {
      state.members.set(user, { name, connections: 1 });
    }
  }

  #memberList(state) {
    return [...state.members].map(([user, { name, connections }]) => ({ user, name, connections }));
  }

  #stopTyping(state, user) {
    const typer = state.typers.get(user);
    if (!typer) return;
    this.#clearTimeout(typer.timer);
    state.typers.delete(user);
    if (this.#rooms.get(state.name) === state) this.#on.typing(state.name, this.#typerList(state));
  }

  #typerList(state) {
    return [...state.typers].map(([user, { name }]) => ({ user, name }));
  }

  // ---- Sending, paced ----------------------------------------------------------

  #requestHistory(state, request, range) {
    this.#historyQueue.push({ state, request, frame: { type: 'history', room: state.name, ...range } });
    this.#pumpHistory();
  }

  /** Moves history reads into the control queue while fewer than 2 are unanswered. */
  #pumpHistory() {
    while (this.#ready && this.#historyInFlight < HISTORY_IN_FLIGHT && this.#historyQueue.length > 0) {
      const { state, request, frame } = this.#historyQueue.shift();
      if (this.#rooms.get(state.name) !== state || !state.joinSent) continue;
      state.historyRequests.push(request);
      this.#historyInFlight += 1;
      this.#controlQueue.push(frame);
    }
    this.#pump();
  }

  #historyAnswered() {
    this.#historyInFlight = Math.max(0, this.#historyInFlight - 1);
    this.#pumpHistory();
  }

  #queue(frame) {
    this.#controlQueue.push(frame);
    this.#pump();
  }

  #availableTokens() {
    const now = this.#now();
    const rate = Number(this.#limits.rate_per_sec) || DEFAULT_LIMITS.rate_per_sec;
    const burst = Number(this.#limits.rate_burst) || DEFAULT_LIMITS.rate_burst;
    this.#tokens = Math.min(burst, this.#tokens + (Math.max(0, now - this.#tokensAt) / 1000) * rate);
    this.#tokensAt = now;
    return this.#tokens;
  }

  /** Sends control frames, then outbox entries, in order, while tokens last. */
  #pump() {
    if (!this.#ready || this.#pumpTimer !== null) return;
    const quiet = this.#quietUntil - this.#now();
    if (quiet > 0) {
      this.#pumpTimer = this.#setTimeout(() => {
        this.#pumpTimer = null;
        this.#pump();
      }, quiet);
      return;
    }
    for (;;) {
      const frame = this.#controlQueue[0];
      const entry = frame ? null : this.#outbox.find((e) => e.needsSend && this.#rooms.get(e.room)?.joinSent);
      if (!frame && !entry) return;
      if (this.#availableTokens() < 1) {
        const rate = Number(this.#limits.rate_per_sec) || DEFAULT_LIMITS.rate_per_sec;
        const wait = Math.max(10, Math.ceil(((1 - this.#tokens) / rate) * 1000));
        this.#pumpTimer = this.#setTimeout(() => {
          this.#pumpTimer = null;
          this.#pump();
        }, wait);
        return;
      }
      if (frame) {
        this.#controlQueue.shift();
        if (!this.#transmit(frame)) return;
      } else {
        if (!this.#transmit(frameOf(entry))) return;
        entry.needsSend = false;
        entry.inflight = true;
      }
      if (this.#rateRefusals > 0) {
        // Backing off: one frame per wait, then see what the server says.
        this.#probeAt = this.#now();
        this.#quietUntil = this.#probeAt + this.#backoffDelay();
        this.#pump();
        return;
      }
    }
  }

  #transmit(frame) {
    this.#tokens -= 1;
    return this.#connection.send(JSON.stringify(frame));
  }

  // ---- Storage -------------------------------------------------------------------

  /** Writes one key; a full or disabled storage costs persistence, never the chat. */
  #store(key, value) {
    try {
      this.#storage.setItem(key, value);
    } catch (error) {
      console.warn('parley: cannot write localStorage', key, error);
    }
  }

  #saveRooms() {
    this.#store(STORAGE_KEYS.rooms, JSON.stringify(this.rooms));
  }
}
