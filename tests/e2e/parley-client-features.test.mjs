// web/parley-client.js for issue 10's features, against a scripted server (fake
// WebSocket, clock and storage):
// - edits, deletes and reactions from live events and from since-recovery (an edit
//   of an old message made while offline appears after the reconnect), live
//   changes held during a catch-up and applied after it (PROTOCOL.md rule 4);
// - the outbox of changes: pending → acked, shown at once, resent with the same
//   id after a reconnect and a reload, refused ones dropped and reported;
// - replies, history around a message far back and the holes it leaves;
// - search paging (the latest search wins), the rooms directory;
// - large rooms: presence_batch and member pages;
// - token sign-in: hello.token, refresh through the hook, 4001/4004.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { chatUrl } from '../../web/connection.js';
import { FAIL_AFTER_MS, MEMBERS_REFRESH_MS, STORAGE_KEYS } from '../../web/parley-client.js';
import {
  LIMITS, change, connected, joined, msg, range, reconnect, settle, setup, storedOutbox, welcome,
} from './lib/client-harness.mjs';
import { FakeWebSocket, fakeStorage } from './lib/fakes.mjs';

const own = (msgId, fields = {}) => msg('lobby', msgId, { user: 'u-1', from: 'alice', id: `a-${msgId}`, ...fields });
const lastChanged = (t) => t.of('changed').at(-1);
const view = (t, msgId) => t.client.message('lobby', msgId);

test('live edits, deletes and reactions change the messages held; a delete empties the quotes of it', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { history: [msg('lobby', 1), msg('lobby', 2, { reply_to: { msg_id: 1, user: 'u-2', from: 'bob', text: 'm1' } })] } });
  t.socket().receive(change('message_edited', 'lobby', 3, 1, { text: 'hello, edited' }));
  const [room, [edited]] = lastChanged(t);
  assert.equal(room, 'lobby');
  assert.equal(edited.msg_id, 1);
  assert.equal(edited.text, 'hello, edited');
  assert.equal(edited.edited, change('message_edited', 'lobby', 3, 1).ts);
  assert.equal(edited.own, false);

  // This user's reaction from another tab: `me`.
  t.socket().receive(change('reaction', 'lobby', 4, 2, { user: 'u-1', emoji: '👍', added: true, count: 1 }));
  t.socket().receive(change('reaction', 'lobby', 5, 2, { user: 'u-3', emoji: '👍', added: true, count: 2 }));
  assert.deepEqual(view(t, 2).reactions, [{ emoji: '👍', count: 2, me: true }]);

  t.socket().receive(change('message_deleted', 'lobby', 6, 1));
  const views = lastChanged(t)[1];
  assert.deepEqual(views.map((v) => v.msg_id).sort(), [1, 2]);
  assert.equal(view(t, 1).deleted, true);
  assert.equal(view(t, 1).text, '');
  assert.deepEqual(view(t, 2).reply_to, { msg_id: 1, user: 'u-2', from: 'bob', text: '', deleted: true });

  // Changes are entries of the room's log: the next `since` counts them.
  const changedCount = t.of('changed').length;
  t.socket().receive(change('message_deleted', 'lobby', 6, 1));
  t.socket().receive(change('message_edited', 'lobby', 5, 2, { text: 'older than the state' }));
  assert.equal(t.of('changed').length, changedCount, 'an entry already applied changes nothing');
  reconnect(t);
  assert.deepEqual(t.socket().take().slice(1), [{ type: 'join', room: 'lobby', since: 6 }]);
});

test('since-recovery: an edit and a delete made while offline reach the messages shown', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { history: range('lobby', 1, 3) } });
  reconnect(t);
  assert.deepEqual(t.socket().take().slice(1), [{ type: 'join', room: 'lobby', since: 3 }]);
  t.socket().receive(joined('lobby', {
    history: [change('message_edited', 'lobby', 4, 1, { text: 'edited while you were away' }), msg('lobby', 5), change('message_deleted', 'lobby', 6, 2)],
    lastId: 6,
  }));
  assert.equal(view(t, 1).text, 'edited while you were away');
  assert.equal(view(t, 2).deleted, true);
  assert.deepEqual(t.of('messages').at(-1), ['lobby', [{ ...msg('lobby', 5), own: false }], 'newer']);
  assert.deepEqual(t.of('changed').flatMap(([, list]) => list.map((v) => v.msg_id)), [1, 2]);
});

test('catching up: live changes are held and applied after the last page (an older change in a page does not win)', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { history: range('lobby', 1, 3) } });
  reconnect(t);
  t.socket().take();
  t.socket().receive(joined('lobby', { history: [msg('lobby', 4)], truncated: true, lastId: 9 }));
  // Live, right after joined: the newest edit of message 1.
  t.socket().receive(change('message_edited', 'lobby', 10, 1, { text: 'newest' }));
  assert.equal(view(t, 1).text, 'm1', 'held while the gap is open');
  assert.deepEqual(t.socket().take(), [{ type: 'history', room: 'lobby', after: 4, limit: 200 }]);
  t.socket().receive({
    type: 'history', room: 'lobby', truncated: false,
    messages: [change('message_edited', 'lobby', 6, 1, { text: 'older edit' }), change('reaction', 'lobby', 7, 2, { emoji: '🎉', added: true, count: 1 }), msg('lobby', 8), msg('lobby', 9)],
  });
  assert.equal(view(t, 1).text, 'newest');
  assert.deepEqual(view(t, 2).reactions, [{ emoji: '🎉', count: 1, me: false }]);
  reconnect(t);
  assert.deepEqual(t.socket().take().slice(1), [{ type: 'join', room: 'lobby', since: 10 }]);
});

test('edit: shown at once as pending, acked, confirmed by its event; only own, not deleted messages', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { history: [own(1, { text: 'tpyo' }), msg('lobby', 2)] } });
  t.socket().take();
  assert.equal(t.client.edit('lobby', 2, 'not mine'), false);
  assert.equal(t.client.edit('lobby', 1, 'tpyo'), false, 'the same text: nothing to do');
  assert.equal(t.client.edit('lobby', 1, 'typo'), true);
  const [frame] = t.socket().take();
  assert.deepEqual({ ...frame, id: 'x' }, { type: 'edit', room: 'lobby', id: 'x', target: 1, text: 'typo' });
  assert.deepEqual(storedOutbox(t.storage).map((e) => [e.kind, e.target, e.text]), [['edit', 1, 'typo']]);
  assert.deepEqual(lastChanged(t)[1][0].pending, { edit: true });
  assert.equal(lastChanged(t)[1][0].text, 'typo');

  // The ack comes before the event: the new text stays (no flicker back to "tpyo").
  t.socket().receive({ type: 'ack', room: 'lobby', id: frame.id, msg_id: 3, ts: 42, duplicate: false });
  assert.equal(view(t, 1).text, 'typo');
  assert.equal(view(t, 1).pending, undefined);
  assert.equal(view(t, 1).edited, 42);
  assert.deepEqual(storedOutbox(t.storage), []);
  t.socket().receive(change('message_edited', 'lobby', 3, 1, { user: 'u-1', from: 'alice', id: frame.id, text: 'typo', ts: 43 }));
  assert.equal(view(t, 1).edited, 43, 'the event is the truth');
  assert.equal(t.client.lastOwnMessage('lobby').msg_id, 1, 'Up arrow edits it');

  assert.equal(t.client.deleteMessage('lobby', 1), true);
  assert.deepEqual(view(t, 1).pending, { delete: true });
  assert.equal(t.client.lastOwnMessage('lobby'), null, 'a message being deleted is not offered for editing');
  assert.equal(t.client.edit('lobby', 1, 'too late'), false);
  const [del] = t.socket().take();
  assert.deepEqual({ ...del, id: 'x' }, { type: 'delete', room: 'lobby', id: 'x', target: 1 });
  t.socket().receive(change('message_deleted', 'lobby', 4, 1, { user: 'u-1', id: del.id }));
  t.socket().receive({ type: 'ack', room: 'lobby', id: del.id, msg_id: 4, ts: 44, duplicate: false });
  assert.equal(view(t, 1).deleted, true);
  assert.equal(view(t, 1).pending, undefined);
});

test('changes typed offline wait in storage, survive a reload and go with the same ids; a duplicate ack settles them', () => {
  const first = setup();
  connected(first, ['lobby'], { lobby: { history: [own(1), msg('lobby', 2)] } });
  first.socket().drop(1006);
  assert.equal(first.client.edit('lobby', 1, 'edited offline'), true);
  assert.equal(first.client.toggleReaction('lobby', 2, '👍'), 'react');
  const stored = storedOutbox(first.storage);
  assert.deepEqual(stored.map((e) => e.kind), ['edit', 'react']);
  // Not acked for 30 s: still pending on screen, still in the outbox.
  first.clock.advance(FAIL_AFTER_MS);
  assert.equal(view(first, 1).text, 'edited offline');

  const t = setup({ storage: first.storage, clock: first.clock });
  t.client.start();
  t.socket().open();
  welcome(t.socket());
  // A new page: joined without since brings message 1 as the server has it; the
  // page sees it with the pending edit on top.
  t.socket().receive(joined('lobby', { history: [own(1), msg('lobby', 2)] }));
  const [, shown] = t.of('messages').at(-1);
  assert.equal(shown[0].text, 'edited offline');
  assert.deepEqual(shown[0].pending, { edit: true });
  assert.deepEqual(shown[1].reactions, [{ emoji: '👍', count: 1, me: true, pending: true }]);
  const frames = t.socket().take();
  assert.deepEqual(frames.slice(2).map((f) => [f.type, f.id]), stored.map((e) => [e.kind, e.id]), 'same ids, in order');
  // The edit had been stored before the drop: a duplicate ack with the original change.
  t.socket().receive({ type: 'ack', room: 'lobby', id: stored[0].id, msg_id: 3, ts: 9, duplicate: true });
  t.socket().receive({ type: 'ack', room: 'lobby', id: stored[1].id, msg_id: 4, ts: 10, duplicate: false });
  assert.deepEqual(storedOutbox(t.storage), []);
  assert.equal(view(t, 1).text, 'edited offline', 'kept until the event arrives');
  t.socket().receive(change('message_edited', 'lobby', 3, 1, { user: 'u-1', text: 'edited offline' }));
  t.socket().receive(change('reaction', 'lobby', 4, 2, { user: 'u-1', emoji: '👍', added: true, count: 1 }));
  assert.deepEqual(view(t, 2).reactions, [{ emoji: '👍', count: 1, me: true }]);
});

test('a change the server refuses for good is dropped and reported; rate_limited and internal are retried', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { history: [own(1)] } });
  t.socket().take();
  t.client.edit('lobby', 1, 'never');
  const [frame] = t.socket().take();
  t.socket().receive({ type: 'error', code: 'rate_limited', message: 'slow', ref: 'edit', id: frame.id, room: 'lobby' });
  t.clock.advance(249);
  assert.deepEqual(t.socket().take(), [], 'the first backoff is 250 ms (RATE_BACKOFF)');
  t.clock.advance(1);
  assert.deepEqual(t.socket().take(), [frame], 'the same frame again');
  t.socket().receive({ type: 'error', code: 'internal', message: 'oops', ref: 'edit', id: frame.id, room: 'lobby' });
  t.clock.advance(1000);
  assert.deepEqual(t.socket().take(), [frame]);
  t.socket().receive({ type: 'error', code: 'deleted', message: 'gone', ref: 'edit', id: frame.id, room: 'lobby' });
  assert.deepEqual(t.of('refused').at(-1), ['lobby', { kind: 'edit', target: 1, text: 'never', code: 'deleted' }]);
  assert.equal(view(t, 1).text, 'm1', 'the message shows its real state again');
  assert.deepEqual(storedOutbox(t.storage), []);
  assert.equal(t.of('error').length, 0);
});

test('reactions: toggled, a toggle back before sending cancels both, the emoji limit', () => {
  const t = setup();
  const many = Array.from({ length: 20 }, (_, i) => ({ emoji: String.fromCodePoint(0x1f600 + i), count: 1 }));
  connected(t, ['lobby'], { lobby: { history: [msg('lobby', 1), msg('lobby', 2, { reactions: many, rev: 2 })] } });
  t.socket().take();
  assert.equal(t.client.toggleReaction('lobby', 1, '❤️'), 'react');
  assert.deepEqual(t.socket().take().map((f) => [f.type, f.target, f.emoji]), [['react', 1, '❤️']]);
  assert.equal(t.client.toggleReaction('lobby', 1, '❤️'), 'unreact', 'already sent: taken back with unreact');
  assert.deepEqual(t.socket().take().map((f) => f.type), ['unreact']);

  t.client.disconnect();
  assert.equal(t.client.toggleReaction('lobby', 1, '🎉'), 'react');
  assert.deepEqual(view(t, 1).reactions.find((r) => r.emoji === '🎉'), { emoji: '🎉', count: 1, me: true, pending: true });
  assert.equal(t.client.toggleReaction('lobby', 1, '🎉'), 'unreact');
  assert.equal(view(t, 1).reactions.find((r) => r.emoji === '🎉'), undefined);
  assert.deepEqual(storedOutbox(t.storage).map((e) => [e.kind, e.emoji]), [['react', '❤️'], ['unreact', '❤️']], 'the 🎉 pair never goes');

  assert.equal(t.client.toggleReaction('lobby', 2, '🦄'), 'limit');
  assert.equal(t.client.toggleReaction('lobby', 2, many[0].emoji), 'react', 'an emoji already there is fine');
  assert.equal(t.client.toggleReaction('lobby', 99, '👍'), false);
});

test('replies: reply_to and a quote of the message as shown; the own message keeps it after the ack', () => {
  const t = setup();
  const long = 'x'.repeat(150);
  connected(t, ['lobby'], { lobby: { history: [msg('lobby', 1, { text: long })] } });
  t.socket().take();
  const entry = t.client.send('lobby', 'me too', { replyTo: 1 });
  assert.deepEqual(entry.quote, { msg_id: 1, user: 'u-2', from: 'bob', text: 'x'.repeat(LIMITS.quote_chars), deleted: false });
  assert.deepEqual(t.socket().take(), [{ type: 'send', room: 'lobby', id: entry.id, text: 'me too', reply_to: 1 }]);
  assert.deepEqual(storedOutbox(t.storage)[0].quote, entry.quote, 'the quote survives a reload');
  t.socket().receive({ type: 'ack', room: 'lobby', id: entry.id, msg_id: 2, ts: 5, duplicate: false });
  assert.deepEqual(view(t, 2).reply_to, entry.quote);
  assert.equal(view(t, 2).own, true);
  // A refused reply (the message answered is gone) fails like any send.
  const gone = t.client.send('lobby', 'to nothing', { replyTo: 77 });
  t.socket().receive({ type: 'error', code: 'not_found', message: 'no', ref: 'send', id: gone.id, room: 'lobby' });
  assert.deepEqual(t.of('outbox').at(-1)[0].reason, 'not_found');
});

test('history around a message far back: a stretch of its own, the hole reported and filled', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { history: range('lobby', 100, 110), truncated: true } });
  t.socket().take();
  assert.equal(t.client.loadAround('lobby', 105), 'held');
  assert.equal(t.client.loadAround('lobby', 50), 'requested');
  assert.equal(t.client.loadAround('lobby', 50), 'requested', 'asked once');
  assert.deepEqual(t.socket().take(), [{ type: 'history', room: 'lobby', around: 50, limit: 50 }]);
  t.socket().receive({ type: 'history', room: 'lobby', messages: range('lobby', 26, 74), truncated: true, newer: true });
  assert.deepEqual(t.of('messages').at(-1)[1].map((m) => m.msg_id), range('lobby', 26, 74).map((m) => m.msg_id));
  assert.equal(t.of('messages').at(-1)[2], 'around');
  assert.deepEqual(t.of('around').at(-1), ['lobby', { target: 50, found: true }]);
  assert.deepEqual(t.client.gapsOf('lobby'), [{ after: 74, before: 100, loading: false }]);
  assert.equal(t.client.loadAround('lobby', 60), 'held');
  assert.equal(t.client.loadAround('lobby', 30), 'held');

  assert.equal(t.client.fillGap('lobby', 74), true);
  assert.equal(t.client.fillGap('lobby', 74), false, 'one page at a time');
  assert.deepEqual(t.of('gaps').at(-1), ['lobby', [{ after: 74, before: 100, loading: true }]]);
  assert.deepEqual(t.socket().take(), [{ type: 'history', room: 'lobby', after: 74, limit: 50 }]);
  // `after` pages are entries: changes too. This one reaches the newer stretch.
  t.socket().receive({ type: 'history', room: 'lobby', truncated: true,
    messages: [...range('lobby', 75, 99), change('message_edited', 'lobby', 111, 60, { text: 'edit of an old one' }), msg('lobby', 100)] });
  assert.deepEqual(t.client.gapsOf('lobby'), []);
  assert.equal(view(t, 60).text, 'edit of an old one');
  assert.deepEqual(t.of('messages').at(-1)[1].map((m) => m.msg_id), range('lobby', 75, 99).map((m) => m.msg_id), '100 was held');

  // Older pages go on from the lowest message held.
  assert.equal(t.client.loadOlder('lobby'), true);
  assert.deepEqual(t.socket().take(), [{ type: 'history', room: 'lobby', before: 26, limit: 50 }]);
  // A message inside what is held but not there (deleted by retention): 'missing'.
  t.socket().receive({ type: 'history', room: 'lobby', messages: [msg('lobby', 10)], truncated: false });
  assert.equal(t.client.loadAround('lobby', 12), 'missing');
});

test('history reads: at most 2 unanswered per connection, the rest wait their turn', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { history: range('lobby', 1000, 1001), truncated: true } });
  t.socket().take();
  t.client.loadOlder('lobby');
  t.client.loadAround('lobby', 10);
  t.client.loadAround('lobby', 500);
  assert.deepEqual(t.socket().take().map((f) => f.before ?? f.around), [1000, 10]);
  t.socket().receive({ type: 'history', room: 'lobby', messages: [msg('lobby', 999)], truncated: true });
  assert.deepEqual(t.socket().take().map((f) => f.around), [500]);
});

test('search: newest first, paged with next; a newer search replaces one not answered; asked again after a reconnect', () => {
  const t = setup();
  connected(t, ['lobby'], { lobby: { history: [msg('lobby', 9, { text: 'hello world' })] } });
  t.socket().take();
  assert.equal(t.client.search('lobby', '  你好  '), true);
  assert.deepEqual(t.socket().take(), [{ type: 'search', room: 'lobby', query: '你好', limit: 20 }]);
  t.client.search('lobby', 'hell');
  t.client.search('lobby', 'hello');
  assert.deepEqual(t.socket().take(), [], 'one search at a time');
  t.socket().receive({ type: 'search_results', room: 'lobby', query: '你好', messages: [msg('lobby', 3, { text: '你好' })], truncated: false });
  assert.equal(t.of('searchResults').length, 0, 'an answer nobody waits for is dropped');
  assert.deepEqual(t.socket().take(), [{ type: 'search', room: 'lobby', query: 'hello', limit: 20 }], '"hell" was replaced');

  // A result held with an older state brings it up to date.
  const edited = msg('lobby', 9, { text: 'hello world, edited', edited: 5, rev: 12 });
  t.socket().receive({ type: 'search_results', room: 'lobby', query: 'hello', messages: [edited, msg('lobby', 4, { text: 'hello' })], truncated: true, next: 4 });
  const [room, results] = t.of('searchResults').at(-1);
  assert.equal(room, 'lobby');
  assert.equal(results.query, 'hello');
  assert.deepEqual(results.messages.map((m) => [m.msg_id, m.text]), [[9, 'hello world, edited'], [4, 'hello']]);
  assert.equal(results.truncated, true);
  assert.equal(results.more, false);
  assert.equal(view(t, 9).text, 'hello world, edited');

  assert.equal(t.client.searchMore('lobby'), true);
  assert.deepEqual(t.socket().take(), [{ type: 'search', room: 'lobby', query: 'hello', before: 4, limit: 20 }]);
  t.socket().drop(1006);
  t.clock.advance(5000);
  t.socket().open();
  welcome(t.socket());
  assert.deepEqual(t.socket().take().slice(1), [
    { type: 'join', room: 'lobby', since: 9 },
    { type: 'search', room: 'lobby', query: 'hello', before: 4, limit: 20 },
  ]);
  t.socket().receive(joined('lobby', { lastId: 9 }));
  t.socket().receive({ type: 'search_results', room: 'lobby', query: 'hello', messages: [msg('lobby', 1, { text: 'hello?' })], truncated: false });
  assert.equal(t.of('searchResults').at(-1)[1].more, true);
  assert.equal(t.client.searchMore('lobby'), false, 'no more pages');
  t.client.search('lobby', 'x');
  t.socket().take();
  t.socket().receive({ type: 'error', code: 'history_unavailable', message: 'no', ref: 'search', room: 'lobby' });
  assert.equal(t.of('searchResults').at(-1)[1].error, 'history_unavailable');
});

test('rooms directory: filtered by prefix, paged with next; rooms in any script', () => {
  const t = setup();
  connected(t);
  t.socket().take();
  t.client.listRooms({ query: '我' });
  assert.deepEqual(t.socket().take(), [{ type: 'rooms', order: 'users', limit: 50, query: '我' }]);
  t.socket().receive({ type: 'rooms', rooms: [{ room: '我的房间', users: 3, online: 4 }], next: '3:我的房间', total: 42 });
  assert.deepEqual(t.of('rooms').at(-1), [{ rooms: [{ room: '我的房间', users: 3, online: 4 }], next: '3:我的房间', total: 42, query: '我', more: false, error: null }]);
  assert.equal(t.client.listRooms({ more: true }), true);
  assert.deepEqual(t.socket().take(), [{ type: 'rooms', order: 'users', limit: 50, query: '我', after: '3:我的房间' }]);
  t.socket().receive({ type: 'rooms', rooms: [{ room: '我们', users: 1, online: 1 }], total: 42 });
  assert.equal(t.of('rooms').at(-1)[0].more, true);
  assert.equal(t.client.listRooms({ more: true }), false, 'the last page');
});

test('large rooms: presence_batch keeps the counts exact and refreshes a partial member list by pages', () => {
  const t = setup();
  const names = (from, to) => Array.from({ length: to - from }, (_, i) => ({ user: `u-${from + i}`, name: `n${String(from + i).padStart(3, '0')}` }));
  connected(t, ['big'], { big: { members: names(0, 100), users: 150, online: 180 } });
  t.socket().take();
  assert.deepEqual(t.client.memberInfo('big'), { users: 150, complete: false, loading: false });
  t.socket().receive({ type: 'presence_batch', room: 'big', joined: [{ user: 'u-500', name: 'zed' }], left: [{ user: 'u-3', name: 'n003' }], more_joined: 7, more_left: 0, online: 187, users: 156 });
  assert.equal(t.client.usersOnline('big'), 156);
  assert.deepEqual(t.of('presenceBatch').at(-1)[2], { users: 156 });
  assert.equal(t.client.membersOf('big').length, 100, 'a partial list is not guessed at');
  t.socket().receive({ type: 'presence_batch', room: 'big', joined: [], left: [], more_joined: 2, more_left: 0, online: 189, users: 158 });
  t.clock.advance(MEMBERS_REFRESH_MS);
  assert.deepEqual(t.socket().take(), [{ type: 'members', room: 'big', limit: 100 }], 'one refresh per interval');
  t.socket().receive({ type: 'members', room: 'big', members: names(0, 100), next: 'n099', online: 189, users: 158 });
  assert.equal(t.client.memberInfo('big').complete, false);
  assert.equal(t.client.loadMoreMembers('big'), true);
  assert.deepEqual(t.socket().take(), [{ type: 'members', room: 'big', after: 'n099', limit: 100 }]);
  t.socket().receive({ type: 'members', room: 'big', members: names(100, 158), online: 189, users: 158 });
  assert.deepEqual(t.client.memberInfo('big'), { users: 158, complete: true, loading: false });
  assert.equal(t.client.membersOf('big').length, 158);

  // A complete list takes the names of a batch as they come.
  t.socket().receive({ type: 'presence_batch', room: 'big', joined: [{ user: 'u-900', name: 'new' }], left: [{ user: 'u-0', name: 'n000' }], more_joined: 0, more_left: 0, online: 189, users: 158 });
  const users = t.client.membersOf('big').map((m) => m.user);
  assert.ok(users.includes('u-900') && !users.includes('u-0'));
  t.clock.advance(MEMBERS_REFRESH_MS);
  assert.deepEqual(t.socket().take(), [], 'nothing to refresh');
});

test('a room the server takes away (left not asked for) is forgotten; a forbidden join too', () => {
  const t = setup();
  connected(t, ['lobby', 'team']);
  t.socket().take();
  t.client.leave('lobby');
  t.socket().receive({ type: 'left', room: 'lobby' });
  assert.deepEqual(t.of('removed'), [], 'asked for');
  t.socket().receive({ type: 'left', room: 'team' });
  assert.deepEqual(t.of('removed'), [['team']]);
  assert.deepEqual(t.client.rooms, []);
  t.client.join('secret');
  t.socket().take();
  t.socket().receive({ type: 'error', code: 'forbidden', message: 'no', ref: 'join', room: 'secret', reason: 'forbidden_room' });
  assert.deepEqual(t.client.rooms, []);
  assert.equal(t.of('error').at(-1)[0].code, 'forbidden');
});

test('token mode: hello.token, token_expiring answered with refresh from the hook, refreshed', async () => {
  const tokens = ['tok-B', 'tok-B'];
  const t = setup({ token: 'tok-A', refreshToken: async () => tokens.shift() ?? null });
  t.client.join('lobby');
  t.client.start();
  t.socket().open();
  assert.deepEqual(t.socket().take(), [{ type: 'hello', name: 'alice', token: 'tok-A' }]);
  welcome(t.socket(), { auth: 'jwt', expires_at: 1_700_000_600 });
  assert.deepEqual(t.of('welcome').at(-1)[0], { user: 'u-1', name: 'alice', auth: 'jwt', expiresAt: 1_700_000_600 });
  t.socket().receive(joined('lobby'));
  t.socket().take();
  t.socket().receive({ type: 'token_expiring', expires_at: 1_700_000_600, in: 60 });
  assert.equal(t.of('auth').at(-1)[0].state, 'expiring');
  await settle();
  assert.deepEqual(t.socket().take(), [{ type: 'refresh', token: 'tok-B' }]);
  t.socket().receive({ type: 'refreshed', expires_at: 1_700_001_200 });
  assert.deepEqual(t.of('auth').at(-1)[0], { state: 'refreshed', reason: null, expiresAt: 1_700_001_200 });
  // The hook hands out the same token again: no refresh loop.
  t.socket().receive({ type: 'token_expiring', expires_at: 1_700_001_200, in: 60 });
  await settle();
  assert.deepEqual(t.socket().take(), []);
  assert.equal(t.of('auth').at(-1)[0].state, 'refresh_failed');
});

test('token mode: close 4004 asks the hook and reconnects with the new token and resume; without one it stops and says so', async () => {
  let next = 'tok-C';
  const t = setup({ token: 'tok-A', refreshToken: async () => next });
  connected(t);
  t.socket().receive({ type: 'error', code: 'token_expired', message: 'expired', ref: 'hello', reason: 'expired' });
  t.socket().drop(4004);
  assert.deepEqual(t.of('status').at(-1), ['closed', { retryInMs: null, retryAt: null, wasOpen: true, code: 4004 }]);
  assert.deepEqual(t.of('auth').at(-1)[0], { state: 'renewing', reason: 'expired', expiresAt: null });
  const sockets = FakeWebSocket.created.length;
  await settle();
  t.clock.advance(0);
  assert.equal(FakeWebSocket.created.length, sockets + 1, 'reconnects with the fresh token');
  t.socket().open();
  assert.deepEqual(t.socket().take(), [{ type: 'hello', name: 'alice', token: 'tok-C', resume: 'tok-1' }]);

  next = null;
  t.socket().drop(4001);
  await settle();
  assert.equal(t.of('auth').at(-1)[0].state, 'refused');
  t.clock.advance(60000);
  assert.equal(FakeWebSocket.created.length, sockets + 1, 'no retry with a refused token');

  // A guest page against a server that wants tokens: told, no reconnect loop.
  const guest = setup({ storage: fakeStorage({ [STORAGE_KEYS.name]: 'bob' }) });
  guest.client.start();
  guest.socket().open();
  guest.socket().receive({ type: 'error', code: 'unauthorized', message: 'no token', ref: 'hello', reason: 'missing' });
  guest.socket().drop(4001);
  await settle();
  assert.deepEqual(guest.of('auth').at(-1)[0], { state: 'missing', reason: 'missing', expiresAt: null });
  assert.deepEqual(guest.clock.pending, []);
});

test('the chat address: wss: on an https page, ws: on http, same host and port', () => {
  assert.equal(chatUrl({ protocol: 'https:', host: 'chat.example.com' }), 'wss://chat.example.com/ws');
  assert.equal(chatUrl({ protocol: 'http:', host: '127.0.0.1:8080' }), 'ws://127.0.0.1:8080/ws');
  assert.equal(chatUrl({ protocol: 'https:', host: '[::1]:8443' }, '/ws'), 'wss://[::1]:8443/ws');
});
