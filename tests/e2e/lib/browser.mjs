// Debian's Chromium driven by playwright-core, and helpers to read the chat page.
//
// No browser is ever downloaded: PARLEY_CHROMIUM or /usr/bin/chromium is used.
// Playwright's launch() gives every browser a fresh temporary --user-data-dir and
// removes it on close; each user in a test gets its own context (own storage, own
// locale), as two people on two machines would.

import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, afterEach, before } from 'node:test';
import { chromium } from 'playwright-core';

import { stopAllServers } from './server.mjs';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Bounded waits: long enough for a loaded 2-core CI machine, short enough to fail fast. */
export const TIMEOUT = Object.freeze({ connect: 15000, message: 10000 });

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.PARLEY_CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
}

/**
 * One Chromium for the tests of a file: launched before the first, closed after
 * the last; the servers a test started are stopped after it. Call at the top
 * level of a test file; what it returns stands for the browser (newContext).
 */
export function useBrowser() {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });
  afterEach(stopAllServers);
  return { newContext: (options) => browser.newContext(options) };
}

/** The desktop window of most tests, and a phone's (iPhone 12–15 class). */
export const DESKTOP = Object.freeze({ width: 1000, height: 760 });
export const PHONE = Object.freeze({ width: 390, height: 844 });

/**
 * Opens `url` in a new context with the given locale, viewport, colour scheme (the
 * system's light or dark) and time zone, and returns { context, page, problems }.
 * problems collects uncaught page errors and CSP refusals, which no test should cause.
 */
export async function openPage(browser, url, { locale = 'en-US', viewport = DESKTOP, beforeGoto, colorScheme = 'light', timezoneId } = {}) {
  const context = await browser.newContext({ locale, viewport, colorScheme, ...(timezoneId ? { timezoneId } : {}) });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      problems.push(`CSP: ${message.text()}`);
    }
  });
  if (beforeGoto) await beforeGoto(page);
  await page.goto(url);
  return { context, page, problems };
}

/**
 * Opens the Parley page (room options.hash, e.g. '#general'), answers the first
 * visit's name dialog with options.name, and waits until it is connected and has
 * joined the room shown.
 *
 * "Joined", not just "connected": the join goes out after welcome, so a test that
 * starts a second client the moment the status turns green can have it join the room
 * before this page does; this page then finds it in joined.members and is never told
 * "guest-1 joined" (issue 7 item 13). The room's list carries data-joined once its
 * `joined` arrived.
 */
export async function openChat(browser, server, options = {}) {
  const opened = await openPage(browser, `${server.url}/${options.hash ?? ''}`, options);
  await chooseName(opened.page, options.name ?? 'user');
  await waitForStatus(opened.page, 'connected');
  await waitForJoined(opened.page);
  return opened;
}

/** Waits until the room shown has its `joined` (members and history are in). */
export function waitForJoined(page, timeout = TIMEOUT.connect) {
  return page.locator('#messages .room-log[data-joined="true"]').waitFor({ state: 'attached', timeout });
}

/** Types `name` into the name dialog (which must be open) and submits it. */
export async function chooseName(page, name) {
  const dialog = page.locator('#nameDialog');
  await dialog.waitFor({ state: 'visible', timeout: TIMEOUT.message });
  await page.locator('#nameInput').fill(name);
  await page.locator('#nameSubmit').click();
  await dialog.waitFor({ state: 'hidden', timeout: TIMEOUT.message });
}

/** Waits for the status dot's class: 'connected' or 'disconnected'. */
export function waitForStatus(page, state, timeout = TIMEOUT.connect) {
  return page.locator(`#statusIndicator.${state}`).waitFor({ timeout });
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Locator of the message(s) of one kind ('sent', 'received', 'system') in the room
 * shown, whose text (not counting sender, time and status) is exactly `text`.
 */
export function message(page, kind, text) {
  return page
    .locator(`#messages .message.message-${kind}`)
    .filter({ has: page.locator('.message-text', { hasText: new RegExp(`^${escapeRegExp(text)}$`) }) });
}

/** Waits for one message of `kind` with exactly `text`; returns its locator. */
export async function waitForMessage(page, kind, text, timeout = TIMEOUT.message) {
  const found = message(page, kind, text).first();
  await found.waitFor({ timeout });
  return found;
}

/** Types into the input and presses Enter, as a user would. */
export async function typeAndEnter(page, text) {
  await page.locator('#messageInput').fill(text);
  await page.locator('#messageInput').press('Enter');
}

/** The texts of all messages of one kind in the room shown, in order. */
export function messageTexts(page, kind) {
  return page.locator(`#messages .message-${kind} .message-text`).allTextContents();
}

/** The texts of all chat messages (own and received, not notices) in order, as "from: text". */
export function conversation(page) {
  return page.locator('#messages .message-sent, #messages .message-received').evaluateAll((els) =>
    els.map((el) => {
      const from = el.classList.contains('message-sent') ? 'me' : el.querySelector('.message-from').textContent;
      return `${from}: ${el.querySelector('.message-text').textContent}`;
    }));
}

/** Waits until an own message (a locator) is in state 'pending', 'sent' or 'failed'. */
export async function waitForState(locator, state, timeout = TIMEOUT.message) {
  await locator.and(locator.page().locator(`[data-state="${state}"]`)).waitFor({ timeout });
}

/** Where screenshots go: $PARLEY_ARTIFACTS (created if missing) or ./test-artifacts. */
export function artifactPath(name) {
  const dir = process.env.PARLEY_ARTIFACTS || path.resolve('test-artifacts');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (npm) on the page as it is and returns its serious and critical
 * violations as "rule: target" strings (empty when there are none). The source is
 * evaluated through the devtools protocol, which the page's CSP does not govern.
 */
export async function accessibilityProblems(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.targets.map((target) => `${v.id} (${v.impact}): ${target}`));
}

/** Sets the page's theme as the toggle would ('light' | 'dark') and waits for it. */
export async function setTheme(page, theme) {
  if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== theme) {
    await page.locator('#themeToggle').click();
  }
  await page.waitForFunction((want) => document.documentElement.dataset.theme === want, theme, { timeout: TIMEOUT.message });
}

/** Pixels between the bottom of the message list's content and the bottom of its view. */
export function distanceFromBottom(page) {
  return page.locator('#messages').evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
}
