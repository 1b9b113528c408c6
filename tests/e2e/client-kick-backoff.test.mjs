// web/parley-client.js on a scripted server (lib/client-harness.mjs): the `kicked`
// event (PROTOCOL.md: the operator removed this user from a room; the client must not
// rejoin by itself) and the backoff on rate_limited (queued messages wait for the
// server's hint, then twice as long per refusal in a row, instead of hammering a
// server whose limit is lower than welcome.limits says).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RATE_BACKOFF, STORAGE_KEYS } from '../../web/parley-client.js';
import { LIMITS, connected, joined, reconnect, setup } from './lib/client-harness.mjs';

test('kicked: the room is forgotten with its queue, the page is told, and it is not rejoined after a reconnect or a reload', () => {
  const t = setup();
  connected(t, ['lobby', 'side']);
  t.socket().take();
  t.socket().drop(1006); // offline: a message waits in the outbox
  t.clock.advance(5000);
  t.client.send('lobby', 'unsent');
  t.socket().open();
  t.socket().receive({ type: 'welcome', session: 's2', user: 'u-1', resume: 'tok-2', name: 'alice', limits: LIMITS });
  t.socket().receive(joined('lobby'));
  t.socket().receive(joined('side'));
  t.socket().receive({ type: 'kicked', room: 'lobby' });
  assert.deepEqual(t.of('kicked'), [['lobby']]);
  assert.deepEqual(t.client.rooms, ['side']);
  assert.deepEqual(JSON.parse(t.storage.getItem(STORAGE_KEYS.rooms)), ['side'], 'a reload does not rejoin it');
  assert.equal(t.of('error').length, 0);
  // A kick of a room this page is not in (a second kick, a late event) changes nothing.
  t.socket().receive({ type: 'kicked', room: 'lobby' });
  t.socket().receive({ type: 'kicked', room: 'elsewhere' });
  assert.deepEqual(t.of('kicked'), [['lobby']]);

  t.socket().take();
  reconnect(t);
  const frames = t.socket().take();
  assert.deepEqual(frames.filter((f) => f.type === 'join').map((f) => f.room), ['side']);
  assert.deepEqual(frames.filter((f) => f.type === 'send'), [], 'the queued message of the room went with it');
});

test('close 4008: the connection stops and says so, without a reconnect loop', () => {
  const t = setup();
  connected(t);
  t.socket().drop(4008);
  assert.deepEqual(t.of('status').at(-1), ['closed', { retryInMs: null, retryAt: null, wasOpen: true, code: 4008 }]);
  const sockets = t.socket;
  const before = sockets();
  t.clock.advance(60000);
  assert.equal(sockets(), before, 'no new attempt in a minute');
  assert.deepEqual(t.clock.pending, []);
});

test('rate_limited backs off: the hint, then doubling up to the cap, one probe per wait; "slow down" is shown; acks bring the pace back', () => {
  const t = setup();
  connected(t);
  t.socket().take();
  const a = t.client.send('lobby', 'a');
  assert.deepEqual(t.socket().take().map((f) => f.text), ['a']);
  const refuse = (id) => t.socket().receive({ type: 'error', code: 'rate_limited', message: 'slow down', ref: 'send', id, room: 'lobby' });
  refuse(a.id);
  const shown = t.of('outbox').filter(([e]) => e.id === a.id).at(-1)[0];
  assert.deepEqual([shown.state, shown.reason], ['pending', 'rate_limited'], 'pending, "slow down"');
  // Typed meanwhile: they wait behind the backoff too, and go after "a".
  const queued = ['b', 'c', 'd'].map((text) => t.client.send('lobby', text));
  assert.deepEqual(t.socket().take(), [], 'nothing is sent while backing off');
  // Until the server takes something: one frame per wait, the oldest, refused again.
  const waitForFrames = () => {
    let waited = 0;
    while (t.socket().sent.length === 0 && waited < 20000) {
      t.clock.advance(10);
      waited += 10;
    }
    return { waited, frames: t.socket().take() };
  };
  const waits = [];
  for (let i = 0; i < 8; ++i) {
    const { waited, frames } = waitForFrames();
    waits.push(waited);
    assert.deepEqual(frames.map((f) => f.id), [a.id], 'one probe, the oldest, same id');
    refuse(a.id);
  }
  const delay = (n) => Math.min(RATE_BACKOFF.maxMs, RATE_BACKOFF.firstMs * 2 ** (n - 1));
  assert.deepEqual(waits, [1, 2, 3, 4, 5, 6, 7, 8].map(delay), 'doubling per refusal in a row, capped');
  assert.equal(t.of('error').length, 0, 'rate_limited is not an error for the page');
  // Under the abuse limit (20 errors in 10 s), however long it lasts.
  assert.ok(waits.slice(-3).reduce((x, y) => x + y, 0) >= 10000);

  // The server takes "a": each ack halves the refusals counted (9 → 4 → 2 → 1 → 0),
  // so the next frames come after shorter and shorter waits, then at full pace.
  let { frames } = waitForFrames();
  assert.deepEqual(frames.map((f) => f.id), [a.id]);
  t.socket().receive({ type: 'ack', room: 'lobby', id: a.id, msg_id: 1, ts: 1 });
  assert.equal(t.of('outbox').filter(([e]) => e.id === a.id).at(-1)[0].state, 'sent');
  const recovery = [];
  for (let i = 0; i < 3; ++i) {
    const next = waitForFrames();
    recovery.push(next.waited);
    assert.deepEqual(next.frames.map((f) => f.id), [queued[i].id]);
    t.socket().receive({ type: 'ack', room: 'lobby', id: queued[i].id, msg_id: 2 + i, ts: 2 + i });
  }
  assert.deepEqual(recovery, [delay(4), delay(2), delay(1)]);
  const e = t.client.send('lobby', 'e');
  const f = t.client.send('lobby', 'f');
  assert.deepEqual(t.socket().take().map((x) => x.id), [e.id, f.id], 'full pace again');
});

test('rate_limited: the server hint (1 / rate_per_sec) is waited for when it is longer than the first backoff', () => {
  const t = setup();
  t.client.join('lobby');
  t.client.start();
  t.socket().open();
  t.socket().receive({ type: 'welcome', session: 's1', user: 'u-1', resume: 'tok-1', name: 'alice', limits: { ...LIMITS, rate_per_sec: 1 } });
  t.socket().receive(joined('lobby'));
  t.socket().take();
  const a = t.client.send('lobby', 'a');
  t.socket().take();
  t.socket().receive({ type: 'error', code: 'rate_limited', message: 'slow down', ref: 'send', id: a.id, room: 'lobby' });
  t.clock.advance(999);
  assert.deepEqual(t.socket().take(), []);
  t.clock.advance(1);
  assert.deepEqual(t.socket().take().map((f) => f.id), [a.id]);
});
