// 500 clients in one room at once: every join is announced with the right
// count, and a broadcast reaches all 499 others. With presence coalescing off
// (--presence-batch-above 0) each join gets its own notice, as in the seed;
// by default a room this large gets at most one notice per 100 ms, carrying
// the count after all the joins of that interval.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, connect, uniqueRoom, withTimeout } from './lib/server.mjs';

const N = 500;
// Per-join notices cost N² frames; under ThreadSanitizer (the tsan preset sets
// PARLEY_SANITIZER=thread), which runs the server 5-15x slower, 200 clients
// (40,000 notices) exercise the same paths within the per-message timeouts.
const PER_JOIN_N = process.env.PARLEY_SANITIZER === 'thread' ? 200 : N;
const BATCH = 50;
const JOIN = /^系统通知: 新用户加入,当前在线(\d+)人$/;
const LEAVE = /^系统通知: 用户离开,当前在线(\d+)人$/;

let server;
let coalescing;
before(async () => {
  // 500 clients from one loopback address: no per-address limits.
  server = await startServer(['--presence-batch-above', '0', '--max-connections-per-ip', '0',
    '--handshake-rate-per-ip', '0', '--rate-per-ip', '0']);
  // The default presence (rooms of 100+ coalesce); 500 clients from one
  // loopback address: no per-address limits.
  coalescing = await startServer(['--max-connections-per-ip', '0', '--handshake-rate-per-ip', '0',
    '--rate-per-ip', '0']);
});
after(async () => {
  await server.stopClean({ timeoutMs: 20000 });
  await coalescing.stopClean({ timeoutMs: 20000 });
});

test(`${PER_JOIN_N} concurrent clients all get the broadcast and consistent join notices`, { timeout: 180000 }, async () => {
  const url = server.wsUrl(`/ws/${uniqueRoom('load')}`);
  const first = await connect(url);
  const clients = [first];
  // The rest connect in parallel batches, so joins really are concurrent.
  for (let i = 1; i < PER_JOIN_N; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(i + BATCH, PER_JOIN_N); j++) batch.push(connect(url, { timeoutMs: 30000 }));
    clients.push(...(await Promise.all(batch)));
  }
  // The first client sees every later join; the last notice says PER_JOIN_N.
  const firstCounts = [];
  while (firstCounts.length < PER_JOIN_N - 1) {
    const m = JOIN.exec(await first.nextText(30000));
    assert.ok(m, 'expected a join notice');
    firstCounts.push(Number(m[1]));
  }
  assert.deepEqual(firstCounts, Array.from({ length: PER_JOIN_N - 1 }, (_, i) => i + 2));

  await first.send('broadcast to 499');
  // Everyone else receives: the notices of the joins after its own, in
  // increasing order and ending at PER_JOIN_N, then the broadcast.
  const noticeCounts = [];
  await withTimeout(Promise.all(clients.slice(1).map(async (c) => {
    const counts = [];
    for (;;) {
      const text = await c.nextText(30000);
      if (text === 'broadcast to 499') break;
      const m = JOIN.exec(text);
      assert.ok(m, `unexpected message ${JSON.stringify(text)}`);
      counts.push(Number(m[1]));
    }
    if (counts.length) {
      assert.equal(counts.at(-1), PER_JOIN_N);
      counts.forEach((n, i) => assert.equal(n, counts[0] + i, `notices not consecutive: ${counts}`));
    }
    noticeCounts.push(counts.length);
  })), 60000, 'all clients to receive the broadcast');
  // Exactly one client joined k-th for every k: it saw PER_JOIN_N-k notices.
  noticeCounts.push(firstCounts.length);
  noticeCounts.sort((x, y) => x - y);
  assert.deepEqual(noticeCounts, Array.from({ length: PER_JOIN_N }, (_, i) => i));

  // A message from the last joiner also reaches the first.
  await clients.at(-1).send('and back');
  for (;;) {
    const text = await first.nextText(30000);
    if (text === 'and back') break;
    assert.fail(`unexpected message ${JSON.stringify(text)}`);
  }

  // Everybody but the first leaves; the first sees the count go down to 1.
  for (const c of clients.slice(1)) c.close(1000);
  const leaves = [];
  while (leaves.length < PER_JOIN_N - 1) {
    const m = LEAVE.exec(await first.nextText(30000));
    assert.ok(m, 'expected a leave notice');
    leaves.push(Number(m[1]));
  }
  assert.deepEqual(leaves, Array.from({ length: PER_JOIN_N - 1 }, (_, i) => PER_JOIN_N - 1 - i));
  await withTimeout(Promise.all(clients.slice(1).map((c) => c.waitClose(30000))), 60000, 'closes');
  first.close(1000);
  await first.waitClose();
});

test(`${N} clients in one room: coalesced notices count up to ${N} and down to 1, the broadcast reaches all`, { timeout: 180000 }, async () => {
  const url = coalescing.wsUrl(`/ws/${uniqueRoom('load-batched')}`);
  const first = await connect(url);
  const clients = [first];
  for (let i = 1; i < N; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(i + BATCH, N); j++) batch.push(connect(url, { timeoutMs: 30000 }));
    clients.push(...(await Promise.all(batch)));
  }
  // Increasing counts, ending at N; far fewer notices than joins once the
  // room passed 100 connections.
  const firstCounts = [];
  while (firstCounts.at(-1) !== N) {
    const m = JOIN.exec(await first.nextText(30000));
    assert.ok(m, 'expected a join notice');
    firstCounts.push(Number(m[1]));
  }
  firstCounts.forEach((n, i) => i > 0 && assert.ok(n > firstCounts[i - 1], `not increasing: ${firstCounts}`));
  assert.ok(firstCounts.length < N - 1 - 300, `${firstCounts.length} notices for ${N - 1} joins`);

  await first.send('broadcast to 499');
  await withTimeout(Promise.all(clients.slice(1).map(async (c) => {
    let last = 0;
    for (;;) {
      const text = await c.nextText(30000);
      if (text === 'broadcast to 499') break;
      const m = JOIN.exec(text);
      assert.ok(m, `unexpected message ${JSON.stringify(text)}`);
      assert.ok(Number(m[1]) > last, 'counts increase');
      last = Number(m[1]);
    }
  })), 60000, 'all clients to receive the broadcast');

  for (const c of clients.slice(1)) c.close(1000);
  let count = N;
  while (count !== 1) {
    const m = LEAVE.exec(await first.nextText(30000));
    assert.ok(m, 'expected a leave notice');
    assert.ok(Number(m[1]) < count, 'counts decrease');
    count = Number(m[1]);
  }
  await withTimeout(Promise.all(clients.slice(1).map((c) => c.waitClose(30000))), 60000, 'closes');
  first.close(1000);
  await first.waitClose();
});
