// Chat semantics of the seed, through npm `ws`: broadcast to the others,
// join/leave notices with the room's count, isolated rooms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverForFile, connect, connectRoom, uniqueRoom, joinNotice, leaveNotice } from './lib/server.mjs';

const server = serverForFile();

test('a text message reaches every other client verbatim, never its sender', async () => {
  const [a, b, c] = await connectRoom(server.wsUrl(`/ws/${uniqueRoom()}`), 3);
  const text = 'héllo 你好 👋 <b>&amp;</b>\n\t"quoted"';
  await a.send(text);
  assert.equal(await b.nextText(), text);
  assert.equal(await c.nextText(), text);
  // If `a` had received its own message it would be queued before this one.
  await b.send('from b');
  assert.equal(await a.nextText(), 'from b');
  assert.equal(await c.nextText(), 'from b');
  for (const x of [a, b, c]) x.close(1000);
  await Promise.all([a, b, c].map((x) => x.waitClose()));
});

test('messages from one sender arrive in order', async () => {
  const [a, b] = await connectRoom(server.wsUrl(`/ws/${uniqueRoom()}`), 2);
  const sent = Array.from({ length: 200 }, (_, i) => `msg ${i}`);
  for (const m of sent) a.send(m);
  for (const m of sent) assert.equal(await b.nextText(), m);
  a.close(1000); b.close(1000);
  await Promise.all([a.waitClose(), b.waitClose()]);
});

test('join and leave notices carry the count of the room, and go only to the others', async () => {
  const url = server.wsUrl(`/ws/${uniqueRoom()}`);
  const a = await connect(url);
  const b = await connect(url);
  assert.equal(await a.nextText(), joinNotice(2));
  const c = await connect(url);
  assert.equal(await a.nextText(), joinNotice(3));
  assert.equal(await b.nextText(), joinNotice(3));
  // The newcomer gets no notice of its own: the first thing c sees is a's message.
  await a.send('welcome');
  assert.equal(await c.nextText(), 'welcome');
  assert.equal(await b.nextText(), 'welcome');

  c.close(1000);
  await c.waitClose();
  assert.equal(await a.nextText(), leaveNotice(2));
  assert.equal(await b.nextText(), leaveNotice(2));

  // An abrupt TCP close (no close frame) is a leave as well.
  b.terminate();
  assert.equal(await a.nextText(), leaveNotice(1));

  // The room is reusable and counts from the current population.
  const d = await connect(url);
  assert.equal(await a.nextText(), joinNotice(2));
  await d.send('hi a');
  assert.equal(await a.nextText(), 'hi a');
  a.close(1000); d.close(1000);
  await Promise.all([a.waitClose(), d.waitClose()]);
});

test('rooms are isolated, and /wss is the room "lobby"', async () => {
  const roomA = uniqueRoom('a');
  const roomB = uniqueRoom('b');
  const [a1, a2] = await connectRoom(server.wsUrl(`/ws/${roomA}`), 2);
  const b1 = await connect(server.wsUrl(`/ws/${roomB}`));
  // b1 joined another room: a1/a2 get no notice; b1 sees nothing of room A.
  await a1.send('only for room A');
  assert.equal(await a2.nextText(), 'only for room A');
  const b2 = await connect(server.wsUrl(`/ws/${roomB}`));
  assert.equal(await b1.nextText(), joinNotice(2));
  await b2.send('only for room B');
  assert.equal(await b1.nextText(), 'only for room B');
  // a2's next message is from a1, proving neither B's notice nor B's chat leaked in.
  await a1.send('still A');
  assert.equal(await a2.nextText(), 'still A');
  assert.equal(a1.messages.length, 0);

  // /wss and /ws/lobby are the same room.
  const l1 = await connect(server.wsUrl('/wss'));
  const l2 = await connect(server.wsUrl('/ws/lobby'));
  assert.equal(await l1.nextText(), joinNotice(2));
  await l2.send('lobby via /ws/lobby');
  assert.equal(await l1.nextText(), 'lobby via /ws/lobby');
  await l1.send('lobby via /wss');
  assert.equal(await l2.nextText(), 'lobby via /wss');

  for (const x of [a1, a2, b1, b2, l1, l2]) x.close(1000);
  await Promise.all([a1, a2, b1, b2, l1, l2].map((x) => x.waitClose()));
});

test('room names in the path: the room rules after percent-decoding (docs/PROTOCOL.md), anything else is 404', async () => {
  const ok = await connect(server.wsUrl(`/ws/${'aZ0._-'.repeat(10)}abcd`));
  ok.close(1000);
  await ok.waitClose();
  // Percent-encoded as browsers do, decoded into one room: "café" both ways.
  const [c1, c2] = [await connect(server.wsUrl('/ws/caf%C3%A9')), await connect(server.wsUrl('/ws/caf%C3%A9'))];
  assert.equal(await c1.nextText(), joinNotice(2));
  c1.close(1000); c2.close(1000);
  await Promise.all([c1.waitClose(), c2.waitClose()]);
  for (const bad of ['/ws/', `/ws/${'a'.repeat(65)}`, '/ws/a%20b', '/ws/a/b', '/ws/a+b', '/ws/a~b', '/wss/x',
    '/ws/%E6%88', '/ws/%zz', '/ws/%F0%9F%98%80', '/ws/..']) {
    await assert.rejects(connect(server.wsUrl(bad)), (e) => e.status === 404, `expected 404 for ${bad}`);
  }
});

test('a binary message in chat closes that client with 1003; the room carries on', async () => {
  const [a, b, c] = await connectRoom(server.wsUrl(`/ws/${uniqueRoom()}`), 3);
  await a.send(Buffer.from([1, 2, 3]));
  const { code } = await a.waitClose();
  assert.equal(code, 1003);
  assert.equal(await b.nextText(), leaveNotice(2));
  assert.equal(await c.nextText(), leaveNotice(2));
  await b.send('after binary');
  assert.equal(await c.nextText(), 'after binary');
  b.close(1000); c.close(1000);
  await Promise.all([b.waitClose(), c.waitClose()]);
});

test('a client-initiated close is echoed with the same code', async () => {
  const a = await connect(server.wsUrl(`/ws/${uniqueRoom()}`));
  a.close(4321, 'bye');
  const { code } = await a.waitClose();
  assert.equal(code, 4321);
});
