// Response serialization: framing, HEAD, bodiless statuses, error bodies, dates.
#include "http/response.h"

#include <gtest/gtest.h>

#include <map>

namespace parley::http {
namespace {

// A serialized response taken apart again, to assert on fields and not on order.
struct Parsed {
  std::string status_line;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string get(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "<absent>" : it->second;
  }
};

Parsed parse_response(const std::string& raw) {
  Parsed p;
  const std::size_t end = raw.find("\r\n\r\n");
  EXPECT_NE(end, std::string::npos) << raw;
  if (end == std::string::npos) return p;
  p.body = raw.substr(end + 4);
  std::size_t line_start = 0;
  bool first = true;
  while (line_start < end) {
    std::size_t line_end = raw.find("\r\n", line_start);
    const std::string line = raw.substr(line_start, line_end - line_start);
    line_start = line_end + 2;
    if (first) {
      p.status_line = line;
      first = false;
      continue;
    }
    const std::size_t colon = line.find(": ");
    EXPECT_NE(colon, std::string::npos) << line;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    p.headers.emplace(name, line.substr(colon + 2));
  }
  return p;
}

TEST(HttpResponse, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(101), "Switching Protocols");
  EXPECT_EQ(reason_phrase(304), "Not Modified");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(599), "");
}

TEST(HttpResponse, SerializeWritesStatusHeadersLengthAndBody) {
  Response r;
  r.headers = {{"Content-Type", "text/plain"}};
  r.body = "hello";
  const std::string raw = serialize(r);
  const Parsed p = parse_response(raw);
  EXPECT_EQ(raw.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(p.get("content-type"), "text/plain");
  EXPECT_EQ(p.get("content-length"), "5");
  EXPECT_EQ(p.body, "hello");
  EXPECT_EQ(p.headers.count("date"), 1u);
}

TEST(HttpResponse, HeadOnlyKeepsLengthButDropsBody) {
  Response r;
  r.body = "hello";
  const Parsed p = parse_response(serialize(r, /*head_only=*/true));
  EXPECT_EQ(p.get("content-length"), "5");
  EXPECT_EQ(p.body, "");
}

TEST(HttpResponse, EmptyBodyStillHasContentLength) {
  const Parsed p = parse_response(serialize(Response{}));
  EXPECT_EQ(p.get("content-length"), "0");
}

TEST(HttpResponse, BodilessStatusesHaveNoLengthOrBody) {
  for (int status : {101, 204, 304}) {
    Response r;
    r.status = status;
    r.body = "ignored";
    const Parsed p = parse_response(serialize(r));
    EXPECT_EQ(p.headers.count("content-length"), 0u) << status;
    EXPECT_EQ(p.body, "") << status;
  }
}

TEST(HttpResponse, CallerFramingHeadersAreReplaced) {
  Response r;
  r.headers = {{"Content-Length", "999"}, {"Transfer-Encoding", "chunked"}};
  r.body = "abc";
  const Parsed p = parse_response(serialize(r));
  EXPECT_EQ(p.headers.count("content-length"), 1u);
  EXPECT_EQ(p.get("content-length"), "3");
  EXPECT_EQ(p.headers.count("transfer-encoding"), 0u);
}

TEST(HttpResponse, CallerDateIsKept) {
  Response r;
  r.headers = {{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}};
  const Parsed p = parse_response(serialize(r));
  EXPECT_EQ(p.headers.count("date"), 1u);
  EXPECT_EQ(p.get("date"), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpResponse, DateIsImfFixdate) {
  const std::string date = parse_response(serialize(Response{})).get("date");
  ASSERT_EQ(date.size(), 29u) << date;
  EXPECT_EQ(date.substr(3, 2), ", ");
  EXPECT_EQ(date.substr(25), " GMT");
}

TEST(HttpResponse, FormatHttpDate) {
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(1709251199), "Thu, 29 Feb 2024 23:59:59 GMT");
}

TEST(HttpResponse, ErrorResponseClosesByDefault) {
  const std::string raw = error_response(404, "no such room");
  const Parsed p = parse_response(raw);
  EXPECT_EQ(p.status_line, "HTTP/1.1 404 Not Found");
  EXPECT_EQ(p.body, "404 Not Found: no such room\n");
  EXPECT_EQ(p.get("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(p.get("x-content-type-options"), "nosniff");
  EXPECT_EQ(p.get("connection"), "close");
  EXPECT_EQ(p.get("content-length"), std::to_string(p.body.size()));
}

TEST(HttpResponse, ErrorResponseCanKeepAlive) {
  const Parsed p = parse_response(error_response(400, "bad", /*keep_alive=*/true));
  EXPECT_EQ(p.headers.count("connection"), 0u);
  EXPECT_EQ(p.body, "400 Bad Request: bad\n");
}

TEST(HttpResponse, MakeErrorResponseLetsCallersAddHeaders) {
  Response r = make_error_response(405, "nope");
  r.headers.push_back({"Allow", "GET, HEAD"});
  const Parsed p = parse_response(serialize(r));
  EXPECT_EQ(p.status_line, "HTTP/1.1 405 Method Not Allowed");
  EXPECT_EQ(p.get("allow"), "GET, HEAD");
}

}  // namespace
}  // namespace parley::http
