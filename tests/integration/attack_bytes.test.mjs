// Byte rates (issue 7, docs/SECURITY.md "Message bytes and inflation"): the
// message rate counts messages, not bytes, so with a raised --max-text-bytes
// (or escape-heavy JSON) a connection could make its loop copy, frame and
// store far more than the message rate suggests. --byte-rate (per
// connection) and --byte-rate-per-ip (shared by an address's connections)
// charge each message its size: past them parley.v1 gets `rate_limited` and
// plain text is dropped, as for the message rate; refusals are counted in
// /metrics and logged. Also here: the other refusals' counters and log lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { connect, startServer, uniqueRoom } from './lib/server.mjs';
import { JsonClient, jsonUser } from './lib/json_client.mjs';
import { METRICS_ARGS, eventually, metric } from './lib/attack.mjs';

// A slow refill: whether a burst past the bucket is refused must not depend
// on how fast a loaded machine reads it (at 64 KiB/s, 40 sends fit once
// reading them took 0.45 s, and a run on a busy machine saw no refusal). At
// 8 KiB/s, 40 × 3955 B fit only after 3.3 s; more sends would pass the abuse
// limit (20 refusals close the connection), which is not what is tested here.
const RATE = 8 * 1024;
const BURST = 128 * 1024;
const COUNT = 40;
const TEXT = 'x'.repeat(3900);
const SEND_BYTES = JSON.stringify({ type: 'send', room: 'r-000000', id: 'b-00', text: TEXT }).length;

const refusals = (server, reason) => metric(server, `parley_chat_refusals_total{reason="${reason}"}`);

// Sends `count` texts at once and waits for every answer: {acks, limited, seconds}.
async function burst(c, room, count, prefix) {
  const t0 = performance.now();
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
  await Promise.all(ids.map((id) => c.send({ type: 'send', room, id, text: TEXT })));
  let acks = 0;
  let limited = 0;
  for (const id of ids) {
    const e = await c.take((m) => (m.type === 'ack' || m.type === 'error') && m.id === id, 15000);
    if (e.type === 'ack') acks++;
    else if (e.code === 'rate_limited') limited++;
    else throw new Error(`unexpected answer ${JSON.stringify(e)}`);
  }
  return { acks, limited, seconds: (performance.now() - t0) / 1000 };
}

// What a bucket of `burst` refilled at `rate` lets through in `seconds`, in
// messages of `size` bytes (plus one for the refill while the answers travel).
const allowed = (size, seconds) => Math.floor((BURST + RATE * seconds) / size) + 1;

test('--byte-rate: a connection past its bytes gets rate_limited (parley.v1) or is dropped (plain text)', async () => {
  const server = await startServer(['--threads', '1', '--history', 'off', '--byte-rate', String(RATE),
    '--byte-burst', String(BURST), '--byte-rate-per-ip', '0', ...METRICS_ARGS]);
  try {
    const room = uniqueRoom('bytes');
    const before = await refusals(server, 'byte_rate');
    const c = await jsonUser(server.wsUrl('/ws'), 'bulk', { rooms: room });
    const r = await burst(c, room, COUNT, 'b');
    console.log(`REPORT byte-rate-json ${JSON.stringify({ size: SEND_BYTES, ...r })}`);
    assert.ok(r.limited > 0, 'nothing was refused');
    assert.ok(r.acks <= allowed(SEND_BYTES, r.seconds), `${r.acks} sends of ${SEND_BYTES} bytes in ${r.seconds} s`);
    assert.ok(r.acks >= Math.floor(BURST / SEND_BYTES) - 2, `only ${r.acks} sends within the burst`);
    assert.equal(await refusals(server, 'byte_rate') - before, r.limited);
    assert.ok(!c.raw.isClosed, 'refusals under the abuse limit keep the connection');

    // Plain text: dropped silently, as for the message rate.
    const plainRoom = uniqueRoom('bytes-plain');
    const listener = await connect(server.wsUrl(`/ws/${plainRoom}`));
    const sender = await connect(server.wsUrl(`/ws/${plainRoom}`));
    await listener.waitUntil(() => (listener.messages.some((m) => /当前在线2人/.test(m.text)) ? true : undefined));
    const plainBefore = await refusals(server, 'byte_rate');
    const line = 'y'.repeat(3999);
    const t0 = performance.now();
    for (let i = 0; i < COUNT; i++) sender.ws.send(`${i} ${line}`.slice(0, 3999));
    // Everything sent has been handled once a marker after it arrives (a
    // refused marker is resent until the bucket lets it through).
    let got;
    for (let tries = 0; ; tries++) {
      await sender.send('marker');
      got = await listener.waitUntil(() => (listener.messages.some((m) => m.text === 'marker') ? true : undefined), 5000)
        .catch(() => undefined);
      if (got || tries > 10) break;
    }
    assert.ok(got, 'the marker never arrived');
    const seconds = (performance.now() - t0) / 1000;
    const relayed = listener.messages.filter((m) => m.text.length === 3999).length;
    console.log(`REPORT byte-rate-plain ${JSON.stringify({ relayed, seconds: +seconds.toFixed(2) })}`);
    assert.ok(relayed < COUNT && relayed <= allowed(3999, seconds), `${relayed} of ${COUNT} relayed in ${seconds} s`);
    assert.ok(await refusals(server, 'byte_rate') - plainBefore >= COUNT - relayed);
    assert.equal(sender.messages.filter((m) => m.text === '系统通知: 消息过长').length, 0);
    assert.ok(!sender.isClosed);
    for (const x of [c, listener, sender]) x.close(1000);
  } finally {
    await server.stopClean();
  }
});

test('--byte-rate-per-ip: an address\'s connections share one byte bucket; another address is not affected', async () => {
  const server = await startServer(['--threads', '2', '--history', 'off', '--byte-rate', '0',
    '--byte-rate-per-ip', String(RATE), '--byte-burst-per-ip', String(BURST), ...METRICS_ARGS]);
  try {
    const room = uniqueRoom('bytes-ip');
    const before = await metric(server, 'parley_byte_rate_per_ip_refused_total');
    const a = await jsonUser(server.wsUrl('/ws'), 'a', { rooms: room });
    const b = await jsonUser(server.wsUrl('/ws'), 'b', { rooms: room });
    const other = await JsonClient.open(server.wsUrl('/ws'), { localAddress: '127.0.0.2' });
    await other.hello('other');
    await other.join(room);
    const [ra, rb] = await Promise.all([burst(a, room, 25, 'a'), burst(b, room, 25, 'b')]);
    const seconds = Math.max(ra.seconds, rb.seconds);
    console.log(`REPORT byte-rate-per-ip ${JSON.stringify({ a: ra, b: rb })}`);
    assert.ok(ra.acks + rb.acks <= allowed(SEND_BYTES, seconds), `${ra.acks} + ${rb.acks} sends in ${seconds} s`);
    assert.ok(ra.limited + rb.limited > 0);
    assert.equal(await metric(server, 'parley_byte_rate_per_ip_refused_total') - before, ra.limited + rb.limited);
    // 127.0.0.2 has its own bucket.
    const ro = await burst(other, room, 10, 'o');
    assert.deepEqual({ acks: ro.acks, limited: ro.limited }, { acks: 10, limited: 0 });
    for (const x of [a, b, other]) x.close(1000);
  } finally {
    await server.stopClean();
  }
});

test('refusals are counted in /metrics and logged: rate_limited, room_limit, text_too_long, 1008', async () => {
  const server = await startServer(['--threads', '1', '--history', 'off', '--max-rooms', '1',
    '--max-text-bytes', '100', '--rate', '1', '--rate-burst', '20', ...METRICS_ARGS]);
  try {
    const c = await jsonUser(server.wsUrl('/ws'), 'carol', { rooms: 'one' });
    assert.equal((await c.join('two')).code, 'room_limit');
    assert.equal((await c.say('one', 'long', 'z'.repeat(101))).code, 'text_too_long');
    const plain = await connect(server.wsUrl('/ws/one'));
    plain.ws.send('z'.repeat(101));  // skipped unread: over --max-text-bytes
    assert.equal(await plain.waitUntil(() => plain.messages.find((m) => m.text === '系统通知: 消息过长')?.text),
      '系统通知: 消息过长');
    // 30 sends against a burst of 20 (3 tokens gone already): rate_limited.
    const ids = Array.from({ length: 30 }, (_, i) => `r${i}`);
    for (const id of ids) c.send({ type: 'send', room: 'one', id, text: 'hi' });
    let limited = 0;
    for (const id of ids) {
      const e = await c.take((m) => (m.type === 'ack' || m.type === 'error') && m.id === id);
      if (e.code === 'rate_limited') limited++;
    }
    assert.ok(limited >= 10, `${limited} rate_limited`);
    // 21 errors within 10 s: closed 1008.
    const bad = await JsonClient.open(server.wsUrl('/ws'));
    for (let i = 0; i < 21; i++) bad.send('not json');
    assert.equal((await bad.raw.waitClose(5000)).code, 1008);

    await eventually(() => metric(server, 'parley_policy_closes_total'), (v) => v === 1, 5000, 'the 1008 close');
    assert.equal(await refusals(server, 'room_limit'), 1);
    assert.equal(await refusals(server, 'text_too_long'), 2);
    assert.equal(await refusals(server, 'rate_limited'), limited);
    assert.equal(await refusals(server, 'byte_rate'), 0);
    for (const what of ['room limit', 'text too long', 'rate limited', 'closed 1008, too many invalid requests']) {
      assert.match(server.stderr, new RegExp(`127\\.0\\.0\\.1: refused, ${what}`), what);
    }
    c.close(1000);
    plain.close(1000);
  } finally {
    await server.stopClean();
  }
});
