// What the history store hands back: stored messages and pages of them. A failed read is the
// Error of a Result<HistoryPage>, never an empty page.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace parley::store {

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
};

struct HistoryPage {
  std::vector<StoredMessage> messages{};  // ascending id
  // The range asked for holds more messages than were returned: older ones before the first
  // (recent, before) or newer ones after the last (after).
  bool truncated = false;
};

}  // namespace parley::store
