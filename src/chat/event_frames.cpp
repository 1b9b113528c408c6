#include "chat/event_frames.h"

#include "chat/server_event.h"

namespace parley::chat {
namespace {

MessageView view_of(std::string_view room, const ChatMessage& m) {
  return MessageView{room, m.id, m.ts_ms, m.user, m.from, m.text, m.client_id};
}

std::vector<MessageView> views_of(std::string_view room, std::span<const ChatMessage> msgs) {
  std::vector<MessageView> out;
  out.reserve(msgs.size());
  for (const auto& m : msgs) out.push_back(view_of(room, m));
  return out;
}

std::string seed_join_notice(std::size_t online) {
  return "系统通知: 新用户加入,当前在线" + std::to_string(online) + "人";
}

std::string seed_leave_notice(std::size_t online) {
  return "系统通知: 用户离开,当前在线" + std::to_string(online) + "人";
}

}  // namespace

RoomEvent message_event(std::string_view room, const ChatMessage& m, Protocol sender_protocol,
                        bool for_json, bool for_plain) {
  RoomEvent e;
  if (for_json) e.json = make_text_frame(encode_message(view_of(room, m)));
  if (for_plain) {
    e.plain = sender_protocol == Protocol::PlainText ? make_text_frame(m.text)
                                                     : make_text_frame(m.from + ": " + m.text);
  }
  return e;
}

RoomEvent presence_event(std::string_view room, PresenceKind kind, std::string_view user,
                         std::string_view name, std::string_view old_name, std::size_t online,
                         bool user_changed) {
  RoomEvent e;
  e.ephemeral = true;
  if (user_changed) {
    PresenceView p{room,
                   kind == PresenceKind::Joined ? PresenceEvent::Joined
                   : kind == PresenceKind::Left ? PresenceEvent::Left
                                                : PresenceEvent::Renamed,
                   user,
                   name,
                   old_name,
                   online};
    e.json = make_text_frame(encode_presence(p));
  }
  if (kind == PresenceKind::Joined) e.plain = make_text_frame(seed_join_notice(online));
  if (kind == PresenceKind::Left) e.plain = make_text_frame(seed_leave_notice(online));
  return e;
}

RoomEvent typing_event(std::string_view room, std::string_view user, std::string_view from) {
  return RoomEvent{make_text_frame(encode_typing(room, user, from)), nullptr, true};
}

SharedFrame joined_frame(std::string_view room, std::string_view you,
                         std::span<const MemberInfo> members, std::span<const ChatMessage> history,
                         bool truncated, uint64_t last_id) {
  std::vector<MemberView> mv;
  mv.reserve(members.size());
  for (const auto& m : members) mv.push_back({m.user, m.name});
  auto hv = views_of(room, history);
  return make_text_frame(encode_joined(JoinedView{room, you, mv, hv, truncated, last_id}));
}

SharedFrame ack_frame(std::string_view room, std::string_view client_id, uint64_t msg_id,
                      int64_t ts_ms, bool duplicate) {
  return make_text_frame(encode_ack(AckView{room, client_id, msg_id, ts_ms, duplicate}));
}

SharedFrame history_frame(std::string_view room, std::span<const ChatMessage> messages,
                          bool truncated) {
  auto hv = views_of(room, messages);
  return make_text_frame(encode_history(room, hv, truncated));
}

SharedFrame left_frame(std::string_view room) {
  return make_text_frame(encode_left(room));
}

SharedFrame welcome_frame(const WelcomeInfo& w) {
  ServerLimits limits{w.max_message_bytes, w.max_text_bytes, w.max_rooms,
                      w.history_page_max,  w.rate_per_sec,   w.rate_burst};
  return make_text_frame(
      encode_welcome(WelcomeView{w.session, w.user, w.resume, w.name, w.server, limits}));
}

SharedFrame error_frame(ErrorCode code, std::string_view message, std::string_view ref,
                        std::string_view id, std::string_view room) {
  return make_text_frame(encode_error(code, message, ref, id, room));
}

}  // namespace parley::chat
