// One chat connection that survives server restarts: it reconnects with exponential
// backoff and keeps an outbox of messages typed while disconnected.
//
// It knows nothing about the page (app.js draws) and takes its WebSocket class,
// timers and random source as options, so it can be tested without a browser.

/** Reconnect delays: 1 s doubling up to 30 s. */
export const BACKOFF = Object.freeze({ initialMs: 1000, maxMs: 30000 });

/**
 * Delay before reconnect attempt `attempt` (0 for the first after a close).
 * "Equal jitter": a random point in [base/2, base], base = min(max, initial * 2^attempt).
 * The random half spreads out the clients a server restart disconnected all at once,
 * so they do not come back in one burst; the fixed half keeps the doubling meaningful.
 */
export function backoffDelay(attempt, random = Math.random, { initialMs, maxMs } = BACKOFF) {
  const base = Math.min(maxMs, initialMs * 2 ** attempt);
  return Math.round(base / 2 + (random() * base) / 2);
}

export class ChatConnection {
  #url;
  #WebSocket;
  #setTimeout;
  #clearTimeout;
  #random;
  #on;
  #socket = null;
  #socketOpened = false; // whether #socket ever reached 'open'
  #attempt = 0;      // failed attempts since the last successful open
  #retryTimer = null;
  #outbox = [];      // [{ id, text }] waiting for an open socket, in typing order
  #nextId = 1;
  #stopped = false;

  /**
   * @param {string} url  ws:// or wss:// address
   * @param {object} options
   *   onState(state, info): state is 'connecting' | 'open' | 'closed'; for 'closed',
   *     info = { retryInMs, wasOpen } (wasOpen: this close ended an open connection).
   *   onMessage(text): a text message from the server.
   *   onSent(id): a message that send() had queued was handed to the socket.
   *   WebSocket, setTimeout, clearTimeout, random: injectable for tests.
   */
  constructor(url, options = {}) {
    this.#url = url;
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.#setTimeout = options.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this.#clearTimeout = options.clearTimeout ?? ((id) => globalThis.clearTimeout(id));
    this.#random = options.random ?? Math.random;
    const ignore = () => {};
    this.#on = {
      state: options.onState ?? ignore,
      message: options.onMessage ?? ignore,
      sent: options.onSent ?? ignore,
    };
  }

  get isOpen() {
    return this.#socket !== null && this.#socket.readyState === this.#WebSocket.OPEN;
  }

  /** Number of messages waiting for a connection. */
  get queued() {
    return this.#outbox.length;
  }

  start() {
    this.#stopped = false;
    this.#connect();
  }

  /** Closes for good: no more reconnects. Queued messages stay queued. */
  stop() {
    this.#stopped = true;
    this.#cancelRetry();
    if (this.#socket) this.#socket.close(1000);
  }

  /** Skips the rest of the backoff wait, e.g. when the browser says it is online again. */
  retryNow() {
    if (this.#stopped || this.#retryTimer === null) return;
    this.#cancelRetry();
    this.#connect();
  }

  /**
   * Sends `text`, or queues it until the next successful open.
   * Returns { id, sent }: sent is false when queued; onSent(id) follows once it goes out.
   *
   * A message handed to an open socket is not retried: if the connection dies before
   * the bytes leave, it is lost. The plain-text protocol has no acknowledgements to
   * tell; resending could duplicate instead. (parley.v1 will add ids and acks.)
   */
  send(text) {
    const id = this.#nextId++;
    if (this.#outbox.length === 0 && this.#trySend(text)) return { id, sent: true };
    this.#outbox.push({ id, text });
    return { id, sent: false };
  }

  #connect() {
    this.#retryTimer = null;
    this.#on.state('connecting', {});
    let socket;
    try {
      socket = new this.#WebSocket(this.#url);
    } catch (error) {
      // Only a malformed URL throws here; keep backing off rather than spin.
      this.#scheduleRetry(false);
      return;
    }
    this.#socket = socket;
    this.#socketOpened = false;
    socket.onopen = () => this.#handleOpen(socket);
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') this.#on.message(event.data);
    };
    // Every failure (refused, dropped, closed by the server) ends in 'close', so the
    // reconnect logic lives there alone; 'error' carries no detail worth showing.
    socket.onclose = () => this.#handleClose(socket);
  }

  #handleOpen(socket) {
    if (socket !== this.#socket) return;
    this.#socketOpened = true;
    this.#attempt = 0;
    this.#on.state('open', {});
    this.#flush();
  }

  #handleClose(socket) {
    if (socket !== this.#socket) return;
    const wasOpen = this.#socketOpened;
    this.#socket = null;
    if (this.#stopped) {
      this.#on.state('closed', { retryInMs: null, wasOpen });
      return;
    }
    this.#scheduleRetry(wasOpen);
  }

  #scheduleRetry(wasOpen) {
    const delay = backoffDelay(this.#attempt, this.#random);
    this.#attempt += 1;
    this.#retryTimer = this.#setTimeout(() => this.#connect(), delay);
    this.#on.state('closed', { retryInMs: delay, wasOpen });
  }

  #cancelRetry() {
    if (this.#retryTimer !== null) this.#clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  /** Sends the outbox in order; stops at the first message the socket refuses. */
  #flush() {
    while (this.#outbox.length > 0) {
      const { id, text } = this.#outbox[0];
      if (!this.#trySend(text)) return;
      this.#outbox.shift();
      this.#on.sent(id);
    }
  }

  #trySend(text) {
    if (!this.isOpen) return false;
    try {
      this.#socket.send(text);
      return true;
    } catch {
      return false;
    }
  }
}
