// A committed chat message as the rooms hold it (ids increase by one per room).
#pragma once

#include <cstdint>
#include <string>

namespace parley::chat {

struct ChatMessage {
  uint64_t id = 0;
  int64_t ts_ms = 0;
  std::string user;       // stable user id (resume identity), "guest-N" for plain text
  std::string from;       // display name when sent
  std::string client_id;  // sender's id for dedup, may be empty
  std::string text;
};

}  // namespace parley::chat
