// Server side of the opening handshake: every acceptance rule and the exact
// responses, plus a round trip through the client-side helpers.
#include "ws/handshake.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/request.h"
#include "ws/client_handshake.h"

namespace parley::ws {
namespace {

constexpr const char* kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";

http::Request valid_request() {
  http::Request r;
  r.method = "GET";
  r.target = "/ws/lobby";
  r.headers = {{"Host", "server.example.com"},   {"Upgrade", "websocket"},
               {"Connection", "Upgrade"},        {"Sec-WebSocket-Key", kRfcKey},
               {"Origin", "http://example.com"}, {"Sec-WebSocket-Version", "13"}};
  return r;
}

void remove_header(http::Request& r, std::string_view name) {
  std::erase_if(r.headers, [&](const http::Header& h) { return http::iequals(h.name, name); });
}

void set_header(http::Request& r, std::string_view name, std::string value) {
  remove_header(r, name);
  r.headers.push_back({std::string(name), std::move(value)});
}

bool has_line(const std::string& response, std::string_view line) {
  return response.find(std::string("\r\n") + std::string(line) + "\r\n") != std::string::npos;
}

// An error response is a complete HTTP/1.1 message with a text body and Connection: close.
void expect_error_response(const HandshakeResult& r, int status) {
  EXPECT_EQ(r.status, status);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(r.response.rfind("HTTP/1.1 " + std::to_string(status) + " ", 0), 0u) << r.response;
  EXPECT_NE(r.response.find("close"), std::string::npos);
  EXPECT_TRUE(has_line(r.response, "Content-Type: text/plain; charset=utf-8"));
  const std::size_t head_end = r.response.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string body = r.response.substr(head_end + 4);
  EXPECT_TRUE(has_line(r.response, "Content-Length: " + std::to_string(body.size())));
  EXPECT_EQ(body, r.error + "\n");
}

TEST(Handshake, AcceptKeyFromRfc) {
  EXPECT_EQ(compute_accept_key(kRfcKey), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, ValidRequestIsAcceptedWithExactResponse) {
  const HandshakeResult r = accept_handshake(valid_request(), {});
  EXPECT_EQ(r.status, 101);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.response,
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
  EXPECT_EQ(r.subprotocol, "");
  EXPECT_EQ(r.origin, "http://example.com");
  EXPECT_TRUE(r.error.empty());
}

TEST(Handshake, TokenListsAndNamesAreCaseInsensitive) {
  http::Request r = valid_request();
  r.headers = {{"host", "h"},
               {"UPGRADE", "WebSocket"},
               {"connection", "keep-alive, Upgrade"},
               {"sec-websocket-key", kRfcKey},
               {"SEC-WEBSOCKET-VERSION", "13"}};
  const HandshakeResult result = accept_handshake(r, {});
  EXPECT_EQ(result.status, 101) << result.error;
  EXPECT_EQ(result.origin, std::nullopt);

  // Connection tokens spread over several headers.
  set_header(r, "Connection", "keep-alive");
  r.headers.push_back({"Connection", "upgrade"});
  EXPECT_EQ(accept_handshake(r, {}).status, 101);
}

TEST(Handshake, IsWebsocketUpgrade) {
  EXPECT_TRUE(is_websocket_upgrade(valid_request()));
  http::Request r = valid_request();
  set_header(r, "Upgrade", "foo, WEBSOCKET");
  EXPECT_TRUE(is_websocket_upgrade(r));
  set_header(r, "Upgrade", "h2c");
  EXPECT_FALSE(is_websocket_upgrade(r));
  remove_header(r, "Upgrade");
  EXPECT_FALSE(is_websocket_upgrade(r));
}

TEST(Handshake, MethodMustBeGet) {
  http::Request r = valid_request();
  r.method = "POST";
  const HandshakeResult result = accept_handshake(r, {});
  expect_error_response(result, 405);
  EXPECT_TRUE(has_line(result.response, "Allow: GET"));
}

TEST(Handshake, HttpVersion) {
  http::Request r = valid_request();
  r.version_minor = 0;
  expect_error_response(accept_handshake(r, {}), 400);
  r.version_major = 2;
  expect_error_response(accept_handshake(r, {}), 505);
  r.version_major = 1;
  r.version_minor = 2;  // a later 1.x is fine
  EXPECT_EQ(accept_handshake(r, {}).status, 101);
}

TEST(Handshake, HostIsRequired) {
  http::Request r = valid_request();
  remove_header(r, "Host");
  expect_error_response(accept_handshake(r, {}), 400);
}

TEST(Handshake, UpgradeMustListWebsocket) {
  for (bool present : {false, true}) {
    http::Request r = valid_request();
    if (present) {
      set_header(r, "Upgrade", "h2c");
    } else {
      remove_header(r, "Upgrade");
    }
    const HandshakeResult result = accept_handshake(r, {});
    expect_error_response(result, 426);
    EXPECT_TRUE(has_line(result.response, "Upgrade: websocket"));
    EXPECT_TRUE(has_line(result.response, "Connection: Upgrade, close"));
  }
}

TEST(Handshake, ConnectionMustListUpgrade) {
  http::Request r = valid_request();
  set_header(r, "Connection", "keep-alive");
  expect_error_response(accept_handshake(r, {}), 400);
  remove_header(r, "Connection");
  expect_error_response(accept_handshake(r, {}), 400);
  set_header(r, "Connection", "upgraded");  // a token, not a substring
  expect_error_response(accept_handshake(r, {}), 400);
}

TEST(Handshake, VersionMustBe13) {
  for (const char* version : {"", "8", "12", "14", "13, 8", "thirteen"}) {
    http::Request r = valid_request();
    if (*version) {
      set_header(r, "Sec-WebSocket-Version", version);
    } else {
      remove_header(r, "Sec-WebSocket-Version");
    }
    const HandshakeResult result = accept_handshake(r, {});
    expect_error_response(result, 426);
    EXPECT_TRUE(has_line(result.response, "Sec-WebSocket-Version: 13")) << version;
    EXPECT_TRUE(has_line(result.response, "Upgrade: websocket"));
  }
}

TEST(Handshake, KeyMustBeBase64Of16Bytes) {
  for (const char* key : {"", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===",
                          "AAAAAAAAAAAAAAAAAAAAAAA=",  // 17 bytes
                          "AAAAAAAAAAAAAAAAAAAAAAAA",  // 18 bytes
                          "AAAAAAAAAAAAAAAAAAAAAA",    // unpadded
                          "dGhlIHNhbXBsZSBub25j ZQ==", "dGhlIHNhbXBsZSBub25jZ!==",
                          "dGhlIHNhbXBsZSBub25jZQ=A", "short"}) {
    http::Request r = valid_request();
    set_header(r, "Sec-WebSocket-Key", key);
    expect_error_response(accept_handshake(r, {}), 400);
  }
  http::Request missing = valid_request();
  remove_header(missing, "Sec-WebSocket-Key");
  expect_error_response(accept_handshake(missing, {}), 400);

  http::Request twice = valid_request();
  twice.headers.push_back({"Sec-WebSocket-Key", kRfcKey});
  expect_error_response(accept_handshake(twice, {}), 400);

  http::Request other = valid_request();
  set_header(other, "Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==");
  EXPECT_EQ(accept_handshake(other, {}).status, 101);
}

TEST(Handshake, SubprotocolIsServersFirstPreferenceAmongOffered) {
  const HandshakeOptions options{{"chat.v2", "chat.v1"}};
  http::Request r = valid_request();
  r.headers.push_back({"Sec-WebSocket-Protocol", "chat.v1, chat.v2"});
  HandshakeResult result = accept_handshake(r, options);
  EXPECT_EQ(result.subprotocol, "chat.v2");
  EXPECT_TRUE(has_line(result.response, "Sec-WebSocket-Protocol: chat.v2"));

  // Offers spread over two headers.
  set_header(r, "Sec-WebSocket-Protocol", "other");
  r.headers.push_back({"Sec-WebSocket-Protocol", " chat.v1 "});
  result = accept_handshake(r, options);
  EXPECT_EQ(result.subprotocol, "chat.v1");
  EXPECT_TRUE(has_line(result.response, "Sec-WebSocket-Protocol: chat.v1"));
}

TEST(Handshake, NoSubprotocolHeaderWithoutAMatch) {
  http::Request r = valid_request();
  r.headers.push_back({"Sec-WebSocket-Protocol", "mqtt, CHAT.V1"});  // exact match only
  HandshakeResult result = accept_handshake(r, HandshakeOptions{{"chat.v1"}});
  EXPECT_EQ(result.status, 101);
  EXPECT_EQ(result.subprotocol, "");
  EXPECT_EQ(result.response.find("Sec-WebSocket-Protocol"), std::string::npos);

  result = accept_handshake(valid_request(), HandshakeOptions{{"chat.v1"}});
  EXPECT_EQ(result.subprotocol, "");
  EXPECT_EQ(result.response.find("Sec-WebSocket-Protocol"), std::string::npos);
}

TEST(Handshake, ExtensionsAreNotNegotiatedByDefault) {
  http::Request r = valid_request();
  r.headers.push_back({"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"});
  const HandshakeResult result = accept_handshake(r, {});
  EXPECT_EQ(result.status, 101);
  EXPECT_EQ(result.response.find("Sec-WebSocket-Extensions"), std::string::npos);
}

HandshakeOptions deflate_on() {
  HandshakeOptions o;
  o.deflate = shared_deflate_policy();
  return o;
}

TEST(Handshake, PermessageDeflateIsAnsweredWhenEnabled) {
  http::Request r = valid_request();
  r.headers.push_back({"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"});
  const HandshakeResult result = accept_handshake(r, deflate_on());
  EXPECT_EQ(result.status, 101);
  EXPECT_TRUE(has_line(result.response,
                       "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                       "client_no_context_takeover; client_max_window_bits=12"))
      << result.response;
  ASSERT_TRUE(result.deflate);
  EXPECT_TRUE(result.deflate->server_no_context_takeover);
  EXPECT_TRUE(result.deflate->client_no_context_takeover);
  EXPECT_TRUE(result.response.ends_with("\r\n\r\n"));
}

TEST(Handshake, PermessageDeflateOffersOverSeveralHeaders) {
  http::Request r = valid_request();
  r.headers.push_back({"Sec-WebSocket-Extensions", "x-unknown"});
  r.headers.push_back(
      {"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=10"});
  const HandshakeResult result = accept_handshake(r, deflate_on());
  ASSERT_TRUE(result.deflate);
  EXPECT_EQ(result.deflate->server_max_window_bits, 10);
  EXPECT_NE(result.response.find("server_max_window_bits=10\r\n"), std::string::npos);
}

TEST(Handshake, DeclinedDeflateOfferStillUpgrades) {
  for (const char* offer : {"permessage-deflate; server_max_window_bits=7",
                            "permessage-deflate; bogus", "permessage-deflate; a=\"", "x-other"}) {
    http::Request r = valid_request();
    r.headers.push_back({"Sec-WebSocket-Extensions", offer});
    const HandshakeResult result = accept_handshake(r, deflate_on());
    EXPECT_EQ(result.status, 101) << offer;
    EXPECT_FALSE(result.deflate) << offer;
    EXPECT_EQ(result.response.find("Sec-WebSocket-Extensions"), std::string::npos) << offer;
  }
}

TEST(Handshake, NoOfferNoDeflate) {
  const HandshakeResult result = accept_handshake(valid_request(), deflate_on());
  EXPECT_EQ(result.status, 101);
  EXPECT_FALSE(result.deflate);
  EXPECT_EQ(result.response.find("Sec-WebSocket-Extensions"), std::string::npos);
}

TEST(Handshake, RefusedHandshakeAgreesToNothing) {
  http::Request r = valid_request();
  r.headers.push_back({"Sec-WebSocket-Extensions", "permessage-deflate"});
  set_header(r, "Sec-WebSocket-Version", "8");
  const HandshakeResult result = accept_handshake(r, deflate_on());
  EXPECT_EQ(result.status, 426);
  EXPECT_FALSE(result.deflate);
}

// --- Client side --------------------------------------------------------------

TEST(ClientHandshake, RequestFormat) {
  const std::vector<std::string> protocols = {"chat.v2", "chat.v1"};
  EXPECT_EQ(make_client_handshake("localhost:8080", "/ws/lobby", kRfcKey, protocols),
            "GET /ws/lobby HTTP/1.1\r\n"
            "Host: localhost:8080\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: chat.v2, chat.v1\r\n"
            "\r\n");
  EXPECT_EQ(make_client_handshake("h", "/", kRfcKey, {}).find("Sec-WebSocket-Protocol"),
            std::string::npos);
}

TEST(ClientHandshake, RandomKeysAreValidAndDistinct) {
  const std::string a = make_random_key();
  const std::string b = make_random_key();
  EXPECT_EQ(a.size(), 24u);
  EXPECT_NE(a, b);
  http::Request r = valid_request();
  set_header(r, "Sec-WebSocket-Key", a);
  EXPECT_EQ(accept_handshake(r, {}).status, 101);
}

TEST(ClientHandshake, RoundTripWithServer) {
  const std::string key = make_random_key();
  const std::vector<std::string> offered = {"chat.v1", "chat.v2"};
  http::Request r = valid_request();
  set_header(r, "Sec-WebSocket-Key", key);
  r.headers.push_back({"Sec-WebSocket-Protocol", "chat.v1, chat.v2"});
  const HandshakeResult server = accept_handshake(r, HandshakeOptions{{"chat.v2"}});
  ASSERT_EQ(server.status, 101);
  const ServerHandshakeCheck check = check_server_handshake(server.response, key, offered);
  EXPECT_TRUE(check.ok) << check.error;
  EXPECT_EQ(check.subprotocol, "chat.v2");
}

// The load generator offers permessage-deflate as a browser does; the
// server's own negotiation answers, and the client reads what was agreed.
TEST(ClientHandshake, DeflateOfferedAndAcceptedRoundTrip) {
  const std::string key = make_random_key();
  const std::string request = make_client_handshake("h", "/", key, {}, /*offer_deflate=*/true);
  EXPECT_NE(
      request.find("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"),
      std::string::npos);
  const auto agreed =
      negotiate_deflate("permessage-deflate; client_max_window_bits", shared_deflate_policy());
  ASSERT_TRUE(agreed);
  const std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      compute_accept_key(key) + "\r\nSec-WebSocket-Extensions: " + agreed->response + "\r\n\r\n";
  const ServerHandshakeCheck check = check_server_handshake(response, key, {}, true);
  ASSERT_TRUE(check.ok) << check.error;
  ASSERT_TRUE(check.deflate);
  EXPECT_EQ(*check.deflate, agreed->params);
  // Not offered: the same answer is refused.
  EXPECT_FALSE(check_server_handshake(response, key, {}, false).ok);
}

TEST(ClientHandshake, ReadsOnlyTheDeflateAnswersRfc7692Allows) {
  auto ok = read_deflate_answer(
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
      "server_max_window_bits=10; client_max_window_bits=12");
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, (DeflateParams{true, true, 10, 12}));
  EXPECT_EQ(*read_deflate_answer("permessage-deflate"), DeflateParams{});
  for (const char* bad :
       {"x-webkit-deflate-frame", "permessage-deflate, permessage-deflate",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; unknown", "permessage-deflate; ="}) {
    EXPECT_FALSE(read_deflate_answer(bad)) << bad;
  }
}

TEST(ClientHandshake, RejectsBadServerResponses) {
  const std::vector<std::string> offered = {"chat.v1"};
  const std::string good =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
  EXPECT_TRUE(check_server_handshake(good + "\r\n", kRfcKey, offered).ok);
  EXPECT_TRUE(check_server_handshake(good, kRfcKey, offered).ok);  // without the empty line
  const std::string bad[] = {
      "HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: AAAPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      good + "Sec-WebSocket-Protocol: chat.v9\r\n\r\n",
      good + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
      "garbage",
      "HTTP/1.1 1x1 Switching\r\n\r\n",
  };
  for (const std::string& response : bad) {
    const ServerHandshakeCheck check = check_server_handshake(response, kRfcKey, offered);
    EXPECT_FALSE(check.ok) << response;
    EXPECT_FALSE(check.error.empty());
  }
  const ServerHandshakeCheck chosen =
      check_server_handshake(good + "Sec-WebSocket-Protocol: chat.v1\r\n\r\n", kRfcKey, offered);
  EXPECT_TRUE(chosen.ok);
  EXPECT_EQ(chosen.subprotocol, "chat.v1");
}

}  // namespace
}  // namespace parley::ws
