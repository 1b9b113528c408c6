#include "app/routes.h"

#include "chat/room.h"

namespace parley::app {

std::optional<WebSocketRoute> websocket_route(std::string_view path, bool echo_enabled) {
  if (path == "/wss" || path == "/ws") return WebSocketRoute{true, "lobby"};
  if (path.starts_with("/ws/")) {
    // Percent-decoded and NFC-normalised: /ws/caf%C3%A9 is the room "café".
    Result<std::string> room = chat::room_from_path_segment(path.substr(4));
    if (!room) return std::nullopt;
    return WebSocketRoute{true, *std::move(room)};
  }
  if (path == "/echo" && echo_enabled) return WebSocketRoute{false, {}};
  return std::nullopt;
}

}  // namespace parley::app
