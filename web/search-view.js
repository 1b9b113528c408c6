// The search panel of the room shown: a query box, the results newest first (the
// sender, the time and the text with the query marked), "More results" while older
// ones may match, and a click on a result shows it in the conversation (app.js loads
// the history around it when it is not on the page).
//
// Texts reach the panel as text nodes and <mark> elements only.

import { element, nameColour } from './message-view.js';
import { parseMarkdown, plainText } from './markdown.js';

const SNIPPET = 160; // characters of a result shown around its first match

/** [{ text, match }] pieces of `text`, the (case-insensitive) occurrences of `query` marked. */
export function markMatches(text, query) {
  const pieces = [];
  const lower = text.toLowerCase();
  const needle = query.toLowerCase();
  // Lower-casing can change a string's length (İ → i̇): then nothing is marked.
  if (!needle || lower.length !== text.length || needle.length !== query.length) return [{ text, match: false }];
  let last = 0;
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + needle.length)) {
    if (at > last) pieces.push({ text: text.slice(last, at), match: false });
    pieces.push({ text: text.slice(at, at + needle.length), match: true });
    last = at + needle.length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last), match: false });
  return pieces;
}

/** The part of a long text around the first match of `query`. */
export function snippet(text, query) {
  const points = [...text];
  if (points.length <= SNIPPET) return text;
  const at = Math.max(0, text.toLowerCase().indexOf(query.toLowerCase()));
  const startUnits = [...text.slice(0, at)].length;
  const start = Math.max(0, Math.min(startUnits - SNIPPET / 4, points.length - SNIPPET));
  const cut = points.slice(start, start + SNIPPET).join('');
  return `${start > 0 ? '…' : ''}${cut}${start + SNIPPET < points.length ? '…' : ''}`;
}

export class SearchView {
  #ui;
  #t;
  #messages;
  #deps;
  #room = null;
  #count = 0;

  /**
   * @param ui    { panel, heading, form, input, status, results, more, close, toggle }
   * @param messages  the MessageView (times)
   * @param deps  { search(room, query), more(room), jump(room, msgId), connected(),
   *                opened(open) }
   */
  constructor(ui, t, messages, deps) {
    this.#ui = ui;
    this.#t = t;
    this.#messages = messages;
    this.#deps = deps;
    ui.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#search();
    });
    ui.more.addEventListener('click', () => {
      if (this.#room && this.#deps.more(this.#room)) this.#status(t('searching'));
    });
    ui.close.addEventListener('click', () => this.close(true));
    ui.toggle.addEventListener('click', () => (this.isOpen ? this.close(true) : this.open(this.#room)));
    ui.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.stopPropagation();
        this.close(true);
      }
    });
  }

  get isOpen() {
    return !this.#ui.panel.hidden;
  }

  get room() {
    return this.#room;
  }

  /** The room shown changed: the panel searches that one now (results are per room). */
  setRoom(room) {
    if (room === this.#room) return;
    this.#room = room;
    this.#ui.heading.textContent = this.#t('searchIn', room);
    this.#clear();
  }

  open(room) {
    if (room) this.setRoom(room);
    this.#ui.panel.hidden = false;
    this.#ui.toggle.setAttribute('aria-expanded', 'true');
    this.#deps.opened(true);
    this.#ui.input.focus();
    this.#ui.input.select();
  }

  close(refocus = false) {
    if (this.#ui.panel.hidden) return;
    this.#ui.panel.hidden = true;
    this.#ui.toggle.setAttribute('aria-expanded', 'false');
    this.#deps.opened(false);
    if (refocus) this.#ui.toggle.focus();
  }

  /** An answer of the client (searchResults handler). */
  show(room, { query, messages, truncated, more, error }) {
    if (room !== this.#room) return;
    const t = this.#t;
    if (!more) {
      this.#ui.results.replaceChildren();
      this.#count = 0;
    }
    if (error) {
      this.#status(t('searchFailed', error));
      this.#ui.more.hidden = true;
      return;
    }
    for (const message of messages) this.#ui.results.append(this.#result(message, query));
    this.#count += messages.length;
    this.#ui.more.hidden = !truncated;
    this.#status(this.#count === 0 && !truncated ? t('searchNone', query) : t('searchCount', this.#count, truncated));
  }

  #search() {
    const query = this.#ui.input.value.trim();
    if (!query || !this.#room) return;
    if (!this.#deps.connected()) {
      this.#status(this.#t('searchOffline'));
      return;
    }
    this.#ui.results.replaceChildren();
    this.#ui.more.hidden = true;
    this.#count = 0;
    if (this.#deps.search(this.#room, query)) this.#status(this.#t('searching'));
  }

  #clear() {
    this.#ui.results.replaceChildren();
    this.#ui.more.hidden = true;
    this.#ui.input.value = '';
    this.#count = 0;
    this.#status('');
  }

  #status(text) {
    this.#ui.status.textContent = text;
  }

  #result(message, query) {
    const li = element('li', 'search-result-item');
    const button = element('button', 'search-result');
    button.type = 'button';
    button.dataset.msgId = String(message.msg_id);
    const meta = element('span', 'search-result-meta');
    meta.append(element('span', `message-from ${nameColour(message.user ?? '')}`, message.from ?? ''), this.#messages.timeElement(message.ts));
    const text = element('span', 'search-result-text');
    for (const piece of markMatches(snippet(plainText(parseMarkdown(message.text ?? '')), query), query)) {
      text.append(piece.match ? element('mark', null, piece.text) : document.createTextNode(piece.text));
    }
    button.append(meta, text);
    button.addEventListener('click', () => this.#deps.jump(this.#room, message.msg_id));
    li.append(button);
    return li;
  }
}
