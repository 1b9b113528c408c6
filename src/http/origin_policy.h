// Which web pages may open a WebSocket to us (docs/SECURITY.md, "Allowed
// origins"). A browser sends `Origin` with every WebSocket handshake and lets
// any page open one, to any site, with the visitor's cookies and network
// position: without a check, any page on the web can chat as its visitor
// (cross-site WebSocket hijacking). Non-browser clients send no Origin and
// prove nothing by sending one, so only browsers are subject to the policy.
//
// A handshake is allowed when:
// - it has no Origin header (a non-browser client); or
// - the Origin names the same host as the Host header (our own page): host
//   names compared case-insensitively, scheme ignored (TLS may end at a
//   proxy), ports compared only when Host carries one (a proxy configured as
//   the seed's, `proxy_set_header Host $host`, drops the port that the
//   browser's Origin keeps); or
// - the Origin is in the configured list: "*" (any), "null" (pages opened
//   from a file, sandboxed frames), or an exact origin "scheme://host[:port]"
//   (the default port of http/https/ws/wss may be left out).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace parley::http {

// An origin's parts, normalised: lower-case scheme and host (IPv6 in
// brackets), and the port, explicit or the scheme's default (0 when the
// scheme has none and none was given).
struct OriginParts {
  std::string scheme;
  std::string host;
  uint16_t port = 0;

  // "scheme://host:port", the form the list is compared in.
  std::string to_string() const;
};

// RFC 6454 §7 serialised origin: "scheme://host[:port]", nothing after.
// Errc::Invalid otherwise ("null" included: it names no host).
Result<OriginParts> parse_origin(std::string_view origin);

// A Host header's host (lower-case) and port (nullopt when absent).
struct HostPort {
  std::string host;
  std::optional<uint16_t> port;
};
Result<HostPort> parse_host_header(std::string_view host);

class OriginPolicy {
 public:
  // Only the default rules (no Origin, or the same host).
  OriginPolicy() = default;
  // A comma-separated list as given to --allowed-origins; Errc::Invalid
  // names the first entry that is not "*", "null" or an origin.
  static Result<OriginPolicy> parse(std::string_view list);

  // `origin`, `host`: the request's Origin and Host headers, if present.
  bool allows(std::optional<std::string_view> origin, std::optional<std::string_view> host) const;

  bool allows_any() const { return any_; }

 private:
  bool listed(const OriginParts& parts) const;

  bool any_ = false;
  bool null_ = false;
  std::vector<std::string> origins_;  // normalised, OriginParts::to_string()
};

}  // namespace parley::http
