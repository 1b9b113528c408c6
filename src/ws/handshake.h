// Server side of the opening handshake (RFC 6455 §4.2).
//
// The HTTP layer parses the request head; is_websocket_upgrade() tells the
// server to hand it here instead of to the static file handler, and
// accept_handshake() checks it and produces the complete response to write:
// a 101 that switches the connection to WebSocket, or an error response after
// which the connection is closed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"
#include "ws/deflate_negotiation.h"

namespace parley::ws {

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
std::string compute_accept_key(std::string_view key);

// True when the Upgrade header lists the token "websocket" (case-insensitive):
// the client is attempting a WebSocket handshake, valid or not.
bool is_websocket_upgrade(const http::Request& request);

struct HandshakeOptions {
  // Subprotocols the server speaks, most preferred first.
  std::vector<std::string> subprotocols;
  // permessage-deflate (RFC 7692), the only extension we know: negotiated
  // from the client's Sec-WebSocket-Extensions when enabled (see
  // ws/deflate_negotiation.h); any other extension offered is ignored. A
  // declined or malformed offer never fails the handshake.
  DeflateOptions deflate{.enabled = false};
};

struct HandshakeResult {
  // 101 on success; otherwise the error status:
  //   405 method is not GET (with "Allow: GET");
  //   505 HTTP major version is not 1; 400 for HTTP/1.0 (WebSocket needs 1.1);
  //   400 no Host; Connection lacks "upgrade"; Sec-WebSocket-Key missing,
  //       repeated or not base64 of exactly 16 bytes;
  //   426 Upgrade lacks "websocket" (with "Upgrade: websocket"), or
  //       Sec-WebSocket-Version is missing or not 13 (with
  //       "Sec-WebSocket-Version: 13", RFC 6455 §4.4).
  // Checks run in that order, so the first failing rule decides.
  int status = 0;
  // Complete HTTP/1.1 response bytes to write. Error responses carry a short
  // text/plain body and "Connection: close": the server closes after writing.
  std::string response;
  std::string subprotocol;               // chosen subprotocol, empty when none
  std::optional<DeflateParams> deflate;  // agreed permessage-deflate, for Endpoint::enable_deflate
  std::optional<std::string> origin;     // the Origin header, for the caller's policy
  std::string error;                     // why, when status != 101

  bool ok() const { return status == 101; }
};

// Validates an upgrade request and builds the response. The chosen subprotocol
// is the first of options.subprotocols that the client offered (its
// Sec-WebSocket-Protocol lists, possibly in several headers); with no match
// the response has no Sec-WebSocket-Protocol header. An agreed
// permessage-deflate is answered in Sec-WebSocket-Extensions.
HandshakeResult accept_handshake(const http::Request& request, const HandshakeOptions& options);

}  // namespace parley::ws
