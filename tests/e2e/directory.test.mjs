// Issue 10 items 6 and large rooms (issue 10 item 4, client side): the rooms
// directory (counts, most people first, a prefix filter in any script, paging,
// joining from it), rooms named in any script through the join box and the address,
// and a room of 100+ people: presence coalesced (presence_batch), the count of
// people exact, the member list paged with "Show more". Desktop and phone, English
// and Chinese, both themes, axe-core.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  PHONE,
  TIMEOUT,
  accessibilityProblems,
  artifactPath,
  openChat,
  typeAndEnter,
  useBrowser,
  waitForMessage,
} from './lib/browser.mjs';
import { setThemeBehindDialog } from './lib/features.mjs';
import { ParleyWs } from './lib/parley-ws.mjs';
import { startServer } from './lib/server.mjs';

const browser = useBrowser();

/** The directory as shown: "#name|count" per room. */
function listed(page) {
  return page.locator('#directoryList .directory-room').evaluateAll((els) =>
    els.map((el) => `${el.querySelector('.directory-room-name').textContent}|${el.querySelector('.directory-room-count').textContent}`));
}

async function waitForListed(page, expected) {
  await page.waitForFunction((want) => [...document.querySelectorAll('#directoryList .directory-room')]
    .map((el) => `${el.querySelector('.directory-room-name').textContent}|${el.querySelector('.directory-room-count').textContent}`)
    .join('\n') === want.join('\n'), expected, { timeout: TIMEOUT.message })
    .catch(async (error) => {
      throw new Error(`directory: wanted ${JSON.stringify(expected)}, have ${JSON.stringify(await listed(page))}\n${error.message}`);
    });
}

test('the directory: counts, most people first, a prefix filter (any script), joining from it (en-US)', async () => {
  const server = await startServer();
  const people = await Promise.all(['w1', 'w2', 'w3'].map((name) => ParleyWs.connect(server, name)));
  for (const room of ['我的房间', 'team-a', 'team-b']) await people[0].join(room);
  for (const room of ['我的房间', 'team-a']) await people[1].join(room);
  await people[2].join('我的房间');
  const { page, context, problems } = await openChat(browser, server, { name: 'alice' });

  await page.locator('#browseRooms').click();
  await page.locator('#directoryDialog').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'directoryInput');
  await waitForListed(page, ['#我的房间|3 people', '#team-a|2 people', '#lobby|1 person', '#team-b|1 person']);
  assert.equal(await page.locator('#directoryTotal').textContent(), '4 rooms open on this server');
  assert.equal(await page.locator('#directoryList li[data-room="lobby"] .directory-room-joined').textContent(), 'joined');
  for (const theme of ['light', 'dark']) {
    await setThemeBehindDialog(page, theme);
    assert.deepEqual(await accessibilityProblems(page), [], `directory, ${theme}`);
    await page.screenshot({ path: artifactPath(`directory-desktop-${theme}.png`) });
  }
  await setThemeBehindDialog(page, 'light');

  await page.locator('#directoryInput').fill('TEAM');
  await waitForListed(page, ['#team-a|2 people', '#team-b|1 person']);
  await page.locator('#directoryInput').fill('我');
  await waitForListed(page, ['#我的房间|3 people']);
  await page.locator('#directoryList .directory-room').click();
  await page.locator('#directoryDialog').waitFor({ state: 'hidden' });
  await page.locator('#messages .room-log[data-room="我的房间"][data-joined="true"]').waitFor({ state: 'attached' });
  assert.equal(decodeURIComponent(await page.evaluate(() => location.hash)), '#我的房间');
  assert.equal(await page.locator('#roomName').textContent(), '#我的房间');
  assert.deepEqual(await page.locator('#roomList .room-link-name').allTextContents(), ['#lobby', '#我的房间']);
  await typeAndEnter(page, 'hello from the directory');
  await people[2].next((e) => e.type === 'message' && e.room === '我的房间' && e.text === 'hello from the directory');

  // The join box takes names in any script (NFC), and refuses what the server would.
  await page.locator('#roomInput').fill('#cafe\u0301');
  await page.locator('#roomInput').press('Enter');
  await page.locator('#messages .room-log[data-room="café"][data-joined="true"]').waitFor({ state: 'attached' });
  await page.locator('#roomInput').fill('no spaces');
  await page.locator('#roomInput').press('Enter');
  assert.equal(await page.locator('#roomError').textContent(), 'Room names: 1–64 letters (any script), digits or . _ -');
  // A link to a room in any script works.
  await page.evaluate(() => { location.hash = encodeURIComponent('команда'); });
  await page.locator('#messages .room-log[data-room="команда"][data-joined="true"]').waitFor({ state: 'attached' });
  for (const person of people) person.close();
  assert.deepEqual(problems, []);
  await context.close();
});

test('目录分页 (zh-CN, phone): more rooms than a page, "更多房间" lists the rest', async () => {
  const server = await startServer();
  const openers = await Promise.all([0, 1].map((i) => ParleyWs.connect(server, `opener${i}`)));
  const rooms = Array.from({ length: 55 }, (_, i) => `房间-${String(i).padStart(2, '0')}`);
  for (const [i, room] of rooms.entries()) await openers[i % 2].join(room);
  const { page, context, problems } = await openChat(browser, server, { name: '小红', locale: 'zh-CN', viewport: PHONE });
  await page.locator('#panelToggle').click();
  await page.locator('#browseRooms').click();
  await page.locator('#directoryStatus', { hasText: '' }).waitFor();
  await page.locator('#directoryTotal', { hasText: '服务器上有 56 个开放的房间' }).waitFor({ timeout: TIMEOUT.message });
  await page.locator('#directoryMore').waitFor({ state: 'visible', timeout: TIMEOUT.message });
  assert.equal(await page.locator('#directoryList li').count(), 50);
  for (const theme of ['light', 'dark']) {
    await setThemeBehindDialog(page, theme);
    assert.deepEqual(await accessibilityProblems(page), [], `phone directory, ${theme}`);
    await page.screenshot({ path: artifactPath(`directory-phone-${theme}.png`) });
  }
  await page.locator('#directoryMore').click();
  await page.waitForFunction(() => document.querySelectorAll('#directoryList li').length === 56, null, { timeout: TIMEOUT.message });
  assert.equal(await page.locator('#directoryMore').isVisible(), false);
  const names = await page.locator('#directoryList .directory-room-name').allTextContents();
  assert.equal(new Set(names).size, 56, 'each room once');
  await page.locator('#directoryClose').click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'browseRooms');
  for (const opener of openers) opener.close();
  assert.deepEqual(problems, []);
  await context.close();
});

test('a room of 100+ people: presence coalesced, the count exact, the member list paged', async () => {
  const server = await startServer({ args: ['--presence-batch-above', '20'] });
  const join = async (from, to) => {
    const people = [];
    for (let i = from; i < to; i++) {
      const person = await ParleyWs.connect(server, `p${String(i).padStart(3, '0')}`);
      await person.join('big');
      people.push(person);
    }
    return people;
  };
  const crowd = await join(0, 104);
  // alice comes into a room of 104: `joined` lists the first 100 people by name.
  const { page, context, problems } = await openChat(browser, server, { name: 'alice', hash: '#big' });
  await page.locator('#memberCount', { hasText: '(105)' }).waitFor({ timeout: TIMEOUT.message });
  await page.locator('#membersMore', { hasText: 'Show more (100 of 105)' }).waitFor({ timeout: TIMEOUT.message });
  assert.equal(await page.locator('#memberList li').count(), 100);
  assert.deepEqual(await accessibilityProblems(page), [], 'large room');

  // Ten more in a burst: coalesced into presence_batch events, no notice per person;
  // the count stays exact and the partial list is refreshed from the server.
  crowd.push(...await join(104, 114));
  await page.locator('#memberCount', { hasText: '(115)' }).waitFor({ timeout: TIMEOUT.message });
  await page.locator('#membersMore', { hasText: 'Show more (100 of 115)' }).waitFor({ timeout: TIMEOUT.message });
  const notices = await page.locator('#messages .message-system .message-text').allTextContents();
  assert.equal(notices.filter((text) => / joined, /.test(text)).length, 0, JSON.stringify(notices));
  await page.locator('#membersMore').click();
  await page.waitForFunction(() => document.querySelectorAll('#memberList li').length === 115, null, { timeout: TIMEOUT.message });
  assert.equal(await page.locator('#membersMore').isVisible(), false);
  await page.screenshot({ path: artifactPath('large-room.png') });

  // Ten leave at once: the complete list follows the batch's names.
  for (const person of crowd.splice(0, 10)) person.close();
  await page.locator('#memberCount', { hasText: '(105)' }).waitFor({ timeout: TIMEOUT.message });
  await page.waitForFunction(() => document.querySelectorAll('#memberList li.online').length === 105, null, { timeout: TIMEOUT.message });
  await typeAndEnter(page, 'hello crowd');
  await crowd[0].next((e) => e.type === 'message' && e.text === 'hello crowd');
  await waitForMessage(page, 'sent', 'hello crowd');
  for (const person of crowd) person.close();
  assert.deepEqual(problems, []);
  await context.close();
});
