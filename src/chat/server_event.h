// Encoding what a parley.v1 server sends (docs/PROTOCOL.md).
//
// Each encode_* returns the JSON text of one event, `type` first; the caller
// wraps it in a text frame, once per broadcast. Inputs are views, so the only
// allocation is the returned string, reserved up front. Strings are escaped as
// JSON requires (quote, backslash, and control characters, which become \n,
// \t, ... or \u00XX); other bytes pass through, so every string given must be
// valid UTF-8 (what parse_client_message returns always is).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "chat/client_message.h"
#include "chat/json_protocol.h"

namespace parley::chat {

// A chat message as stored and delivered. The same object is a live `message`
// event and an element of `joined.history` and `history.messages`.
struct MessageView {
  std::string_view room;
  uint64_t msg_id = 0;  // per room, increasing from 1
  int64_t ts = 0;       // milliseconds since the Unix epoch
  std::string_view user;
  std::string_view from;  // the sender's name when sent
  std::string_view text;
  std::string_view id;  // the sender's client id; "" for plain-text senders
};

struct ServerLimits {
  uint64_t max_message_bytes = 0;
  uint64_t max_text_bytes = 0;
  uint64_t max_rooms = 0;
  uint64_t history_page_max = 0;
  double rate_per_sec = 0;  // token bucket refill: client frames per second...
  double rate_burst = 0;    // ...and its size
};

struct WelcomeView {
  std::string_view session;
  std::string_view user;
  std::string_view resume;
  std::string_view name;
  std::string_view server;  // "parley/<version>"
  ServerLimits limits;
};

struct MemberView {
  std::string_view user;
  std::string_view name;
};

struct JoinedView {
  std::string_view room;
  std::string_view you;  // the joiner's name
  std::span<const MemberView> members;
  std::span<const MessageView> history;  // oldest first
  bool truncated = false;                // messages exist that `history` left out
  uint64_t last_id = 0;                  // newest msg_id in the room, 0 when empty
};

struct AckView {
  std::string_view room;
  std::string_view id;  // the client id being acknowledged
  uint64_t msg_id = 0;
  int64_t ts = 0;
  bool duplicate = false;  // stored earlier under this id; msg_id/ts are the original ones
};

enum class PresenceEvent { Joined, Left, Renamed };

struct PresenceView {
  std::string_view room;
  PresenceEvent event = PresenceEvent::Joined;
  std::string_view user;
  std::string_view name;
  std::string_view old;  // the previous name; sent only for Renamed
  uint64_t online = 0;   // connections in the room after the event
};

std::string encode_welcome(const WelcomeView& welcome);
std::string encode_joined(const JoinedView& joined);
std::string encode_left(std::string_view room);
std::string encode_ack(const AckView& ack);
std::string encode_message(const MessageView& message);
std::string encode_presence(const PresenceView& presence);
std::string encode_typing(std::string_view room, std::string_view user, std::string_view from);
std::string encode_history(std::string_view room, std::span<const MessageView> messages,
                           bool truncated);
// `ref` is the `type` of the request that failed, `id` its client id; empty
// ref, id and room are left out of the event.
std::string encode_error(ErrorCode code, std::string_view message, std::string_view ref = {},
                         std::string_view id = {}, std::string_view room = {});
std::string encode_error(const ParseError& error);

}  // namespace parley::chat
