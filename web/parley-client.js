// The parley.v1 session of the page: names, rooms, history, acknowledgements and
// the no-loss contract of docs/PROTOCOL.md ("No-loss delivery"), with no DOM.
//
// - Every message gets a client id "<ms hex>-<counter>" and stays in an outbox in
//   storage (localStorage in the page) until its ack, or until a message with its
//   id shows up in history, settles it.
// - On every (re)connect: hello with the stored resume token, join every room with
//   since = the last msg_id this page has from it, page forward with `history after`
//   while `truncated`, then resend the outbox in order with the same ids.
// - Catching up under live traffic (PROTOCOL.md, "No-loss delivery"): live `message`
//   events start right after `joined`, so they may be newer than the gap the pages
//   are filling. Each `history after` starts at the last msg_id of the previous PAGE
//   (joined.history first), never at the newest msg_id seen, until a page says
//   truncated: false; repeats are dropped by msg_id. Until then `since` for a
//   reconnect stays at the end of the last page, so a drop mid-way loses nothing.
// - Messages reach the page de-duplicated by msg_id, so the page can order them by it
//   (a page message older than a live one already shown is inserted, not appended).
// - Everything sent goes through a token bucket copied from welcome.limits, so the
//   client paces itself instead of being refused with rate_limited.
//
// Own messages go pending → sent (ack) or → failed:
// - "failed, will retry": not acked FAIL_AFTER_MS after it was typed (or retried),
//   typically because the server has been unreachable that long. It stays in the
//   outbox and is still resent on the next reconnect; Retry reconnects now.
// - "failed, rejected": the server refused it for good (text_too_long, id_invalid,
//   not_in_room…). It is not resent by itself, since the server would refuse it again
//   and every refusal counts towards the abuse limit (1008); Retry sends it once more.
// - rate_limited is not a failure: the message is resent 1/rate_per_sec later.
//   internal is retried 3 times (1, 2, 4 s), then shown as failed, will retry.
//
// The page subscribes with `handlers` (all optional); see the constructor.

import { ChatConnection } from './connection.js';
import { makeClientId } from './text.js';

export const SUBPROTOCOL = 'parley.v1';
export const FAIL_AFTER_MS = 30000;
export const HISTORY_PAGE = 50;
export const TYPING_SEND_EVERY_MS = 3000;
export const TYPING_SHOW_MS = 5000;
const INTERNAL_RETRIES = 3;

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
});

function readJson(storage, key, fallback) {
  try {
    const value = JSON.parse(storage.getItem(key) ?? 'null');
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

/** What the client knows about one room it is in. */
class RoomState {
  constructor(name) {
    this.name = name;
    this.joinSent = false;     // a join went out on the current connection
    this.since = null;         // the `since` of that join (null: none)
    this.everJoined = false;   // a joined arrived at some point on this page
    this.lastId = null;        // largest msg_id up to which we hold every message (for since)
    this.catchUpAfter = null;  // while paging forward: the last msg_id of the latest page
    this.newestLive = null;    // largest live msg_id seen while catching up
    this.oldestId = null;      // smallest msg_id we hold (for history before)
    this.hasOlder = false;
    this.loadingOlder = false;
    this.seen = new Set();     // msg_ids handed to the page
    this.members = new Map();  // user → { name, connections }
    this.users = null;         // the server's count of people here, when it sends one
    this.historyRequests = []; // 'before' | 'after', in the order sent
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
  #outbox = [];            // entries: { room, id, text, created, state, reason, rejected, needsSend, inflight, timer, internalTries }
  #removedIds = new Set(); // ids this page settled, so a save does not bring them back
  #ready = false;          // welcome received on the current connection
  #user = null;
  #name;
  #limits = { ...DEFAULT_LIMITS };
  #controlQueue = [];      // frames other than send, in order
  #tokens = 0;
  #tokensAt = 0;
  #pumpTimer = null;

  /**
   * @param {string} url  the ws:// address of /ws
   * @param {object} options
   *   storage: { getItem, setItem, removeItem } (localStorage)
   *   now(): ms clock; setTimeout/clearTimeout; WebSocket; random: injectable for tests
   *   handlers: {
   *     status(state, info)          connection state: 'connecting' | 'open' | 'ready' | 'closed'
   *     welcome({ user, name })      a session began (every reconnect)
   *     joined(room, { you, asked, users, reset })  a joined arrived. you: the name the
   *                                  room shows (the server may have made it unique, e.g.
   *                                  "Hana-2"); asked: the name this client asked for;
   *                                  users: people (not connections) in the room;
   *                                  reset: the room's history restarted
   *     messages(room, list, how)    new messages, deduplicated; how: 'join' | 'live' | 'older' | 'newer'
   *     outbox(entry)                an own message changed: state 'pending' | 'sent' | 'failed'
   *     members(room, list)          [{ user, name, connections }]
   *     presence(room, event, info)  the presence event as received; info: { users,
   *                                  person } where person is 'joined' / 'left' when the
   *                                  event is a user's first or last connection, null
   *                                  for another tab of someone already there
   *     typing(room, list)           [{ user, name }] typing now
   *     older(room, { hasOlder, loading })
   *     name(name)                   this user's name changed
   *     error(error)                 an error event the client could not handle by itself
   *   }
   */
  constructor(url, options = {}) {
    this.#storage = options.storage;
    this.#now = options.now ?? (() => Date.now());
    this.#setTimeout = options.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this.#clearTimeout = options.clearTimeout ?? ((id) => globalThis.clearTimeout(id));
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
      onState: (state, info) => this.#handleState(state, info),
      onMessage: (text) => this.#handleFrame(text),
    });

    this.#name = this.#storage.getItem(STORAGE_KEYS.name) ?? '';
    for (const room of readJson(this.#storage, STORAGE_KEYS.rooms, [])) {
      if (typeof room === 'string' && !this.#rooms.has(room)) this.#rooms.set(room, new RoomState(room));
    }
    for (const saved of readJson(this.#storage, STORAGE_KEYS.outbox, [])) {
      if (!saved || typeof saved.id !== 'string' || typeof saved.text !== 'string') continue;
      if (!this.#rooms.has(saved.room)) continue;
      const entry = { ...saved, state: saved.rejected ? 'failed' : 'pending', reason: saved.rejected ?? null };
      entry.needsSend = !saved.rejected;
      this.#outbox.push(entry);
      if (!saved.rejected) this.#armFailTimer(entry);
    }
  }

  // ---- What the page reads -------------------------------------------------

  get name() { return this.#name; }
  get user() { return this.#user; }
  get limits() { return this.#limits; }
  get isReady() { return this.#ready; }
  get rooms() { return [...this.#rooms.keys()]; }
  hasRoom(room) { return this.#rooms.has(room); }

  /** Own messages not yet acked in `room`, oldest first (to draw after a reload). */
  outboxFor(room) {
    return this.#outbox.filter((e) => e.room === room).map((e) => this.#publicEntry(e));
  }

  membersOf(room) {
    const state = this.#rooms.get(room);
    return state ? this.#memberList(state) : [];
  }

  /** Own messages in `room` that are not stored yet (pending or failed). */
  unsentIn(room) {
    return this.#outbox.filter((e) => e.room === room).length;
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
    return { hasOlder: !!state?.hasOlder, loading: !!state?.loadingOlder };
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

  /** Sets the name: stored, and sent as `rename` if connected (else in the next hello). */
  setName(name) {
    this.#name = name;
    this.#store(STORAGE_KEYS.name, name);
    if (this.#ready) this.#queue({ type: 'rename', name });
  }

  join(room) {
    if (this.#rooms.has(room)) return false;
    this.#rooms.set(room, new RoomState(room));
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
    if (this.#ready && state.joinSent && !joinStillQueued) this.#queue({ type: 'leave', room });
    return true;
  }

  #forget(room) {
    const state = this.#rooms.get(room);
    for (const typer of state.typers.values()) this.#clearTimeout(typer.timer);
    this.#rooms.delete(room);
    this.#saveRooms();
    for (const entry of this.#outbox.filter((e) => e.room === room)) this.#removeEntry(entry);
    this.#controlQueue = this.#controlQueue.filter((f) => f.room !== room);
  }

  /** Queues `text` for `room`; returns the entry (state 'pending'). */
  send(room, text) {
    if (!this.#rooms.has(room)) throw new Error(`not in room ${room}`);
    const counter = (Number(this.#storage.getItem(STORAGE_KEYS.counter)) || 0) + 1;
    this.#store(STORAGE_KEYS.counter, String(counter));
    const entry = {
      room, id: makeClientId(this.#now(), counter), text, created: this.#now(),
      state: 'pending', reason: null, rejected: null, needsSend: true, inflight: false, internalTries: 0,
    };
    this.#outbox.push(entry);
    this.#saveOutbox();
    this.#armFailTimer(entry);
    // The others stop showing "typing" when the message arrives: the next keystroke
    // may say so again at once.
    this.#rooms.get(room).lastTypingSent = -Infinity;
    this.#pump();
    return this.#publicEntry(entry);
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
    this.#saveOutbox();
    this.#armFailTimer(entry);
    this.#on.outbox(this.#publicEntry(entry));
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
    if (!this.#ready || !state?.joinSent || !state.hasOlder || state.loadingOlder) return false;
    const before = state.oldestId ?? (state.lastId ?? 0) + 1;
    state.loadingOlder = true;
    this.#requestHistory(state, 'before', { before, limit: HISTORY_PAGE });
    this.#on.older(room, { hasOlder: true, loading: true });
    return true;
  }

  // ---- Connection ----------------------------------------------------------

  #handleState(state, info) {
    if (state === 'open') {
      this.#ready = false;
      // The first frame needs no token: the server's bucket starts full.
      const resume = this.#storage.getItem(STORAGE_KEYS.resume);
      this.#connection.send(JSON.stringify({ type: 'hello', name: this.#name, ...(resume ? { resume } : {}) }));
    }
    if (state === 'closed') this.#connectionLost();
    this.#on.status(state, info);
  }

  #connectionLost() {
    this.#ready = false;
    this.#controlQueue = [];
    if (this.#pumpTimer !== null) this.#clearTimeout(this.#pumpTimer);
    this.#pumpTimer = null;
    for (const state of this.#rooms.values()) {
      state.joinSent = false;
      state.historyRequests = [];
      if (state.loadingOlder) {
        state.loadingOlder = false;
        this.#on.older(state.name, { hasOlder: state.hasOlder, loading: false });
      }
      if (state.typers.size > 0) {
        for (const typer of state.typers.values()) this.#clearTimeout(typer.timer);
        state.typers.clear();
        this.#on.typing(state.name, []);
      }
    }
    for (const entry of this.#outbox) {
      if (entry.inflight) {
        entry.inflight = false;
        entry.needsSend = !entry.rejected;
      }
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
      case 'ack': return this.#onAck(event);
      case 'history': return this.#onHistory(event);
      case 'presence': return this.#onPresence(event);
      case 'typing': return this.#onTyping(event);
      case 'error': return this.#onError(event);
      default: return undefined; // 'left' and event types added later: nothing to do
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
    this.#ready = true;
    this.#on.welcome({ user: this.#user, name: this.#name });
    this.#on.status('ready', {});
    for (const state of this.#rooms.values()) this.#sendJoin(state, false);
    // Then the outbox, in order, same ids: the server acks what it already stored
    // with duplicate: true, and stores the rest.
    for (const entry of this.#outbox) entry.needsSend = !entry.rejected && !entry.inflight;
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
    state.members = new Map();
    for (const member of event.members ?? []) this.#addMember(state, member.user, member.name);
    state.users = Number.isInteger(event.users) ? event.users : null;
    state.catchUpAfter = null;
    state.newestLive = null;

    let how = 'join';
    let reset = false;
    if (state.since === null) {
      state.hasOlder = !!event.truncated;
      state.lastId = Math.max(state.lastId ?? 0, lastId);
    } else if (lastId < state.since) {
      // The room's ids went backwards: the server lost or replaced its history
      // (e.g. --history off and a restart). What we hold no longer lines up with it.
      reset = true;
      state.seen.clear();
      state.oldestId = null;
      state.lastId = lastId;
      state.hasOlder = lastId > 0;
    } else {
      how = 'newer';
      const newest = history.length > 0 ? history[history.length - 1].msg_id : state.since;
      state.lastId = Math.max(state.since, newest);
      if (event.truncated) state.catchUpAfter = state.lastId;
    }
    state.everJoined = true;
    const you = typeof event.you === 'string' ? event.you : this.#name;
    this.#on.joined(state.name, { you, asked: this.#name, users: this.usersOnline(state.name), reset });
    this.#on.members(state.name, this.#memberList(state));
    this.#deliver(state, history, how);
    if (reset) {
      this.#on.older(state.name, { hasOlder: state.hasOlder, loading: false });
      this.loadOlder(state.name);
    } else if (state.catchUpAfter !== null) {
      this.#requestNextPage(state);
    } else if (how === 'join') {
      this.#on.older(state.name, { hasOlder: state.hasOlder, loading: false });
    }
  }

  #onMessage(event) {
    const state = this.#rooms.get(event.room);
    if (!state) return;
    this.#stopTyping(state, event.user);
    if (typeof event.msg_id === 'number') {
      // While a gap is being paged in, a live message is no proof that everything
      // before it arrived: `since` must stay at the end of the last page.
      if (state.catchUpAfter !== null) state.newestLive = Math.max(state.newestLive ?? 0, event.msg_id);
      else if (event.msg_id > (state.lastId ?? 0)) state.lastId = event.msg_id;
    }
    this.#deliver(state, [event], 'live');
  }

  #onAck(event) {
    // The ack's msg_id does not move lastId: a message of another member stored just
    // before ours may still be on its way to us, and `since` must not skip it.
    const entry = this.#outbox.find((e) => e.room === event.room && e.id === event.id);
    if (!entry) return;
    const state = this.#rooms.get(event.room);
    if (state && typeof event.msg_id === 'number') {
      state.seen.add(event.msg_id);
      this.#noteOldest(state, event.msg_id);
    }
    this.#settle(entry, event.msg_id, event.ts);
  }

  #onHistory(event) {
    const state = this.#rooms.get(event.room);
    if (!state) return;
    const direction = state.historyRequests.shift();
    if (!direction) return;
    const messages = Array.isArray(event.messages) ? event.messages : [];
    if (direction === 'before') {
      state.loadingOlder = false;
      state.hasOlder = !!event.truncated && messages.length > 0;
      this.#deliver(state, messages, 'older');
      this.#on.older(state.name, { hasOlder: state.hasOlder, loading: false });
    } else {
      this.#onNewerPage(state, messages, !!event.truncated);
    }
  }

  /** A `history after` page of the catch-up (PROTOCOL.md, "No-loss delivery"). */
  #onNewerPage(state, messages, truncated) {
    if (state.catchUpAfter === null) return; // not catching up (a reply to an old connection)
    const pageLast = messages.length > 0 ? messages[messages.length - 1].msg_id : null;
    if (typeof pageLast === 'number') state.catchUpAfter = Math.max(state.catchUpAfter, pageLast);
    state.lastId = Math.max(state.lastId ?? 0, state.catchUpAfter);
    this.#deliver(state, messages, 'newer');
    if (truncated && messages.length > 0) {
      this.#requestNextPage(state);
      return;
    }
    // Caught up: the pages reached the live stream, so the newest live id is contiguous.
    state.lastId = Math.max(state.lastId, state.newestLive ?? 0);
    state.catchUpAfter = null;
    state.newestLive = null;
  }

  /** The next catch-up page: after the last msg_id of the previous page, never a live one. */
  #requestNextPage(state) {
    this.#requestHistory(state, 'after', { after: state.catchUpAfter, limit: this.#limits.history_page_max });
  }

  #onPresence(event) {
    const state = this.#rooms.get(event.room);
    if (!state) return;
    let person = null;
    if (event.event === 'joined') {
      if (!state.members.has(event.user)) person = 'joined';
      this.#addMember(state, event.user, event.name);
    } else if (event.event === 'left') {
      const member = state.members.get(event.user);
      if (member && --member.connections > 0) {
        person = null; // another tab of theirs is still here
      } else {
        state.members.delete(event.user);
        person = 'left';
        this.#stopTyping(state, event.user);
      }
    } else if (event.event === 'renamed') {
      const member = state.members.get(event.user);
      if (member) member.name = event.name;
      if (event.user === this.#user && event.name !== this.#name) {
        this.#name = event.name;
        this.#store(STORAGE_KEYS.name, event.name);
        this.#on.name(event.name);
      }
    }
    if (event.event !== 'renamed') state.users = Number.isInteger(event.users) ? event.users : null;
    this.#on.presence(state.name, event, { users: this.usersOnline(state.name), person });
    this.#on.members(state.name, this.#memberList(state));
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

  #onError(event) {
    const { code, ref, room } = event;
    if (code === 'rate_limited') {
      this.#tokens = 0;
      this.#tokensAt = this.#now();
    }
    const state = typeof room === 'string' ? this.#rooms.get(room) : undefined;
    switch (ref) {
      case 'send': {
        const entry = this.#outbox.find((e) => e.id === event.id && (!room || e.room === room));
        if (entry) return this.#sendRefused(entry, code);
        break;
      }
      case 'typing':
        return undefined; // a lost typing hint is not worth telling anyone
      case 'join':
        if (!state) break;
        if (code === 'rate_limited') return this.#sendJoin(state);
        if (code === 'too_many_rooms' || code === 'room_invalid') this.#forget(room);
        break;
      case 'history': {
        if (!state) break;
        const direction = state.historyRequests.shift();
        if (direction === 'before') {
          state.loadingOlder = false;
          this.#on.older(room, { hasOlder: state.hasOlder, loading: false });
        } else if (direction === 'after') {
          // Catching up must not stop half-way: ask again a little later.
          this.#setTimeout(() => {
            if (this.#ready && this.#rooms.get(room) === state && state.joinSent && state.catchUpAfter !== null) {
              this.#requestNextPage(state);
            }
          }, 1000);
        }
        if (code === 'rate_limited') return undefined;
        break;
      }
      case 'hello':
        if (code === 'name_invalid') this.#connection.stop();
        break;
      default:
        break;
    }
    this.#on.error(event);
    return undefined;
  }

  #sendRefused(entry, code) {
    entry.inflight = false;
    if (code === 'rate_limited') {
      entry.needsSend = true;
      this.#tokens = 0;
      this.#tokensAt = this.#now();
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
    this.#clearTimeout(entry.timer);
    entry.state = 'failed';
    entry.reason = code;
    // internal after its retries: still resent on reconnect; anything else: only on Retry.
    entry.rejected = code === 'internal' ? null : code;
    entry.needsSend = false;
    this.#saveOutbox();
    this.#on.outbox(this.#publicEntry(entry));
  }

  // ---- Messages --------------------------------------------------------------

  /** Hands the page the messages it has not seen; own ones settle the outbox. */
  #deliver(state, messages, how) {
    const fresh = [];
    for (const message of messages) {
      if (!message || typeof message.msg_id !== 'number' || state.seen.has(message.msg_id)) continue;
      state.seen.add(message.msg_id);
      this.#noteOldest(state, message.msg_id);
      const entry = message.user === this.#user && message.id
        ? this.#outbox.find((e) => e.room === state.name && e.id === message.id)
        : undefined;
      if (entry) this.#settle(entry, message.msg_id, message.ts);
      else fresh.push({ ...message, own: message.user === this.#user });
    }
    if (fresh.length > 0 || how === 'join') this.#on.messages(state.name, fresh, how);
  }

  #noteOldest(state, msgId) {
    if (state.oldestId === null || msgId < state.oldestId) state.oldestId = msgId;
  }

  #settle(entry, msgId, ts) {
    this.#clearTimeout(entry.timer);
    this.#removeEntry(entry);
    this.#on.outbox({ ...this.#publicEntry(entry), state: 'sent', msg_id: msgId, ts });
  }

  #removeEntry(entry) {
    const index = this.#outbox.indexOf(entry);
    if (index < 0) return;
    this.#outbox.splice(index, 1);
    this.#clearTimeout(entry.timer);
    this.#removedIds.add(entry.id);
    this.#saveOutbox();
  }

  #armFailTimer(entry) {
    this.#clearTimeout(entry.timer);
    entry.timer = this.#setTimeout(() => {
      if (!this.#outbox.includes(entry) || entry.state !== 'pending') return;
      entry.state = 'failed';
      entry.reason = 'timeout';
      this.#on.outbox(this.#publicEntry(entry));
    }, FAIL_AFTER_MS);
  }

  #publicEntry(entry) {
    return { room: entry.room, id: entry.id, text: entry.text, created: entry.created, state: entry.state, reason: entry.reason };
  }

  // ---- Members and typing ----------------------------------------------------

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

  #requestHistory(state, direction, range) {
    state.historyRequests.push(direction);
    this.#queue({ type: 'history', room: state.name, ...range });
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
        if (!this.#transmit({ type: 'send', room: entry.room, id: entry.id, text: entry.text })) return;
        entry.needsSend = false;
        entry.inflight = true;
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

  /**
   * Writes the outbox. Another tab of the same browser shares the storage: its
   * entries are kept, and only the ones this page settled are removed.
   */
  #saveOutbox() {
    const mine = new Map(this.#outbox.map((e) => [e.id, e]));
    const merged = [];
    for (const saved of readJson(this.#storage, STORAGE_KEYS.outbox, [])) {
      if (!saved || this.#removedIds.has(saved.id) || mine.has(saved.id)) continue;
      merged.push(saved);
    }
    for (const e of this.#outbox) {
      merged.push({ room: e.room, id: e.id, text: e.text, created: e.created, ...(e.rejected ? { rejected: e.rejected } : {}) });
    }
    this.#store(STORAGE_KEYS.outbox, JSON.stringify(merged));
  }
}
