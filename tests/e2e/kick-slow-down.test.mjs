// The page when the server takes a room away or pushes back (PROTOCOL.md `kicked`,
// "Close codes", "Rate limiting and abuse"), in Chromium against the real server:
// - kicked through the backend API (docs/API.md): the room leaves the list, the page
//   says so in the room shown, stays connected, and neither it nor a reload rejoins;
// - a close 4008 says why and does not reconnect by itself (no loop), light and dark;
// - rate_limited from the per-address rate (which welcome.limits does not show): the
//   messages stay pending as "slow down" in the amber style, are resent with a backoff
//   (a handful of refusals, not one per 1/rate_per_sec), and all arrive, in order,
//   without the abuse close.
// axe-core finds no serious or critical violation in any of these states.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import {
  TIMEOUT,
  accessibilityProblems,
  artifactPath,
  message,
  messageTexts,
  openChat,
  setTheme,
  useBrowser,
  waitForJoined,
  waitForMessage,
  waitForState,
  waitForStatus,
} from './lib/browser.mjs';
import { freshDataDir, startServer } from './lib/server.mjs';

const KEY = 'e2e-backend-key-0123456789';

const browser = useBrowser();

function roomList(page) {
  return page.locator('#roomList li a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
}

test('kicked by the operator: the room goes, the page says so and stays connected; no rejoin, not even after a reload', async () => {
  const dataDir = freshDataDir();
  const keys = path.join(dataDir, 'api-keys');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(keys, `${KEY}\n`, { mode: 0o600 });
  const server = await startServer({ dataDir, args: ['--api-key-file', keys] });
  const { page, problems } = await openChat(browser, server, { name: 'alice', hash: '#general' });
  await page.locator('#roomInput').fill('random');
  await page.locator('#joinRoomButton').click();
  await page.waitForURL(/#random$/);
  await waitForJoined(page);
  await page.locator('#roomList a[href="#general"]').click();
  await page.waitForURL(/#general$/);

  const api = (method, route) => fetch(`${server.url}/api/v1${route}`, { method, headers: { Authorization: `Bearer ${KEY}` } });
  const members = await (await api('GET', '/rooms/random/members')).json();
  const alice = members.members.find((m) => m.name === 'alice');
  const kick = await api('DELETE', `/rooms/random/members/${alice.user}`);
  assert.equal(kick.status, 200, await kick.text());

  await waitForMessage(page, 'system', 'An operator removed you from #random. You can join it again.');
  await page.waitForFunction(() => !document.querySelector('#roomList a[href="#random"]'), null, { timeout: TIMEOUT.message });
  assert.deepEqual(await roomList(page), ['#general']);
  await waitForStatus(page, 'connected');
  for (const theme of ['light', 'dark']) {
    await setTheme(page, theme);
    assert.deepEqual(await accessibilityProblems(page), [], `kicked, ${theme}`);
  }
  await page.screenshot({ path: artifactPath('kicked.png') });

  await page.reload();
  await waitForStatus(page, 'connected');
  await waitForJoined(page);
  assert.deepEqual(await roomList(page), ['#general'], 'not rejoined by a reload');
  // The server agrees: alice is not back in #random (which, empty and without
  // history, may be gone altogether).
  const after = await api('GET', '/rooms/random/members');
  if (after.status !== 404) assert.deepEqual((await after.json()).members, []);
  assert.deepEqual(problems, []);
});

test('close 4008: the page says the operator removed it and does not reconnect by itself', async () => {
  const server = await startServer();
  let sockets = 0;
  let toPage = null;
  const { page, problems } = await openChat(browser, server, {
    name: 'alice',
    beforeGoto: async (p) => {
      await p.clock.install();
      // Every chat socket goes through the test, which can close it as the server would.
      await p.routeWebSocket(/\/ws$/, (ws) => {
        sockets += 1;
        toPage = ws;
        ws.connectToServer();
      });
    },
  });
  assert.equal(sockets, 1);
  await toPage.close({ code: 4008, reason: 'removed from the room' });
  await waitForStatus(page, 'disconnected');
  await page.locator('#statusDetail', { hasText: 'An operator removed you from the chat; not reconnecting' })
    .waitFor({ timeout: TIMEOUT.message });
  await page.locator('#reconnectButton').waitFor({ state: 'visible', timeout: TIMEOUT.message });
  // A minute of the page's time: no attempt (a loop would have made a dozen).
  await page.clock.runFor(60000);
  assert.equal(sockets, 1, 'no reconnect by itself');
  for (const theme of ['light', 'dark']) {
    await setTheme(page, theme);
    assert.deepEqual(await accessibilityProblems(page), [], `4008, ${theme}`);
  }
  await page.screenshot({ path: artifactPath('closed-4008.png') });
  // The user may come back by hand.
  await page.locator('#reconnectButton').click();
  await waitForStatus(page, 'connected');
  assert.equal(sockets, 2);
  assert.deepEqual(problems, []);
});

test('rate_limited by the address: "slow down" in the amber pending style, resent with a backoff, all delivered in order', async () => {
  // welcome.limits says 50/s; the address may send 1/s after a burst of 4 (hello and
  // join take 2), which the page only learns from refusals.
  const server = await startServer({ args: ['--rate-per-ip', '1', '--rate-burst-per-ip', '4'] });
  let refusals = 0;
  let closeCode = null;
  const { page, problems } = await openChat(browser, server, {
    name: 'alice',
    beforeGoto: (p) => p.on('websocket', (ws) => {
      ws.on('framereceived', ({ payload }) => {
        if (String(payload).includes('"code":"rate_limited"')) refusals += 1;
      });
      ws.on('close', () => { closeCode ??= 'closed'; });
    }),
  });
  const texts = Array.from({ length: 6 }, (_, i) => `burst ${i + 1}`);
  await page.evaluate((all) => {
    // As fast as a paste-and-Enter loop: no wait between them.
    const input = document.querySelector('#messageInput');
    for (const text of all) {
      input.value = text;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    }
  }, texts);
  const slow = page.locator('#messages .message-sent[data-look="waiting"]', {
    has: page.locator('.message-status', { hasText: 'slow down: sending again shortly' }),
  }).first();
  await slow.waitFor({ timeout: TIMEOUT.message });
  for (const theme of ['light', 'dark']) {
    await setTheme(page, theme);
    assert.deepEqual(await accessibilityProblems(page), [], `slow down, ${theme}`);
    await page.screenshot({ path: artifactPath(`slow-down-${theme}.png`) });
  }
  const colours = await slow.locator('.message-status').evaluate((el) => {
    const style = getComputedStyle(el);
    const probe = document.createElement('span');
    document.body.append(probe);
    probe.style.background = 'var(--waiting-bg)';
    const amber = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return { background: style.backgroundColor, amber };
  });
  assert.equal(colours.background, colours.amber, 'the amber "will send" style, not the red failed one');

  // Six messages at one per second: a few seconds; the backoff caps at 8 s.
  for (const text of texts) await waitForState(message(page, 'sent', text), 'sent', 30000);
  assert.deepEqual(await messageTexts(page, 'sent'), texts, 'all of them, in order');
  assert.ok(refusals >= 1, 'the server did push back');
  // Resending every 1/rate_per_sec (20 ms) would have collected a refusal per try;
  // the abuse limit closes a connection at 20 errors in 10 s.
  assert.ok(refusals <= 12, `a handful of refusals, not a flood: ${refusals}`);
  assert.equal(closeCode, null, 'never closed for abuse');
  await waitForStatus(page, 'connected');
  assert.deepEqual(problems, []);
});
