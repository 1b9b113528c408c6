// web/parley-client.js against a scripted server: a ParleyClient on the fakes of
// fakes.mjs, every handler call recorded, and builders for the server's events.

import { ParleyClient, STORAGE_KEYS } from '../../../web/parley-client.js';
import { FakeWebSocket, fakeClock, fakeStorage } from './fakes.mjs';

export const LIMITS = Object.freeze({
  max_message_bytes: 1048576, max_text_bytes: 4000, max_rooms: 16, history_page_max: 200, rate_per_sec: 50,
  rate_burst: 500, search_page_max: 50, max_reaction_emoji: 20, max_reactions: 1000, quote_chars: 100,
});

const HANDLERS = ['status', 'welcome', 'joined', 'messages', 'changed', 'outbox', 'refused', 'members', 'presence',
  'presenceBatch', 'typing', 'older', 'gaps', 'around', 'searchResults', 'rooms', 'removed', 'kicked', 'name', 'auth',
  'error'];

/** A client with recorded handlers. t.of(name) lists the argument lists of one handler. */
export function setup({ storage = fakeStorage({ [STORAGE_KEYS.name]: 'alice' }), clock = fakeClock(), ...options } = {}) {
  FakeWebSocket.created = [];
  const events = [];
  const handlers = Object.fromEntries(HANDLERS.map((name) => [name, (...args) => events.push([name, ...args])]));
  const client = new ParleyClient('ws://chat.test/ws', {
    storage, WebSocket: FakeWebSocket, now: clock.now, setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout, random: () => 1, handlers, ...options,
  });
  const socket = () => FakeWebSocket.created.at(-1);
  const of = (name) => events.filter((e) => e[0] === name).map((e) => e.slice(1));
  return { client, clock, storage, events, socket, of };
}

export function welcome(socket, { user = 'u-1', resume = 'tok-1', name = 'alice', limits = LIMITS, ...extra } = {}) {
  socket.receive({ type: 'welcome', session: 's1', user, resume, name, server: 'parley/0.1.0', protocol: 1, limits, ...extra });
}

export function msg(room, msgId, fields = {}) {
  return { type: 'message', room, msg_id: msgId, ts: 1_700_000_000_000 + msgId, user: 'u-2', from: 'bob', text: `m${msgId}`, id: `b-${msgId}`, ...fields };
}

/** A change event: kind 'message_edited' | 'message_deleted' | 'reaction'. */
export function change(kind, room, msgId, target, fields = {}) {
  return { type: kind, room, msg_id: msgId, ts: 1_700_000_100_000 + msgId, user: 'u-2', from: 'bob', id: `c-${msgId}`, target, ...fields };
}

export function joined(room, { history = [], truncated = false, lastId, members = [{ user: 'u-1', name: 'alice' }], ...extra } = {}) {
  return { type: 'joined', room, you: 'alice', members, history, truncated, last_id: lastId ?? (history.at(-1)?.msg_id ?? 0), ...extra };
}

/** Joins `rooms`, starts, opens, welcomes, and answers the joins with `histories`. */
export function connected(t, rooms = ['lobby'], histories = {}) {
  for (const room of rooms) t.client.join(room);
  t.client.start();
  t.socket().open();
  welcome(t.socket());
  for (const room of rooms) t.socket().receive(joined(room, histories[room] ?? {}));
}

/** Drops the connection and brings a new one up to welcome (joins not answered yet). */
export function reconnect(t, { code = 1006, ...welcomeFields } = {}) {
  t.socket().drop(code);
  t.clock.advance(5000);
  t.socket().open();
  welcome(t.socket(), welcomeFields);
}

export const range = (room, a, b, fields) => Array.from({ length: b - a + 1 }, (_, i) => msg(room, a + i, fields));

/** Lets pending promise callbacks (an async token hook) run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

export const storedOutbox = (storage) => JSON.parse(storage.getItem(STORAGE_KEYS.outbox) ?? '[]');
