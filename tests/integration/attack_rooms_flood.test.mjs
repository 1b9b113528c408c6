// Attack (issue 7): connections create rooms without end (20 connections
// made 13,200 rooms in 40 s, never pruned). Now at most --max-rooms rooms are
// open at once across the server (a relaxed count: each loop may open one
// past it at the same moment); a join that would open one more is refused
// with `room_limit` (parley.v1) or, for the seed's protocol, the notice
// `系统通知: 房间数量已达上限` and close 1013; a room with nobody in it and no
// work in flight is forgotten (its last id kept for the history), so the
// rooms come back when the flooders leave. A parley.v1 connection is also
// held to 32 rooms, and 20 errors within 10 s close it (1008).
//
// Scaled: --max-rooms 100 against 10 connections × 20 new rooms. Asserted,
// with an honest pair chatting in a room of its own (opened first):
//   - the `parley_chat_rooms` gauge never passes --max-rooms + loops, the
//     refusals are counted (`parley_chat_rooms_refused_total`);
//   - the flooders get `room_limit` for the rest; a plain-text client asking
//     for a new room gets the notice and close 1013; an honest parley.v1 join
//     of a new room gets `room_limit`, of an open one succeeds;
//   - when the flooders leave, the gauge falls back to the honest pair's
//     room, and a new room can be opened again;
//   - the honest pair's latency bound, nothing lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, startServer, uniqueRoom } from './lib/server.mjs';
import { jsonUser } from './lib/json_client.mjs';
import {
  SMALL_ASAN_QUARANTINE, assertHonest, eventually, honestPairs, metric, startChatAttacker,
  METRICS_ARGS,
} from './lib/attack.mjs';

const MAX_ROOMS = 100;
const LOOPS = 2;

test('rooms flood past --max-rooms: refused with room_limit, pruned when empty, honest pair unharmed', async () => {
  const args = ['--threads', String(LOOPS), '--max-rooms', String(MAX_ROOMS)];
  const server = await startServer([...args, ...METRICS_ARGS], { env: SMALL_ASAN_QUARANTINE });
  const control = await startServer([...args, ...METRICS_ARGS], { env: SMALL_ASAN_QUARANTINE });
  const attacker = startChatAttacker(server, { mode: 'rooms-flood', conns: 10, rooms: 20, prefix: uniqueRoom('flood') });
  try {
    const honest = await honestPairs(server, control);
    const open = await jsonUser(server.wsUrl('/ws'), 'bystander', { rooms: 'open-room' });
    await attacker.next('ready');
    attacker.go();
    const flood = await attacker.next('attacked', 60000);
    const rooms = await metric(server, 'parley_chat_rooms');
    const refused = await metric(server, 'parley_chat_rooms_refused_total');
    console.log(`REPORT rooms-flood ${JSON.stringify({ ...flood, rooms, refused })}`);
    assert.ok(rooms <= MAX_ROOMS + LOOPS, `${rooms} rooms open`);
    assert.ok(flood.joined + 2 >= MAX_ROOMS - LOOPS && flood.joined + 2 <= MAX_ROOMS + LOOPS, JSON.stringify(flood));
    assert.equal(flood.errors.room_limit, 200 - flood.joined, JSON.stringify(flood));
    assert.equal(refused, flood.errors.room_limit);

    // The seed's protocol: a notice, then close 1013.
    const plain = await connect(server.wsUrl(`/ws/${uniqueRoom('plain-new')}`));
    assert.equal(await plain.nextText(10000), '系统通知: 房间数量已达上限');
    assert.equal((await plain.waitClose(10000)).code, 1013);
    // parley.v1: a new room is refused, an open one is not.
    const j = await jsonUser(server.wsUrl('/ws'), 'newcomer');
    assert.equal((await j.join(uniqueRoom('json-new'))).code, 'room_limit');
    assert.equal((await j.join('open-room')).type, 'joined');

    // The flooders leave: their rooms are forgotten.
    attacker.stop();
    await attacker.next('outcome');
    await eventually(() => metric(server, 'parley_chat_rooms'), (n) => n === 2, 20000,
      'the flooders\' rooms to be pruned (the honest pair\'s and open-room stay)');
    assert.equal((await j.join(uniqueRoom('json-new'))).type, 'joined');
    j.close();
    open.close();
    assertHonest(assert, await honest.stop());
  } finally {
    attacker.kill();
    await server.stopClean();
    await control.stopClean();
  }
});
