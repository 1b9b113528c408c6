// Incremental parser for an HTTP/1.1 request head (RFC 9112 §2–§7), sans-I/O.
//
// Bytes go in through feed(), in pieces of any size; the parser keeps only the
// Request being built, never the raw bytes, so a caller may discard what it fed.
// It stops exactly after the blank line that ends the head and reports how many
// bytes of the last piece it took: whatever follows (a body, a pipelined request,
// WebSocket frames) stays with the caller.
//
// Policy, stricter than the RFC where the RFC allows it, because a head that two
// parsers could split differently is how request smuggling starts:
// - Lines end in CRLF only; a bare LF or bare CR is a 400 (§2.2 permits either).
// - Empty lines before the request line are skipped (§2.2), counted in the limit.
// - Request line is exactly `method SP target SP HTTP/d.d`; one space each.
// - Target: origin-form ("/path?q"), "*" for OPTIONS, or absolute-form with an
//   http/https scheme (§3.2.2 requires servers to accept it); anything else,
//   including authority-form, is a 400. Bytes must be visible ASCII.
// - HTTP/1.0 and 1.1 are accepted; another major version is a 505.
// - Field names are tokens followed directly by ':' (§5.1); obs-fold and any
//   control character other than HTAB in a value are a 400 (§5.2, §5.5).
// - HTTP/1.1 needs exactly one Host; more than one is a 400 for any version (§3.2).
// - Content-Length must be digits; repeats must agree (§6.3). Transfer-Encoding
//   with Content-Length, in HTTP/1.0, or not ending in a single "chunked" is a
//   400; a coding other than chunked is a 501 (§6.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "http/request.h"

namespace parley::http {

class RequestParser {
 public:
  struct Limits {
    std::size_t max_head_bytes = 8192;  // whole head, leading empty lines included
    std::size_t max_headers = 64;
  };

  enum class Status { NeedMore, Done, Error };

  RequestParser() = default;
  explicit RequestParser(Limits limits) : limits_(limits) {}

  // Parses as much of `data` as belongs to the head. `consumed` is set to the
  // bytes of `data` taken: all of them on NeedMore, up to and including the
  // final CRLF on Done, up to and including the offending byte on Error. Once
  // Done or Error, further calls take nothing and return the same status until
  // reset().
  Status feed(std::string_view data, std::size_t& consumed);

  // The request; complete only after Done.
  const Request& request() const { return request_; }
  // Moves the request out; call reset() before parsing the next one.
  Request take_request() { return std::move(request_); }

  // After Error: 400, 431 (head or header count over the limit), 501 (unknown
  // transfer coding) or 505 (HTTP major version not 1). 0 otherwise.
  int error_status() const { return error_status_; }
  // After Error: a short human-readable cause, e.g. "invalid character in field name".
  std::string_view error_reason() const { return error_reason_; }

  // After Done: the declared body size (0 without Content-Length), and whether
  // the body is chunked instead. This parser does not read bodies.
  std::uint64_t content_length() const { return content_length_; }
  bool chunked() const { return chunked_; }

  // Forgets everything but the limits, ready for the next request.
  void reset();

 private:
  enum class State {
    kLineStart,  // before the request line; empty lines are skipped here
    kLeadingLf,  // after a CR of an empty line before the request line
    kMethod,
    kTarget,
    kVersion,
    kRequestLineLf,
    kFieldStart,  // at the start of a field line, or of the final empty line
    kFieldName,
    kFieldValue,
    kFieldLf,
    kFinalLf,
    kDone,
    kError,
  };

  // Parses `data`, which fits within the head limit; returns bytes taken.
  std::size_t parse(std::string_view data);
  // One step of the state machine at data[i]; returns where the next starts.
  std::size_t step(std::string_view data, std::size_t i);
  std::size_t line_start(char c, std::size_t i);
  std::size_t expect_lf(char c, std::size_t i, State next);
  std::size_t method(std::string_view data, std::size_t i);
  std::size_t target(std::string_view data, std::size_t i);
  std::size_t version(std::string_view data, std::size_t i);
  std::size_t field_start(char c, std::size_t i);
  std::size_t field_name(std::string_view data, std::size_t i);
  std::size_t field_value(std::string_view data, std::size_t i);
  bool finish_target();
  bool finish_version();
  bool finish_head();
  bool check_host(const Header& host);
  bool check_content_length(std::string_view value, bool& seen);
  bool check_framing(bool has_content_length, const std::string* transfer_encoding);
  // Records an error and returns false, so callers can write `return fail(...)`.
  bool fail(int status, std::string_view reason);

  Limits limits_;
  State state_ = State::kLineStart;
  Request request_;
  std::string version_;  // "HTTP/1.1" as read, checked at the end of the line
  std::size_t head_bytes_ = 0;
  std::uint64_t content_length_ = 0;
  bool chunked_ = false;
  int error_status_ = 0;
  std::string_view error_reason_;
};

}  // namespace parley::http
