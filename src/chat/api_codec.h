// The backend HTTP API's JSON (docs/API.md): the request bodies it reads and
// the bodies it answers. Pure functions, no I/O, never throw; unit-tested.
// Message objects are the parley.v1 protocol's (chat/server_event.h), so a
// backend and a WebSocket client read the same shape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "chat/api_call.h"
#include "chat/message.h"
#include "chat/room_directory.h"
#include "chat/server_event.h"

namespace parley::chat {

// The body of POST /api/v1/rooms/{room}/messages:
//   {"text": "...", "id": "client id", "name": "optional sender name",
//    "reply_to": optional msg_id}
// `text`, `id` and `reply_to` follow the rules of the protocol's `send`
// (1..max_text_bytes bytes, 1-64 printable ASCII, 1..2^53), `name` those of
// names (normalised). Unknown fields are ignored, as in the protocol. On
// failure an Error from api_error (BadJson, BadRequest, TextEmpty, ...).
struct ApiPostBody {
  std::string text;
  std::string client_id;
  std::string name;  // "" when not given
  uint64_t reply_to = 0;
};
Result<ApiPostBody> parse_api_post(std::string_view body, std::size_t max_text_bytes);

// 201/200 of a POST: {"room", "id", "msg_id", "ts", "duplicate"}.
std::string encode_api_posted(std::string_view room, std::string_view client_id, uint64_t msg_id,
                              int64_t ts_ms, bool duplicate);

// A page of history: {"room", "messages": [message objects, oldest first],
// "truncated"}. `truncated`: more entries exist beyond the page in the
// direction asked (older for newest/before, newer for after).
std::string encode_api_messages(std::string_view room, std::span<const Message> messages,
                                bool truncated);

// A page of members: {"room", "members": [{user, name}], "next"?, "online", "users"}.
std::string encode_api_members(const MembersView& page);

// A page of the directory: {"rooms": [{room, users, online}], "next"?, "total"}.
std::string encode_api_rooms(const RoomsPage& page);

// The answer of a DELETE: {"room", "user", "connections": removed}.
std::string encode_api_kicked(std::string_view room, std::string_view user,
                              std::size_t connections);

// {"error": {"code": "...", "message": "..."}}.
std::string encode_api_error(ApiErrorCode code, std::string_view message);

}  // namespace parley::chat
