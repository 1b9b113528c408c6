// One raw HTTP/1.1 exchange over a plain TCP socket, from a chosen local
// address (127.0.0.2 is another client on this machine), for answers a
// WebSocket library hides: refusals sent at accept before any request, the
// status and headers of a refused upgrade.
import net from 'node:net';
import { withTimeout } from './server.mjs';

// Connects to 127.0.0.1:port from `localAddress`, writes `request` (unless
// null: then it only listens), and reads until the server closes or `ms`
// pass. Resolves with { status, headers (lower-case names), body, raw }.
export async function exchange(port, request, { localAddress = '127.0.0.1', ms = 5000 } = {}) {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  const chunks = [];
  const done = new Promise((resolve, reject) => {
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', resolve);
    socket.on('close', resolve);
    socket.on('error', (err) => (err.code === 'ECONNRESET' && chunks.length ? resolve() : reject(err)));
  });
  await withTimeout(new Promise((r, j) => { socket.once('connect', r); socket.once('error', j); }), ms, 'connect');
  if (request !== null) socket.write(request);
  try {
    await withTimeout(done, ms, 'the server to answer and close');
  } finally {
    socket.destroy();
  }
  return parse(Buffer.concat(chunks).toString('latin1'));
}

export function parse(raw) {
  const end = raw.indexOf('\r\n\r\n');
  const head = end < 0 ? raw : raw.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: end < 0 ? '' : raw.slice(end + 4), raw };
}

// A WebSocket upgrade request for `path` with extra header lines.
export function upgradeRequest(path, port, extra = {}) {
  const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket',
    'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
  for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export function getRequest(path, port, extra = {}) {
  const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close'];
  for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
