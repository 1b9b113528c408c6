// The chat page: draws what parley-client.js reports, and turns what the user does
// into calls on it.
//
// - The room is in the URL hash (#general), so a link to the page is a link to the
//   room; the rooms joined and the name are kept in localStorage by the client. In
//   token mode (token.js) the hash may also carry the sign-in token, read once.
// - Each room has its own message list (a RoomView); #messages shows the current one.
//   Messages are placed by msg_id; own messages not yet acked wait at the bottom.
//   After every change relayout() groups consecutive messages of one person (within
//   GROUP_WITHIN_MS) under one name and time, and puts a separator between days.
//   message-view.js builds each message and rebuilds it in place when it changes
//   (edited, deleted, reactions), so the list never jumps.
// - A message far back (a reply's original, a search result) is fetched with the
//   history around it; the hole between it and the rest is a "gap" line that loads
//   the messages in between when it comes into view.
// - The list follows new messages while the reader is at the bottom ("stuck"), also
//   when the content grows by itself (fonts, CJK and emoji fallbacks, a taller input);
//   further up, the reader is left alone and a "new messages ↓" button appears.
// - Keyboard: Tab reaches the list; arrow keys move through its messages; a message
//   with the focus shows its actions (reply, react, edit, delete), which Tab reaches.
//   Up arrow in an empty message box edits the last own message (composer.js).
// - Connection notices: one per outage, in the room shown when it began, updated in
//   place when the connection is back. Join/leave churn is merged: someone who leaves
//   and comes back within CHURN_WITHIN_MS (a reload) adds nothing.
// - Every user-supplied string (names, texts, room names) reaches the page through
//   textContent or as a text node. Nothing is ever parsed as HTML.

import { uploadFile } from './attachments.js';
import { Composer } from './composer.js';
import { KICKED_CLOSE_CODE, chatUrl } from './connection.js';
import { DirectoryView } from './directory-view.js';
import { EmojiPicker } from './emoji-picker.js';
import { pickLanguage, translatePage, translator } from './i18n.js';
import { MessageView, element, mentions, nameColour } from './message-view.js';
import { ParleyClient } from './parley-client.js';
import { SearchView } from './search-view.js';
import { isRoomName, nameProblem, normalizeName, normalizeRoom } from './text.js';
import { globalToken, takeFragmentToken, tokenClaims, userStorage } from './token.js';

const DEFAULT_ROOM = 'lobby';
// Within this many pixels of the bottom the list follows new messages.
const STICK_TO_BOTTOM_PX = 48;
// Scrolled this close to the top, the next older page is fetched.
const LOAD_OLDER_PX = 80;
// A gap line this close to the view loads the messages it stands for.
const LOAD_GAP_PX = 200;
// Messages of one person closer together than this share one name and time.
const GROUP_WITHIN_MS = 5 * 60 * 1000;
// Someone who leaves and is back within this time (a reload) is not announced twice.
const CHURN_WITHIN_MS = 2 * 60 * 1000;
const FLASH_MS = 2000;
const NOTIFY_KEY = 'parley.notify';
const PHONE = window.matchMedia('(max-width: 48rem)');

const t = translator(pickLanguage(navigator.language));
const locale = t('htmlLang');
const dayFormat = new Intl.DateTimeFormat(locale, { weekday: 'long', month: 'long', day: 'numeric' });
const yearDayFormat = new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'long', day: 'numeric' });

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
  authBanner: $('authBanner'),
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
  membersMore: $('membersMore'),
  typing: $('typingIndicator'),
  nameDialog: $('nameDialog'),
  nameForm: $('nameForm'),
  nameInput: $('nameInput'),
  nameError: $('nameError'),
  nameSubmit: $('nameSubmit'),
  leaveDialog: $('leaveDialog'),
  leaveTitle: $('leaveTitle'),
  leaveText: $('leaveText'),
  deleteDialog: $('deleteDialog'),
};

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
    this.gaps = new Map();     // `after` of a hole → its gap line
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
    this.jumpTarget = null;    // msg_id to show once the page around it arrives
    this.jumped = false;       // the reader was taken up to a message (a quote, a search result)
  }
}

const views = new Map();
let current = null;
let client;
let firstName = false; // the name dialog is the first visit's
let nameFromToken = false;
let composer;
let search;
let directory;
let picker;

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

/** The name this user goes by in `room` (what @mentions of them look like). */
function myNameIn(room) {
  return views.get(room)?.you ?? client.name;
}

/** The names @mentions are highlighted for in `room`: the reader's, then the others'. */
function mentionNames(room) {
  const view = views.get(room);
  return [myNameIn(room), ...(view?.members ?? []).map((m) => m.name)];
}

// ---- Messages -------------------------------------------------------------------------

const messageView = new MessageView(t, locale, {
  reply: (el) => composer.reply(el.dataset.room, Number(el.dataset.msgId)),
  react: (el, button) => openPicker(el, button),
  toggle: (el, emoji) => toggleReaction(el.dataset.room, Number(el.dataset.msgId), emoji),
  edit: (el) => composer.edit(el.dataset.room, Number(el.dataset.msgId)),
  remove: (el) => confirmDelete(el.dataset.room, Number(el.dataset.msgId)),
  quote: (el, target) => jumpTo(el.dataset.room, target),
  retry: (id) => client.retry(id),
});

function renderContext(room, own) {
  return { room, own, me: myNameIn(room), names: mentionNames(room), user: client.user ?? '' };
}

/** A new element for a message view (from the client) or a pending own entry. */
function messageElement(room, message, own) {
  const el = messageView.create(message, renderContext(room, own));
  if (own) el.dataset.user = client.user ?? message.user ?? '';
  return el;
}

/** The connection changed: pending messages say "sending…" or "will send when connected". */
function refreshOwnStates() {
  for (const view of views.values()) {
    for (const el of view.pending.values()) messageView.setOwnState(el, el.dataset.state, el.dataset.reason || null, link.connected);
  }
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
    if (el === view.divider || el.classList.contains('gap-line')) {
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
 * (older pages, a catch-up) or below it (new ones), or change size.
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

/** Whether `el` is one of the lines that go with the message after them. */
function leadsNext(el, view) {
  return !!el && (el.classList.contains('message-system') || el.classList.contains('day-separator')
    || el.classList.contains('gap-line') || el === view.divider);
}

/** Puts `el` where msg_id `msgId` belongs: ordered by msg_id, own pending ones last. */
function placeByMsgId(view, el, msgId) {
  view.byMsgId.set(msgId, el);
  const firstPending = view.log.querySelector(':scope > .message-sent.pending, :scope > .message-sent.failed');
  let next = null;
  if (msgId < view.maxId) {
    next = firstMessageAfter(view, msgId);
    // Older than a message that notices (or the unread line, or a gap) precede: go
    // above them too.
    while (next && leadsNext(next.previousElementSibling, view)) next = next.previousElementSibling;
  }
  view.log.insertBefore(el, next ?? firstPending);
  view.minId = Math.min(view.minId, msgId);
  view.maxId = Math.max(view.maxId, msgId);
}

/** The element of the first message with a msg_id greater than `msgId` (not pending). */
function firstMessageAfter(view, msgId) {
  for (const child of view.log.children) {
    const id = child.dataset.msgId;
    if (id !== undefined && Number(id) > msgId && !view.pending.has(child.dataset.id)) return child;
  }
  return null;
}

function addNotice(view, text) {
  const el = noticeElement(text);
  keepingScroll(view, () => {
    const firstPending = view.log.querySelector(':scope > .message-sent.pending, :scope > .message-sent.failed');
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
      const el = messageElement(room, message, message.own);
      if (message.own) messageView.setOwnState(el, 'sent', null, link.connected);
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
  if (room === current) {
    maybeLoadOlder();
    maybeFillGaps();
  }
}

/** Messages on the page that look different now (edited, deleted, reactions, quotes). */
function drawChanged(room, changed) {
  const view = views.get(room);
  if (!view) return;
  keepingScroll(view, () => {
    for (const message of changed) {
      const el = view.byMsgId.get(message.msg_id);
      if (el) messageView.fill(el, message, renderContext(room, el.classList.contains('message-sent')));
      composer.messageChanged(room, message);
    }
  });
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
    const message = client.message(entry.room, entry.msg_id)
      ?? { msg_id: entry.msg_id, ts: entry.ts, id: entry.id, text: entry.text, reply_to: entry.quote ?? null, attachment: entry.attachment ?? null, own: true };
    keepingScroll(view, () => {
      if (el) {
        el.remove();
        messageView.fill(el, message, renderContext(entry.room, true));
      } else {
        el = messageElement(entry.room, message, true);
      }
      messageView.setOwnState(el, 'sent', null, link.connected);
      placeByMsgId(view, el, entry.msg_id);
    });
    return;
  }
  if (!el) {
    el = messageElement(entry.room, { id: entry.id, text: entry.text, ts: entry.created, reply_to: entry.quote ?? null, attachment: entry.attachment ?? null }, true);
    view.pending.set(entry.id, el);
    messageView.setOwnState(el, entry.state, entry.reason, link.connected);
    keepingScroll(view, () => view.log.append(el), true);
  }
  messageView.setOwnState(el, entry.state, entry.reason, link.connected);
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

/** The holes between the stretches of the room held: a line each, where they are. */
function drawGaps(room, gaps) {
  const view = views.get(room);
  if (!view) return;
  const wanted = new Set(gaps.map((g) => g.after));
  keepingScroll(view, () => {
    for (const [after, line] of view.gaps) {
      if (!wanted.has(after)) {
        line.remove();
        view.gaps.delete(after);
      }
    }
    for (const gap of gaps) {
      let line = view.gaps.get(gap.after);
      if (!line) {
        line = element('div', 'gap-line');
        line.dataset.after = String(gap.after);
        const button = element('button', 'gap-button');
        button.type = 'button';
        button.addEventListener('click', () => client.fillGap(room, gap.after));
        line.append(button);
        view.gaps.set(gap.after, line);
      }
      const button = line.firstChild;
      button.textContent = gap.loading ? t('loadingGap') : t('loadGap');
      button.disabled = gap.loading;
      const below = firstMessageAfter(view, gap.after);
      if (below && line.nextElementSibling !== below) view.log.insertBefore(line, below);
    }
  });
  if (room === current) maybeFillGaps();
}

/** A gap line in (or near) view loads the messages it stands for. */
function maybeFillGaps() {
  const view = views.get(current);
  if (!view || view.gaps.size === 0) return;
  const box = ui.messages.getBoundingClientRect();
  for (const [after, line] of view.gaps) {
    const at = line.getBoundingClientRect();
    if (at.bottom > box.top - LOAD_GAP_PX && at.top < box.bottom + LOAD_GAP_PX) client.fillGap(current, after);
  }
}

/**
 * Shows message `msgId` of `room` in the conversation: scrolled to and flashed,
 * after fetching the history around it when it is not on the page.
 */
function jumpTo(room, msgId) {
  const view = views.get(room);
  if (!view) return;
  if (room !== current) show(room);
  const answer = client.loadAround(room, msgId);
  if (answer === 'held') {
    reveal(view, msgId);
  } else if (answer === 'requested') {
    view.jumpTarget = msgId;
  } else if (answer === 'missing') {
    reveal(view, msgId);
    addNotice(view, t('jumpMissing'));
  } else {
    addNotice(view, t('jumpOffline'));
  }
}

function reveal(view, msgId) {
  let el = view.byMsgId.get(msgId);
  if (!el) {
    // Gone (retention): the nearest message after it, else before it.
    let best = null;
    for (const [id, candidate] of view.byMsgId) {
      const better = best === null || (id > msgId ? best[0] < msgId || id < best[0] : best[0] < msgId && id > best[0]);
      if (better) best = [id, candidate];
    }
    el = best?.[1];
  }
  if (!el || view.name !== current) return;
  el.scrollIntoView({ block: 'center' });
  view.stuck = isAtBottom(ui.messages);
  view.jumped = !view.stuck; // "back to the latest ↓" stays until the reader is back
  renderJump();
  el.classList.remove('flash');
  void el.offsetWidth; // restart the animation
  el.classList.add('flash');
  setTimeout(() => el.classList.remove('flash'), FLASH_MS);
  el.focus({ preventScroll: true });
}

function handleAround(room, { target, found }) {
  const view = views.get(room);
  if (!view || view.jumpTarget !== target) return;
  view.jumpTarget = null;
  reveal(view, target);
  if (!found) addNotice(view, t('jumpMissing'));
}

function renderJump() {
  const view = views.get(current);
  const show = !!view && !view.stuck && (view.newBelow > 0 || view.jumped || ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight > ui.messages.clientHeight * 2);
  ui.jump.hidden = !show;
  if (show) ui.jump.textContent = t('jumpToNew', view.newBelow);
}

function handleScroll() {
  const view = views.get(current);
  if (!view) return;
  view.stuck = isAtBottom(ui.messages);
  if (view.stuck) {
    view.newBelow = 0;
    view.jumped = false;
  }
  renderJump();
  maybeLoadOlder();
  maybeFillGaps();
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

// ---- Message actions -----------------------------------------------------------------

function openPicker(el, button) {
  const room = el.dataset.room;
  const msgId = Number(el.dataset.msgId);
  const message = client.message(room, msgId);
  const mine = new Set((message?.reactions ?? []).filter((r) => r.me).map((r) => r.emoji));
  picker.open(button, (emoji) => toggleReaction(room, msgId, emoji), mine);
}

function toggleReaction(room, msgId, emoji) {
  if (client.toggleReaction(room, msgId, emoji) === 'limit') {
    const view = views.get(room);
    if (view) addNotice(view, t('reactionLimit'));
  }
}

function confirmDelete(room, msgId) {
  ui.deleteDialog.returnValue = '';
  ui.deleteDialog.onclose = () => {
    if (ui.deleteDialog.returnValue === 'delete') client.deleteMessage(room, msgId);
    const el = views.get(room)?.byMsgId.get(msgId);
    (el?.isConnected ? el : ui.input).focus({ preventScroll: true });
  };
  ui.deleteDialog.showModal();
}

/** An own change the server refused for good: said in the room, the message is as before. */
function handleRefused(room, { kind, code }) {
  const view = views.get(room);
  if (!view) return;
  const key = `reason_${code}`;
  const why = t(key) === key ? t('reason_other', code) : t(key);
  addNotice(view, t('refusedNotice', t(`change_${kind}`), why));
}

/** Arrow keys move through the messages of the list; a focused message shows its actions. */
function wireMessageKeys() {
  ui.messages.addEventListener('keydown', (event) => {
    const step = { ArrowUp: -1, ArrowDown: 1, Home: -Infinity, End: Infinity }[event.key];
    if (step === undefined || event.altKey || event.ctrlKey || event.metaKey) return;
    const view = views.get(current);
    if (!view || event.target.closest('input, textarea')) return;
    const items = [...view.log.querySelectorAll(':scope > .message[data-msg-id], :scope > .message-sent[data-id]')];
    if (items.length === 0) return;
    const at = items.indexOf(document.activeElement?.closest('.message'));
    let next;
    if (step === -Infinity) next = 0;
    else if (step === Infinity) next = items.length - 1;
    else if (at < 0) next = step < 0 ? items.length - 1 : 0;
    else next = Math.min(items.length - 1, Math.max(0, at + step));
    event.preventDefault();
    items[next].focus({ preventScroll: true });
    items[next].scrollIntoView({ block: 'nearest' });
  });
  ui.messages.addEventListener('focusin', (event) => {
    const el = event.target.closest?.('.message');
    if (el) messageView.setControlsTabbable(el, true);
  });
  ui.messages.addEventListener('focusout', (event) => {
    const el = event.target.closest?.('.message');
    if (el && !el.contains(event.relatedTarget)) messageView.setControlsTabbable(el, false);
  });
  // A touch screen has no hover: a tap on a message shows its actions.
  ui.messages.addEventListener('click', (event) => {
    if (event.target.closest('a, button')) return;
    const el = event.target.closest('.message[data-msg-id]');
    for (const active of ui.messages.querySelectorAll('.message.active')) if (active !== el) active.classList.remove('active');
    el?.classList.toggle('active');
  });
}

// ---- Rooms, members, typing, unread -------------------------------------------------------

function roomFromHash(hash) {
  let name;
  try {
    name = decodeURIComponent(hash.replace(/^#/, '')).normalize('NFC');
  } catch {
    return null;
  }
  return isRoomName(name) ? name : null;
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
    composer.roomChanged();
    search.setRoom(room);
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
  maybeFillGaps();
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
    a.href = `#${encodeURIComponent(room)}`;
    if (room === current) a.setAttribute('aria-current', 'page');
    const badge = element('span', 'unread-badge', view.unread > 0 ? String(view.unread) : '');
    badge.hidden = view.unread === 0;
    if (view.unread > 0) badge.setAttribute('aria-label', t('unread', view.unread));
    const name = element('span', 'room-link-name', t('room', room));
    name.dir = 'auto';
    a.append(name, badge);
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
  const info = client.memberInfo(current);
  const online = [...view.members].sort((a, b) => (a.user === me ? -1 : b.user === me ? 1 : a.name.localeCompare(b.name)));
  const items = online.map((member) => memberItem(member.user, member.name, true, member.user === me));
  if (info.complete) {
    for (const [user, name] of view.gone) {
      if (!view.members.some((m) => m.user === user)) items.push(memberItem(user, name, false, false));
    }
  }
  ui.memberList.replaceChildren(...items);
  // A large room lists some of its people: the count is the server's.
  ui.memberCount.textContent = `(${info.complete ? online.length : info.users})`;
  ui.membersMore.hidden = info.complete;
  ui.membersMore.disabled = info.loading;
  ui.membersMore.textContent = t('membersMore', online.length, info.users);
}

function memberItem(user, name, online, isMe) {
  const li = element('li', `member ${online ? 'online' : 'offline'}`);
  li.dataset.user = user;
  li.dataset.online = String(online);
  const nameEl = element('span', `member-name ${nameColour(user)}`, name);
  nameEl.title = name;
  nameEl.dir = 'auto';
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
  ui.nameButton.disabled = nameFromToken;
  ui.nameButton.title = nameFromToken ? t('nameFromToken') : t('nameChange');
  ui.nameButton.setAttribute('aria-label', nameFromToken ? `${name}. ${t('nameFromToken')}` : t('nameButtonLabel', name));
}

function goToRoom(room) {
  if (roomFromHash(location.hash) === room) show(room);
  else location.hash = encodeURIComponent(room);
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
  dropRoom(room);
}

/** The room is gone from the client: its view too, and another one is shown. */
function dropRoom(room) {
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
    history.replaceState(null, '', `#${encodeURIComponent(current ?? DEFAULT_ROOM)}`);
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
    showAuthBanner('');
    const view = views.get(current);
    if (!link.everReady) {
      link.everReady = true;
      if (view) addNotice(view, t('noticeConnected'));
    } else if (link.outage) {
      const { el, since } = link.outage;
      el.querySelector('.message-text').textContent =
        t('noticeReconnected', messageView.shortTime(since), messageView.shortTime(Date.now()));
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
      const why = info.code === KICKED_CLOSE_CODE ? t('kickedClosed') : t('closedBy', info.code);
      showStatus(false, info.code && info.code !== 1000 ? why : '', true);
    } else {
      showStatus(false, '', true);
      link.retryAt = info.retryAt ?? Date.now() + info.retryInMs;
      tickCountdown();
    }
  }
}

function showAuthBanner(text) {
  ui.authBanner.textContent = text;
  ui.authBanner.hidden = !text;
}

/** Token mode: what the page says about the sign-in (PROTOCOL.md, "Authentication"). */
function handleAuth({ state, reason, expiresAt }) {
  const until = expiresAt ? messageView.shortTime(expiresAt * 1000) : '';
  const text = {
    refresh_failed: t('authRefreshFailed', until),
    renewing: t('authRenewing'),
    missing: t('authMissing'),
    refused: t('authRefused', reason ?? ''),
    expired: t('authExpired'),
    forbidden: t('authForbidden'),
  }[state];
  if (text !== undefined) showAuthBanner(text);
  else if (state === 'refreshed') showAuthBanner('');
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
  const worth = messages.filter((m) => !m.deleted && (document.hidden || mentions(m.text, name)));
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

// ---- Wiring ----------------------------------------------------------------------------------

function handleError(error) {
  if (error.code === 'name_invalid') {
    firstName = error.ref === 'hello';
    openNameDialog('name_server');
  } else if (error.code === 'forbidden' && error.ref === 'rename') {
    const view = views.get(current);
    if (view) addNotice(view, t('nameFromToken'));
  } else if (error.ref === 'join' && error.room && !client.hasRoom(error.room)) {
    const view = views.get(current);
    if (view && error.room !== current) addNotice(view, t('noticeJoinFailed', error.room, error.code));
    if (views.has(error.room)) dropRoom(error.room);
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
      for (const line of view.gaps.values()) line.remove();
    });
    view.byMsgId.clear();
    view.gaps.clear();
    view.minId = Infinity;
    view.maxId = -Infinity;
    addNotice(view, t('noticeHistoryReset'));
  }
  // The server gives a taken name a suffix ("Hana-2"): say so, once per name.
  if (you !== asked && view.takenNoticeFor !== you && !nameFromToken) {
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

/** The server took a room away (a refreshed token no longer allows it). */
function handleRemoved(room) {
  const wasShown = room === current;
  if (views.has(room)) dropRoom(room);
  const next = wasShown ? client.rooms[0] : current;
  if (next) addNotice(viewFor(next), t('removedFromRoom', room));
}

/** The operator removed this user from a room (PROTOCOL.md `kicked`): said once, not rejoined. */
function handleKicked(room) {
  const wasShown = room === current;
  if (views.has(room)) dropRoom(room);
  const next = wasShown ? client.rooms[0] : current;
  // In the room now shown; with no room left, above the chat.
  if (next) addNotice(viewFor(next), t('kickedFromRoom', room));
  else showAuthBanner(t('kickedFromRoom', room));
}

function connect(token, storage) {
  client = new ParleyClient(chatUrl(location), {
    storage,
    token,
    refreshToken: async () => (typeof window.parleyRefreshToken === 'function' ? window.parleyRefreshToken() : null),
    handlers: {
      status: handleStatus,
      welcome: () => { renderName(); showUploads(); },
      name: () => renderName(),
      joined: handleJoined,
      messages: drawMessages,
      changed: drawChanged,
      outbox: drawOutbox,
      refused: handleRefused,
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
      gaps: drawGaps,
      around: handleAround,
      searchResults: (room, results) => search.show(room, results),
      rooms: (listing) => directory.show(listing),
      removed: handleRemoved,
      kicked: handleKicked,
      auth: handleAuth,
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

// ---- Files (attachments.js): the attach button, paste and drop ----

function wireUploads() {
  const picker = $('fileInput');
  $('attachButton').addEventListener('click', () => picker.click());
  picker.addEventListener('change', () => {
    const files = [...picker.files];
    picker.value = '';
    sendFiles(files);
  });
  ui.input.addEventListener('paste', (event) => {
    const files = [...(event.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    event.preventDefault();
    sendFiles(files);
  });
  const area = ui.form.closest('main');
  const hasFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files');
  area.addEventListener('dragover', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    area.classList.add('dropping');
  });
  area.addEventListener('dragleave', (event) => {
    if (!area.contains(event.relatedTarget)) area.classList.remove('dropping');
  });
  area.addEventListener('drop', (event) => {
    area.classList.remove('dropping');
    if (!hasFiles(event)) return;
    event.preventDefault();
    sendFiles([...event.dataTransfer.files]);
  });
}

const UPLOAD_ERRORS = { too_big: 'uploadTooBig', full: 'uploadFull', busy: 'uploadBusy', off: 'uploadsOff' };

// welcome.limits.max_upload_bytes: 0 means this server takes no files (the
// Redis engine, docs/PROTOCOL.md); absent (an older server) means it does.
function uploadLimit() {
  const max = client.limits.max_upload_bytes;
  return Number.isSafeInteger(max) ? max : Infinity;
}

/** The attach button only where files are taken. */
function showUploads() {
  $('attachButton').hidden = uploadLimit() === 0;
}

/** Uploads each file in turn and sends it to the room shown, as its own message. */
async function sendFiles(files) {
  const room = current;
  const progress = $('uploadProgress');
  for (const file of files) {
    const token = client.uploadToken;
    if (!room || !token || !client.isReady) {
      showInputError(t('uploadNotReady'));
      return;
    }
    if (uploadLimit() === 0) {
      showInputError(t('uploadsOff'));
      return;
    }
    const show = (fraction) => { progress.textContent = t('uploading', file.name, Math.round(fraction * 100)); };
    progress.hidden = false;
    show(0);
    const result = await uploadFile(file, token, { onProgress: show, maxBytes: uploadLimit() });
    progress.hidden = true;
    progress.textContent = '';
    if (result.error) {
      showInputError(t(UPLOAD_ERRORS[result.error] ?? 'uploadFailed'));
      continue;
    }
    if (client.rooms.includes(room)) drawOutbox(client.send(room, '', { attachment: result.attachment }));
  }
}

function showInputError(text) {
  ui.inputError.textContent = text;
  ui.inputError.hidden = false;
}

function wireInput() {
  composer = new Composer({
    form: ui.form,
    input: ui.input,
    error: ui.inputError,
    banner: $('composeBanner'),
    bannerText: $('composeText'),
    bannerCancel: $('composeCancel'),
    mentions: $('mentionList'),
  }, t, {
    room: () => current,
    send: (room, text, replyTo) => drawOutbox(client.send(room, text, { replyTo })),
    edit: (room, msgId, text) => client.edit(room, msgId, text),
    message: (room, msgId) => client.message(room, msgId),
    lastOwn: (room) => client.lastOwnMessage(room),
    names: (room) => (views.get(room)?.members ?? []).filter((m) => m.user !== client.user).map((m) => m.name),
    typing: (room) => client.typing(room),
    maxBytes: () => client.limits.max_text_bytes,
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
  wireMessageKeys();
  wireUploads();
  picker = new EmojiPicker($('emojiPicker'), t);
}

function wirePanels() {
  search = new SearchView({
    panel: $('searchPanel'),
    heading: $('searchHeading'),
    form: $('searchForm'),
    input: $('searchInput'),
    status: $('searchStatus'),
    results: $('searchResults'),
    more: $('searchMore'),
    close: $('searchClose'),
    toggle: $('searchToggle'),
  }, t, messageView, {
    search: (room, query) => client.search(room, query),
    more: (room) => client.searchMore(room),
    jump: (room, msgId) => {
      if (PHONE.matches) search.close();
      jumpTo(room, msgId);
    },
    connected: () => client.isReady,
    opened: (open) => {
      ui.chat.classList.toggle('search-open', open);
      if (!open && current) client.clearSearch(current);
    },
  });
  directory = new DirectoryView({
    dialog: $('directoryDialog'),
    open: $('browseRooms'),
    form: $('directoryForm'),
    input: $('directoryInput'),
    total: $('directoryTotal'),
    list: $('directoryList'),
    status: $('directoryStatus'),
    more: $('directoryMore'),
    close: $('directoryClose'),
  }, t, {
    list: (options) => client.listRooms(options),
    joined: (room) => client.hasRoom(room),
    go: (room) => {
      goToRoom(room);
      setPanelOpen(false);
      ui.input.focus();
    },
    connected: () => client.isReady,
  });
  ui.membersMore.addEventListener('click', () => client.loadMoreMembers(current));
}

function wirePanel() {
  ui.joinRoomForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const room = normalizeRoom(ui.roomInput.value);
    if (!isRoomName(room)) {
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

/**
 * Token mode (README, "Embedding the client"): a #token= fragment or
 * window.PARLEY_TOKEN. Returns { token, storage, name } for the client.
 */
function signIn() {
  const token = takeFragmentToken(location, history) ?? globalToken(window);
  const claims = token ? tokenClaims(token) : null;
  const storage = claims?.sub ? userStorage(localStorage, claims.sub) : localStorage;
  return { token, storage, name: claims?.name ?? null };
}

function main() {
  document.documentElement.lang = locale;
  translatePage(document, t);
  const { token, storage, name } = signIn();
  connect(token, storage);
  if (name) {
    // The token names the user: no name dialog, no rename.
    nameFromToken = true;
    if (client.name !== name) client.setName(name);
  }
  wireInput();
  wirePanels();
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
  window.addEventListener('hashchange', () => {
    // A new token from the embedding page (it set #token= again): used from now on.
    const fresh = takeFragmentToken(location, history);
    if (fresh) client.setToken(fresh);
    handleHash();
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
  // The app shell works offline after the first visit (sw.js). Only on a secure
  // context (https, or http://localhost / 127.0.0.1) can a page have one.
  if ('serviceWorker' in navigator && window.isSecureContext) {
    navigator.serviceWorker.register('/sw.js').catch((error) => console.warn('parley: no offline shell', error));
  }
}

main();
