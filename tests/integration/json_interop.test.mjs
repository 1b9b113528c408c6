// Plain-text (seed) clients and parley.v1 clients in the same room, and one
// room spread over two event loops (`--threads 2`), through npm `ws`
// (docs/PROTOCOL.md, "Plain-text protocol").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverForFile, startServer, connect, uniqueRoom, joinNotice, leaveNotice } from './lib/server.mjs';
import { JsonClient, jsonUser, jsonRoom, joinSettled, tempDir, removeDir, closeAll } from './lib/json_client.mjs';

const server = serverForFile();

const url = (p = '/ws') => server.wsUrl(p);

// Waits until the plain client's frames sent so far have been read by the
// server: a ping is answered after the frames before it.
async function barrier(plain) {
  plain.ws.ping('b');
  await plain.nextPong();
}

test('a plain-text client and JSON clients in one room see each other’s messages and presence', async () => {
  const room = uniqueRoom('mixed');
  const a = await jsonUser(url(), 'alice', { rooms: room });

  const p = await connect(url(`/ws/${room}`));
  const pj = await a.take({ type: 'presence', event: 'joined' });
  assert.match(pj.name, /^guest-\d+$/);
  assert.equal(pj.online, 2);
  assert.ok(typeof pj.user === 'string' && pj.user.length > 0 && pj.user !== a.user);
  const guest = pj.name;

  // Plain -> JSON: a message event from guest-<n> with an empty client id.
  await p.send('hello from the seed page 你好');
  const m = await a.expect('message');
  assert.deepEqual({ ...m, msg_id: 0, ts: 0 }, {
    type: 'message', room, msg_id: 0, ts: 0, user: pj.user, from: guest, text: 'hello from the seed page 你好', id: '',
  });
  // JSON -> plain: "name: text".
  await a.say(room, 'a1', 'hi guest');
  assert.equal(await p.nextText(), 'alice: hi guest');

  // A JSON join is a seed notice for the plain client, with the count.
  const b = await jsonUser(url(), 'bob');
  await joinSettled(b, room, [a]);
  assert.equal(await p.nextText(), joinNotice(3));
  // Typing, rename and acks never reach the plain client: its next frame is
  // the next chat message.
  await a.send({ type: 'typing', room });
  await b.take('typing');
  await a.send({ type: 'rename', name: 'Alice' });
  await b.take({ type: 'presence', event: 'renamed' });
  await b.say(room, 'b1', 'from bob');
  assert.equal(await p.nextText(), 'bob: from bob');
  await a.say(room, 'a2', 'renamed');
  assert.equal(await p.nextText(), 'Alice: renamed');

  // Leaves: a notice for the plain client, presence for JSON.
  await b.leave(room);
  assert.equal(await p.nextText(), leaveNotice(2));
  await a.take({ type: 'presence', event: 'left', user: b.user });
  p.close(1000);
  await p.waitClose();
  assert.deepEqual(await a.take({ type: 'presence', event: 'left' }),
    { type: 'presence', room, event: 'left', user: pj.user, name: guest, online: 1, users: 1 });

  // The plain message is in history like any other.
  const h = await a.allAfter(room, 0);
  assert.deepEqual(h.map((x) => [x.from, x.text]), [
    [guest, 'hello from the seed page 你好'], ['alice', 'hi guest'], ['bob', 'from bob'], ['Alice', 'renamed'],
  ]);
  await closeAll(a, b);
});

test('plain-text members: verbatim between them, never their own, guest names count up', async () => {
  const room = uniqueRoom('plain');
  const a = await jsonUser(url(), 'alice', { rooms: room });
  const p1 = await connect(url(`/ws/${room}`));
  const n1 = (await a.take({ type: 'presence', event: 'joined' })).name;
  const p2 = await connect(url(`/ws/${room}`));
  const n2 = (await a.take({ type: 'presence', event: 'joined' })).name;
  assert.equal(await p1.nextText(), joinNotice(3));
  assert.ok(Number(n2.slice(6)) > Number(n1.slice(6)), `${n1} then ${n2}`);
  await p1.send('raw words');
  assert.equal(await p2.nextText(), 'raw words', 'plain to plain is verbatim');
  assert.equal((await a.expect('message')).from, n1);
  await p2.send('back');
  assert.equal(await p1.nextText(), 'back', 'p1 got no copy of its own message before this');
  await closeAll(a, p1, p2);
});

test('plain-text: texts within max_text_bytes are relayed as in the seed, longer ones get a notice', async () => {
  // One text limit for both protocols (PROTOCOL.md, plain text): the empty
  // text is relayed as the seed does; one over the limit is neither relayed
  // nor stored, its sender is told in the seed's style and stays connected.
  const dir = tempDir();
  const s = await startServer(['--data-dir', dir, '--max-text-bytes', '10']);
  try {
    const room = uniqueRoom('plain-limits');
    const a = await jsonUser(s.wsUrl('/ws'), 'alice', { rooms: room });
    const p = await connect(s.wsUrl(`/ws/${room}`));
    await a.take({ type: 'presence', event: 'joined' });
    const sent = ['', 'x'.repeat(11), 'é'.repeat(6), 'x'.repeat(10), 'ok'];
    for (const t of sent) await p.send(t);
    assert.equal(await p.nextText(), '系统通知: 消息过长');  // for the 11 x
    assert.equal(await p.nextText(), '系统通知: 消息过长');  // for the 12 bytes of é
    const relayed = ['', 'x'.repeat(10), 'ok'];
    for (const t of relayed) {
      const m = await a.expect('message');
      assert.equal(m.text, t, `relayed in order: ${JSON.stringify(m)}`);
    }
    const h = await a.allAfter(room, 0);
    assert.deepEqual(h.map((x) => x.text), relayed);
    await p.send('still here');
    assert.equal((await a.expect('message')).text, 'still here');
    await closeAll(a, p);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
});

test('plain-text on /ws (no subprotocol) is the lobby, as /wss', async () => {
  const p = await connect(url('/ws'));  // PROTOCOL.md, Transport
  const q = await connect(url('/wss'));
  assert.equal(await p.nextText(), joinNotice(2));
  await closeAll(p, q);
});

test('plain-text connections are rate limited: excess dropped silently, then closed with 1008', async () => {
  const dir = tempDir();
  // Burst 4: the JSON observer needs hello, join, send and history (every
  // request takes a token); the plain-text client gets the same 4.
  const s = await startServer(['--data-dir', dir, '--rate', '0.01', '--rate-burst', '4']);
  try {
    const room = uniqueRoom('plain-rate');
    const a = await jsonUser(s.wsUrl('/ws'), 'alice', { rooms: room });
    const p = await connect(s.wsUrl(`/ws/${room}`));
    await a.take({ type: 'presence', event: 'joined' });
    for (let i = 0; i < 7; i++) await p.send(`p${i}`);
    await barrier(p);
    await a.say(room, 'marker', 'marker');
    const h = await a.allAfter(room, 0);
    assert.deepEqual(h.map((x) => x.text), ['p0', 'p1', 'p2', 'p3', 'marker'],
      'the burst passes, the rest is dropped');
    // 3 drops so far; 20 more exceed the abuse limit.
    for (let i = 0; i < 20; i++) await p.send(`q${i}`);
    assert.equal((await p.waitClose()).code, 1008);
    await closeAll(a);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
});

test('--threads 2: clients on both loops see one order of messages and presence', async () => {
  const dir = tempDir();
  const s = await startServer(['--data-dir', dir, '--threads', '2', '--rate', '100000', '--rate-burst', '100000']);
  try {
    const room = uniqueRoom('loops');
    // Connections are spread over the loops round-robin: 6 clients cover both.
    const clients = await jsonRoom(s.wsUrl('/ws'), room, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
    const plain = await connect(s.wsUrl(`/ws/${room}`));
    for (const c of clients) await c.take({ type: 'presence', event: 'joined' });
    const perClient = 60;
    // Everyone sends at once.
    await Promise.all(clients.flatMap((c, k) =>
      Array.from({ length: perClient }, (_, i) => c.send({ type: 'send', room, id: `${k}-${i}`, text: `${k}-${i}` }))));
    const acks = new Map();  // msg_id -> text
    const views = [];
    for (const [k, c] of clients.entries()) {
      const view = [];  // this client's sequence: live messages and its own acks, in arrival order
      let own = 0;
      let others = 0;
      while (own < perClient || others < perClient * (clients.length - 1)) {
        const e = await c.next(10000);
        if (e.type === 'ack') {
          own++;
          acks.set(e.msg_id, e.id);
          view.push([e.msg_id, e.id]);
        } else if (e.type === 'message') {
          others++;
          view.push([e.msg_id, e.text]);
        } else {
          assert.fail(`client ${k}: unexpected ${JSON.stringify(e)}`);
        }
      }
      views.push(view);
    }
    const all = [...acks.entries()].sort((x, y) => x[0] - y[0]);
    assert.equal(all.length, perClient * clients.length);
    for (const [k, view] of views.entries()) {
      const live = view.filter(([, t]) => !t.startsWith(`${k}-`));
      for (let i = 1; i < live.length; i++) {
        assert.ok(live[i][0] > live[i - 1][0], `client ${k} got ${live[i - 1][0]} before ${live[i][0]}`);
      }
      assert.deepEqual([...view].sort((x, y) => x[0] - y[0]), all, `client ${k} has every message once`);
    }
    // Each sender's messages are in its sending order.
    for (let k = 0; k < clients.length; k++) {
      const mine = all.filter(([, t]) => t.startsWith(`${k}-`)).map(([, t]) => Number(t.split('-')[1]));
      assert.deepEqual(mine, [...mine].sort((x, y) => x - y), `sender ${k} order`);
    }
    // The plain-text member saw the same order.
    const texts = [];
    while (texts.length < all.length) {
      const t = await plain.nextText(10000);
      texts.push(t.replace(/^c\d: /, ''));
    }
    assert.deepEqual(texts, all.map(([, t]) => t));
    // Presence: a leave is seen by everyone, after every message.
    clients[5].close(1000);
    for (const c of clients.slice(0, 5)) {
      assert.deepEqual(await c.expect('presence'),
        { type: 'presence', room, event: 'left', user: clients[5].user, name: 'c5', online: 6, users: 6 });
    }
    assert.equal(await plain.nextText(), leaveNotice(6));
    await closeAll(plain, ...clients.slice(0, 5));
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
});
