// The parley.v1 JSON protocol: what both directions share.
//
// A WebSocket client that offers the subprotocol "parley.v1" exchanges one JSON
// object per text frame (docs/PROTOCOL.md is the specification). This header
// holds the vocabulary common to both directions: the subprotocol name, the
// version number, and the error codes. Parsing what clients send is in
// chat/client_message.h; encoding what the server sends is in chat/server_event.h.
#pragma once

#include <cstdint>
#include <string_view>

namespace parley::chat {

// The subprotocol name carries the major version: an incompatible protocol
// would be "parley.v2", offered side by side, so old clients keep working.
inline constexpr std::string_view kJsonSubprotocol = "parley.v1";
// Sent as `protocol` in `welcome`.
inline constexpr int kJsonProtocolVersion = 1;

// The `code` of an `error` event. The strings (error_code_name) are part of the
// protocol: clients switch on them, so they never change once published.
enum class ErrorCode {
  BadJson,             // not JSON, or nested deeper than the parser allows
  BadMessage,          // not an object, or a field missing / of the wrong type / out of range
  UnknownType,         // `type` names no client message
  HelloRequired,       // anything but hello before hello
  HelloRepeated,       // a second hello on the same connection
  NameInvalid,         // see is_valid_name
  RoomInvalid,         // see is_valid_room_name
  NotInRoom,           // send/typing/leave/history in a room not joined
  TooManyRooms,        // join beyond limits.max_rooms
  RoomLimit,           // join of a room that is not open while the server is at its room limit
  Unauthorized,        // --auth jwt: no token, or a token refused for anything but expiry
  TokenExpired,        // --auth jwt: a token past exp + leeway
  Forbidden,           // --auth jwt: a room the token does not allow, a rename of a token's name
  TextEmpty,           // send with text ""
  TextTooLong,         // send with text over limits.max_text_bytes
  IdInvalid,           // send with a client id that is not 1-64 printable ASCII characters
  RateLimited,         // the connection's token bucket is empty
  HistoryUnavailable,  // the history store cannot answer
  Internal,            // the server failed; the request may be retried
  Unavailable,         // the message engine (Redis) cannot be reached now; retry later
  NotFound,            // edit/delete/react/unreact target or reply_to: no such message in the room
  NotAuthor,           // edit/delete of another user's message
  Deleted,             // edit/react/unreact/delete of a deleted message
  LimitReached,        // react past the reactions a message may hold
  EmojiInvalid,        // react/unreact with an emoji breaking the emoji rule
  FileInvalid,         // send with a `file` that is no file id, or a name breaking the rule
  FileNotFound,        // send with a file this user never uploaded (or that is gone)
  Unsupported,         // a request this deployment's engine does not serve (docs/SCALING.md)
};

// Close codes of the application (RFC 6455 §7.4.2 leaves 4000-4999 to it).
inline constexpr uint16_t kCloseUnauthorized = 4001;  // no token, or a refused one
inline constexpr uint16_t kCloseForbidden = 4003;     // a room the token does not allow
inline constexpr uint16_t kCloseTokenExpired = 4004;  // the token expired without a refresh
// A plain-text connection removed from its room by the backend API (JSON
// connections get a `kicked` event instead and stay connected).
inline constexpr uint16_t kCloseKicked = 4008;

// "bad_json", "bad_message", ... (snake_case of the enumerator).
std::string_view error_code_name(ErrorCode code);

}  // namespace parley::chat
