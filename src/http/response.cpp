#include "http/response.h"

#include <cassert>
#include <charconv>

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
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
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
