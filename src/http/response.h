// Building HTTP/1.1 responses as the bytes to send (RFC 9110 §15, RFC 9112 §4, §6).
#pragma once

#include <cstddef>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"

namespace parley::http {

struct Response {
  int status = 200;
  // Content-Length and Transfer-Encoding do not belong here: serialize() frames
  // the body itself and drops them, so a response can never carry two lengths.
  std::vector<Header> headers;
  std::string body;
};

// The RFC 9110 reason phrase ("Not Found"), or "" for a status it does not define.
std::string_view reason_phrase(int status);

// Whether a response with this status has no body and no Content-Length
// (1xx, 204, 304; RFC 9110 §8.6, §15.4.5).
bool status_has_no_body(int status);

// Appends the status line, a Date (unless `headers` has one), `headers`, a
// Content-Length of `body_size` unless the status has no body, and the blank
// line. For responses whose body is not held in a Response (static files).
// Names and values must not contain CR or LF.
void append_head(std::string& out, int status, std::span<const Header> headers,
                 std::size_t body_size);

// The whole response. With `head_only` (a reply to HEAD) the body is left out
// but Content-Length still gives its size, as for GET (RFC 9110 §9.3.2).
std::string serialize(const Response& response, bool head_only = false);

// A text/plain error whose body reads "<status> <reason>: <message>\n", with
// X-Content-Type-Options: nosniff and, unless `keep_alive`, Connection: close.
// Returned unserialized so a caller can add headers (Allow for a 405).
Response make_error_response(int status, std::string_view message, bool keep_alive = false);

// serialize(make_error_response(...)).
std::string error_response(int status, std::string_view message, bool keep_alive = false);

// IMF-fixdate (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::time_t time);

}  // namespace parley::http
