// Chat events encoded into frames, once per event, for each protocol that
// shows them. The room's home calls these; every recipient shares the result.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chat/chat_message.h"
#include "chat/json_protocol.h"
#include "chat/member.h"

namespace parley::chat {

struct MemberInfo {
  std::string user;
  std::string name;
};

enum class PresenceKind { Joined, Left, Renamed };

// A message to the room. Plain-text members see a plain-text sender's words
// verbatim (the seed's behaviour) and a named sender's as "name: text".
// `for_json` / `for_plain`: whether anyone in the room needs that encoding.
RoomEvent message_event(std::string_view room, const ChatMessage& m, Protocol sender_protocol,
                        bool for_json = true, bool for_plain = true);

// Presence. `user_changed`: the user's first connection joined / last left
// (JSON members are told only then); plain-text members get the seed's notice
// with the room's connection count on every join and leave of a connection.
RoomEvent presence_event(std::string_view room, PresenceKind kind, std::string_view user,
                         std::string_view name, std::string_view old_name, std::size_t online,
                         bool user_changed);

RoomEvent typing_event(std::string_view room, std::string_view user, std::string_view from);

SharedFrame joined_frame(std::string_view room, std::string_view you,
                         std::span<const MemberInfo> members, std::span<const ChatMessage> history,
                         bool truncated, uint64_t last_id);
SharedFrame ack_frame(std::string_view room, std::string_view client_id, uint64_t msg_id,
                      int64_t ts_ms, bool duplicate);
SharedFrame history_frame(std::string_view room, std::span<const ChatMessage> messages,
                          bool truncated);
SharedFrame left_frame(std::string_view room);

}  // namespace parley::chat

namespace parley::chat {

struct WelcomeInfo {
  std::string session;
  std::string user;
  std::string resume;
  std::string name;
  std::string server;  // "parley/<version>"
  std::size_t max_message_bytes = 0;
  std::size_t max_text_bytes = 0;
  std::size_t max_rooms = 0;
  std::size_t history_page_max = 0;
  double rate_per_sec = 0;
  double rate_burst = 0;
};
SharedFrame welcome_frame(const WelcomeInfo& w);

SharedFrame error_frame(ErrorCode code, std::string_view message, std::string_view ref,
                        std::string_view id = {}, std::string_view room = {});

}  // namespace parley::chat
