// Attack (issue 7): a plain-text client sends 3 × 1 MiB messages of U+0001
// (or 17 × 1 MiB ASCII) to `lobby`. Before, every later parley.v1 join of
// `lobby` was closed 1013 (its `joined` history, 6 bytes of JSON per U+0001,
// went over the 16 MiB output limit), the web client reconnected into the
// lobby and was dropped again, forever; a burst of such messages also kicked
// the live JSON members.
//
// Now: a text over --max-text-bytes (4000) is neither relayed nor stored and
// its sender gets `系统通知: 消息过长` (and stays connected); what the limit
// does let through — many 4000-byte texts of U+0001, 24 KB of JSON each — is
// cut out of `joined` at 256 KiB (escaping counted) with `truncated: true`,
// so a join always succeeds. Asserted, with two live JSON members in the
// lobby and an honest pair chatting in its own room:
//   - every oversized text refused with the notice, the attacker connected;
//   - the live members receive every relayed text and stay connected;
//   - a later parley.v1 join of `lobby` gets a `joined` of at most 256 KiB
//     with `truncated: true` and the newest texts, and pages on;
//   - RSS growth < 64 MiB; the honest pair's latency bound, nothing lost.
// Scaled: 100 texts of 4000 × U+0001 (2.4 MB of JSON: ten times the budget).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { JsonClient, jsonRoom } from './lib/json_client.mjs';
import { MiB, SMALL_ASAN_QUARANTINE, RssWatch, assertHonest, honestPairs, startChatAttacker } from './lib/attack.mjs';

const ANSWER_BUDGET = 256 * 1024;
const MAX_TEXT = 4000;
const RELAYED = 100;

// One plain-text attacker in `lobby` sending `count` texts of `char` × `bytes`.
async function plainAttack(server, { count, bytes, char, notices = 0 }) {
  const attacker = startChatAttacker(server,
    { mode: 'plain-flood', conns: 1, rooms: ['lobby'], count, bytes, char, notices, deflate: false });
  try {
    await attacker.next('ready');
    attacker.go();
    await attacker.next('attacked', 90000);
    attacker.stop();
    return await attacker.next('outcome');
  } finally {
    await attacker.exited;
    attacker.kill();
  }
}

test('oversized and escape-heavy texts in lobby: refused or cut out of joined; joins succeed, live members stay', async () => {
  const args = ['--threads', '2'];
  const server = await startServer(args, { env: SMALL_ASAN_QUARANTINE });
  const control = await startServer(args, { env: SMALL_ASAN_QUARANTINE });
  const rss = new RssWatch(server.child.pid);
  let members = [];
  try {
    members = await jsonRoom(server.wsUrl('/ws'), 'lobby', ['live-1', 'live-2']);
    const honest = await honestPairs(server, control);
    rss.reset();
    const baseline = rss.max;

    const escapes = await plainAttack(server, { count: 3, bytes: MiB, char: '\u0001', notices: 3 });
    const ascii = await plainAttack(server, { count: 17, bytes: MiB, char: 'a', notices: 17 });
    for (const o of [escapes, ascii]) {
      assert.deepEqual(o.notices, { '系统通知: 消息过长': o.sent }, JSON.stringify(o));
      assert.deepEqual(o.close_codes, { open: 1 });  // still connected when it stopped
    }
    const relayed = await plainAttack(server, { count: RELAYED, bytes: MAX_TEXT, char: '\u0001' });
    assert.deepEqual(relayed.notices, {});

    // The live members get every relayed text (and nothing refused).
    for (const m of members) {
      for (let i = 0; i < RELAYED; i++) {
        const e = await m.take((x) => x.type === 'message' && x.room === 'lobby', 20000);
        assert.equal(e.text.length, MAX_TEXT);
      }
      assert.equal(m.raw.isClosed, false, 'a live JSON member was disconnected');
    }

    // A later join: within the budget, truncated, newest texts, no close.
    const late = await JsonClient.open(server.wsUrl('/ws'));
    await late.hello('late');
    await late.send({ type: 'join', room: 'lobby' });
    const raw = await late.raw.waitUntil(() => {
      const i = late.raw.messages.findIndex((m) => m.text.startsWith('{"type":"joined"'));
      return i >= 0 ? late.raw.messages.splice(i, 1)[0].text : undefined;
    }, 20000, 'joined');
    const joined = JSON.parse(raw);
    assert.ok(Buffer.byteLength(raw) <= ANSWER_BUDGET, `joined is ${Buffer.byteLength(raw)} bytes`);
    assert.equal(joined.truncated, true);
    assert.ok(joined.history.length >= 1 && joined.history.length < RELAYED, `${joined.history.length} messages`);
    assert.equal(joined.history.at(-1).msg_id, joined.last_id);  // the newest
    // Paging back works and is cut the same way.
    const page = await late.history('lobby', { before: joined.history[0].msg_id, limit: 200 });
    assert.equal(page.type, 'history');
    assert.equal(page.truncated, true);
    assert.equal(late.raw.isClosed, false);

    const growth = rss.max - baseline;
    const pair = await honest.stop();
    console.log(`REPORT lobby ${JSON.stringify({
      rss_growth_MiB: +(growth / MiB).toFixed(1), joined_bytes: Buffer.byteLength(raw),
      joined_messages: joined.history.length, honest_p99_ms: +pair.p99.toFixed(1),
      control_p99_ms: +pair.controlP99.toFixed(1) })}`);
    assert.ok(growth < 64 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    assertHonest(assert, pair);
    late.close();
  } finally {
    for (const m of members) m.close();
    rss.stop();
    await server.stopClean();
    await control.stopClean();
  }
});
