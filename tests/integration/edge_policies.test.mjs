// Trusted proxies, allowed origins, metrics protection and security headers
// (docs/SECURITY.md, a section each), against the real binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startServer, connect, withTimeout, PARLEY_BIN } from './lib/server.mjs';
import { exchange, upgradeRequest, getRequest } from './lib/http_raw.mjs';

const OTHER = { localAddress: '127.0.0.2' };

test('--trusted-proxies: X-Forwarded-For names the client only when the peer is trusted', async () => {
  const server = await startServer(['--trusted-proxies', '127.0.0.1', '--max-connections-per-ip', '2',
    '--handshake-rate-per-ip', '0', '--log-level', 'debug']);
  const open = [];
  try {
    const via = (xff, options = {}) => connect(server.wsUrl('/ws/proxied'), { headers: { 'X-Forwarded-For': xff }, ...options });
    // Through the trusted proxy (127.0.0.1), each client has its own two places.
    open.push(await via('198.51.100.1'), await via('198.51.100.1'));
    const refused = await exchange(server.port, upgradeRequest('/ws/proxied', server.port, { 'X-Forwarded-For': '198.51.100.1' }));
    assert.equal(refused.status, 429);
    assert.match(server.stderr, /198\.51\.100\.1 \(via 127\.0\.0\.1\): refused/, 'the log names the client, not the proxy');
    // The rightmost untrusted hop counts: what the client wrote to its left does not.
    open.push(await via('198.51.100.1, 203.0.113.5'), await via('198.51.100.1, 203.0.113.5'));
    assert.equal((await exchange(server.port, upgradeRequest('/ws/proxied', server.port,
      { 'X-Forwarded-For': '198.51.100.99, 203.0.113.5' }))).status, 429);
    // X-Real-IP when there is no X-Forwarded-For.
    open.push(await connect(server.wsUrl('/ws/proxied'), { headers: { 'X-Real-IP': '192.0.2.44' } }));
    // The proxy's own connections are not capped as one address.
    assert.ok(open.length > 2);
    // From an untrusted peer the headers are ignored: it is 127.0.0.2, with two places.
    open.push(await via('198.51.100.50', OTHER), await via('198.51.100.51', OTHER));
    const untrusted = await exchange(server.port, upgradeRequest('/ws/proxied', server.port, { 'X-Forwarded-For': '198.51.100.52' }), OTHER);
    assert.equal(untrusted.status, 429);
    assert.match(untrusted.body, /too many connections from your address/);
  } finally {
    for (const c of open) c.terminate();
    await server.stopClean();
  }
});

test('origins: another site\'s page gets 403 before 101; ours, and clients without Origin, get 101', async () => {
  const server = await startServer();
  try {
    const evil = await exchange(server.port, upgradeRequest('/ws', server.port, { Origin: 'https://evil.example' }));
    assert.equal(evil.status, 403);
    assert.match(evil.body, /origin/);
    await assert.rejects(connect(server.wsUrl('/wss'), { origin: 'https://evil.example' }), (err) => err.status === 403);
    await assert.rejects(connect(server.wsUrl('/wss'), { origin: 'null' }), (err) => err.status === 403);
    await assert.rejects(connect(server.wsUrl('/wss'), { origin: `http://127.0.0.1:${server.port + 1}` }), (err) => err.status === 403);
    (await connect(server.wsUrl('/wss'), { origin: `http://127.0.0.1:${server.port}` })).close(1000);
    (await connect(server.wsUrl('/wss'), { origin: `HTTPS://127.0.0.1:${server.port}` })).close(1000);
    (await connect(server.wsUrl('/wss'))).close(1000);  // npm ws sends no Origin
  } finally {
    await server.stopClean();
  }
});

test('--allowed-origins adds pages (a file: null, another port), * allows all', async () => {
  const listed = await startServer(['--allowed-origins', 'null,http://example:8000']);
  const any = await startServer(['--allowed-origins', '*']);
  try {
    (await connect(listed.wsUrl('/wss'), { origin: 'null' })).close(1000);
    (await connect(listed.wsUrl('/wss'), { origin: 'http://example:8000' })).close(1000);
    (await connect(listed.wsUrl('/wss'), { origin: `http://127.0.0.1:${listed.port}` })).close(1000);
    await assert.rejects(connect(listed.wsUrl('/wss'), { origin: 'https://evil.example' }), (err) => err.status === 403);
    await assert.rejects(connect(listed.wsUrl('/wss'), { origin: 'http://example:8001' }), (err) => err.status === 403);
    (await connect(any.wsUrl('/wss'), { origin: 'https://evil.example' })).close(1000);
  } finally {
    await listed.stopClean();
    await any.stopClean();
  }
});

test('a bad --allowed-origins or --trusted-proxies stops the start with one line', async () => {
  for (const args of [['--allowed-origins', 'evil.example'], ['--trusted-proxies', '10.0.0.1/8'],
    ['--metrics-address', 'nowhere'], ['--metrics-token-file', '/nonexistent/token']]) {
    const child = spawn(PARLEY_BIN, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const [code] = await withTimeout(new Promise((r) => child.on('exit', (...a) => r(a))), 10000, 'parley to exit');
    assert.equal(code, 2, args.join(' '));
    assert.match(err, new RegExp(`^parley: ${args[0]}`), err);
    assert.equal(err.trim().split('\n').length, 1, err);
  }
});

test('metrics are not public by default; --metrics-address serves them apart', async () => {
  const server = await startServer(['--metrics-address', '127.0.0.1:0']);
  try {
    const pub = await exchange(server.port, getRequest('/metrics', server.port));
    assert.equal(pub.status, 404);
    assert.match(pub.body, /--metrics-address/);
    // The metrics port is printed before the listening line.
    const m = /^parley metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics$/m.exec(server.stdout);
    assert.ok(m, server.stdout);
    const port = Number(m[1]);
    const ok = await exchange(port, getRequest('/metrics', port));
    assert.equal(ok.status, 200);
    assert.match(ok.body, /^parley_refused_metrics_total 1$/m);
    assert.match(ok.body, /^parley_connections_open \d+$/m);
    assert.equal((await exchange(port, getRequest('/healthz', port))).status, 200);
    assert.equal((await exchange(port, getRequest('/', port))).status, 404);
    assert.equal((await exchange(port, upgradeRequest('/ws', port))).status, 404);
  } finally {
    await server.stopClean();
  }
});

test('--metrics-token-file: /metrics needs the bearer token', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-token-'));
  const file = path.join(dir, 'token');
  const token = 'c2VjcmV0LW1ldHJpY3MtdG9rZW4';
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  const server = await startServer(['--metrics-token-file', file]);
  try {
    const none = await exchange(server.port, getRequest('/metrics', server.port));
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="parley metrics"');
    const wrong = await exchange(server.port, getRequest('/metrics', server.port, { Authorization: `Bearer ${token.slice(0, -1)}x` }));
    assert.equal(wrong.status, 401);
    const right = await exchange(server.port, getRequest('/metrics', server.port, { Authorization: `Bearer ${token}` }));
    assert.equal(right.status, 200);
    assert.match(right.body, /^parley_refused_metrics_total 2$/m);
  } finally {
    await server.stopClean();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pages carry the security headers', async () => {
  const server = await startServer();
  try {
    for (const p of ['/', '/app.js']) {
      const r = await exchange(server.port, getRequest(p, server.port));
      assert.equal(r.status, 200);
      assert.match(r.headers['content-security-policy'], /frame-ancestors 'self'/);
      assert.match(r.headers['content-security-policy'], /default-src 'self'/);
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
  } finally {
    await server.stopClean();
  }
});
