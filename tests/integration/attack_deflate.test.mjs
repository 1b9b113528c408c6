// Attack (issue 7, docs/SECURITY.md "Message bytes and inflation"): deflate
// bombs to chat connections. Before, a compressed text was inflated in full
// (up to --max-message-size, 1 MiB) before its length was seen: 1 KiB on the
// wire cost 1 MiB of inflating, and a read full of such frames held the loop
// (honest p99 4 s on the debug build for 80 of them).
//
// Now a chat connection inflates a message only up to what it may take: a
// plain-text one up to --max-text-bytes (the message is skipped, answered
// with the seed's notice, the connection stays), a parley.v1 one up to its
// largest valid request (6 x --max-text-bytes + 4096; past it: 1009). And
// every connection inflates at most --inflate-rate bytes a second: past it
// its input waits.
//
// The bombs are written as raw frames (RSV1, some split over continuation
// frames with a ping between) on connections whose handshake npm `ws` made
// with permessage-deflate. Asserted beside an honest pair (lib/attack.mjs):
// the refusals, the bytes the server inflated (/metrics), its CPU, its RSS,
// the pair's latency bound, and the counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { connect, startServer, uniqueRoom } from './lib/server.mjs';
import { OP, encodeFrame } from './lib/raw.mjs';
import {
  MiB, SMALL_ASAN_QUARANTINE, METRICS_ARGS, RssWatch, assertHonest, cpuSeconds, eventually,
  honestPairs, metric,
} from './lib/attack.mjs';

const TOO_LONG = '系统通知: 消息过长';
const DEFLATE = { perMessageDeflate: { clientNoContextTakeover: true, serverNoContextTakeover: true } };

// A permessage-deflate payload (RFC 7692 §7.2.1: sync flush, tail removed)
// of `bytes` letters: about 1 KiB on the wire per MiB.
function compressed(bytes) {
  const z = zlib.deflateRawSync(Buffer.alloc(bytes, 'a'), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return z.subarray(0, z.length - 4);
}

// One compressed text message as frames: whole, or (split) a first frame of
// 2 bytes with RSV1, then continuations of 100 bytes with a ping among them.
function bombFrames(payload, split) {
  if (!split) return [encodeFrame({ opcode: OP.TEXT, payload, rsv: 4 })];
  const frames = [encodeFrame({ opcode: OP.TEXT, payload: payload.subarray(0, 2), rsv: 4, fin: false })];
  for (let pos = 2; pos < payload.length; pos += 100) {
    const end = Math.min(pos + 100, payload.length);
    frames.push(encodeFrame({ opcode: OP.CONT, payload: payload.subarray(pos, end), fin: end === payload.length }));
    if (pos === 202) frames.push(encodeFrame({ opcode: OP.PING, payload: Buffer.from('p') }));
  }
  return frames;
}

const ARGS = ['--threads', '2', '--history', 'off', ...METRICS_ARGS];

test('deflate bombs to a plain-text connection stop at --max-text-bytes: notice, connection kept, nothing more inflated', async () => {
  const BOMBS = 200;
  const server = await startServer(ARGS, { env: SMALL_ASAN_QUARANTINE });
  const control = await startServer(ARGS, { env: SMALL_ASAN_QUARANTINE });
  const rss = new RssWatch(server.child.pid);
  let attacker;
  try {
    const honest = await honestPairs(server, control);
    attacker = await connect(server.wsUrl(`/ws/${uniqueRoom('bomb')}`), DEFLATE);
    assert.match(attacker.ws.extensions, /permessage-deflate/);
    const inflatedBefore = await metric(server, 'parley_inflated_bytes_total');
    const tooLongBefore = await metric(server, 'parley_chat_refusals_total{reason="text_too_long"}');
    const cpuBefore = cpuSeconds(server.child.pid);
    rss.reset();
    const baseline = rss.max;

    // 200 messages of 1 MiB each (the server's --max-message-size), 1 KiB
    // each on the wire: 200 MiB of inflating before; a quarter of them split
    // over continuation frames. All in one write.
    const bomb = compressed(MiB);
    assert.ok(bomb.length < 2048, `bomb of ${bomb.length} bytes`);
    const frames = [];
    for (let i = 0; i < BOMBS; i++) frames.push(...bombFrames(bomb, i % 4 === 3));
    attacker.ws._socket.write(Buffer.concat(frames));
    const notices = await attacker.waitUntil(() => {
      const n = attacker.messages.filter((m) => m.text === TOO_LONG).length;
      return n === BOMBS ? n : undefined;
    }, 60000, `${BOMBS} notices`);

    const cpu = cpuSeconds(server.child.pid) - cpuBefore;
    const inflated = (await metric(server, 'parley_inflated_bytes_total')) - inflatedBefore;
    const tooLong = (await metric(server, 'parley_chat_refusals_total{reason="text_too_long"}')) - tooLongBefore;
    const pair = await honest.stop();
    const figures = {
      bombs: BOMBS, wire_bytes: bomb.length, notices, inflated_bytes: inflated, counted: tooLong,
      server_cpu_s: +cpu.toFixed(2), rss_growth_MiB: +((rss.max - baseline) / MiB).toFixed(1),
      honest_p99_ms: +pair.p99.toFixed(1), control_p99_ms: +pair.controlP99.toFixed(1),
    };
    console.log(`REPORT deflate-bombs-plain ${JSON.stringify(figures)}`);
    assert.ok(!attacker.isClosed, 'the attacker was closed: a refused text keeps the connection');
    // Each message inflated up to the limit and one byte more (how an overflow
    // is seen), no further: 4001 bytes instead of 1 MiB.
    assert.ok(inflated <= BOMBS * 4001, `inflated ${inflated} bytes for ${BOMBS} bombs`);
    assert.equal(tooLong, BOMBS);
    // Before: ~200 MiB of inflating, seconds of CPU on the debug build.
    assert.ok(cpu < 3, `the server used ${cpu.toFixed(2)} s of CPU`);
    assert.ok(rss.max - baseline < 64 * MiB, `RSS grew by ${figures.rss_growth_MiB} MiB`);
    assertHonest(assert, pair);
    // The connection still works: a compressed text within the limit is relayed.
    const peer = await connect(server.wsUrl(`/ws/${attacker.ws.url.split('/ws/')[1]}`));
    await attacker.waitUntil(() => (attacker.messages.some((m) => /当前在线2人/.test(m.text ?? '')) ? true : undefined));
    await attacker.send('still here '.repeat(200), { compress: true });
    assert.equal(await peer.waitUntil(() => peer.messages.find((m) => m.text?.startsWith('still here'))?.text, 5000),
      'still here '.repeat(200));
    peer.close(1000);
  } finally {
    rss.stop();
    attacker?.terminate();
    await server.stopClean();
    await control.stopClean();
  }
});

test('a deflate bomb to a parley.v1 connection closes 1009 after its largest request, not after 1 MiB', async () => {
  const CONNS = 10;
  const server = await startServer(ARGS, { env: SMALL_ASAN_QUARANTINE });
  try {
    const tooBigBefore = await metric(server, 'parley_messages_too_big_total');
    const inflatedBefore = await metric(server, 'parley_inflated_bytes_total');
    const bomb = compressed(MiB);
    const closes = await Promise.all(Array.from({ length: CONNS }, async (_, i) => {
      const c = await connect(server.wsUrl('/ws'), { protocols: ['parley.v1'], ...DEFLATE });
      c.ws._socket.write(Buffer.concat(bombFrames(bomb, i % 2 === 1)));
      return (await c.waitClose(15000)).code;
    }));
    assert.deepEqual(closes, Array(CONNS).fill(1009));
    const limit = 6 * 4000 + 4096;  // the largest valid request (welcome.limits.max_message_bytes)
    const inflated = (await metric(server, 'parley_inflated_bytes_total')) - inflatedBefore;
    assert.ok(inflated <= CONNS * (limit + 1), `inflated ${inflated} bytes`);
    await eventually(() => metric(server, 'parley_messages_too_big_total'), (v) => v - tooBigBefore === CONNS,
      5000, 'the 1009 closes to be counted');
    // …and logged (rate limited), with the client's address.
    assert.match(server.stderr, /127\.0\.0\.1: refused, message too big, closed 1009/);
  } finally {
    await server.stopClean();
  }
});

test('--inflate-rate: a connection inflating faster waits; every message still arrives whole', async () => {
  // 8 messages of 1 MiB against 2 MiB/s (burst: a quarter of a second's
  // worth): they cannot all be inflated in less than (8 - 0.5 - 1) / 2 s.
  const RATE = 2 * MiB;
  const COUNT = 8;
  const server = await startServer(['--echo', '--inflate-rate', String(RATE), ...ARGS]);
  try {
    const waitsBefore = await metric(server, 'parley_inflate_waits_total');
    const c = await connect(server.wsUrl('/echo'), DEFLATE);
    const bomb = compressed(MiB);
    const t0 = performance.now();
    const frames = [];
    for (let i = 0; i < COUNT; i++) frames.push(...bombFrames(bomb, i % 2 === 1));
    c.ws._socket.write(Buffer.concat(frames));
    await c.waitUntil(() => (c.messages.length === COUNT ? true : undefined), 60000, `${COUNT} echoes`);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`REPORT inflate-rate ${JSON.stringify({ count: COUNT, rate: RATE, seconds: +seconds.toFixed(2) })}`);
    for (const m of c.messages) assert.equal(m.data.length, MiB);
    assert.ok(seconds >= (COUNT - 1.5) * MiB / RATE, `${COUNT} MiB inflated in ${seconds.toFixed(2)} s`);
    assert.ok((await metric(server, 'parley_inflate_waits_total')) > waitsBefore);
    c.close(1000);
    assert.equal((await c.waitClose()).code, 1000);
  } finally {
    await server.stopClean();
  }
});
