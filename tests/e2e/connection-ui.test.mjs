// What the page shows and does about its connection (issue 10 bugs, items 8 and 9, and
// issue 7 item 12): a countdown that counts; "Reconnect now" while waiting; an
// immediate reconnect when the browser is back online or the tab comes back; the
// browser's `offline` noticed at once; leaving a room with unsent messages asks first;
// a reload while the server is down shows the app and its queue (service worker); a
// catch-up after a long absence under live traffic shows every message once, in order.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  TIMEOUT,
  artifactPath,
  message,
  messageTexts,
  openChat,
  typeAndEnter,
  useBrowser,
  waitForJoined,
  waitForMessage,
  waitForState,
  waitForStatus,
} from './lib/browser.mjs';
import { ParleyWs } from './lib/parley-ws.mjs';
import { startServer } from './lib/server.mjs';

// The longest backoff (5 s) plus a loaded CI machine's margin.
const RECONNECT_TIMEOUT = 20000;

const browser = useBrowser();

function statusDetail(page) {
  return page.locator('#statusDetail').textContent();
}

test('down: the countdown counts, "Reconnect now" is there at once; back online reconnects without waiting', async () => {
  const first = await startServer();
  const { page, context, problems } = await openChat(browser, first, {
    name: 'alice',
    beforeGoto: (p) => p.clock.install(),
  });
  // From here on the page's timers run only when the test says.
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
  await first.stop();
  await waitForStatus(page, 'disconnected');
  // Issue 10: "reconnect in 27 s" never changed, and no way to retry by hand.
  await page.locator('#reconnectButton').waitFor({ state: 'visible', timeout: TIMEOUT.message });
  assert.equal(await page.locator('#reconnectButton').textContent(), 'Reconnect now');
  const waitingDetail = () => page.locator('#statusDetail', { hasText: /^reconnecting in \d+ s$/ }).waitFor({ timeout: TIMEOUT.message });
  const seconds = async () => Number(/^reconnecting in (\d+) s$/.exec(await statusDetail(page))[1]);
  // Let attempts fail until a wait of 2 s or more (0.5, 1, 2… s, jittered, capped at 5 s).
  await waitingDetail();
  for (let i = 0; i < 10 && (await seconds()) < 2; i++) {
    await page.clock.runFor(1000);
    await waitingDetail();
  }
  const start = await seconds();
  assert.ok(start >= 2 && start <= 5, `a longer wait, at most the 5 s cap: ${await statusDetail(page)}`);
  await page.clock.runFor(1000);
  assert.equal(await seconds(), start - 1, 'one second later, one less');
  await page.screenshot({ path: artifactPath('countdown.png') });

  // The server is back; the clock is paused, so nothing would retry by itself. The
  // browser saying "online" (or the tab coming back) reconnects at once.
  const second = await startServer({ port: first.port, dataDir: first.dataDir });
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await waitForStatus(page, 'connected');
  assert.equal(await page.locator('#reconnectButton').isVisible(), false);

  // And once more with the button itself.
  await second.stop();
  await waitForStatus(page, 'disconnected');
  await startServer({ port: first.port, dataDir: first.dataDir });
  await page.locator('#reconnectButton').click();
  await waitForStatus(page, 'connected');
  // Three sessions, two outages: one "connected" notice, one line per outage.
  const notices = await page.locator('#messages .message-system .message-text').allTextContents();
  assert.equal(notices.filter((n) => n === 'Connected to the chat server').length, 1, JSON.stringify(notices));
  assert.equal(notices.filter((n) => /^Disconnected from .* to .*; reconnected$/.test(n)).length, 2, JSON.stringify(notices));
  assert.deepEqual(problems, []);
  await context.close();
});

test('the browser going offline is noticed at once: Disconnected, and messages wait (amber)', async () => {
  const server = await startServer();
  const { page, context, problems } = await openChat(browser, server, { name: 'alice' });
  const bob = await ParleyWs.connect(server, 'bob');
  await bob.join('lobby');
  await context.setOffline(true);
  // Issue 10: the page kept saying "Connected" and the message "pending".
  await waitForStatus(page, 'disconnected', TIMEOUT.message);
  assert.equal(await statusDetail(page), 'the browser is offline');
  await typeAndEnter(page, 'sent while offline');
  const mine = await waitForMessage(page, 'sent', 'sent while offline');
  assert.equal(await mine.getAttribute('data-look'), 'waiting');
  assert.equal(await mine.locator('.message-status').textContent(), 'will send when connected');
  const amber = await mine.locator('.message-status').evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(amber, 'rgb(254, 243, 199)', 'amber-100, not red');
  await page.screenshot({ path: artifactPath('offline-waiting.png') });

  await context.setOffline(false);
  await waitForStatus(page, 'connected', TIMEOUT.message);
  await waitForState(mine, 'sent');
  await bob.next((e) => e.type === 'message' && e.text === 'sent while offline');
  bob.close();
  assert.deepEqual(problems, []);
  await context.close();
});

test('leaving a room with unsent messages asks first; Stay keeps them, and they are delivered', async () => {
  const first = await startServer();
  const { page, context, problems } = await openChat(browser, first, { name: 'alice', hash: '#side' });
  await page.evaluate(() => { location.hash = 'lobby'; });
  await waitForJoined(page);
  await first.stop();
  await waitForStatus(page, 'disconnected');
  await page.locator('#roomList a[href="#side"]').click();
  await typeAndEnter(page, 'do not lose me');
  await waitForMessage(page, 'sent', 'do not lose me');

  await page.locator('#roomList li[data-room="side"] .room-leave').click();
  const dialog = page.locator('#leaveDialog');
  await dialog.waitFor({ state: 'visible' });
  assert.equal(await page.locator('#leaveTitle').textContent(), 'Leave #side?');
  assert.equal(await page.locator('#leaveText').textContent(), '1 message you wrote here is not sent yet. Leaving discards it.');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'leaveStay', 'the safe choice has the focus');
  await page.screenshot({ path: artifactPath('leave-unsent.png') });
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.deepEqual(await page.locator('#roomList li').evaluateAll((els) => els.map((li) => li.dataset.room)), ['side', 'lobby']);
  assert.equal((await page.evaluate(() => JSON.parse(localStorage.getItem('parley.outbox')))).length, 1);

  // The server comes back: the page reconnects by itself (backoff capped at 5 s) and
  // the message goes out. Then leaving asks nothing.
  const second = await startServer({ port: first.port, dataDir: first.dataDir });
  await waitForStatus(page, 'connected', RECONNECT_TIMEOUT);
  await waitForState(message(page, 'sent', 'do not lose me'), 'sent');
  const reader = await ParleyWs.connect(second, 'reader');
  const joined = await reader.join('side');
  assert.deepEqual(joined.history.map((m) => m.text), ['do not lose me']);
  reader.close();
  await page.locator('#roomList li[data-room="side"] .room-leave').click();
  await page.waitForURL(/#lobby$/);
  assert.equal(await dialog.isVisible(), false);

  // Discarding is a choice, made in the dialog.
  await second.stop();
  await waitForStatus(page, 'disconnected');
  await page.evaluate(() => { location.hash = 'scratch'; });
  await typeAndEnter(page, 'throw me away');
  await page.locator('#roomList li[data-room="scratch"] .room-leave').click();
  await dialog.waitFor({ state: 'visible' });
  await page.locator('#leaveDiscard').click();
  await page.waitForURL(/#lobby$/);
  assert.deepEqual(await page.evaluate(() => JSON.parse(localStorage.getItem('parley.outbox'))), []);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a reload while the server is down shows the app and its queued messages (service worker)', async () => {
  const first = await startServer();
  const { page, context, problems } = await openChat(browser, first, { name: 'alice' });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: TIMEOUT.connect });
  await first.stop();
  await waitForStatus(page, 'disconnected');
  await typeAndEnter(page, 'queued before the reload');
  await waitForMessage(page, 'sent', 'queued before the reload');

  // Issue 10: this showed the browser's "This site can't be reached".
  await page.reload();
  assert.equal(await page.locator('h1 .chat-title-text').textContent(), 'WebSocket Chat');
  await waitForStatus(page, 'disconnected');
  const queued = await waitForMessage(page, 'sent', 'queued before the reload');
  assert.equal(await queued.getAttribute('data-look'), 'waiting');
  await page.screenshot({ path: artifactPath('offline-reload.png') });

  // The server is back: the reloaded page reconnects by itself and sends its queue.
  const second = await startServer({ port: first.port, dataDir: first.dataDir });
  await waitForStatus(page, 'connected', RECONNECT_TIMEOUT);
  await waitForState(message(page, 'sent', 'queued before the reload'), 'sent');
  // The shell files are served with the types a service worker needs.
  const response = await fetch(`${second.url}/sw.js`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/javascript/);
  assert.deepEqual(problems, []);
  await context.close();
});

// Issue 7 item 12: after a join with since answered truncated, live messages start right
// after joined. The page pages forward from the last id of each PAGE (not the newest id
// seen), drops repeats and shows everything in msg_id order. --join-history 5 and 450
// missed messages give a joined page and three history pages (200 each at most), while
// a sender keeps writing live messages during the catch-up.
test('catch-up after a long absence under live traffic: every message once, in order', async () => {
  const server = await startServer({ args: ['--join-history', '5', '--rate', '1000', '--rate-burst', '1000'] });
  const { page, context, problems } = await openChat(browser, server, { name: 'alice', hash: '#busy' });
  const writer = await ParleyWs.connect(server, 'writer');
  await writer.join('busy');
  await writer.say('busy', 'before');
  await waitForMessage(page, 'received', 'before');

  await context.setOffline(true);
  await waitForStatus(page, 'disconnected', TIMEOUT.message);
  const missed = Array.from({ length: 450 }, (_, i) => `missed ${i + 1}`);
  for (let i = 0; i < missed.length; i += 50) {
    await Promise.all(missed.slice(i, i + 50).map((text, j) => writer.say('busy', text).catch((error) => { throw new Error(`${i + j}: ${error.message}`); })));
  }
  const live = Array.from({ length: 30 }, (_, i) => `live ${i + 1}`);
  const pagesSeen = [];
  page.on('websocket', (ws) => ws.on('framesent', ({ payload }) => {
    const frame = JSON.parse(payload);
    if (frame.type === 'history' && frame.after !== undefined) pagesSeen.push(frame.after);
  }));
  await context.setOffline(false);
  // Live messages while the page catches up.
  for (const text of live) await writer.say('busy', text);
  await waitForMessage(page, 'received', 'live 30', 30000);
  await page.waitForFunction((n) => document.querySelectorAll('#messages .message-received').length >= n,
    1 + missed.length + live.length, { timeout: 30000 });
  assert.deepEqual(await messageTexts(page, 'received'), ['before', ...missed, ...live]);
  const ids = await page.locator('#messages .message-received').evaluateAll((els) => els.map((el) => Number(el.dataset.msgId)));
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.ok(pagesSeen.length >= 2, `paged forward: ${JSON.stringify(pagesSeen)}`);
  writer.close();
  assert.deepEqual(problems, []);
  await context.close();
});
