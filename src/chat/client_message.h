// Parsing and validating what a parley.v1 client sends (docs/PROTOCOL.md).
//
// parse_client_message turns one text frame into one typed message, or into the
// error to send back. It checks everything that needs no server state: JSON
// syntax, field types, and the rules for names, rooms, client ids, text and
// history ranges. What needs state (hello first, room membership, rate limits)
// is the server's job. Pure function: no I/O, never throws, fuzzed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.h"
#include "chat/json_protocol.h"

namespace parley::chat {

// Message ids, `since`, `before` and `after` stay at or below 2^53 so that a
// JavaScript client holds them exactly in a Number.
inline constexpr uint64_t kMaxSafeInteger = uint64_t{1} << 53;
inline constexpr uint32_t kDefaultHistoryLimit = 50;
inline constexpr uint32_t kDefaultMembersLimit = 100;
inline constexpr uint32_t kMaxMembersLimit = 500;
inline constexpr std::size_t kMaxMembersCursorBytes = 256;
inline constexpr std::size_t kMaxAuthTokenBytes = 8192;
inline constexpr std::size_t kMaxNameCodePoints = 32;
inline constexpr std::size_t kMaxClientIdBytes = 64;
inline constexpr uint32_t kDefaultSearchLimit = 20;
inline constexpr uint32_t kMaxSearchLimit = 50;
inline constexpr std::size_t kMaxSearchCodePoints = 100;
inline constexpr uint32_t kDefaultRoomsLimit = 50;
inline constexpr uint32_t kMaxRoomsLimit = 100;
inline constexpr std::size_t kMaxRoomsQueryCodePoints = 64;
inline constexpr std::size_t kMaxRoomsCursorBytes = 300;

// Each message type knows its `type` string, so errors about it can name it (`ref`).
struct Hello {
  static constexpr std::string_view kType = "hello";
  std::string name;    // normalized (see normalize_name) and valid
  std::string resume;  // "" when absent: start a new session
  std::string token;   // a JSON Web Token (--auth jwt); "" when absent
};

// A fresh token for the connection (--auth jwt, docs/PROTOCOL.md "Authentication").
struct Refresh {
  static constexpr std::string_view kType = "refresh";
  std::string token;
};

struct Join {
  static constexpr std::string_view kType = "join";
  std::string room;
  std::optional<uint64_t> since;  // the last msg_id the client already has in this room
};

struct Leave {
  static constexpr std::string_view kType = "leave";
  std::string room;
};

struct Send {
  static constexpr std::string_view kType = "send";
  std::string room;
  std::string id;         // client-chosen; a resend with the same id is stored once
  std::string text;       // at most ParseLimits::max_text_bytes; empty only with a file
  uint64_t reply_to = 0;  // the msg_id of the message it answers; 0: not a reply
  std::string file;       // an uploaded file's id (chat/attachment.h); "" for none
  std::string file_name;  // its name, valid per check_file_name, when `file` is set
};

// Changes of an earlier message (`target`) of a room: each has a client id
// (one sequence with send's) and is acknowledged once stored.
struct Edit {
  static constexpr std::string_view kType = "edit";
  std::string room;
  std::string id;
  uint64_t target = 0;
  std::string text;  // the new text, as Send::text
};

struct Delete {
  static constexpr std::string_view kType = "delete";
  std::string room;
  std::string id;
  uint64_t target = 0;
};

// A reaction: `emoji` passes check_emoji (chat/emoji.h).
struct React {
  static constexpr std::string_view kType = "react";
  std::string room;
  std::string id;
  uint64_t target = 0;
  std::string emoji;
};

struct Unreact {
  static constexpr std::string_view kType = "unreact";
  std::string room;
  std::string id;
  uint64_t target = 0;
  std::string emoji;
};

struct Typing {
  static constexpr std::string_view kType = "typing";
  std::string room;
};

// A page of a room's history next to `anchor`: `before` asks for the
// `limit` newest messages with msg_id < anchor, `after` for the `limit`
// oldest entries with msg_id > anchor, `around` for the messages around it.
// Whichever, the page is oldest first.
struct HistoryRequest {
  static constexpr std::string_view kType = "history";
  enum class Direction { Before, After, Around };
  std::string room;
  Direction direction = Direction::Before;
  uint64_t anchor = 0;
  uint32_t limit = kDefaultHistoryLimit;
};

struct Rename {
  static constexpr std::string_view kType = "rename";
  std::string name;  // normalized and valid
};

// A page of a room's member list, by name: the first `limit` users whose
// name sorts (bytewise) after `after` ("" = from the start).
struct MembersRequest {
  static constexpr std::string_view kType = "members";
  std::string room;
  std::string after;
  uint32_t limit = kDefaultMembersLimit;
};

// Messages of a room whose current text contains `query` (trimmed, 1-100
// code points), newest first, below `before` (0: from the newest).
struct SearchRequest {
  static constexpr std::string_view kType = "search";
  std::string room;
  std::string query;
  uint64_t before = 0;
  uint32_t limit = kDefaultSearchLimit;
};

// A page of the directory of open rooms.
struct RoomsRequest {
  static constexpr std::string_view kType = "rooms";
  enum class Order { Users, Name };
  std::string query;  // a prefix of the name, matched ignoring case; "" = all
  Order order = Order::Users;
  std::string after;  // the `next` cursor of the previous page; "" = from the start
  uint32_t limit = kDefaultRoomsLimit;
};

using ClientMessage =
    std::variant<Hello, Join, Leave, Send, Typing, HistoryRequest, Rename, MembersRequest, Refresh,
                 Edit, Delete, React, Unreact, SearchRequest, RoomsRequest>;

// The `type` string of a parsed message, for `ref` in errors the server raises about it.
std::string_view type_name(const ClientMessage& message);

// Why a frame was rejected, with what the client needs to match the error to
// its request. ref/id/room are only filled once known and valid (an invalid
// room is not echoed back), so they are safe to put in an `error` event as is.
struct ParseError {
  ErrorCode code = ErrorCode::BadMessage;
  std::string message;  // for humans; clients switch on `code`
  std::string ref;      // the request's `type`, "" when there is none
  std::string id;       // a send's client id
  std::string room;
};

struct ParseLimits {
  std::size_t max_text_bytes = 4000;  // of the text after JSON unescaping, in UTF-8 bytes
  uint32_t history_page_max = 200;    // the largest `limit` accepted
  uint32_t search_page_max = kMaxSearchLimit;
};

using ParseResult = std::variant<ClientMessage, ParseError>;

// Parses one text frame. `json` needs no padding and may be any bytes.
ParseResult parse_client_message(std::string_view json, const ParseLimits& limits);

// Display names (docs/PROTOCOL.md "Names"). The name a client sends is made
// NFC, leading and trailing white space (Unicode White_Space) is removed, and
// the result must be 1-32 code points with at least one letter, digit,
// punctuation or symbol, and none of: control characters; line separators;
// format characters (zero-width space, word joiner, BOM, soft hyphen, bidi
// embeddings, overrides and isolates, tags), except a zero-width joiner inside
// an emoji sequence or after a virama and a zero-width non-joiner after a
// virama; other invisible (default-ignorable) characters, except variation
// selectors after a visible character; private-use, unassigned and
// noncharacter code points; a combining mark first or more than 4 in a row.
// Everything else is allowed, `<`, `>`, `&`, quotes and emoji included: names
// are data, and clients render them as text. Confusables (Cyrillic `а` for
// Latin `a`) are out of scope: names need not be unique, `user` tells apart.
//
// Returns the name to store, or Errc::Invalid saying which rule the name
// breaks (the message of a `name_invalid` error).
Result<std::string> normalize_name(std::string_view raw);

// True when `name` is what normalize_name returns for it (valid and normalized).
bool is_valid_name(std::string_view name);

// Client message ids: 1-64 printable ASCII characters (0x20-0x7E).
bool is_valid_client_id(std::string_view id);

// Room names follow is_valid_room_name in chat/room.h.

}  // namespace parley::chat
