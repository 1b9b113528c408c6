// The edge's decisions about one connection (docs/SECURITY.md: "Connection
// caps", "Rates per address", "Trusted proxies", "Allowed origins", "Metrics
// protection"), in one place so the HTTP phase makes a single call at each
// step: at accept (admit), at a WebSocket handshake (check_upgrade), and for
// GET /metrics (metrics_answer). Each refusal is the complete HTTP answer.
#pragma once

#include <optional>
#include <string>

#include "app/peer.h"
#include "http/request.h"
#include "net/ip_address.h"

namespace parley::app {

class Connection;
struct LoopContext;

struct Admission {
  Peer peer;
  std::string refusal;  // empty: admitted; else 503 (server full) or 429 (address full)
};

// A new connection from `address`: its place among the server's connections
// and, unless it comes from a trusted proxy (its clients are counted at the
// upgrade), among its address's. Connections on the metrics listener are not
// counted.
Admission admit(LoopContext& ctx, const net::IpAddress& address, bool metrics_listener);

// A WebSocket handshake on `conn`: the client's address (from a trusted
// proxy's headers), its place among its address's connections (proxied
// clients), its handshake rate, and the origin policy. The refusal to send
// (429, 403), or nullopt to go on.
std::optional<std::string> check_upgrade(Connection& conn, const http::Request& request);

// The answer to GET/HEAD /metrics on `conn`: the metrics when the listener
// and the token allow, 401 without the right token, 404 on the public
// listener when no token is configured.
std::string metrics_answer(Connection& conn, const http::Request& request, bool head, bool close);

// Whether `path` is served on the metrics listener (/metrics, /healthz).
bool served_on_metrics_listener(std::string_view path);

}  // namespace parley::app
