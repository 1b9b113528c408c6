// Small text helpers shared by the layers (HTTP, WebSocket handshake, chat, store).
#pragma once

#include <cstddef>
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

// The value of a hexadecimal digit, or -1 if `c` is not one (percent-decoding).
constexpr int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The first `max` code points of valid UTF-8 `text` (all of it if shorter):
// a quote's excerpt, cut on a character boundary.
constexpr std::string_view first_code_points(std::string_view text, std::size_t max) {
  std::size_t at = 0;
  for (std::size_t n = 0; at < text.size(); ++n) {
    if (n == max) return text.substr(0, at);
    ++at;  // past the lead byte, then its continuation bytes
    while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xc0) == 0x80) ++at;
  }
  return text;
}

}  // namespace parley
