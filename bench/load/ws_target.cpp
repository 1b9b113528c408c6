#include "load/ws_target.h"

#include <arpa/inet.h>

#include <charconv>

namespace parley::bench {

namespace {

// One ws:// URL: its endpoint, and its path in `path`.
std::variant<WsEndpoint, std::string> parse_one(std::string_view url, std::string& path) {
  constexpr std::string_view kScheme = "ws://";
  if (!url.starts_with(kScheme)) return "--url must start with ws:// (wss is not supported)";
  std::string_view rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  WsEndpoint t;
  path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));

  uint16_t port = 80;
  std::string_view host = authority;
  if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    std::string_view digits = authority.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || end != digits.data() + digits.size() || port == 0) {
      return "bad port in --url '" + std::string(url) + "'";
    }
  }
  std::string ip = host == "localhost" ? "127.0.0.1" : std::string(host);
  t.address.sin_family = AF_INET;
  t.address.sin_port = htons(port);
  if (inet_pton(AF_INET, ip.c_str(), &t.address.sin_addr) != 1) {
    return "--url host must be an IPv4 address or localhost, got '" + std::string(host) + "'";
  }
  t.host_header = std::string(authority);
  return t;
}

}  // namespace

std::variant<WsTarget, std::string> parse_ws_url(std::string_view url) {
  WsTarget target;
  target.url = std::string(url);
  std::string_view rest = url;
  while (true) {
    const auto comma = rest.find(',');
    std::string path;
    auto one = parse_one(rest.substr(0, comma), path);
    if (auto* error = std::get_if<std::string>(&one)) return *error;
    if (target.endpoints.empty()) {
      target.path = std::move(path);
    } else if (path != target.path) {
      return "every --url must have the same path ('" + target.path + "' and '" + path + "')";
    }
    target.endpoints.push_back(std::get<WsEndpoint>(std::move(one)));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return target;
}

in_addr source_address(std::size_t n, std::size_t source_ips) {
  in_addr a{};
  a.s_addr = htonl(0x7F000001u + static_cast<uint32_t>(n % source_ips));
  return a;
}

}  // namespace parley::bench
