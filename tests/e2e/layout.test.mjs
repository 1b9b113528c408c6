// The page's layout and look (issue 10, items 1, 2 and the layout bugs): the chat fills
// the window with one scrollbar; messages of one person grouped; day separators;
// multi-line input; the "new messages ↓" button and the unread line; a CJK/emoji room
// opens at the very bottom; axe-core finds no serious or critical problem in either
// theme on a desktop and a phone; the theme follows the system and the toggle is
// remembered. Screenshots of both themes on both screens go to $PARLEY_ARTIFACTS.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  PHONE,
  TIMEOUT,
  accessibilityProblems,
  artifactPath,
  distanceFromBottom,
  message,
  messageTexts,
  openChat,
  setTheme,
  typeAndEnter,
  useBrowser,
  waitForMessage,
  waitForState,
  waitForStatus,
} from './lib/browser.mjs';
import { ParleyWs } from './lib/parley-ws.mjs';
import { startServer } from './lib/server.mjs';

const browser = useBrowser();

const LAPTOP = Object.freeze({ width: 1280, height: 600 });

/** Waits for web fonts (CJK, emoji fallbacks) and two frames, so the layout is final. */
function settled(page) {
  return page.evaluate(async () => {
    await document.fonts.ready;
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  });
}

test('1280×600: the chat fills the window with one scrollbar; grouping; multi-line input (en-US)', async () => {
  const server = await startServer();
  const dave = await ParleyWs.connect(server, 'dave');
  await dave.join('lobby');
  await dave.say('lobby', 'one', 'two', 'three');
  const { page, context, problems } = await openChat(browser, server, { name: 'alice', viewport: LAPTOP });
  await waitForMessage(page, 'received', 'three');

  // Issue 10: at 1280×600 the page itself scrolled. Now the document is the window.
  const sizes = await page.evaluate(() => ({
    document: document.documentElement.scrollHeight,
    body: document.body.scrollHeight,
    window: innerHeight,
    width: document.documentElement.scrollWidth,
  }));
  assert.ok(sizes.document <= sizes.window && sizes.body <= sizes.window, JSON.stringify(sizes));
  assert.ok(sizes.width <= LAPTOP.width, JSON.stringify(sizes));
  const input = await page.locator('#inputArea').boundingBox();
  assert.ok(input.y + input.height <= LAPTOP.height, 'the input is on screen');
  // The list fills the width beside the panel and the height between header and input.
  const list = await page.locator('#messages').boundingBox();
  assert.ok(list.height > LAPTOP.height * 0.7, JSON.stringify(list));

  // dave's three messages: one name and time, then two grouped under it; one day line.
  const grouping = await page.locator('#messages .message-received').evaluateAll((els) =>
    els.map((el) => ({ text: el.querySelector('.message-text').textContent, grouped: el.classList.contains('grouped') })));
  assert.deepEqual(grouping, [
    { text: 'one', grouped: false },
    { text: 'two', grouped: true },
    { text: 'three', grouped: true },
  ]);
  assert.ok((await message(page, 'received', 'two').locator('.message-meta').boundingBox()).width <= 1, 'no repeated name');
  assert.equal(await message(page, 'received', 'two').locator('.message-from').textContent(), 'dave', 'still read out');
  assert.deepEqual(await page.locator('#messages .day-separator').allTextContents(), ['Today']);
  // The list is an aria-live log: the day line stays the same node as messages come
  // (a re-inserted one would be read out again).
  const dayLine = await page.locator('#messages .day-separator').elementHandle();

  // Shift+Enter starts a new line, Enter sends both lines as one message.
  const box = page.locator('#messageInput');
  await box.fill('line one');
  await box.press('Shift+Enter');
  await box.pressSequentially('line two');
  const oneLine = (await box.boundingBox()).height;
  assert.equal(await box.inputValue(), 'line one\nline two');
  await box.press('Shift+Enter');
  await box.pressSequentially('line three');
  assert.ok((await box.boundingBox()).height > oneLine, 'the box grows with its lines');
  await box.press('Enter');
  const sent = await waitForMessage(page, 'sent', 'line one\nline two\nline three');
  await waitForState(sent, 'sent');
  assert.equal(await box.inputValue(), '');
  await dave.next((e) => e.type === 'message' && e.text === 'line one\nline two\nline three');
  // Own message after dave's: a new group (not grouped with his).
  assert.equal(await sent.evaluate((el) => el.classList.contains('grouped')), false);
  assert.equal(await dayLine.evaluate((el) => el.isConnected), true, 'the same day line');

  const scrollbars = await page.evaluate(() => [...document.querySelectorAll('*')]
    .filter((el) => el.scrollHeight > el.clientHeight + 1 && ['auto', 'scroll'].includes(getComputedStyle(el).overflowY))
    .map((el) => el.id || el.className));
  assert.deepEqual(scrollbars.filter((id) => id !== 'messages' && id !== 'messageInput'), [], 'no other scrolling box');
  await page.screenshot({ path: artifactPath('laptop-1280x600.png') });

  dave.close();
  assert.deepEqual(problems, []);
  await context.close();
});

test('day separators: messages either side of midnight get a line each and are not grouped', async () => {
  const server = await startServer();
  // The page's clock (not the server's): own messages typed while the server is down
  // carry the page's time, so the test can put them either side of a midnight.
  const { page, context, problems } = await openChat(browser, server, {
    name: 'alice',
    timezoneId: 'UTC',
    beforeGoto: (p) => p.clock.install({ time: new Date(Date.UTC(2026, 4, 1, 23, 58, 0)) }),
  });
  await server.stop();
  await waitForStatus(page, 'disconnected');
  await typeAndEnter(page, 'late on the first of May');
  await page.clock.fastForward(4 * 60 * 1000);
  await typeAndEnter(page, 'just after midnight');
  await waitForMessage(page, 'sent', 'just after midnight');
  const separators = await page.locator('#messages .day-separator').allTextContents();
  assert.equal(separators.length, 2, JSON.stringify(separators));
  // The page's today is May 2.
  assert.deepEqual(separators, ['Yesterday', 'Today']);
  assert.equal(await message(page, 'sent', 'just after midnight').evaluate((el) => el.classList.contains('grouped')), false);
  assert.deepEqual(problems, []);
  await context.close();
});

test('scrolled up: "new messages ↓" appears and brings the reader down; coming back shows an unread line', async () => {
  const server = await startServer({ args: ['--rate', '1000', '--rate-burst', '1000'] });
  const dave = await ParleyWs.connect(server, 'dave');
  await dave.join('lobby');
  await dave.say('lobby', ...Array.from({ length: 40 }, (_, i) => `filler ${i + 1}`));
  const { page, context, problems } = await openChat(browser, server, { name: 'alice' });
  await waitForMessage(page, 'received', 'filler 40');
  await settled(page);
  assert.ok(await distanceFromBottom(page) <= 1, 'opens at the bottom');

  // The reader scrolls up; two messages arrive: the list stays put, a button says so.
  await page.locator('#messages').hover();
  await page.mouse.wheel(0, -3000);
  await page.waitForFunction(() => {
    const el = document.getElementById('messages');
    return el.scrollHeight - el.scrollTop - el.clientHeight > 200;
  }, null, { timeout: TIMEOUT.message });
  const where = await page.locator('#messages').evaluate((el) => el.scrollTop);
  await dave.say('lobby', 'news 1', 'news 2');
  await waitForMessage(page, 'received', 'news 2');
  await page.locator('#jumpToNew', { hasText: '2 new messages ↓' }).waitFor({ timeout: TIMEOUT.message });
  assert.equal(await page.locator('#messages').evaluate((el) => el.scrollTop), where, 'the reader keeps their place');
  await page.screenshot({ path: artifactPath('new-messages-button.png') });
  await page.locator('#jumpToNew').click();
  await page.locator('#jumpToNew').waitFor({ state: 'hidden', timeout: TIMEOUT.message });
  assert.ok(await distanceFromBottom(page) <= 1);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'messageInput');

  // At the bottom, a new message just scrolls in: no button.
  await dave.say('lobby', 'news 3');
  await waitForMessage(page, 'received', 'news 3');
  await settled(page);
  assert.equal(await page.locator('#jumpToNew').isVisible(), false);
  assert.ok(await distanceFromBottom(page) <= 1);

  // Away in another room, two messages arrive in the lobby: back there, a line marks them.
  await page.evaluate(() => { location.hash = 'elsewhere'; });
  await page.locator('#messages .room-log[data-room="elsewhere"][data-joined="true"]').waitFor({ state: 'attached' });
  await dave.say('lobby', 'while away 1', 'while away 2');
  await page.locator('#roomList li[data-room="lobby"] .unread-badge', { hasText: '2' }).waitFor({ timeout: TIMEOUT.message });
  await page.locator('#roomList a[href="#lobby"]').click();
  await waitForMessage(page, 'received', 'while away 2');
  const order = await page.locator('#messages .room-log > *').evaluateAll((els) => els.map((el) =>
    (el.classList.contains('unread-divider') ? '--new--' : el.querySelector('.message-text')?.textContent ?? '')));
  assert.deepEqual(order.slice(-4), ['news 3', '--new--', 'while away 1', 'while away 2']);
  assert.equal(await page.locator('.unread-divider').textContent(), 'New messages');
  assert.equal(await message(page, 'received', 'while away 1').evaluate((el) => el.classList.contains('grouped')), false,
    'the line starts a new group');
  await page.screenshot({ path: artifactPath('unread-divider.png') });

  dave.close();
  assert.deepEqual(problems, []);
  await context.close();
});

test('a room whose history is CJK and emoji opens at the very bottom; zh-CN "beginning" wording', async () => {
  const server = await startServer({ args: ['--rate', '1000', '--rate-burst', '1000'] });
  const writer = await ParleyWs.connect(server, '小明');
  await writer.join('cjk');
  const texts = Array.from({ length: 30 }, (_, i) => `第${i + 1}条:你好世界 😀🎉👨‍👩‍👧 こんにちは 안녕하세요`);
  await writer.say('cjk', ...texts);
  writer.close();
  for (const viewport of [{ width: 1000, height: 760 }, PHONE]) {
    const { page, context, problems } = await openChat(browser, server, { name: '小红', hash: '#cjk', locale: 'zh-CN', viewport });
    await waitForMessage(page, 'received', texts.at(-1));
    await settled(page);
    // Issue 10: the room opened 26 px above the bottom, the last message cut off.
    assert.ok(await distanceFromBottom(page) <= 1, `at the bottom (${viewport.width} px wide)`);
    const last = await message(page, 'received', texts.at(-1)).boundingBox();
    const list = await page.locator('#messages').boundingBox();
    assert.ok(last.y + last.height <= list.y + list.height + 0.5, 'the last message is whole');
    // "This is the beginning of #cjk", not "this is the first message of #cjk".
    assert.equal(await page.locator('.log-top').textContent(), '#cjk 的聊天记录从这里开始');
    assert.deepEqual(await messageTexts(page, 'received'), texts);
    assert.deepEqual(problems, []);
    await context.close();
  }
});

test('axe-core: no serious or critical problem, light and dark, desktop and phone; the theme toggle is remembered', async () => {
  const server = await startServer();
  const friend = await ParleyWs.connect(server, 'bob');
  await friend.join('lobby');
  await friend.say('lobby', 'Hi! **Welcome** to `#lobby`, see https://example.com/docs', 'Ping @alice when you are here');
  for (const [label, viewport] of [['desktop', { width: 1000, height: 640 }], ['phone', { width: 390, height: 700 }]]) {
    // The system says dark: the page follows it until the toggle is used.
    const { page, context, problems } = await openChat(browser, server, {
      name: 'alice',
      viewport,
      colorScheme: 'dark',
    });
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    assert.equal(await page.locator('#themeToggle').getAttribute('aria-pressed'), 'true');
    await waitForMessage(page, 'received', 'Ping @alice when you are here');
    await typeAndEnter(page, 'Hello bob, _glad_ to be here');
    await waitForState(await waitForMessage(page, 'sent', 'Hello bob, glad to be here'), 'sent');
    await friend.say('lobby', 'Great, see you around');
    await waitForMessage(page, 'received', 'Great, see you around');
    await settled(page);
    for (const theme of ['dark', 'light']) {
      await setTheme(page, theme);
      await settled(page);
      assert.deepEqual(await accessibilityProblems(page), [], `${label}, ${theme}`);
      await page.screenshot({ path: artifactPath(`look-${label}-${theme}.png`) });
    }
    if (label === 'phone') {
      await page.locator('#panelToggle').click();
      await page.waitForFunction(() => document.getElementById('sidePanel').getBoundingClientRect().left === 0);
      assert.deepEqual(await accessibilityProblems(page), [], 'phone, panel open');
      await page.screenshot({ path: artifactPath('look-phone-panel-light.png') });
    }
    // Light was chosen against a dark system: remembered across a reload.
    await page.reload();
    await waitForStatus(page, 'connected');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
    assert.equal(await page.evaluate(() => localStorage.getItem('parley.theme')), 'light');
    // Choosing dark again (what the system says) means following the system again.
    await setTheme(page, 'dark');
    assert.equal(await page.evaluate(() => localStorage.getItem('parley.theme')), null);
    assert.deepEqual(problems, []);
    await context.close();
  }
  friend.close();
});
