#include "app/routes.h"

#include "chat/room.h"

namespace parley::app {

std::optional<WebSocketRoute> websocket_route(std::string_view path, bool echo_enabled) {
  if (path == "/wss" || path == "/ws") return WebSocketRoute{true, "lobby"};
  if (path.starts_with("/ws/") && chat::is_valid_room_name(path.substr(4))) {
    return WebSocketRoute{true, std::string(path.substr(4))};
  }
  if (path == "/echo" && echo_enabled) return WebSocketRoute{false, {}};
  return std::nullopt;
}

}  // namespace parley::app
