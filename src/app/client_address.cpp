#include "app/client_address.h"

#include <string>
#include <string_view>

#include "base/strings.h"

namespace parley::app {
namespace {

// An X-Forwarded-For element: an address, possibly with a port
// ("192.0.2.7:51234", "[2001:db8::1]:51234"), as some proxies write them.
Result<net::IpAddress> parse_hop(std::string_view hop) {
  hop = trim_ows(hop);
  if (!hop.empty() && hop.front() == '[') {
    std::size_t close = hop.find(']');
    if (close != std::string_view::npos) hop = hop.substr(0, close + 1);
  } else if (hop.find(':') == hop.rfind(':') && hop.find(':') != std::string_view::npos) {
    hop = hop.substr(0, hop.find(':'));  // IPv4 with a port: exactly one colon
  }
  return net::IpAddress::parse(hop);
}

}  // namespace

bool is_trusted_proxy(const net::IpAddress& peer, std::span<const net::Cidr> trusted) {
  for (const net::Cidr& block : trusted) {
    if (block.contains(peer)) return true;
  }
  return false;
}

net::IpAddress client_address(const net::IpAddress& peer, const http::Request& request,
                              std::span<const net::Cidr> trusted) {
  if (!is_trusted_proxy(peer, trusted)) return peer;
  if (std::optional<std::string> forwarded = request.header_list("X-Forwarded-For")) {
    net::IpAddress client = peer;
    std::string_view rest = *forwarded;
    while (is_trusted_proxy(client, trusted) && !rest.empty()) {
      std::size_t comma = rest.rfind(',');
      std::string_view hop = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
      Result<net::IpAddress> address = parse_hop(hop);
      if (!address) break;
      client = *address;
    }
    return client;
  }
  if (std::optional<std::string_view> real = request.header("X-Real-IP")) {
    if (Result<net::IpAddress> address = parse_hop(*real)) return *address;
  }
  return peer;
}

}  // namespace parley::app
