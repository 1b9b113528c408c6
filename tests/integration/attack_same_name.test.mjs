// Attack (issue 7): 1,990 connections join one room with the same name.
// Before, each join scanned every member per suffix tried (O(n²)): 10.5 s,
// and honest clients stalled up to 9.9 s. Now names are indexed and the next
// suffix is remembered (a join is O(1)), `joined` lists at most 100 members
// and the presence of a large room is batched.
//
// Scaled: 1,000 connections (the debug build with ASan and the attacker's
// own process share 2 cores; the cost per join is what matters, and an
// O(n²) join shows at 1,000 as it does at 2,000). Asserted, with an honest
// pair chatting in its own room: every connection joined, each under a
// name of its own (alice, alice-2, ...), all within 60 s; the honest pair's
// latency bound, nothing lost; RSS growth < 64 MiB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uniqueRoom } from './lib/server.mjs';
import { MiB, SMALL_ASAN_QUARANTINE, RssWatch, assertHonest, honestPairs, startChatAttacker } from './lib/attack.mjs';

const CONNS = 1000;

test(`${CONNS} connections join one room as the same name: bounded time, honest pair unharmed`, async () => {
  const args = ['--threads', '2', '--history', 'off'];
  const server = await startServer(args, { env: SMALL_ASAN_QUARANTINE });
  const control = await startServer(args, { env: SMALL_ASAN_QUARANTINE });
  const rss = new RssWatch(server.child.pid);
  const attacker = startChatAttacker(server,
    { mode: 'same-name', conns: CONNS, room: uniqueRoom('crowd'), name: 'alice', parallel: 10 });
  try {
    const honest = await honestPairs(server, control);
    await attacker.next('ready');
    rss.reset();
    const baseline = rss.max;
    attacker.go();
    const done = await attacker.next('attacked', 120000);
    const pair = await honest.stop();
    const growth = rss.max - baseline;
    console.log(`REPORT same-name ${JSON.stringify({ ...done, rss_growth_MiB: +(growth / MiB).toFixed(1),
      honest_p99_ms: +pair.p99.toFixed(1), control_p99_ms: +pair.controlP99.toFixed(1) })}`);
    assert.equal(done.error_count, 0, JSON.stringify(done.errors));
    assert.equal(done.joined, CONNS);
    assert.equal(done.distinct_names, CONNS);
    assert.ok(done.seconds < 60, `${done.seconds} s to join`);
    assert.ok(growth < 64 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    assertHonest(assert, pair);
  } finally {
    attacker.stop();
    await Promise.race([attacker.exited, new Promise((r) => setTimeout(r, 10000))]);
    attacker.kill();
    rss.stop();
    await server.stopClean();
    await control.stopClean();
  }
});
