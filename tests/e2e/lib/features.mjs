// Helpers for the tests of issue 10's message features (edits, deletes, replies,
// reactions, search, history around a message).

import { TIMEOUT } from './browser.mjs';

/**
 * Server flags for these tests: none. The default (SQLite) history stores changes,
 * replies, search and attachments, so the page is tested against what users run; the
 * in-memory history answers the same (tests/unit/chat_sqlite_history_test.cpp).
 */
export const FEATURE_SERVER_ARGS = Object.freeze([]);

/** The message element with msg_id `msgId` in the room shown. */
export function messageById(page, msgId) {
  return page.locator(`#messages .message[data-msg-id="${msgId}"]`);
}

/**
 * Shows a message's actions as its user would: the pointer over it on a desktop, a
 * tap on a phone (no hover there). Returns the toolbar's locator.
 */
export async function showActions(locator, { touch = false } = {}) {
  if (touch) {
    await locator.locator('.message-text').click();
  } else {
    await locator.hover();
  }
  const bar = locator.locator('.message-actions');
  await bar.waitFor({ state: 'visible', timeout: TIMEOUT.message });
  return bar;
}

/** Waits until the element has the text (exactly). */
export async function waitForText(locator, text, timeout = TIMEOUT.message) {
  await locator.filter({ hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).first()
    .waitFor({ timeout });
}

/** The reaction chips of a message as "emoji count" (+ " mine" when pressed). */
export function chips(locator) {
  return locator.locator('.reaction').evaluateAll((els) => els.map((el) =>
    `${el.dataset.emoji} ${el.querySelector('.reaction-count').textContent}${el.getAttribute('aria-pressed') === 'true' ? ' mine' : ''}`));
}

/** Waits until the chips of a message read `expected`. */
export async function waitForChips(page, msgId, expected) {
  await page.waitForFunction(([id, want]) => {
    const el = document.querySelector(`#messages .message[data-msg-id="${id}"]`);
    if (!el) return false;
    const have = [...el.querySelectorAll('.reaction')].map((c) =>
      `${c.dataset.emoji} ${c.querySelector('.reaction-count').textContent}${c.getAttribute('aria-pressed') === 'true' ? ' mine' : ''}`);
    return have.join('|') === want.join('|');
  }, [msgId, expected], { timeout: TIMEOUT.message });
}

/** Sets the theme as the toggle does, also while a modal dialog covers the toggle. */
export async function setThemeBehindDialog(page, theme) {
  await page.evaluate((want) => window.parleyTheme.set(want), theme);
  await page.waitForFunction((want) => document.documentElement.dataset.theme === want, theme, { timeout: TIMEOUT.message });
}
