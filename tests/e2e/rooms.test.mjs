// Three people (alice, bob, carol) in two rooms (#general, #random), each in their own
// browser context: names kept across a reload, rooms in the URL, members and presence,
// unread counts (per room and in the tab title), typing, history after a reload and
// older history on scrolling up, XSS through texts and names, links, a phone-sized
// screen, English and Chinese. chat.png (the three pages side by side) and the phone
// screenshots are saved to $PARLEY_ARTIFACTS.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  PHONE,
  TIMEOUT,
  artifactPath,
  chooseName,
  conversation,
  message,
  messageTexts,
  openChat,
  openPage,
  typeAndEnter,
  useBrowser,
  waitForMessage,
  waitForStatus,
} from './lib/browser.mjs';
import { ParleyWs } from './lib/parley-ws.mjs';
import { startServer } from './lib/server.mjs';

const browser = useBrowser();

/** [{ name, online, you, user }] of the member list shown. */
function members(page) {
  return page.locator('#memberList li').evaluateAll((items) =>
    items.map((li) => ({
      name: li.querySelector('.member-name').textContent,
      online: li.dataset.online === 'true',
      you: li.querySelector('.member-you') !== null,
      user: li.dataset.user,
    })));
}

async function waitForMembers(page, expected) {
  const names = () => members(page).then((list) => list.map(({ name, online }) => `${name}${online ? '' : ' (offline)'}`));
  await page.waitForFunction(
    (want) => [...document.querySelectorAll('#memberList li')]
      .map((li) => `${li.querySelector('.member-name').textContent}${li.dataset.online === 'true' ? '' : ' (offline)'}`)
      .join('|') === want.join('|'),
    expected, { timeout: TIMEOUT.message },
  ).catch(async (error) => {
    throw new Error(`members: wanted ${JSON.stringify(expected)}, have ${JSON.stringify(await names())}\n${error.message}`);
  });
}

/** The rooms listed, as "#name" or "#name (unread)". */
function roomList(page) {
  return page.locator('#roomList li').evaluateAll((items) =>
    items.map((li) => {
      const badge = li.querySelector('.unread-badge');
      const name = li.querySelector('.room-link-name').textContent;
      return badge.hidden ? name : `${name} (${badge.textContent})`;
    }));
}

async function waitForRoomList(page, expected) {
  await page.waitForFunction(
    (want) => [...document.querySelectorAll('#roomList li')].map((li) => {
      const badge = li.querySelector('.unread-badge');
      const name = li.querySelector('.room-link-name').textContent;
      return badge.hidden ? name : `${name} (${badge.textContent})`;
    }).join('|') === want.join('|'),
    expected, { timeout: TIMEOUT.message },
  ).catch(async (error) => {
    throw new Error(`rooms: wanted ${JSON.stringify(expected)}, have ${JSON.stringify(await roomList(page))}\n${error.message}`);
  });
}

/** Waits until the room shown has exactly `count` notices reading `text`. */
function waitForNoticeCount(page, text, count) {
  return page.waitForFunction(([want, n]) =>
    [...document.querySelectorAll('#messages .message-system .message-text')].filter((el) => el.textContent === want).length === n,
  [text, count], { timeout: TIMEOUT.message });
}

function waitForTitle(page, title) {
  return page.waitForFunction((want) => document.title === want, title, { timeout: TIMEOUT.message });
}

function typingText(page) {
  return page.locator('#typingIndicator').textContent();
}

/** Puts screenshots side by side, with captions, into one PNG. */
async function sideBySide(shots, file) {
  const context = await browser.newContext({ viewport: { width: 400, height: 300 } });
  const page = await context.newPage();
  await page.setContent('<body style="margin:0;display:flex;gap:12px;padding:12px;background:#d1d5db;font:20px sans-serif;width:max-content"></body>');
  await page.evaluate((images) => {
    for (const { caption, base64 } of images) {
      const figure = document.createElement('figure');
      figure.style.margin = '0';
      const img = document.createElement('img');
      img.src = `data:image/png;base64,${base64}`;
      img.style.display = 'block';
      img.style.width = '800px';
      const label = document.createElement('figcaption');
      label.textContent = caption;
      label.style.padding = '6px 0';
      figure.append(label, img);
      document.body.append(figure);
    }
  }, shots.map(({ caption, png }) => ({ caption, base64: png.toString('base64') })));
  await page.waitForFunction(() => [...document.images].every((img) => img.complete && img.naturalWidth > 0));
  await page.screenshot({ path: file, fullPage: true });
  await context.close();
}

test('three pages in two rooms: names, members, unread, typing, history after reload (en-US)', async () => {
  const server = await startServer();

  // alice's first visit: the name dialog (which checks the name rules), then #general;
  // she joins #random from the panel.
  const alice = await openPage(browser, `${server.url}/#general`);
  await alice.page.locator('#nameDialog').waitFor();
  assert.equal(await alice.page.locator('#statusText').textContent(), 'Disconnected', 'no connection before a name');
  await alice.page.locator('#nameInput').fill('a'.repeat(33));
  await alice.page.locator('#nameSubmit').click();
  assert.equal(await alice.page.locator('#nameError').textContent(), 'At most 32 characters');
  await alice.page.locator('#nameInput').fill('   ');
  await alice.page.locator('#nameSubmit').click();
  assert.equal(await alice.page.locator('#nameError').textContent(), 'The name cannot be empty');
  await chooseName(alice.page, '  alice ');
  await waitForStatus(alice.page, 'connected');
  assert.equal(await alice.page.locator('#myName').textContent(), 'alice', 'the name is trimmed');
  await alice.page.locator('#roomInput').fill('random');
  await alice.page.locator('#joinRoomButton').click();
  await alice.page.waitForURL(/#random$/);
  assert.equal(await alice.page.locator('#roomName').textContent(), '#random');
  await waitForRoomList(alice.page, ['#general', '#random']);
  // A room name the protocol refuses never leaves the page.
  await alice.page.locator('#roomInput').fill('no spaces');
  await alice.page.locator('#joinRoomButton').click();
  await alice.page.locator('#roomError').waitFor();
  await waitForRoomList(alice.page, ['#general', '#random']);
  await alice.page.locator('#roomInput').fill('');
  assert.equal(await alice.page.locator('#roomError').isVisible(), false);

  const bob = await openChat(browser, server, { name: 'bob', hash: '#general' });
  const carol = await openChat(browser, server, { name: 'carol', hash: '#random' });

  // Members and presence: alice (in #random) sees carol arrive.
  await waitForMessage(alice.page, 'system', 'carol joined, 2 online');
  await waitForMembers(alice.page, ['alice', 'carol']);
  assert.equal((await members(alice.page))[0].you, true, 'alice is marked as herself');
  await waitForMembers(carol.page, ['carol', 'alice']);
  await alice.page.locator('#roomList a[href="#general"]').click();
  await alice.page.waitForURL(/#general$/);
  await waitForMembers(alice.page, ['alice', 'bob']);
  await waitForMessage(alice.page, 'system', 'bob joined, 2 online');
  await waitForMembers(bob.page, ['bob', 'alice']);

  // Chat in #general, with timestamps.
  await typeAndEnter(alice.page, 'hi bob');
  await waitForMessage(bob.page, 'received', 'hi bob');
  await typeAndEnter(bob.page, 'hello alice');
  await waitForMessage(alice.page, 'received', 'hello alice');
  const received = message(alice.page, 'received', 'hello alice');
  assert.equal(await received.locator('.message-from').textContent(), 'bob');
  const datetime = await received.locator('time').getAttribute('datetime');
  assert.ok(Math.abs(Date.parse(datetime) - Date.now()) < 60000, `timestamp ${datetime} is now`);
  assert.match(await received.locator('time').textContent(), /\d{1,2}:\d{2}/);

  // Typing: bob types, alice (same room) sees it; it ends with his message...
  await bob.page.locator('#messageInput').fill('I am typ');
  await alice.page.locator('#typingIndicator', { hasText: 'bob is typing…' }).waitFor({ timeout: TIMEOUT.message });
  assert.equal(await typingText(carol.page), '', 'carol is in another room');
  await bob.page.locator('#messageInput').fill('I am typing a lot');
  await bob.page.locator('#messageInput').press('Enter');
  await waitForMessage(alice.page, 'received', 'I am typing a lot');
  assert.equal(await typingText(alice.page), '', 'the message ends the typing indicator');
  // ...or about 5 s after the last keystroke.
  await bob.page.locator('#messageInput').fill('never sent');
  await alice.page.locator('#typingIndicator', { hasText: 'bob is typing…' }).waitFor({ timeout: TIMEOUT.message });
  const typingShown = Date.now();
  await alice.page.waitForFunction(() => document.getElementById('typingIndicator').textContent === '', null, { timeout: 10000 });
  assert.ok(Date.now() - typingShown > 3000, 'the indicator stayed for a few seconds');
  await bob.page.locator('#messageInput').fill('');

  // Unread: carol writes in #random while alice reads #general.
  await typeAndEnter(carol.page, 'anyone in random?');
  await typeAndEnter(carol.page, 'hello?');
  await waitForRoomList(alice.page, ['#general', '#random (2)']);
  await waitForTitle(alice.page, '(2) #general · WebSocket Chat');
  await typeAndEnter(bob.page, 'general stays read');
  await waitForMessage(alice.page, 'received', 'general stays read');
  await waitForRoomList(alice.page, ['#general', '#random (2)']);
  assert.equal(await alice.page.title(), '(2) #general · WebSocket Chat');
  await alice.page.locator('#roomList a[href="#random"]').click();
  await waitForRoomList(alice.page, ['#general', '#random']);
  await waitForTitle(alice.page, '#random · WebSocket Chat');
  assert.deepEqual(await conversation(alice.page), ['carol: anyone in random?', 'carol: hello?']);
  await typeAndEnter(alice.page, 'hi carol, see https://example.com/docs');
  await waitForMessage(carol.page, 'received', 'hi carol, see https://example.com/docs');
  // Back to #general for the screenshot: everything alice sent there is acked.
  await alice.page.locator('#roomList a[href="#general"]').click();
  await waitForRoomList(alice.page, ['#general', '#random']);
  for (const page of [alice.page, bob.page, carol.page]) {
    assert.equal(await page.locator('#messages .message-sent:not([data-state="sent"])').count(), 0);
    // Acked: no status shown (issue 10: only while pending or failed).
    assert.deepEqual(await page.locator('#messages .message-sent .message-status').allTextContents(),
      Array(await page.locator('#messages .message-sent').count()).fill(''));
  }

  await sideBySide([
    { caption: 'alice — #general (also in #random)', png: await alice.page.screenshot() },
    { caption: 'bob — #general', png: await bob.page.screenshot() },
    { caption: 'carol — #random', png: await carol.page.screenshot() },
  ], artifactPath('chat.png'));

  // bob reloads: no name dialog, same user (the resume token), the same conversation
  // from history, in order and once.
  const before = await conversation(bob.page);
  assert.deepEqual(before, ['alice: hi bob', 'me: hello alice', 'me: I am typing a lot', 'me: general stays read']);
  const bobUser = (await members(alice.page)).find((m) => m.name === 'bob').user;
  await bob.page.reload();
  await waitForStatus(bob.page, 'connected');
  assert.equal(await bob.page.locator('#nameDialog').isVisible(), false, 'the name is remembered');
  assert.equal(await bob.page.locator('#myName').textContent(), 'bob');
  await message(bob.page, 'sent', 'general stays read').waitFor({ timeout: TIMEOUT.message });
  assert.deepEqual(await conversation(bob.page), before);
  // alice sees no left/joined pair for the reload (issue 10: churn merged). bob's next
  // message reaches her after his new join, and his old connection's leave, in either
  // order, then changes nothing (one of his connections is always there).
  await typeAndEnter(bob.page, 'back after a reload');
  await waitForMessage(alice.page, 'received', 'back after a reload');
  await waitForMembers(alice.page, ['alice', 'bob']);
  await waitForNoticeCount(alice.page, 'bob joined, 2 online', 1);
  assert.equal(await message(alice.page, 'system', 'bob left, 1 online').count(), 0);
  assert.equal((await members(alice.page)).find((m) => m.name === 'bob').user, bobUser, 'same user after the reload');

  // carol renames herself, then leaves: alice sees both, carol stays listed as offline.
  await alice.page.locator('#roomList a[href="#random"]').click();
  await carol.page.locator('#nameButton').click();
  await carol.page.locator('#nameInput').fill('caroline');
  await carol.page.locator('#nameSubmit').click();
  await waitForMessage(alice.page, 'system', 'carol is now caroline');
  await waitForMembers(alice.page, ['alice', 'caroline']);
  await carol.context.close();
  await waitForMessage(alice.page, 'system', 'caroline left, 1 online');
  await waitForMembers(alice.page, ['alice', 'caroline (offline)']);

  // Leaving a room: it disappears from the list and the page moves to the other one.
  await alice.page.locator('#roomList li[data-room="random"] .room-leave').click();
  await alice.page.waitForURL(/#general$/);
  await waitForRoomList(alice.page, ['#general']);

  assert.deepEqual([...alice.problems, ...bob.problems, ...carol.problems], []);
  await alice.context.close();
  await bob.context.close();
});

test('history: newest page on join, older pages on scrolling up, in order and once', async () => {
  const server = await startServer({ args: ['--rate', '1000', '--rate-burst', '1000'] });
  const dave = await ParleyWs.connect(server, 'dave');
  await dave.join('archive');
  const texts = Array.from({ length: 120 }, (_, i) => `old ${i + 1}`);
  await dave.say('archive', ...texts);
  dave.close();

  const { page, context, problems } = await openChat(browser, server, { name: 'erin', hash: '#archive' });
  await waitForMessage(page, 'received', 'old 120');
  // The join brought the newest 50 (the server's --join-history).
  assert.deepEqual(await messageTexts(page, 'received'), texts.slice(70));
  assert.equal(await page.locator('.log-top').getAttribute('data-state'), 'more');

  // Scroll up with the wheel, as a reader would. The first older page goes above
  // without moving what the reader was looking at ("old 71", the top of the list).
  const list = page.locator('#messages');
  await list.hover();
  await page.mouse.wheel(0, -10000);
  await page.waitForFunction(() => document.querySelectorAll('#messages .message-received').length > 50, null, { timeout: TIMEOUT.message });
  const inView = (text) => message(page, 'received', text).evaluate((el) => {
    const box = el.getBoundingClientRect();
    const view = document.getElementById('messages').getBoundingClientRect();
    return box.bottom > view.top && box.top < view.bottom;
  });
  assert.equal(await inView('old 71'), true, 'the reader keeps their place');
  assert.equal(await inView('old 21'), false, 'the new page is above, out of view');
  // Further up, until the beginning.
  for (let i = 0; i < 20; i++) {
    await page.waitForFunction(() => document.querySelector('.log-top').dataset.state !== 'loading', null, { timeout: TIMEOUT.message });
    if ((await page.locator('.log-top').getAttribute('data-state')) === 'beginning') break;
    await page.mouse.wheel(0, -10000);
  }
  assert.equal(await page.locator('.log-top').textContent(), 'This is the beginning of #archive');
  assert.deepEqual(await messageTexts(page, 'received'), texts, 'all 120, in order, once');
  const ids = await page.locator('#messages .message-received').evaluateAll((els) => els.map((el) => Number(el.dataset.msgId)));
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.equal(new Set(ids).size, 120);
  assert.deepEqual(problems, []);
  await context.close();
});

test('names and texts that look like HTML stay text; only http(s) URLs become links', async () => {
  const server = await startServer();
  // Names have at most 32 code points, so these are short.
  const evilNames = ['<img src=x onerror=__xss=1>', '<script>__xss=2</script>'];
  const mallory = await openChat(browser, server, { name: evilNames[0], hash: '#xss' });
  const trent = await openChat(browser, server, { name: evilNames[1], hash: '#xss' });
  const victim = await openChat(browser, server, { name: 'victim', hash: '#xss' });

  const payloads = [
    '<img src=x onerror="window.__xss=3">',
    '<script>window.__xss=4</script>',
    '<svg onload="window.__xss=5"></svg> &amp; &lt;',
    '<a href="javascript:window.__xss=6">click</a>',
  ];
  for (const text of payloads) await typeAndEnter(mallory.page, text);
  await trent.page.locator('#messageInput').fill('typing as a script tag');
  for (const text of payloads) await waitForMessage(victim.page, 'received', text);
  await victim.page.locator('#typingIndicator', { hasText: `${evilNames[1]} is typing…` }).waitFor({ timeout: TIMEOUT.message });

  const links = 'docs at https://example.com/a?b=1&c=2, not javascript:window.__xss=7 nor JAVASCRIPT:alert(1)';
  await typeAndEnter(trent.page, links);
  const linkMessage = await waitForMessage(victim.page, 'received', links);

  for (const { page } of [mallory, trent, victim]) {
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    // No element was made from a name or a text.
    assert.equal(await page.locator('#messages img, #messages script, #messages svg, #memberList img, #memberList script, #typingIndicator *').count(), 0);
    const senders = await page.locator('#messages .message-from').allTextContents();
    for (const name of senders) assert.ok(evilNames.includes(name) || name === 'victim', name);
  }
  await waitForMembers(victim.page, ['victim', ...evilNames].sort((a, b) => (a === 'victim' ? -1 : b === 'victim' ? 1 : a.localeCompare(b))));
  await waitForMessage(mallory.page, 'system', `${evilNames[1]} joined, 2 online`);
  await waitForMessage(trent.page, 'system', 'victim joined, 3 online');
  const shapes = await victim.page.locator('#messages .message-received .message-text').evaluateAll((els) =>
    els.map((el) => ({ text: el.textContent, children: el.childElementCount })));
  assert.deepEqual(shapes.slice(0, payloads.length), payloads.map((text) => ({ text, children: 0 })));
  assert.deepEqual((await message(victim.page, 'received', payloads[0]).locator('.message-from').textContent()), evilNames[0]);

  // The one link: https, opening in a new tab without opener or referrer.
  const anchors = await linkMessage.locator('.message-text a').evaluateAll((els) =>
    els.map((a) => ({ href: a.getAttribute('href'), text: a.textContent, target: a.target, rel: a.rel })));
  assert.deepEqual(anchors, [{ href: 'https://example.com/a?b=1&c=2', text: 'https://example.com/a?b=1&c=2', target: '_blank', rel: 'noopener noreferrer' }]);
  assert.equal(await victim.page.locator('#messages a[href^="javascript" i]').count(), 0);
  assert.equal(await message(victim.page, 'received', payloads[3]).locator('a').count(), 0);

  await victim.page.screenshot({ path: artifactPath('xss-names.png') });
  assert.deepEqual([...mallory.problems, ...trent.problems, ...victim.problems], []);
  for (const { context } of [mallory, trent, victim]) await context.close();
});

test('a phone-sized screen (390×844, zh-CN): the panel collapses and opens on demand', async () => {
  const server = await startServer();
  const friend = await ParleyWs.connect(server, '小明');
  await friend.join('general');
  await friend.say('general', '你好!欢迎来到 #general');
  const phone = await openChat(browser, server, { name: '小红', hash: '#general', locale: 'zh-CN', viewport: PHONE });
  const { page } = phone;

  // Chinese UI.
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal(await page.locator('#statusText').textContent(), '已连接');
  assert.equal(await page.getAttribute('#messageInput', 'placeholder'), '输入消息后按回车发送...');
  await waitForMessage(page, 'system', '已成功连接到聊天服务器');
  await waitForMessage(page, 'received', '你好!欢迎来到 #general');
  await friend.join('random');
  friend.send({ type: 'send', room: 'random', id: 'r-1', text: '随便聊聊' });
  friend.send({ type: 'typing', room: 'general' });
  await page.locator('#typingIndicator', { hasText: '小明 正在输入…' }).waitFor({ timeout: TIMEOUT.message });
  await typeAndEnter(page, '你好小明!');
  await waitForMessage(page, 'sent', '你好小明!');
  await page.locator('#messages .message-sent[data-state="sent"]').waitFor();
  assert.equal(await message(page, 'sent', '你好小明!').locator('.message-status').textContent(), '');
  await friend.next((e) => e.type === 'message' && e.text === '你好小明!');

  // Fits the screen: no sideways scrolling, the input and the send button are on screen,
  // the panel is out of the way.
  const layout = await page.evaluate(() => {
    const box = (selector) => document.querySelector(selector).getBoundingClientRect().toJSON();
    return { scrollWidth: document.documentElement.scrollWidth, input: box('#messageInput'), send: box('#sendButton') };
  });
  assert.ok(layout.scrollWidth <= PHONE.width, `no horizontal scroll (${layout.scrollWidth})`);
  for (const control of [layout.input, layout.send]) {
    assert.ok(control.right <= PHONE.width && control.bottom <= PHONE.height && control.top >= 0, JSON.stringify(control));
  }
  assert.equal(await page.locator('#sidePanel').isVisible(), false);
  assert.equal(await page.locator('#panelToggle').isVisible(), true);
  await page.screenshot({ path: artifactPath('phone.png') });

  // The toggle shows rooms and members (and carries the unread count of other rooms).
  await page.evaluate(() => { location.hash = 'random'; });
  await waitForMessage(page, 'received', '随便聊聊');
  await page.evaluate(() => { location.hash = 'general'; });
  friend.send({ type: 'send', room: 'random', id: 'r-2', text: '有人吗?' });
  await page.locator('#panelToggleBadge', { hasText: '1' }).waitFor({ timeout: TIMEOUT.message });
  await page.locator('#panelToggle').click();
  await page.locator('#sidePanel').waitFor({ state: 'visible' });
  // Slid in completely (the slide takes 150 ms).
  await page.waitForFunction(() => document.getElementById('sidePanel').getBoundingClientRect().left === 0, null, { timeout: TIMEOUT.message });
  assert.equal(await page.locator('#panelToggle').getAttribute('aria-expanded'), 'true');
  assert.equal(await page.locator('#roomsHeading').textContent(), '房间');
  await waitForMembers(page, ['小红', '小明']);
  assert.equal(await page.locator('#memberList .member-you').textContent(), '(我)');
  await page.screenshot({ path: artifactPath('phone-panel.png') });
  await page.locator('#roomList a[href="#random"]').click();
  await page.locator('#sidePanel').waitFor({ state: 'hidden' });
  await waitForMessage(page, 'received', '有人吗?');
  assert.equal(await page.locator('#panelToggleBadge').isVisible(), false);

  friend.close();
  assert.deepEqual(phone.problems, []);
  await phone.context.close();
});
