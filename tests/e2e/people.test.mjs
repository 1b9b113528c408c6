// People on the page (issue 10 bugs and the client parts of item 3): the name the
// server assigned is shown and explained; "N online" counts people, not tabs; no
// empty pill before a name exists; the name button says what it is; the phone's side
// panel closes with Esc, a tap outside or ☰, and focus goes where it should; the
// markdown subset, @mentions and desktop notifications.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import WebSocket from 'ws';

import {
  PHONE,
  TIMEOUT,
  artifactPath,
  message,
  openChat,
  openPage,
  typeAndEnter,
  useBrowser,
  waitForJoined,
  waitForMessage,
  waitForStatus,
} from './lib/browser.mjs';
import { ParleyWs } from './lib/parley-ws.mjs';
import { startServer } from './lib/server.mjs';

/** Resolves once `check()` is true (polled every 20 ms), or fails after TIMEOUT.message. */
async function until(check) {
  const end = Date.now() + TIMEOUT.message;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met in ${TIMEOUT.message} ms: ${check}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const browser = useBrowser();

test('a second "Hana" is shown the name the server gave her and told why; N online counts people', async () => {
  const server = await startServer();
  // First visit: no name yet, so no name button (issue 10: a 26×2 px empty pill).
  const first = await openPage(browser, `${server.url}/`, {});
  await first.page.locator('#nameDialog').waitFor({ state: 'visible' });
  assert.equal(await first.page.locator('#nameButton').isVisible(), false);
  const header = await first.page.locator('.chat-header button:visible, .chat-header span:visible').evaluateAll((els) =>
    els.filter((el) => el.getBoundingClientRect().height > 0 && el.getBoundingClientRect().height < 8 && !el.classList.contains('status-dot')).length);
  assert.equal(header, 0, 'no sliver-sized element in the header');
  await first.context.close();

  const hana = await openChat(browser, server, { name: 'Hana' });
  const other = await openChat(browser, server, { name: 'Hana' });
  // Issue 10: she silently became "Hana-2" while her name box still said "Hana".
  assert.equal(await other.page.locator('#myName').textContent(), 'Hana-2');
  await waitForMessage(other.page, 'system', '“Hana” is taken in this room: you are shown here as “Hana-2”');
  // Issue 10: the button was read as just "Kim, button".
  assert.equal(await other.page.locator('#nameButton').getAttribute('aria-label'), 'Your name: Hana-2. Change name');
  await other.page.locator('#nameButton').click();
  assert.equal(await other.page.locator('#nameInput').inputValue(), 'Hana-2');
  await other.page.keyboard.press('Escape');
  await waitForMessage(hana.page, 'system', 'Hana-2 joined, 2 online');
  // The two are told apart by colour as well as by name.
  const colours = await hana.page.locator('#memberList .member-name').evaluateAll((els) => els.map((el) => getComputedStyle(el).color));
  assert.equal(colours.length, 2);

  // Hana opens a second tab (same browser: same user). Nobody is told she "joined",
  // and the next person sees 3 people online, not 4 tabs.
  const tab = await hana.context.newPage();
  await tab.goto(`${server.url}/`);
  await waitForStatus(tab, 'connected');
  await waitForJoined(tab);
  const kim = await openChat(browser, server, { name: 'kim' });
  await waitForMessage(other.page, 'system', 'kim joined, 3 online');
  const notices = await other.page.locator('#messages .message-system .message-text').allTextContents();
  assert.deepEqual(notices.filter((n) => n.includes('joined')), ['kim joined, 3 online']);
  assert.equal(await kim.page.locator('#memberCount').textContent(), '(3)');
  // The tab closes. A plain-text observer (the seed's protocol) is told of every
  // connection that leaves; once it has that notice it speaks, and once kim has its
  // message, kim has had whatever the server said about the tab (in room order).
  const observer = new WebSocket(server.wsUrl('/wss'));
  const heard = [];
  observer.on('message', (data) => heard.push(data.toString()));
  await once(observer, 'open');
  await waitForMessage(kim.page, 'system', 'guest-1 joined, 4 online');
  await tab.close();
  await until(() => heard.includes('系统通知: 用户离开,当前在线4人'));
  observer.send('after the tab closed');
  await waitForMessage(kim.page, 'received', 'after the tab closed');
  assert.equal(await kim.page.locator('#messages .message-system', { hasText: /^Hana left/ }).count(), 0, 'one tab closing is not Hana leaving');
  assert.equal(await kim.page.locator('#memberCount').textContent(), '(4)', 'Hana, Hana-2, kim, guest-1');
  observer.close();

  for (const { context } of [hana, other, kim]) await context.close();
});

test('phone: the side panel closes with Esc, a tap outside and ☰; focus follows; joining by the form focuses the input (zh-CN)', async () => {
  const server = await startServer();
  const { page, context, problems } = await openChat(browser, server, { name: '小红', locale: 'zh-CN', viewport: PHONE });
  const panel = page.locator('#sidePanel');
  const open = async () => {
    await page.locator('#panelToggle').click();
    await page.waitForFunction(() => document.getElementById('sidePanel').getBoundingClientRect().left === 0, null, { timeout: TIMEOUT.message });
    assert.equal(await page.locator('#panelToggle').getAttribute('aria-expanded'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.closest('#sidePanel') !== null), true, 'focus moved into the panel');
  };

  await open();
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'panelToggle', 'focus back on ☰');

  await open();
  await page.screenshot({ path: artifactPath('phone-panel-backdrop.png') });
  await page.mouse.click(PHONE.width - 20, PHONE.height / 2); // on the backdrop, beside the panel
  await panel.waitFor({ state: 'hidden' });

  await open();
  await page.locator('#panelToggle').click({ force: true });
  await panel.waitFor({ state: 'hidden' });

  // Join a room by the form: the panel closes and the cursor is in the message box.
  await open();
  await page.locator('#roomInput').fill('newroom');
  await page.locator('#roomInput').press('Enter');
  await page.waitForURL(/#newroom$/);
  await panel.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'messageInput');
  await waitForJoined(page);
  assert.deepEqual(problems, []);
  await context.close();
});

test('desktop: joining by the form puts the cursor in the message box; Tab order is header, panel, list, input', async () => {
  const server = await startServer();
  const { page, context, problems } = await openChat(browser, server, { name: 'kim' });
  await page.locator('#roomInput').fill('#general');
  await page.locator('#joinRoomButton').click();
  await page.waitForURL(/#general$/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'messageInput');

  // Keyboard order from the top of the page (a click on the title starts it there).
  await page.locator('h1 .chat-title-text').click();
  const order = [];
  for (let i = 0; i < 16; i++) {
    await page.keyboard.press('Tab');
    order.push(await page.evaluate(() => {
      const el = document.activeElement;
      return el.id || el.getAttribute('href') || el.className;
    }));
  }
  const at = (id) => order.indexOf(id);
  for (const [a, b] of [['notifyToggle', 'themeToggle'], ['themeToggle', 'nameButton'], ['nameButton', '#general'],
    ['#general', 'roomInput'], ['roomInput', 'messages'], ['messages', 'messageInput'], ['messageInput', 'sendButton']]) {
    assert.ok(at(a) >= 0 && at(a) < at(b), `${a} before ${b}: ${JSON.stringify(order)}`);
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test('markdown subset, @mentions highlighted, a desktop notification for a mention (opt-in)', async () => {
  const server = await startServer();
  const { page, context, problems } = await openChat(browser, server, {
    name: 'alice',
    beforeGoto: async (p) => {
      await p.context().grantPermissions(['notifications']);
      // Records notifications instead of showing them.
      await p.addInitScript(() => {
        window.__notes = [];
        window.Notification = class {
          static permission = 'granted';
          static requestPermission() { return Promise.resolve('granted'); }
          constructor(title, options) { window.__notes.push({ title, body: options?.body }); }
          close() {}
        };
      });
    },
  });
  assert.equal(await page.locator('#notifyToggle').getAttribute('aria-pressed'), 'false', 'off until asked for');
  await page.locator('#notifyToggle').click();
  await page.locator('#notifyToggle[aria-pressed="true"]').waitFor();

  const bob = await ParleyWs.connect(server, 'bob');
  await bob.join('lobby');
  const text = '**bold** *it* `code <b>x</b>` [docs](https://example.com/d) [x](javascript:alert(1)) snake_case\n```\n<script>alert(1)</script>\n```';
  await bob.say('lobby', text, 'hey @alice, look', 'no mention of @alicette here');
  const rich = page.locator('#messages .message-received').first();
  await rich.waitFor({ timeout: TIMEOUT.message });
  const shape = await rich.locator('.message-text').evaluate((el) => [...el.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()));
  assert.deepEqual(shape, ['strong', 'em', 'code', 'a', 'pre', 'code']);
  assert.equal(await rich.locator('code').first().textContent(), 'code <b>x</b>');
  assert.equal(await rich.locator('a').getAttribute('href'), 'https://example.com/d');
  assert.match(await rich.locator('.message-text').textContent(), /\[x\]\(javascript:alert\(1\)\) snake_case/);
  assert.equal(await page.evaluate(() => document.querySelectorAll('#messages script, #messages b').length), 0);

  const mention = await waitForMessage(page, 'received', 'hey @alice, look');
  assert.equal(await mention.evaluate((el) => el.classList.contains('mention')), true);
  assert.equal(await mention.locator('.mention-name').textContent(), '@alice');
  const notMention = await waitForMessage(page, 'received', 'no mention of @alicette here');
  assert.equal(await notMention.evaluate((el) => el.classList.contains('mention')), false);
  await page.screenshot({ path: artifactPath('markdown-mention.png') });
  // Visible tab: only the mention notifies.
  assert.deepEqual(await page.evaluate(() => window.__notes), [{ title: 'bob mentioned you in #lobby', body: 'hey @alice, look' }]);
  bob.close();
  assert.deepEqual(problems, []);
  await context.close();
});
