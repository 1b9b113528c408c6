// Scale-out for real (issue 11, docs/SCALING.md): two Parley nodes on one
// redis-server (AOF, appendfsync always), Debian's nginx in front of them
// with round robin and no sticky sessions, and the web client in Chromium.
// Two users chat across the nodes; the node of one of them is SIGKILLed; its
// page reconnects through nginx to the other node and recovers exactly: every
// message once, in the same order on both pages, nothing typed lost.
//
// Page loads go to one upstream group and WebSocket upgrades to another,
// each round robin over both nodes: the WebSockets then alternate between
// the nodes, and /metrics (with a token) says which node holds which page.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { launchBrowser, messageTexts, openChat, typeAndEnter, waitForMessage, waitForStatus } from './lib/browser.mjs';
import { startServer, stopAllServers } from './lib/server.mjs';

const NGINX = '/usr/sbin/nginx';
const REDIS = '/usr/bin/redis-server';
const RECOVER_TIMEOUT = 30000; // the client's backoff (at most 5 s) and a loaded machine
const METRICS_TOKEN = 'redis-cluster-e2e-token';

const skip = !existsSync(NGINX) || !existsSync(REDIS) ? 'nginx or redis-server not installed' : false;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` answers `probe` with something starting with `expect` (bounded). */
async function waitForPort(port, child, what, { probe = null, expect = null, timeoutMs = 15000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.setTimeout(500);
      sock.once('connect', () => {
        if (!probe) {
          sock.destroy();
          resolve(true);
          return;
        }
        sock.write(probe);
        sock.once('data', (d) => {
          sock.destroy();
          resolve(d.toString().startsWith(expect));
        });
      });
      sock.once('error', () => resolve(false));
      sock.once('timeout', () => {
        sock.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let dir;
let redis;
let nginx;
let browser;

async function startRedis() {
  const port = await freePort();
  const child = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes',
    '--appendfsync', 'always', '--save', '', '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log')],
  { stdio: 'ignore' });
  await waitForPort(port, child, 'redis-server', { probe: '*1\r\n$4\r\nPING\r\n', expect: '+PONG' });
  return { child, url: `redis://127.0.0.1:${port}/0` };
}

async function startNginx(nodes) {
  const port = await freePort();
  const servers = nodes.map((n) => `server 127.0.0.1:${n.port};`).join(' ');
  const user = process.getuid?.() === 0 ? 'user nobody nogroup;\n' : '';
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, `${user}daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    map $http_upgrade $parley_connection { default upgrade; '' ''; }
    upstream parley_pages { ${servers} }
    upstream parley_ws { ${servers} }
    server {
        listen 127.0.0.1:${port};
        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $parley_connection;
        proxy_read_timeout 3600s;
        location / { proxy_pass http://parley_pages; }
        location = /ws { proxy_pass http://parley_ws; }
    }
}
`);
  const child = spawn(NGINX, ['-c', conf, '-p', `${dir}/`, '-e', path.join(dir, 'error.log')], { stdio: 'ignore' });
  await waitForPort(port, child, 'nginx');
  return { child, url: `http://127.0.0.1:${port}` };
}

async function websockets(node) {
  const res = await fetch(`${node.url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await res.text();
  const m = /^parley_websocket_connections (\d+)$/m.exec(text);
  assert.ok(m, `no parley_websocket_connections in /metrics: ${text.slice(0, 300)}`);
  return Number(m[1]);
}

async function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'parley-redis-e2e-'));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopAllServers();
  await stopChild(nginx?.child);
  await stopChild(redis?.child);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the web client survives its node\'s SIGKILL behind nginx round robin, exactly', { skip }, async () => {
  redis = await startRedis();
  const tokenFile = path.join(dir, 'metrics-token');
  writeFileSync(tokenFile, `${METRICS_TOKEN}\n`);
  const nodes = [];
  for (const id of ['a', 'b']) {
    nodes.push(await startServer({ args: ['--redis', redis.url, '--node-id', id, '--threads', '2',
      '--trusted-proxies', '127.0.0.1', '--metrics-token-file', tokenFile] }));
  }
  nginx = await startNginx(nodes);
  const front = { url: nginx.url };

  const alice = await openChat(browser, front, { name: 'alice' });
  // The Redis engine keeps no files (welcome.limits.max_upload_bytes 0): no attach button.
  await alice.page.locator('#attachButton').waitFor({ state: 'hidden', timeout: 5000 });
  const first = await Promise.all(nodes.map(websockets));
  assert.equal(first[0] + first[1], 1, `one page, one WebSocket: ${first}`);
  const aliceNode = nodes[first[0] === 1 ? 0 : 1];
  const bobNode = nodes[first[0] === 1 ? 1 : 0];
  const bob = await openChat(browser, front, { name: 'bob' });
  assert.deepEqual(await Promise.all(nodes.map(websockets)), [1, 1],
    'round robin put the two pages on different nodes');

  // Chat across the nodes.
  await typeAndEnter(alice.page, 'a1');
  await waitForMessage(bob.page, 'received', 'a1');
  await typeAndEnter(bob.page, 'b1');
  await waitForMessage(alice.page, 'received', 'b1');
  await typeAndEnter(alice.page, 'a2');
  await waitForMessage(bob.page, 'received', 'a2');

  // alice's node dies mid-conversation.
  await aliceNode.kill();
  await waitForStatus(alice.page, 'disconnected');
  // bob keeps talking, alice types while disconnected (her outbox keeps it).
  await typeAndEnter(bob.page, 'b2');
  await typeAndEnter(alice.page, 'a3');
  await typeAndEnter(bob.page, 'b3');

  // alice is back through nginx, on the other node, and caught up exactly.
  await waitForStatus(alice.page, 'connected', RECOVER_TIMEOUT);
  await waitForMessage(alice.page, 'received', 'b3', RECOVER_TIMEOUT);
  await waitForMessage(bob.page, 'received', 'a3', RECOVER_TIMEOUT);
  assert.equal(await websockets(bobNode), 2, 'both pages on the surviving node');
  await typeAndEnter(alice.page, 'a4');
  await waitForMessage(bob.page, 'received', 'a4');

  assert.deepEqual(await messageTexts(alice.page, 'sent'), ['a1', 'a2', 'a3', 'a4']);
  assert.deepEqual(await messageTexts(alice.page, 'received'), ['b1', 'b2', 'b3']);
  assert.deepEqual(await messageTexts(bob.page, 'sent'), ['b1', 'b2', 'b3']);
  assert.deepEqual(await messageTexts(bob.page, 'received'), ['a1', 'a2', 'a3', 'a4']);
  // The same order on both pages (by msg_id): bob's b2 came before alice's a3
  // reached the room or after it, but both pages agree.
  const order = async (page) => page.locator('#messages .message-sent .message-text, #messages .message-received .message-text')
    .allTextContents();
  assert.deepEqual(await order(alice.page), await order(bob.page));
  await alice.context.close();
  await bob.context.close();
});
