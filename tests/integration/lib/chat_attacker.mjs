// A hostile chat client for the attack tests (tests/integration/attack_*.test.mjs)
// and bench/soak.sh: many WebSocket connections driven from their own
// process, so that the attack's own work never stalls the test's honest
// clients.
//
// Usage: node chat_attacker.mjs '<json config>'
// The config names the server (`port`) and the `mode`; each mode takes the
// fields listed below; `deflate: false` turns compression off (on by default,
// as in browsers). The attacker prints one JSON line per event:
//   {"event": "ready", ...}   connections open (where a mode has a setup)
//   {"event": "attacked", ...} the hostile part is done (figures so far)
//   {"event": "outcome", ...}  the final report, after "stop" (or the end)
// and reads commands on stdin, one a line: "go" starts the hostile part,
// "stop" reports the outcome, closes every connection and exits.
//
// Modes:
//   plain-flood   {conns, rooms: [room per connection], count, bytes, char,
//                  paceMs?, notices?}: each plain-text connection sends `count`
//                  messages of `char` repeated `bytes` times (UTF-8 bytes if
//                  ASCII or U+0001), as fast as the socket takes them (or one
//                  every `paceMs`); counts the notices and close codes it gets.
//                  With `notices`, "attacked" waits (up to 60 s) until that
//                  many notices have come; with `waitClose`, until the server
//                  has closed every connection (up to that many ms).
//   history-flood {conns, stay, room, requests, limit}: JSON connections join
//                  `room`; on "go" each sends `requests` history requests at
//                  once; all but `stay` of them then close (1000) at once,
//                  the others count what they are answered.
//   same-name     {conns, room, name, parallel}: on "go", `conns` JSON
//                  connections say hello as `name` and join `room`, at most
//                  `parallel` handshakes at a time; reports the time to join
//                  them all and the names the room gave them.
//   rooms-flood   {conns, rooms, prefix}: on "go", each JSON connection joins
//                  `rooms` new rooms; counts joined answers and error codes.
import WebSocket from 'ws';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';

const config = JSON.parse(process.argv[2]);
const base = `ws://127.0.0.1:${config.port}`;

function say(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

// Commands from stdin, awaited in order.
const commands = [];
const waiters = [];
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  commands.push(line.trim());
  for (const w of waiters.splice(0)) w();
}).on('close', () => {
  commands.push('stop');
  for (const w of waiters.splice(0)) w();
});
async function command(name) {
  for (;;) {
    const i = commands.indexOf(name);
    if (i >= 0) {
      commands.splice(i, 1);
      return;
    }
    if (name !== 'stop' && commands.includes('stop')) return;
    await new Promise((r) => waiters.push(r));
  }
}

// One connection: every text and the close code recorded; `opened` resolves
// on the handshake (or rejects with the HTTP status).
function open(path, protocol) {
  const ws = new WebSocket(`${base}${path}`, protocol,
    { maxPayload: 64 * 1024 * 1024, perMessageDeflate: config.deflate ?? true });
  const c = { ws, texts: [], closeCode: null, listeners: [] };
  ws.on('message', (data) => {
    const text = data.toString('utf8');
    c.texts.push(text);
    for (const l of c.listeners) l(text);
  });
  ws.on('error', () => {});
  c.closed = new Promise((resolve) => ws.on('close', (code) => { c.closeCode = code; resolve(code); }));
  c.opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (_req, res) => { res.resume(); reject(new Error(`HTTP ${res.statusCode}`)); });
    ws.once('close', () => reject(new Error('closed before open')));
  });
  return c;
}

// Resolves with the first JSON event of `c` matching `pred` (already
// received or to come), or rejects when the connection closes first.
function event(c, pred) {
  for (const t of c.texts) {
    const e = JSON.parse(t);
    if (pred(e)) return Promise.resolve(e);
  }
  return new Promise((resolve, reject) => {
    const l = (t) => {
      const e = JSON.parse(t);
      if (pred(e)) {
        c.listeners.splice(c.listeners.indexOf(l), 1);
        resolve(e);
      }
    };
    c.listeners.push(l);
    c.closed.then((code) => reject(new Error(`closed ${code} while waiting`)));
  });
}

function send(c, data) {
  return new Promise((resolve) => c.ws.send(data, (err) => resolve(!err)));
}

async function jsonMember(room, name) {
  const c = open(`/ws/${room}`, 'parley.v1');
  await c.opened;
  await send(c, JSON.stringify({ type: 'hello', name }));
  await event(c, (e) => e.type === 'welcome');
  await send(c, JSON.stringify({ type: 'join', room }));
  c.joined = await event(c, (e) => (e.type === 'joined' && e.room === room) || e.type === 'error');
  return c;
}

function closeCodes(conns) {
  const codes = {};
  for (const c of conns) {
    const k = c.closeCode === null ? 'open' : String(c.closeCode);
    codes[k] = (codes[k] ?? 0) + 1;
  }
  return codes;
}

function errorCodes(conns) {
  const codes = {};
  for (const c of conns) {
    for (const t of c.texts) {
      if (!t.startsWith('{')) continue;
      const e = JSON.parse(t);
      if (e.type === 'error') codes[e.code] = (codes[e.code] ?? 0) + 1;
    }
  }
  return codes;
}

async function endAll(conns) {
  for (const c of conns) if (c.ws.readyState === WebSocket.OPEN) c.ws.close(1000);
  await Promise.race([Promise.all(conns.map((c) => c.closed)), new Promise((r) => setTimeout(r, 5000))]);
  for (const c of conns) c.ws.terminate();
}

const modes = {
  async 'plain-flood'({ conns, rooms, count, bytes, char = 'x', paceMs = 0, notices: expected = 0, waitClose = 0 }) {
    const clients = [];
    for (let i = 0; i < conns; i++) clients.push(open(`/ws/${encodeURIComponent(rooms[i % rooms.length])}`));
    await Promise.all(clients.map((c) => c.opened));
    say({ event: 'ready' });
    await command('go');
    const text = char.repeat(bytes);
    const t0 = performance.now();
    const sent = clients.map(() => 0);
    await Promise.all(clients.map(async (c, i) => {
      for (let n = 0; n < count && c.ws.readyState === WebSocket.OPEN; n++) {
        if (!(await send(c, text))) break;
        sent[i]++;
        if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
      }
    }));
    const seconds = (performance.now() - t0) / 1000;
    const noticeCount = () => clients.reduce((n, c) => n + c.texts.filter((t) => t.startsWith('系统通知: 消息')).length, 0);
    for (let waited = 0; noticeCount() < expected && waited < 60000; waited += 20) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (waitClose > 0) {
      await Promise.race([Promise.all(clients.map((c) => c.closed)), new Promise((r) => setTimeout(r, waitClose))]);
    }
    say({ event: 'attacked', sent: sent.reduce((a, b) => a + b, 0), seconds });
    await command('stop');
    const notices = {};
    for (const c of clients) for (const t of c.texts) if (t.startsWith('系统通知')) notices[t] = (notices[t] ?? 0) + 1;
    say({ event: 'outcome', sent: sent.reduce((a, b) => a + b, 0), seconds, notices, close_codes: closeCodes(clients) });
    await endAll(clients);
  },

  async 'history-flood'({ conns, stay, room, requests, limit = 200 }) {
    const clients = [];
    for (let i = 0; i < conns; i += 10) {
      const batch = [];
      for (let j = i; j < Math.min(conns, i + 10); j++) batch.push(jsonMember(room, `flooder-${j}`));
      clients.push(...await Promise.all(batch));
    }
    say({ event: 'ready', joined: clients.filter((c) => c.joined.type === 'joined').length });
    await command('go');
    // Every request of every connection written before any connection closes.
    // Before id 100: older than the room's cache holds, so each is a store read.
    const request = JSON.stringify({ type: 'history', room, before: 100, limit });
    await Promise.all(clients.map(async (c) => {
      for (let n = 0; n < requests; n++) c.ws.send(request);
      await send(c, request);
    }));
    const leaving = clients.slice(stay);
    for (const c of leaving) c.ws.close(1000);
    say({ event: 'attacked', requests: conns * (requests + 1) });
    const staying = clients.slice(0, stay);
    await Promise.race([Promise.all(staying.map((c) => c.closed)), command('stop')]);
    const pages = staying.map((c) => c.texts.filter((t) => t.startsWith('{"type":"history"')).length);
    say({ event: 'outcome', history_answers: pages, errors: errorCodes(staying),
      close_codes: closeCodes(staying), leaving_close_codes: closeCodes(leaving) });
    await command('stop');
    await endAll(clients);
  },

  async 'same-name'({ conns, room, name, parallel = 50 }) {
    say({ event: 'ready' });
    await command('go');
    const t0 = performance.now();
    const clients = [];
    let next = 0;
    const errors = [];
    await Promise.all(Array.from({ length: parallel }, async () => {
      while (next < conns) {
        next++;
        try {
          clients.push(await jsonMember(room, name));
        } catch (err) {
          errors.push(err.message);
        }
      }
    }));
    const seconds = (performance.now() - t0) / 1000;
    const names = new Set(clients.filter((c) => c.joined.type === 'joined').map((c) => c.joined.you));
    say({ event: 'attacked', seconds, joined: clients.filter((c) => c.joined.type === 'joined').length,
      distinct_names: names.size, errors: errors.slice(0, 5), error_count: errors.length });
    await command('stop');
    say({ event: 'outcome', close_codes: closeCodes(clients) });
    for (const c of clients) c.ws.terminate();
  },

  async 'rooms-flood'({ conns, rooms, prefix }) {
    const clients = [];
    for (let i = 0; i < conns; i++) {
      const c = open('/ws', 'parley.v1');
      await c.opened;
      await send(c, JSON.stringify({ type: 'hello', name: `rooms-${i}` }));
      await event(c, (e) => e.type === 'welcome');
      clients.push(c);
    }
    say({ event: 'ready' });
    await command('go');
    let joined = 0;
    await Promise.all(clients.map(async (c, i) => {
      for (let r = 0; r < rooms; r++) {
        const room = `${prefix}-${i}-${r}`;
        await send(c, JSON.stringify({ type: 'join', room }));
        const e = await event(c, (x) => (x.type === 'joined' && x.room === room)
          || (x.type === 'error' && x.ref === 'join' && x.room === room)).catch(() => null);
        if (e?.type === 'joined') joined++;
      }
    }));
    say({ event: 'attacked', joined, errors: errorCodes(clients) });
    await command('stop');
    say({ event: 'outcome', close_codes: closeCodes(clients) });
    await endAll(clients);
  },
};

const mode = modes[config.mode];
if (!mode) {
  process.stderr.write(`unknown mode ${config.mode}\n`);
  process.exit(2);
}
mode(config).then(() => process.exit(0), (err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
