// The rooms directory: a dialog listing the server's open rooms, most people first,
// filtered by the start of their name (any script) as the reader types, "More rooms"
// while the server has more, and a click joins the room and shows it.

import { element } from './message-view.js';

const FILTER_DELAY_MS = 250;

export class DirectoryView {
  #ui;
  #t;
  #deps;
  #timer = null;
  #count = 0;

  /**
   * @param ui    { dialog, open, form, input, total, list, status, more, close }
   * @param deps  { list({ query, more }), joined(room), go(room), connected() }
   */
  constructor(ui, t, deps) {
    this.#ui = ui;
    this.#t = t;
    this.#deps = deps;
    ui.open.addEventListener('click', () => this.open());
    ui.close.addEventListener('click', () => ui.dialog.close());
    ui.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#ask();
    });
    ui.input.addEventListener('input', () => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#ask(), FILTER_DELAY_MS);
    });
    ui.more.addEventListener('click', () => {
      if (this.#deps.list({ more: true })) this.#status(t('directoryLoading'));
    });
    ui.dialog.addEventListener('close', () => {
      clearTimeout(this.#timer);
      ui.open.focus();
    });
  }

  open() {
    this.#ui.input.value = '';
    this.#ui.list.replaceChildren();
    this.#ui.more.hidden = true;
    this.#ui.total.textContent = '';
    this.#ui.dialog.showModal();
    this.#ui.input.focus();
    this.#ask();
  }

  /** An answer of the client (rooms handler). */
  show({ rooms, next, total, more, error }) {
    if (!this.#ui.dialog.open) return;
    const t = this.#t;
    if (!more) {
      this.#ui.list.replaceChildren();
      this.#count = 0;
    }
    if (error) {
      this.#status(t('directoryFailed', error));
      return;
    }
    if (total !== null) this.#ui.total.textContent = t('directoryTotal', total);
    for (const room of rooms) this.#ui.list.append(this.#item(room));
    this.#count += rooms.length;
    this.#ui.more.hidden = !next;
    this.#status(this.#count === 0 ? t('directoryEmpty') : '');
  }

  #ask() {
    clearTimeout(this.#timer);
    if (!this.#deps.connected()) {
      this.#status(this.#t('searchOffline'));
      return;
    }
    if (this.#deps.list({ query: this.#ui.input.value.trim() })) this.#status(this.#t('directoryLoading'));
  }

  #status(text) {
    this.#ui.status.textContent = text;
  }

  #item({ room, users }) {
    const t = this.#t;
    const li = element('li', 'directory-item');
    li.dataset.room = room;
    const button = element('button', 'directory-room');
    button.type = 'button';
    const name = element('span', 'directory-room-name', t('room', room));
    name.dir = 'auto';
    const count = element('span', 'directory-room-count', t('directoryPeople', users));
    button.append(name, count);
    if (this.#deps.joined(room)) button.append(element('span', 'directory-room-joined', t('directoryJoined')));
    button.addEventListener('click', () => {
      this.#ui.dialog.close();
      this.#deps.go(room);
    });
    li.append(button);
    return li;
  }
}
