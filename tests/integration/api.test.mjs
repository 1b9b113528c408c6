// The backend HTTP API (docs/API.md) against the real binary: node's fetch
// for the requests, raw sockets where the exact bytes matter (413 before the
// body, pipelining), npm `ws` for the chat clients that must see the API's
// effects. Every endpoint with good and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startServer, uniqueRoom, connect, withTimeout } from './lib/server.mjs';
import { JsonClient, jsonUser, jsonRoom, tempDir, removeDir, FAST_RATE } from './lib/json_client.mjs';

const KEY = 'k3y-0123456789abcdef-backend';
const OTHER_KEY = 'second-key-0123456789';

async function withApi(extra, fn) {
  const dir = tempDir();
  const keys = path.join(dir, 'api-keys');
  fs.writeFileSync(keys, `# backend keys\nbackend ${KEY}\n\n${OTHER_KEY}\n`, { mode: 0o600 });
  const s = await startServer(['--data-dir', dir, ...FAST_RATE, '--api-key-file', keys, ...extra]);
  try {
    await fn(s);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
}

// fetch with the key; `body` objects are sent as JSON.
async function api(s, method, p, { body, key = KEY, headers = {} } = {}) {
  const h = { ...headers };
  if (key) h.Authorization = `Bearer ${key}`;
  let payload = body;
  if (body !== undefined && typeof body !== 'string') {
    payload = JSON.stringify(body);
    h['Content-Type'] ??= 'application/json';
  } else if (typeof body === 'string') {
    h['Content-Type'] ??= 'application/json';
  }
  const res = await withTimeout(fetch(`${s.httpUrl}${p}`, { method, headers: h, body: payload }), 10000, `${method} ${p}`);
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, json, text };
}

function assertError(r, status, code) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(r.json.error.code, code, r.text);
  assert.equal(typeof r.json.error.message, 'string');
}

const messagesPath = (room) => `/api/v1/rooms/${encodeURIComponent(room)}/messages`;

// Raw HTTP on one socket: writes `bytes`, collects until the peer closes or
// `until(text)` holds.
async function raw(s, bytes, until = () => false, ms = 5000) {
  const sock = net.connect(s.port, '127.0.0.1');
  let got = '';
  const done = new Promise((resolve) => {
    sock.on('data', (d) => { got += d.toString('utf8'); if (until(got)) resolve({ text: got, closed: false }); });
    sock.on('close', () => resolve({ text: got, closed: true }));
    sock.on('error', () => {});
  });
  sock.write(bytes);
  try {
    return await withTimeout(done, ms, 'a raw HTTP answer');
  } finally {
    sock.destroy();
  }
}

test('POST reaches a connected client and the history, acked after commit; a repost with the same id is not stored twice', () =>
  withApi([], async (s) => {
    const room = uniqueRoom('api');
    const [alice] = await jsonRoom(s.wsUrl('/ws'), room, ['alice']);
    const seed = await connect(s.wsUrl(`/ws/${room}`));
    await alice.take({ type: 'presence', event: 'joined' });

    const r = await api(s, 'POST', messagesPath(room), { body: { id: 'job-1', text: 'deploy done ✅', name: 'CI bot' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.deepEqual(Object.keys(r.json).sort(), ['duplicate', 'id', 'msg_id', 'room', 'ts']);
    assert.equal(r.json.room, room);
    assert.equal(r.json.id, 'job-1');
    assert.equal(r.json.duplicate, false);
    const live = await alice.take({ type: 'message', msg_id: r.json.msg_id });
    assert.deepEqual(live, {
      type: 'message', room, msg_id: r.json.msg_id, ts: r.json.ts, user: 'api:backend', from: 'CI bot',
      text: 'deploy done ✅', id: 'job-1',
    });
    assert.equal(await seed.nextText(), 'CI bot: deploy done ✅');

    const again = await api(s, 'POST', messagesPath(room), { body: { id: 'job-1', text: 'deploy done ✅' } });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json, { ...r.json, duplicate: true });
    // Without a name the key's name is the sender; another key is another user.
    const other = await api(s, 'POST', messagesPath(room), { key: OTHER_KEY, body: { id: 'job-1', text: 'from the other key' } });
    assert.equal(other.status, 201, other.text);
    const second = await alice.take({ type: 'message', msg_id: other.json.msg_id });
    assert.match(second.user, /^api:key-[0-9a-f]{8}$/);
    assert.equal(second.from, second.user.slice(4));

    const page = await api(s, 'GET', messagesPath(room));
    assert.equal(page.status, 200, page.text);
    assert.deepEqual(page.json.messages.map((m) => [m.msg_id, m.text]), [[r.json.msg_id, 'deploy done ✅'], [other.json.msg_id, 'from the other key']]);
    assert.deepEqual(page.json.messages[0], live, 'history holds the same object the client saw');
    assert.equal(page.json.truncated, false);
    const w = await alice.history(room, { before: other.json.msg_id + 1 });
    assert.equal(w.messages.length, 2, 'the WebSocket history agrees: stored once');
    assert.equal(alice.drop({ type: 'message' }).length, 0, 'the repost was not delivered again');
    alice.close();
    seed.close();
  }));

test('POST: bad input is a 4xx and stores nothing', () =>
  // Memory history: replies need the room's log, which SQLite does not keep yet.
  withApi(['--history', 'off'], async (s) => {
    const room = uniqueRoom('bad');
    const first = await api(s, 'POST', messagesPath(room), { body: { id: 'a', text: 'first' } });
    assert.equal(first.status, 201);
    const cases = [
      [{ body: '{"id": "x", "text": ' }, 400, 'bad_json'],
      [{ body: '[1,2]' }, 400, 'bad_json'],
      [{ body: '' }, 400, 'bad_json'],
      [{ body: { text: 'no id' } }, 400, 'bad_request'],
      [{ body: { id: 'x' } }, 400, 'bad_request'],
      [{ body: { id: 'x', text: 7 } }, 400, 'bad_request'],
      [{ body: { id: 'x', text: '' } }, 400, 'text_empty'],
      [{ body: { id: 'x', text: 'y'.repeat(4001) } }, 400, 'text_too_long'],
      [{ body: { id: 'é', text: 'hi' } }, 400, 'id_invalid'],
      [{ body: { id: 'x', text: 'hi', name: '\u202Eevil' } }, 400, 'name_invalid'],
      [{ body: { id: 'x', text: 'hi', reply_to: 0 } }, 400, 'bad_request'],
      [{ body: { id: 'x', text: 'hi', reply_to: 999999 } }, 422, 'message_not_found'],
      [{ body: { id: 'x', text: 'hi' }, headers: { 'Content-Type': 'text/plain' } }, 415, 'unsupported_media_type'],
    ];
    for (const [req, status, code] of cases) {
      const r = await api(s, 'POST', messagesPath(room), req);
      assertError(r, status, code);
    }
    const bad = await api(s, 'POST', '/api/v1/rooms/a%20b/messages', { body: { id: 'x', text: 'hi' } });
    assertError(bad, 400, 'room_invalid');
    const page = await api(s, 'GET', messagesPath(room));
    assert.deepEqual(page.json.messages.map((m) => m.text), ['first'], 'nothing else was stored');
    // A reply to a stored message is fine, and carries its quote.
    const reply = await api(s, 'POST', messagesPath(room), { body: { id: 'r', text: 'answer', reply_to: first.json.msg_id } });
    assert.equal(reply.status, 201, reply.text);
    const again = await api(s, 'GET', `${messagesPath(room)}?after=${first.json.msg_id}`);
    assert.equal(again.json.messages[0].reply_to.msg_id, first.json.msg_id);
  }));

test('413 before the body is read, 411 without a length, 400 for a body where none belongs', () =>
  withApi([], async (s) => {
    const room = uniqueRoom('big');
    const head = (extra) => `POST ${messagesPath(room)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\n${extra}\r\n`;
    // 100 MB announced, nothing sent: the answer comes at once and the connection closes.
    const big = await raw(s, head('Content-Length: 100000000\r\n'));
    assert.match(big.text, /^HTTP\/1\.1 413 /);
    assert.match(big.text, /"code":"body_too_large"/);
    assert.ok(big.closed, 'closed: the body is never read');
    const chunked = await raw(s, head('Transfer-Encoding: chunked\r\n') + '5\r\nhello\r\n0\r\n\r\n');
    assert.match(chunked.text, /^HTTP\/1\.1 411 /);
    assert.match(chunked.text, /"code":"length_required"/);
    const getBody = await raw(s, `GET ${messagesPath(room)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Length: 2\r\n\r\n{}`);
    assert.match(getBody.text, /^HTTP\/1\.1 400 /);
    // The largest body accepted: 6 x --max-text-bytes + 4096; a text just
    // within the limit, every byte escaped, passes.
    const escaped = JSON.stringify({ id: 'max', text: '\u0001'.repeat(4000) });
    assert.ok(Buffer.byteLength(escaped) > 24000);
    const ok = await api(s, 'POST', messagesPath(room), { body: escaped });
    assert.equal(ok.status, 201, ok.text);
    const page = await api(s, 'GET', messagesPath(room));
    assert.deepEqual(page.json.messages.map((m) => m.id), ['max']);
  }));

test('keys: 401 without or with a wrong key, failures limited per address (429 Retry-After)', () =>
  withApi([], async (s) => {
    const room = uniqueRoom('keys');
    const none = await api(s, 'GET', '/api/v1/rooms', { key: null });
    assertError(none, 401, 'unauthorized');
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="parley"');
    const wrong = await api(s, 'POST', messagesPath(room), { key: `${KEY}x`, body: { id: 'x', text: 'hi' } });
    assertError(wrong, 401, 'unauthorized');
    const basic = await api(s, 'GET', '/api/v1/rooms', { key: null, headers: { Authorization: `Basic ${KEY}` } });
    assertError(basic, 401, 'unauthorized');
    // 10 failures at once per address, then 1 per second.
    let limited;
    for (let i = 0; i < 12 && !limited; i++) {
      const r = await api(s, 'GET', '/api/v1/rooms', { key: `guess-${i}-0123456789abcdef` });
      if (r.status === 429) limited = r;
      else assertError(r, 401, 'unauthorized');
    }
    assert.ok(limited, 'guessing is rate limited');
    assertError(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    // A valid key is not held up by the failures of its address.
    const good = await api(s, 'GET', '/api/v1/rooms');
    assert.equal(good.status, 200);
    const page = await api(s, 'GET', messagesPath(room));
    assertError(page, 404, 'room_not_found');  // nothing was stored by the refused post
  }));

test('a key over --api-rate gets 429 with Retry-After and stores nothing', () =>
  withApi(['--api-rate', '0.5', '--api-burst', '3'], async (s) => {
    const room = uniqueRoom('rate');
    const statuses = [];
    let limited;
    for (let i = 0; i < 5; i++) {
      const r = await api(s, 'POST', messagesPath(room), { body: { id: `m${i}`, text: `n${i}` } });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    assert.deepEqual(statuses.slice(0, 3), [201, 201, 201]);
    assert.ok(limited, `limited after the burst: ${statuses}`);
    assertError(limited, 429, 'rate_limited');
    assert.equal(limited.headers.get('retry-after'), '2');
    // The other key has its own budget.
    const other = await api(s, 'GET', `${messagesPath(room)}?limit=10`, { key: OTHER_KEY });
    assert.deepEqual(other.json.messages.map((m) => m.text), ['n0', 'n1', 'n2']);
  }));

test('405 with Allow, 404 for no endpoint, 400 for a bad query', () =>
  withApi([], async (s) => {
    const room = uniqueRoom('m');
    await api(s, 'POST', messagesPath(room), { body: { id: 'a', text: 'x' } });
    const put = await api(s, 'PUT', messagesPath(room), { body: {} });
    assertError(put, 405, 'method_not_allowed');
    assert.equal(put.headers.get('allow'), 'GET, POST');
    const del = await api(s, 'DELETE', '/api/v1/rooms');
    assertError(del, 405, 'method_not_allowed');
    assert.equal(del.headers.get('allow'), 'GET');
    const kickGet = await api(s, 'GET', `/api/v1/rooms/${room}/members/someone`);
    assert.equal(kickGet.headers.get('allow'), 'DELETE');
    for (const p of ['/api/v1', '/api/v1/', '/api/v2/rooms', '/api/v1/rooms/', `/api/v1/rooms/${room}`, `/api/v1/rooms/${room}/messages/1`]) {
      assertError(await api(s, 'GET', p), 404, 'not_found');
    }
    for (const q of ['before=1&after=1', 'limit=0', 'limit=201', 'before=0', 'before=x', 'befor=3', 'limit=1&limit=2', 'after=%zz']) {
      assertError(await api(s, 'GET', `${messagesPath(room)}?${q}`), 400, 'bad_request');
    }
    assertError(await api(s, 'GET', '/api/v1/rooms?order=size'), 400, 'bad_request');
    assertError(await api(s, 'GET', `/api/v1/rooms/${room}/members?limit=501`), 400, 'bad_request');
  }));

test('GET messages pages with before, after and limit, in the protocol\'s shape; a room that never existed is 404', () =>
  withApi([], async (s) => {
    const room = uniqueRoom('pages');
    const ids = [];
    for (let i = 1; i <= 7; i++) {
      const r = await api(s, 'POST', messagesPath(room), { body: { id: `p${i}`, text: `text ${i}` } });
      ids.push(r.json.msg_id);
    }
    const newest = await api(s, 'GET', `${messagesPath(room)}?limit=3`);
    assert.deepEqual(newest.json.messages.map((m) => m.text), ['text 5', 'text 6', 'text 7']);
    assert.equal(newest.json.truncated, true);
    const before = await api(s, 'GET', `${messagesPath(room)}?before=${ids[4]}&limit=3`);
    assert.deepEqual(before.json.messages.map((m) => m.text), ['text 2', 'text 3', 'text 4']);
    assert.equal(before.json.truncated, true);
    const first = await api(s, 'GET', `${messagesPath(room)}?before=${ids[1]}`);
    assert.deepEqual(first.json.messages.map((m) => m.text), ['text 1']);
    assert.equal(first.json.truncated, false);
    const after = await api(s, 'GET', `${messagesPath(room)}?after=${ids[4]}`);
    assert.deepEqual(after.json.messages.map((m) => m.text), ['text 6', 'text 7']);
    assert.equal(after.json.truncated, false);
    const all = await api(s, 'GET', `${messagesPath(room)}?after=0&limit=200`);
    assert.equal(all.json.messages.length, 7);
    for (const m of all.json.messages) assert.equal(m.type, 'message');
    assertError(await api(s, 'GET', messagesPath(uniqueRoom('never'))), 404, 'room_not_found');
    assertError(await api(s, 'GET', `/api/v1/rooms/${uniqueRoom('never')}/members`), 404, 'room_not_found');
  }));

test('rooms are named in the path percent-encoded, in any script, made NFC', () =>
  withApi([], async (s) => {
    const room = `café-${process.pid}`;
    const alice = await jsonUser(s.wsUrl('/ws'), 'alice', { rooms: room });
    // "cafe" + U+0301 COMBINING ACUTE ACCENT: the same room once made NFC.
    const decomposed = `/api/v1/rooms/cafe%CC%81-${process.pid}/messages`;
    const r = await api(s, 'POST', decomposed, { body: { id: 'nfc', text: 'bonjour' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.room, room);
    await alice.take({ type: 'message', room, text: 'bonjour' });
    const cjk = `聊天-${process.pid}`;
    const c = await api(s, 'POST', messagesPath(cjk), { body: { id: 'zh', text: '你好' } });
    assert.equal(c.json.room, cjk);
    alice.close();
  }));

test('GET rooms lists open rooms with counts; GET members pages the room\'s users', () =>
  withApi([], async (s) => {
    const room = uniqueRoom('dir');
    const clients = await jsonRoom(s.wsUrl('/ws'), room, ['ann', 'bob', 'cyd']);
    const extra = await jsonUser(s.wsUrl('/ws'), 'dan', { rooms: [] });  // connected, in no room
    const list = await api(s, 'GET', `/api/v1/rooms?q=${encodeURIComponent(room)}`);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.json, { rooms: [{ room, users: 3, online: 3 }], total: 1 });
    const p1 = await api(s, 'GET', `/api/v1/rooms/${room}/members?limit=2`);
    assert.deepEqual(p1.json.members.map((m) => m.name), ['ann', 'bob']);
    assert.equal(p1.json.next, 'bob');
    assert.equal(p1.json.online, 3);
    assert.equal(p1.json.users, 3);
    assert.equal(p1.json.members[0].user, clients[0].user);
    const p2 = await api(s, 'GET', `/api/v1/rooms/${room}/members?limit=2&after=${p1.json.next}`);
    assert.deepEqual(p2.json.members.map((m) => m.name), ['cyd']);
    assert.equal(p2.json.next, undefined);
    for (const c of [...clients, extra]) c.close();
  }));

test('DELETE removes every connection of a user from the room: JSON ones get `kicked`, plain text is closed 4008', () =>
  withApi([], async (s) => {
    const room = uniqueRoom('kick');
    const other = uniqueRoom('stay');
    const [alice, bob] = await jsonRoom(s.wsUrl('/ws'), room, ['alice', 'bob']);
    // A second connection of bob, in the room and in another one.
    const bob2 = await JsonClient.open(s.wsUrl('/ws'));
    await bob2.hello('bob', { resume: bob.welcome.resume });
    assert.equal(bob2.user, bob.user);
    await bob2.join(room);
    await bob2.join(other);
    const seed = await connect(s.wsUrl(`/ws/${room}`));
    const joined = await alice.take((e) => e.type === 'presence' && e.event === 'joined' && e.room === room);
    alice.drop({ type: 'presence' });

    const kick = await api(s, 'DELETE', `/api/v1/rooms/${room}/members/${encodeURIComponent(bob.user)}`);
    assert.equal(kick.status, 200, kick.text);
    assert.deepEqual(kick.json, { room, user: bob.user, connections: 2 });
    for (const c of [bob, bob2]) assert.deepEqual(await c.take({ type: 'kicked' }), { type: 'kicked', room });
    const left = await alice.take({ type: 'presence', event: 'left', room });
    assert.equal(left.user, bob.user);
    // Kicked connections stay connected, get nothing more of the room, keep other rooms.
    const after = await api(s, 'POST', messagesPath(room), { body: { id: 'k1', text: 'after the kick' } });
    await alice.take({ type: 'message', msg_id: after.json.msg_id });
    const sent = await bob.say(room, 'b1', 'still here?');
    assert.deepEqual([sent.type, sent.code], ['error', 'not_in_room']);
    const elsewhere = await api(s, 'POST', messagesPath(other), { body: { id: 'k2', text: 'other room' } });
    await bob2.take({ type: 'message', msg_id: elsewhere.json.msg_id });
    assert.equal(bob.drop({ type: 'message', room }).length + bob2.drop({ type: 'message', room }).length, 0);
    const members = await api(s, 'GET', `/api/v1/rooms/${room}/members`);
    assert.ok(!members.json.members.some((m) => m.user === bob.user));
    // They may join again (a kick is no ban).
    assert.equal((await bob.join(room)).type, 'joined');

    // The plain-text client: the seed's notice, then close 4008.
    assert.equal(joined.user.startsWith('guest-'), true);
    const kickSeed = await api(s, 'DELETE', `/api/v1/rooms/${room}/members/${encodeURIComponent(joined.user)}`);
    assert.equal(kickSeed.status, 200, kickSeed.text);
    const texts = [];
    for (;;) {
      const t = await seed.nextText().catch(() => null);
      if (t === null) break;
      texts.push(t);
    }
    assert.equal(texts.at(-1), '系统通知: 你已被移出房间');
    assert.deepEqual(await seed.waitClose(), { code: 4008, reason: 'removed from the room' });

    assertError(await api(s, 'DELETE', `/api/v1/rooms/${room}/members/nobody`), 404, 'not_in_room');
    assertError(await api(s, 'DELETE', `/api/v1/rooms/${uniqueRoom('none')}/members/nobody`), 404, 'room_not_found');
    for (const c of [alice, bob, bob2]) c.close();
  }));

test('Expect: 100-continue is answered before the body is sent', () =>
  withApi([], async (s) => {
    const room = uniqueRoom('expect');
    const body = JSON.stringify({ id: 'e1', text: 'x'.repeat(2000) });
    const sock = net.connect(s.port, '127.0.0.1');
    let got = '';
    const waitFor = (re) => withTimeout(new Promise((resolve) => {
      const check = () => { if (re.test(got)) resolve(got); };
      sock.on('data', (d) => { got += d.toString('utf8'); check(); });
      check();
    }), 5000, `an answer matching ${re}`);
    try {
      sock.write(`POST ${messagesPath(room)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
        `Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
      await waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
      sock.write(body);
      await waitFor(/HTTP\/1\.1 201 Created/);
    } finally {
      sock.destroy();
    }
    const page = await api(s, 'GET', messagesPath(room));
    assert.deepEqual(page.json.messages.map((m) => m.id), ['e1']);
  }));

test('keep-alive: pipelined API requests are answered in order, each after the one before', () =>
  withApi([], async (s) => {
    const room = uniqueRoom('pipe');
    const body = JSON.stringify({ id: 'p1', text: 'pipelined' });
    const auth = `Authorization: Bearer ${KEY}\r\n`;
    const req =
      `POST ${messagesPath(room)} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}` +
      `GET ${messagesPath(room)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n` +
      `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
    const r = await raw(s, req);
    const statuses = [...r.text.matchAll(/HTTP\/1\.1 (\d+) /g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [201, 200, 200]);
    assert.match(r.text, /"messages":\[\{"type":"message"[^\]]*"text":"pipelined"/);
  }));

test('without --api-key-file the API is off: 404 api_disabled', async () => {
  const s = await startServer(['--history', 'off']);
  try {
    assertError(await api(s, 'GET', '/api/v1/rooms'), 404, 'api_disabled');
    assertError(await api(s, 'POST', messagesPath('lobby'), { body: { id: 'x', text: 'y' } }), 404, 'api_disabled');
  } finally {
    await s.stopClean();
  }
});

test('a bad key file stops the server at start with one line', async () => {
  const dir = tempDir();
  const keys = path.join(dir, 'keys');
  fs.writeFileSync(keys, 'short\n');
  try {
    await assert.rejects(startServer(['--data-dir', dir, '--api-key-file', keys]), /--api-key-file .*line 1: a key is 16-256/);
  } finally {
    removeDir(dir);
  }
});
