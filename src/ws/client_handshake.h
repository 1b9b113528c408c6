// Client side of the opening handshake (RFC 6455 §4.1), for the load generator
// and tests: build the upgrade request, then check the server's 101 response.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace parley::ws {

// A fresh Sec-WebSocket-Key: base64 of 16 random bytes (OpenSSL RAND_bytes).
std::string make_random_key();

// The complete GET request head (ends with an empty line). `protocols`, when
// not empty, is offered as one Sec-WebSocket-Protocol list.
std::string make_client_handshake(std::string_view host, std::string_view path,
                                  std::string_view key, std::span<const std::string> protocols);

struct ServerHandshakeCheck {
  bool ok = false;
  std::string subprotocol;  // the one the server chose, empty when none
  std::string error;        // why, when !ok
};

// Checks the server's response head (status line and headers, up to the empty
// line; the caller cuts the stream at the first "\r\n\r\n"): status 101,
// Upgrade: websocket, Connection: upgrade, the Sec-WebSocket-Accept matching
// `key`, a subprotocol only if it is one of `offered_protocols`, and no
// extension (we offer none).
ServerHandshakeCheck check_server_handshake(std::string_view response_head, std::string_view key,
                                            std::span<const std::string> offered_protocols);

}  // namespace parley::ws
