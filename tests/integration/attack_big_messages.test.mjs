// Attack (issue 7): 4 plain-text connections each send 260 × 1 MiB messages
// to a room of their own, then stay idle. Before, every room's cache kept 256
// messages of any size: RSS 19 MB → 1.07 GB, held.
//
// With the default flags a 1 MiB text is over --max-text-bytes (4000): it is
// neither relayed nor stored, the sender is told `系统通知: 消息过长` and stays
// connected. An operator who raises the text limit to 1 MiB still has the
// cache bounded in bytes: --cache-room-bytes per room and --cache-bytes across
// rooms (least recently used rooms give theirs up first), and with
// --history off the memory history is bounded by the same budget.
//
// Scaled for CI: 4 connections × 24 messages of 1 MiB (96 MiB; the issue's
// 1 GiB only takes longer), against --cache-bytes 16 MiB with no per-room
// cap, so that the global budget, not the per-room one, has to hold. The
// attackers send uncompressed, as the did: with permessage-deflate a
// raised text limit lets 1 KiB on the wire become 1 MiB of work, which is not
// bounded yet (docs/SECURITY.md, "What is not bounded yet").
// Asserted, with an honest pair chatting beside it: RSS growth < 64 MiB
// (during the flood and after it, while the attackers stay idle), the cache
// gauge within --cache-bytes, evictions counted, the honest pair's latency
// bound, nothing lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uniqueRoom } from './lib/server.mjs';
import {
  MiB, SMALL_ASAN_QUARANTINE, RssWatch, assertHonest, eventually, honestPairs, metric, rssBytes,
  startChatAttacker,
  METRICS_ARGS,
} from './lib/attack.mjs';

const CONNS = 4;
// Under ThreadSanitizer (PARLEY_SANITIZER=thread) the server is 5-15x
// slower: half the messages, still three times the cache budget.
const COUNT = process.env.PARLEY_SANITIZER === 'thread' ? 12 : 24;
const CACHE = 16 * MiB;

async function flood(server, control, { count, bytes, deflate }) {
  const rss = new RssWatch(server.child.pid);
  const honest = await honestPairs(server, control);
  const rooms = Array.from({ length: CONNS }, () => uniqueRoom('big'));
  const attacker = startChatAttacker(server, { mode: 'plain-flood', conns: CONNS, rooms, count, bytes, deflate });
  try {
    await attacker.next('ready');
    rss.reset();
    const baseline = rss.max;
    attacker.go();
    const attacked = await attacker.next('attacked', 120000);
    const cacheBytes = await metric(server, 'parley_chat_cache_bytes');
    // Idle attackers: what the server holds now is what it keeps.
    await new Promise((r) => setTimeout(r, 1000));
    const held = rssBytes(server.child.pid) - baseline;
    attacker.stop();
    const outcome = await attacker.next('outcome');
    const pair = await honest.stop();
    const figures = {
      rss_baseline_MiB: +(baseline / MiB).toFixed(1),
      rss_growth_MiB: +((rss.max - baseline) / MiB).toFixed(1),
      rss_held_MiB: +(held / MiB).toFixed(1),
      sent_MiB: +(attacked.sent * bytes / MiB).toFixed(1),
      seconds: +attacked.seconds.toFixed(1),
      honest_p99_ms: +pair.p99.toFixed(1),
      control_p99_ms: +pair.controlP99.toFixed(1),
      cache_bytes: cacheBytes,
      evicted: await metric(server, 'parley_chat_cache_evicted_messages_total'),
      store_committed: await metric(server, 'parley_store_appends_committed_total'),
      store_over_budget: await metric(server, 'parley_store_appends_over_budget_total'),
      outcome,
    };
    console.log(`REPORT big-messages ${JSON.stringify(figures)}`);
    return { figures, pair, outcome, growth: rss.max - baseline, held, attacked };
  } finally {
    attacker.kill();
    rss.stop();
  }
}

// With --history sqlite the messages waiting for the store are bounded in
// bytes (--store-pending-room-bytes, 1 MiB: one 1 MiB text in flight per
// room; --store-pending-bytes, 16 MiB, overall): the writer takes 1 MiB rows
// more slowly than 4 connections send them, and what it cannot take yet is
// refused with the seed-style notice BUSY instead of piling up in memory
// (before: +246 MiB of RSS for 160 MiB sent, honest p99 ~20 s).
// Known gap (docs/SECURITY.md, "What is not bounded yet"): a 1 MiB text
// costs its loop tens of milliseconds on the debug build (copies, page
// faults), and an honest client on that loop waits behind it: with the text
// limit raised, a per-connection byte rate is missing, so the pair's latency
// is reported, not asserted.
const BUSY = '系统通知: 服务器繁忙,消息未发送';
for (const history of ['off', 'sqlite']) {
  test(`4 connections × ${COUNT} × 1 MiB to their own rooms, text limit raised (--history ${history}): RSS bounded by the cache budget`, async () => {
    const args = ['--threads', '2', '--history', history, '--max-text-bytes', String(MiB),
      '--cache-bytes', String(CACHE), '--cache-room-bytes', '0'];
    const server = await startServer([...args, ...METRICS_ARGS], { env: SMALL_ASAN_QUARANTINE });
    const control = await startServer([...args, ...METRICS_ARGS], { env: SMALL_ASAN_QUARANTINE });
    try {
      const { figures, pair, outcome, growth, held, attacked } =
        await flood(server, control, { count: COUNT, bytes: MiB, deflate: false });
      assert.equal(attacked.sent, CONNS * COUNT);
      assert.ok(growth < 64 * MiB, `RSS grew by ${figures.rss_growth_MiB} MiB`);
      assert.ok(held < 64 * MiB, `RSS held ${figures.rss_held_MiB} MiB`);
      // With --history off the memory history is the cache (bounded by the
      // same flags) and RoomCache keeps nothing.
      if (history === 'sqlite') {
        assert.ok(figures.cache_bytes <= CACHE, `cache ${figures.cache_bytes} bytes`);
        // Evictions are due once more than the budget was stored (the store's
        // budget may have refused enough that it never was).
        const storedFlood = figures.store_committed - pair.sent;
        if (storedFlood * MiB > CACHE) assert.ok(figures.evicted > 0, 'no cached message was evicted');
      }
      // Accepted, or (SQLite) refused past the store's budget with BUSY;
      // nobody closed.
      if (history === 'sqlite') {
        const busy = outcome.notices[BUSY] ?? 0;
        assert.deepEqual(outcome.notices, busy ? { [BUSY]: busy } : {});
        assert.equal(figures.store_over_budget, busy);
        // Every text stored or refused, none left waiting.
        await eventually(() => metric(server, 'parley_store_appends_committed_total'),
          (n) => n + busy === CONNS * COUNT + pair.sent, 20000, 'every text stored or refused');
        assert.equal(await metric(server, 'parley_store_pending_bytes'), 0);
      } else {
        assert.deepEqual(outcome.notices, {});
      }
      assert.deepEqual(outcome.close_codes, { open: CONNS });
      assert.ok(pair.open, 'an honest client was disconnected');
      assert.equal(pair.received, pair.sent, 'an honest line was lost');
      assert.equal(pair.outOfOrder, 0);
      // The honest pair's latency is reported (REPORT line), not asserted:
      // see the second gap above.
    } finally {
      await server.stop({ timeoutMs: 30000 });
      await control.stopClean();
    }
  });
}

test('4 connections × 1 MiB messages with the default text limit: refused with a notice, connections kept', async () => {
  const args = ['--threads', '2'];
  const server = await startServer([...args, ...METRICS_ARGS], { env: SMALL_ASAN_QUARANTINE });
  const control = await startServer([...args, ...METRICS_ARGS], { env: SMALL_ASAN_QUARANTINE });
  try {
    // Uncompressed: with permessage-deflate each refused 1 KiB frame is still
    // inflated to 1 MiB before the limit is seen (docs/SECURITY.md,
    // "Compression": not bounded yet).
    const { figures, pair, outcome, growth } = await flood(server, control, { count: 8, bytes: MiB, deflate: false });
    assert.ok(growth < 64 * MiB, `RSS grew by ${figures.rss_growth_MiB} MiB`);
    assert.ok(figures.cache_bytes < MiB, `cache ${figures.cache_bytes} bytes`);  // the honest lines only
    assert.deepEqual(outcome.notices, { '系统通知: 消息过长': CONNS * 8 });
    assert.deepEqual(outcome.close_codes, { open: CONNS });
    assertHonest(assert, pair);
  } finally {
    await server.stopClean();
    await control.stopClean();
  }
});
