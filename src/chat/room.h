// Room names, and the part of a room that lives on one event loop: the
// members connected to that loop.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/member.h"

namespace parley::chat {

// Room names: 1-64 characters of [A-Za-z0-9._-]. Kept to a URL- and
// file-name-safe set so a name can appear in a path (/ws/<room>) unescaped.
bool is_valid_room_name(std::string_view name);

// The members of one room that live on this loop. The room's home loop sends
// each event once per loop; the loop hands it to its local members.
class LocalRoom {
 public:
  void add(Member* m, MemberRef ref);
  void remove(Member* m);
  bool empty() const { return members_.empty(); }
  std::size_t size() const { return members_.size(); }

  // `except` (e.g. the sender) is skipped.
  void deliver(const RoomEvent& event, MemberRef except) const;

 private:
  struct Entry {
    Member* member;
    MemberRef ref;
  };
  std::vector<Entry> members_;
};

}  // namespace parley::chat
