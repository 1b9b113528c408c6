// The small reaction picker: a menu of eight emoji next to the button that opened
// it. Keyboard: arrows and Home/End move, Enter or Space picks, Escape (or Tab, or
// a click elsewhere) closes and gives focus back to the button. The emoji are the
// fully qualified forms of the Unicode emoji list (❤️ with U+FE0F), which the server
// compares byte for byte (PROTOCOL.md, "Emoji").

import { element } from './message-view.js';

export const QUICK_EMOJI = Object.freeze([
  { emoji: '👍', name: 'emoji_thumbs' },
  { emoji: '❤️', name: 'emoji_heart' },
  { emoji: '😂', name: 'emoji_joy' },
  { emoji: '🎉', name: 'emoji_party' },
  { emoji: '😮', name: 'emoji_wow' },
  { emoji: '😢', name: 'emoji_sad' },
  { emoji: '🙏', name: 'emoji_pray' },
  { emoji: '👀', name: 'emoji_eyes' },
]);

export class EmojiPicker {
  #menu;
  #anchor = null;
  #onPick = null;

  /** @param menu  an empty element of the page (role=menu is set here) */
  constructor(menu, t) {
    this.#menu = menu;
    menu.setAttribute('role', 'menu');
    menu.setAttribute('aria-label', t('emojiPicker'));
    menu.hidden = true;
    for (const { emoji, name } of QUICK_EMOJI) {
      const item = element('button', 'emoji-option', emoji);
      item.type = 'button';
      item.tabIndex = -1;
      item.setAttribute('role', 'menuitemcheckbox');
      item.setAttribute('aria-label', `${emoji} ${t(name)}`);
      item.title = t(name);
      item.dataset.emoji = emoji;
      item.addEventListener('click', () => this.#pick(emoji));
      menu.append(item);
    }
    menu.addEventListener('keydown', (event) => this.#key(event));
    document.addEventListener('pointerdown', (event) => {
      if (!menu.hidden && !menu.contains(event.target) && event.target !== this.#anchor) this.close(false);
    });
  }

  get isOpen() {
    return !this.#menu.hidden;
  }

  /** Opens next to `anchor`; onPick(emoji) runs on a choice. `mine`: emoji already chosen. */
  open(anchor, onPick, mine = new Set()) {
    this.#anchor = anchor;
    this.#onPick = onPick;
    for (const item of this.#menu.children) item.setAttribute('aria-checked', String(mine.has(item.dataset.emoji)));
    this.#menu.hidden = false;
    this.#place(anchor);
    this.#items()[0].focus();
  }

  /** Closes; gives focus back to the button that opened it unless told not to. */
  close(refocus = true) {
    if (this.#menu.hidden) return;
    this.#menu.hidden = true;
    const anchor = this.#anchor;
    this.#anchor = null;
    this.#onPick = null;
    if (refocus && anchor?.isConnected) anchor.focus({ preventScroll: true });
  }

  #items() {
    return [...this.#menu.children];
  }

  #pick(emoji) {
    const onPick = this.#onPick;
    this.close();
    onPick?.(emoji);
  }

  #place(anchor) {
    const box = anchor.getBoundingClientRect();
    const menu = this.#menu.getBoundingClientRect();
    const margin = 8;
    const above = box.top - menu.height - 4;
    const top = above >= margin ? above : Math.min(box.bottom + 4, innerHeight - menu.height - margin);
    const left = Math.min(Math.max(margin, box.right - menu.width), innerWidth - menu.width - margin);
    this.#menu.style.top = `${Math.max(margin, top)}px`;
    this.#menu.style.left = `${Math.max(margin, left)}px`;
  }

  #key(event) {
    const items = this.#items();
    const at = items.indexOf(document.activeElement);
    const move = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (move !== undefined) {
      items[(at + move + items.length) % items.length].focus();
    } else if (event.key === 'Home') {
      items[0].focus();
    } else if (event.key === 'End') {
      items.at(-1).focus();
    } else if (event.key === 'Escape') {
      this.close();
    } else if (event.key === 'Tab') {
      this.close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }
}
