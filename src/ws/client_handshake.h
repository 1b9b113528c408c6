// Client side of the opening handshake (RFC 6455 §4.1), for the load generator
// and tests: build the upgrade request, then check the server's 101 response.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ws/deflate_negotiation.h"

namespace parley::ws {

// A fresh Sec-WebSocket-Key: base64 of 16 random bytes (OpenSSL RAND_bytes).
std::string make_random_key();

// The complete GET request head (ends with an empty line). `protocols`, when
// not empty, is offered as one Sec-WebSocket-Protocol list. With
// `offer_deflate`, permessage-deflate is offered as browsers do
// (`permessage-deflate; client_max_window_bits`).
std::string make_client_handshake(std::string_view host, std::string_view path,
                                  std::string_view key, std::span<const std::string> protocols,
                                  bool offer_deflate = false);

struct ServerHandshakeCheck {
  bool ok = false;
  std::string subprotocol;               // the one the server chose, empty when none
  std::optional<DeflateParams> deflate;  // permessage-deflate, when the server accepted it
  std::string error;                     // why, when !ok
};

// Checks the server's response head (status line and headers, up to the empty
// line; the caller cuts the stream at the first "\r\n\r\n"): status 101,
// Upgrade: websocket, Connection: upgrade, the Sec-WebSocket-Accept matching
// `key`, a subprotocol only if it is one of `offered_protocols`, and no
// extension but permessage-deflate when `offered_deflate`, answered as RFC
// 7692 §7.1 allows (each parameter at most once, window bits 8-15).
ServerHandshakeCheck check_server_handshake(std::string_view response_head, std::string_view key,
                                            std::span<const std::string> offered_protocols,
                                            bool offered_deflate = false);

// The parameters of a server's permessage-deflate answer (one
// Sec-WebSocket-Extensions value), or Errc::Invalid saying what is wrong.
Result<DeflateParams> read_deflate_answer(std::string_view header);

}  // namespace parley::ws
