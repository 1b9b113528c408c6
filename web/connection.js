// One WebSocket that survives server restarts: it reconnects with exponential
// backoff and jitter, and gives up only on the close codes that mean a client bug
// (or, when told so, that its credentials were refused).
//
// It is only the transport: what to say after an open (hello, joins, the outbox)
// is parley-client.js's business. It knows nothing about the page and takes its
// WebSocket class, timers and random source as options, so it runs in node tests.

/**
 * Reconnect delays: 0.5 s doubling up to 5 s. The cap is low on purpose: a chat that
 * stays dark for 15 s after its server came back feels broken, and 5 s of equal jitter
 * still spreads a restart's reconnects over 2.5 s. The page also calls retryNow() when
 * the browser says it is back online, the tab becomes visible or gets focus.
 */
export const BACKOFF = Object.freeze({ initialMs: 500, maxMs: 5000 });

/**
 * Close codes after which a client must not reconnect by itself (PROTOCOL.md,
 * "Close codes"): they say this client broke a rule, and would break it again, or
 * (4008) the server's operator removed it from its room, which reconnecting would
 * undo. Only the user (Reconnect) starts again.
 */
export const KICKED_CLOSE_CODE = 4008;
export const FATAL_CLOSE_CODES = Object.freeze([1002, 1003, 1007, 1008, 1009, KICKED_CLOSE_CODE]);

/**
 * Close codes of authentication (PROTOCOL.md, "Authentication"): 4001 (no token, or
 * refused), 4003 (forbidden), 4004 (token expired). Reconnecting with the same token
 * would be refused again: the client stops, and parley-client.js asks the embedding
 * page for a fresh token before it starts again.
 */
export const AUTH_CLOSE_CODES = Object.freeze([4001, 4003, 4004]);

/**
 * The chat's WebSocket address for a page at `location`: wss: on an https page (a
 * browser refuses ws: from a secure page, and the token must not travel in clear),
 * ws: otherwise; same host and port as the page.
 */
export function chatUrl(location, path = '/ws') {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}

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
  #protocols;
  #WebSocket;
  #setTimeout;
  #clearTimeout;
  #random;
  #now;
  #on;
  #stopCodes;
  #socket = null;
  #socketOpened = false; // whether #socket ever reached 'open'
  #attempt = 0;      // failed attempts since the last successful open
  #retryTimer = null;
  #stopped = true;

  /**
   * @param {string} url  ws:// or wss:// address
   * @param {object} options
   *   protocols: subprotocols to offer (e.g. ['parley.v1']).
   *   onState(state, info): state is 'connecting' | 'open' | 'closed'; for 'closed',
   *     info = { retryInMs, retryAt, wasOpen, code } (retryInMs null: not retrying;
   *     retryAt: when the next attempt starts, on the now() clock, for a countdown;
   *     wasOpen: this close ended an open connection; code: the WebSocket close code).
   *   onMessage(text): a text message from the server.
   *   stopCodes: close codes after which it does not reconnect by itself (default
   *     FATAL_CLOSE_CODES); start() or retryNow() starts it again.
   *   WebSocket, setTimeout, clearTimeout, random, now: injectable for tests.
   */
  constructor(url, options = {}) {
    this.#url = url;
    this.#protocols = options.protocols;
    this.#WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.#setTimeout = options.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this.#clearTimeout = options.clearTimeout ?? ((id) => globalThis.clearTimeout(id));
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => Date.now());
    this.#stopCodes = options.stopCodes ?? FATAL_CLOSE_CODES;
    const ignore = () => {};
    this.#on = {
      state: options.onState ?? ignore,
      message: options.onMessage ?? ignore,
    };
  }

  get isOpen() {
    return this.#socket !== null && this.#socket.readyState === this.#WebSocket.OPEN;
  }

  /** The subprotocol the server agreed to ('' for none), once open. */
  get protocol() {
    return this.#socket?.protocol ?? '';
  }

  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#attempt = 0;
    this.#connect();
  }

  /** Closes for good: no more reconnects until start(). */
  stop(code = 1000) {
    this.#stopped = true;
    this.#cancelRetry();
    if (this.#socket) this.#socket.close(code);
  }

  /**
   * Connects now instead of waiting out the backoff (the browser came back online,
   * or the user asked). Does nothing while a connection is open or being opened.
   */
  retryNow() {
    if (this.#stopped) {
      this.start();
      return;
    }
    if (this.#socket !== null) return;
    this.#cancelRetry();
    this.#connect();
  }

  /**
   * Cuts a backoff wait short (the browser is back online, the tab is visible or
   * focused again). Unlike retryNow() it never restarts a connection that stopped for
   * good (stop(), or a fatal close code): only the user may do that.
   */
  wake() {
    if (this.#stopped || this.#socket !== null) return;
    this.#cancelRetry();
    this.#connect();
  }

  /**
   * Drops the connection now, without waiting for the socket to say so (the browser
   * went offline: a socket on a dead network can look open for minutes). Reports
   * 'closed' like a lost connection and backs off as usual; retryNow() (on `online`)
   * cuts the wait short.
   */
  disconnect() {
    const socket = this.#socket;
    if (this.#stopped || socket === null) return;
    const wasOpen = this.#socketOpened;
    this.#socket = null; // its late events are ignored from now on
    try {
      socket.close(4000);
    } catch {
      // closing a dead socket can only fail harmlessly
    }
    this.#scheduleRetry(wasOpen, 1006);
  }

  /** Sends one text frame; false when there is no open socket to take it. */
  send(text) {
    if (!this.isOpen) return false;
    try {
      this.#socket.send(text);
      return true;
    } catch {
      return false;
    }
  }

  #connect() {
    this.#retryTimer = null;
    this.#on.state('connecting', {});
    let socket;
    try {
      socket = this.#protocols ? new this.#WebSocket(this.#url, this.#protocols) : new this.#WebSocket(this.#url);
    } catch {
      // Only a malformed URL throws here; keep backing off rather than spin.
      this.#scheduleRetry(false, 1006);
      return;
    }
    this.#socket = socket;
    this.#socketOpened = false;
    socket.onopen = () => this.#handleOpen(socket);
    socket.onmessage = (event) => {
      if (socket === this.#socket && typeof event.data === 'string') this.#on.message(event.data);
    };
    // Every failure (refused, dropped, closed by the server) ends in 'close', so the
    // reconnect logic lives there alone; 'error' carries no detail worth showing.
    socket.onclose = (event) => this.#handleClose(socket, event?.code ?? 1006);
  }

  #handleOpen(socket) {
    if (socket !== this.#socket) return;
    this.#socketOpened = true;
    this.#attempt = 0;
    this.#on.state('open', {});
  }

  #handleClose(socket, code) {
    if (socket !== this.#socket) return;
    const wasOpen = this.#socketOpened;
    this.#socket = null;
    if (this.#stopped) {
      this.#on.state('closed', { retryInMs: null, retryAt: null, wasOpen, code });
      return;
    }
    if (this.#stopCodes.includes(code)) {
      this.#stopped = true;
      this.#on.state('closed', { retryInMs: null, retryAt: null, wasOpen, code });
      return;
    }
    this.#scheduleRetry(wasOpen, code);
  }

  #scheduleRetry(wasOpen, code) {
    const delay = backoffDelay(this.#attempt, this.#random);
    this.#attempt += 1;
    this.#retryTimer = this.#setTimeout(() => this.#connect(), delay);
    this.#on.state('closed', { retryInMs: delay, retryAt: this.#now() + delay, wasOpen, code });
  }

  #cancelRetry() {
    if (this.#retryTimer !== null) this.#clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }
}
