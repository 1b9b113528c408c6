// A raw-TCP WebSocket client for hand-crafted frames: any FIN/RSV/opcode,
// masked or not, a declared length different from the payload, split writes.
// It parses the server's frames itself (no `ws` involved), so it can observe
// exactly which close code arrives and when the server closes TCP.
import net from 'node:net';
import crypto from 'node:crypto';
import { withTimeout } from './server.mjs';

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

// Encodes one frame. `declaredLength` overrides the length field (the payload
// actually appended is still `payload`), for "header only" or lying frames.
export function encodeFrame({ opcode, payload = Buffer.alloc(0), fin = true, rsv = 0, mask = true, maskKey, declaredLength }) {
  payload = Buffer.from(payload);
  const len = declaredLength ?? payload.length;
  const head = [((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf))];
  const maskBit = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126) head.push(maskBit | len);
  else if (len < 65536) { head.push(maskBit | 126); ext = Buffer.alloc(2); ext.writeUInt16BE(len); }
  else { head.push(maskBit | 127); ext = Buffer.alloc(8); ext.writeBigUInt64BE(BigInt(len)); }
  let body = payload;
  let key = Buffer.alloc(0);
  if (mask) {
    key = maskKey ? Buffer.from(maskKey) : crypto.randomBytes(4);
    body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  }
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}

export function closePayload(code, reason = '') {
  const r = Buffer.from(reason);
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code);
  r.copy(b, 2);
  return b;
}

export class RawClient {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.eof = false;
    this.waiters = [];
    socket.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.#wake(); });
    socket.on('end', () => { this.eof = true; this.#wake(); });
    socket.on('close', () => { this.eof = true; this.#wake(); });
    socket.on('error', () => { this.eof = true; this.#wake(); });  // RST counts as closed
  }

  #wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async #more(ms, label) {
    await withTimeout(new Promise((r) => this.waiters.push(r)), ms, label);
  }

  // Opens TCP and performs the upgrade; the response head is checked for 101.
  static async connect(port, path = '/wss', { headers = {}, timeoutMs = 5000 } = {}) {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await withTimeout(new Promise((res, rej) => { socket.once('connect', res); socket.once('error', rej); }), timeoutMs, 'TCP connect');
    const c = new RawClient(socket);
    const key = crypto.randomBytes(16).toString('base64');
    const all = {
      Host: `127.0.0.1:${port}`, Upgrade: 'websocket', Connection: 'Upgrade',
      'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13', ...headers,
    };
    let req = `GET ${path} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(all)) req += `${k}: ${v}\r\n`;
    socket.write(req + '\r\n');
    const head = await c.readHttpHead(timeoutMs);
    if (!/^HTTP\/1\.1 101 /.test(head)) throw new Error(`expected 101, got: ${head.split('\r\n')[0]}`);
    const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    if (!head.includes(`\r\nSec-WebSocket-Accept: ${accept}`) && !head.toLowerCase().includes(`\r\nsec-websocket-accept: ${accept.toLowerCase()}`)) {
      throw new Error(`bad Sec-WebSocket-Accept in:\n${head}`);
    }
    return c;
  }

  async readHttpHead(ms = 5000) {
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.buf.subarray(0, end).toString('latin1');
        this.buf = this.buf.subarray(end + 4);
        return head;
      }
      if (this.eof) throw new Error(`EOF before the HTTP response head (got ${JSON.stringify(this.buf.toString('latin1'))})`);
      await this.#more(ms, 'the HTTP response head');
    }
  }

  write(bytes) { this.socket.write(bytes); }
  sendFrame(spec) { this.socket.write(encodeFrame(spec)); }
  sendText(text, extra = {}) { this.sendFrame({ opcode: OP.TEXT, payload: Buffer.from(text), ...extra }); }

  // Next server frame {fin, rsv, opcode, payload, masked}, or null at EOF.
  async readFrame(ms = 5000) {
    for (;;) {
      const f = this.#parse();
      if (f) return f;
      if (this.eof) return null;
      await this.#more(ms, 'a frame from the server');
    }
  }

  #parse() {
    const b = this.buf;
    if (b.length < 2) return null;
    let len = b[1] & 0x7f;
    let off = 2;
    if (len === 126) { if (b.length < 4) return null; len = b.readUInt16BE(2); off = 4; }
    else if (len === 127) { if (b.length < 10) return null; len = Number(b.readBigUInt64BE(2)); off = 10; }
    const masked = (b[1] & 0x80) !== 0;
    if (masked) off += 4;
    if (b.length < off + len) return null;
    let payload = Buffer.from(b.subarray(off, off + len));
    if (masked) {
      const key = b.subarray(off - 4, off);
      payload = Buffer.from(payload.map((x, i) => x ^ key[i % 4]));
    }
    this.buf = b.subarray(off + len);
    return { fin: (b[0] & 0x80) !== 0, rsv: (b[0] >> 4) & 7, opcode: b[0] & 0xf, payload, masked };
  }

  // Reads until a close frame arrives (other frames are returned in
  // `before`), answers it, and waits for the server to close TCP.
  // Returns {code, reason, before}; code is null for an empty close payload.
  async expectClose(ms = 5000) {
    const before = [];
    for (;;) {
      const f = await this.readFrame(ms);
      if (f === null) throw new Error(`EOF without a close frame (frames before: ${before.length})`);
      if (f.opcode !== OP.CLOSE) { before.push(f); continue; }
      const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
      const reason = f.payload.subarray(2).toString('utf8');
      if (!this.eof) this.sendFrame({ opcode: OP.CLOSE, payload: f.payload.subarray(0, 2) });
      await this.waitEof(ms);
      return { code, reason, before };
    }
  }

  async waitEof(ms = 5000) {
    while (!this.eof) {
      this.buf = Buffer.alloc(0);
      await this.#more(ms, 'the server to close TCP');
    }
  }

  destroy() { this.socket.destroy(); }
}
