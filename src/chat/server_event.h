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
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "chat/client_message.h"
#include "chat/json_protocol.h"
#include "chat/message.h"

namespace parley::chat {

// A user of a room as member lists show it.
struct MemberView {
  std::string_view user;
  std::string_view name;
};

struct ServerLimits {
  uint64_t max_message_bytes = 0;
  uint64_t max_text_bytes = 0;
  uint64_t max_rooms = 0;
  uint64_t history_page_max = 0;
  double rate_per_sec = 0;  // token bucket refill: client frames per second...
  double rate_burst = 0;    // ...and its size
  uint64_t search_page_max = 0;
  uint64_t max_reaction_emoji = 0;
  uint64_t max_reactions = 0;
  uint64_t quote_chars = 0;
  uint64_t max_upload_bytes = 0;  // 0: this server takes no files
};

struct WelcomeView {
  std::string_view session;
  std::string_view user;
  std::string_view resume;
  std::string_view name;
  std::string_view server;  // "parley/<version>"
  ServerLimits limits;
  std::string_view auth;   // "jwt" under --auth jwt, else "" (not sent)
  int64_t expires_at = 0;  // with auth: the token's exp, Unix seconds
};

struct JoinedView {
  std::string_view room;
  std::string_view you;                 // the joiner's name
  std::span<const MemberView> members;  // at most a page of the room's users, by name
  std::span<const Message> history;     // entries, oldest first
  bool truncated = false;               // messages exist that `history` left out
  uint64_t last_id = 0;                 // newest msg_id in the room, 0 when empty
  uint64_t online = 0;                  // connections in the room
  uint64_t users = 0;                   // distinct users in the room (people online)
  std::string_view viewer{};            // the joiner's user id, for reactions' `me`
};

struct AckView {
  std::string_view room;
  std::string_view id;  // the client id being acknowledged
  uint64_t msg_id = 0;
  int64_t ts = 0;
  bool duplicate = false;  // stored earlier under this id; msg_id/ts are the original ones
};

enum class PresenceKind { Joined, Left, Renamed };

struct PresenceView {
  std::string_view room;
  PresenceKind event = PresenceKind::Joined;
  std::string_view user;
  std::string_view name;
  std::string_view old;  // the previous name; sent only for Renamed
  uint64_t online = 0;   // connections in the room after the event
  uint64_t users = 0;    // distinct users in the room after the event
};

std::string encode_welcome(const WelcomeView& welcome);
std::string encode_joined(const JoinedView& joined);
std::string encode_left(std::string_view room);
std::string encode_ack(const AckView& ack);
// An entry of a room's log as its event: `message`, or `message_edited`,
// `message_deleted`, `reaction` for a change. `viewer` is the user the text
// is for (reactions say `me` for it); empty for a text shared by many.
std::string encode_message(std::string_view room, const Message& entry,
                           std::string_view viewer = {});
// The exact length of encode_message(room, entry, viewer), without encoding
// it (answers are cut to a byte budget before they are built).
std::size_t encoded_message_size(std::string_view room, const Message& entry,
                                 std::string_view viewer = {});
std::string encode_presence(const PresenceView& presence);
// A page of a room's users, by name. `next` is the cursor for the next page
// (the last name of this one), empty when this page reaches the end.
struct MembersView {
  std::string_view room;
  std::span<const MemberView> members;
  std::string_view next;
  uint64_t online = 0;
  uint64_t users = 0;
};
std::string encode_members(const MembersView& page);

// Presence in a large room, coalesced over a short interval: who joined and
// who left (at most a few of each, by name; `more_*` count the rest), and
// the counts after all of them.
struct PresenceBatchView {
  std::string_view room;
  std::span<const MemberView> joined;
  std::span<const MemberView> left;
  uint64_t more_joined = 0;
  uint64_t more_left = 0;
  uint64_t online = 0;
  uint64_t users = 0;
};
std::string encode_presence_batch(const PresenceBatchView& batch);

std::string encode_typing(std::string_view room, std::string_view user, std::string_view from);
// The answer to `history`: entries oldest first. `newer` is sent for an
// `around` page only.
struct HistoryView {
  std::string_view room;
  std::span<const Message> messages;
  bool truncated = false;
  std::string_view viewer{};
  std::optional<bool> newer{};
};
std::string encode_history(const HistoryView& history);
std::string encode_history(std::string_view room, std::span<const Message> messages,
                           bool truncated);

// The answer to `search`: messages newest first; `next` is sent when
// truncated (the `before` of the next page).
struct SearchResultsView {
  std::string_view room;
  std::string_view query;
  std::span<const Message> messages;
  bool truncated = false;
  uint64_t next = 0;
  std::string_view viewer{};
};
std::string encode_search_results(const SearchResultsView& results);

// The answer to `rooms`: a page of the directory of open rooms.
struct RoomSummary {
  std::string room;
  uint64_t users = 0;
  uint64_t online = 0;
};
struct RoomsView {
  std::span<const RoomSummary> rooms;
  std::string_view next;  // empty: the last page
  uint64_t total = 0;
};
std::string encode_rooms(const RoomsView& page);
// `ref` is the `type` of the request that failed, `id` its client id; empty
// ref, id and room are left out of the event.
// `reason`: a machine-readable detail some codes carry (authentication).
std::string encode_error(ErrorCode code, std::string_view message, std::string_view ref = {},
                         std::string_view id = {}, std::string_view room = {},
                         std::string_view reason = {});
// --auth jwt: the connection's token runs out `in` seconds from now, at
// `expires_at` (Unix seconds); and the answer to a successful `refresh`.
std::string encode_token_expiring(int64_t expires_at, int64_t in);
std::string encode_refreshed(int64_t expires_at);
// The connection was removed from `room` by the backend API (docs/API.md,
// DELETE /api/v1/rooms/{room}/members/{user}): {"type": "kicked", "room"}.
std::string encode_kicked(std::string_view room);
std::string encode_error(const ParseError& error);

}  // namespace parley::chat
