// Every parley.v1 error code the server can produce from the outside, the
// field rules behind them, rate limiting and the abuse close (1008), through
// npm `ws` (docs/PROTOCOL.md, "Errors", "Field rules", "Rate limiting").
//
// Not triggerable from a client: `history_unavailable` (the history store
// failing to read) and `internal` (the store failing to write, out of memory).
//
// A connection that causes more than 20 errors in 10 s is closed, so the
// cases are spread over fresh connections, a few each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverForFile, startServer, uniqueRoom } from './lib/server.mjs';
import { JsonClient, jsonUser, collect, tempDir, removeDir, closeAll } from './lib/json_client.mjs';
import { RawClient, OP } from './lib/raw.mjs';

const server = serverForFile();

const url = (p = '/ws') => server.wsUrl(p);

// Sends each raw frame on `c` and expects an error with `code` for each,
// then checks the connection still works (an error never closes by itself).
async function expectErrors(c, cases) {
  for (const [frame, code, fields = {}] of cases) {
    await c.send(frame);
    const e = await c.next();
    assert.equal(e.type, 'error', `${typeof frame === 'string' ? frame : JSON.stringify(frame)} -> ${JSON.stringify(e)}`);
    assert.equal(e.code, code, `${typeof frame === 'string' ? frame : JSON.stringify(frame)} -> ${JSON.stringify(e)}`);
    assert.equal(typeof e.message, 'string');
    for (const [k, v] of Object.entries(fields)) {
      assert.deepEqual(e[k], v, `field ${k} of the error for ${typeof frame === 'string' ? frame : JSON.stringify(frame)}: ${JSON.stringify(e)}`);
    }
  }
}

// A connection after hello, in `room`.
async function ready(room, name = 'tester') {
  return jsonUser(url(), name, { rooms: room ? [room] : [] });
}

test('bad_json: not one complete JSON text, too deep, lone surrogate', async () => {
  const c = await ready();
  await expectErrors(c, [
    ['{', 'bad_json'],
    ['hello', 'bad_json'],
    ['', 'bad_json'],
    ['{"type":"typing","room":"x"} {}', 'bad_json'],
    ['{"type":"typing","room":"x"}x', 'bad_json'],
    ['{"type":"hello","name":"\\ud800"}', 'bad_json'],
    ['{"type":"hello","x":{"y":[[[1]]]}}', 'bad_json'],  // 5 levels
    ["{'type':'hello'}", 'bad_json'],
  ]);
  // Exactly 4 levels is accepted (and the unknown field ignored).
  const room = uniqueRoom('deep');
  await c.send(`{"type":"join","room":"${room}","x":{"y":[[1]]}}`);
  assert.equal((await c.next()).type, 'joined');
  await closeAll(c);
});

test('bad_message: not an object, type missing or not a string, field missing or mistyped', async () => {
  const c = await ready();
  await expectErrors(c, [
    ['[]', 'bad_message'],
    ['"hello"', 'bad_message'],
    ['42', 'bad_message'],
    ['null', 'bad_message'],
    ['{}', 'bad_message'],
    ['{"name":"x"}', 'bad_message'],
    ['{"type":5}', 'bad_message'],
    ['{"type":null}', 'bad_message'],
    [{ type: 'join' }, 'bad_message', { ref: 'join' }],
    [{ type: 'join', room: 5 }, 'bad_message', { ref: 'join' }],
    [{ type: 'send', id: 'x1', room: 'r' }, 'bad_message', { ref: 'send', id: 'x1', room: 'r' }],
    [{ type: 'send', id: 'x2', room: 'r', text: 5 }, 'bad_message', { ref: 'send', id: 'x2' }],
    [{ type: 'rename' }, 'bad_message', { ref: 'rename' }],
    [{ type: 'leave' }, 'bad_message', { ref: 'leave' }],
  ]);
  await closeAll(c);
});

test('bad_message: integers must be plain digits from 0 to 2^53', async () => {
  const room = uniqueRoom('ints');
  const c = await ready(room);
  const cases = [];
  for (const v of ['-1', '1.0', '1e2', '"5"', '9007199254740993', 'true']) {
    cases.push([`{"type":"join","room":"${room}x","since":${v}}`, 'bad_message', { ref: 'join' }]);
    cases.push([`{"type":"history","room":"${room}","before":${v}}`, 'bad_message', { ref: 'history', room }]);
  }
  await expectErrors(c, cases);
  await closeAll(c);
  // 2^53 itself is accepted.
  const d = await ready(room);
  const h = await d.history(room, { before: 9007199254740992 });
  assert.equal(h.type, 'history', JSON.stringify(h));
  await closeAll(d);
});

test('bad_message: history needs exactly one of before/after, limit 1..history_page_max', async () => {
  const room = uniqueRoom('hist');
  const c = await ready(room);
  await expectErrors(c, [
    [{ type: 'history', room }, 'bad_message', { ref: 'history', room }],
    [{ type: 'history', room, before: 5, after: 1 }, 'bad_message', { ref: 'history', room }],
    [{ type: 'history', room, before: 5, limit: 0 }, 'bad_message'],
    [{ type: 'history', room, before: 5, limit: 201 }, 'bad_message'],
    [{ type: 'history', room, before: 5, after: null, limit: 1.5 }, 'bad_message'],
  ]);
  const ok = await c.history(room, { before: 5, after: null, limit: 200 });
  assert.equal(ok.type, 'history');
  await closeAll(c);
});

test('bad_message: resume that cannot be a token; "" and null mean no token', async () => {
  for (const resume of ['x'.repeat(129), 'has space', 'tab\there', 'é', 5]) {
    const c = await JsonClient.open(url());
    await expectErrors(c, [[{ type: 'hello', name: 'r', resume }, 'bad_message', { ref: 'hello' }]]);
    // The failed hello did not count: hello still works.
    assert.equal((await c.hello('r')).type, 'welcome');
    await closeAll(c);
  }
  for (const resume of ['', null, 'x'.repeat(128)]) {
    const c = await JsonClient.open(url());
    const w = await c.hello('r', { resume });
    assert.equal(w.type, 'welcome', `resume ${JSON.stringify(resume)}`);
    await closeAll(c);
  }
});

test('unknown_type echoes up to 64 bytes of the type as ref', async () => {
  const c = await ready();
  const long = 'z'.repeat(100);
  await expectErrors(c, [
    [{ type: 'shout', room: 'x' }, 'unknown_type', { ref: 'shout' }],
    [{ type: 'Hello', name: 'x' }, 'unknown_type', { ref: 'Hello' }],
    [{ type: long }, 'unknown_type', { ref: 'z'.repeat(64) }],
    [{ type: '' }, 'unknown_type'],
  ]);
  // Cut on a character boundary: 30 × "é" (60 bytes) + "中" (3) + "x".
  await c.send({ type: `${'é'.repeat(30)}中中` });
  const e = await c.expect('error');
  assert.equal(e.code, 'unknown_type');
  assert.ok(Buffer.byteLength(e.ref) <= 64 && `${'é'.repeat(30)}中中`.startsWith(e.ref), e.ref);
  // Before hello, an unknown type is still unknown_type (it is not a client message).
  const d = await JsonClient.open(url());
  await expectErrors(d, [[{ type: 'nope' }, 'unknown_type', { ref: 'nope' }]]);
  await closeAll(c, d);
});

test('hello_required before hello (not processed), hello_repeated after it', async () => {
  const room = uniqueRoom('hello');
  const c = await JsonClient.open(url());
  await expectErrors(c, [
    [{ type: 'join', room }, 'hello_required', { ref: 'join' }],
    [{ type: 'send', room, id: 'e1', text: 'x' }, 'hello_required', { ref: 'send' }],
    [{ type: 'rename', name: 'x' }, 'hello_required', { ref: 'rename' }],
    [{ type: 'typing', room }, 'hello_required', { ref: 'typing' }],
    [{ type: 'leave', room }, 'hello_required', { ref: 'leave' }],
    [{ type: 'history', room, after: 0 }, 'hello_required', { ref: 'history' }],
  ]);
  const w = await c.hello('late');
  // The join before hello was not processed: the connection is in no room.
  assert.equal((await c.say(room, 'e2', 'x')).code, 'not_in_room');
  await expectErrors(c, [[{ type: 'hello', name: 'again' }, 'hello_repeated', { ref: 'hello' }]]);
  // The repeated hello changed nothing.
  assert.equal((await c.join(room)).you, w.name);
  await closeAll(c);
});

test('hello_required echoes the request’s valid id and room, like every error', async () => {
  // PROTOCOL.md (error): "`ref`, `id` and `room` are present when the request
  // had them and they were valid".
  const room = uniqueRoom('hello');
  const c = await JsonClient.open(url());
  await expectErrors(c, [
    [{ type: 'join', room }, 'hello_required', { ref: 'join', room }],
    [{ type: 'send', room, id: 'e1', text: 'x' }, 'hello_required', { ref: 'send', id: 'e1', room }],
  ]);
  await closeAll(c);
});

test('name_invalid: empty, too long, control characters (hello and rename)', async () => {
  const bad = ['', '   ', '\t\n', 'a'.repeat(33), '😀'.repeat(33), 'a\u0000b', 'a\u001fb', 'a\u007fb', 'a\u0085b', 'a\u009fb', 5];
  const c = await JsonClient.open(url());
  await expectErrors(c, bad.slice(0, 6).map((name) => [{ type: 'hello', name }, typeof name === 'string' ? 'name_invalid' : 'bad_message', { ref: 'hello' }]));
  await closeAll(c);
  const d = await JsonClient.open(url());
  await expectErrors(d, bad.slice(6).map((name) => [{ type: 'hello', name }, typeof name === 'string' ? 'name_invalid' : 'bad_message', { ref: 'hello' }]));
  await d.hello('fine');
  await expectErrors(d, [
    [{ type: 'rename', name: '' }, 'name_invalid', { ref: 'rename' }],
    [{ type: 'rename', name: 'x'.repeat(33) }, 'name_invalid', { ref: 'rename' }],
  ]);
  await closeAll(d);
});

test('names: 32 code points, emoji sequences counted by code point, NFC, white space trimmed at the ends only', async () => {
  const good = ['a'.repeat(32), '😀'.repeat(32), '👨‍👩‍👧', '<b>&"\'', 'a\u00a0b\u3000c', 'é', '我的名字'];
  for (const name of good) {
    const c = await JsonClient.open(url());
    const w = await c.hello(name);
    assert.equal(w.type, 'welcome', JSON.stringify(name));
    assert.equal(w.name, name);
    await closeAll(c);
  }
  // Normalised: Unicode white space trimmed at both ends, decomposed input composed (NFC).
  for (const [sent, stored] of [['\u00a0nbsp\u3000', 'nbsp'], ['Jose\u0301', 'Jos\u00e9']]) {
    const c = await JsonClient.open(url());
    assert.equal((await c.hello(sent)).name, stored, JSON.stringify(sent));
    await closeAll(c);
  }
  // Invisible and bidi characters: zero-width joiner between letters, RLO, a noncharacter.
  const n = await JsonClient.open(url());
  assert.equal((await n.hello('n')).type, 'welcome');
  await expectErrors(n, ['ad\u200dmin', 'Bob\u202egnp.exe', 'a\ufffe', '\u3000'].map((name) => [{ type: 'rename', name }, 'name_invalid']));
  await closeAll(n);
  // 👨‍👩‍👧 is 5 code points: 6 of them (30) pass, 7 (35) do not.
  const c = await JsonClient.open(url());
  assert.equal((await c.hello('👨‍👩‍👧'.repeat(6))).type, 'welcome');
  await expectErrors(c, [[{ type: 'rename', name: '👨‍👩‍👧'.repeat(7) }, 'name_invalid']]);
  await closeAll(c);
});

test('room_invalid: the room rule, for every room-addressed message; an invalid room is not echoed', async () => {
  const c = await ready();
  const bad = ['', 'r'.repeat(65), 'a/b', 'a b', 'a:b', '../x', '.', '..', 'cafe\u0301', 'a\u200db', '😀'];
  await expectErrors(c, bad.map((room) => [{ type: 'join', room }, 'room_invalid', { ref: 'join', room: undefined }]));
  await expectErrors(c, [
    [{ type: 'leave', room: 'a b' }, 'room_invalid', { ref: 'leave', room: undefined }],
    [{ type: 'typing', room: 'a b' }, 'room_invalid', { ref: 'typing' }],
    [{ type: 'history', room: 'a b', after: 0 }, 'room_invalid', { ref: 'history' }],
    [{ type: 'send', room: 'a b', id: 'r1', text: 'x' }, 'room_invalid', { ref: 'send', id: 'r1', room: undefined }],
  ]);
  await closeAll(c);
  const d = await ready();
  for (const room of ['r'.repeat(64), 'A-z_0.9', '.x', '-', 'é', '我的房间', '房'.repeat(64)]) {
    assert.equal((await d.join(room)).type, 'joined', room);
  }
  await closeAll(d);
});

test('not_in_room: send, typing, leave and history outside the room', async () => {
  const room = uniqueRoom('out');
  const member = await ready(room, 'member');
  const c = await ready();
  await expectErrors(c, [
    [{ type: 'send', room, id: 'n1', text: 'x' }, 'not_in_room', { ref: 'send', id: 'n1', room }],
    [{ type: 'typing', room }, 'not_in_room', { ref: 'typing', room }],
    [{ type: 'leave', room }, 'not_in_room', { ref: 'leave', room }],
    [{ type: 'history', room, after: 0 }, 'not_in_room', { ref: 'history', room }],
  ]);
  // Nothing reached the room: the member's next event is its own ack.
  const ack = await member.say(room, 'm1', 'alone');
  assert.equal(ack.type, 'ack');
  assert.deepEqual(member.queued(), []);
  assert.equal(ack.msg_id, 1, 'the refused send was not stored');
  await closeAll(member, c);
});

test('too_many_rooms: join beyond limits.max_rooms; leaving one makes room', async () => {
  const c = await JsonClient.open(url());
  const w = await c.hello('roamer');
  const max = w.limits.max_rooms;
  const rooms = Array.from({ length: max }, () => uniqueRoom('many'));
  for (const r of rooms) assert.equal((await c.join(r)).type, 'joined');
  const extra = uniqueRoom('many');
  const e = await c.join(extra);
  assert.deepEqual([e.code, e.ref, e.room], ['too_many_rooms', 'join', extra]);
  await c.leave(rooms[0]);
  assert.equal((await c.join(extra)).type, 'joined');
  await closeAll(c);
});

test('text_empty and text_too_long count UTF-8 bytes after unescaping; the id is echoed', async () => {
  const dir = tempDir();
  const s = await startServer(['--data-dir', dir, '--max-text-bytes', '12']);
  try {
    const room = uniqueRoom('text');
    const c = await jsonUser(s.wsUrl('/ws'), 't', { rooms: room });
    const cases = [
      ['', 'text_empty'],
      ['a'.repeat(13), 'text_too_long'],
      ['é'.repeat(6) + 'a', 'text_too_long'],  // 13 bytes, 7 characters
      ['中'.repeat(4) + 'a', 'text_too_long'],
      ['😀'.repeat(3) + 'a', 'text_too_long'],
    ];
    let i = 0;
    for (const [text, code] of cases) {
      const id = `t${++i}`;
      const e = await c.say(room, id, text);
      assert.deepEqual([e.type, e.code, e.ref, e.id, e.room], ['error', code, 'send', id, room], JSON.stringify(text));
    }
    // Exactly 12 bytes passes, however written.
    for (const text of ['a'.repeat(12), 'é'.repeat(6), '中'.repeat(4), '😀'.repeat(3), '\n'.repeat(12), ' '.repeat(12)]) {
      const a = await c.say(room, `ok${++i}`, text);
      assert.equal(a.type, 'ack', `${JSON.stringify(text)} -> ${JSON.stringify(a)}`);
    }
    await c.send(`{"type":"send","room":"${room}","id":"esc","text":"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"}`);
    assert.equal((await c.take({ id: 'esc' })).type, 'ack', '6 escaped é are 12 bytes');
    await closeAll(c);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
});

test('id_invalid: 1 to 64 printable ASCII; checked before the other fields', async () => {
  const room = uniqueRoom('ids');
  const c = await ready(room);
  await expectErrors(c, [
    [{ type: 'send', room, id: '', text: 'x' }, 'id_invalid', { ref: 'send', room: undefined }],
    [{ type: 'send', room, id: 'i'.repeat(65), text: 'x' }, 'id_invalid'],
    [{ type: 'send', room, id: 'é', text: 'x' }, 'id_invalid'],
    [{ type: 'send', room, id: 'a\nb', text: 'x' }, 'id_invalid'],
    [{ type: 'send', room, id: 'a\u007f', text: 'x' }, 'id_invalid'],
    [{ type: 'send', room, id: 5, text: 'x' }, 'bad_message'],
    // Invalid id and invalid room and empty text: the id is reported.
    [{ type: 'send', room: 'a b', id: '', text: '' }, 'id_invalid'],
    // Valid id, bad room: room_invalid carrying the id.
    [{ type: 'send', room: 'a b', id: 'good', text: '' }, 'room_invalid', { id: 'good' }],
  ]);
  for (const id of ['i'.repeat(64), ' ', '~!@#$%^&*()"\\ {}']) {
    assert.equal((await c.say(room, id, 'x')).type, 'ack', JSON.stringify(id));
  }
  await closeAll(c);
});

test('rate_limited: a send beyond the burst is dropped (not stored), and can be resent later', async () => {
  const dir = tempDir();
  const s = await startServer(['--data-dir', dir, '--rate', '5', '--rate-burst', '4']);
  try {
    const room = uniqueRoom('rate');
    const c = await jsonUser(s.wsUrl('/ws'), 'fast', { rooms: room });
    const w = c.welcome;
    assert.deepEqual([w.limits.rate_per_sec, w.limits.rate_burst], [5, 4]);
    const ids = Array.from({ length: 10 }, (_, i) => `r${i}`);
    await Promise.all(ids.map((id) => c.send({ type: 'send', room, id, text: id })));
    const answers = [];
    for (const id of ids) answers.push(await c.take({ id }));
    const acked = answers.filter((a) => a.type === 'ack').map((a) => a.id);
    const limited = answers.filter((a) => a.code === 'rate_limited');
    assert.ok(acked.length >= 1 && acked.length <= 4, `at most the burst is accepted: ${JSON.stringify(answers)}`);
    assert.equal(acked.length + limited.length, ids.length, JSON.stringify(answers));
    for (const e of limited) assert.deepEqual([e.ref, e.room], ['send', room]);
    // Dropped sends were not stored. (The history request takes a token too:
    // wait for one, as the document advises.)
    await new Promise((r) => setTimeout(r, 1000 / w.limits.rate_per_sec + 20));
    const stored = await c.history(room, { after: 0 });
    assert.deepEqual(stored.messages.map((m) => m.id), acked);
    // The client waits 1/rate_per_sec as the document advises, and resends.
    const again = limited[0].id;
    let answer;
    for (let tries = 0; tries < 10; tries++) {
      await new Promise((r) => setTimeout(r, 1000 / w.limits.rate_per_sec + 20));
      answer = await c.say(room, again, again);
      if (answer.type === 'ack') break;
    }
    assert.equal(answer.type, 'ack', JSON.stringify(answer));
    assert.equal(answer.duplicate, false);
    await closeAll(c);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
});

test('rate limit: every message the client sends takes a token, not only send', async () => {
  // PROTOCOL.md: "Every message the client sends takes one token." With a
  // burst of 5 and a slow refill: hello, join and 3 sends use the bucket up.
  const dir = tempDir();
  const s = await startServer(['--data-dir', dir, '--rate', '0.01', '--rate-burst', '5']);
  try {
    const room = uniqueRoom('tokens');
    const c = await jsonUser(s.wsUrl('/ws'), 'counted', { rooms: room });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await c.say(room, `k${i}`, 'x'));
    assert.deepEqual(answers.map((a) => a.code ?? a.type), ['ack', 'ack', 'ack', 'rate_limited'],
      `hello + join + 3 sends = 5 tokens; got ${JSON.stringify(answers)}`);
    await closeAll(c);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
});

test('abuse: 20 errors are tolerated, the 21st within 10 s closes with 1008', async () => {
  const c = await JsonClient.open(url());
  for (let i = 0; i < 20; i++) await c.send('not json');
  for (let i = 0; i < 20; i++) assert.equal((await c.next()).code, 'bad_json');
  // Still served after 20 errors.
  assert.equal((await c.hello('still-here')).type, 'welcome');
  await c.send({ type: 'hello', name: 'again' });
  assert.equal((await c.expect('error')).code, 'hello_repeated');
  const { code } = await c.waitClose();
  assert.equal(code, 1008);
});

test('abuse: a flood of invalid requests is closed with 1008 and the server keeps serving', async () => {
  const c = await RawClient.connect(server.port, '/ws', { headers: { 'Sec-WebSocket-Protocol': 'parley.v1' } });
  for (let i = 0; i < 200; i++) c.sendText('{"type":"nope"}');
  const { code, before } = await c.expectClose();
  assert.equal(code, 1008);
  const errors = before.filter((f) => f.opcode === OP.TEXT).map((f) => JSON.parse(f.payload.toString()));
  assert.ok(errors.length >= 21 && errors.length <= 200, `${errors.length} errors before the close`);
  assert.ok(errors.every((e) => e.code === 'unknown_type'));
  const d = await ready(uniqueRoom('after-abuse'));
  assert.equal(d.welcome.type, 'welcome');
  await closeAll(d);
});

test('rate_limited sends count as errors: a client that ignores them is closed with 1008', async () => {
  const dir = tempDir();
  const s = await startServer(['--data-dir', dir, '--rate', '0.01', '--rate-burst', '2']);
  try {
    const room = uniqueRoom('flood');
    const c = await JsonClient.open(s.wsUrl('/ws'));
    await c.send({ type: 'hello', name: 'flood' });
    await c.send({ type: 'join', room });
    for (let i = 0; i < 40; i++) await c.send({ type: 'send', room, id: `f${i}`, text: 'x' });
    const events = await collect(c, 100, 2000);
    const limited = events.filter((e) => e.code === 'rate_limited');
    assert.ok(limited.length >= 21, `${limited.length} rate_limited: ${JSON.stringify(events.map((e) => e.code ?? e.type))}`);
    assert.equal((await c.waitClose()).code, 1008);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
});
