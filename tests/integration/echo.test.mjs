// /echo (only with --echo) returns every text and binary message unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer, connect } from './lib/server.mjs';

test('with --echo, /echo echoes text and binary unchanged', async () => {
  const server = await startServer(['--echo']);
  try {
    const c = await connect(server.wsUrl('/echo'));
    const texts = ['', 'x', 'héllo 你好 👋', 'a'.repeat(125), 'b'.repeat(126), 'c'.repeat(65536)];
    for (const t of texts) {
      await c.send(t);
      const m = await c.next();
      assert.equal(m.isBinary, false);
      assert.ok(m.text === t, `echo of ${t.length} chars differs`);
    }
    const binaries = [Buffer.alloc(0), Buffer.from([0]), crypto.randomBytes(125), crypto.randomBytes(70000), Buffer.from([0xff, 0xfe, 0xc3])];
    for (const bin of binaries) {
      await c.send(bin, { binary: true });
      const m = await c.next();
      assert.equal(m.isBinary, true);
      assert.ok(Buffer.compare(m.data, bin) === 0, `echo of ${bin.length} bytes differs`);
    }
    // A fragmented binary message comes back as one message.
    c.send(Buffer.from([1, 2]), { binary: true, fin: false });
    await c.send(Buffer.from([3]), { binary: true, fin: true });
    const m = await c.next();
    assert.equal(m.isBinary, true);
    assert.deepEqual([...m.data], [1, 2, 3]);
    // Echo is per connection: a second client doesn't see the first one's echo.
    const d = await connect(server.wsUrl('/echo'));
    await c.send('only mine');
    assert.equal(await c.nextText(), 'only mine');
    await d.send('only yours');
    assert.equal(await d.nextText(), 'only yours');
    assert.equal(c.messages.length, 0);
    c.close(1000); d.close(1000);
    await Promise.all([c.waitClose(), d.waitClose()]);
  } finally {
    await server.stopClean();
  }
});

test('without --echo, /echo is 404', async () => {
  const server = await startServer();
  try {
    await assert.rejects(connect(server.wsUrl('/echo')), (e) => e.status === 404);
    const res = await fetch(`${server.httpUrl}/echo`);
    assert.equal(res.status, 404);
  } finally {
    await server.stopClean();
  }
});

test('PARLEY_ECHO=1 in the environment enables /echo like --echo', async () => {
  const server = await startServer([], { env: { PARLEY_ECHO: '1' } });
  try {
    const c = await connect(server.wsUrl('/echo'));
    await c.send('via env');
    assert.equal(await c.nextText(), 'via env');
    c.close(1000);
    await c.waitClose();
  } finally {
    await server.stopClean();
  }
});
