// One client breaking the protocol is closed with the right code; the others
// in its room get the leave notice and keep chatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverForFile, connectRoom, uniqueRoom, joinNotice, leaveNotice } from './lib/server.mjs';
import { RawClient, OP, closePayload } from './lib/raw.mjs';

const server = serverForFile();

const cases = [
  ['an unmasked frame', 1002, (r) => r.sendFrame({ opcode: OP.TEXT, payload: Buffer.from('hi'), mask: false })],
  ['RSV1 without an extension', 1002, (r) => r.sendFrame({ opcode: OP.TEXT, payload: Buffer.from('hi'), rsv: 4 })],
  ['a reserved opcode', 1002, (r) => r.sendFrame({ opcode: 0x3, payload: Buffer.from('hi') })],
  ['a continuation without a start', 1002, (r) => r.sendFrame({ opcode: OP.CONT, payload: Buffer.from('hi') })],
  ['a 126-byte ping', 1002, (r) => r.sendFrame({ opcode: OP.PING, payload: Buffer.alloc(126) })],
  ['invalid UTF-8', 1007, (r) => r.sendFrame({ opcode: OP.TEXT, payload: Buffer.from([0x68, 0xc3, 0x28]) })],
  ['a binary message', 1003, (r) => r.sendFrame({ opcode: OP.BINARY, payload: Buffer.from([0, 1, 2]) })],
  ['a 10 MiB frame header (payload never sent)', 1009, (r) => r.sendFrame({ opcode: OP.TEXT, declaredLength: 10 * 1024 * 1024 })],
  ['close code 1005', 1002, (r) => r.sendFrame({ opcode: OP.CLOSE, payload: closePayload(1005) })],
  ['garbage bytes', 1002, (r) => r.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))],
];

for (const [what, expected, misbehave] of cases) {
  test(`${what} → ${expected}, the others keep chatting`, async () => {
    const room = `/ws/${uniqueRoom()}`;
    const [a, b] = await connectRoom(server.wsUrl(room), 2);
    const bad = await RawClient.connect(server.port, room);
    assert.equal(await a.nextText(), joinNotice(3));
    assert.equal(await b.nextText(), joinNotice(3));

    misbehave(bad);
    const { code } = await bad.expectClose();
    assert.equal(code, expected);

    assert.equal(await a.nextText(), leaveNotice(2));
    assert.equal(await b.nextText(), leaveNotice(2));
    await a.send(`after ${what}`);
    assert.equal(await b.nextText(), `after ${what}`);
    await b.send('reply');
    assert.equal(await a.nextText(), 'reply');
    a.close(1000); b.close(1000);
    await Promise.all([a.waitClose(), b.waitClose()]);
  });
}
