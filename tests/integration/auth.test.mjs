// --auth jwt through the real binary (docs/PROTOCOL.md, "Authentication"):
// tokens signed here with Node's crypto, an implementation independent of
// the server's, for every refusal the verifier must make and the in-band
// refresh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, connect, uniqueRoom, withTimeout } from './lib/server.mjs';
import { JsonClient, tempDir, removeDir } from './lib/json_client.mjs';

const b64 = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';

function hs256(claims, { alg = 'HS256', secret = SECRET } = {}) {
  const head = `${b64({ alg, typ: 'JWT' })}.${b64(claims)}`;
  if (alg === 'none') return `${head}.`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

let dir;
let hsServer;
let rsServer;
let rsPublicPem;
let rsPrivate;
before(async () => {
  dir = tempDir();
  writeFileSync(path.join(dir, 'secret'), SECRET);
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  rsPrivate = pair.privateKey;
  rsPublicPem = pair.publicKey.export({ type: 'spki', format: 'pem' });
  writeFileSync(path.join(dir, 'rsa.pem'), rsPublicPem);
  hsServer = await startServer(['--data-dir', path.join(dir, 'hs'), '--auth', 'jwt', '--jwt-key',
    path.join(dir, 'secret'), '--jwt-leeway', '0', '--jwt-refresh-warning', '2']);
  rsServer = await startServer(['--data-dir', path.join(dir, 'rs'), '--auth', 'jwt', '--jwt-key',
    path.join(dir, 'rsa.pem'), '--jwt-audience', 'parley']);
});
after(async () => {
  await hsServer.stopClean();
  await rsServer.stopClean();
  removeDir(dir);
});

async function hello(server, fields) {
  const c = await JsonClient.open(server.wsUrl('/ws'));
  await c.send({ type: 'hello', name: 'guest', ...fields });
  return c;
}

// The refusal every bad token gets: an error with its reason, then the close.
async function refused(server, fields, code, reason, closeCode) {
  const c = await hello(server, fields);
  const e = await c.expect('error');
  assert.equal(e.code, code);
  assert.equal(e.reason, reason);
  assert.equal((await c.waitClose()).code, closeCode);
}

test('a good token is the identity: sub, its name, its expiry; its name cannot be renamed', async () => {
  const exp = now() + 600;
  const c = await hello(hsServer, { token: hs256({ sub: 'user-7', name: ' Ada ', exp }) });
  const w = await c.expect('welcome');
  assert.equal(w.user, 'user-7');
  assert.equal(w.name, 'Ada');
  assert.equal(w.auth, 'jwt');
  assert.equal(w.expires_at, exp);
  const room = uniqueRoom('auth');
  assert.equal((await c.join(room)).you, 'Ada');
  await c.send({ type: 'rename', name: 'Eve' });
  const e = await c.expect('error');
  assert.equal(e.code, 'forbidden');
  c.close();
});

test('every refused token gets its documented error and close code', async () => {
  await refused(hsServer, {}, 'unauthorized', 'missing', 4001);
  await refused(hsServer, { token: hs256({ sub: 'u', exp: now() - 10 }) }, 'token_expired', 'expired', 4004);
  await refused(hsServer, { token: hs256({ sub: 'u', exp: now() + 60 }, { alg: 'none' }) },
    'unauthorized', 'algorithm_not_allowed', 4001);
  await refused(hsServer, { token: hs256({ sub: 'u', exp: now() + 60 }, { secret: 'another-secret-of-32-bytes-or-more!!' }) },
    'unauthorized', 'bad_signature', 4001);
  await refused(hsServer, { token: 'not.a.token' }, 'unauthorized', 'malformed', 4001);
  await refused(hsServer, { token: hs256({ sub: 'u', exp: now() + 60, nbf: now() + 600 }) },
    'unauthorized', 'not_yet_valid', 4001);
  await refused(hsServer, { token: hs256({ exp: now() + 60 }) }, 'unauthorized', 'invalid_claims', 4001);
});

test('RS256: the key pins the algorithm (no HS256 with the public key), the audience is checked', async () => {
  const claims = { sub: 'r1', exp: now() + 600, aud: 'parley' };
  const head = `${b64({ alg: 'RS256' })}.${b64(claims)}`;
  const good = `${head}.${sign('sha256', Buffer.from(head), rsPrivate).toString('base64url')}`;
  const c = await hello(rsServer, { token: good });
  assert.equal((await c.expect('welcome')).user, 'r1');
  c.close();
  // The classic confusion: HS256 "signed" with the server's own public key.
  await refused(rsServer, { token: hs256(claims, { secret: rsPublicPem }) },
    'unauthorized', 'algorithm_not_allowed', 4001);
  const other = { ...claims, aud: 'someone-else' };
  const head2 = `${b64({ alg: 'RS256' })}.${b64(other)}`;
  const wrongAud = `${head2}.${sign('sha256', Buffer.from(head2), rsPrivate).toString('base64url')}`;
  await refused(rsServer, { token: wrongAud }, 'unauthorized', 'wrong_audience', 4001);
});

test('rooms: a room the token does not allow is forbidden, the connection stays', async () => {
  const allowed = uniqueRoom('team');
  const c = await hello(hsServer, { token: hs256({ sub: 'u-r', exp: now() + 600, rooms: [`${allowed.slice(0, 4)}*`] }) });
  await c.expect('welcome');
  const refusedJoin = await c.join(uniqueRoom('other'));
  assert.equal(refusedJoin.code, 'forbidden');
  assert.equal((await c.join(allowed)).type, 'joined');
  c.close();
});

test('refresh: warned before the end, a new token for the same user extends it; another user is refused', async () => {
  const c = await hello(hsServer, { token: hs256({ sub: 'u-f', exp: now() + 4 }) });
  await c.expect('welcome');
  const warning = await c.expect('token_expiring', 5000);
  assert.ok(warning.in <= 2 && warning.in >= 0, JSON.stringify(warning));
  await c.send({ type: 'refresh', token: hs256({ sub: 'someone-else', exp: now() + 600 }) });
  const e = await c.expect('error');
  assert.equal(e.reason, 'subject_changed');
  const exp = now() + 600;
  await c.send({ type: 'refresh', token: hs256({ sub: 'u-f', exp }) });
  assert.equal((await c.expect('refreshed')).expires_at, exp);
  // Past the first token's end, still open: a message goes through.
  await new Promise((r) => setTimeout(r, 4000));
  const room = uniqueRoom('after-refresh');
  assert.equal((await c.join(room)).type, 'joined');
  assert.equal((await c.say(room, 'm1', 'still here')).type, 'ack');
  c.close();
});

test('no refresh: closed with 4004 at the end', async () => {
  const c = await hello(hsServer, { token: hs256({ sub: 'u-x', exp: now() + 2 }) });
  await c.expect('welcome');
  const closed = await withTimeout(c.raw.waitClose(8000), 9000, 'the close at expiry');
  assert.equal(closed.code, 4004);
});

test('a plain-text (seed) client without a token is not let in', async () => {
  // Refused before the upgrade (docs/PROTOCOL.md, "Presenting a token"); the
  // session's own check (close 4001) stays as the last line of defence.
  await assert.rejects(connect(hsServer.wsUrl(`/ws/${uniqueRoom('seed')}`)),
    (e) => e.status === 401 && e.headers['www-authenticate'] === 'Bearer realm="parley"');
});
