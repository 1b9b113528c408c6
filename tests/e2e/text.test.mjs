// web/text.js: which parts of a message become links, the name rules of
// PROTOCOL.md as the client checks them, UTF-8 sizes and client ids.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ROOM_NAME, isRoomName, linkify, makeClientId, nameProblem, normalizeName, normalizeRoom, safeHref, utf8Length,
} from '../../web/text.js';

const links = (text) => linkify(text).filter((p) => p.href).map((p) => p.href);

test('http and https URLs become links; the pieces give back the text exactly', () => {
  const cases = {
    'see https://example.com': ['https://example.com/'],
    'http://a.example/x?y=1&z=2#f end': ['http://a.example/x?y=1&z=2#f'],
    'two: https://a.example, https://b.example.': ['https://a.example/', 'https://b.example/'],
    '(see https://x.example/a)': ['https://x.example/a'],
    'https://en.wikipedia.org/wiki/Foo_(bar) ok': ['https://en.wikipedia.org/wiki/Foo_(bar)'],
    '中文https://例子.example/路径。': ['https://xn--fsqu00a.example/%E8%B7%AF%E5%BE%84'],
    'HTTPS://EXAMPLE.COM/A': ['https://example.com/A'],
  };
  for (const [text, expected] of Object.entries(cases)) {
    assert.deepEqual(links(text), expected, text);
    assert.equal(linkify(text).map((p) => p.text).join(''), text, text);
  }
});

test('nothing else is a link: javascript:, data:, schemeless, quotes and markup end a URL', () => {
  for (const text of [
    'javascript:alert(1)',
    'JaVaScRiPt:alert(document.cookie)',
    'data:text/html,<script>alert(1)</script>',
    'www.example.com',
    'ftp://example.com/file',
    'xhttps://example.com',
    'https://',
    '<a href="javascript:alert(1)">x</a>',
  ]) {
    assert.deepEqual(links(text), [], text);
  }
  assert.deepEqual(links('https://example.com/"onmouseover="alert(1)'), ['https://example.com/']);
  assert.deepEqual(links('<img src=https://example.com/x.png onerror=alert(1)>'), ['https://example.com/x.png']);
  assert.equal(safeHref('javascript:alert(1)'), null);
  assert.equal(safeHref('https://example.com'), 'https://example.com/');
});

test('names: ASCII whitespace trimmed, 1–32 code points, no control characters', () => {
  assert.equal(normalizeName(' \t alice \n'), 'alice');
  assert.equal(normalizeName('\u00a0alice\u3000'), '\u00a0alice\u3000', 'other spaces are kept');
  assert.equal(nameProblem(''), 'empty');
  assert.equal(nameProblem('a'.repeat(32)), null);
  assert.equal(nameProblem('a'.repeat(33)), 'tooLong');
  assert.equal(nameProblem('😀'.repeat(32)), null, 'code points, not UTF-16 units');
  assert.equal(nameProblem('👨‍👩‍👧'), null);
  assert.equal(nameProblem('a\u0007b'), 'control');
  assert.equal(nameProblem('a\u0085b'), 'control');
  assert.equal(nameProblem('<img src=x onerror=alert(1)>'), null, 'markup is just characters');
});

test('rooms, UTF-8 length, client ids', () => {
  assert.ok(ROOM_NAME.test('general'));
  assert.ok(ROOM_NAME.test('a.b_c-D9'));
  assert.ok(!ROOM_NAME.test('a b'));
  assert.ok(!ROOM_NAME.test('x'.repeat(65)));
  assert.equal(utf8Length('é中😀\n'), 2 + 3 + 4 + 1);
  assert.equal(makeClientId(0x18bcfe56800, 7), '18bcfe56800-7');
});

// Issue 10 item 6: room names in any script, within PROTOCOL.md's rule.
test('room names in any script; NFC; marks, invisible characters, spaces, symbols and dots alone refused', () => {
  for (const name of ['我的房间', 'café', 'команда', 'Team_2.0-beta', '.hidden', 'a..b', 'हिन्दी', '١٢٣', 'x'.repeat(64)]) {
    assert.ok(isRoomName(name), name);
  }
  for (const name of ['', '.', '..', '...', 'a b', '\u0301abc', 'a\u200db', 'a\u3164b', 'rock🎸', 'a/b', 'x'.repeat(65), 'cafe\u0301', '\u202eevil']) {
    assert.ok(!isRoomName(name), JSON.stringify(name));
  }
  assert.equal(normalizeRoom('  #cafe\u0301 '), 'café');
  assert.ok(isRoomName(normalizeRoom('#cafe\u0301')));
});
