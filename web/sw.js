// The service worker of the chat page: keeps the app shell (the page, its scripts,
// styles and icon) so that a reload while the server is down shows the chat with its
// queued messages (they live in localStorage) instead of the browser's error page.
//
// Network first: while the server answers, every load takes the files from it
// (revalidated by their ETag, a hash of the content) and refreshes the copy here, so
// a new server version updates the shell on the first load that reaches it. Only when
// the network fails (or takes longer than NETWORK_TIMEOUT_MS) does the copy answer.
// SHELL_VERSION names the cache; changing it (a new list of files, a new strategy)
// drops the old cache when the new worker activates.
//
// Served from / (GET /sw.js), so its scope is the whole site without any
// Service-Worker-Allowed header. WebSocket connections never pass through here.

const SHELL_VERSION = 'parley-shell-v3';
const SHELL = [
  '/',
  '/app.js',
  '/parley-client.js',
  '/connection.js',
  '/room-log.js',
  '/outbox.js',
  '/token.js',
  '/message-view.js',
  '/composer.js',
  '/attachments.js',
  '/emoji-picker.js',
  '/search-view.js',
  '/directory-view.js',
  '/i18n.js',
  '/text.js',
  '/markdown.js',
  '/theme.js',
  '/style.css',
  '/favicon.svg',
];
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_VERSION);
    await cache.addAll(SHELL.map((path) => new Request(path, { cache: 'no-cache' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== SHELL_VERSION) await caches.delete(name);
    }
    await self.clients.claim(); // the page that registered us works offline from now on
  })());
});

/** The cache key of a request, or null when it is not part of the shell. */
function shellPath(request) {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  if (request.mode === 'navigate') return '/'; // any page of the site: the chat page
  if (url.pathname === '/index.html') return '/';
  return SHELL.includes(url.pathname) ? url.pathname : null;
}

async function networkFirst(request, path) {
  const cache = await caches.open(SHELL_VERSION);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), NETWORK_TIMEOUT_MS);
  try {
    const response = await fetch(request, { cache: 'no-cache', signal: controller.signal });
    if (response.ok) await cache.put(path, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(path);
    if (cached) return cached;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

self.addEventListener('fetch', (event) => {
  const path = shellPath(event.request);
  if (path !== null) event.respondWith(networkFirst(event.request, path));
});
