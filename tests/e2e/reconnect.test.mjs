// The page across a server restart: the status follows the connection, the client
// reconnects by itself to a new server on the same port, and messages typed while
// disconnected are queued and delivered in order after the reconnect.

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import WebSocket from 'ws';

import {
  artifactPath,
  launchBrowser,
  message,
  messageTexts,
  openChat,
  typeAndEnter,
  waitForMessage,
  waitForStatus,
} from './lib/browser.mjs';
import { startServer, stopAllServers } from './lib/server.mjs';

// Longest backoff (30 s) plus margin: a reconnect must happen within one full wait.
const RECONNECT_TIMEOUT = 40000;
const RED_400 = 'rgb(248, 113, 113)';
const GREEN_400 = 'rgb(74, 222, 128)';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});
afterEach(stopAllServers);

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
  const { page, context, problems } = await openChat(browser, first, { locale: 'zh-CN' });
  assert.equal(await page.locator('#statusText').textContent(), '已连接');
  assert.equal(await page.locator('h1').textContent().then((s) => s.trim()), 'WebSocket实时聊天');
  assert.equal(await page.getAttribute('#messageInput', 'placeholder'), '输入消息后按回车发送...');
  assert.equal(await dotColour(page), GREEN_400);
  await waitForMessage(page, 'system', '已成功连接到聊天服务器');

  // A plain client sees the shutdown close code: 1001 "going away".
  const raw = await connectRawClient(first.wsUrl());
  await waitForMessage(page, 'received', '系统通知: 新用户加入,当前在线2人');

  const exit = await first.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM is a clean exit');
  assert.equal(await raw.closed, 1001);

  await waitForStatus(page, 'disconnected');
  assert.equal(await page.locator('#statusText').textContent(), '未连接');
  assert.equal(await dotColour(page), RED_400);
  await waitForMessage(page, 'system', '与服务器的连接已断开,正在尝试重连...');
  await page.screenshot({ path: artifactPath('disconnected-zh.png') });

  const second = await startServer({ port: first.port });
  assert.equal(second.port, first.port);
  await waitForStatus(page, 'connected', RECONNECT_TIMEOUT);
  assert.equal(await page.locator('#statusText').textContent(), '已连接');
  assert.equal(await dotColour(page), GREEN_400);
  // One notice per successful open, one for the loss, however many retries failed between.
  assert.equal(await message(page, 'system', '已成功连接到聊天服务器').count(), 2);
  assert.equal(await message(page, 'system', '与服务器的连接已断开,正在尝试重连...').count(), 1);

  assert.deepEqual(problems, []);
  await context.close();
});

test('messages typed while disconnected are queued, then delivered in order (en-US)', async () => {
  const first = await startServer();
  // A's timers are under the test's control, so its reconnect happens exactly when the
  // test says: after B is back. (B alone reconnects on its real backoff timer.)
  const a = await openChat(browser, first, {
    locale: 'en-US',
    beforeGoto: (page) => page.clock.install(),
  });
  const b = await openChat(browser, first, { locale: 'en-US' });
  await waitForMessage(a.page, 'received', '系统通知: 新用户加入,当前在线2人');
  await a.page.clock.pauseAt((await a.page.evaluate(() => Date.now())) + 1000);

  await first.stop();
  await waitForStatus(a.page, 'disconnected');
  await waitForStatus(b.page, 'disconnected');
  assert.equal(await a.page.locator('#statusText').textContent(), 'Disconnected');

  await typeAndEnter(a.page, 'queued one');
  await typeAndEnter(a.page, 'queued two');
  for (const text of ['queued one', 'queued two']) {
    const el = await waitForMessage(a.page, 'sent', text);
    assert.match(await el.getAttribute('class'), /\bpending\b/);
    assert.equal(await el.getAttribute('data-pending-label'), 'pending');
  }
  await a.page.screenshot({ path: artifactPath('queued.png') });

  const second = await startServer({ port: first.port });
  await waitForStatus(b.page, 'connected', RECONNECT_TIMEOUT);
  const receivedBefore = (await messageTexts(b.page, 'received')).length;

  // Let A's backoff run out (30 s is the longest possible wait): it reconnects and flushes.
  await a.page.clock.runFor(30000);
  await waitForStatus(a.page, 'connected');
  await waitForMessage(b.page, 'received', 'queued two');
  assert.deepEqual((await messageTexts(b.page, 'received')).slice(receivedBefore), [
    '系统通知: 新用户加入,当前在线2人',
    'queued one',
    'queued two',
  ]);
  await a.page.locator('#messages .pending').first().waitFor({ state: 'detached', timeout: 5000 });
  assert.equal(await a.page.locator('#messages .message-sent.pending').count(), 0);
  assert.deepEqual(await messageTexts(a.page, 'sent'), ['queued one', 'queued two']);

  // Sent exactly once: a message typed now goes straight out, nothing is replayed.
  await typeAndEnter(a.page, 'after reconnect');
  await waitForMessage(b.page, 'received', 'after reconnect');
  assert.deepEqual((await messageTexts(b.page, 'received')).slice(receivedBefore), [
    '系统通知: 新用户加入,当前在线2人',
    'queued one',
    'queued two',
    'after reconnect',
  ]);

  assert.deepEqual([...a.problems, ...b.problems], []);
  await second.stop();
  await a.context.close();
  await b.context.close();
});
