// Token mode (docs/PROTOCOL.md, "Authentication"; README, "Embedding the client"):
// where the page finds its sign-in token, what it may read from it, and the storage
// it then uses. No DOM beyond the location and history objects it is handed.
//
// - The embedding page passes the token in the address's fragment, #token=… (next
//   to the room: #general&token=…), or sets window.PARLEY_TOKEN before the client's
//   script runs. A fragment never reaches a server or its logs; it is removed from
//   the address bar as soon as it is read, so it is not bookmarked, shared or kept
//   in the history.
// - The token is opaque to the server's protocol, but it is a JWT whose claims the
//   page may read for display before the server answers: `sub` (whose storage to
//   use) and `name` (no name dialog). Nothing is decided on them: the server checks
//   the signature and says who the user is in `welcome`.
// - Everything the client keeps in localStorage (resume token, rooms, outbox) is
//   per user in token mode: a second person signing in on the same browser must
//   not resume the first one's session or send the first one's unsent messages.

/** The token of a `#token=` fragment (removed from the address), or null. */
export function takeFragmentToken(location, history) {
  const fragment = String(location.hash ?? '').replace(/^#/, '');
  const parts = fragment.split('&');
  let token = null;
  const rest = [];
  for (const part of parts) {
    if (part.startsWith('token=')) {
      try {
        token = decodeURIComponent(part.slice('token='.length)).trim() || null;
      } catch {
        token = null;
      }
    } else if (part) {
      rest.push(part);
    }
  }
  if (!parts.some((part) => part.startsWith('token='))) return null;
  const keep = rest.length > 0 ? `#${rest.join('&')}` : '';
  history.replaceState(history.state, '', `${location.pathname}${location.search}${keep}`);
  return token;
}

/** A token set by the embedding page before the script (window.PARLEY_TOKEN), or null. */
export function globalToken(win) {
  const value = win.PARLEY_TOKEN;
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function base64UrlText(segment) {
  const base64 = segment.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(segment.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

/**
 * The claims a JWT carries, unverified ({ sub, name, exp } when present), or null
 * when `token` is not a JWT with a JSON object payload.
 */
export function tokenClaims(token) {
  const parts = String(token ?? '').split('.');
  if (parts.length !== 3) return null;
  try {
    const claims = JSON.parse(base64UrlText(parts[1]));
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) return null;
    return {
      sub: typeof claims.sub === 'string' ? claims.sub : null,
      name: typeof claims.name === 'string' && claims.name.trim() !== '' ? claims.name.trim() : null,
      exp: Number.isFinite(claims.exp) ? claims.exp : null,
    };
  } catch {
    return null;
  }
}

/** `storage` seen through keys of one user: "parley.outbox" becomes "parley.outbox@<sub>". */
export function userStorage(storage, sub) {
  const key = (name) => `${name}@${sub}`;
  return {
    getItem: (name) => storage.getItem(key(name)),
    setItem: (name, value) => storage.setItem(key(name), value),
    removeItem: (name) => storage.removeItem(key(name)),
  };
}
