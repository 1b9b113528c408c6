// Native TLS with npm `ws` as the client (tls_pki twin: lib/pki.mjs): TLS 1.2
// and 1.3 with ALPN http/1.1, the seed's chat, parley.v1 with its token in
// the URL, and permessage-deflate (perMessageDeflate) over TLS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { connect, joinNotice, startServer, uniqueRoom } from './lib/server.mjs';
import { JsonClient } from './lib/json_client.mjs';
import { Pki } from './lib/pki.mjs';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const b64 = (x) => Buffer.from(JSON.stringify(x)).toString('base64url');
function token(claims) {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}

let pki;
let server;
before(async () => {
  pki = new Pki();
  const { chain, key } = pki.serverCert(7007);
  writeFileSync(path.join(pki.dir, 'secret'), SECRET);
  server = await startServer(['--tls-cert', chain, '--tls-key', key, '--history', 'off',
    '--auth', 'jwt', '--jwt-key', path.join(pki.dir, 'secret')]);
  assert.equal(server.tls, true);
});
after(async () => {
  await server.stopClean();
  pki.remove();
});

const user = (sub) => token({ sub, name: sub, exp: Math.floor(Date.now() / 1000) + 600 });

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  test(`${version}: ALPN http/1.1 and the seed's chat, token in the URL`, async () => {
    const tls = { ca: pki.ca, minVersion: version, maxVersion: version, ALPNProtocols: ['http/1.1'] };
    const room = uniqueRoom('tls');
    const a = await connect(server.wsUrl(`/ws/${room}?token=${user('ann')}`), tls);
    const socket = a.ws._socket;
    assert.equal(socket.getProtocol(), version);
    assert.equal(socket.alpnProtocol, 'http/1.1');
    assert.equal(parseInt(socket.getPeerCertificate().serialNumber, 16), 7007);
    const b = await connect(server.wsUrl(`/ws/${room}?token=${user('bob')}`), tls);
    assert.equal(await a.nextText(), joinNotice(2));
    await b.send('hi from bob');
    assert.equal(await a.nextText(), 'hi from bob');
    a.close();
    b.close();
  });
}

test('parley.v1 over wss with the token in the URL and compression negotiated', async () => {
  const opts = { ca: pki.ca, perMessageDeflate: { threshold: 0 } };
  const room = uniqueRoom('tlsjson');
  const a = await JsonClient.open(server.wsUrl(`/ws?token=${user('carol')}`), opts);
  const b = await JsonClient.open(server.wsUrl(`/ws?token=${user('dave')}`), opts);
  assert.match(a.raw.ws.extensions, /permessage-deflate/);
  await a.send({ type: 'hello', name: 'ignored' });
  assert.equal((await a.expect('welcome')).user, 'carol');
  await b.send({ type: 'hello', name: 'ignored' });
  assert.equal((await b.expect('welcome')).user, 'dave');
  await a.send({ type: 'join', room });
  await a.expect('joined');
  await b.send({ type: 'join', room });
  await b.expect('joined');
  const text = 'compressible over TLS '.repeat(100);
  await b.send({ type: 'send', room, id: 'm1', text });
  const got = await a.take((e) => e.type === 'message');
  assert.equal(got.text, text);
  a.raw.close();
  b.raw.close();
});

test('an untrusted certificate is refused by the client, and the server goes on', async () => {
  await assert.rejects(connect(server.wsUrl(`/ws?token=${user('eve')}`)), /self[- ]signed|unable to verify|certificate/i);
  const ok = await connect(server.wsUrl(`/ws/${uniqueRoom('after')}?token=${user('fay')}`), { ca: pki.ca });
  ok.close();
});
