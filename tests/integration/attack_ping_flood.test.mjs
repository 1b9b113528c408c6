// Attack (issue 7): a client sends 125-byte pings as fast as it can and never
// reads. Pongs count against its output limits like every other byte, and a
// connection over --soft-pending-output is not read from until it drains, so
// the flood stalls at about that much queued output; after
// --slow-consumer-seconds over the limit the client is dropped as a slow
// consumer (close 1013 queued), and when it does not read that either, the
// connection is aborted (TCP reset) after the closing timeout
// (--handshake-timeout). Asserted, with an honest pair chatting beside it:
//   - server RSS grows < 64 MiB over its figure before the attack;
//   - the honest pair's p99 delivery latency < 100 ms (see latencyBound), nothing
//     lost, both open;
//   - the attacker is dropped ("dropping slow consumer" logged) and the server
//     lets go of its connection within the policy's time + margin.
// A report line with the figures is printed on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uniqueRoom } from './lib/server.mjs';
import { MiB, SMALL_ASAN_QUARANTINE, latencyBound, measureAttack } from './lib/attack.mjs';

const SLOW_S = 3;     // --slow-consumer-seconds
const CLOSING_S = 3;  // --handshake-timeout: the dropped client's time to read its close
const MARGIN_S = 5;   // a loaded 2-core machine and a sanitizer build

test('a ping flood that never reads is bounded and dropped; an honest pair does not notice', async () => {
  const args = ['--threads', '2', '--history', 'off',
    '--slow-consumer-seconds', String(SLOW_S), '--handshake-timeout', String(CLOSING_S)];
  const server = await startServer(args, { env: SMALL_ASAN_QUARANTINE });
  const control = await startServer(args, { env: SMALL_ASAN_QUARANTINE });
  try {
    const { honest, outcome, growth, releasedAfterS } = await measureAttack(server, control,
      { mode: 'ping-flood', path: `/ws/${uniqueRoom('flood')}`, seconds: SLOW_S + CLOSING_S + MARGIN_S + 10 });
    assert.equal(outcome.error, undefined);
    assert.ok(growth < 64 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    assert.ok(honest.open, 'an honest client was disconnected');
    assert.equal(honest.received, honest.sent, 'an honest line was lost');
    assert.equal(honest.outOfOrder, 0);
    assert.ok(honest.p99 < latencyBound(honest),
      `honest p99 ${honest.p99.toFixed(1)} ms (control: ${honest.controlP99.toFixed(1)} ms)`);
    assert.match(server.stderr, /dropping slow consumer \(soft output limit\)/);
    assert.ok(releasedAfterS !== null && releasedAfterS < SLOW_S + CLOSING_S + MARGIN_S,
      `connection released after ${releasedAfterS} s`);
    // Aborted: the attacker's writes fail (a reset); a close frame, if it read one, says 1013.
    assert.ok(outcome.write_error !== null || outcome.end !== 'timeout', JSON.stringify(outcome));
    if (outcome.close_code !== null) assert.equal(outcome.close_code, 1013);
  } finally {
    await server.stopClean();
    await control.stopClean();
  }
});
