// How one chat message looks: the element of a message and its parts (sender and
// time, the quote of the message it answers, the text as markdown with @mentions,
// "(edited)", the placeholder of a deleted message, reaction chips, the actions),
// built from the message's view (parley-client.js) and rebuilt in place when it
// changes, so the element keeps its place and the reader's scroll anchor.
//
// Every user-supplied string (names, texts, quotes, emoji) reaches the page through
// textContent or as a text node (markdown.js only says which nodes to make); links
// are <a> elements built from http(s) URLs only. Nothing is ever parsed as HTML.
//
// The actions and reaction chips of a message are out of the tab order until the
// message is the active one (app.js: arrow keys move through the list, and focus in
// a message makes its controls tabbable), so a long list costs one tab stop.

import { attachmentElement } from './attachments.js';
import { parseMarkdown, plainText } from './markdown.js';

export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** One of 8 name colours, the same for a user id everywhere (FNV-1a of the id). */
export function nameColour(user) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < user.length; i++) hash = Math.imul(hash ^ user.charCodeAt(i), 0x01000193);
  return `name-c${(hash >>> 0) % 8}`;
}

const WORD = /[\p{L}\p{N}\p{M}_-]/u;

/**
 * The @mentions in `text` of the given names: [{ at, length, name }] in order. A
 * mention is "@" + the name, case-insensitively, not inside a word on either side
 * (an e-mail address is no mention). The longest name wins where several match.
 */
export function findMentions(text, names) {
  const lower = text.toLowerCase();
  const wanted = [...new Set(names.filter(Boolean))]
    .map((name) => ({ name, lower: name.toLowerCase() }))
    .sort((a, b) => b.lower.length - a.lower.length);
  const found = [];
  for (let at = lower.indexOf('@'); at >= 0; at = lower.indexOf('@', at + 1)) {
    if (at > 0 && WORD.test(text[at - 1])) continue;
    for (const { name, lower: needle } of wanted) {
      if (!lower.startsWith(needle, at + 1)) continue;
      const after = text.slice(at + 1 + needle.length, at + 3 + needle.length);
      if (after && WORD.test([...after][0])) continue;
      found.push({ at, length: needle.length + 1, name });
      at += needle.length;
      break;
    }
  }
  return found;
}

/** Whether `text` says @name (not as part of a longer word), case-insensitively. */
export function mentions(text, name) {
  return !!name && findMentions(text, [name]).length > 0;
}

/** Text nodes of `text` with each @mention in a <span>; the reader's own name stronger. */
function appendWithMentions(parent, text, names, me) {
  let last = 0;
  for (const { at, length, name } of findMentions(text, names)) {
    if (at > last) parent.append(document.createTextNode(text.slice(last, at)));
    const isMe = !!me && name.toLowerCase() === me.toLowerCase();
    parent.append(element('span', isMe ? 'mention-name mention-me' : 'mention-name', text.slice(at, at + length)));
    last = at + length;
  }
  if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
}

/** DOM nodes for markdown.js's tree: only elements named here, text only as text. */
function appendNodes(parent, nodes, names, me) {
  for (const node of nodes) {
    switch (node.type) {
      case 'text': appendWithMentions(parent, node.text, names, me); break;
      case 'code': parent.append(element('code', null, node.text)); break;
      case 'pre': {
        const pre = element('pre');
        pre.append(element('code', null, node.text));
        parent.append(pre);
        break;
      }
      case 'strong':
      case 'em': {
        const el = element(node.type);
        appendNodes(el, node.children, names, me);
        parent.append(el);
        break;
      }
      case 'link': {
        const a = element('a', 'message-link');
        a.href = node.href;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        appendNodes(a, node.children, names, me);
        parent.append(a);
        break;
      }
      default: break;
    }
  }
}

export function textElement(text, names = [], me = null) {
  const el = element('div', 'message-text');
  appendNodes(el, parseMarkdown(text), names, me);
  return el;
}

export class MessageView {
  #t;
  #actions;
  #time;
  #full;

  /**
   * @param t        i18n.js translator
   * @param locale   for times
   * @param actions  { reply(el), react(el, button), toggle(el, emoji), edit(el),
   *                   remove(el), quote(el), retry(id) }: what the user asked for, on
   *                   the message element (its dataset says room and msg_id)
   */
  constructor(t, locale, actions) {
    this.#t = t;
    this.#actions = actions;
    this.#time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' });
    this.#full = new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'medium' });
  }

  fullTime(ts) {
    return this.#full.format(new Date(ts));
  }

  shortTime(ts) {
    return this.#time.format(new Date(ts));
  }

  timeElement(ts) {
    if (!Number.isFinite(ts)) ts = Date.now();
    const el = element('time', 'message-time', this.shortTime(ts));
    el.dateTime = new Date(ts).toISOString();
    el.title = this.fullTime(ts);
    return el;
  }

  /**
   * A new element for a message. `view` is a message view (msg_id set), or for an
   * own message not stored yet { id, text, ts, reply_to } (its quote).
   * ctx: { room, own, me (the reader's name here), names (@-mentionable names) }.
   */
  create(view, ctx) {
    const el = element('div', `message ${ctx.own ? 'message-sent' : 'message-received'}`);
    el.dataset.room = ctx.room;
    if (ctx.own && view.id) el.dataset.id = view.id;
    if (ctx.own) el.dataset.state = Number.isSafeInteger(view.msg_id) ? 'sent' : 'pending';
    if (ctx.user && ctx.own) el.dataset.user = ctx.user;
    el.tabIndex = -1;
    this.fill(el, view, ctx);
    return el;
  }

  /** Rebuilds the parts of `el` from `view` (the element itself stays). */
  fill(el, view, ctx) {
    const t = this.#t;
    const own = el.classList.contains('message-sent');
    const stored = Number.isSafeInteger(view.msg_id);
    if (stored) el.dataset.msgId = String(view.msg_id);
    el.dataset.user = view.user ?? el.dataset.user ?? '';
    el.dataset.ts = String(Number.isFinite(view.ts) ? view.ts : Number(el.dataset.ts) || Date.now());
    const deleted = view.deleted === true;
    const deleting = view.pending?.delete === true;
    el.classList.toggle('deleted', deleted);
    el.classList.toggle('deleting', deleting);
    el.classList.toggle('mention', !own && !deleted && !!ctx.me && mentions(view.text ?? '', ctx.me));

    const parts = [];
    if (!own) {
      const meta = element('div', 'message-meta');
      meta.append(element('span', `message-from ${nameColour(view.user ?? '')}`, view.from ?? ''), this.timeElement(view.ts));
      parts.push(meta);
    }
    if (view.reply_to && !deleted) parts.push(this.#quote(view.reply_to));
    if (deleted) {
      const text = element('div', 'message-text');
      text.append(element('em', 'message-deleted', t('deletedMessage')));
      parts.push(text);
    } else {
      if (view.text || !view.attachment) parts.push(textElement(view.text ?? '', ctx.names ?? [], ctx.me));
      if (view.attachment) parts.push(attachmentElement(view.attachment, t));
    }
    const marker = deleting ? t('deleting') : view.pending?.edit ? t('saving') : (view.edited && !deleted ? t('edited') : '');
    if (marker) {
      const edited = element('div', 'message-edited', marker);
      if (view.edited && !view.pending) edited.title = t('editedAt', this.fullTime(view.edited));
      parts.push(edited);
    }
    if (!deleted && view.reactions?.length > 0) parts.push(this.#reactions(el, view.reactions));
    if (own) parts.push(this.#ownMeta(el, view));
    if (stored && !deleted && !deleting) parts.push(this.#toolbar(el, own));
    el.replaceChildren(...parts);
    if (own) this.showOwnState(el);
    if (el.classList.contains('active') || el.contains(document.activeElement)) this.setControlsTabbable(el, true);
  }

  /**
   * The status of an own message: 'sent' (no status), 'sending' (acked soon; shown
   * only after half a second), 'waiting' (amber: it will go when the connection is
   * back, or is being retried) or 'failed' (red: the server refused it; only Retry
   * sends it). connected: whether the page is connected now.
   */
  setOwnState(el, state, reason, connected) {
    el.dataset.state = state;
    el.dataset.reason = reason ?? '';
    el.dataset.connected = String(connected);
    this.showOwnState(el);
  }

  showOwnState(el) {
    const t = this.#t;
    const { state, reason } = el.dataset;
    const connected = el.dataset.connected !== 'false';
    el.classList.toggle('pending', state === 'pending');
    el.classList.toggle('failed', state === 'failed');
    let look = 'sent';
    let label = '';
    if (state === 'pending' && reason === 'rate_limited' && connected) {
      [look, label] = ['waiting', t('slowDown')];
    } else if (state === 'pending') {
      [look, label] = connected ? ['sending', t('sending')] : ['waiting', t('waiting')];
    } else if (state === 'failed' && (reason === 'timeout' || reason === 'internal')) {
      [look, label] = ['waiting', connected ? t('retrying') : t('waiting')];
    } else if (state === 'failed') {
      [look, label] = ['failed', t('notSent')];
    }
    el.dataset.look = look;
    const status = el.querySelector(':scope > .message-meta .message-status');
    if (!status) return;
    status.textContent = label;
    el.querySelector(':scope > .message-meta .message-reason').textContent = look === 'failed' ? this.#reasonLabel(reason) : '';
    el.querySelector(':scope > .message-meta .retry-button').hidden = state !== 'failed';
  }

  /** Puts the message's actions and reaction chips in (or out of) the tab order. */
  setControlsTabbable(el, on) {
    for (const control of el.querySelectorAll('.message-actions button, .reaction')) control.tabIndex = on ? 0 : -1;
  }

  #reasonLabel(reason) {
    if (!reason) return '';
    const key = `reason_${reason}`;
    const label = this.#t(key);
    return label === key ? this.#t('reason_other', reason) : label;
  }

  #ownMeta(el, view) {
    const meta = element('div', 'message-meta');
    const retry = element('button', 'retry-button', this.#t('retry'));
    retry.type = 'button';
    retry.addEventListener('click', () => this.#actions.retry(el.dataset.id));
    meta.append(this.timeElement(Number.isFinite(view.ts) ? view.ts : Number(el.dataset.ts)), element('span', 'message-status'),
      element('span', 'message-reason'), retry);
    return meta;
  }

  #quote(quote) {
    const t = this.#t;
    const button = element('button', 'message-quote');
    button.type = 'button';
    button.dataset.target = String(quote.msg_id);
    const gone = quote.deleted === true;
    // A quote shows what was written, without its markdown markers (one line or two).
    const text = gone ? t('quoteDeleted') : plainText(parseMarkdown(quote.text));
    // The name read out is the quote itself, with a hidden "Reply to" before it
    // (WCAG 2.5.3: the visible words are part of the name).
    button.append(element('span', 'visually-hidden', t('quotePrefix')), element('span', 'quote-from', quote.from),
      element('span', 'visually-hidden', ': '), element('span', gone ? 'quote-text quote-deleted' : 'quote-text', text));
    button.title = t('quoteHint');
    button.addEventListener('click', (event) => {
      event.stopPropagation();
      this.#actions.quote(button.closest('.message'), quote.msg_id);
    });
    return button;
  }

  #reactions(el, reactions) {
    const t = this.#t;
    const row = element('div', 'reactions');
    for (const reaction of reactions) {
      const chip = element('button', 'reaction');
      chip.type = 'button';
      chip.tabIndex = -1;
      chip.dataset.emoji = reaction.emoji;
      chip.setAttribute('aria-pressed', String(reaction.me === true));
      if (reaction.pending) chip.classList.add('pending');
      chip.append(element('span', 'reaction-emoji', reaction.emoji), element('span', 'reaction-count', String(reaction.count)));
      const label = t(reaction.me ? 'reactionMine' : 'reactionOthers', reaction.emoji, reaction.count);
      chip.setAttribute('aria-label', label);
      chip.title = label;
      chip.addEventListener('click', (event) => {
        event.stopPropagation();
        this.#actions.toggle(el, reaction.emoji);
      });
      row.append(chip);
    }
    return row;
  }

  #toolbar(el, own) {
    const t = this.#t;
    const bar = element('div', 'message-actions');
    bar.setAttribute('role', 'toolbar');
    bar.setAttribute('aria-label', t('messageActions'));
    const add = (name, label, run) => {
      const button = element('button', `action-button action-${name}`);
      button.type = 'button';
      button.tabIndex = -1;
      button.title = label;
      button.setAttribute('aria-label', label);
      // The icon is drawn by style.css (a mask): the list holds no SVG or image element.
      button.append(element('span', 'action-icon'));
      button.addEventListener('click', (event) => {
        event.stopPropagation();
        run(button);
      });
      bar.append(button);
    };
    add('reply', t('reply'), () => this.#actions.reply(el));
    add('react', t('react'), (button) => this.#actions.react(el, button));
    if (own) {
      add('edit', t('edit'), () => this.#actions.edit(el));
      add('remove', t('delete'), () => this.#actions.remove(el));
    }
    return bar;
  }
}
