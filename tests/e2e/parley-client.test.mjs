// web/parley-client.js against a scripted server (fake WebSocket, fake clock, fake
// localStorage): the client side of PROTOCOL.md's no-loss contract, exactly.
// - hello with the stored resume token; join every room, with since on reconnect;
// - the outbox: kept in storage until acked, resent in order with the same ids;
// - de-duplication by msg_id, truncated catch-up with `history after`, older pages;
// - pending → sent, failed (timeout: still resent; rejected: only on Retry);
// - pacing by the token bucket of welcome.limits, rate_limited, typing.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FAIL_AFTER_MS, ParleyClient, STORAGE_KEYS, TYPING_SHOW_MS } from '../../web/parley-client.js';
import { FakeWebSocket, fakeClock, fakeStorage } from './lib/fakes.mjs';

const LIMITS = { max_message_bytes: 1048576, max_text_bytes: 4000, max_rooms: 16, history_page_max: 200, rate_per_sec: 10, rate_burst: 30 };

function setup({ storage = fakeStorage({ [STORAGE_KEYS.name]: 'alice' }), clock = fakeClock() } = {}) {
  FakeWebSocket.created = [];
  const events = [];
  const record = (name) => (...args) => events.push([name, ...args]);
  const handlers = Object.fromEntries(
    ['status', 'welcome', 'joined', 'messages', 'outbox', 'members', 'presence', 'typing', 'older', 'name', 'error']
      .map((name) => [name, record(name)]));
  const client = new ParleyClient('ws://chat.test/ws', {
    storage, WebSocket: FakeWebSocket, now: clock.now, setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout, random: () => 1, handlers,
  });
  const socket = () => FakeWebSocket.created.at(-1);
  const of = (name) => events.filter((e) => e[0] === name).map((e) => e.slice(1));
  return { client, clock, storage, events, socket, of };
}

function welcome(socket, { user = 'u-1', resume = 'tok-1', name = 'alice', limits = LIMITS } = {}) {
  socket.receive({ type: 'welcome', session: 's1', user, resume, name, server: 'parley/0.1.0', protocol: 1, limits });
}

function msg(room, msgId, { user = 'u-2', from = 'bob', text = `m${msgId}`, id = `b-${msgId}` } = {}) {
  return { type: 'message', room, msg_id: msgId, ts: 1_700_000_000_000 + msgId, user, from, text, id };
}

function joined(room, { history = [], truncated = false, lastId, members = [{ user: 'u-1', name: 'alice' }] } = {}) {
  return { type: 'joined', room, you: 'alice', members, history, truncated, last_id: lastId ?? (history.at(-1)?.msg_id ?? 0) };
}

/** Starts, opens, welcomes, and answers the joins of `rooms` with `histories`. */
function connected(t, rooms = ['lobby'], histories = {}) {
  for (const room of rooms) t.client.join(room);
  t.client.start();
  t.socket().open();
  welcome(t.socket());
  for (const room of rooms) t.socket().receive(joined(room, histories[room] ?? {}));
}

const storedOutbox = (storage) => JSON.parse(storage.getItem(STORAGE_KEYS.outbox) ?? '[]');

test('hello, welcome, join; a message is kept in storage until its ack', () => {
  const t = setup();
  t.client.join('lobby');
  t.client.start();
  assert.deepEqual(t.socket().protocols, ['parley.v1']);
  t.socket().open();
  assert.deepEqual(t.socket().take(), [{ type: 'hello', name: 'alice' }], 'no resume token yet');

  welcome(t.socket());
  assert.equal(t.storage.getItem(STORAGE_KEYS.resume), 'tok-1');
  assert.deepEqual(t.socket().take(), [{ type: 'join', room: 'lobby' }], 'first join: no since');
  t.socket().receive(joined('lobby', { history: [msg('lobby', 4), msg('lobby', 5)], truncated: true }));
  assert.deepEqual(t.of('messages').at(-1), ['lobby', [{ ...msg('lobby', 4), own: false }, { ...msg('lobby', 5), own: false }], 'join']);
  assert.deepEqual(t.client.olderState('lobby'), { hasOlder: true, loading: false });

  const entry = t.client.send('lobby', 'hi');
  assert.match(entry.id, /^[0-9a-f]+-1$/, '<ms timestamp in hex>-<counter>');
  assert.equal(entry.id, `${t.clock.now().toString(16)}-1`);
  assert.equal(entry.state, 'pending');
  assert.deepEqual(t.socket().take(), [{ type: 'send', room: 'lobby', id: entry.id, text: 'hi' }]);
  assert.deepEqual(storedOutbox(t.storage).map((e) => [e.room, e.id, e.text]), [['lobby', entry.id, 'hi']]);

  t.socket().receive({ type: 'ack', room: 'lobby', id: entry.id, msg_id: 6, ts: 123, duplicate: false });
  assert.deepEqual(t.of('outbox').at(-1)[0], { ...entry, state: 'sent', msg_id: 6, ts: 123 });
  assert.deepEqual(storedOutbox(t.storage), []);

  const second = t.client.send('lobby', 'again');
  assert.match(second.id, /-2$/, 'the counter goes on');
  assert.ok(second.id > entry.id || second.id.length > entry.id.length);
});

test('reconnect: hello with resume, join with since, catch up, resend the outbox with the same ids', () => {
  const t = setup();
  connected(t, ['lobby', 'dev'], { lobby: { history: [msg('lobby', 7)] }, dev: { lastId: 0 } });
  t.socket().take();
  t.socket().receive(msg('lobby', 9));
  const one = t.client.send('lobby', 'one');
  const two = t.client.send('dev', 'two');
  t.socket().take();
  // The connection dies before the acks: both are still in the outbox.
  t.socket().drop(1006);
  const three = t.client.send('lobby', 'three'); // typed while disconnected
  assert.equal(storedOutbox(t.storage).length, 3);

  t.clock.advance(1000);
  t.socket().open();
  assert.deepEqual(t.socket().take(), [{ type: 'hello', name: 'alice', resume: 'tok-1' }]);
  welcome(t.socket(), { resume: 'tok-2' });
  assert.equal(t.storage.getItem(STORAGE_KEYS.resume), 'tok-2', 'the latest token is kept');
  assert.deepEqual(t.socket().take(), [
    { type: 'join', room: 'lobby', since: 9 },
    { type: 'join', room: 'dev', since: 0 },
    { type: 'send', room: 'lobby', id: one.id, text: 'one' },
    { type: 'send', room: 'dev', id: two.id, text: 'two' },
    { type: 'send', room: 'lobby', id: three.id, text: 'three' },
  ]);

  // lobby: 10 was missed, 11 is "one" (stored before the drop), more is truncated.
  t.socket().receive(joined('lobby', {
    history: [msg('lobby', 10), msg('lobby', 11, { user: 'u-1', from: 'alice', text: 'one', id: one.id })],
    truncated: true, lastId: 20,
  }));
  assert.deepEqual(t.of('messages').at(-1), ['lobby', [{ ...msg('lobby', 10), own: false }], 'newer']);
  assert.deepEqual(t.of('outbox').at(-1)[0], { ...one, state: 'sent', msg_id: 11, ts: msg('lobby', 11).ts },
    'an own message in history settles its outbox entry');
  assert.deepEqual(t.socket().take(), [{ type: 'history', room: 'lobby', after: 11, limit: 200 }]);
  t.socket().receive({ type: 'history', room: 'lobby', messages: [msg('lobby', 12), msg('lobby', 20)], truncated: false });
  assert.deepEqual(t.of('messages').at(-1)[1].map((m) => m.msg_id), [12, 20]);
  assert.deepEqual(t.socket().take(), [], 'caught up: no more pages');

  // The duplicate ack of "one" changes nothing; "two" is acked as a duplicate; "three" new.
  const outboxEvents = t.of('outbox').length;
  t.socket().receive({ type: 'ack', room: 'lobby', id: one.id, msg_id: 11, ts: 1, duplicate: true });
  assert.equal(t.of('outbox').length, outboxEvents);
  t.socket().receive(joined('dev', { lastId: 3 }));
  t.socket().receive({ type: 'ack', room: 'dev', id: two.id, msg_id: 3, ts: 5, duplicate: true });
  t.socket().receive({ type: 'ack', room: 'lobby', id: three.id, msg_id: 21, ts: 6, duplicate: false });
  assert.deepEqual(t.of('outbox').slice(-2).map(([e]) => [e.id, e.state, e.msg_id]), [[two.id, 'sent', 3], [three.id, 'sent', 21]]);
  assert.deepEqual(storedOutbox(t.storage), []);

  // Live messages already seen (through history) are not delivered again.
  const before = t.of('messages').length;
  t.socket().receive(msg('lobby', 20));
  t.socket().receive(msg('lobby', 21, { user: 'u-1', id: three.id }));
  assert.equal(t.of('messages').length, before);
});

test('the outbox survives a reload: a new page resends it after welcome, same ids', () => {
  const first = setup();
  connected(first);
  const entry = first.client.send('lobby', 'unacked');
  first.socket().drop(1006);

  const reloaded = setup({ storage: first.storage, clock: first.clock });
  assert.deepEqual(reloaded.client.rooms, ['lobby']);
  assert.deepEqual(reloaded.client.outboxFor('lobby'), [{ ...entry, state: 'pending', reason: null }]);
  reloaded.client.start();
  reloaded.socket().open();
  assert.deepEqual(reloaded.socket().take(), [{ type: 'hello', name: 'alice', resume: 'tok-1' }]);
  welcome(reloaded.socket());
  assert.deepEqual(reloaded.socket().take(), [
    { type: 'join', room: 'lobby' }, // a new page has no messages yet: no since
    { type: 'send', room: 'lobby', id: entry.id, text: 'unacked' },
  ]);
});

test('older history: history before the oldest msg_id held, until not truncated', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { history: [msg('lobby', 51), msg('lobby', 52)], truncated: true } });
  t.socket().take();
  assert.equal(t.client.loadOlder('lobby'), true);
  assert.equal(t.client.loadOlder('lobby'), false, 'one page at a time');
  assert.deepEqual(t.socket().take(), [{ type: 'history', room: 'lobby', before: 51, limit: 50 }]);
  t.socket().receive({ type: 'history', room: 'lobby', messages: [msg('lobby', 1), msg('lobby', 50)], truncated: false });
  assert.deepEqual(t.of('messages').at(-1)[1].map((m) => m.msg_id), [1, 50]);
  assert.equal(t.of('messages').at(-1)[2], 'older');
  assert.deepEqual(t.client.olderState('lobby'), { hasOlder: false, loading: false });
  assert.equal(t.client.loadOlder('lobby'), false, 'nothing older');
});

test('a server whose history restarted (last_id < since) resets the room', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { history: [msg('lobby', 40)] } });
  t.socket().drop(1001);
  t.clock.advance(1000);
  t.socket().open();
  welcome(t.socket());
  t.socket().take();
  t.socket().receive(joined('lobby', { lastId: 3 }));
  assert.deepEqual(t.of('joined').at(-1), ['lobby', { you: 'alice', asked: 'alice', users: 1, reset: true }]);
  assert.deepEqual(t.socket().take(), [{ type: 'history', room: 'lobby', before: 4, limit: 50 }]);
  t.socket().receive({ type: 'history', room: 'lobby', messages: [msg('lobby', 3)], truncated: false });
  assert.deepEqual(t.of('messages').at(-1)[1].map((m) => m.msg_id), [3]);
});

test('pending → failed after 30 s without ack; still resent on reconnect, then sent', () => {
  const t = setup();
  connected(t);
  t.socket().drop(1006);
  const entry = t.client.send('lobby', 'into the void');
  t.clock.advance(FAIL_AFTER_MS - 1);
  assert.equal(t.of('outbox').filter(([e]) => e.state === 'failed').length, 0);
  t.clock.advance(1);
  assert.deepEqual(t.of('outbox').at(-1)[0], { ...entry, state: 'failed', reason: 'timeout' });

  // The backoff timers ran meanwhile; the latest attempt connects.
  t.socket().open();
  welcome(t.socket());
  assert.deepEqual(t.socket().take().at(-1), { type: 'send', room: 'lobby', id: entry.id, text: 'into the void' });
  t.socket().receive({ type: 'ack', room: 'lobby', id: entry.id, msg_id: 1, ts: 2, duplicate: false });
  assert.equal(t.of('outbox').at(-1)[0].state, 'sent');
});

test('Retry on a failed message reconnects at once instead of waiting out the backoff', () => {
  const t = setup();
  connected(t);
  t.socket().drop(1006);
  const entry = t.client.send('lobby', 'retry me');
  t.clock.advance(FAIL_AFTER_MS);
  const sockets = FakeWebSocket.created.length;
  t.socket().drop(1006); // the attempt in flight fails too: now a timer is pending
  t.client.retry(entry.id);
  assert.equal(FakeWebSocket.created.length, sockets + 1, 'a new attempt right away');
  assert.equal(t.of('outbox').at(-1)[0].state, 'pending');
});

test('a message the server rejects fails, is not resent on reconnect, and Retry sends it again', () => {
  const t = setup();
  connected(t);
  t.socket().take();
  const entry = t.client.send('lobby', 'x'.repeat(10));
  t.socket().take();
  t.socket().receive({ type: 'error', code: 'text_too_long', message: 'too long', ref: 'send', id: entry.id, room: 'lobby' });
  assert.deepEqual(t.of('outbox').at(-1)[0], { ...entry, state: 'failed', reason: 'text_too_long' });
  assert.equal(storedOutbox(t.storage)[0].rejected, 'text_too_long', 'the refusal is remembered across reloads');

  t.socket().drop(1006);
  t.clock.advance(1000);
  t.socket().open();
  welcome(t.socket());
  assert.deepEqual(t.socket().take(), [
    { type: 'hello', name: 'alice', resume: 'tok-1' },
    { type: 'join', room: 'lobby', since: 0 },
  ], 'rejected messages are not resent by themselves');

  t.client.retry(entry.id);
  assert.equal(t.of('outbox').at(-1)[0].state, 'pending');
  assert.deepEqual(t.socket().take(), [{ type: 'send', room: 'lobby', id: entry.id, text: entry.text }]);
});

test('pacing: the client keeps to rate_burst and rate_per_sec; rate_limited resends the same id', () => {
  const t = setup();
  t.client.join('lobby');
  t.client.start();
  t.socket().open();
  welcome(t.socket(), { limits: { ...LIMITS, rate_per_sec: 2, rate_burst: 4 } });
  t.socket().receive(joined('lobby'));
  // hello and join took 2 of 4 tokens.
  const ids = ['a', 'b', 'c', 'd'].map((text) => t.client.send('lobby', text).id);
  assert.deepEqual(t.socket().take().map((f) => f.text ?? f.type), ['hello', 'join', 'a', 'b']);
  t.clock.advance(499);
  assert.deepEqual(t.socket().take(), []);
  t.clock.advance(1);
  assert.deepEqual(t.socket().take().map((f) => f.text), ['c'], 'one more every 1 / rate_per_sec');

  // The server refuses "c" anyway: it goes again, same id, after 1 / rate_per_sec, before "d".
  t.socket().receive({ type: 'error', code: 'rate_limited', message: 'slow down', ref: 'send', id: ids[2], room: 'lobby' });
  assert.equal(t.of('outbox').filter(([e]) => e.state === 'failed').length, 0, 'rate_limited is not a failure');
  t.clock.advance(500);
  assert.deepEqual(t.socket().take(), [{ type: 'send', room: 'lobby', id: ids[2], text: 'c' }]);
  t.clock.advance(500);
  assert.deepEqual(t.socket().take().map((f) => f.text), ['d']);
  assert.equal(t.of('error').length, 0);
});

test('typing: sent at most every 3 s; shown for 5 s, or until that user’s message', () => {
  const t = setup();
  connected(t);
  t.socket().take();
  t.client.typing('lobby');
  t.client.typing('lobby');
  assert.deepEqual(t.socket().take(), [{ type: 'typing', room: 'lobby' }]);
  t.clock.advance(3000);
  t.client.typing('lobby');
  assert.deepEqual(t.socket().take(), [{ type: 'typing', room: 'lobby' }]);
  t.client.send('lobby', 'done');
  t.client.typing('lobby');
  assert.deepEqual(t.socket().take().map((f) => f.type), ['send', 'typing'], 'after a send, typing may go at once');

  t.socket().receive({ type: 'typing', room: 'lobby', user: 'u-2', from: 'bob' });
  assert.deepEqual(t.of('typing').at(-1), ['lobby', [{ user: 'u-2', name: 'bob' }]]);
  t.clock.advance(TYPING_SHOW_MS);
  assert.deepEqual(t.of('typing').at(-1), ['lobby', []]);
  t.socket().receive({ type: 'typing', room: 'lobby', user: 'u-2', from: 'bob' });
  t.socket().receive(msg('lobby', 1));
  assert.deepEqual(t.of('typing').at(-1), ['lobby', []], 'the message ends it');
});

test('members follow joined and presence; a user with two connections counts once', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { members: [{ user: 'u-1', name: 'alice' }, { user: 'u-2', name: 'bob' }] } });
  assert.deepEqual(t.client.membersOf('lobby').map((m) => m.name), ['alice', 'bob']);
  const presence = (event, user, name, extra = {}) =>
    t.socket().receive({ type: 'presence', room: 'lobby', event, user, name, online: 0, ...extra });
  presence('joined', 'u-2', 'bob');
  presence('joined', 'u-3', 'carol');
  assert.deepEqual(t.client.membersOf('lobby').map((m) => [m.name, m.connections]), [['alice', 1], ['bob', 2], ['carol', 1]]);
  presence('left', 'u-2', 'bob');
  presence('left', 'u-3', 'carol');
  presence('renamed', 'u-1', 'alicia', { old: 'alice' });
  assert.deepEqual(t.client.membersOf('lobby').map((m) => [m.name, m.connections]), [['alicia', 1], ['bob', 1]]);
  assert.equal(t.client.name, 'alicia');
  assert.equal(t.storage.getItem(STORAGE_KEYS.name), 'alicia');
});

test('close 1008 (abuse) stops reconnecting; name_invalid on hello stops too', () => {
  const t = setup();
  connected(t);
  t.socket().drop(1008);
  assert.deepEqual(t.clock.pending.filter((ms) => ms < FAIL_AFTER_MS), [], 'no reconnect scheduled');
  assert.deepEqual(t.of('status').at(-1), ['closed', { retryInMs: null, retryAt: null, wasOpen: true, code: 1008 }]);

  const u = setup({ storage: fakeStorage({ [STORAGE_KEYS.name]: 'bad' }) });
  u.client.start();
  u.socket().open();
  u.socket().receive({ type: 'error', code: 'name_invalid', message: 'no', ref: 'hello' });
  assert.equal(u.of('error').at(-1)[0].code, 'name_invalid');
  assert.deepEqual(u.clock.pending, []);
});

// Issue 7 item 12 (PROTOCOL.md, "No-loss delivery"): after a join with since answered
// truncated, live messages start right after `joined`, so they can be newer than the
// gap. Each page is asked `after` the last msg_id of the previous PAGE; repeats are
// dropped; a reconnect in the middle resumes from the end of the last page.
test('catch-up under live traffic: pages after the last page id, never after a live id; exactly once', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { history: [msg('lobby', 10)] } });
  t.socket().drop(1006);
  t.clock.advance(500);
  t.socket().open();
  welcome(t.socket());
  assert.deepEqual(t.socket().take().slice(1), [{ type: 'join', room: 'lobby', since: 10 }]);
  // Missed: 11..30. joined holds 11..15; live 31 and 32 come right after it.
  const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => msg('lobby', a + i));
  t.socket().receive(joined('lobby', { history: range(11, 15), truncated: true, lastId: 30 }));
  t.socket().receive(msg('lobby', 31));
  t.socket().receive(msg('lobby', 32));
  assert.deepEqual(t.socket().take(), [{ type: 'history', room: 'lobby', after: 15, limit: 200 }], 'after the page, not after 32');
  t.socket().receive({ type: 'history', room: 'lobby', messages: range(16, 20), truncated: true });
  t.socket().receive(msg('lobby', 33));
  assert.deepEqual(t.socket().take(), [{ type: 'history', room: 'lobby', after: 20, limit: 200 }]);

  // The connection drops mid-way: since is the end of the last page (20), not 33.
  t.socket().drop(1006);
  t.clock.advance(500);
  t.socket().open();
  welcome(t.socket());
  assert.deepEqual(t.socket().take().slice(1), [{ type: 'join', room: 'lobby', since: 20 }]);
  t.socket().receive(joined('lobby', { history: range(21, 25), truncated: true, lastId: 34 }));
  t.socket().receive(msg('lobby', 34));
  assert.deepEqual(t.socket().take(), [{ type: 'history', room: 'lobby', after: 25, limit: 200 }]);
  // The last page overlaps the live messages already shown (31..34): they are not repeated.
  t.socket().receive({ type: 'history', room: 'lobby', messages: range(26, 34), truncated: false });
  assert.deepEqual(t.socket().take(), [], 'truncated: false ends the paging');

  const delivered = t.of('messages').flatMap(([, list]) => list.map((m) => m.msg_id));
  assert.deepEqual([...delivered].sort((a, b) => a - b), range(10, 34).map((m) => m.msg_id), 'every message once');
  assert.equal(new Set(delivered).size, delivered.length);

  // Caught up: the next reconnect asks since the newest id.
  t.socket().drop(1006);
  t.clock.advance(500);
  t.socket().open();
  welcome(t.socket());
  assert.deepEqual(t.socket().take().slice(1), [{ type: 'join', room: 'lobby', since: 34 }]);
});

test('a catch-up page refused with rate_limited is asked again from the same page end', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { history: [msg('lobby', 1)] } });
  t.socket().drop(1006);
  t.clock.advance(500);
  t.socket().open();
  welcome(t.socket());
  t.socket().take();
  t.socket().receive(joined('lobby', { history: [msg('lobby', 2)], truncated: true, lastId: 9 }));
  t.socket().receive(msg('lobby', 9));
  t.socket().take();
  t.socket().receive({ type: 'error', code: 'rate_limited', message: 'slow', ref: 'history', room: 'lobby' });
  t.clock.advance(1000);
  assert.deepEqual(t.socket().take(), [{ type: 'history', room: 'lobby', after: 2, limit: 200 }]);
});

// Issue 10: leaving a room while offline silently threw its unsent messages away.
test('leave() keeps a room with unsent messages unless told to discard them', () => {
  const t = setup();
  connected(t, ['lobby', 'dev']);
  t.socket().drop(1006);
  t.client.send('dev', 'typed offline');
  assert.equal(t.client.unsentIn('dev'), 1);
  assert.equal(t.client.leave('dev'), 'unsent');
  assert.deepEqual(t.client.rooms, ['lobby', 'dev'], 'still there');
  assert.equal(storedOutbox(t.storage).length, 1, 'still queued');
  assert.equal(t.client.leave('dev', { discard: true }), true);
  assert.deepEqual(t.client.rooms, ['lobby']);
  assert.deepEqual(storedOutbox(t.storage), []);
  assert.equal(t.client.leave('lobby'), true, 'nothing unsent: leaves at once');
});

// Issue 10: a second "Hana" silently became "Hana-2"; "N online" counted tabs.
test('joined reports the name the room shows and the people (not tabs) online', () => {
  const t = setup({ storage: fakeStorage({ [STORAGE_KEYS.name]: 'Hana' }) });
  t.client.join('lobby');
  t.client.start();
  t.socket().open();
  welcome(t.socket(), { name: 'Hana' });
  t.socket().receive({ ...joined('lobby', {
    members: [{ user: 'u-9', name: 'Hana' }, { user: 'u-9', name: 'Hana' }, { user: 'u-1', name: 'Hana-2' }],
  }), you: 'Hana-2' });
  assert.deepEqual(t.of('joined').at(-1), ['lobby', { you: 'Hana-2', asked: 'Hana', users: 2, reset: false }]);
  assert.equal(t.client.name, 'Hana', 'the name asked for is kept for the next hello');

  const presence = (event, user, extra = {}) =>
    t.socket().receive({ type: 'presence', room: 'lobby', event, user, name: user, online: 9, ...extra });
  presence('joined', 'u-9'); // Hana's third tab
  assert.deepEqual(t.of('presence').at(-1)[2], { users: 2, person: null });
  presence('joined', 'u-3');
  assert.deepEqual(t.of('presence').at(-1)[2], { users: 3, person: 'joined' });
  presence('left', 'u-9');
  presence('left', 'u-9');
  assert.deepEqual(t.of('presence').at(-1)[2], { users: 3, person: null }, 'one tab of Hana is still here');
  presence('left', 'u-9');
  assert.deepEqual(t.of('presence').at(-1)[2], { users: 2, person: 'left' });
  // The server's own count wins when it sends one.
  presence('joined', 'u-4', { users: 7 });
  assert.deepEqual(t.of('presence').at(-1)[2], { users: 7, person: 'joined' });
  assert.equal(t.client.usersOnline('lobby'), 7);
});

test('disconnect() (browser offline) makes a sent message wait and reconnect resends it', () => {
  const t = setup();
  connected(t);
  t.socket().take();
  t.client.disconnect();
  assert.equal(t.of('status').at(-1)[0], 'closed');
  assert.equal(t.client.isReady, false);
  const entry = t.client.send('lobby', 'offline');
  t.clock.advance(500);
  t.socket().open();
  welcome(t.socket());
  assert.deepEqual(t.socket().take().at(-1), { type: 'send', room: 'lobby', id: entry.id, text: 'offline' });
});
