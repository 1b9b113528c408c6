// The seed's own page (fixtures/seed-index.html, verbatim from the seed document with
// only its wsUri pointed at the test server) chats with the Parley page through parley:
// Parley stays compatible with the client it replaces. The seed page speaks plain text
// on /wss (room lobby, named guest-N); the Parley page speaks parley.v1 in #lobby.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, afterEach, before, test } from 'node:test';

import WebSocket from 'ws';

import {
  TIMEOUT,
  artifactPath,
  launchBrowser,
  openChat,
  openPage,
  typeAndEnter,
  waitForMessage,
  waitForState,
} from './lib/browser.mjs';
import { startServer, stopAllServers } from './lib/server.mjs';

const SEED_WS_URI = "const wsUri = 'wss://test/wss';";
const SEED_HTML = readFileSync(new URL('./fixtures/seed-index.html', import.meta.url), 'utf8');

let browser;
const seedHttpServers = new Set();
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});
afterEach(async () => {
  for (const httpServer of seedHttpServers) {
    httpServer.closeAllConnections();
    httpServer.close();
  }
  seedHttpServers.clear();
  await stopAllServers();
});

/** The seed page with its hard-coded wss://test/wss replaced by this server's /wss. */
function seedPageFor(server) {
  assert.equal(SEED_HTML.split(SEED_WS_URI).length, 2, 'the fixture has the seed wsUri line exactly once');
  return SEED_HTML.replace(SEED_WS_URI, `const wsUri = '${server.wsUrl('/wss')}';`);
}

/**
 * Serves the seed page from its own tiny HTTP server on 127.0.0.1, as the seed's nginx
 * would. (Not page.route().fulfill(): Chromium then treats the page as coming from the
 * public internet and its Local Network Access checks refuse the ws:// to 127.0.0.1.)
 * Started before Parley: the page's origin (another port) must be allowed by Parley's
 * --allowed-origins (docs/SECURITY.md, "Allowed origins"), and the page's HTML, which
 * names Parley's port, is set once Parley runs.
 */
async function startSeedHttpServer() {
  let html = '';
  const httpServer = createServer((request, response) => {
    if (request.url === '/' || request.url === '/index.html') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(html);
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  seedHttpServers.add(httpServer);
  const origin = `http://127.0.0.1:${httpServer.address().port}`;
  return { url: `${origin}/`, origin, serve: (page) => { html = page; } };
}

/** A Parley server that allows the seed page served by `seedHttp` (another origin). */
async function startServerForSeed(seedHttp) {
  const server = await startServer({ args: ['--allowed-origins', seedHttp.origin] });
  seedHttp.serve(seedPageFor(server));
  return server;
}

/**
 * Opens the seed page. Its CDN requests (Tailwind, Font Awesome) are aborted: this
 * machine has no internet and waiting on them would only slow the test. Without
 * Tailwind the page is unstyled, but its script (and so the chat) works.
 */
async function openSeedPage(seedHttp) {
  const seedUrl = seedHttp.url;
  const blocked = [];
  const opened = await openPage(browser, seedUrl, {
    locale: 'zh-CN',
    beforeGoto: (page) =>
      page.route('**/*', (route) => {
        const url = route.request().url();
        if (new URL(url).hostname === '127.0.0.1') return route.continue();
        blocked.push(url);
        return route.abort('internetdisconnected');
      }),
  });
  return { ...opened, blocked };
}

/** The seed page's messages are bare text in .message-<kind> elements. */
function seedMessage(page, kind, text) {
  return page.locator(`#messages .message.message-${kind}`).filter({ hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) });
}

function seedWaitForMessage(page, kind, text) {
  return seedMessage(page, kind, text).first().waitFor({ timeout: TIMEOUT.message });
}

async function seedTypeAndEnter(page, text) {
  await page.locator('#messageInput').fill(text);
  await page.locator('#messageInput').press('Enter');
}

/** The seed marks "connected" by swapping its Tailwind classes on #statusIndicator.
 * Without Tailwind the dot has no size, so wait for the class, not for visibility. */
function waitForSeedConnected(page) {
  return page.locator('#statusIndicator.bg-green-400').waitFor({ state: 'attached', timeout: 15000 });
}

test('the seed page and the Parley page chat with each other through parley', async () => {
  const seedHttp = await startSeedHttpServer();
  const server = await startServerForSeed(seedHttp);
  const parley = await openChat(browser, server, { locale: 'zh-CN', name: '小红' });
  assert.match(parley.page.url(), /#lobby$/);

  const seed = await openSeedPage(seedHttp);
  await waitForSeedConnected(seed.page);
  assert.equal(await seed.page.locator('#statusIndicator + span').textContent(), '已连接');
  await seedWaitForMessage(seed.page, 'system', '已成功连接到聊天服务器');
  assert.ok(seed.blocked.some((url) => url.startsWith('https://cdn.tailwindcss.com')), 'CDN requests were blocked');

  // The seed page joined second: the Parley page shows its presence, as a guest.
  const joined = parley.page.locator('#messages .message-system .message-text', { hasText: /^guest-\d+ 加入了房间,当前在线2人$/ });
  await joined.waitFor({ timeout: TIMEOUT.message });
  const guest = (await joined.textContent()).split(' ')[0];

  // Seed → Parley: shown as received from guest-N.
  await seedTypeAndEnter(seed.page, '你好,我是种子页面');
  await seedWaitForMessage(seed.page, 'sent', '你好,我是种子页面');
  const fromSeed = await waitForMessage(parley.page, 'received', '你好,我是种子页面');
  assert.equal(await fromSeed.locator('.message-from').textContent(), guest);

  // Parley → seed as "name: text", including text the seed must also show literally.
  await typeAndEnter(parley.page, 'Hello seed <b>not bold</b>');
  await waitForState(await waitForMessage(parley.page, 'sent', 'Hello seed <b>not bold</b>'), 'sent');
  await seedWaitForMessage(seed.page, 'received', '小红: Hello seed <b>not bold</b>');

  await parley.page.screenshot({ path: artifactPath('seed-chat-parley.png') });
  await seed.page.screenshot({ path: artifactPath('seed-chat-seed.png') });

  // The seed page leaves: the Parley page is told one user is online.
  await seed.context.close();
  await waitForMessage(parley.page, 'system', `${guest} 离开了房间,当前在线1人`);

  assert.deepEqual(parley.problems, []);
  await parley.context.close();
});

// PROTOCOL.md, "Plain-text protocol": a plain-text connection "is named guest-<n>
// (n counts up from 1 per server run)". JSON connections are not guests, so the first
// plain-text client after a JSON one is still guest-1.
test('plain-text guests are named guest-1, guest-2… per server run', async () => {
  const server = await startServer();
  const parley = await openChat(browser, server, { locale: 'en-US', name: 'alice' });
  const first = new WebSocket(server.wsUrl('/wss'));
  await once(first, 'open');
  const second = new WebSocket(server.wsUrl('/ws/lobby'));
  await once(second, 'open');
  await parley.page.locator('#messages .message-system .message-text', { hasText: /joined, 3 online$/ }).waitFor();
  const notices = await parley.page.locator('#messages .message-system .message-text').allTextContents();
  assert.deepEqual(notices.filter((text) => text.includes(' joined, ')), ['guest-1 joined, 2 online', 'guest-2 joined, 3 online']);
  first.close();
  second.close();
  await parley.context.close();
});

test('two seed pages chat with each other exactly as the seed intended', async () => {
  const seedHttp = await startSeedHttpServer();
  await startServerForSeed(seedHttp);
  const first = await openSeedPage(seedHttp);
  await waitForSeedConnected(first.page);
  const second = await openSeedPage(seedHttp);
  await waitForSeedConnected(second.page);
  await seedWaitForMessage(first.page, 'received', '系统通知: 新用户加入,当前在线2人');

  await seedTypeAndEnter(second.page, 'ping');
  await seedWaitForMessage(first.page, 'received', 'ping');
  await seedTypeAndEnter(first.page, 'pong');
  await seedWaitForMessage(second.page, 'received', 'pong');

  await first.context.close();
  await second.context.close();
});
