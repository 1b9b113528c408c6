// The chat page: draws what parley-client.js reports, and turns what the user does
// into calls on it.
//
// - The room is in the URL hash (#general), so a link to the page is a link to the
//   room; the rooms joined and the name are kept in localStorage by the client.
// - Each room has its own message list (a RoomView); #messages shows the current one.
//   Messages are placed by msg_id; own messages not yet acked wait at the bottom.
//   After every change relayout() groups consecutive messages of one person (within
//   GROUP_WITHIN_MS) under one name and time, and puts a separator between days.
// - The list follows new messages while the reader is at the bottom ("stuck"), also
//   when the content grows by itself (fonts, CJK and emoji fallbacks, a taller input);
//   further up, the reader is left alone and a "new messages ↓" button appears.
// - Connection notices: one per outage, in the room shown when it began, updated in
//   place when the connection is back. Join/leave churn is merged: someone who leaves
//   and comes back within CHURN_WITHIN_MS (a reload) adds nothing.
// - Every user-supplied string (names, texts, room names) reaches the page through
//   textContent or as a text node (markdown.js only says which nodes to make); links
//   are <a> elements built from http(s) URLs only. Nothing is ever parsed as HTML.

import { ParleyClient } from './parley-client.js';
import { pickLanguage, translatePage, translator } from './i18n.js';
import { parseMarkdown } from './markdown.js';
import { ROOM_NAME, nameProblem, normalizeName, utf8Length } from './text.js';

const DEFAULT_ROOM = 'lobby';
// Within this many pixels of the bottom the list follows new messages.
const STICK_TO_BOTTOM_PX = 48;
// Scrolled this close to the top, the next older page is fetched.
const LOAD_OLDER_PX = 80;
// Messages of one person closer together than this share one name and time.
const GROUP_WITHIN_MS = 5 * 60 * 1000;
// Someone who leaves and is back within this time (a reload) is not announced twice.
const CHURN_WITHIN_MS = 2 * 60 * 1000;
const NOTIFY_KEY = 'parley.notify';
const PHONE = window.matchMedia('(max-width: 48rem)');

const t = translator(pickLanguage(navigator.language));
const locale = t('htmlLang');
const timeFormat = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(locale, { weekday: 'long', month: 'long', day: 'numeric' });
const yearDayFormat = new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'long', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'medium' });

const $ = (id) => document.getElementById(id);
const ui = {
  chat: $('chat'),
  messages: $('messages'),
  jump: $('jumpToNew'),
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
  themeToggle: $('themeToggle'),
  notifyToggle: $('notifyToggle'),
  panelToggle: $('panelToggle'),
  panelBadge: $('panelToggleBadge'),
  panelBackdrop: $('panelBackdrop'),
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
  leaveDialog: $('leaveDialog'),
  leaveTitle: $('leaveTitle'),
  leaveText: $('leaveText'),
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
    this.firstUnreadId = null; // the oldest message that arrived while the room was not seen
    this.divider = null;       // the "new messages" line, placed when the room is shown
    this.newBelow = 0;         // messages that arrived below while scrolled up
    this.members = [];         // [{ user, name, connections }] online
    this.gone = new Map();     // user → name: left during this visit, shown offline
    this.recentLeft = new Map(); // user → { el, at }: the notice of a recent leave
    this.typers = [];
    this.older = { hasOlder: false, loading: false };
    this.joined = false;
    this.you = null;
    this.takenNoticeFor = null; // the assigned name a "name taken" notice was shown for
    this.stuck = true;         // following the bottom
    this.fromBottom = 0;       // saved scroll position while another room is shown
  }
}

const views = new Map();
let current = null;
let client;
let firstName = false; // the name dialog is the first visit's

// The connection as the page shows it.
const link = {
  connected: false,
  everReady: false,   // a session began on this page at some point
  outage: null,       // { el, since } while disconnected after having been connected
  retryAt: null,      // when the next attempt starts (countdown)
  ticker: null,
};

// ---- Formatting -------------------------------------------------------------------

function dayKey(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

function dayLabel(ts) {
  const date = new Date(ts);
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(ts) === dayKey(today.getTime())) return t('today');
  if (dayKey(ts) === dayKey(yesterday.getTime())) return t('yesterday');
  return (date.getFullYear() === today.getFullYear() ? dayFormat : yearDayFormat).format(date);
}

function timeElement(ts) {
  if (!Number.isFinite(ts)) ts = Date.now();
  const el = element('time', 'message-time', timeFormat.format(new Date(ts)));
  el.dateTime = new Date(ts).toISOString();
  el.title = fullFormat.format(new Date(ts));
  return el;
}

/** One of 8 name colours, the same for a user id everywhere (FNV-1a of the id). */
function nameColour(user) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < user.length; i++) hash = Math.imul(hash ^ user.charCodeAt(i), 0x01000193);
  return `name-c${(hash >>> 0) % 8}`;
}

/** The name this user goes by in `room` (what @mentions of them look like). */
function myNameIn(room) {
  return views.get(room)?.you ?? client.name;
}

/** Whether `text` says @name (not as part of a longer word), case-insensitively. */
function mentions(text, name) {
  if (!name) return false;
  const lower = text.toLowerCase();
  const needle = `@${name.toLowerCase()}`;
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + 1)) {
    const after = lower.slice(at + needle.length, at + needle.length + 1);
    if (!/[\p{L}\p{N}_-]/u.test(after)) return true;
  }
  return false;
}

/** Text nodes of `text` with each @name in a highlighting <span>. */
function appendWithMentions(parent, text, name) {
  if (!mentions(text, name)) {
    parent.append(document.createTextNode(text));
    return;
  }
  const needle = `@${name}`;
  let rest = text;
  for (let at = rest.toLowerCase().indexOf(needle.toLowerCase()); at >= 0; at = rest.toLowerCase().indexOf(needle.toLowerCase())) {
    if (at > 0) parent.append(document.createTextNode(rest.slice(0, at)));
    parent.append(element('span', 'mention-name', rest.slice(at, at + needle.length)));
    rest = rest.slice(at + needle.length);
  }
  if (rest) parent.append(document.createTextNode(rest));
}

/** DOM nodes for markdown.js's tree: only elements named here, text only as text. */
function appendNodes(parent, nodes, name) {
  for (const node of nodes) {
    switch (node.type) {
      case 'text': appendWithMentions(parent, node.text, name); break;
      case 'code': parent.append(element('code', null, node.text)); break;
      case 'pre': {
        const pre = element('pre');
        pre.append(element('code', null, node.text));
        parent.append(pre);
        break;
      }
      case 'strong':
      case 'em': {
        const el = element(node.type);
        appendNodes(el, node.children, name);
        parent.append(el);
        break;
      }
      case 'link': {
        const a = element('a', 'message-link');
        a.href = node.href;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        appendNodes(a, node.children, name);
        parent.append(a);
        break;
      }
      default: break;
    }
  }
}

function textElement(text, mentionName = null) {
  const el = element('div', 'message-text');
  appendNodes(el, parseMarkdown(text), mentionName);
  return el;
}

// ---- Message list -------------------------------------------------------------------

function receivedElement(message, room) {
  const el = element('div', 'message message-received');
  el.dataset.msgId = String(message.msg_id);
  el.dataset.user = message.user;
  el.dataset.ts = String(message.ts);
  const name = myNameIn(room);
  if (mentions(message.text, name)) el.classList.add('mention');
  const meta = element('div', 'message-meta');
  meta.append(element('span', `message-from ${nameColour(message.user)}`, message.from), timeElement(message.ts));
  el.append(meta, textElement(message.text, name));
  return el;
}

/** An own message: pending (entry from the outbox) or sent (msg_id known). */
function ownElement({ id, text, ts, msgId, state, reason = null }) {
  const el = element('div', 'message message-sent');
  if (id) el.dataset.id = id;
  el.dataset.user = client.user ?? '';
  el.dataset.ts = String(Number.isFinite(ts) ? ts : Date.now());
  const meta = element('div', 'message-meta');
  const status = element('span', 'message-status');
  const why = element('span', 'message-reason');
  const retry = element('button', 'retry-button', t('retry'));
  retry.type = 'button';
  retry.addEventListener('click', () => client.retry(id));
  meta.append(timeElement(ts), status, why, retry);
  el.append(textElement(text), meta);
  setOwnState(el, state, reason, msgId, ts);
  return el;
}

/**
 * How an own message looks: 'sent' (no status), 'sending' (acked soon; shown only
 * after half a second), 'waiting' (amber: it will go when the connection is back, or
 * is being retried) or 'failed' (red: the server refused it; only Retry sends it).
 */
function lookOf(state, reason) {
  if (state === 'sent') return { look: 'sent', label: '' };
  if (state === 'pending') return link.connected ? { look: 'sending', label: t('sending') } : { look: 'waiting', label: t('waiting') };
  if (reason === 'timeout' || reason === 'internal') {
    return { look: 'waiting', label: link.connected ? t('retrying') : t('waiting') };
  }
  return { look: 'failed', label: t('notSent') };
}

function setOwnState(el, state, reason, msgId, ts) {
  el.dataset.state = state;
  el.dataset.reason = reason ?? '';
  el.classList.toggle('pending', state === 'pending');
  el.classList.toggle('failed', state === 'failed');
  const { look, label } = lookOf(state, reason);
  el.dataset.look = look;
  el.querySelector('.message-status').textContent = label;
  el.querySelector('.message-reason').textContent = look === 'failed' ? reasonLabel(reason) : '';
  el.querySelector('.retry-button').hidden = state !== 'failed';
  if (msgId !== undefined && msgId !== null) el.dataset.msgId = String(msgId);
  if (ts) {
    el.dataset.ts = String(ts);
    el.querySelector('.message-time').replaceWith(timeElement(ts));
  }
}

/** The connection changed: pending messages say "sending…" or "will send when connected". */
function refreshOwnStates() {
  for (const view of views.values()) {
    for (const el of view.pending.values()) setOwnState(el, el.dataset.state, el.dataset.reason || null);
  }
}

function reasonLabel(reason) {
  if (!reason) return '';
  const key = `reason_${reason}`;
  const label = t(key);
  return label === key ? t('reason_other', reason) : label;
}

function noticeElement(text) {
  const el = element('div', 'message message-system');
  el.dataset.ts = String(Date.now());
  el.append(element('span', 'message-text', text));
  return el;
}

function isAtBottom(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight <= STICK_TO_BOTTOM_PX;
}

function scrollToBottom() {
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

/**
 * Groups messages and puts day separators, in one pass over the room's list: O(n)
 * per batch of changes, which is fine for the few thousand messages a page holds.
 * A separator that is already in the right place is left alone (the list is an
 * aria-live log: a screen reader would announce every re-inserted "Today").
 */
function relayout(view) {
  const unused = new Map();
  for (const old of view.log.querySelectorAll(':scope > .day-separator')) unused.set(old.dataset.day, old);
  let previous = null; // the last chat message, for grouping
  let day = null;
  for (const el of [...view.log.children]) {
    if (el === view.divider) {
      previous = null;
      continue;
    }
    if (!el.classList.contains('message')) continue;
    const ts = Number(el.dataset.ts);
    const chat = !el.classList.contains('message-system');
    if (chat && Number.isFinite(ts) && dayKey(ts) !== day) {
      day = dayKey(ts);
      let separator = unused.get(day);
      unused.delete(day);
      if (!separator) {
        separator = element('div', 'day-separator');
        separator.dataset.day = day;
        separator.append(element('span'));
      }
      const label = dayLabel(ts); // "Today" becomes "Yesterday" at midnight
      if (separator.textContent !== label) separator.firstChild.textContent = label;
      const before = view.divider && view.divider.nextElementSibling === el ? view.divider : el;
      if (before.previousElementSibling !== separator) view.log.insertBefore(separator, before);
      previous = null;
    }
    const grouped = chat && previous !== null
      && previous.classList.contains('message-sent') === el.classList.contains('message-sent')
      && previous.dataset.user === el.dataset.user
      && Math.abs(ts - Number(previous.dataset.ts)) < GROUP_WITHIN_MS;
    el.classList.toggle('grouped', grouped);
    previous = chat ? el : null;
  }
  for (const stale of unused.values()) stale.remove();
}

/**
 * The first message in view, and how far below the list's top it is. Only messages:
 * the top line stays above whatever is inserted under it, and day lines are rebuilt.
 */
function anchorOf(view) {
  const top = ui.messages.getBoundingClientRect().top;
  for (const el of view.log.children) {
    if (!el.dataset.msgId && !el.dataset.id) continue; // chat messages only
    const box = el.getBoundingClientRect();
    if (box.bottom > top) return { el, offset: box.top - top };
  }
  return null;
}

/**
 * Runs `change` on a view's list keeping the reader's place: a list that follows the
 * bottom stays at the bottom (or goes there when `toBottom`); otherwise the element
 * at the top of the view stays where it is, whether messages are added above it
 * (older pages, a catch-up) or below it (new ones).
 */
function keepingScroll(view, change, toBottom = false) {
  if (view.name !== current) {
    change();
    relayout(view);
    return;
  }
  const list = ui.messages;
  // Measured now, not the flag of the last scroll event: a wheel or a fling may have
  // moved the list since, and the flag would pull a reader of history to the bottom.
  const follow = toBottom || isAtBottom(list);
  const anchor = follow ? null : anchorOf(view);
  change();
  relayout(view);
  view.stuck = follow;
  if (follow) {
    scrollToBottom();
  } else if (anchor?.el.isConnected) {
    list.scrollTop += anchor.el.getBoundingClientRect().top - list.getBoundingClientRect().top - anchor.offset;
  }
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
    // Older than a message that notices (or the unread line) precede: go above them too.
    while (next && (next.previousElementSibling?.classList.contains('message-system')
      || next.previousElementSibling?.classList.contains('day-separator')
      || next.previousElementSibling === view.divider)) {
      next = next.previousElementSibling;
    }
  }
  view.log.insertBefore(el, next ?? firstPending);
  view.minId = Math.min(view.minId, msgId);
  view.maxId = Math.max(view.maxId, msgId);
}

function addNotice(view, text) {
  const el = noticeElement(text);
  keepingScroll(view, () => {
    const firstPending = view.log.querySelector('.message-sent.pending, .message-sent.failed');
    view.log.insertBefore(el, firstPending);
  });
  return el;
}

function removeNotice(view, el) {
  if (!el.isConnected) return;
  keepingScroll(view, () => el.remove());
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
        : receivedElement(message, room);
      if (message.own) el.dataset.user = message.user;
      placeByMsgId(view, el, message.msg_id);
    }
  });
  if (how === 'live' || how === 'newer') {
    const fromOthers = messages.filter((m) => !m.own);
    if (fromOthers.length > 0) {
      if (room !== current || document.hidden) {
        view.unread += fromOthers.length;
        const oldest = Math.min(...fromOthers.map((m) => m.msg_id));
        if (view.firstUnreadId === null || oldest < view.firstUnreadId) view.firstUnreadId = oldest;
        renderUnread();
      } else if (!view.stuck) {
        view.newBelow += fromOthers.length;
        renderJump();
      }
      notify(room, fromOthers);
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
      if (el) keepingScroll(view, () => el.remove());
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
    el = ownElement({ id: entry.id, text: entry.text, ts: entry.created, state: entry.state, reason: entry.reason });
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

function renderJump() {
  const view = views.get(current);
  const show = !!view && !view.stuck && (view.newBelow > 0 || ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight > ui.messages.clientHeight * 2);
  ui.jump.hidden = !show;
  if (show) ui.jump.textContent = t('jumpToNew', view.newBelow);
}

function handleScroll() {
  const view = views.get(current);
  if (!view) return;
  view.stuck = isAtBottom(ui.messages);
  if (view.stuck) view.newBelow = 0;
  renderJump();
  maybeLoadOlder();
}

/** The "new messages" line above the first message that arrived while away. */
function placeUnreadDivider(view) {
  view.divider?.remove();
  view.divider = null;
  if (view.firstUnreadId === null) return;
  let target = view.byMsgId.get(view.firstUnreadId);
  if (!target) {
    for (const [id, el] of view.byMsgId) {
      if (id > view.firstUnreadId && (!target || id < Number(target.dataset.msgId))) target = el;
    }
  }
  view.firstUnreadId = null;
  if (!target) return;
  view.divider = element('div', 'unread-divider');
  view.divider.setAttribute('role', 'separator');
  view.divider.append(element('span', null, t('unreadDivider')));
  view.log.insertBefore(view.divider, target);
  relayout(view);
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

const resizes = new ResizeObserver(() => {
  const view = views.get(current);
  if (view?.stuck) scrollToBottom();
});

function show(room) {
  const previous = views.get(current);
  if (previous && current !== room) {
    previous.fromBottom = ui.messages.scrollHeight - ui.messages.scrollTop;
    resizes.unobserve(previous.log);
  }
  const view = viewFor(room);
  const changed = current !== room;
  current = room;
  ui.messages.replaceChildren(view.log);
  ui.messages.setAttribute('aria-label', t('messagesLabel', room));
  resizes.observe(view.log);
  if (changed) {
    view.newBelow = 0;
    if (!document.hidden) placeUnreadDivider(view);
    scrollIntoPlace(view);
  }
  if (!document.hidden) view.unread = 0;
  ui.roomName.hidden = false;
  ui.roomName.textContent = t('room', room);
  renderRoomList();
  renderMembers();
  renderTyping();
  renderUnread();
  renderName();
  renderJump();
  maybeLoadOlder();
}

/** On showing a room: at its unread line if that is above the fold, else where it was. */
function scrollIntoPlace(view) {
  const list = ui.messages;
  if (view.divider) {
    const offset = view.divider.offsetTop - list.offsetTop;
    if (offset < list.scrollHeight - list.clientHeight) {
      list.scrollTop = Math.max(0, offset - list.clientHeight / 4);
      view.stuck = isAtBottom(list);
      return;
    }
  }
  if (view.stuck) scrollToBottom();
  else list.scrollTop = list.scrollHeight - view.fromBottom;
}

function renderRoomList() {
  const items = client.rooms.map((room) => {
    const view = viewFor(room);
    const li = element('li', 'room-item');
    li.dataset.room = room;
    const a = element('a', 'room-link');
    a.href = `#${room}`;
    if (room === current) a.setAttribute('aria-current', 'page');
    const badge = element('span', 'unread-badge', view.unread > 0 ? String(view.unread) : '');
    badge.hidden = view.unread === 0;
    if (view.unread > 0) badge.setAttribute('aria-label', t('unread', view.unread));
    a.append(element('span', 'room-link-name', t('room', room)), badge);
    const leave = element('button', 'room-leave', '×');
    leave.type = 'button';
    leave.title = t('leaveRoom', room);
    leave.setAttribute('aria-label', t('leaveRoom', room));
    leave.addEventListener('click', () => leaveRoom(room));
    li.append(a, leave);
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
  const nameEl = element('span', `member-name ${nameColour(user)}`, name);
  nameEl.title = name;
  li.append(element('span', `presence-dot ${online ? 'online' : 'offline'}`), nameEl);
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
  const name = myNameIn(current);
  ui.myName.textContent = name;
  ui.nameButton.hidden = !name;
  ui.nameButton.setAttribute('aria-label', t('nameButtonLabel', name));
}

function goToRoom(room) {
  if (location.hash === `#${room}`) show(room);
  else location.hash = room;
}

/** Leaves `room`, asking first when it holds messages that are not sent yet. */
function leaveRoom(room) {
  const unsent = client.unsentIn(room);
  if (unsent === 0) {
    finishLeaving(room, false);
    return;
  }
  ui.leaveTitle.textContent = t('leaveTitle', room);
  ui.leaveText.textContent = t('leaveText', unsent);
  ui.leaveDialog.returnValue = '';
  ui.leaveDialog.onclose = () => {
    if (ui.leaveDialog.returnValue === 'discard') finishLeaving(room, true);
  };
  ui.leaveDialog.showModal();
}

function finishLeaving(room, discard) {
  if (client.leave(room, { discard }) !== true) return;
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

function setPanelOpen(open, { returnFocus = false } = {}) {
  const wasOpen = ui.chat.classList.contains('panel-open');
  ui.chat.classList.toggle('panel-open', open);
  ui.panelToggle.setAttribute('aria-expanded', String(open));
  if (open && !wasOpen && PHONE.matches) {
    // After the slide starts: focus moves into the panel, to the current room.
    (ui.roomList.querySelector('[aria-current="page"]') ?? ui.roomInput).focus({ preventScroll: true });
  } else if (!open && wasOpen && returnFocus) {
    ui.panelToggle.focus();
  }
}

// ---- Status ---------------------------------------------------------------------------

function showStatus(connected, detail = '', canReconnect = false) {
  link.connected = connected;
  ui.indicator.classList.toggle('connected', connected);
  ui.indicator.classList.toggle('disconnected', !connected);
  ui.statusText.textContent = t(connected ? 'connected' : 'disconnected');
  ui.statusDetail.textContent = detail;
  ui.reconnect.hidden = !canReconnect;
  // Presence is unknown while disconnected: the member list is shown greyed out.
  ui.chat.classList.toggle('is-offline', !connected);
  refreshOwnStates();
}

/** "reconnecting in N s", counted down every second until the attempt starts. */
function tickCountdown() {
  clearTimeout(link.ticker);
  link.ticker = null;
  if (link.retryAt === null) return;
  const left = Math.max(0, link.retryAt - Date.now());
  ui.statusDetail.textContent = navigator.onLine === false ? t('offline') : t('reconnectIn', Math.ceil(left / 1000));
  // A screen reader hears "Disconnected" once, not every second of the count.
  ui.statusDetail.setAttribute('aria-hidden', 'true');
  if (left > 0) link.ticker = setTimeout(tickCountdown, (left % 1000) || 1000);
}

function stopCountdown() {
  link.retryAt = null;
  clearTimeout(link.ticker);
  link.ticker = null;
  ui.statusDetail.removeAttribute('aria-hidden');
}

function handleStatus(state, info) {
  if (state === 'ready') {
    stopCountdown();
    showStatus(true);
    const view = views.get(current);
    if (!link.everReady) {
      link.everReady = true;
      if (view) addNotice(view, t('noticeConnected'));
    } else if (link.outage) {
      const { el, since } = link.outage;
      el.querySelector('.message-text').textContent =
        t('noticeReconnected', timeFormat.format(new Date(since)), timeFormat.format(new Date()));
    }
    link.outage = null;
  } else if (state === 'connecting' || state === 'open') {
    stopCountdown();
    // The button stays put between attempts (no flicker under the pointer).
    showStatus(false, t('connecting'), !ui.reconnect.hidden);
  } else if (state === 'closed') {
    // One notice per outage, however many retries fail before the connection is back.
    if (info.wasOpen && link.everReady && !link.outage) {
      const view = views.get(current);
      if (view) link.outage = { el: addNotice(view, t('noticeDisconnected')), since: Date.now() };
    }
    if (info.retryInMs == null) {
      stopCountdown();
      showStatus(false, info.code && info.code !== 1000 ? t('closedBy', info.code) : '', true);
    } else {
      showStatus(false, '', true);
      link.retryAt = info.retryAt ?? Date.now() + info.retryInMs;
      tickCountdown();
    }
  }
}

// ---- Notifications ----------------------------------------------------------------------

function notificationsOn() {
  return 'Notification' in window && Notification.permission === 'granted' && localStorage.getItem(NOTIFY_KEY) === '1';
}

function renderNotifyToggle() {
  const supported = 'Notification' in window;
  ui.notifyToggle.hidden = !supported;
  if (!supported) return;
  ui.notifyToggle.setAttribute('aria-pressed', String(notificationsOn()));
  const label = Notification.permission === 'denied' ? t('notificationsBlocked') : t('notifications');
  ui.notifyToggle.title = label;
  ui.notifyToggle.setAttribute('aria-label', label);
}

async function toggleNotifications() {
  if (notificationsOn()) {
    localStorage.removeItem(NOTIFY_KEY);
  } else {
    const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
    if (permission === 'granted') localStorage.setItem(NOTIFY_KEY, '1');
  }
  renderNotifyToggle();
}

/** A desktop notification for messages that name this user, or any while the tab is hidden. */
function notify(room, messages) {
  if (!notificationsOn()) return;
  const name = myNameIn(room);
  const worth = messages.filter((m) => document.hidden || mentions(m.text, name));
  const last = worth.at(-1);
  if (!last) return;
  const title = mentions(last.text, name) ? t('notifyMention', last.from, room) : t('notifyMessage', last.from, room);
  const shown = new Notification(title, { body: last.text.slice(0, 200), tag: `parley-${room}` });
  shown.onclick = () => {
    window.focus();
    goToRoom(room);
    shown.close();
  };
}

// ---- Names ----------------------------------------------------------------------------------

function openNameDialog(errorKey = null) {
  ui.nameInput.value = myNameIn(current);
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

function fitInput() {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${ui.input.scrollHeight + 2}px`;
}

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
  fitInput();
}

// ---- Wiring ----------------------------------------------------------------------------------

function handleError(error) {
  if (error.code === 'name_invalid') {
    firstName = error.ref === 'hello';
    openNameDialog('name_server');
  } else if (error.ref === 'join' && error.room && !client.hasRoom(error.room)) {
    const view = views.get(current);
    if (view && error.room !== current) addNotice(view, t('noticeJoinFailed', error.room, error.code));
    if (views.has(error.room)) finishLeaving(error.room, true);
  } else {
    console.warn('parley error', error);
  }
}

function handleJoined(room, { you, asked, reset }) {
  const view = views.get(room);
  if (!view) return;
  view.you = you;
  view.log.dataset.joined = 'true';
  if (reset) {
    keepingScroll(view, () => {
      for (const el of view.byMsgId.values()) el.remove();
    });
    view.byMsgId.clear();
    view.minId = Infinity;
    view.maxId = -Infinity;
    addNotice(view, t('noticeHistoryReset'));
  }
  // The server gives a taken name a suffix ("Hana-2"): say so, once per name.
  if (you !== asked && view.takenNoticeFor !== you) {
    view.takenNoticeFor = you;
    addNotice(view, t('noticeNameTaken', asked, you));
  }
  if (room === current) renderName();
}

function handlePresence(room, event, { users, person }) {
  const view = views.get(room);
  if (!view) return;
  if (event.event === 'renamed') {
    addNotice(view, t('noticeRenamed', event.old, event.name));
    if (event.user === client.user) view.you = event.name;
  } else if (person === 'joined') {
    const left = view.recentLeft.get(event.user);
    view.recentLeft.delete(event.user);
    if (left && Date.now() - left.at < CHURN_WITHIN_MS && left.el.isConnected) {
      removeNotice(view, left.el); // back within moments (a reload): no left/joined pair
    } else {
      addNotice(view, t('noticeJoined', event.name, users));
    }
  } else if (person === 'left') {
    view.gone.set(event.user, event.name); // shown only while not online
    view.recentLeft.set(event.user, { el: addNotice(view, t('noticeLeft', event.name, users)), at: Date.now() });
  }
  if (room === current) {
    renderMembers();
    renderName();
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
      joined: handleJoined,
      messages: drawMessages,
      outbox: drawOutbox,
      members: (room, members) => {
        const view = views.get(room);
        if (!view) return;
        view.members = members;
        for (const member of members) view.gone.delete(member.user);
        if (room === current) renderMembers();
      },
      presence: handlePresence,
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

function renderThemeToggle() {
  ui.themeToggle.setAttribute('aria-pressed', String(window.parleyTheme?.get() === 'dark'));
}

function toggleTheme() {
  const next = window.parleyTheme.get() === 'dark' ? 'light' : 'dark';
  const system = window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  // Choosing what the system says means "follow the system" again.
  window.parleyTheme.set(next === system ? null : next);
}

function wireInput() {
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    sendTyped();
    ui.input.focus();
  });
  ui.input.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    // Enter that confirms an IME composition (Chinese, Japanese…) picks the characters;
    // it must not also send. keyCode 229 covers browsers that clear isComposing early.
    if (event.isComposing || event.keyCode === 229) {
      event.preventDefault();
      return;
    }
    if (event.shiftKey) return; // a new line
    event.preventDefault();
    sendTyped();
  });
  ui.input.addEventListener('input', () => {
    ui.inputError.hidden = true;
    fitInput();
    if (ui.input.value.trim() && current) client.typing(current);
  });
  ui.messages.addEventListener('scroll', handleScroll, { passive: true });
  new ResizeObserver(() => {
    const view = views.get(current);
    if (view?.stuck) scrollToBottom();
  }).observe(ui.messages);
  ui.jump.addEventListener('click', () => {
    const view = views.get(current);
    if (view) view.stuck = true;
    scrollToBottom();
    ui.input.focus();
  });
}

function wirePanel() {
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
    setPanelOpen(false);
    ui.input.focus(); // ready to write in the room just joined
  });
  ui.roomInput.addEventListener('input', () => { ui.roomError.hidden = true; });
  ui.panelToggle.addEventListener('click', () =>
    setPanelOpen(!ui.chat.classList.contains('panel-open'), { returnFocus: true }));
  ui.panelBackdrop.addEventListener('click', () => setPanelOpen(false, { returnFocus: true }));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && ui.chat.classList.contains('panel-open') && !document.querySelector('dialog[open]')) {
      setPanelOpen(false, { returnFocus: true });
    }
  });
}

function wireConnection() {
  ui.reconnect.addEventListener('click', () => client.reconnectNow());
  // Back online, back to the tab: no point waiting out the rest of a backoff.
  // (Never after a fatal close: only the Reconnect button restarts that.)
  window.addEventListener('online', () => client.wake());
  window.addEventListener('focus', () => client.wake());
  window.addEventListener('pageshow', () => client.wake());
  // Offline: a socket on a dead network can look open for minutes; say so now.
  window.addEventListener('offline', () => client.disconnect());
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    client.wake();
    const view = views.get(current);
    if (view && view.unread > 0) {
      view.unread = 0;
      placeUnreadDivider(view);
      renderUnread();
    }
  });
}

function main() {
  document.documentElement.lang = locale;
  translatePage(document, t);
  connect();
  wireInput();
  wirePanel();
  wireConnection();

  ui.nameButton.addEventListener('click', () => openNameDialog());
  ui.nameForm.addEventListener('submit', (event) => {
    event.preventDefault();
    submitName();
  });
  // Escape may close "change name", not the first visit's dialog: a name is needed.
  ui.nameDialog.addEventListener('cancel', (event) => {
    if (firstName) event.preventDefault();
  });
  ui.themeToggle.addEventListener('click', toggleTheme);
  window.addEventListener('parley-theme', renderThemeToggle);
  renderThemeToggle();
  ui.notifyToggle.addEventListener('click', toggleNotifications);
  renderNotifyToggle();
  window.addEventListener('hashchange', handleHash);

  if (!roomFromHash(location.hash) && !client.hasRoom(DEFAULT_ROOM)) client.join(DEFAULT_ROOM);
  handleHash();

  if (client.name) {
    client.start();
    ui.input.focus();
  } else {
    firstName = true;
    openNameDialog();
  }
  // The app shell works offline after the first visit (sw.js). Only on a secure
  // context (https, or http://localhost / 127.0.0.1) can a page have one.
  if ('serviceWorker' in navigator && window.isSecureContext) {
    navigator.serviceWorker.register('/sw.js').catch((error) => console.warn('parley: no offline shell', error));
  }
}

main();
