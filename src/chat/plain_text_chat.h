// The seed's chat protocol: plain text frames, no names.
//
// Each text message goes verbatim to every *other* member of the room; joins
// and leaves are announced to the others with the room's online count, in the
// seed's exact words (its index.html shows them as received messages).
#pragma once

#include <string>
#include <string_view>

#include "chat/member.h"
#include "chat/room.h"
#include "chat/room_registry.h"

namespace parley::chat {

std::string join_notice(std::size_t online);   // 系统通知: 新用户加入,当前在线N人
std::string leave_notice(std::size_t online);  // 系统通知: 用户离开,当前在线N人

class PlainTextChat {
 public:
  explicit PlainTextChat(RoomRegistry& rooms) : rooms_(rooms) {}

  // Returns the room joined; the caller keeps it to call message()/leave().
  Room& join(Member& m, std::string_view room_name);
  void message(Room& room, Member& from, std::string_view text);
  void leave(Room& room, Member& m);

 private:
  RoomRegistry& rooms_;
};

}  // namespace parley::chat
