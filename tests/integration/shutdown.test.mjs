// SIGTERM / SIGINT: every client gets close 1001 and the process exits 0
// within the shutdown timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, connect, connectRoom, uniqueRoom } from './lib/server.mjs';

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`${signal}: clients see 1001 and the process exits 0`, async () => {
    const server = await startServer(['--shutdown-timeout', '3']);
    try {
      const room = await connectRoom(server.wsUrl(`/ws/${uniqueRoom()}`), 3);
      const lobby = await connect(server.wsUrl('/wss'));
      const all = [...room, lobby];
      const started = Date.now();
      server.child.kill(signal);
      const closes = await Promise.all(all.map((c) => c.waitClose(5000)));
      for (const { code } of closes) assert.equal(code, 1001);
      const { code, signal: sig } = await server.waitExit(6000);
      assert.equal(sig, null, `killed by ${sig}\n${server.stderr}`);
      assert.equal(code, 0, server.stderr);
      assert.ok(Date.now() - started < 4000, `shutdown took ${Date.now() - started} ms`);
    } finally {
      await server.stop({ signal: 'SIGKILL' }).catch(() => {});
    }
  });
}

test('shutdown does not wait for the shutdown timeout when clients answer the close', async () => {
  const server = await startServer(['--shutdown-timeout', '30']);
  try {
    const clients = await connectRoom(server.wsUrl(`/ws/${uniqueRoom()}`), 2);
    const started = Date.now();
    server.child.kill('SIGTERM');
    for (const c of clients) assert.equal((await c.waitClose()).code, 1001);
    const { code } = await server.waitExit(10000);
    assert.equal(code, 0, server.stderr);
    assert.ok(Date.now() - started < 10000);
  } finally {
    await server.stop({ signal: 'SIGKILL' }).catch(() => {});
  }
});

test('a client that never answers the close does not hold the shutdown past the timeout', async () => {
  const { RawClient } = await import('./lib/raw.mjs');
  const server = await startServer(['--shutdown-timeout', '2']);
  try {
    const raw = await RawClient.connect(server.port, `/ws/${uniqueRoom()}`);
    const started = Date.now();
    server.child.kill('SIGTERM');
    const f = await raw.readFrame(5000);
    assert.ok(f && f.opcode === 0x8, 'expected a close frame');
    assert.equal(f.payload.readUInt16BE(0), 1001);
    // The raw client deliberately never replies; the server must still exit.
    const { code } = await server.waitExit(8000);
    assert.equal(code, 0, server.stderr);
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 2000 + 3000, `exit took ${elapsed} ms with --shutdown-timeout 2`);
    await raw.waitEof(2000);
  } finally {
    await server.stop({ signal: 'SIGKILL' }).catch(() => {});
  }
});
