// The room's log through npm `ws` against the real binary (docs/PROTOCOL.md:
// `edit`, `delete`, `react`/`unreact`, replies, "The room's log", "Search",
// `history around`, `rooms`): changes acked after commit and broadcast, the
// rules (author only, deleted, reaction limits), since-recovery of a change
// of an old message for a client that was away, what plain-text clients see,
// search in CJK with a 2-character query, and the directory. Each test runs
// on every history backend listed in BACKENDS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uniqueRoom, connect } from './lib/server.mjs';
import { JsonClient, jsonUser, jsonRoom, tempDir, removeDir, withServer, closeAll, FAST_RATE } from './lib/json_client.mjs';
import { encodeFrame, OP } from './lib/raw.mjs';

// The history backends every test runs on.
const BACKENDS = { sqlite: ['--history', 'sqlite'], memory: ['--history', 'off'] };
const EMOJI = [...'😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗'];

// A change request and its answer (ack, or an error with its id).
async function request(c, message) {
  await c.send(message);
  return c.take((e) => (e.type === 'ack' || e.type === 'error') && e.id === message.id);
}

async function sendReply(c, room, id, text, replyTo) {
  return request(c, { type: 'send', room, id, text, reply_to: replyTo });
}

function backendTest(name, fn) {
  for (const [backend, args] of Object.entries(BACKENDS)) {
    test(`${name} (${backend})`, () => withServer(args, (s, dir) => fn(s, dir, args)));
  }
}

backendTest('edit, delete, react and reply: acked after commit, broadcast to the room, shown to plain text', async (s) => {
  const room = uniqueRoom('log');
  const [alice, bob] = await jsonRoom(s.wsUrl('/ws'), room, ['alice', 'bob']);
  const seed = await connect(s.wsUrl(`/ws/${room}`));
  const first = await alice.say(room, 'a1', 'first words');
  assert.equal(first.type, 'ack');
  await bob.take({ type: 'message', msg_id: first.msg_id });
  assert.equal(await seed.nextText(), 'alice: first words');

  const edit = await request(alice, { type: 'edit', room, id: 'a2', target: first.msg_id, text: 'better words' });
  assert.equal(edit.type, 'ack', JSON.stringify(edit));
  assert.ok(edit.msg_id > first.msg_id, 'a change has its own msg_id');
  for (const c of [alice, bob]) {
    const e = await c.take({ type: 'message_edited', msg_id: edit.msg_id });
    assert.deepEqual(e, {
      type: 'message_edited', room, msg_id: edit.msg_id, ts: edit.ts, user: alice.user, from: 'alice',
      id: 'a2', target: first.msg_id, text: 'better words',
    });
  }
  assert.equal(await seed.nextText(), 'alice (edited): better words');

  const react = await request(bob, { type: 'react', room, id: 'b1', target: first.msg_id, emoji: '👍🏽' });
  assert.equal(react.type, 'ack');
  const r = await alice.take({ type: 'reaction', msg_id: react.msg_id });
  assert.deepEqual([r.user, r.target, r.emoji, r.added, r.count], [bob.user, first.msg_id, '👍🏽', true, 1]);
  await bob.take({ type: 'reaction', msg_id: react.msg_id });
  const again = await request(bob, { type: 'react', room, id: 'b2', target: first.msg_id, emoji: '👍🏽' });
  assert.deepEqual([again.type, again.duplicate, again.msg_id], ['ack', true, first.msg_id], 'a reaction already there is a no-op');

  const reply = await sendReply(bob, room, 'b3', 'agreed', first.msg_id);
  assert.equal(reply.type, 'ack');
  const m = await alice.take({ type: 'message', msg_id: reply.msg_id });
  assert.deepEqual(m.reply_to, { msg_id: first.msg_id, user: alice.user, from: 'alice', text: 'better words' });
  assert.equal(await seed.nextText(), 'bob: agreed', 'a reply is an ordinary line for plain text');

  const del = await request(alice, { type: 'delete', room, id: 'a3', target: first.msg_id });
  assert.equal(del.type, 'ack');
  for (const c of [alice, bob]) await c.take({ type: 'message_deleted', msg_id: del.msg_id, target: first.msg_id });

  // Scroll-back shows the current state: the tombstone, and the reply's quote emptied.
  const page = await bob.history(room, { before: del.msg_id + 1 });
  const byId = Object.fromEntries(page.messages.map((x) => [x.msg_id, x]));
  assert.deepEqual(byId[first.msg_id], {
    type: 'message', room, msg_id: first.msg_id, ts: first.ts, user: alice.user, from: 'alice', text: '',
    id: 'a1', deleted: true, rev: del.msg_id,
  });
  assert.deepEqual(byId[reply.msg_id].reply_to, { msg_id: first.msg_id, user: alice.user, from: 'alice', text: '', deleted: true });
  assert.ok(page.messages.every((x) => x.type === 'message'), 'before pages hold messages only');
  // Plain text saw nothing of the reaction or the delete.
  await seed.send('still here');
  await alice.take({ type: 'message', text: 'still here' });
  seed.close(1000);
  await closeAll(alice, bob);
});

backendTest('rules: only the author edits or deletes; unknown targets; deleted messages; a resent edit applies once', async (s) => {
  const room = uniqueRoom('rules');
  const [alice, bob] = await jsonRoom(s.wsUrl('/ws'), room, ['alice', 'bob']);
  const m = await alice.say(room, 'a1', 'mine');
  const notMine = await request(bob, { type: 'edit', room, id: 'b1', target: m.msg_id, text: 'yours now' });
  assert.deepEqual([notMine.type, notMine.code, notMine.ref, notMine.room], ['error', 'not_author', 'edit', room]);
  assert.equal((await request(bob, { type: 'delete', room, id: 'b2', target: m.msg_id })).code, 'not_author');
  assert.equal((await request(bob, { type: 'react', room, id: 'b3', target: 999999, emoji: '🎉' })).code, 'not_found');
  assert.equal((await sendReply(bob, room, 'b4', 're', 999999)).code, 'not_found');
  assert.equal((await request(bob, { type: 'react', room, id: 'b5', target: m.msg_id, emoji: 'x' })).code, 'emoji_invalid');

  // A resend of an edit (same id) is answered duplicate and not applied twice.
  const edit = await request(alice, { type: 'edit', room, id: 'a2', target: m.msg_id, text: 'v2' });
  const resend = await request(alice, { type: 'edit', room, id: 'a2', target: m.msg_id, text: 'v2' });
  assert.deepEqual([resend.type, resend.duplicate, resend.msg_id], ['ack', true, edit.msg_id]);
  // The change also is an entry the edit's target cannot be confused with.
  assert.equal((await request(alice, { type: 'edit', room, id: 'a3', target: edit.msg_id, text: 'x' })).code, 'not_found');
  await request(alice, { type: 'delete', room, id: 'a4', target: m.msg_id });
  assert.equal((await request(alice, { type: 'edit', room, id: 'a5', target: m.msg_id, text: 'v3' })).code, 'deleted');
  assert.equal((await request(alice, { type: 'delete', room, id: 'a6', target: m.msg_id })).code, 'deleted');
  assert.equal((await request(bob, { type: 'react', room, id: 'b6', target: m.msg_id, emoji: '👍' })).code, 'deleted');
  // Bob saw exactly one edit and one delete.
  const log = await bob.allAfter(room, m.msg_id);
  assert.deepEqual(log.map((e) => e.type), ['message_edited', 'message_deleted']);
  await closeAll(alice, bob);
});

backendTest('reaction limits: at most 20 different emoji on a message; unreact makes room', async (s) => {
  const room = uniqueRoom('limits');
  const [owner, fan] = await jsonRoom(s.wsUrl('/ws'), room, ['owner', 'fan']);
  const target = (await owner.say(room, 'o1', 'react to me')).msg_id;
  for (const [i, e] of EMOJI.entries()) {
    const a = await request(fan, { type: 'react', room, id: `r${i}`, target, emoji: e });
    assert.equal(a.type, 'ack', `${e}: ${JSON.stringify(a)}`);
  }
  assert.equal((await request(owner, { type: 'react', room, id: 'o2', target, emoji: '👍' })).code, 'limit_reached', '21st emoji');
  assert.equal((await request(owner, { type: 'react', room, id: 'o3', target, emoji: EMOJI[3] })).type, 'ack', 'a used emoji is fine');
  assert.equal((await request(fan, { type: 'unreact', room, id: 'x1', target, emoji: EMOJI[0] })).type, 'ack');
  assert.equal((await request(owner, { type: 'react', room, id: 'o4', target, emoji: '👍' })).type, 'ack', 'room again');
  const [state] = (await owner.history(room, { around: target, limit: 1 })).messages;
  assert.equal(state.reactions.length, 20);
  assert.deepEqual(state.reactions[2], { emoji: EMOJI[3], count: 2, me: true });
  assert.deepEqual(state.reactions.at(-1), { emoji: '👍', count: 1, me: true });
  assert.deepEqual(state.reactions[0], { emoji: EMOJI[1], count: 1 });
  await closeAll(owner, fan);
});

backendTest('since: a client that was away learns of edits, deletes and reactions of old messages', async (s) => {
  const room = uniqueRoom('since');
  const url = s.wsUrl('/ws');
  const alice = await jsonUser(url, 'alice', { rooms: room });
  const acks = [];
  for (let i = 1; i <= 5; i++) acks.push(await alice.say(room, `a${i}`, `message ${i}`));
  const bob = await JsonClient.open(url);
  const welcome = await bob.hello('bob');
  const joined = await bob.join(room);
  const lastSeen = joined.last_id;
  bob.terminate();  // offline
  const edit = await request(alice, { type: 'edit', room, id: 'e1', target: acks[0].msg_id, text: 'message 1, edited' });
  const del = await request(alice, { type: 'delete', room, id: 'd1', target: acks[1].msg_id });
  const react = await request(alice, { type: 'react', room, id: 'r1', target: acks[2].msg_id, emoji: '🎉' });
  const later = await alice.say(room, 'a6', 'message 6');

  const back = await JsonClient.open(url);
  await back.hello('bob', { resume: welcome.resume });
  const caughtUp = await back.join(room, lastSeen);
  assert.deepEqual(caughtUp.history.map((e) => [e.type, e.msg_id, e.target]), [
    ['message_edited', edit.msg_id, acks[0].msg_id],
    ['message_deleted', del.msg_id, acks[1].msg_id],
    ['reaction', react.msg_id, acks[2].msg_id],
    ['message', later.msg_id, undefined],
  ]);
  assert.equal(caughtUp.history[0].text, 'message 1, edited');
  assert.equal(caughtUp.truncated, false);
  // Paging forward from an older anchor gives messages in their current state and the changes.
  const page = await back.history(room, { after: acks[0].msg_id - 1, limit: 3 });
  assert.deepEqual(page.messages.map((e) => [e.type, e.msg_id]), acks.slice(0, 3).map((a) => ['message', a.msg_id]));
  assert.equal(page.truncated, true);
  assert.deepEqual([page.messages[0].text, page.messages[0].rev], ['message 1, edited', edit.msg_id]);
  assert.deepEqual([page.messages[1].deleted, page.messages[1].text], [true, '']);
  assert.deepEqual(page.messages[2].reactions, [{ emoji: '🎉', count: 1 }]);
  await closeAll(alice, back);
});

backendTest('search: current text, case and CJK, a 2-character query, paging, deleted never found, 2 in flight', async (s) => {
  const room = uniqueRoom('search');
  const alice = await jsonUser(s.wsUrl('/ws'), 'alice', { rooms: room });
  const texts = ['The Release notes are out', '我们的房间很好', 'ÉCOLE ouverte', 'nothing here', '新的房间', 'release party'];
  const acks = [];
  for (const [i, t] of texts.entries()) acks.push(await alice.say(room, `m${i}`, t));
  const search = async (query, extra = {}) => {
    await alice.send({ type: 'search', room, query, ...extra });
    return alice.take((e) => e.type === 'search_results' || (e.type === 'error' && e.ref === 'search'));
  };
  const ids = (r) => r.messages.map((m) => m.msg_id);
  const release = await search('RELEASE');
  assert.deepEqual(ids(release), [acks[5].msg_id, acks[0].msg_id], 'newest first, case ignored');
  assert.equal(release.truncated, false);
  assert.equal(release.query, 'RELEASE');
  assert.deepEqual(ids(await search('房间很')), [acks[1].msg_id], 'CJK, 3 characters');
  assert.deepEqual(ids(await search('房间')), [acks[4].msg_id, acks[1].msg_id], 'CJK, 2 characters');
  assert.deepEqual(ids(await search('école')), [acks[2].msg_id]);
  assert.deepEqual(ids(await search('  猫 ')), [], 'trimmed; no match');
  // Paging: one at a time.
  const p1 = await search('房间', { limit: 1 });
  assert.deepEqual([ids(p1), p1.truncated], [[acks[4].msg_id], true]);
  const p2 = await search('房间', { limit: 1, before: p1.next });
  assert.deepEqual(ids(p2), [acks[1].msg_id]);
  // Edits are found by their new text; deleted messages never.
  await request(alice, { type: 'edit', room, id: 'e1', target: acks[3].msg_id, text: 'a release after all' });
  await request(alice, { type: 'delete', room, id: 'd1', target: acks[5].msg_id });
  assert.deepEqual(ids(await search('release')), [acks[3].msg_id, acks[0].msg_id]);
  assert.equal((await search('   ')).code, 'bad_message');
  // A result in context.
  const around = await alice.history(room, { around: acks[2].msg_id, limit: 3 });
  assert.deepEqual(around.messages.map((m) => m.msg_id), [acks[1].msg_id, acks[2].msg_id, acks[3].msg_id]);
  assert.deepEqual([around.truncated, around.newer], [true, true]);
  // At most 2 searches unanswered: three in one TCP segment, the third is refused.
  const frame = (q) => encodeFrame({ opcode: OP.TEXT, payload: JSON.stringify({ type: 'search', room, query: q }) });
  alice.raw.ws._socket.write(Buffer.concat([frame('a'), frame('b'), frame('c')]));
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await alice.take((e) => e.type === 'search_results' || (e.type === 'error' && e.ref === 'search')));
  assert.deepEqual(answers.map((a) => a.type === 'error' ? a.code : a.query).sort(), ['a', 'b', 'rate_limited']);
  await closeAll(alice);
});

backendTest('rooms: the directory of open rooms with counts, any script, by people or by name, paged', async (s) => {
  const tag = `${process.pid}x${Math.floor(Math.random() * 1e6)}`;
  const big = `Dir-${tag}-lobby`, cjk = `dir-${tag}-我的房间`, small = `dir-${tag}-zeta`;
  const url = s.wsUrl('/ws');
  const a = await jsonUser(url, 'a', { rooms: [big, cjk, small] });
  const b = await jsonUser(url, 'b', { rooms: [big, cjk] });
  const c = await jsonUser(url, 'c', { rooms: [big, cjk] });
  const c2 = await jsonUser(url, 'c', { rooms: [big] });  // a second user named c
  const seed = await connect(s.wsUrl(`/ws/${small}`));  // a plain-text member counts too
  const rooms = async (fields) => {
    await a.send({ type: 'rooms', ...fields });
    return a.take((e) => e.type === 'rooms' || (e.type === 'error' && e.ref === 'rooms'));
  };
  // The guest's join is counted once a member has heard of it.
  await a.take((e) => e.type === 'presence' && e.room === small && e.event === 'joined' && e.name.startsWith('guest-'));
  const all = await rooms({ query: `DIR-${tag}` });
  assert.deepEqual(all.rooms, [
    { room: big, users: 4, online: 4 },
    { room: cjk, users: 3, online: 3 },
    { room: small, users: 2, online: 2 },
  ]);
  assert.ok(all.total >= 3);
  const byName = await rooms({ query: `dir-${tag}-`, order: 'name', limit: 2 });
  // By name, ignoring case: "Dir-…-lobby" sorts as "dir-…-lobby", and CJK after Latin.
  assert.deepEqual(byName.rooms.map((r) => r.room), [big, small]);
  const rest = await rooms({ query: `dir-${tag}-`, order: 'name', after: byName.next });
  assert.deepEqual(rest.rooms.map((r) => r.room), [cjk]);
  assert.equal(rest.next, undefined);
  const first = await rooms({ query: `dir-${tag}`, limit: 1 });
  const second = await rooms({ query: `dir-${tag}`, limit: 1, after: first.next });
  assert.deepEqual([first.rooms[0].room, second.rooms[0].room], [big, cjk]);
  assert.deepEqual((await rooms({ query: `dir-${tag}-我的` })).rooms.map((r) => r.room), [cjk]);
  assert.equal((await rooms({ order: 'size' })).code, 'bad_message');
  // Leaving updates the counts; an empty room leaves the directory.
  const gone = uniqueRoom('dir-gone');
  await b.join(gone);
  assert.equal((await rooms({ query: gone })).rooms.length, 1);
  await b.leave(gone);
  assert.deepEqual((await rooms({ query: gone })).rooms, []);
  await a.leave(small);
  await c2.leave(big);
  const after = await rooms({ query: `dir-${tag}` });
  assert.deepEqual(after.rooms, [
    { room: big, users: 3, online: 3 },  // a tie: by name
    { room: cjk, users: 3, online: 3 },
    { room: small, users: 1, online: 1 },
  ]);
  seed.close(1000);
  await closeAll(a, b, c, c2);
});

test('sqlite: the room log survives a restart (edits, deletes, reactions, quotes, search)', async () => {
  const dir = tempDir();
  const args = ['--data-dir', dir, ...FAST_RATE, '--history', 'sqlite'];
  let s = await startServer(args);
  const room = uniqueRoom('durable');
  let state;
  try {
    const [alice, bob] = await jsonRoom(s.wsUrl('/ws'), room, ['alice', 'bob']);
    const first = await alice.say(room, 'a1', 'first words');
    const second = await alice.say(room, 'a2', 'doomed words');
    const reply = await sendReply(bob, room, 'b1', 'agreed', first.msg_id);
    assert.equal((await request(alice, { type: 'edit', room, id: 'a3', target: first.msg_id, text: 'better words' })).type, 'ack');
    assert.equal((await request(bob, { type: 'react', room, id: 'b2', target: first.msg_id, emoji: '🎉' })).type, 'ack');
    assert.equal((await request(alice, { type: 'delete', room, id: 'a4', target: second.msg_id })).type, 'ack');
    state = (await bob.history(room, { before: 1000 })).messages;
    assert.equal(state.length, 3);
    assert.equal(reply.type, 'ack');
    await closeAll(alice, bob);
  } finally {
    await s.stopClean();
  }
  s = await startServer(args);
  try {
    const carol = await jsonUser(s.wsUrl('/ws'), 'carol', { rooms: room });
    const after = (await carol.history(room, { before: 1000 })).messages;
    // `me` differs: bob asked before, carol after.
    const strip = (m) => ({ ...m, reactions: m.reactions?.map(({ emoji, count }) => ({ emoji, count })) });
    assert.deepEqual(after.map(strip), state.map(strip), 'the same state after the restart');
    assert.equal(after[0].text, 'better words');
    assert.deepEqual(after[0].reactions.map((r) => [r.emoji, r.count]), [['🎉', 1]]);
    assert.equal(after[1].deleted, true);
    await carol.send({ type: 'search', room, query: 'BETTER' });
    const found = await carol.take({ type: 'search_results' });
    assert.deepEqual(found.messages.map((m) => m.msg_id), [after[0].msg_id]);
    await carol.send({ type: 'search', room, query: 'doomed' });
    assert.deepEqual((await carol.take({ type: 'search_results' })).messages, [], 'a deleted message is never found');
    await closeAll(carol);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
});
