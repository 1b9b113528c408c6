// RequestParser: every request is fed whole, one byte at a time and in random
// splits, and must give the same outcome each way.
#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace parley::http {
namespace {

using Status = RequestParser::Status;

struct Outcome {
  Status status = Status::NeedMore;
  std::size_t consumed = 0;  // over all feeds
  int error_status = 0;
  std::string error_reason;
  Request request;
  std::uint64_t content_length = 0;
  bool chunked = false;
};

// Feeds `input` cut at `cuts` (sorted offsets), stopping at the first Done or Error.
Outcome feed_in_pieces(std::string_view input, const std::vector<std::size_t>& cuts,
                       RequestParser::Limits limits) {
  RequestParser parser(limits);
  Outcome out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : input.size();
    const std::string_view piece = input.substr(start, end - start);
    std::size_t consumed = 0;
    out.status = parser.feed(piece, consumed);
    EXPECT_LE(consumed, piece.size());
    out.consumed += consumed;
    if (out.status != Status::NeedMore) break;
    EXPECT_EQ(consumed, piece.size()) << "NeedMore must take the whole piece";
    start = end;
  }
  out.error_status = parser.error_status();
  out.error_reason = std::string(parser.error_reason());
  out.content_length = parser.content_length();
  out.chunked = parser.chunked();
  out.request = parser.take_request();
  return out;
}

void expect_same(const Outcome& a, const Outcome& b, const std::string& how) {
  EXPECT_EQ(a.status, b.status) << how;
  EXPECT_EQ(a.consumed, b.consumed) << how;
  EXPECT_EQ(a.error_status, b.error_status) << how;
  EXPECT_EQ(a.error_reason, b.error_reason) << how;
  if (a.status != Status::Done) return;
  EXPECT_EQ(a.request.method, b.request.method) << how;
  EXPECT_EQ(a.request.target, b.request.target) << how;
  EXPECT_EQ(a.request.version_minor, b.request.version_minor) << how;
  ASSERT_EQ(a.request.headers.size(), b.request.headers.size()) << how;
  for (std::size_t i = 0; i < a.request.headers.size(); ++i) {
    EXPECT_EQ(a.request.headers[i].name, b.request.headers[i].name) << how;
    EXPECT_EQ(a.request.headers[i].value, b.request.headers[i].value) << how;
  }
  EXPECT_EQ(a.content_length, b.content_length) << how;
  EXPECT_EQ(a.chunked, b.chunked) << how;
}

// Parses `input` whole, byte by byte and in random splits; checks all agree and
// returns the whole-input outcome.
Outcome parse(std::string_view input, RequestParser::Limits limits = {}) {
  const Outcome whole = feed_in_pieces(input, {}, limits);

  std::vector<std::size_t> every_byte;
  for (std::size_t i = 1; i < input.size(); ++i) every_byte.push_back(i);
  expect_same(whole, feed_in_pieces(input, every_byte, limits), "one byte at a time");

  std::mt19937 rng(12345);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < input.size(); ++i) {
      if (rng() % 7 == 0) cuts.push_back(i);
    }
    expect_same(whole, feed_in_pieces(input, cuts, limits),
                "random split " + std::to_string(round));
  }
  return whole;
}

void expect_error(std::string_view input, int status) {
  const Outcome r = parse(input);
  EXPECT_EQ(r.status, Status::Error) << input;
  EXPECT_EQ(r.error_status, status) << input;
  EXPECT_FALSE(r.error_reason.empty()) << input;
}

std::string get_with(std::string_view fields) {
  return "GET / HTTP/1.1\r\nHost: example.com\r\n" + std::string(fields) + "\r\n";
}

TEST(HttpRequestParser, ParsesSimpleGet) {
  const std::string input =
      "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
  const Outcome r = parse(input);
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.consumed, input.size());
  EXPECT_EQ(r.request.method, "GET");
  EXPECT_EQ(r.request.target, "/index.html?x=1");
  EXPECT_EQ(r.request.path(), "/index.html");
  EXPECT_EQ(r.request.version_major, 1);
  EXPECT_EQ(r.request.version_minor, 1);
  ASSERT_EQ(r.request.headers.size(), 2u);
  EXPECT_EQ(r.request.headers[1].name, "Accept");
  EXPECT_EQ(r.request.headers[1].value, "*/*");
  EXPECT_EQ(r.content_length, 0u);
  EXPECT_FALSE(r.chunked);
}

TEST(HttpRequestParser, KeepsNameCaseAndTrimsValueWhitespace) {
  const Outcome r = parse(get_with("X-Mixed-CASE: \t  a  b \t \r\nX-Empty:\r\nX-Blank:   \r\n"));
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.request.headers[1].name, "X-Mixed-CASE");
  EXPECT_EQ(r.request.headers[1].value, "a  b");
  EXPECT_EQ(r.request.headers[2].value, "");
  EXPECT_EQ(r.request.headers[3].value, "");
  EXPECT_EQ(r.request.header("x-mixed-case"), "a  b");
}

TEST(HttpRequestParser, AcceptsTabAndObsTextInValues) {
  const Outcome r = parse(get_with("X-Value: a\tb\xc3\xa9\r\n"));
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.request.headers[1].value, "a\tb\xc3\xa9");
}

TEST(HttpRequestParser, BrowserWebSocketUpgradeLeavesFramesToTheCaller) {
  const std::string head =
      "GET /ws/lobby HTTP/1.1\r\n"
      "Host: localhost:8080\r\n"
      "Connection: Upgrade\r\n"
      "Pragma: no-cache\r\n"
      "Cache-Control: no-cache\r\n"
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36\r\n"
      "Upgrade: websocket\r\n"
      "Origin: http://localhost:8080\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "Accept-Encoding: gzip, deflate, br\r\n"
      "Accept-Language: en-US,en;q=0.9\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
      "\r\n";
  const std::string frame("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  const Outcome r = parse(head + frame);
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_EQ(r.request.header("sec-websocket-key"), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_TRUE(list_has_token(*r.request.header_list("Connection"), "upgrade"));
}

TEST(HttpRequestParser, PipelinedRequestsParseOneAfterAnother) {
  const std::string first = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = "HEAD /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  const std::string input = first + second + "GET /c";
  RequestParser parser;
  std::string_view rest = input;
  std::size_t consumed = 0;
  ASSERT_EQ(parser.feed(rest, consumed), Status::Done);
  EXPECT_EQ(consumed, first.size());
  EXPECT_EQ(parser.take_request().target, "/a");
  rest.remove_prefix(consumed);

  parser.reset();
  ASSERT_EQ(parser.feed(rest, consumed), Status::Done);
  EXPECT_EQ(consumed, second.size());
  EXPECT_EQ(parser.request().method, "HEAD");
  EXPECT_FALSE(parser.request().keep_alive());
  rest.remove_prefix(consumed);

  parser.reset();
  EXPECT_EQ(parser.feed(rest, consumed), Status::NeedMore);
  EXPECT_EQ(consumed, rest.size());
}

TEST(HttpRequestParser, StaysDoneOrFailedUntilReset) {
  RequestParser parser;
  std::size_t consumed = 99;
  ASSERT_EQ(parser.feed("GET / HTTP/1.0\r\n\r\n", consumed), Status::Done);
  EXPECT_EQ(parser.feed("GET / HTTP/1.0\r\n\r\n", consumed), Status::Done);
  EXPECT_EQ(consumed, 0u);

  parser.reset();
  EXPECT_TRUE(parser.request().method.empty());
  ASSERT_EQ(parser.feed("BAD\x01", consumed), Status::Error);
  EXPECT_EQ(consumed, 4u);
  EXPECT_EQ(parser.feed("GET / HTTP/1.0\r\n\r\n", consumed), Status::Error);
  EXPECT_EQ(consumed, 0u);

  parser.reset();
  EXPECT_EQ(parser.error_status(), 0);
  EXPECT_EQ(parser.feed("GET / HTTP/1.0\r\n\r\n", consumed), Status::Done);
}

TEST(HttpRequestParser, EmptyFeedNeedsMore) {
  RequestParser parser;
  std::size_t consumed = 7;
  EXPECT_EQ(parser.feed("", consumed), Status::NeedMore);
  EXPECT_EQ(consumed, 0u);
}

TEST(HttpRequestParser, SkipsLeadingEmptyLines) {
  const Outcome r = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.request.method, "GET");
  EXPECT_EQ(r.consumed, 4u + 27u);
}

TEST(HttpRequestParser, RejectsBareLineFeeds) {
  expect_error("GET / HTTP/1.1\nHost: h\n\n", 400);
  expect_error("GET / HTTP/1.1\r\nHost: h\n\r\n", 400);
  expect_error("GET / HTTP/1.1\r\nHost: h\r\n\n", 400);
  expect_error("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(HttpRequestParser, RejectsBareCarriageReturns) {
  expect_error("GET / HTTP/1.1\rHost: h\r\n\r\n", 400);
  expect_error("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400);
  expect_error("GET / HTTP/1.1\r\nHost: h\r\n\rx", 400);
  expect_error("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(HttpRequestParser, RejectsMalformedRequestLines) {
  expect_error("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);  // two spaces
  expect_error("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);  // trailing space
  expect_error("GET /\r\nHost: h\r\n\r\n", 400);            // HTTP/0.9 style
  expect_error(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);  // leading space
  expect_error("GET / http/1.1\r\nHost: h\r\n\r\n", 400);   // case-sensitive name
  expect_error("GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400);
  expect_error("GET / HTTP/1\r\nHost: h\r\n\r\n", 400);
  expect_error("GET / HTTP/1.1.1.1.1\r\nHost: h\r\n\r\n", 400);
  expect_error("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(HttpRequestParser, RejectsInvalidMethodCharacters) {
  expect_error("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_error("GET\x7f / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_error("G\xc3\x89T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(HttpRequestParser, AcceptsAnyTokenAsMethod) {
  const Outcome r = parse("M-SEARCH / HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.request.method, "M-SEARCH");
}

TEST(HttpRequestParser, RejectsOtherHttpMajorVersionsWith505) {
  expect_error("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
  expect_error("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505);
}

TEST(HttpRequestParser, AcceptsHttp10WithoutHost) {
  const Outcome r = parse("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.request.version_minor, 0);
  EXPECT_FALSE(r.request.keep_alive());
}

TEST(HttpRequestParser, AcceptsLaterHttp1MinorVersions) {
  const Outcome r = parse("GET / HTTP/1.2\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.request.version_minor, 2);
}

TEST(HttpRequestParser, AcceptsOriginAsteriskAndAbsoluteForms) {
  Outcome r = parse("GET /a/b?c=d&e HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.request.path(), "/a/b");

  r = parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.request.target, "*");

  r = parse("GET http://example.com:8080/x/y?z HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.request.path(), "/x/y");

  r = parse("GET HTTPS://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.request.path(), "/");
}

TEST(HttpRequestParser, AcceptsUnencodedPunctuationBrowsersSend) {
  const Outcome r = parse("GET /a|b^c[d]{e}?q=\"x\"`'<> HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.request.path(), "/a|b^c[d]{e}");
}

TEST(HttpRequestParser, RejectsOtherTargets) {
  expect_error("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);  // * only for OPTIONS
  expect_error("CONNECT example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_error("GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_error("GET ftp://example.com/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_error("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400);  // no authority
  expect_error("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_error("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_error(std::string("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n", 29), 400);
}

TEST(HttpRequestParser, RejectsObsFold) {
  expect_error(get_with("X-Folded: a\r\n b\r\n"), 400);
  expect_error(get_with("X-Folded: a\r\n\tb\r\n"), 400);
}

TEST(HttpRequestParser, RejectsWhitespaceBeforeFirstField) {
  expect_error("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400);
}

TEST(HttpRequestParser, RejectsWhitespaceBetweenFieldNameAndColon) {
  expect_error(get_with("X-Name : v\r\n"), 400);
  expect_error(get_with("X-Name\t: v\r\n"), 400);
  expect_error("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
}

TEST(HttpRequestParser, RejectsInvalidFieldNames) {
  expect_error(get_with(": empty name\r\n"), 400);
  expect_error(get_with("X@Name: v\r\n"), 400);
  expect_error(get_with("X\"Name: v\r\n"), 400);
  expect_error(get_with("X(Name): v\r\n"), 400);
  expect_error(get_with("NoColon\r\n"), 400);
  expect_error(get_with("X-\xc3\xa9: v\r\n"), 400);
}

TEST(HttpRequestParser, RejectsControlCharactersInValues) {
  expect_error(get_with("X-Value: a\x01"
                        "b\r\n"),
               400);
  expect_error(get_with("X-Value: a\x7f"
                        "b\r\n"),
               400);
  expect_error(get_with("X-Value: a\x1b[31m\r\n"), 400);
  expect_error(get_with(std::string("X-Value: a\0b\r\n", 15)), 400);
}

TEST(HttpRequestParser, RequiresExactlyOneValidHostInHttp11) {
  expect_error("GET / HTTP/1.1\r\n\r\n", 400);
  expect_error("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
  expect_error("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400);
  expect_error("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
  expect_error("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
  expect_error("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400);

  EXPECT_EQ(parse("GET / HTTP/1.1\r\nhOsT: [::1]:8080\r\n\r\n").status, Status::Done);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n").status, Status::Done);
}

TEST(HttpRequestParser, ReadsContentLength) {
  const std::string head = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\n\r\n";
  Outcome r = parse(head + "body...");
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.content_length, 42u);
  EXPECT_EQ(r.consumed, head.size());

  // Identical repeats are one length (RFC 9112 §6.3 allows either reading).
  r = parse(get_with("Content-Length: 7, 7\r\ncontent-length: 7\r\n"));
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.content_length, 7u);

  r = parse(get_with("Content-Length: 1000000000000\r\n"));
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.content_length, 1000000000000u);
}

TEST(HttpRequestParser, RejectsConflictingOrInvalidContentLength) {
  expect_error(get_with("Content-Length: 5, 6\r\n"), 400);
  expect_error(get_with("Content-Length: 5\r\nContent-Length: 6\r\n"), 400);
  expect_error(get_with("Content-Length: -1\r\n"), 400);
  expect_error(get_with("Content-Length: +5\r\n"), 400);
  expect_error(get_with("Content-Length: 0x10\r\n"), 400);
  expect_error(get_with("Content-Length: 5 5\r\n"), 400);
  expect_error(get_with("Content-Length:\r\n"), 400);
  expect_error(get_with("Content-Length: 5,\r\n"), 400);
  expect_error(get_with("Content-Length: ,5\r\n"), 400);
  expect_error(get_with("Content-Length: 99999999999999999999999\r\n"), 400);
}

TEST(HttpRequestParser, AcceptsChunkedTransferEncoding) {
  const Outcome r = parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n");
  ASSERT_EQ(r.status, Status::Done);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.content_length, 0u);
}

TEST(HttpRequestParser, RejectsTransferEncodingThatCannotFrameABody) {
  expect_error(get_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400);
  expect_error(get_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400);
  expect_error(get_with("Transfer-Encoding: gzip\r\n"), 400);
  expect_error(get_with("Transfer-Encoding: chunked, chunked\r\n"), 400);
  expect_error(get_with("Transfer-Encoding: chunked, gzip\r\n"), 400);
  expect_error(get_with("Transfer-Encoding:\r\n"), 400);
  expect_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

TEST(HttpRequestParser, RejectsUnknownTransferCodingsWith501) {
  expect_error(get_with("Transfer-Encoding: gzip, chunked\r\n"), 501);
  expect_error(get_with("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 501);
}

TEST(HttpRequestParser, HeadOfExactlyTheLimitIsAccepted) {
  const std::string base = "GET / HTTP/1.1\r\nHost: h\r\nX: \r\n\r\n";
  const std::size_t limit = 100;
  const std::string input =
      "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(limit - base.size(), 'a') + "\r\n\r\n";
  ASSERT_EQ(input.size(), limit);
  const Outcome r = parse(input, {.max_head_bytes = limit, .max_headers = 64});
  EXPECT_EQ(r.status, Status::Done);
  EXPECT_EQ(r.consumed, limit);
}

TEST(HttpRequestParser, OneByteOverTheLimitIs431) {
  const std::size_t limit = 100;
  const std::string input =
      "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(limit - 31, 'a') + "\r\n\r\n";
  ASSERT_EQ(input.size(), limit + 1);
  const Outcome r = parse(input, {.max_head_bytes = limit, .max_headers = 64});
  EXPECT_EQ(r.status, Status::Error);
  EXPECT_EQ(r.error_status, 431);
  EXPECT_EQ(r.consumed, limit + 1);
}

TEST(HttpRequestParser, HugeHeadIs431WithDefaultLimits) {
  expect_error(get_with("Cookie: " + std::string(10000, 'c') + "\r\n"), 431);
  expect_error("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n", 431);
}

TEST(HttpRequestParser, EndlessEmptyLinesHitTheLimit) {
  std::string input;
  for (int i = 0; i < 5000; ++i) input += "\r\n";
  expect_error(input, 431);
}

TEST(HttpRequestParser, TooManyHeadersIs431) {
  std::string fields;
  for (int i = 0; i < 63; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(parse(get_with(fields)).status, Status::Done);  // 63 + Host = 64
  expect_error(get_with(fields + "X-Last: v\r\n"), 431);

  const Outcome r = parse(get_with("A: 1\r\n"), {.max_head_bytes = 8192, .max_headers = 1});
  EXPECT_EQ(r.error_status, 431);
}

TEST(HttpRequestParser, ErrorConsumedStopsAtTheOffendingByte) {
  RequestParser parser;
  std::size_t consumed = 0;
  ASSERT_EQ(parser.feed("GET / HTTP/1.1\r\nBad Name: v\r\n\r\n", consumed), Status::Error);
  EXPECT_EQ(consumed, 20u);  // up to and including the space after "Bad"
}

}  // namespace
}  // namespace parley::http
