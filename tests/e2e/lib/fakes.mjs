// Stand-ins for the browser around web/connection.js and web/parley-client.js, so
// their logic runs in node exactly and instantly: a WebSocket the test drives, a
// clock whose timers fire only when the test advances it, and a localStorage.

import assert from 'node:assert/strict';

export class FakeWebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 3;
  static created = [];

  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.protocol = '';
    this.readyState = FakeWebSocket.CONNECTING;
    this.sent = [];
    FakeWebSocket.created.push(this);
  }

  send(text) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('not open');
    this.sent.push(text);
  }

  close(code = 1000) {
    this.drop(code);
  }

  // Test controls: what the network would do.
  open() {
    this.readyState = FakeWebSocket.OPEN;
    this.protocol = Array.isArray(this.protocols) ? this.protocols[0] : (this.protocols ?? '');
    this.onopen?.({});
  }

  receive(data) {
    this.onmessage?.({ data: typeof data === 'string' ? data : JSON.stringify(data) });
  }

  drop(code = 1006) {
    if (this.readyState === FakeWebSocket.CLOSED) return;
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code });
  }

  /** The JSON frames sent so far, parsed; `take` empties the list. */
  frames() {
    return this.sent.map((text) => JSON.parse(text));
  }

  take() {
    const frames = this.frames();
    this.sent = [];
    return frames;
  }
}

/** A clock: now() and timers that fire only inside advance(). */
export function fakeClock(start = 1_700_000_000_000) {
  let now = start;
  let nextId = 1;
  const timers = new Map(); // id → { at, fn }
  const clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.set(nextId, { at: now + Math.max(0, ms ?? 0), fn });
      return nextId++;
    },
    clearTimeout: (id) => timers.delete(id),
    get pending() {
      return [...timers.values()].map(({ at }) => at - now).sort((a, b) => a - b);
    },
    /** Moves time forward by ms, firing due timers in order (and timers they set). */
    advance(ms) {
      const end = now + ms;
      for (;;) {
        let due = null;
        for (const [id, timer] of timers) {
          if (timer.at <= end && (due === null || timer.at < due[1].at)) due = [id, timer];
        }
        if (due === null) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].fn();
      }
      now = end;
    },
    /** Fires the only pending timer and returns its delay. */
    fireOnly() {
      assert.equal(timers.size, 1, 'exactly one timer pending');
      const [[id, { at, fn }]] = timers;
      timers.delete(id);
      const delay = at - now;
      now = at;
      fn();
      return delay;
    },
  };
  return clock;
}

/** localStorage over a Map. */
export function fakeStorage(initial = {}) {
  const map = new Map(Object.entries(initial));
  return {
    map,
    getItem: (key) => (map.has(key) ? map.get(key) : null),
    setItem: (key, value) => map.set(key, String(value)),
    removeItem: (key) => map.delete(key),
  };
}
