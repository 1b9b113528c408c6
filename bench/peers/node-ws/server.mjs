// Node `ws` broadcast/echo server: a benchmark peer for Parley.
//
//   /echo      each message goes back to its sender
//   any other  chat: each message goes to every open client, sender included
//
// Run: node bench/peers/node-ws/server.mjs [--host 127.0.0.1] [--port 8080]
// (`ws` comes from the repository's node_modules.)
import http from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer, WebSocket } from 'ws';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('node-ws: --port must be 1..65535');
  process.exit(2);
}

const server = http.createServer((req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain' });
  res.end('WebSocket only\n');
});
// Compression off: the other servers do not negotiate permessage-deflate.
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const chat = new Set(); // wss.clients would include the echo connections

wss.on('connection', (ws, req) => {
  ws.on('error', () => {}); // a reset peer must not crash the server
  if (req.url === '/echo') {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    return;
  }
  chat.add(ws);
  ws.on('close', () => chat.delete(ws));
  ws.on('message', (data, isBinary) => {
    for (const client of chat) {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
});

// The idle and connect workloads open thousands of connections at once.
server.listen({ host: values.host, port, backlog: 4096 }, () => {
  console.error(`node-ws listening on ${values.host}:${port} (/ chat, /echo)`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
