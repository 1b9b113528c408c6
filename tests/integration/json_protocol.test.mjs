// parley.v1 session, rooms, presence, typing, rename and leave, through npm
// `ws` as an independent client (docs/PROTOCOL.md is the reference: where the
// server and the document disagree, the test asserts the document).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverForFile, startServer, connect, uniqueRoom, joinNotice } from './lib/server.mjs';
import { JsonClient, jsonUser, jsonRoom, joinSettled, collect, tempDir, removeDir, SUBPROTOCOL, closeAll } from './lib/json_client.mjs';

const server = serverForFile();

const url = (p = '/ws') => server.wsUrl(p);

test('hello is answered with welcome: ids, trimmed name, version, limits', async () => {
  const c = await JsonClient.open(url());
  assert.equal(c.protocol, SUBPROTOCOL, 'the server confirms parley.v1 in its handshake');
  const w = await c.hello(' \t alice \n');
  assert.equal(w.type, 'welcome');
  assert.equal(Object.keys(w)[0], 'type', 'the server writes `type` first');
  assert.equal(w.name, 'alice');
  for (const k of ['session', 'user', 'resume']) assert.ok(typeof w[k] === 'string' && w[k].length > 0, k);
  assert.equal(w.protocol, 1);
  assert.deepEqual(w.limits, {
    // The largest valid request: 6 x max_text_bytes (all escaped) + 4096.
    max_message_bytes: 28096, max_text_bytes: 4000, max_rooms: w.limits.max_rooms,
    history_page_max: 200, rate_per_sec: 50, rate_burst: 500,
    search_page_max: 50, max_reaction_emoji: 20, max_reactions: 1000, quote_chars: 100,
    max_upload_bytes: 10 * 1024 * 1024,
  });
  assert.ok(Number.isInteger(w.limits.max_rooms) && w.limits.max_rooms >= 1);

  const d = await JsonClient.open(url());
  const w2 = await d.hello('alice');
  assert.notEqual(w2.user, w.user, 'two connections without resume are two users');
  assert.notEqual(w2.session, w.session);
  await closeAll(c, d);
  assert.match(w.server, /^parley\/\S+$/, 'welcome.server is `parley/<version>`');
});

test('welcome.limits reflects the server configuration', async () => {
  const dir = tempDir();
  const s = await startServer(['--data-dir', dir, '--max-text-bytes', '123', '--rate', '2.5', '--rate-burst', '7',
    '--max-message-size', '65536']);
  try {
    const c = await JsonClient.open(s.wsUrl('/ws'));
    const w = await c.hello('bob');
    assert.equal(w.limits.max_text_bytes, 123);
    assert.equal(w.limits.rate_per_sec, 2.5);
    assert.equal(w.limits.rate_burst, 7);
    // The largest valid request (6 x 123 + 4096), under --max-message-size.
    assert.equal(w.limits.max_message_bytes, 4834);
    await closeAll(c);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
});

test('JSON clients are in no room until they join, on every chat endpoint', async () => {
  // A plain-text client sits in the lobby; JSON clients connecting to /wss,
  // /ws and /ws/lobby must not show up there.
  const plain = await connect(url('/wss'));
  const jsons = [];
  for (const p of ['/wss', '/ws', '/ws/lobby']) {
    const j = await JsonClient.open(url(p));
    assert.equal(j.protocol, SUBPROTOCOL, p);
    await j.hello('ghost');
    jsons.push(j);
  }
  // The next thing the plain client sees is a second plain client joining,
  // counted as 2: none of the JSON connections was placed in the lobby.
  const plain2 = await connect(url('/ws/lobby'));
  assert.equal(await plain.nextText(), joinNotice(2));
  await closeAll(plain, plain2, ...jsons);
});

test('a room is created by its first join; joined lists members, history and last_id', async () => {
  const room = uniqueRoom('fresh');
  const a = await JsonClient.open(url());
  const wa = await a.hello('alice');
  const ja = await a.join(room);
  assert.deepEqual(ja, {
    type: 'joined', room, you: 'alice', members: [{ user: wa.user, name: 'alice' }],
    history: [], truncated: false, last_id: 0, online: 1, users: 1,
  });

  const b = await JsonClient.open(url());
  const wb = await b.hello('bob');
  const jb = await b.join(room);
  assert.equal(jb.you, 'bob');
  assert.deepEqual(new Set(jb.members.map((m) => JSON.stringify(m))),
    new Set([JSON.stringify({ user: wa.user, name: 'alice' }), JSON.stringify({ user: wb.user, name: 'bob' })]));
  // a sees b arrive; b gets joined, not a presence about itself.
  assert.deepEqual(await a.expect('presence'),
    { type: 'presence', room, event: 'joined', user: wb.user, name: 'bob', online: 2, users: 2 });
  await closeAll(a, b);
});

test('send: ack to the sender, message to the others, ids increasing, sender never gets its own', async () => {
  const room = uniqueRoom('send');
  const [a, b, c] = await jsonRoom(url(), room, ['alice', 'bob', 'carol']);

  const text = 'héllo 你好 👋 <b>&amp;</b>\n\t"quoted" \\ \u0000';
  const ack = await a.say(room, 'a-1', text);
  assert.equal(ack.type, 'ack', JSON.stringify(ack));
  assert.equal(ack.room, room);
  assert.equal(ack.id, 'a-1');
  assert.equal(ack.duplicate, false);
  assert.ok(Number.isInteger(ack.msg_id) && ack.msg_id >= 1);
  assert.ok(Number.isInteger(ack.ts) && Math.abs(ack.ts - Date.now()) < 60000, `ts ${ack.ts} is ms since the epoch`);
  const expected = { type: 'message', room, msg_id: ack.msg_id, ts: ack.ts, user: a.user, from: 'alice', text, id: 'a-1' };
  assert.deepEqual(await b.expect('message'), expected);
  assert.deepEqual(await c.expect('message'), expected);

  const ack2 = await b.say(room, 'b-1', 'second');
  assert.ok(ack2.msg_id > ack.msg_id, 'msg_id strictly increases within the room');
  // Had a received its own message, it would be queued before this one.
  const m = await a.expect('message');
  assert.equal(m.id, 'b-1');
  assert.equal(m.from, 'bob');
  assert.equal((await c.expect('message')).msg_id, ack2.msg_id);
  await closeAll(a, b, c);
});

test('other connections of the same user get the live message', async () => {
  const room = uniqueRoom('tabs');
  const a1 = await jsonUser(url(), 'alice', { rooms: room });
  const a2 = await jsonUser(url(), 'alice', { resume: a1.welcome.resume, rooms: room });
  assert.equal(a2.user, a1.user);
  const ack = await a1.say(room, 'tab-1', 'from tab 1');
  const m = await a2.take('message');
  assert.equal(m.msg_id, ack.msg_id);
  assert.equal(m.user, a1.user);
  assert.equal(m.id, 'tab-1');
  await closeAll(a1, a2);
});

test('a connection in several rooms gets each room’s events, tagged with the room', async () => {
  const r1 = uniqueRoom('multi');
  const r2 = uniqueRoom('multi');
  const a = await jsonUser(url(), 'alice', { rooms: [r1, r2] });
  const b = await jsonUser(url(), 'bob');
  await joinSettled(b, r1, [a]);
  const c = await jsonUser(url(), 'carol');
  await joinSettled(c, r2, [a]);

  const ack1 = await b.say(r1, 'b1', 'to r1');
  const ack2 = await c.say(r2, 'c1', 'to r2');
  const m1 = await a.expect('message');
  const m2 = await a.expect('message');
  assert.deepEqual([m1.room, m1.text, m1.msg_id], [r1, 'to r1', ack1.msg_id]);
  assert.deepEqual([m2.room, m2.text, m2.msg_id], [r2, 'to r2', ack2.msg_id]);

  // a sends to r2 only: c gets it, b (in r1 only) does not.
  await a.say(r2, 'a1', 'only r2');
  assert.equal((await c.expect('message')).text, 'only r2');
  await c.say(r2, 'c2', 'marker r2');
  await a.say(r1, 'a2', 'marker r1');
  assert.equal((await b.expect('message')).text, 'marker r1', 'b never saw the r2 message');
  await closeAll(a, b, c);
});

test('names are unique per room: a clash with another user gets -2, -3 (joined.you, presence, from)', async () => {
  const room = uniqueRoom('names');
  const other = uniqueRoom('names');
  const a = await jsonUser(url(), 'alice', { rooms: room });
  const b = await JsonClient.open(url());
  await b.hello('alice');
  const jb = await b.join(room);
  assert.equal(jb.you, 'alice-2');
  assert.ok(jb.members.some((m) => m.user === b.user && m.name === 'alice-2'));
  assert.deepEqual(await a.expect('presence'),
    { type: 'presence', room, event: 'joined', user: b.user, name: 'alice-2', online: 2, users: 2 });
  const c = await JsonClient.open(url());
  await c.hello('alice');
  assert.equal((await c.join(room)).you, 'alice-3');
  // Where nobody else is called alice, b keeps its name.
  assert.equal((await b.join(other)).you, 'alice');
  // Messages carry the name the room shows.
  await b.say(room, 'x', 'who am I');
  assert.equal((await a.take('message')).from, 'alice-2');
  // The same user on two connections shares one name, no suffix.
  const b2 = await JsonClient.open(url());
  await b2.hello('alice', { resume: b.welcome.resume });
  assert.equal((await b2.join(room)).you, 'alice-2');
  await closeAll(a, b, c, b2);
});

test('joining a room already joined answers a fresh joined, others see no presence', async () => {
  const room = uniqueRoom('rejoin');
  const [a, b] = await jsonRoom(url(), room, ['alice', 'bob']);
  const ack = await b.say(room, 'b1', 'before rejoin');
  await a.take('message');
  const again = await b.join(room);
  assert.equal(again.type, 'joined', `PROTOCOL.md (join): rejoining is allowed; got ${JSON.stringify(again)}`);
  assert.equal(again.last_id, ack.msg_id);
  assert.deepEqual(again.history.map((m) => m.id), ['b1']);
  // a's next event is b's next message, not a presence for the rejoin.
  await b.say(room, 'b2', 'after rejoin');
  assert.equal((await a.next()).type, 'message');
  await closeAll(a, b);
});

test('leave: left to the leaver, presence left to the others, then not_in_room', async () => {
  const room = uniqueRoom('leave');
  const [a, b, c] = await jsonRoom(url(), room, ['alice', 'bob', 'carol']);
  assert.deepEqual(await c.leave(room), { type: 'left', room });
  const p = { type: 'presence', room, event: 'left', user: c.user, name: 'carol', online: 2, users: 2 };
  assert.deepEqual(await a.expect('presence'), p);
  assert.deepEqual(await b.expect('presence'), p);
  const err = await c.say(room, 'c1', 'after leave');
  assert.equal(err.code, 'not_in_room');
  // c is out: a's next event is b's message, nothing from c.
  await b.say(room, 'b1', 'still here');
  assert.equal((await a.expect('message')).id, 'b1');
  // Leaving twice is not_in_room; joining again works.
  assert.equal((await c.leave(room)).code, 'not_in_room');
  assert.equal((await c.join(room)).type, 'joined');
  await closeAll(a, b, c);
});

test('closing the connection leaves every room it was in', async () => {
  const r1 = uniqueRoom('close');
  const r2 = uniqueRoom('close');
  const a = await jsonUser(url(), 'alice', { rooms: [r1, r2] });
  const b = await jsonUser(url(), 'bob');
  await joinSettled(b, r1, [a]);
  const c = await jsonUser(url(), 'carol');
  await joinSettled(c, r2, [a]);
  a.terminate();  // abrupt: no close frame
  assert.deepEqual(await b.take({ type: 'presence', event: 'left' }),
    { type: 'presence', room: r1, event: 'left', user: a.user, name: 'alice', online: 1, users: 1 });
  assert.deepEqual(await c.take({ type: 'presence', event: 'left' }),
    { type: 'presence', room: r2, event: 'left', user: a.user, name: 'alice', online: 1, users: 1 });
  await closeAll(b, c);
});

test('typing goes to the other members only', async () => {
  const room = uniqueRoom('typing');
  const [a, b] = await jsonRoom(url(), room, ['alice', 'bob']);
  await a.send({ type: 'typing', room });
  assert.deepEqual(await b.expect('typing'), { type: 'typing', room, user: a.user, from: 'alice' });
  // a got no typing of its own: its next event is b's message.
  await b.say(room, 'b1', 'done typing');
  assert.equal((await a.next()).type, 'message');
  await closeAll(a, b);
});

test('rename: presence renamed to every member, renamer included, in every room', async () => {
  const r1 = uniqueRoom('rename');
  const r2 = uniqueRoom('rename');
  const a = await jsonUser(url(), 'alice', { rooms: [r1, r2] });
  const b = await jsonUser(url(), 'bob');
  await joinSettled(b, r1, [a]);
  await a.send({ type: 'rename', name: '  Alicia ' });
  const want = (room, online) => ({ type: 'presence', room, event: 'renamed', user: a.user, name: 'Alicia', old: 'alice', online, users: online });
  const got = [await a.take('presence'), await a.take('presence')].sort((x, y) => (x.room < y.room ? -1 : 1));
  assert.deepEqual(got, [want(r1, 2), want(r2, 1)].sort((x, y) => (x.room < y.room ? -1 : 1)));
  assert.deepEqual(await b.expect('presence'), want(r1, 2));
  // Messages now carry the new name.
  await a.say(r1, 'a1', 'new name');
  assert.equal((await b.expect('message')).from, 'Alicia');

  // Renaming to a name another member holds gets the suffix.
  await b.send({ type: 'rename', name: 'Alicia' });
  const p = await a.take('presence');
  assert.deepEqual([p.event, p.user, p.name, p.old], ['renamed', b.user, 'Alicia-2', 'bob']);
  await closeAll(a, b);
});

test('rename in no room gets no event; the next joined.you shows the name', async () => {
  const c = await JsonClient.open(url());
  await c.hello('before');
  await c.send({ type: 'rename', name: 'after' });
  const room = uniqueRoom('renamed');
  const j = await c.join(room);
  assert.equal(j.you, 'after');
  assert.deepEqual(c.queued(), [], 'no event for a rename outside rooms');
  await closeAll(c);
});

test('unknown fields are ignored, null optional fields mean absent, the first duplicate key counts', async () => {
  const room = uniqueRoom('lenient');
  const c = await JsonClient.open(url());
  await c.send({ type: 'hello', name: 'x', resume: null, extra: { nested: [1] }, v: 2 });
  await c.expect('welcome');
  await c.send({ type: 'join', room, since: null, text: 5 });
  assert.equal((await c.expect('joined')).room, room);
  await c.send(`{"type":"send","room":"${room}","id":"d1","text":"first","text":"second"}`);
  const ack = await c.expect('ack');
  const page = await c.history(room, { after: ack.msg_id - 1, limit: 1 });
  assert.equal(page.messages[0].text, 'first');
  await closeAll(c);
});

test('requests are answered in the order received (pipelined join, send, history, leave)', async () => {
  const room = uniqueRoom('order');
  const c = await JsonClient.open(url());
  // Everything in one burst, without waiting for answers.
  await Promise.all([
    c.send({ type: 'hello', name: 'pipe' }),
    c.send({ type: 'join', room }),
    c.send({ type: 'send', room, id: 'p1', text: 'one' }),
    c.send({ type: 'send', room, id: 'p2', text: 'two' }),
    c.send({ type: 'history', room, after: 0 }),
    c.send({ type: 'leave', room }),
  ]);
  const seq = await collect(c, 6);
  assert.deepEqual(seq.map((e) => e.type), ['welcome', 'joined', 'ack', 'ack', 'history', 'left'],
    JSON.stringify(seq));
  assert.deepEqual(seq[4].messages.map((m) => m.id), ['p1', 'p2']);
  await closeAll(c);
});

test('requests are answered in the order received (after joined: send, send, history, leave)', async () => {
  const room = uniqueRoom('order');
  const c = await jsonUser(url(), 'pipe', { rooms: room });
  await Promise.all([
    c.send({ type: 'send', room, id: 'p1', text: 'one' }),
    c.send({ type: 'send', room, id: 'p2', text: 'two' }),
    c.send({ type: 'history', room, after: 0 }),
    c.send({ type: 'leave', room }),
  ]);
  const seq = await collect(c, 4);
  assert.deepEqual(seq.map((e) => e.type), ['ack', 'ack', 'history', 'left'], JSON.stringify(seq));
  assert.deepEqual(seq[2].messages.map((m) => m.id), ['p1', 'p2']);
  await closeAll(c);
});
