// A chat room: its name and the members currently in it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "chat/member.h"

namespace parley::chat {

// Room names: 1-64 characters of [A-Za-z0-9._-]. Kept to a URL- and
// file-name-safe set so a name can appear in a path (/ws/<room>) unescaped.
bool is_valid_room_name(std::string_view name);

class Room {
 public:
  explicit Room(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  std::size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }

  void add(Member* m) { members_.push_back(m); }
  void remove(Member* m);

  // Hands `frame` to every member but `except` (may be null).
  void broadcast(const SharedFrame& frame, const Member* except) const;

 private:
  std::string name_;
  std::vector<Member*> members_;
};

}  // namespace parley::chat
