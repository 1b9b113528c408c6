// An entry of a room's log: the one shape a message, or a change of one,
// has in the chat core, from the request that creates it to the history that
// keeps it and the events that carry it. Storage backends convert to and
// from their own rows at their boundary (chat/sqlite_history.cpp).
//
// A room's entries share one id sequence (docs/PROTOCOL.md, "The room's
// log"): a message, or an edit, delete, react or unreact of an earlier
// message (`target`). A message entry also carries the message's current
// state, which the history keeps up to date as changes are stored: the text
// after edits, `edited_ms`, `deleted`, its reactions, and `rev`, the id of
// the last change applied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chat/attachment.h"

namespace parley::chat {

enum class EntryKind : uint8_t { Message, Edit, Delete, React, Unreact };

// What a reply shows of the message it answers, taken when the reply is
// stored; its text is emptied when that message is deleted.
struct Quote {
  uint64_t id = 0;  // the message answered; 0: not a reply
  std::string user{};
  std::string from{};
  std::string text{};  // its first ChangeRules::quote_chars code points
  bool deleted = false;
};

// One emoji on a message and who reacted with it, in the order they did.
struct Reaction {
  std::string emoji{};
  std::vector<std::string> users{};
};

struct Message {
  uint64_t id = 0;          // per room: 1, 2, 3 ... assigned by the history when stored
  int64_t ts_ms = 0;        // milliseconds since the Unix epoch, when stored
  std::string user{};       // the sender's (the changer's) stable user id
  std::string from{};       // the sender's name when sent
  std::string client_id{};  // the sender's id for dedup; "" for plain-text senders
  // Message: its text now ("" once deleted). Edit: the new text.
  // React / Unreact: the emoji. Delete: "".
  std::string text{};
  EntryKind kind = EntryKind::Message;
  uint64_t target = 0;  // a change: the message it changes

  // A message's state.
  Quote reply{};            // reply.id != 0: a reply (the history fills the rest)
  Attachment attachment{};  // a file sent with the message (uploads); gone once deleted
  int64_t edited_ms = 0;    // when last edited; 0: never
  bool deleted = false;
  uint64_t rev = 0;  // id of the last change applied; 0: never changed
  std::vector<Reaction> reactions{};

  // A React / Unreact: how many reactions with this emoji the target has
  // after it (filled by the history).
  uint32_t count = 0;

  bool is_message() const { return kind == EntryKind::Message; }
  // The id of the last change this state reflects (docs/PROTOCOL.md `rev`).
  uint64_t revision() const { return rev != 0 ? rev : id; }

  // Memory this entry holds, for byte budgets (cache, in-memory history).
  std::size_t bytes() const {
    std::size_t n = sizeof(Message) + user.capacity() + from.capacity() + client_id.capacity() +
                    text.capacity() + reply.user.capacity() + reply.from.capacity() +
                    reply.text.capacity() + attachment.bytes() +
                    reactions.capacity() * sizeof(Reaction);
    for (const Reaction& r : reactions) {
      n += r.emoji.capacity() + r.users.capacity() * sizeof(std::string);
      for (const std::string& u : r.users) n += u.capacity();
    }
    return n;
  }
};

}  // namespace parley::chat
