// Starts and stops the real parley binary for end-to-end tests.
//
// Each test starts its own server on port 0 and reads the chosen port from the one
// line parley prints once it listens: "parley listening on http://HOST:PORT".
// Each server gets a data directory of its own (the history store locks its
// directory; tests and servers run side by side), under one temporary folder per
// test process that is removed when the process exits. A restart that should keep
// the history and the resume secret passes the first server's `dataDir`.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

const LISTENING = /^parley listening on (https?):\/\/([^\s/]+):(\d+)\s*$/;
const KEEP_OUTPUT_CHARS = 8192; // tail of stderr kept for failure messages

/** Path of the binary under test, from PARLEY_BIN (set by ctest). */
export function parleyBinary() {
  const bin = process.env.PARLEY_BIN;
  if (!bin) throw new Error('PARLEY_BIN is not set: point it at the parley binary');
  return bin;
}

const running = new Set();

let dataRoot = null;
let dataDirs = 0;

/** A fresh, empty data folder for one server. */
export function freshDataDir() {
  if (dataRoot === null) {
    dataRoot = mkdtempSync(path.join(tmpdir(), 'parley-e2e-'));
    process.once('exit', () => rmSync(dataRoot, { recursive: true, force: true }));
  }
  dataDirs += 1;
  return path.join(dataRoot, `server-${dataDirs}`);
}

/**
 * Starts parley on 127.0.0.1 and resolves once it listens.
 * @param {object} [options]
 * @param {number} [options.port=0]  0 lets the server pick; pass a port to restart on it
 * @param {string[]} [options.args]  extra flags, e.g. ['--echo']
 * @param {string} [options.dataDir]  --data-dir; a fresh folder unless given (here or in args)
 * @param {number} [options.timeoutMs=15000]  how long to wait for the listening line
 * @returns {Promise<ParleyServer>}
 */
export async function startServer({ port = 0, args = [], dataDir, timeoutMs = 15000 } = {}) {
  const flag = args.indexOf('--data-dir');
  if (flag >= 0) dataDir = args[flag + 1];
  else args = ['--data-dir', (dataDir ??= freshDataDir()), ...args];
  const argv = ['--host', '127.0.0.1', '--port', String(port), ...args];
  const child = spawn(parleyBinary(), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = new ParleyServer(child, argv, dataDir);
  running.add(server);
  child.once('exit', () => running.delete(server));
  try {
    await server.listening(timeoutMs);
  } catch (error) {
    await server.kill();
    throw error;
  }
  return server;
}

/** Stops every server a test left running (for after/afterEach hooks). */
export async function stopAllServers() {
  await Promise.all([...running].map((server) => server.stop()));
}

export class ParleyServer {
  #child;
  #argv;
  #stderr = '';
  #exit; // Promise<{ code, signal }>

  constructor(child, argv, dataDir) {
    this.#child = child;
    this.#argv = argv;
    this.dataDir = dataDir;
    this.host = null;
    this.port = null;
    this.#exit = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      this.#stderr = (this.#stderr + chunk).slice(-KEEP_OUTPUT_CHARS);
    });
    // The listening line is the only stdout parley promises; later lines are kept as logs.
    child.stdout.setEncoding('utf8');
  }

  get pid() {
    return this.#child.pid;
  }

  /** http://127.0.0.1:PORT */
  get url() {
    return `${this.scheme ?? 'http'}://${this.host}:${this.port}`;
  }

  /** ws://127.0.0.1:PORT + path (default: the seed's /wss). */
  wsUrl(path = '/wss') {
    return `${this.scheme === 'https' ? 'wss' : 'ws'}://${this.host}:${this.port}${path}`;
  }

  /** Recent stderr, for failure messages. */
  get stderr() {
    return this.#stderr;
  }

  async listening(timeoutMs) {
    const lines = createInterface({ input: this.#child.stdout });
    let timer;
    const found = new Promise((resolve, reject) => {
      lines.on('line', (line) => {
        const match = LISTENING.exec(line);
        if (match) resolve(match);
      });
      this.#exit.then(({ code, signal }) =>
        reject(this.#error(`exited (code ${code}, signal ${signal}) before listening`)));
      timer = setTimeout(() => reject(this.#error(`printed no listening line in ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const [, scheme, host, port] = await found;
      this.scheme = scheme;
      this.host = host;
      this.port = Number(port);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends SIGTERM and waits for the exit. Resolves { code, signal }; a server that
   * outlives timeoutMs is killed and the call rejects, since that is a shutdown bug.
   */
  async stop({ timeoutMs = 10000 } = {}) {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return this.#exit;
    this.#child.kill('SIGTERM');
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(this.#error(`did not exit within ${timeoutMs} ms of SIGTERM`)), timeoutMs);
    });
    try {
      return await Promise.race([this.#exit, timeout]);
    } catch (error) {
      await this.kill();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL, for cleanup after a failure. */
  async kill() {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    return this.#exit;
  }

  #error(what) {
    return new Error(`parley ${this.#argv.join(' ')} ${what}\n--- stderr ---\n${this.#stderr}`);
  }
}
