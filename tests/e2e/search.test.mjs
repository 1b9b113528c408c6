// Issue 10 item 5 in the browser: the search box of a room (results newest first,
// paged, the query marked, CJK), a click on a result shows the message in its
// context (history `around` it when it is far back) and the messages between it and
// the rest are loaded as the reader scrolls to them; a reply's quote of a message
// far back does the same. Desktop (en-US) and phone (zh-CN), both themes, axe-core.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  PHONE,
  TIMEOUT,
  accessibilityProblems,
  artifactPath,
  openChat,
  setTheme,
  useBrowser,
  waitForMessage,
} from './lib/browser.mjs';
import { FEATURE_SERVER_ARGS, messageById } from './lib/features.mjs';
import { ParleyWs } from './lib/parley-ws.mjs';
import { startServer } from './lib/server.mjs';

const browser = useBrowser();

/** Waits until message `msgId` is inside the list's view and marked as the one asked for. */
function waitForRevealed(page, msgId) {
  return page.waitForFunction((id) => {
    const el = document.querySelector(`#messages .message[data-msg-id="${id}"]`);
    if (!el) return false;
    const list = document.getElementById('messages').getBoundingClientRect();
    const box = el.getBoundingClientRect();
    return box.top >= list.top - 1 && box.bottom <= list.bottom + 1 && el.classList.contains('flash');
  }, msgId, { timeout: TIMEOUT.message });
}

const resultTexts = (page) => page.locator('#searchResults .search-result-text').allTextContents();

test('search: newest first, paged, case-insensitive; a result far back is shown in context and the hole fills as one scrolls (en-US)', async () => {
  const server = await startServer({ args: [...FEATURE_SERVER_ARGS, '--rate', '1000', '--rate-burst', '1000'] });
  const dave = await ParleyWs.connect(server, 'dave');
  await dave.join('lobby');
  const texts = Array.from({ length: 200 }, (_, i) => (i + 1) % 8 === 0 ? `Needle number ${i + 1}` : `filler ${i + 1}`);
  const acks = await dave.say('lobby', ...texts);
  const idOf = (n) => acks[n - 1].msg_id;
  const { page, context, problems } = await openChat(browser, server, { name: 'alice' });
  await waitForMessage(page, 'received', 'Needle number 200');
  assert.equal(await messageById(page, idOf(8)).count(), 0, 'far back: not on the page');

  await page.locator('#searchToggle').click();
  assert.equal(await page.locator('#searchToggle').getAttribute('aria-expanded'), 'true');
  assert.equal(await page.locator('#searchHeading').textContent(), 'Search in #lobby');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'searchInput');
  await page.locator('#searchInput').fill('NEEDLE');
  await page.locator('#searchInput').press('Enter');
  await page.locator('#searchStatus', { hasText: '20 found so far, older ones may match' }).waitFor({ timeout: TIMEOUT.message });
  const first = await resultTexts(page);
  assert.deepEqual(first, Array.from({ length: 20 }, (_, i) => `Needle number ${200 - 8 * i}`));
  assert.deepEqual(await page.locator('#searchResults mark').first().textContent(), 'Needle', 'the match is marked');
  await page.locator('#searchMore').click();
  await page.locator('#searchStatus', { hasText: '25 results' }).waitFor({ timeout: TIMEOUT.message });
  assert.deepEqual((await resultTexts(page)).slice(20), ['Needle number 40', 'Needle number 32', 'Needle number 24', 'Needle number 16', 'Needle number 8']);
  assert.equal(await page.locator('#searchMore').isVisible(), false);
  for (const theme of ['light', 'dark']) {
    await setTheme(page, theme);
    assert.deepEqual(await accessibilityProblems(page), [], `search panel, ${theme}`);
    await page.screenshot({ path: artifactPath(`search-desktop-${theme}.png`) });
  }
  await setTheme(page, 'light');

  // The oldest result: fetched with its context, shown, marked.
  await page.locator(`#searchResults .search-result[data-msg-id="${idOf(8)}"]`).click();
  await waitForRevealed(page, idOf(8));
  assert.equal(await page.evaluate(() => document.activeElement.dataset.msgId), String(idOf(8)));
  await page.screenshot({ path: artifactPath('search-jump.png') });
  // Between this stretch and the newest messages: a hole, filled as the reader
  // scrolls down to it, until every message is there once, in order.
  assert.equal(await page.locator('#messages .gap-line').count(), 1);
  for (let i = 0; i < 40 && (await page.locator('#messages .gap-line').count()) > 0; i++) {
    await page.locator('#messages .gap-line').first().scrollIntoViewIfNeeded();
    await page.waitForTimeout(50);
  }
  await page.locator('#messages .gap-line').waitFor({ state: 'detached', timeout: TIMEOUT.message });
  const shown = await page.locator('#messages .message-received').evaluateAll((els) => els.map((el) => Number(el.dataset.msgId)));
  const from = shown.indexOf(idOf(1));
  assert.ok(from >= 0, 'the context reaches the first message');
  assert.deepEqual(shown.slice(from), acks.map((a) => a.msg_id), 'every message once, in order');

  // Closing the search puts the focus back on its button; the query is kept per room.
  await page.locator('#searchClose').click();
  assert.equal(await page.locator('#searchPanel').isVisible(), false);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'searchToggle');
  dave.close();
  assert.deepEqual(problems, []);
  await context.close();
});

test('a reply quoting a message far back loads it around and shows it', async () => {
  const server = await startServer({ args: [...FEATURE_SERVER_ARGS, '--rate', '1000', '--rate-burst', '1000'] });
  const dave = await ParleyWs.connect(server, 'dave');
  await dave.join('lobby');
  const [original] = await dave.say('lobby', 'the plan: ship on Friday');
  await dave.say('lobby', ...Array.from({ length: 80 }, (_, i) => `chatter ${i + 1}`));
  await dave.request({ type: 'send', room: 'lobby', text: 'as I said above', reply_to: original.msg_id });
  const { page, context, problems } = await openChat(browser, server, { name: 'alice' });
  const reply = await waitForMessage(page, 'received', 'as I said above');
  assert.equal(await reply.locator('.quote-text').textContent(), 'the plan: ship on Friday');
  assert.equal(await messageById(page, original.msg_id).count(), 0);
  await reply.locator('.message-quote').click();
  await waitForRevealed(page, original.msg_id);
  assert.equal(await messageById(page, original.msg_id).locator('.message-text').textContent(), 'the plan: ship on Friday');
  await page.locator('#jumpToNew').click();
  await page.waitForFunction(() => {
    const el = document.getElementById('messages');
    return el.scrollHeight - el.scrollTop - el.clientHeight <= 1;
  }, null, { timeout: TIMEOUT.message });
  dave.close();
  assert.deepEqual(problems, []);
  await context.close();
});

test('搜索 (zh-CN, phone): CJK queries of two and three characters, marked; a result closes the panel and shows the message', async () => {
  const server = await startServer({ args: FEATURE_SERVER_ARGS });
  const ming = await ParleyWs.connect(server, '小明');
  await ming.join('lobby');
  const acks = await ming.say('lobby', '我们的房间很好', '今天天气不错', '这个房间有点冷', '明天见');
  const { page, context, problems } = await openChat(browser, server, { name: '小红', locale: 'zh-CN', viewport: PHONE });
  await waitForMessage(page, 'received', '明天见');
  await page.locator('#searchToggle').click();
  assert.equal(await page.locator('#searchHeading').textContent(), '在 #lobby 中搜索');
  const panel = await page.locator('#searchPanel').boundingBox();
  assert.ok(panel.width >= PHONE.width - 1, 'over the conversation on a phone');
  await page.locator('#searchInput').fill('房间');
  await page.locator('#searchInput').press('Enter');
  await page.locator('#searchStatus', { hasText: '共 2 条结果' }).waitFor({ timeout: TIMEOUT.message });
  assert.deepEqual(await resultTexts(page), ['这个房间有点冷', '我们的房间很好']);
  assert.deepEqual(await page.locator('#searchResults mark').allTextContents(), ['房间', '房间']);
  await page.locator('#searchInput').fill('房间很');
  await page.locator('#searchInput').press('Enter');
  await page.locator('#searchStatus', { hasText: '共 1 条结果' }).waitFor({ timeout: TIMEOUT.message });
  await page.locator('#searchInput').fill('没有的词');
  await page.locator('#searchInput').press('Enter');
  await page.locator('#searchStatus', { hasText: '没有消息包含“没有的词”' }).waitFor({ timeout: TIMEOUT.message });
  await page.locator('#searchInput').fill('天气');
  await page.locator('#searchInput').press('Enter');
  await page.locator('#searchStatus', { hasText: '共 1 条结果' }).waitFor({ timeout: TIMEOUT.message });
  for (const theme of ['light', 'dark']) {
    await setTheme(page, theme);
    assert.deepEqual(await accessibilityProblems(page), [], `phone search, ${theme}`);
    await page.screenshot({ path: artifactPath(`search-phone-${theme}.png`) });
  }
  await page.locator('#searchResults .search-result').click();
  await page.locator('#searchPanel').waitFor({ state: 'hidden' });
  await waitForRevealed(page, acks[1].msg_id);
  ming.close();
  assert.deepEqual(problems, []);
  await context.close();
});
