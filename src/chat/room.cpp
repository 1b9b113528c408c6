#include "chat/room.h"

#include <algorithm>

namespace parley::chat {

bool is_valid_room_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

void LocalRoom::add(Member* m, MemberRef ref) {
  // A quick leave and re-join can answer twice; one entry per member.
  for (const Entry& e : members_) {
    if (e.member == m) return;
  }
  members_.push_back({m, ref});
}

void LocalRoom::remove(Member* m) {
  // Swap-and-pop: member order does not matter.
  auto it =
      std::find_if(members_.begin(), members_.end(), [m](const Entry& e) { return e.member == m; });
  if (it == members_.end()) return;
  *it = members_.back();
  members_.pop_back();
}

void LocalRoom::deliver(const RoomEvent& event, MemberRef except) const {
  for (const Entry& e : members_) {
    if (e.ref == except) continue;
    const SharedText& text = event.for_protocol(e.member->protocol());
    if (text) e.member->deliver(text, event.ephemeral);
  }
}

}  // namespace parley::chat
