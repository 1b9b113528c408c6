// An HTTP/1.1 request head, as produced by http::RequestParser.
//
// Shared by the HTTP layer (static files, health) and the WebSocket handshake
// (src/ws/handshake.h), which both only read it. Owns its strings so it can
// outlive the read buffer it was parsed from.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::http {

struct Header {
  std::string name;   // as received (case preserved)
  std::string value;  // leading/trailing whitespace trimmed
};

struct Request {
  std::string method;  // "GET", "HEAD", ...
  std::string target;  // request-target as sent, e.g. "/ws/lobby?x=1"
  int version_major = 1;
  int version_minor = 1;
  std::vector<Header> headers;

  // First header with this name (case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const;

  // All values of a header joined with ", " (RFC 9110 §5.3 list semantics),
  // or nullopt when absent. Use for token lists such as Connection.
  std::optional<std::string> header_list(std::string_view name) const;

  // Path part of the target, without the query string. For an absolute-form
  // target ("http://host/a?b") this is the path after the authority ("/a").
  std::string_view path() const;

  // Whether the client expects the connection to stay open after the response
  // (RFC 9112 §9.3): HTTP/1.1 unless "Connection: close", HTTP/1.0 only with
  // "Connection: keep-alive".
  bool keep_alive() const;
};

// ASCII case-insensitive comparison (header names, tokens).
bool iequals(std::string_view a, std::string_view b);

// True when a comma-separated token list (e.g. "keep-alive, Upgrade")
// contains `token`, compared case-insensitively, ignoring optional whitespace.
bool list_has_token(std::string_view list, std::string_view token);

}  // namespace parley::http
