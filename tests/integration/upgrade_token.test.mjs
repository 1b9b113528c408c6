// `?token=` on the WebSocket upgrade under --auth jwt (default leeway 30 s) (docs/PROTOCOL.md,
// "Presenting a token"): checked before the 101. Plain-text (seed) clients
// must bring one (401 without, 403 for a room it does not allow); parley.v1
// clients may (a refused one is a 401; a good one stands in for hello.token).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { connect, joinNotice, startServer, uniqueRoom } from './lib/server.mjs';
import { JsonClient, tempDir, removeDir } from './lib/json_client.mjs';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const b64 = (x) => Buffer.from(JSON.stringify(x)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
function hs256(claims, { alg = 'HS256' } = {}) {
  const head = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
  if (alg === 'none') return `${head}.`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}

let dir;
let server;
let guests;
before(async () => {
  dir = tempDir();
  writeFileSync(path.join(dir, 'secret'), SECRET);
  server = await startServer(['--data-dir', path.join(dir, 'jwt'), '--history', 'off', '--auth', 'jwt',
    '--jwt-key', path.join(dir, 'secret')]);
  guests = await startServer(['--data-dir', path.join(dir, 'guests'), '--history', 'off']);
});
after(async () => {
  await server.stopClean();
  await guests.stopClean();
  removeDir(dir);
});

async function refused(url, options) {
  const err = await connect(url, options).then(
    (c) => { c.close(); throw new Error(`upgrade to ${url} was accepted`); },
    (e) => e);
  assert.ok(err.status, `expected an HTTP refusal, got ${err.message}`);
  return err;
}

test('a seed client without a token, or with a refused one, gets 401 with a Bearer challenge', async () => {
  const room = uniqueRoom('tok');
  let err = await refused(server.wsUrl(`/ws/${room}`));
  assert.equal(err.status, 401);
  assert.equal(err.headers['www-authenticate'], 'Bearer realm="parley"');
  const cases = [
    [hs256({ sub: 'u', exp: now() - 120 }), 'expired'],
    [hs256({ sub: 'u', exp: now() + 60 }, { alg: 'none' }), 'algorithm_not_allowed'],
    [hs256({ sub: 'u', exp: now() + 60 }).slice(0, -3) + 'AAA', 'bad_signature'],
    ['not-a-token', 'malformed'],
  ];
  for (const [token, reason] of cases) {
    err = await refused(server.wsUrl(`/ws/${room}?token=${token}`));
    assert.equal(err.status, 401, reason);
    assert.equal(err.headers['www-authenticate'],
      `Bearer realm="parley", error="invalid_token", error_description="${reason}"`);
  }
});

test('a token whose rooms do not allow the path\'s room gets 403; an allowed room works', async () => {
  const token = hs256({ sub: 'team-user', name: 'Tess', exp: now() + 600, rooms: ['team-*'] });
  const err = await refused(server.wsUrl(`/ws/${uniqueRoom('other')}?token=${token}`));
  assert.equal(err.status, 403);
  const room = uniqueRoom('team');
  const a = await connect(server.wsUrl(`/ws/${room}?token=${token}`));
  const b = await connect(server.wsUrl(`/ws/${room}?token=${hs256({ sub: 'x', exp: now() + 600 })}`));
  assert.equal(await a.nextText(), joinNotice(2));
  await b.send('hello team');
  assert.equal(await a.nextText(), 'hello team');
  a.close();
  b.close();
});

test('the room in the path is percent-decoded before the rooms claim is checked', async () => {
  const token = hs256({ sub: 'u', exp: now() + 600, rooms: ['café'] });
  const c = await connect(server.wsUrl(`/ws/caf%C3%A9?token=${token}`));
  c.close();
  const err = await refused(server.wsUrl(`/ws/cafe?token=${token}`));
  assert.equal(err.status, 403);
});

test('parley.v1: ?token= stands in for hello.token; a refused one is a 401; none is fine', async () => {
  const c = await JsonClient.open(server.wsUrl(`/ws?token=${hs256({ sub: 'url-user', exp: now() + 600 })}`));
  await c.send({ type: 'hello', name: 'Uri' });
  assert.equal((await c.expect('welcome')).user, 'url-user');
  c.raw.close();
  // hello.token wins over the URL's.
  const d = await JsonClient.open(server.wsUrl(`/ws?token=${hs256({ sub: 'url-user', exp: now() + 600 })}`));
  await d.send({ type: 'hello', name: 'H', token: hs256({ sub: 'hello-user', exp: now() + 600 }) });
  assert.equal((await d.expect('welcome')).user, 'hello-user');
  d.raw.close();
  const err = await refused(server.wsUrl(`/ws?token=${hs256({ sub: 'u', exp: now() - 120 })}`), { protocols: 'parley.v1' });
  assert.equal(err.status, 401);
  // No token in the URL: the upgrade goes on, and hello must bring one.
  const e = await JsonClient.open(server.wsUrl('/ws'));
  await e.send({ type: 'hello', name: 'nobody' });
  assert.equal((await e.expect('error')).reason, 'missing');
  e.raw.close();
});

test('without --auth, ?token= is ignored', async () => {
  const room = uniqueRoom('guests');
  const a = await connect(guests.wsUrl(`/ws/${room}?token=whatever`));
  const b = await connect(guests.wsUrl(`/ws/${room}`));
  assert.equal(await a.nextText(), joinNotice(2));
  a.close();
  b.close();
});
