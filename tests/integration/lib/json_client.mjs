// A parley.v1 (JSON protocol, docs/PROTOCOL.md) client on top of the `ws`
// wrapper of server.mjs: every event is parsed, and a test can either take
// the very next event (`next`, `expect`) or pick the first queued event that
// matches, leaving the others queued in order (`take`). Every wait has a
// deadline; nothing here sleeps.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, startServer } from './server.mjs';

export const SUBPROTOCOL = 'parley.v1';

// True when every field of `partial` equals the event's (deep for plain data).
export function matches(event, partial) {
  if (typeof partial === 'function') return partial(event);
  if (typeof partial === 'string') return event.type === partial;
  return Object.entries(partial).every(([k, v]) => JSON.stringify(event[k]) === JSON.stringify(v));
}

function parse(m) {
  if (m.isBinary) throw new Error(`expected a JSON text message, got ${m.data.length} binary bytes`);
  try {
    return JSON.parse(m.text);
  } catch (err) {
    throw new Error(`server sent invalid JSON ${JSON.stringify(m.text)}: ${err.message}`);
  }
}

export class JsonClient {
  constructor(client) {
    this.raw = client;  // the server.mjs Client
    this.welcome = null;
  }

  // Connects with the parley.v1 subprotocol (on any chat endpoint).
  static async open(url, options = {}) {
    return new JsonClient(await connect(url, { protocols: SUBPROTOCOL, ...options }));
  }

  get protocol() { return this.raw.ws.protocol; }
  get user() { return this.welcome?.user; }

  // Sends an object as JSON, or a string as is (for malformed input).
  send(message) {
    return this.raw.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  // The next event, whatever it is.
  async next(ms = 5000) { return parse(await this.raw.next(ms)); }

  // The next event, which must match `want` (a type, a partial object or a predicate).
  async expect(want, ms = 5000) {
    const e = await this.next(ms);
    if (!matches(e, want)) {
      throw new Error(`expected an event matching ${describe(want)}, got ${JSON.stringify(e)}`);
    }
    return e;
  }

  // Removes and returns the first queued event matching `want`, waiting for
  // one if needed; other events stay queued in their order.
  async take(want, ms = 5000) {
    return this.raw.waitUntil(() => {
      const i = this.raw.messages.findIndex((m) => !m.isBinary && matches(parse(m), want));
      if (i >= 0) return parse(this.raw.messages.splice(i, 1)[0]);
      if (this.raw.isClosed) {
        throw new Error(`connection closed while waiting for ${describe(want)}; queued: ${JSON.stringify(this.queued())}`);
      }
      return undefined;
    }, ms, `an event matching ${describe(want)} (queued: ${JSON.stringify(this.queued())})`);
  }

  // Events received and not yet taken, parsed, without removing them.
  queued() { return this.raw.messages.filter((m) => !m.isBinary).map(parse); }

  // Removes every queued event matching `want` and returns them.
  drop(want) {
    const out = [];
    this.raw.messages = this.raw.messages.filter((m) => {
      if (m.isBinary || !matches(parse(m), want)) return true;
      out.push(parse(m));
      return false;
    });
    return out;
  }

  async hello(name = 'alice', extra = {}) {
    await this.send({ type: 'hello', name, ...extra });
    this.welcome = await this.expect('welcome');
    return this.welcome;
  }

  // join and wait for its answer (`joined`, or an `error` about the join).
  async join(room, since, extra = {}) {
    await this.send({ type: 'join', room, ...(since === undefined ? {} : { since }), ...extra });
    return this.take((e) => (e.type === 'joined' && e.room === room) || (e.type === 'error' && e.ref === 'join'));
  }

  // send and wait for its answer (`ack`, or an `error` carrying the id).
  async say(room, id, text) {
    await this.send({ type: 'send', room, id, text });
    return this.take((e) => (e.type === 'ack' || e.type === 'error') && e.id === id);
  }

  async leave(room) {
    await this.send({ type: 'leave', room });
    return this.take((e) => (e.type === 'left' && e.room === room) || (e.type === 'error' && e.ref === 'leave'));
  }

  // history request and its answer.
  async history(room, fields) {
    await this.send({ type: 'history', room, ...fields });
    return this.take((e) => (e.type === 'history' && e.room === room) || (e.type === 'error' && e.ref === 'history'));
  }

  // Every message of `room` with msg_id > after, by paging `history after`.
  async allAfter(room, after = 0, limit = 200) {
    const out = [];
    for (;;) {
      const page = await this.history(room, { after, limit });
      if (page.type !== 'history') throw new Error(`history failed: ${JSON.stringify(page)}`);
      out.push(...page.messages);
      if (!page.truncated) return out;
      if (page.messages.length === 0) throw new Error('history after: truncated with an empty page');
      after = page.messages[page.messages.length - 1].msg_id;
    }
  }

  close(code = 1000, reason) { this.raw.close(code, reason); }
  terminate() { this.raw.terminate(); }
  waitClose(ms = 5000) { return this.raw.waitClose(ms); }
}

function describe(want) {
  if (typeof want === 'function') return want.toString();
  return JSON.stringify(want);
}

// Opens a JSON client, says hello, and joins `rooms` (a name or a list).
export async function jsonUser(url, name, { resume, rooms = [] } = {}) {
  const c = await JsonClient.open(url);
  await c.hello(name, resume === undefined ? {} : { resume });
  for (const room of [].concat(rooms)) {
    const j = await c.join(room);
    if (j.type !== 'joined') throw new Error(`join ${room} failed: ${JSON.stringify(j)}`);
  }
  return c;
}

// Users joining `room` one after another; after each join, every earlier
// member has received its presence `joined`, so membership is settled and no
// presence is left queued when this returns.
export async function jsonRoom(url, room, names) {
  const clients = [];
  for (const name of names) {
    const c = await jsonUser(url, name, { rooms: room });
    for (const e of clients) await e.take({ type: 'presence', room, event: 'joined', user: c.user });
    clients.push(c);
  }
  return clients;
}

// `c` joins `room`, where `members` already are; waits until each of them
// has seen the presence `joined` (when `c`'s user is new to the room).
export async function joinSettled(c, room, members = [], since) {
  const j = await c.join(room, since);
  if (j.type !== 'joined') throw new Error(`join ${room} failed: ${JSON.stringify(j)}`);
  for (const m of members) await m.take({ type: 'presence', room, event: 'joined', user: c.user });
  return j;
}

// Up to `n` next events; stops early after `quietMs` without one (only for
// reporting what did arrive when fewer came than expected).
export async function collect(c, n, quietMs = 3000) {
  const out = [];
  while (out.length < n) {
    try {
      out.push(await c.next(quietMs));
    } catch {
      break;
    }
  }
  return out;
}

// A fresh data directory for one server; remove it with removeDir.
export function tempDir(prefix = 'parley-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

// Rate limits lifted: the protocol tests send bursts of hundreds of messages.
export const FAST_RATE = ['--rate', '100000', '--rate-burst', '100000'];

// Runs `fn(server, dir)` against a server on a fresh data directory (rate
// limits lifted), then stops it cleanly and removes the directory.
export async function withServer(args, fn) {
  const dir = tempDir();
  const s = await startServer(['--data-dir', dir, ...FAST_RATE, ...args]);
  try {
    await fn(s, dir);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
}

// Closes every client with 1000 and waits for each close handshake.
export async function closeAll(...clients) {
  for (const c of clients) c.close(1000);
  await Promise.all(clients.map((c) => c.waitClose()));
}
