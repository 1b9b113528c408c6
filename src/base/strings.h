// Small text helpers shared by the protocol layers (HTTP, WebSocket handshake).
#pragma once

#include <string_view>

namespace parley {

// RFC 9110 §5.6.3 optional whitespace: space and horizontal tab.
constexpr bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

// `s` without leading and trailing optional whitespace.
constexpr std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

}  // namespace parley
