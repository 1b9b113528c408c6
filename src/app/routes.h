// The WebSocket endpoints and what each one serves:
//   /wss, /ws         the lobby (the seed's endpoint; JSON clients join by message)
//   /ws/<room>        that room (a valid room name)
//   /echo             echo, for conformance tests, only with --echo
// A chat endpoint speaks parley.v1 when the client offers that subprotocol,
// the seed's plain text otherwise.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley::app {

enum class WebSocketService { PlainChat, JsonChat, Echo };

struct WebSocketRoute {
  bool chat = false;  // a chat endpoint (else echo)
  std::string room;   // for chat: the room a plain-text client is in
};

// The endpoint at `path`, or nullopt (404).
std::optional<WebSocketRoute> websocket_route(std::string_view path, bool echo_enabled);

}  // namespace parley::app
