// The seed's own page (fixtures/seed-index.html, verbatim from the seed document with
// only its wsUri pointed at the test server) chats with the Parley page through parley:
// Parley stays compatible with the client it replaces.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, afterEach, before, test } from 'node:test';

import { artifactPath, launchBrowser, openChat, openPage, typeAndEnter, waitForMessage } from './lib/browser.mjs';
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
 */
async function startSeedHttpServer(html) {
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
  return `http://127.0.0.1:${httpServer.address().port}/`;
}

/**
 * Opens the seed page. Its CDN requests (Tailwind, Font Awesome) are aborted: this
 * machine has no internet and waiting on them would only slow the test. Without
 * Tailwind the page is unstyled, but its script (and so the chat) works.
 */
async function openSeedPage(server) {
  const seedUrl = await startSeedHttpServer(seedPageFor(server));
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

/** The seed marks "connected" by swapping its Tailwind classes on #statusIndicator.
 * Without Tailwind the dot has no size, so wait for the class, not for visibility. */
function waitForSeedConnected(page) {
  return page.locator('#statusIndicator.bg-green-400').waitFor({ state: 'attached', timeout: 15000 });
}

test('the seed page and the Parley page chat with each other through parley', async () => {
  const server = await startServer();
  const parley = await openChat(browser, server, { locale: 'zh-CN' });

  const seed = await openSeedPage(server);
  await waitForSeedConnected(seed.page);
  assert.equal(await seed.page.locator('#statusIndicator + span').textContent(), '已连接');
  await waitForMessage(seed.page, 'system', '已成功连接到聊天服务器');
  assert.ok(seed.blocked.some((url) => url.startsWith('https://cdn.tailwindcss.com')), 'CDN requests were blocked');

  // The seed page joined second: the Parley page gets the notice.
  await waitForMessage(parley.page, 'received', '系统通知: 新用户加入,当前在线2人');

  // Seed → Parley.
  await typeAndEnter(seed.page, '你好,我是种子页面');
  await waitForMessage(seed.page, 'sent', '你好,我是种子页面');
  await waitForMessage(parley.page, 'received', '你好,我是种子页面');

  // Parley → seed, including text the seed must also show literally.
  await typeAndEnter(parley.page, 'Hello seed <b>not bold</b>');
  await waitForMessage(parley.page, 'sent', 'Hello seed <b>not bold</b>');
  await waitForMessage(seed.page, 'received', 'Hello seed <b>not bold</b>');

  await parley.page.screenshot({ path: artifactPath('seed-chat-parley.png') });
  await seed.page.screenshot({ path: artifactPath('seed-chat-seed.png') });

  // The seed page leaves: the Parley page is told one user is online.
  await seed.context.close();
  await waitForMessage(parley.page, 'received', '系统通知: 用户离开,当前在线1人');

  assert.deepEqual(parley.problems, []);
  await parley.context.close();
});

test('two seed pages chat with each other exactly as the seed intended', async () => {
  const server = await startServer();
  const first = await openSeedPage(server);
  await waitForSeedConnected(first.page);
  const second = await openSeedPage(server);
  await waitForSeedConnected(second.page);
  await waitForMessage(first.page, 'received', '系统通知: 新用户加入,当前在线2人');

  await typeAndEnter(second.page, 'ping');
  await waitForMessage(first.page, 'received', 'ping');
  await typeAndEnter(first.page, 'pong');
  await waitForMessage(second.page, 'received', 'pong');

  await first.context.close();
  await second.context.close();
});
