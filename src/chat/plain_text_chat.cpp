#include "chat/plain_text_chat.h"

#include "ws/frame_writer.h"

namespace parley::chat {
namespace {

SharedFrame text_frame(std::string_view text) {
  return std::make_shared<const std::string>(ws::encode_frame(ws::Opcode::Text, text));
}

}  // namespace

std::string join_notice(std::size_t online) {
  return "系统通知: 新用户加入,当前在线" + std::to_string(online) + "人";
}

std::string leave_notice(std::size_t online) {
  return "系统通知: 用户离开,当前在线" + std::to_string(online) + "人";
}

Room& PlainTextChat::join(Member& m, std::string_view room_name) {
  Room& room = rooms_.get_or_create(room_name);
  room.add(&m);
  room.broadcast(text_frame(join_notice(room.size())), &m);
  return room;
}

void PlainTextChat::message(Room& room, Member& from, std::string_view text) {
  // Encoded once; every recipient's queue shares this one buffer.
  room.broadcast(text_frame(text), &from);
}

void PlainTextChat::leave(Room& room, Member& m) {
  room.remove(&m);
  if (room.empty()) {
    rooms_.release_if_empty(room);
    return;
  }
  room.broadcast(text_frame(leave_notice(room.size())), nullptr);
}

}  // namespace parley::chat
