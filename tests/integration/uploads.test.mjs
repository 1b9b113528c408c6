// Files and images against the real binary (docs/SECURITY.md "Uploads",
// docs/PROTOCOL.md "Attachments"): POST /upload with the session's resume
// token, the limits checked on the head (401, 411, 413, 429, 507) before any
// body is read, the type sniffed whatever the client claims and served with
// nosniff and a sandboxing CSP, an attachment that reaches the other members
// and the history, and a delete that removes the file. The attachment tests
// run on both histories (SQLite, the default, and memory); with SQLite an
// attachment survives a restart, and retention releases files on both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { startServer, withTimeout, connect } from './lib/server.mjs';
import { jsonRoom, jsonUser, tempDir, removeDir } from './lib/json_client.mjs';

const FAST = ['--rate', '100000', '--rate-burst', '100000'];
// The history engines an attachment is stored in (the last --history wins).
const HISTORIES = { sqlite: ['--history', 'sqlite'], memory: ['--history', 'off'] };

// A 3x2 PNG (IHDR says so; the rest need not decode for the sniffer).
function png(width = 3, height = 2, salt = 0) {
  const b = Buffer.alloc(64, salt);
  Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').copy(b, 0);
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
}

async function withServer(args, fn) {
  const dir = tempDir();
  const history = args.includes('--history') ? [] : ['--history', 'off'];
  const s = await startServer(['--data-dir', dir, ...FAST, ...history, ...args]);
  try {
    await fn(s, dir);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
}

function upload(s, token, body, headers = {}) {
  return fetch(`${s.httpUrl}/upload`, {
    method: 'POST',
    body,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
  });
}

// Sends `head` (and optionally some body) on a raw socket; resolves with
// everything the server sent until it closed the connection.
async function rawExchange(port, head, body = null, ms = 5000) {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  let received = '';
  sock.setEncoding('latin1');
  sock.on('data', (d) => { received += d; });
  sock.on('error', () => {});
  sock.write(head);
  if (body) sock.write(body);
  await withTimeout(once(sock, 'close'), ms, 'the server to close the connection');
  return received;
}

function filesOnDisk(dir) {
  const root = path.join(dir, 'files');
  return fs.readdirSync(root).filter((d) => /^[0-9a-f]{2}$/.test(d))
    .flatMap((d) => fs.readdirSync(path.join(root, d)).map((f) => d + f));
}

test('an image uploads, is sniffed and sized, and is served with nosniff, a sandboxing CSP and long caching', async () => {
  await withServer([], async (s, dir) => {
    const alice = await jsonUser(s.wsUrl(), 'alice');
    const res = await upload(s, alice.welcome.resume, png(), { 'Content-Type': 'text/html' });
    assert.equal(res.status, 201);
    const info = await res.json();
    assert.match(info.file, /^[0-9a-f]{64}$/);
    assert.deepEqual({ ...info, file: 'x' }, { file: 'x', size: 64, type: 'image/png', width: 3, height: 2 });
    assert.deepEqual(filesOnDisk(dir), [info.file]);

    const got = await fetch(`${s.httpUrl}/files/${info.file}`);
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), png());
    assert.equal(got.headers.get('content-type'), 'image/png');
    assert.equal(got.headers.get('content-disposition'), 'inline');
    assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(got.headers.get('content-security-policy'), "default-src 'none'; sandbox");
    assert.match(got.headers.get('cache-control'), /max-age=31536000, immutable/);
    const again = await fetch(`${s.httpUrl}/files/${info.file}`, { headers: { 'If-None-Match': got.headers.get('etag') } });
    assert.equal(again.status, 304);

    for (const bad of ['0'.repeat(64), 'nothex', '../secret.key', info.file.toUpperCase()]) {
      assert.equal((await fetch(`${s.httpUrl}/files/${bad}`)).status, 404, bad);
    }
    alice.close();
  });
});

test('a lying Content-Type does not matter: HTML is served as text to download, bytes as octet-stream', async () => {
  await withServer([], async (s) => {
    const alice = await jsonUser(s.wsUrl(), 'alice');
    const html = '<html><script>alert(document.cookie)</script></html>\n';
    const asText = await (await upload(s, alice.welcome.resume, html, { 'Content-Type': 'text/html' })).json();
    assert.equal(asText.type, 'text/plain; charset=utf-8');
    const got = await fetch(`${s.httpUrl}/files/${asText.file}?name=${encodeURIComponent('page é.html')}`);
    assert.equal(got.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(got.headers.get('content-disposition'), `attachment; filename="page__.html"; filename*=UTF-8''page%20%C3%A9.html`);
    assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(got.headers.get('content-security-policy'), "default-src 'none'; sandbox");

    const binary = Buffer.from([0x3c, 0x73, 0x76, 0x67, 0x00, 0xff, 0xfe]);  // "<svg" and bytes that are not text
    const asBytes = await (await upload(s, alice.welcome.resume, binary, { 'Content-Type': 'image/svg+xml' })).json();
    assert.equal(asBytes.type, 'application/octet-stream');
    const b = await fetch(`${s.httpUrl}/files/${asBytes.file}`);
    assert.equal(b.headers.get('content-type'), 'application/octet-stream');
    assert.match(b.headers.get('content-disposition'), /^attachment; filename="[0-9a-f]{12}\.bin"/);
    alice.close();
  });
});

test('no identity, a forged token or a chunked body are refused on the head', async () => {
  await withServer([], async (s) => {
    const none = await upload(s, null, 'hello');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    const alice = await jsonUser(s.wsUrl(), 'alice');
    const forged = alice.welcome.resume.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    assert.equal((await upload(s, forged, 'hello')).status, 401);
    assert.equal((await upload(s, `u-someone.${Date.now()}.00`, 'hello')).status, 401);
    const chunked = await rawExchange(s.port,
      `POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice.welcome.resume}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
    assert.match(chunked, /^HTTP\/1\.1 411 /);
    alice.close();
  });
});

test('an oversized upload gets 413 from its head alone, without the server reading the body', async () => {
  await withServer(['--max-upload-bytes', '1000'], async (s, dir) => {
    const alice = await jsonUser(s.wsUrl(), 'alice');
    // The head promises 10 MB; no byte of it is ever sent, and the answer still comes.
    const answer = await rawExchange(s.port,
      `POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice.welcome.resume}\r\nContent-Length: 10000000\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /Connection: close/);
    assert.equal((await upload(s, alice.welcome.resume, Buffer.alloc(1001, 1))).status, 413);
    assert.equal((await upload(s, alice.welcome.resume, Buffer.alloc(1000, 1))).status, 201);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'files', 'tmp')), []);
    alice.close();
  });
});

test('Expect: 100-continue is answered before the body, and a refused head never gets it', async () => {
  await withServer(['--max-upload-bytes', '1000'], async (s) => {
    const alice = await jsonUser(s.wsUrl(), 'alice');
    const sock = net.connect(s.port, '127.0.0.1');
    await once(sock, 'connect');
    let got = '';
    sock.setEncoding('latin1');
    sock.on('data', (d) => { got += d; });
    sock.write(`POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice.welcome.resume}\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`);
    await withTimeout((async () => { while (!got.includes('100 Continue')) await once(sock, 'data'); })(), 5000, '100 Continue');
    sock.write('hello');
    await withTimeout(once(sock, 'close'), 5000, 'the answer');
    assert.match(got, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /);
    const refused = await rawExchange(s.port,
      `POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice.welcome.resume}\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n`);
    assert.match(refused, /^HTTP\/1\.1 413 /);
    alice.close();
  });
});

test('the disk budget: 507 once files fill it; a deleted message gives its room back', async () => {
  await withServer(['--uploads-max-bytes', '1000'], async (s) => {
    const [alice] = await jsonRoom(s.wsUrl(), 'files', ['alice']);
    const first = await (await upload(s, alice.welcome.resume, Buffer.alloc(800, 1))).json();
    const full = await upload(s, alice.welcome.resume, Buffer.alloc(300, 2));
    assert.equal(full.status, 507);
    assert.match(await full.text(), /storage for files is full/);
    // Attach, then delete: the file goes, and so does the space it took.
    await alice.send({ type: 'send', room: 'files', id: 'm1', text: '', file: first.file, file_name: 'a.bin' });
    const ack = await alice.take({ type: 'ack', id: 'm1' });
    await alice.send({ type: 'delete', room: 'files', id: 'd1', target: ack.msg_id });
    await alice.take({ type: 'ack', id: 'd1' });
    assert.equal((await upload(s, alice.welcome.resume, Buffer.alloc(300, 2))).status, 201);
    alice.close();
  });
});

test('uploads per user are rate limited (429 with Retry-After)', async () => {
  await withServer(['--upload-rate', '1', '--upload-burst', '2'], async (s) => {
    const alice = await jsonUser(s.wsUrl(), 'alice');
    assert.equal((await upload(s, alice.welcome.resume, 'one')).status, 201);
    assert.equal((await upload(s, alice.welcome.resume, 'two')).status, 201);
    const third = await upload(s, alice.welcome.resume, 'three');
    assert.equal(third.status, 429);
    assert.ok(Number(third.headers.get('retry-after')) > 0);
    // Another user has a bucket of their own.
    const bob = await jsonUser(s.wsUrl(), 'bob');
    assert.equal((await upload(s, bob.welcome.resume, 'bob')).status, 201);
    alice.close();
    bob.close();
  });
});

test('a slow upload is cut off at --upload-timeout and leaves nothing behind', async () => {
  await withServer(['--upload-timeout', '1'], async (s, dir) => {
    const alice = await jsonUser(s.wsUrl(), 'alice');
    const started = Date.now();
    const answer = await rawExchange(s.port,
      `POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice.welcome.resume}\r\nContent-Length: 1000\r\n\r\n`,
      'only a few bytes', 8000);
    assert.equal(answer, '', 'no answer: the connection is dropped');
    assert.ok(Date.now() - started >= 900, 'not before the budget');
    // The client may see the close before the server's loop has removed the
    // partial file: wait for it to go, for at most 5 s.
    const tmp = path.join(dir, 'files', 'tmp');
    for (const until = Date.now() + 5000; fs.readdirSync(tmp).length > 0 && Date.now() < until;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(fs.readdirSync(tmp), []);
    assert.deepEqual(filesOnDisk(dir), []);
    alice.close();
  });
});

for (const [engine, history] of Object.entries(HISTORIES)) test(`${engine}: an attachment reaches the other members, plain-text clients and the history; only its uploader may attach it`, async () => {
  await withServer(history, async (s) => {
    const [alice, bob] = await jsonRoom(s.wsUrl(), 'pics', ['alice', 'bob']);
    const seed = await connect(s.wsUrl('/ws/pics'));
    await alice.take({ type: 'presence', event: 'joined' });
    await bob.take({ type: 'presence', event: 'joined' });
    const info = await (await upload(s, alice.welcome.resume, png(40, 30))).json();

    // Bob knows the id but did not upload it: not his to attach.
    await bob.send({ type: 'send', room: 'pics', id: 'b1', text: 'mine?', file: info.file, file_name: 'x.png' });
    assert.deepEqual(await bob.take({ type: 'error', id: 'b1' }),
      { type: 'error', code: 'file_not_found', message: 'no such file among this user\'s uploads', ref: 'send', id: 'b1', room: 'pics' });
    await bob.send({ type: 'send', room: 'pics', id: 'b2', text: 'x', file: 'abc', file_name: 'x.png' });
    assert.equal((await bob.take({ type: 'error', id: 'b2' })).code, 'file_invalid');
    await bob.send({ type: 'send', room: 'pics', id: 'b3', text: 'x', file: info.file, file_name: 'a/b.png' });
    assert.equal((await bob.take({ type: 'error', id: 'b3' })).code, 'file_invalid');

    await alice.send({ type: 'send', room: 'pics', id: 'a1', text: 'a cat', file: info.file, file_name: 'cat 🐱.png', size: 1, width: 9000 });
    const ack = await alice.take({ type: 'ack', id: 'a1' });
    const attachment = { file: info.file, name: 'cat 🐱.png', size: 64, type: 'image/png', width: 40, height: 30 };
    const live = await bob.take({ type: 'message', id: 'a1' });
    assert.deepEqual(live.attachment, attachment);
    assert.equal(live.text, 'a cat');
    const line = await seed.next();
    assert.equal(line.text, `alice: a cat [cat 🐱.png: /files/${info.file}]`);

    const page = await bob.history('pics', { before: ack.msg_id + 1 });
    assert.deepEqual(page.messages.find((m) => m.msg_id === ack.msg_id).attachment, attachment);
    const carol = await jsonUser(s.wsUrl(), 'carol', { rooms: [] });
    const joined = await carol.join('pics');
    assert.deepEqual(joined.history.at(-1).attachment, attachment);
    for (const c of [alice, bob, carol]) c.close();
    seed.close();
  });
});

for (const [engine, history] of Object.entries(HISTORIES)) test(`${engine}: deleting the message deletes its file, unless another message still shows it`, async () => {
  await withServer(history, async (s, dir) => {
    const [alice, bob] = await jsonRoom(s.wsUrl(), 'del', ['alice', 'bob']);
    const info = await (await upload(s, alice.welcome.resume, 'a text file\n')).json();
    const send = async (id) => {
      await alice.send({ type: 'send', room: 'del', id, text: '', file: info.file, file_name: 'notes.txt' });
      return (await alice.take({ type: 'ack', id })).msg_id;
    };
    const first = await send('s1');
    const second = await send('s2');
    const remove = async (id, target) => {
      await alice.send({ type: 'delete', room: 'del', id, target });
      await alice.take({ type: 'ack', id });
      await bob.take({ type: 'message_deleted', target });
    };
    await remove('d1', first);
    assert.equal((await fetch(`${s.httpUrl}/files/${info.file}`)).status, 200, 'the second message still shows it');
    await remove('d2', second);
    assert.equal((await fetch(`${s.httpUrl}/files/${info.file}`)).status, 404);
    assert.deepEqual(filesOnDisk(dir), []);
    const page = await bob.history('del', { before: second + 1 });
    const tomb = page.messages.find((m) => m.msg_id === second);
    assert.equal(tomb.deleted, true);
    assert.equal(tomb.attachment, undefined);
    alice.close();
    bob.close();
  });
});

async function waitFor(what, check, ms = 10000) {
  for (const until = Date.now() + ms; ;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('default flags (SQLite history): an attachment survives a restart in history, search and GET /files; its delete then removes the file', async () => {
  const dir = tempDir();
  try {
    let s = await startServer(['--data-dir', dir]);
    let alice = await jsonUser(s.wsUrl(), 'alice', { rooms: 'keep' });
    const info = await (await upload(s, alice.welcome.resume, png(40, 30))).json();
    await alice.send({ type: 'send', room: 'keep', id: 'k1', text: 'a cat on the roof', file: info.file, file_name: 'cat.png' });
    const ack = await alice.take({ type: 'ack', id: 'k1' });
    const resume = alice.welcome.resume;
    alice.close();
    await s.stopClean();

    s = await startServer(['--data-dir', dir]);
    alice = await jsonUser(s.wsUrl(), 'alice', { resume });
    const joined = await alice.join('keep');
    assert.equal(joined.type, 'joined', JSON.stringify(joined));
    const attachment = { file: info.file, name: 'cat.png', size: 64, type: 'image/png', width: 40, height: 30 };
    assert.deepEqual(joined.history.find((m) => m.msg_id === ack.msg_id).attachment, attachment);
    const page = await alice.history('keep', { before: ack.msg_id + 1 });
    assert.deepEqual(page.messages.find((m) => m.msg_id === ack.msg_id).attachment, attachment);
    await alice.send({ type: 'search', room: 'keep', query: 'roof' });
    const found = await alice.take({ type: 'search_results' });
    assert.deepEqual(found.messages.map((m) => m.attachment), [attachment]);
    const got = await fetch(`${s.httpUrl}/files/${info.file}`);
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), png(40, 30));

    await alice.send({ type: 'delete', room: 'keep', id: 'd1', target: ack.msg_id });
    await alice.take({ type: 'ack', id: 'd1' });
    assert.equal((await fetch(`${s.httpUrl}/files/${info.file}`)).status, 404);
    assert.deepEqual(filesOnDisk(dir), []);
    alice.close();
    await s.stopClean();

    // The tombstone stays without its file after one more restart.
    s = await startServer(['--data-dir', dir]);
    alice = await jsonUser(s.wsUrl(), 'alice', { resume, rooms: 'keep' });
    const again = await alice.history('keep', { before: ack.msg_id + 1 });
    const tomb = again.messages.find((m) => m.msg_id === ack.msg_id);
    assert.equal(tomb.deleted, true);
    assert.equal(tomb.attachment, undefined);
    alice.close();
    await s.stopClean();
  } finally {
    removeDir(dir);
  }
});

// SQLite keeps --history-retain messages per room; the memory history 256
// (its cache size). The message that falls out takes its file with it.
const RETENTION = { sqlite: [['--history', 'sqlite', '--history-retain', '2'], 2],
  memory: [['--history', 'off'], 256] };
for (const [engine, [args, kept]] of Object.entries(RETENTION)) {
  test(`${engine}: retention releases the file of a message it removes`, async () => {
    await withServer(args, async (s, dir) => {
      const [alice] = await jsonRoom(s.wsUrl(), 'old', ['alice']);
      const info = await (await upload(s, alice.welcome.resume, 'an old file\n')).json();
      await alice.send({ type: 'send', room: 'old', id: 'f', text: '', file: info.file, file_name: 'old.txt' });
      await alice.take({ type: 'ack', id: 'f' });
      for (let i = 0; i < kept; ++i) {
        await alice.send({ type: 'send', room: 'old', id: `t${i}`, text: `newer ${i}` });
      }
      await alice.take({ type: 'ack', id: `t${kept - 1}` }, 20000);
      // SQLite's count retention runs with a batch of appends, at most once a
      // second (store/history_trimmer.h): one more message per look.
      let more = 0;
      await waitFor('the file to go', async () => {
        if ((await fetch(`${s.httpUrl}/files/${info.file}`)).status === 404) return true;
        await alice.say('old', `more${++more}`, 'one more');
        return false;
      });
      assert.deepEqual(filesOnDisk(dir), []);
      alice.close();
    });
  });
}
