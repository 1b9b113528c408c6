// web/room-log.js and web/outbox.js alone: the rules of PROTOCOL.md, "The room's
// log" (rev, changes applied once and in any order, quotes of deleted messages),
// the coverage of held stretches, and the overlay of pending own changes.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { frameOf, overlay, validEntry } from '../../web/outbox.js';
import { Coverage, RoomLog, messageState } from '../../web/room-log.js';

const msg = (msgId, fields = {}) => ({ type: 'message', room: 'r', msg_id: msgId, ts: 1000 + msgId, user: 'u-2', from: 'bob', text: `m${msgId}`, id: `b-${msgId}`, ...fields });
const edited = (msgId, target, text) => ({ type: 'message_edited', room: 'r', msg_id: msgId, ts: 5000 + msgId, user: 'u-2', from: 'bob', id: `e-${msgId}`, target, text });
const deleted = (msgId, target) => ({ type: 'message_deleted', room: 'r', msg_id: msgId, ts: 5000 + msgId, user: 'u-2', from: 'bob', id: `d-${msgId}`, target });
const reaction = (msgId, target, emoji, added, count, user = 'u-3') =>
  ({ type: 'reaction', room: 'r', msg_id: msgId, ts: 5000 + msgId, user, from: 'x', id: `x-${msgId}`, target, emoji, added, count });

test('changes apply once, only when newer than the rev; a change of a message not held is ignored', () => {
  const log = new RoomLog(() => 'u-1');
  assert.equal(log.put(msg(10)), 'added');
  assert.deepEqual(log.apply(edited(12, 10, 'first edit')), [10]);
  assert.equal(log.get(10).text, 'first edit');
  assert.equal(log.get(10).edited, 5012);
  assert.equal(log.get(10).rev, 12);
  assert.deepEqual(log.apply(edited(12, 10, 'first edit')), [], 'the same change twice: nothing');
  assert.deepEqual(log.apply(edited(11, 10, 'older edit')), [], 'an older change after a newer one: nothing');
  assert.equal(log.get(10).text, 'first edit');
  assert.deepEqual(log.apply(edited(20, 99, 'x')), [], 'not held: ignored');
  assert.equal(log.has(99), false);

  // A message object replaces the held state only with a rev at least as new.
  assert.equal(log.put(msg(10, { text: 'stale page', rev: 11 })), 'stale');
  assert.equal(log.put(msg(10, { text: 'first edit', edited: 5012, rev: 12 })), 'same');
  assert.equal(log.put(msg(10, { text: 'newer page', edited: 5030, rev: 30 })), 'replaced');
  assert.equal(log.get(10).text, 'newer page');
  assert.deepEqual(log.apply(edited(25, 10, 'between')), [], 'older than what the page showed');
});

test('reactions: count as the event says, `me` for the own user, gone at 0; a delete clears all and empties quotes', () => {
  const log = new RoomLog(() => 'u-1');
  log.put(msg(1));
  log.put(msg(2, { reply_to: { msg_id: 1, user: 'u-2', from: 'bob', text: 'm1' } }));
  log.apply(reaction(3, 1, '👍', true, 1, 'u-3'));
  log.apply(reaction(4, 1, '👍', true, 2, 'u-1'));
  log.apply(reaction(5, 1, '🎉', true, 1, 'u-3'));
  assert.deepEqual(log.get(1).reactions, [{ emoji: '👍', count: 2, me: true }, { emoji: '🎉', count: 1, me: false }]);
  log.apply(reaction(6, 1, '👍', false, 1, 'u-1'));
  log.apply(reaction(7, 1, '🎉', false, 0, 'u-3'));
  assert.deepEqual(log.get(1).reactions, [{ emoji: '👍', count: 1, me: false }]);

  assert.deepEqual(log.apply(deleted(8, 1)).sort(), [1, 2], 'the target and the reply quoting it');
  assert.deepEqual({ ...log.get(1) }, { ...messageState(msg(1)), text: '', deleted: true, rev: 8 });
  assert.deepEqual(log.get(2).reply_to, { msg_id: 1, user: 'u-2', from: 'bob', text: '', deleted: true });
  assert.deepEqual(log.apply(reaction(9, 1, '👍', true, 1)), [], 'older than nothing: a deleted message takes no reaction');
});

test('a page message in its current state: deleted hides text, reply and reactions; `me` as the page says', () => {
  const state = messageState(msg(5, { text: 'ignored', deleted: true, reply_to: { msg_id: 1, from: 'a', user: 'u', text: 'q' }, reactions: [{ emoji: '👍', count: 1 }], rev: 9 }));
  assert.equal(state.text, '');
  assert.equal(state.reply_to, null);
  assert.deepEqual(state.reactions, []);
  assert.equal(state.rev, 9);
  const log = new RoomLog(() => 'u-1');
  log.put(msg(6, { reactions: [{ emoji: '👍', count: 2, me: true }], rev: 7 }));
  assert.equal(log.put(msg(6, { reactions: [{ emoji: '👍', count: 1 }], rev: 8 })), 'replaced');
  assert.deepEqual(log.get(6).reactions, [{ emoji: '👍', count: 1, me: false }]);
});

test('coverage: stretches merge where they overlap; gaps between them; the open newest stretch', () => {
  const c = new Coverage();
  c.add(100, Infinity);
  c.add(20, 40);
  c.add(60, 70);
  assert.deepEqual(c.segments, [{ lo: 20, hi: 40 }, { lo: 60, hi: 70 }, { lo: 100, hi: Infinity }]);
  assert.deepEqual(c.gaps(), [{ after: 40, before: 60 }, { after: 70, before: 100 }]);
  assert.equal(c.covers(30), true);
  assert.equal(c.covers(50), false);
  assert.equal(c.covers(1e9), true, 'the newest stretch is open');
  c.add(40, 65); // a gap page after 40 reaching into the next stretch
  assert.deepEqual(c.segments, [{ lo: 20, hi: 70 }, { lo: 100, hi: Infinity }]);
  c.add(70, Infinity); // a last gap page (not truncated)
  assert.deepEqual(c.segments, [{ lo: 20, hi: Infinity }]);
  assert.equal(c.lowest, 20);
});

test('overlay: pending changes shown on a copy, marked; acked ones shown as done', () => {
  const base = { ...messageState(msg(3, { reactions: [{ emoji: '👍', count: 1, me: false }] })), own: true };
  const view = overlay(base, [
    { kind: 'edit', text: 'new text' },
    { kind: 'react', emoji: '👍' },
    { kind: 'react', emoji: '🎉' },
    { kind: 'unreact', emoji: '🎉' },
  ]);
  assert.equal(view.text, 'new text');
  assert.deepEqual(view.pending, { edit: true });
  assert.deepEqual(view.reactions, [{ emoji: '👍', count: 2, me: true, pending: true }]);
  assert.deepEqual(base.reactions, [{ emoji: '👍', count: 1, me: false }], 'the state itself is untouched');
  const acked = overlay(base, [{ kind: 'edit', text: 'saved', acked: true, ts: 77 }, { kind: 'delete', acked: true }]);
  assert.equal(acked.deleted, true);
  assert.equal(acked.text, '');
  assert.equal(acked.pending, undefined);
  assert.deepEqual(overlay(base, [{ kind: 'delete' }]).pending, { delete: true });
});

test('outbox entries: frames per kind; stored entries checked before use', () => {
  assert.deepEqual(frameOf({ kind: 'send', room: 'r', id: 'a', text: 'hi', reply_to: 4 }), { type: 'send', room: 'r', id: 'a', text: 'hi', reply_to: 4 });
  assert.deepEqual(frameOf({ kind: 'edit', room: 'r', id: 'b', target: 4, text: 'x' }), { type: 'edit', room: 'r', id: 'b', target: 4, text: 'x' });
  assert.deepEqual(frameOf({ kind: 'delete', room: 'r', id: 'c', target: 4 }), { type: 'delete', room: 'r', id: 'c', target: 4 });
  assert.deepEqual(frameOf({ kind: 'unreact', room: 'r', id: 'd', target: 4, emoji: '👍' }), { type: 'unreact', room: 'r', id: 'd', target: 4, emoji: '👍' });
  assert.equal(validEntry({ room: 'r', id: 'old', text: 'written before kinds existed' }), true);
  assert.equal(validEntry({ kind: 'edit', room: 'r', id: 'e', target: -1, text: 'x' }), false);
  assert.equal(validEntry({ kind: 'react', room: 'r', id: 'e', target: 3 }), false);
  assert.equal(validEntry({ kind: 'drop_tables', room: 'r', id: 'e' }), false);
});
