// The chat page: draws what parley-client.js reports, and turns what the user does
// into calls on it.
//
// - The room is in the URL hash (#general), so a link to the page is a link to the
//   room; the rooms joined and the name are kept in localStorage by the client.
// - Each room has its own message list (a RoomView); #messages shows the current one.
//   Messages are placed by msg_id; own messages not yet acked wait at the bottom.
// - Every user-supplied string (names, texts, room names) reaches the page through
//   textContent or as a text node; links are <a> elements built from http(s) URLs
//   only. Nothing is ever parsed as HTML.

import { ParleyClient } from './parley-client.js';
import { pickLanguage, translatePage, translator } from './i18n.js';
import { ROOM_NAME, linkify, nameProblem, normalizeName, utf8Length } from './text.js';

const DEFAULT_ROOM = 'lobby';
// Within this many pixels of the bottom the list follows new messages; further up,
// the reader is looking at history and is left alone.
const STICK_TO_BOTTOM_PX = 48;
// Scrolled this close to the top, the next older page is fetched.
const LOAD_OLDER_PX = 80;

const t = translator(pickLanguage(navigator.language));
const locale = t('htmlLang');
const timeFormat = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'medium' });

const $ = (id) => document.getElementById(id);
const ui = {
  chat: $('chat'),
  messages: $('messages'),
  form: $('inputArea'),
  input: $('messageInput'),
  inputError: $('inputError'),
  indicator: $('statusIndicator'),
  statusText: $('statusText'),
  statusDetail: $('statusDetail'),
  reconnect: $('reconnectButton'),
  roomName: $('roomName'),
  myName: $('myName'),
  nameButton: $('nameButton'),
  panelToggle: $('panelToggle'),
  panelBadge: $('panelToggleBadge'),
  sidePanel: $('sidePanel'),
  roomList: $('roomList'),
  joinRoomForm: $('joinRoomForm'),
  roomInput: $('roomInput'),
  roomError: $('roomError'),
  memberList: $('memberList'),
  memberCount: $('memberCount'),
  typing: $('typingIndicator'),
  nameDialog: $('nameDialog'),
  nameForm: $('nameForm'),
  nameInput: $('nameInput'),
  nameError: $('nameError'),
  nameSubmit: $('nameSubmit'),
};

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** What one room looks like on this page. */
class RoomView {
  constructor(name) {
    this.name = name;
    this.log = element('div', 'room-log');
    this.log.dataset.room = name;
    this.top = element('div', 'log-top');
    this.log.append(this.top);
    this.byMsgId = new Map();  // msg_id → element
    this.pending = new Map();  // client id → own element not yet acked
    this.minId = Infinity;
    this.maxId = -Infinity;
    this.unread = 0;
    this.members = [];         // [{ user, name, connections }] online
    this.gone = new Map();     // user → name: left during this visit, shown offline
    this.typers = [];
    this.older = { hasOlder: false, loading: false };
    this.joined = false;
    this.you = null;
    this.fromBottom = 0;       // saved scroll position while another room is shown
  }
}

const views = new Map();
let current = null;
let client;
let firstName = false; // the name dialog is the first visit's

// ---- Formatting -------------------------------------------------------------------

function formatTime(ts) {
  const date = new Date(ts);
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay ? timeFormat.format(date) : `${dayFormat.format(date)} ${timeFormat.format(date)}`;
}

function timeElement(ts) {
  if (!Number.isFinite(ts)) ts = Date.now();
  const el = element('time', 'message-time', formatTime(ts));
  el.dateTime = new Date(ts).toISOString();
  el.title = fullFormat.format(new Date(ts));
  return el;
}

/** The text as text nodes, with http(s) URLs as links that open in a new tab. */
function textElement(text) {
  const el = element('div', 'message-text');
  for (const piece of linkify(text)) {
    if (piece.href) {
      const a = element('a', 'message-link', piece.text);
      a.href = piece.href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      el.append(a);
    } else {
      el.append(document.createTextNode(piece.text));
    }
  }
  return el;
}

// ---- Message list -------------------------------------------------------------------

function receivedElement(message) {
  const el = element('div', 'message message-received');
  el.dataset.msgId = String(message.msg_id);
  el.dataset.user = message.user;
  const meta = element('div', 'message-meta');
  meta.append(element('span', 'message-from', message.from), timeElement(message.ts));
  el.append(meta, textElement(message.text));
  return el;
}

/** An own message: pending (entry from the outbox) or sent (msg_id known). */
function ownElement({ id, text, ts, msgId, state }) {
  const el = element('div', 'message message-sent');
  if (id) el.dataset.id = id;
  const meta = element('div', 'message-meta');
  const status = element('span', 'message-status');
  const reason = element('span', 'message-reason');
  const retry = element('button', 'retry-button', t('retry'));
  retry.type = 'button';
  retry.addEventListener('click', () => client.retry(id));
  meta.append(timeElement(ts), status, reason, retry);
  el.append(textElement(text), meta);
  setOwnState(el, state, null, msgId, ts);
  return el;
}

function setOwnState(el, state, reason, msgId, ts) {
  el.dataset.state = state;
  el.classList.toggle('pending', state === 'pending');
  el.classList.toggle('failed', state === 'failed');
  el.querySelector('.message-status').textContent = t(state);
  const reasonText = state === 'failed' ? reasonLabel(reason) : '';
  el.querySelector('.message-reason').textContent = reasonText;
  el.querySelector('.retry-button').hidden = state !== 'failed';
  if (msgId !== undefined && msgId !== null) el.dataset.msgId = String(msgId);
  if (ts) el.querySelector('.message-time').replaceWith(timeElement(ts));
}

function reasonLabel(reason) {
  if (!reason) return '';
  const key = `reason_${reason}`;
  const label = t(key);
  return label === key ? t('reason_other', reason) : label;
}

function noticeElement(text) {
  const el = element('div', 'message message-system');
  el.append(element('span', 'message-text', text));
  return el;
}

function isAtBottom(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight <= STICK_TO_BOTTOM_PX;
}

/**
 * Runs `change` on a view's list keeping the reader's place: a list that was at the
 * bottom stays at the bottom (or goes there when `toBottom`); otherwise the content
 * under the reader's eyes stays put, even when older messages are added above it.
 */
function keepingScroll(view, change, toBottom = false) {
  if (view.name !== current) {
    change();
    return;
  }
  const list = ui.messages;
  const atBottom = isAtBottom(list);
  const fromBottom = list.scrollHeight - list.scrollTop;
  change();
  if (atBottom || toBottom) list.scrollTop = list.scrollHeight;
  else list.scrollTop = list.scrollHeight - fromBottom;
}

/** Puts `el` where msg_id `msgId` belongs: ordered by msg_id, own pending ones last. */
function placeByMsgId(view, el, msgId) {
  view.byMsgId.set(msgId, el);
  const firstPending = view.log.querySelector('.message-sent.pending, .message-sent.failed');
  let next = null;
  if (msgId < view.maxId) {
    for (const child of view.log.children) {
      const id = child.dataset.msgId;
      if (id !== undefined && Number(id) > msgId && !view.pending.has(child.dataset.id)) {
        next = child;
        break;
      }
    }
    // Older than a message that notices precede: go above the notices too.
    while (next && next.previousElementSibling?.classList.contains('message-system')) {
      next = next.previousElementSibling;
    }
  }
  view.log.insertBefore(el, next ?? firstPending);
  view.minId = Math.min(view.minId, msgId);
  view.maxId = Math.max(view.maxId, msgId);
}

function addNotice(view, text) {
  keepingScroll(view, () => {
    const firstPending = view.log.querySelector('.message-sent.pending, .message-sent.failed');
    view.log.insertBefore(noticeElement(text), firstPending);
  });
}

function addNoticeEverywhere(text) {
  for (const view of views.values()) addNotice(view, text);
}

function drawMessages(room, messages, how) {
  const view = views.get(room);
  if (!view) return;
  if (how === 'join') view.joined = true;
  keepingScroll(view, () => {
    for (const message of messages) {
      if (view.byMsgId.has(message.msg_id)) continue;
      const el = message.own
        ? ownElement({ id: message.id, text: message.text, ts: message.ts, msgId: message.msg_id, state: 'sent' })
        : receivedElement(message);
      if (message.own) el.dataset.user = message.user;
      placeByMsgId(view, el, message.msg_id);
    }
  });
  if (how === 'live' || how === 'newer') {
    const fromOthers = messages.filter((m) => !m.own).length;
    if (fromOthers > 0 && (room !== current || document.hidden)) {
      view.unread += fromOthers;
      renderUnread();
    }
  }
  renderTop(view);
  if (room === current) maybeLoadOlder();
}

function drawOutbox(entry) {
  const view = views.get(entry.room);
  if (!view) return;
  let el = view.pending.get(entry.id);
  if (entry.state === 'sent') {
    view.pending.delete(entry.id);
    if (view.byMsgId.has(entry.msg_id)) {
      el?.remove();
      return;
    }
    keepingScroll(view, () => {
      if (!el) el = ownElement({ id: entry.id, text: entry.text, ts: entry.ts, state: 'sent' });
      el.remove();
      setOwnState(el, 'sent', null, entry.msg_id, entry.ts);
      placeByMsgId(view, el, entry.msg_id);
    });
    return;
  }
  if (!el) {
    el = ownElement({ id: entry.id, text: entry.text, ts: entry.created, state: entry.state });
    view.pending.set(entry.id, el);
    keepingScroll(view, () => view.log.append(el), true);
  }
  setOwnState(el, entry.state, entry.reason);
}

function renderTop(view) {
  const { hasOlder, loading } = view.older;
  view.top.textContent = loading ? t('loadingOlder') : (!hasOlder && view.joined ? t('beginning', view.name) : '');
  view.top.dataset.state = loading ? 'loading' : (hasOlder ? 'more' : 'beginning');
}

/** Fetches the previous page when the reader is near the top (or nothing scrolls yet). */
function maybeLoadOlder() {
  const view = views.get(current);
  if (!view || !view.older.hasOlder || view.older.loading) return;
  const list = ui.messages;
  if (list.scrollTop < LOAD_OLDER_PX || list.scrollHeight <= list.clientHeight) client.loadOlder(current);
}

// ---- Rooms, members, typing, unread -------------------------------------------------------

function roomFromHash(hash) {
  let name;
  try {
    name = decodeURIComponent(hash.replace(/^#/, ''));
  } catch {
    return null;
  }
  return ROOM_NAME.test(name) ? name : null;
}

function viewFor(room) {
  let view = views.get(room);
  if (!view) {
    view = new RoomView(room);
    views.set(room, view);
    for (const entry of client.outboxFor(room)) drawOutbox(entry);
  }
  return view;
}

function show(room) {
  const previous = views.get(current);
  if (previous && current !== room) previous.fromBottom = ui.messages.scrollHeight - ui.messages.scrollTop;
  const view = viewFor(room);
  const changed = current !== room;
  current = room;
  ui.messages.replaceChildren(view.log);
  if (changed) ui.messages.scrollTop = view.fromBottom ? ui.messages.scrollHeight - view.fromBottom : ui.messages.scrollHeight;
  if (!document.hidden) view.unread = 0;
  ui.roomName.hidden = false;
  ui.roomName.textContent = t('room', room);
  renderRoomList();
  renderMembers();
  renderTyping();
  renderUnread();
  renderName();
  maybeLoadOlder();
}

function renderRoomList() {
  const items = client.rooms.map((room) => {
    const view = viewFor(room);
    const li = element('li', 'room-item');
    li.dataset.room = room;
    const link = element('a', 'room-link');
    link.href = `#${room}`;
    if (room === current) link.setAttribute('aria-current', 'page');
    const badge = element('span', 'unread-badge', view.unread > 0 ? String(view.unread) : '');
    badge.hidden = view.unread === 0;
    if (view.unread > 0) badge.setAttribute('aria-label', t('unread', view.unread));
    link.append(element('span', 'room-link-name', t('room', room)), badge);
    const leave = element('button', 'room-leave', '×');
    leave.type = 'button';
    leave.title = t('leaveRoom', room);
    leave.setAttribute('aria-label', t('leaveRoom', room));
    leave.addEventListener('click', () => leaveRoom(room));
    li.append(link, leave);
    return li;
  });
  ui.roomList.replaceChildren(...items);
}

function renderUnread() {
  const total = [...views.values()].reduce((sum, view) => sum + view.unread, 0);
  const base = current ? `${t('room', current)} · ${t('documentTitle')}` : t('documentTitle');
  document.title = total > 0 ? `(${total}) ${base}` : base;
  ui.panelBadge.hidden = total === 0;
  ui.panelBadge.textContent = total > 0 ? String(total) : '';
  renderRoomList();
}

function renderMembers() {
  const view = views.get(current);
  if (!view) return;
  const me = client.user;
  const online = [...view.members].sort((a, b) => (a.user === me ? -1 : b.user === me ? 1 : a.name.localeCompare(b.name)));
  const items = online.map((member) => memberItem(member.user, member.name, true, member.user === me));
  for (const [user, name] of view.gone) {
    if (!view.members.some((m) => m.user === user)) items.push(memberItem(user, name, false, false));
  }
  ui.memberList.replaceChildren(...items);
  ui.memberCount.textContent = `(${online.length})`;
}

function memberItem(user, name, online, isMe) {
  const li = element('li', `member ${online ? 'online' : 'offline'}`);
  li.dataset.user = user;
  li.dataset.online = String(online);
  const nameEl = element("span", "member-name", name);
  nameEl.title = name;
  li.append(element("span", `presence-dot ${online ? "online" : "offline"}`), nameEl);
  if (isMe) li.append(element('span', 'member-you', t('you')));
  return li;
}

function renderTyping() {
  const typers = views.get(current)?.typers ?? [];
  let text = '';
  if (typers.length === 1) text = t('typingOne', typers[0].name);
  else if (typers.length === 2) text = t('typingTwo', typers[0].name, typers[1].name);
  else if (typers.length > 2) text = t('typingMany');
  ui.typing.textContent = text;
  ui.typing.classList.toggle('active', text !== '');
}

function renderName() {
  const view = views.get(current);
  ui.myName.textContent = view?.you ?? client.name;
}

function goToRoom(room) {
  if (location.hash === `#${room}`) show(room);
  else location.hash = room;
}

function leaveRoom(room) {
  client.leave(room);
  views.delete(room);
  if (client.rooms.length === 0) client.join(DEFAULT_ROOM);
  if (room === current) {
    current = null;
    goToRoom(client.rooms[0]);
  } else {
    renderRoomList();
    renderUnread();
  }
}

function handleHash() {
  const room = roomFromHash(location.hash);
  if (!room) {
    history.replaceState(null, '', `#${current ?? DEFAULT_ROOM}`);
    if (!current) show(DEFAULT_ROOM);
    return;
  }
  if (!client.hasRoom(room)) client.join(room);
  show(room);
  setPanelOpen(false);
}

function setPanelOpen(open) {
  ui.chat.classList.toggle('panel-open', open);
  ui.panelToggle.setAttribute('aria-expanded', String(open));
}

// ---- Status ---------------------------------------------------------------------------

function showStatus(connected, detail = '', canReconnect = false) {
  ui.indicator.classList.toggle('connected', connected);
  ui.indicator.classList.toggle('disconnected', !connected);
  ui.statusText.textContent = t(connected ? 'connected' : 'disconnected');
  ui.statusDetail.textContent = detail;
  ui.reconnect.hidden = !canReconnect;
  // Presence is unknown while disconnected: the member list is shown greyed out.
  ui.chat.classList.toggle('is-offline', !connected);
}

function handleStatus(state, info) {
  if (state === 'ready') {
    showStatus(true);
    addNoticeEverywhere(t('noticeConnected'));
  } else if (state === 'connecting' || state === 'open') {
    showStatus(false, t('connecting'));
  } else if (state === 'closed') {
    // Announce the loss once; the failed retries that follow only update the status line.
    if (info.wasOpen) addNoticeEverywhere(t('noticeDisconnected'));
    if (info.retryInMs == null) showStatus(false, info.code && info.code !== 1000 ? t('closedBy', info.code) : '', true);
    else showStatus(false, t('reconnectIn', Math.ceil(info.retryInMs / 1000)));
  }
}

// ---- Names ----------------------------------------------------------------------------------

function openNameDialog(errorKey = null) {
  ui.nameInput.value = client.name;
  ui.nameError.hidden = !errorKey;
  ui.nameError.textContent = errorKey ? t(errorKey) : '';
  ui.nameSubmit.textContent = t(firstName ? 'nameStart' : 'nameChange');
  if (!ui.nameDialog.open) ui.nameDialog.showModal();
  ui.nameInput.focus();
}

function submitName() {
  const name = normalizeName(ui.nameInput.value);
  const problem = nameProblem(name);
  if (problem) {
    ui.nameError.hidden = false;
    ui.nameError.textContent = t(`name_${problem}`);
    return;
  }
  ui.nameDialog.close();
  client.setName(name);
  renderName();
  if (firstName || !client.isReady) {
    firstName = false;
    client.start();
  }
  ui.input.focus();
}

// ---- Sending ----------------------------------------------------------------------------------

function sendTyped() {
  const text = ui.input.value.trim();
  if (!text) return;
  const bytes = utf8Length(text);
  if (bytes > client.limits.max_text_bytes) {
    ui.inputError.hidden = false;
    ui.inputError.textContent = t('textTooLong', bytes, client.limits.max_text_bytes);
    return;
  }
  const entry = client.send(current, text);
  drawOutbox(entry);
  ui.input.value = '';
}

// ---- Wiring ----------------------------------------------------------------------------------

function handleError(error) {
  if (error.code === 'name_invalid') {
    firstName = error.ref === 'hello';
    openNameDialog('name_server');
  } else if (error.ref === 'join' && error.room && !client.hasRoom(error.room)) {
    const view = views.get(current);
    if (view && error.room !== current) addNotice(view, t('noticeJoinFailed', error.room, error.code));
    if (views.has(error.room)) leaveRoom(error.room);
  } else {
    console.warn('parley error', error);
  }
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  client = new ParleyClient(`${scheme}//${location.host}/ws`, {
    storage: localStorage,
    handlers: {
      status: handleStatus,
      welcome: () => renderName(),
      name: () => renderName(),
      joined: (room, { you, reset }) => {
        const view = views.get(room);
        if (!view) return;
        view.you = you;
        if (reset) {
          for (const el of view.byMsgId.values()) el.remove();
          view.byMsgId.clear();
          view.minId = Infinity;
          view.maxId = -Infinity;
          addNotice(view, t('noticeHistoryReset'));
        }
        if (room === current) renderName();
      },
      messages: drawMessages,
      outbox: drawOutbox,
      members: (room, members) => {
        const view = views.get(room);
        if (!view) return;
        view.members = members;
        for (const member of members) view.gone.delete(member.user);
        if (room === current) renderMembers();
      },
      presence: (room, event) => {
        const view = views.get(room);
        if (!view) return;
        if (event.event === 'joined') addNotice(view, t('noticeJoined', event.name, event.online));
        else if (event.event === 'left') {
          view.gone.set(event.user, event.name); // shown only while not online
          addNotice(view, t('noticeLeft', event.name, event.online));
        } else if (event.event === 'renamed') {
          addNotice(view, t('noticeRenamed', event.old, event.name));
          if (event.user === client.user) view.you = event.name;
        }
        if (room === current) renderMembers();
      },
      typing: (room, typers) => {
        const view = views.get(room);
        if (!view) return;
        view.typers = typers;
        if (room === current) renderTyping();
      },
      older: (room, state) => {
        const view = views.get(room);
        if (!view) return;
        view.older = state;
        renderTop(view);
      },
      error: handleError,
    },
  });
}

function main() {
  document.documentElement.lang = locale;
  translatePage(document, t);
  connect();

  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    sendTyped();
  });
  // Enter that confirms an IME composition (Chinese, Japanese…) picks the characters;
  // it must not also send. keyCode 229 covers browsers that clear isComposing early.
  ui.input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.isComposing || event.keyCode === 229)) event.preventDefault();
  });
  ui.input.addEventListener('input', () => {
    ui.inputError.hidden = true;
    if (ui.input.value.trim() && current) client.typing(current);
  });
  ui.messages.addEventListener('scroll', maybeLoadOlder, { passive: true });

  ui.joinRoomForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const room = ui.roomInput.value.trim().replace(/^#/, '');
    if (!ROOM_NAME.test(room)) {
      ui.roomError.hidden = false;
      ui.roomError.textContent = t('roomInvalid');
      return;
    }
    ui.roomError.hidden = true;
    ui.roomInput.value = '';
    goToRoom(room);
  });
  ui.roomInput.addEventListener('input', () => { ui.roomError.hidden = true; });

  ui.panelToggle.addEventListener('click', () => setPanelOpen(!ui.chat.classList.contains('panel-open')));
  ui.nameButton.addEventListener('click', () => openNameDialog());
  ui.nameForm.addEventListener('submit', (event) => {
    event.preventDefault();
    submitName();
  });
  // Escape may close "change name", not the first visit's dialog: a name is needed.
  ui.nameDialog.addEventListener('cancel', (event) => {
    if (firstName) event.preventDefault();
  });
  ui.reconnect.addEventListener('click', () => client.reconnectNow());
  // Back online: no point waiting out the rest of a 30 s backoff.
  window.addEventListener('online', () => client.reconnectNow());
  window.addEventListener('hashchange', handleHash);
  document.addEventListener('visibilitychange', () => {
    const view = views.get(current);
    if (!document.hidden && view && view.unread > 0) {
      view.unread = 0;
      renderUnread();
    }
  });

  if (!roomFromHash(location.hash) && !client.hasRoom(DEFAULT_ROOM)) client.join(DEFAULT_ROOM);
  handleHash();

  if (client.name) {
    client.start();
    ui.input.focus();
  } else {
    firstName = true;
    openNameDialog();
  }
}

main();
