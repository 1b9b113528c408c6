// Where the bench connects: ws:// URLs resolved once, up front, into IPv4
// socket addresses (the bench targets loopback; no DNS on the data path).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace parley::bench {

// One server (a node of a cluster, or the only one).
struct WsEndpoint {
  sockaddr_in address{};
  std::string host_header;  // "127.0.0.1:8080", sent as Host
};

struct WsTarget {
  std::vector<WsEndpoint> endpoints;  // at least one
  std::string path;                   // "/wss", the same on every endpoint
  std::string url;                    // as given, for the report

  // Client `id`'s server: round robin over the endpoints, so clients (and so
  // a broadcast's senders and receivers) are spread evenly over the nodes.
  const WsEndpoint& endpoint_for(uint32_t id) const { return endpoints[id % endpoints.size()]; }
};

// Accepts ws://HOST[:PORT][/PATH] where HOST is a dotted IPv4 address or
// "localhost", or several such URLs separated by commas (the nodes of a
// cluster: the same path on each). Returns a one-line error otherwise.
std::variant<WsTarget, std::string> parse_ws_url(std::string_view url);

// The address client number `n` binds to before connecting when the bench is
// told to spread over `source_ips` loopback addresses: 127.0.0.1 ..
// 127.0.0.<source_ips>, round robin. Each source address has its own ~28k
// ephemeral ports towards one server port, so N addresses lift the limit N-fold.
in_addr source_address(std::size_t n, std::size_t source_ips);

}  // namespace parley::bench
