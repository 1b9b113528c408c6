// The endpoints of the backend API (docs/API.md) and their parameters, from
// a request's method, path and query. Pure: unit-tested without a server.
//
//   GET    /api/v1/rooms                          ?q=&order=&after=&limit=
//   POST   /api/v1/rooms/{room}/messages          (body: chat/api_codec.h)
//   GET    /api/v1/rooms/{room}/messages          ?before= | ?after=, &limit=
//   GET    /api/v1/rooms/{room}/members           ?after=&limit=
//   DELETE /api/v1/rooms/{room}/members/{user}
//
// {room} is percent-decoded and made NFC, then checked with the room rules
// (chat::room_from_path_segment); {user} is percent-decoded and must be 1-256
// bytes of UTF-8. Query parameters are those listed, each at most once:
// anything else is a 400, so a typo never silently changes a page.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"
#include "chat/client_message.h"
#include "chat/history.h"

namespace parley::app {

struct ApiTarget {
  enum class Endpoint { ListRooms, PostMessage, GetMessages, ListMembers, KickMember };
  Endpoint endpoint = Endpoint::ListRooms;
  std::string room;
  std::string user;
  chat::PageQuery page{};      // GetMessages
  chat::RoomsRequest rooms{};  // ListRooms
  std::string after;           // ListMembers: the `next` of the previous page
  std::size_t limit = 0;       // ListMembers
};

// Whether `path` is the API's (everything under /api/).
inline bool is_api_path(std::string_view path) {
  return path == "/api" || path.starts_with("/api/");
}

// The methods the endpoint at `path` allows ("GET, POST"), or "" when
// `path` names no endpoint.
std::string_view api_allowed_methods(std::string_view path);

// The endpoint and its parameters, or an Error from chat::api_error:
// NotFound, MethodNotAllowed, RoomInvalid, UserInvalid or BadRequest.
Result<ApiTarget> parse_api_target(std::string_view method, std::string_view path,
                                   std::string_view query);

}  // namespace parley::app
