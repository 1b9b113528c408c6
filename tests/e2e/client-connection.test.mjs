// web/connection.js on its own, with a fake WebSocket and fake timers: the backoff
// schedule, the close codes that stop reconnecting, and retryNow(), exactly and
// without waiting. (The outbox moved up to parley-client.js: see
// parley-client.test.mjs.) The browser tests show the same code against the server.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BACKOFF, ChatConnection, FATAL_CLOSE_CODES, backoffDelay } from '../../web/connection.js';
import { FakeWebSocket, fakeClock } from './lib/fakes.mjs';

function setup({ random = () => 1, protocols } = {}) {
  FakeWebSocket.created = [];
  const clock = fakeClock();
  const events = [];
  const connection = new ChatConnection('ws://chat.test/ws', {
    protocols,
    WebSocket: FakeWebSocket,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: clock.now,
    random,
    onState: (state, info) => events.push(['state', state, info]),
    onMessage: (text) => events.push(['message', text]),
  });
  const latest = () => FakeWebSocket.created.at(-1);
  return { connection, clock, events, latest };
}

// Issue 10: reconnects took 4.3 s and 15.2 s after the server came back. The cap is
// 5 s now, so no attempt is ever more than 5 s after the server is reachable again.
test('backoff: 0.5 s doubling to a 5 s cap, jittered within [base/2, base]', () => {
  assert.deepEqual(BACKOFF, { initialMs: 500, maxMs: 5000 });
  const high = [0, 1, 2, 3, 4, 5, 20, 2000].map((n) => backoffDelay(n, () => 1));
  assert.deepEqual(high, [500, 1000, 2000, 4000, 5000, 5000, 5000, 5000]);
  const low = [0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, () => 0));
  assert.deepEqual(low, [250, 500, 1000, 2000, 2500, 2500]);
  assert.equal(backoffDelay(2, () => 0.5), 1500);
});

test('offers the subprotocol it is given', () => {
  const { connection, latest } = setup({ protocols: ['parley.v1'] });
  connection.start();
  assert.equal(latest().url, 'ws://chat.test/ws');
  assert.deepEqual(latest().protocols, ['parley.v1']);
  latest().open();
  assert.equal(connection.protocol, 'parley.v1');
});

test('reconnects with growing delays while the server is down, and resets after an open', () => {
  const { connection, clock, latest } = setup();
  connection.start();
  latest().open();

  latest().drop(1001);
  const delays = [];
  for (let i = 0; i < 7; i++) {
    delays.push(clock.fireOnly()); // a new socket is made...
    latest().drop(); // ...and refused
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 5000, 5000, 5000]);

  clock.fireOnly();
  latest().open(); // back: the next loss starts again from 0.5 s
  latest().drop();
  assert.equal(clock.fireOnly(), 500);
});

test('reports states, announcing a lost connection only once, with when the next attempt starts', () => {
  const { connection, clock, events, latest } = setup();
  const start = clock.now();
  connection.start();
  latest().open();
  latest().receive('hello');
  latest().onmessage({ data: new ArrayBuffer(2) }); // binary: not chat text, ignored
  latest().drop(1001);
  clock.fireOnly();
  latest().drop();
  assert.deepEqual(events, [
    ['state', 'connecting', {}],
    ['state', 'open', {}],
    ['message', 'hello'],
    ['state', 'closed', { retryInMs: 500, retryAt: start + 500, wasOpen: true, code: 1001 }],
    ['state', 'connecting', {}],
    ['state', 'closed', { retryInMs: 1000, retryAt: start + 500 + 1000, wasOpen: false, code: 1006 }],
  ]);
});

test('send() goes out only on an open socket', () => {
  const { connection, latest } = setup();
  assert.equal(connection.send('before start'), false);
  connection.start();
  assert.equal(connection.send('while connecting'), false);
  latest().open();
  assert.equal(connection.send('one'), true);
  assert.deepEqual(latest().sent, ['one']);
  latest().drop();
  assert.equal(connection.send('while closed'), false);
});

test('1002, 1003, 1007, 1008, 1009 and 4008 (removed by the operator) stop reconnecting; 1001, 1006 and 1011 do not', () => {
  assert.deepEqual([...FATAL_CLOSE_CODES], [1002, 1003, 1007, 1008, 1009, 4008]);
  for (const code of FATAL_CLOSE_CODES) {
    const { connection, clock, events, latest } = setup();
    connection.start();
    latest().open();
    latest().drop(code);
    assert.deepEqual(clock.pending, [], `no retry after ${code}`);
    assert.deepEqual(events.at(-1), ['state', 'closed', { retryInMs: null, retryAt: null, wasOpen: true, code }]);
    connection.retryNow(); // the user asks: a new attempt
    assert.equal(FakeWebSocket.created.length, 2);
  }
  for (const code of [1001, 1006, 1011]) {
    const { connection, clock, latest } = setup();
    connection.start();
    latest().open();
    latest().drop(code);
    assert.deepEqual(clock.pending, [500], `retry after ${code}`);
  }
});

test('stop() ends reconnecting; retryNow() skips the wait but never doubles a connection', () => {
  const { connection, clock, latest } = setup();
  connection.start();
  connection.retryNow(); // connecting already: nothing more
  assert.equal(FakeWebSocket.created.length, 1);
  latest().drop();
  assert.equal(clock.pending.length, 1);
  connection.retryNow();
  assert.equal(clock.pending.length, 0);
  assert.equal(FakeWebSocket.created.length, 2, 'retried at once');

  latest().open();
  connection.retryNow(); // open: nothing to do
  assert.equal(FakeWebSocket.created.length, 2);
  connection.stop();
  assert.equal(clock.pending.length, 0, 'no retry after stop()');
  assert.equal(connection.isOpen, false);
});

test('events from a replaced socket are ignored', () => {
  const { connection, clock, events, latest } = setup();
  connection.start();
  const old = latest();
  old.drop();
  clock.fireOnly();
  events.length = 0;
  old.onopen({}); // late events from the dead socket
  old.onmessage({ data: 'late' });
  old.onclose({ code: 1006 });
  assert.deepEqual(events, []);
  assert.equal(clock.pending.length, 0);
});

// Issue 10: going offline (the browser's `offline` event) was not noticed: the page said
// "Connected" and messages stayed "pending" until TCP gave up, minutes later.
test('disconnect() (the browser went offline) reports the loss at once and backs off', () => {
  const { connection, clock, events, latest } = setup();
  connection.start();
  const dead = latest();
  dead.open();
  events.length = 0;
  connection.disconnect();
  assert.equal(connection.isOpen, false);
  assert.deepEqual(events, [['state', 'closed', { retryInMs: 500, retryAt: clock.now() + 500, wasOpen: true, code: 1006 }]]);
  dead.drop(1006); // the socket's own close, whenever it comes, changes nothing
  assert.equal(events.length, 1);
  assert.deepEqual(clock.pending, [500]);
  connection.retryNow(); // `online`: try at once
  assert.equal(FakeWebSocket.created.length, 2);
  assert.deepEqual(clock.pending, []);
  connection.disconnect(); // while connecting: that attempt is abandoned too
  assert.deepEqual(clock.pending, [1000]);
  connection.stop();
  connection.disconnect(); // stopped: nothing to do
  assert.deepEqual(clock.pending, []);
});

test('wake() (online, focus, a visible tab) skips the wait but never undoes a fatal close or stop()', () => {
  const { connection, clock, latest } = setup();
  connection.start();
  latest().open();
  connection.wake(); // open: nothing to do
  assert.equal(FakeWebSocket.created.length, 1);
  latest().drop(1006);
  assert.deepEqual(clock.pending, [500]);
  connection.wake();
  assert.equal(FakeWebSocket.created.length, 2, 'at once');
  assert.deepEqual(clock.pending, []);
  latest().open();
  latest().drop(1008); // abuse: the client must not come back by itself
  connection.wake();
  assert.equal(FakeWebSocket.created.length, 2);
  connection.retryNow(); // the user's button does
  assert.equal(FakeWebSocket.created.length, 3);
  connection.stop();
  connection.wake();
  assert.equal(FakeWebSocket.created.length, 3);
});
