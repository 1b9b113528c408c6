// The rules of a room's log (docs/PROTOCOL.md, "The room's log"), as pure
// functions over chat::Message, so that every place that keeps a message's
// state applies them identically: MemoryHistory when it stores a change, the
// RoomCache when it learns of one, and a page patched with changes stored
// while it was read. (SQLite applies the same rules in SQL, in the writer's
// transaction: store/message_log_writer.cpp; a differential test,
// tests/unit/chat_sqlite_history_test.cpp, holds them
// together.)
//
// The rules, checked in the step that stores a change so that two tabs or
// two nodes cannot race past them:
// - the target must be a message of the room (not a change, not retention-
//   deleted): else NotFound;
// - only its author (same user id) edits or deletes it: else NotAuthor;
// - a deleted message takes no edit, reaction or second delete: else Deleted;
// - a message holds at most max_reaction_emoji different emoji and
//   max_reactions reactions: else LimitReached;
// - one reaction per (user, emoji): a react already there, or an unreact not
//   there, changes nothing (a no-op, acknowledged as a duplicate).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/result.h"
#include "chat/message.h"

namespace parley::chat {

struct ChangeRules {
  std::size_t max_reaction_emoji = 20;
  std::size_t max_reactions = 1000;
  std::size_t quote_chars = 100;  // code points of a message quoted by a reply
};

// Why the history refused a change; carried in Error::detail (Errc::Invalid,
// or Errc::NotFound for NotFound) so the chat can answer the right error code.
enum class Refusal : unsigned char { None = 0, NotFound, NotAuthor, Deleted, LimitReached };

Error refusal_error(Refusal refusal);
// Refusal::None for any error that is not a refusal (a store failure).
Refusal refusal_of(const Error& error);

// The quote a reply stores of `target` (a message).
Quote quote_of(const Message& target, const ChangeRules& rules);

// Whether `change` may be applied to `target`, the message it names (null
// when the room holds no entry with that id). True: it changes something;
// false: a no-op (a reaction already there / not there); an Error: refused.
Result<bool> check_change(const Message* target, const Message& change, const ChangeRules& rules);

// Applies a checked `change` (with its id and ts assigned) to its target,
// and fills change.count for reactions. Idempotent: a change the target
// already reflects (change.id <= target.revision()) leaves it as it is.
void apply_change(Message& target, Message& change);

// A reply's quote once the message it quotes is deleted.
void forget_quote(Quote& quote);

}  // namespace parley::chat
