// A bounded soak (issue 7): honest chat and the attacks of
// tests/integration/attack_*.test.mjs against one server, on loopback, for
// a fixed time; the server's RSS, open descriptors and the honest pair's
// latency sampled every few seconds. Run by bench/soak.sh (see there and
// docs/SECURITY.md, "Soak"). Exit status 1 when the server's memory kept
// growing, descriptors leaked, an honest line was lost or an honest client
// was disconnected.
import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { startServer, uniqueRoom } from '../tests/integration/lib/server.mjs';
import {
  HonestPair, MiB, cpuSeconds, rssBytes, startAttacker, startChatAttacker,
} from '../tests/integration/lib/attack.mjs';

const seconds = Number(process.env.SOAK_SECONDS ?? 180);
const sampleEvery = Number(process.env.SOAK_SAMPLE_SECONDS ?? 5);
const growthLimit = Number(process.env.SOAK_GROWTH_MIB ?? 32) * MiB;
const serverArgs = (process.env.SOAK_SERVER_ARGS ?? '--threads 2 --slow-consumer-seconds 3 --handshake-timeout 3')
  .split(' ').filter(Boolean);

const fds = (pid) => readdirSync(`/proc/${pid}/fd`).length;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const p99 = (xs) => (xs.length ? Float64Array.from(xs).sort()[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))] : NaN);

// One chat attack from lib/chat_attacker.mjs, to its end.
async function chatAttack(server, config) {
  const a = startChatAttacker(server, config);
  try {
    await a.next('ready', 60000);
    a.go();
    await a.next('attacked', 120000);
    a.stop();
    await a.next('outcome', 60000);
  } finally {
    await Promise.race([a.exited, sleep(10000)]);
    a.kill();
  }
}

// One raw attack from lib/attacker.py, to its end.
async function rawAttack(server, mode, path, secs) {
  const a = startAttacker(mode, server.port, path, secs);
  try {
    await a.started;
    await a.outcome((secs + 30) * 1000);
  } finally {
    a.kill();
  }
}

// The attacks, one after another, round and round.
const attacks = [
  ['ping flood', (s) => rawAttack(s, 'ping-flood', `/ws/${uniqueRoom('soak-ping')}`, 12)],
  ['pipelined GETs', (s) => rawAttack(s, 'pipelined-get', '/app.js', 10)],
  ['oversized texts', (s) => chatAttack(s, { mode: 'plain-flood', conns: 4, rooms: [1, 2, 3, 4].map(() => uniqueRoom('soak-big')),
    count: 8, bytes: MiB, deflate: false })],
  ['U+0001 texts in lobby', (s) => chatAttack(s, { mode: 'plain-flood', conns: 1, rooms: ['lobby'], count: 100, bytes: 4000, char: '\u0001', deflate: false })],
  ['history flood', (s) => chatAttack(s, { mode: 'history-flood', conns: 20, stay: 2, room: uniqueRoom('soak-history'), requests: 200, limit: 200 })],
  ['same name', (s) => chatAttack(s, { mode: 'same-name', conns: 300, room: uniqueRoom('soak-crowd'), name: 'alice', parallel: 10 })],
  ['rooms flood', (s) => chatAttack(s, { mode: 'rooms-flood', conns: 5, rooms: 20, prefix: uniqueRoom('soak-rooms') })],
  ['message flood', (s) => chatAttack(s, { mode: 'plain-flood', conns: 1, rooms: [uniqueRoom('soak-disk')], count: 3000, bytes: 4000, deflate: false, waitClose: 15000 })],
];

async function main() {
  const server = await startServer(serverArgs);
  const pid = server.child.pid;
  const pair = await HonestPair.open(server);
  const t0 = performance.now();
  const cpu0 = cpuSeconds(pid);
  const samples = [];
  let attack = 'none';
  let rounds = 0;
  const sampler = setInterval(() => {
    const latencies = pair.latencies;
    pair.latencies = [];
    const s = { t: Math.round((performance.now() - t0) / 1000), rss_MiB: +(rssBytes(pid) / MiB).toFixed(1), fds: fds(pid),
      honest_p99_ms: +p99(latencies).toFixed(1), honest_max_ms: +Math.max(...latencies, 0).toFixed(1),
      server_cpu_s: +(cpuSeconds(pid) - cpu0).toFixed(1), attack };
    samples.push(s);
    console.log(JSON.stringify(s));
  }, sampleEvery * 1000);
  const first = { rss: rssBytes(pid), fds: fds(pid) };
  let failed = null;
  try {
    for (let i = 0; (performance.now() - t0) / 1000 < seconds; i = (i + 1) % attacks.length) {
      if (i === 0) rounds++;
      attack = attacks[i][0];
      await attacks[i][1](server);
      attack = 'none';
      await sleep(1000);
    }
  } catch (err) {
    failed = `attack "${attack}" failed: ${err.message}`;
  }
  attack = 'none';
  await sleep(3000);  // the last attack's connections go
  clearInterval(sampler);
  const honest = await pair.stop();
  await pair.close();
  const last = { rss: rssBytes(pid), fds: fds(pid) };
  await server.stopClean();

  // Memory "keeps growing" when the lowest RSS of the last third of the run
  // is above the highest of the first third by more than the limit: the
  // floor rose, not just a peak during an attack.
  const third = Math.max(1, Math.floor(samples.length / 3));
  const early = Math.max(...samples.slice(0, third).map((s) => s.rss_MiB)) * MiB;
  const late = Math.min(...samples.slice(-third).map((s) => s.rss_MiB)) * MiB;
  const summary = {
    seconds: Math.round((performance.now() - t0) / 1000), rounds, samples: samples.length,
    rss_start_MiB: +(first.rss / MiB).toFixed(1), rss_end_MiB: +(last.rss / MiB).toFixed(1),
    rss_max_MiB: Math.max(...samples.map((s) => s.rss_MiB)),
    rss_floor_rise_MiB: +((late - early) / MiB).toFixed(1),
    fds_start: first.fds, fds_end: last.fds,
    honest_sent: honest.sent, honest_received: honest.received, honest_open: honest.open,
    honest_p99_ms_worst_window: Math.max(...samples.map((s) => s.honest_p99_ms).filter((x) => !Number.isNaN(x))),
  };
  const problems = [];
  if (failed) problems.push(failed);
  if (late - early > growthLimit) problems.push(`RSS floor rose by ${summary.rss_floor_rise_MiB} MiB`);
  if (last.fds > first.fds + 4) problems.push(`descriptors: ${first.fds} at start, ${last.fds} at the end`);
  if (honest.received !== honest.sent) problems.push(`honest lines lost: ${honest.sent - honest.received}`);
  if (!honest.open) problems.push('an honest client was disconnected');
  summary.verdict = problems.length ? `FAIL: ${problems.join('; ')}` : 'ok';
  console.log(`SUMMARY ${JSON.stringify(summary)}`);
  process.exit(problems.length ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
