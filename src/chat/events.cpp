#include "chat/events.h"

namespace parley::chat {
namespace {

std::string seed_join_notice(std::size_t online) {
  return "系统通知: 新用户加入,当前在线" + std::to_string(online) + "人";
}

std::string seed_leave_notice(std::size_t online) {
  return "系统通知: 用户离开,当前在线" + std::to_string(online) + "人";
}

}  // namespace

RoomEvent message_event(std::string_view room, const Message& m, Protocol sender_protocol,
                        bool for_json, bool for_plain) {
  RoomEvent e;
  if (for_json) e.json = make_shared_text(encode_message(room, m));
  if (for_plain) {
    std::string line = sender_protocol == Protocol::PlainText ? m.text : m.from + ": " + m.text;
    if (!m.attachment.empty()) {
      // The seed page shows text only: the file becomes a line a reader can follow.
      line +=
          (m.text.empty() ? "[" : " [") + m.attachment.name + ": /files/" + m.attachment.file + "]";
    }
    e.plain = make_shared_text(std::move(line));
  }
  return e;
}

RoomEvent change_event(std::string_view room, const Message& change, bool for_json,
                       bool for_plain) {
  RoomEvent e;
  if (for_json) e.json = make_shared_text(encode_message(room, change));
  if (for_plain && change.kind == EntryKind::Edit) {
    e.plain = make_shared_text(change.from + " (edited): " + change.text);
  }
  return e;
}

RoomEvent presence_event(std::string_view room, const PresenceChange& c) {
  RoomEvent e;
  e.ephemeral = true;
  if (c.user_changed) {
    e.json = make_shared_text(
        encode_presence(PresenceView{room, c.kind, c.user, c.name, c.old_name, c.online, c.users}));
  }
  if (c.kind == PresenceKind::Joined) e.plain = make_shared_text(seed_join_notice(c.online));
  if (c.kind == PresenceKind::Left) e.plain = make_shared_text(seed_leave_notice(c.online));
  return e;
}

RoomEvent presence_notices(std::string_view, bool joined, bool left, std::size_t online) {
  RoomEvent e;
  e.ephemeral = true;
  if (joined) {
    e.plain = make_shared_text(seed_join_notice(online));
  } else if (left) {
    e.plain = make_shared_text(seed_leave_notice(online));
  }
  return e;
}

RoomEvent typing_event(std::string_view room, std::string_view user, std::string_view from) {
  return RoomEvent{make_shared_text(encode_typing(room, user, from)), nullptr, true};
}

SharedText joined_text(const JoinedView& joined) {
  return make_shared_text(encode_joined(joined));
}

SharedText ack_text(std::string_view room, std::string_view client_id, uint64_t msg_id,
                    int64_t ts_ms, bool duplicate) {
  return make_shared_text(encode_ack(AckView{room, client_id, msg_id, ts_ms, duplicate}));
}

SharedText history_text(std::string_view room, std::span<const Message> messages, bool truncated) {
  return make_shared_text(encode_history(room, messages, truncated));
}

SharedText history_text(const HistoryView& history) {
  return make_shared_text(encode_history(history));
}

SharedText search_results_text(const SearchResultsView& results) {
  return make_shared_text(encode_search_results(results));
}

SharedText left_text(std::string_view room) {
  return make_shared_text(encode_left(room));
}

SharedText store_busy_notice() {
  // "System notice: the server is busy, the message was not sent".
  static const SharedText notice = make_shared_text(std::string("系统通知: 服务器繁忙,消息未发送"));
  return notice;
}

SharedText unavailable_notice() {
  // "System notice: the service is unavailable for now, the message was not sent".
  static const SharedText notice =
      make_shared_text(std::string("系统通知: 服务暂时不可用,消息未发送"));
  return notice;
}

bool fit_to_budget(std::string_view room, std::vector<Message>& messages, std::size_t budget,
                   bool keep_newest, std::string_view viewer) {
  std::size_t used = 0, fit = 0;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const Message& m = keep_newest ? messages[messages.size() - 1 - i] : messages[i];
    used += encoded_message_size(room, m, viewer) + 1;  // and a comma
    if (used > budget && fit > 0) break;
    ++fit;
  }
  if (fit == messages.size()) return false;
  auto cut = static_cast<std::ptrdiff_t>(messages.size() - fit);
  if (keep_newest) {
    messages.erase(messages.begin(), messages.begin() + cut);
  } else {
    messages.erase(messages.end() - cut, messages.end());
  }
  return true;
}

SharedText welcome_text(const WelcomeInfo& w) {
  ServerLimits limits{
      w.max_message_bytes,   w.max_text_bytes,    w.max_rooms,       w.history_page_max,
      w.rate_per_sec,        w.rate_burst,        w.search_page_max, w.rules.max_reaction_emoji,
      w.rules.max_reactions, w.rules.quote_chars, w.max_upload_bytes};
  return make_shared_text(encode_welcome(
      WelcomeView{w.session, w.user, w.resume, w.name, w.server, limits, w.auth, w.expires_at}));
}

SharedText error_text(ErrorCode code, std::string_view message, std::string_view ref,
                      std::string_view id, std::string_view room, std::string_view reason) {
  return make_shared_text(encode_error(code, message, ref, id, room, reason));
}

}  // namespace parley::chat
