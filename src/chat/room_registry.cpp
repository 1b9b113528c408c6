#include "chat/room_registry.h"

namespace parley::chat {

Room& RoomRegistry::get_or_create(std::string_view name) {
  auto it = rooms_.find(std::string(name));
  if (it == rooms_.end()) {
    it = rooms_.emplace(std::string(name), std::make_unique<Room>(std::string(name))).first;
  }
  return *it->second;
}

void RoomRegistry::release_if_empty(Room& room) {
  if (room.empty()) rooms_.erase(room.name());
}

}  // namespace parley::chat
