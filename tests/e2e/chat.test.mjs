// People chat through the Parley page: connection status, presence notices, sent and
// received messages, English and Chinese UI, rooms from the URL hash; text that looks
// like HTML stays text; Enter during IME composition does not send.
// (Three people in two rooms, history, unread, typing and the phone: rooms.test.mjs.)

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import WebSocket from 'ws';

import {
  TIMEOUT,
  artifactPath,
  message,
  messageTexts,
  openChat,
  typeAndEnter,
  useBrowser,
  waitForMessage,
  waitForState,
} from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

/** Resolves when the plain-text client `ws` receives exactly `text`. */
function plainTextReceived(ws, text) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`plain client never got ${JSON.stringify(text)}`)), TIMEOUT.message);
    ws.on('message', (data) => {
      if (data.toString() !== text) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

const browser = useBrowser();

test('two pages chat: status, presence notices, sent and received messages (en-US)', async () => {
  const server = await startServer();
  const a = await openChat(browser, server, { locale: 'en-US', name: 'alice' });

  // English UI, chosen from navigator.language; no hash means the seed's room, lobby.
  assert.equal(await a.page.locator('#statusText').textContent(), 'Connected');
  assert.equal(await a.page.locator('h1 .chat-title-text').textContent(), 'WebSocket Chat');
  assert.equal(await a.page.getAttribute('html', 'lang'), 'en');
  assert.match(a.page.url(), /#lobby$/);
  assert.equal(await a.page.locator('#roomName').textContent(), '#lobby');
  await waitForMessage(a.page, 'system', 'Connected to the chat server');

  // B joins after A: A (not B) is told that two are online.
  const b = await openChat(browser, server, { locale: 'en-US', name: 'bob' });
  await waitForMessage(a.page, 'system', 'bob joined, 2 online');
  assert.equal(await message(b.page, 'system', 'bob joined, 2 online').count(), 0);

  await typeAndEnter(a.page, 'Hello from A');
  await waitForMessage(b.page, 'received', 'Hello from A');
  await waitForState(await waitForMessage(a.page, 'sent', 'Hello from A'), 'sent');
  assert.equal(await a.page.locator('#messageInput').inputValue(), '', 'input cleared after sending');
  assert.equal(await message(b.page, 'received', 'Hello from A').locator('.message-from').textContent(), 'alice');

  // The send button works as well as Enter.
  await b.page.locator('#messageInput').fill('Hi A, this is B');
  await b.page.locator('#sendButton').click();
  await waitForMessage(a.page, 'received', 'Hi A, this is B');
  await waitForState(await waitForMessage(b.page, 'sent', 'Hi A, this is B'), 'sent');

  // Own messages are never echoed back as received; everything sent is acked.
  assert.deepEqual(await messageTexts(a.page, 'received'), ['Hi A, this is B']);
  assert.deepEqual(await messageTexts(b.page, 'received'), ['Hello from A']);
  assert.equal(await a.page.locator('#messages .message-sent:not([data-state="sent"])').count(), 0);

  // Whitespace-only input sends nothing.
  await typeAndEnter(a.page, '   ');
  assert.deepEqual(await messageTexts(a.page, 'sent'), ['Hello from A']);

  // The seed's layout in colours that meet WCAG AA (4.5:1; issue 10): a blue header,
  // green own messages on the right, white received ones on the left, quiet notices.
  const look = await a.page.evaluate(() => {
    const style = (selector) => getComputedStyle(document.querySelector(selector));
    const list = document.getElementById('messages').getBoundingClientRect();
    const sent = document.querySelector('.message-sent').getBoundingClientRect();
    const received = document.querySelector('.message-received').getBoundingClientRect();
    return {
      header: style('.chat-header').backgroundColor,
      sent: style('.message-sent').backgroundColor,
      received: style('.message-received').backgroundColor,
      system: style('.message-system').color,
      systemAlign: style('.message-system').textAlign,
      dot: style('#statusIndicator').backgroundColor,
      sentOnRight: list.right - sent.right < sent.left - list.left,
      receivedOnLeft: received.left - list.left < list.right - received.right,
    };
  });
  assert.deepEqual(look, {
    header: 'rgb(29, 78, 216)',
    sent: 'rgb(4, 120, 87)',
    received: 'rgb(255, 255, 255)',
    system: 'rgb(75, 85, 99)',
    systemAlign: 'center',
    dot: 'rgb(74, 222, 128)',
    sentOnRight: true,
    receivedOnLeft: true,
  });

  await a.page.screenshot({ path: artifactPath('chat-two-pages.png') });

  // B leaves: A is told one is online.
  await b.context.close();
  await waitForMessage(a.page, 'system', 'bob left, 1 online');

  assert.deepEqual([...a.problems, ...b.problems], []);
  await a.context.close();
});

test('text that looks like HTML is shown as text and never runs', async () => {
  const server = await startServer();
  const a = await openChat(browser, server, { locale: 'en-US', name: 'alice' });
  const b = await openChat(browser, server, { locale: 'en-US', name: 'bob' });
  await waitForMessage(a.page, 'system', 'bob joined, 2 online');

  const payloads = [
    '<img src=x onerror="window.__xss=1">',
    '<script>window.__xss=2</script>',
    '<b>bold?</b> &amp; &lt;',
  ];
  for (const text of payloads) await typeAndEnter(a.page, text);
  for (const text of payloads) await waitForMessage(b.page, 'received', text);

  for (const page of [a.page, b.page]) {
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    // No element was made from the text: each message text is a single text node.
    const kinds = page === a.page ? 'sent' : 'received';
    const shapes = await page.locator(`#messages .message-${kinds} .message-text`).evaluateAll((els) =>
      els.map((el) => ({ text: el.textContent, children: el.childElementCount })));
    assert.deepEqual(shapes, payloads.map((text) => ({ text, children: 0 })));
    assert.equal(await page.locator('#messages img, #messages script, #messages b').count(), 0);
  }
  await b.page.screenshot({ path: artifactPath('xss-as-text.png') });

  assert.deepEqual([...a.problems, ...b.problems], []);
  await a.context.close();
  await b.context.close();
});

test('Enter that confirms an IME composition does not send; the next Enter does (zh-CN)', async () => {
  const server = await startServer();
  const { page, context, problems } = await openChat(browser, server, { locale: 'zh-CN', name: '小红' });
  assert.equal(await page.locator('#statusText').textContent(), '已连接');
  const input = page.locator('#messageInput');
  await input.focus();

  // Type "ni" through the IME, as a pinyin user would, and press Enter mid-composition.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Input.imeSetComposition', { text: 'ni', selectionStart: 2, selectionEnd: 2 });
  const enter = { key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13 };
  await cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', ...enter });
  await cdp.send('Input.dispatchKeyEvent', { type: 'char', text: '\r', ...enter });
  await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', ...enter });
  assert.equal(await page.locator('#messages .message-sent').count(), 0, 'nothing sent while composing');

  // The IME commits the character; now Enter sends it.
  await cdp.send('Input.insertText', { text: '你好' });
  assert.equal(await input.inputValue(), '你好');
  await input.press('Enter');
  await waitForState(await waitForMessage(page, 'sent', '你好'), 'sent');
  // Sent: no status any more (issue 10: shown only while pending or failed).
  assert.equal(await message(page, 'sent', '你好').locator('.message-status').textContent(), '');
  assert.equal(await input.inputValue(), '');

  assert.deepEqual(problems, []);
  await context.close();
});

test('the URL hash picks the room: #general is apart from the lobby', async () => {
  const server = await startServer();
  const a = await openChat(browser, server, { locale: 'en-US', name: 'alice', hash: '#general' });
  const b = await openChat(browser, server, { locale: 'en-US', name: 'bob', hash: '#general' });
  const lobby = await openChat(browser, server, { locale: 'en-US', name: 'lou' });
  assert.equal(await a.page.locator('#roomName').textContent(), '#general');
  assert.equal(await lobby.page.locator('#roomName').textContent(), '#lobby');
  assert.equal(await a.page.title(), '#general · WebSocket Chat');
  await waitForMessage(a.page, 'system', 'bob joined, 2 online');

  // A plain-text client of the seed's kind on /ws/general is in the same room.
  const raw = new WebSocket(server.wsUrl('/ws/general'));
  const rawGotIt = plainTextReceived(raw, 'alice: only for general');
  await once(raw, 'open');
  // (How guests are named is checked in seed-page.test.mjs; here only the count matters.)
  await b.page.locator('#messages .message-system .message-text', { hasText: /^guest-\d+ joined, 3 online$/ }).waitFor();
  await typeAndEnter(a.page, 'only for general');
  await waitForMessage(b.page, 'received', 'only for general');
  await rawGotIt;

  // Someone joins the lobby: its count is its own (2, not 5), and it saw nothing of #general.
  const other = await openChat(browser, server, { locale: 'en-US', name: 'lee' });
  await waitForMessage(lobby.page, 'system', 'lee joined, 2 online');
  assert.deepEqual(await messageTexts(lobby.page, 'received'), []);
  assert.deepEqual(await messageTexts(other.page, 'received'), []);
  raw.close();

  assert.deepEqual([...a.problems, ...b.problems, ...lobby.problems, ...other.problems], []);
  for (const { context } of [a, b, lobby, other]) await context.close();
});
