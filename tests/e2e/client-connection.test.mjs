// web/connection.js on its own, with a fake WebSocket and fake timers: the backoff
// schedule and the outbox, exactly and without waiting. The browser tests show the
// same code working against the real server.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BACKOFF, ChatConnection, backoffDelay } from '../../web/connection.js';

class FakeWebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 3;
  static created = [];

  constructor(url) {
    this.url = url;
    this.readyState = FakeWebSocket.CONNECTING;
    this.sent = [];
    FakeWebSocket.created.push(this);
  }

  send(text) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('not open');
    this.sent.push(text);
  }

  close() {
    this.drop();
  }

  // Test controls: what the network would do.
  open() {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({});
  }

  receive(data) {
    this.onmessage?.({ data });
  }

  drop() {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code: 1006 });
  }
}

/** Timers that only fire when the test says so. */
function fakeTimers() {
  const pending = new Map();
  let nextId = 1;
  return {
    pending,
    setTimeout: (fn, ms) => {
      pending.set(nextId, { fn, ms });
      return nextId++;
    },
    clearTimeout: (id) => pending.delete(id),
    /** Fires the only pending timer and returns its delay. */
    fire() {
      assert.equal(pending.size, 1, 'exactly one timer pending');
      const [[id, { fn, ms }]] = pending;
      pending.delete(id);
      fn();
      return ms;
    },
  };
}

function setup({ random = () => 1 } = {}) {
  FakeWebSocket.created = [];
  const timers = fakeTimers();
  const events = [];
  const connection = new ChatConnection('ws://chat.test/wss', {
    WebSocket: FakeWebSocket,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    random,
    onState: (state, info) => events.push(['state', state, info]),
    onMessage: (text) => events.push(['message', text]),
    onSent: (id) => events.push(['sent', id]),
  });
  const latest = () => FakeWebSocket.created.at(-1);
  return { connection, timers, events, latest };
}

test('backoff: 1 s doubling to a 30 s cap, jittered within [base/2, base]', () => {
  assert.deepEqual(BACKOFF, { initialMs: 1000, maxMs: 30000 });
  const high = [0, 1, 2, 3, 4, 5, 6, 20, 2000].map((n) => backoffDelay(n, () => 1));
  assert.deepEqual(high, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  const low = [0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, () => 0));
  assert.deepEqual(low, [500, 1000, 2000, 4000, 8000, 15000, 15000]);
  assert.equal(backoffDelay(2, () => 0.5), 3000);
});

test('reconnects with growing delays while the server is down, and resets after an open', () => {
  const { connection, timers, latest } = setup();
  connection.start();
  assert.equal(latest().url, 'ws://chat.test/wss');
  latest().open();

  latest().drop();
  const delays = [];
  for (let i = 0; i < 7; i++) {
    delays.push(timers.fire()); // a new socket is made...
    latest().drop(); // ...and refused
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);

  timers.fire();
  latest().open(); // back: the next loss starts again from 1 s
  latest().drop();
  assert.equal(timers.fire(), 1000);
});

test('reports states, announcing a lost connection only once', () => {
  const { connection, timers, events, latest } = setup();
  connection.start();
  latest().open();
  latest().receive('hello');
  latest().receive(new ArrayBuffer(2)); // binary: not chat text, ignored
  latest().drop();
  timers.fire();
  latest().drop();
  assert.deepEqual(events, [
    ['state', 'connecting', {}],
    ['state', 'open', {}],
    ['message', 'hello'],
    ['state', 'closed', { retryInMs: 1000, wasOpen: true }],
    ['state', 'connecting', {}],
    ['state', 'closed', { retryInMs: 2000, wasOpen: false }],
  ]);
});

test('queues messages while disconnected and sends them in order after the open', () => {
  const { connection, timers, events, latest } = setup();
  connection.start();
  const first = connection.send('one'); // still connecting
  latest().drop();
  const second = connection.send('two'); // waiting to retry
  assert.deepEqual([first.sent, second.sent], [false, false]);
  assert.equal(connection.queued, 2);

  timers.fire();
  events.length = 0;
  latest().open();
  assert.deepEqual(latest().sent, ['one', 'two']);
  assert.deepEqual(events, [['state', 'open', {}], ['sent', first.id], ['sent', second.id]]);
  assert.equal(connection.queued, 0);

  // While open, a message goes straight out and needs no onSent.
  events.length = 0;
  const third = connection.send('three');
  assert.equal(third.sent, true);
  assert.deepEqual(latest().sent, ['one', 'two', 'three']);
  assert.deepEqual(events, []);
});

test('stop() ends reconnecting; retryNow() skips the wait', () => {
  const { connection, timers, latest } = setup();
  connection.start();
  latest().drop();
  assert.equal(timers.pending.size, 1);
  connection.retryNow();
  assert.equal(timers.pending.size, 0);
  assert.equal(FakeWebSocket.created.length, 2, 'retried at once');

  latest().open();
  connection.stop();
  assert.equal(timers.pending.size, 0, 'no retry after stop()');
  assert.equal(connection.isOpen, false);
});

test('events from a replaced socket are ignored', () => {
  const { connection, timers, events, latest } = setup();
  connection.start();
  const old = latest();
  old.drop();
  timers.fire();
  events.length = 0;
  old.onopen({}); // a late event from the dead socket
  old.onclose({});
  assert.deepEqual(events, []);
  assert.equal(timers.pending.size, 0);
});
