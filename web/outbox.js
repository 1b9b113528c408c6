// The outbox: what this page asked the server to store (messages, and edits,
// deletes and reactions of messages) that the server has not acknowledged yet.
// It lives in storage (localStorage in the page) so that a reload, a crash of the
// tab or a long outage resends it with the same client ids, which the server
// recognises (PROTOCOL.md, "No-loss delivery", point 2). No DOM, no socket.
//
// Entries: { kind, room, id, created, ...fields } where kind is
//   'send'     text, reply_to?, quote? (the quoted message as shown when typed),
//              attachment? (an uploaded file: { file, name, size, type, width, height })
//   'edit'     target, text
//   'delete'   target
//   'react'    target, emoji
//   'unreact'  target, emoji
// plus, in memory only, the sending state parley-client.js keeps (state, reason,
// rejected, needsSend, inflight, timer, internalTries).
//
// While a change is pending the page shows it already: overlay() puts the pending
// changes of a message on its last known state, so a reaction lights up at once and
// an edit shows its new text, marked as not saved yet.

export const CHANGE_KINDS = Object.freeze(['edit', 'delete', 'react', 'unreact']);
const KINDS = new Set(['send', ...CHANGE_KINDS]);

const isId = (value) => Number.isSafeInteger(value) && value >= 0;

function readList(storage, key) {
  try {
    const value = JSON.parse(storage.getItem(key) ?? 'null');
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

/** Whether a stored entry has the fields its kind needs (storage is not trusted). */
export function validEntry(saved) {
  if (!saved || typeof saved !== 'object' || typeof saved.id !== 'string' || typeof saved.room !== 'string') return false;
  const kind = saved.kind ?? 'send'; // entries written before changes existed
  if (!KINDS.has(kind)) return false;
  if (kind === 'send') return typeof saved.text === 'string';
  if (!isId(saved.target)) return false;
  if (kind === 'edit') return typeof saved.text === 'string';
  if (kind === 'react' || kind === 'unreact') return typeof saved.emoji === 'string';
  return true;
}

/** The protocol frame that stores `entry`. */
export function frameOf(entry) {
  const { room, id } = entry;
  switch (entry.kind) {
    case 'edit': return { type: 'edit', room, id, target: entry.target, text: entry.text };
    case 'delete': return { type: 'delete', room, id, target: entry.target };
    case 'react':
    case 'unreact': return { type: entry.kind, room, id, target: entry.target, emoji: entry.emoji };
    default: return {
      type: 'send', room, id, text: entry.text,
      ...(isId(entry.reply_to) ? { reply_to: entry.reply_to } : {}),
      ...(entry.attachment ? { file: entry.attachment.file, file_name: entry.attachment.name } : {}),
    };
  }
}

/** What is kept in storage of an entry. */
function savedForm(entry) {
  const saved = { kind: entry.kind, room: entry.room, id: entry.id, created: entry.created };
  for (const field of ['text', 'target', 'emoji', 'reply_to', 'quote', 'attachment', 'rejected']) {
    if (entry[field] !== undefined && entry[field] !== null) saved[field] = entry[field];
  }
  return saved;
}

/**
 * Applies changes (outbox entries or acknowledged changes not yet seen as events)
 * to a copy of a message's state, in order. `pending` ones mark the result
 * (pending.edit / pending.delete, reaction.pending) so the page can say "saving…".
 */
export function overlay(message, changes) {
  const view = { ...message, reactions: (message.reactions ?? []).map((r) => ({ ...r })) };
  for (const change of changes) {
    if (view.deleted) break;
    const mark = change.acked !== true;
    switch (change.kind) {
      case 'edit':
        view.text = change.text;
        if (mark) view.pending = { ...view.pending, edit: true };
        else view.edited = change.ts ?? view.edited;
        break;
      case 'delete':
        if (mark) {
          view.pending = { ...view.pending, delete: true };
        } else {
          view.deleted = true;
          view.text = '';
          view.reactions = [];
          view.reply_to = null;
          view.attachment = null;
        }
        break;
      case 'react':
      case 'unreact': {
        const add = change.kind === 'react';
        let reaction = view.reactions.find((r) => r.emoji === change.emoji);
        if (add && !reaction) {
          reaction = { emoji: change.emoji, count: 0, me: false };
          view.reactions.push(reaction);
        }
        if (!reaction || reaction.me === add) break;
        reaction.me = add;
        reaction.count += add ? 1 : -1;
        if (mark) reaction.pending = true;
        if (reaction.count <= 0) view.reactions = view.reactions.filter((r) => r !== reaction);
        break;
      }
      default:
        break;
    }
  }
  return view;
}

export class Outbox {
  #storage;
  #key;
  #write;
  #entries = [];
  #removedIds = new Set(); // ids this page settled, so a save does not bring them back

  /**
   * @param storage  { getItem, setItem }
   * @param key      the storage key
   * @param write    (key, value) => void: writes, never throws (a full storage costs
   *                 persistence, never the chat)
   */
  constructor(storage, key, write) {
    this.#storage = storage;
    this.#key = key;
    this.#write = write;
  }

  /** Reads the stored entries of the rooms `keep` accepts; returns them (in memory now). */
  load(keep) {
    for (const saved of readList(this.#storage, this.#key)) {
      if (!validEntry(saved) || !keep(saved.room)) continue;
      this.#entries.push({ ...saved, kind: saved.kind ?? 'send' });
    }
    return this.#entries;
  }

  get entries() {
    return this.#entries;
  }

  find(predicate) {
    return this.#entries.find(predicate);
  }

  filter(predicate) {
    return this.#entries.filter(predicate);
  }

  includes(entry) {
    return this.#entries.includes(entry);
  }

  add(entry) {
    this.#entries.push(entry);
    this.save();
  }

  remove(entry) {
    const index = this.#entries.indexOf(entry);
    if (index < 0) return false;
    this.#entries.splice(index, 1);
    this.#removedIds.add(entry.id);
    this.save();
    return true;
  }

  /** The pending changes of message `target` in `room`, oldest first. */
  changesOf(room, target) {
    return this.#entries.filter((e) => e.kind !== 'send' && e.room === room && e.target === target);
  }

  /**
   * Writes the outbox. Another tab of the same browser shares the storage: its
   * entries are kept, and only the ones this page settled are removed.
   */
  save() {
    const mine = new Set(this.#entries.map((e) => e.id));
    const merged = [];
    for (const saved of readList(this.#storage, this.#key)) {
      if (!saved || this.#removedIds.has(saved.id) || mine.has(saved.id)) continue;
      merged.push(saved);
    }
    for (const entry of this.#entries) merged.push(savedForm(entry));
    this.#write(this.#key, JSON.stringify(merged));
  }
}
