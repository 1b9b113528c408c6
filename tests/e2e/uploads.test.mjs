// Issue 10 item 7 in the browser: a file chosen with the attach button goes up
// with its progress shown and arrives on the other page as a sized, lazy
// thumbnail that opens the image; a text file as a download link with its name
// and size; a file too large for the server is refused with a message, nothing
// sent. Two pages, light and dark; axe-core finds nothing serious in either
// theme; screenshots of both are kept as artifacts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';

import {
  TIMEOUT,
  accessibilityProblems,
  artifactPath,
  openChat,
  setTheme,
  useBrowser,
} from './lib/browser.mjs';
import { FEATURE_SERVER_ARGS } from './lib/features.mjs';
import { startServer } from './lib/server.mjs';

const browser = useBrowser();

// A real PNG the browser decodes: 480x240 pixels, a red half and a blue half.
function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k += 1) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}
const ihdr = Buffer.alloc(13);
const [W, H] = [480, 240];
ihdr.writeUInt32BE(W, 0);
ihdr.writeUInt32BE(H, 4);
const rows = Buffer.alloc(H * (1 + W * 3));
for (let y = 0; y < H; y += 1) {
  for (let x = 0; x < W; x += 1) rows.set(x < W / 2 ? [220, 38, 38] : [37, 99, 235], y * (1 + W * 3) + 1 + x * 3);
}
ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB
const PNG = Buffer.concat([
  Buffer.from('89504e470d0a1a0a', 'hex'),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(rows)),
  chunk('IEND', Buffer.alloc(0)),
]);

test('an image sent with the attach button shows as a thumbnail on the other page; a text file as a link', async () => {
  const server = await startServer({ args: FEATURE_SERVER_ARGS });
  const alice = await openChat(browser, server, { name: 'alice' });
  const bob = await openChat(browser, server, { name: 'bob', colorScheme: 'dark' });

  await alice.page.locator('#fileInput').setInputFiles({ name: 'red-blue.png', mimeType: 'text/html', buffer: PNG });
  const thumb = bob.page.locator('#messages .message-received .attachment-image img');
  await thumb.waitFor({ timeout: TIMEOUT.message });
  assert.equal(await thumb.getAttribute('alt'), 'red-blue.png');
  assert.equal(await thumb.getAttribute('loading'), 'lazy');
  // Sized from the message before it loads (480x240, scaled to fit 240 px: 240x120).
  assert.deepEqual([await thumb.getAttribute('width'), await thumb.getAttribute('height')], ['240', '120']);
  await bob.page.waitForFunction(() => {
    const img = document.querySelector('#messages .message-received .attachment-image img');
    return img && img.complete && img.naturalWidth === 480;
  }, null, { timeout: TIMEOUT.message });
  const href = await bob.page.locator('#messages .message-received .attachment-image').getAttribute('href');
  assert.match(href, /^\/files\/[0-9a-f]{64}$/);
  // Alice's own copy shows the image too, once stored.
  await alice.page.locator('#messages .message-sent[data-state="sent"] .attachment-image img').waitFor({ timeout: TIMEOUT.message });

  // A text file: a link with its name and size, which downloads under that name.
  await alice.page.locator('#fileInput').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('release notes\n') });
  const link = bob.page.locator('#messages .message-received .attachment-file');
  await link.waitFor({ timeout: TIMEOUT.message });
  assert.equal(await link.locator('.attachment-name').textContent(), 'notes.txt');
  assert.equal(await link.locator('.attachment-size').textContent(), '14 B');
  assert.equal(await link.getAttribute('download'), 'notes.txt');
  assert.match(await link.getAttribute('href'), /^\/files\/[0-9a-f]{64}\?name=notes\.txt$/);

  // Opening the image: a new tab with the file itself.
  const [tab] = await Promise.all([
    bob.page.context().waitForEvent('page'),
    bob.page.locator('#messages .message-received .attachment-image').click(),
  ]);
  await tab.waitForLoadState();
  assert.match(tab.url(), /\/files\/[0-9a-f]{64}$/);
  await tab.close();

  for (const [who, theme] of [[alice, 'light'], [bob, 'dark']]) {
    await setTheme(who.page, theme);
    assert.deepEqual(await accessibilityProblems(who.page), [], `axe (${theme})`);
    await who.page.screenshot({ path: artifactPath(`uploads-${theme}.png`) });
  }
  for (const [who, theme] of [[alice, 'dark'], [bob, 'light']]) {
    await setTheme(who.page, theme);
    assert.deepEqual(await accessibilityProblems(who.page), [], `axe (${theme})`);
  }
  assert.deepEqual([...alice.problems, ...bob.problems], []);
});

test('a file over the server limit is refused with a message and nothing is sent', async () => {
  const server = await startServer({ args: [...FEATURE_SERVER_ARGS, '--max-upload-bytes', '1000'] });
  const alice = await openChat(browser, server, { name: 'alice', locale: 'zh-CN' });
  await alice.page.locator('#fileInput').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(5000, 7) });
  const error = alice.page.locator('#inputError');
  await error.waitFor({ state: 'visible', timeout: TIMEOUT.message });
  assert.equal(await error.textContent(), '文件太大');
  assert.equal(await alice.page.locator('#messages .message-sent').count(), 0);
  assert.equal(await alice.page.locator('#uploadProgress').isHidden(), true);

  // Pasting a file into the box, and dropping one on the conversation, send them too.
  await alice.page.evaluate(() => {
    const files = new DataTransfer();
    files.items.add(new File(['pasted\n'], '粘贴.txt', { type: 'text/plain' }));
    document.querySelector('#messageInput').dispatchEvent(new ClipboardEvent('paste', { clipboardData: files, bubbles: true, cancelable: true }));
  });
  const pasted = alice.page.locator('#messages .message-sent[data-state="sent"] .attachment-file .attachment-name');
  await pasted.first().waitFor({ timeout: TIMEOUT.message });
  assert.equal(await pasted.first().textContent(), '粘贴.txt');
  await alice.page.evaluate(() => {
    const files = new DataTransfer();
    files.items.add(new File(['dropped\n'], 'dropped.txt', { type: 'text/plain' }));
    const main = document.querySelector('#messages').closest('main');
    for (const type of ['dragover', 'drop']) {
      main.dispatchEvent(new DragEvent(type, { dataTransfer: files, bubbles: true, cancelable: true }));
    }
  });
  await alice.page.locator('#messages .attachment-name', { hasText: 'dropped.txt' }).waitFor({ timeout: TIMEOUT.message });
  assert.equal(await alice.page.evaluate(() => document.querySelector('main').classList.contains('dropping')), false);
  assert.deepEqual(alice.problems, []);
});
