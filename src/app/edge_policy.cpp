#include "app/edge_policy.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "app/client_address.h"
#include "app/connection.h"
#include "app/metrics.h"
#include "app/server_context.h"
#include "http/response.h"

namespace parley::app {
namespace {

// A refusal that ends the connection, with Retry-After when waiting helps.
std::string refusal(int status, std::string_view message, double retry_after = 0) {
  http::Response r = http::make_error_response(status, message);
  if (retry_after > 0) {
    r.headers.push_back({"Retry-After", std::to_string(static_cast<long>(std::ceil(retry_after)))});
  }
  return http::serialize(r);
}

// Time for a full server to shed connections, for a full address to close some.
constexpr double kRetryServerFull = 5;
constexpr double kRetryAddressFull = 10;

bool bearer_matches(const http::Request& request, const std::string& token) {
  std::optional<std::string_view> auth = request.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!auth || auth->size() != kBearer.size() + token.size() ||
      !http::iequals(auth->substr(0, kBearer.size()), kBearer)) {
    return false;
  }
  // Constant time: the comparison must not tell how much of a guess was right.
  return CRYPTO_memcmp(auth->data() + kBearer.size(), token.data(), token.size()) == 0;
}

// Behind a trusted proxy: the client's address and its place among its
// address's connections, taken now that the headers name it.
std::optional<std::string> hold_proxied_client(Connection& conn, const http::Request& request) {
  LoopContext& ctx = conn.ctx();
  Peer& peer = conn.peer();
  peer.client = client_address(peer.address, request, ctx.config.trusted_proxies);
  if (ctx.services.addresses == nullptr || peer.slot) return std::nullopt;
  Result<AddressTable::Slot> slot = ctx.services.addresses->hold(peer.client);
  if (!slot) {
    ctx.stats.refused_address_full.add();
    spdlog::debug("{} (via {}): refused, {}", peer.client.to_string(), peer.address.to_string(),
                  slot.error().message);
    return refusal(429, "too many connections from your address", kRetryAddressFull);
  }
  peer.slot = std::move(slot).value();
  return std::nullopt;
}

}  // namespace

Admission admit(LoopContext& ctx, const net::IpAddress& address, bool metrics_listener) {
  Admission a;
  a.peer.address = a.peer.client = address;
  a.peer.metrics_only = metrics_listener;
  a.peer.trusted_proxy = is_trusted_proxy(address, ctx.config.trusted_proxies);
  AddressTable* table = ctx.services.addresses;
  if (metrics_listener || table == nullptr) return a;
  Result<AddressTable::Ticket> ticket = table->admit();
  if (!ticket) {
    ctx.stats.refused_server_full.add();
    spdlog::debug("{}: refused, {}", address.to_string(), ticket.error().message);
    a.refusal = refusal(503, "the server is at its connection limit", kRetryServerFull);
    return a;
  }
  a.peer.ticket = std::move(ticket).value();
  if (a.peer.trusted_proxy) return a;
  Result<AddressTable::Slot> slot = table->hold(address);
  if (!slot) {
    ctx.stats.refused_address_full.add();
    spdlog::debug("{}: refused, {}", address.to_string(), slot.error().message);
    a.refusal = refusal(429, "too many connections from your address", kRetryAddressFull);
    a.peer.ticket = {};  // a refused connection holds no place
    return a;
  }
  a.peer.slot = std::move(slot).value();
  return a;
}

std::optional<std::string> check_upgrade(Connection& conn, const http::Request& request) {
  LoopContext& ctx = conn.ctx();
  Peer& peer = conn.peer();
  if (peer.trusted_proxy) {
    if (auto refused = hold_proxied_client(conn, request)) return refused;
  }
  if (peer.slot) {
    auto now = SharedRate::Clock::now();
    if (!peer.slot->take_handshake(now)) {
      ctx.stats.refused_handshake_rate.add();
      spdlog::debug("{}: handshake refused, over --handshake-rate-per-ip",
                    peer.slot->key().to_string());
      return refusal(429, "too many WebSocket handshakes from your address",
                     std::max(1.0, peer.slot->handshake_wait(now)));
    }
  }
  std::optional<std::string_view> origin = request.header("Origin");
  if (!ctx.config.allowed_origins.allows(origin, request.header("Host"))) {
    ctx.stats.refused_origin.add();
    spdlog::debug("{}: handshake refused, origin '{}' not allowed", peer.client.to_string(),
                  *origin);
    return refusal(403, "this page's origin may not open a chat connection (--allowed-origins)");
  }
  return std::nullopt;
}

std::string metrics_answer(Connection& conn, const http::Request& request, bool head, bool close) {
  LoopContext& ctx = conn.ctx();
  const std::string& token = ctx.config.metrics_token;
  if (token.empty() && !conn.peer().metrics_only) {
    ctx.stats.refused_metrics.add();
    return http::serialize(
        http::make_error_response(
            404, "/metrics is not served here (see --metrics-address, --metrics-token-file)",
            !close),
        head);
  }
  if (!token.empty() && !bearer_matches(request, token)) {
    ctx.stats.refused_metrics.add();
    http::Response r = http::make_error_response(401, "/metrics needs its bearer token", !close);
    r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"parley metrics\""});
    return http::serialize(r, head);
  }
  return metrics_response(ctx.services, head, close);
}

bool served_on_metrics_listener(std::string_view path) {
  return path == "/metrics" || path == "/healthz";
}

}  // namespace parley::app
