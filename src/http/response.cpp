#include "http/response.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <iterator>

namespace parley::http {
namespace {

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

void append_number(std::string& out, std::size_t n) {
  char digits[20];
  const auto result = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, result.ptr);
}

// Formatting a date costs a gmtime and a few appends; a busy loop sends many
// responses per second, so each thread keeps the text for the current second.
std::string_view current_http_date() {
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached_text;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_text = format_http_date(now);
    cached_second = now;
  }
  return cached_text;
}

}  // namespace

std::string_view reason_phrase(int status) {
  // RFC 9110 §15, sorted by status for the binary search.
  struct Reason {
    int status;
    std::string_view phrase;
  };
  static constexpr Reason kReasons[] = {
      {100, "Continue"},
      {101, "Switching Protocols"},
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {203, "Non-Authoritative Information"},
      {204, "No Content"},
      {205, "Reset Content"},
      {206, "Partial Content"},
      {300, "Multiple Choices"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {303, "See Other"},
      {304, "Not Modified"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {406, "Not Acceptable"},
      {408, "Request Timeout"},
      {409, "Conflict"},
      {410, "Gone"},
      {411, "Length Required"},
      {412, "Precondition Failed"},
      {413, "Content Too Large"},
      {414, "URI Too Long"},
      {415, "Unsupported Media Type"},
      {416, "Range Not Satisfiable"},
      {417, "Expectation Failed"},
      {421, "Misdirected Request"},
      {422, "Unprocessable Content"},
      {426, "Upgrade Required"},
      {428, "Precondition Required"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"},
      {507, "Insufficient Storage"},  // RFC 4918 §11.5: the uploads' disk budget
  };
  static_assert(
      std::is_sorted(std::begin(kReasons), std::end(kReasons),
                     [](const Reason& a, const Reason& b) { return a.status < b.status; }));
  const auto* it = std::lower_bound(std::begin(kReasons), std::end(kReasons), status,
                                    [](const Reason& r, int s) { return r.status < s; });
  return it != std::end(kReasons) && it->status == status ? it->phrase : std::string_view{};
}

bool status_has_no_body(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

void append_head(std::string& out, int status, std::span<const Header> headers,
                 std::size_t body_size) {
  assert(status >= 100 && status <= 999);
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::size_t>(status));
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\n");

  bool has_date = false;
  for (const Header& h : headers) has_date = has_date || iequals(h.name, "Date");
  if (!has_date) out.append("Date: ").append(current_http_date()).append("\r\n");

  for (const Header& h : headers) {
    // A line break would let a value start a header or body of its own; that is
    // a bug in the caller, so it fails loudly in debug and is dropped in release.
    if (h.name.empty() || has_line_break(h.name) || has_line_break(h.value)) {
      assert(!"header name or value with a line break");
      continue;
    }
    if (iequals(h.name, "Content-Length") || iequals(h.name, "Transfer-Encoding")) continue;
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (!status_has_no_body(status)) {
    out.append("Content-Length: ");
    append_number(out, body_size);
    out.append("\r\n");
  }
  out.append("\r\n");
}

std::string serialize(const Response& response, bool head_only) {
  const bool send_body = !head_only && !status_has_no_body(response.status);
  std::string out;
  out.reserve(128 + response.headers.size() * 48 + (send_body ? response.body.size() : 0));
  append_head(out, response.status, response.headers, response.body.size());
  if (send_body) out.append(response.body);
  return out;
}

Response make_error_response(int status, std::string_view message, bool keep_alive) {
  Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  response.headers.push_back({"X-Content-Type-Options", "nosniff"});
  if (!keep_alive) response.headers.push_back({"Connection", "close"});
  std::string& body = response.body;
  append_number(body, static_cast<std::size_t>(status));
  body.push_back(' ');
  body.append(reason_phrase(status)).append(": ").append(message).push_back('\n');
  return response;
}

std::string error_response(int status, std::string_view message, bool keep_alive) {
  return serialize(make_error_response(status, message, keep_alive));
}

std::string format_http_date(std::time_t time) {
  static constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&time, &tm);
  // Written by hand rather than with strftime, whose %a and %b follow the locale.
  auto two_digits = [](std::string& out, int n) {
    out.push_back(static_cast<char>('0' + n / 10));
    out.push_back(static_cast<char>('0' + n % 10));
  };
  std::string out;
  out.reserve(29);
  out.append(kDays[tm.tm_wday]).append(", ");
  two_digits(out, tm.tm_mday);
  out.push_back(' ');
  out.append(kMonths[tm.tm_mon]).push_back(' ');
  append_number(out, static_cast<std::size_t>(tm.tm_year + 1900));
  out.push_back(' ');
  two_digits(out, tm.tm_hour);
  out.push_back(':');
  two_digits(out, tm.tm_min);
  out.push_back(':');
  two_digits(out, tm.tm_sec);
  out.append(" GMT");
  return out;
}

}  // namespace parley::http
