// Quick check of a peer server, without parley-bench:
//   node bench/peers/smoke.mjs ws://127.0.0.1:PORT/chat-path ws://127.0.0.1:PORT/echo [--no-self] [--clients N]
// (an empty URL skips that check). Chat: 20 clients (or N) each send 5 messages; every client must receive each one
// once (the sender too, unless --no-self). Echo: 1000 messages, 16 in flight,
// all must come back in order. Prints one line per check; exit 1 on failure.
import { WebSocket } from 'ws';

const [chatUrl, echoUrl] = process.argv.slice(2);
const self = !process.argv.includes('--no-self');
const clientsAt = process.argv.indexOf('--clients');
const chatClients = clientsAt > 0 ? Number(process.argv[clientsAt + 1]) : 20;
const open = (url) =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
const timeout = (ms, what) =>
  new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), ms).unref());

async function chat(url, clients = 20, each = 5) {
  const sockets = await Promise.all(Array.from({ length: clients }, () => open(url)));
  const want = clients * each - (self ? 0 : each);
  const seen = sockets.map(() => new Set());
  const done = Promise.all(
    sockets.map(
      (ws, i) =>
        new Promise((resolve, reject) => {
          ws.on('message', (data) => {
            const text = data.toString();
            if (!text.startsWith('m:')) return; // join/leave notices
            if (seen[i].has(text)) reject(new Error(`client ${i} got ${text} twice`));
            seen[i].add(text);
            if (seen[i].size === want) resolve();
          });
          // gorilla drops a client whose 256-message queue is full: say so.
          ws.on('close', (code) =>
            reject(new Error(`server closed client ${i} (code ${code}) after ${seen[i].size}/${want}`)),
          );
        }),
    ),
  );
  const t0 = process.hrtime.bigint();
  sockets.forEach((ws, i) => {
    for (let k = 0; k < each; ++k) ws.send(`m:${i}:${k}`);
  });
  await Promise.race([done, timeout(5000 + (clients * want) / 50, 'chat deliveries')]);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`chat ok: ${clients} clients x ${want} messages each in ${ms.toFixed(1)} ms`);
  sockets.forEach((ws) => ws.close());
}

async function echo(url, total = 1000, inFlight = 16) {
  const ws = await open(url);
  let sent = 0;
  let got = 0;
  const payload = (n) => `e:${String(n).padStart(28, '0')}`; // 30 bytes
  const done = new Promise((resolve, reject) =>
    ws.on('message', (data) => {
      if (data.toString() !== payload(got)) reject(new Error(`echo #${got} wrong: ${data}`));
      if (++got === total) resolve();
      else if (sent < total) ws.send(payload(sent++));
    }),
  );
  const t0 = process.hrtime.bigint();
  while (sent < inFlight) ws.send(payload(sent++));
  await Promise.race([done, timeout(5000, 'echo replies')]);
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / total;
  console.log(`echo ok: ${total} messages, ${inFlight} in flight, ${us.toFixed(1)} us each`);
  ws.close();
}

try {
  if (chatUrl) await chat(chatUrl, chatClients);
  if (echoUrl) await echo(echoUrl);
  process.exit(0);
} catch (e) {
  console.error(`FAILED: ${e.message}`);
  process.exit(1);
}
