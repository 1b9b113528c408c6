// A flood of parley.v1 sends from many connections at one address, in a
// process of its own so that the test's honest clients never wait behind it
// (edge_rates.test.mjs). Each connection says hello, joins a room of its own
// and sends PER_ROUND messages every ROUND_MS (default 250) ms, under its own
// rate, for SECONDS, or until the server closes it; then waits until every
// open connection's last send is answered.
//
// Usage: node address_flood.mjs PORT LOCAL_ADDRESS CONNECTIONS SECONDS PER_ROUND [ROUND_MS]
// Prints {"event":"ready"} once every connection has joined, and at the end
// {"attempted", "acked", "limited", "other", "closed": {code: count},
// "first_ms", "last_ack_ms"} where the times are from the first hello
// (performance.now() of this process).
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const [port, localAddress, connections, seconds, perRound, roundMs = '250'] = process.argv.slice(2);
const N = Number(connections);
const PER_ROUND = Number(perRound);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const counts = { attempted: 0, acked: 0, limited: 0, other: 0, closed: {} };
let lastAck = 0;
let t0 = 0;

function open(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'parley.v1', { localAddress });
    const room = `flood-${process.pid}-${i}`;
    const waiters = new Map();  // id -> resolve
    const answered = new Set();  // ids answered before anyone waited for them
    ws.on('message', (data) => {
      const e = JSON.parse(data.toString());
      if (e.type === 'welcome') ws.send(JSON.stringify({ type: 'join', room }));
      else if (e.type === 'joined' && e.room === room) resolve({ ws, room, waiters, answered });
      else if (e.type === 'ack') { counts.acked++; lastAck = performance.now(); }
      else if (e.type === 'error' && e.code === 'rate_limited' && e.id) counts.limited++;
      else if (e.type === 'error') {
        if (!e.id) {
        if (e.ref === 'hello' || e.ref === 'join') reject(new Error(`setup failed: ${JSON.stringify(e)}`));
        return;
      }
        counts.other++;
      }
      if (e.id && waiters.has(e.id)) {
        waiters.get(e.id)();
        waiters.delete(e.id);
      } else if (e.id) {
        answered.add(e.id);
      }
    });
    ws.on('open', () => {
      if (!t0) t0 = performance.now();
      ws.send(JSON.stringify({ type: 'hello', name: `f${i}` }));
    });
    ws.on('error', reject);
    ws.on('close', (code) => {
      counts.closed[code] = (counts.closed[code] ?? 0) + 1;
      for (const w of waiters.values()) w();
      waiters.clear();
    });
  });
}

const conns = [];
for (let i = 0; i < N; i++) conns.push(await open(i));
say({ event: 'ready' });
const end = performance.now() + Number(seconds) * 1000;
let round = 0;
while (performance.now() < end) {
  const next = performance.now() + Number(roundMs);
  for (const c of conns) {
    if (c.ws.readyState !== WebSocket.OPEN) continue;
    for (let k = 0; k < PER_ROUND; k++) {
      c.ws.send(JSON.stringify({ type: 'send', room: c.room, id: `m${round}-${k}`, text: 'flood' }));
      counts.attempted++;
    }
  }
  round++;
  await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
}
const lastId = `m${round - 1}-${PER_ROUND - 1}`;
await Promise.race([
  Promise.all(conns.filter((c) => c.ws.readyState === WebSocket.OPEN)
    .map((c) => new Promise((r) => (c.answered.has(lastId) ? r() : c.waiters.set(lastId, r))))),
  new Promise((r) => setTimeout(r, 30000)),
]);
say({ ...counts, first_ms: t0, last_ack_ms: lastAck });
for (const c of conns) c.ws.terminate();
process.exit(0);
