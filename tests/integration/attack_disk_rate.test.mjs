// Attack (issue 7): one plain-text connection wrote 50 MiB/s of history to
// disk (1 MiB texts at the message rate). Now a text is at most
// --max-text-bytes (4000) in both protocols and a connection sends at most
// --rate (50) messages a second after a burst of --rate-burst (500), so what
// one connection can make the server store is bounded by
// (burst + rate × seconds) × max-text-bytes: 2 MB at once, then 200 KB/s.
// A plain-text client over the rate has its messages dropped, and 20 drops
// within 10 s close it (1008).
//
// Two attackers, with an honest pair chatting beside them:
//   - a flooder sends 4000-byte texts as fast as the socket takes them: it is
//     closed with 1008, and what was stored is within the bound;
//   - a paced attacker keeps just under the rate (one text every 21 ms) for
//     4 s: everything is stored, and that is within the bound too.
// The room's stored messages are counted by paging its history (parley.v1);
// the data directory's growth is reported; the honest pair loses nothing
// (its latency: the second test, still a known gap).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { startServer, uniqueRoom } from './lib/server.mjs';
import { jsonUser, removeDir, tempDir } from './lib/json_client.mjs';
import {
  SMALL_ASAN_QUARANTINE, SchedWatch, honestPairs, latencyBound, startChatAttacker,
} from './lib/attack.mjs';

const MAX_TEXT = 4000;
const RATE = 50;
const BURST = 500;

function dirBytes(dir) {
  let n = 0;
  for (const f of readdirSync(dir)) n += statSync(path.join(dir, f)).size;
  return n;
}

async function attack(server, room, config) {
  const attacker = startChatAttacker(server,
    { mode: 'plain-flood', conns: 1, rooms: [room], bytes: MAX_TEXT, char: 'd', deflate: false, ...config });
  try {
    await attacker.next('ready');
    attacker.go();
    const attacked = await attacker.next('attacked', 60000);
    attacker.stop();
    return { ...attacked, ...(await attacker.next('outcome')) };
  } finally {
    attacker.kill();
  }
}

// Every message stored in `room`, by paging its history.
async function stored(server, room) {
  const reader = await jsonUser(server.wsUrl('/ws'), 'auditor', { rooms: room });
  const all = await reader.allAfter(room, 0);
  reader.close();
  return all.filter((m) => m.type === 'message');
}

let honestFigures = null;

test('one plain-text connection cannot write history faster than the rate limit allows', async () => {
  const dataDir = tempDir();
  const args = ['--threads', '2', '--data-dir', dataDir];
  const server = await startServer(args, { env: SMALL_ASAN_QUARANTINE });
  const control = await startServer(['--threads', '2'], { env: SMALL_ASAN_QUARANTINE });
  try {
    const honest = await honestPairs(server, control);
    const sched = [new SchedWatch(server.child.pid), new SchedWatch(control.child.pid)];
    const before = dirBytes(dataDir);

    const floodRoom = uniqueRoom('disk-flood');
    const flood = await attack(server, floodRoom, { count: 5000, waitClose: 20000 });
    const flooded = await stored(server, floodRoom);
    const floodBound = BURST + RATE * flood.seconds + 1;
    assert.deepEqual(flood.close_codes, { 1008: 1 }, JSON.stringify(flood));
    assert.ok(flooded.length <= floodBound, `${flooded.length} stored in ${flood.seconds} s`);
    assert.ok(flooded.every((m) => Buffer.byteLength(m.text) <= MAX_TEXT));

    const pacedRoom = uniqueRoom('disk-paced');
    const paced = await attack(server, pacedRoom, { count: 190, paceMs: 21 });
    const pacedStored = await stored(server, pacedRoom);
    assert.deepEqual(paced.close_codes, { open: 1 }, JSON.stringify(paced));
    assert.equal(pacedStored.length, paced.sent);  // under the rate: nothing dropped
    assert.ok(pacedStored.length <= BURST + RATE * paced.seconds + 1);

    const growth = dirBytes(dataDir) - before;
    const [serverSched, controlSched] = sched.map((w) => new SchedWatch(w.pid).since(w));
    const pair = await honest.stop();
    console.log(`REPORT disk-rate ${JSON.stringify({
      flood_sent: flood.sent, flood_stored: flooded.length, flood_seconds: +flood.seconds.toFixed(2),
      paced_stored: pacedStored.length, paced_seconds: +paced.seconds.toFixed(2),
      stored_bytes_per_s_paced: Math.round(pacedStored.length * MAX_TEXT / paced.seconds),
      data_dir_growth_bytes: growth, honest_p99_ms: +pair.p99.toFixed(1),
      control_p99_ms: +pair.controlP99.toFixed(1), server_sched: serverSched, control_sched: controlSched })}`);
    assert.ok(pair.open, 'an honest client was disconnected');
    assert.equal(pair.received, pair.sent, 'an honest line was lost');
    assert.equal(pair.outOfOrder, 0);
    honestFigures = pair;
  } finally {
    await server.stopClean();
    await control.stopClean();
    removeDir(dataDir);
  }
});

// The store's writer takes rooms in turn, weighted by bytes
// (store/fair_queue.h), and a transaction stops at 16 KiB: the flooder's
// burst (500 × 4000 bytes within the rate limit; what exceeds
// --store-pending-room-bytes is refused with a notice) holds an honest room's
// messages up by about one transaction, not by the whole burst (before:
// 230–460 ms per 256 KiB batch, and the burst in FIFO order).
// Still `todo` (measured 2026-12-03 on the debug build, REPORT's
// server_sched): with the test's processes alone on the 2 cores (its session
// weighted above the other users' builds, as on a CI machine) 4 of 5 runs
// held the bound (p99 18–98 ms against 100), one missed it (136 ms, control
// 10 ms); 3 more runs with a trace missed it (154–254 ms). The stall (~220 ms,
// the pair's lines then arrive together) comes with no loop iteration over
// 5 ms of CPU: the home loop is saturated for ~0.4 s by many small tasks
// (per stored message: on_appended, its encoding, the auditor's pages of 4 KB
// texts; the loop used ~250 ms of CPU and waited ~300 ms for one in 0.4 s,
// the writer the same), and the pair's room shares that loop. The release
// build held the bound at load ~10 (p99 38 ms). On the shared machine at
// load 8–9 the debug build missed 3 of 5 (p99 79–378 ms, control 17–61 ms,
// the server waiting for a CPU 1.5–2.7 × as long as it ran). See
// docs/SECURITY.md "What is not bounded yet".
test('during the write burst the honest pair in another room keeps the latency bound',
  { todo: 'issue 7: the loops\' work for a write burst (docs/SECURITY.md)' }, () => {
    assert.ok(honestFigures, 'the write-rate test did not run');
    assert.ok(honestFigures.p99 < latencyBound(honestFigures), JSON.stringify(honestFigures));
  });
