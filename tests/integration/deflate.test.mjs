// permessage-deflate with npm `ws` (its own zlib-based implementation),
// `perMessageDeflate` on: echo of every size both ways with both server
// policies, the parameters ws can ask for, a chat room, and bytes on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer, connect, connectRoom, uniqueRoom } from './lib/server.mjs';

const texts = ['', 'x', 'héllo 你好 👋', 'a'.repeat(127), 'b'.repeat(128), 'chat line '.repeat(300), '消息'.repeat(50000)];
const binaries = () => [Buffer.alloc(0), crypto.randomBytes(100), Buffer.alloc(1 << 20), crypto.randomBytes(70000)];

async function echoAll(c) {
  for (let round = 0; round < 3; round++) {  // contexts carry over between messages
    for (const t of texts) {
      await c.send(t);
      const m = await c.next(10000);
      assert.equal(m.isBinary, false);
      assert.ok(m.text === t, `echo of ${t.length} chars differs`);
    }
    for (const b of binaries()) {
      await c.send(b, { binary: true });
      const m = await c.next(10000);
      assert.equal(m.isBinary, true);
      assert.ok(Buffer.compare(m.data, b) === 0, `echo of ${b.length} bytes differs`);
    }
  }
  // A fragmented compressed message.
  c.send('frag', { fin: false });
  c.send('men', { fin: false });
  await c.send('ted ' + 'z'.repeat(5000), { fin: true });
  assert.equal(await c.nextText(10000), 'fragmented ' + 'z'.repeat(5000));
}

const offers = {
  'ws default': {},
  'threshold 0': { threshold: 0 },
  'small windows': { threshold: 0, serverMaxWindowBits: 9, clientMaxWindowBits: 10 },
  'no context takeover': { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true },
};

for (const mode of ['on', 'takeover']) {
  test(`--deflate ${mode}: echo through ws with perMessageDeflate`, async () => {
    const server = await startServer(['--echo', '--deflate', mode, '--max-message-size', String(8 << 20)]);
    try {
      for (const [name, perMessageDeflate] of Object.entries(offers)) {
        const c = await connect(server.wsUrl('/echo'), { perMessageDeflate });
        assert.ok(c.ws._extensions['permessage-deflate'], `${name}: not negotiated`);
        await echoAll(c);
        c.close(1000);
        assert.equal((await c.waitClose()).code, 1000);
      }
    } finally {
      await server.stopClean();
    }
  });
}

test('the server answers ws offers as its policy says', async () => {
  const on = await startServer(['--echo']);
  const takeover = await startServer(['--echo', '--deflate', 'takeover']);
  const off = await startServer(['--echo', '--deflate', 'off']);
  try {
    // What ws accepted from the server's answer (undefined: no extension).
    const params = async (server, perMessageDeflate) => {
      const c = await connect(server.wsUrl('/echo'), { perMessageDeflate });
      const p = c.ws._extensions['permessage-deflate']?.params;
      c.close(1000);
      await c.waitClose();
      return p && { ...p };
    };
    const shared = { server_no_context_takeover: true, client_no_context_takeover: true, client_max_window_bits: 12 };
    assert.deepEqual(await params(on, true), shared);
    assert.deepEqual(await params(takeover, true), { client_max_window_bits: 12 });
    assert.deepEqual(await params(on, { serverMaxWindowBits: 10 }), { ...shared, server_max_window_bits: 10 });
    assert.equal(await params(off, true), undefined);
    assert.equal(await params(on, false), undefined);
  } finally {
    await Promise.all([on.stopClean(), takeover.stopClean(), off.stopClean()]);
  }
});

test('compressed echoes are small on the wire', async () => {
  const server = await startServer(['--echo']);
  try {
    const c = await connect(server.wsUrl('/echo'), { perMessageDeflate: { threshold: 0 } });
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(4000);  // 180 KB
    const before = c.ws._socket.bytesRead;
    await c.send(text);
    assert.equal(await c.nextText(), text);
    const read = c.ws._socket.bytesRead - before;
    assert.ok(read < text.length / 50, `${read} bytes on the wire for ${text.length}`);
    c.close(1000);
    await c.waitClose();
  } finally {
    await server.stopClean();
  }
});

test('a chat room of ws clients with compression', async () => {
  const server = await startServer(['--history', 'off']);
  try {
    const url = server.wsUrl(`/ws/${uniqueRoom()}`);
    const clients = await connectRoom(url, 3);  // ws offers permessage-deflate by default
    for (const c of clients) assert.ok(c.ws._extensions['permessage-deflate']);
    const line = 'a line long enough to be worth compressing, '.repeat(10);
    for (let i = 0; i < 10; i++) {
      const from = clients[i % 3];
      await from.send(`${i} ${line}`);
      for (const other of clients) {
        if (other !== from) assert.equal(await other.nextText(), `${i} ${line}`);
      }
    }
    for (const c of clients) c.close(1000);
    await Promise.all(clients.map((c) => c.waitClose()));
  } finally {
    await server.stopClean();
  }
});
