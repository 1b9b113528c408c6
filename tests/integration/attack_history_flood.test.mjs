// Attack (issue 7): 50 connections each send 500 `history` requests (limit
// 200) in one room, then close. Before, an honest `send` in that room was
// acked after 8.4 s, an honest `history` answered after 15–17 s, and the
// server spent 15 s of CPU after the flooders had gone.
//
// Now a connection has at most 2 `history` requests in flight; more are
// answered `rate_limited` (and 20 errors within 10 s close it with 1008);
// reads not started when a connection closes are dropped; a member's reads
// wait behind that member's own requests only, never delay another member's
// acks or the room's events.
//
// Asserted, with an honest member of the same room sending a message every
// 50 ms and asking for a page every 200 ms (and the same on an unattacked
// control server):
//   - every honest send acked and every page answered, the honest member
//     connected (their p99 within latencyBound: the second test, still a
//     known gap, see there);
//   - the flooders that stay get at most 2 pages, `rate_limited`
//     for the rest, and are closed with 1008;
//   - once the flooders are gone (gauge back to 1 connection), the server's
//     CPU time (/proc/PID/stat utime + stime) stays flat: < 0.3 s in 2 s;
//   - RSS growth < 64 MiB.
// Scale: the (50 × 500, pages of 200 messages of 1,000 characters).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { startServer, uniqueRoom } from './lib/server.mjs';
import { jsonUser } from './lib/json_client.mjs';
import {
  MiB, SMALL_ASAN_QUARANTINE, RssWatch, SchedWatch, cpuSeconds, eventually, latencyBound, metric,
  startChatAttacker,
  METRICS_ARGS,
} from './lib/attack.mjs';

const FLOODERS = 50;
const STAY = 5;
const REQUESTS = 500;
const STORED = 300;

// An honest member of `room`: a message every 50 ms, a page every 200 ms,
// each timed from request to answer.
class HonestMember {
  static async open(server, room) {
    const c = await jsonUser(server.wsUrl('/ws'), 'honest', { rooms: room });
    // The room's history: pages of 200 messages of 1,000 characters.
    const acks = [];
    for (let i = 0; i < STORED; i++) {
      await c.send({ type: 'send', room, id: `seed-${i}`, text: `${i} ${'h'.repeat(1000)}` });
    }
    for (let i = 0; i < STORED; i++) acks.push(await c.take((e) => e.type === 'ack' && e.id === `seed-${i}`, 30000));
    return new HonestMember(c, room);
  }

  constructor(c, room) {
    this.c = c;
    this.room = room;
    this.acks = [];
    this.pages = [];
    this.sent = 0;
    this.lost = 0;
    this.running = true;
    this.loops = [this.#sendLoop(), this.#pageLoop()];
  }

  async #sendLoop() {
    while (this.running) {
      const id = `live-${this.sent++}`;
      const t0 = performance.now();
      await this.c.send({ type: 'send', room: this.room, id, text: `honest ${id}` });
      const answer = await this.c.take((e) => (e.type === 'ack' || e.type === 'error') && e.id === id, 30000)
        .catch(() => null);
      if (answer?.type === 'ack') this.acks.push(performance.now() - t0); else this.lost++;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async #pageLoop() {
    while (this.running) {
      const t0 = performance.now();
      await this.c.send({ type: 'history', room: this.room, before: 1e15, limit: 50 });
      const page = await this.c.take((e) => (e.type === 'history' && e.room === this.room)
        || (e.type === 'error' && e.ref === 'history'), 30000).catch(() => null);
      if (page?.type === 'history') this.pages.push(performance.now() - t0); else this.lost++;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  reset() {
    this.acks = [];
    this.pages = [];
  }

  async stop() {
    this.running = false;
    await Promise.all(this.loops);
    const p99 = (xs) => Float64Array.from(xs).sort()[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))];
    return { ackP99: p99(this.acks), pageP99: p99(this.pages), acks: this.acks.length,
      pages: this.pages.length, lost: this.lost, open: !this.c.raw.isClosed };
  }
}

let latencies = null;

test('50 connections × 500 history requests, then close: honest send and history unharmed, CPU stops', async () => {
  const args = ['--threads', '2'];
  const server = await startServer([...args, ...METRICS_ARGS], { env: SMALL_ASAN_QUARANTINE });
  const control = await startServer([...args, ...METRICS_ARGS], { env: SMALL_ASAN_QUARANTINE });
  const rss = new RssWatch(server.child.pid);
  const room = uniqueRoom('history-flood');
  const attacker = startChatAttacker(server,
    { mode: 'history-flood', conns: FLOODERS, stay: STAY, room, requests: REQUESTS, limit: 200 });
  try {
    const honest = await HonestMember.open(server, room);
    const reference = await HonestMember.open(control, room);
    const ready = await attacker.next('ready', 60000);
    assert.equal(ready.joined, FLOODERS);
    await new Promise((r) => setTimeout(r, 1000));  // warm-up
    honest.reset();
    reference.reset();
    rss.reset();
    const baseline = rss.max;
    const sched = [new SchedWatch(server.child.pid), new SchedWatch(control.child.pid)];
    attacker.go();
    await attacker.next('attacked', 60000);
    // The staying flooders are answered and closed by the server.
    const outcome = await attacker.next('outcome', 60000);
    const [serverSched, controlSched] = sched.map((w) => new SchedWatch(w.pid).since(w));
    const mine = await honest.stop();
    const theirs = await reference.stop();
    // Everyone but the honest member gone: the server must go quiet.
    if (!mine.open) assert.fail(`the honest member was closed: ${JSON.stringify(await honest.c.raw.closed)}`);
    await eventually(() => metric(server, 'parley_websocket_connections'), (n) => n <= 1, 20000,
      'the flooders\' connections to close');
    const cpu0 = cpuSeconds(server.child.pid);
    await new Promise((r) => setTimeout(r, 2000));
    const cpuAfter = cpuSeconds(server.child.pid) - cpu0;
    const growth = rss.max - baseline;
    const figures = {
      rss_growth_MiB: +(growth / MiB).toFixed(1),
      honest_ack_p99_ms: +mine.ackP99.toFixed(1), control_ack_p99_ms: +theirs.ackP99.toFixed(1),
      honest_page_p99_ms: +mine.pageP99.toFixed(1), control_page_p99_ms: +theirs.pageP99.toFixed(1),
      honest_acks: mine.acks, honest_pages: mine.pages, cpu_after_s: cpuAfter,
      store_reads: await metric(server, 'parley_store_reads_total'),
      store_reads_cancelled: await metric(server, 'parley_store_reads_cancelled_total'),
      server_sched: serverSched, control_sched: controlSched,
      outcome,
    };
    console.log(`REPORT history-flood ${JSON.stringify(figures)}`);
    assert.ok(growth < 64 * MiB, `RSS grew by ${figures.rss_growth_MiB} MiB`);
    assert.ok(mine.open && mine.lost === 0, JSON.stringify(mine));
    assert.ok(mine.acks > 0 && mine.pages > 0);
    latencies = { mine, theirs };
    // At most 2 in flight: the rest refused before any was answered (answers
    // still on their way when the connection closes are dropped).
    for (const pages of outcome.history_answers) assert.ok(pages <= 2, JSON.stringify(outcome));
    assert.ok(outcome.errors.rate_limited > 0, JSON.stringify(outcome));
    assert.deepEqual(outcome.close_codes, { 1008: STAY });
    assert.ok(cpuAfter < 0.3, `the server used ${cpuAfter} s of CPU after the flooders left`);
    honest.c.close();
  } finally {
    attacker.stop();
    attacker.kill();
    rss.stop();
    await server.stopClean();
    await control.stopClean();
  }
});

// The store's reader takes rooms in turn and, within a room, connections in
// turn (store/fair_queue.h), skips the reads of connections that are gone
// (closed, or closed 1008 by the abuse guard, which now leaves the rooms at
// once) and their answers are not encoded: of the flooders' reads about half
// are skipped (store_reads_cancelled in the REPORT). Still `todo` (measured
// 2026-12-03 on the debug build, REPORT's server_sched): with the test's
// processes alone on the 2 cores (its session weighted above the other
// users' builds, as on a CI machine) 4 of 5 runs missed the bound (ack p99
// 86–339 ms, control 10–39 ms). It is not one long task: no posted task
// costs over ~4 ms of CPU (encoding a 100 KB page: ≤ 4 ms) and no loop
// iteration over ~14 ms. It is the volume: each flooder's 501 requests are
// one read, of which ~23 are handled in full (2 reads, ~21 `rate_limited`
// errors, then 1008; the rest skipped as frames after the close), ~170 µs
// each under ASan: ~1,150 requests, plus ~30 page reads (the reader ~4 ms
// each) and their encoding, ~0.5 s of the server's CPU within ~0.7 s, while
// the attacker process takes another ~0.5 s of the 2 cores. Both loops are
// then busy or waiting for a CPU nearly all the window, and the honest
// member's read, its request at the home and its ack each wait their turn.
// The release build held the bound 5 of 5 at load ~9.5 without priority
// (ack p99 10–305 ms against bounds of 100–603 ms; the server used
// 180–240 ms of CPU).
// See docs/SECURITY.md "What is not bounded yet".
test('during the history flood the honest member\'s acks and pages keep the latency bound',
  { todo: 'issue 7: the home loop\'s work for a history flood (docs/SECURITY.md)' }, () => {
    assert.ok(latencies, 'the flood test did not run');
    const { mine, theirs } = latencies;
    assert.ok(mine.ackP99 < latencyBound({ controlP99: theirs.ackP99 }), JSON.stringify(latencies));
    assert.ok(mine.pageP99 < latencyBound({ controlP99: theirs.pageP99 }), JSON.stringify(latencies));
  });
