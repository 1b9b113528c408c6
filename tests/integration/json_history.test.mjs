// parley.v1 history and no-loss delivery through npm `ws`: msg_id order,
// the last N on join, paging back with `history before`, `since` on join and
// `history after`, retention by count, ack only once durable (the server is
// killed and restarted on its data directory), idempotent resend, resume
// tokens, and in-memory history (`--history off`). See docs/PROTOCOL.md,
// "No-loss delivery".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, uniqueRoom } from './lib/server.mjs';
import { JsonClient, jsonUser, jsonRoom, collect, tempDir, removeDir, withServer, closeAll, FAST_RATE } from './lib/json_client.mjs';

// Sends n messages in one burst and returns their acks, in order.
async function fill(c, room, n, prefix = 'm') {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
  await Promise.all(ids.map((id) => c.send({ type: 'send', room, id, text: `text of ${id}` })));
  const acks = [];
  for (const id of ids) {
    const a = await c.take({ id });
    assert.equal(a.type, 'ack', JSON.stringify(a));
    acks.push(a);
  }
  return acks;
}

const ids = (msgs) => msgs.map((m) => m.msg_id);
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function assertIncreasing(list, what) {
  for (let i = 1; i < list.length; i++) assert.ok(list[i] > list[i - 1], `${what} not increasing at ${i}: ${list}`);
}

test('msg_ids increase per room; join gets the last 50, older pages with history before', async () => {
  await withServer([], async (s) => {
    const room = uniqueRoom('page');
    const a = await jsonUser(s.wsUrl('/ws'), 'alice', { rooms: room });
    const acks = await fill(a, room, 120);
    assertIncreasing(ids(acks), 'ack msg_ids');
    // A second room numbers its own messages.
    const other = uniqueRoom('page');
    await a.join(other);
    const otherAcks = await fill(a, other, 3);
    assertIncreasing(ids(otherAcks), 'msg_ids of the other room');

    const b = await JsonClient.open(s.wsUrl('/ws'));
    await b.hello('bob');
    const j = await b.join(room);
    assert.equal(j.history.length, 50, 'the default --join-history is 50');
    assert.deepEqual(ids(j.history), ids(acks.slice(-50)));
    assert.equal(j.truncated, true, 'older messages exist');
    assert.equal(j.last_id, acks.at(-1).msg_id);
    const first = j.history[0];
    assert.deepEqual(first, {
      type: 'message', room, msg_id: acks[70].msg_id, ts: acks[70].ts, user: a.user, from: 'alice',
      text: 'text of m71', id: 'm71',
    });

    // Scroll back: pages of the newest messages before the smallest shown.
    const seen = [...j.history];
    let truncated = true;
    let pages = 0;
    while (truncated) {
      const page = await b.history(room, { before: seen[0].msg_id, limit: 30 });
      assert.equal(page.type, 'history', JSON.stringify(page));
      assert.ok(page.messages.length <= 30);
      assertIncreasing(ids(page.messages), 'a history page');
      seen.unshift(...page.messages);
      truncated = page.truncated;
      assert.ok(++pages < 10, 'paging terminates');
    }
    assert.deepEqual(ids(seen), ids(acks));
    assert.deepEqual(seen.map((m) => m.id), acks.map((x) => x.id));
    // Default page size is 50, the maximum 200.
    assert.equal((await b.history(room, { before: acks.at(-1).msg_id + 1 })).messages.length, 50);
    const big = await b.history(room, { after: 0, limit: 200 });
    assert.equal(big.messages.length, 120);
    assert.equal(big.truncated, false);
    const empty = await b.history(room, { before: acks[0].msg_id });
    assert.deepEqual([empty.messages, empty.truncated], [[], false]);
    await closeAll(a, b);
  });
});

test('--join-history sets how many messages joined carries', async () => {
  await withServer(['--join-history', '5'], async (s) => {
    const room = uniqueRoom('jh');
    const a = await jsonUser(s.wsUrl('/ws'), 'alice', { rooms: room });
    const acks = await fill(a, room, 8);
    const b = await jsonUser(s.wsUrl('/ws'), 'bob');
    const j = await b.join(room);
    assert.deepEqual(ids(j.history), ids(acks.slice(-5)));
    assert.equal(j.truncated, true);
    await closeAll(a, b);
  });
});

test('join with since returns exactly the missed messages, in order', async () => {
  await withServer([], async (s) => {
    const room = uniqueRoom('since');
    const [a, b] = await jsonRoom(s.wsUrl('/ws'), room, ['alice', 'bob']);
    const before = await fill(a, room, 3, 'x');
    for (const ack of before) assert.equal((await b.expect('message')).msg_id, ack.msg_id);
    const lastSeen = before.at(-1).msg_id;
    b.terminate();
    await a.take({ type: 'presence', event: 'left' });
    const missed = await fill(a, room, 7, 'y');

    const b2 = await JsonClient.open(s.wsUrl('/ws'));
    await b2.hello('bob', { resume: b.welcome.resume });
    const j = await b2.join(room, lastSeen);
    assert.deepEqual(ids(j.history), ids(missed));
    assert.deepEqual(j.history.map((m) => m.id), missed.map((m) => m.id));
    assert.equal(j.truncated, false);
    assert.equal(j.last_id, missed.at(-1).msg_id);
    // since = the last id: nothing missed.
    const c = await jsonUser(s.wsUrl('/ws'), 'carol');
    const jc = await c.join(room, missed.at(-1).msg_id);
    assert.deepEqual([jc.history, jc.truncated], [[], false]);
    // since = 0: everything (up to a page).
    const d = await jsonUser(s.wsUrl('/ws'), 'dave');
    const jd = await d.join(room, 0);
    assert.deepEqual(ids(jd.history), ids([...before, ...missed]));
    await closeAll(a, b2, c, d);
  });
});

test('since: more than a page missed gives truncated, then history after until done; live messages continue', async () => {
  await withServer([], async (s) => {
    const room = uniqueRoom('catchup');
    const a = await jsonUser(s.wsUrl('/ws'), 'alice', { rooms: room });
    const early = await fill(a, room, 5, 'e');
    const missed = await fill(a, room, 450, 'm');  // beyond the 256 cached and the 200 of a page

    const b = await jsonUser(s.wsUrl('/ws'), 'bob');
    const j = await b.join(room, early.at(-1).msg_id);
    assert.equal(j.history.length, 200, 'a page of the oldest missed messages');
    assert.equal(j.truncated, true);
    assert.deepEqual(ids(j.history), ids(missed.slice(0, 200)));
    await a.take({ type: 'presence', event: 'joined' });
    // Live traffic while b catches up.
    const live = await fill(a, room, 5, 'l');
    const got = [...j.history];
    let after = j.history.at(-1).msg_id;
    for (;;) {
      const page = await b.history(room, { after });
      got.push(...page.messages);
      if (!page.truncated) break;
      after = page.messages.at(-1).msg_id;
    }
    const liveGot = [];
    for (let i = 0; i < live.length; i++) liveGot.push(await b.take('message'));
    assert.deepEqual(ids(liveGot), ids(live), 'live messages arrive after joined, in order');
    // Paged history and live events overlap only in messages committed
    // during the catch-up; together they hold every message, by msg_id once.
    const union = [...new Map([...got, ...liveGot].map((m) => [m.msg_id, m])).keys()].sort((x, y) => x - y);
    assert.deepEqual(union, ids([...missed, ...live]));
    await closeAll(a, b);
  });
});

test('a join racing a burst of messages sees each message exactly once (joined history + live)', async () => {
  await withServer([], async (s) => {
    for (let round = 0; round < 5; round++) {
      const room = uniqueRoom('race');
      const a = await jsonUser(s.wsUrl('/ws'), 'alice', { rooms: room });
      const first = await fill(a, room, 50, 'p');
      await a.leave(room);  // the room empties: the next joins read it from disk
      const b = await jsonUser(s.wsUrl('/ws'), 'bob');
      // b's join (since an old id) and a's join race; a sends a burst as
      // soon as it is in, while b's join may still be reading.
      const since = first[9].msg_id;
      await Promise.all([b.send({ type: 'join', room, since }), a.send({ type: 'join', room })]);
      assert.equal((await a.take('joined')).room, room);
      const burst = await fill(a, room, 100, 'q');
      const j = await b.take('joined');
      assert.equal(j.truncated, false, `round ${round}: 140 missed messages fit in a page`);
      const want = ids([...first.slice(10), ...burst]);
      const counts = new Map(j.history.map((m) => [m.msg_id, 1]));
      assertIncreasing(ids(j.history), 'joined.history');
      while (want.some((id) => !counts.has(id))) {
        const m = await b.take('message');
        counts.set(m.msg_id, (counts.get(m.msg_id) ?? 0) + 1);
      }
      assert.deepEqual([...counts.keys()].sort((x, y) => x - y), want, `round ${round}: the messages after since`);
      for (const [id, n] of counts) assert.equal(n, 1, `round ${round}: message ${id} seen ${n} times`);
      // Nothing else arrives: a's next message is the only one b gets next.
      const last = await a.say(room, 'end', 'end');
      assert.equal((await b.take('message')).msg_id, last.msg_id);
      assert.deepEqual(b.queued().filter((e) => e.type === 'message'), []);
      await closeAll(a, b);
    }
  });
});

test('retention: --history-retain keeps the newest N per room; ids keep counting', async () => {
  await withServer(['--history-retain', '10'], async (s) => {
    const room = uniqueRoom('retain');
    const a = await jsonUser(s.wsUrl('/ws'), 'alice', { rooms: room });
    const acks = await fill(a, room, 25);
    // The store trims in passes run with a write, at most about once a second
    // (HistoryStore::Options::retention_interval): keep appending, one
    // message at a time, until a pass has run; bounded by a deadline.
    const deadline = Date.now() + 10000;
    let all = await a.allAfter(room, 0);
    while (all.length > 10 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      acks.push(await a.say(room, `m${acks.length + 1}`, 'more'));
      all = await a.allAfter(room, 0);
    }
    const kept = ids(acks.slice(-10));
    assert.deepEqual(ids(all), kept, 'history holds only the newest 10');
    const back = await a.history(room, { before: acks.at(-1).msg_id + 1, limit: 200 });
    assert.deepEqual([ids(back.messages), back.truncated], [kept, false]);
    // A newcomer's joined (no since, and since 0) shows only what is kept.
    const b = await jsonUser(s.wsUrl('/ws'), 'bob');
    const j = await b.join(room);
    assert.deepEqual(ids(j.history), kept, 'joined.history holds no deleted message');
    assert.equal(j.truncated, false, 'nothing older can be paged back to');
    const c = await jsonUser(s.wsUrl('/ws'), 'carol');
    assert.deepEqual(ids((await c.join(room, 0)).history), kept);
    const next = await a.say(room, 'after-trim', 'x');
    assert.ok(next.msg_id > acks.at(-1).msg_id, 'ids are never reused');
    await closeAll(a, b, c);
  });
});

test('resend with the same client id is stored once: ack duplicate with the original msg_id and ts', async () => {
  await withServer([], async (s) => {
    const room = uniqueRoom('dup');
    const [a, b] = await jsonRoom(s.wsUrl('/ws'), room, ['alice', 'bob']);
    const first = await a.say(room, 'c-17', 'hi');
    assert.equal(first.duplicate, false);
    assert.equal((await b.expect('message')).msg_id, first.msg_id);
    const again = await a.say(room, 'c-17', 'hi (resent)');
    assert.deepEqual(again, { ...first, duplicate: true });
    // From another connection of the same user (resumed): still the same message.
    const a2 = await jsonUser(s.wsUrl('/ws'), 'alice', { resume: a.welcome.resume, rooms: room });
    assert.deepEqual(await a2.say(room, 'c-17', 'hi'), { ...first, duplicate: true });
    // Nothing was delivered again: b's next message is a fresh one.
    const fresh = await a.say(room, 'c-18', 'next');
    const m = await b.expect('message');
    assert.equal(m.msg_id, fresh.msg_id);
    const stored = await b.allAfter(room, 0);
    assert.deepEqual(stored.map((x) => x.id), ['c-17', 'c-18']);
    assert.equal(stored[0].text, 'hi', 'the original text is kept');
    // Another user may use the same id; the same id in another room is new.
    const bAck = await b.say(room, 'c-17', 'mine');
    assert.equal(bAck.duplicate, false);
    const other = uniqueRoom('dup');
    await a.join(other);
    assert.equal((await a.say(other, 'c-17', 'elsewhere')).duplicate, false);
    await closeAll(a, b, a2);
  });
});

test('resume token keeps the user across reconnects and restarts; a forged or foreign token starts a new user', async () => {
  const dir = tempDir();
  let s = await startServer(['--data-dir', dir, ...FAST_RATE]);
  try {
    const a = await JsonClient.open(s.wsUrl('/ws'));
    const w1 = await a.hello('alice');
    a.close(1000);
    await a.waitClose();
    const a2 = await JsonClient.open(s.wsUrl('/ws'));
    const w2 = await a2.hello('alicia', { resume: w1.resume });
    assert.equal(w2.user, w1.user);
    assert.equal(w2.name, 'alicia', 'the name of this hello is the user’s name from now on');
    assert.equal(typeof w2.resume, 'string');
    // The token from the latest welcome works too.
    const a3 = await JsonClient.open(s.wsUrl('/ws'));
    assert.equal((await a3.hello('alice', { resume: w2.resume })).user, w1.user);

    // A forged token (user id kept, signature altered) is not an error: new user.
    const sig = w1.resume.slice(-1) === '0' ? '1' : '0';
    const forged = w1.resume.slice(0, -1) + sig;
    const f = await JsonClient.open(s.wsUrl('/ws'));
    const wf = await f.hello('mallory', { resume: forged });
    assert.equal(wf.type, 'welcome');
    assert.notEqual(wf.user, w1.user);
    // A made-up token: new user as well.
    const g = await JsonClient.open(s.wsUrl('/ws'));
    assert.notEqual((await g.hello('x', { resume: `${w1.user}.deadbeef` })).user, w1.user);
    // A forged resume cannot claim the victim's messages: its send with the
    // victim's client id is a new message, not a duplicate.
    const room = uniqueRoom('forge');
    await a2.join(room);
    const orig = await a2.say(room, 'v-1', 'victim');
    await f.join(room);
    const fa = await f.say(room, 'v-1', 'forger');
    assert.equal(fa.duplicate, false);
    assert.notEqual(fa.msg_id, orig.msg_id);
    await closeAll(a2, a3, f, g);

    // Restart on the same data directory: the token still resumes the user.
    await s.stopClean();
    s = await startServer(['--data-dir', dir, ...FAST_RATE]);
    const r = await JsonClient.open(s.wsUrl('/ws'));
    assert.equal((await r.hello('alice', { resume: w1.resume })).user, w1.user);
    await r.join(room);
    assert.deepEqual(await r.say(room, 'v-1', 'victim again'), { ...orig, duplicate: true });
    await closeAll(r);

    // A token of another server (other data directory) is unknown there.
    const dir2 = tempDir();
    const s2 = await startServer(['--data-dir', dir2]);
    try {
      const o = await JsonClient.open(s2.wsUrl('/ws'));
      assert.notEqual((await o.hello('alice', { resume: w1.resume })).user, w1.user);
      await closeAll(o);
    } finally {
      await s2.stopClean();
      removeDir(dir2);
    }
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
});

test('acked messages survive SIGKILL; ids continue after the restart', async () => {
  const dir = tempDir();
  let s = await startServer(['--data-dir', dir, ...FAST_RATE]);
  try {
    const room = uniqueRoom('durable');
    const a = await jsonUser(s.wsUrl('/ws'), 'alice', { rooms: room });
    const acks = await fill(a, room, 40);
    const { signal } = await s.stop({ signal: 'SIGKILL' });
    assert.equal(signal, 'SIGKILL');
    await a.waitClose();
    s = await startServer(['--data-dir', dir, ...FAST_RATE]);
    const b = await jsonUser(s.wsUrl('/ws'), 'alice', { resume: a.welcome.resume });
    const j = await b.join(room, 0);
    assert.deepEqual(ids(j.history), ids(acks));
    assert.equal(j.last_id, acks.at(-1).msg_id);
    // Every acked id is known after the crash: resends are duplicates.
    assert.deepEqual(await b.say(room, 'm7', 'again'), { ...acks[6], duplicate: true });
    const next = await b.say(room, 'new', 'after restart');
    assert.equal(next.duplicate, false);
    assert.ok(next.msg_id > acks.at(-1).msg_id);
    await closeAll(b);
  } finally {
    await s.stop({ signal: 'SIGTERM' });
    removeDir(dir);
  }
});

test('after a restart, join and send pipelined on a cold room: joined then ack', async () => {
  // "Requests are processed in the order received": a send right behind its
  // join must be acked even when the join has to read the room from disk.
  const dir = tempDir();
  let s = await startServer(['--data-dir', dir, ...FAST_RATE]);
  try {
    const room = uniqueRoom('cold');
    const a = await jsonUser(s.wsUrl('/ws'), 'alice', { rooms: room });
    const acks = await fill(a, room, 20);
    await closeAll(a);
    await s.stopClean();
    s = await startServer(['--data-dir', dir, ...FAST_RATE]);
    const b = await JsonClient.open(s.wsUrl('/ws'));
    await b.hello('alice', { resume: a.welcome.resume });
    await Promise.all([
      b.send({ type: 'join', room, since: 5 }),
      b.send({ type: 'send', room, id: 'm20', text: 'resent' }),
      b.send({ type: 'send', room, id: 'fresh', text: 'new' }),
    ]);
    const got = await collect(b, 3);
    assert.deepEqual(got.map((e) => e.type), ['joined', 'ack', 'ack'], JSON.stringify(got));
    assert.deepEqual(ids(got[0].history), ids(acks.slice(5)));
    assert.deepEqual(got[1], { ...acks[19], duplicate: true });
    assert.equal(got[2].duplicate, false);
    await closeAll(b);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
});

test('--history off: chat, acks, paging and since work in memory; nothing survives a restart', async () => {
  const dir = tempDir();
  let s = await startServer(['--data-dir', dir, '--history', 'off', ...FAST_RATE]);
  try {
    const room = uniqueRoom('mem');
    const [a, b] = await jsonRoom(s.wsUrl('/ws'), room, ['alice', 'bob']);
    const acks = await fill(a, room, 60);
    assertIncreasing(ids(acks), 'msg_ids');
    for (const ack of acks) assert.equal((await b.expect('message')).msg_id, ack.msg_id);
    const c = await jsonUser(s.wsUrl('/ws'), 'carol');
    const j = await c.join(room);
    assert.deepEqual(ids(j.history), ids(acks.slice(-50)));
    assert.equal(j.truncated, true);
    const back = await c.history(room, { before: j.history[0].msg_id });
    assert.deepEqual([ids(back.messages), back.truncated], [ids(acks.slice(0, 10)), false]);
    const d = await jsonUser(s.wsUrl('/ws'), 'dave');
    assert.deepEqual(ids((await d.join(room, acks[54].msg_id)).history), ids(acks.slice(55)));
    await closeAll(a, b, c, d);

    await s.stopClean();
    s = await startServer(['--data-dir', dir, '--history', 'off', ...FAST_RATE]);
    const e = await jsonUser(s.wsUrl('/ws'), 'eve');
    const je = await e.join(room);
    assert.deepEqual([je.history, je.truncated, je.last_id], [[], false, 0]);
    await closeAll(e);
  } finally {
    await s.stopClean();
    removeDir(dir);
  }
});

test('--history off: a resend of a message still in the room’s history is recognised', async () => {
  // PROTOCOL.md, no-loss delivery 2: "The server recognises a resend as long
  // as the original is still in the room's history" (in memory here).
  await withServer(['--history', 'off'], async (s) => {
    const room = uniqueRoom('memdup');
    const [a, b] = await jsonRoom(s.wsUrl('/ws'), room, ['alice', 'bob']);
    const first = await a.say(room, 'c-1', 'once');
    assert.equal((await b.expect('message')).msg_id, first.msg_id);
    assert.deepEqual(await a.say(room, 'c-1', 'once'), { ...first, duplicate: true });
    const h = await b.history(room, { after: 0 });
    assert.deepEqual(h.messages.map((m) => m.id), ['c-1']);
    await closeAll(a, b);
  });
});
