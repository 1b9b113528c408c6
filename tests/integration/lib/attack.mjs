// What every attack test needs (issue 7: "under each attack, server RSS grows
// < 64 MB over its idle figure, honest clients' p99 stays < 100 ms and their
// connections stay open; the attacker gets a documented close code or
// error"): the server's RSS from /proc, a hostile client in its own process
// (lib/attacker.py), and an honest pair chatting beside the attack.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { connect, withTimeout, uniqueRoom } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const MiB = 1024 * 1024;

// ASan keeps freed blocks in a 256 MiB quarantine by default: during a flood
// that is RSS growth that says nothing about live memory. With a small one,
// RSS follows what the server really holds (see slow_consumer.test.mjs).
export const SMALL_ASAN_QUARANTINE = {
  ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=2:thread_local_quarantine_size_kb=64']
    .filter(Boolean).join(':'),
};

export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

// The inode of the server's end of the TCP connection 127.0.0.1:serverPort
// <-> 127.0.0.1:clientPort, as "socket:[N]", or null. (Reads /proc/net/tcp,
// which lists every socket of the machine: call once, not in a polling loop.)
export function serverSocket(serverPort, clientPort) {
  const hex = (p) => `0100007F:${p.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === hex(serverPort) && f[2] === hex(clientPort) && f[9] !== '0') return `socket:[${f[9]}]`;
  }
  return null;
}

// Whether process `pid` still holds `socket` (a socket the process let go of
// may live on in the kernel, delivering what it holds; that is not ours).
export function holdsSocket(pid, socket) {
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === socket) return true;
    } catch { /* closed meanwhile */ }
  }
  return false;
}

// Resolves with the seconds until `check()` is true (polled every 20 ms), or
// rejects after `ms`.
export async function secondsUntil(check, ms, label) {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return (performance.now() - t0) / 1000;
}

// Samples a process's RSS every 20 ms; `max` is the highest seen since start
// or the last reset().
export class RssWatch {
  constructor(pid) {
    this.pid = pid;
    this.max = rssBytes(pid);
    this.timer = setInterval(() => { this.max = Math.max(this.max, rssBytes(pid)); }, 20);
  }
  reset() { this.max = rssBytes(this.pid); }
  stop() { clearInterval(this.timer); }
}

// Where the time of a process's threads went (/proc/PID/task/*/schedstat):
// `run` ms on a CPU and `wait` ms runnable but waiting for one. `since(w)`
// gives what happened after an earlier watch `w`, with the machine's load.
// In an attack test's REPORT it tells the server's own work from the
// machine: a server whose loops wait for a CPU several times longer than
// they run is held up by the other processes of a saturated machine (its
// honest clients' latency then measures the scheduler, not the server).
export class SchedWatch {
  constructor(pid) {
    this.pid = pid;
    let run = 0;
    let wait = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const [r, w] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
        run += r;
        wait += w;
      } catch { /* the thread ended meanwhile */ }
    }
    this.run = run / 1e6;
    this.wait = wait / 1e6;
  }

  since(earlier) {
    return { cpu_ms: Math.round(this.run - earlier.run), runq_wait_ms: Math.round(this.wait - earlier.wait),
      load_1m: +loadavg()[0].toFixed(1) };
  }
}

// The JSON lines a child process prints on stdout, one object per line:
// `line(n, ms, label)` resolves with the n-th (from 0), waiting at most `ms`,
// and fails at once if the child exits first (with its stderr); `exited`
// resolves with its exit code.
export function jsonLines(child, who) {
  let out = '';
  let err = '';
  const lines = [];
  const waiters = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(out.slice(0, i)));
      out = out.slice(i + 1);
      for (const w of waiters.splice(0)) w();
    }
  });
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => { for (const w of waiters.splice(0)) w(); resolve(code); }));
  const line = async (n, ms, label) => {
    while (lines.length <= n) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${who} exited (${child.exitCode ?? child.signalCode}) before ${label}: ${err}`);
      }
      await withTimeout(new Promise((r) => waiters.push(r)), ms, label);
    }
    return lines[n];
  };
  return { line, exited };
}

// Runs lib/attacker.py (see there for the modes). `started` resolves when the
// attack begins, `outcome` with its final JSON report.
export function startAttacker(mode, port, urlPath, seconds) {
  const child = spawn('/usr/bin/python3', [path.join(here, 'attacker.py'), mode, String(port), urlPath,
    String(seconds)], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => {});  // stop() after the attacker ended on its own
  const { line, exited } = jsonLines(child, 'attacker');
  return {
    started: line(0, 10000, 'the attack to start'),
    outcome: (ms) => line(1, ms, 'the attacker\'s outcome').finally(() => exited),
    // Ends the attack's waiting phase: the attacker reads its outcome now.
    stop: () => { child.stdin.end('stop\n'); },
    kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); },
  };
}

// Two plain-text clients in a room of their own: `a` sends a timestamped line
// every `intervalMs`, `b` measures each line's delivery latency. Both must
// stay connected and every line must arrive, in order.
export class HonestPair {
  // `options` go to both connections (e.g. { localAddress: '127.0.0.2' }: an
  // honest pair at another address than the attacker's).
  static async open(server, intervalMs = 20, options = {}) {
    const url = server.wsUrl(`/ws/${uniqueRoom('honest')}`);
    const a = await connect(url, options);
    const b = await connect(url, options);
    await a.nextText();  // b's join notice: both are in the room
    return new HonestPair(a, b, intervalMs);
  }

  constructor(a, b, intervalMs) {
    this.a = a;
    this.b = b;
    this.latencies = [];
    this.baseline = [];
    this.sent = 0;
    this.received = 0;
    this.outOfOrder = 0;
    b.ws.on('message', (data) => {
      const [tag, seq, t] = data.toString().split('|');
      if (tag !== 'honest') return;
      if (Number(seq) !== this.received) this.outOfOrder++;
      this.received = Number(seq) + 1;
      this.latencies.push(performance.now() - Number(t));
    });
    this.timer = setInterval(() => {
      if (a.isClosed) return;
      a.ws.send(`honest|${this.sent++}|${performance.now()}`);
    }, intervalMs);
    this.timer.unref();  // a failed test must not hang on it
  }

  // The latencies so far become the baseline; later ones are measured.
  markBaseline() {
    this.baseline = this.latencies;
    this.latencies = [];
  }

  // Stops sending, waits for the last line and returns the figures.
  async stop(ms = 10000) {
    clearInterval(this.timer);
    const deadline = performance.now() + ms;
    while (this.received < this.sent && performance.now() < deadline && !this.b.isClosed) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const sorted = Float64Array.from(this.latencies).sort();
    const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
    return {
      sent: this.sent,
      received: this.received,
      outOfOrder: this.outOfOrder,
      p50: pct(0.5),
      p99: pct(0.99),
      max: sorted[sorted.length - 1] ?? NaN,
      open: !this.a.isClosed && !this.b.isClosed,
    };
  }

  async close() {
    for (const c of [this.a, this.b]) c.close(1000);
    await Promise.all([this.a, this.b].map((c) => c.waitClose()));
  }
}

// The honest pair's p99 during an attack must stay under 100 ms (issue 7).
// On a shared machine that is itself too busy for that (other builds, a
// sanitizer: a pair's p99 over 2 s windows of an idle server ranges from 30
// to 250 ms there, and a stall of a few hundred ms hits one process and not
// another), a control pair on a second, identical server that is not attacked
// is measured over the same window, and the bound is three times its p99
// + 10 ms when that is more: the test judges the server, not the machine.
// (Without the bounds the attacks cost honest clients seconds, with RSS in GB.)
export function latencyBound(honest) {
  return Math.max(100, 3 * honest.controlP99 + 10);
}

// Runs one attack beside an honest pair on `server` and returns the figures:
// RSS growth over the figure before the attack, the pair's latency, when the
// server let go of the attacker's connection, and the attacker's outcome.
// `control`: a second server started like `server`, for latencyBound.
export async function measureAttack(server, control, { mode, path: urlPath, seconds }) {
  const pid = server.child.pid;
  const rss = new RssWatch(pid);
  let attacker;
  try {
    const pair = await HonestPair.open(server);
    const controlPair = await HonestPair.open(control);
    await new Promise((r) => setTimeout(r, 1000));  // warm-up: buffers, allocator
    pair.markBaseline();
    controlPair.markBaseline();
    rss.reset();
    const baseline = rss.max;
    attacker = startAttacker(mode, server.port, urlPath, seconds);
    const { port } = await attacker.started;
    // A server without bounds would take the machine with it: stop early.
    const guard = setInterval(() => { if (rss.max - baseline > 512 * MiB) attacker.kill(); }, 50);
    let releasedAfterS = null;
    // The server's socket has an inode once accepted (the listening loop may
    // be a moment behind the attacker's connect).
    let socket = null;
    await secondsUntil(() => (socket = serverSocket(server.port, port)) !== null, 10000,
      'the server to accept the attacker');
    const released = secondsUntil(() => !holdsSocket(pid, socket), (seconds + 10) * 1000,
      'the server to let go of the attacker').then((s) => { releasedAfterS = s; attacker.stop(); }, () => {});
    const outcome = await attacker.outcome((seconds + 20) * 1000)
      .catch((err) => ({ error: err.message }))
      .finally(() => clearInterval(guard));
    await released;
    const honest = await pair.stop();
    honest.controlP99 = (await controlPair.stop()).p99;
    await controlPair.close();
    const figures = {
      rss_baseline_MiB: +(baseline / MiB).toFixed(1),
      rss_growth_MiB: +((rss.max - baseline) / MiB).toFixed(1),
      control_p99_ms: +honest.controlP99.toFixed(1),
      honest_p50_ms: +honest.p50.toFixed(1),
      honest_p99_ms: +honest.p99.toFixed(1),
      honest_max_ms: +honest.max.toFixed(1),
      honest_sent: honest.sent,
      honest_received: honest.received,
      released_after_s: releasedAfterS === null ? null : +releasedAfterS.toFixed(1),
      attacker: outcome,
    };
    console.log(`REPORT ${mode} ${JSON.stringify(figures)}`);
    await pair.close();
    return { figures, honest, outcome, growth: rss.max - baseline, releasedAfterS };
  } finally {
    attacker?.kill();
    rss.stop();
  }
}

// Runs lib/chat_attacker.mjs (see there for the modes) against `server`.
// `next(event)` resolves with the attacker's next line of that event;
// `go()` starts the hostile part; `stop()` asks for the outcome and the end.
export function startChatAttacker(server, config) {
  const child = spawn(process.execPath, [path.join(here, 'chat_attacker.mjs'),
    JSON.stringify({ port: server.port, ...config })], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const lines = [];
  const waiters = [];
  const wake = () => { for (const w of waiters.splice(0)) w(); };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(out.slice(0, i)));
      out = out.slice(i + 1);
      wake();
    }
  });
  child.stderr.on('data', (d) => { err += d; });
  child.stdin.on('error', () => {});
  const exited = new Promise((resolve) => child.on('exit', (code) => { wake(); resolve(code); }));
  return {
    pid: child.pid,
    async next(event, ms = 30000) {
      const t0 = performance.now();
      for (;;) {
        const i = lines.findIndex((l) => l.event === event);
        if (i >= 0) return lines.splice(i, 1)[0];
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`chat attacker exited (${child.exitCode ?? child.signalCode}) before "${event}": ${err}`);
        }
        const left = ms - (performance.now() - t0);
        if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for the attacker's "${event}"`);
        await withTimeout(new Promise((r) => waiters.push(r)), left, `the attacker's "${event}"`)
          .catch(() => {});
      }
    },
    go: () => { child.stdin.write('go\n'); },
    stop: () => { child.stdin.write('stop\n'); },
    exited,
    kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); },
  };
}

// The CPU time (user + system) a process has used so far, in seconds.
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;  // utime, stime in clock ticks (USER_HZ 100)
}

// /metrics is not public by default (docs/SECURITY.md "Metrics protection"):
// servers whose metrics a test reads get these flags, and metric() the token.
const METRICS_TOKEN = 'attack-tests-metrics-token';
const metricsTokenFile = path.join(mkdtempSync(path.join(tmpdir(), 'parley-metrics-')), 'token');
writeFileSync(metricsTokenFile, METRICS_TOKEN);
export const METRICS_ARGS = ['--metrics-token-file', metricsTokenFile];

// One value of the server's GET /metrics, or undefined.
export async function metric(server, name) {
  const res = await fetch(`${server.httpUrl}/metrics`, {
    headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const body = await res.text();
  // Labelled series too: metric(server, 'x_total{reason="y"}').
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${escaped} (\\d+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

// Resolves with the value once `check(await read())` holds (polled every
// 50 ms), or rejects after `ms`.
export async function eventually(read, check, ms, label) {
  const t0 = performance.now();
  let last;
  for (;;) {
    last = await read();
    if (check(last)) return last;
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${label} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Pairs of honest clients in a room of their own on `server` and on an
// unattacked `control` (see latencyBound): open, mark the baseline, stop.
export async function honestPairs(server, control) {
  const pair = await HonestPair.open(server);
  const controlPair = await HonestPair.open(control);
  await new Promise((r) => setTimeout(r, 1000));  // warm-up: buffers, allocator
  pair.markBaseline();
  controlPair.markBaseline();
  return {
    pair,
    async stop() {
      const honest = await pair.stop();
      honest.controlP99 = (await controlPair.stop()).p99;
      await pair.close();
      await controlPair.close();
      return honest;
    },
  };
}

// The assertions every attack test makes about its honest pair.
export function assertHonest(assert, honest) {
  assert.ok(honest.open, 'an honest client was disconnected');
  assert.equal(honest.received, honest.sent, 'an honest line was lost');
  assert.equal(honest.outOfOrder, 0);
  assert.ok(honest.p99 < latencyBound(honest),
    `honest p99 ${honest.p99.toFixed(1)} ms (control: ${honest.controlP99.toFixed(1)} ms)`);
}
