// The chat rate per address (docs/SECURITY.md, "Rates per address"): 100
// connections from one address share one rate, so N connections do not
// multiply it (before: 100 connections got 2,238 acked messages a second,
// 50/s each); the connections that keep sending into the full address are
// closed (1008); a client at another address is not affected, and the
// server's memory and an honest pair's latency stay bounded meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './lib/server.mjs';
import { JsonClient } from './lib/json_client.mjs';
import { HonestPair, RssWatch, jsonLines, latencyBound, MiB, SMALL_ASAN_QUARANTINE } from './lib/attack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const RATE = 20;
const BURST = 250;  // covers the flooders' hello and join (200 requests)
const FLOODERS = 100;
const FLOOD_SECONDS = 4;
// Every second each connection sends one message: 100/s from the address,
// five times its rate, and little work for a debug build on a busy machine
// (the honest pair's latency is measured against an idle twin).
const ROUND_MS = 1000;
const ARGS = ['--threads', '2', '--history', 'off', '--rate-per-ip', String(RATE),
  '--rate-burst-per-ip', String(BURST), '--max-connections-per-ip', '0', '--handshake-rate-per-ip', '0'];

// Runs lib/address_flood.mjs; resolves `ready` when its connections have
// joined and `result` with its counts.
function flood(port) {
  const child = spawn(process.execPath, [path.join(here, 'lib/address_flood.mjs'), String(port), '127.0.0.1',
    String(FLOODERS), String(FLOOD_SECONDS), '1', String(ROUND_MS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const { line } = jsonLines(child, 'flooder');
  return { ready: line(0, 60000, 'the flood to start'), result: () => line(1, 60000, 'the flood\'s counts'), kill: () => child.kill('SIGKILL') };
}

test('100 connections from one address share its rate; another address is unaffected', async () => {
  const env = SMALL_ASAN_QUARANTINE;
  const server = await startServer(ARGS, { env });
  const control = await startServer(ARGS, { env });
  const rss = new RssWatch(server.child.pid);
  let flooder;
  try {
    // Honest clients at 127.0.0.2: a pair measuring latency, and a JSON user
    // whose every send must be acknowledged.
    const pair = await HonestPair.open(server, 20, { localAddress: '127.0.0.2' });
    const controlPair = await HonestPair.open(control, 20, { localAddress: '127.0.0.2' });
    const honest = await JsonClient.open(server.wsUrl('/ws'), { localAddress: '127.0.0.2' });
    await honest.hello('honest');
    assert.equal((await honest.join('honest-json')).type, 'joined');

    flooder = flood(server.port);
    await flooder.ready;
    pair.markBaseline();
    controlPair.markBaseline();
    rss.reset();
    const baseline = rss.max;
    // The honest user sends one message every 100 ms while the flood lasts.
    let honestSent = 0;
    let honestAcked = 0;
    const honestErrors = [];
    const result = flooder.result();
    let done = false;
    result.finally(() => { done = true; });
    while (!done) {
      const answer = await honest.say('honest-json', `h${honestSent++}`, 'hello from elsewhere');
      if (answer.type === 'ack') honestAcked++;
      else honestErrors.push(answer);
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await result;
    const elapsed = (r.last_ack_ms - r.first_ms) / 1000;
    const allowed = BURST + RATE * elapsed;
    console.log(`REPORT rate-per-ip ${JSON.stringify({ ...r, elapsed_s: +elapsed.toFixed(2),
      allowed: Math.floor(allowed), honest_sent: honestSent, honest_acked: honestAcked,
      rss_growth_MiB: +((rss.max - baseline) / MiB).toFixed(1) })}`);
    // Hello and join took tokens from the same bucket: with the sends, all
    // under the address's budget over the whole time (without the shared
    // rate all 400 would be acknowledged).
    assert.ok(r.acked + 2 * FLOODERS <= allowed + 1, `${r.acked} sends acked, ${allowed} allowed`);
    assert.equal(r.other, 0);
    assert.ok(r.limited > 0);
    // A flooder that keeps sending into the full address is closed as
    // abusive (1008): no other close.
    for (const code of Object.keys(r.closed)) assert.equal(code, '1008');
    assert.deepEqual(honestErrors, []);
    assert.equal(honestAcked, honestSent);

    const figures = await pair.stop();
    figures.controlP99 = (await controlPair.stop()).p99;
    assert.ok(figures.open, 'the honest pair stays connected');
    assert.equal(figures.received, figures.sent);
    assert.ok(figures.p99 <= latencyBound(figures), `honest p99 ${figures.p99} ms, control ${figures.controlP99} ms`);
    assert.ok(rss.max - baseline < 64 * MiB, `RSS grew ${(rss.max - baseline) / MiB} MiB`);
    honest.close();
    await pair.close();
    await controlPair.close();
  } finally {
    flooder?.kill();
    rss.stop();
    await server.stopClean();
    await control.stopClean();
  }
});
