// The chat page: wires the DOM of index.html to a ChatConnection.
//
// Speaks the seed's plain-text protocol: every text frame is one chat message, and
// the server's join/leave notices arrive as ordinary text. They are shown as received
// messages on purpose: in plain text nothing tells them apart from what a user typed,
// and styling by a "系统通知:" prefix would let anyone forge a system notice.
//
// All text goes into the page through textContent, never innerHTML.

import { ChatConnection } from './connection.js';
import { pickLanguage, translatePage, translator } from './i18n.js';

const ROOM_NAME = /^[A-Za-z0-9._-]{1,64}$/;
// Within this many pixels of the bottom the list follows new messages; further up,
// the reader is looking at history and is left alone.
const STICK_TO_BOTTOM_PX = 48;

const t = translator(pickLanguage(navigator.language));

const ui = {
  messages: document.getElementById('messages'),
  form: document.getElementById('inputArea'),
  input: document.getElementById('messageInput'),
  indicator: document.getElementById('statusIndicator'),
  statusText: document.getElementById('statusText'),
  statusDetail: document.getElementById('statusDetail'),
  roomName: document.getElementById('roomName'),
};

/** Own messages still in the outbox, by ChatConnection id. */
const pendingById = new Map();

/** "#general" → "general"; no hash or an invalid name → null (the seed's lobby). */
function roomFromHash(hash) {
  let name;
  try {
    name = decodeURIComponent(hash.replace(/^#/, ''));
  } catch {
    return null;
  }
  return ROOM_NAME.test(name) ? name : null;
}

/** Same origin as the page: /wss is the seed's path (room "lobby"), /ws/<room> any other room. */
function socketUrl(location, room) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${room ? `/ws/${room}` : '/wss'}`;
}

/** Appends one message; kind is 'system', 'sent' or 'received'. */
function addMessage(kind, text) {
  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight <= STICK_TO_BOTTOM_PX;
  const el = document.createElement('div');
  el.className = `message message-${kind}`;
  el.textContent = text;
  list.appendChild(el);
  // Your own message always scrolls into view; others only if you were following.
  if (atBottom || kind === 'sent') list.scrollTop = list.scrollHeight;
  return el;
}

function showStatus(connected, detail = '') {
  ui.indicator.classList.toggle('connected', connected);
  ui.indicator.classList.toggle('disconnected', !connected);
  ui.statusText.textContent = t(connected ? 'connected' : 'disconnected');
  ui.statusDetail.textContent = detail;
}

function markPending(id, el) {
  el.classList.add('pending');
  el.dataset.pendingLabel = t('pending');
  pendingById.set(id, el);
}

function markSent(id) {
  const el = pendingById.get(id);
  if (!el) return;
  pendingById.delete(id);
  el.classList.remove('pending');
  delete el.dataset.pendingLabel;
}

function handleState(state, info) {
  if (state === 'open') {
    showStatus(true);
    addMessage('system', t('noticeConnected'));
  } else if (state === 'connecting') {
    showStatus(false, t('connecting'));
  } else {
    // Announce the loss once; the failed retries that follow only update the status line.
    if (info.wasOpen) addMessage('system', t('noticeDisconnected'));
    const retry = info.retryInMs == null ? '' : t('reconnectIn', Math.ceil(info.retryInMs / 1000));
    showStatus(false, retry);
  }
}

function sendTyped(connection) {
  const text = ui.input.value.trim();
  if (!text) return;
  const { id, sent } = connection.send(text);
  const el = addMessage('sent', text);
  if (!sent) markPending(id, el);
  ui.input.value = '';
}

function showRoom(room) {
  document.title = room ? `${t('documentTitle')} · ${room}` : t('documentTitle');
  ui.roomName.hidden = !room;
  ui.roomName.textContent = room ? t('room', room) : '';
}

function main() {
  document.documentElement.lang = t('htmlLang');
  translatePage(document, t);
  const room = roomFromHash(location.hash);
  showRoom(room);

  const connection = new ChatConnection(socketUrl(location, room), {
    onState: handleState,
    onMessage: (text) => addMessage('received', text),
    onSent: markSent,
  });

  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    sendTyped(connection);
  });
  // Enter that confirms an IME composition (Chinese, Japanese…) picks the characters;
  // it must not also send. keyCode 229 covers browsers that clear isComposing early.
  ui.input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.isComposing || event.keyCode === 229)) event.preventDefault();
  });
  // Back online: no point waiting out the rest of a 30 s backoff.
  window.addEventListener('online', () => connection.retryNow());
  // Another room is another connection with other history: start over cleanly.
  window.addEventListener('hashchange', () => location.reload());

  connection.start();
  ui.input.focus();
}

main();
