// The page across a server restart: the status follows the connection, the client
// reconnects by itself to a new server on the same port (same --data-dir, as a real
// restart) within its 5 s backoff cap, messages typed while disconnected wait in the
// outbox ("will send when connected", amber) and are delivered in order, once, and
// shown sent (acked) after the reconnect; a message unacked for 30 s keeps waiting,
// with Retry; one notice per outage.

import assert from 'node:assert/strict';
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
  waitForStatus,
} from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

// Longest backoff (5 s) plus a loaded CI machine's margin.
const RECONNECT_TIMEOUT = 20000;
const RED_400 = 'rgb(248, 113, 113)';
const GREEN_400 = 'rgb(74, 222, 128)';

const browser = useBrowser();

function dotColour(page) {
  return page.locator('#statusIndicator').evaluate((el) => getComputedStyle(el).backgroundColor);
}

/** Resolves with the close code the server sends to a plain WebSocket client. */
async function connectRawClient(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  return { ws, closed };
}

test('status turns red on SIGTERM and green again when a new server takes the port (zh-CN)', async () => {
  const first = await startServer();
  const { page, context, problems } = await openChat(browser, first, { locale: 'zh-CN', name: '小红' });
  assert.equal(await page.locator('#statusText').textContent(), '已连接');
  assert.equal(await page.locator('h1 .chat-title-text').textContent(), 'WebSocket实时聊天');
  assert.equal(await page.getAttribute('#messageInput', 'placeholder'), '输入消息后按回车发送...');
  assert.equal(await dotColour(page), GREEN_400);
  await waitForMessage(page, 'system', '已成功连接到聊天服务器');

  // A plain client sees the shutdown close code: 1001 "going away".
  const raw = await connectRawClient(first.wsUrl());
  await page.locator('#messages .message-system .message-text', { hasText: /^guest-\d+ 加入了房间,当前在线2人$/ }).waitFor();

  const exit = await first.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM is a clean exit');
  assert.equal(await raw.closed, 1001);

  await waitForStatus(page, 'disconnected');
  assert.equal(await page.locator('#statusText').textContent(), '未连接');
  assert.equal(await dotColour(page), RED_400);
  await waitForMessage(page, 'system', '与服务器的连接已断开,正在尝试重连...');
  // The failed attempts that follow add nothing: still one notice.
  await page.locator('#reconnectButton').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#reconnectButton').textContent(), '立即重连');
  assert.equal(await message(page, 'system', '与服务器的连接已断开,正在尝试重连...').count(), 1);
  await page.screenshot({ path: artifactPath('disconnected-zh.png') });

  const second = await startServer({ port: first.port, dataDir: first.dataDir });
  assert.equal(second.port, first.port);
  await waitForStatus(page, 'connected', RECONNECT_TIMEOUT);
  assert.equal(await page.locator('#statusText').textContent(), '已连接');
  assert.equal(await dotColour(page), GREEN_400);
  // Issue 10: one notice per outage, updated in place when it ends, not one per reconnect.
  await page.locator('#messages .message-system .message-text', { hasText: /^\d\d:\d\d 至 \d\d:\d\d 与服务器断开,已重新连接$/ })
    .waitFor({ timeout: TIMEOUT.message });
  assert.equal(await message(page, 'system', '已成功连接到聊天服务器').count(), 1);
  assert.equal(await message(page, 'system', '与服务器的连接已断开,正在尝试重连...').count(), 0);
  assert.equal(await page.locator('#messages .message-system').count(), 3, 'connected, guest joined, the outage');
  assert.equal(await page.locator('#reconnectButton').isVisible(), false);

  assert.deepEqual(problems, []);
  await context.close();
});

test('messages typed while disconnected stay pending, then are acked and shown sent, in order, once (en-US)', async () => {
  const first = await startServer();
  // A's timers are under the test's control, so its reconnect happens exactly when the
  // test says: after B is back. (B alone reconnects on its real backoff timer.)
  const a = await openChat(browser, first, {
    locale: 'en-US',
    name: 'alice',
    beforeGoto: (page) => page.clock.install(),
  });
  const b = await openChat(browser, first, { locale: 'en-US', name: 'bob' });
  await waitForMessage(a.page, 'system', 'bob joined, 2 online');
  await a.page.clock.pauseAt((await a.page.evaluate(() => Date.now())) + 1000);

  await first.stop();
  await waitForStatus(a.page, 'disconnected');
  await waitForStatus(b.page, 'disconnected');
  assert.equal(await a.page.locator('#statusText').textContent(), 'Disconnected');

  await typeAndEnter(a.page, 'queued one');
  await typeAndEnter(a.page, 'queued two');
  for (const text of ['queued one', 'queued two']) {
    const el = await waitForMessage(a.page, 'sent', text);
    assert.equal(await el.getAttribute('data-state'), 'pending');
    assert.match(await el.getAttribute('class'), /\bpending\b/);
    // Amber, not red: it is not lost, it waits for the connection (issue 10).
    assert.equal(await el.getAttribute('data-look'), 'waiting');
    assert.equal(await el.locator('.message-status').textContent(), 'will send when connected');
  }
  // Kept in localStorage until acked, with time-ordered client ids.
  const outbox = await a.page.evaluate(() => JSON.parse(localStorage.getItem('parley.outbox')));
  assert.deepEqual(outbox.map((e) => [e.room, e.text]), [['lobby', 'queued one'], ['lobby', 'queued two']]);
  for (const { id } of outbox) assert.match(id, /^[0-9a-f]+-\d+$/);
  await a.page.screenshot({ path: artifactPath('queued.png') });

  const second = await startServer({ port: first.port, dataDir: first.dataDir });
  await waitForStatus(b.page, 'connected', RECONNECT_TIMEOUT);

  // Let A's backoff run out (5 s is the longest possible wait): it reconnects and resends.
  await a.page.clock.runFor(5000);
  await waitForStatus(a.page, 'connected');
  await waitForMessage(b.page, 'received', 'queued two');
  assert.deepEqual(await messageTexts(b.page, 'received'), ['queued one', 'queued two']);
  for (const text of ['queued one', 'queued two']) await waitForState(message(a.page, 'sent', text), 'sent');
  assert.equal(await a.page.locator('#messages .message-sent:not([data-state="sent"])').count(), 0);
  assert.deepEqual(await messageTexts(a.page, 'sent'), ['queued one', 'queued two']);
  assert.deepEqual(await a.page.evaluate(() => JSON.parse(localStorage.getItem('parley.outbox'))), []);

  // Sent exactly once: a message typed now goes straight out, nothing is replayed.
  await typeAndEnter(a.page, 'after reconnect');
  await waitForMessage(b.page, 'received', 'after reconnect');
  assert.deepEqual(await messageTexts(b.page, 'received'), ['queued one', 'queued two', 'after reconnect']);

  // And a reload shows the same conversation from history, once.
  await b.page.reload();
  await waitForMessage(b.page, 'received', 'after reconnect');
  assert.deepEqual(await messageTexts(b.page, 'received'), ['queued one', 'queued two', 'after reconnect']);

  assert.deepEqual([...a.problems, ...b.problems], []);
  await second.stop();
  await a.context.close();
  await b.context.close();
});

// The rule (web/parley-client.js): a message not acked 30 s after it was typed is
// "failed" with Retry. It stays in the outbox and still goes on the next reconnect, so
// the page shows it amber, "will send when connected", not red (issue 10); Retry
// reconnects at once instead of waiting out the backoff.
test('a message unacked for 30 s (server down) keeps waiting with Retry; Retry delivers it (en-US)', async () => {
  const first = await startServer();
  const a = await openChat(browser, first, {
    locale: 'en-US',
    name: 'alice',
    beforeGoto: (page) => page.clock.install(),
  });
  const b = await openChat(browser, first, { locale: 'en-US', name: 'bob' });
  await waitForMessage(a.page, 'system', 'bob joined, 2 online');
  await a.page.clock.pauseAt((await a.page.evaluate(() => Date.now())) + 1000);

  await first.stop();
  await waitForStatus(a.page, 'disconnected');
  await typeAndEnter(a.page, 'are you there?');
  const mine = message(a.page, 'sent', 'are you there?');
  await waitForState(mine, 'pending');
  assert.equal(await mine.locator('.retry-button').isVisible(), false);

  await a.page.clock.runFor(29000);
  assert.equal(await mine.getAttribute('data-state'), 'pending', 'not failed before 30 s');
  await a.page.clock.runFor(1000);
  await waitForState(mine, 'failed');
  assert.equal(await mine.getAttribute('data-look'), 'waiting', 'amber: it is still going to be sent');
  assert.equal(await mine.locator('.message-status').textContent(), 'will send when connected');
  assert.equal(await mine.locator('.message-reason').textContent(), '');
  assert.equal(await mine.locator('.retry-button').isVisible(), true);
  await a.page.screenshot({ path: artifactPath('failed-retry.png') });

  // The server is back; A's clock is still paused, so only Retry can reconnect it now.
  const second = await startServer({ port: first.port, dataDir: first.dataDir });
  await waitForStatus(b.page, 'connected', RECONNECT_TIMEOUT);
  await mine.locator('.retry-button').click();
  await waitForStatus(a.page, 'connected');
  await waitForState(mine, 'sent');
  assert.equal(await mine.locator('.retry-button').isVisible(), false);
  await waitForMessage(b.page, 'received', 'are you there?');
  assert.deepEqual(await messageTexts(b.page, 'received'), ['are you there?']);

  assert.deepEqual([...a.problems, ...b.problems], []);
  await second.stop();
  await a.context.close();
  await b.context.close();
});
