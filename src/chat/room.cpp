#include "chat/room.h"

#include <algorithm>

namespace parley::chat {

bool is_valid_room_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

void Room::remove(Member* m) {
  // Swap-and-pop: order of members does not matter, removal stays O(1) after the find.
  auto it = std::find(members_.begin(), members_.end(), m);
  if (it == members_.end()) return;
  *it = members_.back();
  members_.pop_back();
}

void Room::broadcast(const SharedFrame& frame, const Member* except) const {
  for (Member* m : members_) {
    if (m != except) m->deliver(frame);
  }
}

}  // namespace parley::chat
