// Message sizes around every length-encoding boundary and the size limit,
// fragmented messages, ping/pong; through npm `ws`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverForFile, connect, connectRoom, uniqueRoom, leaveNotice } from './lib/server.mjs';

const MAX = 1048576;  // the default --max-message-size

// Sizes up to the message limit go through the chat: its text limit raised to match.
const server = serverForFile(['--max-text-bytes', String(MAX)]);

// ASCII text of exactly `n` bytes whose content depends on the position,
// so a truncated, reordered or shifted copy cannot compare equal.
function textOfSize(n) {
  const unit = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let s = '';
  while (s.length < n) s += `${s.length.toString(36)}:${unit}|`;
  return s.slice(0, n);
}

for (const size of [0, 1, 125, 126, 127, 65535, 65536, 65537, MAX - 1, MAX]) {
  test(`a ${size}-byte text message is delivered intact`, async () => {
    const [a, b] = await connectRoom(server.wsUrl(`/ws/${uniqueRoom()}`), 2);
    const text = textOfSize(size);
    await a.send(text);
    const got = await b.nextText(15000);
    assert.equal(got.length, size);
    assert.ok(got === text, 'payload differs');
    a.close(1000); b.close(1000);
    await Promise.all([a.waitClose(), b.waitClose()]);
  });
}

test('a multi-byte UTF-8 message of exactly the maximum size is delivered', async () => {
  const [a, b] = await connectRoom(server.wsUrl(`/ws/${uniqueRoom()}`), 2);
  const text = '你'.repeat(MAX / 4) + 'abcd'.repeat(MAX / 16);  // 3*MAX/4 + MAX/4 bytes
  assert.equal(Buffer.byteLength(text), MAX);
  await a.send(text);
  assert.ok((await b.nextText(15000)) === text);
  a.close(1000); b.close(1000);
  await Promise.all([a.waitClose(), b.waitClose()]);
});

test('a message of max+1 bytes closes the sender with 1009 and reaches nobody', async () => {
  const [a, b] = await connectRoom(server.wsUrl(`/ws/${uniqueRoom()}`), 2);
  await a.send(textOfSize(MAX + 1));
  assert.equal((await a.waitClose(15000)).code, 1009);
  // b's next message is the leave notice, not the oversized message.
  assert.equal(await b.nextText(), leaveNotice(1));
  b.close(1000);
  await b.waitClose();
});

test('a fragmented message of max+1 bytes in total closes with 1009', async () => {
  const [a, b] = await connectRoom(server.wsUrl(`/ws/${uniqueRoom()}`), 2);
  const half = Buffer.from(textOfSize(MAX / 2));
  a.send(half, { binary: false, fin: false });
  a.send(half, { binary: false, fin: false });
  a.send(Buffer.from('x'), { binary: false, fin: true });
  assert.equal((await a.waitClose(15000)).code, 1009);
  assert.equal(await b.nextText(), leaveNotice(1));
  b.close(1000);
  await b.waitClose();
});

test('fragmented messages are reassembled and forwarded as one message', async () => {
  const [a, b] = await connectRoom(server.wsUrl(`/ws/${uniqueRoom()}`), 2);
  // Three fragments, the middle one empty.
  a.send(Buffer.from('Hello, '), { binary: false, fin: false });
  a.send(Buffer.alloc(0), { binary: false, fin: false });
  await a.send(Buffer.from('world'), { binary: false, fin: true });
  assert.equal(await b.nextText(), 'Hello, world');
  // A multi-byte character split across fragments.
  const euro = Buffer.from('€');  // e2 82 ac
  a.send(Buffer.concat([Buffer.from('price: 5'), euro.subarray(0, 1)]), { binary: false, fin: false });
  a.send(euro.subarray(1, 2), { binary: false, fin: false });
  await a.send(euro.subarray(2), { binary: false, fin: true });
  assert.equal(await b.nextText(), 'price: 5€');
  // Many fragments adding up to a large message.
  const big = textOfSize(300000);
  for (let i = 0; i < big.length; i += 1000) {
    a.send(Buffer.from(big.slice(i, i + 1000)), { binary: false, fin: i + 1000 >= big.length });
  }
  assert.ok((await b.nextText(15000)) === big);
  a.close(1000); b.close(1000);
  await Promise.all([a.waitClose(), b.waitClose()]);
});

test('ping is answered with a pong carrying the same payload', async () => {
  const a = await connect(server.wsUrl(`/ws/${uniqueRoom()}`));
  for (const payload of [Buffer.alloc(0), Buffer.from('ping-1'), Buffer.alloc(125, 0xab)]) {
    a.ws.ping(payload);
    assert.deepEqual(await a.nextPong(), payload);
  }
  a.close(1000);
  await a.waitClose();
});

test('an unsolicited pong is ignored', async () => {
  const [a, b] = await connectRoom(server.wsUrl(`/ws/${uniqueRoom()}`), 2);
  a.ws.pong(Buffer.from('unsolicited'));
  await a.send('still here');
  assert.equal(await b.nextText(), 'still here');
  assert.equal(a.messages.length, 0);
  a.close(1000); b.close(1000);
  await Promise.all([a.waitClose(), b.waitClose()]);
});
