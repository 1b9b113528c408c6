// A parley.v1 client for tests, on npm `ws`: says hello, joins, sends and waits for
// events, so a test can put a conversation on the server without a browser.

import WebSocket from 'ws';

import { TIMEOUT } from './browser.mjs';

export class ParleyWs {
  #ws;
  #events = [];
  #waiters = new Set();
  #counter = 0;

  constructor(ws) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const event = JSON.parse(data.toString());
      this.#events.push(event);
      for (const waiter of this.#waiters) waiter();
    });
  }

  /** Connects to server's /ws with the parley.v1 subprotocol and says hello as `name`. */
  static async connect(server, name) {
    const ws = new WebSocket(server.wsUrl('/ws'), 'parley.v1');
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const client = new ParleyWs(ws);
    client.send({ type: 'hello', name });
    client.welcome = await client.next((e) => e.type === 'welcome');
    return client;
  }

  get events() {
    return this.#events;
  }

  send(frame) {
    this.#ws.send(JSON.stringify(frame));
  }

  /** Resolves with the first event (received so far or later) matching `predicate`. */
  next(predicate, timeout = TIMEOUT.message) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.#events.find(predicate);
        if (!found) return false;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no matching event in ${timeout} ms; got ${JSON.stringify(this.#events.slice(-5))}`));
      }, timeout);
      if (!check()) this.#waiters.add(check);
    });
  }

  async join(room) {
    this.send({ type: 'join', room });
    return this.next((e) => e.type === 'joined' && e.room === room);
  }

  /** Sends each text in turn, waiting for its ack; returns the acks. */
  async say(room, ...texts) {
    const acks = [];
    for (const text of texts) {
      const id = `t-${++this.#counter}`;
      this.send({ type: 'send', room, id, text });
      acks.push(await this.next((e) => (e.type === 'ack' || e.type === 'error') && e.id === id));
      if (acks.at(-1).type === 'error') throw new Error(`send refused: ${JSON.stringify(acks.at(-1))}`);
    }
    return acks;
  }

  /**
   * Sends an edit, delete, react, unreact or a send with reply_to ({ type, room, … }
   * without an id) and waits for its ack; returns it (throws on an error).
   */
  async request(frame) {
    const id = `t-${++this.#counter}`;
    this.send({ ...frame, id });
    const answer = await this.next((e) => (e.type === 'ack' || e.type === 'error') && e.id === id);
    if (answer.type === 'error') throw new Error(`${frame.type} refused: ${JSON.stringify(answer)}`);
    return answer;
  }

  close() {
    this.#ws.close();
  }
}
