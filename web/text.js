// Pure helpers for chat text: the name and room rules of docs/PROTOCOL.md, UTF-8
// sizes, client ids, and splitting a text into plain runs and links.
//
// No DOM here: app.js turns the pieces into text nodes and <a> elements, so a
// message can never become markup, whatever characters it holds.

/**
 * The room rule of PROTOCOL.md ("Rooms"), but for NFC: 1 to 64 code points, each a
 * letter, combining mark or digit of any script or one of . _ -; not starting with
 * a mark, not only dots, no invisible (Default_Ignorable_Code_Point) character.
 */
export const ROOM_NAME = /^(?!\p{M})(?!\.+$)(?!.*\p{Default_Ignorable_Code_Point})[\p{L}\p{M}\p{N}._-]{1,64}$/u;

/** Whether `name` is a room name the server takes (the rule, and in NFC as it wants). */
export function isRoomName(name) {
  return typeof name === 'string' && ROOM_NAME.test(name) && name === name.normalize('NFC');
}

/** What a user typed as a room, as the server wants it: trimmed, no leading #, NFC. */
export function normalizeRoom(typed) {
  return String(typed ?? '').trim().replace(/^#/, '').normalize('NFC');
}

export const NAME_MAX_CODE_POINTS = 32;

// PROTOCOL.md "Names": only ASCII whitespace is trimmed (U+00A0, U+3000… are kept).
const ASCII_SPACE_AT_ENDS = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The name as the server will store it: ASCII whitespace trimmed from both ends. */
export function normalizeName(name) {
  return String(name ?? '').replace(ASCII_SPACE_AT_ENDS, '');
}

/** null when `name` (already normalized) is valid, else 'empty' | 'tooLong' | 'control'. */
export function nameProblem(name) {
  if (name.length === 0) return 'empty';
  if ([...name].length > NAME_MAX_CODE_POINTS) return 'tooLong';
  if (CONTROL.test(name)) return 'control';
  return null;
}

/** Bytes of `text` in UTF-8, as the server counts max_text_bytes. */
export function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

/**
 * Client ids: "<ms timestamp in hex>-<counter>". Time-ordered, so the server's
 * dedup index (per user and room, by id) takes them in order.
 */
export function makeClientId(nowMs, counter) {
  return `${Math.floor(nowMs).toString(16)}-${counter}`;
}

// A link starts with http:// or https:// and runs to whitespace or a character that
// cannot be in a bare URL in running text. Nothing else becomes a link: not
// javascript:, data:, or "www.x" without a scheme.
const URL_CANDIDATE = /\bhttps?:\/\/[^\s<>"'`\u0000-\u001f\u007f]+/gi;
// Punctuation that usually ends the sentence rather than the URL.
const TRAILING = /[.,;:!?'"*_~\u3002\uff0c\uff1b\uff1a\uff01\uff1f]+$/;

function trimUrl(candidate) {
  let url = candidate.replace(TRAILING, '');
  // "(see https://x.org/a)" ends in ")", "https://en.wikipedia.org/wiki/A_(b)" keeps it.
  while (url.endsWith(')') && (url.match(/\(/g) || []).length < (url.match(/\)/g) || []).length) {
    url = url.slice(0, -1).replace(TRAILING, '');
  }
  return url;
}

/** The URL as an absolute http(s) href, or null when it is not one. */
export function safeHref(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  if (!parsed.hostname) return null;
  return parsed.href;
}

/**
 * Splits a message text into [{ text }] and [{ text, href }] pieces, in order.
 * Joining the pieces' text gives back `text` exactly.
 */
export function linkify(text) {
  const pieces = [];
  let last = 0;
  for (const match of text.matchAll(URL_CANDIDATE)) {
    const url = trimUrl(match[0]);
    const href = safeHref(url);
    if (!href) continue;
    if (match.index > last) pieces.push({ text: text.slice(last, match.index) });
    pieces.push({ text: url, href });
    last = match.index + url.length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last) });
  return pieces;
}
