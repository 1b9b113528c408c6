// What the history store hands back: stored messages and pages of them. A failed read is the
// Error of a Result<HistoryPage>, never an empty page.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/append_request.h"

namespace parley::store {

// One emoji on a message and who reacted with it, in the order they did.
struct StoredReaction {
  std::string emoji{};
  std::vector<std::string> users{};
};

// Every member has a default initializer so callers can use designated initializers for the
// fields they care about (-Wmissing-field-initializers is on with -Wextra).
struct StoredMessage {
  std::string room{};
  uint64_t id = 0;  // 1, 2, 3 ... per room, assigned by the store
  int64_t ts_ms = 0;
  std::string user_id{};
  std::string sender_name{};
  std::string client_id{};  // empty when the sender gave none
  std::string text{};
  // The room's log (append_request.h): the entry's kind and target, and a message's state.
  uint8_t kind = 0;  // EntryKind
  uint64_t target = 0;
  int64_t edited_ms = 0;
  bool deleted = false;
  uint64_t rev = 0;
  StoredQuote quote{};  // target != 0 on a message: its reply quote
  uint32_t count = 0;
  std::vector<StoredReaction> reactions{};  // a message's, each emoji in order of first use
  StoredAttachment attachment{};            // a message's file (empty once deleted)
};

struct HistoryPage {
  std::vector<StoredMessage> messages{};  // ascending id
  // The range asked for holds more messages than were returned: older ones before the first
  // (recent, before) or newer ones after the last (after).
  bool truncated = false;
  // Pages of messages only: the room's oldest and newest stored entry (0: none), which tell
  // whether entries (changes included) exist beyond the messages returned.
  uint64_t first_entry = 0;
  uint64_t last_entry = 0;
};

// Messages of a room whose current text contains a query, newest first.
struct SearchPage {
  std::vector<StoredMessage> messages{};
  bool truncated = false;  // older matches may exist: search on with before = next
  uint64_t next = 0;       // the smallest id looked at
};

}  // namespace parley::store
