// The page over native TLS in Chromium: served on https:// by Parley itself
// (--tls-cert), it picks wss:// for its socket (web/connection.js) and chats.
// The certificate comes from a throwaway CA made by `openssl` in the test;
// Chromium trusts exactly that leaf through --ignore-certificate-errors-spki-list
// (works offline, no NSS database to prepare), so a wrong or missing
// certificate would still fail the page load.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';

import { CHROMIUM_ARGS, TIMEOUT, openChat, typeAndEnter, waitForMessage } from './lib/browser.mjs';
import { startServer, stopAllServers } from './lib/server.mjs';
import { Pki } from '../integration/lib/pki.mjs';

let pki;
let browser;
let leaf;
before(async () => {
  pki = new Pki();
  leaf = pki.serverCert(6006);
  const cert = new X509Certificate(readFileSync(leaf.chain));
  const spki = createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  browser = await chromium.launch({
    executablePath: process.env.PARLEY_CHROMIUM || '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${spki}`],
  });
});
after(async () => {
  await browser?.close();
  await stopAllServers();
  pki?.remove();
});

test('the page on https:// uses wss:// and chats with a plain-text client', async () => {
  const server = await startServer({ args: ['--tls-cert', leaf.chain, '--tls-key', leaf.key, '--history', 'off'] });
  assert.match(server.url, /^https:/);
  const sockets = [];
  const a = await openChat(browser, server, {
    name: 'alice',
    beforeGoto: (page) => page.on('websocket', (ws) => sockets.push(ws.url())),
  });
  assert.equal(await a.page.evaluate(() => location.protocol), 'https:');
  assert.ok(sockets.length > 0 && sockets.every((u) => u.startsWith('wss://')), sockets.join(' '));

  // A seed client (npm ws, trusting the test CA) in the same room over wss.
  const seed = new WebSocket(server.wsUrl('/wss'), { ca: pki.ca });
  await new Promise((resolve, reject) => { seed.once('open', resolve); seed.once('error', reject); });
  const heard = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the seed client never heard alice')), TIMEOUT.message);
    seed.on('message', (data) => {
      if (data.toString().includes('hello over TLS')) { clearTimeout(timer); resolve(); }
    });
  });
  await typeAndEnter(a.page, 'hello over TLS');
  await heard;
  seed.send('hi alice, from the seed');
  await waitForMessage(a.page, 'received', 'hi alice, from the seed');
  seed.close();
  await a.context.close();
});
