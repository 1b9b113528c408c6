// Chat events as texts, encoded once per event for each protocol that shows
// them. The room's home calls these; every recipient shares the result, and
// the connection frames it (chat never builds WebSocket frames).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/shared_text.h"
#include "chat/json_protocol.h"
#include "chat/member.h"
#include "chat/message.h"
#include "chat/message_log.h"
#include "chat/server_event.h"

namespace parley::chat {

// A message to the room. Plain-text members see a plain-text sender's words
// verbatim (the seed's behaviour) and a named sender's as "name: text".
// `for_json` / `for_plain`: whether anyone in the room needs that encoding.
RoomEvent message_event(std::string_view room, const Message& m, Protocol sender_protocol,
                        bool for_json = true, bool for_plain = true);

// A change of a message (an entry that is not a message: edit, delete,
// react, unreact). Plain-text members see an edit as a new line,
// "name (edited): text", and nothing of the others.
RoomEvent change_event(std::string_view room, const Message& change, bool for_json = true,
                       bool for_plain = true);

// Presence. `user_changed`: the user's first connection joined / last left
// (JSON members are told only then); plain-text members get the seed's notice
// with the room's connection count on every join and leave of a connection.
struct PresenceChange {
  PresenceKind kind = PresenceKind::Joined;
  std::string_view user;
  std::string_view name;
  std::string_view old_name;  // for Renamed
  std::size_t online = 0;     // connections after the change
  std::size_t users = 0;      // distinct users after the change
  bool user_changed = true;
};
RoomEvent presence_event(std::string_view room, const PresenceChange& change);

// The seed's notices for a large room's coalesced presence: the join notice
// if anyone joined (the leave notice instead if only leaves happened), with
// the connections now online. Emitted as the plain part of a batch.
RoomEvent presence_notices(std::string_view room, bool joined, bool left, std::size_t online);

RoomEvent typing_event(std::string_view room, std::string_view user, std::string_view from);

// Answers to one member.
SharedText joined_text(const JoinedView& joined);
SharedText ack_text(std::string_view room, std::string_view client_id, uint64_t msg_id,
                    int64_t ts_ms, bool duplicate);
SharedText history_text(std::string_view room, std::span<const Message> messages, bool truncated);
SharedText history_text(const HistoryView& history);
SharedText search_results_text(const SearchResultsView& results);
SharedText left_text(std::string_view room);
// To a plain-text sender whose message could not be relayed (the engine is down).
SharedText unavailable_notice();
// The seed-style notice for a plain-text message the store cannot take now
// (too many bytes waiting for it: docs/SECURITY.md): not relayed, not stored.
SharedText store_busy_notice();

// Cuts `messages` to what fits in an answer of `budget` bytes (at least one
// message, so paging always moves on): from the front when `keep_newest`,
// else from the back. Returns whether anything was cut.
bool fit_to_budget(std::string_view room, std::vector<Message>& messages, std::size_t budget,
                   bool keep_newest, std::string_view viewer = {});

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
  std::size_t search_page_max = 0;
  std::size_t max_upload_bytes = 0;  // 0: uploads are off
  ChangeRules rules{};
  std::string auth;        // "jwt" or ""
  int64_t expires_at = 0;  // with auth
};
SharedText welcome_text(const WelcomeInfo& w);

SharedText error_text(ErrorCode code, std::string_view message, std::string_view ref,
                      std::string_view id = {}, std::string_view room = {},
                      std::string_view reason = {});

}  // namespace parley::chat
