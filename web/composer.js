// The message box: Enter sends (Shift+Enter starts a new line; the Enter that
// confirms an IME composition only picks the characters), Up arrow in an empty box
// edits the last own message, a reply or an edit is shown above the box until it is
// sent or cancelled (Esc or ×), and "@" offers the people of the room (arrows move,
// Enter or Tab picks, Esc closes).
//
// The box keeps the ARIA of a text box: the suggestions are a listbox it controls
// (aria-controls, aria-autocomplete, aria-activedescendant while open).

import { parseMarkdown, plainText } from './markdown.js';
import { element } from './message-view.js';
import { utf8Length } from './text.js';

// "@" at the start or after a non-word character, then the name typed so far.
const MENTION_AT_CARET = /(?:^|[^\p{L}\p{N}\p{M}_])@([^\s@]{0,32})$/u;
const SUGGESTIONS = 8;
const QUOTE_PREVIEW = 80;

export class Composer {
  #ui;
  #t;
  #deps;
  #mode = null;    // null | { kind: 'edit' | 'reply', room, msgId, draft }
  #suggest = null; // { start, end, items, index } while suggestions show

  /**
   * @param ui    { form, input, error, banner, bannerText, bannerCancel, mentions }
   * @param deps  { room(): the room shown, send(room, text, replyTo), edit(room, msgId, text),
   *                message(room, msgId), lastOwn(room), names(room): the others' names,
   *                typing(room), maxBytes() }
   */
  constructor(ui, t, deps) {
    this.#ui = ui;
    this.#t = t;
    this.#deps = deps;
    ui.input.setAttribute('aria-autocomplete', 'list');
    ui.input.setAttribute('aria-controls', ui.mentions.id);
    ui.mentions.setAttribute('role', 'listbox');
    ui.mentions.setAttribute('aria-label', t('mentionList'));
    ui.mentions.hidden = true;
    ui.bannerCancel.setAttribute('aria-label', t('cancel'));
    ui.bannerCancel.title = t('cancel');
    ui.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
      ui.input.focus();
    });
    ui.input.addEventListener('keydown', (event) => this.#keydown(event));
    ui.input.addEventListener('input', () => {
      ui.error.hidden = true;
      this.fit();
      this.#updateSuggestions();
      const room = this.#deps.room();
      if (ui.input.value.trim() && room && this.#mode?.kind !== 'edit') this.#deps.typing(room);
    });
    ui.input.addEventListener('click', () => this.#updateSuggestions());
    ui.input.addEventListener('blur', () => this.#closeSuggestions());
    ui.bannerCancel.addEventListener('click', () => {
      this.cancel();
      ui.input.focus();
    });
  }

  /** { kind, room, msgId } of the reply or edit under way, or null. */
  get mode() {
    return this.#mode ? { kind: this.#mode.kind, room: this.#mode.room, msgId: this.#mode.msgId } : null;
  }

  fit() {
    const { input } = this.#ui;
    input.style.height = 'auto';
    input.style.height = `${input.scrollHeight + 2}px`;
  }

  /** Answers message `msgId`: shown above the box, sent with the next message. */
  reply(room, msgId) {
    const message = this.#deps.message(room, msgId);
    if (!message || message.deleted) return;
    this.#end();
    this.#mode = { kind: 'reply', room, msgId };
    const preview = [...plainText(parseMarkdown(message.text ?? ''))].slice(0, QUOTE_PREVIEW).join('');
    this.#showBanner(this.#t('replyingTo', message.from, preview), 'reply');
    this.#ui.input.focus();
  }

  /** Edits own message `msgId` in the box; what was typed comes back after. */
  edit(room, msgId) {
    const message = this.#deps.message(room, msgId);
    if (!message || !message.own || message.deleted) return;
    const draft = this.#mode?.kind === 'edit' ? this.#mode.draft : this.#ui.input.value;
    this.#end();
    this.#mode = { kind: 'edit', room, msgId, draft };
    this.#ui.input.value = message.text;
    this.#showBanner(this.#t('editingMessage'), 'edit');
    this.fit();
    this.#ui.input.focus();
    this.#ui.input.setSelectionRange(message.text.length, message.text.length);
  }

  /** Drops the reply or edit under way (an edit gives back what was typed before). */
  cancel() {
    if (this.#mode?.kind === 'edit') {
      this.#ui.input.value = this.#mode.draft;
      this.fit();
    }
    this.#end();
  }

  /** Another room is shown: a reply or edit of this one is dropped. */
  roomChanged() {
    this.cancel();
    this.#closeSuggestions();
  }

  /** A message changed: a reply to it or an edit of it ends when it is deleted. */
  messageChanged(room, message) {
    if (this.#mode && this.#mode.room === room && this.#mode.msgId === message.msg_id && message.deleted) this.cancel();
  }

  submit() {
    const { input, error } = this.#ui;
    const room = this.#deps.room();
    const text = input.value.trim();
    const mode = this.#mode;
    if (!text) {
      if (mode?.kind === 'edit') this.cancel();
      return;
    }
    const bytes = utf8Length(text);
    if (bytes > this.#deps.maxBytes()) {
      error.hidden = false;
      error.textContent = this.#t('textTooLong', bytes, this.#deps.maxBytes());
      return;
    }
    if (mode?.kind === 'edit') {
      this.#deps.edit(mode.room, mode.msgId, text);
      input.value = mode.draft;
      this.#end();
    } else {
      this.#deps.send(room, text, mode?.kind === 'reply' && mode.room === room ? mode.msgId : null);
      input.value = '';
      this.#end();
    }
    this.#closeSuggestions();
    this.fit();
  }

  #end() {
    this.#mode = null;
    this.#ui.banner.hidden = true;
    this.#ui.banner.dataset.kind = '';
  }

  #showBanner(text, kind) {
    this.#ui.bannerText.textContent = text;
    this.#ui.banner.dataset.kind = kind;
    this.#ui.banner.hidden = false;
  }

  #keydown(event) {
    if (this.#suggest && this.#suggestionKey(event)) return;
    const { input } = this.#ui;
    if (event.key === 'Enter') {
      // Enter that confirms an IME composition (Chinese, Japanese…) picks the characters;
      // it must not also send. keyCode 229 covers browsers that clear isComposing early.
      if (event.isComposing || event.keyCode === 229) {
        event.preventDefault();
        return;
      }
      if (event.shiftKey) return; // a new line
      event.preventDefault();
      this.submit();
    } else if (event.key === 'Escape' && this.#mode) {
      event.preventDefault();
      event.stopPropagation();
      this.cancel();
    } else if (event.key === 'ArrowUp' && !this.#mode && input.value === '' && !event.isComposing) {
      const room = this.#deps.room();
      const last = room ? this.#deps.lastOwn(room) : null;
      if (!last) return;
      event.preventDefault();
      this.edit(room, last.msg_id);
    }
  }

  /** Keys while suggestions show; true when the key was theirs. */
  #suggestionKey(event) {
    const s = this.#suggest;
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        s.index = (s.index + (event.key === 'ArrowDown' ? 1 : -1) + s.items.length) % s.items.length;
        this.#renderSuggestions();
        break;
      case 'Enter':
      case 'Tab':
        if (event.isComposing || event.keyCode === 229) return false;
        this.#pick(s.index);
        break;
      case 'Escape':
        this.#closeSuggestions();
        break;
      default:
        return false;
    }
    event.preventDefault();
    event.stopPropagation();
    return true;
  }

  #updateSuggestions() {
    const { input } = this.#ui;
    const room = this.#deps.room();
    const caret = input.selectionStart;
    const match = room && caret === input.selectionEnd ? MENTION_AT_CARET.exec(input.value.slice(0, caret)) : null;
    if (!match) {
      this.#closeSuggestions();
      return;
    }
    const typed = match[1].toLowerCase();
    const names = [...new Set(this.#deps.names(room))].sort((a, b) => a.localeCompare(b));
    const starting = names.filter((name) => name.toLowerCase().startsWith(typed));
    const containing = names.filter((name) => !name.toLowerCase().startsWith(typed) && name.toLowerCase().includes(typed));
    const items = [...starting, ...containing].slice(0, SUGGESTIONS);
    if (items.length === 0) {
      this.#closeSuggestions();
      return;
    }
    const keep = this.#suggest?.items[this.#suggest.index];
    this.#suggest = { start: caret - match[1].length - 1, end: caret, items, index: Math.max(0, items.indexOf(keep)) };
    this.#renderSuggestions();
  }

  #renderSuggestions() {
    const { mentions, input } = this.#ui;
    const s = this.#suggest;
    mentions.replaceChildren(...s.items.map((name, i) => {
      const option = element('li', 'mention-option', `@${name}`);
      option.id = `mention-option-${i}`;
      option.setAttribute('role', 'option');
      option.setAttribute('aria-selected', String(i === s.index));
      option.addEventListener('pointerdown', (event) => event.preventDefault()); // keep the focus in the box
      option.addEventListener('click', () => this.#pick(i));
      return option;
    }));
    mentions.hidden = false;
    input.setAttribute('aria-activedescendant', `mention-option-${s.index}`);
  }

  #pick(index) {
    const { input } = this.#ui;
    const s = this.#suggest;
    const insert = `@${s.items[index]} `;
    input.value = input.value.slice(0, s.start) + insert + input.value.slice(s.end);
    const caret = s.start + insert.length;
    input.setSelectionRange(caret, caret);
    this.#closeSuggestions();
    this.fit();
  }

  #closeSuggestions() {
    this.#suggest = null;
    this.#ui.mentions.hidden = true;
    this.#ui.mentions.replaceChildren();
    this.#ui.input.removeAttribute('aria-activedescendant');
  }
}
