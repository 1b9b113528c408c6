// Where the bench connects: a ws:// URL resolved once, up front, into an IPv4
// socket address (the bench targets loopback; no DNS on the data path).
#pragma once

#include <netinet/in.h>

#include <string>
#include <string_view>
#include <variant>

namespace parley::bench {

struct WsTarget {
  sockaddr_in address{};
  std::string host_header;  // "127.0.0.1:8080", sent as Host
  std::string path;         // "/wss"
  std::string url;          // as given, for the report
};

// Accepts ws://HOST[:PORT][/PATH] where HOST is a dotted IPv4 address or
// "localhost". Returns a one-line error otherwise.
std::variant<WsTarget, std::string> parse_ws_url(std::string_view url);

// The address client number `n` binds to before connecting when the bench is
// told to spread over `source_ips` loopback addresses: 127.0.0.1 ..
// 127.0.0.<source_ips>, round robin. Each source address has its own ~28k
// ephemeral ports towards one server port, so N addresses lift the limit N-fold.
in_addr source_address(std::size_t n, std::size_t source_ips);

}  // namespace parley::bench
