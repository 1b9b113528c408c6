// Test harness for the Parley binary: start it on port 0, learn the port from
// its "listening" line, stop it with a signal and report the exit status, and
// keep its stderr for failure messages. Also a small wrapper around npm `ws`
// that queues every event so tests can await them in order with a deadline.
//
// Nothing here knows how the server is written; it only speaks the CLI and
// the wire protocol described in the spec.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { before, after } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.PARLEY_SOURCE_DIR ?? path.resolve(here, '../../..');
export const PARLEY_BIN = process.env.PARLEY_BIN ?? path.join(SOURCE_DIR, 'build/debug/src/app/parley');

// The first line names the main port: https:// when it speaks TLS (--tls-cert).
const LISTENING = /^parley listening on (https?):\/\/127\.0\.0\.1:(\d+)\s*$/;

// Rejects with `label` if `promise` hasn't settled within `ms`.
export function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${label}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class Server {
  constructor(child, port, scheme = 'http') {
    this.child = child;
    this.port = port;
    this.tls = scheme === 'https';
    this.stderr = '';
    this.exited = once(child, 'exit').then(([code, signal]) => {
      live.delete(child);
      return { code, signal };
    });
  }

  get httpUrl() { return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`; }
  wsUrl(p = '/wss') { return `${this.tls ? 'wss' : 'ws'}://127.0.0.1:${this.port}${p}`; }

  // Sends `signal` and waits for the process to exit. Returns {code, signal}.
  async stop({ signal = 'SIGTERM', timeoutMs = 10000 } = {}) {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    try {
      return await withTimeout(this.exited, timeoutMs, `parley to exit after ${signal}`);
    } catch (err) {
      this.child.kill('SIGKILL');
      throw new Error(`${err.message}\n--- parley stderr ---\n${this.stderr}`);
    }
  }

  // Waits for the process to exit on its own (no signal). Returns {code, signal}.
  async waitExit(timeoutMs = 10000) {
    try {
      return await withTimeout(this.exited, timeoutMs, 'parley to exit');
    } catch (err) {
      this.child.kill('SIGKILL');
      throw new Error(`${err.message}\n--- parley stderr ---\n${this.stderr}`);
    }
  }

  // stop() and fail unless the exit was clean (code 0, no signal).
  async stopClean(opts) {
    const { code, signal } = await this.stop(opts);
    if (code !== 0) {
      throw new Error(`parley exited with code=${code} signal=${signal}\n--- parley stderr ---\n${this.stderr}`);
    }
  }
}

// Starts `parley --host 127.0.0.1 --port 0 ...args` and resolves once it has
// printed its listening line.
// `port` (default 0) asks for a given port, e.g. to restart on the same one.
export async function startServer(args = [], { env = {}, readyTimeoutMs = 20000, port = 0 } = {}) {
  // Each server gets its own data directory unless the test names one: the
  // history store locks its directory, and tests run in parallel.
  if (!args.includes('--data-dir') && !env.PARLEY_DATA_DIR) {
    args = ['--data-dir', mkdtempSync(join(tmpdir(), 'parley-it-')), ...args];
  }
  const child = spawn(PARLEY_BIN, ['--host', '127.0.0.1', '--port', String(port), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr += d; if (server) server.stderr = stderr; });
  child.stdout.setEncoding('utf8');
  let server = null;
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      for (const line of stdout.split('\n')) {
        const m = LISTENING.exec(line);
        if (m) return resolve({ scheme: m[1], port: Number(m[2]) });
      }
    });
    child.on('exit', (code, signal) =>
      reject(new Error(`parley exited before listening (code=${code} signal=${signal})\n${stderr}`)));
    child.on('error', reject);
  });
  try {
    const { scheme, port } = await withTimeout(ready, readyTimeoutMs, 'parley to print its listening line');
    server = new Server(child, port, scheme);
    server.stderr = stderr;
    server.stdout = stdout;  // what came before the listening line (e.g. the metrics port)
    return server;
  } catch (err) {
    child.kill('SIGKILL');
    live.delete(child);
    throw new Error(`${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
}

// The preamble of a test file that shares one server among its tests: started
// before the first test (`parley ...args` with a data directory of its own),
// stopped cleanly after the last (a non-zero exit fails the file), its data
// directory removed. Returns a stand-in that forwards to the running Server,
// so tests write `server.wsUrl(...)` as usual.
export function serverForFile(args = [], { stop = {}, ...options } = {}) {
  let running = null;
  let dataDir = null;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-it-'));
    running = await startServer(['--data-dir', dataDir, ...args], options);
  });
  after(async () => {
    try {
      await running?.stopClean(stop);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
  return new Proxy({}, {
    get(_, key) {
      if (!running) throw new Error(`the file's server is not running (reading ${String(key)})`);
      const value = running[key];
      return typeof value === 'function' ? value.bind(running) : value;
    },
  });
}

// A `ws` client whose messages, pongs and close are queued, so a test can
// await "the next message" without racing the event emitter.
export class Client {
  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    this.pongs = [];
    this.errors = [];
    this.waiters = [];
    ws.on('message', (data, isBinary) => {
      this.messages.push({ data, isBinary, text: isBinary ? null : data.toString('utf8') });
      this.#wake();
    });
    ws.on('pong', (data) => { this.pongs.push(data); this.#wake(); });
    ws.on('error', (err) => { this.errors.push(err); });
    this.isClosed = false;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.isClosed = true;
        resolve({ code, reason: reason.toString('utf8') });
        this.#wake();
      });
    });
  }

  #wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  // Resolves once `check()` returns something other than undefined.
  async #until(check, ms, label) {
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      await withTimeout(new Promise((r) => this.waiters.push(r)), ms, label);
    }
  }

  // Next queued message ({data, isBinary, text}); fails on close or timeout.
  async next(ms = 5000) {
    return this.#until(() => {
      if (this.messages.length) return this.messages.shift();
      if (this.isClosed) {
        throw new Error(`connection closed while waiting for a message (errors: ${this.errors.join('; ')})`);
      }
      return undefined;
    }, ms, 'a message');
  }

  async nextText(ms = 5000) {
    const m = await this.next(ms);
    if (m.isBinary) throw new Error(`expected a text message, got ${m.data.length} binary bytes`);
    return m.text;
  }

  // Public form of the wait used above: resolves with the first value other
  // than undefined that `check()` returns, re-checked after every event.
  async waitUntil(check, ms = 5000, label = 'a condition') {
    return this.#until(check, ms, label);
  }

  async nextPong(ms = 5000) {
    return this.#until(() => (this.pongs.length ? this.pongs.shift() : undefined), ms, 'a pong');
  }

  // Resolves with {code, reason} once the connection is closed.
  async waitClose(ms = 5000) {
    return withTimeout(this.closed, ms, 'the connection to close');
  }

  send(data, opts) {
    return new Promise((resolve, reject) => this.ws.send(data, opts ?? {}, (e) => (e ? reject(e) : resolve())));
  }

  close(code, reason) { this.ws.close(code, reason); }
  terminate() { this.ws.terminate(); }
}

// Opens a `ws` client and waits for the handshake. Rejects with the HTTP
// status (err.status) when the server refuses the upgrade.
export async function connect(url, { protocols, timeoutMs = 10000, ...options } = {}) {
  const ws = new WebSocket(url, protocols, { maxPayload: 64 * 1024 * 1024, ...options });
  const client = new Client(ws);
  const opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (_req, res) => {
      const err = new Error(`upgrade refused with HTTP ${res.statusCode}`);
      err.status = res.statusCode;
      err.headers = res.headers;
      res.resume();
      ws.terminate();
      reject(err);
    });
    ws.once('error', reject);
    ws.once('close', () => reject(new Error('closed before open')));
  });
  await withTimeout(opened, timeoutMs, `WebSocket handshake with ${url}`);
  return client;
}

// Unique room name per call so tests sharing a server never see each other.
let roomCounter = 0;
export function uniqueRoom(prefix = 'room') {
  return `${prefix}-${process.pid}-${++roomCounter}`;
}

export const joinNotice = (n) => `系统通知: 新用户加入,当前在线${n}人`;
export const leaveNotice = (n) => `系统通知: 用户离开,当前在线${n}人`;

// Connects clients to `url` one after another; after each join, waits until
// every earlier client has seen the join notice, so the room membership is
// known to the server before the test continues.
export async function connectRoom(url, count) {
  const clients = [];
  for (let i = 0; i < count; i++) {
    const c = await connect(url);
    for (const earlier of clients) {
      const text = await earlier.nextText();
      if (text !== joinNotice(i + 1)) throw new Error(`expected ${JSON.stringify(joinNotice(i + 1))}, got ${JSON.stringify(text)}`);
    }
    clients.push(c);
  }
  return clients;
}
