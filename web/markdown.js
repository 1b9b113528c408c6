// The markdown subset of chat messages, as a tree of plain objects (no DOM, no HTML):
//   ```code block```   `inline code`   **bold**   *italic* / _italic_
//   [text](https://…)  and bare http(s) URLs (text.js linkify)
// Nodes: { type: 'text' | 'code' | 'pre', text } and
//        { type: 'strong' | 'em' | 'link', children, href? }.
// app.js turns them into elements it names itself and text nodes, so no input can
// become markup: there is no raw HTML, no image, no other URL scheme than http(s).
// Joining the text of all nodes gives the message without its markers; a text
// without markers comes back as text and links only, exactly as typed.

import { linkify, safeHref } from './text.js';

const FENCE = /```([^\n`]*)\n?([\s\S]*?)```/g;
const MAX_DEPTH = 4;

// Inline patterns, tried at every position; the earliest match wins (ties: listed order).
const INLINE = [
  { type: 'code', re: /`([^`\n]+)`/u },
  { type: 'link', re: /\[([^\]\n]{1,500})\]\((https?:\/\/[^\s()<>]+)\)/u },
  { type: 'strong', re: /\*\*(?=\S)([^\n]*?\S)\*\*/u },
  // Emphasis only at word edges, as chat apps do: 2*3*4 and snake_case_name stay.
  { type: 'em', re: /(?<![\p{L}\p{N}*])\*(?=[^\s*])([^\n*]*?[^\s*])\*(?![\p{L}\p{N}*])/u },
  { type: 'em', re: /(?<![\p{L}\p{N}_])_(?=\S)([^\n_]*?\S)_(?![\p{L}\p{N}_])/u },
];

function plain(text, inLink) {
  if (inLink) return text ? [{ type: 'text', text }] : [];
  return linkify(text).map((piece) => (piece.href
    ? { type: 'link', href: piece.href, children: [{ type: 'text', text: piece.text }] }
    : { type: 'text', text: piece.text }));
}

function earliest(text) {
  let best = null;
  for (const pattern of INLINE) {
    const match = pattern.re.exec(text);
    if (match && (best === null || match.index < best.match.index)) best = { pattern, match };
  }
  return best;
}

function inline(text, depth, inLink) {
  const nodes = [];
  let rest = text;
  while (rest) {
    const found = depth < MAX_DEPTH ? earliest(rest) : null;
    if (!found) break;
    const { pattern, match } = found;
    // A bare URL that starts before the match and runs into it wins: links are not cut.
    const before = rest.slice(0, match.index);
    const url = inLink ? null : /https?:\/\/\S*$/i.exec(before);
    if (url && !/\s/.test(rest[match.index + match[0].length - 1] ?? ' ')) {
      const whole = /^https?:\/\/\S+/i.exec(rest.slice(url.index));
      nodes.push(...plain(rest.slice(0, url.index + whole[0].length), inLink));
      rest = rest.slice(url.index + whole[0].length);
      continue;
    }
    nodes.push(...plain(before, inLink));
    if (pattern.type === 'code') {
      nodes.push({ type: 'code', text: match[1] });
    } else if (pattern.type === 'link' && !inLink && safeHref(match[2])) {
      nodes.push({ type: 'link', href: safeHref(match[2]), children: inline(match[1], depth + 1, true) });
    } else if (pattern.type === 'link') {
      nodes.push(...plain(match[0], inLink));
    } else {
      nodes.push({ type: pattern.type, children: inline(match[1], depth + 1, inLink) });
    }
    rest = rest.slice(match.index + match[0].length);
  }
  nodes.push(...plain(rest, inLink));
  return nodes;
}

/** The message `text` as markdown nodes (see the top of this file). */
export function parseMarkdown(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(FENCE)) {
    nodes.push(...inline(text.slice(last, match.index), 0, false));
    nodes.push({ type: 'pre', text: match[2].replace(/\n$/, '') });
    last = match.index + match[0].length;
  }
  nodes.push(...inline(text.slice(last), 0, false));
  return nodes;
}

/** The text the nodes show (markers removed), e.g. for a notification. */
export function plainText(nodes) {
  return nodes.map((node) => node.text ?? plainText(node.children)).join('');
}
