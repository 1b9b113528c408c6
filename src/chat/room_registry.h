// All rooms of one server, created on first join and dropped when empty.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "chat/room.h"

namespace parley::chat {

class RoomRegistry {
 public:
  // The room called `name`, created if needed. The name must be valid.
  Room& get_or_create(std::string_view name);
  // Drops `room` if nobody is left in it.
  void release_if_empty(Room& room);
  std::size_t room_count() const { return rooms_.size(); }

 private:
  // unique_ptr: Room addresses stay stable while the map rehashes.
  std::unordered_map<std::string, std::unique_ptr<Room>> rooms_;
};

}  // namespace parley::chat
