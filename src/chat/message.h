// A chat message: the one shape a message has in the chat core, from the
// request that creates it to the history that keeps it and the events that
// carry it. Storage backends convert to and from their own rows at their
// boundary (chat/sqlite_history.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace parley::chat {

struct Message {
  uint64_t id = 0;          // per room: 1, 2, 3 ... assigned by the history when stored
  int64_t ts_ms = 0;        // milliseconds since the Unix epoch, when stored
  std::string user{};       // the sender's stable user id
  std::string from{};       // the sender's display name when sent
  std::string client_id{};  // the sender's id for dedup; "" for plain-text senders
  std::string text{};

  // Memory this message holds, for byte budgets (cache, in-memory history).
  std::size_t bytes() const {
    return sizeof(Message) + user.capacity() + from.capacity() + client_id.capacity() +
           text.capacity();
  }
};

}  // namespace parley::chat
