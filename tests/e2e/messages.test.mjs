// Issue 10 item 3 in the browser: edit (Up arrow, "(edited)"), delete (a
// placeholder, quotes of it emptied), replies (the quote above, a click shows the
// original), reactions (the picker, counts, own ones highlighted, toggling),
// @mentions (suggestions from the member list, highlighted); on two pages, a
// desktop in English and light and a phone in Chinese and dark; axe-core in both
// themes; changes made while a page was offline reach it after the reconnect, and
// the page's own offline changes wait in its outbox and go with their ids.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  PHONE,
  TIMEOUT,
  accessibilityProblems,
  artifactPath,
  message,
  openChat,
  setTheme,
  typeAndEnter,
  useBrowser,
  waitForMessage,
  waitForState,
  waitForStatus,
} from './lib/browser.mjs';
import { FEATURE_SERVER_ARGS, chips, messageById, showActions, waitForChips, waitForText } from './lib/features.mjs';
import { ParleyWs } from './lib/parley-ws.mjs';
import { startServer } from './lib/server.mjs';

const browser = useBrowser();

const msgIdOf = async (locator) => Number(await locator.getAttribute('data-msg-id'));

test('two pages (en-US, light): Up arrow edits, a reply quotes, reactions count and toggle, @mentions, delete', async () => {
  const server = await startServer({ args: FEATURE_SERVER_ARGS });
  const alice = await openChat(browser, server, { name: 'alice' });
  const bob = await openChat(browser, server, { name: 'bob' });
  const carol = await ParleyWs.connect(server, 'carol');
  await carol.join('lobby');

  // alice writes with a typo; Up arrow in the empty box brings it back to edit.
  await typeAndEnter(alice.page, 'helo everyone');
  const sent = await waitForMessage(alice.page, 'sent', 'helo everyone');
  await waitForState(sent, 'sent');
  const id = await msgIdOf(sent);
  const hers = messageById(alice.page, id);
  await waitForMessage(bob.page, 'received', 'helo everyone');
  const box = alice.page.locator('#messageInput');
  await box.press('ArrowUp');
  assert.equal(await box.inputValue(), 'helo everyone');
  assert.equal(await alice.page.locator('#composeText').textContent(), 'Editing your message · Esc to cancel');
  await box.fill('hello everyone');
  await box.press('Enter');
  assert.equal(await box.inputValue(), '');
  assert.equal(await alice.page.locator('#composeBanner').isVisible(), false);
  const onBob = messageById(bob.page, id);
  await waitForText(onBob.locator('.message-text'), 'hello everyone');
  assert.equal(await onBob.locator('.message-edited').textContent(), '(edited)');
  assert.match(await onBob.locator('.message-edited').getAttribute('title'), /^Edited /);
  await waitForText(hers.locator('.message-edited'), '(edited)');
  const edit = await carol.next((e) => e.type === 'message_edited' && e.target === id);
  assert.equal(edit.text, 'hello everyone');

  // The edit button does the same; Esc gives back what was being typed.
  await box.fill('a draft');
  await (await showActions(hers)).locator('.action-edit').click();
  assert.equal(await box.inputValue(), 'hello everyone');
  await box.press('Escape');
  assert.equal(await box.inputValue(), 'a draft');
  await box.fill('');

  // Messages in between, then bob replies to alice's message: the quote is above his.
  await carol.say('lobby', ...Array.from({ length: 30 }, (_, i) => `filler ${i + 1}`));
  await waitForMessage(bob.page, 'received', 'filler 30');
  await (await showActions(onBob)).locator('.action-reply').click();
  assert.equal(await bob.page.locator('#composeText').textContent(), 'Replying to alice: hello everyone');
  await typeAndEnter(bob.page, 'hi alice!');
  const reply = await waitForMessage(alice.page, 'received', 'hi alice!');
  assert.equal(await reply.locator('.message-quote .quote-from').textContent(), 'alice');
  assert.equal(await reply.locator('.message-quote .quote-text').textContent(), 'hello everyone');
  assert.equal((await carol.next((e) => e.type === 'message' && e.text === 'hi alice!')).reply_to.msg_id, id);
  // A click on the quote scrolls to the original and marks it.
  assert.equal(await hers.evaluate((el) => el.getBoundingClientRect().bottom > 0), false, 'scrolled out of view');
  await reply.locator('.message-quote').click();
  await alice.page.waitForFunction((msgId) => {
    const el = document.querySelector(`#messages .message[data-msg-id="${msgId}"]`);
    const list = document.getElementById('messages').getBoundingClientRect();
    const box = el.getBoundingClientRect();
    return box.top >= list.top && box.bottom <= list.bottom && el.classList.contains('flash');
  }, id, { timeout: TIMEOUT.message });
  assert.equal(await alice.page.evaluate(() => document.activeElement.dataset.msgId), String(id));
  await alice.page.locator('#jumpToNew').click();

  // Reactions: bob picks 🎉 from the picker (keyboard), alice adds hers with the chip.
  await (await showActions(onBob)).locator('.action-react').click();
  const picker = bob.page.locator('#emojiPicker');
  await picker.waitFor({ state: 'visible' });
  assert.equal(await bob.page.evaluate(() => document.activeElement.dataset.emoji), '👍');
  for (let i = 0; i < 3; i++) await bob.page.keyboard.press('ArrowRight');
  await bob.page.keyboard.press('Enter');
  await picker.waitFor({ state: 'hidden' });
  await waitForChips(bob.page, id, ['🎉 1 mine']);
  await waitForChips(alice.page, id, ['🎉 1']);
  await hers.locator('.reaction').click();
  await waitForChips(alice.page, id, ['🎉 2 mine']);
  await waitForChips(bob.page, id, ['🎉 2 mine']);
  assert.equal(await hers.locator('.reaction').getAttribute('aria-label'), '🎉 2, including you. Click to remove yours');
  await hers.locator('.reaction').click();
  await waitForChips(alice.page, id, ['🎉 1']);
  await carol.request({ type: 'react', room: 'lobby', target: id, emoji: '👍' });
  await waitForChips(bob.page, id, ['🎉 1 mine', '👍 1']);

  // @mentions: the suggestions come from the member list; Enter picks.
  const bobBox = bob.page.locator('#messageInput');
  await bobBox.pressSequentially('thanks @al');
  const suggestions = bob.page.locator('#mentionList');
  await suggestions.waitFor({ state: 'visible' });
  assert.deepEqual(await suggestions.locator('[role="option"]').allTextContents(), ['@alice']);
  assert.equal(await bobBox.getAttribute('aria-activedescendant'), 'mention-option-0');
  await bobBox.press('Enter');
  assert.equal(await bobBox.inputValue(), 'thanks @alice ');
  await bobBox.pressSequentially('see you');
  await bobBox.press('Enter');
  const mention = await waitForMessage(alice.page, 'received', 'thanks @alice see you');
  assert.equal(await mention.evaluate((el) => el.classList.contains('mention')), true);
  assert.equal(await mention.locator('.mention-name.mention-me').textContent(), '@alice');

  // axe-core with a toolbar and the picker showing, both themes.
  await alice.page.locator('#messageInput').focus();
  for (const theme of ['light', 'dark']) {
    await setTheme(alice.page, theme);
    await showActions(hers);
    assert.deepEqual(await accessibilityProblems(alice.page), [], `toolbar, ${theme}`);
    await alice.page.screenshot({ path: artifactPath(`messages-desktop-${theme}.png`) });
  }
  await setTheme(alice.page, 'light');
  await (await showActions(reply)).locator('.action-react').click();
  await alice.page.locator('#emojiPicker').waitFor({ state: 'visible' });
  assert.deepEqual(await accessibilityProblems(alice.page), [], 'picker open');
  await alice.page.keyboard.press('Escape');
  await alice.page.locator('#emojiPicker').waitFor({ state: 'hidden' });

  // alice deletes her message: asked first; bob sees a placeholder, the quote of it empties.
  await (await showActions(hers)).locator('.action-remove').click();
  await alice.page.locator('#deleteDialog').waitFor({ state: 'visible' });
  assert.deepEqual(await accessibilityProblems(alice.page), [], 'delete dialog');
  await alice.page.locator('#deleteConfirm').click();
  await waitForText(onBob.locator('.message-text'), 'This message was deleted');
  assert.deepEqual(await chips(onBob), [], 'no reactions on a deleted message');
  assert.equal(await onBob.locator('.message-actions').count(), 0);
  const replyOnBob = bob.page.locator('#messages .message-sent', { hasText: 'hi alice!' });
  await waitForText(replyOnBob.locator('.quote-text'), 'Original message deleted');
  await waitForText(hers.locator('.message-text'), 'This message was deleted');
  assert.equal(await alice.page.locator('#messageInput').evaluate((el) => el.value), '');
  await alice.page.locator('#messageInput').press('ArrowUp');
  assert.equal(await alice.page.locator('#composeBanner').isVisible(), false, 'nothing left to edit');
  await bob.page.screenshot({ path: artifactPath('messages-deleted.png') });

  carol.close();
  assert.deepEqual(alice.problems, []);
  assert.deepEqual(bob.problems, []);
  await alice.context.close();
  await bob.context.close();
});

test('phone, zh-CN, dark: a tap shows the actions; reply, react, edit; others’ edits and deletes', async () => {
  const server = await startServer({ args: FEATURE_SERVER_ARGS });
  const ming = await ParleyWs.connect(server, '小明');
  await ming.join('lobby');
  const [hello] = await ming.say('lobby', '大家好,今天开会吗?');
  const { page, context, problems } = await openChat(browser, server, { name: '小红', locale: 'zh-CN', viewport: PHONE, colorScheme: 'dark' });
  const his = messageById(page, hello.msg_id);
  await his.waitFor();

  await (await showActions(his, { touch: true })).locator('.action-reply').click();
  assert.equal(await page.locator('#composeText').textContent(), '回复 小明:大家好,今天开会吗?');
  await typeAndEnter(page, '开,下午三点');
  const answer = await ming.next((e) => e.type === 'message' && e.text === '开,下午三点');
  assert.equal(answer.reply_to.msg_id, hello.msg_id);
  assert.equal(answer.reply_to.text, '大家好,今天开会吗?');

  await (await showActions(his, { touch: true })).locator('.action-react').click();
  await page.locator('#emojiPicker [data-emoji="❤️"]').click();
  await waitForChips(page, hello.msg_id, ['❤️ 1 mine']);
  assert.equal((await ming.next((e) => e.type === 'reaction')).emoji, '❤️');
  assert.equal(await page.locator('.reaction').getAttribute('aria-label'), '❤️ 1 人,包括你。点击取消');

  const mine = messageById(page, answer.msg_id);
  await (await showActions(mine, { touch: true })).locator('.action-edit').click();
  assert.equal(await page.locator('#composeText').textContent(), '正在编辑消息 · 按 Esc 取消');
  await page.locator('#messageInput').fill('开,下午四点');
  await page.locator('#messageInput').press('Enter');
  await waitForText(mine.locator('.message-edited'), '(已编辑)');
  assert.equal((await ming.next((e) => e.type === 'message_edited')).text, '开,下午四点');

  await ming.request({ type: 'edit', room: 'lobby', target: hello.msg_id, text: '大家好,今天下午开会' });
  await waitForText(his.locator('.message-text'), '大家好,今天下午开会');
  await waitForText(his.locator('.message-edited'), '(已编辑)');
  for (const theme of ['dark', 'light']) {
    await setTheme(page, theme);
    await showActions(his, { touch: true });
    assert.deepEqual(await accessibilityProblems(page), [], `phone, ${theme}`);
    await page.screenshot({ path: artifactPath(`messages-phone-${theme}.png`) });
  }
  await ming.request({ type: 'delete', room: 'lobby', target: hello.msg_id });
  await waitForText(his.locator('.message-text'), '此消息已删除');
  await waitForText(mine.locator('.quote-text'), '原消息已删除');
  ming.close();
  assert.deepEqual(problems, []);
  await context.close();
});

test('offline: edits, deletes and reactions made meanwhile appear after the reconnect; own changes wait in the outbox', async () => {
  const server = await startServer({ args: FEATURE_SERVER_ARGS });
  const carol = await ParleyWs.connect(server, 'carol');
  await carol.join('lobby');
  const [one, two, three] = await carol.say('lobby', 'old one', 'old two', 'old three');
  const { page, context, problems } = await openChat(browser, server, { name: 'bob' });
  await waitForMessage(page, 'received', 'old three');
  await typeAndEnter(page, 'my note');
  const mine = await waitForMessage(page, 'sent', 'my note');
  await waitForState(mine, 'sent');
  const mineId = await msgIdOf(mine);

  await context.setOffline(true);
  await waitForStatus(page, 'disconnected');
  await carol.request({ type: 'edit', room: 'lobby', target: one.msg_id, text: 'old one, edited while bob was away' });
  await carol.request({ type: 'delete', room: 'lobby', target: two.msg_id });
  await carol.request({ type: 'react', room: 'lobby', target: three.msg_id, emoji: '👍' });
  // bob, offline, reacts and edits his own message: shown at once, marked as not saved.
  await (await showActions(messageById(page, three.msg_id))).locator('.action-react').click();
  await page.locator('#emojiPicker [data-emoji="🎉"]').click();
  await waitForChips(page, three.msg_id, ['🎉 1 mine']);
  assert.equal(await messageById(page, three.msg_id).locator('.reaction.pending').count(), 1);
  await page.locator('#messageInput').press('ArrowUp');
  await page.locator('#messageInput').fill('my note, edited offline');
  await page.locator('#messageInput').press('Enter');
  await waitForText(messageById(page, mineId).locator('.message-edited'), '(saving…)');
  const outbox = await page.evaluate(() => JSON.parse(localStorage.getItem('parley.outbox')));
  assert.deepEqual(outbox.map((e) => [e.kind, e.target]), [['react', three.msg_id], ['edit', mineId]]);
  await page.screenshot({ path: artifactPath('offline-changes-pending.png') });

  await context.setOffline(false);
  await waitForStatus(page, 'connected');
  await waitForText(messageById(page, one.msg_id).locator('.message-text'), 'old one, edited while bob was away');
  await waitForText(messageById(page, one.msg_id).locator('.message-edited'), '(edited)');
  await waitForText(messageById(page, two.msg_id).locator('.message-text'), 'This message was deleted');
  await waitForChips(page, three.msg_id, ['👍 1', '🎉 1 mine']);
  await waitForText(messageById(page, mineId).locator('.message-edited'), '(edited)');
  const reaction = await carol.next((e) => e.type === 'reaction' && e.emoji === '🎉');
  const edited = await carol.next((e) => e.type === 'message_edited' && e.target === mineId);
  assert.deepEqual([reaction.id, edited.id], outbox.map((e) => e.id), 'sent with the ids kept in the outbox');
  assert.equal(edited.text, 'my note, edited offline');
  assert.deepEqual(await page.evaluate(() => JSON.parse(localStorage.getItem('parley.outbox'))), []);
  assert.equal(await message(page, 'received', 'old two').count(), 0);
  carol.close();
  assert.deepEqual(problems, []);
  await context.close();
});
