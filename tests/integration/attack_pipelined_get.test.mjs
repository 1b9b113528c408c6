// Attack (issue 7): one TCP connection sends 40,000 pipelined `GET /app.js`
// (1.9 MB) and never reads. HTTP responses count against the connection's
// output limits: requests are answered only while less than
// --soft-pending-output is queued, the rest wait unread; the HTTP phase has a
// total time budget (--handshake-timeout, not renewed per request) and at
// most --http-max-requests requests per connection. Asserted, with an honest
// pair chatting beside it:
//   - server RSS grows < 64 MiB over its figure before the attack;
//   - the honest pair's p99 delivery latency < 100 ms (see latencyBound), nothing
//     lost, both open;
//   - the server lets go of the attacker's connection within the budget, plus
//     one more for an answer still leaving (+ margin), and a reader finds at
//     most --http-max-requests answers, the last with Connection: close.
// Run twice: with the default request cap (which ends the attack by itself),
// and with no practical cap, so the output limit and the budget must.
// A report line with the figures is printed on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { MiB, SMALL_ASAN_QUARANTINE, latencyBound, measureAttack } from './lib/attack.mjs';

const BUDGET_S = 3;   // --handshake-timeout: the HTTP phase's total budget
const LINGER_S = 2;   // a graceful close waits this long for the peer's FIN
const MARGIN_S = 5;   // a loaded 2-core machine and a sanitizer build

for (const maxRequests of [100, 1000000]) {
  test(`40,000 pipelined GETs never read (--http-max-requests ${maxRequests}): bounded, cut, honest pair unharmed`, async () => {
    const args = ['--threads', '2', '--history', 'off',
      '--handshake-timeout', String(BUDGET_S), '--http-max-requests', String(maxRequests)];
    const server = await startServer(args, { env: SMALL_ASAN_QUARANTINE });
    const control = await startServer(args, { env: SMALL_ASAN_QUARANTINE });
    try {
      const { honest, outcome, growth, releasedAfterS } = await measureAttack(server, control,
        { mode: 'pipelined-get', path: '/app.js', seconds: 2 * BUDGET_S + LINGER_S + MARGIN_S + 5 });
      assert.equal(outcome.error, undefined);
      assert.ok(growth < 64 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
      assert.ok(honest.open, 'an honest client was disconnected');
      assert.equal(honest.received, honest.sent, 'an honest line was lost');
      assert.equal(honest.outOfOrder, 0);
      assert.ok(honest.p99 < latencyBound(honest),
      `honest p99 ${honest.p99.toFixed(1)} ms (control: ${honest.controlP99.toFixed(1)} ms)`);
      assert.ok(releasedAfterS !== null && releasedAfterS < 2 * BUDGET_S + LINGER_S + MARGIN_S,
        `connection released after ${releasedAfterS} s`);
      assert.ok(outcome.responses <= Math.min(maxRequests, 40000), `${outcome.responses} responses`);
      if (outcome.responses === maxRequests) assert.ok(outcome.last_connection_close);
    } finally {
      await server.stopClean();
      await control.stopClean();
    }
  });
}
