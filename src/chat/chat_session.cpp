#include "chat/chat_session.h"

#include <algorithm>

namespace parley::chat {

ChatSession::ChatSession(ChatHub& hub, uint32_t loop, ChatTransport& transport)
    : hub_(hub), transport_(transport), ref_(hub.attach(loop, this)) {}

ChatSession::~ChatSession() {
  leave_all();
  hub_.detach(ref_);
}

void ChatSession::leave_all() {
  for (const auto& room : rooms_) hub_.leave(ref_, room, /*disconnected=*/true);
  rooms_.clear();
}

bool ChatSession::in_room(std::string_view room) const {
  return std::find(rooms_.begin(), rooms_.end(), room) != rooms_.end();
}

void ChatSession::remove_room(std::string_view room) {
  std::erase_if(rooms_, [&](const std::string& r) { return r == room; });
}

}  // namespace parley::chat
